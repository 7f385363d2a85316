"""Reading and checking area layers (stadsdelar, stadsdelsområden, DeSO, survey zones).

:func:`read_areas` turns any OGR-readable layer into the internal "Areas" shape
(see CONTRIBUTING.md): a GeoDataFrame in a projected CRS with ``area_id`` (str, unique),
``name``, ``parent``, ``geometry`` and ``source_row``. It repairs invalid geometries,
optionally clips away water, and checks the layer for overlaps and gaps; every finding
is kept in an :class:`AreaReport` (``gdf.attrs["trygg_geo_report"]``) with area ids and
sizes. :func:`check_areas` runs the same checks on any area GeoDataFrame.

Hierarchies (stadsdel -> stadsdelsområde) are read with :func:`read_hierarchy` and
applied with :func:`assign_parent` / :func:`dissolve_hierarchy`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from rapidfuzz import fuzz, process

from trygg_geo._crs import parse_crs, require_crs, require_projected, working_crs
from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
    MissingFileError,
    Msg,
    Number,
    UnreadableFileError,
    msg,
)
from trygg_geo._tabular import fold_header, read_table
from trygg_geo.interventions import fold_text

__all__ = [
    "ALIAS_MIN_SCORE",
    "AREA_ALIASES",
    "REPORT_ATTR",
    "AreaReport",
    "assign_parent",
    "check_areas",
    "clip_water",
    "closest_area_name",
    "dissolve_hierarchy",
    "is_total_name",
    "make_area_id",
    "match_area_keys",
    "read_areas",
    "read_hierarchy",
]

log = logging.getLogger(__name__)

REPORT_ATTR = "trygg_geo_report"
"""Key of the :class:`AreaReport` in ``GeoDataFrame.attrs``."""

_NAME_HEADERS = ("name", "namn", "omradesnamn", "omrade", "stadsdel", "stadsdelsnamn", "benamning",
                 "deso", "desonamn", "label")
_POLYGONAL = {"Polygon", "MultiPolygon"}


@dataclass(frozen=True, eq=False)
class AreaReport:
    """What :func:`read_areas` / :func:`check_areas` found and did.

    ``eq=False``: reports compare by identity, so that pandas can carry them in
    ``attrs`` through ``concat`` without comparing DataFrames.

    Attributes
    ----------
    repairs
        One row per repaired (or, with ``repair=False``, invalid) geometry: ``area_id``,
        ``source_row``, ``reason`` (GEOS validity message), ``action`` (``make_valid`` or
        ``not_repaired``), ``area_m2`` after repair, ``parts`` (polygon parts after repair).
    overlaps
        One row per pair of areas whose interiors overlap by at least ``tolerance_m2``:
        ``area_id_a``, ``area_id_b``, ``overlap_m2``, ``share_of_a``, ``share_of_b``.
    gaps
        One row per hole in the union of the areas (a region enclosed by areas but in none),
        at least ``tolerance_m2``: ``gap_id``, ``area_m2``, ``x``, ``y`` (a point inside it),
        ``bordering`` (comma-joined area ids around it).
    water
        One row per area clipped by the water layer: ``area_id``, ``water_m2``,
        ``water_share``.
    tolerance_m2
        Overlaps and gaps smaller than this were ignored (digitising slivers).
    """

    repairs: pd.DataFrame
    overlaps: pd.DataFrame
    gaps: pd.DataFrame
    water: pd.DataFrame = field(default_factory=lambda: _empty_water())
    tolerance_m2: float = 1.0

    @property
    def ok(self) -> bool:
        """True when there was nothing to repair and no overlaps or gaps."""
        return self.repairs.empty and self.overlaps.empty and self.gaps.empty

    def summary(self, lang: str = "en") -> str:
        """A one-paragraph human summary, in English or (``lang="sv"``) Swedish."""
        return self.summary_msg().render(lang)

    def summary_msg(self) -> Msg:
        """The summary as a :class:`~trygg_geo._errors.Msg` (either language)."""
        parts = []
        if not self.repairs.empty:
            ids = ", ".join(self.repairs["area_id"].astype(str).head(10))
            parts.append(msg("areas.invalid", n=len(self.repairs), ids=ids))
        if not self.overlaps.empty:
            top = self.overlaps.sort_values("overlap_m2", ascending=False).iloc[0]
            parts.append(msg("areas.overlaps", n=len(self.overlaps),
                             m2=Number(float(top["overlap_m2"]), 1), a=top["area_id_a"],
                             b=top["area_id_b"]))
        if not self.gaps.empty:
            top = self.gaps.sort_values("area_m2", ascending=False).iloc[0]
            parts.append(msg("areas.gaps", n=len(self.gaps), m2=Number(float(top["area_m2"]), 1),
                             bordering=top["bordering"]))
        if not self.water.empty:
            parts.append(msg("areas.water", n=len(self.water)))
        if not parts:
            return msg("areas.no_problems")
        out = parts[0]
        for part in parts[1:]:
            out = msg("err.join", a=out, b=msg("err.join", a="; ", b=part))
        return out

    def to_frame(self) -> pd.DataFrame:
        """All findings as one long table.

        Columns: ``check``, ``area_id``, ``other_id``, ``size_m2``, ``detail``.
        """
        rows: list[dict[str, object]] = []
        for r in self.repairs.itertuples(index=False):
            rows.append({"check": "repair", "area_id": r.area_id, "other_id": pd.NA,
                         "size_m2": r.area_m2, "detail": f"{r.action}: {r.reason}"})
        for r in self.overlaps.itertuples(index=False):
            rows.append({"check": "overlap", "area_id": r.area_id_a, "other_id": r.area_id_b,
                         "size_m2": r.overlap_m2, "detail": f"{r.share_of_a:.4%} of {r.area_id_a}"})
        for r in self.gaps.itertuples(index=False):
            rows.append({"check": "gap", "area_id": r.bordering, "other_id": pd.NA,
                         "size_m2": r.area_m2, "detail": f"{r.gap_id} at ({r.x:.0f}, {r.y:.0f})"})
        for r in self.water.itertuples(index=False):
            rows.append({"check": "water", "area_id": r.area_id, "other_id": pd.NA,
                         "size_m2": r.water_m2, "detail": f"{r.water_share:.1%} of the area"})
        return pd.DataFrame(rows, columns=["check", "area_id", "other_id", "size_m2", "detail"])


def _empty_repairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_id": pd.Series(dtype="string"),
            "source_row": pd.Series(dtype="Int64"),
            "reason": pd.Series(dtype="string"),
            "action": pd.Series(dtype="string"),
            "area_m2": pd.Series(dtype=float),
            "parts": pd.Series(dtype="Int64"),
        }
    )


def _empty_water() -> pd.DataFrame:
    return pd.DataFrame({"area_id": pd.Series(dtype="string"), "water_m2": pd.Series(dtype=float),
                         "water_share": pd.Series(dtype=float)})


def make_area_id(name: object) -> str:
    """A stable ASCII id from an area name: folded, lower case, ``_`` between words.

    >>> make_area_id("SÖDERMALM")
    'sodermalm'
    >>> make_area_id("Enskede gård")
    'enskede_gard'
    """
    return fold_text(str(name)).replace(" ", "_")


def _id_text(values: pd.Series) -> pd.Series:
    """Ids as str; floats that are whole numbers lose their ``.0`` (``12.0`` -> ``"12"``)."""
    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return pd.NA
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        t = str(v).strip()
        return t if t else pd.NA
    return values.map(one).astype("string")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a geometry (make_valid may return a collection with lines)."""
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    if not parts:
        return shapely.Polygon()
    flat = [q for p in parts for q in shapely.get_parts(p)]
    return flat[0] if len(flat) == 1 else shapely.MultiPolygon(flat)


def read_areas(
    path: str | Path,
    *,
    id_column: str | None = None,
    name_column: str | None = None,
    layer: str | int | None = None,
    parent_column: str | None = None,
    crs: str | int | CRS | None = None,
    water: gpd.GeoDataFrame | gpd.GeoSeries | str | Path | None = None,
    repair: bool = True,
    report: Literal["warn", "log", "raise"] = "warn",
    tolerance_m2: float = 1.0,
) -> gpd.GeoDataFrame:
    """Read an area layer (any OGR format) into the internal Areas shape.

    Parameters
    ----------
    path
        A file readable by GDAL/OGR (GeoPackage, shapefile, GeoJSON, FlatGeobuf, ...).
    id_column
        The column holding unique area ids. ``None``: ids are built from the name
        column with :func:`make_area_id` (``"SÖDERMALM"`` -> ``"sodermalm"``), or, when
        there is no name column either, from the feature number (``"area_1"``, ...).
        Which rule was used is logged.
    name_column
        The column with display names; ``None`` looks for ``name``, ``namn``,
        ``stadsdel``, ``område``... and falls back to the id.
    layer
        Layer name or index for multi-layer files (default: the first layer).
    parent_column
        A column naming each area's parent (e.g. stadsdelsområde); copied to ``parent``.
    crs
        A CRS to declare for files that have none. A file with no CRS is otherwise
        refused; a declared CRS that contradicts the file's is refused too.
    water
        Water polygons (a GeoDataFrame/GeoSeries or a path) to clip away from the areas.
    repair
        Repair invalid geometries with ``shapely.make_valid`` (kept polygonal). With
        ``False`` invalid geometries are kept as they are and only reported.
    report
        What to do when the checks find anything: ``"warn"`` (a
        :class:`~trygg_geo._errors.DataQualityWarning` with a summary), ``"log"``, or
        ``"raise"`` (an :class:`~trygg_geo._errors.InputError`).
    tolerance_m2
        Overlaps and gaps smaller than this are treated as digitising slivers and not reported.

    Returns
    -------
    geopandas.GeoDataFrame
        ``area_id`` (str), ``name`` (str), ``parent`` (str or NA), the file's other
        attributes, ``source_row`` (the 1-based feature number in the layer) and
        ``geometry`` (Polygon/MultiPolygon), in the file's CRS when it is projected and
        otherwise in EPSG:3006. ``attrs["trygg_geo_report"]`` holds the :class:`AreaReport`.

    Raises
    ------
    MissingFileError, UnreadableFileError, EmptyLayerError, MissingColumnError, CRSError,
    InputError
        Duplicate or missing ids (named), non-polygon geometries, areas that are all water.

    Examples
    --------
    >>> areas = read_areas("../shared/data/stockholm_stadsdelar/stadsdelar.shp")  # doctest: +SKIP
    >>> areas.loc[areas["name"] == "SÖDERMALM", "area_id"].item()  # doctest: +SKIP
    'sodermalm'
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(p, what="area layer")
    try:
        gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise UnreadableFileError(
            f"the area layer could not be read by GDAL/OGR ({exc}).", file=p,
            fix="check the file is a GeoPackage, shapefile (with .shx/.dbf), GeoJSON or another "
            "OGR vector format, and give layer= for multi-layer files.",
        ) from exc
    if len(gdf) == 0:
        raise EmptyLayerError("the area layer has no features.", file=p,
                              fix="check that the right layer was exported (layer=...).")
    gdf = _declare_crs(gdf, crs, p)
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    gdf = gdf.reset_index(drop=True)
    source_row = pd.Series(np.arange(1, len(gdf) + 1), dtype="Int64")

    if name_column is not None and name_column not in gdf.columns:
        raise MissingColumnError(name_column, found=cols, file=p)
    if name_column is None:
        folded = {c: fold_header(c) for c in cols}
        name_column = next((c for h in _NAME_HEADERS for c, f in folded.items()
                            if f == h and c != id_column), None)
    if id_column is not None:
        if id_column not in gdf.columns:
            raise MissingColumnError(id_column, found=cols, file=p)
        ids = _id_text(gdf[id_column])
        how = f"column '{id_column}'"
    elif name_column is not None:
        ids = (
            gdf[name_column]
            .map(lambda v: pd.NA if pd.isna(v) else make_area_id(v))
            .astype("string")
        )
        ids = ids.mask(ids == "")
        how = (
            f"the names in column '{name_column}' "
            "(folded to ASCII, e.g. 'SÖDERMALM' -> 'sodermalm')"
        )
    else:
        ids = pd.Series([f"area_{i}" for i in source_row], dtype="string")
        how = "the feature number ('area_1', 'area_2', ...), since there is no id or name column"
    log.info("%s: area ids built from %s", p.name, how)
    if ids.isna().any():
        rows = source_row[ids.isna().to_numpy()].tolist()
        raise InputError(
            f"{len(rows)} areas have no id (features {', '.join(map(str, rows[:20]))}).",
            file=p, column=id_column or name_column,
            fix="fill in the ids, or give id_column= a column where every area has a value.",
        )
    _refuse_duplicates(ids, source_row, file=p, column=id_column or name_column,
                       built=id_column is None)

    names = (gdf[name_column].astype("string") if name_column is not None else ids.copy())
    names = names.fillna(ids)
    if parent_column is not None:
        if parent_column not in gdf.columns:
            raise MissingColumnError(parent_column, found=cols, file=p)
        parent = _id_text(gdf[parent_column])
    else:
        parent = pd.Series(pd.NA, index=gdf.index, dtype="string")

    extra = [c for c in cols if c not in {id_column, name_column, parent_column}
             and c not in {"area_id", "name", "parent", "source_row"}]
    out = gpd.GeoDataFrame(
        {"area_id": ids.to_numpy(), "name": names.to_numpy(), "parent": parent.to_numpy(),
         **{c: gdf[c].to_numpy() for c in extra}, "source_row": source_row.to_numpy()},
        geometry=gdf.geometry.values, crs=gdf.crs,
    )
    out["area_id"] = out["area_id"].astype("string")
    out["name"] = out["name"].astype("string")
    out["parent"] = out["parent"].astype("string")
    out["source_row"] = out["source_row"].astype("Int64")
    _refuse_bad_geometries(out, p)
    wcrs = working_crs(None, out.crs)
    if not wcrs.equals(out.crs):
        log.info("%s: CRS %s is not projected in metres; reprojecting to %s", p.name,
                 out.crs.to_string(), wcrs.to_string())
        out = out.to_crs(wcrs)

    repairs = _repair(out, repair=repair)
    water_tab = _empty_water()
    if water is not None:
        out, water_tab = clip_water(out, water, file=p)
    rep = check_areas(out, tolerance_m2=tolerance_m2)
    rep = AreaReport(repairs=repairs, overlaps=rep.overlaps, gaps=rep.gaps, water=water_tab,
                     tolerance_m2=tolerance_m2)
    out.attrs[REPORT_ATTR] = rep
    _act_on(rep, report=report, file=p)
    return out


def _declare_crs(gdf: gpd.GeoDataFrame, crs: str | int | CRS | None, p: Path) -> gpd.GeoDataFrame:
    declared = None if crs is None else parse_crs(crs, file=p, key="areas.crs")
    if gdf.crs is None:
        return gdf.set_crs(require_crs(declared, what="the area layer (no .prj or CRS metadata)",
                                       file=p, key="areas.crs"))
    if declared is not None and not declared.equals(gdf.crs):
        raise CRSError(
            f"crs={crs!r} was declared but the file says {gdf.crs.to_string()}.", file=p,
            key="areas.crs",
            fix="drop crs= (it is only for files without a CRS), or reproject the file.",
        )
    return gdf


def _refuse_duplicates(ids: pd.Series, source_row: pd.Series, *, file: Path | None,
                       column: str | None, built: bool) -> None:
    dup = ids[ids.duplicated(keep=False)]
    if dup.empty:
        return
    groups = []
    for v, idx in dup.groupby(dup, sort=True).groups.items():
        rows = source_row.iloc[list(idx)].tolist()
        groups.append(f"'{v}' (features {', '.join(map(str, rows))})")
    fix = ("give id_column= a column with unique ids, or dissolve the repeated parts into one "
           "feature each" if built else "make the ids unique, or dissolve the repeated parts into "
           "one feature each")
    raise InputError(
        f"area ids must be unique; {len(groups)} ids are repeated: {'; '.join(groups[:20])}"
        + (" (ids built from names)" if built else "") + ".",
        file=file, column=column, fix=fix,
    )


def _refuse_bad_geometries(out: gpd.GeoDataFrame, p: Path | None) -> None:
    geoms = out.geometry.values
    missing = shapely.is_missing(np.asarray(geoms)) | shapely.is_empty(np.asarray(geoms))
    if missing.any():
        ids = out.loc[missing, "area_id"].tolist()
        raise InputError(f"{len(ids)} areas have no geometry: {', '.join(ids[:20])}.", file=p,
                         fix="draw the areas or remove them from the layer.")
    types = out.geom_type
    bad = ~types.isin(list(_POLYGONAL))
    if bad.any():
        ids = [f"{i} ({t})" for i, t in zip(out.loc[bad, "area_id"], types[bad], strict=True)]
        raise InputError(f"areas must be polygons; found {', '.join(ids[:20])}.", file=p,
                         fix="give a polygon layer (for points or lines, use them as investments).")


def _repair(out: gpd.GeoDataFrame, *, repair: bool) -> pd.DataFrame:
    arr = np.asarray(out.geometry.values)
    invalid = ~shapely.is_valid(arr)
    if not invalid.any():
        return _empty_repairs()
    reasons = shapely.is_valid_reason(arr[invalid])
    if repair:
        fixed = np.array([_polygonal(g) for g in shapely.make_valid(arr[invalid])], dtype=object)
        empty = shapely.is_empty(fixed)
        if empty.any():
            ids = out.loc[invalid, "area_id"][empty].tolist()
            raise InputError(f"the geometries of {', '.join(ids)} are invalid and have no area "
                             "after repair.", fix="redraw these areas.")
        arr = arr.copy()
        arr[invalid] = fixed
        out[out.geometry.name] = gpd.GeoSeries(arr, index=out.index, crs=out.crs)
    after = np.asarray(out.geometry.values)[invalid]
    tab = pd.DataFrame({
        "area_id": out.loc[invalid, "area_id"].to_numpy(),
        "source_row": out.loc[invalid, "source_row"].to_numpy(),
        "reason": reasons,
        "action": "make_valid" if repair else "not_repaired",
        "area_m2": shapely.area(after),
        "parts": shapely.get_num_geometries(after),
    }).astype({"area_id": "string", "source_row": "Int64", "reason": "string", "action": "string",
               "parts": "Int64"})
    for r in tab.itertuples(index=False):
        log.info("area %s (feature %s): invalid geometry (%s), %s", r.area_id, r.source_row,
                 r.reason, r.action)
    return tab


def clip_water(
    areas: gpd.GeoDataFrame,
    water: gpd.GeoDataFrame | gpd.GeoSeries | str | Path,
    *,
    area_id: str = "area_id",
    file: str | Path | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Remove water from the areas.

    Parameters
    ----------
    areas
        Areas with ``area_id``.
    water
        Water polygons, or a path to an OGR layer of them (reprojected to the areas' CRS).

    Returns
    -------
    (GeoDataFrame, DataFrame)
        The clipped areas (same rows, same order) and one row per clipped area:
        ``area_id``, ``water_m2``, ``water_share``.

    Raises
    ------
    InputError
        When an area would be all water (named).
    """
    if isinstance(water, (str, Path)):
        wp = Path(water)
        if not wp.exists():
            raise MissingFileError(wp, what="water layer")
        water = gpd.read_file(wp, engine="pyogrio")
    require_crs(water, what="the water layer")
    wg = np.asarray(water.to_crs(areas.crs).geometry.values)
    wg = wg[shapely.get_type_id(wg) >= 3]
    if len(wg) == 0:
        return areas, _empty_water()
    wu = shapely.union_all(shapely.make_valid(wg))
    shapely.prepare(wu)
    geoms = np.asarray(areas.geometry.values)
    hit = shapely.intersects(wu, geoms)
    before = shapely.area(geoms)
    clipped = geoms.copy()
    clipped[hit] = [_polygonal(g) for g in shapely.difference(geoms[hit], wu)]
    gone = hit & shapely.is_empty(clipped)
    if gone.any():
        ids = areas.loc[gone, area_id].tolist()
        raise InputError(f"the areas {', '.join(map(str, ids))} lie entirely in water.", file=file,
                         fix="remove them from the layer or check the water layer.")
    out = areas.copy()
    out = out.set_geometry(gpd.GeoSeries(clipped, index=areas.index, crs=areas.crs))
    removed = before - shapely.area(clipped)
    mask = hit & (removed > 0)
    tab = pd.DataFrame({"area_id": areas.loc[mask, area_id].astype("string").to_numpy(),
                        "water_m2": removed[mask], "water_share": removed[mask] / before[mask]})
    tab["area_id"] = tab["area_id"].astype("string")
    log.info("water clipped from %d areas (%.0f m2 in all)", len(tab), removed.sum())
    return out, tab


def check_areas(areas: gpd.GeoDataFrame, *, area_id: str = "area_id",
                tolerance_m2: float = 1.0) -> AreaReport:
    """Check an area layer for invalid geometries, overlaps and gaps.

    Parameters
    ----------
    areas
        Polygons in a projected CRS with a unique id column.
    area_id
        The id column.
    tolerance_m2
        Overlaps and gaps smaller than this are ignored.

    Returns
    -------
    AreaReport
        ``repairs`` lists invalid geometries (action ``not_repaired``; nothing is changed here).
    """
    require_projected(areas, what="the area layer (sizes are in m2)")
    ids = areas[area_id].astype("string").to_numpy()
    geoms = np.asarray(areas.geometry.values)
    valid = shapely.is_valid(geoms)
    inv = ~valid
    repairs = _empty_repairs()
    if inv.any():
        repairs = pd.DataFrame({
            "area_id": ids[inv], "source_row": (areas["source_row"].to_numpy()[inv]
                                                if "source_row" in areas else pd.NA),
            "reason": shapely.is_valid_reason(geoms[inv]), "action": "not_repaired",
            "area_m2": np.nan, "parts": shapely.get_num_geometries(geoms[inv]),
        }).astype(repairs.dtypes.to_dict())
    g = np.where(valid, geoms, shapely.make_valid(geoms))
    # overlaps: interiors shared by pairs
    i, j = areas.sindex.query(g, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    inter = shapely.area(shapely.intersection(g[i], g[j]))
    big = inter >= tolerance_m2
    a = shapely.area(g)
    overlaps = pd.DataFrame({
        "area_id_a": ids[i[big]], "area_id_b": ids[j[big]], "overlap_m2": inter[big],
        "share_of_a": inter[big] / a[i[big]], "share_of_b": inter[big] / a[j[big]],
    }).astype({"area_id_a": "string", "area_id_b": "string"})
    overlaps = overlaps.sort_values("overlap_m2", ascending=False, ignore_index=True)
    # gaps: holes of the union (regions enclosed by areas but inside none)
    union = shapely.union_all(g)
    holes = [shapely.Polygon(r) for part in shapely.get_parts(union) if part.geom_type == "Polygon"
             for r in part.interiors]
    holes_arr = np.array(holes, dtype=object)
    if len(holes_arr):
        holes_arr = holes_arr[shapely.area(holes_arr) >= tolerance_m2]
    gap_rows = []
    if len(holes_arr):
        hi, ai = areas.sindex.query(shapely.boundary(holes_arr), predicate="intersects")
        around: dict[int, list[str]] = {}
        for h, k in zip(hi, ai, strict=True):
            around.setdefault(int(h), []).append(str(ids[k]))
        pts = shapely.point_on_surface(holes_arr)
        for n, hole in enumerate(holes_arr):
            gap_rows.append({"gap_id": f"gap_{n + 1}", "area_m2": float(shapely.area(hole)),
                             "x": float(shapely.get_x(pts[n])), "y": float(shapely.get_y(pts[n])),
                             "bordering": ",".join(sorted(set(around.get(n, []))))})
    gaps = pd.DataFrame(gap_rows, columns=["gap_id", "area_m2", "x", "y", "bordering"])
    gaps = gaps.sort_values("area_m2", ascending=False, ignore_index=True)
    gaps["gap_id"] = [f"gap_{k + 1}" for k in range(len(gaps))]
    gaps = gaps.astype({"gap_id": "string", "bordering": "string", "area_m2": float,
                        "x": float, "y": float})
    return AreaReport(repairs=repairs, overlaps=overlaps, gaps=gaps, tolerance_m2=tolerance_m2)


def _act_on(rep: AreaReport, *, report: str, file: Path | None) -> None:
    if report not in {"warn", "log", "raise"}:
        raise ValueError(f"report must be 'warn', 'log' or 'raise', not {report!r}.")
    if rep.ok:
        log.info("%s: areas checked, no problems found", file)
        return
    text = msg("warn.areas", file=file, summary=rep.summary_msg(), attr=REPORT_ATTR)
    if report == "raise":
        raise InputError(msg("err.join", a=rep.summary_msg(), b="."), file=file,
                         fix=msg("err.areas_report.fix"))
    if report == "warn":
        warnings.warn(DataQualityWarning(text), stacklevel=3)
    else:
        log.warning("%s", text)


# --------------------------------------------------------------------------- hierarchies

def read_hierarchy(
    mapping: str | Path | pd.DataFrame | Mapping[str, str],
    *,
    child: str | None = None,
    parent: str | None = None,
) -> pd.DataFrame:
    """Read a child -> parent table (e.g. stadsdel -> stadsdelsområde).

    Parameters
    ----------
    mapping
        A CSV/Excel file of two columns, a DataFrame, or a dict ``{child: parent}``.
    child, parent
        The column names; by default the first and second columns.

    Returns
    -------
    DataFrame
        ``child`` (str), ``parent`` (str), ``source_row`` (file rows; NA for dicts).

    Raises
    ------
    InputError
        Empty cells, or a child given two different parents (rows named).
    """
    file: Path | None = None
    if isinstance(mapping, Mapping):
        df = pd.DataFrame({"child": list(mapping.keys()), "parent": list(mapping.values())})
        rows = pd.Series(pd.NA, index=df.index, dtype="Int64")
        child_col, parent_col = "child", "parent"
    else:
        if isinstance(mapping, (str, Path)):
            file = Path(mapping)
            tab = read_table(file, what="hierarchy table")
            df, rows = tab.frame, pd.Series(tab.source_row, dtype="Int64")
        else:
            df = mapping.reset_index(drop=True)
            rows = (df["source_row"].astype("Int64") if "source_row" in df
                    else pd.Series(np.arange(2, len(df) + 2), dtype="Int64"))
        cols = [c for c in df.columns if c != "source_row"]
        if len(cols) < 2 and (child is None or parent is None):
            raise InputError(f"a hierarchy table needs two columns (child, parent); found "
                             f"{', '.join(map(repr, cols)) or 'none'}.", file=file,
                             fix="give a CSV with e.g. 'stadsdel;stadsdelsomrade'.")
        child_col = child if child is not None else cols[0]
        parent_col = parent if parent is not None else cols[1]
        for c in (child_col, parent_col):
            if c not in df.columns:
                raise MissingColumnError(c, found=cols, file=file)
    out = pd.DataFrame({"child": _id_text(df[child_col]).to_numpy(),
                        "parent": _id_text(df[parent_col]).to_numpy(),
                        "source_row": rows.to_numpy()})
    out = out.astype({"child": "string", "parent": "string", "source_row": "Int64"})
    empty = out["child"].isna() | out["parent"].isna()
    if empty.any():
        r = out.loc[empty, "source_row"].tolist()
        raise InputError(f"empty cells in the hierarchy table (rows {', '.join(map(str, r))}).",
                         file=file, fix="fill in both columns on every row.")
    key = out["child"].map(fold_text)
    clash = out.groupby(key)["parent"].transform(lambda s: s.map(fold_text).nunique()) > 1
    if clash.any():
        bad = out.loc[clash]
        txt = "; ".join(f"'{c}' -> '{p}' (row {r})" for c, p, r in
                        zip(bad["child"], bad["parent"], bad["source_row"], strict=True))
        raise InputError(f"areas given two different parents: {txt}.", file=file,
                         fix="give each child area one parent.")
    return out.drop_duplicates(subset="child", ignore_index=True)


#: Everyday names of Stockholm's stadsdelar -> the official name in the city's stadsdel layer
#: (``../shared/data/stockholm_stadsdelar``, upper-case ``name``). Used by
#: :func:`match_area_keys` after the ids and names of the layer, so a layer that really has an
#: area called e.g. "Skarpnäck" (a stadsdelsområde layer) keeps it. An alias whose target is not
#: in the layer at hand is ignored. Keys and targets are compared folded (case, diacritics,
#: hyphens and spaces do not matter). Each entry and why:
AREA_ALIASES: dict[str, str] = {
    # "Vasastan" is what everyone says; the stadsdel is Vasastaden.
    "Vasastan": "Vasastaden",
    # Birkastan and Sibirien are everyday names of parts of Vasastaden.
    "Birkastan": "Vasastaden",
    "Sibirien": "Vasastaden",
    # "Söder" is Södermalm.
    "Söder": "Södermalm",
    # "Gärdet" is Ladugårdsgärdet.
    "Gärdet": "Ladugårdsgärdet",
    # The stadsdel Skarpnäcks gård is called Skarpnäck in everyday speech.
    "Skarpnäck": "Skarpnäcks gård",
    # The layer abbreviates the name of Ulvsunda industriområde.
    "Ulvsunda industriområde": "Ulvsunda industriomr",
    # Hammarby sjöstad's core (south of Hammarby sjö) is the stadsdel Södra Hammarbyhamnen.
    "Hammarby sjöstad": "Södra Hammarbyhamnen",
    # "Staden mellan broarna" is the old name of Gamla stan.
    "Staden mellan broarna": "Gamla stan",
    # Kastellholmen belongs to the stadsdel Skeppsholmen.
    "Kastellholmen": "Skeppsholmen",
    # "Kungsholms stadsdel" (the genitive form in older documents) is Kungsholmen.
    "Kungsholms stadsdel": "Kungsholmen",
}


def _area_key(text: str) -> str:
    """The folded form names are compared in: no case, diacritics, punctuation or spaces.

    >>> _area_key("Hägersten–Liljeholmen") == _area_key("HÄGERSTEN LILJEHOLMEN") == _area_key(
    ...     "hagerstenliljeholmen")
    True
    """
    return fold_text(text).replace(" ", "")


def _is_missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


#: The rapidfuzz ``WRatio`` (0-100, on folded names) a survey name must reach with an area
#: name before that area is suggested as its alias. "Östermalms stadsdel" -> ÖSTERMALM scores
#: 90 and "Kungsholms stadsdel" -> KUNGSHOLMEN 81; "Stockholms stad" -> SÄTRA scores 64 and
#: "Lärkstan" -> ÅRSTA 77, which are no suggestion.
ALIAS_MIN_SCORE = 80.0

#: Folded names of a whole city or a total row in a table of areas.
_TOTAL_NAMES = {"totalt", "total", "totals", "summa", "samtliga", "alla", "hela staden",
                "hela stockholm", "hela kommunen", "staden", "kommunen", "stockholm",
                "stockholms stad", "stockholms kommun", "stockholms stad totalt", "riket",
                "hela riket", "samtliga stadsdelar", "alla stadsdelar", "samtliga omraden",
                "alla omraden", "stadsdelar totalt", "city total", "whole city"}


def is_total_name(name: str) -> bool:
    """True for a name that stands for the whole city (a total row), not for one area.

    "Stockholms stad", "Hela staden", "Totalt", "Summa", "Göteborgs stad", "Solna kommun",
    "Totalt Stockholm", in any case or spelling of å/ä/ö. Only names that matched no area are
    tested, so a layer that really holds an area with such a name keeps it.

    Examples
    --------
    >>> [is_total_name(n) for n in ("Stockholms stad", "HELA STADEN", "Totalt", "Solna kommun",
    ...                             "Östermalm", "Gamla stan", "Norra Djurgårdsstaden")]
    [True, True, True, True, False, False, False]
    """
    folded = " ".join(fold_text(name).split())
    if folded in _TOTAL_NAMES:
        return True
    words = folded.split()
    if not words:
        return False
    # "<town>s stad", "<town> kommun", "Totalt ...", "Summa ...", "Hela ..."
    return (len(words) <= 3 and words[-1] in {"stad", "kommun", "totalt", "total"}) or \
        words[0] in {"totalt", "summa", "hela", "samtliga"}


def closest_area_name(text: str, areas: pd.DataFrame, *, area_id: str = "area_id",
                      min_score: float = 0.0) -> str | None:
    """The name (or id) in ``areas`` closest to ``text`` when folded; None for an empty layer.

    Used in messages ("did you mean ..."). Scored with rapidfuzz's ``WRatio`` on folded text;
    with ``min_score`` (e.g. :data:`ALIAS_MIN_SCORE`) None unless the best score reaches it,
    so a suggestion is only made when it is convincing.

    >>> areas = pd.DataFrame({"area_id": ["a", "b"], "name": ["VASASTADEN", "SÄTRA"]})
    >>> closest_area_name("Vasastan", areas)
    'VASASTADEN'
    >>> closest_area_name("Stockholms stad", areas, min_score=ALIAS_MIN_SCORE) is None
    True
    """
    col = "name" if "name" in areas else area_id
    names = [str(n) for n in areas[col].dropna().unique()]
    if not names:
        return None
    best = process.extractOne(fold_text(text), [fold_text(n) for n in names],
                              scorer=fuzz.WRatio)
    if best is None or best[1] < min_score:
        return None
    return names[best[2]]


def match_area_keys(
    keys: pd.Series,
    areas: pd.DataFrame,
    *,
    area_id: str = "area_id",
    aliases: Mapping[str, str] | None = None,
) -> pd.Series:
    """Map area keys as people write them to the ids of ``areas``: the one rule.

    Used for survey areas, the register's district column and unplaced districts alike. A key
    is tried, in this order:

    1. an ``area_id`` exactly as written;
    2. the user's ``aliases`` (``[survey] aliases`` in projekt.toml), so that an explicit alias
       also redirects a name that exists in the layer;
    3. an ``area_id``, then a ``name``, folded: case, spaces, hyphens and dashes, punctuation
       and diacritics do not matter ("Södermalm", "SÖDERMALM" and "sodermalm" all match the
       area ``sodermalm``; "Hägersten–Liljeholmen", "Hägersten Liljeholmen" and
       "HÄGERSTEN-LILJEHOLMEN" are one name);
    4. the built-in everyday names in :data:`AREA_ALIASES` ("Vasastan" -> "Vasastaden").

    Parameters
    ----------
    keys
        Area keys (names or ids) as written in a survey, a register or a table.
    areas
        The area layer, with ``area_id`` (or the column ``area_id=``) and usually ``name``.
    area_id
        The id column of ``areas``.
    aliases
        Alias -> area name or id. Extends :data:`AREA_ALIASES` and overrides an entry with the
        same (folded) key.

    Returns
    -------
    pandas.Series
        The matched ``area_id`` per key (string dtype, same index); NA for keys that match
        nothing and for missing keys.

    Raises
    ------
    InputError
        A user alias whose target is no area of the layer (listed, with the closest names).

    Examples
    --------
    >>> areas = pd.DataFrame({"area_id": ["vasastaden", "gamla_stan", "ostermalm"],
    ...                       "name": ["VASASTADEN", "GAMLA STAN", "ÖSTERMALM"]})
    >>> keys = pd.Series(["Gamla stan", "Östermalm", "Vasastan", "Lärkstan", "Gamla-Stan"])
    >>> match_area_keys(keys, areas).tolist()
    ['gamla_stan', 'ostermalm', 'vasastaden', <NA>, 'gamla_stan']
    >>> match_area_keys(pd.Series(["Lärkstan"]), areas, aliases={"Lärkstan": "Östermalm"}).tolist()
    ['ostermalm']
    """
    ids = areas[area_id].astype("string")
    exact = set(ids.dropna().tolist())
    folded: dict[str, str] = {}
    for col in ("name", area_id):  # ids win over names: assigned last
        if col in areas:
            for aid, key in zip(ids, areas[col], strict=True):
                if not _is_missing(key) and not _is_missing(aid):
                    folded[_area_key(str(key))] = str(aid)

    def target(t: str) -> str | None:
        return t if t in exact else folded.get(_area_key(t))

    builtin = {_area_key(k): a for k, v in AREA_ALIASES.items() if (a := target(v)) is not None}
    user: dict[str, str] = {}
    bad: list[tuple[str, str]] = []
    for k, v in (aliases or {}).items():
        a = target(str(v))
        if a is None:
            bad.append((str(k), str(v)))
        else:
            user[_area_key(str(k))] = a
    if bad:
        txt = ", ".join(f"'{k}' = '{v}'" for k, v in bad[:20])
        k0, v0 = bad[0]
        near = closest_area_name(v0, areas, area_id=area_id)
        raise InputError(
            f"{len(bad)} area aliases point to no area of the area layer: {txt}.",
            key="survey.aliases",
            fix="write the name or id of an area of the area layer after '='"
            + (f", e.g. \"{k0}\" = \"{near}\"." if near else "."),
        )

    def one(k: object) -> object:
        if _is_missing(k):
            return pd.NA
        t = str(k)
        if t in exact:
            return t
        f = _area_key(t)
        for table in (user, folded, builtin):
            if f in table:
                return table[f]
        return pd.NA

    return keys.map(one).astype("string")


def assign_parent(
    areas: gpd.GeoDataFrame,
    mapping: str | Path | pd.DataFrame | Mapping[str, str],
    *,
    child: str | None = None,
    parent: str | None = None,
) -> gpd.GeoDataFrame:
    """Fill the ``parent`` column of ``areas`` from a hierarchy table.

    Children are matched to ``area_id`` first, then to ``name``, ignoring case,
    diacritics and punctuation ("Södermalm" matches area ``sodermalm`` named
    ``SÖDERMALM``).

    Raises
    ------
    InputError
        When the table leaves areas out (all of them listed), or names areas that are not
        in the layer (listed; a typo in the table would otherwise go unnoticed).
    """
    table = read_hierarchy(mapping, child=child, parent=parent)
    file = mapping if isinstance(mapping, (str, Path)) else None
    matched = match_area_keys(table["child"], areas)
    unknown = table.loc[matched.isna()]
    if not unknown.empty:
        txt = ", ".join(
            f"'{c}' (row {r})" for c, r in zip(unknown["child"], unknown["source_row"], strict=True)
        )
        raise InputError(f"the hierarchy table names {len(unknown)} areas that are not in the "
                         f"area layer: {txt}.", file=file,
                         fix="correct the spelling (ids or names of the area layer).")
    par = dict(zip(matched, table["parent"], strict=True))
    out = areas.copy()
    out["parent"] = out["area_id"].map(par).astype("string")
    left = out.loc[out["parent"].isna()]
    if not left.empty:
        txt = ", ".join(f"{a} ({n})" for a, n in zip(left["area_id"], left["name"], strict=True))
        raise InputError(f"the hierarchy table leaves {len(left)} areas without a parent: {txt}.",
                         file=file, fix="add a row for each of these areas.")
    return out


def dissolve_hierarchy(
    areas: gpd.GeoDataFrame,
    mapping: str | Path | pd.DataFrame | Mapping[str, str] | None = None,
    *,
    child: str | None = None,
    parent: str | None = None,
) -> gpd.GeoDataFrame:
    """Dissolve child areas into their parents (stadsdel -> stadsdelsområde).

    Parameters
    ----------
    areas
        Areas shape (``area_id``, ``name``, ``parent``).
    mapping
        A two-column table (path, DataFrame or dict ``{child: parent}``); ``None`` uses
        the ``parent`` attribute of ``areas`` (``read_areas(parent_column=...)``).
    child, parent
        Column names in the table (default: its first and second columns).

    Returns
    -------
    geopandas.GeoDataFrame
        Areas shape, one row per parent in order of first appearance (in the table, or
        in ``areas`` when the parent attribute is used): ``area_id``
        (:func:`make_area_id` of the parent name), ``name`` (as written), ``parent`` (NA),
        ``n_children``, ``children`` (comma-joined child ids), ``source_row`` (NA), geometry.

    Raises
    ------
    InputError
        A table that leaves areas out (listed), or areas without a parent attribute.
    """
    if mapping is None:
        if "parent" not in areas or areas["parent"].isna().any():
            left = areas.loc[areas.get("parent", pd.Series(pd.NA, index=areas.index)).isna(),
                             "area_id"].tolist()
            raise InputError(f"{len(left)} areas have no parent: {', '.join(map(str, left[:50]))}.",
                             column="parent",
                             fix="read the areas with parent_column=..., or give a mapping table.")
        withp = areas
    else:
        withp = assign_parent(areas, mapping, child=child, parent=parent)
    parents = withp["parent"].astype(str)
    order = list(dict.fromkeys(parents))
    if mapping is not None:  # the table's order
        first = list(dict.fromkeys(read_hierarchy(mapping, child=child, parent=parent)["parent"]))
        order = [p for p in first if p in set(order)]
    rows = []
    for par in order:
        part = withp.loc[parents == par]
        geom = shapely.union_all(np.asarray(part.geometry.values))
        rows.append({"area_id": make_area_id(par), "name": par, "parent": pd.NA,
                     "n_children": len(part), "children": ",".join(part["area_id"].astype(str)),
                     "source_row": pd.NA, "geometry": _polygonal(geom)})
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=areas.crs)
    out = out.astype({"area_id": "string", "name": "string", "parent": "string",
                      "n_children": "int64", "children": "string", "source_row": "Int64"})
    ids = out["area_id"]
    if ids.duplicated().any():
        _refuse_duplicates(ids, pd.Series(np.arange(1, len(ids) + 1)), file=None, column="parent",
                           built=True)
    log.info("dissolved %d areas into %d parents", len(withp), len(out))
    return out

