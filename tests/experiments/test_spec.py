import pytest

from fedplumbing.experiments.spec import (
    SpecError,
    check_against_config,
    load_spec,
)
from fedplumbing.experiments.sweep import run_sweep
from fedplumbing.sim.run import SUMMARY_METRICS

GOOD = """
scenario = "default"
days = 504
seeds = 3
base_seed = 12345
sampler = "grid"
metrics = ["p99_repo_spread_bp", "min_reserves"]
keep_daily = false

[parameters]
banks.lclor_scale = { values = [0.8, 1.0, 1.2] }
"fed.treasury_cap" = { values = [0, 30.5, 60] }
"srf.enabled" = { values = [true, false] }
"""


def load(write_spec, text, **kw):
    kw.setdefault("check_config", False)
    return load_spec(write_spec(text), **kw)


def test_good_spec_parses_nested_and_quoted_keys(write_spec):
    spec = load(write_spec, GOOD)
    assert spec.parameter_names == ("banks.lclor_scale", "fed.treasury_cap", "srf.enabled")
    assert spec.parameters[1].values == (0.0, 30.5, 60.0)  # ints and floats -> floats
    assert spec.parameters[2].values == (True, False)
    assert (spec.seeds, spec.base_seed, spec.days, spec.sampler) == (3, 12345, 504, "grid")
    assert spec.metrics == ("p99_repo_spread_bp", "min_reserves")
    assert spec.spec_hash() == load(write_spec, GOOD).spec_hash()


def test_defaults_and_sampled_spec(write_spec):
    spec = load(
        write_spec,
        """
        sampler = "lhs"
        samples = 10
        [parameters]
        "a.b" = { low = 0, high = 1.5 }
    """,
    )
    assert spec.scenario == "default" and spec.seeds == 1 and spec.days is None
    assert spec.metrics == SUMMARY_METRICS
    assert (spec.parameters[0].low, spec.parameters[0].high) == (0.0, 1.5)


def test_parameter_order_changes_the_hash(write_spec):
    a = load(write_spec, '[parameters]\n"x.a" = {values=[1]}\n"x.b" = {values=[2]}\n')
    b = load(write_spec, '[parameters]\n"x.b" = {values=[2]}\n"x.a" = {values=[1]}\n')
    assert a.spec_hash() != b.spec_hash()


def test_relative_scenario_path_is_resolved(write_spec, tmp_path):
    (tmp_path / "my.toml").write_text("")
    spec = load(write_spec, 'scenario = "my.toml"\n')
    assert spec.scenario == str(tmp_path / "my.toml")


BAD = [
    ("sampels = 3", ["unknown key 'sampels'", "did you mean 'samples'", "allowed:"]),
    ('sampler = "lhc"', ["sampler:", "unknown sampler 'lhc'", "grid, lhs, sobol"]),
    ("seeds = 0", ["seeds:", ">= 1", "got 0"]),
    ('seeds = "3"', ["seeds:", "expected an integer"]),
    ("base_seed = -1", ["base_seed:", "got -1"]),
    ("days = 0", ["days:", ">= 1"]),
    ('keep_daily = "yes"', ["keep_daily:", "true or false"]),
    ('metrics = ["p99_spread"]', ["metrics:", "unknown metric 'p99_spread'", "p99_repo_spread_bp"]),
    ("metrics = []", ["metrics:", "non-empty list"]),
    ('metrics = ["srf_total", "srf_total"]', ["metrics:", "listed twice"]),
    ('[parameters]\n"a.b" = { values = [] }', ["parameters.a.b.values", "empty grid"]),
    ('[parameters]\n"a.b" = { values = [1.0, nan] }', ["parameters.a.b.values", "non-finite"]),
    ('[parameters]\n"a.b" = { values = [1, "x"] }', ["parameters.a.b.values", "mixed types"]),
    ('[parameters]\n"a.b" = { values = [1, 1] }', ["parameters.a.b.values", "duplicate"]),
    (
        '[parameters]\n"a.b" = { value = [1] }',
        ["parameters.a.b", "unknown key 'value'", "did you mean 'values'"],
    ),
    ('[parameters]\n"a.b" = 3', ["parameters.a.b", "expected a table"]),
    (
        '[parameters]\n"a.b" = { low = 0, high = 1 }',
        ["parameters.a.b", "sampler 'grid' needs values"],
    ),
    ('[parameters]\n"a.b" = { values = [1], low = 0 }', ["parameters.a.b", "not both"]),
    ("[parameters]\nstatus = { values = [1] }", ["parameters.status", "clashes"]),
    (
        'sampler = "lhs"\nsamples = 4\n[parameters]\n"a.b" = { low = 2, high = 1 }',
        ["parameters.a.b", "low (2.0) must be < high (1.0)"],
    ),
    (
        'sampler = "lhs"\nsamples = 4\n[parameters]\n"a.b" = { low = 1, high = 1 }',
        ["parameters.a.b", "must be < high"],
    ),
    (
        'sampler = "lhs"\nsamples = 4\n[parameters]\n"a.b" = { low = 0, high = inf }',
        ["parameters.a.b.high", "finite"],
    ),
    (
        'sampler = "lhs"\nsamples = 4\n[parameters]\n"a.b" = { low = 0 }',
        ["parameters.a.b.high", "required"],
    ),
    (
        'sampler = "lhs"\nsamples = 4\n[parameters]\n"a.b" = { values = [1] }',
        ["parameters.a.b", "needs low/high"],
    ),
    ('sampler = "lhs"\n[parameters]\n"a.b" = { low = 0, high = 1 }', ["samples:", "required"]),
    ('sampler = "lhs"\nsamples = 4', ["parameters:", "at least one parameter"]),
    (
        'sampler = "sobol"\nsamples = 100\n[parameters]\n"a.b" = { low = 0, high = 1 }',
        ["samples:", "power of 2", "64 or 128"],
    ),
    ("samples = 8", ["samples:", "only used with sampler"]),
    ("seeds = [", ["invalid TOML"]),
    # an empty file ran the whole default scenario with every metric
    ("# nothing but a comment", ["spec:", "the file is empty", "[parameters]"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD, ids=[b[0].splitlines()[-1] for b in BAD])
def test_spec_errors_are_one_clear_line(write_spec, text, expected):
    with pytest.raises(SpecError) as info:
        load(write_spec, text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{write_spec.path}: ")
    for part in expected:
        assert part in message, message


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="cannot read spec"):
        load_spec(tmp_path / "nope.toml")


def test_invalid_spec_writes_nothing(write_spec, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(SpecError):
        run_sweep(write_spec("seeds = 0\n"), out, workers=1, progress=False)
    assert not out.exists()


# --- validation against the real scenario config ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[parameters]\n"banks.lclr" = { values = [1.0] }',
            ["parameters.banks.lclr:", "unknown setting 'banks.lclr'", "lclor_scale"],
        ),
        (
            '[parameters]\n"banks.lclor_scale" = { values = [1.0, 11.0] }',
            ["parameters.banks.lclor_scale:", "11 is out of range", "0 to 10"],
        ),
        (
            'sampler = "lhs"\nsamples = 4\n[parameters]\n"fed.treasury_cap" = {low = -1, high = 5}',
            ["parameters.fed.treasury_cap:", "-1 is out of range"],
        ),
        ('scenario = "sept2019x"', ["scenario:", "cannot load 'sept2019x'"]),
    ],
)
def test_config_errors_are_caught_at_load(write_spec, text, expected):
    with pytest.raises(SpecError) as info:
        load(write_spec, text, check_config=True)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, message


def test_check_against_config_returns_base_hash(write_spec):
    from fedplumbing.sim.config import config_hash, load_scenario

    spec = load(write_spec, '[parameters]\n"banks.lclor_scale" = { values = [0.5, 2.0] }\n')
    assert check_against_config(spec) == config_hash(load_scenario("default"))


def test_cross_field_errors_are_caught_before_output(write_spec, tmp_path):
    path = write_spec("""
        [parameters]
        "population.banks" = { values = [300, 400] }
        "population.repo_active_banks" = { values = [30, 350] }
    """)
    out = tmp_path / "out"
    with pytest.raises(SpecError, match=r"point 1 .*repo_active_banks=350.*rejected") as info:
        run_sweep(path, out, workers=1, progress=False)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_a_corridor_grid_is_judged_point_by_point(write_spec, tmp_path):
    """IORB 1.2 alone breaks ON RRP <= IORB with the base ON RRP (1.25), not with the swept one."""
    grid = '[parameters]\n"rates.on_rrp" = { values = [0.5, HIGH] }\n'
    grid += '"rates.iorb" = { values = [1.2, 1.5] }\n'
    spec = load(write_spec, grid.replace("HIGH", "1.0"), check_config=True)
    assert len(spec.parameters) == 2  # every point has ON RRP <= IORB: accepted
    path = write_spec(grid.replace("HIGH", "1.3"), name="bad.toml")
    out = tmp_path / "out"
    with pytest.raises(SpecError, match=r"point 2 \(rates.on_rrp=1.3, rates.iorb=1.2\) rejected"):
        run_sweep(path, out, workers=1, progress=False)
    assert not out.exists()
    # a value that breaks the rule against an unswept setting is still refused at once
    with pytest.raises(SpecError, match=r"parameters.rates.iorb: rates.on_rrp: ON RRP rate 1.25%"):
        load(
            write_spec, '[parameters]\n"rates.iorb" = { values = [1.2, 1.5] }\n', check_config=True
        )


def test_metrics_default_to_the_engine_summary_metrics(write_spec):
    from fedplumbing.sim.run import SUMMARY_METRICS

    assert load(write_spec, "seeds = 2\n").metrics == SUMMARY_METRICS
