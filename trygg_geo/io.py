"""Readers: investment registers, incidents, and (re-exported) areas and surveys.

Every reader validates its input, maps column names (recognising common Swedish and
English headers without any config, see :data:`REGISTER_COLUMNS`), handles Swedish
CSV conventions (UTF-8 with or without BOM, Windows-1252, ``;``, decimal comma) and
Excel, and keeps ``source_row``: the row a person sees in the spreadsheet.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trygg_geo._crs import (
    crs_label,
    crs_name,
    diagnose_crs,
    parse_crs,
    parse_optional_crs,
    require_crs,
)
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
from trygg_geo._tabular import (
    MAX_TEXT_CHARS,
    _gc_paused,
    cut_text,
    match_columns,
    parse_amount,
    parse_dates_checked,
    parse_number,
    read_table,
    short,
)
from trygg_geo.areas import read_areas  # re-exported with the other readers
from trygg_geo.interventions import fold_text, match_kind
from trygg_geo.survey import read_survey  # re-exported with the other readers

__all__ = [
    "INCIDENT_COLUMNS",
    "REGISTER_COLUMNS",
    "STATUS_CODES",
    "STATUS_VALUES",
    "parse_crs",
    "read_areas",
    "read_incidents",
    "read_register",
    "read_survey",
    "register_duplicates",
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
    # last: "läge" is an address header before it is a status header
    "status": (
        "status",
        "projektstatus",
        "genomförandestatus",
        "status projekt",
        "projektläge",
        "läge",
        "state",
        "project status",
    ),
}

#: The register's ``status`` codes: carried out, under way, called off, not yet begun.
STATUS_CODES = ("completed", "ongoing", "cancelled", "planned")
#: Status words and phrases (folded: case, å/ä/ö and punctuation ignored) per status code. A
#: cell is read by its longest phrases first, so "Avslutad utan åtgärd" is cancelled, not
#: completed; a cell naming two codes, or a negation the list does not hold ("ej besiktigad"),
#: is unknown.
STATUS_VALUES: dict[str, tuple[str, ...]] = {
    "completed": (
        "klar", "klart", "genomford", "genomfort", "avslutad", "avslutat", "fardig", "fardigt",
        "fardigstalld", "fardigstallt", "slutford", "slutfort", "utford", "utfort", "levererad",
        "aterrapporterad", "slutredovisad", "slutrapporterad", "completed", "done", "finished",
    ),
    "ongoing": (
        "pagaende", "pagar", "paborjad", "paborjat", "startad", "startat", "under arbete",
        "under genomforande", "under utforande", "ej klar", "inte klar", "ej avslutad",
        "inte avslutad", "ej fardig", "inte fardig", "ongoing", "in progress", "started",
    ),
    "cancelled": (
        "avbruten", "avbrutet", "installd", "installt", "struken", "struket", "makulerad",
        "makulerat", "stoppad", "stoppat", "aterkallad", "aterkallat", "avslagen", "avslaget",
        "utgar", "utgatt", "avslutad utan atgard", "avslutat utan atgard", "ej genomford",
        "ej genomfort", "inte genomford", "inte genomfort", "cancelled", "canceled", "withdrawn",
    ),
    "planned": (
        "planerad", "planerat", "planeras", "beviljad", "beviljat", "beslutad", "beslutat",
        "kommande", "ej paborjad", "ej paborjat", "inte paborjad", "inte paborjat", "ej startad",
        "ej startat", "inte startad", "inte startat", "planned", "granted", "not started",
    ),
}
_STATUS_PHRASES = sorted(
    ((phrase, code) for code, phrases in STATUS_VALUES.items() for phrase in phrases),
    key=lambda pc: (-len(pc[0].split()), -len(pc[0])),
)
_NEGATIONS = ("ej", "inte", "icke", "not")

INCIDENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "incident_id": ("id", "händelse-id", "ärendenummer", "ärende", "incident_id", "nr"),
    "date": ("datum", "date", "tidpunkt", "händelsedatum", "inkommet", "anmält"),
    "category": ("kategori", "typ", "brottstyp", "händelsetyp", "category", "type", "ärendetyp"),
    "x": REGISTER_COLUMNS["x"],
    "y": REGISTER_COLUMNS["y"],
}

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


#: A grouped cell warning lists this many rows (then "...").
_ROWS_LISTED = 20


class _CellWarnings:
    """The register's cell warnings, one per column and problem.

    A problem in one cell is told as ``'file', row r, column 'c': 'cell' <problem>; the row is
    kept and flagged``; in several cells of a column as one warning that lists their rows (the
    first :data:`_ROWS_LISTED`) and shows the first cell. :meth:`emit` warns in the order the
    column-problems were first met.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # (column, problem key) -> [count, first row, first cell, problem, rows listed]
        self.cells: dict[tuple[str, str], list[Any]] = {}

    def add(self, row: int, column: str, text: str, key: str, problem: Msg) -> None:
        """One cell of ``column`` on spreadsheet row ``row`` has the problem ``key``."""
        self.add_many([row], column, text, key, problem)

    def add_many(self, rows: list[int], column: str, first: str, key: str,
                 problem: Msg) -> None:
        """Cells of ``column`` on ``rows`` (in file order; ``first`` is the first one's text)."""
        if not rows:
            return
        got = self.cells.get((column, key))
        if got is None:
            self.cells[(column, key)] = [len(rows), rows[0], first, problem,
                                         list(rows[:_ROWS_LISTED])]
            return
        got[0] += len(rows)
        got[4].extend(rows[: max(_ROWS_LISTED - len(got[4]), 0)])

    def emit(self) -> None:
        """Warn about the cells added since the last call."""
        for (column, _key), (n, row, text, problem, listed) in self.cells.items():
            if n == 1:
                m = msg("warn.cell", file=self.path, row=row, column=column, cell=short(text),
                        problem=problem)
            else:
                rows = ", ".join(str(r) for r in listed) + (", ..." if n > len(listed) else "")
                m = msg("warn.cells", file=self.path, column=column, n=Number(n), rows=rows,
                        cell=short(text), problem=problem)
            warnings.warn(DataQualityWarning(m), stacklevel=4)
        self.cells = {}


#: The text key (``warn.cell.<flag>``) of each amount flag's problem.
_AMOUNT_PROBLEMS = {f: msg(f"warn.cell.{f}") for f in (
    "amount_scaled", "amount_negative", "amount_not_finite", "amount_out_of_range")}


def _status_code(value: object) -> str | None:
    """The status code a register's status cell names, or None (empty, unknown or mixed).

    >>> [_status_code(v) for v in ("Klar", "Pågående", "Avslutad utan åtgärd", "Beviljad")]
    ['completed', 'ongoing', 'cancelled', 'planned']
    >>> [_status_code(v) for v in ("Klar 2021-05", "Ej påbörjad", "Ej besiktigad", "Klar/avbruten")]
    ['completed', 'planned', None, None]
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    rest = f" {fold_text(str(value))} "
    codes: set[str] = set()
    for phrase, code in _STATUS_PHRASES:
        if f" {phrase} " in rest:
            codes.add(code)
            rest = rest.replace(f" {phrase} ", " | ")
    if len(codes) != 1 or any(w in _NEGATIONS for w in rest.split()):
        return None
    return codes.pop()


def _register_status(
    cells: pd.Series | None, completed: pd.Series, path: Path, column: str | None,
    rows: Any, flag: Any,
) -> pd.Series:
    """The ``status`` of every row, from the status column, else from the completion date.

    Without a status column (or with an empty cell) a row with a completion date is
    ``completed``, else NA. An unreadable status is flagged ``status_unknown`` (and warned
    about once) and read from the date the same way. A cancelled row keeps its completion date,
    flagged ``cancelled_with_date``; an ongoing or planned row with a completion date is flagged
    ``status_date_conflict``; a completed row without one ``completed_without_date``.
    """
    done = completed.notna().to_numpy()
    from_date: list[object] = ["completed" if d else None for d in done]
    if cells is None:
        return pd.Series(from_date, dtype="string")
    out: list[object] = []
    unknown: list[tuple[int, str]] = []
    codes: dict[str, str | None] = {}  # each distinct status text is read once
    for i, v in enumerate(cells.tolist()):
        if v is pd.NA or not str(v).strip():
            out.append(from_date[i])
            continue
        t = str(v)
        code = codes[t] if t in codes else codes.setdefault(t, _status_code(t))
        if code is None:
            flag(i, "status_unknown")
            unknown.append((int(rows[i]), str(v)))
            out.append(from_date[i])
            continue
        out.append(code)
        if code == "cancelled" and done[i]:
            flag(i, "cancelled_with_date")
        elif code in ("ongoing", "planned") and done[i]:
            flag(i, "status_date_conflict")
        elif code == "completed" and not done[i]:
            flag(i, "completed_without_date")
    if unknown:
        shown = sorted({short(v) for _, v in unknown})[:5]
        warnings.warn(DataQualityWarning(msg(
            "warn.status_unknown", file=path, column=column, n=len(unknown), row=unknown[0][0],
            values=", ".join(repr(v) for v in shown))), stacklevel=4)
    return pd.Series(out, dtype="string")


def _status_column(frame: pd.DataFrame, mapping: dict[str, str],
                   columns: Mapping[str, str] | None, path: Path) -> pd.Series | None:
    """The status cells, or None.

    A column found as "Läge" that holds mostly no status words (a location, not a status) is
    not read as the status.
    """
    col = mapping.get("status")
    if col is None:
        return None
    cells = frame[col].astype("string").str.strip().replace("", pd.NA).reset_index(drop=True)
    given = cells.dropna()
    if "status" not in (columns or {}) and "lage" in fold_text(col).split() and len(given):
        known = sum(int(k) for v, k in given.value_counts().items()
                    if _status_code(v) is not None)
        if known * 2 < len(given):
            log.info("%s: column '%s' holds no status words in most rows; it is not read as the "
                     "project status.", path.name, col)
            del mapping["status"]
            return None
    return cells


def _row_keys(frame: pd.DataFrame) -> np.ndarray:
    """One integer per row, equal for rows whose every cell (trimmed) is equal.

    Each column's distinct cells are trimmed once (Python's ``str.strip``); the per-column
    codes are combined into one code per row, renumbered after each column so they stay small.
    """
    key = np.zeros(len(frame), dtype=np.int64)
    for c in frame.columns:
        codes, uniques = pd.factorize(frame[c].astype("string"))  # an empty cell is code -1
        codes = np.where(codes < 0, len(uniques), codes)
        trimmed = np.empty(len(uniques) + 1, dtype=object)
        trimmed[:] = [str(u).strip() for u in uniques.tolist()] + [""]
        tcodes, tuniques = pd.factorize(trimmed)
        key, _ = pd.factorize(key * max(len(tuniques), 1) + np.asarray(tcodes)[codes])
        key = np.asarray(key, dtype=np.int64)
    return key


def _duplicates(
    frame: pd.DataFrame, ids: pd.Series, investment_id: pd.Series, rows: Any, path: Path,
    flag: Any,
) -> pd.Series:
    """Flag exact duplicate rows and ids reused with other contents; return ``duplicate_of``.

    A row whose every cell (trimmed) equals an earlier row's is flagged ``duplicate`` and gets
    that row's ``source_row`` in ``duplicate_of``. Rows that share an id given in the file but
    differ in some cell are all flagged ``duplicate_id`` (an exact copy in such a group too);
    they stay separate rows.
    """
    key = _row_keys(frame)
    # pd.factorize numbers the keys in order of first appearance: first[k] is key k's first row
    first = np.unique(key, return_index=True)[1]
    first_of = first[key]
    copy = np.flatnonzero(first_of != np.arange(len(key)))
    dup_of = pd.array(np.asarray(rows, dtype=np.int64)[first_of], dtype="Int64")
    dup_of[first_of == np.arange(len(key))] = pd.NA
    for i in copy.tolist():
        flag(i, "duplicate")
    # ids given in the file on two or more rows, in the order of their first row
    given = ids.notna().to_numpy(dtype=bool, copy=True)
    given &= investment_id.astype(str).duplicated(keep=False).to_numpy(dtype=bool)
    groups: dict[str, list[int]] = {}
    for i, iid in zip(np.flatnonzero(given).tolist(), investment_id[given].tolist(), strict=True):
        groups.setdefault(str(iid), []).append(i)
    reused = []
    for iid, members in groups.items():
        if len(members) > 1 and len({int(key[i]) for i in members}) > 1:
            for i in members:
                flag(i, "duplicate_id")
            reused.append(msg("warn.dup_ids.item", id=short(iid),
                              rows=", ".join(str(int(rows[i])) for i in members)))
    copies = [(int(rows[i]), int(dup_of[i])) for i in copy.tolist()]
    if copies:
        listed: list[Msg] = [msg("warn.dup_rows.item", row=r, of=d) for r, d in copies[:10]]
        if len(copies) > 10:
            listed.append(msg("warn.more"))
        one = "one" if len(copies) == 1 else "many"
        warnings.warn(DataQualityWarning(msg(
            "warn.dup_rows", file=path, head=msg(f"warn.dup_rows.head_{one}", n=len(copies)),
            listed=listed, they=msg(f"warn.dup_rows.{one}"))), stacklevel=4)
    if reused:
        shown: Msg | str = ""
        for m in reused[:5]:
            shown = msg("err.join", a=shown, b=msg("err.join", a="; ", b=m)) if shown else m
        if len(reused) > 5:
            shown = msg("err.join", a=shown, b=", ...")
        warnings.warn(DataQualityWarning(msg("warn.dup_ids", file=path, n=len(reused),
                                             listed=shown)), stacklevel=4)
    return pd.Series(dup_of, dtype="Int64")


def register_duplicates(register: pd.DataFrame) -> pd.DataFrame:
    """The register's duplicate rows, as the report and the command line list them.

    Parameters
    ----------
    register
        A register from :func:`read_register` (``source_row``, ``investment_id``,
        ``duplicate_of``, ``read_flag``).

    Returns
    -------
    pandas.DataFrame
        One row per flagged register row, in file order: ``source_row``, ``investment_id``,
        ``flag`` (``duplicate``: an exact copy, counted once; ``duplicate_id``: the id is on
        rows with other contents, every row counted), ``duplicate_of`` (the row it copies, for
        ``duplicate``) and ``same_id_rows`` (the other rows with that id, comma-joined, for
        ``duplicate_id``).

    Examples
    --------
    >>> reg = pd.DataFrame({"source_row": [2, 3, 4, 5], "investment_id": ["A", "A", "B", "B"],
    ...                     "duplicate_of": pd.array([pd.NA, 2, pd.NA, pd.NA], dtype="Int64"),
    ...                     "read_flag": ["", "duplicate", "duplicate_id", "duplicate_id"]})
    >>> register_duplicates(reg)[["source_row", "flag", "same_id_rows"]].to_numpy().tolist()
    [[3, 'duplicate', ''], [4, 'duplicate_id', '5'], [5, 'duplicate_id', '4']]
    """
    cols = ["source_row", "investment_id", "flag", "duplicate_of", "same_id_rows"]
    if len(register) == 0 or "read_flag" not in register.columns:
        return pd.DataFrame({c: [] for c in cols})
    dup_of = (register["duplicate_of"] if "duplicate_of" in register.columns
              else pd.Series(pd.NA, index=register.index, dtype="Int64"))
    # the rows that can be listed: a flag naming "duplicate" or a duplicate_of (most rows of a
    # large register are neither), and every row sharing an id with one of them
    flag_cells = register["read_flag"].tolist()
    maybe = np.fromiter(("duplicate" in str(f) for f in flag_cells), dtype=bool,
                        count=len(flag_cells))
    maybe |= dup_of.notna().to_numpy(dtype=bool)
    all_ids = [str(iid) for iid in register["investment_id"].tolist()]
    wanted = {all_ids[i] for i in np.flatnonzero(maybe).tolist()}
    rows_by_id: dict[str, list[int]] = {}
    for r, iid in zip(register["source_row"].tolist(), all_ids, strict=True):
        if iid in wanted:
            rows_by_id.setdefault(iid, []).append(int(r))
    register = register[maybe]
    dup_of = dup_of[maybe]
    flags = [set(str(f).split(",")) if pd.notna(f) else set() for f in register["read_flag"]]
    out = []
    for (r, iid, d), f in zip(zip(register["source_row"].tolist(),
                                  register["investment_id"].tolist(), dup_of.tolist(),
                                  strict=True), flags, strict=True):
        if "duplicate" in f or pd.notna(d):
            out.append({"source_row": int(r), "investment_id": str(iid), "flag": "duplicate",
                        "duplicate_of": d, "same_id_rows": ""})
        elif "duplicate_id" in f:
            others = [str(o) for o in rows_by_id[str(iid)] if o != int(r)]
            out.append({"source_row": int(r), "investment_id": str(iid), "flag": "duplicate_id",
                        "duplicate_of": pd.NA, "same_id_rows": ", ".join(others)})
    frame = pd.DataFrame(out, columns=cols)
    frame["duplicate_of"] = frame["duplicate_of"].astype("Int64")
    return frame


class _Flags:
    """The ``read_flag`` of every row: flags in the order they were raised, each once."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.rows: dict[int, list[str]] = {}  # only the flagged rows

    def __call__(self, i: int, f: str) -> None:
        got = self.rows.setdefault(i, [])
        if f not in got:
            got.append(f)

    def many(self, where: list[int], f: str) -> None:
        """Flag the rows ``where`` with ``f``."""
        for i in where:
            self(i, f)

    def column(self) -> pd.Series:
        """``read_flag``: each row's flags joined by commas ("" for none)."""
        out = np.full(self.n, "", dtype=object)
        for i, f in self.rows.items():
            out[i] = ",".join(f)
        return pd.Series(out, dtype="string")


def _text_column(frame: pd.DataFrame, mapping: dict[str, str], field: str, n: int,
                 rows: np.ndarray, flag: _Flags, cw: _CellWarnings) -> pd.Series:
    """A text field, trimmed (empty -> NA); text fields longer than MAX_TEXT_CHARS are cut."""
    if field not in mapping:
        return pd.Series([pd.NA] * n, dtype="string")
    s = frame[mapping[field]].astype("string").str.strip().replace("", pd.NA).reset_index(drop=True)
    if field not in _TEXT_FIELDS:
        return s
    long = np.flatnonzero((s.str.len() > MAX_TEXT_CHARS).fillna(False).to_numpy(dtype=bool))
    if not len(long):
        return s
    vals = s.tolist()
    for i in long.tolist():
        v = vals[i]
        vals[i], _ = cut_text(v)
        flag(i, "text_truncated")
        cw.add(int(rows[i]), mapping[field], v, "text_cut",
               msg("warn.cell.text_cut", n=Number(len(v)), limit=Number(MAX_TEXT_CHARS)))
    return pd.Series(vals, dtype="string")


def _kind_columns(out: pd.DataFrame, kind_raw: pd.Series, kinds: Mapping[str, str] | None,
                  flag: _Flags) -> None:
    """Add ``kind``, ``kind_raw``, ``kind_recognised``, ``kind_score`` and ``kind_match``.

    Each distinct kind text is matched once.
    """
    codes, uniques = pd.factorize(kind_raw)
    found = [match_kind(str(k), kinds) for k in uniques] + [match_kind(None, kinds)]
    matches = [found[c] for c in codes.tolist()]  # code -1 (empty) is the last
    out["kind"] = pd.Series([m.kind for m in matches], dtype="string")
    out["kind_raw"] = kind_raw
    out["kind_recognised"] = np.array([m.recognised for m in matches], dtype=bool)
    out["kind_score"] = np.array([m.score for m in matches], dtype="float64")
    out["kind_match"] = pd.Series([m.how for m in matches], dtype="string")
    for i, m in enumerate(matches):
        if not m.recognised:
            flag(i, "kind_unknown")
        elif m.how == "fuzzy":
            flag(i, "kind_fuzzy")


def _amount_columns(out: pd.DataFrame, frame: pd.DataFrame, mapping: dict[str, str],
                    rows: np.ndarray, path: Path, flag: _Flags, cw: _CellWarnings) -> None:
    """``granted_sek`` and ``spent_sek`` in kronor; a bad cell is empty, flagged and warned."""
    pos = {int(r): i for i, r in enumerate(rows)}
    for f in ("granted_sek", "spent_sek"):
        if f not in mapping:
            out[f] = pd.Series([np.nan] * len(out), dtype="float64")
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
            cw.add(r, col, cell, "not_amount", msg("warn.cell.not_amount"))
        by_flag: dict[str, list[int]] = {}
        first: dict[str, str] = {}
        for i, fl, cell in res.flags:
            by_flag.setdefault(fl, []).append(i)
            first.setdefault(fl, cell)
        for fl, where in by_flag.items():
            flag.many(where, fl)
            cw.add_many(rows[where].tolist(), col, first[fl], fl, _AMOUNT_PROBLEMS[fl])
    for f in ("x", "y"):
        if f not in mapping:
            out[f] = pd.Series([np.nan] * len(out), dtype="float64")
            continue
        vals, bad = parse_number(
            frame[mapping[f]].reset_index(drop=True), column=mapping[f], file=path, rows=rows
        )
        out[f] = vals.to_numpy()
        for r, cell in bad:
            flag(pos[r], f"bad_{f}")
            cw.add(r, mapping[f], cell, "not_number", msg("warn.cell.not_number"))


def _date_columns(out: pd.DataFrame, frame: pd.DataFrame, mapping: dict[str, str],
                  rows: np.ndarray, path: Path, flag: _Flags, cw: _CellWarnings) -> None:
    """``started`` and ``completed``; bad, out-of-range, implausible and future dates flagged."""
    pos = {int(r): i for i, r in enumerate(rows)}
    today = _today()
    for f in ("started", "completed"):
        if f not in mapping:
            out[f] = pd.Series([pd.NaT] * len(out), dtype="datetime64[ns]")
            continue
        col = mapping[f]
        cells = frame[col].reset_index(drop=True)
        dres = parse_dates_checked(cells, column=col, file=path, rows=rows)
        vals = dres.values.copy()
        for r, cell in dres.bad:
            flag(pos[r], f"bad_{f}")
            cw.add(r, col, cell, "not_date", msg("warn.cell.not_date"))
        for r, cell in dres.out_of_range:
            flag(pos[r], "date_out_of_range")
            cw.add(r, col, cell, "date_out_of_range", msg("warn.cell.date_out_of_range"))
        for i in np.flatnonzero((vals < PLAUSIBLE_FROM).to_numpy()).tolist():
            flag(int(i), "date_implausible")
            cw.add(int(rows[i]), col, str(cells.iloc[i]), "date_implausible",
                   msg("warn.cell.date_implausible", year=PLAUSIBLE_FROM.year))
        if f == "completed":
            future = np.flatnonzero((vals > today).to_numpy())
            for i in future.tolist():
                flag(int(i), "completed_in_future")
                cw.add(int(rows[i]), col, str(cells.iloc[i]), "date_future",
                       msg("warn.cell.date_future", today=str(today.date())))
            vals.iloc[future] = pd.NaT
        out[f] = vals.to_numpy()
    order_bad = (out["completed"] < out["started"]).to_numpy()
    for i in np.flatnonzero(order_bad).tolist():
        flag(int(i), "completed_before_start")


def _crs_column(crs_text: pd.Series, mapping: dict[str, str], rows: np.ndarray, path: Path,
                flag: _Flags) -> pd.Series:
    """Each row's CRS label; an unreadable CRS is empty, flagged ``bad_crs`` and warned about.

    A CRS text is parsed once; a text that is no CRS is parsed again for each of its rows, so
    that each warning names its row.
    """
    labels: dict[str, str] = {}
    crs_out: list[object] = []
    for i, c in enumerate(crs_text.tolist()):
        if c is pd.NA:
            crs_out.append(pd.NA)
            continue
        label = labels.get(c)
        if label is None:
            try:
                parsed = parse_crs(str(c), file=path, row=int(rows[i]), column=mapping["crs"])
            except CRSError as exc:
                crs_out.append(pd.NA)
                flag(i, "bad_crs")
                warnings.warn(DataQualityWarning(msg("warn.bad_crs", error=exc)), stacklevel=4)
                continue
            label = labels[c] = crs_label(parsed)
        crs_out.append(label)
    return pd.Series(crs_out, dtype="string")


def _raw_text(strings: pd.DataFrame, wkt_col: str | None, flag: _Flags) -> pd.Series:
    """Every row's cells joined by ``;`` (each cut at MAX_TEXT_CHARS; flagged unless WKT)."""
    cols: list[pa.Array] = []
    for c in strings.columns:
        col = pa.array(strings[c].array)
        longest = pc.max(pc.utf8_length(col)).as_py() if len(col) else None
        if longest is not None and longest > MAX_TEXT_CHARS:
            vals = col.to_pylist()
            for i, v in enumerate(vals):
                if v is not None and len(v) > MAX_TEXT_CHARS:
                    vals[i], _ = cut_text(v)
                    if c != wkt_col:
                        flag(i, "text_truncated")
            col = pa.array(vals, type=col.type)
        cols.append(col)
    if not cols:
        return pd.Series([""] * len(strings), dtype="string")
    joined = pc.binary_join_element_wise(*cols, pa.scalar(";", cols[0].type),
                                         null_handling="replace", null_replacement="")
    return pd.Series(pd.array(joined, dtype="string"))


def _register_from_table(
    table: Any, columns: Mapping[str, str] | None, kinds: Mapping[str, str] | None = None
) -> pd.DataFrame:
    frame: pd.DataFrame = table.frame
    path = table.path
    rows = table.source_row
    mapping = _register_mapping(list(frame.columns), columns, path)
    n = len(frame)
    if n == 0:
        raise EmptyLayerError(msg("err.register_empty"), file=path,
                              fix=msg("err.register_empty.fix"))
    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["source_row"] = rows.astype("int64")
    flag = _Flags(n)
    cw = _CellWarnings(path)
    # the cells as text once (the parsers of numbers and dates read the cells as they came)
    strings = frame.astype("string")

    def text(field: str) -> pd.Series:
        return _text_column(strings, mapping, field, n, rows, flag, cw)

    ids = text("investment_id")
    out["investment_id"] = ids.fillna(pd.Series([f"rad-{r}" for r in rows], dtype="string"))
    out["name"] = text("name")
    kind_raw = text("kind")
    cw.emit()
    _kind_columns(out, kind_raw, kinds, flag)
    for f in ("address", "district", "board"):
        out[f] = text(f)
    cw.emit()
    # numbers and dates: a bad cell becomes empty, is flagged and warned about; the row stays
    _amount_columns(out, frame, mapping, rows, path, flag, cw)
    cw.emit()
    _date_columns(out, frame, mapping, rows, path, flag, cw)
    cw.emit()
    out["status"] = _register_status(_status_column(strings, mapping, columns, path),
                                     out["completed"], path, mapping.get("status"), rows, flag)
    crs_text = text("crs")
    cw.emit()
    out["crs"] = _crs_column(crs_text, mapping, rows, path, flag)
    out["wkt"] = text("wkt")
    out["raw_text"] = _raw_text(strings, mapping.get("wkt"), flag)
    out["duplicate_of"] = _duplicates(strings, ids, out["investment_id"], rows, path, flag)
    out["read_flag"] = flag.column()
    out.attrs["trygg_geo_source"] = str(path)
    out.attrs["trygg_geo_columns"] = dict(mapping)
    return out


def read_register(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    kinds: Mapping[str, str] | None = None,
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
    kinds
        Optional ``register kind text -> kind id`` (``[register.kinds]`` of projekt.toml),
        read before the built-in synonyms (see :func:`trygg_geo.interventions.match_kind`).

    Returns
    -------
    pandas.DataFrame
        One row per register row, in file order, with the columns ``source_row,
        investment_id, name, kind, kind_raw, kind_recognised, kind_score, kind_match, address,
        district, board, granted_sek, spent_sek, x, y, started, completed, status, crs, wkt,
        raw_text, duplicate_of, read_flag``.

        ``kind_match`` says how the kind was read (``exact``, ``synonym``, ``fuzzy``,
        ``config`` or ``unknown``) and ``kind_score`` how surely (0-100; see
        :class:`~trygg_geo.interventions.KindMatch`).

        ``status`` is ``completed``, ``ongoing``, ``cancelled``, ``planned`` or NA, read from a
        status column (``Status``, ``Projektstatus``, ``Läge``, ...; words in
        :data:`STATUS_VALUES`), else ``completed`` when the row has a completion date and NA
        when not. A cancelled row keeps its completion date.

        ``duplicate_of`` is, for a row that repeats an earlier row cell for cell, that row's
        ``source_row`` (NA otherwise): such a row is kept but must be counted once in totals
        (``register[register["duplicate_of"].isna()]``).
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
        - ``kind_unknown`` (kind ``annat``), ``kind_fuzzy`` (read as the nearest kind from a
          misspelling; ``kind_score`` says how near);
        - ``status_unknown``: the status cell names no known status (the status is then taken
          from the date); ``cancelled_with_date``; ``status_date_conflict`` (ongoing or planned
          with a completion date); ``completed_without_date``;
        - ``duplicate``: the row repeats an earlier row exactly (see ``duplicate_of``);
          ``duplicate_id``: the id is on two or more rows with different contents (every such
          row is flagged, kept and counted).

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
    with _gc_paused():  # a large register builds millions of objects without cycles
        table = read_table(p, sheet=sheet, what="investment register",
                           config_section="register",
                           find_header=lambda names: _register_mapping(names, columns, p))
        return _register_from_table(table, columns, kinds)


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
    with _gc_paused():  # a million incidents build millions of objects without cycles
        return _read_incidents(Path(path), crs=crs, columns=columns, layer=layer)


def _read_incidents(p: Path, *, crs: str | int | None, columns: Mapping[str, str] | None,
                    layer: str | None) -> gpd.GeoDataFrame:
    """:func:`read_incidents` (with the garbage collector paused)."""
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
        if declared is None:
            require_crs(None, what="the incident table", file=p, key="incidents.crs")
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
                warnings.warn(DataQualityWarning(msg(
                    "warn.incident_dates", file=p, column=mapping["date"], n=len(failed), row=r,
                    cell=short(cell))), stacklevel=3)
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
            gdf = gdf.set_crs(require_crs(declared, what="the incident layer", file=p,
                                          key="incidents.crs"))
        gdf["source_row"] = np.arange(1, len(gdf) + 1, dtype="int64")
        pts = gdf.geometry.notna().to_numpy() & ~gdf.geometry.is_empty.to_numpy()
        pts &= (gdf.geometry.geom_type == "Point").to_numpy()
        if pts.any():
            _check_incident_crs(
                gdf.geometry[pts].x.to_numpy(),
                gdf.geometry[pts].y.to_numpy(),
                gdf["source_row"].to_numpy()[pts],
                crs_label(gdf.crs),
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


def _incident_crs(crs: object, p: Path) -> str | None:
    """The incidents' CRS as given (``3006``, ``"EPSG:3006"``, ``"SWEREF 99 TM"``) as a label."""
    parsed = parse_optional_crs(crs, file=p, key="incidents.crs")
    return None if parsed is None else crs_label(parsed)


def _check_incident_crs(x: np.ndarray, y: np.ndarray, rows: np.ndarray, declared: str, p: Path,
                        where: str, column: str) -> None:
    """Refuse incident coordinates that do not lie in Sweden in the declared CRS.

    The message says what they look like instead (swapped axes, WGS84 numbers in a SWEREF
    file, ...).
    """
    bad, hint, likely, swapped = diagnose_crs(x, y, declared)
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    nbad, n = int(bad.sum()), len(x)
    name = crs_name(declared)
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
        warnings.warn(DataQualityWarning(msg(
            "warn.cells_cut", file=p, column=column, n=int(long.sum()),
            limit=Number(MAX_TEXT_CHARS), row=int(rows[i]))), stacklevel=4)
        s = s.map(lambda v: v if v is pd.NA else cut_text(v)[0]).astype("string")
    return s
