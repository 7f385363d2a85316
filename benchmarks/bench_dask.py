"""Benchmark: the dask path (1 and 2 workers) against the in-memory path (issue 17, point 4).

The case is the county case of ``benchmarks/county.py`` (the 117 real Stockholm stadsdelar from
``../shared/data``, a register in Windows-1252 with addresses from the OSM extract and
coordinates, incidents with hot spots), built once into ``--case``. Per step, the time of:

- ``in memory``: :func:`trygg_geo.geocode_register`, :func:`trygg_geo.kernel_density` (50 m,
  default bandwidth) and :func:`trygg_geo.hot_spots` (250 m cells, 999 permutations) on
  in-memory frames;
- ``dask, N workers``: the same calls with ``dask=client`` on a ``LocalCluster`` of N worker
  processes with one thread each; the incidents are read from GeoParquet (8 partitions), as an
  incident set too large for memory would be. The cluster's start is timed apart.

Every dask result is checked against the in-memory one (the same placed and unplaced tables,
the same Gi* table, the same surface to 1e-9) before its time is recorded. Times are ratios to
the in-memory time; the load average and the process's CPU time are recorded beside them,
since other processes share the machine's cores.

Usage::

    python benchmarks/bench_dask.py --rows 100000 --incidents 1000000 --case DIR
    python benchmarks/bench_dask.py --rows 10000 --incidents 100000 --case DIR --workers 1 2
    python benchmarks/bench_dask.py --case DIR --steps density "hot spots"
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

import trygg_geo
from trygg_geo.config import load_config
from trygg_geo.geocode import Gazetteer

HERE = Path(__file__).resolve().parent


def _county() -> Any:
    """The county-case generator of ``benchmarks/county.py``."""
    spec = importlib.util.spec_from_file_location("county_case", HERE / "county.py")
    if spec is None or spec.loader is None:
        sys.exit("benchmarks/county.py is missing: it builds the county case this benchmark uses")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["county_case"] = mod
    spec.loader.exec_module(mod)
    return mod


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def _inputs(case_dir: Path, rows: int, incidents: int) -> dict[str, Any]:
    county = _county()
    case = county.build_case(case_dir, rows=rows, incidents=incidents)
    cfg = load_config(case.config)
    areas = trygg_geo.read_areas(cfg.areas.path)
    if cfg.areas.crs is None and areas.crs is not None and areas.crs.is_geographic:
        areas = areas.to_crs(3006)
    crs = areas.crs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        register = trygg_geo.read_register(cfg.register.path, columns=cfg.register.columns or None,
                                           kinds=cfg.register.kinds or None)
    assert cfg.incidents is not None
    inc = trygg_geo.read_incidents(cfg.incidents.path, crs=cfg.incidents.crs,
                                   columns=cfg.incidents.columns or None).to_crs(crs)
    gaz = Gazetteer.from_path(cfg.gazetteer.path, crs=crs)
    parquet = case_dir / "handelser_parquet"
    if not parquet.exists():
        import dask_geopandas

        dask_geopandas.from_geopandas(inc[["geometry"]], npartitions=8).to_parquet(parquet)
    return {"areas": areas, "register": register, "incidents": inc, "gaz": gaz,
            "parquet": str(parquet), "cfg": cfg}


def _steps(d: dict[str, Any], dask: Any) -> dict[str, Callable[[], Any]]:
    areas = d["areas"]
    options = {"extent": areas.geometry.union_all(), "areas": areas,
               "aliases": d["cfg"].survey.aliases}
    points = d["incidents"] if dask is None else d["parquet"]

    def geocode() -> Any:
        return trygg_geo.geocode_register(d["register"], d["gaz"], dask=dask, **options)

    def density() -> Any:
        return trygg_geo.kernel_density(points, cell_size=50.0, dask=dask)

    def hotspots() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return trygg_geo.hot_spots(points, cell_size=250.0, permutations=999, seed=0,
                                       dask=dask)

    return {"geocoding": geocode, "density": density, "hot spots": hotspots}


def _check(step: str, a: Any, b: Any) -> None:
    if step == "geocoding":
        assert_frame_equal(pd.DataFrame(a.placed), pd.DataFrame(b.placed))
        assert_frame_equal(a.unplaced, b.unplaced)
    elif step == "density":
        assert a.array.shape == b.array.shape
        np.testing.assert_allclose(b.array, a.array, rtol=1e-9, atol=1e-9 * a.array.max())
    else:
        assert_frame_equal(a.to_frame(), b.to_frame())


def main() -> None:
    """Build (or reuse) the case, time the steps, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--case", type=Path, required=True, help="folder of the generated case")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", nargs="+", default=["geocoding", "density", "hot spots"],
                    help="steps to time (default all three)")
    args = ap.parse_args()
    from dask.distributed import Client, LocalCluster

    d = _inputs(args.case, args.rows, args.incidents)
    print(f"case: {len(d['register']):,} register rows, {len(d['incidents']):,} incidents, "
          f"{len(d['areas'])} areas; cores: {os.cpu_count()}", flush=True)
    results: dict[str, Any] = {}
    table: list[dict[str, Any]] = []
    for step, fn in _steps(d, None).items():
        if step not in args.steps:
            continue
        out, wall, cpu = _timed(fn)
        results[step] = out
        table.append({"step": step, "path": "in memory", "seconds": wall, "cpu": cpu,
                      "load": os.getloadavg()[0]})
        print(table[-1], flush=True)
    for n in args.workers:
        t0 = time.perf_counter()
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            start = time.perf_counter() - t0
            table.append({"step": "cluster start", "path": f"dask, {n} workers",
                          "seconds": start, "cpu": float("nan"), "load": os.getloadavg()[0]})
            for step, fn in _steps(d, client).items():
                if step not in args.steps:
                    continue
                out, wall, cpu = _timed(fn)
                _check(step, results[step], out)
                table.append({"step": step, "path": f"dask, {n} workers", "seconds": wall,
                              "cpu": cpu, "load": os.getloadavg()[0]})
                print(table[-1], flush=True)
    df = pd.DataFrame(table)
    base = df[df["path"] == "in memory"].set_index("step")["seconds"]
    df["ratio"] = [r.seconds / base[r.step] if r.step in base else np.nan
                   for r in df.itertuples()]
    print()
    print("| step | path | seconds | × in memory | CPU s (driver) | load avg |")
    print("|---|---|---:|---:|---:|---:|")
    for r in df.itertuples():
        ratio = "" if np.isnan(r.ratio) else f"{r.ratio:.2f}"
        cpu = "" if np.isnan(r.cpu) else f"{r.cpu:.1f}"
        print(f"| {r.step} | {r.path} | {r.seconds:.1f} | {ratio} | {cpu} | {r.load:.1f} |")


if __name__ == "__main__":
    main()
