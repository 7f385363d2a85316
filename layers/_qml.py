"""Build QGIS styles (QML) from the layer catalogue.

The styles are generated, not stored, so that the colours of the intervention kinds have one
source (:mod:`trygg_geo.interventions`). Symbol layers carry their properties both as the
``<Option type="Map">`` element of QGIS >= 3.26 and as the ``<prop k v>`` elements that
older QGIS 3 releases read.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from trygg_geo.interventions import CATALOGUE, UNKNOWN_KIND

__all__ = ["CHANGE_CLASSES", "HOTSPOT_CLASSES", "build_qml"]

QGIS_VERSION = "3.28.0-Firenze"

# (lower, upper, colour, sv label, en label): a diverging ramp (ColorBrewer RdBu, reversed):
# blue where the share went down, red where it went up. For an "unsafe" indicator red is worse.
CHANGE_CLASSES: list[tuple[float, float, str, str, str]] = [
    (-1.0, -0.05, "#2166AC", "Minskat mer än 5 procentenheter", "Decreased by more than 5 points"),
    (-0.05, -0.02, "#67A9CF", "Minskat 2–5 procentenheter", "Decreased by 2-5 points"),
    (-0.02, 0.02, "#F7F7F7", "Oförändrat (±2 procentenheter)", "Unchanged (±2 points)"),
    (0.02, 0.05, "#EF8A62", "Ökat 2–5 procentenheter", "Increased by 2-5 points"),
    (0.05, 1.0, "#B2182B", "Ökat mer än 5 procentenheter", "Increased by more than 5 points"),
]

# (gi_bin value, colour, sv label, en label), ArcGIS-style confidence bins of Getis-Ord Gi*.
HOTSPOT_CLASSES: list[tuple[int, str, str, str]] = [
    (3, "#B2182B", "Het fläck (99 %)", "Hot spot (99%)"),
    (2, "#EF8A62", "Het fläck (95 %)", "Hot spot (95%)"),
    (1, "#FDDBC7", "Het fläck (90 %)", "Hot spot (90%)"),
    (0, "#F0F0F0", "Inte signifikant", "Not significant"),
    (-1, "#D1E5F0", "Kall fläck (90 %)", "Cold spot (90%)"),
    (-2, "#67A9CF", "Kall fläck (95 %)", "Cold spot (95%)"),
    (-3, "#2166AC", "Kall fläck (99 %)", "Cold spot (99%)"),
]

_SYMBOL_TYPE = {"Point": "marker", "LineString": "line", "Polygon": "fill"}
_GEOMETRY_CODE = {"Point": "0", "LineString": "1", "Polygon": "2", None: "4"}
_OTHER = {"sv": "Övriga värden", "en": "Other values"}


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _darker(hex_colour: str, factor: float = 0.6) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(int(h[i : i + 2], 16) * factor) for i in (0, 2, 4))
    return f"#{r:02X}{g:02X}{b:02X}"


def _symbol(parent: ET.Element, name: str, kind: str, colour: str, *, alpha: int = 255) -> None:
    """Append one simple symbol (marker, line or fill) named ``name`` to ``parent``."""
    sym = ET.SubElement(
        parent, "symbol",
        {"type": kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    outline = _rgba(_darker(colour))
    if kind == "marker":
        cls = "SimpleMarker"
        props = {"name": "circle", "color": _rgba(colour, alpha), "outline_color": outline,
                 "outline_style": "solid", "outline_width": "0.4", "outline_width_unit": "MM",
                 "size": "3", "size_unit": "MM"}
    elif kind == "line":
        cls = "SimpleLine"
        props = {"line_color": _rgba(colour, alpha), "line_style": "solid", "line_width": "0.9",
                 "line_width_unit": "MM", "capstyle": "round", "joinstyle": "round"}
    else:
        cls = "SimpleFill"
        props = {"color": _rgba(colour, alpha), "style": "solid", "outline_color": outline,
                 "outline_style": "solid", "outline_width": "0.4", "outline_width_unit": "MM",
                 "joinstyle": "bevel"}
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


def build_qml(
    spec: dict[str, Any], *, aliases: dict[str, str], fields: Sequence[str],
    geometry: str | None, lang: str,
) -> str:
    """QML text for one layer (see :func:`trygg_geo.layers.qml`)."""
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
            r = ET.SubElement(root, "renderer-v2", _renderer_attrs(
                "graduatedSymbol", attr=attr,
                graduatedMethod="GraduatedColor"))
            ranges = ET.SubElement(r, "ranges")
            syms = ET.SubElement(r, "symbols")
            for i, (lo, hi, colour, sv, en) in enumerate(CHANGE_CLASSES):
                ET.SubElement(ranges, "range", {
                    "lower": f"{lo:.6f}", "upper": f"{hi:.6f}", "symbol": str(i),
                    "label": sv if lang == "sv" else en, "render": "true"})
                _symbol(syms, str(i), kind, colour, alpha=220)
            ET.SubElement(r, "mode", {"name": "manual"})
            ET.SubElement(r, "classificationMethod", {"id": "Fixed"})
        elif style == "hotspot":
            cats = [(str(v), c, sv if lang == "sv" else en) for v, c, sv, en in HOTSPOT_CLASSES]
            _categorized(root, attr, kind, cats, alpha=220,
                         other_label=_OTHER[lang])
        else:  # "fill" (unit roles, effects with geometry) and anything else: one symbol
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
