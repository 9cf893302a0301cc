"""Figures and output files, built from a synthetic daily table (no engine needed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fedplumbing.sim import outputs, plots
from fedplumbing.sim.config import ScenarioConfig, config_hash

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class FakeResult:
    daily: pd.DataFrame
    config: ScenarioConfig = field(default_factory=ScenarioConfig)
    seed: Any = 0
    summary: dict = field(default_factory=lambda: {"max_spread_bp": 280.0, "days_over_50bp": 1})
    fitted: dict = field(default_factory=dict)


@pytest.fixture
def daily() -> pd.DataFrame:
    return outputs.synthetic_daily(days=120, seed=1)


def assert_png(path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000
    assert data.startswith(PNG_MAGIC)


def no_temp_files(folder) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def legend_labels(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().texts]


# --------------------------------------------------------------------------- figures
def test_synthetic_daily_has_engine_columns(daily):
    assert tuple(daily.columns) == outputs.DAILY_COLUMNS
    assert len(daily) == 120


def test_overview_figure_png(daily, tmp_path):
    fig = plots.overview_figure(daily, "synthetic")
    assert fig._suptitle.get_text() == "synthetic"
    labels = legend_labels(fig)
    for label in ("IORB", "ON RRP rate", "SOFR (median)", "EFFR", "Reserves", "ON RRP", "TGA"):
        assert label in labels
    assert "SRF rate" not in labels  # srf_rate is NaN in the synthetic table
    assert "SRF use" in labels and "Discount window use" in labels
    assert len(fig.axes) == 3  # corridor, stack, facility-use twin axis
    path = plots.save_figure(fig, tmp_path / "overview.png")
    assert_png(path)
    assert no_temp_files(tmp_path)


def test_overview_without_facility_use_has_no_twin_axis(daily):
    quiet = daily.assign(srf_take_up=0.0, discount_window_take_up=0.0, srf_rate=2.45)
    fig = plots.overview_figure(quiet, "no facility use")
    assert len(fig.axes) == 2
    assert "SRF rate" in legend_labels(fig)


def test_overview_single_day(daily, tmp_path):
    fig = plots.overview_figure(daily.iloc[:1], "one day")
    assert_png(plots.save_figure(fig, tmp_path / "one.png"))


def test_empty_table_is_an_error(daily):
    with pytest.raises(ValueError, match="empty"):
        plots.overview_figure(daily.iloc[:0], "empty")
    with pytest.raises(ValueError, match="empty"):
        plots.reserve_demand_figure(daily.iloc[:0])


def test_reserve_demand_figure_png(daily, tmp_path):
    fig = plots.reserve_demand_figure(daily)
    ax = fig.axes[0]
    assert "%" in ax.get_xlabel() and "bp" in ax.get_ylabel()
    assert_png(plots.save_figure(fig, tmp_path / "sub" / "demand.png"))


def test_save_figure_failure_leaves_nothing(daily, tmp_path, monkeypatch):
    fig = plots.reserve_demand_figure(daily)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", boom)
    with pytest.raises(RuntimeError):
        plots.save_figure(fig, tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- output files
def test_write_run_files(daily, tmp_path):
    result = FakeResult(daily, seed=7)
    paths = outputs.write_run(result, tmp_path / "out")
    assert sorted(p.name for p in paths.values()) == ["daily.csv", "overview.png", "summary.json"]
    assert no_temp_files(tmp_path / "out")
    table = pd.read_csv(paths["daily"])
    assert tuple(table.columns) == outputs.DAILY_COLUMNS
    assert len(table) == len(daily)
    assert table["date"].iloc[0] == str(daily["date"].iloc[0])
    text = paths["summary"].read_text()
    record = json.loads(text)
    assert list(record) == sorted(record)
    assert record["scenario"] == "default"
    assert record["config_hash"] == config_hash(result.config)
    assert record["seed"] == 7
    assert record["days"] == len(daily)
    assert record["summary"]["max_spread_bp"] == 280.0
    assert {"python", "fedplumbing", "mesa", "numpy", "pandas"} <= set(record["package_versions"])
    assert_png(paths["overview"])


def test_write_run_is_byte_identical(daily, tmp_path):
    a = outputs.write_run(FakeResult(daily, seed=3), tmp_path / "a")
    b = outputs.write_run(FakeResult(daily.copy(), seed=3), tmp_path / "b")
    for key in ("daily", "summary"):
        assert a[key].read_bytes() == b[key].read_bytes()


def test_write_run_failure_writes_nothing(daily, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(plots, "overview_figure", boom)
    with pytest.raises(RuntimeError):
        outputs.write_run(FakeResult(daily), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_summary_json_handles_numpy_nan_and_seed_sequence(daily, tmp_path):
    seed = np.random.SeedSequence(12345).spawn(3)[2]
    summary = {"a": np.float64(1.5), "b": np.int64(2), "c": float("nan"), "d": "text"}
    paths = outputs.write_run(FakeResult(daily, seed=seed, summary=summary), tmp_path)
    record = json.loads(paths["summary"].read_text())
    assert record["summary"] == {"a": 1.5, "b": 2, "c": None, "d": "text"}
    assert record["seed"] == {"entropy": 12345, "spawn_key": [2]}


def test_summary_table(daily):
    text = outputs.summary_table(FakeResult(daily))
    spike = daily["sofr"].sub(daily["iorb"]).idxmax()
    assert f"280.0 on {daily['date'].iloc[spike]:%Y-%m-%d}" in text
    low = daily["reserves"].idxmin()
    assert f"{daily['reserves'].iloc[low]:,.1f} on {daily['date'].iloc[low]:%Y-%m-%d}" in text
    assert "SRF use ($bn, sum of days)" in text and "53.0 on 1 day\n" in text
    assert "days with SOFR - IORB > 50 bp" in text
    assert f"{daily['tga'].iloc[-1]:,.1f}" in text


def test_summary_table_does_not_count_rounding_dust_as_facility_use(daily):
    dusty = daily.copy()
    dusty["srf_take_up"] = 0.0
    dusty.loc[3, "srf_take_up"] = 4e-13  # what a posting's rounding leaves, not a loan
    dusty.loc[5, "srf_take_up"] = 2.5
    text = outputs.summary_table(FakeResult(dusty))
    assert "2.5 on 1 day\n" in text


def test_package_versions():
    versions = outputs.package_versions()
    assert versions["numpy"] == np.__version__
    assert versions["fedplumbing"] != "not installed"


@pytest.mark.parametrize("days", [1, 2])
def test_a_short_run_draws_its_days_on_a_day_axis(days):
    """A one-day run drew nothing (a step line of one point has no width) on an axis from
    2016 to 2020; two days were labelled in hours."""
    import matplotlib.dates as mdates

    daily = outputs.synthetic_daily(days=days, seed=0)
    fig = plots.overview_figure(daily, "short")
    top, bottom = fig.axes[:2]
    first = mdates.date2num(pd.Timestamp(daily["date"].iloc[0]))
    last = mdates.date2num(pd.Timestamp(daily["date"].iloc[-1]))
    lo, hi = bottom.get_xlim()
    assert lo == pytest.approx(first) and hi == pytest.approx(last + 1)  # the last day too
    widths = [np.ptp(line.get_xdata(orig=False).astype(float)) for line in top.get_lines()]
    assert max(widths) > 0  # the SOFR, IORB... lines span the run's days
    fig.canvas.draw()
    labels = [t.get_text() for t in bottom.get_xticklabels()]
    assert labels and not any(":" in t for t in labels)  # days, not hours
