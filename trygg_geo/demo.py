"""The demo city: a deterministic, realistic Swedish-style city with planted ground truth.

:func:`make_demo_city` writes, from a seed, every input the pipeline reads:

- ``stadsdelar.geojson``: 42 districts (stadsdelar) in 7 district groups (stadsdelsområden),
  in SWEREF 99 TM (EPSG:3006);
- ``gator.osm``: a named street network as OSM XML, with ``addr:*`` nodes, parks, schools,
  squares, stations, ``place=suburb`` nodes and ``highway=street_lamp`` nodes;
- ``investeringar.csv``: the investment register as a municipality keeps it (Swedish headers,
  ``;``, decimal comma, UTF-8 with BOM, typos, abbreviations, missing house numbers, place
  names, intersections, some coordinate rows, and a few rows that cannot be placed);
- ``trygghetsmatning.csv``: survey results for four waves (2015, 2018, 2021, 2024) and three
  indicators, with 50-300 respondents per district and wave;
- ``handelser.csv``: incident reports with planted hot spots;
- ``facit.json``: the planted ground truth;
- ``projekt.toml``: a project config that points at all of the above.

The same seed gives byte-identical files (tested).

The data-generating process for the survey: each district has its own level of each
indicator, all districts share a wave trend, and investments of a kind with a planted
effect shift the true share of ``otrygg_kvall`` by a known amount in every wave after the
investment was completed. On top, every indicator, district and wave gets its own shock
(``shock_sd``, default 2 percentage points, with an occasional large local shock of 3-4
times that; :func:`district_wave_shocks`), as real districts move between waves for
reasons of their own. Observed shares are binomial draws around the true shares.
``facit.json`` holds the expected shares, the realised shocks and the true shares (expected
plus shock), so the truth is known; the planted effects are the estimands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from trygg_geo._atomic import atomic_path
from trygg_geo._demo_places import footways, resident_reports
from trygg_geo.survey import FIELDWORK_DAY, FIELDWORK_MONTH

__all__ = [
    "DEMO_CRS",
    "LARGE_SHOCK_MULTIPLE",
    "LARGE_SHOCK_PROB",
    "PLANTED_EFFECTS",
    "SHOCK_SD",
    "WAVES",
    "DemoCity",
    "district_wave_shocks",
    "make_demo_city",
]

log = logging.getLogger(__name__)

DEMO_CRS = "EPSG:3006"
WAVES = (2015, 2018, 2021, 2024)
#: Survey fieldwork starts on this month and day of each wave year.
WAVE_DATE = (FIELDWORK_MONTH, FIELDWORK_DAY)  # the package's one fieldwork-date default
#: Planted effects on the share of residents who feel unsafe outdoors in the evening
#: (``otrygg_kvall``), in proportions (-0.07 = seven percentage points fewer).
PLANTED_EFFECTS: dict[str, float] = {
    "belysning": -0.07,
    "slyrojning": -0.05,
    "kamerabevakning": 0.0,
    "klottersanering": 0.0,
    "utemiljo": 0.0,
}
#: Default SD of the district x wave shocks on every true share (0.02 = 2 percentage
#: points): real districts move between waves for their own reasons.
SHOCK_SD = 0.02
#: Share of district x wave cells that get a large local shock instead of a normal one.
LARGE_SHOCK_PROB = 0.02
#: A large local shock is ``±U(lo, hi)`` times the shock SD.
LARGE_SHOCK_MULTIPLE = (3.0, 4.0)
INDICATORS = {
    # indicator: (city mean, between-district sd, trend per wave)
    "otrygg_kvall": (0.30, 0.08, 0.01),
    "oro_brott": (0.11, 0.04, -0.005),
    "avstar_aktivitet": (0.16, 0.05, 0.0),
}

_ORIGIN = (640_000.0, 6_590_000.0)  # SW corner, SWEREF 99 TM (inland Uppland)
_NX, _NY = 7, 6  # district seeds
_DISTRICT = 1000.0  # m between district seeds
_BLOCK = 125.0  # m between streets
_SEGMENT_BLOCKS = 16  # a named street spans this many blocks

_PREFIXES = (
    "Björk", "Ek", "Gran", "Lind", "Sjö", "Berg", "Strand", "Äng", "Hag", "Kvarn", "Tall", "Ros",
    "Lönn", "Vik", "Ås", "Dal", "Al", "Asp", "Hassel", "Rönn", "Sälg", "Lärk", "Idegran", "Alm",
    "Bok", "Fur", "Häll", "Kull", "Mosse", "Myr", "Rå", "Stens", "Torp", "Gärdes", "Skogs",
    "Kyrk", "Skol", "Prast", "Mjölnar", "Smeds", "Fiskar", "Bagar", "Vävar", "Kopparslagar",
    "Hamn", "Bro", "Tull", "Torg", "Park", "Solros", "Vitsippe", "Blåklints", "Nejlike", "Lilje",
    "Tranbärs", "Lingon", "Hjortron", "Blåbärs", "Trast", "Fink",
)
_SUFFIXES = ("gatan", "vägen", "stigen", "gränd", "backen", "allén", "leden", "slingan")
_DISTRICT_PARTS = (
    ("Björk", "Ek", "Gran", "Lind", "Sjö", "Berg", "Strand", "Äng", "Hag", "Kvarn", "Tall", "Ros",
     "Lönn", "Vik", "Ås", "Dal", "Ale", "Hassel", "Rönn", "Sälg", "Alm", "Bok", "Fur", "Häll",
     "Kull", "Mos", "Myr", "Sten", "Torp", "Gärde", "Skog", "Kyrk", "Mjöl", "Smed", "Fisk"),
    ("by", "sta", "hagen", "dal", "vik", "berga", "holm", "torp", "näs", "lund", "ängen",
     "backen", "mo", "ö", "hult", "åsen", "kulla", "sätra"),
)
_BOARDS = "Stadsdelsnämnden {group}"
_CATEGORIES = ("skadegörelse", "misshandel", "rån", "ordningsstörning", "narkotika",
               "otrygg plats (synpunkt)", "bilbrand")


@dataclass(frozen=True)
class DemoCity:
    """Paths of the files :func:`make_demo_city` wrote, and its planted truth."""

    folder: Path
    areas: Path
    osm: Path
    register: Path
    survey: Path
    incidents: Path
    truth: Path
    config: Path
    seed: int
    reports: Path | None = None

    def load_truth(self) -> dict:
        """The planted true effects, read from :attr:`truth` (JSON)."""
        return json.loads(self.truth.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- geometry


def _districts(
    rng: np.random.Generator,
) -> tuple[list[Polygon], np.ndarray, list[str], list[str], list[int]]:
    x0, y0 = _ORIGIN
    width, height = _NX * _DISTRICT, _NY * _DISTRICT
    city = box(x0, y0, x0 + width, y0 + height)
    grid_x, grid_y = np.meshgrid(np.arange(_NX), np.arange(_NY))
    gx, gy = grid_x.ravel(), grid_y.ravel()
    seeds = np.column_stack([
        x0 + (gx + 0.5) * _DISTRICT + rng.uniform(-220, 220, gx.size),
        y0 + (gy + 0.5) * _DISTRICT + rng.uniform(-220, 220, gy.size),
    ])
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=city)
    polys = []
    for s in seeds:
        cell = next(c for c in cells.geoms if c.contains(Point(s)))
        polys.append(shapely.set_precision(cell.intersection(city), 0.01))
    # groups: 7 stadsdelsområden, blocks of columns/rows
    group = np.where(gx <= 1, np.where(gy <= 2, 0, 1),
                     np.where(gx <= 3, np.where(gy <= 2, 2, 3),
                              np.where(gx <= 5, np.where(gy <= 2, 4, 5), 6)))
    names: list[str] = []
    used: set[str] = set()
    a, b = _DISTRICT_PARTS
    while len(names) < len(polys):
        n = a[rng.integers(len(a))] + b[rng.integers(len(b))]
        if n not in used:
            used.add(n)
            names.append(n)
    group_names = []
    for g in range(7):
        members = [names[i] for i in np.flatnonzero(group == g)]
        group_names.append(f"{members[0]}-{members[1]}")
    return polys, seeds, names, group_names, group.tolist()


@dataclass
class _Street:
    name: str
    node_ids: list[int]
    coords: np.ndarray  # (k, 2) along the street
    highway: str
    horizontal: bool


def _streets(rng: np.random.Generator) -> tuple[dict[int, tuple[float, float]], list[_Street]]:
    x0, y0 = _ORIGIN
    nx_lines = int(_NX * _DISTRICT / _BLOCK)
    ny_lines = int(_NY * _DISTRICT / _BLOCK)
    xs = x0 + _BLOCK / 2 + _BLOCK * np.arange(nx_lines)
    ys = y0 + _BLOCK / 2 + _BLOCK * np.arange(ny_lines)
    nodes: dict[int, tuple[float, float]] = {}

    def nid(i: int, j: int) -> int:
        return 1_000_000 + i * 1000 + j

    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            nodes[nid(i, j)] = (float(x), float(y))
    names = [p + s for p in _PREFIXES for s in _SUFFIXES]
    order = rng.permutation(len(names))
    streets: list[_Street] = []
    k = 0
    for j in range(ny_lines):  # horizontal streets (west -> east)
        for start in range(0, nx_lines - 1, _SEGMENT_BLOCKS):
            idx = list(range(start, min(start + _SEGMENT_BLOCKS + 1, nx_lines)))
            if len(idx) < 2:
                continue
            ids = [nid(i, j) for i in idx]
            streets.append(_Street(names[order[k]], ids, np.array([nodes[n] for n in ids]),
                                   "tertiary" if j % 4 == 0 else "residential", True))
            k += 1
    for i in range(nx_lines):  # vertical streets (south -> north)
        for start in range(0, ny_lines - 1, _SEGMENT_BLOCKS):
            idx = list(range(start, min(start + _SEGMENT_BLOCKS + 1, ny_lines)))
            if len(idx) < 2:
                continue
            ids = [nid(i, jj) for jj in idx]
            streets.append(_Street(names[order[k]], ids, np.array([nodes[n] for n in ids]),
                                   "tertiary" if i % 4 == 0 else "residential", False))
            k += 1
    return nodes, streets


@dataclass
class _Address:
    street: int
    number: int
    x: float
    y: float
    postcode: str


def _addresses(streets: list[_Street], district_polys: list[Polygon]) -> list[_Address]:
    out: list[_Address] = []
    tree = shapely.STRtree(district_polys)
    for si, st in enumerate(streets):
        c = st.coords
        for b in range(len(c) - 1):
            mid = (c[b] + c[b + 1]) / 2
            d = c[b + 1] - c[b]
            normal = np.array([-d[1], d[0]]) / np.hypot(*d)
            for side, num in (
                (1, 2 * b + 1),
                (-1, 2 * b + 2),
            ):  # odd on the left, even on the right
                x, y = mid + side * 14.0 * normal
                hit = tree.query(Point(x, y), predicate="intersects")
                di = int(hit[0]) if len(hit) else 0
                out.append(
                    _Address(
                        si,
                        num,
                        round(float(x), 2),
                        round(float(y), 2),
                        f"{745 + di // 6:03d} {10 + di % 6 * 7:02d}",
                    )
                )
    return out


# --------------------------------------------------------------------------- writers


def _write_text(path: Path, text: str, *, bom: bool = False) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def _write_areas(
    path: Path, polys: list[Polygon], names: list[str], group_names: list[str], group: list[int]
) -> None:
    feats = []
    for i, (poly, name) in enumerate(zip(polys, names, strict=True)):
        geom = json.loads(shapely.to_geojson(shapely.set_precision(poly, 0.01)))
        feats.append({
            "type": "Feature",
            "properties": {
                "sdid": f"SD{i + 1:02d}",
                "stadsdel": name,
                "stadsdelsomrade": group_names[group[i]],
            },
            "geometry": geom,
        })
    doc = {
        "type": "FeatureCollection",
        "name": "stadsdelar",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3006"}},
        "features": feats,
    }
    _write_text(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")


def _write_osm(path: Path, nodes: dict[int, tuple[float, float]], streets: list[_Street],
               addresses: list[_Address], places: list[dict], lamps: list[tuple[float, float]],
               parks: list[tuple[str, Polygon]],
               paths: Sequence[tuple[LineString, dict[str, str]]] = ()) -> None:
    to_ll = pyproj.Transformer.from_crs(DEMO_CRS, "EPSG:4326", always_xy=True)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<osm version="0.6" generator="trygg_geo.demo" copyright="synthetic demo data, CC0">']
    ts = 'version="1" timestamp="2024-01-01T00:00:00Z"'

    def node(i: int, x: float, y: float, tags: dict[str, str] | None = None) -> None:
        lon, lat = to_ll.transform(x, y)
        head = f'  <node id="{i}" {ts} lat="{lat:.7f}" lon="{lon:.7f}"'
        if not tags:
            lines.append(head + "/>")
            return
        lines.append(head + ">")
        for k, v in tags.items():
            lines.append(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>")
        lines.append("  </node>")

    all_x = np.array([p[0] for p in nodes.values()])
    minx, maxx = all_x.min(), all_x.max()
    all_y = np.array([p[1] for p in nodes.values()])
    miny, maxy = all_y.min(), all_y.max()
    lo0, la0 = to_ll.transform(minx, miny)
    lo1, la1 = to_ll.transform(maxx, maxy)
    lines.append(
        f'  <bounds minlat="{la0:.7f}" minlon="{lo0:.7f}" maxlat="{la1:.7f}" maxlon="{lo1:.7f}"/>'
    )
    for i, (x, y) in nodes.items():
        node(i, x, y)
    next_id = 2_000_000
    for a in addresses:
        node(next_id, a.x, a.y, {
            "addr:street": streets[a.street].name, "addr:housenumber": str(a.number),
            "addr:postcode": a.postcode, "addr:city": "Trygghamn",
        })
        next_id += 1
    for p in places:
        node(next_id, p["x"], p["y"], p["tags"])
        next_id += 1
    for x, y in lamps:
        node(next_id, x, y, {"highway": "street_lamp"})
        next_id += 1
    park_ways = []
    for name, poly in parks:
        ring = list(poly.exterior.coords)[:-1]
        ids = []
        for x, y in ring:
            node(next_id, x, y)
            ids.append(next_id)
            next_id += 1
        park_ways.append((name, ids + [ids[0]]))
    path_ways = []  # footways through the parks (trygg_geo._demo_places): nodes first
    for line, _ in paths:
        ids = []
        for x, y in line.coords:
            node(next_id, x, y)
            ids.append(next_id)
            next_id += 1
        path_ways.append(ids)
    ways: list[tuple[list[int], dict[str, str]]] = [
        (st.node_ids, {"highway": st.highway, "name": st.name,
                       "lit": "yes" if st.highway == "tertiary" else "no"}) for st in streets]
    ways += [(ids, {"leisure": "park", "name": name}) for name, ids in park_ways]
    ways += [(ids, tags) for ids, (_, tags) in zip(path_ways, paths, strict=True)]
    for way_id, (ids, tags) in enumerate(ways, start=3_000_000):
        lines.append(f'  <way id="{way_id}" {ts}>')
        lines.extend(f'    <nd ref="{n}"/>' for n in ids)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        lines.append("  </way>")
    lines.append("</osm>")
    _write_text(path, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- register


_ABBREV = (("gatan", "g."), ("gatan", "gat."), ("vägen", "v."), ("vägen", "vg."))
_FOLD = str.maketrans("åäöÅÄÖé", "aaoAAOe")


def _damage_street(name: str, rng: np.random.Generator) -> tuple[str, str]:
    """A street name as a clerk might write it; returns (text, damage label)."""
    r = rng.random()
    if r < 0.35:
        return name, "none"
    if r < 0.50:
        for full, short in _ABBREV:
            if name.endswith(full):
                return name[: -len(full)] + short, "abbreviation"
        return name.lower(), "case"
    if r < 0.62:
        return name.translate(_FOLD), "no_diacritics"
    if r < 0.72:
        return name.upper(), "case"
    # a typo: swap or drop a letter in the middle of the word
    chars = list(name)
    i = int(rng.integers(1, max(2, len(chars) - 3)))
    if rng.random() < 0.5:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        del chars[i]
    return "".join(chars), "typo"


_KIND_TEXT = {
    "belysning": (
        "Belysning",
        "Gatubelysning",
        "belysning",
        "Ny belysning",
        "Armaturer",
        "Trygghetsbelysning",
    ),
    "slyrojning": ("Slyröjning", "slyröjning", "Sly/röjning", "Buskröjning", "Gallring"),
    "kamerabevakning": ("Kamerabevakning", "Trygghetskamera", "kamera", "Övervakningskamera"),
    "klottersanering": ("Klottersanering", "Klotter", "klottersanering"),
    "utemiljo": ("Upprustning av utemiljö", "Utemiljö", "Upprustning"),
    "trygghetsvandring": ("Trygghetsvandring",),
}
_NAME_TEXT = {
    "belysning": "Ny belysning {place}",
    "slyrojning": "Slyröjning {place}",
    "kamerabevakning": "Kamerabevakning {place}",
    "klottersanering": "Klottersanering {place}",
    "utemiljo": "Upprustning {place}",
    "trygghetsvandring": "Trygghetsvandring i {place}",
}


def _wave_date(year: int) -> pd.Timestamp:
    return pd.Timestamp(year, *WAVE_DATE)


def _fmt_sek(v: float | None) -> str:
    if v is None or not np.isfinite(v):
        return ""
    s = f"{v:,.2f}".replace(",", " ").replace(".", ",")
    return s.removesuffix(",00")


def _places(
    seeds: np.ndarray, names: list[str], group: list[int]
) -> tuple[list[dict], list[tuple[str, Polygon]], dict[int, dict[str, tuple[float, float]]]]:
    """OSM places: a park, school and square per district, a station per group, suburb nodes.

    Returns the place nodes, the parks (name, polygon) and, per district, the named places
    with their coordinates (the register's place-name rows point at them).
    """
    places: list[dict] = []
    parks: list[tuple[str, Polygon]] = []
    district_places: dict[int, dict[str, tuple[float, float]]] = {}
    x0, y0 = _ORIGIN
    for d in range(len(names)):
        sx, sy = seeds[d]
        # a block centre near the seed: blocks are centred on multiples of _BLOCK from the origin
        bx = x0 + _BLOCK * (np.floor((sx - x0) / _BLOCK) + 1)
        by = y0 + _BLOCK * (np.floor((sy - y0) / _BLOCK) + 1)
        park = box(bx - 45, by - 45, bx + 45, by + 45)
        pname = f"{names[d]}parken"
        parks.append((pname, park))
        school = (bx + 2 * _BLOCK, by - _BLOCK)
        square = (bx - 2 * _BLOCK, by + _BLOCK)
        district_places[d] = {
            pname: (bx, by),
            f"{names[d]}skolan": school,
            f"{names[d]} torg": square,
        }
        places.append(
            {
                "x": school[0],
                "y": school[1],
                "tags": {"amenity": "school", "name": f"{names[d]}skolan"},
            }
        )
        places.append(
            {
                "x": square[0],
                "y": square[1],
                "tags": {"place": "square", "name": f"{names[d]} torg"},
            }
        )
        places.append(
            {"x": float(sx), "y": float(sy), "tags": {"place": "suburb", "name": names[d]}}
        )
    for g in range(7):
        d = int(np.flatnonzero(np.array(group) == g)[0])
        sx, sy = seeds[d]
        places.append(
            {
                "x": float(sx) + 60,
                "y": float(sy) - 60,
                "tags": {
                    "railway": "station",
                    "name": f"{names[d]} station",
                    "public_transport": "station",
                },
            }
        )
    return places, parks, district_places


def _lamps(streets: list[_Street]) -> list[tuple[float, float]]:
    """Street lamps every 60 m along the lit (tertiary) streets, set 8 m to the side."""
    lamps: list[tuple[float, float]] = []
    for st in streets:
        if st.highway != "tertiary":
            continue
        line = shapely.LineString(st.coords)
        for dist in np.arange(20.0, line.length, 60.0):
            p = line.interpolate(dist)
            lamps.append(
                (
                    round(p.x + 8.0 * (1 if st.horizontal else 0), 2),
                    round(p.y + 8.0 * (0 if st.horizontal else 1), 2),
                )
            )
    return lamps


@dataclass(frozen=True)
class _Plan:
    """The treatment plan: districts treated by each kind, the controls, and each cohort."""

    treated: dict[str, list[int]]
    controls: list[int]
    cohort_of: dict[int, int]


def _treatment_plan(rng: np.random.Generator, n_d: int) -> _Plan:
    order = rng.permutation(n_d)
    plan_sizes = {
        "belysning": 8,
        "slyrojning": 7,
        "kamerabevakning": 6,
        "klottersanering": 3,
        "utemiljo": 3,
    }
    treated: dict[str, list[int]] = {}
    pos = 0
    for kind, size in plan_sizes.items():
        treated[kind] = sorted(int(d) for d in order[pos: pos + size])
        pos += size
    controls = sorted(int(d) for d in order[pos:])
    cohort_of: dict[int, int] = {}
    for ds in treated.values():
        for d in ds:
            cohort_of[d] = int(rng.choice(WAVES[1:]))
    return _Plan(treated, controls, cohort_of)


@dataclass
class _Register:
    """The investment register being written: its rows and, per row, the planted truth.

    It holds what the rows are drawn from (the districts, streets, addresses and places)
    and the one random generator, which the rows draw from in the order they are written.
    """

    rng: np.random.Generator
    polys: list[Polygon]
    names: list[str]
    group_names: list[str]
    group: list[int]
    nodes: dict[int, tuple[float, float]]
    streets: list[_Street]
    addresses: list[_Address]
    district_places: dict[int, dict[str, tuple[float, float]]]
    rows: list[dict] = field(default_factory=list)
    truth_rows: list[dict] = field(default_factory=list)
    street_names: list[str] = field(init=False)
    addr_by_district: dict[int, list[int]] = field(init=False)
    _tree: shapely.STRtree = field(init=False)

    def __post_init__(self) -> None:
        self.street_names = [s.name for s in self.streets]
        self._tree = shapely.STRtree(self.polys)
        inner = [p.buffer(-120) for p in self.polys]  # keep planted investments off borders
        self.addr_by_district = {i: [] for i in range(len(self.polys))}
        for ai, a in enumerate(self.addresses):
            d = self.district_of(a.x, a.y)
            if d >= 0 and inner[d].contains(Point(a.x, a.y)):
                self.addr_by_district[d].append(ai)

    def district_of(self, x: float, y: float) -> int:
        hit = self._tree.query(Point(x, y), predicate="intersects")
        return int(hit[0]) if len(hit) else -1

    def add_row(self, kind: str, d: int, *, address: str, damage: str, x: float | None,
                y: float | None, completed: pd.Timestamp | None,
                coords: tuple[str, str, str] = ("", "", ""), name: str | None = None,
                kind_text: str | None = None, expect: str = "placed", place: str = "") -> None:
        """Append one register row and its truth row (amounts and dates drawn here)."""
        rng = self.rng
        granted = float(np.round(rng.uniform(60, 1600)) * 1000)
        if completed is not None:
            spent = float(np.round(granted * rng.uniform(0.55, 1.06), -2))
            started = completed - pd.Timedelta(days=int(rng.integers(30, 300)))
            # the work starts after the wave before its completion, so that wave measures
            # "before" (the measurement window of trygg_geo.design)
            before = [_wave_date(w) for w in WAVES if _wave_date(w) < completed]
            if before and started <= before[-1]:
                started = before[-1] + pd.Timedelta(days=max(1, (completed - before[-1]).days // 5))
        else:
            spent = (
                float(np.round(granted * rng.uniform(0.0, 0.4), -2))
                if rng.random() < 0.5
                else float("nan")
            )
            started = _wave_date(2024) + pd.Timedelta(days=int(rng.integers(30, 200)))
        year = (completed or started).year
        iid = f"TI-{year}-{len(self.rows) + 1:03d}"
        self.rows.append({
            "Projekt-ID": iid,
            "Projektnamn": name or _NAME_TEXT[kind].format(place=place or self.names[d]),
            "Åtgärd": kind_text or str(rng.choice(_KIND_TEXT[kind])),
            "Adress/plats": address,
            "Stadsdel": self.names[d],
            "Sökande nämnd": _BOARDS.format(group=self.group_names[self.group[d]]),
            "Beviljat (kr)": _fmt_sek(granted),
            "Nyttjat (kr)": _fmt_sek(spent),
            "Startdatum": started.strftime("%Y-%m-%d"),
            "Färdigställd": completed.strftime("%Y-%m-%d") if completed is not None else "",
            "X": coords[0], "Y": coords[1], "Koordinatsystem": coords[2],
        })
        self.truth_rows.append(
            {
                "investment_id": iid,
                "source_row": len(self.rows) + 1,
                "kind": kind,
                "district": f"SD{d + 1:02d}",
                "x": x,
                "y": y,
                "damage": damage,
                "expect": expect,
                "completed": completed.strftime("%Y-%m-%d") if completed is not None else None,
                "granted_sek": granted,
                "spent_sek": None if not np.isfinite(spent) else spent,
            }
        )

    def completion_before(self, cohort: int) -> pd.Timestamp:
        """A completion date between the wave before ``cohort`` and the ``cohort`` wave."""
        prev = WAVES[WAVES.index(cohort) - 1]
        lo, hi = (
            _wave_date(prev) + pd.Timedelta(days=60),
            _wave_date(cohort) - pd.Timedelta(days=30),
        )
        return lo + pd.Timedelta(days=int(self.rng.integers(0, (hi - lo).days)))

    def address_row(
        self, kind: str, d: int, completed: pd.Timestamp | None, *, allow_street_level: bool
    ) -> None:
        """A row at a (damaged) street address in district ``d``."""
        rng = self.rng
        ai = int(rng.choice(self.addr_by_district[d]))
        a = self.addresses[ai]
        sname = self.street_names[a.street]
        text, damage = _damage_street(sname, rng)
        r = rng.random()
        if allow_street_level and r < 0.18:
            address, damage = text, "no_number"
        elif kind == "belysning" and r < 0.45:
            address = f"{text} {a.number}-{a.number + 4}"
            damage = damage if damage != "none" else "range"
        elif r < 0.55:
            address = f"{text} {a.number}{'AB'[int(rng.integers(2))]}"
            damage = damage if damage != "none" else "letter"
        elif r < 0.62:
            address = f"vid {text} {a.number}"
            damage = damage if damage != "none" else "noise_word"
        else:
            address = f"{text} {a.number}"
        self.add_row(
            kind,
            d,
            address=address,
            damage=damage,
            x=a.x,
            y=a.y,
            completed=completed,
            place=f"på {sname}",
        )

    def investment(self, kind: str, d: int, cohort: int, *, first: bool) -> None:
        """One investment of a treated district, completed before its cohort's wave.

        The first one is always at a street address; later ones may be at a place name,
        an intersection or given as coordinates.
        """
        completed = self.completion_before(cohort)
        form = self.rng.random()
        if first or form < 0.55:
            self.address_row(kind, d, completed, allow_street_level=not first)
        elif kind in ("slyrojning", "utemiljo") and form < 0.85:
            self.place_row(kind, d, completed, f"{self.names[d]}parken", near="i")
        elif kind in ("kamerabevakning", "klottersanering") and form < 0.8:
            name = self.names[d]
            pname = f"{name} torg" if self.rng.random() < 0.5 else f"{name}skolan"
            self.place_row(kind, d, completed, pname, near="vid")
        elif form < 0.9:
            self.intersection_row(kind, d, completed)
        else:
            self.coordinate_row(kind, d, completed)

    def place_row(
        self, kind: str, d: int, completed: pd.Timestamp, pname: str, *, near: str
    ) -> None:
        """A row that names a park, square or school of district ``d``."""
        px, py = self.district_places[d][pname]
        self.add_row(
            kind,
            d,
            address=pname,
            damage="place_name",
            x=px,
            y=py,
            completed=completed,
            place=f"{near} {pname}",
        )

    def intersection_row(self, kind: str, d: int, completed: pd.Timestamp) -> None:
        """A row at an intersection of two streets in the district (else at an address)."""
        rng = self.rng
        ai = int(rng.choice(self.addr_by_district[d]))
        st = self.streets[self.addresses[ai].street]
        k = int(rng.integers(1, len(st.node_ids) - 1))
        node_id = st.node_ids[k]
        cross = next(s for s in self.streets if s is not st and node_id in s.node_ids)
        nx_, ny_ = self.nodes[node_id]
        if self.district_of(nx_, ny_) != d:
            self.address_row(kind, d, completed, allow_street_level=False)
            return
        sep = "/" if rng.random() < 0.5 else " och "
        pre = "korsningen " if sep == " och " or rng.random() < 0.5 else ""
        self.add_row(
            kind,
            d,
            address=f"{pre}{st.name}{sep}{cross.name}",
            damage="intersection",
            x=nx_,
            y=ny_,
            completed=completed,
            place=f"vid {st.name}",
        )

    def coordinate_row(self, kind: str, d: int, completed: pd.Timestamp) -> None:
        """A row with coordinates (SWEREF 99 TM, or WGS84 with x and y swapped)."""
        rng = self.rng
        ai = int(rng.choice(self.addr_by_district[d]))
        a = self.addresses[ai]
        if rng.random() < 0.5:
            coords = (_fmt_sek(round(a.x, 1)), _fmt_sek(round(a.y, 1)), "SWEREF 99 TM")
            damage = "coordinates"
        else:
            lon, lat = pyproj.Transformer.from_crs(
                DEMO_CRS, "EPSG:4326", always_xy=True
            ).transform(a.x, a.y)
            coords = (
                f"{lat:.6f}".replace(".", ","),
                f"{lon:.6f}".replace(".", ","),
                "WGS84",
            )
            damage = "coordinates_swapped"
        self.add_row(
            kind,
            d,
            address="",
            damage=damage,
            x=a.x,
            y=a.y,
            completed=completed,
            coords=coords,
        )

    def control_rows(self, controls: list[int]) -> None:
        """Rows in control districts that do not (yet) treat them, and safety walks."""
        rng = self.rng
        for d in controls[:4]:
            self.address_row(
                str(rng.choice(["belysning", "kamerabevakning"])), d, None,
                allow_street_level=False,
            )
        d = controls[4 % len(controls)]
        a = self.addresses[self.addr_by_district[d][0]]
        self.add_row("belysning", d, address=f"{self.street_names[a.street]} 3",
                     damage="completed_after_last_wave", x=a.x, y=None,
                     completed=_wave_date(2024) + pd.Timedelta(days=40))
        self.truth_rows[-1]["y"] = a.y
        # safety walks: only a district name, cannot be placed as a point
        for d in controls[5:8]:
            self.add_row(
                "trygghetsvandring",
                d,
                address=self.names[d],
                damage="only_district",
                x=None,
                y=None,
                completed=_wave_date(2019) + pd.Timedelta(days=int(rng.integers(0, 300))),
                expect="unplaced",
            )

    def awkward_rows(self, dbad: int) -> None:
        """Rows no geocoder can place, rows that test escaping, and an exact duplicate."""
        self.add_row("klottersanering", dbad, address="", damage="empty_address", x=None,
                     y=None, completed=None, expect="unplaced")
        self.add_row(
            "kamerabevakning",
            dbad,
            address="Тверская улица 7",
            damage="other_script",
            x=None,
            y=None,
            completed=None,
            expect="unplaced",
        )
        self.add_row(
            "belysning",
            dbad,
            address="",
            damage="impossible_coordinates",
            x=None,
            y=None,
            completed=None,
            coords=("0", "0", "SWEREF 99 TM"),
            expect="unplaced",
        )
        a = self.addresses[self.addr_by_district[dbad][1]]
        self.add_row(
            "utemiljo",
            dbad,
            address=f"{self.street_names[a.street]} {a.number}",
            damage="script_in_name",
            x=a.x,
            y=a.y,
            completed=None,
            name="<script>alert('trygg')</script> & <b>fet</b> text",
            kind_text="Konstinstallation",
        )
        self.truth_rows[-1]["kind"] = "annat"
        # an exact duplicate row (flagged, not merged)
        self.rows.append(dict(self.rows[2]))
        dup = dict(self.truth_rows[2])
        dup["source_row"] = len(self.rows) + 1
        dup["damage"] = "duplicate_row"
        self.truth_rows.append(dup)

    def to_csv(self) -> str:
        """The register as the municipality's CSV text (``;``, quoted where needed, CRLF)."""
        header = list(self.rows[0])
        text_rows = [";".join(header)]
        for r in self.rows:
            cells = []
            for h in header:
                v = str(r[h])
                if any(c in v for c in ';"\n'):
                    v = '"' + v.replace('"', '""') + '"'
                cells.append(v)
            text_rows.append(";".join(cells))
        return "\r\n".join(text_rows) + "\r\n"


def district_wave_shocks(
    rng: np.random.Generator, shape: int | tuple[int, ...], *, shock_sd: float = SHOCK_SD
) -> np.ndarray:
    """District x wave shocks on a true share: mostly normal, occasionally large and local.

    With probability :data:`LARGE_SHOCK_PROB` a cell gets a large local shock of
    ``±U(3, 4) * shock_sd`` (:data:`LARGE_SHOCK_MULTIPLE`, random sign); every other cell a
    normal shock whose SD is chosen so that all shocks together have standard deviation
    ``shock_sd`` (the normal part's SD is about ``0.877 * shock_sd``). The draws are made
    in a fixed order per call, so the same generator state and shape give the same
    standardised shocks for every ``shock_sd``.

    Parameters
    ----------
    rng
        The random generator.
    shape
        Shape of the array of shocks (e.g. ``(n_reps, n_cells)``).
    shock_sd
        Standard deviation of the shocks, in share units (0.02 = 2 percentage points);
        0 gives zeros.

    Returns
    -------
    numpy.ndarray
        The shocks, mean 0 and SD ``shock_sd``.

    Examples
    --------
    >>> s = district_wave_shocks(np.random.default_rng(1), 200_000, shock_sd=0.02)
    >>> round(float(s.std()), 3), bool(np.abs(s).max() > 0.06)
    (0.02, True)
    """
    return _draw_shocks(rng, shape, shock_sd)[0]


def _draw_shocks(
    rng: np.random.Generator, shape: int | tuple[int, ...], shock_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`district_wave_shocks` and the mask of the cells that got a large shock."""
    if not np.isfinite(shock_sd) or shock_sd < 0:
        raise ValueError(f"shock_sd must be a finite share >= 0 (0.02 = 2 pp), got {shock_sd}.")
    z = rng.standard_normal(shape)
    large = rng.random(shape) < LARGE_SHOCK_PROB
    lo, hi = LARGE_SHOCK_MULTIPLE
    size = rng.uniform(lo, hi, shape) * np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    q = LARGE_SHOCK_PROB
    normal_sd = np.sqrt((1 - q * (lo * lo + lo * hi + hi * hi) / 3) / (1 - q))
    return shock_sd * np.where(large, size, normal_sd * z), large & (shock_sd > 0)


@dataclass
class _Shocks:
    """The survey's true shares with and without the district x wave shocks."""

    true_share: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    expected_share: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    shocks: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    large: list[dict[str, object]] = field(default_factory=list)

    def add(self, ind: str, area: str, wave: int, expected: float, shock: float,
            large: bool) -> float:
        """Record one cell; returns the true share (expected + shock, clipped)."""
        e = float(np.clip(expected, 0.01, 0.95))
        p = float(np.clip(expected + shock, 0.01, 0.95))
        self.expected_share.setdefault(ind, {}).setdefault(area, {})[str(wave)] = round(e, 6)
        self.true_share.setdefault(ind, {}).setdefault(area, {})[str(wave)] = round(p, 6)
        self.shocks.setdefault(ind, {}).setdefault(area, {})[str(wave)] = round(p - e, 6)
        if large:
            self.large.append({"indicator": ind, "area_id": area, "wave": wave,
                               "shock": round(p - e, 6)})
        return p


def _survey(
    rng: np.random.Generator, names: list[str], plan: _Plan, shocks: np.ndarray, large: np.ndarray
) -> tuple[list[str], _Shocks]:
    """The survey CSV lines, and the true shares (with and without shocks).

    ``shocks[i, w, d]`` is the shock of indicator ``i`` (in :data:`INDICATORS` order),
    wave ``w`` and district ``d``; ``large`` marks the large local ones.
    """
    n_d = len(names)
    lvl = {
        ind: np.clip(m + s * rng.standard_normal(n_d), 0.03, 0.85)
        for ind, (m, s, _t) in INDICATORS.items()
    }
    pop = rng.uniform(0.3, 1.0, n_d)
    survey_lines = ["Områdes-id;Stadsdel;År;Indikator;Antal svarande;Andel (%)"]
    out = _Shocks()
    for w_i, wave in enumerate(WAVES):
        n_resp = np.clip(np.round(50 + 250 * pop * rng.uniform(0.7, 1.1, n_d)), 50, 300).astype(int)
        for i_i, (ind, (_m, _s, trend)) in enumerate(INDICATORS.items()):
            for d in range(n_d):
                p = lvl[ind][d] + trend * w_i
                if ind == "otrygg_kvall":
                    for kind, ds in plan.treated.items():
                        if d in ds and wave >= plan.cohort_of[d]:
                            p += PLANTED_EFFECTS[kind]
                u = float(shocks[i_i, w_i, d])
                p = out.add(ind, f"SD{d + 1:02d}", wave, p, u, bool(large[i_i, w_i, d]))
                k = int(rng.binomial(n_resp[d], p))
                pct = 100 * k / n_resp[d]
                survey_lines.append(
                    f"SD{d + 1:02d};{names[d]};{wave};{ind};{n_resp[d]};{pct:.1f}".replace(".", ",")
                )
    return survey_lines, out


def _incidents(
    rng: np.random.Generator, polys: list[Polygon]
) -> tuple[list[str], list[int], list[tuple[float, float]]]:
    """The incident CSV lines, the four hot-spot districts and the hot spots' centres.

    Incidents are spread evenly over the city, plus a cluster around each hot spot.
    """
    x0, y0 = _ORIGIN
    n_bg = 3000
    pts = [
        np.column_stack(
            [
                rng.uniform(x0, x0 + _NX * _DISTRICT, n_bg),
                rng.uniform(y0, y0 + _NY * _DISTRICT, n_bg),
            ]
        )
    ]
    hot_d = [int(d) for d in rng.choice(len(polys), 4, replace=False)]
    hot_centres = []
    for d in hot_d:
        c = polys[d].representative_point()
        hot_centres.append((round(c.x, 1), round(c.y, 1)))
        pts.append(np.column_stack([rng.normal(c.x, 110, 250), rng.normal(c.y, 110, 250)]))
    xy = np.vstack(pts)
    days = rng.integers(0, (pd.Timestamp(2024, 12, 31) - pd.Timestamp(2015, 1, 1)).days, len(xy))
    inc_lines = ["Ärendenummer;Datum;Kategori;X;Y"]
    perm = rng.permutation(len(xy))
    for k, i in enumerate(perm):
        date = (pd.Timestamp(2015, 1, 1) + pd.Timedelta(days=int(days[i]))).strftime("%Y-%m-%d")
        cat = _CATEGORIES[int(rng.integers(len(_CATEGORIES)))]
        inc_lines.append(
            f"H{k + 1:05d};{date};{cat};{xy[i, 0]:.1f};{xy[i, 1]:.1f}".replace(".", ",")
        )
    return inc_lines, hot_d, hot_centres


def make_demo_city(
    folder: str | Path, *, seed: int = 2024, shock_sd: float = SHOCK_SD
) -> DemoCity:
    """Write the demo city's input files and planted truth into ``folder``.

    Parameters
    ----------
    folder
        Output folder (created).
    seed
        The seed; the same seed and ``shock_sd`` give byte-identical files.
    shock_sd
        SD of the district x wave shocks on the true shares, in share units (default
        0.02 = 2 percentage points; 0 = none). See :func:`district_wave_shocks`. The
        standardised shocks come from their own stream of the seed, so two cities with
        the same seed and different ``shock_sd`` have the same shocks up to scale.

    Returns
    -------
    DemoCity
        The paths written.

    Examples
    --------
    >>> import tempfile
    >>> city = make_demo_city(tempfile.mkdtemp(), seed=1)
    >>> sorted(city.load_truth()["planted_effects"])[:2]
    ['belysning', 'kamerabevakning']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    polys, seeds, names, group_names, group = _districts(rng)
    nodes, streets = _streets(rng)
    addresses = _addresses(streets, polys)
    places, parks, district_places = _places(seeds, names, group)
    lamps = _lamps(streets)
    plan = _treatment_plan(rng, len(polys))

    # the register: every random draw happens in the order the rows are written
    reg = _Register(rng=rng, polys=polys, names=names, group_names=group_names, group=group,
                    nodes=nodes, streets=streets, addresses=addresses,
                    district_places=district_places)
    for kind, ds in plan.treated.items():
        for d in ds:
            n_inv = int(rng.integers(1, 4))
            for j in range(n_inv):
                reg.investment(kind, d, plan.cohort_of[d], first=(j == 0))
    reg.control_rows(plan.controls)
    reg.awkward_rows(plan.controls[0])
    register_path = folder / "investeringar.csv"
    _write_text(register_path, reg.to_csv(), bom=True)

    shocks, large = _draw_shocks(np.random.default_rng([seed, _SHOCK_STREAM]),
                                 (len(INDICATORS), len(WAVES), len(polys)), shock_sd)
    survey_lines, shares = _survey(rng, names, plan, shocks, large)
    survey_path = folder / "trygghetsmatning.csv"
    _write_text(survey_path, "\r\n".join(survey_lines) + "\r\n", bom=True)

    inc_lines, hot_d, hot_centres = _incidents(rng, polys)
    incidents_path = folder / "handelser.csv"
    _write_text(incidents_path, "\r\n".join(inc_lines) + "\r\n", bom=True)

    areas_path = folder / "stadsdelar.geojson"
    _write_areas(areas_path, polys, names, group_names, group)
    osm_path = folder / "gator.osm"
    paths = footways(parks)
    _write_osm(osm_path, nodes, streets, addresses, places, lamps, parks, paths)
    # resident reports from their own stream: the other files are as without them
    reports_path = folder / "tyck_till.csv"
    report_lines = resident_reports(
        np.random.default_rng([seed, _REPORT_STREAM]), polys, hot_centres, paths,
        [(streets[a.street].name, a.number) for a in addresses[::25]])
    _write_text(reports_path, "\r\n".join(report_lines) + "\r\n", bom=True)

    truth = {
        "seed": seed,
        "crs": DEMO_CRS,
        "waves": list(WAVES),
        "wave_date": f"YYYY-{WAVE_DATE[0]:02d}-{WAVE_DATE[1]:02d}",
        "indicator": "otrygg_kvall",
        "planted_effects": PLANTED_EFFECTS,
        "treated_districts": {k: [f"SD{d + 1:02d}" for d in v] for k, v in plan.treated.items()},
        "cohort": {f"SD{d + 1:02d}": c for d, c in sorted(plan.cohort_of.items())},
        "control_districts": [f"SD{d + 1:02d}" for d in plan.controls],
        "hot_spot_centres": hot_centres,
        "hot_spot_districts": [f"SD{d + 1:02d}" for d in hot_d],
        "n_register_rows": len(reg.rows),
        "register": reg.truth_rows,
        "true_share": shares.true_share,
        "shock_sd": shock_sd,
        "shock_model": {
            "large_prob": LARGE_SHOCK_PROB,
            "large_multiple": list(LARGE_SHOCK_MULTIPLE),
            "note": "true_share = expected_share + shocks (clipped to 0.01-0.95); shocks are "
                    "independent per indicator, district and wave with SD shock_sd, the "
                    "large local ones included",
        },
        "expected_share": shares.expected_share,
        "shocks": shares.shocks,
        "large_shocks": shares.large,
    }
    truth_path = folder / "facit.json"
    _write_text(truth_path, json.dumps(truth, ensure_ascii=False, indent=1) + "\n")
    config_path = folder / "projekt.toml"
    _write_text(config_path, _CONFIG.format(seed=seed))
    log.info("demo city (seed %d) written to %s", seed, folder)
    return DemoCity(folder, areas_path, osm_path, register_path, survey_path, incidents_path,
                    truth_path, config_path, seed, reports_path)


_SHOCK_STREAM = 12  # the shocks' own random stream: default_rng([seed, _SHOCK_STREAM])
_REPORT_STREAM = 14  # the resident reports' own stream

_CONFIG = """# trygg_geo project config for the demo city (seed {seed}).
# Paths are relative to this file. See README.md for every key.

[project]
name = "Trygghamn: uppföljning av trygghetsinvesteringar"
language = "sv"
crs = "EPSG:3006"

[areas]
path = "stadsdelar.geojson"
id_column = "sdid"
name_column = "stadsdel"
parent_column = "stadsdelsomrade"

[register]
path = "investeringar.csv"

[gazetteer]
path = "gator.osm"

[survey]
path = "trygghetsmatning.csv"
indicator = "otrygg_kvall"
min_n = 30
# the file is in percent; say so, since a small indicator can fall below 1 %
scale = "percent"

[incidents]
path = "handelser.csv"
crs = "EPSG:3006"

# places residents point out (Tyck till); X is the northing, as Swedish files write it
[reports]
path = "tyck_till.csv"

[analysis]
waves = [2015, 2018, 2021, 2024]
wave_month = 9
wave_day = 15

[output]
folder = "."
"""
