"""Synthetic control (Abadie & Gardeazabal 2003; Abadie, Diamond & Hainmueller 2010, 2011).

The treated unit is compared with a weighted mix of donor units. The donor
weights ``W`` (non-negative, summing to one) make the mix resemble the treated
unit on a set of predictors; the predictor importances ``V`` are chosen so that
the resulting mix tracks the treated unit's outcome over a fit period. This is
the nested optimisation of the R package ``Synth``:

- predictors are standardised by their standard deviation across the treated
  unit and the donors;
- the inner problem, ``W(V) = argmin (X1 - X0 W)' V (X1 - X0 W)`` on the simplex,
  is a quadratic programme, solved exactly by non-negative least squares
  (:func:`scipy.optimize.nnls`) with the adding-up constraint as a heavily
  weighted extra row, then renormalised;
- the outer problem minimises the mean squared prediction error of the outcome
  over the fit period by Nelder-Mead over ``V`` (parameterised as ``|v| / sum|v|``),
  from Synth's two starts (equal weights and a regression-based start) plus
  optional random restarts; the best run wins.

Inference is by in-space placebos (Abadie et al. 2010): each donor in turn is
treated as if it had been treated, with the other donors as its pool. The
p-value is the share of units, the treated one included, whose ratio of
post- to pre-treatment RMSPE is at least the treated unit's.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from trygg_geo._errors import InputError, MissingColumnError
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
        Mean post-treatment gap. Its ``se`` is the standard deviation of the
        placebo units' mean post gaps; the CI inverts the placebo distribution
        (``att`` minus its quantiles); ``p_value`` is :attr:`placebo_p`. All NaN
        without placebos.
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
def _simplex_qp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin ||a w - b||^2`` over ``w >= 0, sum(w) = 1`` (nnls with a penalty row)."""
    j = a.shape[1]
    m = 1e4 * max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), 1e-12)
    aa = np.vstack([a, np.full((1, j), m)])
    bb = np.append(b, m)
    w, _ = optimize.nnls(aa, bb, maxiter=50 * j)
    s = w.sum()
    return w / s if s > 0 else np.full(j, 1 / j)


def _standardise(x1: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sd = np.std(np.column_stack([x1, x0]), axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return x1 / sd, x0 / sd[:, None]


@dataclass(frozen=True)
class _Fit:
    w: np.ndarray
    v: np.ndarray
    loss: float
    starts: int


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
    """Nested Synth optimisation: predictors ``x`` (k, and k x J), fit outcomes ``z``."""
    x1s, x0s = _standardise(x1, x0)
    k = x1s.size

    def w_of(v: np.ndarray) -> np.ndarray:
        sv = np.sqrt(v)
        return _simplex_qp(sv[:, None] * x0s, sv * x1s)

    def loss(raw: np.ndarray) -> float:
        a = np.abs(raw)
        s = a.sum()
        if not np.isfinite(s) or s <= 0:
            return float("inf")
        r = z1 - z0 @ w_of(a / s)
        return float(r @ r) / z1.size

    if k == 1 or not optimise_v:
        v = np.full(k, 1 / k)
        return _Fit(w_of(v), v, loss(v), 0)

    starts = [np.full(k, 1 / k)]
    # Synth's regression-based start: squared coefficients of the outcomes on the predictors
    xall = np.column_stack([np.ones(x0s.shape[1] + 1), np.column_stack([x1s, x0s]).T])
    zall = np.column_stack([z1, z0]).T
    beta, _, rank, _ = np.linalg.lstsq(xall, zall, rcond=None)
    if rank == xall.shape[1]:
        sv2 = np.sum(beta[1:] ** 2, axis=1)
        if sv2.sum() > 0:
            starts.append(sv2 / sv2.sum())
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
    return _Fit(w_of(v), v, best[0], len(starts))


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


def synthetic_control(  # noqa: C901 - predates the gate; split planned (issue 10)
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
    restarts: int = 0,
    placebo_restarts: int = 0,
    maxiter: int = 4000,
    alpha: float = 0.05,
    seed: int = 0,
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
        Columns averaged (``predictors_op``) over ``predictor_period``. When
        neither these nor ``special_predictors`` are given, the outcome in each
        fit period is used (and ``V`` is equal weights, which is then optimal).
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
        Extra random starts of the outer search (main fit, each placebo fit).
    maxiter
        Function evaluations per Nelder-Mead run.
    alpha
        Significance level of the placebo-based interval.
    seed
        Seed of the random restarts.

    Returns
    -------
    SynthResult

    Raises
    ------
    InputError
        Missing columns, unknown units, duplicated rows, no pre or post
        period, missing outcomes in the fit period or predictors that cannot
        be computed (each naming the units).
    """
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
    if not pd.api.types.is_numeric_dtype(data[time]):
        raise InputError(
            f"'{time}' must be numeric (years or wave numbers), got {data[time].dtype}.",
            column=time, fix="convert the periods to numbers, e.g. the survey year.",
        )
    units = [treated, *donor_list]
    data = data[data[unit].isin(units)]
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
    xtab = _predictor_matrix(data, unit=unit, time=time, units=units, specs=specs)

    rng = np.random.default_rng(seed)

    def run(tr: Hashable, pool: list[Hashable], nrest: int) -> tuple[_Fit, np.ndarray]:
        x = xtab[[tr, *pool]].to_numpy(dtype=float)
        z = zfit[[tr, *pool]].to_numpy(dtype=float)
        f = _fit_weights(x[:, 0], x[:, 1:], z[:, 0], z[:, 1:], restarts=nrest, maxiter=maxiter,
                         rng=rng, optimise_v=optimise_v)
        y0 = ypanel[pool].to_numpy(dtype=float)
        synth = np.where(f.w[None, :] > 0, y0, 0.0) @ f.w
        return f, ypanel[tr].to_numpy(dtype=float) - synth

    main, gap = run(treated, donor_list, restarts)
    pre_mask = times < treatment_time
    post_mask = ~pre_mask

    def rmspe(g: np.ndarray, mask: np.ndarray) -> float:
        return float(np.sqrt(np.nanmean(g[mask] ** 2)))

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
             treated, len(donor_list), weights.nlargest(3).round(3).to_dict(), rmspe(gap, pre_mask))

    placebo_p = float("nan")
    placebos = stats_tab = None
    se = lo = hi = float("nan")
    if placebo:
        gaps = {treated: gap}
        for d in donor_list:
            pool = [u for u in donor_list if u != d]
            gaps[d] = run(d, pool, placebo_restarts)[1]
        placebos = pd.DataFrame(gaps, index=pd.Index(times, name=time))
        arr = placebos.to_numpy()
        pre_r = np.sqrt(np.nanmean(arr[pre_mask] ** 2, axis=0))
        post_r = np.sqrt(np.nanmean(arr[post_mask] ** 2, axis=0))
        ratio = post_r / pre_r
        stats_tab = pd.DataFrame(
            {"rmspe_pre": pre_r, "rmspe_post": post_r, "ratio": ratio,
             "att": np.nanmean(arr[post_mask], axis=0),
             "treated": [True] + [False] * len(donor_list)},
            index=pd.Index(placebos.columns, name=unit),
        )
        placebo_p = float(np.mean(ratio >= ratio[0]))
        patt = stats_tab["att"].to_numpy()[1:]
        se = float(np.std(patt, ddof=1))
        q_lo, q_hi = np.quantile(patt, [alpha / 2, 1 - alpha / 2])
        lo, hi = att_value - q_hi, att_value - q_lo
    att = Estimate(
        estimate=att_value, se=se, ci_low=float(lo), ci_high=float(hi), p_value=placebo_p,
        n_treated=1, n_control=len(donor_list), method=_METHOD, label=str(treated),
        level=1 - alpha,
        extra={"inference": "placebo_in_space" if placebo else "none",
               "n_placebos": len(donor_list) if placebo else 0,
               "rmspe_pre": rmspe(gap, pre_mask), "n_post_periods": int(post_mask.sum())},
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
        rmspe_pre=rmspe(gap, pre_mask),
        rmspe_post=rmspe(gap, post_mask),
        mspe_fit=main.loss,
        placebo_p=placebo_p,
        placebos=placebos,
        placebo_stats=stats_tab,
        extra={"starts": main.starts, "fit_period": fit},
    )
