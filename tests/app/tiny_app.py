"""A tiny Mesa model and SolaraViz page used to test the offline app stack.

The model holds one number, ``value``, that grows by ``increment`` each step. The page shows
it in a matplotlib line chart and in a markdown line ``Tiny value: N at step S`` that the
browser test reads back.
"""

from __future__ import annotations

import mesa
import solara
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter


class TinyModel(mesa.Model):
    """One number that changes every step."""

    def __init__(self, start: int = 10, increment: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        self.value = start
        self.increment = increment
        self.datacollector = mesa.DataCollector(model_reporters={"Value": "value"})
        self.datacollector.collect(self)

    def step(self) -> None:
        self.value += self.increment
        self.datacollector.collect(self)


@solara.component
def ValueText(model: TinyModel) -> None:  # noqa: N802 - solara components are PascalCase
    update_counter.get()  # re-render whenever SolaraViz steps the model
    solara.Markdown(f"**Tiny value: {model.value} at step {model.steps}**")
    solara.Markdown(r"Rule: $v_{t+1} = v_t + \Delta$")  # KaTeX math: needs its fonts offline


model_params = {
    "start": {"type": "SliderInt", "value": 10, "label": "Start", "min": 0, "max": 100, "step": 1},
    "increment": 3,
}

page = SolaraViz(
    TinyModel(),
    components=[make_plot_component("Value"), ValueText],
    model_params=model_params,
    name="Tiny offline test model",
)
