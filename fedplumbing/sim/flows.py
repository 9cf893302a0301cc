"""Exogenous flows of the day: Treasury spending and taxes, currency, money-fund flows.

Tax receipts move deposits to the TGA and so drain reserves one for one; spending does the
reverse. Money funds lose shares on corporate tax dates (their investors pay taxes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim.facilities import change_hedge_fund_lending, reset_rehypothecable
from fedplumbing.sim.ledger import Leg
from fedplumbing.sim.payments import PUBLIC, TREASURY

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel

#: Speed at which money-fund assets revert to their trend (per business day).
MMF_REVERSION = 0.02
#: Speed at which hedge funds' repo borrowing from dealers returns to its trend (per day).
HEDGE_FUND_REVERSION = 0.2


def treasury_payment(model: FedPlumbingModel, label: str, to_public: float) -> None:
    """The Treasury pays the public `to_public` ($bn; negative = the public pays taxes)."""
    model.payments.transfer(label, TREASURY, PUBLIC, to_public)


def currency_flow(model: FedPlumbingModel, amount: float) -> None:
    """The public withdraws `amount` of currency (drains reserves; negative returns it)."""
    if amount == 0:
        return
    pay, led = model.payments, model.ledger
    delta = pay.zeros()
    delta[PUBLIC] = -amount
    pay.pay(
        "currency",
        delta,
        Leg(0, led.liability("currency"), amount),
        Leg(PUBLIC, led.asset("currency"), amount),
        amount=abs(amount),
    )


def mmf_flows(model: FedPlumbingModel, tax_day: bool) -> None:
    """Subscriptions and redemptions of money-fund shares (tax-day redemptions included)."""
    cfg, led, pay = model.config, model.ledger, model.payments
    mmfs = model.mmfs
    shares = led.owed("mmf_shares", mmfs.rows)
    trend = mmfs["assets"] * (1.0 + cfg.flows.mmf_growth) ** (model.day / 252.0)
    flow = MMF_REVERSION * (trend - shares)
    flow += cfg.mmfs.flow_volatility * shares * model.rng.standard_normal(mmfs.size)
    if tax_day:
        flow -= cfg.mmfs.tax_redemption_share * shares
    flow = np.maximum(flow, -shares)
    total = flow.sum()
    delta = pay.zeros()
    delta[mmfs.rows] = flow
    delta[PUBLIC] = -total
    pay.pay(
        "MMF flows",
        delta,
        Leg(mmfs.rows, led.liability("mmf_shares"), flow),
        Leg(PUBLIC, led.asset("mmf_shares"), total),
        amount=float(np.abs(flow).sum()),
    )


def hedge_fund_flows(model: FedPlumbingModel) -> None:
    """Hedge funds borrow back toward their trend demand for dealer repo financing."""
    dealers, day = model.dealers, model.day
    trend = dealers["hedge_fund_base"] * (1.0 + model.config.dealers.hedge_fund_growth) ** (
        day / 252.0
    )
    capacity = model.window_dressing.target[day]
    if capacity != 1.0:
        # foreign dealers window-dress toward a period end (see sim/window_dressing.py)
        trend = np.where(dealers["foreign"], capacity * trend, trend)
    gap = trend - model.ledger.held("hf_repo", dealers.rows)
    if np.any(np.abs(gap) > 1e-9):
        change = HEDGE_FUND_REVERSION * gap
        if model.window_dressing.binding[day]:
            # on the period end itself, the foreign books are cut to capacity at once
            change = np.where(dealers["foreign"], np.minimum(change, gap), change)
        change_hedge_fund_lending(model, change, "hedge-fund lending")
    else:
        reset_rehypothecable(model)  # yesterday's collateral has come back


def apply(model: FedPlumbingModel) -> None:
    """All exogenous flows of today, in the policy mode (replay drives its own)."""
    cal, day = model.calendar, model.day
    treasury = model.treasury
    treasury_payment(model, "Treasury outlays", treasury.daily_outlays)
    taxes = treasury.tax_receipts(cal, day)
    if taxes:
        treasury_payment(model, "tax receipts", -taxes)
    currency_flow(model, model.config.flows.currency_growth / 252.0)
    hedge_fund_flows(model)
    mmf_flows(
        model, bool(cal.is_corporate_tax_date[day] and model.config.treasury.corporate_tax > 0)
    )
