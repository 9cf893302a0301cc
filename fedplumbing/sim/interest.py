"""End-of-day interest: IORB, the Fed's portfolio income, and the Fed's remittances.

The Fed pays IORB by crediting reserve accounts; it earns coupon interest on its Treasuries
(paid from the TGA) and on its MBS (paid by the public). Net income above the Fed's capital
is remitted to the Treasury the same day; when income is negative the shortfall is carried
as a deferred asset (negative retained earnings) and later income first pays it down.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedplumbing.sim.ledger import Leg
from fedplumbing.sim.payments import FED, PUBLIC, TREASURY

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel


def accrue(model: FedPlumbingModel, fed_equity_at_open: float) -> float:
    """Post today's interest flows and remittance; return the Fed's net income today ($bn).

    Interest on overnight positions (ON RRP, repo, SRF, window) is booked when they unwind,
    earlier in the day, so net income is the change of the Fed's equity since the open.
    """
    cfg, led, pay = model.config, model.ledger, model.payments
    rates = model.rates_today
    factor = model.accrual_days_today / 360.0 / 100.0

    reserves = led.held("reserves", model.banks.rows)
    iorb = reserves * rates.iorb * factor
    delta = pay.zeros()
    delta[model.banks.rows] = iorb
    pay.pay(
        "interest on reserves",
        delta,
        Leg(model.banks.rows, led.equity_col, iorb),
        Leg(FED, led.equity_col, -iorb.sum()),
        amount=float(iorb.sum()),
    )

    coupon_income = float(led.held("coupons", FED)) * cfg.fed.soma_coupon_yield * factor
    bill_income = float(led.held("bills", FED)) * rates.on_rrp * factor
    treasury_interest = coupon_income + bill_income
    if treasury_interest:
        delta = pay.zeros()
        delta[TREASURY] = -treasury_interest
        pay.pay(
            "SOMA interest",
            delta,
            Leg(FED, led.equity_col, treasury_interest),
            Leg(TREASURY, led.equity_col, -treasury_interest),
            amount=treasury_interest,
        )
    mbs_income = float(led.held("mbs", FED)) * cfg.fed.mbs_coupon * factor
    if mbs_income:
        delta = pay.zeros()
        delta[PUBLIC] = -mbs_income
        pay.pay(
            "MBS interest",
            delta,
            Leg(FED, led.equity_col, mbs_income),
            Leg(PUBLIC, led.equity_col, -mbs_income),
            amount=mbs_income,
        )

    equity = float(led.equity(FED))
    net_income = equity - fed_equity_at_open
    surplus = equity - cfg.initial.fed_capital
    if surplus > 0:
        delta = pay.zeros()
        delta[TREASURY] = surplus
        pay.pay(
            "Fed remittances",
            delta,
            Leg(FED, led.equity_col, -surplus),
            Leg(TREASURY, led.equity_col, surplus),
            amount=surplus,
        )
    return net_income
