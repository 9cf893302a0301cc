"""The Treasury: keeps the TGA near its target by issuing bills and coupons, collects taxes."""

from __future__ import annotations

import datetime as dt

import mesa

from fedplumbing.sim.calendar import Calendar
from fedplumbing.sim.config import ScenarioConfig
from fedplumbing.sim.debt import TreasuryDebtBlock


class Treasury(mesa.Agent):
    """The Treasury's cash management.

    Spending flows out every day; taxes come in every day and in lumps on tax dates; each
    settlement day the Treasury issues enough (bills on bill days, coupons on coupon days, in
    its issuance mix) to finance the deficit since the last auction and to close part of the
    gap between the TGA and its target. The target (and how fast the gap closes) can follow
    ``treasury.tga_schedule``: a debt-ceiling drawdown and rebuild.

    When the Fed rolls maturing coupons into bills and ``treasury.response`` is "A", the
    Treasury keeps its coupon auction sizes: it sells the coupons the Fed no longer takes to
    the private sector and issues that much fewer bills to it. Under "B" (and "none") the
    Fed's new bills are extra bills and private coupon supply is unchanged.

    Attributes:
        debt: the marketable debt by maturity (see `fedplumbing.sim.debt`).
        coupons_shifted: coupons sold to the private sector under response A so far ($bn).
    """

    row = 1

    def __init__(self, model: mesa.Model, config: ScenarioConfig, calendar: Calendar) -> None:
        super().__init__(model)
        self.config = config
        t = config.treasury
        rules = calendar.rules
        lumps_per_year = len(rules.corporate_tax_months) * t.corporate_tax + t.individual_tax
        #: Daily outlays ($bn): the deficit plus a year's lump tax receipts, spread evenly
        #: over a year's 252 business days (the same whatever the run's span).
        self.daily_outlays = (t.deficit_per_year + lumps_per_year) / 252.0
        self._last_bill_day = 0
        self._last_coupon_day = 0
        self._tga_steps = sorted(t.tga_schedule, key=lambda s: s.date)
        self.debt = TreasuryDebtBlock(config)
        self._seen_runoff: object = None
        self._pending_coupons = 0.0
        self._pending_bill_cut = 0.0
        self.coupons_shifted = 0.0

    def tax_receipts(self, calendar: Calendar, day: int) -> float:
        """Lump tax receipts today ($bn)."""
        t = self.config.treasury
        return t.corporate_tax * bool(
            calendar.is_corporate_tax_date[day]
        ) + t.individual_tax * bool(calendar.is_individual_tax_date[day])

    def cash_policy_on(self, date: dt.date) -> tuple[float, float, float]:
        """(TGA target, adjustment days, bill share of net issuance) in force on `date`."""
        t = self.config.treasury
        target, days, share = t.tga_target, t.tga_adjustment_days, t.bill_share
        for step in self._tga_steps:
            if step.date > date:
                break
            target = step.target
            days = step.adjustment_days if step.adjustment_days is not None else days
            share = step.bill_share if step.bill_share is not None else share
        return target, days, share

    def _note_fed_rollovers(self) -> None:
        """Under response A, queue this month's coupons the Fed rolled into bills."""
        flows = getattr(self.model, "month_runoff", None)
        if flows is None or flows is self._seen_runoff:
            return
        self._seen_runoff = flows
        if self.config.treasury.response == "A" and flows.coupons_rolled_into == "bills":
            self._pending_coupons += flows.coupons_rolled
            self._pending_bill_cut += flows.coupons_rolled

    def net_issuance(self, tga: float, day: int, kind: str) -> float:
        """Net new issuance of `kind` ("bills" or "coupons") settling today ($bn).

        Finances its share of the deficit accrued since the last settlement of that kind and
        closes part of the TGA gap (over the adjustment days), plus, under response A, the
        shift from bills to coupons.
        """
        t = self.config.treasury
        target, adjustment_days, bill_share = self.cash_policy_on(self.model.date)
        share = bill_share if kind == "bills" else 1.0 - bill_share
        last = self._last_bill_day if kind == "bills" else self._last_coupon_day
        elapsed = max(day - last, 1)
        if kind == "bills":
            self._last_bill_day = day
        else:
            self._last_coupon_day = day
        deficit = t.deficit_per_year / 252.0 * elapsed
        gap = (target - tga) * min(1.0, elapsed / adjustment_days)
        net = share * (deficit + gap)
        self._note_fed_rollovers()
        if kind == "coupons" and self._pending_coupons > 0:
            net += self._pending_coupons
            self.coupons_shifted += self._pending_coupons
            self._pending_coupons = 0.0
        elif kind == "bills" and self._pending_bill_cut > 0:
            cut = min(self._pending_bill_cut, max(net + t.bill_rollover, 0.0))
            net -= cut
            self._pending_bill_cut -= cut
        return net
