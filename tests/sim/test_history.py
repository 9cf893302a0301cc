"""Tests of fedplumbing.sim.history: loading the shipped series and daily-izing them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.tseries.holiday import USFederalHolidayCalendar
from pandas.tseries.offsets import CustomBusinessDay

from fedplumbing.sim import history as h

CORE = ["soma_outright", "tga", "other_autonomous", "iorb", "on_rrp_rate", "discount_rate"]
CORE += ["target_low", "target_high"]


def bdays(start: str, end: str) -> np.ndarray:
    """US business days (pandas' federal-holiday calendar is close enough for these tests)."""
    freq = CustomBusinessDay(calendar=USFederalHolidayCalendar())
    return pd.date_range(start, end, freq=freq).values.astype("datetime64[D]")


@pytest.fixture(scope="module")
def replay_days() -> np.ndarray:
    return bdays("2017-01-03", "2026-08-31")


@pytest.fixture(scope="module")
def replay(replay_days: np.ndarray) -> pd.DataFrame:
    return h.replay_inputs(replay_days)


# --------------------------------------------------------------------------- loading
def test_known_series_cover_both_folders() -> None:
    names = h.known_series()
    for name in ["WRESBAL", "WALCL", "TREAST", "WDTGAL", "MBST", "OTHER_AUTONOMOUS", "SOFR"]:
        assert name in names
    assert "admin_rates" not in names


def test_unknown_series_lists_known_names() -> None:
    with pytest.raises(KeyError, match="WRESBAL"):
        h.load_series("NOPE")
    with pytest.raises(KeyError, match="load_admin_rates"):
        h.load_series("admin_rates")
    with pytest.raises(KeyError, match="calibration"):
        h.load_series("SOFR", folder="inputs")
    with pytest.raises(ValueError, match="folder"):
        h.load_series("WALCL", folder="elsewhere")


def test_units_are_billions_and_percent() -> None:
    reserves = h.load_series("WRESBAL")
    assert reserves.dtype == np.float64
    assert isinstance(reserves.index, pd.DatetimeIndex)
    assert not reserves.isna().any()
    # H.4.1 value 1,394,122 $ millions on 2019-09-18 (the 2017-2026 minimum, FACTS.md)
    assert reserves.loc["2019-09-18"] == pytest.approx(1394.122)
    assert reserves.idxmin() == pd.Timestamp("2019-09-18")
    assert h.load_series("WALCL").loc["2019-09-18"] == pytest.approx(3844.662, abs=0.1)
    tga = h.load_series("WDTGAL")
    assert tga.loc["2019-09-11"] == pytest.approx(183.6, abs=0.1)
    assert tga.loc["2019-09-18"] == pytest.approx(303.1, abs=0.1)
    # Already in $ billions in the files
    assert h.load_series("RRPONTSYD").loc["2017-01-03"] == pytest.approx(287.236)
    assert 15_000 < h.load_series("TLAACBW027SBOG").loc["2019-09-18"] < 20_000
    # Percent
    assert h.load_series("sofr").loc["2019-09-17"] == pytest.approx(5.25)
    assert h.load_series("EFFR").loc["2019-09-17"] == pytest.approx(2.30)


def test_calibration_copy_is_default_and_inputs_extend_it() -> None:
    calib = h.load_series("WALCL")
    full = h.load_series("WALCL", folder="inputs")
    assert calib.index.max() <= pd.Timestamp("2020-02-29")
    assert full.index.max() >= pd.Timestamp("2026-08-01")
    pd.testing.assert_series_equal(full.loc[calib.index], calib)


def test_returned_series_is_a_copy() -> None:
    s = h.load_series("WRESBAL")
    s.iloc[:] = 0.0
    assert h.load_series("WRESBAL").iloc[0] > 1000


def test_admin_rates() -> None:
    rates = h.load_admin_rates()
    assert list(rates.columns) == list(h.ADMIN_RATE_COLUMNS)
    assert (rates.index.to_series().diff().dropna() == pd.Timedelta(days=1)).all()
    srf = rates["srf_min_bid"]
    assert srf.loc[:"2021-07-28"].isna().all()
    assert srf.loc["2021-07-29":].notna().all()
    assert rates.drop(columns="srf_min_bid").notna().all().all()
    assert rates.loc["2019-09-17", "interest_on_reserves"] == pytest.approx(2.10)
    assert rates.loc["2019-09-19", "interest_on_reserves"] == pytest.approx(1.80)
    assert (rates["target_low"] <= rates["interest_on_reserves"]).all()
    assert (rates["interest_on_reserves"] <= rates["target_high"]).all()


# --------------------------------------------------------------------------- distribute_weekly
WEDS = pd.to_datetime(["2019-09-04", "2019-09-11", "2019-09-18", "2019-09-25"])


def test_distribute_weekly_uniform_default_and_flat_ends() -> None:
    levels = pd.Series([10.0, 10.0, 20.0, 15.0], index=WEDS)
    days = bdays("2019-09-02", "2019-09-30")
    path = pd.Series(h.distribute_weekly(levels, days), index=pd.DatetimeIndex(days))
    for wed, level in levels.items():
        assert path.loc[wed] == level
    assert (path.loc[:"2019-09-04"] == 10.0).all()  # before the first observation: flat
    assert (path.loc["2019-09-25":] == 15.0).all()  # after the last: flat
    # uniform: 5 business days from Thu 12th to Wed 18th, 2 per day
    np.testing.assert_allclose(path.loc["2019-09-12":"2019-09-18"], [12, 14, 16, 18, 20])


def test_distribute_weekly_respects_weights() -> None:
    levels = pd.Series([100.0, 160.0], index=WEDS[1:3])
    days = bdays("2019-09-11", "2019-09-18")  # Wed, Thu, Fri, Mon (16th), Tue, Wed
    weights = np.array([7.0, 1.0, 0.0, 4.0, 0.0, 1.0])
    path = h.distribute_weekly(levels, days, weights)
    steps = np.diff(path)
    np.testing.assert_allclose(steps, 60.0 * np.array([1, 0, 4, 0, 1]) / 6)
    assert path[-1] == 160.0
    # the weight on the first Wednesday belongs to the previous interval: irrelevant here
    assert path[0] == 100.0


def test_distribute_weekly_zero_weights_fall_back_to_uniform() -> None:
    levels = pd.Series([0.0, 5.0], index=WEDS[1:3])
    days = bdays("2019-09-12", "2019-09-18")
    np.testing.assert_allclose(h.distribute_weekly(levels, days, np.zeros(5)), [1, 2, 3, 4, 5])


def test_distribute_weekly_holiday_wednesday_level_on_day_before() -> None:
    levels = pd.Series(
        [1.0, 2.0, 3.0], index=pd.to_datetime(["2019-12-18", "2019-12-25", "2020-01-01"])
    )
    days = bdays("2019-12-18", "2020-01-03")  # no 25 Dec, no 1 Jan
    path = pd.Series(h.distribute_weekly(levels, days), index=pd.DatetimeIndex(days))
    assert path.loc["2019-12-24"] == 2.0
    assert path.loc["2019-12-31"] == 3.0
    assert path.loc["2020-01-02"] == 3.0


def test_distribute_weekly_ignores_nan_levels() -> None:
    levels = pd.Series([1.0, np.nan, 3.0], index=WEDS[:3])
    days = bdays("2019-09-04", "2019-09-18")
    path = h.distribute_weekly(levels, days)
    assert path[0] == 1.0 and path[-1] == 3.0
    assert np.all(np.diff(path) > 0)


def test_distribute_weekly_rejects_bad_input() -> None:
    levels = pd.Series([1.0, 2.0], index=WEDS[:2])
    days = bdays("2019-09-04", "2019-09-11")
    with pytest.raises(ValueError, match="shape"):
        h.distribute_weekly(levels, days, np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        h.distribute_weekly(levels, days, -np.ones(days.size))
    with pytest.raises(ValueError, match="increasing"):
        h.distribute_weekly(levels, days[::-1])
    with pytest.raises(ValueError, match="no observations"):
        h.distribute_weekly(pd.Series([np.nan], index=WEDS[:1]), days)


PROP_DAYS = bdays("2019-01-02", "2019-03-29")[:60]


@settings(max_examples=60, deadline=None)
@given(
    levels=st.lists(st.floats(-1e4, 1e4), min_size=1, max_size=8),
    weights=st.lists(st.floats(0.0, 100.0), min_size=60, max_size=60),
)
def test_distribute_weekly_properties(levels: list[float], weights: list[float]) -> None:
    weds = np.datetime64("2019-01-09") + 7 * np.arange(len(levels))
    series = pd.Series(levels, index=pd.DatetimeIndex(weds.astype("datetime64[ns]")))
    days = PROP_DAYS
    path = h.distribute_weekly(series, days, np.array(weights))
    for wed, level in zip(weds, levels, strict=True):
        hit = np.flatnonzero(days == wed)
        if hit.size:
            assert path[hit[0]] == level  # exact on Wednesdays
    for i in range(len(levels) - 1):
        v0, v1 = levels[i], levels[i + 1]
        seg = path[(days > weds[i]) & (days <= weds[i + 1])]
        assert np.all((seg >= min(v0, v1) - 1e-9) & (seg <= max(v0, v1) + 1e-9))
        steps = np.diff(np.r_[v0, seg]) * np.sign(v1 - v0)
        assert np.all(steps >= -1e-9)  # monotone from one level to the next
    assert np.all(path[days <= weds[0]] == levels[0])  # flat before the first observation
    assert np.all(path[days >= weds[-1]] == levels[-1])  # and after the last


# --------------------------------------------------------------------------- replay_inputs
def test_replay_columns_and_no_nan(replay: pd.DataFrame, replay_days: np.ndarray) -> None:
    assert list(replay.columns) == list(h.REPLAY_COLUMNS)
    assert (replay.index.values.astype("datetime64[D]") == replay_days).all()
    assert replay[CORE].notna().all().all()
    assert (replay.dtypes == np.float64).all()
    assert replay.loc[:"2021-07-28", "srf_rate"].isna().all()
    assert replay.loc["2021-07-29":, "srf_rate"].notna().all()
    assert (replay.loc["2021-07-29":, "srf_rate"] == replay.loc["2021-07-29":, "target_high"]).all()


def test_replay_matches_wednesday_levels(replay: pd.DataFrame) -> None:
    weekly = h.weekly_fed_assets()
    tga = h.load_series("WDTGAL", folder="inputs")
    on_days = tga.index.intersection(replay.index)
    assert len(on_days) > 480
    np.testing.assert_array_equal(replay.loc[on_days, "tga"], tga.loc[on_days])
    for col in h.FLOW_COLUMNS:
        np.testing.assert_array_equal(replay.loc[on_days, col], weekly.loc[on_days, col])


def test_replay_liquidity_identity_on_wednesdays() -> None:
    """Wednesday levels: reserves (WRESBAL, a week average, put on a Wednesday footing)."""
    weekly = h.weekly_fed_assets().loc[:"2020-02-26"]
    on_rrp = h.load_series("RRPONTSYD")
    days = weekly.index.intersection(on_rrp.index)
    reserves = h.load_series("WRESBAL") + h.reserves_level_correction(days).fillna(0.0)
    liquidity = weekly.soma_outright - weekly.tga - weekly.other_autonomous
    expected = reserves + on_rrp - weekly.fed_lending_est
    np.testing.assert_allclose(liquidity.loc[days], expected.loc[days], atol=1e-6)


def test_week_average_is_the_seven_days_to_wednesday() -> None:
    """H.4.1 averages: a Friday counts for the weekend too; a partial week is unknown."""
    days = pd.DatetimeIndex(bdays("2017-03-20", "2017-04-05").astype("datetime64[ns]"))
    values = pd.Series(0.0, index=days)
    values["2017-03-31"] = 7.0  # a Friday
    values["2017-04-05"] = 70.0  # a Wednesday
    avg = h.week_average(values, pd.DatetimeIndex(["2017-03-22", "2017-03-29", "2017-04-05"]))
    assert np.isnan(avg["2017-03-22"])  # its Thursday precedes the series
    assert avg["2017-03-29"] == 0.0
    assert avg["2017-04-05"] == pytest.approx((3 * 7.0 + 70.0) / 7)


def test_reserves_level_correction_removes_the_quarter_end_artifact() -> None:
    """OTHER_AUTONOMOUS subtracts a week-average WRESBAL from Wednesday levels.

    Around the quarter-end of March 2017 the ON RRP spiked on Friday 31 March, so the week's
    average reserves lay far below Wednesday 5 April's level, and the raw series shows other
    factors jumping by $146B for one week; corrected, they move by less than $15B.
    """
    wednesdays = pd.DatetimeIndex(["2017-03-29", "2017-04-05", "2017-04-12"])
    corr = h.reserves_level_correction(wednesdays)
    rrp = h.load_series("RRPONTSYD")
    week = rrp["2017-03-30":"2017-04-05"]
    expected = (week.sum() + 2 * week["2017-03-31"]) / 7 - week["2017-04-05"]
    assert corr["2017-04-05"] == pytest.approx(expected)
    assert corr["2017-04-05"] > 50
    raw = h.load_series("OTHER_AUTONOMOUS").loc[wednesdays]
    fixed = h.weekly_fed_assets().other_autonomous_gross.loc[wednesdays]
    assert raw.diff().abs().max() > 140
    assert fixed.diff().abs().max() < 15
    # no correction where the daily ON RRP does not cover the week
    assert np.isnan(h.reserves_level_correction(pd.DatetimeIndex(["2017-01-04"])).iloc[0])


def test_replay_excludes_the_repo_operations() -> None:
    weekly = h.weekly_fed_assets()
    lending = weekly.fed_lending_est
    assert (lending.loc[:"2019-09-11"] == 0).all()
    assert (lending.loc["2020-03-18":] == 0).all()
    # about $75bn overnight on 18 Sep 2019; roughly $200-260bn outstanding around year-end
    assert 50 < lending.loc["2019-09-18"] < 100
    assert 150 < lending.loc["2019-12-04":"2020-01-15"].mean() < 280
    assert (lending.loc["2019-09-18":"2020-03-11"] > 0).all()
    walcl_jump = weekly.walcl.loc["2019-09-18"] - weekly.walcl.loc["2019-09-11"]
    soma_jump = weekly.soma_outright.loc["2019-09-18"] - weekly.soma_outright.loc["2019-09-11"]
    assert walcl_jump > 60 and abs(soma_jump) < 10
    # outright = Treasuries + MBS wherever MBS is identified
    ident = weekly.loc[:"2020-03-11"]
    np.testing.assert_allclose(ident.soma_outright, ident.treasuries + ident.mbs_est)
    # other assets: smooth and of the right size
    assert weekly.other_assets_est.between(150, 260).all()
    assert weekly.other_assets_est.diff().abs().max() < 1.0


def test_tax_date_weights_put_the_tga_rise_on_the_tax_date(replay_days: np.ndarray) -> None:
    weights = np.ones(replay_days.size)
    tax_day = np.datetime64("2019-09-16")
    weights[replay_days == tax_day] = 20.0
    path = h.replay_inputs(replay_days, flow_weights={"tga": weights})["tga"]
    rise = path.loc["2019-09-18"] - path.loc["2019-09-11"]
    assert rise == pytest.approx(303.1 - 183.6, abs=0.2)
    on_tax_day = path.loc["2019-09-16"] - path.loc["2019-09-13"]
    assert on_tax_day / rise == pytest.approx(20 / 24)
    assert on_tax_day > 0.8 * rise


def test_replay_rejects_unknown_weight_keys(replay_days: np.ndarray) -> None:
    with pytest.raises(ValueError, match="unknown flow_weights"):
        h.replay_inputs(replay_days, flow_weights={"reserves": np.ones(replay_days.size)})


def test_replay_accepts_a_short_window() -> None:
    days = bdays("2019-09-09", "2019-09-20")
    out = h.replay_inputs(days)
    assert len(out) == days.size
    assert out.loc["2019-09-19", "iorb"] == pytest.approx(1.80)


# --------------------------------------------------------------------------- actual_outcomes
def test_actual_outcomes() -> None:
    out = h.actual_outcomes()
    assert list(out.columns) == [
        "reserves",
        "reserves_observed",
        "on_rrp",
        "sofr",
        "effr",
        "bank_assets",
        "iorb",
    ]
    assert out.index.min() == pd.Timestamp("2017-01-03")
    assert out.index.max() == pd.Timestamp("2020-02-28")
    assert out.reserves_observed.sum() == len(h.load_series("WRESBAL"))
    assert out.loc["2019-09-18", "reserves"] == pytest.approx(1394.122)
    assert out.loc["2019-09-17", "reserves"] == pytest.approx(
        h.load_series("WRESBAL")["2019-09-11"]
    )
    assert out.loc["2019-09-17", "sofr"] == pytest.approx(5.25)
    assert out.loc["2019-09-17", "effr"] == pytest.approx(2.30)
    assert out.loc["2019-09-17", "iorb"] == pytest.approx(2.10)
    assert out.loc["2017-01-04":, ["reserves", "bank_assets", "effr", "iorb"]].notna().all().all()
    assert out.loc[:"2018-03-29", "sofr"].isna().all()
    # a holiday Wednesday (25 Dec 2019) is placed on the day before
    assert out.loc["2019-12-24", "reserves_observed"]


def test_actual_outcomes_stop_in_february_2020() -> None:
    out = h.actual_outcomes(bdays("2020-02-20", "2020-03-31"))
    assert out.loc["2020-03-02":].drop(columns="reserves_observed").isna().all().all()
    assert out.loc["2020-02-26", "reserves_observed"]


def test_treasuries_continue_past_their_last_week_without_feeding_the_mbs() -> None:
    """TREAST ends 2026-04-08, WALCL 2026-08-26. Held flat, every later change of SOMA went
    to the MBS (+$60B by August 2026, while MBS ran off); now the rest of SOMA keeps its
    26-week trend (paydowns) and Treasuries take the bill purchases."""
    w = h.weekly_fed_assets()
    last = h.load_series("TREAST", folder="inputs").index[-1]
    assert w["treasuries"].notna().all()
    rest = (w["soma_outright"] - w["treasuries"])[w.index >= last]
    steps = np.diff(rest.to_numpy())
    assert np.allclose(steps, steps[0]) and -8.0 < steps[0] < 0.0  # runoff, constant pace
    assert w.loc[w.index[-1], "treasuries"] > w.loc[last, "treasuries"]  # purchases
    assert h.held_inputs(dt.date(2026, 3, 31)) == []
    notes = h.held_inputs(dt.date(2026, 8, 31))
    assert [n.split(" after ")[0] for n in notes] == [
        "administered rates",
        "SOMA Treasuries",
        "balance-sheet levels",
    ]
