"""Small real-model settings for fast integration tests (60 banks, 10 MMFs, short runs)."""

from __future__ import annotations

from pathlib import Path

SMALL_SCENARIO = """\
extends = "default"
name = "small"
[population]
banks = 60
mmfs = 10
fed_funds_active_banks = 60
repo_active_banks = 20
"""

SMALL_OVERRIDES = {
    "population.banks": 60,
    "population.mmfs": 10,
    "population.fed_funds_active_banks": 60,
    "population.repo_active_banks": 20,
}


def write_small_scenario(folder: Path) -> Path:
    """Write the small scenario TOML into ``folder`` and return its path."""
    path = folder / "small.toml"
    path.write_text(SMALL_SCENARIO)
    return path
