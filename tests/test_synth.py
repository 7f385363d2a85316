"""Tests of trygg_geo.effects.synth: the Basque Country example and planted data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo.effects import Estimate
from trygg_geo.effects.synth import SynthResult, synthetic_control

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
    assert att.ci_low < att.estimate < att.ci_high


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
