"""Point-in-area, in memory: the core shared by :mod:`trygg_geo.overlay` and the dask path.

:func:`trygg_geo.overlay.assign_to_areas` (public) and
:func:`trygg_geo._dask.assign_to_areas_dask` (one partition at a time) both call
:func:`points_in_areas`, and both check their input with :func:`area_ids` and
:func:`to_areas_crs`. Keeping these here, below both modules, means neither imports the other
for them: ``overlay -> _dask -> _overlay_core`` and ``overlay -> _overlay_core``, no cycle.
The rules (CRS, boundaries) are described in :mod:`trygg_geo.overlay`.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygg_geo._crs import require_crs, require_projected
from trygg_geo._errors import InputError, MissingColumnError

__all__ = ["CHUNK", "area_ids", "points_in_areas", "to_areas_crs"]

log = logging.getLogger(__name__)

#: points per chunk of the candidate query (bounds the memory of the candidate pairs)
CHUNK = 1_000_000


def to_areas_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, areas: gpd.GeoDataFrame, what: str
                ) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """``gdf`` in the areas' CRS, which must be projected; a layer without a CRS is refused.

    The checks and their wording are :mod:`trygg_geo._crs`'s (``require_projected``,
    ``require_crs``).
    """
    crs = require_projected(areas, what="the area layer")
    own = require_crs(gdf, what=f"the {what} layer")
    if not own.equals(crs):
        log.info("reprojecting the %s from %s to the areas' %s", what, own.to_string(),
                 crs.to_string())
        return gdf.to_crs(crs)
    return gdf


def area_ids(areas: gpd.GeoDataFrame, area_id: str) -> np.ndarray:
    """The area ids as an object array of strings; missing or repeated ids are refused."""
    if area_id not in areas:
        raise MissingColumnError(area_id, found=[str(c) for c in areas.columns])
    ids = areas[area_id].astype("string")
    if ids.isna().any() or ids.duplicated().any():
        dup = sorted(set(ids[ids.duplicated()].dropna().tolist()))
        raise InputError(
            f"area ids must be unique and filled in (repeated: {', '.join(dup) or '-'}; "
            f"missing: {int(ids.isna().sum())}).",
            column=area_id,
            fix="read the areas with trygg_geo.read_areas, which checks this.",
        )
    return ids.to_numpy(dtype=object)


def points_in_areas(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str = "area_id",
    chunk_size: int = CHUNK,
) -> pd.Series:
    """The area of each in-memory point; see :func:`trygg_geo.overlay.assign_to_areas`.

    Returns a string Series named ``area_id``, aligned to ``points.index``, NA outside every
    area; a point on a shared boundary goes to the area whose id sorts first.

    Examples
    --------
    >>> from shapely import box, Point
    >>> areas = gpd.GeoDataFrame(
    ...     {"area_id": ["b", "a"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=3006
    ... )
    >>> pts = gpd.GeoSeries([Point(1, 0.5), Point(5, 5)], crs=3006)
    >>> points_in_areas(pts, areas).tolist()
    ['a', <NA>]
    """
    ids = area_ids(areas, area_id)
    pts = to_areas_crs(points, areas, "points")
    geoms = np.asarray(pts.geometry.values if isinstance(pts, gpd.GeoDataFrame) else pts.values)
    types = shapely.get_type_id(geoms)
    bad = (types != 0) & (types != -1) & ~shapely.is_empty(geoms)
    if bad.any():
        first = pts.index[np.flatnonzero(bad)[0]]
        raise InputError(
            f"assign_to_areas takes points; {int(bad.sum())} geometries are not points "
            f"(the first at index {first!r}).",
            fix="use trygg_geo.overlay.investments_by_area for lines and polygons, or "
            "take .representative_point() first.",
        )
    n, k = len(geoms), len(ids)
    rank = np.empty(k, dtype=np.int64)
    order = np.argsort(ids.astype(str), kind="stable")
    rank[order] = np.arange(k)
    polys = np.asarray(areas.geometry.values)
    shapely.prepare(polys)
    tree = areas.sindex
    best = np.full(n, k, dtype=np.int64)
    for start in range(0, n, max(1, chunk_size)):
        g = geoms[start:start + chunk_size]
        pi, ai = tree.query(g)
        if len(pi) == 0:
            continue
        xs, ys = shapely.get_x(g), shapely.get_y(g)
        o = np.argsort(ai, kind="stable")
        pi, ai = pi[o], ai[o]
        cuts = np.searchsorted(ai, np.arange(k + 1))
        hit = np.zeros(len(pi), dtype=bool)
        for a in np.flatnonzero(np.diff(cuts)):
            s, e = cuts[a], cuts[a + 1]
            hit[s:e] = shapely.intersects_xy(polys[a], xs[pi[s:e]], ys[pi[s:e]])
        sub = best[start:start + chunk_size]
        np.minimum.at(sub, pi[hit], rank[ai[hit]])
    sorted_ids = ids[order]
    found = best < k
    out = np.full(n, None, dtype=object)
    out[found] = sorted_ids[best[found]]
    res = pd.Series(pd.array(out, dtype="string"), index=points.index, name=area_id)
    log.debug("assigned %d of %d points to %d areas", int(found.sum()), n, k)
    return res
