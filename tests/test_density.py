"""Tests of trygg_geo.density: kernel density rasters and zonal statistics."""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
)
from trygg_geo.density import (
    DENSITY_UNIT,
    NODATA,
    DensityRaster,
    kernel_density,
    silverman_bandwidth,
    zonal_stats,
)

X0, Y0 = 674_000.0, 6_580_000.0  # SWEREF 99 TM, Stockholm-ish
CLUSTER = (X0 + 1_200.0, Y0 + 2_600.0)


def _points(xy: np.ndarray, crs: object = 3006) -> gpd.GeoDataFrame:
    n = len(xy)
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "date": pd.date_range("2023-01-01", periods=n, freq="h"),
            "category": "skadegorelse",
            "source_row": np.arange(2, n + 2),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=crs,
    )


@pytest.fixture(scope="module")
def planted() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(42)
    bg = rng.uniform(0, 4_000, size=(600, 2)) + [X0, Y0]
    cl = rng.normal(CLUSTER, 60, size=(300, 2))
    return _points(np.vstack([bg, cl]))


def _direct(xy: np.ndarray, gx: np.ndarray, gy: np.ndarray, h: float, kernel: str) -> np.ndarray:
    """Textbook kernel sum at (gx, gy), incidents per km² (independent of the module)."""
    d2 = (gx.ravel()[:, None] - xy[:, 0]) ** 2 + (gy.ravel()[:, None] - xy[:, 1]) ** 2
    if kernel == "quartic":
        k = np.where(d2 < h * h, 3 / (math.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0)
    else:
        k = np.exp(-0.5 * d2 / (h * h)) / (2 * math.pi * h * h)
    return k.sum(axis=1).reshape(gx.shape) * 1e6


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_integral_equals_number_of_points(planted: gpd.GeoDataFrame, kernel: str) -> None:
    r = kernel_density(planted, cell_size=25, bandwidth=150, kernel=kernel)
    assert r.unit == DENSITY_UNIT == "incidents per km²"
    assert r.array.dtype == np.float64
    assert r.integral() == pytest.approx(len(planted), rel=0.01)
    # the grid covers the points with a margin of one kernel radius
    margin = 150 if kernel == "quartic" else 600
    xmin, ymin, xmax, ymax = r.bounds
    pxmin, pymin, pxmax, pymax = planted.total_bounds
    assert xmin <= pxmin - margin and xmax >= pxmax + margin
    assert ymin <= pymin - margin and ymax >= pymax + margin
    assert (r.array >= 0).all()


def test_weights_integrate_to_their_sum(planted: gpd.GeoDataFrame) -> None:
    w = np.linspace(0.5, 2.0, len(planted))
    pts = planted.assign(severity=w)
    r = kernel_density(pts, cell_size=25, bandwidth=150, weights="severity")
    assert r.integral() == pytest.approx(w.sum(), rel=1e-6)
    assert r.total_weight == pytest.approx(w.sum())


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_matches_direct_kernel_sum(kernel: str) -> None:
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 1_000, size=(200, 2)) + [X0, Y0]
    r = kernel_density(_points(xy), cell_size=10, bandwidth=120, kernel=kernel)
    gx, gy = r.cell_centres()
    sl = (slice(None, None, 7), slice(None, None, 7))
    exact = _direct(xy, gx[sl], gy[sl], 120, kernel)
    ours = r.array[sl]
    # binning moves a point by < 1 cell (10 m) against a 120 m bandwidth
    assert np.abs(ours - exact).max() <= 0.03 * exact.max()
    assert np.corrcoef(ours.ravel(), exact.ravel())[0, 1] > 0.999


def test_single_point_peak_value() -> None:
    # quartic: K(0) = 3 / (pi h^2); with h = 200 m that is 23.87 per km²
    pts = _points(np.array([[X0 + 5.0, Y0 + 5.0]]))
    r = kernel_density(pts, cell_size=10, bandwidth=200)
    x, y, v = r.peak()
    assert (x, y) == (X0 + 5.0, Y0 + 5.0)
    assert v == pytest.approx(3 / (math.pi * 0.2**2), rel=0.01)


def test_peak_lies_at_planted_cluster(planted: gpd.GeoDataFrame) -> None:
    r = kernel_density(planted, cell_size=25)
    assert r.bandwidth_rule == "spatial_silverman"
    x, y, _ = r.peak()
    assert math.hypot(x - CLUSTER[0], y - CLUSTER[1]) < 60


def test_silverman_rule_is_the_documented_formula(planted: gpd.GeoDataFrame) -> None:
    xy = shapely.get_coordinates(planted.geometry.values)
    d = np.hypot(*(xy - xy.mean(axis=0)).T)
    sd = math.sqrt((d**2).mean())
    expected = 0.9 * min(sd, math.sqrt(1 / math.log(2)) * np.median(d)) * len(xy) ** -0.2
    assert silverman_bandwidth(xy) == pytest.approx(expected)
    assert kernel_density(planted, cell_size=50).bandwidth == pytest.approx(expected)


def test_bounds_fix_the_grid_and_outside_points_add_their_tail() -> None:
    xy = np.array([[X0 + 1_000.0, Y0 + 500.0], [X0 + 1_090.0, Y0 + 500.0]])
    bounds = (X0, Y0, X0 + 1_050.0, Y0 + 1_000.0)
    r = kernel_density(_points(xy), cell_size=50, bandwidth=200, bounds=bounds)
    assert r.shape == (20, 21)
    assert r.transform == rasterio.Affine(50.0, 0.0, X0, 0.0, -50.0, Y0 + 1_000.0)
    assert r.bounds == pytest.approx(bounds)
    # both points inside bounds' reach: the second (outside bounds) adds to the east edge
    only_first = kernel_density(_points(xy[:1]), cell_size=50, bandwidth=200, bounds=bounds)
    assert r.array[10, -1] > only_first.array[10, -1] * 1.5


def test_geotiff_roundtrip(planted: gpd.GeoDataFrame, tmp_path) -> None:
    r = kernel_density(planted, cell_size=50, bandwidth=200)
    out = r.to_geotiff(tmp_path / "sub" / "tathet.tif")
    assert out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 3006
        assert src.transform.almost_equals(r.transform)
        assert (src.height, src.width) == r.shape
        assert src.nodata == NODATA
        desc = src.descriptions[0]
        assert desc and "Täthet" in desc and "200 m" in desc
        assert src.units[0] == DENSITY_UNIT
        assert src.tags(1)["kernel"] == "quartic"
        data = src.read(1)
    np.testing.assert_allclose(data, r.array, rtol=1e-6, atol=1e-9)
    en = r.to_geotiff(tmp_path / "en.tif", description="Incident density", dtype="float64")
    with rasterio.open(en) as src:
        assert src.descriptions[0] == "Incident density"
        np.testing.assert_array_equal(src.read(1), r.array)


def test_geographic_and_missing_crs_refused(planted: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="project"):
        kernel_density(planted.to_crs(4326))
    with pytest.raises(CRSError, match="no CRS"):
        kernel_density(planted.set_crs(None, allow_override=True))


def test_empty_and_bad_geometries_refused(planted: gpd.GeoDataFrame) -> None:
    with pytest.raises(EmptyLayerError):
        kernel_density(planted.iloc[0:0])
    bad = planted.copy()
    bad.loc[bad.index[4], "geometry"] = None
    with pytest.raises(InputError) as e:
        kernel_density(bad)
    assert e.value.row == 6  # source_row of the fifth point
    with pytest.raises(InputError, match="kernel"):
        kernel_density(planted, kernel="epanechnikov")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="weights"):
        kernel_density(planted, weights=np.full(len(planted), -1.0))


def test_coincident_points_fall_back_with_warning() -> None:
    pts = _points(np.array([[X0, Y0]] * 5))
    with pytest.warns(DataQualityWarning, match="coincide"):
        r = kernel_density(pts, cell_size=20)
    assert r.bandwidth == 100 and r.bandwidth_rule == "fallback_5_cells"
    assert r.integral() == pytest.approx(5)


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "area_id": ["klustret", "resten", "langt_bort", "pytteliten"],
            "name": ["Klustret", "Resten", "Långt bort", "Pytteliten"],
        },
        geometry=[
            shapely.box(CLUSTER[0] - 400, CLUSTER[1] - 400, CLUSTER[0] + 400, CLUSTER[1] + 400),
            shapely.box(X0, Y0, X0 + 800, Y0 + 800),
            shapely.box(X0 + 50_000, Y0, X0 + 51_000, Y0 + 1_000),
            shapely.box(X0 + 101, Y0 + 101, X0 + 104, Y0 + 104),
        ],
        crs=3006,
    )


def test_zonal_stats(planted: gpd.GeoDataFrame) -> None:
    r = kernel_density(planted, cell_size=25, bandwidth=150)
    with pytest.warns(DataQualityWarning, match="langt_bort"):
        zs = zonal_stats(r, _areas(), stats=("mean", "max", "sum", "integral"))
    assert list(zs["area_id"]) == ["klustret", "resten", "langt_bort", "pytteliten"]
    assert list(zs["n_cells"]) == [32 * 32, 32 * 32, 0, 1]
    assert list(zs["cell_rule"]) == ["centre", "centre", "outside", "touched"]
    k, rest = zs.iloc[0], zs.iloc[1]
    # the cluster (300 pts) plus ~ 600 * 0.04 background points lie in its 0.64 km²
    inside = planted.within(_areas().geometry.iloc[0]).sum()
    assert k["integral"] == pytest.approx(inside, rel=0.1)
    assert k["mean"] == pytest.approx(k["integral"] / 0.64)
    assert k["sum"] == pytest.approx(k["mean"] * 32 * 32)
    assert k["max"] == pytest.approx(r.array.max())
    assert rest["max"] < k["mean"]
    assert np.isnan(zs.loc[2, "mean"])
    # reprojected areas give the same statistics
    with pytest.warns(DataQualityWarning):
        zs2 = zonal_stats(r, _areas().to_crs(3011), stats=("integral",))
    assert zs2.loc[0, "integral"] == pytest.approx(k["integral"], rel=0.02)


def test_zonal_stats_errors(planted: gpd.GeoDataFrame) -> None:
    r = kernel_density(planted, cell_size=50, bandwidth=150)
    with pytest.raises(MissingColumnError):
        zonal_stats(r, _areas().drop(columns="area_id"))
    with pytest.raises(InputError, match="unknown statistics"):
        zonal_stats(r, _areas(), stats=("mode",))


def test_to_frame_matches_array() -> None:
    pts = _points(np.array([[X0 + 30.0, Y0 + 70.0], [X0 + 260.0, Y0 + 90.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = kernel_density(pts, cell_size=20, bandwidth=100)
    assert isinstance(r, DensityRaster)
    f = r.to_frame()
    assert len(f) == r.array.size
    top = f.iloc[0]
    assert (top["x"], top["y"]) == (r.bounds[0] + 10, r.bounds[3] - 10)
    np.testing.assert_array_equal(f["density"].to_numpy(), r.array.ravel())
