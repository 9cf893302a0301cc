"""Replay mode: history drives the Fed's balance sheet, the TGA, other factors and the rates.

The daily paths come from the shipped H.4.1 data (`fedplumbing.sim.history`): weekly
Wednesday levels are placed on business days with calendar weights (SOMA runoff on coupon
settlement days, TGA tax receipts as lumps on the tax dates), so Wednesdays match exactly.
Each morning the driver steers the *stocks* to the day's path with ordinary postings:

* SOMA Treasuries and MBS: purchases from / sales to the public (reserves move with them);
  purchases are bills while the public has bills to sell, then coupons, and only coupons
  from `replay.coupon_purchases_from` (16 March 2020, when the Fed's purchases became notes
  and bonds); runoff takes the shortest coupons first, then bills;
* other autonomous factors (currency, foreign repo pool, capital net of other assets): the
  currency instrument, so that currency + Fed equity follows the path;
* the TGA: auctions still settle on their days (dealers take down coupons, money funds buy
  bills, the public redeems). A share `replay.tga_bill_share` of the TGA's trend (its
  trailing `replay.tga_smoothing_days`-day mean) is financed by net bill issuance: a
  rebuild adds bills to the auctions, which money funds buy with cash that would otherwise
  sit in repo or at the ON RRP; a drawdown (the debt ceiling) pays bills off. A Treasury
  <-> public payment closes the rest of the gap, so the TGA still follows its path.

Everything else is left to the agents: the split of liquidity between reserves and ON RRP,
repo and fed funds rates, facility use, and the Fed's temporary repo operations (its
reaction rule), which history's WALCL holds but the replay inputs exclude.

Counterfactuals use the same paths: `treasury.corporate_tax_day` moves the tax receipts
(they are taken out of the TGA path on the historical rule's dates, `replay.history_
corporate_tax_day`, and put back on the scenario's), `replay.extra_reserves` adds reserves
through extra SOMA holdings, `replay.srf_over_iorb_bp` prices an SRF off IORB.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fedplumbing.agents.fed import AdministeredRates
from fedplumbing.sim import flows, history, securities
from fedplumbing.sim.calendar import Calendar, CalendarRules, business_days
from fedplumbing.sim.config import ConfigError, ScenarioConfig, apply_overrides
from fedplumbing.sim.ledger import Leg
from fedplumbing.sim.payments import FED, PUBLIC

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel

#: Relative weight of a coupon settlement day when placing a week's SOMA and TGA changes.
SETTLEMENT_WEIGHT = 4.0
#: Margin of business days around the run used to place the weekly levels.
_PAD = dt.timedelta(days=21)


def _lumps(cal: Calendar, corporate: float, individual: float, next_day: float) -> np.ndarray:
    """Tax receipts reaching the TGA each day ($bn).

    A share `next_day` arrives the business day after the tax date: payments parked in
    banks' Treasury tax and loan accounts are called into the TGA the next day.
    """
    due = corporate * cal.is_corporate_tax_date + individual * cal.is_individual_tax_date
    out = (1.0 - next_day) * due
    out[1:] += next_day * due[:-1]
    return out


def _bill_financing(tga: np.ndarray, settlement: np.ndarray, window: int) -> np.ndarray:
    """Net bill issuance that finances the TGA's trend, placed on bill settlement days ($bn).

    The trend is the trailing `window`-day mean of the TGA path, so a tax date's lump is
    financed (bills paid down) gradually over the following weeks, not on the day it lands;
    each settlement day issues the trend's change since the previous settlement day.
    """
    csum = np.concatenate([[0.0], np.cumsum(tga)])
    n = np.arange(1, len(tga) + 1)
    lo = np.maximum(n - window, 0)
    trend = (csum[n] - csum[lo]) / (n - lo)
    days = np.flatnonzero(settlement)
    out = np.zeros(len(tga))
    out[days[1:]] = np.diff(trend[days])
    return out


def check_window(start: dt.date, end: dt.date) -> None:
    """Refuse a replay window that leaves the shipped data (`history.replay_span`).

    Raises:
        ConfigError: naming ``start`` or ``end`` and the allowed dates.
    """
    first, last = history.replay_span()
    if start < first:
        raise ConfigError(f"start: {start} is before the replay's data; allowed: {first} to {last}")
    if end > last:
        raise ConfigError(f"end: {end} is after the replay's data; allowed: {first} to {last}")


def replay_paths(model: FedPlumbingModel) -> pd.DataFrame:
    """Daily exogenous paths of a replay run, one row per business day of the model.

    Columns ($bn, percent): ``soma_outright``, ``treasuries``, ``mbs``, ``tga``,
    ``net_bills`` (net bill issuance financing the TGA trend, on bill settlement days),
    ``other_autonomous``, ``iorb``, ``on_rrp_rate``, ``srf_rate``, ``discount_rate``.
    """
    cfg = model.config
    rp, t = cfg.replay, cfg.treasury
    start, end = model.calendar.start, model.calendar.end
    check_window(start, end)
    rules = model.calendar.rules
    hist_rules = CalendarRules(
        corporate_tax_months=rules.corporate_tax_months,
        corporate_tax_day=rp.history_corporate_tax_day,
        individual_tax_month=rules.individual_tax_month,
        individual_tax_day=rules.individual_tax_day,
    )
    # the bill-financed TGA trend looks back `tga_smoothing_days`: pad enough for it
    pad = max(_PAD, dt.timedelta(days=7 * rp.tga_smoothing_days // 5 + 14))
    grid_hist = Calendar.build(start - pad, end + _PAD, hist_rules)
    grid = Calendar.build(start - pad, end + _PAD, rules)
    days = grid.dates
    settle = 1.0 + SETTLEMENT_WEIGHT * grid.is_coupon_settlement
    base = history.replay_inputs(days, {"soma_outright": settle, "other_autonomous": None})
    weekly = history.weekly_fed_assets()

    # TGA: take the tax lumps out of the weekly levels on the historical dates, place the
    # rest with settlement weights, and put the lumps back on the scenario's tax dates.
    lumps_hist = np.cumsum(
        _lumps(grid_hist, t.corporate_tax, t.individual_tax, rp.tax_next_day_share)
    )
    lumps_model = np.cumsum(_lumps(grid, t.corporate_tax, t.individual_tax, rp.tax_next_day_share))
    tga_w = weekly["tga"].dropna()
    obs = tga_w.index.values.astype("datetime64[D]")
    pos = np.searchsorted(days, obs, side="right") - 1
    inside = (pos >= 0) & (obs <= days[-1])
    resid = pd.Series(tga_w.to_numpy()[inside] - lumps_hist[pos[inside]], index=tga_w.index[inside])
    if resid.empty:  # the whole run lies after the last observation
        resid = pd.Series([float(tga_w.iloc[-1]) - lumps_hist[-1]], index=tga_w.index[-1:])
    tga = history.distribute_weekly(resid, days, settle) + lumps_model
    treasuries = history.distribute_weekly(weekly["treasuries"].dropna(), days, settle)
    soma = base["soma_outright"].to_numpy() + rp.extra_reserves
    treasuries = np.minimum(treasuries + rp.extra_reserves, soma)
    tga = np.maximum(tga, 0.0)
    net_bills = _bill_financing(tga, grid.is_bill_settlement, rp.tga_smoothing_days)

    frame = pd.DataFrame(
        {
            "soma_outright": soma,
            "treasuries": treasuries,
            "mbs": soma - treasuries,
            "tga": tga,
            "net_bills": rp.tga_bill_share * net_bills,
            "other_autonomous": base["other_autonomous"].to_numpy(),
            "iorb": base["iorb"].to_numpy(),
            "on_rrp_rate": base["on_rrp_rate"].to_numpy(),
            "srf_rate": base["srf_rate"].to_numpy(),
            "discount_rate": base["discount_rate"].to_numpy(),
        },
        index=pd.DatetimeIndex(days.astype("datetime64[ns]"), name="date"),
    )
    frame = frame.reindex(pd.DatetimeIndex(model.calendar.dates.astype("datetime64[ns]")))
    if frame[["iorb", "on_rrp_rate", "discount_rate"]].isna().any().any():
        raise ValueError(
            f"replay: no administered rates for part of {start}..{end}; "
            "history covers 2017-01-01 onwards"
        )
    return frame


class ReplayDriver:
    """Drives a run from the historical paths (see the module docstring).

    Args:
        model: the model (its calendar and config are read once).

    Attributes:
        paths: the daily exogenous paths (`replay_paths`).
    """

    def __init__(self, model: FedPlumbingModel) -> None:
        self.paths = replay_paths(model)
        self._cols = {c: self.paths[c].to_numpy() for c in self.paths.columns}

    def _today(self, model: FedPlumbingModel, col: str) -> float:
        return float(self._cols[col][model.day])

    def rates(self, model: FedPlumbingModel) -> AdministeredRates:
        """Historical IOER/IORB, ON RRP and discount rates; the SRF where it existed.

        With `replay.srf_over_iorb_bp` set, the SRF is priced at IORB plus that spread
        every day (a counterfactual); otherwise its rate is infinite (no SRF) on days before
        the facility existed.
        """
        iorb = self._today(model, "iorb")
        rp = model.config.replay
        if rp.srf_over_iorb_bp is not None:
            srf = iorb + rp.srf_over_iorb_bp / 100.0
        else:
            srf = self._today(model, "srf_rate")
            srf = float("inf") if not np.isfinite(srf) else srf
        return AdministeredRates(
            iorb=iorb,
            on_rrp=self._today(model, "on_rrp_rate"),
            srf=srf,
            discount=self._today(model, "discount_rate"),
        )

    def exogenous_flows(self, model: FedPlumbingModel) -> None:
        """Money-fund flows (tax-day redemptions) and the other autonomous factors."""
        cal, day = model.calendar, model.day
        flows.hedge_fund_flows(model)
        flows.mmf_flows(
            model, bool(cal.is_corporate_tax_date[day] and model.config.treasury.corporate_tax > 0)
        )
        led = model.ledger
        target = self._today(model, "other_autonomous") - float(led.equity(FED))
        flows.currency_flow(model, target - float(led.owed("currency", FED)))

    def securities(self, model: FedPlumbingModel) -> None:
        """SOMA to its path, auctions on their days, dealer sales, then the TGA to its path."""
        self._steer_soma(model)
        cal, day, t = model.calendar, model.day, model.config.treasury
        if cal.is_bill_settlement[day]:
            net = self._today(model, "net_bills")
            securities.redeem_private(model, "bills", t.bill_rollover + max(-net, 0.0))
            securities.settle_auction(model, "bills", t.bill_rollover + max(net, 0.0))
        if cal.is_coupon_settlement[day]:
            securities.redeem_private(model, "coupons", t.coupon_rollover)
            securities.settle_auction(model, "coupons", t.coupon_rollover)
        securities.dealer_distribution(model)
        gap = self._today(model, "tga") - float(model.ledger.held("tga", 1))
        if abs(gap) > 1e-9:
            flows.treasury_payment(model, "Treasury net receipts", -gap)

    def _steer_soma(self, model: FedPlumbingModel) -> None:
        led, pay, soma = model.ledger, model.payments, model.fed.soma
        d_tsy = self._today(model, "treasuries") - float(
            led.held("bills", FED) + led.held("coupons", FED)
        )
        d_mbs = self._today(model, "mbs") - float(led.held("mbs", FED))
        if abs(d_tsy) > 1e-9:
            coupons = float(led.held("coupons", FED))
            if d_tsy > 0:
                # bills while the public has bills to sell (the reserve-management purchases
                # of late 2019), coupons beyond, and only coupons once the Fed's purchases
                # were notes and bonds (`replay.coupon_purchases_from`; bought as bills, the
                # $1.5T of March-April 2020 left the public short of bills by $257B)
                since = model.config.replay.coupon_purchases_from
                if since is not None and model.date >= since:
                    d_bills = 0.0
                else:
                    d_bills = min(d_tsy, max(float(led.held("bills", PUBLIC)), 0.0))
                d_coupons = d_tsy - d_bills
                soma.buy_bills(d_bills)
                soma.buy_coupons(d_coupons)
            else:
                d_coupons = max(d_tsy, -coupons)
                d_bills = d_tsy - d_coupons
                _sell_front(soma.coupons, -d_coupons)
                _sell_front(soma.bills, -d_bills)
            delta = pay.zeros()
            delta[PUBLIC] = d_tsy
            pay.pay(
                "SOMA purchases" if d_tsy > 0 else "SOMA runoff",
                delta,
                Leg(FED, led.asset("bills"), d_bills),
                Leg(FED, led.asset("coupons"), d_coupons),
                Leg(PUBLIC, led.asset("bills"), -d_bills),
                Leg(PUBLIC, led.asset("coupons"), -d_coupons),
                amount=abs(d_tsy),
            )
        if abs(d_mbs) > 1e-9:
            soma.mbs += d_mbs
            delta = pay.zeros()
            delta[PUBLIC] = d_mbs
            pay.pay(
                "MBS purchases" if d_mbs > 0 else "MBS paydowns",
                delta,
                Leg(FED, led.asset("mbs"), d_mbs),
                Leg(PUBLIC, led.liability("mbs"), d_mbs),
                amount=abs(d_mbs),
            )


def _sell_front(ladder: np.ndarray, amount: float) -> None:
    """Take `amount` off a maturity ladder, shortest maturities first (in place)."""
    if amount <= 0:
        return
    cum = np.cumsum(ladder)
    take = np.clip(amount - (cum - ladder), 0.0, ladder)
    ladder -= take


def opening_from_history(cfg: ScenarioConfig) -> ScenarioConfig:
    """`cfg` with its opening balances taken from the data at its start date.

    Reserves and ON RRP come from WRESBAL / RRPONTSYD where shipped (to 2020-02); later
    their sum comes from the replay identity (SOMA - TGA - other factors) and starts all in
    reserves. Bank assets come from H.8 (its last value after it ends). Nothing changes unless
    `replay.initial_from_history` is set and the mode is "replay"; the config returned has
    the flag off, so applying this twice (the replay command, then the model) opens once.
    """
    if cfg.mode != "replay" or not cfg.replay.initial_from_history:
        return cfg
    check_window(cfg.start, cfg.end)
    # the books open on the run's first business day, whatever calendar day `start` names:
    # a start on a holiday or weekend (1 January) reads the data of the day the run opens
    days = business_days(cfg.start, cfg.end)[:1]
    start = pd.Timestamp(days[0])
    base = history.replay_inputs(days)
    weekly = history.weekly_fed_assets()
    tsy = weekly["treasuries"].dropna()
    treasuries = float(history.distribute_weekly(tsy, days)[0])
    soma = float(base["soma_outright"].iloc[0])
    tga = float(base["tga"].iloc[0])
    liquidity = soma - tga - float(base["other_autonomous"].iloc[0])
    lookback = pd.bdate_range(start - pd.Timedelta(days=14), start).values
    actual = history.actual_outcomes(lookback).ffill().iloc[-1:]
    reserves = float(actual["reserves"].iloc[0])
    on_rrp = float(actual["on_rrp"].iloc[0])
    if not np.isfinite(reserves):
        res = history.load_series("WRESBAL")
        after = res[res.index >= start]
        reserves = float(after.iloc[0]) if not after.empty and start.year < 2020 else np.nan
    if not np.isfinite(on_rrp):
        on_rrp = 0.0
    if not np.isfinite(reserves):
        reserves = max(liquidity - on_rrp, 1.0)
    overrides: dict[str, float | bool] = {
        "replay.initial_from_history": False,
        "initial.reserves": reserves,
        "initial.on_rrp": on_rrp,
        "initial.tga": tga,
        "initial.soma_bills": 0.0,
        "initial.soma_coupons": min(treasuries, soma),
        "initial.mbs": max(soma - treasuries, 0.0),
    }
    bank_assets = float(actual["bank_assets"].iloc[0])
    if not np.isfinite(bank_assets):
        # after H.8 ends (2020-02): its last value, not the scenario's 2017-sized default
        h8 = history.load_series("TLAACBW027SBOG")[:start].dropna()
        bank_assets = float(h8.iloc[-1]) if not h8.empty else np.nan
    if np.isfinite(bank_assets):
        overrides["initial.bank_assets"] = bank_assets
    # the scenario's money-fund and hedge-fund books are those of the first data week; a
    # later start opens with them grown at the scenario's trend rates since then
    years = max((start - weekly.index[0]).days, 0) / 365.25
    ini = cfg.initial
    overrides["initial.mmf_assets"] = ini.mmf_assets * (1 + cfg.flows.mmf_growth) ** years
    overrides["initial.hedge_fund_repo"] = (
        ini.hedge_fund_repo * (1 + cfg.dealers.hedge_fund_growth) ** years
    )
    try:
        return apply_overrides(cfg, overrides)
    except ConfigError as exc:
        # a grown book beyond its range names a number nobody set: say where it came from
        grown = {
            "initial.mmf_assets": ("flows.mmf_growth", cfg.flows.mmf_growth),
            "initial.hedge_fund_repo": ("dealers.hedge_fund_growth", cfg.dealers.hedge_fund_growth),
        }
        for key, (rate, value) in grown.items():
            if str(exc).startswith(key + ":"):
                raise ConfigError(
                    f"{exc}; a replay from {start.date()} opens with {key} grown at "
                    f"{rate} = {value:g} a year for {years:.1f} years since "
                    f"{weekly.index[0].date()}: lower {rate} or {key}, or start earlier"
                ) from None
        raise
