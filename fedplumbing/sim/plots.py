"""Matplotlib figures of a run: the rates corridor, the liquidity stack, reserve demand.

Figures are built with the object-oriented API on an Agg canvas (no pyplot, no GUI, no global
figure registry), so they are safe in worker processes and headless servers. In a notebook,
display one with ``IPython.display.display(fig)``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from fedplumbing.sim.outputs import atomic_path

DPI = 120

CORRIDOR_LINES = (  # column, label, colour, style
    ("discount_rate", "Discount rate", "tab:red", ":"),
    ("srf_rate", "SRF rate", "tab:orange", "--"),
    ("iorb", "IORB", "black", "-"),
    ("on_rrp_rate", "ON RRP rate", "tab:green", "--"),
)
STACK = (  # column, label, colour
    ("reserves", "Reserves", "tab:blue"),
    ("on_rrp", "ON RRP", "tab:green"),
    ("tga", "TGA", "tab:gray"),
)
SOFR_COLOUR = "tab:purple"


def _dates(daily: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(daily["date"])


def _new_figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _format_date_axis(ax: Axes, dates: pd.Series | None = None) -> None:
    if dates is not None and (dates.iloc[-1] - dates.iloc[0]).days <= 14:
        # a short run: whole days (the automatic locator chose hours for two days)
        locator: mdates.DateLocator = mdates.DayLocator()
        ax.set_xlim(dates.iloc[0], dates.iloc[-1])
    else:
        locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _with_closing_row(daily: pd.DataFrame) -> pd.DataFrame:
    """`daily` and a copy of its last row a day later, for step plots.

    A day's values hold until the next business day (``steps-post``), so without it the
    last day had no width: a one-day run drew nothing at all.
    """
    last = daily.iloc[[-1]].copy()
    last["date"] = pd.to_datetime(last["date"]) + pd.Timedelta(days=1)
    out = pd.concat([daily, last], ignore_index=True)
    out["date"] = pd.to_datetime(out["date"])
    return out


def _finite(daily: pd.DataFrame, column: str) -> bool:
    return column in daily and bool(np.isfinite(daily[column].to_numpy(float)).any())


def _corridor_panel(ax: Axes, daily: pd.DataFrame, dates: pd.Series) -> None:
    for column, label, colour, style in CORRIDOR_LINES:
        if _finite(daily, column):
            ax.plot(
                dates,
                daily[column],
                color=colour,
                ls=style,
                lw=1.2,
                label=label,
                drawstyle="steps-post",
            )
    if _finite(daily, "sofr_p1") and _finite(daily, "sofr_p99"):
        ax.fill_between(
            dates,
            daily["sofr_p1"],
            daily["sofr_p99"],
            color=SOFR_COLOUR,
            alpha=0.2,
            lw=0,
            step="post",
            label="SOFR 1st-99th pct",
        )
    if _finite(daily, "sofr_p25") and _finite(daily, "sofr_p75"):
        ax.fill_between(
            dates,
            daily["sofr_p25"],
            daily["sofr_p75"],
            color=SOFR_COLOUR,
            alpha=0.45,
            lw=0,
            step="post",
            label="SOFR 25th-75th pct",
        )
    ax.plot(
        dates,
        daily["sofr"],
        color=SOFR_COLOUR,
        lw=1.4,
        label="SOFR (median)",
        drawstyle="steps-post",
    )
    if _finite(daily, "effr"):
        ax.plot(
            dates, daily["effr"], color="tab:brown", lw=1.0, label="EFFR", drawstyle="steps-post"
        )
    _annotate_peak(ax, daily, dates)
    ax.set_ylabel("Rate (% per year)")
    ax.set_title("Rates corridor", loc="left", fontsize="medium")
    ax.grid(alpha=0.3)
    _header_legend(ax, *ax.get_legend_handles_labels())


def _annotate_peak(ax: Axes, daily: pd.DataFrame, dates: pd.Series) -> None:
    """Label the day with the widest SOFR - IORB spread, with its calendar drivers."""
    spread = (daily["sofr"] - daily["iorb"]) * 100.0
    if spread.notna().sum() == 0 or spread.max() < 10.0:
        return
    i = spread.idxmax()
    text = f"{dates.loc[i]:%d %b %Y}: SOFR - IORB {spread.loc[i]:+.0f} bp"
    drivers = str(daily["drivers"].loc[i]) if "drivers" in daily else ""
    if drivers and drivers != "nan":
        text += f"\n({drivers})"
    ax.annotate(
        text,
        xy=(dates.loc[i], daily["sofr"].loc[i]),
        xytext=(12, -4),
        textcoords="offset points",
        fontsize="small",
        va="top",
        arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.8},
    )


def _liquidity_panel(ax: Axes, daily: pd.DataFrame, dates: pd.Series) -> None:
    columns = [(c, lab, col) for c, lab, col in STACK if c in daily]
    ax.stackplot(
        dates,
        *[daily[c].fillna(0.0) for c, _, _ in columns],
        labels=[lab for _, lab, _ in columns],
        colors=[col for _, _, col in columns],
        alpha=0.8,
        step="post",
    )
    ax.set_ylabel("$ billions")
    ax.set_title("Liquidity stack", loc="left", fontsize="medium")
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    facility = _facility_use(ax, daily, dates)
    if facility is not None:
        more_handles, more_labels = facility.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    _header_legend(ax, handles, labels)


def _header_legend(ax: Axes, handles: list, labels: list[str]) -> None:
    """Put the legend above the panel, right of its title, so it never hides data."""
    ax.legend(
        handles,
        labels,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=min(len(labels), 5),
        fontsize="small",
        frameon=False,
        borderaxespad=0.2,
    )


def _facility_use(ax: Axes, daily: pd.DataFrame, dates: pd.Series) -> Axes | None:
    """Daily SRF and discount-window use as step lines on a right-hand axis, if used.

    Lines (not filled bars) keep the liquidity stack visible behind them, while a one-day
    spike still shows on a ten-year axis.
    """
    zero = pd.Series(0.0, index=daily.index)
    srf = daily.get("srf_take_up", zero).fillna(0.0).clip(lower=0.0)
    dw = daily.get("discount_window_take_up", zero).fillna(0.0).clip(lower=0.0)
    if not (srf.sum() > 0 or dw.sum() > 0):
        return None
    right = ax.twinx()
    if srf.sum() > 0:
        right.step(dates, srf, where="post", color="tab:orange", lw=1.2, label="SRF use")
    if dw.sum() > 0:
        right.step(dates, dw, where="post", color="tab:red", lw=1.2, label="Discount window use")
    right.set_ylabel("Facility use ($ billions)")
    right.set_ylim(0, max(float((srf + dw).max()) * 1.15, 1.0))
    return right


def overview_figure(daily: pd.DataFrame, title: str) -> Figure:
    """Two panels sharing the date axis: the rates corridor and the liquidity stack.

    Args:
        daily: the run's daily table (``RunResult.daily``).
        title: figure title, e.g. the scenario name and seed.

    Returns:
        The figure (Agg canvas); save it with `save_figure`.

    """
    if len(daily) == 0:
        raise ValueError("overview_figure: the daily table is empty")
    daily = _with_closing_row(daily)
    dates = _dates(daily)
    fig = _new_figure((11.0, 7.5))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    _corridor_panel(top, daily, dates)
    _liquidity_panel(bottom, daily, dates)
    _format_date_axis(bottom, dates)
    fig.suptitle(title.replace("$", r"\$"))  # a literal dollar, not mathtext
    return fig


def reserve_demand_figure(daily: pd.DataFrame) -> Figure:
    """Scatter of the repo spread to IORB against reserves / bank assets, coloured by date.

    The empirical reserve demand curve: flat when reserves are ample, steep when scarce.

    Args:
        daily: the run's daily table (``RunResult.daily``).

    Returns:
        The figure (Agg canvas).

    """
    if len(daily) == 0:
        raise ValueError("reserve_demand_figure: the daily table is empty")
    dates = _dates(daily)
    fig = _new_figure((7.5, 5.5))
    ax = fig.subplots()
    when = mdates.date2num(dates)
    points = ax.scatter(
        daily["reserves_to_assets"] * 100.0,
        daily["repo_spread_bp"],
        c=when,
        cmap="viridis",
        s=10,
        alpha=0.8,
        lw=0,
    )
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("Reserves / bank assets (%)")
    ax.set_ylabel("Repo spread to IORB (bp)")
    ax.set_title("Reserve demand: repo spread vs reserves")
    ax.grid(alpha=0.3)
    bar = fig.colorbar(points, ax=ax, label="Date")
    locator = mdates.AutoDateLocator()
    bar.ax.yaxis.set_major_locator(locator)
    bar.ax.yaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` atomically at 120 dpi; the format follows the file suffix (default PNG).

    Args:
        fig: a figure from this module (or any matplotlib Figure).
        path: destination; its folder is created if missing.

    Returns:
        The path written.

    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=DPI)
    return path
