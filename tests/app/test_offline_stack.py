"""The offline teaching-app stack end to end: solara server + SolaraViz page + real Chromium.

Serves ``tiny_app.py`` (a one-number Mesa model) through the same code path as the
``fedplumbing app`` command, steps it from the browser, and checks that the page never asks
for anything beyond 127.0.0.1.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from fedplumbing.experiments.app.server import OFFLINE_ENV, apply_offline_env, solara_run_args

TINY_APP = str(Path(__file__).with_name("tiny_app.py"))


def test_offline_env_and_run_args() -> None:
    env = apply_offline_env({})
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["SOLARA_ASSETS_PROXY"] == "true"
    assert env == dict(OFFLINE_ENV)
    args = solara_run_args("pkg.mod:page", port=9999)
    assert args[0] == "pkg.mod:page"
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert args[args.index("--port") + 1] == "9999"
    assert "--no-check-version" in args and "--no-open" in args


@pytest.mark.browser
@pytest.mark.timeout(120)
@pytest.mark.parametrize("dev", [False, True], ids=["production", "dev"])
def test_tiny_solaraviz_page_steps_offline(app_server, browser_page, dev: bool) -> None:
    started = time.monotonic()
    server = app_server(TINY_APP, dev=dev)
    page = browser_page.page

    page.goto(server.url)
    value = page.get_by_text(re.compile(r"Tiny value: \d+ at step \d+"))
    value.wait_for()
    assert value.inner_text().strip() == "Tiny value: 10 at step 0"
    # the matplotlib chart arrives as an image; the markdown math is typeset by KaTeX
    page.locator("img").first.wait_for()
    page.locator(".katex").first.wait_for()

    step = page.get_by_role("button", name="Step")
    for k in range(1, 4):
        step.click()
        page.get_by_text(f"Tiny value: {10 + 3 * k} at step {k}").wait_for()
    assert page.get_by_text("Time: 3.0").is_visible()

    shot = browser_page.screenshot(f"tiny_app-{'dev' if dev else 'production'}.png")
    assert shot.stat().st_size > 10_000

    assert browser_page.requests, "no request was recorded at all"
    assert any("/_solara/cdn/" in url for url in browser_page.requests), (
        "front-end assets were not served by the local asset proxy"
    )
    assert browser_page.websockets, "solara's kernel websocket was not recorded"
    assert browser_page.foreign_urls() == [], "the page reached beyond loopback"
    assert browser_page.failed == [], "some requests failed"
    assert browser_page.bad_responses == [], "some requests got an HTTP error"
    assert server.missing_assets() == [], "assets missing from the offline cache"
    assert server.outbound_attempts() == [], "the server process reached beyond loopback"
    print(
        f"\n{len(browser_page.requests)} requests, all local; "
        f"screenshot {shot}; {time.monotonic() - started:.1f} s"
    )


def test_vendored_assets_fill_the_cache(tmp_path: Path) -> None:
    from fedplumbing.experiments.app.server import VENDORED_CDN, install_vendored_assets

    katex = "katex@0.16.9/dist"
    for name in ("katex.min.css", "katex.min.js", "contrib/auto-render.min.js"):
        assert (VENDORED_CDN / katex / name).is_file(), name
    copied = install_vendored_assets(tmp_path)
    assert (tmp_path / katex / "katex.min.css").read_bytes() == (
        VENDORED_CDN / katex / "katex.min.css"
    ).read_bytes()
    assert len(copied) == sum(1 for p in VENDORED_CDN.rglob("*") if p.is_file())
    assert install_vendored_assets(tmp_path) == []  # already complete: nothing to do
