"""Banks: Poole-style liquidity managers whose reserve demand curve is flat, then steep."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from fedplumbing.agents.base import PopulationAgent

#: Probability levels of ending the day below the LCLoR at which a bank posts a tranche.
#: Roughly geometric up to one half, so that the limit rates IORB + (penalty - IORB) p are
#: spaced evenly in log terms from a fraction of a basis point to several hundred: a coarser
#: grid makes the clearing price stick to a few plateaus (+10, +33, +100, +233 bp with a
#: 665 bp penalty) and jump between them on small changes in reserves.
SHORTFALL_PROBABILITIES = np.array(
    [
        *(0.0005, 0.001, 0.002, 0.004, 0.008, 0.015, 0.025, 0.04, 0.06, 0.09, 0.13),
        *(0.18, 0.25, 0.35, 0.47, 0.6, 0.75, 0.88, 0.97),
    ]
)
_Z = ndtri(SHORTFALL_PROBABILITIES)


class Bank(PopulationAgent):
    """A bank managing its reserve account around its lowest comfortable level (LCLoR).

    Lending one more dollar overnight costs IORB + a balance-sheet cost c + (penalty - IORB)
    x P(reserves after lending + end-of-day payment shock < LCLoR). The bank lends where the
    market pays more than that marginal value and bids for funds when it is short.

    Population state (arrays): ``assets``, ``lclor`` ($bn), ``shock_sd`` ($bn), ``cost``
    (percent), ``foreign`` (bool), ``repo_active`` (bool), ``arbitrage_cost`` (percent),
    ``arbitrage_capacity`` ($bn), ``deposit_weight`` (share of public deposits).
    """

    population_name = "banks"

    @property
    def reserves(self) -> float:
        """Reserve balance at the Fed ($bn)."""
        return float(self.model.ledger.held("reserves", self.row))

    @property
    def lclor(self) -> float:
        """Lowest comfortable level of reserves ($bn)."""
        return self.param("lclor")

    def reserve_marginal_value(self) -> float:
        """Today's marginal value of one more dollar of reserves (percent per year)."""
        rates = self.model.rates_today
        penalty = self.model.bank_penalty_rate()[self.index]
        return float(
            self.marginal_value(
                np.array([self.reserves]),
                self.param("lclor"),
                self.param("shock_sd"),
                rates.iorb,
                penalty,
            )[0]
        )

    @staticmethod
    def marginal_value(
        reserves: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        iorb: float,
        penalty: np.ndarray | float,
    ) -> np.ndarray:
        """Marginal value of reserves: IORB + (penalty - IORB) x P(reserves + shock < LCLoR).

        Args:
            reserves: reserve balances ($bn).
            lclor: lowest comfortable levels ($bn).
            shock_sd: s.d. of the end-of-day payment shock ($bn).
            iorb: interest on reserve balances (percent).
            penalty: cost of ending the day below the LCLoR (percent).
        """
        return iorb + (penalty - iorb) * ndtr((lclor - reserves) / shock_sd)

    @staticmethod
    def lending_schedule(
        available: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        cost: np.ndarray,
        iorb: float,
        penalty: np.ndarray | float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Offers to lend reserves: tranche amounts and the lowest rate for each.

        The cumulative amount offered at rate IORB + c + (penalty - IORB) p is the amount
        that leaves a probability p of ending below the LCLoR.

        Returns:
            (amounts, rates), each of shape (banks, tranches); amounts in $bn, rates percent.
        """
        cum = np.clip(
            available[:, None] - lclor[:, None] + shock_sd[:, None] * _Z[None, :],
            0.0,
            np.maximum(available, 0.0)[:, None],
        )
        qty = cum.copy()  # np.diff(cum, axis=1, prepend=0.0), without its temporaries
        qty[:, 1:] -= cum[:, :-1]
        pen = np.broadcast_to(penalty, available.shape)
        rate = (iorb + cost)[:, None] + (pen - iorb)[:, None] * SHORTFALL_PROBABILITIES[None, :]
        return qty, rate

    @staticmethod
    def borrowing_schedule(
        reserves: np.ndarray,
        lclor: np.ndarray,
        shock_sd: np.ndarray,
        cost: np.ndarray,
        iorb: float,
        penalty: np.ndarray | float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bids for reserves of banks that are short: tranche amounts and the highest rates.

        The cumulative amount bid at rate IORB + (penalty - IORB) p - c is what it takes to
        bring the probability of ending below the LCLoR down to p.

        Returns:
            (amounts, rates), each of shape (banks, tranches).
        """
        cum = np.maximum(lclor[:, None] - reserves[:, None] - shock_sd[:, None] * _Z[None, :], 0.0)
        qty = cum.copy()  # each tranche: cum less the next one's (the last keeps its cum)
        qty[:, :-1] -= cum[:, 1:]
        pen = np.broadcast_to(penalty, reserves.shape)
        rate = iorb + (pen - iorb)[:, None] * SHORTFALL_PROBABILITIES[None, :] - cost[:, None]
        return qty, rate
