"""Runs that cannot be right are refused (issue 9, point 3: geography and waves).

When fewer than half of the placed investments or of the incidents fall in any area, the run
stops with exit code 2 and a CRS hint; a configured wave without survey rows is an error.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.affinity import translate

INC = "handelser.csv"


def _xy(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    return (df["X"].str.replace(",", ".").astype(float), df["Y"].str.replace(",", ".").astype(float))


def _fmt(v: pd.Series, decimals: int) -> pd.Series:
    return v.map(lambda x: f"{x:.{decimals}f}".replace(".", ","))


def test_incidents_with_swapped_columns_are_refused_with_the_hint(case):
    def swap(df):
        df["X"], df["Y"] = df["Y"].copy(), df["X"].copy()
    case.edit_csv(INC, swap)
    case.run().expect(2, INC, "row 2", "swapped", "Fix")


def test_incidents_in_wgs84_declared_as_sweref_are_refused_with_the_hint(case):
    def to_degrees(df):
        x, y = _xy(df)
        pts = gpd.GeoSeries.from_xy(x, y, crs="EPSG:3006").to_crs("EPSG:4326")
        df["X"], df["Y"] = _fmt(pts.x, 6), _fmt(pts.y, 6)
    case.edit_csv(INC, to_degrees)
    case.run().expect(2, INC, "row 2", "WGS 84", "EPSG:4326", "Fix")


def test_incidents_declared_in_the_wrong_sweref_zone_are_refused(case):
    case.set_config("incidents", "crs", '"EPSG:3011"')
    case.run().expect(2, INC, "SWEREF99 TM", "EPSG:3006", "incidents.crs", "Fix")


def test_a_few_incidents_outside_the_areas_are_fine(case):
    def some_out(df):
        x, _ = _xy(df)
        df.loc[:9, "X"] = _fmt(x[:10] + 40_000, 1)  # 10 of 4,000 moved 40 km east, still in Sweden
    case.edit_csv(INC, some_out)
    case.run().expect(0)


def test_areas_far_from_every_investment_are_refused(case):
    p = case.path("stadsdelar.geojson")
    gdf = gpd.read_file(p)
    gdf["geometry"] = gdf.geometry.map(lambda g: translate(g, xoff=300_000))
    p.unlink()
    gdf.to_file(p, driver="GeoJSON")
    case.run().expect(2, "investeringar.csv", "placed investments", "0 %", "Fix")


@pytest.mark.parametrize("waves, missing", [("[2015, 2018, 2021, 2027]", "2027"),
                                            ("[2012, 2015, 2018]", "2012")])
def test_configured_waves_missing_from_the_survey(case, waves, missing):
    case.set_config("analysis", "waves", waves)
    case.run().expect(2, "trygghetsmatning.csv", missing, "[analysis] waves", "Fix")


def test_indicator_missing_from_the_survey_names_the_ones_found(case):
    case.set_config("survey", "indicator", '"otrygg_natt"')
    r = case.run()
    r.expect(2, "trygghetsmatning.csv", "otrygg_natt", "otrygg_kvall")


def test_geojson_still_loads_after_edit(case):
    # guards the helper above: the translated layer keeps its CRS
    p = case.path("stadsdelar.geojson")
    assert json.loads(p.read_text(encoding="utf-8"))["type"] == "FeatureCollection"


@pytest.mark.parametrize(("key", "value"), [("level", "0.9"), ("alpha", "0.1")])
def test_alpha_0_1_labels_every_interval_90_percent(case, key, value):
    """Interval labels follow the configured level: no "95 %" anywhere in map or report.

    ``level = 0.9`` is the key; ``alpha = 0.1`` is what older project files say.
    """
    case.set_config("analysis", key, value)
    case.run().expect(0)
    for name in ("karta.html", "rapport.md", "rapport.html"):
        text = case.path(name).read_text(encoding="utf-8")
        assert "90 % KI" in text or "90 % konfidensintervall" in text, name
        assert "95 %" not in text and "95%" not in text and "[[level]]" not in text, name
    # the GeoPackage's field descriptions (gpkg_data_columns) and aliases say no level
    import sqlite3

    con = sqlite3.connect(case.path("resultat.gpkg"))
    try:
        cols = con.execute("SELECT column_name, name, title, description FROM gpkg_data_columns"
                           ).fetchall()
    finally:
        con.close()
    assert cols, "the GeoPackage has no field descriptions"
    intervals = [c for c in cols if "_ci_" in str(c[0])]
    assert intervals, cols
    assert not [c for c in intervals if "95" in " ".join(str(x) for x in c[1:])], intervals


def test_a_run_that_can_estimate_nothing_exits_3_and_says_why(case):
    """No completed investment: the outputs are written, but the exit code is not 0."""
    case.edit_csv("investeringar.csv", lambda df: df.assign(**{"Färdigställd": ""}))
    r = case.run().expect(3, "ingen effekt kunde skattas", "Fix")
    r.assert_rows_accounted()
    assert (case.folder / "korning.json").is_file()
