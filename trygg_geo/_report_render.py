"""Rendering the report's blocks: Markdown, one self-contained HTML page, and a PDF of it.

:mod:`trygg_geo.report` builds the report as a list of :class:`Block`; this module turns it
into text. Block contents are plain text, never markup: every value is escaped here, once
(:func:`trygg_geo._escape.md_text` for Markdown, :func:`trygg_geo._escape.html_text` for
HTML). The PDF is the HTML printed by WeasyPrint: A4, the first page (the bokslut) upright on
a page of its own, the wide tables on landscape pages.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trygg_geo._atomic import atomic_path
from trygg_geo._errors import MissingDependencyError
from trygg_geo._escape import html_text, md_text, neutralise_frame

__all__ = ["Block", "PdfUnavailableError", "Strong", "capped", "flatten_blocks", "render_html",
           "render_markdown", "render_pdf", "write_csv"]


@dataclass
class Block:
    """One piece of the report: a heading, paragraph, list, table, figure or the front page.

    ``kind="front"`` holds a list of blocks (the one-page bokslut) that the HTML and PDF
    keep on a page of their own.
    """

    kind: str  # "h1" | "h2" | "h3" | "p" | "table" | "figure" | "list" | "front"
    content: Any  # plain text (a "p" may be a list of str and Strong), a DataFrame, PNG bytes
    caption: str = ""
    file: str | None = None  # a figure written beside rapport.md under this name


@dataclass(frozen=True)
class Strong:
    """Bold text inside a paragraph (the text itself is plain, escaped like the rest)."""

    text: str


class PdfUnavailableError(MissingDependencyError):
    """WeasyPrint, or the system libraries it loads (Pango), cannot be loaded."""

    def __init__(self, detail: str) -> None:
        Exception.__init__(
            self,
            f"rapport.pdf is printed with WeasyPrint, which could not be loaded ({detail}). "
            "Fix: pip install weasyprint; on Debian or Ubuntu also apt-get install "
            "libpango-1.0-0 libpangoft2-1.0-0 (other systems: "
            "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html).")


def flatten_blocks(blocks: list[Block]) -> list[Block]:
    """The blocks with the front page's blocks in line."""
    return [x for b in blocks for x in (flatten_blocks(b.content) if b.kind == "front" else [b])]




def capped(frame: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, int]:
    """The first ``limit`` rows of ``frame`` and how many rows are left out.

    >>> head, more = capped(pd.DataFrame({"a": range(5)}), 3)
    >>> len(head), more
    (3, 2)
    """
    return frame.iloc[:limit], max(len(frame) - limit, 0)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    r"""Write ``frame`` as Excel in Sweden opens it: UTF-8 with BOM, ``;``, decimal comma.

    Written atomically (:func:`trygg_geo._atomic.atomic_path`). Text cells that Excel would
    read as a formula (starting with ``=``, ``+``, ``-``, ``@``) get a leading apostrophe
    (:func:`trygg_geo._escape.neutralise_frame`); numbers are written as numbers.

    >>> import tempfile
    >>> p = write_csv(pd.DataFrame({"Namn": ["=1+1", "Park"], "Kr": [1.5, None]}),
    ...               Path(tempfile.mkdtemp()) / "x.csv")
    >>> p.read_bytes()[:3] == b"\xef\xbb\xbf", p.read_text(encoding="utf-8-sig").splitlines()
    (True, ['Namn;Kr', "'=1+1;1,5", 'Park;'])
    """
    path = Path(path)
    out = neutralise_frame(frame)
    with atomic_path(path) as tmp:
        out.to_csv(tmp, sep=";", decimal=",", index=False, encoding="utf-8-sig",
                   lineterminator="\r\n")
    return path


def _md_cell(v: Any) -> str:
    return md_text(v, block=False)


def _md_rich(content: Any) -> str:
    if isinstance(content, list):
        return "".join(f"**{md_text(x.text, block=False)}**" if isinstance(x, Strong)
                       else md_text(x, block=k == 0)
                       for k, x in enumerate(content))
    return md_text(content)


def _html_rich(content: Any) -> str:
    if isinstance(content, list):
        return "".join(f"<strong>{html_text(x.text)}</strong>" if isinstance(x, Strong)
                       else html_text(x)
                       for x in content)
    return html_text(content)


def _plain(content: Any) -> str:
    if isinstance(content, list):
        return "".join(x.text if isinstance(x, Strong) else str(x) for x in content)
    return str(content)


def render_markdown(blocks: list[Block]) -> str:
    """The report as Markdown; every text is escaped (:func:`trygg_geo._escape.md_text`).

    The front page ends with a thematic break (``---``).
    """
    out: list[str] = []
    for b in blocks:
        if b.kind == "front":
            out += [render_markdown(b.content), "---\n"]
        elif b.kind in ("h1", "h2", "h3"):
            # every "#" escaped: a trailing " #" would otherwise be read as a closing sequence
            heading = md_text(b.content, block=False).replace("#", "\\#")
            out.append("#" * int(b.kind[1]) + " " + heading + "\n")
        elif b.kind == "p":
            out.append(_md_rich(b.content) + "\n")
        elif b.kind == "list":
            out.extend(f"- {md_text(x)}" for x in b.content)
            out.append("")
        elif b.kind == "table":
            df: pd.DataFrame = b.content
            if df.empty:
                out.append("–\n")
                continue
            out.append("| " + " | ".join(_md_cell(c) for c in df.columns) + " |")
            out.append("|" + "|".join("---" for _ in df.columns) + "|")
            out.extend("| " + " | ".join(_md_cell(v) for v in r) + " |"
                       for r in df.itertuples(index=False))
            out.append("")
        elif b.kind == "figure" and b.file:
            out.append(f"![{md_text(b.caption, block=False)}]({b.file})\n")
        elif b.kind == "figure":  # not written as a file of its own: in the HTML and PDF only
            out.append(md_text(b.caption) + " (rapport.html)\n")
    return "\n".join(out)


#: Tables longer than this are laid out with fixed column widths in print: WeasyPrint's
#: automatic layout measures every cell, which takes minutes for thousands of projects.
LONG_TABLE = 150

#: Screen: a readable column. Print (and the PDF): A4, the front page upright on a page of
#: its own, the wide tables on landscape pages, rows never split, headers repeated.
_CSS = (
    "body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:1100px;margin:2em auto;"
    "padding:0 1em;color:#222}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.85em}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}img{max-width:100%}"
    "section.front{border-bottom:2px solid #888;margin-bottom:2em}"
    # cells pasted into or opened in Excel stay text, never formulas (best effort: Excel's
    # HTML import honours mso-number-format; browsers ignore it)
    "td,th{mso-number-format:'\\@'}"
    "@page{size:A4 landscape;margin:12mm}@page front{size:A4 portrait;margin:14mm}"
    "@media print{body{max-width:none;margin:0;padding:0;font-size:9pt}"
    "section.front{page:front;break-after:page;border:0;margin:0}"
    "section.front h1{font-size:16pt;margin:0 0 .3em}section.front h2{font-size:13pt}"
    "section.front h3{font-size:10.5pt;margin:.8em 0 .2em}section.front p{margin:.3em 0}"
    "table{font-size:8pt;margin:.4em 0}tr{break-inside:avoid}thead{display:table-header-group}"
    "h2,h3{break-after:avoid}figure{break-inside:avoid;margin:0}"
    "table.long{table-layout:fixed;width:100%}}"
)


def _html_block(b: Block) -> str:
    e = html_text
    if b.kind == "front":
        return ("<section class='front'>\n" + "\n".join(_html_block(x) for x in b.content)
                + "\n</section>")
    if b.kind in ("h1", "h2", "h3"):
        return f"<{b.kind}>{e(_plain(b.content))}</{b.kind}>"
    if b.kind == "p":
        return "<p>" + _html_rich(b.content) + "</p>"
    if b.kind == "list":
        return "<ul>" + "".join(f"<li>{e(x)}</li>" for x in b.content) + "</ul>"
    if b.kind == "table":
        df = b.content
        if df.empty:
            return "<p>–</p>"
        head = "".join(f"<th>{e(c)}</th>" for c in df.columns)
        cls = " class='long'" if len(df) > LONG_TABLE else ""
        return "\n".join([f"<table{cls}><thead><tr>{head}</tr></thead><tbody>",
                          *("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>"
                            for r in df.itertuples(index=False)),
                          "</tbody></table>"])
    if b.kind == "figure":
        data = base64.b64encode(b.content).decode("ascii")
        return (f"<figure><img alt='{e(b.caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{e(b.caption)}</figcaption></figure>")
    raise ValueError(f"unknown block kind {b.kind!r}")


def render_html(blocks: list[Block], *, lang: str, run_id: str | None = None) -> str:
    """The report as one self-contained HTML page; every text is escaped once."""
    e = html_text
    parts = [f"<!doctype html><html lang='{e(lang)}'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<style>{_CSS}</style>"]
    if run_id:
        parts.append(f"<meta name='trygg-geo-run-id' content='{e(run_id)}'>")
    title = next((b.content for b in flatten_blocks(blocks) if b.kind == "h1"), "")
    parts.append(f"<title>{e(_plain(title))}</title></head><body>")
    parts.extend(_html_block(b) for b in blocks)
    parts.append("</body></html>")
    return "\n".join(parts)


def render_pdf(page: str, target: str | Path) -> None:
    """Print the report's HTML page (:func:`render_html`) to a PDF with WeasyPrint.

    Raises
    ------
    PdfUnavailableError
        WeasyPrint or its system libraries (Pango) cannot be loaded; the message names the fix.
    """
    try:  # imported here: loading WeasyPrint loads Pango through cffi, which takes a while
        import weasyprint
    except (ImportError, OSError) as exc:
        raise PdfUnavailableError(str(exc).splitlines()[0] if str(exc) else repr(exc)) from exc
    log = logging.getLogger("weasyprint")
    quiet = _IgnoreExcelCss()
    log.addFilter(quiet)
    try:
        weasyprint.HTML(string=page).write_pdf(target)
    finally:
        log.removeFilter(quiet)


class _IgnoreExcelCss(logging.Filter):
    """Drop WeasyPrint's note that it ignores ``mso-number-format`` (a rule for Excel)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "mso-number-format" not in record.getMessage()
