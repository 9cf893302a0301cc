"""Sweeps on a real dask.distributed LocalCluster (loopback only)."""

import pandas as pd
import pytest

from fedplumbing.experiments.sweep import run_sweep

from .fake_model import fake_run
from .helpers import make_spec, stable_results

distributed = pytest.importorskip("dask.distributed")

SPEC = """
    days = 12
    seeds = 2
    base_seed = 5
    metrics = ["p99_repo_spread_bp", "min_reserves"]
    [parameters]
    "banks.lclor_scale" = { values = [0.5, 1.0, 1.5] }
    "fed.treasury_cap" = { values = [0.0, 60.0] }
    "test.fail_above" = { values = [1.2] }
"""


@pytest.mark.timeout(90)
def test_dask_local_cluster_and_scheduler_address(tmp_path):
    spec = make_spec(SPEC)
    serial = run_sweep(spec, tmp_path / "serial", workers=1, progress=False, run_fn=fake_run)
    local = run_sweep(spec, tmp_path / "local", dask_local=2, progress=False, run_fn=fake_run)
    assert (local.ok, local.failed) == (serial.ok, serial.failed) == (8, 4)
    reference = stable_results(tmp_path / "serial")
    pd.testing.assert_frame_equal(stable_results(tmp_path / "local"), reference)

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        remote = run_sweep(
            spec,
            tmp_path / "remote",
            scheduler=cluster.scheduler_address,
            progress=False,
            run_fn=fake_run,
        )
    assert remote.ok == 8
    pd.testing.assert_frame_equal(stable_results(tmp_path / "remote"), reference)
