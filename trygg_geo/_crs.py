"""Coordinate reference systems: the one place that reads, checks and diagnoses them.

* :func:`parse_crs` reads a CRS as people write it (``3006``, ``"EPSG:3006"``,
  ``"SWEREF 99 TM"``, ``"sweref99 tm"``, WKT, a :class:`pyproj.CRS`) and refuses anything
  else with a :class:`~trygg_geo._errors.CRSError` that names the file, the config key and
  the fix. :func:`parse_optional_crs` is the same with "blank means not given" (None).
* :func:`require_crs` and :func:`require_projected` are the guards: a layer without a CRS,
  and a layer in degrees where metres are needed. One wording, one fix.
* :func:`working_crs` is the one rule for the CRS the analysis runs in: the project's
  ``crs`` if given, else the area layer's if it is projected in metres, else
  :data:`DEFAULT_WORKING_CRS` (SWEREF 99 TM).
* :func:`best_reading` says which reading of a set of x/y numbers (WGS84, SWEREF 99 TM, a
  SWEREF 99 local zone, RT90; x and y swapped or not) puts most of them where they belong:
  inside the area layer, or inside Sweden. :func:`crs_hint`, :func:`xy_hint`,
  :func:`diagnose_crs` and :func:`require_inside` put it in words.

The classic mistakes with Swedish data are lat/lon written in the wrong order, WGS84 degrees
declared as SWEREF 99, SWEREF 99 TM declared as a local zone (18 00 in Stockholm) or the other
way round, and x/y swapped. The order of coordinates is fixed throughout: ``x`` is the easting
or longitude, ``y`` the northing or latitude.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyproj
import shapely
from geopandas import GeoDataFrame, GeoSeries
from pyproj.exceptions import CRSError as _PyprojCRSError

from trygg_geo._errors import CRSError, Msg, msg
from trygg_geo.interventions import fold_text

__all__ = [
    "CANDIDATE_CRS",
    "DEFAULT_WORKING_CRS",
    "SWEDEN_LONLAT",
    "Reading",
    "best_reading",
    "crs_hint",
    "crs_label",
    "crs_name",
    "diagnose_crs",
    "parse_crs",
    "parse_optional_crs",
    "require_crs",
    "require_inside",
    "require_projected",
    "share_inside",
    "working_crs",
    "xy_hint",
]

#: The working CRS when neither the project nor the area layer gives a projected one.
DEFAULT_WORKING_CRS = "EPSG:3006"

#: Interpretations tried for a hint: WGS84, SWEREF 99 TM, the 12 SWEREF 99 local zones and
#: RT90 2.5 gon V.
CANDIDATE_CRS = (
    "EPSG:4326", "EPSG:3006", *(f"EPSG:{c}" for c in range(3007, 3019)), "EPSG:3021",
)

#: Sweden's bounding box in lon/lat, with a margin.
SWEDEN_LONLAT = (10.0, 55.0, 24.5, 69.5)

_SWEREF_ZONES = {3007: "12 00", 3008: "13 30", 3009: "15 00", 3010: "16 30", 3011: "18 00",
                 3012: "14 15", 3013: "15 45", 3014: "17 15", 3015: "18 45", 3016: "20 15",
                 3017: "21 45", 3018: "23 15"}

#: Names as municipalities write them, folded (lower case, no punctuation, no spaces).
_CRS_NAMES: dict[str, int] = {
    "swereftm": 3006, "sweref99tm": 3006,
    **{f"sweref99{z.replace(' ', '')}": c for c, z in _SWEREF_ZONES.items()},
    "wgs84": 4326, "wgs1984": 4326, "latlon": 4326,
    "rt90": 3021, "rt9025gonv": 3021,
}

_CRS_DEFINITION_PREFIXES = (
    "EPSG:", "ESRI:", "IGNF:", "OGC:", "URN:OGC:", "+PROJ", "+INIT", "PROJCS[", "GEOGCS[",
    "PROJCRS[", "GEOGCRS[", "COMPOUNDCRS[", "BOUNDCRS[", "{",
)
_CRS_NAME_LIKE = re.compile(r"[A-Za-z0-9 ._:/()+\-]+")
_FOLD = re.compile(r"[\s_\-]+")

_EXAMPLE = "EPSG:3006 (SWEREF 99 TM) or the municipality's SWEREF 99 zone such as EPSG:3011 " \
    "(SWEREF 99 18 00, Stockholm)"


# --------------------------------------------------------------------------- reading


def crs_label(crs: pyproj.CRS) -> str:
    """``"EPSG:<code>"`` when the CRS has an EPSG code, else its PROJ string.

    >>> crs_label(pyproj.CRS.from_epsg(3011))
    'EPSG:3011'
    """
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_string()


def _literal(value: object) -> str:
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + '..."'
    return repr(value)


def _parse_fix(key: str | None, column: str | None) -> str:
    if key is not None:
        section, _, name = key.rpartition(".")
        under = f" under [{section}]" if section else ""
        return (f'write {name} = "EPSG:3006" (SWEREF 99 TM) or {name} = "EPSG:3011" '
                f"(SWEREF 99 18 00, Stockholm){under} in projekt.toml.")
    if column is not None:
        return ("write the CRS as e.g. 'SWEREF 99 TM', 'SWEREF 99 18 00' or 'EPSG:3006', or "
                "leave the cell empty.")
    return "pass e.g. crs='EPSG:3006' (SWEREF 99 TM) or crs='EPSG:3011' (SWEREF 99 18 00)."


@lru_cache(maxsize=256)
def _parse_text(text: str) -> pyproj.CRS | str:
    """The CRS named by non-empty ``text``, or the reason it names none (cached).

    A name lookup in the PROJ database costs about 0.1 s, so it is done only for short,
    name-like text: a register full of free text in its CRS column still reads fast.
    """
    folded = fold_text(text)
    code = _CRS_NAMES.get(folded.replace(" ", ""))
    m = re.fullmatch(r"(?:epsg )?(\d{4,6})(?: 0+)?", folded)
    if code is None and m:
        code = int(m.group(1))
    if code is not None:
        try:
            return pyproj.CRS.from_epsg(code)
        except _PyprojCRSError:
            return "names no coordinate reference system that pyproj knows"
    definition = text.upper().startswith(_CRS_DEFINITION_PREFIXES)
    if not definition and not (len(text) <= 60 and _CRS_NAME_LIKE.fullmatch(text)):
        return "names no coordinate reference system"
    try:
        crs = pyproj.CRS.from_user_input(text)
    except (_PyprojCRSError, ValueError, TypeError):
        return "names no coordinate reference system that pyproj knows"
    # pyproj resolves a bare name by a loose search ("SWEREF" becomes the geographic SWEREF99,
    # EPSG:4619): a name is accepted only when it is the CRS's own name (spaces ignored)
    if not definition and _FOLD.sub("", crs.name.lower()) != _FOLD.sub("", text.lower()):
        code = crs.to_epsg()
        return (f"is not an exact CRS name (pyproj would guess '{crs.name}'"
                + (f", EPSG:{code}" if code else "") + ")")
    return crs


def parse_crs(value: object, *, file: str | Path | None = None, key: str | None = None,
              column: str | None = None, row: int | None = None) -> pyproj.CRS:
    """Read a CRS as people write it; refuse anything that is not clearly one CRS.

    Parameters
    ----------
    value
        An EPSG number (``3006``), text (``"EPSG:3006"``, ``"3006"``, ``"SWEREF 99 TM"``,
        ``"sweref99 tm"``, ``"SWEREF 99 18 00"``, ``"WGS84"``, ``"RT90"``, an exact CRS name,
        WKT, a PROJ string) or a :class:`pyproj.CRS`.
    file, key, column, row
        Where the value came from, for the message: the file, the projekt.toml key
        (``"incidents.crs"``), or the column and row of a table.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        The value is missing, empty, or names no CRS (or only a loose guess of one). The
        message names the file and key and says what to write instead. Use
        :func:`parse_optional_crs` where a blank value means "not given".

    Examples
    --------
    >>> [parse_crs(v).to_epsg() for v in (3006, "EPSG:3011", "SWEREF 99 TM", "sweref99 tm")]
    [3006, 3011, 3006, 3006]
    >>> parse_crs("SWEREF", key="project.crs")
    Traceback (most recent call last):
    ...
    trygg_geo._errors.CRSError: [project] crs: "SWEREF" is not an exact CRS name (pyproj would guess 'SWEREF99', EPSG:4619). Fix: write crs = "EPSG:3006" (SWEREF 99 TM) or crs = "EPSG:3011" (SWEREF 99 18 00, Stockholm) under [project] in projekt.toml.
    """  # noqa: E501 - a doctest line
    fix = _parse_fix(key, column)

    def refused(message: str, fix: str = fix) -> CRSError:
        return CRSError(message, file=file, key=key, row=row, column=column, fix=fix)

    if isinstance(value, pyproj.CRS):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        raise refused("no CRS is given.")
    if not isinstance(value, str):
        raise refused(f"{_literal(value)} is a {type(value).__name__}, not a CRS.")
    text = value.strip()
    if not text:
        raise refused("the CRS is empty.", fix[:-1] + (", or remove the key." if key else "."))
    got = _parse_text(text)
    if isinstance(got, str):
        raise refused(f"{_literal(value)} {got}.")
    return got


def parse_optional_crs(value: object, *, file: str | Path | None = None, key: str | None = None,
                       column: str | None = None, row: int | None = None) -> pyproj.CRS | None:
    """:func:`parse_crs`, except that a blank value (None, NaN, empty text) gives None.

    >>> parse_optional_crs("  ") is None, parse_optional_crs("3006").to_epsg()
    (True, 3006)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return parse_crs(value, file=file, key=key, column=column, row=row)


# --------------------------------------------------------------------------- guards


def _crs_of(crs_or_frame: object) -> object:
    return getattr(crs_or_frame, "crs", crs_or_frame)


def require_crs(crs_or_frame: object, *, what: str, file: str | Path | None = None,
                key: str | None = None, fix: str | Msg | None = None) -> pyproj.CRS:
    """The CRS of a layer (or a CRS given as such); refuse a layer without one.

    ``what`` names the layer in the message (``"the incident layer"``). ``fix`` is the
    caller's own advice for a missing CRS (``"give the graph's CRS with crs=..."``); without
    it the fix says to set the CRS with ``crs=`` (a file) or ``gdf.set_crs(...)``.

    Raises
    ------
    CRSError
        ``<what> has no CRS`` with the fix: set the CRS the coordinates are in.

    Examples
    --------
    >>> require_crs(None, what="the raster", fix="save it with a CRS.")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trygg_geo._errors.CRSError: the raster has no CRS ... Fix: save it with a CRS.
    """
    crs = _crs_of(crs_or_frame)
    if crs is None:
        how = "crs=" if file is not None else "gdf.set_crs(...)"
        if fix is None:
            fix = (msg("err.no_crs.fix_key", how=how, key=key) if key
                   else msg("err.no_crs.fix", how=how))
        raise CRSError(msg("err.no_crs", what=what), file=file, key=key, fix=fix)
    return parse_crs(crs, file=file, key=key)


def _metre_unit(crs: pyproj.CRS) -> str:
    """The unit of the first axis when it is not metres ("" for metres or unknown)."""
    unit = (crs.axis_info[0].unit_name or "").lower() if crs.axis_info else ""
    return "" if unit in ("", "metre", "meter", "m") else unit


def require_projected(crs_or_frame: object, *, what: str, file: str | Path | None = None,
                      key: str | None = None, fix: str | Msg | None = None) -> pyproj.CRS:
    """The CRS of a layer, refused unless it is projected in metres.

    Distances, buffers, areas, bandwidths and cell sizes are in metres, never silently in
    degrees.

    Parameters
    ----------
    crs_or_frame
        A GeoDataFrame or GeoSeries (its ``.crs``), a :class:`pyproj.CRS`, or anything
        :func:`parse_crs` reads.
    what
        The layer in words, for the message (``"the area layer"``).
    file, key
        Where the CRS came from (the file, the projekt.toml key), for the message.
    fix
        The caller's advice when the CRS is missing (as in :func:`require_crs`).

    Raises
    ------
    CRSError
        No CRS (as :func:`require_crs`), or a geographic CRS or one not in metres: the fix
        names EPSG:3006 (SWEREF 99 TM) or the municipality's SWEREF 99 zone (EPSG:3011 ...).

    Examples
    --------
    >>> require_projected("EPSG:3011", what="the area layer").name
    'SWEREF99 18 00'
    >>> require_projected(4326, what="the area layer")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    trygg_geo._errors.CRSError: the area layer is in WGS 84 (EPSG:4326), a geographic CRS in ...
    """
    crs = require_crs(crs_or_frame, what=what, file=file, key=key, fix=fix)
    unit = _metre_unit(crs)
    if crs.is_projected and not unit:
        return crs
    kind = (f"a CRS whose unit is '{unit}', not metres" if crs.is_projected
            else "a geographic CRS in degrees")
    fix = (f"set {key} to a projected CRS in metres: {_EXAMPLE}." if key
           else f"project it first with gdf.to_crs(...) to a CRS in metres: {_EXAMPLE}.")
    raise CRSError(
        f"{what} is in {crs.name} ({crs_label(crs)}), {kind}, but distances, areas and "
        "densities need a projected CRS in metres.", file=file, key=key, fix=fix,
    )


def working_crs(project_crs: object = None, areas_crs: object = None) -> pyproj.CRS:
    """The CRS the analysis runs in: the one rule of the package.

    The project's ``crs`` (projekt.toml ``[project] crs``) if given, which must be projected
    in metres; else the area layer's CRS if it is projected in metres; else
    :data:`DEFAULT_WORKING_CRS` (EPSG:3006, SWEREF 99 TM).

    >>> working_crs("EPSG:3011", "EPSG:3006").to_epsg()
    3011
    >>> working_crs(None, "EPSG:3010").to_epsg(), working_crs(None, 4326).to_epsg()
    (3010, 3006)
    """
    if project_crs is not None:
        return require_projected(project_crs, what="the project's working CRS",
                                 key="project.crs")
    if areas_crs is not None:
        crs = parse_crs(areas_crs)
        if crs.is_projected and not _metre_unit(crs):
            return crs
    return pyproj.CRS.from_user_input(DEFAULT_WORKING_CRS)


# --------------------------------------------------------------------------- readings


@lru_cache(maxsize=64)
def _transformer(src: str | pyproj.CRS, dst: str | pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src, dst, always_xy=True)


def _in_sweden(src: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rows whose coordinates, read in ``src``, lie in Sweden's bounding box."""
    if src == "EPSG:4326":
        lon, lat = x, y
    else:
        with np.errstate(all="ignore"):
            lon, lat = _transformer(src, "EPSG:4326").transform(x, y)
    lo0, la0, lo1, la1 = SWEDEN_LONLAT
    with np.errstate(invalid="ignore"):
        return (np.isfinite(lon) & np.isfinite(lat) & (lon >= lo0) & (lon <= lo1)
                & (lat >= la0) & (lat <= la1))


def _is_zone(src: str) -> bool:
    return src.startswith("EPSG:30") and src[5:].isdigit() and 3007 <= int(src[5:]) <= 3018


def _plausible_range(src: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cheap value-range checks so that, e.g., lon/lat numbers are not read as metres."""
    with np.errstate(invalid="ignore"):
        if src == "EPSG:4326":
            return (np.abs(x) <= 180) & (np.abs(y) <= 90)
        if src == "EPSG:3006":
            return (x > 200_000) & (x < 1_000_000) & (y > 6_000_000) & (y < 7_800_000)
        if src == "EPSG:3021":  # x is the easting (always_xy), as for SWEREF
            return (x > 1_100_000) & (x < 2_000_000) & (y > 6_000_000) & (y < 7_800_000)
        if _is_zone(src):
            return (x > 50_000) & (x < 300_000) & (y > 6_000_000) & (y < 7_800_000)
    return np.ones(len(x), dtype=bool)


def crs_name(src: str) -> str:
    """``"<name> (<src>)"``, e.g. ``"SWEREF99 TM (EPSG:3006)"`` (``src`` if unreadable)."""
    try:
        return f"{pyproj.CRS.from_user_input(src).name} ({src})"
    except (_PyprojCRSError, TypeError, ValueError):
        return src


def _inside_areas(x: np.ndarray, y: np.ndarray, areas: GeoDataFrame) -> np.ndarray:
    ok = np.isfinite(x) & np.isfinite(y)
    out = np.zeros(len(x), dtype=bool)
    if not ok.any():
        return out
    tree = shapely.STRtree(np.asarray(areas.geometry.values))
    hit = tree.query(shapely.points(x[ok], y[ok]), predicate="intersects")
    idx = np.flatnonzero(ok)
    out[idx[np.unique(hit[0])]] = True
    return out


def _fits(src: str, x: np.ndarray, y: np.ndarray, areas: GeoDataFrame | None) -> np.ndarray:
    """Rows whose numbers, read in ``src``, are plausible and lie in Sweden (or the areas)."""
    try:
        with np.errstate(all="ignore"):
            plaus = _plausible_range(src, x, y)
            if areas is None:
                return plaus & _in_sweden(src, x, y)
            ax, ay = _transformer(src, areas.crs).transform(x, y)
            return plaus & _inside_areas(np.asarray(ax, float), np.asarray(ay, float), areas)
    except (_PyprojCRSError, TypeError, ValueError):  # an unreadable CRS fits nothing
        return np.zeros(len(x), dtype=bool)


@dataclass(frozen=True)
class Reading:
    """A reading of x/y numbers: the CRS, whether x and y are swapped, and how well it fits.

    Attributes
    ----------
    crs
        The CRS of the reading (``"EPSG:4326"``, ...).
    swapped
        Whether x and y are swapped in this reading.
    share
        The share of the points that fall in place (Sweden, or the areas) read this way.
    sentence
        The reading in words, for a message.
    """

    crs: str
    swapped: bool
    share: float
    sentence: str


def best_reading(x: np.ndarray, y: np.ndarray, declared: object = None, *,
                 areas: GeoDataFrame | None = None, max_points: int = 2000) -> Reading | None:
    """The reading of the numbers that puts most of them in place, if it puts half there.

    Tried: the declared CRS with x and y swapped, then every CRS of :data:`CANDIDATE_CRS`
    (other than the declared one) as written and swapped; the best share wins, ties going
    to the earlier reading. "In place" is inside ``areas`` when given, else inside Sweden
    (with values in the CRS's plausible range).

    >>> r = best_reading(np.array([6580000.0]), np.array([674000.0]), "EPSG:3006")
    >>> r.crs, r.swapped, r.sentence
    ('EPSG:3006', True, 'x and y look swapped (x holds the northing or latitude, y the easting or longitude)')
    """  # noqa: E501 - a doctest line
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    xs, ys = x[finite], y[finite]
    if not len(xs):
        return None
    step = max(1, len(xs) // max_points)
    xs, ys = xs[::step], ys[::step]
    try:
        decl = crs_label(parse_crs(declared)) if declared is not None else None
    except CRSError:
        decl = None
    readings = [(decl, True)] if decl else []
    readings += [(c, s) for c in CANDIDATE_CRS if c != decl for s in (False, True)]
    best: tuple[float, str, bool] = (0.0, "", False)
    for code, swapped in readings:
        share = float(_fits(code, *((ys, xs) if swapped else (xs, ys)), areas).mean())
        if share > best[0]:
            best = (share, code, swapped)
    share, code, swapped = best
    if share < 0.5:
        return None
    if swapped and code == decl:
        sentence = ("x and y look swapped (x holds the northing or latitude, y the easting or "
                    "longitude)")
    else:
        name = (f"a SWEREF 99 local zone (such as {crs_name(code)})"
                if _is_zone(code) and areas is None else crs_name(code))
        sentence = (f"the numbers look like {name} coordinates"
                    + (" with x and y swapped" if swapped else "")
                    + (f", not {crs_name(decl)}" if decl else ""))
    return Reading(code, swapped, share, sentence)


def xy_hint(x: np.ndarray, y: np.ndarray, declared: str | None) -> tuple[str, str | None, bool]:
    """What the numbers of some rows look like, in words: ``(sentence, likely CRS, swapped)``.

    The reading of :func:`best_reading` against Sweden.

    >>> hint = xy_hint(np.array([18.07]), np.array([59.33]), "EPSG:3006")
    >>> hint[0]
    'the numbers look like WGS 84 (EPSG:4326) coordinates, not SWEREF99 TM (EPSG:3006)'
    >>> hint[1]
    'EPSG:4326'
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if not (np.isfinite(x) & np.isfinite(y)).any():
        return "the coordinates are empty or not finite", None, False
    r = best_reading(x, y, declared)
    if r is None:
        return "the numbers fit no coordinate system used in Sweden", None, False
    return r.sentence, r.crs, r.swapped


def diagnose_crs(
    x: np.ndarray, y: np.ndarray, declared: str
) -> tuple[np.ndarray, str, str | None, bool]:
    """Rows whose coordinates do not lie in Sweden in the ``declared`` CRS, and a hint.

    Returns ``(bad mask, sentence, likely CRS, swapped)`` (see :func:`xy_hint`); the sentence
    is ``""`` when every finite row fits.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    finite = np.isfinite(x) & np.isfinite(y)
    inside = np.zeros(len(x), dtype=bool)
    if finite.any():
        try:
            with np.errstate(all="ignore"):
                inside[finite] = _in_sweden(declared, x[finite], y[finite])
        except (_PyprojCRSError, TypeError, ValueError):
            inside[:] = False
    bad = finite & ~inside
    if not bad.any():
        return bad, "", None, False
    sentence, likely, swapped = xy_hint(x[bad], y[bad], declared)
    return bad, sentence, likely, swapped


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
    """A sentence on which reading of the numbers puts most points in the areas ("" if none).

    The reading of :func:`best_reading` against the areas.
    """
    pts = points[~(points.is_empty | points.isna())]
    if not len(pts) or pts.crs is None:
        return ""
    r = best_reading(shapely.get_x(pts.values), shapely.get_y(pts.values), pts.crs,
                     areas=areas, max_points=max_points)
    if r is None:
        return ""
    return (f"{r.sentence[0].upper()}{r.sentence[1:]}: read so, {100 * r.share:.0f} % of them "
            "would fall in the areas.")


def require_inside(points: GeoSeries, areas: GeoDataFrame, *, what: str,
                   file: str | Path | None, key: str, minimum: float = 0.5) -> float:
    """Refuse when fewer than ``minimum`` of ``points`` fall in any area.

    Returns
    -------
    float
        The share of the points inside some area.

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

    raise CRSError(
        f"only {100 * share:.0f} % of the {len(pts)} {what} fall in any area "
        f"({what}: {bounds(pts)}; areas: {bounds(areas)}).{' ' + hint if hint else ''}",
        file=file,
        fix=f"check the coordinate system ({key}) and the order of the coordinate columns, "
        "or use an area layer that covers the data.",
    )
