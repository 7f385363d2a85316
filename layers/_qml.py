"""Build QGIS styles (QML) from the layer catalogue.

The styles are generated, not stored, so that the colours of the intervention kinds have one
source (:mod:`trygg_geo.interventions`), and the areas' change classes another
(:mod:`trygg_geo._palette`, which ``karta.html`` uses too): the ``omraden`` layer is drawn by
its ``stilklass`` field, a diverging colour-blind safe palette centred on zero, with areas
whose change is not significant, suppressed or not measured in grey or white, as on the map.

Symbol layers carry their properties both as the ``<Option type="Map">`` element of
QGIS >= 3.26 and as the ``<prop k v>`` elements that older QGIS 3 releases read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence
from typing import Any

from trygg_geo._i18n import LANGS, text, texts
from trygg_geo._palette import class_colour, class_label, class_order
from trygg_geo.interventions import CATALOGUE, UNKNOWN_KIND

__all__ = [
    "CHANGE_FILL_ALPHA", "DEFAULT_CHANGE_BINS", "HOTSPOT_CLASSES", "SPECIAL_CLASSES",
    "STYLE_CLASS_FIELD", "build_qml", "change_categories",
]

QGIS_VERSION = "3.28.0-Firenze"

#: The field that holds an area's style class (``neg3`` ... ``pos3``, ``ns``, ``suppressed``,
#: ``missing``; :func:`trygg_geo._palette.area_style_class`). ``karta.html`` colours each area
#: by the same class, so QGIS and the HTML map agree area by area.
STYLE_CLASS_FIELD = "stilklass"
#: The classes that are not a finding, in legend order, with their ``map.`` text key.
SPECIAL_CLASSES: tuple[tuple[str, str], ...] = (
    ("ns", "not_significant"), ("suppressed", "suppressed"), ("missing", "missing"),
)
#: Class edges of |change| used when a style is built without data (±2, ±5 and up to
#: ±100 percentage points); :func:`trygg_geo.export.write_geopackage` passes the layer's own.
DEFAULT_CHANGE_BINS: tuple[float, ...] = (0.02, 0.05, 1.0)
#: How ``karta.html`` draws a class besides its fill colour: (fill opacity 0-255, outline
#: colour, outline style). The coloured classes and ``ns`` use :data:`CHANGE_FILL_ALPHA`.
CHANGE_FILL_ALPHA = 179  # fillOpacity 0.7
_CLASS_LOOK: dict[str, tuple[int, str, str]] = {
    "suppressed": (191, "#555555", "dash"),  # fillOpacity 0.75, dashArray "3 3"
    "missing": (153, "#555555", "solid"),  # fillOpacity 0.6
}
_AREA_LOOK = (CHANGE_FILL_ALPHA, "#444444", "solid")  # 1 px outline: about 0.26 mm

# (gi_bin value, colour, sv label, en label), ArcGIS-style confidence bins of Getis-Ord Gi*
# (fixed bins of the Gi* z score, not the run's level); the labels are the ``qml.`` texts of
# trygg_geo._i18n.TEXTS.
HOTSPOT_CLASSES: list[tuple[int, str, str, str]] = [
    (gi_bin, colour, text(f"qml.{key}", "sv"), text(f"qml.{key}", "en"))
    for gi_bin, colour, key in (
        (3, "#B2182B", "hot_99"), (2, "#EF8A62", "hot_95"), (1, "#FDDBC7", "hot_90"),
        (0, "#F0F0F0", "not_significant"),
        (-1, "#D1E5F0", "cold_90"), (-2, "#67A9CF", "cold_95"), (-3, "#2166AC", "cold_99"),
    )
]

_SYMBOL_TYPE = {"Point": "marker", "LineString": "line", "Polygon": "fill"}
_GEOMETRY_CODE = {"Point": "0", "LineString": "1", "Polygon": "2", None: "4"}
_OTHER = {lang: text("qml.other_values", lang) for lang in LANGS}


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _darker(hex_colour: str, factor: float = 0.6) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(int(h[i : i + 2], 16) * factor) for i in (0, 2, 4))
    return f"#{r:02X}{g:02X}{b:02X}"


def _symbol(parent: ET.Element, name: str, kind: str, colour: str, *, alpha: int = 255,
            outline_colour: str | None = None, outline_width: str = "0.4",
            outline_style: str = "solid", fill_style: str = "solid") -> None:
    """Append one simple symbol (marker, line or fill) named ``name`` to ``parent``.

    The outline is a darker shade of ``colour`` unless ``outline_colour`` is given;
    ``fill_style="no"`` draws a fill symbol as its outline only.
    """
    sym = ET.SubElement(
        parent, "symbol",
        {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    outline = _rgba(outline_colour or _darker(colour))
    if kind == "marker":
        cls = "SimpleMarker"
        props = {"name": "circle", "color": _rgba(colour, alpha), "outline_color": outline,
                 "outline_style": outline_style, "outline_width": outline_width,
                 "outline_width_unit": "MM",
                 "size": "3", "size_unit": "MM"}
    elif kind == "line":
        cls = "SimpleLine"
        props = {"line_color": _rgba(colour, alpha), "line_style": "solid", "line_width": "0.9",
                 "line_width_unit": "MM", "capstyle": "round", "joinstyle": "round"}
    else:
        cls = "SimpleFill"
        props = {"color": _rgba(colour, alpha), "style": fill_style, "outline_color": outline,
                 "outline_style": outline_style, "outline_width": outline_width,
                 "outline_width_unit": "MM", "joinstyle": "bevel"}
    layer = ET.SubElement(sym, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
    opt = ET.SubElement(layer, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(opt, "Option", {"type": "QString", "name": k, "value": v})
    for k, v in props.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})


def _renderer_attrs(rtype: str, **extra: str) -> dict[str, str]:
    return {"type": rtype, "symbollevels": "0", "enableorderby": "0", "forceraster": "0",
            "referencescale": "-1", **extra}


def _categorized(
    root: ET.Element, attr: str, kind: str, categories: Sequence[tuple[str, str, str]],
    *, alpha: int, other_label: str,
) -> None:
    r = ET.SubElement(root, "renderer-v2", _renderer_attrs("categorizedSymbol", attr=attr))
    cats = ET.SubElement(r, "categories")
    syms = ET.SubElement(r, "symbols")
    for i, (value, colour, label) in enumerate(categories):
        ET.SubElement(cats, "category",
                      {"value": value, "symbol": str(i), "label": label, "render": "true"})
        _symbol(syms, str(i), kind, colour, alpha=alpha)
    # the empty value is QGIS's "all other values" category: nothing goes undrawn
    n = len(categories)
    ET.SubElement(cats, "category", {"value": "", "symbol": str(n), "label": other_label,
                                     "render": "true"})
    _symbol(syms, str(n), kind, "#999999", alpha=alpha)


def change_categories(
    bins: Sequence[float], *, lang: str = "sv", used: Collection[str] | None = None,
) -> list[tuple[str, str, str]]:
    """The categories of the change style: ``(style class, fill colour, legend label)``.

    The coloured classes of :mod:`trygg_geo._palette` (ColorBrewer PuOr, most negative
    first, labelled with their range in percentage points), then the classes that are not a
    finding (``ns``, ``suppressed``, ``missing``) with the map's own texts. ``used`` keeps only
    those of the latter that occur (as ``karta.html``'s legend does); ``None`` keeps all.

    >>> [c for c, _, _ in change_categories((0.02, 0.05), used={"ns"})]
    ['neg2', 'neg1', 'pos1', 'pos2', 'ns']
    >>> change_categories((0.02, 0.05), lang="en", used=())[0]
    ('neg2', '#e66101', '−5.0 to −2.0')
    """
    k = len(bins)
    t = texts("map.", lang)
    out = [(key, class_colour(key, k), class_label(key, bins, lang)) for key in class_order(k)]
    out += [(key, class_colour(key, k), t[text]) for key, text in SPECIAL_CLASSES
            if used is None or key in used]
    return out


def _change_classes(root: ET.Element, kind: str, cats: Sequence[tuple[str, str, str]]) -> None:
    """A categorized renderer on :data:`STYLE_CLASS_FIELD`, drawn as ``karta.html`` draws it."""
    r = ET.SubElement(root, "renderer-v2",
                      _renderer_attrs("categorizedSymbol", attr=STYLE_CLASS_FIELD))
    cats_el = ET.SubElement(r, "categories")
    syms = ET.SubElement(r, "symbols")
    for i, (value, colour, label) in enumerate(cats):
        ET.SubElement(cats_el, "category",
                      {"value": value, "symbol": str(i), "label": label, "render": "true"})
        alpha, outline, dash = _CLASS_LOOK.get(value, _AREA_LOOK)
        _symbol(syms, str(i), kind, colour, alpha=alpha, outline_colour=outline,
                outline_width="0.26", outline_style=dash)


def build_qml(
    spec: dict[str, Any], *, aliases: dict[str, str], fields: Sequence[str],
    geometry: str | None, lang: str, change_bins: Sequence[float] | None = None,
    change_used: Collection[str] | None = None,
) -> str:
    """QML text for one layer (see :func:`trygg_geo.layers.qml`).

    For a layer styled by change (``omraden``), ``change_bins`` are the class edges of the
    written layer (:func:`trygg_geo._palette.area_bins`; :data:`DEFAULT_CHANGE_BINS` when
    ``None``) and ``change_used`` the style classes that occur (see
    :func:`change_categories`).
    """
    root = ET.Element("qgis", {"version": QGIS_VERSION, "styleCategories": "AllStyleCategories",
                               "hasScaleBasedVisibilityFlag": "0"})
    kind = _SYMBOL_TYPE.get(geometry or "", "")
    style = spec.get("style", "none")
    # the first of the style's candidate fields that the layer has (else the first)
    candidates = list(spec.get("style_field") or ["kind"])
    attr = next((c for c in candidates if c in fields), candidates[0])
    if kind:
        if style == "kind":
            cats = [(k.id, k.colour, k.label(lang)) for k in [*CATALOGUE.values(), UNKNOWN_KIND]]
            _categorized(root, "kind", kind, cats, alpha=200 if kind == "fill" else 255,
                         other_label=_OTHER[lang])
        elif style == "change":
            _change_classes(root, kind, change_categories(
                DEFAULT_CHANGE_BINS if change_bins is None else change_bins, lang=lang,
                used=change_used))
        elif style == "hotspot":
            cats = [(str(v), c, sv if lang == "sv" else en) for v, c, sv, en in HOTSPOT_CLASSES]
            _categorized(root, attr, kind, cats, alpha=220,
                         other_label=_OTHER[lang])
        elif style == "outline" and kind == "fill":
            # the unit roles as karta.html draws them: outlines over the change classes
            # (treated solid black, control dashed, spill dotted), never hiding them
            line = spec.get("outline") or {}
            r = ET.SubElement(root, "renderer-v2", _renderer_attrs("singleSymbol"))
            syms = ET.SubElement(r, "symbols")
            _symbol(syms, "0", kind, spec.get("fill_colour", "#999999"), alpha=0,
                    outline_colour=line.get("colour", "#000000"),
                    outline_width=str(line.get("width_mm", 0.6)),
                    outline_style=line.get("dash", "solid"), fill_style="no")
        else:  # "fill" (effects with geometry) and anything else: one symbol
            r = ET.SubElement(root, "renderer-v2", _renderer_attrs("singleSymbol"))
            syms = ET.SubElement(r, "symbols")
            _symbol(syms, "0", kind, spec.get("fill_colour", "#999999"), alpha=110)
    al = ET.SubElement(root, "aliases")
    for i, f in enumerate(fields):
        if f in aliases:
            # index counts the fid column QGIS shows first in a GeoPackage layer
            ET.SubElement(al, "alias", {"field": f, "index": str(i + 1), "name": aliases[f]})
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_CODE.get(geometry, "4")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
