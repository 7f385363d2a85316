"""The run's effect table: a pooled 2x2 DiD per kind and one per investment.

This is the estimation rule of :func:`trygg_geo.run`, usable on its own. It takes the
design (:func:`trygg_geo.design.assign_roles`) and reads everything about which area an
investment is in from the design's one investment -> area relation (``DesignResult.links``):

- **treatment**: the roles (treated areas with their cohorts, the controls);
- **money**: the amount spent, split over the areas an investment reaches by its share
  (:meth:`~trygg_geo.design.DesignResult.spend_by_area`), so a line that crosses two
  treated areas puts its money in both, in proportion, and never twice;
- **per-investment effects**: every treated area the investment reaches is a treated unit
  of its estimate (a line crossing two treated areas gets one estimate over both), measured
  over the investment's own window: from the last wave before its work started to the
  first wave after it was completed.

Per-investment estimates are computed once per contrast (issue 17): investments whose treated
areas and windows are the same (the treated set with its windows, ``(area, pre_wave,
cohort)``) share one 2x2 estimate, its permutation test, its disclosure weights and its cost
per point (which uses the money of every measured investment in those areas). Each such row
names its contrast (``contrast_id``, e.g. ``SD01:2018-2021``; areas joined by ``+``) and how
many investments share it (``n_sharing``), so a register of 100,000 rows costs as many
estimates as it has distinct contrasts.

Every placed investment gets a row. One that cannot be estimated says why, in the run's
language: not measurable yet (completed after the last wave; the next wave is named),
ongoing, cancelled, no completion date, an exact duplicate of another row, or its area is
excluded. Every kind with treated areas gets a row too; a kind whose areas all got several
kinds in the window, and the unrecognised kind ``annat``, carry a reason instead of a pooled
estimate.

Estimates that would disclose a suppressed survey cell are not published
(:func:`trygg_geo.disclosure.protect_estimates`), and every missing estimate has a
``reason`` in the run's language.

Uncertainty (issue 12): every cell's variance includes the district x wave variance
``tau2`` estimated from the control areas' changes
(:func:`trygg_geo.effects.variance.between_district_variance`; column ``tau2``), with a t
critical value on Satterthwaite degrees of freedom (``df``). Every estimate, pooled or per
investment, also gets a permutation test; with fewer than
:data:`~trygg_geo.effects.inference.MIN_TREATED_MODEL` treated areas its p-value and
interval are the headline (``headline``, ``headline_reason``). The per-investment rows'
headline p-values are Holm-adjusted as one family (``p_adjusted``, ``adjust_method``), and
``significant`` is judged by ``p_adjusted`` where it exists, else by the headline p-value;
:func:`expected_false_positives` says how many significant results chance alone would give.
Every row with an estimate has an ``mde``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from trygg_geo._errors import InputError
from trygg_geo._i18n import text
from trygg_geo._stats import holm_adjust
from trygg_geo.design import DesignResult
from trygg_geo.disclosure import disclosed_cells, protect_estimates, suppressed_cells
from trygg_geo.effects._result import Estimate
from trygg_geo.effects._table import EFFECT_COLUMNS
from trygg_geo.effects.did import did_2x2, did_contrast
from trygg_geo.effects.inference import (
    MIN_TREATED_MODEL,
    PermutationResult,
    choose_headline,
    permutation_test,
)
from trygg_geo.effects.power import CostResult, cost_per_point, mde_from_se
from trygg_geo.effects.selection import (
    EstimatorChoice,
    StaggeredByKind,
    choose_estimator,
    staggered_by_kind,
)
from trygg_geo.effects.variance import Tau2Result, between_district_variance
from trygg_geo.interventions import CATALOGUE

__all__ = ["EFFECT_COLUMNS", "EffectEstimates", "count_tests", "estimate_effects",
           "evaluate_effects", "expected_false_positives", "headline_p"]

log = logging.getLogger(__name__)


#: Investment timings (see :func:`trygg_geo.design._timing`) -> the text key of the reason
#: why the investment has no estimate of its own.
_TIMING_REASON = {
    "after_window": "effects.not_yet",
    "work_in_last_window": "effects.not_yet",
    "not_yet": "effects.ongoing_not_yet",
    "ongoing": "effects.ongoing",
    "cancelled": "effects.cancelled",
    "cancelled_with_work": "effects.cancelled",
    "no_date": "effects.no_date",
    "before_window": "effects.before_window",
    "started_before_window": "effects.started_before_window",
}


class _Study:
    """The fixed parts of every contrast in one run: panel, controls, waves, indicator."""

    def __init__(self, panel: pd.DataFrame, controls: list[str], *, waves: list[int],
                 indicator: str, level: float, tau2: Tau2Result | float, power: float,
                 n_permutations: int, seed: int, min_treated: int, lang: str) -> None:
        # without its attrs (the survey join): pandas deep-copies attrs on every operation,
        # which was a quarter of each contrast's time
        self.panel = panel.copy(deep=False)
        self.panel.attrs = {}
        self.controls, self.waves = controls, waves
        self.indicator, self.level, self.tau2, self.power = indicator, level, tau2, power
        self.n_permutations, self.seed = n_permutations, seed
        self.min_treated, self.lang = min_treated, lang

    def did(self, treated: dict[str, tuple[int, int]], label: str) -> Estimate:
        return did_2x2(self.panel, treated=treated, controls=self.controls, waves=self.waves,
                       indicator=self.indicator, label=label, level=self.level,
                       power=self.power, tau2=self.tau2)

    def permutation(self, treated: dict[str, tuple[int, int]], label: str
                    ) -> PermutationResult | None:
        """The permutation test of the contrast, or None when it cannot be run."""
        try:
            return permutation_test(self.panel, treated=treated, controls=self.controls,
                                    waves=self.waves, indicator=self.indicator,
                                    n_permutations=self.n_permutations, seed=self.seed,
                                    level=self.level, label=label)
        except InputError as exc:
            log.info("no permutation test for %s: %s", label, exc)
            return None

    def inference(self, row: dict[str, Any], est: Estimate,
                  perm: PermutationResult | None) -> None:
        """Add the permutation result, tau2, df and the headline choice to ``row``."""
        if perm is not None:
            row.update(p_perm=perm.p_value, perm_ci_low=perm.ci_low,
                       perm_ci_high=perm.ci_high, perm_exact=perm.exact,
                       n_permutations=perm.n_permutations)
        row.update(tau2=est.extra.get("tau2", np.nan), df=est.extra.get("df", np.nan))
        if np.isfinite(est.estimate):
            head, key = choose_headline(est.n_treated, perm, min_treated=self.min_treated)
            row.update(headline=head, headline_reason=text(
                key, self.lang, n_treated=est.n_treated, min_treated=self.min_treated))

    def weights(self, treated: dict[str, tuple[int, int]]) -> dict[tuple[str, int], float]:
        """The weight of every survey cell in the contrast (for the disclosure check)."""
        c = did_contrast(self.panel, treated=treated, controls=self.controls, waves=self.waves,
                         indicator=self.indicator).cells
        return {(str(a), int(w)): float(v)
                for a, w, v in zip(c["area_id"], c["wave"], c["weight"], strict=True)}


def estimate_effects(
    panel: pd.DataFrame,
    design: DesignResult,
    investments: pd.DataFrame,
    *,
    indicator: str,
    waves: list[int],
    level: float = 0.95,
    n_permutations: int = 10_000,
    seed: int = 0,
    min_n: int = 30,
    lang: str = "sv",
    tau2: Tau2Result | float | None = None,
    power: float = 0.80,
    min_treated_model: int = MIN_TREATED_MODEL,
    estimator: str = "did_2x2",
) -> pd.DataFrame:
    """Pooled 2x2 DiD per kind and one DiD per investment, each with a permutation test.

    The table of :func:`evaluate_effects` (which also returns the event study): with
    ``estimator="auto"`` the kind rows use the estimator the design calls for.

    Parameters
    ----------
    panel
        :func:`trygg_geo.survey.survey_panel` output.
    design
        :func:`trygg_geo.design.assign_roles` run on ``investments`` with ``kind="kind"``.
    investments
        The placed investments exactly as passed to :func:`assign_roles` (the relation
        refers to their row positions): ``investment_id``, ``kind``, ``completed``,
        ``spent_sek`` and, when present, ``source_row`` and ``duplicate_of`` (an exact
        duplicate of an earlier register row: counted once, so it has no money and no
        estimate of its own).
    indicator, waves, level
        The indicator, the study waves and the confidence level of the intervals.
    n_permutations, seed
        The permutation test of each pooled kind.
    min_n
        Smallest publishable survey cell.
    lang
        Language of the ``reason`` texts.
    tau2
        The district x wave variance added to every cell; None (default) estimates it from
        the design's control areas with
        :func:`~trygg_geo.effects.variance.between_district_variance`. A plain number is
        taken as known (normal critical values).
    power
        Power of the minimum detectable effect (``mde``).
    min_treated_model
        With fewer treated areas, the permutation result is the headline
        (:func:`~trygg_geo.effects.inference.choose_headline`).

    estimator
        ``"did_2x2"`` (default here): pooled 2x2 kind rows. ``"auto"``: the estimator
        :func:`~trygg_geo.effects.selection.choose_estimator` picks from the design
        (Callaway-Sant'Anna per kind with more than two waves).

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS` plus ``suppressed``: one row per kind with treated areas
        (``scope="kind"``; pooled over the areas treated by that kind only), then one per
        placed investment (``scope="investment"``). Every row without an estimate has a
        ``reason``.

    Notes
    -----
    The money of a kind and the cost per point count only investments measured in the
    window (completed inside it), split over areas by share. A kind whose pooled estimate
    would disclose a small survey cell is first re-estimated without the treated areas that
    carry small cells (``n_small_left_out`` says how many).
    """
    return evaluate_effects(
        panel, design, investments, indicator=indicator, waves=waves, level=level,
        n_permutations=n_permutations, seed=seed, min_n=min_n, lang=lang, tau2=tau2,
        power=power, min_treated_model=min_treated_model, estimator=estimator).table


@dataclass(frozen=True)
class EffectEstimates:
    """The run's effects: the table, the kind rows' estimator and the event study.

    ``choice`` is the estimator chosen for the kind rows and why (None when it was forced);
    ``event_study`` and ``pretrends`` are filled in Callaway-Sant'Anna runs, empty otherwise.
    ``n_contrasts`` is the number of distinct per-investment contrasts estimated (each once,
    with its permutation test), however many investment rows share them.
    """

    table: pd.DataFrame
    choice: EstimatorChoice | None
    event_study: pd.DataFrame
    pretrends: pd.DataFrame
    tau2: Tau2Result | float
    n_contrasts: int = 0


def evaluate_effects(
    panel: pd.DataFrame,
    design: DesignResult,
    investments: pd.DataFrame,
    *,
    indicator: str,
    waves: list[int],
    level: float = 0.95,
    n_permutations: int = 10_000,
    seed: int = 0,
    min_n: int = 30,
    lang: str = "sv",
    tau2: Tau2Result | float | None = None,
    power: float = 0.80,
    min_treated_model: int = MIN_TREATED_MODEL,
    estimator: str = "auto",
) -> EffectEstimates:
    """The effect table with the estimator the design calls for (see :func:`estimate_effects`).

    With more than two waves (:func:`~trygg_geo.effects.selection.choose_estimator`), each
    kind's row is the Callaway-Sant'Anna overall effect with not-yet-treated controls
    (:func:`~trygg_geo.effects.selection.staggered_by_kind`): ``method="callaway_santanna"``,
    its honest SE with ``tau2``, ``pretrend_p`` and the money and cost per point of the kind's
    measured investments; the event study and the pre-trend tests are returned beside the
    table. Per-investment rows stay 2x2 contrasts over each investment's own window. The
    disclosure check, the MDE and the Holm adjustment run over the final rows.
    """
    if estimator not in ("auto", "did_2x2"):
        raise InputError(f"estimator must be 'auto' or 'did_2x2', not {estimator!r}")
    roles = design.roles
    controls = roles.loc[roles["role"] == "control", "area_id"].astype(str).tolist()
    if tau2 is None:
        tau2 = between_district_variance(panel, controls, indicator=indicator, waves=waves)
    study = _Study(panel, controls, waves=waves, indicator=indicator, level=level, tau2=tau2,
                   power=power, n_permutations=n_permutations, seed=seed,
                   min_treated=min_treated_model, lang=lang)
    small = suppressed_cells(panel, indicator=indicator)
    inv = investments.reset_index(drop=True)
    dup = inv["duplicate_of"].notna().to_numpy() if "duplicate_of" in inv.columns else \
        np.zeros(len(inv), dtype=bool)
    timing = _row_timing(design, len(inv))
    measured = (timing == "in_window").to_numpy() & ~dup
    spent = pd.to_numeric(inv["spent_sek"], errors="coerce").to_numpy(dtype=float)
    spent = np.where(dup, np.nan, spent)
    kind_rows = _kind_rows(study, design, inv, spent, measured, small, lang)
    choice = choose_estimator(design, waves) if estimator == "auto" else None
    event_study = pretrends = pd.DataFrame()
    if choice is not None and choice.code == "callaway_santanna":
        stag = staggered_by_kind(panel, design, indicator=indicator, waves=waves, level=level,
                                 tau2=tau2, power=power, lang=lang,
                                 n_permutations=n_permutations, seed=seed,
                                 min_treated=min_treated_model)
        kind_rows = _staggered_kind_rows(kind_rows, stag, tau2=tau2, level=level, power=power,
                                         small=small)
        event_study, pretrends = stag.event_study, stag.pretrends
    invest = _investment_rows(study, design, inv, spent, measured, dup, timing, lang)
    # the disclosure check runs over the kind rows and one row per contrast (investments
    # that share a contrast publish the same estimate); then every investment row is filled
    compact = [*kind_rows, *invest.contrasts]
    table = pd.DataFrame([r for r, _ in compact], columns=EFFECT_COLUMNS)
    table["reason"] = table["reason"].astype("string")
    table = protect_estimates(table, [w for _, w in compact], small, min_n=min_n, lang=lang)
    table = _expand(table, len(kind_rows), invest, study.indicator)
    none = table["estimate"].isna() & table["reason"].isna()
    table.loc[none, "reason"] = text("effects.no_estimate", lang)
    table = _fill_mde(table, level=level, power=power)
    table = _multiple_testing(table, level=level)
    # a plain dict, so writers that serialise attrs (GeoPackage metadata) can
    table.attrs["tau2"] = asdict(tau2) if isinstance(tau2, Tau2Result) else {"value": tau2}
    return EffectEstimates(table=table, choice=choice, event_study=event_study,
                           pretrends=pretrends, tau2=tau2, n_contrasts=len(invest.contrasts))


_CS_FIELDS = ("method", "estimate", "se", "ci_low", "ci_high", "p_value", "mde", "n_treated",
              "n_control", "df", "tau2", "headline", "headline_reason", "pretrend_p", "reason",
              "n_respondents", "unit_ids")


def _staggered_kind_rows(
    kind_rows: list[tuple[dict[str, Any], dict[tuple[str, int], float] | None]],
    stag: StaggeredByKind, *, tau2: Tau2Result | float, level: float, power: float,
    small: set[tuple[str, int]],
) -> list[tuple[dict[str, Any], dict[tuple[str, int], float] | None]]:
    """The kind rows with the Callaway-Sant'Anna estimate in place of the pooled 2x2.

    The money of a kind stays that of its measured investments; the cost per point follows
    the new estimate. A kind the staggered estimator cannot estimate keeps its reason. A
    kind whose staggered estimate would disclose a small survey cell keeps its pooled 2x2
    row, which is re-estimated without the areas that carry small cells (``method`` says
    which estimator each row used).
    """
    cs = stag.effects.set_index("kind") if len(stag.effects) else pd.DataFrame()
    out: list[tuple[dict[str, Any], dict[tuple[str, int], float] | None]] = []
    for row, w in kind_rows:
        kind = row["kind"]
        cw = stag.weights.get(str(kind))
        if kind not in cs.index or not np.isfinite(row.get("estimate", np.nan) or np.nan) \
                or (cw is not None and disclosed_cells([cw], small)):
            out.append((row, w))
            continue
        new = dict(row)
        src = cs.loc[kind]
        for f in _CS_FIELDS:
            if f in src.index:
                new[f] = src[f]
        for f in ("p_perm", "perm_ci_low", "perm_ci_high", "perm_exact", "n_permutations"):
            # the permutation test of the staggered statistic itself (windows reassigned)
            new[f] = src[f] if f in src.index else np.nan
        new["n_small_left_out"] = 0
        res = stag.results.get(str(kind))
        if res is not None and np.isfinite(float(src.get("estimate", np.nan))):
            est = res.estimate(res.simple(), tau2=tau2, level=level, power=power,
                               label=str(kind))
            cost = cost_per_point(float(row["spent_sek"]), est)
            new.update(sek_per_point=cost.sek_per_point, sek_per_point_ci_low=cost.ci_low,
                       sek_per_point_ci_high=cost.ci_high)
        else:
            new.update(sek_per_point=np.nan, sek_per_point_ci_low=np.nan,
                       sek_per_point_ci_high=np.nan)
        out.append((new, stag.weights.get(str(kind))))
    return out


def headline_p(table: pd.DataFrame) -> pd.Series:
    """Each row's headline p-value: ``p_perm`` if ``headline`` is "permutation", else ``p_value``.

    Tolerates tables without ``headline`` or ``p_perm`` (older tables): then ``p_value``.
    """
    p = pd.to_numeric(table["p_value"], errors="coerce").astype(float)
    if "headline" in table.columns and "p_perm" in table.columns:
        perm = table["headline"].astype(object).eq("permutation").fillna(False).to_numpy(bool)
        p = p.where(~perm, pd.to_numeric(table["p_perm"], errors="coerce").astype(float))
    return p


def _fill_mde(table: pd.DataFrame, *, level: float, power: float) -> pd.DataFrame:
    """Every row with an estimate and an SE gets an MDE (from its SE and df) if it has none.

    The 2x2 rows already carry theirs; this covers rows added by other estimators.
    """
    out = table.copy()
    est = pd.to_numeric(out["estimate"], errors="coerce")
    se = pd.to_numeric(out["se"], errors="coerce")
    mde = pd.to_numeric(out["mde"], errors="coerce")
    df = pd.to_numeric(out["df"], errors="coerce") if "df" in out else pd.Series(np.nan, out.index)
    todo = est.notna() & se.notna() & mde.isna()
    out["mde"] = mde
    out.loc[todo, "mde"] = [mde_from_se(float(s), level=level, power=power, df=float(d))
                            for s, d in zip(se[todo], df[todo], strict=True)]
    return out


def _multiple_testing(table: pd.DataFrame, *, level: float) -> pd.DataFrame:
    """Holm over the per-investment tests' headline p-values; ``significant`` for every row.

    A test is a distinct contrast (``contrast_id``): investments that share one area x window
    contrast share one estimate and one p-value, so they count once in the family, not once
    per register row (ten copies of one contrast would otherwise make every other test look
    ten tests weaker). Kind rows are not adjusted: each kind is its own pre-specified
    question. Rows blanked by the disclosure check have no p-value and are no test.
    """
    out = table.copy()
    p = headline_p(out)
    inv = (out["scope"] == "investment").to_numpy() & p.notna().to_numpy()
    adj = np.full(len(out), np.nan)
    rows = np.flatnonzero(inv)
    n_tests = 0
    if len(rows):
        cid = (out["contrast_id"].astype("string").to_numpy(dtype=object)[rows]
               if "contrast_id" in out.columns else np.full(len(rows), None, dtype=object))
        # one key per test: the contrast, or the row itself when it has none
        keys = [c if isinstance(c, str) and c else f"row:{r}" for c, r in zip(cid, rows,
                                                                                strict=True)]
        uniq, first, back = np.unique(np.asarray(keys, dtype=object), return_index=True,
                                      return_inverse=True)
        adj[rows] = holm_adjust(p.to_numpy()[rows][first])[back]
        n_tests = len(uniq)
    out["p_adjusted"] = adj
    method = pd.Series(pd.NA, index=out.index, dtype="string")
    method[inv] = "holm"
    out["adjust_method"] = method
    judge = np.where(np.isfinite(adj), adj, p.to_numpy())
    sig = pd.Series(np.asarray(judge) < 1 - level, index=out.index, dtype="boolean")
    sig[~np.isfinite(judge)] = pd.NA
    out["significant"] = sig
    if inv.any():
        log.info("%d per-investment rows (%d distinct contrasts), Holm-adjusted: %d rows "
                 "significant at %.0f %%", int(inv.sum()), n_tests,
                 int(sig[inv].fillna(False).sum()), 100 * level)
    return out


def expected_false_positives(table: pd.DataFrame, *, level: float | None = None) -> float:
    """Expected number of "significant" results by chance alone: ``(1 - level) * n_tests``.

    With no true effect anywhere, each unadjusted test at ``level`` is significant with
    probability ``1 - level``, so this many of the table's tests would be significant on
    average before any adjustment (Holm keeps the chance of even one at ``1 - level``).

    Parameters
    ----------
    table
        An effect table (tests: rows with a headline p-value, :func:`headline_p`), or
        :func:`trygg_geo.survey.area_change` output (tests: rows with ``change_p_value``).
        Select rows first (e.g. ``scope == "investment"``) to count one family.
    level
        Confidence level; default the table's ``level`` column, else 0.95.

    Returns
    -------
    float

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"p_value": [0.01, 0.3, float("nan"), 0.04], "level": 0.95})
    >>> round(expected_false_positives(t), 2)
    0.15
    """
    if "change_p_value" in table.columns and "p_value" not in table.columns:
        p = pd.to_numeric(table["change_p_value"], errors="coerce")
    else:
        p = headline_p(table)
    if level is None:
        lv = pd.to_numeric(table["level"], errors="coerce").dropna() if "level" in table \
            else pd.Series(dtype=float)
        level = float(lv.iloc[0]) if len(lv) else 0.95
    return float((1 - level) * count_tests(table[p.notna().to_numpy()]))


def count_tests(table: pd.DataFrame) -> int:
    """The number of distinct tests among the rows: rows that share a ``contrast_id`` are one.

    >>> count_tests(pd.DataFrame({"contrast_id": ["a:1-2", "a:1-2", None, "b:1-2"]}))
    3
    """
    if "contrast_id" not in table.columns:
        return len(table)
    cid = table["contrast_id"].astype("string")
    shared = cid.notna() & (cid != "")
    return int(cid[shared].nunique() + (~shared).sum())


def _row_timing(design: DesignResult, n_rows: int) -> pd.Series:
    """Each investment row's timing (rows in no area have none)."""
    first = design.links.drop_duplicates("row").set_index("row")["timing"]
    return first.reindex(range(n_rows)).astype(object)


def _windows(areas: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Area id -> (pre_wave, cohort) for treated areas."""
    return {str(a): (int(p), int(c))
            for a, p, c in zip(areas["area_id"], areas["pre_wave"], areas["cohort"], strict=True)}


def _kind_rows(
    study: _Study, design: DesignResult, inv: pd.DataFrame, spent: np.ndarray,
    measured: np.ndarray, small: set[tuple[str, int]], lang: str,
) -> list[tuple[dict[str, Any], dict[tuple[str, int], float] | None]]:
    roles = design.roles
    treated = roles[roles["role"] == "treated"]
    mixed = treated["kinds"].str.contains(",")
    single = treated[~mixed]
    kinds = inv["kind"].astype(str).to_numpy()
    present = {k for ks in treated["kinds"] for k in ks.split(",") if k}
    out: list[tuple[dict[str, Any], dict[tuple[str, int], float] | None]] = []
    for kind in [k for k in [*CATALOGUE, "annat"] if k in present]:
        units = single[single["kinds"] == kind]
        if kind == "annat" or units.empty:
            key = "effects.kind_not_pooled" if kind == "annat" else "effects.mixed_kinds"
            out.append((_blank(scope="kind", kind=kind, indicator=study.indicator,
                               reason=text(key, lang)), None))
            continue
        t = _windows(units)
        w = study.weights(t)
        left_out = 0
        if disclosed_cells([w], small):
            keep = {a: c for a, c in t.items() if not any(a == sa for sa, _ in small)}
            left_out = len(t) - len(keep)
            if keep:
                t, w = keep, study.weights(keep)
        est = study.did(t, kind)
        perm = study.permutation(t, kind)
        money = _spent_in(design, spent, measured & (kinds == kind), t)
        row = _row(est, scope="kind", kind=kind, unit_ids=",".join(sorted(t)), spent=money,
                   cost=cost_per_point(money, est), indicator=study.indicator)
        study.inference(row, est, perm)
        row.update(n_small_left_out=left_out)
        out.append((row, w))
    if mixed.any():
        log.info("%d areas got several kinds in the window; they enter only the "
                 "per-investment estimates", int(mixed.sum()))
    return out


@dataclass(frozen=True)
class _InvestmentRows:
    """The per-investment part of the table: one estimate per contrast, rows that point to it.

    ``rows`` are the investment row positions that get a table row (ascending); for each,
    ``contrast`` is the index of its contrast in ``contrasts`` (-1: no estimate, ``reason``
    says why), ``unit_ids`` its areas and ``reason`` the reason text or None.
    ``contrasts`` holds one table row (with its cell weights) per distinct contrast, named
    by ``contrast_ids`` and shared by ``n_sharing`` investment rows.
    """

    rows: np.ndarray
    contrast: np.ndarray
    unit_ids: list[str]
    reason: list[str | None]
    contrasts: list[tuple[dict[str, Any], dict[tuple[str, int], float] | None]]
    contrast_ids: list[str]
    n_sharing: np.ndarray
    kind: list[str]
    investment_id: list[str]
    source_row: list[Any]
    spent: np.ndarray


#: A contrast: its treated areas with their windows, ``((area, pre_wave, cohort), ...)``
#: sorted by area (the treated set as a hashable key).
_Key = tuple[tuple[str, int, int], ...]


def _contrast_id(key: _Key) -> str:
    """The readable id of a contrast: ``area:pre-post`` per treated area, joined by ``+``.

    Examples
    --------
    >>> _contrast_id((("SD01", 2018, 2021), ("SD02", 2018, 2021)))
    'SD01:2018-2021+SD02:2018-2021'
    """
    return "+".join(f"{a}:{p}-{c}" for a, p, c in key)


def _investment_rows(
    study: _Study, design: DesignResult, inv: pd.DataFrame, spent: np.ndarray,
    measured: np.ndarray, dup: np.ndarray, timing: pd.Series, lang: str,
) -> _InvestmentRows:
    """One row per placed investment: a pointer to its contrast's estimate, or the reason.

    Several projects in one area share that area's change, so the cost per point uses the
    money of every measured investment in those areas (split by share): it belongs to the
    contrast, like the estimate. Each distinct contrast is estimated once, with its
    permutation test and its disclosure weights.
    """
    roles = design.roles.set_index("area_id")
    links = design.links[design.links["counted"]]
    links = links.iloc[np.argsort(links["row"].to_numpy(), kind="stable")]
    row_of = links["row"].to_numpy(dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, row_of[1:] != row_of[:-1]]) if len(row_of) else \
        np.zeros(0, dtype=np.int64)
    ends = np.r_[starts[1:], len(row_of)].astype(np.int64)[: len(starts)]
    rows = row_of[starts]
    area = links["area_id"].astype(str).tolist()
    treated = (links["area_id"].map(roles["role"]) == "treated").to_numpy(dtype=bool).tolist()
    pre, cohort, nxt = (links[c].astype(object).where(links[c].notna(), None).tolist()
                        for c in ("pre_wave", "cohort", "next_wave"))
    why = _Reasons(inv, roles, lang)
    tim = timing.to_numpy(dtype=object)
    keys: dict[_Key, int] = {}
    contrast = np.full(len(rows), -1, dtype=np.int64)
    unit_ids: list[str] = []
    reason: list[str | None] = []
    for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        r = int(rows[i])
        tr = [j for j in range(s, e) if treated[j]]
        text_ = why(r, bool(dup[r]), tim[r], area[s], nxt[s:e], bool(tr))
        reason.append(text_)
        if text_ is not None:
            unit_ids.append(",".join(sorted(set(area[s:e]))))
            continue
        key: _Key = tuple(sorted({(area[j], int(pre[j]), int(cohort[j])) for j in tr}))
        unit_ids.append(",".join(sorted({a for a, _, _ in key})))
        contrast[i] = keys.setdefault(key, len(keys))
    by_area = design.spend_by_area(spent, rows=measured)
    contrasts = [_contrast_row(study, key, by_area) for key in keys]
    n_sharing = np.bincount(contrast[contrast >= 0], minlength=len(keys))
    log.info("%d per-investment rows with an estimate share %d contrasts",
             int((contrast >= 0).sum()), len(keys))
    source_row: list[Any] = [pd.NA] * len(rows)
    if "source_row" in inv.columns:
        source_row = [int(v) for v in inv["source_row"].to_numpy(dtype=object)[rows]]
    return _InvestmentRows(
        rows=rows, contrast=contrast, unit_ids=unit_ids, reason=reason, contrasts=contrasts,
        contrast_ids=[_contrast_id(k) for k in keys], n_sharing=n_sharing,
        kind=inv["kind"].astype(str).to_numpy(dtype=object)[rows].tolist(),
        investment_id=inv["investment_id"].astype(str).to_numpy(dtype=object)[rows].tolist(),
        source_row=source_row,
        spent=np.asarray(spent, dtype=float)[rows])


def _contrast_row(study: _Study, key: _Key, by_area: pd.Series
                  ) -> tuple[dict[str, Any], dict[tuple[str, int], float] | None]:
    """The estimate, permutation test, cost per point and cell weights of one contrast."""
    t = {a: (p, c) for a, p, c in key}
    label = _contrast_id(key)
    est = study.did(t, label)
    perm = study.permutation(t, label) if np.isfinite(est.estimate) else None
    money = float(by_area.reindex(list(t)).sum(min_count=1))
    row = _row(est, scope="investment", kind="", unit_ids=",".join(sorted(t)), spent=np.nan,
               cost=cost_per_point(money, est), indicator=study.indicator)
    study.inference(row, est, perm)
    windows = set(t.values())
    if len(windows) == 1:  # one window: published with the estimate
        row["pre_wave"], row["post_wave"] = next(iter(windows))
    return row, study.weights(t)


class _Reasons:
    """Why an investment has no estimate of its own (None when it can have one).

    The texts are built once per distinct reason, so a long register costs dictionary
    look-ups, not text formatting, per row.
    """

    def __init__(self, inv: pd.DataFrame, roles: pd.DataFrame, lang: str) -> None:
        self.dup_of = inv["duplicate_of"].to_numpy(dtype=object) \
            if "duplicate_of" in inv.columns else None
        self.roles, self.lang = roles, lang
        self.cache: dict[tuple[Any, ...], str] = {}

    def __call__(self, r: int, duplicate: bool, timing: Any, first_area: str,
                 next_waves: list[Any], any_treated: bool) -> str | None:
        if duplicate and self.dup_of is not None:
            return self._text("effects.duplicate", row=int(self.dup_of[r]))
        if timing in _TIMING_REASON:
            nxt = next((int(w) for w in next_waves if w is not None), "")
            return self._text(_TIMING_REASON[timing], next_wave=nxt)
        if not any_treated:
            return self._text("effects.area_not_treated",
                              reason=str(self.roles.at[first_area, "reason_text"]))
        return None

    def _text(self, key: str, **fields: Any) -> str:
        ck = (key, *sorted(fields.items()))
        if ck not in self.cache:
            self.cache[ck] = text(key, self.lang, **fields)
        return self.cache[ck]


def _expand(table: pd.DataFrame, n_kind: int, invest: _InvestmentRows,
            indicator: str) -> pd.DataFrame:
    """The kind rows, then one row per investment: its contrast's figures and its own ids.

    ``table`` holds the kind rows and then one row per contrast (after the disclosure
    check); an investment without an estimate gets a blank row with its reason.
    """
    blank = {**_blank(scope="investment", kind="", indicator=indicator), "suppressed": False}
    n_contrast = len(invest.contrasts)
    pick = np.where(invest.contrast >= 0, n_kind + invest.contrast, n_kind + n_contrast)
    src = np.r_[np.arange(n_kind), pick].astype(np.int64)
    has = invest.contrast >= 0
    cols: dict[str, Any] = {}
    for c in table.columns:
        fill = blank.get(c, np.nan)
        if table[c].dtype == np.float64 and isinstance(fill, float) and np.isnan(fill):
            cols[c] = np.r_[table[c].to_numpy(), np.nan][src]  # the dtype a list would get
            continue
        vals = np.empty(len(table) + 1, dtype=object)
        vals[:-1] = table[c].to_numpy(dtype=object)
        vals[-1] = fill
        cols[c] = vals[src].tolist()
    own: dict[str, Any] = {
        "scope": ["investment"] * len(pick), "kind": invest.kind,
        "investment_id": invest.investment_id, "source_row": invest.source_row,
        "unit_ids": invest.unit_ids, "spent_sek": invest.spent,
        "reason": [r if r is not None else cols["reason"][n_kind + i]
                   for i, r in enumerate(invest.reason)],
    }
    for c, v in own.items():
        cols[c][n_kind:] = v
    cid = np.asarray([*invest.contrast_ids, None], dtype=object)
    cols["contrast_id"] = [None] * n_kind + cid[np.where(has, invest.contrast, -1)].tolist()
    share = np.r_[invest.n_sharing, 0][np.where(has, invest.contrast, -1)]
    cols["n_sharing"] = pd.arrays.IntegerArray(
        np.r_[np.zeros(n_kind, dtype=np.int64), share].astype(np.int64),
        np.r_[np.ones(n_kind, dtype=bool), ~has])
    out = pd.DataFrame(cols, columns=list(table.columns))
    out["reason"] = out["reason"].astype("string")
    out["suppressed"] = out["suppressed"].astype(bool)
    return out


def _spent_in(design: DesignResult, spent: np.ndarray, rows: np.ndarray,
              areas: Mapping[str, Any]) -> float:
    """Money of the selected investment rows that lies in ``areas`` (split by share)."""
    by_area = design.spend_by_area(spent, rows=rows)
    return float(by_area.reindex(list(areas)).sum(min_count=1))


def _blank(*, scope: str, kind: str, indicator: str, reason: str | None = None,
           **ids: Any) -> dict[str, Any]:
    """A row without an estimate: the ids and the reason, every figure missing."""
    row: dict[str, Any] = dict.fromkeys(EFFECT_COLUMNS, np.nan)
    row.update({"investment_id": None, "source_row": pd.NA, "unit_ids": ""})
    row.update(scope=scope, kind=kind, indicator=indicator, reason=reason)
    row.update(ids)
    return row


def _row(est: Estimate, *, scope: str, kind: str, unit_ids: str, spent: float,
         cost: CostResult, indicator: str, investment_id: str | None = None) -> dict[str, Any]:
    return {
        "scope": scope, "kind": kind, "investment_id": investment_id, "unit_ids": unit_ids,
        "indicator": indicator, "method": est.method, "estimate": est.estimate, "se": est.se,
        "ci_low": est.ci_low, "ci_high": est.ci_high, "p_value": est.p_value,
        "n_treated": est.n_treated, "n_control": est.n_control,
        "n_respondents": est.extra.get("n_respondents", np.nan), "mde": est.mde,
        "source_row": pd.NA, "spent_sek": spent, "sek_per_point": cost.sek_per_point,
        "sek_per_point_ci_low": cost.ci_low, "sek_per_point_ci_high": cost.ci_high,
        "level": est.level, "reason": None,
    }
