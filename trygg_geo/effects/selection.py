"""Which estimator a design calls for, and the staggered estimates per kind.

:func:`choose_estimator` reads the design (the treated areas' cohorts) and the survey waves:

- **two waves**: the 2x2 difference-in-differences (``did_2x2``);
- **more than two waves**: Callaway & Sant'Anna (``callaway_santanna``), per kind with
  not-yet-treated controls, pooled to one effect and an event study. With adoption before
  different waves this is needed (a two-way regression would compare late-treated areas with
  already treated ones); with one adoption wave it gives the same effect as the pooled 2x2 per
  post wave and adds a test of the trends before the investment;
- **one treated area**, when the caller asks for it (``synth_option=True``): synthetic control
  (``synthetic_control``), provided the area has two or more waves before its work and there
  are two or more control areas.

:func:`staggered_by_kind` computes the Callaway–Sant'Anna estimates of a run: one row per kind
in the shape of the effect table, the event study and a pre-trend test per kind. Their
standard errors are *honest*: every survey cell carries its sampling variance plus the
between-area x wave variance ``tau2`` (:class:`~trygg_geo.effects.staggered.SurveyAttGt`).
:func:`event_study_figure` draws one kind's event study.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo._i18n import LANGS, fmt_p, text
from trygg_geo.design import DesignResult
from trygg_geo.effects._result import Estimate
from trygg_geo.effects._table import EFFECT_COLUMNS
from trygg_geo.effects.inference import MIN_TREATED_MODEL, PermutationResult, choose_headline
from trygg_geo.effects.staggered import SurveyAttGt, Window, survey_att_gt
from trygg_geo.effects.staggered_inference import staggered_permutation_test
from trygg_geo.effects.variance import Tau2Result
from trygg_geo.interventions import CATALOGUE, get_kind

__all__ = [
    "ESTIMATORS",
    "EstimatorChoice",
    "StaggeredByKind",
    "choose_estimator",
    "event_study_figure",
    "staggered_by_kind",
]

log = logging.getLogger(__name__)

#: The estimator codes :func:`choose_estimator` returns (the effect table's ``method``).
ESTIMATORS = ("did_2x2", "callaway_santanna", "synthetic_control")

_ES_COLUMNS = ["kind", "event_time", "estimate", "se", "ci_low", "ci_high", "p_value", "df",
               "n_cohorts", "n_treated", "reference", "level", "pretrend_p"]
_PRETREND_COLUMNS = ["kind", "statistic", "df", "df_denominator", "p_value", "test",
                     "n_cells", "tau2"]


# --------------------------------------------------------------------------------------------
# Choosing the estimator
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EstimatorChoice:
    """The estimator a design calls for, and why.

    Attributes
    ----------
    code
        ``"did_2x2"``, ``"callaway_santanna"`` or ``"synthetic_control"``.
    reason
        ASCII code of the rule that chose it: ``two_waves``, ``staggered``, ``one_cohort``,
        ``no_treated`` or ``one_project``.
    n_waves, cohorts, n_treated, n_control
        What the rule looked at: the waves, the treated areas' distinct cohorts, the numbers
        of treated and control areas.
    synth_not_used
        When synthetic control was asked for but is not possible: the ASCII code of why
        (``one_area``, ``pre_waves``, ``donors``), else ``""``.
    values
        The numbers the texts show.
    """

    code: str
    reason: str
    n_waves: int
    cohorts: tuple[int, ...]
    n_treated: int
    n_control: int
    synth_not_used: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    def name(self, lang: str = "sv") -> str:
        """The estimator's name in ``lang``."""
        return text(f"estimator.name.{self.code}", lang)

    def why(self, lang: str = "sv") -> str:
        """Why this estimator: the rule, in ``lang`` (and why not synthetic control)."""
        out = text(f"estimator.why.{self.reason}", lang, **self._fill(self.reason))
        if self.synth_not_used:
            need = text(f"estimator.synth_needs.{self.synth_not_used}", lang,
                        n=self.values.get("synth_n", ""))
            out += " " + text("estimator.why.synth_not_used", lang, why=need)
        return out

    def assumptions(self, lang: str = "sv") -> str:
        """The assumptions the estimate rests on, in ``lang``."""
        return text(f"estimator.assumptions.{self.code}", lang)

    def describe(self, lang: str = "sv") -> str:
        """Name, rule and assumptions in one paragraph (for the report's method section)."""
        return f"{self.name(lang)}. {self.why(lang)} {self.assumptions(lang)}"

    def _fill(self, reason: str) -> dict[str, Any]:
        v = self.values
        return {
            "two_waves": {"waves": v.get("waves", "")},
            "staggered": {"n_waves": self.n_waves, "cohorts": v.get("cohorts", "")},
            "one_cohort": {"n_waves": self.n_waves, "cohorts": v.get("cohorts", "")},
            "no_treated": {},
            "one_project": {"area": v.get("area", ""), "n_pre": v.get("n_pre", "")},
        }[reason]


def _roles_table(design: DesignResult | pd.DataFrame) -> pd.DataFrame:
    table = design.roles if isinstance(design, DesignResult) else design
    for col in ("area_id", "role", "cohort"):
        if col not in table.columns:
            raise MissingColumnError(col, found=table.columns)
    return pd.DataFrame(table).assign(area_id=lambda t: t["area_id"].astype(str))


def _wave_list(waves: Sequence[int]) -> list[int]:
    out = sorted({int(w) for w in waves})
    if len(out) < 2:
        raise InputError(f"an evaluation needs at least two survey waves, got {out}.",
                         fix="pass every wave of the study.")
    return out


def _windows(treated: pd.DataFrame, waves: list[int]) -> dict[str, Window]:
    """Area id -> (pre_wave, cohort); without a pre_wave, the wave before the cohort."""
    out: dict[str, Window] = {}
    pre = treated["pre_wave"] if "pre_wave" in treated.columns else \
        pd.Series(pd.NA, index=treated.index)
    for a, p, c in zip(treated["area_id"], pre, treated["cohort"], strict=True):
        if pd.isna(c) or int(c) not in waves:
            continue
        c = int(c)
        if pd.isna(p):
            i = waves.index(c)
            if i == 0:
                continue
            p = waves[i - 1]
        out[str(a)] = (int(p), c)
    return out


def choose_estimator(
    design: DesignResult | pd.DataFrame,
    waves: Sequence[int],
    *,
    synth_option: bool = False,
) -> EstimatorChoice:
    """Choose the estimator from the design and the survey waves.

    Parameters
    ----------
    design
        :func:`trygg_geo.design.assign_roles` output, or its roles table (``area_id``,
        ``role``, ``cohort`` and, when present, ``pre_wave``).
    waves
        The study's survey waves.
    synth_option
        Use synthetic control when the design has a single treated area (one large project
        in one district) with two or more waves before its work and two or more controls.

    Returns
    -------
    EstimatorChoice
        The code, the rule (:meth:`EstimatorChoice.why`) and the assumptions
        (:meth:`EstimatorChoice.assumptions`) in Swedish and English.

    Examples
    --------
    >>> roles = pd.DataFrame({"area_id": ["a", "b", "c", "d"],
    ...                       "role": ["treated", "treated", "control", "control"],
    ...                       "cohort": [2018, 2021, None, None]})
    >>> choice = choose_estimator(roles, [2015, 2018, 2021])
    >>> choice.code, choice.reason
    ('callaway_santanna', 'staggered')
    >>> choose_estimator(roles.iloc[[0, 2, 3]], [2015, 2018]).code
    'did_2x2'
    >>> choice = choose_estimator(roles.iloc[[1, 2, 3]], [2015, 2018, 2021], synth_option=True)
    >>> choice.code, choice.why("en")
    ('synthetic_control', 'A single treated area (b) with 2 waves before the investment (chosen \
as an option): the area is compared with a weighted combination of control areas that follows \
its course before the investment.')
    """
    roles = _roles_table(design)
    wave_list = _wave_list(waves)
    treated = roles[roles["role"] == "treated"]
    n_control = int((roles["role"] == "control").sum())
    windows = _windows(treated, wave_list)
    cohorts = tuple(sorted({c for _, c in windows.values()}))
    n_waves = len(wave_list)
    values: dict[str, Any] = {"waves": ", ".join(map(str, wave_list)),
                              "cohorts": ", ".join(map(str, cohorts))}
    not_used = ""
    if synth_option:
        not_used, n = _synth_blocker(windows, len(treated), n_control, wave_list)
        if not not_used:
            area = next(iter(windows))
            values.update(area=area, n_pre=n)
            return EstimatorChoice("synthetic_control", "one_project", n_waves, cohorts,
                                   len(treated), n_control, values=values)
        values["synth_n"] = n
    if not windows:
        code = "did_2x2" if n_waves == 2 else "callaway_santanna"
        reason = "no_treated"
    elif n_waves == 2:
        code, reason = "did_2x2", "two_waves"
    else:
        code = "callaway_santanna"
        reason = "staggered" if len(cohorts) > 1 else "one_cohort"
    log.info("estimator: %s (%s; %d waves, cohorts %s)", code, reason, n_waves, cohorts)
    return EstimatorChoice(code, reason, n_waves, cohorts, len(treated), n_control,
                           synth_not_used=not_used, values=values)


def _synth_blocker(windows: dict[str, Window], n_treated: int, n_control: int,
                   waves: list[int]) -> tuple[str, int]:
    """Why synthetic control cannot be used (``""`` when it can), and the number behind it."""
    if n_treated != 1 or len(windows) != 1:
        return "one_area", n_treated
    pre, _ = next(iter(windows.values()))
    n_pre = sum(w <= pre for w in waves)
    if n_pre < 2:
        return "pre_waves", n_pre
    if n_control < 2:
        return "donors", n_control
    return "", n_pre


# --------------------------------------------------------------------------------------------
# Callaway–Sant'Anna per kind
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class StaggeredByKind:
    """Callaway–Sant'Anna estimates per kind, with honest standard errors.

    Attributes
    ----------
    effects
        One row per kind with treated areas (``scope="kind"``), in the columns of the effect
        table (:data:`~trygg_geo.effects.evaluation.EFFECT_COLUMNS`, plus ``df``, ``tau2``
        and ``pretrend_p`` when the table lacks them): ``method="callaway_santanna"``, the
        overall effect (post-treatment ATT(g, t) weighted by treated areas), its honest SE,
        interval, p-value and MDE, ``n_treated``, ``n_control`` (never- and not-yet-treated
        areas used), ``df`` (NaN = normal) and ``tau2``. A kind without an estimate has its
        ``reason`` in the run's language.
    event_study
        Per kind and event time: ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p_value``,
        ``df``, ``n_cohorts``, ``n_treated``, ``reference`` (the row of the reference wave,
        event time -1, fixed at 0), ``level`` and the kind's ``pretrend_p``.
    pretrends
        Per kind: the joint Wald test that all pre-treatment ATT(g, t) are zero
        (``statistic``, ``df``, ``df_denominator``, ``p_value``, ``test``: ``chi2`` or
        ``F``, ``n_cells``, ``tau2``); NaN where no wave precedes a reference wave.
    att_gt
        Every ATT(g, t) with ``kind`` and its honest ``se``, ``ci_low``, ``ci_high``.
    weights
        Kind -> the weight of each survey cell ``(area_id, wave)`` in its overall effect (for
        :func:`trygg_geo.disclosure.protect_estimates`).
    results
        Kind -> the :class:`~trygg_geo.effects.staggered.SurveyAttGt` behind it.
    """

    effects: pd.DataFrame
    event_study: pd.DataFrame
    pretrends: pd.DataFrame
    att_gt: pd.DataFrame
    weights: dict[str, dict[tuple[str, int], float]]
    results: dict[str, SurveyAttGt]


@dataclass(frozen=True)
class _Options:
    indicator: str
    level: float
    tau2: float | Tau2Result
    tau2_df: float | None
    power: float
    lang: str
    n_permutations: int = 10_000
    seed: int = 0
    min_treated: int = MIN_TREATED_MODEL

    @property
    def tau2_value(self) -> float:
        return float(self.tau2.value if isinstance(self.tau2, Tau2Result) else self.tau2)

    def estimate(self, res: SurveyAttGt, c: np.ndarray, label: str) -> Estimate:
        return res.estimate(c, tau2=self.tau2, tau2_df=self.tau2_df, level=self.level,
                            power=self.power, label=label)


def _kind_units(roles: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The treated areas and the kinds to report, in the order of the effect table."""
    if "kinds" not in roles.columns:
        raise MissingColumnError("kinds", found=roles.columns)
    treated = roles[roles["role"] == "treated"]
    present = {k for ks in treated["kinds"].astype(str) for k in ks.split(",") if k}
    return treated, [k for k in [*CATALOGUE, "annat"] if k in present]


def staggered_by_kind(
    panel: pd.DataFrame,
    design: DesignResult | pd.DataFrame,
    *,
    indicator: str,
    waves: Sequence[int],
    level: float = 0.95,
    tau2: float | Tau2Result = 0.0,
    tau2_df: float | None = None,
    power: float = 0.80,
    lang: str = "sv",
    n_permutations: int = 10_000,
    seed: int = 0,
    min_treated: int = MIN_TREATED_MODEL,
) -> StaggeredByKind:
    """Callaway–Sant'Anna per kind: overall effect, event study and pre-trend test.

    The treated areas of a kind are those whose only kind in the window is that kind (as in
    the pooled 2x2 of :func:`trygg_geo.effects.evaluation.estimate_effects`); areas with
    several kinds and the kind ``annat`` get a row with the reason. Each area's cohort is its
    measurement window ``(pre_wave, cohort)`` from the design. The controls of a comparison
    are the design's control areas plus every treated area, of any kind, whose work had not
    started by the later of the two waves compared (not-yet-treated).

    Parameters
    ----------
    panel
        :func:`trygg_geo.survey.survey_panel` output (``area_id, wave, indicator, share,
        se, n``).
    design
        :func:`trygg_geo.design.assign_roles` run with ``kind="kind"`` (its roles carry
        ``cohort``, ``pre_wave`` and ``kinds``), or that roles table.
    indicator, waves
        The indicator and the study waves.
    level, power
        Confidence level; power of the minimum detectable effect.
    tau2
        Between-area x wave variance (share² units) added to every cell's sampling variance:
        the :class:`~trygg_geo.effects.variance.Tau2Result` of
        :func:`~trygg_geo.effects.variance.between_district_variance` (its ``se`` gives the
        degrees of freedom), or a number; 0 counts sampling error only.
    tau2_df
        With a number ``tau2``: the degrees of freedom of its estimate. With an estimated
        ``tau2``, intervals use t and the pre-trend test F with Satterthwaite's degrees of
        freedom (few control areas make ``tau2`` uncertain); with a known one, the normal
        and chi-squared.
    lang
        Language of the ``reason`` texts.
    n_permutations, seed
        The permutation test of each kind's overall effect
        (:func:`~trygg_geo.effects.staggered_inference.staggered_permutation_test`: the
        kind's measurement windows reassigned among its treated areas and the never-treated
        controls; every assignment when there are at most 20,000, else ``n_permutations``
        random ones drawn with ``seed``).
    min_treated
        With fewer treated areas, the permutation p-value and interval are the row's
        headline (:func:`~trygg_geo.effects.inference.choose_headline`), as for the 2x2 rows.

    Returns
    -------
    StaggeredByKind

    Notes
    -----
    Each kind's row carries the model result (``estimate, se, ci_low, ci_high, p_value``,
    honest with ``tau2``) and the permutation result beside it (``p_perm, perm_ci_low,
    perm_ci_high, perm_exact, n_permutations``); ``headline`` says which one is the headline.
    With three treated areas the model interval leans on three districts' shocks being
    normal with the variance estimated from the controls, and a null kind comes out
    "significant" far more often than 5 %; the permutation test keeps its size (see
    :mod:`trygg_geo.effects.staggered_inference` for why a permutation test and not a wild
    cluster bootstrap). The event study and the pre-trend test stay model-based.
    """
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}.", fix="use 'sv' or 'en'.")
    opt = _Options(indicator=indicator, level=level, tau2=tau2, tau2_df=tau2_df, power=power,
                   lang=lang, n_permutations=n_permutations, seed=seed, min_treated=min_treated)
    roles = _roles_table(design)
    wave_list = _wave_list(waves)
    treated, kinds = _kind_units(roles)
    controls = roles.loc[roles["role"] == "control", "area_id"].tolist()
    every = _windows(treated, wave_list)
    out = _Collect()
    for kind in kinds:
        units = treated[treated["kinds"].astype(str) == kind]
        if kind == "annat" or units.empty:
            key = "effects.kind_not_pooled" if kind == "annat" else "effects.mixed_kinds"
            out.effects.append(_blank_row(kind, opt, text(key, lang)))
            continue
        mine = {a: w for a, w in every.items() if a in set(units["area_id"])}
        others = {a: w for a, w in every.items() if a not in mine}
        res = survey_att_gt(panel, treated=mine, controls=controls, waves=wave_list,
                            not_yet=others, indicator=indicator)
        out.add(kind, res, opt, _permutation(panel, mine, controls, wave_list, others, opt,
                                             kind))
    return out.result()


def _permutation(panel: pd.DataFrame, mine: dict[str, Window], controls: list[str],
                 waves: list[int], others: dict[str, Window], opt: _Options,
                 kind: str) -> PermutationResult | None:
    """The kind's permutation test, or None when it cannot be run."""
    if not mine:
        return None
    try:
        return staggered_permutation_test(
            panel, treated=mine, controls=controls, waves=waves, not_yet=others,
            indicator=opt.indicator, n_permutations=opt.n_permutations, seed=opt.seed,
            level=opt.level, label=kind)
    except InputError as exc:
        log.info("no permutation test for %s: %s", kind, exc)
        return None


@dataclass
class _Collect:
    """The rows of the four tables, gathered kind by kind."""

    effects: list[dict[str, Any]] = field(default_factory=list)
    event_study: list[dict[str, Any]] = field(default_factory=list)
    pretrends: list[dict[str, Any]] = field(default_factory=list)
    att_gt: list[pd.DataFrame] = field(default_factory=list)
    weights: dict[str, dict[tuple[str, int], float]] = field(default_factory=dict)
    results: dict[str, SurveyAttGt] = field(default_factory=dict)

    def add(self, kind: str, res: SurveyAttGt, opt: _Options,
            perm: PermutationResult | None = None) -> None:
        self.results[kind] = res
        c = res.simple()
        if not c.any():
            self.effects.append(_blank_row(kind, opt, text("effects.no_estimate", opt.lang)))
            return
        est = opt.estimate(res, c, kind)
        pre = _pretrend_row(kind, res, opt)
        self.pretrends.append(pre)
        self.effects.append(_effect_row(kind, est, res, c, opt, pretrend_p=pre["p_value"],
                                        perm=perm))
        self.weights[kind] = {(str(a), int(w)): float(v)
                              for (a, w), v in res.cell_weights(c).items()}
        self.event_study.extend({**r, "pretrend_p": pre["p_value"]}
                                for r in _event_rows(kind, res, opt))
        self.att_gt.append(_att_gt_table(kind, res, opt))

    def result(self) -> StaggeredByKind:
        cols = list(dict.fromkeys([*EFFECT_COLUMNS, "df", "tau2", "pretrend_p"]))
        effects = pd.DataFrame(self.effects, columns=cols)
        effects["reason"] = effects["reason"].astype("string")
        es = pd.DataFrame(self.event_study, columns=_ES_COLUMNS)
        es = es.astype({"event_time": "int64", "n_cohorts": "int64", "n_treated": "int64",
                        "reference": bool})
        att = pd.concat(self.att_gt, ignore_index=True) if self.att_gt else pd.DataFrame(
            columns=["kind", "cohort", "time", "event_time", "att", "se"])
        return StaggeredByKind(effects=effects, event_study=es,
                               pretrends=pd.DataFrame(self.pretrends, columns=_PRETREND_COLUMNS),
                               att_gt=att, weights=self.weights, results=self.results)


def _df_out(df: float) -> float:
    """The table's ``df``: NaN for the normal."""
    return float(df) if np.isfinite(df) else float("nan")


def _blank_row(kind: str, opt: _Options, reason: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys([*EFFECT_COLUMNS, "df", "tau2", "pretrend_p"], np.nan)
    row.update(scope="kind", kind=kind, investment_id=None, source_row=pd.NA, unit_ids="",
               indicator=opt.indicator, method="callaway_santanna", reason=reason,
               level=opt.level, tau2=opt.tau2_value)
    return row


def _effect_row(kind: str, est: Estimate, res: SurveyAttGt, c: np.ndarray, opt: _Options,
                *, pretrend_p: float, perm: PermutationResult | None = None) -> dict[str, Any]:
    row = _blank_row(kind, opt, reason="")
    used = res.att_gt[c > 0]
    units = sorted({u for s in used["treated_ids"] for u in s.split(",") if u})
    row.update(
        unit_ids=",".join(units), estimate=est.estimate, se=est.se, ci_low=est.ci_low,
        ci_high=est.ci_high, p_value=est.p_value, mde=est.mde, n_treated=est.n_treated,
        n_control=est.n_control, n_respondents=est.extra["n_respondents"],
        df=_df_out(est.extra["df"]), reason=None, pretrend_p=pretrend_p,
        significant=bool(est.p_value < 1 - opt.level),
    )
    if perm is not None:
        row.update(p_perm=perm.p_value, perm_ci_low=perm.ci_low, perm_ci_high=perm.ci_high,
                   perm_exact=perm.exact, n_permutations=perm.n_permutations)
    head, key = choose_headline(est.n_treated, perm, min_treated=opt.min_treated)
    row.update(headline=head, headline_reason=text(key, opt.lang, n_treated=est.n_treated,
                                                   min_treated=opt.min_treated))
    if head == "permutation":
        row["significant"] = bool(perm is not None and perm.p_value < 1 - opt.level)
    return row


def _pretrend_row(kind: str, res: SurveyAttGt, opt: _Options) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": kind, "statistic": np.nan, "df": 0, "df_denominator": np.nan,
                           "p_value": np.nan, "test": "", "n_cells": 0,
                           "tau2": opt.tau2_value}
    if (~res.att_gt["post"]).any():
        pt = res.pretest(tau2=opt.tau2, tau2_df=opt.tau2_df)
        row.update(statistic=pt.statistic, df=pt.df, df_denominator=_df_out(pt.df_denominator),
                   p_value=pt.p_value, test=pt.test, n_cells=pt.n_cells)
    return row


def _ids(rows: pd.DataFrame, col: str) -> set[str]:
    return {u for s in rows[col] for u in s.split(",") if u}


def _event_rows(kind: str, res: SurveyAttGt, opt: _Options) -> list[dict[str, Any]]:
    att = res.att_gt
    group = list(zip(att["pre_wave"].to_numpy(), att["cohort"].to_numpy(), strict=True))
    rows = [{"kind": kind, "event_time": -1, "estimate": 0.0, "se": np.nan, "ci_low": np.nan,
             "ci_high": np.nan, "p_value": np.nan, "df": np.nan, "n_cohorts": len(set(group)),
             "n_treated": len(_ids(att, "treated_ids")), "reference": True,
             "level": opt.level}]
    for e, c in res.dynamic().items():
        est = opt.estimate(res, c, f"{kind}:{e}")
        rows.append({"kind": kind, "event_time": e, "estimate": est.estimate, "se": est.se,
                     "ci_low": est.ci_low, "ci_high": est.ci_high, "p_value": est.p_value,
                     "df": _df_out(est.extra["df"]),
                     "n_cohorts": len({g for g, ci in zip(group, c, strict=True) if ci > 0}),
                     "n_treated": est.n_treated, "reference": False, "level": opt.level})
    return sorted(rows, key=lambda r: r["event_time"])


def _att_gt_table(kind: str, res: SurveyAttGt, opt: _Options) -> pd.DataFrame:
    tab = res.table(tau2=opt.tau2, tau2_df=opt.tau2_df, level=opt.level)
    tab["df"] = [_df_out(d) for d in tab["df"]]
    tab.insert(0, "kind", kind)
    return tab


# --------------------------------------------------------------------------------------------
# The event-study figure
# --------------------------------------------------------------------------------------------
def event_study_figure(
    event_study: pd.DataFrame,
    kind: str,
    *,
    lang: str = "sv",
    level: float | None = None,
    pretrend_p: float | None = None,
    figsize: tuple[float, float] = (5.0, 3.4),
) -> Figure:
    """One kind's event study: effect per wave before and after completion, with intervals.

    The estimates are drawn in percentage points against event time (waves after completion;
    before the work, -2 is the wave before the reference wave -1, which is fixed at 0 and
    drawn hollow). The title says that negative is safer; a note under the axes names the
    reference and the interval level, and the pre-trend p-value when given.

    Parameters
    ----------
    event_study
        :attr:`StaggeredByKind.event_study` (all kinds, or one).
    kind
        The kind to draw.
    lang
        ``"sv"`` (default) or ``"en"``.
    level
        Confidence level of the intervals, for the note; default the table's ``level``
        column (else 0.95).
    pretrend_p
        The p-value of the kind's pre-trend test, shown in the note; default the table's
        ``pretrend_p`` column when it has one.
    figsize
        Inches.

    Returns
    -------
    matplotlib.figure.Figure
        A figure of its own (no pyplot state is touched). The estimates are the line with
        gid ``"estimates"``, the reference point the one with gid ``"reference"``.

    Raises
    ------
    InputError
        When the table has no rows for ``kind``.
    """
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r}.", fix="use 'sv' or 'en'.")
    sub = event_study[event_study["kind"].astype(str) == kind].sort_values("event_time")
    if sub.empty:
        raise InputError(f"the event study has no rows for the kind {kind!r}.",
                         fix=f"draw one of {sorted(set(event_study['kind'].astype(str)))}.")
    ref = sub["reference"].astype(bool).to_numpy() if "reference" in sub.columns else \
        np.zeros(len(sub), bool)
    est = sub[~ref]
    if level is None:
        level = float(sub["level"].iloc[0]) if "level" in sub.columns else 0.95
    if pretrend_p is None and "pretrend_p" in sub.columns:
        pretrend_p = float(sub["pretrend_p"].iloc[0])
    colour = get_kind(kind).colour
    fig = Figure(figsize=figsize)
    ax = fig.add_subplot()
    x = est["event_time"].to_numpy(dtype=float)
    y = 100 * est["estimate"].to_numpy(dtype=float)
    err = 100 * np.vstack([est["estimate"] - est["ci_low"], est["ci_high"] - est["estimate"]])
    bars = ax.errorbar(x, y, yerr=np.nan_to_num(err), fmt="o", color=colour, capsize=3,
                       label=get_kind(kind).label(lang))
    bars.lines[0].set_gid("estimates")
    if ref.any():
        (pt,) = ax.plot(sub.loc[ref, "event_time"].to_numpy(dtype=float), np.zeros(ref.sum()),
                        "o", mfc="white", color=colour)
        pt.set_gid("reference")
    ax.axhline(0, color="#555555", lw=0.8)
    ax.axvline(-0.5, color="#555555", lw=0.8, ls="--")
    ax.set_xticks(sub["event_time"].to_numpy(dtype=int))
    ax.set_xlabel(text("estimator.es_xlabel", lang))
    ax.set_ylabel(text("estimator.es_ylabel", lang))
    ax.set_title(text("estimator.es_title", lang, kind=get_kind(kind).label(lang)), fontsize=10)
    ax.grid(alpha=0.3)
    note = text("estimator.es_note", lang, level=level)
    if pretrend_p is not None and np.isfinite(pretrend_p):
        note += " " + text("estimator.es_pretrend", lang, p=fmt_p(pretrend_p, lang))
    fig.text(0.01, 0.01, note, fontsize=7, wrap=True, va="bottom")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig
