"""Strict, finite, bounded inputs; impossible requests refused; reads confined to scenario files.

Every case here was accepted (or crashed with exit 1) before issue 13: a string for a number, a
boolean for a count, ``inf`` prices, a NaN in a profile, a start in year 9999, five replicas on
three sites, an ``extends`` of ``/etc/passwd`` or of a FIFO.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from pathlib import Path

import pytest

from sim import ScenarioError, load_scenario
from sim.scenario import scenario_from_dict
from sim.scenario.load import MAX_DEPTH, scenario_roots
from tests.conftest import SCENARIOS

CLOVER = SCENARIOS / "clover.toml"


def error_of(*overrides: str, path: Path = CLOVER) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, list(overrides))
    assert "\n" not in str(info.value)
    return info.value


# --- 7. strict types (while --set keeps its typed TOML parsing) --------------------------------


@pytest.mark.parametrize(
    ("override", "field", "words"),
    [
        ('population.mau="7"', "population.mau", "valid number"),
        ("seed=true", "seed", "valid integer"),
        ('gateway.enabled="yes"', "gateway.enabled", "valid boolean"),
        ("gateway.reviewers=12.0", "gateway.reviewers", "valid integer"),
        ("gateway.reviewers=true", "gateway.reviewers", "valid integer"),
        ('data_classes.user_content.replicas="2"', "data_classes.user_content.replicas", "valid integer"),
        ("time.start=20250101", "time.start", "date"),
        ('time.start="next monday"', "time.start", "not a date"),
        ('sites.dublin.outages=[{start=2025-01-15,hours=1}]', "sites.dublin.outages.0.start", "date and time"),
    ],
)
def test_strings_and_booleans_are_not_coerced(override: str, field: str, words: str) -> None:
    err = error_of(override)
    assert err.field == field and words in err.problem


def test_set_keeps_its_typed_toml_parsing() -> None:
    sc = load_scenario(CLOVER, ["population.mau=180000000", "gateway.enabled=true", "time.start=2025-03-01",
                                "gateway.reviewers=12", 'policy.transfer="strict"', "seed=7"])
    assert sc.population.mau == 1.8e8 and sc.gateway.reviewers == 12 and sc.seed == 7
    assert sc.time.start.isoformat() == "2025-03-01" and sc.policy.transfer == "strict"


# --- 6. finite numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        "sites.dublin.energy_price_eur_per_kwh=inf",
        "sites.hamar.storage_pb_capacity=inf",
        "network.route_inflation=inf",
        "network.default_link_gbps=inf",
        "data_classes.user_content.initial_gb_per_mau=inf",
        "sites.dublin.outages=[{start=2025-01-15T18:00:00Z,hours=inf}]",
        "population.mau=inf",
        "population.growth_per_year=inf",
        "population.requests_per_dau_per_day=nan",
        "population.diurnal_profile=[nan,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]",
        "time.horizon_days=1e400",
        "gateway.review_minutes_mean=inf",
        "gateway.outage_windows_s=[[0,inf]]",
        "data_classes.user_content.retention_days=nan",
    ],
)
def test_every_number_is_finite(override: str) -> None:
    err = error_of(override)
    assert override.split("=")[0].split(".")[0] in err.field and ("finite" in err.problem or "nan" in err.problem)


def test_infinite_retention_is_documented_and_written_as_strict_json() -> None:
    sc = load_scenario(CLOVER, ["data_classes.user_content.retention_days=inf"])
    assert math.isinf(sc.data_classes["user_content"].retention_days)
    data = sc.model_dump(mode="json")
    text = json.dumps(data, allow_nan=False)  # no Infinity anywhere
    assert data["data_classes"]["user_content"]["retention_days"] == "inf"
    assert scenario_from_dict(json.loads(text)) == sc  # and it reads back


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("time.horizon_days=365000", "time.horizon_days"),
        ("time.step_minutes=1e-9", "time.step_minutes"),
        ("time.start=9999-01-01", "time.start"),
        ("population.mau=1e15", "population.mau"),
        ("gateway.reviewers=1000000000000", "gateway.reviewers"),
        ("gateway.regions.0.head_count=1000000000000", "gateway.regions.0.head_count"),
        ("sites.dublin.mtbf_hours=1e-9", "sites.dublin.mtbf_hours"),
        ("gateway.outage_mtbf_h=1e-9", "gateway.outage_mtbf_h"),
        ("seed=100000000000000000000", "seed"),
    ],
)
def test_counts_and_rates_are_bounded_by_what_is_physically_meaningful(override: str, field: str) -> None:
    assert error_of(override).field == field


# --- 8. impossible requests -----------------------------------------------------------------------


def test_impossible_requests_name_their_field() -> None:
    err = error_of("data_classes.user_content.replicas=5")
    assert "data_classes.user_content.replicas" in str(err) and "3 in policy.sites" in err.problem
    err = error_of("data_classes.protected_personal.distinct_countries=true")
    assert "data_classes.protected_personal.distinct_countries" in str(err) and "IE, NO" in err.problem
    err = error_of('data_classes.user_content.export_destination="Atlantis"')
    assert err.field == "data_classes.user_content.export_destination" and "'US', 'SG', 'CN' or 'other'" in err.problem
    err = error_of('policy.blocked_destinations=["XX"]')
    assert err.field == "policy.blocked_destinations.0"
    err = error_of('gateway.transfers.flows=[{data_class="user_content",destination="Mars",jobs_per_hour=1.0}]')
    assert err.field == "gateway.transfers.flows.0.destination"
    # possible ones still pass: two copies in two countries
    load_scenario(CLOVER, ['policy.sites=["dublin","hamar"]', "data_classes.protected_personal.replicas=2",
                           "data_classes.protected_personal.distinct_countries=true"])


# --- 9. messages that point at the right thing -------------------------------------------------------


def test_messages_name_the_right_field() -> None:
    err = error_of('policy.sites="dublin"')
    assert err.field == "policy.sites" and "list of site ids" in err.problem and "'d'" not in err.problem
    err = error_of('policy.failover_sites=["nowhere"]')
    assert err.field == "policy.failover_sites" and "'nowhere'" in err.problem
    err = error_of('policy.start_placement="pre_clover"', 'policy.start_sites=["virginia","atlantis"]')
    assert err.field == "policy.start_sites"
    # a valid index patches clover.toml's list (here: an unknown key in the first region)
    err = error_of("gateway.regions.0.share=0.5")
    assert err.field == "gateway.regions.0.share" and "unknown key" in err.problem and "list" not in err.problem
    sc = load_scenario(CLOVER, ["gateway.regions.0.head_count=7", "gateway.priority_classes.0.share=0.1"])
    assert sc.gateway.regions[0].head_count == 7  # and the last class takes the rest
    assert [c.share for c in sc.gateway.priority_classes] == pytest.approx([0.1, 0.9])
    err = error_of("gateway.regions.7.head_count=7")
    assert err.field == "gateway.regions.7.head_count" and "list of 4" in err.problem


# --- 11. reads confined to scenario files ----------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ", "/etc/hostname"])
def test_extends_outside_the_scenario_folders_is_refused_without_reading_it(tmp_path: Path, target: str) -> None:
    path = write(tmp_path / "s.toml", f'extends = "{target}"\nname = "x"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == "extends" and "root:" not in str(info.value) and "PATH=" not in str(info.value)


def test_extends_is_confined_to_the_scenario_tree_or_named_roots(tmp_path: Path, monkeypatch) -> None:
    secret = write(tmp_path / "private" / "secret.toml", 'name = "the content of a file outside"\n')
    mine = write(tmp_path / "work" / "s.toml", f'extends = "{secret.as_posix()}"\n')
    err = error_of(path=mine)
    assert err.field == "extends" and "outside the scenario folders" in err.problem and "content" not in err.problem
    link = tmp_path / "work" / "link.toml"  # a symbolic link cannot lead out either
    link.symlink_to(secret)
    write(mine, 'extends = "link.toml"\n')
    assert "outside the scenario folders" in error_of(path=mine).problem
    monkeypatch.setenv("CLOVER_SIM_SCENARIO_PATH", str(tmp_path / "private"))
    assert tmp_path / "private" in scenario_roots(mine)
    assert "the content of a file outside" in error_of(path=mine).problem  # a named root is read
    # inside a scenarios/ folder a sub-folder may extend upwards, as scenarios/sweeps/*.toml do
    monkeypatch.delenv("CLOVER_SIM_SCENARIO_PATH")
    write(tmp_path / "scenarios" / "base.toml", (SCENARIOS / "base.toml").read_text())
    sweep = write(tmp_path / "scenarios" / "sweeps" / "x.toml", 'extends = "../base.toml"\nname = "x"\n')
    assert load_scenario(sweep).name == "x"


def test_extends_names_a_toml_file(tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", 'name = "x"\n')
    err = error_of(path=write(tmp_path / "s.toml", 'extends = "notes.txt"\n'))
    assert err.field == "extends" and "not a scenario file" in err.problem


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_at_once_not_read_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    mine = write(tmp_path / "s.toml", 'extends = "pipe.toml"\n')
    result: list[BaseException] = []

    def load(path: Path) -> None:
        try:
            load_scenario(path)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            result.append(exc)

    for path in (mine, fifo):
        worker = threading.Thread(target=load, args=(path,), daemon=True)
        worker.start()
        worker.join(10)
        if worker.is_alive():  # unblock the reader before failing
            with open(fifo, "w") as fh:  # noqa: PTH123
                fh.write("")
            pytest.fail(f"loading {path.name} blocked on the FIFO")
        assert isinstance(result[-1], ScenarioError) and "not a regular file" in result[-1].problem


def test_deep_nesting_and_huge_files_are_bad_input(tmp_path: Path) -> None:
    deep = write(tmp_path / "deep.toml", "x = " + "[" * 1000 + "]" * 1000 + "\n")
    assert "nested" in error_of(path=deep).problem
    tables = write(tmp_path / "tables.toml", "[" + ".".join(["a"] * (MAX_DEPTH + 5)) + "]\nb = 1\n")
    assert "nested" in error_of(path=tables).problem
    assert "nested" in error_of("population.mau=" + "[" * 500 + "]" * 500).problem
    big = write(tmp_path / "big.toml", "# " + "x" * (5 * 2**20) + "\n")
    assert "larger than any scenario file" in error_of(path=big).problem
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00name")
    assert "UTF-8" in error_of(path=binary).problem
    assert sys.getrecursionlimit() >= 1000  # (the limits above do not depend on raising it)


def test_the_report_reads_scenario_folders_safely(tmp_path: Path) -> None:
    """``report`` looks through every *.toml of --scenarios: junk there is skipped, never followed out."""
    from sim.report.leadership.assumptions import assumptions_table

    folder = tmp_path / "scenarios"
    write(folder / "deep.toml", "x = " + "[" * 1000 + "]" * 1000 + "\n")
    write(folder / "evil.toml", 'extends = "/etc/passwd"\nname = "clover"\n')
    write(folder / "clover.toml", (SCENARIOS / "clover.toml").read_text())
    write(folder / "base.toml", (SCENARIOS / "base.toml").read_text())
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.toml")
    resolved = load_scenario(CLOVER).model_dump(mode="json")
    table, note = assumptions_table(resolved, scenario_dir=folder)
    assert note == "" and "clover.toml" in table.attrs["chain"] and "evil" not in table.attrs["chain"]
    assert not table.astype(str).apply(lambda col: col.str.contains("root:")).any().any()
