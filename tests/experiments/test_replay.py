"""Replay mode: the driver follows history exactly, money moves by postings, and the
September 2019 validation checks (slow ones run the full replay)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from fedplumbing.experiments.replay import (
    _period_end_mask,
    counterfactual_numbers,
    counterfactual_overrides,
    replay_config,
    replay_figures,
    run_replay,
    september_2019,
    validate,
    validation_markdown,
    weekly_fit_by_year,
    write_replay,
)
from fedplumbing.sim import history
from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.replay import opening_from_history
from fedplumbing.sim.run import simulate

SHORT = {"start": dt.date(2019, 8, 26), "end": dt.date(2019, 9, 30)}


@pytest.fixture(scope="module")
def sept_model():
    cfg = replay_config("sept2019", **SHORT)
    return simulate(cfg, 0, keep_model=True)


def test_replay_postings_balance():
    """Every posting balances and every identity holds each day (debug mode), through the
    September 2019 spike with the Fed's reaction rule on (its repo operations exercised)."""
    cfg = replay_config("sept2019", dt.date(2019, 9, 3), dt.date(2019, 9, 30))
    result = simulate(cfg, 0, debug=True, keep_model=True)  # raises on any broken identity
    d = result.daily
    assert pd.Timestamp(d["date"].iloc[-1]) == pd.Timestamp("2019-09-30")
    assert d["fed_repo_ops"].max() > 100  # the operations ran, and were checked
    assert d["repo_spread_bp"].max() > 100  # through the spike
    assert max(result.model.ledger.invariant_errors().values()) < 1e-9


def test_replay_scenarios_load():
    for name in (
        "replay",
        "sept2019",
        "sept2019_more_reserves",
        "sept2019_srf",
        "sept2019_tax_moved",
    ):
        cfg = load_scenario(name)
        assert cfg.mode == "replay"
        assert cfg.fed.repo_ops_trigger_bp is not None  # the Fed's reaction rule is on
    assert load_scenario("sept2019_srf").replay.srf_over_iorb_bp == 10.0
    assert load_scenario("sept2019_tax_moved").treasury.corporate_tax_day == 22


def test_driver_matches_wednesday_levels(sept_model):
    """SOMA, TGA and other autonomous factors equal the weekly data on Wednesdays."""
    daily = sept_model.daily.set_index("date")
    weekly = history.weekly_fed_assets()
    weds = [d for d in weekly.index if d in daily.index]
    assert len(weds) >= 4
    for w in weds:
        assert daily.loc[w, "tga"] == pytest.approx(weekly.loc[w, "tga"], abs=2.0)
        soma = daily.loc[w, "soma_treasuries"] + daily.loc[w, "soma_mbs"]
        assert soma == pytest.approx(weekly.loc[w, "soma_outright"], abs=1e-6)
        # liquidity identity: reserves + ON RRP = SOMA - TGA - other factors + Fed lending
        lending = (
            daily.loc[w, "fed_repo_ops"]
            + daily.loc[w, "srf_take_up"]
            + daily.loc[w, "discount_window_take_up"]
        )
        ident = soma - weekly.loc[w, "tga"] - weekly.loc[w, "other_autonomous"] + lending
        assert daily.loc[w, "reserves"] + daily.loc[w, "on_rrp"] == pytest.approx(ident, abs=3.0)


def test_tga_jumps_on_the_tax_date_not_before(sept_model):
    daily = sept_model.daily.set_index("date")["tga"]
    before = daily["2019-09-13"] - daily["2019-09-12"]
    jump = daily["2019-09-17"] - daily["2019-09-13"]
    assert jump > 80  # tax receipts on the 16th and, called from TT&L, the 17th
    assert abs(before) < 10


def test_moving_the_tax_date_moves_the_tga_jump():
    cfg = replay_config("sept2019_tax_moved", **SHORT)
    paths = FedPlumbingModel(cfg).driver.paths["tga"]
    base = FedPlumbingModel(replay_config("sept2019", **SHORT)).driver.paths["tga"]
    assert paths["2019-09-17"] < base["2019-09-17"] - 60
    assert paths["2019-09-24"] > paths["2019-09-20"] + 60
    assert paths["2019-09-30"] == pytest.approx(base["2019-09-30"], abs=1e-6)


def test_bill_financing_follows_the_tga_trend_on_settlement_days():
    """Net bill issuance sums to the change of the TGA's trailing mean, only on settlement
    days, and spreads a one-day TGA lump over the following window."""
    from fedplumbing.sim.replay import _bill_financing

    n, window = 60, 10
    tga = np.full(n, 300.0)
    tga[20:] += 100.0  # a tax lump that stays in the TGA
    settle = np.zeros(n, dtype=bool)
    settle[::2] = True
    net = _bill_financing(tga, settle, window)
    assert np.all(net[~settle] == 0.0)
    assert net.sum() == pytest.approx(100.0)  # the whole rise is financed, once
    assert net[:20].sum() == 0.0  # nothing before the lump
    assert net[20] == pytest.approx(100.0 / window)  # not all on the day it lands
    assert net[20 + window + 1 :].sum() == pytest.approx(0.0)


def test_bill_financed_tga_drawdown_pushes_money_fund_cash_into_the_on_rrp():
    """Under the 2017 debt ceiling the Treasury ran its TGA down. Financed by bills, the
    drawdown pays bills off: money funds get cash back, and what dealers do not borrow goes
    to the ON RRP (reserves fall by as much; their sum is set by the Fed's balance sheet)."""
    window = {
        "start": dt.date(2017, 3, 1),
        "end": dt.date(2017, 7, 31),
        "replay.tga_smoothing_days": 20,  # the mechanism, not its calibrated timing
    }
    runs = {}
    for share in (0.0, 1.0):
        cfg = replay_config("replay", overrides={**window, "replay.tga_bill_share": share})
        result = simulate(cfg, 0, keep_model=True)
        led, mmfs = result.model.ledger, result.model.mmfs
        net = float(result.model.driver.paths["net_bills"].sum())
        runs[share] = (result.daily.iloc[-40:], float(led.held("bills", mmfs.rows).sum()), net)
    (base, bills0, net0), (funded, bills1, net1) = runs[0.0], runs[1.0]
    assert net0 == 0.0 and net1 < -50  # the bills paid off
    assert bills1 < bills0 + 0.3 * net1  # money funds held a share of them
    assert funded["on_rrp"].mean() > base["on_rrp"].mean() + 15
    both = (funded["reserves"] + funded["on_rrp"]) - (base["reserves"] + base["on_rrp"])
    assert abs(both.mean()) < 5


def test_rates_follow_history_and_no_srf_before_it_existed(sept_model):
    daily = sept_model.daily.set_index("date")
    assert daily.loc["2019-09-17", "iorb"] == pytest.approx(2.10)
    assert daily.loc["2019-09-19", "iorb"] == pytest.approx(1.80)
    m = FedPlumbingModel(replay_config("sept2019", **SHORT))
    assert not np.isfinite(m.rates_today.srf)


def test_extra_reserves_raise_reserves_one_for_one():
    base = FedPlumbingModel(replay_config("sept2019", **SHORT)).driver.paths
    more = FedPlumbingModel(replay_config("sept2019_more_reserves", **SHORT)).driver.paths
    assert np.allclose(more["soma_outright"] - base["soma_outright"], 150.0)
    assert np.allclose(more["tga"], base["tga"])


def test_opening_from_history():
    """A run that starts on a later day (here through `start` itself, not a warm-up)."""
    cfg = replay_config(
        "replay", end=dt.date(2018, 6, 30), overrides={"start": dt.date(2018, 6, 1)}
    )
    assert cfg.start == dt.date(2018, 6, 1) and cfg.replay.report_from is None
    wres = history.load_series("WRESBAL")[:"2018-06-01"].iloc[-1]
    assets = history.load_series("TLAACBW027SBOG")[:"2018-06-01"].iloc[-1]
    assert cfg.initial.reserves == pytest.approx(wres)
    assert cfg.initial.bank_assets == pytest.approx(assets)
    day = np.array(["2018-06-01"], dtype="datetime64[D]")
    assert cfg.initial.tga == pytest.approx(float(history.replay_inputs(day)["tga"].iloc[0]))


def test_a_cold_start_after_the_bank_asset_data_keeps_its_last_value():
    """H.8 ends 2020-02-26: a start two weeks later opened at the scenario's $16,500B."""
    cfg = replay_config("replay", end=dt.date(2020, 4, 30), overrides={"start": "2020-03-12"})
    last = history.load_series("TLAACBW027SBOG")[:"2020-03-12"].iloc[-1]
    assert cfg.initial.bank_assets == pytest.approx(last) and last > 17_000


def test_opening_from_history_opens_once():
    """Applied twice (the replay command, then the model), the opening is the same.

    A later start grows the money funds' and hedge funds' books since the first data week;
    a second application must not grow them again.
    """
    cfg = replay_config("replay", end=dt.date(2019, 6, 28), overrides={"start": "2019-06-03"})
    assert not cfg.replay.initial_from_history
    assert opening_from_history(cfg) is cfg
    assert FedPlumbingModel(cfg).config.initial == cfg.initial


def test_every_command_opens_a_replay_from_the_data():
    """`run sept2019` (plain `simulate`, as run, compare, sweep and stress-floor call it) is
    the replay command's run: same opening, same rows, the spike of 17 September.

    Before, only `fedplumbing replay` read the opening from the data: `run sept2019` opened
    with the scenario's defaults ($0B ON RRP) and 17 September traded at +9 bp, not +167.
    """
    direct = simulate(load_scenario("sept2019"), 0).daily
    replayed = run_replay(replay_config("sept2019"), 0).daily
    pd.testing.assert_frame_equal(direct, replayed)
    spike = direct.loc[pd.to_datetime(direct["date"]) == "2019-09-17", "repo_spread_bp"]
    assert float(spike.iloc[0]) > 100
    assert direct["srf_rate"].isna().all()  # no SRF in 2019: blank, as the replay writes
    # `--set replay.report_from=...` keeps the window's days through `run` too
    cfg = apply_overrides(load_scenario("sept2019"), {"replay.report_from": "2019-09-03"})
    window = simulate(cfg, 0).daily
    assert pd.Timestamp(window["date"].iloc[0]) == pd.Timestamp("2019-09-03")
    same = direct[pd.to_datetime(direct["date"]) >= "2019-09-03"].reset_index(drop=True)
    pd.testing.assert_frame_equal(window, same)


def test_replay_is_deterministic(tmp_path):
    """Same config and seed: the same daily frame, and the same files byte for byte (the
    report once carried the run's wall time)."""
    cfg = replay_config("sept2019", **SHORT)
    a, b = run_replay(cfg, 3), run_replay(cfg, 3)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    for run, folder in ((a, "a"), (b, "b")):
        write_replay(run, tmp_path / folder, counterfactuals=False)
    for name in ("daily.csv", "validation.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_weekly_fit_by_year_scores_each_year_and_the_noise_of_the_target():
    """Per-year shares and worst errors; the trend benchmark sees week-to-week swings."""
    weeks = pd.date_range("2017-01-04", periods=104, freq="7D")
    calm = np.full(52, 100.0)  # 2017: a flat actual series, its trend fits every week
    swings = np.where(np.arange(52) % 2 == 0, 0.0, 200.0)  # 2018: +-100 around the mean
    actual = np.concatenate([calm, swings])
    error = np.zeros(104)
    error[:13] = 60.0  # a quarter of 2017 misses by $60B
    weekly = pd.DataFrame(
        {
            "on_rrp_actual": actual,
            "on_rrp_error": error,
            "reserves_error": np.where(np.arange(104) < 52, 0.01, -0.06),
            "week": weeks,
        },
        index=weeks,
    )
    table = weekly_fit_by_year(weekly)
    assert list(table.index) == [2017, 2018] and (table["weeks"] == 52).all()
    assert table.loc[2017, "ON RRP within $50B %"] == pytest.approx(75.0)
    assert table.loc[2017, "ON RRP worst $bn"] == pytest.approx(60.0)
    assert table.loc[2018, "ON RRP within $50B %"] == 100.0
    assert table.loc[2017, "reserves within 5%"] == 100.0
    assert table.loc[2018, "reserves within 5%"] == 0.0
    assert table.loc[2018, "reserves worst %"] == pytest.approx(6.0)
    # a smooth model cannot follow +-$100B weekly swings: its 5-week trend misses most weeks
    assert table.loc[2017, "actual 5-week trend within %"] > 95.0
    assert table.loc[2018, "actual 5-week trend within %"] < 10.0
    assert table.loc[2018, "trend worst $bn"] > 50.0


def test_write_replay_outputs(tmp_path):
    cfg = replay_config("sept2019", **SHORT)
    result = run_replay(cfg, 0)
    paths = write_replay(result, tmp_path, counterfactuals=False)
    for name in (
        "daily.csv",
        "validation.md",
        "replay_vs_actual.png",
        "sept2019.png",
        "demand_curve.png",
    ):
        assert (tmp_path / name).is_file()
    text = (tmp_path / "validation.md").read_text()
    assert "17 Sep 2019 SOFR - IOER" in text
    assert "## Weekly checks by year" in text and "| year | weeks |" in text
    assert paths["validation"].name == "validation.md"
    # every Markdown table row has its header's number of cells (a '|' inside a cell, as
    # in "max |error|", split it and pushed the result column out)
    header_cells = None
    for line in text.splitlines():
        if not line.startswith("|"):
            header_cells = None
            continue
        cells = line.count("|") - line.count("\\|")
        if header_cells is None:
            header_cells = cells
        assert cells == header_cells, line


def test_cli_replay(tmp_path):
    from fedplumbing.sim.cli import main

    code = main(
        [
            "replay",
            "sept2019",
            "--start",
            "2019-09-03",
            "--end",
            "2019-09-30",
            "--out",
            str(tmp_path),
            "--no-counterfactuals",
            "-q",
        ]
    )
    assert code == 0
    written = pd.read_csv(tmp_path / "daily.csv", parse_dates=["date"])
    assert written["date"].iloc[0] == pd.Timestamp("2019-09-03")  # the window, not the warm-up
    assert written["date"].iloc[-1] == pd.Timestamp("2019-09-30")
    direct = run_replay(replay_config("sept2019", dt.date(2019, 9, 3), dt.date(2019, 9, 30)), 0)
    np.testing.assert_allclose(written["repo_spread_bp"], direct.daily["repo_spread_bp"], atol=1e-6)
    assert main(["replay", "--start", "2019-13-01", "-q"]) == 2


def test_a_later_window_opens_where_the_long_replay_is():
    """A window warms up from the first data day: its rows are the long replay's, bit for bit."""
    long = run_replay(replay_config("replay", dt.date(2017, 1, 3), dt.date(2017, 4, 28)), 3)
    window = run_replay(replay_config("replay", dt.date(2017, 3, 1), dt.date(2017, 4, 28)), 3)
    assert window.config.replay.report_from == dt.date(2017, 3, 1)
    first = pd.Timestamp("2017-03-01")
    assert pd.Timestamp(window.daily["date"].iloc[0]) == first
    same = long.daily[pd.to_datetime(long.daily["date"]) >= first].reset_index(drop=True)
    pd.testing.assert_frame_equal(window.daily, same)
    assert window.summary["days"] == len(window.daily)


def test_a_start_on_a_holiday_opens_from_the_first_business_day():
    """`--start 2017-01-01` (a holiday, before the first data day) is the 3 January replay.

    It used to read the opening ON RRP on 1 January, where the data has none, open with
    $0B instead of $287B, and drift: by 2019 reserves were 12.8% off and the Fed lent
    $200B on 17 September.
    """
    holiday = replay_config("replay", dt.date(2017, 1, 1), dt.date(2017, 3, 31))
    first_day = replay_config("replay", dt.date(2017, 1, 3), dt.date(2017, 3, 31))
    assert holiday.initial == first_day.initial
    assert holiday.initial.on_rrp == pytest.approx(287.2, abs=0.1)
    a, b = run_replay(holiday, 0), run_replay(first_day, 0)
    pd.testing.assert_frame_equal(a.daily, b.daily)


def test_a_one_day_replay_writes_its_report(tmp_path):
    """Too short for most checks (no weeks, no demand curve), yet a report, not a crash."""
    result = run_replay(replay_config("replay", dt.date(2019, 12, 24), dt.date(2019, 12, 24)), 0)
    assert len(result.daily) == 1
    write_replay(result, tmp_path, counterfactuals=False)
    assert "Overall:" in (tmp_path / "validation.md").read_text()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2016-12-15", "2017-03-01", "start: 2016-12-15 is before the replay's data"),
        ("2030-01-01", "2030-02-01", "end: 2030-02-01 is after the replay's data"),
        ("2026-06-01", "2026-12-31", "end: 2026-12-31 is after the replay's data"),
    ],
)
def test_a_window_outside_the_data_is_refused(start, end, message, tmp_path, capsys):
    from fedplumbing.sim.cli import main

    out = tmp_path / "out"
    assert main(["replay", "--start", start, "--end", end, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert message in err and "allowed: 2017-01-01 to 2026-08-31" in err
    assert "Traceback" not in err and not out.exists()
    # the same window through `run` with a replay-mode scenario
    assert main(["run", "replay", "--set", f"start={start}", "--set", f"end={end}", "-q"]) == 2
    assert message in capsys.readouterr().err


def test_a_range_without_business_days_is_refused(tmp_path, capsys):
    from fedplumbing.sim.cli import main

    out = tmp_path / "out"
    argv = ["replay", "--start", "2019-12-25", "--end", "2019-12-25", "--out", str(out), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "end: no business day" in err and "Traceback" not in err
    assert not out.exists()


# --------------------------------------------------------------------------- counterfactuals
def test_srf_caps_the_spike():
    """With an SRF at IOER + 10 bp and no stigma nobody pays much more than that."""
    srf = run_replay(replay_config("sept2019_srf"), 0).daily.set_index("date")
    window = srf.loc["2019-09-09":"2019-09-30"]
    assert window["repo_spread_bp"].max() <= 10.0 + 1.0
    assert window["srf_take_up"].max() > 0


# --------------------------------------------------------------------------- slow validation
@pytest.fixture(scope="module")
def full_replay():
    cfg = replay_config("replay", end=dt.date(2020, 12, 31))
    result = run_replay(cfg, 0)
    return result


@pytest.mark.slow
def test_replay_2017_2020_runs_under_60s(full_replay):
    assert full_replay.summary["runtime_s"] < 60


@pytest.mark.slow
def test_september_2019_spike_emerges(full_replay):
    s = september_2019(full_replay.daily)
    assert s["median_bp"] >= 100
    assert s["p99_bp"] > 300
    assert s["effr_bp"] > 0


@pytest.mark.slow
def test_spike_is_short(full_replay):
    s = september_2019(full_replay.daily)
    assert -1 <= s["first"] <= 0 and s["last"] <= 3


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_spike_does_not_depend_on_the_seed(seed):
    """The spike is a cliff the tax-day drain crosses, not a lucky draw."""
    daily = run_replay(replay_config("sept2019"), seed).daily
    s = september_2019(daily)
    assert s["median_bp"] >= 100 and s["p99_bp"] > 300
    assert -1 <= s["first"] <= 0 and s["last"] <= 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "key", ["banks.lclor_scale", "initial.hedge_fund_repo", "initial.mmf_bill_share"]
)
@pytest.mark.parametrize("factor", [0.99, 1.01])
def test_spike_survives_small_moves_of_the_calibration(key, factor):
    """Not a knife edge of the calibrated point: +-1% of a parameter keeps the spike."""
    section, name = key.split(".")
    value = getattr(getattr(replay_config("replay"), section), name)
    cfg = replay_config("replay", end=dt.date(2019, 9, 30), overrides={key: value * factor})
    daily = run_replay(cfg, 0).daily
    s = september_2019(daily)
    assert s["median_bp"] >= 100, f"{key} x{factor}: 17 Sep {s['median_bp']:+.0f} bp"
    before = daily[daily["date"] < "2019-09-01"]
    assert (before["fed_repo_ops"] == 0).all()  # no earlier episode pre-empts it


_OPEN = {
    "weekly ON RRP within $50B": "2017's weekly ON RRP swings by $100-250B (the tail of year-end "
    "2016 on 4 January, the March debt-ceiling paydown, quarter-ends) more than the model's; "
    "77-79% of weeks within at seeds 0-2, 2019 all (docs/calibration.md)",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "check",
    [
        "median SOFR - IOER by month",
        "year-end 2018 pressure",
        "EFFR - IOER by month",
        # at the calibration seeds (this is seed 0); seed 5 misses one week by 0.2 points
        "weekly reserves within 5%",
        *[
            pytest.param(k, marks=pytest.mark.xfail(reason=v, strict=False))
            for k, v in _OPEN.items()
        ],
    ],
)
def test_validation_checks(full_replay, check):
    v = validate(full_replay.daily)
    (c,) = [c for c in v.checks if c.name.startswith(check)]
    assert c.passed, f"{c.name}: simulated {c.simulated}, actual {c.actual}"


@pytest.mark.slow
def test_reserve_demand_curve_flat_then_steep(full_replay):
    v = validate(full_replay.daily)
    (c,) = [c for c in v.checks if c.name.startswith("reserve demand curve")]
    assert c.passed, c.simulated


@pytest.mark.slow
def test_counterfactuals_more_reserves_and_tax_moved():
    from fedplumbing.experiments.replay import run_counterfactuals

    cf = counterfactual_numbers(run_counterfactuals(0))
    assert cf["sept2019_more_reserves"]["peak_bp"] < 50
    assert cf["sept2019_srf"]["peak_bp"] <= 11
    assert cf["sept2019"]["sept17_bp"] >= 100
    moved = pd.Timestamp(cf["sept2019_tax_moved"]["peak_day"])
    assert pd.Timestamp("2019-09-23") <= moved <= pd.Timestamp("2019-09-26")


def test_weekly_levels_are_week_averages_dated_by_their_wednesday():
    """Simulated reserves are averaged like WRESBAL (seven days to Wednesday, a Friday counted
    three times) and each row carries its Wednesday: the week to the 1 January 2020 holiday
    sits on 31 December but is a 2020 week, outside the 2017-2019 check."""
    from fedplumbing.experiments.replay import actual_frame, weekly_levels

    days = pd.bdate_range("2019-12-02", "2020-01-10")
    days = days[~days.isin(pd.to_datetime(["2019-12-25", "2020-01-01"]))]
    reserves = pd.Series(1500.0, index=days)
    reserves["2019-12-13"] = 1640.0  # a Friday: counts for Saturday and Sunday too
    daily = pd.DataFrame({"date": days, "reserves": reserves.to_numpy(), "on_rrp": 0.0})
    w = weekly_levels(daily, actual_frame(daily["date"]))
    assert w.loc["2019-12-18", "reserves"] == pytest.approx(1500.0 + 3 * 140.0 / 7)
    assert w.loc["2019-12-11", "reserves"] == pytest.approx(1500.0)
    assert np.isnan(w.loc["2019-12-04", "reserves"])  # its Thursday precedes the run
    assert w.loc["2019-12-31", "week"] == pd.Timestamp("2020-01-01")


@pytest.fixture(scope="module")
def replay_2019():
    """The replay to the end of 2019, seed 0 (the long run short windows are cut from)."""
    return run_replay(replay_config("replay", end=dt.date(2019, 12, 31)), 0).daily


def _window(daily: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    dates = pd.to_datetime(daily["date"])
    return daily[(dates >= first) & (dates <= last)].reset_index(drop=True)


def test_short_windows_are_judged_only_on_what_they_show(replay_2019):
    """A check runs only when the window holds what it judges.

    Before, a window from 24 December 2018 "failed" year-end pressure against a December
    median of NaN, one day (17 September) "passed" the spike's start and end, and two spike
    days "failed" the monthly calm medians.
    """
    names = {
        (first, last): [c.name for c in validate(_window(replay_2019, first, last)).checks]
        for first, last in [
            ("2018-12-24", "2019-01-31"),
            ("2019-09-17", "2019-09-17"),
            ("2019-09-17", "2019-09-18"),
            ("2018-12-03", "2019-01-31"),
            ("2019-09-03", "2019-09-30"),
        ]
    }
    assert not any("year-end" in n for n in names[("2018-12-24", "2019-01-31")])
    assert any("year-end" in n for n in names[("2018-12-03", "2019-01-31")])
    for short in [("2019-09-17", "2019-09-17"), ("2019-09-17", "2019-09-18")]:
        assert not any("starts 16-17 Sep" in n or "by month" in n for n in names[short])
        assert any("17 Sep 2019 SOFR" in n for n in names[short])
    september = names[("2019-09-03", "2019-09-30")]
    assert any("starts 16-17 Sep" in n for n in september)
    assert any("SOFR - IOER by month" in n for n in september)


def test_a_window_without_checks_says_so(replay_2019):
    daily = _window(replay_2019, "2017-01-03", "2017-01-03")
    text = validation_markdown(validate(daily), replay_config("replay"), 0)
    assert "Overall: **no checks apply**" in text and "PASS" not in text


def test_month_ends_come_from_the_calendar_not_the_window():
    """A window ending mid-month does not make its last day a month-end; one opening on a
    month's first business day flags it (the settlement of the turn)."""
    mid = pd.DatetimeIndex(pd.bdate_range("2019-03-11", "2019-03-15"))
    assert not _period_end_mask(mid).any()
    turn = pd.DatetimeIndex(["2019-04-01", "2019-04-02", "2019-04-29", "2019-04-30"])
    assert _period_end_mask(turn).tolist() == [True, False, False, True]


def test_counterfactuals_take_the_runs_settings_but_not_their_window_or_own_change():
    overrides = {
        "banks.lclor_scale": 1.1,
        "replay.extra_reserves": 50.0,
        "start": "2018-01-02",
        "replay.report_from": "2019-09-03",
    }
    assert counterfactual_overrides("sept2019", overrides) == {
        "banks.lclor_scale": 1.1,
        "replay.extra_reserves": 50.0,
    }
    # the +$150B counterfactual keeps its own extra reserves, the SRF one its SRF
    assert counterfactual_overrides("sept2019_more_reserves", overrides) == {
        "banks.lclor_scale": 1.1
    }
    assert counterfactual_overrides("sept2019_srf", {"fed.srf_stigma_bp": 50.0}) == {}
    assert counterfactual_overrides("sept2019", None) == {}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "2026-08-28"], "--start: 2026-08-28 is after the replay's last day"),
        (["--set", "start=2019-09-03", "--start", "2019-09-10"], "start: given twice"),
        (["--set", "mode=policy"], "mode: a replay runs mode 'replay'"),
    ],
)
def test_replay_input_errors_name_the_option(argv, message, tmp_path, capsys):
    from fedplumbing.sim.cli import main

    out = tmp_path / "out"
    assert main(["replay", *argv, "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_replay_notes_judge_the_settings_as_given(tmp_path, capsys):
    """`initial.reserves` does nothing when the replay opens from the data, and matters
    when `replay.initial_from_history=false` keeps the scenario's opening: the note must
    follow (it used to tell users to set the flag they had just set)."""
    from fedplumbing.sim.cli import main

    base = ["replay", "--end", "2017-01-06", "--no-counterfactuals"]
    assert main([*base, "--out", str(tmp_path / "a"), "--set", "initial.reserves=1500"]) == 0
    assert "note: initial.reserves has no effect: a replay opens" in capsys.readouterr().err
    cold = ["--set", "replay.initial_from_history=false", "--set", "initial.reserves=1500"]
    assert main([*base, "--out", str(tmp_path / "b"), *cold]) == 0
    assert "note" not in capsys.readouterr().err
    # judged as a replay: zero reserves are refused in policy mode only (the notes once
    # judged the settings in the scenario's own mode, so the run depended on -q)
    policy = ["replay", "default", "--end", "2018-01-05", "--no-counterfactuals"]
    zero = ["--set", "initial.reserves=0"]
    assert main([*policy, "--out", str(tmp_path / "c"), *zero]) == 0
    assert "note: initial.reserves has no effect" in capsys.readouterr().err


@pytest.mark.timeout(120)
def test_the_2020_purchases_leave_the_public_its_bills():
    """The Fed bought $1.5T of Treasuries in March-April 2020, over $1T more than the public's
    bills. Bought as bills, the public held -$257B of bills on 8 April 2020 (debug mode's
    collateral identity broke) and the SOMA was 83-90% bills in 2025-2026 (actual: under
    10% since 2017). From `replay.coupon_purchases_from` the purchases are coupons."""
    from fedplumbing.sim.payments import PUBLIC

    cfg = replay_config("replay", dt.date(2020, 3, 2), dt.date(2020, 4, 30))
    result = simulate(cfg, 0, debug=True, keep_model=True)  # checks every holding daily
    model = result.model
    soma = model.fed.soma
    assert model.ledger.held("bills", PUBLIC) > 0
    assert soma.treasuries > 3500 and soma.coupons.sum() > 3000  # bought, as coupons
    assert soma.bill_share() < 0.2
    # without that day: bills as long as the public has them, which it then had
    bills_first = apply_overrides(cfg, {"replay.coupon_purchases_from": None})
    assert simulate(bills_first, 0, keep_model=True).model.fed.soma.bill_share() > 0.3


def test_a_grown_opening_book_out_of_range_names_its_growth_rate(tmp_path, capsys):
    """A later start grows the money funds' book at `flows.mmf_growth` since 2017; beyond
    its range the message named only a number the user never set."""
    from fedplumbing.sim.cli import main

    out = tmp_path / "out"
    argv = ["run", "replay", "--set", "start=2025-01-02", "--set", "end=2025-03-30"]
    assert main([*argv, "--set", "flows.mmf_growth=0.5", "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("fedplumbing: error: initial.mmf_assets:")
    assert "grown at flows.mmf_growth = 0.5 a year for 8.0 years" in error
    assert "\n" not in error and not out.exists()


def test_figures_of_a_window_without_actual_data_say_so(tmp_path, monkeypatch):
    """A 2023 window drew 'actual SOFR/EFFR/...' legends over no actual lines, titled its
    demand curve '2017-2019' and left it empty."""
    from fedplumbing.sim import plots

    saved = {}

    def keep(fig, path):
        saved[path.name] = fig
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    cfg = replay_config("replay", dt.date(2023, 1, 3), dt.date(2023, 1, 31))
    replay_figures(run_replay(cfg, 0).daily, tmp_path)
    vs = saved["replay_vs_actual.png"]
    labels = [t.get_text() for ax in vs.axes for t in ax.get_legend().get_texts()]
    assert labels and not any(label.startswith("actual") for label in labels)
    assert "no actual series" in vs._suptitle.get_text()
    sim_ax, actual_ax = saved["demand_curve.png"].axes
    assert sim_ax.get_title() == "simulated (2023-01..2023-01)"
    assert actual_ax.get_title() == "actual: no data for 2023-01..2023-01"
    assert len(sim_ax.collections[0].get_offsets()) > 10  # the window's days are drawn
