"""Investments x areas: point-in-area, apportioning, exposure, hierarchies, areal interpolation.

Rules that every function here follows
--------------------------------------
* **CRS.** Work happens in the areas' CRS, which must be projected (metres). Inputs in
  another CRS are reprojected (logged); inputs without a CRS are refused.
* **Boundaries.** A point on the boundary shared by several areas (or in an overlap) goes
  to exactly one of them: the one whose ``area_id`` sorts first (Python string order).
  The rule does not depend on row order, so it gives the same answer in memory and on dask.
* **Apportioning.** A line is split between areas by length, a polygon by area; a point
  belongs wholly to its area. Granted and spent SEK follow the same shares. A part outside
  every area is kept on a row with ``area_id`` NA, so totals are conserved. When shares
  add up to more than 1 (a line along a shared boundary, overlapping areas) they are
  scaled down to sum to 1, which splits a boundary line equally.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio.warp import transform_bounds
from rasterio.windows import from_bounds
from scipy import sparse
from tobler.area_weighted import _area_tables_binning

from trygg_geo._crs import require_crs
from trygg_geo._dask import assign_to_areas_dask
from trygg_geo._errors import InputError, MissingColumnError, MissingFileError, msg
from trygg_geo._overlay_core import CHUNK, area_ids, points_in_areas, to_areas_crs
from trygg_geo.areas import assign_parent, dissolve_hierarchy, match_area_keys, read_hierarchy
from trygg_geo.interventions import get_kind

__all__ = [
    "assign_parent",
    "assign_to_areas",
    "assign_to_areas_dask",
    "dissolve_hierarchy",
    "exposure",
    "interpolate_survey",
    "investments_by_area",
    "read_hierarchy",
]

log = logging.getLogger(__name__)

def assign_to_areas(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str = "area_id",
    chunk_size: int = CHUNK,
) -> pd.Series:
    """The area of each point: one id per point, NA outside every area.

    Candidates come from a bulk query of the areas' STRtree (``areas.sindex``) on bounding
    boxes; each candidate is then tested with ``shapely.intersects_xy`` against the
    prepared area polygon. This is several times faster than
    ``sindex.query(points, predicate="intersects")``, which prepares the points instead of
    the polygons (see ``benchmarks/bench_overlay.py``). Points on a boundary shared by
    several areas go to the area whose id sorts first (see the module notes).

    Parameters
    ----------
    points
        Points (a GeoSeries or GeoDataFrame). Missing or empty geometries give NA.
    areas
        Areas with unique ids, in a projected CRS. Points in another CRS are reprojected.
    area_id
        The id column of ``areas``.
    chunk_size
        Points per chunk (bounds the memory of the candidate pairs).

    Returns
    -------
    pandas.Series
        String dtype, named ``area_id``, aligned to ``points.index`` (same order).

    Raises
    ------
    CRSError, InputError
        Missing CRS; geometries that are not points (use :func:`investments_by_area`).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, Point
    >>> areas = gpd.GeoDataFrame(
    ...     {"area_id": ["b", "a"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=3006
    ... )
    >>> pts = gpd.GeoSeries([Point(0.5, 0.5), Point(1, 0.5), Point(5, 5)], crs=3006)
    >>> assign_to_areas(pts, areas).tolist()
    ['b', 'a', <NA>]
    """
    if hasattr(points, "dask") or type(points).__module__.startswith("dask"):
        return assign_to_areas_dask(points, areas, area_id=area_id)
    return points_in_areas(points, areas, area_id=area_id, chunk_size=chunk_size)


# --------------------------------------------------------------------------- investments

def _kind_column(inv: gpd.GeoDataFrame, kind: str) -> pd.Series:
    if kind not in inv:
        raise MissingColumnError(kind, found=[str(c) for c in inv.columns],
                                 accepted=("kind (catalogue id from trygg_geo.interventions)",))
    return inv[kind].astype("string").fillna("annat")


def _periods(inv: gpd.GeoDataFrame, periods: str | Sequence[int] | None, date_column: str
             ) -> pd.Series | None:
    if periods is None:
        return None
    if isinstance(periods, str) and periods != "year":
        if periods not in inv:
            raise MissingColumnError(periods, found=[str(c) for c in inv.columns])
        return inv[periods].astype("string").fillna("undated")
    dates = pd.Series(pd.NaT, index=inv.index, dtype="datetime64[ns]")
    for c in (date_column, "completed", "started"):
        if c in inv:
            dates = dates.fillna(pd.to_datetime(inv[c], errors="coerce"))
    year = dates.dt.year
    if isinstance(periods, str):  # "year"
        lab = year.map(lambda v: pd.NA if pd.isna(v) else str(int(v)))
        return lab.astype("string").fillna("undated")
    waves = sorted(int(w) for w in periods)
    labels = [f"..{waves[0] - 1}", *(f"{a}-{b - 1}" for a, b in pairwise(waves)), f"{waves[-1]}.."]
    idx = np.searchsorted(np.array(waves), year.to_numpy(dtype=float), side="right")
    lab = [
        labels[i] if not np.isnan(y) else "undated"
        for i, y in zip(idx, year.to_numpy(dtype=float), strict=True)
    ]
    return pd.Series(lab, index=inv.index, dtype="string")


def investments_by_area(
    investments: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    periods: str | Sequence[int] | None = None,
    area_id: str = "area_id",
    kind: str = "kind",
    date_column: str = "completed",
) -> pd.DataFrame:
    """Counts, lengths, areas and SEK of investments per area x kind (x period).

    Parameters
    ----------
    investments
        Points, lines and polygons (``GeocodeResult.placed``) with ``kind`` and optionally
        ``granted_sek`` and ``spent_sek``.
    areas
        Areas with unique ids in a projected CRS.
    periods
        ``None`` (no periods); the name of a column; ``"year"`` (the year of
        ``date_column``, falling back to ``completed`` then ``started``); or survey wave
        years such as ``[2015, 2018, 2021]``, which label each investment with the span
        between waves it was completed in (``"..2014"``, ``"2015-2017"``, ``"2018-2020"``,
        ``"2021.."``). Undated investments get ``"undated"``.

    Returns
    -------
    DataFrame
        One row per area x kind (x period), every combination of the areas and the kinds
        present (zeros where none), plus rows with ``area_id`` NA for the parts outside
        every area: ``area_id, kind, [period], n`` (investments touching the area: a line
        through two areas counts in both), ``n_share`` (sum of shares; adds up to the
        number of investments), ``length_m`` (lines), ``area_m2`` (polygons),
        ``granted_sek``, ``spent_sek`` (apportioned by share of geometry; missing amounts
        are left out of the sums). Summed over all rows, ``n_share``, ``granted_sek`` and
        ``spent_sek`` equal the input totals.
    """
    ids = area_ids(areas, area_id)
    inv = to_areas_crs(investments, areas, "investments").reset_index(drop=True)
    kinds = _kind_column(inv, kind)
    per = _periods(inv, periods, date_column)
    geoms = np.asarray(inv.geometry.values)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        which = inv.get("investment_id", pd.Series(inv.index, index=inv.index))[missing].tolist()
        raise InputError(
            f"{int(missing.sum())} investments have no geometry "
            f"({', '.join(map(str, which[:10]))}).",
            fix="pass GeocodeResult.placed; unplaced rows belong in the unplaced table.",
        )
    dim = shapely.get_dimensions(geoms)
    size = np.where(dim == 1, shapely.length(geoms), np.where(dim == 2, shapely.area(geoms), 0.0))
    pointlike = (dim == 0) | (size <= 0)
    polys = np.asarray(areas.geometry.values)

    pieces_inv: list[np.ndarray] = []
    pieces_area: list[np.ndarray] = []
    pieces_share: list[np.ndarray] = []
    pieces_len: list[np.ndarray] = []
    pieces_m2: list[np.ndarray] = []
    # points (multipoints split equally between their parts; degenerate lines/polygons as points)
    pidx = np.flatnonzero(pointlike)
    if len(pidx):
        pg = np.where(dim[pidx] == 0, geoms[pidx], shapely.point_on_surface(geoms[pidx]))
        parts, owner = shapely.get_parts(pg, return_index=True)
        weight = 1.0 / np.bincount(owner, minlength=len(pg))[owner]
        where = assign_to_areas(gpd.GeoSeries(parts, crs=areas.crs), areas, area_id=area_id)
        ok = where.notna().to_numpy()
        lookup = {a: i for i, a in enumerate(ids)}
        pieces_inv.append(pidx[owner[ok]])
        pieces_area.append(np.array([lookup[a] for a in where[ok]], dtype=np.int64))
        pieces_share.append(weight[ok])
        pieces_len.append(np.zeros(int(ok.sum())))
        pieces_m2.append(np.zeros(int(ok.sum())))
    # lines and polygons: intersection with each area
    gidx = np.flatnonzero(~pointlike)
    if len(gidx):
        ii, aa = areas.sindex.query(geoms[gidx], predicate="intersects")
        inter = shapely.intersection(geoms[gidx][ii], polys[aa])
        d = dim[gidx][ii]
        meas = np.where(d == 1, shapely.length(inter), shapely.area(inter))
        share = meas / size[gidx][ii]
        keep = share > 0
        pieces_inv.append(gidx[ii[keep]])
        pieces_area.append(aa[keep])
        pieces_share.append(share[keep])
        pieces_len.append(np.where(d == 1, meas, 0.0)[keep])
        pieces_m2.append(np.where(d == 2, meas, 0.0)[keep])
    pc = pd.DataFrame({
        "inv": np.concatenate(pieces_inv) if pieces_inv else np.array([], dtype=np.int64),
        "area": np.concatenate(pieces_area) if pieces_area else np.array([], dtype=np.int64),
        "share": np.concatenate(pieces_share) if pieces_share else np.array([]),
        "length_m": np.concatenate(pieces_len) if pieces_len else np.array([]),
        "area_m2": np.concatenate(pieces_m2) if pieces_m2 else np.array([]),
    })
    total = pc.groupby("inv")["share"].transform("sum")
    scale = np.where(total > 1.0, 1.0 / total, 1.0)
    pc["share"] *= scale
    pc["length_m"] *= scale
    pc["area_m2"] *= scale
    inside = pc.groupby("inv")["share"].sum().reindex(range(len(inv)), fill_value=0.0)
    outside = 1.0 - inside.to_numpy()
    out_idx = np.flatnonzero(outside > 1e-9)
    if len(out_idx):
        log.info("%d investments lie wholly or partly outside every area (kept with area_id NA)",
                 len(out_idx))
        o_len = np.where(dim[out_idx] == 1, size[out_idx] * outside[out_idx], 0.0)
        o_m2 = np.where(dim[out_idx] == 2, size[out_idx] * outside[out_idx], 0.0)
        pc = pd.concat([pc, pd.DataFrame({"inv": out_idx, "area": -1, "share": outside[out_idx],
                                          "length_m": o_len, "area_m2": o_m2})], ignore_index=True)
    pc["area_id"] = pd.array([ids[a] if a >= 0 else None for a in pc["area"]], dtype="string")
    pc["kind"] = kinds.to_numpy()[pc["inv"].to_numpy()]
    keys = ["area_id", "kind"]
    if per is not None:
        pc["period"] = per.to_numpy()[pc["inv"].to_numpy()]
        keys.append("period")
    for col in ("granted_sek", "spent_sek"):
        amount = inv[col].astype(float).to_numpy() if col in inv else np.full(len(inv), np.nan)
        pc[col] = amount[pc["inv"].to_numpy()] * pc["share"]
    pc["n"] = (pc["share"] > 0).astype(np.int64)
    agg = pc.groupby(keys, dropna=False, sort=False).agg(
        n=("n", "sum"), n_share=("share", "sum"), length_m=("length_m", "sum"),
        area_m2=("area_m2", "sum"), granted_sek=("granted_sek", lambda s: s.sum(min_count=1)),
        spent_sek=("spent_sek", lambda s: s.sum(min_count=1))).reset_index()
    grid_parts: list[pd.Series | np.ndarray] = [pd.array(ids, dtype="string"),
                                                 sorted(kinds.unique().tolist())]
    names = ["area_id", "kind"]
    if per is not None:
        grid_parts.append(sorted(per.unique().tolist()))
        names.append("period")
    grid = pd.MultiIndex.from_product(grid_parts, names=names).to_frame(index=False)
    res = grid.merge(agg, on=keys, how="outer", sort=False)
    res[["n", "n_share", "length_m", "area_m2"]] = res[
        ["n", "n_share", "length_m", "area_m2"]
    ].fillna(0)
    for col in ("granted_sek", "spent_sek"):
        had = inv[col].notna().any() if col in inv else False
        if had:
            res[col] = res[col].fillna(0.0)
    res["n"] = res["n"].astype(np.int64)
    res["area_id"] = res["area_id"].astype("string")
    res["kind"] = res["kind"].astype("string")
    rank = {a: i for i, a in enumerate(ids)}
    res["_o"] = res["area_id"].map(lambda a: rank.get(a, len(ids)) if pd.notna(a) else len(ids))
    res = res.sort_values(["_o", *keys[1:]], ignore_index=True).drop(columns="_o")
    return res


# --------------------------------------------------------------------------- population

def _population_points(population: gpd.GeoDataFrame | str | Path, crs: Any, bounds: np.ndarray,
                       column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Population as weighted points (x, y, weight) in ``crs``.

    From points with a count column, or a raster whose cell centres carry the cell values.
    """
    if isinstance(population, (str, Path)):
        if not Path(population).exists():
            raise MissingFileError(population, what="population raster")
        with rasterio.open(population) as src:
            require_crs(None if src.crs is None else CRS.from_user_input(src.crs),
                        what="the population raster", file=population,
                        fix=msg("err.raster_crs.fix"))
            b = transform_bounds(crs, src.crs, *bounds)
            win = from_bounds(*b, transform=src.transform).round_offsets().round_lengths()
            arr = src.read(1, window=win, masked=True, boundless=True, fill_value=0)
            tr = src.window_transform(win)
            rows, cols = np.nonzero(np.ma.filled(arr, 0) > 0)
            w = np.ma.filled(arr, 0)[rows, cols].astype(float)
            xs, ys = rasterio.transform.xy(tr, rows, cols, offset="center")
            t = Transformer.from_crs(src.crs, crs, always_xy=True)
            x, y = t.transform(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float))
            return np.asarray(x), np.asarray(y), w
    if not isinstance(population, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise TypeError("population must be a GeoDataFrame of points or the path of a raster.")
    require_crs(population, what="the population layer")
    pop = population.to_crs(crs)
    g = np.asarray(pop.geometry.values)
    if (shapely.get_type_id(g) != 0).any():
        raise InputError("population must be points (or a raster path); for population per polygon "
                         "use its .representative_point().", column=column)
    if isinstance(pop, gpd.GeoDataFrame):
        if column not in pop:
            raise MissingColumnError(column, found=[str(c) for c in pop.columns])
        w = pop[column].astype(float).to_numpy()
    else:
        w = np.ones(len(pop))
    return shapely.get_x(g), shapely.get_y(g), np.nan_to_num(w)


def exposure(
    areas: gpd.GeoDataFrame,
    investments: gpd.GeoDataFrame,
    *,
    distance_m: float | Mapping[str, float] | None,
    population: gpd.GeoDataFrame | str | Path | None = None,
    population_column: str = "population",
    area_id: str = "area_id",
    kind: str = "kind",
) -> pd.DataFrame:
    """Share of each area (and of its population) within a distance of each kind of investment.

    Parameters
    ----------
    areas
        Areas with unique ids in a projected CRS.
    investments
        Investments with ``kind`` (points, lines or polygons).
    distance_m
        Metres: one number, a mapping kind -> metres, or ``None`` for each kind's default
        radius in the catalogue (``trygg_geo.interventions``).
    population
        Points with a ``population_column`` count, or the path of a population raster (its
        cell centres carry the cell values; cells outside the areas' extent are not read).

    Returns
    -------
    DataFrame
        One row per area x kind: ``area_id, kind, distance_m, area_m2, exposed_m2,
        share_area`` and, with population, ``population, exposed_population,
        share_population`` (NaN where an area has no population).
    """
    ids = area_ids(areas, area_id)
    inv = to_areas_crs(investments, areas, "investments")
    kinds = _kind_column(inv, kind)
    polys = np.asarray(areas.geometry.values)
    a_m2 = shapely.area(polys)
    if population is not None:
        px, py, pw = _population_points(
            population, areas.crs, areas.total_bounds, population_column
        )
        parea = assign_to_areas(gpd.GeoSeries(gpd.points_from_xy(px, py), crs=areas.crs), areas,
                                area_id=area_id).to_numpy(dtype=object)
        pin = pd.notna(parea)
        pop_tot = pd.Series(pw[pin]).groupby(parea[pin]).sum()
    rows = []
    for k in sorted(kinds.unique().tolist()):
        d = (distance_m.get(k, get_kind(k).radius_m) if isinstance(distance_m, Mapping)
             else get_kind(k).radius_m if distance_m is None else float(distance_m))
        g = np.asarray(inv.geometry.values)[(kinds == k).to_numpy()]
        zone = shapely.union_all(shapely.buffer(g, d))
        shapely.prepare(zone)
        exposed = np.zeros(len(polys))
        hit = shapely.intersects(zone, polys)
        exposed[hit] = shapely.area(shapely.intersection(polys[hit], zone))
        part = pd.DataFrame({"area_id": pd.array(ids, dtype="string"), "kind": k, "distance_m": d,
                             "area_m2": a_m2, "exposed_m2": exposed, "share_area": exposed / a_m2})
        if population is not None:
            near = shapely.intersects_xy(zone, px, py) & pin
            pe = pd.Series(pw[near]).groupby(parea[near]).sum()
            part["population"] = part["area_id"].map(pop_tot).fillna(0.0).astype(float).to_numpy()
            part["exposed_population"] = (
                part["area_id"].map(pe).fillna(0.0).astype(float).to_numpy()
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                part["share_population"] = np.where(part["population"] > 0,
                                                    part["exposed_population"] / part["population"],
                                                    np.nan)
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    out["kind"] = out["kind"].astype("string")
    return out


# --------------------------------------------------------------------------- interpolation

def _weight_table(src: gpd.GeoDataFrame, tgt: gpd.GeoDataFrame,
                  population: gpd.GeoDataFrame | str | Path | None, column: str
                  ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """(S x T weights, source totals, target totals): areas (tobler) or population."""
    if population is None:
        table = _area_tables_binning(src, tgt, "auto").astype(np.float64)
        return table.tocsr(), shapely.area(np.asarray(src.geometry.values)), \
            shapely.area(np.asarray(tgt.geometry.values))
    px, py, pw = _population_points(population, tgt.crs, np.r_[np.minimum(src.total_bounds[:2],
                                    tgt.total_bounds[:2]), np.maximum(src.total_bounds[2:],
                                    tgt.total_bounds[2:])], column)
    pts = gpd.GeoSeries(gpd.points_from_xy(px, py), crs=tgt.crs)
    s_i = assign_to_areas(pts, src.assign(_k=np.arange(len(src)).astype(str)), area_id="_k")
    t_i = assign_to_areas(pts, tgt.assign(_k=np.arange(len(tgt)).astype(str)), area_id="_k")
    s_ok, t_ok = s_i.notna().to_numpy(), t_i.notna().to_numpy()
    s_tot = np.bincount(s_i[s_ok].astype(int).to_numpy(), weights=pw[s_ok], minlength=len(src))
    t_tot = np.bincount(t_i[t_ok].astype(int).to_numpy(), weights=pw[t_ok], minlength=len(tgt))
    both = s_ok & t_ok
    table = sparse.coo_matrix((pw[both], (s_i[both].astype(int).to_numpy(),
                                          t_i[both].astype(int).to_numpy())),
                              shape=(len(src), len(tgt))).tocsr()
    return table, s_tot, t_tot


def interpolate_survey(
    panel: pd.DataFrame,
    source_areas: gpd.GeoDataFrame,
    target_areas: gpd.GeoDataFrame,
    *,
    population: gpd.GeoDataFrame | str | Path | None = None,
    population_column: str = "population",
    source_id: str = "area_id",
    target_id: str = "area_id",
    min_n: int = 30,
) -> pd.DataFrame:
    """Move a survey panel from survey areas to target areas (areal interpolation).

    The weights are the areas of the intersections of source and target areas (tobler's
    area table), or, when ``population`` is given, the population in each intersection. For
    a target ``t`` and the sources ``s`` with a value in a cell (wave x indicator), with
    weights ``a_st`` and ``w_st = a_st / sum_s a_st``:

    * ``share_t = sum_s w_st share_s`` (tobler's intensive interpolation);
    * ``se_t = sqrt(sum_s w_st^2 se_s^2)`` (independent samples in different source areas);
    * ``n_eff_t = 1 / sum_s (w_st^2 / n_eff_s)``, the n of a simple random sample with the
      same variance when all shares are equal;
    * ``n_t = sum_s n_s a_st / A_s`` (respondents apportioned like an extensive variable,
      ``A_s`` the source's area or population);
    * ``coverage = sum_s a_st / A_t``, the part of the target (area or population)
      covered by source areas with a value.

    Parameters
    ----------
    panel
        Output of :func:`trygg_geo.survey.survey_panel` on the source areas. Its area keys
        are matched to ``source_id`` like :func:`trygg_geo.areas.match_area_keys` does
        (exactly, else ignoring case and diacritics, also against a ``name`` column).
    source_areas, target_areas
        Polygons with ids; the targets' CRS is used (sources are reprojected).
    population
        Population points (with ``population_column``) or a population raster path.
    min_n
        Target cells with ``n_eff < min_n`` are flagged ``suppressed``.

    Returns
    -------
    DataFrame
        ``area_id, wave, indicator, share, se, n, n_eff, suppressed, coverage, n_sources``:
        every target area x cell of the panel; targets not covered at all have coverage 0
        and NA values. ``n`` is fractional (apportioned respondents).
    """
    tgt = target_areas.reset_index(drop=True)
    t_ids = area_ids(tgt, target_id)
    src = to_areas_crs(source_areas, tgt, "source areas").reset_index(drop=True)
    s_ids = area_ids(src, source_id)
    for c in ("area_id", "wave", "indicator", "share", "se", "n_eff", "n"):
        if c not in panel:
            raise MissingColumnError(c, found=[str(x) for x in panel.columns],
                                     accepted=("the output of trygg_geo.survey.survey_panel",))
    pos = {a: i for i, a in enumerate(s_ids)}
    keys = match_area_keys(
        panel["area_id"], src.rename(columns={source_id: "_sid"}), area_id="_sid"
    )
    unknown = sorted(set(panel.loc[keys.isna().to_numpy(), "area_id"].astype(str)))
    if unknown:
        raise InputError(
            f"the panel has areas that are not in source_areas: {', '.join(unknown[:30])}.",
            fix="give the survey's own area layer as source_areas.",
        )
    panel = panel.assign(area_id=keys.to_numpy())
    table, s_tot, t_tot = _weight_table(src, tgt, population, population_column)
    t2 = table.multiply(table).tocsr()
    cells = panel[["wave", "indicator"]].drop_duplicates().sort_values(["wave", "indicator"],
                                                                      ignore_index=True)
    S, C = len(src), len(cells)
    cell_of = {
        (int(w), str(i)): j
        for j, (w, i) in enumerate(zip(cells["wave"], cells["indicator"], strict=True))
    }
    P, SE2, N, INV = (np.zeros((S, C)) for _ in range(4))
    V = np.zeros((S, C))
    si = panel["area_id"].astype(str).map(pos).to_numpy()
    cj = np.array(
        [cell_of[(int(w), str(i))] for w, i in zip(panel["wave"], panel["indicator"], strict=True)]
    )
    share = panel["share"].astype(float).to_numpy()
    valid = np.isfinite(share) & (panel["n_eff"].astype(float).to_numpy() > 0)
    P[si, cj] = np.where(valid, share, 0.0)
    SE2[si, cj] = np.where(valid, panel["se"].astype(float).to_numpy() ** 2, 0.0)
    N[si, cj] = np.where(valid, panel["n"].astype(float).to_numpy(), 0.0)
    INV[si, cj] = np.where(valid, 1.0 / panel["n_eff"].astype(float).to_numpy(), 0.0)
    V[si, cj] = valid
    tt = table.T.tocsr()
    cov = np.asarray(tt @ V)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_t = np.asarray(tt @ (V * P)) / cov
        se_t = np.sqrt(np.asarray(t2.T @ SE2)) / cov
        neff_t = cov ** 2 / np.asarray(t2.T @ INV)
        s_den = np.where(s_tot > 0, 1.0 / s_tot, 0.0)
        n_t = np.asarray(tt @ (N * s_den[:, None]))
        coverage = cov / np.where(t_tot > 0, t_tot, np.nan)[:, None]
    n_src = np.asarray((table > 0).astype(np.float64).T @ V)
    T = len(tgt)
    out = pd.DataFrame(
        {
            "area_id": pd.array(np.repeat(t_ids, C), dtype="string"),
            "wave": np.tile(cells["wave"].astype("int64").to_numpy(), T),
            "indicator": pd.array(
                np.tile(cells["indicator"].astype(str).to_numpy(), T), dtype="string"
            ),
            "share": share_t.ravel(),
            "se": se_t.ravel(),
            "n": n_t.ravel(),
            "n_eff": neff_t.ravel(),
            "coverage": np.nan_to_num(coverage.ravel()),
            "n_sources": n_src.ravel().astype(np.int64),
        }
    )
    none = out["n_sources"] == 0
    out.loc[none, ["share", "se", "n_eff"]] = np.nan
    out["suppressed"] = ~(out["n_eff"] >= min_n)
    low = out.loc[out["coverage"] < 0.99, "area_id"].nunique()
    if low:
        log.info(
            "%d target areas are less than 99%% covered by the survey areas (see 'coverage')", low
        )
    cols = ["area_id", "wave", "indicator", "share", "se", "n", "n_eff", "suppressed", "coverage",
            "n_sources"]
    return out[cols]
