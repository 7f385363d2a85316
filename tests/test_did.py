"""The 2x2 DiD against hand computation and against statsmodels WLS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trygg_geo.effects import Estimate
from trygg_geo.effects.did import did_2x2, did_contrast
from trygg_geo.effects.power import cost_per_point, mde_did


def _panel() -> pd.DataFrame:
    rows = []
    shares = {  # area: shares at 2015, 2018, 2021
        "t1": (0.30, 0.31, 0.22), "t2": (0.25, 0.20, 0.19), "c1": (0.28, 0.29, 0.30),
        "c2": (0.35, 0.33, 0.34), "c3": (0.20, 0.22, 0.21),
    }
    ns = {"t1": 100, "t2": 150, "c1": 200, "c2": 80, "c3": 120}
    for a, s in shares.items():
        for w, p in zip((2015, 2018, 2021), s, strict=True):
            rows.append({"area_id": a, "wave": w, "share": p, "n": ns[a], "se": np.sqrt(p * (1 - p) / ns[a])})
    return pd.DataFrame(rows)


def test_two_cohorts_by_hand() -> None:
    panel = _panel()
    est = did_2x2(panel, treated={"t1": 2021, "t2": 2018}, controls=["c1", "c2", "c3"], waves=[2015, 2018, 2021])
    s = panel.set_index(["area_id", "wave"])["share"]
    ctrl = ["c1", "c2", "c3"]
    d1 = (s["t1", 2021] - s["t1", 2018]) - np.mean([s[c, 2021] - s[c, 2018] for c in ctrl])
    d2 = (s["t2", 2018] - s["t2", 2015]) - np.mean([s[c, 2018] - s[c, 2015] for c in ctrl])
    assert est.estimate == pytest.approx((d1 + d2) / 2, abs=1e-12)
    assert (est.n_treated, est.n_control) == (2, 3)
    # the variance is the exact variance of the linear combination of independent cells
    con = did_contrast(panel, treated={"t1": 2021, "t2": 2018}, controls=ctrl, waves=[2015, 2018, 2021])
    se = panel.set_index(["area_id", "wave"])["se"]
    w = con.cells.set_index(["area_id", "wave"])["weight"]
    assert est.se == pytest.approx(float(np.sqrt(sum(w[k] ** 2 * se[k] ** 2 for k in w.index))), rel=1e-12)
    # control cells at 2018 appear in both cohorts with opposite signs: net weight is 1/2 - 1/2 = 0 for ctrl
    assert w[("c1", 2018)] == pytest.approx((1 / 3 - 1 / 3) / 2, abs=1e-12)
    assert est.ci_low < est.estimate < est.ci_high
    assert est.mde == pytest.approx((1.959964 + 0.841621) * est.se, rel=1e-5)


def test_single_cohort_equals_wls_interaction() -> None:
    """With one cohort and one treated unit, the DiD equals the interaction in a weighted regression."""
    panel = _panel()
    sub = panel[panel["wave"].isin([2018, 2021]) & panel["area_id"].isin(["t1", "c1", "c2", "c3"])].copy()
    est = did_2x2(panel, treated={"t1": 2021}, controls=["c1", "c2", "c3"], waves=[2015, 2018, 2021])
    # area fixed effects + post effects per group: saturated, so the interaction is the 2x2 DiD
    sub["post"] = (sub["wave"] == 2021).astype(float)
    sub["treat_post"] = ((sub["area_id"] == "t1") & (sub["wave"] == 2021)).astype(float)
    X = pd.get_dummies(sub["area_id"], dtype=float)
    X["post"] = sub["post"]
    X["treat_post"] = sub["treat_post"]
    fit = sm.OLS(sub["share"].to_numpy(), X.to_numpy()).fit()
    assert est.estimate == pytest.approx(fit.params[-1], abs=1e-10)


def test_missing_cells_drop_units_with_reason() -> None:
    panel = _panel()
    panel = panel[~((panel["area_id"] == "t2") & (panel["wave"] == 2015))]
    con = did_contrast(panel, treated={"t1": 2021, "t2": 2018}, controls=["c1"], waves=[2015, 2018, 2021])
    assert con.n_treated == 1
    assert con.dropped.iloc[0]["area_id"] == "t2" and "2015" in con.dropped.iloc[0]["reason"]


def test_no_controls_gives_nan_not_a_crash() -> None:
    est = did_2x2(_panel(), treated={"t1": 2021}, controls=[], waves=[2015, 2018, 2021])
    assert np.isnan(est.estimate) and est.n_control == 0 and "note" in est.extra


def test_estimate_to_frame_and_cost() -> None:
    e = Estimate.from_normal(-0.04, 0.03, n_treated=3, n_control=10, method="did_2x2", label="belysning")
    f = e.to_frame()
    assert f.loc[0, "label"] == "belysning" and f.loc[0, "n_control"] == 10
    c = cost_per_point(500_000, e)
    assert c.sek_per_point == pytest.approx(125_000)
    assert np.isinf(c.ci_high)  # the CI includes zero: no upper bound on the cost
    assert mde_did(n_per_area=150, n_treated=1, n_control=1, p=0.3) > mde_did(n_per_area=150, n_treated=8, n_control=15, p=0.3)
