"""Shared scenario builders for the engine tests."""

import pytest

from fedplumbing.sim.config import apply_overrides, load_scenario

#: A small economy (fast with debug checks) that keeps every mechanism.
SMALL = {
    "population.banks": 60,
    "population.mmfs": 12,
    "population.dealers": 8,
    "population.fhlbs": 4,
    "population.repo_active_banks": 10,
    "population.fed_funds_active_banks": 30,
}


@pytest.fixture
def small_default():
    return apply_overrides(load_scenario("default"), SMALL)
