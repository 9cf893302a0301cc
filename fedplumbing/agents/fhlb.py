"""Federal Home Loan Banks: the main lenders of fed funds, with ON RRP as their alternative."""

from __future__ import annotations

import numpy as np

from fedplumbing.agents.base import PopulationAgent


class FHLB(PopulationAgent):
    """A Federal Home Loan Bank lending its liquidity overnight.

    FHLBs earn no interest on reserves, so they lend fed funds to banks (mostly foreign banks
    that earn IORB on the proceeds) at any rate above the ON RRP rate plus a premium, and
    place the rest at the ON RRP (up to the per-counterparty cap). Tri-party repo is their
    other outlet, though not in the model's repo market: when repo pays well (the last repo
    rate of a day that was not a month-end), they ask in fed funds at least that rate less a
    discount for the convenience of an unsecured overnight loan.
    """

    population_name = "fhlbs"

    @property
    def liquidity(self) -> float:
        """Cash available to lend today ($bn)."""
        return float(self.model.ledger.held("deposits", self.row))

    @staticmethod
    def fed_funds_ask(
        on_rrp_rate: float,
        iorb: float,
        premium: float,
        corridor_share: float = 0.0,
        repo_floor: float = -np.inf,
    ) -> float:
        """The least rate an FHLB accepts in fed funds (percent).

        The ON RRP rate plus a premium and a share of the corridor (IORB - ON RRP): a wider
        corridor leaves the foreign banks that borrow to earn IORB more room to pay. Never
        below `repo_floor`, what repo pays it (-inf: not considered).
        """
        return max(on_rrp_rate + premium + corridor_share * (iorb - on_rrp_rate), repo_floor)

    @staticmethod
    def fed_funds_offers(
        cash: np.ndarray, ask: float, fed_funds_share: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Offers in fed funds at `ask`: (amounts, rates), each of shape (fhlbs, 1)."""
        qty = np.maximum(cash, 0.0) * fed_funds_share
        return qty[:, None], np.full((len(cash), 1), ask)
