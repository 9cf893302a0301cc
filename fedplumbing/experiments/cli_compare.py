"""``fedplumbing compare SCENARIO SCENARIO... --out DIR``: scenarios side by side.

Every input (scenario names or files, ``--days``, ``--seed``, ``--set``, ``--out``) is checked
before anything runs; a bad one stops the command with one line on stderr, exit code 2, and
nothing written.
"""

from __future__ import annotations

import argparse
import sys

from fedplumbing.sim.commands import SEED_HELP, nonempty_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``compare`` subcommand."""
    from fedplumbing.sim.commands import add_set_argument

    parser = subparsers.add_parser(
        "compare",
        help="run scenarios side by side; write a table and figures",
        description="Simulate two or more scenarios with the same seed and write a side-by-side "
        "table (compare.md, compare.csv), figures (compare.png: reserves, ON RRP, repo spreads "
        "and their tail, SRF use, SOMA WAM and bill share, term premium, Fed net income, "
        "Treasury interest cost) and every scenario's daily rows (daily.csv).",
    )
    parser.add_argument(
        "scenarios",
        nargs="+",
        metavar="SCENARIO",
        help="built-in scenario names or TOML files (at least two)",
    )
    parser.add_argument(
        "--out", metavar="DIR", type=nonempty_path, required=True, help="output folder"
    )
    parser.add_argument("--days", metavar="N", help="simulate only the first N business days")
    parser.add_argument("--seed", metavar="S", default="0", help=SEED_HELP)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    add_set_argument(parser)
    parser.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """Validate everything, run the scenarios, write the comparison and print the table."""
    from pathlib import Path

    from fedplumbing.sim.commands import check_out_dir, parse_int, parse_seed, print_note
    from fedplumbing.sim.config import (
        ConfigError,
        apply_overrides,
        load_scenario,
        override_notes,
        parse_override,
    )

    if len(args.scenarios) < 2:
        raise ConfigError("compare: give at least two scenarios to compare")
    days = parse_int("--days", args.days, 1)
    seed = parse_seed(args.seed)
    overrides = dict(parse_override(text) for text in args.overrides)
    out = Path(args.out)
    check_out_dir(out, command="compare")
    configs = []
    for name in args.scenarios:
        cfg = load_scenario(name)
        configs.append(apply_overrides(cfg, overrides) if overrides else cfg)
        if not args.quiet:
            for note in override_notes(configs[-1], overrides):
                print_note(f"{name}: {note}")

    from fedplumbing.experiments.compare import (
        comparison_table,
        labels_for,
        markdown_table,
        run_comparison,
        write_comparison,
    )

    labelled = dict(zip(labels_for([c.name for c in configs]), configs, strict=True))
    progress = not args.quiet and sys.stderr.isatty()
    results = run_comparison(labelled, seed=seed or 0, days=days, progress=progress)
    paths = write_comparison(results, out)
    if not args.quiet:
        dailies = {k: r.daily for k, r in results.items()}
        print(markdown_table(comparison_table(dailies), dailies), end="")
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
