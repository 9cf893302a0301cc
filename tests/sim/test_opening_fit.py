"""The opening hedge-fund book can be chosen so that day one keeps the stated ON RRP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL as SMALL_ECONOMY

from fedplumbing.sim import cli
from fedplumbing.sim.config import ConfigError, apply_overrides, load_scenario
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.opening import FIT_TOLERANCE, fit_opening_on_rrp
from fedplumbing.sim.payments import FED
from fedplumbing.sim.run import simulate

SMALL = {**SMALL_ECONOMY, "end": "2026-03-31"}


def scenario(**overrides) -> object:
    return apply_overrides(load_scenario("rmp2026"), {**SMALL, **overrides})


def day_one(cfg, seed=0) -> tuple[float, float]:
    model = FedPlumbingModel(cfg, rng=seed)
    model.step()
    led = model.ledger
    return float(led.owed("on_rrp", FED)), float(led.owed("reserves", FED))


@pytest.mark.parametrize("on_rrp", [20.0, 150.0])
def test_day_one_ends_at_the_stated_on_rrp_and_reserves(on_rrp):
    cfg = scenario(**{"initial.on_rrp": on_rrp, "initial.fit_on_rrp": True})
    got, reserves = day_one(cfg)
    assert got == pytest.approx(on_rrp, abs=FIT_TOLERANCE)
    # the split holds: what the ON RRP keeps does not move into reserves on day one
    assert reserves == pytest.approx(cfg.initial.reserves, abs=30.0)


def test_without_the_fit_the_agents_reallocate_on_day_one():
    """The reason for the option: the calibrated book leaves money funds with spare cash."""
    cfg = scenario()
    got, _ = day_one(apply_overrides(cfg, {"initial.fit_on_rrp": False}))
    assert got > cfg.initial.on_rrp + 100.0


def test_a_lower_stated_on_rrp_needs_a_larger_hedge_fund_book():
    low = fit_opening_on_rrp(scenario(**{"initial.on_rrp": 20.0, "initial.fit_on_rrp": True}), 0)
    high = fit_opening_on_rrp(scenario(**{"initial.on_rrp": 150.0, "initial.fit_on_rrp": True}), 0)
    assert low.initial.hedge_fund_repo > high.initial.hedge_fund_repo + 100.0
    assert not low.initial.fit_on_rrp  # the solved scenario does not solve again


def test_fitted_runs_are_deterministic_and_record_the_book():
    cfg = scenario(**{"end": "2026-01-31"})
    a, b = simulate(cfg, 3, keep_model=True), simulate(cfg, 3, keep_model=True)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    book = a.model.config.initial.hedge_fund_repo
    assert book != load_scenario("rmp2026").initial.hedge_fund_repo
    assert np.isclose(a.model.ledger.owed("hf_repo", 2), book * 1.0, rtol=0.2)


def test_an_unreachable_on_rrp_is_a_clear_error():
    # money funds hold about $2.2T of cash: no book leaves $2.6T at the ON RRP
    cfg = scenario(
        **{"initial.on_rrp": 2600.0, "initial.reserves": 400.0, "initial.fit_on_rrp": True}
    )
    with pytest.raises(ConfigError, match=r"initial\.on_rrp: no opening hedge-fund book") as info:
        FedPlumbingModel(cfg, rng=0)
    # what to change: the opening, or a behavioural setting that moves day one's choices
    assert "initial.mmf_bill_share" in str(info.value) and "stigma" in str(info.value)


def test_the_cli_reports_an_unreachable_on_rrp_without_writing(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "rmp2026", "--days", "3", "--set", "initial.on_rrp=2600"]
    args += ["--set", "initial.reserves=400", "--out", str(out)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "initial.on_rrp" in err[0]
    assert not out.exists()


def test_replay_ignores_the_option():
    from fedplumbing.experiments.replay import replay_config

    cfg = replay_config("sept2019", overrides={"initial.fit_on_rrp": True, "end": "2019-09-05"})
    model = FedPlumbingModel(cfg, rng=0)
    assert model.config.initial.fit_on_rrp  # untouched: the replay opens from history


def test_summary_json_and_the_table_show_the_fitted_book(tmp_path, capsys):
    """`config` in summary.json is the scenario as given (its starting book); the book the
    opening solved for is recorded beside it and printed, so a reader can check it."""
    import json

    out = tmp_path / "out"
    sets = [f"--set={key}={value}" for key, value in SMALL.items() if key != "end"]
    assert cli.main(["run", "rmp2026", "--days", "2", "--out", str(out), *sets]) == 0
    record = json.loads((out / "summary.json").read_text())
    book = record["fitted"]["initial.hedge_fund_repo"]
    given = record["config"]["initial"]["hedge_fund_repo"]
    assert given == load_scenario("rmp2026").initial.hedge_fund_repo
    assert abs(book - given) > 100.0
    assert f"{book:,.1f}" in capsys.readouterr().out


def test_a_replay_s_grown_book_is_not_called_fitted():
    """A replay that starts late grows its opening book from the data's first week; that is
    not a fit (`initial.fit_on_rrp` is a policy-mode setting)."""
    import datetime as dt

    cfg = apply_overrides(load_scenario("replay"), {"start": dt.date(2019, 1, 2)})
    assert simulate(cfg, 0, days=1).fitted == {}
