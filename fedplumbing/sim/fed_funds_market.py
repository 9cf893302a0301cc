"""The fed funds market (the EFFR analogue): unsecured overnight loans of reserves.

Lenders: FHLBs, which earn nothing on Fed balances and lend above the ON RRP rate, and banks
with reserves to spare after the repo market. Borrowers: foreign banks doing the IORB
arbitrage (borrow below IORB, earn IORB) and banks short of reserves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fedplumbing.agents.bank import Bank
from fedplumbing.agents.fhlb import FHLB
from fedplumbing.sim.markets import Clearing, clear_call_market

if TYPE_CHECKING:
    from fedplumbing.sim.model import FedPlumbingModel

#: Share of their arbitrage that foreign banks keep on quarter-end reporting dates.
QUARTER_END_ARBITRAGE = 0.3


class FedFundsMarket:
    """Builds the day's fed funds orders from balance sheets and clears them."""

    label = "fed funds"

    def clear(self, model: FedPlumbingModel) -> Clearing:
        """Collect orders, clear the market and book the trades."""
        cfg, led, rates = model.config, model.ledger, model.rates_today
        banks, fhlbs = model.banks, model.fhlbs
        bank_rows = np.arange(banks.rows.start, banks.rows.stop)
        fhlb_rows = np.arange(fhlbs.rows.start, fhlbs.rows.stop)
        reserves = led.held("reserves", banks.rows)
        st = banks.state
        cost = model.bank_cost_today()
        penalty = model.bank_penalty_rate()
        k = len(model.tranche_probabilities)

        q_f, r_f = FHLB.fed_funds_offers(
            led.held("deposits", fhlbs.rows),
            rates.on_rrp,
            cfg.fhlbs.premium_bp / 100.0,
            cfg.fhlbs.fed_funds_share,
        )
        q_b, r_b = Bank.lending_schedule(
            reserves, st["lclor"], st["shock_sd"], cost, rates.iorb, penalty
        )
        ask_qty = np.concatenate([q_f.ravel(), q_b.ravel()])
        ask_rate = np.concatenate([r_f.ravel(), r_b.ravel()])
        ask_rows = np.concatenate([fhlb_rows, np.repeat(bank_rows, k)])

        arb_share = QUARTER_END_ARBITRAGE if model.flags["is_quarter_end"] else 1.0
        q_a = st["arbitrage_capacity"] * arb_share
        r_a = rates.iorb - st["arbitrage_cost"]
        q_s, r_s = Bank.borrowing_schedule(
            reserves, st["lclor"], st["shock_sd"], cost, rates.iorb, penalty
        )
        bid_qty = np.concatenate([q_a, q_s.ravel()])
        bid_rate = np.concatenate([r_a, r_s.ravel()])
        bid_rows = np.concatenate([bank_rows, np.repeat(bank_rows, k)])

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
