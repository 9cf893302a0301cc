"""Facility use that is only rounding left by the postings is recorded as zero."""

from __future__ import annotations

import numpy as np
import pytest

from fedplumbing.sim.config import load_scenario
from fedplumbing.sim.metrics import FACILITY_DUST, without_dust
from fedplumbing.sim.run import simulate

FACILITIES = ["srf_take_up", "discount_window_take_up", "fire_sale_funding"]


def test_without_dust():
    assert without_dust(4e-13) == 0.0
    assert without_dust(-4e-13) == 0.0
    assert without_dust(FACILITY_DUST) == FACILITY_DUST
    assert without_dust(2.5) == 2.5


@pytest.fixture(scope="module")
def srf_run():
    return simulate(load_scenario("srf_today"), 0)


def test_recorded_facility_use_is_zero_or_a_real_loan(srf_run):
    daily = srf_run.daily
    for column in FACILITIES:
        x = daily[column].to_numpy()
        assert (x >= 0).all() and not np.any((x != 0) & (np.abs(x) < FACILITY_DUST)), column
    assert (daily["srf_take_up"] > 1.0).sum() > 0  # the SRF is still used when needed
