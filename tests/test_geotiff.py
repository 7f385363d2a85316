"""The one GeoTIFF writer (trygg_geo._outputs.write_geotiff) and its two callers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine

from trygg_geo._errors import CRSError, InputError
from trygg_geo._outputs import _stamp_of, stamp_geotiff, write_geotiff
from trygg_geo.density import NODATA, kernel_density
from trygg_geo.export import write_raster_atomic

RUN_ID = "20240101T120000Z-abc123"
T = Affine(50.0, 0.0, 670_000.0, 0.0, -50.0, 6_580_000.0)


def test_roundtrip_array_transform_crs_nodata_and_tags(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    arr = rng.random((300, 280)).astype("float32")  # large enough to be tiled
    arr[5, 7] = -9999.0
    out = write_geotiff(tmp_path / "a.tif", arr, transform=T, crs="EPSG:3006", nodata=-9999.0,
                        band_description="Täthet", units="per km²",
                        tags={"run_id": RUN_ID, "source": "test"},
                        band_tags={"kernel": "quartic", "n_points": 12})
    assert out == tmp_path / "a.tif"
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), arr)
        assert src.transform == T
        assert src.crs.to_epsg() == 3006
        assert src.nodata == -9999.0
        assert src.dtypes == ("float32",)
        assert src.tags()["run_id"] == RUN_ID and src.tags()["source"] == "test"
        assert src.tags(1)["kernel"] == "quartic" and src.tags(1)["n_points"] == "12"
        assert src.descriptions == ("Täthet",) and src.units == ("per km²",)
        assert src.profile["compress"].lower() == "deflate"
        assert src.profile["tiled"] and src.block_shapes == [(256, 256)]
    assert [p.name for p in tmp_path.iterdir()] == ["a.tif"]  # no temporary file left


def test_multiband_bool_small_untiled_and_nan_nodata(tmp_path: Path) -> None:
    mask = np.zeros((2, 3, 4), dtype=bool)
    mask[1, 2, 3] = True
    out = write_geotiff(tmp_path / "m.tif", mask, transform=T, crs=3011,
                        band_description=["a", None])
    with rasterio.open(out) as src:
        assert src.count == 2 and src.dtypes == ("uint8", "uint8")
        np.testing.assert_array_equal(src.read(), mask.astype("uint8"))
        assert src.nodata is None and src.descriptions == ("a", None)
        assert not src.profile.get("tiled", False)
        assert src.crs.to_epsg() == 3011 and "run_id" not in src.tags()
    f = np.array([[1.0, np.nan]], dtype="float64")
    with rasterio.open(write_geotiff(tmp_path / "f.tif", f, transform=T, crs=3006)) as src:
        assert np.isnan(src.nodata)
        np.testing.assert_array_equal(src.read(1), f)


def test_refusals_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(CRSError, match=r"^file '.*x.tif': the raster to write has no CRS") as e:
        write_geotiff(tmp_path / "x.tif", np.ones((2, 2)), transform=T, crs=None)
    assert e.value.file == str(tmp_path / "x.tif") and "crs=" in (e.value.fix or "")
    with pytest.raises(InputError, match="shape"):
        write_geotiff(tmp_path / "x.tif", np.ones(4), transform=T, crs=3006)
    with pytest.raises(InputError, match="2 descriptions for 3 bands"):
        write_geotiff(tmp_path / "x.tif", np.ones((3, 2, 2)), transform=T, crs=3006,
                      band_description=["a", "b"])
    assert list(tmp_path.iterdir()) == []


def test_stale_temporary_files_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".a.tmp-xyz.tif"
    stale.write_bytes(b"half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    write_geotiff(tmp_path / "a.tif", np.ones((2, 2)), transform=T, crs=3006)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tif"]


def test_density_to_geotiff_with_run_id_tag_and_stamp(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    xy = rng.normal([670_000, 6_580_000], 200, size=(60, 2))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=3006)
    r = kernel_density(pts, cell_size=50, bandwidth=200)
    tagged = r.to_geotiff(tmp_path / "t.tif", tags={"run_id": RUN_ID})
    stamped = r.to_geotiff(tmp_path / "s.tif")
    stamp_geotiff(stamped, RUN_ID)  # the older two-step way still works
    for path in (tagged, stamped):
        with rasterio.open(path) as src:
            assert src.tags()["run_id"] == RUN_ID
            assert src.crs.to_epsg() == 3006 and src.transform.almost_equals(r.transform)
            assert src.nodata == NODATA and src.tags(1)["kernel"] == r.kernel
            np.testing.assert_allclose(src.read(1), r.array, rtol=1e-6, atol=1e-9)
    assert _stamp_of(tagged) == {RUN_ID}  # what verify_outputs reads back


def test_write_raster_atomic_is_the_same_writer(tmp_path: Path) -> None:
    arr = np.arange(12, dtype="int16").reshape(3, 4)
    out = write_raster_atomic(tmp_path / "r.tif", arr, transform=T, crs="EPSG:3006",
                              nodata=-1, description="x")
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), arr)
        assert src.nodata == -1 and src.descriptions == ("x",)
        assert src.profile["compress"].lower() == "deflate"
