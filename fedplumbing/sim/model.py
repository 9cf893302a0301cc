"""FedPlumbingModel: the US money markets as a stock-flow-consistent Mesa model.

One step is one business day. The Fed, the Treasury, banks, money funds, dealers and FHLBs
keep their balance sheets in one ledger; each day yesterday's overnight trades unwind,
exogenous flows and securities settle, agents post orders in the repo and fed funds markets,
the facilities absorb what is left, interest accrues and the day's metrics are recorded.
"""

from __future__ import annotations

import datetime as dt

import mesa
import numpy as np

from fedplumbing.agents.bank import Bank, positions_kernel, positions_numpy
from fedplumbing.agents.base import Population
from fedplumbing.agents.dealer import Dealer
from fedplumbing.agents.fed import AdministeredRates, Fed
from fedplumbing.agents.fhlb import FHLB
from fedplumbing.agents.mmf import MoneyMarketFund
from fedplumbing.agents.treasury import Treasury
from fedplumbing.sim import interest, markets, securities
from fedplumbing.sim.calendar import Calendar, CalendarRules
from fedplumbing.sim.config import ConfigError, ScenarioConfig
from fedplumbing.sim.drivers import make_driver
from fedplumbing.sim.facilities import Facilities, change_hedge_fund_lending
from fedplumbing.sim.fed_funds_market import FedFundsMarket
from fedplumbing.sim.ledger import Ledger
from fedplumbing.sim.metrics import DailyRecorder
from fedplumbing.sim.opening import (
    build_populations,
    fit_opening_on_rrp,
    post_opening_balances,
)
from fedplumbing.sim.overnight import OvernightBook
from fedplumbing.sim.payments import FED, PUBLIC, Payments
from fedplumbing.sim.replay import opening_from_history
from fedplumbing.sim.repo_market import RepoMarket
from fedplumbing.sim.window_dressing import WindowDressing

#: The model stops when the public's bank deposits fall below this share of their opening
#: level: its payments are spread over banks by their deposits from it, which then leaves
#: banks owing it less than nothing.
PUBLIC_DEPOSITS_FLOOR = 0.05


class InfeasibleScenarioError(ConfigError):
    """A scenario asks what its economy cannot do, found while running (exit code 2)."""


class FedPlumbingModel(mesa.Model):
    """The money-market plumbing model.

    Args:
        config: a validated scenario.
        rng: seed or numpy SeedSequence (Mesa's explicit random state).
        debug: check every posting and every identity each day (tests use this).

    Attributes:
        ledger: all balance sheets.
        calendar: business days and their flags.
        banks, mmfs, dealers, fhlbs: the populations (state arrays; agents view them).
        fed, treasury: the two public agents.
        recorder: the daily metrics.
    """

    def __init__(
        self,
        config: ScenarioConfig,
        rng: int | np.random.SeedSequence | None = 0,
        debug: bool = False,
    ) -> None:
        if config.initial.fit_on_rrp and config.mode == "policy":
            config = fit_opening_on_rrp(config, rng)
        # a replay opens from the data whichever command built it (run, compare, sweep...)
        config = opening_from_history(config)
        if isinstance(rng, np.random.SeedSequence):
            rng = np.random.default_rng(rng)
        super().__init__(rng=rng)
        self.config = config
        self.debug = debug
        t = config.treasury
        rules = CalendarRules(
            corporate_tax_months=tuple(t.corporate_tax_months),
            corporate_tax_day=t.corporate_tax_day,
            individual_tax_month=t.individual_tax_month,
            individual_tax_day=t.individual_tax_day,
        )
        self.calendar = Calendar.build(config.start, config.end, rules)
        if len(self.calendar) == 0:
            raise ValueError(f"no business day between {config.start} and {config.end}")

        pops = build_populations(config, self.rng)
        self.banks: Population = pops["banks"]
        self.mmfs: Population = pops["mmfs"]
        self.dealers: Population = pops["dealers"]
        self.fhlbs: Population = pops["fhlbs"]
        names = ["Fed", "Treasury", "public"]
        for pop in pops.values():
            names += [f"{pop.name}[{i}]" for i in range(pop.size)]
        self.ledger = Ledger(names, debug=debug)
        self.payments = Payments(self.ledger, self.banks, [self.mmfs, self.dealers, self.fhlbs])

        self.fed = Fed(self, config)
        self.treasury = Treasury(self, config, self.calendar)
        for cls, pop in (
            (Bank, self.banks),
            (MoneyMarketFund, self.mmfs),
            (Dealer, self.dealers),
            (FHLB, self.fhlbs),
        ):
            for i in range(pop.size):
                cls(self, pop, i)
        post_opening_balances(
            self.ledger,
            pops,
            config,
            float(self.fed.soma.bills.sum()),
            float(self.fed.soma.coupons.sum()),
            self.rng,
        )
        led = self.ledger
        hf = led.held("hf_repo", self.dealers.rows)
        led.set_rehypothecable("coupons", self.dealers.rows, hf / (1 - config.dealers.haircut))
        self.dealers.state["hedge_fund_base"] = hf.copy()
        self.window_dressing = WindowDressing.build(self.calendar, config.dealers)
        if self.window_dressing.opening < 1.0:
            # the books open as yesterday's period end left them
            cut = (self.window_dressing.opening - 1.0) * hf * self.dealers["foreign"]
            change_hedge_fund_lending(self, cut, "opening window dressing")
        self.dealers.state["normal_bills"] = led.held("bills", self.dealers.rows).copy()
        self.dealers.state["normal_coupons"] = led.held("coupons", self.dealers.rows).copy()
        self._deposits_col = led.asset("deposits")
        self._public_deposits_at_open = float(led.balances[PUBLIC, self._deposits_col])

        self._penalty: tuple[tuple[float, float], np.ndarray] | None = None
        self.overnight = OvernightBook(self.ledger, self.payments)
        self.repo_market = RepoMarket()
        self.fed_funds_market = FedFundsMarket()
        self.facilities = Facilities()
        self.recorder = DailyRecorder(self)
        self.day = 0
        self.last_soma_month: tuple[int, int] | None = None
        self.month_runoff = None
        self.fed_repo_ops_today = 0.0
        self.dealer_elastic_unfilled = np.zeros(self.dealers.size)
        self.driver = make_driver(self)
        # every day's date and accrual days as Python objects, converted once rather than
        # one numpy scalar a day
        self._dates: list[dt.date] = self.calendar.dates.astype(dt.date).tolist()
        self._accrual_days: list[int] = self.calendar.accrual_days.astype(int).tolist()
        self._set_day(0)
        if debug:
            # the opening is the morning of the first day: dealers' securities are still
            # financed by their overnight overdrafts, which that day's repo market funds
            self.ledger.check(holdings=False)

    # ------------------------------------------------------------------ day context
    def _set_day(self, day: int) -> None:
        self.date: dt.date = self._dates[day]
        self.flags = self.calendar.flags_view(day)  # read-only, shared by days alike
        self.accrual_days_today = self._accrual_days[day]
        self.rates_today: AdministeredRates = self.driver.rates(self)

    def bank_positions(self) -> np.ndarray:
        """Each bank's own reserve position: reserves less its clients' cash balances.

        Money funds, dealers and FHLBs hold their intraday cash at custodian banks; that cash
        leaves (money funds invest it) or is repaid (dealers' overdrafts are refinanced)
        before the day ends, so a bank manages its reserves net of it.
        """
        inputs = self.bank_position_inputs()
        if markets.USE_COMPILED:
            return positions_kernel(*inputs)
        return positions_numpy(*inputs)

    def bank_position_inputs(self) -> tuple:
        """The arguments of `bank.positions_numpy` and `bank.positions_kernel` today.

        The ledger's matrix, the columns of deposits and reserves, the banks' rows, and
        where the custodian banks' clients sit (custodians are among the first, largest
        banks: clients' cash is summed over those only).
        """
        led = self.ledger
        return (
            led.balances,
            led.asset("deposits"),
            led.asset("reserves"),
            self.banks.rows.start,
            self.banks.size,
            *self.payments.client_layout,
        )

    def bank_cost_today(self) -> np.ndarray:
        """Each bank's balance-sheet cost today (percent), with quarter- and year-end add-ons."""
        st, b = self.banks.state, self.config.banks
        cost = st["cost"]
        if self.flags["is_quarter_end"]:
            cost = cost + st["foreign"] * b.quarter_end_cost_bp / 100.0
        if self.flags["is_year_end"]:
            cost = cost + b.year_end_cost_bp / 100.0
        return cost

    def bank_penalty_rate(self) -> np.ndarray:
        """Each bank's cost of ending the day below its LCLoR (percent).

        The discount rate plus stigma, or the SRF rate plus stigma when that is cheaper and
        the bank is eligible.
        """
        f, r = self.config.fed, self.rates_today
        # keyed on the two rates' values: the driver builds a new rates object every day,
        # while the rates themselves change a few times a year
        key = (r.discount, r.srf)
        if self._penalty is not None and self._penalty[0] == key:
            return self._penalty[1]  # the same rates: the same penalties (read-only)
        dw = r.discount + f.discount_stigma_bp / 100.0
        penalty = np.full(self.banks.size, dw)
        if f.srf_enabled:
            srf = r.srf + f.srf_stigma_bp / 100.0
            penalty = np.where(self.banks["repo_active"], np.minimum(dw, srf), dw)
        penalty.flags.writeable = False
        self._penalty = (key, penalty)
        return penalty

    def dealer_fallback_rate(self) -> float:
        """The most a dealer pays in repo: the SRF (plus stigma) or the fire-sale cost."""
        f, r = self.config.fed, self.rates_today
        fire = r.iorb + self.config.dealers.fire_sale_cost_bp / 100.0
        if f.srf_enabled:
            return min(fire, r.srf + f.srf_stigma_bp / 100.0)
        return fire

    def _check_public_deposits(self) -> None:
        """Stop, naming the flows, when the public has nearly run out of bank deposits.

        Raises:
            InfeasibleScenarioError: the public's deposits are below `PUBLIC_DEPOSITS_FLOOR` of
                their opening level.
        """
        left = float(self.ledger.balances[PUBLIC, self._deposits_col])
        start = self._public_deposits_at_open
        if left >= PUBLIC_DEPOSITS_FLOOR * start:
            return
        c = self.config
        raise InfeasibleScenarioError(
            f"the public ran out of bank deposits on {self.date}: ${left:,.0f}B left of the "
            f"${start:,.0f}B it started with (the run stops below "
            f"{PUBLIC_DEPOSITS_FLOOR:.0%}). What it pays for (money-fund shares, "
            f"flows.mmf_growth {c.flows.mmf_growth:g}; currency, flows.currency_growth "
            f"{c.flows.currency_growth:g}; taxes and Treasury securities) takes more than "
            f"its {c.population.banks} banks hold (initial.bank_assets "
            f"{c.initial.bank_assets:g}): lower those flows or enlarge the banking system"
        )

    # ------------------------------------------------------------------ the day
    def step(self) -> None:
        """Advance one business day."""
        if not self.running:
            return
        led = self.ledger
        led.start_day()
        self.payments.start_day()
        fed_equity_at_open = float(led.equity(FED))
        self.facilities.reverse_late_payment_shock(self)
        self.overnight.unwind()
        self.driver.exogenous_flows(self)
        securities.money_fund_bill_sales(self)
        self.driver.securities(self)
        securities.cash_management_bills(self)
        self.fed_repo_ops_today = self.fed.repo_operation_today()
        repo = self.repo_market.clear(self)
        fed_funds = self.fed_funds_market.clear(self)
        self.facilities.place_at_on_rrp(self)
        self.facilities.apply_late_payment_shock(self)
        self.facilities.cover_dealers(self)
        self.facilities.cover_banks(self)
        # interest, then the private sector's income (`private_income.distribute`)
        net_income = interest.accrue(self, fed_equity_at_open)
        securities.cash_management_bills(self)
        self.facilities.cover_late_overdrafts(self)
        # what the Fed's overnight positions, the last window loans included, will pay when
        # they unwind tomorrow (tomorrow's `FedIncome.lending` and `on_rrp`)
        self.fed.overnight_interest_due = self.overnight.interest_due(FED)
        self.recorder.record(repo, fed_funds, net_income)
        self.fed.react(self.recorder.last_repo_spread_bp)
        self._check_public_deposits()
        if self.debug:
            led.check()
        else:
            # no account ends a day overdrawn, nobody holds or owes less than nothing:
            # checked every day (debug checks every identity, `simulate` all of them once)
            led.check_holdings()
        self.day += 1
        if self.day >= len(self.calendar):
            self.running = False
        else:
            self._set_day(self.day)
