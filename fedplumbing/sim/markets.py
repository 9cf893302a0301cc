"""Daily call markets for overnight funds (repo and fed funds), cleared from limit orders.

`clear_call_market` is a pure function over arrays. The day is split into intraday sessions:
every session sees an equal share of each lender's offers, while borrowers' needs arrive
front-loaded (early-morning Treasury settlement and payment timing), so the first sessions
face more demand relative to supply than the last. Each session clears at a uniform price
where its supply meets its demand. When the supply curve is flat (ample reserves) all
sessions clear within a basis point or two; when it is steep (scarce reserves) the same
imbalance spreads the session prices far apart. The sessions' prices and volumes form the
day's distribution of trade rates, from which the volume-weighted median and percentiles are
published, as the New York Fed does for SOFR and EFFR.

Limit rates are put on a grid of 0.1 bp ticks and aggregated with `np.bincount`, so the cost
is linear in the number of orders, with no sort of the individual orders.

Two implementations give the same numbers, bit for bit: `_clear_numpy` (vectorised numpy,
the reference) and `_clear_compiled`, the same arithmetic in one loop-based kernel compiled by
Numba. A day clears two markets of a few thousand orders; numpy needs some 70 array
operations per market, whose call overhead dominates, where the kernel takes a few
microseconds. The compiled kernel is used when Numba is installed, unless the environment
sets ``FEDPLUMBING_NUMBA=0``; tests check the two against each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency, the fallback is pure numpy
    numba = None

TICK = 0.001  # percent (0.1 bp)
PERCENTILES = (1.0, 25.0, 50.0, 75.0, 99.0)
_PERCENTILE_FRACTIONS = np.array(PERCENTILES) / 100.0
#: Whether `clear_call_market` uses the compiled kernel.
USE_COMPILED = numba is not None and os.environ.get("FEDPLUMBING_NUMBA", "1") != "0"


@dataclass
class Clearing:
    """Outcome of one call market.

    Attributes:
        volume: matched amount ($bn).
        bid_fill, ask_fill: amount filled per order ($bn).
        bid_rate, ask_rate: average trade rate of each order's fills (percent; 0 if unfilled).
        session_rates, session_volumes: clearing price (percent) and volume ($bn) per session.
        percentiles: volume-weighted trade-rate percentiles {1, 25, 50, 75, 99} (percent;
            NaN when nothing traded).
    """

    volume: float
    bid_fill: np.ndarray
    ask_fill: np.ndarray
    bid_rate: np.ndarray
    ask_rate: np.ndarray
    session_rates: np.ndarray
    session_volumes: np.ndarray
    percentiles: dict[float, float]

    @property
    def median(self) -> float:
        """Volume-weighted median trade rate (percent)."""
        return self.percentiles[50.0]


def session_demand_factors(sessions: int, imbalance: float) -> np.ndarray:
    """Demand relative to supply in each session: from 1 + imbalance down to 1 - imbalance.

    The factors average to one, so the whole day's demand is unchanged.
    """
    return _session_demand_factors(sessions, imbalance).copy()


@lru_cache(maxsize=64)
def _session_demand_factors(sessions: int, imbalance: float) -> np.ndarray:
    """`session_demand_factors`, computed once per market design (read-only)."""
    if sessions == 1:
        m = np.ones(1)
    else:
        x = 1.0 - 2.0 * (np.arange(sessions) + 0.5) / sessions
        m = 1.0 + imbalance * x
    m.flags.writeable = False
    return m


def compiled(func: Callable) -> Callable:
    """`func` compiled by Numba (cached on disk), or `func` itself when Numba is missing.

    Callers still choose between the compiled function and their numpy reference at call
    time with `USE_COMPILED`, so that tests can compare the two.
    """
    return numba.njit(cache=True)(func) if numba is not None else func


#: numpy sums blocks of up to this many values with eight interleaved accumulators.
_PAIRWISE_BLOCK = 128


def _block_sum_loops(values: np.ndarray, start: int, n: int) -> float:
    """The sum of a block of at most 128 values, as numpy adds it (`_pairwise_sum_loops`)."""
    if n < 8:
        total = 0.0
        for i in range(start, start + n):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[start], values[start + 1], values[start + 2], values[start + 3]
    r4, r5, r6, r7 = values[start + 4], values[start + 5], values[start + 6], values[start + 7]
    i = start + 8
    stop = start + n - n % 8
    while i < stop:
        r0 += values[i]
        r1 += values[i + 1]
        r2 += values[i + 2]
        r3 += values[i + 3]
        r4 += values[i + 4]
        r5 += values[i + 5]
        r6 += values[i + 6]
        r7 += values[i + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < start + n:
        total += values[i]
        i += 1
    return total


_block_sum = compiled(_block_sum_loops)


def _pairwise_sum_loops(values: np.ndarray, start: int, n: int) -> float:
    """The pairwise summation of `values[start : start + n]`, as numpy's, op for op.

    The algorithm of numpy's `pairwise_sum` (the inner loop of `np.add.reduce` on floats):
    fewer than 8 values are added in order; up to 128 with eight interleaved accumulators,
    combined as ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the remainder in
    order; longer runs are split in two (the first half a multiple of 8) and the halves'
    sums added. The recursion runs on an explicit stack: Numba's disk cache cannot hold a
    function that calls itself.
    """
    if n <= _PAIRWISE_BLOCK:
        return _block_sum(values, start, n)
    # frames of the recursion: a run (first, size), its stage (0: sum the left half next,
    # 1: the left half's sum has come back, 2: the right half's too) and its left sum
    first, size = np.empty(64, dtype=np.int64), np.empty(64, dtype=np.int64)
    stage, left = np.zeros(64, dtype=np.int64), np.zeros(64)
    top = 0
    first[0], size[0] = start, n
    total = 0.0  # the sum of the last run finished
    while True:
        s, m = first[top], size[top]
        half = m // 2
        half -= half % 8
        if m <= _PAIRWISE_BLOCK:
            total = _block_sum(values, s, m)
        elif stage[top] == 0:
            stage[top] = 1
            top += 1
            first[top], size[top], stage[top] = s, half, 0
            continue
        elif stage[top] == 1:
            left[top] = total
            stage[top] = 2
            top += 1
            first[top], size[top], stage[top] = s + half, m - half, 0
            continue
        else:
            total = left[top] + total
        top -= 1
        if top < 0:
            return total


_pairwise_sum = compiled(_pairwise_sum_loops)


def _numpy_sum_loops(values: np.ndarray) -> float:
    """`float(np.sum(values))` of a 1-D float array, bit for bit, in compiled kernels.

    numpy starts the reduction from 0.0 and adds the pairwise sum of the whole array.
    """
    return 0.0 + _pairwise_sum(values, 0, values.size)


#: `np.sum` of a 1-D float array, callable from compiled kernels (the same float).
numpy_sum = compiled(_numpy_sum_loops)


def _empty(bid_qty: np.ndarray, ask_qty: np.ndarray) -> Clearing:
    nan_pct = dict.fromkeys(PERCENTILES, float("nan"))
    return Clearing(
        0.0,
        np.zeros_like(bid_qty),
        np.zeros_like(ask_qty),
        np.zeros_like(bid_qty),
        np.zeros_like(ask_qty),
        np.zeros(0),
        np.zeros(0),
        nan_pct,
    )


@lru_cache(maxsize=32)
def order_rows(*blocks: tuple[int, int, int]) -> np.ndarray:
    """Ledger row of every order of a book: each block's rows, each repeated for its tranches.

    The layout is the same every day, so the array is built once per layout and shared
    (read-only).

    Args:
        blocks: (first row, end row, tranches per row) of each group of orders, in book order.
    """
    rows = np.concatenate(
        [np.repeat(np.arange(start, stop), tranches) for start, stop, tranches in blocks]
    )
    rows.flags.writeable = False
    return rows


def clear_call_market(
    bid_qty: np.ndarray,
    bid_rate: np.ndarray,
    ask_qty: np.ndarray,
    ask_rate: np.ndarray,
    *,
    sessions: int = 40,
    imbalance: float = 0.15,
) -> Clearing:
    """Clear borrowers' bids against lenders' asks in intraday uniform-price sessions.

    Args:
        bid_qty: amounts borrowers want ($bn, >= 0).
        bid_rate: highest rate each borrower accepts (percent).
        ask_qty: amounts lenders offer ($bn, >= 0).
        ask_rate: lowest rate each lender accepts (percent).
        sessions: number of intraday sessions.
        imbalance: demand in the first session exceeds supply by this share, the last
            falls short by as much (0 = a single uniform price for the day).

    Returns:
        The fills, each order's average rate and the trade-rate distribution.
    """
    if USE_COMPILED:
        result = _clear_compiled(bid_qty, bid_rate, ask_qty, ask_rate, sessions, imbalance)
        if result is not None:
            return result
    return _clear_numpy(bid_qty, bid_rate, ask_qty, ask_rate, sessions, imbalance)


def _clear_numpy(
    bid_qty: np.ndarray,
    bid_rate: np.ndarray,
    ask_qty: np.ndarray,
    ask_rate: np.ndarray,
    sessions: int,
    imbalance: float,
) -> Clearing:
    """`clear_call_market` in vectorised numpy (the reference implementation)."""
    bid_qty = np.asarray(bid_qty, dtype=float)
    ask_qty = np.asarray(ask_qty, dtype=float)
    bids = np.flatnonzero(bid_qty > 0)
    asks = np.flatnonzero(ask_qty > 0)
    if bids.size == 0 or asks.size == 0:
        return _empty(bid_qty, ask_qty)
    result = _clear(
        bid_qty[bids],
        np.asarray(bid_rate, dtype=float)[bids],
        ask_qty[asks],
        np.asarray(ask_rate, dtype=float)[asks],
        sessions,
        imbalance,
    )
    if result.volume <= 0:
        return _empty(bid_qty, ask_qty)
    full = _empty(bid_qty, ask_qty)
    full.bid_fill[bids], full.bid_rate[bids] = result.bid_fill, result.bid_rate
    full.ask_fill[asks], full.ask_rate[asks] = result.ask_fill, result.ask_rate
    full.volume = result.volume
    full.session_rates, full.session_volumes = result.session_rates, result.session_volumes
    full.percentiles = result.percentiles
    return full


def _clear(
    bid_qty: np.ndarray,
    bid_rate: np.ndarray,
    ask_qty: np.ndarray,
    ask_rate: np.ndarray,
    sessions: int,
    imbalance: float,
) -> Clearing:
    """`clear_call_market` on orders of positive amount."""
    lo = min(bid_rate.min(), ask_rate.min())
    bid_tick = np.rint((bid_rate - lo) / TICK).astype(np.int64)
    ask_tick = np.rint((ask_rate - lo) / TICK).astype(np.int64)
    n_ticks = int(max(bid_tick.max(), ask_tick.max())) + 1
    supply_full = np.bincount(ask_tick, weights=ask_qty, minlength=n_ticks)
    demand_full = np.bincount(bid_tick, weights=bid_qty, minlength=n_ticks)
    levels = np.flatnonzero((supply_full > 0) | (demand_full > 0))  # ascending price levels
    supply, demand = supply_full[levels], demand_full[levels]
    cum_supply = np.cumsum(supply)  # offered at or below each level
    cum_demand = np.cumsum(demand[::-1])[::-1]  # bid at or above each level
    n_lev = len(levels)

    m = _session_demand_factors(sessions, imbalance)  # (S,)
    # supply/demand ratio rises along the levels; a session clears where it reaches m
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(cum_demand > 0, cum_supply / cum_demand, np.inf)
    k = np.searchsorted(ratio, m, side="left")  # first level where supply covers demand
    lower = np.maximum(k - 1, 0)
    upper = np.minimum(k, n_lev - 1)

    def volume_at(j: np.ndarray) -> np.ndarray:
        return np.minimum(cum_supply[j], m * cum_demand[j])

    v_low, v_up = volume_at(lower), volume_at(upper)
    j = np.where(v_up >= v_low, upper, lower)
    vol = np.maximum(v_up, v_low)  # per session, before the 1/S share
    if not np.any(vol > 0):
        return _empty(bid_qty, ask_qty)
    price = lo + TICK * levels[j]

    below = np.where(j > 0, cum_supply[np.maximum(j - 1, 0)], 0.0)
    ask_part = np.clip((vol - below) / np.where(supply[j] > 0, supply[j], 1.0), 0.0, 1.0)
    above = np.where(j < n_lev - 1, cum_demand[np.minimum(j + 1, n_lev - 1)], 0.0)
    bid_part = np.clip((vol / m - above) / np.where(demand[j] > 0, demand[j], 1.0), 0.0, 1.0)
    active = vol > 0
    w = active / sessions  # each session carries 1/S of every offer

    # fill fraction and rate-weighted fill fraction of every price level
    ask_frac = _strictly_above(j, w, n_lev) + np.bincount(j, weights=w * ask_part, minlength=n_lev)
    ask_val = _strictly_above(j, w * price, n_lev) + np.bincount(
        j, weights=w * ask_part * price, minlength=n_lev
    )
    wb = w * m
    bid_frac = _strictly_below(j, wb, n_lev) + np.bincount(
        j, weights=wb * bid_part, minlength=n_lev
    )
    bid_val = _strictly_below(j, wb * price, n_lev) + np.bincount(
        j, weights=wb * bid_part * price, minlength=n_lev
    )

    # orders of zero amount may sit at ticks with no level: clip, their fill is zero anyway
    level_of_tick = np.zeros(n_ticks, dtype=np.int64)
    level_of_tick[levels] = np.arange(n_lev)
    ask_level = level_of_tick[ask_tick]
    bid_level = level_of_tick[bid_tick]
    ask_fill = ask_qty * ask_frac[ask_level]
    bid_fill = bid_qty * bid_frac[bid_level]
    with np.errstate(invalid="ignore", divide="ignore"):
        ask_avg = np.where(
            ask_fill > 0, np.where(ask_frac > 0, ask_val / ask_frac, 0.0)[ask_level], 0.0
        )
        bid_avg = np.where(
            bid_fill > 0, np.where(bid_frac > 0, bid_val / bid_frac, 0.0)[bid_level], 0.0
        )

    session_vol = vol / sessions
    order = np.argsort(price, kind="stable")
    cum = np.cumsum(session_vol[order])
    total = float(cum[-1])
    pos = np.searchsorted(cum, np.array(PERCENTILES) / 100.0 * total, side="left")
    pct = price[order][np.minimum(pos, len(order) - 1)]
    return Clearing(
        volume=total,
        bid_fill=bid_fill,
        ask_fill=ask_fill,
        bid_rate=bid_avg,
        ask_rate=ask_avg,
        session_rates=price,
        session_volumes=session_vol,
        percentiles={p: float(r) for p, r in zip(PERCENTILES, pct, strict=True)},
    )


def _strictly_above(j: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """For each level t, the sum of `weights` of sessions clearing at a level above t."""
    at = np.bincount(j, weights=weights, minlength=n)
    return np.cumsum(at[::-1])[::-1] - at


def _strictly_below(j: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    """For each level t, the sum of `weights` of sessions clearing at a level below t."""
    at = np.bincount(j, weights=weights, minlength=n)
    return np.cumsum(at) - at


# ---------------------------------------------------------------------- compiled kernel
def _clear_compiled(
    bid_qty: np.ndarray,
    bid_rate: np.ndarray,
    ask_qty: np.ndarray,
    ask_rate: np.ndarray,
    sessions: int,
    imbalance: float,
) -> Clearing | None:
    """`clear_call_market` through the compiled kernel (None: leave it to numpy)."""
    bid_qty = np.ascontiguousarray(bid_qty, dtype=float)
    ask_qty = np.ascontiguousarray(ask_qty, dtype=float)
    status, volume, bids, asks, ses, pct = _kernel(
        bid_qty,
        np.ascontiguousarray(bid_rate, dtype=float),
        ask_qty,
        np.ascontiguousarray(ask_rate, dtype=float),
        _session_demand_factors(sessions, imbalance),
        _PERCENTILE_FRACTIONS,
    )
    if status == _NON_FINITE:
        return None
    if status == _NO_TRADE or volume <= 0:  # volume 0: session volumes underflowed
        return _empty(bid_qty, ask_qty)
    return Clearing(
        volume=volume,
        bid_fill=bids[0],
        ask_fill=asks[0],
        bid_rate=bids[1],
        ask_rate=asks[1],
        session_rates=ses[0],
        session_volumes=ses[1],
        percentiles=dict(zip(PERCENTILES, pct.tolist(), strict=True)),
    )


_TRADED, _NO_TRADE, _NON_FINITE = 0, 1, 2


def _clear_kernel(
    bid_qty: np.ndarray,
    bid_rate: np.ndarray,
    ask_qty: np.ndarray,
    ask_rate: np.ndarray,
    m: np.ndarray,
    pct_fractions: np.ndarray,
) -> tuple:
    """`_clear_numpy` as loops: the same operations in the same order, so the same floats.

    Variables are named as in `_clear_numpy`. Sums run in the order numpy's `bincount` and
    `cumsum` use (sequentially, in index order), and no operation is reassociated.

    Limit rates span thousands of ticks, of which a fraction carry orders (the levels), and
    the sessions clear at a few levels: the kernel keeps no per-level arrays of session
    weights (adding their zeros leaves the same floats), and the ratio of cumulative supply
    to demand is computed only where the sessions' searches look.

    Returns:
        (status, volume, bids, asks, sessions, percentiles): bids and asks are (2, orders)
        arrays of fills and average rates, sessions a (2, sessions) array of prices and
        volumes; status is _TRADED, _NO_TRADE or _NON_FINITE (a rate that is not a finite
        number: the caller falls back to numpy).
    """
    n_bid, n_ask, n_ses = bid_qty.size, ask_qty.size, m.size
    # fills and average rates, each written once (zero for orders of no amount) rather than
    # zeroed first: a few thousand orders' worth of memory
    bid_out, ask_out = np.empty((2, n_bid)), np.empty((2, n_ask))
    bid_fill, bid_avg, ask_fill, ask_avg = bid_out[0], bid_out[1], ask_out[0], ask_out[1]
    session_out = np.zeros((2, n_ses))  # prices, volumes
    price, session_vol = session_out[0], session_out[1]
    pct = np.full(pct_fractions.size, np.nan)

    # the orders of positive amount (nb, na of them; the loops below skip the others,
    # which costs less than gathering them through an index); lo = lowest limit rate
    nb, na = 0, 0
    lo, hi = np.inf, -np.inf
    finite = True
    for i in range(n_bid):
        if bid_qty[i] > 0:
            nb += 1
            lo, hi = min(lo, bid_rate[i]), max(hi, bid_rate[i])
            finite = finite and np.isfinite(bid_rate[i])
    for i in range(n_ask):
        if ask_qty[i] > 0:
            na += 1
            lo, hi = min(lo, ask_rate[i]), max(hi, ask_rate[i])
            finite = finite and np.isfinite(ask_rate[i])
    if nb == 0 or na == 0 or not finite:
        bid_out[:], ask_out[:] = 0.0, 0.0
    if nb == 0 or na == 0:
        return _NO_TRADE, 0.0, bid_out, ask_out, session_out, pct
    if not finite:
        return _NON_FINITE, 0.0, bid_out, ask_out, session_out, pct

    # ticks, and supply_full / demand_full (bincount over ticks); the highest tick is that
    # of the highest rate, since rounding is monotone
    n_ticks = np.int64(np.rint((hi - lo) / TICK)) + 1
    supply_full, demand_full = np.zeros(n_ticks), np.zeros(n_ticks)
    occupied = np.zeros(n_ticks, dtype=np.uint8)  # ticks with orders: 1
    # each order's tick (set for orders of positive amount)
    bid_tick, ask_tick = np.empty(n_bid, dtype=np.int64), np.empty(n_ask, dtype=np.int64)
    for i in range(n_ask):
        if not ask_qty[i] > 0:
            continue
        t = np.int64(np.rint((ask_rate[i] - lo) / TICK))
        ask_tick[i] = t
        occupied[t] = 1
        supply_full[t] += ask_qty[i]
    for i in range(n_bid):
        if not bid_qty[i] > 0:
            continue
        t = np.int64(np.rint((bid_rate[i] - lo) / TICK))
        bid_tick[i] = t
        occupied[t] = 1
        demand_full[t] += bid_qty[i]

    # levels: ticks with orders; cumulative supply (at or below) and demand (at or above)
    levels = np.empty(na + nb + 1, dtype=np.int64)  # at most one level per order
    n_lev = 0
    for t in range(n_ticks):  # branch-free compaction
        levels[n_lev] = t
        n_lev += occupied[t]
    cum_supply, cum_demand = np.empty(n_lev), np.empty(n_lev)
    acc = 0.0
    for lev in range(n_lev):
        acc += supply_full[levels[lev]]
        cum_supply[lev] = acc
    acc = 0.0
    for lev in range(n_lev - 1, -1, -1):
        acc += demand_full[levels[lev]]
        cum_demand[lev] = acc

    # each session's clearing level j, volume (before the 1/S share) and fill fractions
    j = np.zeros(n_ses, dtype=np.int64)
    vol, ask_part, bid_part = np.zeros(n_ses), np.zeros(n_ses), np.zeros(n_ses)
    traded = False
    for s in range(n_ses):
        # k = searchsorted(ratio, m[s], side="left"), where ratio = cum_supply / cum_demand
        # (inf where no demand) is non-decreasing: computed at the levels the search visits
        a, b = 0, n_lev
        while a < b:
            mid = (a + b) >> 1
            ratio = cum_supply[mid] / cum_demand[mid] if cum_demand[mid] > 0 else np.inf
            if ratio < m[s]:
                a = mid + 1
            else:
                b = mid
        lower, upper = max(a - 1, 0), min(a, n_lev - 1)
        v_low = min(cum_supply[lower], m[s] * cum_demand[lower])
        v_up = min(cum_supply[upper], m[s] * cum_demand[upper])
        j[s] = upper if v_up >= v_low else lower
        vol[s] = max(v_up, v_low)
        traded = traded or vol[s] > 0
    if not traded:
        bid_out[:], ask_out[:] = 0.0, 0.0
        return _NO_TRADE, 0.0, bid_out, ask_out, session_out, pct
    for s in range(n_ses):
        js = j[s]
        price[s] = lo + TICK * levels[js]
        below = cum_supply[js - 1] if js > 0 else 0.0
        supply = supply_full[levels[js]]
        denom = supply if supply > 0 else 1.0
        ask_part[s] = min(max((vol[s] - below) / denom, 0.0), 1.0)
        above = cum_demand[js + 1] if js < n_lev - 1 else 0.0
        demand = demand_full[levels[js]]
        denom = demand if demand > 0 else 1.0
        bid_part[s] = min(max((vol[s] / m[s] - above) / denom, 0.0), 1.0)

    # the sessions' weights summed by clearing level (bincount over j, in session order),
    # at the distinct clearing levels only: weight, weight x price, and both x the partial
    # fill, for lenders (w) and for borrowers (wb = w m)
    n_at = 0
    at_level = np.empty(n_ses, dtype=np.int64)
    at = np.zeros((n_ses, 8))
    for s in range(n_ses):
        slot = 0
        while slot < n_at and at_level[slot] != j[s]:
            slot += 1
        if slot == n_at:
            at_level[slot] = j[s]
            n_at += 1
        w = (1.0 if vol[s] > 0 else 0.0) / n_ses  # each session carries 1/S of every offer
        wb = w * m[s]
        at[slot, 0] += w
        at[slot, 1] += w * price[s]
        at[slot, 2] += w * ask_part[s]
        at[slot, 3] += w * ask_part[s] * price[s]
        at[slot, 4] += wb
        at[slot, 5] += wb * price[s]
        at[slot, 6] += wb * bid_part[s]
        at[slot, 7] += wb * bid_part[s] * price[s]
    by_level = np.argsort(at_level[:n_at])  # the clearing levels' slots, ascending

    # fill fraction and average rate at every level, stored by tick (ask_at, bid_at):
    # lenders at levels below a session's price fill fully (_strictly_above), borrowers
    # above it (_strictly_below). Levels where no session clears add zeros to the running
    # sums, which leaves them unchanged: such a level has the fraction and rate of the run
    # of levels it is in, whose quotient is computed once (the same floats)
    ask_at, bid_at = np.empty((n_ticks, 2)), np.empty((n_ticks, 2))  # set at levels only
    acc_w, acc_wp = 0.0, 0.0
    frac, avg = 0.0, 0.0
    nxt = n_at - 1
    for lev in range(n_lev - 1, -1, -1):
        t = levels[lev]
        if nxt >= 0 and at_level[by_level[nxt]] == lev:
            slot = by_level[nxt]
            nxt -= 1
            acc_w += at[slot, 0]
            acc_wp += at[slot, 1]
            part = (acc_w - at[slot, 0]) + at[slot, 2]
            value = (acc_wp - at[slot, 1]) + at[slot, 3]
            ask_at[t, 0] = part
            ask_at[t, 1] = value / part if part > 0 else 0.0
            frac = acc_w  # the levels below, down to the next clearing level
            avg = acc_wp / acc_w if acc_w > 0 else 0.0
        else:
            ask_at[t, 0], ask_at[t, 1] = frac, avg
    acc_w, acc_wp = 0.0, 0.0
    frac, avg = 0.0, 0.0
    nxt = 0
    for lev in range(n_lev):
        t = levels[lev]
        if nxt < n_at and at_level[by_level[nxt]] == lev:
            slot = by_level[nxt]
            nxt += 1
            acc_w += at[slot, 4]
            acc_wp += at[slot, 5]
            part = (acc_w - at[slot, 4]) + at[slot, 6]
            value = (acc_wp - at[slot, 5]) + at[slot, 7]
            bid_at[t, 0] = part
            bid_at[t, 1] = value / part if part > 0 else 0.0
            frac = acc_w  # the levels above, up to the next clearing level
            avg = acc_wp / acc_w if acc_w > 0 else 0.0
        else:
            bid_at[t, 0], bid_at[t, 1] = frac, avg

    # each order's fill and average rate
    for i in range(n_ask):
        if not ask_qty[i] > 0:
            ask_fill[i], ask_avg[i] = 0.0, 0.0
            continue
        t = ask_tick[i]
        ask_fill[i] = ask_qty[i] * ask_at[t, 0]
        ask_avg[i] = ask_at[t, 1] if ask_fill[i] > 0 else 0.0
    for i in range(n_bid):
        if not bid_qty[i] > 0:
            bid_fill[i], bid_avg[i] = 0.0, 0.0
            continue
        t = bid_tick[i]
        bid_fill[i] = bid_qty[i] * bid_at[t, 0]
        bid_avg[i] = bid_at[t, 1] if bid_fill[i] > 0 else 0.0

    # volume-weighted percentiles of the session prices (stable insertion sort by price)
    order = np.arange(n_ses)
    for s in range(1, n_ses):
        o = order[s]
        t = s - 1
        while t >= 0 and price[order[t]] > price[o]:
            order[t + 1] = order[t]
            t -= 1
        order[t + 1] = o
    cum = np.zeros(n_ses)
    acc = 0.0
    for s in range(n_ses):
        session_vol[s] = vol[s] / n_ses
    for s in range(n_ses):
        acc += session_vol[order[s]]
        cum[s] = acc
    total = cum[n_ses - 1]
    for p in range(pct_fractions.size):
        target = pct_fractions[p] * total
        a, b = 0, n_ses
        while a < b:  # searchsorted(cum, target, side="left")
            mid = (a + b) >> 1
            if cum[mid] < target:
                a = mid + 1
            else:
                b = mid
        pct[p] = price[order[min(a, n_ses - 1)]]
    return _TRADED, total, bid_out, ask_out, session_out, pct


_kernel = compiled(_clear_kernel)
