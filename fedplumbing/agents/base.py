"""Common machinery for agent populations: rows in the ledger and array-backed state."""

from __future__ import annotations

from dataclasses import dataclass, field

import mesa
import numpy as np


@dataclass
class Population:
    """A contiguous block of ledger rows holding one agent type, plus its state arrays.

    Attributes:
        name: population name ("banks", "mmfs", ...).
        rows: the population's rows in the ledger.
        custodian: for nonbanks, the index (within the banks) of the bank holding each
            member's cash; None for banks.
        state: per-member parameter arrays (struct of arrays), e.g. ``state["lclor"]``.
    """

    name: str
    rows: slice
    custodian: np.ndarray | None = None
    state: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Number of members."""
        return self.rows.stop - self.rows.start

    def __getitem__(self, key: str) -> np.ndarray:
        return self.state[key]


class PopulationAgent(mesa.Agent):
    """A Mesa agent viewing its row of the ledger and its slot in the population arrays.

    The agent is a view for inspection and the app; the hot path works on the arrays.

    Args:
        model: the model.
        population: the population the agent belongs to.
        index: the agent's position within the population.
    """

    population_name: str = ""

    def __init__(self, model: mesa.Model, population: Population, index: int) -> None:
        super().__init__(model)
        self.population = population
        self.index = index

    @property
    def row(self) -> int:
        """The agent's row in the ledger."""
        return self.population.rows.start + self.index

    def balance_sheet(self) -> dict[str, dict[str, float]]:
        """The agent's balance sheet {"assets": ..., "liabilities": ...} in $ billions."""
        return self.model.ledger.sheet(self.row)

    def t_account(self) -> str:
        """The agent's balance sheet as a printable T-account."""
        return self.model.ledger.t_account(self.row, f"{type(self).__name__} {self.index}")

    def param(self, key: str) -> float:
        """One of the agent's behavioural parameters."""
        return float(self.population.state[key][self.index])


def pareto_sizes(rng: np.random.Generator, n: int, alpha: float, total: float) -> np.ndarray:
    """Heavy-tailed sizes summing to `total`, sorted from largest to smallest.

    Uses deterministic Pareto quantiles (so the size distribution does not depend on the
    seed) with a small seeded jitter.
    """
    u = (np.arange(n) + 0.5) / n
    raw = (1.0 - u) ** (-1.0 / alpha)
    raw *= np.exp(0.05 * rng.standard_normal(n))
    raw = np.sort(raw)[::-1]
    return total * raw / raw.sum()
