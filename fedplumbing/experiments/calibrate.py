"""Calibration on 2017-2019 by simulated method of moments (SMM).

The behavioural parameters in `PARAMETERS` are chosen to bring the moments of a replay over
2017-01..2019-12 (averaged over a few seeds) close to their targets (`targets`): the
administered-rate spreads of EFFR and SOFR, the ON RRP and reserves levels from the shipped
data, the September 2019 spike, the frequency of spreads above 50 bp and the aggregate
lowest comfortable level of reserves from the Senior Financial Officer Survey (a prior).
The loss is a weighted sum of squared scaled errors, minimised with scipy's Nelder-Mead over
parameters mapped to their bounds. Nothing after 2019 enters. The result is written to
``fedplumbing/calibration/calibrated.toml`` (parameters, moments, targets, date, version),
which every scenario uses as its behavioural base layer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fedplumbing.experiments.replay import (
    SPIKE_DAY,
    actual_frame,
    replay_config,
    run_replay,
)
from fedplumbing.sim.model import FedPlumbingModel

WINDOW = (dt.date(2017, 1, 3), dt.date(2019, 12, 31))
#: SFOS aggregate LCLoR (Aug 2019, $652B for respondents holding 3/4 of reserves), scaled
#: to all banks.
SFOS_LCLOR_ALL_BANKS = 652.0 / 0.75


@dataclass(frozen=True)
class Parameter:
    """A calibrated parameter: dotted config key and its search bounds."""

    key: str
    lo: float
    hi: float


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("banks.lclor_scale", 0.6, 2.0),
    Parameter("banks.shock_share", 0.002, 0.02),
    Parameter("banks.balance_sheet_cost_bp", 0.0, 10.0),
    Parameter("mmfs.repo_premium_bp", 0.0, 10.0),
    Parameter("mmfs.switch_spread_bp", 0.0, 20.0),
    Parameter("fhlbs.premium_bp", 0.0, 20.0),
)


@dataclass(frozen=True)
class Moment:
    """A moment: its target, the scale of a one-unit error, and its weight."""

    name: str
    target: float
    scale: float
    weight: float = 1.0
    doc: str = ""


def targets() -> list[Moment]:
    """Moment targets from the 2017-2019 data and FACTS.md (nothing after 2019)."""
    days = pd.bdate_range(*WINDOW)
    a = actual_frame(days)
    a = a[a.index <= pd.Timestamp(WINDOW[1])]
    out = []
    for year in (2017, 2018, 2019):
        y = a[a.index.year == year]
        out.append(
            Moment(
                f"effr_spread_{year}",
                float(y["effr_spread_bp"].median()),
                2.0,
                2.0,
                f"median EFFR - IOER in {year} (bp)",
            )
        )
        out.append(
            Moment(
                f"on_rrp_{year}",
                float(y["on_rrp"].mean()),
                25.0,
                1.0,
                f"mean ON RRP in {year} ($bn)",
            )
        )
        out.append(
            Moment(
                f"reserves_{year}",
                float(y["reserves"].mean()),
                50.0,
                1.0,
                f"mean reserves in {year} ($bn)",
            )
        )
    calm = a.loc["2018-04-02":"2019-08-30", "sofr_spread_bp"]
    out += [
        Moment(
            "sofr_spread_calm",
            float(calm.median()),
            3.0,
            2.0,
            "median SOFR - IOER 2018-04..2019-08 (bp)",
        ),
        Moment(
            "sept17_spread",
            float(a.loc[SPIKE_DAY, "sofr_spread_bp"]),
            100.0,
            2.0,
            "SOFR - IOER on 17 Sep 2019 (bp)",
        ),
        Moment(
            "share_days_above_50bp",
            0.002,
            0.01,
            1.0,
            "share of days with SOFR - IORB > 50 bp (FACTS: about 0.2%)",
        ),
        Moment(
            "aggregate_lclor",
            SFOS_LCLOR_ALL_BANKS,
            150.0,
            1.0,
            "sum of banks' LCLoR ($bn; SFOS prior)",
        ),
    ]
    return out


def simulated_moments(daily: pd.DataFrame, aggregate_lclor: float) -> dict[str, float]:
    """The moments of one replay run (see `targets`)."""
    d = daily.copy()
    d["date"] = pd.to_datetime(d["date"])
    d = d.set_index("date")
    out: dict[str, float] = {}
    for year in (2017, 2018, 2019):
        y = d[d.index.year == year]
        out[f"effr_spread_{year}"] = float(y["effr_spread_bp"].median())
        out[f"on_rrp_{year}"] = float(y["on_rrp"].mean())
        out[f"reserves_{year}"] = float(y["reserves"].mean())
    out["sofr_spread_calm"] = float(d.loc["2018-04-02":"2019-08-30", "repo_spread_bp"].median())
    out["sept17_spread"] = (
        float(d.loc[SPIKE_DAY, "repo_spread_bp"]) if SPIKE_DAY in d.index else math.nan
    )
    out["share_days_above_50bp"] = float((d["repo_spread_bp"] > 50).mean())
    out["aggregate_lclor"] = aggregate_lclor
    return out


def _vector_to_overrides(x: np.ndarray, params: Sequence[Parameter]) -> dict[str, float]:
    """Map unbounded coordinates to parameter values inside their bounds (logistic)."""
    z = 1.0 / (1.0 + np.exp(-np.asarray(x)))
    return {
        p.key: float(min(max(p.lo + (p.hi - p.lo) * zi, p.lo), p.hi))
        for p, zi in zip(params, z, strict=True)
    }


def _overrides_to_vector(values: dict[str, float], params: Sequence[Parameter]) -> np.ndarray:
    out = []
    for p in params:
        z = (values[p.key] - p.lo) / (p.hi - p.lo)
        z = min(max(z, 1e-4), 1 - 1e-4)
        out.append(math.log(z / (1 - z)))
    return np.array(out)


def evaluate(
    overrides: dict[str, Any],
    seeds: Sequence[int],
    moments: Sequence[Moment],
    scenario: str = "replay",
) -> tuple[float, dict[str, float]]:
    """Loss and seed-averaged moments of a parameter set."""
    cfg = replay_config(scenario, WINDOW[0], WINDOW[1], overrides)
    lclor = float(FedPlumbingModel(cfg, rng=0).banks["lclor"].sum())
    sims = []
    for seed in seeds:
        sims.append(simulated_moments(run_replay(cfg, seed).daily, lclor))
    mean = {m.name: float(np.nanmean([s[m.name] for s in sims])) for m in moments}
    loss = 0.0
    for m in moments:
        err = (mean[m.name] - m.target) / m.scale
        loss += m.weight * (min(err * err, 100.0) if np.isfinite(err) else 100.0)
    return loss, mean


@dataclass
class CalibrationResult:
    """Best parameters, their moments, the targets, the loss and the history of the search."""

    parameters: dict[str, float]
    moments: dict[str, float]
    targets: list[Moment]
    loss: float
    evaluations: int
    seeds: tuple[int, ...]


def calibrate(
    seeds: Sequence[int] = (0, 1, 2),
    max_evaluations: int = 60,
    params: Sequence[Parameter] = PARAMETERS,
    start: dict[str, float] | None = None,
    callback: Callable[[int, float, dict[str, float]], None] | None = None,
) -> CalibrationResult:
    """Run the SMM search (Nelder-Mead) from `start` (default: the current calibration)."""
    from scipy.optimize import minimize

    from fedplumbing.sim.config import load_scenario

    moments = targets()
    base = load_scenario("replay")
    if start is None:
        start = {}
        for p in params:
            section, name = p.key.split(".")
            start[p.key] = float(getattr(getattr(base, section), name))
    x0 = _overrides_to_vector(start, params)
    best: dict[str, Any] = {"loss": math.inf}
    count = 0

    def objective(x: np.ndarray) -> float:
        nonlocal count
        ov = _vector_to_overrides(x, params)
        loss, mean = evaluate(ov, seeds, moments)
        count += 1
        if loss < best["loss"]:
            best.update(loss=loss, parameters=ov, moments=mean)
        if callback is not None:
            callback(count, loss, ov)
        return loss

    minimize(
        objective,
        x0,
        method="Nelder-Mead",
        options={
            "maxfev": max_evaluations,
            "xatol": 0.02,
            "fatol": 0.01,
            "initial_simplex": np.vstack(
                [x0] + [x0 + 0.5 * np.eye(len(x0))[i] for i in range(len(x0))]
            ),
        },
    )
    return CalibrationResult(
        best["parameters"], best["moments"], moments, best["loss"], count, tuple(seeds)
    )


def to_toml(result: CalibrationResult, version: str, keep: dict[str, dict] | None = None) -> str:
    """The calibrated parameter file for `result` (TOML text)."""
    sections: dict[str, dict[str, float]] = {}
    for section, values in (keep or {}).items():
        sections.setdefault(section, {}).update(values)
    for key, value in result.parameters.items():
        section, name = key.split(".")
        sections.setdefault(section, {})[name] = round(value, 6)
    lines = [
        "# Calibrated behavioural parameters (2017-01 to 2019-12 only). Written by",
        "# `fedplumbing calibrate` (SMM, fedplumbing/experiments/calibrate.py); the base layer",
        "# of every scenario. A scenario's own settings win over these.",
        f'version = "{version}"',
        f'date = "{dt.date.today().isoformat()}"',
        f'window = ["{WINDOW[0]}", "{WINDOW[1]}"]',
        f"seeds = {list(result.seeds)}",
        f"loss = {result.loss:.6g}",
        f"evaluations = {result.evaluations}",
        'procedure = "simulated method of moments: Nelder-Mead on logistic-bounded parameters, '
        'seed-averaged replay moments, weighted squared scaled errors"',
        "",
    ]
    for section in sorted(sections):
        lines.append(f"[parameters.{section}]")
        for name, value in sections[section].items():
            lines.append(f"{name} = {value!r}")
        lines.append("")
    for m in result.targets:
        sim = result.moments.get(m.name, math.nan)
        sim_text = "nan" if not np.isfinite(sim) else f"{sim:.6g}"
        lines.append(f"[moments.{m.name}]")
        lines.append(f"target = {m.target:.6g}")
        lines.append(f"simulated = {sim_text}")
        lines.append(f"scale = {m.scale:g}")
        lines.append(f"weight = {m.weight:g}")
        lines.append(f'doc = "{m.doc}"')
        lines.append("")
    return "\n".join(lines)


def calibration_path() -> Path:
    """Path of the shipped calibrated parameter file."""
    from importlib import resources

    return Path(str(resources.files("fedplumbing.calibration").joinpath("calibrated.toml")))
