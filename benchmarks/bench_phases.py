"""Time each phase of a day over a 10-year run at the default scale (ms per day).

Usage:
    python benchmarks/bench_phases.py [--years 10] [--scale default|us]

Wraps each step of `FedPlumbingModel.step` with a timer and prints, per phase, the mean
time per day and a median-based figure (median time per call x calls per day), which a
shared, loaded machine disturbs less. The first day is reported apart: it loads the compiled
kernels from Numba's cache (a fixed cost per process, some 0.3-0.5 s, mostly Numba setting
itself up).
"""

from __future__ import annotations

import argparse
import collections
import time
from collections.abc import Callable

import numpy as np

from fedplumbing.sim import model as model_module
from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.model import FedPlumbingModel

SCALES = {
    "us": {"population.banks": 4500, "population.mmfs": 300},
    "default": {},
}


def timed(calls: list[float], func: Callable) -> Callable:
    """`func`, appending the duration of each call to `calls`."""

    def wrapper(*args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        result = func(*args, **kwargs)
        calls.append(time.perf_counter() - start)
        return result

    return wrapper


def main() -> None:
    """Run the model with timed phases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--scale", choices=list(SCALES), default="default")
    args = parser.parse_args()
    overrides = {
        **SCALES[args.scale],
        "start": "2018-01-02",
        "end": f"{2018 + args.years - 1}-12-31",
        "fed.qt_end": "2020-01-01",
    }
    model = FedPlumbingModel(apply_overrides(load_scenario("default"), overrides), rng=1)
    calls: dict[str, list[float]] = collections.defaultdict(list)
    phases = {
        "late payment reversal": (model.facilities, "reverse_late_payment_shock"),
        "overnight.unwind": (model.overnight, "unwind"),
        "driver.exogenous_flows": (model.driver, "exogenous_flows"),
        "driver.securities": (model.driver, "securities"),
        "repo_market.clear": (model.repo_market, "clear"),
        "fed_funds_market.clear": (model.fed_funds_market, "clear"),
        "facilities.place_at_on_rrp": (model.facilities, "place_at_on_rrp"),
        "late payment shock": (model.facilities, "apply_late_payment_shock"),
        "facilities.cover_dealers": (model.facilities, "cover_dealers"),
        "facilities.cover_banks": (model.facilities, "cover_banks"),
        "recorder.record": (model.recorder, "record"),
        "fed.react": (model.fed, "react"),
    }
    for name, (owner, attribute) in phases.items():
        setattr(owner, attribute, timed(calls[name], getattr(owner, attribute)))
    # interest.accrue posts the private sector's income too (private_income.distribute)
    original = model_module.interest
    wrapped = type(original)(original.__name__)  # a stand-in module for model.step
    wrapped.__dict__.update(original.__dict__)
    wrapped.accrue = timed(calls["interest.accrue + private_income"], original.accrue)
    model_module.interest = wrapped

    start = time.perf_counter()
    model.step()
    first_day = time.perf_counter() - start
    for timings in calls.values():
        timings.clear()
    days = []
    while model.running:
        start = time.perf_counter()
        model.step()
        days.append(time.perf_counter() - start)
    n = len(days)
    per_day = np.array(days) * 1000
    print(
        f"{args.scale}: {n} days after the first ({1000 * first_day:.0f} ms, kernels loaded); "
        f"mean {per_day.mean():.3f} ms/day, median {np.median(per_day):.3f}"
    )
    print(f"{'phase':28} {'median-based':>12} {'mean':>8}  (ms/day)")
    rows = sorted(calls.items(), key=lambda kv: -np.median(kv[1]) * len(kv[1]) if kv[1] else 0)
    total = 0.0
    for name, timings in rows:
        if not timings:
            continue
        typical = 1000 * float(np.median(timings)) * len(timings) / n
        total += typical
        print(f"{name:28} {typical:12.3f} {1000 * sum(timings) / n:8.3f}")
    print(f"{'sum of phases':28} {total:12.3f}")


if __name__ == "__main__":
    main()
