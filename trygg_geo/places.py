"""Places residents point out: safety-walk notes, app reports and survey place questions.

:func:`read_reports` reads point reports from a table (CSV or Excel, with coordinates or
addresses; addresses go through the same geocoding cascade as the investment register) or a
vector file (GeoPackage, GeoJSON, shapefile ...), and accounts for every row: placed, or in
``unplaced`` with its reason. Free text is kept in ``text`` for the analyst; it is never
published with the point unless ``[privacy] publish_text`` allows it, and it is HTML-escaped
wherever it is shown.

:func:`repeated_places` groups reports that lie within ``distance_m`` of one another (single
linkage, 50 m by default) into the places residents name again and again, with their counts.
:func:`hot_spots_by_category` runs Gi* (:func:`trygg_geo.hotspots.hot_spots`) per category.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from trygg_geo._crs import parse_crs, require_crs, require_projected
from trygg_geo._errors import DataQualityWarning, InputError, MissingFileError
from trygg_geo._i18n import LANGS, text
from trygg_geo._tabular import (
    fold_text,
    match_columns,
    parse_dates_checked,
    parse_number,
    read_table,
)
from trygg_geo.geocode import Gazetteer, geocode_register
from trygg_geo.hotspots import HotSpotResult, hot_spots

__all__ = [
    "REPORT_COLUMNS",
    "ReportPoints",
    "hot_spots_by_category",
    "read_reports",
    "repeated_places",
]

log = logging.getLogger(__name__)

#: Recognised headers of a report file (case, å/ä/ö and punctuation do not matter).
REPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "report_id": ("id", "ärende", "ärendenummer", "ärende-id", "rapport-id", "report_id", "nr"),
    "date": ("datum", "inkommet", "inkom", "tidpunkt", "registrerad", "date", "created"),
    "category": ("kategori", "typ", "ärendetyp", "problem", "category", "type", "tema"),
    "text": ("beskrivning", "text", "fritext", "kommentar", "synpunkt", "meddelande",
             "description", "comment", "anteckning"),
    "address": ("adress", "plats", "gatuadress", "var", "platsbeskrivning", "address",
                "location"),
    "x": ("x", "e", "östlig", "easting", "lon", "longitud", "lng"),
    "y": ("y", "n", "nordlig", "northing", "lat", "latitud"),
    "crs": ("koordinatsystem", "crs", "epsg", "referenssystem"),
}
_TABLES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
#: Why a report is unplaced, by reason code and language (the ``places.`` texts of
#: :data:`trygg_geo._i18n.TEXTS`).
_REASON_TEXT: dict[str, dict[str, str]] = {
    reason: {lang: text(f"places.{reason}", lang) for lang in LANGS}
    for reason in ("no_location", "no_gazetteer", "no_geometry", "bad_coordinates")
}


@dataclass(frozen=True)
class ReportPoints:
    """Reports read from one file.

    Attributes
    ----------
    placed
        Points in the working CRS: ``report_id``, ``source_row``, ``category`` (as written,
        ``okänd`` when empty), ``date``, ``text``, ``place_method`` (``coordinates``,
        ``geometry``, or the geocoder's method), ``place_flag`` and ``geometry``.
    unplaced
        ``report_id``, ``source_row``, ``category``, ``date``, ``reason``, ``reason_text``.
    """

    placed: gpd.GeoDataFrame
    unplaced: pd.DataFrame

    def __len__(self) -> int:
        """Rows read: placed plus unplaced."""
        return len(self.placed) + len(self.unplaced)


def _as_points(geoms: gpd.GeoSeries) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Points as they are; lines and polygons by a point on them (flag ``point_on_geometry``)."""
    kind = shapely.get_type_id(geoms.to_numpy())
    is_point = kind == shapely.GeometryType.POINT
    out = geoms.copy()
    if (~is_point).any():
        out[~is_point] = geoms[~is_point].representative_point()
    return out, np.where(is_point, "", "point_on_geometry")


def _unplaced(frame: pd.DataFrame, reason: str, lang: str) -> pd.DataFrame:
    out = frame[["report_id", "source_row", "category", "date"]].copy()
    out["reason"] = reason
    out["reason_text"] = _REASON_TEXT[reason][lang]
    return out


def _read_vector(path: Path, *, crs: Any, columns: Mapping[str, str] | None,
                 layer: str | None, work: Any) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    gdf = pyogrio.read_dataframe(path, layer=layer)
    if gdf.crs is None:
        if crs is None:
            require_crs(None, what="the report file", file=path, key="reports.crs")
        gdf = gdf.set_crs(parse_crs(crs))
    mapping = match_columns([str(c) for c in gdf.columns if c != "geometry"], REPORT_COLUMNS,
                            override=columns, file=path, config_key="reports.columns")
    frame = pd.DataFrame({"source_row": np.arange(1, len(gdf) + 1, dtype=np.int64)})
    for field in ("report_id", "category", "text"):
        frame[field] = (gdf[mapping[field]].astype("string").to_numpy() if field in mapping
                        else pd.array([pd.NA] * len(gdf), dtype="string"))
    frame["date"] = (pd.to_datetime(gdf[mapping["date"]], errors="coerce").to_numpy()
                     if "date" in mapping else pd.NaT)
    has = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    pts, flag = _as_points(gdf.geometry[has].to_crs(work))
    placed = gpd.GeoDataFrame(frame[has].assign(place_method="geometry", place_flag=flag[:]),
                              geometry=pts.to_numpy(), crs=work)
    return frame[~has], placed


def _read_table(path: Path, *, crs: Any, columns: Mapping[str, str] | None,
                gazetteer: Gazetteer | None, areas: gpd.GeoDataFrame | None, work: Any,
                lang: str) -> tuple[list[pd.DataFrame], gpd.GeoDataFrame]:
    table = read_table(path, what="report file", config_section="reports")
    mapping = match_columns(list(table.frame.columns), REPORT_COLUMNS, override=columns,
                            file=path, config_key="reports.columns")
    if not ({"x", "y"} <= set(mapping) or "address" in mapping):
        raise InputError("the report file has neither coordinate columns (x, y) nor an address "
                         "column.", file=path, fix="add the columns, or name them under "
                         "[reports.columns] in projekt.toml")
    rows = np.asarray(table.source_row, dtype=np.int64)
    raw = table.frame.reset_index(drop=True)

    def text(field: str) -> pd.Series:
        if field not in mapping:
            return pd.Series(pd.NA, index=raw.index, dtype="string")
        return raw[mapping[field]].astype("string").str.strip().replace("", pd.NA)

    frame = pd.DataFrame({"source_row": rows, "report_id": text("report_id"),
                          "category": text("category"), "text": text("text"),
                          "address": text("address")})
    frame["date"] = (parse_dates_checked(raw[mapping["date"]], column=mapping["date"], file=path,
                                         rows=rows).values.to_numpy()
                     if "date" in mapping else pd.NaT)
    bad_rows: set[int] = set()
    for axis in ("x", "y"):
        if axis not in mapping:
            frame[axis] = np.nan
            continue
        values, bad = parse_number(raw[mapping[axis]], column=mapping[axis], file=path, rows=rows)
        frame[axis] = values.to_numpy()
        bad_rows |= {int(r) for r, _ in bad}
    frame["crs"] = text("crs") if "crs" in mapping else (str(crs) if crs is not None else pd.NA)
    garbled = frame["source_row"].isin(bad_rows)
    if garbled.any():  # a cell that is no number: the row is unplaced and says why
        warnings.warn(DataQualityWarning(
            f"{path.name}: {int(garbled.sum())} report row(s) have coordinates that are not "
            f"numbers (rows {', '.join(map(str, sorted(bad_rows)[:10]))}); they are left "
            "unplaced with the reason."), stacklevel=3)
    unplaced_bad = _unplaced(frame[garbled], "bad_coordinates", lang)
    frame = frame[~garbled]
    has_xy = frame["x"].notna() & frame["y"].notna()
    has_addr = frame["address"].notna()
    unplaced = [unplaced_bad, _unplaced(frame[~has_xy & ~has_addr], "no_location", lang)]
    todo = frame[has_xy | has_addr]
    if gazetteer is None:
        unplaced.append(_unplaced(todo[~has_xy[todo.index]], "no_gazetteer", lang))
        todo = todo[has_xy[todo.index]]
        if todo["crs"].isna().any():
            require_crs(None, what="the report table's coordinates", file=path,
                        key="reports.crs")
        pts = [gpd.GeoSeries(gpd.points_from_xy([x], [y]), crs=parse_crs(c)).to_crs(work).iloc[0]
               for x, y, c in zip(todo["x"], todo["y"], todo["crs"], strict=True)]
        placed = gpd.GeoDataFrame(todo.assign(place_method="coordinates", place_flag=""),
                                  geometry=pts, crs=work)
        return unplaced, placed
    reg = todo.rename(columns={"report_id": "investment_id"})[
        ["source_row", "investment_id", "address", "x", "y", "crs"]]
    res = geocode_register(reg, gazetteer, areas=areas, lang=lang)
    by_row = todo.set_index("source_row")
    pts, flag = _as_points(res.placed.geometry)
    placed_rows = res.placed["source_row"].to_numpy()
    placed = gpd.GeoDataFrame(
        by_row.loc[placed_rows].reset_index().assign(
            place_method=res.placed["geocode_method"].to_numpy(),
            place_flag=[",".join(f for f in (a, b) if f) for a, b in
                        zip(res.placed["geocode_flag"].astype(str), flag, strict=True)]),
        geometry=pts.to_numpy(), crs=res.crs).to_crs(work)
    if len(res.unplaced):
        u = by_row.loc[res.unplaced["source_row"].to_numpy()].reset_index()
        u = u[["report_id", "source_row", "category", "date"]].assign(
            reason=res.unplaced["reason"].to_numpy(),
            reason_text=res.unplaced["reason_text"].to_numpy())
        unplaced.append(u)
    return unplaced, placed


def read_reports(
    path: str | Path,
    *,
    crs: Any = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
    gazetteer: Gazetteer | None = None,
    areas: gpd.GeoDataFrame | None = None,
    working_crs: Any = None,
    lang: str = "sv",
) -> ReportPoints:
    """Read resident reports (safety walks, app reports) into points, accounting for every row.

    Parameters
    ----------
    path
        A CSV/Excel table (coordinates ``x``/``y`` with a ``crs``, or an address) or a vector
        file GDAL reads.
    crs
        The CRS of the coordinates when the file does not say (a table without a
        ``Koordinatsystem`` column, a vector file without a CRS).
    columns
        ``field -> header`` overrides (fields: :data:`REPORT_COLUMNS`).
    layer
        The layer of a multi-layer vector file.
    gazetteer
        The local gazetteer for rows with an address (the investment register's cascade:
        exact, normalised, fuzzy, street, intersection, place; Swedish X/Y order detected).
        Without it, address-only rows are unplaced with the reason.
    areas
        Optional districts, as for :func:`trygg_geo.geocode.geocode_register`.
    working_crs
        The CRS of the output (projected). Default: the gazetteer's, else EPSG:3006.
    lang
        Language of the unplaced rows' reasons.

    Returns
    -------
    ReportPoints
        ``len(placed) + len(unplaced)`` equals the rows of the file.

    Raises
    ------
    MissingFileError, InputError, CRSError
        The file is missing, has no location columns, or coordinates have no CRS.
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(p, what="report file")
    work = require_projected(working_crs if working_crs is not None else
                             (gazetteer.crs if gazetteer is not None else "EPSG:3006"),
                             what="the working CRS")
    if p.suffix.lower() in _TABLES:
        unplaced_parts, placed = _read_table(p, crs=crs, columns=columns, gazetteer=gazetteer,
                                             areas=areas, work=work, lang=lang)
    else:
        missing, placed = _read_vector(p, crs=crs, columns=columns, layer=layer, work=work)
        unplaced_parts = [_unplaced(missing, "no_geometry", lang)]
    unplaced = pd.concat(unplaced_parts, ignore_index=True).sort_values(
        "source_row", kind="stable").reset_index(drop=True)
    placed = placed.sort_values("source_row", kind="stable").reset_index(drop=True)
    placed["category"] = placed["category"].astype("string").fillna("okänd")
    placed["report_id"] = placed["report_id"].astype("string").fillna(
        placed["source_row"].map(lambda r: f"r-{r}").astype("string"))
    keep = ["report_id", "source_row", "category", "date", "text", "place_method", "place_flag"]
    placed = gpd.GeoDataFrame(placed[keep], geometry=placed.geometry.to_numpy(), crs=work)
    log.info("%s: %d reports, %d placed, %d unplaced", p.name, len(placed) + len(unplaced),
             len(placed), len(unplaced))
    return ReportPoints(placed=placed, unplaced=unplaced)


def repeated_places(
    reports: gpd.GeoDataFrame,
    *,
    distance_m: float = 50.0,
    min_reports: int = 2,
) -> gpd.GeoDataFrame:
    """Places residents point out again and again: reports within ``distance_m`` of each other.

    Reports are linked when they lie within ``distance_m`` of one another, and a place is a
    connected group of linked reports (single linkage), so a 200 m stretch of path reported
    every 40 m is one place.

    Parameters
    ----------
    reports
        Report points in a projected CRS (:attr:`ReportPoints.placed`), with ``category`` and
        optionally ``date``.
    distance_m
        The linking distance in metres.
    min_reports
        Places with fewer reports are not listed.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per place, most reports first: ``place_id`` (1..), ``n_reports``,
        ``categories`` (``"belysning: 5, buskage: 2"``), ``first_date``, ``last_date``,
        ``radius_m`` (largest distance of a report from the centre) and the centre point.

    Examples
    --------
    >>> import geopandas as gpd
    >>> pts = gpd.GeoDataFrame({"category": ["mörkt", "mörkt", "buskage", "mörkt"]},
    ...     geometry=gpd.points_from_xy([0, 30, 60, 500], [0, 0, 0, 0]), crs=3011)
    >>> repeated_places(pts)[["place_id", "n_reports", "categories"]].values.tolist()
    [[1, 3, 'mörkt: 2, buskage: 1']]
    """
    require_projected(reports, what="the report points")
    if not (np.isfinite(distance_m) and distance_m > 0):
        raise InputError(f"distance_m must be a positive number of metres, not {distance_m!r}")
    cols = ["place_id", "n_reports", "categories", "first_date", "last_date", "radius_m"]
    empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=reports.crs))
    if reports.empty:
        return empty
    xy = shapely.get_coordinates(reports.geometry.to_numpy())
    pairs = cKDTree(xy).query_pairs(distance_m, output_type="ndarray")
    n = len(xy)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    cat = reports["category"].astype("string").fillna("okänd").to_numpy() \
        if "category" in reports else np.array(["okänd"] * n)
    dates = pd.to_datetime(reports["date"], errors="coerce").to_numpy() \
        if "date" in reports else np.full(n, np.datetime64("NaT", "ns"))
    records = []
    for lab in np.unique(label):
        idx = np.flatnonzero(label == lab)
        if len(idx) < min_reports:
            continue
        centre = xy[idx].mean(axis=0)
        counts = pd.Series(cat[idx]).value_counts()
        d = pd.Series(dates[idx]).dropna()
        records.append({
            "n_reports": len(idx),
            "categories": ", ".join(f"{k}: {v}" for k, v in counts.items()),
            "first_date": d.min() if len(d) else pd.NaT,
            "last_date": d.max() if len(d) else pd.NaT,
            "radius_m": float(np.hypot(*(xy[idx] - centre).T).max()),
            "geometry": shapely.Point(centre),
        })
    if not records:
        return empty
    out = pd.DataFrame.from_records(records).sort_values("n_reports", ascending=False,
                                                          kind="stable")
    out.insert(0, "place_id", np.arange(1, len(out) + 1))
    return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=reports.crs)


def hot_spots_by_category(
    reports: gpd.GeoDataFrame,
    *,
    min_reports: int = 30,
    **kwargs: Any,
) -> dict[str, HotSpotResult]:
    """Gi* hot spots of the reports, per category and for all together (key ``"alla"``).

    Categories with fewer than ``min_reports`` reports are left out (Gi* on a handful of points
    finds nothing and its FDR control has no power); the log says which. ``kwargs`` go to
    :func:`trygg_geo.hotspots.hot_spots` (``cell_size``, ``permutations``, ``seed`` ...).
    """
    out: dict[str, HotSpotResult] = {}
    if len(reports) >= min_reports:
        out["alla"] = hot_spots(reports, **kwargs)
    cats = reports["category"].astype("string").fillna("okänd")
    for cat, n in cats.value_counts().items():
        key = fold_text(str(cat)) or "okand"
        if n < min_reports:
            log.info("category %r: %d reports, fewer than %d: no hot spots", cat, n, min_reports)
            continue
        out[key] = hot_spots(reports[(cats == cat).to_numpy()], **kwargs)
    return out
