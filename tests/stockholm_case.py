"""A realistic Stockholm test case, built by code from ``../shared/data`` (issue 11, point 9).

:func:`build_stockholm_case` writes a complete project folder the way Stockholm's own files
look, over the real 117 stadsdelar and the real OpenStreetMap extract of Norrmalm, Östermalm
and Vasastaden:

- ``investeringar.csv``: the investment register in Windows-1252 with Swedish headers
  (``Projekt-id; Projektnamn; Åtgärd; Adress; Stadsdel; Beviljat (kr); Nyttjat (kr);
  Startdatum; Färdigställd; Status; X; Y; Koordinatsystem``). About thirty rows carry real
  addresses picked from the OSM address nodes of the three central districts, border streets
  on both sides included (Birger Jarlsgatan, Tegnérgatan, Döbelnsgatan, Luntmakargatan,
  Biblioteksgatan); about twenty rows elsewhere in the city carry SWEREF 99 18 00
  coordinates (EPSG:3011) with the NORTHING in ``X`` and the EASTING in ``Y``, as Swedish
  registers write them. Two exact duplicate rows, one id used twice with different contents,
  a cancelled project (``Avbruten``, no date), an ongoing one (``Pågående``), a project
  completed after the last wave, kind typos (``Belysnig``, ``Siktröjning``, ``Sly- och
  buskröjning``, ``Trygghetskamera``), an unknown kind (``Konstinstallation``), districts as
  people write them (``Vasastan``) and amounts such as ``1 250 000``;
- ``trygghetsmatning.csv``: one question (share of residents who feel unsafe, in percent
  with a decimal comma, ``Andel otrygga (%)``) and ``Antal svarande`` for every populated
  stadsdel in Stockholm's spelling (``Gamla stan``, ``Östermalm``, ``Vasastaden``; Ulvsunda
  industriområde is not surveyed: nobody lives there) and the waves 2014, 2017, 2020 and
  2023, followed by the city's total row (``Stockholms stad``), a name that is no area. Each
  district has its own level (10-40 %), all share a time trend, each district and wave has
  its own shock (SD 3 percentage points) beyond the binomial sampling of 150-600 respondents
  (a few small districts have fewer than 30), and lighting lowers the true share by 4
  percentage points from the first wave after completion;
- ``projekt.toml``: language ``sv``, crs ``EPSG:3011``, the waves, the indicator, ``min_n =
  30`` and the output folder ``resultat``. The area layer and the OSM extract are referenced
  where they lie (absolute paths into ``../shared/data``), never copied.

The returned :class:`CaseInfo` holds the planted truth and the accounting a test checks: the
rows, the duplicates, the cancelled, ongoing and late projects, the expected district of every
placed row, the treated districts with their cohorts, the small survey cells, and the totals
with every exact duplicate counted once. The same seed gives byte-identical files.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from trygg_geo.areas import make_area_id

__all__ = ["SHARED_DATA", "CaseInfo", "build_stockholm_case", "survey_name"]

ROOT = Path(__file__).resolve().parents[1]
#: The reference data beside the checkout (CI always has it).
SHARED_DATA = ROOT.parent / "shared" / "data"
AREAS_REL = Path("stockholm_stadsdelar") / "stadsdelar.shp"
OSM_REL = Path("osm_stockholm") / "stockholm_norrmalm_ostermalm.osm"

WAVES = (2014, 2017, 2020, 2023)
#: Stockholm's survey runs in spring: fieldwork is dated 15 April of each wave year.
WAVE_MONTH, WAVE_DAY = 4, 15
NEXT_WAVE = 2026  # the wave after the last one (every third year)
INDICATOR = "otrygg_kvall"
MIN_N = 30
#: Planted effects on the share who feel unsafe (proportions; -0.04 = four points fewer).
PLANTED_EFFECTS = {"belysning": -0.04, "slyrojning": 0.0, "kamerabevakning": 0.0,
                   "klottersanering": 0.0}
#: The common time trend of the true share, per wave (proportions).
TREND = {2014: 0.0, 2017: 0.025, 2020: -0.01, 2023: 0.005}
#: Occasional large local shocks, beyond the SD 3 points of every district and wave.
LOCAL_SHOCKS = {("AKALLA", 2020): -0.09, ("HAMMARBYHÖJDEN", 2017): 0.07}
#: Districts with fewer than 30 respondents in some or every wave.
SMALL_DISTRICTS = {"RIDDARHOLMEN": (6, 15), "SKEPPSHOLMEN": (10, 22), "LÅNGHOLMEN": (12, 26)}
#: Djurgården has enough answers except in 2014.
SMALL_CELLS_EXTRA = {("DJURGÅRDEN", 2014): 24}
#: Districts with a higher level of worry (Järva and the south-western suburbs).
HIGH_LEVEL = {"RINKEBY", "TENSTA", "HUSBY", "AKALLA", "KISTA", "SKÄRHOLMEN", "BREDÄNG",
              "VÅRBERG", "SÄTRA", "HAGSÄTRA", "RÅGSVED", "HÖGDALEN", "FARSTA"}

#: Words Stockholm writes in lower case after the first word of a stadsdel name.
_LOWER_WORDS = {"stan", "kyrka", "gård", "strand", "villastad", "slott", "industriområde"}
#: An industrial area without residents: the survey has no rows for it ("ingen mätning").
UNMEASURED = ("ULVSUNDA INDUSTRIOMR",)
#: The survey's own total row, as Stockholm's tables carry one: a name that is no area, left
#: unmatched on purpose (no alias); the join must report it and leave it out.
CITY_TOTAL = "Stockholms stad"
#: Names Stockholm writes differently from the layer's abbreviation.
_SPELLING = {"ULVSUNDA INDUSTRIOMR": "Ulvsunda industriområde"}
#: How the register writes a district (people's spelling) when it differs from the survey's.
_REGISTER_DISTRICT = {"VASASTADEN": "Vasastan"}

REGISTER_HEADER = ["Projekt-id", "Projektnamn", "Åtgärd", "Adress", "Stadsdel", "Beviljat (kr)",
                   "Nyttjat (kr)", "Startdatum", "Färdigställd", "Status", "X", "Y",
                   "Koordinatsystem"]
SURVEY_HEADER = ["Stadsdel", "År", "Andel otrygga (%)", "Antal svarande"]


def survey_name(upper: str) -> str:
    """A stadsdel's name as Stockholm writes it, from the area layer's upper-case ``name``.

    >>> survey_name("GAMLA STAN"), survey_name("LILLA ESSINGEN"), survey_name("ÖSTERMALM")
    ('Gamla stan', 'Lilla Essingen', 'Östermalm')
    """
    if upper in _SPELLING:
        return _SPELLING[upper]
    words = upper.split()
    out = [words[0].capitalize()]
    out += [w.lower() if w.lower() in _LOWER_WORDS else w.capitalize() for w in words[1:]]
    return " ".join(out)


def register_district(upper: str) -> str:
    """A district as a clerk writes it in the register (``Vasastan`` for VASASTADEN)."""
    return _REGISTER_DISTRICT.get(upper, survey_name(upper))


def wave_date(year: int) -> pd.Timestamp:
    """The fieldwork date of a wave (15 April)."""
    return pd.Timestamp(year, WAVE_MONTH, WAVE_DAY)


def cohort_of(completed: pd.Timestamp | None) -> int | None:
    """The first wave after completion; None when not completed or after the last wave."""
    if completed is None:
        return None
    return next((w for w in WAVES if wave_date(w) > completed), None)


@dataclass(frozen=True)
class CaseInfo:
    """What :func:`build_stockholm_case` wrote, and the truth a test asserts against.

    Attributes
    ----------
    folder, config, register, survey, areas, gazetteer, output
        The project folder, its files, the shared inputs it points at, and the output folder.
    rows
        One row per register row (``source_row`` = the spreadsheet row, header = 1):
        ``investment_id, kind_text, kind`` (the catalogue id the text should be recognised
        as), ``area`` (upper-case name), ``area_id`` (expected, from the OSM address node or
        the coordinates), ``source`` (``address``, ``street``, ``coordinates``, ``none``),
        ``address, district_text, status, started, completed, granted, spent, cohort``,
        ``expect`` (``placed``/``unplaced``), ``role`` (``treated``, ``late``,
        ``cancelled``, ``ongoing``, ``exact_duplicate``, ``same_id``, ``unknown_kind``,
        ``no_address``), ``duplicate_of`` (the source row an exact duplicate copies),
        ``border`` (True on a street that runs along a district border).
    treated
        area_id -> (kind, cohort) of every district with a measurable investment.
    excluded_multi_kind
        area_ids with more than one kind in the same measurement window.
    small_cells
        (area_id, wave) with fewer than ``min_n`` respondents.
    survey_names
        area_id -> the name written in the survey.
    true_share
        area_id -> wave -> the true share (proportion) before sampling.
    """

    folder: Path
    config: Path
    register: Path
    survey: Path
    areas: Path
    gazetteer: Path
    output: Path
    seed: int
    waves: tuple[int, ...]
    next_wave: int
    indicator: str
    min_n: int
    planted_effects: dict[str, float]
    rows: pd.DataFrame
    treated: dict[str, tuple[str, int]]
    excluded_multi_kind: tuple[str, ...]
    small_cells: frozenset[tuple[str, int]]
    survey_names: dict[str, str]
    unmatched_survey_names: tuple[str, ...]
    areas_without_survey: tuple[str, ...]
    true_share: dict[str, dict[int, float]] = field(repr=False)

    @property
    def n_rows(self) -> int:
        """Register rows (the header not counted)."""
        return len(self.rows)

    def rows_with(self, role: str) -> pd.DataFrame:
        """The register rows of one role (``late``, ``cancelled``, ``exact_duplicate`` ...)."""
        return self.rows[self.rows["role"] == role]

    @property
    def unique_rows(self) -> pd.DataFrame:
        """The rows with every exact duplicate counted once."""
        return self.rows[self.rows["duplicate_of"].isna()]

    @property
    def total_granted(self) -> float:
        """Granted kronor over the register, each exact duplicate counted once."""
        return float(self.unique_rows["granted"].sum())

    @property
    def total_spent(self) -> float:
        """Spent kronor over the register, each exact duplicate counted once."""
        return float(self.unique_rows["spent"].sum())

    def kind_spent(self, kind: str) -> float:
        """Kronor spent by the measurable, placed investments of ``kind`` in its treated
        districts (each exact duplicate once): the money behind that kind's cost per point."""
        r = self.unique_rows
        treated = {a for a, (k, _c) in self.treated.items() if k == kind}
        sel = ((r["kind"] == kind) & r["area_id"].isin(treated) & (r["expect"] == "placed")
               & r["cohort"].notna() & ~r["area_id"].isin(self.excluded_multi_kind))
        return float(r.loc[sel, "spent"].sum())


# --------------------------------------------------------------------------- shared inputs


def _read_areas(data: Path) -> gpd.GeoDataFrame:
    areas = gpd.read_file(data / AREAS_REL)
    if areas.crs is None or areas.crs.to_epsg() != 3011:
        raise ValueError(f"{data / AREAS_REL}: expected EPSG:3011, found {areas.crs}")
    areas = areas[["name", "geometry"]].copy()
    areas["area_id"] = [make_area_id(n) for n in areas["name"]]
    return areas


def _address_nodes(data: Path, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The OSM address nodes with their district and distance to its border (metres)."""
    rows = []
    for node in ET.parse(data / OSM_REL).getroot().iter("node"):
        tags = {t.get("k"): t.get("v") for t in node.iter("tag")}
        if "addr:street" in tags and "addr:housenumber" in tags:
            rows.append((int(node.get("id", 0)), float(node.get("lon", 0)),
                         float(node.get("lat", 0)), tags["addr:street"],
                         tags["addr:housenumber"].strip()))
    df = pd.DataFrame(rows, columns=["node_id", "lon", "lat", "street", "number"])
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                           crs="EPSG:4326").to_crs("EPSG:3011")
    j = gpd.sjoin(pts, areas[["name", "geometry"]], how="inner", predicate="within")
    j = j.drop(columns="index_right").rename(columns={"name": "area"})
    border = areas.set_index("name").geometry.boundary
    j["inside_m"] = [float(g.distance(border[a])) for g, a in zip(j.geometry, j["area"],
                                                                  strict=True)]
    # one address, one district: drop numbers that occur in two districts or look odd
    j = j[j["number"].str.fullmatch(r"\d{1,3}[A-Z]?")]
    key = j["street"] + " " + j["number"]
    n_areas = j.groupby(key)["area"].transform("nunique")
    j = j[(n_areas == 1).to_numpy()]
    j = j.assign(address=key[j.index]).drop_duplicates("address")
    return j.sort_values(["street", "area", "address"], kind="stable").reset_index(drop=True)


def _pick(nodes: gpd.GeoDataFrame, rng: np.random.Generator, street: str, area: str,
          used: set[str], *, min_inside: float = 6.0) -> pd.Series:
    """One unused address node on ``street`` in ``area``, at least ``min_inside`` m from the
    district's border."""
    cand = nodes[(nodes["street"] == street) & (nodes["area"] == area)
                 & (nodes["inside_m"] >= min_inside) & ~nodes["address"].isin(used)]
    if cand.empty:
        raise ValueError(f"no unused address node on {street} in {area} in the OSM extract")
    row = cand.iloc[int(rng.integers(len(cand)))]
    used.add(str(row["address"]))
    return row


def _point_in(poly: shapely.Geometry, rng: np.random.Generator) -> Point:
    """A point well inside ``poly``: near its representative point, 30 m from its border."""
    rep = poly.representative_point()
    core = poly.buffer(-30.0)
    for _ in range(200):
        p = Point(rep.x + rng.normal(0, 120), rep.y + rng.normal(0, 120))
        if core.contains(p):
            return p
    return rep


# --------------------------------------------------------------------------- register plan

# (kind text, kind, area, street or None, completed, status) per row; None street = coordinates
_KIND_NAMES = {
    "belysning": ("Ny belysning på {place}", "Trygghetsbelysning {place}",
                  "Belysning längs {place}"),
    "slyrojning": ("Slyröjning vid {place}", "Röjning av sly, {place}"),
    "kamerabevakning": ("Trygghetskameror vid {place}", "Kamerabevakning {place}"),
    "klottersanering": ("Klottersanering {place}", "Snabb klottersanering vid {place}"),
    "annat": ("Konstinstallation vid {place}",),
    "trygghetsvandring": ("Trygghetsvandring {place}",),
}


@dataclass
class _Plan:
    kind: str
    kind_text: str
    area: str
    street: str | None  # None: coordinates; "" : no address at all
    completed: str | None
    status: str = "Avslutad"
    started: str | None = None
    role: str = "treated"
    number: bool = True  # False: the street without a house number
    address_override: str | None = None
    expect: str = "placed"
    border: bool = False


def _plan() -> list[_Plan]:
    """Every register row before duplicates: central addresses first, then the suburbs."""
    P = _Plan
    central = [
        # Vasastaden: lighting completed between the 2017 and 2020 waves (cohort 2020)
        P("belysning", "Belysning", "VASASTADEN", "Tegnérgatan", "2018-10-05", border=True),
        P("belysning", "Belysnig", "VASASTADEN", "Tegnérgatan", "2018-11-20", border=True),
        P("belysning", "Gatubelysning", "VASASTADEN", "Döbelnsgatan", "2019-02-14",
          border=True),
        P("belysning", "Trygghetsbelysning", "VASASTADEN", "Döbelnsgatan", "2019-03-01",
          border=True),
        P("belysning", "Belysning", "VASASTADEN", "Birger Jarlsgatan", "2019-05-22",
          border=True),
        P("belysning", "Belysning", "VASASTADEN", "Birger Jarlsgatan", "2019-06-10",
          border=True),
        P("belysning", "Belysnig", "VASASTADEN", "Luntmakargatan", "2019-09-30", border=True),
        P("belysning", "Belysning", "VASASTADEN", "Rådmansgatan", "2019-10-15"),
        P("belysning", "Gatubelysning", "VASASTADEN", "Tulegatan", "2019-11-28"),
        # the whole street along the border: the register's district decides
        P("belysning", "Belysning", "VASASTADEN", "Tegnérgatan", "2019-12-12", number=False,
          border=True),
        # a real Vasastaden address outside the OSM extract: cannot be placed here
        P("belysning", "Belysning", "VASASTADEN", "", "2019-08-19",
          address_override="Odengatan 52", expect="unplaced", role="no_address"),
        # Östermalm: cameras between the 2017 and 2020 waves
        P("kamerabevakning", "Trygghetskamera", "ÖSTERMALM", "Birger Jarlsgatan", "2019-02-01",
          border=True),
        P("kamerabevakning", "Kamerabevakning", "ÖSTERMALM", "Birger Jarlsgatan",
          "2019-02-01", border=True),
        P("kamerabevakning", "Trygghetskamera", "ÖSTERMALM", "Stureplan", "2019-03-18"),
        P("kamerabevakning", "Trygghetskamera", "ÖSTERMALM", "Grev Turegatan", "2019-04-02"),
        P("kamerabevakning", "Kamerabevakning", "ÖSTERMALM", "Grev Turegatan", "2019-06-11"),
        P("kamerabevakning", "Trygghetskamera", "ÖSTERMALM", "Biblioteksgatan", "2019-09-09",
          border=True),
        P("kamerabevakning", "Kamerabevakning", "ÖSTERMALM", "Nybrogatan", "2019-10-21"),
        P("kamerabevakning", "Trygghetskamera", "ÖSTERMALM", "Humlegårdsgatan", "2019-11-04"),
        # a safety walk that names only the district
        P("trygghetsvandring", "Trygghetsvandring", "ÖSTERMALM", "", "2018-10-03",
          address_override="Östermalm", expect="unplaced", role="no_address"),
        # Norrmalm: cameras and graffiti removal in the same window (two kinds)
        P("kamerabevakning", "Trygghetskamera", "NORRMALM", "Kungsgatan", "2018-12-03"),
        P("kamerabevakning", "Kamerabevakning", "NORRMALM", "Drottninggatan", "2019-01-15"),
        P("kamerabevakning", "Trygghetskamera", "NORRMALM", "Sveavägen", "2019-03-12"),
        P("kamerabevakning", "Kamerabevakning", "NORRMALM", "Sveavägen", "2019-05-06"),
        P("klottersanering", "Klottersanering", "NORRMALM", "Birger Jarlsgatan", "2018-09-17",
          border=True),
        P("klottersanering", "Klottersanering", "NORRMALM", "Tegnérgatan", "2018-10-01",
          border=True),
        P("klottersanering", "Klottersanering", "NORRMALM", "Döbelnsgatan", "2019-04-23",
          border=True),
        P("klottersanering", "Klottersanering", "NORRMALM", "Luntmakargatan", "2019-05-27",
          border=True),
        P("klottersanering", "Klottersanering", "NORRMALM", "Biblioteksgatan", "2019-08-12",
          border=True),
        P("klottersanering", "Klottersanering", "NORRMALM", "Regeringsgatan", "2019-10-08"),
        P("annat", "Konstinstallation", "NORRMALM", "Sveavägen", "2019-06-20",
          role="unknown_kind"),
    ]
    suburbs = [
        P("belysning", "Belysning", "RINKEBY", None, "2018-10-12"),
        P("belysning", "Belysnig", "RINKEBY", None, "2019-03-01"),
        P("belysning", "Gatubelysning", "TENSTA", None, "2019-06-20"),
        P("belysning", "Belysning", "HUSBY", None, "2016-05-10"),
        P("belysning", "Belysning", "HUSBY", None, "2016-11-02"),
        P("belysning", "Trygghetsbelysning", "RÅGSVED", None, "2016-10-03"),
        P("belysning", "Belysning", "SKÄRHOLMEN", None, "2019-11-15"),
        P("belysning", "Belysning", "HAGSÄTRA", None, "2021-06-01"),
        # completed after the 2020 wave although started before it: measured 2020 -> 2023
        P("belysning", "Belysning", "BREDÄNG", None, "2020-08-30", started="2019-10-01"),
        # completed after the last wave: not measurable until 2026
        P("belysning", "Belysning", "FARSTA", None, "2024-05-20", role="late"),
        # cancelled before any work, no date
        P("belysning", "Belysning", "BANDHAGEN", None, None, status="Avbruten",
          started="2019-03-01", role="cancelled"),
        P("slyrojning", "Sly- och buskröjning", "BAGARMOSSEN", None, "2019-05-10"),
        P("slyrojning", "Siktröjning", "HÄSSELBY GÅRD", None, "2016-04-20"),
        P("slyrojning", "Slyröjning", "VÅRBERG", None, "2021-09-01"),
        P("slyrojning", "Siktröjning", "FRUÄNGEN", None, "2019-08-15"),
        # ongoing, started after the last wave
        P("slyrojning", "Slyröjning", "HÖGDALEN", None, None, status="Pågående",
          started="2024-09-02", role="ongoing"),
        P("kamerabevakning", "Trygghetskamera", "KISTA", None, "2019-04-01"),
        P("kamerabevakning", "Kamerabevakning", "VÄLLINGBY", None, "2016-09-01"),
    ]
    return central + suburbs


def _fmt_kr(value: float, style: int) -> str:
    """An amount as a clerk writes it: ``1 250 000``, ``1250000`` or ``1 250 000`` (NBSP)."""
    v = int(round(value))
    if style == 0:
        return f"{v:,}".replace(",", " ")
    if style == 1:
        return str(v)
    return f"{v:,}".replace(",", "\u00a0")


def _fmt_coord(v: float) -> str:
    return f"{v:.1f}".replace(".", ",")


def _write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str,
               bom: bool = False) -> None:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ';"\n') else v

    text = "\r\n".join(";".join(cell(v) for v in r) for r in [header, *rows]) + "\r\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))


def _register(folder: Path, areas: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame,
              rng: np.random.Generator) -> pd.DataFrame:
    """Write ``investeringar.csv``; return the truth per row."""
    poly = areas.set_index("name").geometry
    used: set[str] = set()
    truth: list[dict] = []
    lines: list[list[str]] = []
    for k, p in enumerate(_plan()):
        completed = pd.Timestamp(p.completed) if p.completed else None
        started = (pd.Timestamp(p.started) if p.started else
                   completed - pd.Timedelta(days=int(rng.integers(60, 330))))  # type: ignore[operator]
        granted = float(np.round(rng.uniform(150, 1900)) * 1000)
        if p.role == "cancelled":
            spent = 0.0
        elif p.role == "ongoing":
            spent = float(np.round(granted * rng.uniform(0.1, 0.3), -3))
        else:
            spent = float(np.round(granted * rng.uniform(0.7, 1.05), -2))
        x = y = ""
        crs = ""
        if p.address_override is not None:
            address, area_id, source, place = p.address_override, make_area_id(p.area), "none", \
                p.address_override
        elif p.street is None:  # coordinates, northing labelled X, easting Y
            pt = _point_in(poly[p.area], rng)
            x, y, crs = _fmt_coord(pt.y), _fmt_coord(pt.x), "SWEREF 99 18 00"
            address, area_id, source, place = "", make_area_id(p.area), "coordinates", \
                f"{survey_name(p.area)} centrum"
        elif not p.number:
            address, area_id, source, place = p.street, make_area_id(p.area), "street", p.street
        else:
            node = _pick(nodes, rng, p.street, p.area, used)
            address, area_id, source, place = str(node["address"]), make_area_id(node["area"]), \
                "address", p.street
        year = (completed or started).year
        iid = f"TI-{year}-{k + 1:03d}"
        name = _KIND_NAMES[p.kind][int(rng.integers(len(_KIND_NAMES[p.kind])))].format(
            place=place)
        cohort = cohort_of(completed) if p.status == "Avslutad" else None
        lines.append([iid, name, p.kind_text, address, register_district(p.area),
                      _fmt_kr(granted, k % 3), _fmt_kr(spent, (k + 1) % 3),
                      started.strftime("%Y-%m-%d"),
                      completed.strftime("%Y-%m-%d") if completed is not None else "",
                      p.status, x, y, crs])
        truth.append({"investment_id": iid, "kind_text": p.kind_text, "kind": p.kind,
                      "area": p.area, "area_id": area_id, "source": source,
                      "address": address, "district_text": register_district(p.area),
                      "status": p.status, "started": started, "completed": completed,
                      "granted": granted, "spent": spent, "cohort": cohort,
                      "expect": p.expect, "role": p.role, "border": p.border,
                      "duplicate_of": None})
    # two exact duplicate rows (a row exported twice), and one id reused with new contents
    for src in (_index(truth, "TENSTA"), _index(truth, "VASASTADEN", source="address")):
        lines.append(list(lines[src]))
        truth.append(dict(truth[src], role="exact_duplicate", duplicate_of=src + 2))
    kista = _index(truth, "KISTA")
    again = list(lines[kista])
    again[6] = _fmt_kr(truth[kista]["spent"] + 45_000, 0)  # a corrected amount
    again[9] = "Avslutad"
    pt = _point_in(poly["KISTA"], rng)
    again[10], again[11] = _fmt_coord(pt.y), _fmt_coord(pt.x)
    lines.append(again)
    truth.append(dict(truth[kista], role="same_id", spent=truth[kista]["spent"] + 45_000))
    truth[kista]["role"] = "same_id"
    _write_csv(folder / "investeringar.csv", REGISTER_HEADER, lines, encoding="cp1252")
    out = pd.DataFrame(truth)
    out.insert(0, "source_row", np.arange(2, len(out) + 2))
    out["cohort"] = out["cohort"].astype("Int64")
    out["duplicate_of"] = out["duplicate_of"].astype("Int64")
    return out


def _index(truth: list[dict], area: str, *, source: str | None = None) -> int:
    return next(i for i, t in enumerate(truth) if t["area"] == area
                and t["role"] == "treated" and (source is None or t["source"] == source))


# --------------------------------------------------------------------------- survey


def _survey(folder: Path, areas: gpd.GeoDataFrame, treated: dict[str, tuple[str, int]],
            rng: np.random.Generator) -> tuple[dict[str, dict[int, float]], set[tuple[str, int]]]:
    """Write ``trygghetsmatning.csv``; return the true shares and the small cells.

    One row per populated stadsdel and wave, in Stockholm's spelling and alphabetical order,
    then the city's total row per wave (``Stockholms stad``), as the published tables have.
    """
    names = sorted((n for n in areas["name"] if n not in UNMEASURED), key=survey_name)
    true: dict[str, dict[int, float]] = {}
    small: set[tuple[str, int]] = set()
    lines = []
    total = {w: [0, 0] for w in WAVES}  # yes answers, respondents
    for upper in names:
        aid = make_area_id(upper)
        level = rng.uniform(0.12, 0.30) + (0.08 if upper in HIGH_LEVEL else 0.0)
        base_n = rng.uniform(150, 600)
        for w in WAVES:
            p = level + TREND[w] + rng.normal(0, 0.03) + LOCAL_SHOCKS.get((upper, w), 0.0)
            kind, cohort = treated.get(aid, ("", 9999))
            if w >= cohort:
                p += PLANTED_EFFECTS.get(kind, 0.0)
            p = float(np.clip(p, 0.03, 0.6))
            true.setdefault(aid, {})[w] = round(p, 6)
            if upper in SMALL_DISTRICTS:
                lo, hi = SMALL_DISTRICTS[upper]
                n = int(rng.integers(lo, hi + 1))
            elif (upper, w) in SMALL_CELLS_EXTRA:
                n = SMALL_CELLS_EXTRA[(upper, w)]
            else:
                n = int(np.clip(round(base_n * rng.uniform(0.85, 1.1)), 150, 600))
            if n < MIN_N:
                small.add((aid, w))
            k = int(rng.binomial(n, p))
            total[w][0] += k
            total[w][1] += n
            lines.append([survey_name(upper), str(w), f"{100.0 * k / n:.1f}".replace(".", ","),
                          str(n)])
    for w, (k, n) in total.items():
        lines.append([CITY_TOTAL, str(w), f"{100.0 * k / n:.1f}".replace(".", ","), str(n)])
    _write_csv(folder / "trygghetsmatning.csv", SURVEY_HEADER, lines, encoding="utf-8",
               bom=True)
    return true, small


# --------------------------------------------------------------------------- config

_CONFIG = """# Stockholm test case (seed {seed}), built by tests/stockholm_case.py.
# The area layer and the OSM extract are read where they lie in ../shared/data.

[project]
name = "Stockholm: uppföljning av trygghetsinvesteringar 2014-2023"
language = "sv"
crs = "EPSG:3011"

[areas]
path = "{areas}"
name_column = "name"

[register]
path = "investeringar.csv"

[gazetteer]
path = "{osm}"

[survey]
path = "trygghetsmatning.csv"
indicator = "{indicator}"
min_n = {min_n}

[analysis]
waves = [{waves}]
wave_month = {month}
wave_day = {day}

[output]
folder = "resultat"
"""


def _treated(rows: pd.DataFrame) -> tuple[dict[str, tuple[str, int]], tuple[str, ...]]:
    """Districts with measurable investments: (kind, cohort); and those with two kinds."""
    live = rows[(rows["expect"] == "placed") & rows["cohort"].notna()
                & (rows["kind"] != "trygghetsvandring")]
    treated: dict[str, tuple[str, int]] = {}
    multi = []
    for aid, g in live.groupby("area_id", sort=True):
        kinds = sorted(set(g["kind"]) - {"annat"})
        cohorts = sorted(set(int(c) for c in g["cohort"]))
        if len(kinds) > 1:
            multi.append(str(aid))
        if len(cohorts) != 1:
            raise ValueError(f"{aid}: the case plants one cohort per district, got {cohorts}")
        treated[str(aid)] = (kinds[0] if len(kinds) == 1 else "+".join(kinds), cohorts[0])
    return treated, tuple(multi)


def build_stockholm_case(folder: str | Path, *, seed: int = 0,
                         data: str | Path | None = None) -> CaseInfo:
    """Write the Stockholm case into ``folder`` from the reference data in ``data``.

    Parameters
    ----------
    folder
        The project folder to write (created when missing).
    seed
        Seeds the choice of addresses, amounts, dates, levels, shocks and sampling.
    data
        The reference data folder (default ``../shared/data`` beside the checkout).

    Returns
    -------
    CaseInfo
    """
    data = Path(data) if data is not None else SHARED_DATA
    for rel in (AREAS_REL, OSM_REL):
        if not (data / rel).is_file():
            raise FileNotFoundError(f"reference data missing: {data / rel}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    areas = _read_areas(data)
    nodes = _address_nodes(data, areas)
    rows = _register(folder, areas, nodes, rng)
    treated, multi = _treated(rows)
    true, small = _survey(folder, areas, treated, rng)
    config = folder / "projekt.toml"
    config.write_text(_CONFIG.format(
        seed=seed, areas=(data / AREAS_REL).resolve().as_posix(),
        osm=(data / OSM_REL).resolve().as_posix(), indicator=INDICATOR, min_n=MIN_N,
        waves=", ".join(map(str, WAVES)), month=WAVE_MONTH, day=WAVE_DAY), encoding="utf-8")
    return CaseInfo(
        folder=folder, config=config, register=folder / "investeringar.csv",
        survey=folder / "trygghetsmatning.csv", areas=data / AREAS_REL, gazetteer=data / OSM_REL,
        output=folder / "resultat", seed=seed, waves=WAVES, next_wave=NEXT_WAVE,
        indicator=INDICATOR, min_n=MIN_N, planted_effects=dict(PLANTED_EFFECTS), rows=rows,
        treated=treated, excluded_multi_kind=multi, small_cells=frozenset(small),
        survey_names={make_area_id(n): survey_name(n) for n in areas["name"]},
        unmatched_survey_names=(CITY_TOTAL,),
        areas_without_survey=tuple(make_area_id(n) for n in UNMEASURED),
        true_share=true,
    )


def _main() -> None:  # pragma: no cover - a manual look at the case
    import sys

    info = build_stockholm_case(Path(sys.argv[1]), seed=int(sys.argv[2]) if len(sys.argv) > 2
                                else 0)
    print(info.rows.to_string())
    print(info.treated, info.excluded_multi_kind, sorted(info.small_cells))


if __name__ == "__main__":  # pragma: no cover
    _main()

