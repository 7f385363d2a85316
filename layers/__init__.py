"""The layer catalogue: schema, Swedish/English field aliases and QGIS styles per output layer.

The catalogue (``catalogue.json`` beside this module) describes every layer that
:func:`trygg_geo.export.write_geopackage` writes: its geometry type, its fields (ASCII
snake_case name, OGR type, Swedish and English alias, description), a title and a
description in both languages, and the kind of QGIS style it gets.

Fields whose names depend on the data (the survey waves and indicators of the
``omraden`` layer: ``otrygg_kvall_2018``, ``n_2018``, ``supp_2018``, ...) are described by
*patterns* such as ``{indicator}_{wave}`` with alias templates such as
``"{indicator} {wave} (andel)"``. :func:`field_aliases` resolves them for the columns a
layer actually has. ``{wave}`` is a four-digit year; ``{indicator}`` an indicator id,
shown by its label from the catalogue's ``indicators`` table (an unknown id is shown
with its underscores replaced by spaces).

Examples
--------
>>> from trygg_geo.layers import field_aliases, layer_description
>>> field_aliases("omraden", columns=["area_id", "otrygg_kvall_2018", "n_2018"])
... # doctest: +NORMALIZE_WHITESPACE
{'area_id': 'Områdes-id', 'otrygg_kvall_2018': 'Otrygg kväll 2018 (andel)',
 'n_2018': 'Antal svarande 2018'}
>>> field_aliases("omraden", lang="en", columns=["supp_2021"])
{'supp_2021': 'Suppressed 2021'}
>>> layer_description("kontroll", "en")[:12]
'Comparison a'
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from trygg_geo.layers._qml import build_qml

__all__ = [
    "LANGUAGES",
    "FieldSpec",
    "field_aliases",
    "field_spec",
    "geometry_types",
    "has_layer",
    "indicator_label",
    "layer_description",
    "layer_names",
    "layer_spec",
    "layer_title",
    "load_catalogue",
    "qml",
]

LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a layer, resolved for a concrete column name.

    Attributes
    ----------
    name
        The column name (ASCII snake_case).
    type
        OGR field type: ``String``, ``Integer``, ``Integer64``, ``Real``, ``Boolean``,
        ``Date`` or ``DateTime``.
    alias_sv, alias_en
        Display names.
    description
        What the field holds (English).
    pattern
        The pattern it matched (``"{indicator}_{wave}"``), or ``None`` for a fixed field.
    """

    name: str
    type: str
    alias_sv: str
    alias_en: str
    description: str
    pattern: str | None = None

    def alias(self, lang: str = "sv") -> str:
        """The alias in ``lang`` (``"sv"`` or ``"en"``)."""
        return self.alias_sv if _check_lang(lang) == "sv" else self.alias_en


def _check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}. "
                         "Fix: pass lang='sv' or 'en'.")
    return lang


@functools.lru_cache(maxsize=1)
def _catalogue() -> dict[str, Any]:
    text = resources.files("trygg_geo.layers").joinpath("catalogue.json") \
        .read_text(encoding="utf-8")
    cat: dict[str, Any] = json.loads(text)
    for spec in cat["layers"].values():  # resolve shared field sets once
        if "field_set" in spec:
            spec["fields"] = cat["field_sets"][spec["field_set"]] + spec.get("fields", [])
        spec.setdefault("fields", [])
        spec.setdefault("patterns", [])
    return cat


def load_catalogue() -> dict[str, Any]:
    """The whole layer catalogue as a dict (a deep copy: changing it changes nothing here).

    Keys: ``version``, ``languages``, ``placeholders``, ``indicators`` (id -> labels),
    ``layers`` (name -> spec with ``geometry``, ``title_sv/en``, ``description_sv/en``,
    ``fields``, ``patterns``, ``style``), ``field_sets``.
    """
    return copy.deepcopy(_catalogue())


def layer_names() -> list[str]:
    """The catalogue's layer names, in catalogue order."""
    return list(_catalogue()["layers"])


def has_layer(layer: str) -> bool:
    """True when ``layer`` is described by the catalogue."""
    return layer in _catalogue()["layers"]


def layer_spec(layer: str) -> dict[str, Any]:
    """The catalogue entry of ``layer`` (a copy). Raises ``KeyError`` naming the known layers."""
    layers = _catalogue()["layers"]
    if layer not in layers:
        raise KeyError(
            f"'{layer}' is not in the layer catalogue. Known layers: {', '.join(layers)}."
        )
    return copy.deepcopy(layers[layer])


def geometry_types(layer: str) -> list[str | None]:
    """Allowed geometry families of ``layer``; the first is used for an empty layer.

    ``"Point"``, ``"LineString"``, ``"Polygon"`` or ``None`` for a table without geometry.
    """
    return list(_catalogue()["layers"][layer]["geometry"]) if has_layer(layer) else []


def indicator_label(indicator: str, lang: str = "sv") -> str:
    """Display label of a survey indicator id (``otrygg_kvall`` -> ``Otrygg kväll``)."""
    _check_lang(lang)
    labels = _catalogue()["indicators"].get(indicator)
    if labels:
        return str(labels[lang])
    text = indicator.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@functools.lru_cache(maxsize=64)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    placeholders: dict[str, str] = _catalogue()["placeholders"]
    out, pos = "", 0
    for m in re.finditer(r"\{(\w+)\}", pattern):
        out += re.escape(pattern[pos : m.start()])
        out += f"(?P<{m.group(1)}>{placeholders[m.group(1)]})"
        pos = m.end()
    out += re.escape(pattern[pos:])
    return re.compile(f"^{out}$")


def field_spec(layer: str, column: str) -> FieldSpec | None:
    """The catalogue's description of ``column`` in ``layer``, resolving patterns.

    Returns ``None`` for a column (or layer) the catalogue does not describe.

    >>> field_spec("omraden", "supp_2018").type
    'Boolean'
    """
    if not has_layer(layer):
        return None
    spec = _catalogue()["layers"][layer]
    for f in spec["fields"]:
        if f["name"] == column:
            return FieldSpec(f["name"], f["type"], f["alias_sv"], f["alias_en"], f["description"])
    for p in spec["patterns"]:
        m = _pattern_regex(p["pattern"]).match(column)
        if m is None:
            continue
        parts = m.groupdict()
        aliases = {}
        for lang in LANGUAGES:
            values = dict(parts)
            if "indicator" in values:
                values["indicator"] = indicator_label(values["indicator"], lang)
            aliases[lang] = p[f"alias_{lang}"].format(**values)
        return FieldSpec(
            column, p["type"], aliases["sv"], aliases["en"], p["description"], pattern=p["pattern"]
        )
    return None


def field_aliases(
    layer: str, lang: str = "sv", *, columns: Iterable[str] | None = None
) -> dict[str, str]:
    """Field aliases of ``layer`` in ``lang``.

    Parameters
    ----------
    layer
        A catalogue layer name.
    lang
        ``"sv"`` (default) or ``"en"``.
    columns
        The layer's actual columns. Patterned fields (``otrygg_kvall_2018``) are resolved
        for these; columns the catalogue does not describe are left out (QGIS then shows
        the field name). When ``None``, the aliases of the catalogue's fixed fields.

    Returns
    -------
    dict
        Column name -> alias, in the order of ``columns`` (or of the catalogue).
    """
    _check_lang(lang)
    if columns is None:
        if not has_layer(layer):
            return {}
        return {f["name"]: f[f"alias_{lang}"] for f in _catalogue()["layers"][layer]["fields"]}
    out = {}
    for c in columns:
        fs = field_spec(layer, c)
        if fs is not None:
            out[c] = fs.alias(lang)
    return out


def layer_title(layer: str, lang: str = "sv") -> str:
    """A short human title of ``layer`` (``gpkg_contents.identifier``); the name if unknown."""
    _check_lang(lang)
    return str(_catalogue()["layers"][layer][f"title_{lang}"]) if has_layer(layer) else layer


def layer_description(layer: str, lang: str = "sv") -> str:
    """A description of ``layer`` in ``lang``; ``""`` for a layer the catalogue does not know."""
    _check_lang(lang)
    return str(_catalogue()["layers"][layer][f"description_{lang}"]) if has_layer(layer) else ""


def qml(
    layer: str, *, lang: str = "sv", fields: Iterable[str], geometry: str | None = "catalogue"
) -> str:
    """A QGIS style (QML document) for ``layer`` with field aliases for ``fields``.

    Parameters
    ----------
    layer
        A catalogue layer name.
    lang
        Language of aliases and legend labels.
    fields
        The layer's actual attribute columns, in file order.
    geometry
        Geometry family of the written layer (``"Point"``, ``"LineString"``,
        ``"Polygon"`` or ``None`` for a table); by default the catalogue's first.

    Returns
    -------
    str
        The QML text (investments categorized by ``kind`` in the catalogue colours of
        :mod:`trygg_geo.interventions`, ``omraden`` graduated on ``change`` with a diverging
        ramp, simple fills for the unit roles, hot/cold classes for ``otrygga_platser``).
    """
    _check_lang(lang)
    spec = layer_spec(layer)
    geom = spec["geometry"][0] if geometry == "catalogue" else geometry
    fields = list(fields)
    return build_qml(
        spec,
        aliases=field_aliases(layer, lang, columns=fields),
        fields=fields,
        geometry=geom,
        lang=lang,
    )
