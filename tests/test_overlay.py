"""Tests of trygg_geo.overlay: point-in-area, apportioning, exposure, interpolation."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin
from shapely.geometry import LineString, Point, box
from tobler.area_weighted import area_interpolate

from trygg_geo._errors import CRSError, InputError
from trygg_geo.areas import dissolve_hierarchy, read_areas
from trygg_geo.overlay import assign_to_areas, exposure, interpolate_survey, investments_by_area
from trygg_geo.survey import survey_panel

X0, Y0 = 670_000.0, 6_580_000.0


@pytest.fixture
def squares() -> gpd.GeoDataFrame:
    """Three 100 m squares in a row; ids deliberately not in row order."""
    return gpd.GeoDataFrame(
        {"area_id": ["m", "c", "x"], "name": ["Mitt", "Centrum", "Ytter"]},
        geometry=[box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100) for i in range(3)], crs=3006)


@pytest.fixture(scope="module")
def stockholm(shared_data: Path) -> gpd.GeoDataFrame:
    return read_areas(shared_data / "stockholm_stadsdelar" / "stadsdelar_utan_vatten.shp", report="log")


# ------------------------------------------------------------------- assign_to_areas

def test_assign_inside_outside_boundary_and_index(squares: gpd.GeoDataFrame) -> None:
    pts = gpd.GeoSeries([Point(X0 + 50, Y0 + 50), Point(X0 + 100, Y0 + 50), Point(X0 + 200, Y0 + 100),
                         Point(X0 - 1, Y0), None, Point(X0 + 250, Y0 + 1)],
                        index=[10, 11, 12, 13, 14, 15], crs=3006)
    got = assign_to_areas(pts, squares)
    assert got.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert got.name == "area_id" and str(got.dtype) == "string"
    # 11 lies on m|c, 12 on the corner of c|x: the id that sorts first wins
    assert got.tolist() == ["m", "c", "c", pd.NA, pd.NA, "x"]
    # the rule does not depend on row order
    again = assign_to_areas(pts, squares.iloc[::-1])
    assert again.equals(got)


def test_assign_reprojects_and_refuses_missing_crs(squares: gpd.GeoDataFrame) -> None:
    p = gpd.GeoSeries([Point(X0 + 150, Y0 + 50)], crs=3006).to_crs(4326)
    assert assign_to_areas(p, squares).tolist() == ["c"]
    with pytest.raises(CRSError, match="the points layer has no CRS"):
        assign_to_areas(gpd.GeoSeries([Point(0, 0)]), squares)
    with pytest.raises(InputError, match="takes points"):
        assign_to_areas(gpd.GeoSeries([LineString([(0, 0), (1, 1)])], crs=3006), squares)


def test_assign_chunked_equals_one_chunk(squares: gpd.GeoDataFrame) -> None:
    rng = np.random.default_rng(3)
    pts = gpd.GeoSeries(gpd.points_from_xy(rng.uniform(X0 - 20, X0 + 320, 500),
                                           rng.uniform(Y0 - 20, Y0 + 120, 500)), crs=3006)
    assert assign_to_areas(pts, squares, chunk_size=37).equals(assign_to_areas(pts, squares))


@pytest.mark.shared
def test_assign_stockholm_points_matches_sjoin(stockholm: gpd.GeoDataFrame) -> None:
    inner = stockholm.representative_point()
    got = assign_to_areas(inner, stockholm)
    assert (got == stockholm["area_id"]).all()
    rng = np.random.default_rng(7)
    b = stockholm.total_bounds
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(b[0], b[2], 20_000),
                                                        rng.uniform(b[1], b[3], 20_000)), crs=stockholm.crs)
    got = assign_to_areas(pts, stockholm)
    ref = gpd.sjoin(pts, stockholm, predicate="intersects").groupby(level=0)["area_id"].min()
    assert got.notna().sum() == len(ref)
    assert (got[ref.index] == ref).all()
    assert got[got.notna()].nunique() > 100


# ------------------------------------------------------------------- investments_by_area

@pytest.fixture
def investments() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "investment_id": ["p1", "l1", "y1", "p2", "l2"],
        "kind": ["kamerabevakning", "belysning", "slyrojning", "kamerabevakning", "belysning"],
        "granted_sek": [100.0, 1000.0, 400.0, 50.0, np.nan],
        "spent_sek": [90.0, 800.0, 400.0, 50.0, 10.0],
        "completed": pd.to_datetime(["2016-05-01", "2019-03-01", "2019-10-01", None, "2022-01-01"]),
    }, geometry=[
        Point(X0 + 50, Y0 + 50),
        LineString([(X0 + 50, Y0 + 10), (X0 + 250, Y0 + 10)]),      # 50 m in m, 100 in c, 50 in x
        box(X0 + 280, Y0 + 80, X0 + 320, Y0 + 120),                   # 20x20 of 40x40 inside x
        Point(X0 + 999, Y0 + 999),                                    # outside every area
        LineString([(X0 + 100, Y0 + 20), (X0 + 100, Y0 + 60)]),      # along the m|c boundary
    ], crs=3006)


def test_investments_by_area_shares_and_totals(squares: gpd.GeoDataFrame,
                                               investments: gpd.GeoDataFrame) -> None:
    res = investments_by_area(investments, squares)
    assert res.columns.tolist() == ["area_id", "kind", "n", "n_share", "length_m", "area_m2",
                                    "granted_sek", "spent_sek"]
    # a full grid of 3 areas x 3 kinds plus the outside rows
    assert res["area_id"].notna().sum() == 9
    t = res.set_index(["area_id", "kind"])
    assert t.loc[("m", "belysning"), "length_m"] == pytest.approx(50 + 20)   # half of the boundary line
    assert t.loc[("c", "belysning"), "length_m"] == pytest.approx(100 + 20)
    assert t.loc[("x", "belysning"), "length_m"] == pytest.approx(50)
    assert t.loc[("c", "belysning"), "granted_sek"] == pytest.approx(500.0)
    assert t.loc[("m", "belysning"), "spent_sek"] == pytest.approx(200.0 + 5.0)
    assert t.loc[("m", "belysning"), "n"] == 2 and t.loc[("x", "belysning"), "n"] == 1
    assert t.loc[("x", "slyrojning"), "area_m2"] == pytest.approx(400.0)
    assert t.loc[("x", "slyrojning"), "granted_sek"] == pytest.approx(100.0)
    assert t.loc[("m", "kamerabevakning"), "n"] == 1
    assert t.loc[("c", "kamerabevakning"), "n"] == 0
    out = res.loc[res["area_id"].isna()].set_index("kind")
    assert out.loc["kamerabevakning", "granted_sek"] == pytest.approx(50.0)
    assert out.loc["slyrojning", "area_m2"] == pytest.approx(1200.0)
    # totals are conserved
    assert res["n_share"].sum() == pytest.approx(5.0)
    assert res["granted_sek"].sum() == pytest.approx(1550.0)
    assert res["spent_sek"].sum() == pytest.approx(1350.0)
    assert res["length_m"].sum() == pytest.approx(240.0)


def test_investments_by_area_periods(squares: gpd.GeoDataFrame, investments: gpd.GeoDataFrame) -> None:
    res = investments_by_area(investments, squares, periods=[2015, 2018, 2021])
    assert sorted(res["period"].unique()) == ["2015-2017", "2018-2020", "2021..", "undated"]
    t = res.groupby("period")["n_share"].sum()
    assert t.to_dict() == pytest.approx({"2015-2017": 1.0, "2018-2020": 2.0, "2021..": 1.0,
                                         "undated": 1.0})
    y = investments_by_area(investments, squares, periods="year")
    assert y.loc[(y["area_id"] == "c") & (y["kind"] == "belysning") & (y["period"] == "2019"),
                 "length_m"].item() == pytest.approx(100.0)


# ------------------------------------------------------------------- exposure

def test_exposure_area_and_population(squares: gpd.GeoDataFrame) -> None:
    inv = gpd.GeoDataFrame({"kind": ["kamerabevakning"]}, geometry=[Point(X0 + 50, Y0 + 50)], crs=3006)
    res = exposure(squares, inv, distance_m=30.0)
    m = res.set_index("area_id").loc["m"]
    assert m["exposed_m2"] == pytest.approx(np.pi * 900, rel=1e-2)  # buffer polygon vs circle
    assert m["share_area"] == pytest.approx(np.pi * 900 / 10_000, rel=1e-2)
    assert res.set_index("area_id").loc["c", "share_area"] == 0.0
    d = exposure(squares, inv, distance_m=None)  # catalogue radius: 75 m for cameras
    assert d["distance_m"].unique().tolist() == [75.0]
    assert d.set_index("area_id").loc["c", "share_area"] > 0
    pop = gpd.GeoDataFrame({"population": [10.0, 30.0, 5.0]},
                           geometry=[Point(X0 + 50, Y0 + 60), Point(X0 + 5, Y0 + 5), Point(X0 + 150, Y0 + 5)],
                           crs=3006)
    res = exposure(squares, inv, distance_m=30.0, population=pop).set_index("area_id")
    assert res.loc["m", "population"] == 40.0
    assert res.loc["m", "exposed_population"] == 10.0
    assert res.loc["m", "share_population"] == pytest.approx(0.25)
    assert np.isnan(res.loc["x", "share_population"])


def test_exposure_population_raster(squares: gpd.GeoDataFrame, tmp_path: Path) -> None:
    # 10 m cells over the three squares; people only in the left half of m
    arr = np.zeros((10, 30), dtype="float32")
    arr[:, :5] = 2.0
    path = tmp_path / "bef.tif"
    with rasterio.open(path, "w", driver="GTiff", height=10, width=30, count=1, dtype="float32",
                       crs="EPSG:3006", transform=from_origin(X0, Y0 + 100, 10, 10)) as dst:
        dst.write(arr, 1)
    inv = gpd.GeoDataFrame({"kind": ["belysning"]},
                           geometry=[LineString([(X0, Y0 + 50), (X0 + 300, Y0 + 50)])], crs=3006)
    res = exposure(squares, inv, distance_m=26.0, population=path).set_index("area_id")
    assert res.loc["m", "population"] == pytest.approx(100.0)
    # cells centred at y = 25, 35, ..., 75 (6 of 10 rows) lie within 26 m of the line
    assert res.loc["m", "share_population"] == pytest.approx(0.6)
    assert res.loc["m", "share_area"] == pytest.approx(0.52)


def test_exposure_population_without_crs_is_refused(squares: gpd.GeoDataFrame,
                                                    tmp_path: Path) -> None:
    inv = gpd.GeoDataFrame({"kind": ["belysning"]}, geometry=[Point(X0 + 50, Y0 + 50)], crs=3006)
    path = tmp_path / "no_crs.tif"
    with rasterio.open(path, "w", driver="GTiff", height=10, width=30, count=1, dtype="float32",
                       transform=from_origin(X0, Y0 + 100, 10, 10)) as dst:
        dst.write(np.ones((10, 30), dtype="float32"), 1)
    with pytest.raises(CRSError, match=r"^file '.*no_crs.tif': the population raster has no CRS "
                       r"\(coordinate reference system\)") as e:
        exposure(squares, inv, distance_m=30.0, population=path)
    assert e.value.file == str(path) and "EPSG:3006" in (e.value.fix or "")
    pop = gpd.GeoDataFrame({"population": [10.0]}, geometry=[Point(X0 + 50, Y0 + 60)])
    with pytest.raises(CRSError, match="^the population layer has no CRS") as e:
        exposure(squares, inv, distance_m=30.0, population=pop)
    assert "set_crs" in (e.value.fix or "")


# ------------------------------------------------------------------- interpolation

def _synthetic_panel(ids: list[str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for a in ids:
        for w in (2017, 2020):
            n = int(rng.integers(40, 400))
            rows.append({"source_row": len(rows) + 2, "area_id": a, "wave": w, "indicator": "oro_brott",
                         "n": n, "share": float(rng.uniform(0.05, 0.3))})
    return survey_panel(pd.DataFrame(rows))


@pytest.mark.shared
def test_interpolate_from_dissolved_zones_conserves_totals(stockholm: gpd.GeoDataFrame) -> None:
    # survey zones: the stadsdelar grouped in fours by row order
    zones_of = {a: f"zon_{i // 4}" for i, a in enumerate(stockholm["area_id"])}
    zones = dissolve_hierarchy(stockholm, zones_of)
    panel = _synthetic_panel(zones["area_id"].tolist(), seed=1)
    res = interpolate_survey(panel, zones, stockholm)
    assert len(res) == 117 * 2
    assert res["coverage"].to_numpy() == pytest.approx(1.0, abs=1e-5)
    # every stadsdel lies in one zone: it inherits the zone's share and SE and n_eff
    z = panel.set_index(["area_id", "wave"])
    r = res.loc[res["area_id"] == "sodermalm"].set_index("wave")
    zone = zones_of["sodermalm"]
    assert r.loc[2017, "share"] == pytest.approx(z.loc[(zone, 2017), "share"], rel=1e-5)
    assert r.loc[2017, "se"] == pytest.approx(z.loc[(zone, 2017), "se"], rel=1e-5)
    assert r.loc[2017, "n_eff"] == pytest.approx(z.loc[(zone, 2017), "n_eff"], rel=1e-5)
    # totals: respondents and share x area are conserved
    area = stockholm.set_index("area_id").area
    zarea = zones.set_index("area_id").area
    for w in (2017, 2020):
        rw = res.loc[res["wave"] == w].set_index("area_id")
        pw = panel.loc[panel["wave"] == w].set_index("area_id")
        assert rw["n"].sum() == pytest.approx(pw["n"].sum(), rel=1e-5)
        assert (rw["share"] * area[rw.index]).sum() == pytest.approx(
            (pw["share"] * zarea[pw.index]).sum(), rel=1e-5)


@pytest.mark.shared
def test_interpolate_from_grid_matches_tobler_and_conserves(stockholm: gpd.GeoDataFrame) -> None:
    # a 3 km grid clipped to the city: a coarser zoning that cuts across stadsdelar
    b = stockholm.total_bounds
    cells = [box(x, y, x + 3000, y + 3000) for x in np.arange(b[0], b[2], 3000)
             for y in np.arange(b[1], b[3], 3000)]
    city = shapely.union_all(np.asarray(stockholm.geometry.values))
    grid = gpd.GeoDataFrame(geometry=shapely.intersection(cells, city), crs=stockholm.crs)
    grid = grid.loc[grid.area > 1.0].reset_index(drop=True)
    grid["area_id"] = [f"g{i}" for i in range(len(grid))]
    panel = _synthetic_panel(grid["area_id"].tolist(), seed=2)
    res = interpolate_survey(panel, grid, stockholm)
    w = panel.loc[panel["wave"] == 2017].set_index("area_id")
    ref = area_interpolate(grid.assign(share=w.loc[grid["area_id"], "share"].to_numpy(),
                                       n=w.loc[grid["area_id"], "n"].astype(float).to_numpy()),
                           stockholm, intensive_variables=["share"], extensive_variables=["n"],
                           allocate_total=False)
    got = res.loc[res["wave"] == 2017].reset_index(drop=True)
    assert got["share"].to_numpy() == pytest.approx(ref["share"].to_numpy(), rel=1e-4)
    assert got["n"].to_numpy() == pytest.approx(ref["n"].to_numpy(), rel=1e-4)
    assert got["n"].sum() == pytest.approx(w["n"].sum(), rel=1e-4)
    assert (got["coverage"] > 0.999).all()
    # areas cut by the grid borrow from several cells: smaller SE than any one source's,
    # n_eff at least the smallest source n_eff
    several = got["n_sources"] > 1
    assert several.sum() > 50
    assert (got["n_eff"] >= w["n_eff"].min() - 1e-6).all()


def test_interpolate_partial_coverage_missing_and_population(squares: gpd.GeoDataFrame) -> None:
    src = gpd.GeoDataFrame({"area_id": ["L", "R"]},
                           geometry=[box(X0, Y0, X0 + 150, Y0 + 100), box(X0 + 150, Y0, X0 + 250, Y0 + 100)],
                           crs=3006)
    panel = survey_panel(pd.DataFrame({
        "area_id": ["L", "R", "L"], "wave": [2020, 2020, 2023], "indicator": ["oro_brott"] * 3,
        "n": [100, 400, 100], "share": [0.2, 0.4, 0.1]}))
    res = interpolate_survey(panel, src, squares).set_index(["area_id", "wave"])
    c = res.loc[("c", 2020)]
    assert c["share"] == pytest.approx(0.3)
    se_l, se_r = np.sqrt(0.2 * 0.8 / 100), np.sqrt(0.4 * 0.6 / 400)
    assert c["se"] == pytest.approx(np.sqrt(0.25 * se_l ** 2 + 0.25 * se_r ** 2))
    assert c["n_eff"] == pytest.approx(1 / (0.25 / 100 + 0.25 / 400))
    assert c["n"] == pytest.approx(100 / 3 + 400 / 2)
    assert res.loc[("x", 2020), "coverage"] == pytest.approx(0.5)
    assert res.loc[("x", 2020), "share"] == pytest.approx(0.4)
    # 2023 has no value for R: x is not covered, c only by L
    assert res.loc[("x", 2023), "coverage"] == 0.0 and np.isnan(res.loc[("x", 2023), "share"])
    assert res.loc[("c", 2023), "coverage"] == pytest.approx(0.5)
    assert res.loc[("c", 2023), "share"] == pytest.approx(0.1)
    # population-weighted: everybody in c lives in its R half
    pop = gpd.GeoDataFrame({"population": [50.0, 10.0]},
                           geometry=[Point(X0 + 180, Y0 + 50), Point(X0 + 50, Y0 + 50)], crs=3006)
    rp = interpolate_survey(panel, src, squares, population=pop).set_index(["area_id", "wave"])
    assert rp.loc[("c", 2020), "share"] == pytest.approx(0.4)
    assert rp.loc[("c", 2020), "coverage"] == pytest.approx(1.0)
    assert rp.loc[("c", 2020), "n"] == pytest.approx(400.0)  # all of R's population is in c
    with pytest.raises(InputError, match="not in source_areas: Q"):
        interpolate_survey(panel.assign(area_id="Q"), src, squares)
