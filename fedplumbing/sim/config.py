"""Scenario configuration: typed, validated at the edge, loaded from TOML.

A scenario is a tree of frozen dataclasses. Every numeric field declares its unit and its
allowed range; `validate` checks types, ranges, finiteness and cross-field rules (an ON RRP
rate above interest on reserves, an end before a start) and raises one `ConfigError` whose
message names the field and the allowed values.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import math
import tomllib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fedplumbing.sim.calendar import business_days

SCENARIO_PACKAGE = "fedplumbing.experiments.scenarios"


class ConfigError(ValueError):
    """A scenario or override is invalid; the message is one line for the user."""


def param(
    default: Any, lo: float | None = None, hi: float | None = None, unit: str = "", doc: str = ""
) -> Any:
    """Declare a dataclass field with its allowed range, unit and meaning."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "unit": unit, "doc": doc})


def _list(default: list, doc: str = "") -> Any:
    return field(default_factory=lambda: list(default), metadata={"doc": doc})


@dataclass(frozen=True)
class Population:
    """How many agents of each kind."""

    banks: int = param(400, 2, 20000, "", "number of banks")
    mmfs: int = param(60, 1, 5000, "", "number of government money-market funds")
    dealers: int = param(24, 1, 200, "", "number of primary dealers")
    fhlbs: int = param(11, 1, 50, "", "number of Federal Home Loan Banks")
    repo_active_banks: int = param(
        30, 1, 20000, "", "largest banks that lend directly in the repo market"
    )
    fed_funds_active_banks: int = param(
        200, 1, 20000, "", "largest banks that lend in fed funds (all banks can borrow)"
    )


@dataclass(frozen=True)
class Initial:
    """Opening balance sheet aggregates ($ billions)."""

    reserves: float = param(
        2300.0,
        0,
        20000,
        "$bn",
        "bank reserve balances (above 0 in policy mode); with the Fed's assets given, currency "
        "is what balances them (more reserves, less currency)",
    )
    on_rrp: float = param(150.0, 0, 5000, "$bn", "ON RRP take-up (MMFs and FHLBs)")
    tga: float = param(250.0, 0, 3000, "$bn", "Treasury General Account")
    soma_bills: float = param(0.0, 0, 10000, "$bn", "SOMA Treasury bills")
    soma_coupons: float = param(2450.0, 0, 10000, "$bn", "SOMA Treasury notes and bonds")
    soma_coupon_shares: list[float] = _list(
        [0.20, 0.30, 0.30, 0.20],
        "SOMA coupon mix: shares under 1y, 1-3y, 3-10y and over 10y remaining maturity",
    )
    mbs: float = param(1750.0, 0, 10000, "$bn", "SOMA agency MBS")
    bank_assets: float = param(16500.0, 100, 100000, "$bn", "total assets of all banks")
    bank_treasuries_share: float = param(
        0.12, 0, 0.5, "share", "banks' Treasury holdings / bank assets"
    )
    mmf_assets: float = param(2500.0, 1, 20000, "$bn", "government MMF assets")
    mmf_bill_share: float = param(0.30, 0, 0.9, "share", "MMF T-bill holdings / MMF assets")
    dealer_inventory: float = param(250.0, 0, 5000, "$bn", "dealers' Treasury inventory")
    hedge_fund_repo: float = param(
        1200.0, 0, 5000, "$bn", "dealers' reverse repo lending to hedge funds"
    )
    fit_on_rrp: bool = param(
        False,
        doc="choose the opening hedge-fund book (hedge_fund_repo is the first guess) so that "
        "day one ends with on_rrp at the ON RRP: the stated reserves / ON RRP split is then "
        "the agents' own choice, not a first-day jump (policy mode; a replay opens from the "
        "data)",
    )
    fhlb_liquidity: float = param(
        120.0, 0, 2000, "$bn", "FHLB overnight liquidity (fed funds + ON RRP)"
    )
    fhlb_advances: float = param(700.0, 0, 3000, "$bn", "FHLB advances to banks")
    private_bills: float = param(2000.0, 0, 30000, "$bn", "Treasury bills held privately")
    private_coupons: float = param(
        12000.0, 0, 60000, "$bn", "Treasury notes and bonds held privately"
    )
    fed_capital: float = param(40.0, 0, 1000, "$bn", "Fed capital")


@dataclass(frozen=True)
class RateChange:
    """A change of administered rates taking effect on `date` (percent per year)."""

    date: dt.date = param(dt.date(2018, 1, 2), doc="effective date")
    iorb: float | None = param(None, -1, 25, "%", "interest on reserve balances")
    on_rrp: float | None = param(None, -1, 25, "%", "ON RRP offering rate")
    srf: float | None = param(None, -1, 25, "%", "SRF minimum bid rate")
    discount: float | None = param(None, -1, 25, "%", "discount (primary credit) rate")


@dataclass(frozen=True)
class Rates:
    """Administered rates of the corridor (percent per year)."""

    iorb: float = param(
        1.50, -1, 25, "%", "interest on reserve balances (until a rates.changes entry sets it)"
    )
    on_rrp: float = param(1.25, -1, 25, "%", "ON RRP offering rate (until rates.changes sets it)")
    srf: float = param(1.75, -1, 25, "%", "SRF minimum bid rate (until rates.changes sets it)")
    discount: float = param(
        2.25, -1, 25, "%", "discount (primary credit) rate (until rates.changes sets it)"
    )
    changes: list[RateChange] = _list([], "scheduled rate changes (they override the above)")


@dataclass(frozen=True)
class RunoffStep:
    """Runoff caps in force from `date` ($ billions per month)."""

    date: dt.date = param(dt.date(2018, 1, 2), doc="effective date")
    treasury_cap: float = param(30.0, 0, 1e6, "$bn/month", "Treasury runoff cap")
    mbs_cap: float = param(20.0, 0, 1e6, "$bn/month", "MBS runoff cap")
    rmp: float = param(0.0, 0, 1e4, "$bn/month", "reserve-management bill purchases")
    mbs_reinvestment: str | None = param(
        None, doc="treasuries | bills | mbs | none from this date (none given: unchanged)"
    )


@dataclass(frozen=True)
class Fed:
    """The Fed's balance-sheet rules, facilities and reaction function."""

    treasury_cap: float = param(
        30.0, 0, 1e6, "$bn/month", "Treasury runoff cap (until the first fed.runoff step)"
    )
    mbs_cap: float = param(
        20.0, 0, 1e6, "$bn/month", "MBS runoff cap (until the first fed.runoff step)"
    )
    rmp: float = param(
        0.0, 0, 1e4, "$bn/month", "reserve-management bill purchases (until fed.runoff sets it)"
    )
    runoff: list[RunoffStep] = _list([], "changes of caps over time (they override the above)")
    qt_end: dt.date | None = param(None, doc="date runoff stops (full reinvestment after)")
    treasury_reinvestment: str = param("coupons", doc="coupons | bills")
    mbs_reinvestment: str = param("treasuries", doc="treasuries | bills | mbs | none")
    mortgage_rate: float = param(4.5, 0, 25, "%", "30-year mortgage rate")
    mbs_coupon: float = param(3.5, 0, 25, "%", "average coupon of the SOMA MBS book")
    soma_coupon_yield: float = param(2.4, 0, 25, "%", "average coupon of SOMA notes and bonds")
    on_rrp_cap: float = param(30.0, 0, 1e4, "$bn", "ON RRP per-counterparty cap")
    srf_enabled: bool = param(False, doc="standing repo facility available")
    srf_stigma_bp: float = param(100.0, 0, 5000, "bp", "SRF stigma cost")
    srf_haircut: float = param(0.02, 0, 0.5, "share", "SRF haircut on Treasuries")
    discount_stigma_bp: float = param(
        600.0, 0, 5000, "bp", "discount-window stigma (cost of a shortfall)"
    )
    repo_ops_trigger_bp: float | None = param(
        None,
        0,
        5000,
        "bp",
        "repo spread to IORB that triggers Fed repo operations the next day (None: no reaction)",
    )
    repo_ops_size: float = param(75.0, 0, 5000, "$bn", "size of a Fed repo operation")
    repo_ops_days: int = param(20, 1, 2000, "days", "days operations continue once triggered")
    repo_ops_first_size: float | None = param(
        None,
        0,
        5000,
        "$bn",
        "size of the first operation, growing to repo_ops_size over repo_ops_ramp_days "
        "(None: full size from the start)",
    )
    repo_ops_ramp_days: int = param(
        0, 0, 2000, "days", "business days over which operations grow to repo_ops_size"
    )


@dataclass(frozen=True)
class TgaStep:
    """A TGA target in force from `date` (debt-ceiling drawdowns and rebuilds)."""

    date: dt.date = param(dt.date(2018, 1, 2), doc="effective date")
    target: float = param(350.0, 0, 3000, "$bn", "TGA target from this date")
    adjustment_days: float | None = param(
        None, 1, 500, "days", "days over which issuance closes the gap (none: the default)"
    )
    bill_share: float | None = param(
        None, 0, 1, "share", "share of net issuance in bills (none: the default)"
    )


@dataclass(frozen=True)
class Treasury:
    """Treasury cash management, issuance and taxes."""

    tga_target: float = param(350.0, 0, 3000, "$bn", "TGA target")
    tga_adjustment_days: float = param(
        20.0, 1, 500, "days", "days over which issuance closes the TGA gap"
    )
    deficit_per_year: float = param(
        900.0,
        -5000,
        10000,
        "$bn/year",
        "deficit: outlays (with interest to private holders) less taxes",
    )
    bill_share: float = param(0.35, 0, 1, "share", "share of net issuance in bills")
    coupon_rollover: float = param(
        45.0, 0, 2000, "$bn", "private coupons maturing and refinanced per coupon settlement day"
    )
    bill_rollover: float = param(
        100.0, 0, 5000, "$bn", "private bills maturing and refinanced per bill settlement"
    )
    corporate_tax: float = param(90.0, 0, 2000, "$bn", "receipts on a corporate tax date")
    individual_tax: float = param(120.0, 0, 2000, "$bn", "receipts on the individual tax day")
    corporate_tax_day: int = param(15, 1, 28, "day", "day of month of corporate taxes")
    corporate_tax_months: list[int] = _list([3, 4, 6, 9, 12], "months of corporate taxes")
    individual_tax_month: int = param(4, 1, 12, "month", "month of the individual tax day")
    individual_tax_day: int = param(15, 1, 28, "day", "day of the individual tax day")
    dealer_takedown: float = param(
        0.55, 0, 1, "share", "share of coupon auctions taken down by dealers"
    )
    bill_mmf_takedown: float = param(0.40, 0, 1, "share", "share of bill auctions bought by MMFs")
    average_debt_rate: float = param(2.3, 0, 25, "%", "average interest rate on public debt")
    tga_schedule: list[TgaStep] = _list([], "TGA targets over time (debt-ceiling episodes)")
    response: str = param(
        "none", doc="response to a Fed rolling coupons into bills: none | A | B (see docs)"
    )
    gdp: float = param(30000.0, 100, 1e6, "$bn", "nominal GDP at the start (term premium)")
    gdp_growth: float = param(0.0, -0.5, 1, "share/year", "nominal GDP growth")
    private_coupon_shares: list[float] = _list(
        [0.13, 0.24, 0.45, 0.18],
        "privately held notes and bonds: shares under 1y, 1-3y, 3-10y and over 10y",
    )
    coupon_spread_bp: float = param(
        50.0, -1000, 2000, "bp", "yield of new coupons over IORB (before term-premium changes)"
    )
    term_premium_bp_per_pct_gdp: float = param(
        10.0, 0, 100, "bp", "10y term premium per 1% of GDP of private 10-year equivalents"
    )


@dataclass(frozen=True)
class Banks:
    """Bank behaviour (Poole-style liquidity management)."""

    lclor_share: float = param(
        0.05, 0, 0.5, "share", "mean lowest comfortable level of reserves / bank assets"
    )
    lclor_dispersion: float = param(0.5, 0, 3, "log-sd", "dispersion of LCLoR shares")
    lclor_scale: float = param(1.0, 0, 10, "x", "multiplier on every bank's LCLoR")
    big_bank_lclor_premium: float = param(0.5, 0, 5, "x", "extra LCLoR share of repo-active banks")
    small_bank_buffer: float = param(
        1.0, 0, 20, "x", "opening reserves of smaller banks above their LCLoR, as a multiple"
    )
    shock_share: float = param(
        0.006,
        0,
        0.05,
        "share",
        "end-of-day payment shock s.d. / bank assets (above 0.05 a shock of a few s.d. could "
        "take more than a bank's deposits)",
    )
    size_tail: float = param(1.1, 0.3, 5, "Pareto alpha", "tail index of bank sizes")
    balance_sheet_cost_bp: float = param(
        4.0, 0, 500, "bp", "cost of expanding the balance sheet overnight"
    )
    cost_dispersion_bp: float = param(3.0, 0, 500, "bp", "dispersion of balance-sheet costs")
    quarter_end_cost_bp: float = param(
        15.0, 0, 1000, "bp", "extra balance-sheet cost of foreign banks at quarter-ends"
    )
    year_end_cost_bp: float = param(25.0, 0, 2000, "bp", "extra cost of all banks at year-end")
    foreign_share: float = param(0.3, 0, 1, "share", "share of banks that are foreign")
    arbitrage_cost_bp: float = param(
        7.0, 0, 500, "bp", "all-in cost of fed-funds arbitrage for foreign banks"
    )
    deposit_beta: float = param(0.9, 0, 1, "share", "share of bank assets funded by deposits")


@dataclass(frozen=True)
class MoneyFunds:
    """Money-market fund behaviour."""

    repo_premium_bp: float = param(2.0, 0, 500, "bp", "premium over ON RRP to lend in repo")
    premium_dispersion_bp: float = param(2.0, 0, 500, "bp", "dispersion of repo premiums")
    tax_redemption_share: float = param(
        0.012, 0, 0.5, "share", "redemptions on a corporate tax date / MMF assets"
    )
    flow_volatility: float = param(0.002, 0, 0.2, "share", "daily flow s.d. / MMF assets")
    size_tail: float = param(1.2, 0.3, 5, "Pareto alpha", "tail index of MMF sizes")
    liquidity_buffer: float = param(0.02, 0, 0.5, "share", "cash kept unlent / assets")
    max_repo_share: float = param(0.35, 0, 1, "share", "usual share of assets lent in private repo")
    switch_spread_bp: float = param(
        8.0, 0, 500, "bp", "extra spread over ON RRP that moves ON RRP cash to repo"
    )


@dataclass(frozen=True)
class Dealers:
    """Primary dealer behaviour."""

    size_tail: float = param(1.3, 0.3, 5, "Pareto alpha", "tail index of dealer sizes")
    fire_sale_cost_bp: float = param(
        800.0, 0, 10000, "bp", "cost over IORB of raising cash without repo"
    )
    elastic_share: float = param(
        0.05, 0, 1, "share", "share of dealers' funding need they cut rather than pay up for"
    )
    elastic_spread_bp: float = param(
        25.0, 0, 5000, "bp", "spread over IORB above which dealers cut that share"
    )
    distribution_days: float = param(
        4.0, 0.1, 100, "days", "half-life of auction inventory sold to investors"
    )
    foreign_share: float = param(
        0.5, 0, 1, "share", "share of dealers owned by foreign banks (they window-dress)"
    )
    quarter_end_capacity: float = param(
        0.85,
        0.1,
        1,
        "share",
        "foreign dealers' hedge-fund repo book at quarter-ends, as a share of its trend",
    )
    month_end_capacity: float = param(
        1.0,
        0.1,
        1,
        "share",
        "foreign dealers' hedge-fund repo book at other month-ends, as a share of its trend",
    )
    quarter_end_window_days: int = param(
        5,
        0,
        40,
        "business days",
        "days before a quarter-end over which foreign dealers shrink toward that capacity",
    )
    haircut: float = param(0.02, 0, 0.5, "share", "haircut on Treasuries in private repo")
    hedge_fund_growth: float = param(0.0, -1, 5, "share/year", "growth of hedge-fund repo")


@dataclass(frozen=True)
class Fhlbs:
    """Federal Home Loan Bank behaviour."""

    premium_bp: float = param(3.0, 0, 500, "bp", "premium over ON RRP to lend fed funds")
    fed_funds_share: float = param(0.7, 0, 1, "share", "max share of liquidity in fed funds")
    corridor_share: float = param(
        0.0,
        0,
        1,
        "share",
        "FHLBs' fed funds ask adds this share of the IORB - ON RRP spread to the premium",
    )
    repo_discount_bp: float | None = param(
        None,
        -100,
        500,
        "bp",
        "FHLBs ask in fed funds at least the last repo rate (of a day not a month-end) less "
        "this (None: ON RRP + premium only)",
    )


@dataclass(frozen=True)
class Flows:
    """Exogenous flows of the non-modelled sectors."""

    currency_growth: float = param(80.0, -1000, 2000, "$bn/year", "growth of currency")
    mmf_growth: float = param(0.0, -1, 5, "share/year", "trend growth of MMF assets")


@dataclass(frozen=True)
class Markets:
    """Microstructure of the daily call markets."""

    sessions: int = param(40, 1, 500, "", "intraday sessions per market")
    repo_imbalance: float = param(
        0.05, 0, 0.95, "share", "front-loading of repo demand (early settlement)"
    )
    fed_funds_imbalance: float = param(0.10, 0, 0.95, "share", "front-loading of fed funds demand")


@dataclass(frozen=True)
class Replay:
    """Historical replay driving (used when mode = "replay")."""

    fidelity_gap_start: dt.date = param(
        dt.date(2020, 3, 1), doc="start of the 'inputs only' pandemic window"
    )
    fidelity_gap_end: dt.date = param(dt.date(2021, 12, 31), doc="end of that window")
    history_corporate_tax_day: int = param(
        15,
        1,
        28,
        "day",
        "day of month of corporate tax receipts in the historical TGA (their lumps are taken "
        "out there and put back on the scenario's tax dates, treasury.corporate_tax_day)",
    )
    tax_next_day_share: float = param(
        0.5,
        0,
        1,
        "share",
        "share of tax-date receipts reaching the TGA the next business day (TT&L call)",
    )
    extra_reserves: float = param(
        0.0, -2000, 5000, "$bn", "counterfactual: extra SOMA holdings (and reserves) every day"
    )
    srf_over_iorb_bp: float | None = param(
        None,
        -100,
        1000,
        "bp",
        "counterfactual: SRF rate = IORB + this every day (None: the SRF where it existed)",
    )
    initial_from_history: bool = param(
        True,
        doc="set the opening balances from the data on the first business day (every "
        "command and the model do this; once done the flag is off, so it is done once)",
    )
    report_from: dt.date | None = param(
        None,
        doc="first day reported: the run starts at start and its output keeps the days from "
        "here on, so a window opens in the state the long replay reaches (fedplumbing replay "
        "--start sets it)",
    )
    tga_bill_share: float = param(
        0.0,
        0,
        1,
        "share",
        "share of the TGA's smoothed change financed by net bill issuance (the rest: the "
        "public pays or is paid directly)",
    )
    tga_smoothing_days: int = param(
        10, 1, 120, "days", "trailing window (business days) of the TGA trend that bills finance"
    )
    coupon_purchases_from: dt.date | None = param(
        dt.date(2020, 3, 16),
        doc="from this day the Fed's purchases are notes and bonds (the FOMC's decision of 15 "
        "March 2020); before it, bills while the public has bills to sell (the reserve-"
        "management purchases of late 2019), coupons beyond (None: so throughout)",
    )


@dataclass(frozen=True)
class ScenarioConfig:
    """A complete scenario: dates, populations, opening balances, policy and behaviour."""

    name: str = param("default", doc="scenario name")
    description: str = param("", doc="one-line description")
    mode: str = param("policy", doc="policy | replay")
    start: dt.date = param(dt.date(2018, 1, 2), doc="first business day")
    end: dt.date = param(dt.date(2021, 12, 31), doc="last day")
    population: Population = field(default_factory=Population)
    initial: Initial = field(default_factory=Initial)
    rates: Rates = field(default_factory=Rates)
    fed: Fed = field(default_factory=Fed)
    treasury: Treasury = field(default_factory=Treasury)
    banks: Banks = field(default_factory=Banks)
    mmfs: MoneyFunds = field(default_factory=MoneyFunds)
    dealers: Dealers = field(default_factory=Dealers)
    fhlbs: Fhlbs = field(default_factory=Fhlbs)
    flows: Flows = field(default_factory=Flows)
    markets: Markets = field(default_factory=Markets)
    replay: Replay = field(default_factory=Replay)


CHOICES: dict[str, tuple[str, ...]] = {
    "mode": ("policy", "replay"),
    "fed.treasury_reinvestment": ("coupons", "bills"),
    "fed.mbs_reinvestment": ("treasuries", "bills", "mbs", "none"),
    "treasury.response": ("none", "A", "B"),
}


# --------------------------------------------------------------------------- building
@functools.cache
def type_hints(cls: type) -> dict[str, Any]:
    """`typing.get_type_hints` of a settings class, resolved once (a sweep builds thousands)."""
    return typing.get_type_hints(cls)


def _type_name(tp: Any) -> str:
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if tp is dt.date:
        return "a date (YYYY-MM-DD)"
    return getattr(tp, "__name__", str(tp))


def _toml_error(text: str) -> str:
    """Why `text` is not a TOML value, with a hint at the usual mistakes."""
    try:
        tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError as exc:
        return f"{str(exc).split(' (at ')[0]}; dates are YYYY-MM-DD, strings in quotes"
    return "not a list"


def shown(value: Any) -> str:
    """A value as a message shows it: dates in ISO form, numbers without rounding."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return repr(value) if isinstance(value, str) else str(value)


def _coerce(value: Any, tp: Any, path: str, meta: dict) -> Any:
    """Convert a TOML value to the declared type, or raise ConfigError."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        return _coerce(value, args[0], path, meta)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if isinstance(value, str) and value[:1] in ("[", "{"):  # a list TOML could not read
            raise ConfigError(f"{path}: {value!r} is not a valid TOML list ({_toml_error(value)})")
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {shown(value)}")
        return [_coerce(v, item_tp, f"{path}[{i}]", meta) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a table of settings, got {value!r}")
        return _build(tp, value, path)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConfigError(f"{path}: expected true or false, got {value!r}")
    if tp in (int, float):
        wrong_type = f"{path}: expected {_type_name(tp)}, got {shown(value)}{_range(meta)}"
        if isinstance(value, bool):
            raise ConfigError(wrong_type)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(wrong_type) from None
        if not isinstance(value, int | float):
            raise ConfigError(wrong_type)
        if not math.isfinite(value):
            raise ConfigError(f"{path}: must be a finite number, got {value!r}{_range(meta)}")
        if tp is int and not isinstance(value, int) and float(value) != int(value):
            raise ConfigError(f"{path}: expected an integer, got {value!r}{_range(meta)}")
        lo, hi = meta.get("lo"), meta.get("hi")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(f"{path}: {shown(value)} is out of range{_range(meta)}")
        return int(value) if tp is int else float(value)
    if tp is dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigError(f"{path}: expected a date (YYYY-MM-DD), got {shown(value)}")
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {shown(value)}")
        allowed = CHOICES.get(path)
        if allowed and value not in allowed:
            raise ConfigError(
                f"{path}: {value!r} is not allowed; choose one of {', '.join(allowed)}"
            )
        return value
    raise ConfigError(f"{path}: unsupported type")  # pragma: no cover


def _range(meta: dict) -> str:
    lo, hi = meta.get("lo"), meta.get("hi")
    unit = f" {meta['unit']}" if meta.get("unit") else ""
    if lo is not None and hi is not None:
        return f" (allowed: {lo:g} to {hi:g}{unit})"
    return ""


def _build(cls: type, data: dict, prefix: str = "") -> Any:
    hints = type_hints(cls)
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in data if k not in names]
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(
            f"unknown setting '{where}{unknown[0]}'; allowed in "
            f"[{prefix or 'top level'}]: {', '.join(names)}"
        )
    for key in _REQUIRED.get(cls, ()):
        if key not in data:
            where = f"{prefix}." if prefix else ""
            raise ConfigError(f"{where}{key}: required (the date it takes effect, YYYY-MM-DD)")
    kwargs = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        kwargs[key] = _coerce(value, hints[key], path, dict(names[key].metadata))
    return cls(**kwargs)


#: Settings without a sensible default: a scheduled change must say when it happens.
_REQUIRED: dict[type, tuple[str, ...]] = {RateChange: ("date",), RunoffStep: ("date",)}


def _check_rates(prefix: str, iorb: float, on_rrp: float, srf: float, disc: float) -> None:
    if on_rrp > iorb:
        raise ConfigError(
            f"{prefix}on_rrp: ON RRP rate {on_rrp:g}% is above interest on "
            f"reserves {iorb:g}%; allowed: on_rrp <= iorb"
        )
    if srf < iorb:
        raise ConfigError(
            f"{prefix}srf: SRF rate {srf:g}% is below interest on reserves "
            f"{iorb:g}%; allowed: srf >= iorb"
        )
    if disc < iorb:
        raise ConfigError(
            f"{prefix}discount: discount rate {disc:g}% is below interest on "
            f"reserves {iorb:g}%; allowed: discount >= iorb"
        )


#: The calendar's range (its holiday rules look a year ahead of the last day).
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def validate(cfg: ScenarioConfig) -> ScenarioConfig:
    """Check cross-field rules; return the config unchanged or raise ConfigError."""
    for name, day in (("start", cfg.start), ("end", cfg.end)):
        if not FIRST_DATE <= day <= LAST_DATE:
            raise ConfigError(
                f"{name}: {day} is out of range (allowed: {FIRST_DATE} to {LAST_DATE})"
            )
    if cfg.end < cfg.start:
        raise ConfigError(f"end: {cfg.end} is before start {cfg.start}; allowed: end >= start")
    report_from = cfg.replay.report_from
    if report_from is not None and not cfg.start <= report_from <= cfg.end:
        raise ConfigError(
            f"replay.report_from: {report_from} is outside the run; allowed: {cfg.start} to "
            f"{cfg.end}"
        )
    first = cfg.start if report_from is None else report_from  # the days reported
    if business_days(first, cfg.end).size == 0:
        raise ConfigError(
            f"end: no business day from start {first} to end {cfg.end} (weekends and "
            "Federal Reserve holidays); allowed: a range with at least one business day"
        )
    for name, steps in (
        ("rates.changes", cfg.rates.changes),
        ("fed.runoff", cfg.fed.runoff),
        ("treasury.tga_schedule", cfg.treasury.tga_schedule),
    ):
        dates = [step.date for step in steps]
        if len(set(dates)) != len(dates):
            twice = sorted(d for d in set(dates) if dates.count(d) > 1)[0]
            raise ConfigError(
                f"{name}: two entries share the date {twice}; allowed: one entry per date "
                "(put every change of that day in one entry)"
            )
    r = cfg.rates
    _check_rates("rates.", r.iorb, r.on_rrp, r.srf, r.discount)
    iorb, on_rrp, srf, disc = r.iorb, r.on_rrp, r.srf, r.discount
    last = None
    for i, ch in enumerate(sorted(r.changes, key=lambda c: c.date)):
        iorb = ch.iorb if ch.iorb is not None else iorb
        on_rrp = ch.on_rrp if ch.on_rrp is not None else on_rrp
        srf = ch.srf if ch.srf is not None else srf
        disc = ch.discount if ch.discount is not None else disc
        _check_rates(f"rates.changes[{i}] ({ch.date}).", iorb, on_rrp, srf, disc)
        last = ch.date
    del last
    shares = cfg.initial.soma_coupon_shares
    if len(shares) != 4 or any(s < 0 for s in shares) or abs(sum(shares) - 1) > 1e-6:
        raise ConfigError(
            "initial.soma_coupon_shares: need 4 non-negative shares summing to 1 "
            f"(under 1y, 1-3y, 3-10y, over 10y), got {shares}"
        )
    months = cfg.treasury.corporate_tax_months
    if any(not 1 <= m <= 12 for m in months) or len(set(months)) != len(months):
        raise ConfigError(
            f"treasury.corporate_tax_months: months must be distinct 1-12, got {months}"
        )
    p = cfg.population
    if p.repo_active_banks > p.banks:
        raise ConfigError(
            f"population.repo_active_banks: {p.repo_active_banks} exceeds "
            f"population.banks {p.banks}; allowed: 1 to {p.banks}"
        )
    if p.fed_funds_active_banks > p.banks:
        raise ConfigError(
            f"population.fed_funds_active_banks: {p.fed_funds_active_banks} exceeds "
            f"population.banks {p.banks}; allowed: 1 to {p.banks}"
        )
    if cfg.initial.reserves <= 0 and cfg.mode == "policy":
        meta = {f.name: f.metadata for f in dataclasses.fields(Initial)}["reserves"]
        raise ConfigError(
            f"initial.reserves: {shown(cfg.initial.reserves)} is out of range in policy mode "
            f"(allowed: above 0 to {meta['hi']:g} {meta['unit']})"
        )
    _check_treasury_debt(cfg.treasury)
    allowed = CHOICES["fed.mbs_reinvestment"]
    for i, step in enumerate(cfg.fed.runoff):
        if step.mbs_reinvestment is not None and step.mbs_reinvestment not in allowed:
            raise ConfigError(
                f"fed.runoff[{i}].mbs_reinvestment: {step.mbs_reinvestment!r} is not allowed; "
                f"choose one of {', '.join(allowed)}"
            )
    return cfg


def _check_treasury_debt(t: Treasury) -> None:
    """Rules of the Treasury's debt settings (coupon mix, TGA schedule)."""
    shares = t.private_coupon_shares
    if len(shares) != 4 or any(s < 0 for s in shares) or abs(sum(shares) - 1) > 1e-6:
        raise ConfigError(
            "treasury.private_coupon_shares: need 4 non-negative shares summing to 1 "
            f"(under 1y, 1-3y, 3-10y, over 10y), got {shares}"
        )


# --------------------------------------------------------------------------- public API
CALIBRATION_PACKAGE = "fedplumbing.calibration"
CALIBRATION_FILE = "calibrated.toml"
#: Sections of a scenario the calibrated parameter file may set (behaviour, not policy).
CALIBRATED_SECTIONS = (
    "banks",
    "mmfs",
    "dealers",
    "fhlbs",
    "markets",
    "flows",
    "initial",
    "replay",
)


@functools.cache
def _calibration_text() -> str | None:
    ref = resources.files(CALIBRATION_PACKAGE).joinpath(CALIBRATION_FILE)
    return ref.read_text() if ref.is_file() else None


def calibrated_layer() -> dict:
    """The calibrated behavioural parameters (``fedplumbing/calibration/calibrated.toml``).

    Returns the ``[parameters]`` table of the file, restricted to `CALIBRATED_SECTIONS`, as
    nested dicts ({} when the file is absent). `from_dict` puts it under every scenario, so
    the default configuration uses the calibrated values; a scenario's own settings win.
    """
    return copy.deepcopy(_calibrated_parameters())


@functools.cache
def _calibrated_parameters() -> dict:
    """`calibrated_layer`, read and checked once per process (callers get copies)."""
    text = _calibration_text()
    if text is None:
        return {}
    params = _read_toml(text, CALIBRATION_FILE).get("parameters", {})
    unknown = [k for k in params if k not in CALIBRATED_SECTIONS]
    if unknown:
        raise ConfigError(
            f"{CALIBRATION_FILE}: section [parameters.{unknown[0]}] is not calibrated; "
            f"allowed: {', '.join(CALIBRATED_SECTIONS)}"
        )
    return params


def from_dict(data: dict, calibrated: bool = True) -> ScenarioConfig:
    """Build and validate a scenario from a plain dict (e.g. parsed TOML).

    Args:
        data: the settings.
        calibrated: put the calibrated behavioural parameters (`calibrated_layer`) under
            `data` (settings in `data` win).
    """
    if calibrated:
        data = _merge(calibrated_layer(), data)
    return validate(_build(ScenarioConfig, data))


def scenario_names() -> list[str]:
    """Names of the built-in scenarios."""
    root = resources.files(SCENARIO_PACKAGE)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def _read_toml(text: str, where: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None


def load_scenario(name_or_path: str | Path | None = None) -> ScenarioConfig:
    """Load a built-in scenario by name, or a TOML file by path.

    Args:
        name_or_path: built-in name (see `fedplumbing scenarios`) or a path; None = default.

    Raises:
        ConfigError: unknown scenario, missing file, invalid TOML or invalid settings.

    """
    name = "default" if name_or_path is None else str(name_or_path)
    own_name = None  # a file's: its stem, unless it sets `name`
    if name in scenario_names():
        text = resources.files(SCENARIO_PACKAGE).joinpath(f"{name}.toml").read_text()
        where = f"scenario '{name}'"
    else:
        path = Path(name)
        if path.is_dir():
            raise ConfigError(
                f"scenario: '{name}' is a folder; give a scenario file (TOML) or a built-in "
                f"scenario ({', '.join(scenario_names())})"
            )
        if not path.is_file():
            raise ConfigError(
                f"scenario: '{name}' is neither a built-in scenario "
                f"({', '.join(scenario_names())}) nor an existing file"
            )
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{path}: not a scenario file (not UTF-8 text)") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
        where, own_name = str(path), path.stem
    data = _read_toml(text, where)
    if own_name is not None:
        # it was labelled "default" without `extends`, though it then starts from the
        # settings' own defaults
        data.setdefault("name", own_name)
    seen = {name}
    base = data.pop("extends", None)
    while base is not None:  # built-ins may extend built-ins that extend others
        if base not in scenario_names() or base in seen:
            raise ConfigError(
                f"{where}: extends: '{base}' is not a built-in scenario (or extends itself); "
                f"choose one of {', '.join(scenario_names())}"
            )
        seen.add(base)
        parent = _read_toml(
            resources.files(SCENARIO_PACKAGE).joinpath(f"{base}.toml").read_text(),
            f"scenario '{base}'",
        )
        base = parent.pop("extends", None)
        data = _merge(parent, data)
    try:
        return from_dict(data)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def setting_unit(key: str) -> str:
    """The unit of a dotted setting (e.g. "$bn" for ``initial.reserves``; "" if none)."""
    node: Any = ScenarioConfig
    meta: Any = {}
    for part in key.split("."):
        fields = (
            {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else {}
        )
        if part not in fields:
            return ""
        meta = fields[part].metadata
        node = type_hints(node).get(part)
    return str(meta.get("unit", "") or "")


def parse_override(text: str) -> tuple[str, Any]:
    """Parse `KEY=VALUE` from the command line (VALUE is read as a TOML value)."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. fed.treasury_cap=50")
    key, raw = text.split("=", 1)
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # text (a list setting given text says why, `_coerce`)
    return key, value


def apply_overrides(cfg: ScenarioConfig, overrides: dict[str, Any]) -> ScenarioConfig:
    """Return a copy of `cfg` with dotted-key overrides applied and validated.

    Args:
        cfg: base scenario.
        overrides: e.g. ``{"fed.treasury_cap": 50, "banks.lclor_scale": 1.2}``.

    """
    data = config_to_dict(cfg, native=True)
    for key, value in overrides.items():
        parts = key.split(".")
        node = data
        for depth, part in enumerate(parts[:-1]):
            if not isinstance(node.get(part), dict):
                where = ".".join(parts[:depth]) or "top level"
                sections = ", ".join(k for k, v in node.items() if isinstance(v, dict))
                allowed = (
                    f"sections in [{where}]: {sections}"
                    if sections
                    else f"[{where}] has no sections; its settings: {', '.join(node)}"
                )
                raise ConfigError(f"unknown setting '{key}'; {allowed}")
            node = node[part]
        if parts[-1] not in node:
            section = ".".join(parts[:-1]) or "top level"
            raise ConfigError(f"unknown setting '{key}'; allowed in [{section}]: {', '.join(node)}")
        node[parts[-1]] = value  # checked against the setting's type by `from_dict`
    return from_dict(data)


#: Settings that a dated schedule of the scenario also sets: (schedule, its step's field).
_SCHEDULED = {
    "fed.treasury_cap": ("fed.runoff", "treasury_cap"),
    "fed.mbs_cap": ("fed.runoff", "mbs_cap"),
    "fed.rmp": ("fed.runoff", "rmp"),
    "fed.mbs_reinvestment": ("fed.runoff", "mbs_reinvestment"),
    "rates.iorb": ("rates.changes", "iorb"),
    "rates.on_rrp": ("rates.changes", "on_rrp"),
    "rates.srf": ("rates.changes", "srf"),
    "rates.discount": ("rates.changes", "discount"),
}


#: Settings a replay takes from the data instead (checked: they leave its output unchanged).
_REPLAY_DRIVEN = (
    "rates.",
    "fed.treasury_cap",
    "fed.mbs_cap",
    "fed.rmp",
    "fed.runoff",
    "fed.qt_end",
    "fed.mbs_reinvestment",
    "fed.treasury_reinvestment",
    "treasury.tga_target",
    "treasury.tga_schedule",
)
#: Opening balances a replay reads from the data (`replay.opening_from_history`).
_OPENED_FROM_DATA = frozenset(
    f"initial.{name}"
    for name in ("reserves", "on_rrp", "tga", "soma_bills", "soma_coupons", "mbs", "bank_assets")
)


#: (setting, its facility's switch, whether the facility is off, why the setting does nothing).
_FACILITY_TERMS = (
    *(
        (
            f"fed.{term}",
            "fed.srf_enabled",
            lambda cfg: not cfg.fed.srf_enabled,
            "the SRF is off in this scenario (turn it on there, or with --set "
            "fed.srf_enabled=true on run, compare or replay)",
        )
        for term in ("srf_stigma_bp", "srf_haircut")
    ),
    *(
        (
            f"fed.{term}",
            "fed.repo_ops_trigger_bp",
            lambda cfg: cfg.fed.repo_ops_trigger_bp is None,
            "the Fed's repo operations are off in this scenario (fed.repo_ops_trigger_bp "
            "turns them on, in the scenario or with --set)",
        )
        for term in ("repo_ops_size", "repo_ops_days", "repo_ops_first_size", "repo_ops_ramp_days")
    ),
)


def schedule_notes(cfg: ScenarioConfig) -> list[str]:
    """Notes for dated schedule entries after the scenario's end: they never apply."""
    schedules = {
        "rates.changes": cfg.rates.changes,
        "fed.runoff": cfg.fed.runoff,
        "treasury.tga_schedule": cfg.treasury.tga_schedule,
    }
    notes = []
    for name, steps in schedules.items():
        late = sorted(step.date for step in steps if step.date > cfg.end)
        if len(late) == 1:
            notes.append(
                f"{name}: the entry dated {late[0]} is after the end {cfg.end} and never applies"
            )
        elif late:
            notes.append(
                f"{name}: {len(late)} entries (from {late[0]}) are after the end {cfg.end} "
                "and never apply"
            )
    return notes


def override_notes(cfg: ScenarioConfig, keys: Iterable[str]) -> list[str]:
    """Notes for settings in `keys` that change part of the run, or none of it.

    `fed.treasury_cap` (and the other caps) hold only until the first `fed.runoff` step,
    the rates until the first `rates.changes` entry that sets them (no note when `keys`
    also replace the schedule itself); `replay.*` settings do nothing in policy mode; in a
    replay the data drive the rates, the Fed's portfolio, the TGA and the opening balances,
    so settings of those do nothing; a schedule in `keys` with entries after the end
    (`schedule_notes`).
    """
    keys = set(keys)
    notes = [text for _, text, _ in _override_notes(cfg, keys)]
    # a schedule given here whose entries fall after the end (`check` notes them for files)
    return notes + [n for n in schedule_notes(cfg) if n.split(":", 1)[0] in keys]


def settings_without_effect(cfg: ScenarioConfig, keys: Iterable[str]) -> dict[str, str]:
    """The settings in `keys` that change nothing in `cfg`'s run, with why (`override_notes`)."""
    return {key: reason for key, _, reason in _override_notes(cfg, keys) if reason is not None}


def _override_notes(cfg: ScenarioConfig, keys: Iterable[str]) -> list[tuple[str, str, str | None]]:
    """(setting, note, why it has no effect at all or None) for `override_notes`."""
    keys = set(keys)
    notes: list[tuple[str, str, str | None]] = []
    if cfg.mode == "replay":
        for key in sorted(keys):
            if key.startswith(_REPLAY_DRIVEN):
                reason = (
                    "a replay takes the administered rates, the Fed's portfolio and the TGA "
                    "from the data"
                )
                notes.append((key, f"{key} has no effect: {reason}", reason))
            elif key in _OPENED_FROM_DATA and cfg.replay.initial_from_history:
                reason = (
                    "a replay opens from the data (--set replay.initial_from_history=false "
                    "keeps the scenario's opening)"
                )
                notes.append((key, f"{key} has no effect: {reason}", reason))
        return notes
    if cfg.mode == "policy":
        for key in sorted(k for k in keys if k.startswith("replay.")):
            reason = "the scenario runs in policy mode (replay settings apply to mode = 'replay')"
            notes.append((key, f"{key} has no effect: {reason}", reason))
    # a facility's terms when the facility is off (its own switch is not among `keys`)
    for key, switch, off, reason in _FACILITY_TERMS:
        if key in keys and switch not in keys and off(cfg):
            notes.append((key, f"{key} has no effect: {reason}", reason))
    for key in sorted(keys & set(_SCHEDULED)):
        schedule, field = _SCHEDULED[key]
        if schedule in keys:
            continue
        steps = cfg.fed.runoff if schedule == "fed.runoff" else cfg.rates.changes
        dates = [step.date for step in steps if getattr(step, field) is not None]
        if not dates or min(dates) > cfg.end:
            continue
        first = min(dates)
        drop = f" (--set {schedule}=[] drops that schedule)"
        if first <= cfg.start:
            reason = f"the scenario's {schedule} sets it from {first}{drop}"
            notes.append((key, f"{key} has no effect: {reason}", reason))
        else:
            text = f"{key} holds until {first} only; from then the scenario's {schedule} sets it"
            notes.append((key, text + drop, None))
    return notes


def lookup(data: dict, key: str) -> Any:
    """The value at dotted `key` in a config's plain data (`config_to_dict`); None if absent."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def config_to_dict(cfg: Any, native: bool = False) -> Any:
    """Plain-data view of a config (dates as ISO strings unless `native`)."""
    if dataclasses.is_dataclass(cfg):
        return {
            f.name: config_to_dict(getattr(cfg, f.name), native) for f in dataclasses.fields(cfg)
        }
    if isinstance(cfg, list):
        return [config_to_dict(v, native) for v in cfg]
    if isinstance(cfg, dt.date) and not native:
        return cfg.isoformat()
    return cfg


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value))


def config_hash(cfg: ScenarioConfig) -> str:
    """Stable short hash of a config (same settings, same hash)."""
    blob = json.dumps(config_to_dict(cfg), sort_keys=True, default=_json_default)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def describe_fields(cls: type = ScenarioConfig, prefix: str = "") -> list[tuple[str, str, str]]:
    """List (dotted name, allowed range/unit, meaning) of every setting, for docs."""
    rows = []
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            rows.extend(describe_fields(tp, f"{path}."))
            continue
        meta = f.metadata
        allowed = _range(dict(meta)).strip(" ()").replace("allowed: ", "")
        if path in CHOICES:
            allowed = " | ".join(CHOICES[path])
        rows.append((path, allowed, meta.get("doc", "")))
    return rows
