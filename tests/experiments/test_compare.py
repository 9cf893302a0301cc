"""``fedplumbing compare``: the table's arithmetic, the files written, input errors."""

from __future__ import annotations

import pandas as pd
import pytest

from fedplumbing.experiments.compare import (
    METRICS,
    accrual_days,
    comparison_table,
    labels_for,
    write_comparison,
)
from fedplumbing.sim import cli

SMALL = [
    "--set",
    "population.banks=60",
    "--set",
    "population.mmfs=12",
    "--set",
    "population.dealers=8",
    "--set",
    "population.repo_active_banks=10",
    "--set",
    "population.fed_funds_active_banks=30",
]


def fake_daily(days: int, reserves: float, income_per_day: float) -> pd.DataFrame:
    """A daily table with the columns the comparison reads; flows accrue by calendar day."""
    dates = pd.bdate_range("2026-01-05", periods=days)  # starts on a Monday
    frame = pd.DataFrame({"date": dates})
    acc = accrual_days(frame).to_numpy()
    cols = {
        "reserves": reserves,
        "reserves_to_assets": reserves / 25000.0,
        "on_rrp": 100.0,
        "repo_spread_bp": 2.0,
        "repo_spread_p99_bp": 9.0,
        "srf_take_up": 0.0,
        "soma_wam_years": 9.0,
        "soma_bill_share": 0.07,
        "term_premium_bp": 0.0,
        "fed_deferred_asset": 0.0,
        "treasury_wam_months": 71.0,
        "private_bill_share": 0.245,
    }
    for col, value in cols.items():
        frame[col] = value
    frame["fed_net_income"] = income_per_day * acc
    frame["fed_remittances"] = frame["fed_net_income"]
    frame["treasury_interest_cost"] = 3.0 * acc
    frame.loc[days - 1, "term_premium_bp"] = 12.5
    return frame


def test_accrual_days_cover_weekends():
    frame = pd.DataFrame({"date": pd.bdate_range("2026-01-05", periods=10)})
    assert accrual_days(frame).tolist() == [1, 1, 1, 1, 3, 1, 1, 1, 1, 3]


def test_table_arithmetic():
    a, b = fake_daily(60, 3000.0, 0.5), fake_daily(60, 2000.0, -0.2)
    table = comparison_table({"a": a, "b": b})
    assert list(table.columns) == ["a", "b"]
    assert list(table.index) == [label for label, _, _ in METRICS]
    assert table.loc["mean reserves ($bn)", "a"] == 3000.0
    assert table.loc["min reserves ($bn)", "b"] == 2000.0
    # a flow of $0.5bn a calendar day is $182.5bn a year
    assert table.loc["Fed net income ($bn/year)", "a"] == pytest.approx(182.5)
    assert table.loc["Fed net income ($bn/year)", "b"] == pytest.approx(-73.0)
    assert table.loc["Treasury interest cost ($bn/year)", "a"] == pytest.approx(1095.0)
    assert table.loc["final term premium change (bp)", "a"] == 12.5
    assert table.loc["final SOMA bill share (%)", "a"] == pytest.approx(7.0)


def test_labels_are_unique():
    assert labels_for(["qt2022", "rmp2026", "qt2022"]) == ["qt2022", "rmp2026", "qt2022#2"]


def test_write_comparison_files(tmp_path):
    paths = write_comparison(
        {"a": fake_daily(30, 3000.0, 0.5), "b": fake_daily(40, 2500.0, 0.1)}, tmp_path / "out"
    )
    assert sorted(p.name for p in paths.values()) == [
        "compare.csv",
        "compare.md",
        "compare.png",
        "daily.csv",
    ]
    assert paths["figure"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    csv = pd.read_csv(paths["csv"], index_col="metric")
    assert list(csv.columns) == ["a", "b"]
    assert csv.loc["business days"].tolist() == [30, 40]
    md = paths["table"].read_text()
    assert md.startswith("| metric | a (2026-01-05 to ")
    assert "| mean reserves ($bn) | 3,000 | 2,500 |" in md
    daily = pd.read_csv(paths["daily"])
    assert daily["scenario"].value_counts().to_dict() == {"a": 30, "b": 40}
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_compare_command_runs_scenarios_side_by_side(tmp_path, capsys):
    out = tmp_path / "cmp"
    code = cli.main(
        ["compare", "qt2022", "rmp2026", "--days", "5", "--seed", "3", "--out", str(out), *SMALL]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "| metric | qt2022 (2022-05-02 to 2022-05-06) | rmp2026 (2025-12-01 to" in printed
    csv = pd.read_csv(out / "compare.csv", index_col="metric")
    assert list(csv.columns) == ["qt2022", "rmp2026"]
    assert csv.loc["business days"].tolist() == [5, 5]
    # each scenario keeps its own opening SOMA: WAM 9.3 years in 2026, 7.5 in 2022
    assert (
        csv.loc["final SOMA WAM (years)", "rmp2026"] > csv.loc["final SOMA WAM (years)", "qt2022"]
    )
    daily = pd.read_csv(out / "daily.csv")
    assert set(daily["scenario"]) == {"qt2022", "rmp2026"}
    assert {"term_premium_bp", "treasury_interest_cost", "soma_bill_share"} <= set(daily.columns)


@pytest.mark.parametrize(
    "args, message",
    [
        (["qt2022"], "at least two scenarios"),
        (["qt2022", "no_such_scenario"], "no_such_scenario"),
        (["qt2022", "rmp2026", "--days", "0"], "--days"),
        (["qt2022", "rmp2026", "--seed", "-1"], "--seed"),
        (["qt2022", "rmp2026", "--set", "fed.no_such=1"], "fed.no_such"),
        (["qt2022", "rmp2026", "--set", "treasury.response=C"], "treasury.response"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, capsys, args, message):
    out = tmp_path / "cmp"
    code = cli.main(["compare", *args, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("fedplumbing: error:")
    assert message in err
    assert not out.exists()


def test_out_must_not_be_a_file(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    code = cli.main(["compare", "qt2022", "rmp2026", "--out", str(target)])
    assert code == 2
    assert "--out" in capsys.readouterr().err
    assert target.read_text() == "keep me"
