"""Shared helpers for the sweep infrastructure tests (the model is `fake_model`)."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pandas as pd

from fedplumbing.experiments.results import load_results
from fedplumbing.experiments.spec import SweepSpec, parse_spec

TESTS_DIR = Path(__file__).resolve().parents[1]
"""Folder that makes ``experiments.fake_model`` importable (for subprocesses)."""

VOLATILE = ["elapsed_s", "worker"]


def make_spec(text: str) -> SweepSpec:
    """Parse a TOML snippet into a spec (engine metric names; no config check)."""
    return parse_spec(tomllib.loads(textwrap.dedent(text)))


def stable_results(out_dir: Path) -> pd.DataFrame:
    """Stored results without the columns that legitimately differ between executions."""
    return load_results(out_dir).drop(columns=VOLATILE)
