import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fedplumbing.experiments.sampling import (
    SAMPLER_STREAM,
    design_points,
    n_runs,
    plan_runs,
    run_seed,
)

from .helpers import make_spec


def test_grid_order_last_parameter_fastest_and_point_major_runs():
    spec = make_spec("""
        seeds = 2
        [parameters]
        "a.x" = { values = [1, 2] }
        "a.y" = { values = ["u", "v", "w"] }
    """)
    points = design_points(spec)
    assert [(p["a.x"], p["a.y"]) for p in points] == list(itertools.product([1, 2], "uvw"))
    runs = plan_runs(spec)
    assert len(runs) == n_runs(spec) == 12
    assert [(r.run_id, r.point, r.replicate) for r in runs[:4]] == [
        (0, 0, 0),
        (1, 0, 1),
        (2, 1, 0),
        (3, 1, 1),
    ]
    assert all(r.run_id == r.point * 2 + r.replicate for r in runs)


def test_no_parameters_is_one_point():
    spec = make_spec("seeds = 3\n")
    assert design_points(spec) == [{}]
    assert n_runs(spec) == 3


def test_run_seed_is_spawn_child():
    children = np.random.SeedSequence(12345).spawn(50)
    for i in (0, 1, 17, 49):
        a, b = run_seed(12345, i), children[i]
        assert a.spawn_key == b.spawn_key == (i,)
        assert np.array_equal(a.generate_state(4), b.generate_state(4))
    words = {tuple(run_seed(12345, i).generate_state(2)) for i in range(200)}
    assert len(words) == 200


def test_sampler_stream_is_not_a_run_stream():
    sampler = np.random.SeedSequence([12345, SAMPLER_STREAM]).generate_state(4)
    assert not any(
        np.array_equal(sampler, run_seed(12345, i).generate_state(4)) for i in range(100)
    )


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_sampled_designs_are_in_bounds_and_reproducible(sampler):
    text = f"""
        sampler = "{sampler}"
        samples = 16
        seeds = 2
        [parameters]
        "a.x" = {{ low = -1.0, high = 3.0 }}
        "a.y" = {{ low = 100, high = 200 }}
    """
    spec = make_spec(text)
    points = design_points(spec)
    assert len(points) == 16 and n_runs(spec) == 32 and len(plan_runs(spec)) == 32
    x = np.array([p["a.x"] for p in points])
    y = np.array([p["a.y"] for p in points])
    assert x.min() >= -1 and x.max() <= 3 and y.min() >= 100 and y.max() <= 200
    assert design_points(make_spec(text)) == points
    assert design_points(make_spec(text.replace("seeds = 2", "seeds = 5"))) == points
    assert design_points(make_spec("base_seed = 1\n" + text)) != points
    if sampler == "lhs":  # one sample per stratum in every dimension
        assert sorted(np.floor((x + 1) / 4 * 16).astype(int)) == list(range(16))
        assert sorted(np.floor((y - 100) / 100 * 16).astype(int)) == list(range(16))


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=0, max_size=4), seeds=st.integers(1, 3))
def test_grid_plan_covers_the_product_exactly_once(sizes, seeds):
    params = "\n".join(f'"p.{i}" = {{ values = {list(range(n))} }}' for i, n in enumerate(sizes))
    spec = make_spec(f"seeds = {seeds}\n[parameters]\n{params}\n")
    runs = plan_runs(spec)
    assert len(runs) == n_runs(spec) == int(np.prod(sizes)) * seeds
    assert [r.run_id for r in runs] == list(range(len(runs)))
    combos = [(tuple(r.params.values()), r.replicate) for r in runs]
    assert len(set(combos)) == len(combos)
