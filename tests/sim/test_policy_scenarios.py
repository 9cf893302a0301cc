"""Policy scenarios: Fed income, runoff rules inside the engine, the short-duration Fed and the
Treasury's responses, the TGA schedule, and every built-in policy scenario's first days.

Assertions are on arithmetic and relations (FACTS.md figures, caps, identities), not on
spreads, so they hold while behaviour is being calibrated.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from conftest import SMALL

from fedplumbing.sim.config import ConfigError, apply_overrides, load_scenario
from fedplumbing.sim.interest import annual_fed_income
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.payments import FED, TREASURY
from fedplumbing.sim.run import simulate

POLICY_SCENARIOS = (
    "qt2017",
    "qt2022",
    "rmp2026",
    "short_duration_a",
    "short_duration_b",
    "debt_ceiling",
    "srf_today",
    "srf_central_clearing",
)


def small(name: str, **overrides) -> object:
    return apply_overrides(load_scenario(name), {**SMALL, **overrides})


# --------------------------------------------------------------------------- Fed income
def test_2022_fed_net_income_arithmetic_is_about_190bn():
    # FACTS.md: Treasuries $5.77T at ~3% and MBS $2.7T at ~2.4% earn ~$240B; reserves $3.32T
    # at 0.9% and ON RRP $2.26T at 0.8% cost ~$48B; net ~$190B
    inc = annual_fed_income(
        coupons_bn=5770.0,
        coupon_yield_pct=3.0,
        mbs_bn=2700.0,
        mbs_yield_pct=2.4,
        reserves_bn=3320.0,
        iorb_pct=0.9,
        on_rrp_bn=2260.0,
        on_rrp_rate_pct=0.8,
    )
    assert inc.assets == pytest.approx(237.9, abs=0.05)
    assert 235.0 <= inc.assets <= 245.0
    assert inc.liabilities == pytest.approx(48.0, abs=0.1)
    assert inc.net == pytest.approx(189.9, abs=0.1)
    assert inc.net == pytest.approx(inc.assets - inc.liabilities)


def annualised(values: np.ndarray, accrual_days: np.ndarray) -> float:
    """Income over a run scaled to 360 accrual days (rates are ACT/360)."""
    return float(values.sum() * 360.0 / accrual_days.sum())


def test_engine_2022_income_annualised_matches_the_arithmetic():
    # the May 2022 balance sheet, all Treasuries as coupons at 3%, MBS at 2.4%, IORB 0.9%,
    # ON RRP 0.8%, no runoff: the engine's daily income scaled to a year
    cfg = small(
        "qt2022",
        **{
            "end": "2022-06-10",
            "initial.soma_bills": 0.0,
            "initial.soma_coupons": 5770.0,
            "fed.soma_coupon_yield": 3.0,
            "fed.srf_enabled": False,
        },
    )
    res = simulate(cfg, 0, days=25, keep_model=True)
    d = res.daily
    acc = res.model.calendar.accrual_days[: len(d)].astype(float)
    net = annualised(d["fed_net_income"].to_numpy(), acc)
    # FACTS.md: about $190B
    assert 170.0 <= net <= 210.0
    # the same arithmetic on the run's average balances (ON RRP is the funds' choice)
    w = acc / acc.sum()
    expected = annual_fed_income(
        coupons_bn=float(w @ d["soma_treasuries"]),
        coupon_yield_pct=3.0,
        mbs_bn=float(w @ d["soma_mbs"]),
        mbs_yield_pct=2.4,
        reserves_bn=float(w @ d["reserves"]),
        iorb_pct=0.9,
        on_rrp_bn=float(w @ d["on_rrp"]),
        on_rrp_rate_pct=0.8,
    )
    assert net == pytest.approx(expected.net, rel=0.02)
    assert annualised(d["fed_income_assets"].to_numpy(), acc) == pytest.approx(
        expected.assets, rel=0.01
    )
    # all income is remitted: equity stays at capital, no deferred asset
    assert d["fed_remittances"].sum() == pytest.approx(d["fed_net_income"].sum(), rel=1e-9)
    assert (d["fed_deferred_asset"] < 1e-9).all()


@pytest.mark.parametrize(
    "name, overrides, used",
    [
        # scarce reserves: the SRF lends, so lending income is exercised
        ("srf_central_clearing", {"start": "2019-06-03", "initial.reserves": 1300.0}, "lending"),
        # ample reserves and $2T at the ON RRP: its expense is exercised
        ("qt2022", {}, "on_rrp"),
    ],
)
def test_income_breakdown_adds_up_to_the_change_in_fed_equity(name, overrides, used):
    res = simulate(small(name, **overrides), 0, days=60, debug=True)
    d = res.daily
    gap = d["fed_income_assets"] - d["fed_income_liabilities"] - d["fed_net_income"]
    assert np.abs(gap).max() < 1e-9
    parts = (
        d["fed_income_soma_coupons"]
        + d["fed_income_soma_bills"]
        + d["fed_income_mbs"]
        + d["fed_income_lending"]
    )
    assert np.allclose(parts, d["fed_income_assets"])
    assert np.allclose(d["fed_expense_iorb"] + d["fed_expense_on_rrp"], d["fed_income_liabilities"])
    if used == "lending":
        assert d["fed_income_lending"].max() > 0  # SRF interest earned
        assert d["fed_income_soma_bills"].max() == 0  # no bills in the 2017-2019 SOMA
    else:
        # interest on each night's ON RRP is paid when it unwinds, from the second day on
        assert d["fed_expense_on_rrp"].iloc[0] == 0
        assert d["fed_expense_on_rrp"].iloc[1:].min() > 0
        assert d["fed_income_soma_bills"].min() > 0


def test_losses_build_a_deferred_asset_and_stop_remittances():
    # IORB far above the portfolio's yields: negative income every day
    cfg = small(
        "qt2022",
        **{
            "rates.iorb": 5.4,
            "rates.on_rrp": 5.3,
            "rates.srf": 5.5,
            "rates.discount": 5.5,
            "rates.changes": [],
            "fed.soma_coupon_yield": 2.0,
        },
    )
    d = simulate(cfg, 0, days=30, debug=True).daily
    assert (d["fed_net_income"] < 0).all()
    assert (d["fed_remittances"] == 0).all()
    deferred = d["fed_deferred_asset"].to_numpy()
    assert np.all(np.diff(deferred) > 0)
    assert deferred[-1] == pytest.approx(-d["fed_net_income"].sum(), rel=1e-9)


# --------------------------------------------------------------------------- runoff rules
def expected_treasury_cap(day: dt.date) -> float | None:
    """The 2022-2025 caps from FACTS.md (None: runoff over)."""
    if day >= dt.date(2025, 12, 1):
        return None
    for start, cap in (
        (dt.date(2025, 4, 1), 5.0),
        (dt.date(2024, 6, 1), 25.0),
        (dt.date(2022, 9, 1), 60.0),
        (dt.date(2022, 6, 1), 30.0),
    ):
        if day >= start:
            return cap
    return 0.0


def expected_mbs_cap(day: dt.date) -> float | None:
    if day >= dt.date(2025, 12, 1):
        return None
    if day >= dt.date(2022, 9, 1):
        return 35.0
    return 17.5 if day >= dt.date(2022, 6, 1) else 0.0


def test_qt2022_caps_and_reinvestment_rules_followed_to_the_dollar_every_month():
    model = FedPlumbingModel(small("qt2022"), 0)
    led, fed = model.ledger, model.fed
    months, bills_ran_off, seen = 0, 0, None
    total_runoff = 0.0
    while model.running:
        before = float(led.held("bills", FED) + led.held("coupons", FED))
        model.step()
        flows = model.month_runoff
        if flows is None or flows is seen:
            continue
        seen, months = flows, months + 1
        day = model.calendar.dates[model.day - 1].astype(dt.date)
        cap, mbs_cap = expected_treasury_cap(day), expected_mbs_cap(day)
        matured = flows.coupons_matured + flows.bills_matured
        if cap is None:
            assert flows.treasury_runoff == 0.0
        else:
            # runoff never exceeds the cap; coupons first, bills only for the shortfall
            assert flows.treasury_runoff <= cap + 1e-9
            assert flows.coupons_redeemed == pytest.approx(
                min(cap, flows.coupons_matured), abs=1e-9
            )
            shortfall = max(cap - flows.coupons_matured, 0.0)
            assert flows.bills_redeemed == pytest.approx(
                min(shortfall, flows.bills_matured), abs=1e-9
            )
            assert flows.treasury_runoff == pytest.approx(min(cap, matured), abs=1e-9)
        if flows.bills_redeemed > 0:
            bills_ran_off += 1
            assert flows.coupons_matured < cap
        if mbs_cap is None:
            assert flows.mbs_runoff == 0.0
        else:
            assert flows.mbs_runoff == pytest.approx(min(mbs_cap, flows.mbs_paydown), abs=1e-9)
        # everything not run off is rolled over or reinvested
        assert flows.coupons_rolled == pytest.approx(
            flows.coupons_matured - flows.coupons_redeemed, abs=1e-9
        )
        # the ladder and the ledger agree, and the ledger moved by runoff and purchases only
        after = float(led.held("bills", FED) + led.held("coupons", FED))
        assert after == pytest.approx(fed.soma.treasuries, abs=1e-6)
        assert float(led.held("mbs", FED)) == pytest.approx(fed.soma.mbs, abs=1e-6)
        into_treasuries = (
            flows.mbs_reinvested if flows.mbs_reinvested_into in ("treasuries", "bills") else 0.0
        )
        assert after - before == pytest.approx(
            -flows.treasury_runoff + flows.rmp_bills + into_treasuries, abs=1e-6
        )
        total_runoff += flows.runoff
        led.check()
    assert months == 44  # May 2022 to December 2025
    assert bills_ran_off > 0  # the bill branch was exercised
    assert 2000.0 < total_runoff < 2800.0  # FACTS.md: about $2.2T in total


# --------------------------------------------------------------------------- short duration
def soma_after(name: str, months: int) -> object:
    """Run the scenario's Fed rules on its SOMA for `months` months (no markets)."""
    model = FedPlumbingModel(small(name), 0)
    day = model.config.start
    for _ in range(months):
        model.fed.run_off_month(day)
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=15)
    return model.fed.soma


def test_short_duration_soma_reaches_bill_share_and_wam_in_five_years():
    start = FedPlumbingModel(small("short_duration_a"), 0).fed.soma
    # FACTS.md: bills 7% of SOMA Treasuries, WAM about 9 years
    assert start.bill_share() == pytest.approx(0.069, abs=0.002)
    assert 8.5 <= start.wam_years() <= 9.5
    soma = soma_after("short_duration_a", 60)
    assert soma.bill_share() >= 0.55
    assert soma.wam_years() <= 4.5
    # baseline: the same Fed rolling coupons into coupons keeps a long book
    base = FedPlumbingModel(
        small("short_duration_a", **{"fed.treasury_reinvestment": "coupons"}), 0
    ).fed
    day = base.config.start
    for _ in range(60):
        base.run_off_month(day)
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=15)
    assert base.soma.wam_years() > 6.0


def final(daily, col: str) -> float:
    return float(daily[col].iloc[-1])


def test_response_a_shifts_coupons_to_the_private_sector_and_b_does_not():
    runs = {}
    for name in ("short_duration_a", "short_duration_b"):
        res = simulate(small(name, end="2026-12-31"), 0, keep_model=True)
        runs[name] = res
    a, b = runs["short_duration_a"], runs["short_duration_b"]
    shifted = a.model.treasury.coupons_shifted
    assert shifted > 300.0  # coupons the Fed rolled into bills in 2026
    assert b.model.treasury.coupons_shifted == 0.0

    def private(res, kind):
        led = res.model.ledger
        return float(led.owed(kind, TREASURY) - led.held(kind, FED))

    # A: private coupons up and private bills down by about the shift; total debt the same
    assert private(a, "coupons") - private(b, "coupons") == pytest.approx(shifted, rel=0.05)
    assert private(b, "bills") - private(a, "bills") == pytest.approx(shifted, rel=0.1)
    # same Fed under both responses
    assert a.model.fed.soma.bill_share() == pytest.approx(b.model.fed.soma.bill_share())
    # more private duration under A (the shifted coupons are worth 0.4-0.8 of a 10-year
    # note each), so the term premium rises relative to B by 10 bp per 1% of GDP
    extra_teq = final(a.daily, "private_10y_eq") - final(b.daily, "private_10y_eq")
    assert 0.4 * shifted < extra_teq < 0.8 * shifted
    tp_gap = final(a.daily, "term_premium_bp") - final(b.daily, "term_premium_bp")
    assert tp_gap == pytest.approx(10.0 * 100.0 * extra_teq / 30000.0, rel=1e-6)
    assert final(a.daily, "private_bill_share") < final(b.daily, "private_bill_share")
    assert final(b.daily, "treasury_wam_months") < final(a.daily, "treasury_wam_months")


@pytest.mark.slow
def test_short_duration_five_years_in_the_engine():
    a = simulate(load_scenario("short_duration_a"), 0).daily
    b = simulate(load_scenario("short_duration_b"), 0).daily
    for d in (a, b):
        assert final(d, "soma_bill_share") >= 0.55
        assert final(d, "soma_wam_years") <= 4.5
        assert d["treasury_wam_months"].iloc[0] == pytest.approx(71.0, abs=1.5)
        assert d["private_bill_share"].iloc[0] == pytest.approx(0.245, abs=0.01)
    # FACTS.md: A about +40-50 bp on the 10-year; B far less
    assert 35.0 <= final(a, "term_premium_bp") <= 55.0
    assert abs(final(b, "term_premium_bp")) < 12.0
    assert b["term_premium_bp"].abs().max() < 15.0
    # B: the Treasury's WAM falls (FACTS.md: 71 to about 60 months)
    assert final(b, "treasury_wam_months") < d["treasury_wam_months"].iloc[0] - 3.0


# --------------------------------------------------------------------------- TGA schedule
def test_debt_ceiling_tga_drawn_down_then_rebuilt():
    res = simulate(small("debt_ceiling"), 0, keep_model=True)
    d = res.daily.set_index("date")
    treasury = res.model.treasury
    assert treasury.cash_policy_on(dt.date(2023, 1, 10))[0] == 450.0
    assert treasury.cash_policy_on(dt.date(2023, 3, 1))[:2] == (80.0, 60.0)
    assert treasury.cash_policy_on(dt.date(2023, 6, 5)) == (650.0, 20.0, 0.9)
    during = d.loc["2023-03-01":"2023-06-02", "tga"]
    after = d.loc["2023-08-01":"2023-08-31", "tga"]
    assert d["tga"].iloc[0] > 400.0
    assert during.min() < 100.0
    assert d["tga"].min() > 0.0  # never overdrawn
    assert after.mean() > 450.0
    # TGA down is reserves or ON RRP up, one for one: against the same year without the
    # ceiling, reserves + ON RRP are higher by what the TGA is lower
    none = simulate(small("debt_ceiling", **{"treasury.tga_schedule": []}), 0).daily
    none = none.set_index("date")
    low = during.idxmin()
    liquidity = d["reserves"] + d["on_rrp"]
    liquidity_none = none["reserves"] + none["on_rrp"]
    assert liquidity[low] - liquidity_none[low] == pytest.approx(
        none["tga"][low] - d["tga"][low], rel=0.02
    )
    assert liquidity[low] > liquidity_none[low] + 250.0


def test_policy_settings_are_validated():
    cfg = load_scenario("default")
    with pytest.raises(ConfigError, match=r"treasury\.response"):
        apply_overrides(cfg, {"treasury.response": "C"})
    with pytest.raises(ConfigError, match="tga_schedule"):
        apply_overrides(
            cfg,
            {
                "treasury.tga_schedule": [
                    {"date": "2019-01-02", "target": 10.0},
                    {"date": "2019-01-02", "target": 20.0},
                ]
            },
        )
    with pytest.raises(ConfigError, match="target"):
        apply_overrides(cfg, {"treasury.tga_schedule": [{"date": "2019-01-02", "target": -5}]})
    with pytest.raises(ConfigError, match="private_coupon_shares"):
        apply_overrides(cfg, {"treasury.private_coupon_shares": [0.5, 0.5, 0.5, 0.5]})
    with pytest.raises(ConfigError, match=r"runoff\[0\].mbs_reinvestment"):
        apply_overrides(cfg, {"fed.runoff": [{"date": "2019-01-02", "mbs_reinvestment": "gold"}]})
    with pytest.raises(ConfigError, match="gdp"):
        apply_overrides(cfg, {"treasury.gdp": 0.0})


# --------------------------------------------------------------------------- built-ins
@pytest.mark.parametrize("name", POLICY_SCENARIOS)
def test_builtin_policy_scenario_loads_and_runs_with_ledger_checks(name):
    cfg = load_scenario(name)
    assert cfg.name == name
    assert cfg.description
    res = simulate(cfg, 0, days=4, debug=True)
    d = res.daily
    assert len(d) == 4
    for col in (
        "soma_bill_share",
        "term_premium_bp",
        "treasury_interest_cost",
        "treasury_wam_months",
        "private_bill_share",
        "fed_income_assets",
        "fed_income_liabilities",
    ):
        assert np.isfinite(d[col]).all(), col
    assert (d["treasury_interest_cost"] > 0).all()
    assert ((d["private_bill_share"] > 0) & (d["private_bill_share"] < 1)).all()
    assert d["term_premium_bp"].abs().max() < 5.0  # a few days move duration supply little
