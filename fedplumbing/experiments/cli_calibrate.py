"""``fedplumbing calibrate``: rerun the SMM calibration on 2017-2019."""

from __future__ import annotations

import argparse

from fedplumbing.sim.commands import nonempty_path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` subcommand."""
    parser = subparsers.add_parser(
        "calibrate",
        help="estimate the behavioural parameters on 2017-2019 (simulated method of moments)",
        description="Search the behavioural parameters that bring replay moments over "
        "2017-2019 (EFFR/SOFR spreads, ON RRP, reserves, the 17 Sep 2019 spike, the SFOS "
        "LCLoR prior) to their targets; write the calibrated parameter file.",
    )
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--max-evaluations", default="60", help="Nelder-Mead budget (default 60)")
    parser.add_argument(
        "--workers", default="1", help="processes running the seeds of an evaluation (default 1)"
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        type=nonempty_path,
        help="where to write the TOML (default: the shipped calibrated.toml)",
    )
    parser.add_argument(
        "--params",
        metavar="KEY,KEY",
        default=None,
        help="search only these parameters (dotted keys); the others keep their calibrated "
        "values (default: all of them)",
    )
    parser.add_argument("--version", dest="cal_version", default=None, help="version label")
    parser.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run the calibration and write the parameter file."""
    import datetime as dt
    import re
    import tomllib
    from pathlib import Path

    from fedplumbing.experiments.calibrate import (
        PARAMETERS,
        calibrate,
        calibration_path,
        to_toml,
    )
    from fedplumbing.experiments.results import write_bytes_atomic
    from fedplumbing.sim.commands import parse_int
    from fedplumbing.sim.config import ConfigError

    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise ConfigError(f"--seeds: expected integers >= 0 like 0,1,2, got {args.seeds!r}")
    budget = parse_int("--max-evaluations", args.max_evaluations, 1)
    if args.cal_version is not None and not re.fullmatch(r"[A-Za-z0-9._+-]+", args.cal_version):
        raise ConfigError(
            f"--version: {args.cal_version!r} is not a version label; allowed: letters, digits "
            "and . _ + - (e.g. 2026.11.21-smm6)"
        )
    out = Path(args.out) if args.out else calibration_path()
    if out.is_dir() or not out.parent.is_dir():
        raise ConfigError(
            f"--out: cannot write {str(out)!r} (allowed: a file path in an existing folder)"
        )

    def report(i: int, loss: float, ov: dict) -> None:
        print(f"[{i}] loss {loss:.3f} " + " ".join(f"{k}={v:.4g}" for k, v in ov.items()))

    workers = parse_int("--workers", args.workers, 1)
    params = list(PARAMETERS)
    if args.params is not None:
        known = {p.key: p for p in PARAMETERS}
        keys = [k.strip() for k in args.params.split(",") if k.strip()]
        unknown = [k for k in keys if k not in known]
        if unknown or not keys:
            raise ConfigError(
                f"--params: unknown parameter {', '.join(unknown) or '(none given)'}; "
                f"allowed: {', '.join(known)}"
            )
        params = [known[k] for k in keys]
    result = calibrate(seeds, budget, params=params, callback=report, workers=workers)
    keep = {}
    if calibration_path().is_file():
        old = tomllib.loads(calibration_path().read_text()).get("parameters", {})
        searched = {p.key for p in params}
        keep = {
            s: {k: v for k, v in vals.items() if f"{s}.{k}" not in searched}
            for s, vals in old.items()
        }
    version = args.cal_version or f"{dt.date.today():%Y.%m.%d}-smm"
    text = to_toml(result, version, keep)
    tomllib.loads(text)  # a file every command will read: parse it before replacing the old one
    write_bytes_atomic(text.encode(), out)
    print(f"loss {result.loss:.3f} after {result.evaluations} evaluations; wrote {out}")
    return 0
