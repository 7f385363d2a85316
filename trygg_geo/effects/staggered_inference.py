"""Randomisation inference for the Callaway–Sant'Anna overall effect on a survey panel.

With few treated areas, the model interval of :meth:`SurveyAttGt.estimate
<trygg_geo.effects.staggered.SurveyAttGt.estimate>` leans on the treated areas' own district
x wave shocks being normal with the variance ``tau2`` estimated from the controls; with three
treated areas one unusual district is not averaged away. :func:`staggered_permutation_test`
asks instead how unusual the observed overall effect is among the effects we would get had
other areas carried the kind's measurement windows: the windows (cohorts) are reassigned at
random among the kind's treated areas and the never-treated controls, keeping the number of
areas in every cohort, and the whole aggregated Callaway–Sant'Anna statistic (not-yet-treated
controls included) is recomputed for every reassignment.

Why a permutation test and not a wild cluster bootstrap
-------------------------------------------------------
With few *treated* clusters the wild cluster bootstrap fails in a known way: the restricted
bootstrap (null imposed) under-rejects severely and the unrestricted one over-rejects, with
Rademacher and with Webb weights alike, because the bootstrap distribution is driven by the
residuals of the handful of treated clusters (MacKinnon & Webb 2017, 2018). Randomisation
inference over the assignment of treatment to clusters (Conley & Taber 2011; MacKinnon & Webb
2020) keeps its size with as few as one to three treated clusters when clusters are
exchangeable, which is the assumption the package's 2x2 permutation test
(:func:`~trygg_geo.effects.inference.permutation_test`) already makes. The test here is the
same test applied to the staggered statistic. Its remaining weakness, shared with every
coefficient-based randomisation test, is heteroskedasticity across areas: when the treated
areas have far fewer respondents than the controls, their estimate is noisier than the
permutation distribution (MacKinnon & Webb 2020 discuss this); the coverage study measures
the size on the demo city's design (50-300 respondents per cell).

The interval inverts the test under a constant additive effect on the treated areas' post
cells (Imbens & Rubin 2015, ch. 5). For a fixed assignment the aggregated ATT is a fixed
linear contrast of the survey cells, so the statistic of every reassignment under the
hypothesis "the effect is ``tau``" is ``T_b - tau * c_b`` with ``c_b`` the same contrast applied
to the indicator of the observed treated post cells; inverting takes no recomputation.

Speed: the reassignments are rows of an index array; every post-treatment ATT(g, t) of every
reassignment comes out of a few masked matrix products over (reassignments x areas), so
10,000 reassignments of a kind take a few tens of milliseconds.

References
----------
Conley, T. G. & Taber, C. R. (2011). Inference with "difference in differences" with a
small number of policy changes. *Review of Economics and Statistics* 93(1), 113-125.
MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different cluster
sizes. *Journal of Applied Econometrics* 32(2), 233-254.
MacKinnon, J. G. & Webb, M. D. (2018). The wild bootstrap for few (treated) clusters.
*Econometrics Journal* 21(2), 114-135.
MacKinnon, J. G. & Webb, M. D. (2020). Randomization inference for difference-in-differences
with few treated clusters. *Journal of Econometrics* 218(2), 435-450.
Imbens, G. W. & Rubin, D. B. (2015). *Causal Inference for Statistics, Social, and
Biomedical Sciences*, ch. 5.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trygg_geo._errors import InputError

# the assignment machinery of the 2x2 permutation test (counting, enumerating and sampling
# reassignments, inverting the test) is shared so that both tests follow the same rules
from trygg_geo.effects.inference import (
    _REL_TOL,
    PermutationResult,
    _enumerate,
    _invert,
    _sample,
    n_assignments,
)
from trygg_geo.effects.staggered import Window, _check_windows, _survey_cells

__all__ = ["staggered_permutation_test"]

log = logging.getLogger(__name__)

_CHUNK = 5_000  # reassignments per vectorised block (memory ~ chunk x areas x 8 bytes x few)
STATISTIC = "callaway_santanna"


@dataclass(frozen=True)
class _Layout:
    """The fixed parts of every reassignment of one kind's windows."""

    pool: list[str]  # kind's treated areas (cohort blocks first, in cohort order), then controls
    cohorts: list[Window]  # distinct windows of the kind's treated areas, ascending
    sizes: list[int]  # treated areas per cohort
    waves: list[int]
    y: np.ndarray  # (pool, waves) shares, 0 where missing
    has: np.ndarray  # (pool, waves) 1.0 where the cell exists
    d: np.ndarray  # (pool, waves) 1.0 on the observed treated post cells (t >= own cohort)
    others_y: np.ndarray  # (others, waves) fixed not-yet-treated areas of other kinds
    others_has: np.ndarray
    others_pre: np.ndarray  # (others,) their pre waves
    n_control: int  # never-treated controls in the pool


def _layout(panel: pd.DataFrame, treated: Mapping[str, Window], controls: Sequence[str],
            waves: Sequence[int], not_yet: Mapping[str, Window] | None,
            indicator: str | None) -> _Layout:
    wave_list = sorted({int(w) for w in waves})
    cells = _survey_cells(panel, indicator)
    share = dict(zip(zip(cells["area_id"].tolist(), cells["wave"].tolist(), strict=True),
                     cells["share"].tolist(), strict=True))
    treat, _ = _check_windows(treated, wave_list)
    others, _ = _check_windows(not_yet or {}, wave_list)
    # as survey_att_gt: a treated area without a value in its reference wave is out of its
    # cohort; it stays a not-yet-treated control (with its window) like another kind's area
    in_cohort = {a: w for a, w in treat.items() if (a, w[0]) in share}
    fixed = {**others, **{a: w for a, w in treat.items() if a not in in_cohort}}
    never = list(dict.fromkeys(str(c) for c in controls if str(c) not in {**others, **treat}))
    cohorts = sorted(set(in_cohort.values()))
    pool = [a for g in cohorts for a in sorted(u for u, w in in_cohort.items() if w == g)]
    sizes = [sum(w == g for w in in_cohort.values()) for g in cohorts]
    pool += never

    def grid(areas: list[str]) -> tuple[np.ndarray, np.ndarray]:
        v = np.array([[share.get((a, w), np.nan) for w in wave_list] for a in areas],
                     dtype=float).reshape(len(areas), len(wave_list))
        ok = np.isfinite(v)
        return np.where(ok, v, 0.0), ok.astype(float)

    y, has = grid(pool)
    d = np.zeros_like(y)
    for i, a in enumerate(pool):
        if a in in_cohort:
            d[i] = np.asarray(wave_list) >= in_cohort[a][1]
    fixed_ids = list(fixed)
    oy, ohas = grid(fixed_ids) if fixed_ids else (np.zeros((0, len(wave_list))),) * 2
    return _Layout(pool=pool, cohorts=cohorts, sizes=sizes, waves=wave_list, y=y, has=has, d=d,
                   others_y=oy, others_has=ohas,
                   others_pre=np.array([fixed[a][0] for a in fixed_ids], dtype=float),
                   n_control=len(never))


def _labels(idx: np.ndarray, n_pool: int, sizes: Sequence[int]) -> np.ndarray:
    """``(B, pool)`` cohort index of every area under each reassignment (-1: untreated)."""
    lab = np.full((len(idx), n_pool), -1, dtype=np.int64)
    rows = np.arange(len(idx))[:, None]
    s0 = 0
    for k, s in enumerate(sizes):
        lab[rows, idx[:, s0:s0 + s]] = k
        s0 += s
    return lab


def _overall(lay: _Layout, lab: np.ndarray, values: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The simple aggregate (post ATT(g, t) weighted by treated areas) for every reassignment.

    ``values`` are (pool, waves) outcome grids sharing ``lay.has`` as their missingness (the
    shares; the treated-post indicator); the fixed areas contribute their own values for
    the shares and 0 for the indicator. Returns one ``(B,)`` array per grid (NaN where no
    post ATT(g, t) is estimable).
    """
    pos = {w: i for i, w in enumerate(lay.waves)}
    pre_of = np.array([pre for pre, _ in lay.cohorts], dtype=float)
    lab_pre = np.where(lab >= 0, pre_of[np.maximum(lab, 0)], np.inf)  # untreated: always
    num = [np.zeros(len(lab)) for _ in values]
    den = np.zeros(len(lab))
    for k, (pre, g) in enumerate(lay.cohorts):
        ip = pos[pre]
        treated = (lab == k).astype(float)
        for t in lay.waves:
            if t < g:
                continue  # the overall effect uses the post-treatment ATT(g, t) only
            it = pos[t]
            m = lay.has[:, it] * lay.has[:, ip]
            last = max(t, pre)
            ctrl = ((lab != k) & (lab_pre >= last)).astype(float)
            n_t = treated @ m
            n_c = ctrl @ m
            om = lay.others_has[:, it] * lay.others_has[:, ip] * (lay.others_pre >= last)
            n_c = n_c + om.sum()
            ok = (n_t > 0) & (n_c > 0)
            den += np.where(ok, n_t, 0.0)
            for j, v in enumerate(values):
                ch = (v[:, it] - v[:, ip]) * m
                s_t = treated @ ch
                s_c = ctrl @ ch
                if j == 0:  # the fixed areas' own changes (the indicator grid is 0 for them)
                    s_c = s_c + float(((lay.others_y[:, it] - lay.others_y[:, ip]) * om).sum())
                with np.errstate(invalid="ignore", divide="ignore"):
                    att = s_t / np.maximum(n_t, 1) - s_c / np.maximum(n_c, 1)
                num[j] += np.where(ok, n_t * att, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [np.where(den > 0, x / den, np.nan) for x in num]


def staggered_permutation_test(
    panel: pd.DataFrame,
    *,
    treated: Mapping[str, Window],
    controls: Sequence[str],
    waves: Sequence[int],
    not_yet: Mapping[str, Window] | None = None,
    indicator: str | None = None,
    n_permutations: int = 10_000,
    seed: int | None = 0,
    exact_limit: int = 20_000,
    level: float = 0.95,
    label: str = "",
) -> PermutationResult:
    """Permutation test and interval of the Callaway–Sant'Anna overall effect.

    The statistic is the overall effect of :func:`~trygg_geo.effects.staggered.survey_att_gt`
    with the same arguments, aggregated as :meth:`SurveyAttGt.simple
    <trygg_geo.effects.staggered.SurveyAttGt.simple>` (post-treatment ATT(g, t) weighted by
    their treated areas). Each reassignment gives the kind's windows to as many randomly
    drawn areas of the pool (the kind's treated areas and the never-treated ``controls``) as
    the observed cohorts have; the rest of the pool is never treated, and the ``not_yet``
    areas keep their windows as not-yet-treated controls. Every assignment is enumerated
    when there are at most ``exact_limit``.

    Parameters
    ----------
    panel, treated, controls, waves, not_yet, indicator
        As for :func:`~trygg_geo.effects.staggered.survey_att_gt`.
    n_permutations
        Random reassignments when the assignments are too many to enumerate.
    seed
        Seed of the random reassignments.
    exact_limit
        Enumerate every assignment when there are at most this many.
    level
        Confidence level of the inverted-test interval.
    label
        What is estimated (a kind).

    Returns
    -------
    PermutationResult
        ``statistic="callaway_santanna"``; ``estimate`` equals the model estimate, ``p_value``
        is two-sided, ``ci_low, ci_high`` invert the test under a constant additive effect
        (infinite when no effect size can be rejected, e.g. one treated area among few), and
        ``n_treated, n_control`` count the kind's treated areas in a cohort and the
        never-treated controls of the pool.

    Raises
    ------
    InputError
        When no treated area has a value in its reference wave, or an area is both treated
        and a control.

    Examples
    --------
    >>> rows = [{"area_id": a, "wave": w, "share": s, "se": 0.02}
    ...         for a, v in {"t1": (.30, .31, .22), "t2": (.28, .20, .21), "c1": (.25, .26, .27),
    ...                      "c2": (.31, .30, .30), "c3": (.27, .28, .26),
    ...                      "c4": (.22, .23, .24)}.items()
    ...         for w, s in zip((2015, 2018, 2021), v)]
    >>> res = staggered_permutation_test(
    ...     pd.DataFrame(rows), treated={"t1": (2018, 2021), "t2": (2015, 2018)},
    ...     controls=["c1", "c2", "c3", "c4"], waves=[2015, 2018, 2021])
    >>> round(res.estimate, 4), res.exact, res.n_assignments, round(res.p_value, 3)
    (-0.0837, True, 30, 0.033)
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}.")
    both = sorted({str(a) for a in treated} & {str(c) for c in controls})
    if both:
        raise InputError(f"the areas {both[:5]} are both treated and controls.",
                         fix="give each area one role (trygg_geo.design assigns them).")
    lay = _layout(panel, {str(a): w for a, w in treated.items()}, controls, waves, not_yet,
                  indicator)
    n_t = sum(lay.sizes)
    if n_t == 0:
        raise InputError("no permutation test is possible: no treated area has a survey value "
                         "in its reference wave.", fix="check the panel's waves and windows.")
    observed = _overall(lay, _labels(np.arange(n_t)[None, :], len(lay.pool), lay.sizes),
                        [lay.y])[0]
    estimate = float(observed[0])
    total = n_assignments(len(lay.pool), lay.sizes)
    exact = total <= exact_limit
    idx = (_enumerate(len(lay.pool), lay.sizes) if exact
           else _sample(len(lay.pool), n_t, n_permutations, np.random.default_rng(seed)))
    null = np.empty(len(idx))
    c_b = np.empty(len(idx))
    for s in range(0, len(idx), _CHUNK):
        lab = _labels(idx[s:s + _CHUNK], len(lay.pool), lay.sizes)
        null[s:s + _CHUNK], c_b[s:s + _CHUNK] = _overall(lay, lab, [lay.y, lay.d])
    valid = np.isfinite(null)
    if not valid.all():
        log.info("%d of %d reassignments of %s gave no estimate and are left out",
                 int((~valid).sum()), len(null), label or "the kind")
    null_v, c_v = null[valid], c_b[valid]
    tol = _REL_TOL * max(1.0, abs(estimate))
    if not np.isfinite(estimate) or len(null_v) == 0:
        p_value = ci_low = ci_high = float("nan")
    else:
        hits = int(np.count_nonzero(np.abs(null_v) >= abs(estimate) - tol))
        p_value = hits / len(null_v) if exact else (1 + hits) / (1 + len(null_v))
        ci_low, ci_high = _invert(estimate, null_v, c_v, exact=exact, level=level, tol=tol)
    se = float(np.std(null_v, ddof=1)) if len(null_v) > 1 else float("nan")
    log.info("permutation test of the staggered effect (%s, %s): estimate %.4f, p = %.4g",
             label or "pooled", "exact" if exact else f"{len(null_v)} random", estimate,
             p_value)
    return PermutationResult(
        estimate=estimate, p_value=float(p_value), n_assignments=int(total),
        n_permutations=len(null_v), exact=exact, null=null_v, ci_low=float(ci_low),
        ci_high=float(ci_high), se=se, n_treated=n_t, n_control=lay.n_control, level=level,
        seed=None if exact else seed, statistic=STATISTIC, label=label,
    )
