"""Any valid settings keep the books: random configurations, each setting inside the range
`fedplumbing params` states, run in debug mode (every posting and identity checked daily).

A search of this kind (613 configurations) found five ways to break the accounting with
valid settings: bills bought from a public that had none, money funds and custodian banks
overdrawn, a payment shock larger than a bank's deposits. Each is fixed; this keeps a fast,
fixed sample of the search in the suite. A configuration the model refuses at its opening
(one line, `ConfigError`) is a valid answer too; every other outcome is a failure.
"""

from __future__ import annotations

import dataclasses
import random
import typing

import pytest

from fedplumbing.sim.config import ConfigError, ScenarioConfig, apply_overrides, load_scenario
from fedplumbing.sim.run import simulate

#: Sections whose numeric settings are drawn (behaviour, flows and the Fed's policy tools;
#: dates, rates and populations are left to each scenario).
SECTIONS = ("banks", "mmfs", "dealers", "fhlbs", "markets", "treasury", "flows", "fed")
SMALL = {
    "population.banks": 40,
    "population.mmfs": 8,
    "population.dealers": 6,
    "population.fhlbs": 3,
    "population.repo_active_banks": 8,
    "population.fed_funds_active_banks": 20,
}
SCENARIOS = ("default", "qt2017", "qt2022", "srf_today", "debt_ceiling")


def _numeric_settings() -> list[tuple[str, type, float, float]]:
    """(dotted name, type, low, high) of every int or float setting in `SECTIONS`."""
    out = []
    hints = typing.get_type_hints(ScenarioConfig)
    for section in SECTIONS:
        cls = hints[section]
        fields = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            lo, hi = f.metadata.get("lo"), f.metadata.get("hi")
            tp = fields[f.name]
            if lo is None or hi is None or tp not in (int, float):
                continue
            out.append((f"{section}.{f.name}", tp, float(lo), float(hi)))
    return out


def _draw(rng: random.Random, tp: type, lo: float, hi: float) -> float | int:
    """A value in [lo, hi]: a bound a third of the time, else uniform (log-uniform over wide
    positive ranges)."""
    u = rng.random()
    if u < 1 / 6:
        value = lo
    elif u < 1 / 3:
        value = hi
    elif lo > 0 and hi / lo > 1e3:
        value = lo * (hi / lo) ** rng.random()
    else:
        value = lo + (hi - lo) * rng.random()
    return round(value) if tp is int else value


def _cases(n: int, seed: int) -> list[tuple[str, dict[str, float], int]]:
    rng = random.Random(seed)
    settings = _numeric_settings()
    cases = []
    for _ in range(n):
        scenario = rng.choice(SCENARIOS)
        drawn = {name: _draw(rng, tp, lo, hi) for name, tp, lo, hi in rng.sample(settings, 5)}
        cases.append((scenario, drawn, rng.randrange(4)))
    return cases


@pytest.mark.parametrize(("scenario", "drawn", "seed"), _cases(16, seed=20261122))
def test_valid_settings_keep_the_books(scenario, drawn, seed):
    try:
        cfg = apply_overrides(load_scenario(scenario), {**SMALL, **drawn})
        simulate(cfg, seed, days=60, debug=True)
    except ConfigError:
        pass  # refused, in one line, at the opening: an answer, not a break
