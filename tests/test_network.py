"""Street graph from real OSM XML and network catchments (scipy Dijkstra vs networkx)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import CRS

from trygg_geo._errors import CRSError, InputError, MissingFileError
from trygg_geo.network import (
    StreetIndex,
    euclidean_catchments,
    graph_from_osm_xml,
    network_catchments,
)

OSM = Path("osm_stockholm") / "stockholm_norrmalm_ostermalm.osm"


@pytest.fixture(scope="module")
def graph(shared_data: Path) -> nx.MultiDiGraph:
    return graph_from_osm_xml(shared_data / OSM)


@pytest.fixture(scope="module")
def index(graph: nx.MultiDiGraph) -> StreetIndex:
    return StreetIndex.from_graph(graph)


def _node_points(graph: nx.MultiDiGraph, nodes: list, dx: float = 0.0) -> gpd.GeoSeries:
    xy = [(graph.nodes[n]["x"] + dx, graph.nodes[n]["y"]) for n in nodes]
    return gpd.GeoSeries(shapely.points(xy), crs=graph.graph["crs"])


def _sample_nodes(graph: nx.MultiDiGraph, k: int, seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    nodes = list(graph.nodes)
    return [nodes[i] for i in rng.choice(len(nodes), size=k, replace=False)]


def test_graph_is_projected_walk_network(graph: nx.MultiDiGraph) -> None:
    crs = CRS.from_user_input(graph.graph["crs"])
    assert crs.is_projected and crs.to_epsg() == 3006
    assert crs.axis_info[0].unit_name == "metre"
    # central Stockholm in SWEREF 99 TM
    xs = np.array([d["x"] for _, d in graph.nodes(data=True)])
    ys = np.array([d["y"] for _, d in graph.nodes(data=True)])
    assert 672_000 < xs.min() < xs.max() < 676_000
    assert 6_580_000 < ys.min() < ys.max() < 6_584_000
    lengths = np.array([d["length"] for _, _, d in graph.edges(data=True)])
    assert (lengths >= 0).all() and lengths.max() > 50
    # only highway ways survive the walk filter (buildings, landuse are gone); no pure cycleway
    for _, _, d in graph.edges(data=True):
        hw = d["highway"] if isinstance(d["highway"], list) else [d["highway"]]
        assert set(hw) != {"cycleway"}
        assert "foot" not in d and "sidewalk" not in d  # the filter's extra tags are not kept
    # walking is two-way: every edge has its reverse
    assert all(graph.has_edge(v, u) for u, v in graph.edges())
    assert nx.is_weakly_connected(graph)


def test_graph_other_crs_and_network_type(shared_data: Path, graph: nx.MultiDiGraph) -> None:
    drive = graph_from_osm_xml(shared_data / OSM, network_type="drive", crs="EPSG:3011")
    assert CRS.from_user_input(drive.graph["crs"]).to_epsg() == 3011
    assert 0 < drive.number_of_edges() < graph.number_of_edges()
    for _, _, d in drive.edges(data=True):
        hw = d["highway"] if isinstance(d["highway"], list) else [d["highway"]]
        assert not {"footway", "steps", "pedestrian"} & set(hw)


def test_graph_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        graph_from_osm_xml(tmp_path / "nope.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("not xml at all")
    with pytest.raises(InputError, match="bad.osm"):
        graph_from_osm_xml(bad)
    with pytest.raises(InputError, match="network_type"):
        graph_from_osm_xml(bad, network_type="tram")
    with pytest.raises(CRSError, match=r"^the street graph's target CRS \(crs=\) is in WGS 84 "
                       r"\(EPSG:4326\), a geographic CRS in degrees") as e:
        graph_from_osm_xml(bad, crs="EPSG:4326")
    assert e.value.fix is not None and "EPSG:3006" in e.value.fix


def test_cutoff_zero_is_the_snapped_node(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    nodes = _sample_nodes(graph, 4)
    c = network_catchments(index, _node_points(graph, nodes), cutoff_m=0)
    for i, n in enumerate(nodes):
        got = c.nodes(i)
        assert list(got.index) == [n]
        assert got.iloc[0] == 0.0
    assert (c.sources["snapped_node"].tolist()) == nodes
    assert (c.sources["snap_distance_m"] == 0).all()


def test_distances_equal_networkx(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    nodes = _sample_nodes(graph, 6, seed=7)
    c = network_catchments(index, _node_points(graph, nodes), cutoff_m=400, source_ids=list("abcdef"))
    for sid, n in zip("abcdef", nodes, strict=True):
        ref = nx.single_source_dijkstra_path_length(graph, n, cutoff=400, weight="length")
        got = c.nodes(sid)
        assert set(got.index) == set(ref)
        np.testing.assert_allclose(got.loc[list(ref)].to_numpy(), list(ref.values()), rtol=0, atol=1e-6)
    assert len(c.reached) == c.sources["n_nodes"].sum()


def test_snapping_distance_is_added(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    nodes = _sample_nodes(graph, 3, seed=3)
    pts = _node_points(graph, nodes, dx=3.0)  # 3 m east of a node
    c = network_catchments(index, pts, cutoff_m=250)
    for i in range(3):
        row = c.sources.iloc[i]
        snapped = row["snapped_node"]
        assert 0 < row["snap_distance_m"] <= 3.0 + 1e-9
        ref = nx.single_source_dijkstra_path_length(
            graph, snapped, cutoff=250 - row["snap_distance_m"], weight="length"
        )
        got = c.nodes(i)
        assert set(got.index) == set(ref)
        expected = np.array(list(ref.values())) + row["snap_distance_m"]
        np.testing.assert_allclose(got.loc[list(ref)].to_numpy(), expected, rtol=0, atol=1e-6)


def test_catchment_grows_with_cutoff(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    pts = _node_points(graph, _sample_nodes(graph, 5, seed=11), dx=2.0)
    previous = None
    sizes = []
    for cutoff in (0, 50, 150, 300, 600):
        c = network_catchments(index, pts, cutoff_m=cutoff)
        sets = [set(c.nodes(i).index) for i in range(5)]
        sizes.append(sum(len(s) for s in sets))
        if previous is not None:
            for a, b in zip(previous, sets, strict=True):
                assert a <= b
        previous = sets
    assert sizes == sorted(sizes) and sizes[-1] > 5 * max(sizes[1], 1)


def test_union_is_per_source_minimum(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    pts = _node_points(graph, _sample_nodes(graph, 8, seed=5), dx=1.5)
    c = network_catchments(index, pts, cutoff_m=300)
    u = c.union().set_index("node")
    best = c.reached.groupby("node")["distance_m"].min()
    assert set(u.index) == set(best.index)
    np.testing.assert_allclose(u.loc[best.index, "distance_m"].to_numpy(), best.to_numpy(), atol=1e-9)
    # the named source is one that reaches the node at that distance
    merged = c.reached.merge(u.reset_index(), on=["node", "source_id"], suffixes=("", "_u"))
    assert len(merged) == len(u)
    np.testing.assert_allclose(merged["distance_m"], merged["distance_m_u"], atol=1e-9)


def test_polygons_valid_and_on_the_network(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    pts = _node_points(graph, _sample_nodes(graph, 5, seed=2))
    c = network_catchments(index, pts, cutoff_m=300, source_ids=[f"s{i}" for i in range(5)])
    polys = c.to_polygons(buffer_m=15)
    assert list(polys["source_id"]) == [f"s{i}" for i in range(5)]
    assert polys.crs == CRS.from_user_input(graph.graph["crs"])
    assert polys.is_valid.all() and polys.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    edges = index.edge_geometries(np.arange(index.edge_u.size))
    near = shapely.union_all(shapely.buffer(edges, 15.1))  # + the chord error of round caps
    assert all(p.difference(near).area < 1e-6 for p in polys.geometry)
    # partial edges are clipped: the clipped polygon lies within cutoff + buffer of the source
    for p, src in zip(polys.geometry, pts, strict=True):
        far = shapely.distance(src, shapely.points(shapely.get_coordinates(p))).max()
        assert far <= 300 + 15 + 1.0
    whole = c.to_polygons(buffer_m=15, clip_partial=False)
    assert (polys.area <= whole.area + 1e-6).all() and (polys.area < whole.area).any()


def test_line_and_polygon_sources(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    a, b = _sample_nodes(graph, 2, seed=9)
    pa, pb = (shapely.Point(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in (a, b))
    line = shapely.LineString([pa, pb])
    inner = pa.buffer(60)
    crs = graph.graph["crs"]
    src = gpd.GeoDataFrame({"kind": ["line", "poly", "a", "b"]},
                           geometry=[line, inner, pa, pb], crs=crs)
    c = network_catchments(index, src, cutoff_m=200, source_ids=src["kind"])
    line_nodes = c.nodes("line")
    for end in ("a", "b"):  # a line reaches at least what its end points reach, no further
        end_nodes = c.nodes(end)
        assert set(end_nodes.index) <= set(line_nodes.index)
        assert (line_nodes.loc[end_nodes.index] <= end_nodes + 1e-9).all()
    inside = [n for n in graph.nodes if inner.contains(shapely.Point(graph.nodes[n]["x"], graph.nodes[n]["y"]))]
    assert inside and (c.nodes("poly").loc[inside] == 0).all()
    assert c.sources.loc[c.sources.source_id == "line", "n_start_nodes"].item() >= 2


def test_sources_are_never_dropped(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    n0 = next(iter(graph.nodes))
    x, y = graph.nodes[n0]["x"], graph.nodes[n0]["y"]
    geoms = [shapely.Point(x, y), None, shapely.Point(x + 5000, y), shapely.Point(x + 40, y + 40)]
    src = gpd.GeoSeries(geoms, crs=graph.graph["crs"])
    c = network_catchments(index, src, cutoff_m=100, max_snap_m=200)
    assert list(c.sources["status"]) == ["ok", "empty_geometry", "too_far_from_network", c.sources["status"][3]]
    assert c.sources["status"][3] in ("ok", "beyond_cutoff")
    assert c.sources.loc[1, "n_nodes"] == 0 and c.sources.loc[2, "n_nodes"] == 0
    polys = c.to_polygons(buffer_m=10)
    assert len(polys) == 4 and polys.geometry[1] is None and polys.geometry[2] is None
    # beyond the cutoff without a snap limit
    c2 = network_catchments(index, src.iloc[[2]], cutoff_m=100)
    assert c2.sources["status"].item() == "beyond_cutoff" and len(c2.reached) == 0


def test_input_errors(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    pts = _node_points(graph, _sample_nodes(graph, 2))
    with pytest.raises(InputError, match="not unique"):
        network_catchments(index, pts, cutoff_m=10, source_ids=["x", "x"])
    with pytest.raises(InputError, match="cutoff_m"):
        network_catchments(index, pts, cutoff_m=-1)
    with pytest.raises(CRSError, match=r"^the source layer has no CRS \(coordinate reference") as e:
        network_catchments(index, pts.set_crs(None, allow_override=True), cutoff_m=10)
    assert e.value.fix is not None and "set_crs" in e.value.fix
    wgs = nx.MultiDiGraph(crs="EPSG:4326")
    wgs.add_node(1, x=18.0, y=59.3)
    with pytest.raises(CRSError, match=r"the street graph \(G.graph\['crs'\]\) is in WGS 84") as e:
        network_catchments(wgs, pts, cutoff_m=10)
    assert e.value.fix is not None and "project it" in e.value.fix
    with pytest.raises(CRSError, match=r"the street graph \(G.graph\['crs'\]\) has no CRS"):
        network_catchments(nx.MultiDiGraph(), pts, cutoff_m=10)
    # sources in another CRS are reprojected, not misplaced
    c = network_catchments(index, pts.to_crs(4326), cutoff_m=0)
    assert (c.sources["snap_distance_m"] < 1e-3).all()


def test_euclidean_catchments() -> None:
    src = gpd.GeoSeries([shapely.Point(0, 0), None], crs="EPSG:3006")
    out = euclidean_catchments(src, radius_m=100, source_ids=["a", "b"])
    assert list(out["source_id"]) == ["a", "b"] and out.crs.to_epsg() == 3006
    assert out["area_m2"][0] == pytest.approx(np.pi * 100**2, rel=1e-2)  # 32-gon
    assert out.geometry[1] is None
    with pytest.raises(CRSError, match="the source layer is in WGS 84 .*, a geographic CRS"):
        euclidean_catchments(src.to_crs(4326), radius_m=100)
