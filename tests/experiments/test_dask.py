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


@pytest.mark.timeout(150)
def test_ctrl_c_stops_a_local_cluster_sweep_with_one_line(tmp_path):
    """Ctrl-C reaches the whole process group: the workers stay quiet, the command says so."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    from .small_model import write_small_scenario

    write_small_scenario(tmp_path)
    spec = tmp_path / "spec.toml"
    spec.write_text(
        textwrap.dedent("""
            scenario = "small.toml"
            days = 700
            seeds = 20
            [parameters]
            "banks.lclor_scale" = { values = [1.0] }
        """)
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "fedplumbing.sim.cli", "sweep", str(spec)]
    process = subprocess.Popen(
        [*command, "--out", str(out), "--dask-local", "2", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job
    )
    deadline = time.monotonic() + 100
    while not any((out / "runs").glob("*.parquet")) and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.2)
    assert process.poll() is None, "the sweep ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=40)
    assert process.returncode == 130
    assert stderr.strip().splitlines() == ["fedplumbing: interrupted"], stderr


def _sigint_handler() -> str:
    import signal

    return repr(signal.getsignal(signal.SIGINT))


@pytest.mark.timeout(90)
def test_local_cluster_workers_ignore_ctrl_c_even_after_a_restart():
    """A worker its nanny restarts would otherwise get Python's Ctrl-C handler back."""
    import signal

    from fedplumbing.experiments.sweep import open_executor

    ignored = repr(signal.SIG_IGN)
    with open_executor(dask_local=1) as (executor, _):
        client = executor._client
        assert list(client.run(_sigint_handler).values()) == [ignored]
        client.restart()
        assert list(client.run(_sigint_handler).values()) == [ignored]
