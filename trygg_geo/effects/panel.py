"""Panel difference-in-differences and event studies by two-way fixed effects (statsmodels).

:func:`event_study` regresses the outcome on unit and period fixed effects and on dummies
for the time relative to treatment (in periods: survey waves, not years), with
cluster-robust standard errors (by unit unless told otherwise), and tests the leads
jointly (a pre-trend test). :func:`panel_did` estimates one post x treated coefficient
the same way, with a t critical value on ``G - 1`` degrees of freedom (``G`` clusters) and,
given the cells' sampling SEs, a model-based variance that adds the district x wave
variance ``tau2`` to every cell (the larger of the two SEs is reported).

Known bias of two-way fixed effects under staggered adoption
-----------------------------------------------------------
When units are treated at different times *and* effects differ between cohorts or grow
with time since treatment, the TWFE coefficient is a weighted average of all 2x2
comparisons, including "forbidden" ones that use already-treated units as controls; some
weights can be negative, and the estimate can even have the wrong sign
(Goodman-Bacon 2021; de Chaisemartin & D'Haultfoeuille 2020). Event-study coefficients
are contaminated by effects at other relative times, leads included, so the pre-trend
test can reject (or pass) for the wrong reason (Sun & Abraham 2021). With one cohort, or
with effects that are the same for every cohort and every relative time, TWFE is fine.
Otherwise use :func:`trygg_geo.effects.staggered_did` (Callaway & Sant'Anna), which only
makes clean comparisons, or the pooled 2x2 :func:`trygg_geo.effects.did_2x2`.

References
----------
Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
*Journal of Econometrics* 225(2), 254-277.
de Chaisemartin, C. & D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with
heterogeneous treatment effects. *American Economic Review* 110(9), 2964-2996.
Sun, L. & Abraham, S. (2021). Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects. *Journal of Econometrics* 225(2), 175-199.
Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust
inference. *Journal of Human Resources* 50(2), 317-372.
Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, section 8.2.3
(report the larger of the conventional and the robust standard error).
MacKinnon, J. G. & Webb, M. D. (2017). Wild bootstrap inference for wildly different
cluster sizes. *Journal of Applied Econometrics* 32(2), 233-254 (few treated clusters).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo._stats import t_crit, t_p_value, z_crit, z_power
from trygg_geo.effects._result import Estimate
from trygg_geo.effects.variance import Tau2Result, satterthwaite_df

__all__ = ["EventStudyResult", "PretrendTest", "event_study", "panel_did"]

log = logging.getLogger(__name__)

Endpoints = Literal["bin", "drop"]


@dataclass(frozen=True)
class PretrendTest:
    """Joint Wald test that every lead coefficient is zero (parallel pre-trends).

    Attributes
    ----------
    statistic
        Wald statistic ``b' V^-1 b`` with the cluster-robust ``V``; chi-squared with ``df``
        degrees of freedom under the null.
    df
        Number of leads tested (0 when there are none: then everything is NaN).
    p_value
        ``P(chi2(df) > statistic)``.
    f_statistic, f_p_value, df_denom
        The small-sample version ``F = statistic / df`` against ``F(df, G - 1)`` with ``G``
        clusters, advisable with few clusters (Cameron & Miller 2015).
    """

    statistic: float
    df: int
    p_value: float
    f_statistic: float
    f_p_value: float
    df_denom: int

    def to_frame(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame([vars(self)])


@dataclass(frozen=True, eq=False)
class EventStudyResult:
    """Event-study coefficients from a two-way fixed effects regression.

    Attributes
    ----------
    table
        One row per relative time (periods since treatment, ``-leads .. lags``):
        ``rel_time, estimate, se, ci_low, ci_high, p_value, n`` (observations of treated
        units at that relative time), ``n_units`` and ``reference`` (True for the omitted
        period, whose estimate is 0 by construction and whose SE is NaN).
    pretrend
        Joint test of the leads (relative times < 0 other than the reference).
    n_obs, n_units, n_clusters, n_treated_units
        Observations and units in the regression, clusters of the standard errors, and
        units with a treatment date inside the panel.
    level, reference, leads, lags, endpoints
        The options used.
    excluded
        Units left out, with the reason (always treated; no outcome values).
    fit
        The statsmodels results object, for anything else.
    """

    table: pd.DataFrame
    pretrend: PretrendTest
    n_obs: int
    n_units: int
    n_clusters: int
    n_treated_units: int
    level: float
    reference: int
    leads: int
    lags: int
    endpoints: str
    excluded: pd.DataFrame
    fit: Any = field(repr=False, default=None)

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (a copy)."""
        return self.table.copy()


# --------------------------------------------------------------------------------------------
# Preparing the panel
# --------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    data: (
        pd.DataFrame
    )  # columns _unit, _time, _y, _w, _cluster, _se, _g (float, NaN = never), _rel (float)
    times: list[Any]
    excluded: pd.DataFrame


def _prepare(df: pd.DataFrame, *, unit: str, time: str, outcome: str, cohort: str,
             weights: str | None, cluster: str | None, se: str | None = None) -> _Prepared:
    cols = [unit, time, outcome, cohort] + [c for c in (weights, cluster, se) if c is not None]
    for c in cols:
        if c not in df.columns:
            raise MissingColumnError(c, found=df.columns)
    d = pd.DataFrame({
        "_unit": df[unit].to_numpy(),
        "_time": df[time].to_numpy(),
        "_y": pd.to_numeric(df[outcome], errors="coerce").to_numpy(dtype=float),
        "_g": pd.to_numeric(df[cohort], errors="coerce").to_numpy(dtype=float),
        "_w": (pd.to_numeric(df[weights], errors="coerce").to_numpy(dtype=float)
               if weights is not None else np.ones(len(df))),
        "_cluster": df[cluster if cluster is not None else unit].to_numpy(),
        "_se": (pd.to_numeric(df[se], errors="coerce").to_numpy(dtype=float)
                if se is not None else np.full(len(df), np.nan)),
    })
    if d.duplicated(["_unit", "_time"]).any():
        dup = d.loc[d.duplicated(["_unit", "_time"], keep=False), ["_unit", "_time"]].head(3)
        raise InputError(f"several rows per {unit} and {time}, e.g. {dup.to_numpy().tolist()}.",
                         column=time, fix="select one outcome (indicator) per unit and period.")
    g_per_unit = d.groupby("_unit", sort=False)["_g"].nunique(dropna=False)
    if (g_per_unit > 1).any():
        bad = g_per_unit[g_per_unit > 1].index[:3].tolist()
        raise InputError(
            f"the cohort differs between rows of the same unit ({bad}).",
            column=cohort,
            fix="give every row of a unit the same first treated period.",
        )
    if weights is not None and not (np.isfinite(d["_w"]) & (d["_w"] > 0)).all():
        raise InputError(
            "weights must be positive numbers.",
            column=weights,
            fix="use respondent counts or inverse variances; drop rows without them first.",
        )
    t_num = pd.to_numeric(d["_time"], errors="coerce")
    if t_num.isna().any():
        bad = d.loc[t_num.isna(), "_time"].head(3).tolist()
        raise InputError(
            f"periods must be numbers (years or wave numbers); found {bad}.",
            column=time,
            fix="write the period as a number, e.g. 2018.",
        )
    d["_time"] = t_num.to_numpy(dtype=float)
    times = sorted(float(t) for t in d["_time"].unique())
    pos = {t: i for i, t in enumerate(times)}
    never = ~np.isfinite(d["_g"]) | (d["_g"] <= 0) | (d["_g"] > max(times))
    later = np.isfinite(d["_g"]) & (d["_g"] > max(times))
    if later.any():
        log.info("%d units are first treated after the last period; they count as not treated",
                 d.loc[later, "_unit"].nunique())
    gv = d.loc[~never, "_g"]
    unknown = sorted(set(gv.tolist()) - set(times))
    if unknown:
        raise InputError(
            f"cohorts {[f'{g:g}' for g in unknown[:5]]} are not periods of the panel "
            f"({', '.join(f'{t:g}' for t in times)}); relative time is counted "
            "in periods, so a cohort must be the first period in which the unit is treated.",
            column=cohort,
            fix="set the cohort to a period of the panel, or 0 / empty for never treated.",
        )
    d["_g"] = np.where(never, np.nan, d["_g"])
    rel = np.full(len(d), np.nan)
    tr = ~never.to_numpy()
    rel[tr] = d.loc[tr, "_time"].map(pos).to_numpy(dtype=float) - d.loc[tr, "_g"].map(pos).to_numpy(
        dtype=float
    )
    d["_rel"] = rel
    excluded = []
    first = times[0]
    always = d.loc[tr & (d["_g"] <= first).to_numpy(), "_unit"].unique()
    for u in always:
        excluded.append(
            {"unit": u, "reason": f"treated from the first period ({times[0]:g}): no pre-period"}
        )
    missing_y = ~np.isfinite(d["_y"].to_numpy())
    if missing_y.any():
        log.info(
            "%d unit-periods have no outcome value and are not in the regression",
            int(missing_y.sum()),
        )
    keep = ~d["_unit"].isin(always).to_numpy() & ~missing_y
    d = d[keep].reset_index(drop=True)
    if d.empty:
        raise InputError(
            "no unit-period is left to estimate from (all always treated or without outcome).",
            column=outcome,
        )
    empty_units = set(df[unit].unique()) - set(d["_unit"].unique()) - set(always)
    for u in sorted(empty_units, key=str):
        excluded.append({"unit": u, "reason": "no outcome value in any period"})
    return _Prepared(d, times, pd.DataFrame(excluded, columns=["unit", "reason"]))


def _fe_design(d: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Unit dummies (all) and period dummies (all but the first)."""
    u = pd.get_dummies(d["_unit"].astype(str), prefix="unit", dtype=float)
    t = pd.get_dummies(d["_time"].map("{:g}".format), prefix="time", dtype=float).iloc[:, 1:]
    x = pd.concat([u, t], axis=1)
    return x.to_numpy(), list(x.columns)


def _fit(
    y: np.ndarray, x: np.ndarray, w: np.ndarray, clusters: np.ndarray, names: list[str], what: str
) -> Any:
    rank = np.linalg.matrix_rank(x)
    if rank < x.shape[1]:
        raise InputError(
            f"the {what} is not identified: its regressors are collinear with the unit and period "
            "fixed "
            f"effects (rank {rank} of {x.shape[1]}). This happens without never-treated units, or "
            "when a relative time or a period has no observations.",
            fix="include never-treated (control) units, or use fewer leads/lags (endpoints are "
                "binned).",
        )
    codes = pd.factorize(pd.Series(clusters).astype(str))[0]
    model = sm.WLS(y, pd.DataFrame(x, columns=names), weights=w)
    return model.fit(cov_type="cluster", cov_kwds={"groups": codes})


# --------------------------------------------------------------------------------------------
# Event study
# --------------------------------------------------------------------------------------------
def event_study(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    cohort: str,
    leads: int = 2,
    lags: int = 2,
    weights: str | None = None,
    cluster: str | None = None,
    reference: int = -1,
    endpoints: Endpoints = "bin",
    level: float = 0.95,
) -> EventStudyResult:
    """Event study by two-way fixed effects with relative-time dummies.

    Fits ``y_it = a_i + l_t + sum_k b_k 1[t - g_i = k] + e_it`` by (weighted) least squares
    with unit and period dummies, for ``k`` in ``-leads .. lags`` except ``reference``,
    with cluster-robust standard errors (statsmodels ``cov_type="cluster"``).

    Parameters
    ----------
    df
        Long panel, one row per unit and period.
    unit, time, outcome
        Column names. ``time`` holds the periods (e.g. survey waves); relative time is
        counted in periods (positions in the sorted periods), so waves three years apart
        are one period apart.
    cohort
        Column with the first treated period of each unit; 0, NA or a value after the
        last period for units never treated in the panel.
    leads, lags
        The window of relative times ``-leads .. lags``.
    weights
        Optional column of positive regression weights (e.g. respondents).
    cluster
        Column of clusters for the standard errors; default ``unit``.
    reference
        The omitted relative time (normalised to 0), usually -1: the last period before
        treatment.
    endpoints
        ``"bin"``: relative times beyond the window are pooled into the end bins
        (``<= -leads`` and ``>= lags``); ``"drop"``: those observations of treated units
        are left out (logged).
    level
        Confidence level.

    Returns
    -------
    EventStudyResult
        ``.table`` (``rel_time, estimate, se, ci_low, ci_high, p_value, n, n_units,
        reference``), ``.pretrend`` (joint Wald test of the leads), n, and the fit.

    Notes
    -----
    Under staggered adoption with effects that differ by cohort or relative time, TWFE
    event-study coefficients are biased (Sun & Abraham 2021; see the module docstring);
    use :func:`trygg_geo.effects.staggered_did` with ``aggregate("dynamic")`` there.
    Never-treated units are needed to identify all relative-time coefficients.
    Always-treated units (treated from the first period) are left out and listed in
    ``excluded``.
    """
    if leads < 0 or lags < 0:
        raise ValueError(f"leads and lags must be >= 0, got leads={leads}, lags={lags}.")
    if not -leads <= reference <= lags:
        raise ValueError(f"reference={reference} is outside the window -{leads}..{lags}.")
    if endpoints not in ("bin", "drop"):
        raise ValueError(f"endpoints must be 'bin' or 'drop', got {endpoints!r}.")
    prep = _prepare(
        df, unit=unit, time=time, outcome=outcome, cohort=cohort, weights=weights, cluster=cluster
    )
    d = prep.data
    rel = d["_rel"].to_numpy()
    treated_obs = np.isfinite(rel)
    outside = treated_obs & ((rel < -leads) | (rel > lags))
    if endpoints == "drop" and outside.any():
        log.info("endpoints='drop': %d observations of treated units outside %d..%d are left out",
                 int(outside.sum()), -leads, lags)
        d = d[~outside].reset_index(drop=True)
        rel = d["_rel"].to_numpy()
        treated_obs = np.isfinite(rel)
    binned = np.where(treated_obs, np.clip(np.nan_to_num(rel, nan=0.0), -leads, lags), np.nan)
    ks = [k for k in range(-leads, lags + 1) if k != reference]
    ev = np.column_stack([(binned == k).astype(float) for k in ks]) if ks else np.zeros((len(d), 0))
    names = [f"rel_{k}".replace("-", "m") for k in ks]
    fe, fe_names = _fe_design(d)
    x = np.hstack([ev, fe])
    fit = _fit(
        d["_y"].to_numpy(),
        x,
        d["_w"].to_numpy(),
        d["_cluster"].to_numpy(),
        names + fe_names,
        "event study",
    )
    params = np.asarray(fit.params)[: len(ks)]
    cov = np.asarray(fit.cov_params())[: len(ks), : len(ks)]
    se = np.sqrt(np.diag(cov))
    z = z_crit(level)
    units_t = d.loc[treated_obs, "_unit"].to_numpy()
    rows = []
    for k in range(-leads, lags + 1):
        at = binned == k
        n_k, u_k = int(at.sum()), int(pd.unique(units_t[at[treated_obs]]).size)
        if k == reference:
            rows.append(
                {
                    "rel_time": k,
                    "estimate": 0.0,
                    "se": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "n": n_k,
                    "n_units": u_k,
                    "reference": True,
                }
            )
            continue
        j = ks.index(k)
        b, s = float(params[j]), float(se[j])
        rows.append(
            {
                "rel_time": k,
                "estimate": b,
                "se": s,
                "ci_low": b - z * s,
                "ci_high": b + z * s,
                "p_value": float(2 * stats.norm.sf(abs(b / s))) if s > 0 else np.nan,
                "n": n_k,
                "n_units": u_k,
                "reference": False,
            }
        )
    table = pd.DataFrame(rows)
    n_clusters = int(pd.Series(d["_cluster"]).nunique())
    lead_idx = [j for j, k in enumerate(ks) if k < 0]
    pretrend = _wald(params[lead_idx], cov[np.ix_(lead_idx, lead_idx)], n_clusters)
    n_cohorts = int(pd.Series(d["_g"]).dropna().nunique())
    if n_cohorts > 1:
        log.info("event study over %d cohorts: TWFE is biased when effects differ between cohorts; "
                 "compare with staggered_did(...).aggregate('dynamic')", n_cohorts)
    return EventStudyResult(
        table=table,
        pretrend=pretrend,
        n_obs=int(fit.nobs),
        n_units=int(d["_unit"].nunique()),
        n_clusters=n_clusters,
        n_treated_units=int(pd.unique(units_t).size),
        level=level,
        reference=reference,
        leads=leads,
        lags=lags,
        endpoints=endpoints,
        excluded=prep.excluded,
        fit=fit,
    )


def _wald(b: np.ndarray, v: np.ndarray, n_clusters: int) -> PretrendTest:
    q = len(b)
    if q == 0:
        nan = float("nan")
        return PretrendTest(nan, 0, nan, nan, nan, max(n_clusters - 1, 0))
    w = (
        float(b @ np.linalg.solve(v, b))
        if np.linalg.matrix_rank(v) == q
        else float(b @ np.linalg.pinv(v) @ b)
    )
    df2 = max(n_clusters - 1, 1)
    return PretrendTest(statistic=w, df=q, p_value=float(stats.chi2.sf(w, q)), f_statistic=w / q,
                        f_p_value=float(stats.f.sf(w / q, q, df2)), df_denom=df2)


# --------------------------------------------------------------------------------------------
# One post x treated coefficient
# --------------------------------------------------------------------------------------------
def panel_did(
    df: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    cohort: str,
    weights: str | None = None,
    cluster: str | None = None,
    se: str | None = None,
    tau2: float | Tau2Result | None = None,
    level: float = 0.95,
    power: float = 0.80,
    label: str = "",
) -> Estimate:
    """Difference-in-differences by two-way fixed effects: ``y_it = a_i + l_t + b D_it + e_it``.

    ``D_it = 1`` from a unit's cohort (first treated period) on. The standard error is
    cluster-robust (by ``unit`` unless ``cluster`` is given; statsmodels
    ``cov_type="cluster"`` with its small-sample correction), and the interval and p-value
    use Student's t with ``G - 1`` degrees of freedom for ``G`` clusters, as Stata, R's
    fixest and pyfixest do for CRV1 (Cameron & Miller 2015); with 2-3 treated districts a
    normal critical value covers far too little.

    Given ``se`` (the cells' sampling SEs, as in a survey panel), the coefficient -- a
    fixed linear combination ``sum(c * y)`` of the cells -- also gets the model-based
    variance ``sum(c**2 * (se**2 + tau2))`` with the district x wave variance ``tau2`` in
    every cell. The larger of the cluster-robust and the model-based SE is reported
    (Angrist & Pischke 2009): the cluster-robust one is biased down with few treated
    clusters (MacKinnon & Webb 2017), the model-based one assumes independent shocks.
    When the model-based one is used, its degrees of freedom are Satterthwaite's for the
    estimated ``tau2`` (:func:`~trygg_geo.effects.variance.satterthwaite_df`).

    Parameters
    ----------
    df, unit, time, outcome, cohort, weights, cluster
        As for :func:`event_study`.
    se
        Optional column of the cells' sampling standard errors (survey panel ``se``).
    tau2
        District x wave variance for the model-based SE (needs ``se``): a
        :class:`~trygg_geo.effects.variance.Tau2Result` or a known number.
    level
        Confidence level.
    power
        Power of the minimum detectable effect, ``(t_crit(level, df) + z_power) * se``.
    label
        What is estimated.

    Returns
    -------
    Estimate
        ``method="twfe_did"``; ``n_treated`` = units treated inside the panel,
        ``n_control`` = the others; ``mde``; ``extra`` holds ``n_obs``, ``n_clusters``,
        ``n_cohorts``, ``df``, ``tau2``, ``se_cluster``, ``se_model`` and ``se_type``
        (``"cluster"`` or ``"model"``: which SE was the larger and is reported).

    Raises
    ------
    InputError
        When ``tau2`` is given without ``se``.

    Notes
    -----
    With several cohorts and effects that differ between them or over time, the TWFE
    coefficient can be badly biased, even of the wrong sign (Goodman-Bacon 2021); use
    :func:`trygg_geo.effects.staggered_did` there. See the module docstring.
    """
    if tau2 is not None and se is None:
        raise InputError("panel_did(tau2=...) needs the cells' sampling SEs to add it to.",
                         fix="pass se='se' (the survey panel's standard error column).")
    prep = _prepare(
        df, unit=unit, time=time, outcome=outcome, cohort=cohort, weights=weights,
        cluster=cluster, se=se,
    )
    d = prep.data
    dvar = (
        np.isfinite(d["_rel"].to_numpy()) & (np.nan_to_num(d["_rel"].to_numpy(), nan=-1) >= 0)
    ).astype(float)
    fe, fe_names = _fe_design(d)
    x = np.hstack([dvar[:, None], fe])
    fit = _fit(
        d["_y"].to_numpy(),
        x,
        d["_w"].to_numpy(),
        d["_cluster"].to_numpy(),
        ["treated_post"] + fe_names,
        "post x treated coefficient",
    )
    b, s_cl = float(np.asarray(fit.params)[0]), float(np.asarray(fit.bse)[0])
    n_clusters = int(pd.Series(d["_cluster"]).nunique())
    df_t = float(max(n_clusters - 1, 1))
    s_model, tau2_value = float("nan"), float("nan")
    if se is not None:
        s_model, tau2_value, df_model = _model_se(x, d, tau2)
        if np.isfinite(s_model) and s_model > s_cl:
            df_t = df_model
    use_model = bool(np.isfinite(s_model) and s_model > s_cl)
    s = s_model if use_model else s_cl
    n_t = int(d.loc[np.isfinite(d["_g"]), "_unit"].nunique())
    n_cohorts = int(pd.Series(d["_g"]).dropna().nunique())
    if n_cohorts > 1:
        log.info("panel_did over %d cohorts: TWFE is biased when effects differ between cohorts; "
                 "compare with staggered_did", n_cohorts)
    c = t_crit(level, df_t)
    return Estimate(
        estimate=b, se=s, ci_low=b - c * s, ci_high=b + c * s,
        p_value=t_p_value(b / s, df_t) if s > 0 else float("nan"),
        n_treated=n_t, n_control=int(d["_unit"].nunique()) - n_t, method="twfe_did",
        label=label, level=level, mde=(c + z_power(power)) * s,
        extra={
            "n_obs": int(fit.nobs),
            "n_clusters": n_clusters,
            "n_cohorts": n_cohorts,
            "se_type": "model" if use_model else "cluster",
            "se_cluster": s_cl,
            "se_model": s_model,
            "df": df_t if np.isfinite(df_t) else float("nan"),
            "tau2": tau2_value,
            "excluded": len(prep.excluded),
        },
    )


def _model_se(x: np.ndarray, d: pd.DataFrame, tau2: float | Tau2Result | None
              ) -> tuple[float, float, float]:
    """Model-based SE of the first coefficient, ``tau2`` used, and its Satterthwaite df.

    The WLS coefficient is ``c @ y`` with ``c`` the first row of ``(X'WX)^-1 X'W``; cells are
    independent with variance ``se**2 + tau2``.
    """
    w = d["_w"].to_numpy(dtype=float)
    s2 = d["_se"].to_numpy(dtype=float) ** 2
    if not np.isfinite(s2).all():
        log.info("panel_did: %d cells have no sampling SE; the model-based SE is not computed",
                 int((~np.isfinite(s2)).sum()))
        return float("nan"), float("nan"), float("inf")
    e0 = np.zeros(x.shape[1])
    e0[0] = 1.0
    c = w * (x @ np.linalg.solve(x.T @ (w[:, None] * x), e0))
    value = tau2.value if isinstance(tau2, Tau2Result) else float(tau2 or 0.0)
    sampling, weight_sq = float(c**2 @ s2), float(c @ c)
    var = sampling + weight_sq * value
    return float(np.sqrt(var)), value, satterthwaite_df(sampling, weight_sq, tau2)
