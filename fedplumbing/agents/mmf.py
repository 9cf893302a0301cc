"""Government money-market funds: cash that goes to repo or, failing that, to the Fed's ON RRP."""

from __future__ import annotations

import numpy as np

from fedplumbing.agents.base import PopulationAgent


class MoneyMarketFund(PopulationAgent):
    """A government MMF allocating its cash among tri-party repo, ON RRP and T-bills.

    Its reservation rate in repo is the ON RRP rate plus a small premium; cash above its
    repo limit goes to ON RRP up to the per-counterparty cap; a fund that still has cash
    then accepts repo below the ON RRP rate rather than hold bank deposits.

    Population state: ``premium`` (percent), ``custodian`` (bank index, on the population).
    """

    population_name = "mmfs"

    @property
    def shares(self) -> float:
        """Shares outstanding = net assets ($bn)."""
        return float(self.model.ledger.owed("mmf_shares", self.row))

    @property
    def cash(self) -> float:
        """Cash held at the custodian bank before investing ($bn)."""
        return float(self.model.ledger.held("deposits", self.row))

    @staticmethod
    def repo_offers(
        cash: np.ndarray,
        shares: np.ndarray,
        premium: np.ndarray,
        on_rrp_rate: float,
        buffer: float,
        max_repo_share: float,
        on_rrp_cap: float,
        switch_spread: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Offers of cash in repo, three tranches per fund.

        1. up to its usual repo allocation, at ON RRP + its premium;
        2. the cash it would otherwise park at the ON RRP, when repo pays `switch_spread`
           more than the premium (it then moves out of the ON RRP into repo);
        3. cash neither repo limits nor the ON RRP cap can absorb, just below ON RRP.

        Returns:
            (amounts, rates), each of shape (funds, 3).
        """
        investable = np.maximum(cash - buffer * shares, 0.0)
        main = np.minimum(investable, max_repo_share * shares)
        rest = investable - main
        switch = np.minimum(rest, on_rrp_cap)
        excess = rest - switch
        # columns written into one (funds, 3) array each: np.stack's checks and copies
        # cost more than the arithmetic for a few hundred funds
        qty = np.empty((cash.size, 3))
        qty[:, 0] = main
        qty[:, 1] = switch
        qty[:, 2] = excess
        rate = np.empty((cash.size, 3))
        np.add(on_rrp_rate, premium, out=rate[:, 0])
        np.add(rate[:, 0], switch_spread, out=rate[:, 1])
        rate[:, 2] = on_rrp_rate - 0.05
        return qty, rate
