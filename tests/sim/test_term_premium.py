"""Tests for duration supply, the term premium and the Treasury's response to a short Fed."""

from __future__ import annotations

import numpy as np
import pytest

from fedplumbing.sim.soma import MIX_2026, SomaPortfolio
from fedplumbing.sim.term_premium import (
    DEBT_MIX_2026,
    TreasuryDebt,
    ladder_ten_year_equivalents,
    modified_duration,
    short_duration_scenario,
    ten_year_equivalents,
    term_premium_change_bp,
    treasury_response,
)


def test_modified_duration_par_bond_closed_form():
    # par bond with annual coupons at y: D_mod = (1 - (1 + y)^-n) / y
    for n in (1, 2, 5, 10, 30):
        for y in (1.0, 4.0, 7.0):
            expected = (1 - (1 + y / 100) ** -n) / (y / 100)
            assert modified_duration(float(n), y) == pytest.approx(expected, rel=1e-12)
    assert modified_duration(0.5, 4.0) == pytest.approx(0.5 / 1.04)
    assert modified_duration(0.0) == 0.0
    arr = modified_duration(np.array([0.25, 2.0, 10.0]))
    assert arr.shape == (3,)
    assert np.all(np.diff(arr) > 0)


def test_ten_year_equivalents():
    assert ten_year_equivalents({10.0: 100.0}) == pytest.approx(100.0)
    assert ten_year_equivalents({2.0: 100.0}) == pytest.approx(100 * 1.886095 / 8.110896, rel=1e-6)
    assert ten_year_equivalents({30.0: 100.0}) > 200.0
    mats = np.array([2.0, 10.0])
    assert ten_year_equivalents(np.array([100.0, 50.0]), mats) == pytest.approx(
        ten_year_equivalents({2.0: 100.0, 10.0: 50.0})
    )
    with pytest.raises(ValueError):
        ten_year_equivalents(np.array([1.0]))
    with pytest.raises(ValueError):
        ten_year_equivalents(np.array([1.0, 2.0]), np.array([1.0]))


def test_term_premium_rule_of_thumb():
    assert term_premium_change_bp(300.0, 30000.0) == pytest.approx(10.0)
    assert term_premium_change_bp(-300.0, 30000.0) == pytest.approx(-10.0)
    assert term_premium_change_bp(1700.0, 30000.0) == pytest.approx(56.67, abs=0.01)
    with pytest.raises(ValueError):
        term_premium_change_bp(1.0, 0.0)


def test_treasury_debt_2026():
    debt = TreasuryDebt.from_mix(**DEBT_MIX_2026)
    soma = SomaPortfolio.from_mix(**MIX_2026)
    assert debt.wam_months() == pytest.approx(71.0, abs=1.0)
    assert debt.private_bill_share(soma) == pytest.approx(0.24, abs=0.01)
    assert ladder_ten_year_equivalents(debt) > ladder_ten_year_equivalents(soma)
    too_big = SomaPortfolio.from_mix(40000.0, 0.5, {"1-3y": 0.5, "3-10y": 0.0, ">10y": 0.0})
    with pytest.raises(ValueError):
        debt.private_bill_share(too_big)


@pytest.fixture(scope="module")
def scenario():
    return short_duration_scenario(
        SomaPortfolio.from_mix(**MIX_2026), TreasuryDebt.from_mix(**DEBT_MIX_2026), months=60
    )


def test_short_duration_soma(scenario):
    assert scenario.coupons_rolled_into_bills_bn == pytest.approx(1900.0, abs=100.0)
    assert scenario.soma_short.bill_share() >= 0.55
    assert scenario.soma_short.wam_years() <= 4.5
    assert scenario.soma_baseline.wam_years() > 5.5
    assert scenario.fed_10y_eq_change_bn < -800.0
    # the start portfolio is not mutated
    assert scenario.soma_start.bills.sum() == pytest.approx(289.0)


def test_response_a_raises_term_premium(scenario):
    a = scenario.a
    assert 35.0 <= a.term_premium_change_bp <= 55.0
    assert a.private_10y_eq_change_bn == pytest.approx(a.term_premium_change_bp * 30000.0 / 1000.0)
    assert a.private_coupons_change_bn == pytest.approx(
        scenario.coupons_rolled_into_bills_bn, rel=1e-9
    )
    assert a.private_bills_change_bn == 0.0
    # the same coupons valued at issue carry more duration than once aged
    assert scenario.coupons_shifted_10y_eq_at_issue_bn > a.private_10y_eq_change_bn
    assert term_premium_change_bp(scenario.coupons_shifted_10y_eq_at_issue_bn, 30000.0) < 55.0


def test_response_b_shortens_treasury_instead(scenario):
    b = scenario.b
    assert abs(b.term_premium_change_bp) < 15.0
    assert b.term_premium_change_bp < scenario.a.term_premium_change_bp - 25.0
    assert b.private_bill_share == pytest.approx(0.24, abs=0.015)
    assert b.private_bill_share == pytest.approx(scenario.private_bill_share_start, abs=1e-9)
    assert scenario.treasury_wam_months_start == pytest.approx(71.0, abs=1.0)
    assert 57.0 <= b.treasury_wam_months <= 65.0
    assert b.treasury_wam_months < scenario.a.treasury_wam_months


def test_treasury_response_rejects_unknown():
    soma = SomaPortfolio.from_mix(**MIX_2026)
    debt = TreasuryDebt.from_mix(**DEBT_MIX_2026)
    with pytest.raises(ValueError):
        treasury_response(debt, soma, soma, soma, "C")  # type: ignore[arg-type]


def test_no_policy_change_means_no_effect():
    soma = SomaPortfolio.from_mix(**MIX_2026)
    debt = TreasuryDebt.from_mix(**DEBT_MIX_2026)
    r = treasury_response(debt, soma, soma, soma, "A")
    assert r.term_premium_change_bp == 0.0
    assert r.treasury_wam_months == pytest.approx(debt.wam_months())
