"""Sensitivity analysis: spec errors, indices of a known function, a tiny real Morris run."""

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fedplumbing.experiments.sensitivity import (
    SensitivitySpec,
    design,
    load_sensitivity_spec,
    run_sensitivity,
)
from fedplumbing.experiments.spec import ParameterSpec, SpecError

from .small_model import write_small_scenario

GOOD = """
    scenario = "default"
    days = 30
    method = "sobol"
    samples = 16
    seeds = 2
    metrics = ["p99_repo_spread_bp", "min_reserves"]
    [parameters]
    "banks.lclor_scale" = { low = 0.6, high = 1.4 }
    "mmfs.repo_premium_bp" = { low = 0.0, high = 6.0 }
"""

BAD = [
    ('method = "fast"', "unknown method 'fast'"),
    ('sampler = "grid"', "use method, not sampler"),
    ("samples = 12", "method 'sobol' needs a power of 2"),
    ('method = "morris"\nlevels = 3', "levels: must be even"),
    ("levels = 4", "only used with method = 'morris'"),
    ('metrics = ["p99"]', "unknown metric 'p99'"),
    ('[parameters]\n"banks.lclor_scale" = { values = [1, 2] }', "method 'sobol' needs low/high"),
    ('[parameters]\n"banks.lclor_scale" = { low = 2, high = 1 }', "must be < high"),
    ('[parameters]\n"banks.lclor_scale" = { low = 0.5, high = 50 }', "out of range"),
    ('[parameters]\n"population.banks" = { low = 50, high = 100 }', "real-valued setting"),
    ('[parameters]\n"banks.nope" = { low = 0, high = 1 }', "unknown setting 'banks.nope'"),
    # the SRF is off in the default scenario: its stigma changes nothing (sweep refuses it)
    ('[parameters]\n"fed.srf_stigma_bp" = { low = 0, high = 100 }', "has no effect: the SRF"),
]


def spec_text(change: str) -> str:
    lines = textwrap.dedent(GOOD).strip().splitlines()
    key = change.split("=")[0].strip()
    if change.startswith("[parameters]"):
        lines = lines[: lines.index("[parameters]")]
        return "\n".join(lines) + "\n" + change + "\n"
    lines = [ln for ln in lines if ln.split("=")[0].strip() != key]
    head = lines.index("[parameters]")
    return "\n".join(change.splitlines() + lines[:head] + lines[head:]) + "\n"


def _small_spec_argv(tmp_path: Path, body: str) -> tuple[list[str], Path]:
    """Write the small scenario and a spec over it; the CLI arguments and the out folder."""
    write_small_scenario(tmp_path)
    path = tmp_path / "sens.toml"
    path.write_text('scenario = "small.toml"\n' + textwrap.dedent(body))
    out = tmp_path / "out"
    return ["sensitivity", str(path), "--out", str(out), "--workers", "1", "-q"], out


@pytest.mark.parametrize(("change", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_specs_give_one_line(tmp_path, change, message):
    path = tmp_path / "sens.toml"
    path.write_text(spec_text(change))
    with pytest.raises(SpecError) as info:
        load_sensitivity_spec(path)
    text = str(info.value)
    assert message in text and "\n" not in text and text.startswith(str(path))


def test_a_spec_without_parameters_names_its_method(tmp_path):
    path = tmp_path / "sens.toml"
    path.write_text('method = "morris"\nsamples = 4\n')
    with pytest.raises(SpecError, match="method 'morris' needs at least one parameter"):
        load_sensitivity_spec(path)


def test_good_spec_and_design_size(tmp_path):
    path = tmp_path / "sens.toml"
    path.write_text(textwrap.dedent(GOOD))
    spec = load_sensitivity_spec(path)
    x = design(spec)
    assert x.shape == (16 * (2 + 2), 2) == (spec.n_points(), 2)
    assert np.array_equal(x, design(spec))  # reproducible from base_seed
    assert (x[:, 0] >= 0.6).all() and (x[:, 0] <= 1.4).all()


def linear_model(request, seed):
    """y = 10 a + b + small seed noise: a dominates."""
    over = request["overrides"]
    a, b = over["x.a"], over["x.b"]
    noise = np.random.default_rng(seed).normal(0.0, 0.01)
    value = 10.0 * a + b + noise
    return {"p99_repo_spread_bp": value, "min_reserves": 5.0}, None


@pytest.mark.parametrize("method", ["sobol", "morris"])
def test_indices_rank_a_known_function(tmp_path, method):
    spec = SensitivitySpec(
        scenario="default",
        parameters=(
            ParameterSpec("x.a", low=0.0, high=1.0),
            ParameterSpec("x.b", low=0.0, high=1.0),
        ),
        metrics=("p99_repo_spread_bp", "min_reserves"),
        method=method,
        samples=64 if method == "sobol" else 10,
        seeds=2,
    )
    table, summary = run_sensitivity(
        spec, tmp_path / "out", workers=1, progress=False, run_fn=linear_model
    )
    assert summary.ok == spec.n_points() * 2
    rows = table[table["metric"] == "p99_repo_spread_bp"].set_index("parameter")
    if method == "sobol":
        assert rows.loc["x.a", "ST"] > 0.9 and rows.loc["x.b", "ST"] < 0.1
        assert rows.loc["x.a", "S1"] == pytest.approx(100 / 101, abs=0.08)
    else:
        assert rows.loc["x.a", "mu_star"] == pytest.approx(10.0, rel=0.05)
        assert rows.loc["x.b", "mu_star"] == pytest.approx(1.0, rel=0.1)
    const = table[table["metric"] == "min_reserves"]
    assert (const["note"] == "constant").all()
    for ext in ("csv", "md", "json", "png"):
        assert (tmp_path / "out" / f"sensitivity.{ext}").stat().st_size > 0
    stored = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert list(stored["parameter"]) == list(table["parameter"])  # same rows, same order
    index = "ST" if method == "sobol" else "mu_star"
    np.testing.assert_allclose(stored[index], table[index].astype(float), atol=1e-4, equal_nan=True)


@pytest.mark.timeout(300)
def test_tiny_real_morris_run_via_cli(tmp_path, capsys):
    from fedplumbing.sim.cli import main

    argv, out = _small_spec_argv(
        tmp_path,
        """
        days = 25
        method = "morris"
        samples = 2
        metrics = ["mean_repo_spread_bp", "min_reserves"]
        [parameters]
        "initial.reserves" = { low = 1100.0, high = 2300.0 }
        "mmfs.repo_premium_bp" = { low = 0.0, high = 6.0 }
    """,
    )
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "## mean_repo_spread_bp" in text and "initial.reserves" in text
    table = pd.read_csv(out / "sensitivity.csv").set_index(["metric", "parameter"])
    # reserves move min_reserves far more than the MMF premium does
    assert (
        table.loc[("min_reserves", "initial.reserves"), "mu_star"]
        > table.loc[("min_reserves", "mmfs.repo_premium_bp"), "mu_star"]
    )
    # rerun: every run is skipped, indices are recomputed identically
    assert main(argv) == 0
    assert "6 skipped" in capsys.readouterr().out


def test_a_setting_that_does_nothing_gets_no_effect(tmp_path):
    """Common random numbers: points of a replicate share their draws, so a setting with no
    effect (repo operations' size while their trigger, 4000 bp, is never reached) gets mu*
    of exactly zero. (With no trigger at all the spec is refused: `test_specs`.)

    With a stream per run, as sweeps had, neighbouring Morris points differed by their luck
    too, and this setting got mu* of 31 +- 24 bp on the 99th-percentile spread.
    """
    from fedplumbing.sim.cli import main

    argv, out = _small_spec_argv(
        tmp_path,
        """
        days = 25
        method = "morris"
        samples = 2
        seeds = 2
        metrics = ["mean_repo_spread_bp", "p99_repo_spread_bp", "min_reserves"]
        [parameters]
        "initial.reserves" = { low = 1100.0, high = 2300.0 }
        "fed.repo_ops_size" = { low = 50.0, high = 500.0 }
    """,
    )
    with (tmp_path / "small.toml").open("a") as scenario:
        scenario.write("[fed]\nrepo_ops_trigger_bp = 4000.0\n")

    assert main(argv) == 0
    table = pd.read_csv(out / "sensitivity.csv").set_index(["metric", "parameter"])
    for metric in ("mean_repo_spread_bp", "p99_repo_spread_bp", "min_reserves"):
        assert table.loc[(metric, "fed.repo_ops_size"), "mu_star"] == 0.0
    assert table.loc[("min_reserves", "initial.reserves"), "mu_star"] > 100.0


def _fail_run(out, run_id: int) -> None:
    """Mark a stored run as failed (as a run that raised is stored)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fedplumbing.experiments.results import run_file

    path = run_file(out, run_id)
    table = pq.read_table(path)
    status = table.schema.get_field_index("status")
    table = table.set_column(status, "status", pa.array(["failed"], type=pa.string()))
    pq.write_table(table, path)


def test_indices_need_every_run_and_failed_runs_can_be_retried(tmp_path, capsys):
    """A point averaged over fewer seeds than the others biased the indices, silently, with
    exit 0, and the message pointed to a --retry-failed the command did not have."""
    from fedplumbing.sim.cli import main

    argv, out = _small_spec_argv(
        tmp_path,
        """
        days = 20
        method = "morris"
        samples = 2
        seeds = 2
        metrics = ["min_reserves"]
        [parameters]
        "initial.reserves" = { low = 1100.0, high = 2300.0 }
    """,
    )
    assert main(argv) == 0
    first = (out / "sensitivity.csv").read_text()
    (out / "sensitivity.csv").unlink()
    _fail_run(out, 0)
    capsys.readouterr()
    assert main(argv) == 1
    assert "--retry-failed for failed ones" in capsys.readouterr().out
    assert not (out / "sensitivity.csv").exists()  # no indices from part of the design
    assert main([*argv, "--retry-failed"]) == 0
    assert (out / "sensitivity.csv").read_text() == first


def test_second_order_indices_are_reported(tmp_path):
    """`second_order = true` costs N x (2D + 2) points: its S2 are written, not dropped."""
    import json

    from fedplumbing.sim.cli import main

    argv, out = _small_spec_argv(
        tmp_path,
        """
        days = 20
        method = "sobol"
        samples = 4
        seeds = 1
        second_order = true
        metrics = ["min_reserves"]
        [parameters]
        "initial.reserves" = { low = 1100.0, high = 2300.0 }
        "banks.lclor_scale" = { low = 0.7, high = 1.3 }
    """,
    )
    assert main(argv) == 0
    pairs = json.loads((out / "sensitivity.json").read_text())["second_order"]
    assert [p["parameters"] for p in pairs] == ["initial.reserves x banks.lclor_scale"]
    assert np.isfinite(pairs[0]["S2"])
    assert "| parameters | S2 | S2 95% |" in (out / "sensitivity.md").read_text()


def test_a_sobol_base_sample_below_4_is_refused(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(textwrap.dedent(GOOD).replace("samples = 16", "samples = 1"))
    with pytest.raises(SpecError, match="at least 4"):
        load_sensitivity_spec(path)
