"""Reserve-floor stress test: QT schedule, search logic (synthetic model) and a real small run."""

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest

from fedplumbing.experiments.stress_floor import (
    StressError,
    StressSettings,
    qt_overrides,
    run_stress_floor,
    write_outputs,
)
from fedplumbing.sim.config import apply_overrides, load_scenario

from .small_model import SMALL_OVERRIDES

END = dt.date(2024, 1, 1)


def test_qt_overrides_cut_runoff_at_a_fractional_month():
    base = load_scenario("default")  # starts 2018-01-02; caps 30 (Treasuries) and 20 (MBS)
    over = qt_overrides(base, 2.5, END)
    assert over["fed.qt_end"] == dt.date(2018, 4, 1)
    (step,) = over["fed.runoff"]
    assert step["date"] == dt.date(2018, 3, 1)
    assert step["treasury_cap"] == pytest.approx(0.5 * base.fed.treasury_cap)
    assert step["mbs_cap"] == pytest.approx(0.5 * base.fed.mbs_cap)
    whole = qt_overrides(base, 3.0, END)
    assert whole["fed.qt_end"] == dt.date(2018, 4, 1) and whole["fed.runoff"] == []
    assert qt_overrides(base, 0.0, END)["fed.qt_end"] == dt.date(2018, 1, 1)
    cfg = apply_overrides(base, over)  # a valid scenario
    assert cfg.fed.qt_end == dt.date(2018, 4, 1) and cfg.end == END


def test_qt_overrides_keep_earlier_steps_of_a_schedule():
    base = apply_overrides(
        load_scenario("default"),
        {
            "fed.runoff": [
                {"date": dt.date(2018, 2, 1), "treasury_cap": 10.0, "mbs_cap": 4.0},
                {"date": dt.date(2018, 9, 1), "treasury_cap": 99.0, "mbs_cap": 99.0},
            ]
        },
    )
    over = qt_overrides(base, 4.25, END)
    dates = [s["date"] for s in over["fed.runoff"]]
    assert dates == [dt.date(2018, 2, 1), dt.date(2018, 5, 1)]
    assert over["fed.runoff"][1]["treasury_cap"] == pytest.approx(2.5)  # 0.25 x 10
    assert over["fed.qt_end"] == dt.date(2018, 6, 1)


def fake_evaluate(request):
    """A monotone stand-in: reserves fall 50 $bn per QT month; seed s has floor 1400 + 20 s."""
    s, x = request["seed"], request["qt_months"]
    reserves = 2000.0 - 50.0 * x + 10.0 * s
    floor = request["fake_floor"] + 20.0 * s
    spread = 25.0 + (floor - reserves) / 4.0
    return {
        "seed": s,
        "qt_months": x,
        "error": None,
        "spread_q": spread,
        "reserves_mean": reserves,
        "reserves_min": reserves - 30.0,
        "ratio_mean": reserves / 16000.0,
        "qt_end": "2019-01-01",
        "reserves_at_qt_end": reserves + 10,
        "spread_max_tax": spread,
        "spread_max_quarter_end": spread - 1,
        "worst_day": "2019-03-15",
        "worst_day_events": "corporate tax date",
        "tax_dates": 2,
        "quarter_ends": 1,
    }


def synthetic(fake_floor, **kw):
    settings = StressSettings(**{"seeds": 4, "ladder": 5, "steps": 6, **kw})

    def evaluate(request):
        return fake_evaluate({**request, "fake_floor": fake_floor})

    return run_stress_floor(settings, workers=1, evaluate=evaluate)


def test_bisection_finds_each_seed_floor_and_the_headline():
    result = synthetic(1400.0, max_qt_months=36.0)
    seeds = result.seeds.set_index("seed")
    for s in range(4):
        true_floor = 1400.0 + 20.0 * s
        assert seeds.loc[s, "status"] == "ok"
        assert true_floor <= seeds.loc[s, "floor_reserves"] < true_floor + 10.0
        assert seeds.loc[s, "fail_reserves"] < true_floor
    floor = result.floor
    assert floor["reserves"] == pytest.approx(seeds["floor_reserves"].max())  # all seeds pass
    assert floor["p5"] <= floor["median"] <= floor["p95"] <= floor["reserves"]
    assert not floor["censored_low"] and floor["failed_runs"] == 0
    ev = result.evaluations
    assert (ev["passed"] == (ev["spread_q"] <= 25.0)).all()
    assert len(ev) == 4 * 5 + 4 * 6  # ladder, then one run per seed per step
    half = synthetic(1400.0, max_qt_months=36.0, pass_share=0.5)
    assert half.floor["reserves"] == pytest.approx(np.sort(seeds["floor_reserves"])[1])


def test_floor_out_of_range_is_reported():
    high = synthetic(5000.0, max_qt_months=12.0, steps=1)
    assert high.floor["reserves"] is None and "without QT" in high.floor["note"]
    assert set(high.seeds["status"]) == {"fails without QT"}
    low = synthetic(100.0, max_qt_months=12.0, steps=1)
    assert low.floor["censored_low"] and "upper bounds" in low.floor["note"]
    assert "<= " in low.format()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"quantile": 1.5}, "quantile: must be in (0, 1]"),
        ({"series": "sofr"}, "unknown series 'sofr'"),
        ({"window_days": 30}, "window_days: must be an integer >= 63"),
        ({"scenario": "nope"}, "neither a built-in scenario"),
        ({"overrides": {"banks.nope": 1}}, "unknown setting 'banks.nope'"),
        ({"pass_share": 0.0}, "pass_share"),
        ({"max_qt_months": -3.0}, "max_qt_months"),
    ],
)
def test_invalid_settings_fail_before_running(kw, message):
    with pytest.raises(StressError) as info:
        run_stress_floor(StressSettings(**kw), workers=1, evaluate=_never)
    assert message in str(info.value) and "\n" not in str(info.value)


def _never(request):
    raise AssertionError("nothing may run")


@pytest.mark.timeout(300)
def test_real_small_stress_test(tmp_path):
    settings = StressSettings(
        overrides=SMALL_OVERRIDES,
        seeds=2,
        ladder=3,
        steps=1,
        window_days=66,
        max_qt_months=20.0,
        base_seed=5,
    )
    result = run_stress_floor(settings, workers=2)
    ev = result.evaluations
    assert ev["error"].isna().all(), ev["error"].dropna().tolist()
    assert (ev["days"] == 66).all()
    assert (ev["tax_dates"] >= 1).all() and (ev["quarter_ends"] >= 1).all()
    for _, mine in ev[ev["stage"] == "ladder"].groupby("seed"):
        mine = mine.sort_values("qt_months")
        assert mine["qt_months"].tolist() == [0.0, 10.0, 20.0]
        assert np.all(np.diff(mine["reserves_mean"]) < 0)  # longer QT, fewer reserves
        assert mine["spread_q"].iloc[-1] > mine["spread_q"].iloc[0]  # and wider spreads
    assert (ev["passed"] == (ev["spread_q"] <= settings.threshold_bp)).all()
    paths = write_outputs(result, tmp_path / "sf")
    assert all(p.exists() and p.stat().st_size > 0 for p in paths.values())
    summary = json.loads(paths["summary"].read_text())
    assert summary["settings"]["overrides"] == SMALL_OVERRIDES
    assert "| seed |" in paths["table"].read_text()
    written = pd.read_csv(paths["evaluations"])
    np.testing.assert_allclose(written["spread_q"], ev["spread_q"].to_numpy(), atol=1e-3)
    floor = result.floor
    assert summary["floor"]["reserves"] == floor["reserves"]
    if floor["reserves"] is None:  # no floor in range: the note must say why
        assert floor["note"] or "not found" in result.format()
    else:
        assert math.isfinite(floor["reserves"]) and 0 < floor["ratio"] < 1


def test_every_run_failing_is_reported_not_a_crash(tmp_path, monkeypatch):
    """When no run finishes, the outputs are still written and say why (no KeyError)."""
    import fedplumbing.sim.run as run_module

    def broken(*args, **kwargs):
        raise RuntimeError("engine broke")

    monkeypatch.setattr(run_module, "simulate", broken)
    settings = StressSettings(
        overrides=SMALL_OVERRIDES, seeds=1, ladder=2, steps=0, window_days=63, max_qt_months=6.0
    )
    result = run_stress_floor(settings, workers=1)
    assert result.evaluations["error"].str.contains("engine broke").all()
    assert result.floor["reserves"] is None and result.floor["failed_runs"] == 2
    paths = write_outputs(result, tmp_path / "sf")
    assert paths["figure"].stat().st_size > 0
    assert "engine broke" in paths["evaluations"].read_text()


def _die_on_seed_1(request):
    """Seed 1's worker process dies (as one killed, or out of memory, would)."""
    import os

    if request["seed"] == 1:
        os._exit(9)
    return fake_evaluate({**request, "fake_floor": 1500.0})


@pytest.mark.timeout(120)
def test_a_dead_worker_is_one_line_not_a_traceback():
    """A worker killed mid-run raised BrokenProcessPool through the command's traceback."""
    from fedplumbing.sim.cli import CommandError

    settings = StressSettings(seeds=2, ladder=2, steps=0)
    with pytest.raises(CommandError, match="a worker process died during the ladder stage"):
        run_stress_floor(settings, workers=2, evaluate=_die_on_seed_1)
