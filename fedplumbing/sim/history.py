"""Historical series shipped with fedplumbing, and their daily paths for replay mode.

The CSV files under ``fedplumbing/data`` (see ``data/SOURCES.md``) are FRED/H.4.1 downloads:

* ``calibration/`` (2017-01 to 2020-02): reserves, Fed assets, TGA, MBS (to 2018-06), bank
  assets, ON RRP and market rates. Market outcomes after 2020-02 are deliberately **not**
  shipped; they are kept for out-of-sample checks.
* ``inputs/`` (2017-01 to 2026-08): the exogenous paths of replay mode (Fed total assets,
  Treasury holdings, TGA, other autonomous factors, administered rates).

Units after loading: US$ billions for balance-sheet series (the weekly H.4.1 series are stored in
$ millions and divided by 1,000 here), percent per year for rates.

Replay accounting (see :func:`weekly_fed_assets`): the Fed's *outright* holdings and the *net*
other autonomous factors are defined with one smooth estimate ``E`` of the Fed's other assets
(unamortised premiums, foreign currency, gold, accrued interest, ...), so that on every Wednesday

    soma_outright - tga - other_autonomous = reserves + ON RRP - fed_lending_est,

where ``fed_lending_est`` is the Fed's temporary repo lending of late 2019, which the model's
Fed must produce itself through its reaction rule (it is not fed in).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from importlib import resources

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ADMIN_RATE_COLUMNS",
    "FLOW_COLUMNS",
    "REPLAY_COLUMNS",
    "actual_outcomes",
    "distribute_weekly",
    "known_series",
    "load_admin_rates",
    "load_series",
    "replay_inputs",
    "reserves_level_correction",
    "week_average",
    "weekly_fed_assets",
]

_FOLDERS = ("calibration", "inputs")

MILLIONS_SERIES = frozenset({"WRESBAL", "WALCL", "TREAST", "WDTGAL", "MBST", "OTHER_AUTONOMOUS"})
"""Weekly H.4.1 series stored in $ millions (converted to $ billions on load)."""

ADMIN_RATE_COLUMNS = (
    "target_low",
    "target_high",
    "interest_on_reserves",
    "on_rrp_rate",
    "discount_rate",
    "srf_min_bid",
)
"""Columns of ``inputs/admin_rates.csv`` (percent per year)."""

FLOW_COLUMNS = ("soma_outright", "tga", "other_autonomous")
"""Replay columns built from weekly levels; keys accepted in ``flow_weights``."""

_RATE_RENAMES = {
    "interest_on_reserves": "iorb",
    "on_rrp_rate": "on_rrp_rate",
    "discount_rate": "discount_rate",
    "srf_min_bid": "srf_rate",
    "target_low": "target_low",
    "target_high": "target_high",
}

REPLAY_COLUMNS = (
    *FLOW_COLUMNS,
    "iorb",
    "on_rrp_rate",
    "discount_rate",
    "srf_rate",
    "target_low",
    "target_high",
)
"""Columns of :func:`replay_inputs`, in order."""

REPO_OPS_START = pd.Timestamp("2019-09-17")
"""First day of the Fed's temporary repo operations (included in WALCL from then on)."""

REPO_WINDOW_LAST = pd.Timestamp("2020-03-11")
"""Last Wednesday for which the repo operations are removed from the outright holdings.

From 2020-03-18 the pandemic purchases and facilities start; WALCL is then used as it is
(minus the other-assets estimate), with no fidelity claim (see :func:`weekly_fed_assets`).
"""

_MBS_TREND_WEEKS = 26
_OUTCOMES_START = pd.Timestamp("2017-01-03")
_OUTCOMES_END = pd.Timestamp("2020-02-29")


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #
def _data_dir() -> resources.abc.Traversable:
    return resources.files("fedplumbing").joinpath("data")


@functools.cache
def _catalogue() -> dict[str, tuple[str, ...]]:
    """Map each series name (file stem) to the folders that hold it, in search order."""
    found: dict[str, list[str]] = {}
    root = _data_dir()
    for folder in _FOLDERS:
        sub = root.joinpath(folder)
        if not sub.is_dir():
            continue
        for entry in sub.iterdir():
            if entry.name.endswith(".csv") and entry.name != "admin_rates.csv":
                found.setdefault(entry.name.removesuffix(".csv"), []).append(folder)
    return {name: tuple(folders) for name, folders in sorted(found.items())}


def known_series() -> list[str]:
    """Return the names accepted by :func:`load_series` (file stems, sorted)."""
    return list(_catalogue())


def _read_csv(folder: str, stem: str) -> pd.DataFrame:
    with _data_dir().joinpath(folder, f"{stem}.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, na_values=["."], keep_default_na=True)
    frame["observation_date"] = pd.to_datetime(frame["observation_date"], format="%Y-%m-%d")
    frame = frame.set_index("observation_date").sort_index()
    frame.index.name = "date"
    if frame.index.has_duplicates:
        raise ValueError(f"{folder}/{stem}.csv has duplicate dates")
    return frame


@functools.cache
def _load_cached(name: str, folder: str) -> pd.Series:
    frame = _read_csv(folder, name)
    series = pd.to_numeric(frame.iloc[:, 0], errors="coerce").astype("float64").dropna()
    if name in MILLIONS_SERIES:
        series = series / 1000.0
    series.name = name
    return series


def load_series(name: str, folder: str | None = None) -> pd.Series:
    """Load one shipped series by its file stem.

    Units of the result: US$ billions for the balance-sheet series (the weekly H.4.1 series
    WRESBAL, WALCL, TREAST, WDTGAL, MBST and OTHER_AUTONOMOUS are stored in $ millions and
    divided by 1,000; RRPONTSYD and TLAACBW027SBOG are stored in $ billions), percent per year
    for rates (SOFR, EFFR, DTB3, DGS10, DFEDTARL, DFEDTARU). Weekly H.4.1 series are Wednesday
    levels; TLAACBW027SBOG (H.8, seasonally adjusted) is dated Wednesdays too.

    Args:
        name: File stem, e.g. ``"WRESBAL"``, ``"SOFR"``, ``"OTHER_AUTONOMOUS"`` (case-insensitive).
        folder: ``"calibration"`` or ``"inputs"``. By default ``calibration/`` is searched first,
            then ``inputs/``: WALCL, TREAST, WDTGAL and DFEDTARL/U exist in both (identical
            where they overlap) and the default returns the 2017-01..2020-02 calibration copy;
            pass ``folder="inputs"`` for the 2017-2026 replay path.

    Returns:
        A float64 series on a DatetimeIndex (named ``date``), missing values (``"."``) dropped.

    Raises:
        KeyError: If the name (or the name in that folder) is not shipped; the message lists
            the known names.
        ValueError: If ``folder`` is not one of the two folders.

    """
    catalogue = _catalogue()
    key = name if name in catalogue else name.upper()
    if key not in catalogue:
        hint = " (use load_admin_rates())" if name.lower() == "admin_rates" else ""
        raise KeyError(f"unknown series {name!r}{hint}; known series: {', '.join(catalogue)}")
    if folder is None:
        folder = catalogue[key][0]
    elif folder not in _FOLDERS:
        raise ValueError(f"folder must be one of {_FOLDERS}, not {folder!r}")
    elif folder not in catalogue[key]:
        raise KeyError(
            f"series {key!r} is not in {folder}/ (it is in {', '.join(catalogue[key])}/)"
        )
    return _load_cached(key, folder).copy()


@functools.cache
def _admin_rates_cached() -> pd.DataFrame:
    frame = _read_csv("inputs", "admin_rates")
    missing = set(ADMIN_RATE_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(f"admin_rates.csv lacks columns {sorted(missing)}")
    return frame.loc[:, list(ADMIN_RATE_COLUMNS)].astype("float64")


def load_admin_rates() -> pd.DataFrame:
    """Load the administered rates, one row per calendar day (2017-01-01 to 2026-06-05).

    Columns (percent per year):

    * ``target_low``, ``target_high``: FOMC target range for the federal funds rate.
    * ``interest_on_reserves``: IOER to 2021-07-28, IORB from 2021-07-29.
    * ``on_rrp_rate``: ON RRP offering rate.
    * ``discount_rate``: primary credit rate.
    * ``srf_min_bid``: standing repo facility minimum bid rate; NaN before 2021-07-29 (no SRF).

    Returns:
        A float64 DataFrame on a daily DatetimeIndex named ``date``.

    """
    return _admin_rates_cached().copy()


def srf_start() -> dt.date:
    """The first day of the standing repo facility in the shipped rates (2021-07-29)."""
    return _admin_rates_cached()["srf_min_bid"].first_valid_index().date()


# --------------------------------------------------------------------------- #
# Daily-izing weekly levels
# --------------------------------------------------------------------------- #
def _as_days(days: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    arr = np.asarray(pd.DatetimeIndex(np.asarray(days)).values, dtype="datetime64[D]")
    if arr.ndim != 1:
        raise ValueError("days must be one-dimensional")
    if arr.size > 1 and not np.all(np.diff(arr) > np.timedelta64(0, "D")):
        raise ValueError("days must be strictly increasing")
    return arr


def distribute_weekly(
    levels: pd.Series,
    days: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> npt.NDArray[np.float64]:
    """Turn weekly (Wednesday) levels into a daily path without straight-line interpolation.

    The change between two consecutive observations at dates ``w0 < w1`` is spread over the
    days ``d`` with ``w0 < d <= w1`` in proportion to ``weights[d]``: the level on day ``d`` is
    ``L0 + (L1 - L0) * sum(weights over (w0, d]) / sum(weights over (w0, w1])``. So the path
    equals ``L1`` on ``w1`` (exactly), and on the last day before ``w1`` when ``w1`` is not one
    of ``days`` (a holiday Wednesday's level is the previous business day's close). Days with
    zero weight carry no change; if every weight in an interval is zero the change is spread
    uniformly. Days before the first observation hold the first level, days after the last
    observation hold the last level.

    Args:
        levels: Observed levels on a DatetimeIndex (NaN values are ignored).
        days: Strictly increasing days (``datetime64[D]`` array or anything
            ``pd.DatetimeIndex`` accepts), typically business days.
        weights: Non-negative finite weights, one per day (default: uniform).

    Returns:
        float64 array with one value per day.

    Raises:
        ValueError: On unsorted days, duplicate observation dates, a weight array of the wrong
            length, negative or non-finite weights, or no observations.

    """
    day_arr = _as_days(days)
    n = day_arr.size
    if weights is None:
        w = np.ones(n)
    else:
        w = np.asarray(weights, dtype="float64")
        if w.shape != (n,):
            raise ValueError(f"weights has shape {w.shape}, expected ({n},)")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and non-negative")
    clean = levels.dropna().sort_index()
    if clean.empty:
        raise ValueError("levels has no observations")
    if clean.index.has_duplicates:
        raise ValueError("levels has duplicate dates")
    obs = np.asarray(pd.DatetimeIndex(clean.index).values, dtype="datetime64[D]")
    val = clean.to_numpy(dtype="float64")

    out = np.empty(n, dtype="float64")
    if n == 0:
        return out
    j = np.searchsorted(obs, day_arr, side="left")  # index of the first observation >= day
    out[j == 0] = val[0]
    out[j == obs.size] = val[-1]
    inside = np.flatnonzero((j > 0) & (j < obs.size))
    if inside.size == 0:
        return out

    grp = j[inside]  # days sorted => each interval's days are contiguous
    wi = w[inside]
    starts = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    ends = np.r_[starts[1:], grp.size]
    share = np.empty(grp.size)
    for a, b in zip(starts, ends, strict=True):  # one interval per week: a short loop
        cum = np.cumsum(wi[a:b])  # within the interval, so no cancellation across weeks
        total = cum[-1]
        if total > 0.0:
            share[a:b] = np.minimum(cum / total, 1.0)
        else:
            share[a:b] = np.arange(1, b - a + 1) / (b - a)
    lo = val[grp - 1]
    hi = val[grp]
    path = lo + (hi - lo) * share
    path[ends - 1] = hi[ends - 1]  # the level reached at the observation date is exact
    out[inside] = path
    return out


# --------------------------------------------------------------------------- #
# Replay inputs
# --------------------------------------------------------------------------- #
def week_average(daily: pd.Series, wednesdays: pd.DatetimeIndex) -> pd.Series:
    """H.4.1 week averages of a daily business-day series: Thursday to Wednesday, 7 days.

    The Fed averages over the seven calendar days ending on Wednesday, a weekend or holiday
    carrying the previous business day's balance (a Friday counts three times). Weeks that
    start before the series does get NaN.

    Args:
        daily: values on business days (NaN days are filled from the day before).
        wednesdays: the weeks' last days.
    """
    daily = daily.dropna()
    if daily.empty:
        return pd.Series(np.nan, index=wednesdays)
    days = pd.date_range(daily.index[0], max(daily.index[-1], wednesdays.max()), freq="D")
    filled = daily.reindex(days).ffill()
    avg = filled.rolling(7, min_periods=7).mean()
    return avg.reindex(wednesdays)


def reserves_level_correction(wednesdays: pd.DatetimeIndex) -> pd.Series:
    """Wednesday-level reserves minus WRESBAL (a week average), estimated from daily ON RRP.

    Within a week, the Fed's assets, the TGA and currency move little next to the ON RRP's
    period-end swings, so reserves + ON RRP is taken as constant over the week: reserves on
    Wednesday = WRESBAL + (week average - Wednesday level) of ON RRP. NaN where the shipped
    daily ON RRP (2017-01-03..2020-02) does not cover the whole week.
    """
    rrp = load_series("RRPONTSYD")
    wednesday = rrp.reindex(wednesdays)
    return week_average(rrp, wednesdays) - wednesday


@functools.cache
def _weekly_fed_assets_cached() -> pd.DataFrame:
    walcl = load_series("WALCL", folder="inputs")
    treast = load_series("TREAST", folder="inputs")
    mbst = load_series("MBST")
    tga = load_series("WDTGAL", folder="inputs")
    other_aut = load_series("OTHER_AUTONOMOUS")

    weeks = walcl.index
    # OTHER_AUTONOMOUS subtracts WRESBAL, a week average, from Wednesday levels; put it on a
    # Wednesday-level footing where the daily ON RRP allows (see `reserves_level_correction`)
    other_aut = other_aut - reserves_level_correction(other_aut.index).fillna(0.0)
    nontsy = walcl - treast.reindex(weeks)  # MBS + agency debt + other assets (+ lending)

    # Other assets: linear trend of WALCL - TREAST - MBST over the MBST sample (2017-01 to
    # 2018-06), extended to the last repo-window Wednesday, flat afterwards.
    resid = (nontsy - mbst).dropna()
    t_obs = (resid.index - resid.index[0]).days.to_numpy() / 7.0
    slope, intercept = np.polyfit(t_obs, resid.to_numpy(), 1)
    t_all = (weeks - resid.index[0]).days.to_numpy() / 7.0
    t_cap = (REPO_WINDOW_LAST - resid.index[0]).days / 7.0
    other_assets = pd.Series(intercept + slope * np.minimum(t_all, t_cap), index=weeks)

    mbs = nontsy - other_assets
    clean = weeks < REPO_OPS_START
    window = (weeks >= REPO_OPS_START) & (weeks <= REPO_WINDOW_LAST)
    # MBS through the repo window: last clean estimate, then the average weekly paydown of the
    # preceding 26 weeks (repo operations are not in it).
    pre = mbs[clean]
    weekly_change = (pre.iloc[-1] - pre.iloc[-1 - _MBS_TREND_WEEKS]) / _MBS_TREND_WEEKS
    weeks_after = (weeks[window] - pre.index[-1]).days.to_numpy() / 7.0
    mbs[window] = pre.iloc[-1] + weekly_change * weeks_after
    mbs[weeks > REPO_WINDOW_LAST] = np.nan  # not identified once the pandemic operations start

    lending = pd.Series(0.0, index=weeks)
    lending[window] = (nontsy - mbs - other_assets)[window]
    soma = walcl - other_assets - lending
    treasuries = _extend_treasuries(treast.reindex(weeks), soma)
    regime = np.select([clean, window], ["clean", "repo_ops_removed"], default="walcl_inputs_only")
    frame = pd.DataFrame(
        {
            "walcl": walcl,
            "treasuries": treasuries,
            "mbs_est": mbs,
            "other_assets_est": other_assets,
            "fed_lending_est": lending,
            "soma_outright": soma,
            "tga": tga.reindex(weeks),
            "other_autonomous_gross": other_aut.reindex(weeks),
            "other_autonomous": other_aut.reindex(weeks) - other_assets,
            "regime": regime,
        },
        index=weeks,
    )
    frame.index.name = "date"
    return frame


def _extend_treasuries(treasuries: pd.Series, soma: pd.Series) -> pd.Series:
    """TREAST past its last week: SOMA less the rest of SOMA continued on its trend.

    TREAST ends before WALCL (2026-04-08 against 2026-08-26). Held flat, it would leave every
    later change of SOMA (bill purchases, MBS paydowns) to the MBS; instead the rest of SOMA
    (MBS, lending, other) continues from its last value at its average weekly change over
    the preceding 26 weeks, as the MBS does through the 2019 repo window, and Treasuries are
    SOMA less that.
    """
    known = treasuries.dropna()
    after = treasuries.index > known.index[-1]
    if not after.any():
        return treasuries
    rest = (soma - treasuries).dropna()
    weekly_change = (rest.iloc[-1] - rest.iloc[-1 - _MBS_TREND_WEEKS]) / _MBS_TREND_WEEKS
    weeks_after = (treasuries.index[after] - known.index[-1]).days.to_numpy() / 7.0
    out = treasuries.copy()
    out[after] = soma[after] - (rest.iloc[-1] + weekly_change * weeks_after)
    return out


def weekly_fed_assets() -> pd.DataFrame:
    """Weekly (Wednesday) decomposition of the Fed's assets used by :func:`replay_inputs`.

    All amounts in US$ billions. Columns:

    * ``walcl``: Fed total assets (H.4.1).
    * ``treasuries``: TREAST, outright Treasury holdings (ends 2026-04-08). Later weeks:
      ``soma_outright`` less the rest of SOMA continued at its average weekly change over
      the last 26 TREAST weeks (about -$3bn/week in 2026: MBS paydowns), so bill purchases
      go to Treasuries, not to the MBS (`_extend_treasuries`).
    * ``other_assets_est`` (``E``): other assets (unamortised premiums, foreign currency, gold,
      SDRs, accrued interest, ...). A linear trend fitted to WALCL - TREAST - MBST over
      2017-01-04..2018-06-13 (MBST is only shipped to then; residual noise about $5bn, slope
      about -$0.4bn/week), extended to 2020-03-11 and flat afterwards. Smooth by construction;
      its weekly noise ends up in ``mbs_est`` instead.
    * ``mbs_est``: MBS (and agency debt) = WALCL - TREAST - E before 2019-09-17. From
      2019-09-17 to 2020-03-11 WALCL also holds the Fed's temporary repo operations, so MBS
      continues from its 2019-09-11 value at the average weekly change of the preceding
      26 weeks (about -$4.5bn/week, i.e. paydowns). NaN after 2020-03-11.
    * ``fed_lending_est``: the repo operations removed in that window, WALCL - TREAST - MBS -
      E (about $75bn on 2019-09-18, $170-255bn in Q4 2019, peaking at year-end, consistent
      with the published operations). Zero elsewhere. This is what the model's Fed reaction
      rule should reproduce; it is *not* fed in.
    * ``soma_outright``: WALCL - E - fed_lending_est (= TREAST + MBS to 2020-03-11). From
      2020-03-18 on it is WALCL - E: it then includes all Fed lending (pandemic facilities,
      swaps, 2023 discount window and BTFP, SRF take-up such as the 2025-12-31 year-end) and
      the growth of unamortised premiums; treat 2020-03..2021-12 as inputs only, and note
      that SRF/discount-window take-up on Wednesdays after 2020 is fed in exogenously too.
      Reserve-management bill purchases (from 2019-10) are in TREAST and so in this column:
      a replay Fed must not add its own.
    * ``tga``: WDTGAL.
    * ``other_autonomous_gross``: OTHER_AUTONOMOUS = WALCL - TGA - reserves - ON RRP, i.e.
      currency, the foreign official repo pool, other liabilities and capital. Fed repo
      lending raises WALCL and reserves equally, so this series does not move with it.
      The shipped series subtracts WRESBAL, a week average, from Wednesday levels; where the
      daily ON RRP covers the week (2017-01-11..2020-02-26) it is put on a Wednesday footing
      with :func:`reserves_level_correction`. Without it, a quarter-end ON RRP spike on a
      Friday shows up as a $100-150B one-week jump of "other factors" that the replay would
      feed in as a drain of liquidity.
    * ``other_autonomous``: gross minus E, the *net* other autonomous factors. With this
      choice, on every Wednesday, soma_outright - tga - other_autonomous = reserves + ON RRP
      - fed_lending_est, so the model's own repo lending supplies the rest; E cancels out of
      the liquidity identity, its error only shifts the split between SOMA and other assets.
    * ``regime``: ``"clean"`` (before 2019-09-17), ``"repo_ops_removed"``
      (2019-09-18..2020-03-11) or ``"walcl_inputs_only"`` (later).

    Returns:
        DataFrame on the WALCL Wednesdays 2017-01-04..2026-08-26.

    """
    return _weekly_fed_assets_cached().copy()


def replay_span() -> tuple[dt.date, dt.date]:
    """First and last day a replay can cover (2017-01-01 and 2026-08-31 with the shipped data).

    The first day of the administered rates, and the end of the month of the last weekly
    balance-sheet observation (after it, the levels are held).
    """
    first = _admin_rates_cached().index[0]
    last = _weekly_fed_assets_cached().index[-1] + pd.offsets.MonthEnd(0)
    return first.date(), last.date()


def held_inputs(end: dt.date) -> list[str]:
    """How the inputs are carried past their last observation, for a replay ending at `end`.

    The shipped series end on different days (administered rates 2026-06-05, TREAST
    2026-04-08, the weekly balance sheet 2026-08-26); a replay may run to the end of the
    last month. One phrase per series that ends before `end`, for the report.
    """
    notes = []
    last_rate = _admin_rates_cached().index[-1].date()
    if end > last_rate:
        notes.append(f"administered rates after {last_rate} held at their last values")
    last_tsy = load_series("TREAST", folder="inputs").index[-1].date()
    if end > last_tsy:
        notes.append(
            f"SOMA Treasuries after {last_tsy} estimated as SOMA less its other assets on "
            "their 26-week trend"
        )
    last_week = _weekly_fed_assets_cached().index[-1].date()
    if end > last_week:
        notes.append(f"balance-sheet levels after {last_week} held")
    return notes


def replay_inputs(
    business_days: npt.ArrayLike,
    flow_weights: Mapping[str, npt.ArrayLike] | None = None,
) -> pd.DataFrame:
    """Daily exogenous paths for replay mode.

    Balance-sheet columns (US$ billions; see :func:`weekly_fed_assets` for their construction
    and approximations):

    * ``soma_outright``: the Fed's outright securities, excluding its temporary repo lending.
    * ``tga``: Treasury General Account.
    * ``other_autonomous``: currency and other autonomous liabilities net of the Fed's other
      assets. Identity on Wednesdays: ``soma_outright - tga - other_autonomous = reserves +
      ON RRP - historical Fed repo lending``.

    These match the weekly Wednesday levels exactly on Wednesdays (on a holiday Wednesday, on
    the business day before). In between, the weekly change is distributed over the business
    days in proportion to ``flow_weights[column]`` (see :func:`distribute_weekly`); days before
    2017-01-04 and after the last observation (2026-08-26) hold the nearest level.

    Administered-rate columns (percent per year, from :func:`load_admin_rates`, the value in
    force on each day; held at the last value after 2026-06-05): ``iorb`` (IOER before
    2021-07-29), ``on_rrp_rate``, ``discount_rate``, ``srf_rate`` (NaN where there is no SRF,
    before 2021-07-29), ``target_low``, ``target_high``. NaN before 2017-01-01.

    Args:
        business_days: Strictly increasing business days (``datetime64[D]``), e.g. from the
            model calendar.
        flow_weights: Optional weights per column (keys among ``soma_outright``, ``tga``,
            ``other_autonomous``), each an array with one non-negative entry per business day,
            e.g. large weights on tax dates and settlement days for the TGA. Missing keys get
            uniform weights.

    Returns:
        DataFrame indexed by the business days (DatetimeIndex named ``date``) with the columns
        of :data:`REPLAY_COLUMNS`.

    Raises:
        ValueError: For unknown ``flow_weights`` keys or malformed days/weights.

    """
    days = _as_days(business_days)
    weights = dict(flow_weights or {})
    unknown = set(weights) - set(FLOW_COLUMNS)
    if unknown:
        raise ValueError(
            f"unknown flow_weights keys {sorted(unknown)}; expected some of {FLOW_COLUMNS}"
        )
    weekly = _weekly_fed_assets_cached()
    data: dict[str, npt.NDArray[np.float64]] = {}
    for col in FLOW_COLUMNS:
        data[col] = distribute_weekly(weekly[col], days, weights.get(col))

    index = pd.DatetimeIndex(days.astype("datetime64[ns]"), name="date")
    rates = _admin_rates_cached()
    daily_rates = rates.reindex(rates.index.union(index)).ffill().reindex(index)
    daily_rates.loc[index < rates.index[0]] = np.nan
    for src, dst in _RATE_RENAMES.items():
        data[dst] = np.array(daily_rates[src], dtype="float64")  # writable copy
    # The SRF did not exist before its first date; a forward fill must not invent it.
    data["srf_rate"][index < pd.Timestamp(srf_start())] = np.nan
    return pd.DataFrame(data, index=index).loc[:, list(REPLAY_COLUMNS)]


# --------------------------------------------------------------------------- #
# Validation targets
# --------------------------------------------------------------------------- #
def _place_weekly(series: pd.Series, index: pd.DatetimeIndex) -> tuple[pd.Series, pd.Series]:
    """Forward-fill Wednesday levels to ``index``; a holiday Wednesday maps to the day before.

    Returns the filled levels and a boolean series marking the days that carry an observation.
    Observations after the last day of ``index`` are ignored.
    """
    days = index.values.astype("datetime64[D]")
    obs = series.index.values.astype("datetime64[D]")
    pos = np.searchsorted(days, obs, side="right") - 1  # last day <= observation date
    keep = (pos >= 0) & (obs <= days[-1])
    placed = np.full(index.size, np.nan)
    placed[pos[keep]] = series.to_numpy(dtype="float64")[keep]  # sorted: the latest wins
    observed = np.zeros(index.size, dtype=bool)
    observed[pos[keep]] = True
    return pd.Series(placed, index=index).ffill(), pd.Series(observed, index=index)


def actual_outcomes(business_days: npt.ArrayLike | None = None) -> pd.DataFrame:
    """Historical market outcomes for validation, daily over 2017-01..2020-02.

    Only the calibration period is shipped: market outcomes after February 2020 are kept out
    of the package for out-of-sample checks (days after 2020-02 get NaN).

    Columns:

    * ``reserves``: WRESBAL (US$ billions), H.4.1 week averages (the seven days to each
      Wednesday, see :func:`week_average`) placed on the Wednesday and forward-filled to the
      following days (NaN before the first observation, 2017-01-04). A holiday Wednesday's
      value is placed on the business day before it.
    * ``reserves_observed``: True on the days that carry a Wednesday observation.
    * ``on_rrp``: RRPONTSYD, ON RRP take-up (US$ billions, daily; NaN on the few days FRED has
      no value, e.g. around Good Friday and 2018-12-05).
    * ``sofr``: SOFR (percent; NaN before 2018-04-02).
    * ``effr``: EFFR (percent).
    * ``bank_assets``: TLAACBW027SBOG, total assets of all commercial banks (US$ billions,
      H.8, seasonally adjusted), weekly, forward-filled like ``reserves``.
    * ``iorb``: interest on reserves in force (IOER in this period; percent).

    Args:
        business_days: Days to report. Default: the days with an EFFR observation,
            2017-01-03..2020-02-28 (the New York Fed's business days).

    Returns:
        DataFrame indexed by day (DatetimeIndex named ``date``).

    """
    if business_days is None:
        effr = load_series("EFFR")
        index = pd.DatetimeIndex(
            effr.index[(effr.index >= _OUTCOMES_START) & (effr.index <= _OUTCOMES_END)],
            name="date",
        )
    else:
        index = pd.DatetimeIndex(_as_days(business_days).astype("datetime64[ns]"), name="date")
    if index.empty:
        raise ValueError("no business days given")

    reserves, observed = _place_weekly(load_series("WRESBAL"), index)
    bank_assets, _ = _place_weekly(load_series("TLAACBW027SBOG"), index)
    in_sample = index <= _OUTCOMES_END
    rates = load_admin_rates()["interest_on_reserves"]
    iorb = rates.reindex(rates.index.union(index)).ffill().reindex(index)
    frame = pd.DataFrame(
        {
            "reserves": reserves.where(in_sample),
            "reserves_observed": observed.to_numpy(),
            "on_rrp": load_series("RRPONTSYD").reindex(index),
            "sofr": load_series("SOFR").reindex(index),
            "effr": load_series("EFFR").reindex(index),
            "bank_assets": bank_assets.where(in_sample),
            "iorb": iorb.where(in_sample),
        },
        index=index,
    )
    frame.index.name = "date"
    return frame
