"""The geocoding cascade on a small hand-built city (OSM XML read by the real osmnx readers).

The city, in metres from an origin in SWEREF 99 TM:

- Storgatan (y=0) and Kyrkvägen (y=200), x 0..600; Torggatan (x=0) and Skolgatan (x=600);
  Björkstigen, a named cycleway (x=450, y 200..400); an unnamed footway at x=300 between
  Storgatan and Kyrkvägen; an unnamed footway inside the park (y=100, x 100..200);
- Storgatan 1..20 at x=25*n (odd y=-12, even y=+12) plus 12A, postcode 123 45;
  Kyrkvägen 1..10 at x=50*n; Skolgatan 2 is a building (its centre is at 620, 100);
- Centralparken (leisure=park, x 50..250, y 50..150), Byskolan (school node at 400, 100),
  Stortorget (place=square node), Lilla torget (pedestrian area), Byn station, place=suburb
  "Byn", place=neighbourhood "Östra Byn", two street lamps.
"""

from __future__ import annotations

import argparse
import math
import sys
import types
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Point

from trygg_geo._errors import CRSError, InputError, MissingDependencyError
from trygg_geo.geocode import Gazetteer, GeopyProvider, LocalProvider, geocode_register
from trygg_geo.geocode._match import REGISTER_COLUMNS

E0, N0 = 674000.0, 6581000.0
_TO_LL = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)
_TO_TM = Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True)


def xy(dx: float, dy: float) -> tuple[float, float]:
    return (E0 + dx, N0 + dy)


class _Osm:
    def __init__(self) -> None:
        self.nodes: list[str] = []
        self.ways: list[str] = []
        self.next_id = 1
        self.at: dict[tuple[float, float], int] = {}

    def node(self, dx: float, dy: float, tags: dict[str, str] | None = None) -> int:
        if not tags and (dx, dy) in self.at:
            return self.at[(dx, dy)]
        nid = self.next_id
        self.next_id += 1
        lon, lat = _TO_LL.transform(*xy(dx, dy))
        t = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
        self.nodes.append(f'<node id="{nid}" version="1" lat="{lat:.9f}" lon="{lon:.9f}">{t}</node>')
        if not tags:
            self.at[(dx, dy)] = nid
        return nid

    def way(self, pts: list[tuple[float, float]], tags: dict[str, str], *, closed: bool = False) -> None:
        ids = [self.node(*p) for p in pts]
        if closed:
            ids.append(ids[0])
        wid = 100000 + len(self.ways)
        nd = "".join(f'<nd ref="{i}"/>' for i in ids)
        t = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        self.ways.append(f'<way id="{wid}" version="1">{nd}{t}</way>')

    def write(self, path: Path) -> Path:
        path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
                        + "\n".join(self.nodes + self.ways) + "\n</osm>\n", encoding="utf-8")
        return path


def write_city(path: Path) -> Path:
    o = _Osm()
    xs = [0, 100, 200, 300, 400, 500, 600]
    o.way([(x, 0) for x in xs], {"highway": "residential", "name": "Storgatan"})
    o.way([(x, 200) for x in xs], {"highway": "residential", "name": "Kyrkvägen"})
    o.way([(0, 0), (0, 100), (0, 200)], {"highway": "residential", "name": "Torggatan"})
    o.way([(600, 0), (600, 100), (600, 200)], {"highway": "residential", "name": "Skolgatan"})
    o.way([(450, 200), (450, 300), (450, 400)], {"highway": "cycleway", "name": "Björkstigen"})
    o.way([(300, 0), (300, 100), (300, 200)], {"highway": "footway"})
    o.way([(100, 100), (150, 100), (200, 100)], {"highway": "footway"})
    for n in range(1, 21):
        o.node(25 * n, -12 if n % 2 else 12, {"addr:street": "Storgatan", "addr:housenumber": str(n),
                                              "addr:postcode": "123 45", "addr:city": "Byn"})
    o.node(300, 14, {"addr:street": "Storgatan", "addr:housenumber": "12A", "addr:postcode": "123 45"})
    for n in range(1, 11):
        o.node(50 * n, 212 if n % 2 else 188, {"addr:street": "Kyrkvägen", "addr:housenumber": str(n),
                                               "addr:postcode": "123 46", "addr:city": "Byn"})
    o.way([(610, 90), (630, 90), (630, 110), (610, 110)],
          {"building": "yes", "addr:street": "Skolgatan", "addr:housenumber": "2"}, closed=True)
    o.way([(50, 50), (250, 50), (250, 150), (50, 150)], {"leisure": "park", "name": "Centralparken"}, closed=True)
    o.node(400, 100, {"amenity": "school", "name": "Byskolan"})
    o.node(500, 100, {"place": "square", "name": "Stortorget"})
    o.way([(520, 120), (580, 120), (580, 180), (520, 180)],
          {"highway": "pedestrian", "area": "yes", "name": "Lilla torget"}, closed=True)
    o.node(600, 300, {"railway": "station", "name": "Byn station"})
    o.node(300, 100, {"place": "suburb", "name": "Byn"})
    o.node(550, 50, {"place": "neighbourhood", "name": "Östra Byn"})
    o.node(100, 5, {"highway": "street_lamp"})
    o.node(200, 5, {"highway": "street_lamp"})
    return o.write(path)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_city(tmp_path_factory.mktemp("city") / "city.osm")


@pytest.fixture(scope="module")
def gaz(city: Path) -> Gazetteer:
    return Gazetteer.from_osm_xml(city)


def make_register(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A register in the shape of trygg_geo.io.read_register (CONTRIBUTING.md)."""
    out = []
    for i, r in enumerate(rows):
        base: dict[str, object] = {c: pd.NA for c in REGISTER_COLUMNS}
        base.update({"source_row": i + 2, "investment_id": f"T-{i + 1}", "name": f"Projekt {i + 1}",
                     "kind": "kamerabevakning", "kind_recognised": True, "x": np.nan, "y": np.nan})
        base.update(r)
        base["kind_raw"] = base["kind"]
        base["raw_text"] = ";".join("" if v is pd.NA else str(v) for v in r.values())
        out.append(base)
    df = pd.DataFrame(out, columns=list(REGISTER_COLUMNS))
    df["x"] = df["x"].astype(float)
    df["y"] = df["y"].astype(float)
    return df


def _row(res, source_row: int) -> pd.Series:  # type: ignore[no-untyped-def]
    p = res.placed[res.placed["source_row"] == source_row]
    if len(p):
        return p.iloc[0]
    return res.unplaced[res.unplaced["source_row"] == source_row].iloc[0]


# --------------------------------------------------------------------------- gazetteer
def test_gazetteer_from_osm_xml(gaz: Gazetteer) -> None:
    assert gaz.crs.to_epsg() == 3006
    # 20 + 12A on Storgatan, 10 on Kyrkvägen, the building on Skolgatan
    assert len(gaz.addresses) == 32
    assert set(gaz.streets["name"]) == {"Storgatan", "Kyrkvägen", "Torggatan", "Skolgatan", "Björkstigen"}
    types_ = dict(zip(gaz.places["name"], gaz.places["place_type"], strict=True))
    assert types_["Centralparken"] == "park"
    assert types_["Byskolan"] == "school"
    assert types_["Stortorget"] == "square"
    assert types_["Lilla torget"] == "square"
    assert types_["Byn station"] == "station"
    assert types_["Byn"] == "suburb"
    assert types_["Östra Byn"] == "neighbourhood"
    park = gaz.places[gaz.places["name"] == "Centralparken"].geometry.iloc[0]
    assert park.geom_type == "Polygon"
    assert park.area == pytest.approx(200 * 100, rel=1e-3)
    b = gaz.addresses[gaz.addresses["street"] == "Skolgatan"].geometry.iloc[0]
    assert b.distance(Point(xy(620, 100))) < 0.5
    assert len(gaz.paths) == 2
    # Storgatan meets Torggatan at the origin
    ia = gaz.index.street_key["storgatan"]
    ib = gaz.index.street_key["torggatan"]
    px, py = gaz.index.intersection[(min(ia, ib), max(ia, ib))]
    assert math.hypot(px - E0, py - N0) < 0.01
    assert gaz.extent.contains(Point(xy(300, 100)))
    assert not gaz.extent.contains(Point(xy(5000, 0)))


def test_gazetteer_save_load_roundtrip(gaz: Gazetteer, tmp_path: Path) -> None:
    out = gaz.save(tmp_path / "gaz.gpkg")
    back = Gazetteer.load(out)
    assert back.crs == gaz.crs
    assert len(back.addresses) == len(gaz.addresses)
    assert back.addresses["housenumber"].tolist() == gaz.addresses["housenumber"].tolist()
    assert back.streets["name"].tolist() == gaz.streets["name"].tolist()
    assert back.places.geometry.geom_equals_exact(gaz.places.geometry, 1e-6).all()
    assert back.intersections["street_a"].tolist() == gaz.intersections["street_a"].tolist()
    reg = make_register([{"address": "Storgatan 5"}, {"address": "Centralparken", "kind": "slyrojning"}])
    a = geocode_register(reg, gaz).placed.geometry
    b = geocode_register(reg, back).placed.geometry
    assert a.geom_equals_exact(b, 1e-6).all()
    # from_path knows a saved gazetteer
    assert len(Gazetteer.from_path(out)) == len(gaz)


def test_gazetteer_refuses_non_gazetteer_gpkg(tmp_path: Path) -> None:
    p = tmp_path / "x.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=3006).to_file(p)
    with pytest.raises(InputError, match="not a saved gazetteer"):
        Gazetteer.load(p)


def test_gazetteer_from_address_file(tmp_path: Path) -> None:
    p = tmp_path / "adresser.csv"
    p.write_text(
        "Gatunamn;Nummer;Bokstav;Postnummer;Postort;E;N\n"
        f"Storgatan;5;;123 45;Byn;{E0 + 125:.2f};{N0 - 12:.2f}\n"
        f"Storgatan;12;A;123 45;Byn;{E0 + 300:.2f};{N0 + 14:.2f}\n"
        f"Storgatan;6;;123 45;Byn;{E0 + 150:.2f};{N0 + 12:.2f}\n"
        f"Kyrkvägen;3;;123 46;Byn;{E0 + 150:.2f};{N0 + 212:.2f}\n",
        encoding="utf-8",
    )
    with pytest.raises(CRSError, match=r"\(x/y columns\) has no CRS") as e:
        Gazetteer.from_address_file(p)
    assert "adresser.csv" in str(e.value) and "Fix: give the CRS" in str(e.value)
    g = Gazetteer.from_address_file(p, crs="EPSG:3006")
    assert len(g) == 4
    assert g.addresses["letter"].tolist() == ["", "a", "", ""]
    assert g.addresses["postcode"].tolist() == ["12345", "12345", "12345", "12346"]
    # the street line is made from the street's addresses
    assert g.streets.set_index("name").geometry["Storgatan"].geom_type == "LineString"
    res = geocode_register(make_register([{"address": "Storgatan 12 A"}, {"address": "storg. 5"}]), g)
    assert res.placed["geocode_method"].tolist() == ["normalised", "normalised"]
    assert res.placed.geometry.iloc[0].distance(Point(xy(300, 14))) < 0.01
    # the same file in WGS84 with a crs column
    lon, lat = _TO_LL.transform(E0 + 125, N0 - 12)
    q = tmp_path / "adresser_wgs.csv"
    q.write_text(f"gata,husnummer,lon,lat,crs\nStorgatan,5,{lon:.9f},{lat:.9f},4326\n", encoding="utf-8")
    g2 = Gazetteer.from_address_file(q)
    assert g2.addresses.geometry.iloc[0].distance(Point(xy(125, -12))) < 0.01


# --------------------------------------------------------------------------- the cascade
CASES: list[tuple[dict[str, object], str, str]] = [
    # (row, expected method or "unplaced:<reason>", expected flag substring or "")
    ({"address": "Storgatan 5"}, "exact", ""),
    ({"address": "storg. 5"}, "normalised", ""),
    ({"address": "Storgtan 5"}, "fuzzy", ""),
    ({"address": "Storgatan"}, "street", "street_level"),
    ({"address": "Storgatan 99"}, "street", "number_not_found"),
    ({"address": "Storgatan 7B"}, "normalised", "letter_not_found"),
    ({"address": "korsningen Storgatan/Torggatan"}, "intersection", ""),
    ({"address": "gångvägen mellan Storgatan och Kyrkvägen", "kind": "belysning"}, "between", ""),
    ({"address": "Storgatan 3-9", "kind": "belysning"}, "normalised", ""),
    ({"address": "Storgatan 5", "kind": "belysning", "name": "Belysning 5"}, "exact", ""),
    ({"address": "Centralparken", "kind": "slyrojning"}, "place", ""),
    ({"address": "Centralparken", "kind": "belysning"}, "place", ""),
    ({"address": "utanför Byskolan"}, "place", ""),
    ({"address": "Byskolan", "kind": "slyrojning"}, "place", "buffered"),
    ({"address": "Byn"}, "unplaced:only_district", ""),
    ({"address": "Östra Byn"}, "unplaced:only_district", ""),
    ({"address": "Centrum", "district": "Centrum"}, "unplaced:only_district", ""),
    ({"address": ""}, "unplaced:empty_address", ""),
    ({"address": "Тверская улица 7"}, "unplaced:other_script", ""),
    ({"address": "Storgatan 5", "investment_id": "T-1", "name": "Projekt 1"}, "exact", "duplicate_row"),
    ({"address": "KyrkvÃ¤gen 3"}, "exact", "encoding_repaired"),
    ({"address": "Gr??gr??nd 3"}, "unplaced:bad_encoding", ""),
    ({"address": "Storgatan 5", "name": "<script>alert(1)</script>"}, "exact", ""),
    ({"x": N0 + 100.0, "y": E0 + 100.0, "crs": "EPSG:3006"}, "coordinates", "swapped_xy"),
    ({"x": 18.0, "y": 59.0}, "coordinates", "crs_detected"),
    ({"x": 1e9, "y": 1e9}, "unplaced:impossible_coordinates", ""),
    ({"x": 500000.0, "y": 7000000.0, "crs": "3006"}, "coordinates", "outside_extent"),
    ({"address": "Storgatan 5", "wkt": f"LINESTRING ({E0} {N0 + 50}, {E0 + 50} {N0 + 50})"}, "wkt", ""),
    ({"address": "Stortorget"}, "place", ""),
    ({"address": "Lilla torget", "kind": "utemiljo"}, "place", ""),
    ({"address": "Kyrkvägen 2", "kind": "annat", "kind_recognised": False}, "exact", "kind_unknown"),
    ({"address": "Storgatan 12A"}, "exact", ""),
    ({"address": "Skolgatan 2"}, "exact", ""),
    ({"address": "Storgatan 5, 123 45 Byn"}, "exact", ""),
    ({"address": "Blåbärsvägen 4"}, "unplaced:no_match", ""),
    ({"address": "Storgatan mellan Torggatan och Skolgatan", "kind": "belysning"}, "between", ""),
    ({"address": "Tegelbruksgatan 3", "x": E0 + 100.0, "y": N0 + 100.0, "crs": "EPSG:3006"}, "coordinates", ""),
    ({"address": "Storgatan 6", "wkt": "LINESTRING (1 2,"}, "exact", "bad_wkt"),
    ({"wkt": "POINT (nonsense)"}, "unplaced:bad_wkt", ""),
    ({"wkt": "POINT (18.0 59.0)", "kind": "belysning"}, "wkt", ""),
]


@pytest.fixture(scope="module")
def cascade(gaz: Gazetteer):  # type: ignore[no-untyped-def]
    reg = make_register([c[0] for c in CASES])
    return reg, geocode_register(reg, gaz)


def test_every_row_is_accounted_for(cascade) -> None:  # type: ignore[no-untyped-def]
    reg, res = cascade
    assert len(res.placed) + len(res.unplaced) == len(reg)
    assert set(res.placed["source_row"]).isdisjoint(res.unplaced["source_row"])
    assert sorted([*res.placed["source_row"], *res.unplaced["source_row"]]) == reg["source_row"].tolist()
    # file order is kept in both tables
    assert res.placed["source_row"].is_monotonic_increasing
    assert res.unplaced["source_row"].is_monotonic_increasing
    assert res.placed.crs.to_epsg() == 3006
    assert set(REGISTER_COLUMNS) <= set(res.placed.columns)
    assert {"geometry", "geocode_method", "geocode_score", "geocode_flag", "matched"} <= set(res.placed.columns)
    assert {"reason", "reason_text"} <= set(res.unplaced.columns)
    assert res.placed["geocode_score"].between(0, 100).all()
    s = res.summary()
    tot = s[s["category"] == "total"].set_index("value")["n"]
    assert tot["placed"] + tot["unplaced"] == tot["rows"] == len(reg)
    assert s[s["category"] == "placed"]["n"].sum() == len(res.placed)
    assert s[s["category"] == "unplaced"]["n"].sum() == len(res.unplaced)
    frame = res.to_frame()
    assert frame["source_row"].tolist() == reg["source_row"].tolist()


@pytest.mark.parametrize("i", range(len(CASES)))
def test_method_or_reason(cascade, i: int) -> None:  # type: ignore[no-untyped-def]
    _, res = cascade
    row, expected, flag = CASES[i]
    r = _row(res, i + 2)
    if expected.startswith("unplaced:"):
        assert "reason" in r.index, f"row {row} was placed by {r.get('geocode_method')}"
        assert r["reason"] == expected.split(":", 1)[1]
        assert len(r["reason_text"]) > 20
    else:
        assert "geocode_method" in r.index, f"row {row} unplaced: {r.get('reason_text')}"
        assert r["geocode_method"] == expected
        if flag:
            assert flag in r["geocode_flag"].split(",")


def geom_of(res, i: int):  # type: ignore[no-untyped-def]
    return _row(res, i + 2).geometry


def test_positions(cascade, gaz: Gazetteer) -> None:  # type: ignore[no-untyped-def]
    _, res = cascade
    storgatan = gaz.streets.set_index("name").geometry["Storgatan"]
    for i in (0, 1, 2, 19, 22, 33):  # Storgatan 5 in its forms: a point at (125, -12)
        g = geom_of(res, i)
        assert g.geom_type == "Point"
        assert g.distance(Point(xy(125, -12))) < 0.01, CASES[i]
    assert geom_of(res, 3).distance(storgatan) < 0.01  # street level: on the street
    assert geom_of(res, 5).distance(Point(xy(175, -12))) < 0.01  # 7B -> 7
    assert geom_of(res, 6).distance(Point(xy(0, 0))) < 0.01  # intersection
    assert geom_of(res, 31).distance(Point(xy(300, 14))) < 0.01  # 12A
    assert geom_of(res, 32).distance(Point(xy(620, 100))) < 0.5  # building centre
    assert geom_of(res, 12).distance(Point(xy(400, 100))) < 0.01  # school
    assert geom_of(res, 28).distance(Point(xy(500, 100))) < 0.01  # square node
    assert geom_of(res, 23).distance(Point(xy(100, 100))) < 0.01  # swapped SWEREF
    lon_lat = Point(_TO_TM.transform(18.0, 59.0))
    assert geom_of(res, 24).distance(lon_lat) < 0.01
    assert geom_of(res, 36).distance(Point(xy(100, 100))) < 0.01
    assert geom_of(res, 39).distance(lon_lat) < 0.01  # WKT in WGS84, detected and reprojected


def test_geometry_by_kind(cascade, gaz: Gazetteer) -> None:  # type: ignore[no-untyped-def]
    _, res = cascade
    storgatan = gaz.streets.set_index("name").geometry["Storgatan"]
    # lighting along the footway between two streets: the footway itself
    g = geom_of(res, 7)
    assert g.geom_type == "LineString"
    assert g.length == pytest.approx(200, abs=0.5)
    assert g.distance(Point(xy(300, 100))) < 0.01
    # lighting at a range of numbers: the street between them
    g = geom_of(res, 8)
    assert g.geom_type == "LineString"
    assert g.length == pytest.approx(150, abs=0.5)
    assert g.buffer(0.01).within(storgatan.buffer(0.1))
    # lighting at one address: the street around it (radius 50 m either side)
    g = geom_of(res, 9)
    assert g.length == pytest.approx(100, abs=0.5)
    assert g.interpolate(0.5, normalized=True).distance(Point(xy(125, 0))) < 0.5
    # brush clearance in a park: the park
    g = geom_of(res, 10)
    park = gaz.places.set_index("name").geometry["Centralparken"]
    assert g.geom_type == "Polygon" and g.equals(park)
    # lighting in a park: its paths
    g = geom_of(res, 11)
    assert g.length == pytest.approx(100, abs=0.5)
    assert g.within(park.buffer(0.01))
    # brush clearance at a school node: a buffer of the kind's radius (30 m)
    assert geom_of(res, 13).area == pytest.approx(math.pi * 30**2, rel=0.01)
    # the pedestrian area as a polygon for a public-space upgrade
    assert geom_of(res, 29).area == pytest.approx(60 * 60, rel=1e-3)
    # a span of one street between two cross streets
    g = geom_of(res, 35)
    assert g.length == pytest.approx(600, abs=1)
    # WKT wins over the address
    g = geom_of(res, 27)
    assert g.equals(shapely.LineString([xy(0, 50), xy(50, 50)]))
    # a camera is a point
    assert geom_of(res, 0).geom_type == "Point"


def test_bad_input_stays_data(cascade) -> None:  # type: ignore[no-untyped-def]
    _, res = cascade
    r = _row(res, 22 + 2)
    assert r["name"] == "<script>alert(1)</script>"
    # the duplicate is flagged, not merged: both copies are placed
    assert (res.placed["address"] == "Storgatan 5").sum() >= 4
    first = _row(res, 2)
    assert "duplicate_row" not in first["geocode_flag"]


def test_register_without_source_row_is_refused(gaz: Gazetteer) -> None:
    with pytest.raises(InputError, match="source_row"):
        geocode_register(pd.DataFrame({"address": ["Storgatan 5"]}), gaz)


def test_geodataframe_geometry_wins(gaz: Gazetteer) -> None:
    reg = make_register([{"address": "Storgatan 5"}, {"address": "Storgatan 6"}])
    lon, lat = _TO_LL.transform(*xy(10, 10))
    gdf = gpd.GeoDataFrame(reg, geometry=[Point(lon, lat), None], crs=4326)
    res = geocode_register(gdf, gaz)
    assert res.placed["geocode_method"].tolist() == ["wkt", "exact"]
    assert res.placed.geometry.iloc[0].distance(Point(xy(10, 10))) < 0.01


def test_extent_argument_flags_outside(gaz: Gazetteer) -> None:
    reg = make_register([{"x": E0 + 100, "y": N0 + 100, "crs": "EPSG:3006"}])
    res = geocode_register(reg, gaz, extent=(E0 + 1000, N0 + 1000, E0 + 2000, N0 + 2000))
    assert "outside_extent" in res.placed["geocode_flag"].iloc[0]


# --------------------------------------------------------------------------- providers
class FakeGeocoder:
    """A stand-in for a geopy geocoder (tests never touch the network)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def geocode(self, query: str, **kwargs: object) -> object | None:
        self.calls.append(query)
        if "Blåbärsvägen" in query:
            lon, lat = _TO_LL.transform(*xy(250, 250))
            return types.SimpleNamespace(latitude=lat, longitude=lon, address="Blåbärsvägen 4, Byn",
                                         raw={"importance": 0.5})
        return None


def test_geopy_provider_caches_and_places(gaz: Gazetteer, tmp_path: Path) -> None:
    fake = FakeGeocoder()
    cache = tmp_path / "cache" / "geocode.sqlite"
    prov = GeopyProvider(fake, cache_path=cache, min_delay_seconds=0)
    reg = make_register([{"address": "Blåbärsvägen 4"}, {"address": "Storgatan 5"}, {"address": "Okändvägen 1"}])
    res = geocode_register(reg, gaz, provider=prov)
    assert res.placed["geocode_method"].tolist() == ["provider", "exact"]
    assert res.placed.geometry.iloc[0].distance(Point(xy(250, 250))) < 0.01
    assert res.unplaced["reason"].tolist() == ["no_match"]
    assert fake.calls == ["Blåbärsvägen 4", "Okändvägen 1"]  # the local gazetteer placed the rest
    assert cache.exists()
    # a second provider on the same cache asks nothing
    fake2 = FakeGeocoder()
    prov2 = GeopyProvider(fake2, cache_path=cache, min_delay_seconds=0)
    res2 = geocode_register(reg, gaz, provider=prov2)
    assert fake2.calls == []
    assert prov2.cache_hits == 2
    assert res2.placed.geometry.iloc[0].equals(res.placed.geometry.iloc[0])


def test_geopy_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for mod in ("geopy", "geopy.extra", "geopy.extra.rate_limiter", "geopy.geocoders"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(MissingDependencyError, match=r"trygg-geo\[online\]"):
        GeopyProvider(FakeGeocoder(), cache_path=tmp_path / "c.sqlite")


def test_local_provider(gaz: Gazetteer) -> None:
    hit = LocalProvider(gaz).geocode("storg. 5")
    assert hit is not None and hit.crs == "EPSG:3006"
    assert Point(hit.x, hit.y).distance(Point(xy(125, -12))) < 0.01
    assert LocalProvider(gaz).geocode("Blåbärsvägen 4") is None


# --------------------------------------------------------------------------- CLI
def test_cli_writes_layers_and_summary(city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trygg_geo.geocode import _cli

    pytest.importorskip("trygg_geo.io")
    reg = tmp_path / "register.csv"
    reg.write_text(
        "Projekt-ID;Åtgärd;Adress;Stadsdel;Beviljat (kr)\n"
        "T-1;Kamerabevakning;Storgatan 5;Byn;100 000\n"
        "T-2;Gatubelysning;Storg. 3-9;Byn;50 000\n"
        "T-3;Slyröjning;Centralparken;Byn;20 000\n"
        "T-4;Belysning;Okändvägen 1;Byn;10 000\n"
        "T-5;Kamerabevakning;;Byn;10 000\n",
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    _cli.add_parser(sub)
    out = tmp_path / "placed.gpkg"
    args = parser.parse_args(["geocode", str(reg), "--gazetteer", str(city), "--out", str(out),
                              "--save-gazetteer", str(tmp_path / "gaz.gpkg")])
    assert _cli.run(args) == 0
    text = capsys.readouterr().out
    assert "rader                             5" in text  # Swedish by default
    assert "Placerade, per metod" in text and "Ej placerade, per orsak" in text
    assert "no_match" in text and "empty_address" in text
    layers = dict(pyogrio.list_layers(out))
    n = {name: len(pyogrio.read_dataframe(out, layer=name)) for name in
         ("investeringar_punkt", "investeringar_linje", "investeringar_yta", "ej_placerade")}
    assert n == {"investeringar_punkt": 1, "investeringar_linje": 1, "investeringar_yta": 1, "ej_placerade": 2}
    assert "investeringar_punkt" in layers
    # the saved gazetteer is re-used
    args2 = parser.parse_args(["geocode", str(reg), "--gazetteer", str(tmp_path / "gaz.gpkg"),
                               "--out", str(tmp_path / "again.gpkg"), "--lang", "en"])
    assert _cli.run(args2) == 0
    again = capsys.readouterr().out
    assert "placed                            3" in again and "Placed, per method" in again


# --------------------------------------------------------------------------- bounded cost (issue 9)
def test_huge_address_costs_no_more_than_a_long_one(gaz: Gazetteer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 120,000-character address is cut before matching (it took minutes): the text handed
    to the parser and to the fuzzy matcher is bounded, the row is flagged and unplaced with a
    reason, and its neighbours are placed as usual. No timing: the bound is on the input."""
    from trygg_geo.geocode import _match

    seen: list[int] = []
    real_parse = _match.parse_address

    def spy_parse(text: str) -> object:
        seen.append(len(text))
        return real_parse(text)

    fuzzy_lengths: list[int] = []
    real_extract = _match.process.extractOne

    def spy_extract(query: str, *a: object, **k: object) -> object:
        fuzzy_lengths.append(len(query))
        return real_extract(query, *a, **k)

    monkeypatch.setattr(_match, "parse_address", spy_parse)
    monkeypatch.setattr(_match.process, "extractOne", spy_extract)
    huge = "Okänd plats nummer " * 6400  # ~121,600 characters
    street = "Storgatan " * 12_000 + "5"  # a street name repeated, then a number
    reg = make_register([{"address": "Storgatan 5"}, {"address": huge}, {"address": street},
                         {"address": "Kyrkvägen 3"}])
    res = geocode_register(reg, gaz, lang="en")
    assert len(res) == 4
    assert max(seen) <= _match.MAX_ADDRESS_CHARS
    assert not fuzzy_lengths or max(fuzzy_lengths) <= _match.MAX_ADDRESS_CHARS
    r2 = _row(res, 3)
    assert r2["reason"] == "address_too_long"
    assert f"{len(huge.strip()):,} characters" in r2["reason_text"] and "text_truncated" in r2["reason_text"]
    assert len(r2["reason_text"]) < 600
    r3 = _row(res, 4)
    assert "text_truncated" in (r3.get("geocode_flag") or r3.get("reason_text"))
    assert set(res.placed["source_row"]) >= {2, 5}
