"""The teaching app in a real, offline, headless Chromium.

Serves ``fedplumbing.experiments.app.page`` through the code behind ``fedplumbing app``,
moves the IORB slider, resets, steps a few days, and checks that the date, a chart and a
T-account changed, that the new setting is in force, and that neither the page nor the
server reached beyond 127.0.0.1.
"""

from __future__ import annotations

import re
import time

import pytest

from fedplumbing.experiments.cli_app import PAGE

DAY = re.compile(r"Day (\d+) of \d+")


def _day(page) -> str:
    return page.locator(".fp-today h3").first.inner_text()


def _wait_day(page, n: int) -> None:
    page.locator(".fp-today h3", has_text=re.compile(rf"^Day {n} of ")).wait_for()


def _chart_src(page, name: str) -> str:
    img = page.locator(f".fp-{name} img").first
    img.wait_for()
    return img.get_attribute("src") or ""


def _chart_png(page, name: str) -> bytes:
    """The chart's PNG bytes, read back from its blob/data URL inside the page."""
    data = page.evaluate(
        """async sel => {
            const img = document.querySelector(sel);
            const buf = await (await fetch(img.src)).arrayBuffer();
            return Array.from(new Uint8Array(buf));
        }""",
        f".fp-{name} img",
    )
    return bytes(data)


def _t_account(page, title: str) -> str:
    return page.locator(f"table[data-taccount='{title}']").first.inner_text()


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_teaching_app_steps_in_the_browser_offline(app_server, browser_page) -> None:
    started = time.monotonic()
    server = app_server(PAGE)
    page = browser_page.page

    page.goto(server.url)
    _wait_day(page, 0)
    assert "opening balances" in _day(page)
    in_force = page.locator(".fp-today", has_text="In force:").first
    assert "IORB 1.50%" in in_force.inner_text()
    corridor0 = _chart_png(page, "corridor")
    fed0 = _t_account(page, "Federal Reserve")
    treasury0 = _t_account(page, "Treasury")

    # move the IORB slider 1.50% -> 2.00% (10 steps of 5 bp), then Reset to apply it
    iorb = page.locator(".v-input", has_text="IORB (%)").locator("[role=slider]").first
    iorb.focus()
    for _ in range(10):
        iorb.press("ArrowRight")
    assert iorb.get_attribute("aria-valuenow") == "2"
    page.get_by_role("button", name="Reset").click()
    page.locator(".fp-today", has_text="IORB 2.00%").first.wait_for()
    assert "SRF 2.25%" in in_force.inner_text()  # the corridor moved with IORB

    src0 = _chart_src(page, "corridor")
    step = page.get_by_role("button", name="Step")
    for n in range(1, 4):
        step.click()
        _wait_day(page, n)
    # the date: three business days after the scenario's start
    assert "Day 3 of" in _day(page) and "2018-01-04" in _day(page)
    page.wait_for_function(
        "src => document.querySelector('.fp-corridor img').src !== src", arg=src0
    )
    corridor3 = _chart_png(page, "corridor")
    assert corridor3[:8] == b"\x89PNG\r\n\x1a\n"
    assert corridor3 != corridor0, "the corridor chart did not change"
    assert _chart_src(page, "liquidity")
    fed3 = _t_account(page, "Federal Reserve")
    assert fed3 != fed0, "the Fed's T-account did not change"
    assert _t_account(page, "Treasury") != treasury0
    # today's flows are highlighted: at least one line of the Fed's T-account is coloured
    assert page.locator("table[data-taccount='Federal Reserve'] td[style*=background]").count()
    # the explanation names the day's data
    assert page.get_by_text("Why did the repo rate move today?").is_visible()
    assert page.locator(".fp-today li", has_text="Bank reserves").count() == 1

    # run to the eve of the first tax day, then step into it: taxes are named and coloured
    page.get_by_role("button", name="Run to the eve of the next tax day").click()
    page.locator(".fp-today h3", has_text="2018-03-14").wait_for()
    step.click()
    page.locator(".fp-today h3", has_text="2018-03-15").wait_for()
    assert page.locator(".fp-today li", has_text="corporate tax date").count() == 1
    assert page.locator(".fp-chip", has_text="tax receipts").count() >= 1

    shot = browser_page.screenshot("teaching_app.png")
    assert shot.stat().st_size > 50_000

    assert browser_page.websockets, "solara's kernel websocket was not recorded"
    assert browser_page.foreign_urls() == [], "the page reached beyond loopback"
    assert browser_page.failed == [], "some requests failed"
    assert browser_page.bad_responses == [], "some requests got an HTTP error"
    assert server.missing_assets() == [], "assets missing from the offline cache"
    assert server.outbound_attempts() == [], "the server process reached beyond loopback"
    assert "Traceback" not in server.log_text()
    print(f"\nteaching app: screenshot {shot}; {time.monotonic() - started:.1f} s")
