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

from fedplumbing.agents.bank import Bank
from fedplumbing.agents.fhlb import FHLB
from fedplumbing.sim.markets import Clearing, clear_call_market, order_rows

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
        reserves = model.bank_positions()
        cost = model.bank_cost_today()
        penalty = model.bank_penalty_rate()

        # asks: FHLBs and the banks active in fed funds
        n = cfg.population.fed_funds_active_banks
        ask = FHLB.fed_funds_ask(
            rates.on_rrp,
            rates.iorb,
            cfg.fhlbs.premium_bp / 100.0,
            cfg.fhlbs.corridor_share,
            _repo_floor(model),
        )
        q_f, r_f = FHLB.fed_funds_offers(
            led.held("deposits", fhlbs.rows), ask, cfg.fhlbs.fed_funds_share
        )
        # most tranches are empty: only orders of positive amount go into the book, so that
        # clearing and booking work on fewer orders
        ask_qty, ask_rate, ask_rows = Bank.lending_orders(
            reserves[:n],
            st["lclor"][:n],
            st["shock_sd"][:n],
            cost[:n],
            rates.iorb,
            penalty[:n],
            banks.rows.start,
            before=(q_f.ravel(), r_f.ravel(), order_rows((fhlbs.rows.start, fhlbs.rows.stop, 1))),
        )

        # bids: foreign banks' arbitrage, and every bank that may end the day short; most
        # tranches are empty (a bank far from its LCLoR bids nothing) and are left out, so
        # that clearing and booking work on the orders that exist
        arb_share = QUARTER_END_ARBITRAGE if model.flags["is_quarter_end"] else 1.0
        arb = np.flatnonzero(st["arbitrage_capacity"] > 0)
        arb_qty = st["arbitrage_capacity"][arb] * arb_share
        keep = arb_qty > 0
        arb, arb_qty = arb[keep], arb_qty[keep]
        bid_qty, bid_rate, bid_rows = Bank.borrowing_orders(
            reserves,
            st["lclor"],
            st["shock_sd"],
            cost,
            rates.iorb,
            penalty,
            SHORT_RANGE_SD,
            banks.rows.start,
            before=(arb_qty, rates.iorb - st["arbitrage_cost"][arb], banks.rows.start + arb),
        )
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
    """Least rate FHLBs accept in fed funds given yesterday's repo spread (percent).

    Yesterday's repo spread to IORB is applied to today's IORB, so that a change of the
    administered rates carries over; -inf when the rule is off or there is no yesterday.
    The floor stops at IORB: FHLBs do not lend in the model's repo market, so above IORB
    (stress, when only banks short of reserves still borrow) holding out for the repo rate
    would leave their cash at the ON RRP; there they take what the fed funds bids pay.
    """
    discount = model.config.fhlbs.repo_discount_bp
    spread = model.recorder.last_repo_spread_bp
    if discount is None or not math.isfinite(spread):
        return -math.inf
    return model.rates_today.iorb + min(spread - discount, 0.0) / 100.0
