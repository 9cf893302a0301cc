"""``fedplumbing app``: serve the teaching app offline on this machine.

The page is :mod:`fedplumbing.experiments.app.page` (a Mesa SolaraViz page); the server,
:func:`fedplumbing.experiments.app.server.serve`, serves every JavaScript and CSS asset
locally, with telemetry and version checks off, bound to 127.0.0.1 unless ``--host`` says
otherwise.
"""

from __future__ import annotations

import argparse

#: The page module served by ``fedplumbing app``.
PAGE = "fedplumbing.experiments.app.page:page"
DEFAULT_HOST = "127.0.0.1"  # same as app.server.DEFAULT_HOST, without importing it here
DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``app`` subcommand."""
    parser = subparsers.add_parser(
        "app",
        help="serve the teaching app (browser, works offline)",
        description=(
            "Serve the teaching app: step the money markets day by day in a web browser, "
            "with charts of the rate corridor and reserves and the sectors' T-accounts. "
            "Works without internet. Open the printed address in a browser."
        ),
    )
    parser.add_argument(
        "--port", default=str(DEFAULT_PORT), help="TCP port, 1-65535 (default: %(default)s)"
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="interface to listen on (default: %(default)s, this machine only; "
        "0.0.0.0 shares the app with the local network)",
    )
    parser.add_argument(
        "--open", action="store_true", help="open the app in the system web browser"
    )
    parser.set_defaults(func=run_app)


#: Packages of the ``app`` extras that the server needs.
APP_PACKAGES = ("solara", "mesa.visualization")


def missing_app_packages() -> list[str]:
    """The packages of the ``app`` extras that are not installed."""
    import importlib.util

    missing = []
    for name in APP_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


def run_app(args: argparse.Namespace) -> int:
    """Run the server until interrupted (Ctrl-C)."""
    from fedplumbing.sim.cli import CommandError

    try:
        port = int(str(args.port).strip())
    except ValueError:
        raise CommandError(f"--port: expected an integer 1 to 65535, got {args.port!r}") from None
    if not 1 <= port <= 65535:
        raise CommandError(f"--port: {port} is out of range (allowed: integers 1 to 65535)")
    missing = missing_app_packages()
    if missing:
        raise CommandError(
            f"app: the teaching app needs its extras ({', '.join(missing)} not installed); "
            "install them with ./dev app (from the repository) or pip install -e '.[app]'"
        )
    from fedplumbing.experiments.app.server import serve

    problem = _listen_problem(args.host, port)
    if problem == "host":
        raise CommandError(
            f"--host: cannot listen on {args.host!r} (not an address or name of this "
            "machine); use 127.0.0.1 (this machine only) or 0.0.0.0 (the local network)"
        )
    if problem == "port":
        raise CommandError(
            f"--port: {port} is already in use on {args.host} (another server?); "
            "choose another with --port"
        )
    print(f"fedplumbing app: http://{_browser_host(args.host)}:{port}/  (Ctrl-C to stop)")
    if args.host in ("0.0.0.0", "::"):
        print(
            "  listening on every interface: others on the network open "
            f"http://<this machine's IP address>:{port}/",
            flush=True,
        )
    serve(PAGE, host=args.host, port=port, open_browser=args.open)
    return 0


def _browser_host(host: str) -> str:
    """The host to open in a browser on this machine for a server bound to `host`."""
    return {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)


def _listen_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on `host`:`port` right now: "host", "port" or None."""
    import errno
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError):  # socket.gaierror: not an address or a known name
        return "host"
    with socket.socket(family, kind, proto) as probe:
        # as the server will (uvicorn): a port left in TIME_WAIT is free, a listening one is not
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return "port" if exc.errno in (errno.EADDRINUSE, errno.EACCES) else "host"
    return None
