"""The book of overnight positions: booking trades with their interest, and unwinding them.

Every overnight position (private repo, fed funds, ON RRP, Fed repo, discount-window loans)
lives in the ledger's columns; the interest each holder will receive or pay when the position
unwinds the next business day is kept here, computed ACT/360 at the trade's rate.
"""

from __future__ import annotations

import numpy as np

from fedplumbing.sim.ledger import Ledger, Leg
from fedplumbing.sim.payments import Payments, nonzero

OVERNIGHT = ("repo", "fed_funds", "on_rrp", "fed_repo", "discount_window")


class OvernightBook:
    """Overnight positions' interest and their daily unwind.

    Args:
        ledger: the ledger.
        payments: payment routing.
    """

    def __init__(self, ledger: Ledger, payments: Payments) -> None:
        self.ledger = ledger
        self.payments = payments
        n = ledger.n_holders
        self.receivable = {k: np.zeros(n) for k in OVERNIGHT}
        self.payable = {k: np.zeros(n) for k in OVERNIGHT}

    def book(
        self,
        label: str,
        instrument: str,
        lender_rows: np.ndarray,
        lent: np.ndarray,
        lender_rate: np.ndarray,
        borrower_rows: np.ndarray,
        borrowed: np.ndarray,
        borrower_rate: np.ndarray,
        accrual_days: int,
    ) -> float:
        """Post overnight loans: cash from lenders to borrowers, positions, interest due.

        Rows may repeat (one entry per order); amounts are summed per holder.

        Returns:
            The amount booked ($bn).
        """
        n = self.ledger.n_holders
        lender_rows, lent, lender_rate = self._drop_empty(lender_rows, lent, lender_rate)
        borrower_rows, borrowed, borrower_rate = self._drop_empty(
            borrower_rows, borrowed, borrower_rate
        )
        lend = np.bincount(lender_rows, weights=lent, minlength=n)
        borrow = np.bincount(borrower_rows, weights=borrowed, minlength=n)
        total = float(lend.sum())
        if total <= 0:
            return 0.0
        factor = accrual_days / 360.0 / 100.0
        self.receivable[instrument] += (
            np.bincount(lender_rows, weights=lent * lender_rate, minlength=n) * factor
        )
        self.payable[instrument] += (
            np.bincount(borrower_rows, weights=borrowed * borrower_rate, minlength=n) * factor
        )
        self.payments.pay(
            label,
            borrow - lend,
            Leg(slice(None), self.ledger.asset(instrument), lend),
            Leg(slice(None), self.ledger.liability(instrument), borrow),
            amount=total,
        )
        return total

    def _drop_empty(
        self, rows: np.ndarray, amounts: np.ndarray, rates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Orders of a long order book (one entry per tranche) less those of zero amount.

        Orders of zero amount add nothing to any holder's sums (rates are finite), so the
        sums are the same, bit for bit; dropping them first pays when there are more orders
        than ledger rows, most of them unfilled.
        """
        if amounts.size <= self.ledger.n_holders:
            return rows, amounts, rates
        keep = np.flatnonzero(amounts)
        return rows[keep], amounts[keep], rates[keep]

    def unwind(self) -> None:
        """Repay every overnight position with interest and release the collateral."""
        led = self.ledger
        for inst in OVERNIGHT:
            # views: every amount below is computed before the posting changes them
            lent = led.held(inst, slice(None))
            owed = led.owed(inst, slice(None))
            if not (nonzero(lent) or nonzero(owed)):
                continue
            rec, pay = self.receivable[inst], self.payable[inst]
            self.payments.pay(
                f"{inst} unwind",
                lent + rec - owed - pay,
                Leg(slice(None), led.asset(inst), -lent),
                Leg(slice(None), led.liability(inst), -owed),
                Leg(slice(None), led.equity_col, rec - pay),
                amount=float(lent.sum()),
            )
            rec[:] = 0.0
            pay[:] = 0.0
        led.release()
