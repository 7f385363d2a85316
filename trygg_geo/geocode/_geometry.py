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

from collections.abc import Callable
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


def nearest_part(geom: BaseGeometry, pt: Point) -> LineString | None:
    """The LineString of ``geom`` (a (Multi)LineString) nearest to ``pt``; None without one."""
    if isinstance(geom, LineString):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, LineString)]
    if not parts:
        return None
    d = shapely.distance(np.array(parts, dtype=object), pt)
    return parts[int(np.argmin(d))]


def span_on_line(geom: BaseGeometry, a: Point, b: Point) -> BaseGeometry | None:
    """The piece of a street between the points nearest to ``a`` and ``b``.

    A point when the two are less than a metre apart along the street; None when ``geom`` has
    no line.

    Examples
    --------
    >>> from shapely.geometry import LineString, Point
    >>> span_on_line(LineString([(0, 0), (100, 0)]), Point(20, 5), Point(70, -5)).wkt
    'LINESTRING (20 0, 70 0)'
    >>> span_on_line(Point(0, 0), Point(1, 1), Point(2, 2)) is None
    True
    """
    line = nearest_part(geom, Point((a.x + b.x) / 2, (a.y + b.y) / 2))
    if line is None:
        return None
    da, db = line.project(a), line.project(b)
    lo, hi = min(da, db), max(da, db)
    if hi - lo < 1.0:
        return line.interpolate(lo)
    return substring(line, lo, hi)


def _around(geom: BaseGeometry, pt: Point, radius: float) -> BaseGeometry | None:
    """The piece of ``geom`` within ``radius`` either side of ``pt``; None without a line."""
    line = nearest_part(geom, pt)
    if line is None:
        return None
    d = line.project(pt)
    return substring(line, max(0.0, d - radius), min(line.length, d + radius))


def _street_mid(geom: BaseGeometry, near: tuple[float, float] | None) -> Point | None:
    """The point of a street nearest to ``near`` (or to its centroid); None without a line."""
    p = Point(near) if near is not None else geom.centroid
    line = nearest_part(geom, p)
    if line is None:
        return None
    return line.interpolate(line.project(p))


@dataclass
class _Base:
    """The matched geometry before the kind chooses: always a point, maybe a line or polygon."""

    point: Point
    line: BaseGeometry | None = None
    poly: BaseGeometry | None = None
    #: the matched street's line, when the match names a street
    street_line: BaseGeometry | None = None


def _address_base(t: Target, index: Any, places: Any, street: BaseGeometry | None) -> _Base:
    i = t.addr[0]
    return _Base(Point(index.addr_x[i], index.addr_y[i]), street_line=street)


def _range_base(t: Target, index: Any, places: Any, street: BaseGeometry | None) -> _Base | None:
    i, j = t.addr[0], t.addr[1]
    pa = Point(index.addr_x[i], index.addr_y[i])
    pb = Point(index.addr_x[j], index.addr_y[j])
    point: Point | None = None
    line: BaseGeometry | None = None
    if street is not None:
        line = span_on_line(street, pa, pb)
        if line is None:  # the street has no line part
            return None
        if line.geom_type == "Point":
            point, line = line, None
    if line is None:
        line = LineString([pa, pb]) if pa.distance(pb) > 1 else None
        point = point or Point((pa.x + pb.x) / 2, (pa.y + pb.y) / 2)
    else:  # a span along the street: its middle
        point = line.interpolate(0.5, normalized=True)
    return _Base(point, line=line, street_line=street)


def _street_base(t: Target, index: Any, places: Any, street: BaseGeometry | None) -> _Base | None:
    if street is None:
        return None
    point = _street_mid(street, t.near)
    if point is None:
        return None
    return _Base(point, line=street, street_line=street)


def _point_base(t: Target, index: Any, places: Any, street: BaseGeometry | None) -> _Base | None:
    if t.point is None:
        return None
    return _Base(Point(t.point), street_line=street)


def _between_base(t: Target, index: Any, places: Any, street: BaseGeometry | None) -> _Base | None:
    line = t.line
    if line is None:
        return None
    point = line.interpolate(0.5, normalized=True) if line.geom_type != "Point" else line
    return _Base(point, line=line, street_line=street)


def _place_base(t: Target, index: Any, places: Any, street: BaseGeometry | None) -> _Base:
    g = places[t.place]
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return _Base(g.representative_point(), poly=g, street_line=street)
    return _Base(g if g.geom_type == "Point" else g.representative_point(), street_line=street)


_BASES: dict[str, Callable[[Target, Any, Any, BaseGeometry | None], _Base | None]] = {
    "address": _address_base,
    "range": _range_base,
    "street": _street_base,
    "intersection": _point_base,
    "between": _between_base,
    "place": _place_base,
    "point": _point_base,
}


def build_geometry(
    target: Target, kind_id: str, index: Any, places: Any
) -> tuple[BaseGeometry, list[str]] | None:
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

    Returns
    -------
    tuple of (BaseGeometry, list of str) or None
        The geometry and its flags; None when the match has no usable geometry (a street
        without a line, a span without one), so that the row goes unplaced.

    Raises
    ------
    ValueError
        When ``target.what`` is not one of the kinds of match (a programming error).
    """
    if target.what == "geometry":
        return None if target.geometry is None else (target.geometry, [])
    make = _BASES.get(target.what)
    if make is None:
        raise ValueError(
            f"unknown match target {target.what!r}; expected 'geometry' or one of "
            f"{', '.join(_BASES)}."
        )
    street = index.street_geom[target.street] if target.street is not None else None
    base = make(target, index, places, street)
    if base is None:
        return None
    kind = get_kind(kind_id)
    if kind.geometry == "point":
        return base.point, []
    if kind.geometry == "polygon":
        if base.poly is not None:
            return base.poly, []
        return (base.line if base.line is not None else base.point).buffer(kind.radius_m), [
            "buffered"
        ]
    return _line_for(base, target.what, kind.radius_m, index)


def _line_for(
    base: _Base, what: str, radius: float, index: Any
) -> tuple[BaseGeometry, list[str]] | None:
    """The geometry of a line kind: the matched line, the paths in a place, or a street piece."""
    if base.line is not None:
        return base.line, []
    if base.poly is not None:
        inside = _lines_within(base.poly, index)
        return (inside if inside is not None else base.poly.boundary), []
    # a point only: take the street around it
    if what in ("address", "intersection") and base.street_line is not None:
        around = _around(base.street_line, base.point, radius)
        return None if around is None else (around, [])
    street = _nearest_street(base.point, index)
    if street is not None:
        around = _around(street, base.point, radius)
        return None if around is None else (around, ["snapped_to_street"])
    return base.point, ["point_for_line"]


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


def _nearest_street(point: Point, index: Any) -> BaseGeometry | None:
    """The line of the street nearest to ``point`` within the snapping distance, or None."""
    if index.street_tree is None:
        return None
    hit = index.street_tree.query_nearest(point, max_distance=_SNAP_M)
    if not len(hit):
        return None
    return index.street_geom[index.street_tree_ids[int(hit[0])]]


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
        return span_on_line(subject, pa, pb), flags  # None when the subject has no line
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
            span = span_on_line(g, pa, pb)
            if span is not None and span.geom_type == "LineString" and span.length > 1:
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
