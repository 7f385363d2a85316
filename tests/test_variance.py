"""District x wave variance (issue 12): tau2 recovery, 2x2 coverage with shocks, Holm, MDE, df."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from trygg_geo._stats import holm_adjust, t_crit, z_crit
from trygg_geo.effects.did import did_2x2, did_contrast
from trygg_geo.effects.evaluation import (
    _multiple_testing,
    expected_false_positives,
    headline_p,
)
from trygg_geo.effects.inference import MIN_TREATED_MODEL, choose_headline, permutation_test
from trygg_geo.effects.panel import panel_did
from trygg_geo.effects.power import mde_did, mde_from_se
from trygg_geo.effects.variance import (
    Tau2Result,
    between_district_variance,
    model_inference,
    satterthwaite_df,
)
from trygg_geo.survey import area_change


def _panel(rng: np.random.Generator, *, n_areas: int, waves: list[int], shock_sd: float,
           treated: dict[str, int] | None = None, effect: float = 0.0,
           n_range: tuple[int, int] = (150, 300)) -> pd.DataFrame:
    """Binomial survey shares around area + wave effects, district x wave shocks and an effect."""
    treated = treated or {}
    ids = np.array([f"a{i:03d}" for i in range(n_areas)])
    w = np.asarray(waves)
    cohort = np.array([treated.get(a, 10**6) for a in ids])
    p = (rng.uniform(0.2, 0.4, n_areas)[:, None] + rng.normal(0, 0.02, len(w))[None, :]
         + rng.normal(0, shock_sd, (n_areas, len(w))) + effect * (w[None, :] >= cohort[:, None]))
    p = np.clip(p, 0.02, 0.98)
    n = rng.integers(*n_range, size=p.shape)
    share = rng.binomial(n, p) / n
    return pd.DataFrame({"area_id": np.repeat(ids, len(w)), "wave": np.tile(w, n_areas),
                         "share": share.ravel(), "n": n.ravel(),
                         "se": np.sqrt(share * (1 - share) / n).ravel(), "indicator": "otrygg"})


# --------------------------------------------------------------------------------------------
# tau2 itself
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["dl", "reml"])
def test_tau2_is_recovered_for_a_3pp_shock_and_zero_without(method: str) -> None:
    rng = np.random.default_rng(12)
    waves = [2015, 2018, 2021]
    ids = [f"a{i:03d}" for i in range(120)]
    with_shock, without = [], []
    for _ in range(30):
        with_shock.append(between_district_variance(
            _panel(rng, n_areas=120, waves=waves, shock_sd=0.03), ids, waves=waves,
            indicator="otrygg", method=method))
        without.append(between_district_variance(
            _panel(rng, n_areas=120, waves=waves, shock_sd=0.0), ids, waves=waves,
            indicator="otrygg", method=method))
    vals = np.array([r.value for r in with_shock])
    mc_se = vals.std(ddof=1) / np.sqrt(len(vals))
    assert abs(vals.mean() - 0.0009) < 3 * mc_se + 3e-5, (vals.mean(), mc_se)
    # the reported SE matches the spread of the estimates (within 30 %)
    assert np.mean([r.se for r in with_shock]) == pytest.approx(vals.std(ddof=1), rel=0.3)
    # Q-profile intervals cover the truth in most draws
    assert np.mean([r.ci_low <= 0.0009 <= r.ci_high for r in with_shock]) >= 0.85
    r0 = with_shock[0]
    assert (r0.n_changes, r0.n_areas, r0.n_pairs, r0.df, r0.method) == (240, 120, 2, 238, method)
    zeros = np.array([r.value for r in without])
    assert (zeros >= 0).all() and zeros.mean() < 1e-4 and (zeros == 0).mean() >= 0.3


def test_dl_equals_statsmodels_on_one_wave_pair() -> None:
    rng = np.random.default_rng(3)
    panel = _panel(rng, n_areas=40, waves=[2018, 2021], shock_sd=0.03)
    ids = sorted(panel["area_id"].unique())
    res = between_district_variance(panel, ids, waves=[2018, 2021])
    wide = panel.pivot(index="area_id", columns="wave", values=["share", "se"]).loc[ids]
    d = (wide[("share", 2021)] - wide[("share", 2018)]).to_numpy()
    v = (wide[("se", 2021)] ** 2 + wide[("se", 2018)] ** 2).to_numpy()
    sm = combine_effects(d, v, method_re="chi2")  # "chi2" is DerSimonian-Laird
    assert 2 * res.value == pytest.approx(sm.tau2, rel=1e-9)
    assert res.q == pytest.approx(sm.q, rel=1e-9)


def test_tau2_not_estimable_is_zero_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    panel = _panel(np.random.default_rng(0), n_areas=3, waves=[2018, 2021], shock_sd=0.0)
    res = between_district_variance(panel, ["a000"], waves=[2018, 2021])
    assert res.method == "none" and res.value == 0.0 and np.isnan(res.se)
    assert "not estimated" in caplog.text


# --------------------------------------------------------------------------------------------
# The 2x2 with tau2: coverage and false rejections (the "small version" of the coverage study)
# --------------------------------------------------------------------------------------------
def _did_draws(effect: float, shock_sd: float, reps: int, seed: int, *, use_tau2: bool = True
               ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    waves = [2015, 2018, 2021]
    n_t, n_c = 8, 30
    treated = {f"a{i:03d}": 2021 for i in range(n_t)}
    controls = [f"a{i:03d}" for i in range(n_t, n_t + n_c)]
    covered, rejected = np.zeros(reps, bool), np.zeros(reps, bool)
    for r in range(reps):
        panel = _panel(rng, n_areas=n_t + n_c, waves=waves, shock_sd=shock_sd, treated=treated,
                       effect=effect)
        tau2 = between_district_variance(panel, controls, waves=waves, indicator="otrygg") \
            if use_tau2 else None
        est = did_2x2(panel, treated=treated, controls=controls, waves=waves,
                      indicator="otrygg", tau2=tau2)
        covered[r] = est.ci_low <= effect <= est.ci_high
        rejected[r] = est.p_value < 0.05
    return covered, rejected


def test_2x2_with_tau2_covers_planted_effect_and_keeps_null_rejections_low() -> None:
    covered, _ = _did_draws(-0.05, 0.03, 250, seed=1)
    assert 0.92 <= covered.mean() <= 0.98, covered.mean()
    _, rejected = _did_draws(0.0, 0.03, 250, seed=2)
    assert rejected.mean() <= 0.07, rejected.mean()
    # without tau2 the same design undercovers: the test has teeth
    covered_naive, _ = _did_draws(-0.05, 0.03, 80, seed=1, use_tau2=False)
    assert covered_naive.mean() < 0.90, covered_naive.mean()


def test_permutation_headline_holds_with_three_treated_areas() -> None:
    rng = np.random.default_rng(7)
    waves = [2018, 2021]
    treated = {"a000": 2021, "a001": 2021, "a002": 2021}
    controls = [f"a{i:03d}" for i in range(3, 25)]
    hits = []
    for _ in range(80):
        panel = _panel(rng, n_areas=25, waves=waves, shock_sd=0.03, treated=treated,
                       effect=-0.05)
        perm = permutation_test(panel, treated=treated, controls=controls, waves=waves,
                                indicator="otrygg")
        assert perm.exact and choose_headline(3, perm)[0] == "permutation"
        hits.append(perm.ci_low <= -0.05 <= perm.ci_high)
    assert np.mean(hits) >= 0.90, np.mean(hits)


def test_did_tau2_adds_to_every_cell_and_sets_df() -> None:
    panel = _panel(np.random.default_rng(5), n_areas=20, waves=[2018, 2021], shock_sd=0.03)
    treated, controls = {"a000": 2021, "a001": 2021}, [f"a{i:03d}" for i in range(2, 20)]
    con = did_contrast(panel, treated=treated, controls=controls, waves=[2018, 2021])
    plain = did_2x2(panel, treated=treated, controls=controls, waves=[2018, 2021])
    known = did_2x2(panel, treated=treated, controls=controls, waves=[2018, 2021], tau2=0.0009)
    assert plain.se == pytest.approx(con.se) and np.isnan(plain.extra["df"])
    assert known.se == pytest.approx(np.sqrt(((con.cells["weight"] ** 2)
                                              * (con.cells["se"] ** 2 + 0.0009)).sum()))
    assert np.isnan(known.extra["df"])  # a known tau2: normal critical value
    est_t2 = between_district_variance(panel, controls, waves=[2018, 2021])
    est = did_2x2(panel, treated=treated, controls=controls, waves=[2018, 2021], tau2=est_t2)
    df = est.extra["df"]
    assert 1 <= df < 1e6 and est.extra["tau2"] == est_t2.value
    c = t_crit(0.95, df)
    assert est.ci_high - est.estimate == pytest.approx(c * est.se)
    assert c > z_crit(0.95)


def test_panel_did_model_se_with_two_waves_is_the_2x2_se() -> None:
    """With two waves and one cohort, TWFE is the 2x2: its model SE with tau2 is did_2x2's."""
    panel = _panel(np.random.default_rng(9), n_areas=20, waves=[2018, 2021], shock_sd=0.03)
    treated, controls = {"a000": 2021, "a001": 2021}, [f"a{i:03d}" for i in range(2, 20)]
    t2 = between_district_variance(panel, controls, waves=[2018, 2021])
    est = did_2x2(panel, treated=treated, controls=controls, waves=[2018, 2021], tau2=t2)
    df = panel.assign(g=panel["area_id"].map(treated).fillna(0))
    tw = panel_did(df, unit="area_id", time="wave", outcome="share", cohort="g", se="se",
                   tau2=t2)
    assert tw.estimate == pytest.approx(est.estimate, abs=1e-12)
    assert tw.extra["se_model"] == pytest.approx(est.se, rel=1e-9)
    assert tw.se == max(tw.extra["se_model"], tw.extra["se_cluster"])
    if tw.extra["se_type"] == "model":
        assert tw.extra["df"] == pytest.approx(est.extra["df"], rel=1e-9)
    else:
        assert tw.extra["df"] == 19
    assert np.isfinite(tw.mde) and tw.mde > tw.se


# --------------------------------------------------------------------------------------------
# df and the headline rule
# --------------------------------------------------------------------------------------------
def test_satterthwaite_df_grows_with_the_information_on_tau2() -> None:
    few = Tau2Result(0.0009, 0.0006, 0, 0.003, 10, 10, 1, 20.0, 9, "dl")
    many = Tau2Result(0.0009, 0.0002, 0.0005, 0.0014, 100, 100, 1, 200.0, 99, "dl")
    assert satterthwaite_df(0.001, 2.0, few) < satterthwaite_df(0.001, 2.0, many)
    assert satterthwaite_df(0.001, 2.0, 0.0009) == np.inf
    assert satterthwaite_df(0.001, 2.0, None) == np.inf
    r = model_inference(0.05, 0.001, 2.0, few)
    assert r["df"] == pytest.approx(satterthwaite_df(0.001, 2.0, few))
    assert r["se"] == pytest.approx(np.sqrt(0.001 + 2 * 0.0009))


def test_headline_rule() -> None:
    panel = _panel(np.random.default_rng(2), n_areas=12, waves=[2018, 2021], shock_sd=0.0)
    perm = permutation_test(panel, treated={"a000": 2021}, controls=[f"a{i:03d}" for i in
                                                                     range(1, 12)],
                            waves=[2018, 2021])
    assert MIN_TREATED_MODEL == 5
    assert choose_headline(1, perm) == ("permutation", "effects.headline.permutation")
    assert choose_headline(4, perm)[0] == "permutation"
    assert choose_headline(5, perm) == ("model", "effects.headline.model")
    assert choose_headline(2, None) == ("model", "effects.headline.model_few")
    assert choose_headline(3, perm, min_treated=3)[0] == "model"


# --------------------------------------------------------------------------------------------
# Multiple testing
# --------------------------------------------------------------------------------------------
def test_holm_equals_statsmodels_and_skips_nan() -> None:
    p = np.random.default_rng(4).uniform(0, 0.2, 15)
    p[[3, 8]] = np.nan
    out = holm_adjust(p)
    ok = np.isfinite(p)
    assert np.isnan(out[~ok]).all()
    np.testing.assert_allclose(out[ok], multipletests(p[ok], method="holm")[1], rtol=1e-12)


def test_holm_counts_a_shared_contrast_once() -> None:
    """Rows that share a contrast are one test: the family has two tests, not four."""
    t = pd.DataFrame({
        "scope": ["investment"] * 4,
        "p_value": [0.02, 0.02, 0.02, 0.04],
        "p_perm": [np.nan] * 4,
        "headline": ["model"] * 4,
        "contrast_id": ["a1:2018-2021"] * 3 + ["a2:2018-2021"],
        "level": 0.95,
    })
    out = _multiple_testing(t, level=0.95)
    expect = multipletests([0.02, 0.04], method="holm")[1]
    np.testing.assert_allclose(out["p_adjusted"], [expect[0]] * 3 + [expect[1]])


def test_effect_table_holm_over_investment_rows_by_headline_p() -> None:
    t = pd.DataFrame({
        "scope": ["kind", "investment", "investment", "investment", "investment"],
        "p_value": [0.01, 0.01, 0.02, 0.30, np.nan],
        "p_perm": [0.02, 0.50, 0.001, 0.40, np.nan],
        "headline": ["model", "model", "permutation", "model", None],
        "level": 0.95,
    })
    out = _multiple_testing(t, level=0.95)
    hp = headline_p(t)
    assert hp.tolist()[:4] == [0.01, 0.01, 0.001, 0.30]
    expect = multipletests([0.01, 0.001, 0.30], method="holm")[1]
    np.testing.assert_allclose(out["p_adjusted"].iloc[1:4], expect)
    assert np.isnan(out["p_adjusted"].iloc[0]) and np.isnan(out["p_adjusted"].iloc[4])
    assert out["adjust_method"].tolist()[1:4] == ["holm"] * 3
    assert pd.isna(out["adjust_method"].iloc[0])
    # kind row judged by its headline p; investment rows by p_adjusted; no test: NA
    assert out["significant"].tolist()[:4] == [True, True, True, False]
    assert pd.isna(out["significant"].iloc[4])
    assert expected_false_positives(t) == pytest.approx(0.05 * 4)
    assert expected_false_positives(t[t["scope"] == "investment"]) == pytest.approx(0.05 * 3)


def test_area_change_adds_tau2_and_holm_over_areas() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    panel = _panel(np.random.default_rng(6), n_areas=10, waves=[2018, 2021], shock_sd=0.03)
    panel["suppressed"] = False
    panel.loc[(panel["area_id"] == "a009") & (panel["wave"] == 2021), "suppressed"] = True
    areas = gpd.GeoDataFrame({"area_id": [f"a{i:03d}" for i in range(10)]},
                             geometry=[box(i, 0, i + 1, 1) for i in range(10)], crs=3006)
    plain = area_change(areas, panel, indicator="otrygg", waves=[2018, 2021])
    out = area_change(areas, panel, indicator="otrygg", waves=[2018, 2021], tau2=0.0009)
    np.testing.assert_allclose(out["change_se"][:9] ** 2, plain["change_se"][:9] ** 2 + 0.0018)
    assert (out["change_ci_high"] - out["change_ci_low"] > plain["change_ci_high"]
            - plain["change_ci_low"])[:9].all()
    assert np.isnan(out["change_p_value"].iloc[9]) and np.isnan(out["change_se"].iloc[9])
    p = out["change_p_value"].to_numpy()[:9]
    np.testing.assert_allclose(out["change_p_adjusted"][:9], multipletests(p, method="holm")[1])
    assert (out["significant"] == (out["change_p_adjusted"] < 0.05)).all()
    assert out["adjust_method"].iloc[0] == "holm" and pd.isna(out["adjust_method"].iloc[9])
    assert expected_false_positives(out) == pytest.approx(0.05 * 9)


# --------------------------------------------------------------------------------------------
# MDE
# --------------------------------------------------------------------------------------------
def test_mde_grows_with_tau2() -> None:
    mdes = [mde_did(n_per_area=200, n_treated=6, n_control=20, tau2=t) for t in
            (0.0, 0.0004, 0.0009, 0.0016)]
    assert all(a < b for a, b in zip(mdes, mdes[1:], strict=False))
    panel = _panel(np.random.default_rng(8), n_areas=20, waves=[2018, 2021], shock_sd=0.0)
    kw = {"treated": {"a000": 2021, "a001": 2021}, "controls": [f"a{i:03d}" for i in
                                                                range(2, 20)],
          "waves": [2018, 2021]}
    d = [did_2x2(panel, **kw, tau2=t).mde for t in (0.0, 0.0004, 0.0009)]  # type: ignore[arg-type]
    assert d[0] < d[1] < d[2]
    assert mde_from_se(0.02, df=4) > mde_from_se(0.02)
    with pytest.raises(ValueError, match="tau2"):
        mde_did(n_per_area=200, n_treated=6, n_control=20, tau2=-1.0)
