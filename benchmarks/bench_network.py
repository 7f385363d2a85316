"""Benchmark: network catchments (scipy CSR Dijkstra) against a networkx ego_graph loop.

A synthetic, grid-like street network in SWEREF 99 TM (about 100k nodes: jittered
nodes, about 8 % of the street segments missing, two-way edges with Euclidean
lengths) and 1,000 sources on random nodes, 800 m cutoff. The baseline,
``networkx.ego_graph(G, n, radius=800, distance="length")`` per source, is timed
on a sample of sources and extrapolated linearly to all of them. Both give the
same node sets on the sample (checked).

Usage::

    python benchmarks/bench_network.py            # full size
    python benchmarks/bench_network.py --quick    # smoke run

Writes ``benchmarks/results/network.md``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import scipy
import shapely

from trygg_geo.network import StreetIndex, network_catchments

RESULTS = Path(__file__).resolve().parent / "results" / "network.md"
REPEATS = 3


def synthetic_streets(side: int, *, spacing: float = 70.0, seed: int = 0) -> nx.MultiDiGraph:
    """A jittered ``side x side`` street grid with missing segments, as osmnx would shape it."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = 660_000 + jj.ravel() * spacing + rng.normal(0, spacing * 0.12, side * side)
    y = 6_570_000 + ii.ravel() * spacing + rng.normal(0, spacing * 0.12, side * side)
    ids = np.arange(side * side).reshape(side, side)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = rng.random(a.size) > 0.08
    a, b = a[keep], b[keep]
    length = np.hypot(x[a] - x[b], y[a] - y[b])
    G = nx.MultiDiGraph(crs="EPSG:3006")
    G.add_nodes_from((int(i), {"x": float(x[i]), "y": float(y[i])}) for i in range(side * side))
    G.add_edges_from(
        (int(u), int(v), {"length": float(d)}) for u, v, d in zip(a, b, length, strict=True)
    )
    G.add_edges_from(
        (int(v), int(u), {"length": float(d)}) for u, v, d in zip(a, b, length, strict=True)
    )
    return G


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    side, n_sources, n_sample, cutoff = (60, 100, 20, 800.0) if args.quick else (317, 1000, 50, 800.0)

    t0 = time.perf_counter()
    G = synthetic_streets(side)
    t_build = time.perf_counter() - t0
    rng = np.random.default_rng(42)
    nodes = np.array(list(G.nodes))
    chosen = rng.choice(nodes, size=n_sources, replace=False)
    pts = gpd.GeoSeries(
        shapely.points([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in chosen]), crs="EPSG:3006"
    )

    t0 = time.perf_counter()
    index = StreetIndex.from_graph(G)
    t_index = time.perf_counter() - t0
    t_ours = float("inf")
    for _ in range(REPEATS):  # best of REPEATS: the machine is shared
        t0 = time.perf_counter()
        c = network_catchments(index, pts, cutoff_m=cutoff)
        t_ours = min(t_ours, time.perf_counter() - t0)
    t0 = time.perf_counter()
    u = c.union()
    t_union = time.perf_counter() - t0
    n_poly = min(100, n_sources)
    sub = network_catchments(index, pts.iloc[:n_poly], cutoff_m=cutoff)
    t0 = time.perf_counter()
    sub.to_polygons(buffer_m=25)
    t_poly = time.perf_counter() - t0

    sample = rng.choice(n_sources, size=n_sample, replace=False)
    t_ego = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        egos = [nx.ego_graph(G, chosen[i], radius=cutoff, distance="length") for i in sample]
        t_ego = min(t_ego, (time.perf_counter() - t0) * n_sources / n_sample)
    same = all(set(e.nodes) == set(c.nodes(int(i)).index) for e, i in zip(egos, sample, strict=True))
    max_diff = 0.0
    for i in sample[:10]:
        ref = nx.single_source_dijkstra_path_length(G, chosen[i], cutoff=cutoff, weight="length")
        got = c.nodes(int(i))
        max_diff = max(max_diff, float(np.max(np.abs(got.loc[list(ref)].to_numpy() - list(ref.values())))))
    if not same:
        raise SystemExit("node sets differ between network_catchments and ego_graph")

    mean_nodes = float(c.sources["n_nodes"].mean())
    rows = [
        ("street graph", (f"{G.number_of_nodes():,} nodes, {G.number_of_edges():,} directed edges "
                          f"(built in {t_build:.1f} s)")),
        ("sources / cutoff", f"{n_sources:,} points on nodes / {cutoff:.0f} m"),
        ("mean nodes per catchment", f"{mean_nodes:,.0f}"),
        ("`StreetIndex.from_graph` (graph to CSR, once)", f"{t_index:.2f} s"),
        ("`network_catchments` (all sources)", f"{t_ours:.2f} s"),
        ("ours incl. the conversion", f"{t_index + t_ours:.2f} s"),
        (f"`ego_graph` loop (timed on {n_sample}, x{n_sources / n_sample:g})", f"{t_ego:.1f} s"),
        ("**speed-up** (ego loop / ours)", f"**{t_ego / t_ours:.0f}x**"),
        ("speed-up incl. the conversion", f"{t_ego / (t_index + t_ours):.0f}x"),
        ("`.union()` (one `min_only` Dijkstra)", f"{t_union:.2f} s ({len(u):,} nodes)"),
        (f"`.to_polygons(buffer_m=25)` for {n_poly} sources", f"{t_poly:.2f} s"),
        (f"same node sets as ego_graph on the {n_sample} sampled sources", "yes" if same else "NO"),
        ("largest distance difference from networkx (10 sources)", f"{max_diff:.1e} m"),
    ]
    text = [
        "# Network catchments",
        "",
        (f"`python benchmarks/bench_network.py{' --quick' if args.quick else ''}` "
         f"(Python {platform.python_version()}, networkx {nx.__version__}, scipy {scipy.__version__}, "
         f"{platform.machine()}, a 2-core machine shared with other jobs)."),
        "",
        ("Synthetic jittered street grid in EPSG:3006 (70 m blocks, ~8 % of segments missing, two-way "
         "edges). The baseline is one `networkx.ego_graph(G, n, radius=800, distance=\"length\")` per "
         "source, timed on a random sample and extrapolated linearly to all sources. Both timings are "
         "the best of 3 runs."),
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in rows],
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
