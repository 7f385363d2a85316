"""The street-graph and catchment tests of test_network.py, on the OSM clip in tests/data.

test_network.py runs them on the full extract in ../shared/data (CI only); here the same test
functions run on tests/data/stockholm_clip.osm.bz2, so they run on every clone.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
import test_network as full  # the full-data tests, called here with the clip's graph
from pyproj import CRS, Transformer

from trygg_geo.network import StreetIndex, graph_from_osm_xml, network_catchments


@pytest.fixture(scope="module")
def graph(stockholm_clip_osm: Path) -> nx.MultiDiGraph:
    return graph_from_osm_xml(stockholm_clip_osm)


@pytest.fixture(scope="module")
def index(graph: nx.MultiDiGraph) -> StreetIndex:
    return StreetIndex.from_graph(graph)


# Birger Jarlsgatan x Tegnérgatan in SWEREF 99 TM (the gazetteer's intersection of the two)
CORNER_3006 = (674320.9, 6582029.0)

SUITE = [
    "test_graph_is_projected_walk_network",
    "test_cutoff_zero_is_the_snapped_node",
    "test_distances_equal_networkx",
    "test_snapping_distance_is_added",
    "test_catchment_grows_with_cutoff",
    "test_union_is_per_source_minimum",
    "test_polygons_valid_and_on_the_network",
    "test_line_and_polygon_sources",
    "test_sources_are_never_dropped",
    "test_input_errors",
]


@pytest.mark.parametrize("name", SUITE)
def test_full_data_suite_on_the_clip(name: str, graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    fn = getattr(full, name)
    given = {"graph": graph, "index": index}
    fn(**{p: given[p] for p in inspect.signature(fn).parameters})


def test_clip_graph_size_and_drive_network(
    stockholm_clip_osm: Path, graph: nx.MultiDiGraph
) -> None:
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (152, 376)
    assert nx.is_weakly_connected(graph)
    drive = graph_from_osm_xml(stockholm_clip_osm, network_type="drive", crs="EPSG:3011")
    assert CRS.from_user_input(drive.graph["crs"]).to_epsg() == 3011
    assert (drive.number_of_nodes(), drive.number_of_edges()) == (47, 77)
    for _, _, d in drive.edges(data=True):
        hw = d["highway"] if isinstance(d["highway"], list) else [d["highway"]]
        assert not {"footway", "steps", "pedestrian"} & set(hw)
    # SWEREF 99 18 00 coordinates, with a node at Birger Jarlsgatan x Tegnérgatan
    xy = np.array([(d["x"], d["y"]) for _, d in drive.nodes(data=True)])
    cx, cy = Transformer.from_crs(3006, 3011, always_xy=True).transform(*CORNER_3006)
    assert 153_000 < cx < 155_000 and 6_580_000 < cy < 6_581_000
    dist = np.hypot(xy[:, 0] - cx, xy[:, 1] - cy)
    assert dist.min() < 15 and dist.max() < 1000  # a few blocks round the corner


def test_walk_catchment_from_the_corner(graph: nx.MultiDiGraph, index: StreetIndex) -> None:
    corner = gpd.GeoSeries([shapely.Point(*CORNER_3006)], crs=3006)
    c = network_catchments(index, corner, cutoff_m=200)
    assert c.sources["status"].item() == "ok" and c.sources["snap_distance_m"].item() < 15
    got = c.nodes(0)
    ref = nx.single_source_dijkstra_path_length(
        graph, c.sources["snapped_node"].item(),
        cutoff=200 - c.sources["snap_distance_m"].item(), weight="length")
    assert set(got.index) == set(ref) and 10 < len(ref) < graph.number_of_nodes()
