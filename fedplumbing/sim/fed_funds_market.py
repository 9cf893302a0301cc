"""The fed funds market (the EFFR analogue): unsecured overnight loans of reserves.

Lenders: FHLBs, which earn nothing on Fed balances and lend above the ON RRP rate, and the
largest banks (fed funds lending is concentrated) with reserves to spare after the repo
market. Borrowers: foreign banks doing the IORB
arbitrage (borrow below IORB, earn IORB) and banks short of reserves.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.agents import bank as bank_module
from fedplumbing.agents.bank import Bank
from fedplumbing.agents.fhlb import FHLB
from fedplumbing.sim import markets
from fedplumbing.sim.markets import Clearing, clear_call_market

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel

#: Share of their arbitrage that foreign banks keep on quarter-end reporting dates.
QUARTER_END_ARBITRAGE = 0.3
#: Banks bid for reserves when within this many shock s.d. of their LCLoR (beyond it the
#: bidding schedule is zero).
SHORT_RANGE_SD = 3.5


class FedFundsMarket:
    """Builds the day's fed funds orders from balance sheets and clears them."""

    def clear(self, model: FedPlumbingModel) -> Clearing:
        """Collect orders, clear the market and book the trades."""
        cfg, led, rates = model.config, model.ledger, model.rates_today
        banks, fhlbs = model.banks, model.fhlbs
        st = banks.state
        cost = model.bank_cost_today()
        penalty = model.bank_penalty_rate()

        # asks: FHLBs and the banks active in fed funds; bids: foreign banks' arbitrage, and
        # every bank that may end the day short. Most tranches are empty (a bank far from
        # its LCLoR bids nothing): only orders of positive amount go into the book, so that
        # clearing and booking work on the orders that exist
        ask = FHLB.fed_funds_ask(
            rates.on_rrp,
            rates.iorb,
            cfg.fhlbs.premium_bp / 100.0,
            cfg.fhlbs.corridor_share,
            _repo_floor(model),
        )
        orders = _order_book_kernel if markets.USE_COMPILED else _order_book_numpy
        ask_qty, ask_rate, ask_rows, bid_qty, bid_rate, bid_rows = orders(
            led.held("deposits", fhlbs.rows),
            fhlbs.rows.start,
            float(ask),
            float(cfg.fhlbs.fed_funds_share),
            model.bank_position_inputs(),
            st["lclor"],
            st["shock_sd"],
            cost,
            rates.iorb,
            penalty,
            cfg.population.fed_funds_active_banks,
            banks.rows.start,
            st["arbitrage_capacity"],
            st["arbitrage_cost"],
            QUARTER_END_ARBITRAGE if model.flags["is_quarter_end"] else 1.0,
        )
        # read-only like the other books' rows, so that one compiled booking kernel serves
        # every market (a second kind of argument would load a second specialisation)
        ask_rows.flags.writeable = False
        bid_rows.flags.writeable = False
        result = clear_call_market(
            bid_qty,
            bid_rate,
            ask_qty,
            ask_rate,
            sessions=cfg.markets.sessions,
            imbalance=cfg.markets.fed_funds_imbalance,
        )
        if result.volume > 0:
            model.overnight.book(
                "fed funds",
                "fed_funds",
                ask_rows,
                result.ask_fill,
                result.ask_rate,
                bid_rows,
                result.bid_fill,
                result.bid_rate,
                model.accrual_days_today,
            )
        return result


def _repo_floor(model: FedPlumbingModel) -> float:
    """Least rate FHLBs accept in fed funds given the last repo spread (percent).

    The last repo spread to IORB of a day that was not a month-end is applied to today's
    IORB, so that a change of the administered rates carries over; -inf when the rule is off
    or there is no such day yet. Period ends are passed over: a year-end print (+26 bp at the
    end of 2022) is not what repo pays the next day, and taken as the floor it put the FHLBs'
    ask at IORB, above every bid, so that no fed funds traded on 3 January 2023.
    The floor stops at IORB: FHLBs do not lend in the model's repo market, so above IORB
    (stress, when only banks short of reserves still borrow) holding out for the repo rate
    would leave their cash at the ON RRP; there they take what the fed funds bids pay.
    """
    discount = model.config.fhlbs.repo_discount_bp
    spread = model.recorder.last_calm_repo_spread_bp
    if discount is None or not math.isfinite(spread):
        return -math.inf
    return model.rates_today.iorb + min(spread - discount, 0.0) / 100.0


def _order_book_numpy(
    fhlb_cash: np.ndarray,
    fhlb_first_row: int,
    fhlb_ask: float,
    fhlb_share: float,
    positions: tuple,
    lclor: np.ndarray,
    shock_sd: np.ndarray,
    cost: np.ndarray,
    iorb: float,
    penalty: np.ndarray,
    n_lenders: int,
    first_row: int,
    arbitrage_capacity: np.ndarray,
    arbitrage_cost: np.ndarray,
    arbitrage_share: float,
) -> tuple[np.ndarray, ...]:
    """The day's fed funds order book, orders of positive amount only.

    Asks: FHLBs' offers (`FHLB.fed_funds_offers`), then the lending tranches of the first
    `n_lenders` banks. Bids: foreign banks' arbitrage, then the borrowing tranches of banks
    within `SHORT_RANGE_SD` shock s.d. of their LCLoR.

    Args:
        fhlb_cash: FHLBs' cash ($bn).
        fhlb_first_row: ledger row of the first FHLB.
        fhlb_ask: the FHLBs' least rate (percent).
        fhlb_share: share of their cash FHLBs offer.
        positions: `FedPlumbingModel.bank_position_inputs()`, from which every bank's
            reserve position is computed ($bn; `bank.positions_numpy`).
        lclor: lowest comfortable levels ($bn).
        shock_sd: s.d. of the end-of-day payment shock ($bn).
        cost: balance-sheet costs (percent).
        iorb: interest on reserve balances (percent).
        penalty: costs of ending the day below the LCLoR (percent).
        n_lenders: banks active in fed funds lending (the first ones).
        first_row: ledger row of the first bank.
        arbitrage_capacity: each bank's IORB arbitrage capacity ($bn).
        arbitrage_cost: each bank's arbitrage cost (percent).
        arbitrage_share: share of the capacity used today.

    Returns:
        (ask amounts, ask rates, ask ledger rows, bid amounts, bid rates, bid ledger rows).
    """
    reserves = bank_module.positions_numpy(*positions)
    q_f, r_f = FHLB.fed_funds_offers(fhlb_cash, fhlb_ask, fhlb_share)
    fhlb_rows = np.arange(fhlb_first_row, fhlb_first_row + fhlb_cash.size)
    n = n_lenders
    asks = Bank.lending_orders(
        reserves[:n],
        lclor[:n],
        shock_sd[:n],
        cost[:n],
        iorb,
        penalty[:n],
        first_row,
        before=(q_f.ravel(), r_f.ravel(), fhlb_rows),
    )
    arb = np.flatnonzero(arbitrage_capacity > 0)
    arb_qty = arbitrage_capacity[arb] * arbitrage_share
    keep = arb_qty > 0
    arb, arb_qty = arb[keep], arb_qty[keep]
    bids = Bank.borrowing_orders(
        reserves,
        lclor,
        shock_sd,
        cost,
        iorb,
        penalty,
        SHORT_RANGE_SD,
        first_row,
        before=(arb_qty, iorb - arbitrage_cost[arb], first_row + arb),
    )
    return (*asks, *bids)


def _order_book_loops(
    fhlb_cash: np.ndarray,
    fhlb_first_row: int,
    fhlb_ask: float,
    fhlb_share: float,
    positions: tuple,
    lclor: np.ndarray,
    shock_sd: np.ndarray,
    cost: np.ndarray,
    iorb: float,
    penalty: np.ndarray,
    n_lenders: int,
    first_row: int,
    arbitrage_capacity: np.ndarray,
    arbitrage_cost: np.ndarray,
    arbitrage_share: float,
) -> tuple[np.ndarray, ...]:
    """`_order_book_numpy` as loops (the same floats), one compiled call for the whole book.

    The reserve positions are computed here too (`bank.positions_kernel`), which saves the
    markets a compiled call of their own, and each process the loading of its kernel.
    """
    reserves = bank_module.positions_kernel(*positions)
    n_fhlb = fhlb_cash.size
    q_f, r_f = np.empty(n_fhlb), np.full(n_fhlb, fhlb_ask)
    rows_f = np.arange(fhlb_first_row, fhlb_first_row + n_fhlb)
    for i in range(n_fhlb):
        # np.maximum(cash, 0.0) * share; where it differs (NaN, -0.0) the offer is not
        # positive either way, and only positive offers enter the book
        q_f[i] = (fhlb_cash[i] if fhlb_cash[i] > 0.0 else 0.0) * fhlb_share
    n = n_lenders
    ask_qty, ask_rate, ask_rows = bank_module._lending_orders_kernel(
        reserves[:n],
        lclor[:n],
        shock_sd[:n],
        cost[:n],
        iorb,
        penalty[:n],
        first_row,
        q_f,
        r_f,
        rows_f,
    )
    n_banks = arbitrage_capacity.size
    arb_qty, arb_rate = np.empty(n_banks), np.empty(n_banks)
    arb_rows = np.empty(n_banks, dtype=np.int64)
    n_arb = 0
    for b in range(n_banks):
        qty = arbitrage_capacity[b] * arbitrage_share
        if arbitrage_capacity[b] > 0 and qty > 0:
            arb_qty[n_arb], arb_rate[n_arb] = qty, iorb - arbitrage_cost[b]
            arb_rows[n_arb] = first_row + b
            n_arb += 1
    bid_qty, bid_rate, bid_rows = bank_module._borrowing_orders_kernel(
        reserves,
        lclor,
        shock_sd,
        cost,
        iorb,
        penalty,
        SHORT_RANGE_SD,
        first_row,
        arb_qty[:n_arb],
        arb_rate[:n_arb],
        arb_rows[:n_arb],
    )
    return ask_qty, ask_rate, ask_rows, bid_qty, bid_rate, bid_rows


_order_book_kernel = markets.compiled(_order_book_loops)
