"""Areas, overlay and map simplification on six real stadsdelar from tests/data (every clone).

tests/data/stockholm_stadsdelar_6.geojson holds Gamla stan, Kungsholmen, Norrmalm,
Riddarholmen, Vasastaden and Östermalm from Stockholm's stadsdel layer without water
(EPSG:3011, coverage-simplified by 5 m; see tests/data/README.md). The full-layer versions of
these tests are in test_areas.py, test_overlay.py and test_maps.py (CI, ../shared/data).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from tobler.area_weighted import area_interpolate

from trygg_geo import maps
from trygg_geo._errors import InputError
from trygg_geo.areas import REPORT_ATTR, AreaReport, dissolve_hierarchy, read_areas
from trygg_geo.overlay import assign_to_areas, interpolate_survey
from trygg_geo.survey import survey_panel

IDS = ["gamla_stan", "kungsholmen", "norrmalm", "riddarholmen", "vasastaden", "ostermalm"]
# m2 of each area in the fixture (the full layer differs by < 0.1 %: 5 m simplification)
AREA_M2 = {"gamla_stan": 372_676, "kungsholmen": 1_543_989, "norrmalm": 1_631_418,
           "riddarholmen": 67_839, "vasastaden": 2_981_554, "ostermalm": 2_549_578}


@pytest.fixture(scope="module")
def areas(stockholm_areas_6: Path) -> gpd.GeoDataFrame:
    return read_areas(stockholm_areas_6, report="log")


def test_read_the_six_stadsdelar(stockholm_areas_6: Path) -> None:
    # water is cut out of this layer, so the straits between the districts are gaps
    with pytest.warns(match="16 gaps"):
        areas = read_areas(stockholm_areas_6)
    assert len(areas) == 6
    assert areas.crs.to_epsg() == 3011  # projected: kept
    assert list(areas.columns[:3]) == ["area_id", "name", "parent"]
    assert areas["area_id"].tolist() == IDS
    assert areas.loc[areas["area_id"] == "ostermalm", "name"].item() == "ÖSTERMALM"
    assert areas["source_row"].tolist() == list(range(1, 7))
    assert areas["parent"].isna().all()
    assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}
    got = dict(zip(areas["area_id"], areas.area, strict=True))
    assert got == pytest.approx(AREA_M2, abs=1.0)
    rep = areas.attrs[REPORT_ATTR]
    assert isinstance(rep, AreaReport)
    assert rep.overlaps.empty and rep.repairs.empty
    assert len(rep.gaps) == 16
    # the largest: Barnhusviken, where Kungsholmen, Norrmalm and Vasastaden meet the water
    big = rep.gaps.iloc[0]
    assert big["bordering"] == "kungsholmen,norrmalm,vasastaden"
    assert big["area_m2"] == pytest.approx(41_037, rel=1e-3)


def test_geojson_in_4326_is_reprojected_to_3006(
    areas: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "stadsdelar.geo.json"
    areas[["name", "geometry"]].to_crs(4326).to_file(path, driver="GeoJSON", engine="pyogrio")
    back = read_areas(path, report="log")
    assert back.crs.to_epsg() == 3006
    x, y = back.loc[back["area_id"] == "gamla_stan"].geometry.iloc[0].centroid.coords[0]
    assert 673_000 < x < 676_000 and 6_579_000 < y < 6_581_000
    assert back.area.sum() == pytest.approx(areas.area.sum(), rel=1e-3)


def test_dissolve_into_stadsdelsomraden(areas: gpd.GeoDataFrame, tmp_path: Path) -> None:
    # a partial table, as a user's CSV: Norrmalm's stadsdelsområde holds Norrmalm and Vasastaden
    csv = tmp_path / "sdo.csv"
    csv.write_text("Stadsdel;Stadsdelsområde\nNorrmalm;Norrmalm\nVasastaden;Norrmalm\n"
                   "Östermalm;Östermalm\nKungsholmen;Kungsholmen\n", encoding="utf-8")
    sub = areas.loc[areas["area_id"].isin(["norrmalm", "vasastaden", "ostermalm", "kungsholmen"])]
    sdo = dissolve_hierarchy(sub, csv)
    assert sdo["area_id"].tolist() == ["norrmalm", "ostermalm", "kungsholmen"]
    assert sdo["name"].tolist() == ["Norrmalm", "Östermalm", "Kungsholmen"]
    assert sdo["n_children"].tolist() == [2, 1, 1]
    assert sdo["children"].iloc[0] == "norrmalm,vasastaden"
    assert sdo.crs == areas.crs
    for _, r in sdo.iterrows():
        kids = sub.loc[sub["area_id"].isin(r["children"].split(","))]
        assert r.geometry.area == pytest.approx(kids.area.sum(), rel=1e-6)
        assert r.geometry.contains(kids.representative_point()).all()
    missing = r"leaves 2 areas without a parent: gamla_stan .*riddarholmen"
    with pytest.raises(InputError, match=missing):
        dissolve_hierarchy(areas, csv)


def test_assign_points_matches_sjoin(areas: gpd.GeoDataFrame) -> None:
    inner = areas.representative_point()
    assert (assign_to_areas(inner, areas) == areas["area_id"]).all()
    rng = np.random.default_rng(7)
    b = areas.total_bounds
    xy = gpd.points_from_xy(rng.uniform(b[0], b[2], 5_000), rng.uniform(b[1], b[3], 5_000))
    pts = gpd.GeoDataFrame(geometry=xy, crs=areas.crs)
    got = assign_to_areas(pts, areas)
    ref = gpd.sjoin(pts, areas, predicate="intersects").groupby(level=0)["area_id"].min()
    assert got.notna().sum() == len(ref) and 1_000 < len(ref) < 5_000  # water and land
    assert (got[ref.index] == ref).all()
    assert set(got.dropna()) == set(IDS)
    # the same points in SWEREF 99 TM land in the same areas
    assert assign_to_areas(pts.to_crs(3006), areas).equals(got)


def _synthetic_panel(ids: list[str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for a in ids:
        for w in (2017, 2020):
            rows.append({"source_row": len(rows) + 2, "area_id": a, "wave": w,
                         "indicator": "oro_brott", "n": int(rng.integers(40, 400)),
                         "share": float(rng.uniform(0.05, 0.3))})
    return survey_panel(pd.DataFrame(rows))


def test_interpolate_from_dissolved_zones_conserves_totals(areas: gpd.GeoDataFrame) -> None:
    zones_of = {"gamla_stan": "syd", "riddarholmen": "syd", "norrmalm": "city",
                "vasastaden": "city", "kungsholmen": "vast", "ostermalm": "ost"}
    zones = dissolve_hierarchy(areas, zones_of)
    panel = _synthetic_panel(zones["area_id"].tolist(), seed=1)
    res = interpolate_survey(panel, zones, areas)
    assert len(res) == 6 * 2
    assert res["coverage"].to_numpy() == pytest.approx(1.0, abs=1e-5)
    z = panel.set_index(["area_id", "wave"])
    r = res.loc[res["area_id"] == "vasastaden"].set_index("wave")
    for col in ("share", "se", "n_eff"):
        assert r.loc[2017, col] == pytest.approx(z.loc[("city", 2017), col], rel=1e-5)
    area = areas.set_index("area_id").area
    zarea = zones.set_index("area_id").area
    for w in (2017, 2020):
        rw = res.loc[res["wave"] == w].set_index("area_id")
        pw = panel.loc[panel["wave"] == w].set_index("area_id")
        assert rw["n"].sum() == pytest.approx(pw["n"].sum(), rel=1e-5)
        assert (rw["share"] * area[rw.index]).sum() == pytest.approx(
            (pw["share"] * zarea[pw.index]).sum(), rel=1e-5)


def test_interpolate_from_grid_matches_tobler(areas: gpd.GeoDataFrame) -> None:
    # a 600 m grid clipped to the six areas: zones that cut across the stadsdelar
    b = areas.total_bounds
    cells = [box(x, y, x + 600, y + 600) for x in np.arange(b[0], b[2], 600)
             for y in np.arange(b[1], b[3], 600)]
    land = shapely.union_all(np.asarray(areas.geometry.values))
    grid = gpd.GeoDataFrame(geometry=shapely.intersection(cells, land), crs=areas.crs)
    grid = grid.loc[grid.area > 1.0].reset_index(drop=True)
    grid["area_id"] = [f"g{i}" for i in range(len(grid))]
    panel = _synthetic_panel(grid["area_id"].tolist(), seed=2)
    res = interpolate_survey(panel, grid, areas)
    w = panel.loc[panel["wave"] == 2017].set_index("area_id")
    ref = area_interpolate(grid.assign(share=w.loc[grid["area_id"], "share"].to_numpy(),
                                       n=w.loc[grid["area_id"], "n"].astype(float).to_numpy()),
                           areas, intensive_variables=["share"], extensive_variables=["n"],
                           allocate_total=False)
    got = res.loc[res["wave"] == 2017].reset_index(drop=True)
    assert got["area_id"].tolist() == IDS
    assert got["share"].to_numpy() == pytest.approx(ref["share"].to_numpy(), rel=1e-4)
    assert got["n"].to_numpy() == pytest.approx(ref["n"].to_numpy(), rel=1e-4)
    assert got["n"].sum() == pytest.approx(w["n"].sum(), rel=1e-4)
    assert (got["coverage"] > 0.999).all()
    assert (got["n_sources"] > 1).all()  # every stadsdel is cut by the grid
    assert (got["n_eff"] >= w["n_eff"].min() - 1e-6).all()


def test_simplification_keeps_the_coverage(areas: gpd.GeoDataFrame) -> None:
    simple = maps.simplify_coverage(areas, tolerance_m=20.0)
    assert list(simple["area_id"]) == IDS and simple.crs == areas.crs
    geoms, orig = simple.geometry.values, areas.geometry.values
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    assert shapely.coverage_is_valid(geoms)
    n0 = shapely.get_num_coordinates(orig).sum()
    assert shapely.get_num_coordinates(geoms).sum() < 0.6 * n0
    rel = np.abs(shapely.area(geoms) - shapely.area(orig)) / shapely.area(orig)
    assert rel.max() < 0.01
    web = maps._to_web(simple, 6, coverage=True)
    assert shapely.is_valid(web).all() and shapely.coverage_is_valid(web)
    # Norrmalm and Vasastaden still share their border (Tegnérgatan and on), within 2 %
    i, j = IDS.index("norrmalm"), IDS.index("vasastaden")
    before = shapely.length(shapely.intersection(orig[i].boundary, orig[j].boundary))
    after = shapely.length(shapely.intersection(geoms[i].boundary, geoms[j].boundary))
    assert before > 1_000 and after == pytest.approx(before, rel=0.02)
    # simplifying the polygons one by one breaks the shared edges
    assert not shapely.coverage_is_valid(shapely.simplify(orig, 20.0, preserve_topology=True))
