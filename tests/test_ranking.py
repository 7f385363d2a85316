"""Where to act next (issue 14, point 4): a transparent, configurable ranking."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo._errors import InputError
from trygg_geo.ranking import rank_places

X0, Y0 = 674_000, 6_580_000


def _pts(xy, dates=None) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float) + [X0, Y0]
    data = {"date": pd.to_datetime(dates)} if dates is not None else {}
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(*xy.T), crs="EPSG:3011")


@pytest.fixture
def layers():
    rng = np.random.default_rng(4)
    # cell A (0-250, 0-250): 8 reports, 10 incidents, 200 m dark path
    # cell B (500-750, 0-250): 6 reports, 12 incidents, no dark path, a recent investment
    # cell C (1000-1250, 0-250): 2 reports (below min_count), 400 m dark path
    rep = _pts(np.vstack([rng.uniform(10, 240, (8, 2)), rng.uniform(510, 740, (6, 2)) * [1, 0.4],
                          [[1100, 100], [1120, 110]]]),
               dates=["2024-05-01"] * 16)
    inc = _pts(np.vstack([rng.uniform(10, 240, (10, 2)), rng.uniform(510, 740, (12, 2)) * [1, 0.4]]),
               dates=["2024-04-01"] * 22)
    dark = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0 + 20, Y0 + 50), (X0 + 220, Y0 + 50)]),
                                      shapely.LineString([(X0 + 1010, Y0 + 20),
                                                          (X0 + 1010, Y0 + 220),
                                                          (X0 + 1210, Y0 + 220)])],
                            crs="EPSG:3011")
    inv = gpd.GeoDataFrame({"completed": pd.to_datetime(["2023-06-01", "2015-01-01"])},
                           geometry=[shapely.Point(X0 + 600, Y0 + 50),
                                     shapely.Point(X0 + 100, Y0 + 100)], crs="EPSG:3011")
    return rep, inc, dark, inv


def test_ranking_orders_and_shows_every_input(layers) -> None:
    rep, inc, dark, inv = layers
    out = rank_places(reports=rep, incidents=inc, dark_paths=dark, investments=inv)
    first = out.iloc[0]
    assert first["place_id"] == "r0k0" and first["rank"] == 1
    assert first["reports"] == 8 and first["incidents_per_ha"] == pytest.approx(10 / 6.25)
    assert first["dark_m"] == pytest.approx(200)
    assert first["recent_investments"] == 0  # the 2015 investment is not recent
    assert first["weights"] == "reports 0.35, incidents 0.30, dark_m 0.25, no_investment 0.10"
    by_id = out.set_index("place_id")
    assert by_id.loc["r0k2", "recent_investments"] == 1
    # C: its two reports are not published and do not count; its dark path does
    assert np.isnan(by_id.loc["r0k4", "reports"]) and by_id.loc["r0k4", "reports_suppressed"]
    assert by_id.loc["r0k4", "score_reports"] == 0
    assert by_id.loc["r0k4", "dark_m"] == pytest.approx(400)
    # the score is the weighted mean of the shown scores
    s = (0.35 * by_id["score_reports"] + 0.3 * by_id["score_incidents"]
         + 0.25 * by_id["score_dark_m"] + 0.1 * by_id["score_no_investment"])
    assert by_id["score"].to_numpy() == pytest.approx(s.to_numpy())
    assert list(out["rank"]) == list(range(1, len(out) + 1))
    assert out.crs.to_epsg() == 3011


def test_weights_change_the_order_and_are_checked(layers) -> None:
    rep, inc, dark, inv = layers
    dark_only = rank_places(reports=rep, incidents=inc, dark_paths=dark, investments=inv,
                            weights={"dark_m": 1.0})
    assert dark_only.iloc[0]["place_id"] == "r0k4"
    assert dark_only.iloc[0]["weights"].startswith("reports 0.00")
    with pytest.raises(InputError, match="unknown ranking weight"):
        rank_places(reports=rep, weights={"lampor": 1.0})
    with pytest.raises(InputError, match="nothing to rank"):
        rank_places()


def test_areas_as_candidates(layers) -> None:
    rep, inc, dark, _ = layers
    areas = gpd.GeoDataFrame({"area_id": ["vast", "ost"], "name": ["Väst", "Öst"]},
                             geometry=[shapely.box(X0, Y0, X0 + 800, Y0 + 300),
                                       shapely.box(X0 + 800, Y0, X0 + 1600, Y0 + 300)],
                             crs="EPSG:3011")
    out = rank_places(reports=rep, incidents=inc, dark_paths=dark, areas=areas)
    assert out["area_id"].tolist() == ["vast", "ost"]
    assert out.set_index("area_id").loc["vast", "reports"] == 14


def test_inputs_not_given_are_empty_not_zero(layers) -> None:
    rep, _, _, _ = layers
    out = rank_places(reports=rep)
    assert out["incidents_per_ha"].isna().all() and out["dark_m"].isna().all()
    assert out["score_incidents"].isna().all()
    assert out.iloc[0]["weights"] == "reports 1.00"
