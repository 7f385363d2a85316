"""Synthetic control (Abadie & Gardeazabal 2003; Abadie, Diamond & Hainmueller 2010, 2011).

The treated unit is compared with a weighted mix of donor units. The donor
weights ``W`` are non-negative and sum to one.

**Outcomes only** (no ``predictors`` or ``special_predictors``): ``W`` minimises the
mean squared prediction error (MSPE) of the raw outcome over the fit period,
``min_W ||Z1 - Z0 W||^2`` on the simplex. This is a convex quadratic programme; it is
solved to optimality by a primal active-set method (:func:`_simplex_qp`) whose
stopping rule is the KKT conditions, with an SLSQP polish as a fallback. No
standardisation is applied: scaling the periods would change the objective. On
California's Proposition 99 this gives Utah .394, Montana .232, Nevada .205,
Connecticut .109 (pre-period MSPE 2.744), as the reference constrained
least-squares fit.

**With predictors** it is the nested optimisation of the R package ``Synth``:

- predictors are standardised by their standard deviation across the treated
  unit and the donors;
- the inner problem, ``W(V) = argmin (X1 - X0 W)' V (X1 - X0 W)`` on the simplex for
  a diagonal ``V``, is the same quadratic programme. During the outer search it is
  solved by compiled non-negative least squares with the adding-up constraint as a
  heavily weighted row (near-exact and fast); the chosen ``V`` is then solved
  exactly by the active-set method, and the reported MSPE is that of the exact ``W``;
- the outer problem chooses ``V`` (non-negative, summing to one; parameterised as
  ``|v| / sum|v|``) to minimise the outcome MSPE of ``W(V)`` over the fit period, by
  Nelder-Mead from Synth's two starts (equal weights and the regression-based
  start: squared coefficients of the fit-period outcomes on the standardised
  predictors across units) plus ``restarts`` random starts; the best run wins.

**Inference** is by in-space placebos (Abadie et al. 2010): each donor in turn is
treated as if it had been treated, with the other donors as its pool. The
statistic is the ratio of post- to pre-treatment RMSPE; the p-value is the share
of units, the treated one included, whose ratio is at least the treated unit's.
The interval inverts this test: it holds the constant effects ``c`` for which
the treated unit's gap, with ``c`` taken off its post periods, is not rejected at
``1 - level``. It therefore contains zero exactly when ``p > 1 - level``. It is
unbounded when there are too few placebos to reject at that level (fewer than
``1 / (1 - level) - 1`` donors) and empty (NaN) when no constant effect fits. The
MDE is the constant effect the same test detects with probability ``power``,
measured on the placebos rescaled to the treated unit's pre-period fit (see
:func:`_placebo_mde`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo._stats import resolve_level
from trygg_geo.effects._result import Estimate

__all__ = ["SynthResult", "synthetic_control"]

log = logging.getLogger(__name__)

PredictorOp = Literal["mean", "median"]
SpecialPredictor = tuple[str, Sequence[Any], str]

_METHOD = "synthetic_control"


@dataclass(frozen=True, eq=False)
class SynthResult:
    """A fitted synthetic control with its placebo inference.

    Attributes
    ----------
    treated
        The treated unit's id.
    treatment_time
        First treated period.
    weights
        Donor weights (non-negative, sum 1), indexed by donor id.
    v
        Predictor importances (non-negative, sum 1), indexed by predictor name.
    predictors
        Predictor balance: one row per predictor with ``treated``,
        ``synthetic`` and ``donor_mean`` (unstandardised), as Synth's ``tab.pred``.
    series
        One row per period: ``time``, ``treated``, ``synthetic``, ``gap``, ``post``.
    gap
        Treated minus synthetic outcome, indexed by time.
    att
        Mean post-treatment gap. ``p_value`` is :attr:`placebo_p`; ``ci_low`` and
        ``ci_high`` invert the placebo RMSPE-ratio test (the constant effects not
        rejected at ``1 - level``; +/-inf when too few placebos to reject, NaN when
        none is accepted; ``extra["ci_note"]`` says which); ``mde`` is the placebo-based
        minimum detectable effect at ``level`` and ``power``. ``se`` is the standard
        deviation of the placebo units' mean post gaps, a description only: neither the
        interval nor the p-value uses it. All NaN without placebos.
    rmspe_pre, rmspe_post
        Root mean squared gap before and from ``treatment_time``.
    mspe_fit
        Mean squared gap over the fit period (the outer loss).
    placebo_p
        Share of units (treated included) whose post/pre RMSPE ratio is at least
        the treated unit's. NaN when placebos were not run.
    placebos
        Gaps of every unit when treated in turn (time x unit; the treated unit
        first), or None.
    placebo_stats
        Per unit: ``rmspe_pre``, ``rmspe_post``, ``ratio``, ``att`` (mean post
        gap), ``treated`` (bool); or None.
    """

    treated: Hashable
    treatment_time: float
    weights: pd.Series
    v: pd.Series
    predictors: pd.DataFrame
    series: pd.DataFrame
    gap: pd.Series
    att: Estimate
    rmspe_pre: float
    rmspe_post: float
    mspe_fit: float
    placebo_p: float = float("nan")
    placebos: pd.DataFrame | None = None
    placebo_stats: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-period series: time, treated, synthetic, gap, post."""
        return self.series.copy()


# --------------------------------------------------------------------------------------------
# Core numerics
# --------------------------------------------------------------------------------------------
def _kkt_violation(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> float:
    """How far ``w`` is from solving ``min ||a w - b||^2`` on the simplex (0 at the optimum).

    On the simplex ``a w - b = c w`` with ``c = a - b 1'``. With the residual ``r = c w`` the
    multipliers of ``w_j >= 0`` are ``lambda_j = c_j' r - r' r``; the KKT conditions are
    ``lambda_j >= 0`` for every donor and ``lambda_j = 0`` where ``w_j > 0``. The result is
    the largest violation (of these and of ``w >= 0``, ``sum w = 1``) relative to
    ``max(||c||^2, 1e-300)``.
    """
    c = a - b[:, None]
    r = c @ w
    lam = c.T @ r - float(r @ r)
    scale = max(float(np.sum(c * c)), 1e-300)
    dual = max(0.0, float(-lam.min())) / scale
    comp = float(np.max(np.abs(lam) * (w > 0))) / scale
    primal = max(abs(float(w.sum()) - 1.0), float(max(0.0, -w.min())))
    return max(dual, comp, primal)


@functools.lru_cache(maxsize=256)
def _sum_keeping_basis(p: int) -> np.ndarray:
    """Orthonormal basis (p x p-1) of the vectors summing to zero (a Householder reflection)."""
    u = np.full(p, 1 / np.sqrt(p))
    u[0] -= 1.0
    h = np.eye(p) - 2 * np.outer(u, u) / float(u @ u)
    basis = h[:, 1:]
    basis.flags.writeable = False
    return basis


def _subproblem(c: np.ndarray, w: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Minimiser of ``||c z||^2`` over ``sum z = 1`` with ``z`` zero off ``support``.

    Null-space method: ``z = w + N y`` with ``N`` an orthonormal basis of the directions
    inside the support that keep the sum; ``y`` is the minimum-norm least-squares step, so
    flat directions (more donors than periods) leave ``w`` where it is.
    """
    idx = np.flatnonzero(support)
    z = np.zeros_like(w)
    if idx.size == 1:
        z[idx] = 1.0
        return z
    n = _sum_keeping_basis(idx.size)
    cp = c[:, idx]
    y, *_ = np.linalg.lstsq(cp @ n, -(cp @ w[idx]), rcond=None)
    z[idx] = w[idx] + n @ y
    return z


def _optimise_on_support(
    c: np.ndarray, w: np.ndarray, support: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Feasible descent to the best point on ``support``, dropping donors whose weight hits 0."""
    for _ in range(2 * c.shape[1] + 2):
        z = _subproblem(c, w, support)
        neg = support & (z <= 0)
        if not neg.any():
            return z, support
        step = float(np.min(w[neg] / (w[neg] - z[neg])))
        w = np.where(support, w + step * (z - w), 0.0)
        support = support & (w > 1e-14)
        w = np.where(support, w, 0.0)
        w /= w.sum()
    return w, support


def _simplex_qp(a: np.ndarray, b: np.ndarray, w0: np.ndarray | None = None) -> np.ndarray:
    """``argmin ||a w - b||^2`` over ``w >= 0, sum(w) = 1``, solved to optimality.

    A primal active-set method (Lawson & Hanson's NNLS scheme with the adding-up
    constraint handled exactly by a null-space step): start at the best single donor (or
    at the feasible warm start ``w0``), solve the least-squares problem on the support,
    stepping back to the boundary whenever a weight would turn negative, then add the donor
    with the most negative KKT multiplier and repeat. It stops when every multiplier is
    non-negative, which for this convex problem is the global optimum. Should it not
    converge (degenerate, rank-deficient problems) it is polished by SLSQP with the
    analytic gradient, and the better point is kept.

    Examples
    --------
    >>> a = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 2.0]])
    >>> _simplex_qp(a, np.array([0.5, 0.5])).round(6).tolist()
    [0.5, 0.5, 0.0]
    >>> _simplex_qp(a, np.array([3.0, 3.0])).round(6).tolist()
    [0.0, 0.0, 1.0]
    """
    j = a.shape[1]
    if j == 1:
        return np.ones(1)
    c = a - b[:, None]
    tol = 1e-13 * max(float(np.sum(c * c)), 1e-300)
    if w0 is not None and w0.shape == (j,) and np.all(np.isfinite(w0)) and w0.max() > 0:
        w = np.clip(w0, 0.0, None)
        w /= w.sum()
    else:
        w = np.zeros(j)
        w[int(np.argmin(np.sum(c * c, axis=0)))] = 1.0
    support = w > 0
    for _ in range(10 * j + 20):
        w, support = _optimise_on_support(c, w, support)
        r = c @ w
        lam = c.T @ r - float(r @ r)
        lam[support] = np.inf
        k = int(np.argmin(lam))
        if lam[k] >= -tol:
            return w
        support[k] = True
    return _polish(c, w)


def _simplex_nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fast near-exact ``argmin ||a w - b||^2`` on the simplex, for the outer ``V`` search.

    Non-negative least squares (:func:`scipy.optimize.nnls`, compiled) with the adding-up
    constraint as a heavily weighted extra row, renormalised; it is also the warm start of
    :func:`_simplex_qp`, which makes the answer exact.
    """
    j = a.shape[1]
    m = 1e4 * max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-12)
    w, _ = optimize.nnls(np.vstack([a, np.full((1, j), m)]), np.append(b, m), maxiter=50 * j)
    s = float(w.sum())
    return w / s if s > 0 else np.full(j, 1 / j)


def _polish(c: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """SLSQP on ``||c w||^2`` over the simplex from ``w0``; the better of the two is kept."""
    j = c.shape[1]
    res = optimize.minimize(
        lambda w: float(np.sum((c @ w) ** 2)), w0, jac=lambda w: 2 * c.T @ (c @ w),
        method="SLSQP", bounds=[(0.0, 1.0)] * j,
        constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0,
                      "jac": lambda w: np.ones(j)}],
        options={"ftol": 1e-16, "maxiter": 2000},
    )
    w1 = np.clip(np.asarray(res.x, dtype=float), 0.0, None)
    w1 /= w1.sum()
    return w1 if np.sum((c @ w1) ** 2) < np.sum((c @ w0) ** 2) else w0


def _standardise(x1: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predictors divided by their standard deviation across the treated unit and donors."""
    sd = np.std(np.column_stack([x1, x0]), axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return x1 / sd, x0 / sd[:, None]


@dataclass(frozen=True)
class _Fit:
    w: np.ndarray
    v: np.ndarray
    loss: float
    starts: int


def _regression_start(x1s: np.ndarray, x0s: np.ndarray, z1: np.ndarray,
                      z0: np.ndarray) -> np.ndarray | None:
    """Synth's regression-based start for ``V``; None when not identified.

    Squared coefficients of the fit-period outcomes on the standardised predictors (units as
    observations, with an intercept), summed over periods and normalised.
    """
    xall = np.column_stack([np.ones(x0s.shape[1] + 1), np.column_stack([x1s, x0s]).T])
    zall = np.column_stack([z1, z0]).T
    beta, _, rank, _ = np.linalg.lstsq(xall, zall, rcond=None)
    if rank < xall.shape[1]:
        return None
    sv2 = np.sum(beta[1:] ** 2, axis=1)
    return sv2 / sv2.sum() if sv2.sum() > 0 else None


def _fit_weights(
    x1: np.ndarray,
    x0: np.ndarray,
    z1: np.ndarray,
    z0: np.ndarray,
    *,
    restarts: int,
    maxiter: int,
    rng: np.random.Generator,
    optimise_v: bool = True,
) -> _Fit:
    """Donor weights: predictors ``x`` (k, and k x J), fit-period outcomes ``z`` (T, T x J).

    Without predictors (``optimise_v`` false) ``W`` minimises the raw outcome MSPE over the
    fit period directly (``V`` is then the identity on the unstandardised outcomes, reported
    as equal weights). With predictors it is Synth's nested problem: ``W(V)`` solves the
    inner QP on the standardised predictors, and ``V`` minimises the fit-period outcome MSPE
    of ``W(V)`` by Nelder-Mead from several starts (equal, regression-based, ``restarts``
    random ones). The search evaluates ``W(V)`` with :func:`_simplex_nnls`; the winning
    ``V`` is solved exactly with :func:`_simplex_qp`.
    """
    if not optimise_v:
        w = _simplex_qp(z0, z1)
        r = z1 - z0 @ w
        k = x1.size
        return _Fit(w, np.full(k, 1 / k), float(r @ r) / z1.size, 0)

    x1s, x0s = _standardise(x1, x0)
    k = x1s.size

    def w_of(v: np.ndarray) -> np.ndarray:
        sv = np.sqrt(v)
        a, b = sv[:, None] * x0s, sv * x1s
        return _simplex_qp(a, b, _simplex_nnls(a, b))

    def loss(raw: np.ndarray) -> float:
        # the search uses the compiled near-exact solver; the chosen V is solved exactly
        a = np.abs(raw)
        s = a.sum()
        if not np.isfinite(s) or s <= 0:
            return float("inf")
        sv = np.sqrt(a / s)
        r = z1 - z0 @ _simplex_nnls(sv[:, None] * x0s, sv * x1s)
        return float(r @ r) / z1.size

    def exact_loss(v: np.ndarray) -> tuple[np.ndarray, float]:
        w = w_of(v)
        r = z1 - z0 @ w
        return w, float(r @ r) / z1.size

    if k == 1:
        v = np.ones(1)
        w, val = exact_loss(v)
        return _Fit(w, v, val, 0)

    starts = [np.full(k, 1 / k)]
    reg = _regression_start(x1s, x0s, z1, z0)
    if reg is not None:
        starts.append(reg)
    starts += [rng.dirichlet(np.ones(k)) for _ in range(restarts)]

    best: tuple[float, np.ndarray] | None = None
    for s0 in starts:
        res = optimize.minimize(
            loss, s0, method="Nelder-Mead",
            options={"maxfev": maxiter, "xatol": 1e-10, "fatol": 1e-14, "adaptive": k > 5},
        )
        val = float(res.fun)
        if best is None or val < best[0]:
            best = (val, np.asarray(res.x))
    assert best is not None
    a = np.abs(best[1])
    v = a / a.sum()
    w, val = exact_loss(v)
    return _Fit(w, v, val, len(starts))


# --------------------------------------------------------------------------------------------
# Data preparation
# --------------------------------------------------------------------------------------------
def _aggregate(values: pd.DataFrame, op: str) -> pd.Series:
    if op == "mean":
        return values.mean(axis=0, skipna=True)
    if op == "median":
        return values.median(axis=0, skipna=True)
    raise InputError(f"unknown predictor operation {op!r}.", fix="use 'mean' or 'median'.")


def _predictor_matrix(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    units: list[Hashable],
    specs: list[tuple[str, str, list[Any], str]],
) -> pd.DataFrame:
    """Predictor table (predictor x unit) from (name, column, periods, op) specs."""
    rows = {}
    for name, col, periods, op in specs:
        sub = data[data[time].isin(periods)]
        wide = sub.pivot(index=time, columns=unit, values=col).reindex(columns=units)
        vals = _aggregate(wide.apply(pd.to_numeric, errors="coerce"), op)
        missing = vals.index[vals.isna()].tolist()
        if missing:
            raise InputError(
                f"predictor '{name}' has no value in periods {periods[0]}..{periods[-1]} "
                f"for units {missing[:10]}.",
                column=col,
                fix="choose periods where the column is observed, or drop these units "
                "from the donors.",
            )
        rows[name] = vals
    return pd.DataFrame(rows).T.reindex(columns=units)


def _select_columns(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    predictors: Sequence[str] | None,
    special_predictors: Sequence[SpecialPredictor] | None,
) -> pd.DataFrame:
    """The columns the fit reads, checked to exist, with one row per unit and period."""
    cols = [unit, time, outcome, *(predictors or []), *(s[0] for s in special_predictors or [])]
    for col in dict.fromkeys(cols):
        if col not in df.columns:
            raise MissingColumnError(col, found=df.columns)
    data = df[list(dict.fromkeys(cols))]
    dup = data.duplicated([unit, time])
    if dup.any():
        raise InputError(
            f"{int(dup.sum())} duplicated ({unit}, {time}) rows "
            f"(units {data.loc[dup, unit].unique()[:10].tolist()}).",
            fix="keep one row per unit and period.",
        )
    return data


def _donor_list(
    data: pd.DataFrame, *, unit: str, treated: Hashable, donors: Sequence[Hashable] | None
) -> list[Hashable]:
    """The donor pool (default every unit but the treated one), checked against the data."""
    all_units = list(pd.unique(data[unit]))
    if treated not in all_units:
        raise InputError(f"the treated unit {treated!r} is not in column '{unit}'.", column=unit,
                         fix=f"use one of {all_units[:10]}.")
    donor_list = [u for u in all_units if u != treated] if donors is None else list(donors)
    unknown = [d for d in donor_list if d not in all_units]
    if unknown:
        raise InputError(f"donors {unknown[:10]} are not in column '{unit}'.", column=unit,
                         fix="check the donor ids.")
    if treated in donor_list:
        raise InputError(f"the treated unit {treated!r} is among the donors.",
                         fix="remove it from donors.")
    if len(donor_list) < 2:
        raise InputError("a synthetic control needs at least two donors.",
                         fix="add donor units.")
    return donor_list


def _periods(
    data: pd.DataFrame, *, time: str, treatment_time: float, fit_period: Sequence[Any] | None
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """All periods (sorted), the pre-treatment periods and the fit periods, checked."""
    if not pd.api.types.is_numeric_dtype(data[time]):
        raise InputError(
            f"'{time}' must be numeric (years or wave numbers), got {data[time].dtype}.",
            column=time, fix="convert the periods to numbers, e.g. the survey year.",
        )
    times = np.sort(pd.unique(data[time]))
    pre_times = times[times < treatment_time]
    post_times = times[times >= treatment_time]
    if pre_times.size == 0 or post_times.size == 0:
        raise InputError(
            f"treatment_time {treatment_time} leaves no pre- or no post-treatment period "
            f"(periods {times[0]}..{times[-1]}).",
            column=time, fix="choose a treatment_time inside the observed periods.",
        )
    fit = list(pre_times) if fit_period is None else list(fit_period)
    if any(t >= treatment_time for t in fit):
        raise InputError(
            f"fit_period reaches into the treated periods (from {treatment_time}).",
            column=time, fix="fit on pre-treatment periods only.",
        )
    return times, pre_times, fit


def _outcome_panel(
    data: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    times: np.ndarray,
    units: list[Hashable],
    fit: list[Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outcome as a (period x unit) table, and its fit-period rows (checked complete)."""
    ypanel = data.pivot(index=time, columns=unit, values=outcome).reindex(index=times,
                                                                          columns=units)
    ypanel = ypanel.apply(pd.to_numeric, errors="coerce").astype(float)
    missing_fit = [t for t in fit if t not in ypanel.index]
    if missing_fit:
        raise InputError(f"fit periods {missing_fit[:10]} are not in the data.", column=time,
                         fix="choose observed pre-treatment periods.")
    zfit = ypanel.loc[fit]
    bad = zfit.columns[zfit.isna().any()].tolist()
    if bad:
        raise InputError(
            f"'{outcome}' is missing in the fit period for units {bad[:10]}.",
            column=outcome,
            fix="fill the outcome, shorten fit_period, or drop these units from the donors.",
        )
    return ypanel, zfit


def _predictor_specs(
    *,
    outcome: str,
    predictors: Sequence[str] | None,
    predictors_op: str,
    predictor_period: Sequence[Any] | None,
    special_predictors: Sequence[SpecialPredictor] | None,
    pre_times: np.ndarray,
    fit: list[Any],
) -> tuple[list[tuple[str, str, list[Any], str]], bool]:
    """(name, column, periods, op) per predictor, and whether ``V`` is to be optimised.

    Without predictors the outcome in each fit period is the predictor and ``V`` stays
    equal weights.
    """
    ppos = list(pre_times) if predictor_period is None else list(predictor_period)
    specs: list[tuple[str, str, list[Any], str]] = [
        (c, c, ppos, predictors_op) for c in predictors or []
    ]
    for col, periods, op in special_predictors or []:
        per = list(periods)
        name = f"special.{col}.{per[0]}" + (f".{per[-1]}" if len(per) > 1 else "")
        specs.append((name, col, per, op))
    optimise_v = bool(specs)
    if not specs:
        specs = [(f"{outcome}.{t}", outcome, [t], "mean") for t in fit]
    return specs, optimise_v


@dataclass(frozen=True)
class _Problem:
    """What every fit (the treated unit's and each placebo's) shares; ``rng`` is drawn in turn."""

    xtab: pd.DataFrame
    zfit: pd.DataFrame
    ypanel: pd.DataFrame
    maxiter: int
    rng: np.random.Generator
    optimise_v: bool

    def run(self, tr: Hashable, pool: list[Hashable], nrest: int) -> tuple[_Fit, np.ndarray]:
        """Fit unit ``tr`` from ``pool``; return the fit and the gap (outcome minus synthetic)."""
        x = self.xtab[[tr, *pool]].to_numpy(dtype=float)
        z = self.zfit[[tr, *pool]].to_numpy(dtype=float)
        f = _fit_weights(x[:, 0], x[:, 1:], z[:, 0], z[:, 1:], restarts=nrest,
                         maxiter=self.maxiter, rng=self.rng, optimise_v=self.optimise_v)
        y0 = self.ypanel[pool].to_numpy(dtype=float)
        synth = np.where(f.w[None, :] > 0, y0, 0.0) @ f.w
        return f, self.ypanel[tr].to_numpy(dtype=float) - synth


def _rmspe(g: np.ndarray, mask: np.ndarray) -> float:
    """Root mean squared gap over the periods in ``mask`` (missing gaps skipped)."""
    return float(np.sqrt(np.nanmean(g[mask] ** 2)))


@dataclass(frozen=True)
class _Placebos:
    """In-space placebo inference; the defaults are the no-placebo answer (all NaN)."""

    gaps: pd.DataFrame | None = None
    stats: pd.DataFrame | None = None
    p_value: float = float("nan")
    se: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    ci_note: str = "no placebos"
    mde: float = float("nan")


def _n_exceed_needed(alpha: float, n_units: int) -> int:
    """Fewest reference units with a ratio at least the tested unit's that keep it accepted.

    The smallest ``m`` with ``(1 + m) / n_units > alpha``.
    """
    m = max(int(np.floor(alpha * n_units - 1)) + 1, 0)
    while m > 0 and m / n_units > alpha:  # guards against rounding of alpha * n_units
        m -= 1
    while (1 + m) / n_units <= alpha:
        m += 1
    return m


def _ratio_interval(
    post: np.ndarray, rmspe_pre: float, critical: float
) -> tuple[float, float, str]:
    """The constant effects ``c`` with ``RMSPE_post(post - c) / rmspe_pre <= critical``.

    ``RMSPE_post(post - c)^2 = var + (mean - c)^2`` (``var`` the population variance of the
    post gaps), so the set is ``mean -/+ sqrt((critical * rmspe_pre)^2 - var)``: all reals
    when ``critical`` is infinite, empty when the root is imaginary.
    """
    post = post[np.isfinite(post)]
    mean = float(post.mean())
    if not np.isfinite(critical):
        return float("-inf"), float("inf"), "unbounded: the critical placebo ratio is infinite"
    var = float(post.var())
    if np.sqrt(var) <= 1e-9 * abs(mean):  # a constant gap, up to rounding
        var = 0.0
    d2 = (critical * rmspe_pre) ** 2 - var
    if d2 < 0:
        return (float("nan"), float("nan"),
                "empty: no constant effect makes the treated unit's post/pre RMSPE ratio "
                "typical of the placebos")
    h = float(np.sqrt(d2))
    return mean - h, mean + h, "test inversion of the placebo RMSPE-ratio test"


def _placebo_mde(
    arr: np.ndarray, pre_mask: np.ndarray, rmspe_pre: float, alpha: float, power: float
) -> float:
    """Minimum detectable effect for a unit with pre-period RMSPE ``rmspe_pre``.

    The columns of ``arr`` are the placebo units' gaps. Each placebo ``j`` stands in for
    the treated unit: its gaps are rescaled to the treated unit's pre-period fit (times
    ``rmspe_pre / pre_j``; the RMSPE ratio does not change), an effect ``s * delta``
    (``s = +1, -1``) is added to its post periods, and it is tested as the treated unit is,
    against the other placebos' ratios. The test rejects every effect above
    ``delta_js = max(0, rmspe_pre * (sqrt(C_j^2 - var_j / pre_j^2) - s * mean_j / pre_j))``,
    with ``C_j`` the critical ratio among the others and ``mean_j``, ``var_j`` the mean and
    variance of ``j``'s post gaps (``delta_js = 0`` when ``j`` rejects whatever is added).
    The MDE is the ``power`` quantile of the ``2 J`` values ``delta_js``: every effect above
    it is detected in at least ``power`` of the cases. It is infinite when the placebo test
    cannot reject at ``alpha`` with this many units.
    """
    post_mask = ~pre_mask
    n = arr.shape[1]
    pre = np.sqrt(np.nanmean(arr[pre_mask] ** 2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect pre fit: ratio inf
        ratio = np.sqrt(np.nanmean(arr[post_mask] ** 2, axis=0)) / pre
    m = _n_exceed_needed(alpha, n)  # j and its n - 1 others form the reference set
    if m == 0 or n < 2:
        return float("inf")
    thresholds = []
    for j in range(n):
        others = np.sort(np.delete(ratio, j))[::-1]
        crit = others[min(m, others.size) - 1]  # j rejects when its ratio exceeds this
        if not np.isfinite(crit):  # no ratio exceeds an infinite critical value
            thresholds += [np.inf, np.inf]
            continue
        if not pre[j] > 0:  # perfectly fitted: any added effect gives an infinite ratio
            thresholds += [0.0, 0.0]
            continue
        post = arr[post_mask, j]
        post = post[np.isfinite(post)] / pre[j]
        d2 = crit**2 - float(post.var())
        root = float(np.sqrt(d2)) if d2 > 0 else 0.0
        mean = float(post.mean())
        thresholds += [max(0.0, root - mean), max(0.0, root + mean)]
    th = np.sort(np.asarray(thresholds))
    q = float(th[int(np.ceil(power * th.size)) - 1])
    return q if np.isinf(q) else q * rmspe_pre


def _placebo_inference(
    problem: _Problem,
    *,
    treated: Hashable,
    donor_list: list[Hashable],
    gap: np.ndarray,
    times: np.ndarray,
    time: str,
    unit: str,
    pre_mask: np.ndarray,
    restarts: int,
    level: float,
    power: float,
) -> _Placebos:
    """Treat each donor in turn (the others its pool): p-value, test-inverted CI, SE, MDE."""
    post_mask = ~pre_mask
    gaps = {treated: gap}
    for d in donor_list:
        pool = [u for u in donor_list if u != d]
        gaps[d] = problem.run(d, pool, restarts)[1]
    placebos = pd.DataFrame(gaps, index=pd.Index(times, name=time))
    arr = placebos.to_numpy()
    pre_r = np.sqrt(np.nanmean(arr[pre_mask] ** 2, axis=0))
    # a pre-period fit within rounding of exact counts as exact (its ratio is infinite)
    zscale = float(np.sqrt(np.mean(problem.zfit.to_numpy(dtype=float) ** 2)))
    pre_r = np.where(pre_r <= 1e-9 * zscale, 0.0, pre_r)
    arr = np.where(pre_mask[:, None] & (pre_r == 0)[None, :], 0.0, arr)
    post_r = np.sqrt(np.nanmean(arr[post_mask] ** 2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect pre fit: ratio inf
        ratio = post_r / pre_r
    stats_tab = pd.DataFrame(
        {"rmspe_pre": pre_r, "rmspe_post": post_r, "ratio": ratio,
         "att": np.nanmean(arr[post_mask], axis=0),
         "treated": [True] + [False] * len(donor_list)},
        index=pd.Index(placebos.columns, name=unit),
    )
    alpha = 1 - level
    placebo_p = float(np.mean(ratio >= ratio[0]))
    # H0 "constant effect c": the treated unit's post gap minus c is compared with the
    # placebos (whose fits never use the treated unit, so they do not move with c).
    m = _n_exceed_needed(alpha, ratio.size)
    placebo_ratios = np.sort(ratio[1:])[::-1]
    critical = float("inf") if m == 0 else float(placebo_ratios[m - 1])
    lo, hi, note = _ratio_interval(arr[post_mask, 0], float(pre_r[0]), critical)
    if m == 0:
        note = "unbounded: too few placebos to reject at this level"
    elif not np.isfinite(critical):
        note = ("unbounded: placebos fit the pre-period perfectly (infinite RMSPE ratios); "
                "more pre-treatment periods are needed")
    patt = stats_tab["att"].to_numpy()[1:]
    return _Placebos(gaps=placebos, stats=stats_tab, p_value=placebo_p,
                     se=float(np.std(patt, ddof=1)), ci_low=lo, ci_high=hi, ci_note=note,
                     mde=_placebo_mde(arr[:, 1:], pre_mask, float(pre_r[0]), alpha, power))


def synthetic_control(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated: Hashable,
    treatment_time: float,
    predictors: Sequence[str] | None = None,
    predictors_op: PredictorOp = "mean",
    predictor_period: Sequence[Any] | None = None,
    special_predictors: Sequence[SpecialPredictor] | None = None,
    fit_period: Sequence[Any] | None = None,
    donors: Sequence[Hashable] | None = None,
    placebo: bool = True,
    restarts: int = 2,
    placebo_restarts: int = 0,
    maxiter: int = 4000,
    level: float | None = None,
    power: float = 0.8,
    seed: int = 0,
    alpha: float | None = None,
) -> SynthResult:
    """Estimate the effect on one treated unit with a synthetic control.

    Parameters
    ----------
    df
        Long panel: one row per unit and period.
    unit, time, outcome
        Column names.
    treated
        Id of the treated unit (a value of ``unit``).
    treatment_time
        First treated period; periods before it are "pre".
    predictors
        Columns averaged (``predictors_op``) over ``predictor_period``; with these or
        ``special_predictors`` the weights come from Synth's nested ``V`` optimisation.
        When neither is given, ``W`` minimises the raw outcome MSPE over the fit period
        (a quadratic programme solved to optimality); ``v`` then reports equal weights on
        the unstandardised fit-period outcomes, which is that objective.
    predictors_op
        ``"mean"`` or ``"median"``; missing values are skipped, as in Synth.
    predictor_period
        Periods for ``predictors``; default all pre-treatment periods.
    special_predictors
        ``(column, periods, op)`` triples, e.g. ``("gdpcap", range(1960, 1970), "mean")``.
    fit_period
        Periods whose outcome MSPE chooses ``V``; default all pre-treatment periods.
    donors
        Donor units; default every unit except the treated one.
    placebo
        Run in-space placebos for inference.
    restarts, placebo_restarts
        Random starts of the outer ``V`` search beyond Synth's two (equal weights and the
        regression-based start), for the main fit and for each placebo fit. Only used with
        predictors.
    maxiter
        Function evaluations per Nelder-Mead run.
    level
        Confidence level of the placebo-based interval (test inversion); default 0.95.
    power
        Power at which the placebo-based minimum detectable effect is computed.
    seed
        Seed of the random restarts.
    alpha
        Deprecated: ``1 - level``. Passing it warns; passing it with ``level`` is an error.

    Returns
    -------
    SynthResult

    Raises
    ------
    InputError
        Missing columns, unknown units, duplicated rows, no pre or post
        period, missing outcomes in the fit period or predictors that cannot
        be computed (each naming the units); ``level`` or ``power`` outside (0, 1).

    Examples
    --------
    A treated unit that is 0.3 A + 0.7 B until period 6 and 2 higher afterwards:

    >>> t = np.arange(1, 11)
    >>> paths = {"A": 10 + t, "B": 20 - 0.1 * t**2, "C": 30 + 0 * t, "D": 5 + np.cos(t),
    ...          "E": 12 + np.sin(t)}
    >>> paths["T"] = 0.3 * paths["A"] + 0.7 * paths["B"] + 2.0 * (t >= 6)
    >>> df = pd.concat([pd.DataFrame({"u": k, "t": t, "y": v}) for k, v in paths.items()])
    >>> res = synthetic_control(df, unit="u", time="t", outcome="y", treated="T",
    ...                         treatment_time=6)
    >>> res.weights.round(3).to_dict()
    {'A': 0.3, 'B': 0.7, 'C': 0.0, 'D': 0.0, 'E': 0.0}
    >>> round(res.att.estimate, 6), round(res.placebo_p, 3)
    (2.0, 0.167)
    >>> bool(np.isinf(res.att.ci_high))  # 5 placebos cannot reject at 5%
    True
    """
    try:
        level = resolve_level(level, alpha, where="synthetic_control")
    except ValueError as err:
        raise InputError(str(err), fix="e.g. level=0.95 for a 95% interval.") from err
    if not (np.isfinite(power) and 0 < power < 1):
        raise InputError(f"power must lie strictly between 0 and 1, got {power!r}.",
                         fix="e.g. power=0.8.")
    data = _select_columns(df, unit=unit, time=time, outcome=outcome, predictors=predictors,
                           special_predictors=special_predictors)
    donor_list = _donor_list(data, unit=unit, treated=treated, donors=donors)
    units = [treated, *donor_list]
    data = data[data[unit].isin(units)]
    times, pre_times, fit = _periods(data, time=time, treatment_time=treatment_time,
                                     fit_period=fit_period)
    ypanel, zfit = _outcome_panel(data, unit=unit, time=time, outcome=outcome, times=times,
                                  units=units, fit=fit)
    specs, optimise_v = _predictor_specs(
        outcome=outcome, predictors=predictors, predictors_op=predictors_op,
        predictor_period=predictor_period, special_predictors=special_predictors,
        pre_times=pre_times, fit=fit,
    )
    xtab = _predictor_matrix(data, unit=unit, time=time, units=units, specs=specs)
    problem = _Problem(xtab=xtab, zfit=zfit, ypanel=ypanel, maxiter=maxiter,
                       rng=np.random.default_rng(seed), optimise_v=optimise_v)

    main, gap = problem.run(treated, donor_list, restarts)
    pre_mask = times < treatment_time
    post_mask = ~pre_mask
    att_value = float(np.nanmean(gap[post_mask]))
    weights = pd.Series(main.w, index=pd.Index(donor_list, name=unit), name="weight")
    v = pd.Series(main.v, index=pd.Index(xtab.index, name="predictor"), name="v")
    x_all = xtab.to_numpy(dtype=float)
    predictors_tab = pd.DataFrame(
        {"treated": x_all[:, 0], "synthetic": x_all[:, 1:] @ main.w,
         "donor_mean": x_all[:, 1:].mean(axis=1)},
        index=xtab.index,
    )
    synth_y = ypanel[treated].to_numpy(dtype=float) - gap
    series = pd.DataFrame({"time": times, "treated": ypanel[treated].to_numpy(dtype=float),
                           "synthetic": synth_y, "gap": gap, "post": post_mask})
    log.info("synthetic control for %r: %d donors, top weights %s, pre RMSPE %.4g",
             treated, len(donor_list), weights.nlargest(3).round(3).to_dict(),
             _rmspe(gap, pre_mask))

    inference = _Placebos()
    if placebo:
        inference = _placebo_inference(
            problem, treated=treated, donor_list=donor_list, gap=gap, times=times, time=time,
            unit=unit, pre_mask=pre_mask, restarts=placebo_restarts, level=level, power=power,
        )
    att = Estimate(
        estimate=att_value, se=inference.se, ci_low=inference.ci_low, ci_high=inference.ci_high,
        p_value=inference.p_value, n_treated=1, n_control=len(donor_list), method=_METHOD,
        label=str(treated), level=level, mde=inference.mde,
        extra={"inference": "placebo_in_space" if placebo else "none",
               "n_placebos": len(donor_list) if placebo else 0,
               "ci_method": "placebo_test_inversion" if placebo else "none",
               "ci_note": inference.ci_note,
               "mde_method": "placebo_ratio_test" if placebo else "none", "mde_power": power,
               "rmspe_pre": _rmspe(gap, pre_mask), "n_post_periods": int(post_mask.sum())},
    )
    return SynthResult(
        treated=treated,
        treatment_time=treatment_time,
        weights=weights,
        v=v,
        predictors=predictors_tab,
        series=series,
        gap=pd.Series(gap, index=pd.Index(times, name=time), name="gap"),
        att=att,
        rmspe_pre=_rmspe(gap, pre_mask),
        rmspe_post=_rmspe(gap, post_mask),
        mspe_fit=main.loss,
        placebo_p=inference.p_value,
        placebos=inference.gaps,
        placebo_stats=inference.stats,
        extra={"starts": main.starts, "fit_period": fit},
    )
