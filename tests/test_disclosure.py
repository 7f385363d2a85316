"""Unit tests of trygg_geo.disclosure: which suppressed cells published estimates reveal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from trygg_geo.disclosure import (
    SUPPRESSED_REASON,
    disclosed_cells,
    protect_estimates,
    publishable_area_values,
)


def test_single_area_effect_reveals_its_small_cell():
    w = {("a", 2018): -1.0, ("a", 2021): 1.0, ("c", 2018): 1.0, ("c", 2021): -1.0}
    assert disclosed_cells([w], {("a", 2021)}) == {("a", 2021)}
    assert disclosed_cells([w], {("x", 2021)}) == set()  # not used: nothing revealed


def test_two_small_cells_in_one_estimate_reveal_only_their_sum():
    w = {("a", 2021): 0.5, ("b", 2021): 0.5, ("c", 2021): -1.0}
    assert disclosed_cells([w], {("a", 2021), ("b", 2021)}) == set()


def test_two_estimates_together_can_solve_for_a_cell():
    w1 = {("a", 2021): 0.5, ("b", 2021): 0.5}
    w2 = {("a", 2021): 1.0}
    w3 = {("a", 2021): 0.5, ("b", 2021): -0.5}
    small = {("a", 2021), ("b", 2021)}
    assert disclosed_cells([w1, w2], small) == small
    # equal and opposite weights: the sum and the difference solve both
    assert disclosed_cells([w1, w3], small) == small


def test_squared_weights_protect_the_variance_too():
    # equal-magnitude, opposite-sign weights: the share is hidden in the sum a - b,
    # but se^2 = w^2 (se_a^2 + se_b^2) reveals only the sum of variances as well
    w = {("a", 2021): 1.0, ("b", 2021): -1.0}
    assert disclosed_cells([w], {("a", 2021), ("b", 2021)}) == set()
    # unequal magnitudes: one estimate, two unknown shares, two unknown variances -> safe
    w2 = {("a", 2021): 1.0, ("b", 2021): -0.5}
    assert disclosed_cells([w2], {("a", 2021), ("b", 2021)}) == set()


def test_protect_blanks_single_area_estimates_first():
    eff = pd.DataFrame({
        "scope": ["kind", "investment"], "estimate": [0.1, 0.2], "se": [0.01, 0.02],
        "ci_low": [0.0, 0.1], "ci_high": [0.2, 0.3], "mde": [0.05, 0.06], "n_treated": [2, 1],
    })
    small = {("a", 2021)}
    weights = [{("a", 2021): 0.5, ("b", 2021): 0.5, ("c", 2021): -1.0},
               {("a", 2021): 1.0, ("c", 2021): -1.0}]
    out = protect_estimates(eff, weights, small, min_n=30)
    # the investment estimate alone reveals the cell: it goes first; then the kind estimate
    # (one small cell with weight) would still reveal it, so it goes too
    assert out["suppressed"].tolist() == [True, True]
    assert out[["estimate", "se", "ci_low", "ci_high", "mde"]].isna().all().all()
    assert out["n_treated"].tolist() == [2, 1]
    assert out["reason"].iloc[1] == SUPPRESSED_REASON["sv"].format(min_n=30)


def test_protect_keeps_what_reveals_nothing():
    eff = pd.DataFrame({"scope": ["kind", "investment"], "estimate": [0.1, 0.2]})
    small = {("a", 2021), ("b", 2021)}
    weights = [{("a", 2021): 0.5, ("b", 2021): 0.5, ("c", 2021): -1.0},
               {("d", 2021): 1.0, ("c", 2021): -1.0}]
    out = protect_estimates(eff, weights, small, min_n=30, lang="en")
    assert out["suppressed"].tolist() == [False, False]
    assert out["estimate"].tolist() == [0.1, 0.2]


def test_publishable_area_values_blank_small_cells_and_their_change():
    areas = pd.DataFrame({
        "area_id": ["a", "b"], "x_2021": [0.2, 0.3], "x_2024": [0.25, 0.9],
        "supp_2021": [False, False], "supp_2024": [False, True], "n_2024": [100, 4],
        "change": [0.05, 0.6], "change_ci_low": [0.01, 0.1], "change_ci_high": [0.09, 1.1],
        "significant": [True, True], "suppressed": [False, True],
    })
    out = publishable_area_values(areas, indicator="x", waves=[2021, 2024])
    assert np.isnan(out.loc[1, "x_2024"]) and out.loc[1, "x_2021"] == 0.3
    assert out.loc[1, ["change", "change_ci_low", "change_ci_high"]].isna().all()
    assert pd.isna(out.loc[1, "significant"]) and bool(out.loc[0, "significant"])
    assert out.loc[1, "n_2024"] == 4  # counts stay
    assert areas.loc[1, "x_2024"] == 0.9  # the input is not changed
