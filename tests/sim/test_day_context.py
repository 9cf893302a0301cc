"""The day's context kept between days: rates, flags and the Treasury's debt measures."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from conftest import SMALL

from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.drivers import PolicyDriver
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.soma import BILL_YEARS, COUPON_YEARS
from fedplumbing.sim.term_premium import ladder_ten_year_equivalents


def test_policy_rates_are_the_feds_on_every_day_and_change_on_change_dates():
    model = FedPlumbingModel(apply_overrides(load_scenario("qt2022"), SMALL), rng=0)
    driver = PolicyDriver()
    changes = {ch.date for ch in model.config.rates.changes}
    assert changes
    day, previous, changed_on = model.config.start - dt.timedelta(days=3), None, set()
    while day <= max(changes) + dt.timedelta(days=3):
        rates = driver.rates(SimpleNamespace(date=day, fed=model.fed, config=model.config))
        assert rates == model.fed.rates_on(day)
        if previous is not None and rates is not previous:
            changed_on.add(day)
        previous = rates
        day += dt.timedelta(days=1)
    assert changed_on == {d for d in changes if d > model.config.start - dt.timedelta(days=3)}
    # back in time too (the cache is not only forward)
    first = min(changes)
    early = driver.rates(SimpleNamespace(date=first, fed=model.fed, config=model.config))
    assert early == model.fed.rates_on(first)


def test_debt_measures_kept_between_days_equal_fresh_ones(small_default):
    """Each day's debt measures equal those recomputed from the ladders (bit for bit)."""
    model = FedPlumbingModel(small_default, rng=0)
    debt = model.treasury.debt
    for _ in range(70):  # past three month ends
        model.step()
        private = debt.private
        p_bills, p_coupons = float(private.bills.sum()), float(private.coupons.sum())
        assert debt.private_teq == ladder_ten_year_equivalents(private, yield_pct=4.0)
        assert debt.private_bill_share == p_bills / (p_bills + p_coupons)
        soma = model.fed.soma
        years = (
            private.bills @ BILL_YEARS
            + private.coupons @ COUPON_YEARS
            + soma.bills @ BILL_YEARS
            + soma.coupons @ COUPON_YEARS
        )
        assert debt.treasury_wam_months == 12.0 * years / debt.debt_total
        assert debt._coupons()[3] == float(private.coupons @ debt.coupon_rate)
