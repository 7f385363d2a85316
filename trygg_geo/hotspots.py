r"""Hot and cold spots of incidents (Getis-Ord Gi*): the "otrygga platser".

:func:`hot_spots` counts incident or citizen-report points per cell of a regular square grid
(or per area), computes the local Getis-Ord Gi* statistic of the counts with
:class:`esda.G_Local` (``star=True``, binary ``libpysal`` weights), tests it by conditional
permutation (seeded), optionally controls the false discovery rate (Benjamini & Hochberg 1995,
via :func:`esda.fdr`), and classifies every unit as a hot spot, cold spot or not significant,
with ArcGIS's confidence bins. :meth:`HotSpotResult.hot_spots` dissolves contiguous hot units
into the polygons of the ``otrygga_platser`` layer.

References
----------
Getis, A. & Ord, J. K. (1992). The analysis of spatial association by use of distance
statistics. *Geographical Analysis* 24(3), 189-206.
Ord, J. K. & Getis, A. (1995). Local spatial autocorrelation statistics: distributional issues
and an application. *Geographical Analysis* 27(4), 286-306.
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *Journal of the Royal
Statistical Society B* 57(1), 289-300.
Esri, *How Hot Spot Analysis (Getis-Ord Gi\*) works* (ArcGIS Pro documentation): the
``Gi_Bin`` confidence classes and the FDR correction per confidence level.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal import weights as lw
from libpysal.weights import min_threshold_distance
from scipy import stats
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from trygg_geo._crs import require_projected
from trygg_geo._errors import (
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
    TryggGeoWarning,
)
from trygg_geo.density import _check_points

__all__ = ["CONFIDENCE_LEVELS", "GI_CLASSES", "HotSpotResult", "hot_spots"]

logger = logging.getLogger(__name__)

#: Significance levels of the gi_bin classes 1, 2, 3 (90, 95 and 99 % confidence).
CONFIDENCE_LEVELS: tuple[float, float, float] = (0.10, 0.05, 0.01)
#: Values of ``gi_class``.
GI_CLASSES: tuple[str, str, str] = ("hot", "cold", "ns")

_DEFAULT_BAND_CELLS = 1.5
_BIN_NAMES = {3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "not_significant", -1: "cold_90",
              -2: "cold_95", -3: "cold_99"}
_MAX_SIMULATIONS = 100_000_000  # units x permutations kept for p_value='z_sim' (800 MB)


@dataclass(frozen=True)
class HotSpotResult:
    """Gi* hot and cold spots per grid cell or area.

    Attributes
    ----------
    cells
        GeoDataFrame, one row per unit, in the points' CRS. Grid: ``cell_id`` (int, row-major
        from the north-west corner), ``row``, ``col``; areas: ``area_id`` (and ``name`` when
        present). Then ``count`` (points in the unit), ``n_neighbours`` (units in its
        weights, itself excluded), ``gi_z`` (Gi* z-score, see ``p_value``), ``gi_p``
        (two-sided p-value of ``gi_z``), ``gi_class`` (``hot``, ``cold``, ``ns``),
        ``gi_bin`` (-3..3 as ArcGIS: ±3 at 99 %, ±2 at 95 %, ±1 at 90 % confidence, after the
        FDR correction when ``fdr``), ``hotspot_class`` (``gi_bin`` as a name: ``hot_99``,
        ``hot_95``, ``hot_90``, ``not_significant``, ``cold_90``, ...), ``gi_p_sim`` (the
        two-sided conditional-permutation pseudo p-value ``min(1, 2 p_sim)``, NaN without
        permutations) and ``geometry``.
    unit
        ``"grid"`` or ``"area"``.
    id_column
        ``"cell_id"`` or ``"area_id"``.
    weights
        Description of the spatial weights, e.g. ``"distance_band 375 m, binary"``.
    distance_band, k
        The distance band (metres) or the number of nearest neighbours used (the other None).
    cell_size
        Grid cell size (None for areas).
    permutations, seed
        Conditional permutations and their seed.
    p_value
        Where ``gi_z`` and ``gi_p`` come from: ``"z_sim"``, ``"sim"`` or ``"normal"``
        (see :func:`hot_spots`).
    alpha, fdr
        Significance level of ``gi_class``, and whether the Benjamini-Hochberg FDR correction
        was applied.
    p_threshold
        The p-value cut-off that ``gi_class`` applied (``alpha`` without FDR).
    n_points
        Points that went in; ``cells["count"].sum() + len(outside) == n_points``.
    outside
        The points that fell in no area (areas mode only; empty otherwise), with their
        original columns, for the "every row accounted for" rule.
    """

    cells: gpd.GeoDataFrame
    unit: str
    id_column: str
    weights: str
    distance_band: float | None
    k: int | None
    cell_size: float | None
    permutations: int
    seed: int | None
    p_value: str
    alpha: float
    fdr: bool
    p_threshold: float
    n_points: int
    outside: gpd.GeoDataFrame
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_hot(self) -> int:
        """Number of units classed hot."""
        return int((self.cells["gi_class"] == "hot").sum())

    @property
    def n_cold(self) -> int:
        """Number of units classed cold."""
        return int((self.cells["gi_class"] == "cold").sum())

    def to_frame(self) -> pd.DataFrame:
        """The unit table without geometry."""
        return pd.DataFrame(self.cells.drop(columns="geometry"))

    def hot_spots(self) -> gpd.GeoDataFrame:
        """Contiguous hot units dissolved into polygons: the "otrygga platser".

        Units are contiguous when their polygons touch, at an edge or a corner.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per hot spot, largest z first: ``hot_spot_id`` (1..), ``n_units``,
            ``count`` (points inside), ``gi_z_max``, ``gi_p_min``, ``gi_bin_max``, ``area_m2``,
            ``members`` (comma-joined cell or area ids) and ``geometry``. Empty (with these
            columns) when there is none.
        """
        return self._dissolve("hot")

    def cold_spots(self) -> gpd.GeoDataFrame:
        """Contiguous cold units dissolved, as :meth:`hot_spots` (``gi_z_min`` first)."""
        return self._dissolve("cold")

    def places(self, *, min_count: int = 0) -> gpd.GeoDataFrame:
        """The ``otrygga_platser`` layer: dissolved significant hot and cold spots.

        Parameters
        ----------
        min_count
            Spots holding fewer points than this are published without their count
            (``count`` empty, ``count_suppressed`` true), so a spot of one or two incidents
            cannot be traced to them.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per spot, hot spots first (largest z first), then cold spots:
            ``spot_id`` (1..), ``spot_class`` (``hot``/``cold``), ``confidence`` (90, 95 or
            99: the strongest ``gi_bin`` in the spot), ``n_units``, ``count``,
            ``count_suppressed``, ``gi_z`` (the extreme z), ``gi_p_min``, ``area_m2`` and the
            polygon. The full grid stays in :attr:`cells`.
        """
        parts = []
        for cls, zcol, bcol in (("hot", "gi_z_max", "gi_bin_max"),
                                ("cold", "gi_z_min", "gi_bin_min")):
            d = self._dissolve(cls)
            if d.empty:
                continue
            parts.append(pd.DataFrame({
                "spot_class": cls, "confidence": d[bcol].abs().map({1: 90, 2: 95, 3: 99}),
                "n_units": d["n_units"].to_numpy(), "count": d["count"].to_numpy(dtype=float),
                "gi_z": d[zcol].to_numpy(), "gi_p_min": d["gi_p_min"].to_numpy(),
                "area_m2": d["area_m2"].to_numpy(), "geometry": d.geometry.to_numpy()}))
        cols = ["spot_id", "spot_class", "confidence", "gi_bin", "n_units", "count",
                "count_suppressed", "gi_z", "gi_p_min", "area_m2"]
        if not parts:
            return gpd.GeoDataFrame({c: [] for c in cols},
                                    geometry=gpd.GeoSeries([], crs=self.cells.crs))
        out = pd.concat(parts, ignore_index=True)
        out["gi_bin"] = np.where(out["spot_class"] == "hot", 1, -1) * \
            out["confidence"].map({90: 1, 95: 2, 99: 3}).to_numpy()
        out["count_suppressed"] = out["count"] < min_count
        out.loc[out["count_suppressed"], "count"] = np.nan
        out.insert(0, "spot_id", np.arange(1, len(out) + 1))
        return gpd.GeoDataFrame(out[cols + ["geometry"]], geometry="geometry",
                                crs=self.cells.crs)

    def _dissolve(self, cls: str) -> gpd.GeoDataFrame:
        prefix = "hot" if cls == "hot" else "cold"
        cols = [f"{prefix}_spot_id", "n_units", "count", "gi_z_max" if cls == "hot" else
                "gi_z_min", "gi_p_min", "gi_bin_max" if cls == "hot" else "gi_bin_min",
                "area_m2", "members"]
        sel = self.cells[self.cells["gi_class"] == cls]
        if sel.empty:
            return gpd.GeoDataFrame(
                {c: pd.Series(dtype=object) for c in cols},
                geometry=gpd.GeoSeries([], crs=self.cells.crs),
            )
        geoms = sel.geometry.to_numpy()
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(len(geoms), len(geoms)))
        _, labels = connected_components(graph, directed=False)
        records = []
        for lab in np.unique(labels):
            part = sel.iloc[np.flatnonzero(labels == lab)]
            z = part["gi_z"].to_numpy()
            geom = shapely.union_all(part.geometry.to_numpy())
            records.append(
                {
                    "n_units": len(part),
                    "count": int(part["count"].sum()),
                    "gi_z_ext": float(z.max() if cls == "hot" else z.min()),
                    "gi_p_min": float(part["gi_p"].min()),
                    "gi_bin_ext": int(part["gi_bin"].max() if cls == "hot"
                                      else part["gi_bin"].min()),
                    "area_m2": float(geom.area),
                    "members": ",".join(str(v) for v in part[self.id_column]),
                    "geometry": geom,
                }
            )
        out = pd.DataFrame.from_records(records)
        out = out.sort_values("gi_z_ext", ascending=(cls != "hot"), kind="stable")
        out.insert(0, f"{prefix}_spot_id", np.arange(1, len(out) + 1))
        out = out.rename(columns={"gi_z_ext": cols[3], "gi_bin_ext": cols[5]})
        return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry",
                                crs=self.cells.crs)


# --------------------------------------------------------------------------- units


def _grid_units(
    xy: np.ndarray, cell_size: float, crs: Any
) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Square grid over the points, snapped to multiples of the cell size, and the counts.

    Cells are half-open, ``[x0, x0 + size) x [y0, y0 + size)``, so a point on a shared edge
    belongs to the cell east (or north) of it and every point is counted exactly once.
    """
    xmin, ymin, rows, cols = _grid_shape(xy.min(axis=0), xy.max(axis=0), cell_size)
    counts = _grid_counts(xy, xmin, ymin, rows, cols, cell_size)
    return _grid_cells(xmin, ymin, rows, cols, cell_size, crs), counts


def _grid_shape(lo: np.ndarray, hi: np.ndarray, cell_size: float
                ) -> tuple[float, float, int, int]:
    """Lower-left corner, rows and columns of the grid over points from ``lo`` to ``hi``."""
    xmin = math.floor(lo[0] / cell_size) * cell_size
    ymin = math.floor(lo[1] / cell_size) * cell_size
    cols = math.floor((hi[0] - xmin) / cell_size) + 1
    rows = math.floor((hi[1] - ymin) / cell_size) + 1
    if rows * cols > 2_000_000:
        raise InputError(
            f"the hot-spot grid would have {rows} x {cols} = {rows * cols:,} cells.",
            fix="use a larger cell_size (Gi* on this many cells is slow and its FDR control "
            "has little power), or pass areas=.",
        )
    return xmin, ymin, rows, cols


def _grid_counts(xy: np.ndarray, xmin: float, ymin: float, rows: int, cols: int,
                 cell_size: float) -> np.ndarray:
    """Points per cell of the grid of :func:`_grid_shape`, cells in row-major order."""
    c = np.clip(np.floor((xy[:, 0] - xmin) / cell_size).astype(np.int64), 0, cols - 1)
    # row 0 is the northernmost; a point on a horizontal edge goes to the cell north of it
    r_south = np.clip(np.floor((xy[:, 1] - ymin) / cell_size).astype(np.int64), 0, rows - 1)
    r = rows - 1 - r_south
    return np.bincount(r * cols + c, minlength=rows * cols)


def _grid_cells(xmin: float, ymin: float, rows: int, cols: int, cell_size: float, crs: Any
                ) -> gpd.GeoDataFrame:
    """The cell polygons of the grid of :func:`_grid_shape` (``cell_id``, ``row``, ``col``)."""
    ymax = ymin + rows * cell_size
    rr, cc = np.divmod(np.arange(rows * cols), cols)
    x0 = xmin + cc * cell_size
    y1 = ymax - rr * cell_size
    geoms = shapely.box(x0, y1 - cell_size, x0 + cell_size, y1)
    return gpd.GeoDataFrame(
        {"cell_id": np.arange(rows * cols, dtype=np.int64), "row": rr, "col": cc},
        geometry=geoms,
        crs=crs,
    )


def _area_units(
    points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Count points per area; a point on a shared boundary goes to the first area (input order).

    Returns the unit frame, the counts and a boolean mask of points in no area.
    """
    if "area_id" not in areas.columns:
        raise MissingColumnError("area_id", found=[str(c) for c in areas.columns])
    if len(areas) == 0:
        raise EmptyLayerError("the areas layer has no rows.", fix="check the areas file.")
    require_projected(areas, what="the area layer")
    if areas["area_id"].duplicated().any():
        dup = areas["area_id"][areas["area_id"].duplicated()].iloc[0]
        raise InputError(
            f"area_id {dup!r} occurs more than once.", column="area_id",
            fix="make area_id unique (dissolve the parts first).",
        )
    if areas.crs != points.crs:
        logger.info("reprojecting areas to the points' CRS")
        areas = areas.to_crs(points.crs)
    keep = ["area_id"] + (["name"] if "name" in areas.columns else [])
    units = gpd.GeoDataFrame(areas[keep].reset_index(drop=True), geometry=areas.geometry.values,
                             crs=points.crs)
    tree = shapely.STRtree(units.geometry.to_numpy())
    pt_idx, area_idx = tree.query(points.geometry.to_numpy(), predicate="intersects")
    first = np.full(len(points), -1, dtype=np.int64)
    # first area in input order for each point
    order = np.lexsort((area_idx, pt_idx))
    pt_sorted, area_sorted = pt_idx[order], area_idx[order]
    is_first = np.ones(len(pt_sorted), dtype=bool)
    is_first[1:] = pt_sorted[1:] != pt_sorted[:-1]
    first[pt_sorted[is_first]] = area_sorted[is_first]
    counts = np.bincount(first[first >= 0], minlength=len(units))
    return units, counts, first < 0


# --------------------------------------------------------------------------- weights


def _weights_star(
    coords: np.ndarray, *, distance_band: float | None, k: int | None
) -> tuple[Any, str, Any]:
    """:func:`_weights`, and the same weights with the unit itself as a neighbour (weight 1).

    The second is what :class:`esda.G_Local` builds from the first for ``star=True``
    (``libpysal.weights.fill_diagonal(w, 1)``); given it, esda uses it as it is. Both are
    kept for the last few unit layouts, so that the periods of
    :func:`trygg_geo.emerging.emerging_hot_spots` (one grid, one band) build them once.
    """
    c = np.ascontiguousarray(coords, dtype=np.float64)
    return _weights_cached(c.tobytes(), c.shape, distance_band, k)


@functools.lru_cache(maxsize=4)
def _weights_cached(key: bytes, shape: tuple[int, ...], distance_band: float | None,
                    k: int | None) -> tuple[Any, str, Any]:
    coords = np.frombuffer(key, dtype=np.float64).reshape(shape)
    w, text = _weights(coords, distance_band=distance_band, k=k)
    return w, text, lw.fill_diagonal(w, 1)


def _weights(
    coords: np.ndarray, *, distance_band: float | None, k: int | None
) -> tuple[Any, str]:
    if k is not None:
        if distance_band is not None:
            raise InputError("pass distance_band or k, not both.")
        if not (isinstance(k, int | np.integer) and 0 < k < len(coords)):
            raise InputError(
                f"k must be an integer between 1 and the number of units - 1 "
                f"({len(coords) - 1}), got {k!r}."
            )
        w = lw.KNN.from_array(coords, k=int(k))
        return w, f"knn {k}, binary"
    assert distance_band is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands are reported below, in our own words
        w = lw.DistanceBand(coords, threshold=distance_band * (1 + 1e-9), binary=True,
                            silence_warnings=True)
    return w, f"distance_band {distance_band:g} m, binary"


# --------------------------------------------------------------------------- public API


def hot_spots(  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
    points: gpd.GeoDataFrame,
    *,
    cell_size: float = 250.0,
    areas: gpd.GeoDataFrame | None = None,
    distance_band: float | None = None,
    k: int | None = None,
    permutations: int = 999,
    seed: int | None = 0,
    alpha: float = 0.05,
    fdr: bool = True,
    p_value: str = "z_sim",
    dask: Any = None,
) -> HotSpotResult:
    """Getis-Ord Gi* hot and cold spots of incident points.

    Parameters
    ----------
    points
        Incident or citizen-report points in a projected metric CRS
        (``trygg_geo.read_incidents``).
    cell_size
        Side of the square grid cells in metres. The grid covers the points' extent and is
        snapped to multiples of the cell size; empty cells count as zeros. Ignored with
        ``areas``.
    areas
        Optional areas (``area_id``, polygon geometry). When given, the units are the areas
        instead of grid cells; a point on a shared boundary counts for the first area in
        input order, and points in no area are returned in ``outside`` (with a warning).
        Note that raw counts favour large areas.
    distance_band
        Neighbourhood radius in metres between unit centroids (binary weights). Default:
        on the grid ``1.5 * cell_size``, i.e. the 3 x 3 block of cells around each cell
        (queen contiguity); for areas the smallest distance that gives every area at least
        one neighbour (``libpysal.weights.min_threshold_distance``, ArcGIS's default).
    k
        Use the ``k`` nearest neighbours instead of a distance band.
    permutations
        Conditional permutations (esda), the unit's own count held fixed.
    seed
        Seed of the permutations (results are reproducible for a given seed).
    alpha
        Significance level of ``gi_class``.
    fdr
        Apply the Benjamini-Hochberg false discovery rate correction (:func:`esda.fdr`) to
        ``alpha`` and to each confidence level of ``gi_bin``, as ArcGIS does.
    p_value
        ``"z_sim"`` (default): ``gi_z`` is standardised by the mean and standard deviation of
        the unit's conditional-permutation distribution (esda ``z_sim``) and ``gi_p`` is its
        two-sided normal p-value. ``"sim"``: ``gi_z`` is the analytic z and ``gi_p`` the
        permutation pseudo p-value ``min(1, 2 p_sim)``; it cannot go below
        ``2 / (permutations + 1)``, so after the FDR correction over hundreds of units it
        rarely finds anything (a warning says so). ``"normal"``: the analytic z and its
        normal p-value (ArcGIS's default; permutations are still run for ``gi_p_sim`` unless
        ``permutations=0``).
    dask
        Count the points per unit partition by partition on dask (optional extra ``dask``),
        for point sets too large for memory: ``True`` (dask's current scheduler), a
        ``distributed.Client`` or a scheduler address (``"tcp://host:8786"``); ``points`` may
        then also be a ``dask_geopandas`` frame or a GeoParquet path. Gi* then runs on the
        summed counts: the same result. See :func:`trygg_geo._dask.hot_spots_dask`.

    Returns
    -------
    HotSpotResult
        ``.cells`` per unit; ``.hot_spots()`` the dissolved hot polygons.

    Notes
    -----
    Gi* (Getis & Ord 1992; Ord & Getis 1995) compares the sum of counts in a unit's
    neighbourhood, the unit itself included, with the sum expected if counts were placed at
    random; a large positive z marks a cluster of high counts (a hot spot), a large negative z
    a cluster of low counts. Weights are binary (1 inside the distance band), with the unit's
    own weight 1 (``star=True``), as in ArcGIS's Hot Spot Analysis.

    Why ``p_value="z_sim"`` by default: the permutation pseudo p-value has a floor of
    ``2 / (permutations + 1)`` (esda's ``p_sim`` is folded, one-sided in the observed
    direction, and doubled here), and the Benjamini-Hochberg cut-off for the best unit is
    ``alpha / n``; with 999 permutations and 400 grid cells not even three planted dense
    clusters become significant. The permutation z keeps the conditional-randomisation null
    (the observed counts, the unit's own held fixed) and gives continuous p-values, so the
    FDR correction works; on planted data (tests/test_hotspots.py) it finds the clusters and
    about no false hot cells in uniform noise. A unit is
    ``hot`` when ``gi_z > 0`` and ``gi_p <= p_threshold`` (``alpha``, or its FDR cut-off),
    ``cold`` when ``gi_z < 0`` and significant, else ``ns``. When all counts are equal the
    statistic is undefined: every unit gets ``gi_z = 0``, ``gi_p = 1`` and a warning.

    References: Getis & Ord (1992), *Geographical Analysis* 24(3) 189-206; Ord & Getis
    (1995), *Geographical Analysis* 27(4) 286-306; Benjamini & Hochberg (1995), *JRSS B*
    57(1) 289-300.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np
    >>> rng = np.random.default_rng(1)
    >>> bg = rng.uniform(0, 3000, size=(300, 2))
    >>> cluster = rng.normal(1500, 80, size=(150, 2))
    >>> xy = np.vstack([bg, cluster]) + [670000, 6580000]
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs=3006)
    >>> res = hot_spots(pts, cell_size=250, permutations=199)
    >>> int(res.cells["count"].sum())
    450
    >>> spots = res.hot_spots()
    >>> spots.contains(gpd.points_from_xy([671500], [6581500])[0]).iloc[0]
    np.True_
    """
    if (dask is not None and dask is not False) or type(points).__module__.startswith("dask"):
        # imported here: trygg_geo._dask builds on this module's in-memory core
        from trygg_geo._dask import dask_client, hot_spots_dask

        with dask_client(dask) as client:
            return hot_spots_dask(points, cell_size=cell_size, areas=areas,
                                  distance_band=distance_band, k=k, permutations=permutations,
                                  seed=seed, alpha=alpha, fdr=fdr, p_value=p_value, client=client)
    xy = _check_points(points)
    if not (0 < alpha < 1):
        raise InputError(f"alpha must lie between 0 and 1, got {alpha!r}.")
    if not (isinstance(permutations, int | np.integer) and permutations >= 0):
        raise InputError(f"permutations must be an integer >= 0, got {permutations!r}.")
    outside = points.iloc[0:0]
    if areas is None:
        if not (np.isfinite(cell_size) and cell_size > 0):
            raise InputError(f"cell_size must be a positive number of metres, got {cell_size!r}.")
        units, counts = _grid_units(xy, float(cell_size), points.crs)
        id_column = "cell_id"
        if distance_band is None and k is None:
            distance_band = _DEFAULT_BAND_CELLS * float(cell_size)
    else:
        units, counts, out_mask = _area_units(points, areas)
        id_column = "area_id"
        outside = points[out_mask]
    return _gi_star(
        units, counts, outside=outside, n_points=len(points), crs=points.crs,
        id_column=id_column, cell_size=float(cell_size) if areas is None else None,
        distance_band=distance_band, k=k, permutations=permutations, seed=seed, alpha=alpha,
        fdr=fdr, p_value=p_value,
    )


def _gi_star(  # noqa: C901 - the statistics part of hot_spots (predates the gate)
    units: gpd.GeoDataFrame,
    counts: np.ndarray,
    *,
    outside: gpd.GeoDataFrame,
    n_points: int,
    crs: Any,
    id_column: str,
    cell_size: float | None,
    distance_band: float | None,
    k: int | None,
    permutations: int,
    seed: int | None,
    alpha: float,
    fdr: bool,
    p_value: str,
) -> HotSpotResult:
    """Gi* of counts per unit, shared by :func:`hot_spots` and the dask path.

    ``cell_size`` is None for area units; ``outside`` holds the points in no area.
    """
    unit = "grid" if cell_size is not None else "area"
    if len(outside):
        rows = outside["source_row"].head(5).tolist() if "source_row" in outside else []
        warnings.warn(
            f"{len(outside)} of {n_points} points lie in no area and are not "
            f"counted (returned in HotSpotResult.outside; source rows {rows}...).",
            DataQualityWarning,
            stacklevel=3,
        )
    n_units = len(units)
    if n_units < 3:
        raise InputError(
            f"Gi* needs at least 3 units, got {n_units}.",
            fix="use a smaller cell_size or more areas.",
        )
    coords = shapely.get_coordinates(units.geometry.centroid.to_numpy())
    if distance_band is None and k is None:
        distance_band = float(min_threshold_distance(coords))
    if distance_band is not None and not (np.isfinite(distance_band) and distance_band > 0):
        raise InputError(f"distance_band must be a positive number of metres, "
                         f"got {distance_band!r}.")
    w, w_text, w_star = _weights_star(coords, distance_band=distance_band, k=k)
    n_neigh = np.asarray([w.cardinalities[i] for i in w.id_order], dtype=np.int64)
    if (n_neigh == 0).any():
        warnings.warn(
            f"{int((n_neigh == 0).sum())} units have no neighbour within the distance band "
            f"({distance_band:g} m); their Gi* only reflects their own count. Fix: a larger "
            "distance_band, or k=.",
            DataQualityWarning,
            stacklevel=3,
        )

    y = counts.astype(float)
    if p_value not in ("z_sim", "sim", "normal"):
        raise InputError(f"unknown p_value {p_value!r}.",
                         fix="use p_value='z_sim', 'sim' or 'normal'.")
    if p_value != "normal" and permutations == 0:
        raise InputError(f"p_value={p_value!r} needs permutations > 0.",
                         fix="set permutations (e.g. 999), or p_value='normal'.")
    if p_value == "z_sim" and n_units * permutations > _MAX_SIMULATIONS:
        raise InputError(
            f"{n_units:,} units x {permutations} permutations is too many simulated values "
            "to keep in memory.",
            fix="use fewer permutations, a larger cell_size, or p_value='normal'.",
        )
    if p_value == "sim" and fdr:
        p_floor = 2.0 / (permutations + 1)
        need = math.ceil(p_floor * n_units / alpha)
        if need > 1:
            warnings.warn(
                f"with {permutations} permutations the smallest pseudo p-value is "
                f"{p_floor:.4g}; after the FDR correction over {n_units} units, no unit is "
                f"significant unless at least {need} units reach it. Fix: more permutations, "
                "or p_value='z_sim'.",
                TryggGeoWarning,
                stacklevel=3,
            )
    p_sim = np.full(n_units, np.nan)
    if np.ptp(y) == 0:
        warnings.warn(
            "every unit has the same count, so Gi* is undefined: no hot or cold spots.",
            DataQualityWarning,
            stacklevel=3,
        )
        z = np.zeros(n_units)
        p = np.ones(n_units)
    else:
        options: dict[str, Any] = {}
        if "alternative" in inspect.signature(esda.G_Local).parameters:
            options["alternative"] = "directed"  # we double the folded p-value ourselves
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # esda announces a change of its default alternative; we rely on "directed"
            warnings.filterwarnings("ignore", message=".*alternative hypothesis",
                                    category=DeprecationWarning)
            g = esda.G_Local(y, w_star, transform="B", star=True, permutations=int(permutations),
                             seed=seed, n_jobs=1, keep_simulations=(p_value == "z_sim"),
                             **options)
        if permutations:
            p_sim = np.minimum(1.0, 2.0 * np.asarray(g.p_sim, dtype=float))
        if p_value == "z_sim":
            z = np.asarray(g.z_sim, dtype=float)
            p = 2.0 * stats.norm.sf(np.abs(z))
        elif p_value == "sim":
            z = np.asarray(g.Zs, dtype=float)
            p = p_sim.copy()
        else:
            z = np.asarray(g.Zs, dtype=float)
            p = 2.0 * stats.norm.sf(np.abs(z))
        bad = ~np.isfinite(z)
        z[bad] = 0.0
        p[bad | ~np.isfinite(p)] = 1.0

    def cut(level: float) -> float:
        return float(esda.fdr(p, level)) if fdr else level

    thr = {lvl: cut(lvl) for lvl in CONFIDENCE_LEVELS}
    p_threshold = cut(alpha)
    magnitude = sum((p <= t).astype(int) for t in thr.values())
    sign = np.sign(z).astype(int)
    gi_bin = (sign * magnitude).astype(np.int64)
    sig = p <= p_threshold
    gi_class = np.where(sig & (z > 0), "hot", np.where(sig & (z < 0), "cold", "ns"))

    cells = units.copy()
    geom = cells.pop("geometry")
    cells["count"] = counts.astype(np.int64)
    cells["n_neighbours"] = n_neigh
    cells["gi_z"] = z
    cells["gi_p"] = p
    cells["gi_class"] = pd.array(gi_class, dtype="string")
    cells["gi_bin"] = gi_bin
    cells["hotspot_class"] = pd.array([_BIN_NAMES[int(b)] for b in gi_bin], dtype="string")
    cells["gi_p_sim"] = p_sim
    cells = gpd.GeoDataFrame(cells, geometry=geom.values, crs=crs)
    logger.info(
        "Gi*: %d %s units, %d hot, %d cold (p <= %.4g, %s, %s)",
        n_units, unit, int((gi_class == "hot").sum()), int((gi_class == "cold").sum()),
        p_threshold, "FDR" if fdr else "no FDR", w_text,
    )
    return HotSpotResult(
        cells=cells,
        unit=unit,
        id_column=id_column,
        weights=w_text,
        distance_band=None if k is not None else float(distance_band),  # type: ignore[arg-type]
        k=k,
        cell_size=cell_size,
        permutations=int(permutations),
        seed=seed,
        p_value=p_value,
        alpha=float(alpha),
        fdr=bool(fdr),
        p_threshold=p_threshold,
        n_points=n_points,
        outside=outside,
        extra={"fdr_thresholds": thr},
    )
