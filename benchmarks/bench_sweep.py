"""Sweep throughput: runs per minute serially, on a 2-worker process pool and on a 2-worker
Dask LocalCluster, and the parallel efficiency of each (rate / (workers x serial rate)).

    python benchmarks/bench_sweep.py          # real model: default scenario, 2 years (504 days)
    PYTHONPATH=tests python benchmarks/bench_sweep.py \\
        --run-fn experiments.fake_model:fake_run --runs 40 --set test.sleep_s=0.25

Wall times include executor start-up (spawning workers that import the engine once each, a
Dask LocalCluster starting), as a user sees them. Workers are reused for every run of a sweep,
so start-up is paid once per worker and amortised over the runs; at most 2 x workers runs are
in flight, so no worker idles between runs. "run s" is the mean wall time of one run inside a
worker: when it grows with the worker count, the CPUs are shared (another load on the machine,
or memory bandwidth), which no executor can hide. "workers busy" = runs x run s / (workers x
wall) is the share of the wall time the workers spent in runs: the executor's own overhead
(start-up, scheduling, result transfer, writing files) is what it leaves, whatever the load.
"""

from __future__ import annotations

import argparse
import importlib
import json
import tempfile
import time
from pathlib import Path

from fedplumbing.experiments.results import load_results
from fedplumbing.experiments.spec import known_metrics, parse_spec
from fedplumbing.experiments.sweep import run_sweep


def load_fn(ref: str | None):
    if ref is None:
        return None
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def parse_value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-fn", help="module:function (default: the real model)")
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--days", type=int, default=504, help="business days per run")
    parser.add_argument("--runs", type=int, default=24, help="runs per configuration")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fixed override for every run (repeatable)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["serial", "pool", "dask"],
        help="configuration to skip",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="repeat each configuration, keep the fastest"
    )
    args = parser.parse_args()

    run_fn = load_fn(args.run_fn)
    params = {k: {"values": [parse_value(v)]} for k, _, v in (s.partition("=") for s in args.set)}
    spec = parse_spec(
        {
            "scenario": args.scenario,
            "days": args.days,
            "seeds": args.runs,
            "metrics": ["p99_repo_spread_bp" if run_fn is None else known_metrics()[1]],
            "parameters": params,
        }
    )
    configs = {
        "serial": {"workers": 1},
        "pool": {"workers": args.workers},
        "dask": {"dask_local": args.workers},
    }
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs in configs.items():
            if name in args.skip:
                continue
            wall = float("inf")
            for rep in range(args.repeat):
                folder = Path(tmp) / f"{name}-{rep}"
                start = time.perf_counter()
                summary = run_sweep(spec, folder, progress=False, run_fn=run_fn, **kwargs)
                elapsed = time.perf_counter() - start
                if summary.failed or not summary.complete:
                    raise SystemExit(f"{name}: runs failed:\n{summary.format()}")
                if elapsed < wall:
                    wall, best = elapsed, folder
            rates[name] = args.runs / wall * 60
            n = kwargs.get("workers") or kwargs.get("dask_local")
            eff = f"{rates[name] / (n * rates['serial']):6.0%}" if "serial" in rates else "   n/a"
            per_run = load_results(best)["elapsed_s"].mean()
            busy = args.runs * per_run / (n * wall)
            print(
                f"{name:>6}: {args.runs} runs in {wall:7.2f} s = {rates[name]:8.1f} runs/min"
                f"  ({n} worker(s), parallel efficiency {eff}, run {per_run:.2f} s, "
                f"workers busy {busy:.0%})",
                flush=True,
            )


if __name__ == "__main__":
    main()
