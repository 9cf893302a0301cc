"""Time a 10-year daily run at US scale and at the default scale; report peak memory.

Usage:
    python benchmarks/bench_run.py [--years 10] [--repeat 1] [--scale us|default|both]

Each configuration runs in a fresh subprocess so that its peak resident memory is its own.
"run s" is wall-clock time of what `simulate` does (model construction, every day, the daily
frame and its summary); "cpu s" is the CPU time of the same, a steadier measure on a shared,
loaded machine. "day 1 s" is the part spent building the model and running its first day
(mostly Numba setting itself up and loading the cached kernels, a fixed cost per process);
"ms/day>1" is the cost of each later day. Set FEDPLUMBING_NUMBA=0 to time the pure-numpy path.
US scale is 4,500 banks, 300 money funds, 24 dealers and 11 FHLBs. The scenario is the
default one with runoff ending after two years (so that ten years stay economically sane).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

SCALES = {
    "us": {
        "population.banks": 4500,
        "population.mmfs": 300,
        "population.dealers": 24,
        "population.fhlbs": 11,
    },
    "default": {},
}

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.run import keep_freed_memory, summarize
import_s = time.perf_counter() - t0
overrides = json.loads(sys.argv[1])
cfg = apply_overrides(load_scenario("default"), overrides)
# what `simulate(cfg, 1)` does, with the first day (model set-up, Numba loading its cached
# kernels) timed apart from the rest
t1, c1 = time.perf_counter(), time.process_time()
keep_freed_memory()
model = FedPlumbingModel(cfg, rng=1)
model.step()
t2 = time.perf_counter()
for _ in range(len(model.calendar) - 1):
    model.step()
t3 = time.perf_counter()
daily = model.recorder.frame()
summarize(daily)
run_s, cpu_s = time.perf_counter() - t1, time.process_time() - c1
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"days": len(daily), "run_s": run_s, "cpu_s": cpu_s, "import_s": import_s,
                  "setup_s": t2 - t1, "day_ms": 1000 * (t3 - t2) / max(len(daily) - 1, 1),
                  "peak_mib": peak_mib, "banks": cfg.population.banks}))
"""


def run_one(scale: str, years: int) -> dict:
    """Run one configuration in a subprocess and return its measurements."""
    end_year = 2018 + years - 1
    overrides = {
        **SCALES[scale],
        "start": "2018-01-02",
        "end": f"{end_year}-12-31",
        "fed.qt_end": "2020-01-01",
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(overrides)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scale", choices=["us", "default", "both"], default="both")
    args = parser.parse_args()
    scales = ["us", "default"] if args.scale == "both" else [args.scale]
    print(
        f"{'scale':8} {'banks':>6} {'days':>6} {'run s':>8} {'ms/day':>7} {'cpu s':>7} "
        f"{'day 1 s':>8} {'ms/day>1':>9} {'import s':>9} {'peak MiB':>9}"
    )
    for scale in scales:
        for _ in range(args.repeat):
            r = run_one(scale, args.years)
            print(
                f"{scale:8} {r['banks']:>6} {r['days']:>6} {r['run_s']:>8.2f} "
                f"{1000 * r['run_s'] / r['days']:>7.2f} {r['cpu_s']:>7.2f} {r['setup_s']:>8.2f} "
                f"{r['day_ms']:>9.2f} {r['import_s']:>9.2f} {r['peak_mib']:>9.0f}"
            )


if __name__ == "__main__":
    main()
