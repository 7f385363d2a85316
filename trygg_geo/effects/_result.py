"""The typed result every effect estimator returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from trygg_geo._stats import z_crit

__all__ = ["Estimate", "normal_ci"]


def normal_ci(estimate: float, se: float, *, level: float = 0.95) -> tuple[float, float, float]:
    """Normal-approximation confidence interval and two-sided p-value.

    Returns ``(ci_low, ci_high, p_value)``; all NaN when ``se`` is not a
    positive finite number.
    """
    if not (np.isfinite(estimate) and np.isfinite(se) and se > 0):
        return (float("nan"), float("nan"), float("nan"))
    z = z_crit(level)
    p = float(2 * stats.norm.sf(abs(estimate / se)))
    return (estimate - z * se, estimate + z * se, p)


@dataclass(frozen=True)
class Estimate:
    """One effect estimate with its uncertainty and its n.

    Attributes
    ----------
    estimate
        The point estimate, in the outcome's unit (for survey shares:
        a proportion, so 0.03 is three percentage points).
    se
        Standard error.
    ci_low, ci_high
        Confidence interval at ``level``.
    p_value
        Two-sided p-value for "no effect".
    n_treated, n_control
        Numbers of treated and control units.
    method
        Short method id, e.g. ``"did_2x2"``, ``"callaway_santanna"``.
    label
        What was estimated (a kind, an investment id, an area id).
    level
        Confidence level of the interval.
    mde
        Minimum detectable effect of the design (same unit), if computed.
    extra
        Method-specific details (n respondents, permutations, ...).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_control: int
    method: str
    label: str = ""
    level: float = 0.95
    mde: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_normal(
        cls,
        estimate: float,
        se: float,
        *,
        n_treated: int,
        n_control: int,
        method: str,
        label: str = "",
        level: float = 0.95,
        mde: float = float("nan"),
        extra: dict[str, Any] | None = None,
    ) -> Estimate:
        """Build an estimate with a normal-approximation CI and p-value."""
        lo, hi, p = normal_ci(estimate, se, level=level)
        return cls(
            estimate=float(estimate),
            se=float(se),
            ci_low=lo,
            ci_high=hi,
            p_value=p,
            n_treated=int(n_treated),
            n_control=int(n_control),
            method=method,
            label=label,
            level=level,
            mde=float(mde),
            extra=dict(extra or {}),
        )

    @property
    def significant(self) -> bool:
        """True when the CI excludes zero."""
        return bool(np.isfinite(self.ci_low) and (self.ci_low > 0 or self.ci_high < 0))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        d.update({f"extra_{k}": v for k, v in extra.items() if np.isscalar(v)})
        return d

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of the estimate (scalar extras become columns)."""
        return pd.DataFrame([self.to_dict()])
