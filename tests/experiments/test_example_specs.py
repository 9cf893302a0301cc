"""The example specs shipped in fedplumbing/experiments/specs/ are valid."""

from pathlib import Path

import pytest

from fedplumbing.experiments.sensitivity import load_sensitivity_spec
from fedplumbing.experiments.spec import load_spec

SPECS = Path(__file__).resolve().parents[2] / "fedplumbing" / "experiments" / "specs"


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.toml")), ids=lambda p: p.name)
def test_example_spec_is_valid(path):
    if path.name.startswith("sensitivity"):
        spec = load_sensitivity_spec(path)
        assert spec.n_points() * spec.seeds <= 200
    else:
        spec = load_spec(path)
        assert spec.parameters
