import pytest

from fedplumbing.experiments.report import _text_colour, metric_table, report
from fedplumbing.experiments.results import load_results
from fedplumbing.experiments.sweep import run_sweep

from .fake_model import fake_run
from .helpers import make_spec

GRID = """
    days = 10
    seeds = 2
    metrics = ["p99_repo_spread_bp", "min_reserves"]
    [parameters]
    "banks.lclor_scale" = { values = [0.5, 1.0, 1.5] }
    "fed.treasury_cap" = { values = [0.0, 60.0] }
    "test.fail_above" = { values = [1.2] }
"""


def run(out, text):
    run_sweep(make_spec(text), out, workers=1, progress=False, run_fn=fake_run)


def png(path):
    return path.exists() and path.read_bytes()[:4] == b"\x89PNG"


def test_grid_report_and_heatmap(tmp_path):
    run(tmp_path / "out", GRID)
    text = report(tmp_path / "out")
    frame = load_results(tmp_path / "out")
    ok = frame[frame["status"] == "ok"]
    assert "finished: 12 of 12 runs (8 ok, 4 failed)" in text
    assert "6 points x 2 seeds = 12 runs" in text
    assert f"{ok['p99_repo_spread_bp'].mean():.4g}" in text
    assert "4 x ValueError: reserves went negative at lclor_scale=1.5 (runs 8, 9, 10, 11)" in text
    assert png(tmp_path / "out" / "figures" / "heatmap_p99_repo_spread_bp.png")
    table = metric_table(frame, ["p99_repo_spread_bp", "min_reserves"])
    assert table.loc["min_reserves", "n"] == 8
    assert table.loc["min_reserves", "max"] == ok["min_reserves"].max()


def test_one_parameter_sweep_draws_seed_bands(tmp_path):
    run(tmp_path / "out", GRID.replace('"fed.treasury_cap" = { values = [0.0, 60.0] }', ""))
    text = report(tmp_path / "out", tmp_path / "figs", metric="min_reserves")
    assert png(tmp_path / "figs" / "lines_banks.lclor_scale.png")
    assert "min_reserves by point" in text


def test_sampled_sweep_heatmap_is_binned(tmp_path):
    run(
        tmp_path / "out",
        """
        sampler = "sobol"
        samples = 16
        metrics = ["p99_repo_spread_bp"]
        [parameters]
        "banks.lclor_scale" = { low = 0.5, high = 1.5 }
        "fed.treasury_cap" = { low = 0, high = 60 }
    """,
    )
    text = report(tmp_path / "out")
    assert "sampler sobol" in text and "banks.lclor_scale in [0.5, 1.5]" in text
    assert png(tmp_path / "out" / "figures" / "heatmap_p99_repo_spread_bp.png")


def test_report_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no sweep manifest"):
        report(tmp_path)
    # valid JSON but not what a sweep writes: named, not a KeyError traceback
    (tmp_path / "manifest.json").write_text('{"format": "x"}')
    with pytest.raises(ValueError, match=r"not a sweep manifest \(missing spec\)"):
        report(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": 1, "spec": {"sampler": "grid"}}')
    with pytest.raises(ValueError, match=r"missing spec\.metrics, spec\.parameters"):
        report(tmp_path)
    (tmp_path / "manifest.json").unlink()
    run(tmp_path / "out", GRID)
    with pytest.raises(ValueError, match="not in this sweep"):
        report(tmp_path / "out", metric="srf_total")


def test_heatmap_labels_are_readable_and_carry_units():
    """Cell numbers were always white, unreadable on viridis' yellow; axes had no units."""
    import matplotlib

    from fedplumbing.sim.config import setting_unit
    from fedplumbing.sim.run import metric_unit

    mesh = matplotlib.cm.ScalarMappable(matplotlib.colors.Normalize(0, 800), "viridis")
    assert _text_colour(mesh, 800.0) == "k"  # yellow
    assert _text_colour(mesh, 0.0) == "w"  # dark purple
    assert _text_colour(mesh, float("nan")) == "k"
    assert setting_unit("initial.reserves") == "$bn"
    assert setting_unit("fed.treasury_cap") == "$bn/month"
    assert setting_unit("no.such") == ""
    assert metric_unit("p99_repo_spread_bp") == "bp"
    assert metric_unit("min_reserves") == "$bn"
    assert metric_unit("min_reserves_to_assets") == "share"


def test_sweep_files_are_readable_by_others_as_the_umask_allows(tmp_path):
    """Manifest and run files were 0600 (mkstemp's mode): colleagues on shared cluster
    scratch could not read a sweep's results."""
    import os
    import stat

    run(tmp_path / "out", GRID)
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.name == "manifest.json" for p in files) and len(files) > 3
    umask = os.umask(0o022)
    os.umask(umask)
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask, p


def test_heatmap_cells_say_whether_their_runs_failed_or_have_not_run(tmp_path, monkeypatch):
    """A partial sweep's cells that had not run yet read "no ok run", as failed ones did."""
    from fedplumbing.experiments import report as report_module

    figures = []

    class Kept(report_module.Figure):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            figures.append(self)

    monkeypatch.setattr(report_module, "Figure", Kept)
    out = tmp_path / "out"
    # points are ordered lclor x cap (3 x 2), 2 seeds each: runs 0-7 are lclor 0.5 and 1.0
    # (ok), 8-9 lclor 1.5 at cap 0 (failed: fail_above 1.2); lclor 1.5 at cap 60 not run
    run_sweep(make_spec(GRID), out, workers=1, progress=False, run_fn=fake_run, run_ids=range(10))
    report(out)
    texts = {t.get_text() for t in figures[-1].axes[0].texts}
    assert {"failed", "not run"} <= texts and "no ok run" not in texts
