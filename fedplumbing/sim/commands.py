"""Core subcommands: ``run``, ``scenarios``, ``check`` and ``params``.

Every input is validated before anything is created or written: a bad scenario, override,
``--days`` or ``--seed`` stops the command with one line on stderr and no output folder.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import typing
from pathlib import Path
from typing import Any

if typing.TYPE_CHECKING:
    import numpy as np
    import pandas as pd

from fedplumbing.sim.config import (
    ConfigError,
    ScenarioConfig,
    apply_overrides,
    config_hash,
    config_to_dict,
    describe_fields,
    load_scenario,
    lookup,
    override_notes,
    parse_override,
    scenario_names,
    schedule_notes,
    type_hints,
)

DEFAULT_OUT = "out"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the core subcommands to the ``fedplumbing`` parser."""
    _register_run(subparsers)
    _register_scenarios(subparsers)
    _register_check(subparsers)
    _register_params(subparsers)


def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the positional SCENARIO and repeatable ``--set KEY=VALUE`` options."""
    parser.add_argument(
        "scenario",
        nargs="?",
        default="default",
        metavar="SCENARIO",
        help="built-in scenario name or path to a TOML file (default: %(default)s)",
    )
    add_set_argument(parser)


def add_set_argument(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--set KEY=VALUE`` option (values read as TOML)."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. --set fed.treasury_cap=60 (repeatable; "
        "see 'fedplumbing params')",
    )


def print_note(text: str) -> None:
    """Say on stderr what the user should know but that is not an error."""
    print(f"fedplumbing: note: {text}", file=sys.stderr)


def nonempty_path(text: str) -> str:
    """An output path given on the command line (argparse ``type``): not empty.

    An empty ``--out ''`` would be the current folder, written into without being asked.
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; allowed: a folder or file name")
    return text


#: Files that mark a command's outputs, by command: a folder holding one of another
#: command's (that the command about to write does not write itself) holds its outputs.
SIGNATURE_FILES = {
    "run": ("summary.json", "overview.png"),
    "compare": ("compare.md", "compare.png"),
    "replay": ("validation.md", "replay_vs_actual.png"),
    "sweep": ("manifest.json",),
    "sensitivity": ("sensitivity.json", "sensitivity.md", "manifest.json"),  # a sweep inside
    "stress-floor": ("stress_floor.json", "stress_floor.md"),
}


def check_out_dir(out: Path, option: str = "--out", command: str | None = None) -> None:
    """Refuse an output folder that cannot be created or written, before any work is done.

    Args:
        out: the folder.
        option: the option that named it (for messages).
        command: the command about to write there: a folder holding another command's
            outputs is refused (`run` then `compare` into one folder mixed their files,
            a stale summary beside another command's daily.csv).

    Raises:
        ConfigError: `out` is a file, lies under a file, holds another command's outputs,
            or its nearest existing folder is not writable.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{option}: {str(out)!r} exists and is not a folder")
    if command is not None and out.is_dir():
        own = SIGNATURE_FILES.get(command, ())
        for other, names in SIGNATURE_FILES.items():
            found = [n for n in names if other != command and n not in own and (out / n).exists()]
            if found:
                raise ConfigError(
                    f"{option}: {str(out)!r} holds the outputs of 'fedplumbing {other}' "
                    f"({found[0]}); {command} would mix its files with them: use another "
                    "folder"
                )
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(
            f"{option}: cannot create {str(out)!r}: {str(parent)!r} is a file, not a folder"
        )
    # try it rather than ask os.access, which says yes to root everywhere (even on /proc or
    # a read-only mount): a probe folder made and removed at once leaves nothing behind
    try:
        probe = tempfile.mkdtemp(prefix=".fedplumbing-probe-", dir=parent)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"{option}: cannot create {str(out)!r}: {str(parent)!r} is not writable ({reason})"
        ) from None
    os.rmdir(probe)


def scenario_from_args(args: argparse.Namespace) -> ScenarioConfig:
    """Load ``args.scenario`` and apply ``args.overrides``; raise ConfigError if invalid."""
    overrides = dict(parse_override(text) for text in args.overrides)
    cfg = load_scenario(args.scenario)
    return apply_overrides(cfg, overrides) if overrides else cfg


def parse_int(option: str, text: str | None, minimum: int) -> int | None:
    """Parse an integer option value, at least ``minimum``; None stays None.

    Raises:
        ConfigError: not an integer, or below ``minimum``.

    """
    if text is None:
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"{option}: expected an integer >= {minimum}, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{option}: {value} is out of range (allowed: integers >= {minimum})")
    return value


#: Help of every command's `--seed` (`parse_seed`).
SEED_HELP = (
    "random seed >= 0 (default 0); BASE/R reruns replicate R of a sweep or stress floor "
    "with base_seed BASE"
)


def parse_seed(text: str) -> int | np.random.SeedSequence:
    """A `--seed` value: an integer >= 0, or BASE/R, replicate R of a sweep with base_seed BASE.

    Replicate R of every point of a sweep (and seed R of a stress floor) runs with
    ``SeedSequence(BASE, spawn_key=(R,))`` (`experiments.sampling.run_seed`); BASE/R gives a
    single run that seed, so that one run of a sweep can be rerun with its daily output.

    Raises:
        ConfigError: neither an integer >= 0 nor two of them separated by "/".
    """
    import numpy as np  # not at the top: `--help` and bad input stay quick

    base, slash, replicate = text.partition("/")
    if not slash:
        return parse_int("--seed", text, 0)
    try:
        numbers = int(base.strip()), int(replicate.strip())
    except ValueError:
        numbers = (-1, -1)
    if min(numbers) < 0:
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ConfigError(
            f"--seed: expected an integer >= 0 or BASE/R (two integers >= 0), got {shown!r}"
        )
    return np.random.SeedSequence(numbers[0], spawn_key=(numbers[1],))


# --------------------------------------------------------------------------- run
def _register_run(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="simulate a scenario and write daily.csv, summary.json, overview.png",
        description="Simulate a scenario day by day and write daily.csv, summary.json and "
        "overview.png into the output folder.",
    )
    add_scenario_arguments(parser)
    parser.add_argument("--days", metavar="N", help="simulate only the first N business days")
    parser.add_argument("--seed", metavar="S", default="0", help=SEED_HELP)
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=nonempty_path,
        default=DEFAULT_OUT,
        help="output folder (default: %(default)s/)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar, notes or summary table"
    )
    parser.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Validate everything, simulate, write the outputs and print a summary table."""
    days = parse_int("--days", args.days, 1)
    seed = parse_seed(args.seed)
    cfg = scenario_from_args(args)
    out = Path(args.out)
    check_out_dir(out, command="run")
    if not args.quiet:
        keys = [parse_override(text)[0] for text in args.overrides]
        for note in override_notes(cfg, keys):
            print_note(note)
    available = _business_day_count(cfg)
    if days is not None and available is not None and days > available and not args.quiet:
        print_note(
            f"--days {days}: the scenario has {available} business days "
            f"({cfg.start} to {cfg.end}); running them all"
        )

    from fedplumbing.sim.outputs import summary_table, write_run
    from fedplumbing.sim.run import simulate

    progress = not args.quiet and sys.stderr.isatty()
    result = simulate(cfg, seed, days=days, progress=progress, notices=not args.quiet)
    paths = write_run(result, out)
    if not args.quiet:
        for note in untraded_notes(result.daily):
            print_note(note)
        print(summary_table(result))
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def untraded_notes(daily: pd.DataFrame) -> list[str]:
    """Notes for markets that did not trade on some days (their rates are blank there).

    A tiny economy (two banks, one of them active in fed funds) or a prohibitive cost can
    leave a market without trades, and the summary's figures for it then rest on the
    days that traded.
    """
    notes = []
    for rate, market in (("effr", "fed funds"), ("sofr", "repo")):
        if rate not in daily or daily.empty:
            continue
        traded, days = int(daily[rate].notna().sum()), len(daily)
        if traded == 0:
            notes.append(f"{market} did not trade on any of the {days} days: {rate} is blank")
        elif traded < days:
            notes.append(
                f"{market} traded on {traded} of {days} days: {rate} is blank on the others, "
                f"and the summary's {rate} figures cover the {traded} that traded"
            )
    return notes


# --------------------------------------------------------------------------- scenarios
def _register_scenarios(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scenarios",
        help="list the built-in scenarios",
        description="List the built-in scenarios with their descriptions.",
    )
    parser.set_defaults(func=cmd_scenarios)


def cmd_scenarios(args: argparse.Namespace) -> int:
    """Print each built-in scenario's name and one-line description."""
    names = scenario_names()
    width = max((len(n) for n in names), default=0)
    broken = 0
    for name in names:
        try:
            text = load_scenario(name).description or "(no description)"
        except ConfigError as exc:
            text, broken = f"INVALID: {exc}", broken + 1
        print(f"{name:<{width}}  {text}")
    return 2 if broken else 0


# --------------------------------------------------------------------------- check
def _register_check(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate scenario files",
        description="Validate scenario files (or built-in names) without running them.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario TOML file(s)")
    add_set_argument(parser)
    parser.set_defaults(func=cmd_check)


def describe_scenario(cfg: ScenarioConfig) -> str:
    """One-line description of a valid scenario: name, dates, days, mode and hash."""
    parts = [f"{cfg.start} to {cfg.end}"]
    days = _business_day_count(cfg)
    if days is not None:
        parts.append(f"{days} business days")
    parts += [f"{cfg.mode} mode", f"config {config_hash(cfg)}"]
    return f"{cfg.name} ({', '.join(parts)})"


def _business_day_count(cfg: ScenarioConfig) -> int | None:
    try:
        from fedplumbing.sim.calendar import business_days
    except ImportError:  # pragma: no cover - calendar module not available
        return None
    return len(business_days(cfg.start, cfg.end))


def check_opening(cfg: ScenarioConfig) -> None:
    """Refuse what `run` would refuse before its first day: the opening balance sheet.

    The model is built (not run): its opening checks that the Fed's assets cover its
    liabilities and that no holder is given more securities than the private supply, and a
    replay that its window lies within the shipped data.

    Raises:
        ConfigError: as `run` would.
    """
    from fedplumbing.sim.model import FedPlumbingModel

    FedPlumbingModel(cfg, rng=0)


def cmd_check(args: argparse.Namespace) -> int:
    """Print ``OK: ...`` for each valid file and one error line for each invalid one."""
    from fedplumbing.sim.cli import error_line

    overrides = dict(parse_override(text) for text in args.overrides)
    failed = 0
    for name in args.files:
        try:
            cfg = load_scenario(name)
            cfg = apply_overrides(cfg, overrides) if overrides else cfg
            check_opening(cfg)
        except ConfigError as exc:
            named = (f"{name}:", f"{Path(name)}:")  # load_scenario names a file by its Path
            message = str(exc) if str(exc).startswith(named) else f"{name}: {exc}"
            print(error_line(ConfigError(message)), file=sys.stderr)
            failed += 1
            continue
        print(f"OK: {describe_scenario(cfg)}")
        notes = override_notes(cfg, overrides)  # what `run` would note about --set
        for note in notes + [n for n in schedule_notes(cfg) if n not in notes]:
            print(f"  note: {note}")
    return 2 if failed else 0


# --------------------------------------------------------------------------- params
def _register_params(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "params",
        help="list every setting with its value, allowed range and meaning",
        description="List every scenario setting (the keys of TOML files and --set) with its "
        "value in a scenario, allowed range or choices, unit and meaning.",
    )
    parser.add_argument(
        "pattern",
        nargs="?",
        default="",
        metavar="PATTERN",
        help="show only settings whose name contains PATTERN (e.g. 'fed.' or 'cap')",
    )
    parser.add_argument(
        "--scenario",
        default="default",
        metavar="SCENARIO",
        help="scenario whose values to show (default: %(default)s)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.set_defaults(func=cmd_params)


def _list_item_types(cls: type = ScenarioConfig, prefix: str = "") -> dict[str, type]:
    """Dotted paths of list-of-table settings (e.g. ``rates.changes``) and their item class."""
    found: dict[str, type] = {}
    hints = type_hints(cls)
    for f in dataclasses.fields(cls):
        tp, path = hints[f.name], f"{prefix}{f.name}"
        if dataclasses.is_dataclass(tp):
            found.update(_list_item_types(tp, f"{path}."))
        elif typing.get_origin(tp) is list:
            (item,) = typing.get_args(tp)
            if dataclasses.is_dataclass(item):
                found[path] = item
    return found


def _format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return f"{len(value)} entries"
        return json.dumps(value)
    return str(value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def params_rows(cfg: ScenarioConfig) -> list[tuple[str, str, str, str]]:
    """Rows (setting, value in ``cfg``, allowed, meaning) for every setting."""
    values = config_to_dict(cfg)
    items = _list_item_types()
    rows = []
    for path, allowed, doc in describe_fields():
        rows.append((path, _format_value(lookup(values, path)), allowed, doc))
        if path in items:
            for sub, sub_allowed, sub_doc in describe_fields(items[path], f"{path}[]."):
                rows.append((sub, "", sub_allowed, sub_doc))
    return rows


def cmd_params(args: argparse.Namespace) -> int:
    """Print the table of settings, optionally filtered by name."""
    cfg = load_scenario(args.scenario)
    rows = [r for r in params_rows(cfg) if args.pattern.lower() in r[0].lower()]
    if not rows:
        raise ConfigError(f"params: no setting name contains {args.pattern!r}")
    header = ("setting", f"value ({cfg.name})", "allowed", "meaning")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print(
                "| " + " | ".join(f"`{row[0]}`" if i == 0 else c for i, c in enumerate(row)) + " |"
            )
        return 0
    rows = [(r[0], _clip(r[1], 32), r[2], r[3]) for r in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
        print("  ".join([*cells, row[3]]).rstrip())
    return 0
