"""The faster Gi* paths give exactly what the straightforward ones gave (issue 17).

- :func:`trygg_geo.emerging._mann_kendall` asks scipy once per number of discordant pairs;
  every cell's tau and p equal a per-cell :func:`scipy.stats.kendalltau`.
- :func:`trygg_geo.emerging.emerging_hot_spots` with ``p_value="normal"`` no longer runs the
  permutations (only ``gi_p_sim`` used them): the result equals the one with the permutations.
- :func:`trygg_geo.hotspots.hot_spots` reuses its spatial weights for the same units: a second
  call gives the same cells, and the weights equal freshly built ones.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trygg_geo import emerging as em
from trygg_geo import hotspots as hs


def _per_cell(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The loop the grouped version replaced."""
    t = np.arange(z.shape[1])
    tau, p = np.empty(len(z)), np.empty(len(z))
    for i in range(len(z)):
        if np.ptp(z[i]) == 0:
            tau[i], p[i] = 0.0, 1.0
            continue
        r = stats.kendalltau(t, z[i], method="exact" if len(t) <= 30 else "auto")
        tau[i], p[i] = float(r.statistic), float(r.pvalue)
    return tau, p


@pytest.mark.parametrize("periods", [3, 5, 11, 35])
def test_mann_kendall_equals_per_cell(periods: int) -> None:
    """Random z (and flat rows): every tau and p bit for bit; NaN rows as scipy gives them."""
    rng = np.random.default_rng(periods)
    z = rng.normal(size=(3000, periods))
    z[::50] = 1.5  # the same z in every period
    z[7, 2] = np.nan
    tau, p = em._mann_kendall(z)
    ref_tau, ref_p = _per_cell(z)
    np.testing.assert_array_equal(tau, ref_tau)
    np.testing.assert_array_equal(p, ref_p)


def test_mann_kendall_ties_use_the_tie_corrected_test() -> None:
    """A tie in a cell's z (two periods alike) no longer stops the run: that cell gets
    Kendall's tau-b with the normal approximation; the cells without ties keep the exact test."""
    z = np.array([[0.1, 0.2, 0.3, 0.4, 0.5], [0.1, 0.1, 0.3, 0.4, 0.5]])
    tau, p = em._mann_kendall(z)
    exact = stats.kendalltau(np.arange(5), z[0], method="exact")
    tied = stats.kendalltau(np.arange(5), z[1], method="auto")
    assert (tau[0], p[0]) == (exact.statistic, exact.pvalue)
    assert (tau[1], p[1]) == (tied.statistic, tied.pvalue)
    assert 0 < tau[1] < 1 and 0 < p[1] < 1


def _points(seed: int = 3) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for year in range(2016, 2024):
        xy = rng.uniform(0, 2500, size=(int(rng.integers(400, 900)), 2))
        if year >= 2020:
            xy = np.vstack([xy, rng.normal(1200, 80, size=(40 * (year - 2019), 2))])
        frames.append(pd.DataFrame({"x": xy[:, 0] + 670000, "y": xy[:, 1] + 6580000,
                                    "date": pd.Timestamp(f"{year}-06-01")}))
    df = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.x, df.y), crs=3006)


def test_emerging_normal_skips_permutations_with_the_same_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The permutations of each period changed nothing a ``p_value='normal'`` result holds."""
    pts = _points()
    fast = em.emerging_hot_spots(pts, cell_size=250, permutations=99, seed=1)
    calls: list[int] = []
    real = em.hot_spots

    def with_perms(*args: object, **kw: object) -> hs.HotSpotResult:
        calls.append(int(kw["permutations"]))  # type: ignore[call-overload]
        kw["permutations"] = 99
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(em, "hot_spots", with_perms)
    slow = em.emerging_hot_spots(pts, cell_size=250, permutations=99, seed=1)
    assert calls and set(calls) == {0}
    pd.testing.assert_frame_equal(pd.DataFrame(fast.cells.drop(columns="geometry")),
                                  pd.DataFrame(slow.cells.drop(columns="geometry")),
                                  check_exact=True)
    assert (fast.counts() > 0).sum() >= 2


def test_hot_spots_weights_reused_alike() -> None:
    """The cached weights equal new ones; two calls on the same units give the same cells."""
    pts = _points()
    hs._weights_cached.cache_clear()
    a = hs.hot_spots(pts, cell_size=250, permutations=99, seed=2)
    b = hs.hot_spots(pts, cell_size=250, permutations=99, seed=2)
    assert hs._weights_cached.cache_info().hits >= 1
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame(), check_exact=True)
    coords = np.column_stack([np.arange(10.0) * 250, np.zeros(10)])
    w, _text, w_star = hs._weights_star(coords, distance_band=375.0, k=None)
    fresh, _ = hs._weights(coords, distance_band=375.0, k=None)
    assert w.neighbors == fresh.neighbors
    assert (w_star.sparse != hs.lw.fill_diagonal(fresh, 1).sparse).nnz == 0
