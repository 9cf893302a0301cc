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

from fedplumbing.agents import bank as bank_module
from fedplumbing.agents.bank import SHORTFALL_PROBABILITIES, Bank
from fedplumbing.agents.dealer import Dealer
from fedplumbing.agents.mmf import MoneyMarketFund
from fedplumbing.sim import markets
from fedplumbing.sim.ledger import SECURITIES, Ledger, LedgerError
from fedplumbing.sim.markets import Clearing, clear_call_market, order_rows
from fedplumbing.sim.payments import FED, FED_ROW

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
    # the arrays go to the kernel as they are (no conversions, this runs every day): the
    # repo market and the SRF pass read-only int64 rows and contiguous float64 amounts
    ok = _pledge_kernel(
        borrower_rows,
        borrowed,
        lender_rows,
        lent,
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
        cfg = model.config
        book = order_book if markets.USE_COMPILED else _order_book_numpy
        ask_qty, ask_rate, ask_rows, bid_qty, bid_rate, bid_rows, q_elastic = book(model)
        dealers = model.dealers
        h = cfg.dealers.haircut

        result = clear_call_market(
            bid_qty,
            bid_rate,
            ask_qty,
            ask_rate,
            sessions=cfg.markets.sessions,
            imbalance=cfg.markets.repo_imbalance,
        )
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
        private_fill = result.bid_fill * (1 - phi)
        bid_value = float(private_fill @ result.bid_rate)
        scale = private_value / bid_value if bid_value > 0 else 1.0
        model.overnight.book(
            "repo",
            "repo",
            ask_rows[private],
            result.ask_fill[private],
            result.ask_rate[private],
            bid_rows,
            private_fill,
            result.bid_rate * scale,
            days,
        )
        if fed_fill > 0:
            model.overnight.book_at_rate(
                "Fed repo operations",
                "fed_repo",
                FED_ROW,
                np.array([fed_fill]),
                bid_rows,
                result.bid_fill * phi,
                fed_rate,
                days,
            )
        pledge_for(model, bid_rows, result.bid_fill, ask_rows, result.ask_fill, h)
        return result


def order_book(model: FedPlumbingModel) -> tuple[np.ndarray, ...]:
    """The day's repo orders, built in one compiled call (`_order_book_loops`).

    The same arrays as `_order_book_numpy`, bit for bit, without its two dozen numpy
    steps, the collateral and capping kernels' calls and the concatenations.
    """
    cfg, led, rates = model.config, model.ledger, model.rates_today
    banks, mmfs, dealers = model.banks, model.mmfs, model.dealers
    n_active = cfg.population.repo_active_banks
    first = banks.rows.start
    active = slice(first, first + n_active)
    c = cfg.mmfs
    book = _order_book_kernel(
        led.balances,
        led.rehypothecable,
        led.pledged,
        _pledge_columns(led),
        led.asset("deposits"),
        led.liability("mmf_shares"),
        mmfs.rows.start,
        mmfs["premium"],
        (
            float(rates.on_rrp),
            float(c.liquidity_buffer),
            float(c.max_repo_share),
            float(cfg.fed.on_rrp_cap),
        ),
        c.switch_spread_bp / 100.0,
        first,
        model.bank_position_inputs(),
        banks["lclor"][:n_active],
        banks["shock_sd"][:n_active],
        model.bank_cost_today()[:n_active],
        rates.iorb,
        model.bank_penalty_rate()[:n_active],
        float(model.fed_repo_ops_today),
        dealers.rows.start,
        dealers.size,
        1 - cfg.dealers.haircut,
        float(model.dealer_fallback_rate()),
        float(cfg.dealers.elastic_share),
        rates.iorb + cfg.dealers.elastic_spread_bp / 100.0,
    )
    ask_qty, ask_rate, bid_qty, bid_rate = book
    ask_rows, bid_rows = _order_rows(mmfs.rows, active, dealers.rows)
    return (
        ask_qty,
        ask_rate,
        ask_rows,
        bid_qty,
        bid_rate,
        bid_rows,
        bid_qty[1 : 2 * dealers.size : 2],
    )


def _order_rows(mmfs: slice, active: slice, dealers: slice) -> tuple[np.ndarray, np.ndarray]:
    """Ledger rows of the asks (money funds, active banks, the Fed) and of the bids."""
    tranches = SHORTFALL_PROBABILITIES.size
    asks = order_rows(
        (mmfs.start, mmfs.stop, 3), (active.start, active.stop, tranches), (FED, FED + 1, 1)
    )
    return asks, order_rows((dealers.start, dealers.stop, 2), (active.start, active.stop, tranches))


def _order_book_numpy(model: FedPlumbingModel) -> tuple[np.ndarray, ...]:
    """The day's repo orders: the reference of `order_book`.

    Returns:
        (ask amounts, ask rates, ask ledger rows, bid amounts, bid rates, bid ledger rows,
        dealers' elastic bids). Asks: money funds (three tranches each), the repo-active
        banks (a lending schedule each), then the Fed's operation at IORB. Bids: dealers
        (inelastic, then elastic) and the repo-active banks' borrowing schedules, each
        scaled down to what its collateral supports.
    """
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
    ask_rows, bid_rows = _order_rows(mmfs.rows, active, dealers.rows)
    return ask_qty, ask_rate, ask_rows, bid_qty, bid_rate, bid_rows, q_d[:, 1]


def _order_book_loops(
    balances: np.ndarray,
    rehypothecable: np.ndarray,
    pledged: np.ndarray,
    pledge_columns: np.ndarray,
    deposits_col: int,
    shares_col: int,
    mmf_first: int,
    premium: np.ndarray,
    mmf_terms: tuple[float, float, float, float],
    switch_spread: float,
    bank_first: int,
    positions: tuple,
    lclor: np.ndarray,
    shock_sd: np.ndarray,
    cost: np.ndarray,
    iorb: float,
    penalty: np.ndarray,
    fed_ops: float,
    dealer_first: int,
    n_dealers: int,
    keep: float,
    fallback_rate: float,
    elastic_share: float,
    elastic_limit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`_order_book_numpy`'s amounts and rates as loops: the same operations, same floats.

    np.maximum and np.minimum are written out as numpy computes them: a NaN in either
    argument gives NaN, and of two equal arguments (0.0 and -0.0) the second is returned.

    Args:
        balances: the ledger's matrix.
        rehypothecable: collateral each holder may re-pledge, by security.
        pledged: collateral pledged today, by holder and security.
        pledge_columns: (ledger column, custody column) of coupons, then bills.
        deposits_col: the ledger column of deposits held.
        shares_col: the ledger column of money-fund shares owed.
        mmf_first: ledger row of the first money fund.
        premium: each fund's repo premium over the ON RRP rate (percent).
        mmf_terms: (ON RRP rate, liquidity buffer, largest repo share, ON RRP cap).
        switch_spread: what repo must pay over the premium for cash to leave the ON RRP.
        bank_first: ledger row of the first (repo-active) bank.
        positions: `FedPlumbingModel.bank_position_inputs()`: the banks' reserve positions
            are computed here (`bank.positions_kernel`, the first `lclor.size` of them
            repo-active), which saves a compiled call and the loading of its kernel.
        lclor: their lowest comfortable levels ($bn).
        shock_sd: s.d. of their end-of-day payment shocks ($bn).
        cost: their balance-sheet costs (percent).
        iorb: interest on reserve balances (percent).
        penalty: their costs of ending the day below the LCLoR (percent).
        fed_ops: the Fed's repo operation today ($bn).
        dealer_first: ledger row of the first dealer.
        n_dealers: number of dealers.
        keep: 1 - the repo haircut.
        fallback_rate: the most dealers pay for their inelastic need (percent).
        elastic_share: share of the need dealers would rather cut than pay up for.
        elastic_limit: the most they pay for that elastic part (percent).

    Returns:
        (ask amounts, ask rates, bid amounts, bid rates).
    """
    on_rrp, buffer, max_repo_share, on_rrp_cap = mmf_terms
    reserves = bank_module.positions_kernel(*positions)[: lclor.size]
    n_mmf, n_banks, k_max = premium.size, reserves.size, SHORTFALL_PROBABILITIES.size
    n_ask = 3 * n_mmf + n_banks * k_max + 1
    ask_qty, ask_rate = np.empty(n_ask), np.empty(n_ask)
    for f in range(n_mmf):  # MoneyMarketFund.repo_offers
        cash, shares = balances[mmf_first + f, deposits_col], balances[mmf_first + f, shares_col]
        investable = cash - buffer * shares
        investable = investable if investable > 0.0 or investable != investable else 0.0
        limit = max_repo_share * shares
        main = investable if investable < limit or investable != investable else limit
        rest = investable - main
        switch = rest if rest < on_rrp_cap or rest != rest else on_rrp_cap
        ask_qty[3 * f], ask_qty[3 * f + 1], ask_qty[3 * f + 2] = main, switch, rest - switch
        ask_rate[3 * f] = on_rrp + premium[f]
        ask_rate[3 * f + 1] = ask_rate[3 * f] + switch_spread
        ask_rate[3 * f + 2] = on_rrp - 0.05
    for b in range(n_banks):  # Bank.lending_schedule
        start = 3 * n_mmf + b * k_max
        bank_module._lending_row(
            reserves[b],
            lclor[b],
            shock_sd[b],
            cost[b],
            iorb,
            penalty[b],
            ask_qty[start : start + k_max],
            ask_rate[start : start + k_max],
        )
    ask_qty[n_ask - 1], ask_rate[n_ask - 1] = fed_ops, iorb

    n_bid = 2 * n_dealers + n_banks * k_max
    bid_qty, bid_rate = np.empty(n_bid), np.empty(n_bid)
    capacity = _capacity_kernel(
        balances,
        rehypothecable,
        pledged,
        dealer_first,
        dealer_first + n_dealers,
        pledge_columns,
        keep,
    )
    for d in range(n_dealers):  # Dealer.funding_bids
        need = -balances[dealer_first + d, deposits_col]
        need = need if need > 0.0 or need != need else 0.0
        need = need if need < capacity[d] or need != need else capacity[d]
        elastic = elastic_share * need
        bid_qty[2 * d], bid_qty[2 * d + 1] = need - elastic, elastic
        bid_rate[2 * d], bid_rate[2 * d + 1] = fallback_rate, elastic_limit
    # Bank.borrowing_schedule, each bank's tranches scaled to its collateral (_cap_rows)
    short_qty, short_rate = bank_module._borrowing_kernel(
        reserves, lclor, shock_sd, cost, iorb, penalty
    )
    cap = _capacity_kernel(
        balances, rehypothecable, pledged, bank_first, bank_first + n_banks, pledge_columns, keep
    )
    short_qty = _cap_rows_kernel(short_qty, cap)
    for b in range(n_banks):
        for k in range(k_max):
            bid_qty[2 * n_dealers + b * k_max + k] = short_qty[b, k]
            bid_rate[2 * n_dealers + b * k_max + k] = short_rate[b, k]
    return ask_qty, ask_rate, bid_qty, bid_rate


_order_book_kernel = markets.compiled(_order_book_loops)


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
