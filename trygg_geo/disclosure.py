"""Statistical disclosure control: what may be published from a survey panel.

Survey cells (area x wave) with fewer respondents than ``min_n`` are *suppressed*: the
analysis keeps them, but no published output (map, GeoPackage, report, figures, the CLI
summary) may hold their share, a change or an interval computed from them.

Blanking the cell itself is not enough. Every published estimate of trygg_geo's 2x2
difference-in-differences is a fixed linear combination of cell shares,
``estimate = sum(w * share)``, with the variance ``sum(w**2 * se**2)``. A reader who knows the
published cells can subtract them; what remains is a combination of suppressed cells only. If
that combination, or any combination of several published estimates, isolates *one*
suppressed cell, the cell is disclosed: a single-area effect plus the published shares of its
control areas gives the suppressed share back exactly.

:func:`disclosed_cells` decides this with linear algebra: suppressed cell ``k`` is disclosed
when the unit vector ``e_k`` lies in the row space of the matrix of published estimates'
weights on the suppressed cells (and the same for the squared weights, which act on the cells'
variances, from which a share follows up to ``p <-> 1 - p``). :func:`protect_estimates`
then blanks estimates, per-investment ones first, until nothing is disclosed, and writes the
reason in Swedish and English.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from trygg_geo._i18n import LANGS, TEXTS, text

__all__ = [
    "ESTIMATE_COLUMNS",
    "SUPPRESSED_REASON",
    "disclosed_cells",
    "protect_estimates",
    "publishable_area_values",
    "suppressed_cells",
]

log = logging.getLogger(__name__)

#: Columns of an effects table that are computed from cell shares and go blank together.
ESTIMATE_COLUMNS = (
    "estimate", "se", "ci_low", "ci_high", "p_value", "mde", "sek_per_point",
    "sek_per_point_ci_low", "sek_per_point_ci_high", "p_perm", "perm_ci_low", "perm_ci_high",
)

#: Why an estimate is not published, by language (the template ``disclosure.suppressed``).
SUPPRESSED_REASON = {lang: TEXTS["disclosure.suppressed"][lang] for lang in LANGS}

Cell = tuple[str, int]


def suppressed_cells(panel: pd.DataFrame, *, indicator: str | None = None) -> set[Cell]:
    """The ``(area_id, wave)`` cells flagged ``suppressed`` in ``panel``."""
    p = (
        panel
        if indicator is None or "indicator" not in panel
        else panel[panel["indicator"] == indicator]
    )
    s = p[p["suppressed"].astype(bool)]
    return {(str(a), int(w)) for a, w in zip(s["area_id"], s["wave"], strict=True)}


def _in_row_space(a: np.ndarray, *, tol: float = 1e-9) -> np.ndarray:
    """For each column k, whether the unit vector e_k lies in the row space of ``a``."""
    if a.size == 0:
        return np.zeros(a.shape[1], dtype=bool)
    _, s, vt = np.linalg.svd(a, full_matrices=False)
    r = int((s > tol * max(1.0, float(s[0]) if len(s) else 1.0)).sum())
    v = vt[:r]  # orthonormal basis of the row space
    # e_k in span(v) <=> |projection of e_k|^2 = sum_i v[i, k]^2 = 1
    return np.abs((v ** 2).sum(axis=0) - 1.0) < 1e-7


def disclosed_cells(weights: Sequence[Mapping[Cell, float]], suppressed: set[Cell]) -> set[Cell]:
    """The suppressed cells that the published estimates reveal.

    Parameters
    ----------
    weights
        One mapping per published estimate: cell -> weight of its share in the estimate.
    suppressed
        The suppressed cells; every other cell counts as published.

    Returns
    -------
    set
        Suppressed cells whose share (through the estimates) or variance (through their
        standard errors) can be solved for exactly.

    Examples
    --------
    A single-area effect against a published control reveals the area's suppressed cell:

    >>> w = {("a", 2018): -1.0, ("a", 2021): 1.0, ("c", 2018): 1.0, ("c", 2021): -1.0}
    >>> sorted(disclosed_cells([w], {("a", 2021)}))
    [('a', 2021)]

    Two suppressed cells with equal weight reveal only their sum:

    >>> w2 = {("a", 2021): 0.5, ("b", 2021): 0.5, ("c", 2021): -1.0}
    >>> disclosed_cells([w2], {("a", 2021), ("b", 2021)})
    set()
    """
    cells = sorted(suppressed)
    if not cells or not weights:
        return set()
    col = {c: j for j, c in enumerate(cells)}
    a = np.zeros((len(weights), len(cells)))
    for i, w in enumerate(weights):
        for c, v in w.items():
            j = col.get((str(c[0]), int(c[1])))
            if j is not None:
                a[i, j] = v
    a = a[np.abs(a).sum(axis=1) > 0]
    if not len(a):
        return set()
    hit = _in_row_space(a) | _in_row_space(a ** 2)
    hit &= np.abs(a).sum(axis=0) > 0
    return {cells[j] for j in np.flatnonzero(hit)}


def protect_estimates(
    effects: pd.DataFrame,
    weights: Sequence[Mapping[Cell, float] | None],
    suppressed: set[Cell],
    *,
    min_n: int,
    lang: str = "sv",
) -> pd.DataFrame:
    """Blank the published estimates that would disclose a suppressed cell.

    Estimates are blanked one at a time, per-investment (single-area) estimates before
    pooled ones and, among those, the one that puts most weight on a disclosed cell, until
    :func:`disclosed_cells` finds nothing. Blanked rows get ``suppressed = True`` and the
    reason in ``reason``; every value in :data:`ESTIMATE_COLUMNS` becomes NA. ``n_treated``,
    ``n_control``, the money and the ids stay.

    Parameters
    ----------
    effects
        One row per estimate (the pipeline's effects table).
    weights
        Per row of ``effects``, the cell weights of its estimate (``None`` for a row with no
        estimate).
    suppressed
        The suppressed cells of the panel.
    min_n
        The suppression threshold, for the reason text.
    lang
        ``"sv"`` or ``"en"`` for the reason.

    Returns
    -------
    DataFrame
        A copy of ``effects`` with the columns ``suppressed`` and ``reason`` added.
    """
    if len(weights) != len(effects):
        raise ValueError(f"{len(weights)} weight maps for {len(effects)} effect rows")
    out = effects.copy()
    out["suppressed"] = False
    if "reason" not in out.columns:
        out["reason"] = pd.Series(pd.NA, index=out.index, dtype="string")
    live = [i for i, w in enumerate(weights)
            if w is not None and pd.notna(out["estimate"].iloc[i])]
    scope = out["scope"].astype(str).to_numpy() if "scope" in out else np.full(len(out), "kind")
    blanked: list[int] = []
    while True:
        bad = disclosed_cells([weights[i] for i in live], suppressed)  # type: ignore[misc]
        if not bad:
            break

        def exposure(i: int) -> float:
            w = weights[i] or {}
            # called only within this iteration, so the current ``bad`` is the one meant
            return max(
                (abs(v) for c, v in w.items() if (str(c[0]), int(c[1])) in bad),  # noqa: B023
                default=0.0,
            )

        cand = [i for i in live if exposure(i) > 0]
        # single-area estimates first, then the one most exposed
        cand.sort(key=lambda i: (scope[i] != "investment", -exposure(i)))
        drop = cand[0]
        live.remove(drop)
        blanked.append(drop)
    if blanked:
        idx = out.index[blanked]
        cols = [c for c in ESTIMATE_COLUMNS if c in out.columns]
        out.loc[idx, cols] = np.nan
        out.loc[idx, "suppressed"] = True
        out.loc[idx, "reason"] = text("disclosure.suppressed", lang, min_n=min_n)
        log.info("%d estimates not published: they would disclose survey cells with n < %d",
                 len(blanked), min_n)
    return out


def publishable_area_values(
    areas: pd.DataFrame, *, indicator: str, waves: Sequence[int]
) -> pd.DataFrame:
    """Blank per-wave shares and the change where a cell is suppressed (a copy).

    Expects the columns ``<indicator>_<wave>`` and ``supp_<wave>`` per wave, and ``change``,
    ``change_ci_low``, ``change_ci_high``, ``significant``, ``suppressed`` (as written by the
    pipeline). ``n_<wave>`` is kept: a respondent count discloses no share.
    """
    out = areas.copy()
    for w in waves:
        col, flag = f"{indicator}_{w}", f"supp_{w}"
        if col in out and flag in out:
            out.loc[out[flag].astype(bool), col] = np.nan
    if "suppressed" in out:
        m = out["suppressed"].astype(bool)
        for col in ("change", "change_ci_low", "change_ci_high"):
            if col in out:
                out.loc[m, col] = np.nan
        if "significant" in out:
            out["significant"] = out["significant"].astype("boolean")
            out.loc[m, "significant"] = pd.NA
    return out
