"""Banks: Poole-style liquidity managers whose reserve demand curve is flat, then steep."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from fedplumbing.agents.base import PopulationAgent
from fedplumbing.sim import markets

#: Probability levels of ending the day below the LCLoR at which a bank posts a tranche.
#: Roughly geometric up to one half, so that the limit rates IORB + (penalty - IORB) p are
#: spaced evenly in log terms from a fraction of a basis point to several hundred: a coarser
#: grid makes the clearing price stick to a few plateaus (+10, +33, +100, +233 bp with a
#: 665 bp penalty) and jump between them on small changes in reserves.
SHORTFALL_PROBABILITIES = np.array(
    [
        *(0.0005, 0.001, 0.002, 0.004, 0.008, 0.015, 0.025, 0.04, 0.06, 0.09, 0.13),
        *(0.18, 0.25, 0.35, 0.47, 0.6, 0.75, 0.88, 0.97),
    ]
)
_Z = ndtri(SHORTFALL_PROBABILITIES)


class Bank(PopulationAgent):
    """A bank managing its reserve account around its lowest comfortable level (LCLoR).

    Lending one more dollar overnight costs IORB + a balance-sheet cost c + (penalty - IORB)
    x P(reserves after lending + end-of-day payment shock < LCLoR). The bank lends where the
    market pays more than that marginal value and bids for funds when it is short.

    Population state (arrays): ``assets``, ``lclor`` ($bn), ``shock_sd`` ($bn), ``cost``
    (percent), ``foreign`` (bool), ``repo_active`` (bool), ``arbitrage_cost`` (percent),
    ``arbitrage_capacity`` ($bn).
    """

    population_name = "banks"

    @property
    def reserves(self) -> float:
        """Reserve balance at the Fed ($bn)."""
        return float(self.model.ledger.held("reserves", self.row))

    @property
    def lclor(self) -> float:
        """Lowest comfortable level of reserves ($bn)."""
        return self.param("lclor")

    def reserve_marginal_value(self) -> float:
        """Today's marginal value of one more dollar of reserves (percent per year)."""
        rates = self.model.rates_today
        penalty = self.model.bank_penalty_rate()[self.index]
        return float(
            self.marginal_value(
                np.array([self.reserves]),
                self.param("lclor"),
                self.param("shock_sd"),
                rates.iorb,
                penalty,
            )[0]
        )

    @staticmethod
    def marginal_value(
        reserves: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        iorb: float,
        penalty: np.ndarray | float,
    ) -> np.ndarray:
        """Marginal value of reserves: IORB + (penalty - IORB) x P(reserves + shock < LCLoR).

        Args:
            reserves: reserve balances ($bn).
            lclor: lowest comfortable levels ($bn).
            shock_sd: s.d. of the end-of-day payment shock ($bn).
            iorb: interest on reserve balances (percent).
            penalty: cost of ending the day below the LCLoR (percent).
        """
        return iorb + (penalty - iorb) * ndtr((lclor - reserves) / shock_sd)

    @staticmethod
    def lending_schedule(
        available: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        cost: np.ndarray,
        iorb: float,
        penalty: np.ndarray | float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Offers to lend reserves: tranche amounts and the lowest rate for each.

        The cumulative amount offered at rate IORB + c + (penalty - IORB) p is the amount
        that leaves a probability p of ending below the LCLoR.

        Returns:
            (amounts, rates), each of shape (banks, tranches); amounts in $bn, rates percent.
        """
        if markets.USE_COMPILED:
            return _lending_kernel(
                available, lclor, shock_sd, cost, iorb, _penalties(penalty, available.size)
            )
        cum = np.clip(
            available[:, None] - lclor[:, None] + shock_sd[:, None] * _Z[None, :],
            0.0,
            np.maximum(available, 0.0)[:, None],
        )
        qty = cum.copy()  # np.diff(cum, axis=1, prepend=0.0), without its temporaries
        qty[:, 1:] -= cum[:, :-1]
        pen = np.broadcast_to(penalty, available.shape)
        rate = (iorb + cost)[:, None] + (pen - iorb)[:, None] * SHORTFALL_PROBABILITIES[None, :]
        return qty, rate

    @staticmethod
    def borrowing_schedule(
        reserves: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        cost: np.ndarray,
        iorb: float,
        penalty: np.ndarray | float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bids for reserves of banks that are short: tranche amounts and the highest rates.

        The cumulative amount bid at rate IORB + (penalty - IORB) p - c is what it takes to
        bring the probability of ending below the LCLoR down to p.

        Returns:
            (amounts, rates), each of shape (banks, tranches).
        """
        if markets.USE_COMPILED:
            return _borrowing_kernel(
                reserves, lclor, shock_sd, cost, iorb, _penalties(penalty, reserves.size)
            )
        cum = np.maximum(lclor[:, None] - reserves[:, None] - shock_sd[:, None] * _Z[None, :], 0.0)
        qty = cum.copy()  # each tranche: cum less the next one's (the last keeps its cum)
        qty[:, :-1] -= cum[:, 1:]
        pen = np.broadcast_to(penalty, reserves.shape)
        rate = iorb + (pen - iorb)[:, None] * SHORTFALL_PROBABILITIES[None, :] - cost[:, None]
        return qty, rate

    @staticmethod
    def lending_orders(
        available: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        cost: np.ndarray,
        iorb: float,
        penalty: np.ndarray,
        first_row: int,
        before: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """An order book of offers: `before`, then `lending_schedule`, orders of amount > 0 only.

        The offers come out in bank order, then tranche order, after the orders of `before`;
        building the book in one pass saves concatenating and filtering it.

        Args:
            available: every bank's reserves available to lend ($bn).
            lclor: lowest comfortable levels ($bn).
            shock_sd: s.d. of the end-of-day payment shock ($bn).
            cost: balance-sheet costs (percent).
            iorb: interest on reserve balances (percent).
            penalty: costs of ending the day below the LCLoR (percent).
            first_row: ledger row of the first bank.
            before: (amounts, rates, ledger rows) of orders to put first.

        Returns:
            (amounts, rates, ledger rows): one entry per order of positive amount.
        """
        if markets.USE_COMPILED:
            return _lending_orders_kernel(
                available, lclor, shock_sd, cost, iorb, penalty, first_row, *before
            )
        qty, rate = Bank.lending_schedule(available, lclor, shock_sd, cost, iorb, penalty)
        rows = first_row + np.repeat(np.arange(available.size), _Z.size)
        qty = np.concatenate([before[0], qty.ravel()])
        rate = np.concatenate([before[1], rate.ravel()])
        rows = np.concatenate([before[2], rows])
        keep = np.flatnonzero(qty > 0)
        return qty[keep], rate[keep], rows[keep]

    @staticmethod
    def borrowing_orders(
        reserves: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        cost: np.ndarray,
        iorb: float,
        penalty: np.ndarray,
        range_sd: float,
        first_row: int,
        before: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """An order book: `before`, then the nonzero tranches of `borrowing_schedule`.

        A bank bids when its reserves are below LCLoR + `range_sd` shock s.d.; its tranches
        of positive amount come out in bank order, then tranche order. Building the whole
        book in one pass saves concatenating tens of thousands of orders.

        Args:
            reserves: every bank's reserve position ($bn).
            lclor: lowest comfortable levels ($bn).
            shock_sd: s.d. of the end-of-day payment shock ($bn).
            cost: balance-sheet costs (percent).
            iorb: interest on reserve balances (percent).
            penalty: costs of ending the day below the LCLoR (percent).
            range_sd: banks further above their LCLoR (in shock s.d.) do not bid.
            first_row: ledger row of the first bank.
            before: (amounts, rates, ledger rows) of orders to put first.

        Returns:
            (amounts, rates, ledger rows): one entry per order.
        """
        if markets.USE_COMPILED:
            return _borrowing_orders_kernel(
                reserves, lclor, shock_sd, cost, iorb, penalty, range_sd, first_row, *before
            )
        short = np.flatnonzero(reserves < lclor + range_sd * shock_sd)
        qty, rate = Bank.borrowing_schedule(
            reserves[short], lclor[short], shock_sd[short], cost[short], iorb, penalty[short]
        )
        qty, rate = qty.ravel(), rate.ravel()
        keep = np.flatnonzero(qty > 0)
        rows = first_row + np.repeat(short, _Z.size)[keep]
        return (
            np.concatenate([before[0], qty[keep]]),
            np.concatenate([before[1], rate[keep]]),
            np.concatenate([before[2], rows]),
        )


def _penalties(penalty: np.ndarray | float, n: int) -> np.ndarray:
    """`penalty` as one float per bank (the compiled schedules take arrays)."""
    if np.ndim(penalty) == 0:
        return np.full(n, float(penalty))
    return np.ascontiguousarray(penalty, dtype=float)


# ---------------------------------------------------------------------- compiled schedules
# The schedules above as loops compiled by Numba: the same arithmetic in the same order, so
# the same floats (no operation is reassociated or fused). A day computes them for a few
# hundred to a few thousand banks; numpy's temporaries and call overhead dominate there.
def _lending_schedule_loops(
    available: np.ndarray,
    lclor: np.ndarray,
    shock_sd: np.ndarray,
    cost: np.ndarray,
    iorb: float,
    penalty: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """`Bank.lending_schedule` as loops."""
    n, k_max = available.size, _Z.size
    qty, rate = np.empty((n, k_max)), np.empty((n, k_max))
    for b in range(n):
        _lending_row(
            available[b], lclor[b], shock_sd[b], cost[b], iorb, penalty[b], qty[b], rate[b]
        )
    return qty, rate


def _lending_row(
    available: float,
    lclor: float,
    shock_sd: float,
    cost: float,
    iorb: float,
    penalty: float,
    qty: np.ndarray,
    rate: np.ndarray,
) -> None:
    """One bank's lending tranches, written into `qty` and `rate`."""
    gap = available - lclor
    top = max(available, 0.0)
    base = iorb + cost
    slope = penalty - iorb
    prev = 0.0
    for k in range(_Z.size):
        cum = min(max(gap + shock_sd * _Z[k], 0.0), top)
        qty[k] = cum if k == 0 else cum - prev
        prev = cum
        rate[k] = base + slope * SHORTFALL_PROBABILITIES[k]


def _lending_orders_loops(
    available: np.ndarray,
    lclor: np.ndarray,
    shock_sd: np.ndarray,
    cost: np.ndarray,
    iorb: float,
    penalty: np.ndarray,
    first_row: int,
    qty_before: np.ndarray,
    rate_before: np.ndarray,
    rows_before: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`Bank.lending_orders` as loops."""
    k_max = _Z.size
    size = qty_before.size + available.size * k_max
    qty, rate, rows = np.empty(size), np.empty(size), np.empty(size, dtype=np.int64)
    n = 0
    for i in range(qty_before.size):
        if qty_before[i] > 0:
            qty[n], rate[n], rows[n] = qty_before[i], rate_before[i], rows_before[i]
            n += 1
    q, r = np.empty(k_max), np.empty(k_max)
    for b in range(available.size):
        _lending_row(available[b], lclor[b], shock_sd[b], cost[b], iorb, penalty[b], q, r)
        for k in range(k_max):
            if q[k] > 0:
                qty[n], rate[n], rows[n] = q[k], r[k], first_row + b
                n += 1
    return qty[:n], rate[:n], rows[:n]


def _borrowing_schedule_loops(
    reserves: np.ndarray,
    lclor: np.ndarray,
    shock_sd: np.ndarray,
    cost: np.ndarray,
    iorb: float,
    penalty: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """`Bank.borrowing_schedule` as loops."""
    n, k_max = reserves.size, _Z.size
    qty, rate = np.empty((n, k_max)), np.empty((n, k_max))
    for b in range(n):
        _borrowing_row(
            reserves[b], lclor[b], shock_sd[b], cost[b], iorb, penalty[b], qty[b], rate[b]
        )
    return qty, rate


def _borrowing_row(
    reserves: float,
    lclor: float,
    shock_sd: float,
    cost: float,
    iorb: float,
    penalty: float,
    qty: np.ndarray,
    rate: np.ndarray,
) -> None:
    """One bank's borrowing tranches, written into `qty` and `rate`."""
    k_max = _Z.size
    gap = lclor - reserves
    slope = penalty - iorb
    nxt = max(gap - shock_sd * _Z[k_max - 1], 0.0)
    qty[k_max - 1] = nxt
    rate[k_max - 1] = iorb + slope * SHORTFALL_PROBABILITIES[k_max - 1] - cost
    for k in range(k_max - 2, -1, -1):
        cum = max(gap - shock_sd * _Z[k], 0.0)
        qty[k] = cum - nxt
        nxt = cum
        rate[k] = iorb + slope * SHORTFALL_PROBABILITIES[k] - cost


def _borrowing_orders_loops(
    reserves: np.ndarray,
    lclor: np.ndarray,
    shock_sd: np.ndarray,
    cost: np.ndarray,
    iorb: float,
    penalty: np.ndarray,
    range_sd: float,
    first_row: int,
    qty_before: np.ndarray,
    rate_before: np.ndarray,
    rows_before: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`Bank.borrowing_orders` as loops."""
    k_max, m = _Z.size, qty_before.size
    size = m + reserves.size * k_max
    qty, rate, rows = np.empty(size), np.empty(size), np.empty(size, dtype=np.int64)
    qty[:m], rate[:m], rows[:m] = qty_before, rate_before, rows_before
    q, r = np.empty(k_max), np.empty(k_max)
    n = m
    for b in range(reserves.size):
        if not reserves[b] < lclor[b] + range_sd * shock_sd[b]:
            continue
        _borrowing_row(reserves[b], lclor[b], shock_sd[b], cost[b], iorb, penalty[b], q, r)
        for k in range(k_max):
            if q[k] > 0:
                qty[n], rate[n], rows[n] = q[k], r[k], first_row + b
                n += 1
    return qty[:n], rate[:n], rows[:n]


_borrowing_row = markets.compiled(_borrowing_row)
_lending_row = markets.compiled(_lending_row)
_lending_orders_kernel = markets.compiled(_lending_orders_loops)
_lending_kernel = markets.compiled(_lending_schedule_loops)
_borrowing_kernel = markets.compiled(_borrowing_schedule_loops)
_borrowing_orders_kernel = markets.compiled(_borrowing_orders_loops)


# ---------------------------------------------------------------------- reserve positions
def positions_numpy(
    balances: np.ndarray,
    deposits_col: int,
    reserves_col: int,
    bank_start: int,
    n_banks: int,
    client_starts: np.ndarray,
    client_sizes: np.ndarray,
    client_custodians: np.ndarray,
    n_custodians: int,
) -> np.ndarray:
    """Each bank's own reserve position: its reserves less its clients' cash balances.

    The arguments are `FedPlumbingModel.bank_position_inputs()` (see `bank_positions`
    there); the markets' order-book kernels compute the positions from them themselves
    (`positions_kernel`), rather than have them computed by a call of their own.

    Args:
        balances: the ledger's matrix.
        deposits_col: the column of deposits held.
        reserves_col: the column of reserves held.
        bank_start: the first bank's row.
        n_banks: the number of banks.
        client_starts: first row of each client population.
        client_sizes: size of each client population.
        client_custodians: every client's custodian, population after population.
        n_custodians: the number of custodian banks (the first ones).
    """
    client_cash = np.zeros(n_custodians)
    first = 0
    for start, size in zip(client_starts.tolist(), client_sizes.tolist(), strict=True):
        client_cash += np.bincount(
            client_custodians[first : first + size],
            weights=balances[start : start + size, deposits_col],
            minlength=n_custodians,
        )
        first += size
    positions = balances[bank_start : bank_start + n_banks, reserves_col].copy()
    positions[:n_custodians] -= client_cash
    return positions


def _positions_loops(
    balances: np.ndarray,
    deposits_col: int,
    reserves_col: int,
    bank_start: int,
    n_banks: int,
    client_starts: np.ndarray,
    client_sizes: np.ndarray,
    client_custodians: np.ndarray,
    n_custodians: int,
) -> np.ndarray:
    """`positions_numpy` as loops (np.bincount adds in index order too).

    Args:
        balances: the ledger's matrix.
        deposits_col: the column of deposits held.
        reserves_col: the column of reserves held.
        bank_start: the first bank's row.
        n_banks: the number of banks.
        client_starts: first row of each client population.
        client_sizes: size of each client population.
        client_custodians: every client's custodian, population after population.
        n_custodians: the number of custodian banks (the first ones).
    """
    client_cash, via = np.zeros(n_custodians), np.empty(n_custodians)
    first = 0
    for p in range(client_starts.size):
        size = client_sizes[p]
        via[:] = 0.0
        for i in range(size):
            via[client_custodians[first + i]] += balances[client_starts[p] + i, deposits_col]
        for c in range(n_custodians):
            client_cash[c] += via[c]
        first += size
    positions = np.empty(n_banks)
    for b in range(n_banks):
        positions[b] = balances[bank_start + b, reserves_col]
    for c in range(n_custodians):
        positions[c] -= client_cash[c]
    return positions


#: `positions_numpy`, compiled (callable from the market kernels too).
positions_kernel = markets.compiled(_positions_loops)
