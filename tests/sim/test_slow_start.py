"""The notice that explains a slow start (Numba compiling its kernels on first use)."""

import time

import pytest

from fedplumbing.sim.run import SLOW_START_MESSAGE, simulate, slow_start_notice


def test_a_slow_start_is_explained_on_stderr(capsys):
    with slow_start_notice(True, after_s=0.05):
        time.sleep(0.3)
    err = capsys.readouterr().err
    assert SLOW_START_MESSAGE in err
    assert "compiling" in err


def test_a_quick_start_prints_nothing(capsys):
    with slow_start_notice(True, after_s=1.0):
        pass
    time.sleep(1.2)  # past the deadline: the cancelled timer must stay silent
    assert capsys.readouterr().err == ""


def test_no_notice_when_progress_is_off(capsys):
    with slow_start_notice(False, after_s=0.05):
        time.sleep(0.3)
    assert capsys.readouterr().err == ""


def test_progress_runs_every_day_and_matches_a_quiet_run(small_default):
    quiet = simulate(small_default, 4, days=12)
    shown = simulate(small_default, 4, days=12, progress=True)
    assert len(shown.daily) == 12
    assert shown.daily.equals(quiet.daily)


def test_zero_days_is_refused(small_default):
    with pytest.raises(ValueError, match="days: 0 is out of range"):
        simulate(small_default, 4, days=0)


def test_run_explains_a_slow_start_without_a_terminal(monkeypatch, tmp_path, capsys):
    """Piped to a file (no progress bar), a cold start was a silent minute."""
    import fedplumbing.sim.run as run_module
    from fedplumbing.sim import cli

    seen = []
    real = run_module.slow_start_notice

    def spy(enabled, after_s=3.0):
        seen.append(enabled)
        return real(enabled, after_s)

    monkeypatch.setattr(run_module, "slow_start_notice", spy)
    out = tmp_path / "out"
    assert cli.main(["run", "--days", "2", "--out", str(out)]) == 0  # stderr is no terminal
    assert cli.main(["run", "--days", "2", "--out", str(out), "-q"]) == 0
    assert seen == [True, False]
