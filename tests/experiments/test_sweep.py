import os
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fedplumbing.experiments import results
from fedplumbing.experiments.results import load_daily, load_results, read_manifest
from fedplumbing.experiments.spec import SpecError
from fedplumbing.experiments.sweep import run_sweep

from .fake_model import fake_run, missing_metric, seed_echo
from .helpers import make_spec, stable_results

SPEC = """
    days = 15
    seeds = 3
    base_seed = 99
    metrics = ["p99_repo_spread_bp", "min_reserves", "srf_total"]
    [parameters]
    "banks.lclor_scale" = { values = [0.5, 1.0, 1.5] }
    "fed.treasury_cap" = { values = [0.0, 60.0] }
"""


def sweep(out, spec=SPEC, **kw):
    kw.setdefault("workers", 1)
    kw.setdefault("progress", False)
    kw.setdefault("run_fn", fake_run)
    return run_sweep(make_spec(spec) if isinstance(spec, str) else spec, out, **kw)


def test_serial_sweep_layout_and_columns(tmp_path):
    summary = sweep(tmp_path / "out")
    assert (summary.total, summary.ok, summary.failed, summary.skipped) == (18, 18, 0, 0)
    assert summary.exit_code == 0
    files = sorted(os.listdir(tmp_path / "out" / "runs"))
    assert files == [f"run-{i:06d}.parquet" for i in range(18)]
    frame = load_results(tmp_path / "out")
    assert list(frame.columns) == [
        "run_id",
        "point",
        "replicate",
        "seed_entropy",
        "seed_spawn_key",
        "banks.lclor_scale",
        "fed.treasury_cap",
        "p99_repo_spread_bp",
        "min_reserves",
        "srf_total",
        "status",
        "error",
        "elapsed_s",
        "worker",
        "config_hash",
    ]
    assert frame["run_id"].tolist() == list(range(18))
    # common random numbers: replicate r of every point has spawn key r
    assert frame["seed_spawn_key"].tolist() == [i % 3 for i in range(18)]
    assert (frame["seed_entropy"] == 99).all() and (frame["status"] == "ok").all()
    assert frame["error"].isna().all()
    assert frame["banks.lclor_scale"].tolist()[::6] == [0.5, 1.0, 1.5]
    manifest = read_manifest(tmp_path / "out")
    assert manifest["n_runs"] == 18 and manifest["n_points"] == 6
    assert manifest["spec"]["base_seed"] == 99
    assert manifest["run_fn"].endswith("fake_model:fake_run")
    assert set(manifest["versions"]) >= {
        "python",
        "numpy",
        "pandas",
        "mesa",
        "pyarrow",
        "fedplumbing",
    }
    meta = pq.read_schema(results.run_file(tmp_path / "out", 4)).metadata[b"fedplumbing"]
    assert b'"spawn_key": [1]' in meta  # run 4: point 1, replicate 1
    assert b'"numpy"' in meta


def test_values_match_a_direct_call(tmp_path):
    sweep(tmp_path / "out")
    frame = load_results(tmp_path / "out")
    row = frame.iloc[7]
    request = {
        "scenario": "default",
        "days": 15,
        "keep_daily": False,
        "overrides": {
            "banks.lclor_scale": row["banks.lclor_scale"],
            "fed.treasury_cap": row["fed.treasury_cap"],
        },
    }
    expected, _ = fake_run(request, np.random.SeedSequence(99).spawn(3)[7 % 3])
    assert row["p99_repo_spread_bp"] == expected["p99_repo_spread_bp"]


def test_determinism_across_workers_and_order(tmp_path):
    serial = sweep(tmp_path / "serial")
    pool = sweep(tmp_path / "pool", workers=2)
    assert serial.ok == pool.ok == 18
    # Out of order, in three sessions: odd ids backwards, then the rest, through threads.
    sweep(tmp_path / "shuffled", run_ids=range(17, 0, -2))
    with ThreadPoolExecutor(3) as threads:
        rest = sweep(tmp_path / "shuffled", executor=threads, workers=3)
    assert (rest.ok, rest.skipped) == (9, 9)
    reference = stable_results(tmp_path / "serial")
    pd.testing.assert_frame_equal(stable_results(tmp_path / "pool"), reference)
    pd.testing.assert_frame_equal(stable_results(tmp_path / "shuffled"), reference)
    assert load_results(tmp_path / "pool")["worker"].nunique() == 2


def test_seeds_differ_across_replicates_and_are_common_across_points(tmp_path):
    """Replicates draw different numbers; every point's replicate r draws the same ones."""
    sweep(tmp_path / "out", run_fn=seed_echo)
    frame = load_results(tmp_path / "out")
    assert frame["srf_total"].nunique() == 3
    assert frame.groupby("point")["srf_total"].nunique().eq(3).all()
    assert frame.groupby("replicate")["srf_total"].nunique().eq(1).all()


def test_failing_point_is_recorded_and_others_finish(tmp_path):
    spec = SPEC + '"test.fail_above" = { values = [1.2] }\n'
    summary = sweep(tmp_path / "out", spec, workers=2)
    assert (summary.ok, summary.failed) == (12, 6)
    reason = "ValueError: reserves went negative at lclor_scale=1.5"
    assert summary.reasons == {reason: list(range(12, 18))}
    assert summary.exit_code == 1
    assert "6 x " + reason in summary.format()
    frame = load_results(tmp_path / "out")
    failed = frame[frame["status"] == "failed"]
    assert failed["run_id"].tolist() == list(range(12, 18))
    assert (failed["error"] == reason).all()
    assert failed["p99_repo_spread_bp"].isna().all()
    assert frame[frame["status"] == "ok"]["p99_repo_spread_bp"].notna().all()
    again = sweep(tmp_path / "out", spec)
    assert (again.done, again.skipped, again.previously_failed) == (0, 18, 6)
    assert again.exit_code == 1  # the dataset still holds failed runs (docs: exit 1)
    retried = sweep(tmp_path / "out", spec, retry_failed=True)
    assert (retried.failed, retried.skipped) == (6, 12)


def test_missing_metric_fails_the_run(tmp_path):
    summary = sweep(tmp_path / "out", run_fn=missing_metric)
    assert summary.failed == 18
    assert list(summary.reasons) == ["KeyError: 'run summary lacks metric(s): srf_total'"]


def test_rerun_skips_finished_runs_without_touching_them(tmp_path):
    sweep(tmp_path / "out")
    runs = tmp_path / "out" / "runs"
    before = {f: os.stat(runs / f).st_mtime_ns for f in os.listdir(runs)}
    os.remove(runs / "run-000005.parquet")
    again = sweep(tmp_path / "out")
    assert (again.ok, again.skipped) == (1, 17)
    after = {f: os.stat(runs / f).st_mtime_ns for f in os.listdir(runs)}
    assert {f: t for f, t in after.items() if f != "run-000005.parquet"} == {
        f: t for f, t in before.items() if f != "run-000005.parquet"
    }


def test_refuses_a_directory_holding_another_sweep(tmp_path):
    out = tmp_path / "out"
    sweep(out)
    listing = sorted(p.name for p in out.rglob("*"))
    with pytest.raises(SpecError, match=r"different sweep \(its spec differs in seeds from") as e:
        sweep(out, SPEC.replace("seeds = 3", "seeds = 4"))
    assert "\n" not in str(e.value) and "fresh directory" in str(e.value)
    with pytest.raises(SpecError, match="different sweep"):
        sweep(out, run_fn=seed_echo)
    with pytest.raises(SpecError, match=r"already holds a sweep \(18 runs finished\)"):
        sweep(out, resume=False)
    assert sorted(p.name for p in out.rglob("*")) == listing
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(SpecError, match="not empty and holds no sweep manifest"):
        sweep(tmp_path / "other")


def test_keep_daily_writes_daily_paths(tmp_path):
    sweep(tmp_path / "out", SPEC.replace("days = 15", "days = 15\nkeep_daily = true"))
    daily = load_daily(tmp_path / "out")
    assert len(daily) == 18 * 15
    assert daily["run_id"].tolist() == np.repeat(np.arange(18), 15).tolist()
    assert load_daily(tmp_path / "out", [3, 4])["run_id"].unique().tolist() == [3, 4]
    assert list(daily.columns[:2]) == ["run_id", "date"]


def test_temp_files_are_invisible_and_cleaned_on_resume(tmp_path):
    out = tmp_path / "out"
    sweep(out, run_ids=range(5))
    junk = out / "runs" / ".run-000005.parquet.abc123.tmp"
    junk.write_bytes(b"PAR1 half a file")
    assert load_results(out)["run_id"].tolist() == list(range(5))
    summary = sweep(out)
    assert (summary.ok, summary.skipped) == (13, 5)
    assert not junk.exists()
    assert all(n.startswith("run-") for n in os.listdir(out / "runs"))


class CountingExecutor(Executor):
    """Thread pool that records the largest number of outstanding futures."""

    def __init__(self, workers):
        self._pool = ThreadPoolExecutor(workers)
        self._lock = threading.Lock()
        self.outstanding = 0
        self.peak = 0

    def submit(self, fn, /, *args, **kwargs):
        with self._lock:
            self.outstanding += 1
            self.peak = max(self.peak, self.outstanding)
        future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _):
        with self._lock:
            self.outstanding -= 1

    def shutdown(self, wait=True, **kw):
        self._pool.shutdown(wait)


def test_in_flight_runs_are_bounded(tmp_path):
    spec = SPEC + '"test.sleep_s" = { values = [0.01] }\n'
    executor = CountingExecutor(4)
    try:
        summary = sweep(tmp_path / "out", spec, executor=executor, max_in_flight=3)
        assert summary.ok == 18
        assert executor.peak == 3
        default = CountingExecutor(2)
        sweep(tmp_path / "out2", spec, executor=default, workers=2)
        assert default.peak == 4
    finally:
        executor.shutdown()


class FlakyExecutor(Executor):
    """Loses runs 2 and 3 as if their worker died."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        if args[1].run_id in (2, 3):
            future.set_exception(OSError("worker connection lost"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_lost_runs_are_not_stored_and_a_rerun_finishes_them(tmp_path):
    summary = sweep(tmp_path / "out", executor=FlakyExecutor())
    assert (summary.ok, summary.lost, summary.complete) == (16, 2, False)
    assert summary.reasons == {"executor: OSError: worker connection lost": [2, 3]}
    assert "rerun the same command" in summary.format()
    assert 2 not in results.finished_run_ids(tmp_path / "out")
    again = sweep(tmp_path / "out")
    assert (again.ok, again.skipped, again.exit_code) == (2, 16, 0)
    pd.testing.assert_frame_equal(
        stable_results(tmp_path / "out"),
        (sweep(tmp_path / "ref"), stable_results(tmp_path / "ref"))[1],
    )


def test_no_progress_output_without_a_terminal(tmp_path, capsys):
    sweep(tmp_path / "out", progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_accepts_a_spec_path(tmp_path, write_spec):
    """A spec path gives the same results as the same spec in memory; the config check runs
    only for the default model (a custom model's own settings are not config keys)."""
    summary = run_sweep(
        write_spec(SPEC), tmp_path / "out", workers=1, progress=False, run_fn=fake_run
    )
    assert summary.ok == 18
    sweep(tmp_path / "ref")
    pd.testing.assert_frame_equal(
        stable_results(tmp_path / "out"), stable_results(tmp_path / "ref")
    )
    own = SPEC + '    "test.fail_above" = { values = [9.0] }\n'
    custom = run_sweep(
        write_spec(own, "own.toml"), tmp_path / "own", workers=1, progress=False, run_fn=fake_run
    )
    assert custom.ok == 18  # a custom model's setting is accepted
    out = tmp_path / "refused"
    with pytest.raises(SpecError, match=r"unknown setting 'test\.fail_above'"):
        run_sweep(write_spec(own, "own2.toml"), out, workers=1, progress=False)
    assert not out.exists()


@pytest.mark.parametrize(
    "address", ["notanaddress", "tcp://10.0.0.5", "tcp://host:port", "ftp://h:1"]
)
def test_a_malformed_scheduler_address_is_refused_before_output(write_spec, tmp_path, address):
    out = tmp_path / "out"
    with pytest.raises(SpecError, match="is not a scheduler address"):
        run_sweep(write_spec(SPEC), out, scheduler=address, progress=False)
    assert not out.exists()


def _interrupted_in_a_kernel(request, seed):
    """What Ctrl-C inside a Numba kernel looks like to its caller."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:
        raise SystemError("CPUDispatcher(...) returned a result with an exception set")  # noqa: B904


def test_ctrl_c_inside_a_kernel_is_not_stored_as_a_failed_run():
    """The SystemError Numba wraps around a KeyboardInterrupt was saved as a failed run,
    which a rerun then skipped as finished; the sweep went on to the next run."""
    from fedplumbing.experiments.sweep import RunTask, execute_run

    task = RunTask(0, 0, 0, {}, "default", 5, 1, ("max_repo_spread_bp",), False)
    with pytest.raises(KeyboardInterrupt):
        execute_run(_interrupted_in_a_kernel, task)
    # any other error is still a failed outcome
    outcome = execute_run(lambda request, seed: 1 / 0, task)
    assert outcome.status == "failed" and "ZeroDivisionError" in outcome.error
