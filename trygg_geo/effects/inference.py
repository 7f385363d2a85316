"""Inference with few treated units: permutation (placebo-in-space) tests of the pooled DiD.

With a handful of treated districts, the normal-approximation interval of :func:`did_2x2`
covers sampling error only, and cluster-robust standard errors need many clusters. A
permutation test asks instead: *how unusual is the observed DiD among the DiDs we would
get had other districts been the treated ones?* The treated label is reassigned among the
treated and control districts, keeping the number of treated districts in every cohort,
and the same statistic is recomputed for every reassignment (Fisher 1935; Abadie,
Diamond & Hainmueller 2010 call it "placebo in space"). Area-by-wave shocks that the
survey's sampling SE cannot see are part of the null distribution, so the test stays valid
when they are present (under exchangeability of districts).

Speed
-----
The pooled 2x2 DiD of one cohort is a difference of means of per-unit changes
``y[i, g] - y[i, pre(g)]``. The changes are computed once per unit and cohort; every
reassignment is a row of an index array, and all permuted statistics come out of a few
vectorised gathers and sums (about 0.1 s for 10,000 permutations of 117 units; see
``benchmarks/bench_permutation.py``).

References
----------
Fisher, R. A. (1935). *The Design of Experiments*. Oliver & Boyd.
Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
comparative case studies. *JASA* 105(490), 493-505.
Imbens, G. W. & Rubin, D. B. (2015). *Causal Inference for Statistics, Social, and
Biomedical Sciences*, ch. 5 (intervals by inverting Fisher tests).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from trygg_geo._errors import InputError
from trygg_geo._progress import progress
from trygg_geo.effects._result import Estimate
from trygg_geo.effects.did import _cell_table, _window, did_contrast

__all__ = ["MIN_TREATED_MODEL", "PermutationResult", "choose_headline", "n_assignments",
           "permutation_test"]

log = logging.getLogger(__name__)

Statistic = Literal["did_2x2"]
_STATISTICS = ("did_2x2",)
_CHUNK = 20_000  # permutations per vectorised block (bounds memory at ~B x n_treated x cohorts)
_REL_TOL = 1e-10  # ties: |T*| >= |T| - tol counts as "at least as extreme"

#: Fewer treated areas than this: the permutation result is the headline (see
#: :func:`choose_headline`).
MIN_TREATED_MODEL = 5


@dataclass(frozen=True, eq=False)
class PermutationResult:
    """A permutation (placebo-in-space) test of the pooled 2x2 DiD.

    Attributes
    ----------
    estimate
        The observed statistic (equals :func:`~trygg_geo.effects.did_2x2`'s estimate).
    p_value
        Two-sided. Monte Carlo: ``(1 + #{|T*| >= |T|}) / (1 + B)`` with the observed
        assignment counted; exact: the share of all assignments with ``|T*| >= |T|``.
    n_assignments
        Number of distinct assignments of the treated labels (a multinomial coefficient;
        may be astronomically large).
    n_permutations
        Number of permuted statistics in :attr:`null` (all assignments when exact).
    exact
        True when every assignment was enumerated.
    null
        The permuted statistics (exact: one per assignment, the observed one included).
    ci_low, ci_high
        Interval at ``level`` by inverting the test under a constant additive effect
        (Imbens & Rubin 2015, ch. 5): the effects ``tau`` for which the test of
        "the effect is ``tau``" does not reject. Infinite when too few assignments exist
        for any test to reject at this level (e.g. 1 treated among 5 units).
    se
        Standard deviation of the null distribution (a permutation standard error).
    n_treated, n_control
        Units in the permutation pool, by observed role.
    level, seed, statistic, label
        The options used.
    dropped
        Units left out (no survey values in the waves compared), with the reason.
    """

    estimate: float
    p_value: float
    n_assignments: int
    n_permutations: int
    exact: bool
    null: np.ndarray
    ci_low: float
    ci_high: float
    se: float
    n_treated: int
    n_control: int
    level: float
    seed: int | None
    statistic: str
    label: str = ""
    dropped: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["area_id", "role", "reason"])
    )

    @property
    def min_p_value(self) -> float:
        """The smallest p-value this design can give (``1 / n_assignments`` when exact)."""
        if self.exact:
            return 1.0 / self.n_assignments
        return 1.0 / (1 + self.n_permutations)

    def to_estimate(self) -> Estimate:
        """The result as an :class:`~trygg_geo.effects.Estimate`.

        Its method is ``permutation_did_2x2``.
        """
        return Estimate(
            estimate=self.estimate,
            se=self.se,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=self.p_value,
            n_treated=self.n_treated,
            n_control=self.n_control,
            method=f"permutation_{self.statistic}",
            label=self.label,
            level=self.level,
            extra={
                "n_assignments": float(self.n_assignments),
                "n_permutations": self.n_permutations,
                "exact": self.exact,
                "seed": -1 if self.seed is None else self.seed,
                "min_p_value": self.min_p_value,
                "dropped": len(self.dropped),
            },
        )

    def to_frame(self) -> pd.DataFrame:
        """The result as one row.

        Columns: estimate, se, ci_low, ci_high, p_value, n_treated, n_control, method,
        label, level, and the permutation details (``extra_*`` columns).
        """
        return self.to_estimate().to_frame()


# --------------------------------------------------------------------------------------------
# Counting and enumerating assignments
# --------------------------------------------------------------------------------------------
def n_assignments(n_units: int, sizes: Sequence[int]) -> int:
    """Number of ways to pick disjoint groups of the given sizes from ``n_units`` units.

    >>> n_assignments(10, [2, 1])
    360
    """
    if sum(sizes) > n_units or any(s < 0 for s in sizes):
        return 0
    out, left = 1, n_units
    for s in sizes:
        out *= math.comb(left, s)
        left -= s
    return out


def _enumerate(n_units: int, sizes: Sequence[int]) -> np.ndarray:
    """Every assignment as a row of treated unit indices, cohort blocks in ``sizes`` order."""
    def rec(avail: tuple[int, ...], k: int) -> Iterator[tuple[int, ...]]:
        if k == len(sizes):
            yield ()
            return
        for combo in itertools.combinations(avail, sizes[k]):
            rest = tuple(u for u in avail if u not in combo)
            for tail in rec(rest, k + 1):
                yield combo + tail

    rows = list(rec(tuple(range(n_units)), 0))
    return np.asarray(rows, dtype=np.intp).reshape(len(rows), sum(sizes))


def _sample(n_units: int, n_treated: int, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """Random assignments: the first ``n_treated`` positions of uniform random permutations."""
    base = np.tile(np.arange(n_units, dtype=np.intp), (n_draws, 1))
    return rng.permuted(base, axis=1)[:, :n_treated]


# --------------------------------------------------------------------------------------------
# The vectorised statistic
# --------------------------------------------------------------------------------------------
def _did_stats(
    change: np.ndarray, mask: np.ndarray, idx: np.ndarray, bounds: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled 2x2 DiD for every assignment (row of ``idx``), plus the per-row cohort weights.

    ``change[u, g]`` is unit u's change over cohort g's two waves (0 where missing) and
    ``mask[u, g]`` is 1 where both cells exist. Columns ``bounds[g]`` of ``idx`` are the
    units assigned to cohort g; every unit in no column is a control. A cohort enters with
    weight = its number of treated units with data, when it has at least one control with
    data (exactly as :func:`~trygg_geo.effects.did.did_contrast` weighs cohorts).
    Returns ``(num, den)``: the statistic is ``num / den``.
    """
    tot_c = change.sum(axis=0)
    tot_m = mask.sum(axis=0)
    num = np.zeros(len(idx))
    den = np.zeros(len(idx))
    all_c = change[idx]  # (B, n_treated, G)
    all_m = mask[idx]
    for g, (s, e) in enumerate(bounds):
        s_t = all_c[:, s:e, g].sum(axis=1)
        c_t = all_m[:, s:e, g].sum(axis=1)
        s_c = tot_c[g] - all_c[:, :, g].sum(axis=1)
        c_c = tot_m[g] - all_m[:, :, g].sum(axis=1)
        ok = (c_t > 0) & (c_c > 0)
        diff = np.where(ok, s_t / np.maximum(c_t, 1) - s_c / np.maximum(c_c, 1), 0.0)
        w = np.where(ok, c_t, 0.0)
        num += w * diff
        den += w
    return num, den


def _stats(change: np.ndarray, mask: np.ndarray, idx: np.ndarray, bounds: Sequence[tuple[int, int]]
           ) -> np.ndarray:
    out = np.empty(len(idx))
    # a bar only from 10 blocks (200,000+ assignments, a second or more); see trygg_geo._progress
    for s in progress(range(0, len(idx), _CHUNK), desc="permutationer", unit="block",
                      min_items=10):
        num, den = _did_stats(change, mask, idx[s:s + _CHUNK], bounds)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s:s + _CHUNK] = np.where(den > 0, num / den, np.nan)
    return out


# --------------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------------
def permutation_test(
    panel: pd.DataFrame,
    *,
    treated: Mapping[str, int | tuple[int, int]],
    controls: Sequence[str],
    waves: Sequence[int],
    indicator: str | None = None,
    n_permutations: int = 10_000,
    seed: int | None = 0,
    exact_limit: int = 20_000,
    statistic: Statistic = "did_2x2",
    level: float = 0.95,
    label: str = "",
) -> PermutationResult:
    """Permutation (placebo-in-space) test of the pooled 2x2 DiD.

    Parameters
    ----------
    panel
        Survey panel: ``area_id, wave, share, se`` (and ``indicator``), as for
        :func:`~trygg_geo.effects.did_2x2`.
    treated
        Treated area id -> cohort (the first wave after the investment).
    controls
        Control area ids.
    waves
        All survey waves.
    indicator
        Select this indicator from the panel.
    n_permutations
        Random reassignments drawn when the assignments are too many to enumerate.
    seed
        Seed of the random reassignments (results are reproducible for a given seed).
    exact_limit
        Enumerate every assignment when there are at most this many.
    statistic
        ``"did_2x2"``: the pooled 2x2 DiD of :func:`~trygg_geo.effects.did_2x2`.
    level
        Confidence level of the inverted-test interval.
    label
        What is estimated (a kind, an investment id).

    Returns
    -------
    PermutationResult
        The observed DiD, the two-sided permutation p-value, the null distribution, an
        interval by test inversion, and n. ``.to_estimate()`` gives an
        :class:`~trygg_geo.effects.Estimate`.

    Notes
    -----
    The pool is every treated unit with survey values in its own cohort's two waves and
    every control with values in at least one cohort's two waves (the units
    :func:`~trygg_geo.effects.did.did_contrast` uses); the others are listed in
    ``dropped``. Each reassignment draws, without replacement from the pool, as many units
    for each cohort as were observed in it; the rest are controls. The permuted statistic
    is ``did_2x2`` applied to that assignment (a unit missing a cell in the waves of the
    cohort it is assigned to is left out of that cohort's mean, as ``did_2x2`` would).

    The test is exact under the sharp null of no effect in any district when districts
    are exchangeable (e.g. investments placed at random). When treated districts differ
    systematically (chosen for their high levels or trends), the permutation distribution
    inherits that bias, like any DiD.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [{"area_id": a, "wave": w, "share": s, "se": 0.03}
    ...         for a, (s0, s1) in {"t": (0.30, 0.20), "c1": (0.28, 0.29), "c2": (0.31, 0.30),
    ...                             "c3": (0.25, 0.27), "c4": (0.33, 0.31)}.items()
    ...         for w, s in ((2018, s0), (2021, s1))]
    >>> res = permutation_test(pd.DataFrame(rows), treated={"t": 2021},
    ...                        controls=["c1", "c2", "c3", "c4"], waves=[2018, 2021])
    >>> round(res.estimate, 4), res.exact, res.n_assignments, res.p_value
    (-0.1, True, 5, 0.2)

    With one treated area among five, no assignment can be rarer than 1 in 5, so no
    effect size is ever rejected at the 5% level and the interval is unbounded:

    >>> res.ci_low, res.ci_high
    (-inf, inf)
    """
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {_STATISTICS}, got {statistic!r}.")
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}.")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}.")
    waves_s = sorted(int(w) for w in waves)
    # every treated unit's (pre, post) window; a cohort means (the wave before it, the cohort)
    windows = {str(k): _window(v, waves_s) for k, v in treated.items()}
    bad = {k: w for k, w in windows.items() if isinstance(w, str)}
    win: dict[str, tuple[int, int]] = {k: w for k, w in windows.items() if not isinstance(w, str)}
    controls = [str(c) for c in controls]
    both = sorted(set(win) & set(controls))
    if both:
        raise InputError(f"the areas {both[:5]} are both treated and controls.",
                         fix="give each area one role (trygg_geo.design assigns them).")
    con = did_contrast(
        panel, treated=win, controls=controls, waves=waves_s, indicator=indicator
    )
    if bad:
        log.info("treated units without a window, left out: %s", bad)
    if con.n_treated == 0 or con.n_control == 0:
        raise InputError(
            f"no permutation test is possible: {con.n_treated} treated and {con.n_control} control "
            "areas have survey values in the waves compared.",
            fix="check the panel's waves and the cohorts (see did_contrast(...).dropped).")
    dropped_t = set(con.dropped.loc[con.dropped["role"] == "treated", "area_id"].astype(str))
    dropped_c = set(con.dropped.loc[con.dropped["role"] == "control", "area_id"].astype(str))
    t_units = [u for u in win if u not in dropped_t]
    c_units = [c for c in dict.fromkeys(controls) if c not in dropped_c]
    cohorts = sorted({win[u] for u in t_units})
    by_cohort = {g: [u for u in t_units if win[u] == g] for g in cohorts}
    pool = [u for g in cohorts for u in by_cohort[g]] + c_units
    sizes = [len(by_cohort[g]) for g in cohorts]
    n_t = sum(sizes)
    bounds, s0 = [], 0
    for s in sizes:
        bounds.append((s0, s0 + s))
        s0 += s

    # per-unit changes over each cohort's pair of waves
    cells = _cell_table(panel, indicator)["share"]
    change = np.zeros((len(pool), len(cohorts)))
    mask = np.zeros_like(change)
    for j, (pre, g) in enumerate(cohorts):
        post_i = pd.MultiIndex.from_arrays([pool, np.full(len(pool), g)])
        pre_i = pd.MultiIndex.from_arrays([pool, np.full(len(pool), pre)])
        d = cells.reindex(post_i).to_numpy(dtype=float) - cells.reindex(pre_i).to_numpy(dtype=float)
        ok = np.isfinite(d)
        change[:, j] = np.where(ok, d, 0.0)
        mask[:, j] = ok

    observed_idx = np.arange(n_t, dtype=np.intp)[None, :]
    estimate = float(_stats(change, mask, observed_idx, bounds)[0])
    total = n_assignments(len(pool), sizes)
    exact = total <= exact_limit
    if exact:
        idx = _enumerate(len(pool), sizes)
        rng = None
    else:
        rng = np.random.default_rng(seed)
        idx = _sample(len(pool), n_t, n_permutations, rng)
        # the blocks of a random permutation are a uniform draw of an ordered assignment
    null = _stats(change, mask, idx, bounds)
    valid = np.isfinite(null)
    if not valid.all():
        log.warning(
            "%d of %d reassignments gave no estimate (no treated or control values in any "
            "cohort's waves) and are left out of the null distribution",
            int((~valid).sum()),
            len(null),
        )
    null_v = null[valid]
    tol = _REL_TOL * max(1.0, abs(estimate))

    def p_at(stat_obs: float, stats_b: np.ndarray) -> float:
        hits = int(np.count_nonzero(np.abs(stats_b) >= abs(stat_obs) - tol))
        return hits / len(stats_b) if exact else (1 + hits) / (1 + len(stats_b))

    p_value = p_at(estimate, null_v)

    # test inversion under a constant additive effect: subtracting tau from the treated units'
    # own-cohort changes makes every statistic linear in tau, T_b(tau) = T_b - tau * c_b
    own = np.zeros_like(change)
    for j, (s, e) in enumerate(bounds):
        own[s:e, j] = mask[s:e, j]
    c_b = _stats(own, mask, idx, bounds)[valid]
    ci_low, ci_high = _invert(estimate, null_v, c_b, exact=exact, level=level, tol=tol)
    se = float(np.std(null_v, ddof=1)) if len(null_v) > 1 else float("nan")
    log.info(
        "permutation test (%s, %s): estimate %.4f, p = %.4g over %d assignments",
        label or "pooled",
        "exact" if exact else f"{len(null_v)} random",
        estimate,
        p_value,
        len(null_v),
    )
    dropped = con.dropped.copy()
    return PermutationResult(
        estimate=estimate,
        p_value=float(p_value),
        n_assignments=int(total),
        n_permutations=len(null_v),
        exact=exact,
        null=null_v,
        ci_low=ci_low,
        ci_high=ci_high,
        se=se,
        n_treated=n_t,
        n_control=len(c_units),
        level=level,
        seed=None if exact else seed,
        statistic=statistic,
        label=label,
        dropped=dropped,
    )


def _invert(estimate: float, null: np.ndarray, c_b: np.ndarray, *, exact: bool, level: float,
            tol: float) -> tuple[float, float]:
    """Endpoints of ``{tau : p(tau) > 1 - level}`` by bracketing and bisection on each side."""
    size = 1 - level  # the test's size: tau is outside the interval where p(tau) <= size
    n = len(null)
    if n == 0:
        return float("nan"), float("nan")

    def p(tau: float) -> float:
        obs = abs(estimate - tau)
        hits = int(np.count_nonzero(np.abs(null - tau * c_b) >= obs - tol))
        return hits / n if exact else (1 + hits) / (1 + n)

    scale = max(float(np.std(null)) if n > 1 else 0.0, abs(estimate), 1e-6)
    ends = []
    for sign in (-1.0, 1.0):
        inner, step = 0.0, scale
        outer = None
        for _ in range(60):
            if p(estimate + sign * step) <= size:
                outer = step
                break
            inner, step = step, step * 2
        if outer is None:
            ends.append(sign * float("inf"))
            continue
        for _ in range(80):
            mid = (inner + outer) / 2
            if p(estimate + sign * mid) <= size:
                outer = mid
            else:
                inner = mid
            if outer - inner <= 1e-9 * scale:
                break
        ends.append(sign * (inner + outer) / 2)
    return estimate + ends[0], estimate + ends[1]


def choose_headline(n_treated: int, perm: PermutationResult | None, *,
                    min_treated: int = MIN_TREATED_MODEL) -> tuple[str, str]:
    """Which result is the headline of an estimate -- ``"model"`` or ``"permutation"`` -- and why.

    The rule: with fewer than ``min_treated`` (default 5) treated areas, the permutation
    p-value and test-inverted interval are the headline whenever the permutation test
    could be run (enumerated or sampled); otherwise the model-based t interval is.

    Why 5: the model interval of a 2x2 DiD with district x wave variance ``tau2`` is right
    when the treated areas' own shocks are normal with that variance. With one to four
    treated areas, the estimate is dominated by a few districts' shocks, so a single
    unusual district (a shooting, a closed centre) is not averaged away, and nothing in the
    data can check the normality or the equal variance the interval leans on; the
    permutation test compares the treated areas with every (or a random sample of) equally
    large set of compared areas and needs only that districts are exchangeable. With one
    treated area among few controls the permutation interval is unbounded: that is the
    honest answer, not a failure. From five treated areas on, the average of their shocks
    is close to normal and the model interval (which also covers sampling error cell by
    cell) is the more precise headline; the permutation result is reported beside it.

    Parameters
    ----------
    n_treated
        Treated areas in the estimate.
    perm
        The permutation test of the same contrast, or None when it could not be run.
    min_treated
        The threshold.

    Returns
    -------
    tuple of str
        ``(headline, text_key)``: the text key (in :mod:`trygg_geo._i18n`, formatted with
        ``n_treated`` and ``min_treated``) says why.

    Examples
    --------
    >>> choose_headline(2, None)
    ('model', 'effects.headline.model_few')
    >>> choose_headline(8, None)
    ('model', 'effects.headline.model')
    """
    if n_treated < min_treated:
        if perm is not None and np.isfinite(perm.p_value):
            return "permutation", "effects.headline.permutation"
        return "model", "effects.headline.model_few"
    return "model", "effects.headline.model"
