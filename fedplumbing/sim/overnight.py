"""The book of overnight positions: booking trades with their interest, and unwinding them.

Every overnight position (private repo, fed funds, ON RRP, Fed repo, discount-window loans)
lives in the ledger's columns; the interest each holder will receive or pay when the position
unwinds the next business day is kept here, computed ACT/360 at the trade's rate.
"""

from __future__ import annotations

import itertools

import numpy as np

from fedplumbing.sim import markets
from fedplumbing.sim.ledger import Ledger, LedgerError, Leg
from fedplumbing.sim.payments import (
    CASH_WEIGHTS,
    NEED_WEIGHTS,
    PUBLIC,
    Payments,
    add_cash_legs,
    any_nonzero_kernel,
    nonzero,
)

OVERNIGHT = ("repo", "fed_funds", "on_rrp", "fed_repo", "discount_window")


def _filled(size: int, value: float) -> np.ndarray:
    """`np.full(size, value)` (floats), by `ndarray.fill`: several times cheaper on short rows."""
    values = np.empty(size)
    values.fill(value)
    return values


class OvernightBook:
    """Overnight positions' interest and their daily unwind.

    Booking and unwinding are compiled (one kernel each makes the posting, cash legs
    included); `_book_leg_by_leg` and `_unwind_leg_by_leg` make the same postings through
    `Payments.pay`, the numpy path and, in debug mode, the reference that the kernels are
    checked against (see `Ledger.post_compiled`).

    Args:
        ledger: the ledger.
        payments: payment routing.

    Attributes:
        receivable, payable: interest each holder will receive and pay, by instrument, when
            today's positions unwind ($bn; rows of one array, one per instrument).
    """

    def __init__(self, ledger: Ledger, payments: Payments) -> None:
        self.ledger = ledger
        self.payments = payments
        n = ledger.n_holders
        self._receivable = np.zeros((len(OVERNIGHT), n))
        self._payable = np.zeros((len(OVERNIGHT), n))
        self.receivable = {k: self._receivable[i] for i, k in enumerate(OVERNIGHT)}
        self.payable = {k: self._payable[i] for i, k in enumerate(OVERNIGHT)}
        self._index = {k: i for i, k in enumerate(OVERNIGHT)}
        self._columns = np.array(
            [[ledger.asset(k), ledger.liability(k)] for k in OVERNIGHT], dtype=np.int64
        )
        # the same columns as Python ints, for the kernels' arguments
        self._column_pairs = [tuple(pair) for pair in self._columns.tolist()]
        self._unwind_labels = [f"{k} unwind" for k in OVERNIGHT]
        self._unwound = np.zeros(len(OVERNIGHT))  # today's amounts, NaN if not unwound

    def interest_due(self, row: int) -> tuple[float, float]:
        """Interest `row` will receive and pay when today's positions unwind ($bn).

        Each is the sum over the instruments, in `OVERNIGHT` order, added as Python floats.
        """
        # one column of each table read at once rather than ten lookups (called every day)
        return sum(self._receivable[:, row].tolist()), sum(self._payable[:, row].tolist())

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
        if not markets.USE_COMPILED:
            return self._book_leg_by_leg(
                label,
                instrument,
                lender_rows,
                lent,
                lender_rate,
                borrower_rows,
                borrowed,
                borrower_rate,
                accrual_days,
            )
        k = self._index[instrument]
        factor = accrual_days / 360.0 / 100.0
        led = self.ledger
        if not led.debug:
            # what `Ledger.post_compiled` makes of `apply` below outside debug mode, without
            # building the closures or converting the arrays (a day books three to five
            # times; the markets and facilities pass contiguous float64 amounts and rates
            # and read-only int64 rows, the kinds the kernel is compiled for)
            asset_col, liability_col = self._column_pairs[k]
            args = (
                led.balances,
                lender_rows,
                lent,
                lender_rate,
                borrower_rows,
                borrowed,
                borrower_rate,
                factor,
                self._receivable[k],
                self._payable[k],
                asset_col,
                liability_col,
            )
            booked = self._run_book_kernel(args)
            if booked <= 0:
                return 0.0
            led.flows[label] += booked
            return booked
        orders = (
            np.ascontiguousarray(lender_rows, dtype=np.int64),
            np.ascontiguousarray(lent, dtype=float),
            np.ascontiguousarray(lender_rate, dtype=float),
            np.ascontiguousarray(borrower_rows, dtype=np.int64),
            np.ascontiguousarray(borrowed, dtype=float),
            np.ascontiguousarray(borrower_rate, dtype=float),
        )
        # in debug mode the kernel runs on copies, checked against the reference
        receivable = self._receivable[k].copy()
        payable = self._payable[k].copy()
        booked = 0.0

        def apply(balances: np.ndarray) -> dict[str, float]:
            nonlocal booked
            columns = self._columns[k]
            args = (balances, *orders, factor, receivable, payable, columns[0], columns[1])
            booked = self._run_book_kernel(args)
            return {} if booked <= 0 else {label: booked}

        def reference() -> float:
            return self._book_leg_by_leg(label, instrument, *orders, accrual_days)

        self.ledger.post_compiled(apply, reference)
        _check_same(label, receivable, self._receivable[k], payable, self._payable[k])
        return 0.0 if booked <= 0 else booked

    def book_at_rate(
        self,
        label: str,
        instrument: str,
        lender_rows: np.ndarray,
        lent: np.ndarray,
        borrower_rows: np.ndarray,
        borrowed: np.ndarray,
        rate: float,
        accrual_days: int,
    ) -> float:
        """`book` for loans made at one rate, lenders' and borrowers' alike.

        The Fed's facilities and operations (ON RRP, SRF, discount window, repo operations)
        and fire-sale funding: one side is a single holder, whose amount the caller gives
        as a one-element array (the other side's total).

        Returns:
            The amount booked ($bn).
        """
        return self.book(
            label,
            instrument,
            lender_rows,
            lent,
            _filled(lent.size, rate),
            borrower_rows,
            borrowed,
            _filled(borrowed.size, rate),
            accrual_days,
        )

    def _run_book_kernel(self, args: tuple) -> float:
        """`_book_kernel(*args, cash)`, computing the public's deposit weights if it asks.

        `args` starts with the balances matrix the kernel posts to.
        """
        booked = _book_kernel(*args, self.payments.kernel_args())
        if booked == NEED_WEIGHTS:
            self.payments.public_deposit_weights(args[0])
            booked = _book_kernel(*args, self.payments.kernel_args())
        return booked

    def _book_leg_by_leg(
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
        """`book` through `Payments.pay` (the numpy path and the compiled kernel's reference)."""
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
        if not markets.USE_COMPILED:
            self._unwind_leg_by_leg()
            led.release()
            return
        debug = led.debug
        receivable = self._receivable.copy() if debug else self._receivable
        payable = self._payable.copy() if debug else self._payable

        def apply(balances: np.ndarray) -> dict[str, float]:
            unwound = self._unwound
            first = 0  # the instrument to unwind next
            while first >= 0:
                first = _unwind_kernel(
                    balances,
                    self._columns,
                    led.equity_col,
                    receivable,
                    payable,
                    first,
                    unwound,
                    self.payments.kernel_args(),
                )
                if first >= 0:  # the public pays: its deposit weights, then go on
                    self.payments.public_deposit_weights(balances)
            return {
                label: amount
                for label, amount in zip(self._unwind_labels, unwound.tolist(), strict=True)
                if amount == amount  # not NaN: unwound today
            }

        led.post_compiled(apply, self._unwind_leg_by_leg)
        if debug:
            _check_same("overnight unwind", receivable, self._receivable, payable, self._payable)
        led.release()

    def _unwind_leg_by_leg(self) -> None:
        """Each instrument's unwind through `Payments.pay` (the numpy path, the reference)."""
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


def _check_same(label: str, *pairs: np.ndarray) -> None:
    """Raise LedgerError unless each (compiled, reference) pair of arrays is the same."""
    for compiled, reference in itertools.batched(pairs, 2):
        if not np.array_equal(compiled, reference, equal_nan=True):
            raise LedgerError(f"compiled '{label}' leaves other interest due than its legs")


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


def _book_loops(
    balances: np.ndarray,
    lender_rows: np.ndarray,
    lent: np.ndarray,
    lender_rate: np.ndarray,
    borrower_rows: np.ndarray,
    borrowed: np.ndarray,
    borrower_rate: np.ndarray,
    factor: float,
    receivable: np.ndarray,
    payable: np.ndarray,
    asset_col: int,
    liability_col: int,
    cash: tuple,
) -> float:
    """`OvernightBook._book_leg_by_leg` as loops: the same additions in the same order.

    Args:
        balances: the ledger's matrix (changed in place).
        lender_rows: the lenders' ledger rows, one per order.
        lent: the lenders' fills.
        lender_rate: the rates lenders earn.
        borrower_rows: the borrowers' ledger rows, one per order.
        borrowed: the borrowers' fills.
        borrower_rate: the rates borrowers pay.
        factor: accrual days / 360 / 100.
        receivable: the instrument's interest receivable by row (changed in place).
        payable: the instrument's interest payable by row (changed in place).
        asset_col: the instrument's asset column.
        liability_col: the instrument's liability column.
        cash: `Payments.kernel_args()`, passed on to `add_cash_legs` (its weights are empty
            until the public's deposit weights are computed today).

    Returns:
        The amount booked (0 when nothing is lent), or `NEED_WEIGHTS`, having changed
        nothing, when the public pays and its deposit weights are not computed yet.
    """
    n = balances.shape[0]
    lend, lend_value = _sums_by_row_kernel(lender_rows, lent, lender_rate, n)
    borrow, borrow_value = _sums_by_row_kernel(borrower_rows, borrowed, borrower_rate, n)
    total = markets.numpy_sum(lend)
    if total <= 0:
        return 0.0
    delta = np.empty(n)
    for i in range(n):
        delta[i] = borrow[i] - lend[i]
    if delta[PUBLIC] != 0 and cash[CASH_WEIGHTS].size == 0:
        return NEED_WEIGHTS
    for i in range(n):
        receivable[i] += lend_value[i] * factor
    for i in range(n):
        payable[i] += borrow_value[i] * factor
    add_cash_legs(balances, delta, cash)
    for i in range(n):
        balances[i, asset_col] += lend[i]
    for i in range(n):
        balances[i, liability_col] += borrow[i]
    return total


_book_kernel = markets.compiled(_book_loops)


def _unwind_loops(
    balances: np.ndarray,
    instrument_columns: np.ndarray,
    equity_col: int,
    receivable: np.ndarray,
    payable: np.ndarray,
    first: int,
    unwound: np.ndarray,
    cash: tuple,
) -> int:
    """`OvernightBook._unwind_leg_by_leg` as loops, from instrument `first` on.

    Args:
        balances: the ledger's matrix (changed in place).
        instrument_columns: (asset, liability) column of each overnight instrument.
        equity_col: the equity column.
        receivable: interest receivable by instrument and row (zeroed as it is paid).
        payable: interest payable by instrument and row (zeroed as it is paid).
        first: the instrument to start from (earlier ones are done).
        unwound: filled with the amount unwound per instrument (NaN: nothing to unwind).
        cash: `Payments.kernel_args()`, passed on to `add_cash_legs` (its weights are empty
            until the public's deposit weights are computed today).

    Returns:
        -1 when every instrument is unwound, or the instrument to resume from once the
        public's deposit weights are computed (that instrument is left untouched).
    """
    n = balances.shape[0]
    delta = np.empty(n)
    for k in range(first, instrument_columns.shape[0]):
        unwound[k] = np.nan
        a, li = instrument_columns[k, 0], instrument_columns[k, 1]
        if not (any_nonzero_kernel(balances[:, a]) or any_nonzero_kernel(balances[:, li])):
            continue
        rec, pay = receivable[k], payable[k]
        for i in range(n):
            delta[i] = balances[i, a] + rec[i] - balances[i, li] - pay[i]
        if delta[PUBLIC] != 0 and cash[CASH_WEIGHTS].size == 0:
            return k
        unwound[k] = markets.numpy_sum(balances[:, a])
        add_cash_legs(balances, delta, cash)
        for i in range(n):
            balances[i, a] += -balances[i, a]
        for i in range(n):
            balances[i, li] += -balances[i, li]
        for i in range(n):
            balances[i, equity_col] += rec[i] - pay[i]
        rec[:] = 0.0
        pay[:] = 0.0
    return -1


_unwind_kernel = markets.compiled(_unwind_loops)
