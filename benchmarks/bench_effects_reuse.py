"""Benchmark: per-investment effects computed once per contrast (issue 17, point 1).

The demo city (``make_demo_city``, seed 2024, sampling noise only) is run through
:func:`trygg_geo.run` (``write=False``); its inputs to :func:`assign_roles` and
:func:`evaluate_effects` are recorded as the run passes them. The placed register is then
repeated to ``--rows`` rows (default 20,000: distinct ids and register rows, same places,
dates and money, so every copy shares its original's contrast), the design is rebuilt for
it with the same options, and ``evaluate_effects`` is timed on both registers with the
run's settings (10,000 permutations). ``ratio`` = repeated seconds / original seconds.

The per-row baseline is what the effect table cost before this change: one 2x2 estimate,
permutation test and cell-weight table per placed investment. It is timed on the original
register's estimable rows and **extrapolated linearly** to the repeated register's
estimable rows.

Usage::

    python benchmarks/bench_effects_reuse.py [--rows 20000] [--quick]

Writes ``benchmarks/results/effects_reuse.md``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import trygg_geo.pipeline as pipeline
from trygg_geo._atomic import atomic_path
from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.design import DesignResult, assign_roles
from trygg_geo.effects.did import did_2x2, did_contrast
from trygg_geo.effects.evaluation import evaluate_effects
from trygg_geo.effects.inference import permutation_test

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "effects_reuse.md"


def _demo_inputs(folder: Path, seed: int) -> dict[str, Any]:
    """The demo run's arguments to ``assign_roles`` and ``evaluate_effects``."""
    seen: dict[str, Any] = {}
    roles, effects = pipeline.assign_roles, pipeline.evaluate_effects

    def spy_roles(*a: Any, **k: Any) -> DesignResult:
        seen["roles"] = (a, k)
        return roles(*a, **k)

    def spy_effects(*a: Any, **k: Any) -> Any:
        seen["effects"] = (a, k)
        return effects(*a, **k)

    pipeline.assign_roles, pipeline.evaluate_effects = spy_roles, spy_effects  # type: ignore
    try:
        city = make_demo_city(folder / "indata", seed=seed, shock_sd=0.0)
        cfg = load_config(city.config)
        pipeline.run(replace(cfg, output=replace(cfg.output, folder=folder)), write=False)
    finally:
        pipeline.assign_roles, pipeline.evaluate_effects = roles, effects  # type: ignore
    return seen


def _repeat(placed: gpd.GeoDataFrame, n_rows: int) -> gpd.GeoDataFrame:
    """``placed`` repeated to ``n_rows`` rows: copy k of a row gets id ``<id>#k`` and its own
    register row; place, dates and money are the original's."""
    reps = -(-n_rows // len(placed))
    out = pd.concat([placed] * reps, ignore_index=True).iloc[:n_rows].copy()
    copy = np.repeat(np.arange(reps), len(placed))[:n_rows]
    out["investment_id"] = [i if k == 0 else f"{i}#{k}"
                            for i, k in zip(out["investment_id"].astype(str), copy, strict=True)]
    out["source_row"] = np.arange(n_rows) + 2
    return gpd.GeoDataFrame(out, geometry=placed.geometry.name, crs=placed.crs)


def _timed(fn: Any, *a: Any, repeats: int, **k: Any) -> tuple[float, Any]:
    best, res = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn(*a, **k)
        best = min(best, time.perf_counter() - t0)
    return best, res


def _per_row_seconds(panel: pd.DataFrame, design: DesignResult, table: pd.DataFrame,
                     kw: dict[str, Any], n_rows: int) -> float:
    """Mean seconds of the old per-row work (estimate, permutation test, weights)."""
    roles = design.roles.set_index("area_id")
    controls = design.area_ids("control")
    links = design.links[design.links["counted"]]
    est_rows = set(table.loc[(table["scope"] == "investment") & table["contrast_id"].notna(),
                             "investment_id"])
    done, t0 = 0, time.perf_counter()
    for _, grp in links.groupby("row", sort=True):
        if str(grp["investment_id"].iloc[0]) not in est_rows:
            continue
        tr = grp[grp["area_id"].map(roles["role"]) == "treated"]
        t = {str(a): (int(p), int(c))
             for a, p, c in zip(tr["area_id"], tr["pre_wave"], tr["cohort"], strict=True)}
        common = {"treated": t, "controls": controls, "waves": kw["waves"],
                  "indicator": kw["indicator"]}
        did_2x2(panel, **common, level=kw.get("level", 0.95), tau2=kw["tau2"])
        permutation_test(panel, **common, n_permutations=kw.get("n_permutations", 10_000),
                         seed=kw.get("seed", 0))
        did_contrast(panel, **common)
        done += 1
        if done >= n_rows:
            break
    return (time.perf_counter() - t0) / max(done, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000, help="rows of the repeated register")
    ap.add_argument("--quick", action="store_true", help="one timing each, 10 baseline rows")
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else 2
    with tempfile.TemporaryDirectory() as tmp:
        seen = _demo_inputs(Path(tmp), 2024)
    (r_args, r_kw), (e_args, e_kw) = seen["roles"], seen["effects"]
    panel, design, placed = e_args
    areas = r_args[0]
    big = _repeat(placed, args.rows)
    t_design, big_design = _timed(assign_roles, areas, big, repeats=1, **r_kw)

    t_small, small_ev = _timed(evaluate_effects, panel, design, placed, repeats=repeats, **e_kw)
    t_big, big_ev = _timed(evaluate_effects, panel, big_design, big, repeats=repeats, **e_kw)
    small_inv = small_ev.table[small_ev.table["scope"] == "investment"]
    big_inv = big_ev.table[big_ev.table["scope"] == "investment"]
    n_est_small = int(small_inv["contrast_id"].notna().sum())
    n_est_big = int(big_inv["contrast_id"].notna().sum())
    # every copy carries its original's estimate
    orig = small_inv.set_index(small_inv["source_row"].astype(int))["estimate"]
    src = placed["source_row"].astype(int).to_numpy()
    of = {int(r): int(src[j % len(placed)]) for j, r in enumerate(big["source_row"])}
    base = big_inv["source_row"].astype(int).map(of)
    same = np.allclose(big_inv["estimate"].to_numpy(float), base.map(orig).to_numpy(float),
                       equal_nan=True)
    per_row = _per_row_seconds(panel, design, small_ev.table, e_kw, 10 if args.quick else 60)
    loop_big = per_row * n_est_big

    lines = [
        "# Per-contrast reuse: evaluate_effects on the demo city and on it repeated",
        "",
        (f"Demo city seed 2024; the run's settings (10,000 permutations, {e_kw.get('estimator')} "
         f"estimator). Best of {repeats}. Per-row baseline: the old per-investment work "
         "(did_2x2 + permutation_test + did_contrast) timed on the original register's "
         f"estimable rows, {per_row * 1000:.0f} ms per row, **extrapolated linearly**."),
        "",
        (f"- mode: {'quick' if args.quick else 'full'}; python {platform.python_version()}, "
         f"numpy {np.__version__}, pandas {pd.__version__}"),
        f"- assign_roles on the {len(big):,}-row register: {t_design:.2f} s",
        f"- every copy carries its original's estimate: {same}",
        "",
        ("| register | placed rows | rows with an estimate | contrasts | evaluate_effects s | "
         "per-row baseline s |"),
        "|---|---|---|---|---|---|",
        (f"| demo | {len(placed):,} | {n_est_small:,} | {small_ev.n_contrasts} | {t_small:.2f} | "
         f"{per_row * n_est_small:.1f} |"),
        (f"| demo repeated | {len(big):,} | {n_est_big:,} | {big_ev.n_contrasts} | {t_big:.2f} | "
         f"{loop_big:.0f} (extrapolated) |"),
        "",
        (f"ratio repeated / demo: {t_big / t_small:.2f} ({len(big) / len(placed):.0f}x the rows); "
         f"per-row baseline / reuse on the repeated register: {loop_big / t_big:.0f}."),
        "",
    ]
    with atomic_path(OUT) as out:
        Path(out).write_text("\n".join(lines), encoding="utf-8")
    sys.stdout.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
