"""The engine: accounting identities every day, no overdrafts, determinism, Mesa agents."""

import numpy as np
import pytest

from fedplumbing.agents.bank import Bank
from fedplumbing.agents.dealer import Dealer
from fedplumbing.agents.mmf import MoneyMarketFund
from fedplumbing.sim.config import apply_overrides
from fedplumbing.sim.ledger import LedgerError
from fedplumbing.sim.model import FedPlumbingModel
from fedplumbing.sim.payments import FED, PUBLIC
from fedplumbing.sim.run import simulate


def test_identities_hold_every_day_for_a_year(small_default):
    """Every posting is checked (debug) and every identity each day, to 1e-6 $bn."""
    cfg = apply_overrides(small_default, {"start": "2018-01-02", "end": "2018-12-31"})
    model = FedPlumbingModel(cfg, rng=7, debug=True)
    led = model.ledger
    worst = 0.0
    while model.running:
        model.step()
        errors = led.invariant_errors()
        worst = max(worst, *errors.values())
        # no account ends the day overdrawn
        assert led.held("reserves", model.banks.rows).min() > -1e-9
        for pop in (model.mmfs, model.dealers, model.fhlbs):
            assert led.held("deposits", pop.rows).min() > -1e-9, pop.name
        # the Fed's holdings are its SOMA ladder
        soma = model.fed.soma
        assert abs(led.held("bills", FED) - soma.bills.sum()) < 1e-6
        assert abs(led.held("coupons", FED) - soma.coupons.sum()) < 1e-6
        assert abs(led.held("mbs", FED) - soma.mbs) < 1e-6
        # reserves recorded = sum of bank accounts
        assert (
            abs(model.recorder.rows[-1]["reserves"] - led.held("reserves", model.banks.rows).sum())
            < 1e-6
        )
    assert worst < 1e-6
    assert model.day == len(model.calendar) == 251  # Fed business days in 2018
    # the run did exercise the machinery: taxes, auctions, runoff, markets
    daily = model.recorder.frame()
    assert daily["repo_volume"].min() > 0 and daily["ff_volume"].min() > 0
    assert daily["soma_treasuries"].iloc[-1] < daily["soma_treasuries"].iloc[0] - 200


@pytest.mark.timeout(120)
def test_no_account_ends_a_day_overdrawn_through_scarcity(small_default):
    """Through the default scenario's scarcity (2019-2020) banks borrow at the window most
    days; the interest and income posted after the window (paid from the public's deposits)
    used to leave a few $ million of overdraft at banks it had just brought to zero. Debug
    mode checks every holding at the end of every day."""
    model = FedPlumbingModel(small_default, rng=0, debug=True)
    window_days = 0
    while model.running:
        model.step()  # raises LedgerError on a negative holding
        window_days += model.facilities.today["discount_window"] > 0
        # the Fed's income by asset and liability adds up to its net income, the late
        # window loans' interest included (it was left out of the next day's lending income)
        row = model.recorder.rows[-1]
        by_source = row["fed_income_assets"] - row["fed_income_liabilities"]
        assert row["fed_net_income"] == pytest.approx(by_source, rel=1e-12, abs=1e-12)
    assert window_days > 100


def test_the_treasury_never_ends_a_day_overdrawn(small_default):
    """Spending, redemptions and interest are paid from the TGA whatever its balance: with
    taxes of $2T a quarter (spent evenly, received in lumps) the TGA ran to -$343B by
    February 2018. The Treasury now sells cash-management bills to the public instead."""
    from fedplumbing.sim.payments import TREASURY

    cfg = apply_overrides(small_default, {"treasury.corporate_tax": 2000.0})
    model = FedPlumbingModel(cfg, rng=0, debug=True)  # checks every holding each day
    sold = 0.0
    for _ in range(60):
        model.step()
        assert model.ledger.held("tga", TREASURY) >= 0.0
        sold += model.ledger.flows.get("cash management bills", 0.0)
    assert sold > 300


def test_direct_balance_edit_is_caught(small_default):
    model = FedPlumbingModel(small_default, rng=1, debug=True)
    model.step()
    model.ledger.balances[model.banks.rows.start, model.ledger.asset("reserves")] += 5.0
    with pytest.raises(LedgerError, match=r"identity 'balance sheets' broken by 5 \$bn"):
        model.step()


def test_same_seed_identical_different_seed_differs(small_default):
    a = simulate(small_default, 3, days=40).daily
    b = simulate(small_default, 3, days=40).daily
    c = simulate(small_default, 4, days=40).daily
    assert a.equals(b)
    assert not a.equals(c)
    assert a.to_csv().encode() == b.to_csv().encode()


def test_seed_sequence_accepted_and_deterministic(small_default):
    ss = np.random.SeedSequence(12345, spawn_key=(3,))
    a = simulate(small_default, ss, days=10).daily
    b = simulate(small_default, np.random.SeedSequence(12345, spawn_key=(3,)), days=10).daily
    assert a.equals(b)


def test_agents_are_mesa_agents_viewing_the_ledger(small_default):
    model = FedPlumbingModel(small_default, rng=1)
    model.step()
    banks = model.agents_by_type[Bank]
    assert len(banks) == 60
    assert len(model.agents_by_type[MoneyMarketFund]) == 12
    assert len(model.agents_by_type[Dealer]) == 8
    total = sum(b.reserves for b in banks)
    assert abs(total - model.ledger.owed("reserves", FED)) < 1e-6
    biggest = max(banks, key=lambda b: b.param("assets"))
    assert biggest.index == 0
    mv = biggest.reserve_marginal_value()
    assert model.rates_today.iorb <= mv <= model.bank_penalty_rate()[0]
    assert "reserves" in biggest.t_account()


def test_marginal_value_flat_then_steep():
    lclor, sd = np.array([100.0]), np.array([10.0])
    mv = [
        Bank.marginal_value(np.array([r]), lclor, sd, 2.0, 8.0)[0]
        for r in (200.0, 150.0, 120.0, 100.0, 80.0)
    ]
    assert mv[0] - 2.0 < 1e-6 and mv[1] - 2.0 < 1e-4  # flat when ample
    assert mv[2] < mv[3] < mv[4]  # steep near and below the LCLoR
    assert abs(mv[3] - 5.0) < 1e-9  # half way to the penalty at the LCLoR
    assert mv[4] < 8.0


def test_lending_schedule_conserves_reserves():
    qty, rate = Bank.lending_schedule(
        np.array([150.0, 50.0]),
        np.array([100.0, 100.0]),
        np.array([10.0, 10.0]),
        np.array([0.05, 0.05]),
        2.0,
        np.array([8.0, 8.0]),
    )
    assert np.all(qty >= 0) and np.all(np.diff(rate, axis=1) > 0)
    assert qty[0].sum() <= 150.0 and qty[1].sum() <= 50.0
    assert qty[0, 0] > 10.0  # a bank with a surplus offers most of it cheaply
    assert qty[1, :3].sum() == 0.0  # a bank below its LCLoR offers nothing cheap


@pytest.mark.parametrize("srf", [False, True], ids=["repo operations", "SRF"])
def test_identities_hold_through_a_spike_with_fed_lending_and_deleveraging(srf):
    """On stressed days the Fed's repo operations and hedge-fund deleveraging trade (no
    SRF), or the SRF lends to dealers and banks (an SRF without stigma, which keeps the
    spread below the operations' trigger); every identity still holds."""
    from test_emergence import LAB, lab

    assert LAB["dealers.elastic_share"] > 0
    cfg = lab(
        **{
            "fed.repo_ops_trigger_bp": 20.0,
            "fed.repo_ops_size": 60.0,
            "fed.srf_enabled": srf,
            "fed.srf_stigma_bp": 0.0,
            "start": "2019-09-03",
            "end": "2019-09-30",
        }
    )
    model = FedPlumbingModel(cfg, rng=1, debug=True)
    used = dict.fromkeys(["hedge_fund_cut", "srf_dealers", "srf_banks"], 0.0)
    fed_repo = 0.0  # the Fed's overnight repo lending: operations and the SRF
    while model.running:
        model.step()
        model.ledger.check()
        fed_repo += float(model.ledger.held("fed_repo", FED))
        for key in used:
            used[key] += model.facilities.today.get(key, 0.0)
    assert fed_repo > 100
    if srf:
        assert used["srf_dealers"] > 50 and used["srf_banks"] > 5
        assert used["srf_dealers"] + used["srf_banks"] == pytest.approx(fed_repo)
    else:
        assert used["hedge_fund_cut"] > 100 and used["srf_dealers"] == 0.0


def test_fed_operations_ramp_up_and_a_new_trigger_does_not_restart_the_ramp(small_default):
    """Operations start at their first size, grow linearly, then hold; re-triggering within an
    episode extends it at the size reached; a new episode starts small again."""
    cfg = apply_overrides(
        small_default,
        {
            "fed.repo_ops_trigger_bp": 50.0,
            "fed.repo_ops_size": 200.0,
            "fed.repo_ops_days": 6,
            "fed.repo_ops_first_size": 80.0,
            "fed.repo_ops_ramp_days": 4,
        },
    )
    fed = FedPlumbingModel(cfg).fed
    fed.react(60.0)
    sizes = [fed.repo_operation_today() for _ in range(3)]
    fed.react(60.0)  # still high: the episode is extended, the ramp goes on
    sizes += [fed.repo_operation_today() for _ in range(7)]
    assert sizes == [80.0, 110.0, 140.0, 170.0, 200.0, 200.0, 200.0, 200.0, 200.0, 0.0]
    fed.react(60.0)
    assert fed.repo_operation_today() == 80.0  # a new episode
    fed.react(10.0)  # below the trigger: no extension
    assert [fed.repo_operation_today() for _ in range(5)][-1] == 200.0
    assert fed.repo_operation_today() == 0.0


def test_a_bank_short_of_collateral_for_the_srf_borrows_the_rest_at_the_window(small_default):
    """The SRF lends a bank what its collateral allows; the discount window covers what is
    left, so the bank ends at zero (the SRF loans used to be counted twice, which left the
    bank overdrawn by the size of its SRF loan)."""
    from fedplumbing.sim import securities
    from fedplumbing.sim.repo_market import collateral_capacity

    cfg = apply_overrides(small_default, {"fed.srf_enabled": True, "fed.srf_stigma_bp": 0.0})
    model = FedPlumbingModel(cfg, rng=0, debug=True)
    led, fac = model.ledger, model.facilities
    led.start_day()
    model.payments.start_day()
    fac.reverse_late_payment_shock(model)
    model.overnight.unwind()
    model.driver.exogenous_flows(model)
    model.driver.securities(model)
    securities.cash_management_bills(model)
    model.fed_repo_ops_today = model.fed.repo_operation_today()
    model.repo_market.clear(model)
    model.fed_funds_market.clear(model)
    fac.place_at_on_rrp(model)
    fac.cover_dealers(model)
    bank = int(np.flatnonzero(model.banks["repo_active"])[0])
    capacity = collateral_capacity(model, model.banks.rows, cfg.fed.srf_haircut)[bank]
    assert capacity > 10.0
    # a payment takes the bank to $100bn below zero, more than its collateral can fund
    reserves = led.held("reserves", model.banks.rows)
    shift = np.zeros(model.banks.size)
    moved = float(reserves[bank]) + capacity + 100.0
    shift[bank], shift[bank - 1 if bank else 1] = -moved, moved
    fac._shift_deposits(model, shift, "test payment", moved)
    assert led.held("reserves", model.banks.rows)[bank] == pytest.approx(-capacity - 100.0)

    fac.cover_banks(model)
    assert fac.today["srf_banks"] == pytest.approx(capacity)
    assert fac.today["discount_window"] == pytest.approx(100.0)
    assert abs(led.held("reserves", model.banks.rows)[bank]) < 1e-9


def test_a_run_checks_its_books_at_the_end_without_debug(small_default, monkeypatch):
    """Outside debug mode the identities are checked once, after the last day: a direct
    write to the balances (money that no posting moved) stops the run."""
    step = FedPlumbingModel.step

    def leaky_step(model):
        step(model)
        if model.day == 3:
            model.ledger.balances[model.banks.rows.start, model.ledger.asset("reserves")] += 1.0

    simulate(small_default, 0, days=5)  # balanced books pass
    monkeypatch.setattr(FedPlumbingModel, "step", leaky_step)
    with pytest.raises(LedgerError, match="balance sheets"):
        simulate(small_default, 0, days=5)


@pytest.mark.parametrize("stigma_bp, uses_srf", [(0.0, True), (1000.0, False)])
def test_dealers_use_the_srf_only_when_it_is_cheaper_than_a_fire_sale(stigma_bp, uses_srf):
    """Dealers' repo bids stop at the SRF rate plus stigma or the fire-sale cost, whichever
    is lower; after the market they borrow where they bid. With 1000 bp of stigma (above
    the fire-sale cost of IORB + `dealers.fire_sale_cost_bp`) they used the SRF anyway,
    and its loans added reserves that no bid had priced."""
    from test_emergence import lab

    cfg = lab(
        **{
            "fed.srf_enabled": True,
            "fed.srf_stigma_bp": stigma_bp,
            "dealers.elastic_share": 0.0,  # no hedge-fund book to cut instead
            "start": "2019-09-03",
            "end": "2019-09-30",
        }
    )
    assert (cfg.fed.srf_stigma_bp > cfg.dealers.fire_sale_cost_bp) is not uses_srf
    model = FedPlumbingModel(cfg, rng=1)
    srf = fire_sale = 0.0
    while model.running:
        model.step()
        srf += model.facilities.today["srf_dealers"]
        fire_sale += model.facilities.today["fire_sale"]
    if uses_srf:
        assert srf > 50.0 and fire_sale < 1e-6
    else:
        assert srf == 0.0 and fire_sale > 1.0


def test_a_day_ending_overdrawn_stops_a_run_without_debug(small_default, monkeypatch):
    """No account ends a day overdrawn, checked every day outside debug mode too (a few
    microseconds): an account overdrawn on one day and repaired the next, which the
    end-of-run check cannot see, stops the run, and the message names the account."""
    from fedplumbing.sim import model as model_module

    step = model_module.FedPlumbingModel.step

    def leaky_step(model):
        # balanced writes that give a bank the public's currency and more on day 3 (nothing in
        # the day repairs that) and take them back on day 4
        if model.day in (3, 4):
            led, bank = model.ledger, model.banks.rows.start
            amount = led.held("currency", PUBLIC) + 5.0 if model.day == 3 else -amount_moved[0]
            amount_moved[0] = amount
            for row, sign in ((PUBLIC, -1.0), (bank, 1.0)):
                led.balances[row, led.asset("currency")] += sign * amount
                led.balances[row, led.equity_col] += sign * amount
        step(model)

    amount_moved = [0.0]
    monkeypatch.setattr(model_module.FedPlumbingModel, "step", leaky_step)
    with pytest.raises(LedgerError, match=r"negative holdings.*\(public's currency held\)"):
        simulate(small_default, 0, days=10)


def test_redemptions_beyond_a_fund_s_cash_are_met_by_selling_bills(small_default):
    """Money funds hold bills, and investors may redeem more than a fund's cash
    (`mmfs.flow_volatility` is allowed up to 0.2): the fund sells bills to the public for
    the rest. It used to end the day overdrawn (debug mode failed within 250 days)."""
    cfg = apply_overrides(small_default, {"mmfs.flow_volatility": 0.2})
    model = FedPlumbingModel(cfg, rng=0, debug=True)  # checks every holding each day
    sold = 0.0
    for _ in range(120):
        model.step()
        sold += model.ledger.flows.get("money-fund bill sales", 0.0)
        assert model.ledger.held("deposits", model.mmfs.rows).min() >= -1e-9
    assert sold > 1.0


def test_custodians_too_small_for_their_clients_are_refused(tmp_path, capsys):
    """Custodians are the largest banks; with nearly equal bank sizes (`banks.size_tail` 5)
    and one dealer, a custodian's deposits were smaller than its clients' cash, and its
    deposit liability went below zero on day one. Refused at the opening, nothing written."""
    from fedplumbing.sim import cli

    out = tmp_path / "out"
    argv = ["run", "default", "--set", "population.dealers=1", "--set", "banks.size_tail=5"]
    assert cli.main([*argv, "--days", "2", "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("fedplumbing: error: banks.size_tail: custodian bank")
    assert "\n" not in error and not out.exists()
