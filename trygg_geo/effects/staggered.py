"""Staggered adoption: the group-time ATT estimator of Callaway & Sant'Anna (2021).

Each cohort ``g`` (units first treated in period ``g``) is compared, period by
period, with never-treated or not-yet-treated units through a 2x2
difference-in-differences, ATT(g, t). Three 2x2 estimators are available, as
in the R packages ``did`` and ``DRDID``: the doubly robust estimator of
Sant'Anna & Zhao (2020) (``"dr"``, logistic propensity score plus linear
outcome regression, ``DRDID::drdid_panel``), outcome regression (``"reg"``,
``DRDID::reg_did_panel``) and stabilised inverse probability weighting
(``"ipw"``, ``DRDID::std_ipw_did_panel``). Without covariates they coincide.

Standard errors are analytic, from the influence functions (R ``did`` with
``bstrap=FALSE``); aggregations (:meth:`StaggeredResult.aggregate`) carry the
correction for the estimated aggregation weights, as ``did::aggte`` does.

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with
multiple time periods. *Journal of Econometrics* 225(2), 200-230.
Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences
estimators. *Journal of Econometrics* 219(1), 101-122.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo.effects._result import Estimate

__all__ = [
    "StaggeredAggregate",
    "StaggeredPretest",
    "StaggeredResult",
    "staggered_did",
]

log = logging.getLogger(__name__)

Control = Literal["never", "not_yet"]
EstMethod = Literal["dr", "reg", "ipw"]
Aggregation = Literal["simple", "group", "dynamic", "calendar"]

_METHOD = "callaway_santanna"
_SE_FLOOR = np.sqrt(np.finfo(float).eps) * 10  # did sets smaller SEs to NA
_PS_TRIM = 0.995  # DRDID trims control units with a propensity score above this


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StaggeredPretest:
    """Wald pre-test of parallel trends over all pre-treatment ATT(g, t).

    Attributes
    ----------
    statistic
        The Wald statistic ``W = n * att' V^-1 att``.
    p_value
        ``P(chi2(df) > W)``.
    df
        Number of pre-treatment ATT(g, t) tested.
    n_units
        Number of units behind the estimates.
    """

    statistic: float
    p_value: float
    df: int
    n_units: int

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame: statistic, p_value, df, n_units."""
        return pd.DataFrame([vars(self)])


@dataclass(frozen=True)
class StaggeredAggregate:
    """An aggregation of the ATT(g, t) (``did::aggte``).

    Attributes
    ----------
    kind
        ``"simple"``, ``"group"``, ``"dynamic"`` or ``"calendar"``.
    overall
        The overall summary effect with its standard error, CI and n.
    table
        One row per cohort (``group``), event time (``dynamic``) or period
        (``calendar``): ``egt``, ``att``, ``se``, ``ci_low``, ``ci_high``.
        Empty for ``simple``.
    """

    kind: str
    overall: Estimate
    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The per-egt table with the overall estimate appended as a row with ``egt`` NA."""
        o = self.overall
        row = pd.DataFrame(
            {"egt": [pd.NA], "att": [o.estimate], "se": [o.se], "ci_low": [o.ci_low],
             "ci_high": [o.ci_high]}
        )
        int_egt = pd.api.types.is_integer_dtype(self.table["egt"])
        dtype = "Int64" if int_egt else "Float64"
        out = pd.concat([self.table.astype({"egt": dtype}), row.astype({"egt": dtype})],
                        ignore_index=True)
        out.insert(0, "aggregation", self.kind)
        out["overall"] = [False] * len(self.table) + [True]
        return out


@dataclass(frozen=True, eq=False)
class StaggeredResult:
    """Group-time average treatment effects, ATT(g, t).

    Attributes
    ----------
    att_gt
        One row per (cohort, time): ``cohort``, ``time``, ``base_time``, ``post``,
        ``att``, ``se``, ``ci_low``, ``ci_high``, ``n_treated``, ``n_control``.
    n_units
        Units used (the influence functions have this length).
    control, est_method, anticipation, base_period, alpha
        The options used.
    excluded
        Units left out of the estimation, with a ``reason`` (e.g. treated
        already in the first period, as R ``did`` drops them).
    notes
        Anything the estimator changed in the input's reading (logged too).
    """

    att_gt: pd.DataFrame
    n_units: int
    control: str
    est_method: str
    anticipation: int
    base_period: str
    alpha: float
    excluded: pd.DataFrame
    notes: tuple[str, ...] = ()
    _inffunc: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    _unit_cohort: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    _ever_control: np.ndarray = field(default_factory=lambda: np.empty(0, bool), repr=False)
    _tlist: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def to_frame(self) -> pd.DataFrame:
        """A copy of :attr:`att_gt`."""
        return self.att_gt.copy()

    @property
    def vcov(self) -> np.ndarray:
        """Analytic covariance matrix of the ATT(g, t), in the row order of :attr:`att_gt`."""
        psi = np.nan_to_num(self._inffunc)
        return psi.T @ psi / self.n_units**2

    # ---------------------------------------------------------------- pre-test
    def pretest(self) -> StaggeredPretest:
        """Wald pre-test that all pre-treatment ATT(g, t) are zero (as R ``did``).

        Cells with a zero or missing standard error are left out, as in R.

        Raises
        ------
        InputError
            When there are no pre-treatment cells, or their covariance is singular.
        """
        tab = self.att_gt
        n = self.n_units
        pre = np.flatnonzero(
            (tab["cohort"].to_numpy() > tab["time"].to_numpy()) & tab["se"].notna().to_numpy()
        )
        if pre.size == 0:
            raise InputError(
                "there are no pre-treatment ATT(g, t) to test.",
                fix="the pre-test needs periods before the first treatment of some cohort.",
            )
        psi = self._inffunc[:, pre]
        v = psi.T @ psi / n
        att = tab["att"].to_numpy()[pre]
        if np.linalg.cond(v) > 1 / np.finfo(float).eps:
            raise InputError(
                "the covariance matrix of the pre-treatment ATT(g, t) is singular.",
                fix="check for cohorts with a single unit or constant outcomes.",
            )
        w = float(n * att @ np.linalg.solve(v, att))
        return StaggeredPretest(
            statistic=w, p_value=float(stats.chi2.sf(w, pre.size)), df=int(pre.size), n_units=n
        )

    # ---------------------------------------------------------------- aggregation
    def aggregate(
        self,
        kind: Aggregation = "simple",
        *,
        balance_e: int | None = None,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        alpha: float | None = None,
    ) -> StaggeredAggregate:
        """Aggregate the ATT(g, t) as ``did::aggte`` does, with analytic SEs.

        Parameters
        ----------
        kind
            ``"simple"`` (post-treatment cells weighted by cohort size),
            ``"group"`` (by cohort, then averaged over cohorts by size),
            ``"dynamic"`` (by event time ``e = t - g``; the overall figure is the
            mean over ``e >= 0``) or ``"calendar"`` (by period, then averaged).
        balance_e
            Dynamic only: keep the cohorts observed for at least ``balance_e``
            periods after treatment and event times up to ``balance_e``.
        min_e, max_e
            Event-time window (dynamic; ``max_e`` also limits simple and group).
        alpha
            Significance level of the CIs; default the one used in estimation.
        """
        alpha = self.alpha if alpha is None else alpha
        level = 1 - alpha
        tab = self.att_gt
        g = tab["cohort"].to_numpy(dtype=float)
        t = tab["time"].to_numpy(dtype=float)
        att = tab["att"].to_numpy(dtype=float)
        psi = self._inffunc
        n = self.n_units
        glist = np.unique(g)
        unit_g = self._unit_cohort
        pgg = np.array([np.mean(unit_g == gg) for gg in glist])
        pg = pgg[np.searchsorted(glist, g)]

        def se_of(inf: np.ndarray) -> float:
            s = float(np.sqrt(np.mean(inf**2) / n))
            return s if s > _SE_FLOOR else float("nan")

        def wif(keep: np.ndarray, pgk: np.ndarray, groups: np.ndarray) -> np.ndarray:
            ind = (unit_g[:, None] == groups[None, :]).astype(float) - pgk[None, :]
            s = pgk.sum()
            return ind / s - ind.sum(axis=1, keepdims=True) * (pgk / s**2)[None, :]

        def combine(keep: np.ndarray) -> tuple[float, np.ndarray]:
            w = pg[keep] / pg[keep].sum()
            est = float(np.sum(att[keep] * w))
            inf = psi[:, keep] @ w + wif(keep, pg[keep], g[keep]) @ att[keep]
            return est, inf

        rows: list[tuple[float, float, float]] = []
        egt: list[float] = []
        if kind == "simple":
            keep = np.flatnonzero((g <= t) & (t <= g + max_e))
            est, inf = combine(keep)
        elif kind == "group":
            infs = []
            for gg in glist:
                keep = np.flatnonzero((g == gg) & (gg <= t) & (t <= g + max_e))
                w = np.full(keep.size, 1 / keep.size) if keep.size else np.empty(0)
                inf_g = psi[:, keep] @ w
                infs.append(inf_g)
                rows.append((float(np.mean(att[keep])) if keep.size else np.nan, se_of(inf_g),
                             keep.size))
                egt.append(gg)
            att_g = np.array([r[0] for r in rows])
            est = float(np.sum(att_g * pgg) / pgg.sum())
            inf = np.column_stack(infs) @ (pgg / pgg.sum()) + wif(
                np.arange(glist.size), pgg, glist
            ) @ att_g
        elif kind == "dynamic":
            e_all = t - g
            include = np.ones(g.size, bool)
            eseq = np.unique(e_all)
            if balance_e is not None:
                tmax = t.max()
                include = (tmax - g) >= balance_e
                eseq = np.unique(e_all[include])
                eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + self._tlist[0])]
            eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
            infs = []
            for e in eseq:
                keep = np.flatnonzero((e_all == e) & include)
                est_e, inf_e = combine(keep)
                infs.append(inf_e)
                rows.append((est_e, se_of(inf_e), keep.size))
                egt.append(e)
            pos = eseq >= 0
            att_e = np.array([r[0] for r in rows])
            if not pos.any():
                raise InputError("no event time e >= 0 in the chosen window.",
                                 fix="widen min_e/max_e.")
            est = float(np.mean(att_e[pos]))
            inf = np.column_stack(infs)[:, pos].mean(axis=1)
        elif kind == "calendar":
            times = np.unique(t[t >= g.min()])
            infs = []
            for t1 in times:
                keep = np.flatnonzero((t == t1) & (g <= t))
                if keep.size == 0:
                    continue
                est_t, inf_t = combine(keep)
                infs.append(inf_t)
                rows.append((est_t, se_of(inf_t), keep.size))
                egt.append(t1)
            est = float(np.mean([r[0] for r in rows]))
            inf = np.column_stack(infs).mean(axis=1)
        else:
            raise InputError(
                f"unknown aggregation {kind!r}.",
                fix="use one of 'simple', 'group', 'dynamic', 'calendar'.",
            )

        table = pd.DataFrame(
            {
                "egt": np.asarray(egt, dtype=tab["time"].dtype),
                "att": [r[0] for r in rows],
                "se": [r[1] for r in rows],
            }
        )
        table["ci_low"], table["ci_high"] = _ci_arrays(table["att"], table["se"], level)
        table["n_cells"] = np.asarray([r[2] for r in rows], dtype="int64")
        overall = Estimate.from_normal(
            est,
            se_of(inf),
            n_treated=int(np.sum(np.isin(unit_g, glist))),
            n_control=int(self._ever_control.sum()),
            method=_METHOD,
            label=f"aggregate:{kind}",
            level=level,
            extra={
                "aggregation": kind,
                "control": self.control,
                "est_method": self.est_method,
                "n_units": n,
            },
        )
        return StaggeredAggregate(kind=kind, overall=overall, table=table)


def _ci_arrays(att: Any, se: Any, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`normal_ci` bounds (NaN where the SE is not positive and finite)."""
    att = np.asarray(att, dtype=float)
    se = np.asarray(se, dtype=float)
    z = float(stats.norm.ppf(0.5 + level / 2))
    ok = np.isfinite(att) & np.isfinite(se) & (se > 0)
    return np.where(ok, att - z * se, np.nan), np.where(ok, att + z * se, np.nan)


# --------------------------------------------------------------------------------------------
# 2x2 panel estimators (DRDID)
# --------------------------------------------------------------------------------------------
def _logit(d: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fitted probabilities and ``n * vcov`` of a logistic regression of ``d`` on ``x``."""
    n = d.size
    if x.shape[1] == 1 and np.allclose(x[:, 0], 1.0):
        p = np.full(n, d.mean())
    else:
        import statsmodels.api as sm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.GLM(d, x, family=sm.families.Binomial()).fit()
        p = np.asarray(fit.fittedvalues, dtype=float)
    wx = x * (p * (1 - p))[:, None]
    hess = np.linalg.inv(x.T @ wx) * n
    return p, hess


def _ols_controls(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS of ``dy`` on ``x`` among controls: fitted values for all and the linear rep."""
    n = d.size
    c = d == 0
    beta = np.linalg.lstsq(x[c], dy[c], rcond=None)[0]
    fitted = x @ beta
    w = (1 - d)[:, None]
    xpx_inv = np.linalg.inv((w * x).T @ x / n)
    lin = (w * (dy - fitted)[:, None] * x) @ xpx_inv
    return fitted, lin


def _reg_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD for panel data (``DRDID::reg_did_panel``)."""
    fitted, lin = _ols_controls(dy, d, x)
    w_t = d
    m_t = w_t.mean()
    att_t = w_t * dy
    att_c = w_t * fitted
    eta_t = att_t.mean() / m_t
    eta_c = att_c.mean() / m_t
    inf_t = (att_t - w_t * eta_t) / m_t
    inf_c = ((att_c - w_t * eta_c) + lin @ (w_t[:, None] * x).mean(axis=0)) / m_t
    return float(eta_t - eta_c), inf_t - inf_c


class _OverlapError(Exception):
    """A propensity score of 0.999 or more: the 2x2 cell is not estimable (as R did)."""


def _checked_logit(d: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ps, hess = _logit(d, x)
    if ps.max() >= 0.999:
        raise _OverlapError
    return ps, hess


def _ps_weights(d: np.ndarray, ps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ps = np.minimum(ps, 1 - 1e-6)
    keep = np.where(d == 1, ps < 1.01, ps < _PS_TRIM).astype(float)
    w_t = keep * d
    w_c = keep * ps * (1 - d) / (1 - ps)
    return ps, w_t, w_c


def _ipw_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Stabilised IPW DiD for panel data (``DRDID::std_ipw_did_panel``)."""
    ps, hess = _checked_logit(d, x)
    ps, w_t, w_c = _ps_weights(d, ps)
    att_t = w_t * dy
    att_c = w_c * dy
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    lin_ps = ((d - ps)[:, None] * x) @ hess
    inf_t = (att_t - w_t * eta_t) / w_t.mean()
    m2 = (w_c[:, None] * (dy - eta_c)[:, None] * x).mean(axis=0)
    inf_c = ((att_c - w_c * eta_c) + lin_ps @ m2) / w_c.mean()
    return float(eta_t - eta_c), inf_t - inf_c


def _dr_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD for panel data (``DRDID::drdid_panel``)."""
    ps, hess = _checked_logit(d, x)
    ps, w_t, w_c = _ps_weights(d, ps)
    fitted, lin_ols = _ols_controls(dy, d, x)
    resid = dy - fitted
    att_t = w_t * resid
    att_c = w_c * resid
    eta_t = att_t.mean() / w_t.mean()
    eta_c = att_c.mean() / w_c.mean()
    lin_ps = ((d - ps)[:, None] * x) @ hess
    inf_t = ((att_t - w_t * eta_t) - lin_ols @ (w_t[:, None] * x).mean(axis=0)) / w_t.mean()
    m2 = (w_c[:, None] * (resid - eta_c)[:, None] * x).mean(axis=0)
    m3 = (w_c[:, None] * x).mean(axis=0)
    inf_c = ((att_c - w_c * eta_c) + lin_ps @ m2 - lin_ols @ m3) / w_c.mean()
    return float(eta_t - eta_c), inf_t - inf_c


_ESTIMATORS = {"dr": _dr_did, "reg": _reg_did, "ipw": _ipw_did}


# --------------------------------------------------------------------------------------------
# Input checks and panel shaping
# --------------------------------------------------------------------------------------------
def _panel_arrays(
    df: pd.DataFrame,
    unit: str,
    time: str,
    outcome: str,
    cohort: str,
    covariates: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a balanced panel; return units, times, Y (n x T), cohorts (n), X (n x T x k)."""
    needed = [unit, time, outcome, cohort, *covariates]
    for col in needed:
        if col not in df.columns:
            raise MissingColumnError(col, found=df.columns)
    data = df[needed]
    for col in (unit, time):
        if data[col].isna().any():
            row = int(np.flatnonzero(data[col].isna().to_numpy())[0])
            raise InputError(f"missing value in '{col}' (row position {row}).", column=col,
                             fix=f"every row needs a {col}.")
    for col in (outcome, *covariates):
        bad = ~np.isfinite(pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float))
        if bad.any():
            units = data.loc[bad, unit].unique()[:10].tolist()
            raise InputError(
                f"{int(bad.sum())} rows have a missing or non-numeric '{col}' "
                f"(units {units}).",
                column=col,
                fix="fill or remove these unit-periods (the estimator needs a balanced panel).",
            )
    dup = data.duplicated([unit, time])
    if dup.any():
        units = data.loc[dup, unit].unique()[:10].tolist()
        raise InputError(
            f"{int(dup.sum())} duplicated ({unit}, {time}) rows (units {units}).",
            fix="keep one row per unit and period.",
        )
    if not pd.api.types.is_numeric_dtype(data[time]):
        raise InputError(
            f"'{time}' must be numeric (years or wave numbers), got {data[time].dtype}.",
            column=time, fix="convert the periods to numbers, e.g. the survey year.",
        )
    times = np.sort(data[time].unique())
    counts = data.groupby(unit, sort=True, observed=True)[time].size()
    short = counts[counts != times.size]
    if len(short):
        raise InputError(
            f"the panel is unbalanced: {len(short)} units are not observed in all "
            f"{times.size} periods ({unit} {short.index[:10].tolist()}"
            f"{' ...' if len(short) > 10 else ''}).",
            column=unit,
            fix="give every unit a row in every period, or drop the incomplete units yourself.",
        )
    coh = pd.to_numeric(data[cohort], errors="coerce")
    if (coh.isna() & data[cohort].notna()).any():
        raise InputError(f"'{cohort}' must be numeric (a period, or 0/NA for never treated).",
                         column=cohort, fix="write the first treated period as a number.")
    data = data.assign(**{cohort: coh.fillna(0).astype(float)}).sort_values(
        [unit, time], kind="stable"
    )
    varying = data.groupby(unit, sort=True, observed=True)[cohort].nunique()
    if (varying > 1).any():
        raise InputError(
            f"'{cohort}' varies within units {varying[varying > 1].index[:10].tolist()}.",
            column=cohort,
            fix="give each unit one first-treatment period in every row.",
        )
    n, tn = len(counts), times.size
    units = data[unit].to_numpy()[::tn]
    y = data[outcome].to_numpy(dtype=float).reshape(n, tn)
    g = data[cohort].to_numpy(dtype=float).reshape(n, tn)[:, 0]
    x = data[list(covariates)].to_numpy(dtype=float).reshape(n, tn, len(covariates))
    return units, times, y, g, x


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------
def staggered_did(  # noqa: C901 - predates the gate; split planned (issue 10)
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    cohort: str,
    control: Control = "never",
    covariates: Sequence[str] | None = None,
    est_method: EstMethod = "dr",
    anticipation: int = 0,
    base_period: Literal["varying", "universal"] = "varying",
    alpha: float = 0.05,
) -> StaggeredResult:
    """Group-time average treatment effects under staggered adoption.

    Parameters
    ----------
    df
        A balanced long panel: one row per unit and period.
    unit, time, outcome
        Column names. ``time`` is numeric (years, waves).
    cohort
        Column with the first treated period of each unit (constant within
        a unit); 0 or NA means never treated.
    control
        ``"never"`` (never-treated units) or ``"not_yet"`` (never treated plus
        units not yet treated at the later of the two periods compared).
    covariates
        Numeric columns for conditional parallel trends, taken in the earlier
        of the two periods of each 2x2 comparison (as R ``did``).
    est_method
        ``"dr"`` (doubly robust, default), ``"reg"`` or ``"ipw"``.
    anticipation
        Number of periods before ``cohort`` in which units may already react.
    base_period
        ``"varying"`` (pre-period cells compare consecutive periods) or
        ``"universal"`` (everything against period ``g - anticipation - 1``).
    alpha
        Significance level of the pointwise confidence intervals.

    Returns
    -------
    StaggeredResult

    Raises
    ------
    InputError
        Missing columns or values, duplicated or unbalanced panels (naming the
        units), or no usable control group.
    """
    if control not in ("never", "not_yet"):
        raise InputError(f"unknown control {control!r}.", fix="use 'never' or 'not_yet'.")
    if est_method not in _ESTIMATORS:
        raise InputError(f"unknown est_method {est_method!r}.", fix="use 'dr', 'reg' or 'ipw'.")
    if base_period not in ("varying", "universal"):
        raise InputError(f"unknown base_period {base_period!r}.",
                         fix="use 'varying' or 'universal'.")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must lie in (0, 1), got {alpha}.", fix="e.g. alpha=0.05.")
    covariates = list(covariates or [])
    units, tlist, y, gvec, xall = _panel_arrays(df, unit, time, outcome, cohort, covariates)
    notes: list[str] = []

    # units treated in the first period cannot be evaluated (R did drops them too)
    early = (gvec > 0) & (gvec <= tlist[0] + anticipation)
    excluded = pd.DataFrame(
        {unit: units[early], "cohort": gvec[early],
         "reason": "treated_in_first_period"}
    )
    if early.any():
        msg = (f"{int(early.sum())} units treated in or before the first period "
               f"({tlist[0]}) are left out (see .excluded)")
        log.warning(msg)
        notes.append(msg)
    keep = ~early
    units, y, gvec, xall = units[keep], y[keep], gvec[keep], xall[keep]
    late = gvec > tlist[-1] + anticipation
    if late.any():
        msg = (f"{int(late.sum())} units first treated after the last period are "
               "used as never treated")
        log.info(msg)
        notes.append(msg)
        gvec = np.where(late, 0.0, gvec)
    if not (gvec == 0).any():
        if control == "never":
            raise InputError(
                "there are no never-treated units.",
                column=cohort,
                fix="use control='not_yet', or add never-treated units (cohort 0 or NA).",
            )
        gmax = gvec.max()
        tkeep = tlist < gmax - anticipation
        msg = (f"no never-treated units: periods from {gmax - anticipation} on are dropped "
               f"and cohort {gmax} serves as the never-treated group (as R did)")
        log.warning(msg)
        notes.append(msg)
        tlist, y, xall = tlist[tkeep], y[:, tkeep], xall[:, tkeep]
        gvec = np.where(gvec == gmax, 0.0, gvec)
    glist = np.unique(gvec[gvec > 0])
    if glist.size == 0:
        raise InputError("no treated cohort.", column=cohort,
                         fix="give treated units their first treated period.")
    n, tn = y.shape
    estimator = _ESTIMATORS[est_method]
    records: list[dict[str, object]] = []
    inf_cols: list[np.ndarray] = []
    ever_control = np.zeros(n, bool)
    tstart = 1 if base_period == "varying" else 0
    for g in glist:
        is_g = gvec == g
        pre_idx = np.flatnonzero(tlist + anticipation < g)
        for c in range(tstart, tn):
            post = bool(g <= tlist[c])
            if post or base_period == "universal":
                if pre_idx.size == 0:
                    msg = f"cohort {g} has no pre-treatment period; it is left out"
                    log.warning(msg)
                    notes.append(msg)
                    break
                b = int(pre_idx[-1])
            else:
                b = c - 1
            rec: dict[str, object] = {"cohort": g, "time": tlist[c], "base_time": tlist[b],
                                      "post": post}
            if b == c:  # universal base period itself: normalised to zero
                records.append({**rec, "att": 0.0, "n_treated": int(is_g.sum()),
                                "n_control": 0})
                inf_cols.append(np.zeros(n))
                continue
            if control == "never":
                is_c = gvec == 0
            else:
                later = tlist[max(c, b)] + anticipation
                is_c = (gvec == 0) | ((gvec > later) & ~is_g)
            sub = is_g | is_c
            n1 = int(sub.sum())
            d = is_g[sub].astype(float)
            dy = y[sub, c] - y[sub, b]
            x = np.column_stack([np.ones(n1), xall[sub, min(b, c), :]])
            inf = np.zeros(n)
            att = float("nan")
            msg = ""
            if is_c.sum() == 0 or np.linalg.matrix_rank(x[d == 0]) < x.shape[1]:
                msg = f"not enough control units for cohort {g} in period {tlist[c]}"
            else:
                try:
                    att, inf_sub = estimator(dy, d, x)
                    inf[sub] = inf_sub * (n / n1)
                    ever_control |= is_c
                except _OverlapError:
                    msg = f"overlap violated (propensity >= 0.999) for cohort {g} in {tlist[c]}"
            if msg:
                log.warning("%s: ATT(g,t) left NA", msg)
                notes.append(msg)
                inf[:] = np.nan
            records.append({**rec, "att": att, "n_treated": int(is_g.sum()),
                            "n_control": int(is_c.sum())})
            inf_cols.append(inf)

    table = pd.DataFrame.from_records(records)
    psi = np.column_stack(inf_cols)
    se = np.sqrt(np.mean(psi**2, axis=0) / n)
    se = np.where(se > _SE_FLOOR, se, np.nan)
    table["se"] = se
    table["ci_low"], table["ci_high"] = _ci_arrays(table["att"], se, 1 - alpha)
    int_like = np.all(np.mod(tlist, 1) == 0) and np.all(np.mod(glist, 1) == 0)
    if int_like:
        for col in ("cohort", "time", "base_time"):
            table[col] = table[col].astype("int64")
    table = table[["cohort", "time", "base_time", "post", "att", "se", "ci_low", "ci_high",
                   "n_treated", "n_control"]]
    log.info("ATT(g,t): %d cells, %d units, control=%s, est_method=%s",
             len(table), n, control, est_method)
    return StaggeredResult(
        att_gt=table,
        n_units=n,
        control=control,
        est_method=est_method,
        anticipation=anticipation,
        base_period=base_period,
        alpha=alpha,
        excluded=excluded,
        notes=tuple(notes),
        _inffunc=psi,
        _unit_cohort=gvec,
        _ever_control=ever_control,
        _tlist=tlist,
    )
