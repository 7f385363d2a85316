"""Tests of trygg_geo.effects.synth: Prop 99, the Basque Country example and planted data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo.effects import Estimate
from trygg_geo.effects.synth import (
    SynthResult,
    _kkt_violation,
    _placebo_mde,
    _ratio_interval,
    _simplex_qp,
    _standardise,
    synthetic_control,
)

BASQUE = "Basque Country (Pais Vasco)"
SPAIN = "Spain (Espana)"
# the Synth package's Basque example (../shared/data/basque/SOURCE.md)
BASQUE_SPEC: dict[str, Any] = {
    "unit": "regionname",
    "time": "year",
    "outcome": "gdpcap",
    "treated": BASQUE,
    "treatment_time": 1975,
    "predictors": ["school.illit", "school.prim", "school.med", "school.high",
                   "school.post.high", "invest"],
    "predictors_op": "mean",
    "predictor_period": range(1964, 1970),
    "special_predictors": [("gdpcap", range(1960, 1970), "mean")]
    + [(c, range(1961, 1970, 2), "mean") for c in (
        "sec.agriculture", "sec.energy", "sec.industry", "sec.construction",
        "sec.services.venta", "sec.services.nonventa")]
    + [("popdens", [1969], "mean")],
    "fit_period": range(1960, 1970),
}


@pytest.fixture(scope="module")
def basque(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "basque" / "basque.csv")


def test_basque_weights_match_synth(basque: pd.DataFrame) -> None:
    donors = [u for u in basque["regionname"].unique() if u not in (BASQUE, SPAIN)]
    res = synthetic_control(basque, donors=donors, placebo=False, **BASQUE_SPEC)
    assert isinstance(res, SynthResult)
    w = res.weights
    assert list(w.index) == donors
    assert w.sum() == pytest.approx(1.0, abs=1e-9)
    assert (w >= 0).all()
    assert w["Cataluna"] == pytest.approx(0.851, abs=0.01)
    assert w["Madrid (Comunidad De)"] == pytest.approx(0.149, abs=0.01)
    assert w.drop(["Cataluna", "Madrid (Comunidad De)"]).max() < 0.01
    assert res.v.sum() == pytest.approx(1.0) and (res.v >= 0).all()
    assert len(res.v) == 14 and res.v.index[6] == "special.gdpcap.1960.1969"
    # the gap and ATT (pysyncon: ATT over 1975-1997 = -0.6996)
    assert res.att.estimate == pytest.approx(-0.6996, abs=0.01)
    assert res.gap.index.tolist() == list(range(1955, 1998))
    assert res.gap.loc[1975:].mean() == pytest.approx(res.att.estimate)
    series = res.to_frame()
    np.testing.assert_allclose(series["treated"] - series["synthetic"], series["gap"])
    assert series["post"].sum() == 23
    assert res.rmspe_pre < 0.1 < res.rmspe_post
    # predictor balance: the synthetic Basque is close to the real one on GDP 1960-69
    bal = res.predictors.loc["special.gdpcap.1960.1969"]
    assert bal["synthetic"] == pytest.approx(bal["treated"], rel=0.01)
    # no placebos: no inference claimed
    assert np.isnan(res.placebo_p) and np.isnan(res.att.se) and res.placebos is None


def test_basque_placebo_p_value_as_pysyncon(basque: pd.DataFrame) -> None:
    # pysyncon's example keeps Spain among the donors: 18 units, p = 3/18 = 0.1667
    res = synthetic_control(basque, placebo=True, **BASQUE_SPEC)
    assert res.weights[SPAIN] < 0.01
    assert res.weights["Cataluna"] == pytest.approx(0.851, abs=0.01)
    assert res.placebos is not None and res.placebo_stats is not None
    assert res.placebos.shape == (43, 18)
    assert res.placebos.columns[0] == BASQUE
    np.testing.assert_allclose(res.placebos[BASQUE], res.gap)
    assert res.placebo_p == pytest.approx(0.1667, abs=1 / 18 + 1e-9)
    stats = res.placebo_stats
    assert stats["treated"].sum() == 1
    assert res.placebo_p == pytest.approx(np.mean(stats["ratio"] >= stats.loc[BASQUE, "ratio"]))
    att = res.att
    assert isinstance(att, Estimate)
    assert att.p_value == res.placebo_p and att.n_treated == 1 and att.n_control == 17
    assert att.se == pytest.approx(stats["att"].drop(BASQUE).std(ddof=1))
    # 18 units cannot reject at 5% (1/18 > 0.05): the test-inverted interval is unbounded
    assert att.ci_low == -np.inf and att.ci_high == np.inf
    assert att.extra["ci_note"].startswith("unbounded") and att.mde == np.inf


def _planted(effect: float = 2.0, seed: int = 4) -> pd.DataFrame:
    """Treated = 0.3 A + 0.7 B before period 11; then plus ``effect``. Others far off."""
    rng = np.random.default_rng(seed)
    years = np.arange(1, 21)
    series = {
        "A": 10 + 0.5 * years + rng.normal(scale=0.3, size=20),
        "B": 20 - 0.2 * years + rng.normal(scale=0.3, size=20),
        "C": 40 + rng.normal(scale=0.3, size=20),
        "D": 2 + years + rng.normal(scale=0.3, size=20),
        "E": 30 + np.sin(years) * 3,
    }
    series["T"] = 0.3 * series["A"] + 0.7 * series["B"] + effect * (years >= 11)
    return pd.concat(
        [pd.DataFrame({"area_id": k, "wave": years, "share": v}) for k, v in series.items()],
        ignore_index=True,
    )


def test_planted_weights_and_effect_with_outcome_predictors() -> None:
    df = _planted()
    res = synthetic_control(df, unit="area_id", time="wave", outcome="share", treated="T",
                            treatment_time=11)
    np.testing.assert_allclose(res.weights[["A", "B"]], [0.3, 0.7], atol=1e-6)
    assert res.rmspe_pre < 1e-6
    assert res.att.estimate == pytest.approx(2.0, abs=1e-6)
    assert res.placebo_p == pytest.approx(1 / 6)  # the treated unit's ratio is the largest
    assert list(res.v.index) == [f"share.{t}" for t in range(1, 11)]


def test_planted_with_covariate_predictor_and_median() -> None:
    df = _planted(effect=0.0)
    level = df["area_id"].map({"A": 1.0, "B": 2.0, "C": 5.0, "D": 0.0, "E": 9.0, "T": 1.7})
    df["z"] = level + np.where(df["wave"] == 2, 100.0, 0.0)  # an outlier the median ignores
    res = synthetic_control(df, unit="area_id", time="wave", outcome="share", treated="T",
                            treatment_time=11, predictors=["z"], predictors_op="median",
                            special_predictors=[("share", range(1, 11), "mean")],
                            donors=["A", "B", "C", "D", "E"], placebo=False)
    bal = res.predictors
    assert list(bal.columns) == ["treated", "synthetic", "donor_mean"]
    assert bal.loc["z", "treated"] == pytest.approx(1.7)
    assert bal.loc["z", "donor_mean"] == pytest.approx(3.4)
    # two predictors, five donors: the synthetic unit matches both exactly
    np.testing.assert_allclose(bal["synthetic"], bal["treated"], rtol=1e-6)
    assert res.weights.sum() == pytest.approx(1.0) and (res.weights >= 0).all()


def test_bad_input_errors() -> None:
    df = _planted()
    kw: dict[str, Any] = {"unit": "area_id", "time": "wave", "outcome": "share", "placebo": False}
    with pytest.raises(InputError, match="not in column 'area_id'"):
        synthetic_control(df, treated="X", treatment_time=11, **kw)
    with pytest.raises(InputError, match="among the donors"):
        synthetic_control(df, treated="T", treatment_time=11, donors=["A", "T"], **kw)
    with pytest.raises(InputError, match="no pre- or no post"):
        synthetic_control(df, treated="T", treatment_time=1, **kw)
    with pytest.raises(InputError, match="reaches into the treated periods"):
        synthetic_control(df, treated="T", treatment_time=11, fit_period=range(5, 13), **kw)
    with pytest.raises(MissingColumnError, match="'pop'"):
        synthetic_control(df, treated="T", treatment_time=11, predictors=["pop"], **kw)
    holed = df.assign(share=df["share"].where(~((df["area_id"] == "C") & (df["wave"] == 3))))
    with pytest.raises(InputError, match=r"missing in the fit period for units \['C'\]"):
        synthetic_control(holed, treated="T", treatment_time=11, **kw)
    df["z"] = np.where(df["area_id"] == "D", np.nan, 1.0)
    with pytest.raises(InputError, match=r"predictor 'z'.*\['D'\]"):
        synthetic_control(df, treated="T", treatment_time=11, predictors=["z"], **kw)
    with pytest.raises(InputError, match="duplicated"):
        synthetic_control(pd.concat([df, df.iloc[[0]]]), treated="T", treatment_time=11, **kw)


# --------------------------------------------------------------------------------------------
# The simplex QP
# --------------------------------------------------------------------------------------------
def _slsqp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A second, independent solver: SLSQP from equal weights with the analytic gradient."""
    from scipy import optimize

    j = a.shape[1]
    res = optimize.minimize(
        lambda w: float(np.sum((a @ w - b) ** 2)), np.full(j, 1 / j),
        jac=lambda w: 2 * a.T @ (a @ w - b), method="SLSQP", bounds=[(0, 1)] * j,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 5000},
    )
    return np.asarray(res.x)


@pytest.mark.parametrize(("t", "j", "seed"), [(19, 38, 0), (30, 8, 1), (5, 60, 2), (12, 12, 3)])
def test_simplex_qp_is_optimal(t: int, j: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(t, j)).cumsum(axis=0) + rng.normal(size=j)
    b = a[:, :3] @ np.array([0.2, 0.3, 0.5]) + rng.normal(scale=2.0, size=t)  # off the hull
    w = _simplex_qp(a, b)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
    assert _kkt_violation(a, b, w) < 1e-9
    # not beaten by a second solver (to rounding)
    f = float(np.sum((a @ w - b) ** 2))
    assert f <= float(np.sum((a @ _slsqp(a, b) - b) ** 2)) * (1 + 1e-9)
    # a point in the hull is hit exactly; a warm start does not change the answer
    exact = a[:, :4] @ np.array([0.1, 0.2, 0.3, 0.4])
    assert float(np.sum((a @ _simplex_qp(a, exact) - exact) ** 2)) < 1e-18 * np.sum(exact**2)
    np.testing.assert_allclose(a @ _simplex_qp(a, b, w0=np.full(j, 1 / j)), a @ w, atol=1e-8)


def test_kkt_violation_flags_a_non_optimal_point() -> None:
    a = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 2.0]])
    b = np.array([0.5, 0.5])
    assert _kkt_violation(a, b, np.array([0.5, 0.5, 0.0])) < 1e-15
    assert _kkt_violation(a, b, np.array([0.0, 0.5, 0.5])) > 0.01
    assert _kkt_violation(a, b, np.array([0.6, 0.6, -0.2])) > 0.1  # infeasible


# --------------------------------------------------------------------------------------------
# California's Proposition 99 (outcome only)
# --------------------------------------------------------------------------------------------
PROP99 = {"unit": "State", "time": "Year", "outcome": "PacksPerCapita",
          "treated": "California", "treatment_time": 1989}


@pytest.fixture(scope="module")
def prop99(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "prop99" / "california_prop99.csv")


@pytest.fixture(scope="module")
def prop99_fit(prop99: pd.DataFrame) -> SynthResult:
    return synthetic_control(prop99, **PROP99)


def test_prop99_outcome_only_weights_and_gap(prop99: pd.DataFrame,
                                             prop99_fit: SynthResult) -> None:
    # reference: ../shared/data/prop99/SOURCE.md (constrained least squares on 1970-1988)
    res = prop99_fit
    w = res.weights
    assert len(w) == 38 and w.sum() == pytest.approx(1.0, abs=1e-12) and (w >= 0).all()
    ref = {"Utah": 0.394, "Montana": 0.232, "Nevada": 0.205, "Connecticut": 0.109,
           "New Hampshire": 0.045, "Colorado": 0.015}
    for state, val in ref.items():
        assert w[state] == pytest.approx(val, abs=0.01), state
    assert w.drop(list(ref)).max() < 1e-6
    assert res.mspe_fit == pytest.approx(2.744, abs=0.002)
    assert res.rmspe_pre == pytest.approx(np.sqrt(res.mspe_fit))
    assert res.att.estimate == pytest.approx(-19.5, abs=0.2)
    assert res.gap.loc[2000] == pytest.approx(-26.6, abs=0.1)
    # the weights solve the QP: KKT conditions hold and SLSQP does no better
    wide = prop99.pivot(index="Year", columns="State", values="PacksPerCapita").loc[:1988]
    a, b = wide[list(w.index)].to_numpy(), wide["California"].to_numpy()
    assert _kkt_violation(a, b, w.to_numpy()) < 1e-9
    assert res.mspe_fit * 19 <= float(np.sum((a @ _slsqp(a, b) - b) ** 2)) * (1 + 1e-9)
    # the outcome in each pre year, unstandardised and equally weighted, is the objective
    assert (res.v == 1 / 19).all() and res.v.index[0] == "PacksPerCapita.1970"


def _p_at(res: SynthResult, c: float) -> float:
    """Placebo p-value of H0 'constant effect c' recomputed from the placebo gaps."""
    assert res.placebos is not None
    gaps = res.placebos.copy()
    post = gaps.index >= res.treatment_time
    gaps.loc[post, res.treated] -= c
    pre_r = np.sqrt((gaps[~post] ** 2).mean())
    ratio = np.sqrt((gaps[post] ** 2).mean()) / pre_r
    return float(np.mean(ratio >= ratio[res.treated]))


@pytest.mark.parametrize("level", [0.95, 0.90, 0.80])
def test_prop99_interval_inverts_the_placebo_test(prop99: pd.DataFrame, level: float) -> None:
    res = synthetic_control(prop99, level=level, **PROP99)
    att = res.att
    stats = res.placebo_stats
    assert stats is not None and len(stats) == 39
    assert att.p_value == res.placebo_p == pytest.approx(
        np.mean(stats["ratio"] >= stats.loc["California", "ratio"]))
    assert res.placebo_p == pytest.approx(3 / 39)  # Missouri and Virginia rank above
    assert att.extra["ci_method"] == "placebo_test_inversion"
    lo, hi = att.ci_low, att.ci_high
    assert np.isfinite(lo) and np.isfinite(hi) and lo < att.estimate < hi
    assert att.estimate == pytest.approx((lo + hi) / 2)
    # agreement: zero is inside exactly when the test does not reject zero
    assert (lo <= 0 <= hi) == (att.p_value > 1 - level)
    # and the bounds are where the recomputed test starts to reject
    width = hi - lo
    for c in (lo + 1e-6 * width, att.estimate, hi - 1e-6 * width):
        assert _p_at(res, c) > 1 - level
    for c in (lo - 1e-6 * width, hi + 1e-6 * width, lo - width, hi + width):
        assert _p_at(res, c) <= 1 - level
    assert _p_at(res, 0.0) == pytest.approx(att.p_value)


def test_prop99_levels_and_mde(prop99: pd.DataFrame, prop99_fit: SynthResult) -> None:
    at95 = prop99_fit.att
    at90 = synthetic_control(prop99, level=0.90, **PROP99).att
    # p = 3/39 = 0.077: not significant at 5% (interval holds 0), significant at 10%
    assert at95.ci_low < 0 < at95.ci_high
    assert at90.ci_high < 0
    assert at90.ci_high - at90.ci_low < at95.ci_high - at95.ci_low
    # the MDE: finite, smaller at a laxer level, and defined as documented
    assert np.isfinite(at95.mde) and 0 < at90.mde < at95.mde
    assert at95.extra["mde_power"] == 0.8
    res = prop99_fit
    assert res.placebos is not None
    arr = res.placebos.to_numpy()[:, 1:]
    pre_mask = (res.placebos.index < 1989)
    assert _placebo_mde(arr, pre_mask, res.rmspe_pre, 0.05, 0.8) == at95.mde
    # every effect above the MDE is detected in 80% of cases; just below it, in fewer
    detected = _detected_share(arr, pre_mask, res.rmspe_pre, at95.mde * (1 + 1e-9), alpha=0.05)
    assert detected >= 0.8
    assert _detected_share(arr, pre_mask, res.rmspe_pre, at95.mde * 0.999, alpha=0.05) < 0.8


def _detected_share(arr: np.ndarray, pre_mask: np.ndarray, rmspe_pre: float, delta: float,
                    *, alpha: float) -> float:
    """Brute force: the share of (placebo, sign) cases detected from ``delta`` on.

    A case is detected when its test rejects with ``delta`` and with larger effects (checked
    on a grid) added to the placebo rescaled to ``rmspe_pre``.
    """
    n = arr.shape[1]
    pre = np.sqrt(np.mean(arr[pre_mask] ** 2, axis=0))
    ratio = np.sqrt(np.mean(arr[~pre_mask] ** 2, axis=0)) / pre
    hits = 0
    for j in range(n):
        others = np.delete(ratio, j)
        scaled = arr[:, j] * rmspe_pre / pre[j]
        for sign in (1.0, -1.0):
            ok = True
            for d in delta * np.array([1.0, 1.01, 1.1, 1.5, 2.0, 5.0, 50.0]):
                y = scaled + np.where(~pre_mask, sign * d, 0.0)
                r = np.sqrt(np.mean(y[~pre_mask] ** 2)) / rmspe_pre
                ok &= (1 + np.sum(others >= r)) / n <= alpha
            hits += ok
    return hits / (2 * n)


# --------------------------------------------------------------------------------------------
# Interval edge cases
# --------------------------------------------------------------------------------------------
def test_ratio_interval_unbounded_empty_and_finite() -> None:
    post = np.array([1.0, 3.0])  # mean 2, population variance 1
    assert _ratio_interval(post, 1.0, np.inf)[:2] == (-np.inf, np.inf)
    lo, hi, note = _ratio_interval(post, 1.0, 0.5)  # sqrt(var) > 0.5: no c fits
    assert np.isnan(lo) and np.isnan(hi) and note.startswith("empty")
    lo, hi, note = _ratio_interval(post, 1.0, np.sqrt(5.0))  # 2 -/+ sqrt(5 - 1)
    assert (lo, hi) == pytest.approx((0.0, 4.0)) and note.startswith("test inversion")


def test_few_donors_give_unbounded_interval_and_infinite_mde() -> None:
    res = synthetic_control(_planted(), unit="area_id", time="wave", outcome="share",
                            treated="T", treatment_time=11)
    # 6 units: the smallest possible p is 1/6, so nothing is rejected at 5%
    assert res.att.p_value == pytest.approx(1 / 6)
    assert (res.att.ci_low, res.att.ci_high) == (-np.inf, np.inf)
    assert res.att.mde == np.inf
    # at level 0.8 (alpha 0.2 > 1/6) zero is rejected; the treated unit is fitted exactly
    # and its gap is 2 in every post period, so only an effect of exactly 2 is accepted
    at80 = synthetic_control(_planted(), unit="area_id", time="wave", outcome="share",
                             treated="T", treatment_time=11, level=0.8)
    assert at80.rmspe_pre < 1e-12
    assert (at80.att.ci_low, at80.att.ci_high) == pytest.approx((2.0, 2.0), abs=1e-9)
    assert (at80.att.ci_low <= 0 <= at80.att.ci_high) == (at80.att.p_value > 0.2)
    assert res.att.extra["ci_note"].startswith("unbounded: too few placebos")
    with pytest.raises(InputError, match="power"):
        synthetic_control(_planted(), unit="area_id", time="wave", outcome="share",
                          treated="T", treatment_time=11, power=80)


def _many_donors(effect: float, *, n_donors: int = 30, seed: int = 11) -> pd.DataFrame:
    """Donors: random walks around distinct trends; the treated unit a mix of three plus noise."""
    rng = np.random.default_rng(seed)
    years = np.arange(1, 26)
    series = {f"d{i:02d}": 50 + rng.normal(scale=5) + rng.normal(scale=0.4) * years
              + rng.normal(scale=1.0, size=years.size).cumsum() for i in range(n_donors)}
    mix = 0.5 * series["d00"] + 0.3 * series["d01"] + 0.2 * series["d02"]
    series["T"] = mix + rng.normal(scale=0.3, size=years.size) + effect * (years >= 16)
    return pd.concat(
        [pd.DataFrame({"u": k, "t": years, "y": v}) for k, v in series.items()],
        ignore_index=True,
    )


def test_effect_above_the_mde_is_detected_and_null_is_not() -> None:
    kw: dict[str, Any] = {"unit": "u", "time": "t", "outcome": "y", "treated": "T",
                          "treatment_time": 16, "level": 0.9}
    null = synthetic_control(_many_donors(0.0), **kw)
    assert np.isfinite(null.att.mde) and null.att.mde > 0
    assert null.att.p_value > 0.1 and null.att.ci_low < 0 < null.att.ci_high
    big = synthetic_control(_many_donors(1.5 * null.att.mde), **kw)
    assert big.att.p_value <= 0.1 and big.att.ci_low > 0
    assert big.att.estimate == pytest.approx(1.5 * null.att.mde, rel=0.2)


# --------------------------------------------------------------------------------------------
# The nested V optimisation
# --------------------------------------------------------------------------------------------
def _planted_predictors() -> pd.DataFrame:
    """T = 0.3 A + 0.7 B (plus 1.5 from period 11); covariate z matches C instead."""
    t = np.arange(1, 16)
    paths = {"A": 10 + t, "B": 20 - 0.1 * t**2, "C": 15 + 3 * np.sin(t),
             "D": 5 + 2 * np.cos(t / 2), "E": 12 + 0.05 * t**2 + 0.2 * np.sin(3 * t)}
    paths["T"] = 0.3 * paths["A"] + 0.7 * paths["B"] + 1.5 * (t >= 11)
    z = {"A": 0.0, "B": 0.0, "C": 5.0, "D": 1.0, "E": 2.0, "T": 5.0}
    return pd.concat([pd.DataFrame({"u": k, "t": t, "y": v, "z": z[k]})
                      for k, v in paths.items()], ignore_index=True)


def test_nested_v_ignores_a_misleading_predictor() -> None:
    df = _planted_predictors()
    specials = [("y", [p], "mean") for p in (2, 4, 6, 8, 10)]
    res = synthetic_control(df, unit="u", time="t", outcome="y", treated="T",
                            treatment_time=11, predictors=["z"], special_predictors=specials,
                            placebo=False)
    # the known answer: the mix that reproduces T's outcome exactly
    np.testing.assert_allclose(res.weights[["A", "B"]], [0.3, 0.7], atol=1e-4)
    assert res.mspe_fit < 1e-8
    assert res.att.estimate == pytest.approx(1.5, abs=1e-3)
    assert res.v["z"] < 1e-3 and res.v.sum() == pytest.approx(1.0)
    assert res.extra["starts"] >= 1
    # with equal V the misleading covariate pulls weight to C and the outcome fit is poor
    x = res.predictors
    x0 = np.column_stack([df[(df["u"] == u) & df["t"].isin([2, 4, 6, 8, 10])]["y"].to_numpy()
                          for u in "ABCDE"])
    x1 = df[(df["u"] == "T") & df["t"].isin([2, 4, 6, 8, 10])]["y"].to_numpy()
    x1s, x0s = _standardise(np.append(5.0, x1), np.vstack([[0, 0, 5, 1, 2], x0]))
    w_equal = _simplex_qp(x0s, x1s)
    assert w_equal[2] > 0.05
    assert x.loc["z", "treated"] == 5.0 and x.loc["z", "synthetic"] < 0.01


def test_perfect_pre_fits_leave_the_ratio_test_powerless() -> None:
    # 3 pre waves, 40 donors: every unit is fitted exactly, every RMSPE ratio is infinite
    rng = np.random.default_rng(1)
    waves = [2014, 2017, 2020, 2023]
    df = pd.DataFrame([{"area": f"a{i}", "wave": w, "share": b + rng.normal(scale=0.02)}
                       for i, b in enumerate(rng.uniform(0.05, 0.3, size=41)) for w in waves])
    res = synthetic_control(df, unit="area", time="wave", outcome="share", treated="a0",
                            treatment_time=2023)
    stats = res.placebo_stats
    assert stats is not None
    assert res.mspe_fit < 1e-20 and res.rmspe_pre < 1e-10
    # the treated unit ties with every other perfectly fitted unit
    assert res.att.p_value == pytest.approx(np.mean(np.isinf(stats["ratio"])))
    assert np.isinf(stats["ratio"]).sum() >= 3
    assert (res.att.ci_low, res.att.ci_high) == (-np.inf, np.inf)
    assert "perfectly" in res.att.extra["ci_note"] and res.att.mde == np.inf
