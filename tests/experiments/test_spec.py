import math
import sys
import types

import pytest

import fedplumbing.sim
from fedplumbing.experiments.spec import (
    FALLBACK_SUMMARY_METRICS,
    SpecError,
    check_against_config,
    load_spec,
)
from fedplumbing.experiments.sweep import run_sweep

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
    kw.setdefault("metrics_known", FALLBACK_SUMMARY_METRICS)
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
    assert spec.metrics == FALLBACK_SUMMARY_METRICS
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


# --- validation against the scenario config, with a stand-in for fedplumbing.sim.config ---


class ConfigError(ValueError):
    pass


def fake_config_module() -> types.ModuleType:
    mod = types.ModuleType("fedplumbing.sim.config")
    fields = {"banks.lclor_scale": (0.1, 5.0), "fed.treasury_cap": (0.0, 100.0)}

    def load_scenario(name):
        if name != "default":
            raise ConfigError(f"unknown scenario {name!r}; known: default")
        return {"banks.lclor_scale": 1.0, "fed.treasury_cap": 30.0}

    def apply_overrides(config, overrides):
        new = dict(config)
        for key, value in overrides.items():
            if key not in fields:
                raise ConfigError(f"unknown field {key!r}; known: {', '.join(fields)}")
            lo, hi = fields[key]
            if not lo <= value <= hi:
                raise ConfigError(f"{key} must be in [{lo}, {hi}] (got {value})")
            new[key] = value
        if new["banks.lclor_scale"] > 4 and new["fed.treasury_cap"] > 50:
            raise ConfigError("banks.lclor_scale > 4 needs fed.treasury_cap <= 50")
        return new

    def config_hash(config):
        return str(abs(hash(tuple(sorted(config.items())))))

    mod.ConfigError = ConfigError
    mod.load_scenario = load_scenario
    mod.apply_overrides = apply_overrides
    mod.config_hash = config_hash
    return mod


@pytest.fixture
def fake_config(monkeypatch):
    mod = fake_config_module()
    monkeypatch.setitem(sys.modules, "fedplumbing.sim.config", mod)
    monkeypatch.setattr(fedplumbing.sim, "config", mod, raising=False)
    return mod


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[parameters]\n"banks.lclr" = { values = [1.0] }',
            ["parameters.banks.lclr:", "unknown field 'banks.lclr'"],
        ),
        (
            '[parameters]\n"banks.lclor_scale" = { values = [1.0, 9.0] }',
            ["parameters.banks.lclor_scale:", "must be in [0.1, 5.0] (got 9.0)"],
        ),
        (
            'sampler = "lhs"\nsamples = 4\n[parameters]\n"fed.treasury_cap" = {low = -1, high = 5}',
            ["parameters.fed.treasury_cap:", "got -1.0"],
        ),
        ('scenario = "sept2019"', ["scenario:", "cannot load 'sept2019'"]),
    ],
)
def test_config_errors_are_caught_at_load(write_spec, fake_config, text, expected):
    with pytest.raises(SpecError) as info:
        load(write_spec, text, check_config=True)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message, message


def test_check_against_config_returns_base_hash(write_spec, fake_config):
    spec = load(write_spec, '[parameters]\n"banks.lclor_scale" = { values = [0.5, 2.0] }\n')
    assert check_against_config(spec) == fake_config.config_hash(
        fake_config.load_scenario("default")
    )


def test_cross_field_errors_are_caught_before_output(write_spec, fake_config, tmp_path):
    path = write_spec("""
        [parameters]
        "banks.lclor_scale" = { values = [1.0, 4.5] }
        "fed.treasury_cap" = { values = [10.0, 60.0] }
    """)
    out = tmp_path / "out"
    with pytest.raises(SpecError, match=r"point 3 .*banks.lclor_scale=4.5.*rejected") as info:
        run_sweep(path, out, workers=1, progress=False)
    assert "\n" not in str(info.value)
    assert not out.exists()


def test_default_model_path_uses_config_and_simulate(
    write_spec, fake_config, monkeypatch, tmp_path
):
    """simulate_run: scenario -> overrides -> simulate(config, seed, days); hashes per point."""
    calls = []
    run_mod = types.ModuleType("fedplumbing.sim.run")
    run_mod.SUMMARY_METRICS = ("p99_repo_spread_bp", "min_reserves")

    def simulate(config, seed, *, days=None):
        calls.append((config, days))
        value = config["banks.lclor_scale"] * 10 + seed.spawn_key[0]
        return types.SimpleNamespace(
            summary={"p99_repo_spread_bp": value, "min_reserves": 1.0}, daily=None
        )

    run_mod.simulate = simulate
    monkeypatch.setitem(sys.modules, "fedplumbing.sim.run", run_mod)
    monkeypatch.setattr(fedplumbing.sim, "run", run_mod, raising=False)
    from fedplumbing.experiments import sweep

    sweep._base_config.cache_clear()
    path = write_spec("""
        days = 7
        seeds = 2
        [parameters]
        "banks.lclor_scale" = { values = [1.0, 2.0] }
    """)
    spec = load_spec(path)
    assert spec.metrics == ("p99_repo_spread_bp", "min_reserves")
    with pytest.raises(SpecError, match="unknown metric 'srf_total'"):
        load_spec(write_spec('metrics = ["srf_total"]\n', "bad.toml"))
    summary = run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    sweep._base_config.cache_clear()
    assert summary.ok == 4 and summary.exit_code == 0
    from fedplumbing.experiments.results import load_results, read_manifest

    frame = load_results(tmp_path / "out")
    assert frame["p99_repo_spread_bp"].tolist() == [10.0, 11.0, 22.0, 23.0]
    assert [days for _, days in calls] == [7] * 4
    hashes = frame["config_hash"].tolist()
    assert hashes[0] == hashes[1] != hashes[2] == hashes[3]
    assert read_manifest(tmp_path / "out")["config_hash"] is not None
    assert not math.isnan(frame["min_reserves"].sum())
