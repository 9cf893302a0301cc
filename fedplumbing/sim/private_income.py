"""Income of the private agents that is not interest on overnight trades.

Dealers earn a carry on their books: hedge funds pay the repo rate plus a spread on the cash
dealers lend them, and inventory earns about the funding rate. Money funds pass their income
to shareholders every day as new shares (a stable $1 NAV), so their equity stays at zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim.ledger import Leg
from fedplumbing.sim.payments import PUBLIC, nonzero

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel

#: Spread over the repo rate that hedge funds pay dealers (percent).
HEDGE_FUND_SPREAD = 0.10


def distribute(model: FedPlumbingModel) -> None:
    """Post today's dealer carry (paid by the public) and money-fund dividends."""
    led, pay = model.ledger, model.payments
    factor = model.accrual_days_today / 360.0 / 100.0
    dealers, mmfs = model.dealers, model.mmfs
    rate = model.recorder.last_repo_rate
    if not np.isfinite(rate):
        rate = model.rates_today.iorb
    inventory = led.held("bills", dealers.rows) + led.held("coupons", dealers.rows)
    carry = (
        led.held("hf_repo", dealers.rows) * (rate + HEDGE_FUND_SPREAD) + inventory * rate
    ) * factor
    carry_total = carry.sum()
    if carry_total > 0:
        delta = pay.zeros()
        delta[dealers.rows] = carry
        delta[PUBLIC] = -carry_total
        pay.pay(
            "dealer carry",
            delta,
            Leg(dealers.rows, led.equity_col, carry),
            Leg(PUBLIC, led.equity_col, -carry_total),
            amount=float(carry_total),
        )
    income = led.equity(mmfs.rows).copy()
    if nonzero(income):
        income_total = income.sum()
        led.post(
            "MMF dividends",
            Leg(mmfs.rows, led.equity_col, -income),
            Leg(mmfs.rows, led.liability("mmf_shares"), income),
            Leg(PUBLIC, led.asset("mmf_shares"), income_total),
            Leg(PUBLIC, led.equity_col, income_total),
            amount=float(income_total),
        )
