"""History check of the evaluation plan (issue 15, point 5): planned SE against realised SE.

Each replication builds the demo city with district x wave shocks (a new seed), plans the
2024 wave from the waves before it (2015, 2018, 2021) for the investments completed between
the 2021 and the 2024 fieldwork (:func:`trygg_geo.plan.plan_evaluation`, the investments
already made before 2021 as ``past_investments``), then evaluates the 2021 -> 2024 2x2
difference in differences as ``trygg-geo run`` with ``[plan] path`` does: the plan's controls
(:func:`trygg_geo.plan.keep_planned_controls`), ``estimator="did_2x2"`` and the
between-district variance estimated from those controls over every wave. For every kind it
records the planned SE and MDE next to the realised SE, and the estimate next to the
planted effect: the spread of the estimates around the truth is what the planned SE has to
predict (``sd_error_over_se_plan`` near 1; for all kinds pooled, the SD of the z-scores).

The investments are placed at the coordinates the demo planted (``facit.json``), not geocoded,
so that a replication takes seconds; geocoding is checked by the tests.

Run: ``python benchmarks/plan_history.py --reps 200 --minutes 15`` (stops at whichever comes
first and prints the number of replications done). Writes
``benchmarks/results/plan_history.csv`` (one row per replication and kind).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from trygg_geo.areas import read_areas
from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.design import assign_roles
from trygg_geo.effects.evaluation import evaluate_effects
from trygg_geo.effects.variance import between_district_variance
from trygg_geo.plan import PlannedDesign, keep_planned_controls, plan_evaluation
from trygg_geo.survey import read_survey, survey_panel

NEXT, LAST = 2024, 2021
OUT = Path(__file__).parent / "results" / "plan_history.csv"


def replication(seed: int, folder: Path, shock_sd: float) -> list[dict]:
    """One city: plan 2024 from 2015-2021, evaluate 2021 -> 2024; one row per kind."""
    city = make_demo_city(folder / f"c{seed}", seed=seed, shock_sd=shock_sd)
    cfg = load_config(city.config)
    a = cfg.areas
    areas = read_areas(a.path, id_column=a.id_column, name_column=a.name_column,
                       parent_column=a.parent_column).to_crs("EPSG:3006")
    areas["area_id"] = areas["area_id"].astype(str)
    truth = city.load_truth()
    reg = pd.DataFrame(truth["register"])
    reg = reg[reg["x"].notna() & reg["y"].notna()].reset_index(drop=True)
    reg["completed"] = pd.to_datetime(reg["completed"], errors="coerce")
    cols = ["investment_id", "kind", "source_row", "completed", "granted_sek", "spent_sek"]
    placed = gpd.GeoDataFrame(reg[cols],
                              geometry=gpd.points_from_xy(reg["x"], reg["y"]), crs="EPSG:3006")
    fw = {w: pd.Timestamp(w, 9, 15) for w in (LAST, NEXT)}
    window = (placed["completed"] > fw[LAST]) & (placed["completed"] <= fw[NEXT])
    planned, past = placed[window], placed[~window]
    # the demo writes percentages; a share below 1 % is one, not a proportion
    raw = read_survey(cfg.survey.path, indicator=cfg.survey.indicator, scale="percent")
    panel = survey_panel(raw, min_n=cfg.survey.min_n, areas=areas, aliases=cfg.survey.aliases)
    panel["area_id"] = panel["area_id"].astype(str)
    ind = cfg.survey.indicator
    plan = plan_evaluation(planned.reset_index(drop=True), areas, panel[panel["wave"] < NEXT],
                           next_wave=NEXT, indicator=ind, past_investments=past)
    # the follow-up: the run's 2x2 over the plan's waves with the plan's controls
    design = assign_roles(areas, placed, waves=[LAST, NEXT], kind="kind", spillover=None)
    keep = PlannedDesign(controls=tuple(plan.controls["area_id"].astype(str)), names={},
                         next_wave=NEXT, past_waves=plan.past_waves, plan_id="", path="plan",
                         estimator="did_2x2")
    design, _ = keep_planned_controls(design, keep, waves=[LAST, NEXT])
    controls = design.roles.loc[design.roles["role"] == "control", "area_id"].astype(str)
    waves = sorted(int(w) for w in panel["wave"].unique())
    tau2 = between_district_variance(panel, controls.tolist(), indicator=ind, waves=waves)
    ev = evaluate_effects(panel, design, placed, indicator=ind, waves=[LAST, NEXT],
                          tau2=tau2, estimator="did_2x2", n_permutations=200)
    real = ev.table[(ev.table["scope"] == "kind") & ev.table["se"].notna()].set_index("kind")
    rows = []
    for _, k in plan.kinds.iterrows():
        if k["kind"] not in real.index:
            continue
        r = real.loc[k["kind"]]
        rows.append({"seed": seed, "shock_sd": shock_sd, "kind": k["kind"],
                     "n_treated_plan": int(k["n_treated"]), "n_treated_real": int(r["n_treated"]),
                     "n_control_plan": int(k["n_control"]), "n_control_real": int(r["n_control"]),
                     "tau2_plan": plan.tau2.value, "tau2_real": tau2.value,
                     "se_plan": k["se"], "mde_plan": k["mde"], "se_real": r["se"],
                     "ratio": k["se"] / r["se"], "estimate": r["estimate"],
                     "planted": truth["planted_effects"].get(k["kind"], np.nan)})
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Per kind: replications, median planned/realised SE ratio, share within 25 %."""
    g = df.groupby("kind")
    out = pd.DataFrame({
        "reps": g.size(),
        "median_ratio": g["ratio"].median(),
        "within_25pct": g["ratio"].apply(lambda r: float(np.mean(np.abs(r - 1) <= 0.25))),
        "mean_se_plan": g["se_plan"].mean(),
        "mean_se_real": g["se_real"].mean(),
        # the honest check: the estimates' actual scatter around the planted effect
        "sd_error": g.apply(lambda x: float(np.std(x["estimate"] - x["planted"], ddof=1))),
    })
    out["sd_error_over_se_plan"] = out["sd_error"] / out["mean_se_plan"]
    within = float(np.mean(np.abs(df["ratio"] - 1) <= 0.25))
    z = (df["estimate"] - df["planted"]) / df["se_plan"]  # pooled over kinds: SD of z ~ 1
    out.loc["all"] = [len(df), df["ratio"].median(), within, df["se_plan"].mean(),
                      df["se_real"].mean(), np.nan, float(np.std(z, ddof=1))]
    return out


def main() -> None:
    """Run the replications within the budget and print the summary."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=15.0)
    ap.add_argument("--shock-sd", type=float, default=0.02)
    args = ap.parse_args()
    start, rows, done = time.time(), [], 0
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(1, args.reps + 1):
            if time.time() - start > 60 * args.minutes:
                break
            try:
                rows += replication(seed, Path(tmp), args.shock_sd)
                done += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                failed.append(f"seed {seed}: {type(exc).__name__}: {exc}"[:300])
            for p in Path(tmp).iterdir():  # keep the disk use flat
                shutil.rmtree(p, ignore_errors=True)
    df = pd.DataFrame(rows)
    OUT.parent.mkdir(exist_ok=True)
    df.to_csv(OUT, index=False)
    print(f"{done} replications in {(time.time() - start) / 60:.1f} min "
          f"(shock_sd {args.shock_sd}); rows written to {OUT}")
    print(summarise(df).round(3).to_string())
    print(f"{len(failed)} replications failed", *failed, sep="\n  ")


if __name__ == "__main__":
    main()
