"""Coordinates given in register rows: CRS detection, swapped x/y, extent checks.

The order of coordinates is fixed: ``x`` is easting or longitude, ``y`` northing or latitude.
A row's coordinates are tried in its declared CRS, then swapped, then (when no CRS is declared
or the declared one does not fit) in the CRSs used in Sweden: WGS84, SWEREF 99 TM, the 12
SWEREF 99 local zones and RT90 2.5 gon V. The first interpretation that falls inside the
extent wins and is flagged (``swapped_xy``, ``crs_detected``, ``crs_mismatch``). Values that
fall nowhere in the extent but somewhere in Sweden are placed and flagged ``outside_extent``;
values that fit nothing are ``impossible_coordinates``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError as CRSErr
from shapely.geometry.base import BaseGeometry

from trygg_geo._crs import CANDIDATE_CRS, _in_sweden, _plausible_range, _transformer

__all__ = ["CoordinateFix", "resolve_coordinates"]


@dataclass(frozen=True)
class CoordinateFix:
    """The interpretation chosen for each row (arrays aligned with the input).

    Attributes
    ----------
    x, y
        Coordinates in the working CRS (NaN where impossible).
    ok
        True where an interpretation was found.
    flags
        Per row, a list of flags.
    score
        Per row, 100 (declared CRS, inside), 90 (swapped or detected), 50 (outside extent).
    src, swapped
        Per row, the CRS chosen (``""`` when none) and whether x and y were swapped.
    """

    x: np.ndarray
    y: np.ndarray
    ok: np.ndarray
    flags: list[list[str]]
    score: np.ndarray
    src: np.ndarray
    swapped: np.ndarray


def resolve_coordinates(  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
    x: np.ndarray,
    y: np.ndarray,
    declared: list[str | None],
    *,
    working_crs: str,
    extent: BaseGeometry | None,
) -> CoordinateFix:
    """Choose, per row, the CRS and order that put the point where it belongs.

    Parameters
    ----------
    x, y
        Floats as written (x = easting or longitude). NaN where missing.
    declared
        Per row, the declared CRS as an ``EPSG:`` label (the geocoder reads it with
        :func:`trygg_geo._crs.parse_optional_crs`) or None.
    working_crs
        The CRS to return coordinates in.
    extent
        The area (in ``working_crs``) inside which a point is accepted without a flag.
    """
    n = len(x)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out_x = np.full(n, np.nan)
    out_y = np.full(n, np.nan)
    ok = np.zeros(n, dtype=bool)
    score = np.zeros(n)
    flags: list[list[str]] = [[] for _ in range(n)]
    src_out = np.full(n, "", dtype=object)
    swapped_out = np.zeros(n, dtype=bool)
    finite = np.isfinite(x) & np.isfinite(y) & ~((x == 0) & (y == 0))
    if not finite.any():
        return CoordinateFix(out_x, out_y, ok, flags, score, src_out, swapped_out)
    has_extent = extent is not None and not extent.is_empty
    if has_extent:
        shapely.prepare(extent)
    decl = np.array([d or "" for d in declared], dtype=object)

    def to_working(src: str, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if CRS.from_user_input(src) == CRS.from_user_input(working_crs):
            return xs, ys
        with np.errstate(all="ignore"):
            return _transformer(src, working_crs).transform(xs, ys)

    def inside(wx: np.ndarray, wy: np.ndarray) -> np.ndarray:
        good = np.isfinite(wx) & np.isfinite(wy)
        if not has_extent:
            return good
        res = np.zeros(len(wx), dtype=bool)
        res[good] = shapely.contains_xy(extent, wx[good], wy[good])
        return res

    # (src, swapped) in order of preference; declared first per row
    todo = finite.copy()
    pass_order: list[
        tuple[str, bool, str]
    ] = []  # (crs, swapped, which) which in {"declared", "any"}
    pass_order.append(("", False, "declared"))
    pass_order.append(("", True, "declared"))
    for c in [working_crs, *[c for c in CANDIDATE_CRS if c != working_crs]]:
        pass_order.append((c, False, "any"))
        pass_order.append((c, True, "any"))
    fallback: list[tuple[str, bool, str]] = list(pass_order)
    for require_inside in (True, False):
        for src, swapped, which in (pass_order if require_inside else fallback):
            if not todo.any():
                break
            if which == "declared":
                groups = {d for d in decl[todo] if d}
            else:
                groups = {src}
            for g in groups:
                rows = todo & (decl == g) if which == "declared" else todo.copy()
                if not rows.any():
                    continue
                try:
                    CRS.from_user_input(g)
                except (CRSErr, TypeError, ValueError):  # an unreadable declared CRS: try others
                    continue
                xs, ys = (y[rows], x[rows]) if swapped else (x[rows], y[rows])
                plaus = _plausible_range(g, xs, ys)
                wx, wy = to_working(g, xs, ys)
                if require_inside:
                    hit = plaus & inside(np.asarray(wx, float), np.asarray(wy, float))
                else:
                    hit = plaus & _in_sweden(g, xs, ys) & np.isfinite(wx) & np.isfinite(wy)
                idx = np.flatnonzero(rows)[hit]
                if not len(idx):
                    continue
                out_x[idx] = np.asarray(wx)[hit]
                out_y[idx] = np.asarray(wy)[hit]
                ok[idx] = True
                todo[idx] = False
                src_out[idx] = g
                swapped_out[idx] = swapped
                for i in idx:
                    f = flags[i]
                    s = 100.0
                    if swapped:
                        f.append("swapped_xy")
                        s = 90.0
                    if which == "any":
                        f.append("crs_mismatch" if decl[i] else "crs_detected")
                        s = min(s, 90.0 if not decl[i] else 80.0)
                    if not require_inside:
                        f.append("outside_extent")
                        s = 50.0
                    score[i] = s
    return CoordinateFix(out_x, out_y, ok, flags, score, src_out, swapped_out)
