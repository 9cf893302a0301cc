"""The Federal Reserve: administered rates, the SOMA portfolio and its runoff rules."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import mesa

from fedplumbing.sim.config import ScenarioConfig
from fedplumbing.sim.interest import FedIncome
from fedplumbing.sim.soma import MonthlyRunoff, SomaPortfolio, mbs_paydown, run_month


@dataclass(frozen=True)
class AdministeredRates:
    """The corridor on one day (percent per year)."""

    iorb: float
    on_rrp: float
    srf: float
    discount: float


class Fed(mesa.Agent):
    """The Fed: sets the corridor, runs the SOMA by maturity under runoff caps, and reacts.

    Attributes:
        soma: the securities portfolio by remaining maturity (its totals always equal the
            Fed's holdings in the ledger).
        repo_ops_days_left: days of temporary repo operations still to run.
        repo_ops_day: operations run so far in the current episode (0 when none runs).
        income_today: today's interest income by asset and liability (set by
            `fedplumbing.sim.interest.accrue`).
        remitted_today: today's remittance to the Treasury ($bn).
        overnight_interest_due: (receivable, payable) interest on the Fed's overnight
            positions booked today, settled when they unwind tomorrow ($bn; noted at the
            end of the day, after the last window loans).
    """

    row = 0

    def __init__(self, model: mesa.Model, config: ScenarioConfig) -> None:
        super().__init__(model)
        self.config = config
        ini = config.initial
        s = ini.soma_coupon_shares
        total = ini.soma_bills + ini.soma_coupons
        if total > 0:
            buckets = {
                "<1y coupons": s[0] * ini.soma_coupons / total,
                "1-3y": s[1] * ini.soma_coupons / total,
                "3-10y": s[2] * ini.soma_coupons / total,
                ">10y": s[3] * ini.soma_coupons / total,
            }
            self.soma = SomaPortfolio.from_mix(
                total, ini.soma_bills / total, buckets, mbs_bn=ini.mbs
            )
        else:
            self.soma = SomaPortfolio.from_mix(0.0, 0.0, mbs_bn=ini.mbs)
        self._rate_changes = sorted(config.rates.changes, key=lambda c: c.date)
        self._runoff_steps = sorted(config.fed.runoff, key=lambda r: r.date)
        self.repo_ops_days_left = 0
        self.repo_ops_day = 0
        self.income_today = FedIncome()
        self.remitted_today = 0.0
        self.overnight_interest_due = (0.0, 0.0)

    def rates_on(self, date: dt.date) -> AdministeredRates:
        """The administered rates in force on `date`."""
        r = self.config.rates
        iorb, on_rrp, srf, disc = r.iorb, r.on_rrp, r.srf, r.discount
        for ch in self._rate_changes:
            if ch.date > date:
                break
            iorb = ch.iorb if ch.iorb is not None else iorb
            on_rrp = ch.on_rrp if ch.on_rrp is not None else on_rrp
            srf = ch.srf if ch.srf is not None else srf
            disc = ch.discount if ch.discount is not None else disc
        return AdministeredRates(iorb, on_rrp, srf, disc)

    def caps_on(self, date: dt.date) -> tuple[float | None, float | None, float]:
        """(Treasury cap, MBS cap, reserve-management purchases) in force on `date`.

        After `fed.qt_end` runoff stops (caps None: full reinvestment).
        """
        f = self.config.fed
        t_cap, m_cap, rmp = f.treasury_cap, f.mbs_cap, f.rmp
        for step in self._runoff_steps:
            if step.date > date:
                break
            t_cap, m_cap, rmp = step.treasury_cap, step.mbs_cap, step.rmp
        if f.qt_end is not None and date >= f.qt_end:
            return None, None, rmp
        return t_cap, m_cap, rmp

    def mbs_reinvestment_on(self, date: dt.date) -> str:
        """Where MBS paydowns above the cap go on `date` (the latest runoff step naming it)."""
        choice = self.config.fed.mbs_reinvestment
        for step in self._runoff_steps:
            if step.date > date:
                break
            if step.mbs_reinvestment is not None:
                choice = step.mbs_reinvestment
        return choice

    def run_off_month(self, date: dt.date, bills_for_sale: float = math.inf) -> MonthlyRunoff:
        """Apply this month's runoff rules to the SOMA and return the month's flows.

        Args:
            date: the day the month's flows settle.
            bills_for_sale: bills the public holds ($bn): the most the Fed can buy in the
                market (`soma.run_month`).
        """
        f = self.config.fed
        t_cap, m_cap, rmp = self.caps_on(date)
        paydown = mbs_paydown(self.soma.mbs, f.mortgage_rate, f.mbs_coupon)
        mbs_choice = self.mbs_reinvestment_on(date)
        return run_month(
            self.soma,
            t_cap,
            m_cap,
            paydown,
            treasury_reinvestment=f.treasury_reinvestment,
            mbs_reinvestment=mbs_choice,
            reserve_management_bills=rmp,
            bills_for_sale=bills_for_sale,
        )

    def react(self, repo_spread_bp: float) -> None:
        """Reaction rule: run temporary repo operations after a day of high repo spreads.

        Starts (or extends) the operations when the repo spread to IORB exceeds the trigger.
        """
        trigger = self.config.fed.repo_ops_trigger_bp
        if trigger is not None and math.isfinite(repo_spread_bp) and repo_spread_bp > trigger:
            self.repo_ops_days_left = self.config.fed.repo_ops_days

    def repo_operation_today(self) -> float:
        """Size of today's temporary repo operation ($bn; 0 if none).

        An episode may start smaller (`fed.repo_ops_first_size`) and grow linearly to
        `fed.repo_ops_size` over `fed.repo_ops_ramp_days`, as the Desk scaled up its
        operations in 2019; a trigger during an episode extends it without restarting the ramp.
        """
        if self.repo_ops_days_left <= 0:
            self.repo_ops_day = 0
            return 0.0
        self.repo_ops_days_left -= 1
        f = self.config.fed
        day, self.repo_ops_day = self.repo_ops_day, self.repo_ops_day + 1
        if f.repo_ops_first_size is None or day >= f.repo_ops_ramp_days:
            return f.repo_ops_size
        return f.repo_ops_first_size + (f.repo_ops_size - f.repo_ops_first_size) * (
            day / f.repo_ops_ramp_days
        )

    @property
    def wam_years(self) -> float:
        """Weighted-average maturity of SOMA Treasuries (years)."""
        return self.soma.wam_years()

    @property
    def bill_share(self) -> float:
        """Bills as a share of SOMA Treasuries."""
        return self.soma.bill_share()
