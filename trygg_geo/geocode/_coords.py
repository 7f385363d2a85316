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
from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as CRSErr
from shapely.geometry.base import BaseGeometry

__all__ = [
    "SWEDEN_LONLAT",
    "CoordinateFix",
    "crs_hint",
    "diagnose_crs",
    "parse_crs",
    "resolve_coordinates",
]

#: Sweden's bounding box in lon/lat, with a margin.
SWEDEN_LONLAT = (10.0, 55.0, 24.5, 69.5)
_CANDIDATES = ["EPSG:4326", "EPSG:3006", *[f"EPSG:{c}" for c in range(3007, 3019)], "EPSG:3021"]
@lru_cache(maxsize=64)
def parse_crs(text: str) -> str | None:
    """A CRS as written in a register, as an ``EPSG:`` string.

    Reads ``3006``, ``EPSG:3011``, ``SWEREF 99 18 00``, ``WGS84``; None when it cannot be read.

    >>> parse_crs("SWEREF 99 18 00"), parse_crs("3006"), parse_crs("wgs84"), parse_crs("nonsense")
    ('EPSG:3011', 'EPSG:3006', 'EPSG:4326', None)
    """
    from trygg_geo.io import parse_crs as _parse  # one reader of CRS names for the package

    try:
        crs = _parse(text)
    except ValueError:
        return None
    if crs is None:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


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


def _in_sweden(src: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if src == "EPSG:4326":
        lon, lat = x, y
    else:
        with np.errstate(all="ignore"):
            lon, lat = _transformer(src, "EPSG:4326").transform(x, y)
    lo0, la0, lo1, la1 = SWEDEN_LONLAT
    return (
        np.isfinite(lon)
        & np.isfinite(lat)
        & (lon >= lo0)
        & (lon <= lo1)
        & (lat >= la0)
        & (lat <= la1)
    )


def _plausible_range(src: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cheap value-range checks so that, e.g., lon/lat numbers are not read as metres."""
    if src == "EPSG:4326":
        return (np.abs(x) <= 180) & (np.abs(y) <= 90)
    if src == "EPSG:3006":
        return (x > 200_000) & (x < 1_000_000) & (y > 6_000_000) & (y < 7_800_000)
    if src == "EPSG:3021":  # x is the easting (always_xy), as for SWEREF
        return (x > 1_100_000) & (x < 2_000_000) & (y > 6_000_000) & (y < 7_800_000)
    if src.startswith("EPSG:30") and 3007 <= int(src[5:]) <= 3018:
        return (x > 50_000) & (x < 300_000) & (y > 6_000_000) & (y < 7_800_000)
    return np.ones(len(x), dtype=bool)


def _crs_name(src: str) -> str:
    try:
        return f"{CRS.from_user_input(src).name} ({src})"
    except (CRSErr, TypeError, ValueError):
        return src


def _fits(src: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rows whose coordinates, read in ``src``, have plausible values and lie in Sweden."""
    try:
        CRS.from_user_input(src)
    except (CRSErr, TypeError, ValueError):
        return np.zeros(len(x), dtype=bool)
    with np.errstate(all="ignore"):
        return _plausible_range(src, x, y) & _in_sweden(src, x, y)


def crs_hint(x: np.ndarray, y: np.ndarray, declared: str | None) -> tuple[str, str | None, bool]:
    """What the coordinates of some rows look like, in words, for a message.

    Returns ``(sentence, likely CRS or None, swapped)``: whether most of the rows fit the
    declared CRS with x and y swapped, or fit another CRS used in Sweden (WGS84 lon/lat,
    SWEREF 99 TM, a SWEREF 99 local zone, RT90), with or without swapping.

    >>> hint = crs_hint(np.array([18.07]), np.array([59.33]), "EPSG:3006")
    >>> hint[0]
    'the numbers look like WGS 84 (EPSG:4326) coordinates, not SWEREF99 TM (EPSG:3006)'
    >>> hint[1]
    'EPSG:4326'
    >>> crs_hint(np.array([6580000.0]), np.array([674000.0]), "EPSG:3006")[0]
    'x and y look swapped (x holds the northing or latitude, y the easting or longitude)'
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return "the coordinates are empty or not finite", None, False
    xs, ys = x[finite], y[finite]
    need = max(1, int(np.ceil(0.5 * len(xs))))
    if declared and _fits(declared, ys, xs).sum() >= need:
        return (
            "x and y look swapped (x holds the northing or latitude, y the easting or longitude)",
            declared,
            True,
        )
    for c in _CANDIDATES:
        if c == declared:
            continue
        zone = c.startswith("EPSG:30") and 3007 <= int(c[5:]) <= 3018
        name = f"a SWEREF 99 local zone (such as {_crs_name(c)})" if zone else _crs_name(c)
        if _fits(c, xs, ys).sum() >= need:
            what = f"the numbers look like {name} coordinates"
            return (what + (f", not {_crs_name(declared)}" if declared else ""), c, False)
        if _fits(c, ys, xs).sum() >= need:
            what = f"the numbers look like {name} coordinates with x and y swapped"
            return (what + (f", not {_crs_name(declared)}" if declared else ""), c, True)
    return "the numbers fit no coordinate system used in Sweden", None, False


def diagnose_crs(
    x: np.ndarray, y: np.ndarray, declared: str
) -> tuple[np.ndarray, str, str | None, bool]:
    """Rows whose coordinates do not lie in Sweden in the ``declared`` CRS, and a hint.

    Returns ``(bad mask, sentence, likely CRS, swapped)``; the sentence is ``""`` when every
    finite row fits.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    with np.errstate(all="ignore"):
        inside = np.zeros(len(x), dtype=bool)
        if finite.any():
            try:
                inside[finite] = _in_sweden(declared, x[finite], y[finite])
            except (CRSErr, TypeError, ValueError):
                inside[:] = False
    bad = finite & ~inside
    if not bad.any():
        return bad, "", None, False
    sentence, likely, swapped = crs_hint(x[bad], y[bad], declared)
    return bad, sentence, likely, swapped


def resolve_coordinates(  # noqa: C901 - predates the gate; split planned (issue 10)
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
        Per row, the declared CRS (an ``EPSG:`` string from :func:`parse_crs`) or None.
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
    for c in [working_crs, *[c for c in _CANDIDATES if c != working_crs]]:
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
