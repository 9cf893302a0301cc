"""Serve a Solara (Mesa SolaraViz) page fully offline on the loopback interface.

The teaching app must work on a machine with no internet. Solara, by default,

* loads its front-end assets (Vue, Vuetify, require.js, font-awesome, ...) through a
  server-side proxy that fetches them from a public CDN on first use,
* sends usage telemetry (Mixpanel) and looks up the server's public IP,
* asks PyPI whether a newer solara exists when started through ``solara run``, and
* in development mode, embeds a hidden iframe from solara.dev in the page.

With the ``solara-assets`` package installed, every asset the page needs is already in
``<sys.prefix>/share/solara/cdn``, which is exactly the proxy's cache directory, so the proxy
never has to fetch. This module forces the proxy on, points the CDN fallback at a dead
loopback port (so a missing asset fails fast and visibly instead of trying the internet),
switches telemetry off, skips the version check and the iframe.

Usage::

    from fedplumbing.experiments.app.server import serve
    serve("fedplumbing.experiments.app.page:page", port=8765)

or from a shell (the test-suite does this in a subprocess)::

    python -m fedplumbing.experiments.app.server some.module:page --port 8765
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import warnings
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

#: Default loopback host; the app is never exposed beyond this machine by default.
DEFAULT_HOST = "127.0.0.1"
#: Default port of ``fedplumbing app``.
DEFAULT_PORT = 8765
#: Where solara's server would fetch an asset that is not in the local cache. Port 9
#: ("discard") on loopback refuses at once, so a missing asset is an immediate, logged error
#: ("Could not load URL") instead of a request to the internet.
DEAD_CDN = "http://127.0.0.1:9/npm/"

#: Assets that solara-assets lacks, laid out like solara's cache (see assets/README.md).
VENDORED_CDN = Path(__file__).with_name("assets") / "cdn"

#: Environment that makes solara run offline and silent. Applied before solara is imported,
#: because solara reads these into its settings objects at import time.
OFFLINE_ENV: Mapping[str, str] = {
    # No Mixpanel events, no api.ipify.org lookup of the server's public IP.
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    # Serve JS/CSS from <prefix>/share/solara/cdn (filled by the solara-assets package)
    # under /_solara/cdn, instead of letting the browser load them from a CDN.
    "SOLARA_ASSETS_PROXY": "true",
    # Server-side fallback for assets missing from that cache: a dead loopback port.
    "SOLARA_ASSETS_CDN": DEAD_CDN,
    # Render matplotlib figures without a display.
    "MPLBACKEND": "Agg",
    # Generic opt-out honoured by some libraries; belt and braces.
    "DO_NOT_TRACK": "1",
}


def apply_offline_env(environ: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Write :data:`OFFLINE_ENV` into an environment mapping.

    Args:
        environ: The mapping to update; ``os.environ`` when omitted (so it also affects
            solara if it is imported afterwards in this process).

    Returns:
        The updated mapping, for chaining (e.g. as ``env=`` of a subprocess).

    """
    target = os.environ if environ is None else environ
    target.update(OFFLINE_ENV)
    return target


def install_vendored_assets(cache_dir: Path, source: Path = VENDORED_CDN) -> list[Path]:
    """Copy vendored front-end assets that are missing from solara's asset cache.

    Solara's asset proxy writes fetched files into the same directory at run time; this does
    the same for the few files ``solara-assets`` does not ship (KaTeX, used by every
    ``solara.Markdown``), so no fetch is ever needed.

    Args:
        cache_dir: Solara's asset cache (``solara.server.settings.assets.proxy_cache_dir``).
        source: Directory with the vendored files, in the cache's layout.

    Returns:
        The files that were copied (empty when the cache was already complete).

    """
    copied: list[Path] = []
    if not source.is_dir():
        logger.warning("vendored assets %s not found; markdown math may not render", source)
        return copied
    for src in sorted(p for p in source.rglob("*") if p.is_file()):
        dst = cache_dir / src.relative_to(source)
        if dst.exists():
            continue
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)  # never leave a half-written file for the server to send
        except OSError as exc:
            logger.warning("could not add %s to solara's asset cache: %s", dst, exc)
            continue
        copied.append(dst)
    return copied


def _force_offline_settings() -> None:
    """Apply the offline settings to solara's settings objects and complete its asset cache.

    Solara reads the environment once, at import. When something imported it before
    :func:`serve` ran (e.g. ``mesa.visualization``), setting the environment is too late, so
    the already-built settings objects are patched as well.

    Raises:
        RuntimeError: Solara's asset cache does not exist (``solara-assets`` missing).

    """
    import solara.server.settings as server_settings
    import solara.settings as ui_settings

    ui_settings.assets.proxy = True
    ui_settings.assets.cdn = DEAD_CDN
    server_settings.telemetry.mixpanel_enable = False
    # A failed cache-dir creation makes solara silently turn the proxy off; we need it on.
    cache_dir = server_settings.assets.proxy_cache_dir
    if not cache_dir.is_dir():
        raise RuntimeError(
            f"solara asset cache {cache_dir} is missing: install the 'solara-assets' package "
            "(the app cannot load its JavaScript offline without it)"
        )
    install_vendored_assets(cache_dir)
    # In development mode solara's page embeds a hidden iframe from solara.dev (an install
    # "success" ping) until ~/.solara/.solara_checked exists. Never ping: this is checked at
    # each page render through the module attribute, so replacing it here is enough.
    import solara.checks

    solara.checks.should_perform_solara_check = lambda: False


def solara_run_args(
    page_module: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    production: bool = True,
) -> list[str]:
    """Build the argument list of ``solara run`` for an offline server.

    Args:
        page_module: ``package.module``, ``package.module:name`` or a path to a ``.py`` file
            that defines ``page`` or ``Page``.
        host: Interface to bind; loopback unless you really mean to share the app.
        port: TCP port to listen on (0 lets solara pick a free one).
        open_browser: Open the system web browser once the server is up.
        production: Run solara in production mode (minified assets, no tracebacks in the UI).

    Returns:
        Arguments for solara's ``run`` command, without the leading ``run``.

    """
    args = [
        page_module,
        "--host",
        host,
        "--port",
        str(port),
        "--no-check-version",  # would otherwise block on a request to PyPI at start-up
        "--open" if open_browser else "--no-open",
    ]
    if production:
        args.append("--production")
    return args


def serve(
    page_module: str,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = False,
    production: bool = True,
) -> None:
    """Run a solara page offline until interrupted (Ctrl-C).

    Sets :data:`OFFLINE_ENV` in ``os.environ``, patches solara's settings in case it was
    already imported, then runs solara's own ``run`` command in this process (uvicorn with
    ``solara.server.starlette:app``).

    Args:
        page_module: ``package.module``, ``package.module:name`` or a path to a ``.py`` file
            that defines ``page`` or ``Page`` (e.g. a Mesa ``SolaraViz`` element).
        host: Interface to bind; ``127.0.0.1`` by default.
        port: TCP port to listen on.
        open_browser: Open the system web browser once the server is up.
        production: Run solara in production mode.

    """
    apply_offline_env()
    _force_offline_settings()
    # Solara warns on the first plain-http request from 127.0.0.1 that it cannot use
    # samesite=none cookies; that only matters when embedding in an https iframe.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    from solara.__main__ import run  # imported late: needs the environment set first

    run.main(
        args=solara_run_args(page_module, host, port, open_browser, production),
        prog_name="fedplumbing app",
        standalone_mode=False,  # return instead of sys.exit() when the server stops
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: ``python -m fedplumbing.experiments.app.server PAGE``.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when omitted.

    """
    parser = argparse.ArgumentParser(
        prog="python -m fedplumbing.experiments.app.server",
        description="Serve a solara page offline on the loopback interface.",
    )
    parser.add_argument("page", help="module[:name] or path/to/file.py defining page/Page")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--open", action="store_true", help="open a web browser")
    parser.add_argument("--dev", action="store_true", help="solara development mode")
    ns = parser.parse_args(sys.argv[1:] if argv is None else argv)
    serve(ns.page, host=ns.host, port=ns.port, open_browser=ns.open, production=not ns.dev)


if __name__ == "__main__":
    main()
