"""FHLBs' fed funds offers: the ON RRP + premium floor, and what repo pays."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from fedplumbing.agents.fhlb import FHLB
from fedplumbing.experiments.replay import replay_config
from fedplumbing.sim.run import simulate


def test_ask_is_the_premium_and_corridor_share_over_on_rrp_unless_repo_pays_more():
    ask = FHLB.fed_funds_ask(2.25, 2.50, 0.02, 0.5)
    assert ask == pytest.approx(2.25 + 0.02 + 0.125)
    # a narrower corridor (same ON RRP, lower IORB) lowers the ask
    assert FHLB.fed_funds_ask(2.25, 2.35, 0.02, 0.5) == pytest.approx(2.25 + 0.02 + 0.05)
    assert FHLB.fed_funds_ask(2.25, 2.50, 0.02, 0.5, repo_floor=2.30) == pytest.approx(2.395)
    assert FHLB.fed_funds_ask(2.25, 2.50, 0.02, 0.5, repo_floor=2.45) == pytest.approx(2.45)


def test_offers_lend_a_share_of_positive_cash_at_the_ask():
    qty, rate = FHLB.fed_funds_offers(np.array([10.0, -2.0, 5.0]), 2.38, 0.8)
    assert qty[:, 0] == pytest.approx([8.0, 0.0, 4.0])
    assert np.all(rate == 2.38)


def test_firm_repo_pulls_the_effr_up():
    """Spring 2018: repo traded near IOER while IOER - ON RRP was 25 bp. FHLBs that weigh
    what repo pays lend fed funds dearer, and the EFFR rises toward the repo rate."""
    window = {"start": dt.date(2018, 4, 2), "end": dt.date(2018, 5, 31)}
    effr = {}
    for discount in (None, 5.0):
        cfg = replay_config("replay", overrides={**window, "fhlbs.repo_discount_bp": discount})
        daily = simulate(cfg, 0).daily
        effr[discount] = daily["effr_spread_bp"].iloc[5:].median()
        repo = daily["repo_spread_bp"].iloc[5:].median()
    assert repo > -8  # repo was firm in this window
    assert effr[5.0] >= max(effr[None] + 3, repo - 5 - 0.5)


def test_repo_floor_follows_the_last_repo_spread_but_stops_at_iorb():
    """Above IORB only banks short of reserves borrow; an FHLB holding out for a stressed
    repo rate (it does not lend in the model's repo market) would park cash at the ON RRP."""
    from fedplumbing.sim.config import apply_overrides, load_scenario
    from fedplumbing.sim.fed_funds_market import _repo_floor
    from fedplumbing.sim.model import FedPlumbingModel

    cfg = apply_overrides(load_scenario("default"), {"fhlbs.repo_discount_bp": 5.0})
    model = FedPlumbingModel(cfg)
    iorb = model.rates_today.iorb
    assert _repo_floor(model) == -np.inf  # no yesterday yet
    model.recorder.last_calm_repo_spread_bp = -20.0
    assert _repo_floor(model) == pytest.approx(iorb - 0.25)
    model.recorder.last_calm_repo_spread_bp = 500.0
    assert _repo_floor(model) == pytest.approx(iorb)
    off = FedPlumbingModel(apply_overrides(cfg, {"fhlbs.repo_discount_bp": None}))
    off.recorder.last_calm_repo_spread_bp = -20.0
    assert _repo_floor(off) == -np.inf


def test_the_floor_passes_over_month_ends():
    """The day after a month-end the FHLBs' floor comes from the day before it.

    Taking the year-end print instead (+26 bp at the end of 2022) put the floor at IORB,
    above every bid: the replay had no fed funds trade and no EFFR on 3 January 2023.
    """
    import datetime as dt

    import pandas as pd

    from fedplumbing.experiments.replay import replay_config, run_replay
    from fedplumbing.sim.config import load_scenario
    from fedplumbing.sim.model import FedPlumbingModel

    # a month-end whose spread differs from the day before's (else the check is empty)
    model = FedPlumbingModel(load_scenario("default"), rng=0)
    while True:
        while not model.flags["is_month_end"]:
            model.step()
        before = model.recorder.last_repo_spread_bp  # the day before the month-end
        model.step()  # the month-end itself
        if model.recorder.last_repo_spread_bp != before:
            break
    assert model.recorder.last_calm_repo_spread_bp == before
    assert model.recorder.last_repo_spread_bp == model.recorder.rows[-1]["repo_spread_bp"]
    model.step()  # the day after: calm again
    assert model.recorder.last_calm_repo_spread_bp == model.recorder.last_repo_spread_bp

    window = run_replay(replay_config("replay", dt.date(2022, 12, 28), dt.date(2023, 1, 6)), 0)
    daily = window.daily.set_index(pd.to_datetime(window.daily["date"]))
    assert daily.loc["2022-12-30", "repo_spread_bp"] > 15  # the year-end print
    assert daily["effr"].notna().all() and (daily["ff_volume"] > 0).all()
