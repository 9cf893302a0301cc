"""Scenario settings that a dated schedule of the scenario overrides."""

import pytest

from fedplumbing.sim.config import apply_overrides, load_scenario


def test_settings_a_schedule_overrides_are_named():
    """`--set fed.treasury_cap=0` on qt2017 changed only its first quarter: the runoff
    schedule sets the caps from 2018-01-01. The note says so, and how to drop the schedule."""
    from fedplumbing.sim.config import override_notes

    qt = load_scenario("qt2017")
    notes = override_notes(qt, ["fed.treasury_cap", "rates.iorb", "banks.lclor_scale"])
    assert notes == [
        "fed.treasury_cap holds until 2018-01-01 only; from then the scenario's fed.runoff "
        "sets it (--set fed.runoff=[] drops that schedule)",
        "rates.iorb holds until 2017-12-14 only; from then the scenario's rates.changes sets "
        "it (--set rates.changes=[] drops that schedule)",
    ]
    assert override_notes(qt, ["fed.treasury_cap", "fed.runoff"]) == []  # replaced too
    later = apply_overrides(qt, {"start": "2018-02-01"})
    assert "has no effect" in override_notes(later, ["fed.mbs_cap"])[0]
    assert override_notes(load_scenario("default"), ["fed.treasury_cap"]) == []
    assert override_notes(load_scenario("default"), ["replay.extra_reserves"]) == [
        "replay.extra_reserves has no effect: the scenario runs in policy mode (replay "
        "settings apply to mode = 'replay')"
    ]
    assert override_notes(load_scenario("replay"), ["replay.extra_reserves"]) == []


def test_a_facility_s_terms_while_it_is_off_are_named():
    """`--set fed.srf_stigma_bp=0` on a scenario without the SRF ran unchanged, silently."""
    from fedplumbing.sim.config import override_notes

    default = load_scenario("default")
    assert not default.fed.srf_enabled and default.fed.repo_ops_trigger_bp is None
    assert override_notes(default, ["fed.srf_stigma_bp", "fed.repo_ops_size"]) == [
        "fed.srf_stigma_bp has no effect: the SRF is off in this scenario (turn it on there, "
        "or with --set fed.srf_enabled=true on run, compare or replay)",
        "fed.repo_ops_size has no effect: the Fed's repo operations are off in this scenario "
        "(fed.repo_ops_trigger_bp turns them on, in the scenario or with --set)",
    ]
    # turned on by the same command, or on in the scenario: no note
    assert override_notes(default, ["fed.srf_stigma_bp", "fed.srf_enabled"]) == []
    assert override_notes(load_scenario("srf_today"), ["fed.srf_haircut"]) == []
    assert override_notes(load_scenario("qt2017"), ["fed.repo_ops_days"]) == []


def test_a_sweep_over_a_setting_its_schedule_overrides_is_refused(tmp_path):
    from fedplumbing.experiments.spec import SpecError, check_against_config, load_spec

    # qt2022 from July 2022: its rate changes (the first on 2022-06-16) set the discount
    # rate from the first day, so every point of the sweep would be the same run
    (tmp_path / "later.toml").write_text('extends = "qt2022"\nstart = 2022-07-01\n')
    path = tmp_path / "spec.toml"
    path.write_text(
        f'scenario = "{tmp_path / "later.toml"}"\ndays = 20\nmetrics = ["min_reserves"]\n'
        '[parameters]\n"rates.discount" = { values = [1.0, 2.0] }\n'
    )
    with pytest.raises(SpecError, match=r"parameters\.rates\.discount: has no effect"):
        check_against_config(load_spec(path))


def test_check_names_schedule_entries_after_the_end(capsys):
    from fedplumbing.sim import cli

    assert cli.main(["check", "qt2017", "--set", "end=2019-10-20"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("OK: qt2017")
    assert out[1:] == [
        "  note: rates.changes: the entry dated 2019-10-31 is after the end 2019-10-20 and "
        "never applies"
    ]
    assert cli.main(["check", "qt2017"]) == 0
    assert "note" not in capsys.readouterr().out


def test_settings_a_replay_takes_from_the_data_are_named():
    """In a replay the data drive the rates, the Fed's portfolio, the TGA and the opening:
    `--set fed.treasury_cap=0` or `initial.reserves=2500` there change nothing (checked
    against the output), so they get a note; `initial.mmf_assets` does matter."""
    from fedplumbing.sim.config import override_notes

    sept = load_scenario("sept2019")
    keys = ["fed.treasury_cap", "rates.discount", "initial.reserves", "initial.mmf_assets"]
    notes = override_notes(sept, keys)
    assert [n.split(" ")[0] for n in notes] == [
        "fed.treasury_cap",
        "initial.reserves",
        "rates.discount",
    ]
    assert all("has no effect: a replay" in n for n in notes)
    cold = apply_overrides(sept, {"replay.initial_from_history": False})
    assert [n.split(" ")[0] for n in override_notes(cold, keys)] == [
        "fed.treasury_cap",
        "rates.discount",
    ]


def test_days_that_stop_before_a_replay_window_are_refused(capsys):
    """`run sept2019 --days 5 --set replay.report_from=...` ended in a traceback (an empty
    window); in policy mode the setting does nothing and nothing is cut."""
    from fedplumbing.sim import cli
    from fedplumbing.sim.run import simulate

    argv = ["run", "sept2019", "--days", "5", "--set", "replay.report_from=2019-09-03", "-q"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "days: 5 stops the run before replay.report_from 2019-09-03" in err
    assert "Traceback" not in err
    policy = apply_overrides(load_scenario("default"), {"replay.report_from": "2018-02-01"})
    assert str(simulate(policy, 0, days=30).daily["date"].iloc[0].date()) == "2018-01-02"


@pytest.mark.parametrize(
    ("key", "entries"),
    [
        ("fed.runoff", "[{date=2019-01-01,treasury_cap=5},{date=2019-01-01,treasury_cap=10}]"),
        ("rates.changes", "[{date=2019-06-03,iorb=2.0},{date=2019-06-03,iorb=2.25}]"),
        ("treasury.tga_schedule", "[{date=2019-06-03,target=300},{date=2019-06-03,target=400}]"),
    ],
)
def test_two_schedule_entries_on_one_date_are_refused(key, entries):
    """The later of two runoff steps or rate changes on one date silently won; the TGA
    schedule already refused them. Now every schedule does."""
    from fedplumbing.sim.config import ConfigError, apply_overrides, load_scenario, parse_override

    name, value = parse_override(f"{key}={entries}")
    with pytest.raises(ConfigError, match=rf"^{key}: two entries share the date 2019-0"):
        apply_overrides(load_scenario("default"), {name: value})


def test_a_scenario_file_is_named_after_itself_and_a_folder_is_named(tmp_path):
    """A file without `name` was labelled "default" in every output, though without
    `extends` it does not start from the built-in default; a folder was "not a file"."""
    from fedplumbing.sim.config import ConfigError

    (tmp_path / "bare.toml").write_text("")
    (tmp_path / "child.toml").write_text('extends = "default"\n')
    (tmp_path / "named.toml").write_text('extends = "default"\nname = "mine"\n')
    assert load_scenario(tmp_path / "bare.toml").name == "bare"
    assert load_scenario(tmp_path / "child.toml").name == "child"
    assert load_scenario(tmp_path / "named.toml").name == "mine"
    assert load_scenario("default").name == "default"
    with pytest.raises(ConfigError, match="is a folder; give a scenario file"):
        load_scenario(tmp_path)


def test_run_and_check_note_the_same_settings(tmp_path, capsys):
    """`check` said OK with no note where `run` noted a setting without effect, and `run`
    said nothing of a --set schedule whose entries all fall after the end."""
    from fedplumbing.sim import cli

    assert cli.main(["check", "default", "--set", "fed.srf_stigma_bp=0"]) == 0
    assert "note: fed.srf_stigma_bp has no effect: the SRF is off" in capsys.readouterr().out
    late = "rates.changes=[{date=2030-01-01,iorb=2.0,srf=2.25,discount=3}]"
    out = tmp_path / "out"
    assert cli.main(["run", "--days", "2", "--set", late, "--out", str(out)]) == 0
    assert (
        "note: rates.changes: the entry dated 2030-01-01 is after the end 2020-12-31 and "
        "never applies" in capsys.readouterr().err
    )
