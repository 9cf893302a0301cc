"""Side-by-side comparison of scenarios: a table of headline numbers and figures of their paths.

`run_comparison` simulates each scenario with the same seed; `comparison_table` turns the runs
into one row per metric and one column per scenario; `comparison_figure` draws the paths that
the QT debate turns on (reserves, ON RRP, repo spreads and their tail, SRF use, the SOMA's WAM
and bill share, the term premium, the Fed's net income and the Treasury's interest cost);
`write_comparison` writes them all atomically: ``compare.md``, ``compare.csv``,
``compare.png`` and ``daily.csv`` (every scenario's daily rows, with a ``scenario`` column).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fedplumbing.sim.outputs import FLOAT_FORMAT, atomic_path, daily_to_csv

if TYPE_CHECKING:
    from fedplumbing.sim.config import ScenarioConfig
    from fedplumbing.sim.run import RunResult

TABLE_FILE = "compare.md"
CSV_FILE = "compare.csv"
FIGURE_FILE = "compare.png"
DAILY_FILE = "daily.csv"


def _final(col: str) -> Callable[[pd.DataFrame], float]:
    return lambda d: float(d[col].iloc[-1])


def accrual_days(daily: pd.DataFrame) -> pd.Series:
    """Calendar days each row's flows cover: to the next row (the last row: to the next weekday)."""
    dates = pd.to_datetime(daily["date"]).reset_index(drop=True)
    days = (dates.shift(-1) - dates).dt.days
    if len(dates):
        days.iloc[-1] = 3.0 if dates.iloc[-1].weekday() == 4 else 1.0
    return days.set_axis(daily.index)


def _per_year(col: str) -> Callable[[pd.DataFrame], float]:
    return lambda d: float(d[col].sum() * 365.0 / accrual_days(d).sum())


def _stat(col: str, how: str) -> Callable[[pd.DataFrame], float]:
    return lambda d: float(getattr(d[col], how)())


#: (label, function of the daily table, format) for each row of the table.
METRICS: tuple[tuple[str, Callable[[pd.DataFrame], float], str], ...] = (
    ("business days", lambda d: float(len(d)), "{:,.0f}"),
    ("mean reserves ($bn)", _stat("reserves", "mean"), "{:,.0f}"),
    ("min reserves ($bn)", _stat("reserves", "min"), "{:,.0f}"),
    ("final reserves ($bn)", _final("reserves"), "{:,.0f}"),
    ("min reserves / bank assets (%)", lambda d: 100 * d["reserves_to_assets"].min(), "{:.1f}"),
    ("mean ON RRP ($bn)", _stat("on_rrp", "mean"), "{:,.0f}"),
    ("final ON RRP ($bn)", _final("on_rrp"), "{:,.0f}"),
    ("mean SOFR - IORB (bp)", _stat("repo_spread_bp", "mean"), "{:.1f}"),
    ("max SOFR - IORB (bp)", _stat("repo_spread_bp", "max"), "{:.1f}"),
    ("max p99 SOFR - IORB (bp)", _stat("repo_spread_p99_bp", "max"), "{:.1f}"),
    ("days SOFR - IORB > 25 bp", lambda d: float((d["repo_spread_bp"] > 25).sum()), "{:,.0f}"),
    ("SRF use ($bn, sum of days)", _stat("srf_take_up", "sum"), "{:,.1f}"),
    ("max SRF use ($bn)", _stat("srf_take_up", "max"), "{:,.1f}"),
    ("final SOMA WAM (years)", _final("soma_wam_years"), "{:.2f}"),
    ("final SOMA bill share (%)", lambda d: 100 * d["soma_bill_share"].iloc[-1], "{:.1f}"),
    ("final term premium change (bp)", _final("term_premium_bp"), "{:+.1f}"),
    ("Fed net income ($bn/year)", _per_year("fed_net_income"), "{:,.1f}"),
    ("Fed remittances ($bn/year)", _per_year("fed_remittances"), "{:,.1f}"),
    ("max Fed deferred asset ($bn)", _stat("fed_deferred_asset", "max"), "{:,.1f}"),
    ("Treasury interest cost ($bn/year)", _per_year("treasury_interest_cost"), "{:,.0f}"),
    ("final Treasury WAM (months)", _final("treasury_wam_months"), "{:.1f}"),
    ("final private bill share (%)", lambda d: 100 * d["private_bill_share"].iloc[-1], "{:.1f}"),
)

#: (title, y label, [(column, style)]) of each panel of the figure.
PANELS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Reserves", "$bn", (("reserves", "-"),)),
    ("ON RRP", "$bn", (("on_rrp", "-"),)),
    (
        "SOFR - IORB: median (solid), 99th pct (dotted)",
        "bp",
        (("repo_spread_bp", "-"), ("repo_spread_p99_bp", ":")),
    ),
    ("SRF use", "$bn", (("srf_take_up", "-"),)),
    ("SOMA WAM", "years", (("soma_wam_years", "-"),)),
    ("SOMA bill share", "share", (("soma_bill_share", "-"),)),
    ("10y term premium vs start (duration supply)", "bp", (("term_premium_bp", "-"),)),
    ("Fed net income (21-day, annualised)", "$bn/year", (("fed_net_income", "-"),)),
    ("Treasury interest cost (21-day, annualised)", "$bn/year", (("treasury_interest_cost", "-"),)),
)
ANNUALISED = ("fed_net_income", "treasury_interest_cost")


def labels_for(names: list[str]) -> list[str]:
    """Unique labels for scenarios (a repeated name gets ``#2``, ``#3``...)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return out


def run_comparison(
    configs: Mapping[str, ScenarioConfig],
    seed: int | np.random.SeedSequence = 0,
    days: int | None = None,
    progress: bool = False,
) -> dict[str, RunResult]:
    """Simulate every scenario with the same seed (and at most `days` business days)."""
    from fedplumbing.sim.run import simulate

    return {
        label: simulate(cfg, seed, days=days, progress=progress) for label, cfg in configs.items()
    }


def comparison_table(dailies: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per metric (`METRICS`), one column per scenario; numbers unformatted."""
    rows = {label: [fn(d) for d in dailies.values()] for label, fn, _ in METRICS}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(dailies))


def markdown_table(table: pd.DataFrame, dailies: Mapping[str, pd.DataFrame]) -> str:
    """The table as Markdown, with each scenario's dates in the header."""
    fmt = {label: f for label, _, f in METRICS}
    head = ["metric"] + [
        f"{name} ({_first(d):%Y-%m-%d} to {_last(d):%Y-%m-%d})" for name, d in dailies.items()
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|---:" * len(dailies) + "|"]
    for label, row in table.iterrows():
        cells = [_format(fmt[label], v) for v in row]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _format(fmt: str, value: float) -> str:
    return fmt.format(value) if np.isfinite(value) else "n/a"


def _first(d: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(d["date"].iloc[0])


def _last(d: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(d["date"].iloc[-1])


def comparison_figure(dailies: Mapping[str, pd.DataFrame], title: str = "") -> Figure:
    """A 3x3 grid of the scenarios' paths, one colour per scenario.

    The x axis is the date when every scenario starts on the same day, otherwise years since
    each scenario's start.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(15, 11), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 3).ravel()
    same_start = len({_first(d) for d in dailies.values()}) == 1
    colours = [f"C{i}" for i in range(len(dailies))]
    for ax, (panel, unit, series) in zip(axes, PANELS, strict=True):
        for colour, (name, d) in zip(colours, dailies.items(), strict=True):
            dates = pd.to_datetime(d["date"])
            x = dates if same_start else (dates - dates.iloc[0]).dt.days / 365.25
            for col, style in series:
                y = d[col].astype(float)
                if col in ANNUALISED:  # the last day's accrual is unknown: left out
                    days = accrual_days(d).rolling(21, min_periods=1).sum()
                    y = (y.rolling(21, min_periods=1).sum() * 365.0 / days).iloc[:-1]
                label = name if style == "-" else None
                ax.plot(x.iloc[: len(y)], y, style, color=colour, lw=1.2, label=label)
        ax.set_title(panel, fontsize=10)
        ax.set_ylabel(unit)
        ax.grid(alpha=0.3)
        if same_start:
            locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        else:
            ax.set_xlabel("years since start")
    axes[0].legend(fontsize=8, loc="best")
    if title:
        fig.suptitle(title)
    return fig


def write_comparison(
    results: Mapping[str, RunResult] | Mapping[str, pd.DataFrame], out_dir: str | Path
) -> dict[str, Path]:
    """Write ``compare.md``, ``compare.csv``, ``compare.png`` and ``daily.csv`` atomically.

    Args:
        results: runs (or their daily tables) by scenario label.
        out_dir: output folder; created if missing.

    Returns:
        The paths written, keyed by ``"table"``, ``"csv"``, ``"figure"`` and ``"daily"``.

    """
    dailies = {k: getattr(v, "daily", v) for k, v in results.items()}
    table = comparison_table(dailies)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "table": out / TABLE_FILE,
        "csv": out / CSV_FILE,
        "figure": out / FIGURE_FILE,
        "daily": out / DAILY_FILE,
    }
    long = pd.concat([d.assign(scenario=name) for name, d in dailies.items()], ignore_index=True)
    long = long[["scenario", *[c for c in long.columns if c != "scenario"]]]
    with contextlib.ExitStack() as stack:
        tmp = {key: stack.enter_context(atomic_path(p)) for key, p in paths.items()}
        tmp["table"].write_text(markdown_table(table, dailies))
        table.to_csv(tmp["csv"], index_label="metric", float_format=FLOAT_FORMAT)
        fig = comparison_figure(dailies, " vs ".join(dailies))
        fig.savefig(tmp["figure"], format="png", dpi=110)
        daily_to_csv(long, tmp["daily"])
    return paths
