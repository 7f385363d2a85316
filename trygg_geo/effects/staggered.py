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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo._stats import resolve_level, z_crit, z_power
from trygg_geo.effects._result import Estimate
from trygg_geo.effects.variance import Tau2Result

__all__ = [
    "StaggeredAggregate",
    "StaggeredPretest",
    "StaggeredResult",
    "SurveyAttGt",
    "SurveyPretest",
    "staggered_did",
    "survey_att_gt",
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
    control, est_method, anticipation, base_period, level
        The options used (``level``: confidence level of the pointwise intervals).
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
    level: float
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
    def alpha(self) -> float:
        """Deprecated: ``1 - level``. Use :attr:`level`."""
        warnings.warn(
            "StaggeredResult.alpha is deprecated; use .level (alpha = 1 - level).",
            DeprecationWarning,
            stacklevel=2,
        )
        return 1 - self.level

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
        level: float | None = None,
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
        level
            Confidence level of the CIs; default the one used in estimation.
        alpha
            Deprecated: ``1 - level``. Passing it warns; passing it with ``level`` is an error.
        """
        level = resolve_level(level, alpha, where="StaggeredResult.aggregate", default=self.level)
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
    z = z_crit(level)
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


def _check_options(
    control: str, est_method: str, base_period: str, level: float | None, alpha: float | None
) -> float:
    """Refuse unknown options; return the confidence level (``alpha`` is the old spelling)."""
    if control not in ("never", "not_yet"):
        raise InputError(f"unknown control {control!r}.", fix="use 'never' or 'not_yet'.")
    if est_method not in _ESTIMATORS:
        raise InputError(f"unknown est_method {est_method!r}.", fix="use 'dr', 'reg' or 'ipw'.")
    if base_period not in ("varying", "universal"):
        raise InputError(f"unknown base_period {base_period!r}.",
                         fix="use 'varying' or 'universal'.")
    try:
        return resolve_level(level, alpha, where="staggered_did")
    except ValueError as err:
        raise InputError(str(err), fix="e.g. level=0.95 for 95% intervals.") from err


@dataclass
class _Sample:
    """The panel as estimated: periods, outcomes (n x T), cohorts (n), covariates (n x T x k)."""

    tlist: np.ndarray
    y: np.ndarray
    gvec: np.ndarray
    xall: np.ndarray
    excluded: pd.DataFrame
    notes: list[str]


def _note(notes: list[str], level: int, msg: str) -> None:
    """Log ``msg`` and keep it for :attr:`StaggeredResult.notes`."""
    log.log(level, msg)
    notes.append(msg)


def _sample(
    units: np.ndarray,
    tlist: np.ndarray,
    y: np.ndarray,
    gvec: np.ndarray,
    xall: np.ndarray,
    *,
    unit: str,
    cohort: str,
    control: str,
    anticipation: int,
) -> _Sample:
    """The estimation sample, as R ``did`` forms it.

    Units treated from the first period on are left out (listed in ``excluded``), units
    first treated after the last period count as never treated, and without never-treated
    units the last cohort serves as the controls (its periods from treatment on dropped).
    """
    notes: list[str] = []
    early = (gvec > 0) & (gvec <= tlist[0] + anticipation)
    excluded = pd.DataFrame(
        {unit: units[early], "cohort": gvec[early],
         "reason": "treated_in_first_period"}
    )
    if early.any():
        _note(notes, logging.WARNING,
              f"{int(early.sum())} units treated in or before the first period "
              f"({tlist[0]}) are left out (see .excluded)")
    keep = ~early
    y, gvec, xall = y[keep], gvec[keep], xall[keep]
    late = gvec > tlist[-1] + anticipation
    if late.any():
        _note(notes, logging.INFO,
              f"{int(late.sum())} units first treated after the last period are "
              "used as never treated")
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
        _note(notes, logging.WARNING,
              f"no never-treated units: periods from {gmax - anticipation} on are dropped "
              f"and cohort {gmax} serves as the never-treated group (as R did)")
        tlist, y, xall = tlist[tkeep], y[:, tkeep], xall[:, tkeep]
        gvec = np.where(gvec == gmax, 0.0, gvec)
    return _Sample(tlist=tlist, y=y, gvec=gvec, xall=xall, excluded=excluded, notes=notes)


# --------------------------------------------------------------------------------------------
# The ATT(g, t) cells
# --------------------------------------------------------------------------------------------
@dataclass
class _Cells:
    """The ATT(g, t) loop: the sample and options it reads, and the cells it has estimated."""

    s: _Sample
    control: str
    anticipation: int
    base_period: str
    estimator: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray]]
    records: list[dict[str, object]] = field(default_factory=list)
    inf_cols: list[np.ndarray] = field(default_factory=list)
    ever_control: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.ever_control = np.zeros(self.s.y.shape[0], bool)

    def cohort(self, g: float) -> None:
        """All cells of cohort ``g``, in period order."""
        tlist = self.s.tlist
        is_g = self.s.gvec == g
        pre_idx = np.flatnonzero(tlist + self.anticipation < g)
        tstart = 1 if self.base_period == "varying" else 0
        for c in range(tstart, tlist.size):
            post = bool(g <= tlist[c])
            if post or self.base_period == "universal":
                if pre_idx.size == 0:
                    _note(self.s.notes, logging.WARNING,
                          f"cohort {g} has no pre-treatment period; it is left out")
                    break
                b = int(pre_idx[-1])
            else:
                b = c - 1
            rec: dict[str, object] = {"cohort": g, "time": tlist[c], "base_time": tlist[b],
                                      "post": post}
            if b == c:  # universal base period itself: normalised to zero
                self.records.append({**rec, "att": 0.0, "n_treated": int(is_g.sum()),
                                     "n_control": 0})
                self.inf_cols.append(np.zeros(self.s.y.shape[0]))
                continue
            self.cell(rec, g, is_g, c, b)

    def cell(self, rec: dict[str, object], g: float, is_g: np.ndarray, c: int, b: int) -> None:
        """One 2x2 comparison: cohort ``g`` against its controls, period ``c`` against ``b``."""
        tlist, y, gvec = self.s.tlist, self.s.y, self.s.gvec
        n = y.shape[0]
        if self.control == "never":
            is_c = gvec == 0
        else:
            later = tlist[max(c, b)] + self.anticipation
            is_c = (gvec == 0) | ((gvec > later) & ~is_g)
        sub = is_g | is_c
        n1 = int(sub.sum())
        d = is_g[sub].astype(float)
        dy = y[sub, c] - y[sub, b]
        x = np.column_stack([np.ones(n1), self.s.xall[sub, min(b, c), :]])
        inf = np.zeros(n)
        att = float("nan")
        msg = ""
        if is_c.sum() == 0 or np.linalg.matrix_rank(x[d == 0]) < x.shape[1]:
            msg = f"not enough control units for cohort {g} in period {tlist[c]}"
        else:
            try:
                att, inf_sub = self.estimator(dy, d, x)
                inf[sub] = inf_sub * (n / n1)
                self.ever_control |= is_c
            except _OverlapError:
                msg = f"overlap violated (propensity >= 0.999) for cohort {g} in {tlist[c]}"
        if msg:
            log.warning("%s: ATT(g,t) left NA", msg)
            self.s.notes.append(msg)
            inf[:] = np.nan
        self.records.append({**rec, "att": att, "n_treated": int(is_g.sum()),
                             "n_control": int(is_c.sum())})
        self.inf_cols.append(inf)


def _att_table(
    cells: _Cells, glist: np.ndarray, level: float
) -> tuple[pd.DataFrame, np.ndarray]:
    """The ATT(g, t) table with SEs and CIs, and the influence functions (n x cells)."""
    n = cells.s.y.shape[0]
    tlist = cells.s.tlist
    table = pd.DataFrame.from_records(cells.records)
    psi = np.column_stack(cells.inf_cols)
    se = np.sqrt(np.mean(psi**2, axis=0) / n)
    se = np.where(se > _SE_FLOOR, se, np.nan)
    table["se"] = se
    table["ci_low"], table["ci_high"] = _ci_arrays(table["att"], se, level)
    int_like = np.all(np.mod(tlist, 1) == 0) and np.all(np.mod(glist, 1) == 0)
    if int_like:
        for col in ("cohort", "time", "base_time"):
            table[col] = table[col].astype("int64")
    table = table[["cohort", "time", "base_time", "post", "att", "se", "ci_low", "ci_high",
                   "n_treated", "n_control"]]
    return table, psi


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------
def staggered_did(
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
    level: float | None = None,
    alpha: float | None = None,
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
    level
        Confidence level of the pointwise confidence intervals; default 0.95.
    alpha
        Deprecated: ``1 - level``. Passing it warns; passing it with ``level`` is an error.

    Returns
    -------
    StaggeredResult

    Raises
    ------
    InputError
        Missing columns or values, duplicated or unbalanced panels (naming the
        units), or no usable control group; a ``level`` outside (0, 1).
    TypeError
        When both ``level`` and the deprecated ``alpha`` are given.
    """
    level = _check_options(control, est_method, base_period, level, alpha)
    covariates = list(covariates or [])
    units, tlist, y, gvec, xall = _panel_arrays(df, unit, time, outcome, cohort, covariates)
    s = _sample(units, tlist, y, gvec, xall, unit=unit, cohort=cohort, control=control,
                anticipation=anticipation)
    glist = np.unique(s.gvec[s.gvec > 0])
    if glist.size == 0:
        raise InputError("no treated cohort.", column=cohort,
                         fix="give treated units their first treated period.")
    cells = _Cells(s, control=control, anticipation=anticipation, base_period=base_period,
                   estimator=_ESTIMATORS[est_method])
    for g in glist:
        cells.cohort(g)
    table, psi = _att_table(cells, glist, level)
    n = s.y.shape[0]
    log.info("ATT(g,t): %d cells, %d units, control=%s, est_method=%s",
             len(table), n, control, est_method)
    return StaggeredResult(
        att_gt=table,
        n_units=n,
        control=control,
        est_method=est_method,
        anticipation=anticipation,
        base_period=base_period,
        level=level,
        excluded=s.excluded,
        notes=tuple(s.notes),
        _inffunc=psi,
        _unit_cohort=s.gvec,
        _ever_control=cells.ever_control,
        _tlist=s.tlist,
    )


# --------------------------------------------------------------------------------------------
# Survey panels: ATT(g, t) as fixed contrasts of area x wave cells, with honest variance
# --------------------------------------------------------------------------------------------
#: A treated area's measurement window: (last wave before its work started, first wave after
#: it was completed). The area is untreated up to ``pre`` and treated from ``cohort`` on.
Window = tuple[int, int]


@dataclass(frozen=True)
class SurveyPretest:
    """Joint Wald test that all pre-treatment ATT(g, t) of a survey panel are zero.

    Attributes
    ----------
    statistic
        ``W = att' V^+ att`` with the honest covariance ``V`` (sampling plus ``tau2``).
    p_value
        ``P(chi2(df) > W)``, or ``P(F(df, df_denominator) > W / df)`` when the variance
        has finite degrees of freedom (``tau2`` estimated).
    df
        Number of independent pre-treatment cells tested (the rank of ``V``).
    df_denominator
        Degrees of freedom of the variance (``inf``: known, chi-squared test).
    n_cells
        Pre-treatment ATT(g, t) cells.
    """

    statistic: float
    p_value: float
    df: int
    df_denominator: float
    n_cells: int

    @property
    def test(self) -> str:
        """``"chi2"`` or ``"F"``."""
        return "chi2" if np.isinf(self.df_denominator) else "F"


@dataclass(frozen=True, eq=False)
class SurveyAttGt:
    """Callaway–Sant'Anna ATT(g, t) on a survey panel, each a fixed contrast of survey cells.

    Without covariates every ATT(g, t) is a difference of mean changes, so it is
    ``weights[k] @ share`` over the area x wave cells. Respondents in different cells are
    different people and the area x wave shocks are independent, so the covariance of the
    ATT(g, t) is exactly ``weights @ diag(var + tau2) @ weights.T`` (:meth:`vcov`): the
    cells' sampling variance plus the between-area variance ``tau2``. Every aggregation
    (:meth:`estimate`) is another fixed contrast, so its variance follows the same way; the
    treated areas are fixed by the design, so the aggregation weights carry no variance.

    Attributes
    ----------
    att_gt
        One row per estimable cell: ``pre_wave``, ``cohort``, ``time``, ``event_time``
        (waves after completion, 0 = the first wave after it; before the work: -2 = one wave
        before the reference wave ``pre_wave``, which is -1), ``post``, ``att``,
        ``n_treated``, ``n_control``.
    cells
        The survey cells, in the column order of :attr:`weights`: ``area_id``, ``wave``,
        ``share``, ``var`` (sampling variance), ``n``.
    weights
        ``(len(att_gt), len(cells))`` contrast weights.
    waves
        The study waves, ascending.
    dropped
        Treated areas left out, with the reason.
    """

    att_gt: pd.DataFrame
    cells: pd.DataFrame
    weights: np.ndarray
    waves: tuple[int, ...]
    dropped: pd.DataFrame

    def vcov(self, tau2: float | Tau2Result = 0.0) -> np.ndarray:
        """Covariance of the ATT(g, t): sampling variance plus ``tau2`` in every cell."""
        v = self.cells["var"].to_numpy(dtype=float) + _tau2_parts(tau2, None)[0]
        return (self.weights * v) @ self.weights.T

    def simple(self) -> np.ndarray:
        """Weights over :attr:`att_gt` of the overall effect: post cells by treated areas.

        As ``did::aggte(type = "simple")``: every post-treatment ATT(g, t), weighted by the
        number of treated areas behind it.
        """
        post = self.att_gt["post"].to_numpy(dtype=bool)
        n = np.where(post, self.att_gt["n_treated"].to_numpy(dtype=float), 0.0)
        return n / n.sum() if n.sum() > 0 else n

    def dynamic(self) -> dict[int, np.ndarray]:
        """Weights over :attr:`att_gt` per event time, by treated areas (``type="dynamic"``)."""
        e = self.att_gt["event_time"].to_numpy()
        n = self.att_gt["n_treated"].to_numpy(dtype=float)
        out = {}
        for et in np.unique(e):
            w = np.where(e == et, n, 0.0)
            out[int(et)] = w / w.sum()
        return out

    def cell_weights(self, c: np.ndarray) -> pd.Series:
        """The weight of every survey cell in the contrast ``c @ att``, by (area_id, wave)."""
        w = np.asarray(c, dtype=float) @ self.weights
        idx = pd.MultiIndex.from_frame(self.cells[["area_id", "wave"]])
        s = pd.Series(w, index=idx)
        return s[np.abs(s) > 1e-12]

    def estimate(
        self,
        c: np.ndarray,
        *,
        tau2: float | Tau2Result = 0.0,
        tau2_df: float | None = None,
        level: float = 0.95,
        power: float = 0.80,
        label: str = "",
    ) -> Estimate:
        """The contrast ``c @ att`` with its honest SE, CI, p-value and MDE.

        Parameters
        ----------
        c
            Weights over the rows of :attr:`att_gt` (e.g. :meth:`simple`).
        tau2
            Between-area x wave variance added to every cell (share² units): a number, or
            the :class:`~trygg_geo.effects.variance.Tau2Result` it was estimated as (its
            ``se`` then gives the degrees of freedom).
        tau2_df
            With a plain number ``tau2``: the degrees of freedom of its estimate,
            ``2 * tau2**2 / var(tau2_hat)``. The interval and p-value use a t distribution
            with Satterthwaite's degrees of freedom, ``2 * V**2 / (sum(w**2)**2 *
            var(tau2_hat))`` for ``V = sum(w**2 * (var + tau2))`` (as
            :func:`~trygg_geo.effects.variance.satterthwaite_df`, floored at 1); a known
            ``tau2`` (no ``se``, no ``tau2_df``) gives the normal.
        level, power
            Confidence level; power of the minimum detectable effect.
        label
            What is estimated.

        Returns
        -------
        Estimate
            ``method="callaway_santanna"``; ``extra`` holds ``df`` (``inf`` = normal),
            ``tau2``, ``n_respondents`` and ``n_cells``.
        """
        tau2, tau2_var = _tau2_parts(tau2, tau2_df)
        share, var, n, treated_ids, control_ids = self._arrays
        c = np.asarray(c, dtype=float)
        cw = c @ self.weights
        used = np.abs(cw) > 1e-12
        var_s = float(np.sum(cw**2 * var))
        var_t = float(tau2 * np.sum(cw**2))
        df = _satterthwaite(var_s + var_t, float(np.sum(cw**2)), tau2_var)
        est = float(cw @ share)
        se = float(np.sqrt(var_s + var_t))
        lo, hi, p, crit = _t_interval(est, se, df, level)
        mde = (crit + z_power(power)) * se  # as every MDE in the package
        rows = np.flatnonzero(c != 0)
        n_t = len(set().union(*(treated_ids[i] for i in rows)))
        n_c = len(set().union(*(control_ids[i] for i in rows)))
        n_used = n[used]
        return Estimate(
            estimate=est, se=se, ci_low=lo, ci_high=hi, p_value=p, n_treated=n_t,
            n_control=n_c, method=_METHOD, label=label, level=level, mde=float(mde),
            extra={"df": df, "tau2": tau2, "n_cells": int(used.sum()),
                   "n_respondents": float(n_used.sum()) if np.isfinite(n_used).all()
                   else float("nan"),
                   "n_att_gt": int(rows.size),
                   "cohorts": sorted({int(g) for g in self.att_gt["cohort"].to_numpy()[rows]})},
        )

    @cached_property
    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[set[str]],
                               list[set[str]]]:
        """Share, variance and n of the cells; treated and control ids of each ATT(g, t)."""
        def split(col: str) -> list[set[str]]:
            return [set(x.split(",")) - {""} for x in self.att_gt[col]]

        return (self.cells["share"].to_numpy(dtype=float),
                self.cells["var"].to_numpy(dtype=float),
                self.cells["n"].to_numpy(dtype=float),
                split("treated_ids"), split("control_ids"))

    def table(self, *, tau2: float | Tau2Result = 0.0, tau2_df: float | None = None,
              level: float = 0.95) -> pd.DataFrame:
        """:attr:`att_gt` with the honest ``se``, ``df`` (inf = normal), CI and p-value."""
        tau2, tau2_var = _tau2_parts(tau2, tau2_df)
        _, var, _, _, _ = self._arrays
        w2 = self.weights**2
        var_s, s_sum = w2 @ var, w2.sum(axis=1)
        out = self.att_gt.drop(columns=["treated_ids", "control_ids"])
        out["se"] = np.sqrt(var_s + tau2 * s_sum)
        out["df"] = [_satterthwaite(a + tau2 * b, b, tau2_var) for a, b in zip(var_s, s_sum,
                                                                                strict=True)]
        ci = [_t_interval(e, s, d, level) for e, s, d in zip(out["att"], out["se"], out["df"],
                                                             strict=True)]
        out["ci_low"] = [x[0] for x in ci]
        out["ci_high"] = [x[1] for x in ci]
        out["p_value"] = [x[2] for x in ci]
        return out

    def pretest(self, *, tau2: float | Tau2Result = 0.0,
                tau2_df: float | None = None) -> SurveyPretest:
        """Joint Wald test that every pre-treatment ATT(g, t) is zero, with honest variance.

        ``tau2`` and ``tau2_df`` as in :meth:`estimate`. With an estimated ``tau2`` the test
        is ``F(rank, df)``, ``df`` from Satterthwaite's formula on the trace of the
        covariance (few control areas make ``tau2`` uncertain, and a chi-squared test on an
        estimated covariance rejects too often); with a known one, chi-squared.

        Raises
        ------
        InputError
            When there is no pre-treatment cell (every cohort's reference wave is the first).
        """
        tau2, tau2_var = _tau2_parts(tau2, tau2_df)
        pre = ~self.att_gt["post"].to_numpy(dtype=bool)
        if not pre.any():
            raise InputError(
                "there are no pre-treatment ATT(g, t) to test.",
                fix="the test needs a survey wave before the reference wave of some cohort.",
            )
        w = self.weights[pre]
        v_s = (w * self.cells["var"].to_numpy(dtype=float)) @ w.T
        v = v_s + tau2 * (w @ w.T)
        att = self.att_gt["att"].to_numpy(dtype=float)[pre]
        scale = float(np.max(np.diag(v))) if v.size else 0.0
        if not scale > 0:
            raise InputError("the pre-treatment ATT(g, t) have no variance.",
                             fix="give the survey cells a standard error (se or n).")
        rank = int(np.linalg.matrix_rank(v / scale, tol=1e-10))
        stat = float(att @ np.linalg.pinv(v, rcond=1e-10, hermitian=True) @ att)
        df2 = _satterthwaite(float(np.trace(v)), float(np.sum(w**2)), tau2_var)
        if np.isfinite(df2):
            p = float(stats.f.sf(stat / rank, rank, df2))
        else:
            p = float(stats.chi2.sf(stat, rank))
        return SurveyPretest(statistic=stat, p_value=p, df=rank, df_denominator=df2,
                             n_cells=int(pre.sum()))


def _tau2_parts(tau2: float | Tau2Result, tau2_df: float | None) -> tuple[float, float]:
    """``(tau2, variance of its estimate)``; 0 variance = known."""
    if isinstance(tau2, Tau2Result):
        if tau2_df is not None:
            raise InputError("tau2_df is given with a Tau2Result, which has its own se.",
                             fix="pass either the Tau2Result, or tau2.value with tau2_df.")
        return float(tau2.value), (tau2.var if np.isfinite(tau2.se) else 0.0)
    t = float(tau2)
    if not (np.isfinite(t) and t >= 0):
        raise InputError(f"tau2 must be a finite number >= 0 (share² units), got {tau2!r}.",
                         fix="pass the between-area variance, e.g. 0.02**2 for 2 pp.")
    if tau2_df is None:
        return t, 0.0
    if not tau2_df > 0:
        raise InputError(f"tau2_df must be positive, got {tau2_df!r}.")
    return t, 2 * t**2 / float(tau2_df)


def _satterthwaite(var: float, weight_sq: float, tau2_var: float) -> float:
    """Satterthwaite df of ``var = sampling + weight_sq * tau2`` with ``tau2`` estimated."""
    if not (tau2_var > 0 and weight_sq > 0):
        return float("inf")
    return max(1.0, 2 * var**2 / (weight_sq**2 * tau2_var))


def _t_interval(est: float, se: float, df: float,
                level: float) -> tuple[float, float, float, float]:
    """``(ci_low, ci_high, p_value, critical value)`` from a t (or, df inf, normal) reference."""
    crit = float(stats.t.ppf(0.5 + level / 2, df)) if np.isfinite(df) else z_crit(level)
    if not (np.isfinite(est) and np.isfinite(se) and se > 0):
        return float("nan"), float("nan"), float("nan"), crit
    tail = stats.t.sf(abs(est / se), df) if np.isfinite(df) else stats.norm.sf(abs(est / se))
    return est - crit * se, est + crit * se, float(2 * tail), crit


def _survey_cells(panel: pd.DataFrame, indicator: str | None) -> pd.DataFrame:
    """``area_id, wave, share, var, n`` of the usable cells (a share and a variance)."""
    if indicator is not None and "indicator" in panel.columns:
        panel = panel[panel["indicator"].astype(str) == indicator]
        if panel.empty:
            raise InputError(f"the survey panel has no rows for the indicator '{indicator}'.",
                             fix="check [survey] indicator in projekt.toml.")
    for col in ("area_id", "wave", "share"):
        if col not in panel.columns:
            raise MissingColumnError(col, found=panel.columns)
    if "se" not in panel.columns and "n" not in panel.columns:
        raise InputError("the survey panel has neither 'se' nor 'n' for the sampling variance.",
                         fix="build it with trygg_geo.survey.survey_panel.")
    share = pd.to_numeric(panel["share"], errors="coerce").to_numpy(dtype=float)
    n = (pd.to_numeric(panel["n"], errors="coerce").to_numpy(dtype=float)
         if "n" in panel.columns else np.full(len(panel), np.nan))
    se = (pd.to_numeric(panel["se"], errors="coerce").to_numpy(dtype=float)
          if "se" in panel.columns else np.full(len(panel), np.nan))
    var = np.where(np.isfinite(se), se**2, share * (1 - share) / np.where(n > 0, n, np.nan))
    out = pd.DataFrame({"area_id": panel["area_id"].astype(str).to_numpy(),
                        "wave": panel["wave"].astype(int).to_numpy(), "share": share,
                        "var": var, "n": n})
    if out.duplicated(["area_id", "wave"]).any():
        raise InputError("the survey panel has several rows per area and wave.",
                         fix="select one indicator, or aggregate respondents first.")
    ok = np.isfinite(share) & np.isfinite(var)
    return out[ok].sort_values(["area_id", "wave"], kind="stable").reset_index(drop=True)


def _check_windows(windows: Mapping[str, Window], waves: list[int]) -> tuple[
        dict[str, Window], list[dict[str, object]]]:
    good: dict[str, Window] = {}
    bad: list[dict[str, object]] = []
    for area, (pre, cohort) in windows.items():
        pre, cohort = int(pre), int(cohort)
        if pre in waves and cohort in waves and pre < cohort:
            good[str(area)] = (pre, cohort)
        else:
            bad.append({"area_id": str(area), "reason":
                        f"window {pre}-{cohort} is not two survey waves in order"})
    return good, bad


def survey_att_gt(
    panel: pd.DataFrame,
    *,
    treated: Mapping[str, Window],
    controls: Sequence[str],
    waves: Sequence[int],
    not_yet: Mapping[str, Window] | None = None,
    indicator: str | None = None,
) -> SurveyAttGt:
    """Callaway–Sant'Anna ATT(g, t) on survey shares, with not-yet-treated controls.

    Treated areas with the same measurement window form a cohort ``g``. Each ATT(g, t) is
    the cohort's mean change in share from its reference wave (``pre``, the last wave
    before the work started) to wave ``t``, minus the same change in the areas untreated
    at both waves: the never-treated ``controls`` and the areas (in ``treated`` or
    ``not_yet``) whose work had not started by then. The reference wave is the same for
    every ``t`` of a cohort (R ``did``'s ``base_period = "universal"``); waves during the
    work (after ``pre``, before the cohort) are left out.

    Parameters
    ----------
    panel
        Survey panel: ``area_id, wave, share`` and ``se`` (or ``n``: binomial variance),
        and ``indicator`` when ``indicator`` is given. Missing cells leave the area out of
        the comparisons that need them.
    treated
        Area id -> ``(pre_wave, cohort)``: the areas whose effect is estimated.
    controls
        Never-treated area ids.
    waves
        The study waves.
    not_yet
        Other areas treated at some point (another kind, say) -> their window: controls
        up to their ``pre_wave``, never treated units of an estimate.
    indicator
        Select this indicator from the panel.

    Returns
    -------
    SurveyAttGt

    Examples
    --------
    >>> panel = pd.DataFrame({
    ...     "area_id": list("aaabbbccc"), "wave": [2015, 2018, 2021] * 3,
    ...     "share": [.30, .30, .22, .25, .26, .27, .20, .22, .14], "se": [.02] * 9})
    >>> res = survey_att_gt(panel, treated={"a": (2018, 2021), "c": (2015, 2018)},
    ...                     controls=["b"], waves=[2015, 2018, 2021])
    >>> res.att_gt[["cohort", "time", "event_time", "att", "n_control"]].round(3)
       cohort  time  event_time    att  n_control
    0    2018  2018           0  0.015          2
    1    2018  2021           1 -0.080          1
    2    2021  2015          -2  0.010          1
    3    2021  2021           0 -0.090          1

    Area ``a`` (work after 2018) is a control of cohort 2018 in 2018, not in 2021. The
    overall effect weights the three post-treatment cells equally (one area each):

    >>> est = res.estimate(res.simple(), tau2=0.0)
    >>> round(est.estimate, 3), round(est.se, 4)
    (-0.052, 0.0267)
    """
    wave_list = sorted({int(w) for w in waves})
    pos = {w: i for i, w in enumerate(wave_list)}
    cells = _survey_cells(panel, indicator)
    cells = cells[cells["wave"].isin(wave_list)].reset_index(drop=True)
    col = {(a, w): i for i, (a, w) in enumerate(zip(cells["area_id"], cells["wave"],
                                                     strict=True))}
    treat, dropped = _check_windows(treated, wave_list)
    others, _ = _check_windows(not_yet or {}, wave_list)
    pool = {**others, **treat}
    never = [str(c) for c in controls if str(c) not in pool]
    groups: dict[Window, list[str]] = {}
    for area, win in treat.items():
        if (area, win[0]) not in col:
            dropped.append({"area_id": area, "reason": f"no survey value in {win[0]}"})
            continue
        groups.setdefault(win, []).append(area)
    records: list[dict[str, object]] = []
    rows: list[np.ndarray] = []
    for (pre, g), units in sorted(groups.items()):
        for t in wave_list:
            if pre <= t < g:  # the reference wave itself, and waves during the work
                continue
            tr = [u for u in units if (u, t) in col]
            last = max(t, pre)
            ctrl = [c for c in never if (c, t) in col and (c, pre) in col]
            ctrl += [a for a, (p, _) in pool.items()
                     if a not in units and p >= last and (a, t) in col and (a, pre) in col]
            if not tr or not ctrl:
                continue
            w = np.zeros(len(cells))
            for units_, sign in ((tr, 1.0), (ctrl, -1.0)):
                for u in units_:
                    w[col[(u, t)]] += sign / len(units_)
                    w[col[(u, pre)]] -= sign / len(units_)
            event = pos[t] - pos[g] if t >= g else pos[t] - pos[pre] - 1
            records.append({"pre_wave": pre, "cohort": g, "time": t, "event_time": event,
                            "post": t >= g, "n_treated": len(tr), "n_control": len(ctrl),
                            "treated_ids": ",".join(sorted(tr)),
                            "control_ids": ",".join(sorted(ctrl))})
            rows.append(w)
    table = pd.DataFrame.from_records(
        records, columns=["pre_wave", "cohort", "time", "event_time", "post", "n_treated",
                          "n_control", "treated_ids", "control_ids"])
    weights = np.vstack(rows) if rows else np.zeros((0, len(cells)))
    table.insert(5, "att", weights @ cells["share"].to_numpy(dtype=float))
    table = table.astype({"pre_wave": "int64", "cohort": "int64", "time": "int64",
                          "event_time": "int64", "post": bool, "n_treated": "int64",
                          "n_control": "int64"})
    log.info("survey ATT(g,t): %d cells over %d cohorts, %d never-treated controls",
             len(table), len(groups), len(never))
    return SurveyAttGt(att_gt=table, cells=cells, weights=weights, waves=tuple(wave_list),
                       dropped=pd.DataFrame(dropped, columns=["area_id", "reason"]))
