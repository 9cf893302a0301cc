"""Exogenous flows of the day: Treasury spending and taxes, currency, money-fund flows.

Tax receipts move deposits to the TGA and so drain reserves one for one; spending does the
reverse. Money funds lose shares on corporate tax dates (their investors pay taxes).

In the policy mode the day's five postings (outlays, taxes, currency, hedge-fund lending,
money-fund flows) are made by one compiled kernel (`_exogenous_loops`); `_post_leg_by_leg`
makes the same postings through `Payments`, the numpy path and, in debug mode, the
reference the kernel is checked against (see `Ledger.post_compiled`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim import markets
from fedplumbing.sim.facilities import (
    change_hedge_fund_lending,
    post_hedge_fund_lending,
    reset_rehypothecable,
)
from fedplumbing.sim.ledger import ASSET_COLUMN, EQUITY_COLUMN, LIABILITY_COLUMN, Leg
from fedplumbing.sim.payments import CASH_WEIGHTS, FED, PUBLIC, TREASURY, add_cash_legs

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


def mmf_growth(model: FedPlumbingModel) -> float:
    """Money-fund assets' trend growth since the start (a factor)."""
    return (1.0 + model.config.flows.mmf_growth) ** (model.day / 252.0)


def mmf_flow(model: FedPlumbingModel, tax_day: bool, draws: np.ndarray | None = None) -> np.ndarray:
    """Today's subscriptions (+) and redemptions (-) of each money fund's shares ($bn).

    Args:
        model: the model.
        tax_day: whether investors redeem shares to pay taxes today.
        draws: each fund's standard normal flow shock (default: drawn from `model.rng`).
    """
    cfg, led, mmfs = model.config, model.ledger, model.mmfs
    if draws is None:
        draws = model.rng.standard_normal(mmfs.size)
    shares = led.owed("mmf_shares", mmfs.rows)
    trend = mmfs["assets"] * mmf_growth(model)
    flow = MMF_REVERSION * (trend - shares)
    flow += cfg.mmfs.flow_volatility * shares * draws
    if tax_day:
        flow -= cfg.mmfs.tax_redemption_share * shares
    return np.maximum(flow, -shares)


def post_mmf_flows(model: FedPlumbingModel, flow: np.ndarray) -> None:
    """Money funds issue `flow` of shares to the public (negative: redeem them), for cash."""
    led, pay, mmfs = model.ledger, model.payments, model.mmfs
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


def mmf_flows(model: FedPlumbingModel, tax_day: bool) -> None:
    """Subscriptions and redemptions of money-fund shares (tax-day redemptions included)."""
    post_mmf_flows(model, mmf_flow(model, tax_day))


def hedge_fund_growth(model: FedPlumbingModel) -> float:
    """Hedge funds' trend demand for dealer financing: its growth since the start (a factor)."""
    return (1.0 + model.config.dealers.hedge_fund_growth) ** (model.day / 252.0)


def hedge_fund_change(model: FedPlumbingModel) -> np.ndarray | None:
    """How much more each dealer lends hedge funds today ($bn), or None when on trend."""
    dealers, day = model.dealers, model.day
    trend = dealers["hedge_fund_base"] * hedge_fund_growth(model)
    capacity = model.window_dressing.target[day]
    if capacity != 1.0:
        # foreign dealers window-dress toward a period end (see sim/window_dressing.py)
        trend = np.where(dealers["foreign"], capacity * trend, trend)
    gap = trend - model.ledger.held("hf_repo", dealers.rows)
    if not np.any(np.abs(gap) > 1e-9):
        return None
    change = HEDGE_FUND_REVERSION * gap
    if model.window_dressing.binding[day]:
        # on the period end itself, the foreign books are cut to capacity at once
        change = np.where(dealers["foreign"], np.minimum(change, gap), change)
    return change


def hedge_fund_flows(model: FedPlumbingModel) -> None:
    """Hedge funds borrow back toward their trend demand for dealer repo financing."""
    change = hedge_fund_change(model)
    if change is not None:
        change_hedge_fund_lending(model, change, HEDGE_FUND_LABEL)
    else:
        reset_rehypothecable(model)  # yesterday's collateral has come back


#: Labels of the policy mode's exogenous postings, in the order they are made.
HEDGE_FUND_LABEL = "hedge-fund lending"
EXOGENOUS_LABELS = (
    "Treasury outlays",
    "tax receipts",
    "currency",
    HEDGE_FUND_LABEL,
    "MMF flows",
)
#: The columns `_exogenous_loops` writes besides cash (see its `columns` argument).
_EXOGENOUS_COLUMNS = np.array(
    [
        EQUITY_COLUMN,
        LIABILITY_COLUMN["currency"],
        ASSET_COLUMN["currency"],
        ASSET_COLUMN["hf_repo"],
        LIABILITY_COLUMN["hf_repo"],
        LIABILITY_COLUMN["mmf_shares"],
        ASSET_COLUMN["mmf_shares"],
    ],
    dtype=np.int64,
)


def apply(model: FedPlumbingModel) -> None:
    """All exogenous flows of today, in the policy mode (replay drives its own).

    The amounts are worked out first (none of them depends on the others' postings: each
    reads columns the earlier postings leave alone), then posted in one go.
    """
    cal, day, cfg = model.calendar, model.day, model.config
    treasury = model.treasury
    outlays = treasury.daily_outlays
    taxes = treasury.tax_receipts(cal, day)
    currency = cfg.flows.currency_growth / 252.0
    tax_day = bool(cal.is_corporate_tax_date[day] and cfg.treasury.corporate_tax > 0)
    draws = model.rng.standard_normal(model.mmfs.size)  # the money funds' flow shocks
    if markets.USE_COMPILED:
        _post_compiled(model, outlays, taxes, currency, tax_day, draws)
    else:
        change, flow = hedge_fund_change(model), mmf_flow(model, tax_day, draws)
        _post_leg_by_leg(model, outlays, taxes, currency, change, flow)
    reset_rehypothecable(model)  # after the hedge funds' loans, as `change_hedge_fund_lending`


def _post_leg_by_leg(
    model: FedPlumbingModel,
    outlays: float,
    taxes: float,
    currency: float,
    change: np.ndarray | None,
    flow: np.ndarray,
) -> None:
    """The exogenous postings through `Payments` (the numpy path and the kernel's reference)."""
    treasury_payment(model, "Treasury outlays", outlays)
    if taxes:
        treasury_payment(model, "tax receipts", -taxes)
    currency_flow(model, currency)
    if change is not None:
        # its custody reset follows in `apply`
        post_hedge_fund_lending(model, change, HEDGE_FUND_LABEL)
    post_mmf_flows(model, flow)


def _post_compiled(
    model: FedPlumbingModel,
    outlays: float,
    taxes: float,
    currency: float,
    tax_day: bool,
    draws: np.ndarray,
) -> None:
    """The exogenous postings in one compiled kernel (`_exogenous_loops`).

    The kernel works out the hedge funds' and money funds' flows too (`hedge_fund_change`
    and `mmf_flow`, the same floats), from the money funds' flow shocks `draws`.
    """
    cfg, dealers, mmfs, day = model.config, model.dealers, model.mmfs, model.day
    window = model.window_dressing
    args = (
        float(outlays),
        float(-taxes if taxes else 0.0),
        float(currency),
        np.ascontiguousarray(dealers["hedge_fund_base"], dtype=float),
        float(hedge_fund_growth(model)),
        float(window.target[day]),
        np.ascontiguousarray(dealers["foreign"], dtype=np.bool_),
        bool(window.binding[day]),
        dealers.rows.start,
        np.ascontiguousarray(mmfs["assets"], dtype=float),
        float(mmf_growth(model)),
        float(cfg.mmfs.flow_volatility),
        draws,
        tax_day,
        float(cfg.mmfs.tax_redemption_share),
        mmfs.rows.start,
        _EXOGENOUS_COLUMNS,
    )

    def reference() -> None:
        change, flow = hedge_fund_change(model), mmf_flow(model, tax_day, draws)
        _post_leg_by_leg(model, outlays, taxes, currency, change, flow)

    model.payments.post_compiled(EXOGENOUS_LABELS, _exogenous_kernel, args, reference)


def _abs_sum(values: np.ndarray) -> float:
    """`float(np.abs(values).sum())` of a 1-D float array, bit for bit, in compiled kernels."""
    magnitudes = np.empty(values.size)
    for i in range(values.size):
        magnitudes[i] = abs(values[i])
    return markets.numpy_sum(magnitudes)


def _exogenous_loops(
    balances: np.ndarray,
    first: int,
    outlays: float,
    taxes_paid: float,
    currency: float,
    hedge_fund_base: np.ndarray,
    hedge_fund_growth: float,
    capacity: float,
    foreign: np.ndarray,
    binding: bool,
    dealer_start: int,
    mmf_assets: np.ndarray,
    mmf_growth: float,
    volatility: float,
    draws: np.ndarray,
    tax_day: bool,
    tax_redemption_share: float,
    mmf_start: int,
    columns: np.ndarray,
    posted: np.ndarray,
    amounts: np.ndarray,
    cash: tuple,
) -> int:
    """`_post_leg_by_leg` as loops, from posting `first` on: the same additions in order.

    Postings: 0 Treasury outlays and 1 tax receipts (the Treasury pays the public `outlays`,
    then `taxes_paid`; none when 0), 2 currency (the public withdraws `currency`; none when
    0), 3 hedge-fund lending (`hedge_fund_change` worked out here; none when on trend),
    4 money-fund shares issued for cash (`mmf_flow` worked out here).

    Args:
        balances: the ledger's matrix (changed in place).
        first: the posting to start from (earlier ones are done).
        outlays: the Treasury's outlays, paid to the public.
        taxes_paid: minus the taxes the public pays the Treasury.
        currency: the public's currency withdrawal.
        hedge_fund_base: each dealer's hedge-fund lending at the start.
        hedge_fund_growth: its trend growth since then (a factor).
        capacity: today's window-dressing target of foreign dealers (1: none).
        foreign: whether each dealer is foreign.
        binding: whether foreign books are cut to capacity at once today.
        dealer_start: the first dealer's row.
        mmf_assets: each money fund's assets at the start.
        mmf_growth: their trend growth since then (a factor).
        volatility: the money funds' daily flow volatility.
        draws: each money fund's standard normal flow shock.
        tax_day: whether investors redeem shares to pay taxes today.
        tax_redemption_share: the share of its shares a fund loses on a tax day.
        mmf_start: the first money fund's row.
        columns: the equity column, currency (liability, asset), hf_repo (asset,
            liability) and mmf_shares (liability, asset).
        posted: set for each posting made.
        amounts: filled with the amount each posting logs.
        cash: `Payments.kernel_args()`, passed on to `add_cash_legs` (its weights are empty
            until the public's deposit weights are computed today).

    Returns:
        -1 when every posting is made, or the posting to resume from once the public's
        deposit weights are computed (that posting is left untouched).
    """
    eq, currency_l, currency_a = columns[0], columns[1], columns[2]
    hf_a, hf_l, shares_l, shares_a = columns[3], columns[4], columns[5], columns[6]
    n_dealers, n_mmfs = hedge_fund_base.size, mmf_assets.size
    change, flow = np.empty(n_dealers), np.empty(n_mmfs)
    delta = np.zeros(balances.shape[0])
    for k in range(first, 5):
        delta[:] = 0.0
        amount, total = 0.0, 0.0
        if k < 2:  # Payments.transfer(label, TREASURY, PUBLIC, amount)
            amount = outlays if k == 0 else taxes_paid
            if amount == 0:
                continue
            delta[TREASURY] -= amount
            delta[PUBLIC] += amount
        elif k == 2:  # currency_flow
            amount = currency
            if amount == 0:
                continue
            delta[PUBLIC] = -amount
        elif k == 3:  # hedge_fund_change, then the posting of change_hedge_fund_lending
            off_trend = False
            for i in range(n_dealers):
                trend = hedge_fund_base[i] * hedge_fund_growth
                if capacity != 1.0 and foreign[i]:
                    trend = capacity * trend
                gap = trend - balances[dealer_start + i, hf_a]
                off_trend = off_trend or abs(gap) > 1e-9
                change[i] = HEDGE_FUND_REVERSION * gap
                # np.minimum(change, gap): NaN propagates, and a tie gives the second operand
                if binding and foreign[i] and not (change[i] < gap or change[i] != change[i]):
                    change[i] = gap
            if not off_trend:
                continue
            total = markets.numpy_sum(change)
            for i in range(n_dealers):
                delta[dealer_start + i] = -change[i]
            delta[PUBLIC] = total
        else:  # mmf_flow, then the posting of post_mmf_flows
            for i in range(n_mmfs):
                shares = balances[mmf_start + i, shares_l]
                trend = mmf_assets[i] * mmf_growth
                f = MMF_REVERSION * (trend - shares)
                f += volatility * shares * draws[i]
                if tax_day:
                    f -= tax_redemption_share * shares
                # np.maximum(f, -shares): NaN propagates, and a tie gives the second operand
                flow[i] = f if f > -shares or f != f else -shares
            total = markets.numpy_sum(flow)
            for i in range(n_mmfs):
                delta[mmf_start + i] = flow[i]
            delta[PUBLIC] = -total
        if delta[PUBLIC] != 0 and cash[CASH_WEIGHTS].size == 0:
            return k
        add_cash_legs(balances, delta, cash)
        if k < 2:
            balances[TREASURY, eq] += -amount
            balances[PUBLIC, eq] += amount
            amounts[k] = abs(amount)
        elif k == 2:
            balances[FED, currency_l] += amount
            balances[PUBLIC, currency_a] += amount
            amounts[k] = abs(amount)
        elif k == 3:
            for i in range(n_dealers):
                balances[dealer_start + i, hf_a] += change[i]
            balances[PUBLIC, hf_l] += total
            amounts[k] = _abs_sum_kernel(change)
        else:
            for i in range(n_mmfs):
                balances[mmf_start + i, shares_l] += flow[i]
            balances[PUBLIC, shares_a] += total
            amounts[k] = _abs_sum_kernel(flow)
        posted[k] = True
    return -1


_abs_sum_kernel = markets.compiled(_abs_sum)
_exogenous_kernel = markets.compiled(_exogenous_loops)
