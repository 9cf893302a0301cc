"""Sweep runner: run every (parameter point, seed replicate) of a spec on any Executor.

Each run calls ``run_fn(request, seed)`` where ``request`` is a plain dict::

    {"scenario": str, "days": int | None, "overrides": {dotted path: value}, "keep_daily": bool}

and ``seed`` is the run's `numpy.random.SeedSequence` (see `fedplumbing.experiments.sampling`).
``run_fn`` returns ``(summary: Mapping[str, float], daily: pandas.DataFrame | None)``. The default,
`simulate_run`, loads the scenario, applies the overrides and calls
`fedplumbing.sim.run.simulate`. A custom ``run_fn`` must be importable by workers (a module-level
function, not a lambda).

Workers only compute; the calling process writes each finished run atomically (see
`fedplumbing.experiments.results`), so a Dask cluster needs no shared file system, at most
``max_in_flight`` results are held in memory, and a killed sweep loses only runs in flight.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from fedplumbing.experiments import results
from fedplumbing.experiments.pool_workers import ignore_ctrl_c
from fedplumbing.experiments.sampling import RunPoint, n_runs, plan_runs, run_seed
from fedplumbing.experiments.spec import SpecError, SweepSpec, load_spec

__all__ = [
    "RunFn",
    "RunOutcome",
    "RunTask",
    "SerialExecutor",
    "SweepSummary",
    "execute_run",
    "open_executor",
    "run_sweep",
    "simulate_run",
]

type RunFn = Callable[
    [dict[str, object], np.random.SeedSequence], tuple[Mapping[str, float], pd.DataFrame | None]
]

FORMAT = "fedplumbing-sweep/1"
SEED_SCHEME = (
    "replicate r of every point uses numpy.random.SeedSequence(base_seed, spawn_key=(r,)), "
    "i.e. SeedSequence(base_seed).spawn(seeds)[r] (common random numbers across points); "
    "run i = point * seeds + replicate"
)
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (small and picklable).

    Attributes:
        run_id: The run's id (its position in the sweep; the seed is the replicate's).
        point: Parameter point index.
        replicate: Seed replicate index.
        params: Parameter overrides, dotted path -> value.
        scenario: Scenario name or path.
        days: Business days, or None for the scenario's horizon.
        base_seed: Root entropy of the sweep.
        metrics: Summary metrics to keep.
        keep_daily: Return the daily DataFrame too.

    """

    run_id: int
    point: int
    replicate: int
    params: dict[str, object]
    scenario: str
    days: int | None
    base_seed: int
    metrics: tuple[str, ...]
    keep_daily: bool

    def request(self) -> dict[str, object]:
        """Return the dict handed to ``run_fn`` (run identity deliberately left out)."""
        return {
            "scenario": self.scenario,
            "days": self.days,
            "overrides": dict(self.params),
            "keep_daily": self.keep_daily,
        }


@dataclass
class RunOutcome:
    """What a worker sends back for one run.

    Attributes:
        run_id: The run's id.
        metrics: Metric name -> value (None for a failed run).
        status: ``"ok"`` or ``"failed"``.
        error: ``"ExceptionType: message"`` for a failed run, else None.
        elapsed_s: Wall time of ``run_fn``.
        worker: ``host:pid`` of the process that ran it.
        versions: Package versions in that process.
        daily: The daily DataFrame when kept, else None.

    """

    run_id: int
    metrics: dict[str, float | None]
    status: str
    error: str | None
    elapsed_s: float
    worker: str
    versions: dict[str, str | None]
    daily: pd.DataFrame | None = None


@dataclass
class SweepSummary:
    """The outcome of `run_sweep`.

    Attributes:
        out_dir: The sweep folder.
        total: Runs in the sweep.
        ok: Runs finished successfully in this session.
        failed: Runs whose ``run_fn`` raised in this session (stored as failed rows).
        skipped: Runs already finished before this session (not rerun).
        lost: Runs submitted but lost to the executor (not stored; a rerun retries them).
        not_run: Runs never submitted (executor broken or interrupted).
        previously_failed: Skipped runs whose stored status is ``"failed"``.
        reasons: Error -> run ids (ascending), for failed and lost runs of this session.
        elapsed_s: Wall time of the session.

    """

    out_dir: Path
    total: int
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    lost: int = 0
    not_run: int = 0
    previously_failed: int = 0
    reasons: dict[str, list[int]] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def done(self) -> int:
        """Runs finished (ok or failed) in this session."""
        return self.ok + self.failed

    @property
    def complete(self) -> bool:
        """True when every run of the sweep has a stored row."""
        return self.lost == 0 and self.not_run == 0

    @property
    def exit_code(self) -> int:
        """0 if every run is stored and none failed (in this session or before), else 1."""
        return 0 if self.complete and self.failed == 0 and self.previously_failed == 0 else 1

    def format(self, max_reasons: int = 10) -> str:
        """Return a short human-readable report."""
        rate = self.done / self.elapsed_s * 60 if self.elapsed_s > 0 else float("nan")
        lines = [
            f"sweep {self.out_dir}: {self.total} runs: {self.done} done ({self.ok} ok, "
            f"{self.failed} failed), {self.skipped} skipped (already finished"
            + (f", {self.previously_failed} of them failed" if self.previously_failed else "")
            + f"), {self.lost} lost, {self.not_run} not run; "
            f"{self.elapsed_s:.1f} s ({rate:.1f} runs/min)"
        ]
        ranked = sorted(self.reasons.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        for reason, ids in ranked[:max_reasons]:
            shown = ", ".join(str(i) for i in ids[:8]) + (", ..." if len(ids) > 8 else "")
            lines.append(f"  {len(ids)} x {reason} (runs {shown})")
        if len(ranked) > max_reasons:
            lines.append(f"  ... and {len(ranked) - max_reasons} other reasons")
        if not self.complete:
            lines.append("  rerun the same command to finish the missing runs")
        if self.previously_failed:
            lines.append("  rerun with --retry-failed to retry failed runs")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class SerialExecutor(Executor):
    """Run each submitted call at once in this process (``workers=1``; easy to debug)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Run ``fn(*args, **kwargs)`` now and return its completed future."""
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            future.set_exception(exc)
        return future


@functools.cache
def _worker_identity() -> tuple[str, dict[str, str | None]]:
    return f"{socket.gethostname()}:{os.getpid()}", results.package_versions()


def _interrupted(exc: BaseException) -> bool:
    """Whether `exc` wraps a Ctrl-C.

    A KeyboardInterrupt raised while a Numba kernel runs reaches the caller as a
    SystemError ("returned a result with an exception set") whose context is the interrupt.
    """
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def execute_run(run_fn: RunFn, task: RunTask) -> RunOutcome:
    """Run one task in a worker; an exception in ``run_fn`` becomes a failed outcome.

    Args:
        run_fn: The model entry point.
        task: The run to do.

    Returns:
        The run's outcome; never raises for model errors.

    """
    worker, versions = _worker_identity()
    start = time.perf_counter()
    try:
        summary, daily = run_fn(task.request(), run_seed(task.base_seed, task.replicate))
        missing = [m for m in task.metrics if m not in summary]
        if missing:
            raise KeyError(f"run summary lacks metric(s): {', '.join(missing)}")
        metrics: dict[str, float | None] = {m: float(summary[m]) for m in task.metrics}
    except Exception as exc:
        if _interrupted(exc):
            raise KeyboardInterrupt from exc  # Ctrl-C inside a compiled kernel: not a result
        return RunOutcome(
            task.run_id,
            dict.fromkeys(task.metrics),
            "failed",
            _error_text(exc),
            time.perf_counter() - start,
            worker,
            versions,
        )
    keep = daily if task.keep_daily and daily is not None else None
    return RunOutcome(
        task.run_id, metrics, "ok", None, time.perf_counter() - start, worker, versions, keep
    )


def _error_text(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text[:MAX_ERROR_CHARS]


@functools.lru_cache(maxsize=4)
def _base_config(scenario: str):
    from fedplumbing.sim.config import load_scenario

    return load_scenario(scenario)


def simulate_run(
    request: dict[str, object], seed: np.random.SeedSequence
) -> tuple[Mapping[str, float], pd.DataFrame | None]:
    """Default ``run_fn``: one run of the fedplumbing model.

    Args:
        request: ``scenario``, ``days``, ``overrides`` and ``keep_daily`` (see module docs).
        seed: The run's seed.

    Returns:
        ``(RunResult.summary, RunResult.daily or None)``.

    """
    from fedplumbing.sim.config import apply_overrides
    from fedplumbing.sim.run import simulate

    config = _base_config(str(request["scenario"]))
    overrides = request.get("overrides") or {}
    if overrides:
        config = apply_overrides(config, overrides)
    result = simulate(config, seed, days=request.get("days"))
    return result.summary, (result.daily if request.get("keep_daily") else None)


def _qualname(fn: Callable) -> str:
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


def _config_hashes(spec: SweepSpec, runs: list[RunPoint]) -> tuple[str, list[str], dict]:
    """Apply every point's overrides to the scenario (catching errors before any output).

    Returns:
        The base scenario's config hash, one hash per point, and the number of points by
        (start, end) of their scenario (for `short_calendar_note`).

    """
    from fedplumbing.sim import config as sim_config

    try:
        base = sim_config.load_scenario(spec.scenario)
    except (sim_config.ConfigError, OSError) as exc:
        raise SpecError(f"scenario: cannot load {spec.scenario!r} ({_error_text(exc)})") from None
    hashes: list[str] = []
    calendars: dict[tuple, int] = {}
    for run in runs:
        if run.replicate:
            continue
        try:
            cfg = sim_config.apply_overrides(base, dict(run.params)) if run.params else base
        except sim_config.ConfigError as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in run.params.items())
            raise SpecError(
                f"parameters: point {run.point} ({shown}) rejected: {' '.join(str(exc).split())}"
            ) from None
        hashes.append(sim_config.config_hash(cfg))
        calendars[(cfg.start, cfg.end)] = calendars.get((cfg.start, cfg.end), 0) + 1
    return sim_config.config_hash(base), hashes, calendars


def short_calendar_note(
    days: int, calendars: Mapping[tuple, int], notes: Callable[[str], None]
) -> None:
    """Tell `notes` when ``days`` exceeds the business days of some points' calendars.

    Args:
        days: the spec's business days per run.
        calendars: number of points by (start, end) of their scenario.
        notes: receives the note.
    """
    from fedplumbing.sim.calendar import business_days

    available = {span: len(business_days(*span)) for span in calendars}
    short = {span: n for span, n in available.items() if n < days}
    if not short:
        return
    (start, end), fewest = min(short.items(), key=lambda item: item[1])
    points, total = sum(calendars[span] for span in short), sum(calendars.values())
    if points == total and len(short) == 1:
        notes(
            f"days {days}: the scenario has {fewest} business days ({start} to {end}); "
            "every run stops at its end"
        )
    else:
        notes(
            f"days {days}: {points} of {total} points have fewer business days (as few as "
            f"{fewest}, {start} to {end}); those runs stop at their scenario's end"
        )


def _check_out_dir(out_dir: Path, manifest: dict[str, object], resume: bool) -> bool:
    """Refuse an out_dir that would mix sweeps; return True if it already holds this sweep."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SpecError(f"--out: {out_dir} exists and is not a directory")
    try:
        existing = results.read_manifest(out_dir)
    except ValueError as exc:  # names the file
        raise SpecError(f"--out: {exc}; use a fresh directory") from None
    except OSError as exc:
        raise SpecError(
            f"--out: {out_dir}/{results.MANIFEST} is unreadable ({exc}); use a fresh directory"
        ) from None
    if existing is None:
        if out_dir.exists() and any(out_dir.iterdir()):
            raise SpecError(
                f"--out: {out_dir} is not empty and holds no sweep manifest; use a fresh directory"
            )
        return False
    if not resume:
        done = len(results.finished_run_ids(out_dir))
        raise SpecError(
            f"--out: {out_dir} already holds a sweep ({done} runs finished); "
            "resume it (--resume) or use a fresh directory"
        )
    # the seeding scheme too: a sweep begun with a stream per run (before common random
    # numbers) must not be finished with another scheme
    for key in ("spec", "run_fn", "config_hash", "seeding"):
        old, new = existing.get(key), manifest[key]
        if key == "config_hash" and (old is None or new is None):
            continue
        if old != new:
            detail = {
                "spec": "its spec differs",
                "run_fn": "its model function differs",
                "config_hash": "its scenario's settings differ",
                "seeding": "its seeding scheme differs",
            }[key]
            if key == "spec" and isinstance(old, dict) and isinstance(new, dict):
                fields = sorted(k for k in new.keys() | old.keys() if old.get(k) != new.get(k))
                detail = "its spec differs in " + ", ".join(fields)
            raise SpecError(
                f"--out: {out_dir} holds a different sweep ({detail} from this one's); "
                "use a fresh directory"
            )
    return True


#: Loggers that report a cluster closed with runs in flight (dask's config sets some levels).
_SHUTDOWN_LOGGERS = (
    "distributed",
    "distributed.scheduler",
    "distributed.client",
    "tornado",
    "tornado.application",
    "asyncio",
)


def _quiet_dask_shutdown() -> None:
    """Silence this process's Dask and Tornado logs: the sweep was interrupted on purpose."""
    for name in _SHUTDOWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT inside the block (processes started there inherit it ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def open_executor(
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
):
    """Yield ``(executor, capacity)`` as `run_sweep` picks it; shut down on exit if opened here.

    Args:
        executor: Use this one (not shut down here).
        workers: Process-pool size (default: CPU count; 1 runs in-process).
        scheduler: Address of a Dask scheduler.
        dask_local: Start a loopback Dask `LocalCluster` with this many worker processes.

    """
    if executor is not None:
        yield executor, workers or getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        return
    if scheduler is not None or dask_local is not None:
        from dask.distributed import Client, LocalCluster

        from fedplumbing.experiments.dask_workers import IgnoreCtrlC

        with contextlib.ExitStack() as stack:
            if scheduler is not None:
                client = stack.enter_context(Client(scheduler))
            else:
                # Ctrl-C reaches every process of the terminal's group: the workers ignore
                # it (they inherit SIGINT ignored while the cluster starts them) and only
                # this process stops the sweep, closing the cluster
                with _sigint_ignored():
                    cluster = stack.enter_context(
                        LocalCluster(
                            n_workers=dask_local,
                            threads_per_worker=1,
                            processes=True,
                            host="127.0.0.1",
                            dashboard_address=":0",
                            # errors only: at Ctrl-C the workers would warn of each
                            # cancelled run
                            silence_logs=logging.ERROR,
                        )
                    )
                client = stack.enter_context(Client(cluster))
                client.register_plugin(IgnoreCtrlC())  # and the workers restarted later
            capacity = workers or sum(client.nthreads().values()) or 1
            try:
                yield client.get_executor(pure=False), capacity
            except KeyboardInterrupt:
                _quiet_dask_shutdown()  # closing mid-run, the scheduler logs lost results
                raise
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield SerialExecutor(), 1
        return
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=ignore_ctrl_c
    )
    try:
        yield pool, workers
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)


def run_sweep(
    spec: SweepSpec | str | Path,
    out_dir: str | Path,
    executor: Executor | None = None,
    workers: int | None = None,
    resume: bool = True,
    progress: bool = True,
    run_fn: RunFn | None = None,
    *,
    scheduler: str | None = None,
    dask_local: int | None = None,
    retry_failed: bool = False,
    run_ids: Iterable[int] | None = None,
    max_in_flight: int | None = None,
    notes: Callable[[str], None] | None = None,
) -> SweepSummary:
    """Run a sweep into ``out_dir``, skipping runs already stored there.

    Everything is validated before ``out_dir`` is created or touched: the spec, the scenario
    and every point's overrides (default model only), and an existing ``out_dir`` (it must hold
    the same sweep, and ``resume`` must be on).

    Args:
        spec: A `SweepSpec`, or the path of a spec TOML.
        out_dir: Sweep folder (created; see `fedplumbing.experiments.results` for its layout).
        executor: Any `concurrent.futures.Executor`; not shut down here. When None: a Dask
            client if ``scheduler``/``dask_local`` is given, else a spawn-context
            `ProcessPoolExecutor` with ``workers`` processes (in-process when ``workers == 1``).
        workers: Number of workers (default: CPU count; for Dask, the cluster's threads).
        resume: Continue a sweep already in ``out_dir``; when False such a folder is refused.
        progress: Show a progress bar (only when stderr is a terminal).
        run_fn: Model entry point (see module docs); default `simulate_run`.
        scheduler: Address of a Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
        dask_local: Start a loopback Dask `LocalCluster` with this many worker processes.
        retry_failed: Also rerun runs stored as failed.
        run_ids: Only run these ids, in this order (default: all, in id order).
        max_in_flight: Cap on submitted, unfinished runs (default: twice the workers).
        notes: Told what the user should know but is not an error (e.g. ``days`` beyond
            the calendar of some points).

    Returns:
        What was done, skipped and failed, with failure reasons grouped.

    Raises:
        SpecError: Invalid spec, scenario, overrides or ``out_dir`` (nothing written).

    """
    started = time.perf_counter()
    default_model = run_fn is None
    run_fn = simulate_run if run_fn is None else run_fn
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec, check_config=default_model)
    if scheduler is not None and dask_local is not None:
        raise SpecError("scheduler/dask_local: give at most one of them")
    if scheduler is not None:
        check_scheduler_address(scheduler)
    for name, value in (
        ("workers", workers),
        ("dask_local", dask_local),
        ("max_in_flight", max_in_flight),
    ):
        if value is not None and value < 1:
            raise SpecError(f"{name}: must be an integer >= 1 (got {value})")
    out_dir = Path(out_dir)
    runs = plan_runs(spec)
    base_hash, point_hashes, calendars = (
        _config_hashes(spec, runs)
        if default_model
        else (None, [None] * (runs[-1].point + 1 if runs else 0), {})
    )
    manifest = {
        "format": FORMAT,
        "spec": json.loads(json.dumps(spec.to_dict())),
        "spec_hash": spec.spec_hash(),
        "run_fn": _qualname(run_fn),
        "config_hash": base_hash,
        "n_points": len(point_hashes),
        "n_runs": n_runs(spec),
        "seeding": {"base_seed": spec.base_seed, "scheme": SEED_SCHEME},
        "versions": results.package_versions(),
        "created": results.now_iso(),
    }
    existing = _check_out_dir(out_dir, manifest, resume)
    wanted = _select(runs, run_ids)

    # the executor first (a Dask scheduler may be unreachable): nothing is written before
    with open_executor(executor, workers, scheduler, dask_local) as (pool, capacity):
        if notes is not None and spec.days is not None:  # everything accepted: say it now
            short_calendar_note(spec.days, calendars, notes)
        out_dir.mkdir(parents=True, exist_ok=True)
        if existing:
            results.clean_temp_files(out_dir)
        else:
            results.write_json_atomic(manifest, out_dir / results.MANIFEST)

        summary = SweepSummary(out_dir=out_dir, total=len(wanted))
        statuses = results.run_statuses(out_dir)
        todo = [
            r
            for r in wanted
            if r.run_id not in statuses or (retry_failed and statuses[r.run_id] == "failed")
        ]
        summary.skipped = len(wanted) - len(todo)
        summary.previously_failed = sum(
            1 for r in wanted if statuses.get(r.run_id) == "failed" and not retry_failed
        )
        writer = _RunWriter(out_dir, spec, point_hashes, manifest)
        tasks = (_task(spec, r) for r in todo)
        bar = tqdm(
            total=len(wanted),
            initial=summary.skipped,
            unit="run",
            dynamic_ncols=True,
            disable=not (progress and sys.stderr.isatty()),
            file=sys.stderr,
        )
        try:
            _drive(pool, run_fn, tasks, max_in_flight or 2 * capacity, writer, summary, bar)
        finally:
            bar.close()
    summary.elapsed_s = time.perf_counter() - started
    return summary


#: Address schemes a Dask scheduler listens on.
SCHEDULER_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")


def check_scheduler_address(address: str) -> None:
    """Refuse a scheduler address that cannot name a Dask scheduler (checked before connecting).

    Raises:
        SpecError: the form is not ``[scheme://]host:port`` with a known scheme and a port.
    """
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    host, _, port = rest.rpartition(":")
    ok = scheme in SCHEDULER_SCHEMES and (
        scheme == "inproc" or (bool(host) and port.isdigit() and 0 < int(port) < 65536)
    )
    if not ok:
        raise SpecError(
            f"scheduler: {address!r} is not a scheduler address (allowed: "
            f"[{'|'.join(SCHEDULER_SCHEMES)}://]host:port, e.g. tcp://10.0.0.5:8786)"
        )


def _select(runs: list[RunPoint], run_ids: Iterable[int] | None) -> list[RunPoint]:
    if run_ids is None:
        return runs
    chosen = []
    for i in run_ids:
        if not 0 <= i < len(runs):
            raise SpecError(f"run_ids: {i} is out of range (0 to {len(runs) - 1})")
        chosen.append(runs[i])
    return chosen


def _task(spec: SweepSpec, run: RunPoint) -> RunTask:
    return RunTask(
        run.run_id,
        run.point,
        run.replicate,
        dict(run.params),
        spec.scenario,
        spec.days,
        spec.base_seed,
        spec.metrics,
        spec.keep_daily,
    )


class _RunWriter:
    """Turns outcomes into summary rows and stores them (in the calling process)."""

    def __init__(
        self,
        out_dir: Path,
        spec: SweepSpec,
        point_hashes: list[str | None],
        manifest: Mapping[str, object],
    ) -> None:
        self.out_dir = out_dir
        self.spec = spec
        self.point_hashes = point_hashes
        self.schema = results.summary_schema(spec)
        self.meta = {
            "spec_hash": manifest["spec_hash"],
            "run_fn": manifest["run_fn"],
            "config_hash": manifest["config_hash"],
        }

    def write(self, task: RunTask, outcome: RunOutcome) -> None:
        row: dict[str, object] = {
            "run_id": task.run_id,
            "point": task.point,
            "replicate": task.replicate,
            "seed_entropy": task.base_seed,
            "seed_spawn_key": task.replicate,
            **task.params,
            **outcome.metrics,
            "status": outcome.status,
            "error": outcome.error,
            "elapsed_s": outcome.elapsed_s,
            "worker": outcome.worker,
            "config_hash": self.point_hashes[task.point],
        }
        meta = json.dumps(
            {
                **self.meta,
                "seed": {"entropy": task.base_seed, "spawn_key": [task.replicate]},
                "versions": outcome.versions,
            }
        )
        results.write_run(self.out_dir, row, self.schema, daily=outcome.daily, metadata_json=meta)


def _drive(
    pool: Executor,
    run_fn: RunFn,
    tasks: Iterable[RunTask],
    max_in_flight: int,
    writer: _RunWriter,
    summary: SweepSummary,
    bar: tqdm,
) -> None:
    """Submit tasks with at most ``max_in_flight`` outstanding; store each as it finishes."""
    pending = iter(tasks)
    in_flight: dict[Future, RunTask] = {}
    reasons: defaultdict[str, list[int]] = defaultdict(list)
    broken = False

    def fill() -> None:
        nonlocal broken
        while not broken and len(in_flight) < max_in_flight:
            task = next(pending, None)
            if task is None:
                return
            try:
                in_flight[pool.submit(execute_run, run_fn, task)] = task
            except (BrokenExecutor, RuntimeError) as exc:
                broken = True
                summary.not_run += 1
                reasons[f"executor: {_error_text(exc)}"].append(task.run_id)

    try:
        fill()
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: in_flight[f].run_id):
                task = in_flight.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:
                    broken = broken or isinstance(exc, BrokenExecutor)
                    summary.lost += 1
                    reasons[f"executor: {_error_text(exc)}"].append(task.run_id)
                else:
                    writer.write(task, outcome)
                    if outcome.status == "ok":
                        summary.ok += 1
                    else:
                        summary.failed += 1
                        reasons[outcome.error or "failed"].append(task.run_id)
                bar.update(1)
                bar.set_postfix(failed=summary.failed + summary.lost, refresh=False)
            fill()
    except BaseException:
        for future in in_flight:
            future.cancel()
        raise
    finally:
        summary.not_run += sum(1 for _ in pending)
        # run ids in order, whatever order the workers finished them in
        summary.reasons = {reason: sorted(ids) for reason, ids in reasons.items()}
