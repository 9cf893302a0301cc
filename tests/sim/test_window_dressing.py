"""Period-end window dressing by foreign dealers, and its trace in the ON RRP."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from fedplumbing.sim.calendar import Calendar
from fedplumbing.sim.config import Dealers, apply_overrides
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.window_dressing import WindowDressing, opening_capacity

DEALERS = dataclasses.replace(
    Dealers(), quarter_end_capacity=0.8, month_end_capacity=0.9, quarter_end_window_days=3
)


def test_schedule_follows_the_calendar_flags():
    cal = Calendar.build("2018-03-01", "2018-05-31")
    wd = WindowDressing.build(cal, DEALERS)
    target = pd.Series(wd.target, index=pd.DatetimeIndex(cal.dates))
    binding = pd.Series(wd.binding, index=target.index)
    # quarter-end (Friday 30 March) and the three business days before it
    assert (target["2018-03-27":"2018-03-30"] == 0.8).all()
    assert target["2018-03-26"] == 1.0
    # other month-ends: on the day only
    assert target["2018-04-30"] == 0.9 and target["2018-05-31"] == 0.9
    assert (target["2018-04-02":"2018-04-27"] == 1.0).all()
    # the cut is immediate on period ends only
    assert list(binding[binding].index.strftime("%m-%d")) == ["03-30", "04-30", "05-31"]


def test_opening_capacity_remembers_yesterdays_period_end():
    assert opening_capacity(dt.date(2018, 4, 2), DEALERS) == 0.8  # after a quarter-end
    assert opening_capacity(dt.date(2018, 5, 1), DEALERS) == 0.9  # after a month-end
    assert opening_capacity(dt.date(2018, 4, 3), DEALERS) == 1.0
    assert opening_capacity(dt.date(2017, 1, 3), DEALERS) == 0.8  # year-end, then a holiday


def _run(config, days):
    model = FedPlumbingModel(config, rng=3, debug=True)
    led, dealers = model.ledger, model.dealers
    rows = []
    for _ in range(days):
        model.step()
        rows.append(
            {
                "date": pd.Timestamp(model.calendar.dates[model.day - 1]),
                "foreign_hf": float(led.held("hf_repo", dealers.rows)[dealers["foreign"]].sum()),
                "domestic_hf": float(led.held("hf_repo", dealers.rows)[~dealers["foreign"]].sum()),
                "on_rrp": float(led.owed("on_rrp", 0)),
                "bank_repo": float(led.held("repo", model.banks.rows).sum()),
            }
        )
    return model, pd.DataFrame(rows).set_index("date")


@pytest.fixture(scope="module")
def runs():
    """Runs with and without window dressing, in two regimes.

    "loose": hedge funds borrow less than money funds can lend, so money funds are the
    marginal lenders and repo trades near the ON RRP rate (2017). "tight": the default
    calibration's 2018, where banks lend the last dollars of repo above the ON RRP rate.
    """
    from fedplumbing.sim.config import load_scenario
    from tests.sim.conftest import SMALL

    base = {**SMALL, "start": "2018-03-01", "end": "2018-04-20", "dealers.hedge_fund_growth": 0.0}
    # (the loose regime lifts the per-fund ON RRP cap: the small economy's 12 funds would
    # otherwise hit it and keep the freed cash as deposits)
    regimes = {"loose": {"initial.hedge_fund_repo": 1000.0, "fed.on_rrp_cap": 500.0}, "tight": {}}
    out = {}
    for regime, extra in regimes.items():
        for capacity in (1.0, 0.8):
            cfg = apply_overrides(
                load_scenario("default"),
                {
                    **base,
                    **extra,
                    "dealers.quarter_end_capacity": capacity,
                    "dealers.month_end_capacity": 1.0,
                },
            )
            out[regime, capacity] = _run(cfg, 34)
    return out


QUARTER_END = pd.Timestamp("2018-03-30")


def test_foreign_dealers_cut_their_book_on_the_quarter_end(runs):
    model, dressed = runs["tight", 0.8]
    _, plain = runs["tight", 1.0]
    trend = model.dealers["hedge_fund_base"][model.dealers["foreign"]].sum()
    assert dressed.loc[QUARTER_END, "foreign_hf"] == pytest.approx(0.8 * trend, rel=1e-9)
    assert plain.loc[QUARTER_END, "foreign_hf"] == pytest.approx(trend, rel=1e-6)
    # domestic dealers do not window-dress
    np.testing.assert_allclose(dressed["domestic_hf"], plain["domestic_hf"], rtol=1e-9)
    # shrinking before the quarter-end, rebuilding after it
    before = dressed.loc["2018-03-20":"2018-03-29", "foreign_hf"]
    assert before.is_monotonic_decreasing and before.iloc[-1] < trend
    after = dressed.loc["2018-04-02":"2018-04-13", "foreign_hf"]
    assert after.is_monotonic_increasing and after.iloc[-1] > 0.97 * trend


def _effect(runs, regime):
    _, dressed = runs[regime, 0.8]
    _, plain = runs[regime, 1.0]
    cut = plain.loc[QUARTER_END, "foreign_hf"] - dressed.loc[QUARTER_END, "foreign_hf"]
    return cut, dressed - plain


def test_money_fund_cash_goes_to_the_on_rrp_when_money_funds_are_marginal(runs):
    """The cash the cut frees finds no repo borrower: most of it lands at the ON RRP."""
    cut, diff = _effect(runs, "loose")
    extra = diff["on_rrp"]
    assert cut > 10
    assert extra[QUARTER_END] > 0.5 * cut
    assert extra["2018-03-01":"2018-03-15"].abs().max() < 1e-6  # nothing before the window
    assert extra["2018-04-13":].max() < 0.3 * extra[QUARTER_END]  # gone as the book rebuilds


def test_banks_lend_less_instead_when_they_are_marginal(runs):
    """With repo above the ON RRP rate, the cut displaces the banks' repo, not the ON RRP."""
    cut, diff = _effect(runs, "tight")
    assert cut > 10
    assert abs(diff.loc[QUARTER_END, "on_rrp"]) < 0.2 * cut
    assert diff.loc[QUARTER_END, "bank_repo"] < -0.5 * cut
