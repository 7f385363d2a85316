"""CRS checks across layers: whether the points fall in the areas, and if not, why.

The classic mistakes with Swedish data are lat/lon written in the wrong order, WGS84 degrees
declared as SWEREF 99, SWEREF 99 TM declared as a local zone (18 00 in Stockholm) or the other
way round, and x/y swapped. :func:`require_inside` refuses a layer of which fewer than half
the points fall in any area, and names the interpretation of the numbers that would put
them inside.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from geopandas import GeoDataFrame, GeoSeries

from trygg_geo._errors import CRSError

__all__ = ["CANDIDATE_CRS", "crs_hint", "require_inside", "share_inside"]

#: Interpretations tried for the hint: WGS84, SWEREF 99 TM and the SWEREF 99 local zones.
CANDIDATE_CRS = ("EPSG:4326", "EPSG:3006", *(f"EPSG:{c}" for c in range(3007, 3019)))


def share_inside(points: GeoSeries, areas: GeoDataFrame) -> float:
    """The share of ``points`` (any CRS) that fall in some area (touching counts)."""
    pts = points[~(points.is_empty | points.isna())]
    if not len(pts):
        return 1.0
    pts = pts.to_crs(areas.crs) if pts.crs is not None and pts.crs != areas.crs else pts
    tree = shapely.STRtree(np.asarray(areas.geometry.values))
    hit = tree.query(np.asarray(pts.values), predicate="intersects")
    return float(len(np.unique(hit[0])) / len(pts))


def crs_hint(points: GeoSeries, areas: GeoDataFrame, *, max_points: int = 2000) -> str:
    """A sentence on which reading of the numbers puts most points in the areas ("" if none)."""
    pts = points[~(points.is_empty | points.isna())]
    if not len(pts) or pts.crs is None:
        return ""
    pts = pts.iloc[:: max(1, len(pts) // max_points)]
    x, y = shapely.get_x(pts.values), shapely.get_y(pts.values)
    declared = pyproj.CRS.from_user_input(pts.crs)
    best: tuple[float, str] = (0.0, "")
    for swapped in (False, True):
        xs, ys = (y, x) if swapped else (x, y)
        for code in CANDIDATE_CRS:
            crs = pyproj.CRS.from_user_input(code)
            if crs == declared and not swapped:
                continue
            with np.errstate(all="ignore"):
                try:
                    cand = GeoSeries.from_xy(xs, ys, crs=crs).to_crs(areas.crs)
                except Exception:  # noqa: BLE001 - any reprojection failure means "not this one"
                    continue
            ok = np.isfinite(shapely.get_x(cand.values)) & np.isfinite(shapely.get_y(cand.values))
            if not ok.any():
                continue
            s = share_inside(cand[ok], areas) * ok.mean()
            if s > best[0]:
                what = f"{crs.name} ({code})" + (" with x and y swapped" if swapped else "")
                best = (s, what)
    if best[0] < 0.5:
        return ""
    return (f"Read as {best[1]}, {100 * best[0]:.0f} % of them would fall in the areas "
            f"(declared: {declared.name}).")


def require_inside(points: GeoSeries, areas: GeoDataFrame, *, what: str, file: str | None,
                   key: str, minimum: float = 0.5) -> float:
    """Refuse when fewer than ``minimum`` of ``points`` fall in any area.

    Raises
    ------
    CRSError
        Naming the file, the share inside, the bounds of both layers in WGS84, and the reading
        of the numbers that would fit (swapped axes, another CRS), with the config key to fix.
    """
    share = share_inside(points, areas)
    if share >= minimum:
        return share
    pts = points[~(points.is_empty | points.isna())]
    hint = crs_hint(points, areas)

    def bounds(g: GeoSeries | GeoDataFrame) -> str:
        b = g.to_crs("EPSG:4326").total_bounds
        return f"lon {b[0]:.3f}..{b[2]:.3f}, lat {b[1]:.3f}..{b[3]:.3f}"

    where = f"'{file}': " if file else ""
    raise CRSError(
        f"{where}only {100 * share:.0f} % of the {len(pts)} {what} fall in any area "
        f"({what}: {bounds(pts)}; areas: {bounds(areas)}). {hint} "
        f"Fix: check the coordinate system ({key}) and the order of the coordinate columns, "
        "or use an area layer that covers the data."
    )
