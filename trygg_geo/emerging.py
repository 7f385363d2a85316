r"""Hot spots over time: did an unsafe place appear, persist, grow or disappear.

:func:`emerging_hot_spots` builds a space-time cube: one fixed square grid over all points,
and per period (years, or the periods you give) the count of points per cell. Each period gets
its own Getis-Ord Gi\* (:func:`trygg_geo.hotspots.hot_spots`, with the same grid, the same
distance band and the FDR correction), and each cell's series of Gi\* z-scores gets a
Mann-Kendall trend test (Kendall's tau between period and z, :func:`scipy.stats.kendalltau`;
exact p-values for short series), with the Benjamini-Hochberg FDR correction over the cells.
The classes follow ArcGIS Pro's *Emerging Hot Spot Analysis* for hot spots:

``new``
    Hot in the last period only.
``consecutive``
    Hot in an unbroken run of at least two periods ending in the last, never hot before it,
    and hot in fewer than 90 % of the periods.
``intensifying`` / ``persistent`` / ``diminishing``
    Hot in at least 90 % of the periods, the last included, with a significantly increasing
    / no significant / a significantly decreasing trend of Gi\* z.
``sporadic``
    Hot in the last period, on and off before, never cold.
``oscillating``
    Hot in the last period and cold in some earlier one.
``historical``
    Not hot in the last period, but hot in at least 90 % of the earlier ones.
``disappeared``
    Hot in some earlier period, not in the last, and not historical.
``no_pattern``
    Never hot.

With only two periods there is no trend test; the two-period classes are ``new`` (hot in the
second only), ``disappeared`` (in the first only), and, hot in both, ``intensifying`` or
``diminishing`` when the cell's share of all points changed significantly (a conditional
binomial test of its two counts at ``alpha``) and ``persistent`` otherwise.

The Mann-Kendall test needs five periods or more to reach ``p <= 0.05`` (with four, the
smallest two-sided exact p-value is 1/12); with three or four periods the trend classes can
still be reported but are never significant, and a warning says so.

References
----------
Esri, *How Emerging Hot Spot Analysis works* (ArcGIS Pro documentation): the space-time cube,
the Mann-Kendall trend of Gi\* z and the pattern categories.
Mann, H. B. (1945). Nonparametric tests against trend. *Econometrica* 13(3), 245-259.
Kendall, M. G. (1975). *Rank Correlation Methods*. Griffin.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from trygg_geo._errors import DataQualityWarning, InputError, MissingColumnError
from trygg_geo.density import _check_points
from trygg_geo.hotspots import _grid_units, hot_spots

__all__ = ["EMERGING_CLASSES", "EmergingHotSpots", "emerging_hot_spots"]

log = logging.getLogger(__name__)

#: The classes of :func:`emerging_hot_spots`, in legend order.
EMERGING_CLASSES = ("new", "consecutive", "intensifying", "persistent", "diminishing",
                    "sporadic", "oscillating", "historical", "disappeared", "no_pattern")
_MOSTLY = 0.9  # ArcGIS: "at least ninety percent of the time-step intervals"


@dataclass(frozen=True)
class EmergingHotSpots:
    """A space-time cube of Gi* hot spots and each cell's pattern over the periods.

    Attributes
    ----------
    cells
        One row per grid cell (GeoDataFrame in the points' CRS): ``cell_id``, ``row``,
        ``col``, per period ``count_<p>``, ``z_<p>`` and ``class_<p>`` (``hot``, ``cold``,
        ``ns``), then ``n_hot`` (periods hot), ``trend_tau``, ``trend_p`` (Mann-Kendall),
        ``trend_q`` (FDR-adjusted), ``trend`` (``up``, ``down``, ``none``), ``pattern`` (see
        the module) and ``geometry``.
    periods
        The period labels, in time order.
    cell_size, distance_band
        The grid and the Gi* neighbourhood (metres).
    alpha
        Significance level of the per-period classes and of the trend.
    """

    cells: gpd.GeoDataFrame
    periods: tuple[str, ...]
    cell_size: float
    distance_band: float
    alpha: float

    def counts(self) -> pd.Series:
        """Cells per pattern (every pattern listed)."""
        return self.cells["pattern"].value_counts().reindex(list(EMERGING_CLASSES),
                                                            fill_value=0)

    def spots(self) -> gpd.GeoDataFrame:
        """The cells with a pattern other than ``no_pattern``, dissolved per pattern.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per pattern present: ``pattern``, ``n_cells``, ``count_total`` (points in
            those cells over all periods) and the dissolved geometry.
        """
        sel = self.cells[self.cells["pattern"] != "no_pattern"]
        count_cols = [f"count_{p}" for p in self.periods]
        if sel.empty:
            return gpd.GeoDataFrame({"pattern": [], "n_cells": [], "count_total": []},
                                    geometry=gpd.GeoSeries([], crs=self.cells.crs))
        frame = sel.assign(count_total=sel[count_cols].sum(axis=1), n_cells=1)
        out = frame.dissolve(by="pattern", aggfunc={"n_cells": "sum", "count_total": "sum"})
        out = out.reset_index()
        order = {c: i for i, c in enumerate(EMERGING_CLASSES)}
        out = out.sort_values("pattern", key=lambda s: s.map(order)).reset_index(drop=True)
        return gpd.GeoDataFrame(out[["pattern", "n_cells", "count_total", "geometry"]],
                                geometry="geometry", crs=self.cells.crs)


def _period_labels(when: pd.Series, periods: int | Sequence[Any] | None) -> pd.Series:
    """Each point's period label: the year, or the bin of ``periods`` (dates as edges)."""
    dates = pd.to_datetime(when, errors="coerce")
    if periods is None:
        return dates.dt.year.astype("Int64").astype("string")
    if isinstance(periods, int):
        edges = pd.date_range(dates.min(), dates.max() + pd.Timedelta(seconds=1),
                              periods=periods + 1)
    else:
        edges = pd.DatetimeIndex(pd.to_datetime(list(periods)))
    labels = [f"{a:%Y-%m-%d}_{b:%Y-%m-%d}" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    cut = pd.cut(dates, bins=edges, labels=labels, right=False)
    return cut.astype("string")


def _pattern(hot: np.ndarray, cold: np.ndarray, trend: np.ndarray) -> np.ndarray:  # noqa: C901
    """The pattern of every cell from its per-period hot/cold flags (cells x periods)."""
    n_cells, t = hot.shape
    out = np.full(n_cells, "no_pattern", dtype=object)
    for i in range(n_cells):
        h = hot[i]
        if not h.any():
            continue
        share = h.mean()
        if h[-1]:
            if h.sum() == 1:
                out[i] = "new"
            elif share >= _MOSTLY:
                out[i] = {"up": "intensifying", "down": "diminishing"}.get(trend[i],
                                                                            "persistent")
            else:
                run = int(np.argmin(h[::-1])) if not h.all() else t
                if run >= 2 and not h[: t - run].any():
                    out[i] = "consecutive"
                elif cold[i].any():
                    out[i] = "oscillating"
                else:
                    out[i] = "sporadic"
        else:
            out[i] = "historical" if t > 2 and h[:-1].mean() >= _MOSTLY else "disappeared"
    return out


def _two_period_trend(c1: np.ndarray, c2: np.ndarray, alpha: float) -> np.ndarray:
    """``up``/``down``/``none``: a cell's share of all points changed between the periods."""
    n1, n2 = c1.sum(), c2.sum()
    p0 = n2 / (n1 + n2) if n1 + n2 else 0.5
    out = np.full(len(c1), "none", dtype=object)
    for i, (a, b) in enumerate(zip(c1, c2, strict=True)):
        if a + b == 0:
            continue
        p = stats.binomtest(int(b), int(a + b), p0).pvalue
        if p <= alpha:
            out[i] = "up" if b / (a + b) > p0 else "down"
    return out


def _mann_kendall(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kendall's tau and its p-value between period and each cell's z (cells x periods).

    A cell whose z is the same in every period gets tau 0 and p 1. Without ties, tau and the
    (exact) p-value depend only on the number of discordant pairs, so :func:`scipy.stats.
    kendalltau` is asked once per such number, for one cell that has it; a cell with tied or
    non-finite values is asked on its own, with the tie-corrected normal approximation (the
    exact distribution assumes no ties; scipy refuses it).
    """
    n_cells, n_t = z.shape
    t = np.arange(n_t)
    method = "exact" if n_t <= 30 else "auto"
    tau = np.empty(n_cells)
    p = np.empty(n_cells)
    flat = np.ptp(z, axis=1) == 0
    tau[flat], p[flat] = 0.0, 1.0
    a, b = np.triu_indices(n_t, k=1)  # the pairs of periods, earlier first
    later, earlier = z[:, b], z[:, a]
    plain = ~flat & np.isfinite(z).all(axis=1) & (later != earlier).all(axis=1)
    dis = (later < earlier).sum(axis=1)
    for d in np.unique(dis[plain]).tolist():
        rows = np.flatnonzero(plain & (dis == d))
        r = stats.kendalltau(t, z[rows[0]], method=method)
        tau[rows], p[rows] = float(r.statistic), float(r.pvalue)
    for i in np.flatnonzero(~flat & ~plain).tolist():
        # ties (two periods with the same z, e.g. the same counts around the cell): the exact
        # distribution does not hold, so the normal approximation with the tie correction
        # (tau-b) is used, as scipy's "auto" does
        r = stats.kendalltau(t, z[i], method="auto")
        tau[i], p[i] = float(r.statistic), float(r.pvalue)
    return tau, p


def emerging_hot_spots(
    points: gpd.GeoDataFrame,
    *,
    time_column: str = "date",
    periods: int | Sequence[Any] | None = None,
    cell_size: float = 250.0,
    distance_band: float | None = None,
    alpha: float = 0.05,
    permutations: int = 499,
    seed: int | None = 0,
    p_value: str = "normal",
) -> EmergingHotSpots:
    """Classify grid cells as new, persistent, intensifying ... hot spots over time.

    Parameters
    ----------
    points
        Incident or report points in a projected CRS with a date column.
    time_column
        The date column (anything :func:`pandas.to_datetime` reads).
    periods
        ``None``: one period per calendar year. An int: that many equal periods between the
        first and last date. A sequence of dates: the period edges (left-closed), e.g. the
        survey waves or the dates before and after an investment.
    cell_size, distance_band
        Grid cell side and Gi* neighbourhood in metres (default ``1.5 * cell_size``: the 3 x 3
        block of cells).
    alpha
        Significance level of the per-period hot spots (after FDR) and of the trend (after
        FDR over cells).
    permutations, seed
        Conditional permutations of each period's Gi* (see :func:`hot_spots`). With
        ``p_value="normal"`` the classes use the analytic z only, so the permutations are not
        run (they would change nothing in the result).
    p_value
        How each period's Gi* is tested (see :func:`hot_spots`). Default ``"normal"``: the
        analytic Gi* z, as ArcGIS's emerging hot spot analysis uses. The conditional
        permutation z (``"z_sim"``, the default of :func:`hot_spots`) holds each cell's own
        count fixed, so a place concentrated in one or two cells is rarely significant in a
        single period, and the patterns over time lose most of their power (a planted place
        of 50 reports a year was found in two of eight years).

    Returns
    -------
    EmergingHotSpots

    Raises
    ------
    MissingColumnError
        ``time_column`` is missing.
    InputError
        Fewer than two periods hold points, or dates that cannot be read (the rows named).

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> frames = []
    >>> for year in range(2019, 2025):
    ...     xy = rng.uniform(0, 2000, size=(150, 2))
    ...     if year == 2024:  # a cluster appears in the last year
    ...         xy = np.vstack([xy, rng.normal(1000, 60, size=(60, 2))])
    ...     frames.append(pd.DataFrame({"x": xy[:, 0] + 670000, "y": xy[:, 1] + 6580000,
    ...                                 "date": f"{year}-06-01"}))
    >>> df = pd.concat(frames)
    >>> pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs=3006)
    >>> res = emerging_hot_spots(pts, cell_size=250, permutations=99)
    >>> res.periods
    ('2019', '2020', '2021', '2022', '2023', '2024')
    >>> centre = res.cells[res.cells.intersects(gpd.points_from_xy([671000], [6581000])[0])]
    >>> sorted(set(centre["pattern"]))  # the four cells meeting at the cluster's centre
    ['new']
    >>> int((res.cells["pattern"] != "no_pattern").sum()) <= 16
    True
    """
    _check_points(points)
    if time_column not in points.columns:
        raise MissingColumnError(time_column, found=[str(c) for c in points.columns])
    label = _period_labels(points[time_column], periods)
    bad = label.isna()
    if bad.any():
        rows = ", ".join(str(i) for i in points.index[bad.to_numpy()][:10])
        raise InputError(
            f"{int(bad.sum())} point(s) have a date that cannot be read or lies outside the "
            f"periods (rows {rows}).", column=time_column,
            fix="correct the dates, or give periods that cover them",
        )
    order = sorted(label.unique())
    if len(order) < 2:
        raise InputError(f"the points span {len(order)} period(s); hot spots over time need "
                         "at least two.", column=time_column,
                         fix="give more periods, or use hot_spots() for one period")
    if len(order) in (3, 4):
        warnings.warn(
            f"{len(order)} periods: the Mann-Kendall trend cannot reach p <= {alpha} with "
            "fewer than five, so no cell is intensifying or diminishing.",
            DataQualityWarning, stacklevel=2)
    xy = np.column_stack([points.geometry.x, points.geometry.y])
    grid, _ = _grid_units(xy, float(cell_size), points.crs)
    band = float(distance_band) if distance_band is not None else 1.5 * float(cell_size)
    units = grid.rename(columns={"cell_id": "area_id"})[["area_id", "geometry"]]
    z = np.zeros((len(grid), len(order)))
    hot = np.zeros_like(z, dtype=bool)
    cold = np.zeros_like(z, dtype=bool)
    counts = np.zeros_like(z, dtype=np.int64)
    # the permutations only give each period's gi_p_sim, which no class here reads
    valid = isinstance(permutations, int | np.integer) and permutations >= 0
    perms = 0 if p_value == "normal" and valid else permutations
    for j, period in enumerate(order):
        sub = points[(label == period).to_numpy()]
        res = hot_spots(sub, areas=units, distance_band=band, alpha=alpha, fdr=True,
                        permutations=perms, seed=seed, p_value=p_value)
        cells = res.cells.set_index("area_id").reindex(grid["cell_id"])
        z[:, j] = cells["gi_z"].to_numpy(dtype=float)
        hot[:, j] = (cells["gi_class"] == "hot").to_numpy()
        cold[:, j] = (cells["gi_class"] == "cold").to_numpy()
        counts[:, j] = cells["count"].to_numpy(dtype=np.int64)
    if len(order) == 2:
        trend = _two_period_trend(counts[:, 0], counts[:, 1], alpha)
        tau = np.full(len(grid), np.nan)
        p = np.full(len(grid), np.nan)
        q = p.copy()
    else:
        tau, p = _mann_kendall(z)
        q = multipletests(p, alpha=alpha, method="fdr_bh")[1]
        trend = np.where(q <= alpha, np.where(tau > 0, "up", "down"), "none").astype(object)
    out = grid.copy()
    for j, period in enumerate(order):
        out[f"count_{period}"] = counts[:, j]
        out[f"z_{period}"] = z[:, j]
        out[f"class_{period}"] = np.where(hot[:, j], "hot", np.where(cold[:, j], "cold", "ns"))
    out["n_hot"] = hot.sum(axis=1)
    out["trend_tau"], out["trend_p"], out["trend_q"], out["trend"] = tau, p, q, trend
    out["pattern"] = _pattern(hot, cold, trend)
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    result = EmergingHotSpots(cells=gpd.GeoDataFrame(out, geometry="geometry", crs=points.crs),
                              periods=tuple(str(p) for p in order), cell_size=float(cell_size),
                              distance_band=band, alpha=alpha)
    log.info("emerging hot spots over %d periods, %d cells: %s", len(order), len(grid),
             ", ".join(f"{k} {v}" for k, v in result.counts().items() if v))
    return result
