"""The dask paths of geocoding, density and hot spots equal the in-memory paths.

Everything runs on one in-process ``LocalCluster`` (2 workers, 1 thread each) on the demo
city; the comparisons are of values, order, CRS and row counts.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from trygg_geo import (
    hot_spots,
    kernel_density,
    make_demo_city,
    pipeline,
    read_areas,
    read_incidents,
    read_register,
)
from trygg_geo._errors import ConfigError, InputError
from trygg_geo.config import Config, ScaleSection, load_config
from trygg_geo.geocode import Gazetteer, geocode_register

dask_geopandas = pytest.importorskip("dask_geopandas", reason="extra 'dask' is not installed")
distributed = pytest.importorskip("dask.distributed", reason="extra 'dask' is not installed")

from trygg_geo._dask import (  # noqa: E402 - after the skip: needs the optional extra
    dask_client,
    geocode_register_dask,
    hot_spots_dask,
    kernel_density_dask,
    register_partitions,
    scale_client,
)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("dask_city")
    demo = make_demo_city(folder, seed=3)
    areas = read_areas(demo.areas)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the demo register is dirty on purpose
        register = read_register(demo.register)
    incidents = read_incidents(demo.incidents, crs=areas.crs)
    gaz = Gazetteer.from_path(demo.osm, crs=areas.crs)
    return {"areas": areas, "register": register, "incidents": incidents, "gaz": gaz,
            "config": demo.config}


# --------------------------------------------------------------------------- geocoding


def _same_geocoding(a: Any, b: Any) -> None:
    assert_frame_equal(pd.DataFrame(a.placed), pd.DataFrame(b.placed))
    assert_frame_equal(a.unplaced, b.unplaced)
    assert a.crs.equals(b.crs) and b.placed.crs.equals(a.crs)
    sa, sb = a.stages.set_index("stage"), b.stages.set_index("stage")
    assert sa.index.tolist() == sb.index.tolist()
    assert_frame_equal(sa[["rows_in", "rows_placed"]], sb[["rows_in", "rows_placed"]])


def test_geocoding_on_dask_equals_in_memory(city: dict[str, Any], client: Any) -> None:
    areas, reg, gaz = city["areas"], city["register"], city["gaz"]
    options = {"extent": areas.geometry.union_all(), "areas": areas}
    expected = geocode_register(reg, gaz, **options)
    assert len(expected.placed) > 40 and len(expected.unplaced) > 0
    got = geocode_register(reg, gaz, dask=client, **options)
    _same_geocoding(expected, got)
    # more partitions than workers, English reasons
    en = geocode_register(reg, gaz, lang="en", **options)
    got = geocode_register_dask(reg, gaz, npartitions=7, client=client, lang="en", **options)
    _same_geocoding(en, got)
    assert got.unplaced["reason_text"].str.len().min() > 0
    assert got.placed["source_row"].is_monotonic_increasing
    assert got.unplaced["source_row"].is_monotonic_increasing


def test_geocoding_keeps_duplicates_and_their_flags(city: dict[str, Any], client: Any) -> None:
    """Repeated rows and repeated ids on other streets are flagged as in memory."""
    reg = city["register"]
    placed = geocode_register(reg, city["gaz"]).placed
    first = reg[reg["source_row"].isin(placed["source_row"].head(3))]
    other = reg[reg["source_row"].isin(placed["source_row"].tail(3))]
    dup_rows = first.assign(source_row=first["source_row"] + 10_000)  # same content
    dup_ids = other.assign(source_row=other["source_row"] + 20_000,
                           investment_id=first["investment_id"].to_numpy())  # other streets
    big = pd.concat([reg, dup_rows, dup_ids], ignore_index=True).sample(frac=1.0, random_state=4)
    expected = geocode_register(big, city["gaz"])
    flags = expected.to_frame()["geocode_flag"].fillna("")
    assert flags.str.contains("duplicate_row").sum() >= 3
    assert flags.str.contains("duplicate_id").sum() >= 2
    got = geocode_register_dask(big, city["gaz"], npartitions=6, client=client)
    _same_geocoding(expected, got)
    # register order kept (the shuffled order, not source_row order)
    order = big["source_row"].tolist()
    for table in (got.placed, got.unplaced):
        rows = table["source_row"].tolist()
        assert rows == [r for r in order if r in set(rows)] and rows != sorted(rows)


def test_register_partitions_cover_every_row_once(city: dict[str, Any]) -> None:
    reg = city["register"]
    parts = register_partitions(reg, 4)
    rows = np.concatenate(parts)
    assert sorted(rows.tolist()) == list(range(len(reg)))
    assert all((np.diff(p) > 0).all() for p in parts)  # register order within a partition
    assert 2 <= len(parts) <= 4
    # the same street (the same address) never spans two partitions
    where = np.empty(len(reg), dtype=int)
    for j, p in enumerate(parts):
        where[p] = j
    addr = reg["address"].astype("string").str.strip().str.lower()
    spans = pd.Series(where).groupby(addr.to_numpy()).nunique()
    assert (spans == 1).all()


# --------------------------------------------------------------------------- density


@pytest.mark.parametrize("kernel,bandwidth,weights,n", [
    ("quartic", None, None, 4000),      # default (spatial Silverman) bandwidth, even n
    ("quartic", None, None, 3999),      # odd n: the median is one value
    ("quartic", None, "w", 4000),       # weighted median
    ("gaussian", 150.0, None, 4000),
])
def test_density_on_dask_equals_in_memory(city: dict[str, Any], client: Any, kernel: str,
                                          bandwidth: float | None, weights: str | None,
                                          n: int) -> None:
    inc = city["incidents"].iloc[:n].copy()
    inc["w"] = np.random.default_rng(5).integers(0, 4, len(inc)).astype(float)
    a = kernel_density(inc, cell_size=50.0, kernel=kernel, bandwidth=bandwidth, weights=weights)
    b = kernel_density_dask(inc, cell_size=50.0, kernel=kernel, bandwidth=bandwidth,
                            weights=weights, npartitions=5, client=client)
    assert b.bandwidth == pytest.approx(a.bandwidth, rel=1e-12)
    assert b.bandwidth_rule == a.bandwidth_rule and b.kernel == a.kernel
    assert b.array.shape == a.array.shape and b.transform == a.transform
    assert b.crs.equals(a.crs) and b.n_points == a.n_points
    assert b.total_weight == pytest.approx(a.total_weight, rel=1e-12)
    np.testing.assert_allclose(b.array, a.array, rtol=1e-9, atol=1e-9 * a.array.max())
    assert b.integral() == pytest.approx(a.integral(), rel=1e-9)


def test_density_from_geoparquet_and_dask_frame(city: dict[str, Any], client: Any,
                                                tmp_path: Path) -> None:
    inc = city["incidents"]
    a = kernel_density(inc, cell_size=100.0, bounds=tuple(city["areas"].total_bounds))
    folder = tmp_path / "handelser"
    dask_geopandas.from_geopandas(inc, npartitions=3).to_parquet(folder)
    b = kernel_density(str(folder), cell_size=100.0, bounds=tuple(city["areas"].total_bounds),
                       dask=client)
    np.testing.assert_allclose(b.array, a.array, rtol=1e-9, atol=1e-9 * a.array.max())
    c = kernel_density(dask_geopandas.from_geopandas(inc, npartitions=2), cell_size=100.0,
                       bounds=tuple(city["areas"].total_bounds))  # dask's current client
    np.testing.assert_allclose(c.array, a.array, rtol=1e-9, atol=1e-9 * a.array.max())


# --------------------------------------------------------------------------- hot spots


def test_hot_spots_on_dask_equal_in_memory(city: dict[str, Any], client: Any) -> None:
    inc = city["incidents"]
    a = hot_spots(inc, cell_size=250.0, permutations=199, seed=1)
    b = hot_spots(inc, cell_size=250.0, permutations=199, seed=1, dask=client)
    assert_frame_equal(a.to_frame(), b.to_frame())
    assert b.cells.crs.equals(a.cells.crs) and b.cells.geometry.equals(a.cells.geometry)
    assert a.n_hot > 0 and b.n_hot == a.n_hot and b.n_points == a.n_points == len(inc)
    assert b.distance_band == a.distance_band and b.p_threshold == a.p_threshold
    ddf = dask_geopandas.from_geopandas(inc, npartitions=4)
    c = hot_spots_dask(ddf, cell_size=250.0, permutations=199, seed=1, client=client)
    assert_frame_equal(a.to_frame(), c.to_frame())
    assert_frame_equal(pd.DataFrame(a.hot_spots()), pd.DataFrame(c.hot_spots()))


def test_hot_spots_per_area_on_dask_keep_points_outside(city: dict[str, Any],
                                                        client: Any) -> None:
    areas = city["areas"]
    inc = city["incidents"].copy()
    # three points far outside every area: returned in .outside, with a warning, both ways
    far = gpd.GeoDataFrame(inc.iloc[:3].drop(columns="geometry"),
                           geometry=gpd.points_from_xy([0.0, 1.0, 2.0], [0.0, 0.0, 0.0]),
                           crs=inc.crs)
    inc = pd.concat([inc, far], ignore_index=True)
    with pytest.warns(UserWarning, match="3 of 4003 points lie in no area"):
        a = hot_spots(inc, areas=areas, permutations=99, seed=2)
    with pytest.warns(UserWarning, match="3 of 4003 points lie in no area"):
        b = hot_spots_dask(inc, areas=areas, permutations=99, seed=2, npartitions=3,
                           client=client)
    assert_frame_equal(a.to_frame(), b.to_frame())
    assert sorted(b.outside.index.tolist()) == sorted(a.outside.index.tolist())
    assert int(b.cells["count"].sum()) == len(inc) - 3


def test_bad_dask_option_is_refused(city: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="dask=42 is not a dask option"), dask_client(42):
        pass


# --------------------------------------------------------------------------- [scale] in a run


def test_run_steps_with_scale_section_use_the_cluster(city: dict[str, Any], client: Any) -> None:
    """[scale] dask = true with the cluster's address: the run's steps give the same tables."""
    cfg = load_config(city["config"])
    areas, crs = city["areas"], city["areas"].crs
    on_dask = dataclasses.replace(cfg, scale=ScaleSection(dask=True,
                                                          scheduler=client.scheduler.address))
    reg = city["register"]
    a = pipeline._geocode(cfg, reg, areas, crs)
    b = pipeline._geocode(on_dask, reg, areas, crs)
    assert_frame_equal(pd.DataFrame(a[0]), pd.DataFrame(b[0]))
    assert_frame_equal(a[1], b[1])
    if cfg.incidents is not None:
        _inc, gi_a, dens_a = pipeline._incidents(cfg, areas, crs)
        _inc, gi_b, dens_b = pipeline._incidents(on_dask, areas, crs)
        assert_frame_equal(gi_a.to_frame(), gi_b.to_frame())
        np.testing.assert_allclose(dens_b.array, dens_a.array, rtol=1e-9,
                                   atol=1e-9 * dens_a.array.max())


def test_scale_section_is_read_and_checked(city: dict[str, Any]) -> None:
    cfg = load_config(city["config"])
    assert cfg.scale == ScaleSection() and not cfg.scale.dask
    with scale_client(cfg.scale) as opt:
        assert opt is None  # in memory
    with scale_client(ScaleSection(dask=True, scheduler="tcp://10.0.0.5:8786")) as opt:
        assert opt == "tcp://10.0.0.5:8786"  # each step connects to it
    base = {"areas": {"path": "a.gpkg"}, "register": {"path": "r.csv"},
            "gazetteer": {"path": "g.osm"}, "survey": {"path": "s.csv"}}
    got = Config.from_dict({**base, "scale": {"dask": True, "scheduler": "tcp://h:8786",
                                              "workers": 3}})
    assert got.scale == ScaleSection(dask=True, scheduler="tcp://h:8786", workers=3)
    with pytest.raises(ConfigError, match=r"\[scale\] scheduler = 'h:8786' is not a scheduler"):
        Config.from_dict({**base, "scale": {"dask": True, "scheduler": "h:8786"}})
    with pytest.raises(ConfigError, match=r"\[scale\] workers = 0 is too small"):
        Config.from_dict({**base, "scale": {"workers": 0}})
    with pytest.raises(ConfigError, match="cluster"):
        Config.from_dict({**base, "scale": {"cluster": "x"}})
