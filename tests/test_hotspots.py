"""Tests of trygg_geo.hotspots: Getis-Ord Gi* hot and cold spots."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from libpysal.weights import DistanceBand

from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
    TryggGeoWarning,
)
from trygg_geo.hotspots import HotSpotResult, hot_spots

X0, Y0 = 674_000.0, 6_580_000.0
EXTENT = 5_000.0
CENTRES = [(X0 + 1_000, Y0 + 1_000), (X0 + 3_600, Y0 + 3_900), (X0 + 4_100, Y0 + 1_400)]


def _points(xy: np.ndarray, crs: object = 3006) -> gpd.GeoDataFrame:
    n = len(xy)
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"i{i}" for i in range(n)],
            "date": pd.Timestamp("2024-05-01"),
            "category": "ordningsstorning",
            "source_row": np.arange(2, n + 2),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=crs,
    )


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(0, EXTENT, size=(n, 2)) + [X0, Y0]


@pytest.fixture(scope="module")
def planted() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    parts = [_uniform(rng, 2_000)] + [rng.normal(c, 120, size=(150, 2)) for c in CENTRES]
    xy = np.vstack(parts)
    inside = ((xy >= [X0, Y0]) & (xy < [X0 + EXTENT, Y0 + EXTENT])).all(axis=1)
    return _points(xy[inside])


@pytest.fixture(scope="module")
def planted_result(planted: gpd.GeoDataFrame) -> HotSpotResult:
    return hot_spots(planted, cell_size=250, seed=1)


def test_planted_clusters_are_hot(planted: gpd.GeoDataFrame, planted_result: HotSpotResult) -> None:
    cells = planted_result.cells
    assert len(cells) == 20 * 20
    assert cells.crs.to_epsg() == 3006
    assert int(cells["count"].sum()) == len(planted)
    hot = cells[cells["gi_class"] == "hot"]
    for cx, cy in CENTRES:
        centre_cell = cells[cells.contains(shapely.Point(cx + 1, cy + 1))]
        assert len(centre_cell) == 1
        assert centre_cell["gi_class"].iloc[0] == "hot"
        assert centre_cell["gi_bin"].iloc[0] == 3
    # hot cells lie near a planted centre (within the cluster's spread plus one band)
    c = shapely.get_coordinates(hot.centroid.values)
    d = np.min([np.hypot(c[:, 0] - x, c[:, 1] - y) for x, y in CENTRES], axis=0)
    assert d.max() < 800
    spots = planted_result.hot_spots()
    assert len(spots) == 3
    assert list(spots["hot_spot_id"]) == [1, 2, 3]
    assert spots["gi_z_max"].is_monotonic_decreasing
    for cx, cy in CENTRES:
        assert spots.contains(shapely.Point(cx + 1, cy + 1)).sum() == 1
    assert spots["n_units"].sum() == len(hot)
    assert spots["count"].sum() == hot["count"].sum()
    assert (spots["gi_p_min"] <= planted_result.p_threshold).all()
    assert spots.crs == cells.crs


def test_classes_and_bins_agree(planted_result: HotSpotResult) -> None:
    c = planted_result.cells
    assert set(c["gi_class"]) <= {"hot", "cold", "ns"}
    assert c["gi_bin"].between(-3, 3).all()
    hot, cold, ns = (c[c["gi_class"] == k] for k in ("hot", "cold", "ns"))
    assert (hot["gi_z"] > 0).all() and (hot["gi_bin"] >= 2).all()
    assert (cold["gi_z"] < 0).all() and (cold["gi_bin"] <= -2).all()
    assert (ns["gi_bin"].abs() <= 1).all()
    names = {3: "hot_99", 2: "hot_95", 1: "hot_90", 0: "not_significant", -1: "cold_90",
             -2: "cold_95", -3: "cold_99"}
    assert list(c["hotspot_class"]) == [names[b] for b in c["gi_bin"]]
    assert (hot["gi_p"] <= planted_result.p_threshold).all()
    assert (ns["gi_p"] > planted_result.p_threshold).all()
    assert planted_result.p_threshold < 0.05  # the FDR cut-off is stricter than alpha
    assert c["gi_p_sim"].between(0.002, 1).all()
    frame = planted_result.to_frame()
    assert "geometry" not in frame.columns and len(frame) == len(c)


def test_uniform_pattern_gives_almost_no_hot_cells() -> None:
    for seed in range(3):
        rng = np.random.default_rng(100 + seed)
        res = hot_spots(_points(_uniform(rng, 2_000)), cell_size=250, seed=seed)
        assert len(res.cells) == 400
        assert res.n_hot <= 0.05 * len(res.cells)
        assert res.n_hot <= 4


def test_without_fdr_more_cells_are_significant(planted: gpd.GeoDataFrame,
                                                planted_result: HotSpotResult) -> None:
    raw = hot_spots(planted, cell_size=250, seed=1, fdr=False)
    assert raw.p_threshold == 0.05
    assert raw.n_hot > planted_result.n_hot


def test_seeded_results_are_reproducible(planted: gpd.GeoDataFrame,
                                         planted_result: HotSpotResult) -> None:
    again = hot_spots(planted, cell_size=250, seed=1)
    pd.testing.assert_frame_equal(again.to_frame(), planted_result.to_frame())
    other = hot_spots(planted, cell_size=250, seed=2)
    assert not np.array_equal(other.cells["gi_z"], planted_result.cells["gi_z"])


def test_analytic_z_matches_ord_getis_formula() -> None:
    rng = np.random.default_rng(5)
    pts = _points(_uniform(rng, 300) / [10, 10] + [X0 * 0.9, Y0 * 0.9])  # 500 x 500 m
    res = hot_spots(pts, cell_size=100, permutations=0, p_value="normal", fdr=False)
    c = res.cells
    x = c["count"].to_numpy(float)
    xy = np.column_stack([c.centroid.x, c.centroid.y])
    n = len(x)
    # binary weights within 1.5 cells, self included (Gi*), Ord & Getis (1995) eq. 8
    wij = (np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
           <= 150).astype(float)
    xbar, s = x.mean(), math.sqrt((x**2).mean() - x.mean() ** 2)
    sw = wij.sum(axis=1)
    z = (wij @ x - xbar * sw) / (s * np.sqrt((n * (wij**2).sum(axis=1) - sw**2) / (n - 1)))
    np.testing.assert_allclose(c["gi_z"].to_numpy(), z, rtol=1e-9)
    np.testing.assert_array_equal(c["n_neighbours"].to_numpy(), sw - 1)
    assert c["gi_p_sim"].isna().all()


def test_points_on_cell_edges_are_counted_once() -> None:
    # points exactly on grid lines and corners of a 100 m grid
    xy = np.array(
        [
            [X0, Y0],  # south-west corner of the grid
            [X0 + 100, Y0 + 50],  # on a vertical edge -> the cell east of it
            [X0 + 50, Y0 + 100],  # on a horizontal edge -> the cell north of it
            [X0 + 100, Y0 + 100],  # on a corner -> north-east
            [X0 + 300, Y0 + 300],  # the north-east extreme
            [X0 + 150, Y0 + 150],
            [X0 + 199.999, Y0 + 250],
        ]
    )
    res = hot_spots(_points(xy), cell_size=100, permutations=99)
    c = res.cells.set_index(["row", "col"])
    assert int(c["count"].sum()) == len(xy)
    assert c["count"].max() <= 3
    # 4 x 4 grid, row 0 is the north row (y 300..400), col 0 the west column
    assert len(res.cells) == 16
    expected = {(3, 0): 1, (3, 1): 1, (2, 0): 1, (2, 1): 2, (0, 3): 1, (1, 1): 1}
    for key, n in expected.items():
        assert c.loc[key, "count"] == n, key
    assert c["count"].sum() == sum(expected.values())
    # each cell polygon contains its own points (east/north edges excluded)
    cell = c.loc[(2, 1)].geometry
    assert cell.bounds == (X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)


def _four_areas() -> gpd.GeoDataFrame:
    boxes, ids = [], []
    for i in range(4):
        for j in range(4):
            boxes.append(shapely.box(X0 + i * 1250, Y0 + j * 1250, X0 + (i + 1) * 1250,
                                     Y0 + (j + 1) * 1250))
            ids.append(f"A{i}{j}")
    return gpd.GeoDataFrame({"area_id": ids, "name": [f"Område {a}" for a in ids]},
                            geometry=boxes, crs=3006)


def test_areas_count_each_point_once_and_report_outside() -> None:
    rng = np.random.default_rng(11)
    xy = np.vstack([
        _uniform(rng, 400),
        [[X0 + 1250, Y0 + 600]],  # on the shared edge of A00 and A10 -> A00 (first)
        [[X0 + 1250, Y0 + 1250]],  # on a corner of four areas -> A00
        [[X0 - 500, Y0 - 500], [X0 + 9_000, Y0]],  # in no area
    ])
    pts = _points(xy)
    with pytest.warns(DataQualityWarning, match="2 of 404 points lie in no area"):
        res = hot_spots(pts, areas=_four_areas(), permutations=199)
    c = res.cells
    assert res.unit == "area" and res.id_column == "area_id"
    assert list(c["area_id"]) == list(_four_areas()["area_id"])
    assert next(iter(c["name"])) == "Område A00"
    assert int(c["count"].sum()) + len(res.outside) == len(pts) == res.n_points
    assert list(res.outside["source_row"]) == [404, 405]
    expected_a00 = int(pts.iloc[:400].within(_four_areas().geometry.iloc[0]).sum()) + 2
    assert c.loc[0, "count"] == expected_a00
    # default distance band: every area gets at least one neighbour (here: the rook band)
    assert res.distance_band == pytest.approx(1250)
    assert (c["n_neighbours"] >= 2).all()


def test_knn_weights_and_options(planted: gpd.GeoDataFrame) -> None:
    res = hot_spots(planted, cell_size=500, k=8, permutations=199)
    assert res.k == 8 and res.distance_band is None and res.weights.startswith("knn 8")
    assert (res.cells["n_neighbours"] == 8).all()
    with pytest.raises(InputError, match="not both"):
        hot_spots(planted, distance_band=600, k=8)
    with pytest.warns(TryggGeoWarning, match="smallest pseudo p-value"):
        sim = hot_spots(planted, cell_size=250, p_value="sim", permutations=99)
    assert sim.n_hot == 0  # the documented weakness of pseudo p-values under FDR
    with pytest.raises(InputError, match="permutations"):
        hot_spots(planted, permutations=0)


def test_distance_band_matches_libpysal(planted: gpd.GeoDataFrame) -> None:
    res = hot_spots(planted, cell_size=500, distance_band=1_100, permutations=99)
    xy = np.column_stack([res.cells.centroid.x, res.cells.centroid.y])
    w = DistanceBand(xy, threshold=1_100, binary=True, silence_warnings=True)
    assert list(res.cells["n_neighbours"]) == [w.cardinalities[i] for i in w.id_order]
    assert res.cells["n_neighbours"].max() == 12  # offsets within 2.2 cells: 4 + 4 + 4


def test_bad_input_refused(planted: gpd.GeoDataFrame) -> None:
    with pytest.raises(CRSError, match="project"):
        hot_spots(planted.to_crs(4326))
    with pytest.raises(EmptyLayerError):
        hot_spots(planted.iloc[0:0])
    with pytest.raises(MissingColumnError):
        hot_spots(planted, areas=_four_areas().drop(columns="area_id"))
    dup = _four_areas()
    dup.loc[1, "area_id"] = "A00"
    with pytest.raises(InputError, match="more than once"):
        hot_spots(planted, areas=dup)
    with pytest.raises(CRSError, match=r"^the area layer is in WGS 84 \(EPSG:4326\), a geographic "
                       "CRS in degrees") as e:
        hot_spots(planted, areas=_four_areas().to_crs(4326))
    assert "EPSG:3006" in (e.value.fix or "")
    with pytest.raises(CRSError, match="^the area layer has no CRS"):
        hot_spots(planted, areas=_four_areas().set_crs(None, allow_override=True))


def test_equal_counts_give_no_spots_with_warning() -> None:
    xy = np.array([[X0 + 50 + 100 * i, Y0 + 50 + 100 * j] for i in range(4) for j in range(4)])
    with pytest.warns(DataQualityWarning, match="same count"):
        res = hot_spots(_points(xy), cell_size=100)
    assert (res.cells["gi_class"] == "ns").all() and (res.cells["gi_z"] == 0).all()
    assert res.hot_spots().empty
    assert "hot_spot_id" in res.hot_spots().columns


def test_places_layer_holds_only_dissolved_significant_spots() -> None:
    """Issue 14, point 3: otrygga_platser is the spots, not the grid."""
    import geopandas as gpd
    import numpy as np

    from trygg_geo.hotspots import hot_spots

    rng = np.random.default_rng(1)
    bg = rng.uniform(0, 4000, size=(800, 2))
    cluster = rng.normal(1500, 90, size=(200, 2))
    xy = np.vstack([bg, cluster]) + [670000, 6580000]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*xy.T), crs=3006)
    res = hot_spots(pts, cell_size=250, permutations=199, seed=0)
    places = res.places()
    assert len(places) < len(res.cells) / 10
    hot = places[places["spot_class"] == "hot"]
    assert len(hot) == len(res.hot_spots()) >= 1
    centre = gpd.points_from_xy([671500], [6581500])[0]
    assert hot.contains(centre).any()
    assert set(places["confidence"]) <= {90, 95, 99}
    assert places["count"].sum() == res.cells.loc[res.cells["gi_class"] != "ns", "count"].sum()
    assert places.crs.to_epsg() == 3006
    small = res.places(min_count=10_000)
    assert small["count"].isna().all() and small["count_suppressed"].all()
