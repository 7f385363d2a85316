"""The normal-quantile helpers and the one confidence keyword, ``level`` (``alpha`` deprecated)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trygg_geo._errors import InputError
from trygg_geo._stats import resolve_level, z_crit, z_power
from trygg_geo.effects import Estimate, mde_did, normal_ci
from trygg_geo.effects.staggered import staggered_did
from trygg_geo.effects.synth import synthetic_control


@pytest.mark.parametrize(
    ("level", "expected"),
    [(0.95, 1.959963984540054), (0.90, 1.6448536269514722), (0.99, 2.5758293035489004),
     (0.5, 0.6744897501960817)],
)
def test_z_crit_is_the_two_sided_normal_quantile(level: float, expected: float) -> None:
    assert z_crit(level) == pytest.approx(expected, rel=1e-12)
    # P(|Z| <= z) = level
    assert stats.norm.cdf(z_crit(level)) - stats.norm.cdf(-z_crit(level)) == pytest.approx(level)
    assert isinstance(z_crit(level), float)


@pytest.mark.parametrize("bad", [0, 1, 95, -0.5, float("nan"), float("inf")])
def test_z_crit_and_z_power_refuse_values_outside_the_unit_interval(bad: float) -> None:
    with pytest.raises(ValueError, match="level must lie strictly between 0 and 1"):
        z_crit(bad)
    with pytest.raises(ValueError, match="power must lie strictly between 0 and 1"):
        z_power(bad)


def test_z_power_and_the_mde_multiplier() -> None:
    assert z_power(0.80) == pytest.approx(0.8416212335729143, rel=1e-12)
    assert z_power(0.5) == 0.0
    # the MDE of a design is (z_crit + z_power) * se
    mde = mde_did(n_per_area=150, n_treated=8, n_control=15, p=0.3)
    var = 2 * 0.3 * 0.7 / 150 * (1 / 8 + 1 / 15)
    assert mde == pytest.approx((z_crit(0.95) + z_power(0.80)) * np.sqrt(var), rel=1e-12)


def test_normal_ci_uses_z_crit() -> None:
    lo, hi, p = normal_ci(0.1, 0.02, level=0.90)
    z = 1.6448536269514722
    assert (lo, hi) == pytest.approx((0.1 - z * 0.02, 0.1 + z * 0.02))
    assert p == pytest.approx(2 * stats.norm.sf(5.0))
    est = Estimate.from_normal(0.1, 0.02, n_treated=3, n_control=4, method="x", level=0.90)
    assert est.level == 0.90 and est.ci_low == pytest.approx(lo)


def test_resolve_level() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_level(None, None, where="f") == 0.95
        assert resolve_level(0.9, None, where="f") == 0.9
        assert resolve_level(None, None, where="f", default=0.8) == 0.8
    with pytest.warns(DeprecationWarning, match=r"f\(alpha=...\) is deprecated; pass level=0.9"):
        assert resolve_level(None, 0.1, where="f") == pytest.approx(0.9)
    with pytest.raises(TypeError, match="both level"):
        resolve_level(0.9, 0.1, where="f")
    with pytest.raises(ValueError, match="alpha must lie"), pytest.warns(DeprecationWarning):
        resolve_level(None, 5, where="f")


# --------------------------------------------------------------------------- staggered


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for u in range(40):
        g = (0, 3, 4)[u % 3]
        a = rng.normal()
        for t in range(1, 6):
            y = a + 0.2 * t + (1.0 if g and t >= g else 0.0) + rng.normal(scale=0.3)
            rows.append({"id": u, "t": t, "y": y, "g": g})
    return pd.DataFrame(rows)


def test_staggered_level_and_deprecated_alpha() -> None:
    df = _panel()
    kw = {"unit": "id", "time": "t", "outcome": "y", "cohort": "g"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = staggered_did(df, **kw)
        at90 = staggered_did(df, **kw, level=0.90)
    assert default.level == 0.95 and at90.level == 0.90
    tab = default.att_gt
    z = tab["ci_high"].sub(tab["att"]).div(tab["se"])
    np.testing.assert_allclose(z.dropna(), z_crit(0.95))
    z90 = at90.att_gt["ci_high"].sub(at90.att_gt["att"]).div(at90.att_gt["se"])
    np.testing.assert_allclose(z90.dropna(), z_crit(0.90))

    # alpha= still works, warns, and gives the same result as level = 1 - alpha
    with pytest.warns(DeprecationWarning, match=r"staggered_did\(alpha=...\) is deprecated"):
        old = staggered_did(df, **kw, alpha=0.10)
    assert old.level == pytest.approx(0.90)
    pd.testing.assert_frame_equal(old.att_gt, at90.att_gt)
    with pytest.warns(DeprecationWarning, match="StaggeredResult.alpha is deprecated"):
        assert old.alpha == pytest.approx(0.10)
    with pytest.raises(TypeError, match="both level"):
        staggered_did(df, **kw, level=0.9, alpha=0.1)
    with pytest.raises(InputError, match="level must lie strictly between 0 and 1"):
        staggered_did(df, **kw, level=95)

    # aggregate: level by default from the estimation, alpha deprecated there too
    agg = at90.aggregate("simple")
    assert agg.overall.level == pytest.approx(0.90)
    agg95 = at90.aggregate("simple", level=0.95)
    ov = agg95.overall
    assert ov.level == 0.95
    assert (ov.ci_high - ov.estimate) / ov.se == pytest.approx(z_crit(0.95))
    with pytest.warns(DeprecationWarning, match=r"aggregate\(alpha=...\)"):
        agg_old = at90.aggregate("simple", alpha=0.05)
    assert agg_old.overall.ci_low == pytest.approx(ov.ci_low)
    with pytest.raises(TypeError, match="both level"):
        at90.aggregate("simple", level=0.95, alpha=0.05)


def test_synthetic_control_level_and_deprecated_alpha() -> None:
    years = np.arange(1, 16)
    rng = np.random.default_rng(5)
    series = {k: 10 + i + np.sin(years * (i + 1)) + rng.normal(scale=0.1, size=len(years))
              for i, k in enumerate("ABCDEF")}
    series["T"] = 0.5 * series["A"] + 0.5 * series["B"] + 2.0 * (years >= 11)
    df = pd.concat([pd.DataFrame({"u": k, "t": years, "y": v}) for k, v in series.items()],
                   ignore_index=True)
    kw = {"unit": "u", "time": "t", "outcome": "y", "treated": "T", "treatment_time": 11}
    new = synthetic_control(df, **kw, level=0.90)
    assert new.att.level == 0.90
    with pytest.warns(DeprecationWarning, match=r"synthetic_control\(alpha=...\) is deprecated"):
        old = synthetic_control(df, **kw, alpha=0.10)
    assert old.att.level == pytest.approx(0.90)
    assert (old.att.ci_low, old.att.ci_high) == pytest.approx((new.att.ci_low, new.att.ci_high))
    with pytest.raises(TypeError, match="both level"):
        synthetic_control(df, **kw, level=0.9, alpha=0.1)
