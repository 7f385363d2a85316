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
from functools import lru_cache
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
from trygg_geo._tabular import (
    MAX_TEXT_CHARS,
    cut_text,
    match_columns,
    parse_amount,
    parse_dates_checked,
    parse_number,
    read_table,
    short,
)
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
    "investment_id": (
        "id",
        "projekt-id",
        "projektid",
        "projektnummer",
        "projektnr",
        "diarienummer",
        "dnr",
        "diarienr",
        "investerings-id",
        "löpnummer",
        "löpnr",
        "nr",
    ),
    "name": ("namn", "projektnamn", "benämning", "projekt", "titel", "name", "beskrivning"),
    "kind": (
        "åtgärd",
        "åtgärdstyp",
        "typ",
        "kategori",
        "insats",
        "typ av åtgärd",
        "åtgärdskategori",
        "kind",
        "type",
        "insatstyp",
    ),
    "address": ("adress", "gatuadress", "plats", "läge", "placering", "address", "location", "var"),
    "district": ("stadsdel", "område", "stadsdelsområde", "district", "sdo", "stadsdelsnamn"),
    "board": (
        "nämnd",
        "sökande nämnd",
        "förvaltning",
        "ansvarig",
        "ansvarig nämnd",
        "board",
        "sökande",
        "beställare",
    ),
    "granted_sek": (
        "beviljat",
        "beviljat belopp",
        "beviljade medel",
        "budget",
        "beviljat sek",
        "granted",
        "bidrag",
        "beviljad summa",
    ),
    "spent_sek": (
        "nyttjat",
        "utfall",
        "förbrukat",
        "upparbetat",
        "nyttjat belopp",
        "spent",
        "använt",
        "kostnad",
        "faktisk kostnad",
    ),
    "started": ("startdatum", "start", "påbörjad", "påbörjat", "started", "projektstart"),
    "completed": (
        "färdigställd",
        "färdigställt",
        "klar",
        "slutdatum",
        "klart",
        "avslutad",
        "completed",
        "färdigdatum",
        "klardatum",
        "genomförd",
    ),
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
        return _crs_or_none(f"EPSG:{int(m.group(1))}") or _no_crs(t)
    definition = t.upper().startswith(_CRS_DEFINITION_PREFIXES)
    # a name lookup in the PROJ database costs ~0.1 s: only for short, name-like text (and cached),
    # so that a register full of free text in the CRS column reads fast
    if definition or (len(t) <= 60 and _CRS_NAME_LIKE.fullmatch(t)):
        return _crs_or_none(t) or _no_crs(t)
    return _no_crs(t)


_CRS_DEFINITION_PREFIXES = (
    "EPSG:",
    "ESRI:",
    "IGNF:",
    "OGC:",
    "URN:OGC:",
    "+PROJ",
    "+INIT",
    "PROJCS[",
    "GEOGCS[",
    "PROJCRS[",
    "GEOGCRS[",
    "COMPOUNDCRS[",
    "BOUNDCRS[",
    "{",
)
_CRS_NAME_LIKE = re.compile(r"[A-Za-z0-9 ._:/()+\-]+")


@lru_cache(maxsize=256)
def _crs_or_none(text: str) -> pyproj.CRS | None:
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError:
        return None


def _no_crs(t: str) -> pyproj.CRS:
    raise ValueError(f"'{short(t)}' names no coordinate reference system")


#: Completion or start dates before this are flagged ``date_implausible`` (kept): trygghets-
#: investments in registers start in the 1990s at the earliest.
PLAUSIBLE_FROM = pd.Timestamp("1990-01-01")
#: Text fields of the register that are cut at :data:`~trygg_geo._tabular.MAX_TEXT_CHARS`.
_TEXT_FIELDS = ("investment_id", "name", "kind", "address", "district", "board", "crs")


def _today() -> pd.Timestamp:
    """Today (a function so that tests can fix it)."""
    return pd.Timestamp.today().normalize()


def _register_mapping(
    names: list[str], columns: Mapping[str, str] | None, path: Path
) -> dict[str, str]:
    """Match the register's headers; raise MissingColumnError without a kind or a location."""
    mapping = match_columns(
        names, REGISTER_COLUMNS, override=columns, file=path, config_key="register.columns"
    )
    has_location = "address" in mapping or ("x" in mapping and "y" in mapping) or "wkt" in mapping
    if "kind" not in mapping:
        raise MissingColumnError(
            "kind", found=names, file=path, accepted=REGISTER_COLUMNS["kind"],
            config_key="register.columns",
        )
    if not has_location:
        raise MissingColumnError(
            "address", found=names, file=path,
            accepted=REGISTER_COLUMNS["address"] + ("(or x and y)", "(or wkt)"),
            config_key="register.columns",
        )
    return mapping


def _warn(path: Path, row: int, column: str, text: str, problem: str) -> None:
    warnings.warn(
        f"'{path}', row {row}, column '{column}': '{short(text)}' {problem}; the row is kept and "
        "flagged.",
        DataQualityWarning,
        stacklevel=4,
    )


_AMOUNT_PROBLEMS = {
    "amount_scaled": "names its unit; it was converted to kronor",
    "amount_negative": "is a negative amount; the value is left empty",
    "amount_not_finite": "is not a finite amount; the value is left empty",
    "amount_out_of_range": (
        "is larger than any investment (above 1,000 billion kr); the value is left empty"
    ),
}


def _register_from_table(table: Any, columns: Mapping[str, str] | None) -> pd.DataFrame:  # noqa: C901 - predates the gate; split planned (issue 10)
    frame: pd.DataFrame = table.frame
    path = table.path
    rows = table.source_row
    mapping = _register_mapping(list(frame.columns), columns, path)
    n = len(frame)
    if n == 0:
        raise EmptyLayerError("the investment register has a header but no rows.", file=path,
                              fix="check that the right sheet or file was exported.")
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["source_row"] = rows.astype("int64")

    flags: list[list[str]] = [[] for _ in range(n)]

    def flag(i: int, f: str) -> None:
        if f not in flags[i]:
            flags[i].append(f)

    def text(field: str) -> pd.Series:
        if field not in mapping:
            return pd.Series([pd.NA] * n, dtype="string")
        s = (
            frame[mapping[field]]
            .astype("string")
            .str.strip()
            .replace("", pd.NA)
            .reset_index(drop=True)
        )
        if field not in _TEXT_FIELDS:
            return s
        vals = s.tolist()
        for i, v in enumerate(vals):
            if v is not pd.NA and len(v) > MAX_TEXT_CHARS:
                vals[i], _ = cut_text(v)
                flag(i, "text_truncated")
                _warn(path, int(rows[i]), mapping[field], v,
                      f"is {len(v):,} characters long; it was cut to {MAX_TEXT_CHARS:,}")
        return pd.Series(vals, dtype="string")

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
            flag(i, "kind_unknown")
    for f in ("address", "district", "board"):
        out[f] = text(f)
    # numbers and dates: a bad cell becomes empty, is flagged and warned about; the row stays
    pos = {int(r): i for i, r in enumerate(rows)}
    for f in ("granted_sek", "spent_sek"):
        if f not in mapping:
            out[f] = pd.Series([np.nan] * n, dtype="float64")
            continue
        col = mapping[f]
        res = parse_amount(frame[col].reset_index(drop=True), column=col, file=path, rows=rows)
        if res.header_unit is not None and res.header_unit[0] != 1.0:
            log.info(
                "%s: column '%s' is in %s (the header says so); its amounts were multiplied by %s "
                "to kronor",
                path.name,
                col,
                res.header_unit[1],
                f"{res.header_unit[0]:,.0f}",
            )
        out[f] = res.values.to_numpy()
        for r, cell in res.bad:
            flag(pos[r], f"bad_{f}")
            _warn(path, r, col, cell, "is not an amount (write it as 1 250 000 or 1 250 tkr)")
        for i, fl, cell in res.flags:
            flag(i, fl)
            _warn(path, int(rows[i]), col, cell, _AMOUNT_PROBLEMS[fl])
    for f in ("x", "y"):
        if f not in mapping:
            out[f] = pd.Series([np.nan] * n, dtype="float64")
            continue
        vals, bad = parse_number(
            frame[mapping[f]].reset_index(drop=True), column=mapping[f], file=path, rows=rows
        )
        out[f] = vals.to_numpy()
        for r, cell in bad:
            flag(pos[r], f"bad_{f}")
            _warn(path, r, mapping[f], cell, "is not a finite number; the value is left empty")
    today = _today()
    for f in ("started", "completed"):
        if f not in mapping:
            out[f] = pd.Series([pd.NaT] * n, dtype="datetime64[ns]")
            continue
        col = mapping[f]
        dres = parse_dates_checked(
            frame[col].reset_index(drop=True), column=col, file=path, rows=rows
        )
        vals = dres.values.copy()
        for r, cell in dres.bad:
            flag(pos[r], f"bad_{f}")
            _warn(
                path,
                r,
                col,
                cell,
                "is not a date (write it as 2021-03-15); the value is left empty",
            )
        for r, cell in dres.out_of_range:
            flag(pos[r], "date_out_of_range")
            _warn(path, r, col, cell, "is outside 1900-2100; the value is left empty")
        early = np.flatnonzero((vals < PLAUSIBLE_FROM).to_numpy())
        for i in early.tolist():
            flag(int(i), "date_implausible")
            _warn(
                path,
                int(rows[i]),
                col,
                str(frame[col].iloc[i]),
                f"is before {PLAUSIBLE_FROM.year}, which is implausible for an investment; it is "
                "kept",
            )
        if f == "completed":
            future = np.flatnonzero((vals > today).to_numpy())
            for i in future.tolist():
                flag(int(i), "completed_in_future")
                _warn(
                    path,
                    int(rows[i]),
                    col,
                    str(frame[col].iloc[i]),
                    f"is after today ({today.date()}), so the investment is not counted as carried "
                    "out (the date stays in raw_text)",
                )
            vals.iloc[future] = pd.NaT
        out[f] = vals.to_numpy()
    order_bad = (out["completed"] < out["started"]).to_numpy()
    for i in np.flatnonzero(order_bad).tolist():
        flag(int(i), "completed_before_start")
    crs_text = text("crs")
    crs_out: list[object] = []
    for i, c in enumerate(crs_text):
        if pd.isna(c):
            crs_out.append(pd.NA)
            continue
        try:
            parsed = parse_crs(str(c))
            crs_out.append(
                f"EPSG:{parsed.to_epsg()}"
                if parsed is not None and parsed.to_epsg()
                else (parsed.to_string() if parsed is not None else pd.NA)
            )
        except ValueError:
            crs_out.append(pd.NA)
            flag(i, "bad_crs")
            warnings.warn(
                f"'{path}', row {rows[i]}, column '{mapping['crs']}': '{short(c)}' names no CRS "
                "(write e.g. 'SWEREF 99 TM' or 'EPSG:3006'); the CRS will be detected from the "
                "numbers.",
                DataQualityWarning,
                stacklevel=3,
            )
    out["crs"] = pd.Series(crs_out, dtype="string")
    out["wkt"] = text("wkt")
    raw = frame.astype("string").fillna("").reset_index(drop=True)
    wkt_col = mapping.get("wkt")
    raw_text = []
    for i, r in enumerate(raw.itertuples(index=False, name=None)):
        cells = []
        for c, v in zip(raw.columns, r, strict=True):
            cut, was_cut = cut_text(v)
            if was_cut and c != wkt_col:
                flag(i, "text_truncated")
            cells.append(cut)
        raw_text.append(";".join(cells))
    out["raw_text"] = pd.Series(raw_text, dtype="string")
    dup = out["investment_id"].duplicated(keep=False) & ids.notna()
    for i in np.flatnonzero(dup.to_numpy()).tolist():
        flag(int(i), "duplicate_id")
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
    r"""Read a municipal investment register (CSV or Excel) into the register shape.

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
        listed in ``read_flag`` (with a :class:`~trygg_geo.DataQualityWarning` naming file, row
        and column). The flags:

        - ``bad_granted_sek``, ``bad_spent_sek``, ``bad_x``, ``bad_y``, ``bad_started``,
          ``bad_completed``, ``bad_crs``: the cell could not be read (value empty);
        - ``amount_scaled``: the cell names its unit (``1 250 tkr``, ``1,5 MSEK``, ``2 mkr``,
          ``250 tusen kr``, ``40 kSEK``) and was converted to kronor. A unit in the header
          (``Beviljat (tkr)``) scales the whole column and is logged;
        - ``amount_negative``, ``amount_not_finite`` (``inf``, ``NaN``, ``1e400``),
          ``amount_out_of_range`` (above 1,000 billion kr): value empty;
        - ``date_out_of_range``: a date before 1900 or after 2100 (value empty);
          ``date_implausible``: before 1990 (kept); ``completed_before_start`` (kept);
        - ``completed_in_future``: the completion date is after today, so the investment is
          not carried out: ``completed`` is NaT (no estimator counts it) and the date stays in
          ``raw_text``;
        - ``text_truncated``: a cell longer than 1,000 characters was cut (here and in
          ``raw_text``);
        - ``kind_unknown``, ``duplicate_id``.

    Raises
    ------
    MissingFileError, UnreadableFileError, EmptyLayerError
    MissingColumnError
        When no row in the first 20 (of any sheet, for Excel without ``sheet``) has a kind
        column and a location column (address, x/y or wkt); the message lists the sheets and
        their first rows. A header under a title row, or on another sheet, is found and logged.
    InputError
        Two columns whose headers read the same (case, å/ä/ö, punctuation and units ignored)
        where a field would be read from one of them; a header naming two units; a cell in
        kronor under a header in thousands or millions; a quote that is never closed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "reg.csv"
    >>> _ = p.write_text("Projekt-ID;Åtgärd;Adress;Beviljat (kr)\n"
    ...                  "T-1;Gatubelysning;Storgatan 12;125 000,50\n", encoding="utf-8")
    >>> reg = read_register(p)
    >>> row = reg.loc[0]
    >>> int(row["source_row"]), row["investment_id"], row["kind"], float(row["granted_sek"])
    (2, 'T-1', 'belysning', 125000.5)
    """
    p = Path(path)
    table = read_table(p, sheet=sheet, what="investment register", config_section="register",
                       find_header=lambda names: _register_mapping(names, columns, p))
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
    declared = _incident_crs(crs, p)
    if p.suffix.lower() in {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}:
        def check(names: list[str]) -> None:
            match_columns(names, INCIDENT_COLUMNS, override=columns, required=("x", "y"), file=p,
                          config_key="incidents.columns")

        table = read_table(p, what="incident file", find_header=check, config_section="incidents")
        mapping = match_columns(list(table.frame.columns), INCIDENT_COLUMNS, override=columns,
                                required=("x", "y"), file=p, config_key="incidents.columns")
        rows = table.source_row
        xs, bad_x = parse_number(
            table.frame[mapping["x"]].reset_index(drop=True), column=mapping["x"], file=p, rows=rows
        )
        ys, bad_y = parse_number(
            table.frame[mapping["y"]].reset_index(drop=True), column=mapping["y"], file=p, rows=rows
        )
        for bad, field in ((bad_x, "x"), (bad_y, "y")):
            if bad:
                r, cell = bad[0]
                raise InputError(f"'{short(cell)}' is not a coordinate"
                                 + (f" ({len(bad)} such cells)" if len(bad) > 1 else "") + ".",
                                 file=p, row=r, column=mapping[field],
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
                "Fix: pass crs=... (e.g. 'EPSG:3006' for SWEREF 99 TM), or set incidents.crs in "
                "projekt.toml."
            )
        assert declared is not None
        _check_incident_crs(xs.to_numpy(), ys.to_numpy(), rows, declared, p,
                            f"columns '{mapping['x']}'/'{mapping['y']}'", mapping["x"])
        gdf = gpd.GeoDataFrame(
            {"source_row": rows.astype("int64")},
            geometry=gpd.points_from_xy(xs.to_numpy(), ys.to_numpy()),
            crs=declared,
        )
        frame = table.frame.reset_index(drop=True)
        gdf["incident_id"] = (
            _cut_column(frame[mapping["incident_id"]], rows, p, mapping["incident_id"])
            if "incident_id" in mapping
            else pd.Series([f"h-{r}" for r in rows], dtype="string")
        )
        if "date" in mapping:
            dres = parse_dates_checked(
                frame[mapping["date"]], column=mapping["date"], file=p, rows=rows
            )
            gdf["date"] = dres.values.to_numpy()
            failed = sorted(dres.bad + dres.out_of_range)
            if failed:
                r, cell = failed[0]
                warnings.warn(
                    f"'{p}', column '{mapping['date']}': {len(failed)} date(s) could not be read "
                    "or are "
                    f"outside 1900-2100 (first: row {r}, '{short(cell)}'); those incidents are "
                    "kept without a date.",
                    DataQualityWarning,
                    stacklevel=2,
                )
        else:
            gdf["date"] = pd.Series([pd.NaT] * len(gdf), dtype="datetime64[ns]")
        gdf["category"] = (_cut_column(frame[mapping["category"]], rows, p, mapping["category"])
                           if "category" in mapping else pd.NA)
    else:
        try:
            gdf = gpd.read_file(p, layer=layer, engine="pyogrio")
        except Exception as exc:
            raise UnreadableFileError(
                f"the incident file could not be read ({exc}).",
                file=p,
                fix="check that it is a GeoPackage, GeoJSON or shapefile.",
            ) from exc
        if gdf.crs is None:
            if declared is None:
                raise CRSError(
                    f"'{p}' has no CRS. Fix: pass crs=..., or set incidents.crs in projekt.toml."
                )
            gdf = gdf.set_crs(declared)
        gdf["source_row"] = np.arange(1, len(gdf) + 1, dtype="int64")
        pts = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
        pts &= (gdf.geometry.geom_type == "Point").to_numpy()
        if pts.any():
            src = gdf.crs.to_epsg()
            _check_incident_crs(
                gdf.geometry[pts].x.to_numpy(),
                gdf.geometry[pts].y.to_numpy(),
                gdf["source_row"].to_numpy()[pts],
                f"EPSG:{src}" if src else gdf.crs.to_string(),
                p,
                "geometry",
                "geometry",
            )
        mapping = match_columns([c for c in gdf.columns if c != "geometry"], INCIDENT_COLUMNS,
                                override=columns, file=p, config_key="incidents.columns")
        gdf["incident_id"] = (
            gdf[mapping["incident_id"]].astype("string")
            if "incident_id" in mapping
            else pd.Series([f"h-{r}" for r in gdf["source_row"]], dtype="string")
        )
        gdf["date"] = (
            pd.to_datetime(gdf[mapping["date"]], errors="coerce") if "date" in mapping else pd.NaT
        )
        gdf["category"] = (
            gdf[mapping["category"]].astype("string") if "category" in mapping else pd.NA
        )
    if len(gdf) == 0:
        raise EmptyLayerError("the incident layer has no rows.", file=p)
    return gdf[["incident_id", "date", "category", "source_row", "geometry"]]


def _incident_crs(crs: str | int | None, p: Path) -> str | None:
    """The incidents' CRS as given (``3006``, ``"EPSG:3006"``, ``"SWEREF 99 TM"``) as a string."""
    if crs is None:
        return None
    try:
        parsed = parse_crs(str(crs))
    except ValueError as exc:
        raise CRSError(
            f"'{p}': the incidents' CRS {short(crs)!r} names no coordinate reference system. "
            'Fix: set incidents.crs in projekt.toml to e.g. "EPSG:3006" (SWEREF 99 TM) or '
            '"EPSG:4326" (WGS84).'
        ) from exc
    if parsed is None:
        return None
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.to_string()


def _check_incident_crs(x: np.ndarray, y: np.ndarray, rows: np.ndarray, declared: str, p: Path,
                        where: str, column: str) -> None:
    """Refuse incident coordinates that do not lie in Sweden in the declared CRS.

    The message says what they look like instead (swapped axes, WGS84 numbers in a SWEREF
    file, ...).
    """
    from trygg_geo.geocode._coords import diagnose_crs

    bad, hint, likely, swapped = diagnose_crs(x, y, declared)
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    nbad, n = int(bad.sum()), len(x)
    try:
        name = f"{pyproj.CRS.from_user_input(declared).name} ({declared})"
    except pyproj.exceptions.CRSError:
        name = declared
    if nbad * 2 < n:
        fix = (
            "correct the coordinates of these rows "
            f"({', '.join(str(int(r)) for r in rows[bad][:10])}"
            + (", ..." if nbad > 10 else "")
            + ")."
        )
    elif swapped and likely == declared:
        fix = (
            "swap the x and y columns, or map them the other way under [incidents.columns] "
            "in projekt.toml."
        )
    elif likely is not None:
        fix = (
            f'set incidents.crs = "{likely}" in projekt.toml'
            + (" and swap x and y" if swapped else "")
            + ", or convert the coordinates to the declared CRS."
        )
    else:
        fix = "check the x/y columns and incidents.crs in projekt.toml."
    raise InputError(
        f"{nbad} of {n} incidents lie outside Sweden when their {where} are read in the declared "
        f"CRS {name} (first: row {int(rows[k])}: x = {x[k]:g}, y = {y[k]:g}); {hint}.",
        file=p,
        row=int(rows[k]),
        column=column,
        fix=fix,
    )


def _cut_column(values: pd.Series, rows: np.ndarray, p: Path, column: str) -> pd.Series:
    s = values.astype("string").reset_index(drop=True)
    long = s.str.len() > MAX_TEXT_CHARS
    if long.fillna(False).any():
        i = int(np.flatnonzero(long.fillna(False).to_numpy())[0])
        warnings.warn(
            f"'{p}', column '{column}': {int(long.sum())} cell(s) longer than {MAX_TEXT_CHARS:,} "
            f"characters were cut (first: row {int(rows[i])}).",
            DataQualityWarning,
            stacklevel=3,
        )
        s = s.map(lambda v: v if v is pd.NA else cut_text(v)[0]).astype("string")
    return s


def read_areas(path: str | Path, **kwargs: Any) -> gpd.GeoDataFrame:
    """Read district polygons; see :func:`trygg_geo.areas.read_areas`."""
    from trygg_geo.areas import read_areas as _read_areas

    return _read_areas(path, **kwargs)


def read_survey(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read survey results; see :func:`trygg_geo.survey.read_survey`."""
    from trygg_geo.survey import read_survey as _read_survey

    return _read_survey(path, **kwargs)
