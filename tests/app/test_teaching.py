"""The teaching app's contents, computed without a browser: settings, T-accounts, text, charts."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from fedplumbing.experiments.app import teaching
from fedplumbing.experiments.app.teaching import (
    Settings,
    TeachingModel,
    in_force_text,
    settings_overrides,
)
from fedplumbing.sim.config import apply_overrides, load_scenario
from fedplumbing.sim.run import simulate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def base():
    return load_scenario("default")


@pytest.fixture(scope="module")
def tax_day_model() -> TeachingModel:
    """The default scenario stepped into its first corporate tax day (2018-03-15)."""
    model = TeachingModel()
    model.run_to_next("is_corporate_tax_date")
    model.step()
    return model


def test_untouched_settings_change_nothing(base) -> None:
    overrides, notes = settings_overrides(base, Settings())
    assert overrides == {} and notes == []
    ref = teaching.reference_config()
    same = Settings(
        iorb=ref.rates.iorb,
        on_rrp=ref.rates.on_rrp,
        srf_stigma_bp=ref.fed.srf_stigma_bp,
        tga_target=ref.treasury.tga_target,
    )
    assert settings_overrides(base, same) == ({}, [])


def test_qt_pace_scales_every_runoff_cap(base) -> None:
    with_schedule = apply_overrides(
        base,
        {"fed.runoff": [{"date": "2019-05-01", "treasury_cap": 15.0, "mbs_cap": 20.0}]},
    )
    overrides, _ = settings_overrides(with_schedule, Settings(qt_pace=2.0))
    assert overrides["fed.treasury_cap"] == pytest.approx(2 * base.fed.treasury_cap)
    assert overrides["fed.mbs_cap"] == pytest.approx(2 * base.fed.mbs_cap)
    assert overrides["fed.runoff"][0]["treasury_cap"] == pytest.approx(30.0)
    cfg = apply_overrides(with_schedule, overrides)
    assert cfg.fed.runoff[0].mbs_cap == pytest.approx(40.0)
    stopped, _ = settings_overrides(base, Settings(qt_pace=0.0))
    assert stopped["fed.treasury_cap"] == 0.0 and stopped["fed.mbs_cap"] == 0.0


def test_iorb_moves_the_corridor_and_on_rrp_is_capped(base) -> None:
    """IORB moves the whole corridor (ON RRP, SRF, discount); ON RRP never exceeds IORB."""
    overrides, notes = settings_overrides(base, Settings(iorb=2.0))
    r = base.rates
    assert overrides["rates.iorb"] == pytest.approx(2.0)
    assert overrides["rates.srf"] == pytest.approx(r.srf + 2.0 - r.iorb)
    assert overrides["rates.discount"] == pytest.approx(r.discount + 2.0 - r.iorb)
    assert overrides["rates.on_rrp"] == pytest.approx(r.on_rrp + 2.0 - r.iorb)
    apply_overrides(base, overrides)  # valid

    # a floor set by the slider stays where it is set
    overrides, notes = settings_overrides(base, Settings(iorb=2.0, on_rrp=1.0))
    assert overrides["rates.on_rrp"] == pytest.approx(1.0)

    overrides, notes = settings_overrides(base, Settings(iorb=1.0, on_rrp=1.2))
    assert overrides["rates.on_rrp"] == pytest.approx(1.0)  # capped at the new IORB
    assert any("capped at IORB" in n for n in notes)
    cfg = apply_overrides(base, overrides)
    assert cfg.rates.on_rrp <= cfg.rates.iorb

    overrides, notes = settings_overrides(base, Settings(on_rrp=3.0))
    assert overrides["rates.on_rrp"] == pytest.approx(base.rates.iorb)
    assert any("capped" in n for n in notes)


def test_scheduled_rate_changes_move_with_the_settings(base) -> None:
    """The schedule moves with IORB (all its rates) and with the ON RRP slider (its ON RRP);
    an entry that sets IORB alone caps the ON RRP carried over from before it."""
    scheduled = apply_overrides(
        base,
        {
            "rates.changes": [
                {"date": "2019-08-01", "iorb": 2.10, "on_rrp": 1.90, "srf": 2.35, "discount": 2.75},
                {"date": "2019-10-01", "iorb": 1.95},
            ]
        },
    )
    overrides, notes = settings_overrides(scheduled, Settings(iorb=1.0))
    first, second = overrides["rates.changes"]
    assert first["iorb"] == pytest.approx(1.60) and first["on_rrp"] == pytest.approx(1.40)
    assert second["iorb"] == pytest.approx(1.45) and second["on_rrp"] is None
    assert any("scheduled rate changes move" in n for n in notes)
    apply_overrides(scheduled, overrides)

    # the floor raised 20 bp: 2.10 from August; October's IORB 1.95 alone caps it there
    overrides, _ = settings_overrides(scheduled, Settings(on_rrp=base.rates.on_rrp + 0.2))
    first, second = overrides["rates.changes"]
    assert first["on_rrp"] == pytest.approx(2.10) and first["iorb"] == pytest.approx(2.10)
    assert second["on_rrp"] == pytest.approx(1.95)
    apply_overrides(scheduled, overrides)


def test_settings_that_break_a_schedule_leave_the_others(base) -> None:
    """qt2017 with IORB 1.0: before, its 2019-05-02 change (IORB alone) made the carried ON RRP
    exceed IORB, the config was refused and every setting was dropped (SRF, LCLoR too)."""
    model = TeachingModel("qt2017", iorb=1.0, srf="on", lclor_scale=2.0)
    assert not any("not applied" in n for n in model.notes)
    assert model.config.fed.srf_enabled
    assert model.config.banks.lclor_scale == pytest.approx(
        2 * load_scenario("qt2017").banks.lclor_scale
    )
    assert model.config.rates.iorb == pytest.approx(1.0)


def test_a_setting_the_opening_fit_cannot_meet_does_not_break_the_page() -> None:
    """rmp2026 fits its opening ON RRP; with the floor at IORB no opening gives its $20B.
    Before, the ConfigError escaped the constructor and the page became a traceback."""
    model = TeachingModel("rmp2026", on_rrp=5.0)  # capped at IORB: the floor at IORB
    assert any("could not be fitted" in n for n in model.notes)
    assert not model.config.initial.fit_on_rrp
    model.step()
    assert model.days == 1


def test_an_srf_in_the_september_2019_replay_is_priced_and_used() -> None:
    """History had no SRF in 2019: switched on in the app, it is offered at the scenario's
    spread over IORB every day, and caps the spike (before: the setting did nothing)."""
    model = TeachingModel("sept2019", srf="on", srf_stigma_bp=0)
    assert model.config.replay.srf_over_iorb_bp == pytest.approx(25.0)
    assert any("SRF is offered at IORB +25 bp" in n for n in model.notes)
    assert "SRF none" not in in_force_text(model)
    window = {"replay.report_from": "2019-09-16", "end": "2019-09-18"}
    capped = simulate(apply_overrides(model.config, window), 0).daily
    plain = simulate(apply_overrides(load_scenario("sept2019"), window), 0).daily
    assert plain["repo_spread_bp"].max() > 100
    assert capped["repo_spread_bp"].max() <= 25.5 and capped["srf_take_up"].max() > 0


def test_facility_tga_and_lclor_settings(base) -> None:
    overrides, _ = settings_overrides(
        base, Settings(srf="on", srf_stigma_bp=30, tga_target=600, lclor_scale=1.5)
    )
    assert overrides == {
        "fed.srf_enabled": True,
        "fed.srf_stigma_bp": 30.0,
        "treasury.tga_target": 600.0,
        "banks.lclor_scale": pytest.approx(1.5 * base.banks.lclor_scale),
    }
    srf_on = apply_overrides(base, {"fed.srf_enabled": True})
    assert settings_overrides(srf_on, Settings(srf="off"))[0] == {"fed.srf_enabled": False}
    assert settings_overrides(srf_on, Settings())[0] == {}  # "as in scenario" keeps it on


def test_scenario_picker_lists_default_then_september_2019() -> None:
    names = ["zeta", "sept2019_srf", "default", "alpha", "sept2019"]
    assert teaching.app_scenarios(names) == [
        "default",
        "sept2019",
        "sept2019_srf",
        "alpha",
        "zeta",
    ]
    assert teaching.app_scenarios()[0] == "default"


def test_model_applies_settings_and_falls_back_on_unknown_scenario() -> None:
    model = TeachingModel(iorb=2.0, srf="on", tga_target=500)
    assert model.config.rates.iorb == pytest.approx(2.0)
    assert model.config.fed.srf_enabled
    assert model.config.treasury.tga_target == pytest.approx(500.0)
    assert "IORB 2.00%" in teaching.in_force_text(model)
    odd = TeachingModel(scenario_name="no-such-scenario")
    assert odd.scenario_name == "default"
    assert any("no-such-scenario" in n for n in odd.notes)


def test_same_settings_same_run() -> None:
    a, b = TeachingModel(lclor_scale=1.3), TeachingModel(lclor_scale=1.3)
    for _ in range(5):
        a.step()
        b.step()
    assert a.recorder.rows[-1]["sofr"] == b.recorder.rows[-1]["sofr"]
    assert np.array_equal(a.ledger.balances, b.ledger.balances)


def test_t_accounts_balance_and_show_todays_changes(tax_day_model: TeachingModel) -> None:
    model = tax_day_model
    accounts = teaching.sector_accounts(model)
    assert set(accounts) == {"fed", "treasury", "banks", "largest_bank", "mmfs", "dealers"}
    for account in accounts.values():
        assets = sum(line.amount for line in account.assets)
        claims = sum(line.amount for line in account.liabilities)
        assert assets == pytest.approx(claims, abs=1e-6), account.title
        d_assets = sum(line.change for line in account.assets)
        d_claims = sum(line.change for line in account.liabilities)
        assert d_assets == pytest.approx(d_claims, abs=1e-6), account.title
    treasury = {line.account: line for line in accounts["treasury"].assets}
    tga = treasury["tga"]
    assert tga.amount == pytest.approx(model.recorder.rows[-1]["tga"])
    assert tga.change == pytest.approx(
        model.recorder.rows[-1]["tga"] - model.recorder.rows[-2]["tga"]
    )
    assert tga.moved and "tax receipts" in tga.flows
    fed_reserves = {line.account: line for line in accounts["fed"].liabilities}["reserves"]
    bank_reserves = {line.account: line for line in accounts["banks"].assets}["reserves"]
    assert fed_reserves.amount == pytest.approx(bank_reserves.amount)
    assert fed_reserves.change == pytest.approx(bank_reserves.change)
    largest = accounts["largest_bank"]
    assert largest.assets[0].amount <= bank_reserves.amount

    html = teaching.t_account_html(accounts["treasury"])
    assert 'data-taccount="Treasury"' in html
    assert teaching.FLOW_COLOURS["tax receipts"] in html  # the TGA line is coloured by taxes
    chips = teaching.flow_chips_html(teaching.notable_flows(model.ledger.flows))
    assert "tax receipts $90 bn" in chips


def test_explanation_names_the_days_drivers(tax_day_model: TeachingModel) -> None:
    lines = teaching.explain_day(tax_day_model)
    text = " ".join(lines)
    assert "SOFR" in lines[0] and "IORB" in lines[0]
    assert "corporate tax date" in text
    assert "TGA" in text and "tax receipts $90 bn" in text
    assert "Bank reserves fell" in text
    assert teaching.day_title(tax_day_model).endswith("Thu 2018-03-15")
    fresh = TeachingModel()
    assert "Press **Step**" in teaching.explain_day(fresh)[0]
    assert teaching.day_title(fresh).startswith("Day 0 of")


def test_explanation_says_who_left_the_on_rrp(tax_day_model: TeachingModel) -> None:
    """The ON RRP change is split by holder, and the parts add up to the change."""
    line = next(x for x in teaching.explain_day(tax_day_model) if "ON RRP" in x)
    assert line.startswith("The Fed's ON RRP fell")
    assert "FHLBs -$" in line and "money funds -$" in line
    parts = dict(teaching._on_rrp_change_by_holder(tax_day_model))
    rows = tax_day_model.recorder.rows
    assert sum(parts.values()) == pytest.approx(rows[-1]["on_rrp"] - rows[-2]["on_rrp"])
    assert abs(parts["FHLBs"]) > abs(parts["money funds"])  # 15 March 2018: mostly FHLBs


def test_small_amounts_keep_a_decimal() -> None:
    assert teaching._fmt_bn(0.24) == "$0.2 bn"
    assert teaching._fmt_bn(-5.84) == "$5.8 bn"
    assert teaching._fmt_bn(90.4) == "$90 bn"
    assert teaching._fmt_bn(1234.0) == "$1,234 bn"


def test_explanation_reports_facility_use() -> None:
    model = TeachingModel()
    model.step()
    model.step()
    model.recorder.rows[-1] = {
        **model.recorder.rows[-1],
        "srf_take_up": 25.0,
        "srf_rate": 1.75,
        "discount_window_take_up": 3.0,
    }
    text = " ".join(teaching.explain_day(model))
    assert "$25 bn borrowed at the SRF" in text
    assert "discount window" in text


def test_charts_are_pngs_that_follow_the_run() -> None:
    model = TeachingModel()
    canvas = teaching.Canvas()
    empty = teaching.corridor_png(model.recorder.rows, canvas)
    assert empty.startswith(PNG_MAGIC)
    pngs = []
    for _ in range(3):
        model.step()
        pngs.append(
            (
                teaching.corridor_png(model.recorder.rows, canvas),
                teaching.liquidity_png(model.recorder.rows),
                teaching.reserve_demand_png(model.recorder.rows, 1000.0),
            )
        )
    for png in pngs[-1]:
        assert png.startswith(PNG_MAGIC) and len(png) > 5_000
    assert pngs[0][0] != pngs[-1][0]
    assert pngs[0][2] != pngs[-1][2]


def test_app_command_registers_with_loopback_defaults() -> None:
    from fedplumbing.experiments import cli_app
    from fedplumbing.experiments.app.server import DEFAULT_HOST, DEFAULT_PORT

    parser = argparse.ArgumentParser()
    cli_app.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["app"])
    assert (args.host, int(args.port), args.open) == ("127.0.0.1", DEFAULT_PORT, False)
    assert cli_app.DEFAULT_HOST == DEFAULT_HOST
    assert args.func is cli_app.run_app
    args = parser.parse_args(["app", "--port", "9000", "--host", "0.0.0.0", "--open"])
    assert (args.host, int(args.port), args.open) == ("0.0.0.0", 9000, True)


def test_app_without_its_extras_says_how_to_install_them(monkeypatch, capsys) -> None:
    import importlib.util

    from fedplumbing.experiments import cli_app
    from fedplumbing.sim import cli

    assert cli_app.missing_app_packages() == []  # the test extras include the app's
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a)
    )
    assert cli_app.missing_app_packages() == ["solara"]
    assert cli.main(["app", "--port", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "solara not installed" in err[0] and "./dev app" in err[0]


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ("-1", "allowed: integers 1 to 65535"),
        ("0", "allowed: integers 1 to 65535"),
        ("70000", "allowed: integers 1 to 65535"),
        ("abc", "expected an integer 1 to 65535"),
    ],
)
def test_app_refuses_a_bad_port(port, message, capsys) -> None:
    from fedplumbing.sim import cli

    assert cli.main(["app", "--port", port]) == 2
    err = capsys.readouterr()
    assert message in err.err and len(err.err.strip().splitlines()) == 1
    assert err.out == ""  # no address printed as if the app had started


def test_app_refuses_a_port_in_use(capsys) -> None:
    import socket

    from fedplumbing.sim import cli

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["app", "--port", str(port)]) == 2
    err = capsys.readouterr()
    assert "already in use" in err.err and err.out == ""


@pytest.mark.parametrize("host", ["192.0.2.1"])  # TEST-NET-1: an address, not ours
def test_app_names_a_bad_host(host, capsys) -> None:
    """A host that is no address of this machine was reported as a port in use."""
    from fedplumbing.sim import cli

    assert cli.main(["app", "--host", host, "--port", "18768"]) == 2
    err = capsys.readouterr()
    lines = err.err.strip().splitlines()
    assert len(lines) == 1 and "--host:" in lines[0] and host in lines[0]
    assert err.out == ""


def test_page_module_builds_without_a_server() -> None:
    pytest.importorskip("solara")
    from fedplumbing.experiments.app import page

    params = page.MODEL_PARAMS
    assert params["scenario_name"]["values"][0] == "default"
    for key in ("qt_pace", "iorb", "on_rrp", "srf", "srf_stigma_bp", "tga_target", "lclor_scale"):
        assert key in params, key
    # every parameter is an argument of the model (Mesa rebuilds the model with them on Reset)
    values = {k: (v["value"] if isinstance(v, dict) else v) for k, v in params.items()}
    model = TeachingModel(**values)
    assert model.overrides == {}
    assert len(page.COMPONENTS) == 7


def test_two_threads_stepping_lose_no_day() -> None:
    """Mesa's Play loop and the tax-eve button step from two threads. Mesa's own step
    advances its clock before calling the model's: with the lock inside, 31 calls made
    3 days and later steps did nothing. Each call is now one business day."""
    import threading

    model = TeachingModel("default")
    model.step()
    threads = [threading.Thread(target=lambda: [model.step() for _ in range(15)]) for _ in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert model.days == 31 and model.steps == 31
    model.step()
    assert model.days == 32


def test_in_force_shows_todays_caps_and_a_replays_own_srf() -> None:
    """qt2017's caps rise on its schedule; `replay` keeps history's SRF from July 2021."""
    model = TeachingModel("qt2017")
    for _ in range(200):  # to July 2018
        model.step()
    assert "QT caps $24 + $16 bn/month" in in_force_text(model)
    replay = TeachingModel("replay", srf="on")
    assert replay.config.replay.srf_over_iorb_bp is None
    assert any("SRF is history's" in n for n in replay.notes)


def test_signed_numbers_never_print_minus_zero() -> None:
    """The lesson printed "its 10-day average was -0 bp to IORB"."""
    from fedplumbing.experiments.app.teaching import _signed

    assert [_signed(v) for v in (-0.3, 0.0, 0.4, -0.6, 12.0)] == ["+0", "+0", "+0", "-1", "+12"]
