"""Files written by a run: the tidy daily table, a JSON summary and an overview figure.

Every file is written atomically (a temporary file in the same folder, then a rename), so a
crash or a killed process never leaves a half-written file behind. Outputs carry no
timestamps: the same scenario and seed give byte-identical ``daily.csv`` and ``summary.json``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import secrets
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from fedplumbing.sim.config import config_hash, config_to_dict
from fedplumbing.sim.metrics import FACILITY_DUST

if TYPE_CHECKING:
    from fedplumbing.sim.run import RunResult

DAILY_FILE = "daily.csv"
SUMMARY_FILE = "summary.json"
OVERVIEW_FILE = "overview.png"
FLOAT_FORMAT = "%.10g"
VERSIONED_PACKAGES = ("fedplumbing", "mesa", "numpy", "pandas", "scipy", "matplotlib")


# --------------------------------------------------------------------------- atomic files
@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file lives in the same folder (so the rename is atomic on POSIX and
    Windows) and is removed if the body raises.

    Args:
        path: final file path; its folder must exist.

    Yields:
        The temporary path to write to.

    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.open("x").close()  # claim the name; permissions follow the umask like a normal file
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


# --------------------------------------------------------------------------- serialisation
def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that determine a run's results."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _jsonable(value: Any) -> Any:
    """Plain JSON data: numpy scalars unwrapped, non-finite floats as null, dates as ISO."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def seed_to_json(seed: Any) -> Any:
    """Return an int seed as is, a numpy ``SeedSequence`` as its entropy and spawn key."""
    if isinstance(seed, np.random.SeedSequence):
        return {"entropy": seed.entropy, "spawn_key": list(seed.spawn_key)}
    return _jsonable(seed)


def summary_record(result: RunResult) -> dict[str, Any]:
    """Everything ``summary.json`` holds: metrics plus what is needed to reproduce them."""
    cfg = result.config
    daily = result.daily
    dates = pd.to_datetime(daily["date"]) if len(daily) else pd.Series(dtype="datetime64[ns]")
    return _jsonable(
        {
            "scenario": cfg.name,
            "config_hash": config_hash(cfg),
            "seed": seed_to_json(result.seed),
            "days": len(daily),
            "first_date": dates.iloc[0].date().isoformat() if len(dates) else None,
            "last_date": dates.iloc[-1].date().isoformat() if len(dates) else None,
            "summary": dict(result.summary),
            # solved at the opening (`initial.fit_on_rrp`); `config` holds what was given
            "fitted": dict(result.fitted),
            "package_versions": package_versions(),
            "config": config_to_dict(cfg),
        }
    )


def daily_to_csv(daily: pd.DataFrame, path: str | Path) -> None:
    """Write the daily table with a fixed float format (byte-identical for equal data)."""
    frame = daily.copy()
    if "date" in frame:
        frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_run(result: RunResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``daily.csv``, ``summary.json`` and ``overview.png`` into ``out_dir``.

    All three are first written to temporary files and only then renamed into place, so a
    failure while writing (e.g. in plotting) replaces none of them.

    Args:
        result: a finished run.
        out_dir: output folder; created (with parents) if missing.

    Returns:
        The paths written, keyed by ``"daily"``, ``"summary"`` and ``"overview"``.

    """
    from fedplumbing.sim import plots

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "daily": out / DAILY_FILE,
        "summary": out / SUMMARY_FILE,
        "overview": out / OVERVIEW_FILE,
    }
    record = summary_record(result)
    title = f"{record['scenario']} (seed {seed_label(result.seed)})"
    with contextlib.ExitStack() as stack:
        tmp = {key: stack.enter_context(atomic_path(p)) for key, p in paths.items()}
        daily_to_csv(result.daily, tmp["daily"])
        tmp["summary"].write_text(
            json.dumps(record, sort_keys=True, indent=2, allow_nan=False) + "\n"
        )
        fig = plots.overview_figure(result.daily, title)
        fig.savefig(tmp["overview"], format="png", dpi=plots.DPI)
    return paths


def seed_label(seed: Any) -> str:
    """A seed as `--seed` takes it: an integer, or BASE/R for a sweep's replicate R."""
    if isinstance(seed, np.random.SeedSequence):
        key = ",".join(str(k) for k in seed.spawn_key)
        return f"{seed.entropy}" + (f"/{key}" if key else "")
    return str(seed)


# --------------------------------------------------------------------------- terminal summary
def _spread_bp(daily: pd.DataFrame) -> pd.Series:
    return (daily["sofr"] - daily["iorb"]) * 100.0


def _extreme(series: pd.Series, dates: pd.Series, how: str) -> str:
    """``"<value> on <date>"`` for the min or max of ``series`` ("n/a" if all missing)."""
    if series.notna().sum() == 0:
        return "n/a"
    idx = series.idxmin() if how == "min" else series.idxmax()
    return f"{series.loc[idx]:,.1f} on {dates.loc[idx]:%Y-%m-%d}"


def _use(take_up: pd.Series) -> str:
    # rounding dust is not a day of use (the recorder writes it as 0; a daily frame read
    # from elsewhere may still carry it)
    days = int((take_up >= FACILITY_DUST).sum())
    return f"{take_up.sum():,.1f} on {days} day{'' if days == 1 else 's'}"


def summary_table(result: RunResult) -> str:
    """Format the run's headline numbers as a short plain-text table for the terminal."""
    daily = result.daily
    if len(daily) == 0:
        return "no business days simulated"
    dates = pd.to_datetime(daily["date"])
    spread = _spread_bp(daily)
    srf = daily["srf_take_up"].fillna(0.0)
    dw = daily["discount_window_take_up"].fillna(0.0)
    last = daily.iloc[-1]
    rows = [
        ("scenario", f"{result.config.name} (config {config_hash(result.config)})"),
        ("seed", seed_label(result.seed)),
        ("days", f"{len(daily)} ({dates.iloc[0]:%Y-%m-%d} to {dates.iloc[-1]:%Y-%m-%d})"),
        *(
            (f"{key} (fitted at the opening, $bn)", f"{value:,.1f}")
            for key, value in result.fitted.items()
        ),
        ("min reserves ($bn)", _extreme(daily["reserves"], dates, "min")),
        ("max SOFR - IORB (bp)", _extreme(spread, dates, "max")),
        # the 99th percentile over days of the daily median (summary.json's
        # p99_repo_spread_bp is that of each day's 99th-percentile trade, a tail of the tail)
        ("99th pct of daily median SOFR - IORB (bp)", f"{np.nanpercentile(spread, 99):,.1f}"),
        ("days with SOFR - IORB > 50 bp", f"{int((spread > 50).sum())}"),
        ("SRF use ($bn, sum of days)", _use(srf)),
        ("discount window ($bn, sum of days)", _use(dw)),
        (
            "final reserves / ON RRP / TGA ($bn)",
            f"{last['reserves']:,.1f} / {last['on_rrp']:,.1f} / {last['tga']:,.1f}",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


# --------------------------------------------------------------------------- synthetic table
DAILY_COLUMNS = (
    "date",
    "sofr",
    "sofr_p1",
    "sofr_p25",
    "sofr_p75",
    "sofr_p99",
    "effr",
    "effr_p1",
    "effr_p99",
    "iorb",
    "on_rrp_rate",
    "srf_rate",
    "discount_rate",
    "reserves",
    "on_rrp",
    "tga",
    "currency",
    "fed_assets",
    "srf_take_up",
    "discount_window_take_up",
    "fed_repo_ops",
    "bank_assets",
    "reserves_to_assets",
    "repo_volume",
    "ff_volume",
    "repo_spread_bp",
    "repo_spread_p99_bp",
    "effr_spread_bp",
    "fed_net_income",
    "soma_wam_years",
    "drivers",
)


def synthetic_daily(days: int = 250, seed: int = 0, start: str = "2019-01-02") -> pd.DataFrame:
    """Make up a daily table with the engine's columns, for tests, docs and demos.

    Reserves drain steadily, SOFR trades a few basis points around IORB and spikes once, on
    a day tagged with calendar drivers, when the SRF and the discount window are used.

    Args:
        days: number of business days (weekdays; holidays are ignored).
        seed: seed of the noise.
        start: first day.

    """
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=days)
    iorb = np.full(days, 2.35)
    on_rrp_rate = iorb - 0.10
    reserves = np.linspace(1650.0, 1350.0, days) + rng.normal(0, 15, days)
    bank_assets = np.full(days, 17000.0)
    scarcity = np.clip((1500.0 - reserves) / 150.0, 0, None)
    spread = -3.0 + 6.0 * scarcity + rng.normal(0, 1.5, days)
    spike = days * 2 // 3
    spread[spike] = 280.0
    sofr = iorb + spread / 100.0
    srf = np.zeros(days)
    srf[spike] = 53.0
    dw = np.zeros(days)
    dw[spike] = 4.0
    drivers = np.full(days, "", dtype=object)
    drivers[spike] = "corporate tax date; coupon settlement"
    frame = pd.DataFrame(
        {
            "date": dates.date,
            "sofr": sofr,
            "sofr_p1": sofr - 0.08,
            "sofr_p25": sofr - 0.02,
            "sofr_p75": sofr + 0.02,
            "sofr_p99": sofr + 0.15 + 0.02 * spread.clip(0, None),
            "effr": iorb - 0.05 + spread.clip(0, None) / 300.0,
            "effr_p1": iorb - 0.10,
            "effr_p99": iorb + 0.05,
            "iorb": iorb,
            "on_rrp_rate": on_rrp_rate,
            "srf_rate": np.full(days, np.nan),
            "discount_rate": iorb + 0.50,
            "reserves": reserves,
            "on_rrp": np.linspace(20.0, 2.0, days),
            "tga": 350.0 + 60.0 * np.sin(np.arange(days) / 20.0),
            "currency": np.linspace(1700.0, 1760.0, days),
            "fed_assets": np.linspace(4000.0, 3800.0, days),
            "srf_take_up": srf,
            "discount_window_take_up": dw,
            "fed_repo_ops": np.zeros(days),
            "bank_assets": bank_assets,
            "reserves_to_assets": reserves / bank_assets,
            "repo_volume": 1000.0 + rng.normal(0, 20, days),
            "ff_volume": 70.0 + rng.normal(0, 3, days),
            "repo_spread_bp": spread,
            "repo_spread_p99_bp": spread + 15.0,
            "effr_spread_bp": (iorb - 0.05 - iorb) * 100.0 + spread.clip(0, None) / 3.0,
            "fed_net_income": np.full(days, 0.15),
            "soma_wam_years": np.linspace(8.0, 7.8, days),
            "drivers": drivers,
        }
    )
    return frame[list(DAILY_COLUMNS)]
