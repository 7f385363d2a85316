"""The dask path: point-in-area, geocoding, density and hot spots, partition by partition.

Optional extra ``dask`` (``pip install 'trygg-geo[dask]'``). Each function here runs the
in-memory core of its step on one partition at a time and combines the partitions so that the
result equals the in-memory result:

* :func:`assign_to_areas_dask`: each partition of the points runs the in-memory point-in-area
  (:func:`trygg_geo._overlay_core.points_in_areas`) against the (small) area layer, which
  travels with the task graph. The boundary rule depends only on the area ids, so the result
  equals :func:`trygg_geo.overlay.assign_to_areas` row for row.
* :func:`geocode_register_dask`: the register is split by the fuzzy stage's blocking key of
  each row's street (rows that share a street prefix share a partition, so the matcher's caches
  work as they do in memory), rows that can be flagged as duplicates of each other (same
  content, same ``investment_id``) are kept in one partition, and each partition runs
  :func:`trygg_geo.geocode.geocode_register` against the gazetteer (sent once per worker).
  The partitions are put back in register order: the same placed and unplaced rows, in the
  same order, with the same methods, scores, flags and reasons.
* :func:`kernel_density_dask`: each partition of the incidents is linearly binned to the
  grid and the binned grids are summed; the kernel then runs once on the sum, as in
  :func:`trygg_geo.density.kernel_density`. The default (spatial Silverman) bandwidth is
  computed exactly from partition sums and a two-pass selection of the median distance.
* :func:`hot_spots_dask`: points are counted per grid cell (or per area) in each partition,
  the counts summed, and Gi* runs on the summed counts as in
  :func:`trygg_geo.hotspots.hot_spots`.

Running on a cluster
--------------------
The computation runs wherever dask sends it: pass ``client=`` (a
``dask.distributed.Client`` or a scheduler address such as ``"tcp://host:8786"``), or create
a client first, which dask then uses by default::

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))   # this machine
    # client = Client("tcp://scheduler.example:8786")                 # an existing cluster
    import dask_geopandas
    points = dask_geopandas.read_parquet("punkter/*.parquet")          # partitioned GeoParquet
    area = assign_to_areas_dask(points, areas, client=client)          # pandas Series
    raster = kernel_density_dask(points, cell_size=50, client=client)  # DensityRaster

The public steps take the same option as ``dask=``: ``kernel_density(points, dask=True)``,
``hot_spots(points, dask=client)``, ``geocode_register(register, gaz, dask="tcp://...")``.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from trygg_geo._crs import require_crs, require_projected
from trygg_geo._errors import EmptyLayerError, InputError, MissingDependencyError
from trygg_geo._overlay_core import area_ids, points_in_areas
from trygg_geo.density import (
    DensityRaster,
    _check_points,
    _density_surface,
    _linear_bin,
    _weights_array,
)
from trygg_geo.geocode._match import (
    MAX_ADDRESS_CHARS,
    REGISTER_COLUMNS,
    GeocodeResult,
    _prepare_register,
    _text,
    geocode_register,
)
from trygg_geo.geocode._normalise import blocking_keys, name_fold, parse_address, repair_encoding
from trygg_geo.geocode.gazetteer import Gazetteer
from trygg_geo.hotspots import (
    HotSpotResult,
    _area_units,
    _gi_star,
    _grid_cells,
    _grid_counts,
    _grid_shape,
)

__all__ = [
    "assign_to_areas_dask",
    "dask_client",
    "dask_points",
    "geocode_register_dask",
    "hot_spots_dask",
    "kernel_density_dask",
    "require_dask",
    "scale_client",
]

log = logging.getLogger(__name__)

_PURPOSE = "The dask path (trygg_geo._dask)"
#: Bins of the first pass of the exact median distance (the second pass reads one bin).
_MEDIAN_BINS = 1 << 16
#: Default points per partition of an in-memory GeoDataFrame.
_POINTS_PER_PARTITION = 1_000_000
#: Default register rows per partition.
_ROWS_PER_PARTITION = 5_000


def require_dask() -> Any:
    """Import and return ``dask_geopandas``, or raise :class:`MissingDependencyError`."""
    # dask is an optional extra: imported here, on use, so the package works without it
    try:
        import dask.dataframe  # noqa: F401
        import dask_geopandas
    except ImportError as exc:
        raise MissingDependencyError("dask-geopandas", extra="dask", purpose=_PURPOSE) from exc
    return dask_geopandas


@contextlib.contextmanager
def dask_client(option: Any) -> Iterator[Any]:
    """The client a ``dask=`` option names, for the length of a ``with`` block.

    ``True`` or ``None``: None (dask's current scheduler: the last ``Client`` created, else
    its threaded scheduler). A string: a ``distributed.Client`` connected to that scheduler
    address (``"tcp://host:8786"``), closed at the end of the block. Anything else is taken to
    be a ``distributed.Client``.
    """
    if option is None or option is True:
        yield None
        return
    if isinstance(option, str):
        require_dask()
        try:
            from dask.distributed import Client  # optional extra, imported on use
        except ImportError as exc:
            raise MissingDependencyError("distributed", extra="dask", purpose=_PURPOSE) from exc
        with Client(option) as client:
            yield client
        return
    if not hasattr(option, "compute"):
        raise InputError(
            f"dask={option!r} is not a dask option.",
            fix="pass dask=True (dask's current scheduler), a distributed.Client, or a "
            "scheduler address such as 'tcp://host:8786'.",
        )
    yield option


@contextlib.contextmanager
def scale_client(scale: Any) -> Iterator[Any]:
    """The ``dask=`` option of a run's ``[scale]`` section, for the length of a ``with`` block.

    ``dask = false``: None (in memory). With ``scheduler``: that address (each step connects
    to it). Without: a ``LocalCluster`` of ``workers`` processes (one thread each) on this
    machine and its client, closed at the end of the block.
    """
    if not scale.dask:
        yield None
        return
    if scale.scheduler:
        require_dask()
        yield scale.scheduler
        return
    require_dask()
    try:
        from dask.distributed import Client, LocalCluster  # optional extra, imported on use
    except ImportError as exc:
        raise MissingDependencyError("distributed", extra="dask", purpose=_PURPOSE) from exc
    with LocalCluster(n_workers=scale.workers, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _compute_all(objs: Sequence[Any], client: Any) -> list[Any]:
    """Compute dask objects together, on ``client`` or on dask's current scheduler."""
    import dask  # optional extra, checked by require_dask before any caller gets here

    if client is not None:
        return list(client.gather(client.compute(list(objs))))
    return list(dask.compute(*objs))


def dask_points(points: Any, *, npartitions: int | None = None) -> Any:
    """Points as a ``dask_geopandas`` GeoDataFrame.

    Parameters
    ----------
    points
        A ``dask_geopandas`` GeoDataFrame/GeoSeries (used as it is), an in-memory
        GeoDataFrame/GeoSeries (split into ``npartitions``, default one per million points),
        a GeoParquet file, folder or glob (``dask_geopandas.read_parquet``), or another
        vector file (``dask_geopandas.read_file``, ``npartitions`` default 4).
    """
    dgpd = require_dask()
    if isinstance(points, (str, Path)):
        p = str(points)
        if p.endswith(".parquet") or p.endswith("/") or Path(p).is_dir():
            return dgpd.read_parquet(p)
        return dgpd.read_file(p, npartitions=npartitions or 4)
    if isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        parts = npartitions or max(1, -(-len(points) // _POINTS_PER_PARTITION))
        return dgpd.from_geopandas(points, npartitions=parts)
    return points


# --------------------------------------------------------------------------- point in area


def _partition(part: gpd.GeoDataFrame | gpd.GeoSeries, areas: gpd.GeoDataFrame, area_id: str
               ) -> pd.Series:
    return points_in_areas(part, areas, area_id=area_id)


def assign_to_areas_dask(
    points: Any,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str = "area_id",
    npartitions: int | None = None,
    client: Any = None,
    compute: bool = True,
) -> Any:
    """The area of each point, computed partition by partition on dask.

    Parameters
    ----------
    points
        A ``dask_geopandas`` GeoDataFrame/GeoSeries, a GeoParquet path or glob
        (read with ``dask_geopandas.read_parquet``), or an in-memory GeoDataFrame/GeoSeries
        (split into ``npartitions``, default one per million points).
    areas
        Areas with unique ids in a projected CRS (sent to every worker).
    area_id
        The id column of ``areas``.
    client
        A ``dask.distributed.Client``; default: dask's current scheduler (the last client
        created, else the threaded scheduler).
    compute
        ``False`` returns the lazy dask Series.

    Returns
    -------
    pandas.Series or dask Series
        Same values, dtype, name and index as :func:`trygg_geo.overlay.assign_to_areas`.

    Raises
    ------
    MissingDependencyError
        When dask-geopandas is not installed (names ``pip install 'trygg-geo[dask]'``).
    """
    require_dask()
    area_ids(areas, area_id)
    if isinstance(points, (str, Path)):
        ddf = require_dask().read_parquet(points)
    else:
        ddf = dask_points(points, npartitions=npartitions)
    require_projected(areas, what="the area layer")
    require_crs(ddf, what="the points layer")
    slim = gpd.GeoDataFrame({area_id: areas[area_id].astype("string").to_numpy()},
                            geometry=areas.geometry.values, crs=areas.crs)
    # Prepared once here, so that threads of an in-process cluster share prepared polygons
    # instead of preparing the same objects concurrently.
    shapely.prepare(np.asarray(slim.geometry.values))
    meta = pd.Series(pd.array([], dtype="string"), name=area_id)
    lazy = ddf.map_partitions(_partition, slim, area_id, meta=meta)
    if not compute:
        return lazy
    log.info("assigning points on dask: %d partitions", ddf.npartitions)
    if client is not None:
        return client.compute(lazy).result()
    return lazy.compute()


# --------------------------------------------------------------------------- partition sums


def _reduce(items: list[Any], combine: Callable[[Any, Any], Any]) -> Any:
    """A tree of delayed ``combine`` calls over ``items`` (depth log2 of the partitions)."""
    import dask  # optional extra, checked by require_dask before any caller gets here

    level = list(items)
    while len(level) > 1:
        nxt = [dask.delayed(combine, pure=True)(a, b) for a, b in zip(level[::2], level[1::2],
                                                                        strict=False)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _add(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _over_partitions(parts: list[Any], fn: Callable[..., Any], *args: Any) -> list[Any]:
    import dask  # optional extra, checked by require_dask before any caller gets here

    return [dask.delayed(fn, pure=True)(part, *args) for part in parts]


def _xy(part: gpd.GeoDataFrame, what: str) -> np.ndarray:
    """The checked coordinates of a partition (an empty partition has none)."""
    if len(part) == 0:
        return np.empty((0, 2))
    return _check_points(part, what=what)


def _coords_part(part: gpd.GeoDataFrame, weights: str | None, what: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The checked coordinates and weights (ones without) of one partition."""
    xy = _xy(part, what)
    w = _weights_array(part, weights) if weights is not None and len(xy) else None
    return xy, np.ones(len(xy)) if w is None else w


def _coordinates(ddf: Any, weights: str | None, what: str, client: Any) -> list[Any]:
    """Each partition's coordinates and weights, decoded once and kept on the workers.

    The passes over the points (extent, bandwidth, binning) read these arrays (16 bytes a
    point, 24 with weights) instead of decoding the geometries again; dask spills them to disk
    when they do not fit in the workers' memory.
    """
    import dask  # optional extra, checked by require_dask before any caller gets here

    coords = _over_partitions(ddf.to_delayed(), _coords_part, weights, what)
    if client is not None:
        return list(client.persist(coords))
    return list(dask.persist(*coords))


def _stats_part(c: tuple[np.ndarray, np.ndarray]) -> tuple[Any, ...]:
    """(count, weight sum, weighted x/y sums, lower and upper corner) of one partition."""
    xy, w = c
    if not len(xy):
        return 0, 0.0, np.zeros(2), np.full(2, np.inf), np.full(2, -np.inf)
    return (len(xy), float(w.sum()), (w[:, None] * xy).sum(axis=0), xy.min(axis=0),
            xy.max(axis=0))


def _stats_combine(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...]:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], np.minimum(a[3], b[3]),
            np.maximum(a[4], b[4]))


def _point_stats(coords: list[Any], what: str, client: Any) -> tuple[Any, ...]:
    stats = _compute_all([_reduce(_over_partitions(coords, _stats_part), _stats_combine)],
                         client)[0]
    if stats[0] == 0:
        raise EmptyLayerError(
            f"the {what} layer has no rows, so there is nothing to estimate a density from.",
            fix="check the input file and any date or category filter applied before.",
        )
    return tuple(stats)


def _distances(c: tuple[np.ndarray, np.ndarray], centre: np.ndarray) -> np.ndarray:
    """Distances from ``centre``, as :func:`trygg_geo.density.silverman_bandwidth` takes them."""
    return np.sqrt(((c[0] - centre) ** 2).sum(axis=1))


def _bin_of(d: np.ndarray, width: float) -> np.ndarray:
    return np.clip(np.floor(d / width).astype(np.int64), 0, _MEDIAN_BINS - 1)


def _hist_part(c: tuple[np.ndarray, np.ndarray], centre: np.ndarray, width: float
               ) -> tuple[Any, ...]:
    d, w = _distances(c, centre), c[1]
    b = _bin_of(d, width)
    return (float((w * d * d).sum()), np.bincount(b, minlength=_MEDIAN_BINS),
            np.bincount(b, weights=w, minlength=_MEDIAN_BINS))


def _in_bins_part(c: tuple[np.ndarray, np.ndarray], centre: np.ndarray, width: float,
                  bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = _distances(c, centre)
    keep = np.isin(_bin_of(d, width), bins)
    return d[keep], c[1][keep]


def _silverman_dask(coords: list[Any], weighted: bool, stats: tuple[Any, ...],
                    client: Any) -> float:
    """:func:`trygg_geo.density.silverman_bandwidth` of partitioned points, exactly.

    The median distance is selected in two passes: a histogram of the distances over
    :data:`_MEDIAN_BINS` bins finds the bin that holds the median, then the distances in that
    bin are read and sorted.
    """
    count, n, sxy, lo, hi = stats
    if n <= 0:
        return 0.0
    centre = sxy / n
    corners = np.array([[lo[0], lo[1]], [lo[0], hi[1]], [hi[0], lo[1]], [hi[0], hi[1]]])
    reach = float(np.sqrt(((corners - centre) ** 2).sum(axis=1)).max())
    if not reach > 0:
        return 0.0
    width = reach * (1 + 1e-9) / _MEDIAN_BINS
    s_d2, counts, wsum = _compute_all([_reduce(
        _over_partitions(coords, _hist_part, centre, width), _add)], client)[0]
    sd = math.sqrt(s_d2 / n)
    if not weighted:  # np.median: the middle value, or the mean of the two middle ones
        cum = np.cumsum(counts)
        ranks = sorted({(count - 1) // 2, count // 2})
        bins = np.array(sorted({int(np.searchsorted(cum, r + 1)) for r in ranks}))
    else:  # the weighted median of silverman_bandwidth
        cumw = np.cumsum(wsum)
        half = 0.5 * float(np.sum(wsum))
        bins = np.array([min(int(np.searchsorted(cumw, half)), _MEDIAN_BINS - 1)])
    parts = _compute_all(_over_partitions(coords, _in_bins_part, centre, width, bins), client)
    d = np.concatenate([p[0] for p in parts])
    w = np.concatenate([p[1] for p in parts])
    order = np.argsort(d, kind="stable")
    d, w = d[order], w[order]
    if not weighted:
        before = int(np.concatenate([[0], np.cumsum(counts)])[bins[0]])
        dm = float(np.mean([d[r - before] for r in ranks]))
    else:
        cw = float(np.concatenate([[0.0], np.cumsum(wsum)])[bins[0]]) + np.cumsum(w)
        dm = float(d[min(int(np.searchsorted(cw, half)), len(d) - 1)])
    return 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n**-0.2


def _bin_part(c: tuple[np.ndarray, np.ndarray], weighted: bool,
              grid: tuple[float, float, int, int], cell_size: float) -> tuple[np.ndarray, float]:
    x0, y0, rows, cols = grid
    xy, w = c
    if not len(xy):
        return np.zeros((rows, cols)), 0.0
    return _linear_bin(xy, w if weighted else None, x0=x0, y0=y0, cell_size=cell_size,
                       rows=rows, cols=cols)


def kernel_density_dask(
    points: Any,
    *,
    cell_size: float = 50.0,
    bandwidth: float | None = None,
    kernel: str = "quartic",
    bounds: Sequence[float] | None = None,
    weights: Any = None,
    npartitions: int | None = None,
    client: Any = None,
) -> DensityRaster:
    """:func:`trygg_geo.density.kernel_density` of points that are read partition by partition.

    Each partition is linearly binned to the grid and the grids are summed; the kernel runs
    once on the sum. The result equals the in-memory result to floating-point tolerance.

    Parameters
    ----------
    points
        See :func:`dask_points` (a ``dask_geopandas`` frame, GeoParquet, a vector file or an
        in-memory GeoDataFrame).
    cell_size, bandwidth, kernel, bounds
        As in :func:`trygg_geo.density.kernel_density`.
    weights
        A column of weights (a column name; a sequence is only possible in memory).
    npartitions
        Partitions of an in-memory GeoDataFrame (default one per million points).
    client
        A ``distributed.Client``; default dask's current scheduler.

    Returns
    -------
    DensityRaster
        The same surface, bandwidth and rule as in memory.
    """
    if kernel not in ("quartic", "gaussian"):
        raise InputError(
            f"unknown kernel {kernel!r}.", fix="use kernel='quartic' or kernel='gaussian'."
        )
    if not (np.isfinite(cell_size) and cell_size > 0):
        raise InputError(f"cell_size must be a positive number of metres, got {cell_size!r}.")
    if weights is not None and not isinstance(weights, str):
        raise InputError("on dask, weights must be a column name.",
                         fix="add the weights as a column of the points and pass its name.")
    what = "points"
    ddf = dask_points(points, npartitions=npartitions)
    crs = require_projected(ddf.crs, what=f"the {what} layer")
    coords = _coordinates(ddf, weights, what, client)
    stats = _point_stats(coords, what, client)
    log.info("density on dask: %d points in %d partitions", stats[0], ddf.npartitions)
    weighted = weights is not None

    def bin_points(x0: float, y0: float, rows: int, cols: int) -> tuple[np.ndarray, float]:
        grids = _over_partitions(coords, _bin_part, weighted, (x0, y0, rows, cols), cell_size)
        grid, _outside = _compute_all([_reduce(grids, _add)], client)[0]
        # the weight beyond the grid, from the total as in memory
        return grid, stats[1] - float(grid.sum())

    return _density_surface(
        bin_points, np.array([stats[3], stats[4]]), n_points=int(stats[0]),
        total=float(stats[0] if weights is None else stats[1]),
        silverman=lambda: _silverman_dask(coords, weighted, stats, client), crs=crs,
        cell_size=cell_size, bandwidth=bandwidth, kernel=kernel, bounds=bounds,
    )


# --------------------------------------------------------------------------- hot spots


def _grid_counts_part(c: tuple[np.ndarray, np.ndarray], grid: tuple[float, float, int, int],
                      cell_size: float) -> tuple[np.ndarray]:
    xmin, ymin, rows, cols = grid
    return (_grid_counts(c[0], xmin, ymin, rows, cols, cell_size),)


def _area_counts_part(part: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
                      ) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    _xy(part, "points")
    units, counts, out_mask = _area_units(part, areas)
    return counts, part[out_mask]


def hot_spots_dask(
    points: Any,
    *,
    cell_size: float = 250.0,
    areas: gpd.GeoDataFrame | None = None,
    distance_band: float | None = None,
    k: int | None = None,
    permutations: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    fdr: bool = True,
    p_value: str = "z_sim",
    npartitions: int | None = None,
    client: Any = None,
) -> HotSpotResult:
    """:func:`trygg_geo.hotspots.hot_spots` of points that are read partition by partition.

    Points are counted per grid cell (or area) in each partition; Gi* runs once on the summed
    counts, with the same seed, so the result equals the in-memory result.

    Parameters
    ----------
    points
        See :func:`dask_points`.
    cell_size, areas, distance_band, k, permutations, seed, alpha, fdr, p_value
        As in :func:`trygg_geo.hotspots.hot_spots`.
    npartitions, client
        As in :func:`kernel_density_dask`.

    Returns
    -------
    HotSpotResult
        The same cells, statistics and classes as in memory; ``outside`` (points in no area)
        collected from the partitions.
    """
    if not (0 < alpha < 1):
        raise InputError(f"alpha must lie between 0 and 1, got {alpha!r}.")
    if not (isinstance(permutations, int | np.integer) and permutations >= 0):
        raise InputError(f"permutations must be an integer >= 0, got {permutations!r}.")
    ddf = dask_points(points, npartitions=npartitions)
    crs = require_projected(ddf.crs, what="the points layer")
    if areas is None:
        if not (np.isfinite(cell_size) and cell_size > 0):
            raise InputError(f"cell_size must be a positive number of metres, got {cell_size!r}.")
        coords = _coordinates(ddf, None, "points", client)
        stats = _point_stats(coords, "points", client)
        grid = _grid_shape(stats[3], stats[4], float(cell_size))
        counts = _compute_all([_reduce(_over_partitions(coords, _grid_counts_part, grid,
                                                        float(cell_size)), _add)], client)[0][0]
        units = _grid_cells(*grid, float(cell_size), ddf.crs)
        outside = ddf._meta.iloc[0:0]
        n_points, id_column = int(stats[0]), "cell_id"
        if distance_band is None and k is None:
            distance_band = 1.5 * float(cell_size)
    else:
        # checks the areas and reprojects them once, here, before they go to the workers
        units, _c, _m = _area_units(ddf._meta.iloc[0:0], areas)
        slim = gpd.GeoDataFrame(units[["area_id"]], geometry=units.geometry.values, crs=crs)
        parts = _compute_all(_over_partitions(ddf.to_delayed(), _area_counts_part, slim),
                             client)
        counts = np.sum([p[0] for p in parts], axis=0)
        outside = pd.concat([p[1] for p in parts]) if parts else ddf._meta.iloc[0:0]
        n_points, id_column = int(counts.sum()) + len(outside), "area_id"
    if n_points == 0:
        raise EmptyLayerError(
            "the points layer has no rows, so there is nothing to estimate a density from.",
            fix="check the input file and any date or category filter applied before.",
        )
    log.info("hot spots on dask: %d points in %d partitions", n_points, ddf.npartitions)
    return _gi_star(
        units, counts, outside=outside, n_points=n_points, crs=ddf.crs, id_column=id_column,
        cell_size=float(cell_size) if areas is None else None, distance_band=distance_band, k=k,
        permutations=permutations, seed=seed, alpha=alpha, fdr=fdr, p_value=p_value,
    )


# --------------------------------------------------------------------------- geocoding


def _street_block(text: Any, cache: dict[str, str | None]) -> str | None:
    """The fuzzy stage's stem-prefix blocking key of the street a row's address names."""
    t = _text(text)
    if t is None:
        return None
    t = repair_encoding(t[:MAX_ADDRESS_CHARS].strip())[0]
    if t in cache:
        return cache[t]
    p = parse_address(t)
    street = p.street or p.street_a
    key = None
    if street:
        keys = sorted(k for k in blocking_keys(name_fold(street)) if k[:2] in ("p:", "f:"))
        key = keys[-1] if keys else None  # "p:" (the stem prefix) before "f:"
    cache[t] = key
    return key


def register_partitions(register: pd.DataFrame, npartitions: int) -> list[np.ndarray]:
    """Row positions of each partition of a register, for geocoding on dask.

    Rows are grouped by the blocking key of their street (:func:`_street_block`); rows without
    a street by a hash of their content. Groups that share an ``investment_id`` are merged, so
    every row the geocoder may flag ``duplicate_row`` or ``duplicate_id`` is in the partition of
    the row it repeats. Groups go, largest first, to the partition with the fewest rows; each
    partition keeps register order.
    """
    reg, _geom = _prepare_register(register)
    cache: dict[str, str | None] = {}
    block = [_street_block(v, cache) for v in reg["address"].tolist()]
    content = [c for c in REGISTER_COLUMNS if c not in ("source_row", "raw_text")]
    text = reg[content].astype(object).where(reg[content].notna(), None).astype(str)
    hashed = pd.util.hash_pandas_object(text, index=False).to_numpy() % max(4 * npartitions, 1)
    keys = [b if b is not None else f"h:{h}" for b, h in zip(block, hashed, strict=True)]
    group, _uniq = pd.factorize(pd.Series(keys, dtype=object))
    n_groups = int(group.max()) + 1 if len(group) else 0
    ids = pd.Series([_text(v) for v in reg["investment_id"].tolist()], dtype=object)
    has = ids.notna().to_numpy()
    id_code, id_uniq = pd.factorize(ids[has])
    # groups and ids as the nodes of one graph; a row joins its group to its id
    graph = coo_matrix((np.ones(int(has.sum())), (group[has], n_groups + id_code)),
                       shape=(n_groups + len(id_uniq),) * 2)
    _n, comp = connected_components(graph, directed=False)
    row_comp = comp[group]
    sizes = pd.Series(row_comp).value_counts(sort=False)
    order = sorted(sizes.index.tolist(), key=lambda c: (-int(sizes[c]), int(c)))
    load = np.zeros(max(npartitions, 1), dtype=np.int64)
    target: dict[int, int] = {}
    for c in order:
        j = int(np.argmin(load))
        target[int(c)] = j
        load[j] += int(sizes[c])
    part = np.array([target[int(c)] for c in row_comp], dtype=np.int64)
    return [np.flatnonzero(part == j) for j in range(len(load)) if (part == j).any()]


def _geocode_part(register: pd.DataFrame, gazetteer: Gazetteer, options: dict[str, Any]
                  ) -> GeocodeResult:
    return geocode_register(register, gazetteer, **options)


def _in_register_order(frames: list[pd.DataFrame], position: pd.Series) -> pd.DataFrame:
    kept = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(kept, ignore_index=True)
    pos = out["source_row"].map(position).to_numpy()
    return out.iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)


def geocode_register_dask(
    register: pd.DataFrame,
    gazetteer: Gazetteer,
    *,
    npartitions: int | None = None,
    client: Any = None,
    **options: Any,
) -> GeocodeResult:
    """:func:`trygg_geo.geocode.geocode_register` with the register's partitions run on dask.

    The register is split by :func:`register_partitions`; each partition is geocoded against
    the gazetteer (sent once to each worker) and the results are put back in register order.
    The placed and unplaced tables equal the in-memory ones (rows, order, values); the
    ``stages`` table sums the partitions' rows and seconds (seconds of work, not wall time).

    Parameters
    ----------
    register, gazetteer
        As in :func:`trygg_geo.geocode.geocode_register` (the register in memory).
    npartitions
        Default: one per 5,000 rows (at most 64).
    client
        A ``distributed.Client``; default dask's current scheduler.
    **options
        The keyword options of :func:`trygg_geo.geocode.geocode_register` (``provider``,
        ``extent``, ``areas``, ``aliases``, ``fuzzy_threshold``, ``lang``).
    """
    require_dask()
    import dask  # optional extra, checked by require_dask above

    options = {**options, "progress": False}
    if options.get("lang", "sv") not in ("sv", "en"):
        raise ValueError(f"unknown language {options['lang']!r} for geocode_register. "
                         "Fix: use 'sv' or 'en'.")
    reg, _geom = _prepare_register(register)  # the register's own checks, before any work
    n = len(reg)
    parts = npartitions or max(1, min(64, -(-n // _ROWS_PER_PARTITION)))
    pieces = register_partitions(register, parts) if n else [np.arange(0)]
    source = register if isinstance(register, pd.DataFrame) else reg
    source = source.reset_index(drop=True)
    gaz = dask.delayed(gazetteer, traverse=False)  # one task, shipped once to each worker
    tasks = [dask.delayed(_geocode_part, pure=True)(source.iloc[idx], gaz, options)
             for idx in pieces]
    log.info("geocoding %d rows on dask: %d partitions", n, len(tasks))
    results: list[GeocodeResult] = _compute_all(tasks, client)
    position = pd.Series(np.arange(n), index=reg["source_row"].to_numpy())
    placed = _in_register_order([r.placed for r in results], position)
    unplaced = _in_register_order([r.unplaced for r in results], position)
    stages = pd.concat([r.stages for r in results], ignore_index=True)
    stages = (stages.groupby("stage", sort=False, as_index=False)
              [["seconds", "rows_in", "rows_placed"]].sum())
    crs = gazetteer.crs
    return GeocodeResult(
        placed=gpd.GeoDataFrame(placed, geometry="geometry", crs=crs), unplaced=unplaced,
        crs=crs, stages=stages,
    )
