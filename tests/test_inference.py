"""Permutation (placebo-in-space) inference for the pooled 2x2 DiD."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from trygg_geo._errors import InputError
from trygg_geo.effects import Estimate
from trygg_geo.effects.did import did_2x2
from trygg_geo.effects.inference import PermutationResult, n_assignments, permutation_test

WAVES = [2015, 2018, 2021, 2024]


def _panel(n_units: int, cohorts: dict[str, int], *, effect: float = 0.0, noise: float = 0.02,
           seed: int = 0, missing: tuple[tuple[str, int], ...] = ()) -> pd.DataFrame:
    """Shares with area levels, a common trend, iid noise and an effect from the cohort on."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_units):
        a = f"A{i:02d}"
        level = rng.uniform(0.15, 0.45)
        for k, w in enumerate(WAVES):
            s = level + 0.01 * k + rng.normal(0, noise)
            if a in cohorts and w >= cohorts[a]:
                s += effect
            if (a, w) in missing:
                continue
            rows.append({"area_id": a, "wave": w, "indicator": "otrygg_kvall", "share": s, "se": 0.03,
                         "n": 150})
    return pd.DataFrame(rows)


def test_observed_statistic_equals_did_2x2_with_missing_cells() -> None:
    treated = {"A00": 2018, "A01": 2021, "A02": 2021, "A03": 2024}
    controls = [f"A{i:02d}" for i in range(4, 20)]
    panel = _panel(20, treated, effect=-0.05, missing=(("A05", 2021), ("A07", 2015), ("A02", 2018)))
    res = permutation_test(panel, treated=treated, controls=controls, waves=WAVES, indicator="otrygg_kvall",
                           exact_limit=1000)
    est = did_2x2(panel, treated=treated, controls=controls, waves=WAVES, indicator="otrygg_kvall")
    assert res.estimate == pytest.approx(est.estimate, abs=1e-12)
    # A02 has no 2018 value, so it cannot be a treated unit of cohort 2021: it is dropped
    assert list(res.dropped["area_id"]) == ["A02"]
    assert (res.n_treated, res.n_control) == (est.n_treated, est.n_control) == (3, 16)
    assert not res.exact and res.n_permutations == 10_000
    assert res.n_assignments == n_assignments(19, [1, 1, 1]) == 19 * 18 * 17


def test_exact_null_distribution_equals_did_2x2_on_every_assignment() -> None:
    """Brute force: did_2x2 refitted for every reassignment gives the same multiset of statistics."""
    treated = {"A00": 2018, "A01": 2021}
    controls = ["A02", "A03", "A04", "A05"]
    panel = _panel(6, treated, effect=-0.05, missing=(("A04", 2021),), seed=3)
    res = permutation_test(panel, treated=treated, controls=controls, waves=WAVES)
    assert res.exact and res.n_assignments == 30 and res.n_permutations == 30
    units = list(treated) + controls
    brute = []
    for a, b in itertools.permutations(units, 2):
        t = {a: 2018, b: 2021}
        brute.append(did_2x2(panel, treated=t, controls=[u for u in units if u not in t], waves=WAVES).estimate)
    np.testing.assert_allclose(np.sort(res.null), np.sort(brute), atol=1e-12)
    obs = did_2x2(panel, treated=treated, controls=controls, waves=WAVES).estimate
    assert res.p_value == pytest.approx(np.mean(np.abs(brute) >= abs(obs) - 1e-12))


def test_clear_effect_is_the_most_extreme_of_all_assignments() -> None:
    treated = {"A00": 2021, "A01": 2021, "A02": 2024}
    controls = [f"A{i:02d}" for i in range(3, 15)]
    panel = _panel(15, treated, effect=-0.20, noise=0.01)
    res = permutation_test(panel, treated=treated, controls=controls, waves=WAVES)
    total = math.comb(15, 2) * 13
    assert res.exact and res.n_assignments == total
    assert res.p_value == pytest.approx(1 / total)
    assert res.p_value == res.min_p_value
    assert res.ci_low < -0.20 < res.ci_high < -0.15
    assert res.ci_low < res.estimate < res.ci_high


def test_monte_carlo_p_value_counts_the_observed_assignment_and_is_seeded() -> None:
    treated = {f"A{i:02d}": 2021 for i in range(6)}
    controls = [f"A{i:02d}" for i in range(6, 40)]
    panel = _panel(40, treated, effect=-0.01, noise=0.03, seed=1)
    res = permutation_test(panel, treated=treated, controls=controls, waves=WAVES, n_permutations=999, seed=7)
    assert not res.exact and len(res.null) == 999
    hits = np.sum(np.abs(res.null) >= abs(res.estimate) - 1e-10)
    assert res.p_value == pytest.approx((1 + hits) / 1000)
    again = permutation_test(panel, treated=treated, controls=controls, waves=WAVES, n_permutations=999, seed=7)
    np.testing.assert_array_equal(res.null, again.null)
    other = permutation_test(panel, treated=treated, controls=controls, waves=WAVES, n_permutations=999, seed=8)
    assert not np.array_equal(res.null, other.null)
    assert res.se == pytest.approx(np.std(res.null, ddof=1))


def test_size_and_interval_coverage_under_a_constant_effect() -> None:
    """Across simulated panels, the test rejects a true effect about 5% of the time."""
    treated = {"A00": 2018, "A01": 2021, "A02": 2021, "A03": 2024}
    controls = [f"A{i:02d}" for i in range(4, 24)]
    rejected_zero, covered = [], []
    for s in range(150):
        panel = _panel(24, treated, effect=0.0 if s % 2 else -0.03, noise=0.02, seed=100 + s)
        res = permutation_test(panel, treated=treated, controls=controls, waves=WAVES, n_permutations=399,
                               seed=s)
        true = 0.0 if s % 2 else -0.03
        if true == 0.0:
            rejected_zero.append(res.p_value <= 0.05)
        covered.append(res.ci_low <= true <= res.ci_high)
    assert 0.0 < np.mean(rejected_zero) <= 0.12
    assert 0.88 <= np.mean(covered) <= 0.99


def test_interval_shifts_with_the_effect() -> None:
    treated = {"A00": 2018, "A01": 2021, "A02": 2024}
    controls = [f"A{i:02d}" for i in range(3, 30)]
    panel = _panel(30, treated, seed=5)
    res = permutation_test(panel, treated=treated, controls=controls, waves=WAVES, n_permutations=2000)
    shifted = _panel(30, treated, seed=5, effect=-0.04)
    res2 = permutation_test(shifted, treated=treated, controls=controls, waves=WAVES, n_permutations=2000)
    assert res2.estimate == pytest.approx(res.estimate - 0.04, abs=1e-12)
    assert res2.ci_low == pytest.approx(res.ci_low - 0.04, abs=1e-6)
    assert res2.ci_high == pytest.approx(res.ci_high - 0.04, abs=1e-6)


def test_to_estimate_and_to_frame() -> None:
    treated = {"A00": 2021, "A01": 2024}
    controls = [f"A{i:02d}" for i in range(2, 12)]
    res = permutation_test(_panel(12, treated), treated=treated, controls=controls, waves=WAVES,
                           label="belysning")
    assert isinstance(res, PermutationResult)
    est = res.to_estimate()
    assert isinstance(est, Estimate)
    assert est.method == "permutation_did_2x2" and est.label == "belysning"
    assert (est.n_treated, est.n_control) == (2, 10)
    frame = res.to_frame()
    assert len(frame) == 1
    assert frame.loc[0, "p_value"] == res.p_value
    assert frame.loc[0, "extra_n_assignments"] == 132 and bool(frame.loc[0, "extra_exact"])


def test_errors_name_the_problem() -> None:
    panel = _panel(6, {"A00": 2021})
    with pytest.raises(InputError, match="both treated and controls"):
        permutation_test(panel, treated={"A00": 2021}, controls=["A00", "A01"], waves=WAVES)
    with pytest.raises(InputError, match="no permutation test is possible"):
        permutation_test(panel, treated={"A00": 2021}, controls=["X1"], waves=WAVES)
    with pytest.raises(ValueError, match="statistic must be one of"):
        permutation_test(panel, treated={"A00": 2021}, controls=["A01"], waves=WAVES,
                         statistic="t")  # type: ignore[arg-type]
