"""Reserve-floor stress test: how low can reserves go before repo spreads break a threshold?

Mechanism (the "QT end point"). A candidate is a QT length ``x`` in months from the scenario's
first month: the scenario's runoff caps apply for ``floor(x)`` full months, the next month runs
off the fraction ``x - floor(x)`` of its caps, and ``fed.qt_end`` stops runoff after that (full
reinvestment; reserve-management purchases, if any, continue). Longer QT drains more reserves,
so ``x`` is a continuous knob for the level of reserves. Reserves are never set by hand: they
are what the balance sheet, the Treasury and the agents make of the QT.

Stress window. After the QT end the run continues for ``window_days`` business days (default
252: one year with four quarter-ends including a year-end, five corporate tax dates and the
individual tax day). The candidate's *level of reserves* is the mean of daily reserves over
that window (tax-date dips below it are part of the stress); its reserves / bank assets is the
window mean of that ratio. The test statistic is the ``quantile`` (default 0.99) over the
window's days of the daily repo spread to IORB, ``repo_spread_bp`` (the SOFR analogue, the
volume-weighted median repo rate, minus IORB); ``series="repo_spread_p99_bp"`` uses the 99th
percentile of each day's trade rates instead. A seed passes at a candidate when the statistic
is at most ``threshold_bp``.

Search. Each seed ``s`` uses one random stream, ``SeedSequence(base_seed, spawn_key=(s,))``,
for every candidate (common random numbers: candidates of a seed differ only by the QT). First
a ladder of ``ladder`` QT lengths from 0 to ``max_qt_months`` runs for every seed (it also
draws the curve of the figure); then each seed bisects ``steps`` times between its last passing
and first failing ladder point. A seed's floor is the reserves level of its longest passing
QT (the lowest passing level found); its bracket is the gap to the shortest failing QT. The
headline floor is the lowest level at which at least ``pass_share`` of the seeds pass, i.e.
the ``ceil(pass_share * seeds)``-th smallest seed floor (with ``pass_share = 1``, the highest
seed floor: all seeds pass). The band is the 5th-95th percentile of the seed floors.

All runs go through `fedplumbing.experiments.sweep.open_executor`: a local process pool, or a
Dask cluster (scheduler address or loopback LocalCluster).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import json
import math
import time
from collections.abc import Callable, Mapping
from concurrent.futures import BrokenExecutor, Executor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "FAST",
    "SERIES",
    "StressResult",
    "StressSettings",
    "evaluate_candidate",
    "qt_overrides",
    "run_stress_floor",
    "write_outputs",
]

SERIES = ("repo_spread_bp", "repo_spread_p99_bp")
"""Daily spread series the quantile may be taken of."""

FAST = {
    "seeds": 4,
    "ladder": 4,
    "steps": 3,
    "window_days": 126,
    "population": {"population.banks": 100, "population.mmfs": 20},
}
"""What ``--fast`` changes: fewer seeds, ladder points and bisection steps, a half-year window
and a small population (28 runs, about 30 s on 2 cores for the default scenario)."""

MIN_WINDOW_DAYS = 63
TAX_DAY = "corporate tax date"
QUARTER_END = ("quarter-end", "year-end")  # the calendar names a year-end only "year-end"


class StressError(ValueError):
    """Invalid stress-test settings; the message is one line naming the setting."""


@dataclass(frozen=True)
class StressSettings:
    """Settings of a reserve-floor stress test (see the module docs for their meaning).

    Attributes:
        scenario: Scenario name or TOML path.
        overrides: Dotted-path overrides applied to the scenario first.
        threshold_bp: Pass if the spread quantile is at most this (bp).
        quantile: Quantile over the window's days, in (0, 1].
        series: ``"repo_spread_bp"`` or ``"repo_spread_p99_bp"``.
        seeds: Seeds (independent random streams).
        base_seed: Root entropy of the seeds.
        pass_share: Share of seeds that must pass at the headline floor, in (0, 1].
        window_days: Business days of the stress window after the QT end.
        max_qt_months: Longest QT tried (default: the scenario's horizon in months).
        ladder: QT lengths on the initial ladder (0 to ``max_qt_months``).
        steps: Bisection steps per seed after the ladder.

    """

    scenario: str = "default"
    overrides: Mapping[str, Any] = field(default_factory=dict)
    threshold_bp: float = 25.0
    quantile: float = 0.99
    series: str = "repo_spread_bp"
    seeds: int = 10
    base_seed: int = 2019
    pass_share: float = 1.0
    window_days: int = 252
    max_qt_months: float | None = None
    ladder: int = 6
    steps: int = 4

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (stored with the results)."""
        out = dataclasses.asdict(self)
        out["overrides"] = {k: _jsonable(v) for k, v in self.overrides.items()}
        return out


@dataclass
class StressResult:
    """The outcome of `run_stress_floor`.

    Attributes:
        settings: The settings used (``max_qt_months`` filled in).
        evaluations: One row per (seed, candidate) run.
        seeds: One row per seed: its floor, bracket and the stress days at the floor.
        floor: Headline floor: reserves ($bn), reserves / bank assets, censoring flags, band.
        elapsed_s: Wall time.

    """

    settings: StressSettings
    evaluations: pd.DataFrame
    seeds: pd.DataFrame
    floor: dict[str, Any]
    elapsed_s: float = 0.0

    def format(self) -> str:
        """Short text summary of the headline floor and its band."""
        s, f = self.settings, self.floor
        head = (
            f"reserve floor ({s.scenario}): q{s.quantile:g} of daily {s.series} <= "
            f"{s.threshold_bp:g} bp over {s.window_days}-day windows in "
            f"{f['pass_share']:.0%} of {f['seeds_ok']} seeds"
        )
        if f["reserves"] is None:
            level = "not found (" + f["note"] + ")"
        else:
            bound = "<= " if f["censored_low"] else ""
            level = (
                f"{bound}{f['reserves']:,.0f} $bn of reserves ({100 * f['ratio']:.2f}% of bank "
                f"assets); seed floors median {f['median']:,.0f}, 5-95% band "
                f"{f['p5']:,.0f}-{f['p95']:,.0f} $bn"
            )
        lines = [head, "  " + level]
        if f.get("note") and f["reserves"] is not None:
            lines.append("  note: " + f["note"])
        lines.append(
            f"  {len(self.evaluations)} runs in {self.elapsed_s:.0f} s"
            + (f", {f['failed_runs']} failed" if f["failed_runs"] else "")
        )
        return "\n".join(lines)


# --------------------------------------------------------------------------- candidates
def _month_start(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _caps_in_force(fed: Any, date: dt.date) -> tuple[float, float, float]:
    t_cap, m_cap, rmp = fed.treasury_cap, fed.mbs_cap, fed.rmp
    for step in sorted(fed.runoff, key=lambda r: r.date):
        if step.date > date:
            break
        t_cap, m_cap, rmp = step.treasury_cap, step.mbs_cap, step.rmp
    return t_cap, m_cap, rmp


def _horizon_months(config: Any) -> float:
    return float((config.end.year - config.start.year) * 12 + config.end.month - config.start.month)


def qt_overrides(config: Any, qt_months: float, end: dt.date) -> dict[str, Any]:
    """Overrides that make ``config`` run QT for ``qt_months`` months, then stop.

    Args:
        config: The base scenario (its runoff caps and schedule are kept up to the cut).
        qt_months: QT length in months from the scenario's first month (>= 0, fractional).
        end: Calendar end of the run (the same for every candidate of a test).

    Returns:
        ``{"fed.runoff": [...], "fed.qt_end": date, "end": end}``.

    """
    full = math.floor(qt_months + 1e-9)
    frac = qt_months - full
    cut = _month_start(config.start, full)
    steps = [
        dataclasses.asdict(step)
        for step in sorted(config.fed.runoff, key=lambda r: r.date)
        if step.date < cut
    ]
    if frac > 1e-9:
        t_cap, m_cap, rmp = _caps_in_force(config.fed, cut + dt.timedelta(days=14))
        steps.append(
            {"date": cut, "treasury_cap": frac * t_cap, "mbs_cap": frac * m_cap, "rmp": rmp}
        )
        qt_end = _month_start(config.start, full + 1)
    else:
        qt_end = cut
    return {"fed.runoff": steps, "fed.qt_end": qt_end, "end": end}


@functools.lru_cache(maxsize=8)
def _base_config(scenario: str, overrides_json: str) -> Any:
    from fedplumbing.sim.config import apply_overrides, load_scenario

    config = load_scenario(scenario)
    overrides = json.loads(overrides_json)
    return apply_overrides(config, overrides) if overrides else config


def evaluate_candidate(request: Mapping[str, Any]) -> dict[str, Any]:
    """Run one (seed, QT length) candidate and measure its stress window (runs in a worker).

    Args:
        request: ``scenario``, ``overrides_json``, ``qt_months``, ``end`` (ISO date),
            ``window_days``, ``seed`` (seed index), ``base_seed``, ``series``, ``quantile``.

    Returns:
        The window's statistics; ``error`` holds ``"Type: message"`` if the run raised.

    """
    from fedplumbing.sim.calendar import business_days
    from fedplumbing.sim.config import apply_overrides
    from fedplumbing.sim.run import simulate

    out: dict[str, Any] = {"seed": request["seed"], "qt_months": request["qt_months"]}
    start = time.perf_counter()
    try:
        base = _base_config(request["scenario"], request["overrides_json"])
        end = dt.date.fromisoformat(request["end"])
        over = qt_overrides(base, request["qt_months"], end)
        config = apply_overrides(base, over)
        qt_end = over["fed.qt_end"]
        before = len(business_days(config.start, qt_end - dt.timedelta(days=1)))
        window = int(request["window_days"])
        seed = np.random.SeedSequence(request["base_seed"], spawn_key=(request["seed"],))
        daily = simulate(config, seed, days=before + window).daily
        out.update(window_stats(daily.iloc[before:], request["series"], request["quantile"]))
        out["qt_end"] = qt_end.isoformat()
        out["reserves_at_qt_end"] = float(daily["reserves"].iloc[before])
        out["error"] = None
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:500]
    out["elapsed_s"] = time.perf_counter() - start
    return out


def window_stats(window: pd.DataFrame, series: str, quantile: float) -> dict[str, Any]:
    """Statistics of a stress window (one row per business day of the model's daily frame)."""
    spread = window[series].to_numpy(float)
    names = window["drivers"].astype(str)
    tax = names.str.contains(TAX_DAY, regex=False).to_numpy()
    qe = names.str.contains("|".join(QUARTER_END), regex=True).to_numpy()
    worst = int(np.nanargmax(spread)) if np.isfinite(spread).any() else 0
    return {
        "window_start": str(pd.Timestamp(window["date"].iloc[0]).date()),
        "window_end": str(pd.Timestamp(window["date"].iloc[-1]).date()),
        "days": len(window),
        "spread_q": float(np.nanquantile(spread, quantile)),
        "spread_max": float(np.nanmax(spread)),
        "worst_day": str(pd.Timestamp(window["date"].iloc[worst]).date()),
        "worst_day_events": names.iloc[worst],
        "tax_dates": int(tax.sum()),
        "quarter_ends": int(qe.sum()),
        "spread_max_tax": float(np.nanmax(spread[tax])) if tax.any() else float("nan"),
        "spread_max_quarter_end": float(np.nanmax(spread[qe])) if qe.any() else float("nan"),
        "reserves_mean": float(window["reserves"].mean()),
        "reserves_min": float(window["reserves"].min()),
        "ratio_mean": float(window["reserves_to_assets"].mean()),
    }


# --------------------------------------------------------------------------- validation
def validate(settings: StressSettings) -> tuple[StressSettings, Any]:
    """Check every setting and load the scenario; return settings with defaults filled in.

    Raises:
        StressError: One line naming the setting.

    """
    from fedplumbing.sim.config import ConfigError

    s = settings
    if not math.isfinite(s.threshold_bp):
        raise StressError(f"threshold_bp: must be a finite number (got {s.threshold_bp})")
    if not 0 < s.quantile <= 1:
        raise StressError(f"quantile: must be in (0, 1] (got {s.quantile:g})")
    if s.series not in SERIES:
        raise StressError(f"series: unknown series {s.series!r}; allowed: {', '.join(SERIES)}")
    if not 0 < s.pass_share <= 1:
        raise StressError(f"pass_share: must be in (0, 1] (got {s.pass_share:g})")
    for name, value, low in (
        ("seeds", s.seeds, 1),
        ("window_days", s.window_days, MIN_WINDOW_DAYS),
        ("ladder", s.ladder, 2),
        ("steps", s.steps, 0),
    ):
        if value < low:
            extra = " (a quarter: one quarter-end and one tax date)" if low > 2 else ""
            raise StressError(f"{name}: must be an integer >= {low}{extra} (got {value})")
    try:
        config = _base_config(s.scenario, json.dumps(_jsonable(dict(s.overrides))))
    except ConfigError as exc:
        raise StressError(" ".join(str(exc).split())) from None
    if config.mode != "policy":
        raise StressError(f"scenario: {s.scenario!r} is in {config.mode} mode; need policy mode")
    horizon = _horizon_months(config)
    max_qt = horizon if s.max_qt_months is None else s.max_qt_months
    if not (math.isfinite(max_qt) and max_qt > 0):
        raise StressError(f"max_qt_months: must be a number > 0 (got {max_qt:g})")
    if max_qt > 240:
        raise StressError(f"max_qt_months: at most 240 (got {max_qt:g})")
    settings = dataclasses.replace(s, max_qt_months=float(max_qt))
    try:  # the longest candidate must be a valid scenario
        from fedplumbing.sim.config import apply_overrides

        apply_overrides(config, qt_overrides(config, max_qt, _run_end(settings, config)))
    except ConfigError as exc:
        raise StressError(f"QT schedule: {' '.join(str(exc).split())}") from None
    return settings, config


def _run_end(settings: StressSettings, config: Any) -> dt.date:
    assert settings.max_qt_months is not None
    last_qt_end = _month_start(config.start, math.ceil(settings.max_qt_months) + 1)
    return last_qt_end + dt.timedelta(days=int(settings.window_days * 7 / 5) + 30)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


# --------------------------------------------------------------------------- search
def run_stress_floor(
    settings: StressSettings,
    *,
    executor: Executor | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    dask_local: int | None = None,
    progress: Callable[[str], None] | None = None,
    evaluate: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
) -> StressResult:
    """Find the reserve floor: ladder of QT lengths for every seed, then bisection per seed.

    Args:
        settings: What to test (see `StressSettings`).
        executor: Any `concurrent.futures.Executor` (not shut down here).
        workers: Local process-pool size (default: CPU count; 1 runs in-process).
        scheduler: Dask scheduler address.
        dask_local: Start a loopback Dask `LocalCluster` with this many workers.
        progress: Called with a one-line message after each stage.
        evaluate: Replaces `evaluate_candidate` (tests; must be picklable for process pools).

    Returns:
        Every evaluation, each seed's floor and the headline floor with its band.

    Raises:
        StressError: Invalid settings (nothing has run).

    """
    from fedplumbing.experiments.sweep import open_executor

    started = time.perf_counter()
    settings, config = validate(settings)
    assert settings.max_qt_months is not None
    template = {
        "scenario": settings.scenario,
        "overrides_json": json.dumps(_jsonable(dict(settings.overrides))),
        "end": _run_end(settings, config).isoformat(),
        "window_days": settings.window_days,
        "base_seed": settings.base_seed,
        "series": settings.series,
        "quantile": settings.quantile,
    }
    rows: list[dict[str, Any]] = []
    say = progress or (lambda _msg: None)
    with open_executor(executor, workers, scheduler, dask_local) as (pool, _capacity):

        def run(candidates: list[tuple[int, float]], stage: str) -> list[dict[str, Any]]:
            futures = [
                pool.submit(evaluate or evaluate_candidate, {**template, "seed": s, "qt_months": x})
                for s, x in candidates
            ]
            try:
                done = [f.result() for f in as_completed(futures)]
            except BrokenExecutor as exc:
                from fedplumbing.sim.cli import CommandError

                raise CommandError(
                    f"stress-floor: a worker process died during the {stage} stage (killed, "
                    f"or out of memory: {exc}); {len(rows)} earlier runs are lost, as a stress "
                    "floor cannot resume: rerun the same command, with fewer --workers if "
                    "memory is short"
                ) from None
            for row in done:
                row["stage"] = stage
                row["passed"] = row["error"] is None and row["spread_q"] <= settings.threshold_bp
            rows.extend(done)
            return done

        ladder = np.linspace(0.0, settings.max_qt_months, settings.ladder)
        run([(s, float(x)) for s in range(settings.seeds) for x in ladder], "ladder")
        say(f"ladder: {len(rows)} runs in {time.perf_counter() - started:.0f} s")
        brackets = _brackets(rows, settings.seeds)
        for step in range(settings.steps):
            todo = [(s, (lo + hi) / 2) for s, (lo, hi) in brackets.items() if hi is not None]
            todo = [(s, x) for s, x in todo if x not in (brackets[s][0], brackets[s][1])]
            if not todo:
                break
            for row in run(todo, f"bisect {step + 1}"):
                s, x = row["seed"], row["qt_months"]
                if row["error"] is not None:
                    brackets.pop(s, None)
                elif row["passed"]:
                    brackets[s] = (x, brackets[s][1])
                else:
                    brackets[s] = (brackets[s][0], x)
            say(
                f"bisection step {step + 1}: {len(rows)} runs, "
                f"{time.perf_counter() - started:.0f} s"
            )

    evaluations = pd.DataFrame(rows).sort_values(["seed", "qt_months"], kind="stable")
    evaluations = evaluations.reset_index(drop=True)
    seeds = _seed_floors(evaluations, settings.seeds)
    floor = _headline(seeds, settings, evaluations)
    return StressResult(settings, evaluations, seeds, floor, time.perf_counter() - started)


def _brackets(rows: list[dict[str, Any]], n_seeds: int) -> dict[int, tuple[float, float | None]]:
    """Per seed: (longest passing QT before the first failure, first failing QT or None).

    Seeds with a failed run, or failing already without QT, get no bracket.
    """
    out: dict[int, tuple[float, float | None]] = {}
    for s in range(n_seeds):
        mine = sorted((r for r in rows if r["seed"] == s), key=lambda r: r["qt_months"])
        if not mine or any(r["error"] is not None for r in mine) or not mine[0]["passed"]:
            continue
        lo, hi = mine[0]["qt_months"], None
        for r in mine[1:]:
            if not r["passed"]:
                hi = r["qt_months"]
                break
            lo = r["qt_months"]
        out[s] = (lo, hi)
    return out


def _seed_floors(evaluations: pd.DataFrame, n_seeds: int) -> pd.DataFrame:
    """One row per seed: the lowest passing level below which the seed first fails."""
    records = []
    for s in range(n_seeds):
        mine = evaluations[evaluations["seed"] == s].sort_values("qt_months")
        record: dict[str, Any] = {"seed": s, "status": "ok"}
        errors = mine["error"].dropna()
        if len(errors):
            record.update(status="failed", error=errors.iloc[0])
            records.append(record)
            continue
        failing = mine[~mine["passed"]]
        first_fail = failing["qt_months"].min() if len(failing) else math.inf
        passing = mine[mine["passed"] & (mine["qt_months"] < first_fail)]
        if passing.empty:
            record["status"] = "fails without QT"
            fail = mine.iloc[0]
            record.update(fail_reserves=fail["reserves_mean"], fail_qt_months=fail["qt_months"])
            records.append(record)
            continue
        best = passing.iloc[-1]
        record.update(
            floor_reserves=best["reserves_mean"],
            floor_ratio=best["ratio_mean"],
            floor_qt_months=best["qt_months"],
            floor_qt_end=best["qt_end"],
            floor_spread_q=best["spread_q"],
            floor_reserves_min=best["reserves_min"],
            floor_spread_max_tax=best["spread_max_tax"],
            floor_spread_max_quarter_end=best["spread_max_quarter_end"],
            worst_day=best["worst_day"],
            worst_day_events=best["worst_day_events"],
        )
        if math.isfinite(first_fail):
            fail = mine[mine["qt_months"] == first_fail].iloc[0]
            record.update(
                fail_reserves=fail["reserves_mean"],
                fail_qt_months=first_fail,
                fail_spread_q=fail["spread_q"],
            )
        else:
            record["status"] = "passes at max QT"
        records.append(record)
    return pd.DataFrame.from_records(records)


def _headline(seeds: pd.DataFrame, s: StressSettings, evaluations: pd.DataFrame) -> dict[str, Any]:
    failed_runs = int(evaluations["error"].notna().sum())
    usable = seeds[seeds["status"] != "failed"]
    out: dict[str, Any] = {
        "pass_share": s.pass_share,
        "seeds_ok": len(usable),
        "failed_runs": failed_runs,
        "reserves": None,
        "ratio": None,
        "censored_low": False,
        "note": "",
    }
    if usable.empty:
        out["note"] = "every seed has a failed run"
        return out
    k = math.ceil(s.pass_share * len(usable))
    if "floor_reserves" in usable:
        values = usable["floor_reserves"].to_numpy(float)
    else:
        values = np.full(len(usable), np.nan)
    if np.isfinite(values).sum() < k:
        bad = usable[usable["status"] == "fails without QT"]
        share = np.isfinite(values).sum() / len(usable)
        out["note"] = (
            f"spread quantile above {s.threshold_bp:g} bp even without QT in "
            f"{len(bad)} of {len(usable)} seeds (seeds {', '.join(map(str, bad['seed']))}, at "
            f"{', '.join(f'{r:,.0f}' for r in bad['fail_reserves'])} $bn); "
            + (f"--pass-share {share:.2g} or lower finds a floor" if share > 0 else "")
        ).rstrip("; ")
        return out
    # A seed failing without QT has an infinite floor; sort puts NaN last (treated as +inf).
    filled = np.where(np.isnan(values), np.inf, values)
    order = np.argsort(filled, kind="stable")
    pick = order[k - 1]
    ratios = usable["floor_ratio"].to_numpy(float)
    censored = usable["status"].to_numpy() == "passes at max QT"
    out.update(
        reserves=float(filled[pick]),
        ratio=float(ratios[pick]),
        censored_low=bool(censored[pick]),
        median=float(np.nanpercentile(values, 50)),
        p5=float(np.nanpercentile(values, 5)),
        p95=float(np.nanpercentile(values, 95)),
        min=float(np.nanmin(values)),
        max=float(np.nanmax(values)),
        ratio_p5=float(np.nanpercentile(ratios, 5)),
        ratio_p95=float(np.nanpercentile(ratios, 95)),
        bracket_bn=float(np.nanmedian(usable["floor_reserves"] - usable["fail_reserves"]))
        if "fail_reserves" in usable and usable["fail_reserves"].notna().any()
        else float("nan"),
    )
    if censored.any():
        out["note"] = (
            f"{int(censored.sum())} seed(s) still pass at the longest QT "
            f"({s.max_qt_months:g} months): their floors are upper bounds; raise --max-qt-months"
        )
    return out


# --------------------------------------------------------------------------- outputs
def write_outputs(result: StressResult, out_dir: str | Path) -> dict[str, Path]:
    """Write the tables (CSV, Markdown), the summary JSON and the figure, each atomically.

    Returns:
        Name -> path of each file written.

    """
    from fedplumbing.experiments.results import write_bytes_atomic, write_json_atomic

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "evaluations": out / "stress_floor_runs.csv",
        "seeds": out / "stress_floor_seeds.csv",
        "table": out / "stress_floor.md",
        "summary": out / "stress_floor.json",
        "figure": out / "stress_floor.png",
    }
    for key in ("evaluations", "seeds"):
        text = getattr(result, key).to_csv(index=False, float_format="%.6g")
        write_bytes_atomic(text.encode(), paths[key])
    write_bytes_atomic(markdown_table(result).encode(), paths["table"])
    write_json_atomic(
        {
            "settings": result.settings.to_dict(),
            "floor": result.floor,
            "elapsed_s": result.elapsed_s,
            "seeding": "seed s uses numpy.random.SeedSequence(base_seed, spawn_key=(s,)) "
            "for every candidate",
        },
        paths["summary"],
    )
    buffer = io.BytesIO()
    plot_floor(result).savefig(buffer, format="png", dpi=120)
    write_bytes_atomic(buffer.getvalue(), paths["figure"])
    return paths


def markdown_table(result: StressResult) -> str:
    """Markdown report: settings, the headline floor with its band, one row per seed."""
    s, f = result.settings, result.floor
    lines = [
        "# Reserve-floor stress test",
        "",
        f"- scenario `{s.scenario}`"
        + (
            f" with {', '.join(f'`{k}={v}`' for k, v in s.overrides.items())}"
            if s.overrides
            else ""
        ),
        f"- test: quantile {s.quantile:g} of daily `{s.series}` over a {s.window_days}-business-day"
        f" window after the QT end <= {s.threshold_bp:g} bp, in at least {s.pass_share:.0%} of "
        f"{s.seeds} seed{'' if s.seeds == 1 else 's'}",
        f"- search: ladder of {s.ladder} QT lengths from 0 to {s.max_qt_months:g} months, then "
        f"{s.steps} bisection steps per seed",
        "",
    ]
    if f["reserves"] is None:
        lines.append(f"**Floor not found**: {f['note']}.")
    else:
        bound = "<= " if f["censored_low"] else ""
        lines += [
            "| | reserves ($bn) | reserves / bank assets |",
            "|---|---:|---:|",
            f"| **floor** | **{bound}{f['reserves']:,.0f}** | **{100 * f['ratio']:.2f}%** |",
            f"| seed floors, median | {f['median']:,.0f} | |",
            f"| seed floors, 5-95% | {f['p5']:,.0f} - {f['p95']:,.0f} | "
            f"{100 * f['ratio_p5']:.2f}% - {100 * f['ratio_p95']:.2f}% |",
            f"| seed floors, min-max | {f['min']:,.0f} - {f['max']:,.0f} | |",
        ]
        if f.get("note"):
            lines += ["", f"Note: {f['note']}."]
    lines += [
        "",
        "Per seed (at its floor: spread quantile, worst spread on corporate tax dates and on "
        "quarter-ends in the window, the window's worst day):",
        "",
        "| seed | status | floor ($bn) | ratio | QT months | q spread (bp) | max tax date (bp) "
        "| max quarter-end (bp) | worst day | first failing ($bn) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for _, r in result.seeds.iterrows():
        lines.append(
            "| "
            + " | ".join(
                [
                    str(r["seed"]),
                    str(r["status"]),
                    _fmt(r.get("floor_reserves"), ",.0f"),
                    _fmt(100 * r.get("floor_ratio", np.nan), ".2f", "%"),
                    _fmt(r.get("floor_qt_months"), ".2f"),
                    _fmt(r.get("floor_spread_q"), ".1f"),
                    _fmt(r.get("floor_spread_max_tax"), ".1f"),
                    _fmt(r.get("floor_spread_max_quarter_end"), ".1f"),
                    f"{r.get('worst_day', '')} ({r.get('worst_day_events', '') or 'no event'})"
                    if isinstance(r.get("worst_day"), str)
                    else "",
                    _fmt(r.get("fail_reserves"), ",.0f"),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def _fmt(value: Any, spec: str, suffix: str = "") -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{v:{spec}}{suffix}" if math.isfinite(v) else ""


def plot_floor(result: StressResult):
    """Spread quantile against reserves: seeds, ladder band, threshold and the floor band."""
    from matplotlib.figure import Figure

    s, f, ev = result.settings, result.floor, result.evaluations
    ok = ev[ev["error"].isna()]
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    if ok.empty or "reserves_mean" not in ok:  # every run failed: say so instead of a chart
        ax.text(
            0.5,
            0.5,
            f"none of the {len(ev)} runs finished:\nsee the error column of stress_floor_runs.csv",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return fig
    ladder = ok[ok["stage"] == "ladder"]
    if len(ladder):
        by_x = ladder.groupby("qt_months")
        band = pd.DataFrame(
            {
                "reserves": by_x["reserves_mean"].median(),
                "lo": by_x["spread_q"].quantile(0.05),
                "mid": by_x["spread_q"].median(),
                "hi": by_x["spread_q"].quantile(0.95),
            }
        ).sort_values("reserves")
        ax.fill_between(
            band["reserves"],
            band["lo"],
            band["hi"],
            alpha=0.25,
            color="C0",
            label="seeds 5-95% (ladder)",
        )
        ax.plot(band["reserves"], band["mid"], color="C0", marker="o", label="median over seeds")
    passed = ok[ok["passed"]]
    failed = ok[~ok["passed"]]
    ax.scatter(
        passed["reserves_mean"], passed["spread_q"], s=10, color="C2", alpha=0.6, label="run passes"
    )
    ax.scatter(
        failed["reserves_mean"], failed["spread_q"], s=10, color="C3", alpha=0.6, label="run fails"
    )
    ax.axhline(s.threshold_bp, color="k", ls="--", lw=1, label=f"threshold {s.threshold_bp:g} bp")
    if f["reserves"] is not None:
        ax.axvspan(f["p5"], f["p95"], color="C1", alpha=0.15, label="seed floors 5-95%")
        ax.axvline(
            f["reserves"],
            color="C1",
            lw=2,
            label=f"floor {f['reserves']:,.0f} $bn ({100 * f['ratio']:.1f}% of bank assets)",
        )
    ax.set_yscale("symlog", linthresh=max(10.0, abs(s.threshold_bp)))
    ax.set_xlabel("reserves, mean over the stress window ($bn)")
    ax.set_ylabel(f"q{s.quantile:g} of daily {s.series} (bp)")
    ax.set_title(
        f"Reserve floor, {s.scenario}: {s.window_days}-day windows with tax dates and "
        f"quarter-ends, {s.seeds} seed{'' if s.seeds == 1 else 's'}",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="lower left")
    ax.grid(alpha=0.3)
    return fig
