"""The Treasury: keeps the TGA near its target by issuing bills and coupons, collects taxes."""

from __future__ import annotations

import mesa
import numpy as np

from fedplumbing.sim.calendar import Calendar
from fedplumbing.sim.config import ScenarioConfig


class Treasury(mesa.Agent):
    """The Treasury's cash management.

    Spending flows out every day; taxes come in every day and in lumps on tax dates; each
    settlement day the Treasury issues enough (bills on bill days, coupons on coupon days, in
    its issuance mix) to finance the deficit since the last auction and to close part of the
    gap between the TGA and its target.
    """

    row = 1

    def __init__(self, model: mesa.Model, config: ScenarioConfig, calendar: Calendar) -> None:
        super().__init__(model)
        self.config = config
        t = config.treasury
        lumps = (
            np.sum(calendar.is_corporate_tax_date) * t.corporate_tax
            + np.sum(calendar.is_individual_tax_date) * t.individual_tax
        )
        years = max(len(calendar) / 252.0, 1e-9)
        #: Daily outlays ($bn): the deficit plus, spread evenly, the lump tax receipts.
        self.daily_outlays = (t.deficit_per_year + lumps / years) / 252.0
        self._last_bill_day = 0
        self._last_coupon_day = 0

    def tax_receipts(self, calendar: Calendar, day: int) -> float:
        """Lump tax receipts today ($bn)."""
        t = self.config.treasury
        return t.corporate_tax * bool(
            calendar.is_corporate_tax_date[day]
        ) + t.individual_tax * bool(calendar.is_individual_tax_date[day])

    def net_issuance(self, tga: float, day: int, kind: str) -> float:
        """Net new issuance of `kind` ("bills" or "coupons") settling today ($bn).

        Finances its share of the deficit accrued since the last settlement of that kind and
        closes part of the TGA gap (over `tga_adjustment_days`).
        """
        t = self.config.treasury
        share = t.bill_share if kind == "bills" else 1.0 - t.bill_share
        last = self._last_bill_day if kind == "bills" else self._last_coupon_day
        elapsed = max(day - last, 1)
        if kind == "bills":
            self._last_bill_day = day
        else:
            self._last_coupon_day = day
        deficit = t.deficit_per_year / 252.0 * elapsed
        gap = (t.tga_target - tga) * min(1.0, elapsed / t.tga_adjustment_days)
        return share * (deficit + gap)
