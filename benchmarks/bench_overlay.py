"""Benchmark: point-in-area of many points (trygg_geo.overlay.assign_to_areas).

Two area layers: the 117 real Stockholm stadsdelar (``../shared/data``), and a synthetic
DeSO-sized tessellation (Voronoi cells of random seeds over the same extent, 5,000 by
default). Points are uniform over the extent. In the same run, for the same points:

* ``trygg_geo``: ``assign_to_areas`` (STRtree bounding-box query + prepared ``intersects_xy``);
* ``sjoin``: ``geopandas.sjoin(predicate="intersects")`` plus the same one-area-per-point rule
  (the baseline);
* ``sindex``: ``areas.sindex.query(points, predicate="intersects")`` bulk plus the rule;
* ``dask 1w`` / ``dask 2w``: ``assign_to_areas_dask`` on a ``LocalCluster`` of 1 and 2 worker
  processes (one thread each), reading the points from partitioned GeoParquet (how 10M+
  points are held in practice), so its time includes reading and collecting the result.

Every path's result is checked equal to the in-memory result. Peak memory is the highest
resident set size (this process plus its children) above the level before each step,
sampled every 10 ms.

Usage::

    python benchmarks/bench_overlay.py            # 10M points (scaled down if memory is short)
    python benchmarks/bench_overlay.py --quick    # 200k points
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trygg_geo.areas import read_areas
from trygg_geo.overlay import assign_to_areas, assign_to_areas_dask

DATA = ROOT.parent / "shared" / "data" / "stockholm_stadsdelar" / "stadsdelar.shp"
OUT = ROOT / "benchmarks" / "results" / "overlay.md"
GB = 1e9
READING = (
    "Reading the figures: the Stockholm layer (`stadsdelar.shp`, 16k vertices) has detailed "
    "boundaries, so the point-in-polygon test dominates and testing against prepared polygons pays; "
    "on 5,000 simple Voronoi cells the STRtree bounding-box query dominates and the in-memory "
    "methods are close. The dask runs include reading GeoParquet, moving partitions between "
    "processes and gathering every id into the client; on 2 cores shared with other work, two "
    "workers cannot halve the time. The dask path is for point sets that do not fit in memory, or "
    "for a real cluster, not a speed-up on this machine. Timings on a shared machine vary by "
    "tens of percent between runs; compare ratios within one run."
)


class PeakRSS:
    """Peak RSS (process tree) above the level at entry, sampled in a thread."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.peak = 0

    def _rss(self) -> int:
        total = self.proc.memory_info().rss
        for c in self.proc.children(recursive=True):
            try:
                total += c.memory_info().rss
            except psutil.Error:
                pass
        return total

    def __enter__(self) -> Self:
        self.base = self._rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._rss())

    @property
    def delta_gb(self) -> float:
        return (self.peak - self.base) / GB


def rule(pi: np.ndarray, ai: np.ndarray, ids: np.ndarray, n: int, index: pd.Index) -> pd.Series:
    order = np.argsort(ids.astype(str), kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    best = np.full(n, len(ids), dtype=np.int64)
    np.minimum.at(best, pi, rank[ai])
    out = np.full(n, None, dtype=object)
    ok = best < len(ids)
    out[ok] = ids[order][best[ok]]
    return pd.Series(pd.array(out, dtype="string"), index=index, name="area_id")


def via_sjoin(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    j = gpd.sjoin(points, areas[["area_id", "geometry"]], predicate="intersects", how="inner")
    pos = points.index.get_indexer(j.index)
    ids = areas["area_id"].to_numpy(dtype=object)
    return rule(pos, j["index_right"].to_numpy(), ids, len(points), points.index)


def via_sindex(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.Series:
    pi, ai = areas.sindex.query(points.geometry.values, predicate="intersects")
    return rule(pi, ai, areas["area_id"].to_numpy(dtype=object), len(points), points.index)


def voronoi_areas(bounds: np.ndarray, n: int, crs: Any, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(bounds[0], bounds[2], n)
    y = rng.uniform(bounds[1], bounds[3], n)
    env = shapely.box(*bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(np.c_[x, y]), extend_to=env))
    cells = shapely.intersection(cells, env)
    return gpd.GeoDataFrame({"area_id": [f"deso_{i:05d}" for i in range(len(cells))]},
                            geometry=cells, crs=crs)


def timed(fn: Callable[[], pd.Series]) -> tuple[pd.Series, float, float]:
    with PeakRSS() as m:
        t = time.perf_counter()
        res = fn()
        dt = time.perf_counter() - t
    return res, dt, m.delta_gb


def dask_run(parquet: Path, areas: gpd.GeoDataFrame, n_workers: int) -> tuple[pd.Series, float, float]:
    from dask.distributed import Client, LocalCluster  # optional (extra 'dask'); --no-dask

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit="5GB") as cluster, Client(cluster) as client:
        import dask_geopandas

        def go() -> pd.Series:
            ddf = dask_geopandas.read_parquet(parquet)
            return assign_to_areas_dask(ddf, areas, client=client)

        return timed(go)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200k points (smoke run)")
    ap.add_argument("--n", type=int, default=10_000_000, help="number of points (default 10M)")
    ap.add_argument("--deso", type=int, default=5_000, help="number of DeSO-sized Voronoi areas")
    ap.add_argument("--no-dask", action="store_true", help="skip the dask runs")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    n = 200_000 if args.quick else args.n
    notes: list[str] = []
    # Memory: ~0.25 GB per million points for the GeoSeries, sjoin adds ~0.5 GB per million.
    avail = psutil.virtual_memory().available
    need_per_m = 1.0 * GB
    cap = int(max(0.5 * avail - 1 * GB, 0) / need_per_m * 1e6)
    if n > cap:
        notes.append(f"Scaled down from {n:,} to {cap:,} points: {avail / GB:.1f} GB available, "
                     f"and the run keeps to half of it.")
        n = max(cap, 100_000)

    warnings.simplefilter("ignore")
    stockholm = read_areas(DATA, report="log")
    bounds = stockholm.total_bounds
    deso = voronoi_areas(bounds, args.deso, stockholm.crs, seed=5)
    rng = np.random.default_rng(42)
    t = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(bounds[0], bounds[2], n),
                                                          rng.uniform(bounds[1], bounds[3], n)),
                              crs=stockholm.crs)
    t_make = time.perf_counter() - t
    rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench_overlay_"))
    try:
        parquet = tmp / "points.parquet"
        if not args.no_dask:
            import dask_geopandas

            parts = max(2, -(-n // 1_000_000))
            dask_geopandas.from_geopandas(points, npartitions=parts).to_parquet(parquet)
        for label, areas in (("Stockholm stadsdelar", stockholm), ("Voronoi (DeSO-sized)", deso)):
            k = len(areas)
            _ = areas.sindex  # built once, outside the timings
            ours, t_ours, m_ours = timed(lambda a=areas: assign_to_areas(points, a))
            inside = float(ours.notna().mean())

            def add(method: str, secs: float, mem: float, same: bool | str, *, label: str = label,
                    k: int = k, inside: float = inside) -> None:
                rows.append({"areas": f"{label} ({k:,})", "method": method, "points": n,
                             "seconds": secs, "points_per_s": n / secs, "speed_vs_sjoin": np.nan,
                             "peak_mem_gb": mem, "same_result": same, "inside": inside})

            add("trygg_geo assign_to_areas", t_ours, m_ours, "reference")
            base, t_sj, m_sj = timed(lambda a=areas: via_sjoin(points, a))
            add("geopandas.sjoin (baseline)", t_sj, m_sj, bool(base.equals(ours)))
            del base
            alt, t_si, m_si = timed(lambda a=areas: via_sindex(points, a))
            add("sindex.query(predicate='intersects')", t_si, m_si, bool(alt.equals(ours)))
            del alt
            if not args.no_dask:
                for w in (1, 2):
                    got, t_d, m_d = dask_run(parquet, areas, w)
                    same = bool(got.reset_index(drop=True).equals(ours.reset_index(drop=True)))
                    add(f"dask, {w} worker{'s' if w > 1 else ''} (from GeoParquet)", t_d, m_d, same)
                    del got
            for r in rows:
                if r["areas"].startswith(label):
                    r["speed_vs_sjoin"] = t_sj / r["seconds"]
            del ours
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    df = pd.DataFrame(rows)
    lines = [
        "# Overlay benchmark: point-in-area",
        "",
        (f"`python benchmarks/bench_overlay.py{' --quick' if args.quick else ''}` on {platform.node()} "
        f"({os.cpu_count()} cores, {psutil.virtual_memory().total / GB:.0f} GB, shared with other "
        f"work; Python {platform.python_version()}, geopandas {gpd.__version__}, "
        f"shapely {shapely.__version__})."),
        "",
        (f"{n:,} points uniform over the Stockholm extent (made in {t_make:.1f} s); "
        "`speed_vs_sjoin` is the sjoin time divided by the method's time, in the same run. "
        "`peak_mem_gb` is the peak resident memory above the level before the step (dask: "
        "client and worker processes). `same_result`: equal, point for point, to "
        "`assign_to_areas` (the dask runs collect the result through the scheduler, so they "
        "include reading GeoParquet and transferring 10M ids)."),
        "",
        "| areas | method | seconds | points/s | speed vs sjoin | peak mem (GB) | same result |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in df.itertuples(index=False):
        lines.append(f"| {r.areas} | {r.method} | {r.seconds:.2f} | {r.points_per_s:,.0f} | "
                     f"{r.speed_vs_sjoin:.2f}x | {r.peak_mem_gb:.2f} | {r.same_result} |")
    lines += ["", (f"Share of points inside an area: Stockholm {df['inside'].iloc[0]:.1%}, Voronoi "
              f"{df['inside'].iloc[-1]:.1%}.")]
    lines += ["", READING]
    if notes:
        lines += ["", *(f"Note: {x}" for x in notes)]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
