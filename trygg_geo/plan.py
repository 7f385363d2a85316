r"""Plan the evaluation before the money is spent (``trygg-geo planera``).

:func:`plan_evaluation` takes next year's planned investments, the areas and the past survey
waves, and answers, before anything is built, whether the follow-up will be able to see an
effect:

1. **Treated areas** of each planned investment come from the same investment -> area relation
   the evaluation uses (:func:`trygg_geo.design.assign_roles`).
2. **Control areas are chosen now**, from the areas with no planned (and, when given, no
   recent) investment that were measured in every past wave: the nearest neighbours of the
   treated areas on the pre-period level and trend of the indicator (and any covariates such
   as dark-path metres or incident density), standardised. :attr:`EvaluationPlan.balance`
   shows treated, chosen controls and all candidates side by side, with standardised mean
   differences.
3. **The between-district variance** :math:`\tau^2` is estimated from the past waves'
   changes in the candidate areas (:func:`trygg_geo.effects.variance.between_district_variance`).
4. **The MDE** of each planned investment (its own areas against the chosen controls) and of
   each kind (its areas pooled) is the 2x2 difference-in-differences MDE with each cell's
   variance ``p (1 - p) / n + tau2``: ``n`` is the last wave's respondents before and the
   expected respondents of the next wave after (``expected_n``; by default each area's mean
   over the past waves), and ``p`` the area's last share.
5. **Power** against a stated plausible effect (``effects``, per kind; configurable, see
   :data:`PLANNING_EFFECTS`), and a plain **verdict** per investment: ``matbar`` (the
   investment alone reaches ``power``), ``matbar_sammanslagen`` (only its kind pooled does) or
   ``inte_matbar``. For the last two, the extra respondents per treated area in the next wave
   that would make the investment measurable on its own, or a statement that no number of
   respondents will, because :math:`\tau^2` alone is too large.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from scipy import stats

from trygg_geo._errors import InputError, MissingFileError
from trygg_geo._i18n import LANGS, text
from trygg_geo._stats import t_crit
from trygg_geo.design import DesignResult, assign_roles
from trygg_geo.effects.variance import Tau2Result, between_district_variance

__all__ = ["PLANNING_EFFECTS", "VERDICTS", "EvaluationPlan", "PlannedDesign",
           "keep_planned_controls", "plan_evaluation", "read_plan"]

log = logging.getLogger(__name__)

#: Plausible effects on the share who feel unsafe (proportions; negative = safer) used when
#: the plan names none. They are planning assumptions, deliberately modest: evaluations of
#: street lighting and of clearing vegetation report improvements in perceived safety of a
#: few percentage points in the areas treated, and cameras and graffiti removal less. Set
#: your own in ``[plan.effects]``.
PLANNING_EFFECTS: dict[str, float] = {
    "belysning": -0.04, "slyrojning": -0.03, "utemiljo": -0.03, "kamerabevakning": -0.02,
    "klottersanering": -0.02, "annat": -0.02,
}
#: Verdict codes (in this order) -> Swedish and English wording (the ``plan_verdict.`` texts
#: of :data:`trygg_geo._i18n.TEXTS`).
VERDICTS: dict[str, dict[str, str]] = {
    code: {lang: text(f"plan_verdict.{code}", lang) for lang in LANGS}
    for code in ("matbar", "matbar_sammanslagen", "inte_matbar")
}
_MAX_EXTRA = 1_000_000


@dataclass(frozen=True)
class EvaluationPlan:
    """A pre-registered evaluation design.

    Attributes
    ----------
    investments
        One row per planned investment (GeoDataFrame, the input's geometry): the input's
        ``investment_id``, ``kind``, ``source_row``, then ``area_ids`` (its treated areas),
        ``n_treated``, ``n_control``, ``se``, ``mde``, ``effect`` (the plausible effect),
        ``power``, ``kind_mde``, ``kind_power``, ``verdict`` (code), ``verdict_text``,
        ``extra_respondents`` (per treated area in the next wave; NaN when measurable already
        or when no number suffices) and ``note``.
    kinds
        One row per kind: ``kind``, ``n_treated``, ``n_control``, ``se``, ``mde``, ``effect``,
        ``power``.
    controls
        The chosen control areas (GeoDataFrame): ``area_id``, ``name``, the matching
        variables and ``distance`` (standardised, to the nearest treated area).
    treated
        The treated areas: ``area_id``, ``name``, ``kinds``, ``investment_ids`` and geometry.
    balance
        Per matching variable: ``variable``, ``treated``, ``controls``, ``candidates`` (means)
        and ``smd_controls``, ``smd_candidates`` (standardised mean differences to the
        treated areas).
    tau2
        The between-district variance used.
    next_wave, past_waves, level, power
        The design's waves and the test's level and target power.
    """

    investments: gpd.GeoDataFrame
    kinds: pd.DataFrame
    controls: gpd.GeoDataFrame
    treated: gpd.GeoDataFrame
    balance: pd.DataFrame
    tau2: Tau2Result
    next_wave: int
    past_waves: tuple[int, ...]
    level: float
    power: float
    extra: dict[str, Any] = field(default_factory=dict)

    def verdict_counts(self) -> pd.Series:
        """Planned investments per verdict (every verdict listed)."""
        return self.investments["verdict"].value_counts().reindex(list(VERDICTS),
                                                                  fill_value=0)


def _area_covariates(panel: pd.DataFrame, waves: Sequence[int]) -> pd.DataFrame:
    """Per area: the last share (``level``), the change per year (``trend``), n per wave."""
    wide = panel.pivot_table(index="area_id", columns="wave", values="share")
    n = panel.pivot_table(index="area_id", columns="wave", values="n")
    measured = wide.reindex(columns=list(waves)).notna().all(axis=1)
    first, last = waves[0], waves[-1]
    out = pd.DataFrame({
        "level": wide.get(last),
        "trend": (wide.get(last) - wide.get(first)) / max(last - first, 1),
        "n_last": n.get(last),
        "n_mean": n.reindex(columns=list(waves)).mean(axis=1),
        "measured": measured,
    })
    out.index = out.index.astype(str)
    return out


def _choose_controls(cov: pd.DataFrame, treated: list[str], candidates: list[str],
                     variables: list[str], n_controls: int) -> pd.Series:
    """Nearest candidates to the treated areas, round robin: control area -> distance."""
    x = cov.loc[treated + candidates, variables].astype(float)
    sd = x.std(ddof=1).replace(0, 1.0).fillna(1.0)
    z = (x - x.mean()) / sd
    zt, zc = z.loc[treated].to_numpy(), z.loc[candidates].to_numpy()
    d = np.sqrt(((zt[:, None, :] - zc[None, :, :]) ** 2).sum(axis=2))  # treated x candidates
    order = np.argsort(d, axis=1, kind="stable")
    chosen: dict[str, float] = {}
    rank = 0
    while len(chosen) < min(n_controls, len(candidates)) and rank < len(candidates):
        for i in range(len(treated)):
            j = order[i, rank]
            c = candidates[j]
            if c not in chosen and len(chosen) < n_controls:
                chosen[c] = float(d[:, j].min())
        rank += 1
    return pd.Series(chosen, name="distance")


def _balance(cov: pd.DataFrame, treated: list[str], controls: list[str], candidates: list[str],
             variables: list[str]) -> pd.DataFrame:
    rows = []
    for v in variables:
        t, c, a = (cov.loc[ids, v].astype(float) for ids in (treated, controls, candidates))
        sd = math.sqrt((t.var(ddof=1) + a.var(ddof=1)) / 2) if len(t) > 1 else a.std(ddof=1)
        sd = sd if sd and np.isfinite(sd) else float("nan")
        rows.append({"variable": v, "treated": t.mean(), "controls": c.mean(),
                     "candidates": a.mean(), "smd_controls": (c.mean() - t.mean()) / sd,
                     "smd_candidates": (a.mean() - t.mean()) / sd})
    return pd.DataFrame(rows)


def _cell_var(p: np.ndarray, n: np.ndarray, tau2: float) -> np.ndarray:
    p = np.clip(p, 0.01, 0.99)
    return p * (1 - p) / n + tau2


class _Design:
    """The variance of a 2x2 DiD of planned treated areas against the chosen controls."""

    def __init__(self, cov: pd.DataFrame, controls: list[str], tau2: float, n_next: pd.Series,
                 level: float, power: float) -> None:
        self.cov, self.tau2, self.n_next = cov, tau2, n_next
        self.level, self.power = level, power
        c = cov.loc[controls]
        v = _cell_var(c["level"].to_numpy(float), c["n_last"].to_numpy(float), tau2) + \
            _cell_var(c["level"].to_numpy(float), n_next.loc[controls].to_numpy(float), tau2)
        self.n_c = len(controls)
        self.control_var = float(v.sum()) / self.n_c**2

    def se(self, treated: list[str], extra: float = 0.0) -> float:
        t = self.cov.loc[treated]
        p = t["level"].to_numpy(float)
        v = _cell_var(p, t["n_last"].to_numpy(float), self.tau2) + \
            _cell_var(p, self.n_next.loc[treated].to_numpy(float) + extra, self.tau2)
        return math.sqrt(float(v.sum()) / len(treated) ** 2 + self.control_var)

    def df(self, n_t: int) -> float:
        return float(n_t + self.n_c - 2)

    def mde(self, se: float, n_t: int) -> float:
        # the power quantile from the same t distribution as the test, so that the power
        # at the MDE is the target power (power_of(mde) >= power)
        df = self.df(n_t)
        return (t_crit(self.level, df) + float(stats.t.ppf(self.power, df))) * se

    def power_of(self, effect: float, se: float, n_t: int) -> float:
        if not (np.isfinite(effect) and se > 0):
            return float("nan")
        df = self.df(n_t)
        crit = t_crit(self.level, df)
        nc = abs(effect) / se
        return float(stats.t.sf(crit - nc, df) + stats.t.cdf(-crit - nc, df))

    def extra_needed(self, treated: list[str], effect: float) -> float:
        """Extra next-wave respondents per treated area for power, NaN if none suffice."""
        n_t = len(treated)
        if self.mde(self.se(treated, _MAX_EXTRA), n_t) > abs(effect):
            return float("nan")
        lo, hi = 0.0, float(_MAX_EXTRA)
        for _ in range(60):
            mid = (lo + hi) / 2
            if self.mde(self.se(treated, mid), n_t) <= abs(effect):
                hi = mid
            else:
                lo = mid
        return float(math.ceil(hi))


def _treated_areas(planned: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, past_waves: list[int],
                   next_wave: int, wave_month: int, wave_day: int) -> pd.DataFrame:
    """The planned investment -> area links (the evaluation's own relation)."""
    dates = {w: pd.Timestamp(w, wave_month, wave_day) for w in (past_waves[-1], next_wave)}
    inv = planned.copy()
    done = pd.to_datetime(inv.get("completed"), errors="coerce")
    # a plan without a completion date is assumed done before the next wave
    inv["completed"] = done.fillna(dates[next_wave] - pd.Timedelta(days=1))
    for col in ("started", "status"):
        if col in inv:
            inv = inv.drop(columns=col)
    d = assign_roles(areas, inv, waves=dates, kind="kind" if "kind" in inv else None,
                     spillover=None)
    links = d.links[d.links["share"] > 0].copy()
    links["area_id"] = links["area_id"].astype(str)
    return links


def plan_evaluation(
    planned: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    panel: pd.DataFrame,
    *,
    next_wave: int,
    indicator: str | None = None,
    expected_n: float | Mapping[str, float] | None = None,
    past_investments: gpd.GeoDataFrame | None = None,
    covariates: pd.DataFrame | None = None,
    n_controls: int = 12,
    effects: Mapping[str, float] | None = None,
    level: float = 0.95,
    power: float = 0.80,
    wave_month: int = 9,
    wave_day: int = 15,
    lang: str = "sv",
) -> EvaluationPlan:
    """Plan the follow-up of planned investments: controls, MDE, power and a verdict.

    Parameters
    ----------
    planned
        Planned investments, placed (``trygg_geo.geocode_register(...).placed``), with
        ``investment_id`` and ``kind``; ``completed`` is the planned completion (missing: before
        the next wave).
    areas
        The areas (``area_id``, ``name``), projected.
    panel
        The survey panel of the past waves (:func:`trygg_geo.survey.survey_panel`).
    next_wave
        The wave that will measure the investments.
    indicator
        The panel's indicator (when it holds several).
    expected_n
        Expected respondents per area in the next wave: one number for all, a mapping per
        area id, or None for each area's mean over the past waves.
    past_investments
        Investments already made; areas they touch in the past waves' period are no
        candidates for control.
    covariates
        Extra matching variables per area (index or column ``area_id``), e.g. dark-path metres
        (``DarkPaths.by_area``) or incident density.
    n_controls
        Control areas to choose.
    effects
        Plausible effect per kind (proportions, negative = safer); default
        :data:`PLANNING_EFFECTS`.
    level, power
        Test level and target power.
    wave_month, wave_day
        The fieldwork date of each wave.
    lang
        Language of the verdict texts.

    Returns
    -------
    EvaluationPlan

    Raises
    ------
    InputError
        No past waves, no planned investment in any area, or too few candidate controls.
    """
    sub = panel if indicator is None or "indicator" not in panel else \
        panel[panel["indicator"] == indicator]
    sub = sub.assign(area_id=sub["area_id"].astype(str))
    past = sorted(int(w) for w in sub["wave"].unique() if int(w) < next_wave)
    if len(past) < 2:
        raise InputError(f"planning needs at least two past waves before {next_wave}; the survey "
                         f"has {past}", key="plan.next_wave",
                         fix="add the earlier waves to the survey file")
    links = _treated_areas(planned, areas, past, next_wave, wave_month, wave_day)
    if links.empty:
        raise InputError("no planned investment lies in any area", key="plan.register",
                         fix="check the planned register's addresses and the area layer")
    cov = _area_covariates(sub, past)
    variables = ["level", "trend"]
    if covariates is not None:
        extra = covariates.set_index("area_id") if "area_id" in covariates else covariates
        extra.index = extra.index.astype(str)
        num = extra.select_dtypes("number")
        cov = cov.join(num, how="left")
        variables += [str(c) for c in num.columns]
    treated = sorted(set(links["area_id"]) & set(cov.index[cov["measured"]]))
    unmeasured = sorted(set(links["area_id"]) - set(treated))
    busy = set(links["area_id"])
    if past_investments is not None and len(past_investments):
        pl = _treated_areas(past_investments, areas, past, next_wave, wave_month, wave_day)
        busy |= set(pl["area_id"])
    candidates = [a for a in cov.index[cov["measured"]] if a not in busy
                  and cov.loc[a, variables].notna().all()]
    if len(candidates) < 2:
        raise InputError(f"only {len(candidates)} areas can serve as controls (measured in every "
                         "past wave, no investment)", key="plan.n_controls",
                         fix="check the survey's area names, or plan fewer areas at once")
    chosen = _choose_controls(cov, treated, candidates, variables, n_controls)
    controls = list(chosen.index)
    tau = between_district_variance(sub, candidates, waves=past)
    if expected_n is None:
        n_next = cov["n_mean"].astype(float)
    elif isinstance(expected_n, Mapping):
        n_next = pd.Series({str(k): float(v) for k, v in expected_n.items()}).reindex(
            cov.index).fillna(cov["n_mean"])
    else:
        n_next = pd.Series(float(expected_n), index=cov.index)
    design = _Design(cov, controls, tau.value, n_next, level, power)
    eff = {**PLANNING_EFFECTS, **(dict(effects) if effects else {})}

    kinds_rows = []
    kind_of = links.groupby("kind")["area_id"].apply(lambda s: sorted(set(s) & set(treated))) \
        if "kind" in links else pd.Series(dtype=object)
    for kind, ids in kind_of.items():
        if not ids:
            continue
        se = design.se(ids)
        e = eff.get(str(kind), eff["annat"])
        kinds_rows.append({"kind": kind, "n_treated": len(ids), "n_control": len(controls),
                           "se": se, "mde": design.mde(se, len(ids)), "effect": e,
                           "power": design.power_of(e, se, len(ids))})
    kinds = pd.DataFrame(kinds_rows, columns=["kind", "n_treated", "n_control", "se", "mde",
                                              "effect", "power"])
    by_kind = kinds.set_index("kind")

    rows = []
    say = "sv" if lang == "sv" else "en"  # the notes' language (English unless Swedish)
    for i, inv in planned.reset_index(drop=True).iterrows():
        ids = sorted(set(links.loc[links["row"] == i, "area_id"]) & set(treated))
        kind = str(inv.get("kind", "annat"))
        e = eff.get(kind, eff["annat"])
        rec: dict[str, Any] = {"area_ids": ",".join(ids), "n_treated": len(ids),
                               "n_control": len(controls), "effect": e}
        if not ids:
            rec.update(se=np.nan, mde=np.nan, power=np.nan, kind_mde=np.nan, kind_power=np.nan,
                       verdict="inte_matbar", extra_respondents=np.nan,
                       note=text("plan.note_outside", say))
            rows.append(rec)
            continue
        se = design.se(ids)
        pw = design.power_of(e, se, len(ids))
        kp = float(by_kind.loc[kind, "power"]) if kind in by_kind.index else np.nan
        rec.update(se=se, mde=design.mde(se, len(ids)), power=pw,
                   kind_mde=float(by_kind.loc[kind, "mde"]) if kind in by_kind.index else np.nan,
                   kind_power=kp)
        if pw >= power:
            rec.update(verdict="matbar", extra_respondents=np.nan, note="")
        else:
            rec["verdict"] = "matbar_sammanslagen" if kp >= power else "inte_matbar"
            need = design.extra_needed(ids, e)
            rec["extra_respondents"] = need
            # the floor: the controls' sampling variance and tau2 do not shrink with
            # respondents in the treated areas (tau2 may be near zero)
            rec["note"] = "" if np.isfinite(need) else text("plan.note_no_extra", say)
        rows.append(rec)
    table = pd.DataFrame(rows)
    table["verdict_text"] = table["verdict"].map(lambda v: VERDICTS[v][lang])
    keep = [c for c in ("investment_id", "name", "kind", "source_row", "completed",
                        "duplicate_of") if c in planned]
    invest = gpd.GeoDataFrame(pd.concat([planned.reset_index(drop=True)[keep], table], axis=1),
                              geometry=planned.geometry.reset_index(drop=True).to_numpy(),
                              crs=planned.crs)
    a = areas.assign(area_id=areas["area_id"].astype(str)).set_index("area_id")
    ctrl = gpd.GeoDataFrame(
        cov.loc[controls, variables].assign(distance=chosen).reset_index(names="area_id"),
        geometry=a.loc[controls].geometry.to_numpy(), crs=areas.crs)
    if "name" in a:
        ctrl.insert(1, "name", a.loc[controls, "name"].to_numpy())
    tl = links[links["area_id"].isin(treated)]
    agg = tl.groupby("area_id").agg(
        kinds=("kind", lambda s: ",".join(sorted(set(map(str, s))))) if "kind" in tl else
        ("area_id", "size"),
        investment_ids=("investment_id", lambda s: ",".join(sorted(set(map(str, s))))))
    tr = gpd.GeoDataFrame(agg.reindex(treated).reset_index(names="area_id"),
                          geometry=a.loc[treated].geometry.to_numpy(), crs=areas.crs)
    if "name" in a:
        tr.insert(1, "name", a.loc[treated, "name"].to_numpy())
    balance = _balance(cov, treated, controls, candidates, variables)
    log.info("plan for wave %d: %d investments, %d treated areas, %d controls of %d candidates, "
             "tau2 %.5f; verdicts %s", next_wave, len(planned), len(treated), len(controls),
             len(candidates), tau.value, table["verdict"].value_counts().to_dict())
    return EvaluationPlan(investments=invest, kinds=kinds, controls=ctrl, treated=tr,
                          balance=balance, tau2=tau, next_wave=int(next_wave),
                          past_waves=tuple(past), level=level, power=power,
                          extra={"unmeasured_treated": unmeasured,
                                 "candidates": candidates})


# --------------------------------------------------------------------------- keeping to the plan


@dataclass(frozen=True)
class PlannedDesign:
    """The pre-registered design read back from a plan's GeoPackage (:func:`read_plan`).

    Attributes
    ----------
    controls
        The chosen control area ids, in the plan's order.
    names
        Area id -> name, for messages.
    next_wave, past_waves
        The waves the plan compares (``past_waves[-1]`` before, ``next_wave`` after).
    plan_id, estimator, path
        The plan's id (stamped into its files), its estimator code and the file read.
    """

    controls: tuple[str, ...]
    names: dict[str, str]
    next_wave: int | None
    past_waves: tuple[int, ...]
    plan_id: str
    estimator: str
    path: str


def read_plan(path: str | Path) -> PlannedDesign:
    """Read the controls and waves of a written ``utvarderingsplan.gpkg``.

    Raises
    ------
    MissingFileError
        The file does not exist.
    InputError
        It has no ``plan_kontroller`` layer (not a plan written by ``trygg-geo planera``).
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(p, what="evaluation plan ([plan] path)")
    layers = [str(x[0]) for x in pyogrio.list_layers(p)]
    if "plan_kontroller" not in layers:
        raise InputError(f"'{p}' has no layer plan_kontroller, so it is not an evaluation plan "
                         "written by trygg-geo planera", key="plan.path",
                         fix="give the utvarderingsplan.gpkg that trygg-geo planera wrote")
    ctrl = pyogrio.read_dataframe(p, layer="plan_kontroller", read_geometry=False)
    meta = pyogrio.read_info(p, layer="plan_kontroller").get("dataset_metadata") or {}
    ids = ctrl["area_id"].astype(str)
    names = ctrl["name"].astype(str) if "name" in ctrl else ids
    past = tuple(int(w) for w in str(meta.get("past_waves", "")).split(",") if w.strip())
    nxt = meta.get("next_wave")
    return PlannedDesign(controls=tuple(ids), names=dict(zip(ids, names, strict=True)),
                         next_wave=int(nxt) if nxt else None, past_waves=past,
                         plan_id=str(meta.get("run_id", "")),
                         estimator=str(meta.get("estimator", "did_2x2")), path=str(p))


def keep_planned_controls(design: DesignResult, planned: PlannedDesign, *,
                          waves: Sequence[int], lang: str = "sv") -> tuple[DesignResult, list[str]]:
    """Restrict the control role to the plan's controls; say how the run deviates from the plan.

    An area that :func:`~trygg_geo.design.assign_roles` made a control but the plan did not
    choose becomes ``excluded`` (reason ``not_planned_control``); nothing is re-chosen. A
    planned control that is no control now (it got an investment since, or lost a survey
    wave) and a planned wave the run does not have are deviations.

    Returns
    -------
    (DesignResult, list of str)
        The design with the restricted roles, and the notes: first what was kept, then one
        sentence per deviation (in ``lang``).
    """
    roles = design.roles.copy()
    ids = roles["area_id"].astype(str)
    keep = set(planned.controls)
    drop = ((roles["role"] == "control") & ~ids.isin(keep)).to_numpy()
    roles.loc[drop, "role"] = "excluded"
    roles.loc[drop, "reason"] = "not_planned_control"
    roles.loc[drop, "reason_text"] = text("role.not_planned_control", lang)
    role_of = dict(zip(ids, roles["role"].astype(str), strict=True))
    why_of = dict(zip(ids, roles["reason_text"].astype(str), strict=True))
    deviations = []
    for a in planned.controls:
        if role_of.get(a) == "control":
            continue
        why = why_of.get(a, text("plan.deviation_missing_area", lang))
        deviations.append(text("plan.deviation_control", lang, area_id=a,
                               name=planned.names.get(a, a), why=why))
    wanted = [w for w in (*planned.past_waves[-1:], planned.next_wave) if w is not None]
    missing = [w for w in wanted if int(w) not in {int(x) for x in waves}]
    if missing:
        deviations.append(text("plan.deviation_wave", lang,
                               planned=", ".join(map(str, wanted)),
                               missing=", ".join(map(str, missing)),
                               waves=", ".join(map(str, waves))))
    used = sum(role_of.get(a) == "control" for a in planned.controls)
    kept = text("plan.kept", lang, file=Path(planned.path).name, plan_id=planned.plan_id,
                used=used, planned=len(planned.controls))
    log.info("%s", kept)
    return replace(design, roles=roles), [kept, *deviations]
