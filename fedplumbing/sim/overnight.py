"""The book of overnight positions: booking trades with their interest, and unwinding them.

Every overnight position (private repo, fed funds, ON RRP, Fed repo, discount-window loans)
lives in the ledger's columns; the interest each holder will receive or pay when the position
unwinds the next business day is kept here, computed ACT/360 at the trade's rate.
"""

from __future__ import annotations

import numpy as np

from fedplumbing.sim import markets
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
        lend, lend_value = self._sums_by_row(lender_rows, lent, lender_rate)
        borrow, borrow_value = self._sums_by_row(borrower_rows, borrowed, borrower_rate)
        total = float(lend.sum())
        if total <= 0:
            return 0.0
        factor = accrual_days / 360.0 / 100.0
        self.receivable[instrument] += lend_value * factor
        self.payable[instrument] += borrow_value * factor
        self.payments.pay(
            label,
            borrow - lend,
            Leg(slice(None), self.ledger.asset(instrument), lend),
            Leg(slice(None), self.ledger.liability(instrument), borrow),
            amount=total,
        )
        return total

    def _sums_by_row(
        self, rows: np.ndarray, amounts: np.ndarray, rates: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Amounts and amounts x rates of a book of orders, summed per ledger row.

        Orders of zero amount add nothing to any holder's sums (rates are finite), so
        long order books (more orders than ledger rows, most of them unfilled) drop them
        first; the sums are the same, bit for bit.
        """
        n = self.ledger.n_holders
        if markets.USE_COMPILED:
            return _sums_by_row_kernel(
                np.ascontiguousarray(rows, dtype=np.int64),
                np.ascontiguousarray(amounts, dtype=float),
                np.ascontiguousarray(rates, dtype=float),
                n,
            )
        if amounts.size > n:
            keep = np.flatnonzero(amounts)
            rows, amounts, rates = rows[keep], amounts[keep], rates[keep]
        return (
            np.bincount(rows, weights=amounts, minlength=n),
            np.bincount(rows, weights=amounts * rates, minlength=n),
        )

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


def _sums_by_row_loops(
    rows: np.ndarray, amounts: np.ndarray, rates: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """`OvernightBook._sums_by_row` as one loop (`np.bincount` adds in index order too)."""
    skip_zero = amounts.size > n
    total, value = np.zeros(n), np.zeros(n)
    # a row's orders are mostly adjacent: its sums are carried in registers while the row
    # repeats and stored when it changes (the same additions in the same order)
    row, acc_total, acc_value = -1, 0.0, 0.0
    for i in range(amounts.size):
        a = amounts[i]
        if skip_zero and a == 0:
            continue
        r = rows[i]
        if r != row:
            if row >= 0:
                total[row], value[row] = acc_total, acc_value
            row, acc_total, acc_value = r, total[r], value[r]
        acc_total += a
        acc_value += a * rates[i]
    if row >= 0:
        total[row], value[row] = acc_total, acc_value
    return total, value


_sums_by_row_kernel = markets.compiled(_sums_by_row_loops)
