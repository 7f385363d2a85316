"""Coverage study of the pooled per-kind 2x2 DiD on the demo city.

Two figures, in two modes:

- coverage: the share of 95% intervals of kinds with a planted effect (belysning -7 pp,
  slyröjning -5 pp) that cover it; the target band is 92-98%;
- false rejections: the share of kinds without a planted effect whose test of "no effect"
  rejects at 5%; the target is at most 7%.

Fast mode redraws the survey (``Binomial(n, true_share)``) on the design of one demo run
(seed 2024) and re-estimates every kind, vectorised. Full mode regenerates the whole demo
city with a new seed per replication and runs the real pipeline
(``trygg_geo.pipeline.run(cfg, write=False)``; the incidents stage is skipped, as it does
not enter the effects), so geocoding and design errors count too.

Usage::

    python benchmarks/coverage_study.py [--quick] [--reps N] [--fast-reps N]

Writes ``benchmarks/results/coverage.md``.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from trygg_geo._atomic import atomic_path
from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.effects.simulation import (
    CoverageDesign,
    CoverageResult,
    coverage_fast,
    coverage_full,
)
from trygg_geo.pipeline import run

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "coverage.md"
FULL_SEED0 = 10_000  # full mode uses seeds FULL_SEED0, FULL_SEED0 + 1, ...


def _verdict(cov: CoverageResult) -> str:
    ok_c = 0.92 <= cov.coverage_planted <= 0.98
    ok_r = cov.rejection_null <= 0.07
    return (f"coverage {'in' if ok_c else 'OUTSIDE'} 92-98%, "
            f"false rejections {'<=' if ok_r else 'ABOVE'} 7%")


def _table(cov: CoverageResult) -> list[str]:
    cols = ["kind", "planted", "n_estimates", "coverage", "rejection_rate", "mean_estimate", "bias",
            "sd_estimate", "mean_se", "se_ratio", "n_treated", "n_control"]
    t = cov.table[cols]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in t.iterrows():
        cells = [str(r["kind"]), f"{r['planted']:+.3f}", str(int(r["n_estimates"])), f"{r['coverage']:.3f}",
                 f"{r['rejection_rate']:.3f}", f"{r['mean_estimate']:+.4f}", f"{r['bias']:+.4f}",
                 f"{r['sd_estimate']:.4f}", f"{r['mean_se']:.4f}", f"{r['se_ratio']:.2f}",
                 f"{r['n_treated']:.1f}", f"{r['n_control']:.1f}"]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _pooled(cov: CoverageResult) -> str:
    mc = cov.coverage_planted_mc_se
    rej_se = np.sqrt(cov.rejection_null * (1 - cov.rejection_null) / cov.n_null) if cov.n_null else np.nan
    return (f"coverage of planted effects **{cov.coverage_planted:.3f}** (MC SE {mc:.3f}, {cov.n_planted} "
            f"intervals); false rejections **{cov.rejection_null:.3f}** (MC SE {rej_se:.3f}, {cov.n_null} tests): "
            f"{_verdict(cov)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 full replications and 200 fast ones")
    ap.add_argument("--reps", type=int, default=None, help="full-mode replications (default 200)")
    ap.add_argument("--fast-reps", type=int, default=None, help="fast-mode replications (default 2000)")
    args = ap.parse_args(argv)
    n_full = args.reps if args.reps is not None else (10 if args.quick else 200)
    n_fast = args.fast_reps if args.fast_reps is not None else (200 if args.quick else 2000)
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="coverage_study_") as tmp:
        t0 = time.perf_counter()
        city = make_demo_city(Path(tmp) / "indata", seed=2024)
        cfg = load_config(city.config)
        cfg = replace(cfg, output=replace(cfg.output, folder=Path(tmp)), incidents=None)
        design = CoverageDesign.from_results(run(cfg, write=False), city.load_truth())
        fast = coverage_fast(design, n_reps=n_fast, seed=2024)
        fast_s = time.perf_counter() - t0
    sys.stdout.write(f"fast ({n_fast} reps, {fast_s:.1f} s): {_pooled(fast)}\n")

    t0 = time.perf_counter()

    def tick(seed: int, frame: pd.DataFrame) -> None:
        done = seed - FULL_SEED0 + 1
        sys.stdout.write(f"  full {done}/{n_full} (seed {seed}): {int(frame['covered'].sum())}/{len(frame)} "
                         f"covered, {time.perf_counter() - t0:.0f} s\n")
        sys.stdout.flush()

    full = coverage_full(range(FULL_SEED0, FULL_SEED0 + n_full), on_error="record", callback=tick)
    full_s = time.perf_counter() - t0
    sys.stdout.write(f"full ({full.n_reps} of {n_full} cities, {full_s:.0f} s): {_pooled(full)}\n")

    lines = [
        "# Coverage of the pooled per-kind 2x2 DiD on the demo city",
        "",
        ("Targets: 95% intervals cover the planted effect (belysning -0.07, slyrojning -0.05) in 92-98% of "
        "replications, pooled over the planted kinds; kinds with no planted effect (kamerabevakning, "
        "klottersanering, utemiljo) are declared significant at 5% in at most 7%, pooled. "
        "`rejection_rate` of a planted kind is its power. `se_ratio` = mean SE / SD of the estimates "
        "(1 = the SE is right). MC SE: binomial Monte Carlo standard error (kinds share controls, so "
        "the pooled figures are slightly correlated within a replication)."),
        "",
        (f"- mode: {'quick' if args.quick else 'full'}; python {platform.python_version()}, "
        f"numpy {np.__version__}, pandas {pd.__version__}"),
        "",
        f"## Full mode: {full.n_reps} demo cities through the whole pipeline",
        "",
        (f"Seeds {FULL_SEED0}..{FULL_SEED0 + n_full - 1}: each city is generated, geocoded, overlaid, "
        "designed and estimated by `trygg_geo.pipeline.run(cfg, write=False)` (incidents stage off). "
        f"{full_s:.0f} s in all ({full_s / max(n_full, 1):.1f} s per city)."),
        "",
        f"- {_pooled(full)}",
        f"- failed runs: {len(full.failures)}"
        + (f" ({'; '.join(f'{r.seed}: {r.error}' for r in full.failures.head(5).itertuples())})"
           if len(full.failures) else ""),
        "",
        *_table(full),
        "",
        f"## Fast mode: {n_fast} redrawn surveys on one design",
        "",
        ("The design (treated areas per kind, cohorts, controls, respondents per cell) of the pipeline's run "
        "on the demo city with seed 2024; the survey counts are redrawn as Binomial(n, true share) from "
        f"facit.json (seed 2024) and rounded to 0.1% as the survey file is. {fast_s:.1f} s including the "
        "demo run."),
        "",
        f"- {_pooled(fast)}",
        "",
        *_table(fast),
        "",
    ]
    text = "\n".join(lines)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(OUT) as tmp_out:
        tmp_out.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
