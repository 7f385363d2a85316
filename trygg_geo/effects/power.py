"""Power (minimum detectable effect) and cost per percentage point.

The MDE answers "what could this design have detected?": with about 50-300 respondents
per district and wave, one district's change is mostly noise, and a non-significant
estimate means little unless the design could have detected a change of plausible size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from trygg_geo._stats import t_crit, z_power
from trygg_geo.effects._result import Estimate

__all__ = ["CostResult", "cost_per_point", "mde_did", "mde_from_se"]


def mde_from_se(se: float, *, level: float = 0.95, power: float = 0.80,
                df: float = float("nan")) -> float:
    """Minimum detectable effect of an estimate with standard error ``se``.

    ``(t_crit(level, df) + z_power(power)) * se``: the true effect that a two-sided test at
    ``level`` detects with probability ``power`` (Bloom 1995). ``df`` NaN = normal. Use the
    estimator's own SE (with the district x wave variance in it) so the MDE includes it.

    >>> round(mde_from_se(0.01), 4), round(mde_from_se(0.01, df=5), 4)
    (0.028, 0.0341)
    >>> mde_from_se(float("nan"))
    nan
    """
    if not (np.isfinite(se) and se > 0):
        return float("nan")
    return float((t_crit(level, df) + z_power(power)) * se)


def mde_did(
    *,
    n_per_area: float,
    n_treated: int,
    n_control: int,
    p: float = 0.3,
    icc: float = 0.0,
    tau2: float = 0.0,
    level: float = 0.95,
    power: float = 0.80,
    df: float = float("nan"),
) -> float:
    """Minimum detectable effect of a 2x2 DiD on area shares (a proportion).

    Each area-wave share has variance ``p(1-p) * (icc + (1 - icc) / n) + tau2``: the
    sampling variance of ``n`` respondents plus the area-by-wave variance, expressed as an
    intra-cluster correlation ``icc`` of the binary answer (Bloom 2005) or directly as the
    district x wave variance ``tau2`` in share² units (0.0009 = a 3 pp SD; as estimated by
    :func:`trygg_geo.effects.variance.between_district_variance`). A DiD differences two
    waves for treated and control areas, so its variance is
    ``2 * v * (1 / n_treated + 1 / n_control)`` and the MDE is
    ``(t_crit(level, df) + z_power) * sqrt(var)`` (``df`` NaN = normal).

    >>> round(mde_did(n_per_area=150, n_treated=8, n_control=15, p=0.3), 4)
    0.0649
    >>> mde_did(n_per_area=150, n_treated=8, n_control=15, p=0.3, icc=0.02) > 0.0649
    True
    >>> round(mde_did(n_per_area=150, n_treated=8, n_control=15, p=0.3, tau2=0.0009), 4)
    0.0832
    """
    if n_treated < 1 or n_control < 1 or n_per_area <= 0:
        return float("nan")
    if not (np.isfinite(tau2) and tau2 >= 0):
        raise ValueError(f"tau2 must be a non-negative number, got {tau2!r}.")
    v = p * (1 - p) * (icc + (1 - icc) / n_per_area) + tau2
    var = 2 * v * (1 / n_treated + 1 / n_control)
    return mde_from_se(float(np.sqrt(var)), level=level, power=power, df=df)


@dataclass(frozen=True)
class CostResult:
    """SEK spent per percentage point of improvement, with an interval.

    ``sek_per_point`` is NaN when the estimate is not an improvement; ``ci_high`` is
    infinite when the effect's CI includes no improvement at all or zero (then no upper
    bound on the cost can be given).
    """

    spent_sek: float
    sek_per_point: float
    ci_low: float
    ci_high: float
    note: str

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame."""
        return pd.DataFrame([asdict(self)])


def cost_per_point(
    spent_sek: float, effect: Estimate, *, lower_is_better: bool = True
) -> CostResult:
    """SEK per percentage point of improvement in the indicator.

    Parameters
    ----------
    spent_sek
        Money spent (nyttjat) on the investments behind ``effect``.
    effect
        The estimated change, in proportions.
    lower_is_better
        True for "share who feel unsafe" indicators: a fall is an improvement.

    Notes
    -----
    The interval maps the effect's CI through ``spent / (100 * improvement)``: the largest
    plausible improvement gives the lowest cost. When the CI reaches zero or the wrong side,
    the upper bound is infinite.

    Examples
    --------
    >>> e = Estimate.from_normal(-0.05, 0.01, n_treated=8, n_control=15, method="did_2x2")
    >>> c = cost_per_point(1_000_000, e)
    >>> round(c.sek_per_point), round(c.ci_low), round(c.ci_high)
    (200000, 143679, 328943)
    """
    sign = -1.0 if lower_is_better else 1.0
    imp = sign * effect.estimate * 100
    lo_imp = sign * np.array([effect.ci_low, effect.ci_high]) * 100
    best, worst = float(np.nanmax(lo_imp)), float(np.nanmin(lo_imp))
    if not np.isfinite(spent_sek) or not np.isfinite(imp):
        return CostResult(
            float(spent_sek), float("nan"), float("nan"), float("nan"), "no estimate or no spending"
        )
    if imp <= 0:
        return CostResult(
            float(spent_sek),
            float("nan"),
            spent_sek / best if best > 0 else float("nan"),
            float("inf"),
            "the estimate shows no improvement",
        )
    ci_low = spent_sek / best if best > 0 else float("nan")
    ci_high = spent_sek / worst if worst > 0 else float("inf")
    note = "" if worst > 0 else "the CI includes no effect, so the cost has no upper bound"
    return CostResult(float(spent_sek), float(spent_sek / imp), float(ci_low), float(ci_high), note)
