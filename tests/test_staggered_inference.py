"""Randomisation inference for the Callaway–Sant'Anna kind rows (issue 12, few treated areas).

The permutation statistic must be the staggered estimate itself, for every reassignment; and
with three treated areas, a planted null and district x wave shocks, the row's headline must
keep its size and cover a planted effect.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trygg_geo._errors import InputError
from trygg_geo.effects.inference import MIN_TREATED_MODEL
from trygg_geo.effects.selection import staggered_by_kind
from trygg_geo.effects.staggered import survey_att_gt
from trygg_geo.effects.staggered_inference import staggered_permutation_test
from trygg_geo.effects.variance import between_district_variance

WAVES = [2015, 2018, 2021, 2024]


def _panel(rng: np.random.Generator, areas: list[str], *, effect: dict[str, tuple[int, float]],
           shock_sd: float, missing: float = 0.0) -> pd.DataFrame:
    """Binomial survey cells with a city trend, district x wave shocks and planted effects.

    ``effect``: area -> (cohort, effect from that wave on).
    """
    base = rng.uniform(0.15, 0.40, len(areas))
    n_resp = rng.integers(80, 300, len(areas))
    rows = []
    for i, a in enumerate(areas):
        for j, w in enumerate(WAVES):
            if missing and rng.random() < missing:
                continue
            p = base[i] + 0.01 * j + rng.normal(0, shock_sd)
            if a in effect and w >= effect[a][0]:
                p += effect[a][1]
            p = float(np.clip(p, 0.01, 0.99))
            share = rng.binomial(n_resp[i], p) / n_resp[i]
            rows.append({"area_id": a, "wave": w, "indicator": "otrygg_kvall", "share": share,
                         "se": np.sqrt(share * (1 - share) / n_resp[i]), "n": n_resp[i]})
    return pd.DataFrame(rows)


def _roles(treated: dict[str, tuple[int, str]], controls: list[str]) -> pd.DataFrame:
    rows = [{"area_id": a, "role": "treated", "cohort": c, "kinds": k, "pre_wave": None}
            for a, (c, k) in treated.items()]
    rows += [{"area_id": c, "role": "control", "cohort": None, "kinds": "", "pre_wave": None}
             for c in controls]
    out = pd.DataFrame(rows)
    out["cohort"] = out["cohort"].astype("Int64")
    out["pre_wave"] = out["pre_wave"].astype("Int64")
    return out


def test_every_reassignment_is_the_staggered_estimate() -> None:
    """Observed and permuted statistics equal survey_att_gt on the reassigned windows, with
    missing cells, an area out of its cohort and other kinds' not-yet-treated areas."""
    rng = np.random.default_rng(5)
    areas = [f"a{i}" for i in range(14)]
    panel = _panel(rng, areas, effect={}, shock_sd=0.02, missing=0.08)
    treated = {"a0": (2015, 2018), "a1": (2018, 2021), "a2": (2018, 2021), "a3": (2021, 2024)}
    others = {"a4": (2015, 2018), "a5": (2018, 2024)}
    controls = [f"a{i}" for i in range(6, 14)]
    res = survey_att_gt(panel, treated=treated, controls=controls, waves=WAVES, not_yet=others,
                        indicator="otrygg_kvall")
    model = res.estimate(res.simple())
    perm = staggered_permutation_test(panel, treated=treated, controls=controls, waves=WAVES,
                                      not_yet=others, indicator="otrygg_kvall",
                                      n_permutations=400, seed=3, exact_limit=0)
    assert perm.estimate == pytest.approx(model.estimate, abs=1e-14)
    assert not perm.exact and perm.n_permutations == 400 and perm.statistic == "callaway_santanna"
    assert 0 < perm.p_value <= 1 and perm.ci_low < perm.estimate < perm.ci_high
    # brute force: the same reassignments (same seed) through survey_att_gt
    from trygg_geo.effects.inference import _sample
    from trygg_geo.effects.staggered_inference import _layout

    lay = _layout(panel, treated, controls, WAVES, others, "otrygg_kvall")
    assert lay.n_control == 8 and sum(lay.sizes) == len(lay.pool) - 8
    idx = _sample(len(lay.pool), sum(lay.sizes), 400, np.random.default_rng(3))
    fixed = {**others, **{a: w for a, w in treated.items() if a not in lay.pool}}
    brute = []
    for b in range(40):
        tr, s0 = {}, 0
        for k, s in enumerate(lay.sizes):
            tr.update({lay.pool[j]: lay.cohorts[k] for j in idx[b, s0:s0 + s]})
            s0 += s
        r = survey_att_gt(panel, treated=tr, controls=[a for a in lay.pool if a not in tr],
                          waves=WAVES, not_yet=fixed, indicator="otrygg_kvall")
        c = r.simple()
        brute.append(r.estimate(c).estimate if c.any() else np.nan)
    brute_a = np.array(brute)
    ok = np.isfinite(brute_a)
    assert ok.sum() >= 35
    np.testing.assert_allclose(perm.null[:40][ok], brute_a[ok], atol=1e-13)


def test_exact_enumeration_and_test_inversion() -> None:
    rng = np.random.default_rng(11)
    areas = ["t1", "t2", "t3"] + [f"c{i}" for i in range(7)]
    panel = _panel(rng, areas, effect={"t1": (2018, -0.10), "t2": (2021, -0.10),
                                       "t3": (2021, -0.10)}, shock_sd=0.0)
    treated = {"t1": (2015, 2018), "t2": (2018, 2021), "t3": (2018, 2021)}
    controls = [f"c{i}" for i in range(7)]
    perm = staggered_permutation_test(panel, treated=treated, controls=controls, waves=WAVES,
                                      indicator="otrygg_kvall")
    # cohort sizes 1 and 2 among 10 areas: 10 * C(9, 2) assignments, all enumerated
    assert perm.exact and perm.n_assignments == 360 == perm.n_permutations
    assert perm.p_value == pytest.approx(np.mean(np.abs(perm.null) >= abs(perm.estimate) - 1e-12))
    assert perm.ci_low < -0.10 < perm.ci_high < 0  # a -10 pp effect: rejected zero, covered
    assert perm.p_value < 0.05
    # shifting the treated post cells by tau moves the estimate by exactly -tau, and the
    # inverted interval's ends are where the shifted test's p crosses 5 %
    tau = perm.ci_high + 0.002
    shifted = panel.copy()
    post = [(a, w) for a, (_, g) in treated.items() for w in WAVES if w >= g]
    hit = pd.MultiIndex.from_frame(shifted[["area_id", "wave"]]).isin(post)
    shifted.loc[hit, "share"] -= tau
    again = staggered_permutation_test(shifted, treated=treated, controls=controls, waves=WAVES,
                                       indicator="otrygg_kvall")
    assert again.estimate == pytest.approx(perm.estimate - tau, abs=1e-12)
    assert again.p_value <= 0.05
    with pytest.raises(InputError, match="both treated and controls"):
        staggered_permutation_test(panel, treated=treated, controls=[*controls, "t1"],
                                   waves=WAVES)


def _replicate(rng: np.random.Generator, planted: float, shock_sd: float) -> tuple[bool, bool,
                                                                                   bool, str]:
    """One city: 3 treated areas of one kind (cohorts 2018, 2021, 2021), 2 areas of another
    (not-yet-treated controls; kind ``annat``, which gets no estimate of its own), 10
    controls. Returns (covered, rejected, model rejected, headline) of the first kind."""
    treated = {"t1": (2018, "kamerabevakning"), "t2": (2021, "kamerabevakning"),
               "t3": (2021, "kamerabevakning"), "o1": (2021, "annat"), "o2": (2024, "annat")}
    controls = [f"c{i}" for i in range(10)]
    effect = {a: (c, planted) for a, (c, k) in treated.items() if k == "kamerabevakning"}
    panel = _panel(rng, [*treated, *controls], effect=effect, shock_sd=shock_sd)
    roles = _roles(treated, controls)
    tau2 = between_district_variance(panel, controls, indicator="otrygg_kvall", waves=WAVES)
    out = staggered_by_kind(panel, roles, indicator="otrygg_kvall", waves=WAVES, tau2=tau2,
                            n_permutations=2000)
    row = out.effects.set_index("kind").loc["kamerabevakning"]
    perm = row["headline"] == "permutation"
    lo, hi = (row["perm_ci_low"], row["perm_ci_high"]) if perm else (row["ci_low"],
                                                                     row["ci_high"])
    p = row["p_perm"] if perm else row["p_value"]
    return bool(lo <= planted <= hi), bool(p < 0.05), bool(row["p_value"] < 0.05), \
        str(row["headline"])


@pytest.mark.parametrize("shock_sd", [0.03])
def test_three_treated_areas_keep_size_and_cover(shock_sd: float) -> None:
    """A few hundred fast cities: with 3 treated areas and district x wave shocks the CS
    row's headline is the permutation test; it rejects a planted null in at most ~7 % and
    covers a planted -5 pp effect in 92-98 %."""
    rng = np.random.default_rng(20261201)
    reps = 400
    null = [_replicate(rng, 0.0, shock_sd) for _ in range(reps)]
    eff = [_replicate(rng, -0.05, shock_sd) for _ in range(reps)]
    assert {h for *_, h in null + eff} == {"permutation"}
    assert 3 < MIN_TREATED_MODEL
    size = np.mean([r for _, r, _, _ in null])
    cover_null = np.mean([c for c, _, _, _ in null])
    cover = np.mean([c for c, _, _, _ in eff])
    model_size = np.mean([m for _, _, m, _ in null])
    # MC SE of a 5 % rate over 400 replications is 1.1 pp
    assert size <= 0.07, f"size {size:.3f} (model interval: {model_size:.3f})"
    assert 0.92 <= cover_null <= 0.98 + 1e-9 and 0.92 <= cover <= 0.98, (cover_null, cover)
