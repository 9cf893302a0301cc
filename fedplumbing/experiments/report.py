"""Sweep report: summary statistics per metric and figures over the swept parameters.

`report(out_dir)` reads a sweep folder (see `fedplumbing.experiments.results`) and returns a
text report; it also writes figures (matplotlib, Agg backend):

* ``heatmap_<metric>.png``: the metric over the first two swept parameters (those with more
  than one value), mean over seeds
  (and over any further parameters); sampled designs are binned.
* ``lines_<parameter>.png``: for a one-parameter sweep, each metric against the parameter, the
  mean over seeds with the min-max band of the seeds and the seeds as dots.

Figures are drawn on `matplotlib.figure.Figure` objects and saved with the Agg canvas, so the
report neither needs nor changes pyplot's backend.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import binned_statistic_2d

from fedplumbing.experiments.results import load_results, read_manifest
from fedplumbing.sim.config import setting_unit
from fedplumbing.sim.run import metric_unit

__all__ = ["DEFAULT_METRIC", "metric_table", "plot_heatmap", "plot_seed_bands", "report"]

DEFAULT_METRIC = "p99_repo_spread_bp"
MAX_POINT_ROWS = 50
MAX_ANNOTATED_CELLS = 144


def metric_table(frame: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Return count, mean, std, min, 5/50/95th percentiles and max of each metric (ok runs)."""
    ok = frame[frame["status"] == "ok"] if "status" in frame else frame
    rows = {}
    for m in metrics:
        x = ok[m].dropna().to_numpy(dtype=float) if m in ok else np.array([])
        if x.size == 0:
            rows[m] = dict.fromkeys(("n", "mean", "std", "min", "p5", "p50", "p95", "max"), np.nan)
            rows[m]["n"] = 0
            continue
        p5, p50, p95 = np.percentile(x, [5, 50, 95])
        rows[m] = {
            "n": x.size,
            "mean": x.mean(),
            "std": x.std(ddof=1) if x.size > 1 else np.nan,
            "min": x.min(),
            "p5": p5,
            "p50": p50,
            "p95": p95,
            "max": x.max(),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["n"] = table["n"].astype(int)
    return table


def report(
    out_dir: str | Path, out_figures_dir: str | Path | None = None, *, metric: str | None = None
) -> str:
    """Summarise a sweep and write its figures.

    Args:
        out_dir: The sweep folder.
        out_figures_dir: Where figures go (default ``out_dir/figures``).
        metric: Metric of the heat map and per-point table (default ``p99_repo_spread_bp``
            when the sweep kept it, else its first metric).

    Returns:
        The report text (the CLI prints it).

    Raises:
        FileNotFoundError: ``out_dir`` holds no sweep manifest.
        ValueError: ``metric`` is not one of the sweep's metrics.

    """
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    if manifest is None:
        raise FileNotFoundError(f"{out_dir}: no sweep manifest (manifest.json) found")
    spec = manifest["spec"]
    metrics: list[str] = list(spec["metrics"])
    params = [
        p["name"] for p in spec["parameters"] if spec["sampler"] != "grid" or len(p["values"]) > 1
    ]
    if metric is None:
        metric = DEFAULT_METRIC if DEFAULT_METRIC in metrics else metrics[0]
    elif metric not in metrics:
        raise ValueError(f"metric: {metric!r} is not in this sweep; kept: {', '.join(metrics)}")
    frame = load_results(out_dir)
    n_ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
    n_failed = len(frame) - n_ok

    lines = [
        _header(manifest, params),
        f"finished: {len(frame)} of {manifest['n_runs']} runs ({n_ok} ok, {n_failed} failed)",
    ]
    if n_ok:
        table = metric_table(frame, metrics)
        lines += ["", "metrics over ok runs:", table.to_string(float_format=lambda v: f"{v:.4g}")]
        if params and frame["point"].nunique() <= MAX_POINT_ROWS:
            lines += [
                "",
                f"{metric} by point (over seeds):",
                _point_table(frame, params, metric).to_string(float_format=lambda v: f"{v:.4g}"),
            ]
    if n_failed:
        lines += ["", "failures:"]
        failed = frame[frame["status"] != "ok"]
        for error, group in failed.groupby("error", sort=False, dropna=False):
            ids = ", ".join(str(i) for i in group["run_id"].head(8))
            more = ", ..." if len(group) > 8 else ""
            lines.append(f"  {len(group)} x {error} (runs {ids}{more})")

    figures: list[Path] = []
    if n_ok and params:
        fig_dir = Path(out_figures_dir) if out_figures_dir is not None else out_dir / "figures"
        fig_dir.mkdir(parents=True, exist_ok=True)
        ok = frame[frame["status"] == "ok"]
        if len(params) >= 2:
            path = fig_dir / f"heatmap_{metric}.png"
            values = {p["name"]: p.get("values") for p in spec["parameters"]}
            plot_heatmap(
                ok,
                params[0],
                params[1],
                metric,
                path,
                sampled=spec["sampler"] != "grid",
                others=params[2:],
                x_values=values[params[0]],
                y_values=values[params[1]],
                finished=frame,
            )
            figures.append(path)
        else:
            path = fig_dir / f"lines_{_safe(params[0])}.png"
            plot_seed_bands(ok, params[0], metrics, path)
            figures.append(path)
    if figures:
        lines += ["", "figures:"] + [f"  {p}" for p in figures]
    return "\n".join(lines)


def _header(manifest: dict, params: list[str]) -> str:
    spec = manifest["spec"]
    if spec["sampler"] == "grid":
        desc = ", ".join(f"{p['name']}: {len(p['values'])} values" for p in spec["parameters"])
    else:
        desc = ", ".join(
            f"{p['name']} in [{p['low']:g}, {p['high']:g}]" for p in spec["parameters"]
        )
    return (
        f"sweep {manifest.get('spec_hash', '?')}: scenario {spec['scenario']}, sampler "
        f"{spec['sampler']}, {len(params)} parameter(s) ({desc or 'none'}), "
        f"{_count(manifest['n_points'], 'point')} x {_count(spec['seeds'], 'seed')} = "
        f"{_count(manifest['n_runs'], 'run')}"
    )


def _point_table(frame: pd.DataFrame, params: list[str], metric: str) -> pd.DataFrame:
    ok = frame[frame["status"] == "ok"]
    grouped = ok.groupby("point")
    table = grouped[params].first()
    stats = grouped[metric].agg(["mean", "min", "max", "count"])
    return table.join(stats.rename(columns={"count": "seeds"}))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def plot_heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    metric: str,
    path: str | Path,
    *,
    sampled: bool = False,
    others: list[str] | None = None,
    x_values: list | None = None,
    y_values: list | None = None,
    finished: pd.DataFrame | None = None,
) -> Path:
    """Write a heat map of ``metric`` (mean over seeds) over parameters ``x`` and ``y``.

    Args:
        frame: Ok runs of a sweep.
        x: Parameter on the horizontal axis.
        y: Parameter on the vertical axis.
        metric: Metric shown in colour.
        path: Output PNG.
        sampled: Points are scattered (lhs/sobol): average within a 2-D binning.
        others: Further swept parameters, averaged over (named in the title).
        x_values: Grid values of ``x``, so that points without ok runs show as empty cells.
        y_values: Grid values of ``y``, likewise.
        finished: Every finished run, ok or failed: an empty cell reads "failed" when its
            runs failed and "not run" when none has finished yet (a partial sweep).

    Returns:
        ``path``.

    """
    path = Path(path)
    fig = Figure(figsize=(6.4, 5.0), layout="constrained")
    ax = fig.subplots()
    if sampled:
        n_bins = max(2, min(12, round(math.sqrt(frame["point"].nunique()))))
        stat, xe, ye, _ = binned_statistic_2d(
            frame[x].to_numpy(float),
            frame[y].to_numpy(float),
            frame[metric].to_numpy(float),
            "mean",
            bins=n_bins,
        )
        mesh = ax.pcolormesh(xe, ye, stat.T, cmap="viridis")
        ax.set_xlabel(_with_unit(x, setting_unit(x)))
        ax.set_ylabel(_with_unit(y, setting_unit(y)))
    else:
        grid = frame.pivot_table(index=y, columns=x, values=metric, aggfunc="mean", sort=True)
        if x_values is not None and y_values is not None:
            grid = grid.reindex(index=sorted(y_values), columns=sorted(x_values))
        mesh = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(
            range(grid.shape[1]),
            [f"{v:g}" if _num(v) else str(v) for v in grid.columns],
            rotation=45,
        )
        ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if _num(v) else str(v) for v in grid.index])
        ax.set_xlabel(_with_unit(x, setting_unit(x)))
        ax.set_ylabel(_with_unit(y, setting_unit(y)))
        if grid.size <= MAX_ANNOTATED_CELLS:
            values = grid.to_numpy(float)
            done = set(zip(finished[x], finished[y], strict=True)) if finished is not None else None
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    text = f"{v:.3g}"
                elif done is None:
                    text = "no ok run"
                else:
                    ran = (grid.columns[j], grid.index[i]) in done
                    text = "failed" if ran else "not run"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=_text_colour(mesh, v),
                )
    fig.colorbar(mesh, ax=ax, label=_with_unit(metric, metric_unit(metric)))
    over = "seeds" + (f" and {', '.join(others)}" if others else "")
    ax.set_title(f"{metric}: mean over {over}", fontsize=10)
    fig.savefig(path, dpi=120)
    return path


def _count(n: object, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 seed", "3 seeds")."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _with_unit(name: str, unit: str) -> str:
    """An axis label: the name and, when it has one, its unit."""
    return f"{name} ({unit})" if unit else name


def _text_colour(mesh: object, value: float) -> str:
    """Black on light cells, white on dark ones (and black where no run finished)."""
    if not np.isfinite(value):
        return "k"
    r, g, b, _ = mesh.cmap(mesh.norm(value))  # type: ignore[attr-defined]
    return "k" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "w"


def _num(v: object) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def plot_seed_bands(frame: pd.DataFrame, param: str, metrics: list[str], path: str | Path) -> Path:
    """Write one panel per metric against ``param``: seed mean, min-max band and seed dots.

    Args:
        frame: Ok runs of a one-parameter sweep.
        param: The swept parameter.
        metrics: Metrics, one panel each.
        path: Output PNG.

    Returns:
        ``path``.

    """
    path = Path(path)
    n = len(metrics)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    numeric = _is_numeric(frame[param])
    by_point = frame.groupby("point")
    xs = by_point[param].first()
    order = xs.sort_values(kind="stable").index if numeric else xs.index
    x_plot = xs.loc[order].to_numpy(float) if numeric else np.arange(len(order))
    for ax, m in zip(axes.flat, metrics, strict=False):
        stats = by_point[m].agg(["mean", "min", "max"]).loc[order]
        ax.fill_between(x_plot, stats["min"], stats["max"], alpha=0.25, label="seed min-max")
        ax.plot(x_plot, stats["mean"], marker="o", ms=3, label="mean over seeds")
        pos = dict(zip(order, x_plot, strict=True))
        ax.scatter(frame["point"].map(pos), frame[m], s=6, color="k", alpha=0.4, label="seeds")
        ax.set_title(_with_unit(m, metric_unit(m)), fontsize=9)
        ax.set_xlabel(_with_unit(param, setting_unit(param)))
        if not numeric:
            ax.set_xticks(x_plot, [str(v) for v in xs.loc[order]])
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.savefig(path, dpi=110)
    return path
