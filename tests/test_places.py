"""Places residents report (issue 14, point 2): every row accounted for, repeated places."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo._errors import DataQualityWarning, InputError
from trygg_geo.geocode import Gazetteer
from trygg_geo.places import hot_spots_by_category, read_reports, repeated_places

CLIP = Path(__file__).parent / "data" / "stockholm_clip.osm.bz2"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_osm_xml(CLIP)


def test_table_with_addresses_and_swedish_coordinates(tmp_path: Path, gazetteer) -> None:
    addr = gazetteer.addresses.set_index(["street", "housenumber"]).geometry
    p17 = addr[("Tegnérgatan", "17")]
    # Swedish registers write the northing as X: 6581917 / 674146 in SWEREF 99 TM
    rows = [
        "Ärende;Inkommet;Kategori;Beskrivning;Adress;X;Y;Koordinatsystem",
        "A1;2024-03-02;Belysning;Mörkt vid <b>porten</b>;Tegnérgatan 2A;;;",
        f"A2;2024-03-09;Buskage;Skymmer sikten;;{p17.y:.1f};{p17.x:.1f};SWEREF 99 TM",
        "A3;2024-04-01;Belysning;Trasig lampa;;;;",
        "A4;5 maj 2024;Nedskräpning;;Tegnergatan 1;;;",
        "A5;2024-05-20;Belysning;Okänd gata;Påhittade vägen 99;;;",
        "A6;2024-05-21;Belysning;Skräprad;;abc;def;SWEREF 99 TM",
    ]
    path = tmp_path / "tyck_till.csv"
    path.write_text("\n".join(rows) + "\n", encoding="cp1252")
    with pytest.warns(DataQualityWarning, match="not numbers"):
        res = read_reports(path, gazetteer=gazetteer)
    assert len(res) == 6
    assert sorted(res.placed["source_row"].tolist() + res.unplaced["source_row"].tolist()) == \
        [2, 3, 4, 5, 6, 7]
    placed = res.placed.set_index("report_id")
    assert list(placed.index) == ["A1", "A2", "A4"]
    assert placed.crs.to_epsg() == 3006
    assert placed.loc["A1", "geometry"].distance(addr[("Tegnérgatan", "2A")]) < 1.0
    assert placed.loc["A2", "geometry"].distance(p17) < 1.0  # X/Y order detected
    assert placed.loc["A4", "geometry"].distance(addr[("Tegnérgatan", "1")]) < 1.0
    assert placed.loc["A1", "text"] == "Mörkt vid <b>porten</b>"  # kept raw; escaped on output
    assert placed.loc["A4", "date"] == pd.Timestamp("2024-05-05")
    un = res.unplaced.set_index("report_id")
    assert un.loc["A3", "reason"] == "no_location"
    assert un.loc["A3", "reason_text"] == "Varken koordinater eller adress."
    assert un.loc["A6", "reason"] == "bad_coordinates"
    assert "går inte att läsa som tal" in un.loc["A6", "reason_text"]
    assert un.loc["A5", "reason"] not in ("no_location", "no_gazetteer")


def test_without_gazetteer_address_rows_are_unplaced(tmp_path: Path) -> None:
    path = tmp_path / "rapporter.csv"
    path.write_text("id;kategori;adress;x;y\n1;mörkt;Storgatan 1;;\n2;mörkt;;674000;6581900\n",
                    encoding="utf-8")
    res = read_reports(path, crs="EPSG:3006", lang="en")
    assert res.placed["report_id"].tolist() == ["2"]
    assert res.unplaced["reason"].tolist() == ["no_gazetteer"]
    assert res.unplaced["reason_text"].iloc[0].startswith("An address only")
    with pytest.raises(InputError, match="neither coordinate columns"):
        bad = tmp_path / "bad.csv"
        bad.write_text("id;kategori\n1;mörkt\n", encoding="utf-8")
        read_reports(bad)


def test_vector_file_lines_become_points_and_empty_geometries_are_unplaced(tmp_path) -> None:
    gdf = gpd.GeoDataFrame(
        {"kategori": ["mörkt", "buskage", "mörkt"], "datum": ["2024-01-05", "2024-02-01", None],
         "kommentar": ["a", "b", "c"]},
        geometry=[shapely.Point(674000, 6581900),
                  shapely.LineString([(674100, 6581900), (674200, 6581900)]), None],
        crs="EPSG:3006")
    path = tmp_path / "trygghetsvandring.gpkg"
    gdf.to_file(path)
    res = read_reports(path, working_crs="EPSG:3011")
    assert len(res) == 3 and res.placed.crs.to_epsg() == 3011
    assert res.placed["place_flag"].tolist() == ["", "point_on_geometry"]
    assert res.unplaced["source_row"].tolist() == [3]
    assert res.unplaced["reason"].tolist() == ["no_geometry"]


def test_repeated_places_link_reports_within_50_m() -> None:
    rng = np.random.default_rng(0)
    # a path reported every 40 m over 200 m (one place), a pair 30 m apart, and singletons
    xs = [0, 40, 80, 120, 160, 200, 1000, 1030, 3000, 5000]
    ys = [0] * 6 + [500, 500, 0, 0]
    cats = ["mörkt"] * 5 + ["buskage", "mörkt", "mörkt", "x", "y"]
    pts = gpd.GeoDataFrame({"category": cats,
                            "date": pd.date_range("2024-01-01", periods=10, freq="7D")},
                           geometry=gpd.points_from_xy(np.array(xs) + 674000,
                                                       np.array(ys) + 6581000), crs=3006)
    pts = pts.iloc[rng.permutation(len(pts))]
    places = repeated_places(pts)
    assert places["n_reports"].tolist() == [6, 2]
    assert places.loc[0, "categories"] == "mörkt: 5, buskage: 1"
    assert places.loc[0, "geometry"].x == pytest.approx(674100)
    assert places.loc[0, "radius_m"] == pytest.approx(100)
    assert places.loc[0, "first_date"] == pd.Timestamp("2024-01-01")
    assert places.loc[0, "last_date"] == pd.Timestamp("2024-02-05")
    assert repeated_places(pts, distance_m=35)["n_reports"].tolist() == [2]
    assert places.crs.to_epsg() == 3006


def test_hot_spots_per_category() -> None:
    rng = np.random.default_rng(2)
    bg = rng.uniform(0, 3000, size=(300, 2))
    cl = rng.normal(1500, 100, size=(120, 2))
    xy = np.vstack([bg, cl]) + [670000, 6580000]
    cats = ["skräp"] * 200 + ["mörkt"] * 220  # mörkt: 100 spread out, 120 in one place
    pts = gpd.GeoDataFrame({"category": cats}, geometry=gpd.points_from_xy(*xy.T), crs=3006)
    res = hot_spots_by_category(pts, cell_size=250, permutations=99, min_reports=30)
    assert set(res) == {"alla", "skrap", "morkt"}
    centre = shapely.Point(671500, 6581500)
    assert res["morkt"].hot_spots().contains(centre).any()
    assert res["alla"].hot_spots().contains(centre).any()
    assert res["skrap"].n_hot <= 2
