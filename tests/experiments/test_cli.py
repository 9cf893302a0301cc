"""The sweep, report and stress-floor commands: one-line errors (exit 2, nothing written) and
successful runs of the real model."""

import json
import textwrap

import pandas as pd
import pytest

from fedplumbing.experiments.results import load_results
from fedplumbing.sim.cli import main

from .small_model import SMALL_OVERRIDES, write_small_scenario

GOOD = """
    scenario = "small.toml"
    days = 20
    seeds = 1
    metrics = ["p99_repo_spread_bp", "min_reserves"]
    [parameters]
    "banks.lclor_scale" = { values = [0.8, 1.2] }
    "initial.reserves" = { values = [1200.0, 2300.0] }
"""

BAD_SPECS = [
    ('[parameters]\n"banks.lclr" = { values = [1.0] }', "unknown setting 'banks.lclr'"),
    ('[parameters]\n"banks.lclor_scale" = { values = [] }', "empty grid"),
    (
        'sampler = "lhs"\nsamples = 4\n[parameters]\n"banks.lclor_scale" = { low = 2, high = 1 }',
        "low (2.0) must be < high (1.0)",
    ),
    ('sampler = "latin"', "unknown sampler 'latin'"),
    ('metrics = ["p99_spread"]', "unknown metric 'p99_spread'"),
    ("seeds = 0", "seeds:"),
    ("[parameters", "invalid TOML"),
    # the same setting twice ran with one of its values unknown, and broke `report`
    (
        '[parameters]\n"banks.lclor_scale" = { values = [1.0] }\n'
        "banks.lclor_scale = { values = [1.2] }",
        "parameters.banks.lclor_scale: given twice",
    ),
    # a billion runs hung while the plan was built
    ("seeds = 1000000000", "the sweep has 1,000,000,000 runs (points x seeds); allowed: at most"),
    # TOML's spellings in messages, and how to give a date (not datetime.date(...), True)
    ("days = true", "days: expected an integer >= 1, got true"),
    (
        '[parameters]\n"fed.qt_end" = { values = [2018-02-01] }',
        "unsupported value 2018-02-01; use numbers, booleans or strings (a date as a quoted",
    ),
]


def run(argv, capsys):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("text", "message"), BAD_SPECS, ids=[b[1] for b in BAD_SPECS])
def test_sweep_bad_spec_one_line_exit_2_nothing_written(tmp_path, capsys, text, message):
    spec = tmp_path / "spec.toml"
    spec.write_text(text + "\n")
    out = tmp_path / "out"
    code, stdout, stderr = run(["sweep", spec, "--out", out, "--workers", "1"], capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fedplumbing: error: ")
    assert message in lines[0]
    assert not out.exists() and stdout == ""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "0"], "--workers"),
        (["--dask-local", "x"], "--dask-local"),
    ],
)
def test_sweep_bad_options(tmp_path, capsys, extra, message):
    write_small_scenario(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(GOOD))
    out = tmp_path / "out"
    code, _, stderr = run(["sweep", spec, "--out", out, *extra], capsys)
    assert code == 2 and message in stderr and not out.exists()


def test_stress_floor_fast_settings_are_the_documented_ones():
    import argparse

    from fedplumbing.experiments import cli_stress_floor
    from fedplumbing.experiments.stress_floor import FAST

    parser = argparse.ArgumentParser()
    cli_stress_floor.register(parser.add_subparsers(dest="command"))
    fast = cli_stress_floor.settings_from_args(parser.parse_args(["stress-floor", "--fast"]))
    for name in ("seeds", "ladder", "steps", "window_days"):
        assert getattr(fast, name) == FAST[name], name
    assert fast.overrides["population.banks"] == FAST["population"]["population.banks"]
    mine = parser.parse_args(["stress-floor", "--fast", "--ladder", "5"])
    assert cli_stress_floor.settings_from_args(mine).ladder == 5  # an explicit option wins


@pytest.mark.timeout(300)
def test_sweep_report_resume_via_cli(tmp_path, capsys):
    write_small_scenario(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(GOOD))
    out = tmp_path / "out"
    code, stdout, _ = run(["sweep", spec, "--out", out, "--workers", "2", "-q"], capsys)
    assert code == 0, stdout
    assert "4 done (4 ok, 0 failed)" in stdout
    assert load_results(out)["status"].eq("ok").all()

    code, stdout, _ = run(["sweep", spec, "--out", out, "-q"], capsys)  # resume is the default
    assert code == 0 and "4 skipped" in stdout and "0 done" in stdout
    code, _, stderr = run(["sweep", spec, "--out", out, "--no-resume"], capsys)
    assert code == 2 and "already holds a sweep" in stderr
    other = tmp_path / "other.toml"
    other.write_text(textwrap.dedent(GOOD).replace("days = 20", "days = 21"))
    code, _, stderr = run(["sweep", other, "--out", out], capsys)
    assert code == 2 and "holds a different sweep" in stderr and "days" in stderr
    # a sweep begun under another seeding scheme (a stream per run) is not resumed
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    kept = manifest_path.read_text()
    manifest["seeding"]["scheme"] = "run i uses SeedSequence(base_seed, spawn_key=(i,))"
    manifest_path.write_text(json.dumps(manifest))
    code, _, stderr = run(["sweep", spec, "--out", out, "-q"], capsys)
    assert code == 2 and "holds a different sweep (its seeding scheme differs" in stderr
    manifest_path.write_text(kept)

    code, stdout, _ = run(["report", out], capsys)
    assert code == 0
    assert "finished: 4 of 4 runs (4 ok, 0 failed)" in stdout
    heat = out / "figures" / "heatmap_p99_repo_spread_bp.png"
    assert heat.stat().st_size > 0
    code, stdout, _ = run(["report", out, "--metric", "min_reserves"], capsys)
    assert code == 0 and (out / "figures" / "heatmap_min_reserves.png").exists()


def test_report_errors(tmp_path, capsys):
    code, _, stderr = run(["report", tmp_path / "nothing"], capsys)
    assert code == 2 and "does not exist" in stderr and len(stderr.splitlines()) == 1
    (tmp_path / "empty").mkdir()
    code, _, stderr = run(["report", tmp_path / "empty"], capsys)
    assert code == 2 and "no manifest.json" in stderr and len(stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold-bp", "abc"], "--threshold-bp: expected a number"),
        (["--quantile", "0"], "--quantile"),
        (["--seeds", "0"], "--seeds"),
        (["--window-days", "10"], "stress-floor: --window-days: must be an integer >= 63"),
        (["nosuch"], "neither a built-in scenario"),
        (["--set", "fed.nope=1"], "unknown setting 'fed.nope'"),
        (["--quantile", "nan"], "allowed: 0 < q <= 1"),
        (["--max-qt-months", "-3"], "allowed: 0 < months <= 240"),
        (["--max-qt-months", "0"], "allowed: 0 < months <= 240"),
    ],
)
def test_stress_floor_errors(tmp_path, capsys, args, message):
    out = tmp_path / "sf"
    code, stdout, stderr = run(["stress-floor", *args, "--out", out, "--workers", "1"], capsys)
    assert code == 2 and message in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists() and stdout == ""


@pytest.mark.timeout(300)
def test_stress_floor_cli_writes_table_and_figure(tmp_path, capsys):
    out = tmp_path / "sf"
    sets = [a for k, v in SMALL_OVERRIDES.items() for a in ("--set", f"{k}={v}")]
    argv = ["stress-floor", *sets, "--seeds", "1", "--ladder", "2", "--steps", "1"]
    argv += ["--window-days", "63", "--max-qt-months", "12", "--out", out, "-q"]
    argv += ["--threshold-bp", "25", "--quantile", "0.99", "--workers", "2"]
    code, stdout, _ = run(argv, capsys)
    runs = pd.read_csv(out / "stress_floor_runs.csv")
    assert runs["error"].isna().all(), runs["error"].dropna().tolist()  # every run finished
    assert code == 0 or "not found" in stdout  # 1 only when no floor is found, not on failures
    assert "reserve floor (default)" in stdout
    for name in ("stress_floor.md", "stress_floor.png", "stress_floor_runs.csv"):
        assert (out / name).stat().st_size > 0


def test_stress_floor_refuses_a_setting_it_replaces(tmp_path, capsys):
    """--set fed.qt_end was silently replaced by each candidate's own QT end, yet listed
    among the report's settings."""
    out = tmp_path / "sf"
    argv = ["stress-floor", "--fast", "--set", "fed.qt_end=2018-02-01", "--out", out, "-q"]
    code, stdout, stderr = run(argv, capsys)
    assert code == 2 and stdout == "" and not out.exists()
    assert stderr.strip().splitlines() == [
        "fedplumbing: error: --set fed.qt_end: the stress floor sets it for every candidate "
        "(QT runs for the number of months it searches); bound that search with "
        "--max-qt-months"
    ]


def test_workers_and_a_dask_cluster_together_are_refused(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(textwrap.dedent(GOOD))
    out = tmp_path / "out"
    code, _, stderr = run(
        ["sweep", spec, "--out", out, "--workers", "1", "--dask-local", "2"], capsys
    )
    assert code == 2 and "--workers or --dask-local, not both" in stderr
    assert not out.exists()


def test_a_calibration_version_that_would_break_the_file_is_refused(tmp_path, capsys):
    """`--version 'x"y'` wrote `version = "x"y"`, a file no command could read."""
    out = tmp_path / "cal.toml"
    code, _, stderr = run(
        ["calibrate", "--max-evaluations", "1", "--out", out, "--version", 'x"y'], capsys
    )
    assert code == 2 and "--version: 'x\"y' is not a version label" in stderr
    assert not out.exists()


def test_report_names_a_missing_folder_or_a_file(tmp_path, capsys):
    code, _, stderr = run(["report", tmp_path / "nope"], capsys)
    assert code == 2 and "does not exist" in stderr
    (tmp_path / "f.txt").write_text("x")
    code, _, stderr = run(["report", tmp_path / "f.txt"], capsys)
    assert code == 2 and "is a file" in stderr


def test_days_beyond_the_calendar_are_noted_and_runs_stop_at_the_end(tmp_path, capsys):
    from .small_model import SMALL_SCENARIO

    (tmp_path / "short.toml").write_text(
        "start = 2018-01-02\nend = 2018-01-19\n" + SMALL_SCENARIO.replace('"small"', '"short"')
    )
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'scenario = "short.toml"\ndays = 30\nseeds = 1\nkeep_daily = true\n'
        '[parameters]\n"banks.lclor_scale" = { values = [1.0] }\n'
    )
    out = tmp_path / "out"
    code, _, stderr = run(["sweep", spec, "--out", out, "--workers", "1"], capsys)
    assert code == 0
    assert "note: days 30: the scenario has 13 business days (2018-01-02 to 2018-01-19)" in stderr
    assert len(pd.read_parquet(out / "daily" / "run-000000.parquet")) == 13
    code, _, stderr = run(["sweep", spec, "--out", tmp_path / "q", "--workers", "1", "-q"], capsys)
    assert code == 0 and "note" not in stderr
    # refused input: the error alone, no note before it
    code, _, stderr = run(["sweep", spec, "--out", out, "--no-resume"], capsys)
    assert code == 2 and stderr.strip().splitlines() == [stderr.strip()] and "note" not in stderr


def test_the_days_note_counts_the_points_whose_calendar_is_short():
    import datetime as dt

    from fedplumbing.experiments.sweep import short_calendar_note

    notes = []
    long, short = (
        (dt.date(2018, 1, 2), dt.date(2018, 12, 31)),
        (
            dt.date(2018, 1, 2),
            dt.date(2018, 1, 19),
        ),
    )
    short_calendar_note(100, {long: 3, short: 1}, notes.append)
    assert notes == [
        "days 100: 1 of 4 points have fewer business days (as few as 13, 2018-01-02 to "
        "2018-01-19); those runs stop at their scenario's end"
    ]
    notes.clear()
    short_calendar_note(13, {short: 2}, notes.append)  # exactly the calendar: nothing to say
    assert notes == []


def test_a_spec_that_is_not_text_is_one_line(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b"\xff\xfe\x00garbage")
    code, _, stderr = run(["sweep", spec, "--out", tmp_path / "out"], capsys)
    assert code == 2 and "spec.toml: not a spec file (not UTF-8 text)" in stderr
    assert len(stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_damaged_manifest_is_named_in_one_line(tmp_path, capsys):
    """A manifest that is a JSON list was a TypeError traceback in `report`."""
    (tmp_path / "manifest.json").write_text("[]")
    code, _, stderr = run(["report", tmp_path], capsys)
    assert code == 2 and "manifest.json: not a sweep manifest (expected a JSON object)" in stderr
    assert len(stderr.strip().splitlines()) == 1
