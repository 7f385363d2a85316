"""Geocoding and districts on the small real fixtures in tests/data (run on every clone).

The OSM clip (tests/data/stockholm_clip.osm.bz2) covers the blocks where Norrmalm, Vasastaden
and Östermalm meet; the six stadsdelar (tests/data/stockholm_stadsdelar_6.geojson) come from
the same real layers as ../shared/data. The truth is read from the XML with ElementTree,
independently of the osmnx readers that build the gazetteer.
"""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point
from test_geocode_stockholm import _damage  # the same damage kinds as the full-data test

from trygg_geo.areas import read_areas
from trygg_geo.geocode import Gazetteer, geocode_register
from trygg_geo.interventions import fold_text
from trygg_geo.overlay import assign_to_areas


@pytest.fixture(scope="module")
def root(stockholm_clip_osm: Path) -> ET.Element:
    with bz2.open(stockholm_clip_osm) as f:
        return ET.parse(f).getroot()


@pytest.fixture(scope="module")
def gaz(stockholm_clip_osm: Path) -> Gazetteer:
    return Gazetteer.from_path(stockholm_clip_osm)


@pytest.fixture(scope="module")
def areas(stockholm_areas_6: Path) -> gpd.GeoDataFrame:
    return read_areas(stockholm_areas_6, report="log")


@pytest.fixture(scope="module")
def truth(root: ET.Element) -> pd.DataFrame:
    to_tm = Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True)
    rows = []
    for el in root.iter("node"):
        tags = {t.get("k"): t.get("v") for t in el.iter("tag")}
        if "addr:street" in tags and "addr:housenumber" in tags:
            x, y = to_tm.transform(float(el.get("lon")), float(el.get("lat")))
            rows.append((tags["addr:street"], tags["addr:housenumber"],
                         tags.get("addr:postcode"), x, y))
    return pd.DataFrame(rows, columns=["street", "housenumber", "postcode", "x", "y"])


def test_clip_is_complete_osm_xml_with_attribution(root: ET.Element) -> None:
    assert root.tag == "osm" and root.get("version") == "0.6"
    assert "odbl" in root.get("license", "").lower()
    assert root.get("copyright") == "OpenStreetMap and contributors"
    b = root.find("bounds")
    assert b is not None and (b.get("minlat"), b.get("maxlon")) == ("59.3388000", "18.0695000")
    node_ids = {n.get("id") for n in root.iter("node")}
    refs = [nd.get("ref") for w in root.iter("way") for nd in w.iter("nd")]
    assert set(refs) <= node_ids  # every way is complete: no dangling node reference
    assert len(node_ids) == 752 and len(list(root.iter("way"))) == 170
    assert not list(root.iter("relation"))
    for el in (*root.iter("node"), *root.iter("way")):
        assert "user" not in el.attrib and "uid" not in el.attrib
        assert el.get("version") and el.get("timestamp", "").startswith("20")


def test_gazetteer_from_the_clip(gaz: Gazetteer, truth: pd.DataFrame) -> None:
    assert len(truth) == 158
    assert len(gaz.addresses) == 158
    assert gaz.crs.to_epsg() == 3006
    assert len(gaz.streets) == 19
    streets, places = set(gaz.streets["name"]), set(gaz.places["name"])
    assert {"Birger Jarlsgatan", "Tegnérgatan", "Döbelnsgatan", "Rådmansgatan"} <= streets
    assert {"Eriksbergsplan", "Karl Staaffs Park", "Sankt Johannes kyrka"} <= places
    # every address point is one of the XML's address nodes, to the millimetre
    got = np.column_stack([gaz.addresses.geometry.x, gaz.addresses.geometry.y])
    want = truth[["x", "y"]].to_numpy()
    d = np.hypot(got[:, None, 0] - want[None, :, 0], got[:, None, 1] - want[None, :, 1]).min(axis=1)
    assert d.max() < 1e-3


def test_addresses_lie_in_their_real_districts(
    truth: pd.DataFrame, areas: gpd.GeoDataFrame
) -> None:
    assert areas.crs.to_epsg() == 3011
    pts = gpd.GeoSeries(gpd.points_from_xy(truth["x"], truth["y"]), crs=3006)
    district = assign_to_areas(pts, areas)
    assert district.notna().all()
    assert district.value_counts().to_dict() == {"ostermalm": 64, "norrmalm": 56, "vasastaden": 38}
    # Birger Jarlsgatan is the border: even numbers east (Östermalm), odd numbers west;
    # Tegnérgatan too: odd numbers south (Norrmalm), even numbers north (Vasastaden)
    no = truth["housenumber"].str.extract(r"^(\d+)")[0].astype(int)
    t = truth.assign(district=district.to_numpy(), no=no)
    bj = t[t["street"] == "Birger Jarlsgatan"]
    assert (bj.loc[bj["no"] % 2 == 0, "district"] == "ostermalm").all()
    assert set(bj.loc[bj["no"] % 2 == 1, "district"]) == {"norrmalm", "vasastaden"}
    tg = t[t["street"] == "Tegnérgatan"]
    assert (tg.loc[tg["no"] % 2 == 1, "district"] == "norrmalm").all()
    assert (tg.loc[tg["no"] % 2 == 0, "district"] == "vasastaden").all()


@pytest.fixture(scope="module")
def sample(truth: pd.DataFrame) -> pd.DataFrame:
    t = truth[truth["housenumber"].str.fullmatch(r"\d+[A-Z]?") & (truth["street"].str.len() >= 9)]
    t = t[~t.duplicated(["street", "housenumber"], keep=False)]
    # two addresses per street, so that the 20 rows spread over the clip
    rng = np.random.default_rng(7)
    t = t.iloc[rng.permutation(len(t))].groupby("street", sort=True).head(2)
    assert len(t) >= 20
    return t.head(20).reset_index(drop=True)


def test_damaged_register_is_placed_in_the_right_district(
    gaz: Gazetteer, sample: pd.DataFrame, areas: gpd.GeoDataFrame
) -> None:
    texts, allowed = zip(*[_damage(r.street, r.housenumber,
                                   r.postcode if isinstance(r.postcode, str) else None, k)
                           for k, r in enumerate(sample.itertuples())], strict=True)
    n = len(sample)
    reg = pd.DataFrame({"source_row": np.arange(2, n + 2), "kind": "kamerabevakning",
                        "address": list(texts)})
    res = geocode_register(reg, gaz)
    assert len(res.unplaced) == 0, res.unplaced[["address", "reason"]].to_string()
    assert len(res.placed) == n
    placed = res.placed.set_index("source_row")
    streets = gaz.streets.set_index("name").geometry
    true_pts = gpd.GeoSeries(gpd.points_from_xy(sample["x"], sample["y"]), crs=3006)
    true_district = assign_to_areas(true_pts, areas)
    got_district = assign_to_areas(placed.geometry.loc[np.arange(2, n + 2)], areas)
    for k, r in enumerate(sample.itertuples()):
        row = placed.loc[k + 2]
        method = row["geocode_method"]
        assert method in allowed[k], (texts[k], method, row["matched"])
        if "street" in allowed[k]:
            assert "street_level" in row["geocode_flag"]
            assert row["matched"] == r.street
            assert row.geometry.distance(streets[r.street]) < 1.0
        else:
            assert row.geometry.distance(Point(r.x, r.y)) < 1.0, (texts[k], row["matched"])
            assert fold_text(row["matched"]).startswith(fold_text(f"{r.street} {r.housenumber}"))
            assert got_district.iloc[k] == true_district.iloc[k], texts[k]
    assert set(true_district) == {"norrmalm", "vasastaden", "ostermalm"}


def test_known_addresses_land_in_known_districts(gaz: Gazetteer, areas: gpd.GeoDataFrame) -> None:
    known = {"Birger Jarlsgatan 40": "ostermalm", "birger jarlsg. 41": "norrmalm",
             "Birger Jarlsgatan 61": "vasastaden", "Tegnergatan 8": "vasastaden",
             "TEGNÉRGATAN 9": "norrmalm", "Rådmansgatan 40": "vasastaden"}
    reg = pd.DataFrame({"source_row": np.arange(2, 2 + len(known)), "kind": "kamerabevakning",
                        "address": list(known)})
    res = geocode_register(reg, gaz)
    assert len(res.placed) == len(known) and len(res.unplaced) == 0
    got = assign_to_areas(res.placed.sort_values("source_row").geometry, areas)
    assert got.tolist() == list(known.values())


def test_intersection_and_lighting_span(gaz: Gazetteer) -> None:
    reg = pd.DataFrame({"source_row": [2, 3], "kind": ["kamerabevakning", "belysning"],
                        "address": ["korsningen Birger Jarlsgatan/Tegnérgatan",
                                    "Tegnérgatan mellan Döbelnsgatan och Birger Jarlsgatan"]})
    res = geocode_register(reg, gaz)
    assert res.placed["geocode_method"].tolist() == ["intersection", "between"]
    streets = gaz.streets.set_index("name").geometry
    pt, line = res.placed.geometry.tolist()
    assert pt.distance(streets["Birger Jarlsgatan"]) < 1.0
    assert pt.distance(streets["Tegnérgatan"]) < 1.0
    assert line.geom_type == "LineString"
    assert line.buffer(0.5).within(streets["Tegnérgatan"].buffer(1.0))
    ends = [Point(line.coords[0]), Point(line.coords[-1])]
    assert min(e.distance(streets["Döbelnsgatan"]) for e in ends) < 1.0
    assert min(e.distance(streets["Birger Jarlsgatan"]) for e in ends) < 1.0
    assert 150 < line.length < 200  # the block and a half of Tegnérgatan between them
