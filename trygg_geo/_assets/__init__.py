"""Vendored JavaScript and CSS for self-contained maps.

Every file in this folder comes unmodified from a package registry (npm, or
PyPI for folium's own CSS; see ``ASSETS.md``), with its licence file beside it.
:data:`REGISTRY` maps each CDN address that folium (0.20) and the folium plugins
used by :mod:`trygg_geo.maps` write into a saved map to the vendored files that
replace it. :func:`trygg_geo._assets._inline.inline_assets` does the replacing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

__all__ = ["ASSET_DIR", "REGISTRY", "Asset", "asset_for_url", "asset_path"]

ASSET_DIR = Path(str(resources.files(__name__)))


@dataclass(frozen=True)
class Asset:
    """One vendored script or stylesheet that replaces a CDN reference.

    Attributes
    ----------
    key
        Short unique name.
    kind
        ``"js"`` or ``"css"``.
    files
        Paths relative to this folder; concatenated in this order.
    package, version, licence, source
        Where the files come from (for ``ASSETS.md`` and the comment written
        above the inlined text).
    urls
        The CDN addresses this asset replaces.
    """

    key: str
    kind: Literal["js", "css"]
    files: tuple[str, ...]
    package: str
    version: str
    licence: str
    source: str
    urls: tuple[str, ...]

    def banner(self) -> str:
        """A one-line comment naming the package, version and licence."""
        return (
            f"/* {self.package}@{self.version} ({self.licence}); vendored by trygg_geo "
            f"from {self.source}; licence text in trygg_geo/_assets/ */"
        )


_NPM = "npm registry (npm pack)"

REGISTRY: tuple[Asset, ...] = (
    Asset(
        "leaflet.js", "js", ("leaflet/leaflet.js",), "leaflet", "1.9.3", "BSD-2-Clause", _NPM,
        ("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js",),
    ),
    Asset(
        "leaflet.css", "css", ("leaflet/leaflet.css",), "leaflet", "1.9.3", "BSD-2-Clause", _NPM,
        ("https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css",),
    ),
    Asset(
        "fontawesome.css", "css",
        ("fontawesome/css/fontawesome.min.css", "fontawesome/css/solid.min.css",
         "fontawesome/css/regular.min.css", "fontawesome/css/v4-shims.min.css"),
        "@fortawesome/fontawesome-free", "6.2.0", "CC-BY-4.0 (icons), OFL-1.1 (fonts), MIT (code)",
        _NPM,
        ("https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css",),
    ),
    Asset(
        "markercluster.js", "js", ("markercluster/leaflet.markercluster.js",),
        "leaflet.markercluster", "1.1.0", "MIT", _NPM,
        ("https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js",),
    ),
    Asset(
        "markercluster.css", "css", ("markercluster/MarkerCluster.css",),
        "leaflet.markercluster", "1.1.0", "MIT", _NPM,
        ("https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css",),
    ),
    Asset(
        "markercluster.default.css", "css", ("markercluster/MarkerCluster.Default.css",),
        "leaflet.markercluster", "1.1.0", "MIT", _NPM,
        ("https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css",),
    ),
    Asset(
        "fullscreen.js", "js", ("fullscreen/Control.FullScreen.js",),
        "leaflet.fullscreen", "3.0.0", "MIT", _NPM,
        ("https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js",),
    ),
    Asset(
        "fullscreen.css", "css", ("fullscreen/Control.FullScreen.css",),
        "leaflet.fullscreen", "3.0.0", "MIT", _NPM,
        ("https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css",),
    ),
    Asset(
        "search.js", "js", ("leaflet-search/dist/leaflet-search.min.js",),
        "leaflet-search", "2.9.7", "MIT", _NPM,
        ("https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js",),
    ),
    Asset(
        "search.css", "css", ("leaflet-search/dist/leaflet-search.min.css",),
        "leaflet-search", "2.9.7", "MIT", _NPM,
        ("https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css",),
    ),
    # Only needed by maps not built with trygg_geo.maps.build_map (folium's defaults):
    Asset(
        "jquery.js", "js", ("jquery/jquery.min.js",), "jquery", "3.7.1", "MIT", _NPM,
        ("https://code.jquery.com/jquery-3.7.1.min.js",),
    ),
    Asset(
        "bootstrap.js", "js", ("bootstrap/bootstrap.bundle.min.js",), "bootstrap", "5.2.2", "MIT",
        _NPM, ("https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js",),
    ),
    Asset(
        "bootstrap.css", "css", ("bootstrap/bootstrap.min.css",), "bootstrap", "5.2.2", "MIT",
        _NPM, ("https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css",),
    ),
    Asset(
        "awesome-markers.js", "js", ("awesome-markers/leaflet.awesome-markers.min.js",),
        "drmonty-leaflet-awesome-markers (Leaflet.awesome-markers)", "2.0.2", "MIT", _NPM,
        ("https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js",),
    ),
    Asset(
        "awesome-markers.css", "css", ("awesome-markers/leaflet.awesome-markers.css",),
        "drmonty-leaflet-awesome-markers (Leaflet.awesome-markers)", "2.0.2", "MIT", _NPM,
        ("https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css",),
    ),
    Asset(
        "awesome-rotate.css", "css", ("folium/leaflet.awesome.rotate.min.css",),
        "folium", "0.20.0", "MIT", "PyPI sdist folium-0.20.0.tar.gz (whitespace removed)",
        ("https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",),
    ),
)

#: Stylesheets that may be dropped (not inlined) when the page does not use them.
#: folium links Bootstrap 3's glyphicon font for ``Icon(prefix="glyphicon")``; it is
#: on no package registry, so a map that uses glyphicons cannot be self-contained.
OPTIONAL_URLS: dict[str, str] = {
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": "glyphicon",
}

_BY_URL = {url: asset for asset in REGISTRY for url in asset.urls}


def asset_for_url(url: str) -> Asset | None:
    """The vendored asset that replaces ``url`` (None when there is none)."""
    return _BY_URL.get(url.strip())


def asset_path(relative: str) -> Path:
    """Absolute path of a vendored file."""
    return ASSET_DIR / relative
