"""Make the figures and tables of docs/scenarios/*.md (one comparison per scenario family).

Run from the repository root: ``python docs/make_scenario_figures.py`` (about a minute).
Figures go to docs/img/scenario_<family>.png; each family's table is printed as Markdown, to
paste into its page. Same seed (0) and default populations as ``fedplumbing run``.
"""

from __future__ import annotations

from pathlib import Path

from fedplumbing.experiments.compare import comparison_figure, comparison_table, markdown_table
from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.run import simulate

IMG = Path(__file__).parent / "img"

#: family -> [(label, scenario, overrides)]
FAMILIES: dict[str, list[tuple[str, str, dict]]] = {
    "qt": [("qt2017", "qt2017", {}), ("qt2022", "qt2022", {})],
    "end_of_qt": [
        ("rmp2026", "rmp2026", {}),
        ("no RMPs", "rmp2026", {"fed.runoff": [], "fed.rmp": 0.0}),
    ],
    "short_duration": [
        ("short_duration_a", "short_duration_a", {}),
        ("short_duration_b", "short_duration_b", {}),
        (
            "coupons rolled into coupons",
            "short_duration_b",
            {"fed.treasury_reinvestment": "coupons"},
        ),
    ],
    "debt_ceiling": [
        ("debt_ceiling", "debt_ceiling", {}),
        ("no debt ceiling", "debt_ceiling", {"treasury.tga_schedule": []}),
    ],
    "srf": [
        ("srf_today", "srf_today", {}),
        ("srf_central_clearing", "srf_central_clearing", {}),
        ("no SRF", "srf_today", {"fed.srf_enabled": False}),
        ("qt2017 (repo operations, no SRF)", "qt2017", {}),
    ],
}


def main() -> None:
    """Run every family, save its figure and print its table."""
    IMG.mkdir(exist_ok=True)
    for family, runs in FAMILIES.items():
        dailies = {}
        for label, scenario, overrides in runs:
            cfg = load_scenario(scenario)
            if overrides:
                cfg = apply_overrides(cfg, overrides)
            dailies[label] = simulate(cfg, 0).daily
        fig = comparison_figure(dailies, " vs ".join(dailies))
        path = IMG / f"scenario_{family}.png"
        fig.savefig(path, dpi=90)
        print(f"## {family} ({path})\n")
        print(markdown_table(comparison_table(dailies), dailies))


if __name__ == "__main__":
    main()
