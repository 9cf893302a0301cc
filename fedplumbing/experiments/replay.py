"""Historical replay: run it, compare it with what markets did, draw the figures.

`run_replay` drives the model from the shipped history (`fedplumbing.sim.replay`);
`validate` computes every check of the validation report (September 2019, calm months,
EFFR, reserves and ON RRP, the reserve demand curve, the counterfactuals) from the run's
daily table and the shipped outcomes; `write_replay` writes ``daily.csv``,
``validation.md`` and the figures into a folder.

Dates appear here only to *compare* the simulation with history (which day was the spike,
which months to score); the model itself never sees them.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fedplumbing.sim import history
from fedplumbing.sim.calendar import business_days
from fedplumbing.sim.config import (
    ConfigError,
    ScenarioConfig,
    apply_overrides,
    config_to_dict,
    load_scenario,
    lookup,
)
from fedplumbing.sim.replay import opening_from_history
from fedplumbing.sim.run import RunResult, simulate

#: The spike day of September 2019 and the validation windows (comparison only).
SPIKE_DAY = pd.Timestamp("2019-09-17")
SPIKE_WINDOW = (pd.Timestamp("2019-09-09"), pd.Timestamp("2019-09-27"))
CALM_MONTHS = (pd.Timestamp("2018-04-01"), pd.Timestamp("2019-12-31"))
EFFR_MONTHS = (pd.Timestamp("2017-01-01"), pd.Timestamp("2019-12-31"))
IN_SAMPLE = (pd.Timestamp("2017-01-01"), pd.Timestamp("2019-12-31"))
YEAR_END_2018 = pd.Timestamp("2018-12-31")

#: Thresholds of the checks (bp, share, $bn).
SPIKE_MEDIAN_BP = 100.0
SPIKE_P99_BP = 300.0
SPIKE_DAYS_BP = 50.0
CALM_TOLERANCE_BP = 15.0
EFFR_TOLERANCE_BP = 5.0
RESERVES_TOLERANCE = 0.05
ON_RRP_TOLERANCE = 50.0

#: Built-in counterfactual scenarios around September 2019.
COUNTERFACTUALS = {
    "sept2019": "history",
    "sept2019_more_reserves": "+$150B of reserves",
    "sept2019_srf": "SRF at IOER + 10 bp, no stigma",
    "sept2019_tax_moved": "tax date a week later",
}


# --------------------------------------------------------------------------- running
def replay_config(
    scenario: str | Path = "replay",
    start: dt.date | None = None,
    end: dt.date | None = None,
    overrides: dict[str, Any] | None = None,
) -> ScenarioConfig:
    """The replay scenario for a window, with its opening balances from the data.

    `replay_settings` opened from the data (`opening_from_history`).
    """
    return opening_from_history(replay_settings(scenario, start, end, overrides))


def replay_settings(
    scenario: str | Path = "replay",
    start: dt.date | None = None,
    end: dt.date | None = None,
    overrides: dict[str, Any] | None = None,
) -> ScenarioConfig:
    """The replay scenario for a window, with the user's settings, not yet opened from data.

    A window that starts after the scenario's own start (the first data day for the
    built-in replays) is not opened from the data at its start: the run warms up from the
    scenario's start and reports the window only (`replay.report_from`), so the window opens
    in the state the long replay reaches there, with the same seed the same numbers. An
    opening from the data cannot know how the agents' books have moved by then (money funds'
    bills, where banks hold their reserves); opened cold in 2019, a window starts under
    stress: repo at +230 to +800 bp on its first day and the Fed lending from the second.

    Raises:
        ConfigError: an end before the start (or any other invalid setting).
    """
    cfg = load_scenario(scenario)
    ov: dict[str, Any] = dict(overrides or {})
    if start is not None and end is not None and end < start:
        raise ConfigError(f"end: {end} is before start {start}; allowed: end >= start")
    if ov.get("mode", "replay") != "replay":
        raise ConfigError(
            f"mode: a replay runs mode 'replay', not {ov['mode']!r}; allowed: replay "
            "(`fedplumbing run` runs policy scenarios)"
        )
    if start is not None and "start" in ov:
        raise ConfigError(
            "start: given twice (--start and --set start); allowed: one of them (--start warms "
            "up from the scenario's start, --set start opens cold from the data)"
        )
    if start is not None:
        warm_up = cfg.replay.initial_from_history and start > cfg.start
        last = end if end is not None else ov.get("end", cfg.end)
        if warm_up and start > dt.date.fromisoformat(str(last)):
            raise ConfigError(
                f"--start: {start} is after the replay's last day {last}; allowed: up to "
                f"{last}" + ("" if end is not None else " (or give --end as well)")
            )
        ov["replay.report_from" if warm_up else "start"] = start
    if end is not None:
        ov["end"] = end
    if cfg.mode != "replay":
        ov["mode"] = "replay"
    return apply_overrides(cfg, ov) if ov else cfg


def run_replay(
    cfg: ScenarioConfig, seed: int | np.random.SeedSequence = 0, *, progress: bool = False
) -> RunResult:
    """Simulate a replay config; the run's wall time goes into ``summary['runtime_s']``."""
    t0 = time.perf_counter()
    result = simulate(cfg, seed, progress=progress)  # a window's own days (report_from)
    result.summary["runtime_s"] = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- comparing
def actual_frame(dates: pd.Series | pd.DatetimeIndex) -> pd.DataFrame:
    """History on the run's days: reserves, ON RRP, SOFR/EFFR spreads to IOER (bp)."""
    index = pd.DatetimeIndex(pd.to_datetime(dates))
    a = history.actual_outcomes(index.values)
    a["sofr_spread_bp"] = (a["sofr"] - a["iorb"]) * 100.0
    a["effr_spread_bp"] = (a["effr"] - a["iorb"]) * 100.0
    a["reserves_to_assets"] = a["reserves"] / a["bank_assets"]
    return a


def _period_end_mask(dates: pd.DatetimeIndex) -> np.ndarray:
    """Month-end days and the first business day after them (the settlement of the turn).

    Judged on the business-day calendar, not on the window: a window that ends mid-month
    does not make its last day a month-end, and one that opens on a month's first business
    day has that day flagged.
    """
    if len(dates) == 0:
        return np.zeros(0, dtype=bool)
    before = business_days(dates[0] - pd.Timedelta(days=10), dates[0] - pd.Timedelta(days=1))
    after = business_days(dates[-1] + pd.Timedelta(days=1), dates[-1] + pd.Timedelta(days=10))
    month = dates.to_period("M").to_numpy()
    prev_month = pd.Timestamp(before[-1]).to_period("M")
    next_month = pd.Timestamp(after[0]).to_period("M")
    last = np.r_[month[1:] != month[:-1], month[-1] != next_month]
    first_after = np.r_[month[0] != prev_month, last[:-1]]
    return last | first_after


def _covers(index: pd.DatetimeIndex, first: pd.Timestamp, last: pd.Timestamp) -> bool:
    """Whether the run's days span `first`..`last` (both inside the window)."""
    return len(index) > 0 and index[0] <= first and index[-1] >= last


def _full_months(index: pd.DatetimeIndex) -> pd.PeriodIndex:
    """The months whose every business day is in the window (a month can be judged)."""
    if len(index) == 0:
        return pd.PeriodIndex([], freq="M")
    months = pd.period_range(index[0], index[-1], freq="M")
    keep = []
    for m in months:
        days = business_days(m.start_time.date(), m.end_time.date())
        if len(days) and index[0] <= pd.Timestamp(days[0]) and index[-1] >= pd.Timestamp(days[-1]):
            keep.append(m)
    return pd.PeriodIndex(keep, freq="M")


def _sim(daily: pd.DataFrame) -> pd.DataFrame:
    d = daily.copy()
    d["date"] = pd.to_datetime(d["date"])
    return d.set_index("date")


@dataclass
class Check:
    """One validation check: its name, simulated and actual values, and whether it passed."""

    name: str
    simulated: str
    actual: str
    passed: bool


@dataclass
class Validation:
    """The validation of one replay run."""

    checks: list[Check] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)


def september_2019(daily: pd.DataFrame) -> dict[str, float]:
    """Simulated numbers of the September 2019 episode (bp; NaN when outside the run)."""
    d = _sim(daily)
    out = {k: float("nan") for k in ("median_bp", "p99_bp", "effr_bp", "first", "last")}
    if SPIKE_DAY not in d.index:
        return out
    row = d.loc[SPIKE_DAY]
    out.update(
        median_bp=float(row["repo_spread_bp"]),
        p99_bp=float(row["repo_spread_p99_bp"]),
        effr_bp=float(row["effr_spread_bp"]),
        fed_repo_ops_after=float(d.loc[SPIKE_DAY:, "fed_repo_ops"].iloc[1:4].max()),
    )
    window = d.loc[SPIKE_WINDOW[0] : SPIKE_WINDOW[1], "repo_spread_bp"]
    hot = window.index[window > SPIKE_DAYS_BP]
    days = list(window.index)
    if len(hot):
        out["first"] = float(days.index(hot[0]) - days.index(SPIKE_DAY))
        out["last"] = float(days.index(hot[-1]) - days.index(SPIKE_DAY))
    return out


def monthly_spreads(daily: pd.DataFrame, actual: pd.DataFrame, column: str) -> pd.DataFrame:
    """Monthly medians of a spread to IOER (bp), simulated and actual, outside period ends."""
    d = _sim(daily)
    calm = ~_period_end_mask(d.index)
    sim = d.loc[calm, column]
    act_col = "sofr_spread_bp" if column == "repo_spread_bp" else "effr_spread_bp"
    act = actual.set_index(d.index)[act_col][calm]
    frame = pd.DataFrame(
        {
            "simulated": sim.resample("ME").median(),
            "actual": act.resample("ME").median(),
        }
    )
    frame["error"] = frame["simulated"] - frame["actual"]
    frame.index = frame.index.to_period("M")
    return frame


def weekly_levels(daily: pd.DataFrame, actual: pd.DataFrame) -> pd.DataFrame:
    """Weekly reserves and ON RRP, simulated against WRESBAL and RRPONTSYD ($bn).

    Like with like: WRESBAL is an H.4.1 week average (the seven days to Wednesday), so the
    simulated reserves are averaged the same way (weeks that start before the run are left
    out); ON RRP is compared on the Wednesday itself. Rows are on the days that carry a
    WRESBAL observation (a holiday Wednesday's on the business day before).
    """
    d = _sim(daily)
    a = actual.set_index(d.index)
    obs = a["reserves_observed"].astype(bool)
    days = d.index[obs]
    wednesdays = days + pd.to_timedelta((2 - days.day_of_week) % 7, unit="D")
    week_avg = history.week_average(d["reserves"], pd.DatetimeIndex(wednesdays))
    frame = pd.DataFrame(
        {
            "reserves": week_avg.to_numpy(),
            "reserves_actual": a.loc[obs, "reserves"],
            "on_rrp": d.loc[obs, "on_rrp"],
            "on_rrp_actual": a.loc[obs, "on_rrp"],
        }
    )
    frame["reserves_error"] = frame["reserves"] / frame["reserves_actual"] - 1.0
    frame["on_rrp_error"] = frame["on_rrp"] - frame["on_rrp_actual"]
    frame["week"] = wednesdays  # the observation's own date (H.4.1 weeks end on Wednesday)
    return frame


def weekly_fit_by_year(weekly: pd.DataFrame, smooth_weeks: int = 5) -> pd.DataFrame:
    """The weekly checks year by year, beside how noisy the actual ON RRP is.

    The "trend" columns score the actual series' own centred `smooth_weeks`-week mean
    against it with the same $50B tolerance: how well a model that got every
    month's level right, but none of the week-to-week swings, would do.

    Args:
        weekly: `weekly_levels` rows (indexed by observation date, with a `week` column).
        smooth_weeks: width of the centred moving average.

    Returns:
        One row per year: weeks scored, share within tolerance and worst error, for
        reserves (share, %) and ON RRP ($bn), and the trend benchmark for ON RRP.
    """
    w = weekly.sort_values("week")
    year = pd.DatetimeIndex(w["week"]).year
    actual = w["on_rrp_actual"]
    trend = actual.rolling(smooth_weeks, center=True, min_periods=1).mean()
    frame = pd.DataFrame(
        {
            "r_err": w["reserves_error"].abs(),
            "o_err": w["on_rrp_error"].abs(),
            "t_err": (trend - actual).abs(),
        }
    )
    rows = {}
    for y, g in frame.groupby(year):
        r, o, t = g["r_err"].dropna(), g["o_err"].dropna(), g["t_err"].dropna()
        rows[int(y)] = {
            "weeks": float(len(o)),
            "reserves within 5%": float((r <= RESERVES_TOLERANCE).mean() * 100),
            "reserves worst %": float(r.max() * 100) if len(r) else np.nan,
            "ON RRP within $50B %": float((o <= ON_RRP_TOLERANCE).mean() * 100),
            "ON RRP worst $bn": float(o.max()),
            f"actual {smooth_weeks}-week trend within %": float(
                (t <= ON_RRP_TOLERANCE).mean() * 100
            ),
            "trend worst $bn": float(t.max()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def demand_curve(frame: pd.DataFrame, ratio: str, spread: str) -> pd.DataFrame:
    """Median spread by bin of reserves / bank assets (percent bins of 0.5 pp)."""
    x = frame[ratio] * 100.0
    y = frame[spread]
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():  # e.g. a replay of a few days: nothing to bin
        return pd.DataFrame({"median": [], "count": []})
    bins = np.arange(np.floor(x[ok].min() * 2) / 2, x[ok].max() + 0.5, 0.5)
    cut = pd.cut(x[ok], bins)
    return y[ok].groupby(cut, observed=True).agg(["median", "count"])


#: The demand-curve check needs ratios of reserves to bank assets on both sides of the kink.
CURVE_FLAT_ABOVE, CURVE_STEEP_BELOW = 0.12, 0.10


def validate(daily: pd.DataFrame) -> Validation:
    """Every validation check of a replay run (see docs/calibration.md)."""
    v = Validation()
    actual = actual_frame(daily["date"])
    d = _sim(daily)
    in_sample = (d.index >= IN_SAMPLE[0]) & (d.index <= IN_SAMPLE[1])

    s = september_2019(daily)
    v.numbers.update({f"sept_{k}": val for k, val in s.items()})
    if np.isfinite(s["median_bp"]):
        act = actual.set_index(d.index).loc[SPIKE_DAY]
        spike_checks = [
            Check(
                "17 Sep 2019 SOFR - IOER >= +100 bp",
                f"{s['median_bp']:+.0f} bp",
                f"{act['sofr_spread_bp']:+.0f} bp",
                s["median_bp"] >= SPIKE_MEDIAN_BP,
            ),
            Check(
                "17 Sep 2019 99th percentile > +300 bp",
                f"{s['p99_bp']:+.0f} bp",
                "+690 bp (9.00%)",
                s["p99_bp"] > SPIKE_P99_BP,
            ),
            Check(
                "spike (> +50 bp) starts 16-17 Sep, gone within 3 business days",
                f"days {s['first']:+.0f} to {s['last']:+.0f} around 17 Sep",
                "days -1 to +1 (16 Sep +33 bp, 18 Sep +45 bp)",
                bool(-1 <= s["first"] <= 0 and s["last"] <= 3),
            ),
            Check(
                "17 Sep 2019 EFFR above IOER",
                f"{s['effr_bp']:+.0f} bp",
                f"{act['effr_spread_bp']:+.0f} bp",
                s["effr_bp"] > 0,
            ),
        ]
        # when the spike starts and ends can be judged only on a window that shows the
        # days around it (9-27 September)
        if not _covers(d.index, *SPIKE_WINDOW):
            spike_checks.pop(2)
        v.checks += spike_checks

    # months are judged whole: two spike days are not a month's calm median
    full = _full_months(d.index)
    calm = monthly_spreads(daily, actual, "repo_spread_bp")
    calm = calm[
        (calm.index >= CALM_MONTHS[0].to_period("M"))
        & (calm.index <= CALM_MONTHS[1].to_period("M"))
        & calm.index.isin(full)
    ].dropna()
    v.tables["sofr_monthly"] = calm
    if len(calm):
        worst = float(calm["error"].abs().max())
        v.numbers["sofr_monthly_max_error_bp"] = worst
        v.checks.append(
            Check(
                "median SOFR - IOER by month (2018-04..2019-12, outside period ends) within 15 bp",
                f"largest error {worst:.1f} bp over {len(calm)} months",
                "see table",
                worst <= CALM_TOLERANCE_BP,
            )
        )
    if _covers(d.index, pd.Timestamp("2018-12-03"), YEAR_END_2018):
        dec = d.loc["2018-12-03":"2018-12-21", "repo_spread_bp"].median()
        ye = float(d.loc[YEAR_END_2018, "repo_spread_bp"])
        v.numbers["year_end_2018_bp"] = ye
        v.checks.append(
            Check(
                "year-end 2018 pressure (31 Dec spread >= December median + 10 bp)",
                f"{ye:+.0f} bp (Dec median {dec:+.0f})",
                "+60 bp (Dec median +4)",
                ye >= dec + 10,
            )
        )

    effr = monthly_spreads(daily, actual, "effr_spread_bp")
    effr = effr[
        (effr.index >= EFFR_MONTHS[0].to_period("M"))
        & (effr.index <= EFFR_MONTHS[1].to_period("M"))
        & effr.index.isin(full)
    ].dropna()
    v.tables["effr_monthly"] = effr
    if len(effr):
        worst = float(effr["error"].abs().max())
        v.numbers["effr_monthly_max_error_bp"] = worst
        v.numbers["effr_months_within"] = float((effr["error"].abs() <= EFFR_TOLERANCE_BP).mean())
        v.checks.append(
            Check(
                "EFFR - IOER by month (2017-2019) within 5 bp",
                f"largest error {worst:.1f} bp; {v.numbers['effr_months_within']:.0%} of "
                f"{len(effr)} months within",
                "see table",
                worst <= EFFR_TOLERANCE_BP,
            )
        )

    weekly = weekly_levels(daily, actual)
    # weeks by their own (Wednesday) date: the week to Wednesday 1 January 2020 is a 2020
    # observation, although a holiday places it on 31 December
    weekly = weekly[(weekly["week"] >= IN_SAMPLE[0]) & (weekly["week"] <= IN_SAMPLE[1])]
    weekly = weekly.dropna(how="all", subset=["reserves_error", "on_rrp_error"])
    v.tables["weekly"] = weekly
    # each check over the weeks it can score (a week that starts before the run has no
    # simulated week average of reserves, but its Wednesday ON RRP still counts)
    r_err = weekly["reserves_error"].dropna().abs()
    o_err = weekly["on_rrp_error"].dropna().abs()
    if len(r_err) and len(o_err):
        r_worst = float(r_err.max())
        o_worst = float(o_err.max())
        v.numbers.update(
            reserves_max_error=r_worst,
            reserves_weeks_within=float((r_err <= RESERVES_TOLERANCE).mean()),
            on_rrp_max_error=o_worst,
            on_rrp_weeks_within=float((o_err <= ON_RRP_TOLERANCE).mean()),
        )
        v.checks += [
            Check(
                "weekly reserves within 5% of WRESBAL (2017-2019)",
                f"largest error {r_worst:.1%}; {v.numbers['reserves_weeks_within']:.0%} of "
                f"{len(r_err)} weeks within",
                "WRESBAL",
                r_worst <= RESERVES_TOLERANCE,
            ),
            Check(
                "weekly ON RRP within $50B (2017-2019)",
                f"largest error ${o_worst:.0f}B; {v.numbers['on_rrp_weeks_within']:.0%} of weeks "
                "within",
                "RRPONTSYD",
                o_worst <= ON_RRP_TOLERANCE,
            ),
        ]

    if len(weekly):
        v.tables["weekly_by_year"] = weekly_fit_by_year(weekly)

    sim_curve = demand_curve(d[in_sample], "reserves_to_assets", "repo_spread_bp")
    v.tables["demand_curve_sim"] = sim_curve
    act_in = actual.set_index(d.index)[in_sample].copy()
    act_in["spread"] = act_in["sofr_spread_bp"].fillna(act_in["effr_spread_bp"])
    v.tables["demand_curve_actual"] = demand_curve(act_in, "reserves_to_assets", "spread")
    ratio = d.loc[in_sample, "reserves_to_assets"]
    # judged only on a run whose ratios cross the kink (a short window may sit on one side)
    spans_kink = (
        len(ratio) > 0 and ratio.max() >= CURVE_FLAT_ABOVE and ratio.min() <= CURVE_STEEP_BELOW
    )
    if len(sim_curve) >= 2 and spans_kink:
        spread = d.loc[in_sample, "repo_spread_bp"]
        high = spread[ratio >= ratio.quantile(0.75)]
        low = spread[ratio <= ratio.quantile(0.05)]
        v.numbers["curve_high_iqr_bp"] = float(high.quantile(0.9) - high.quantile(0.1))
        v.numbers["curve_low_p95_bp"] = float(low.quantile(0.95))
        v.numbers["curve_high_median_bp"] = float(high.median())
        v.checks.append(
            Check(
                "reserve demand curve flat at high ratios, steep below",
                f"top-quartile ratios: 10-90% range {v.numbers['curve_high_iqr_bp']:.0f} bp; "
                f"lowest 5%: 95th pct {v.numbers['curve_low_p95_bp']:+.0f} bp",
                "flat above ~12-13%, steep below (SR 1019)",
                v.numbers["curve_high_iqr_bp"] <= 15
                and v.numbers["curve_low_p95_bp"] > v.numbers["curve_high_median_bp"] + 20,
            )
        )
    return v


# --------------------------------------------------------------------------- figures
def _figure(figsize: tuple[float, float]) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _fit_ylim(ax: Any, series: list[pd.Series], lo: float, hi: float) -> None:
    """Fit the y-axis to the data, within [lo, hi].

    A spike to the dealers' fallback rate would flatten everything else; a fixed range
    flattened a short window.
    """
    values = pd.concat(series).to_numpy(float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return
    pad = max(2.0, 0.05 * (values.max() - values.min()))
    ax.set_ylim(max(lo, values.min() - pad), min(hi, values.max() + pad))


def replay_figures(daily: pd.DataFrame, out: Path) -> dict[str, Path]:
    """Figures comparing the simulated and actual series; returns name -> path."""
    from fedplumbing.sim.plots import save_figure

    d = _sim(daily)
    a = actual_frame(daily["date"]).set_index(d.index)
    paths: dict[str, Path] = {}

    fig = _figure((11, 9))
    ax1, ax2, ax3 = fig.subplots(3, 1, sharex=True)
    has = {c: bool(a[c].notna().any()) for c in a.columns}  # actual data in this window?
    ax1.plot(d.index, d["repo_spread_bp"], lw=0.8, label="simulated SOFR - IOER")
    if has["sofr_spread_bp"]:
        ax1.plot(a.index, a["sofr_spread_bp"], lw=0.8, alpha=0.8, label="actual SOFR - IOER")
    _fit_ylim(ax1, [d["repo_spread_bp"], a["sofr_spread_bp"]], -30, 350)
    ax1.set_ylabel("bp")
    ax1.legend(loc="upper left")
    ax2.plot(d.index, d["effr_spread_bp"], lw=0.8, label="simulated EFFR - IOER")
    if has["effr_spread_bp"]:
        ax2.plot(a.index, a["effr_spread_bp"], lw=0.8, alpha=0.8, label="actual EFFR - IOER")
    _fit_ylim(ax2, [d["effr_spread_bp"], a["effr_spread_bp"]], -20, 40)
    ax2.set_ylabel("bp")
    ax2.legend(loc="upper left")
    ax3.plot(d.index, d["reserves"], lw=0.8, label="simulated reserves")
    if has["reserves"]:
        ax3.plot(a.index, a["reserves"], lw=0.8, label="actual reserves (WRESBAL, week averages)")
    ax3.plot(d.index, d["on_rrp"], lw=0.8, label="simulated ON RRP")
    if has["on_rrp"]:
        ax3.plot(a.index, a["on_rrp"], lw=0.8, label="actual ON RRP")
    ax3.set_ylabel("$ billions")
    ax3.legend(loc="upper right", fontsize=8)
    for ax in (ax1, ax2, ax3):
        ax.grid(alpha=0.3)
    fig.suptitle(
        "Replay: simulated vs actual"
        if any(has[c] for c in ("sofr_spread_bp", "effr_spread_bp", "reserves", "on_rrp"))
        else "Replay: simulated (the shipped data hold no actual series for this window)"
    )
    paths["replay_vs_actual"] = save_figure(fig, out / "replay_vs_actual.png")

    if SPIKE_DAY in d.index:
        w = d.loc["2019-09-03":"2019-10-04"]
        aw = a.loc[w.index]
        fig = _figure((9, 5))
        ax = fig.subplots()
        ax.plot(w.index, w["repo_spread_bp"], "o-", label="simulated SOFR - IOER")
        ax.fill_between(
            w.index,
            w["sofr_p1"].sub(w["iorb"]) * 100,
            w["repo_spread_p99_bp"],
            alpha=0.2,
            label="simulated 1st-99th percentile",
        )
        ax.plot(aw.index, aw["sofr_spread_bp"], "s-", label="actual SOFR - IOER")
        ax.plot(w.index, w["effr_spread_bp"], "--", label="simulated EFFR - IOER")
        ax.set_ylabel("bp")
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_title("September 2019")
        paths["sept2019"] = save_figure(fig, out / "sept2019.png")

    # the calibration window where the run covers it, else the run's own days
    in_sample = (d.index >= IN_SAMPLE[0]) & (d.index <= IN_SAMPLE[1])
    if not in_sample.any():
        in_sample = np.ones(len(d), dtype=bool)
    days = d.index[in_sample]
    span = f"{days[0]:%Y-%m}..{days[-1]:%Y-%m}"
    fig = _figure((11, 4.5))
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    ax1.scatter(
        d.loc[in_sample, "reserves_to_assets"] * 100, d.loc[in_sample, "repo_spread_bp"], s=6
    )
    ax1.set_title(f"simulated ({span})")
    spread = a["sofr_spread_bp"].fillna(a["effr_spread_bp"])
    ax2.scatter(a.loc[in_sample, "reserves_to_assets"] * 100, spread[in_sample], s=6, c="C1")
    has_actual = bool(spread[in_sample].notna().any())
    ax2.set_title(
        "actual (SOFR, EFFR before 2018-04)" if has_actual else f"actual: no data for {span}"
    )
    _fit_ylim(ax1, [d.loc[in_sample, "repo_spread_bp"], spread[in_sample]], -30, 350)
    for ax in (ax1, ax2):
        ax.set_xlabel("reserves / bank assets (%)")
        ax.grid(alpha=0.3)
    ax1.set_ylabel("spread to IOER (bp)")
    fig.suptitle("Reserve demand curve")
    paths["demand_curve"] = save_figure(fig, out / "demand_curve.png")
    return paths


def counterfactual_figure(runs: dict[str, pd.DataFrame], out: Path) -> Path:
    """SOFR - IOER around September 2019 in each counterfactual scenario."""
    from fedplumbing.sim.plots import save_figure

    fig = _figure((10, 5))
    ax = fig.subplots()
    for name, daily in runs.items():
        d = _sim(daily).loc["2019-09-03":"2019-10-04"]
        ax.plot(d.index, d["repo_spread_bp"], "o-", ms=3, label=COUNTERFACTUALS.get(name, name))
    ax.axvline(SPIKE_DAY, color="0.5", lw=0.8, ls=":")
    ax.set_ylabel("SOFR - IOER (bp)")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("September 2019 counterfactuals")
    return save_figure(fig, out / "counterfactuals.png")


#: Settings of the run that the counterfactuals do not take: they keep their own window.
_WINDOW_KEYS = ("start", "end", "replay.report_from")


def counterfactual_overrides(name: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The run's `--set` overrides that counterfactual `name` takes.

    All but the window and the settings that make the counterfactual (those it sets apart
    from `sept2019`: its extra reserves, its SRF, its tax day), so that its "history" row
    is the run's own setting and each counterfactual differs from it by its change only.
    """
    if not overrides:
        return {}
    base, own = config_to_dict(load_scenario("sept2019")), config_to_dict(load_scenario(name))
    return {
        k: v
        for k, v in overrides.items()
        if k not in _WINDOW_KEYS and lookup(own, k) == lookup(base, k)
    }


def run_counterfactuals(
    seed: int | np.random.SeedSequence = 0, overrides: dict[str, Any] | None = None
) -> dict[str, pd.DataFrame]:
    """Run the built-in September 2019 scenarios; name -> daily table.

    Args:
        seed: the run's seed.
        overrides: the run's `--set` overrides; each counterfactual takes those of
            `counterfactual_overrides`.
    """
    return {
        name: run_replay(
            replay_config(name, overrides=counterfactual_overrides(name, overrides)), seed
        ).daily
        for name in COUNTERFACTUALS
    }


def counterfactual_numbers(runs: dict[str, pd.DataFrame]) -> dict[str, dict[str, Any]]:
    """Peak spread and its day, and the spread on 17 Sep, per counterfactual."""
    out = {}
    for name, daily in runs.items():
        d = _sim(daily).loc["2019-09-03":"2019-10-04"]
        peak = d["repo_spread_bp"].idxmax()
        out[name] = {
            "peak_bp": float(d["repo_spread_bp"].max()),
            "peak_day": str(peak.date()),
            "sept17_bp": float(d.loc[SPIKE_DAY, "repo_spread_bp"]),
            "srf_take_up_max": float(d["srf_take_up"].max()),
        }
    return out


# --------------------------------------------------------------------------- report
def _table(frame: pd.DataFrame, fmt: str = "{:+.1f}", index: str = "month") -> str:
    cols = list(frame.columns)
    lines = [f"| {index} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for idx, row in frame.iterrows():
        cells = [fmt.format(x) if np.isfinite(x) else "" for x in row]
        lines.append(f"| {idx} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def out_of_sample(daily: pd.DataFrame) -> pd.DataFrame:
    """Yearly summary of the run after 2019 (reported, not fitted)."""
    d = _sim(daily)
    d = d[d.index > IN_SAMPLE[1]]
    if d.empty:
        return pd.DataFrame()
    g = d.groupby(d.index.year)
    return pd.DataFrame(
        {
            "median SOFR-IORB bp": g["repo_spread_bp"].median(),
            "max SOFR-IORB bp": g["repo_spread_bp"].max(),
            "days > 25 bp": g["repo_spread_bp"].apply(lambda s: int((s > 25).sum())),
            "median EFFR-IORB bp": g["effr_spread_bp"].median(),
            "mean reserves $bn": g["reserves"].mean(),
            "mean ON RRP $bn": g["on_rrp"].mean(),
            "max SRF $bn": g["srf_take_up"].max(),
        }
    )


def validation_markdown(
    v: Validation,
    cfg: ScenarioConfig,
    seed: int | np.random.SeedSequence,
    counterfactuals: dict[str, dict[str, Any]] | None = None,
    oos: pd.DataFrame | None = None,
    figures: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> str:
    """The validation report as Markdown.

    Args:
        v: the checks and tables.
        cfg: the run's config.
        seed: the run's seed.
        counterfactuals: `counterfactual_numbers` of the counterfactual runs, if run.
        oos: the out-of-sample table, if any.
        figures: the figure files written next to the report.
        overrides: the run's `--set` overrides (the counterfactuals took them too).
    """
    from fedplumbing.sim.outputs import seed_label

    seed = seed_label(seed)  # BASE/R for a sweep's replicate
    # the first business day reported (a start on a holiday opens on the next one)
    days = business_days(cfg.replay.report_from or cfg.start, cfg.end)
    first = days[0].item() if len(days) else cfg.start
    lines = [
        f"# Replay validation: {cfg.name} ({first} to {cfg.end}, seed {seed})",
        "",
        "Inputs: H.4.1 SOMA, TGA, other autonomous factors and administered rates; "
        "everything below is produced by the agents."
        + (
            f" The run started on {cfg.start} (the window opens in the state the long replay "
            "reaches); only the window's days are reported."
            if cfg.replay.report_from is not None
            else ""
        )
        + "".join(f" Past the data: {note}." for note in history.held_inputs(cfg.end)),
        "",
        (
            f"Overall: **{'PASS' if v.passed else 'FAIL'}** "
            f"({sum(c.passed for c in v.checks)}/{len(v.checks)} checks)"
            if v.checks
            else "Overall: **no checks apply** to this window (they judge 2017-2019 history: "
            "September 2019, whole months, weeks, the 2018 year-end); the tables below are "
            "reported, not judged."
        ),
    ]
    if v.checks:
        lines += ["", "| check | simulated | actual | result |", "|---|---|---|---|"]
    for c in v.checks:
        lines.append(f"| {c.name} | {c.simulated} | {c.actual} | {'ok' if c.passed else 'FAIL'} |")
    if counterfactuals:
        lines += [
            "",
            "## September 2019 counterfactuals",
            "",
            f"Each from January 2017, seed {seed}"
            + (
                ", with this run's settings ("
                + ", ".join(f"{k} = {v}" for k, v in overrides.items())
                + ") except its window and the counterfactual's own change"
                if overrides
                else ""
            )
            + ".",
            "",
            "| scenario | 17 Sep SOFR - IOER | peak (3 Sep - 4 Oct) | peak day | max SRF use |",
            "|---|---|---|---|---|",
        ]
        for name, c in counterfactuals.items():
            lines.append(
                f"| {COUNTERFACTUALS.get(name, name)} | {c['sept17_bp']:+.0f} bp | "
                f"{c['peak_bp']:+.0f} bp | {c['peak_day']} | ${c['srf_take_up_max']:.0f}B |"
            )
    for key, title in (
        ("sofr_monthly", "Median SOFR - IOER by month, outside period ends (bp)"),
        ("effr_monthly", "Median EFFR - IOER by month, outside period ends (bp)"),
    ):
        if key in v.tables and len(v.tables[key]):
            lines += ["", f"## {title}", "", _table(v.tables[key])]
    if "weekly" in v.tables and len(v.tables["weekly"]):
        w = v.tables["weekly"]
        q = w.resample("QE").agg(
            {
                "reserves": "mean",
                "reserves_actual": "mean",
                "on_rrp": "mean",
                "on_rrp_actual": "mean",
            }
        )
        q.index = q.index.to_period("Q")
        lines += [
            "",
            "## Weekly reserves (week averages) and Wednesday ON RRP, quarterly means ($bn)",
            "",
            _table(q, "{:.0f}", "quarter"),
        ]
    if "weekly_by_year" in v.tables and len(v.tables["weekly_by_year"]):
        lines += [
            "",
            "## Weekly checks by year",
            "",
            "How noisy the target is: the last two columns score the actual ON RRP's own "
            "centred 5-week mean against it with the same $50B tolerance (a model with "
            "every month's level right but none of the week-to-week swings).",
            "",
            _table(v.tables["weekly_by_year"].round(1), "{:g}", "year"),
        ]
    for key, title in (
        ("demand_curve_sim", "Simulated reserve demand curve (median spread by ratio bin)"),
        ("demand_curve_actual", "Actual reserve demand curve"),
    ):
        if key in v.tables and len(v.tables[key]):
            t = v.tables[key].copy()
            t.index = [str(i) for i in t.index]
            lines += ["", f"## {title}", "", _table(t, "{:.1f}", "reserves / bank assets (%)")]
    if oos is not None and len(oos):
        lines += [
            "",
            "## Out of sample (after 2019; reported, not fitted; 2020-03..2021-12 inputs only)",
            "",
            _table(oos, "{:.1f}", "year"),
        ]
    lines += [
        "",
        "Figures: " + (", ".join(figures) if figures else "none") + ".",
        "",
    ]
    return "\n".join(lines)


def write_replay(
    result: RunResult,
    out: str | Path,
    *,
    counterfactuals: bool = True,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Write daily.csv, validation.md and the figures of a replay run into `out`.

    Args:
        result: the replay run.
        out: output folder.
        counterfactuals: also run the September 2019 counterfactuals.
        overrides: the run's `--set` overrides, which the counterfactuals take too (see
            `counterfactual_overrides`).
    """
    from fedplumbing.sim.outputs import daily_to_csv

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    daily_to_csv(result.daily, out / "daily.csv")
    paths["daily"] = out / "daily.csv"
    v = validate(result.daily)  # no wall time: the same run writes the same report
    paths.update(replay_figures(result.daily, out))
    cf = None
    if counterfactuals:
        runs = run_counterfactuals(result.seed, overrides)
        cf = counterfactual_numbers(runs)
        paths["counterfactuals"] = counterfactual_figure(runs, out)
    figures = [p.name for p in paths.values() if p.suffix == ".png"]
    text = validation_markdown(
        v, result.config, result.seed, cf, out_of_sample(result.daily), figures, overrides
    )
    (out / "validation.md").write_text(text)
    paths["validation"] = out / "validation.md"
    return paths
