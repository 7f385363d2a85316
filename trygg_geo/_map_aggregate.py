"""Investments per area on the planners' map, for registers too large to draw one by one.

Above ``max_markers`` placed investments (``[map] max_markers``, default
:data:`MAX_MARKERS`), :func:`trygg_geo.maps.build_map` draws no marker, line or polygon per
investment: the page would grow with the register (a 100,000-row register made a 50 MB
``karta.html``). :func:`add_investment_areas` draws instead one polygon per area, coloured by
the number of investments in it, whose popup gives the count, the money granted and spent and
the kinds; the legend says why and names the GeoPackage layers that hold every investment.

The page then grows with the areas, not with the rows. Text reaches the page as in
:mod:`trygg_geo.maps`: as JSON data shown with ``textContent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygg_geo._i18n import fmt_number, fmt_sek
from trygg_geo.design import split_by_share
from trygg_geo.interventions import UNKNOWN_KIND, get_kind
from trygg_geo.maps import (
    _AREA_DECIMALS,
    _collection,
    _esc,
    _text,
    _TextPopup,
    _TextTooltip,
    _to_web,
    simplify_coverage,
)

__all__ = ["MAX_MARKERS", "DETAIL_LAYERS", "investment_area_totals", "add_investment_areas"]

#: Default of ``[map] max_markers``: above this many placed investments the map shows sums per
#: area instead of one marker per investment.
MAX_MARKERS = 5000
#: The GeoPackage layers that hold every placed investment (see ``layers/catalogue.json``).
DETAIL_LAYERS = ("investeringar_punkt", "investeringar_linje", "investeringar_yta")
#: Sequential colours of the count classes (light to dark), and of areas with none.
_COLOURS = ("#efedf5", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
_NONE = "#ffffff"


def _area_of(inv: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    """Each investment's area id: its ``area_id`` where it names an area, else where it lies.

    An investment in no area gets NA (counted separately by the caller, never dropped).
    """
    ids = areas["area_id"].astype(str)
    known = set(ids)
    out = pd.Series(pd.NA, index=inv.index, dtype="string")
    if "area_id" in inv.columns:
        own = inv["area_id"].astype("string")
        out = own.where(own.isin(known))
    geoms = inv.geometry.values
    todo = out.isna().to_numpy() & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if todo.any():
        pts = gpd.GeoDataFrame(geometry=inv.geometry[todo].representative_point(), crs=inv.crs)
        target = areas[["area_id", areas.geometry.name]].assign(area_id=ids.to_numpy())
        if target.crs is not None and pts.crs is not None and not target.crs.equals(pts.crs):
            target = target.to_crs(pts.crs)
        hit = gpd.sjoin(pts, target, how="left", predicate="within")
        hit = hit[~hit.index.duplicated(keep="first")]
        out.loc[hit.index] = hit["area_id"].astype("string")
    return out


def investment_area_totals(inv: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                           lang: str = "sv", relation: pd.DataFrame | None = None,
                           ) -> tuple[pd.DataFrame, int]:
    """Per area: the number of investments, money granted and spent, and the kinds.

    With ``relation`` (the investment -> area relation of the design, rows aligned with
    ``inv`` by position), an investment counts in every area it reaches and its money is split
    by share (:func:`trygg_geo.design.split_by_share`), as in the report; without it, each
    investment counts in the area it names or lies in. A row that repeats an earlier row
    exactly (``duplicate_of``) counts once.

    Parameters
    ----------
    inv
        Placed investments (``kind``, optional ``area_id``, ``granted_sek``, ``spent_sek``).
    areas
        The areas (``area_id``); every area gets a row, in their order (0 where none).
    lang
        Language of the kind labels.

    Returns
    -------
    tuple of pandas.DataFrame and int
        The table (``area_id``, ``n``, ``granted_sek``, ``spent_sek``, ``kinds``: "Belysning 12,
        Kamerabevakning 3", most frequent first) and the number of investments in no area.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> a = gpd.GeoDataFrame({"area_id": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
    ...                      crs="EPSG:3006")
    >>> i = gpd.GeoDataFrame({"kind": ["belysning", "belysning", "kamerabevakning"],
    ...                       "granted_sek": [10.0, 20.0, 5.0], "spent_sek": [8.0, None, 5.0]},
    ...                      geometry=[Point(0.5, 0.5), Point(0.2, 0.2), Point(5, 5)],
    ...                      crs="EPSG:3006")
    >>> t, outside = investment_area_totals(i, a)
    >>> t[["area_id", "n", "granted_sek", "spent_sek", "kinds"]].values.tolist(), outside
    ([['A', 2, 30.0, 8.0, 'Belysning 2'], ['B', 0, 0.0, 0.0, '']], 1)
    """
    keep = (inv["duplicate_of"].isna().to_numpy() if "duplicate_of" in inv.columns
            else np.ones(len(inv), dtype=bool))
    kinds = inv["kind"].astype("string").fillna(UNKNOWN_KIND.id) if "kind" in inv.columns \
        else pd.Series(UNKNOWN_KIND.id, index=inv.index, dtype="string")
    money = {c: (pd.to_numeric(inv[c], errors="coerce").to_numpy(dtype=float)
                 if c in inv.columns else np.full(len(inv), np.nan))
             for c in ("granted_sek", "spent_sek")}
    ids = areas["area_id"].astype(str).to_numpy()
    out = pd.DataFrame({"area_id": ids})
    use_links = (relation is not None and {"row", "area_id", "share"} <= set(relation.columns)
                 and (not len(relation) or int(relation["row"].max()) < len(inv)))
    if use_links:
        assert relation is not None  # for mypy
        reach = relation[keep[relation["row"].to_numpy()]]
        if "counted" in reach.columns:
            reach = reach[reach["counted"].astype(bool)]
        reach = reach.drop_duplicates(["row", "area_id"])
        rows = reach["row"].to_numpy()
        inside = pd.DataFrame({"area_id": reach["area_id"].astype(str).to_numpy(),
                               "kind": kinds.to_numpy()[rows]})
        for c, v in money.items():
            out[c] = split_by_share(relation, v, rows=keep).reindex(ids).fillna(0.0).to_numpy()
        linked = np.zeros(len(inv), dtype=bool)
        linked[relation["row"].to_numpy()] = True
        outside = int((keep & ~linked).sum())
    else:
        area = _area_of(inv, areas)
        frame = pd.DataFrame({"area_id": area.to_numpy(), "kind": kinds.to_numpy(), **money})
        frame = frame[keep]
        inside = frame[frame["area_id"].notna()]
        g = inside.groupby("area_id")
        for c in money:
            out[c] = g[c].sum(min_count=0).reindex(ids).fillna(0.0).to_numpy()
        outside = int(frame["area_id"].isna().sum())
    out["n"] = inside.groupby("area_id").size().reindex(ids).fillna(0).astype(int).to_numpy()
    out = out[["area_id", "n", "granted_sek", "spent_sek"]]
    per_kind = inside.groupby(["area_id", "kind"]).size()
    text: dict[str, str] = {}
    for aid, sub in per_kind.groupby(level=0):
        counts = sub.droplevel(0).sort_values(ascending=False, kind="stable")
        text[str(aid)] = ", ".join(f"{get_kind(str(k)).label(lang)} {fmt_number(v, 0, lang)}"
                                   for k, v in counts.items())
    out["kinds"] = [text.get(a, "") for a in ids]
    return out, outside


def _breaks(counts: np.ndarray) -> list[int]:
    """Upper bounds of up to five count classes (quantiles of the non-zero counts)."""
    pos = counts[counts > 0]
    if not len(pos):
        return []
    qs = np.quantile(pos, np.linspace(0.2, 1.0, len(_COLOURS)), method="higher")
    return sorted({int(np.ceil(q)) for q in qs})


def add_investment_areas(m: folium.Map, inv: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *,
                         t: Mapping[str, str], lang: str, max_markers: int, tolerance_m: float,
                         detail: str | None = None,
                         relation: pd.DataFrame | None = None) -> str:
    """Draw the investments as sums per area; return the legend HTML (the package's own text).

    ``t`` are the map texts (:data:`trygg_geo.maps.TEXT`), ``detail`` the GeoPackage file that
    holds every investment (named in the legend's note).
    """
    totals, outside = investment_area_totals(inv, areas, lang=lang, relation=relation)
    counts = totals["n"].to_numpy()
    breaks = _breaks(counts)
    colours = _COLOURS[len(_COLOURS) - len(breaks):] if breaks else ()

    def colour(n: int) -> str:
        if n <= 0:
            return _NONE
        return colours[int(np.searchsorted(breaks, n))] if breaks else _NONE

    geoms = _to_web(simplify_coverage(areas, tolerance_m=tolerance_m), _AREA_DECIMALS,
                    coverage=True)
    props: list[dict[str, Any]] = []
    for i, row in enumerate(totals.itertuples(index=False)):
        n = int(row.n)
        props.append({
            "name": _text(areas["name"].iloc[i]),
            "n": fmt_number(n, 0, lang),
            "granted": fmt_sek(row.granted_sek, lang=lang) if n else "",
            "spent": fmt_sek(row.spent_sek, lang=lang) if n else "",
            "kinds": row.kinds,
            "style": {"fillColor": colour(n), "fillOpacity": 0.75 if n else 0.15,
                      "color": "#3f007d", "weight": 1, "className": "tg-inv-area"},
        })
    fields = ["name", "n", "granted", "spent", "kinds"]
    aliases = [t["name"], t["inv_count"], t["granted"], t["spent"], t["inv_kinds"]]
    n_all = len(inv)
    folium.GeoJson(
        _collection(geoms, props),
        name=_esc(f"{t['inv_areas']} ({fmt_number(n_all, 0, lang)})"),
        style_function=lambda f: f["properties"]["style"],
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=_TextTooltip(fields=["name", "n"], aliases=[t["name"], t["inv_count"]],
                             localize=False, sticky=True),
        popup=_TextPopup(fields=fields, aliases=aliases, localize=False, max_width=380),
        zoom_on_click=False,
    ).add_to(m)
    rows = []
    lo = 1
    for hi, c in zip(breaks, colours, strict=True):
        label = fmt_number(lo, 0, lang) if hi == lo else \
            f"{fmt_number(lo, 0, lang)}\u2013{fmt_number(hi, 0, lang)}"
        rows.append(f'<div class="row"><span class="sw" style="background:{c}"></span>'
                    f"{_esc(label)}</div>")
        lo = hi + 1
    note = t["inv_aggregated"].format(n=fmt_number(n_all, 0, lang),
                                      limit=fmt_number(max_markers, 0, lang),
                                      source=detail or t["inv_detail_default"],
                                      layers=", ".join(DETAIL_LAYERS))
    if outside:
        note += " " + t["inv_outside"].format(n=fmt_number(outside, 0, lang))
    return (f"<h4>{_esc(t['inv_areas'])}</h4>" + "".join(rows)
            + f'<p class="tg-note">{_esc(note)}</p>')
