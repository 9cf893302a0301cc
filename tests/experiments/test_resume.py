"""Crash safety: SIGKILL a sweep (parent and workers) half-way, rerun, compare."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from fedplumbing.experiments.results import finished_run_ids, load_results

from .helpers import TESTS_DIR, make_spec, stable_results

N_RUNS = 24
SPEC = """
    days = 10
    seeds = 3
    base_seed = 2024
    metrics = ["p99_repo_spread_bp", "min_reserves"]
    keep_daily = true
    [parameters]
    "banks.lclor_scale" = { values = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25] }
    "test.sleep_s" = { values = [0.15] }
"""
DRIVER = textwrap.dedent("""
    import sys
    from fedplumbing.experiments.spec import load_spec
    from fedplumbing.experiments.sweep import run_sweep
    from experiments.fake_model import fake_run
    summary = run_sweep(load_spec(sys.argv[1], check_config=False), sys.argv[2], workers=2,
                        progress=False, run_fn=fake_run)
    print(summary.format())
    sys.exit(summary.exit_code)
""")


def start(spec_path, out):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(spec_path), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


@pytest.mark.timeout(120)
def test_sigkill_half_way_then_resume(tmp_path, write_spec):
    spec_path = write_spec(SPEC)
    out = tmp_path / "out"
    proc = start(spec_path, out)
    deadline = time.monotonic() + 60
    try:
        while len(finished_run_ids(out)) < 6:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.01)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and its pool workers at once
        proc.communicate()
    survivors = finished_run_ids(out)
    assert 6 <= len(survivors) < N_RUNS, "the sweep finished before it could be killed"
    partial = load_results(out)  # a reader sees only complete files
    assert sorted(partial["run_id"]) == sorted(survivors)
    assert partial["status"].eq("ok").all()

    rerun = start(spec_path, out)
    stdout, stderr = rerun.communicate(timeout=90)
    assert rerun.returncode == 0, stderr
    assert f"{len(survivors)} skipped" in stdout
    assert f"{N_RUNS - len(survivors)} done" in stdout

    frame = load_results(out)
    assert frame["run_id"].tolist() == list(range(N_RUNS))  # exactly once each
    for kind in ("runs", "daily"):
        names = sorted(os.listdir(out / kind))
        assert names == [f"run-{i:06d}.parquet" for i in range(N_RUNS)], names
    assert sorted(os.listdir(out)) == ["daily", "manifest.json", "runs"]

    from fedplumbing.experiments.sweep import run_sweep

    from .fake_model import fake_run

    run_sweep(make_spec(SPEC), tmp_path / "ref", workers=1, progress=False, run_fn=fake_run)
    pd.testing.assert_frame_equal(stable_results(out), stable_results(tmp_path / "ref"))
    from fedplumbing.experiments.results import load_daily

    pd.testing.assert_frame_equal(load_daily(out), load_daily(tmp_path / "ref"))
