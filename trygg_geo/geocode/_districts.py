"""The register's district column against the placed geometry.

A register row often names the district an investment belongs to. The geometry alone can be
ambiguous (a street named without a house number runs through several districts), and the
district cell can be wrong. :func:`reconcile_districts` uses the one to check the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from trygg_geo.areas import match_area_keys

__all__ = ["fit_to_districts", "reconcile_districts"]

_FLAG_SEP = ","


def _area_positions(
    district: pd.Series, areas: gpd.GeoDataFrame, aliases: Mapping[str, str] | None = None
) -> np.ndarray:
    """Per placed row, the position in ``areas`` of the district it names; -1 for none.

    A district cell is matched by :func:`trygg_geo.areas.match_area_keys`, the one rule for
    area keys: id, then name (case, diacritics and punctuation do not matter), then aliases
    ("Vasastan" -> Vasastaden).
    """
    ids = match_area_keys(district.reset_index(drop=True), areas, aliases=aliases)
    where = {str(a): k for k, a in enumerate(areas["area_id"].astype(str))}
    return np.array([-1 if pd.isna(a) else where.get(str(a), -1) for a in ids], dtype=np.int64)


def _same_kind(part_types: np.ndarray, geom_types: np.ndarray) -> np.ndarray:
    """Whether each clipped part is still the kind of geometry it was cut from.

    A line stays a line (or a multi-line), a polygon a polygon; a street that only touches the
    district at a point gives a point, which is not kept.
    """
    base = np.char.replace(geom_types.astype(str), "Multi", "")
    return np.array(
        [p == g or b in p for p, g, b in zip(part_types, geom_types, base, strict=True)],
        dtype=bool,
    )


def reconcile_districts(
    placed: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    aliases: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Use the register's district column where the geometry alone is ambiguous.

    A street-level match (``geocode_method == "street"``: "Almstigen", no house number) gives
    the whole street, which may run through several districts. When the row names a district
    that is one of the areas and the street crosses its boundary, the geometry is clipped to
    that district (flag ``district_from_register``). Any placed row whose geometry does not touch
    the district it names is flagged ``district_mismatch``; it stays placed, since the
    register's district may be the wrong one. Rows without a district, naming no known area,
    or without a geometry are left as they are.

    Parameters
    ----------
    placed
        Placed investments (:attr:`GeocodeResult.placed <trygg_geo.geocode.GeocodeResult>`):
        ``district``, ``geocode_method`` and ``geocode_flag`` (comma-separated) are read; a
        frame without ``district`` is returned as it is.
    areas
        The study areas, with ``area_id`` and ``name``. A district cell is matched with
        :func:`trygg_geo.areas.match_area_keys` (id, then name ignoring case, diacritics and
        hyphens, then aliases such as "Vasastan" -> Vasastaden). Reprojected to the CRS of
        ``placed`` when both have a CRS and they differ.
    aliases
        Extra alias -> area name or id (``[survey] aliases``), on top of
        :data:`trygg_geo.areas.AREA_ALIASES`.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``placed``, same rows in the same order, with clipped geometries and the
        flags added to ``geocode_flag`` (a string column).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point, box
    >>> areas = gpd.GeoDataFrame({"area_id": ["A", "B"], "name": ["Väster", "Öster"]},
    ...                          geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)],
    ...                          crs="EPSG:3006")
    >>> placed = gpd.GeoDataFrame(
    ...     {"district": ["väster", "Öster"], "geocode_method": ["street", "exact"],
    ...      "geocode_flag": ["street_level", ""]},
    ...     geometry=[LineString([(50, 50), (150, 50)]), Point(50, 50)], crs="EPSG:3006")
    >>> out = reconcile_districts(placed, areas)
    >>> out["geocode_flag"].tolist()
    ['street_level,district_from_register', 'district_mismatch']
    >>> out.geometry.iloc[0].wkt
    'LINESTRING (50 50, 100 50)'
    """
    if "district" not in placed.columns or placed.empty:
        return placed
    if areas.crs is not None and placed.crs is not None and not areas.crs.equals(placed.crs):
        areas = areas.to_crs(placed.crs)
    out = placed.copy()
    if "geocode_flag" in out.columns:
        flags = out["geocode_flag"].astype("string").fillna("")
    else:
        flags = pd.Series("", index=out.index, dtype="string")
    geoms = out.geometry.to_numpy()
    pos = _area_positions(out["district"], areas, aliases)
    rows = np.flatnonzero((pos >= 0) & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if not len(rows):
        out["geocode_flag"] = flags
        return out
    g = geoms[rows]
    a = areas.geometry.to_numpy()[pos[rows]]
    meets = shapely.intersects(g, a)
    method = (
        out["geocode_method"].to_numpy(dtype=object)[rows]
        if "geocode_method" in out.columns
        else np.full(len(rows), None, dtype=object)
    )
    inside = np.array([_lies_in(x, y) for x, y in zip(g, a, strict=True)], dtype=bool)
    crossing = (method == "street") & ~inside & meets
    add = np.where(meets, "", "district_mismatch").astype(object)
    if crossing.any():
        parts = shapely.intersection(g[crossing], a[crossing])
        keep = ~shapely.is_empty(parts) & _same_kind(
            np.array([p.geom_type for p in parts], dtype=object),
            np.array([x.geom_type for x in g[crossing]], dtype=object),
        )
        geoms[rows[crossing][keep]] = parts[keep]
        add[np.flatnonzero(crossing)[keep]] = "district_from_register"
    text = flags.to_numpy(dtype=object)
    for j, f in zip(rows.tolist(), add.tolist(), strict=True):
        if f and f not in str(text[j]).split(_FLAG_SEP):  # a flag once, when run twice
            text[j] = f"{text[j]}{_FLAG_SEP}{f}" if text[j] else f
    out["geocode_flag"] = pd.Series(text, index=out.index, dtype="string")
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    return out


# --------------------------------------------------------------------------- address points first

#: A line or polygon kept in a district stays this far (metres) inside its edge, so that no
#: stretch along the border, and no rounding sliver, reaches the neighbour: the design counts
#: any positive length or area there as a share of the investment.
_EDGE_M = 0.01
#: A line counts as inside its district when no more than this (metres) of it lies in the
#: edge band or outside: its two ends may touch the border.
_LINE_TOLERANCE = 4 * _EDGE_M
#: A polygon counts as inside when no more than this (square metres) of it lies outside.
_AREA_TOLERANCE = 1e-3
#: How far (metres) a street piece may be moved sideways, in these steps, to reach the district
#: it belongs to when the street itself runs just outside it (a border street whose centre line
#: the district layer gives to the neighbour).
_OFFSET_STEPS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
#: A street without an address point is moved into the district the register names only when
#: it runs this close (metres) to it: a border street, not a street elsewhere.
_BORDER_M = 16.0


def _measure(g: BaseGeometry) -> float:
    """Length of a line, area of a polygon, 0 for a point."""
    dim = shapely.get_dimensions(g)
    return float(g.length if dim == 1 else g.area if dim == 2 else 0.0)


def _inner(area: BaseGeometry, g: BaseGeometry) -> BaseGeometry:
    """``area`` around ``g``, shrunk by :data:`_EDGE_M` (only the piece near ``g`` is buffered)."""
    minx, miny, maxx, maxy = g.bounds
    pad = 2 * _EDGE_M + 1.0
    local = shapely.intersection(area, shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad))
    return local.buffer(-_EDGE_M)


def _kept_part(g: BaseGeometry, area: BaseGeometry) -> BaseGeometry | None:
    """The part of ``g`` inside ``area`` (off its edge) that is still ``g``'s kind; or None."""
    part = shapely.intersection(g, _inner(area, g))
    if part.is_empty:
        return None
    dim = shapely.get_dimensions(g)
    if part.geom_type == "GeometryCollection":
        pieces = [p for p in part.geoms if shapely.get_dimensions(p) == dim]
        if not pieces:
            return None
        part = shapely.line_merge(shapely.union_all(pieces)) if dim == 1 else shapely.union_all(
            pieces)
    if part.is_empty or shapely.get_dimensions(part) != dim or _measure(part) <= 0:
        return None
    return part


def _lies_in(g: BaseGeometry, area: BaseGeometry) -> bool:
    """Whether ``g`` lies inside ``area``.

    A point in its interior, a line off its edge (up to :data:`_LINE_TOLERANCE`), a polygon
    within it (up to :data:`_AREA_TOLERANCE`).
    """
    dim = shapely.get_dimensions(g)
    if dim == 0:
        return bool(area.contains(g))
    if dim == 1:
        return float(shapely.difference(g, _inner(area, g)).length) <= _LINE_TOLERANCE
    return float(shapely.difference(g, area).area) <= _AREA_TOLERANCE


def _towards(line: BaseGeometry, anchor: Point, distance: float) -> BaseGeometry | None:
    """``line`` (each part of a multi-line) moved ``distance`` metres towards ``anchor``.

    None when no part can be moved (``anchor`` on the line).
    """
    moved: list[BaseGeometry] = []
    for part in getattr(line, "geoms", [line]):
        if not isinstance(part, LineString) or part.length <= 0:
            continue
        s = part.project(anchor)
        a = part.interpolate(max(0.0, s - 0.5))
        b = part.interpolate(min(part.length, s + 0.5))
        cross = (b.x - a.x) * (anchor.y - a.y) - (b.y - a.y) * (anchor.x - a.x)
        if cross == 0:
            continue
        m = shapely.offset_curve(part, distance if cross > 0 else -distance)
        if not m.is_empty:
            moved.append(m)
    if not moved:
        return None
    return moved[0] if len(moved) == 1 else shapely.line_merge(shapely.union_all(moved))


def _line_in(g: BaseGeometry, area: BaseGeometry, anchor: Point,
             reach: float) -> BaseGeometry | None:
    """A street line in ``area``: clipped to it, or moved towards ``anchor`` and clipped.

    The first of: the line clipped to the district, then the line moved 1, 2, 4, ... metres
    (up to ``reach``) towards ``anchor`` and clipped, that keeps 90 % of its length; failing
    that, the longest of them; None when none reaches the district.
    """
    full = g.length
    steps = [d for d in _OFFSET_STEPS if d < reach] + ([reach] if reach > 0 else [])
    tries: list[BaseGeometry] = [g]
    tries += [m for m in (_towards(g, anchor, d) for d in steps) if m is not None]
    best: BaseGeometry | None = None
    for t in tries:
        part = _kept_part(t, area)
        if part is None:
            continue
        if part.length >= 0.9 * full:
            return part
        if best is None or part.length > best.length:
            best = part
    return best if best is not None and best.length > 1.0 else None


def _in_address_district(
    g: BaseGeometry, area: BaseGeometry, anchors: tuple[Point, ...]
) -> BaseGeometry | None:
    """``g`` made to lie in the district of its address point(s); None when it already does."""
    if _lies_in(g, area):
        return None
    dim = shapely.get_dimensions(g)
    if dim == 0:  # a point kind placed off its address (the middle of a span): the address
        return min(anchors, key=g.distance)
    if dim == 1:
        return _line_in(g, area, anchors[0], g.distance(anchors[0]))
    return _kept_part(g, area)


def _border_line_in(g: BaseGeometry, area: BaseGeometry) -> BaseGeometry | None:
    """A street line in the district the register names, or None.

    Clipped to the district when it crosses into it; moved into it when it runs along the
    district's edge (within :data:`_BORDER_M`).
    """
    part = _kept_part(g, area)
    if part is not None and part.length > 1.0:  # a street crossing into the district
        return part
    gap = g.distance(area)
    if gap > _BORDER_M:
        return None
    side = shapely.ops.nearest_points(area, g)[0]
    if side.distance(g) == 0:  # the street runs along the district's edge: go to its inside
        side = area.representative_point()
    return _line_in(g, area, side, gap + _BORDER_M)


def _point_on_street_in(g: BaseGeometry, street: BaseGeometry | None,
                        area: BaseGeometry) -> BaseGeometry | None:
    """For a point on a street (street level): the nearest point of the street in ``area``."""
    if street is None or shapely.get_dimensions(street) != 1:
        return None
    part = _border_line_in(street, area)
    if part is None:
        return None
    p = shapely.ops.nearest_points(part, g)[0]
    if area.contains(p):
        return p
    pieces = list(getattr(part, "geoms", [part]))
    longest = max(pieces, key=lambda x: x.length)
    return longest.interpolate(0.5, normalized=True)


def _in_named_district(g: BaseGeometry, street: BaseGeometry | None,
                       area: BaseGeometry) -> BaseGeometry | None:
    """A street-level match crossing districts, cut to the one the register names; None to keep.

    Only a match that reaches the named district, or runs along its edge, is changed (one
    that does not is a ``district_mismatch`` for :func:`reconcile_districts`).
    """
    if _lies_in(g, area):
        return None
    dim = shapely.get_dimensions(g)
    if dim == 0:
        return _point_on_street_in(g, street, area)
    if dim == 1:
        return _border_line_in(g, area)
    return _kept_part(g, area) if g.intersects(area) else None


def _containing_area(points: list[Point], tree: shapely.STRtree) -> int:
    """Position of the one area holding all ``points``; -1 when none, or when they differ."""
    found: set[int] = set()
    for p in points:
        hits = tree.query(p, predicate="within")
        if not len(hits):
            return -1
        found.add(int(hits.min()))
    return found.pop() if len(found) == 1 else -1


def fit_to_districts(
    geoms: Sequence[BaseGeometry | None],
    areas: gpd.GeoDataFrame,
    *,
    anchors: Sequence[tuple[Point, ...]],
    streets: Sequence[BaseGeometry | None],
    district: pd.Series,
    aliases: Mapping[str, str] | None = None,
) -> tuple[list[BaseGeometry | None], list[list[str]]]:
    """Put each placed geometry in one district: its address point's, else the register's.

    Two rules, in this order:

    1. **An address point beats a street line.** A row matched to a gazetteer address point
       (``anchors``) belongs to the district holding that point. A line (the street piece of
       a lighting investment) or a buffered polygon that reaches out of it is clipped to it;
       a street piece that runs just outside it (a border street whose centre line belongs
       to the other district) is first moved towards the address, up to the point's distance
       from the street. Flag ``district_from_address_point``; ``district_mismatch`` as well
       when the register's district cell names another area.
    2. **On ties, the register decides.** A match on a street without an address point
       (``streets``: street level, a span of numbers in two districts, a stretch between two
       cross streets) that crosses into the district the register names is cut to it; a
       point on such a street moves to the nearest point of the street inside it. Flag
       ``district_from_register``.

    Other rows (a place, coordinates, a WKT geometry, rows naming no area) are left as they
    are.

    Parameters
    ----------
    geoms
        The placed geometries, in the CRS of ``areas``; None for rows without one.
    areas
        The study areas (``area_id`` and usually ``name``), in the CRS of ``geoms``.
    anchors
        Per row, the gazetteer address point(s) the row matched (one for an address, two for
        a span of numbers); ``()`` for none.
    streets
        Per row, the line of the street a street-derived match lies on; None for other rows.
    district
        Per row, the register's district cell, matched with
        :func:`trygg_geo.areas.match_area_keys` (id, name, aliases).
    aliases
        Extra alias -> area name or id, on top of :data:`trygg_geo.areas.AREA_ALIASES`.

    Returns
    -------
    tuple of (list, list of list of str)
        The geometries (changed ones replaced) and the flags to add to each row.

    Examples
    --------
    A lamp line on a border street, whose centre line lies in Norr; its address is in Syd:

    >>> import geopandas as gpd
    >>> import pandas as pd
    >>> from shapely.geometry import LineString, Point, box
    >>> areas = gpd.GeoDataFrame({"area_id": ["n", "s"], "name": ["Norr", "Syd"]},
    ...                          geometry=[box(0, 50, 200, 100), box(0, 0, 200, 50)])
    >>> street = LineString([(0, 51), (200, 51)])
    >>> geoms, flags = fit_to_districts(
    ...     [LineString([(50, 51), (150, 51)])], areas, anchors=[(Point(100, 40),)],
    ...     streets=[street], district=pd.Series(["Norr"]))
    >>> geoms[0].wkt, flags[0]
    ('LINESTRING (50 49, 150 49)', ['district_from_address_point', 'district_mismatch'])
    """
    area_geoms = areas.geometry.to_numpy()
    tree = shapely.STRtree(area_geoms)
    named = _area_positions(district, areas, aliases)
    out = list(geoms)
    flags: list[list[str]] = [[] for _ in out]
    for i, g in enumerate(out):
        if g is None or g.is_empty:
            continue
        home = _containing_area(list(anchors[i]), tree) if anchors[i] else -1
        if home >= 0:
            moved = _in_address_district(g, area_geoms[home], anchors[i])
            if moved is not None:
                out[i] = moved
                flags[i].append("district_from_address_point")
            if 0 <= named[i] != home:
                flags[i].append("district_mismatch")
        elif named[i] >= 0 and (streets[i] is not None or anchors[i]):
            moved = _in_named_district(g, streets[i], area_geoms[named[i]])
            if moved is not None:
                out[i] = moved
                flags[i].append("district_from_register")
    return out, flags
