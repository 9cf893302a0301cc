"""Make the README's screenshot of the teaching app with the app itself.

Starts ``fedplumbing app``'s server on a free loopback port, opens the page in Debian's
headless Chromium through Playwright (the same path as the browser tests), runs the default
scenario to a corporate tax day and saves a full-page PNG::

    python docs/make_screenshot.py                 # -> docs/img/app.png
    python docs/make_screenshot.py --tax-days 3 --out /tmp/app.png

Needs the ``app`` and ``test`` extras (solara, playwright) and ``/usr/bin/chromium``
(override with ``FEDPLUMBING_CHROMIUM``). Nothing is fetched from the internet.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = "fedplumbing.experiments.app.page:page"
CHROMIUM = os.environ.get("FEDPLUMBING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
DAY_TITLE = re.compile(r"Day \d+ of \d+")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start the app server and wait until it answers."""
    cmd = [sys.executable, "-m", "fedplumbing.experiments.app.server", PAGE, "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")


def day_title(page) -> str:
    """The day counter and date shown at the top of the app."""
    return page.locator(".fp-today h3").first.inner_text()


def capture(url: str, out: Path, tax_days: int) -> str:
    """Open the app, run to the `tax_days`-th corporate tax day, save a screenshot.

    Returns:
        The day shown in the screenshot.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_text(DAY_TITLE).first.wait_for()
        button = page.get_by_role("button", name="Run to the eve of the next tax day")
        for _ in range(tax_days):
            before = day_title(page)
            button.click()
            page.wait_for_function(
                "b => document.querySelector('.fp-today h3').innerText !== b", arg=before
            )
            before = day_title(page)
            page.get_by_role("button", name="Step").click()  # the tax day itself
            page.wait_for_function(
                "b => document.querySelector('.fp-today h3').innerText !== b", arg=before
            )
        # the app scrolls inside its own container: grow the window to show every panel
        height = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('.vue-grid-layout')]"
            ".map(e => e.getBoundingClientRect().bottom))"
        )
        page.set_viewport_size({"width": 1500, "height": int(height) + 40})
        page.wait_for_timeout(1500)  # let the charts' images load and the grid settle
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        shown = day_title(page)
        browser.close()
    return shown


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "app.png")
    parser.add_argument(
        "--tax-days",
        type=int,
        default=8,
        help="corporate tax days to run through (default: 8, the lesson's 17 June 2019)",
    )
    ns = parser.parse_args(argv)
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(port, Path(tmp) / "server.log")
        try:
            shown = capture(f"http://127.0.0.1:{port}/", ns.out, ns.tax_days)
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    print(f"saved {ns.out} ({shown})")


if __name__ == "__main__":
    main()
