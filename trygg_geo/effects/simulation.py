"""Coverage study: whether the pooled 2x2 DiD's confidence intervals hold what they promise.

On the demo city (:mod:`trygg_geo.demo`) the true effect of every kind is known. Two modes:

* **fast** (:func:`coverage_fast`): keep one design (treated areas per kind with their
  cohorts, the controls, the respondent count of every survey cell), redraw the survey
  counts ``Binomial(n, true_share)`` many times from the demo's true shares, and
  re-estimate every kind's pooled 2x2 DiD exactly as :func:`~trygg_geo.effects.did_2x2`
  does. The DiD is a fixed linear contrast of the cells, so every replication is one row
  of a matrix product. This checks the estimator and its standard error.
* **full** (:func:`coverage_full`): regenerate the whole demo city with a new seed and run
  the real pipeline (:func:`trygg_geo.pipeline.run`), so that geocoding errors and design
  decisions count too.

For kinds with a planted effect, an interval at 95% should cover it in about 95% of the
replications; for kinds without one, the test of "no effect" should reject in about 5%.

Examples
--------
>>> from trygg_geo.effects.simulation import CoverageDesign, coverage_fast  # doctest: +SKIP
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
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from trygg_geo._errors import InputError
from trygg_geo.effects.did import did_contrast

__all__ = [
    "CoverageDesign",
    "CoverageResult",
    "coverage_fast",
    "coverage_full",
    "summarise_coverage",
]

log = logging.getLogger(__name__)

_REP_COLUMNS = ["rep", "seed", "kind", "planted", "estimate", "se", "ci_low", "ci_high", "p_value",
                "covered", "rejected", "n_treated", "n_control"]


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
        Kind -> {area id -> cohort}: the treated areas of each per-kind estimate.
    controls
        Control area ids (shared by every kind, as in the pipeline).
    cells
        ``area_id, wave, n, true_share``: respondents and the true share of every survey
        cell of the indicator.
    planted
        Kind -> planted effect (0.0 for kinds without one).
    source
        Where the design came from (``"pipeline"`` or ``"plan"``).
    """

    indicator: str
    waves: tuple[int, ...]
    treated: dict[str, dict[str, int]]
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
        treated: dict[str, dict[str, int]] = {}
        for kind in truth["planted_effects"]:
            units = tr[tr["kinds"] == kind]
            if len(units):
                treated[kind] = {
                    str(a): int(c) for a, c in zip(units["area_id"], units["cohort"], strict=True)
                }
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
        treated = {
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
        c["share"] = c["true_share"]
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
    out["true_share"] = [ts[a][str(w)] for a, w in zip(out["area_id"], out["wave"], strict=True)]
    return out.sort_values(["area_id", "wave"], ignore_index=True)


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
    level
        Confidence level of the intervals.
    n_reps
        Replications run (full mode: demo cities that ran through).
    table
        Per kind: ``kind, planted, n_estimates, coverage, coverage_mc_se, rejection_rate,
        mean_estimate, bias, sd_estimate, mean_se, se_ratio`` (mean SE / SD of the
        estimates: 1 when the SE is right), ``n_treated, n_control`` (means), and in fast
        mode ``target`` (the design's DiD at the true shares).
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

    def summary(self) -> pd.DataFrame:
        """One row: mode, level, n_reps, the two pooled figures and their n."""
        return pd.DataFrame(
            [
                {
                    "mode": self.mode,
                    "level": self.level,
                    "n_reps": self.n_reps,
                    "coverage_planted": self.coverage_planted,
                    "coverage_planted_mc_se": self.coverage_planted_mc_se,
                    "n_planted": self.n_planted,
                    "rejection_null": self.rejection_null,
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
                       target: Mapping[str, float] | None = None) -> CoverageResult:
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
        }
        if target is not None:
            row["target"] = float(target.get(str(kind), np.nan))
        rows.append(row)
    table = pd.DataFrame(rows)
    planted = r[r["planted"] != 0]
    null = r[r["planted"] == 0]
    return CoverageResult(
        mode=mode, level=level, n_reps=n_reps, table=table,
        coverage_planted=float(planted["covered"].mean()) if len(planted) else float("nan"),
        rejection_null=float(null["rejected"].mean()) if len(null) else float("nan"),
        n_planted=len(planted), n_null=len(null), replications=replications.reset_index(drop=True),
        failures=failures if failures is not None else pd.DataFrame(columns=["seed", "error"]),
    )


def _interval(
    est: np.ndarray, se: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = float(stats.norm.ppf(0.5 + level / 2))
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
) -> CoverageResult:
    """Coverage by redrawing the survey on a fixed design (vectorised).

    Parameters
    ----------
    design
        Treated areas per kind, controls, respondent counts and true shares.
    n_reps
        Replications.
    seed
        Seed of the binomial draws.
    level
        Confidence level of the intervals (and ``1 - level`` is the test's size).
    round_pct
        Round the drawn shares to this many decimals of a percent, as the demo's survey
        file does (``None``: no rounding).

    Returns
    -------
    CoverageResult
        With ``table["target"]``: each kind's DiD at the true shares (equal to the planted
        effect when the design matches the plan and no share was clipped).

    Notes
    -----
    Each replication draws ``k ~ Binomial(n, true_share)`` for every cell, sets
    ``share = k / n`` and ``se`` as :func:`trygg_geo.survey.share_se` does, and computes
    every kind's estimate ``w @ share`` and standard error ``sqrt(w**2 @ se**2)`` with the
    weights of :func:`~trygg_geo.effects.did.did_contrast`: the same numbers
    :func:`~trygg_geo.effects.did_2x2` would give on that survey.
    """
    from trygg_geo.survey import share_se

    if n_reps < 1:
        raise ValueError(f"n_reps must be at least 1, got {n_reps}.")
    idx, kinds, w, ns = design.contrasts()
    if not kinds:
        raise InputError("the design has no kind with treated and control areas to estimate.")
    cells = design.cells.set_index(["area_id", "wave"]).reindex(idx)
    n = cells["n"].to_numpy(dtype=float)
    p_true = cells["true_share"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    k = rng.binomial(n.astype(np.int64), p_true, size=(n_reps, len(n)))
    share = k / n
    if round_pct is not None:
        share = np.round(100 * share, round_pct) / 100
    se = share_se(share, np.broadcast_to(n, share.shape))
    est = share @ w.T  # (reps, kinds)
    est_se = np.sqrt((se**2) @ (w**2).T)
    lo, hi, p = _interval(est, est_se, level)
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
                    "p_value": p[:, j],
                    "covered": (lo[:, j] <= planted[j]) & (planted[j] <= hi[:, j]),
                    "rejected": p[:, j] < 1 - level,
                    "n_treated": ns[kind][0],
                    "n_control": ns[kind][1],
                }
            )
        )
    reps = pd.concat(frames, ignore_index=True)[_REP_COLUMNS]
    target = dict(zip(kinds, (w @ p_true).tolist(), strict=True))
    return summarise_coverage(reps, mode="fast", level=level, n_reps=n_reps, target=target)


# --------------------------------------------------------------------------------------------
# Full mode
# --------------------------------------------------------------------------------------------
def coverage_full(
    seeds: Sequence[int],
    *,
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
        Coverage of the per-kind estimates (``scope == "kind"``) the pipeline reported.
        Kinds the pipeline could not estimate in a run (no treated area of only that kind)
        have no row for that run.
    """
    from trygg_geo.config import load_config
    from trygg_geo.demo import make_demo_city
    from trygg_geo.pipeline import run

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
        from tqdm.auto import tqdm

        iterator = tqdm(seeds, desc="demo cities", unit="city")
    for rep, s in enumerate(iterator):
        folder = root / f"seed_{s}"
        try:
            city = make_demo_city(folder / "indata", seed=int(s))
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
        level = 1 - float(cfg.analysis.alpha)
        eff = res.effects[res.effects["scope"] == "kind"]
        planted = {k: float(v) for k, v in truth["planted_effects"].items()}
        eff = eff[eff["kind"].isin(list(planted))]
        est = eff["estimate"].to_numpy(dtype=float)
        pl = eff["kind"].map(planted).to_numpy(dtype=float)
        lo, hi = eff["ci_low"].to_numpy(dtype=float), eff["ci_high"].to_numpy(dtype=float)
        frame = pd.DataFrame(
            {
                "rep": rep,
                "seed": int(s),
                "kind": eff["kind"].to_numpy(),
                "planted": pl,
                "estimate": est,
                "se": eff["se"].to_numpy(dtype=float),
                "ci_low": lo,
                "ci_high": hi,
                "p_value": eff["p_value"].to_numpy(dtype=float),
                "covered": (lo <= pl) & (pl <= hi),
                "rejected": eff["p_value"].to_numpy(dtype=float) < (1 - level),
                "n_treated": eff["n_treated"].to_numpy(),
                "n_control": eff["n_control"].to_numpy(),
            }
        )[_REP_COLUMNS]
        frames.append(frame)
        if callback is not None:
            callback(int(s), frame)
    if workdir is None:
        shutil.rmtree(root, ignore_errors=True)
    reps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_REP_COLUMNS)
    return summarise_coverage(reps, mode="full", level=level, n_reps=len(frames),
                              failures=pd.DataFrame(failures, columns=["seed", "error"]))
