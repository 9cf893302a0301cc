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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TICK = 0.001  # percent (0.1 bp)
PERCENTILES = (1.0, 25.0, 50.0, 75.0, 99.0)


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
    if sessions == 1:
        return np.ones(1)
    x = 1.0 - 2.0 * (np.arange(sessions) + 0.5) / sessions
    return 1.0 + imbalance * x


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

    m = session_demand_factors(sessions, imbalance)  # (S,)
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
