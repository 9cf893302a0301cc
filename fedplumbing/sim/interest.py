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

from fedplumbing.sim.ledger import Leg
from fedplumbing.sim.payments import FED, PUBLIC, TREASURY

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


def _overnight_interest_due(model: FedPlumbingModel) -> tuple[float, float]:
    """Interest the Fed will receive and pay when today's overnight positions unwind ($bn)."""
    return model.overnight.interest_due(FED)


def accrue(model: FedPlumbingModel, fed_equity_at_open: float) -> float:
    """Post today's interest flows and remittance; return the Fed's net income today ($bn).

    Interest on overnight positions (ON RRP, repo, SRF, window) is booked when they unwind,
    earlier in the day, so net income is the change of the Fed's equity since the open; its
    breakdown is left on ``model.fed.income_today`` and the remittance on
    ``model.fed.remitted_today``.
    """
    cfg, led, pay = model.config, model.ledger, model.payments
    rates = model.rates_today
    factor = model.accrual_days_today / 360.0 / 100.0
    fed = model.fed

    reserves = led.held("reserves", model.banks.rows)
    iorb = reserves * rates.iorb * factor
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

    coupon_income = float(led.held("coupons", FED)) * cfg.fed.soma_coupon_yield * factor
    bill_income = float(led.held("bills", FED)) * rates.on_rrp * factor
    treasury_interest = coupon_income + bill_income
    pay.transfer("SOMA interest", TREASURY, FED, treasury_interest)
    mbs_income = float(led.held("mbs", FED)) * cfg.fed.mbs_coupon * factor
    pay.transfer("MBS interest", PUBLIC, FED, mbs_income)

    # this morning's unwind settled the interest due on yesterday's overnight positions
    received, paid = fed.overnight_interest_due
    fed.income_today = FedIncome(
        soma_coupons=coupon_income,
        soma_bills=bill_income,
        mbs=mbs_income,
        lending=received,
        iorb=float(iorb_total),
        on_rrp=paid,
    )
    fed.overnight_interest_due = _overnight_interest_due(model)

    equity = float(led.equity(FED))
    net_income = equity - fed_equity_at_open
    surplus = equity - cfg.initial.fed_capital
    fed.remitted_today = 0.0
    if surplus > 0:
        pay.transfer("Fed remittances", FED, TREASURY, surplus)
        fed.remitted_today = surplus
    model.treasury.debt.update(model)
    return net_income
