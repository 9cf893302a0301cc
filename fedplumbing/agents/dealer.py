"""Primary dealers: they must finance their Treasury inventory and hedge-fund lending overnight."""

from __future__ import annotations

import numpy as np

from fedplumbing.agents.base import PopulationAgent


class Dealer(PopulationAgent):
    """A primary dealer financing its inventory in repo.

    Its demand is inelastic up to its fallback rate: the SRF rate plus a stigma cost when the
    SRF exists, otherwise the cost of raising cash by fire sales. A small part (the
    hedge-fund book it can shrink) is bid only up to IORB plus a small spread. It can borrow
    only against the collateral it has: its own inventory and the collateral hedge funds
    gave it, less haircuts. What it cannot finance in its elastic part it cuts (hedge funds
    deleverage); the rest it raises at the fallback cost.
    """

    population_name = "dealers"

    @property
    def inventory(self) -> float:
        """Treasury inventory (bills + coupons, $bn)."""
        ledger = self.model.ledger
        return float(ledger.held("bills", self.row) + ledger.held("coupons", self.row))

    @staticmethod
    def funding_bids(
        need: np.ndarray,
        collateral_capacity: np.ndarray,
        fallback_rate: float,
        elastic_share: float,
        elastic_limit: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bids for repo funding: (amounts, rates), each of shape (dealers, 2).

        Args:
            need: cash each dealer must raise ($bn).
            collateral_capacity: cash its unencumbered collateral can raise ($bn).
            fallback_rate: the most it pays for the inelastic part (percent).
            elastic_share: share of the need it would rather cut than pay up for.
            elastic_limit: the most it pays for that elastic part (percent).
        """
        need = np.minimum(need, collateral_capacity)
        qty = np.empty((need.size, 2))
        elastic = np.multiply(elastic_share, need, out=qty[:, 1])
        np.subtract(need, elastic, out=qty[:, 0])
        rate = np.empty((need.size, 2))
        rate[:, 0] = fallback_rate
        rate[:, 1] = elastic_limit
        return qty, rate
