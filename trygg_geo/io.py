"""Readers: investment registers, incidents, and (re-exported) areas and surveys.

Every reader validates its input, maps column names (recognising common Swedish and
English headers without any config, see :data:`REGISTER_COLUMNS`), handles Swedish
CSV conventions (UTF-8 with or without BOM, Windows-1252, ``;``, decimal comma) and
Excel, and keeps ``source_row``: the row a person sees in the spreadsheet.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
    MissingFileError,
    UnreadableFileError,
)
from trygg_geo._tabular import match_columns, parse_date, parse_number, read_table
from trygg_geo.interventions import fold_text, recognise_kind

__all__ = [
    "INCIDENT_COLUMNS",
    "REGISTER_COLUMNS",
    "parse_crs",
    "read_areas",
    "read_incidents",
    "read_register",
    "read_survey",
]

log = logging.getLogger(__name__)

#: Recognised header variants per register field (folded: case, å/ä/ö, punctuation and
#: units such as "(kr)" are ignored). A config mapping overrides these.
REGISTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "investment_id": ("id", "projekt-id", "projektid", "projektnummer", "projektnr", "diarienummer",
                      "dnr", "diarienr", "investerings-id", "löpnummer", "löpnr", "nr"),
    "name": ("namn", "projektnamn", "benämning", "projekt", "titel", "name", "beskrivning"),
    "kind": ("åtgärd", "åtgärdstyp", "typ", "kategori", "insats", "typ av åtgärd", "åtgärdskategori",
             "kind", "type", "insatstyp"),
    "address": ("adress", "gatuadress", "plats", "läge", "placering", "address", "location", "var"),
    "district": ("stadsdel", "område", "stadsdelsområde", "district", "sdo", "stadsdelsnamn"),
    "board": ("nämnd", "sökande nämnd", "förvaltning", "ansvarig", "ansvarig nämnd", "board",
              "sökande", "beställare"),
    "granted_sek": ("beviljat", "beviljat belopp", "beviljade medel", "budget", "beviljat sek",
                    "granted", "bidrag", "beviljad summa"),
    "spent_sek": ("nyttjat", "utfall", "förbrukat", "upparbetat", "nyttjat belopp", "spent",
                  "använt", "kostnad", "faktisk kostnad"),
    "started": ("startdatum", "start", "påbörjad", "påbörjat", "started", "projektstart"),
    "completed": ("färdigställd", "färdigställt", "klar", "slutdatum", "klart", "avslutad",
                  "completed", "färdigdatum", "klardatum", "genomförd"),
    "x": ("x", "e", "östlig", "ost", "easting", "lon", "longitud", "long", "lng", "x koordinat"),
    "y": ("y", "n", "nordlig", "norr", "northing", "lat", "latitud", "y koordinat"),
    "crs": ("koordinatsystem", "crs", "epsg", "referenssystem", "srid"),
    "wkt": ("wkt", "geometri", "geometry", "geom"),
}

INCIDENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "incident_id": ("id", "händelse-id", "ärendenummer", "ärende", "incident_id", "nr"),
    "date": ("datum", "date", "tidpunkt", "händelsedatum", "inkommet", "anmält"),
    "category": ("kategori", "typ", "brottstyp", "händelsetyp", "category", "type", "ärendetyp"),
    "x": REGISTER_COLUMNS["x"],
    "y": REGISTER_COLUMNS["y"],
}

_CRS_NAMES = {
    "sweref 99 tm": 3006, "sweref99 tm": 3006, "sweref99tm": 3006, "sweref tm": 3006,
    "sweref 99 18 00": 3011, "sweref 99 1800": 3011, "sweref99 1800": 3011,
    "sweref 99 13 30": 3008, "sweref 99 1330": 3008, "sweref 99 12 00": 3007,
    "sweref 99 15 00": 3009, "sweref 99 16 30": 3010, "sweref 99 14 15": 3012,
    "sweref 99 15 45": 3013, "sweref 99 17 15": 3014, "sweref 99 18 45": 3015,
    "sweref 99 20 15": 3016, "sweref 99 21 45": 3017, "sweref 99 23 15": 3018,
    "wgs84": 4326, "wgs 84": 4326, "wgs 1984": 4326, "lat lon": 4326, "latlon": 4326,
    "rt90": 3021, "rt 90": 3021, "rt90 2 5 gon v": 3021, "rt 90 2 5 gon v": 3021,
}


def parse_crs(text: object) -> pyproj.CRS | None:
    """Read a CRS as municipalities write it ("SWEREF 99 TM", "3006", "EPSG:3011", "WGS84").

    Returns None for an empty cell; raises ValueError for text that names no CRS.

    >>> parse_crs("SWEREF 99 18 00").to_epsg()
    3011
    >>> parse_crs("3006").to_epsg()
    3006
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    t = str(text).strip()
    if not t:
        return None
    folded = fold_text(t)
    if folded in _CRS_NAMES:
        return pyproj.CRS.from_epsg(_CRS_NAMES[folded])
    m = re.fullmatch(r"(?:epsg\s*)?(\d{4,5})", folded)
    if m:
        return pyproj.CRS.from_epsg(int(m.group(1)))
    try:
        return pyproj.CRS.from_user_input(t)
    except pyproj.exceptions.CRSError as exc:
        raise ValueError(f"'{t}' names no coordinate reference system") from exc


def _register_from_table(table: Any, columns: Mapping[str, str] | None) -> pd.DataFrame:
    frame: pd.DataFrame = table.frame
    path = table.path
    rows = table.source_row
    mapping = match_columns(
        list(frame.columns), REGISTER_COLUMNS, override=columns, file=path, config_key="register.columns"
    )
    has_location = "address" in mapping or ("x" in mapping and "y" in mapping) or "wkt" in mapping
    if "kind" not in mapping:
        raise MissingColumnError(
            "kind", found=frame.columns, file=path, accepted=REGISTER_COLUMNS["kind"],
            config_key="register.columns",
        )
    if not has_location:
        raise MissingColumnError(
            "address", found=frame.columns, file=path,
            accepted=REGISTER_COLUMNS["address"] + ("(or x and y)", "(or wkt)"),
            config_key="register.columns",
        )
    n = len(frame)
    if n == 0:
        raise EmptyLayerError("the investment register has a header but no rows.", file=path,
                              fix="check that the right sheet or file was exported.")
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["source_row"] = rows.astype("int64")

    def text(field: str) -> pd.Series:
        if field not in mapping:
            return pd.Series([pd.NA] * n, dtype="string")
        return frame[mapping[field]].astype("string").str.strip().replace("", pd.NA).reset_index(drop=True)

    flags: list[list[str]] = [[] for _ in range(n)]
    ids = text("investment_id")
    out["investment_id"] = ids.fillna(pd.Series([f"rad-{r}" for r in rows], dtype="string"))
    out["name"] = text("name")
    kind_raw = text("kind")
    recognised = [recognise_kind(None if pd.isna(k) else str(k)) for k in kind_raw]
    out["kind"] = pd.Series([k for k, _ in recognised], dtype="string")
    out["kind_raw"] = kind_raw
    out["kind_recognised"] = np.array([ok for _, ok in recognised], dtype=bool)
    for i, (_, ok) in enumerate(recognised):
        if not ok:
            flags[i].append("kind_unknown")
    for f in ("address", "district", "board"):
        out[f] = text(f)
    # numbers and dates: a bad cell becomes empty, is flagged and warned about; the row stays
    parsers = [(f, parse_number, "is not a number", np.nan) for f in ("granted_sek", "spent_sek", "x", "y")]
    parsers += [(f, parse_date, "is not a date (write it as 2021-03-15)", pd.NaT) for f in ("started", "completed")]
    for f, parse, problem, empty in parsers:
        if f not in mapping:
            out[f] = pd.Series([empty] * n, dtype="datetime64[ns]" if empty is pd.NaT else "float64")
            continue
        vals, bad = parse(frame[mapping[f]].reset_index(drop=True), column=mapping[f], file=path, rows=rows)
        out[f] = vals.to_numpy()
        for r, cell in bad:
            i = int(np.flatnonzero(rows == r)[0])
            flags[i].append(f"bad_{f}")
            warnings.warn(
                f"'{path}', row {r}, column '{mapping[f]}': '{cell}' {problem}; "
                "the row is kept with an empty value and flagged.",
                DataQualityWarning, stacklevel=3,
            )
    crs_text = text("crs")
    crs_out: list[object] = []
    for i, c in enumerate(crs_text):
        if pd.isna(c):
            crs_out.append(pd.NA)
            continue
        try:
            parsed = parse_crs(str(c))
            crs_out.append(f"EPSG:{parsed.to_epsg()}" if parsed is not None and parsed.to_epsg() else
                           (parsed.to_string() if parsed is not None else pd.NA))
        except ValueError:
            crs_out.append(pd.NA)
            flags[i].append("bad_crs")
            warnings.warn(
                f"'{path}', row {rows[i]}, column '{mapping['crs']}': '{c}' names no CRS "
                "(write e.g. 'SWEREF 99 TM' or 'EPSG:3006'); the CRS will be detected from the numbers.",
                DataQualityWarning, stacklevel=3,
            )
    out["crs"] = pd.Series(crs_out, dtype="string")
    out["wkt"] = text("wkt")
    raw = frame.astype("string").fillna("").reset_index(drop=True)
    out["raw_text"] = pd.Series(
        [";".join(v for v in r) for r in raw.itertuples(index=False, name=None)], dtype="string"
    )
    dup = out["investment_id"].duplicated(keep=False) & ids.notna()
    for i in np.flatnonzero(dup.to_numpy()):
        flags[i].append("duplicate_id")
    out["read_flag"] = pd.Series([",".join(f) for f in flags], dtype="string")
    out.attrs["trygg_geo_source"] = str(path)
    out.attrs["trygg_geo_columns"] = dict(mapping)
    return out


def read_register(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read a municipal investment register (CSV or Excel) into the register shape.

    Parameters
    ----------
    path
        ``.csv``/``.txt`` (UTF-8 with or without BOM, or Windows-1252; ``;``, ``,`` or tab
        separated; decimal comma) or ``.xlsx``.
    columns
        Optional mapping ``field -> header in the file`` that overrides the recognised
        headers (fields: see :data:`REGISTER_COLUMNS`).
    sheet
        Excel sheet name or 0-based index.

    Returns
    -------
    pandas.DataFrame
        One row per register row, in file order, with the columns ``source_row,
        investment_id, name, kind, kind_raw, kind_recognised, address, district, board,
        granted_sek, spent_sek, started, completed, x, y, crs, wkt, raw_text, read_flag``.
        Nothing is dropped: unreadable numbers, dates or kinds are kept as empty values and
        listed in ``read_flag`` (with a :class:`~trygg_geo.DataQualityWarning`).

    Raises
    ------
    MissingFileError, UnreadableFileError, EmptyLayerError
    MissingColumnError
        When there is no kind column, or no location column (address, x/y or wkt); the
        message lists the columns found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "reg.csv"
    >>> _ = p.write_text("Projekt-ID;Åtgärd;Adress;Beviljat (kr)\\n"
    ...                  "T-1;Gatubelysning;Storgatan 12;125 000,50\\n", encoding="utf-8")
    >>> reg = read_register(p)
    >>> reg.loc[0, ["source_row", "investment_id", "kind", "granted_sek"]].tolist()
    [2, 'T-1', 'belysning', 125000.5]
    """
    table = read_table(path, sheet=sheet, what="investment register")
    return _register_from_table(table, columns)


def read_incidents(
    path: str | Path,
    *,
    crs: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read incident or citizen-report points (CSV/Excel with x/y, or any OGR point file).

    Parameters
    ----------
    path
        A table with coordinate columns, or a vector file (GeoPackage, GeoJSON, shapefile ...).
    crs
        The CRS of the coordinates. Required for tables (unless the table has a ``crs``
        column) and for vector files that carry none.
    columns
        Optional ``field -> header`` overrides (fields: ``incident_id, date, category, x, y``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``incident_id, date, category, source_row, geometry`` in file order.

    Raises
    ------
    CRSError
        No CRS in the file and none given.
    InputError
        A row whose coordinates are missing or not numbers (named by row and column).
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(p, what="incident file")
    if p.suffix.lower() in {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}:
        table = read_table(p, what="incident file")
        mapping = match_columns(list(table.frame.columns), INCIDENT_COLUMNS, override=columns,
                                required=("x", "y"), file=p, config_key="incidents.columns")
        rows = table.source_row
        xs, bad_x = parse_number(table.frame[mapping["x"]].reset_index(drop=True), column=mapping["x"], file=p, rows=rows)
        ys, bad_y = parse_number(table.frame[mapping["y"]].reset_index(drop=True), column=mapping["y"], file=p, rows=rows)
        for bad, field in ((bad_x, "x"), (bad_y, "y")):
            if bad:
                r, cell = bad[0]
                raise InputError(f"'{cell}' is not a coordinate.", file=p, row=r, column=mapping[field],
                                 fix="write the coordinate as a number, e.g. 674032.5 or 674032,5.")
        missing = np.flatnonzero(xs.isna().to_numpy() | ys.isna().to_numpy())
        if len(missing):
            r = int(rows[missing[0]])
            raise InputError(
                f"{len(missing)} row(s) have no coordinates (first: row {r}).", file=p, row=r,
                column=mapping["x"], fix="fill in x and y, or remove rows that cannot be placed.",
            )
        if crs is None:
            raise CRSError(
                f"'{p}': the incident table has coordinates but no CRS was given. "
                "Fix: pass crs=... (e.g. 'EPSG:3006' for SWEREF 99 TM), or set incidents.crs in projekt.toml."
            )
        gdf = gpd.GeoDataFrame(
            {"source_row": rows.astype("int64")},
            geometry=gpd.points_from_xy(xs.to_numpy(), ys.to_numpy()),
            crs=crs,
        )
        frame = table.frame.reset_index(drop=True)
        gdf["incident_id"] = (frame[mapping["incident_id"]].astype("string") if "incident_id" in mapping
                              else pd.Series([f"h-{r}" for r in rows], dtype="string"))
        if "date" in mapping:
            dates, _bad = parse_date(frame[mapping["date"]], column=mapping["date"], file=p, rows=rows)
            gdf["date"] = dates.to_numpy()
        else:
            gdf["date"] = pd.Series([pd.NaT] * len(gdf), dtype="datetime64[ns]")
        gdf["category"] = frame[mapping["category"]].astype("string") if "category" in mapping else pd.NA
    else:
        try:
            gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
        except Exception as exc:
            raise UnreadableFileError(f"the incident file could not be read ({exc}).", file=p,
                                      fix="check that it is a GeoPackage, GeoJSON or shapefile.") from exc
        if gdf.crs is None:
            if crs is None:
                raise CRSError(f"'{p}' has no CRS. Fix: pass crs=..., or set incidents.crs in projekt.toml.")
            gdf = gdf.set_crs(crs)
        gdf["source_row"] = np.arange(1, len(gdf) + 1, dtype="int64")
        mapping = match_columns([c for c in gdf.columns if c != "geometry"], INCIDENT_COLUMNS,
                                override=columns, file=p, config_key="incidents.columns")
        gdf["incident_id"] = gdf[mapping["incident_id"]].astype("string") if "incident_id" in mapping else \
            pd.Series([f"h-{r}" for r in gdf["source_row"]], dtype="string")
        gdf["date"] = pd.to_datetime(gdf[mapping["date"]], errors="coerce") if "date" in mapping else pd.NaT
        gdf["category"] = gdf[mapping["category"]].astype("string") if "category" in mapping else pd.NA
    if len(gdf) == 0:
        raise EmptyLayerError("the incident layer has no rows.", file=p)
    return gdf[["incident_id", "date", "category", "source_row", "geometry"]]


def read_areas(path: str | Path, **kwargs: Any) -> gpd.GeoDataFrame:
    """Read district polygons; see :func:`trygg_geo.areas.read_areas`."""
    from trygg_geo.areas import read_areas as _read_areas

    return _read_areas(path, **kwargs)


def read_survey(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read survey results; see :func:`trygg_geo.survey.read_survey`."""
    from trygg_geo.survey import read_survey as _read_survey

    return _read_survey(path, **kwargs)
