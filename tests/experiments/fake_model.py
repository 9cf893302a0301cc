"""A tiny deterministic stand-in for the model, used only to test the sweep infrastructure.

``fake_run(request, seed)`` has the signature of `fedplumbing.experiments.sweep.simulate_run`:
its results depend only on the overrides and the seed (never on run order or worker).

Overrides it understands (all optional):
    ``banks.lclor_scale`` (float), ``fed.treasury_cap`` (float): shape the fake spreads;
    ``test.fail_above`` (float): raise ValueError when ``banks.lclor_scale`` exceeds it;
    ``test.sleep_s`` (float): sleep that long (to make runs slow enough to kill mid-sweep).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

METRICS = (
    "max_repo_spread_bp",
    "p99_repo_spread_bp",
    "mean_repo_spread_bp",
    "min_reserves",
    "min_reserves_to_assets",
    "srf_total",
    "days_spread_above_50bp",
)


def fake_run(request: dict, seed: np.random.SeedSequence) -> tuple[dict, pd.DataFrame | None]:
    overrides = request["overrides"]
    scale = float(overrides.get("banks.lclor_scale", 1.0))
    cap = float(overrides.get("fed.treasury_cap", 30.0))
    if scale > float(overrides.get("test.fail_above", np.inf)):
        raise ValueError(f"reserves went negative at lclor_scale={scale}")
    time.sleep(float(overrides.get("test.sleep_s", 0.0)))
    days = int(request.get("days") or 20)
    rng = np.random.default_rng(seed)
    reserves = 3000.0 - cap * np.arange(days) / 21 + rng.normal(0.0, 20.0, days)
    spread = 5.0 + 40.0 * scale * np.exp(-reserves / 1000.0) + rng.gamma(2.0, 2.0, days)
    p99 = spread + rng.gamma(3.0, 5.0, days)
    summary = {
        "max_repo_spread_bp": float(spread.max()),
        "p99_repo_spread_bp": float(np.percentile(p99, 99)),
        "mean_repo_spread_bp": float(spread.mean()),
        "min_reserves": float(reserves.min()),
        "min_reserves_to_assets": float(reserves.min() / 23000.0),
        "srf_total": float(np.clip(spread - 30.0, 0.0, None).sum()),
        "days_spread_above_50bp": float((spread > 50.0).sum()),
    }
    daily = None
    if request.get("keep_daily"):
        daily = pd.DataFrame(
            {
                "date": pd.bdate_range("2019-01-02", periods=days),
                "reserves": reserves,
                "repo_spread_bp": spread,
                "repo_spread_p99_bp": p99,
            }
        )
    return summary, daily


def seed_echo(request: dict, seed: np.random.SeedSequence) -> tuple[dict, None]:
    """Return the seed's first state word as every metric (to check seeding)."""
    word = float(seed.generate_state(1, np.uint32)[0])
    return dict.fromkeys(METRICS, word), None


def missing_metric(request: dict, seed: np.random.SeedSequence) -> tuple[dict, None]:
    """Return a summary without ``srf_total``."""
    return {m: 1.0 for m in METRICS if m != "srf_total"}, None
