"""staggered_did on a 65-county subset of mpdta (tests/data), against recorded references.

R did's published numbers hold only for the full mpdta (test_staggered.py checks those in CI).
For the subset, tests/data/mpdta_subset_reference.json records every number twice: from this
package and from an independent computation (2x2 OLS regressions in statsmodels and R did's
aggregation formulas in numpy, validated against R's output on the full data); see
tests/data/README.md and tests/data/make_fixtures.py. The tests also redo the 2x2 means here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trygg_geo.effects import Estimate
from trygg_geo.effects.staggered import StaggeredResult, staggered_did

REF = Path(__file__).resolve().parent / "data" / "mpdta_subset_reference.json"
CONTROLS = ("never", "not_yet")
KINDS = ("simple", "group", "dynamic", "calendar")
TOL_PACKAGE = 1e-10  # the package's own numbers when the file was written
TOL_INDEPENDENT = 1e-9  # the independent computation (agreed with the package to 1e-14)


@pytest.fixture(scope="module")
def ref() -> dict[str, Any]:
    return json.loads(REF.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def df(mpdta_subset: Path) -> pd.DataFrame:
    return pd.read_csv(mpdta_subset)


_CACHE: dict[str, StaggeredResult] = {}


def _fit(df: pd.DataFrame, control: str) -> StaggeredResult:
    if control not in _CACHE:
        _CACHE[control] = staggered_did(df, unit="countyreal", time="year", outcome="lemp",
                                        cohort="first.treat", control=control)  # type: ignore[arg-type]
    return _CACHE[control]


def test_subset_is_the_documented_one(df: pd.DataFrame, ref: dict[str, Any]) -> None:
    assert df.columns.tolist() == ["year", "countyreal", "lpop", "lemp", "first.treat", "treat"]
    assert len(df) == ref["subset"]["rows"] == 325
    counts = df.drop_duplicates("countyreal")["first.treat"].value_counts().sort_index()
    assert counts.to_dict() == {0: 31, 2004: 10, 2006: 10, 2007: 14}
    assert {str(k): v for k, v in counts.items()} == ref["subset"]["counties"]
    years = df.groupby("countyreal")["year"].apply(lambda y: sorted(y) == list(range(2003, 2008)))
    assert years.all() and len(years) == 65  # balanced: five years for every county
    assert (df["treat"] == (df["first.treat"] > 0)).all()
    assert df["lpop"].groupby(df["countyreal"]).nunique().max() == 1


def test_reference_records_both_computations_and_their_agreement(ref: dict[str, Any]) -> None:
    # the independent method reproduces R did on the full mpdta ...
    assert set(ref["max_abs_diff_vs_r_full_mpdta"]) == set(CONTROLS)
    assert max(ref["max_abs_diff_vs_r_full_mpdta"].values()) < 1e-10
    for control in CONTROLS:
        s = ref["scenarios"][control]
        # ... and the package on the subset, when the file was written
        assert s["max_abs_diff_package_vs_independent"] < 1e-12
        assert len(s["package"]["att_gt"]) == len(s["independent"]["att_gt"]) == 12


@pytest.mark.parametrize("control", CONTROLS)
def test_att_gt_matches_reference(df: pd.DataFrame, ref: dict[str, Any], control: str) -> None:
    tab = _fit(df, control).att_gt
    s = ref["scenarios"][control]
    assert len(tab) == 12
    for source, tol in (("package", TOL_PACKAGE), ("independent", TOL_INDEPENDENT)):
        for cell in s[source]["att_gt"]:
            hit = tab[(tab["cohort"] == cell["group"]) & (tab["time"] == cell["t"])]
            assert len(hit) == 1
            assert hit["att"].item() == pytest.approx(cell["att"], abs=tol), (source, cell)
            assert hit["se"].item() == pytest.approx(cell["se"], abs=tol), (source, cell)
    for cell in s["package"]["att_gt"]:
        hit = tab[(tab["cohort"] == cell["group"]) & (tab["time"] == cell["t"])]
        assert (hit["n_treated"].item(), hit["n_control"].item()) == (
            cell["n_treated"], cell["n_control"])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("control", CONTROLS)
def test_aggregations_match_reference(
    df: pd.DataFrame, ref: dict[str, Any], control: str, kind: str
) -> None:
    agg = _fit(df, control).aggregate(kind)  # type: ignore[arg-type]
    for source, tol in (("package", TOL_PACKAGE), ("independent", TOL_INDEPENDENT)):
        want = ref["scenarios"][control][source]["aggregate"][kind]
        assert agg.overall.estimate == pytest.approx(want["overall_att"], abs=tol)
        assert agg.overall.se == pytest.approx(want["overall_se"], abs=tol)
        assert agg.table["egt"].tolist() == [r["egt"] for r in want["egt"]]
        np.testing.assert_allclose(agg.table["att"], [r["att"] for r in want["egt"]], atol=tol)
        np.testing.assert_allclose(agg.table["se"], [r["se"] for r in want["egt"]], atol=tol)


@pytest.mark.parametrize("control", CONTROLS)
def test_pretest_matches_reference(df: pd.DataFrame, ref: dict[str, Any], control: str) -> None:
    pt = _fit(df, control).pretest()
    for source, tol in (("package", TOL_PACKAGE), ("independent", TOL_INDEPENDENT)):
        want = ref["scenarios"][control][source]["pretest"]
        assert pt.statistic == pytest.approx(want["W"], abs=tol)
        assert pt.p_value == pytest.approx(want["p_value"], abs=tol)
        assert pt.df == want["df"] == 5
    assert pt.n_units == 65


def test_att_gt_are_the_two_by_two_differences_in_means(df: pd.DataFrame) -> None:
    # ATT(g,t) = change of the cohort's mean minus change of the never-treated mean, from
    # base g-1 (post) or t-1 (pre); written out here with pandas
    wide = df.pivot(index="countyreal", columns="year", values="lemp")
    g_of = df.drop_duplicates("countyreal").set_index("countyreal")["first.treat"]
    tab = _fit(df, "never").att_gt.set_index(["cohort", "time"])
    for (g, t), row in tab.iterrows():
        base = g - 1 if t >= g else t - 1
        change = wide[t] - wide[base]
        want = change[g_of == g].mean() - change[g_of == 0].mean()
        assert row["att"] == pytest.approx(want, abs=1e-12)
        assert row["base_time"] == base


def test_estimators_agree_without_covariates(df: pd.DataFrame) -> None:
    dr = _fit(df, "never").att_gt
    for method in ("reg", "ipw"):
        other = staggered_did(df, unit="countyreal", time="year", outcome="lemp",
                              cohort="first.treat", est_method=method)  # type: ignore[arg-type]
        np.testing.assert_allclose(other.att_gt["att"], dr["att"], atol=1e-12)
        np.testing.assert_allclose(other.att_gt["se"], dr["se"], atol=1e-12)


def test_result_shapes(df: pd.DataFrame) -> None:
    res = _fit(df, "never")
    tab = res.to_frame()
    assert len(tab) == 12
    assert tab.groupby("cohort")["n_treated"].first().to_dict() == {2004: 10, 2006: 10, 2007: 14}
    assert (tab["n_control"] == 31).all()
    assert (tab["ci_low"] < tab["att"]).all() and (tab["att"] < tab["ci_high"]).all()
    width = (tab["ci_high"] - tab["ci_low"]) / (2 * tab["se"])
    np.testing.assert_allclose(width, 1.959964, atol=1e-5)
    agg = res.aggregate("group")
    assert isinstance(agg.overall, Estimate)
    assert agg.overall.n_treated == 34 and agg.overall.n_control == 31
    assert agg.overall.method == "callaway_santanna"
    assert agg.to_frame()["overall"].tolist() == [False, False, False, True]
    assert res.vcov.shape == (12, 12)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)), tab["se"], rtol=1e-12)
    assert res.n_units == 65 and res.excluded.empty
    # not-yet-treated controls add the 2007 cohort before 2007
    ny = _fit(df, "not_yet").att_gt.set_index(["cohort", "time"])["n_control"]
    assert ny[(2004, 2005)] == 31 + 10 + 14 and ny[(2006, 2006)] == 31 + 14
    assert ny[(2006, 2007)] == 31 and ny[(2007, 2004)] == 31 + 10


def test_dynamic_balance_e_by_hand(df: pd.DataFrame) -> None:
    # balance_e=1 keeps the cohorts seen at least one period after treatment (2004, 2006);
    # each event time is their cohort-size-weighted mean
    res = _fit(df, "never")
    agg = res.aggregate("dynamic", balance_e=1)
    tab = res.att_gt.assign(e=lambda d: d["time"] - d["cohort"])
    tab = tab[tab["cohort"].isin([2004, 2006])]
    size = {2004: 10, 2006: 10}
    want = {e: np.average(grp["att"], weights=grp["cohort"].map(size))
            for e, grp in tab.groupby("e") if -2 <= e <= 1}
    assert agg.table["egt"].tolist() == sorted(want)
    np.testing.assert_allclose(agg.table["att"], [want[e] for e in sorted(want)], atol=1e-12)
    assert agg.overall.estimate == pytest.approx((want[0] + want[1]) / 2, abs=1e-12)


def test_row_order_and_string_ids_do_not_matter(df: pd.DataFrame) -> None:
    shuffled = df.sample(frac=1.0, random_state=3).assign(
        countyreal=lambda d: "c" + d["countyreal"].astype(str),
        **{"first.treat": lambda d: d["first.treat"].where(d["first.treat"] > 0)},  # NA = never
    )
    other = staggered_did(shuffled, unit="countyreal", time="year", outcome="lemp",
                          cohort="first.treat")
    pd.testing.assert_frame_equal(_fit(df, "never").att_gt, other.att_gt)
