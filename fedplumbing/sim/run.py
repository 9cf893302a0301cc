"""Run a scenario end to end: `simulate(config, seed) -> RunResult`."""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from fedplumbing.sim.calendar import business_days
from fedplumbing.sim.config import ConfigError, ScenarioConfig
from fedplumbing.sim.model import FedPlumbingModel

#: Summary metrics of a run (see `summarize`).
SUMMARY_METRICS: tuple[str, ...] = (
    "days",
    "mean_repo_spread_bp",
    "median_repo_spread_bp",
    "p99_repo_spread_bp",
    "max_repo_spread_bp",
    "max_repo_spread_p99_bp",
    "days_spread_above_25bp",
    "days_spread_above_50bp",
    "mean_effr_spread_bp",
    "max_effr_spread_bp",
    "min_reserves",
    "final_reserves",
    "min_reserves_to_assets",
    "final_on_rrp",
    "max_srf_take_up",
    "srf_total",
    "discount_window_total",
    "fire_sale_total",
    "fed_net_income_per_year",
    "fed_remittances_per_year",
    "max_fed_deferred_asset",
    "treasury_interest_cost_per_year",
    "final_soma_wam_years",
    "final_soma_bill_share",
    "final_treasury_wam_months",
    "final_private_bill_share",
    "final_term_premium_bp",
    "max_term_premium_bp",
)


def metric_unit(name: str) -> str:
    """The unit of a summary metric (`SUMMARY_METRICS`), for axis labels and tables."""
    if name.endswith("_bp"):
        return "bp"
    if name == "days" or name.startswith("days_"):
        return "business days"
    if name.endswith(("_share", "_to_assets")):
        return "share"
    if name.endswith("_wam_years"):
        return "years"
    if name.endswith("_wam_months"):
        return "months"
    if name.endswith("_per_year"):
        return "$bn/year"
    return "$bn"


@dataclass
class RunResult:
    """The outcome of one run.

    Attributes:
        daily: one row per business day (see `DailyRecorder`).
        summary: summary metrics (`SUMMARY_METRICS`) plus dates of extremes.
        config: the scenario that was run.
        seed: the seed (int or SeedSequence) that was used.
        model: the model at the end of the run (not pickled across processes).
        fitted: settings the model solved for at its opening rather than took as given
            (`initial.hedge_fund_repo` under `initial.fit_on_rrp`), by dotted key.
    """

    daily: pd.DataFrame
    summary: dict[str, Any]
    config: ScenarioConfig
    seed: Any
    model: FedPlumbingModel | None = field(default=None, repr=False)
    fitted: dict[str, float] = field(default_factory=dict)


def summarize(daily: pd.DataFrame) -> dict[str, Any]:
    """Summary metrics of a daily frame."""
    s = daily["repo_spread_bp"]
    p99 = daily["repo_spread_p99_bp"]
    e = daily["effr_spread_bp"]
    imax = int(np.nanargmax(s.to_numpy())) if s.notna().any() else 0
    imin = int(daily["reserves"].idxmin())
    years = max(len(daily) / 252.0, 1e-9)
    return {
        "days": len(daily),
        "mean_repo_spread_bp": float(s.mean()),
        "median_repo_spread_bp": float(s.median()),
        "p99_repo_spread_bp": float(np.nanpercentile(p99, 99))
        if p99.notna().any()
        else float("nan"),
        "max_repo_spread_bp": float(s.max()),
        "max_repo_spread_date": str(daily["date"].iloc[imax].date()),
        "max_repo_spread_p99_bp": float(p99.max()),
        "days_spread_above_25bp": int((s > 25).sum()),
        "days_spread_above_50bp": int((s > 50).sum()),
        "mean_effr_spread_bp": float(e.mean()),
        "max_effr_spread_bp": float(e.max()),
        "min_reserves": float(daily["reserves"].min()),
        "min_reserves_date": str(daily["date"].iloc[imin].date()),
        "final_reserves": float(daily["reserves"].iloc[-1]),
        "min_reserves_to_assets": float(daily["reserves_to_assets"].min()),
        "final_on_rrp": float(daily["on_rrp"].iloc[-1]),
        "max_srf_take_up": float(daily["srf_take_up"].max()),
        "srf_total": float(daily["srf_take_up"].sum()),
        "discount_window_total": float(daily["discount_window_take_up"].sum()),
        "fire_sale_total": float(daily["fire_sale_funding"].sum()),
        "fed_net_income_per_year": float(daily["fed_net_income"].sum() / years),
        **_policy_summary(daily, years),
    }


def _policy_summary(daily: pd.DataFrame, years: float) -> dict[str, float]:
    """Fed income, the SOMA's and the Treasury's maturity mix, the term premium (NaN if absent)."""

    def col(name: str) -> pd.Series:
        return daily[name] if name in daily else pd.Series([float("nan")])

    return {
        "fed_remittances_per_year": float(col("fed_remittances").sum() / years),
        "max_fed_deferred_asset": float(col("fed_deferred_asset").max()),
        "treasury_interest_cost_per_year": float(col("treasury_interest_cost").sum() / years),
        "final_soma_wam_years": float(col("soma_wam_years").iloc[-1]),
        "final_soma_bill_share": float(col("soma_bill_share").iloc[-1]),
        "final_treasury_wam_months": float(col("treasury_wam_months").iloc[-1]),
        "final_private_bill_share": float(col("private_bill_share").iloc[-1]),
        "final_term_premium_bp": float(col("term_premium_bp").iloc[-1]),
        "max_term_premium_bp": float(col("term_premium_bp").max()),
    }


_MALLOC_TUNED = False


def keep_freed_memory() -> None:
    """Let glibc keep freed memory for reuse instead of giving it back to the system.

    At US scale a day allocates and frees order books of tens of thousands of entries
    (hundreds of kB each). By default glibc serves such blocks with `mmap` and unmaps them when
    they are freed, so every day page-faults them in again, which costs more than the
    arithmetic on them. Raising the mmap and trim thresholds keeps them in the heap (US-scale
    days about 1.6x faster; the peak memory is that of the largest day either way). Called
    once per process by `simulate`; does nothing where the C library is not glibc.
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED or not sys.platform.startswith("linux"):
        return
    _MALLOC_TUNED = True
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # glibc <malloc.h>
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(m_mmap_threshold, 32 << 20)
        libc.mallopt(m_trim_threshold, 128 << 20)
        libc.mallopt(m_top_pad, 16 << 20)
    except (OSError, AttributeError):  # not glibc (e.g. musl): keep its defaults
        pass


#: Printed when the model takes long to start: Numba compiles the kernels on first use.
SLOW_START_MESSAGE = (
    "fedplumbing: compiling the numerical kernels (first run after an install or an update; "
    "about a minute, then cached)..."
)


@contextmanager
def slow_start_notice(enabled: bool, after_s: float = 3.0) -> Iterator[None]:
    """Say on stderr why the start is slow when it takes more than `after_s` seconds.

    A warm start (kernels loaded from Numba's on-disk cache) takes well under a second; a
    cold one compiles them first, a minute of silence that would otherwise look like a hang.
    The timer says nothing when the block ends in time, nor when `enabled` is false.
    """
    timer = threading.Timer(
        after_s, tqdm.write, args=(SLOW_START_MESSAGE,), kwargs={"file": sys.stderr}
    )
    timer.daemon = True
    if enabled:
        timer.start()
    try:
        yield
    finally:
        timer.cancel()


def simulate(
    config: ScenarioConfig,
    seed: int | np.random.SeedSequence = 0,
    *,
    days: int | None = None,
    progress: bool = False,
    debug: bool = False,
    keep_model: bool = False,
    notices: bool = False,
) -> RunResult:
    """Run `config` for its whole calendar (or the first `days` business days).

    Args:
        config: validated scenario.
        seed: integer seed or SeedSequence; same config and seed give identical output.
        days: stop after this many business days.
        progress: show a progress bar on stderr.
        debug: check every posting and the accounting identities every day (without it,
            the identities are checked once, at the end of the run).
        keep_model: attach the final model to the result.
        notices: say on stderr why a slow start is slow (Numba compiling) even without a
            progress bar (output piped to a file); a progress bar implies it.

    Raises:
        ValueError: if `days` is below 1.
        ConfigError: `days` stops a replay before its window (`replay.report_from`) opens.
        LedgerError: the books do not balance at the end of the run (a defect of the model).
    """
    if days is not None and days < 1:
        raise ValueError(f"days: {days} is out of range (allowed: integers >= 1)")
    # a replay window's own days (policy mode does not trim: the setting is a replay's)
    first = config.replay.report_from if config.mode == "replay" else None
    if first is not None and days is not None:
        before = len(business_days(config.start, first - dt.timedelta(days=1)))
        if days <= before:
            raise ConfigError(
                f"days: {days} stops the run before replay.report_from {first} (the run "
                f"starts on {config.start}); allowed: days > {before}"
            )
    keep_freed_memory()
    with slow_start_notice(progress or notices):
        model = FedPlumbingModel(config, rng=seed, debug=debug)
        n = len(model.calendar) if days is None else min(days, len(model.calendar))
        model.step()  # the first day loads (or first compiles) most kernels
    for _ in tqdm(
        range(1, n),
        desc=config.name,
        unit="day",
        disable=not progress,
        mininterval=0.5,
        leave=False,
        total=n,
        initial=1,
    ):
        model.step()
    if not debug:
        # the books at the end of the last day: each balance sheet balances, every
        # instrument's holdings sum to what is outstanding, no account is overdrawn (debug
        # has checked every day; the check costs about a third of a day, so here it runs once)
        model.ledger.check()
    daily = model.recorder.frame()
    if first is not None:  # a window after a warm-up: its own days only
        keep = pd.to_datetime(daily["date"]) >= pd.Timestamp(first)
        daily = daily[keep].reset_index(drop=True)
    fitted = {}
    if config.initial.fit_on_rrp and config.mode == "policy":  # (a replay's book grows instead)
        fitted["initial.hedge_fund_repo"] = model.config.initial.hedge_fund_repo
    kept = model if keep_model else None
    return RunResult(daily, summarize(daily), config, seed, kept, fitted)
