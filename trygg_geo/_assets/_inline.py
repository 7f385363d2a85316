"""Replace CDN ``<script src>`` / ``<link href>`` references with vendored text.

A map saved by folium loads Leaflet, its plugins and their stylesheets from CDNs,
which intranets often block. :func:`inline_assets` swaps every such reference
for the vendored file (stylesheets get their images and fonts as ``data:`` URLs)
and then refuses the page, with :class:`SelfContainedError`, if any external
``http(s)://`` address other than an allowed tile URL is left in it.
"""

from __future__ import annotations

import base64
import functools
import logging
import mimetypes
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from trygg_geo._assets import OPTIONAL_URLS, Asset, asset_for_url, asset_path
from trygg_geo._errors import TryggGeoError

__all__ = ["SelfContainedError", "asset_text", "external_references", "inline_assets"]

log = logging.getLogger(__name__)

_SCRIPT_RE = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*["']([^"']+)["'][^>]*>\s*</script\s*>""", re.IGNORECASE
)
_LINK_RE = re.compile(r"""<link\b[^>]*?\bhref\s*=\s*["']([^"']+)["'][^>]*?/?>""", re.IGNORECASE)
_CSS_URL_RE = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_TTF_FALLBACK_RE = re.compile(r""",\s*url\([^)]*\.ttf\)\s*format\(["']truetype["']\)""")
_SOURCEMAP_RE = re.compile(r"""[/][*/]#\s*sourceMappingURL=[^\s*]+(\s*\*/)?""")
_HTTP_RE = re.compile(r"""https?://[^\s"'<>()\\]+""", re.IGNORECASE)
#: XML namespace names are identifiers, never fetched.
_NAMESPACES = ("http://www.w3.org/",)
_VENDORED_RE = re.compile(r"<(script|style)>/\* [^\n]*?vendored by trygg_geo.*?</\1>", re.DOTALL)
#: ``<a ... href="`` (also JSON-escaped, as in folium's tile attributions) right before a URL.
_ANCHOR_RE = re.compile(r"""(?:<|\\u003c)a\s[^<>]*?href=\\?["']?$""", re.IGNORECASE)
_MIME = {".woff2": "font/woff2", ".svg": "image/svg+xml", ".png": "image/png", ".gif": "image/gif"}


class SelfContainedError(TryggGeoError, ValueError):
    """A map that should work offline still references something on the network."""


def _data_url(relative: str) -> str:
    path = asset_path(relative)
    if not path.is_file():
        raise SelfContainedError(
            f"the vendored file 'trygg_geo/_assets/{relative}' is missing. "
            "Fix: reinstall trygg_geo (the package data was not installed)."
        )
    mime = _MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    if mime is None:
        raise SelfContainedError(f"no MIME type known for the vendored file '{relative}'.")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css_urls(css: str, relative: str) -> str:
    """Turn every relative ``url()`` of a vendored stylesheet into a data URL."""
    folder = PurePosixPath(relative).parent
    css = _TTF_FALLBACK_RE.sub("", css)  # woff2 is enough for every browser we support

    def repl(match: re.Match[str]) -> str:
        target = match.group(2).strip()
        if target.startswith(("data:", "#")):
            return match.group(0)
        if re.match(r"(?i)^(https?:)?//", target):
            raise SelfContainedError(
                f"the vendored stylesheet '{relative}' references '{target}' on the network. "
                "Fix: vendor that file too and reference it relatively."
            )
        parts: list[str] = []
        for part in (folder / target.split("?")[0].split("#")[0]).parts:
            if part == "..":
                if parts:
                    parts.pop()
            elif part != ".":
                parts.append(part)
        return f'url("{_data_url("/".join(parts))}")'

    return _CSS_URL_RE.sub(repl, css)


@functools.cache
def asset_text(asset: Asset) -> str:
    """The vendored text of ``asset``, ready to sit inside ``<script>`` or ``<style>``."""
    chunks = []
    for relative in asset.files:
        path = asset_path(relative)
        if not path.is_file():
            raise SelfContainedError(
                f"the vendored file 'trygg_geo/_assets/{relative}' is missing. "
                "Fix: reinstall trygg_geo (the package data was not installed)."
            )
        text = path.read_text(encoding="utf-8")
        text = _SOURCEMAP_RE.sub("", text)
        if asset.kind == "css":
            text = _inline_css_urls(text, relative)
            text = re.sub(r"(?i)</style", r"<\\/style", text)
        else:
            text = re.sub(r"(?i)</script", r"<\\/script", text)
        chunks.append(text)
    if asset.key == "leaflet.js":
        # Leaflet finds its default marker images through a CSS url(); with data URLs
        # that guess fails, so give L.Icon.Default the images directly.
        chunks.append(
            "L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({"
            f"iconUrl:'{_data_url('leaflet/images/marker-icon.png')}',"
            f"iconRetinaUrl:'{_data_url('leaflet/images/marker-icon-2x.png')}',"
            f"shadowUrl:'{_data_url('leaflet/images/marker-shadow.png')}'}});"
        )
    return asset.banner() + "\n" + "\n".join(chunks)


def _tile_prefix(url: str) -> str:
    """The fixed part of a tile URL template (before the first ``{``)."""
    return url.split("{", 1)[0]


def external_references(html: str, *, allowed: Iterable[str] = ()) -> list[str]:
    """Every external ``http(s)://`` address in ``html`` that could be fetched.

    Allowed are: the text of inlined vendored files (whose comments name their
    home pages), addresses that start with the fixed part of an ``allowed`` tile
    URL template, link targets (``href`` of an ``<a>`` element, which the browser
    only follows on a click; in folium these are tile attributions), and XML
    namespace names. Everything else is returned, in page order.
    """
    prefixes = tuple(_tile_prefix(a) for a in allowed if a)
    html = _VENDORED_RE.sub("", html)  # vendored code mentions its home pages in comments
    found: list[str] = []
    for match in _HTTP_RE.finditer(html):
        url = match.group(0)
        if url.startswith(_NAMESPACES):
            continue
        if prefixes and url.startswith(prefixes):
            continue
        if _ANCHOR_RE.search(html, max(0, match.start() - 300), match.start()):
            continue
        found.append(url)
    return found


def inline_assets(html: str, *, allowed: Iterable[str] = ()) -> str:
    """Inline every CDN script and stylesheet of a rendered folium page.

    Parameters
    ----------
    html
        The page, as ``folium.Map.get_root().render()`` gives it.
    allowed
        Tile URL templates that may stay external (the map still draws every
        data layer when they cannot be reached).

    Returns
    -------
    str
        The page with each CDN reference replaced by a ``<script>`` or
        ``<style>`` element holding the vendored text (each asset once).

    Raises
    ------
    SelfContainedError
        When a reference has no vendored replacement, or when any other
        external address is left in the page.
    """
    allowed = [a for a in allowed if a]
    used: set[str] = set()
    placeholders: dict[str, str] = {}
    missing: list[str] = []

    def _replace(match: re.Match[str], kind: str) -> str:
        url = match.group(1)
        if kind == "css" and not re.search(r"""(?i)rel\s*=\s*["']?stylesheet""", match.group(0)):
            return match.group(0)  # not a stylesheet: left for the external check
        if url.startswith("data:"):
            return match.group(0)
        asset = asset_for_url(url)
        if asset is None:
            marker = OPTIONAL_URLS.get(url)
            if marker is not None:
                placeholders[f"\x00optional:{url}\x00"] = marker
                return f"\x00optional:{url}\x00"
            missing.append(url)
            return match.group(0)
        if asset.key in used:
            return ""
        used.add(asset.key)
        token = f"\x00asset:{asset.key}\x00"
        tag = "script" if asset.kind == "js" else "style"
        placeholders[token] = f"<{tag}>{asset_text(asset)}</{tag}>"
        return token

    out = _SCRIPT_RE.sub(lambda m: _replace(m, "js"), html)
    out = _LINK_RE.sub(lambda m: _replace(m, "css"), out)
    # optional stylesheets: drop when the page does not use them, else they are missing
    for token, marker in list(placeholders.items()):
        if token.startswith("\x00optional:"):
            url = token[len("\x00optional:") : -1]
            rest = out.replace(token, "")
            if marker in rest:
                missing.append(url)
                out = out.replace(token, f'<link rel="stylesheet" href="{url}"/>')
            else:
                log.info("dropped the unused stylesheet %s", url)
                out = rest
            del placeholders[token]
    if missing:
        raise SelfContainedError(
            "the map references files on the network that trygg_geo has not vendored: "
            + ", ".join(dict.fromkeys(missing))
            + ". Fix: build the map with trygg_geo.maps.build_map (which uses only vendored "
            "plugins), or save with self_contained=False (the map then needs internet)."
        )
    remaining = external_references(out, allowed=allowed)
    if remaining:
        shown = ", ".join(list(dict.fromkeys(remaining))[:10])
        raise SelfContainedError(
            f"{len(remaining)} external address(es) remain in the map: {shown}. Only the tile "
            f"URL(s) {allowed or '(none)'} may stay external. Fix: remove them from popups, "
            "tooltips and layers, or save with self_contained=False."
        )
    for token, text in placeholders.items():
        out = out.replace(token, text, 1)
    return out
