"""Tests for the SOMA maturity ladder and the FOMC runoff rules."""

from __future__ import annotations

import itertools
import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedplumbing.sim.soma import (
    MIX_2022,
    MIX_2026,
    NEW_BILL_MIX,
    NEW_COUPON_MIX,
    RunoffSchedule,
    SomaPortfolio,
    mbs_paydown,
    run_month,
)

TOL = 1e-9


def holdings(p: SomaPortfolio) -> float:
    return p.treasuries + p.mbs


# --- construction and WAM -------------------------------------------------------------------


def test_mixes_are_calibrated():
    p22 = SomaPortfolio.from_mix(**MIX_2022)
    assert p22.wam_years() == pytest.approx(7.7, abs=0.5)
    p26 = SomaPortfolio.from_mix(**MIX_2026)
    assert p26.wam_years() == pytest.approx(9.0, abs=0.5)
    assert p26.treasuries == pytest.approx(4200.0)
    assert p26.bills.sum() == pytest.approx(289.0)
    # FACTS: about $1.9T of notes/bonds mature over five years.
    assert p26.maturing_within(60)[1] == pytest.approx(1900.0, abs=100.0)


def test_from_mix_bucket_totals_match_and_under_1y_includes_coupons():
    # FACTS's 2022 mix rounds to 101%; without "<1y coupons" that bucket takes the remainder.
    p = SomaPortfolio.from_mix(
        5770.0, 0.0565, {"1-3y": 0.22, "3-10y": 0.31, ">10y": 0.25}, mbs_bn=2700.0
    )
    b = p.bucket_totals()
    assert b["bills"] == pytest.approx(0.0565 * 5770)
    assert b["bills"] + b["<1y coupons"] == pytest.approx(0.22 * 5770)
    assert b["1-3y"] == pytest.approx(0.22 * 5770)
    assert b["3-10y"] == pytest.approx(0.31 * 5770)
    assert b[">10y"] == pytest.approx(0.25 * 5770)
    assert sum(b.values()) == pytest.approx(p.treasuries)
    assert p.bill_share() == pytest.approx(0.0565)
    assert p.mbs == 2700.0
    assert p.total == pytest.approx(5770 + 2700)
    # explicit "<1y coupons": all five shares must add to 1
    shares = {"<1y coupons": 0.1735, "1-3y": 0.22, "3-10y": 0.305, ">10y": 0.245}
    q = SomaPortfolio.from_mix(5770.0, 0.0565, shares)
    assert q.bucket_totals()["bills"] + q.bucket_totals()["<1y coupons"] == pytest.approx(
        0.23 * 5770
    )
    assert q.bucket_totals()[">10y"] == pytest.approx(0.245 * 5770)
    assert q.wam_years() == pytest.approx(7.7, abs=0.5)


def test_from_mix_rejects_bad_shares():
    with pytest.raises(ValueError):
        SomaPortfolio.from_mix(100.0, 0.5, {"1-3y": 0.4, "3-10y": 0.2, ">10y": 0.1})
    with pytest.raises(ValueError):
        SomaPortfolio.from_mix(100.0, 0.1, {"2-4y": 0.9})
    with pytest.raises(ValueError):
        SomaPortfolio.from_mix(
            100.0, 0.1, {"<1y coupons": 0.1, "1-3y": 0.1, "3-10y": 0.1, ">10y": 0.1}
        )
    with pytest.raises(ValueError):
        SomaPortfolio(bills=np.zeros(11), coupons=np.zeros(361))


def test_wam_of_single_holdings():
    p = SomaPortfolio(bills=np.zeros(12), coupons=np.zeros(361))
    p.coupons[119] = 10.0  # 9 years 11.5 months left
    assert p.wam_years() == pytest.approx(119.5 / 12)
    p.bills[0] = 10.0  # half a month
    assert p.wam_years() == pytest.approx((119.5 + 0.5) / 24)
    assert p.wam_months() == pytest.approx(60.0)
    assert SomaPortfolio(bills=np.zeros(12), coupons=np.zeros(361)).wam_years() == 0.0


def test_age_one_month_shifts_ladders():
    p = SomaPortfolio.from_mix(**MIX_2026)
    bills, coupons = p.bills.copy(), p.coupons.copy()
    assert p.maturing_this_month() == (bills[0], coupons[0])
    p.age_one_month()
    np.testing.assert_array_equal(p.bills[:-1], bills[1:])
    np.testing.assert_array_equal(p.coupons[:-1], coupons[1:])
    assert p.bills[-1] == 0.0 and p.coupons[-1] == 0.0


def test_new_issue_mixes_sum_to_one():
    assert sum(NEW_BILL_MIX.values()) == pytest.approx(1.0)
    assert sum(NEW_COUPON_MIX.values()) == pytest.approx(1.0)
    assert max(NEW_BILL_MIX) <= 12
    # weighted to 1-3 months
    assert sum(s for m, s in NEW_BILL_MIX.items() if m <= 3) > 0.6


# --- runoff rules ---------------------------------------------------------------------------


def ladder_with(coupon_maturing: float, bill_maturing: float) -> SomaPortfolio:
    p = SomaPortfolio(bills=np.zeros(12), coupons=np.zeros(361), mbs=100.0)
    p.coupons[0] = coupon_maturing
    p.bills[0] = bill_maturing
    p.coupons[100] = 500.0
    return p


def test_coupons_first_then_bills():
    # coupon maturities above the cap: no bills redeemed
    f = run_month(ladder_with(80.0, 50.0), 60.0, None, 0.0)
    assert (f.coupons_redeemed, f.bills_redeemed) == (60.0, 0.0)
    assert (f.coupons_rolled, f.bills_rolled) == (20.0, 50.0)
    # coupon maturities short of the cap: bills make up the difference
    f = run_month(ladder_with(45.0, 50.0), 60.0, None, 0.0)
    assert (f.coupons_redeemed, f.bills_redeemed) == (45.0, 15.0)
    assert (f.coupons_rolled, f.bills_rolled) == (0.0, 35.0)
    # ... bounded by maturing bills
    f = run_month(ladder_with(10.0, 20.0), 60.0, None, 0.0)
    assert (f.coupons_redeemed, f.bills_redeemed) == (10.0, 20.0)
    assert f.treasury_runoff == 30.0


def test_cap_none_and_inf():
    f = run_month(ladder_with(80.0, 50.0), None, None, 10.0)
    assert f.treasury_runoff == 0.0 and f.coupons_rolled == 80.0 and f.bills_rolled == 50.0
    assert f.mbs_runoff == 0.0 and f.mbs_reinvested == 10.0
    f = run_month(ladder_with(80.0, 50.0), math.inf, math.inf, 10.0)
    assert f.treasury_runoff == 130.0 and f.coupons_rolled == 0.0 and f.bills_rolled == 0.0
    assert f.mbs_runoff == 10.0 and f.mbs_reinvested == 0.0


def test_mbs_cap_and_reinvestment_targets():
    for target, dbills, dcoupons, dmbs in [
        ("treasuries", 0.0, 5.0, -25.0),
        ("bills", 5.0, 0.0, -25.0),
        ("mbs", 0.0, 0.0, -20.0),
        ("none", 0.0, 0.0, -25.0),
    ]:
        p = SomaPortfolio(bills=np.zeros(12), coupons=np.zeros(361), mbs=1000.0)
        f = run_month(p, None, 20.0, 25.0, mbs_reinvestment=target)
        assert f.mbs_paydown == 25.0
        expected_runoff = 25.0 if target == "none" else 20.0
        assert f.mbs_runoff == expected_runoff
        assert p.bills.sum() == pytest.approx(dbills)
        assert p.coupons.sum() == pytest.approx(dcoupons)
        assert p.mbs - 1000.0 == pytest.approx(dmbs)


def test_bill_purchases_stop_at_what_the_market_holds():
    """Reinvested paydowns first, then reserve-management purchases, up to `bills_for_sale`;
    a paydown that cannot be reinvested runs off. Holdings still change by exactly
    -runoff + RMPs."""

    def month(bills_for_sale: float) -> tuple[SomaPortfolio, object]:
        p = SomaPortfolio(bills=np.zeros(12), coupons=np.zeros(361), mbs=1000.0)
        f = run_month(
            p,
            None,
            20.0,
            25.0,
            mbs_reinvestment="bills",
            reserve_management_bills=60.0,
            bills_for_sale=bills_for_sale,
        )
        return p, f

    p, f = month(40.0)
    assert (f.mbs_reinvested, f.rmp_bills, f.mbs_runoff) == (5.0, 35.0, 20.0)
    assert p.bills.sum() == pytest.approx(40.0)
    # the market holds fewer bills than the reinvestment: the rest runs off, no RMPs
    p, f = month(3.0)
    assert (f.mbs_reinvested, f.rmp_bills, f.mbs_runoff) == (3.0, 0.0, 22.0)
    assert p.bills.sum() + p.mbs == pytest.approx(1000.0 - 22.0)
    # a negative or NaN cap is refused before the portfolio changes
    p = SomaPortfolio(bills=np.zeros(12), coupons=np.zeros(361), mbs=1000.0)
    for bad in (-1.0, math.nan):
        with pytest.raises(ValueError, match="bills_for_sale"):
            run_month(p, None, 20.0, 25.0, mbs_reinvestment="bills", bills_for_sale=bad)
    assert p.mbs == 1000.0


def test_rmps_beyond_the_public_s_bills_keep_the_books(small_default):
    """`fed.rmp` is allowed up to $10T a month; the public's bills are not. The Fed bought
    what it did not have to buy: the public's bills went to -$4.2T (debug mode's collateral
    check failed; without debug the run went on)."""
    from fedplumbing.sim.config import apply_overrides
    from fedplumbing.sim.model import FedPlumbingModel
    from fedplumbing.sim.payments import PUBLIC

    cfg = apply_overrides(small_default, {"fed.rmp": 1000.0, "end": "2018-12-31"})
    model = FedPlumbingModel(cfg, rng=0, debug=True)  # checks every holding each day
    lowest = float("inf")
    while model.running:
        model.step()
        lowest = min(lowest, model.ledger.held("bills", PUBLIC))
    assert -1e-9 <= lowest < 1.0  # the purchases took all there was, and no more


def test_rolled_coupons_go_to_new_issue_mix_or_bills():
    p = ladder_with(100.0, 0.0)
    run_month(p, None, None, 0.0, treasury_reinvestment="coupons")
    for years, share in NEW_COUPON_MIX.items():
        expected = share * 100.0 + (500.0 if 12 * years - 1 == 99 else 0.0)
        assert p.coupons[12 * years - 1] == pytest.approx(expected)
    assert p.bills.sum() == 0.0
    p = ladder_with(100.0, 0.0)
    f = run_month(p, None, None, 0.0, treasury_reinvestment="bills")
    assert f.coupons_rolled_into == "bills" and f.bills_bought == pytest.approx(100.0)
    for months, share in NEW_BILL_MIX.items():
        assert p.bills[months - 1] == pytest.approx(share * 100.0)
    assert p.coupons.sum() == pytest.approx(500.0)


def test_new_bills_mature_and_roll_again():
    p = SomaPortfolio(bills=np.zeros(12), coupons=np.zeros(361))
    run_month(p, None, None, 0.0, reserve_management_bills=100.0)
    f = run_month(p, None, None, 0.0)
    assert f.bills_matured == pytest.approx(100.0 * NEW_BILL_MIX[1])
    assert f.bills_rolled == pytest.approx(f.bills_matured)
    assert p.bills.sum() == pytest.approx(100.0)


def test_invalid_arguments():
    p = ladder_with(1.0, 1.0)
    with pytest.raises(ValueError):
        run_month(p, -1.0, None, 0.0)
    with pytest.raises(ValueError):
        run_month(p, None, None, -1.0)
    with pytest.raises(ValueError):
        run_month(p, None, None, 0.0, treasury_reinvestment="mbs")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        run_month(p, None, None, 0.0, reserve_management_bills=-5.0)


def check_month(p: SomaPortfolio, cap: float | None, **kw) -> None:
    """Run a month and assert the cap rules and conservation."""
    before = holdings(p)
    bills_due, coupons_due = p.maturing_this_month()
    f = run_month(p, cap, kw.pop("mbs_cap", 35.0), kw.pop("paydown", 15.0), **kw)
    assert f.coupons_matured == coupons_due and f.bills_matured == bills_due
    if cap is None:
        assert f.treasury_runoff == 0.0
    else:
        assert f.treasury_runoff <= cap + TOL
        assert f.coupons_redeemed == pytest.approx(min(cap, coupons_due), abs=TOL)
        if coupons_due < cap:
            assert f.bills_redeemed == pytest.approx(min(cap - coupons_due, bills_due), abs=TOL)
        else:
            assert f.bills_redeemed == 0.0
    assert f.coupons_redeemed + f.coupons_rolled == pytest.approx(coupons_due, abs=TOL)
    assert f.bills_redeemed + f.bills_rolled == pytest.approx(bills_due, abs=TOL)
    assert min(f.coupons_rolled, f.bills_rolled, f.mbs_reinvested, f.mbs_runoff) >= 0.0
    assert holdings(p) - before == pytest.approx(f.net_change, abs=TOL)
    assert f.net_change == pytest.approx(-f.runoff + f.rmp_bills, abs=TOL)


def test_qt_2022_2025_multi_year_caps_and_conservation():
    """Run QT from June 2022 to 2027: caps to the dollar, conservation every month."""
    schedule = RunoffSchedule.qt_2022_2025()
    p = SomaPortfolio.from_mix(**MIX_2022)
    start = holdings(p)
    months_bills_ran_off = 0
    cum_runoff = cum_rmp = 0.0
    for i in range(60):
        day = date(2022 + (5 + i) // 12, (5 + i) % 12 + 1, 15)
        pol = schedule.caps_on(day)
        before = holdings(p)
        bills_due, coupons_due = p.maturing_this_month()
        paydown = mbs_paydown(p.mbs, 6.5, 2.5)
        f = run_month(
            p,
            pol.treasury_cap,
            pol.mbs_cap,
            paydown,
            treasury_reinvestment=pol.treasury_reinvestment,
            mbs_reinvestment=pol.mbs_reinvestment,
            reserve_management_bills=pol.rmp_per_month,
        )
        assert holdings(p) - before == pytest.approx(-f.runoff + f.rmp_bills, abs=TOL)
        if pol.treasury_cap is None:
            assert f.treasury_runoff == 0.0
        else:
            assert f.treasury_runoff == pytest.approx(
                min(pol.treasury_cap, bills_due + coupons_due), abs=TOL
            )
            if coupons_due >= pol.treasury_cap:
                assert f.bills_redeemed == 0.0
            else:
                months_bills_ran_off += f.bills_redeemed > 0
                assert f.bills_redeemed == pytest.approx(
                    min(pol.treasury_cap - coupons_due, bills_due), abs=TOL
                )
        assert f.mbs_runoff <= (pol.mbs_cap if pol.mbs_cap is not None else 0.0) + TOL
        cum_runoff += f.runoff
        cum_rmp += f.rmp_bills
    assert holdings(p) - start == pytest.approx(-cum_runoff + cum_rmp, abs=1e-6)
    # both regimes were exercised: months where bills had to top up the cap
    assert months_bills_ran_off > 0
    # the 2022-2025 QT shed on the order of $1.5-2.5T of SOMA securities
    assert 1300.0 < cum_runoff < 2600.0


@settings(max_examples=200, deadline=None)
@given(
    caps=st.lists(
        st.one_of(st.none(), st.floats(0, 120), st.just(math.inf)), min_size=1, max_size=40
    ),
    mode=st.sampled_from(["coupons", "bills"]),
    mbs_mode=st.sampled_from(["treasuries", "bills", "mbs", "none"]),
    rmp=st.floats(0, 50),
)
def test_property_caps_and_conservation(caps, mode, mbs_mode, rmp):
    p = SomaPortfolio.from_mix(**MIX_2026)
    for cap in caps:
        check_month(
            p,
            cap,
            treasury_reinvestment=mode,
            mbs_reinvestment=mbs_mode,
            reserve_management_bills=rmp,
        )
        assert (p.bills >= -TOL).all() and (p.coupons >= -TOL).all() and p.mbs >= -TOL


# --- MBS paydowns ---------------------------------------------------------------------------


def test_mbs_paydown_slope_and_shape():
    c = 3.0
    # +16.8B/month per 1 pp lower mortgage rate at $2.7T, around the coupon
    slope = (mbs_paydown(2700, c - 0.01, c) - mbs_paydown(2700, c + 0.01, c)) / 0.02
    assert slope == pytest.approx(16.8, rel=0.01)
    one_pp = mbs_paydown(2700, c - 0.5, c) - mbs_paydown(2700, c + 0.5, c)
    assert 15.0 < one_pp < 20.0
    # scheduled amortisation ~25B/month on 2.7T; prepayments near a floor far out of the money
    far_out = mbs_paydown(2700, c + 4.0, c)
    assert 25.0 < far_out < 28.0
    # scales with the balance
    assert mbs_paydown(1350, 5.0, c) == pytest.approx(mbs_paydown(2700, 5.0, c) / 2)
    # refinancing wave is bounded
    assert mbs_paydown(2700, c - 6.0, c) < 0.06 * 2700
    assert mbs_paydown(0.0, 3.0, 3.0) == 0.0
    assert mbs_paydown(1.0, -50.0, 3.0, prepay_max_share=0.999) <= 1.0


@given(
    rates=st.lists(st.floats(-2.0, 15.0), min_size=2, max_size=20),
    coupon=st.floats(0.5, 8.0),
    balance=st.floats(0.0, 5000.0),
)
def test_mbs_paydown_monotone_and_nonnegative(rates, coupon, balance):
    rates = sorted(rates)
    pays = [mbs_paydown(balance, r, coupon) for r in rates]
    assert all(x >= 0.0 for x in pays)
    assert all(a >= b - 1e-9 for a, b in itertools.pairwise(pays))  # falls as rates rise


# --- the short-duration Fed -----------------------------------------------------------------


def test_short_duration_path_from_2026():
    """All coupon maturities rolled into bills; MBS paydowns into bills; RMPs $20B/month."""
    p = SomaPortfolio.from_mix(**MIX_2026)
    assert p.wam_years() > 8.5 and p.bill_share() < 0.08
    rolled = 0.0
    reached = None
    for month in range(1, 61):
        before = holdings(p)
        f = run_month(
            p,
            None,
            0.0,
            mbs_paydown(p.mbs, 6.25, 3.0),
            treasury_reinvestment="bills",
            mbs_reinvestment="bills",
            reserve_management_bills=20.0,
        )
        assert holdings(p) - before == pytest.approx(f.rmp_bills, abs=TOL)
        assert f.coupons_bought == 0.0
        rolled += f.coupons_rolled
        if reached is None and p.bill_share() >= 0.55 and p.wam_years() <= 4.5:
            reached = month
    assert reached is not None and reached <= 60
    assert p.bill_share() >= 0.55
    assert p.wam_years() <= 4.5
    assert rolled == pytest.approx(1900.0, abs=100.0)
    # bills from $289B to several $T
    assert 3500.0 < p.bills.sum() < 4600.0


def test_baseline_path_keeps_duration():
    """Rolling into new coupons instead keeps the bill share low and WAM well above 4.5y."""
    p = SomaPortfolio.from_mix(**MIX_2026)
    for _ in range(60):
        run_month(p, None, None, 0.0, treasury_reinvestment="coupons")
    assert p.bill_share() < 0.10
    assert p.wam_years() > 5.5


# --- schedule -------------------------------------------------------------------------------


def test_runoff_schedule_steps():
    s = RunoffSchedule.qt_2022_2025(rmp_per_month=20.0)
    assert s.caps_on(date(2022, 5, 31)).treasury_cap is None
    assert s.caps_on(date(2022, 5, 31)).rmp_per_month == 0.0
    assert s.caps_on(date(2022, 6, 1))[:2] == (30.0, 17.5)
    assert s.caps_on(date(2022, 8, 31))[:2] == (30.0, 17.5)
    assert s.caps_on(date(2022, 9, 1))[:2] == (60.0, 35.0)
    assert s.caps_on(date(2024, 6, 3))[:2] == (25.0, 35.0)
    assert s.caps_on(date(2025, 4, 1))[:2] == (5.0, 35.0)
    end = s.caps_on(date(2025, 12, 2))
    assert end.treasury_cap is None and end.mbs_cap == 0.0 and end.mbs_reinvestment == "bills"
    assert end.rmp_per_month == 0.0
    assert s.caps_on(date(2026, 3, 1)).rmp_per_month == 20.0
    unsorted = RunoffSchedule(
        [(date(2020, 1, 1), 10.0, 5.0, 0.0), (date(2019, 1, 1), 1.0, 1.0, 2.0)]
    )
    assert unsorted.caps_on(date(2019, 6, 1))[:3] == (1.0, 1.0, 2.0)
    with pytest.raises(ValueError):
        RunoffSchedule([(date(2020, 1, 1), -1.0, 5.0, 0.0)])
    old = RunoffSchedule.qt_2017_2019()
    assert old.caps_on(date(2018, 10, 15))[:2] == (30.0, 20.0)
    assert old.caps_on(date(2019, 9, 1)).treasury_cap is None


def test_treasury_stats_are_the_three_measures_bit_for_bit():
    """`treasury_stats` is (treasuries, bill_share(), wam_years()), the same floats."""
    rng = np.random.default_rng(3)
    for p in (
        SomaPortfolio.from_mix(5000.0, 0.2, mbs_bn=100.0),
        SomaPortfolio(bills=rng.random(12) * 7.0, coupons=rng.random(361) * 13.0),
        SomaPortfolio.from_mix(0.0, 0.0, mbs_bn=1.0),
    ):
        assert p.treasury_stats() == (p.treasuries, p.bill_share(), p.wam_years())
