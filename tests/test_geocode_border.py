"""District assignment on border streets, and the geocoder's texts in Swedish and English.

Real data, small: the OSM clip where Norrmalm, Vasastaden and Östermalm meet and the six real
stadsdelar around it (tests/data, EPSG:3011). Birger Jarlsgatan is the border between
Östermalm (even numbers) and Norrmalm / Vasastaden (odd); Tegnérgatan between Norrmalm (odd)
and Vasastaden (even), and there the district layer gives the whole centre line to Norrmalm.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from trygg_geo.areas import read_areas
from trygg_geo.geocode import Gazetteer, GeocodeResult, geocode_register, reconcile_districts
from trygg_geo.geocode._cli import format_summary
from trygg_geo.geocode._districts import fit_to_districts

CRS = "EPSG:3011"
DISTRICT_FLAGS = {"district_from_address_point", "district_from_register", "district_mismatch"}


@pytest.fixture(scope="module")
def gaz(stockholm_clip_osm: Path) -> Gazetteer:
    return Gazetteer.from_path(stockholm_clip_osm, crs=CRS)


@pytest.fixture(scope="module")
def areas(stockholm_areas_6: Path) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_areas(stockholm_areas_6, name_column="name", report="log")


def register(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    """(address, kind, district) rows, numbered from 2 as in a file."""
    return pd.DataFrame({"source_row": np.arange(2, 2 + len(rows)),
                         "address": [r[0] for r in rows], "kind": [r[1] for r in rows],
                         "district": [r[2] for r in rows]})


def shares(g: shapely.Geometry, areas: gpd.GeoDataFrame) -> dict[str, float]:
    """Share of a geometry in each area it touches with a positive share (as the design
    counts it: 1 for a point, length for a line, area for a polygon)."""
    out: dict[str, float] = {}
    for aid, a in zip(areas["area_id"], areas.geometry, strict=True):
        if g.geom_type == "Point":
            s = 1.0 if a.intersects(g) else 0.0
        elif shapely.get_dimensions(g) == 1:
            s = g.intersection(a).length / g.length
        else:
            s = g.intersection(a).area / g.area
        if s > 0:
            out[aid] = round(s, 4)
    return out


def by_row(res: GeocodeResult) -> pd.DataFrame:
    return res.placed.set_index("source_row")


def flags(row: pd.Series) -> set[str]:
    return {f for f in str(row["geocode_flag"]).split(",") if f}


# --------------------------------------------------------------------------- address points

EVEN_ODD = [("Birger Jarlsgatan 58", "ostermalm"), ("Birger Jarlsgatan 62", "ostermalm"),
            ("Birger Jarlsgatan 40", "ostermalm"), ("Birger Jarlsgatan 55", "norrmalm"),
            ("Birger Jarlsgatan 41", "norrmalm"), ("Birger Jarlsgatan 61", "vasastaden"),
            ("Birger Jarlsgatan 57A", "vasastaden"), ("Tegnérgatan 8", "vasastaden"),
            ("Tegnérgatan 2A", "vasastaden"), ("Tegnérgatan 9", "norrmalm")]


def test_point_kind_lands_in_the_address_district(gaz: Gazetteer, areas: gpd.GeoDataFrame) -> None:
    reg = register([(a, "kamerabevakning", None) for a, _ in EVEN_ODD])
    res = geocode_register(reg, gaz, areas=areas)
    assert len(res.placed) == len(EVEN_ODD) and len(res.unplaced) == 0
    p = by_row(res)
    for k, (addr, want) in enumerate(EVEN_ODD):
        row = p.loc[k + 2]
        assert row["geocode_method"] == "exact", addr
        assert shares(row.geometry, areas) == {want: 1.0}, addr
        assert not flags(row) & DISTRICT_FLAGS, addr  # the address point itself: nothing moved


def test_lighting_line_lies_in_the_address_district(gaz: Gazetteer, areas: gpd.GeoDataFrame) -> None:
    reg = register([(a, "belysning", None) for a, _ in EVEN_ODD])
    before = by_row(geocode_register(reg, gaz))  # without areas: the street line as it is
    # the bug: Tegnérgatan's centre line belongs to Norrmalm, so the even numbers' lamps did too
    assert shares(before.loc[9].geometry, areas) == {"norrmalm": 1.0}
    assert shares(before.loc[10].geometry, areas) == {"norrmalm": 1.0}
    p = by_row(geocode_register(reg, gaz, areas=areas))
    streets = gaz.streets.set_index("name").geometry
    for k, (addr, want) in enumerate(EVEN_ODD):
        row = p.loc[k + 2]
        g = row.geometry
        assert g.geom_type in ("LineString", "MultiLineString"), addr
        assert shares(g, areas) == {want: 1.0}, addr  # nothing along the border, all in one
        assert g.length > 40, addr  # still a stretch of street lighting, not a stub
        assert g.distance(streets[addr.rsplit(" ", 1)[0]]) < 15, addr  # along its street
    moved = {EVEN_ODD[k][0] for k in range(len(EVEN_ODD))
             if "district_from_address_point" in flags(p.loc[k + 2])}
    assert moved == {"Tegnérgatan 8", "Tegnérgatan 2A", "Birger Jarlsgatan 57A"}
    # the even side of Tegnérgatan: moved a few metres to the address's side, same length
    t8, t8_before = p.loc[9].geometry, before.loc[9].geometry
    assert 0 < t8.distance(t8_before.centroid) < 5
    assert t8.length == pytest.approx(t8_before.length, rel=0.1)


def test_address_point_beats_the_register_district(gaz: Gazetteer, areas: gpd.GeoDataFrame) -> None:
    reg = register([("Tegnérgatan 8", "belysning", "Norrmalm"),
                    ("Birger Jarlsgatan 58", "kamerabevakning", "Norrmalm"),
                    ("Birger Jarlsgatan 58", "slyrojning", "Östermalm")])
    p = by_row(geocode_register(reg, gaz, areas=areas))
    assert shares(p.loc[2].geometry, areas) == {"vasastaden": 1.0}
    assert flags(p.loc[2]) == {"district_from_address_point", "district_mismatch"}
    assert shares(p.loc[3].geometry, areas) == {"ostermalm": 1.0}
    assert flags(p.loc[3]) == {"district_mismatch"}
    # a polygon kind is a buffer of the address point, wholly in its district
    assert shares(p.loc[4].geometry, areas) == {"ostermalm": 1.0}
    assert flags(p.loc[4]) == {"buffered"}


def test_number_only_with_letters_uses_its_address_point(
    gaz: Gazetteer, areas: gpd.GeoDataFrame
) -> None:
    """'Birger Jarlsgatan 57' where OSM has 57A-57D: the address points, not the whole street."""
    reg = register([("Birger Jarlsgatan 57", "belysning", None)])
    row = by_row(geocode_register(reg, gaz, areas=areas)).loc[2]
    assert row["geocode_method"] == "normalised"
    assert row["matched"].startswith("Birger Jarlsgatan 57")
    assert {"letter_assumed", "district_from_address_point"} <= flags(row)
    assert shares(row.geometry, areas) == {"vasastaden": 1.0}


# --------------------------------------------------------------------------- ties: the register


def test_street_without_number_is_decided_by_the_register(
    gaz: Gazetteer, areas: gpd.GeoDataFrame
) -> None:
    reg = register([("Birger Jarlsgatan", "belysning", "Vasastan"),  # everyday name: an alias
                    ("Birger Jarlsgatan", "belysning", "ÖSTERMALM"),
                    ("Birger Jarlsgatan", "kamerabevakning", "Vasastaden"),
                    ("Tegnérgatan", "belysning", "Vasastaden"),  # runs just outside it
                    ("Tegnérgatan", "kamerabevakning", "vasastan"),
                    ("Birger Jarlsgatan", "belysning", None)])
    res = geocode_register(reg, gaz, areas=areas)
    p = by_row(res)
    whole = p.loc[7].geometry  # no district named: the whole street, across three districts
    assert set(shares(whole, areas)) == {"norrmalm", "vasastaden", "ostermalm"}
    assert not flags(p.loc[7]) & DISTRICT_FLAGS
    for row, want in ((2, "vasastaden"), (3, "ostermalm"), (4, "vasastaden"), (5, "vasastaden"),
                      (6, "vasastaden")):
        assert shares(p.loc[row].geometry, areas) == {want: 1.0}, row
        assert flags(p.loc[row]) == {"street_level", "district_from_register"}, row
    assert p.loc[2].geometry.length == pytest.approx(
        whole.intersection(areas.set_index("area_id").geometry["vasastaden"]).length, rel=0.01)
    assert p.loc[5].geometry.length > 200  # Tegnérgatan moved over the border, not cut to a stub
    # run again by the pipeline's reconcile_districts: no flag twice, no geometry changed
    again = reconcile_districts(res.placed, areas)
    assert again["geocode_flag"].tolist() == res.placed["geocode_flag"].tolist()
    assert all(a.equals(b) for a, b in zip(again.geometry, res.placed.geometry, strict=True))


def test_fit_to_districts_on_a_border_street() -> None:
    """Two districts split by y = 50; a street along y = 51 belongs to Norr."""
    areas = gpd.GeoDataFrame({"area_id": ["n", "s"], "name": ["Norr", "Syd"]},
                             geometry=[box(0, 50, 200, 100), box(0, 0, 200, 50)], crs=CRS)
    street = LineString([(0, 51), (200, 51)])
    piece = LineString([(50, 51), (150, 51)])
    geoms, fl = fit_to_districts(
        [piece, piece, Point(100, 51), street.buffer(10), piece, Point(100, 40)], areas,
        anchors=[(Point(100, 40),), (Point(100, 60),), (), (), (), ()],
        streets=[street, street, street, street, None, None],
        district=pd.Series([None, None, "Syd", "syd", "Syd", "Norr"]))
    # an address in Syd: moved 2 m to its side (1 m would lie on the border, shared by both)
    assert geoms[0].equals_exact(LineString([(50, 49), (150, 49)]), 0.02)
    assert fl[0] == ["district_from_address_point"]
    assert geoms[1] is piece and fl[1] == []  # an address in Norr: already there
    assert geoms[2].y < 50 and fl[2] == ["district_from_register"]  # a point on the street
    assert geoms[3].bounds == pytest.approx((0, 41, 200, 50), abs=0.02)  # a buffered street, cut
    assert fl[3] == ["district_from_register"]
    # neither a street match nor an address: the register does not move it
    assert geoms[4] is piece and fl[4] == []
    assert geoms[5].equals(Point(100, 40)) and fl[5] == []


# --------------------------------------------------------------------------- texts


def test_reason_text_is_swedish_by_default_and_english_on_request(gaz: Gazetteer) -> None:
    reg = register([("Okändgatan 3", "belysning", None), ("Okändgatan 3", "belysning", None),
                    ("", "kamerabevakning", None), ("x" * 1500, "belysning", None)])
    reg["x"] = [np.nan, np.nan, 123.0, np.nan]
    reg["y"] = [np.nan, np.nan, 456.0, np.nan]
    reg["crs"] = [None, None, "EPSG:3006", None]
    sv = geocode_register(reg, gaz).unplaced.set_index("source_row")["reason_text"]
    en = geocode_register(reg, gaz, lang="en").unplaced.set_index("source_row")["reason_text"]
    assert sv[2] == "Ingen adress, gata eller plats i adressdatan stämmer med 'Okändgatan 3'."
    assert en[2] == "No address, street or place in the gazetteer matches 'Okändgatan 3'."
    assert sv[3].endswith(" Flaggor även: duplicate_row.")
    assert en[3].endswith(" Also flagged: duplicate_row.")
    assert sv[4] == ("Koordinaterna (123, 456) passar inget koordinatsystem som används i "
                     "Sverige (angivet: EPSG:3006; talen passar inget koordinatsystem som används "
                     "i Sverige). Kontrollera x/y-kolumnerna och koordinatsystemet.")
    assert en[4].startswith("The coordinates (123, 456) fit no coordinate system used in Sweden "
                            "(declared: EPSG:3006; the numbers fit no coordinate system")
    assert sv[5].startswith("Adressen är 1\u00a0500 tecken lång") and "300 tecknen" in sv[5]
    assert en[5].startswith("The address is 1,500 characters long")
    with pytest.raises(ValueError, match="'de'"):
        geocode_register(reg, gaz, lang="de")


def test_summary_explains_the_district_flags(gaz: Gazetteer, areas: gpd.GeoDataFrame) -> None:
    reg = register([("Tegnérgatan 8", "belysning", None), ("Birger Jarlsgatan", "belysning",
                                                            "Vasastaden")])
    res = geocode_register(reg, gaz, areas=areas)
    sv, en = format_summary(res), format_summary(res, "en")
    line = next(ln for ln in sv.splitlines() if "district_from_address_point" in ln)
    assert line.split()[1] == "1" and "adresspunktens" in line
    assert "registrets stadsdel avgjorde" in sv and "Summor" in sv
    assert "the register's district decided" in en and "Totals" in en
