"""The ``fedplumbing`` command line: a small dispatcher over pluggable subcommand modules.

Each subcommand lives in a module listed in `COMMAND_MODULES` that exposes
``register(subparsers)``; ``register`` adds its parser(s) with ``add_parser`` and sets
``func`` (``parser.set_defaults(func=handler)``). A handler takes the parsed
`argparse.Namespace` and returns an exit code (``None`` means 0). To report a bad input it
raises `ConfigError` (or `CommandError`): `main` prints one line ``fedplumbing: error: ...``
to stderr and exits with 2, without a traceback (``FEDPLUMBING_TRACEBACK=1`` shows it).
``register`` must stay cheap: import heavy packages (pandas, dask, solara, the engine) inside
the handler, not at module level.

A listed module that does not exist yet is skipped; any other import failure propagates.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from fedplumbing.sim.config import ConfigError

PROG = "fedplumbing"
TRACEBACK_ENV = "FEDPLUMBING_TRACEBACK"  # set to 1 to see tracebacks of reported errors

COMMAND_MODULES: list[str] = [
    "fedplumbing.sim.commands",  # run, scenarios, check, params
    "fedplumbing.experiments.cli_replay",
    "fedplumbing.experiments.cli_calibrate",
    "fedplumbing.experiments.cli_sweep",
    "fedplumbing.experiments.cli_report",
    "fedplumbing.experiments.cli_stress_floor",
    "fedplumbing.experiments.cli_sensitivity",
    "fedplumbing.experiments.cli_app",
    "fedplumbing.experiments.cli_compare",
]


class CommandError(Exception):
    """A user error found by a subcommand; `main` prints its one-line message, exit 2."""


def _missing_itself(exc: ModuleNotFoundError, name: str) -> bool:
    """Tell whether ``exc`` says module ``name`` (or a parent package of it) does not exist."""
    missing = exc.name or ""
    return bool(missing) and (name == missing or name.startswith(missing + "."))


def load_command_modules(names: Sequence[str] | None = None) -> list[ModuleType]:
    """Import the subcommand modules that exist.

    Args:
        names: dotted module paths (default: `COMMAND_MODULES`).

    Returns:
        The imported modules, in order.

    Raises:
        TypeError: a module exists but has no callable ``register``.
        ImportError: a module exists but fails to import (e.g. a missing dependency).

    """
    modules = []
    for name in COMMAND_MODULES if names is None else names:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if _missing_itself(exc, name):
                continue
            raise
        if not callable(getattr(module, "register", None)):
            raise TypeError(f"{name} is listed in COMMAND_MODULES but defines no register()")
        modules.append(module)
    return modules


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("fedplumbing")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and a pointer to ``--help``)."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG CMD: error: message (see 'PROG CMD --help')`` and exit with 2."""
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see '{self.prog} --help')\n")

    def parse_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """Parse, and name the command in an unknown option's error (not the top level)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = getattr(self, "commands", {})
            parser = commands.get(getattr(parsed, "command", None), self)
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser(names: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand registered.

    Args:
        names: subcommand modules to load (default: `COMMAND_MODULES`).

    """
    parser = OneLineParser(
        prog=PROG,
        description="Agent-based simulation of US money-market plumbing.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for module in load_command_modules(names):
        module.register(subparsers)
    parser.commands = subparsers.choices  # for `OneLineParser.parse_args`
    return parser


def error_line(exc: BaseException) -> str:
    """Format the one-line message printed for a user error."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{PROG}: error: {text}"


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code.

    Args:
        argv: arguments without the program name; None reads ``sys.argv[1:]``.

    Returns:
        0 on success, 2 on a usage or input error, 1 on an I/O failure, 130 if interrupted.

    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse usage errors (exit 2), --help and --version (exit 0)
        return _exit_code(exc.code)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except BrokenPipeError:  # e.g. `fedplumbing params | head`: stop quietly
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ConfigError, CommandError, OSError) as exc:
        if os.environ.get(TRACEBACK_ENV):
            raise
        print(error_line(exc), file=sys.stderr)
        return 1 if isinstance(exc, OSError) else 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
