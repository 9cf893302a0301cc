"""``fedplumbing stress-floor [SCENARIO]``: the lowest level of reserves that keeps repo calm.

See `fedplumbing.experiments.stress_floor` for the mechanism (bisection over the QT end point)
and the statistics. Every option is validated before anything runs or is written.
"""

from __future__ import annotations

import argparse
import math

from fedplumbing.experiments.cli_sweep import add_execution_arguments
from fedplumbing.sim.commands import (
    add_scenario_arguments,
    check_out_dir,
    nonempty_path,
    parse_int,
)
from fedplumbing.sim.config import ConfigError

DEFAULT_OUT = "out/stress-floor"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``stress-floor`` subcommand."""
    parser = subparsers.add_parser(
        "stress-floor",
        help="find the lowest reserves at which a repo-spread quantile stays under a threshold",
        description="Find the lowest level of reserves (and reserves / bank assets) at which "
        "the chosen quantile of the daily repo spread to IORB stays at or under the threshold, "
        "across seeds. QT runs for a variable length (the QT end point), then a stress window "
        "with quarter-ends and tax dates follows; a ladder of QT lengths and a bisection per "
        "seed locate each seed's floor. Writes a table (Markdown, CSV), a JSON summary and a "
        "figure to --out. Defaults: 10 seeds, 6 ladder points + 4 bisection steps, a 252-day "
        "window, the scenario's population (about two minutes on 2 cores); --fast: 4 seeds, "
        "4 ladder points, 3 bisection steps, a 126-day window, 100 banks and 20 MMFs.",
    )
    add_scenario_arguments(parser)
    parser.add_argument(
        "--threshold-bp", metavar="BP", default="25", help="spread threshold in bp (default 25)"
    )
    parser.add_argument(
        "--quantile", metavar="Q", default="0.99", help="quantile over the window's days (0.99)"
    )
    parser.add_argument(
        "--series",
        default="repo_spread_bp",
        choices=["repo_spread_bp", "repo_spread_p99_bp"],
        help="daily spread: the median repo rate (SOFR analogue) minus IORB (default), or the "
        "99th percentile of the day's repo trades minus IORB",
    )
    parser.add_argument("--seeds", metavar="N", help="seeds (default 10; --fast 4)")
    parser.add_argument("--base-seed", metavar="S", default="2019", help="root seed (2019)")
    parser.add_argument(
        "--pass-share",
        metavar="P",
        default="1",
        help="share of seeds that must pass at the floor (default 1: all seeds)",
    )
    parser.add_argument(
        "--window-days",
        metavar="N",
        help="business days of the stress window after the QT end (default 252; --fast 126)",
    )
    parser.add_argument(
        "--max-qt-months",
        metavar="M",
        help="longest QT tried, in months from the scenario start (default: its horizon)",
    )
    parser.add_argument(
        "--ladder", metavar="N", help="QT lengths on the initial ladder (6; --fast 4)"
    )
    parser.add_argument("--steps", metavar="N", help="bisection steps per seed (4; --fast 3)")
    parser.add_argument(
        "--fast", action="store_true", help="quick, coarser settings (see the description)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=nonempty_path,
        default=DEFAULT_OUT,
        help="output folder (default %(default)s)",
    )
    add_execution_arguments(parser, resume=False)
    parser.set_defaults(func=cmd_stress_floor)


def parse_float(
    option: str, text: str | None, low: float | None = None, allowed: str | None = None
) -> float | None:
    """Parse a finite number option (at least ``low``); None stays None.

    ``allowed`` replaces the range named in the error message (when the caller checks a
    narrower range itself).

    Raises:
        ConfigError: not a finite number, or below ``low``.

    """
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"{option}: expected a number, got {text!r}") from None
    if not math.isfinite(value) or (low is not None and value < low):
        if allowed is None:
            allowed = "a finite number" + (f" >= {low:g}" if low is not None else "")
        raise ConfigError(f"{option}: {text} is not allowed (allowed: {allowed})")
    return value


#: Settings every stress-floor candidate gets from `stress_floor.qt_overrides` whatever the
#: scenario says: a --set of one was silently replaced (and listed among the report's
#: settings). `fed.runoff` and `end` are read: the caps before the cut, the QT horizon.
STRESS_FLOOR_SETS = ("fed.qt_end",)


#: `StressSettings` fields and the options that set them, for messages.
_OPTIONS = {
    name: "--" + name.replace("_", "-")
    for name in (
        "seeds",
        "window_days",
        "ladder",
        "steps",
        "threshold_bp",
        "quantile",
        "series",
        "pass_share",
        "max_qt_months",
    )
}


def _as_option(message: str) -> str:
    """A settings message that names its field as the option a user typed."""
    field, sep, rest = message.partition(": ")
    return f"{_OPTIONS[field]}: {rest}" if sep and field in _OPTIONS else message


def settings_from_args(args: argparse.Namespace):
    """Build validated-ready `StressSettings` from the options (raises ConfigError)."""
    from fedplumbing.experiments.stress_floor import FAST, StressSettings
    from fedplumbing.sim.commands import scenario_from_args
    from fedplumbing.sim.config import parse_override

    base = scenario_from_args(args)  # validates the scenario and --set first
    overrides = dict(parse_override(text) for text in args.overrides)
    for key in STRESS_FLOOR_SETS:
        if key in overrides:
            raise ConfigError(
                f"--set {key}: the stress floor sets it for every candidate (QT runs for the "
                "number of months it searches); bound that search with --max-qt-months"
            )
    fast = FAST if args.fast else {}
    if args.fast:
        banks = min(base.population.banks, fast["population"]["population.banks"])
        small = {
            "population.banks": banks,
            "population.mmfs": min(base.population.mmfs, fast["population"]["population.mmfs"]),
            "population.fed_funds_active_banks": min(base.population.fed_funds_active_banks, banks),
            "population.repo_active_banks": min(base.population.repo_active_banks, banks),
        }
        overrides = {**small, **overrides}

    def pick(name: str, text: str | None, low: int) -> int | None:
        value = parse_int(f"--{name.replace('_', '-')}", text, low)
        return fast.get(name) if value is None else value

    kwargs = {
        "seeds": pick("seeds", args.seeds, 1),
        "window_days": pick("window_days", args.window_days, 1),
        "ladder": pick("ladder", args.ladder, 2),
        "steps": pick("steps", args.steps, 0),
    }
    quantile = parse_float("--quantile", args.quantile, 0.0, "0 < q <= 1")
    if not 0 < quantile <= 1:
        raise ConfigError(f"--quantile: {args.quantile} is out of range (allowed: 0 < q <= 1)")
    share = parse_float("--pass-share", args.pass_share, 0.0, "0 < p <= 1")
    if not 0 < share <= 1:
        raise ConfigError(f"--pass-share: {args.pass_share} is out of range (allowed: 0 < p <= 1)")
    max_qt = parse_float("--max-qt-months", args.max_qt_months, 0.0, "0 < months <= 240")
    if max_qt is not None and not 0 < max_qt <= 240:
        raise ConfigError(
            f"--max-qt-months: {args.max_qt_months} is out of range (allowed: 0 < months <= 240)"
        )
    return StressSettings(
        scenario=args.scenario,
        overrides=overrides,
        threshold_bp=parse_float("--threshold-bp", args.threshold_bp),
        quantile=quantile,
        series=args.series,
        base_seed=parse_int("--base-seed", args.base_seed, 0),
        pass_share=share,
        max_qt_months=max_qt,
        **{k: v for k, v in kwargs.items() if v is not None},
    )


def cmd_stress_floor(args: argparse.Namespace) -> int:
    """Validate, run the stress test, write its outputs and print the floor."""
    import sys
    from pathlib import Path

    from fedplumbing.experiments.cli_sweep import execution_kwargs
    from fedplumbing.experiments.stress_floor import (
        StressError,
        run_stress_floor,
        validate,
        write_outputs,
    )
    from fedplumbing.sim.cli import CommandError

    settings = settings_from_args(args)
    kwargs = execution_kwargs(args)
    kwargs.pop("resume")
    quiet = not kwargs.pop("progress")
    out = Path(args.out)
    check_out_dir(out, command="stress-floor")
    try:
        validate(settings)
        result = run_stress_floor(
            settings,
            progress=None if quiet else (lambda msg: print(msg, file=sys.stderr, flush=True)),
            **kwargs,
        )
    except StressError as exc:
        raise CommandError(f"stress-floor: {_as_option(str(exc))}") from None
    paths = write_outputs(result, out)
    print(result.format())
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0 if result.floor["reserves"] is not None and not result.floor["failed_runs"] else 1
