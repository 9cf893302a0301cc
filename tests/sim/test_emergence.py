"""Emergent behaviour: the reserve demand curve and the tax-day repo spike.

Nothing here names a date to the model: the September dates below are where the scenario's
calendar rules (corporate taxes on the 15th of Mar/Apr/Jun/Sep/Dec, coupon settlement on the
15th and at month-end) happen to fall; moving the rule moves the spike.
"""

import numpy as np
import pandas as pd
import pytest

from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.run import simulate

#: A September with reserves just above the cliff: no runoff, so the only drains are the
#: calendar's flows. Behavioural parameters are pinned so the test does not move with
#: calibration.
LAB = {
    "start": "2019-08-01",
    "end": "2019-10-15",
    "fed.treasury_cap": 0.0,
    "fed.mbs_cap": 0.0,
    "fed.srf_enabled": False,
    "rates.iorb": 2.10,
    "rates.on_rrp": 2.00,
    "rates.srf": 2.25,
    "rates.discount": 2.75,
    "initial.reserves": 1550.0,
    "initial.on_rrp": 0.0,
    "initial.mmf_assets": 2500.0,
    "initial.mmf_bill_share": 0.45,
    "initial.hedge_fund_repo": 1200.0,
    "initial.dealer_inventory": 250.0,
    "treasury.corporate_tax": 90.0,
    "treasury.corporate_tax_day": 15,
    "treasury.coupon_rollover": 45.0,
    "treasury.dealer_takedown": 0.55,
    "banks.lclor_share": 0.05,
    "banks.lclor_dispersion": 0.5,
    "banks.lclor_scale": 1.0,
    "banks.big_bank_lclor_premium": 0.5,
    "banks.small_bank_buffer": 1.0,
    "banks.shock_share": 0.006,
    "banks.balance_sheet_cost_bp": 4.0,
    "banks.cost_dispersion_bp": 3.0,
    "fed.discount_stigma_bp": 600.0,
    "mmfs.repo_premium_bp": 2.0,
    "mmfs.max_repo_share": 0.35,
    "mmfs.switch_spread_bp": 8.0,
    "mmfs.tax_redemption_share": 0.012,
    "dealers.fire_sale_cost_bp": 800.0,
    "dealers.elastic_share": 0.05,
    "dealers.elastic_spread_bp": 25.0,
    "markets.sessions": 40,
    "markets.repo_imbalance": 0.05,
    "banks.arbitrage_cost_bp": 7.0,
    "dealers.hedge_fund_growth": 0.0,
    "flows.mmf_growth": 0.0,
    "fhlbs.premium_bp": 8.0,
    "fhlbs.fed_funds_share": 1.0,
    "fhlbs.corridor_share": 0.0,
    "fhlbs.repo_discount_bp": None,
    "dealers.quarter_end_capacity": 1.0,
    "dealers.month_end_capacity": 1.0,
}
TAX_DAY = pd.Timestamp("2019-09-16")  # 15 Sep 2019 is a Sunday: the rule rolls to Monday


def lab(**extra):
    return apply_overrides(load_scenario("default"), {**LAB, **extra})


def window(daily, day, before=0, after=1):
    i = int(np.flatnonzero(daily["date"] == day)[0])
    return daily.iloc[i - before : i + after + 1]


@pytest.fixture(scope="module")
def scarce():
    return simulate(lab(), 1).daily


def test_tax_day_with_coupon_settlement_spikes_when_reserves_are_scarce(scarce):
    calm = scarce[(scarce["date"] >= "2019-08-05") & (scarce["date"] <= "2019-09-12")]
    spike = window(scarce, TAX_DAY)
    assert "corporate tax date" in spike["drivers"].iloc[0]
    assert "coupon settlement" in spike["drivers"].iloc[0]
    assert spike["repo_spread_bp"].max() > 50.0
    assert spike["repo_spread_p99_bp"].max() > spike["repo_spread_bp"].max()
    assert calm["repo_spread_bp"].median() < 30.0
    assert spike["repo_spread_bp"].max() > calm["repo_spread_bp"].max() + 30.0


def test_no_spike_with_ample_reserves(scarce):
    ample = simulate(lab(**{"initial.reserves": 1600.0}), 1).daily
    assert window(ample, TAX_DAY)["repo_spread_bp"].max() < 30.0
    assert window(scarce, TAX_DAY)["repo_spread_bp"].max() > 50.0


def test_no_spike_without_the_tax_flow():
    untaxed = simulate(lab(**{"treasury.corporate_tax": 0.0}), 1).daily
    assert window(untaxed, TAX_DAY)["repo_spread_bp"].max() < 30.0


def test_srf_without_stigma_caps_the_spike():
    capped = simulate(
        lab(**{"fed.srf_enabled": True, "fed.srf_stigma_bp": 0.0, "rates.srf": 2.20}), 1
    ).daily
    spike = window(capped, TAX_DAY)
    assert spike["repo_spread_bp"].max() <= 10.0 + 1.0  # at most the SRF rate (IORB + 10 bp)
    assert (spike["srf_rate"] == 2.20).all()
    # and it is the SRF that caps it: the tax drain is still there and the facility lends
    assert "corporate tax date" in spike["drivers"].iloc[0]
    assert spike["srf_take_up"].max() > 1.0


def peak_day(daily):
    sept = daily[(daily["date"] >= "2019-09-03") & (daily["date"] <= "2019-09-27")]
    return sept.loc[sept["repo_spread_bp"].idxmax(), "date"]


@pytest.mark.parametrize("seed", [1, 2])
def test_moving_the_tax_date_moves_the_spike(scarce, seed):
    base = scarce if seed == 1 else simulate(lab(), seed).daily
    moved = simulate(lab(**{"treasury.corporate_tax_day": 23}), seed).daily
    new_day = pd.Timestamp("2019-09-23")
    assert "corporate tax date" in window(moved, new_day)["drivers"].iloc[0]
    assert peak_day(base) == TAX_DAY
    assert peak_day(moved) == new_day
    assert window(moved, TAX_DAY, after=0)["repo_spread_bp"].max() < 30.0
    assert window(base, TAX_DAY, after=0)["repo_spread_bp"].max() > 50.0


def test_reserve_demand_curve_flat_then_steep():
    """QT drains reserves toward the banks' aggregate LCLoR: the spread stays flat, then
    rises nonlinearly."""
    cfg = apply_overrides(
        load_scenario("default"),
        {
            **{
                k: v
                for k, v in LAB.items()
                if k.startswith(("banks.", "mmfs.", "dealers.", "markets.", "flows.", "fhlbs."))
            },
            "start": "2018-01-02",
            "end": "2020-12-31",
            "fed.treasury_cap": 40.0,
            "fed.mbs_cap": 30.0,
            "initial.mmf_bill_share": 0.45,
            "treasury.corporate_tax": 0.0,
            "treasury.individual_tax": 0.0,
        },
    )
    daily = simulate(cfg, 2).daily
    ratio = daily["reserves_to_assets"]
    bins = pd.qcut(ratio, 6)
    curve = daily.groupby(bins, observed=True)["repo_spread_bp"].median()
    spreads = curve.to_numpy()[::-1]  # from ample to scarce
    assert spreads[0] < 15.0 and abs(spreads[1] - spreads[0]) < 10.0  # flat when ample
    assert spreads[-1] > spreads[0] + 40.0  # steep when scarce
    # convex: the last step up is larger than the first
    assert spreads[-1] - spreads[-2] > spreads[1] - spreads[0]
    assert daily["reserves"].iloc[-1] < daily["reserves"].iloc[0] - 500.0
