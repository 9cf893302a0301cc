"""Tests for fedplumbing.sim.calendar."""

from __future__ import annotations

import calendar as pycal
import datetime as dt
import timeit

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedplumbing.sim.calendar import Calendar, CalendarRules, business_days, fed_holidays

D = dt.date


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return Calendar.build("2017-01-01", "2023-12-31")


def day_of(c: Calendar, date: dt.date) -> dict[str, bool]:
    return c.flags_on(c.index_of(date))


# --------------------------------------------------------------------------- #
# Holidays
# --------------------------------------------------------------------------- #
def test_fed_holidays_2019_exact() -> None:
    assert fed_holidays(2019, 2019) == {
        D(2019, 1, 1),
        D(2019, 1, 21),
        D(2019, 2, 18),
        D(2019, 5, 27),
        D(2019, 7, 4),
        D(2019, 9, 2),
        D(2019, 10, 14),
        D(2019, 11, 11),
        D(2019, 11, 28),
        D(2019, 12, 25),
    }


def test_saturday_holidays_not_observed_sunday_holidays_moved() -> None:
    hol = fed_holidays(2021, 2023)
    # Christmas 2021 and New Year 2022 fell on Saturdays: Fed open the Friday before.
    assert D(2021, 12, 24) not in hol
    assert D(2021, 12, 31) not in hol
    assert D(2021, 12, 25) not in hol
    assert D(2022, 1, 1) not in hol
    # Juneteenth 2021 (Saturday) not observed; 2022 (Sunday) observed Monday.
    assert D(2021, 6, 18) not in hol
    assert D(2022, 6, 20) in hol
    assert D(2023, 6, 19) in hol
    # Independence Day 2021 on a Sunday -> Monday; New Year 2023 on a Sunday -> Monday.
    assert D(2021, 7, 5) in hol
    assert D(2023, 1, 2) in hol
    # Veterans Day 2023 on a Saturday: not observed.
    assert D(2023, 11, 10) not in hol
    assert all(d.weekday() < 5 for d in hol)
    # 11 holidays a year minus those falling on Saturdays (2021: Jun 19 and Dec 25;
    # 2022: Jan 1; 2023: Nov 11).
    assert sum(d.year == 2021 for d in hol) == 9
    assert sum(d.year == 2022 for d in hol) == 10
    assert sum(d.year == 2023 for d in hol) == 10


def test_no_juneteenth_before_2021() -> None:
    # 2020-06-19 was a Friday: it must be a business day.
    assert D(2020, 6, 19) not in fed_holidays(2020, 2020)
    # 10 pre-Juneteenth holidays; Jul 4 2020 was a Saturday (not observed).
    assert len(fed_holidays(2020, 2020)) == 9
    assert D(2020, 7, 3) not in fed_holidays(2020, 2020)


def test_business_days_2019() -> None:
    bd = business_days("2019-01-01", D(2019, 12, 31))
    assert bd.dtype == np.dtype("datetime64[D]")
    assert len(bd) == 261 - 10  # 261 weekdays, 10 weekday holidays
    assert bd[0] == np.datetime64("2019-01-02")
    assert bd[-1] == np.datetime64("2019-12-31")
    assert np.all(np.diff(bd).astype(int) > 0)
    as_dates = set(bd.astype(dt.date).tolist())
    assert D(2019, 11, 28) not in as_dates
    assert D(2019, 11, 29) in as_dates


def test_business_days_inclusive_and_empty() -> None:
    bd = business_days("2021-12-24", "2021-12-31")
    assert bd.astype(str).tolist() == [
        "2021-12-24",
        "2021-12-27",
        "2021-12-28",
        "2021-12-29",
        "2021-12-30",
        "2021-12-31",
    ]
    assert len(business_days("2019-01-05", "2019-01-06")) == 0
    assert len(business_days("2019-02-01", "2019-01-01")) == 0


# --------------------------------------------------------------------------- #
# Calendar fields and flags
# --------------------------------------------------------------------------- #
def test_date_fields(cal: Calendar) -> None:
    i = cal.index_of("2019-09-16")
    assert (cal.year[i], cal.month[i], cal.day[i], cal.weekday[i]) == (2019, 9, 16, 0)
    i = cal.index_of("2020-02-28")
    assert (cal.year[i], cal.month[i], cal.day[i]) == (2020, 2, 28)
    assert cal.weekday[i] == 4
    ds = cal.dates.astype(dt.date)
    assert cal.weekday.tolist() == [d.weekday() for d in ds]
    assert cal.day.tolist() == [d.day for d in ds]
    assert cal.month.tolist() == [d.month for d in ds]
    assert cal.year.tolist() == [d.year for d in ds]
    assert len(cal) == len(cal.dates) == len(business_days("2017-01-01", "2023-12-31"))


def test_corporate_tax_and_coupon_sep_2019(cal: Calendar) -> None:
    f = day_of(cal, D(2019, 9, 16))  # Sep 15 2019 was a Sunday
    assert f["is_corporate_tax_date"]
    assert f["is_coupon_settlement"]
    assert f["is_mid_month_coupon"]
    assert not f["is_month_end"]
    assert not day_of(cal, D(2019, 9, 13))["is_corporate_tax_date"]
    assert not day_of(cal, D(2019, 9, 13))["is_coupon_settlement"]
    # Corporate tax only in Mar/Apr/Jun/Sep/Dec; mid-month coupons every month.
    assert not day_of(cal, D(2019, 10, 15))["is_corporate_tax_date"]
    assert day_of(cal, D(2019, 10, 15))["is_coupon_settlement"]
    corp = cal.dates[cal.is_corporate_tax_date & (cal.year == 2019)].astype(str).tolist()
    assert corp == ["2019-03-15", "2019-04-15", "2019-06-17", "2019-09-16", "2019-12-16"]


def test_quarter_and_year_ends(cal: Calendar) -> None:
    f = day_of(cal, D(2019, 9, 30))
    assert f["is_quarter_end"] and f["is_month_end"] and f["is_coupon_settlement"]
    assert not f["is_year_end"] and not f["is_mid_month_coupon"]
    f = day_of(cal, D(2018, 12, 31))
    assert f["is_year_end"] and f["is_quarter_end"] and f["is_month_end"]
    assert not day_of(cal, D(2018, 12, 28))["is_month_end"]
    # August 2019 month-end is not a quarter-end.
    f = day_of(cal, D(2019, 8, 30))
    assert f["is_month_end"] and not f["is_quarter_end"]
    assert day_of(cal, D(2019, 9, 3))["is_month_start"]  # Sep 2 2019 was Labor Day
    assert not day_of(cal, D(2019, 9, 4))["is_month_start"]
    assert int(cal.is_year_end.sum()) == 7
    assert int(cal.is_quarter_end.sum()) == 28
    assert int(cal.is_month_end.sum()) == 84


def test_individual_tax_day_rolls_forward(cal: Calendar) -> None:
    assert day_of(cal, D(2018, 4, 16))["is_individual_tax_date"]  # Apr 15 2018: Sunday
    assert not day_of(cal, D(2018, 4, 13))["is_individual_tax_date"]
    assert day_of(cal, D(2019, 4, 15))["is_individual_tax_date"]
    assert int(cal.is_individual_tax_date.sum()) == 7  # one per year


def test_corporate_tax_day_parameter_moves_flag() -> None:
    c = Calendar.build("2019-01-01", "2019-12-31", CalendarRules(corporate_tax_day=22))
    assert day_of(c, D(2019, 9, 23))["is_corporate_tax_date"]  # Sep 22 2019: Sunday
    assert not day_of(c, D(2019, 9, 16))["is_corporate_tax_date"]
    assert day_of(c, D(2019, 9, 16))["is_coupon_settlement"]  # coupon rule unchanged


def test_rule_parameters_months_and_day_clipping() -> None:
    rules = CalendarRules(corporate_tax_months=(2,), corporate_tax_day=31)
    c = Calendar.build("2019-01-01", "2020-12-31", rules)
    corp = c.dates[c.is_corporate_tax_date].astype(str).tolist()
    # Day 31 is clipped to the month's last day; Feb 29 2020 (Saturday) rolls to Mon Mar 2.
    assert corp == ["2019-02-28", "2020-03-02"]


def test_coupon_month_end_switch() -> None:
    c = Calendar.build(
        "2019-09-01",
        "2019-10-31",
        CalendarRules(coupon_settlement_month_end=False, coupon_settlement_days=(15, 28)),
    )
    assert not day_of(c, D(2019, 10, 31))["is_coupon_settlement"]
    assert day_of(c, D(2019, 10, 31))["is_month_end"]
    # Sep 28 2019 was a Saturday: the 28th rule rolls to Monday Sep 30.
    assert c.dates[c.is_coupon_settlement].astype(str).tolist() == [
        "2019-09-16",
        "2019-09-30",
        "2019-10-15",
        "2019-10-28",
    ]


def test_bill_settlement_tue_thu_rolled(cal: Calendar) -> None:
    week = cal.dates[
        (cal.dates >= np.datetime64("2019-09-09")) & (cal.dates <= np.datetime64("2019-09-13"))
    ]
    flags = [day_of(cal, d.astype(dt.date))["is_bill_settlement"] for d in week]
    assert flags == [False, True, False, True, False]
    # Thanksgiving 2019 (Thu) -> Friday.
    assert day_of(cal, D(2019, 11, 26))["is_bill_settlement"]
    assert not day_of(cal, D(2019, 11, 27))["is_bill_settlement"]
    assert day_of(cal, D(2019, 11, 29))["is_bill_settlement"]
    # Independence Day 2017 (Tue) -> Wednesday.
    assert day_of(cal, D(2017, 7, 5))["is_bill_settlement"]
    # Christmas 2018 (Tue) -> Wed Dec 26; Thursday Dec 27 also settles.
    assert day_of(cal, D(2018, 12, 26))["is_bill_settlement"]
    assert day_of(cal, D(2018, 12, 27))["is_bill_settlement"]
    # A Monday or Friday settles only when it follows a holiday on a settlement day.
    mon_fri = cal.is_bill_settlement & np.isin(cal.weekday, (0, 4))
    assert set(cal.dates[mon_fri].astype(dt.date).tolist()) <= {
        h + dt.timedelta(days=1) for h in fed_holidays(2017, 2023) if h.weekday() == 3
    }
    thursday_holidays = [
        h for h in fed_holidays(2017, 2023) if h.weekday() == 3 and h <= D(2023, 12, 31)
    ]
    assert int(mon_fri.sum()) == len(thursday_holidays) > 7  # Thanksgiving + others


def test_bill_settlement_custom_weekday() -> None:
    c = Calendar.build("2019-01-01", "2019-01-31", CalendarRules(bill_settlement_weekdays=(0,)))
    got = c.dates[c.is_bill_settlement].astype(str).tolist()
    # Jan 21 2019 is MLK Day -> Tuesday Jan 22.
    assert got == ["2019-01-07", "2019-01-14", "2019-01-22", "2019-01-28"]


def test_accrual_days(cal: Calendar) -> None:
    assert cal.accrual_days[cal.index_of("2019-09-05")] == 1
    assert cal.accrual_days[cal.index_of("2019-09-06")] == 3  # normal weekend
    assert cal.accrual_days[cal.index_of("2019-08-30")] == 4  # Labor Day Monday
    assert cal.accrual_days[cal.index_of("2019-11-27")] == 2  # Thanksgiving Thursday
    assert cal.accrual_days.dtype.kind == "i"
    assert np.array_equal(cal.accrual_days[:-1], np.diff(cal.dates).astype(int))


def test_last_day_accrual_uses_day_beyond_range() -> None:
    c = Calendar.build("2019-08-01", "2019-08-30")
    assert c.dates[-1] == np.datetime64("2019-08-30")
    assert c.accrual_days[-1] == 4
    c = Calendar.build("2019-08-01", "2019-09-01")  # ends on a Sunday
    assert c.dates[-1] == np.datetime64("2019-08-30")
    assert c.accrual_days[-1] == 4


def test_range_edges_do_not_create_month_ends_or_starts() -> None:
    c = Calendar.build("2019-09-10", "2019-09-20")
    assert not c.is_month_end.any()
    assert not c.is_month_start.any()
    assert not c.is_quarter_end.any()
    c = Calendar.build("2019-09-01", "2019-09-29")  # last business day Fri Sep 27
    assert c.dates[-1] == np.datetime64("2019-09-27")
    assert not c.is_month_end.any()
    assert c.is_month_start[0]  # Sep 3 (Sep 2 was Labor Day)
    assert c.dates[0] == np.datetime64("2019-09-03")


def test_rolled_rule_date_from_before_start_is_flagged() -> None:
    c = Calendar.build("2018-04-16", "2018-04-30")  # Apr 15 2018 (Sun) is before start
    assert c.is_individual_tax_date[0]
    assert c.is_corporate_tax_date[0]
    assert c.is_coupon_settlement[0]


def test_fomc_dates() -> None:
    rules = CalendarRules(fomc_dates=(D(2019, 7, 31), D(2019, 9, 18), D(2020, 1, 29)))
    c = Calendar.build("2019-07-01", "2019-12-31", rules)
    assert c.dates[c.is_fomc].astype(str).tolist() == ["2019-07-31", "2019-09-18"]
    assert "FOMC decision" in c.day_names(c.index_of("2019-09-18"))
    with pytest.raises(ValueError, match="FOMC"):
        Calendar.build("2019-07-01", "2019-12-31", CalendarRules(fomc_dates=(D(2019, 9, 2),)))


def test_rules_validation() -> None:
    with pytest.raises(ValueError):
        CalendarRules(corporate_tax_months=(13,))
    with pytest.raises(ValueError):
        CalendarRules(bill_settlement_weekdays=(7,))
    with pytest.raises(ValueError):
        CalendarRules(corporate_tax_day=0)
    r = CalendarRules(corporate_tax_months=[3, 6])  # type: ignore[arg-type]
    assert r.corporate_tax_months == (3, 6)
    hash(r)


# --------------------------------------------------------------------------- #
# Accessors
# --------------------------------------------------------------------------- #
def test_index_of(cal: Calendar) -> None:
    i = cal.index_of(D(2019, 9, 16))
    assert cal.dates[i] == np.datetime64("2019-09-16")
    assert cal.index_of("2019-09-16") == i
    assert cal.index_of(np.datetime64("2019-09-16")) == i
    assert cal.index_of(dt.datetime(2019, 9, 16, 12, 30)) == i
    assert cal.index_of(cal.dates[0]) == 0
    assert cal.index_of(cal.dates[-1]) == len(cal) - 1
    with pytest.raises(ValueError, match="weekend"):
        cal.index_of("2019-09-14")
    with pytest.raises(ValueError, match="holiday"):
        cal.index_of("2019-09-02")
    with pytest.raises(ValueError, match="outside"):
        cal.index_of("2030-01-02")
    with pytest.raises(ValueError, match="outside"):
        cal.index_of("2016-12-30")


def test_flags_on_and_day_names(cal: Calendar) -> None:
    i = cal.index_of("2019-09-16")
    f = cal.flags_on(i)
    assert all(isinstance(v, bool) for v in f.values())
    assert f["is_corporate_tax_date"] and f["is_coupon_settlement"]
    assert cal.day_names(i) == ["corporate tax date", "coupon settlement"]
    assert cal.day_names(cal.index_of("2019-09-30")) == ["coupon settlement", "quarter-end"]
    assert cal.day_names(cal.index_of("2018-12-31")) == ["coupon settlement", "year-end"]
    assert cal.day_names(cal.index_of("2019-09-12")) == ["bill settlement"]
    assert cal.day_names(cal.index_of("2019-09-13")) == []
    assert cal.day_names(cal.index_of("2019-10-01")) == ["bill settlement", "month-start"]
    assert cal.date_at(i) == D(2019, 9, 16)
    assert cal.flags_on(-1) == cal.flags_on(len(cal) - 1)
    with pytest.raises(IndexError):
        cal.flags_on(len(cal))


def test_build_errors() -> None:
    with pytest.raises(ValueError):
        Calendar.build("2019-02-01", "2019-01-01")
    with pytest.raises(ValueError, match="no business day"):
        Calendar.build("2019-09-14", "2019-09-15")
    with pytest.raises(ValueError):
        Calendar.build("not a date", "2019-01-01")


def test_build_time_ten_years() -> None:
    Calendar.build("2015-01-01", "2024-12-31")  # warm up
    best = min(
        timeit.repeat(lambda: Calendar.build("2015-01-01", "2024-12-31"), number=1, repeat=5)
    )
    assert best < 0.05


# --------------------------------------------------------------------------- #
# Property tests against an independent, naive reference implementation
# --------------------------------------------------------------------------- #
def _ref_holiday(d: D) -> bool:
    """Independent day-by-day reimplementation of the Fed holiday rules."""
    if d.weekday() >= 5:
        return False
    last_day = pycal.monthrange(d.year, d.month)[1]
    nth = (d.day - 1) // 7 + 1
    floating = {
        (1, 0, 3),  # MLK
        (2, 0, 3),  # Washington
        (9, 0, 1),  # Labor
        (10, 0, 2),  # Columbus
        (11, 3, 4),  # Thanksgiving
    }
    if (d.month, d.weekday(), nth) in floating:
        return True
    if d.month == 5 and d.weekday() == 0 and d.day + 7 > last_day:
        return True
    fixed = [(1, 1), (7, 4), (11, 11), (12, 25)]
    if d.year >= 2021:
        fixed.append((6, 19))
    # Fixed holiday on the day itself, or on the Sunday before (observed Monday).
    if (d.month, d.day) in fixed:
        return True
    y = d - dt.timedelta(days=1)
    return d.weekday() == 0 and (y.month, y.day) in fixed


def _ref_is_bd(d: D) -> bool:
    return d.weekday() < 5 and not _ref_holiday(d)


def _ref_roll(d: D) -> D:
    while not _ref_is_bd(d):
        d += dt.timedelta(days=1)
    return d


def _months(start: D, end: D) -> list[tuple[int, int]]:
    y, m = start.year, start.month
    y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    out = []
    while (y, m) <= (end.year, end.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _clip(y: int, m: int, day: int) -> D:
    return D(y, m, min(day, pycal.monthrange(y, m)[1]))


rules_st = st.builds(
    CalendarRules,
    corporate_tax_months=st.lists(st.integers(1, 12), max_size=5, unique=True).map(tuple),
    corporate_tax_day=st.integers(1, 31),
    individual_tax_month=st.integers(1, 12),
    individual_tax_day=st.integers(1, 31),
    coupon_settlement_days=st.lists(st.integers(1, 31), max_size=2, unique=True).map(tuple),
    coupon_settlement_month_end=st.booleans(),
    bill_settlement_weekdays=st.lists(st.integers(0, 6), max_size=3, unique=True).map(tuple),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.dates(min_value=D(1995, 1, 1), max_value=D(2045, 12, 31)),
    ndays=st.integers(0, 800),
    rules=rules_st,
)
def test_property_matches_reference(start: D, ndays: int, rules: CalendarRules) -> None:
    end = start + dt.timedelta(days=ndays)
    ref_days = [start + dt.timedelta(days=k) for k in range(ndays + 1)]
    ref_bd = [d for d in ref_days if _ref_is_bd(d)]
    if not ref_bd:
        with pytest.raises(ValueError):
            Calendar.build(start, end, rules)
        return
    c = Calendar.build(start, end, rules)
    got = c.dates.astype(dt.date).tolist()
    assert got == ref_bd
    assert business_days(start, end).astype(dt.date).tolist() == ref_bd
    bd_set = set(ref_bd)

    def flagged(arr: np.ndarray) -> set[D]:
        days = set(c.dates[arr].astype(dt.date).tolist())
        assert days <= bd_set  # every flag day is a business day
        return days

    months = _months(start, end)
    ref_corp = {
        _ref_roll(_clip(y, m, rules.corporate_tax_day))
        for y, m in months
        if m in rules.corporate_tax_months
    }
    ref_ind = {
        _ref_roll(_clip(y, m, rules.individual_tax_day))
        for y, m in months
        if m == rules.individual_tax_month
    }
    ref_mid = {_ref_roll(_clip(y, m, d)) for y, m in months for d in rules.coupon_settlement_days}
    ref_bill = {
        _ref_roll(d - dt.timedelta(days=k))
        for d in ref_days
        for k in range(4)
        if (d - dt.timedelta(days=k)).weekday() in rules.bill_settlement_weekdays
    }

    def next_bd(d: D) -> D:
        return _ref_roll(d + dt.timedelta(days=1))

    def prev_bd(d: D) -> D:
        d -= dt.timedelta(days=1)
        while not _ref_is_bd(d):
            d -= dt.timedelta(days=1)
        return d

    ref_me = {d for d in ref_bd if next_bd(d).month != d.month}
    ref_ms = {d for d in ref_bd if prev_bd(d).month != d.month}

    assert flagged(c.is_corporate_tax_date) == ref_corp & bd_set
    assert flagged(c.is_individual_tax_date) == ref_ind & bd_set
    assert flagged(c.is_mid_month_coupon) == ref_mid & bd_set
    assert flagged(c.is_bill_settlement) == ref_bill & bd_set
    assert flagged(c.is_month_end) == ref_me
    assert flagged(c.is_month_start) == ref_ms
    assert flagged(c.is_quarter_end) == {d for d in ref_me if d.month % 3 == 0}
    assert flagged(c.is_year_end) == {d for d in ref_me if d.month == 12}
    ref_coupon = ref_mid & bd_set | (ref_me if rules.coupon_settlement_month_end else set())
    assert flagged(c.is_coupon_settlement) == ref_coupon
    assert not c.is_fomc.any()
    assert c.accrual_days.tolist() == [(next_bd(d) - d).days for d in ref_bd]


@settings(max_examples=25, deadline=None)
@given(
    first=st.dates(min_value=D(1990, 1, 1), max_value=D(2050, 1, 1)).map(
        lambda d: d.replace(day=1)
    ),
    nmonths=st.integers(1, 120),
)
def test_property_one_month_end_per_month(first: D, nmonths: int) -> None:
    y, m = divmod(first.month - 1 + nmonths, 12)
    last = D(first.year + y, m + 1, 1) - dt.timedelta(days=1)
    c = Calendar.build(first, last)
    keys = list(zip(c.year[c.is_month_end].tolist(), c.month[c.is_month_end].tolist(), strict=True))
    assert len(keys) == nmonths == len(set(keys))
    starts = list(
        zip(c.year[c.is_month_start].tolist(), c.month[c.is_month_start].tolist(), strict=True)
    )
    assert starts == keys
    assert int(c.is_quarter_end.sum()) == sum(k[1] % 3 == 0 for k in keys)
    assert int(c.is_year_end.sum()) == sum(k[1] == 12 for k in keys)
    # Each month-end is the last business day of its month and is followed by a month change.
    idx = np.flatnonzero(c.is_month_end)
    assert c.is_month_end[-1]
    assert np.all(c.month[idx[:-1] + 1] != c.month[idx[:-1]])
    assert np.all(c.month[idx - 1] == c.month[idx])
    assert np.all(c.is_mid_month_coupon | c.is_month_end == c.is_coupon_settlement)


def test_flags_view_is_flags_on_read_only_and_shared(cal: Calendar) -> None:
    for i in range(len(cal)):
        assert dict(cal.flags_view(i)) == cal.flags_on(i)
    quarter_ends = [i for i in range(len(cal)) if cal.flags_on(i)["is_quarter_end"]]
    first, second = (cal.flags_view(i) for i in quarter_ends[:2])
    if cal.flags_on(quarter_ends[0]) == cal.flags_on(quarter_ends[1]):
        assert first is second
    with pytest.raises(TypeError):
        first["is_quarter_end"] = False  # type: ignore[index]
