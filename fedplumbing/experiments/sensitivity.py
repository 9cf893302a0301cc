"""Global sensitivity analysis (SALib): Sobol' or Morris indices of run metrics.

A sensitivity spec is a TOML file like a sweep spec (see `fedplumbing.experiments.spec`), with
``method`` instead of ``sampler`` and ``low``/``high`` bounds for every parameter::

    scenario = "default"
    days = 252
    method = "sobol"          # "sobol" (S1 and ST, Saltelli/Jansen estimators) | "morris"
    samples = 32              # sobol: base sample N, a power of 2 -> N * (D + 2) points
                              # morris: trajectories r -> r * (D + 1) points
    seeds = 2                 # replicates per point; metrics are averaged over them
    base_seed = 7
    metrics = ["p99_repo_spread_bp", "mean_repo_spread_bp"]
    levels = 4                # morris only: grid levels
    second_order = false      # sobol only: also second-order indices (N * (2D + 2) points)

    [parameters]
    "banks.lclor_scale" = { low = 0.6, high = 1.4 }
    "banks.shock_share" = { low = 0.003, high = 0.009 }

The design is drawn by SALib (from ``base_seed``) and run as an ordinary sweep with an explicit
design (`run_sweep`): one Parquet file per run, resumable, on a process pool or a Dask cluster.
Each point's metric is the mean over its seeds (the seed noise then averages out of the
indices instead of being attributed to the parameters). Outputs, next to the sweep's files:
``sensitivity.csv``, ``sensitivity.md``, ``sensitivity.json`` and ``sensitivity.png``.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fedplumbing.experiments.spec import (
    ParameterSpec,
    SpecError,
    SweepSpec,
    _int,
    _metrics,
    _one_line,
    _parameters,
    _samples,
    _scenario,
    _unknown,
    known_metrics,
    read_spec_toml,
)

__all__ = [
    "METHODS",
    "SensitivitySpec",
    "analyze",
    "design",
    "load_sensitivity_spec",
    "parse_sensitivity_spec",
    "run_sensitivity",
    "write_outputs",
]

METHODS = ("sobol", "morris")
TOP_LEVEL_KEYS = (
    "base_seed",
    "days",
    "levels",
    "method",
    "metrics",
    "parameters",
    "samples",
    "scenario",
    "second_order",
    "seeds",
)
DESIGN_STREAM = 0x53454E53  # ASCII "SENS": the design's own seed stream
NUM_RESAMPLES = 200
MAX_POINTS = 100_000


@dataclass(frozen=True)
class SensitivitySpec:
    """A validated sensitivity spec (see the module docs for the fields)."""

    scenario: str
    parameters: tuple[ParameterSpec, ...]
    metrics: tuple[str, ...]
    method: str = "sobol"
    samples: int = 32
    seeds: int = 1
    base_seed: int = 12345
    days: int | None = None
    levels: int = 4
    second_order: bool = False

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem: names and bounds."""
        return {
            "num_vars": len(self.parameters),
            "names": [p.name for p in self.parameters],
            "bounds": [[p.low, p.high] for p in self.parameters],
        }

    def n_points(self) -> int:
        """Design points before seeds."""
        d = len(self.parameters)
        if self.method == "morris":
            return self.samples * (d + 1)
        return self.samples * (2 * d + 2 if self.second_order else d + 2)


def load_sensitivity_spec(path: str | Path) -> SensitivitySpec:
    """Read and validate a sensitivity spec; errors are one line prefixed with ``path``."""
    path = Path(path)
    data = read_spec_toml(path)
    try:
        spec = parse_sensitivity_spec(data, base_dir=path.parent)
        _check_config(spec)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    return spec


def parse_sensitivity_spec(
    data: Mapping[str, object], base_dir: str | Path | None = None
) -> SensitivitySpec:
    """Validate a parsed sensitivity spec (without loading the scenario)."""
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            hint = " (sensitivity specs use method, not sampler)" if key == "sampler" else ""
            raise SpecError(_unknown("key", key, TOP_LEVEL_KEYS) + hint)
    method = data.get("method", "sobol")
    if method not in METHODS:
        raise SpecError(f"method: {_unknown('method', method, METHODS)}")
    samples = data.get("samples")
    if samples is None:
        raise SpecError(
            "samples: required (sobol: base sample size, a power of 2; morris: trajectories)"
        )
    samples = (
        _samples(samples, "sobol", "method")
        if method == "sobol"
        else _int("samples", samples, low=2)
    )
    levels = _int("levels", data.get("levels", 4), low=2)
    if method == "sobol" and "levels" in data:
        raise SpecError("levels: only used with method = 'morris'")
    if levels % 2:
        raise SpecError(f"levels: must be even (got {levels})")
    second_order = data.get("second_order", False)
    if not isinstance(second_order, bool):
        raise SpecError(f"second_order: expected true or false, got {second_order!r}")
    if method == "morris" and second_order:
        raise SpecError("second_order: only used with method = 'sobol'")
    parameters = _parameters(data.get("parameters", {}), method, "method")
    if method == "sobol" and second_order and len(parameters) < 2:
        raise SpecError("second_order: needs at least two parameters")
    allowed = known_metrics()
    metrics = _metrics(data.get("metrics", ["p99_repo_spread_bp"]), allowed)
    spec = SensitivitySpec(
        scenario=_scenario(data.get("scenario", "default"), base_dir),
        parameters=parameters,
        metrics=metrics,
        method=method,
        samples=samples,
        seeds=_int("seeds", data.get("seeds", 1), low=1),
        base_seed=_int("base_seed", data.get("base_seed", 12345), low=0, high=2**63 - 1),
        days=None if data.get("days") is None else _int("days", data["days"], low=1),
        levels=levels,
        second_order=second_order,
    )
    if spec.n_points() * spec.seeds > MAX_POINTS:
        raise SpecError(
            f"samples: {spec.n_points()} points x {spec.seeds} seeds is over {MAX_POINTS} runs"
        )
    return spec


def _check_config(spec: SensitivitySpec) -> None:
    """Every parameter must be a real-valued setting that accepts both bounds."""
    from fedplumbing.sim.config import (
        ConfigError,
        apply_overrides,
        config_to_dict,
        load_scenario,
        lookup,
        settings_without_effect,
    )

    try:
        base = load_scenario(spec.scenario)
    except (ConfigError, OSError) as exc:
        raise SpecError(
            f"scenario: cannot load {spec.scenario!r} ({_one_line(str(exc))})"
        ) from None
    values = config_to_dict(base)
    for p in spec.parameters:
        node = lookup(values, p.name)
        if node is not None and (isinstance(node, bool) or not isinstance(node, float)):
            kind = type(node).__name__
            raise SpecError(
                f"parameters.{p.name}: sensitivity needs a real-valued setting (this one is "
                f"{kind}); sweep it on a grid instead"
            )
        for value in (p.low, p.high):
            try:
                apply_overrides(base, {p.name: value})
            except ConfigError as exc:
                raise SpecError(f"parameters.{p.name}: {_one_line(str(exc))}") from None
    # a setting with no effect has indices of zero by construction, as `sweep` refuses it
    names = tuple(p.name for p in spec.parameters)
    for name, reason in settings_without_effect(base, names).items():
        raise SpecError(f"parameters.{name}: has no effect: {reason}")


def design(spec: SensitivitySpec) -> np.ndarray:
    """The SALib design matrix (points x parameters), reproducible from ``base_seed``."""
    seed = int(np.random.SeedSequence([spec.base_seed, DESIGN_STREAM]).generate_state(1)[0])
    if spec.method == "morris":
        from SALib.sample import morris

        return morris.sample(spec.problem, spec.samples, num_levels=spec.levels, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(
        spec.problem, spec.samples, calc_second_order=spec.second_order, scramble=True, seed=seed
    )


def sweep_spec(spec: SensitivitySpec, x: np.ndarray) -> SweepSpec:
    """The sweep that runs design ``x`` (an explicit design) with the spec's seeds."""
    names = [p.name for p in spec.parameters]
    points = tuple({n: float(v) for n, v in zip(names, row, strict=True)} for row in x)
    return SweepSpec(
        scenario=spec.scenario,
        parameters=spec.parameters,
        metrics=spec.metrics,
        sampler="explicit",
        samples=len(points),
        seeds=spec.seeds,
        base_seed=spec.base_seed,
        days=spec.days,
        points=points,
    )


def point_means(frame: pd.DataFrame, n_points: int, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Mean of each metric over the ok seeds of each point (NaN where a point has none)."""
    ok = frame[frame["status"] == "ok"] if len(frame) else frame
    if ok.empty:
        return pd.DataFrame(np.nan, index=range(n_points), columns=list(metrics))
    means = ok.groupby("point")[list(metrics)].mean()
    return means.reindex(range(n_points))


def analyze(spec: SensitivitySpec, x: np.ndarray, y: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices of every metric: one row per (metric, parameter).

    Sobol': ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (95% bootstrap intervals). Morris:
    ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``. A metric constant over the design gets
    zero indices and ``note = "constant"``.
    """
    seed = int(np.random.SeedSequence([spec.base_seed, DESIGN_STREAM, 1]).generate_state(1)[0])
    rows = []
    pairs = []  # second-order Sobol' indices (`second_order = true`)
    names = [p.name for p in spec.parameters]
    for metric in spec.metrics:
        values = y[metric].to_numpy(float)
        if np.ptp(values) <= 1e-12 * max(1.0, float(np.abs(values).max())):
            for name in names:
                rows.append({"metric": metric, "parameter": name, "note": "constant"})
            continue
        if spec.method == "morris":
            from SALib.analyze import morris

            si = morris.analyze(
                spec.problem,
                x,
                values,
                num_levels=spec.levels,
                num_resamples=NUM_RESAMPLES,
                seed=seed,
            )
            keys = ("mu", "mu_star", "mu_star_conf", "sigma")
        else:
            from SALib.analyze import sobol

            si = sobol.analyze(
                spec.problem,
                values,
                calc_second_order=spec.second_order,
                num_resamples=NUM_RESAMPLES,
                seed=seed,
            )
            keys = ("S1", "S1_conf", "ST", "ST_conf")
            if spec.second_order:
                for i, j in itertools.combinations(range(len(names)), 2):
                    pairs.append(
                        {
                            "metric": metric,
                            "parameters": f"{names[i]} x {names[j]}",
                            "S2": float(si["S2"][i, j]),
                            "S2_conf": float(si["S2_conf"][i, j]),
                        }
                    )
        for i, name in enumerate(names):
            rows.append({"metric": metric, "parameter": name, **{k: float(si[k][i]) for k in keys}})
    table = pd.DataFrame(rows)
    fill = (
        ("mu", "mu_star", "mu_star_conf", "sigma")
        if spec.method == "morris"
        else ("S1", "S1_conf", "ST", "ST_conf")
    )
    for key in fill:
        table[key] = table[key].fillna(0.0) if key in table else 0.0
    table["note"] = table["note"].fillna("") if "note" in table else ""
    table = table[["metric", "parameter", *fill, "note"]]
    if spec.method == "sobol" and spec.second_order:
        table.attrs["second_order"] = pairs  # metric, parameters, S2, S2_conf
    return table


def run_sensitivity(
    spec: SensitivitySpec | str | Path, out_dir: str | Path, **sweep_kwargs: Any
) -> tuple[pd.DataFrame | None, Any]:
    """Draw the design, run it as a sweep into ``out_dir`` and compute the indices.

    Args:
        spec: A `SensitivitySpec` or the path of its TOML file.
        out_dir: Folder of the sweep and of the sensitivity outputs.
        **sweep_kwargs: Passed to `run_sweep` (workers, scheduler, dask_local, resume,
            progress, executor).

    Returns:
        ``(indices, sweep summary)``; indices are None unless every run of the design is
        stored and ok (a point averaged over fewer seeds than the others would bias them).

    Raises:
        SpecError: Invalid spec or output folder (nothing written).

    """
    from fedplumbing.experiments.results import load_results
    from fedplumbing.experiments.sweep import run_sweep

    if not isinstance(spec, SensitivitySpec):
        spec = load_sensitivity_spec(spec)
    x = design(spec)
    summary = run_sweep(sweep_spec(spec, x), out_dir, **sweep_kwargs)
    frame = load_results(out_dir)
    ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
    if ok < len(x) * spec.seeds:
        return None, summary
    y = point_means(frame, len(x), spec.metrics)
    if y.isna().any().any():
        return None, summary
    table = analyze(spec, x, y)
    write_outputs(spec, table, out_dir)
    return table, summary


def write_outputs(spec: SensitivitySpec, table: pd.DataFrame, out_dir: str | Path) -> dict:
    """Write ``sensitivity.csv``, ``.md``, ``.json`` and the bar chart ``.png`` atomically."""
    from fedplumbing.experiments.results import write_bytes_atomic, write_json_atomic

    out = Path(out_dir)
    paths = {k: out / f"sensitivity.{k}" for k in ("csv", "md", "json", "png")}
    write_bytes_atomic(table.to_csv(index=False, float_format="%.6g").encode(), paths["csv"])
    write_bytes_atomic(markdown(spec, table).encode(), paths["md"])
    write_json_atomic(
        {
            "spec": {
                **dataclasses.asdict(spec),
                "parameters": [p.to_dict() for p in spec.parameters],
            },
            "points": spec.n_points(),
            "runs": spec.n_points() * spec.seeds,
            "indices": table.to_dict(orient="records"),
            "second_order": table.attrs.get("second_order", []),
        },
        paths["json"],
    )
    buffer = io.BytesIO()
    plot_indices(spec, table).savefig(buffer, format="png", dpi=110)
    write_bytes_atomic(buffer.getvalue(), paths["png"])
    return paths


def markdown(spec: SensitivitySpec, table: pd.DataFrame) -> str:
    """Markdown table of the indices, one section per metric."""
    if spec.method == "morris":
        head = "| parameter | mu* | mu* 95% | mu | sigma |\n|---|---:|---:|---:|---:|"
        cols = ("mu_star", "mu_star_conf", "mu", "sigma")
        about = "Morris elementary effects (mu*: mean absolute effect, in the metric's units)"
    else:
        head = "| parameter | S1 | S1 95% | ST | ST 95% |\n|---|---:|---:|---:|---:|"
        cols = ("S1", "S1_conf", "ST", "ST_conf")
        about = "Sobol' indices (S1: first order, ST: total effect; shares of variance)"
    lines = [
        f"# Sensitivity: {spec.scenario}",
        "",
        f"{about}; {spec.n_points()} points x {spec.seeds} seeds (metrics averaged over seeds)"
        + (f", {spec.days} days per run" if spec.days else "")
        + ".",
    ]
    for metric, group in table.groupby("metric", sort=False):
        lines += ["", f"## {metric}", "", head]
        key = cols[0] if spec.method == "morris" else "ST"
        for _, r in group.sort_values(key, ascending=False).iterrows():
            note = f" ({r['note']})" if r["note"] else ""
            cells = " | ".join(f"{r[c]:.3g}" for c in cols)
            lines.append(f"| `{r['parameter']}`{note} | {cells} |")
        pairs = [p for p in table.attrs.get("second_order", []) if p["metric"] == metric]
        if pairs:
            lines += ["", "| parameters | S2 | S2 95% |", "|---|---:|---:|"]
            for p in sorted(pairs, key=lambda p: -p["S2"]):
                lines.append(f"| `{p['parameters']}` | {p['S2']:.3g} | {p['S2_conf']:.3g} |")
    return "\n".join(lines) + "\n"


def plot_indices(spec: SensitivitySpec, table: pd.DataFrame):
    """Bar chart: one panel per metric, bars per parameter (S1/ST or mu*/sigma)."""
    from matplotlib.figure import Figure

    metrics = list(dict.fromkeys(table["metric"]))
    cols = min(2, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    n_par = len(spec.parameters)
    fig = Figure(
        figsize=(1.2 + 5.2 * cols, 0.9 + (0.35 * n_par + 1.0) * rows), layout="constrained"
    )
    axes = fig.subplots(rows, cols, squeeze=False)
    if spec.method == "morris":
        bars = (("mu_star", "mu_star_conf", "mu*"), ("sigma", None, "sigma"))
    else:
        bars = (("S1", "S1_conf", "S1 (first order)"), ("ST", "ST_conf", "ST (total)"))
    for ax, metric in zip(axes.flat, metrics, strict=False):
        group = table[table["metric"] == metric]
        pos = np.arange(len(group))
        height = 0.38
        for j, (col, conf, label) in enumerate(bars):
            ax.barh(
                pos + (j - 0.5) * height,
                group[col],
                height,
                xerr=group[conf] if conf else None,
                capsize=2,
                label=label,
            )
        ax.set_yticks(pos, group["parameter"], fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="k", lw=0.6)
        ax.set_title(metric, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(
        f"{'Morris' if spec.method == 'morris' else 'Sobol'} sensitivity, {spec.scenario} "
        f"({spec.n_points()} points x {spec.seeds} seeds)",
        fontsize=10,
    )
    return fig
