"""The dask path of point-in-area gives the in-memory result on a LocalCluster."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

import trygg_geo
from trygg_geo._errors import CRSError, MissingDependencyError
from trygg_geo._overlay_core import points_in_areas
from trygg_geo.overlay import assign_to_areas, assign_to_areas_dask

X0, Y0 = 670_000.0, 6_580_000.0


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    """A 6 x 5 grid of 100 m cells with ids that do not follow row order."""
    cells = [box(X0 + 100 * i, Y0 + 100 * j, X0 + 100 * (i + 1), Y0 + 100 * (j + 1))
             for i in range(6) for j in range(5)]
    ids = [f"a{(7 * k) % 30:02d}" for k in range(30)]
    return gpd.GeoDataFrame({"area_id": ids}, geometry=cells, crs=3006)


@pytest.fixture(scope="module")
def points() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(11)
    # a tenth of the points on cell boundaries (whole 50 m multiples), some outside
    x = np.r_[rng.uniform(X0 - 50, X0 + 650, 18_000), X0 + 50 * rng.integers(0, 13, 2_000)]
    y = np.r_[rng.uniform(Y0 - 50, Y0 + 550, 18_000), Y0 + 50 * rng.integers(0, 11, 2_000)]
    return gpd.GeoDataFrame({"v": np.arange(20_000)}, geometry=gpd.points_from_xy(x, y), crs=3006,
                            index=np.arange(20_000) * 3 + 5)


@pytest.mark.parametrize("n_workers", [1, 2])
def test_dask_equals_in_memory_on_local_cluster(areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                                                n_workers: int) -> None:
    pytest.importorskip("dask_geopandas", reason="dask-geopandas is not installed (extra 'dask')")
    distributed = pytest.importorskip("dask.distributed", reason="dask.distributed is not installed")
    import dask_geopandas

    expected = assign_to_areas(points, areas)
    assert expected.isna().sum() > 0 and expected.nunique() == 30
    with distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        got = assign_to_areas_dask(points, areas, npartitions=4, client=client)
        assert got.equals(expected)
        # a dask_geopandas frame given directly, default (current) client, via assign_to_areas
        ddf = dask_geopandas.from_geopandas(points, npartitions=3)
        got2 = assign_to_areas(ddf, areas)
        assert got2.equals(expected)
        lazy = assign_to_areas_dask(ddf, areas, compute=False)
        assert lazy.npartitions == 3
        assert lazy.compute().equals(expected)


def test_missing_dask_names_install_command(areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask_geopandas", None)  # import now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'trygg-geo\[dask\]'") as e:
        assign_to_areas_dask(points, areas)
    assert "dask-geopandas" in str(e.value)
    assert isinstance(e.value, ImportError)


def test_dask_path_refuses_points_without_crs_and_areas_in_degrees(
        areas: gpd.GeoDataFrame, points: gpd.GeoDataFrame) -> None:
    pytest.importorskip("dask_geopandas", reason="dask-geopandas is not installed (extra 'dask')")
    with pytest.raises(CRSError, match=r"^the points layer has no CRS \(coordinate reference"):
        assign_to_areas_dask(points.set_crs(None, allow_override=True), areas, compute=False)
    with pytest.raises(CRSError, match=r"^the area layer is in WGS 84 \(EPSG:4326\)") as e:
        assign_to_areas_dask(points, areas.to_crs(4326), compute=False)
    assert "EPSG:3006" in (e.value.fix or "")


def _imported_modules(module: str) -> set[str]:
    """Every trygg_geo module a source file imports, at any depth of the file."""
    src = Path(trygg_geo.__file__).parent / f"{module}.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(src.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("trygg_geo")}


def test_no_import_cycle_between_overlay_and_the_dask_path() -> None:
    """overlay -> _dask -> _overlay_core, overlay -> _overlay_core; nothing points back."""
    # _dask also reuses the in-memory code of density, hot spots and geocoding; those modules
    # import _dask only inside the function that dispatches to it, so there is no cycle
    assert _imported_modules("_dask") >= {"trygg_geo._crs", "trygg_geo._errors",
                                          "trygg_geo._overlay_core"}
    assert "trygg_geo.overlay" not in _imported_modules("_dask")
    assert _imported_modules("_overlay_core") == {"trygg_geo._crs", "trygg_geo._errors"}
    assert {"trygg_geo._dask", "trygg_geo._overlay_core"} <= _imported_modules("overlay")


def test_core_and_public_point_in_area_agree(areas: gpd.GeoDataFrame,
                                             points: gpd.GeoDataFrame) -> None:
    got = assign_to_areas(points, areas)
    assert got.equals(points_in_areas(points, areas))
    assert got.index.equals(points.index) and str(got.dtype) == "string"
    outside = ~points.geometry.intersects(areas.union_all())  # boundary points are inside
    assert got.isna().to_numpy().tolist() == outside.to_numpy().tolist() and outside.sum() > 0
