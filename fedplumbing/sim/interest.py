"""End-of-day interest: IORB, the Fed's portfolio income, and the Fed's remittances.

The Fed pays IORB by crediting reserve accounts; it earns coupon interest on its Treasuries
(paid from the TGA), the bill rate (the ON RRP rate) on its bills, and the MBS coupon on its
MBS (paid by the public). Interest on overnight positions (ON RRP, Fed repo operations, the
SRF, the discount window) is posted when they unwind the next morning. Net income above the
Fed's capital is remitted to the Treasury the same day; when income is negative the shortfall
is carried as a deferred asset (negative retained earnings) and later income first pays it
down. Every amount moves through a posting; this module also breaks the day's income down by
asset and liability (:class:`FedIncome`, on ``model.fed.income_today``) and updates the
Treasury's debt block (its interest cost, WAM and duration supply; :mod:`fedplumbing.sim.debt`).

:func:`annual_fed_income` is the same arithmetic on stated balances and rates, for checks
against published figures (FACTS.md: 2022 net income about $190B).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.sim import markets, private_income
from fedplumbing.sim.ledger import ASSET_COLUMN, EQUITY_COLUMN, Leg
from fedplumbing.sim.payments import CASH_WEIGHTS, FED, PUBLIC, TREASURY, add_cash_legs

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel


@dataclass(frozen=True)
class FedIncome:
    """The Fed's interest income by asset and expense by liability ($bn over a period).

    Attributes:
        soma_coupons: interest on Treasury notes and bonds.
        soma_bills: interest on Treasury bills.
        mbs: interest on agency MBS.
        lending: interest on repo operations, the SRF and the discount window.
        iorb: interest paid on reserve balances.
        on_rrp: interest paid on ON RRP.
    """

    soma_coupons: float = 0.0
    soma_bills: float = 0.0
    mbs: float = 0.0
    lending: float = 0.0
    iorb: float = 0.0
    on_rrp: float = 0.0

    @property
    def assets(self) -> float:
        """Income from assets ($bn)."""
        return self.soma_coupons + self.soma_bills + self.mbs + self.lending

    @property
    def liabilities(self) -> float:
        """Expense on liabilities ($bn)."""
        return self.iorb + self.on_rrp

    @property
    def net(self) -> float:
        """Net interest income ($bn)."""
        return self.assets - self.liabilities


def annual_fed_income(
    *,
    coupons_bn: float = 0.0,
    coupon_yield_pct: float = 0.0,
    bills_bn: float = 0.0,
    bill_rate_pct: float = 0.0,
    mbs_bn: float = 0.0,
    mbs_yield_pct: float = 0.0,
    lending_bn: float = 0.0,
    lending_rate_pct: float = 0.0,
    reserves_bn: float = 0.0,
    iorb_pct: float = 0.0,
    on_rrp_bn: float = 0.0,
    on_rrp_rate_pct: float = 0.0,
) -> FedIncome:
    """A year of the Fed's interest income and expense at constant balances and rates.

    Simple annual arithmetic (balance x rate), the way published estimates are made.

    Returns:
        The year's income by asset and liability, $bn.

    """
    return FedIncome(
        soma_coupons=coupons_bn * coupon_yield_pct / 100.0,
        soma_bills=bills_bn * bill_rate_pct / 100.0,
        mbs=mbs_bn * mbs_yield_pct / 100.0,
        lending=lending_bn * lending_rate_pct / 100.0,
        iorb=reserves_bn * iorb_pct / 100.0,
        on_rrp=on_rrp_bn * on_rrp_rate_pct / 100.0,
    )


def accrue(model: FedPlumbingModel, fed_equity_at_open: float) -> float:
    """Post today's interest flows, remittance and private income; return the Fed's net income.

    Interest on overnight positions (ON RRP, repo, SRF, window) is booked when they unwind,
    earlier in the day, so net income ($bn) is the change of the Fed's equity since the open;
    its breakdown is left on ``model.fed.income_today`` and the remittance on
    ``model.fed.remitted_today``. The private sector's income (`private_income`) is posted
    after the interest (nothing in between reads what it posts). Compiled, one kernel
    (`_interest_income_loops`, which runs `_interest_loops` and `private_income._income_loops`)
    makes both runs of postings; the numpy path, and the reference it is checked against in
    debug mode, is `_post_leg_by_leg` then `private_income.distribute`.

    Args:
        model: the model.
        fed_equity_at_open: the Fed's equity before today's first posting.
    """
    cfg, led = model.config, model.ledger
    rates = model.rates_today
    factor = model.accrual_days_today / 360.0 / 100.0
    fed = model.fed

    # none of the postings changes the Fed's securities: today's income is known up front
    coupon_income = float(led.held("coupons", FED)) * cfg.fed.soma_coupon_yield * factor
    bill_income = float(led.held("bills", FED)) * rates.on_rrp * factor
    treasury_interest = coupon_income + bill_income
    mbs_income = float(led.held("mbs", FED)) * cfg.fed.mbs_coupon * factor
    amounts = (rates.iorb, factor, treasury_interest, mbs_income, cfg.initial.fed_capital)
    if markets.USE_COMPILED:
        # [IORB paid, the Fed's equity before remittances, its surplus over capital]
        out = np.zeros(3)
        args = (model.banks.rows.start, model.banks.size, *map(float, amounts), out)
        rate, income_factor = private_income.carry_rate_and_factor(model)

        def reference() -> None:
            out[:] = _post_leg_by_leg(model, *amounts)
            private_income.pay_income_leg_by_leg(model, rate, income_factor)

        model.payments.post_compiled(
            INTEREST_LABELS + private_income.INCOME_LABELS,
            _interest_income_kernel,
            (*args, *private_income.kernel_args(model, rate, income_factor)),
            reference,
        )
        iorb_total, equity, surplus = out.tolist()
    else:
        iorb_total, equity, surplus = _post_leg_by_leg(model, *amounts)
        private_income.distribute(model)

    # this morning's unwind settled the interest due on yesterday's overnight positions
    # (noted at the end of yesterday, `FedPlumbingModel.step`)
    received, paid = fed.overnight_interest_due
    fed.income_today = FedIncome(
        soma_coupons=coupon_income,
        soma_bills=bill_income,
        mbs=mbs_income,
        lending=received,
        iorb=float(iorb_total),
        on_rrp=paid,
    )

    net_income = equity - fed_equity_at_open
    fed.remitted_today = surplus if surplus > 0 else 0.0
    model.treasury.debt.update(model)
    return net_income


#: The column of reserves held (a constant in the compiled kernel).
RESERVES_COLUMN = ASSET_COLUMN["reserves"]
#: Labels of the day's interest postings, in the order they are made.
INTEREST_LABELS = ("interest on reserves", "SOMA interest", "MBS interest", "Fed remittances")


def _post_leg_by_leg(
    model: FedPlumbingModel,
    iorb_rate: float,
    factor: float,
    treasury_interest: float,
    mbs_income: float,
    fed_capital: float,
) -> tuple[float, float, float]:
    """The interest postings through `Payments`: IORB, SOMA and MBS interest, remittances.

    Returns:
        IORB paid, the Fed's equity before remittances, and its surplus over capital.
    """
    led, pay = model.ledger, model.payments
    reserves = led.held("reserves", model.banks.rows)
    iorb = reserves * iorb_rate * factor
    iorb_total = iorb.sum()
    delta = pay.zeros()
    delta[model.banks.rows] = iorb
    pay.pay(
        "interest on reserves",
        delta,
        Leg(model.banks.rows, led.equity_col, iorb),
        Leg(FED, led.equity_col, -iorb_total),
        amount=float(iorb_total),
    )
    pay.transfer("SOMA interest", TREASURY, FED, treasury_interest)
    pay.transfer("MBS interest", PUBLIC, FED, mbs_income)
    equity = float(led.equity(FED))
    surplus = equity - fed_capital
    if surplus > 0:
        pay.transfer("Fed remittances", FED, TREASURY, surplus)
    return float(iorb_total), equity, surplus


def _transfer_loops(
    balances: np.ndarray, payer: int, payee: int, amount: float, cash: tuple
) -> None:
    """`Payments.transfer(label, payer, payee, amount)` as loops (`amount` is not 0)."""
    delta = np.zeros(balances.shape[0])
    delta[payer] -= amount
    delta[payee] += amount
    add_cash_legs(balances, delta, cash)
    balances[payer, EQUITY_COLUMN] += -amount
    balances[payee, EQUITY_COLUMN] += amount


_transfer_kernel = markets.compiled(_transfer_loops)


def _interest_loops(
    balances: np.ndarray,
    first: int,
    bank_start: int,
    n_banks: int,
    iorb_rate: float,
    factor: float,
    treasury_interest: float,
    mbs_income: float,
    fed_capital: float,
    out: np.ndarray,
    posted: np.ndarray,
    amounts: np.ndarray,
    cash: tuple,
) -> int:
    """`_post_leg_by_leg` as loops, from posting `first` on: the same floats in order.

    Postings: 0 IORB on each bank's reserves, 1 SOMA interest (the Treasury pays the Fed
    `treasury_interest`), 2 MBS interest (the public pays `mbs_income`), 3 remittances (the
    Fed pays the Treasury its surplus over capital); a transfer of 0 is not posted.

    Args:
        balances: the ledger's matrix (changed in place).
        first: the posting to start from (earlier ones are done).
        bank_start: the first bank's row.
        n_banks: the number of banks.
        iorb_rate: IORB (percent).
        factor: accrual days / 360 / 100.
        treasury_interest: the SOMA's interest on Treasuries.
        mbs_income: the SOMA's interest on MBS.
        fed_capital: the capital the Fed keeps.
        out: filled with the IORB paid, the Fed's equity before remittances and its
            surplus over capital.
        posted: set for each posting made.
        amounts: filled with the amount each posting logs.
        cash: `Payments.kernel_args()`, passed on to `add_cash_legs`.

    Returns:
        -1 when done, or the posting to resume from once the public's deposit weights are
        computed (that posting is left untouched).
    """
    if first == 0:
        iorb = np.empty(n_banks)
        for b in range(n_banks):
            iorb[b] = balances[bank_start + b, RESERVES_COLUMN] * iorb_rate * factor
        iorb_total = markets.numpy_sum(iorb)
        delta = np.zeros(balances.shape[0])
        for b in range(n_banks):
            delta[bank_start + b] = iorb[b]
        add_cash_legs(balances, delta, cash)  # the public is not paid: no weights needed
        for b in range(n_banks):
            balances[bank_start + b, EQUITY_COLUMN] += iorb[b]
        balances[FED, EQUITY_COLUMN] += -iorb_total
        out[0] = iorb_total
        posted[0] = True
        amounts[0] = iorb_total
    if first <= 1 and treasury_interest != 0:
        _transfer_kernel(balances, TREASURY, FED, treasury_interest, cash)
        posted[1] = True
        amounts[1] = abs(treasury_interest)
    if first <= 2 and mbs_income != 0:
        if cash[CASH_WEIGHTS].size == 0:
            return 2
        _transfer_kernel(balances, PUBLIC, FED, mbs_income, cash)
        posted[2] = True
        amounts[2] = abs(mbs_income)
    equity = balances[FED, EQUITY_COLUMN]
    surplus = equity - fed_capital
    out[1] = equity
    out[2] = surplus
    if surplus > 0:
        _transfer_kernel(balances, FED, TREASURY, surplus, cash)
        posted[3] = True
        amounts[3] = abs(surplus)
    return -1


_interest_kernel = markets.compiled(_interest_loops)


#: The number of interest postings (a constant in the compiled kernel).
_N_INTEREST = len(INTEREST_LABELS)


def _interest_income_loops(
    balances: np.ndarray,
    first: int,
    bank_start: int,
    n_banks: int,
    iorb_rate: float,
    factor: float,
    treasury_interest: float,
    mbs_income: float,
    fed_capital: float,
    out: np.ndarray,
    carry_rate: float,
    income_factor: float,
    dealer_start: int,
    n_dealers: int,
    mmf_start: int,
    n_mmfs: int,
    posted: np.ndarray,
    amounts: np.ndarray,
    cash: tuple,
) -> int:
    """`_interest_loops`, then `private_income._income_loops`: postings 0-3, then 4-5.

    The arguments are those of `_interest_loops` up to `out`, then those of `_income_loops`
    after `first` up to `posted`; `posted` and `amounts` have one entry per posting of both.

    Returns:
        -1 when done, or the posting to resume from once the public's deposit weights are
        computed (that posting is left untouched).
    """
    n_interest = _N_INTEREST
    if first < n_interest:
        resume = _interest_kernel(
            balances,
            first,
            bank_start,
            n_banks,
            iorb_rate,
            factor,
            treasury_interest,
            mbs_income,
            fed_capital,
            out,
            posted[:n_interest],
            amounts[:n_interest],
            cash,
        )
        if resume >= 0:
            return resume
        first = n_interest
    resume = private_income._income_kernel(
        balances,
        first - n_interest,
        carry_rate,
        income_factor,
        dealer_start,
        n_dealers,
        mmf_start,
        n_mmfs,
        posted[n_interest:],
        amounts[n_interest:],
        cash,
    )
    return resume if resume < 0 else resume + n_interest


_interest_income_kernel = markets.compiled(_interest_income_loops)
