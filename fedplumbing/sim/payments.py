"""Payment routing: how a change in a holder's cash becomes postings in the ledger.

Banks pay with reserves; the Treasury with its TGA; the public, money funds, dealers and
FHLBs with deposits at a bank, so their payments move that bank's reserves too. The Fed pays
by creating reserves, so a Fed payment needs no cash leg of its own: the receiver's legs
raise the Fed's reserve liability, which the caller balances with the Fed's other leg.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from fedplumbing.agents.bank import positions_numpy
from fedplumbing.agents.base import Population
from fedplumbing.sim import markets
from fedplumbing.sim.ledger import Ledger, Leg, add_legs

FED, TREASURY, PUBLIC = 0, 1, 2


def _row_array(row: int) -> np.ndarray:
    """`row` as a read-only one-element array, as the books' kernels are compiled for.

    A writable one would load a second specialisation of a booking kernel.
    """
    rows = np.array([row])
    rows.flags.writeable = False
    return rows


#: The Fed's and the public's rows as the one lender or borrower of a posting.
FED_ROW, PUBLIC_ROW = _row_array(FED), _row_array(PUBLIC)


def _any_nonzero(values: np.ndarray) -> bool:
    """Whether a vector has a nonzero (or NaN) entry, stopping at the first one."""
    # a plain loop, not any(<generator>): this is compiled by Numba
    for i in range(values.size):  # noqa: SIM110
        if values[i] != 0:
            return True
    return False


#: Whether a vector has a nonzero entry (used for its truth value only). Compiled, the test
#: stops at the first nonzero entry; in numpy, `np.count_nonzero` is several times cheaper
#: than `ndarray.any()` on the short vectors of a payment.
any_nonzero_kernel = markets.compiled(_any_nonzero)
nonzero = any_nonzero_kernel if markets.USE_COMPILED else np.count_nonzero


class Payments:
    """Turns a vector of cash changes (one entry per ledger row) into balanced cash legs.

    Args:
        ledger: the ledger.
        banks: the bank population.
        nonbanks: populations that hold deposits at a custodian bank.
    """

    def __init__(self, ledger: Ledger, banks: Population, nonbanks: list[Population]) -> None:
        self.ledger = ledger
        self.banks = banks
        self.nonbanks = nonbanks
        self._reserves_a = ledger.asset("reserves")
        self._reserves_l = ledger.liability("reserves")
        self._dep_a = ledger.asset("deposits")
        self._dep_l = ledger.liability("deposits")
        self._tga_a = ledger.asset("tga")
        self._tga_l = ledger.liability("tga")
        self._weights: np.ndarray | None = None
        # when the nonbanks' rows form one block, one test skips them all in payments that
        # involve none of them (most of the day's payments)
        spans = sorted((pop.rows.start, pop.rows.stop) for pop in nonbanks)
        contiguous = bool(spans) and all(a[1] == b[0] for a, b in itertools.pairwise(spans))
        self._nonbank_block = slice(spans[0][0], spans[-1][1]) if contiguous else None
        self._n_custodians = [int(pop.custodian.max(initial=-1)) + 1 for pop in nonbanks]
        # the compiled legs: each nonbank population's first row, size and custodians, and
        # buffers for the banks' deposit and reserve changes (reused by every payment)
        self._nonbank_starts = np.array([pop.rows.start for pop in nonbanks], dtype=np.int64)
        self._nonbank_sizes = np.array([pop.size for pop in nonbanks], dtype=np.int64)
        self._custodians = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [np.asarray(pop.custodian, dtype=np.int64) for pop in nonbanks]
        )
        self._custodian_counts = np.array(self._n_custodians, dtype=np.int64)
        #: Where the banks' clients sit, for `bank.positions_kernel`: each population's first
        #: row and size, every client's custodian, and the number of custodian banks.
        self.client_layout = (
            self._nonbank_starts,
            self._nonbank_sizes,
            self._custodians,
            max(self._n_custodians, default=0),
        )
        self._deposits = np.zeros(banks.size)
        self._reserves = np.zeros(banks.size)
        # the cash columns, in the order `_pay_loops` takes them
        self._columns = np.array(
            [
                self._dep_a,
                self._dep_l,
                self._reserves_a,
                self._reserves_l,
                self._tga_a,
                self._tga_l,
            ],
            dtype=np.int64,
        )
        self._kernel_args = self._make_kernel_args()

    def zeros(self) -> np.ndarray:
        """A vector of zeros with one entry per ledger row."""
        return np.zeros(self.ledger.n_holders)

    def public_deposit_weights(self, balances: np.ndarray | None = None) -> np.ndarray:
        """Where the public's deposits sit: each bank's share of the public's deposits.

        A bank's deposits from the public are its deposit liabilities less its clients'
        cash (money funds, dealers and FHLBs bank with custodians, and pay through their own
        rows). Computed once a day (see `start_day`), at the first payment of the public:
        the public's payments during a day are spread over banks in proportion to their
        deposits from the public then.

        Args:
            balances: the matrix to read the deposits from (default: the ledger's; a
                compiled posting gives the matrix it is writing to).
        """
        if self._weights is None:
            balances = self.ledger.balances if balances is None else balances
            # deposits owed less the clients' deposits held, as a bank's reserve position
            # is its reserves less them
            own = positions_numpy(
                balances,
                self._dep_a,
                self._dep_l,
                self.banks.rows.start,
                self.banks.size,
                *self.client_layout,
            )
            dep = np.maximum(own, 0.0)
            total = dep.sum()
            self._weights = (
                dep / total if total > 0 else np.full(self.banks.size, 1.0 / self.banks.size)
            )
            self._kernel_args = self._make_kernel_args()
        return self._weights

    def start_day(self) -> None:
        """Forget yesterday's deposit weights."""
        if self._weights is not None:
            self._weights = None
            self._kernel_args = self._make_kernel_args()

    def kernel_args(self) -> tuple:
        """What a compiled posting passes to `add_cash_legs` after the matrix and `delta`.

        The cash columns, the banks' first row, the nonbank populations' rows and custodians,
        the public's deposit weights (empty until computed today: a kernel that needs them
        stops and asks, see `NEED_WEIGHTS`) and the two buffers.
        """
        # kept built: every payment passes it, and it changes only with the weights
        return self._kernel_args

    def _make_kernel_args(self) -> tuple:
        """`kernel_args` for the current deposit weights."""
        return (
            self._columns,
            self.banks.rows.start,
            self._nonbank_starts,
            self._nonbank_sizes,
            self._custodians,
            self._custodian_counts,
            _NO_WEIGHTS if self._weights is None else self._weights,
            self._deposits,
            self._reserves,
        )

    def cash_legs(self, delta: np.ndarray) -> list[Leg]:
        """Legs that change each holder's cash by `delta` (the Fed's own entry is ignored).

        Populations whose entries are all zero get no legs; the legs may hold views of
        `delta` and of buffers that the next call overwrites, so post them before changing
        `delta` or building other cash legs.

        Args:
            delta: cash change by ledger row ($bn), positive = receives.
        """
        if markets.USE_COMPILED:
            return self._cash_legs_compiled(delta)
        banks = self.banks.rows
        legs: list[Leg] = []
        # change of each bank's deposit liabilities (its clients' and the public's payments);
        # None while no client pays or receives anything
        deposits: np.ndarray | None = None
        block = self._nonbank_block
        if block is None or nonzero(delta[block]):
            for pop, n_cust in zip(self.nonbanks, self._n_custodians, strict=True):
                d = delta[pop.rows]
                if nonzero(d):
                    legs.append(Leg(pop.rows, self._dep_a, d))
                    # custodians are the first n_cust banks: sum over those only
                    via = np.bincount(pop.custodian, weights=d, minlength=n_cust)
                    if deposits is None:
                        deposits = np.zeros(self.banks.size)
                    deposits[:n_cust] += via
        public = delta[PUBLIC]
        if public:
            legs.append(Leg(PUBLIC, self._dep_a, public))
            via = public * self.public_deposit_weights()
            if deposits is None:
                deposits = via
            else:
                deposits += via
        reserves = delta[banks]
        if deposits is not None:
            reserves = reserves + deposits
            if nonzero(deposits):
                legs.append(Leg(banks, self._dep_l, deposits))
        if nonzero(reserves):
            legs.append(Leg(banks, self._reserves_a, reserves))
            legs.append(Leg(FED, self._reserves_l, float(reserves.sum())))
        treasury = delta[TREASURY]
        if treasury:
            legs.append(Leg(TREASURY, self._tga_a, treasury))
            legs.append(Leg(FED, self._tga_l, treasury))
        return legs

    def _cash_legs_compiled(self, delta: np.ndarray) -> list[Leg]:
        """`cash_legs` with its arithmetic in one compiled loop: the same legs, bit for bit."""
        banks = self.banks.rows
        public = delta[PUBLIC]
        paid = _cash_kernel(
            delta,
            banks.start,
            self._nonbank_starts,
            self._nonbank_sizes,
            self._custodians,
            self._custodian_counts,
            public,
            self.public_deposit_weights() if public else self._deposits,
            self._deposits,
            self._reserves,
        )
        legs: list[Leg] = []
        for p, pop in enumerate(self.nonbanks):
            if paid >> p & 1:
                legs.append(Leg(pop.rows, self._dep_a, delta[pop.rows]))
        if public:
            legs.append(Leg(PUBLIC, self._dep_a, public))
        n = len(self.nonbanks)
        if paid >> n & 1:
            legs.append(Leg(banks, self._dep_l, self._deposits))
        if paid >> (n + 1) & 1:
            legs.append(Leg(banks, self._reserves_a, self._reserves))
            legs.append(Leg(FED, self._reserves_l, float(self._reserves.sum())))
        treasury = delta[TREASURY]
        if treasury:
            legs.append(Leg(TREASURY, self._tga_a, treasury))
            legs.append(Leg(FED, self._tga_l, treasury))
        return legs

    def post_compiled(
        self,
        labels: tuple[str, ...],
        kernel: Callable[..., int],
        args: tuple,
        reference: Callable[[], object],
    ) -> np.ndarray:
        """Make a run of postings through a compiled kernel (see `Ledger.post_compiled`).

        The kernel is called as `kernel(balances, first, *args, posted, amounts, cash)`: it
        makes postings `first`, `first + 1`... in order, with their cash legs
        (`add_cash_legs`), sets `posted[k]` and `amounts[k]` (the amount to log under
        `labels[k]`) for each posting it makes, and returns -1 when done or, when posting
        `k` needs the public's deposit weights and `cash` has none yet, `k` itself, having
        left that posting untouched: the weights are computed and it is called again.

        Args:
            labels: the label of each posting the kernel may make.
            kernel: the compiled postings.
            args: the kernel's own arguments.
            reference: makes the same postings leg by leg (see `Ledger.post_compiled`).

        Returns:
            Whether each posting was made (the compiled run's; in debug mode the reference
            makes the postings to the ledger).
        """
        posted = np.zeros(len(labels), dtype=np.bool_)
        amounts = np.zeros(len(labels))

        def apply(balances: np.ndarray) -> dict[str, float]:
            first = 0  # the posting to make next
            while True:
                first = kernel(balances, first, *args, posted, amounts, self._kernel_args)
                if first < 0:
                    break
                self.public_deposit_weights(balances)  # the public pays: weights, go on
            return {
                label: amount
                for label, done, amount in zip(
                    labels, posted.tolist(), amounts.tolist(), strict=True
                )
                if done
            }

        self.ledger.post_compiled(apply, reference)
        return posted

    def transfer(self, label: str, payer: int, payee: int, amount: float) -> None:
        """`payer` pays `payee` an income or a transfer ($bn): cash moves, and equity with it.

        Taxes, spending, interest and remittances are transfers: no asset changes hands in
        exchange, so the payer's equity falls and the payee's rises by `amount`.
        """
        if amount == 0:
            return
        delta = self.zeros()
        delta[payer] -= amount
        delta[payee] += amount
        eq = self.ledger.equity_col
        self.pay(label, delta, Leg(payer, eq, -amount), Leg(payee, eq, amount), amount=abs(amount))

    def pay(self, label: str, delta: np.ndarray, *other: Leg, amount: float | None = None) -> None:
        """Post cash changes `delta` together with the legs they pay for.

        Args:
            label: name of the payment (for the day's flow log).
            delta: cash change by ledger row ($bn), positive = receives.
            other: the legs that the cash pays for (applied after the cash legs).
            amount: size to log (default: the gross cash received, sum(max(delta, 0))).
        """
        ledger = self.ledger
        if ledger.debug or not markets.USE_COMPILED:
            ledger.post(label, *other, amount=amount, cash=(self, delta))
            return
        # what `Ledger.post` does with `cash=(self, delta)` outside debug mode, without its
        # layers of calls: a day makes a dozen payments, and their overhead adds up
        balances = ledger.balances
        if self._weights is None and delta[PUBLIC]:
            self.public_deposit_weights(balances)
        # the kernel also sums the cash received, needed or not: one kernel fewer to load
        received = _pay_kernel(balances, delta, self._kernel_args)
        if amount is None:
            amount = received
        add_legs(balances, other)
        ledger.flows[label] += float(amount or 0.0)

    def apply_cash(self, balances: np.ndarray, delta: np.ndarray) -> float:
        """Add the cash legs of `delta` to `balances` (the ledger's matrix; see `Ledger.post`).

        Compiled, one loop computes the legs and adds them, the same additions in the same
        order as posting `cash_legs(delta)`; it also sums the cash received.

        Returns:
            The gross cash received, sum(max(delta, 0)), as `np.sum` computes it.
        """
        if not markets.USE_COMPILED:
            add_legs(balances, self.cash_legs(delta))
            return float(np.sum(np.maximum(delta, 0.0)))
        if self._weights is None and delta[PUBLIC]:
            self.public_deposit_weights(balances)
        return _pay_kernel(balances, delta, self._kernel_args)


#: The public's deposit weights before they are computed (see `Payments.kernel_args`).
#: Empty, so nothing can be written to it; not flagged read-only, as the computed weights
#: are not: Numba would compile (and load) every kernel taking them once more for it.
_NO_WEIGHTS = np.zeros(0)
#: Position of the public's deposit weights in `Payments.kernel_args()`.
CASH_WEIGHTS = 6
#: What a compiled posting returns when it needs the public's deposit weights.
NEED_WEIGHTS = -1


def _cash_loops(
    delta: np.ndarray,
    bank_start: int,
    nonbank_starts: np.ndarray,
    nonbank_sizes: np.ndarray,
    custodians: np.ndarray,
    custodian_counts: np.ndarray,
    public: float,
    weights: np.ndarray,
    deposits: np.ndarray,
    reserves: np.ndarray,
) -> int:
    """The arithmetic of `Payments.cash_legs` as loops, in the same order as numpy's.

    Args:
        delta: cash change by ledger row.
        bank_start: the first bank's row.
        nonbank_starts: first row of each nonbank population.
        nonbank_sizes: size of each nonbank population.
        custodians: every nonbank's custodian bank, population after population.
        custodian_counts: number of custodians of each population (largest index + 1).
        public: the public's cash change.
        weights: the public's deposit weights by bank (unused when `public` is 0).
        deposits: filled with the change of each bank's deposit liabilities.
        reserves: filled with the change of each bank's reserves.

    Returns:
        Bit flags: bit p set when nonbank population p pays or receives, then one bit for a
        nonzero change of the banks' deposits, and one for their reserves.
    """
    n_pops, n_banks = nonbank_starts.size, deposits.size
    paid = 0
    has_deposits = False
    first = 0
    for p in range(n_pops):
        start, size = nonbank_starts[p], nonbank_sizes[p]
        if any_nonzero_kernel(delta[start : start + size]):
            paid |= 1 << p
            if not has_deposits:
                deposits[:] = 0.0
                has_deposits = True
            # np.bincount over the custodians, then added to the deposit changes
            via = np.zeros(custodian_counts[p])
            for i in range(size):
                via[custodians[first + i]] += delta[start + i]
            for b in range(via.size):
                deposits[b] += via[b]
        first += size
    if public != 0:
        if has_deposits:
            for b in range(n_banks):
                deposits[b] += public * weights[b]
        else:
            for b in range(n_banks):
                deposits[b] = public * weights[b]
        has_deposits = True
    if has_deposits:
        for b in range(n_banks):
            reserves[b] = delta[bank_start + b] + deposits[b]
        if any_nonzero_kernel(deposits):
            paid |= 1 << n_pops
    else:
        for b in range(n_banks):
            reserves[b] = delta[bank_start + b]
    if any_nonzero_kernel(reserves):
        paid |= 1 << (n_pops + 1)
    return paid


_cash_kernel = markets.compiled(_cash_loops)


def _add_cash_legs_loops(balances: np.ndarray, delta: np.ndarray, cash: tuple) -> None:
    """Add the cash legs of `delta` to `balances`, as posting `Payments.cash_legs` would.

    The legs are computed by `_cash_loops` (into `deposits` and `reserves`) and added leg
    after leg, in the order `cash_legs` lists them; the Fed's reserve liability changes by
    the banks' reserves summed as `np.sum` does.

    Args:
        balances: the ledger's matrix (changed in place).
        delta: cash change by ledger row.
        cash: `Payments.kernel_args()`: the columns of deposits (asset, liability), reserves
            (asset, liability) and the TGA (asset, liability); the first bank's row; each
            nonbank population's first row and size; every nonbank's custodian bank,
            population after population; the number of custodians of each population; the
            public's deposit weights by bank (unused when the public pays nothing); buffers
            for the change of each bank's deposit liabilities and reserves.
    """
    (
        columns,
        bank_start,
        nonbank_starts,
        nonbank_sizes,
        custodians,
        custodian_counts,
        weights,
        deposits,
        reserves,
    ) = cash
    public = delta[PUBLIC]
    paid = _cash_kernel(
        delta,
        bank_start,
        nonbank_starts,
        nonbank_sizes,
        custodians,
        custodian_counts,
        public,
        weights,
        deposits,
        reserves,
    )
    dep_a, dep_l, res_a, res_l, tga_a, tga_l = (
        columns[0],
        columns[1],
        columns[2],
        columns[3],
        columns[4],
        columns[5],
    )
    n_pops = nonbank_starts.size
    for p in range(n_pops):
        if paid >> p & 1:
            start = nonbank_starts[p]
            for i in range(start, start + nonbank_sizes[p]):
                balances[i, dep_a] += delta[i]
    if public != 0:
        balances[PUBLIC, dep_a] += public
    if paid >> n_pops & 1:
        for b in range(deposits.size):
            balances[bank_start + b, dep_l] += deposits[b]
    if paid >> (n_pops + 1) & 1:
        for b in range(reserves.size):
            balances[bank_start + b, res_a] += reserves[b]
        balances[FED, res_l] += markets.numpy_sum(reserves)
    treasury = delta[TREASURY]
    if treasury != 0:
        balances[TREASURY, tga_a] += treasury
        balances[FED, tga_l] += treasury


#: Compiled postings call this to add the cash legs of a payment (see `Payments.kernel_args`).
add_cash_legs = markets.compiled(_add_cash_legs_loops)


def _pay_loops(balances: np.ndarray, delta: np.ndarray, cash: tuple) -> float:
    """`add_cash_legs`, then the gross cash received (the arguments are the same).

    Returns:
        The sum of the positive entries of `delta`, as `np.sum(np.maximum(delta, 0.0))`
        computes it.
    """
    add_cash_legs(balances, delta, cash)
    received = np.empty(delta.size)
    for i in range(delta.size):
        # np.maximum(delta, 0.0): NaN propagates, and a tie gives the second operand
        received[i] = delta[i] if delta[i] > 0.0 or delta[i] != delta[i] else 0.0
    return markets.numpy_sum(received)


_pay_kernel = markets.compiled(_pay_loops)
