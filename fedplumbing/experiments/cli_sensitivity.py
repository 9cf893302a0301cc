"""``fedplumbing sensitivity SPEC.toml``: Sobol' or Morris indices of run metrics (SALib)."""

from __future__ import annotations

import argparse

from fedplumbing.experiments.cli_sweep import add_execution_arguments
from fedplumbing.sim.commands import nonempty_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sensitivity`` subcommand."""
    parser = subparsers.add_parser(
        "sensitivity",
        help="Sobol' or Morris sensitivity indices of metrics w.r.t. parameters (SALib)",
        description="Draw a Sobol' (Saltelli) or Morris design over the spec's parameter "
        "bounds, run it as a resumable sweep (metrics averaged over seeds) and write the "
        "indices as sensitivity.csv / .md / .json and a bar chart sensitivity.png.",
    )
    parser.add_argument("spec", metavar="SPEC.toml", help="sensitivity spec file")
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=nonempty_path,
        help="output folder (default: out/sensitivity-<spec name>)",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="rerun the design's failed runs"
    )
    add_execution_arguments(parser)
    parser.set_defaults(func=cmd_sensitivity)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Validate the spec, run the design and print the indices."""
    from pathlib import Path

    from fedplumbing.experiments.cli_sweep import execution_kwargs
    from fedplumbing.experiments.sensitivity import load_sensitivity_spec, run_sensitivity
    from fedplumbing.experiments.spec import SpecError
    from fedplumbing.sim.cli import CommandError
    from fedplumbing.sim.commands import check_out_dir, print_note

    kwargs = execution_kwargs(args)
    kwargs["notes"] = None if args.quiet else print_note
    out = Path(args.out) if args.out else Path("out") / f"sensitivity-{Path(args.spec).stem}"
    try:
        spec = load_sensitivity_spec(args.spec)
        check_out_dir(out, command="sensitivity")
        table, summary = run_sensitivity(spec, out, retry_failed=args.retry_failed, **kwargs)
    except SpecError as exc:
        raise CommandError(str(exc)) from None
    print(summary.format())
    if table is None:
        print(
            "sensitivity: some runs of the design failed or are missing; indices not "
            "computed (rerun to retry lost runs, add --retry-failed for failed ones)"
        )
        return 1
    from fedplumbing.experiments.sensitivity import markdown

    print(markdown(spec, table))
    print(f"wrote {out}/sensitivity.csv, .md, .json, .png")
    return summary.exit_code
