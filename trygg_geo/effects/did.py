"""Difference-in-differences on area survey shares.

The 2x2 estimator here works on a survey panel (one share per area, wave and indicator, each
with its sampling standard error). Treated areas are compared with control areas between
the last wave before and the first wave after the investment (the cohort). With several
cohorts, each cohort is compared with the controls over its own pair of waves, and the
cohort estimates are pooled with weights proportional to the number of treated areas
(as in Callaway & Sant'Anna's "simple" aggregation of 2x2 comparisons).

The estimate is a fixed linear combination of the cell shares, ``sum(a * y)``. Respondents in
different areas and waves are different people, so the cells are independent and the
variance is exactly ``sum(a**2 * se**2)`` (survey-weighted when the panel's ``se`` is).
Real districts also move from wave to wave for their own reasons; with ``tau2=`` (the
district x wave variance of :func:`trygg_geo.effects.variance.between_district_variance`)
every cell's variance is ``se**2 + tau2``, so the variance is ``sum(a**2 * (se**2 + tau2))``,
and the interval uses a t critical value with Satterthwaite degrees of freedom for the
estimated ``tau2`` (:func:`trygg_geo.effects.variance.model_inference`). Without ``tau2`` the
interval covers sampling error only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trygg_geo._errors import InputError
from trygg_geo.effects._result import Estimate
from trygg_geo.effects.variance import Tau2Result, model_inference

__all__ = ["DidContrast", "did_2x2", "did_contrast"]


@dataclass(frozen=True)
class DidContrast:
    """The cell weights of a 2x2 DiD: ``estimate = sum(weights * share)``.

    Attributes
    ----------
    cells
        ``area_id, wave, weight, share, se, n`` for every cell that enters the estimate.
    n_treated, n_control
        Units used.
    dropped
        Treated or control units left out, with the reason (missing cells).
    """

    cells: pd.DataFrame
    n_treated: int
    n_control: int
    dropped: pd.DataFrame

    @property
    def estimate(self) -> float:
        """The DiD estimate, ``sum(weight * share)`` over the cells."""
        return float((self.cells["weight"] * self.cells["share"]).sum())

    @property
    def se(self) -> float:
        """Standard error of :attr:`estimate` from sampling alone (independent cells)."""
        return float(np.sqrt(self.sampling_var))

    @property
    def sampling_var(self) -> float:
        """``sum(weight**2 * se**2)``: the sampling variance of :attr:`estimate`."""
        return float((self.cells["weight"] ** 2 * self.cells["se"] ** 2).sum())

    @property
    def weight_sq(self) -> float:
        """``sum(weight**2)``: what a district x wave variance ``tau2`` is multiplied by."""
        return float((self.cells["weight"] ** 2).sum())

    def se_with(self, tau2: float) -> float:
        """Standard error with ``tau2`` added to every cell's variance."""
        return float(np.sqrt(self.sampling_var + self.weight_sq * float(tau2)))


def _cell_table(panel: pd.DataFrame, indicator: str | None) -> pd.DataFrame:
    need = {"area_id", "wave", "share", "se"}
    missing = need - set(panel.columns)
    if missing:
        raise InputError(
            f"the survey panel lacks the columns {sorted(missing)}; found {list(panel.columns)}.",
            fix="build it with trygg_geo.survey.survey_panel.",
        )
    p = panel
    if indicator is not None:
        if "indicator" not in p.columns:
            raise InputError("the survey panel has no 'indicator' column to select from.")
        p = p[p["indicator"] == indicator]
        if p.empty:
            raise InputError(f"the survey panel has no rows for the indicator '{indicator}'.",
                             fix="check [survey] indicator in projekt.toml.")
    if p.duplicated(["area_id", "wave"]).any():
        dup = p[p.duplicated(["area_id", "wave"], keep=False)][["area_id", "wave"]].head(3)
        raise InputError(
            f"the survey panel has several rows per area and wave (e.g. {dup.to_dict('records')}).",
            fix="select one indicator, or aggregate respondents first.",
        )
    cols = ["area_id", "wave", "share", "se"] + (["n"] if "n" in p.columns else [])
    t = p[cols].copy()
    t["area_id"] = t["area_id"].astype(str)
    t["wave"] = t["wave"].astype(int)
    return t.set_index(["area_id", "wave"]).sort_index()


def _window(when: int | tuple[int, int], waves: list[int]) -> tuple[int, int] | str:
    """The (pre, post) waves of a treated unit, or why it has none.

    ``when`` is a cohort (the first wave after completion; pre is the wave before it) or an
    explicit ``(pre, post)`` pair (pre is the last wave before the work started).
    """
    if isinstance(when, tuple):
        pre, post = int(when[0]), int(when[1])
        if pre not in waves or post not in waves or pre >= post:
            return f"window {pre}-{post} is not two survey waves in order"
        return pre, post
    cohort = int(when)
    if cohort not in waves or waves.index(cohort) == 0:
        return f"cohort {cohort} has no earlier wave"
    return waves[waves.index(cohort) - 1], cohort


def did_contrast(
    panel: pd.DataFrame,
    *,
    treated: Mapping[str, int | tuple[int, int]],
    controls: Sequence[str],
    waves: Sequence[int],
    indicator: str | None = None,
) -> DidContrast:
    """Build the cell weights of the pooled 2x2 DiD (see :func:`did_2x2`)."""
    cells = _cell_table(panel, indicator)
    waves = sorted(int(w) for w in waves)
    have = set(cells.index)
    weights: dict[tuple[str, int], float] = {}
    dropped: list[dict[str, object]] = []
    by_window: dict[tuple[int, int], list[str]] = {}
    for unit, when in treated.items():
        window = _window(when, waves)
        if isinstance(window, str):
            dropped.append({"area_id": unit, "role": "treated", "reason": window})
            continue
        pre, post = window
        if (str(unit), pre) not in have or (str(unit), post) not in have:
            dropped.append({"area_id": unit, "role": "treated",
                            "reason": f"no survey value for {pre} or {post}"})
            continue
        by_window.setdefault(window, []).append(str(unit))
    n_t = sum(len(v) for v in by_window.values())
    used_controls: set[str] = set()
    for (pre, cohort), units in sorted(by_window.items()):
        ctrl = [str(c) for c in controls if (str(c), pre) in have and (str(c), cohort) in have]
        if not ctrl:
            for u in units:
                dropped.append(
                    {
                        "area_id": u,
                        "role": "treated",
                        "reason": f"no control area surveyed in {pre} and {cohort}",
                    }
                )
            n_t -= len(units)
            continue
        share_g = len(units)
        for u in units:
            weights[(u, cohort)] = weights.get((u, cohort), 0.0) + 1.0
            weights[(u, pre)] = weights.get((u, pre), 0.0) - 1.0
        for c in ctrl:
            used_controls.add(c)
            weights[(c, cohort)] = weights.get((c, cohort), 0.0) - share_g / len(ctrl)
            weights[(c, pre)] = weights.get((c, pre), 0.0) + share_g / len(ctrl)
    for c in controls:
        if str(c) not in used_controls:
            dropped.append(
                {
                    "area_id": str(c),
                    "role": "control",
                    "reason": "not surveyed in the waves compared",
                }
            )
    if n_t == 0:
        cells_out = pd.DataFrame(columns=["area_id", "wave", "weight", "share", "se", "n"])
        return DidContrast(
            cells_out,
            0,
            len(used_controls),
            pd.DataFrame(dropped, columns=["area_id", "role", "reason"]),
        )
    idx = pd.MultiIndex.from_tuples(list(weights), names=["area_id", "wave"])
    out = cells.loc[idx].reset_index()
    out.insert(2, "weight", np.array(list(weights.values())) / n_t)
    if "n" not in out.columns:
        out["n"] = np.nan
    return DidContrast(out, n_t, len(used_controls),
                       pd.DataFrame(dropped, columns=["area_id", "role", "reason"]))


def did_2x2(
    panel: pd.DataFrame,
    *,
    treated: Mapping[str, int | tuple[int, int]],
    controls: Sequence[str],
    waves: Sequence[int],
    indicator: str | None = None,
    label: str = "",
    level: float = 0.95,
    power: float = 0.80,
    tau2: float | Tau2Result | None = None,
) -> Estimate:
    """Pooled 2x2 difference-in-differences on survey shares.

    Parameters
    ----------
    panel
        Survey panel: ``area_id, wave, share, se`` (and ``indicator``, ``n``).
    treated
        Treated area id -> cohort (the first wave after the investment was completed; it
        is compared with the wave before), or -> ``(pre, post)``: the last wave before the
        work started and the first after it was completed (the measurement window). Units
        with the same window are compared with the controls over that window, and the
        windows are pooled with weights proportional to their number of treated units.
    controls
        Control area ids (never treated in the study window).
    waves
        All survey waves, in any order.
    indicator
        Select this indicator from the panel.
    label
        What is estimated (a kind, an investment id).
    level
        Confidence level.
    power
        Power for the minimum detectable effect reported with the estimate.
    tau2
        District x wave variance added to every cell's variance: a
        :class:`~trygg_geo.effects.variance.Tau2Result` (its estimation error sets the
        Satterthwaite degrees of freedom of the t critical value), a known number (normal
        critical value), or None for sampling error only.

    Returns
    -------
    Estimate
        ``estimate`` in proportions (-0.05 = five percentage points fewer), its SE from the
        binomial (or survey-weighted) cell variances plus ``tau2``, a t (or normal) CI and
        p-value, n treated and n control, and ``mde``: the smallest true effect this design
        detects with the given power at the given level, ``(t_crit(level, df) + z_power) *
        se``. ``extra`` holds ``df`` (NaN = normal), ``tau2``, ``se_sampling``, the number of
        respondents and the units left out.

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.DataFrame({
    ...     "area_id": ["a", "a", "b", "b"], "wave": [2018, 2021, 2018, 2021],
    ...     "share": [0.30, 0.22, 0.28, 0.27], "se": [0.03, 0.03, 0.03, 0.03]})
    >>> est = did_2x2(panel, treated={"a": 2021}, controls=["b"], waves=[2018, 2021])
    >>> round(est.estimate, 3), round(est.se, 3)
    (-0.07, 0.06)

    With a 3 pp district x wave SD (``tau2 = 0.0009``) in each of the four cells:

    >>> round(did_2x2(panel, treated={"a": 2021}, controls=["b"], waves=[2018, 2021],
    ...               tau2=0.0009).se, 4)
    0.0849
    """
    con = did_contrast(panel, treated=treated, controls=controls, waves=waves, indicator=indicator)
    if con.n_treated == 0 or con.n_control == 0:
        return Estimate(
            estimate=float("nan"),
            se=float("nan"),
            ci_low=float("nan"),
            ci_high=float("nan"),
            p_value=float("nan"),
            n_treated=con.n_treated,
            n_control=con.n_control,
            method="did_2x2",
            label=label,
            level=level,
            extra={
                "note": "no treated area with survey values before and after, or no controls",
                "dropped": len(con.dropped),
            },
        )
    est = con.estimate
    inf = model_inference(est, con.sampling_var, con.weight_sq, tau2, level=level, power=power)
    n_resp = float(con.cells["n"].sum()) if con.cells["n"].notna().all() else float("nan")
    return Estimate(
        estimate=est, se=inf["se"], ci_low=inf["ci_low"], ci_high=inf["ci_high"],
        p_value=inf["p_value"], n_treated=con.n_treated, n_control=con.n_control,
        method="did_2x2", label=label, level=level, mde=inf["mde"],
        extra={"n_respondents": n_resp, "n_cells": len(con.cells), "dropped": len(con.dropped),
               "df": inf["df"], "tau2": inf["tau2"], "se_sampling": con.se},
    )
