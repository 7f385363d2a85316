"""Kernel density of incident or citizen-report points, and zonal statistics.

:func:`kernel_density` turns points into a density surface (incidents per km²) on a regular
grid, the raster that sits beside ``resultat.gpkg`` as a GeoTIFF. :func:`zonal_stats`
summarises such a raster per area.

Method
------
The points are *linearly binned* to the cell centres of the grid (each point's weight is
shared between the four nearest centres in proportion to its distance from them, Wand 1994),
and the binned grid is convolved with the kernel evaluated at the cell-centre offsets
(:func:`scipy.signal.oaconvolve`). The discretised kernel is normalised to sum to one, so the
mass of every point is kept exactly: when the grid covers the points with a margin of one
kernel radius, the integral of the density over the grid equals the number of points (or the
sum of the weights) up to floating-point error. The cost is O(points + cells · log cells),
independent of the bandwidth, instead of O(cells · points within a bandwidth) for the direct
sum (see ``benchmarks/bench_density.py``). The binning moves no point by more than one cell,
so the cell size should be well below the bandwidth (a warning is given when the bandwidth is
less than twice the cell size).

Kernels
-------
``"quartic"`` (the default; ArcGIS Kernel Density, Silverman 1986 eq. 4.5)
    ``K(d) = 3 / (π h²) · (1 - d²/h²)²`` for ``d < h``, zero beyond: ``h`` is the search radius.
``"gaussian"``
    ``K(d) = 1 / (2π h²) · exp(-d² / (2h²))``: ``h`` is the standard deviation. The kernel is
    truncated at ``4h`` (the mass beyond is 0.03 %) before normalisation.

Default bandwidth
-----------------
The "spatial Silverman" rule of ArcGIS Pro's Kernel Density tool (Esri, *How Kernel Density
works*; after Silverman 1986, eq. 3.31)::

    h = 0.9 · min(SD, sqrt(1 / ln 2) · Dm) · n ** -0.2

where SD is the (weighted) standard distance of the points from their (weighted) mean centre,
Dm the (weighted) median distance from that centre, and n the number of points (the sum of the
weights when weights are given). The same number is used for both kernels.

References
----------
Silverman, B. W. (1986). *Density Estimation for Statistics and Data Analysis*. Chapman & Hall.
Wand, M. P. (1994). Fast computation of multivariate kernel estimators. *Journal of
Computational and Graphical Statistics* 3(4), 433-445.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from rasterio.features import rasterize
from rasterio.windows import Window
from scipy import signal

from trygg_geo._crs import require_crs, require_projected
from trygg_geo._errors import (
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
)
from trygg_geo._i18n import text
from trygg_geo._outputs import write_geotiff

__all__ = [
    "DENSITY_UNIT",
    "NODATA",
    "DensityRaster",
    "kernel_density",
    "silverman_bandwidth",
    "zonal_stats",
]

logger = logging.getLogger(__name__)

DENSITY_UNIT = "incidents per km²"
NODATA = -9999.0
_GAUSS_TRUNCATE = 4.0  # gaussian kernel support, in standard deviations
_MAX_CELLS = 200_000_000
_ZONAL_STATS = ("mean", "max", "min", "sum", "std", "median", "integral")

Kernel = Literal["quartic", "gaussian"]


# --------------------------------------------------------------------------- result type


@dataclass(frozen=True)
class DensityRaster:
    """A density surface on a regular grid.

    Attributes
    ----------
    array
        ``float64`` array of shape ``(rows, cols)``, rows from north to south, in
        :attr:`unit` (incidents per km²).
    transform
        Affine transform from (col, row) to the CRS coordinates of the cell's upper-left corner
        (``rasterio`` convention).
    crs
        The points' projected CRS.
    bandwidth
        Kernel bandwidth in metres (quartic: radius; gaussian: standard deviation).
    cell_size
        Cell size in metres.
    kernel
        ``"quartic"`` or ``"gaussian"``.
    bandwidth_rule
        ``"user"`` or ``"spatial_silverman"``.
    n_points
        Number of points (rows) that went in.
    total_weight
        Sum of the weights (``n_points`` when unweighted).
    unit
        ``"incidents per km²"``.
    """

    array: np.ndarray
    transform: Affine
    crs: CRS
    bandwidth: float
    cell_size: float
    kernel: str = "quartic"
    bandwidth_rule: str = "user"
    n_points: int = 0
    total_weight: float = 0.0
    unit: str = DENSITY_UNIT
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (int(self.array.shape[0]), int(self.array.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the grid."""
        rows, cols = self.shape
        xmin, ymax = self.transform.c, self.transform.f
        return (xmin, ymax - rows * self.cell_size, xmin + cols * self.cell_size, ymax)

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km²."""
        return self.cell_size * self.cell_size / 1e6

    def integral(self) -> float:
        """The density integrated over the grid: the (expected) number of incidents in it."""
        return float(self.array.sum() * self.cell_area_km2)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """The x and y coordinates of the cell centres, each of shape ``(rows, cols)``."""
        rows, cols = self.shape
        cs = self.cell_size
        xs = self.transform.c + (np.arange(cols) + 0.5) * cs
        ys = self.transform.f - (np.arange(rows) + 0.5) * cs
        return np.meshgrid(xs, ys)

    def peak(self) -> tuple[float, float, float]:
        """``(x, y, value)`` of the cell with the highest density."""
        r, c = np.unravel_index(int(np.argmax(self.array)), self.array.shape)
        x = self.transform.c + (c + 0.5) * self.cell_size
        y = self.transform.f - (r + 0.5) * self.cell_size
        return (float(x), float(y), float(self.array[r, c]))

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: ``row``, ``col``, ``x``, ``y`` (cell centre) and ``density``."""
        rows, cols = self.shape
        xs, ys = self.cell_centres()
        rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        return pd.DataFrame(
            {
                "row": rr.ravel(),
                "col": cc.ravel(),
                "x": xs.ravel(),
                "y": ys.ravel(),
                "density": self.array.ravel(),
            }
        )

    def describe(self, *, lang: str = "sv") -> str:
        """The default band description (``"sv"`` or ``"en"``; text ``density.describe``)."""
        unit = text("density.unit", lang) if self.unit == DENSITY_UNIT else self.unit
        return text("density.describe", lang, unit=unit, kernel=self.kernel,
                    bandwidth=self.bandwidth, cell_size=self.cell_size, n_points=self.n_points)

    def to_geotiff(
        self,
        path: str | Path,
        *,
        description: str | None = None,
        lang: str = "sv",
        dtype: Literal["float32", "float64"] = "float32",
        tags: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write the raster as a single-band GeoTIFF, atomically.

        Parameters
        ----------
        path
            Target file (``.tif``). Written to a temporary file beside it and renamed, so a
            crash never leaves a half-written file.
        description
            Band description; defaults to :meth:`describe`.
        lang
            Language of the default description, ``"sv"`` or ``"en"``.
        dtype
            Sample type in the file. ``float32`` (the default) keeps 7 significant digits,
            which is ample for a density, at half the size.
        tags
            Dataset tags written with the file, e.g. ``{"run_id": run_id}`` (the pipeline's
            run id, so the file never exists without it).

        Returns
        -------
        Path
            The written file (:func:`trygg_geo._outputs.write_geotiff`: DEFLATE, tiled when
            large). Band 1 carries the description, the unit (``units``), the nodata value
            :data:`NODATA`, and tags ``kernel``, ``bandwidth_m``, ``cell_size_m``,
            ``bandwidth_rule``, ``n_points``; the dataset carries ``tags``.
        """
        path = Path(path)
        rows, cols = self.shape
        write_geotiff(
            path,
            self.array,
            transform=self.transform,
            crs=self.crs,
            nodata=NODATA,
            dtype=dtype,
            band_description=description if description is not None else self.describe(lang=lang),
            units=self.unit,
            tags=tags,
            band_tags={
                "kernel": self.kernel,
                "bandwidth_m": f"{self.bandwidth:.3f}",
                "cell_size_m": f"{self.cell_size:g}",
                "bandwidth_rule": self.bandwidth_rule,
                "n_points": str(self.n_points),
            },
        )
        logger.info("wrote density raster %s (%d x %d cells)", path, rows, cols)
        return path


# --------------------------------------------------------------------------- validation


def _check_points(points: gpd.GeoDataFrame, *, what: str = "points") -> np.ndarray:
    """Validate a point layer and return its coordinates as an ``(n, 2)`` array."""
    if not isinstance(points, gpd.GeoDataFrame):
        raise InputError(
            f"{what} must be a GeoDataFrame, got {type(points).__name__}.",
            fix="read them with trygg_geo.read_incidents or geopandas.read_file.",
        )
    if len(points) == 0:
        raise EmptyLayerError(
            f"the {what} layer has no rows, so there is nothing to estimate a density from.",
            fix="check the input file and any date or category filter applied before.",
        )
    require_projected(points, what=f"the {what} layer")
    geom = points.geometry
    bad = geom.isna().to_numpy() | geom.is_empty.to_numpy()
    bad |= ~(geom.geom_type == "Point").to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = _source_row(points, i)
        kind = "missing" if geom.iloc[i] is None else repr(geom.iloc[i].geom_type)
        raise InputError(
            f"{int(bad.sum())} of {len(points)} {what} have a missing, empty or non-Point "
            f"geometry (first: position {i}, geometry {kind}).",
            row=row,
            column="geometry",
            fix="place or remove these rows before the density/hot-spot step "
            "(trygg_geo keeps unplaced rows in its own table).",
        )
    xy = np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])
    if not np.isfinite(xy).all():
        i = int(np.flatnonzero(~np.isfinite(xy).all(axis=1))[0])
        raise InputError(
            f"a point of {what} has a non-finite coordinate.",
            row=_source_row(points, i),
            column="geometry",
            fix="correct or remove the coordinates of that row.",
        )
    return xy


def _source_row(frame: pd.DataFrame, i: int) -> int | None:
    if "source_row" in frame.columns:
        v = frame["source_row"].iloc[i]
        if pd.notna(v):
            return int(v)
    return None


def _weights_array(points: gpd.GeoDataFrame, weights: Any) -> np.ndarray | None:
    if weights is None:
        return None
    if isinstance(weights, str):
        if weights not in points.columns:
            raise MissingColumnError(weights, found=[str(c) for c in points.columns])
        w = pd.to_numeric(points[weights], errors="coerce").to_numpy(dtype=float)
        column: str | None = weights
    else:
        w = np.asarray(weights, dtype=float).ravel()
        column = None
        if len(w) != len(points):
            raise InputError(
                f"weights has {len(w)} values but there are {len(points)} points.",
                fix="pass one weight per point (or a column name).",
            )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{int(bad.sum())} weights are missing, non-numeric or negative (first value: "
            f"{w[i]!r}).",
            row=_source_row(points, i),
            column=column,
            fix="use finite weights >= 0.",
        )
    return w


# --------------------------------------------------------------------------- bandwidth


def silverman_bandwidth(xy: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The "spatial Silverman" bandwidth of ArcGIS Kernel Density, in the units of ``xy``.

    ``0.9 · min(SD, sqrt(1/ln 2) · Dm) · n ** -0.2`` with SD the standard distance, Dm the
    median distance from the mean centre and n the number of points (sum of weights).

    Parameters
    ----------
    xy
        ``(n, 2)`` coordinates.
    weights
        Optional non-negative weights.

    Returns
    -------
    float
        The bandwidth; 0.0 when all points coincide.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0]])
    >>> round(silverman_bandwidth(xy), 2)
    48.23
    """
    xy = np.asarray(xy, dtype=float)
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype=float)
    n = float(w.sum())
    if n <= 0:
        return 0.0
    centre = (w[:, None] * xy).sum(axis=0) / n
    d2 = ((xy - centre) ** 2).sum(axis=1)
    sd = math.sqrt(float((w * d2).sum() / n))
    d = np.sqrt(d2)
    if weights is None:
        dm = float(np.median(d))
    else:  # weighted median
        order = np.argsort(d)
        cw = np.cumsum(w[order])
        dm = float(d[order][np.searchsorted(cw, 0.5 * cw[-1])])
    return 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * n**-0.2


# --------------------------------------------------------------------------- kernel


def _kernel_radius(kernel: str, bandwidth: float) -> float:
    return bandwidth if kernel == "quartic" else _GAUSS_TRUNCATE * bandwidth


def _discrete_kernel(kernel: str, bandwidth: float, cell_size: float) -> np.ndarray:
    """Kernel weights at cell-centre offsets, normalised to sum to one."""
    r = max(math.ceil(_kernel_radius(kernel, bandwidth) / cell_size), 0)
    off = np.arange(-r, r + 1) * cell_size
    d2 = off[None, :] ** 2 + off[:, None] ** 2
    if kernel == "quartic":
        u = d2 / (bandwidth * bandwidth)
        k = np.where(u < 1.0, (1.0 - u) ** 2, 0.0)
    else:
        k = np.exp(-0.5 * d2 / (bandwidth * bandwidth))
        k[d2 > (_GAUSS_TRUNCATE * bandwidth) ** 2] = 0.0
    s = k.sum()
    if s <= 0:  # bandwidth far below the cell size: all mass in the cell itself
        k = np.zeros((2 * r + 1, 2 * r + 1))
        k[r, r] = 1.0
        return k
    return k / s


def _grid_bounds(
    xy: np.ndarray, *, margin: float, cell_size: float, bounds: Sequence[float] | None
) -> tuple[float, float, int, int]:
    """Upper-left corner and shape of the output grid."""
    if bounds is None:
        xmin, ymin = xy.min(axis=0) - margin
        xmax, ymax = xy.max(axis=0) + margin
        # snap outward to multiples of the cell size, so grids of one project line up
        xmin = math.floor(xmin / cell_size) * cell_size
        ymin = math.floor(ymin / cell_size) * cell_size
        xmax = math.ceil(xmax / cell_size) * cell_size
        ymax = math.ceil(ymax / cell_size) * cell_size
    else:
        if len(bounds) != 4:
            raise InputError(
                f"bounds must be (xmin, ymin, xmax, ymax), got {bounds!r}.",
                fix="pass four numbers, e.g. areas.total_bounds.",
            )
        xmin, ymin, xmax, ymax = (float(b) for b in bounds)
        if not (xmax > xmin and ymax > ymin):
            raise InputError(
                f"bounds {bounds!r} are empty (need xmax > xmin and ymax > ymin).",
                fix="pass (xmin, ymin, xmax, ymax).",
            )
    cols = max(math.ceil((xmax - xmin) / cell_size - 1e-9), 1)
    rows = max(math.ceil((ymax - ymin) / cell_size - 1e-9), 1)
    if rows * cols > _MAX_CELLS:
        raise InputError(
            f"the grid would have {rows} x {cols} = {rows * cols:,} cells "
            f"(cell size {cell_size:g} m over {xmax - xmin:,.0f} x {ymax - ymin:,.0f} m).",
            fix="use a larger cell_size, or smaller bounds.",
        )
    return float(xmin), float(ymax), rows, cols


def _linear_bin(
    xy: np.ndarray,
    w: np.ndarray | None,
    *,
    x0: float,
    y0: float,
    cell_size: float,
    rows: int,
    cols: int,
) -> tuple[np.ndarray, float]:
    """Linear binning of points to cell centres of a grid whose upper-left corner is (x0, y0).

    Returns the grid of binned weights and the weight that fell outside it.
    """
    u = (xy[:, 0] - x0) / cell_size - 0.5  # column coordinate of the point, centres at ints
    v = (y0 - xy[:, 1]) / cell_size - 0.5  # row coordinate (north -> south)
    c0 = np.floor(u)
    r0 = np.floor(v)
    fu = u - c0
    fv = v - r0
    c0 = c0.astype(np.int64)
    r0 = r0.astype(np.int64)
    base = np.ones(len(xy)) if w is None else w
    out = np.zeros(rows * cols)
    total = float(base.sum())
    for dr, dc, frac in (
        (0, 0, (1 - fv) * (1 - fu)),
        (0, 1, (1 - fv) * fu),
        (1, 0, fv * (1 - fu)),
        (1, 1, fv * fu),
    ):
        rr = r0 + dr
        cc = c0 + dc
        ok = (rr >= 0) & (rr < rows) & (cc >= 0) & (cc < cols)
        out += np.bincount(rr[ok] * cols + cc[ok], weights=(base * frac)[ok], minlength=rows * cols)
    grid = out.reshape(rows, cols)
    return grid, total - float(grid.sum())


# --------------------------------------------------------------------------- public API


def kernel_density(
    points: gpd.GeoDataFrame,
    *,
    cell_size: float = 50.0,
    bandwidth: float | None = None,
    kernel: Kernel = "quartic",
    bounds: Sequence[float] | None = None,
    weights: str | Sequence[float] | np.ndarray | None = None,
    dask: Any = None,
) -> DensityRaster:
    """Kernel density of points, in incidents per km², on a regular grid.

    Parameters
    ----------
    points
        Incident or citizen-report points (``trygg_geo.read_incidents``) in a projected
        metric CRS. Every row must have a Point geometry; rows without one are refused with
        their ``source_row`` (place them or set them aside first).
    cell_size
        Cell size in metres.
    bandwidth
        Kernel bandwidth in metres: the search radius of the quartic kernel, the standard
        deviation of the gaussian kernel. ``None`` (default): the "spatial Silverman" rule of
        :func:`silverman_bandwidth` (ArcGIS Kernel Density's default).
    kernel
        ``"quartic"`` (default, as ArcGIS and CrimeStat) or ``"gaussian"``.
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the grid in the points' CRS, e.g.
        ``areas.total_bounds``. Default: the points' extent plus one kernel radius on each side
        (quartic: the bandwidth; gaussian: 4 bandwidths), snapped outward to multiples of the
        cell size. Points outside the bounds still add their kernel's tail inside them.
    weights
        Optional weight per point (a column name or a sequence), e.g. a severity score;
        the density then integrates to the sum of the weights.
    dask
        Bin the points partition by partition on dask (optional extra ``dask``), for point
        sets too large for memory: ``True`` (dask's current scheduler), a
        ``distributed.Client`` or a scheduler address (``"tcp://host:8786"``). ``points`` may
        then also be a ``dask_geopandas`` frame or a GeoParquet path, and ``weights`` a column
        name. The same surface to floating-point tolerance; see
        :func:`trygg_geo._dask.kernel_density_dask` and ``docs/skala-upp.md``.

    Returns
    -------
    DensityRaster
        The surface, with its transform, CRS, bandwidth and the rule that chose it.

    Raises
    ------
    EmptyLayerError
        No points.
    CRSError
        Points without a CRS or in a geographic CRS (degrees).
    InputError
        Missing or non-Point geometries, bad weights, bad options.

    Notes
    -----
    See the module docstring for the method (linear binning and FFT convolution, with the
    discretised kernel normalised so that mass is kept exactly).

    Examples
    --------
    >>> import geopandas as gpd, numpy as np
    >>> rng = np.random.default_rng(0)
    >>> xy = rng.normal([674000, 6580000], 200, size=(500, 2))
    >>> pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs=3006)
    >>> r = kernel_density(pts, cell_size=25, bandwidth=150)
    >>> round(r.integral(), 6)
    500.0
    """
    if (dask is not None and dask is not False) or type(points).__module__.startswith("dask"):
        # imported here: trygg_geo._dask builds on this module's in-memory core
        from trygg_geo._dask import dask_client, kernel_density_dask

        with dask_client(dask) as client:
            return kernel_density_dask(points, cell_size=cell_size, bandwidth=bandwidth,
                                       kernel=kernel, bounds=bounds, weights=weights,
                                       client=client)
    if kernel not in ("quartic", "gaussian"):
        raise InputError(
            f"unknown kernel {kernel!r}.", fix="use kernel='quartic' or kernel='gaussian'."
        )
    if not (np.isfinite(cell_size) and cell_size > 0):
        raise InputError(f"cell_size must be a positive number of metres, got {cell_size!r}.")
    xy = _check_points(points)
    crs = CRS.from_user_input(points.crs)
    w = _weights_array(points, weights)

    def bin_points(x0: float, y0: float, rows: int, cols: int) -> tuple[np.ndarray, float]:
        return _linear_bin(xy, w, x0=x0, y0=y0, cell_size=cell_size, rows=rows, cols=cols)

    return _density_surface(
        bin_points, np.array([xy.min(axis=0), xy.max(axis=0)]), n_points=len(xy),
        total=float(len(xy) if w is None else w.sum()),
        silverman=lambda: silverman_bandwidth(xy, w), crs=crs, cell_size=cell_size,
        bandwidth=bandwidth, kernel=kernel, bounds=bounds,
    )


def _density_surface(
    bin_points: Callable[[float, float, int, int], tuple[np.ndarray, float]],
    extent: np.ndarray,
    *,
    n_points: int,
    total: float,
    silverman: Callable[[], float],
    crs: CRS,
    cell_size: float,
    bandwidth: float | None,
    kernel: str,
    bounds: Sequence[float] | None,
) -> DensityRaster:
    """The surface from binned points, shared by :func:`kernel_density` and the dask path.

    ``bin_points(x0, y0, rows, cols)`` returns the points linearly binned to that grid and the
    weight outside it (:func:`_linear_bin`); ``extent`` is ``[[xmin, ymin], [xmax, ymax]]``
    of the points; ``silverman()`` gives the default bandwidth.
    """
    rule = "user"
    if bandwidth is None:
        rule = "spatial_silverman"
        bandwidth = silverman()
        if not bandwidth > 0:
            bandwidth = 5.0 * cell_size
            warnings.warn(
                f"all {n_points} points coincide, so the default bandwidth rule gives 0 m; "
                f"using 5 cells ({bandwidth:g} m) instead. Pass bandwidth= to choose one.",
                DataQualityWarning,
                stacklevel=3,
            )
            rule = "fallback_5_cells"
        logger.info("bandwidth %.1f m (%s rule, n=%d)", bandwidth, rule, n_points)
    elif not (np.isfinite(bandwidth) and bandwidth > 0):
        raise InputError(f"bandwidth must be a positive number of metres, got {bandwidth!r}.")
    bandwidth = float(bandwidth)
    if bandwidth < 2 * cell_size:
        warnings.warn(
            f"the bandwidth ({bandwidth:.1f} m) is less than two cells ({cell_size:g} m); "
            "the surface will be blocky. Use a smaller cell_size or a larger bandwidth.",
            DataQualityWarning,
            stacklevel=3,
        )

    k = _discrete_kernel(kernel, bandwidth, cell_size)
    r = k.shape[0] // 2
    x0, y0, rows, cols = _grid_bounds(
        extent, margin=_kernel_radius(kernel, bandwidth), cell_size=cell_size, bounds=bounds
    )
    # bin on a grid padded by the kernel radius (+1 for the linear binning), so that points
    # just outside the output grid still add their tail inside it
    pad = r + 1
    binned, outside = bin_points(x0 - pad * cell_size, y0 + pad * cell_size,
                                 rows + 2 * pad, cols + 2 * pad)
    if outside > 0:
        logger.info("%.6g of the points' weight lies beyond the grid's reach", outside)
    if r == 0:
        dens = binned
    else:
        dens = signal.oaconvolve(binned, k, mode="same")
        np.maximum(dens, 0.0, out=dens)  # FFT round-off gives values like -1e-17
    dens = dens[pad : pad + rows, pad : pad + cols] / (cell_size * cell_size / 1e6)
    return DensityRaster(
        array=np.ascontiguousarray(dens, dtype=np.float64),
        transform=Affine(cell_size, 0.0, x0, 0.0, -cell_size, y0),
        crs=crs,
        bandwidth=bandwidth,
        cell_size=float(cell_size),
        kernel=kernel,
        bandwidth_rule=rule,
        n_points=n_points,
        total_weight=total,
        extra={"kernel_cells": int(k.shape[0]), "weight_beyond_grid_reach": outside},
    )


def zonal_stats(
    raster: DensityRaster,
    areas: gpd.GeoDataFrame,
    *,
    stats: Sequence[str] = ("mean", "max", "sum"),
) -> pd.DataFrame:
    """Statistics of a density raster per area.

    A cell belongs to an area when its centre lies inside it (``rasterio.features.rasterize``,
    ``all_touched=False``); an area too small to hold any cell centre takes the cells it
    touches instead (``cell_rule == "touched"``). Areas may overlap: each is rasterised alone.

    Parameters
    ----------
    raster
        A :class:`DensityRaster`.
    areas
        Areas (``trygg_geo.read_areas``) with ``area_id``; reprojected to the raster's CRS
        when they differ.
    stats
        Any of ``"mean"``, ``"max"``, ``"min"``, ``"sum"``, ``"std"``, ``"median"`` and
        ``"integral"`` (the density integrated over the area's cells: the expected number of
        incidents there). ``mean``/``max``/... are in incidents per km²; ``sum`` is the plain
        sum of cell values.

    Returns
    -------
    pandas.DataFrame
        One row per area, in the input order: ``area_id``, ``n_cells``, ``cell_rule``
        (``centre``, ``touched`` or ``outside``) and one column per statistic (NaN for
        an area outside the raster, with a :class:`DataQualityWarning`).
    """
    unknown = [s for s in stats if s not in _ZONAL_STATS]
    if unknown:
        raise InputError(
            f"unknown statistics {unknown}.", fix=f"choose from {', '.join(_ZONAL_STATS)}."
        )
    if "area_id" not in areas.columns:
        raise MissingColumnError("area_id", found=[str(c) for c in areas.columns])
    if len(areas) == 0:
        raise EmptyLayerError("the areas layer has no rows.", fix="check the areas file.")
    if not require_crs(areas, what="the area layer").equals(raster.crs):
        logger.info("reprojecting %d areas to the raster's CRS", len(areas))
        areas = areas.to_crs(raster.crs)

    arr = raster.array
    records: list[dict[str, Any]] = []
    outside: list[str] = []
    for aid, geom in zip(areas["area_id"], areas.geometry, strict=True):
        rec: dict[str, Any] = {"area_id": aid, "n_cells": 0, "cell_rule": "outside"}
        vals = np.empty(0)
        if geom is not None and not geom.is_empty:
            win = _window(geom.bounds, raster)
            if win is not None:
                cs = raster.cell_size
                w_tr = Affine(cs, 0.0, raster.transform.c + win.col_off * cs, 0.0, -cs,
                              raster.transform.f - win.row_off * cs)
                shape = (int(win.height), int(win.width))
                sub = arr[win.toslices()]
                for rule, touched in (("centre", False), ("touched", True)):
                    mask = rasterize(
                        [(geom, 1)], out_shape=shape, transform=w_tr, fill=0,
                        all_touched=touched, dtype="uint8",
                    ).astype(bool)
                    if mask.any():
                        vals = sub[mask]
                        rec.update(n_cells=int(mask.sum()), cell_rule=rule)
                        break
        if len(vals) == 0:
            outside.append(str(aid))
        for s in stats:
            rec[s] = _stat(s, vals, raster.cell_area_km2)
        records.append(rec)
    if outside:
        warnings.warn(
            f"{len(outside)} areas lie outside the density raster and get NaN statistics: "
            f"{', '.join(outside[:10])}{' ...' if len(outside) > 10 else ''}. Fix: compute the "
            "density with bounds=areas.total_bounds.",
            DataQualityWarning,
            stacklevel=2,
        )
    out = pd.DataFrame.from_records(records, columns=["area_id", "n_cells", "cell_rule", *stats])
    out.index = areas.index
    return out


def _window(bounds: tuple[float, float, float, float], raster: DensityRaster) -> Any:
    """The window of cells that the bounds overlap, clipped to the grid (None if outside)."""
    rows, cols = raster.shape
    cs, x0, y0 = raster.cell_size, raster.transform.c, raster.transform.f
    c0 = max(math.floor((bounds[0] - x0) / cs), 0)
    c1 = min(math.ceil((bounds[2] - x0) / cs), cols)
    r0 = max(math.floor((y0 - bounds[3]) / cs), 0)
    r1 = min(math.ceil((y0 - bounds[1]) / cs), rows)
    c1, r1 = max(c1, min(c0 + 1, cols)), max(r1, min(r0 + 1, rows))
    if c0 >= c1 or r0 >= r1:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def _stat(name: str, vals: np.ndarray, cell_km2: float) -> float:
    if len(vals) == 0:
        return float("nan")
    if name == "integral":
        return float(vals.sum() * cell_km2)
    funcs: dict[str, Callable[..., Any]] = {
        "mean": np.mean, "max": np.max, "min": np.min, "sum": np.sum, "std": np.std,
        "median": np.median,
    }
    return float(funcs[name](vals))
