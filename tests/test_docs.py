"""The docs keep up with the code: every output column is explained, every link resolves."""

from __future__ import annotations

import re
from pathlib import Path

from fedplumbing.sim.outputs import DAILY_COLUMNS
from fedplumbing.sim.run import SUMMARY_METRICS

ROOT = Path(__file__).resolve().parents[1]


def test_every_output_column_and_metric_is_explained():
    """A newcomer could not tell that `sofr` is a median or that income is per day."""
    text = (ROOT / "docs" / "outputs.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", text))
    missing = [c for c in (*DAILY_COLUMNS, *SUMMARY_METRICS) if c not in documented]
    assert not missing, f"docs/outputs.md does not explain {missing}"
    for key in ("scenario", "seed", "config_hash", "fitted", "package_versions", "summary"):
        assert f"`{key}`" in text


def test_relative_links_in_the_docs_resolve():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
