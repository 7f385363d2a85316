"""Interactive maps for planners: one self-contained ``karta.html``.

:func:`build_map` draws areas (a choropleth of the change in a survey indicator,
with its uncertainty), the placed investments (one layer per kind), the design
roles (treated, control, spillover areas), hot spots and a density raster on a
folium map with a legend, a title, a scale bar, full screen and search by area
name. :func:`save_map` writes it atomically and, by default, inlines every script,
stylesheet, image and font the map uses, so the file works with no network
(intranets often block CDNs). Only the background tiles stay external; without
them every data layer still shows on a plain background.

Text from input files (register, area layer, the project name) is data, never markup
or code (issue 9). It reaches the page only as a *variable* of a fixed template
(``|tojson`` inside scripts, ``|e`` in the head) and is put on screen with
``textContent``: popups, tooltips and the search list use this module's own
``_TextPopup``/``_TextTooltip``/``_Search`` (folium's ``GeoJsonTooltip``/``GeoJsonPopup``
and leaflet-search insert values with ``innerHTML``). No template is ever compiled from
data: branca's ``Element(text)`` treats ``text`` as Jinja2 source, so the old
``Element(f"<title>{name}</title>")`` evaluated ``{{ 7*7 }}`` in a project name. Labels
that Leaflet inserts as HTML (layer names, the legend) are the package's own and are
escaped once with :func:`trygg_geo._escape.html_text`.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import logging
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import matplotlib
import matplotlib.colors
import matplotlib.image
import numpy as np
import osmnx as ox
import pandas as pd
import rasterio
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template
from jinja2.utils import htmlsafe_json_dumps
from osmnx._errors import InsufficientResponseError
from pyproj import CRS
from rasterio.transform import array_bounds, from_bounds
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

from trygg_geo import _palette as palette
from trygg_geo._assets import asset_path
from trygg_geo._assets._inline import inline_assets
from trygg_geo._atomic import atomic_path
from trygg_geo._crs import require_crs, working_crs
from trygg_geo._errors import (
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
    MissingFileError,
)
from trygg_geo._escape import html_text, is_missing
from trygg_geo._i18n import LANGS, TEXTS, fmt_number, fmt_p, fmt_pp, fmt_sek, text, texts
from trygg_geo.geocode import Gazetteer
from trygg_geo.interventions import CATALOGUE, UNKNOWN_KIND, Kind, get_kind

__all__ = [
    "TEXT",
    "basemap_from_gazetteer",
    "basemap_from_osm_xml",
    "build_map",
    "format_pp",
    "format_sek",
    "legend_sentence",
    "read_basemap",
    "save_map",
    "simplify_coverage",
]

log = logging.getLogger(__name__)

#: All map labels, Swedish and English (the ``map.`` texts of :data:`trygg_geo._i18n.TEXTS`).
TEXT: dict[str, dict[str, str]] = {lang: texts("map.", lang) for lang in LANGS}

_ROLES = ("treated", "control", "spill", "excluded")
_ROLE_STYLE = {
    "treated": {"color": "#000000", "weight": 3, "dashArray": None},
    "control": {"color": "#444444", "weight": 2.5, "dashArray": "8 5"},
    "spill": {"color": "#666666", "weight": 2, "dashArray": "2 5"},
    "excluded": {"color": "#aaaaaa", "weight": 1, "dashArray": "1 4"},
}
# The areas' colours and classes are trygg_geo._palette's (shared with the GeoPackage style).
_HOT = {"hot": "#d7301f", "cold": "#2b8cbe", "ns": "#bdbdbd"}
_AREA_DECIMALS = 6
_OTHER_DECIMALS = 5
_OSM = "OpenStreetMap"
#: Default of ``[map] max_markers`` (:func:`build_map`'s ``max_markers``): above this many
#: placed investments the map shows sums per area (:mod:`trygg_geo._map_aggregate`).
MAX_MARKERS = 5000
#: An area's popup lists at most this many of its investments' effects (the rest are counted).
_MAX_LISTED = 10


# --------------------------------------------------------------------------- helpers
def _esc(value: Any) -> str:
    """HTML-escape one of the package's own labels for the legend and the layer control.

    Leaflet inserts those with ``innerHTML``; "" for NA. Data never goes through here:
    it reaches the page as JSON and is shown with ``textContent``.
    """
    return html_text(value)


def _text(value: Any) -> str:
    """A value as the plain text a popup, tooltip or search list shows ("" for NA)."""
    return "" if is_missing(value) else str(value)


#: The package's one number format (trygg_geo._i18n), kept importable under the map's names.
format_sek = fmt_sek
format_pp = fmt_pp


def _change_text(est: Any, lo: Any, hi: Any, t: Mapping[str, str], lang: str) -> str:
    if est is None or pd.isna(est):
        return t["missing"]
    text = f"{format_pp(est, lang=lang)} {t['pp']}"
    if lo is not None and hi is not None and not pd.isna(lo) and not pd.isna(hi):
        text += f" ({t['ci']} {format_pp(lo, lang=lang)} {t['to']} {format_pp(hi, lang=lang)})"
    return text


def _check_layer(gdf: Any, what: str, required: Sequence[str]) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            f"{what} must be a GeoDataFrame, got {type(gdf).__name__}.",
            fix=f"pass {what} as a geopandas.GeoDataFrame with a CRS.",
        )
    for col in required:
        if col not in gdf.columns:
            raise MissingColumnError(
                col, found=[c for c in gdf.columns if c != "geometry"], file=what
            )
    require_crs(gdf, what=what)
    return gdf


def _working(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer in a projected metric CRS (:func:`trygg_geo._crs.working_crs`)."""
    crs = working_crs(None, gdf.crs)
    return gdf if crs.equals(gdf.crs) else gdf.to_crs(crs)


def _round(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def _polygonal(g: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a (repaired) geometry."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = shapely.get_parts(g)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), [3, 6])])


def simplify_coverage(areas: gpd.GeoDataFrame, *, tolerance_m: float = 5.0) -> gpd.GeoDataFrame:
    """Simplify a polygon coverage for the web, keeping shared boundaries shared.

    The coverage is first cleaned (``shapely.coverage_clean``: tiny overlaps and
    gaps removed, shared edges made vertex-identical), then simplified as a whole
    (``shapely.coverage_simplify``), in the layer's projected CRS. Rows, order and
    attributes are unchanged; a row whose cleaned geometry comes out empty keeps a
    plain topology-preserving simplification of its own geometry.

    Parameters
    ----------
    areas
        Polygons in a projected CRS (a geographic layer is moved to EPSG:3006).
    tolerance_m
        Simplification tolerance in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with simplified geometry, in the working CRS.
    """
    work = _working(areas)
    geoms = np.asarray(work.geometry.values, dtype=object)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    poly = valid & np.isin(shapely.get_type_id(geoms), [3, 6])
    out = geoms.copy()
    sub = np.array([_polygonal(g) for g in shapely.make_valid(geoms[poly])], dtype=object)
    if len(sub):
        if hasattr(shapely, "coverage_clean"):
            sub = shapely.coverage_clean(sub)
        if hasattr(shapely, "coverage_simplify"):
            simp = shapely.coverage_simplify(sub, tolerance_m)
        else:  # shapely < 2.1
            log.warning("shapely < 2.1: simplifying polygons one by one (shared edges may drift)")
            simp = shapely.simplify(sub, tolerance_m, preserve_topology=True)
        bad = shapely.is_empty(simp) | ~shapely.is_valid(simp)
        if bad.any():
            simp[bad] = shapely.simplify(geoms[poly][bad], tolerance_m, preserve_topology=True)
        out[poly] = simp
    res = work.copy()
    res["geometry"] = gpd.GeoSeries(out, index=work.index, crs=work.crs)
    return res


def _to_web(gdf: gpd.GeoDataFrame, decimals: int, *, coverage: bool = False) -> np.ndarray:
    """Geometry in EPSG:4326, rounded to ``decimals``.

    With ``coverage=True`` the rounded polygons are cleaned again (snapping at the
    rounding step), because rounding can pull two nearly coincident vertices of
    neighbours apart; the result is rounded once more.
    """
    geoms = np.asarray(gdf.to_crs("EPSG:4326").geometry.values, dtype=object)
    out = _round(geoms, decimals)
    if coverage and hasattr(shapely, "coverage_clean"):
        poly = ~(shapely.is_missing(out) | shapely.is_empty(out)) & np.isin(
            shapely.get_type_id(out), [3, 6]
        )
        if poly.sum() > 1:
            cleaned = _round(
                shapely.coverage_clean(out[poly], snapping_distance=10.0**-decimals), decimals
            )
            if shapely.is_valid(cleaned).all() and not shapely.is_empty(cleaned).any():
                out[poly] = cleaned
    bad = ~shapely.is_valid(out) & ~shapely.is_missing(out)
    if bad.any():
        out[bad] = shapely.make_valid(out[bad])
    return out


def _collection(geoms: np.ndarray, props: list[dict[str, Any]]) -> dict[str, Any]:
    feats = []
    for i, (g, p) in enumerate(zip(geoms, props, strict=True)):
        feats.append({"type": "Feature", "id": i, "properties": p,
                      "geometry": shapely.geometry.mapping(g)})
    return {"type": "FeatureCollection", "features": feats}


# --------------------------------------------------------------------------- rendering once
class _Literal(Element):
    """Text that is already rendered; returned as is, never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _RenderOnce(MacroElement):
    """``MacroElement.render`` without branca's second template pass.

    branca's ``MacroElement.render`` renders an element's ``header``/``html``/``script``
    macros and wraps each *output* in ``Element(output)``, which compiles the output as
    Jinja2 source and renders it again. Every value a template wrote into the page (the
    GeoJSON properties through ``|tojson``, an escaped title through ``|e``) is therefore
    evaluated as a template on the second pass: ``{{ 7*7 }}`` in an area or project name
    became ``49``, ``{{ cycler.__init__.__globals__.os.popen(...) }}`` ran a command and
    ``{#`` crashed the run. Here the output is kept as a :class:`_Literal`.
    """

    # branca's MacroElement.render returns None at runtime but inherits Element's ``-> str``
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("an element can only be rendered inside a branca Figure.")
        macros = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:
                getattr(figure, part).add_child(
                    _Literal(str(macro(self, kwargs))), name=self.get_name()
                )
        for element in self._children.values():
            element.render(**kwargs)


@functools.cache
def _render_once_class(cls: type) -> type:
    """``cls`` with :class:`_RenderOnce` in place of ``MacroElement.render`` (same name)."""
    return type(
        cls.__name__,
        (cls, _RenderOnce),
        {"__module__": cls.__module__, "__doc__": cls.__doc__, "__qualname__": cls.__qualname__},
    )


def _harden(root: Element) -> None:
    """Make every macro element under ``root`` render its templates exactly once.

    Called by :func:`build_map` and again by :func:`save_map` (for elements added later);
    folium's own classes keep their behaviour, only the second pass is gone.
    """
    stack = [root]
    while stack:
        el = stack.pop()
        if isinstance(el, MacroElement) and not isinstance(el, _RenderOnce):
            # branca declares ``__hash__(self: object)``, which mypy does not take as Hashable
            el.__class__ = _render_once_class(type(el))  # type: ignore[arg-type]
        stack.extend(getattr(el, "_children", {}).values())


# --------------------------------------------------------------------------- elements
# The one way data becomes part of the page: an element whose template is a constant of
# this module, with the data as attributes that the template writes through ``|tojson``
# (scripts) or ``|e`` (HTML), and that scripts put on screen with ``textContent``. Never
# ``Element(<string built from data>)`` nor ``Template(<string built from data>)``: both
# compile the string as Jinja2 source (tests/test_payloads.py checks this module's source).
class _Style(MacroElement):
    """The package's own stylesheet (a vendored asset, never data) in the page header."""

    _template = Template(
        "{% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}"
    )

    def __init__(self, css: str) -> None:
        super().__init__()
        self.css = css


def _html_data(value: str) -> str:
    """Data as HTML text, escaped once, with ``/`` as ``&#47;``.

    It shows the same, and a URL written in a name is not mistaken by the self-contained check
    for an address the page fetches (data is never fetched: it is only ever text).
    """
    return html_text(value).replace("/", "&#47;")


def _js_data(value: str | None) -> str:
    r"""Data as a JavaScript string literal (HTML-safe JSON, ``/`` as ``\/``)."""
    return str(htmlsafe_json_dumps(value)).replace("/", "\\/")


class _Head(MacroElement):
    """``<title>`` and the run id ``<meta>``, escaped before they reach the template."""

    _template = Template(
        "{% macro header(this, kwargs) %}<title>{{ this.title_html }}</title>"
        '{% if this.run_id_html %}<meta name="trygg-geo-run-id" content="{{ this.run_id_html }}">'
        "{% endif %}{% endmacro %}"
    )

    def __init__(self, *, title: str, run_id: str | None) -> None:
        super().__init__()
        self.title_html = _html_data(title)
        self.run_id_html = _html_data(run_id) if run_id else ""


# A popup or tooltip body: a table of (alias, value) rows built with textContent, so a
# value shows exactly as written (folium's GeoJsonDetail builds it with innerHTML).
_TEXT_TABLE = """function(layer){
        var div = L.DomUtil.create('div');
        var fields = {{ this.fields|tojson }};
        var aliases = {{ this.aliases|tojson }};
        var props = (layer.feature && layer.feature.properties) || {};
        var table = L.DomUtil.create('table', '', div);
        fields.forEach(function(f, i){
            var v = props[f];
            if (v === null || v === undefined || v === '') { return; }  // no empty rows
            var tr = L.DomUtil.create('tr', '', table);
            {%- if this.labels %}
            L.DomUtil.create('th', '', tr).textContent = aliases[i];
            {%- endif %}
            L.DomUtil.create('td', '', tr).textContent = String(v);
        });
        return div;
    }"""  # noqa: E501 (a JavaScript template: its lines are emitted into the page as written)


class _TextTooltip(folium.GeoJsonTooltip):
    """``GeoJsonTooltip`` whose values are text nodes (see ``_TEXT_TABLE``)."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.bindTooltip("
        + _TEXT_TABLE + ", {{ this.tooltip_options|tojavascript }});{% endmacro %}"
    )


class _TextPopup(folium.GeoJsonPopup):
    """``GeoJsonPopup`` whose values are text nodes (see ``_TEXT_TABLE``)."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.bindPopup("
        + _TEXT_TABLE + ", {{ this.popup_options|tojavascript }});{% endmacro %}"
    )


class _Search(folium.plugins.Search):
    """Search by area name.

    The list shows names as text (leaflet-search's default tip uses ``innerHTML``) and every
    option goes through ``|tojson``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map, layer){
            var restyle = function(){ layer.setStyle(function(f){ return f.properties.style; }); };
            var control = new L.Control.Search({
                layer: layer,
                propertyName: {{ this.search_label|tojson }},
                collapsed: {{ this.collapsed|tojson }},
                textPlaceholder: {{ this.placeholder|tojson }},
                position: {{ this.position|tojson }},
                marker: false,
                initial: false,  // match anywhere in the name, not only at its start
                buildTip: function(text){
                    var li = L.DomUtil.create('li', '');
                    li.textContent = text;
                    return li;
                },
                moveToLocation: function(latlng, title, map){
                    map.flyTo(latlng, map.getBoundsZoom(latlng.layer.getBounds()));
                }
            });
            control.on('search:locationfound', function(e){
                restyle();
                e.layer.setStyle({{ this.options|tojavascript }});
                if (e.layer._popup) { e.layer.openPopup(); }
            });
            control.on('search:collapsed', restyle);
            map.addControl(control);
        })({{ this._parent.get_name() }}, {{ this.layer.get_name() }});
        {% endmacro %}
        """
    )


class _Controls(MacroElement):
    """Title (as plain text), metric scale bar, the legend (a Leaflet control), and the view."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map){
            {%- if this.title %}
            var t = L.DomUtil.create('div', 'tg-title', map.getContainer());
            t.textContent = {{ this.title_js }};
            {%- if this.run_label %}
            var run = L.DomUtil.create('div', 'tg-run', t);
            run.textContent = {{ this.run_label_js }};
            {%- endif %}
            L.DomEvent.disableClickPropagation(t);
            {%- endif %}
            L.control.scale({metric: true, imperial: false, position: 'bottomleft'}).addTo(map);
            var legend = L.control({position: 'bottomright'});
            legend.onAdd = function(){
                var d = L.DomUtil.create('div', 'tg-legend');
                d.id = 'tg-legend';
                d.innerHTML = {{ this.legend_html|tojson }};
                L.DomEvent.disableClickPropagation(d);
                L.DomEvent.disableScrollPropagation(d);
                return d;
            };
            legend.addTo(map);
            // on a phone (CSS media query) the title, legend and layer control are hidden
            // behind these buttons; one panel is open at a time, a tap on the map closes it
            var box = map.getContainer(), panels = ['title', 'legend', 'layers'];
            var close = function(){
                panels.forEach(function(k){ box.classList.remove('tg-show-' + k); });
                [].forEach.call(box.querySelectorAll('.tg-btn'), function(b){
                    b.setAttribute('aria-expanded', 'false'); });
            };
            var bar = L.control({position: 'topright'});
            bar.onAdd = function(){
                var d = L.DomUtil.create('div', 'tg-buttons');
                {{ this.buttons|tojson }}.forEach(function(b){
                    var btn = L.DomUtil.create('button', 'tg-btn tg-btn-' + b[0], d);
                    btn.type = 'button';
                    btn.textContent = b[1];
                    btn.setAttribute('aria-expanded', 'false');
                    L.DomEvent.on(btn, 'click', function(e){
                        L.DomEvent.stop(e);
                        var open = !box.classList.contains('tg-show-' + b[0]);
                        close();
                        if (open) { box.classList.add('tg-show-' + b[0]);
                                    btn.setAttribute('aria-expanded', 'true'); }
                    });
                });
                L.DomEvent.disableClickPropagation(d);
                return d;
            };
            bar.addTo(map);
            map.on('click', close);
            // the opening view fits the investments into the part of the map that the title,
            // the controls and the legend leave free (on a phone they are buttons)
            var c = box.getBoundingClientRect(), pad = [8, 8, 8, 8];  // top right bottom left
            var shown = function(sel, f){
                [].forEach.call(box.querySelectorAll(sel), function(e){
                    var r = e.getBoundingClientRect();
                    if (r.width > 0 && r.height > 0) { f(r); }
                });
            };
            // on a phone the controls are a row of buttons at the top: reserve their height,
            // not their width, or the city opens in a strip a third of the screen wide
            var narrow = c.width <= 640;
            var below = function(r){ pad[0] = Math.max(pad[0], r.bottom - c.top + 8); };
            shown('.tg-title', below);
            shown('.leaflet-top.leaflet-right .leaflet-control', narrow ? below : function(r){
                pad[1] = Math.max(pad[1], c.right - r.left + 8); });
            shown('.leaflet-bottom.leaflet-right .leaflet-control', narrow ? function(r){
                pad[2] = Math.max(pad[2], c.bottom - r.top + 8); } : function(r){
                pad[1] = Math.max(pad[1], c.right - r.left + 8); });
            shown('.leaflet-top.leaflet-left .leaflet-control', narrow ? below : function(r){
                pad[3] = Math.max(pad[3], r.right - c.left + 8); });
            // never leave less than half of the map for the view
            pad[1] = Math.min(pad[1], c.width / 2 - pad[3]);
            pad[0] = Math.min(pad[0], c.height / 2 - pad[2]);
            // no zoom animation on opening: the first paint must show every layer
            map.fitBounds({{ this.bounds|tojson }}, {animate: false,
                paddingTopLeft: [Math.max(pad[3], 8), Math.max(pad[0], 8)],
                paddingBottomRight: [Math.max(pad[1], 8), pad[2]]});
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, *, title: str | None, legend_html: str, bounds: list[list[float]],
                 run_label: str | None = None, buttons: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__()
        self.title = title
        self.buttons = [list(b) for b in buttons]
        self.run_label = run_label
        self.title_js = _js_data(title)
        self.run_label_js = _js_data(run_label)
        self.legend_html = legend_html
        self.bounds = bounds


_CSS_FILE = "maps.css"  # in trygg_geo/_assets/

#: Phone layout and the click rules (the package's own CSS, no data): below 640 px the title,
#: legend and layer control are panels behind the buttons of ``.tg-buttons``; role outlines
#: and the base map never take a click.
_EXTRA_CSS = """
path.tg-unit { pointer-events: none !important; }
.leaflet-tg-base-pane, .leaflet-tg-top-pane, .leaflet-tg-base-pane *, .leaflet-tg-top-pane * {
  pointer-events: none !important; }
.tg-legend h4.tg-sentence { font-weight: 600; white-space: normal; max-width: 260px; }
.tg-legend p.tg-note { white-space: normal; max-width: 260px; margin: 4px 0; font-size: 11.5px; }
.tg-buttons { display: none; gap: 4px; }
.tg-btn { font: 600 13px/1 "Segoe UI", Arial, sans-serif; padding: 8px 10px; border: 0;
  border-radius: 4px; background: rgba(255,255,255,.95); box-shadow: 0 1px 4px rgba(0,0,0,.35);
  cursor: pointer; color: #222; }
.tg-btn[aria-expanded="true"] { background: #333; color: #fff; }
@media (min-width: 641px) {
  .leaflet-control-layers-expanded { max-height: 42vh; overflow-y: auto; }
  .leaflet-control.tg-legend { max-height: 48vh; }
}
@media (min-width: 641px) and (max-width: 1200px) {
  .tg-title { left: 64px; transform: none; max-width: calc(100% - 420px); text-align: left; }
}
@media (max-width: 640px) {
  .tg-buttons { display: flex; }
  .tg-title, .leaflet-control.tg-legend, .leaflet-control-layers { display: none; }
  .tg-show-title .tg-title { display: block; position: absolute; top: 52px; left: 8px;
    right: 8px; transform: none; max-width: none; font-size: 14px; }
  .tg-show-legend .leaflet-control.tg-legend, .tg-show-layers .leaflet-control-layers {
    display: block; position: fixed; top: 52px; right: 8px; left: auto; margin: 0;
    max-width: calc(100vw - 16px); max-height: calc(100vh - 120px); overflow-y: auto;
    z-index: 1001; }
  .leaflet-control-search .search-input { width: 110px; }
  .leaflet-control-attribution { font-size: 9px; max-width: 60vw; white-space: nowrap;
    overflow: hidden; text-overflow: ellipsis; }
}
"""


def _marker_html(kind: Kind) -> str:
    r, g, b = (int(kind.colour[i : i + 2], 16) for i in (1, 3, 5))
    glyph = "#000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#fff"
    return (f'<div class="tg-marker tg-kind-{_esc(kind.id)}" style="background:{kind.colour};'
            f'color:{glyph}"><i class="fa fa-{_esc(kind.icon)}"></i></div>')


# --------------------------------------------------------------------------- layers
def _estimator_label(code: Any, lang: str) -> str:
    """The estimator's name in ``lang`` (the design's text when there is one), "" for NA."""
    if is_missing(code) or str(code) == "":
        return ""
    for key in (f"estimator.name.{code}", f"map.method.{code}"):
        if key in TEXTS:
            return text(key, lang)
    return str(code)


def _effect_columns(inv: gpd.GeoDataFrame, effects: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """``inv`` with ``effect_*`` columns from the effect table's per-investment rows.

    Matched on ``source_row`` (else ``investment_id``). The headline interval and p are the
    permutation ones where ``headline == "permutation"``; any column of the table may be
    absent (older tables).
    """
    if effects is None or not len(effects):
        return inv
    eff = effects
    if "scope" in eff.columns:
        eff = eff[eff["scope"] == "investment"]
    key = "source_row" if "source_row" in eff.columns and "source_row" in inv.columns \
        else "investment_id"
    if key not in eff.columns or key not in inv.columns:
        return inv
    def norm(col: pd.Series) -> pd.Series:  # source_row 2 and 2.0 are the same row
        if key == "source_row":
            return pd.to_numeric(col, errors="coerce").astype("Int64").astype("string")
        return col.astype("string")

    eff = eff.assign(_key=norm(eff[key]).to_numpy())
    eff = eff[eff["_key"].notna()].drop_duplicates("_key").set_index("_key")
    keys = norm(inv[key])
    out = inv.copy()

    def get(col: str) -> pd.Series:
        if col not in eff.columns:
            return pd.Series([pd.NA] * len(out), index=out.index, dtype=object)
        return pd.Series(keys.map(eff[col]).to_numpy(), index=out.index)

    perm = get("headline").astype(object).eq("permutation").fillna(False).to_numpy(bool)
    for dst, model, permcol in (("effect_ci_low", "ci_low", "perm_ci_low"),
                                ("effect_ci_high", "ci_high", "perm_ci_high"),
                                ("effect_p_value", "p_value", "p_perm")):
        out[dst] = np.where(perm, get(permcol).to_numpy(), get(model).to_numpy())
    for dst, src in (("effect_estimate", "estimate"), ("effect_mde", "mde"),
                     ("effect_reason", "reason"), ("effect_p_adjusted", "p_adjusted"),
                     ("effect_adjust_method", "adjust_method"), ("effect_method", "method"),
                     ("effect_n", "n_respondents"), ("effect_significant", "significant")):
        out[dst] = get(src).to_numpy()
    return out


def _effect_text(row: Mapping[str, Any], t: Mapping[str, str], lang: str) -> str:
    """An investment's effect with its interval and MDE, or the reason why there is none."""
    est = row.get("effect_estimate")
    if is_missing(est):
        return _text(row.get("effect_reason")) or t["no_effect"]
    effect = _change_text(est, row.get("effect_ci_low"), row.get("effect_ci_high"), t, lang)
    mde = row.get("effect_mde")
    if not is_missing(mde):
        effect += f"; {t['mde']} {fmt_pp(mde, lang, signed=False)} {t['pp_short']}"
    return effect


def _p_fields(row: Mapping[str, Any], prefix: str, t: Mapping[str, str],
              lang: str) -> dict[str, str]:
    """``p_adjusted`` (with the method in the label's place) or else ``p_value``, as text."""
    adj, raw = row.get(f"{prefix}p_adjusted"), row.get(f"{prefix}p_value")
    if not is_missing(adj):
        method = _text(row.get(f"{prefix}adjust_method")) or "Holm"
        return {"p_adjusted": f"{fmt_p(adj, lang)} ({method.capitalize()})", "p_value": ""}
    return {"p_adjusted": "", "p_value": "" if is_missing(raw) else fmt_p(raw, lang)}


def _investment_props(inv: pd.DataFrame, t: Mapping[str, str], lang: str) -> list[dict[str, str]]:
    completed = pd.to_datetime(inv["completed"], errors="coerce") if "completed" in inv.columns \
        else pd.Series(pd.NaT, index=inv.index)
    out = []
    for i, row in enumerate(inv.drop(columns=inv.geometry.name).to_dict(orient="records")):
        est, n = row.get("effect_estimate"), row.get("effect_n")
        done = completed.iloc[i]
        p = _p_fields(row, "effect_", t, lang) if not is_missing(est) else \
            {"p_adjusted": "", "p_value": ""}
        out.append({
            "name": _text(row.get("name")),
            "kind": get_kind(str(row.get("kind"))).label(lang),
            "board": _text(row.get("board")) or "\u2013",
            "granted": format_sek(row.get("granted_sek"), lang=lang),
            "spent": format_sek(row.get("spent_sek"), lang=lang),
            "completed": done.strftime("%Y-%m-%d") if not pd.isna(done) else "\u2013",
            "effect": _effect_text(row, t, lang),
            **p,
            "n_effect": "" if is_missing(est) or is_missing(n) else fmt_number(n, 0, lang),
            "method": "" if is_missing(est) else _estimator_label(row.get("effect_method"), lang),
            "id": _text(row.get("investment_id")),
            "placed_by": _placed_by(row.get("geocode_method"), lang),
        })
    return out


def _placed_by(code: Any, lang: str) -> str:
    """How an investment was placed, as words (``geocode_method`` code -> label).

    >>> _placed_by("street", "sv"), _placed_by(None, "sv"), _placed_by("own_code", "en")
    ('Gata (utan husnummer)', '–', 'own_code')
    """
    raw = _text(code)
    if not raw:
        return "\u2013"
    key = f"geocode_method.{raw}"
    return text(key, lang) if key in TEXTS else raw


_INV_FIELDS = ["name", "kind", "board", "granted", "spent", "completed", "effect", "p_adjusted",
               "p_value", "n_effect", "method", "id", "placed_by"]


def _inv_aliases(t: Mapping[str, str]) -> list[str]:
    return [t[f] for f in ("name", "kind", "board", "granted", "spent", "completed", "effect")] + [
        t["p_adjusted"].replace(" ({method})", ""), t["p_value"], t["n_effect"], t["estimator"],
        t["id"], t["placed_by"]]


def _unit_ids(row: Mapping[str, Any]) -> list[str]:
    return [x.strip() for x in _text(row.get("investment_ids")).split(",") if x.strip()]


def _listed_ids(units: gpd.GeoDataFrame | None) -> set[str]:
    """The investment ids the area popups name (at most ``_MAX_LISTED`` per area)."""
    if units is None or not len(units) or "investment_ids" not in units.columns:
        return set()
    out: set[str] = set()
    for v in units["investment_ids"]:
        out.update(_unit_ids({"investment_ids": v})[:_MAX_LISTED])
    return out


def _role_props(units: gpd.GeoDataFrame | None, inv_props: Mapping[str, dict[str, str]],
                t: Mapping[str, str], lang: str = "sv") -> dict[str, dict[str, str]]:
    """area_id -> the role, why, investments and their effects, for the area popup.

    At most ``_MAX_LISTED`` investments are named per area; the popup counts the others (they
    are all in the GeoPackage), so an area with thousands of investments stays a short popup.
    """
    if units is None or not len(units):
        return {}
    out: dict[str, dict[str, str]] = {}
    for row in units.drop(columns=units.geometry.name).to_dict(orient="records"):
        role = str(row["role"])
        ids = _unit_ids(row)
        more = len(ids) - _MAX_LISTED
        ids = ids[:_MAX_LISTED]
        why = _text(row.get("reason_text")) if role in ("excluded", "spill") else ""
        effects = []
        if role == "treated":
            for iid in ids:
                p = inv_props.get(iid)
                if p is None:
                    continue
                extra = "; ".join(x for x in (p["p_adjusted"] and
                                              f"{t['p_adjusted'].split(' (')[0]} {p['p_adjusted']}",
                                              p["p_value"] and f"p {p['p_value']}",
                                              p["n_effect"] and f"n {p['n_effect']}",
                                              p["method"]) if x)
                effects.append(f"{iid}: {p['effect']}" + (f"; {extra}" if extra else ""))
        tail = [t["more_investments"].format(n=fmt_number(more, 0, lang))] if more > 0 else []
        out[str(row["area_id"])] = {"role": t[f"role_one.{role}"], "role_why": why,
                                    "investment_ids": ", ".join(ids + tail),
                                    "effect": " | ".join(effects + (tail if effects else []))}
    return out


def _numeric(areas: pd.DataFrame, col: str) -> np.ndarray:
    if col not in areas.columns:
        return np.full(len(areas), np.nan)
    return pd.to_numeric(areas[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _area_style(key: str, k: int) -> dict[str, Any]:
    colour = palette.class_colour(key, k)
    if key == "suppressed":
        return {"fillColor": colour, "fillOpacity": 0.75, "color": "#555555", "weight": 1,
                "dashArray": "3 3"}
    if key == "missing":
        return {"fillColor": colour, "fillOpacity": 0.6, "color": "#555555", "weight": 1}
    return {"fillColor": colour, "fillOpacity": 0.7, "color": "#444444", "weight": 1}


def _area_texts(areas: gpd.GeoDataFrame, classes: list[str], *, value_column: str,
                t: Mapping[str, str], lang: str) -> list[dict[str, str]]:
    est, lo, hi = (_numeric(areas, c) for c in
                   (value_column, f"{value_column}_ci_low", f"{value_column}_ci_high"))
    nresp = areas["n"] if "n" in areas.columns else pd.Series([pd.NA] * len(areas))
    has_adj = "p_adjusted" in areas.columns
    out = []
    for i, key in enumerate(classes):
        if key == "suppressed":
            change = t["suppressed"]
        elif key == "missing":
            change = t["missing"]
        else:
            change = _change_text(est[i], lo[i], hi[i], t, lang)
            if key == "ns":
                change += f"; {t['not_significant']}"
        nv = nresp.iloc[i]
        p = {"p_adjusted": "", "p_value": ""}
        if has_adj and key not in ("suppressed", "missing"):
            row = {c: areas[c].iloc[i] for c in ("p_adjusted", "adjust_method", "p_value")
                   if c in areas.columns}
            p = _p_fields(row, "", t, lang)
        out.append({"change": change, "n": fmt_number(nv, 0, lang) if not pd.isna(nv)
                    else t["missing"], **p})
    return out


def _indicator_label(indicator: str | None, lang: str) -> str | None:
    if not indicator:
        return None
    key = f"map.indicator.{indicator}"
    return text(key, lang) if key in TEXTS else text("map.indicator_other", lang,
                                                     indicator=indicator)


#: Indicators that are the share of a worry: a fall is safer. ``trygg_hemvag`` is the share
#: who feel safe: a rise is safer. Others: the legend says nothing about the direction.
_LOWER_IS_SAFER = {"otrygg_kvall", "oro_brott", "avstar_aktivitet"}
_HIGHER_IS_SAFER = {"trygg_hemvag"}


def legend_sentence(*, indicator: str | None, waves: Sequence[int] | None, lang: str) -> str:
    """The choropleth legend as a sentence: what, over which waves, in which unit, which way.

    >>> legend_sentence(indicator="otrygg_kvall", waves=(2017, 2023), lang="sv")
    'Andel som känner sig otrygga ute en sen kväll: förändring 2017→2023, procentenheter. \
Negativ = tryggare.'
    >>> legend_sentence(indicator=None, waves=None, lang="en")
    'Change (percentage points)'
    """
    label = _indicator_label(indicator, lang)
    if label is None:
        return text("map.class_legend", lang)
    span = f"{waves[0]}\u2192{waves[-1]}, " if waves else ""
    out = text("map.legend_sentence", lang, indicator=label, waves=span)
    if indicator in _LOWER_IS_SAFER:
        out += " " + text("map.safer_negative", lang)
    elif indicator in _HIGHER_IS_SAFER:
        out += " " + text("map.safer_positive", lang)
    return out


def _infer_indicator_waves(areas: gpd.GeoDataFrame, indicator: str | None,
                           waves: Sequence[int] | None) -> tuple[str | None, list[int] | None]:
    """The indicator and change waves from ``<indicator>_<wave>`` columns and ``attrs``."""
    found: dict[str, list[int]] = {}
    for c in areas.columns:
        mt = re.fullmatch(r"(.+)_(\d{4})", str(c))
        if mt and mt.group(1) not in ("n", "supp"):
            found.setdefault(mt.group(1), []).append(int(mt.group(2)))
    if indicator is None and len(found) == 1:
        indicator = next(iter(found))
    if waves is None:
        attr = areas.attrs.get("change_waves")
        if attr:
            waves = [int(w) for w in attr]
        elif indicator in found and len(found[indicator]) >= 2:
            waves = sorted(found[indicator])[-2:]
    return indicator, list(waves) if waves else None


def _add_areas(m: folium.Map, areas: gpd.GeoDataFrame, *, value_column: str, t: Mapping[str, str],
               lang: str, k: int, scheme: str, tolerance_m: float,
               roles: Mapping[str, dict[str, str]], sentence: str,
               ) -> tuple[folium.GeoJson, str]:
    simple = simplify_coverage(areas, tolerance_m=tolerance_m)
    geoms = _to_web(simple, _AREA_DECIMALS, coverage=True)
    has_value = value_column in areas.columns
    classes, bins = palette.area_style_classes(pd.DataFrame(areas.drop(columns="geometry")),
                                               value_column=value_column, k=k, scheme=scheme)
    nk = max(len(bins), 1)
    texts_ = _area_texts(areas, classes, value_column=value_column, t=t, lang=lang) \
        if has_value else [{} for _ in classes]
    props: list[dict[str, Any]] = []
    for i, key in enumerate(classes):
        if has_value:
            style = _area_style(key, nk)
        else:
            style = {"fillColor": "#888888", "fillOpacity": 0.05, "color": "#333333", "weight": 1.2}
        style["className"] = f"tg-area tg-class-{key}"
        p = {"name": _text(areas["name"].iloc[i]), "style": style}
        if "parent" in areas.columns:
            p["parent"] = _text(areas["parent"].iloc[i])
        p.update(roles.get(str(areas["area_id"].iloc[i]), {}))
        p.update(texts_[i])
        props.append(p)
    fields = (["name"] + (["parent"] if "parent" in areas.columns else [])
              + (["role", "role_why", "investment_ids", "effect"] if roles else [])
              + (["change", "p_adjusted", "p_value", "n"] if has_value else []))
    label = {"role": t["role"], "role_why": t["role_why"], "investment_ids": t["investment_ids"],
             "effect": t["effect"], "p_adjusted": t["p_adjusted"].replace(" ({method})", ""),
             "p_value": t["p_value"]}
    aliases = [label.get(f, t.get(f, f)) for f in fields]
    layer = folium.GeoJson(
        _collection(geoms, props),
        name=_esc(t["choropleth"] if has_value else t["areas"]),
        style_function=lambda f: f["properties"]["style"],
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=_TextTooltip(fields=["name"] + (["change"] if has_value else []),
                             aliases=[t["name"]] + ([t["change"]] if has_value else []),
                             localize=False, sticky=True),
        popup=_TextPopup(fields=fields, aliases=aliases, localize=False, max_width=360,
                         max_height=220),
        zoom_on_click=False,
    )
    layer.add_to(m)
    used = set(classes)
    legend = ""
    if has_value and (len(bins) or used - {"missing"}):
        rows = []
        for key in palette.class_order(len(bins)) if len(bins) else []:
            rows.append(f'<div class="row"><span class="sw" style="background:'
                        f'{palette.class_colour(key, len(bins))}"></span>'
                        f"{_esc(palette.class_label(key, bins, lang))}</div>")
        for key in ("ns", "suppressed", "missing"):
            if key in used:
                lab = t["not_significant"] if key == "ns" else t[key]
                rows.append('<div class="row"><span class="sw" style="background:'
                            f'{palette.class_colour(key, nk)}"></span>{_esc(lab)}</div>')
        legend = f'<h4 class="tg-sentence">{_esc(sentence)}</h4>' + "".join(rows)
    return layer, legend


def _add_investments(m: folium.Map, inv: gpd.GeoDataFrame, *, t: Mapping[str, str], lang: str,
                     max_unclustered: int, tolerance_m: float) -> str:
    geoms = inv.geometry.values
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        rows = inv.loc[empty, "source_row"].tolist() if "source_row" in inv.columns else []
        warnings.warn(
            f"{int(empty.sum())} investment(s) have no geometry and are not drawn "
            f"(investment_id {inv.loc[empty, 'investment_id'].astype(str).tolist()[:10]}"
            f"{', source_row ' + str(rows[:10]) if rows else ''}). Fix: geocode them first.",
            DataQualityWarning, stacklevel=3,
        )
    work = _working(inv[~empty])
    is_point = np.isin(shapely.get_type_id(work.geometry.values), [0, 4])
    simp = work.geometry.values.copy()
    simp[~is_point] = shapely.simplify(simp[~is_point], tolerance_m / 2, preserve_topology=True)
    web = _round(
        np.asarray(gpd.GeoSeries(simp, crs=work.crs).to_crs("EPSG:4326").values, dtype=object),
        _OTHER_DECIMALS,
    )
    props = _investment_props(work, t, lang)
    kinds = work["kind"].astype("string").fillna(UNKNOWN_KIND.id).to_numpy(dtype=object)
    cluster = int(is_point.sum()) > max_unclustered
    fields, aliases = _INV_FIELDS, _inv_aliases(t)
    order = [k for k in CATALOGUE if k in set(kinds)] + sorted(
        {k for k in kinds if k not in CATALOGUE}
    )
    rows = []
    for kid in order:
        kind = get_kind(kid)
        sel = kinds == kid
        group = folium.FeatureGroup(name=_esc(f"{kind.label(lang)} ({int(sel.sum())})"), show=True)
        group.add_to(m)
        for pts in (True, False):
            idx = np.flatnonzero(sel & (is_point == pts))
            if not len(idx):
                continue
            data = _collection(web[idx], [props[j] for j in idx])
            kw: dict[str, Any] = {}
            if pts:
                kw["marker"] = folium.Marker(icon=folium.DivIcon(
                    html=_marker_html(kind), icon_size=(22, 22), icon_anchor=(11, 11),
                    popup_anchor=(0, -10), class_name="tg-divicon"))
            else:
                colour = kind.colour
                kw["style_function"] = lambda f, c=colour: {
                    "color": c, "weight": 4, "opacity": 0.9, "fillColor": c, "fillOpacity": 0.35,
                    "className": "tg-investment"}
            gj = folium.GeoJson(
                data, name=_esc(kind.label(lang)), control=False,
                tooltip=_TextTooltip(fields=["name", "kind"], labels=False, localize=False),
                popup=_TextPopup(fields=fields, aliases=aliases, localize=False, max_width=380),
                **kw,
            )
            if pts and cluster:
                mc = folium.plugins.MarkerCluster(
                    control=False,
                    options={"showCoverageOnHover": False, "maxClusterRadius": 50},
                    icon_create_function=(
                        'function(c){return L.divIcon({html:\'<div class="tg-cluster" '
                        'style="background:'
                        f"{kind.colour}\"><span>'+c.getChildCount()+'</span></div>',"
                        "className:'tg-divicon',iconSize:L.point(32,32)});}"
                    ),
                )
                mc.add_to(group)
                gj.add_to(mc)
            else:
                gj.add_to(group)
        rows.append(f'<div class="row">{_marker_html(kind)}{_esc(kind.label(lang))}</div>')
    return f"<h4>{_esc(t['investments'])}</h4>" + "".join(rows) if rows else ""


def _add_units(m: folium.Map, units: gpd.GeoDataFrame, *, t: Mapping[str, str],
               tolerance_m: float) -> str:
    """One outline layer per role; outlines take no click.

    The area under an outline has the popup (with the role, why and the investments'
    effects), so a click always reaches the data.
    """
    role = units["role"].astype("string")
    web = _to_web(simplify_coverage(units, tolerance_m=tolerance_m), _AREA_DECIMALS, coverage=True)
    rows = []
    for r in _ROLES:
        sel = np.flatnonzero((role == r).to_numpy())
        if not len(sel):
            continue
        props = [{"area_id": _text(units["area_id"].iloc[j])} for j in sel]
        st = dict(_ROLE_STYLE[r], fill=False, className=f"tg-unit tg-{r}")
        gj = folium.GeoJson(
            _collection(web[sel], props),
            name=_esc(t[r]),
            show=r != "excluded",
            style_function=lambda f, s=st: s,
            interactive=False,
        )
        gj.add_to(m)
        dash = {"treated": "solid", "control": "dashed"}.get(r, "dotted")
        rows.append(f'<div class="row"><span class="ln" style="border-top:3px {dash} '
                    f'{_ROLE_STYLE[r]["color"]}"></span>{_esc(t[r])}</div>')
    return f"<h4>{_esc(t['role'])}</h4>" + "".join(rows) if rows else ""


def _add_hotspots(m: folium.Map, hot: gpd.GeoDataFrame, *, t: Mapping[str, str], lang: str) -> str:
    cls = hot["gi_class"].astype("string").fillna("ns").str.lower()
    bad = ~cls.isin(list(_HOT))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unknown gi_class {cls.iloc[i]!r}.", file="hotspots", row=i + 1,
                         column="gi_class", fix="use 'hot', 'cold' or 'ns'.")
    web = _to_web(_working(hot), _OTHER_DECIMALS)

    def f(col: str, i: int, d: int) -> str:
        if col not in hot.columns or pd.isna(hot[col].iloc[i]):
            return "\u2013"
        return fmt_number(hot[col].iloc[i], d, lang)

    props = [{"cls": cls.iloc[i], "label": t[cls.iloc[i]], "gi_z": f("gi_z", i, 2),
              "gi_p": f("gi_p", i, 3), "count": f("count", i, 0)} for i in range(len(hot))]
    folium.GeoJson(
        _collection(web, props),
        name=_esc(t["hotspots"]),
        style_function=lambda ft: {
            "color": _HOT[ft["properties"]["cls"]],
            "weight": 1 if ft["properties"]["cls"] == "ns" else 1.5,
            "fillColor": _HOT[ft["properties"]["cls"]],
            "fillOpacity": 0.05 if ft["properties"]["cls"] == "ns" else 0.45,
            "className": "tg-hotspot",
        },
        tooltip=_TextTooltip(
            fields=["label", "gi_z", "gi_p", "count"],
            aliases=[t["hotspots"], t["gi_z"], t["gi_p"], t["count"]],
            localize=False,
        ),
    ).add_to(m)
    rows = [
        f'<div class="row"><span class="sw" style="background:{_HOT[c]}"></span>{_esc(t[c])}</div>'
        for c in ("hot", "cold")
        if (cls == c).any()
    ]
    return f"<h4>{_esc(t['hot_legend'])}</h4>" + "".join(rows)


def _density_overlay(
    m: folium.Map, density: Any, *, crs: Any, t: Mapping[str, str], max_px: int = 1024
) -> str:
    """Warp a single-band raster to Web Mercator and draw it as a PNG data URL."""
    if isinstance(density, (str, Path)):
        path = Path(density)
        if not path.is_file():
            raise MissingFileError(path, what="density raster")
        with rasterio.open(path) as src:
            if src.count != 1:
                raise InputError(
                    f"the density raster has {src.count} bands, expected 1.",
                    file=path,
                    fix="write the density as a single-band GeoTIFF.",
                )
            arr = src.read(1, masked=True).astype("float64").filled(np.nan)
            transform, src_crs = src.transform, src.crs
        require_crs(None if src_crs is None else CRS.from_user_input(src_crs),
                    what="the density raster", file=path)
    else:
        arr, bounds = density
        arr = np.asarray(arr, dtype="float64")
        if arr.ndim != 2:
            raise InputError(
                f"the density array has shape {arr.shape}, expected 2-D.",
                file="density",
                fix="pass (array[rows, cols], (minx, miny, maxx, maxy)).",
            )
        transform, src_crs = from_bounds(*bounds, arr.shape[1], arr.shape[0]), crs
    h, w = arr.shape
    left, bottom, right, top = array_bounds(h, w, transform)
    dst_t, dw, dh = calculate_default_transform(
        src_crs, "EPSG:3857", w, h, left, bottom, right, top
    )
    scale = max(dw / max_px, dh / max_px, 1.0)
    dw, dh = max(1, int(dw / scale)), max(1, int(dh / scale))
    b3857 = transform_bounds(src_crs, "EPSG:3857", left, bottom, right, top)
    dst_t = from_bounds(*b3857, dw, dh)
    out = np.full((dh, dw), np.nan)
    reproject(
        arr,
        out,
        src_transform=transform,
        src_crs=src_crs,
        dst_transform=dst_t,
        dst_crs="EPSG:3857",
        resampling=Resampling.bilinear,
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    pos = np.isfinite(out) & (out > 0)
    vmax = float(np.nanpercentile(out[pos], 99)) if pos.any() else 1.0
    cmap = matplotlib.colormaps["YlOrRd"]
    rgba = cmap(np.clip(np.where(pos, out, 0) / (vmax or 1.0), 0, 1))
    rgba[..., 3] = np.where(pos, 0.75, 0.0)
    buf = io.BytesIO()
    matplotlib.image.imsave(buf, (rgba * 255).astype(np.uint8), format="png")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    w_, s_, e_, n_ = transform_bounds("EPSG:3857", "EPSG:4326", *b3857)
    folium.raster_layers.ImageOverlay(url, bounds=[[s_, w_], [n_, e_]], name=_esc(t["density"]),
                                      interactive=False, zindex=1).add_to(m)
    stops = ",".join(matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0, 1, 6))
    return (
        f'<h4>{_esc(t["density"])}</h4><div class="row">{_esc(t["low"])}'
        '<span class="grad" style="background:linear-gradient(to '
        f'right,{stops})"></span>{_esc(t["high"])}</div>'
    )


# --------------------------------------------------------------------------- offline base map
#: Base map classes, drawn bottom to top, with their Leaflet style and pane.
_BASE_STYLE: dict[str, dict[str, Any]] = {
    "park": {"pane": "tg-base", "style": {"stroke": False, "fillColor": "#cfe3c1",
                                          "fillOpacity": 1.0}},
    "water": {"pane": "tg-top", "style": {"stroke": False, "fillColor": "#b9d3ea",
                                          "fillOpacity": 0.9}},
    "path": {"pane": "tg-top", "style": {"color": "#7d7466", "weight": 0.8, "opacity": 0.55,
                                         "dashArray": "2 3"}},
    "street": {"pane": "tg-top", "style": {"color": "#5f5a52", "weight": 1.3, "opacity": 0.6}},
    "major": {"pane": "tg-top", "style": {"color": "#4a443b", "weight": 2.6, "opacity": 0.7}},
}
#: Panes of the base map: parks under the areas (overlayPane 400), streets and water over them
#: and under the markers (600); neither takes a click.
_BASE_PANES = (("tg-base", 350), ("tg-top", 450))
_MAJOR = {"motorway", "trunk", "primary", "secondary", "motorway_link", "trunk_link",
          "primary_link", "secondary_link"}
_STREET = {"tertiary", "tertiary_link", "residential", "unclassified", "living_street", "service",
           "pedestrian", "road", "busway"}
_PATH = {"footway", "path", "cycleway", "steps", "track", "bridleway", "corridor"}
_PARK = {"park", "garden", "playground", "pitch", "grass", "recreation_ground", "cemetery",
         "forest", "meadow", "village_green", "nature_reserve", "wood", "scrub"}
_WATER = {"water", "river", "canal", "riverbank", "dock", "basin", "reservoir"}
_BASE_TAGS: dict[str, bool | str | list[str]] = {
    "highway": sorted(_MAJOR | _STREET | _PATH),
    "natural": ["water", "wood", "scrub"],
    "water": True,
    "waterway": ["riverbank", "dock", "river", "canal"],
    "landuse": ["grass", "recreation_ground", "cemetery", "forest", "meadow", "village_green",
                "basin", "reservoir"],
    "leisure": ["park", "garden", "playground", "pitch", "nature_reserve"],
}
_BASE_COLUMNS = ("highway", "natural", "water", "waterway", "landuse", "leisure")
_BASE_DECIMALS = 5  # about one metre


def _base_class(tags: Mapping[str, Any], polygonal: bool) -> str | None:
    """The base map class of one OSM feature, or None when it is not drawn."""
    def tag(key: str) -> str:
        v = tags.get(key)
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    hw = tag("highway")
    if hw and not polygonal:
        return "major" if hw in _MAJOR else "street" if hw in _STREET else (
            "path" if hw in _PATH else None)
    if tag("natural") == "water" or tag("water") or tag("waterway") in _WATER or \
            tag("landuse") in _WATER:
        return "water" if polygonal else None
    if polygonal and (tag("leisure") in _PARK or tag("landuse") in _PARK
                      or tag("natural") in _PARK):
        return "park"
    return None


def basemap_from_osm_xml(path: str | Path) -> gpd.GeoDataFrame:
    """Streets, paths, water and parks of an OSM XML file, as a base map layer.

    Read with :func:`osmnx.features_from_xml` (the reader the gazetteer uses).

    Parameters
    ----------
    path
        An ``.osm``, ``.osm.bz2`` or ``.osm.gz`` file.

    Returns
    -------
    geopandas.GeoDataFrame
        ``layer`` (``major``, ``street``, ``path``, ``water``, ``park``) and the geometry, in
        EPSG:4326; one row per OSM feature drawn.
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(p, what="OSM XML file (base map)")
    try:
        feats = ox.features_from_xml(p, tags=_BASE_TAGS)
    except InsufficientResponseError:
        feats = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    except Exception as exc:  # osmnx raises ParseError, UnicodeDecodeError ...
        raise InputError(f"the OSM XML could not be read for the base map ({exc}).", file=p,
                         fix="check that it is an OSM XML (.osm) download.") from exc
    geoms = np.asarray(feats.geometry.values, dtype=object)
    poly = np.isin(shapely.get_type_id(geoms), [3, 6])
    line = np.isin(shapely.get_type_id(geoms), [1, 5])
    cols = [c for c in _BASE_COLUMNS if c in feats.columns]
    tags = feats[cols].to_dict(orient="records")
    layer = [_base_class(tg, bool(pl)) if (pl or ln) else None
             for tg, pl, ln in zip(tags, poly, line, strict=True)]
    keep = np.array([x is not None for x in layer], dtype=bool)
    return gpd.GeoDataFrame({"layer": np.array(layer, dtype=object)[keep]},
                            geometry=gpd.GeoSeries(geoms[keep], crs=feats.crs or "EPSG:4326"),
                            crs=feats.crs or "EPSG:4326").reset_index(drop=True)


def basemap_from_gazetteer(gazetteer: Gazetteer) -> gpd.GeoDataFrame:
    """A base map layer from a gazetteer's streets, paths and parks (any gazetteer source).

    An address-file gazetteer has street lines drawn through its address points; an OSM one
    has the real street lines. Parks are its park-like places that are polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        ``layer`` and geometry, in the gazetteer's CRS.
    """
    parts = []
    for frame, layer in ((gazetteer.streets, "street"), (gazetteer.paths, "path")):
        g = frame.geometry
        g = g[g.notna() & ~g.is_empty]
        parts.append(gpd.GeoDataFrame({"layer": [layer] * len(g)}, geometry=g.to_numpy(),
                                      crs=gazetteer.crs))
    pl = gazetteer.places
    if len(pl) and "place_type" in pl.columns:
        sel = pl["place_type"].astype(str).isin(_PARK) & pl.geom_type.isin(
            ["Polygon", "MultiPolygon"])
        parts.append(gpd.GeoDataFrame({"layer": ["park"] * int(sel.sum())},
                                      geometry=pl.geometry[sel].to_numpy(), crs=gazetteer.crs))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                            crs=gazetteer.crs)


def read_basemap(source: str | Path | Gazetteer | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A base map layer from an OSM XML file, any gazetteer source, a gazetteer or a frame.

    ``.osm``/``.osm.bz2``/``.osm.gz``/``.xml``: :func:`basemap_from_osm_xml`; another path (an
    address file or a saved gazetteer): :meth:`Gazetteer.from_path` then
    :func:`basemap_from_gazetteer`; a frame must have a ``layer`` column (a class of
    :data:`_BASE_STYLE`).
    """
    if isinstance(source, gpd.GeoDataFrame):
        _check_layer(source, "basemap", ["layer"])
        bad = ~source["layer"].isin(list(_BASE_STYLE))
        if bad.any():
            raise InputError(f"unknown base map layer {source['layer'][bad].iloc[0]!r}.",
                             file="basemap", column="layer",
                             fix=f"use one of {', '.join(_BASE_STYLE)}.")
        return source
    if isinstance(source, Gazetteer):
        return basemap_from_gazetteer(source)
    p = Path(source)
    if p.name.lower().endswith((".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")):
        return basemap_from_osm_xml(p)
    return basemap_from_gazetteer(Gazetteer.from_path(p))


def _base_geometry(geoms: np.ndarray, layer: str, tol: float) -> shapely.Geometry | None:
    """One (multi)geometry for a class: simplified in metres, small bits dropped."""
    if layer in ("park", "water"):
        parts = shapely.get_parts(geoms[np.isin(shapely.get_type_id(geoms), [3, 6])])
        parts = parts[shapely.area(parts) >= 400.0]
        parts = shapely.simplify(parts, tol * 1.5, preserve_topology=True)
        parts = parts[~shapely.is_empty(parts) & shapely.is_valid(parts)]
        return shapely.multipolygons(parts) if len(parts) else None
    lines = shapely.get_parts(geoms[np.isin(shapely.get_type_id(geoms), [1, 5])])
    if not len(lines):
        return None
    merged = shapely.line_merge(shapely.multilinestrings(lines))
    parts = shapely.get_parts(merged)
    parts = shapely.simplify(parts, tol, preserve_topology=False)
    parts = parts[~shapely.is_empty(parts) & (shapely.length(parts) >= tol)]
    return shapely.multilinestrings(parts) if len(parts) else None


def _basemap_data(base: gpd.GeoDataFrame, *, extent: gpd.GeoDataFrame, tolerance_m: float,
                  max_bytes: int) -> dict[str, Any] | None:
    """The base map as one GeoJSON feature per class, within ``max_bytes``.

    Only features within 1 km of ``extent`` are kept. When the JSON is larger than
    ``max_bytes``, paths are dropped first, then the tolerance is doubled (up to four times).
    """
    work = _working(base[base.geometry.notna() & ~base.geometry.is_empty])
    ext = _working(extent).to_crs(work.crs)
    minx, miny, maxx, maxy = ext.total_bounds
    work = work[work.intersects(shapely.box(minx - 1000, miny - 1000, maxx + 1000, maxy + 1000))]
    if not len(work):
        return None
    layers = [k for k in _BASE_STYLE if (work["layer"] == k).any()]
    tol = tolerance_m
    for attempt in range(6):
        feats = []
        for k in layers:
            g = _base_geometry(np.asarray(work.geometry[work["layer"] == k].values, dtype=object),
                               k, tol)
            if g is None:
                continue
            web = gpd.GeoSeries([g], crs=work.crs).to_crs("EPSG:4326").values
            g = _round(np.asarray(web, dtype=object), _BASE_DECIMALS)[0]
            feats.append({"type": "Feature", "properties": {"cls": k},
                          "geometry": shapely.geometry.mapping(g)})
        data = {"type": "FeatureCollection", "features": feats}
        size = len(json.dumps(data, separators=(",", ":")))
        if size <= max_bytes or not feats:
            log.info("base map: %s, %.2f MB (tolerance %.1f m)", ", ".join(layers), size / 1e6, tol)
            return data
        if "path" in layers and attempt == 0:
            layers.remove("path")
        else:
            tol *= 2
    log.warning("the base map stays above %d bytes (%d); it is left out", max_bytes, size)
    return None


class _Basemap(folium.map.Layer):
    """The offline base map: canvas-drawn, in panes that never take a click or a tap."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function(map){
            var renderers = {};
            {{ this.panes|tojson }}.forEach(function(p){
                var el = map.getPane(p[0]) || map.createPane(p[0]);
                el.style.zIndex = p[1];
                el.style.pointerEvents = 'none';
                renderers[p[0]] = L.canvas({pane: p[0], padding: 0.5});
            });
            var styles = {{ this.styles|tojson }};
            var group = L.featureGroup([], {attribution: {{ this.attribution_js }}});
            var data = {{ this.data|tojson }};
            data.features.forEach(function(f){
                var s = styles[f.properties.cls];
                L.geoJSON(f, {interactive: false, pane: s.pane, renderer: renderers[s.pane],
                              style: function(){ return s.style; }}).addTo(group);
            });
            group.getAttribution = function(){ return {{ this.attribution_js }}; };
            return group;
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any], *, name: str, attribution: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "Basemap"
        self.data = data
        self.panes = [list(p) for p in _BASE_PANES]
        self.styles = {k: v for k, v in _BASE_STYLE.items()}
        self.attribution_js = _js_data(attribution)


# --------------------------------------------------------------------------- public
def build_map(
    *,
    areas: gpd.GeoDataFrame,
    investments: gpd.GeoDataFrame | None = None,
    units: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    density: str | Path | tuple[np.ndarray, Sequence[float]] | None = None,
    title: str | None = None,
    lang: str = "sv",
    value_column: str = "change",
    tiles: str | Mapping[str, str] | None = _OSM,
    max_investments_unclustered: int = 200,
    max_markers: int = MAX_MARKERS,
    detail_source: str | None = None,
    classes_per_side: int = 3,
    scheme: str = "Quantiles",
    tolerance_m: float = 5.0,
    run_id: str | None = None,
    level: float = 0.95,
    basemap: str | Path | Gazetteer | gpd.GeoDataFrame | None = None,
    basemap_max_bytes: int = 2_000_000,
    effects: pd.DataFrame | None = None,
    indicator: str | None = None,
    waves: Sequence[int] | None = None,
    lantmateriet_key: str | None = None,
    show_tiles: bool = False,
    extra_layers: Callable[[folium.Map], list[str]] | None = None,
    relation: pd.DataFrame | None = None,
) -> folium.Map:
    """Build the planners' map.

    Parameters
    ----------
    areas
        Areas (``area_id``, ``name``, optional ``parent``) in any CRS with, for the
        choropleth, optional ``<value_column>`` (a change as a proportion: 0.03 is
        3 percentage points), ``<value_column>_ci_low``/``_ci_high``, ``n``,
        ``significant``, ``p_adjusted`` and ``suppressed``. Without the value column the areas
        are drawn as outlines. Colours and classes: :mod:`trygg_geo._palette` (shared with the
        GeoPackage style).
    investments
        Placed investments (points, lines, polygons) with ``investment_id``,
        ``name``, ``kind`` and optionally the register columns and
        ``effect_estimate``, ``effect_ci_low``, ``effect_ci_high``, ``effect_mde``,
        ``effect_reason``, ``effect_p_adjusted``, ``effect_p_value``, ``effect_n``,
        ``effect_method`` (or pass ``effects``). One layer per kind; point markers are
        clustered when there are more than ``max_investments_unclustered`` of them.
    units
        Design roles (``area_id``, ``role``, optional ``investment_ids``, ``reason_text``):
        one outline layer per role. Outlines take no click; each area's popup says its role,
        why (excluded and spillover areas) and, for a treated area, its investments' effects.
    hotspots
        Polygons with ``gi_class`` (hot/cold/ns), ``gi_z``, ``gi_p``, ``count``.
    density
        A single-band GeoTIFF, or ``(array, (minx, miny, maxx, maxy))`` in the
        areas' CRS (row 0 at the top); drawn as a transparent-where-zero image.
    title
        Map title (default: the language's default title).
    lang
        ``"sv"`` (default) or ``"en"``.
    value_column
        The areas' column drawn as the choropleth.
    tiles
        Online tiles offered as a layer the reader can switch on: ``"OpenStreetMap"``
        (default), ``None`` for none, or a dict with ``url``, ``attribution`` and optional
        ``name``/``max_zoom``. Off unless ``show_tiles``: the page is complete offline.
    max_investments_unclustered
        Above this many point investments, markers are clustered.
    max_markers
        Above this many placed investments (points, lines and polygons together; ``[map]
        max_markers``), no investment is drawn on its own: the map shows per area the number
        of investments, the money granted and spent and the kinds
        (:func:`trygg_geo._map_aggregate.add_investment_areas`), with a note in the legend that
        every investment is in the GeoPackage. The page then grows with the areas, not the rows.
    detail_source
        The GeoPackage file that note names (the pipeline passes ``[output] geopackage``).
    classes_per_side, scheme
        Classes on each side of zero (1-4) and the mapclassify scheme
        (``"Quantiles"``, ``"NaturalBreaks"``, ...) applied to |change|.
    tolerance_m
        Simplification tolerance (metres) for the web.
    run_id
        The run that wrote this map (shown as small text under the title, "Körning <id>",
        and in ``<meta name="trygg-geo-run-id">``), so a map can be matched with the
        report and GeoPackage of the same run.
    level
        Confidence level of the intervals in ``areas`` and ``investments`` (their labels say
        "90 % KI" for 0.9).
    basemap
        The offline base map drawn inside the page (streets, paths, water, parks): an OSM XML
        file, any gazetteer source (an address file's streets), a
        :class:`~trygg_geo.geocode.Gazetteer`, or a frame from :func:`read_basemap`. Kept to
        1 km around the areas and simplified until its data is at most ``basemap_max_bytes``.
    effects
        The effect table (:data:`trygg_geo.effects.evaluation.EFFECT_COLUMNS`, any of the
        issue-12 columns may be absent): its per-investment rows fill the investments'
        ``effect_*`` columns, with the headline interval and p.
    indicator, waves
        For the legend sentence (default: from the ``<indicator>_<wave>`` columns of
        ``areas`` and ``areas.attrs["change_waves"]``).
    lantmateriet_key
        Offer Lantmäteriet's topowebb (nedtonad) as an online layer; the key is written into
        the page.
    show_tiles
        Switch the online tiles on when the page opens.
    extra_layers
        Called with the map after the hot spots are drawn; adds its own layers and returns
        their legend parts (HTML of the package's own labels), e.g. the lägesbild
        (:func:`trygg_geo._map_places.add_lagesbild`).
    relation
        The investment -> area relation (``Results.relation``, rows aligned with
        ``investments``). Above ``max_markers``, the per-area sums then count an investment
        in every area it reaches and split its money by share, as the report does.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` (self-contained by default).

    Notes
    -----
    All text from the layers (names, boards, ids ...) and the title are shown exactly as
    written: they reach the page as data and are never evaluated as HTML or as a template.
    The map opens on the investments and their treated, spillover and matched control areas
    (controls that name an investment), or on all areas when there are none.
    """
    if lang not in TEXT:
        raise InputError(f"unknown lang {lang!r}.", fix="use lang='sv' or lang='en'.")
    t = texts("map.", lang, level=level)
    areas = _check_layer(areas, "areas", ["area_id", "name"])
    if len(areas) == 0:
        raise EmptyLayerError(
            "the areas layer has no rows.", file="areas", fix="pass at least one area."
        )
    if investments is not None:
        investments = _check_layer(investments, "investments", ["investment_id", "name", "kind"])
        investments = _effect_columns(investments, effects)
    if units is not None:
        units = _check_layer(units, "units", ["area_id", "role"])
        _check_roles(units)
    if hotspots is not None:
        hotspots = _check_layer(hotspots, "hotspots", ["gi_class"])
    wb = areas.to_crs("EPSG:4326").total_bounds
    m = folium.Map(location=[(wb[1] + wb[3]) / 2, (wb[0] + wb[2]) / 2], zoom_start=11, tiles=None,
                   control_scale=False)
    m.options["max_zoom"] = 19  # MarkerCluster needs a maxZoom even with no tile layer
    # Only what these maps use: Leaflet and Font Awesome (folium also links jQuery,
    # Bootstrap and awesome-markers by default).
    js, css = dict(folium.folium._default_js), dict(folium.folium._default_css)
    m.default_js = [("leaflet", js["leaflet"])]
    m.default_css = [("leaflet_css", css["leaflet_css"]),
                     ("awesome_markers_font_css", css["awesome_markers_font_css"])]
    _add_tiles(m, tiles, lantmateriet_key=lantmateriet_key, show=show_tiles, t=t)
    run_id = None if run_id is None or is_missing(run_id) or str(run_id) == "" else str(run_id)
    _Head(title=str(title or t["title"]), run_id=run_id).add_to(m)
    _Style(asset_path(_CSS_FILE).read_text(encoding="utf-8") + _EXTRA_CSS).add_to(m)
    if basemap is not None:
        _add_basemap(m, basemap, areas=areas, tolerance_m=tolerance_m, max_bytes=basemap_max_bytes,
                     t=t, lang=lang)

    legend = []
    if density is not None:
        legend.append(_density_overlay(m, density, crs=areas.crs, t=t))
    if max_markers < 0:
        raise InputError(f"max_markers must be 0 or more, got {max_markers}.",
                         column="max_markers", fix="set [map] max_markers = 5000 (the default).")
    inv_props = {}
    if investments is not None and len(investments):
        # only the investments an area popup names: all of them could be 100,000 rows
        listed = investments[investments["investment_id"].astype(str).isin(_listed_ids(units))]
        inv_props = dict(zip(listed["investment_id"].astype(str),
                             _investment_props(listed, t, lang), strict=True))
    indicator, waves = _infer_indicator_waves(areas, indicator, waves)
    area_layer, area_legend = _add_areas(
        m, areas, value_column=value_column, t=t, lang=lang, k=classes_per_side, scheme=scheme,
        tolerance_m=tolerance_m, roles=_role_props(units, inv_props, t, lang),
        sentence=legend_sentence(indicator=indicator, waves=waves, lang=lang))
    legend.append(area_legend)
    if hotspots is not None and len(hotspots):
        legend.append(_add_hotspots(m, hotspots, t=t, lang=lang))
    if extra_layers is not None:  # e.g. the lägesbild (trygg_geo._map_places.add_lagesbild)
        legend.extend(extra_layers(m))
    if units is not None and len(units):
        legend.append(_add_units(m, units, t=t, tolerance_m=tolerance_m))
    if investments is not None and len(investments) > max_markers:
        # imported here: trygg_geo._map_aggregate builds on this module's helpers (a cycle)
        from trygg_geo._map_aggregate import add_investment_areas

        legend.append(add_investment_areas(m, investments, areas, t=t, lang=lang,
                                           max_markers=max_markers, tolerance_m=tolerance_m,
                                           detail=detail_source, relation=relation))
    elif investments is not None and len(investments):
        legend.append(
            _add_investments(
                m,
                investments,
                t=t,
                lang=lang,
                max_unclustered=max_investments_unclustered,
                tolerance_m=tolerance_m,
            )
        )
    folium.plugins.Fullscreen(
        position="topleft", title=t["fullscreen"], title_cancel=t["fullscreen_exit"]
    ).add_to(m)
    _Search(layer=area_layer, search_label="name", geom_type="Polygon", placeholder=t["search"],
            collapsed=False, position="topleft", weight=3, color="#000000").add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    legend_html = (
        f"<h4>{_esc(t['legend'])}</h4>" + "".join(x for x in legend if x) if any(legend) else ""
    )
    b = _opening_bounds(areas, investments, units)
    bounds = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]
    buttons = [("title", t["btn_about"]), ("legend", t["legend"]), ("layers", t["btn_layers"])]
    _Controls(title=str(title or t["title"]), legend_html=legend_html, bounds=bounds,
              run_label=f"{t['run']} {run_id}" if run_id else None,
              buttons=buttons if legend_html else [bt for bt in buttons if bt[0] != "legend"]
              ).add_to(m)
    _harden(m.get_root())
    return m


def _check_roles(units: gpd.GeoDataFrame) -> None:
    role = units["role"].astype("string")
    bad = role.isna() | ~role.isin(_ROLES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"unknown role {role.iloc[i]!r} for area_id {units['area_id'].iloc[i]!r}.",
            file="units", row=i + 1, column="role", fix=f"use one of {', '.join(_ROLES)}.",
        )


def _add_tiles(m: folium.Map, tiles: str | Mapping[str, str] | None, *,
               lantmateriet_key: str | None, show: bool, t: Mapping[str, str]) -> None:
    """Online tile layers as toggles in the layer control, off unless ``show``."""
    if tiles is not None:
        if isinstance(tiles, str):
            name = t["tiles_osm"] if tiles == _OSM else f"{tiles} ({t['tiles']})"
            folium.TileLayer(tiles, name=_esc(name), overlay=True, control=True,
                             show=show).add_to(m)
        elif isinstance(tiles, Mapping) and "url" in tiles:
            folium.TileLayer(
                tiles["url"],
                attr=tiles.get("attribution", ""),
                name=_esc(tiles.get("name", t["tiles"])),
                max_zoom=int(tiles.get("max_zoom", 19)),
                overlay=True, control=True, show=show,
            ).add_to(m)
        else:
            raise InputError(
                "tiles must be a provider name, None or a dict with 'url' and 'attribution'.",
                column="tiles",
                fix="e.g. tiles={'url': 'https://.../{z}/{x}/{y}.png', 'attribution': '...'}",
            )
    if lantmateriet_key:
        key = str(lantmateriet_key).strip()
        if not re.fullmatch(r"[A-Za-z0-9-]+", key):
            raise InputError("the Lantmäteriet key holds characters a key never has.",
                             column="lantmateriet_key",
                             fix="copy the key as Lantmäteriet gave it (letters, digits, '-').")
        folium.TileLayer(_LM_URL.replace("{key}", key), attr="© Lantmäteriet",
                         name=_esc(t["tiles_lm"]), max_zoom=17, overlay=True, control=True,
                         show=False).add_to(m)


#: Lantmäteriet's topowebb (nedtonad, CC BY) as WMTS REST tiles in Web Mercator.
_LM_URL = ("https://api.lantmateriet.se/open/topowebb-ccby/v1/wmts/token/{key}/1.0.0/"
           "topowebb_nedtonad/default/3857/{z}/{y}/{x}.png")


def _add_basemap(m: folium.Map, source: str | Path | Gazetteer | gpd.GeoDataFrame, *,
                 areas: gpd.GeoDataFrame, tolerance_m: float, max_bytes: int,
                 t: Mapping[str, str], lang: str) -> None:
    base = read_basemap(source)
    data = _basemap_data(base, extent=areas, tolerance_m=max(tolerance_m * 0.6, 1.0),
                         max_bytes=max_bytes)
    if data is None:
        return
    from_osm = isinstance(source, (str, Path)) and Path(source).name.lower().endswith(
        (".osm", ".osm.bz2", ".osm.gz", ".xml")) or (
        isinstance(source, Gazetteer) and source.source.lower().endswith((".osm", ".bz2", ".gz")))
    attribution = ("© OpenStreetMap-bidragsgivare" if lang == "sv"
                   else "© OpenStreetMap contributors") if from_osm else ""
    _Basemap(data, name=_esc(t["basemap"]), attribution=attribution).add_to(m)


def _opening_bounds(areas: gpd.GeoDataFrame, investments: gpd.GeoDataFrame | None,
                    units: gpd.GeoDataFrame | None) -> np.ndarray:
    """Lon/lat bounds of the investments and their treated, spillover and matched controls.

    Matched controls are control areas with ``investment_ids``; all areas when there is none.
    """
    parts = []
    if investments is not None and len(investments):
        g = investments.geometry
        parts.append(g[g.notna() & ~g.is_empty].to_crs("EPSG:4326"))
    if units is not None and len(units):
        ids = units["investment_ids"].astype("string").fillna("").str.strip() \
            if "investment_ids" in units.columns else pd.Series("", index=units.index)
        sel = units["role"].isin(["treated", "spill"]) | (
            (units["role"] == "control") & (ids != "")).to_numpy()
        parts.append(units.geometry[sel].to_crs("EPSG:4326"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return np.asarray(areas.to_crs("EPSG:4326").total_bounds)
    b = np.array([p.total_bounds for p in parts])
    out = np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])
    if out[2] - out[0] < 0.004 or out[3] - out[1] < 0.002:  # one point: about 250 m around it
        cx, cy = (out[0] + out[2]) / 2, (out[1] + out[3]) / 2
        out = np.array([cx - 0.004, cy - 0.002, cx + 0.004, cy + 0.002])
    return out


def _tile_urls(m: folium.Map) -> list[str]:
    urls: list[str] = []

    def walk(el: Any) -> None:
        if isinstance(el, folium.raster_layers.TileLayer):
            urls.append(str(el.tiles))
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)
    return urls


def _data_slashes(page: str, m: folium.Map) -> str:
    r"""Write ``/`` as ``\/`` inside the GeoJSON data of ``m``'s layers (the same JSON value).

    The layers' data is text shown with ``textContent``, never fetched; without this a
    URL written in a name would make the self-contained check refuse the map.
    """
    stack: list[Any] = [m]
    while stack:
        el = stack.pop()
        stack.extend(getattr(el, "_children", {}).values())
        data = getattr(el, "data", None)
        if isinstance(el, folium.GeoJson) and isinstance(data, dict):
            blob = str(htmlsafe_json_dumps(data, sort_keys=True))
            page = page.replace(blob, blob.replace("/", "\\/"))
    return page


def save_map(m: folium.Map, path: str | Path, *, self_contained: bool = True) -> Path:
    """Write ``m`` to ``path`` atomically.

    Parameters
    ----------
    m
        A folium map (from :func:`build_map` or any other).
    path
        Target ``.html`` file; folders are created.
    self_contained
        Inline every script, stylesheet, image and font (default), so that the
        file works with no network; only tile URLs stay external.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    trygg_geo._assets._inline.SelfContainedError
        When ``self_contained`` and the map references something that is not
        vendored (the file is then not written).
    """
    _harden(m.get_root())
    page = _data_slashes(m.get_root().render(), m)
    if self_contained:
        page = inline_assets(page, allowed=_tile_urls(m))
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote %s (%.2f MB)", path, path.stat().st_size / 1e6)
    return path
