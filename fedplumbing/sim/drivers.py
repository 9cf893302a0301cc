"""Drivers: what moves the exogenous side of the model each day.

In policy mode the Fed and the Treasury follow the scenario's rules (runoff caps, issuance,
TGA target, taxes). In replay mode (see `fedplumbing.sim.replay`) the Fed's securities, the
TGA, other autonomous factors and the administered rates follow history instead. Either way
the agents' behaviour, the markets and the facilities are the same.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from fedplumbing.sim import flows, securities

if TYPE_CHECKING:
    from fedplumbing.agents.fed import AdministeredRates
    from fedplumbing.sim.model import FedPlumbingModel


class Driver(Protocol):
    """The exogenous side of a day."""

    def rates(self, model: FedPlumbingModel) -> AdministeredRates:
        """Administered rates in force today."""

    def exogenous_flows(self, model: FedPlumbingModel) -> None:
        """Post today's flows of the non-modelled sectors (taxes, spending, currency...)."""

    def securities(self, model: FedPlumbingModel) -> None:
        """Post today's securities settlements and the Fed's portfolio operations."""


class PolicyDriver:
    """The Fed and Treasury follow the scenario's rules."""

    def __init__(self) -> None:
        # the rates last returned and the dates between which they hold (from the last
        # scheduled change on or before that day to the next one): asked every day, they
        # change on a handful of days
        self._rates: AdministeredRates | None = None
        self._since = self._until = dt.date.min

    def rates(self, model: FedPlumbingModel) -> AdministeredRates:
        """The scenario's rates, with its scheduled changes."""
        date = model.date
        if self._rates is None or not self._since <= date < self._until:
            self._rates = model.fed.rates_on(date)
            changes = [ch.date for ch in model.config.rates.changes]
            self._since = max((d for d in changes if d <= date), default=dt.date.min)
            self._until = min((d for d in changes if d > date), default=dt.date.max)
        return self._rates

    def exogenous_flows(self, model: FedPlumbingModel) -> None:
        """Treasury spending and taxes, currency growth, money-fund flows."""
        flows.apply(model)

    def securities(self, model: FedPlumbingModel) -> None:
        """Auctions, redemptions, SOMA runoff and purchases, dealer distribution."""
        securities.apply(model)


def make_driver(model: FedPlumbingModel) -> Driver:
    """The driver for the model's mode."""
    if model.config.mode == "replay":
        from fedplumbing.sim.replay import ReplayDriver

        return ReplayDriver(model)
    return PolicyDriver()
