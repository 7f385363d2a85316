"""GeoPackage and GeoTIFF output for GIS staff (QGIS, ArcGIS).

:func:`write_geopackage` writes the output layers (``investeringar_punkt``, ``omraden``, ...)
into one GeoPackage that opens styled, with Swedish field aliases, in QGIS:

- every layer in one CRS (the municipality's own, e.g. SWEREF 99 18 00), reprojected if
  needed; a layer without a CRS is refused;
- one geometry type per layer: Polygon and MultiPolygon (or LineString and
  MultiLineString, Point and MultiPoint) in one layer are promoted to the multi type; truly
  mixed types are refused;
- ``ej_placerade`` and (without geometry) ``effekter`` as attribute tables (GeoPackage data
  type ``attributes``);
- **empty layers are written with their schema** (their own columns plus the catalogue's
  fields), so that a QGIS project always finds the same set of layers; the report lists
  them in ``empty_layers``;
- dates as GeoPackage ``DATE`` (ISO ``YYYY-MM-DD``), booleans as integer 0/1 with GDAL's
  boolean subtype; object columns of mixed types are coerced to text (``None``/NaN stay
  NULL; lists and dicts become JSON) and listed in ``GpkgReport.coerced_columns``;
- a QGIS style per layer, with field aliases, in the standard ``layer_styles`` table, and
  the aliases and field descriptions also in the GeoPackage schema extension
  (``gpkg_data_columns``: ``name`` is the column GDAL >= 3.7 uses for a field's
  alternative name, ``description`` for its comment);
- a title and a description per layer in ``gpkg_contents`` (``identifier``, ``description``);
- the areas (``omraden``) coloured exactly as ``karta.html`` colours them: each row gets its
  style class in the field ``stilklass`` (:func:`trygg_geo._palette.area_style_classes`: the
  class edges computed from the layer's own changes, as the map computes them from the same
  areas), and the QGIS style is a categorized renderer on that field with the map's colours
  (ColorBrewer PuOr centred on zero; not significant light grey, too few answers dark grey,
  not measured white) and its class labels. Edit ``change`` in QGIS and ``stilklass`` stays as
  written: write the file again to reclassify.

The file is written atomically: everything goes into a hidden temporary file beside the
target (``.resultat.tmp-XXXX.gpkg``), which is renamed over the target at the end. A crash
or a kill never damages an earlier output; a temporary file left by a killed run is removed
by the next successful write.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

import trygg_geo.layers as catalogue
from trygg_geo._atomic import atomic_path
from trygg_geo._crs import crs_label, parse_crs, require_crs
from trygg_geo._errors import CRSError, InputError
from trygg_geo._outputs import remove_stale_temps, write_geotiff
from trygg_geo._palette import area_style_classes
from trygg_geo.layers._qml import STYLE_CLASS_FIELD, build_qml

__all__ = ["GpkgReport", "catalogue_layers", "write_geopackage", "write_raster_atomic"]

logger = logging.getLogger(__name__)

try:  # pyogrio's Arrow path writes dates as DATE fields; without pyarrow they become ISO text
    import pyarrow as pa

    _HAS_ARROW = True
except ImportError:  # pragma: no cover - pyarrow is installed with pandas 3 in practice
    pa = None
    _HAS_ARROW = False

GEOMETRY_COLUMN = "geom"  # GDAL's default geometry column name in a GeoPackage
STYLE_TABLE = "layer_styles"
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_FAMILY = {
    "Point": "Point", "MultiPoint": "Point",
    "LineString": "LineString", "MultiLineString": "LineString", "LinearRing": "LineString",
    "Polygon": "Polygon", "MultiPolygon": "Polygon",
}
_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}
_MAKE_MULTI = {
    "Point": shapely.multipoints, "LineString": shapely.multilinestrings,
    "Polygon": shapely.multipolygons,
}
_EMPTY_DTYPE = {
    "String": "str", "Integer": "Int32", "Integer64": "Int64", "Real": "float64",
    "Boolean": "boolean", "DateTime": "datetime64[ms]",
}


@dataclass(frozen=True)
class GpkgReport:
    """What :func:`write_geopackage` wrote.

    Attributes
    ----------
    path
        The GeoPackage.
    crs
        Its CRS (``"EPSG:3011"``), ``None`` when it holds only tables.
    feature_counts
        Layer -> number of rows written, in writing order.
    geometry_types
        Layer -> layer geometry type (``"MultiPolygon"``), ``None`` for a table.
    empty_layers
        Layers written with their schema but no rows.
    styled_layers
        Layers with a default QGIS style in ``layer_styles``.
    reprojected
        Layers reprojected into ``crs``.
    coerced_columns
        Layer -> columns whose values were coerced to text (mixed types, categories,
        non-active geometry columns as WKT).
    style_bins
        Layer -> class edges of ``|change|`` behind its ``stilklass`` field and style (the
        layers styled by change, e.g. ``omraden``); ``()`` when no change is shown.
    """

    path: Path
    crs: str | None
    feature_counts: dict[str, int]
    geometry_types: dict[str, str | None]
    empty_layers: tuple[str, ...] = ()
    styled_layers: tuple[str, ...] = ()
    reprojected: tuple[str, ...] = ()
    coerced_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    style_bins: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def layers(self) -> list[str]:
        """The layer names, in writing order."""
        return list(self.feature_counts)

    def to_frame(self) -> pd.DataFrame:
        """One row per layer.

        Columns: layer, geometry_type, features, crs, empty, styled, reprojected,
        coerced_columns (comma-joined).
        """
        rows = [
            {
                "layer": name,
                "geometry_type": self.geometry_types[name],
                "features": n,
                "crs": self.crs if self.geometry_types[name] else None,
                "empty": name in self.empty_layers,
                "styled": name in self.styled_layers,
                "reprojected": name in self.reprojected,
                "coerced_columns": ", ".join(self.coerced_columns.get(name, ())),
            }
            for name, n in self.feature_counts.items()
        ]
        return pd.DataFrame(rows, columns=[
            "layer", "geometry_type", "features", "crs", "empty", "styled", "reprojected",
            "coerced_columns",
        ])


@dataclass
class _Prepared:
    name: str
    frame: pd.DataFrame  # a GeoDataFrame for spatial layers
    geometry_type: str | None
    family: str | None
    coerced: list[str]
    reprojected: bool
    style_bins: tuple[float, ...] | None = None  # class edges of a layer styled by change
    style_used: tuple[str, ...] = ()  # the style classes that occur in it


# ---------------------------------------------------------------------------------------
# preparation (no I/O: every check runs before the first byte is written)
# ---------------------------------------------------------------------------------------


def _target_crs(layers: Mapping[str, pd.DataFrame], crs: Any) -> CRS | None:
    if crs is not None:
        return parse_crs(crs)
    for df in layers.values():
        if isinstance(df, gpd.GeoDataFrame) and df.crs is not None and len(df):
            return CRS.from_user_input(df.crs)
    return None


def _geometry_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if isinstance(df[c].dtype, gpd.array.GeometryDtype)]


def _split_geometry(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Keep at most the active geometry column; others become WKT text."""
    coerced: list[str] = []
    active = None
    if isinstance(df, gpd.GeoDataFrame):
        with contextlib.suppress(AttributeError):  # a GeoDataFrame without active geometry
            active = df.geometry.name
    extra = [c for c in _geometry_columns(df) if c != active]
    if extra:
        df = df.copy()
        for c in extra:
            df[c] = pd.Series(
                np.where(df[c].isna(), None, shapely.to_wkt(np.asarray(df[c].values))),
                index=df.index, dtype="str",
            )
            coerced.append(c)
        logger.info("layer '%s': extra geometry columns written as WKT text: %s", name, extra)
    if isinstance(df, gpd.GeoDataFrame) and active is None:
        df = pd.DataFrame(df)
    return df, coerced


def _geometry(name: str, gdf: gpd.GeoDataFrame, allowed: list[str | None]) -> tuple[
    gpd.GeoDataFrame, str | None, str | None
]:
    """One geometry type per layer: promote single to multi where mixed, refuse the rest."""
    geoms = gdf.geometry
    present = geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
    n_empty = int((geoms.notna() & geoms.is_empty).sum())
    if n_empty:
        logger.info("layer '%s': %d empty geometries written as NULL geometry", name, n_empty)
        gdf = gdf.copy()
        gdf.loc[(geoms.notna() & geoms.is_empty).to_numpy(), gdf.geometry.name] = None
        geoms = gdf.geometry
    types = geoms[present].geom_type
    counts = types.value_counts()
    families = {_FAMILY.get(t, t) for t in counts.index}
    if len(families) > 1 or (families and next(iter(families)) not in _MULTI):
        detail = ", ".join(
            f"{t} ({n} rows, first at index {types[types == t].index[0]!r})"
            for t, n in counts.items()
        )
        raise InputError(
            f"layer '{name}' mixes geometry types: {detail}. A GeoPackage layer holds one "
            "geometry type (Point, LineString or Polygon, or their multi types), and so does QGIS.",
            column=gdf.geometry.name,
            fix="split the rows into one layer per geometry type (as investeringar_punkt, "
            "_linje and _yta do), or convert the odd geometries (e.g. buffer points, explode "
            "GeometryCollections) before writing.",
        )
    if not families:  # no geometries at all: the catalogue's type, else GDAL's Unknown
        family = next((g for g in allowed if g), None)
        return gdf, family, family or "Unknown"
    family = next(iter(families))
    spatial_allowed = [g for g in allowed if g]
    if allowed and family not in spatial_allowed:
        expected = ", ".join(g or "no geometry" for g in allowed)
        raise InputError(
            f"layer '{name}' holds {family} geometries, but the layer catalogue defines it "
            f"with {expected}.",
            column=gdf.geometry.name,
            fix="write the rows to the layer of their geometry type (e.g. points to "
            "investeringar_punkt) or use another layer name.",
        )
    has_z = bool(geoms[present].has_z.any())
    if len(counts) > 1:  # single and multi of one family: promote the singles
        single = (geoms.geom_type == family).to_numpy()
        arr = np.asarray(geoms.values)
        promoted = _MAKE_MULTI[family](arr[single], indices=np.arange(int(single.sum())))
        gdf = gdf.copy()
        gdf.loc[single, gdf.geometry.name] = promoted
        logger.info("layer '%s': %d %s promoted to %s", name, int(single.sum()), family,
                    _MULTI[family])
        gtype = _MULTI[family]
    else:
        gtype = str(counts.index[0])
        if gtype == "LinearRing":
            gtype = "LineString"
    return gdf, family, gtype + (" Z" if has_z else "")


def _to_date(s: pd.Series) -> pd.Series:
    """A datetime Series as GeoPackage DATE values (Arrow date32, or ISO text without Arrow)."""
    if not isinstance(s.dtype, pd.DatetimeTZDtype) and s.dtype.kind != "M":
        s = pd.to_datetime(s, errors="raise")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    missing = s.isna().to_numpy()
    if _HAS_ARROW:
        days = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        arr = pa.array(days, type=pa.date32(), mask=missing)
        return pd.Series(pd.arrays.ArrowExtensionArray(arr), index=s.index, name=s.name)
    return pd.Series(
        np.where(missing, None, s.dt.strftime("%Y-%m-%d")), index=s.index, dtype="str"
    )


def _text(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT or v is pd.NA:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, list | tuple | dict | set):
        return json.dumps(list(v) if isinstance(v, set) else v, ensure_ascii=False, default=str)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def _columns(name: str, df: pd.DataFrame, geometry: str | None) -> tuple[pd.DataFrame, list[str]]:  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
    """Give every attribute column one OGR-friendly type."""
    df = df.copy()
    coerced: list[str] = []
    for col in [c for c in df.columns if c != geometry]:
        s = df[col]
        spec = catalogue.field_spec(name, col)
        want = spec.type if spec else None
        dtype = s.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            df[col] = pd.Series([_text(v) for v in s.astype(object)], index=s.index, dtype="str")
            coerced.append(col)
            continue
        if dtype.kind == "M" or isinstance(dtype, pd.DatetimeTZDtype):
            naive = s.dt.tz_localize(None) if isinstance(dtype, pd.DatetimeTZDtype) else s
            midnight = bool((naive.dropna() == naive.dropna().dt.normalize()).all())
            if want == "Date" or (
                want is None and midnight and not isinstance(dtype, pd.DatetimeTZDtype)
            ):
                if not midnight:
                    logger.warning("layer '%s', column '%s': times dropped, the catalogue "
                                   "defines it as a date", name, col)
                df[col] = _to_date(s)
            continue
        if dtype.kind == "m":
            df[col] = pd.Series([_text(v) for v in s.astype(object)], index=s.index, dtype="str")
            coerced.append(col)
            continue
        if dtype == np.dtype(object):
            inferred = pd.api.types.infer_dtype(s, skipna=True)
            if inferred == "string":
                df[col] = s.astype("str")
            elif inferred == "empty":
                if want == "Date":
                    df[col] = _to_date(pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]"))
                else:
                    df[col] = s.astype(_EMPTY_DTYPE.get(want or "String", "str"))
            elif inferred == "boolean":
                df[col] = s.astype("boolean")
            elif inferred == "integer":
                df[col] = s.astype("Int64")
            elif inferred in ("floating", "mixed-integer-float", "decimal"):
                df[col] = s.astype("float64")
            elif inferred == "date":
                df[col] = _to_date(pd.to_datetime(s))
            elif inferred in ("datetime", "datetime64"):
                pass  # pyogrio writes datetime objects as DATETIME, keeping their offsets
            else:
                df[col] = pd.Series([_text(v) for v in s], index=s.index, dtype="str")
                coerced.append(col)
                logger.info("layer '%s', column '%s': mixed values (%s) written as text",
                            name, col, inferred)
            continue
        # numbers the catalogue calls integers or booleans: lossless conversion only
        if want in ("Integer", "Integer64") and dtype.kind == "f":
            vals = s.dropna()
            if bool(np.isfinite(vals).all() and (vals == np.round(vals)).all()):
                df[col] = s.astype("Int64")
        elif want == "Boolean" and dtype.kind in "if" and bool(s.dropna().isin([0, 1]).all()):
            df[col] = s.astype("boolean")
    return df, coerced


def _style_classes(name: str, df: pd.DataFrame, *, k: int, scheme: str) -> tuple[
    pd.DataFrame, tuple[float, ...] | None
]:
    """Add ``stilklass`` to a layer the catalogue styles by change; ``None`` bins otherwise.

    The class comes from :func:`trygg_geo._palette.area_style_classes` over the layer's own
    rows, the rule ``karta.html`` applies to the same areas; an existing ``stilklass`` column
    is replaced, so that the field and the style always agree.
    """
    if not catalogue.has_layer(name) or catalogue.layer_spec(name).get("style") != "change":
        return df, None
    value = (catalogue.layer_spec(name).get("style_field") or ["change"])[0]
    geometry = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    attrs = pd.DataFrame(df.drop(columns=[geometry] if geometry else []))
    classes, bins = area_style_classes(attrs, value_column=value, k=k, scheme=scheme)
    if STYLE_CLASS_FIELD in df.columns:
        logger.info("layer '%s': '%s' recomputed from '%s'", name, STYLE_CLASS_FIELD, value)
        df = df.drop(columns=[STYLE_CLASS_FIELD])
    else:
        df = df.copy()
    df[STYLE_CLASS_FIELD] = pd.Series(classes, index=df.index, dtype="str")
    if geometry:  # keep the geometry column last, as written by the other layers
        df = df[[c for c in df.columns if c != geometry] + [geometry]]
    return df, bins


def _prepare(  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
    name: str, df: pd.DataFrame, target: CRS | None, *, crs_given: bool,
    classes_per_side: int = 3, scheme: str = "Quantiles",
) -> _Prepared:
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"layer '{name}' is a {type(df).__name__}, not a DataFrame or GeoDataFrame.",
            fix="pass a GeoDataFrame (spatial layers) or a DataFrame (tables).",
        )
    if not _SNAKE.match(name):
        raise InputError(
            f"layer name '{name}' is not ASCII snake_case, which GIS tools need.",
            fix="use lower-case a-z, digits and '_' (e.g. 'otrygga_platser').",
        )
    if not catalogue.has_layer(name):
        logger.warning("layer '%s' is not in the layer catalogue: written without a style or "
                       "aliases", name)
    allowed = catalogue.geometry_types(name)
    if not isinstance(df.index, pd.RangeIndex) and any(n is not None for n in df.index.names):
        df = df.reset_index()  # a named index is data (e.g. area_id): keep it as columns
    dupes = sorted({str(c) for c in df.columns if list(df.columns).count(c) > 1})
    if dupes:
        raise InputError(f"layer '{name}' has duplicate columns: {', '.join(dupes)}.",
                         fix="rename or drop the duplicates.")
    if any(not isinstance(c, str) for c in df.columns):
        df = df.rename(columns={c: str(c) for c in df.columns})
    bad = [c for c in df.columns if not _SNAKE.match(c)]
    if bad:
        logger.warning("layer '%s': columns not in ASCII snake_case (some GIS tools mangle "
                       "them): %s", name, bad)
    df, coerced = _split_geometry(name, df)

    spatial = isinstance(df, gpd.GeoDataFrame)
    if spatial and allowed and None in allowed:
        has_geoms = bool((df.geometry.notna() & ~df.geometry.is_empty).any())
        if not has_geoms:  # an all-null geometry column on a table layer
            df = pd.DataFrame(df.drop(columns=df.geometry.name))
            spatial = False
        elif not any(allowed):
            raise InputError(
                f"layer '{name}' is a table without geometry in the layer catalogue, but the "
                "data has geometries.",
                fix=f"pass a DataFrame (e.g. pd.DataFrame(gdf.drop(columns='geometry'))) "
                f"for '{name}', or use another layer name.",
            )
    if not spatial and allowed and None not in allowed:
        raise InputError(
            f"layer '{name}' needs geometries ({', '.join(str(g) for g in allowed)}), but a "
            "DataFrame without a geometry column was given.",
            fix="pass a GeoDataFrame with its CRS set.",
        )

    df, style_bins = _style_classes(name, df, k=classes_per_side, scheme=scheme)
    if len(df) == 0 and catalogue.has_layer(name):  # the catalogue's schema for empty layers
        spec = catalogue.layer_spec(name)
        for f in spec["fields"]:
            if f["name"] not in df.columns:
                if f["type"] == "Date":
                    df[f["name"]] = _to_date(pd.Series([], dtype="datetime64[ns]"))
                else:
                    df[f["name"]] = pd.Series([], dtype=_EMPTY_DTYPE[f["type"]])

    reprojected = False
    gtype = family = None
    if spatial:
        gdf: gpd.GeoDataFrame = df  # type: ignore[assignment]
        if gdf.crs is None:
            if len(gdf) and gdf.geometry.notna().any():
                require_crs(gdf, what=f"layer '{name}'")
            if target is None:
                raise CRSError(f"layer '{name}' is empty and has no CRS, and no other layer "
                               "gives one.",
                               fix="pass crs= to write_geopackage (e.g. crs='EPSG:3006').")
            gdf = gdf.set_crs(target)
        elif target is not None and not CRS.from_user_input(gdf.crs).equals(target):
            logger.info("layer '%s': reprojected from %s to %s%s", name,
                        crs_label(CRS.from_user_input(gdf.crs)), crs_label(target),
                        "" if crs_given else " (the first layer's CRS)")
            gdf = gdf.to_crs(target)
            reprojected = True
        gdf, family, gtype = _geometry(name, gdf, allowed)
        df = gdf
    df, more = _columns(name, df, df.geometry.name if spatial else None)
    if spatial and df.geometry.name != GEOMETRY_COLUMN and GEOMETRY_COLUMN in df.columns:
        raise InputError(f"layer '{name}' has an attribute column named '{GEOMETRY_COLUMN}', "
                         "the GeoPackage geometry column.", column=GEOMETRY_COLUMN,
                         fix=f"rename the column '{GEOMETRY_COLUMN}'.")
    used = tuple(sorted(set(df[STYLE_CLASS_FIELD].dropna()))) if style_bins is not None else ()
    return _Prepared(name, df, gtype, family, coerced + more, reprojected,
                     style_bins=style_bins, style_used=used)


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------


def _write_layer(tmp: Path, p: _Prepared, *, title: str, description: str, first: bool,
                 metadata: Mapping[str, str] | None = None) -> None:
    frame = p.frame.copy(deep=False)
    frame.attrs = {}  # pandas attrs (e.g. a result object) are not layer metadata
    kwargs: dict[str, Any] = {}
    if p.geometry_type is not None:
        frame = (
            frame.rename_geometry(GEOMETRY_COLUMN)
            if frame.geometry.name != GEOMETRY_COLUMN
            else frame
        )
        kwargs["geometry_type"] = p.geometry_type
        kwargs["promote_to_multi"] = False  # done (and checked) in _geometry
    layer_options = {"IDENTIFIER": title, "DESCRIPTION": description}
    pyogrio.write_dataframe(
        frame, tmp, layer=p.name, driver="GPKG", use_arrow=_HAS_ARROW,
        layer_options=layer_options,
        # GeoPackage 1.2: read without warnings by older GDAL (QGIS/ArcGIS installs)
        dataset_options={"VERSION": "1.2"} if first else None,
        dataset_metadata=dict(metadata) if first and metadata else None,
        **kwargs,
    )


def _unique_titles(names: Sequence[str], lang: str) -> dict[str, str]:
    titles: dict[str, str] = {}
    used: set[str] = {STYLE_TABLE}
    for n in names:
        t = catalogue.layer_title(n, lang)
        if t in used:
            t = f"{t} ({n})"
        used.add(t)
        titles[n] = t
    return titles


def _write_styles(tmp: Path, prepared: Sequence[_Prepared], lang: str) -> list[str]:
    """The QGIS ``layer_styles`` table: one default style (with aliases) per catalogue layer."""
    rows = []
    now = pd.Timestamp.now(tz="UTC").floor("s")
    for p in prepared:
        if not catalogue.has_layer(p.name):
            continue
        fields = [c for c in p.frame.columns
                  if not (p.geometry_type and c == p.frame.geometry.name)]
        rows.append({
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": p.name,
            # QGIS matches on OGR_L_GetGeometryColumn, which is "" for a table
            "f_geometry_column": GEOMETRY_COLUMN if p.geometry_type else "",
            "styleName": p.name,
            "styleQML": build_qml(
                catalogue.layer_spec(p.name),
                aliases=catalogue.field_aliases(p.name, lang, columns=fields),
                fields=fields, geometry=p.family, lang=lang,
                change_bins=p.style_bins, change_used=p.style_used,
            ),
            "styleSLD": "",
            "useAsDefault": True,
            "description": f"trygg_geo: {catalogue.layer_title(p.name, lang)}",
            "owner": "trygg_geo",
            "ui": "",
            "update_time": now,
        })
    if not rows:
        return []
    table = pd.DataFrame(rows)
    pyogrio.write_dataframe(
        table, tmp, layer=STYLE_TABLE, driver="GPKG", use_arrow=_HAS_ARROW,
        layer_options={"FID": "id", "IDENTIFIER": STYLE_TABLE,
                       "DESCRIPTION": "QGIS layer styles (written by trygg_geo)"},
    )
    return [r["f_table_name"] for r in rows]


_DATA_COLUMNS_SQL = """
CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
  description TEXT, mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
  min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
INSERT OR IGNORE INTO gpkg_extensions VALUES
  ('gpkg_data_columns', NULL, 'gpkg_schema',
   'http://www.geopackage.org/spec120/#extension_schema', 'read-write'),
  ('gpkg_data_column_constraints', NULL, 'gpkg_schema',
   'http://www.geopackage.org/spec120/#extension_schema', 'read-write');
"""


def _write_data_columns(tmp: Path, prepared: Sequence[_Prepared], lang: str) -> None:
    """Aliases (``name``, GDAL's field alternative name) and descriptions per column."""
    rows = []
    for p in prepared:
        used: set[str] = set()
        for c in p.frame.columns:
            spec = catalogue.field_spec(p.name, c)
            if spec is None:
                continue
            alias = spec.alias(lang)
            if alias in used:  # gdc_tn: a name is unique within its table
                alias = f"{alias} ({c})"
            used.add(alias)
            rows.append((p.name, c, alias, spec.description))
    if not rows:
        return
    con = sqlite3.connect(tmp)
    try:
        with con:
            con.executescript(_DATA_COLUMNS_SQL)
            con.executemany(
                "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, "
                "description) VALUES (?, ?, ?, ?)", rows,
            )
    finally:
        con.close()


def write_geopackage(
    path: str | os.PathLike[str],
    layers: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    *,
    crs: Any = None,
    lang: str = "sv",
    descriptions: Mapping[str, str] | None = None,
    crash_hook: Callable[[str], None] | None = None,
    metadata: Mapping[str, str] | None = None,
    classes_per_side: int = 3,
    scheme: str = "Quantiles",
) -> GpkgReport:
    """Write output layers into one styled GeoPackage, atomically.

    Parameters
    ----------
    path
        The ``.gpkg`` file. An existing file is replaced as a whole (layers not passed
        this time are gone), and only once the new file is complete.
    layers
        Layer name -> GeoDataFrame (spatial layers) or DataFrame (tables), written in this
        order. Names of the layer catalogue (:mod:`trygg_geo.layers`) get its titles,
        descriptions, aliases and styles; other ASCII snake_case names are written plain.
        Empty frames are written with their schema (plus the catalogue's fields).
    crs
        The CRS of every spatial layer (anything pyproj accepts: ``"EPSG:3011"``, 3006,
        a ``pyproj.CRS``); layers in another CRS are reprojected. By default the CRS of the
        first non-empty spatial layer.
    lang
        Language of aliases, titles, descriptions and legend labels: ``"sv"`` or ``"en"``.
    descriptions
        Layer -> description, overriding the catalogue's (``gpkg_contents.description``).
    crash_hook
        Test hook, called with the layer name after each layer is written to the
        temporary file.
    metadata
        Dataset metadata (key -> text), e.g. the run id of :func:`trygg_geo.run`; GDAL and
        QGIS show it (``ogrinfo`` lists it under "Metadata").
    classes_per_side, scheme
        Change classes on each side of zero (1-4) and the mapclassify scheme of their edges,
        for the layers styled by change (``omraden``). Pass what :func:`trygg_geo.build_map`
        got (its defaults are these), so that QGIS and ``karta.html`` draw the same classes.

    Returns
    -------
    GpkgReport

    Raises
    ------
    CRSError
        A spatial layer with rows has no CRS, or ``crs`` is not a CRS.
    InputError
        A layer mixes geometry types, holds another geometry type than the catalogue
        defines, has duplicate columns, or has a name that is not ASCII snake_case.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"investment_id": ["A1"], "kind": ["kamerabevakning"]},
    ...                        geometry=[Point(153000, 6580000)], crs="EPSG:3011")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "resultat.gpkg"
    >>> rep = write_geopackage(out, {"investeringar_punkt": pts})
    >>> rep.crs, rep.feature_counts, rep.geometry_types
    ('EPSG:3011', {'investeringar_punkt': 1}, {'investeringar_punkt': 'Point'})
    """
    started = time.time()
    if lang not in catalogue.LANGUAGES:
        raise ValueError(f"lang must be one of {catalogue.LANGUAGES}, got {lang!r}.")
    target = Path(path)
    if target.suffix.lower() != ".gpkg":
        raise InputError(f"'{target}' does not end in .gpkg, which QGIS and ArcGIS need to "
                         "recognise a GeoPackage.", file=target, fix="name the file *.gpkg.")
    if not layers:
        raise InputError("write_geopackage got no layers.", file=target,
                         fix="pass a mapping of layer name -> GeoDataFrame or DataFrame.")
    if STYLE_TABLE in layers:
        raise InputError(f"'{STYLE_TABLE}' is reserved for the QGIS styles.", file=target,
                         fix="use another layer name.")
    descriptions = dict(descriptions or {})
    unknown = sorted(set(descriptions) - set(layers))
    if unknown:
        raise InputError(f"descriptions given for layers that are not written: {unknown}.",
                         fix=f"use names from: {', '.join(layers)}.")
    tcrs = _target_crs(layers, crs)
    prepared = [_prepare(n, df, tcrs, crs_given=crs is not None,
                         classes_per_side=classes_per_side, scheme=scheme)
                for n, df in layers.items()]
    titles = _unique_titles([p.name for p in prepared], lang)

    try:
        with atomic_path(target) as tmp:
            for i, p in enumerate(prepared):
                desc = descriptions.get(p.name) or catalogue.layer_description(p.name, lang)
                _write_layer(tmp, p, title=titles[p.name], description=desc, first=i == 0,
                             metadata=metadata)
                logger.debug("layer '%s': %d rows written", p.name, len(p.frame))
                if crash_hook is not None:
                    crash_hook(p.name)
            styled = _write_styles(tmp, prepared, lang)
            _write_data_columns(tmp, prepared, lang)
    except PermissionError as exc:
        raise PermissionError(
            f"could not replace '{target}': {exc}. Fix: close the file in QGIS or ArcGIS "
            "(Windows locks open files) and run again, or write to another file name."
        ) from exc
    remove_stale_temps(target, older_than=started)

    report = GpkgReport(
        path=target,
        crs=crs_label(tcrs) if tcrs is not None and any(p.geometry_type for p in prepared)
        else None,
        feature_counts={p.name: len(p.frame) for p in prepared},
        geometry_types={p.name: p.geometry_type for p in prepared},
        empty_layers=tuple(p.name for p in prepared if len(p.frame) == 0),
        styled_layers=tuple(styled),
        reprojected=tuple(p.name for p in prepared if p.reprojected),
        coerced_columns={p.name: tuple(p.coerced) for p in prepared if p.coerced},
        style_bins={p.name: p.style_bins for p in prepared if p.style_bins is not None},
    )
    logger.info("wrote %s: %s", target, ", ".join(
        f"{k} ({v})" for k, v in report.feature_counts.items()))
    return report


def write_raster_atomic(
    path: str | os.PathLike[str],
    array: np.ndarray,
    *,
    transform: Any,
    crs: Any,
    nodata: float | None = None,
    description: str | Sequence[str] | None = None,
) -> Path:
    """Write a GeoTIFF atomically (temporary file beside ``path``, then rename).

    The package's one GeoTIFF writer, :func:`trygg_geo._outputs.write_geotiff` (compressed,
    tiled when large); see it for dataset tags such as the run id.

    Parameters
    ----------
    path
        The ``.tif`` file.
    array
        ``(rows, cols)`` for one band or ``(bands, rows, cols)``. Booleans are written
        as uint8.
    transform
        An ``affine.Affine`` (e.g. ``rasterio.transform.from_origin``).
    crs
        The raster's CRS (required), e.g. the GeoPackage's.
    nodata
        The nodata value; by default NaN for a float array that holds NaN.
    description
        Band description(s): one string for every band, or one per band.

    Returns
    -------
    Path
        ``path``.
    """
    target = write_geotiff(path, array, transform=transform, crs=crs, nodata=nodata,
                           band_description=description)
    logger.info("wrote %s", target)
    return target


_MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}


def catalogue_layers(
    tables: Mapping[str, pd.DataFrame | None],
) -> dict[str, pd.DataFrame]:
    """The GeoPackage layers of the layer catalogue, cut from the run's tables.

    ``layers/catalogue.json`` says, for every layer, which table it comes from
    (``source.table``: ``investments``, ``unplaced``, ``areas``, ``roles``, ``effects``,
    ``hotspots``), which rows (``source.where``, e.g. ``{"role": "treated"}``, and the
    layer's ``geometry`` family, so points, lines and polygons go to their own layers) and
    which columns: the catalogue's fields, in catalogue order, then the columns that match
    its patterns (``n_{wave}``, ...), in table order. A column the catalogue does not
    describe is not written. A table that is ``None`` (no incidents, so no hot spots) gives
    no layer; an empty one gives an empty layer with its schema.

    Raises
    ------
    KeyError
        When a catalogue layer names a table that ``tables`` does not have.
    """
    out: dict[str, pd.DataFrame] = {}
    for name in catalogue.layer_names():
        spec = catalogue.layer_spec(name)
        source = spec.get("source")
        if source is None:
            continue
        if source["table"] not in tables:
            raise KeyError(f"the catalogue's layer '{name}' comes from the table "
                           f"'{source['table']}', which the run did not give "
                           f"(tables: {', '.join(tables)}).")
        table = tables[source["table"]]
        if table is None:
            continue
        rows = pd.Series(True, index=table.index)
        for col, value in source.get("where", {}).items():
            rows &= table[col] == value
        families = [g for g in spec["geometry"] if g is not None]
        if families and isinstance(table, gpd.GeoDataFrame) and len(table):
            allowed = [*families, *(_MULTI[g] for g in families if g in _MULTI)]
            rows &= table.geometry.geom_type.isin(allowed)
        out[name] = table.loc[rows, _catalogue_columns(name, spec, table)]
    return out


def _catalogue_columns(name: str, spec: Mapping[str, Any], table: pd.DataFrame) -> list[str]:
    named = [f["name"] for f in spec["fields"] if f["name"] in table.columns]
    patterned = [c for c in table.columns if c not in named and c != _geometry_name(table)
                 and catalogue.field_spec(name, str(c)) is not None]
    geometry = [_geometry_name(table)] if isinstance(table, gpd.GeoDataFrame) else []
    return [*named, *patterned, *geometry]


def _geometry_name(table: pd.DataFrame) -> str | None:
    return table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None

