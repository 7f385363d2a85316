"""Data as text, never as markup or code (issue 9, point 1).

Every string that comes from an input file (register, area layer, survey, the project
name in ``projekt.toml``) is *data*. It reaches an output only through one of these
helpers:

- :func:`html_text` for HTML that a browser parses (once: ``A & B`` becomes ``A &amp; B``
  and shows as ``A & B``). Leaflet inserts popup, tooltip and layer-control text with
  ``innerHTML``, so the map escapes those values with this, exactly once.
- :func:`md_text` for Markdown: link and image syntax, raw HTML, code spans, emphasis,
  table pipes and block markers at the start of a line are backslash-escaped, and bare
  URL schemes are broken so that no renderer turns them into links.
- :func:`neutralise_cell` / :func:`neutralise_frame` for anything a spreadsheet may open
  (CSV, Excel): a cell that starts with ``= + - @``, a tab or a carriage return gets a
  leading ``'`` (OWASP, "CSV injection"), so it is never read as a formula.

Template engines (Jinja2 in folium/branca) only ever get data as *variables* of fixed
templates (see ``trygg_geo.maps``); no template is ever built from data.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd

__all__ = ["html_text", "is_missing", "md_text", "neutralise_cell", "neutralise_frame"]


def is_missing(value: Any) -> bool:
    """True for None and scalar NA/NaN/NaT."""
    if value is None:
        return True
    if isinstance(value, (list, tuple, dict, set)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def html_text(value: Any) -> str:
    """``value`` as HTML text, escaped once (``""`` for NA).

    >>> html_text('A & B <b>"x"</b>')
    'A &amp; B &lt;b&gt;&quot;x&quot;&lt;/b&gt;'
    """
    if is_missing(value):
        return ""
    return html.escape(str(value), quote=True)


# CommonMark inline punctuation that can start markup anywhere in a line:
# \ escapes, ` code spans, * _ ~ emphasis/strikethrough, [ ] links and images
# (``!`` is harmless without ``[``), < > raw HTML and autolinks, & entities, | table cells.
_MD_INLINE = re.compile(r"([\\`*_~\[\]<>&|])")
# markers that only matter at the start of a block: headings, quotes, lists, setext/thematic
# breaks, fences, ordered lists ("1." / "1)")
_MD_LEADING = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])")
# schemes and www. that GFM (or any linkifier) would turn into a live link
_MD_SCHEME = re.compile(r"(?i)\b(https?|ftp|javascript|vbscript|data|file|mailto)(:)|\b(www)(\.)")


def md_text(value: Any, *, block: bool = True) -> str:
    r"""``value`` as Markdown text: shows as written, builds no markup (``""`` for NA).

    Line breaks become spaces (a value is one table cell, one list item or one line).
    With ``block=True`` (headings, paragraphs, list items) a leading ``#``, ``>``, ``-``,
    ``+``, ``=`` or ``1.`` is escaped too; table cells don't need it.

    >>> print(md_text("[klicka](javascript:alert(1))"))
    \[klicka\](javascript\:alert(1))
    >>> print(md_text("# rubrik | <b>"))
    \# rubrik \| \<b\>
    """
    if is_missing(value):
        return ""
    s = re.sub(r"[\r\n\t\v\f]+", " ", str(value))
    s = _MD_INLINE.sub(r"\\\1", s)
    s = _MD_SCHEME.sub(lambda m: (m.group(1) + "\\:") if m.group(1) else (m.group(3) + "\\."), s)
    m = _MD_LEADING.match(s) if block else None
    if m:
        lead, mark = m.group(1), m.group(2)
        mark = ("\\" + mark) if not mark[0].isdigit() else mark[:-1] + "\\" + mark[-1]
        s = lead + mark + s[m.end():]
    return s


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """A spreadsheet-safe cell: text starting with ``= + - @``, tab or CR gets a leading ``'``.

    Non-text values (numbers, dates, NA) are returned unchanged, so a negative *number*
    stays a number.

    >>> print(neutralise_cell('=HYPERLINK("http://evil")'))
    '=HYPERLINK("http://evil")
    >>> neutralise_cell(-5)
    -5
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every text cell passed through :func:`neutralise_cell`.

    Text column headers are passed through it too; use it for every CSV or Excel file the
    package writes.
    """
    out = df.copy()
    for c in out.columns:
        col = out[c]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out[c] = col.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out
