"""Coverage study: whether the per-kind headline intervals hold what they promise.

On the demo city (:mod:`trygg_geo.demo`) the true effect of every kind is known, and every
district and wave has its own shock (``shock_sd``, default 2 pp). Two modes:

* **fast** (:func:`coverage_fast`): keep one design (treated areas per kind with their
  windows, the controls, the respondent count of every survey cell), redraw the shocks
  and the survey counts ``Binomial(n, clip(expected share + shock))`` many times, and
  re-estimate every kind's pooled 2x2 DiD as the effect table does: the estimate is a
  fixed linear contrast of the cells; the headline interval adds the estimated district x
  wave variance ``tau2`` with a Satterthwaite t, or is the permutation interval for kinds
  with few treated areas (``inference="sampling"``: the binomial-only interval).
* **full** (:func:`coverage_full`): regenerate the whole demo city with a new seed and run
  the real pipeline (:func:`trygg_geo.pipeline.run`), so that geocoding errors and design
  decisions count too; the effect table's headline interval is read
  (:func:`headline_rows`).

For kinds with a planted effect, an interval at 95% should cover it in about 95% of the
replications; for kinds without one, the test of "no effect" should reject in about 5%.

The study drives the demo and the pipeline, so it lives at the package's top level and
imports them, not in :mod:`trygg_geo.effects` (which the pipeline imports).

Examples
--------
>>> from trygg_geo.coverage import CoverageDesign, coverage_fast  # doctest: +SKIP
>>> design = CoverageDesign.from_results(results, truth)  # doctest: +SKIP
>>> coverage_fast(design, n_reps=2000).summary()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from trygg_geo._errors import InputError
from trygg_geo._stats import z_crit
from trygg_geo.config import load_config
from trygg_geo.demo import SHOCK_SD, district_wave_shocks, make_demo_city
from trygg_geo.effects.did import did_contrast
from trygg_geo.effects.inference import MIN_TREATED_MODEL, choose_headline, permutation_test

# _dl is the package's one DerSimonian-Laird estimate; the fast study calls it on arrays to
# avoid rebuilding a panel per replication (between_district_variance wraps the same code)
from trygg_geo.effects.variance import Tau2Result, _dl, model_inference
from trygg_geo.pipeline import run
from trygg_geo.survey import share_se

__all__ = [
    "CoverageDesign",
    "CoverageResult",
    "coverage_fast",
    "coverage_full",
    "headline_rows",
    "summarise_coverage",
]

log = logging.getLogger(__name__)

#: A treated unit's cohort (the wave after its investment) or its (pre, post) waves.
Window: TypeAlias = int | tuple[int, int]

#: One row per replication and kind. ``ci_low, ci_high, p_value`` are the headline
#: interval and p (``headline`` says which: "model", "permutation", or "sampling" for the
#: fast study's sampling-only 2x2); ``significant`` is the table's own flag (by the
#: adjusted p where it has one; NaN when the table has none); ``tau2`` and ``df`` as in
#: the effect table (NaN when absent).
_REP_COLUMNS = ["rep", "seed", "kind", "planted", "estimate", "se", "ci_low", "ci_high", "p_value",
                "covered", "rejected", "n_treated", "n_control", "headline", "significant",
                "tau2", "df"]


# --------------------------------------------------------------------------------------------
# Design
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CoverageDesign:
    """A fixed design to redraw surveys on.

    Attributes
    ----------
    indicator
        The indicator estimated (the demo plants effects on ``otrygg_kvall``).
    waves
        Survey waves.
    treated
        Kind -> {area id -> cohort or (pre wave, post wave)}: the treated areas of each
        per-kind estimate, with their measurement windows when the run gave them.
    controls
        Control area ids (shared by every kind, as in the pipeline).
    cells
        ``area_id, wave, n, true_share, expected_share``: respondents, the true share (with
        that city's district x wave shock) and the expected share (without it) of every
        survey cell of the indicator. The fast study draws new shocks around the expected
        share; facit.json files without shocks give ``expected_share = true_share``.
    planted
        Kind -> planted effect (0.0 for kinds without one).
    source
        Where the design came from (``"pipeline"`` or ``"plan"``).
    """

    indicator: str
    waves: tuple[int, ...]
    treated: dict[str, dict[str, Window]]
    controls: tuple[str, ...]
    cells: pd.DataFrame
    planted: dict[str, float]
    source: str = "pipeline"

    @classmethod
    def from_results(cls, results: Any, truth: Mapping[str, Any]) -> CoverageDesign:
        """The design a pipeline run chose (:func:`trygg_geo.pipeline.run`'s ``Results``).

        Per kind, the treated areas are those with role ``treated`` and that one kind only,
        as in the pipeline's per-kind estimates; the controls are the areas with role
        ``control``. The respondent counts come from the run's survey panel.
        """
        indicator = str(truth.get("indicator", "otrygg_kvall"))
        roles = results.roles
        controls = tuple(roles.loc[roles["role"] == "control", "area_id"].astype(str))
        tr = roles[(roles["role"] == "treated") & ~roles["kinds"].astype(str).str.contains(",")]
        treated: dict[str, dict[str, Window]] = {}
        for kind in truth["planted_effects"]:
            units = tr[tr["kinds"] == kind]
            if len(units):
                treated[kind] = {str(a): _unit_window(u) for a, u in
                                 zip(units["area_id"], units.to_dict("records"), strict=True)}
        panel = results.panel
        n = panel.loc[panel["indicator"] == indicator, ["area_id", "wave", "n"]]
        waves = tuple(int(w) for w in (results.config.analysis.waves or truth["waves"]))
        return cls(indicator, waves, treated, controls, _with_truth(n, truth, indicator),
                   {k: float(v) for k, v in truth["planted_effects"].items()}, "pipeline")

    @classmethod
    def from_truth(cls, truth: Mapping[str, Any], panel: pd.DataFrame) -> CoverageDesign:
        """The planned design of the demo (``facit.json``): treated districts, cohorts, controls.

        ``panel`` supplies the respondent counts (``area_id, wave, indicator, n``), e.g. the
        demo's survey read with :func:`trygg_geo.survey.read_survey`.
        """
        indicator = str(truth.get("indicator", "otrygg_kvall"))
        cohort = truth["cohort"]
        treated: dict[str, dict[str, Window]] = {
            k: {str(a): int(cohort[a]) for a in v}
            for k, v in truth["treated_districts"].items()
            if v
        }
        p = panel[panel["indicator"] == indicator] if "indicator" in panel.columns else panel
        return cls(indicator, tuple(int(w) for w in truth["waves"]), treated,
                   tuple(str(c) for c in truth["control_districts"]),
                   _with_truth(p[["area_id", "wave", "n"]], truth, indicator),
                   {k: float(v) for k, v in truth["planted_effects"].items()}, "plan")

    def contrasts(self) -> tuple[pd.MultiIndex, list[str], np.ndarray, dict[str, tuple[int, int]]]:
        """The cell weights of every kind's pooled 2x2 DiD.

        Returns ``(cells, kinds, weights, n)``: ``weights[k] @ shares`` is kind ``k``'s
        estimate for shares in ``cells`` order, and ``n[kind] = (n_treated, n_control)``.
        """
        c = self.cells.copy()
        c["share"] = c["expected_share"]
        c["se"] = 1.0
        idx = pd.MultiIndex.from_frame(c[["area_id", "wave"]])
        kinds, rows, ns = [], [], {}
        for kind, t in self.treated.items():
            con = did_contrast(c, treated=t, controls=list(self.controls), waves=list(self.waves))
            if con.n_treated == 0 or con.n_control == 0:
                log.info("kind %s has no estimable 2x2 DiD in this design", kind)
                continue
            w = pd.Series(con.cells["weight"].to_numpy(),
                          index=pd.MultiIndex.from_frame(con.cells[["area_id", "wave"]]))
            rows.append(w.reindex(idx, fill_value=0.0).to_numpy())
            kinds.append(kind)
            ns[kind] = (con.n_treated, con.n_control)
        weights = np.vstack(rows) if rows else np.zeros((0, len(idx)))
        return idx, kinds, weights, ns


def _with_truth(n: pd.DataFrame, truth: Mapping[str, Any], indicator: str) -> pd.DataFrame:
    ts = truth["true_share"][indicator]
    out = pd.DataFrame(
        {
            "area_id": n["area_id"].astype(str).to_numpy(),
            "wave": n["wave"].astype(int).to_numpy(),
            "n": pd.to_numeric(n["n"]).to_numpy(dtype=float),
        }
    )
    missing = [
        (a, w)
        for a, w in zip(out["area_id"], out["wave"], strict=True)
        if str(w) not in ts.get(a, {})
    ]
    if missing:
        raise InputError(
            f"facit.json has no true share of '{indicator}' for the cells {missing[:3]}.",
            fix="use the facit.json written with this demo survey.",
        )
    keys = list(zip(out["area_id"], out["wave"].astype(str), strict=True))
    out["true_share"] = [ts[a][w] for a, w in keys]
    es = truth.get("expected_share", {}).get(indicator)
    out["expected_share"] = [es[a][w] for a, w in keys] if es else out["true_share"]
    return out.sort_values(["area_id", "wave"], ignore_index=True)


def _unit_window(role: Mapping[str, Any]) -> Window:
    """A treated area's (pre wave, post wave) from its role row, else its cohort."""
    pre = role.get("pre_wave")
    if pre is not None and pd.notna(pre):
        return (int(pre), int(role["cohort"]))
    return int(role["cohort"])


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Coverage of the planted effects and false rejections where none was planted.

    Attributes
    ----------
    mode
        ``"fast"`` (redrawn surveys on one design) or ``"full"`` (whole pipeline per seed).
    shock_sd
        SD of the district x wave shocks the replications were drawn with (share units).
    level
        Confidence level of the intervals.
    n_reps
        Replications run (full mode: demo cities that ran through).
    table
        Per kind: ``kind, planted, n_estimates, coverage, coverage_mc_se, rejection_rate,
        mean_estimate, bias, sd_estimate, mean_se, se_ratio`` (mean SE / SD of the
        estimates: 1 when the SE is right), ``n_treated, n_control`` (means),
        ``share_permutation`` (share of replications whose headline was the permutation
        interval), ``significant_rate`` (the table's own ``significant`` flag; NaN when
        absent), ``mean_tau2`` and ``median_df`` (NaN when absent), and in fast mode
        ``target`` (the design's DiD at the expected shares).
    coverage_planted
        Share of (replication, kind) intervals with a planted effect that cover it.
    rejection_null
        Share of (replication, kind) tests without a planted effect that reject at
        ``1 - level``.
    n_planted, n_null
        Numbers of (replication, kind) pairs behind the two figures.
    replications
        One row per replication and kind.
    failures
        Full mode: seeds whose run failed, with the error.
    """

    mode: str
    shock_sd: float
    level: float
    n_reps: int
    table: pd.DataFrame
    coverage_planted: float
    rejection_null: float
    n_planted: int
    n_null: int
    replications: pd.DataFrame
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["seed", "error"]))

    @property
    def coverage_planted_mc_se(self) -> float:
        """Monte Carlo standard error of :attr:`coverage_planted`.

        Binomial, ignoring correlation between replications.
        """
        p = self.coverage_planted
        return float(np.sqrt(p * (1 - p) / self.n_planted)) if self.n_planted else float("nan")

    @property
    def rejection_null_mc_se(self) -> float:
        """Monte Carlo standard error of :attr:`rejection_null` (binomial)."""
        p = self.rejection_null
        return float(np.sqrt(p * (1 - p) / self.n_null)) if self.n_null else float("nan")

    def summary(self) -> pd.DataFrame:
        """One row: mode, shock SD, level, n_reps, the two pooled figures and their n."""
        return pd.DataFrame(
            [
                {
                    "mode": self.mode,
                    "shock_sd": self.shock_sd,
                    "level": self.level,
                    "n_reps": self.n_reps,
                    "coverage_planted": self.coverage_planted,
                    "coverage_planted_mc_se": self.coverage_planted_mc_se,
                    "n_planted": self.n_planted,
                    "rejection_null": self.rejection_null,
                    "rejection_null_mc_se": self.rejection_null_mc_se,
                    "n_null": self.n_null,
                    "failures": len(self.failures),
                }
            ]
        )

    def to_frame(self) -> pd.DataFrame:
        """The per-kind table (a copy)."""
        return self.table.copy()


def summarise_coverage(replications: pd.DataFrame, *, mode: str, level: float, n_reps: int,
                       failures: pd.DataFrame | None = None,
                       target: Mapping[str, float] | None = None,
                       shock_sd: float = float("nan")) -> CoverageResult:
    """Per-kind and pooled coverage from one row per replication and kind (``_REP_COLUMNS``)."""
    r = replications[np.isfinite(replications["estimate"].to_numpy(dtype=float))]
    rows = []
    for kind, g in r.groupby("kind", sort=False):
        cov = float(g["covered"].mean())
        sd = float(g["estimate"].std(ddof=1)) if len(g) > 1 else float("nan")
        row = {
            "kind": kind,
            "planted": float(g["planted"].iloc[0]),
            "n_estimates": len(g),
            "coverage": cov,
            "coverage_mc_se": float(np.sqrt(cov * (1 - cov) / len(g))),
            "rejection_rate": float(g["rejected"].mean()),
            "mean_estimate": float(g["estimate"].mean()),
            "bias": float((g["estimate"] - g["planted"]).mean()),
            "sd_estimate": sd,
            "mean_se": float(g["se"].mean()),
            "se_ratio": float(g["se"].mean()) / sd if sd > 0 else float("nan"),
            "n_treated": float(g["n_treated"].mean()),
            "n_control": float(g["n_control"].mean()),
            "share_permutation": float((g["headline"] == "permutation").mean()),
            "significant_rate": _mean_finite(g["significant"]),
            "mean_tau2": _mean_finite(g["tau2"]),
            "median_df": float(np.nanmedian(g["df"])) if g["df"].notna().any() else np.nan,
        }
        if target is not None:
            row["target"] = float(target.get(str(kind), np.nan))
        rows.append(row)
    table = pd.DataFrame(rows)
    planted = r[r["planted"] != 0]
    null = r[r["planted"] == 0]
    return CoverageResult(
        mode=mode, shock_sd=float(shock_sd), level=level, n_reps=n_reps, table=table,
        coverage_planted=float(planted["covered"].mean()) if len(planted) else float("nan"),
        rejection_null=float(null["rejected"].mean()) if len(null) else float("nan"),
        n_planted=len(planted), n_null=len(null), replications=replications.reset_index(drop=True),
        failures=failures if failures is not None else pd.DataFrame(columns=["seed", "error"]),
    )


def _mean_finite(x: pd.Series) -> float:
    v = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _interval(
    est: np.ndarray, se: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = z_crit(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(est / se))
    return est - z * se, est + z * se, p


# --------------------------------------------------------------------------------------------
# Fast mode
# --------------------------------------------------------------------------------------------
def coverage_fast(
    design: CoverageDesign,
    *,
    n_reps: int = 400,
    seed: int | None = 0,
    level: float = 0.95,
    round_pct: int | None = 1,
    shock_sd: float = SHOCK_SD,
    inference: Literal["headline", "sampling"] = "headline",
    n_permutations: int = 10_000,
    progress: bool = False,
) -> CoverageResult:
    """Coverage by redrawing the survey on a fixed design.

    Parameters
    ----------
    design
        Treated areas per kind, controls, respondent counts and expected shares.
    n_reps
        Replications.
    seed
        Seed of the shocks and the binomial draws.
    level
        Confidence level of the intervals (and ``1 - level`` is the test's size).
    round_pct
        Round the drawn shares to this many decimals of a percent, as the demo's survey
        file does (``None``: no rounding).
    shock_sd
        SD of the district x wave shocks drawn anew in every replication, in share units
        (default the demo's 0.02; 0 = sampling error only). The shocks are those of the
        demo city (:func:`trygg_geo.demo.district_wave_shocks`, large local ones included).
    inference
        ``"headline"`` (default): the interval and p-value the pipeline's effect table
        makes its headline (see Notes). ``"sampling"``: the binomial-only normal interval
        (what the package reported before issue 12; vectorised).
    n_permutations
        Permutations of a headline permutation test when its assignments are too many to
        enumerate (the pipeline's default).
    progress
        Show a tqdm progress bar over the replications (headline inference).

    Returns
    -------
    CoverageResult
        With ``table["target"]``: each kind's DiD at the expected shares (equal to the
        planted effect when the design matches the plan and no share was clipped).

    Notes
    -----
    Each replication draws a shock ``u`` for every cell, sets the cell's true share to
    ``clip(expected_share + u, 0.01, 0.95)`` as the demo does, draws
    ``k ~ Binomial(n, true share)``, sets ``share = k / n`` and ``se`` as
    :func:`trygg_geo.survey.share_se` does. Every kind's estimate is ``w @ share`` with the
    weights of :func:`~trygg_geo.effects.did.did_contrast` (what
    :func:`~trygg_geo.effects.did_2x2` gives). With ``inference="headline"`` the rest
    follows :func:`trygg_geo.effects.evaluation.estimate_effects`: ``tau2`` is estimated
    from the controls' changes (DerSimonian-Laird, as
    :func:`~trygg_geo.effects.variance.between_district_variance`), the SE, Satterthwaite
    t interval and p-value come from :func:`~trygg_geo.effects.variance.model_inference`,
    and a kind with fewer than :data:`~trygg_geo.effects.inference.MIN_TREATED_MODEL`
    treated areas takes :func:`~trygg_geo.effects.inference.permutation_test`'s p-value and
    interval (:func:`~trygg_geo.effects.inference.choose_headline`). Coverage is measured
    against the planted effect.
    """
    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}.")
    if inference not in ("headline", "sampling"):
        raise ValueError(f"inference must be 'headline' or 'sampling', got {inference!r}.")
    idx, kinds, w, ns = design.contrasts()
    if not kinds:
        raise InputError("the design has no kind with treated and control areas to estimate.")
    cells = design.cells.set_index(["area_id", "wave"]).reindex(idx)
    n = cells["n"].to_numpy(dtype=float)
    p0 = cells["expected_share"].to_numpy(dtype=float)
    share = _draw_shares(np.random.default_rng(seed), n, p0, n_reps=n_reps, shock_sd=shock_sd,
                         round_pct=round_pct)
    se = share_se(share, np.broadcast_to(n, share.shape))
    est = share @ w.T  # (reps, kinds)
    if inference == "sampling":
        est_se = np.sqrt((se**2) @ (w**2).T)
        lo, hi, pv = _interval(est, est_se, level)
        extra = {"headline": np.full(est.shape, "sampling", dtype=object),
                 "tau2": np.full(est.shape, np.nan), "df": np.full(est.shape, np.nan)}
    else:
        est_se, lo, hi, pv, extra = _headline_fast(design, idx, kinds, w, share, se, est,
                                                   level=level, n_permutations=n_permutations,
                                                   progress=progress)
    planted = np.array([design.planted.get(kind, 0.0) for kind in kinds])
    frames = []
    for j, kind in enumerate(kinds):
        frames.append(
            pd.DataFrame(
                {
                    "rep": np.arange(n_reps),
                    "seed": seed if seed is not None else -1,
                    "kind": kind,
                    "planted": planted[j],
                    "estimate": est[:, j],
                    "se": est_se[:, j],
                    "ci_low": lo[:, j],
                    "ci_high": hi[:, j],
                    "p_value": pv[:, j],
                    "covered": (lo[:, j] <= planted[j]) & (planted[j] <= hi[:, j]),
                    "rejected": pv[:, j] < 1 - level,
                    "n_treated": ns[kind][0],
                    "n_control": ns[kind][1],
                    "headline": extra["headline"][:, j],
                    "significant": np.nan,
                    "tau2": extra["tau2"][:, j],
                    "df": extra["df"][:, j],
                }
            )
        )
    reps = pd.concat(frames, ignore_index=True)[_REP_COLUMNS]
    target = dict(zip(kinds, (w @ p0).tolist(), strict=True))
    return summarise_coverage(reps, mode="fast", level=level, n_reps=n_reps, target=target,
                              shock_sd=shock_sd)


def _control_pairs(design: CoverageDesign,
                   idx: pd.MultiIndex) -> list[tuple[np.ndarray, np.ndarray]]:
    """Column positions of the controls' cells in consecutive waves (a, b), per wave pair."""
    pos = {(str(a), int(w)): i for i, (a, w) in enumerate(idx)}
    ws = sorted(design.waves)
    out = []
    for a, b in zip(ws[:-1], ws[1:], strict=True):
        both = [c for c in design.controls if (c, a) in pos and (c, b) in pos]
        out.append((np.array([pos[(c, a)] for c in both], dtype=int),
                    np.array([pos[(c, b)] for c in both], dtype=int)))
    return out


def _tau2_of(pairs: list[tuple[np.ndarray, np.ndarray]], share: np.ndarray,
             se: np.ndarray, level: float) -> Tau2Result:
    """:func:`~trygg_geo.effects.variance.between_district_variance` (DL) on one replication.

    The same changes, the same filter (finite, positive sampling variance, at least two per
    wave pair) and the same DerSimonian-Laird estimate and delta-method SE; the Q-profile
    interval, which no interval of an effect uses, is left out (NaN).
    """
    groups = []
    for ia, ib in pairs:
        d = share[ib] - share[ia]
        v = se[ia] ** 2 + se[ib] ** 2
        ok = np.isfinite(d) & np.isfinite(v) & (v > 0)
        if ok.sum() >= 2:
            groups.append((d[ok], v[ok]))
    n_ch = sum(len(d) for d, _ in groups)
    df = n_ch - len(groups)
    nan = float("nan")
    if not groups or df < 1:
        return Tau2Result(0.0, nan, nan, nan, n_ch, 0, len(groups), nan, max(df, 0), "none",
                          level)
    t, var_t = _dl(groups)
    return Tau2Result(t / 2, float(np.sqrt(var_t)) / 2, nan, nan, n_ch, 0, len(groups), nan,
                      df, "dl", level)


def _headline_fast(
    design: CoverageDesign, idx: pd.MultiIndex, kinds: list[str], w: np.ndarray,
    share: np.ndarray, se: np.ndarray, est: np.ndarray, *, level: float, n_permutations: int,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The effect table's headline SE, interval and p for every replication and kind."""
    n_reps, n_k = est.shape
    out = {k: np.full((n_reps, n_k), np.nan) for k in ("se", "lo", "hi", "p", "tau2", "df")}
    head = np.full((n_reps, n_k), "model", dtype=object)
    pairs = _control_pairs(design, idx)
    w2 = w**2
    s_w = w2.sum(axis=1)
    small = [j for j, k in enumerate(kinds) if len(design.treated[k]) < MIN_TREATED_MODEL]
    frame = pd.DataFrame({"area_id": idx.get_level_values(0).astype(str),
                          "wave": idx.get_level_values(1).astype(int),
                          "indicator": design.indicator})
    reps: Any = range(n_reps)
    if progress:
        reps = tqdm(reps, desc="replications", unit="rep")
    for r in reps:
        tau2 = _tau2_of(pairs, share[r], se[r], level)
        a_var = w2 @ se[r] ** 2
        for j in range(n_k):
            m = model_inference(float(est[r, j]), float(a_var[j]), float(s_w[j]), tau2,
                                level=level)
            out["se"][r, j], out["tau2"][r, j], out["df"][r, j] = m["se"], m["tau2"], m["df"]
            out["lo"][r, j], out["hi"][r, j], out["p"][r, j] = (m["ci_low"], m["ci_high"],
                                                                m["p_value"])
        if not small:
            continue
        panel = frame.assign(share=share[r], se=se[r])
        for j in small:
            kind = kinds[j]
            try:
                perm = permutation_test(panel, treated=design.treated[kind],
                                        controls=list(design.controls), waves=list(design.waves),
                                        indicator=design.indicator,
                                        n_permutations=n_permutations, seed=0, level=level)
            except InputError:
                continue
            h, _ = choose_headline(len(design.treated[kind]), perm)
            if h == "permutation":
                head[r, j] = h
                out["lo"][r, j], out["hi"][r, j], out["p"][r, j] = (perm.ci_low, perm.ci_high,
                                                                    perm.p_value)
    return out["se"], out["lo"], out["hi"], out["p"], {"headline": head, "tau2": out["tau2"],
                                                       "df": out["df"]}


def _draw_shares(rng: np.random.Generator, n: np.ndarray, p0: np.ndarray, *, n_reps: int,
                 shock_sd: float, round_pct: int | None) -> np.ndarray:
    """``(n_reps, cells)`` observed shares: shocked true shares, then binomial sampling."""
    u = district_wave_shocks(rng, (n_reps, len(n)), shock_sd=shock_sd)
    p = np.clip(p0 + u, 0.01, 0.95) if shock_sd > 0 else np.broadcast_to(p0, u.shape)
    k = rng.binomial(n.astype(np.int64), p)
    share = k / n
    if round_pct is not None:
        share = np.round(100 * share, round_pct) / 100
    return share


# --------------------------------------------------------------------------------------------
# Full mode
# --------------------------------------------------------------------------------------------
def coverage_full(
    seeds: Sequence[int],
    *,
    shock_sd: float = SHOCK_SD,
    workdir: str | Path | None = None,
    on_error: Literal["raise", "record"] = "raise",
    incidents: bool = False,
    progress: bool = False,
    callback: Callable[[int, pd.DataFrame], None] | None = None,
) -> CoverageResult:
    """Coverage over whole demo cities: generate, run the pipeline, compare with the truth.

    Parameters
    ----------
    seeds
        One demo city per seed.
    shock_sd
        SD of the demo cities' district x wave shocks (share units; default 0.02).
    workdir
        Folder for the demo files (each city is removed after its run); default a
        temporary folder.
    on_error
        ``"raise"``: stop at the first failing run; ``"record"``: note the seed and the
        error in ``failures`` and go on.
    incidents
        Also run the incidents stage (density, hot spots). It does not enter the effects,
        so it is off by default to save time.
    progress
        Show a tqdm progress bar.
    callback
        Called after each run with the seed and that run's per-kind rows.

    Returns
    -------
    CoverageResult
        Coverage of the per-kind estimates (``scope == "kind"``) the pipeline reported,
        measured on the headline interval the effect table names (``headline``:
        "permutation" reads ``perm_ci_low, perm_ci_high, p_perm``, otherwise ``ci_low,
        ci_high, p_value``; tables without the column are read as "model"). Kinds the
        pipeline could not estimate in a run have no row for that run.
    """
    root = (
        Path(workdir)
        if workdir is not None
        else Path(tempfile.mkdtemp(prefix="trygg_geo_coverage_"))
    )
    root.mkdir(parents=True, exist_ok=True)
    frames: list[pd.DataFrame] = []
    failures: list[dict[str, Any]] = []
    level = float("nan")
    iterator: Any = seeds
    if progress:
        iterator = tqdm(seeds, desc="demo cities", unit="city")
    for rep, s in enumerate(iterator):
        folder = root / f"seed_{s}"
        try:
            city = make_demo_city(folder / "indata", seed=int(s), shock_sd=shock_sd)
            truth = city.load_truth()
            cfg = load_config(city.config)
            cfg = replace(cfg, output=replace(cfg.output, folder=folder))
            if not incidents:
                cfg = replace(cfg, incidents=None)
            res = run(cfg, write=False)
        except Exception as err:
            if on_error == "raise":
                raise
            log.warning("seed %s failed: %s", s, err)
            failures.append({"seed": int(s), "error": f"{type(err).__name__}: {err}"})
            continue
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        level = float(cfg.analysis.level)
        frame = headline_rows(res.effects, truth["planted_effects"], level=level)
        frame.insert(0, "seed", int(s))
        frame.insert(0, "rep", rep)
        frame = frame[_REP_COLUMNS]
        frames.append(frame)
        if callback is not None:
            callback(int(s), frame)
    if workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    reps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_REP_COLUMNS)
    return summarise_coverage(reps, mode="full", level=level, n_reps=len(frames),
                              failures=pd.DataFrame(failures, columns=["seed", "error"]),
                              shock_sd=shock_sd)


def headline_rows(effects: pd.DataFrame, planted: Mapping[str, float], *,
                  level: float) -> pd.DataFrame:
    """The per-kind rows of an effect table, read on their headline interval.

    Parameters
    ----------
    effects
        The run's effect table (:data:`trygg_geo.effects.evaluation.EFFECT_COLUMNS`).
    planted
        Kind -> planted effect; other kinds are left out.
    level
        The table's confidence level (``1 - level`` is the test's size).

    Returns
    -------
    pandas.DataFrame
        ``kind, planted, estimate, se, ci_low, ci_high, p_value, covered, rejected,
        n_treated, n_control, headline, significant, tau2, df``. Rows whose ``headline`` is
        ``"permutation"`` take ``perm_ci_low, perm_ci_high, p_perm``; the others (and every
        row of a table without ``headline``) ``ci_low, ci_high, p_value``.

    Examples
    --------
    >>> t = pd.DataFrame({"scope": ["kind", "kind"], "kind": ["a", "b"],
    ...     "estimate": [-0.05, 0.01], "se": [0.02, 0.02], "ci_low": [-0.09, -0.03],
    ...     "ci_high": [-0.01, 0.05], "p_value": [0.01, 0.6], "n_treated": [5, 3],
    ...     "n_control": [8, 8], "headline": ["model", "permutation"],
    ...     "perm_ci_low": [-0.1, -0.04], "perm_ci_high": [0.0, 0.07], "p_perm": [0.02, 0.7]})
    >>> r = headline_rows(t, {"a": -0.07, "b": 0.0}, level=0.95)
    >>> r[["kind", "ci_low", "covered", "rejected"]].values.tolist()
    [['a', -0.09, True, True], ['b', -0.04, True, False]]
    """
    eff = effects[(effects["scope"] == "kind") & effects["kind"].isin(list(planted))]

    def col(name: str) -> np.ndarray:
        if name in eff.columns:
            return pd.to_numeric(eff[name], errors="coerce").to_numpy(dtype=float)
        return np.full(len(eff), np.nan)

    head = (eff["headline"].astype(object).where(eff["headline"].notna(), "model")
            if "headline" in eff.columns else pd.Series("model", index=eff.index))
    perm = (head == "permutation").to_numpy()
    lo = np.where(perm, col("perm_ci_low"), col("ci_low"))
    hi = np.where(perm, col("perm_ci_high"), col("ci_high"))
    p = np.where(perm, col("p_perm"), col("p_value"))
    pl = eff["kind"].map(dict(planted)).to_numpy(dtype=float)
    sig = (eff["significant"].astype("boolean").astype("Float64").to_numpy(dtype=float,
                                                                          na_value=np.nan)
           if "significant" in eff.columns else np.full(len(eff), np.nan))
    return pd.DataFrame(
        {
            "kind": eff["kind"].astype(str).to_numpy(),
            "planted": pl,
            "estimate": col("estimate"),
            "se": col("se"),
            "ci_low": lo,
            "ci_high": hi,
            "p_value": p,
            "covered": (lo <= pl) & (pl <= hi),
            "rejected": p < (1 - level),
            "n_treated": col("n_treated"),
            "n_control": col("n_control"),
            "headline": head.astype(str).to_numpy(),
            "significant": sig,
            "tau2": col("tau2"),
            "df": col("df"),
        }
    )
