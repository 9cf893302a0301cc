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
)
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.run import simulate

WINDOW = (dt.date(2017, 1, 3), dt.date(2019, 12, 31))


@dataclass(frozen=True)
class Parameter:
    """A calibrated parameter: dotted config key and its search bounds."""

    key: str
    lo: float
    hi: float


PARAMETERS: tuple[Parameter, ...] = (
    Parameter("banks.lclor_scale", 0.6, 1.6),
    Parameter("banks.big_bank_lclor_premium", 0.0, 2.0),
    Parameter("banks.shock_share", 0.002, 0.02),
    Parameter("banks.balance_sheet_cost_bp", 0.0, 10.0),
    Parameter("banks.arbitrage_cost_bp", 1.0, 15.0),
    Parameter("mmfs.repo_premium_bp", 0.0, 15.0),
    Parameter("fhlbs.premium_bp", 0.0, 25.0),
    Parameter("fhlbs.corridor_share", 0.0, 1.0),
    Parameter("fhlbs.repo_discount_bp", 0.0, 15.0),
    Parameter("initial.hedge_fund_repo", 900.0, 2000.0),
    Parameter("dealers.hedge_fund_growth", 0.0, 0.3),
    Parameter("flows.mmf_growth", 0.0, 0.15),
    Parameter("initial.mmf_bill_share", 0.2, 0.5),
    Parameter("mmfs.switch_spread_bp", 0.0, 15.0),
    Parameter("replay.tga_bill_share", 0.0, 1.0),
    Parameter("dealers.quarter_end_capacity", 0.6, 1.0),
)


@dataclass(frozen=True)
class Moment:
    """A moment: its target, the scale of a one-unit error, and its weight."""

    name: str
    target: float
    scale: float
    weight: float = 1.0
    doc: str = ""


#: Days of the September 2019 episode scored one by one (comparison only).
SEPT_DAYS = {"sept13": "2019-09-13", "sept16": "2019-09-16", "sept17": "2019-09-17"}
#: Days after the spike whose mean spread is scored (the decay).
SEPT_AFTER = ("2019-09-19", "2019-09-20")
#: Window in which the Fed did not run repo operations before September 2019.
NO_OPS_BEFORE = "2019-09-01"
#: SFOS (August 2019): respondents holding about 3/4 of reserves reported $652B of LCLoR.
SFOS_LCLOR = 652.0
SFOS_RESERVE_SHARE = 0.75


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
                40.0,
                1.0,
                f"mean reserves in {year} ($bn)",
            )
        )
    out += [
        Moment(
            "sofr_monthly_rms",
            0.0,
            5.0,
            3.0,
            "RMS error of monthly median SOFR - IOER, 2018-04..2019-12 outside period ends (bp)",
        ),
        Moment(
            "effr_monthly_rms",
            0.0,
            3.0,
            2.0,
            "RMS error of monthly median EFFR - IOER, 2017-2019 outside period ends (bp)",
        ),
        Moment(
            "effr_monthly_max",
            0.0,
            5.0,
            2.0,
            "largest error of monthly median EFFR - IOER, 2017-2019 outside period ends (bp)",
        ),
        Moment(
            "reserves_weekly_mape",
            0.0,
            0.03,
            1.0,
            "mean absolute % error of weekly-average reserves vs WRESBAL, 2017-2019",
        ),
        Moment(
            "reserves_weekly_max",
            0.0,
            0.05,
            1.0,
            "largest absolute % error of weekly-average reserves vs WRESBAL, 2017-2019",
        ),
        Moment(
            "on_rrp_weekly_mae",
            0.0,
            30.0,
            1.0,
            "mean absolute error of Wednesday ON RRP vs RRPONTSYD, 2017-2019 ($bn)",
        ),
    ]
    for name, day in SEPT_DAYS.items():
        scale, weight = (75.0, 4.0) if name == "sept17" else (20.0, 2.0)
        out.append(
            Moment(
                f"{name}_spread",
                float(a.loc[day, "sofr_spread_bp"]),
                scale,
                weight,
                f"SOFR - IOER on {day} (bp)",
            )
        )
    out += [
        Moment(
            "sept17_p99",
            690.0,
            200.0,
            1.0,
            "99th percentile of SOFR - IOER on 2019-09-17 (bp; 9.00%)",
        ),
        Moment(
            "sept_after_spread",
            float(a.loc[list(SEPT_AFTER), "sofr_spread_bp"].mean()),
            15.0,
            2.0,
            "mean SOFR - IOER on 19-20 Sep 2019 (bp; the decay)",
        ),
        Moment(
            "fed_ops_days_before_sept2019",
            0.0,
            10.0,
            2.0,
            "days with Fed repo operations before 2019-09 (the Fed ran none)",
        ),
        Moment(
            "year_end_2018",
            float(a.loc["2018-12-31", "sofr_spread_bp"]),
            30.0,
            0.5,
            "SOFR - IOER on 2018-12-31 (bp)",
        ),
        Moment(
            "share_days_above_50bp",
            0.002,
            0.01,
            1.0,
            "share of days with SOFR - IORB > 50 bp (FACTS: about 0.2%)",
        ),
        Moment(
            "sfos_lclor",
            SFOS_LCLOR,
            100.0,
            1.0,
            "LCLoR of the banks holding 3/4 of reserves at the end of the run ($bn; SFOS prior)",
        ),
    ]
    return out


def sfos_lclor(model: FedPlumbingModel) -> float:
    """Aggregate LCLoR of the banks that hold 3/4 of reserves (largest holders first)."""
    res = model.ledger.held("reserves", model.banks.rows)
    order = np.argsort(-res, kind="stable")
    cum = np.cumsum(res[order])
    n = int(np.searchsorted(cum, SFOS_RESERVE_SHARE * cum[-1])) + 1
    return float(model.banks["lclor"][order[:n]].sum())


def simulated_moments(daily: pd.DataFrame, lclor: float) -> dict[str, float]:
    """The moments of one replay run (see `targets`); `lclor` is `sfos_lclor` of the run."""
    from fedplumbing.experiments.replay import monthly_spreads, weekly_levels

    d = daily.copy()
    d["date"] = pd.to_datetime(d["date"])
    d = d.set_index("date")
    out: dict[str, float] = {}
    for year in (2017, 2018, 2019):
        y = d[d.index.year == year]
        for col, name in (
            ("effr_spread_bp", "effr_spread"),
            ("on_rrp", "on_rrp"),
            ("reserves", "reserves"),
        ):
            if col in y:
                out[f"{name}_{year}"] = float(
                    y[col].median() if col == "effr_spread_bp" else y[col].mean()
                )
    full = {"effr_spread_bp", "on_rrp", "reserves", "repo_spread_bp"} <= set(d.columns)
    if full:
        actual = actual_frame(daily["date"])
        for col, name, months in (
            ("repo_spread_bp", "sofr_monthly_rms", ("2018-04", "2019-12")),
            ("effr_spread_bp", "effr_monthly_rms", ("2017-01", "2019-12")),
        ):
            t = monthly_spreads(daily, actual, col)
            t = t[(t.index >= pd.Period(months[0])) & (t.index <= pd.Period(months[1]))].dropna()
            out[name] = float(np.sqrt((t["error"] ** 2).mean())) if len(t) else math.nan
            if col == "effr_spread_bp":
                out["effr_monthly_max"] = float(t["error"].abs().max()) if len(t) else math.nan
        w = weekly_levels(daily, actual)
        w = w[w.index <= pd.Timestamp(WINDOW[1])]
        r_err, o_err = w["reserves_error"].dropna().abs(), w["on_rrp_error"].dropna().abs()
        out["reserves_weekly_mape"] = float(r_err.mean())
        out["reserves_weekly_max"] = float(r_err.max())
        out["on_rrp_weekly_mae"] = float(o_err.mean())
    spread = d["repo_spread_bp"]
    for name, day in SEPT_DAYS.items():
        ts = pd.Timestamp(day)
        out[f"{name}_spread"] = float(spread.loc[ts]) if ts in d.index else math.nan
    out["sept17_p99"] = (
        float(d.loc[SPIKE_DAY, "repo_spread_p99_bp"])
        if "repo_spread_p99_bp" in d and SPIKE_DAY in d.index
        else math.nan
    )
    after = [pd.Timestamp(x) for x in SEPT_AFTER if pd.Timestamp(x) in d.index]
    out["sept_after_spread"] = float(spread.loc[after].mean()) if after else math.nan
    if "fed_repo_ops" in d:
        out["fed_ops_days_before_sept2019"] = float(
            (d.loc[: pd.Timestamp(NO_OPS_BEFORE) - pd.Timedelta(days=1), "fed_repo_ops"] > 0).sum()
        )
    ye = pd.Timestamp("2018-12-31")
    out["year_end_2018"] = float(spread.loc[ye]) if ye in d.index else math.nan
    out["share_days_above_50bp"] = float((spread > 50).mean())
    out["sfos_lclor"] = lclor
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


def _run_moments(args: tuple) -> dict[str, float]:
    cfg, seed = args
    result = simulate(cfg, seed, keep_model=True)
    return simulated_moments(result.daily, sfos_lclor(result.model))


def evaluate(
    overrides: dict[str, Any],
    seeds: Sequence[int],
    moments: Sequence[Moment],
    scenario: str = "replay",
    workers: int = 1,
) -> tuple[float, dict[str, float]]:
    """Loss and seed-averaged moments of a parameter set (seeds in `workers` processes)."""
    cfg = replay_config(scenario, WINDOW[0], WINDOW[1], overrides)
    jobs = [(cfg, seed) for seed in seeds]
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        from fedplumbing.experiments.pool_workers import ignore_ctrl_c

        with ProcessPoolExecutor(min(workers, len(jobs)), initializer=ignore_ctrl_c) as ex:
            sims = list(ex.map(_run_moments, jobs))
    else:
        sims = [_run_moments(job) for job in jobs]
    mean = {m.name: float(np.nanmean([s.get(m.name, math.nan) for s in sims])) for m in moments}
    return loss_of(mean, moments), mean


def loss_of(mean: dict[str, float], moments: Sequence[Moment]) -> float:
    """Weighted sum of squared scaled errors (each capped at 100; missing = 100)."""
    loss = 0.0
    for m in moments:
        err = (mean.get(m.name, math.nan) - m.target) / m.scale
        loss += m.weight * (min(err * err, 100.0) if np.isfinite(err) else 100.0)
    return loss


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
    workers: int = 1,
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
        loss, mean = evaluate(ov, seeds, moments, workers=workers)
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
