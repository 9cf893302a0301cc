"""``fedplumbing report DIR``: summarise a sweep folder and write its figures."""

from __future__ import annotations

import argparse

from fedplumbing.sim.commands import nonempty_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="summarise a sweep folder and write figures (heat map, seed bands)",
        description="Print per-metric statistics over the finished runs of a sweep, the chosen "
        "metric per parameter point and the failures, and write figures: a heat map of the "
        "metric over the first two swept parameters, or seed bands for a one-parameter sweep.",
    )
    parser.add_argument("dir", metavar="DIR", help="sweep folder (holds manifest.json)")
    parser.add_argument(
        "--metric",
        metavar="NAME",
        help="metric of the heat map and per-point table (default: p99_repo_spread_bp if kept)",
    )
    parser.add_argument(
        "--figures",
        metavar="DIR",
        type=nonempty_path,
        help="folder for the figures (default: DIR/figures)",
    )
    parser.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Print the report of a sweep folder."""
    from pathlib import Path

    from fedplumbing.experiments.report import report
    from fedplumbing.sim.cli import CommandError
    from fedplumbing.sim.commands import check_out_dir

    folder = Path(args.dir)
    if not folder.exists():
        raise CommandError(f"report: {folder} does not exist; give a sweep's output folder")
    if not folder.is_dir():
        raise CommandError(f"report: {folder} is a file; give a sweep's output folder")
    if not (folder / "manifest.json").is_file():
        raise CommandError(f"report: {folder} holds no sweep (no manifest.json)")
    if args.figures is not None:
        check_out_dir(Path(args.figures), "--figures")
    try:
        text = report(folder, args.figures, metric=args.metric)
    except ValueError as exc:
        raise CommandError(f"report: {exc}") from None
    print(text)
    return 0
