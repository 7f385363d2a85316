"""Point-in-area for point sets too large for memory, on dask (optional extra ``dask``).

Each partition of the points runs the in-memory :func:`trygg_geo.overlay.assign_to_areas`
against the (small) area layer, which travels with the task graph. The boundary rule
depends only on the area ids, so the result equals the in-memory result row for row.

Running on a cluster
--------------------
The computation runs wherever dask sends it: pass ``client=`` (a
``dask.distributed.Client``), or create a client first, which dask then uses by default::

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1))   # this machine
    # client = Client("tcp://scheduler.example:8786")                 # an existing cluster
    import dask_geopandas
    points = dask_geopandas.read_parquet("punkter/*.parquet")          # partitioned GeoParquet
    area = assign_to_areas_dask(points, areas, client=client)          # pandas Series

With ``compute=False`` the lazy dask Series is returned instead, e.g. to write it with
``.to_parquet`` without collecting it. Install the extra with ``pip install 'trygg-geo[dask]'``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygg_geo._errors import MissingDependencyError

__all__ = ["assign_to_areas_dask", "require_dask"]

log = logging.getLogger(__name__)

_PURPOSE = "Point-in-area on dask (trygg_geo.overlay.assign_to_areas_dask)"


def require_dask() -> Any:
    """Import and return ``dask_geopandas``, or raise :class:`MissingDependencyError`."""
    try:
        import dask.dataframe  # noqa: F401
        import dask_geopandas
    except ImportError as exc:
        raise MissingDependencyError("dask-geopandas", extra="dask", purpose=_PURPOSE) from exc
    return dask_geopandas


def _partition(part: gpd.GeoDataFrame | gpd.GeoSeries, areas: gpd.GeoDataFrame, area_id: str
               ) -> pd.Series:
    from trygg_geo.overlay import assign_to_areas

    return assign_to_areas(part, areas, area_id=area_id)


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
    dgpd = require_dask()
    from trygg_geo.overlay import _area_ids, _working

    _area_ids(areas, area_id)
    if isinstance(points, (str, Path)):
        ddf = dgpd.read_parquet(points)
    elif isinstance(points, (gpd.GeoDataFrame, gpd.GeoSeries)):
        parts = npartitions or max(1, -(-len(points) // 1_000_000))
        ddf = dgpd.from_geopandas(points, npartitions=parts)
    else:
        ddf = points
    if ddf.crs is None:
        _working(gpd.GeoSeries([], crs=None), areas, "points")  # raises the CRSError
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
