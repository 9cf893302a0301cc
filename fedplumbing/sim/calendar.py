"""Business-day calendar for the simulation.

One model step is one US business day under the Federal Reserve holiday calendar
(DESIGN.md section 2). This module derives every calendar date from rules:

* :func:`fed_holidays` encodes the statutory federal holidays with the Federal
  Reserve observance convention (a Sunday holiday is observed on the following
  Monday; a Saturday holiday is *not* observed, the Fed is open on the Friday
  before).
* :class:`CalendarRules` parameterises the recurring flow dates (tax dates,
  Treasury settlement days, FOMC decision days).
* :class:`Calendar` is a struct of numpy arrays with one entry per business day,
  holding the date fields, the flow-date flags and the ACT/360 accrual days.

No calendar dates are hard-coded apart from the holiday rules themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = [
    "JUNETEENTH_FIRST_YEAR",
    "Calendar",
    "CalendarRules",
    "DateLike",
    "business_days",
    "fed_holidays",
]

DateLike = dt.date | np.datetime64 | str
"""Anything accepted as a day: ``datetime.date``/``datetime``, ``np.datetime64`` or ISO string."""

JUNETEENTH_FIRST_YEAR = 2021
"""First year of Juneteenth as a federal holiday (enacted June 2021).

Juneteenth 2021 fell on a Saturday, which the Fed does not observe, so the first
Fed holiday it produces is Monday 2022-06-20.
"""

# Padding (calendar days) around the requested range. It must exceed the longest
# run of non-business days (3: a weekend next to a Monday or Friday holiday) so
# that the business days just before and after the range are known, and any
# rule date rolled forward into the range is generated.
_PAD_DAYS = 14

_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0).


# --------------------------------------------------------------------------- #
# Holidays and business days
# --------------------------------------------------------------------------- #
def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """Return the ``n``-th ``weekday`` (Monday=0) of a month; ``n=-1`` means the last."""
    if n > 0:
        first = dt.date(year, month, 1)
        offset = (weekday - first.weekday()) % 7
        return first + dt.timedelta(days=offset + 7 * (n - 1))
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _fed_observed(day: dt.date) -> dt.date | None:
    """Apply the Fed observance rule to a fixed-date holiday.

    Returns:
        The following Monday for a Sunday holiday, ``None`` for a Saturday
        holiday (not observed), otherwise the date itself.

    """
    wd = day.weekday()
    if wd == 6:
        return day + dt.timedelta(days=1)
    if wd == 5:
        return None
    return day


def fed_holidays(start_year: int, end_year: int) -> set[dt.date]:
    """Observed Federal Reserve holidays for the years ``start_year..end_year`` inclusive.

    Args:
        start_year: First calendar year.
        end_year: Last calendar year (inclusive).

    Returns:
        The set of observed holiday dates (all of them weekdays).

    """
    out: set[dt.date] = set()
    for y in range(start_year, end_year + 1):
        fixed = [dt.date(y, 1, 1), dt.date(y, 7, 4), dt.date(y, 11, 11), dt.date(y, 12, 25)]
        if y >= JUNETEENTH_FIRST_YEAR:
            fixed.append(dt.date(y, 6, 19))
        for d in fixed:
            obs = _fed_observed(d)
            if obs is not None:
                out.add(obs)
        out.update(
            (
                _nth_weekday(y, 1, 0, 3),  # Martin Luther King Jr. Day
                _nth_weekday(y, 2, 0, 3),  # Washington's Birthday
                _nth_weekday(y, 5, 0, -1),  # Memorial Day
                _nth_weekday(y, 9, 0, 1),  # Labor Day
                _nth_weekday(y, 10, 0, 2),  # Columbus Day
                _nth_weekday(y, 11, 3, 4),  # Thanksgiving Day
            )
        )
    return out


def _to_day(value: DateLike) -> np.datetime64:
    """Convert a date-like value to ``np.datetime64[D]``."""
    if isinstance(value, dt.datetime):
        value = value.date()
    try:
        out = np.datetime64(value, "D")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot interpret {value!r} as a date") from exc
    if np.isnat(out):
        raise ValueError(f"cannot interpret {value!r} as a date")
    return out


def _year_of(day: np.datetime64) -> int:
    return int(day.astype("datetime64[Y]").astype(np.int64)) + 1970


def _busdaycal(first_year: int, last_year: int) -> np.busdaycalendar:
    hol = np.array(sorted(fed_holidays(first_year, last_year)), dtype="datetime64[D]")
    return np.busdaycalendar(weekmask="1111100", holidays=hol)


def business_days(start: DateLike, end: DateLike) -> np.ndarray:
    """Fed business days between ``start`` and ``end`` inclusive.

    Args:
        start: First calendar day of the range.
        end: Last calendar day of the range (inclusive).

    Returns:
        Sorted ``datetime64[D]`` array of weekdays that are not Fed holidays
        (empty if ``end < start``).

    """
    s, e = _to_day(start), _to_day(end)
    if e < s:
        return np.empty(0, dtype="datetime64[D]")
    cal = _busdaycal(_year_of(s), _year_of(e))
    days = np.arange(s, e + np.timedelta64(1, "D"), dtype="datetime64[D]")
    return days[np.is_busday(days, busdaycal=cal)]


# --------------------------------------------------------------------------- #
# Rules
# --------------------------------------------------------------------------- #
def _check_ints(name: str, values: Iterable[int], lo: int, hi: int) -> tuple[int, ...]:
    out = tuple(int(v) for v in values)
    bad = [v for v in out if not lo <= v <= hi]
    if bad:
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {bad}")
    return out


@dataclass(frozen=True)
class CalendarRules:
    """Parameters of the recurring flow dates.

    A rule date that falls on a non-business day rolls forward to the next
    business day (tax dates, mid-month coupon settlement, bill settlement). A
    day-of-month larger than the month's length is clipped to the month's last
    calendar day before rolling.

    Attributes:
        corporate_tax_months: Months with a corporate tax payment date.
        corporate_tax_day: Day of month of the corporate tax date.
        individual_tax_month: Month of the individual tax day.
        individual_tax_day: Day of month of the individual tax day.
        coupon_settlement_days: Days of month on which coupon auctions settle.
        coupon_settlement_month_end: Whether coupons also settle on the last
            business day of each month.
        bill_settlement_weekdays: Weekdays (Monday=0) on which bill auctions settle.
        fomc_dates: FOMC decision days (supplied by a scenario); each must be a
            business day.

    """

    corporate_tax_months: tuple[int, ...] = (3, 4, 6, 9, 12)
    corporate_tax_day: int = 15
    individual_tax_month: int = 4
    individual_tax_day: int = 15
    coupon_settlement_days: tuple[int, ...] = (15,)
    coupon_settlement_month_end: bool = True
    bill_settlement_weekdays: tuple[int, ...] = (1, 3)
    fomc_dates: tuple[dt.date, ...] = ()

    def __post_init__(self) -> None:
        """Validate the parameters and normalise sequences to tuples."""
        fix = object.__setattr__
        fix(
            self,
            "corporate_tax_months",
            _check_ints("corporate_tax_months", self.corporate_tax_months, 1, 12),
        )
        fix(
            self,
            "corporate_tax_day",
            _check_ints("corporate_tax_day", [self.corporate_tax_day], 1, 31)[0],
        )
        fix(
            self,
            "individual_tax_month",
            _check_ints("individual_tax_month", [self.individual_tax_month], 1, 12)[0],
        )
        fix(
            self,
            "individual_tax_day",
            _check_ints("individual_tax_day", [self.individual_tax_day], 1, 31)[0],
        )
        fix(
            self,
            "coupon_settlement_days",
            _check_ints("coupon_settlement_days", self.coupon_settlement_days, 1, 31),
        )
        fix(
            self,
            "bill_settlement_weekdays",
            _check_ints("bill_settlement_weekdays", self.bill_settlement_weekdays, 0, 6),
        )
        fix(self, "fomc_dates", tuple(_to_day(d).astype(dt.date) for d in self.fomc_dates))


# --------------------------------------------------------------------------- #
# Calendar
# --------------------------------------------------------------------------- #
_FLAG_FIELDS: tuple[str, ...] = (
    "is_month_start",
    "is_month_end",
    "is_quarter_end",
    "is_year_end",
    "is_corporate_tax_date",
    "is_individual_tax_date",
    "is_bill_settlement",
    "is_coupon_settlement",
    "is_mid_month_coupon",
    "is_fomc",
)


def _day_in_months(months: np.ndarray, day: int) -> np.ndarray:
    """Day ``day`` of each month in ``months`` (datetime64[M]), clipped to the month length."""
    first = months.astype("datetime64[D]")
    length = ((months + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    return first + (np.minimum(day, length) - 1).astype("timedelta64[D]")


#: `Calendar.day_names` by flags (a few dozen combinations occur; the names are asked daily).
_NAMES_BY_FLAGS: dict[tuple[bool, ...], list[str]] = {}
#: `Calendar.flags_view` of each combination of flags met so far.
_VIEWS_BY_FLAGS: dict[tuple[bool, ...], MappingProxyType[str, bool]] = {}


@dataclass
class Calendar:
    """Struct of arrays with one entry per Fed business day of a range.

    Build it with :meth:`Calendar.build`. Month/quarter/year ends and month starts
    are determined from the full business-day calendar, not from the edges of
    the requested range.

    Attributes:
        dates: Business days, ``datetime64[D]``.
        year: Calendar year of each day.
        month: Month (1-12).
        day: Day of month (1-31).
        weekday: Weekday, Monday=0.
        is_month_start: First business day of the month.
        is_month_end: Last business day of the month.
        is_quarter_end: Last business day of March, June, September, December.
        is_year_end: Last business day of December.
        is_corporate_tax_date: Corporate tax payment date (rolled forward).
        is_individual_tax_date: Individual tax day (rolled forward).
        is_bill_settlement: Treasury bill auction settlement day.
        is_coupon_settlement: Coupon settlement (mid-month rule or month-end).
        is_mid_month_coupon: Coupon settlement from the day-of-month rule.
        is_fomc: FOMC decision day.
        accrual_days: Calendar days to the next business day (ACT/360 overnight
            interest); defined for the last day too, from the business day
            beyond the range.
        rules: The rules used to build the flags.

    """

    dates: np.ndarray
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    weekday: np.ndarray
    is_month_start: np.ndarray
    is_month_end: np.ndarray
    is_quarter_end: np.ndarray
    is_year_end: np.ndarray
    is_corporate_tax_date: np.ndarray
    is_individual_tax_date: np.ndarray
    is_bill_settlement: np.ndarray
    is_coupon_settlement: np.ndarray
    is_mid_month_coupon: np.ndarray
    is_fomc: np.ndarray
    accrual_days: np.ndarray
    rules: CalendarRules = field(default_factory=CalendarRules)
    # every day's flags as a tuple of Python bools, in `_FLAG_FIELDS` order: the model asks
    # for a day's flags and names every step, which would otherwise index ten arrays each
    # time (built on first use; the arrays are not changed after `build`)
    _flag_rows: list[tuple[bool, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def build(cls, start: DateLike, end: DateLike, rules: CalendarRules | None = None) -> Calendar:
        """Build the calendar of business days in ``[start, end]``.

        Args:
            start: First calendar day of the range.
            end: Last calendar day of the range (inclusive).
            rules: Flow-date rules; defaults to ``CalendarRules()``.

        Returns:
            The calendar.

        Raises:
            ValueError: If the range is empty, contains no business day, or an
                FOMC date inside the range is not a business day.

        """
        rules = CalendarRules() if rules is None else rules
        s, e = _to_day(start), _to_day(end)
        if e < s:
            raise ValueError(f"end {e} is before start {s}")
        pad = np.timedelta64(_PAD_DAYS, "D")
        ps, pe = s - pad, e + pad
        # Holidays one extra year on each side so forward rolls never leave the table.
        bcal = _busdaycal(_year_of(ps) - 1, _year_of(pe) + 1)

        all_days = np.arange(ps, pe + np.timedelta64(1, "D"), dtype="datetime64[D]")
        pdates = all_days[np.is_busday(all_days, busdaycal=bcal)]
        lo = int(np.searchsorted(pdates, s, side="left"))
        hi = int(np.searchsorted(pdates, e, side="right"))
        if hi <= lo:
            raise ValueError(f"no business day between {s} and {e}")
        # The padding guarantees business days exist on both sides of the range.
        assert lo >= 1 and hi < len(pdates)

        months_d = pdates.astype("datetime64[M]")
        month_idx = months_d.astype(np.int64)  # months since 1970-01
        p_month = month_idx % 12 + 1
        p_month_end = np.zeros(len(pdates), dtype=bool)
        p_month_end[:-1] = month_idx[1:] != month_idx[:-1]
        p_month_start = np.zeros(len(pdates), dtype=bool)
        p_month_start[1:] = month_idx[1:] != month_idx[:-1]

        def roll(candidates: np.ndarray) -> np.ndarray:
            if candidates.size == 0:
                return candidates
            return np.busday_offset(candidates, 0, roll="forward", busdaycal=bcal)

        def flag(candidates: np.ndarray) -> np.ndarray:
            return np.isin(pdates, roll(candidates))

        # Every month whose rule dates could roll into the padded range.
        one_month = np.timedelta64(1, "M")
        months = np.arange(
            ps.astype("datetime64[M]") - one_month,
            pe.astype("datetime64[M]") + one_month,
            dtype="datetime64[M]",
        )
        cal_month = months.astype(np.int64) % 12 + 1

        corp = months[np.isin(cal_month, rules.corporate_tax_months)]
        p_corp = flag(_day_in_months(corp, rules.corporate_tax_day))
        indiv = months[cal_month == rules.individual_tax_month]
        p_indiv = flag(_day_in_months(indiv, rules.individual_tax_day))
        if rules.coupon_settlement_days:
            mid = np.concatenate([_day_in_months(months, d) for d in rules.coupon_settlement_days])
        else:
            mid = np.empty(0, dtype="datetime64[D]")
        p_mid = flag(mid)
        all_wd = (all_days.astype(np.int64) + _EPOCH_WEEKDAY) % 7
        p_bill = flag(all_days[np.isin(all_wd, rules.bill_settlement_weekdays)])

        dates = pdates[lo:hi]
        fomc = np.array(sorted(rules.fomc_dates), dtype="datetime64[D]")
        fomc = fomc[(fomc >= s) & (fomc <= e)]
        not_bus = fomc[~np.is_busday(fomc, busdaycal=bcal)] if fomc.size else fomc
        if not_bus.size:
            raise ValueError(f"FOMC dates are not business days: {[str(d) for d in not_bus]}")

        sl = slice(lo, hi)
        month = p_month[sl]
        month_end = p_month_end[sl]
        mid_coupon = p_mid[sl]
        coupon = mid_coupon | month_end if rules.coupon_settlement_month_end else mid_coupon.copy()
        accrual = (pdates[lo + 1 : hi + 1] - dates).astype(np.int64)

        return cls(
            dates=dates,
            year=dates.astype("datetime64[Y]").astype(np.int64) + 1970,
            month=month,
            day=(dates - months_d[sl]).astype(np.int64) + 1,
            weekday=(dates.astype(np.int64) + _EPOCH_WEEKDAY) % 7,
            is_month_start=p_month_start[sl],
            is_month_end=month_end,
            is_quarter_end=month_end & (month % 3 == 0),
            is_year_end=month_end & (month == 12),
            is_corporate_tax_date=p_corp[sl],
            is_individual_tax_date=p_indiv[sl],
            is_bill_settlement=p_bill[sl],
            is_coupon_settlement=coupon,
            is_mid_month_coupon=mid_coupon,
            is_fomc=np.isin(dates, fomc),
            accrual_days=accrual,
            rules=rules,
        )

    def __len__(self) -> int:
        """Return the number of business days."""
        return len(self.dates)

    @property
    def start(self) -> dt.date:
        """First business day of the calendar."""
        return self.dates[0].astype(dt.date)

    @property
    def end(self) -> dt.date:
        """Last business day of the calendar."""
        return self.dates[-1].astype(dt.date)

    def date_at(self, i: int) -> dt.date:
        """Return the business day at step ``i`` as a ``datetime.date``."""
        return self.dates[self._check_index(i)].astype(dt.date)

    def index_of(self, date: DateLike) -> int:
        """Step index of a business day.

        Args:
            date: A business day inside the calendar's range.

        Returns:
            Its index into the arrays.

        Raises:
            ValueError: If ``date`` is outside the range or not a business day.

        """
        d = _to_day(date)
        k = int(np.searchsorted(self.dates, d))
        if k < len(self.dates) and self.dates[k] == d:
            return k
        if len(self.dates) == 0 or d < self.dates[0] or d > self.dates[-1]:
            raise ValueError(
                f"{d} is outside the calendar range {self.dates[0]}..{self.dates[-1]}"
                if len(self.dates)
                else f"{d}: calendar is empty"
            )
        what = "a weekend" if (int(d.astype(np.int64)) + _EPOCH_WEEKDAY) % 7 >= 5 else "a holiday"
        raise ValueError(f"{d} is not a business day ({what})")

    def _check_index(self, i: int) -> int:
        n = len(self.dates)
        if not -n <= i < n:
            raise IndexError(f"day index {i} out of range for calendar of {n} days")
        return i % n

    def flags_on(self, i: int) -> dict[str, bool]:
        """All boolean flags of day ``i`` (for display)."""
        return dict(zip(_FLAG_FIELDS, self._flags_row(i), strict=True))

    def flags_view(self, i: int) -> MappingProxyType[str, bool]:
        """`flags_on(i)` as a read-only mapping shared by all days with the same flags.

        The model reads it every day; sharing spares building a dict a day.
        """
        flags = self._flags_row(i)
        view = _VIEWS_BY_FLAGS.get(flags)
        if view is None:
            view = _VIEWS_BY_FLAGS[flags] = MappingProxyType(
                dict(zip(_FLAG_FIELDS, flags, strict=True))
            )
        return view

    def _flags_row(self, i: int) -> tuple[bool, ...]:
        """The flags of day ``i`` as a tuple in `_FLAG_FIELDS` order."""
        i = self._check_index(i)
        if self._flag_rows is None:
            columns = [getattr(self, name).tolist() for name in _FLAG_FIELDS]
            self._flag_rows = [tuple(map(bool, row)) for row in zip(*columns, strict=True)]
        return self._flag_rows[i]

    def day_names(self, i: int) -> list[str]:
        """Human-readable names of the flags set on day ``i``.

        Only the most specific of month-end / quarter-end / year-end is named,
        and coupon settlement is named once whichever rule produced it.

        Args:
            i: Day index.

        Returns:
            E.g. ``["corporate tax date", "coupon settlement", "quarter-end"]``.

        """
        flags = self._flags_row(i)
        names = _NAMES_BY_FLAGS.get(flags)
        if names is None:
            names = _NAMES_BY_FLAGS[flags] = self._names(
                dict(zip(_FLAG_FIELDS, flags, strict=True))
            )
        return list(names)

    @staticmethod
    def _names(f: dict[str, bool]) -> list[str]:
        """`day_names` of a day with flags `f`."""
        names: list[str] = []
        if f["is_fomc"]:
            names.append("FOMC decision")
        if f["is_corporate_tax_date"]:
            names.append("corporate tax date")
        if f["is_individual_tax_date"]:
            names.append("individual tax day")
        if f["is_bill_settlement"]:
            names.append("bill settlement")
        if f["is_coupon_settlement"]:
            names.append("coupon settlement")
        if f["is_month_start"]:
            names.append("month-start")
        if f["is_year_end"]:
            names.append("year-end")
        elif f["is_quarter_end"]:
            names.append("quarter-end")
        elif f["is_month_end"]:
            names.append("month-end")
        return names

    def to_dict(self) -> dict[str, Any]:
        """Arrays keyed by field name (e.g. for ``pandas.DataFrame``)."""
        return {
            name: getattr(self, name)
            for name in ("dates", "year", "month", "day", "weekday", *_FLAG_FIELDS, "accrual_days")
        }
