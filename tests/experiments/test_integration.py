"""Sweeps of the real model (small population, short runs): determinism, relations, layout."""

import textwrap

import numpy as np
import pandas as pd
import pytest

from fedplumbing.experiments.results import load_daily, load_results, read_manifest
from fedplumbing.experiments.spec import load_spec
from fedplumbing.experiments.sweep import run_sweep

from .helpers import stable_results
from .small_model import write_small_scenario

SPEC = """
    scenario = "small.toml"
    days = 45
    seeds = 2
    base_seed = 11
    metrics = ["min_reserves", "final_reserves", "mean_repo_spread_bp", "p99_repo_spread_bp"]
    keep_daily = true
    [parameters]
    "initial.reserves" = { values = [1300.0, 2300.0] }
"""


@pytest.fixture
def small_spec(tmp_path):
    write_small_scenario(tmp_path)
    path = tmp_path / "spec.toml"
    path.write_text(textwrap.dedent(SPEC))
    return load_spec(path)


@pytest.mark.timeout(300)
def test_real_sweep_is_deterministic_across_executors(small_spec, tmp_path):
    serial = run_sweep(small_spec, tmp_path / "serial", workers=1, progress=False)
    pool = run_sweep(small_spec, tmp_path / "pool", workers=2, progress=False)
    assert serial.ok == pool.ok == 4 and serial.failed == pool.failed == 0
    reference = stable_results(tmp_path / "serial")
    pd.testing.assert_frame_equal(stable_results(tmp_path / "pool"), reference)
    pd.testing.assert_frame_equal(load_daily(tmp_path / "pool"), load_daily(tmp_path / "serial"))

    frame = reference.set_index("run_id")
    assert frame["status"].eq("ok").all()
    # seeds differ within a point (replicates are independent streams)
    daily = load_daily(tmp_path / "serial")
    a = daily[daily["run_id"] == 0]["repo_spread_bp"].to_numpy()
    b = daily[daily["run_id"] == 1]["repo_spread_bp"].to_numpy()
    assert len(a) == len(b) == 45 and not np.array_equal(a, b)
    # scarcer reserves -> higher repo spreads (a relation, not calibrated numbers)
    scarce, ample = frame[frame["point"] == 0], frame[frame["point"] == 1]
    assert (scarce["min_reserves"].max() + 500) < ample["min_reserves"].min()
    assert scarce["mean_repo_spread_bp"].mean() > ample["mean_repo_spread_bp"].mean()
    assert scarce["p99_repo_spread_bp"].mean() > ample["p99_repo_spread_bp"].mean()
    manifest = read_manifest(tmp_path / "serial")
    assert manifest["config_hash"] and manifest["versions"]["fedplumbing"]
    assert manifest["run_fn"] == "fedplumbing.experiments.sweep:simulate_run"
    hashes = frame["config_hash"].tolist()
    assert hashes[0] == hashes[1] != hashes[2] == hashes[3]


@pytest.mark.timeout(300)
def test_real_sweep_resumes_and_skips_finished_runs(small_spec, tmp_path):
    out = tmp_path / "out"
    first = run_sweep(small_spec, out, workers=1, progress=False, run_ids=[0, 3])
    assert first.ok == 2
    second = run_sweep(small_spec, out, workers=1, progress=False)
    assert (second.skipped, second.ok) == (2, 2)
    assert load_results(out)["run_id"].tolist() == [0, 1, 2, 3]
    ref = tmp_path / "ref"
    run_sweep(small_spec, ref, workers=1, progress=False)
    pd.testing.assert_frame_equal(stable_results(out), stable_results(ref))


@pytest.mark.timeout(300)
def test_real_sweep_on_dask_local_cluster(small_spec, tmp_path):
    pytest.importorskip("dask.distributed")
    spec = small_spec.__class__(**{**small_spec.__dict__, "keep_daily": False, "days": 25})
    serial = run_sweep(spec, tmp_path / "serial", workers=1, progress=False)
    dask = run_sweep(spec, tmp_path / "dask", dask_local=2, progress=False)
    assert serial.ok == dask.ok == 4
    pd.testing.assert_frame_equal(
        stable_results(tmp_path / "dask"), stable_results(tmp_path / "serial")
    )


@pytest.mark.timeout(300)
def test_one_sweep_run_is_rerun_by_the_cli_with_base_slash_replicate(small_spec, tmp_path):
    """`fedplumbing run --seed BASE/R` with the point's settings is replicate R of the point,
    day for day: the way to get one sweep run's daily output."""
    from fedplumbing.sim.cli import main
    from fedplumbing.sim.outputs import daily_to_csv

    run_sweep(small_spec, tmp_path / "sweep", workers=1, progress=False, run_ids=[1])
    stored = load_daily(tmp_path / "sweep", run_ids=[1]).drop(columns="run_id")
    daily_to_csv(stored, tmp_path / "stored.csv")
    out = tmp_path / "rerun"
    argv = ["run", str(tmp_path / "small.toml"), "--days", "45", "--seed", "11/1"]
    assert main([*argv, "--set", "initial.reserves=1300", "--out", str(out), "-q"]) == 0
    assert (out / "daily.csv").read_bytes() == (tmp_path / "stored.csv").read_bytes()
    # another replicate is another run
    assert (
        main([*argv[:-1], "11/0", "--set", "initial.reserves=1300", "--out", str(out), "-q"]) == 0
    )
    assert (out / "daily.csv").read_bytes() != (tmp_path / "stored.csv").read_bytes()
