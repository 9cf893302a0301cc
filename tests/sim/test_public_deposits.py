"""The public's deposits: where its payments land, and a run that exhausts them."""

import numpy as np
import pandas as pd
import pytest

from fedplumbing.sim import cli
from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.model import FedPlumbingModel, InfeasibleScenarioError
from fedplumbing.sim.payments import PUBLIC, TREASURY
from fedplumbing.sim.run import simulate


@pytest.fixture
def default_scenario():
    return load_scenario("default")


def _public_part(model: FedPlumbingModel) -> np.ndarray:
    """Each bank's deposits from the public: its deposits owed less its clients' cash."""
    led, pay = model.ledger, model.payments
    owed = led.balances[model.banks.rows, led.liability("deposits")]
    clients = np.zeros(model.banks.size)
    for pop in pay.nonbanks:
        np.add.at(clients, pop.custodian, led.held("deposits", pop.rows))
    return owed - clients


@pytest.mark.parametrize("debug", [False, True])
def test_the_public_pays_from_its_own_deposits(small_default, debug):
    """A payment by the public leaves money funds', dealers' and FHLBs' cash at their
    custodians untouched and takes the same share of every bank's deposits from the public.
    Spread by gross deposits, custodians paid for their clients' cash too, and a custodian
    of fast-growing funds could end up owing its own depositors less than nothing."""
    model = FedPlumbingModel(small_default, rng=3, debug=debug)
    model.step()
    model.payments.start_day()
    before = _public_part(model)
    clients_before = {
        p.name: model.ledger.held("deposits", p.rows).copy() for p in model.payments.nonbanks
    }
    custodians = np.unique(np.concatenate([p.custodian for p in model.payments.nonbanks]))
    assert (
        model.ledger.balances[model.banks.rows, model.ledger.liability("deposits")][custodians]
        > before[custodians] + 1.0
    ).all()  # custodians do hold client cash
    model.payments.transfer("test taxes", PUBLIC, TREASURY, 500.0)
    after = _public_part(model)
    np.testing.assert_allclose(after / before, 1.0 - 500.0 / before.sum(), rtol=1e-12)
    for p in model.payments.nonbanks:
        np.testing.assert_array_equal(model.ledger.held("deposits", p.rows), clients_before[p.name])


def test_a_run_that_exhausts_the_public_s_deposits_stops_with_a_reason(default_scenario):
    """Money funds growing fivefold a year buy shares with the public's deposits until none
    are left. The run used to end in a LedgerError traceback naming a bank's deposits; it
    now stops with one line that names the flows to lower."""
    cfg = apply_overrides(default_scenario, {"flows.mmf_growth": 5.0})
    with pytest.raises(
        InfeasibleScenarioError, match=r"public ran out of bank deposits on 2019-"
    ) as err:
        simulate(cfg, 0)
    assert "flows.mmf_growth 5" in str(err.value)
    # a growth the banking system can carry runs on past that date
    calm = simulate(apply_overrides(cfg, {"flows.mmf_growth": 0.05, "end": "2019-06-28"}), 0)
    assert pd.Timestamp(calm.daily["date"].iloc[-1]) == pd.Timestamp("2019-06-28")


def test_the_cli_names_an_exhausted_public_in_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["run", "--set", "flows.mmf_growth=5", "--out", str(out), "-q"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fedplumbing: error: the public ran out")
    assert not out.exists()


def test_the_treasury_s_spending_does_not_depend_on_the_run_s_end(default_scenario):
    """Daily outlays spread a year's lump taxes over a year: a run that ends earlier makes
    the same first days (they used to spread the lumps over the run's own calendar)."""
    short = apply_overrides(default_scenario, {"end": "2018-09-28"})
    a = simulate(short, 4, days=70).daily
    b = simulate(default_scenario, 4, days=70).daily
    assert a.equals(b)
    model = FedPlumbingModel(short, rng=0)
    t = short.treasury
    assert len(t.corporate_tax_months) == 5
    assert model.treasury.daily_outlays == pytest.approx(
        (t.deficit_per_year + 5 * t.corporate_tax + t.individual_tax) / 252.0
    )
