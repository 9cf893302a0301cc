"""Produce the README's figures from the model itself.

Usage:
    python docs/make_figures.py [--out docs/img]

Runs the default scenario (seed 1) and writes `overview.png` (corridor with the SOFR band and
the liquidity stack) and `reserve_demand.png` (daily repo spread against reserves / bank
assets).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fedplumbing.sim.config import load_scenario
from fedplumbing.sim.plots import overview_figure, reserve_demand_figure, save_figure
from fedplumbing.sim.run import simulate


def main() -> None:
    """Run the default scenario and save the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "img"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_scenario("default")
    result = simulate(cfg, 1, progress=True)
    save_figure(
        overview_figure(result.daily, f"fedplumbing: {cfg.description}"), out / "overview.png"
    )
    save_figure(reserve_demand_figure(result.daily), out / "reserve_demand.png")
    print(f"wrote {out / 'overview.png'} and {out / 'reserve_demand.png'}")


if __name__ == "__main__":
    main()
