"""Fixtures for testing the teaching app in a real, offline, headless browser.

* ``app_server(page_module, dev=False)`` runs ``fedplumbing.experiments.app.server.main`` (the
  code behind ``fedplumbing app``) in a subprocess on a free loopback port, under an audit hook
  that logs any non-loopback connection attempt (``netaudit_server.py``), waits until it
  answers and returns an :class:`AppServer`. Servers are cached per (page module, mode) for
  the session and killed at its end.
* ``browser_page`` is a fresh Playwright page (new browser context) in Debian's headless
  Chromium, with every request and websocket recorded: see :class:`BrowserPage`.

Browser tests need ``/usr/bin/chromium`` (``apt-get install chromium``; override the path with
``FEDPLUMBING_CHROMIUM``) and the ``playwright`` Python package. Playwright's own browser
downloads are never used. Without them the tests are skipped, except under ``CI=true``, where a
missing browser is a failure rather than a silent skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("FEDPLUMBING_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
#: URL schemes that never leave the browser.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
SERVER_START_TIMEOUT = 60.0
#: Solara's server logs this when an asset is missing from the offline cache.
MISSING_ASSET_MARKER = "Could not load URL"
#: netaudit_server.py logs this when the server process tries to reach a non-loopback host.
OUTBOUND_MARKER = "NETAUDIT outbound attempt:"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _missing_browser(reason: str) -> None:
    """Skip the test, or fail it under CI=true, where the browser must be present."""
    if _in_ci():
        pytest.fail(f"CI=true but the browser stack is unusable: {reason}", pytrace=False)
    pytest.skip(reason)


def free_loopback_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def is_local_url(url: str) -> bool:
    """True when loading ``url`` stays on this machine (loopback host or data:/blob: URL)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname in LOOPBACK_HOSTS


@dataclass
class AppServer:
    """A solara server running the app in a subprocess."""

    page_module: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        """Return everything the server printed so far (stdout and stderr)."""
        return self.log_path.read_text(errors="replace")

    def missing_assets(self) -> list[str]:
        """Lines where the server tried to fetch an asset that is not in the offline cache."""
        return [line for line in self.log_text().splitlines() if MISSING_ASSET_MARKER in line]

    def outbound_attempts(self) -> list[str]:
        """Lines where the server process resolved or connected to a non-loopback host."""
        return [line for line in self.log_text().splitlines() if OUTBOUND_MARKER in line]

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_app_server(
    page_module: str, log_dir: Path, *, dev: bool = False, timeout: float = SERVER_START_TIMEOUT
) -> AppServer:
    """Start ``fedplumbing.experiments.app.server`` on a free loopback port and wait for it.

    Args:
        page_module: ``package.module[:name]`` or a path to a ``.py`` file defining the page.
        log_dir: Directory for the server's log file.
        dev: Run solara in development mode instead of production mode.
        timeout: Seconds to wait for the server to answer HTTP 200 on ``/``.

    Returns:
        The running server.
    """
    port = free_loopback_port()
    log_path = log_dir / f"server-{port}.log"
    env = dict(os.environ)
    # solara quietly turns some behaviour off under pytest; the server must act as in real use
    env.pop("PYTEST_CURRENT_TEST", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    cmd = [
        sys.executable,
        str(Path(__file__).with_name("netaudit_server.py")),  # = server.main() + audit hook
        page_module,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(["--dev"] if dev else []),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = AppServer(page_module, f"http://127.0.0.1:{port}/", process, log_path)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            log = server.log_text()
            if dev and "inotify instance limit reached" in log:
                # development mode watches the page's files; a browser running beside it can
                # use up the machine's inotify instances (fs.inotify.max_user_instances)
                pytest.skip("solara development mode: the machine's inotify instances are used up")
            raise RuntimeError(f"app server exited with {process.returncode}:\n{log[-4000:]}")
        try:
            with urllib.request.urlopen(server.url, timeout=5) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"app server did not answer within {timeout:.0f} s:\n{server.log_text()[-4000:]}"
            )
        time.sleep(0.25)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., AppServer]]:
    """Factory fixture: ``app_server(page_module, dev=False)`` returns a running :class:`AppServer`.

    One server per (page module, mode) for the whole session; each browser page still gets its own
    solara session (kernel), so tests do not share UI state unless the page module itself
    holds shared objects at module level.
    """
    servers: dict[tuple[str, bool], AppServer] = {}
    log_dir = tmp_path_factory.mktemp("app-server")

    def get(page_module: str, *, dev: bool = False) -> AppServer:
        server = servers.get((page_module, dev))
        if server is None or server.process.poll() is not None:
            server = start_app_server(page_module, log_dir, dev=dev)
            servers[page_module, dev] = server
        return server

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium, headless, launched by Playwright (never a downloaded browser).

    Playwright launches it with a fresh temporary profile (user-data dir) of its own.
    """
    if not CHROMIUM.exists():
        _missing_browser(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the environment
        _missing_browser(f"playwright is not installed ({exc})")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        playwright.stop()
        _missing_browser(f"could not launch {CHROMIUM}: {exc}")
    yield browser
    browser.close()
    playwright.stop()


@dataclass
class BrowserPage:
    """A Playwright page plus everything it asked the network for."""

    page: Any  # playwright.sync_api.Page
    artifacts: Path
    requests: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def foreign_urls(self) -> list[str]:
        """Every requested URL (HTTP or websocket) that would leave this machine."""
        return [url for url in [*self.requests, *self.websockets] if not is_local_url(url)]

    def screenshot(self, name: str = "page.png") -> Path:
        """Save a full-page screenshot into the test's tmp_path and return its path."""
        path = self.artifacts / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def browser_page(chromium_browser: Any, tmp_path: Path) -> Iterator[BrowserPage]:
    """A fresh browser context and page recording every request, websocket and console line."""
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    recorder = BrowserPage(page=page, artifacts=tmp_path)
    # context-level: also catches requests of workers and popups
    context.on("request", lambda request: recorder.requests.append(request.url))
    context.on(
        "requestfailed",
        lambda request: recorder.failed.append(f"{request.url} ({request.failure})"),
    )
    context.on(
        "response",
        lambda response: (
            recorder.bad_responses.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    page.on("websocket", lambda ws: recorder.websockets.append(ws.url))
    page.on("console", lambda msg: recorder.console.append(f"{msg.type}: {msg.text}"))
    page.set_default_timeout(30_000)
    yield recorder
    context.close()
