"""Parameter designs and run seeds: grid, Latin hypercube and Sobol points, one seed per run.

Run ``i`` is parameter point ``i // seeds``, replicate ``i % seeds`` (point-major order).
Replicate ``r`` of every point uses ``numpy.random.SeedSequence(base_seed, spawn_key=(r,))``,
the ``r``-th child of ``SeedSequence(base_seed).spawn(seeds)``: common random numbers, so two
points differ only by their parameters, never by their luck (a Morris elementary effect or a
heat-map contrast measures the parameter, not seed noise). A run's random stream depends only
on ``base_seed`` and its replicate, never on which worker runs it or when.

Sampled designs (``lhs``, ``sobol``) draw their own points from a separate stream,
``SeedSequence([base_seed, SAMPLER_STREAM])``, so the points do not depend on ``seeds`` and
never share a stream with a run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from fedplumbing.experiments.spec import ParamValue, SweepSpec

__all__ = [
    "SAMPLER_STREAM",
    "RunPoint",
    "design_points",
    "grid_points",
    "n_runs",
    "plan_runs",
    "run_seed",
    "sampled_points",
]

SAMPLER_STREAM = 0x53414D50
"""Second entropy word of the sampler's `SeedSequence` (ASCII "SAMP")."""


@dataclass(frozen=True)
class RunPoint:
    """One run of a sweep: a parameter point and a seed replicate.

    Attributes:
        run_id: Position in the sweep's deterministic order.
        point: Index of the parameter point.
        replicate: Seed replicate at that point (0-based); also the seed's spawn key.
        params: Parameter overrides, dotted config path -> value.

    """

    run_id: int
    point: int
    replicate: int
    params: dict[str, ParamValue]


def run_seed(base_seed: int, replicate: int) -> np.random.SeedSequence:
    """The seed of replicate ``replicate`` at every point of a sweep.

    ``SeedSequence(base_seed, spawn_key=(replicate,))``: common random numbers across points.
    """
    return np.random.SeedSequence(base_seed, spawn_key=(replicate,))


def grid_points(spec: SweepSpec) -> list[dict[str, ParamValue]]:
    """Return the full factorial grid; the last parameter varies fastest.

    A spec with no parameters has one point with no overrides.
    """
    names = spec.parameter_names
    grids = [p.values or () for p in spec.parameters]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grids)]


def sampled_points(spec: SweepSpec) -> list[dict[str, ParamValue]]:
    """Return ``spec.samples`` Latin hypercube or scrambled Sobol points within low/high."""
    from scipy.stats import qmc  # imported here: scipy.stats costs workers ~1 s at start-up

    assert spec.samples is not None
    d = len(spec.parameters)
    rng = np.random.default_rng(np.random.SeedSequence([spec.base_seed, SAMPLER_STREAM]))
    if spec.sampler == "lhs":
        engine = qmc.LatinHypercube(d, rng=rng)
    elif spec.sampler == "sobol":
        engine = qmc.Sobol(d, scramble=True, rng=rng)
    else:
        raise ValueError(f"sampler {spec.sampler!r} is not a sampled design")
    unit = engine.random(spec.samples)
    lows = [p.low for p in spec.parameters]
    highs = [p.high for p in spec.parameters]
    scaled = qmc.scale(unit, lows, highs)
    names = spec.parameter_names
    return [{n: float(x) for n, x in zip(names, row, strict=True)} for row in scaled]


def design_points(spec: SweepSpec) -> list[dict[str, ParamValue]]:
    """Return the spec's parameter points in their deterministic order."""
    if spec.points is not None:
        return [dict(p) for p in spec.points]
    return grid_points(spec) if spec.sampler == "grid" else sampled_points(spec)


def n_runs(spec: SweepSpec) -> int:
    """Return the number of runs (points x seeds) without building the design."""
    if spec.points is not None:
        return len(spec.points) * spec.seeds
    if spec.sampler != "grid":
        assert spec.samples is not None
        return spec.samples * spec.seeds
    n = 1
    for p in spec.parameters:
        n *= len(p.values or ())
    return n * spec.seeds


def plan_runs(spec: SweepSpec) -> list[RunPoint]:
    """Return every run of the sweep, ordered by run id (point-major, then replicate)."""
    runs: list[RunPoint] = []
    for point, params in enumerate(design_points(spec)):
        for replicate in range(spec.seeds):
            runs.append(RunPoint(len(runs), point, replicate, params))
    return runs
