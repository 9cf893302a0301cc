"""Run the app server with a Python audit hook that reports every non-loopback connection.

Used by ``conftest.start_app_server``: each ``socket.getaddrinfo`` / ``socket.connect`` to a
host outside 127.0.0.0/8, ``localhost`` and ``::1`` is printed to stderr with the marker
:data:`MARKER`, so a test can assert that the *server* (telemetry, version checks, CDN
fetches) never tried to leave the machine, not only the browser.
"""

from __future__ import annotations

import sys
import traceback

MARKER = "NETAUDIT outbound attempt:"


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return True  # not an internet address (e.g. None for a wildcard lookup)
    return host in {"localhost", "::1", ""} or host.startswith("127.")


def _hook(event: str, args: tuple) -> None:
    host = None
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple) and address:
            host = address[0]
    if host is not None and not _is_loopback(host):
        where = "".join(traceback.format_stack(limit=6)[:-1])
        print(f"{MARKER} {event} {host!r}\n{where}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.addaudithook(_hook)
    from fedplumbing.experiments.app.server import main

    main()
