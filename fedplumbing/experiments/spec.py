"""Sweep specifications: parse a sweep TOML file into a validated, immutable `SweepSpec`.

A sweep is a set of parameter points (a grid, a Latin hypercube or a Sobol sample) crossed
with seed replicates. Every problem in a spec raises `SpecError` with one line that names the
field and what is allowed, before anything is written to disk.

Example::

    scenario = "default"        # scenario name or path to a scenario TOML
    days = 504                  # optional; the scenario's own horizon when omitted
    seeds = 3                   # replicates per parameter point
    base_seed = 12345
    sampler = "grid"            # "grid" | "lhs" | "sobol"
    metrics = ["p99_repo_spread_bp", "min_reserves"]
    keep_daily = false

    [parameters]
    banks.lclor_scale = { values = [0.8, 1.0, 1.2] }    # grid
    "fed.treasury_cap" = { values = [0.0, 30.0, 60.0] }

With ``sampler = "lhs"`` or ``"sobol"`` (and ``samples = N``) each parameter gives
``low``/``high`` instead of ``values``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from fedplumbing.sim.config import shown

__all__ = [
    "RESERVED_COLUMNS",
    "SAMPLERS",
    "ParameterSpec",
    "SpecError",
    "SweepSpec",
    "check_against_config",
    "known_metrics",
    "load_spec",
    "parse_spec",
]

SAMPLERS = ("grid", "lhs", "sobol")
"""Allowed values of ``sampler`` in a spec file."""

EXPLICIT = "explicit"
"""Sampler of a programmatic design (`SweepSpec.points`, e.g. a SALib sample); not in TOML."""

RESERVED_COLUMNS = (
    "run_id",
    "point",
    "replicate",
    "seed_entropy",
    "seed_spawn_key",
    "config_hash",
    "status",
    "error",
    "elapsed_s",
    "worker",
)
"""Columns of a sweep's summary rows that parameter and metric names must not shadow."""

TOP_LEVEL_KEYS = (
    "base_seed",
    "days",
    "keep_daily",
    "metrics",
    "parameters",
    "samples",
    "sampler",
    "scenario",
    "seeds",
)
PARAMETER_KEYS = ("high", "low", "values")
MAX_SEED = 2**63

type ParamValue = bool | int | float | str


class SpecError(ValueError):
    """A sweep spec is invalid; the message is one line naming the field and what is allowed."""


@dataclass(frozen=True)
class ParameterSpec:
    """One swept parameter.

    Attributes:
        name: Dotted config path, e.g. ``"banks.lclor_scale"``.
        values: Grid values (sampler ``"grid"``), else None.
        low: Lower bound (samplers ``"lhs"``/``"sobol"``), else None.
        high: Upper bound (samplers ``"lhs"``/``"sobol"``), else None.

    """

    name: str
    values: tuple[ParamValue, ...] | None = None
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (the form stored in the sweep manifest)."""
        if self.values is not None:
            return {"name": self.name, "values": list(self.values)}
        return {"name": self.name, "low": self.low, "high": self.high}

    def checked_values(self) -> tuple[ParamValue, ...]:
        """Values to check against the config: the grid values or the two bounds."""
        if self.values is not None:
            return self.values
        assert self.low is not None and self.high is not None
        return (self.low, self.high)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: parameter points x seed replicates of one scenario.

    Attributes:
        scenario: Scenario name, or an absolute path to a scenario TOML.
        parameters: Swept parameters, in file order (the grid's last parameter varies fastest).
        sampler: ``"grid"``, ``"lhs"`` or ``"sobol"``.
        samples: Number of points for ``"lhs"``/``"sobol"``; None for a grid.
        seeds: Seed replicates per point.
        base_seed: Root entropy of every run's `numpy.random.SeedSequence`.
        days: Business days per run, or None for the scenario's horizon.
        metrics: Summary metrics kept per run.
        keep_daily: Also store each run's daily DataFrame.
        points: The design of sampler ``"explicit"`` (one dict of parameter values per
            point, built by code such as `fedplumbing.experiments.sensitivity`), else None.

    """

    scenario: str
    parameters: tuple[ParameterSpec, ...]
    metrics: tuple[str, ...]
    sampler: str = "grid"
    samples: int | None = None
    seeds: int = 1
    base_seed: int = 12345
    days: int | None = None
    keep_daily: bool = False
    points: tuple[dict[str, ParamValue], ...] | None = None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the swept parameters, in order."""
        return tuple(p.name for p in self.parameters)

    def to_dict(self) -> dict[str, object]:
        """Return the canonical JSON-ready form (stored in, and compared with, the manifest)."""
        out: dict[str, object] = {
            "scenario": self.scenario,
            "days": self.days,
            "seeds": self.seeds,
            "base_seed": self.base_seed,
            "sampler": self.sampler,
            "samples": self.samples,
            "metrics": list(self.metrics),
            "keep_daily": self.keep_daily,
            "parameters": [p.to_dict() for p in self.parameters],
        }
        if self.points is not None:
            out["points"] = [dict(p) for p in self.points]
        return out

    def spec_hash(self) -> str:
        """Return a short SHA-256 of the canonical form; equal specs give equal hashes."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def known_metrics() -> tuple[str, ...]:
    """Return the summary metric names a run can produce (`fedplumbing.sim.run.SUMMARY_METRICS`)."""
    from fedplumbing.sim.run import SUMMARY_METRICS  # imported here: the engine is heavy

    return tuple(SUMMARY_METRICS)


def read_spec_toml(path: Path) -> dict:
    """Read a spec file's TOML; errors are one line prefixed with ``path``."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read spec ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: invalid TOML ({_one_line(str(exc))})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a spec file (not UTF-8 text)") from None


def load_spec(
    path: str | Path,
    *,
    metrics_known: Collection[str] | None = None,
    check_config: bool = True,
) -> SweepSpec:
    """Read and validate a sweep TOML file.

    Args:
        path: The spec file.
        metrics_known: Allowed metric names; defaults to `known_metrics()`.
        check_config: Also check every parameter value against the scenario config
            (`check_against_config`). Turn off only for models that do not use the config.

    Returns:
        The validated spec. A relative ``scenario`` path is resolved against the spec's folder.

    Raises:
        SpecError: One line, prefixed with ``path``, naming the field at fault.

    """
    path = Path(path)
    data = read_spec_toml(path)
    try:
        spec = parse_spec(data, metrics_known=metrics_known, base_dir=path.parent)
        if check_config:
            check_against_config(spec)
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    return spec


def parse_spec(
    data: Mapping[str, object],
    *,
    metrics_known: Collection[str] | None = None,
    base_dir: str | Path | None = None,
) -> SweepSpec:
    """Validate a parsed spec mapping (the TOML document) and build a `SweepSpec`.

    Args:
        data: The spec as a mapping, as `tomllib` returns it.
        metrics_known: Allowed metric names; defaults to `known_metrics()`.
        base_dir: Folder against which a relative scenario *path* is resolved.

    Returns:
        The validated spec (config-level checks are separate: `check_against_config`).

    Raises:
        SpecError: One line naming the field at fault and what is allowed.

    """
    if not isinstance(data, Mapping):
        raise SpecError("spec: expected a table of settings")
    if not data:
        # an empty file ran the whole default scenario with every metric: a mistake
        raise SpecError(
            "spec: the file is empty; give at least [parameters] (or scenario and seeds, "
            "for replicates of one scenario)"
        )
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise SpecError(f"{_unknown('key', key, TOP_LEVEL_KEYS)}")

    scenario = _scenario(data.get("scenario", "default"), base_dir)
    sampler = data.get("sampler", "grid")
    if sampler not in SAMPLERS:
        raise SpecError(f"sampler: {_unknown('sampler', sampler, SAMPLERS)}")
    samples = _samples(data.get("samples"), sampler)
    seeds = _int("seeds", data.get("seeds", 1), low=1)
    base_seed = _int("base_seed", data.get("base_seed", 12345), low=0, high=MAX_SEED - 1)
    days = None if data.get("days") is None else _int("days", data["days"], low=1)
    keep_daily = data.get("keep_daily", False)
    if not isinstance(keep_daily, bool):
        raise SpecError(f"keep_daily: expected true or false, got {shown(keep_daily)}")

    allowed_metrics = tuple(known_metrics() if metrics_known is None else metrics_known)
    metrics = _metrics(data.get("metrics", list(allowed_metrics)), allowed_metrics)
    parameters = _parameters(data.get("parameters", {}), sampler)
    _check_names(parameters, metrics)
    spec = SweepSpec(
        scenario=scenario,
        parameters=parameters,
        metrics=metrics,
        sampler=sampler,
        samples=samples,
        seeds=seeds,
        base_seed=base_seed,
        days=days,
        keep_daily=keep_daily,
    )
    _check_size(spec)
    return spec


#: Most runs a sweep may plan (its plan and manifest are built in memory, a run at a time).
MAX_RUNS = 1_000_000


def _check_size(spec: SweepSpec) -> None:
    """Refuse a sweep too large to plan (it would hang building its run list)."""
    from fedplumbing.experiments.sampling import n_runs

    runs = n_runs(spec)
    if runs > MAX_RUNS:
        raise SpecError(
            f"seeds/samples: the sweep has {runs:,} runs (points x seeds); allowed: at most "
            f"{MAX_RUNS:,} in one sweep (split it into several)"
        )


def check_against_config(spec: SweepSpec) -> str | None:
    """Check the scenario loads and each parameter value is accepted by the config.

    Every grid value (or both bounds of a sampled range) is applied alone to the base scenario
    with `fedplumbing.sim.config.apply_overrides`, so unknown keys and out-of-range values fail
    here, before any output exists.

    Args:
        spec: A parsed spec.

    Returns:
        `config_hash` of the base scenario.

    Raises:
        SpecError: ``scenario`` cannot be loaded or a parameter value is rejected.

    """
    from fedplumbing.sim import config as sim_config

    try:
        base = sim_config.load_scenario(spec.scenario)
    except (sim_config.ConfigError, OSError) as exc:
        reason = _one_line(str(exc))
        raise SpecError(f"scenario: cannot load {spec.scenario!r} ({reason})") from None
    for param in spec.parameters:
        for value in param.checked_values():
            try:
                sim_config.apply_overrides(base, {param.name: value})
            except sim_config.ConfigError as exc:
                message = _one_line(str(exc))
                if _names_another_setting(message, param.name, spec.parameter_names):
                    # a rule between settings (ON RRP <= IORB, ...) that this value breaks only
                    # with the base scenario's value of another swept setting: the sweep
                    # judges it on every point, before any output (`sweep._config_hashes`)
                    continue
                raise SpecError(f"parameters.{param.name}: {message}") from None
    # a setting with no effect: every point would run the same model
    for name, reason in sim_config.settings_without_effect(base, spec.parameter_names).items():
        raise SpecError(f"parameters.{name}: has no effect: {reason}")
    return sim_config.config_hash(base)


def _names_another_setting(message: str, name: str, swept: tuple[str, ...]) -> bool:
    """Whether a config error about `name` is about another swept setting instead."""
    field = message.split(":", 1)[0]
    return field != name and any(field.startswith(other) for other in swept if other != name)


def _scenario(value: object, base_dir: str | Path | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"scenario: expected a scenario name or TOML path, got {value!r}")
    looks_like_path = value.endswith(".toml") or "/" in value or "\\" in value
    if looks_like_path and base_dir is not None and not Path(value).is_absolute():
        candidate = (Path(base_dir) / value).resolve()
        if candidate.exists():
            return str(candidate)
    return value


def _samples(value: object, sampler: str, chooser: str = "sampler") -> int | None:
    if sampler == "grid":
        if value is not None:
            raise SpecError(
                "samples: only used with sampler = 'lhs' or 'sobol' (a grid's size "
                "is the product of its values)"
            )
        return None
    if value is None:
        raise SpecError(f"samples: required with sampler = '{sampler}' (an integer >= 1)")
    n = _int("samples", value, low=1)
    if sampler == "sobol" and n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise SpecError(
            f"samples: {chooser} 'sobol' needs a power of 2 (got {n}; use {lower} or {lower * 2})"
        )
    if chooser == "method" and n < 4:
        # Sobol' indices estimated from 1 or 2 base samples are noise with tight intervals
        raise SpecError(
            f"samples: method 'sobol' needs a base sample of at least 4 (got {n}; use 4 or more)"
        )
    return n


def _int(field: str, value: object, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"{field}: expected an integer >= {low}, got {shown(value)}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise SpecError(f"{field}: must be an integer {allowed} (got {value})")
    return value


def _metrics(value: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise SpecError(f"metrics: expected a non-empty list of names from: {', '.join(allowed)}")
    seen: list[str] = []
    for name in value:
        if not isinstance(name, str) or name not in allowed:
            raise SpecError(f"metrics: {_unknown('metric', name, allowed)}")
        if name in seen:
            raise SpecError(f"metrics: {name!r} is listed twice")
        seen.append(name)
    return tuple(seen)


def _parameters(table: object, sampler: str, chooser: str = "sampler") -> tuple[ParameterSpec, ...]:
    """The parameter table; `chooser` names the spec key that chose `sampler` in messages."""
    if not isinstance(table, Mapping):
        raise SpecError("parameters: expected a table of dotted config paths")
    leaves: list[tuple[str, Mapping[str, object]]] = []
    _collect_leaves(table, "", leaves)
    names = [name for name, _ in leaves]
    for name in names:
        if names.count(name) > 1:  # "banks.x" = {...} and [parameters.banks] x = {...}
            raise SpecError(
                f"parameters.{name}: given twice (a quoted dotted key and a nested table name "
                "the same setting); allowed: once"
            )
    params = tuple(_parameter(name, body, sampler, chooser) for name, body in leaves)
    if sampler != "grid" and not params:
        raise SpecError(
            f"parameters: {chooser} '{sampler}' needs at least one parameter with low/high"
        )
    return params


def _collect_leaves(
    table: Mapping[str, object], prefix: str, out: list[tuple[str, Mapping[str, object]]]
) -> None:
    """Flatten nested TOML tables (``banks.x = {...}``) into dotted parameter names."""
    for key, body in table.items():
        name = f"{prefix}{key}"
        if not isinstance(body, Mapping):
            raise SpecError(
                f"parameters.{name}: expected a table with values = [...] or low/high, got {body!r}"
            )
        is_namespace = all(isinstance(v, Mapping) for v in body.values())
        if not is_namespace or any(k in PARAMETER_KEYS for k in body):
            out.append((name, body))
        elif not body:
            raise SpecError(f"parameters.{name}: empty table; give values = [...] or low/high")
        else:
            _collect_leaves(body, f"{name}.", out)


def _parameter(
    name: str, body: Mapping[str, object], sampler: str, chooser: str = "sampler"
) -> ParameterSpec:
    field = f"parameters.{name}"
    for key in body:
        if key not in PARAMETER_KEYS:
            raise SpecError(f"{field}: {_unknown('key', key, PARAMETER_KEYS)}")
    has_values = "values" in body
    has_range = "low" in body or "high" in body
    if has_values and has_range:
        raise SpecError(
            f"{field}: use either values = [...] (grid) or low/high (lhs, sobol), not both"
        )
    if sampler == "grid":
        if not has_values:
            raise SpecError(
                f"{field}: sampler 'grid' needs values = [...]; low/high are for "
                "sampler = 'lhs' or 'sobol'"
            )
        return ParameterSpec(name, values=_grid_values(field, body["values"]))
    if has_values:
        grid = "sampler = 'grid'" if chooser == "sampler" else "grid sweeps (fedplumbing sweep)"
        raise SpecError(
            f"{field}: {chooser} '{sampler}' needs low/high; values = [...] is for {grid}"
        )
    low = _bound(f"{field}.low", body.get("low"))
    high = _bound(f"{field}.high", body.get("high"))
    if not low < high:
        raise SpecError(f"{field}: low ({low}) must be < high ({high})")
    return ParameterSpec(name, low=low, high=high)


def _bound(field: str, value: object) -> float:
    if value is None:
        raise SpecError(f"{field}: required (a finite number)")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{field}: expected a finite number, got {shown(value)}")
    if not math.isfinite(value):
        raise SpecError(f"{field}: must be finite (got {value})")
    return float(value)


def _grid_values(field: str, values: object) -> tuple[ParamValue, ...]:
    field = f"{field}.values"
    if not isinstance(values, list):
        raise SpecError(
            f"{field}: expected a list of numbers, booleans or strings, got {shown(values)}"
        )
    if not values:
        raise SpecError(f"{field}: empty grid; give at least one value")
    kinds = {_kind(field, v) for v in values}
    if len(kinds) > 1 and kinds != {"int", "float"}:
        raise SpecError(f"{field}: mixed types ({', '.join(sorted(kinds))}); use one type")
    if kinds == {"int", "float"}:
        values = [float(v) for v in values]
    for i, v in enumerate(values):
        if v in values[:i]:
            raise SpecError(f"{field}: duplicate value {v!r}")
    return tuple(values)


def _kind(field: str, value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError(f"{field}: non-finite value {value}; values must be finite")
        return "float"
    if isinstance(value, str):
        return "str"
    raise SpecError(
        f"{field}: unsupported value {shown(value)}; use numbers, booleans or strings (a date "
        'as a quoted "YYYY-MM-DD")'
    )


def _check_names(parameters: tuple[ParameterSpec, ...], metrics: tuple[str, ...]) -> None:
    for param in parameters:
        if param.name in RESERVED_COLUMNS or param.name in metrics:
            raise SpecError(
                f"parameters.{param.name}: name clashes with a result column; "
                f"reserved: {', '.join(RESERVED_COLUMNS)} and the metric names"
            )


def _unknown(what: str, value: object, allowed: Collection[str]) -> str:
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, list(allowed), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {what} {value!r}{hint}; allowed: {', '.join(allowed)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
