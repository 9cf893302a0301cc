"""The command line: validation before any output, one-line errors, core subcommands.

The ``run`` tests use a fake engine (injected as ``fedplumbing.sim.run``) so the CLI plumbing is
tested on its own; the end-to-end tests against the real engine skip until it exists.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fedplumbing.sim import cli
from fedplumbing.sim.config import ScenarioConfig, config_hash
from fedplumbing.sim.outputs import DAILY_COLUMNS, synthetic_daily

GOOD_TOML = """
extends = "default"
name = "my-test"
description = "a short test scenario"
start = 2019-01-02
end = 2019-03-29

[fed]
treasury_cap = 15.0
"""


@dataclass
class FakeResult:
    daily: pd.DataFrame
    summary: dict[str, Any]
    config: ScenarioConfig
    seed: Any
    fitted: dict[str, float] = field(default_factory=dict)


@pytest.fixture
def fake_engine(monkeypatch) -> list[dict]:
    """Replace fedplumbing.sim.run by a fake whose output depends on the seed; record calls."""
    calls: list[dict] = []

    def simulate(config, seed=0, *, days=None, progress=False, notices=False):
        calls.append({"config": config, "seed": seed, "days": days, "progress": progress})
        daily = synthetic_daily(days=days or 40, seed=seed)
        return FakeResult(
            daily, {"max_spread_bp": float(daily["repo_spread_bp"].max())}, config, seed
        )

    module = types.ModuleType("fedplumbing.sim.run")
    module.simulate = simulate
    module.RunResult = FakeResult
    module.SUMMARY_METRICS = ("max_spread_bp",)
    monkeypatch.setitem(sys.modules, "fedplumbing.sim.run", module)
    return calls


@pytest.fixture
def engine_must_not_run(fake_engine):
    yield
    assert fake_engine == [], "simulate was called although the input was invalid"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("fedplumbing: error: ")
    assert "Traceback" not in captured.err
    assert captured.out == ""
    return lines[0]


# --------------------------------------------------------------------------- run: input errors
RUN_ERRORS = [
    (["--set", "fed.no_such_cap=5"], "fed.no_such_cap"),
    (["--set", "no_such_section.x=5"], "sections in [top level]: population, initial"),
    (["--set", "fed.treasury_cap=fast"], "fed.treasury_cap"),
    (["--set", "fed.srf_enabled=7"], "fed.srf_enabled"),
    (["--set", "fed.treasury_cap=nan"], "fed.treasury_cap"),
    (["--set", "banks.lclor_scale=inf"], "banks.lclor_scale"),
    (["--set", "rates.on_rrp=1.75"], "rates.on_rrp"),
    (["--set", "fed.treasury_cap=-10"], "fed.treasury_cap"),
    (["--set", "end=2017-06-30"], "end"),
    (["--set", "start=2019-12-25", "--set", "end=2019-12-25"], "end: no business day"),
    (["--set", "fed.treasury_cap"], "--set"),
    (["--days", "0"], "--days"),
    (["--days", "ten"], "--days"),
    (["--days", "-3"], "--days"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--seed", "3/x"], "--seed: expected an integer >= 0 or BASE/R (two integers >= 0)"),
    (["--seed", "3/-1"], "got '3/-1'"),
    (["--seed", "9" * 5000 + "/1"], "got '" + "9" * 57 + "...'"),  # not 5,000 digits back
    (["no-such-scenario"], "no-such-scenario"),
    # the calendar's holiday rules used to fail with a ValueError traceback (year 10000)
    (["--set", "end=9999-12-31"], "end: 9999-12-31 is out of range (allowed: 1900-01-01"),
    (["--set", "start=0001-01-01", "--set", "end=0001-02-01"], "start: 0001-01-01 is out"),
    # messages that misled: a rounded value that looked allowed, a number error on a
    # string or date setting, an integer called a non-integer, Python's date repr, a bad
    # date inside a list reported as "not a list"
    (["--set", "initial.fhlb_liquidity=2000.001"], "2000.001 is out of range (allowed: 0 to"),
    (["--set", "name=nan"], "name: expected a string, got nan"),
    (["--set", "start=nan"], "start: expected a date (YYYY-MM-DD), got nan"),
    (["--set", "population.banks=abc"], "expected an integer, got 'abc' (allowed: 2 to 20000)"),
    (["--set", "population.banks=2018-01-01"], "got 2018-01-01 (allowed: 2 to 20000)"),
    (["--set", "population.banks=99999999999999999999"], "99999999999999999999 is out of range"),
    (["--set", "rates.changes=[{date=2018-13-01, iorb=2}]"], "not a valid TOML list ("),
    (["--set", "population.banks=1e30"], "population.banks: 1e+30 is out of range"),
    (["--set", "fed.mbs_cap=true"], "fed.mbs_cap: expected a number, got true"),
    # 0.2 was allowed: a 4-s.d. payment shock then took more than a bank's deposits
    (["--set", "banks.shock_share=0.2"], "banks.shock_share: 0.2 is out of range (allowed: 0"),
]


@pytest.mark.parametrize(
    ("extra", "field"), RUN_ERRORS, ids=[e[1] + "|" + " ".join(e[0]) for e in RUN_ERRORS]
)
def test_run_rejects_bad_input(extra, field, tmp_path, capsys, engine_must_not_run):
    out = tmp_path / "out"
    assert cli.main(["run", *extra, "--out", str(out)]) == 2
    assert field in one_error_line(capsys)
    assert not out.exists()


def test_run_missing_file(tmp_path, capsys, engine_must_not_run):
    out = tmp_path / "out"
    missing = tmp_path / "nowhere" / "scenario.toml"
    assert cli.main(["run", str(missing), "--out", str(out)]) == 2
    assert str(missing) in one_error_line(capsys)
    assert not out.exists()


def test_run_bad_toml(tmp_path, capsys, engine_must_not_run):
    out = tmp_path / "out"
    bad = write(tmp_path / "bad.toml", "name = 'x'\n[fed\ntreasury_cap = 3\n")
    assert cli.main(["run", str(bad), "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert "bad.toml" in line and "TOML" in line
    assert not out.exists()


def test_run_a_file_that_is_not_text(tmp_path, capsys, engine_must_not_run):
    """Bytes that are not UTF-8 were a UnicodeDecodeError traceback."""
    out = tmp_path / "out"
    bad = tmp_path / "binary.toml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert cli.main(["run", str(bad), "--out", str(out)]) == 2
    assert "binary.toml: not a scenario file (not UTF-8 text)" in one_error_line(capsys)
    assert not out.exists()
    assert cli.main(["check", str(bad)]) == 2
    assert "not UTF-8" in one_error_line(capsys)


@pytest.mark.parametrize("command", ["run", "replay", "sweep", "compare", "stress-floor"])
def test_an_empty_out_is_refused(command, tmp_path, capsys, monkeypatch, engine_must_not_run):
    """`--out ''` wrote into the current folder without a word."""
    monkeypatch.chdir(tmp_path)
    args = {"sweep": ["spec.toml"], "compare": ["default", "qt2017"]}.get(command, [])
    assert cli.main([command, *args, "--out", ""]) == 2
    captured = capsys.readouterr()
    assert "argument --out: an empty path" in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_run_invalid_setting_in_file(tmp_path, capsys, engine_must_not_run):
    out = tmp_path / "out"
    bad = write(tmp_path / "neg.toml", "[fed]\nmbs_cap = -1.0\n")
    assert cli.main(["run", str(bad), "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert "neg.toml" in line and "fed.mbs_cap" in line
    assert not out.exists()


def test_run_out_is_a_file(tmp_path, capsys, engine_must_not_run):
    out = write(tmp_path / "out", "not a folder")
    assert cli.main(["run", "--out", str(out)]) == 2
    assert "--out" in one_error_line(capsys)
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["replay", "--no-counterfactuals"],
        ["compare", "default", "qt2017"],
        ["stress-floor"],
    ],
)
def test_out_under_a_file_is_refused_before_any_work(command, tmp_path, capsys):
    blocker = write(tmp_path / "a_file", "not a folder")
    assert cli.main([*command, "--out", str(blocker / "sub")]) == 2
    assert "--out: cannot create" in one_error_line(capsys)
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_folder_nothing_can_be_created_in_is_refused_before_any_work(
    tmp_path, capsys, engine_must_not_run
):
    """/proc passes os.access even for root; the check now tries, and leaves nothing."""
    assert cli.main(["run", "--out", "/proc/fedplumbing-out"]) == 2
    assert "--out: cannot create '/proc/fedplumbing-out'" in one_error_line(capsys)
    from fedplumbing.sim.commands import check_out_dir

    check_out_dir(tmp_path / "new" / "deeper")  # a folder that can be made: no error
    assert list(tmp_path.iterdir()) == []  # and no probe left behind


@pytest.mark.parametrize(
    "argv",
    [["run", "--no-such-option"], ["no-such-command"], ["run", "a", "b"], ["check"]],
)
def test_usage_errors_exit_2(argv, capsys, engine_must_not_run):
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err  # one line, as every other input error
    assert lines[0].startswith("fedplumbing") and ": error: " in lines[0]
    assert "--help')" in lines[0] and captured.out == ""


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    for name in ("run", "scenarios", "check", "params"):
        assert name in err


def test_help_and_version_exit_0(capsys):
    assert cli.main(["--help"]) == 0
    assert cli.main(["run", "--help"]) == 0
    assert "--set KEY=VALUE" in capsys.readouterr().out
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("fedplumbing ")


# --------------------------------------------------------------------------- run: fake engine
def test_run_writes_outputs(tmp_path, capsys, fake_engine):
    out = tmp_path / "deep" / "out"
    argv = ["run", "--days", "30", "--seed", "3", "--set", "fed.treasury_cap=60", "--out", str(out)]
    assert cli.main(argv) == 0
    (call,) = fake_engine
    assert call["days"] == 30 and call["seed"] == 3 and call["progress"] is False
    assert call["config"].fed.treasury_cap == 60.0
    assert sorted(p.name for p in out.iterdir()) == ["daily.csv", "overview.png", "summary.json"]
    daily = pd.read_csv(out / "daily.csv")
    assert tuple(daily.columns) == DAILY_COLUMNS and len(daily) == 30
    record = json.loads((out / "summary.json").read_text())
    assert record["scenario"] == "default" and record["seed"] == 3
    assert record["config_hash"] == config_hash(call["config"])
    assert record["config"]["fed"]["treasury_cap"] == 60.0
    printed = capsys.readouterr().out
    assert "min reserves" in printed and "max SOFR - IORB" in printed
    assert str(out / "daily.csv") in printed


def test_run_quiet_prints_nothing(tmp_path, capsys, fake_engine):
    assert cli.main(["run", "--quiet", "--days", "5", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
    assert (tmp_path / "daily.csv").exists()


def test_run_scenario_file(tmp_path, fake_engine):
    scenario = write(tmp_path / "s.toml", GOOD_TOML)
    assert cli.main(["run", str(scenario), "-q", "--out", str(tmp_path / "o")]) == 0
    assert fake_engine[0]["config"].name == "my-test"
    assert fake_engine[0]["days"] is None


def test_run_same_seed_same_bytes(tmp_path, fake_engine):
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        argv = ["run", "-q", "--days", "20", "--seed", seed, "--out", str(tmp_path / name)]
        assert cli.main(argv) == 0
    a, b, c = ((tmp_path / n / "daily.csv").read_bytes() for n in "abc")
    assert a == b and a != c


# --------------------------------------------------------------------------- other commands
def test_scenarios_lists_default(capsys):
    assert cli.main(["scenarios"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.split()[0] == "default")
    assert "QT" in line  # the description from default.toml


def test_check_good_file(tmp_path, capsys):
    scenario = write(tmp_path / "good.toml", GOOD_TOML)
    assert cli.main(["check", str(scenario)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("OK: my-test (2019-01-02 to 2019-03-29, ")
    assert "business days" in out


def test_check_bad_file(tmp_path, capsys):
    bad = write(tmp_path / "bad.toml", GOOD_TOML.replace("treasury_cap = 15.0", "qt_speed = 2"))
    assert cli.main(["check", str(bad)]) == 2
    line = one_error_line(capsys)
    assert "bad.toml" in line and "fed.qt_speed" in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["default", "--set", "initial.on_rrp=5000"], "SOMA (4,200 $bn) does not cover"),
        (["default", "--set", "initial.private_bills=0"], "more than the private supply"),
        (["replay", "--set", "end=2040-01-01"], "replay: end: 2040-01-01 is after the replay"),
    ],
)
def test_check_refuses_what_run_refuses(argv, message, capsys):
    """`check` said OK to openings `run` then refused (the Fed's assets short of its
    liabilities, bills beyond the private supply, a replay outside the data)."""
    assert cli.main(["check", *argv]) == 2
    assert message in one_error_line(capsys)


def test_check_names_the_scenario_once(tmp_path, capsys, monkeypatch):
    """Text that starts like a list is still text for a text setting; each error line
    names its scenario once (a setting named like the scenario, a file given as ./x)."""
    assert cli.main(["check", "default", "--set", "description=[draft]"]) == 0
    capsys.readouterr()
    assert cli.main(["check", "replay", "--set", "replay.report_from=2030-01-01"]) == 2
    assert one_error_line(capsys).startswith("fedplumbing: error: replay: replay.report_from")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bin.toml").write_bytes(b"\xff")
    assert cli.main(["check", "./bin.toml"]) == 2
    assert one_error_line(capsys) == (
        "fedplumbing: error: bin.toml: not a scenario file (not UTF-8 text)"
    )


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ("[[rates.changes]]\niorb = 2.0\n", "rates.changes[0].date"),
        ("[[fed.runoff]]\ntreasury_cap = 30.0\n", "fed.runoff[0].date"),
    ],
)
def test_a_scheduled_change_needs_its_date(tmp_path, capsys, table, field):
    bad = write(tmp_path / "undated.toml", GOOD_TOML + "\n" + table)
    assert cli.main(["check", str(bad)]) == 2
    assert f"{field}: required" in one_error_line(capsys)


def test_check_several_files(tmp_path, capsys):
    good = write(tmp_path / "good.toml", GOOD_TOML)
    bad = write(tmp_path / "bad.toml", "end = 2000-01-01\n")
    assert cli.main(["check", str(good), str(bad), "default"]) == 2
    captured = capsys.readouterr()
    assert [ln[:4] for ln in captured.out.splitlines()] == ["OK: ", "OK: "]
    assert len(captured.err.strip().splitlines()) == 1 and "end" in captured.err


def test_check_with_override(capsys):
    assert cli.main(["check", "default", "--set", "rates.iorb=1.0"]) == 2
    assert "rates.on_rrp" in one_error_line(capsys)


def test_params_table(capsys):
    assert cli.main(["params"]) == 0
    out = capsys.readouterr().out
    assert "fed.treasury_cap" in out and "$bn/month" in out and "Treasury runoff cap" in out
    assert "rates.changes[].iorb" in out
    assert cli.main(["params", "srf", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| setting |")
    assert all("srf" in ln for ln in lines[2:])


def test_params_unknown_pattern(capsys):
    assert cli.main(["params", "no-such-thing"]) == 2
    assert "no-such-thing" in one_error_line(capsys)


# --------------------------------------------------------------------------- plugin commands
PLUGIN = """
from fedplumbing.sim.cli import CommandError


def register(subparsers):
    parser = subparsers.add_parser("hello", help="say hello")
    parser.add_argument("--fail", action="store_true")
    parser.set_defaults(func=run)


def run(args):
    if args.fail:
        raise CommandError("hello: asked to fail")
    print("hello from a plugin")
"""


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write(tmp_path / "fp_plugin_ok.py", PLUGIN)
    write(tmp_path / "fp_plugin_noregister.py", "X = 1\n")
    write(tmp_path / "fp_plugin_brokendep.py", "import fp_no_such_dependency  # noqa\n")
    yield tmp_path
    for name in ("fp_plugin_ok", "fp_plugin_noregister", "fp_plugin_brokendep"):
        sys.modules.pop(name, None)


def test_plugin_subcommand(plugin_dir, monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "fp_plugin_ok"])
    assert cli.main(["hello"]) == 0
    assert capsys.readouterr().out.strip() == "hello from a plugin"
    assert cli.main(["hello", "--fail"]) == 2
    assert one_error_line(capsys) == "fedplumbing: error: hello: asked to fail"


def test_missing_command_modules_are_skipped(plugin_dir):
    names = ["fedplumbing.sim.commands", "fp_plugin_absent", "fedplumbing.no_such_pkg.cmd"]
    modules = cli.load_command_modules(names)
    assert [m.__name__ for m in modules] == ["fedplumbing.sim.commands"]


def test_real_import_errors_are_not_hidden(plugin_dir):
    with pytest.raises(ModuleNotFoundError, match="fp_no_such_dependency"):
        cli.load_command_modules(["fp_plugin_brokendep"])
    with pytest.raises(TypeError, match="register"):
        cli.load_command_modules(["fp_plugin_noregister"])


# --------------------------------------------------------------------------- console script
def console_script() -> str:
    script = Path(sys.executable).parent / "fedplumbing"
    found = str(script) if script.exists() else shutil.which("fedplumbing")
    if found is None:
        pytest.skip("the fedplumbing console script is not installed")
    return found


def test_console_script_error(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [console_script(), "run", "--set", "fed.treasury_cap=-1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fedplumbing: error: fed.treasury_cap")
    assert not out.exists()


# --------------------------------------------------------------------------- real engine
def test_engine_run_end_to_end(tmp_path, capsys):
    runs = {}
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        out = tmp_path / name
        assert cli.main(["run", "--days", "15", "--seed", seed, "--out", str(out)]) == 0
        runs[name] = {f: (out / f).read_bytes() for f in ("daily.csv", "summary.json")}
        assert (out / "overview.png").stat().st_size > 0
    assert runs["a"] == runs["b"]
    assert runs["a"]["daily.csv"] != runs["c"]["daily.csv"]
    daily = pd.read_csv(tmp_path / "a" / "daily.csv")
    assert len(daily) == 15
    assert set(DAILY_COLUMNS) <= set(daily.columns)
    assert "min reserves" in capsys.readouterr().out


def test_a_market_that_does_not_trade_is_noted(tmp_path, capsys):
    """Two banks, one active in fed funds: no fed funds trade, and EFFR was blank without a
    word (the summary's EFFR figures with it)."""
    tiny = [
        "--set",
        "population.banks=2",
        "--set",
        "population.repo_active_banks=1",
        "--set",
        "population.fed_funds_active_banks=1",
    ]
    assert cli.main(["run", "--days", "5", "--out", str(tmp_path / "a"), *tiny]) == 0
    err = capsys.readouterr().err
    assert "note: fed funds did not trade on any of the 5 days: effr is blank" in err
    assert "repo" not in err  # repo traded every day: nothing to say
    import pandas as pd

    from fedplumbing.sim.commands import untraded_notes

    daily = pd.DataFrame({"effr": [1.0, float("nan"), 1.1], "sofr": [1.0, 1.0, 1.0]})
    assert untraded_notes(daily) == [
        "fed funds traded on 2 of 3 days: effr is blank on the others, and the summary's "
        "effr figures cover the 2 that traded"
    ]


@pytest.mark.parametrize("command", [["run"], ["check", "default"], ["scenarios"]])
def test_an_unknown_option_points_to_its_command_s_help(command, capsys, tmp_path):
    """'fedplumbing run --bogus' pointed to 'fedplumbing --help', which lists no options."""
    assert cli.main([*command, "--bogus"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"fedplumbing {command[0]}: error: unrecognized arguments: --bogus "
        f"(see 'fedplumbing {command[0]} --help')"
    ]
    assert cli.main(["--bogus"]) == 2
    assert "(see 'fedplumbing --help')" in capsys.readouterr().err


def test_a_folder_holding_another_command_s_outputs_is_refused(tmp_path, capsys):
    """`run` then `compare` into one folder left compare's daily.csv beside the run's
    stale summary.json and overview.png, without a word."""
    out = tmp_path / "out"
    assert cli.main(["run", "--days", "2", "--out", str(out), "-q"]) == 0
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    assert cli.main(["compare", "qt2017", "qt2022", "--days", "2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds the outputs of 'fedplumbing run' (summary.json)" in err[0]
    assert sorted(p.name for p in out.iterdir()) == before
    # the same command may write over its own outputs
    assert cli.main(["run", "--days", "2", "--out", str(out), "-q"]) == 0
