"""Panel DiD and event study by two-way fixed effects, against direct statsmodels fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from trygg_geo._errors import InputError
from trygg_geo._stats import t_crit, z_power
from trygg_geo.effects import Estimate
from trygg_geo.effects.panel import EventStudyResult, event_study, panel_did
from trygg_geo.effects.staggered import staggered_did

WAVES = [2012, 2015, 2018, 2021, 2024, 2027]


def _sim(*, n_units: int = 90, effect: float = 0.05, pretrend: float = 0.0, seed: int = 0,
         cohorts: tuple[int, ...] = (2018, 2021, 2024), effect_by_cohort: dict[int, float] | None = None,
         growth: float = 0.0, noise: float = 0.02) -> pd.DataFrame:
    """Unit and wave effects, noise, an effect from the cohort on and an optional linear pre-trend.

    ``pretrend`` adds ``pretrend * (periods before treatment)`` to treated units before their
    cohort (so their outcome drifts towards the treatment date); ``growth`` adds that much per
    period since treatment.
    """
    rng = np.random.default_rng(seed)
    wave_fx = rng.normal(0, 0.02, len(WAVES)).cumsum()
    rows = []
    for i in range(n_units):
        g = int(rng.choice(cohorts)) if i % 3 else 0  # a third never treated
        a = rng.normal(0.3, 0.08)
        for k, w in enumerate(WAVES):
            y = a + wave_fx[k] + rng.normal(0, noise)
            if g:
                rel = k - WAVES.index(g)
                if rel >= 0:
                    y += (effect_by_cohort or {}).get(g, effect) + growth * rel
                else:
                    y += pretrend * rel
            rows.append({"area": f"U{i:03d}", "wave": w, "y": y, "g": g, "n": int(rng.integers(50, 300)),
                         "group": f"G{i % 15:02d}"})
    return pd.DataFrame(rows)


def _rel_dummies(df: pd.DataFrame, leads: int, lags: int, reference: int) -> tuple[pd.DataFrame, list[str]]:
    """Independent construction of the binned relative-time dummies for a formula fit."""
    out = df.copy()
    pos = {w: i for i, w in enumerate(WAVES)}
    rel = np.where(out["g"] > 0, out["wave"].map(pos) - out["g"].map(lambda g: pos.get(g, 0)), np.nan)
    rel = np.where(np.isnan(rel), np.nan, np.clip(rel, -leads, lags))
    names = []
    for k in range(-leads, lags + 1):
        if k == reference:
            continue
        name = f"r{'m' if k < 0 else 'p'}{abs(k)}"
        out[name] = (rel == k).astype(float)
        names.append(name)
    return out, names


def test_event_study_recovers_the_effect_and_passes_the_pretrend_test() -> None:
    df = _sim(effect=0.05, seed=1)
    res = event_study(df, unit="area", time="wave", outcome="y", cohort="g", leads=2, lags=2)
    assert isinstance(res, EventStudyResult)
    t = res.table.set_index("rel_time")
    assert list(t.index) == [-2, -1, 0, 1, 2]
    assert t.loc[-1, "reference"] and t.loc[-1, "estimate"] == 0 and np.isnan(t.loc[-1, "se"])
    for k in (0, 1, 2):
        assert t.loc[k, "ci_low"] < 0.05 < t.loc[k, "ci_high"]
        assert abs(t.loc[k, "estimate"] - 0.05) < 0.015
    assert t.loc[-2, "ci_low"] < 0 < t.loc[-2, "ci_high"]
    assert res.pretrend.df == 1 and res.pretrend.p_value > 0.05
    assert res.n_obs == len(df) and res.n_units == 90 and res.n_clusters == 90
    assert res.n_treated_units == 60
    # n counts observations of treated units at each (binned) relative time
    assert t["n"].sum() == 60 * len(WAVES)
    assert res.to_frame().equals(res.table)


def test_planted_linear_pretrend_is_rejected() -> None:
    df = _sim(effect=0.05, pretrend=0.03, seed=1)
    res = event_study(df, unit="area", time="wave", outcome="y", cohort="g", leads=3, lags=2)
    assert res.pretrend.df == 2
    assert res.pretrend.p_value < 1e-4 and res.pretrend.f_p_value < 1e-3
    t = res.table.set_index("rel_time")
    assert t.loc[-3, "estimate"] < t.loc[-2, "estimate"] < 0


def test_event_study_se_equal_statsmodels_cluster_fit() -> None:
    df = _sim(effect=0.03, seed=2, growth=0.01)
    res = event_study(df, unit="area", time="wave", outcome="y", cohort="g", leads=2, lags=2, weights="n",
                      cluster="group")
    data, names = _rel_dummies(df, 2, 2, -1)
    direct = smf.wls(f"y ~ {' + '.join(names)} + C(area) + C(wave)", data=data, weights=data["n"]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["group"])[0]})
    t = res.table.set_index("rel_time")
    for k, name in zip([-2, 0, 1, 2], names, strict=True):
        assert t.loc[k, "estimate"] == pytest.approx(direct.params[name], abs=1e-10)
        assert t.loc[k, "se"] == pytest.approx(direct.bse[name], rel=1e-8)
    assert res.n_clusters == 15
    # the pre-trend test is statsmodels' own Wald test of the leads
    wt = direct.wald_test("rm2 = 0", scalar=True, use_f=False)
    assert res.pretrend.statistic == pytest.approx(float(wt.statistic), rel=1e-8)
    assert res.pretrend.p_value == pytest.approx(float(wt.pvalue), rel=1e-6)


def test_panel_did_recovers_the_effect_with_statsmodels_cluster_se() -> None:
    df = _sim(effect=-0.04, seed=3)
    est = panel_did(df, unit="area", time="wave", outcome="y", cohort="g", label="belysning")
    assert isinstance(est, Estimate) and est.method == "twfe_did"
    assert est.ci_low < -0.04 < est.ci_high and est.ci_high < 0
    assert (est.n_treated, est.n_control) == (60, 30)
    data = df.assign(d=((df["g"] > 0) & (df["wave"] >= df["g"])).astype(float))
    direct = smf.ols("y ~ d + C(area) + C(wave)", data=data).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["area"])[0]})
    assert est.estimate == pytest.approx(direct.params["d"], abs=1e-10)
    assert est.se == pytest.approx(direct.bse["d"], rel=1e-8)
    # issue 12: the interval uses t(G - 1), which is statsmodels' use_t=True for clusters
    direct_t = smf.ols("y ~ d + C(area) + C(wave)", data=data).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data["area"])[0]}, use_t=True)
    lo, hi = direct_t.conf_int().loc["d"]
    assert (est.ci_low, est.ci_high) == (pytest.approx(lo, rel=1e-8), pytest.approx(hi, rel=1e-8))
    assert est.p_value == pytest.approx(direct_t.pvalues["d"], rel=1e-6)
    assert est.extra["n_obs"] == len(df) and est.extra["n_clusters"] == 90
    assert est.extra["df"] == 89 and est.extra["se_type"] == "cluster"
    assert np.isfinite(est.mde) and est.mde == pytest.approx((t_crit(0.95, 89) + z_power(0.8)) * est.se)


def test_twfe_bias_under_heterogeneous_staggered_effects() -> None:
    """The documented failure: effects growing with time since treatment bias TWFE; C&S is clean."""
    df = _sim(n_units=150, effect=0.0, growth=0.04, cohorts=(2015, 2024), noise=0.005, seed=4)
    twfe = panel_did(df, unit="area", time="wave", outcome="y", cohort="g")
    cs = staggered_did(df, unit="area", time="wave", outcome="y", cohort="g").aggregate("simple").overall
    # the true average effect over treated post-periods (weighted like C&S's simple aggregation)
    post = df[(df["g"] > 0) & (df["wave"] >= df["g"])]
    true = float((0.04 * (post["wave"].map(WAVES.index) - post["g"].map(WAVES.index))).mean())
    assert abs(cs.estimate - true) < 0.01
    assert twfe.estimate < true - 0.03  # TWFE badly understates it


def test_endpoints_drop_and_always_treated_units() -> None:
    df = _sim(seed=5)
    df.loc[df["area"] == "U001", "g"] = 2012  # treated from the first wave
    res = event_study(df, unit="area", time="wave", outcome="y", cohort="g", leads=1, lags=1, endpoints="drop")
    assert list(res.excluded["unit"]) == ["U001"]
    assert "first period" in res.excluded.loc[0, "reason"]
    binned = event_study(df, unit="area", time="wave", outcome="y", cohort="g", leads=1, lags=1)
    assert res.n_obs < binned.n_obs == len(df) - len(WAVES)
    assert res.pretrend.df == 0 and np.isnan(res.pretrend.p_value)


def test_errors_name_the_problem() -> None:
    df = _sim(seed=6)
    bad = df.copy()
    bad.loc[bad["area"] == "U002", "g"] = 2019
    with pytest.raises(InputError, match="2019"):
        event_study(bad, unit="area", time="wave", outcome="y", cohort="g")
    with pytest.raises(InputError, match="several rows"):
        panel_did(pd.concat([df, df.head(1)]), unit="area", time="wave", outcome="y", cohort="g")
    # one cohort and no never-treated unit: the relative-time dummies duplicate the wave dummies
    single = df.assign(g=2018)
    with pytest.raises(InputError, match="not identified"):
        event_study(single, unit="area", time="wave", outcome="y", cohort="g")
    with pytest.raises(ValueError, match="reference"):
        event_study(df, unit="area", time="wave", outcome="y", cohort="g", reference=-5)
    with pytest.raises(InputError, match="'cohort_x'"):
        panel_did(df, unit="area", time="wave", outcome="y", cohort="cohort_x")
