"""Benchmark: trygg_geo.kernel_density against a direct KD-tree kernel sum.

Full run: 1,000,000 points (uniform background plus 20 dense clusters) over a 20 x 20 km
extent, 25 m cells, quartic kernel with the default ("spatial Silverman") bandwidth.

The baseline is the textbook estimator: for every cell centre, find the points within one
bandwidth with a ``scipy.spatial.cKDTree`` and sum the quartic kernel over them (vectorised per
grid row). It is exact but costs O(cells x points per bandwidth), so it is timed on a random
sample of grid rows in the same run and extrapolated to the whole grid; the sampled rows also
give the accuracy of the binned FFT estimate against the exact one.

Usage::

    python benchmarks/bench_density.py           # full size (about a minute)
    python benchmarks/bench_density.py --quick   # smoke run (seconds)

Writes ``benchmarks/results/density.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
from scipy.spatial import cKDTree

from trygg_geo.density import kernel_density

RESULTS = Path(__file__).resolve().parent / "results" / "density.md"
X0, Y0 = 670_000.0, 6_570_000.0


def make_points(n: int, extent: float, *, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    n_cl = n // 4
    bg = rng.uniform(0, extent, size=(n - n_cl, 2))
    centres = rng.uniform(0.1 * extent, 0.9 * extent, size=(20, 2))
    which = rng.integers(0, 20, size=n_cl)
    cl = centres[which] + rng.normal(0, extent / 100, size=(n_cl, 2))
    xy = np.vstack([bg, cl]) + [X0, Y0]
    return gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=3006)


def direct_rows(tree: cKDTree, xy: np.ndarray, gx: np.ndarray, gy: float, h: float) -> np.ndarray:
    """Exact quartic kernel sums (per km²) at the cell centres (gx, gy) of one grid row."""
    centres = np.column_stack([gx, np.full_like(gx, gy)])
    lists = tree.query_ball_point(centres, r=h)
    lengths = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
    out = np.zeros(len(gx))
    if lengths.sum() == 0:
        return out
    idx = np.concatenate([np.asarray(v, dtype=np.int64) for v in lists])
    owner = np.repeat(np.arange(len(gx)), lengths)
    d2 = ((xy[idx] - centres[owner]) ** 2).sum(axis=1)
    k = np.where(d2 < h * h, (1 - d2 / (h * h)) ** 2, 0.0) * 3 / (math.pi * h * h)
    np.add.at(out, owner, k)
    return out * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = ap.parse_args()
    n, extent, cell, sample_rows = (20_000, 4_000.0, 25.0, 4) if args.quick else (
        1_000_000, 20_000.0, 25.0, 6)

    pts = make_points(n, extent)
    xy = np.column_stack([pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()])

    kernel_density(pts.iloc[:1000], cell_size=cell)  # warm-up (imports, FFT plans)
    t0 = time.perf_counter()
    r = kernel_density(pts, cell_size=cell)
    t_ours = time.perf_counter() - t0
    h = r.bandwidth
    rows, cols = r.shape

    t0 = time.perf_counter()
    tree = cKDTree(xy)
    t_tree = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    sample = np.sort(rng.choice(rows, size=sample_rows, replace=False))
    gxs, gys = r.cell_centres()
    t0 = time.perf_counter()
    exact = np.vstack([direct_rows(tree, xy, gxs[i], float(gys[i, 0]), h) for i in sample])
    t_rows = time.perf_counter() - t0
    t_direct = t_tree + t_rows * rows / sample_rows

    ours = r.array[sample]
    peak = float(exact.max())
    max_err = float(np.abs(ours - exact).max()) / peak
    rmse = float(np.sqrt(((ours - exact) ** 2).mean())) / peak
    ratio = t_direct / t_ours

    lines = [
        "# Kernel density (`trygg_geo.kernel_density`)",
        "",
        (f"Run: `python benchmarks/bench_density.py{' --quick' if args.quick else ''}` on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}."),
        "",
        (f"Data: {n:,} points (3/4 uniform, 1/4 in 20 clusters) over "
        f"{extent / 1000:g} x {extent / 1000:g} km; grid {rows} x {cols} = {rows * cols:,} "
        f"cells of {cell:g} m; quartic kernel, bandwidth {h:.1f} m (spatial Silverman rule)."),
        "",
        "| method | time (s) | ratio |",
        "|---|---:|---:|",
        (f"| direct KD-tree kernel sum (baseline; {sample_rows} of {rows} rows timed, "
        f"extrapolated) | {t_direct:.1f} | 1 |"),
        (f"| `kernel_density` (linear binning + FFT convolution) | {t_ours:.2f} | "
        f"**{ratio:.0f}x faster** |"),
        "",
        (f"Accuracy on the {sample_rows * cols:,} sampled cells against the exact sum: max "
        f"abs. error {100 * max_err:.2f} % and RMSE {100 * rmse:.3f} % of the peak density "
        f"({peak:,.0f} per km²)."),
        f"Integral of the surface over the grid: {r.integral():,.2f} (points: {n:,}).",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
