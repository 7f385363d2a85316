"""Geometry by kind: turn a match into the geometry the intervention catalogue asks for.

A match (an address, a street, a span, a place, a point) becomes a point, a line or a polygon.

- ``point`` kinds (kamerabevakning, ...): the address point, the intersection, the place's
  representative point, the middle of a span, or the street's middle point (street level);
- ``line`` kinds (belysning): the street or footway segment around the address (the kind's
  radius either side), the span between two numbers or two cross streets, the whole street
  (street level), or the paths inside a named park;
- ``polygon`` kinds (slyröjning, utemiljö): the named park or green area, or else a buffer of the
  kind's radius around the point or line (flagged ``buffered``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, substring

from trygg_geo.interventions import get_kind

__all__ = ["Target", "build_geometry", "nearest_part", "span_on_line"]

_SNAP_M = 50.0


@dataclass
class Target:
    """What a row matched, before geometry is chosen.

    ``what`` is one of ``address``, ``range``, ``street``, ``intersection``, ``between``,
    ``place``, ``point``, ``geometry``.
    """

    what: str
    addr: tuple[int, ...] = ()
    street: int | None = None
    point: tuple[float, float] | None = None
    line: BaseGeometry | None = None
    place: int | None = None
    geometry: BaseGeometry | None = None
    near: tuple[float, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def nearest_part(geom: BaseGeometry, pt: Point) -> LineString:
    """The LineString of ``geom`` (a (Multi)LineString) nearest to ``pt``."""
    if isinstance(geom, LineString):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, LineString)]
    if not parts:
        raise ValueError("no line")
    d = shapely.distance(np.array(parts, dtype=object), pt)
    return parts[int(np.argmin(d))]


def span_on_line(geom: BaseGeometry, a: Point, b: Point) -> BaseGeometry:
    """The piece of a street between the points nearest to ``a`` and ``b``."""
    line = nearest_part(geom, Point((a.x + b.x) / 2, (a.y + b.y) / 2))
    da, db = line.project(a), line.project(b)
    lo, hi = min(da, db), max(da, db)
    if hi - lo < 1.0:
        return line.interpolate(lo)
    return substring(line, lo, hi)


def _around(geom: BaseGeometry, pt: Point, radius: float) -> BaseGeometry:
    line = nearest_part(geom, pt)
    d = line.project(pt)
    return substring(line, max(0.0, d - radius), min(line.length, d + radius))


def _street_mid(geom: BaseGeometry, near: tuple[float, float] | None) -> Point:
    if near is not None:
        p = Point(near)
        line = nearest_part(geom, p)
        return line.interpolate(line.project(p))
    c = geom.centroid
    line = nearest_part(geom, c)
    return line.interpolate(line.project(c))


def build_geometry(  # noqa: C901 - predates the gate; split planned (issue 10)
    target: Target, kind_id: str, index: Any, places: Any
) -> tuple[BaseGeometry, list[str]]:
    """The geometry for one match and kind, with any flags it adds.

    Parameters
    ----------
    target
        The match.
    kind_id
        Catalogue id of the row's kind.
    index
        The gazetteer's :class:`~trygg_geo.geocode.gazetteer._Index`.
    places
        The gazetteer's place geometries (array).
    """
    kind = get_kind(kind_id)
    shape = kind.geometry
    radius = kind.radius_m
    flags: list[str] = []
    sgeom = index.street_geom
    w = target.what

    if w == "geometry":
        return target.geometry, flags

    # the base: a point, a line or a polygon
    point: Point | None = None
    line: BaseGeometry | None = None
    poly: BaseGeometry | None = None
    street_line = sgeom[target.street] if target.street is not None else None
    if w == "address":
        i = target.addr[0]
        point = Point(index.addr_x[i], index.addr_y[i])
    elif w == "range":
        i, j = target.addr[0], target.addr[1]
        pa = Point(index.addr_x[i], index.addr_y[i])
        pb = Point(index.addr_x[j], index.addr_y[j])
        if street_line is not None:
            line = span_on_line(street_line, pa, pb)
            if line.geom_type == "Point":
                point, line = line, None
        if line is None:
            line = LineString([pa, pb]) if pa.distance(pb) > 1 else None
            point = point or Point((pa.x + pb.x) / 2, (pa.y + pb.y) / 2)
        if line is not None and point is None:
            point = line.interpolate(0.5, normalized=True)
    elif w == "street":
        if street_line is None:
            raise ValueError("street without geometry")
        line = street_line
        point = _street_mid(street_line, target.near)
    elif w == "intersection":
        point = Point(target.point)
    elif w == "between":
        if target.line is None:
            raise ValueError("span without a line")
        line = target.line
        point = line.interpolate(0.5, normalized=True) if line.geom_type != "Point" else line
    elif w == "place":
        g = places[target.place]
        if g.geom_type in ("Polygon", "MultiPolygon"):
            poly = g
            point = g.representative_point()
        else:
            point = g if g.geom_type == "Point" else g.representative_point()
    elif w == "point":
        point = Point(target.point)
    else:  # pragma: no cover - programming error
        raise ValueError(w)

    if point is None:  # pragma: no cover - every branch above sets it
        raise ValueError("no point")
    if shape == "point":
        return point, flags
    if shape == "polygon":
        if poly is not None:
            return poly, flags
        flags.append("buffered")
        base = line if line is not None else point
        return base.buffer(radius), flags
    # line kinds
    if line is not None:
        return line, flags
    if poly is not None:
        inside = _lines_within(poly, index)
        if inside is not None:
            return inside, flags
        return poly.boundary, flags
    # a point only: take the street around it
    if w == "address" and street_line is not None:
        return _around(street_line, point, radius), flags
    if w == "intersection" and street_line is not None:
        return _around(street_line, point, radius), flags
    snapped = _snap_to_street(point, index, radius)
    if snapped is not None:
        flags.append("snapped_to_street")
        return snapped, flags
    flags.append("point_for_line")
    return point, flags


def _lines_within(poly: BaseGeometry, index: Any) -> BaseGeometry | None:
    if index.lines_tree is None:
        return None
    hits = index.lines_tree.query(poly, predicate="intersects")
    if not len(hits):
        return None
    clipped = shapely.intersection(index.lines[hits], poly)
    parts = []
    for g in clipped:
        if g is None or g.is_empty:
            continue
        if g.geom_type == "LineString":
            parts.append(g)
        elif g.geom_type in ("MultiLineString", "GeometryCollection"):
            parts.extend(p for p in g.geoms if p.geom_type == "LineString")
    if not parts:
        return None
    merged = shapely.line_merge(MultiLineString(parts))
    return merged if merged.length > 1 else None


def _snap_to_street(point: Point, index: Any, radius: float) -> BaseGeometry | None:
    if index.street_tree is None:
        return None
    hit = index.street_tree.query_nearest(point, max_distance=_SNAP_M)
    if not len(hit):
        return None
    g = index.street_geom[index.street_tree_ids[int(hit[0])]]
    return _around(g, point, radius)


def between_line(a_geom: BaseGeometry, b_geom: BaseGeometry, subject: BaseGeometry | None,
                 index: Any, *, tolerance: float = 25.0) -> tuple[BaseGeometry | None, list[str]]:
    """The span of ``subject`` (or of a path) between streets A and B.

    With a named subject street, the piece of it between its meeting points with A and B.
    Without one ("gångvägen mellan A och B"), the shortest path line that comes within
    ``tolerance`` metres of both A and B, cut to the piece between them; failing that, the
    straight line between the closest points of A and B (flagged ``between_straight``).
    """
    flags: list[str] = []
    if subject is not None:
        pa = nearest_points(subject, a_geom)[0]
        pb = nearest_points(subject, b_geom)[0]
        return span_on_line(subject, pa, pb), flags
    best: BaseGeometry | None = None
    for tree, geoms in ((index.path_tree, index.path_geom), (index.lines_tree, index.lines)):
        if tree is None:
            continue
        near_a = set(tree.query(a_geom, predicate="dwithin", distance=tolerance).tolist())
        near_b = set(tree.query(b_geom, predicate="dwithin", distance=tolerance).tolist())
        both = sorted(near_a & near_b)
        cands = []
        for i in both:
            g = geoms[i]
            if g.equals(a_geom) or g.equals(b_geom):
                continue
            pa = nearest_points(g, a_geom)[0]
            pb = nearest_points(g, b_geom)[0]
            try:
                span = span_on_line(g, pa, pb)
            except ValueError:
                continue
            if span.geom_type == "LineString" and span.length > 1:
                cands.append(span)
        if cands:
            best = min(cands, key=lambda s: s.length)
            break
    if best is not None:
        return best, flags
    pa, pb = nearest_points(a_geom, b_geom)
    if pa.distance(pb) > 1:
        flags.append("between_straight")
        return LineString([pa, pb]), flags
    return None, flags
