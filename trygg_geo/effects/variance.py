r"""Between-district variance: the district x wave variance component :math:`\tau^2`.

Survey shares move from wave to wave for two reasons: sampling (a few hundred respondents
per district and wave) and real local events (a shooting, a new school, a closed centre).
The binomial standard error of a share sees only the first. The model here is

.. math::

    y_{it} = \mu_i + \lambda_t + u_{it} + e_{it}, \qquad
    u_{it} \sim (0, \tau^2), \quad e_{it} \sim (0, s_{it}^2),

with district effects :math:`\mu_i`, wave effects :math:`\lambda_t`, independent district x
wave shocks :math:`u_{it}` and sampling errors of known variance :math:`s_{it}^2` (the
panel's ``se``). A never-treated (control) district's change between two waves,
:math:`d_i = y_{ib} - y_{ia}`, has a common mean :math:`\lambda_b - \lambda_a` and variance
:math:`2\tau^2 + v_i` with :math:`v_i = s_{ia}^2 + s_{ib}^2`. That is a random-effects
meta-analysis of the changes (one study per control district, one common mean per pair of
consecutive waves), so :math:`2\tau^2` is estimated as the between-study variance:

- ``method="dl"`` (default): the method of moments of DerSimonian & Laird (1986), with
  Cochran's Q summed over the wave pairs, truncated at zero;
- ``method="reml"``: restricted maximum likelihood (Viechtbauer 2005), on ``[0, inf)``.

The interval is the Q-profile interval (Viechtbauer 2007) and the standard error is the
delta-method one: the variance of Q from Biggerstaff & Tweedie (1997) for ``"dl"``, the
inverse REML information for ``"reml"``. Changes over consecutive pairs of the same district
share a cell and are correlated (-1/2 under the model); the point estimate is still
unbiased before truncation, but the standard error treats the pairs as independent and is
somewhat too small with three or more waves.

:func:`model_inference` adds :math:`\tau^2` to every cell of a linear estimator
``sum(a * y)`` and gives its t critical value with Satterthwaite degrees of freedom.

References
----------
DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled
Clinical Trials* 7(3), 177-188.
Biggerstaff, B. J. & Tweedie, R. L. (1997). Incorporating variability in estimates of
heterogeneity in the random effects model in meta-analysis. *Statistics in Medicine*
16(7), 753-768.
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. *J. Educational and Behavioral Statistics* 30(3), 261-293.
Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. *Statistics in Medicine* 26(1), 37-52.
Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance
components. *Biometrics Bulletin* 2(6), 110-114.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from trygg_geo._errors import InputError
from trygg_geo._stats import t_crit, t_p_value, z_power

__all__ = ["Tau2Result", "between_district_variance", "model_inference", "satterthwaite_df"]

log = logging.getLogger(__name__)

Method = Literal["dl", "reml"]
_Groups = list[tuple[np.ndarray, np.ndarray]]  # (changes, their sampling variances) per pair


@dataclass(frozen=True)
class Tau2Result:
    r"""The district x wave variance component, in share² units (0.0009 = a 3 pp SD).

    Attributes
    ----------
    value
        :math:`\hat\tau^2` per cell (district and wave), truncated at zero. Add it to every
        cell's sampling variance.
    se
        Standard error of the untruncated estimate (NaN when there was nothing to estimate
        from).
    ci_low, ci_high
        Q-profile interval at ``level`` (both 0 when even the upper end is 0).
    n_changes, n_areas, n_pairs
        Control-district changes used, the districts they come from, and the pairs of
        consecutive waves.
    q, df
        Cochran's Q summed over the pairs, and its degrees of freedom
        (``n_changes - n_pairs``). Without shocks, ``q`` is about ``df``.
    method
        ``"dl"``, ``"reml"``, or ``"none"`` when fewer than two changes per wave pair exist
        (then ``value`` is 0 and ``se`` NaN: the variance is not estimated).
    level
        Level of the interval.
    """

    value: float
    se: float
    ci_low: float
    ci_high: float
    n_changes: int
    n_areas: int
    n_pairs: int
    q: float
    df: int
    method: str
    level: float = 0.95

    @property
    def sd(self) -> float:
        r""":math:`\hat\tau`: the SD of the district x wave shocks (a share; 0.03 = 3 pp)."""
        return math.sqrt(self.value)

    @property
    def var(self) -> float:
        """Sampling variance of :attr:`value` (``se**2``), used for the degrees of freedom."""
        return self.se**2

    def to_frame(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame([asdict(self)])


# --------------------------------------------------------------------------------------------
# The changes of the controls
# --------------------------------------------------------------------------------------------
def _control_changes(panel: pd.DataFrame, controls: Sequence[str], indicator: str | None,
                     waves: Sequence[int]) -> tuple[_Groups, int]:
    need = {"area_id", "wave", "share", "se"}
    if need - set(panel.columns):
        raise InputError(
            f"the survey panel lacks the columns {sorted(need - set(panel.columns))}.",
            fix="build it with trygg_geo.survey.survey_panel.",
        )
    p = panel
    if indicator is not None and "indicator" in p.columns:
        p = p[p["indicator"] == indicator]
    ctrl = list(dict.fromkeys(str(c) for c in controls))
    ws = sorted({int(w) for w in waves})
    p = p[p["area_id"].astype(str).isin(ctrl) & p["wave"].astype(int).isin(ws)]
    p = p.assign(area_id=p["area_id"].astype(str), wave=p["wave"].astype(int))
    p = p.drop_duplicates(["area_id", "wave"])
    share = p.pivot(index="area_id", columns="wave", values="share").reindex(columns=ws)
    se2 = p.pivot(index="area_id", columns="wave", values="se").reindex(columns=ws) ** 2
    y, v2 = share.to_numpy(dtype=float), se2.to_numpy(dtype=float)
    groups: _Groups = []
    areas: set[str] = set()
    for j in range(len(ws) - 1):
        d = y[:, j + 1] - y[:, j]
        v = v2[:, j] + v2[:, j + 1]
        ok = np.isfinite(d) & np.isfinite(v) & (v > 0)  # a 0 or 100 % share has no binomial SE
        if ok.sum() >= 2:
            groups.append((d[ok], v[ok]))
            areas.update(share.index[ok].tolist())
    return groups, len(areas)


def _q_stat(groups: _Groups, t: float) -> float:
    """Generalised Q at the between-study variance ``t`` (change scale)."""
    q = 0.0
    for d, v in groups:
        w = 1 / (v + t)
        mu = float(w @ d / w.sum())
        q += float(w @ (d - mu) ** 2)
    return q


def _dl(groups: _Groups) -> tuple[float, float]:
    """DerSimonian-Laird estimate (change scale, truncated) and its delta-method variance."""
    q, df, c = 0.0, 0, 0.0
    for d, v in groups:
        w = 1 / v
        s1, s2 = w.sum(), (w**2).sum()
        q += float(w @ (d - w @ d / s1) ** 2)
        df += len(d) - 1
        c += s1 - s2 / s1
    t = max(0.0, (q - df) / c)
    var_q = 0.0  # Biggerstaff & Tweedie (1997), eq. 6, per pair, summed
    for d, v in groups:
        w = 1 / v
        s1, s2, s3 = w.sum(), (w**2).sum(), (w**3).sum()
        var_q += (2 * (len(d) - 1) + 4 * (s1 - s2 / s1) * t
                  + 2 * (s2 - 2 * s3 / s1 + s2**2 / s1**2) * t**2)
    return t, var_q / c**2


def _reml(groups: _Groups) -> tuple[float, float]:
    """REML estimate on [0, inf) (change scale) and its inverse information."""
    def nll(t: float) -> float:
        out = 0.0
        for d, v in groups:
            w = 1 / (v + t)
            mu = w @ d / w.sum()
            out += float(np.log(v + t).sum() + np.log(w.sum()) + w @ (d - mu) ** 2)
        return 0.5 * out

    spread = max(float(np.var(np.concatenate([d for d, _ in groups]))), 1e-8)
    res = optimize.minimize_scalar(nll, bounds=(0.0, 10 * spread), method="bounded",
                                   options={"xatol": 1e-12})
    t = float(res.x) if nll(float(res.x)) < nll(0.0) else 0.0
    info = 0.0
    for _, v in groups:
        w = 1 / (v + t)
        s1, s2, s3 = w.sum(), (w**2).sum(), (w**3).sum()
        info += 0.5 * (s2 - 2 * s3 / s1 + (s2 / s1) ** 2)
    return t, 1 / info


def _q_profile(groups: _Groups, df: int, level: float) -> tuple[float, float]:
    """Q-profile interval for the between-study variance (change scale)."""
    def solve(target: float) -> float:
        if _q_stat(groups, 0.0) <= target:
            return 0.0
        hi = max(float(np.var(np.concatenate([d for d, _ in groups]))), 1e-8)
        while _q_stat(groups, hi) > target:
            hi *= 2
        return float(optimize.brentq(lambda t: _q_stat(groups, t) - target, 0.0, hi,
                                     xtol=1e-14))

    lo = solve(float(stats.chi2.ppf(0.5 + level / 2, df)))
    hi = solve(float(stats.chi2.ppf(0.5 - level / 2, df)))
    return lo, hi


def between_district_variance(
    panel: pd.DataFrame,
    controls: Sequence[str],
    *,
    indicator: str | None = None,
    waves: Sequence[int],
    method: Method = "dl",
    level: float = 0.95,
) -> Tau2Result:
    r"""Estimate the district x wave variance :math:`\tau^2` from the controls' changes.

    Parameters
    ----------
    panel
        Survey panel: ``area_id, wave, share, se`` (and ``indicator``).
    controls
        The never-treated (control) area ids. Treated areas are left out: their changes
        carry the effect.
    indicator
        Select this indicator from the panel.
    waves
        The study waves; every pair of consecutive waves gives one change per control.
    method
        ``"dl"`` (DerSimonian-Laird method of moments) or ``"reml"``.
    level
        Level of the Q-profile interval.

    Returns
    -------
    Tau2Result
        :math:`\hat\tau^2` per cell (half the between-district variance of the changes),
        truncated at zero, with its SE, interval, the numbers of changes, areas and pairs,
        and the method. With fewer than two usable changes in every pair the variance is
        not estimated (``method="none"``, value 0, SE NaN; logged as a warning).

    Examples
    --------
    Forty control districts whose changes spread more than their sampling SEs allow:

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> rows = [{"area_id": f"c{i}", "wave": w, "se": 0.02,
    ...          "share": 0.3 + rng.normal(0, 0.02) + rng.normal(0, 0.04)}
    ...         for i in range(40) for w in (2018, 2021)]
    >>> res = between_district_variance(pd.DataFrame(rows), [f"c{i}" for i in range(40)],
    ...                                 waves=[2018, 2021])
    >>> res.method, res.n_changes, res.df, round(res.sd, 3)
    ('dl', 40, 39, 0.032)
    """
    if method not in ("dl", "reml"):
        raise ValueError(f"method must be 'dl' or 'reml', got {method!r}.")
    groups, n_areas = _control_changes(panel, controls, indicator, waves)
    n = sum(len(d) for d, _ in groups)
    df = n - len(groups)
    if not groups or df < 1:
        log.warning("the district x wave variance is not estimated: fewer than two control "
                    "areas with survey values in two consecutive waves; intervals cover "
                    "sampling error only")
        nan = float("nan")
        return Tau2Result(0.0, nan, nan, nan, n, n_areas, len(groups), nan, max(df, 0), "none",
                          level)
    q = _q_stat(groups, 0.0)
    t, var_t = _dl(groups) if method == "dl" else _reml(groups)
    lo, hi = _q_profile(groups, df, level)
    # the changes' between-district variance is 2 tau^2: halve the value, quarter the variance
    res = Tau2Result(value=t / 2, se=math.sqrt(var_t) / 2, ci_low=lo / 2, ci_high=hi / 2,
                     n_changes=n, n_areas=n_areas, n_pairs=len(groups), q=q, df=df,
                     method=method, level=level)
    log.info("district x wave variance (%s): tau2 = %.6f (SD %.1f pp), %d%% CI %.6f-%.6f, "
             "from %d changes of %d control areas over %d wave pairs (Q = %.1f on %d df)",
             method, res.value, 100 * res.sd, round(100 * level), res.ci_low, res.ci_high,
             n, n_areas, len(groups), q, df)
    return res


# --------------------------------------------------------------------------------------------
# Inference for a linear estimator with tau^2 in every cell
# --------------------------------------------------------------------------------------------
def _tau2_parts(tau2: float | Tau2Result | None) -> tuple[float, float]:
    """(value, variance of the value); a plain number is taken as known (variance 0)."""
    if tau2 is None:
        return 0.0, 0.0
    if isinstance(tau2, Tau2Result):
        return tau2.value, (tau2.var if math.isfinite(tau2.se) else 0.0)
    v = float(tau2)
    if not (math.isfinite(v) and v >= 0):
        raise ValueError(f"tau2 must be a non-negative number, got {tau2!r}.")
    return v, 0.0


def satterthwaite_df(sampling_var: float, weight_sq: float, tau2: float | Tau2Result | None
                     ) -> float:
    r"""Satterthwaite degrees of freedom of ``V = A + S * tau2_hat``.

    The variance of a linear estimator ``sum(a * y)`` is ``A + S * tau2`` with
    ``A = sum(a**2 * se**2)`` (binomial sampling variances, treated as known) and
    ``S = sum(a**2)``. Only :math:`\hat\tau^2` is estimated, with variance
    :math:`\mathrm{Var}(\hat\tau^2)` (:attr:`Tau2Result.se` squared). Satterthwaite's
    approximation (1946) gives ``df = 2 V**2 / (S**2 * Var(tau2_hat))``: large when sampling
    dominates or :math:`\tau^2` is well estimated (many control changes), near the number of
    control changes when the shocks dominate -- as for a two-sample t test of the treated
    against the control changes. This is why the degrees of freedom do not depend on the
    number of treated areas: the variance is estimated from the controls alone.

    Returns ``inf`` (the normal) when ``tau2`` is a known number or was not estimated, and
    at least 1.

    Examples
    --------
    >>> t2 = Tau2Result(0.0009, 0.0003, 0.0003, 0.002, 30, 30, 1, 60.0, 29, "dl")
    >>> round(satterthwaite_df(0.0015, 2.07, t2), 1)
    58.7
    >>> satterthwaite_df(0.0015, 2.07, 0.0009)
    inf
    """
    value, var_t = _tau2_parts(tau2)
    if var_t <= 0 or weight_sq <= 0:
        return float("inf")
    v = sampling_var + weight_sq * value
    return max(1.0, 2 * v**2 / (weight_sq**2 * var_t))


def model_inference(estimate: float, sampling_var: float, weight_sq: float,
                    tau2: float | Tau2Result | None, *, level: float = 0.95,
                    power: float = 0.80) -> dict[str, float]:
    """SE, df, t interval, p-value and MDE of ``sum(a * y)`` with ``tau2`` in every cell.

    Parameters
    ----------
    estimate
        ``sum(a * y)``.
    sampling_var
        ``sum(a**2 * se**2)``.
    weight_sq
        ``sum(a**2)``.
    tau2
        The district x wave variance (a :class:`Tau2Result`, a known number, or None = 0).
    level, power
        Confidence level; power of the minimum detectable effect.

    Returns
    -------
    dict
        ``se, df, ci_low, ci_high, p_value, mde, tau2``; ``df`` is NaN for the normal.
        ``mde = (t_crit(level, df) + z_power(power)) * se``.

    Examples
    --------
    >>> r = model_inference(-0.07, 0.0036, 2.0, 0.0009)
    >>> round(r["se"], 4), r["df"], round(r["ci_low"], 4)
    (0.0735, nan, -0.214)
    """
    value, _ = _tau2_parts(tau2)
    var = sampling_var + weight_sq * value
    se = math.sqrt(var) if var > 0 else float("nan")
    df = satterthwaite_df(sampling_var, weight_sq, tau2)
    nan = float("nan")
    if not (math.isfinite(estimate) and math.isfinite(se) and se > 0):
        return {"se": se, "df": nan if math.isinf(df) else df, "ci_low": nan, "ci_high": nan,
                "p_value": nan, "mde": nan, "tau2": value}
    c = t_crit(level, df)
    return {"se": se, "df": nan if math.isinf(df) else df, "ci_low": estimate - c * se,
            "ci_high": estimate + c * se, "p_value": t_p_value(estimate / se, df),
            "mde": (c + z_power(power)) * se, "tau2": value}
