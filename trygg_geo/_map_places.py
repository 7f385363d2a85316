"""The lägesbild on the planners' map: where to act next, dark paths, places residents name.

:func:`add_lagesbild` adds the layers of :class:`trygg_geo.lagesbild.Lagesbild` to a map built
by :func:`trygg_geo.maps.build_map`, each as its own entry of the layer control:

- ``forslag_platser``: the ranked places, outlined, with a popup that shows the rank, the
  score, every input beside its score and the weights, so a planner can disagree with it;
- ``morka_strak``: dark paths as dark dashed lines;
- ``rapporterade_platser``: places residents point out again and again (circles by count);
- ``otrygga_platser_over_tid``: the pattern of hot spots over time.

Data reaches the page as JSON and is shown as text (the popups of :mod:`trygg_geo.maps`), never
as markup. Raw incident or report points are never drawn.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from trygg_geo._i18n import LANGS, fmt_number, texts
from trygg_geo.maps import _collection, _esc, _TextPopup, _TextTooltip, _to_web

__all__ = ["add_lagesbild", "PATTERN_COLOURS"]

_DECIMALS = 5
#: Colours of the hot-spot-over-time patterns (new and intensifying strongest).
PATTERN_COLOURS: dict[str, str] = {
    "new": "#b2182b", "intensifying": "#d6604d", "consecutive": "#f4a582",
    "persistent": "#e08214", "sporadic": "#fdb863", "oscillating": "#fee0b6",
    "diminishing": "#92c5de", "historical": "#4393c3", "disappeared": "#2166ac",
}
#: The layer names, popup labels and pattern names by language (the ``places_map.`` texts
#: of :data:`trygg_geo._i18n.TEXTS`).
_T: dict[str, dict[str, str]] = {lang: texts("places_map.", lang) for lang in LANGS}


def _num(v: Any, d: int, lang: str, none: str) -> str:
    return none if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v) \
        else fmt_number(float(v), d, lang)


def _ranking(m: folium.Map, r: gpd.GeoDataFrame, t: Mapping[str, str], lang: str) -> str:
    web = _to_web(r, _DECIMALS)
    props = []
    for _, row in r.iterrows():
        scores = ", ".join(
            f"{t[k]} {_num(row.get(f'score_{s}'), 2, lang, t['none'])}"
            for k, s in (("reports", "reports"), ("incidents", "incidents"),
                         ("dark_m", "dark_m"), ("recent", "no_investment"))
            if pd.notna(row.get(f"score_{s}")))
        props.append({
            "rank": str(int(row["rank"])), "score": _num(row["score"], 2, lang, t["none"]),
            "reports": _num(row.get("reports"), 0, lang, t["none"]),
            "incidents": _num(row.get("incidents_per_ha"), 1, lang, t["none"]),
            "dark_m": _num(row.get("dark_m"), 0, lang, t["none"]),
            "recent": _num(row.get("recent_investments"), 0, lang, t["none"]),
            "inputs": scores, "weights": str(row.get("weights", "")), "aid": t["aid"],
        })
    fields = ["rank", "score", "reports", "incidents", "dark_m", "recent", "inputs", "weights",
              "aid"]
    folium.GeoJson(
        _collection(web, props), name=_esc(t["ranking"]),
        style_function=lambda ft: {"color": "#5e3c99", "weight": 2.5, "fillOpacity": 0.08,
                                   "fillColor": "#5e3c99", "dashArray": "4 3",
                                   "className": "tg-forslag"},
        popup=_TextPopup(fields=fields, aliases=[t[f] if f != "aid" else "" for f in fields],
                         localize=False),
        tooltip=_TextTooltip(fields=["rank", "score"], aliases=[t["rank"], t["score"]],
                             localize=False),
    ).add_to(m)
    return (f"<h4>{_esc(t['ranking'])}</h4><div class=\"row\"><span class=\"sw\" "
            f"style=\"background:#5e3c99\"></span>{_esc(t['aid'])}</div>")


def _dark(m: folium.Map, d: gpd.GeoDataFrame, t: Mapping[str, str], lang: str) -> str:
    web = _to_web(d, _DECIMALS)
    props = [{"highway": str(h), "length": _num(v, 0, lang, t["none"])}
             for h, v in zip(d["highway"], d["length_m"], strict=True)]
    folium.GeoJson(
        _collection(web, props), name=_esc(t["dark"]),
        style_function=lambda ft: {"color": "#222222", "weight": 3, "dashArray": "2 4",
                                   "className": "tg-dark"},
        tooltip=_TextTooltip(fields=["highway", "length"], aliases=[t["highway"], t["length"]],
                             localize=False),
    ).add_to(m)
    return (f"<h4>{_esc(t['dark'])}</h4><div class=\"row\"><span class=\"sw\" "
            f"style=\"background:#222222\"></span>{_esc(t['dark'])}</div>")


def _repeated(m: folium.Map, p: gpd.GeoDataFrame, t: Mapping[str, str], lang: str) -> str:
    web = _to_web(p, _DECIMALS)
    group = folium.FeatureGroup(name=_esc(t["repeated"]))
    props = [{"n_reports": _num(n, 0, lang, t["none"]), "categories": str(c)}
             for n, c in zip(p["n_reports"], p["categories"], strict=True)]
    folium.GeoJson(
        _collection(web, props), name=_esc(t["repeated"]),
        marker=folium.CircleMarker(radius=7, color="#1b7837", fill=True, fill_opacity=0.6),
        tooltip=_TextTooltip(fields=["n_reports", "categories"],
                             aliases=[t["n_reports"], t["categories"]], localize=False),
    ).add_to(group)
    group.add_to(m)
    return (f"<h4>{_esc(t['repeated'])}</h4><div class=\"row\"><span class=\"sw\" "
            f"style=\"background:#1b7837\"></span>{_esc(t['n_reports'])}</div>")


def _emerging(m: folium.Map, e: gpd.GeoDataFrame, t: Mapping[str, str], lang: str) -> str:
    e = e[e["pattern"].isin(list(PATTERN_COLOURS))]
    if e.empty:
        return ""
    web = _to_web(e, _DECIMALS)
    props = [{"cls": str(pt), "pattern": t[str(pt)], "cells": _num(n, 0, lang, t["none"])}
             for pt, n in zip(e["pattern"], e["n_cells"], strict=True)]
    folium.GeoJson(
        _collection(web, props), name=_esc(t["emerging"]), show=False,
        style_function=lambda ft: {"color": PATTERN_COLOURS[ft["properties"]["cls"]],
                                   "weight": 1, "fillOpacity": 0.45,
                                   "fillColor": PATTERN_COLOURS[ft["properties"]["cls"]],
                                   "className": "tg-emerging"},
        tooltip=_TextTooltip(fields=["pattern", "cells"], aliases=[t["pattern"], t["cells"]],
                             localize=False),
    ).add_to(m)
    rows = "".join(f"<div class=\"row\"><span class=\"sw\" style=\"background:"
                   f"{PATTERN_COLOURS[p]}\"></span>{_esc(t[p])}</div>"
                   for p in PATTERN_COLOURS if (e["pattern"] == p).any())
    return f"<h4>{_esc(t['emerging'])}</h4>{rows}"


def add_lagesbild(m: folium.Map, layers: Mapping[str, pd.DataFrame], *,
                  lang: str = "sv") -> list[str]:
    """Add the lägesbild layers (by GeoPackage name) to ``m``; return their legend HTML parts.

    Empty or missing layers are skipped. ``layers`` is
    :meth:`trygg_geo.lagesbild.Lagesbild.layers`; the raw report points (``rapporter``) are
    never drawn, whatever the privacy settings.
    """
    t = _T[lang]
    out = []
    draw = (("otrygga_platser_over_tid", _emerging), ("morka_strak", _dark),
            ("rapporterade_platser", _repeated), ("forslag_platser", _ranking))
    for name, fn in draw:
        g = layers.get(name)
        if isinstance(g, gpd.GeoDataFrame) and len(g) and g.crs is not None:
            part = fn(m, g, t, lang)
            if part:
                out.append(part)
    return out
