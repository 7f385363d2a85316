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
import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template
from jinja2.utils import htmlsafe_json_dumps

from trygg_geo._assets import asset_path
from trygg_geo._assets._inline import inline_assets
from trygg_geo._atomic import atomic_path
from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
)
from trygg_geo._escape import html_text, is_missing
from trygg_geo._i18n import with_level
from trygg_geo.interventions import CATALOGUE, UNKNOWN_KIND, Kind, get_kind

__all__ = ["TEXT", "build_map", "format_pp", "format_sek", "save_map", "simplify_coverage"]

log = logging.getLogger(__name__)

#: All map labels, Swedish and English.
TEXT: dict[str, dict[str, str]] = {
    "sv": {
        "title": "Trygghetsinvesteringar", "areas": "Områden", "choropleth": "Förändring",
        "name": "Namn", "parent": "Stadsdelsområde", "change": "Förändring", "n": "Antal svar",
        "pp": "procentenheter", "pp_short": "p.e.", "ci": "[[level]] KI", "to": "till",
        "suppressed": "för få svar", "not_significant": "ej signifikant förändring",
        "missing": "uppgift saknas", "kind": "Åtgärd", "board": "Nämnd", "granted": "Beviljat",
        "spent": "Nyttjat", "completed": "Färdigställd", "effect": "Effekt",
        "no_effect": "effekt ej beräknad", "mde": "MDE", "id": "Id", "placed_by": "Placering",
        "treated": "Behandlade områden", "control": "Kontrollområden", "spill": "Spillområden",
        "excluded": "Exkluderade områden", "role": "Roll", "investment_ids": "Investeringar",
        "hotspots": "Otrygga platser", "hot": "Het punkt (signifikant)",
        "cold": "Kall punkt (signifikant)", "ns": "Ej signifikant", "gi_z": "Gi* z",
        "gi_p": "p-värde", "count": "Antal", "density": "Täthet", "low": "låg", "high": "hög",
        "search": "Sök område", "fullscreen": "Helskärm", "fullscreen_exit": "Avsluta helskärm",
        "legend": "Teckenförklaring", "investments": "Investeringar", "tiles": "Bakgrundskarta",
        "class_legend": "Förändring (procentenheter)", "hot_legend": "Otrygga platser (Gi*)",
        "run": "Körning",
    },
    "en": {
        "title": "Safety investments", "areas": "Areas", "choropleth": "Change",
        "name": "Name", "parent": "District group", "change": "Change", "n": "Respondents",
        "pp": "percentage points", "pp_short": "pp", "ci": "[[level]] CI", "to": "to",
        "suppressed": "too few responses", "not_significant": "change not significant",
        "missing": "no data", "kind": "Measure", "board": "Board", "granted": "Granted",
        "spent": "Spent", "completed": "Completed", "effect": "Effect",
        "no_effect": "effect not estimated", "mde": "MDE", "id": "Id", "placed_by": "Placed by",
        "treated": "Treated areas", "control": "Control areas", "spill": "Spillover areas",
        "excluded": "Excluded areas", "role": "Role", "investment_ids": "Investments",
        "hotspots": "Unsafe places", "hot": "Hot spot (significant)",
        "cold": "Cold spot (significant)", "ns": "Not significant", "gi_z": "Gi* z",
        "gi_p": "p-value", "count": "Count", "density": "Density", "low": "low", "high": "high",
        "search": "Search area", "fullscreen": "Full screen", "fullscreen_exit": "Exit full screen",
        "legend": "Legend", "investments": "Investments", "tiles": "Background map",
        "class_legend": "Change (percentage points)", "hot_legend": "Unsafe places (Gi*)",
        "run": "Run",
    },
}

_ROLES = ("treated", "control", "spill", "excluded")
_ROLE_STYLE = {
    "treated": {"color": "#000000", "weight": 3, "dashArray": None},
    "control": {"color": "#444444", "weight": 2.5, "dashArray": "8 5"},
    "spill": {"color": "#666666", "weight": 2, "dashArray": "2 5"},
    "excluded": {"color": "#aaaaaa", "weight": 1, "dashArray": "1 4"},
}
#: ColorBrewer PuOr (colour-blind safe, diverging), 2k classes for k classes per side.
_PUOR = {
    1: ["#f1a340", "#998ec3"],
    2: ["#e66101", "#fdb863", "#b2abd2", "#5e3c99"],
    3: ["#b35806", "#f1a340", "#fee0b6", "#d8daeb", "#998ec3", "#542788"],
    4: ["#b35806", "#e08214", "#fdb863", "#fee0b6", "#d8daeb", "#b2abd2", "#8073ac", "#542788"],
}
_GREY_NS, _GREY_SUPPRESSED, _MISSING = "#d9d9d9", "#969696", "#ffffff"
_HOT = {"hot": "#d7301f", "cold": "#2b8cbe", "ns": "#bdbdbd"}
_AREA_DECIMALS = 6
_OTHER_DECIMALS = 5
_OSM = "OpenStreetMap"


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


def _num(x: float, decimals: int, lang: str, *, signed: bool = False) -> str:
    """Format a number the Swedish way (``1 250 000``, ``3,5``) or the English way."""
    r = round(float(x), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    text = f"{abs(r):,.{decimals}f}"
    if lang == "sv":
        text = text.replace(",", " ").replace(".", ",")
    if r < 0:
        return "\u2212" + text
    return "+" + text if signed and r > 0 else text


def format_sek(value: Any, *, lang: str = "sv") -> str:
    """``1250000`` -> ``"1 250 000 kr"`` (``"SEK 1,250,000"`` in English); NA -> ``"–"``."""
    if value is None or pd.isna(value):
        return "\u2013"
    return (
        f"{_num(float(value), 0, lang)} kr"
        if lang == "sv"
        else f"SEK {_num(float(value), 0, lang)}"
    )


def format_pp(value: Any, *, lang: str = "sv", decimals: int = 1) -> str:
    """A proportion as signed percentage points: ``0.03`` -> ``"+3,0"``."""
    if value is None or pd.isna(value):
        return "\u2013"
    return _num(float(value) * 100.0, decimals, lang, signed=True)


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
    if gdf.crs is None:
        raise CRSError(
            f"{what} has no CRS. Fix: set it (gdf.set_crs('EPSG:3006') or the layer's own CRS)."
        )
    return gdf


def _working(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer in a projected metric CRS (its own, else SWEREF 99 TM)."""
    return gdf if gdf.crs.is_projected else gdf.to_crs("EPSG:3006")


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
            var tr = L.DomUtil.create('tr', '', table);
            {%- if this.labels %}
            L.DomUtil.create('th', '', tr).textContent = aliases[i];
            {%- endif %}
            var v = props[f];
            L.DomUtil.create('td', '', tr).textContent = (v === null || v === undefined) ? '' : String(v);
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
            // no zoom animation on opening: the first paint must show every layer
            map.fitBounds({{ this.bounds|tojson }}, {animate: false, padding: [8, 8]});
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, *, title: str | None, legend_html: str, bounds: list[list[float]],
                 run_label: str | None = None) -> None:
        super().__init__()
        self.title = title
        self.run_label = run_label
        self.title_js = _js_data(title)
        self.run_label_js = _js_data(run_label)
        self.legend_html = legend_html
        self.bounds = bounds


_CSS_FILE = "maps.css"  # in trygg_geo/_assets/


def _marker_html(kind: Kind) -> str:
    r, g, b = (int(kind.colour[i : i + 2], 16) for i in (1, 3, 5))
    glyph = "#000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#fff"
    return (f'<div class="tg-marker tg-kind-{_esc(kind.id)}" style="background:{kind.colour};'
            f'color:{glyph}"><i class="fa fa-{_esc(kind.icon)}"></i></div>')


# --------------------------------------------------------------------------- layers
def _classify(values: np.ndarray, *, k: int, scheme: str) -> np.ndarray:
    """Upper edges (of |value|) of ``k`` classes per side, symmetric around zero."""
    import mapclassify

    a = np.abs(values[np.isfinite(values)])
    if a.size == 0 or np.all(a == 0):
        return np.array([max(float(a.max()) if a.size else 0.0, 1e-9)])
    k = int(max(1, min(k, 4, len(np.unique(a)))))
    try:
        bins = np.asarray(mapclassify.classify(a, scheme, k=k).bins, dtype=float)
    except Exception as exc:  # noqa: BLE001 - mapclassify raises several types
        log.warning("mapclassify %s failed (%s); using quantiles", scheme, exc)
        bins = np.asarray(mapclassify.Quantiles(a, k=k).bins, dtype=float)
    bins = np.unique(bins[bins > 0])
    bins[-1] = max(bins[-1], float(a.max()))
    return bins


def _class_colour(v: float, bins: np.ndarray) -> tuple[str, int]:
    colours = _PUOR[len(bins)]
    i = min(int(np.searchsorted(bins, abs(v), side="left")), len(bins) - 1)
    idx = len(bins) + i if v >= 0 else len(bins) - 1 - i
    return colours[idx], idx


def _add_areas(m: folium.Map, areas: gpd.GeoDataFrame, *, value_column: str, t: Mapping[str, str],
               lang: str, k: int, scheme: str, tolerance_m: float) -> tuple[folium.GeoJson, str]:
    simple = simplify_coverage(areas, tolerance_m=tolerance_m)
    geoms = _to_web(simple, _AREA_DECIMALS, coverage=True)
    has_value = value_column in areas.columns
    n = len(areas)
    def numeric(col: str) -> np.ndarray:
        if col not in areas.columns:
            return np.full(n, np.nan)
        return pd.to_numeric(areas[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    est = numeric(value_column) if has_value else np.full(n, np.nan)
    lo, hi = numeric(f"{value_column}_ci_low"), numeric(f"{value_column}_ci_high")
    supp = (
        areas["suppressed"].fillna(False).astype(bool).to_numpy()
        if "suppressed" in areas.columns
        else np.zeros(n, bool)
    )
    if "significant" in areas.columns:
        sig = areas["significant"].fillna(False).astype(bool).to_numpy()
    else:  # from the CI when there is one; unknown counts as shown
        sig = np.where(np.isfinite(lo) & np.isfinite(hi), (lo > 0) | (hi < 0), True)
    nresp = areas["n"] if "n" in areas.columns else pd.Series([pd.NA] * n, index=areas.index)
    shown = has_value & ~supp & np.isfinite(est)
    bins = _classify(est[shown], k=k, scheme=scheme) if has_value and shown.any() else np.array([])
    props: list[dict[str, Any]] = []
    used: set[str | int] = set()
    for i in range(n):
        if not has_value:
            style = {"fillColor": "#888888", "fillOpacity": 0.05, "color": "#333333", "weight": 1.2}
            text = ""
        elif supp[i]:
            style = {"fillColor": _GREY_SUPPRESSED, "fillOpacity": 0.75, "color": "#555555",
                     "weight": 1, "dashArray": "3 3"}
            text = t["suppressed"]
            used.add("suppressed")
        elif not np.isfinite(est[i]):
            style = {"fillColor": _MISSING, "fillOpacity": 0.6, "color": "#555555", "weight": 1}
            text = t["missing"]
            used.add("missing")
        else:
            colour, idx = _class_colour(est[i], bins)
            text = _change_text(est[i], lo[i], hi[i], t, lang)
            if sig[i]:
                style = {"fillColor": colour, "fillOpacity": 0.75, "color": "#444444", "weight": 1}
                used.add(idx)
            else:
                style = {
                    "fillColor": _GREY_NS,
                    "fillOpacity": 0.75,
                    "color": "#444444",
                    "weight": 1,
                }
                text += f"; {t['not_significant']}"
                used.add("ns")
        style["className"] = "tg-area"
        p = {"name": _text(areas["name"].iloc[i]), "style": style}
        if "parent" in areas.columns:
            p["parent"] = _text(areas["parent"].iloc[i])
        if has_value:
            p["change"] = text
            nv = nresp.iloc[i]
            p["n"] = _num(float(nv), 0, lang) if not pd.isna(nv) else t["missing"]
        props.append(p)
    fields = (
        ["name"]
        + (["parent"] if "parent" in areas.columns else [])
        + (["change", "n"] if has_value else [])
    )
    aliases = [t[f] for f in fields]
    layer = folium.GeoJson(
        _collection(geoms, props),
        name=_esc(t["choropleth"] if has_value else t["areas"]),
        style_function=lambda f: f["properties"]["style"],
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=_TextTooltip(fields=fields, aliases=aliases, localize=False, sticky=True),
        popup=_TextPopup(fields=fields, aliases=aliases, localize=False, max_width=360),
        zoom_on_click=False,
    )
    layer.add_to(m)
    legend = ""
    if has_value and (len(bins) or used):
        rows = []
        edges = np.concatenate([[0.0], bins])
        k = len(bins)
        for idx in range(2 * k):  # most negative class first
            i = k - 1 - idx if idx < k else idx - k  # class number counted from zero
            a, b = (-edges[i + 1], -edges[i]) if idx < k else (edges[i], edges[i + 1])
            label = f"{format_pp(a, lang=lang)} {t['to']} {format_pp(b, lang=lang)}"
            rows.append(
                f'<div class="row"><span class="sw" style="background:{_PUOR[k][idx]}"></span>'
                f"{_esc(label)}</div>"
            )
        for key, colour in (
            ("ns", _GREY_NS),
            ("suppressed", _GREY_SUPPRESSED),
            ("missing", _MISSING),
        ):
            if key in used:
                label = t["not_significant"] if key == "ns" else t[key]
                rows.append(
                    '<div class="row"><span class="sw" '
                    f'style="background:{colour}"></span>{_esc(label)}</div>'
                )
        legend = f"<h4>{_esc(t['class_legend'])}</h4>" + "".join(rows)
    return layer, legend


def _investment_props(inv: pd.DataFrame, t: Mapping[str, str], lang: str) -> list[dict[str, str]]:
    def col(name: str) -> pd.Series:
        return inv[name] if name in inv.columns else pd.Series([pd.NA] * len(inv), index=inv.index)

    completed = pd.to_datetime(col("completed"), errors="coerce")
    out = []
    cols = {c: col(c) for c in ("investment_id", "name", "board", "granted_sek", "spent_sek",
                                 "geocode_method", "effect_estimate", "effect_ci_low",
                                 "effect_ci_high", "effect_mde", "effect_reason")}
    for i in range(len(inv)):
        est = cols["effect_estimate"].iloc[i]
        if est is None or pd.isna(est):
            effect = _text(cols["effect_reason"].iloc[i]) or t["no_effect"]
        else:
            effect = _change_text(
                est, cols["effect_ci_low"].iloc[i], cols["effect_ci_high"].iloc[i], t, lang
            )
            mde = cols["effect_mde"].iloc[i]
            if mde is not None and not pd.isna(mde):
                effect += f"; {t['mde']} {_num(float(mde) * 100, 1, lang)} {t['pp_short']}"
        done = completed.iloc[i]
        out.append({
            "name": _text(cols["name"].iloc[i]),
            "kind": get_kind(str(inv["kind"].iloc[i])).label(lang),
            "board": _text(cols["board"].iloc[i]) or "\u2013",
            "granted": format_sek(cols["granted_sek"].iloc[i], lang=lang),
            "spent": format_sek(cols["spent_sek"].iloc[i], lang=lang),
            "completed": done.strftime("%Y-%m-%d") if not pd.isna(done) else "\u2013",
            "effect": effect,
            "id": _text(cols["investment_id"].iloc[i]),
            "placed_by": _text(cols["geocode_method"].iloc[i]) or "\u2013",
        })
    return out


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
    fields = ["name", "kind", "board", "granted", "spent", "completed", "effect", "id", "placed_by"]
    aliases = [t["name"], t["kind"], t["board"], t["granted"], t["spent"], t["completed"],
               t["effect"], t["id"], t["placed_by"]]
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


def _add_units(m: folium.Map, units: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
               t: Mapping[str, str], tolerance_m: float) -> str:
    role = units["role"].astype("string")
    bad = role.isna() | ~role.isin(_ROLES)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"unknown role {role.iloc[i]!r} for area_id {units['area_id'].iloc[i]!r}.",
            file="units", row=i + 1, column="role", fix=f"use one of {', '.join(_ROLES)}.",
        )
    names = dict(zip(areas["area_id"].astype(str), areas["name"].astype(str), strict=False))
    web = _to_web(simplify_coverage(units, tolerance_m=tolerance_m), _AREA_DECIMALS, coverage=True)
    rows = []
    for r in _ROLES:
        sel = np.flatnonzero((role == r).to_numpy())
        if not len(sel):
            continue
        props = []
        for j in sel:
            aid = units["area_id"].iloc[j]
            props.append(
                {
                    "name": _text(names.get(str(aid), aid)),
                    "role": t[r],
                    "investment_ids": _text(units["investment_ids"].iloc[j])
                    if "investment_ids" in units.columns
                    else "",
                }
            )
        st = dict(_ROLE_STYLE[r], fillOpacity=0.0, fill=True, className=f"tg-unit tg-{r}")
        gj = folium.GeoJson(
            _collection(web[sel], props),
            name=_esc(t[r]),
            show=r != "excluded",
            style_function=lambda f, s=st: s,
            tooltip=_TextTooltip(
                fields=["name", "role", "investment_ids"],
                aliases=[t["name"], t["role"], t["investment_ids"]],
                localize=False,
            ),
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
        return _num(float(hot[col].iloc[i]), d, lang)

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
    import matplotlib
    import matplotlib.image
    import rasterio
    from rasterio.transform import from_bounds
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    if isinstance(density, (str, Path)):
        path = Path(density)
        if not path.is_file():
            from trygg_geo._errors import MissingFileError
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
        if src_crs is None:
            raise CRSError(f"the density raster '{path}' has no CRS. Fix: write it with a CRS.")
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
    left, bottom, right, top = rasterio.transform.array_bounds(h, w, transform)
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
    classes_per_side: int = 3,
    scheme: str = "Quantiles",
    tolerance_m: float = 5.0,
    run_id: str | None = None,
    level: float = 0.95,
) -> folium.Map:
    """Build the planners' map.

    Parameters
    ----------
    areas
        Areas (``area_id``, ``name``, optional ``parent``) in any CRS with, for the
        choropleth, optional ``<value_column>`` (a change as a proportion: 0.03 is
        3 percentage points), ``<value_column>_ci_low``/``_ci_high``, ``n``,
        ``significant`` and ``suppressed``. Without the value column the areas are
        drawn as outlines.
    investments
        Placed investments (points, lines, polygons) with ``investment_id``,
        ``name``, ``kind`` and optionally the register columns and
        ``effect_estimate``, ``effect_ci_low``, ``effect_ci_high``, ``effect_mde``.
        One layer per kind; point markers are clustered when there are more than
        ``max_investments_unclustered`` of them.
    units
        Design roles (``area_id``, ``role``): one layer per role.
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
        ``"OpenStreetMap"`` (default), ``None`` for a plain light background, or a
        dict with ``url``, ``attribution`` and optional ``name``/``max_zoom``.
    max_investments_unclustered
        Above this many point investments, markers are clustered.
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

    All text from the layers (names, boards, ids ...) and the title are shown exactly as
    written: they reach the page as data and are never evaluated as HTML or as a template.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map` (self-contained by default).
    """
    if lang not in TEXT:
        raise InputError(f"unknown lang {lang!r}.", fix="use lang='sv' or lang='en'.")
    t = with_level(TEXT[lang], level, lang)
    areas = _check_layer(areas, "areas", ["area_id", "name"])
    if len(areas) == 0:
        raise EmptyLayerError(
            "the areas layer has no rows.", file="areas", fix="pass at least one area."
        )
    if investments is not None:
        investments = _check_layer(investments, "investments", ["investment_id", "name", "kind"])
    if units is not None:
        units = _check_layer(units, "units", ["area_id", "role"])
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
    if tiles is not None:
        if isinstance(tiles, str):
            folium.TileLayer(tiles, name=t["tiles"], control=False).add_to(m)
        elif isinstance(tiles, Mapping) and "url" in tiles:
            folium.TileLayer(
                tiles["url"],
                attr=tiles.get("attribution", ""),
                name=tiles.get("name", t["tiles"]),
                max_zoom=int(tiles.get("max_zoom", 19)),
                control=False,
            ).add_to(m)
        else:
            raise InputError(
                "tiles must be a provider name, None or a dict with 'url' and 'attribution'.",
                column="tiles",
                fix="e.g. tiles={'url': 'https://.../{z}/{x}/{y}.png', 'attribution': '...'}",
            )
    run_id = None if run_id is None or is_missing(run_id) or str(run_id) == "" else str(run_id)
    _Head(title=str(title or t["title"]), run_id=run_id).add_to(m)
    _Style(asset_path(_CSS_FILE).read_text(encoding="utf-8")).add_to(m)

    legend = []
    if density is not None:
        legend.append(_density_overlay(m, density, crs=areas.crs, t=t))
    area_layer, area_legend = _add_areas(m, areas, value_column=value_column, t=t, lang=lang,
                                         k=classes_per_side, scheme=scheme, tolerance_m=tolerance_m)
    legend.append(area_legend)
    if hotspots is not None and len(hotspots):
        legend.append(_add_hotspots(m, hotspots, t=t, lang=lang))
    if units is not None and len(units):
        legend.append(_add_units(m, units, areas, t=t, tolerance_m=tolerance_m))
    if investments is not None and len(investments):
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
    bounds = [[float(wb[1]), float(wb[0])], [float(wb[3]), float(wb[2])]]
    _Controls(title=str(title or t["title"]), legend_html=legend_html, bounds=bounds,
              run_label=f"{t['run']} {run_id}" if run_id else None).add_to(m)
    _harden(m.get_root())
    return m


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
