"""Critical values, Holm adjustment and the confidence-level keyword shared by every estimator.

Every interval in the package is ``estimate -/+ t_crit(level, df) * se`` (``df`` NaN or
infinite: the normal ``z_crit(level)``); every minimum detectable effect is
``(t_crit(level, df) + z_power(power)) * se``. The confidence parameter
is called ``level`` everywhere (0.95 for a 95% interval); :func:`resolve_level` turns the
old ``alpha=`` keyword into ``level`` for functions that used to take it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

__all__ = ["holm_adjust", "resolve_level", "t_crit", "t_p_value", "z_crit", "z_power"]


def _check_unit_interval(value: float, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and 0 < v < 1):
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}.")
    return v


def z_crit(level: float) -> float:
    """Two-sided critical value of the standard normal at confidence ``level``.

    ``norm.ppf(0.5 + level / 2)``: the ``z`` with ``P(|Z| <= z) = level``.

    Parameters
    ----------
    level
        Confidence level, strictly between 0 and 1 (0.95 for a 95% interval).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``level`` is not a finite number strictly between 0 and 1 (e.g. 95 or 0.05
        passed as a percentage or as alpha would give a meaningless interval).

    Examples
    --------
    >>> round(z_crit(0.95), 4)
    1.96
    >>> round(z_crit(0.90), 4)
    1.6449
    >>> z_crit(95)
    Traceback (most recent call last):
    ...
    ValueError: level must lie strictly between 0 and 1, got 95.
    """
    v = _check_unit_interval(level, "level")
    return float(stats.norm.ppf(0.5 + v / 2))


def t_crit(level: float, df: float) -> float:
    """Two-sided critical value of Student's t with ``df`` degrees of freedom.

    ``df`` NaN, infinite or above 1e6 gives the normal :func:`z_crit`; a fractional ``df``
    (Satterthwaite) is used as it is.

    Parameters
    ----------
    level
        Confidence level, strictly between 0 and 1.
    df
        Degrees of freedom (> 0), or NaN / inf for the normal.

    Returns
    -------
    float

    Examples
    --------
    >>> round(t_crit(0.95, 4), 4)
    2.7764
    >>> t_crit(0.95, float("nan")) == z_crit(0.95)
    True
    """
    v = _check_unit_interval(level, "level")
    d = float(df)
    if not math.isfinite(d) or d > 1e6:
        return z_crit(v)
    if d <= 0:
        raise ValueError(f"df must be positive, got {df!r}.")
    return float(stats.t.ppf(0.5 + v / 2, d))


def t_p_value(statistic: float, df: float) -> float:
    """Two-sided p-value of a t statistic (normal when ``df`` is NaN or infinite).

    Examples
    --------
    >>> round(t_p_value(2.0, 10), 4), round(t_p_value(2.0, float("inf")), 4)
    (0.0734, 0.0455)
    """
    if not math.isfinite(statistic):
        return float("nan")
    d = float(df)
    if not math.isfinite(d) or d > 1e6:
        return float(2 * stats.norm.sf(abs(statistic)))
    return float(2 * stats.t.sf(abs(statistic), d))


def holm_adjust(p_values: object) -> np.ndarray:
    """Holm-adjusted p-values; NaN entries stay NaN and are not counted as tests.

    Holm's step-down method controls the family-wise error rate (the chance of at least one
    false "significant") at the nominal level under any dependence between the tests (Holm
    1979). This is :func:`statsmodels.stats.multitest.multipletests` with
    ``method="holm"`` on the finite p-values.

    Parameters
    ----------
    p_values
        Array-like of p-values, NaN where there is no test.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values in the input order.

    Examples
    --------
    >>> holm_adjust([0.01, float("nan"), 0.04, 0.03]).round(2).tolist()
    [0.03, nan, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def z_power(power: float) -> float:
    """One-sided normal quantile for a test of the given ``power``: ``norm.ppf(power)``.

    Parameters
    ----------
    power
        Probability of detecting the effect, strictly between 0 and 1.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``power`` is not a finite number strictly between 0 and 1.

    Examples
    --------
    >>> round(z_power(0.80), 4)
    0.8416
    >>> round(z_crit(0.95) + z_power(0.80), 2)  # the usual MDE multiplier
    2.8
    """
    v = _check_unit_interval(power, "power")
    return float(stats.norm.ppf(v))


def resolve_level(
    level: float | None, alpha: float | None, *, where: str, default: float = 0.95
) -> float:
    """The confidence level from ``level=`` or the deprecated ``alpha=`` keyword.

    Parameters
    ----------
    level
        The level given, or None when not given.
    alpha
        The deprecated significance level given, or None; converted to ``1 - alpha`` with a
        :class:`DeprecationWarning`.
    where
        The function's name, for the messages.
    default
        Level when neither is given.

    Returns
    -------
    float
        A level strictly between 0 and 1.

    Raises
    ------
    TypeError
        When both ``level`` and ``alpha`` are given.
    ValueError
        When the resulting level is not strictly between 0 and 1.

    Examples
    --------
    >>> resolve_level(None, None, where="f")
    0.95
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     resolve_level(None, 0.1, where="f")
    0.9
    """
    if alpha is not None:
        if level is not None:
            raise TypeError(
                f"{where}() got both level={level!r} and the deprecated alpha={alpha!r}; "
                "pass only level (level = 1 - alpha)."
            )
        warnings.warn(
            f"{where}(alpha=...) is deprecated; pass level={1 - float(alpha):g} instead "
            "(level = 1 - alpha).",
            DeprecationWarning,
            stacklevel=3,
        )
        _check_unit_interval(alpha, "alpha")
        level = 1 - float(alpha)
    if level is None:
        return float(default)
    return _check_unit_interval(level, "level")
