"""The overnight repo market (the SOFR analogue): cash lenders against Treasury collateral.

Lenders: money funds (tri-party cash), the large repo-active banks (their reserves), and the
Fed when it runs temporary repo operations. Borrowers: dealers financing inventory and
hedge-fund lending, and repo-active banks short of reserves. A borrower can bid only for what
its unencumbered collateral supports after haircuts; when a trade is booked the collateral
moves into the lenders' custody until tomorrow's unwind.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.agents.bank import Bank
from fedplumbing.agents.dealer import Dealer
from fedplumbing.agents.mmf import MoneyMarketFund
from fedplumbing.sim import markets
from fedplumbing.sim.ledger import SECURITIES, Ledger, LedgerError
from fedplumbing.sim.markets import Clearing, clear_call_market, order_rows
from fedplumbing.sim.payments import FED

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel


def collateral_capacity(
    model: FedPlumbingModel, rows: slice | np.ndarray, haircut: float
) -> np.ndarray:
    """Cash that `rows` could raise against their unencumbered Treasuries ($bn)."""
    led = model.ledger
    if markets.USE_COMPILED and type(rows) is slice:
        return _capacity_kernel(
            led.balances,
            led.rehypothecable,
            led.pledged,
            rows.start,
            rows.stop,
            _pledge_columns(led),
            1 - haircut,
        )
    return (led.unencumbered("coupons", rows) + led.unencumbered("bills", rows)) * (1 - haircut)


def pledge_for(
    model: FedPlumbingModel,
    borrower_rows: np.ndarray,
    borrowed: np.ndarray,
    lender_rows: np.ndarray,
    lent: np.ndarray,
    haircut: float,
) -> None:
    """Move collateral worth `borrowed / (1 - haircut)` into the lenders' custody.

    Borrowers pledge coupons first, then bills; lenders share the custody in proportion to
    their lending. Compiled, one kernel does it all (`_pledge_loops`, the same floats as
    `_pledge_by_security`); in debug mode it runs on copies of the custody matrices and must
    match the numpy path.

    Raises:
        LedgerError: if a borrower would pledge more than it holds unencumbered.
    """
    if not markets.USE_COMPILED:
        _pledge_by_security(model, borrower_rows, borrowed, lender_rows, lent, haircut)
        return
    led = model.ledger
    debug = led.debug
    pledged = led.pledged.copy(order="F") if debug else led.pledged
    custody = led.held_as_collateral.copy(order="F") if debug else led.held_as_collateral
    ok = _pledge_kernel(
        np.ascontiguousarray(borrower_rows, dtype=np.int64),
        np.ascontiguousarray(borrowed, dtype=float),
        np.ascontiguousarray(lender_rows, dtype=np.int64),
        np.ascontiguousarray(lent, dtype=float),
        haircut,
        led.balances,
        led.rehypothecable,
        pledged,
        custody,
        _pledge_columns(led),
    )
    if not ok:
        raise LedgerError("cannot pledge more collateral than held unencumbered")
    if debug:
        _pledge_by_security(model, borrower_rows, borrowed, lender_rows, lent, haircut)
        if not (
            np.array_equal(pledged, led.pledged) and np.array_equal(custody, led.held_as_collateral)
        ):
            raise LedgerError("compiled pledge differs from the pledges made security by security")


@lru_cache(maxsize=8)
def _pledge_columns_cached(coupons: tuple[int, int], bills: tuple[int, int]) -> np.ndarray:
    columns = np.array([coupons, bills], dtype=np.int64)
    columns.flags.writeable = False
    return columns


def _pledge_columns(led: Ledger) -> np.ndarray:
    """(ledger column, custody column) of coupons, then bills: the order borrowers pledge."""
    return _pledge_columns_cached(
        (led.asset("coupons"), SECURITIES.index("coupons")),
        (led.asset("bills"), SECURITIES.index("bills")),
    )


def _pledge_by_security(
    model: FedPlumbingModel,
    borrower_rows: np.ndarray,
    borrowed: np.ndarray,
    lender_rows: np.ndarray,
    lent: np.ndarray,
    haircut: float,
) -> None:
    """`pledge_for` in numpy, through `Ledger.pledge` (the reference of the kernel)."""
    led = model.ledger
    n = led.n_holders
    need = np.bincount(borrower_rows, weights=borrowed, minlength=n) / (1.0 - haircut)
    custody = np.bincount(lender_rows, weights=lent, minlength=n)
    if custody.sum() <= 0:
        return
    custody /= custody.sum()
    rows = np.flatnonzero(need > 0)
    for sec in ("coupons", "bills"):
        if rows.size == 0:
            break
        give = np.minimum(need[rows], np.maximum(led.unencumbered(sec, rows), 0.0))
        led.pledge(sec, rows, give, custody)
        need[rows] -= give


class RepoMarket:
    """Builds the day's repo orders from balance sheets and clears them."""

    def clear(self, model: FedPlumbingModel) -> Clearing:
        """Collect orders, clear the market, book the trades and pledge the collateral."""
        cfg, led, rates = model.config, model.ledger, model.rates_today
        banks, mmfs, dealers = model.banks, model.mmfs, model.dealers
        n_active = cfg.population.repo_active_banks
        active = slice(banks.rows.start, banks.rows.start + n_active)

        # asks: money funds, repo-active banks, Fed operations
        shares = led.owed("mmf_shares", mmfs.rows)
        q_m, r_m = MoneyMarketFund.repo_offers(
            led.held("deposits", mmfs.rows),
            shares,
            mmfs["premium"],
            rates.on_rrp,
            cfg.mmfs.liquidity_buffer,
            cfg.mmfs.max_repo_share,
            cfg.fed.on_rrp_cap,
            cfg.mmfs.switch_spread_bp / 100.0,
        )
        reserves = model.bank_positions()[:n_active]
        lclor, shock_sd = banks["lclor"][:n_active], banks["shock_sd"][:n_active]
        cost = model.bank_cost_today()[:n_active]
        penalty = model.bank_penalty_rate()[:n_active]
        q_b, r_b = Bank.lending_schedule(reserves, lclor, shock_sd, cost, rates.iorb, penalty)
        ops = model.fed_repo_ops_today
        ask_qty = np.concatenate([q_m.ravel(), q_b.ravel(), [ops]])
        ask_rate = np.concatenate([r_m.ravel(), r_b.ravel(), [rates.iorb]])
        ask_rows = order_rows(
            (mmfs.rows.start, mmfs.rows.stop, q_m.shape[1]),
            (active.start, active.stop, q_b.shape[1]),
            (FED, FED + 1, 1),
        )

        # bids: dealers and short repo-active banks, limited by collateral
        h = cfg.dealers.haircut
        need = np.maximum(-led.held("deposits", dealers.rows), 0.0)
        q_d, r_d = Dealer.funding_bids(
            need,
            collateral_capacity(model, dealers.rows, h),
            model.dealer_fallback_rate(),
            cfg.dealers.elastic_share,
            rates.iorb + cfg.dealers.elastic_spread_bp / 100.0,
        )
        q_s, r_s = Bank.borrowing_schedule(reserves, lclor, shock_sd, cost, rates.iorb, penalty)
        cap = collateral_capacity(model, active, h)
        q_s = _cap_rows(q_s, cap)
        bid_qty = np.concatenate([q_d.ravel(), q_s.ravel()])
        bid_rate = np.concatenate([r_d.ravel(), r_s.ravel()])
        bid_rows = order_rows(
            (dealers.rows.start, dealers.rows.stop, q_d.shape[1]),
            (active.start, active.stop, q_s.shape[1]),
        )

        result = clear_call_market(
            bid_qty,
            bid_rate,
            ask_qty,
            ask_rate,
            sessions=cfg.markets.sessions,
            imbalance=cfg.markets.repo_imbalance,
        )
        q_elastic = q_d[:, 1]
        fill_elastic = result.bid_fill[1 : 2 * dealers.size : 2]
        model.dealer_elastic_unfilled = np.maximum(q_elastic - fill_elastic, 0.0)
        if result.volume <= 0:
            return result
        days = model.accrual_days_today
        fed_fill = result.ask_fill[-1]
        phi = fed_fill / result.volume
        private = slice(0, len(ask_qty) - 1)
        # Borrowers owe each lender group what that group earns: the Fed's share of every
        # borrower's fills at the Fed's rate, the private share at the private lenders'
        # average rate relative to the borrower's own.
        fed_rate = result.ask_rate[-1] if fed_fill > 0 else 0.0
        private_value = float(result.ask_fill[private] @ result.ask_rate[private])
        bid_value = float((result.bid_fill * (1 - phi)) @ result.bid_rate)
        scale = private_value / bid_value if bid_value > 0 else 1.0
        model.overnight.book(
            "repo",
            "repo",
            ask_rows[private],
            result.ask_fill[private],
            result.ask_rate[private],
            bid_rows,
            result.bid_fill * (1 - phi),
            result.bid_rate * scale,
            days,
        )
        if fed_fill > 0:
            model.overnight.book(
                "Fed repo operations",
                "fed_repo",
                np.array([FED]),
                np.array([fed_fill]),
                np.array([fed_rate]),
                bid_rows,
                result.bid_fill * phi,
                np.full(len(bid_rows), fed_rate),
                days,
            )
        pledge_for(model, bid_rows, result.bid_fill, ask_rows, result.ask_fill, h)
        return result


def _cap_rows(qty: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Scale each row of tranche amounts so that the row total does not exceed `cap`."""
    if markets.USE_COMPILED:
        return _cap_rows_kernel(np.ascontiguousarray(qty), np.ascontiguousarray(cap))
    total = qty.sum(axis=1)
    scale = np.where(total > cap, np.maximum(cap, 0.0) / np.where(total > 0, total, 1.0), 1.0)
    return qty * scale[:, None]


def _pledge_loops(
    borrower_rows: np.ndarray,
    borrowed: np.ndarray,
    lender_rows: np.ndarray,
    lent: np.ndarray,
    haircut: float,
    balances: np.ndarray,
    rehypothecable: np.ndarray,
    pledged: np.ndarray,
    held_as_collateral: np.ndarray,
    columns: np.ndarray,
) -> bool:
    """`_pledge_by_security` as loops: the same operations in the same order.

    Args:
        borrower_rows: the borrowers' ledger rows, one per order.
        borrowed: the borrowers' fills.
        lender_rows: the lenders' ledger rows, one per order.
        lent: the lenders' fills.
        haircut: the repo haircut.
        balances: the ledger's matrix (read only).
        rehypothecable: collateral each holder may re-pledge, by security.
        pledged: collateral pledged today, by holder and security (changed in place).
        held_as_collateral: collateral in custody, by holder and security (changed in place).
        columns: (ledger column, custody column) of each security, in pledging order.

    Returns:
        False if a borrower would pledge more than it holds unencumbered (the pledges of
        the securities before are made, as `Ledger.pledge` would have made them).
    """
    n = balances.shape[0]
    need, custody = np.zeros(n), np.zeros(n)  # np.bincount: sums in order of the orders
    for i in range(borrower_rows.size):
        need[borrower_rows[i]] += borrowed[i]
    for i in range(n):
        need[i] = need[i] / (1.0 - haircut)
    for i in range(lender_rows.size):
        custody[lender_rows[i]] += lent[i]
    total = markets.numpy_sum(custody)
    if total <= 0:
        return True
    for i in range(n):
        custody[i] /= total
    rows = np.flatnonzero(need > 0)
    if rows.size == 0:
        return True
    give = np.empty(rows.size)
    for c in range(columns.shape[0]):
        col, s = columns[c, 0], columns[c, 1]
        for j in range(rows.size):
            r = rows[j]
            free = balances[r, col] + rehypothecable[r, s] - pledged[r, s]
            # np.minimum(need, np.maximum(free, 0.0)): NaN propagates, ties give the second
            if not free > 0.0 and free == free:
                free = 0.0
            give[j] = need[r] if need[r] < free or need[r] != need[r] else free
        for j in range(rows.size):  # Ledger.pledge: no more than held unencumbered
            r = rows[j]
            if give[j] > balances[r, col] + rehypothecable[r, s] - pledged[r, s] + 1e-9:
                return False
        for j in range(rows.size):
            pledged[rows[j], s] += give[j]
        given = markets.numpy_sum(give)
        for i in range(n):
            held_as_collateral[i, s] += given * custody[i]
        for j in range(rows.size):
            need[rows[j]] -= give[j]
    return True


_pledge_kernel = markets.compiled(_pledge_loops)


def _capacity_loops(
    balances: np.ndarray,
    rehypothecable: np.ndarray,
    pledged: np.ndarray,
    start: int,
    stop: int,
    columns: np.ndarray,
    keep: float,
) -> np.ndarray:
    """`collateral_capacity` of rows `start:stop` as one loop (the same floats).

    Args:
        balances: the ledger's matrix.
        rehypothecable: collateral each holder may re-pledge, by security.
        pledged: collateral pledged today, by holder and security.
        start: the first row.
        stop: the row after the last.
        columns: (ledger column, custody column) of coupons, then bills (`_pledge_columns`).
        keep: 1 - the haircut.
    """
    coupons_col, coupons_custody = columns[0, 0], columns[0, 1]
    bills_col, bills_custody = columns[1, 0], columns[1, 1]
    out = np.empty(stop - start)
    for i in range(start, stop):
        coupons = balances[i, coupons_col] + rehypothecable[i, coupons_custody]
        coupons = coupons - pledged[i, coupons_custody]
        bills = (
            balances[i, bills_col] + rehypothecable[i, bills_custody] - pledged[i, bills_custody]
        )
        out[i - start] = (coupons + bills) * keep
    return out


_capacity_kernel = markets.compiled(_capacity_loops)


def _cap_rows_loops(qty: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """`_cap_rows` as loops: row totals summed as numpy sums a row (pairwise), same floats."""
    out = np.empty_like(qty)
    n_rows, n_cols = qty.shape
    for b in range(n_rows):
        total = markets.numpy_sum(qty[b])
        scale = 1.0
        # np.where(total > cap, np.maximum(cap, 0.0) / (total if total > 0 else 1.0), 1.0)
        if total > cap[b]:
            top = cap[b] if cap[b] > 0.0 or cap[b] != cap[b] else 0.0
            scale = top / (total if total > 0 else 1.0)
        for k in range(n_cols):
            out[b, k] = qty[b, k] * scale
    return out


_cap_rows_kernel = markets.compiled(_cap_rows_loops)
