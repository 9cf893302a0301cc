"""``fedplumbing sweep SPEC.toml --out DIR``: run a parameter sweep (see `run_sweep`).

A malformed spec, scenario, override or output folder stops the command with one line on
stderr, exit code 2, before anything is written. Rerunning the same command continues a sweep
(finished runs are skipped); ``--no-resume`` refuses a folder that already holds one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fedplumbing.sim.commands import nonempty_path, parse_int
from fedplumbing.sim.config import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a parameter sweep (grid, Latin hypercube or Sobol sample x seeds)",
        description="Run every (parameter point, seed) of a sweep spec and store one Parquet "
        "file per run in --out, with a manifest. Runs execute on a local process pool, or on a "
        "Dask cluster with --scheduler / --dask-local. Rerun the command to finish an "
        "interrupted sweep: finished runs are skipped.",
    )
    parser.add_argument("spec", metavar="SPEC.toml", help="sweep spec file")
    parser.add_argument(
        "--out", metavar="DIR", type=nonempty_path, required=True, help="sweep output folder"
    )
    add_execution_arguments(parser)
    parser.add_argument(
        "--retry-failed", action="store_true", help="also rerun runs stored as failed"
    )
    parser.set_defaults(func=cmd_sweep)


def add_execution_arguments(parser: argparse.ArgumentParser, resume: bool = True) -> None:
    """Add --workers, --scheduler / --dask-local, --quiet (and --resume / --no-resume)."""
    parser.add_argument(
        "--workers", metavar="N", help="worker processes of the local pool (default: CPU count)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786",
    )
    where.add_argument(
        "--dask-local",
        metavar="N",
        help="start a loopback Dask LocalCluster with N worker processes and run on it",
    )
    if resume:
        parser.add_argument(
            "--resume",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="continue a sweep already in --out (default); --no-resume refuses such a folder",
        )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no notes")


def execution_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """Validated `run_sweep` keyword arguments from `add_execution_arguments` options."""
    if args.workers is not None and args.dask_local is not None:
        raise ConfigError(
            "--workers: a Dask LocalCluster has its own workers; allowed: --workers or "
            "--dask-local, not both"
        )
    return {
        "workers": parse_int("--workers", args.workers, 1),
        "scheduler": args.scheduler,
        "dask_local": parse_int("--dask-local", args.dask_local, 1),
        "resume": getattr(args, "resume", True),
        "progress": not args.quiet,
    }


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep; print its summary; exit 0 if every run is stored and none failed."""
    from fedplumbing.experiments.spec import SpecError
    from fedplumbing.experiments.sweep import run_sweep
    from fedplumbing.sim.cli import CommandError
    from fedplumbing.sim.commands import check_out_dir, print_note

    kwargs = execution_kwargs(args)
    check_out_dir(Path(args.out), command="sweep")
    try:
        summary = run_sweep(
            args.spec,
            args.out,
            retry_failed=args.retry_failed,
            notes=None if args.quiet else print_note,
            **kwargs,
        )
    except SpecError as exc:
        raise CommandError(str(exc)) from None
    print(summary.format())
    return summary.exit_code
