"""Tests of trygg_geo.areas: reading, repair, overlaps, gaps, water, hierarchies."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon, box

from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
    MissingFileError,
)
from trygg_geo.areas import (
    REPORT_ATTR,
    AreaReport,
    assign_parent,
    check_areas,
    dissolve_hierarchy,
    make_area_id,
    read_areas,
    read_hierarchy,
)

# Stadsdelsområden of a few districts (Stockholm stad, since 2020).
SDO = {
    "Rinkeby-Kista": ["Akalla", "Husby", "Kista", "Rinkeby", "Hansta"],
    "Spånga-Tensta": ["Bromsten", "Flysta", "Lunda", "Solhem", "Sundby", "Tensta"],
    "Södermalm": ["Södermalm", "Långholmen", "Reimersholme", "Södra Hammarbyhamnen"],
}


def _write(gdf: gpd.GeoDataFrame, path: Path, **kw: object) -> Path:
    gdf.to_file(path, engine="pyogrio", **kw)
    return path


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    """Four 100 m squares in a 2x2 block, ids A-D, SWEREF 99 TM."""
    geoms = [box(0, 0, 100, 100), box(100, 0, 200, 100), box(0, 100, 100, 200), box(100, 100, 200, 200)]
    gdf = gpd.GeoDataFrame({"kod": ["A", "B", "C", "D"], "namn": ["Alfa", "Beta", "Gamma", "Delta"],
                            "sdo": ["Nord", "Nord", "Syd", "Syd"]},
                           geometry=[shapely.affinity.translate(g, 670000, 6580000) for g in geoms],
                           crs=3006)
    return _write(gdf, tmp_path / "grid.gpkg")


# ------------------------------------------------------------------- Stockholm (real data)

@pytest.mark.shared
def test_read_stockholm_stadsdelar(shared_data: Path) -> None:
    with pytest.warns(DataQualityWarning, match="overlapping"):
        areas = read_areas(shared_data / "stockholm_stadsdelar" / "stadsdelar.shp")
    assert len(areas) == 117
    assert areas.crs.to_epsg() == 3011  # projected: kept
    assert list(areas.columns[:3]) == ["area_id", "name", "parent"]
    assert areas["area_id"].is_unique
    assert areas["source_row"].tolist() == list(range(1, 118))
    row = areas.loc[areas["name"] == "SÖDERMALM"].iloc[0]
    assert row["area_id"] == "sodermalm"
    assert areas.loc[areas["name"] == "ENSKEDE GÅRD", "area_id"].item() == "enskede_gard"
    assert areas["parent"].isna().all()
    assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}
    rep = areas.attrs[REPORT_ATTR]
    assert isinstance(rep, AreaReport)
    # the real layer has a 1.5 m2 sliver overlap and a 5,245 m2 gap at Fagersjö/Högdalen
    ov = rep.overlaps.iloc[0]
    assert {ov["area_id_a"], ov["area_id_b"]} == {"bjorkhagen", "karrtorp"}
    assert ov["overlap_m2"] == pytest.approx(1.53, abs=0.01)
    gap = rep.gaps.iloc[0]
    assert gap["area_m2"] == pytest.approx(5245.1, abs=0.5)
    assert gap["bordering"] == "fagersjo,hogdalen"
    assert rep.repairs.empty


@pytest.mark.shared
def test_read_geojson_in_4326_is_reprojected_to_3006(shared_data: Path) -> None:
    areas = read_areas(shared_data / "stockholm_stadsdelar" / "stadsdelar.geo.json", report="log")
    assert areas.crs.to_epsg() == 3006
    x, y = areas.loc[areas["area_id"] == "gamla_stan"].geometry.iloc[0].centroid.coords[0]
    assert 673_000 < x < 676_000 and 6_579_000 < y < 6_581_000


@pytest.mark.shared
def test_dissolve_stockholm_into_stadsdelsomraden(shared_data: Path, tmp_path: Path) -> None:
    areas = read_areas(shared_data / "stockholm_stadsdelar" / "stadsdelar_utan_vatten.shp", report="log")
    csv = tmp_path / "sdo.csv"
    lines = ["Stadsdel;Stadsdelsområde"] + [f"{c};{p}" for p, cs in SDO.items() for c in cs]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    wanted = [make_area_id(c) for cs in SDO.values() for c in cs]
    sub = areas.loc[areas["area_id"].isin(wanted)]
    assert len(sub) == len(wanted)
    sdo = dissolve_hierarchy(sub, csv)
    assert sdo["area_id"].tolist() == ["rinkeby_kista", "spanga_tensta", "sodermalm"]
    assert sdo["name"].tolist() == list(SDO)
    assert sdo["n_children"].tolist() == [5, 6, 4]
    assert sdo.crs == areas.crs
    for _, r in sdo.iterrows():
        kids = sub.loc[sub["area_id"].isin(r["children"].split(","))]
        assert r.geometry.area == pytest.approx(kids.area.sum(), rel=1e-6)
        assert r.geometry.contains(kids.representative_point()).all()
    # the full layer is refused, listing the areas the table leaves out
    with pytest.raises(InputError, match=r"leaves 102 areas without a parent: .*akeshov"):
        dissolve_hierarchy(areas, csv)


# ------------------------------------------------------------------- errors

def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="nope.gpkg"):
        read_areas(tmp_path / "nope.gpkg")


def test_missing_id_column_lists_columns(grid: Path) -> None:
    with pytest.raises(MissingColumnError) as e:
        read_areas(grid, id_column="omrade_id")
    assert "'kod'" in str(e.value) and "'namn'" in str(e.value)
    assert e.value.column == "omrade_id"


def test_id_and_name_columns(grid: Path) -> None:
    areas = read_areas(grid, id_column="kod", parent_column="sdo")
    assert areas["area_id"].tolist() == ["A", "B", "C", "D"]
    assert areas["name"].tolist() == ["Alfa", "Beta", "Gamma", "Delta"]  # 'namn' found
    assert areas["parent"].tolist() == ["Nord", "Nord", "Syd", "Syd"]
    assert areas.attrs[REPORT_ATTR].ok
    out = dissolve_hierarchy(areas)
    assert out["area_id"].tolist() == ["nord", "syd"]
    assert out.geometry.area.tolist() == pytest.approx([20000.0, 20000.0])


def test_ids_from_feature_number_without_id_or_name(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                                   ) -> None:
    gdf = gpd.GeoDataFrame({"val": [1, 2]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=3006)
    with caplog.at_level(logging.INFO, logger="trygg_geo.areas"):
        areas = read_areas(_write(gdf, tmp_path / "a.gpkg"))
    assert areas["area_id"].tolist() == ["area_1", "area_2"]
    assert "feature number" in caplog.text
    assert areas["val"].tolist() == [1, 2]


def test_duplicate_ids_refused_naming_them(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"kod": ["A", "B", "A", "C", "C"]},
                           geometry=[box(i, 0, i + 1, 1) for i in range(5)], crs=3006)
    with pytest.raises(InputError) as e:
        read_areas(_write(gdf, tmp_path / "d.gpkg"), id_column="kod")
    msg = str(e.value)
    assert "'A' (features 1, 3)" in msg and "'C' (features 4, 5)" in msg and "'B'" not in msg


def test_duplicate_names_refused_when_ids_built_from_names(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"name": ["Öst", "OST", "Väst"]},
                           geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs=3006)
    with pytest.raises(InputError, match=r"'ost' \(features 1, 2\).*built from names"):
        read_areas(_write(gdf, tmp_path / "n.gpkg"))


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs_refused_unless_declared(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"kod": ["A"]}, geometry=[box(670000, 6580000, 670100, 6580100)])
    path = _write(gdf, tmp_path / "nocrs.shp")
    with pytest.raises(CRSError, match=r"has no CRS \(coordinate reference system\)") as e:
        read_areas(path, id_column="kod")
    assert "nocrs.shp" in str(e.value) and "Fix: give the CRS" in str(e.value)
    areas = read_areas(path, id_column="kod", crs="EPSG:3006")
    assert areas.crs.to_epsg() == 3006
    with pytest.raises(CRSError, match="declared"):
        read_areas(_write(gdf.set_crs(3006), tmp_path / "withcrs.gpkg"), id_column="kod", crs=3011)


def test_empty_layer(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"kod": pd.Series([], dtype=str)}, geometry=[], crs=3006)
    with pytest.raises(EmptyLayerError):
        read_areas(_write(gdf, tmp_path / "e.gpkg", layer="omraden"), id_column="kod")


def test_non_polygons_refused(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"kod": ["A"]}, geometry=[shapely.Point(0, 0)], crs=3006)
    with pytest.raises(InputError, match=r"A \(Point\)"):
        read_areas(_write(gdf, tmp_path / "p.gpkg"), id_column="kod")


# ------------------------------------------------------------------- repair, overlaps, gaps

def test_bow_tie_is_repaired_and_reported_with_its_id(tmp_path: Path) -> None:
    bow = Polygon([(0, 0), (100, 100), (100, 0), (0, 100), (0, 0)])  # self-intersecting
    assert not bow.is_valid
    gdf = gpd.GeoDataFrame({"kod": ["ok", "rosett"]}, geometry=[box(200, 0, 300, 100), bow], crs=3006)
    path = _write(gdf, tmp_path / "bow.gpkg")
    with pytest.warns(DataQualityWarning, match="rosett"):
        areas = read_areas(path, id_column="kod")
    fixed = areas.set_index("area_id").geometry["rosett"]
    assert fixed.is_valid and fixed.geom_type == "MultiPolygon"
    assert fixed.area == pytest.approx(5000.0)  # two triangles of 2,500 m2
    rep = areas.attrs[REPORT_ATTR].repairs
    assert rep["area_id"].tolist() == ["rosett"]
    assert rep["source_row"].tolist() == [2]
    assert rep["action"].tolist() == ["make_valid"]
    assert "Self-intersection" in rep["reason"].iloc[0]
    assert rep["parts"].tolist() == [2]
    # without repair: kept as is, reported as not repaired
    raw = read_areas(path, id_column="kod", repair=False, report="log")
    assert not raw.set_index("area_id").geometry["rosett"].is_valid
    assert raw.attrs[REPORT_ATTR].repairs["action"].tolist() == ["not_repaired"]


def test_overlaps_and_gaps_detected_with_ids_and_sizes(tmp_path: Path) -> None:
    # A ring of four areas around a 20 x 20 hole (x 60-80, y 40-60); B overlaps A by 10 x 40.
    geoms = [box(0, 0, 60, 100), box(50, 0, 100, 40), box(60, 60, 100, 100), box(80, 40, 100, 60)]
    gdf = gpd.GeoDataFrame({"kod": ["A", "B", "C", "D"]}, geometry=geoms, crs=3006)
    path = _write(gdf, tmp_path / "ov.gpkg")
    with pytest.raises(InputError, match="overlapping"):
        read_areas(path, id_column="kod", report="raise")
    areas = read_areas(path, id_column="kod", report="log")
    rep = areas.attrs[REPORT_ATTR]
    assert len(rep.overlaps) == 1
    ov = rep.overlaps.iloc[0]
    assert (ov["area_id_a"], ov["area_id_b"]) == ("A", "B")
    assert ov["overlap_m2"] == pytest.approx(400.0)  # 10 x 40
    assert ov["share_of_a"] == pytest.approx(400.0 / 6000.0)
    assert len(rep.gaps) == 1
    gap = rep.gaps.iloc[0]
    assert gap["area_m2"] == pytest.approx(400.0)
    assert gap["bordering"] == "A,B,C,D"
    assert 60 < gap["x"] < 80 and 40 < gap["y"] < 60
    long = rep.to_frame()
    assert sorted(long["check"]) == ["gap", "overlap"]
    # slivers under the tolerance are ignored
    quiet = check_areas(areas, tolerance_m2=500.0)
    assert quiet.overlaps.empty and quiet.gaps.empty


def test_water_is_clipped_and_reported(grid: Path) -> None:
    water = gpd.GeoDataFrame(geometry=[box(670150, 6580000, 670300, 6580200)], crs=3006)  # east half of B, D
    areas = read_areas(grid, id_column="kod", water=water, report="log")
    a = areas.set_index("area_id").area
    assert a.to_dict() == pytest.approx({"A": 10000.0, "B": 5000.0, "C": 10000.0, "D": 5000.0})
    w = areas.attrs[REPORT_ATTR].water
    assert w["area_id"].tolist() == ["B", "D"]
    assert w["water_share"].tolist() == pytest.approx([0.5, 0.5])
    all_water = gpd.GeoDataFrame(geometry=[box(670000, 6580000, 670100, 6580100)], crs=3006)
    with pytest.raises(InputError, match="A lie entirely in water"):
        read_areas(grid, id_column="kod", water=all_water)


# ------------------------------------------------------------------- hierarchy tables

def test_mapping_missing_areas_refused_listing_them(grid: Path, tmp_path: Path) -> None:
    areas = read_areas(grid, id_column="kod")
    csv = tmp_path / "map.csv"
    csv.write_text("omrade,sdo\nA,Nord\nB,Nord\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        dissolve_hierarchy(areas, csv)
    assert "leaves 2 areas without a parent: C (Gamma), D (Delta)" in str(e.value)
    assert str(csv) in str(e.value)


def test_mapping_matches_names_and_refuses_unknown_and_conflicts(grid: Path, tmp_path: Path) -> None:
    areas = read_areas(grid, id_column="kod")
    out = assign_parent(areas, {"alfa": "N", "BETA": "N", "c": "S", "Delta": "S"})
    assert out["parent"].tolist() == ["N", "N", "S", "S"]
    with pytest.raises(InputError, match=r"not in the area layer: 'Epsilon'"):
        assign_parent(areas, {"A": "N", "B": "N", "C": "S", "D": "S", "Epsilon": "S"})
    csv = tmp_path / "clash.csv"
    csv.write_text("child;parent\nA;N\nA;S\nB;N\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"two different parents.*row 2.*row 3"):
        read_hierarchy(csv)
    tab = read_hierarchy(pd.DataFrame({"x": ["A"], "y": ["N"]}))
    assert tab.columns.tolist() == ["child", "parent", "source_row"]


def test_report_attr_survives_concat(grid: Path) -> None:
    areas = read_areas(grid, id_column="kod")
    both = pd.concat([areas, areas.copy()])  # must not try to compare DataFrames in attrs
    assert len(both) == 8
    assert np.isclose(both.area.sum(), 80000.0)
