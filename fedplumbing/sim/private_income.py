"""Income of the private agents that is not interest on overnight trades.

Dealers earn a carry on their books: hedge funds pay the repo rate plus a spread on the cash
dealers lend them, and inventory earns about the funding rate. Money funds pass their income
to shareholders every day as new shares (a stable $1 NAV), so their equity stays at zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim import markets
from fedplumbing.sim.ledger import ASSET_COLUMN, EQUITY_COLUMN, LIABILITY_COLUMN, Leg
from fedplumbing.sim.payments import (
    CASH_WEIGHTS,
    PUBLIC,
    add_cash_legs,
    any_nonzero_kernel,
    nonzero,
)

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel

#: Spread over the repo rate that hedge funds pay dealers (percent).
HEDGE_FUND_SPREAD = 0.10


def distribute(model: FedPlumbingModel) -> None:
    """Post today's dealer carry (paid by the public) and money-fund dividends, leg by leg.

    The numpy path. Compiled, the day posts them with the interest in one kernel
    (`interest._interest_income_loops`, which runs `_income_loops`), checked against this
    in debug mode.
    """
    rate, factor = carry_rate_and_factor(model)
    pay_income_leg_by_leg(model, rate, factor)


def carry_rate_and_factor(model: FedPlumbingModel) -> tuple[float, float]:
    """The repo rate of today's carry (yesterday's SOFR, else IORB) and the accrual factor."""
    factor = model.accrual_days_today / 360.0 / 100.0
    rate = model.recorder.last_repo_rate
    if not np.isfinite(rate):
        rate = model.rates_today.iorb
    return rate, factor


def kernel_args(model: FedPlumbingModel, rate: float, factor: float) -> tuple:
    """The arguments `_income_loops` takes after `first`, up to `posted`."""
    return (
        float(rate),
        float(factor),
        model.dealers.rows.start,
        model.dealers.size,
        model.mmfs.rows.start,
        model.mmfs.size,
    )


#: Labels of the two postings, in the order they are made.
INCOME_LABELS = ("dealer carry", "MMF dividends")
#: The columns the kernel reads and writes (constants in the compiled kernel).
_EQUITY = EQUITY_COLUMN
_BILLS = ASSET_COLUMN["bills"]
_COUPONS = ASSET_COLUMN["coupons"]
_HF_REPO = ASSET_COLUMN["hf_repo"]
_SHARES_ISSUED = LIABILITY_COLUMN["mmf_shares"]
_SHARES_HELD = ASSET_COLUMN["mmf_shares"]


def pay_income_leg_by_leg(model: FedPlumbingModel, rate: float, factor: float) -> None:
    """`distribute` through `Payments.pay` and `Ledger.post`, at repo `rate`."""
    led, pay = model.ledger, model.payments
    dealers, mmfs = model.dealers, model.mmfs
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


def _income_loops(
    balances: np.ndarray,
    first: int,
    rate: float,
    factor: float,
    dealer_start: int,
    n_dealers: int,
    mmf_start: int,
    n_mmfs: int,
    posted: np.ndarray,
    amounts: np.ndarray,
    cash: tuple,
) -> int:
    """`pay_income_leg_by_leg` as loops, from posting `first` on: the same floats in order.

    Args:
        balances: the ledger's matrix (changed in place).
        first: 0 (dealer carry) or 1 (money-fund dividends): the posting to start from.
        rate: the repo rate of the carry (percent).
        factor: accrual days / 360 / 100.
        dealer_start: the first dealer's row.
        n_dealers: the number of dealers.
        mmf_start: the first money fund's row.
        n_mmfs: the number of money funds.
        posted: set for each posting made.
        amounts: filled with the amount each posting logs.
        cash: `Payments.kernel_args()`, passed on to `add_cash_legs`.

    Returns:
        -1 when done, or 0 (nothing changed) when the carry needs the public's deposit
        weights.
    """
    if first == 0:
        carry = np.empty(n_dealers)
        spread_rate = rate + HEDGE_FUND_SPREAD
        for i in range(n_dealers):
            row = dealer_start + i
            inventory = balances[row, _BILLS] + balances[row, _COUPONS]
            carry[i] = (balances[row, _HF_REPO] * spread_rate + inventory * rate) * factor
        carry_total = markets.numpy_sum(carry)
        if carry_total > 0:
            delta = np.zeros(balances.shape[0])
            for i in range(n_dealers):
                delta[dealer_start + i] = carry[i]
            delta[PUBLIC] = -carry_total
            if cash[CASH_WEIGHTS].size == 0:
                return 0
            add_cash_legs(balances, delta, cash)
            for i in range(n_dealers):
                balances[dealer_start + i, _EQUITY] += carry[i]
            balances[PUBLIC, _EQUITY] += -carry_total
            posted[0] = True
            amounts[0] = carry_total
    income = np.empty(n_mmfs)
    for i in range(n_mmfs):
        income[i] = balances[mmf_start + i, _EQUITY]
    if not any_nonzero_kernel(income):
        return -1
    income_total = markets.numpy_sum(income)
    for i in range(n_mmfs):
        balances[mmf_start + i, _EQUITY] += -income[i]
    for i in range(n_mmfs):
        balances[mmf_start + i, _SHARES_ISSUED] += income[i]
    balances[PUBLIC, _SHARES_HELD] += income_total
    balances[PUBLIC, _EQUITY] += income_total
    posted[1] = True
    amounts[1] = income_total
    return -1


_income_kernel = markets.compiled(_income_loops)
