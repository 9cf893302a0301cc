"""``fedplumbing replay``: run the historical replay and write its validation report."""

from __future__ import annotations

import argparse
import datetime as dt

from fedplumbing.sim.commands import SEED_HELP, add_set_argument, nonempty_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` subcommand."""
    parser = subparsers.add_parser(
        "replay",
        help="replay history (Fed balance sheet, TGA, rates) and validate against markets",
        description="Drive the model from the shipped H.4.1 balance sheet, TGA, other "
        "autonomous factors and administered rates; the agents produce reserves vs ON RRP, "
        "all market rates and facility use. Writes DIR/daily.csv, DIR/validation.md and "
        "figures comparing simulated and actual series.",
    )
    parser.add_argument(
        "scenario",
        nargs="?",
        default="replay",
        metavar="SCENARIO",
        help="replay scenario (built-in name or TOML path; default: %(default)s)",
    )
    parser.add_argument("--start", metavar="DATE", help="first day (YYYY-MM-DD)")
    parser.add_argument("--end", metavar="DATE", help="last day (YYYY-MM-DD)")
    parser.add_argument("--seed", metavar="S", default="0", help=SEED_HELP)
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=nonempty_path,
        default="out/replay",
        help="output folder (default: %(default)s/)",
    )
    parser.add_argument(
        "--no-counterfactuals",
        action="store_true",
        help="skip the September 2019 counterfactual runs",
    )
    add_set_argument(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    parser.set_defaults(func=cmd_replay)


def _date(option: str, text: str | None) -> dt.date | None:
    from fedplumbing.sim.config import ConfigError

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None


def cmd_replay(args: argparse.Namespace) -> int:
    """Run the replay, write the outputs and print the validation summary."""
    import sys
    from pathlib import Path

    import pandas as pd

    from fedplumbing.experiments.replay import replay_settings, run_replay, write_replay
    from fedplumbing.sim.commands import check_out_dir, parse_seed, print_note, untraded_notes
    from fedplumbing.sim.config import override_notes, parse_override
    from fedplumbing.sim.replay import opening_from_history

    seed = parse_seed(args.seed)
    start, end = _date("--start", args.start), _date("--end", args.end)
    overrides = dict(parse_override(t) for t in args.overrides)
    given = replay_settings(args.scenario, start, end, overrides)
    cfg = opening_from_history(given)
    out = Path(args.out)
    check_out_dir(out, command="replay")
    if not args.quiet:
        # on the settings as given, before the opening from the data (which turns
        # replay.initial_from_history off): that flag decides what the opening settings do
        for note in override_notes(given, overrides):
            print_note(note)
    result = run_replay(cfg, seed, progress=not args.quiet and sys.stderr.isatty())
    paths = write_replay(
        result, out, counterfactuals=not args.no_counterfactuals, overrides=overrides
    )
    if not args.quiet:
        for note in untraded_notes(result.daily):
            print_note(note)
        warm_up = (
            f" (after a warm-up from {cfg.start})" if cfg.replay.report_from is not None else ""
        )
        dates = result.daily["date"]
        span = (
            f"{pd.Timestamp(dates.iloc[0]):%Y-%m-%d}..{pd.Timestamp(dates.iloc[-1]):%Y-%m-%d}"
            if len(dates)
            else f"{cfg.start}..{cfg.end}"
        )
        print(
            f"replay {span}: {len(result.daily)} days{warm_up} in "
            f"{result.summary['runtime_s']:.1f} s"
        )
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
