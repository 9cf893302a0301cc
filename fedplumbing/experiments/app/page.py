"""The teaching app: a Mesa SolaraViz page over the money-market plumbing model.

Serve it with ``fedplumbing app`` (see :mod:`fedplumbing.experiments.cli_app`). Each browser
session builds its own `TeachingModel`; the sidebar holds Mesa's Step / Play / Reset controls
and the classroom settings (applied on **Reset**), the main area the day's explanation, three
charts and the sectors' T-accounts. Everything shown is computed in
:mod:`fedplumbing.experiments.app.teaching` from the model's own data.
"""

from __future__ import annotations

import html
import re

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import force_update, update_counter

from fedplumbing.experiments.app import teaching
from fedplumbing.experiments.app.teaching import TeachingModel

#: Height of each panel (pixels): Mesa lays components out in a grid of ~390 px cells.
PANEL_STYLE = {"height": "380px", "overflow-y": "auto", "padding": "4px 8px"}
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def model_params() -> dict:
    """Mesa ``model_params``: the scenario picker and the classroom settings."""
    ref = teaching.reference_config()
    return {
        "scenario_name": {
            "type": "Select",
            "value": teaching.DEFAULT_SCENARIO,
            "values": teaching.app_scenarios(),
            "label": "Scenario",
        },
        "qt_pace": {
            "type": "SliderFloat",
            "value": 1.0,
            "min": 0.0,
            "max": 3.0,
            "step": 0.25,
            "label": "QT pace (x the scenario's runoff caps)",
        },
        "iorb": {
            "type": "SliderFloat",
            "value": ref.rates.iorb,
            "min": 0.0,
            "max": 5.0,
            "step": 0.05,
            "label": "IORB (%)",
        },
        "on_rrp": {
            "type": "SliderFloat",
            "value": ref.rates.on_rrp,
            "min": 0.0,
            "max": 5.0,
            "step": 0.05,
            "label": "ON RRP rate (%)",
        },
        "srf": {
            "type": "Select",
            "value": teaching.SRF_CHOICES[0],
            "values": list(teaching.SRF_CHOICES),
            "label": "Standing repo facility (SRF)",
        },
        "srf_stigma_bp": {
            "type": "SliderInt",
            "value": int(ref.fed.srf_stigma_bp),
            "min": 0,
            "max": 500,
            "step": 10,
            "label": "SRF stigma (bp)",
        },
        "tga_target": {
            "type": "SliderInt",
            "value": int(ref.treasury.tga_target),
            "min": 0,
            "max": 1000,
            "step": 25,
            "label": "TGA target ($bn)",
        },
        "lclor_scale": {
            "type": "SliderFloat",
            "value": 1.0,
            "min": 0.25,
            "max": 3.0,
            "step": 0.05,
            "label": "Banks' LCLoR (x scenario)",
        },
        "seed": 0,
    }


def _inline_html(text: str) -> str:
    """Escape `text` and turn its ``**bold**`` into HTML.

    The page uses HTML rather than solara's Markdown for text with dollar amounts, which the
    Markdown component would typeset as math.
    """
    return _BOLD.sub(r"<b>\1</b>", html.escape(text))


def _canvases(model: TeachingModel) -> dict[str, teaching.Canvas]:
    """The model's reusable chart figures (one set per session's model)."""
    canvases = getattr(model, "_app_canvases", None)
    if canvases is None:
        canvases = {name: teaching.Canvas() for name in ("corridor", "liquidity", "demand")}
        model._app_canvases = canvases
    return canvases


@solara.component
def TodayPanel(model: TeachingModel) -> None:  # noqa: N802 - solara components are PascalCase
    """Date, day counter, the day's explanation and the settings in force."""
    update_counter.get()

    def run_to_tax_eve() -> None:
        model.run_to_next("is_corporate_tax_date")
        force_update()

    with solara.Column(style=PANEL_STYLE, classes=["fp-today"]):
        solara.Markdown(f"### {teaching.day_title(model)}")
        with solara.Row():
            solara.Button(
                "Run to the eve of the next tax day",
                on_click=run_to_tax_eve,
                outlined=True,
                small=True,
                disabled=not model.running,
            )
        items = "".join(f"<li>{_inline_html(line)}</li>" for line in teaching.explain_day(model))
        solara.HTML(
            tag="div",
            unsafe_innerHTML=(
                "<b>Why did the repo rate move today?</b>"
                f"<ul class='fp-explain'>{items}</ul>"
                f"<p><i>In force:</i> {_inline_html(teaching.in_force_text(model))}</p>"
                "<p><i>Changed a setting? Press <b>Reset</b> to start a new run with it.</i></p>"
            ),
        )
        for note in model.notes:
            solara.Warning(note, dense=True)


@solara.component
def CorridorChart(model: TeachingModel) -> None:  # noqa: N802
    """Administered rates with SOFR (median, p1-p99) and EFFR."""
    update_counter.get()
    png = solara.use_memo(
        lambda: teaching.corridor_png(model.recorder.rows, _canvases(model)["corridor"]),
        [model, model.days],
    )
    with solara.Column(style=PANEL_STYLE, classes=["fp-chart", "fp-corridor"]):
        solara.Image(png, width="100%")


@solara.component
def LiquidityChart(model: TeachingModel) -> None:  # noqa: N802
    """Reserves, ON RRP and TGA stacked."""
    update_counter.get()
    png = solara.use_memo(
        lambda: teaching.liquidity_png(model.recorder.rows, _canvases(model)["liquidity"]),
        [model, model.days],
    )
    with solara.Column(style=PANEL_STYLE, classes=["fp-chart", "fp-liquidity"]):
        solara.Image(png, width="100%")


@solara.component
def ReserveDemandChart(model: TeachingModel) -> None:  # noqa: N802
    """The reserve demand scatter filling in as the run goes."""
    update_counter.get()
    png = solara.use_memo(
        lambda: teaching.reserve_demand_png(
            model.recorder.rows, float(model.banks["lclor"].sum()), _canvases(model)["demand"]
        ),
        [model, model.days],
    )
    with solara.Column(style=PANEL_STYLE, classes=["fp-chart", "fp-demand"]):
        solara.Image(png, width="100%")


def _t_accounts_panel(model: TeachingModel, keys: tuple[str, ...], legend: bool) -> None:
    accounts = teaching.sector_accounts(model)
    flows = teaching.notable_flows(model.ledger.flows) if model.days else {}
    html = teaching.T_ACCOUNT_CSS
    if legend:
        html += f"<div class='fp-flows'>Today: {teaching.flow_chips_html(flows)}</div>"
    html += "".join(teaching.t_account_html(accounts[key]) for key in keys)
    with solara.Column(style=PANEL_STYLE, classes=["fp-taccounts"]):
        solara.HTML(tag="div", unsafe_innerHTML=html)


@solara.component
def PublicAccounts(model: TeachingModel) -> None:  # noqa: N802
    """T-accounts of the Fed and the Treasury, with today's flows as a legend."""
    update_counter.get()
    _t_accounts_panel(model, ("fed", "treasury"), legend=True)


@solara.component
def BankAccounts(model: TeachingModel) -> None:  # noqa: N802
    """T-accounts of all banks together and of the largest bank."""
    update_counter.get()
    _t_accounts_panel(model, ("banks", "largest_bank"), legend=False)


@solara.component
def NonbankAccounts(model: TeachingModel) -> None:  # noqa: N802
    """T-accounts of the money-market funds and the primary dealers."""
    update_counter.get()
    _t_accounts_panel(model, ("mmfs", "dealers"), legend=True)


COMPONENTS = [
    TodayPanel,
    CorridorChart,
    LiquidityChart,
    ReserveDemandChart,
    PublicAccounts,
    BankAccounts,
    NonbankAccounts,
]
MODEL_PARAMS = model_params()
TITLE = "fedplumbing: the money-market plumbing you can watch"


@solara.component
def Page() -> None:  # noqa: N802
    """The app: one model per browser session, shown by Mesa's SolaraViz."""
    model = solara.use_memo(TeachingModel, dependencies=[])
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=MODEL_PARAMS,
        name=TITLE,
        play_interval=150,
    )


page = Page
