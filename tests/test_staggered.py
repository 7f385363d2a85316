"""Tests of trygg_geo.effects.staggered against R `did` (mpdta) and on simulated panels."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo.effects import Estimate
from trygg_geo.effects.did import did_2x2
from trygg_geo.effects.staggered import (
    StaggeredAggregate,
    StaggeredResult,
    SurveyAttGt,
    staggered_did,
    survey_att_gt,
)
from trygg_geo.effects.variance import Tau2Result, satterthwaite_df

REF_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mpdta"
TOL = 1e-4

# the R did calls behind ../shared/data/mpdta/r_reference_csdid (see SOURCE.md there)
SCENARIOS: dict[str, dict[str, Any]] = {
    "mpdta_nev_dr": {"control": "never", "est_method": "dr"},
    "mpdta_nev_ipw": {"control": "never", "est_method": "ipw"},
    "mpdta_nyt_dr": {"control": "not_yet", "est_method": "dr"},
    "mpdta_nev_reg_cov": {"control": "never", "est_method": "reg", "covariates": ["lpop"]},
}
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")


def _ref(name: str) -> pd.DataFrame:
    path = REF_DIR / "r_reference_csdid" / name
    if not path.is_file():
        return pd.DataFrame({"scenario": []})
    df = pd.read_csv(path)
    return df[df["scenario"].isin(SCENARIOS)].reset_index(drop=True)


def _rows(name: str) -> list[Any]:
    df = _ref(name)
    return [pytest.param(r, id=f"{r.scenario}-{i}") for i, r in df.iterrows()] or [
        pytest.param(None, id="reference-missing")
    ]


_CACHE: dict[str, StaggeredResult] = {}


def _fit(shared_data: Path, scenario: str) -> StaggeredResult:
    if scenario not in _CACHE:
        df = pd.read_csv(shared_data / "mpdta" / "mpdta.csv")
        _CACHE[scenario] = staggered_did(
            df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat",
            **SCENARIOS[scenario],
        )
    return _CACHE[scenario]


@pytest.fixture(scope="module")
def mpdta(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "mpdta" / "mpdta.csv")


# ---------------------------------------------------------------- R reference, row by row
def test_reference_files_cover_all_scenarios(shared_data: Path) -> None:
    for name, n_rows in (("ref_attgt.csv", 48), ("ref_aggte.csv", 4 * 15), ("ref_pretest.csv", 4)):
        df = _ref(name)
        assert len(df) == n_rows, name
        assert set(df["scenario"]) == set(SCENARIOS)


@pytest.mark.parametrize("row", _rows("ref_attgt.csv"))
def test_att_gt_matches_r(shared_data: Path, row: pd.Series) -> None:
    res = _fit(shared_data, row.scenario)
    tab = res.att_gt
    hit = tab[(tab["cohort"] == row.group) & (tab["time"] == row.t)]
    assert len(hit) == 1
    assert hit["att"].iloc[0] == pytest.approx(row.att, abs=TOL)
    assert hit["se"].iloc[0] == pytest.approx(row.se, abs=TOL)


@pytest.mark.parametrize("row", _rows("ref_aggte.csv"))
def test_aggte_matches_r(shared_data: Path, row: pd.Series) -> None:
    agg = _fit(shared_data, row.scenario).aggregate(row.type)
    assert agg.overall.estimate == pytest.approx(row.overall_att, abs=TOL)
    assert agg.overall.se == pytest.approx(row.overall_se, abs=TOL)
    if row.type == "simple":
        assert agg.table.empty
        return
    hit = agg.table[agg.table["egt"] == int(row.egt)]
    assert len(hit) == 1
    assert hit["att"].iloc[0] == pytest.approx(row.att_egt, abs=TOL)
    assert hit["se"].iloc[0] == pytest.approx(row.se_egt, abs=TOL)


@pytest.mark.parametrize("row", _rows("ref_pretest.csv"))
def test_pretest_matches_r(shared_data: Path, row: pd.Series) -> None:
    pt = _fit(shared_data, row.scenario).pretest()
    assert pt.statistic == pytest.approx(row.W, abs=TOL)
    assert pt.p_value == pytest.approx(row.Wpval, abs=TOL)  # R rounds it to 5 decimals
    assert pt.df == 5
    assert pt.n_units == 500


def test_aggregate_tables_have_the_r_row_sets(shared_data: Path) -> None:
    res = _fit(shared_data, "mpdta_nev_dr")
    assert res.aggregate("group").table["egt"].tolist() == [2004, 2006, 2007]
    assert res.aggregate("dynamic").table["egt"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert res.aggregate("calendar").table["egt"].tolist() == [2004, 2005, 2006, 2007]


def test_dynamic_balance_e_matches_did_vignette(shared_data: Path) -> None:
    # did vignette "Getting Started", aggte(type="dynamic", balance_e=1): points to 4 decimals
    agg = _fit(shared_data, "mpdta_nev_dr").aggregate("dynamic", balance_e=1)
    assert agg.table["egt"].tolist() == [-2, -1, 0, 1]
    np.testing.assert_allclose(agg.table["att"], [0.0065, -0.0028, -0.0066, -0.0510], atol=6e-5)
    assert agg.overall.estimate == pytest.approx(-0.0288, abs=6e-5)


# DR and IPW with a covariate: R did's numbers via csdid 0.4.3 (a port of R did/DRDID,
# bstrap=False), which our run matched to 1e-16 when this test was written.
CSDID_LPOP = {
    "dr": (
        [-0.014529668304900052, -0.07642188173478864, -0.14044833681012356, -0.1069038981114605,
         -0.00047214608848602526, -0.00620252457979649, 0.0009605737466988026,
         -0.041293865588180496, 0.02672779620370112, -0.004576570763525664,
         -0.028447487197560028, -0.028781361039487172],
        [0.022129157238335365, 0.02867131415556104, 0.035378154710096046, 0.03288649300289705,
         0.02222343703665842, 0.018495701904182486, 0.01940019542202316, 0.019721144145395574,
         0.014065660764396424, 0.01571776313026437, 0.018180881152697774, 0.01623895296618498],
        (-0.041751772058616986, 0.011502838151545089),
    ),
    "ipw": (
        [-0.014548431154140985, -0.07644986075866309, -0.1404646026554933, -0.10693255710571735,
         -0.0008685602909432877, -0.0063972403433849405, 0.001208045239730924,
         -0.04130823173872435, 0.02655610362358521, -0.004660904906027398,
         -0.028340303804834825, -0.028894766614560835],
        [0.022114533111436574, 0.02864886253738329, 0.0353710017856821, 0.03288915170894665,
         0.02215284341812957, 0.018457328457978227, 0.019487929103448962, 0.019721398187520413,
         0.014044158504654297, 0.015669164248939927, 0.018189309095329124, 0.016246409387179233],
        (-0.041777082199132294, 0.011499719363982955),
    ),
}


@pytest.mark.parametrize("method", ["dr", "ipw"])
def test_dr_and_ipw_with_covariate_match_csdid(
    mpdta: pd.DataFrame, method: Literal["dr", "ipw"]
) -> None:
    att, se, (simple_att, simple_se) = CSDID_LPOP[method]
    res = staggered_did(mpdta, unit="countyreal", time="year", outcome="lemp",
                        cohort="first.treat", covariates=["lpop"], est_method=method)
    np.testing.assert_allclose(res.att_gt["att"], att, atol=1e-8)
    np.testing.assert_allclose(res.att_gt["se"], se, atol=1e-8)
    simple = res.aggregate("simple").overall
    assert simple.estimate == pytest.approx(simple_att, abs=1e-8)
    assert simple.se == pytest.approx(simple_se, abs=1e-8)
    # with a covariate the three estimators differ
    reg = staggered_did(mpdta, unit="countyreal", time="year", outcome="lemp",
                        cohort="first.treat", covariates=["lpop"], est_method="reg")
    assert not np.allclose(reg.att_gt["att"], att, atol=1e-5)


# ---------------------------------------------------------------- shapes and invariances
def test_result_shapes(shared_data: Path) -> None:
    res = _fit(shared_data, "mpdta_nev_dr")
    tab = res.to_frame()
    for col in ("cohort", "time", "att", "se", "ci_low", "ci_high", "n_treated", "n_control"):
        assert col in tab.columns
    assert len(tab) == 12
    assert tab.groupby("cohort")["n_treated"].first().to_dict() == {2004: 20, 2006: 40, 2007: 131}
    assert (tab["n_control"] == 309).all()
    assert (tab["ci_low"] < tab["att"]).all() and (tab["att"] < tab["ci_high"]).all()
    width = (tab["ci_high"] - tab["ci_low"]) / (2 * tab["se"])
    np.testing.assert_allclose(width, 1.959964, atol=1e-5)
    agg = res.aggregate("group")
    assert isinstance(agg, StaggeredAggregate)
    assert isinstance(agg.overall, Estimate)
    assert agg.overall.n_treated == 191 and agg.overall.n_control == 309
    assert agg.overall.method == "callaway_santanna"
    frame = agg.to_frame()
    assert len(frame) == 4 and frame["overall"].tolist() == [False, False, False, True]
    assert res.vcov.shape == (12, 12)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov)), tab["se"], rtol=1e-12)
    assert res.excluded.empty


def test_row_order_and_string_ids_do_not_matter(mpdta: pd.DataFrame) -> None:
    base = staggered_did(mpdta, unit="countyreal", time="year", outcome="lemp",
                         cohort="first.treat")
    shuffled = mpdta.sample(frac=1.0, random_state=3).assign(
        countyreal=lambda d: "c" + d["countyreal"].astype(str),
        **{"first.treat": lambda d: d["first.treat"].where(d["first.treat"] > 0)},  # NA = never
    )
    other = staggered_did(shuffled, unit="countyreal", time="year", outcome="lemp",
                          cohort="first.treat")
    pd.testing.assert_frame_equal(base.att_gt, other.att_gt)


# ---------------------------------------------------------------- simulated panels
def _simulate(n: int = 3000, seed: int = 1, effect: float = 0.5) -> pd.DataFrame:
    """Selection on x and x-dependent trends: only covariate-adjusted estimators are unbiased."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(x - 0.5)))
    treated = rng.random(n) < p
    cohort = np.where(treated, rng.choice([3, 4], size=n), 0)
    rows = []
    unit_fe = rng.normal(size=n)
    for t in range(1, 6):
        y = unit_fe + 0.3 * t * x + 0.1 * t + rng.normal(scale=0.5, size=n)
        y = y + effect * ((cohort > 0) & (t >= cohort))
        rows.append(pd.DataFrame({"id": np.arange(n), "t": t, "y": y, "g": cohort, "x": x}))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("method", ["dr", "reg", "ipw"])
def test_covariate_adjustment_recovers_planted_effect(method: Literal["dr", "reg", "ipw"]) -> None:
    df = _simulate()
    res = staggered_did(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"],
                        est_method=method)
    simple = res.aggregate("simple").overall
    assert abs(simple.estimate - 0.5) < 4 * simple.se
    assert simple.ci_low < 0.5 < simple.ci_high
    pre = res.att_gt[~res.att_gt["post"]]
    assert (pre["att"].abs() < 4 * pre["se"]).all()
    assert res.pretest().p_value > 0.001
    # without the covariate the selection on trends biases the estimate upwards
    naive = staggered_did(df, unit="id", time="t", outcome="y", cohort="g", est_method=method)
    naive_simple = naive.aggregate("simple").overall
    assert naive_simple.estimate - 0.5 > 6 * naive_simple.se


def test_universal_base_period_normalises_g_minus_one() -> None:
    df = _simulate(n=800)
    res = staggered_did(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"],
                        base_period="universal")
    tab = res.att_gt
    ref_rows = tab[tab["time"] == tab["cohort"] - 1]
    assert (ref_rows["att"] == 0).all() and ref_rows["se"].isna().all()
    assert len(tab) == 2 * 5
    post = tab[tab["post"]]
    assert (post["base_time"] == post["cohort"] - 1).all()


def test_not_yet_without_never_treated_uses_last_cohort() -> None:
    df = _simulate(n=1500)
    df = df[df["g"] > 0]
    with pytest.raises(InputError, match="no never-treated"):
        staggered_did(df, unit="id", time="t", outcome="y", cohort="g")
    res = staggered_did(df, unit="id", time="t", outcome="y", cohort="g", control="not_yet")
    assert set(res.att_gt["cohort"]) == {3}
    assert res.att_gt["time"].max() == 3  # periods from the last cohort on are dropped
    assert any("no never-treated" in n for n in res.notes)


def test_units_treated_in_first_period_are_listed_not_lost() -> None:
    df = _simulate(n=600)
    df.loc[df["id"].isin([5, 7]), "g"] = 1
    res = staggered_did(df, unit="id", time="t", outcome="y", cohort="g")
    assert sorted(res.excluded["id"]) == [5, 7]
    assert (res.excluded["reason"] == "treated_in_first_period").all()
    assert res.n_units == 598


# ---------------------------------------------------------------- bad input
def test_unbalanced_panel_names_the_units() -> None:
    df = _simulate(n=200)
    df = df.drop(df.index[(df["id"] == 17) & (df["t"] == 2)])
    with pytest.raises(InputError, match=r"unbalanced.*\[17\]"):
        staggered_did(df, unit="id", time="t", outcome="y", cohort="g")


def test_bad_input_errors() -> None:
    df = _simulate(n=200)
    with pytest.raises(MissingColumnError, match="'cohort'"):
        staggered_did(df, unit="id", time="t", outcome="y", cohort="cohort")
    dup = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(InputError, match="duplicated"):
        staggered_did(dup, unit="id", time="t", outcome="y", cohort="g")
    gap = df.assign(y=df["y"].where(~((df["id"] == 3) & (df["t"] == 4))))
    with pytest.raises(InputError, match=r"missing or non-numeric 'y'.*\[3\]"):
        staggered_did(gap, unit="id", time="t", outcome="y", cohort="g")
    moving = df.assign(g=np.where((df["id"] == 9) & (df["t"] == 5), 2, df["g"]))  # never 2
    with pytest.raises(InputError, match=r"varies within units \[9\]"):
        staggered_did(moving, unit="id", time="t", outcome="y", cohort="g")
    with pytest.raises(InputError, match="unknown control"):
        staggered_did(df, unit="id", time="t", outcome="y", cohort="g", control="later")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown aggregation"):
        staggered_did(df, unit="id", time="t", outcome="y", cohort="g").aggregate("yearly")  # type: ignore[arg-type]


def test_no_overlap_leaves_cells_na_with_a_note() -> None:
    df = _simulate(n=400)
    noise = np.random.default_rng(0).uniform(0, 0.1, size=400)[df["id"]]
    df["sep"] = (df["g"] == 3) + noise  # perfectly predicts cohort 3 against controls
    res = staggered_did(df, unit="id", time="t", outcome="y", cohort="g", covariates=["sep"])
    tab = res.att_gt
    assert tab.loc[tab["cohort"] == 3, "att"].isna().all()
    assert tab.loc[tab["cohort"] == 4, "att"].notna().all()
    assert any("overlap violated" in n for n in res.notes)


def test_time_must_be_numeric() -> None:
    df = _simulate(n=50).assign(t=lambda d: "w" + d["t"].astype(str))
    with pytest.raises(InputError, match="must be numeric"):
        staggered_did(df, unit="id", time="t", outcome="y", cohort="g")


# ---------------------------------------------------------------- survey panels: cell contrasts
def _as_survey(df: pd.DataFrame, *, unit: str, time: str, outcome: str, cohort: str,
               se: float = 0.0) -> tuple[pd.DataFrame, dict[str, tuple[int, int]], list[str],
                                         list[int]]:
    """A long panel as a survey panel, the treated windows (wave before the cohort) and the
    never-treated controls."""
    times = sorted(int(t) for t in df[time].unique())
    g = df.drop_duplicates(unit).set_index(unit)[cohort].fillna(0)
    windows = {str(u): (times[times.index(int(c)) - 1], int(c)) for u, c in g.items() if c > 0}
    controls = [str(u) for u, c in g.items() if c == 0]
    panel = pd.DataFrame({"area_id": df[unit].astype(str), "wave": df[time].astype(int),
                          "share": df[outcome], "se": se})
    return panel, windows, controls, times


def test_survey_att_gt_matches_staggered_did_not_yet_universal(mpdta_subset: Path) -> None:
    df = pd.read_csv(mpdta_subset)
    ref = staggered_did(df, unit="countyreal", time="year", outcome="lemp",
                        cohort="first.treat", control="not_yet", est_method="reg",
                        base_period="universal")
    panel, windows, controls, years = _as_survey(df, unit="countyreal", time="year",
                                                 outcome="lemp", cohort="first.treat")
    res = survey_att_gt(panel, treated=windows, controls=controls, waves=years)
    assert isinstance(res, SurveyAttGt)
    want = ref.att_gt[ref.att_gt["time"] != ref.att_gt["base_time"]].reset_index(drop=True)
    got = res.att_gt
    assert len(got) == len(want) == 12
    np.testing.assert_array_equal(got["cohort"], want["cohort"])
    np.testing.assert_array_equal(got["time"], want["time"])
    np.testing.assert_array_equal(got["pre_wave"], want["base_time"])
    np.testing.assert_allclose(got["att"], want["att"], atol=1e-12)
    np.testing.assert_array_equal(got["n_treated"], want["n_treated"])
    np.testing.assert_array_equal(got["n_control"], want["n_control"])
    assert got["post"].tolist() == want["post"].tolist()
    # event time in waves: 0 = first wave after completion; -1 is the reference (never a row)
    e = got.set_index(["cohort", "time"])["event_time"]
    assert (e.loc[2004].tolist(), e.loc[2007].tolist()) == ([0, 1, 2, 3], [-4, -3, -2, 0])
    assert -1 not in set(got["event_time"])
    # the dynamic aggregation is the R event study's point estimate (weights by cohort size)
    dyn = ref.aggregate("dynamic").table.set_index("egt")["att"]
    assert dyn.loc[-1] == 0  # R's reference row; not a row here
    for et, c in res.dynamic().items():
        assert float(c @ got["att"]) == pytest.approx(dyn.loc[et], abs=1e-12)
    simple = ref.aggregate("simple").overall.estimate
    assert res.estimate(res.simple(), tau2=0.01).estimate == pytest.approx(simple, abs=1e-12)


def test_honest_variance_matches_the_influence_function_on_a_large_panel() -> None:
    """Cells with iid shocks of variance tau2 and no sampling error: the fixed-contrast variance
    with that tau2 and the data-driven influence-function variance agree."""
    rng = np.random.default_rng(11)
    n, sd = 3000, 0.4
    cohort = rng.choice([0, 3, 4], size=n, p=[0.5, 0.25, 0.25])
    unit_fe = rng.normal(size=n)
    rows = [pd.DataFrame({"id": np.arange(n), "t": t, "g": cohort,
                          "y": unit_fe + 0.2 * t + 0.5 * ((cohort > 0) & (t >= cohort))
                          + rng.normal(scale=sd, size=n)}) for t in range(1, 6)]
    df = pd.concat(rows, ignore_index=True)
    ref = staggered_did(df, unit="id", time="t", outcome="y", cohort="g", control="not_yet",
                        est_method="reg", base_period="universal")
    panel, windows, controls, times = _as_survey(df, unit="id", time="t", outcome="y",
                                                 cohort="g")
    res = survey_att_gt(panel, treated=windows, controls=controls, waves=times)
    want = ref.att_gt[ref.att_gt["time"] != ref.att_gt["base_time"]].reset_index(drop=True)
    tab = res.table(tau2=sd**2)
    np.testing.assert_allclose(tab["att"], want["att"], atol=1e-12)
    np.testing.assert_allclose(tab["se"] / want["se"], 1.0, atol=0.08)
    np.testing.assert_allclose(tab["se"], np.sqrt(np.diag(res.vcov(sd**2))), rtol=1e-12)
    overall = res.estimate(res.simple(), tau2=sd**2)
    assert overall.se / ref.aggregate("simple").overall.se == pytest.approx(1.0, abs=0.08)
    assert abs(overall.estimate - 0.5) < 4 * overall.se
    assert res.pretest(tau2=sd**2).p_value > 0.001


def test_two_waves_give_the_pooled_2x2_and_tau2_adds_to_every_cell() -> None:
    panel = pd.DataFrame({
        "area_id": ["a", "a", "b", "b", "c", "c"], "wave": [2018, 2021] * 3,
        "share": [0.30, 0.22, 0.28, 0.27, 0.25, 0.26], "se": [0.03, 0.03, 0.02, 0.02, 0.04, 0.04],
        "n": [200, 210, 400, 380, 150, 160]})
    res = survey_att_gt(panel, treated={"a": (2018, 2021)}, controls=["b", "c"],
                        waves=[2018, 2021])
    ref = did_2x2(panel, treated={"a": 2021}, controls=["b", "c"], waves=[2018, 2021])
    est = res.estimate(res.simple())
    assert est.estimate == pytest.approx(ref.estimate, abs=1e-12)
    assert est.se == pytest.approx(ref.se, abs=1e-12)
    assert (est.ci_low, est.ci_high) == pytest.approx((ref.ci_low, ref.ci_high), abs=1e-12)
    assert est.mde == pytest.approx(ref.mde, abs=1e-12)
    assert est.extra["df"] == np.inf and est.extra["n_respondents"] == 1500
    assert (est.n_treated, est.n_control, est.method) == (1, 2, "callaway_santanna")
    # tau2 adds tau2 * sum(w^2): 2 treated cells of weight 1 and 4 control cells of 1/2
    tau2 = 0.02**2
    honest = res.estimate(res.simple(), tau2=tau2)
    assert honest.se**2 == pytest.approx(ref.se**2 + tau2 * (2 + 4 * 0.25), rel=1e-12)
    w = res.cell_weights(res.simple())
    assert w[("a", 2021)] == 1 and w[("b", 2018)] == 0.5 and len(w) == 6
    # tau2 estimated with few degrees of freedom: Satterthwaite's t, a wider interval
    t_est = res.estimate(res.simple(), tau2=tau2, tau2_df=4)
    var_t = tau2 * 3
    assert t_est.extra["df"] == pytest.approx(4 * (honest.se**2 / var_t) ** 2)
    crit = stats.t.ppf(0.975, t_est.extra["df"])
    assert t_est.ci_high - t_est.estimate == pytest.approx(crit * honest.se)
    assert t_est.p_value > honest.p_value
    # an estimated tau2 (variance.Tau2Result): the same t interval as did_2x2 with it
    t2 = Tau2Result(0.02**2, 0.0003, 0.0, 0.002, 30, 30, 1, 40.0, 29, "dl")
    mine = res.estimate(res.simple(), tau2=t2)
    theirs = did_2x2(panel, treated={"a": 2021}, controls=["b", "c"], waves=[2018, 2021],
                     tau2=t2)
    assert mine.extra["df"] == pytest.approx(theirs.extra["df"], rel=1e-12)
    assert mine.extra["df"] == pytest.approx(satterthwaite_df(ref.se**2, 3.0, t2), rel=1e-12)
    for key in ("estimate", "se", "ci_low", "ci_high", "p_value", "mde"):
        assert getattr(mine, key) == pytest.approx(getattr(theirs, key), rel=1e-10), key
    with pytest.raises(InputError, match="tau2_df is given with a Tau2Result"):
        res.estimate(res.simple(), tau2=t2, tau2_df=5)
    with pytest.raises(InputError, match="no pre-treatment"):
        res.pretest()


def test_survey_att_gt_windows_missing_cells_and_errors() -> None:
    waves = [2015, 2018, 2021, 2024]
    rows = [{"area_id": a, "wave": w, "share": 0.3, "n": 100}
            for a in ["t1", "t2", "t3", "c1", "c2"] for w in waves
            if (a, w) not in {("t2", 2024), ("t3", 2015)}]
    panel = pd.DataFrame(rows)
    res = survey_att_gt(panel, treated={"t1": (2015, 2021), "t2": (2018, 2021),
                                        "t3": (2015, 2018), "bad": (2021, 2018)},
                        controls=["c1", "c2"], waves=waves)
    tab = res.att_gt
    # t1's work spanned 2018: that wave is neither before nor after, so no cell for it
    t1 = tab[tab["pre_wave"] == 2015]
    assert t1["time"].tolist() == [2021, 2024]
    t2 = tab[tab["pre_wave"] == 2018]
    assert t2["time"].tolist() == [2015, 2021]  # no 2024 value
    assert t2.set_index("time").loc[2015, "event_time"] == -2
    assert set(res.dropped["area_id"]) == {"t3", "bad"}
    assert "no survey value in 2015" in res.dropped.set_index("area_id").loc["t3", "reason"]
    np.testing.assert_allclose(res.cells["var"], 0.3 * 0.7 / 100)  # binomial from n
    assert (tab["att"].abs() < 1e-12).all()
    with pytest.raises(InputError, match="tau2 must be"):
        res.vcov(-0.01)
    with pytest.raises(InputError, match="tau2_df must be positive"):
        res.estimate(res.simple(), tau2=0.01, tau2_df=0)
    with pytest.raises(InputError, match="neither 'se' nor 'n'"):
        survey_att_gt(panel.drop(columns="n"), treated={"t1": (2015, 2021)}, controls=["c1"],
                      waves=waves)
    with pytest.raises(MissingColumnError):
        survey_att_gt(panel.drop(columns="share"), treated={}, controls=["c1"], waves=waves)
