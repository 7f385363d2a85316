"""Hot spots over time (issue 14, point 3): planted patterns are found, noise gives none."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from trygg_geo._errors import DataQualityWarning, InputError
from trygg_geo.emerging import EMERGING_CLASSES, emerging_hot_spots

X0, Y0 = 670_000, 6_580_000
# a 5 km square of background reports (400 cells of 250 m); places in the middle of a cell,
# far apart
NEW, PERSISTENT, GONE, GROWING = (1125, 1125), (3875, 1125), (1125, 3875), (3875, 3875)


def _points(rng: np.random.Generator, years: range, clusters: dict) -> gpd.GeoDataFrame:
    frames = []
    for i, year in enumerate(years):
        xy = [rng.uniform(0, 5000, size=(rng.poisson(800), 2))]
        for centre, sizes in clusters.items():
            n = sizes(i)
            if n:
                xy.append(rng.normal(centre, 120, size=(n, 2)))  # a place of a few cells
        xy = np.vstack(xy)
        frames.append(pd.DataFrame({"x": xy[:, 0] + X0, "y": xy[:, 1] + Y0,
                                    "date": pd.Timestamp(year, 5, 1)}))
    df = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs="EPSG:3011")


def _pattern_at(res, xy) -> str:
    pt = gpd.points_from_xy([xy[0] + X0], [xy[1] + Y0])[0]
    return res.cells.loc[res.cells.contains(pt), "pattern"].item()


def test_planted_patterns_are_classified() -> None:
    years = range(2016, 2024)  # eight periods
    pts = _points(np.random.default_rng(7), years, {
        NEW: lambda i: 50 if i == 7 else 0,
        PERSISTENT: lambda i: 70,
        GONE: lambda i: 45 if i < 3 else 0,
    })
    res = emerging_hot_spots(pts, cell_size=250, permutations=199, seed=1)
    assert res.periods == tuple(str(y) for y in years)
    assert _pattern_at(res, NEW) == "new"
    assert _pattern_at(res, PERSISTENT) == "persistent"
    assert _pattern_at(res, GONE) == "disappeared"
    # every point counted once per period, on one fixed grid
    for y in years:
        assert res.cells[f"count_{y}"].sum() == (pts["date"].dt.year == y).sum()
    assert res.cells.crs.to_epsg() == 3011
    counts = res.counts()
    assert list(counts.index) == list(EMERGING_CLASSES)
    assert counts.sum() == len(res.cells)
    spots = res.spots()
    assert set(spots["pattern"]) >= {"new", "persistent", "disappeared"}
    assert spots["n_cells"].sum() == (res.cells["pattern"] != "no_pattern").sum()


def test_a_growing_place_is_intensifying() -> None:
    """Gi* z is relative to the whole map and the trend is FDR-corrected over 400 cells, so a
    trend needs a place that grows steadily against the rest (40 % a year)."""
    pts = _points(np.random.default_rng(11), range(2016, 2024), {GROWING: lambda i: int(30 * 1.4**i)})
    res = emerging_hot_spots(pts, cell_size=250, permutations=199, seed=1)
    assert _pattern_at(res, GROWING) == "intensifying"
    cell = res.cells[res.cells["pattern"] == "intensifying"]
    assert (cell["trend_tau"] > 0.5).all() and (cell["trend_q"] <= 0.05).all()


def test_noise_yields_no_trend_class_beyond_the_fdr_level() -> None:
    """Eight cities of pure noise over six periods: a trend class in at most one of them."""
    with_trend = 0
    patterned = []
    for seed in range(8):
        pts = _points(np.random.default_rng(100 + seed), range(2018, 2024), {})
        res = emerging_hot_spots(pts, cell_size=250, permutations=99, seed=seed)
        trend = res.cells["pattern"].isin(["intensifying", "diminishing"])
        with_trend += bool(trend.any())
        assert (res.cells["trend_q"] >= res.cells["trend_p"] - 1e-12).all()
        patterned.append((res.cells["pattern"] != "no_pattern").mean())
    assert with_trend <= 1
    # per-period Gi* is FDR-controlled too: few cells are hot in any period by chance
    assert np.mean(patterned) < 0.05


def test_two_periods_use_the_two_period_classes() -> None:
    pts = _points(np.random.default_rng(3), range(2022, 2024), {
        NEW: lambda i: 60 * i,
        GONE: lambda i: 60 * (1 - i),
        PERSISTENT: lambda i: 50,
        GROWING: lambda i: 40 if i == 0 else 140,
    })
    res = emerging_hot_spots(pts, cell_size=250, permutations=199)
    assert _pattern_at(res, NEW) == "new"
    assert _pattern_at(res, GONE) == "disappeared"
    assert _pattern_at(res, PERSISTENT) == "persistent"
    assert _pattern_at(res, GROWING) == "intensifying"
    assert res.cells["trend_p"].isna().all()


def test_periods_as_edges_and_bad_input() -> None:
    pts = _points(np.random.default_rng(5), range(2019, 2023), {NEW: lambda i: 50 * (i == 3)})
    with pytest.warns(DataQualityWarning, match="Mann-Kendall"):
        res = emerging_hot_spots(pts, periods=["2019-01-01", "2020-01-01", "2021-01-01",
                                               "2022-01-01", "2023-01-01"], permutations=99)
    assert res.periods[0] == "2019-01-01_2020-01-01" and len(res.periods) == 4
    assert _pattern_at(res, NEW) == "new"
    with pytest.raises(InputError, match="outside the periods"):
        emerging_hot_spots(pts, periods=["2020-01-01", "2021-01-01", "2022-01-01"])
    one = pts[pts["date"].dt.year == 2019]
    with pytest.raises(InputError, match="at least two"):
        emerging_hot_spots(one)
