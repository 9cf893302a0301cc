"""Federal Home Loan Banks: the main lenders of fed funds, with ON RRP as their alternative."""

from __future__ import annotations

import numpy as np

from fedplumbing.agents.base import PopulationAgent


class FHLB(PopulationAgent):
    """A Federal Home Loan Bank lending its liquidity overnight.

    FHLBs earn no interest on reserves, so they lend fed funds to banks (mostly foreign banks
    that earn IORB on the proceeds) at any rate above the ON RRP rate plus a premium, and
    place the rest at the ON RRP (up to the per-counterparty cap).
    """

    population_name = "fhlbs"

    @property
    def liquidity(self) -> float:
        """Cash available to lend today ($bn)."""
        return float(self.model.ledger.held("deposits", self.row))

    @staticmethod
    def fed_funds_offers(
        cash: np.ndarray, on_rrp_rate: float, premium: float, fed_funds_share: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Offers in fed funds: (amounts, rates), each of shape (fhlbs, 1)."""
        qty = np.maximum(cash, 0.0) * fed_funds_share
        return qty[:, None], np.full((len(cash), 1), on_rrp_rate + premium)
