"""Power (minimum detectable effect) and cost per percentage point.

The MDE answers "what could this design have detected?": with about 50-300 respondents
per district and wave, one district's change is mostly noise, and a non-significant
estimate means little unless the design could have detected a change of plausible size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from trygg_geo.effects._result import Estimate

__all__ = ["CostResult", "cost_per_point", "mde_did"]


def mde_did(
    *,
    n_per_area: float,
    n_treated: int,
    n_control: int,
    p: float = 0.3,
    icc: float = 0.0,
    level: float = 0.95,
    power: float = 0.80,
) -> float:
    """Minimum detectable effect of a 2x2 DiD on area shares (a proportion).

    Each area-wave share has variance ``p(1-p) * (icc + (1 - icc) / n)``: the sampling
    variance of ``n`` respondents plus the area-by-wave variance, expressed as an
    intra-cluster correlation ``icc`` of the binary answer (Bloom 2005). A DiD differences
    two waves for treated and control areas, so its variance is
    ``2 * v * (1 / n_treated + 1 / n_control)`` and the MDE is
    ``(z_(1-alpha/2) + z_power) * sqrt(var)``.

    >>> round(mde_did(n_per_area=150, n_treated=8, n_control=15, p=0.3), 4)
    0.0649
    >>> mde_did(n_per_area=150, n_treated=8, n_control=15, p=0.3, icc=0.02) > 0.0649
    True
    """
    if n_treated < 1 or n_control < 1 or n_per_area <= 0:
        return float("nan")
    v = p * (1 - p) * (icc + (1 - icc) / n_per_area)
    var = 2 * v * (1 / n_treated + 1 / n_control)
    z = stats.norm.ppf(0.5 + level / 2) + stats.norm.ppf(power)
    return float(z * np.sqrt(var))


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

    The interval maps the effect's CI through ``spent / (100 * improvement)``: the largest
    plausible improvement gives the lowest cost. When the CI reaches zero or the wrong side,
    the upper bound is infinite.

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
