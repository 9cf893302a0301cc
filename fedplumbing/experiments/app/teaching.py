"""What the teaching app shows, computed from the model alone (no solara, no browser).

`TeachingModel` is the engine's `FedPlumbingModel` built from a scenario name and a handful
of classroom settings (the app's sliders); `settings_overrides` turns those settings into
config overrides. The other functions read the model's own data to build the page's
contents: T-account lines with today's changes (`t_account_lines`), the day's notable flows
(`notable_flows`), the plain-language explanation of the day (`explain_day`) and the three
small charts (`corridor_png`, `liquidity_png`, `reserve_demand_png`).

Units: $ billions, rates in percent, spreads in basis points.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fedplumbing.sim import history
from fedplumbing.sim.config import (
    ConfigError,
    ScenarioConfig,
    apply_overrides,
    config_to_dict,
    load_scenario,
    scenario_names,
)
from fedplumbing.sim.ledger import INSTRUMENTS
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.payments import FED, TREASURY

DEFAULT_SCENARIO = "default"
#: SRF choices of the app: keep the scenario's setting, or force the facility on or off.
SRF_CHOICES = ("as in scenario", "on", "off")

#: Today's postings worth pointing at in class, with the accounts each one moves.
NOTABLE_FLOWS: dict[str, tuple[str, ...]] = {
    # in order of priority: a line moved by several is coloured after the first
    "SRF": ("fed_repo", "reserves", "repo"),
    "discount window": ("discount_window", "reserves"),
    "Fed repo operations": ("fed_repo", "reserves", "repo"),
    "fire-sale funding": ("repo",),
    "tax receipts": ("tga", "reserves", "deposits"),
    "coupons auction settlement": ("coupons", "tga", "reserves", "deposits", "repo"),
    "bills auction settlement": ("bills", "tga", "reserves", "deposits"),
    "SOMA redemptions": ("bills", "coupons", "tga", "reserves"),
    "MBS paydowns": ("mbs", "reserves", "deposits"),
    "coupons redemptions": ("coupons", "tga", "reserves", "deposits"),
    "bills redemptions": ("bills", "tga", "reserves", "deposits"),
    "Treasury outlays": ("tga", "reserves", "deposits"),
    "cash management bills": ("bills", "tga", "reserves", "deposits"),
}
#: Highlight colour of each notable flow (soft, readable behind black text).
FLOW_COLOURS: dict[str, str] = {
    "tax receipts": "#ffd6a5",
    "coupons auction settlement": "#bde0fe",
    "bills auction settlement": "#cde7ff",
    "coupons redemptions": "#e2ecf9",
    "bills redemptions": "#e2ecf9",
    "SOMA redemptions": "#d8f3dc",
    "MBS paydowns": "#d8f3dc",
    "Treasury outlays": "#fff1b8",
    "cash management bills": "#cde7ff",
    "SRF": "#ffadad",
    "Fed repo operations": "#ffc8dd",
    "discount window": "#ff9b9b",
    "fire-sale funding": "#e5b3fe",
}
#: Colour of a line that moved for other reasons (overnight trades rolling over, interest).
MOVED_COLOUR = "#fff7d1"
#: A line is highlighted when it moved by at least this much today ($bn).
MOVE_THRESHOLD_BN = 0.5
#: Flows smaller than this are not reported ($bn).
FLOW_THRESHOLD_BN = 0.05


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Settings:
    """The app's classroom settings (the sliders).

    Absolute settings (rates, stigma, TGA target) start at the default scenario's values and
    override the chosen scenario only when moved away from them, so picking another scenario
    keeps that scenario's own values until a slider is touched. Scales multiply the
    scenario's values.

    Attributes:
        qt_pace: multiplier on the Fed's runoff caps (Treasury and MBS, every step of the
            schedule); 0 stops runoff, 2 doubles its pace.
        iorb: interest on reserve balances (percent); SRF and discount rates move with it.
        on_rrp: ON RRP offering rate (percent); capped at IORB.
        srf: one of `SRF_CHOICES`.
        srf_stigma_bp: the SRF's stigma cost (bp).
        tga_target: the Treasury's cash target ($bn).
        lclor_scale: multiplier on every bank's lowest comfortable level of reserves.
    """

    qt_pace: float = 1.0
    iorb: float | None = None
    on_rrp: float | None = None
    srf: str = SRF_CHOICES[0]
    srf_stigma_bp: float | None = None
    tga_target: float | None = None
    lclor_scale: float = 1.0


def reference_config() -> ScenarioConfig:
    """The config whose values the app's sliders start from (the default scenario)."""
    return load_scenario(DEFAULT_SCENARIO)


def app_scenarios(names: Iterable[str] | None = None) -> list[str]:
    """Scenarios offered by the picker: the default first, then the September 2019 replays.

    Args:
        names: available scenario names (default: `scenario_names()`).

    Returns:
        The names, ``default`` first, ``sept2019*`` next, the rest alphabetically.
    """
    names = sorted(scenario_names() if names is None else names)

    def rank(name: str) -> tuple[int, str]:
        if name == DEFAULT_SCENARIO:
            return (0, name)
        if name.startswith("sept2019"):
            return (1, name)
        return (2, name)

    return sorted(names, key=rank)


def _signed(value: float) -> str:
    """A whole number with its sign, never "-0" (a -0.3 bp average printed as -0)."""
    return f"{round(value):+d}"


def _moved(value: float | None, start: float) -> bool:
    return value is not None and abs(value - start) > 1e-9


def _clip(value: float, lo: float, hi: float) -> float:
    return float(min(max(value, lo), hi))


def _moved_schedule(
    changes: Sequence[Any], iorb: float, on_rrp: float, shift: float, offset: float
) -> list[dict[str, Any]]:
    """The scheduled rate changes moved with the app's settings, as override dicts.

    Every scheduled rate moves by `shift` (the ON RRP by `shift + offset`), and an entry
    that leaves the ON RRP in force above the IORB in force (a change of IORB alone, after
    a lower one) sets the ON RRP at that IORB, so that every day's corridor is valid.

    Args:
        changes: the scenario's `rates.changes`.
        iorb: IORB at the start, after the settings.
        on_rrp: ON RRP at the start, after the settings.
        shift: the IORB move (percent).
        offset: the ON RRP's move beyond `shift` (percent).
    """
    moved = sorted(config_to_dict(list(changes), native=True), key=lambda c: c["date"])
    iorb_now, on_rrp_now = iorb, on_rrp
    for change in moved:
        for key in ("iorb", "srf", "discount"):
            if change[key] is not None:
                change[key] += shift
        if change["on_rrp"] is not None:
            change["on_rrp"] = max(change["on_rrp"] + shift + offset, -1.0)
        iorb_now = change["iorb"] if change["iorb"] is not None else iorb_now
        on_rrp_now = change["on_rrp"] if change["on_rrp"] is not None else on_rrp_now
        if on_rrp_now > iorb_now:
            change["on_rrp"] = on_rrp_now = iorb_now
    return moved


def settings_overrides(
    base: ScenarioConfig, settings: Settings, reference: ScenarioConfig | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Config overrides for the app's settings, and notes to show the user.

    Args:
        base: the chosen scenario.
        settings: the slider values.
        reference: the config the sliders start from (default: the default scenario).

    Returns:
        ``(overrides, notes)``: dotted-key overrides for `apply_overrides`, and one-line
        notes about adjustments (e.g. an ON RRP rate capped at IORB).
    """
    ref = reference or reference_config()
    out: dict[str, Any] = {}
    notes: list[str] = []
    fed = base.fed
    pace = max(0.0, float(settings.qt_pace))
    if abs(pace - 1.0) > 1e-9:
        out["fed.treasury_cap"] = fed.treasury_cap * pace
        out["fed.mbs_cap"] = fed.mbs_cap * pace
        if fed.runoff:
            steps = config_to_dict(fed.runoff, native=True)
            for step in steps:
                step["treasury_cap"] *= pace
                step["mbs_cap"] *= pace
            out["fed.runoff"] = steps

    rates = base.rates
    shift = settings.iorb - rates.iorb if _moved(settings.iorb, ref.rates.iorb) else 0.0
    iorb = rates.iorb + shift
    # the whole corridor moves with IORB; a moved ON RRP slider sets the floor's level at the
    # start, and moves the scheduled ON RRP rates by as much (`offset`)
    on_rrp = settings.on_rrp if _moved(settings.on_rrp, ref.rates.on_rrp) else rates.on_rrp + shift
    offset = on_rrp - (rates.on_rrp + shift)
    if on_rrp > iorb:
        notes.append(f"ON RRP rate {on_rrp:.2f}% capped at IORB {iorb:.2f}% (floor <= IORB).")
        on_rrp = iorb
    if abs(shift) > 1e-12:
        out["rates.iorb"] = iorb
        out["rates.srf"] = rates.srf + shift
        out["rates.discount"] = rates.discount + shift
        notes.append(
            f"IORB {_signed(shift * 100)} bp: the ON RRP, SRF and discount rates move with it."
        )
    if abs(on_rrp - rates.on_rrp) > 1e-12:
        out["rates.on_rrp"] = on_rrp
    if rates.changes and (abs(shift) > 1e-12 or abs(offset) > 1e-12):
        out["rates.changes"] = _moved_schedule(rates.changes, iorb, on_rrp, shift, offset)
        notes.append(
            "The scheduled rate changes move with these settings (IORB "
            f"{_signed(shift * 100)} bp, ON RRP {_signed((shift + offset) * 100)} bp); "
            "the ON RRP rate never exceeds the IORB in force."
        )

    if settings.srf == "on":
        out["fed.srf_enabled"] = True
        if base.mode == "replay" and base.replay.srf_over_iorb_bp is None:
            first = history.srf_start()
            if base.end < first:
                # a replay wholly before the SRF existed: price one at the scenario's spread
                spread_bp = round((base.rates.srf - base.rates.iorb) * 100.0, 6)
                out["replay.srf_over_iorb_bp"] = spread_bp
                notes.append(
                    f"Replay: the SRF is offered at IORB {_signed(spread_bp)} bp every day "
                    f"(history had none before {first:%B %Y})."
                )
            else:  # a replay that reaches the SRF keeps history's
                notes.append(f"Replay: the SRF is history's, from {first:%B %Y} (none before).")
    elif settings.srf == "off":
        out["fed.srf_enabled"] = False
    if _moved(settings.srf_stigma_bp, ref.fed.srf_stigma_bp):
        out["fed.srf_stigma_bp"] = _clip(settings.srf_stigma_bp, 0.0, 5000.0)
    if _moved(settings.tga_target, ref.treasury.tga_target):
        out["treasury.tga_target"] = _clip(settings.tga_target, 0.0, 3000.0)
    scale = float(settings.lclor_scale)
    if abs(scale - 1.0) > 1e-9:
        out["banks.lclor_scale"] = _clip(base.banks.lclor_scale * scale, 0.0, 10.0)
    if base.mode == "replay" and any(
        k.startswith(("rates.", "fed.treasury_cap", "fed.mbs_cap", "fed.runoff", "treasury."))
        for k in out
    ):
        notes.append(
            "Replay scenario: rates, the Fed's portfolio and the TGA follow history, so the "
            "rate, QT and TGA settings may have no effect."
        )
    return out, notes


def _config_for(
    base: ScenarioConfig, overrides: dict[str, Any], notes: list[str]
) -> ScenarioConfig:
    """`base` with the settings' overrides; what cannot apply is left out, with a note.

    The rate settings are dropped first (a schedule may make them invalid), then all.
    """
    try:
        return apply_overrides(base, overrides)
    except ConfigError as exc:
        reason = str(exc)
    others = {k: v for k, v in overrides.items() if not k.startswith("rates.")}
    if len(others) < len(overrides):
        try:
            config = apply_overrides(base, others)
        except ConfigError:
            pass
        else:
            notes.append(f"Rate settings not applied ({reason}); the others are.")
            return config
    notes.append(f"Settings not applied: {reason}")
    return base


# --------------------------------------------------------------------------- the model
class TeachingModel(FedPlumbingModel):
    """The engine's model built from a scenario name and the app's settings.

    Keeps yesterday's balance sheets so the page can show what moved today.

    Args:
        scenario_name: built-in scenario (see `app_scenarios`).
        qt_pace: see `Settings`.
        iorb: see `Settings`.
        on_rrp: see `Settings`.
        srf: see `Settings`.
        srf_stigma_bp: see `Settings`.
        tga_target: see `Settings`.
        lclor_scale: see `Settings`.
        seed: random seed (same settings and seed, same run).

    Attributes:
        scenario_name: the scenario actually loaded.
        settings: the settings used.
        notes: adjustments made to the settings, for the page.
        previous_balances: the ledger matrix at the start of the last day simulated.
    """

    def __init__(
        self,
        scenario_name: str = DEFAULT_SCENARIO,
        qt_pace: float = 1.0,
        iorb: float | None = None,
        on_rrp: float | None = None,
        srf: str = SRF_CHOICES[0],
        srf_stigma_bp: float | None = None,
        tga_target: float | None = None,
        lclor_scale: float = 1.0,
        seed: int = 0,
    ) -> None:
        notes: list[str] = []
        try:
            base = load_scenario(scenario_name)
        except ConfigError as exc:
            notes.append(f"Could not load scenario '{scenario_name}' ({exc}); using default.")
            scenario_name, base = DEFAULT_SCENARIO, load_scenario(DEFAULT_SCENARIO)
        self.settings = Settings(
            qt_pace, iorb, on_rrp, srf, srf_stigma_bp, tga_target, float(lclor_scale)
        )
        overrides, more = settings_overrides(base, self.settings)
        notes += more
        config = _config_for(base, overrides, notes)
        try:
            super().__init__(config, rng=int(seed))
        except ConfigError as exc:
            # the opening fit (`initial.fit_on_rrp`) can find no opening at these rates
            if not config.initial.fit_on_rrp:
                raise
            notes.append(
                f"The opening ON RRP could not be fitted at these settings ({exc}); the run "
                "opens with the scenario's own hedge-fund book instead."
            )
            config = apply_overrides(config, {"initial.fit_on_rrp": False})
            super().__init__(config, rng=int(seed))
        # Mesa's step advances its clock, then calls `step` below: two threads stepping at
        # once (the Play loop and the tax-eve button) must hold the lock for both, or days
        # are lost and the clock runs ahead of the events
        self._step_lock = threading.RLock()
        clock_step = self.step

        def locked_step() -> None:
            with self._step_lock:
                clock_step()

        self.step = locked_step
        self.scenario_name = scenario_name
        self.notes = notes
        self.overrides = overrides
        self.previous_balances = self.ledger.balances.copy()

    def step(self) -> None:
        """Advance one business day, remembering the balance sheets of the morning.

        Mesa calls this from its clock-advancing step, which the constructor wraps in a lock:
        steps from two threads run one at a time.
        """
        if not self.running:
            return
        self.previous_balances = self.ledger.balances.copy()
        super().step()

    @property
    def days(self) -> int:
        """Business days simulated so far."""
        return len(self.recorder.rows)

    @property
    def total_days(self) -> int:
        """Business days in the scenario."""
        return len(self.calendar)

    def run_to_next(self, flag: str = "is_corporate_tax_date", max_days: int = 400) -> int:
        """Step up to the eve of the next business day with calendar `flag` set.

        Args:
            flag: a calendar flag, e.g. ``"is_corporate_tax_date"``.
            max_days: most days to step.

        Returns:
            The number of days stepped (0 if the next day is already flagged).
        """
        stepped = 0
        while self.running and stepped < max_days and not self.flags.get(flag, False):
            self.step()
            stepped += 1
        return stepped


# --------------------------------------------------------------------------- T-accounts
@dataclass(frozen=True)
class Line:
    """One line of a T-account: an account, its balance, today's change, what moved it."""

    account: str
    amount: float
    change: float
    flows: tuple[str, ...] = ()

    @property
    def moved(self) -> bool:
        """True when the line moved enough today to be highlighted."""
        return abs(self.change) >= MOVE_THRESHOLD_BN


@dataclass(frozen=True)
class TAccount:
    """A sector's balance sheet with today's changes."""

    title: str
    assets: list[Line]
    liabilities: list[Line]


def notable_flows(flows: dict[str, float]) -> dict[str, float]:
    """Today's notable postings (see `NOTABLE_FLOWS`) above the reporting threshold."""
    return {
        label: float(amount)
        for label, amount in flows.items()
        if label in NOTABLE_FLOWS and abs(amount) >= FLOW_THRESHOLD_BN
    }


def t_account(
    model: TeachingModel, rows: int | slice, title: str, flows: dict[str, float] | None = None
) -> TAccount:
    """Balance sheet of `rows` (summed) now, with the change since this morning.

    Args:
        model: the model (after at least zero steps).
        rows: a ledger row or slice of rows.
        title: heading of the T-account.
        flows: today's notable flows (default: from the model's ledger).

    Returns:
        The T-account; equity is the last liability line.
    """
    led = model.ledger
    now = np.atleast_2d(led.balances[rows]).sum(axis=0)
    before = np.atleast_2d(model.previous_balances[rows]).sum(axis=0)
    today = notable_flows(led.flows) if flows is None else flows

    def why(account: str) -> tuple[str, ...]:
        return tuple(f for f in NOTABLE_FLOWS if f in today and account in NOTABLE_FLOWS[f])

    def lines(column: str) -> list[Line]:
        out = []
        for name in INSTRUMENTS:
            col = led.asset(name) if column == "asset" else led.liability(name)
            if abs(now[col]) > 1e-9 or abs(before[col]) > 1e-9:
                change = float(now[col] - before[col])
                flows_ = why(name) if abs(change) >= MOVE_THRESHOLD_BN else ()
                out.append(Line(name, float(now[col]), change, flows_))
        return out

    liabilities = lines("liability")
    eq = led.equity_col
    liabilities.append(Line("equity", float(now[eq]), float(now[eq] - before[eq])))
    return TAccount(title, lines("asset"), liabilities)


def sector_accounts(model: TeachingModel) -> dict[str, TAccount]:
    """The T-accounts the page shows, by key."""
    flows = notable_flows(model.ledger.flows) if model.days else {}
    specs = {
        "fed": (FED, "Federal Reserve"),
        "treasury": (TREASURY, "Treasury"),
        "banks": (model.banks.rows, f"Banks (all {model.banks.size})"),
        "largest_bank": (model.banks.rows.start, "The largest bank"),
        "mmfs": (model.mmfs.rows, f"Money-market funds ({model.mmfs.size})"),
        "dealers": (model.dealers.rows, f"Primary dealers ({model.dealers.size})"),
    }
    return {key: t_account(model, rows, title, flows) for key, (rows, title) in specs.items()}


def t_account_html(account: TAccount) -> str:
    """Render a T-account as a compact two-column HTML table with moved lines highlighted."""

    def cell(line: Line | None) -> str:
        if line is None:
            return "<td></td><td></td><td></td>"
        colour = ""
        if line.moved:
            colour = FLOW_COLOURS.get(line.flows[0], MOVED_COLOUR) if line.flows else MOVED_COLOUR
        style = f' style="background:{colour}"' if colour else ""
        tip = f' title="{", ".join(line.flows)}"' if line.flows else ""
        change = f"{line.change:+,.1f}" if line.moved else ""
        name = line.account.replace("_", " ")
        return (
            f'<td class="fp-acct"{style}{tip}>{name}</td>'
            f'<td class="fp-num"{style}>{line.amount:,.1f}</td>'
            f'<td class="fp-chg"{style}>{change}</td>'
        )

    rows = []
    for i in range(max(len(account.assets), len(account.liabilities))):
        left = account.assets[i] if i < len(account.assets) else None
        right = account.liabilities[i] if i < len(account.liabilities) else None
        rows.append(f"<tr>{cell(left)}<td class='fp-bar'></td>{cell(right)}</tr>")
    return (
        f'<table class="fp-t" data-taccount="{account.title}">'
        f"<caption>{account.title}</caption>"
        "<tr><th colspan=3>assets</th><th class='fp-bar'></th><th colspan=3>liabilities</th></tr>"
        + "".join(rows)
        + "</table>"
    )


T_ACCOUNT_CSS = """
<style>
.fp-t {border-collapse: collapse; font-size: 12px; width: 100%; margin-bottom: 8px;
       font-variant-numeric: tabular-nums;}
.fp-t caption {font-weight: 600; text-align: left; padding: 2px 0;}
.fp-t th {font-weight: 500; color: #555; border-bottom: 1px solid #333; text-align: center;}
.fp-t td {padding: 1px 4px;}
.fp-t .fp-num, .fp-t .fp-chg {text-align: right;}
.fp-t .fp-chg {color: #444; font-size: 11px;}
.fp-t .fp-bar {border-left: 2px solid #333; width: 2px; padding: 0;}
.fp-chip {display: inline-block; border-radius: 4px; padding: 0 6px; margin: 1px 3px 1px 0;
          font-size: 12px;}
</style>
"""


def flow_chips_html(flows: dict[str, float]) -> str:
    """Today's notable flows as coloured chips (the legend of the T-account highlights)."""
    if not flows:
        return '<span class="fp-chip" style="background:#eee">no notable flows today</span>'
    chips = [
        f'<span class="fp-chip" style="background:{FLOW_COLOURS.get(k, MOVED_COLOUR)}">'
        f"{k} {_fmt_bn(v)}</span>"
        for k, v in sorted(flows.items(), key=lambda kv: -kv[1])
    ]
    return "".join(chips)


# --------------------------------------------------------------------------- explanation
def _fmt_bn(x: float) -> str:
    """An amount in $ billions, unsigned; one decimal below $10 bn (so $0.3 bn is not $0 bn)."""
    return f"${abs(x):,.1f} bn" if abs(x) < 9.95 else f"${abs(x):,.0f} bn"


def _on_rrp_change_by_holder(model: TeachingModel) -> list[tuple[str, float]]:
    """Today's change of ON RRP balances ($bn) of money funds and of FHLBs, largest first."""
    column = model.ledger.asset("on_rrp")
    changes = [
        (
            name,
            float(
                model.ledger.balances[pop.rows, column].sum()
                - model.previous_balances[pop.rows, column].sum()
            ),
        )
        for name, pop in (("money funds", model.mmfs), ("FHLBs", model.fhlbs))
    ]
    return sorted(changes, key=lambda c: -abs(c[1]))


#: Flows into and out of the TGA, for the explanation.
TGA_IN = (
    "tax receipts",
    "coupons auction settlement",
    "bills auction settlement",
    "cash management bills",
)
TGA_OUT = ("Treasury outlays", "coupons redemptions", "bills redemptions", "SOMA redemptions")


def _listing(flows: dict[str, float], labels: Sequence[str]) -> str:
    return ", ".join(f"{k} {_fmt_bn(flows[k])}" for k in labels if flows.get(k, 0.0) >= 0.5)


def explain_day(model: TeachingModel) -> list[str]:
    """Plain-language account of the last simulated day, from the model's own data.

    Returns:
        Markdown lines: first the repo-rate headline, then the day's drivers, largest first.
    """
    rows = model.recorder.rows
    if not rows:
        return [
            "Nothing has happened yet. Press **Step** to simulate the first business day, "
            "or **Run to the eve of the next tax day**."
        ]
    r = rows[-1]
    p = rows[-2] if len(rows) > 1 else None
    out: list[str] = []
    spread = r["repo_spread_bp"]
    recent = [row["repo_spread_bp"] for row in rows[-11:-1]]
    recent = [x for x in recent if np.isfinite(x)]
    if np.isfinite(spread):
        where = "above" if spread >= 0 else "below"
        head = (
            f"SOFR (the repo rate) was **{r['sofr']:.2f}%**, {abs(spread):.0f} bp {where} "
            f"IORB ({r['iorb']:.2f}%)"
        )
        if p is not None and np.isfinite(p["repo_spread_bp"]):
            jump = spread - p["repo_spread_bp"]
            if jump >= 3:
                head = f"**The repo rate jumped {jump:.0f} bp today.** " + head
            elif jump <= -3:
                head = f"**The repo rate fell {-jump:.0f} bp today.** " + head
            else:
                head = "The repo rate was steady. " + head
        if recent:
            avg = float(np.mean(recent))
            head += f"; its 10-day average was {_signed(avg)} bp to IORB"
        out.append(head + ".")
    else:
        out.append("No repo traded today.")

    drivers: list[tuple[float, str]] = []
    names = r.get("drivers", "")
    if names:
        drivers.append((1e9, f"Calendar: **{names}**."))
    flows = notable_flows(model.ledger.flows)
    if p is not None:
        dtga = r["tga"] - p["tga"]
        if abs(dtga) >= 5:
            into = _listing(flows, TGA_IN)
            out_of = _listing(flows, TGA_OUT)
            detail = "; ".join(
                part
                for part in (f"in: {into}" if into else "", f"out: {out_of}" if out_of else "")
                if part
            )
            detail = f" ({detail})" if detail else ""
            if dtga > 0:
                text = (
                    f"The Treasury's account at the Fed (TGA) **rose {_fmt_bn(dtga)}**{detail}: "
                    "that money left bank deposits and reserves."
                )
            else:
                text = (
                    f"The TGA **fell {_fmt_bn(dtga)}**{detail}: Treasury payments added "
                    "reserves back."
                )
            drivers.append((abs(dtga), text))
        dres = r["reserves"] - p["reserves"]
        cushion = r["reserves"] - float(model.banks["lclor"].sum())
        drivers.append(
            (
                abs(dres),
                f"Bank reserves {'fell' if dres < 0 else 'rose'} {_fmt_bn(dres)} to "
                f"{_fmt_bn(r['reserves'])}, {_fmt_bn(cushion)} "
                f"{'above' if cushion >= 0 else 'below'} the sum of banks' lowest "
                "comfortable levels (LCLoR).",
            )
        )
        drrp = r["on_rrp"] - p["on_rrp"]
        if abs(drrp) >= 5:
            parts = ", ".join(
                f"{name} {'-' if change < 0 else '+'}{_fmt_bn(change)}"
                for name, change in _on_rrp_change_by_holder(model)
                if abs(change) >= 0.05
            )
            drivers.append(
                (
                    abs(drrp),
                    f"The Fed's ON RRP {'fell' if drrp < 0 else 'rose'} {_fmt_bn(drrp)}"
                    + (f" ({parts})." if parts else "."),
                )
            )
    settle = flows.get("coupons auction settlement", 0.0)
    if settle >= 1:
        drivers.append(
            (
                settle,
                f"Dealers paid for {_fmt_bn(settle)} of new Treasury notes and bonds and "
                "financed much of it in repo, adding to repo demand.",
            )
        )
    flags = model.calendar.flags_on(model.days - 1)
    if flags.get("is_quarter_end"):
        drivers.append((5e8, "It is a **quarter-end**: foreign banks shrink their balance sheets."))
    if r["srf_take_up"] > 0.05:
        drivers.append(
            (
                r["srf_take_up"] + 1e6,
                f"**{_fmt_bn(r['srf_take_up'])} borrowed at the SRF** at {r['srf_rate']:.2f}%: "
                "the facility capped the repo rate.",
            )
        )
    if r["fed_repo_ops"] > 0.05:
        drivers.append(
            (
                r["fed_repo_ops"] + 1e6,
                f"The Fed lent {_fmt_bn(r['fed_repo_ops'])} in repo operations.",
            )
        )
    if r["discount_window_take_up"] > 0.05:
        drivers.append(
            (
                r["discount_window_take_up"] + 1e6,
                f"Banks short of reserves borrowed {_fmt_bn(r['discount_window_take_up'])} "
                f"at the discount window ({r['discount_rate']:.2f}%).",
            )
        )
    if r["fire_sale_funding"] > 0.5:
        drivers.append(
            (
                r["fire_sale_funding"] + 1e6,
                f"Dealers who found no repo raised {_fmt_bn(r['fire_sale_funding'])} at a "
                "fire-sale cost.",
            )
        )
    out += [text for _, text in sorted(drivers, key=lambda d: -d[0])]
    return out


def in_force_text(model: TeachingModel) -> str:
    """One line with the settings actually in force (after overrides and clamps)."""
    c = model.config
    r = model.rates_today  # today's rates: the schedule's, or history's in a replay
    srf = f"on, stigma {c.fed.srf_stigma_bp:.0f} bp" if c.fed.srf_enabled else "off"
    srf_rate = f"{r.srf:.2f}%" if np.isfinite(r.srf) else "none"
    if c.mode == "replay":
        portfolio = "the Fed's portfolio and the TGA follow history"
    else:
        treasury, mbs, _ = model.fed.caps_on(model.date)  # today's, after the schedule
        caps = (
            "no runoff (full reinvestment)"
            if treasury is None
            else f"QT caps ${treasury:.0f} + ${mbs:.0f} bn/month"
        )
        portfolio = f"{caps}; TGA target ${c.treasury.tga_target:.0f} bn"
    return (
        f"Scenario **{model.scenario_name}** ({c.mode}); {portfolio}; today IORB "
        f"{r.iorb:.2f}%, ON RRP {r.on_rrp:.2f}%, SRF {srf_rate} ({srf}); "
        f"LCLoR x{c.banks.lclor_scale:.2f}."
    )


def day_title(model: TeachingModel) -> str:
    """``Day N of M: Weekday YYYY-MM-DD`` for the last simulated day (or the opening)."""
    if not model.days:
        return f"Day 0 of {model.total_days}: opening balances before {model.date:%a %Y-%m-%d}"
    date: dt.date = model.recorder.rows[-1]["date"]
    return f"Day {model.days} of {model.total_days}: {date:%a %Y-%m-%d}"


# --------------------------------------------------------------------------- charts
#: Size of each chart (inches) and resolution: small, so a step renders fast.
FIG_SIZE = (5.8, 4.1)
FIG_DPI = 84
#: Fast PNG encoding: the charts are re-encoded at every step.
PNG_OPTIONS: dict[str, Any] = {"pil_kwargs": {"compress_level": 1}}


def _column(rows: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([row[key] for row in rows], dtype=float)


class Canvas:
    """A reusable small matplotlib figure with one axes.

    Reusing the figure keeps the Agg renderer, whose text-size cache makes redrawing several
    times faster than building a new figure at every step.
    """

    def __init__(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=FIG_SIZE, dpi=FIG_DPI)
        FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.1)
        self.ax = self.figure.subplots()

    def fresh(self) -> tuple[Any, Any]:
        """Clear the axes and return ``(figure, axes)``."""
        self.ax.clear()
        return self.figure, self.ax


def _figure(canvas: Canvas | None = None) -> Any:
    return (canvas or Canvas()).fresh()


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **PNG_OPTIONS)
    return buf.getvalue()


def _dates(rows: Sequence[dict[str, Any]]) -> np.ndarray:
    return np.array([row["date"] for row in rows], dtype="datetime64[D]")


def _date_axis(ax: Any, dates: np.ndarray) -> None:
    import matplotlib.dates as mdates

    last = max(dates[-1], dates[0] + np.timedelta64(7, "D"))  # at least a week wide
    ax.set_xlim(dates[0], last)
    span = int((last - dates[0]) / np.timedelta64(1, "D"))
    locator = mdates.DayLocator() if span < 12 else mdates.AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _empty(ax: Any, title: str) -> None:
    ax.set_title(title, fontsize=11)
    ax.text(0.5, 0.5, "press Step", ha="center", va="center", transform=ax.transAxes, color="0.5")
    ax.set_xticks([])
    ax.set_yticks([])


def corridor_png(rows: Sequence[dict[str, Any]], canvas: Canvas | None = None) -> bytes:
    """The rate corridor with SOFR (median and p1-p99 band) and EFFR, as PNG bytes."""
    fig, ax = _figure(canvas)
    title = "Corridor: administered rates, SOFR and EFFR (%)"
    if not rows:
        _empty(ax, title)
        return _png(fig)
    dates = _dates(rows)
    ax.fill_between(
        dates,
        _column(rows, "sofr_p1"),
        _column(rows, "sofr_p99"),
        color="tab:blue",
        alpha=0.2,
        lw=0,
        label="SOFR p1-p99",
    )
    ax.plot(dates, _column(rows, "sofr"), color="tab:blue", lw=1.2, label="SOFR")
    ax.plot(dates, _column(rows, "effr"), color="tab:orange", lw=1.0, label="EFFR")
    admin = [
        ("discount_rate", "discount", "tab:red", ":"),
        ("srf_rate", "SRF", "tab:purple", "--"),
        ("iorb", "IORB", "black", "-"),
        ("on_rrp_rate", "ON RRP", "tab:green", "-"),
    ]
    for key, label, colour, style in admin:
        values = _column(rows, key)
        if np.isfinite(values).any():
            ax.plot(
                dates, values, color=colour, ls=style, lw=1.0, drawstyle="steps-post", label=label
            )
    lo = np.nanmin(_column(rows, "on_rrp_rate")) - 0.15
    # the SOFR and EFFR medians stay in view however far they go (a spike is the lesson);
    # the p1-p99 band may leave the top; room above for the legend
    top = np.nanmax(
        [np.nanmax(_column(rows, k)) for k in ("discount_rate", "sofr", "effr", "iorb")]
    )
    hi = top + 0.15 + 0.2 * (top - lo)
    ax.set_ylim(lo, hi)
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, ncol=4, loc="upper left")
    ax.tick_params(labelsize=9)
    _date_axis(ax, dates)
    return _png(fig)


def liquidity_png(rows: Sequence[dict[str, Any]], canvas: Canvas | None = None) -> bytes:
    """The liquidity stack: reserves, ON RRP and TGA ($bn), as PNG bytes."""
    fig, ax = _figure(canvas)
    title = "Fed liabilities: reserves, ON RRP, TGA ($bn)"
    if not rows:
        _empty(ax, title)
        return _png(fig)
    dates = _dates(rows)
    ax.stackplot(
        dates,
        _column(rows, "reserves"),
        _column(rows, "on_rrp"),
        _column(rows, "tga"),
        labels=["reserves", "ON RRP", "TGA"],
        colors=["#4c78a8", "#72b7b2", "#f58518"],
        alpha=0.85,
    )
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, loc="lower left")
    ax.tick_params(labelsize=9)
    _date_axis(ax, dates)
    return _png(fig)


def reserve_demand_png(
    rows: Sequence[dict[str, Any]],
    lclor_total: float | None = None,
    canvas: Canvas | None = None,
) -> bytes:
    """The reserve demand curve traced by the run: repo spread to IORB against reserves."""
    fig, ax = _figure(canvas)
    title = "Reserve demand: SOFR - IORB (bp) vs reserves ($bn)"
    if not rows:
        _empty(ax, title)
        return _png(fig)
    x = _column(rows, "reserves")
    y = _column(rows, "repo_spread_bp")
    ax.scatter(x, y, c=np.arange(len(x)), cmap="viridis", s=8, alpha=0.8, lw=0)
    ax.scatter(x[-1:], y[-1:], s=60, facecolors="none", edgecolors="red", lw=1.5, label="today")
    ax.axhline(0.0, color="black", lw=0.8)
    if lclor_total is not None:
        ax.axvline(lclor_total, color="0.4", ls=":", lw=1.0, label="sum of LCLoR")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, loc="upper right")
    ax.tick_params(labelsize=9)
    return _png(fig)
