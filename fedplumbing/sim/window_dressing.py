"""Period-end window dressing: foreign dealers shrink their hedge-fund repo book.

Foreign banks report their leverage ratio on period-end snapshots, so their US dealers cut
the balance sheet they lend to hedge funds (the matched repo book) on the last business day
of a quarter, and some of them at other month-ends; they start shrinking it toward the
quarter-end level a few business days ahead and rebuild it over the following days. The
money funds that financed that book find fewer repo borrowers and, when repo rates are at
the floor, place the cash at the ON RRP: the quarter-end ON RRP spikes of 2015-2017.

The schedule comes from the calendar's month- and quarter-end flags only; no date is named.
Domestic dealers (which report averages) do not window-dress.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from fedplumbing.sim.calendar import Calendar, business_days
from fedplumbing.sim.config import Dealers

QUARTER_END_MONTHS = (3, 6, 9, 12)


@dataclass(frozen=True)
class WindowDressing:
    """Foreign dealers' hedge-fund book capacity on each business day, as a share of trend.

    Attributes:
        target: the share of its trend book a foreign dealer steers toward each day.
        binding: days on which the book is cut to `target` at once (the period ends), rather
            than approached at the hedge funds' usual speed.
        opening: the share at which the book opens (below 1 when the day before the first
            day was a period end).
    """

    target: np.ndarray
    binding: np.ndarray
    opening: float

    @classmethod
    def build(cls, calendar: Calendar, dealers: Dealers) -> WindowDressing:
        """The schedule of a calendar under the dealers' period-end capacities."""
        n = len(calendar)
        target = np.ones(n)
        month_end = calendar.is_month_end & ~calendar.is_quarter_end
        target[month_end] = dealers.month_end_capacity
        quarter_ends = np.flatnonzero(calendar.is_quarter_end)
        for q in quarter_ends:
            lo = max(0, q - dealers.quarter_end_window_days)
            target[lo : q + 1] = np.minimum(target[lo : q + 1], dealers.quarter_end_capacity)
        binding = calendar.is_month_end.copy()
        opening = opening_capacity(calendar.start, dealers) if n else 1.0
        return cls(target=target, binding=binding, opening=opening)


def opening_capacity(first_day: dt.date, dealers: Dealers) -> float:
    """Capacity at which the book opens: yesterday's period-end cut, if yesterday was one.

    Args:
        first_day: the first business day of the run.
        dealers: the dealers' configuration.
    """
    previous = business_days(first_day - dt.timedelta(days=10), first_day - dt.timedelta(days=1))
    if previous.size == 0:
        return 1.0
    last = previous[-1].astype(dt.date)
    if last.month == first_day.month:
        return 1.0
    if last.month in QUARTER_END_MONTHS:
        return dealers.quarter_end_capacity
    return dealers.month_end_capacity
