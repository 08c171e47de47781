"""The bundled world table: every ISO 3166-1 country, its population points and a source for each row."""

from __future__ import annotations

import csv
import math
from importlib import resources
from pathlib import Path

import pytest

from sim import reference

ROOT = Path(__file__).resolve().parents[2]


def iso3166_codes() -> set[str]:
    text = resources.files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text(encoding="utf-8")
    return {line.split("\t")[0] for line in text.splitlines() if line and not line.startswith("#")}


def test_every_iso_3166_country_is_in_the_table_with_a_source() -> None:
    table = reference.countries()
    assert set(table) == iso3166_codes()  # 249 codes of the IANA copy of ISO 3166-1
    assert all(c.source.strip() for c in table.values())
    assert all(c.name for c in table.values())


def test_every_country_has_points_whose_shares_sum_to_one() -> None:
    for country in reference.countries().values():
        assert country.points, country.iso2
        assert math.fsum(p.share for p in country.points) == pytest.approx(1.0, abs=1e-9), country.iso2
        for p in country.points:
            assert p.dst in reference.DST_RULES
            assert -90 <= p.lat <= 90 and -180 <= p.lon <= 180
            assert -12 <= p.utc_offset_std_h <= 14


@pytest.mark.parametrize("code", ["US", "IN", "BR", "CN", "RU", "CA", "AU", "ID"])
def test_large_countries_have_several_points(code: str) -> None:
    country = reference.countries()[code]
    assert len(country.points) >= 4
    # not all from one place: the points are spread over the country (at least 1,000 km apart)
    lats = [p.lat for p in country.points]
    lons = [p.lon for p in country.points]
    assert max(lats) - min(lats) + max(lons) - min(lons) > 10


def test_several_time_zones_and_rules_where_the_country_has_them() -> None:
    table = reference.countries()
    us = {(p.utc_offset_std_h, p.dst) for p in table["US"].points}
    assert {(-5.0, "us"), (-8.0, "us"), (-7.0, "none")} <= us  # Eastern, Pacific, Arizona
    assert {p.dst for p in table["AU"].points} == {"south", "none"}  # Queensland has no summer time
    assert {p.utc_offset_std_h for p in table["IN"].points} == {5.5}


def test_the_32_european_countries_keep_the_reference_figures_exactly() -> None:
    with (ROOT / "tools" / "data" / "europe_countries.csv").open(encoding="utf-8") as f:
        europe = list(csv.DictReader(f))
    table = reference.countries()
    assert reference.european_codes() == tuple(r["iso2"] for r in europe)  # same order: same columns of a run
    assert list(table)[:32] == [r["iso2"] for r in europe]
    for r in europe:
        c = table[r["iso2"]]
        assert (c.name, c.region, c.population_m, c.lat, c.lon) == (
            r["name"], r["region"], float(r["population_m_2024"]), float(r["lat"]), float(r["lon"]))
        assert len(c.points) == 1 and c.points[0].share == 1.0
        assert c.utc_offset_std_h == float(r["utc_offset_std_h"])
        assert c.observes_dst == (r["observes_dst"] == "true")
        assert c.eea == (r["region"] in ("EU", "EEA"))


def test_company_figures_are_not_reference_data() -> None:
    assert not hasattr(reference, "PUBLISHED_MAU_M")  # TikTok's per-country users live in the scenarios
    for name in ("clover.toml", "pre_clover.toml"):  # the TikTok scenarios, not the shared base
        text = (ROOT / "scenarios" / name).read_text(encoding="utf-8")
        assert "[population.users]" in text and "FR = 21_400_000" in text
    assert "[population.users]" not in (ROOT / "scenarios" / "base.toml").read_text(encoding="utf-8")


def _tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_world_countries", ROOT / "tools" / "build_world_countries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("zone", "std_h", "rule"),
    [("America/New_York", -5.0, "us"), ("Europe/Paris", 1.0, "eu"), ("Australia/Sydney", 10.0, "south"),
     ("Asia/Kolkata", 5.5, "none"), ("America/Phoenix", -7.0, "none"), ("Africa/Casablanca", 1.0, "none")],
)
def test_the_build_tool_reads_offsets_and_rules_from_the_tz_database(zone: str, std_h: float, rule: str) -> None:
    assert _tool()._dst_rule(zone)[:2] == (std_h, rule)


def test_the_build_tool_parses_zone_tab_coordinates() -> None:
    tool = _tool()
    assert tool._coord("+4043-07400") == (40.72, -74.0)  # degrees and minutes
    assert tool._coord("-3352+15113") == (-33.87, 151.22)
    assert tool._coord("+404251-0740023") == (40.71, -74.01)  # with seconds
