"""reconcile_districts: the register's district column against the placed geometry.

Two districts side by side in SWEREF 99 TM (metres from an origin): Väster (x 0..300) and Öster
(x 300..600), both y 0..400; a third, Norr (y 400..800), touches neither street below.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, box

from trygg_geo.geocode import Gazetteer, geocode_register, reconcile_districts

E0, N0 = 674000.0, 6581000.0
CRS = "EPSG:3006"


def b(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return box(E0 + x0, N0 + y0, E0 + x1, N0 + y1)


def line(*pts: tuple[float, float]) -> LineString:
    return LineString([(E0 + x, N0 + y) for x, y in pts])


def pt(x: float, y: float) -> Point:
    return Point(E0 + x, N0 + y)


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_id": ["01", "02", "03"], "name": ["Väster", "Öster", "Norr"]},
        geometry=[b(0, 0, 300, 400), b(300, 0, 600, 400), b(0, 400, 600, 800)],
        crs=CRS,
    )


def placed_frame(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    geoms = [r.pop("geometry") for r in rows]
    df = pd.DataFrame(rows)
    df.insert(0, "source_row", np.arange(2, len(rows) + 2))
    return gpd.GeoDataFrame(df, geometry=geoms, crs=CRS)


def test_street_crossing_two_districts_is_clipped_to_the_named_one(
    areas: gpd.GeoDataFrame,
) -> None:
    street = line((100, 200), (500, 200))  # 200 m in Väster, 200 m in Öster
    placed = placed_frame([
        {"district": "Öster", "geocode_method": "street", "geocode_flag": "street_level",
         "geometry": street},
        {"district": "väster", "geocode_method": "street", "geocode_flag": "street_level",
         "geometry": street},
    ])
    out = reconcile_districts(placed, areas)
    oster, vaster = areas.geometry.iloc[1], areas.geometry.iloc[0]
    g0, g1 = out.geometry.iloc[0], out.geometry.iloc[1]
    assert g0.geom_type == "LineString" and g1.geom_type == "LineString"
    assert g0.within(oster) and not g0.intersects(vaster.buffer(-1))
    assert g1.within(vaster) and not g1.intersects(oster.buffer(-1))
    assert g0.length == pytest.approx(200.0) and g1.length == pytest.approx(200.0)
    assert out["geocode_flag"].tolist() == ["street_level,district_from_register"] * 2
    # the input is not changed
    assert placed.geometry.iloc[0].equals(street)
    assert placed["geocode_flag"].tolist() == ["street_level"] * 2


def test_multiline_street_stays_a_line_after_clipping(areas: gpd.GeoDataFrame) -> None:
    street = MultiLineString([line((50, 100), (550, 100)), line((250, 300), (450, 300))])
    placed = placed_frame([{"district": "02", "geocode_method": "street", "geocode_flag": "",
                            "geometry": street}])
    out = reconcile_districts(placed, areas)  # the district cell names the area_id
    g = out.geometry.iloc[0]
    assert g.geom_type == "MultiLineString"
    assert g.within(areas.geometry.iloc[1])
    assert g.length == pytest.approx(250.0 + 150.0)
    assert out["geocode_flag"].iloc[0] == "district_from_register"


def test_point_outside_its_district_is_flagged_not_moved(areas: gpd.GeoDataFrame) -> None:
    p = pt(450, 100)  # in Öster
    placed = placed_frame([
        {"district": "Väster", "geocode_method": "exact", "geocode_flag": "", "geometry": p},
        {"district": "Väster", "geocode_method": "street", "geocode_flag": "street_level",
         "geometry": line((350, 50), (550, 50))},
    ])
    out = reconcile_districts(placed, areas)
    assert out["geocode_flag"].tolist() == ["district_mismatch", "street_level,district_mismatch"]
    assert out.geometry.iloc[0].equals(p)
    assert out.geometry.iloc[1].equals(placed.geometry.iloc[1])


def test_rows_without_or_with_unknown_district_are_unchanged(areas: gpd.GeoDataFrame) -> None:
    crossing = line((100, 200), (500, 200))
    placed = placed_frame([
        {"district": None, "geocode_method": "street", "geocode_flag": "street_level",
         "geometry": crossing},
        {"district": "Söder", "geocode_method": "street", "geocode_flag": "street_level",
         "geometry": crossing},
        {"district": np.nan, "geocode_method": "exact", "geocode_flag": "", "geometry": pt(10, 10)},
        # inside its district, and a non-street match that crosses: neither is touched
        {"district": "Öster", "geocode_method": "exact", "geocode_flag": "ambiguous",
         "geometry": pt(450, 100)},
        {"district": "Öster", "geocode_method": "between", "geocode_flag": "",
         "geometry": crossing},
        # a street that only touches its district at a point is not cut to that point
        {"district": "Norr", "geocode_method": "street", "geocode_flag": "",
         "geometry": line((100, 400), (100, 100))},
    ])
    out = reconcile_districts(placed, areas)
    assert out["geocode_flag"].tolist() == ["street_level", "street_level", "", "ambiguous", "",
                                            ""]
    for a, c in zip(placed.geometry, out.geometry, strict=True):
        assert a.equals(c)


def test_row_count_order_index_and_crs_are_kept(areas: gpd.GeoDataFrame) -> None:
    rows = []
    for k in range(9):
        rows.append({"district": ["Väster", "Öster", None][k % 3], "geocode_method": "street",
                     "geocode_flag": None, "geometry": line((20 * k, 200), (580 - 20 * k, 200))})
    placed = placed_frame(rows)
    placed.index = [90, 10, 50, 30, 70, 20, 80, 40, 60]
    out = reconcile_districts(placed, areas.to_crs("EPSG:3011"))  # reprojected to placed's CRS
    assert len(out) == len(placed)
    assert out.index.tolist() == placed.index.tolist()
    assert out["source_row"].tolist() == placed["source_row"].tolist()
    assert out.crs.equals(placed.crs)
    assert str(out["geocode_flag"].dtype) == "string"
    assert out["geocode_flag"].tolist() == ["district_from_register", "district_from_register", ""] * 3
    for k in range(9):
        g = out.geometry.iloc[k]
        if k % 3 == 2:
            assert g.equals(placed.geometry.iloc[k])
        else:
            assert g.within(areas.geometry.iloc[k % 3].buffer(0.01))


def test_nothing_to_reconcile(areas: gpd.GeoDataFrame) -> None:
    no_col = placed_frame([{"geocode_method": "exact", "geometry": pt(1, 1)}])
    assert reconcile_districts(no_col, areas) is no_col
    empty = placed_frame([{"district": "Väster", "geometry": pt(1, 1)}]).iloc[:0]
    assert reconcile_districts(empty, areas) is empty
    # a missing geometry on a row naming a district is left alone
    missing = placed_frame([{"district": "Väster", "geocode_method": "street",
                             "geocode_flag": "x", "geometry": None}])
    out = reconcile_districts(missing, areas)
    assert out.geometry.iloc[0] is None and out["geocode_flag"].tolist() == ["x"]


def test_after_geocoding_a_street_named_without_number(areas: gpd.GeoDataFrame) -> None:
    streets = gpd.GeoDataFrame({"name": ["Långgatan", "Korta gatan"]},
                               geometry=[line((50, 200), (550, 200)), line((350, 50), (350, 150))],
                               crs=CRS)
    addresses = gpd.GeoDataFrame({"street": ["Korta gatan"], "housenumber": ["1"]},
                                 geometry=[pt(355, 60)], crs=CRS)
    gaz = Gazetteer.from_frames(addresses=addresses, streets=streets)
    reg = pd.DataFrame({"source_row": [2, 3, 4], "kind": ["belysning"] * 3,
                        "address": ["Långgatan", "Långgatan", "Korta gatan 1"],
                        "district": ["Väster", pd.NA, "Väster"]})
    res = geocode_register(reg, gaz)
    assert res.placed["geocode_method"].tolist() == ["street", "street", "exact"]
    out = reconcile_districts(res.placed, areas)
    assert out["source_row"].tolist() == [2, 3, 4]
    flags = out["geocode_flag"].tolist()
    assert flags[0] == "street_level,district_from_register"
    assert out.geometry.iloc[0].within(areas.geometry.iloc[0])
    assert out.geometry.iloc[0].length == pytest.approx(250.0)
    assert flags[1] == "street_level"
    assert out.geometry.iloc[1].length == pytest.approx(500.0)
    assert flags[2].endswith("district_mismatch")
