"""Mörka stråk (issue 14, point 1): path metres by lighting class.

The shared OSM extract of central Stockholm is counted a second time here, independently of
osmnx and shapely: the XML is parsed with ElementTree, coordinates are projected with pyproj,
and lengths near a lamp are summed by sampling each segment every 0.25 m.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from trygg_geo._errors import InputError, MissingFileError
from trygg_geo.darkpaths import LIT_VALUES, PATH_HIGHWAYS, UNLIT_VALUES, dark_paths

# the independent count's own rules, written out here (not imported), so that a change to the
# package's rules shows up as a difference; test_rules_are_the_documented_ones pins the package
IND_PATHS = ("footway", "path", "cycleway", "pedestrian", "steps")
IND_LIT = {"yes", "24/7", "automatic", "limited", "interval", "sunset-sunrise", "dusk-dawn"}
IND_UNLIT = {"no", "disused"}

SHARED_OSM = (Path(__file__).resolve().parents[2] / "shared" / "data" / "osm_stockholm"
              / "stockholm_norrmalm_ostermalm.osm")
needs_shared = pytest.mark.skipif(not SHARED_OSM.exists(),
                                  reason="../shared/data/osm_stockholm is absent (a user's clone)")
STEP = 0.25


def _independent_count(osm: Path, lamp_m: float) -> dict[str, float]:
    root = ET.parse(osm).getroot()
    to_3011 = Transformer.from_crs("EPSG:4326", "EPSG:3011", always_xy=True)
    nodes, lamps = {}, []
    for n in root.iter("node"):
        x, y = to_3011.transform(float(n.get("lon")), float(n.get("lat")))
        nodes[n.get("id")] = (x, y)
        if any(t.get("k") == "highway" and t.get("v") == "street_lamp" for t in n.iter("tag")):
            lamps.append((x, y))
    lamp_xy = np.array(lamps)
    out = {"lit": 0.0, "lamp_near": 0.0, "unlit": 0.0, "dark_untagged": 0.0}
    for w in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in w.iter("tag")}
        if tags.get("highway") not in IND_PATHS:
            continue
        refs = [nd.get("ref") for nd in w.iter("nd")]
        if refs[0] == refs[-1] and tags.get("area") == "yes":
            continue  # a pedestrian square, not a path
        xy = np.array([nodes[r] for r in refs])
        seg = np.hypot(*np.diff(xy, axis=0).T)
        lit = tags.get("lit", "").strip().lower()
        if lit in IND_LIT:
            out["lit"] += seg.sum()
        elif lit in IND_UNLIT:
            out["unlit"] += seg.sum()
        else:
            for (a, b), length in zip(zip(xy[:-1], xy[1:]), seg):
                k = max(int(np.ceil(length / STEP)), 1)
                t = (np.arange(k) + 0.5) / k
                pts = a + np.outer(t, b - a)
                d = np.min(np.hypot(pts[:, None, 0] - lamp_xy[None, :, 0],
                                    pts[:, None, 1] - lamp_xy[None, :, 1]), axis=1)
                near = (d <= lamp_m).mean() * length
                out["lamp_near"] += near
                out["dark_untagged"] += length - near
    return out


@needs_shared
def test_metres_by_class_match_an_independent_count_on_stockholm() -> None:
    res = dark_paths(SHARED_OSM, crs="EPSG:3011")
    got = res.metres_by_category()
    want = _independent_count(SHARED_OSM, 30.0)
    for cat, metres in want.items():
        assert got[cat] == pytest.approx(metres, abs=2.0), cat
    assert got.sum() > 10_000  # central Stockholm has kilometres of footway
    assert len(res.lamps) == 6 and set(res.lamps["source"]) == {"osm"}
    assert res.areas_skipped >= 1  # pedestrian squares (area=yes) are not paths
    assert res.paths.crs.to_epsg() == 3011
    assert res.dark_m == pytest.approx(want["unlit"] + want["dark_untagged"], abs=2.0)


@needs_shared
def test_per_area_metres_add_up_and_a_lamp_layer_lights_paths() -> None:
    res = dark_paths(SHARED_OSM, crs="EPSG:3011")
    b = res.paths.total_bounds
    mid = (b[0] + b[2]) / 2
    areas = gpd.GeoDataFrame({"area_id": ["vast", "ost", "tom"]},
                             geometry=[shapely.box(b[0] - 1, b[1] - 1, mid, b[3] + 1),
                                       shapely.box(mid, b[1] - 1, b[2] + 1, b[3] + 1),
                                       shapely.box(b[2] + 100, b[1], b[2] + 200, b[1] + 100)],
                             crs="EPSG:3011")
    res = dark_paths(SHARED_OSM, areas=areas, crs="EPSG:3011")
    t = res.by_area.set_index("area_id")
    assert list(t.index) == ["vast", "ost", "tom"]
    total = res.metres_by_category()
    assert t["path_m"].sum() == pytest.approx(total.sum(), rel=1e-6)
    assert t["dark_m"].sum() == pytest.approx(res.dark_m, rel=1e-6)
    assert t.loc["tom", "path_m"] == 0 and np.isnan(t.loc["tom", "dark_share"])
    share = t.loc["vast", "dark_m"] / t.loc["vast", "path_m"]
    assert t.loc["vast", "dark_share"] == pytest.approx(share)
    # a municipal lamp on every 20th vertex of the dark paths lights part of them
    dark = res.paths[res.paths["category"] == "dark_untagged"]
    coords = shapely.get_coordinates(dark.geometry.to_numpy())[::20]
    lamps = gpd.GeoDataFrame(geometry=gpd.points_from_xy(coords[:, 0], coords[:, 1]),
                             crs="EPSG:3011")
    lit = dark_paths(SHARED_OSM, lamps=lamps, crs="EPSG:3011")
    assert lit.dark_m < res.dark_m * 0.8
    assert (lit.lamps["source"] == "lamp_layer").sum() == len(lamps)
    # the metres are conserved: only the class changes
    assert lit.metres_by_category().sum() == pytest.approx(total.sum(), rel=1e-6)


def _osm(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "x.osm"
    p.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}\n</osm>\n', "utf-8")
    return p


def test_lit_no_is_dark_even_next_to_a_lamp_and_per_metre_lamp_rule(tmp_path: Path) -> None:
    osm = _osm(tmp_path, """
  <node id="1" lat="59.3400" lon="18.0600"/><node id="2" lat="59.3400" lon="18.0700"/>
  <node id="3" lat="59.3410" lon="18.0600"/><node id="4" lat="59.3410" lon="18.0700"/>
  <node id="9" lat="59.3400" lon="18.0650"><tag k="highway" v="street_lamp"/></node>
  <way id="5"><nd ref="1"/><nd ref="2"/><tag k="highway" v="cycleway"/><tag k="lit" v="no"/></way>
  <way id="6"><nd ref="3"/><nd ref="4"/><tag k="highway" v="steps"/></way>
  <way id="7"><nd ref="1"/><nd ref="3"/><tag k="highway" v="residential"/></way>""")
    res = dark_paths(osm, crs="EPSG:3011")
    cats = res.metres_by_category()
    way = res.paths.groupby("osm_id")["length_m"].sum()
    assert sorted(way.index) == [5, 6]  # a residential street is no path
    assert cats["unlit"] == pytest.approx(way[5])  # lit=no stays dark beside the lamp
    # the lamp is 111 m south of way 6: too far, the whole way is dark
    assert cats["dark_untagged"] == pytest.approx(way[6]) and cats["lamp_near"] == 0
    wide = dark_paths(osm, crs="EPSG:3011", lamp_distance_m=120)
    near = wide.metres_by_category()["lamp_near"]
    # within 120 m of the lamp: a chord of 2 * sqrt(120^2 - 111.3^2) ~ 90 m of way 6
    assert 80 < near < 100
    assert wide.dark_m == pytest.approx(res.dark_m - near)


def test_bad_inputs_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        dark_paths(tmp_path / "saknas.osm")
    bad = tmp_path / "trasig.osm"
    bad.write_text("<osm><way", encoding="utf-8")
    with pytest.raises(InputError, match="trasig.osm"):
        dark_paths(bad)
    with pytest.raises(InputError, match="lamp_distance_m"):
        dark_paths(_osm(tmp_path, ""), lamp_distance_m=-5)


def test_rules_are_the_documented_ones() -> None:
    """The package's path and lit rules are the ones the module docstring and the layer
    reference describe (and the independent count above uses)."""
    assert tuple(PATH_HIGHWAYS) == IND_PATHS
    assert set(LIT_VALUES) == IND_LIT and set(UNLIT_VALUES) == IND_UNLIT
