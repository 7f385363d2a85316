"""Reading tables the way Swedish municipalities keep them.

CSV files come as UTF-8 (with or without BOM) or Windows-1252, separated by ``;``
(decimal comma) or ``,`` or tabs; numbers like ``1 250 000,50`` or ``1.250.000 kr``;
dates as ``2021-03-15``, ``15/3 2021`` or ``2021-03``. Excel sheets (.xlsx) too.
Everything is read as text first; conversion is per column, so that a bad cell can
be reported with its file, row and column instead of turning a column into NaN.

Row numbers (``source_row``) are what a person sees in a spreadsheet: the header is
row 1 (or the last header row), the first data row is row 2.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trygg_geo._errors import (
    EmptyLayerError,
    MissingColumnError,
    MissingFileError,
    UnreadableFileError,
)
from trygg_geo.interventions import fold_text

__all__ = [
    "Table",
    "fold_header",
    "match_columns",
    "parse_date",
    "parse_number",
    "read_table",
]

log = logging.getLogger(__name__)

_ENCODINGS = ("utf-8-sig", "cp1252")
_EXCEL = {".xlsx", ".xlsm"}


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
    """

    frame: pd.DataFrame
    source_row: np.ndarray
    path: Path
    encoding: str
    delimiter: str


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
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=";,\t|").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in ";,\t|"}
        best = max(counts, key=lambda d: counts[d])
        if counts[best] == 0:
            return ";"
        return best


def read_table(path: str | Path, *, sheet: str | int | None = None, what: str = "table") -> Table:
    """Read a CSV or Excel file as text, keeping spreadsheet row numbers.

    Parameters
    ----------
    path
        A ``.csv``/``.txt``/``.tsv`` or ``.xlsx`` file.
    sheet
        Excel sheet name or 0-based index (default: the first sheet).
    what
        What the file is, for error messages ("investment register", ...).

    Raises
    ------
    MissingFileError, UnreadableFileError, EmptyLayerError
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(p, what=what)
    if p.is_dir():
        raise UnreadableFileError(f"expected a {what} file but found a folder.", file=p,
                                  fix="give the path of the file itself.")
    if p.suffix.lower() in _EXCEL:
        return _read_excel(p, sheet=sheet, what=what)
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
            f"the {what} is not a text file (it contains NUL bytes; UTF-16 text or a binary file?).",
            file=p, fix="save it as 'CSV UTF-8' or as .xlsx.",
        )
    text, enc = _decode(raw, p)
    if not text.strip():
        raise EmptyLayerError(f"the {what} is empty.", file=p, fix="check that the right file was exported.")
    delim = _sniff_delimiter(text, p)
    # Physical line numbers: csv.reader joins quoted multi-line cells, so track line_num.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    line_starts: list[int] = []
    rows = []
    prev_end = 0
    for r in reader:
        line_starts.append(prev_end + 1)
        prev_end = reader.line_num
        rows.append(r)
    # drop fully blank lines but keep their numbering
    keep = [i for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not keep:
        raise EmptyLayerError(f"the {what} has no rows.", file=p)
    header_i = keep[0]
    header = [h.strip() for h in rows[header_i]]
    data_idx = [i for i in keep if i > header_i]
    width = len(header)
    records = []
    for i in data_idx:
        r = rows[i]
        if len(r) > width and any(c.strip() for c in r[width:]):
            raise UnreadableFileError(
                f"this row has {len(r)} cells but the header has {width}.",
                file=p, row=line_starts[i],
                fix=f"check for an unquoted '{delim}' inside a cell (quote the cell), "
                "or a missing header.",
            )
        r = (r + [""] * width)[:width]
        records.append(r)
    frame = _to_text_frame(records, header, p)
    src = np.array([line_starts[i] for i in data_idx], dtype=np.int64)
    log.debug("read %s: %d rows, encoding %s, delimiter %r", p, len(frame), enc, delim)
    return Table(frame=frame, source_row=src, path=p, encoding=enc, delimiter=delim)


def _to_text_frame(records: list[list[object]], header: list[str], path: Path) -> pd.DataFrame:
    seen: dict[str, int] = {}
    cols = []
    for j, h in enumerate(header):
        name = h if h else f"kolumn_{j + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        cols.append(name)
    frame = pd.DataFrame(records, columns=cols, dtype=object)
    for c in frame.columns:
        s = frame[c].map(lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else v)
        frame[c] = s.astype(object).where(s.notna(), None)
    return frame


def _read_excel(p: Path, *, sheet: str | int | None, what: str) -> Table:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise UnreadableFileError("reading .xlsx needs openpyxl.", file=p, fix="pip install openpyxl") from exc
    try:
        wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFileError(
            f"the {what} could not be opened as an Excel workbook ({exc}).", file=p,
            fix="open it in Excel and save it again as .xlsx, or export it as CSV UTF-8.",
        ) from exc
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        else:
            if sheet not in wb.sheetnames:
                raise UnreadableFileError(
                    f"there is no sheet '{sheet}'. Sheets: {', '.join(wb.sheetnames)}.",
                    file=p, fix="name one of the sheets listed.",
                )
            ws = wb[sheet]
        rows = [(i + 1, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True))]
    finally:
        wb.close()
    rows = [(n, r) for n, r in rows if any(v is not None and str(v).strip() for v in r)]
    if not rows:
        raise EmptyLayerError(f"the {what} sheet is empty.", file=p)
    header = ["" if v is None else str(v).strip() for v in rows[0][1]]
    width = len(header)
    records = []
    src = []
    for n, r in rows[1:]:
        cells: list[object] = []
        for v in (r + [None] * width)[:width]:
            if v is None:
                cells.append(None)
            elif isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
                cells.append(str(int(v)))
            elif hasattr(v, "isoformat"):
                cells.append(v.isoformat())
            else:
                cells.append(str(v))
        records.append(cells)
        src.append(n)
    frame = _to_text_frame(records, header, p)
    return Table(frame=frame, source_row=np.array(src, dtype=np.int64), path=p, encoding="xlsx", delimiter="")


_UNIT_RE = re.compile(r"\((?:[^)]*)\)|\[(?:[^\]]*)\]")
_UNIT_WORDS = {"kr", "sek", "tkr", "msek", "kkr"}


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
            hit = next((c for c, f in folded.items() if c not in used and f.startswith(k + " ")), None)
            if hit is not None:
                out[field] = hit
                used.add(hit)
                break
    for field in required:
        if field not in out:
            raise MissingColumnError(
                field, found=columns, file=file, accepted=spec.get(field, ()), config_key=config_key
            )
    return out


_NUM_CLEAN = re.compile(r"(?i)\s*(kr|sek|:-|tkr|msek|st)\.?\s*$")


def _parse_one_number(text: str) -> float:
    t = str(text).strip().replace("\u00a0", " ").replace("\u202f", " ")
    t = _NUM_CLEAN.sub("", t)
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
    return float(t)


def parse_number(values: pd.Series, *, column: str, file: str | Path | None, rows: Sequence[int]) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Parse Swedish-formatted numbers; return the floats and the cells that failed.

    ``"1 250 000"``, ``"1 250 000,50"``, ``"1.250.000 kr"``, ``"12,5"`` and ``"-3"`` are all read.
    A cell that is not a number becomes NaN and is returned as ``(row, text)`` so that the
    caller can flag it (nothing is silently lost).
    """
    out = np.full(len(values), np.nan)
    bad: list[tuple[int, str]] = []
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        try:
            out[i] = _parse_one_number(str(v))
        except ValueError:
            bad.append((int(rows[i]), str(v)))
    return pd.Series(out, index=values.index, name=values.name), bad


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m", "%Y/%m/%d")
_SV_MONTHS = {
    "jan": 1, "januari": 1, "feb": 2, "februari": 2, "mar": 3, "mars": 3, "apr": 4, "april": 4,
    "maj": 5, "jun": 6, "juni": 6, "jul": 7, "juli": 7, "aug": 8, "augusti": 8, "sep": 9,
    "sept": 9, "september": 9, "okt": 10, "oktober": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}


def _parse_one_date(text: str) -> pd.Timestamp:
    t = str(text).strip()
    if not t:
        return pd.NaT
    for fmt in _DATE_FORMATS:
        try:
            return pd.Timestamp(pd.to_datetime(t, format=fmt))
        except (ValueError, TypeError):
            continue
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})[ -](\d{4})", t)  # 15/3 2021
    if m:
        return pd.Timestamp(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    f = fold_text(t).split()
    if len(f) == 2 and f[0] in _SV_MONTHS and f[1].isdigit():  # "mars 2021"
        return pd.Timestamp(int(f[1]), _SV_MONTHS[f[0]], 1)
    if len(f) == 3 and f[0].isdigit() and f[1] in _SV_MONTHS and f[2].isdigit():  # "15 mars 2021"
        return pd.Timestamp(int(f[2]), _SV_MONTHS[f[1]], int(f[0]))
    if re.fullmatch(r"\d{4}", t):
        return pd.Timestamp(int(t), 7, 1)
    raise ValueError(t)


def parse_date(values: pd.Series, *, column: str, file: str | Path | None, rows: Sequence[int]) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Parse dates as municipalities write them; return the dates and the cells that failed.

    ISO dates, ``YYYYMMDD``, ``15/3/2021``, ``15.3.2021``, ``15/3 2021``, ``2021-03``,
    ``mars 2021`` and a bare year (taken as 1 July) are read.
    """
    out: list[pd.Timestamp] = []
    bad: list[tuple[int, str]] = []
    for i, v in enumerate(values.tolist()):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append(pd.NaT)
            continue
        try:
            out.append(_parse_one_date(str(v)))
        except ValueError:
            out.append(pd.NaT)
            bad.append((int(rows[i]), str(v)))
    return pd.Series(pd.to_datetime(out), index=values.index, name=values.name).astype("datetime64[ns]"), bad
