"""Reading tables the way Swedish municipalities keep them.

CSV files come as UTF-8 (with or without BOM) or Windows-1252, separated by ``;``
(decimal comma) or ``,`` or tabs; numbers like ``1 250 000,50`` or ``1.250.000 kr``;
dates as ``2021-03-15``, ``15/3 2021`` or ``2021-03``. Excel sheets (.xlsx) too.
Everything is read as text first; conversion is per column, so that a bad cell can
be reported with its file, row and column instead of turning a column into NaN.

Row numbers (``source_row``) are what a person sees in a spreadsheet: the header is
row 1 (or the last header row), the first data row is row 2.

Limits and checks (issue 9: every bad file gets a message or a flag, never a traceback):

- a CSV cell may be as long as the file (the ``csv`` module's field limit is lifted while
  reading); callers cut text fields at :data:`MAX_TEXT_CHARS` and flag ``text_truncated``;
- when a caller says which header it needs (``find_header``), the header is looked for in the
  first :data:`HEADER_SEARCH_ROWS` rows (under a title or group header) and, for Excel without a
  named sheet, on every sheet; the choice is logged, and when nothing fits the message lists the
  sheets and their first rows;
- two columns whose headers fold to the same name (case, å/ä/ö, punctuation, units) are refused
  when a field would be read from one of them;
- amounts: ``tkr``/``MSEK``/``mkr``/``tusen kr``/``kSEK`` in a cell or in the header are scaled
  to kronor (:func:`parse_amount`); negative, non-finite and absurd amounts are flagged;
- dates outside 1900-2100 are reported as out of range instead of overflowing pandas.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as _dt
import gc
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trygg_geo._errors import (
    EmptyLayerError,
    InputError,
    MissingColumnError,
    MissingFileError,
    TryggGeoError,
    UnreadableFileError,
)
from trygg_geo.interventions import fold_text

__all__ = [
    "HEADER_SEARCH_ROWS",
    "MAX_AMOUNT_SEK",
    "MAX_TEXT_CHARS",
    "AmountResult",
    "DateResult",
    "HeaderNotFoundError",
    "Table",
    "amount_unit",
    "column_label",
    "cut_text",
    "fold_header",
    "match_columns",
    "parse_amount",
    "parse_date",
    "parse_dates_checked",
    "parse_number",
    "read_table",
    "short",
]

log = logging.getLogger(__name__)

_ENCODINGS = ("utf-8-sig", "cp1252")
_EXCEL = {".xlsx", ".xlsm"}

#: Text fields (names, addresses, districts, boards, kinds) longer than this are cut and the
#: row is flagged ``text_truncated``. No real name or address comes near it.
MAX_TEXT_CHARS = 1000

#: The source row numbers of a table's rows: a list, or the integer array of ``Table.source_row``.
SourceRows = Sequence[int] | np.ndarray
#: How many rows from the top of a sheet (or CSV file) are searched for the header row.
HEADER_SEARCH_ROWS = 20
#: Amounts above this (1,000 billion kr) are no municipal investment: flagged, value empty.
MAX_AMOUNT_SEK = 1e12
#: Dates outside these years are flagged as out of range (and never reach pandas' limits).
DATE_YEARS = (1900, 2100)
#: A suffix that makes a repeated header unique in the frame; :func:`fold_header` drops it, so
#: the repeat is still recognised as the same header.
_DUP_SUFFIX = re.compile(r" \[kolumn \d+\]$")


def short(text: object, n: int = 60) -> str:
    """``text`` cut to ``n`` characters for a message (with the full length when cut)."""
    t = str(text)
    if len(t) <= n:
        return t
    return f"{t[:n]}... ({len(t):,} characters)"


def cut_text(text: str, limit: int = MAX_TEXT_CHARS) -> tuple[str, bool]:
    """``(text, was_cut)``: ``text`` cut to ``limit`` characters (marked with an ellipsis)."""
    if len(text) <= limit:
        return text, False
    return text[: limit - 1] + "\u2026", True


def column_label(j: int) -> str:
    """The spreadsheet name of the 0-based column ``j``: ``column 7 (G)``.

    >>> column_label(0), column_label(27)
    ('column 1 (A)', 'column 28 (AB)')
    """
    n, letters = j + 1, ""
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return f"column {j + 1} ({letters})"


@dataclass(frozen=True)
class Table:
    """A table read as text.

    Attributes
    ----------
    frame
        All cells as strings (missing cells as NA), original headers, file order.
    source_row
        The spreadsheet row of each data row.
    path
        The file.
    encoding
        The encoding used (``"xlsx"`` for Excel).
    delimiter
        The CSV delimiter (``""`` for Excel).
    headers
        The headers as written, by position (the frame's column names differ only for a
        repeated or blank header).
    sheet
        The Excel sheet read (None for CSV).
    header_row
        The spreadsheet row of the header.
    """

    frame: pd.DataFrame
    source_row: np.ndarray
    path: Path
    encoding: str
    delimiter: str
    headers: tuple[str, ...] = dataclasses.field(default=())
    sheet: str | None = None
    header_row: int = 1


class HeaderNotFoundError(MissingColumnError):
    """No row near the top of any sheet holds the header a reader needs.

    The message names what was found (sheets and their first rows) instead of asking to
    rename a column.
    """

    def __init__(self, message: str, *, file: str | Path | None, column: str, found: Iterable[str],
                 fix: str) -> None:
        self.found = list(found)
        InputError.__init__(self, message, file=file, column=column, fix=fix)


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    for enc in _ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        # cp1252 decodes nearly anything; prefer it only when utf-8 failed.
        return text, enc
    raise UnreadableFileError(  # pragma: no cover - cp1252 decodes all but 5 bytes
        "the file is neither UTF-8 nor Windows-1252 text.",
        file=path,
        fix="save it as 'CSV UTF-8' from Excel, or as .xlsx.",
    )


def _sniff_delimiter(text: str, path: Path) -> str:
    """The delimiter that splits the first rows into the most cells in rows of one width (>1 field).

    Each candidate is tried with a real CSV parser, with quotes respected (a tab or a comma
    inside a quoted cell does not win) and ignored (an unclosed quote does not hide the rows);
    ties go to the wider table, then to ``;``, ``,``, tab, ``|`` in that order. csv.Sniffer
    was dropped: it picks a delimiter from one odd cell.
    """
    # split on line breaks only: str.splitlines() also breaks at \x1c-\x1e, \x0b, \x0c
    head = "\n".join(re.split(r"\r\n|\r|\n", text, maxsplit=50)[:50])
    best: tuple[int, int, int] = (0, 0, 0)
    choice = ""
    for rank, d in enumerate(";,\t|"):
        # with and without quoting: an unclosed quote must not hide the real delimiter
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            try:
                rows = csv.reader(io.StringIO(head), delimiter=d, quoting=quoting)
                widths = [len(r) for r in rows if any(c.strip() for c in r)]
            except csv.Error:
                continue
            wide = [w for w in widths if w > 1]
            if not wide:
                continue
            modal = max(set(wide), key=lambda w: (wide.count(w) * w, w))
            # cells in rows of the modal width: a few two-field rows split at a tab or a quote
            # inside a cell never beat the real table (the header and every row at full width)
            score = (wide.count(modal) * modal, modal, -rank)
            if score > best:
                best, choice = score, d
    return choice or _sniff_fallback(text)


def _sniff_fallback(text: str) -> str:
    lines = text.splitlines()[:20]
    counts = {d: sum(ln.count(d) for ln in lines) for d in ";,\t|"}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    what: str = "table",
    find_header: Callable[[list[str]], object] | None = None,
    config_section: str | None = None,
) -> Table:
    """Read a CSV or Excel file as text, keeping spreadsheet row numbers.

    Parameters
    ----------
    path
        A ``.csv``/``.txt``/``.tsv`` or ``.xlsx`` file.
    sheet
        Excel sheet name or 0-based index (default: the first sheet).
    what
        What the file is, for error messages ("investment register", ...).
    find_header
        Optional check of a candidate header (the list of header names); it raises
        :class:`~trygg_geo.MissingColumnError` when the row is not the header the caller
        needs. With it, the header is looked for in the first :data:`HEADER_SEARCH_ROWS`
        non-blank rows and, for Excel without ``sheet``, on every sheet; the first row that
        passes is the header (logged when it is not the first row of the first sheet).
    config_section
        The projekt.toml section of this file (``"register"``), named in messages.

    Raises
    ------
    MissingFileError, UnreadableFileError, EmptyLayerError
    HeaderNotFoundError
        No row passes ``find_header``; the message lists the sheets and their first rows.
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(p, what=what)
    if p.is_dir():
        raise UnreadableFileError(f"expected a {what} file but found a folder.", file=p,
                                  fix="give the path of the file itself.")
    if p.suffix.lower() in _EXCEL:
        return _read_excel(
            p, sheet=sheet, what=what, find_header=find_header, config_section=config_section
        )
    if p.suffix.lower() == ".xls":
        raise UnreadableFileError(
            "old Excel .xls files are not supported.", file=p,
            fix="open it in Excel or LibreOffice and save it as .xlsx or as CSV UTF-8.",
        )
    raw = p.read_bytes()
    if raw[:4] == b"PK\x03\x04":
        raise UnreadableFileError(
            "the file looks like an Excel workbook (zip) but does not end in .xlsx.", file=p,
            fix="rename it to .xlsx.",
        )
    if b"\x00" in raw[:4096]:
        raise UnreadableFileError(
            f"the {what} is not a text file (it contains NUL bytes; UTF-16 text or a binary "
            "file?).",
            file=p,
            fix="save it as 'CSV UTF-8' or as .xlsx.",
        )
    text, enc = _decode(raw, p)
    if not text.strip():
        raise EmptyLayerError(
            f"the {what} is empty.", file=p, fix="check that the right file was exported."
        )
    delim = _sniff_delimiter(text, p)
    with _gc_paused():
        return _table_from_text(text, delim, enc, p, what, find_header, config_section)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of cells (no cycles) are built.

    Its full passes walk every list and string made so far; for a 100,000-row table they cost
    as much as parsing it. The previous state is restored.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _table_from_text(text: str, delim: str, enc: str, p: Path, what: str,
                     find_header: Callable[[list[str]], object] | None,
                     config_section: str | None) -> Table:
    """The table in ``text`` (CSV with ``delim``): header found, rows numbered as in the file."""
    if FAST_PATH:
        fast = _fast_table(text, delim, enc, p, find_header)
        if fast is not None:
            return fast
    rows, line_starts = _csv_rows(text, delim, p, what)
    # drop fully blank lines but keep their numbering
    numbered = [(line_starts[i], r) for i, r in enumerate(rows) if "".join(r).strip()]
    if not numbered:
        raise EmptyLayerError(f"the {what} has no rows.", file=p)
    _refuse_runaway_quote(numbered, line_starts, delim, p, what)
    k, first_err = _find_header_row(numbered, find_header)
    if k is None:
        assert first_err is not None
        raise _header_not_found(p, what, [(None, numbered)], first_err, config_section)
    if k:
        log.info(
            "%s: the header is on row %d (the rows above it are read as a title)",
            p.name,
            numbered[k][0],
        )
    header = [h.strip() for h in numbered[k][1]]
    width = len(header)
    records = []
    src = []
    for n, r in numbered[k + 1:]:
        if len(r) != width:
            if len(r) > width and "".join(r[width:]).strip():
                raise UnreadableFileError(
                    f"this row has {len(r)} cells but the header (row {numbered[k][0]}) has "
                    f"{width}.",
                    file=p, row=n,
                    fix=f"check for an unquoted '{delim}' inside a cell (quote the cell), "
                    "or a missing header.",
                )
            r = (r + [""] * width)[:width]
        records.append(r)
        src.append(n)
    frame = _to_text_frame(records, header, p)
    log.debug("read %s: %d rows, encoding %s, delimiter %r", p, len(frame), enc, delim)
    return Table(frame=frame, source_row=np.array(src, dtype=np.int64), path=p, encoding=enc,
                 delimiter=delim, headers=tuple(header), sheet=None, header_row=int(numbered[k][0]))


#: ASCII letters and digits: a text holding one is not blank (no white space is one of them).
_SURELY_NOT_BLANK = "[0-9A-Za-z]"


def _blank_mask(texts: pa.Array, strip: Callable[[str], str]) -> np.ndarray:
    """Which ``texts`` are blank (``strip(t)`` is empty), as the per-cell check says.

    A text with an ASCII letter or digit is not blank; only the others are checked one by one.
    """
    if not len(texts):
        return np.zeros(0, dtype=bool)
    sure = pc.fill_null(pc.match_substring_regex(texts, _SURELY_NOT_BLANK), True)
    out = np.zeros(len(texts), dtype=bool)
    unsure = np.flatnonzero(~np.asarray(sure.to_numpy(zero_copy_only=False), dtype=bool))
    if len(unsure):
        vals = texts.take(pa.array(unsure)).to_pylist()
        out[unsure] = [v is not None and not strip(v) for v in vals]
    return out


def _fast_table(text: str, delim: str, enc: str, p: Path,
                find_header: Callable[[list[str]], object] | None) -> Table | None:
    """The table of a plain CSV read a column at a time, or None to read it record by record.

    Plain: no quote, no NUL, no lone carriage return, and every data row exactly as wide as the
    header. Then each physical line is one record split at ``delim``, which is what the csv
    module reads (tests/test_incidents_fast.py compares the two); anything else is left to
    :func:`_csv_rows` and its checks and messages.
    """
    if '"' in text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.replace("\r\n", "\n").split("\n")
    if text.endswith("\n"):
        lines.pop()  # the csv module reads no record after the last line break
    arr = pa.array(lines, type=pa.large_string())
    blank = _blank_mask(arr, lambda t: t.replace(delim, "").strip())
    kept = np.flatnonzero(~blank)
    if not len(kept):
        return None
    numbered = [(int(i) + 1, lines[i].split(delim)) for i in kept[:HEADER_SEARCH_ROWS].tolist()]
    k, _err = _find_header_row(numbered, find_header)
    if k is None:
        return None
    header = [h.strip() for h in numbered[k][1]]
    width = len(header)
    data = kept[k + 1:]
    cells = pc.split_pattern(arr.take(pa.array(data, type=pa.int64())), delim)
    if len(data) and not pc.all(pc.equal(pc.list_value_length(cells), width)).as_py():
        return None
    if k:
        log.info("%s: the header is on row %d (the rows above it are read as a title)", p.name,
                 numbered[k][0])
    flat = cells.flatten()
    cols = _column_names(header)
    columns: dict[str, np.ndarray] = {}
    for j, c in enumerate(cols):
        col = flat.take(pa.array(np.arange(j, len(flat), width, dtype=np.int64)))
        vals = np.empty(len(col), dtype=object)
        vals[:] = col.to_pylist()
        vals[_blank_mask(col, str.strip)] = None  # blank (white space only) cells are missing
        columns[c] = vals
    frame = pd.DataFrame(columns, columns=cols, dtype=object)
    log.debug("read %s: %d rows, encoding %s, delimiter %r", p, len(frame), enc, delim)
    return Table(frame=frame, source_row=(data + 1).astype(np.int64), path=p, encoding=enc,
                 delimiter=delim, headers=tuple(header), sheet=None,
                 header_row=int(numbered[k][0]))


def _csv_rows(text: str, delim: str, p: Path, what: str) -> tuple[list[list[str]], list[int]]:
    """All CSV records and the physical line each starts on (quoted cells may span lines)."""
    old = csv.field_size_limit()
    # a cell may be as long as the file (a 200,000-character quoted cell is read, then cut)
    csv.field_size_limit(max(old, len(text) + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    line_starts: list[int] = []
    rows: list[list[str]] = []
    prev_end = 0
    try:
        for r in reader:
            line_starts.append(prev_end + 1)
            prev_end = reader.line_num
            rows.append(r)
    except csv.Error as exc:
        raise UnreadableFileError(
            f"the {what} could not be read as CSV from row {prev_end + 1} on ({exc}).", file=p,
            row=prev_end + 1,
            fix="check that row for an unclosed quote (\") or a stray control character, "
            "or save the file again as 'CSV UTF-8'.",
        ) from exc
    finally:
        csv.field_size_limit(old)
    return rows, line_starts


def _refuse_runaway_quote(numbered: Sequence[tuple[int, Sequence[str]]], line_starts: Sequence[int],
                          delim: str, p: Path, what: str) -> None:
    """Refuse a quote that is never closed: one cell swallows the following rows.

    A cell that spans three or more lines which each hold the delimiter is rows of the file read
    as one cell, not a comment with line breaks.
    """
    nexts = [n for n, _ in numbered[1:]] + [n + 4 for n, _ in numbered[-1:]]
    for (n, cells), nxt in zip(numbered, nexts, strict=True):
        if nxt - n < 4:
            continue  # a record on fewer than four lines holds no cell with three line breaks
        for j, c in enumerate(cells):
            if c.count("\n") < 3:
                continue
            lines = c.split("\n")
            if sum(delim in ln for ln in lines[1:]) >= 3:
                raise UnreadableFileError(
                    f'a quote (") opened in row {n}, {column_label(j)}, is never closed, so the '
                    f"{len(lines) - 1} lines after it would be read as one cell.",
                    file=p,
                    row=n,
                    fix='close the quote or remove it (a quote inside a quoted cell is written '
                        'twice: "").',
                )


def _find_header_row(
    numbered: Sequence[tuple[int, Sequence[object]]],
    find_header: Callable[[list[str]], object] | None,
) -> tuple[int | None, MissingColumnError | None]:
    """Index (in ``numbered``) of the first row that ``find_header`` accepts.

    Else the first MissingColumnError it raised.
    """
    if find_header is None:
        return 0, None
    first: MissingColumnError | None = None
    for k, (_n, cells) in enumerate(numbered[:HEADER_SEARCH_ROWS]):
        names = _header_names(cells)
        try:
            find_header(names)
        except HeaderNotFoundError:
            raise
        except MissingColumnError as exc:
            if first is None:
                first = exc
            continue
        return k, None
    return None, first


def _header_names(cells: Sequence[object]) -> list[str]:
    header = ["" if v is None else str(v).strip() for v in cells]
    return _column_names(header)


def _column_names(header: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    cols = []
    for j, h in enumerate(header):
        name = h if h else f"kolumn_{j + 1}"
        if name in seen:
            # unique in the frame, and still the same header for fold_header (duplicate check)
            name = f"{name} [kolumn {j + 1}]"
        seen.add(name)
        cols.append(name)
    return cols


def _describe_rows(numbered: Sequence[tuple[int, Sequence[object]]], limit: int = 3) -> str:
    parts = []
    for n, cells in numbered[:limit]:
        vals = [short(v, 30) for v in cells if v is not None and str(v).strip()]
        more = f", ... ({len(vals)} cells)" if len(vals) > 6 else ""
        parts.append(f"row {n}: " + ", ".join(repr(v) for v in vals[:6]) + more)
    return "; ".join(parts) if parts else "(empty)"


def _header_not_found(
    p: Path,
    what: str,
    sheets: Sequence[tuple[str | None, Sequence[tuple[int, Sequence[object]]]]],
    first_err: MissingColumnError,
    config_section: str | None,
) -> HeaderNotFoundError:
    excel = any(name is not None for name, _ in sheets)
    where = f"the first {HEADER_SEARCH_ROWS} rows" + (
        f" of {'any of the ' + str(len(sheets)) + ' sheets' if len(sheets) > 1 else 'the sheet'}"
        if excel
        else ""
    )
    found = "; ".join(
        (f"sheet '{name}': " if name is not None else "") + _describe_rows(rows)
        for name, rows in sheets
    )
    core = str(first_err)
    core = core.split(": ", 1)[1] if core.startswith("file ") and ": " in core else core
    core = core.split(" Fix: ", 1)[0]
    sec = config_section or "..."
    fix = (
        f"check that this is the {what}; put its header (the column names) on one row near the top"
        + (f", name the sheet with `sheet = ...` under [{sec}] in projekt.toml" if excel else "")
        + f", or map the columns under [{sec}.columns]."
    )
    col = first_err.column or "header"
    return HeaderNotFoundError(
        f"no row in {where} holds the {what}'s header ({core.rstrip('.')}). Found: {found}.",
        file=p, column=col, found=getattr(first_err, "found", []), fix=fix,
    )


def _to_text_frame(
    records: Sequence[Sequence[object]], header: list[str], path: Path
) -> pd.DataFrame:
    cols = _column_names(header)
    data: dict[str, np.ndarray] = {}
    by_column = list(zip(*records, strict=True)) if records else [()] * len(cols)
    for c, cells in zip(cols, by_column, strict=True):
        arr = np.empty(len(cells), dtype=object)
        arr[:] = cells
        data[c] = _blank_to_none(arr) if FAST_PATH else _blank_to_none_per_cell(arr)
    return pd.DataFrame(data, columns=cols, dtype=object)


def _blank_to_none_per_cell(arr: np.ndarray) -> np.ndarray:
    """``arr`` with blank (white space only) cells as None; each distinct text looked at once."""
    codes, uniques = pd.factorize(arr)
    blank = np.array([isinstance(u, str) and not u.strip() for u in uniques] + [True],
                     dtype=bool)
    arr[blank[codes]] = None  # code -1 (None) takes the last entry
    return arr


def _blank_to_none(arr: np.ndarray) -> np.ndarray:
    """:func:`_blank_to_none_per_cell`, the distinct texts checked at once (see _blank_mask)."""
    codes, uniques = pd.factorize(arr)
    if len(uniques) and pd.api.types.infer_dtype(uniques, skipna=False) == "string":
        blank = np.append(_blank_mask(pa.array(uniques, type=pa.large_string()), str.strip),
                          True)
    else:  # cells that are not all text (Excel): one by one
        blank = np.array([isinstance(u, str) and not u.strip() for u in uniques] + [True],
                         dtype=bool)
    arr[blank[codes]] = None  # code -1 (None) takes the last entry
    return arr


def _excel_cell(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def _read_excel(p: Path, *, sheet: str | int | None, what: str,  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
                find_header: Callable[[list[str]], object] | None = None,
                config_section: str | None = None) -> Table:
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFileError(
            f"the {what} could not be opened as an Excel workbook ({short(exc, 200)}).", file=p,
            fix="open it in Excel and save it again as .xlsx, or export it as CSV UTF-8.",
        ) from exc
    sec = config_section or "..."
    try:
        names = list(wb.sheetnames)
        listing = ", ".join(f"{i}: '{n}'" for i, n in enumerate(names))
        if sheet is None:
            order = list(range(len(names))) if find_header is not None else [0]
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not -len(names) <= sheet < len(names):
                raise UnreadableFileError(
                    f"there is no sheet number {sheet} (sheets are counted from 0); the workbook "
                    f"has {len(names)} sheet(s): {listing}.",
                    file=p,
                    fix="give one of the sheet names or numbers listed (`sheet = ...` under "
                        f"[{sec}]).",
                )
            order = [sheet % len(names)]
        else:
            name = str(sheet)
            if name not in names:
                near = [n for n in names if n.strip().casefold() == name.strip().casefold()]
                if len(near) == 1:
                    name = near[0]
                else:
                    raise UnreadableFileError(
                        f"there is no sheet '{short(name)}'. Sheets: {listing}.",
                        file=p,
                        fix=f"name one of the sheets listed (`sheet = ...` under [{sec}] in "
                            "projekt.toml).",
                    )
            order = [names.index(name)]
        seen: list[tuple[str | None, list[tuple[int, list[object]]]]] = []
        chosen: tuple[str, list[tuple[int, list[object]]], int] | None = None
        first_err: MissingColumnError | None = None
        for idx in order:
            ws = wb.worksheets[idx]
            rows = [(i + 1, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True))]
            rows = [(n, r) for n, r in rows if any(v is not None and str(v).strip() for v in r)]
            seen.append((names[idx], rows))
            if not rows:
                continue
            k, err = _find_header_row(rows, find_header)
            if k is not None:
                chosen = (names[idx], rows, k)
                break
            if first_err is None:
                first_err = err
    except TryggGeoError:
        raise
    except Exception as exc:  # a corrupt cell (a date serial out of range, ...)
        raise UnreadableFileError(
            f"the {what} could not be read ({type(exc).__name__}: {short(exc, 200)}).", file=p,
            fix="open it in Excel and save it again as .xlsx, or export it as CSV UTF-8.",
        ) from exc
    finally:
        wb.close()
    if chosen is None:
        if first_err is None:
            raise EmptyLayerError(f"the {what} sheet is empty" + (
                f" (sheets: {listing})." if len(names) > 1 else "."), file=p)
        raise _header_not_found(p, what, seen, first_err, config_section)
    sheet_name, rows, k = chosen
    if sheet_name != names[order[0]] or k:
        log.info(
            "%s: the %s's header was found on sheet '%s', row %d",
            p.name,
            what,
            sheet_name,
            rows[k][0],
        )
    header = ["" if v is None else str(v).strip() for v in rows[k][1]]
    width = len(header)
    records = []
    src = []
    for n, r in rows[k + 1:]:
        records.append([_excel_cell(v) for v in (r + [None] * width)[:width]])
        src.append(n)
    frame = _to_text_frame(records, header, p)
    return Table(
        frame=frame,
        source_row=np.array(src, dtype=np.int64),
        path=p,
        encoding="xlsx",
        delimiter="",
        headers=tuple(header),
        sheet=sheet_name,
        header_row=int(rows[k][0]),
    )


_UNIT_RE = re.compile(r"\((?:[^)]*)\)|\[(?:[^\]]*)\]")
_UNIT_WORDS = {"kr", "sek", "tkr", "msek", "kkr", "mkr", "mnkr", "ksek", "tsek", "kronor"}


def fold_header(name: str) -> str:
    """Fold a header for matching: case, diacritics, punctuation and units ignored.

    >>> fold_header("Beviljat belopp (kr)")
    'beviljat belopp'
    >>> fold_header("Åtgärdstyp")
    'atgardstyp'
    """
    t = _UNIT_RE.sub(" ", str(name))
    words = [w for w in fold_text(t).split() if w not in _UNIT_WORDS]
    return " ".join(words)


def match_columns(
    columns: Sequence[str],
    spec: Mapping[str, Sequence[str]],
    *,
    override: Mapping[str, str] | None = None,
    required: Iterable[str] = (),
    file: str | Path | None = None,
    config_key: str | None = None,
) -> dict[str, str]:
    """Map canonical field names to the file's headers.

    Parameters
    ----------
    columns
        Headers as found in the file.
    spec
        Per canonical field, the recognised header variants (any spelling; they are folded).
    override
        Canonical field -> header, from the config; wins over ``spec``.
    required
        Fields that must be found.

    Returns
    -------
    dict
        canonical field -> header in the file, for the fields found.

    Raises
    ------
    MissingColumnError
        For the first required field not found (the message lists the headers found).
    """
    folded = {c: fold_header(c) for c in columns}
    out: dict[str, str] = {}
    used: set[str] = set()
    for field, header in (override or {}).items():
        if header not in folded:
            raise MissingColumnError(header, found=columns, file=file, config_key=config_key)
        out[field] = header
        used.add(header)
    # exact folded matches first, in spec order, then prefix matches
    for field, variants in spec.items():
        if field in out:
            continue
        keys = [fold_header(v) for v in variants]
        for k in keys:
            hit = next((c for c, f in folded.items() if f == k and c not in used), None)
            if hit is not None:
                out[field] = hit
                used.add(hit)
                break
    for field, variants in spec.items():
        if field in out:
            continue
        keys = [fold_header(v) for v in variants if len(fold_header(v)) >= 4]
        for k in keys:
            hit = next(
                (c for c, f in folded.items() if c not in used and f.startswith(k + " ")), None
            )
            if hit is not None:
                out[field] = hit
                used.add(hit)
                break
    for field in required:
        if field not in out:
            raise MissingColumnError(
                field, found=columns, file=file, accepted=spec.get(field, ()), config_key=config_key
            )
    _refuse_repeated_headers(
        list(columns), folded, out, override or {}, file=file, config_key=config_key
    )
    return out


def _refuse_repeated_headers(columns: list[str], folded: Mapping[str, str], out: Mapping[str, str],
                             override: Mapping[str, str], *, file: str | Path | None,
                             config_key: str | None) -> None:
    """Refuse a field whose header occurs twice (after folding): the first would silently win."""
    pos = {c: j for j, c in enumerate(columns)}
    for field, header in out.items():
        base = _DUP_SUFFIX.sub("", header)
        if field in override:  # named exactly in the config: only an identical header is ambiguous
            others = [c for c in columns if c != header and _DUP_SUFFIX.sub("", c) == base]
        else:
            f = folded.get(header, "")
            others = [c for c in columns if c != header and f and folded.get(c) == f]
        if not others:
            continue
        o = others[0]
        obase = _DUP_SUFFIX.sub("", o)
        same = "the same header" if obase == base else "headers that read the same"
        raise InputError(
            f"{column_label(pos[header])} '{short(base)}' and {column_label(pos[o])} "
            f"'{short(obase)}' have "
            f"{same} (case, å/ä/ö, punctuation and units such as '(kr)' are ignored when headers "
            f"are matched), so it is unclear which one holds '{field}'.",
            file=file,
            column=base,
            fix="delete or rename one of the two columns"
            + (
                f", or name the right one under [{config_key}] in projekt.toml"
                if config_key
                else ""
            )
            + ".",
        )


_NUM_CLEAN = re.compile(r"(?i)\s*(kr|sek|kronor|:-|st)\.?\s*$")

#: Amount units (regex, factor to kronor). Matched case-insensitively, longest first.
_UNIT_PATTERNS: tuple[tuple[str, float], ...] = (
    (r"tusen(?:tal)?\s*(?:kr|kronor|sek)", 1e3),
    (r"miljoner\s*(?:kr|kronor|sek)", 1e6),
    (r"milj\.?\s*(?:kr|kronor|sek)", 1e6),
    (r"mn\s*kr", 1e6),
    (r"mnkr|mkr|msek|mio\s*kr", 1e6),
    (r"tkr|tsek|ksek|kkr", 1e3),
    (r"kronor|kr|sek", 1.0),
)
_UNIT_ALT = "|".join(f"(?:{pat})" for pat, _ in _UNIT_PATTERNS)
_CELL_UNIT = re.compile(rf"(?i)^(?P<num>.*?)\s*(?P<unit>{_UNIT_ALT})\.?\s*(?::-)?\s*$")
_HEADER_UNIT = re.compile(rf"(?i)(?<![0-9a-zåäöé])(?P<unit>{_UNIT_ALT})(?![0-9a-zåäöé])")


def _unit_factor(unit: str) -> float:
    for pat, factor in _UNIT_PATTERNS:
        if re.fullmatch(pat, unit, flags=re.IGNORECASE):
            return factor
    raise ValueError(unit)  # pragma: no cover - unit comes from _UNIT_ALT


def amount_unit(text: str) -> tuple[float, str] | None:
    """The amount unit named in a header or cell, as ``(factor to kronor, unit as written)``.

    Returns None when no unit is named; raises ValueError (listing them) when different units
    are named.

    >>> amount_unit("Beviljat (tkr)"), amount_unit("Utfall MSEK"), amount_unit("Belopp")
    ((1000.0, 'tkr'), (1000000.0, 'MSEK'), None)
    """
    hits = [
        (m.group("unit"), _unit_factor(m.group("unit"))) for m in _HEADER_UNIT.finditer(str(text))
    ]
    if not hits:
        return None
    if len({f for _, f in hits}) > 1:
        raise ValueError(", ".join(repr(u) for u, _ in hits))
    return hits[0][1], hits[0][0]


def _clean_number_text(text: str) -> str:
    return str(text).strip().replace("\u00a0", " ").replace("\u202f", " ")


def _parse_plain(t: str) -> float:
    t = t.replace(" ", "").replace("\u2212", "-")
    t = t.removesuffix(":-")
    if not t:
        return float("nan")
    if "," in t and "." in t:
        # the last separator is the decimal one
        if t.rfind(",") > t.rfind("."):
            t = t.replace(".", "").replace(",", ".")
        else:
            t = t.replace(",", "")
    elif "," in t:
        # Swedish decimal comma ("12,5"); several commas are English thousands ("1,250,000")
        t = t.replace(",", "") if t.count(",") > 1 else t.replace(",", ".")
    elif t.count(".") > 1:
        t = t.replace(".", "")
    if len(t) > 400:  # no number is this long; float() of huge digit strings is slow
        raise ValueError(t[:40])
    return float(t)


def _parse_one_number(text: str) -> float:
    """A plain number (``kr``/``st``/``:-`` allowed; ``tkr``/``MSEK`` are not plain numbers)."""
    return _parse_plain(_NUM_CLEAN.sub("", _clean_number_text(text)))


# --- the vectorised path -------------------------------------------------------------------
# Registers repeat values heavily, and most cells are written in a few clean forms. The parsers
# below read each distinct cell once, read the clean forms of all distinct cells at once with
# regular expressions (ASCII classes only, so that Python's and Arrow's engines agree), and hand
# every cell the fast path does not recognise to the per-cell parser, so that every value, flag
# and message is the per-cell parser's (tests/test_reader_fast.py compares the two).

#: Use the vectorised path (True) or the per-cell parsers for every cell (False: the reference
#: the fast path is tested and benchmarked against; the results are identical).
FAST_PATH = True

#: A plain number as registers write it: ``1250000``, ``1 250 000`` (space, no-break or narrow
#: no-break space between groups of three), an optional decimal part after ``,`` or ``.``.
_FAST_NUM = (
    "(?P<int>[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3}){1,5}|[0-9]{1,15})"
    "(?:[.,](?P<dec>[0-9]{1,12}))?"
)
_FAST_SEP = re.compile("[ \u00a0\u202f]")
_FAST_NUMBER = f"^(?P<sign>-?){_FAST_NUM}$"
_FAST_AMOUNT = f"^{_FAST_NUM}(?: ?(?P<unit>[A-Za-z]{{2,6}}))?$"
#: Units the fast path reads (lower case), with their factor to kronor; the others (and
#: ``tkr.``, ``kr:-``, ``tusen kr``) go to the per-cell parser.
_FAST_UNITS = {"kr": 1.0, "sek": 1.0, "kronor": 1.0, "tkr": 1e3, "tsek": 1e3, "ksek": 1e3,
               "kkr": 1e3, "mkr": 1e6, "msek": 1e6, "mnkr": 1e6}
#: Date forms read at once: (pattern with groups y, m, d where present, default month, day).
#: Each is the first of :data:`_DATE_FORMATS` (or of the later rules) that reads such a cell.
_FAST_DATES: tuple[tuple[str, int, int], ...] = (
    (r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?:[T ]00:00:00| 00:00)?$", 0, 0),
    (r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$", 0, 0),
    (r"^(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})$", 0, 0),
    (r"^(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>[0-9]{4})$", 0, 0),
    (r"^(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})[ -](?P<y>[0-9]{4})$", 0, 0),
    (r"^(?P<y>[0-9]{4})-(?P<m>[0-9]{2})$", 0, 1),
    (r"^(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})$", 0, 0),
    (r"^(?P<y>[0-9]{4})$", 7, 1),
    (r"^(?P<mon>[A-Za-z]{3,9}) (?P<y>[0-9]{4})$", 0, 1),
    (r"^(?P<d>[0-9]{1,2}) (?P<mon>[A-Za-z]{3,9}) (?P<y>[0-9]{4})$", 0, 0),
)


def _is_empty_cell(v: object) -> bool:
    """The per-cell parsers' empty cell: None or a float NaN (anything else is read as text)."""
    return v is None or (isinstance(v, float) and np.isnan(v))


def _distinct(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-empty cells as ``(positions, codes, uniques)``.

    Cell ``positions[k]`` is ``str(uniques[codes[k]])``; ``uniques`` holds each distinct text
    once (as str).
    """
    arr = np.empty(len(values), dtype=object)
    arr[:] = values.tolist()
    miss = np.asarray(pd.isna(arr), dtype=bool)
    for i in np.flatnonzero(miss).tolist():  # pd.NA and NaT are text ("<NA>") to the parsers
        miss[i] = _is_empty_cell(arr[i])
    pos = np.flatnonzero(~miss)
    cells = arr[pos]
    if len(cells) and pd.api.types.infer_dtype(cells, skipna=False) != "string":
        strs = np.empty(len(cells), dtype=object)
        strs[:] = [str(v) for v in cells]
        cells = strs
    codes, uniques = pd.factorize(cells)
    return pos, np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _extract_arrow(uniques: np.ndarray, pattern: str) -> tuple[np.ndarray, pa.StructArray | None]:
    """Match ``pattern`` (named groups, Arrow's RE2) against the distinct cells at once.

    Returns the matched mask and Arrow's struct of the groups (None when the cells cannot be
    handed to Arrow: then nothing matched). Only ASCII spaces are trimmed first: a cell with
    other white space at its ends is read per cell.
    """
    try:
        text = pc.utf8_trim(pa.array(uniques, type=pa.large_string()), " ")
    except (pa.ArrowException, UnicodeError):  # a lone surrogate: every cell is read per cell
        return np.zeros(len(uniques), dtype=bool), None
    m = pc.extract_regex(text, pattern)
    ok = np.asarray(m.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    return ok, m


def _extract(uniques: np.ndarray, pattern: str) -> tuple[np.ndarray, dict[str, list[Any]]]:
    """:func:`_extract_arrow` with each group's text per cell as a list (None where unmatched)."""
    ok, m = _extract_arrow(uniques, pattern)
    return ok, _group_lists(ok, m, pattern)


def _group_fields(m: pa.StructArray) -> dict[str, pa.Array]:
    """Each group of an ``extract_regex`` result by name (null where the cell did not match)."""
    names = [m.type.field(j).name for j in range(m.type.num_fields)]
    return dict(zip(names, m.flatten(), strict=True))


def _group_lists(ok: np.ndarray, m: pa.StructArray | None,
                 pattern: str) -> dict[str, list[Any]]:
    """Each group's text per cell as a list (None where unmatched)."""
    if m is None:
        none: list[Any] = [None] * len(ok)
        return dict.fromkeys(re.compile(pattern).groupindex, none)
    names = [m.type.field(j).name for j in range(m.type.num_fields)]
    groups = {g: m.field(g).to_pylist() for g in names}
    for g in names:
        groups[g] = [v if k else None for v, k in zip(groups[g], ok.tolist(), strict=True)]
    return groups


def _number_values(ok: np.ndarray, m: pa.StructArray | None) -> np.ndarray:
    """The floats of the ``int``/``dec`` groups of :data:`_FAST_NUM` (NaN where unmatched).

    Exactly what :func:`_parse_plain` returns for the same text: group separators dropped,
    the decimal mark read as a point, and Python's (correctly rounded) ``float`` of that text
    (numpy's cast of ``str`` objects to float64 is ``float()``), all cells at once.
    """
    out = np.full(len(ok), np.nan)
    if m is None or not ok.any():
        return out
    keep = pa.array(ok)
    fields = _group_fields(m)
    ints = pc.replace_substring_regex(fields["int"].filter(keep), _FAST_SEP.pattern, "")
    decs = fields["dec"].filter(keep)
    has_dec = pc.fill_null(pc.greater(pc.utf8_length(decs), 0), False)
    point = pa.scalar(".", type=ints.type)
    text = pc.if_else(has_dec, pc.binary_join_element_wise(ints, decs, point), ints)
    out[ok] = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object).astype(np.float64)
    return out


def _fast_numbers(uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, read)`` for distinct number cells: ``read`` where the fast path read them."""
    if not len(uniques):
        return np.zeros(0), np.zeros(0, dtype=bool)
    ok, m = _extract_arrow(uniques, _FAST_NUMBER)
    vals = _number_values(ok, m)
    if m is not None:
        sign = pc.fill_null(pc.equal(_group_fields(m)["sign"], "-"), False)
        neg = ok & np.asarray(sign.to_numpy(zero_copy_only=False), dtype=bool)
        vals[neg] = -vals[neg]
    return vals, ok


def _fast_amounts(uniques: np.ndarray, h_factor: float) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """``(kronor, read, scaled)`` for distinct amount cells read by the fast path.

    Cells the per-cell parser would flag (negative, above :data:`MAX_AMOUNT_SEK`) or refuse
    (a kronor unit under a header in thousands) are left to it.
    """
    if not len(uniques):
        return np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    ok, m = _extract_arrow(uniques, _FAST_AMOUNT)
    vals = _number_values(ok, m)
    groups = _group_lists(ok, m, _FAST_AMOUNT)
    units = [u.lower() if u else None for u in groups["unit"]]
    has_unit = np.array([u is not None for u in units], dtype=bool)
    c_factor = np.array([_FAST_UNITS.get(u, np.nan) if u else np.nan for u in units])
    read = ok & (~has_unit | ~np.isnan(c_factor))
    read &= ~(has_unit & (c_factor == 1.0) & (h_factor != 1.0))
    factor = np.where(has_unit, c_factor, h_factor)
    with np.errstate(all="ignore"):
        vals = vals * factor
    read &= np.isfinite(vals) & (vals <= MAX_AMOUNT_SEK)
    return vals, read, read & has_unit & (factor != 1.0)


def _fast_dates(uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(datetime64[ns], read)`` for distinct date cells in the forms of :data:`_FAST_DATES`.

    A cell whose numbers are no date (``2021-02-30``) or whose year is outside
    :data:`DATE_YEARS` is left to the per-cell parser, which says why.
    """
    n = len(uniques)
    y, m, d = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), np.zeros(n, np.int64)
    hit = np.zeros(n, dtype=bool)
    for pattern, month, day in _FAST_DATES:
        todo = np.flatnonzero(~hit)
        if not len(todo):
            break
        ok, g = _extract(uniques[todo], pattern)
        for k in np.flatnonzero(ok).tolist():
            mon = g["mon"][k].lower() if "mon" in g else None
            if mon is not None and mon not in _SV_MONTHS:
                continue
            i = todo[k]
            y[i] = int(g["y"][k])
            m[i] = _SV_MONTHS[mon] if mon is not None else int(g["m"][k]) if "m" in g else month
            d[i] = int(g["d"][k]) if "d" in g else day
            hit[i] = True
    hit &= (y >= DATE_YEARS[0]) & (y <= DATE_YEARS[1])
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if hit.any():
        parsed = pd.to_datetime(pd.DataFrame({"year": y[hit], "month": m[hit], "day": d[hit]}),
                                errors="coerce")
        out[hit] = parsed.to_numpy(dtype="datetime64[ns]")
        hit[hit] = parsed.notna().to_numpy(dtype=bool)
    return out, hit


def _number_cell(v: object) -> tuple[float, bool]:
    """``(value, readable)`` of one non-empty cell, as :func:`parse_number` reads it."""
    try:
        f = _parse_one_number(str(v))
    except (ValueError, OverflowError):
        return np.nan, False
    if not np.isfinite(f) and str(v).strip():
        return np.nan, False
    return f, True


def parse_number(
    values: pd.Series, *, column: str, file: str | Path | None, rows: SourceRows
) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Parse Swedish-formatted numbers; return the floats and the cells that failed.

    ``"1 250 000"``, ``"1 250 000,50"``, ``"1.250.000 kr"``, ``"12,5"`` and ``"-3"`` are all read.
    A cell that is not a number becomes NaN and is returned as ``(row, text)`` so that the
    caller can flag it (nothing is silently lost). ``inf``, ``nan`` and numbers beyond the
    float range are not numbers here; a scaled unit (``12 tkr``) is not a plain number either
    (amounts are read with :func:`parse_amount`).

    >>> vals, bad = parse_number(pd.Series(["1 250 000,50", None, "12,5", "tolv"]),
    ...                          column="x", file=None, rows=[2, 3, 4, 5])
    >>> vals.tolist()[::2], bad
    ([1250000.5, 12.5], [(5, 'tolv')])
    """
    out = np.full(len(values), np.nan)
    bad: list[tuple[int, str]] = []
    if not FAST_PATH:
        for i, v in enumerate(values.tolist()):
            if _is_empty_cell(v):
                continue
            f, ok = _number_cell(v)
            if ok:
                out[i] = f
            else:
                bad.append((int(rows[i]), str(v)))
        return pd.Series(out, index=values.index, name=values.name), bad
    pos, codes, uniques = _distinct(values)
    uvals, read = _fast_numbers(uniques)
    uok = read.copy()
    for k in np.flatnonzero(~read).tolist():
        uvals[k], uok[k] = _number_cell(uniques[k])
    out[pos] = uvals[codes]
    for i in pos[~uok[codes]].tolist():
        bad.append((int(rows[i]), str(values.iloc[i])))
    return pd.Series(out, index=values.index, name=values.name), bad


@dataclass(frozen=True)
class AmountResult:
    """The outcome of :func:`parse_amount`.

    Attributes
    ----------
    values
        Kronor; NaN for empty, unreadable and flagged cells.
    bad
        ``(row, text)`` of cells that are not amounts.
    flags
        ``(position, flag, text)`` per flagged cell: ``amount_scaled`` (a unit in the cell such
        as ``tkr`` or ``MSEK`` was converted; the value is kept), ``amount_negative``,
        ``amount_not_finite`` (``inf``, ``NaN``, ``1e400``), ``amount_out_of_range`` (above
        :data:`MAX_AMOUNT_SEK`); the last three leave the value empty.
    header_unit
        ``(factor, unit)`` named in the header, or None.
    """

    values: pd.Series
    bad: list[tuple[int, str]]
    flags: list[tuple[int, str, str]]
    header_unit: tuple[float, str] | None


#: What :func:`_amount_cell` found in a cell besides its value ("" = a plain amount).
_BAD, _KRONOR_UNDER_UNIT = "bad", "kronor_under_unit"


def _amount_cell(v: object, h_factor: float) -> tuple[float, str]:
    """``(kronor, outcome)`` of one non-empty amount cell under a header in ``h_factor``.

    The outcome is ``""`` (read), ``"amount_scaled"`` (read; the cell names its unit),
    ``"amount_negative"``, ``"amount_not_finite"``, ``"amount_out_of_range"`` (value NaN),
    :data:`_BAD` (not an amount) or :data:`_KRONOR_UNDER_UNIT` (kronor under a header in
    thousands or millions).
    """
    t = _clean_number_text(str(v))
    if not t:
        return np.nan, ""
    m = _CELL_UNIT.match(t) if len(t) < 200 else None
    c_factor: float | None = None
    num = t
    if m is not None:
        num, c_factor = m.group("num"), _unit_factor(m.group("unit"))
    try:
        x = _parse_plain(num)
    except (ValueError, OverflowError):
        return np.nan, _BAD
    if c_factor is None:
        factor = h_factor
    elif c_factor == 1.0 and h_factor != 1.0:
        return np.nan, _KRONOR_UNDER_UNIT
    else:
        factor = c_factor
    with np.errstate(all="ignore"):
        x = float(x) * factor
    if not np.isfinite(x):
        return np.nan, "amount_not_finite"
    if x < 0:
        return np.nan, "amount_negative"
    if x > MAX_AMOUNT_SEK:
        return np.nan, "amount_out_of_range"
    return x, ("amount_scaled" if c_factor is not None and c_factor != 1.0 else "")


def _amount_outcomes(values: pd.Series, h_factor: float) -> tuple[np.ndarray, list[str]]:
    """Kronor and the outcome (see :func:`_amount_cell`) of every cell; "" for empty cells."""
    out = np.full(len(values), np.nan)
    outcome = [""] * len(values)
    if not FAST_PATH:
        for i, v in enumerate(values.tolist()):
            if not _is_empty_cell(v):
                out[i], outcome[i] = _amount_cell(v, h_factor)
        return out, outcome
    pos, codes, uniques = _distinct(values)
    uvals, read, scaled = _fast_amounts(uniques, h_factor)
    uout = np.where(scaled, "amount_scaled", "").astype(object)
    for k in np.flatnonzero(~read).tolist():
        uvals[k], uout[k] = _amount_cell(uniques[k], h_factor)
    out[pos] = uvals[codes]
    flagged = np.flatnonzero(uout != "")
    if len(flagged):
        mask = np.isin(codes, flagged)
        for i, c in zip(pos[mask].tolist(), codes[mask].tolist(), strict=True):
            outcome[i] = uout[c]
    return out, outcome


def parse_amount(values: pd.Series, *, column: str, file: str | Path | None, rows: SourceRows,
                 header: str | None = None) -> AmountResult:
    """Parse amounts into kronor: units in the header or the cell are applied.

    ``"1 250 tkr"`` is 1,250,000 kr, ``"1,2 MSEK"`` 1,200,000 kr; under a header such as
    ``"Beviljat (tkr)"`` a bare ``"1 250"`` is 1,250,000 kr too (the caller logs it).

    Raises
    ------
    InputError
        The header names two different units, or a cell says kronor under a header in
        thousands or millions (it is unclear which is meant).

    Examples
    --------
    >>> res = parse_amount(pd.Series(["1 250 tkr", "3 MSEK", "80 000", "-5"]), column="Beviljat",
    ...                    file=None, rows=[2, 3, 4, 5])
    >>> res.values.tolist()[:3]
    [1250000.0, 3000000.0, 80000.0]
    >>> [(i, f) for i, f, _ in res.flags]
    [(0, 'amount_scaled'), (1, 'amount_scaled'), (3, 'amount_negative')]
    """
    head = _DUP_SUFFIX.sub("", header if header is not None else column)
    try:
        hu = amount_unit(head)
    except ValueError as exc:
        raise InputError(
            f"the header names different units ({exc}), so the amounts cannot be read in kronor.",
            file=file, column=column,
            fix="name one unit in the header (e.g. 'Beviljat (kr)') and write every amount in it.",
        ) from exc
    out, outcome = _amount_outcomes(values, hu[0] if hu else 1.0)
    bad: list[tuple[int, str]] = []
    flags: list[tuple[int, str, str]] = []
    cells = values.tolist()
    for i in (i for i, o in enumerate(outcome) if o):
        v, o = cells[i], outcome[i]
        if o == _KRONOR_UNDER_UNIT:
            assert hu is not None
            raise InputError(
                f"the header says the amounts are in {hu[1]}, but this cell says '{short(v)}' "
                "(kronor); it is unclear which is meant.",
                file=file,
                row=int(rows[i]),
                column=column,
                fix=f"write the amount without a unit, in {hu[1]} as the header says, "
                "or change the header to '(kr)' and write every amount in kronor.",
            )
        if o == _BAD:
            bad.append((int(rows[i]), str(v)))
        else:
            flags.append((i, o, str(v)))
    return AmountResult(
        values=pd.Series(out, index=values.index, name=values.name),
        bad=bad,
        flags=flags,
        header_unit=hu,
    )


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y%m%d",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m",
    "%Y/%m/%d",
)
_SV_MONTHS = {
    "jan": 1, "januari": 1, "feb": 2, "februari": 2, "mar": 3, "mars": 3, "apr": 4, "april": 4,
    "maj": 5, "jun": 6, "juni": 6, "jul": 7, "juli": 7, "aug": 8, "augusti": 8, "sep": 9,
    "sept": 9, "september": 9, "okt": 10, "oktober": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}


class _DateOutOfRange(ValueError):
    """A readable date outside :data:`DATE_YEARS`."""


def _parse_datetime(t: str) -> _dt.datetime:
    """The date written in ``t`` as a Python datetime (years 1-9999, so nothing overflows)."""
    for fmt in _DATE_FORMATS:
        try:
            return _dt.datetime.strptime(t, fmt)
        except ValueError:
            continue
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})[ -](\d{4})", t)  # 15/3 2021
    if m:
        return _dt.datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    f = fold_text(t).split()
    if len(f) == 2 and f[0] in _SV_MONTHS and f[1].isdigit() and len(f[1]) == 4:  # "mars 2021"
        return _dt.datetime(int(f[1]), _SV_MONTHS[f[0]], 1)
    if (len(f) == 3 and f[0].isdigit() and len(f[0]) <= 2 and f[1] in _SV_MONTHS and f[2].isdigit()
            and len(f[2]) == 4):  # "15 mars 2021"
        return _dt.datetime(int(f[2]), _SV_MONTHS[f[1]], int(f[0]))
    if re.fullmatch(r"\d{4}", t):
        return _dt.datetime(int(t), 7, 1)
    raise ValueError(t)


def _parse_one_date(text: str) -> pd.Timestamp:
    t = str(text).strip()
    if not t:
        return pd.NaT
    if len(t) > 100:
        raise ValueError(t[:40])
    d = _parse_datetime(t)
    if not DATE_YEARS[0] <= d.year <= DATE_YEARS[1]:
        raise _DateOutOfRange(t)
    return pd.Timestamp(d)


@dataclass(frozen=True)
class DateResult:
    """The outcome of :func:`parse_dates_checked`.

    Attributes
    ----------
    values
        ``datetime64[ns]``; NaT for empty, unreadable and out-of-range cells.
    bad
        ``(row, text)`` of cells that are not dates.
    out_of_range
        ``(row, text)`` of dates before 1900 or after 2100 (year 2300 is a typo, and outside
        what pandas can hold).
    """

    values: pd.Series
    bad: list[tuple[int, str]]
    out_of_range: list[tuple[int, str]]


#: What :func:`_date_cell` found besides the date ("" = read or empty).
_FAR = "out_of_range"


def _date_cell(v: object) -> tuple[np.datetime64, str]:
    """``(date, outcome)`` of one non-empty cell: outcome "", :data:`_BAD` or :data:`_FAR`."""
    try:
        return np.datetime64(_parse_one_date(str(v)), "ns"), ""
    except _DateOutOfRange:
        return np.datetime64("NaT", "ns"), _FAR
    except (ValueError, TypeError, OverflowError):
        return np.datetime64("NaT", "ns"), _BAD


def parse_dates_checked(values: pd.Series, *, column: str, file: str | Path | None,
                        rows: SourceRows) -> DateResult:
    """Parse dates as municipalities write them (see :func:`parse_date`).

    Unreadable cells and out-of-range dates are kept apart.

    >>> res = parse_dates_checked(pd.Series(["2021-03-15", "15/3 2021", "mars 2021", "2300-01-01",
    ...                                      "igår"]), column="Start", file=None, rows=range(2, 7))
    >>> [str(d.date()) for d in res.values[:3]], res.out_of_range, res.bad
    (['2021-03-15', '2021-03-15', '2021-03-01'], [(5, '2300-01-01')], [(6, 'igår')])
    """
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    outcome = np.zeros(len(values), dtype=object)
    outcome[:] = ""
    if FAST_PATH:
        pos, codes, uniques = _distinct(values)
        uvals, read = _fast_dates(uniques)
        uout = np.zeros(len(uniques), dtype=object)
        uout[:] = ""
        for k in np.flatnonzero(~read).tolist():
            uvals[k], uout[k] = _date_cell(uniques[k])
        out[pos] = uvals[codes]
        outcome[pos] = uout[codes]
    else:
        for i, v in enumerate(values.tolist()):
            if not _is_empty_cell(v):
                out[i], outcome[i] = _date_cell(v)
    bad: list[tuple[int, str]] = []
    far: list[tuple[int, str]] = []
    cells = values.tolist()
    for i in np.flatnonzero(outcome != "").tolist():
        (far if outcome[i] == _FAR else bad).append((int(rows[i]), str(cells[i])))
    series = pd.Series(out, index=values.index, name=values.name, dtype="datetime64[ns]")
    return DateResult(values=series, bad=bad, out_of_range=far)


def parse_date(
    values: pd.Series, *, column: str, file: str | Path | None, rows: SourceRows
) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Parse dates as municipalities write them; return the dates and the cells that failed.

    ISO dates, ``YYYYMMDD``, ``15/3/2021``, ``15.3.2021``, ``15/3 2021``, ``2021-03``,
    ``mars 2021`` and a bare year (taken as 1 July) are read. Dates outside 1900-2100 count
    as failed (:func:`parse_dates_checked` keeps them apart).
    """
    res = parse_dates_checked(values, column=column, file=file, rows=rows)
    failed = sorted(res.bad + res.out_of_range, key=lambda rt: rt[0])
    return res.values, failed
