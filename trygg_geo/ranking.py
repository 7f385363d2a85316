"""Where to act next (``forslag_platser``): a transparent ranking of candidate places.

:func:`rank_places` scores candidate places (grid cells, or the areas you give) on four
inputs a planner already weighs:

``reports``
    Reported unsafety: resident reports (safety walks, app reports) in the place.
``incidents``
    Incident density: incidents per hectare in the place.
``dark_m``
    Metres of dark path in the place (:func:`trygg_geo.darkpaths.dark_paths`).
``no_investment``
    Absence of recent investments: 1 when no investment completed in the last
    ``recent_years`` lies within the place, else 0.

Each input is turned into a score from 0 to 1 by its percentile rank among the candidates
(ties share the mean rank; an input that is zero everywhere scores 0), and the weighted mean of
the scores orders the places. The weights are configurable and written beside every row, and
so are the raw inputs: the ranking is a decision aid, not a verdict, and a planner can see
why a place ranks where it does and disagree.

Privacy: counts of reports and incidents below ``min_count`` (default 3) are published as
empty (``reports_suppressed`` / ``incidents_suppressed``) and score as zero, so a single
report cannot be located from the layer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygg_geo._crs import require_projected
from trygg_geo._errors import InputError

__all__ = ["DEFAULT_WEIGHTS", "RANK_INPUTS", "rank_places"]

log = logging.getLogger(__name__)

#: The inputs of the ranking, in the order the popup shows them.
RANK_INPUTS = ("reports", "incidents", "dark_m", "no_investment")
#: Default weights: what residents report counts most, then incidents, then dark paths.
DEFAULT_WEIGHTS: dict[str, float] = {"reports": 0.35, "incidents": 0.3, "dark_m": 0.25,
                                     "no_investment": 0.1}


def _candidates(layers: list[gpd.GeoDataFrame], cell_size: float, crs: Any) -> gpd.GeoDataFrame:
    bounds = np.array([g.to_crs(crs).total_bounds for g in layers if len(g)])
    if not len(bounds):
        raise InputError("no reports, incidents or dark paths to rank places by",
                         fix="give at least one of reports=, incidents=, dark_paths=")
    x0 = math.floor(bounds[:, 0].min() / cell_size) * cell_size
    y0 = math.floor(bounds[:, 1].min() / cell_size) * cell_size
    nx = max(1, math.ceil((bounds[:, 2].max() - x0) / cell_size))
    ny = max(1, math.ceil((bounds[:, 3].max() - y0) / cell_size))
    cc, rr = np.meshgrid(np.arange(nx), np.arange(ny))
    xs, ys = x0 + cc.ravel() * cell_size, y0 + rr.ravel() * cell_size
    return gpd.GeoDataFrame({"place_id": [f"r{r}k{c}" for r, c in zip(rr.ravel(), cc.ravel(),
                                                                       strict=True)]},
                            geometry=shapely.box(xs, ys, xs + cell_size, ys + cell_size), crs=crs)


def _count_in(units: gpd.GeoDataFrame, points: gpd.GeoDataFrame | None) -> np.ndarray:
    if points is None or points.empty:
        return np.zeros(len(units))
    pts = points.to_crs(units.crs).geometry.to_numpy()
    tree = shapely.STRtree(units.geometry.to_numpy())
    pi, ui = tree.query(pts, predicate="intersects")
    first = pd.Series(ui).groupby(pi).min()  # a point on a shared edge counts once
    return np.bincount(first.to_numpy(), minlength=len(units)).astype(float)


def _length_in(units: gpd.GeoDataFrame, lines: gpd.GeoDataFrame | None) -> np.ndarray:
    if lines is None or lines.empty:
        return np.zeros(len(units))
    geoms = lines.to_crs(units.crs).geometry.to_numpy()
    tree = shapely.STRtree(units.geometry.to_numpy())
    li, ui = tree.query(geoms, predicate="intersects")
    lengths = shapely.length(shapely.intersection(geoms[li], units.geometry.to_numpy()[ui]))
    return np.bincount(ui, weights=lengths, minlength=len(units))


def _score(values: np.ndarray) -> np.ndarray:
    if not np.any(values > 0):
        return np.zeros(len(values))
    return pd.Series(values).rank(method="average", pct=True).to_numpy() * (values > 0)


def rank_places(  # noqa: C901 - one input after another, kept together for reading
    *,
    reports: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    dark_paths: gpd.GeoDataFrame | None = None,
    investments: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    cell_size: float = 250.0,
    weights: Mapping[str, float] | None = None,
    recent_years: int = 3,
    today: pd.Timestamp | str | None = None,
    min_count: int = 3,
    top: int | None = 20,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Rank candidate places by reports, incidents, dark paths and missing investments.

    Parameters
    ----------
    reports, incidents
        Point layers (projected CRS).
    dark_paths
        The dark pieces of path (``DarkPaths.paths[DarkPaths.paths["dark"]]``), lines.
    investments
        The placed investments with ``completed`` (dates); any geometry.
    areas
        Candidate places as polygons with ``area_id`` (and ``name``); default: a grid of
        ``cell_size`` over the inputs.
    weights
        Weight per input (:data:`RANK_INPUTS`); missing inputs weigh 0, the rest are
        normalised to sum to 1. Default :data:`DEFAULT_WEIGHTS`.
    recent_years, today
        An investment completed within ``recent_years`` before ``today`` (default: the
        latest date among the reports and incidents, else now) counts as recent.
    min_count
        Counts below this are not published and score as zero.
    top
        Keep the ``top`` best-ranked places with a positive score (None: all candidates).
    crs
        The working CRS (default: that of the first layer given).

    Returns
    -------
    geopandas.GeoDataFrame
        ``rank``, ``place_id`` (or ``area_id``/``name``), ``score`` (0-1), per input the raw
        value (``reports``, ``incidents_per_ha``, ``dark_m``, ``recent_investments``) and its
        score (``score_<input>``), ``reports_suppressed``, ``incidents_suppressed``,
        ``weights`` (text, e.g. ``"reports 0.35, incidents 0.30, ..."``) and the polygon.

    Examples
    --------
    >>> import geopandas as gpd
    >>> rep = gpd.GeoDataFrame(geometry=gpd.points_from_xy([10, 20, 30, 510], [10] * 4),
    ...                        crs=3011)
    >>> out = rank_places(reports=rep, cell_size=250, min_count=3)
    >>> out[["rank", "place_id", "reports"]].values.tolist()
    [[1, 'r0k0', 3.0]]
    """
    layers = [g for g in (reports, incidents, dark_paths, investments) if g is not None]
    if areas is None and not layers:
        raise InputError("nothing to rank: give reports, incidents or dark paths")
    work = require_projected(crs if crs is not None else (layers[0].crs if layers else
                                                          areas.crs),  # type: ignore[union-attr]
                             what="the ranking's working CRS")
    given = {"reports": reports is not None, "incidents": incidents is not None,
             "dark_m": dark_paths is not None, "no_investment": investments is not None}
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(RANK_INPUTS)
    if unknown:
        raise InputError(f"unknown ranking weight(s): {', '.join(sorted(unknown))}",
                         key="places.weights", fix=f"use {', '.join(RANK_INPUTS)}")
    if any(not np.isfinite(v) or v < 0 for v in w.values()):
        raise InputError("ranking weights must be numbers >= 0", key="places.weights")
    w = {k: (float(w.get(k, 0.0)) if given[k] else 0.0) for k in RANK_INPUTS}
    total = sum(w.values())
    if total <= 0:
        raise InputError("every given input has weight 0", key="places.weights")
    w = {k: v / total for k, v in w.items()}
    if areas is not None:
        units = areas.to_crs(work)[[c for c in ("area_id", "name") if c in areas] + ["geometry"]]
        units = units.reset_index(drop=True)
    else:
        units = _candidates([g for g in (reports, incidents, dark_paths) if g is not None],
                            float(cell_size), work)
    out = units.copy()
    n_rep = _count_in(units, reports)
    n_inc = _count_in(units, incidents)
    rep_sup = (n_rep > 0) & (n_rep < min_count)
    inc_sup = (n_inc > 0) & (n_inc < min_count)
    n_rep_pub = np.where(rep_sup, 0.0, n_rep)
    n_inc_pub = np.where(inc_sup, 0.0, n_inc)
    ha = units.geometry.area.to_numpy() / 10_000
    # an input that was not given is empty (NaN), not zero
    out["reports"] = np.where(rep_sup, np.nan, n_rep) if given["reports"] else np.nan
    out["reports_suppressed"] = rep_sup
    out["incidents_per_ha"] = (np.where(inc_sup, np.nan, n_inc / ha) if given["incidents"]
                               else np.nan)
    out["incidents_suppressed"] = inc_sup
    dark_m = _length_in(units, dark_paths)
    out["dark_m"] = dark_m if given["dark_m"] else np.nan
    if investments is not None and len(investments):
        done = pd.to_datetime(investments.get("completed"), errors="coerce")
        end = pd.Timestamp(today) if today is not None else max(
            [pd.to_datetime(g["date"], errors="coerce").max() for g in (reports, incidents)
             if g is not None and "date" in g] or [pd.Timestamp.now()])
        recent = investments[(done > end - pd.DateOffset(years=recent_years)).to_numpy()
                             & (done <= end).to_numpy()]
        tree = shapely.STRtree(units.geometry.to_numpy())
        _, ui = tree.query(recent.to_crs(work).geometry.to_numpy(), predicate="intersects")
        out["recent_investments"] = np.bincount(ui, minlength=len(units))
    else:
        out["recent_investments"] = 0
    scores = {
        "reports": _score(n_rep_pub),
        "incidents": _score(n_inc_pub / ha),
        "dark_m": _score(dark_m),
        "no_investment": (out["recent_investments"].to_numpy() == 0).astype(float),
    }
    for k in RANK_INPUTS:
        out[f"score_{k}"] = scores[k] if given[k] else np.nan
    out["score"] = sum(w[k] * scores[k] for k in RANK_INPUTS)
    # a place with nothing but "no investment" is no candidate
    evidence = sum(scores[k] for k in ("reports", "incidents", "dark_m"))
    out.loc[evidence <= 0, "score"] = 0.0
    out["weights"] = ", ".join(f"{k} {w[k]:.2f}" for k in RANK_INPUTS if given[k])
    out = out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    if top is not None:
        out = out[(out["score"] > 0) & (out["rank"] <= top)]
    log.info("ranked %d candidate places (%s); kept %d", len(units),
             out["weights"].iloc[0] if len(out) else "-", len(out))
    cols = [c for c in out.columns if c != "geometry"] + ["geometry"]
    return gpd.GeoDataFrame(out[cols], geometry="geometry", crs=work)
