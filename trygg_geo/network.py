"""Street networks and network catchments.

A street graph is read from a local OSM XML file with osmnx's own reader
(:func:`osmnx.graph_from_xml`), filtered to a network type (``"walk"`` by
default, with osmnx's own Overpass filter), simplified and projected to a
metric CRS. Catchments are the parts of the network reachable within a walking
distance of each investment.

Catchments are computed by Dijkstra over a :mod:`scipy.sparse` CSR matrix of
the graph, all sources at once (batched with ``indices=``), not one
:func:`networkx.ego_graph` per source. Each source is joined to the network by
*virtual start nodes*: one extra node per source, with an edge to every node
its geometry snaps to, weighted by the snapping distance. Distances therefore
include the walk from the investment to the network, exactly.

How geometries are joined to the network
----------------------------------------
- Points (and each point of a MultiPoint) snap to their nearest graph node
  (:class:`scipy.spatial.cKDTree`).
- Lines are densified to a vertex at least every ``densify_m`` metres
  (:func:`shapely.segmentize`); every vertex snaps to its nearest node. The
  catchment is what can be reached from any point along the line.
- Polygons: their rings are densified and snapped the same way, and every graph
  node inside the polygon is a start node at distance 0.

The snapping distance is added to the path length. A source whose every
vertex is further from the network than ``cutoff_m`` (or than ``max_snap_m``)
gets an empty catchment and a ``status`` saying why; it is never dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import shapely
from osmnx import _overpass  # the filter osmnx itself sends to Overpass
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree
from shapely.ops import substring

from trygg_geo._crs import DEFAULT_WORKING_CRS, require_crs, require_projected
from trygg_geo._errors import (
    EmptyLayerError,
    InputError,
    MissingFileError,
    UnreadableFileError,
    msg,
)

__all__ = [
    "NetworkCatchments",
    "StreetIndex",
    "euclidean_catchments",
    "graph_from_osm_xml",
    "network_catchments",
]

logger = logging.getLogger(__name__)

NETWORK_TYPES = ("walk", "all", "all_public", "bike", "drive", "drive_service")
_CLAUSE = re.compile(r'\["([^"]+)"(?:(!?~)"([^"]*)")?\]')

# Float budget of one dense Dijkstra batch (rows x nodes), about 16 MB of float64
# (small batches stay in cache; larger ones were not faster).
_BATCH_CELLS = 2_000_000


# --------------------------------------------------------------------------- reading


def _network_filter(network_type: str) -> list[tuple[str, str | None, re.Pattern[str] | None]]:
    """The Overpass way filter of osmnx for ``network_type``, parsed into clauses.

    Each clause is ``(key, op, regex)``: ``op`` None means "the tag must exist",
    ``"~"`` "the value matches", ``"!~"`` "the tag is absent or does not match"
    (Overpass semantics, unanchored regular expressions).
    """
    text = _overpass._get_network_filter(network_type)
    clauses = []
    for key, op, rx in _CLAUSE.findall(text):
        clauses.append((key, op or None, re.compile(rx) if op else None))
    if not clauses:  # pragma: no cover - would mean osmnx changed its filter syntax
        raise RuntimeError(f"could not parse osmnx's network filter {text!r}")
    return clauses


def _way_passes(data: dict[str, Any], clauses: list[tuple[str, str | None, Any]]) -> bool:
    for key, op, rx in clauses:
        value = data.get(key)
        if op is None:
            if value is None:
                return False
        elif op == "~":
            if value is None or not rx.search(str(value)):
                return False
        elif value is not None and rx.search(str(value)):
            return False
    return True


def graph_from_osm_xml(
    path: str | Path,
    *,
    network_type: str = "walk",
    crs: Any = None,
    retain_all: bool = False,
) -> nx.MultiDiGraph:
    """Read a street network from a local OSM XML file, projected to a metric CRS.

    The file is read with :func:`osmnx.graph_from_xml` (which keeps every way),
    filtered to ``network_type`` with the same tag filter osmnx sends to
    Overpass for that type, reduced to its largest weakly connected component
    (unless ``retain_all``), simplified (:func:`osmnx.simplify_graph`) and
    projected (:func:`osmnx.project_graph`).

    Parameters
    ----------
    path
        An ``.osm`` file (or ``.osm.bz2`` / ``.osm.gz``).
    network_type
        One of osmnx's network types: ``"walk"`` (default; every way is
        walkable in both directions), ``"all"``, ``"all_public"``, ``"bike"``,
        ``"drive"``, ``"drive_service"``.
    crs
        Target CRS; a projected, metric one. Default SWEREF 99 TM (EPSG:3006).
    retain_all
        Keep every connected component, not only the largest.

    Returns
    -------
    networkx.MultiDiGraph
        Nodes with ``x``, ``y`` in ``crs``; edges with ``length`` in metres
        (great-circle length along the way) and, for simplified edges,
        ``geometry``. ``G.graph["crs"]`` is set.

    Notes
    -----
    The extra tags the filter needs (``foot``, ``sidewalk`` ...) are read by
    extending :data:`osmnx.settings.useful_tags_way` for the duration of the
    call (restored afterwards) and are not kept on the edges. That makes the
    call not thread-safe with other osmnx reads in the same process.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, what="OSM XML file")
    if network_type not in NETWORK_TYPES:
        raise InputError(
            f"unknown network_type {network_type!r}.",
            fix=f"use one of {', '.join(NETWORK_TYPES)}.",
        )
    target = require_projected(crs if crs is not None else DEFAULT_WORKING_CRS,
                               what="the street graph's target CRS (crs=)")

    clauses = _network_filter(network_type)
    base_tags = list(ox.settings.useful_tags_way)
    extra = sorted({k for k, _, _ in clauses} - set(base_tags))
    ox.settings.useful_tags_way = base_tags + extra
    try:
        G = ox.graph_from_xml(
            path,
            bidirectional=network_type in ox.settings.bidirectional_network_types,
            simplify=False,
            retain_all=True,
        )
    except Exception as exc:  # osmnx raises bare ParseError/ValueError/KeyError here
        raise UnreadableFileError(
            f"osmnx could not read it as OSM XML ({type(exc).__name__}: {exc}).",
            file=path,
            fix="pass an OSM XML file (.osm, .osm.bz2 or .osm.gz) as downloaded from "
            "openstreetmap.org or exported by JOSM/osmium.",
        ) from exc
    finally:
        ox.settings.useful_tags_way = base_tags

    n_all = G.number_of_edges()
    drop = [
        (u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if not _way_passes(d, clauses)
    ]
    G.remove_edges_from(drop)
    for _, _, d in G.edges(data=True):
        for key in extra:
            d.pop(key, None)
    G.remove_nodes_from([n for n, deg in G.degree() if deg == 0])
    if G.number_of_edges() == 0:
        raise EmptyLayerError(
            f"no ways of network type {network_type!r} in it ({n_all} edges before the filter).",
            file=path,
            fix="check that the file covers streets (highway=* ways), or try network_type='all'.",
        )
    if not retain_all:
        G = ox.truncate.largest_component(G, strongly=False)
    G = ox.simplify_graph(G)
    G = ox.project_graph(G, to_crs=target)
    logger.info(
        "read %s: %d nodes, %d edges of network type %r (%d of %d raw edges kept), CRS %s",
        path.name, G.number_of_nodes(), G.number_of_edges(), network_type,
        n_all - len(drop), n_all, target.to_string(),
    )
    return G


# --------------------------------------------------------------------------- index


@dataclass(frozen=True, eq=False)
class StreetIndex:
    """Array form of a projected street graph, for fast repeated catchments.

    Build it once with :meth:`from_graph` and pass it to
    :func:`network_catchments` in place of the graph to skip the conversion.

    Attributes
    ----------
    crs
        The graph's CRS.
    node_ids
        Graph node ids, position ``i`` is matrix row ``i``.
    xy
        Node coordinates, shape ``(n, 2)``.
    matrix
        ``n x n`` CSR matrix of directed edge lengths (metres); parallel edges
        keep their shortest length.
    edge_u, edge_v, edge_key, edge_length
        Every directed edge (node positions, multigraph key, length), sorted by
        ``edge_u``; ``edge_ptr[i]:edge_ptr[i+1]`` are the out-edges of node ``i``.
    """

    crs: CRS
    node_ids: np.ndarray
    xy: np.ndarray
    matrix: sparse.csr_matrix
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_key: np.ndarray
    edge_length: np.ndarray
    edge_ptr: np.ndarray
    tree: cKDTree = field(repr=False)
    _edge_geoms: np.ndarray = field(repr=False)

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph) -> StreetIndex:
        """Convert a projected graph with node ``x``/``y`` and edge ``length``."""
        crs = require_projected(graph.graph.get("crs"), what="the street graph (G.graph['crs'])",
                                fix=msg("err.graph_crs.fix"))
        n = graph.number_of_nodes()
        if n == 0:
            raise EmptyLayerError("the street graph has no nodes.", fix="check how it was built.")
        node_ids = np.asarray(list(graph.nodes))
        if node_ids.dtype.kind not in "iu" or node_ids.ndim != 1:  # keep str/tuple ids as objects
            node_ids = np.fromiter(graph.nodes, dtype=object, count=n)
        try:
            xy = np.array([(d["x"], d["y"]) for _, d in graph.nodes(data=True)], dtype=float)
        except KeyError as exc:
            raise InputError(
                "a graph node has no 'x'/'y' coordinate.",
                fix="build the graph with osmnx (graph_from_osm_xml) so nodes carry x and y.",
            ) from exc
        pos = {node: i for i, node in enumerate(graph.nodes)}
        # loops over networkx's own adjacency dicts (G._adj, the storage behind G.adj): several
        # times faster than the EdgeView or AdjacencyView on graphs of 100k nodes
        adj = graph._adj
        if graph.is_multigraph():
            edges = [(u, v, k, d) for u, nbrs in adj.items()
                     for v, kd in nbrs.items() for k, d in kd.items()]
        else:
            edges = [(u, v, 0, d) for u, nbrs in adj.items() for v, d in nbrs.items()]
        m = len(edges)
        eu = np.fromiter((pos[e[0]] for e in edges), dtype=np.int64, count=m)
        ev = np.fromiter((pos[e[1]] for e in edges), dtype=np.int64, count=m)
        ek = np.empty(m, dtype=object)
        ek[:] = [e[2] for e in edges]
        el = np.array([_as_length(e[3].get("length")) for e in edges], dtype=float).reshape(m)
        eg = np.empty(m, dtype=object)
        eg[:] = [e[3].get("geometry") for e in edges]
        bad = np.flatnonzero(~np.isfinite(el) | (el < 0))
        if bad.size:
            u, v, k, d = edges[bad[0]]
            raise InputError(
                f"edge ({u}, {v}, {k}) has length {d.get('length')!r} ({bad.size} edges in all); "
                "a non-negative length in metres is needed.",
                column="length",
                fix="add lengths with osmnx.distance.add_edge_lengths(G) before projecting.",
            )
        order = np.argsort(eu, kind="stable")
        eu, ev, ek, el, eg = eu[order], ev[order], ek[order], el[order], eg[order]
        ptr = np.searchsorted(eu, np.arange(n + 1))
        matrix = _min_csr(eu, ev, el, n)
        return cls(
            crs=crs, node_ids=node_ids, xy=xy, matrix=matrix, edge_u=eu, edge_v=ev,
            edge_key=ek, edge_length=el, edge_ptr=ptr, tree=cKDTree(xy), _edge_geoms=eg,
        )

    @property
    def n_nodes(self) -> int:
        """The number of nodes in the network."""
        return int(self.xy.shape[0])

    def edge_geometries(self, which: np.ndarray) -> np.ndarray:
        """LineStrings of the edges at positions ``which`` (straight when the graph has none)."""
        geoms = self._edge_geoms[which].copy()
        missing = np.array([g is None for g in geoms], dtype=bool)
        if missing.any():
            w = which[missing]
            a, b = self.xy[self.edge_u[w]], self.xy[self.edge_v[w]]
            coords = np.stack([a, b], axis=1)
            geoms[missing] = shapely.linestrings(coords)
        return geoms


def _as_length(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _min_csr(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, n: int) -> sparse.csr_matrix:
    """CSR matrix keeping the minimum of duplicate entries (explicit zeros are kept as edges)."""
    if rows.size:
        order = np.lexsort((data, cols, rows))
        r, c, d = rows[order], cols[order], data[order]
        first = np.ones(r.size, dtype=bool)
        first[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
        rows, cols, data = r[first], c[first], d[first]
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


# --------------------------------------------------------------------------- sources


def _as_geoseries(sources: Any, crs: CRS) -> gpd.GeoSeries:
    if isinstance(sources, gpd.GeoDataFrame):
        geoms = sources.geometry
    elif isinstance(sources, gpd.GeoSeries):
        geoms = sources
    else:
        raise InputError(
            f"sources must be a GeoDataFrame or GeoSeries, got {type(sources).__name__}.",
            fix="wrap the geometries: geopandas.GeoSeries(geoms, crs=...).",
        )
    if not require_crs(geoms, what="the source layer").equals(crs):
        logger.info("reprojecting %d sources from %s to %s", len(geoms), geoms.crs, crs)
        geoms = geoms.to_crs(crs)
    return geoms


def _source_ids(sources: Any, source_ids: Sequence[Hashable] | None) -> pd.Index:
    n = len(sources)
    if source_ids is None:
        ids = pd.Index(sources.index)
    else:
        ids = pd.Index(list(source_ids))
        if len(ids) != n:
            raise InputError(
                f"source_ids has {len(ids)} values for {n} sources.",
                fix="pass one id per source row, in the same order.",
            )
    if ids.has_duplicates:
        dup = ids[ids.duplicated()].unique()[:5].tolist()
        raise InputError(
            f"source ids are not unique (e.g. {dup}).",
            column="source_id",
            fix="pass unique source_ids (e.g. the investment_id column).",
        )
    return ids


@dataclass(frozen=True)
class _Starts:
    """Start nodes of every source.

    Columns: ``src`` (source position), ``node`` (node position), ``offset`` (metres from the
    source to the node), ``vxy`` (the source vertex snapped).
    """

    src: np.ndarray
    node: np.ndarray
    offset: np.ndarray
    vxy: np.ndarray


def _snap(
    index: StreetIndex, geoms: gpd.GeoSeries, *, densify_m: float, max_snap_m: float | None
) -> tuple[_Starts, np.ndarray]:
    """Snap every source geometry; return the start nodes and a status per source."""
    arr = np.asarray(geoms.values, dtype=object)
    n = arr.size
    status = np.full(n, "ok", dtype=object)
    empty = shapely.is_missing(arr) | shapely.is_empty(arr)
    status[empty] = "empty_geometry"
    gtype = shapely.get_type_id(arr)
    linear = (~empty) & np.isin(gtype, [1, 2, 3, 5, 6, 7])
    dense = arr.copy()
    if linear.any():
        dense[linear] = shapely.segmentize(arr[linear], densify_m)
    dense[empty] = None
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    dist, nearest = index.tree.query(coords) if len(coords) else (np.empty(0), np.empty(0, int))
    src = [owner.astype(np.int64)]
    node = [np.asarray(nearest, dtype=np.int64)]
    off = [np.asarray(dist, dtype=float)]
    vxy = [coords]
    # every graph node inside a polygon starts at 0 m
    polys = np.flatnonzero((~empty) & np.isin(gtype, [3, 6]))
    for p in polys:
        xmin, ymin, xmax, ymax = shapely.bounds(arr[p])
        cand = np.flatnonzero(
            (index.xy[:, 0] >= xmin) & (index.xy[:, 0] <= xmax)
            & (index.xy[:, 1] >= ymin) & (index.xy[:, 1] <= ymax)
        )
        inside = cand[shapely.contains_xy(arr[p], index.xy[cand, 0], index.xy[cand, 1])]
        src.append(np.full(inside.size, p, dtype=np.int64))
        node.append(inside)
        off.append(np.zeros(inside.size))
        vxy.append(index.xy[inside])
    s, nd, o, v = (np.concatenate(x) for x in (src, node, off, vxy))
    if max_snap_m is not None:
        keep = o <= max_snap_m
        far = np.setdiff1d(np.unique(s), np.unique(s[keep]))
        status[far] = "too_far_from_network"
        s, nd, o, v = s[keep], nd[keep], o[keep], v[keep]
    # one start per (source, node): the shortest offset
    order = np.lexsort((o, nd, s))
    s, nd, o, v = s[order], nd[order], o[order], v[order]
    first = np.r_[True, (s[1:] != s[:-1]) | (nd[1:] != nd[:-1])] if s.size else np.zeros(0, bool)
    return _Starts(s[first], nd[first], o[first], v[first]), status


def _augmented(index: StreetIndex, starts: _Starts, n_sources: int) -> sparse.csr_matrix:
    """The graph matrix plus one virtual node per source (rows n..n+S-1)."""
    n = index.n_nodes
    base = index.matrix.tocoo()
    rows = np.concatenate([base.row, starts.src + n])
    cols = np.concatenate([base.col, starts.node])
    data = np.concatenate([base.data, starts.offset])
    return sparse.csr_matrix((data, (rows, cols)), shape=(n + n_sources, n + n_sources))


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class NetworkCatchments:
    """Per-source network catchments.

    Attributes
    ----------
    sources
        GeoDataFrame, one row per source in input order: ``source_id``,
        ``snapped_node`` (the nearest node), ``snap_distance_m`` (its distance),
        ``n_start_nodes``, ``n_nodes`` (nodes reached), ``status`` (``ok``,
        ``empty_geometry``, ``too_far_from_network``, ``beyond_cutoff``: the
        network is further away than ``cutoff_m``), and the source geometry.
    reached
        DataFrame, one row per (source, reached node): ``source_id``, ``node``
        (graph node id), ``distance_m`` (walking metres including the snap),
        ordered by source then distance.
    cutoff_m
        The walking distance.
    crs
        The graph's CRS.
    """

    sources: gpd.GeoDataFrame
    reached: pd.DataFrame
    cutoff_m: float
    crs: CRS
    _index: StreetIndex = field(repr=False)
    _starts: _Starts = field(repr=False)
    _src_pos: np.ndarray = field(repr=False)
    _node_pos: np.ndarray = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-source summary table (``sources`` without geometry)."""
        return pd.DataFrame(self.sources.drop(columns="geometry"))

    def nodes(self, source_id: Hashable) -> pd.Series:
        """Distances (metres) of the nodes reached from one source, indexed by node id."""
        ids = pd.Index(self.sources["source_id"])
        if source_id not in ids:
            raise KeyError(f"no source with source_id {source_id!r}")
        sel = self._src_pos == int(ids.get_loc(source_id))
        return pd.Series(
            self.reached["distance_m"].to_numpy()[sel],
            index=pd.Index(self.reached["node"].to_numpy()[sel], name="node"),
            name="distance_m",
        )

    def _edge_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row of ``reached``, edge position, covered fraction) of every reached edge."""
        idx = self._index
        deg = idx.edge_ptr[self._node_pos + 1] - idx.edge_ptr[self._node_pos]
        total = int(deg.sum())
        rep = np.repeat(np.arange(self._node_pos.size), deg)
        start = np.repeat(idx.edge_ptr[self._node_pos], deg)
        within = np.arange(total) - np.repeat(np.cumsum(deg) - deg, deg)
        edge = start + within
        dist = self.reached["distance_m"].to_numpy()[rep]
        length = idx.edge_length[edge]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(length > 0, (self.cutoff_m - dist) / length, 1.0)
        frac = np.clip(frac, 0.0, 1.0)
        keep = frac > 0
        return rep[keep], edge[keep], frac[keep]

    def edges(self) -> pd.DataFrame:
        """Every directed edge reached from each source.

        Columns ``source_id``, ``u``, ``v``, ``key`` (the graph edge),
        ``length_m`` and ``covered_fraction`` (the share of the edge, from
        ``u``, within ``cutoff_m``; 1.0 for whole edges).
        """
        row, edge, frac = self._edge_parts()
        src = self._src_pos[row]
        idx = self._index
        return pd.DataFrame(
            {
                "source_id": self.sources["source_id"].to_numpy()[src],
                "u": idx.node_ids[idx.edge_u[edge]],
                "v": idx.node_ids[idx.edge_v[edge]],
                "key": idx.edge_key[edge],
                "length_m": idx.edge_length[edge],
                "covered_fraction": frac,
            }
        )

    def to_polygons(self, *, buffer_m: float = 25.0, clip_partial: bool = True) -> gpd.GeoDataFrame:
        """Catchment polygons: the reached street segments buffered by ``buffer_m``.

        Each directed edge leaving a reached node is kept up to the cutoff
        (:func:`shapely.ops.substring`; the whole edge when ``clip_partial`` is
        False). The reached nodes and the snap connectors (source vertex to
        its node) are buffered too, so a cutoff of 0 still gives a disc.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per source in input order: ``source_id``, ``n_nodes``,
            ``status``, ``area_m2`` and the polygon (None when nothing is
            reached), in the graph's CRS.
        """
        if not (np.isfinite(buffer_m) and buffer_m > 0):
            raise InputError(f"buffer_m must be a positive number of metres, got {buffer_m!r}.")
        idx = self._index
        n_src = len(self.sources)
        row, edge, frac = self._edge_parts()
        src = self._src_pos[row]
        # a street walked whole in both directions is drawn once (same ends, same length)
        whole = frac >= 1.0
        lo = np.minimum(idx.edge_u[edge], idx.edge_v[edge])
        hi = np.maximum(idx.edge_u[edge], idx.edge_v[edge])
        twin = pd.DataFrame({"s": src, "lo": lo, "hi": hi, "l": idx.edge_length[edge]}).duplicated()
        keep = ~(whole & twin.to_numpy())
        src, edge, frac = src[keep], edge[keep], frac[keep]
        geoms = idx.edge_geometries(edge)
        if clip_partial:
            for i in np.flatnonzero(frac < 1.0):
                geoms[i] = substring(geoms[i], 0.0, float(frac[i]), normalized=True)
        st = self._starts
        ok = (st.offset <= self.cutoff_m) & (st.offset > 0)
        connectors = (
            shapely.linestrings(np.stack([st.vxy[ok], idx.xy[st.node[ok]]], axis=1))
            if ok.any()
            else np.empty(0, dtype=object)
        )
        # a node is covered by the round cap of an edge leaving it; lone nodes get a disc
        lone = np.ones(self._node_pos.size, dtype=bool)
        lone[row] = False
        part_src = np.concatenate([src, st.src[ok], self._src_pos[lone]])
        parts = np.concatenate([geoms, connectors, shapely.points(idx.xy[self._node_pos[lone]])])
        # buffering each piece and then dissolving per source is much faster in GEOS
        # than buffering one self-overlapping MultiLineString (both directions of every street)
        buffered = shapely.buffer(parts, buffer_m)
        order = np.argsort(part_src, kind="stable")
        part_src, buffered = part_src[order], buffered[order]
        bounds = np.searchsorted(part_src, np.arange(n_src + 1))
        out = np.full(n_src, None, dtype=object)
        for s in range(n_src):
            if bounds[s + 1] > bounds[s]:
                out[s] = shapely.union_all(buffered[bounds[s] : bounds[s + 1]])
        polys = gpd.GeoSeries(out, crs=self.crs)
        return gpd.GeoDataFrame(
            {
                "source_id": self.sources["source_id"].to_numpy(),
                "n_nodes": self.sources["n_nodes"].to_numpy(),
                "status": self.sources["status"].to_numpy(),
                "area_m2": polys.area.to_numpy(),
            },
            geometry=polys,
            crs=self.crs,
        )

    def union(self) -> pd.DataFrame:
        """Nodes reached from any source, by one multi-source Dijkstra (``min_only``).

        Returns
        -------
        pandas.DataFrame
            ``node``, ``distance_m`` (to the nearest source, snap included) and
            ``source_id`` (that source), ordered by distance.
        """
        idx = self._index
        n = idx.n_nodes
        n_src = len(self.sources)
        ok = self._starts.offset <= self.cutoff_m
        srcs = np.unique(self._starts.src[ok])
        if srcs.size == 0:
            return pd.DataFrame({"node": idx.node_ids[:0], "distance_m": np.empty(0),
                                 "source_id": self.sources["source_id"].to_numpy()[:0]})
        A = _augmented(idx, self._starts, n_src)
        dist, _, origin = dijkstra(
            A, directed=True, indices=n + srcs, limit=self.cutoff_m, min_only=True,
            return_predecessors=True,
        )
        dist = dist[:n]
        hit = np.flatnonzero(np.isfinite(dist))
        hit = hit[np.argsort(dist[hit], kind="stable")]
        return pd.DataFrame(
            {
                "node": idx.node_ids[hit],
                "distance_m": dist[hit],
                "source_id": self.sources["source_id"].to_numpy()[origin[:n][hit] - n],
            }
        )


# --------------------------------------------------------------------------- catchments


def network_catchments(
    graph: nx.MultiDiGraph | StreetIndex,
    sources: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    cutoff_m: float,
    source_ids: Sequence[Hashable] | None = None,
    densify_m: float = 20.0,
    max_snap_m: float | None = None,
    batch_size: int | None = None,
) -> NetworkCatchments:
    """Nodes reachable within ``cutoff_m`` walking metres of each source.

    One batched Dijkstra (:func:`scipy.sparse.csgraph.dijkstra` with
    ``indices=`` and ``limit=cutoff_m``) over the CSR form of the graph, from
    one virtual start node per source (see the module notes for how points,
    lines and polygons are joined to the network).

    Parameters
    ----------
    graph
        A projected street graph (``G.graph["crs"]``, node ``x``/``y``, edge
        ``length``), e.g. from :func:`graph_from_osm_xml`, or a
        :class:`StreetIndex` built from one.
    sources
        Investment geometries; reprojected to the graph's CRS if needed.
    cutoff_m
        Walking distance in metres (>= 0), snapping distance included.
    source_ids
        One id per source; default the index of ``sources``. Must be unique.
    densify_m
        Vertex spacing (metres) when lines and polygon rings are snapped.
    max_snap_m
        Ignore source vertices further than this from the network (a source
        with none left gets status ``too_far_from_network``).
    batch_size
        Sources per Dijkstra call; default keeps a batch's dense distance block
        around 16 MB.

    Returns
    -------
    NetworkCatchments
        With nodes and distances per source, ``.to_polygons()``, ``.union()``.
    """
    if not (
        isinstance(cutoff_m, (int, float, np.number)) and np.isfinite(cutoff_m) and cutoff_m >= 0
    ):
        raise InputError(f"cutoff_m must be a finite number of metres >= 0, got {cutoff_m!r}.")
    if not (np.isfinite(densify_m) and densify_m > 0):
        raise InputError(f"densify_m must be positive, got {densify_m!r}.")
    index = graph if isinstance(graph, StreetIndex) else StreetIndex.from_graph(graph)
    ids = _source_ids(sources, source_ids)
    geoms = _as_geoseries(sources, index.crs)
    n_src = len(geoms)
    n = index.n_nodes
    starts, status = _snap(index, geoms, densify_m=densify_m, max_snap_m=max_snap_m)
    cutoff = float(cutoff_m)

    in_reach = starts.offset <= cutoff
    reachable = np.zeros(n_src, dtype=bool)
    reachable[starts.src[in_reach]] = True
    status[(status == "ok") & ~reachable] = "beyond_cutoff"
    todo = np.flatnonzero(reachable)

    A = _augmented(index, starts, n_src)
    size = batch_size or max(1, _BATCH_CELLS // (n + n_src))
    src_parts: list[np.ndarray] = []
    node_parts: list[np.ndarray] = []
    dist_parts: list[np.ndarray] = []
    for b in range(0, todo.size, size):
        chunk = todo[b : b + size]
        D = dijkstra(A, directed=True, indices=n + chunk, limit=cutoff)
        flat = np.flatnonzero(D < np.inf)  # 1-D scan: faster than a 2-D nonzero
        r, c = np.divmod(flat, D.shape[1])
        real = c < n  # drop the virtual start nodes
        src_parts.append(chunk[r[real]])
        node_parts.append(c[real])
        dist_parts.append(D.ravel()[flat[real]])
    s, nd, d = (np.concatenate(p) if p else np.empty(0, t)
                for p, t in ((src_parts, np.int64), (node_parts, np.int64), (dist_parts, float)))
    order = np.lexsort((nd, d, s))
    s, nd, d = s[order], nd[order], d[order]
    logger.info(
        "network catchments: %d sources (%d reachable), cutoff %.0f m, %d node visits",
        n_src, todo.size, cutoff, s.size,
    )

    id_values = ids.to_numpy()
    reached = pd.DataFrame({"source_id": id_values[s], "node": index.node_ids[nd], "distance_m": d})
    first = np.full(n_src, -1, dtype=np.int64)
    first_d = np.full(n_src, np.nan)
    # nearest snapped node per source (the first start after sorting by offset)
    by_off = np.lexsort((starts.offset, starts.src))
    ss = starts.src[by_off]
    head = np.r_[True, ss[1:] != ss[:-1]] if ss.size else np.zeros(0, dtype=bool)
    first[ss[head]] = starts.node[by_off][head]
    first_d[ss[head]] = starts.offset[by_off][head]
    snapped = np.array([index.node_ids[f] if f >= 0 else None for f in first], dtype=object)
    table = gpd.GeoDataFrame(
        {
            "source_id": id_values,
            "snapped_node": snapped,
            "snap_distance_m": first_d,
            "n_start_nodes": np.bincount(starts.src, minlength=n_src),
            "n_nodes": np.bincount(s, minlength=n_src),
            "status": status.astype(str),
        },
        geometry=geoms.reset_index(drop=True),
        crs=index.crs,
    )
    return NetworkCatchments(
        sources=table, reached=reached, cutoff_m=cutoff, crs=index.crs,
        _index=index, _starts=starts, _src_pos=s, _node_pos=nd,
    )


def euclidean_catchments(
    sources: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    radius_m: float,
    source_ids: Sequence[Hashable] | None = None,
) -> gpd.GeoDataFrame:
    """Straight-line catchments: each source buffered by ``radius_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per source in input order: ``source_id``, ``radius_m``,
        ``area_m2`` and the buffer (None for an empty source geometry), in the
        sources' (projected) CRS.
    """
    if not (np.isfinite(radius_m) and radius_m >= 0):
        raise InputError(f"radius_m must be a finite number of metres >= 0, got {radius_m!r}.")
    ids = _source_ids(sources, source_ids)
    geoms = sources.geometry if isinstance(sources, gpd.GeoDataFrame) else sources
    if not isinstance(geoms, gpd.GeoSeries):
        raise InputError("sources must be a GeoDataFrame or GeoSeries.")
    crs = require_projected(geoms, what="the source layer")
    arr = np.asarray(geoms.values, dtype=object)
    bad = shapely.is_missing(arr) | shapely.is_empty(arr)
    out = np.full(arr.size, None, dtype=object)
    out[~bad] = shapely.buffer(arr[~bad], radius_m)
    polys = gpd.GeoSeries(out, crs=crs)
    return gpd.GeoDataFrame(
        {
            "source_id": ids.to_numpy(),
            "radius_m": float(radius_m),
            "area_m2": polys.area.to_numpy(),
        },
        geometry=polys,
        crs=crs,
    )
