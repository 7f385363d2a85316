"""Coverage study of the per-kind headline intervals on the demo city, with district x wave shocks.

Two figures, at each shock SD (default 0, 2 and 4 percentage points), in two modes:

- coverage: the share of headline 95% intervals of kinds with a planted effect (belysning
  -7 pp, slyrojning -5 pp) that cover it; the target band is 92-98%;
- false rejections: the share of kinds without a planted effect whose headline test of
  "no effect" rejects at 5%; the target is at most 7%.

The headline is what the effect table reports (column ``headline``): the model interval
(sampling variance plus the estimated district x wave variance tau2, t on Satterthwaite
df), or the permutation interval and p for kinds with fewer than 5 treated areas.

Fast mode redraws shocks and survey (``Binomial(n, clip(expected share + shock))``) on the
design of one demo run (seed 2024) and re-estimates every kind's pooled 2x2 as the effect
table does.

Full mode runs the real pipeline (``trygg_geo.pipeline.run(cfg, write=False)``) with the
estimator it uses by default (``[analysis] estimator = "auto"``: Callaway-Sant'Anna kind
rows with the demo's four waves, their headline the permutation test below 5 treated
areas), so geocoding, design, tau2 and headline choices count too. To make a replication
cheap without changing what the kind rows see:

- one demo city per seed (``make_demo_city``; its register, streets and areas do not depend
  on the shock SD), geocoded once: the gazetteer built from the city's OSM XML (about half
  of a city's time) is cached by the file's content hash, so the runs of one city reuse it;
- every replication redraws the analysed indicator's rows of the survey file as the demo
  draws them (``clip(expected share + shock, 0.01, 0.95)`` with the demo's shock model,
  ``Binomial(n, .)`` with the file's respondents, rounded to 0.1 %) and runs the whole
  pipeline on it; ``--surveys-per-city`` surveys per city and shock SD;
- the stages that do not enter the effects are off: incidents (hot spots, density), the
  lägesbild's dark paths and resident reports; nothing is written (no map, GeoPackage or
  report).

Full-mode rows go to ``benchmarks/results/coverage_full.csv`` (one row per replication and
kind, with ``shock_sd``, ``seed``, ``survey`` and ``method``), appended run by run, so a long
study can be stopped and resumed (``--resume``). The Monte Carlo SEs of the full mode are
clustered by city (the surveys of one city share its design).

Usage::

    python benchmarks/coverage_study.py [--quick] [--shocks 0,0.02,0.04] [--reps N]
                                        [--fast-reps N] [--mode both|fast|full]
                                        [--surveys-per-city R] [--resume]

Writes ``benchmarks/results/coverage.md`` (or ``coverage_<mode>.md`` for one mode).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import platform
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trygg_geo._atomic import atomic_path
from trygg_geo._progress import progress, progress_enabled, write
from trygg_geo.config import Config, load_config
from trygg_geo.coverage import (
    CoverageDesign,
    CoverageResult,
    coverage_fast,
    headline_rows,
    summarise_coverage,
)

# the fast study's draw of shocked binomial shares: the full study redraws the survey file
# with the very same model
from trygg_geo.coverage import _draw_shares as draw_shares
from trygg_geo.demo import make_demo_city
from trygg_geo.geocode.gazetteer import Gazetteer
from trygg_geo.pipeline import run

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "coverage.md"
FULL_CSV = OUT.parent / "coverage_full.csv"
FULL_SEED0 = 10_000  # full mode uses seeds FULL_SEED0, FULL_SEED0 + 1, ...
_FULL_KEYS = ["shock_sd", "seed", "survey"]


def _verdict(cov: CoverageResult) -> str:
    ok_c = 0.92 <= cov.coverage_planted <= 0.98
    ok_r = cov.rejection_null <= 0.07
    return (f"coverage {'in' if ok_c else 'OUTSIDE'} 92-98%, "
            f"false rejections {'<=' if ok_r else 'ABOVE'} 7%")


def _table(cov: CoverageResult) -> list[str]:
    cols = ["kind", "planted", "n_estimates", "coverage", "rejection_rate", "mean_estimate", "bias",
            "sd_estimate", "mean_se", "se_ratio", "n_treated", "n_control", "share_permutation",
            "mean_tau2"]
    t = cov.table[cols]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in t.iterrows():
        cells = [str(r["kind"]), f"{r['planted']:+.3f}", str(int(r["n_estimates"])),
                 f"{r['coverage']:.3f}", f"{r['rejection_rate']:.3f}", f"{r['mean_estimate']:+.4f}",
                 f"{r['bias']:+.4f}", f"{r['sd_estimate']:.4f}", f"{r['mean_se']:.4f}",
                 f"{r['se_ratio']:.2f}", f"{r['n_treated']:.1f}", f"{r['n_control']:.1f}",
                 f"{r['share_permutation']:.2f}", f"{r['mean_tau2']:.6f}"]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _pooled(cov: CoverageResult) -> str:
    return (f"coverage of planted effects **{cov.coverage_planted:.3f}** (MC SE "
            f"{cov.coverage_planted_mc_se:.3f}, {cov.n_planted} intervals); false rejections "
            f"**{cov.rejection_null:.3f}** (MC SE {cov.rejection_null_mc_se:.3f}, {cov.n_null} "
            f"tests): {_verdict(cov)}")


def _design(shock_sd: float, tmp: Path) -> CoverageDesign:
    city = make_demo_city(tmp / f"indata_{shock_sd}", seed=2024, shock_sd=shock_sd)
    cfg = load_config(city.config)
    cfg = replace(cfg, output=replace(cfg.output, folder=tmp), incidents=None)
    return CoverageDesign.from_results(run(cfg, write=False), city.load_truth())


@contextlib.contextmanager
def _cached_gazetteer() -> Iterator[dict[str, int]]:
    """``Gazetteer.from_path`` memoised on the file's content (and the arguments).

    The runs of one demo city read the same OSM XML; building its gazetteer once is what
    makes a replication cheap. Yields hit/miss counts; the original method is restored.
    """
    orig = Gazetteer.__dict__["from_path"]
    cache: dict[tuple[str, str], Gazetteer] = {}
    count = {"hit": 0, "miss": 0}

    def from_path(cls: type[Gazetteer], path: Any, **kw: Any) -> Gazetteer:
        digest = hashlib.sha1(Path(path).read_bytes()).hexdigest()
        key = (digest, repr(sorted((k, repr(v)) for k, v in kw.items())))
        if key not in cache:
            count["miss"] += 1
            cache.clear()  # one city at a time
            cache[key] = orig.__func__(cls, path, **kw)
        else:
            count["hit"] += 1
        return cache[key]

    Gazetteer.from_path = classmethod(from_path)  # type: ignore[method-assign,assignment]
    try:
        yield count
    finally:
        Gazetteer.from_path = orig  # type: ignore[method-assign]


def _lean(cfg: Config, folder: Path) -> Config:
    """The demo config without the stages that do not enter the effects."""
    return replace(cfg, output=replace(cfg.output, folder=folder), incidents=None, reports=None,
                   places=replace(cfg.places, dark_paths=False))


def redraw_survey(path: Path, truth: dict[str, Any], *, shock_sd: float,
                  rng: np.random.Generator) -> None:
    """Redraw the analysed indicator's rows of a demo survey file, in place.

    Each cell's true share is ``clip(expected share + shock, 0.01, 0.95)`` with a new shock
    of the demo's model (:func:`trygg_geo.demo.district_wave_shocks`); the share is
    ``Binomial(n, true share) / n`` with the file's respondents, written in percent with one
    decimal as the demo writes it. Other indicators' rows are left as they are.
    """
    # bytes, not read_text: universal newlines would turn the file's CRLF into LF
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    indicator = str(truth["indicator"])
    es = truth["expected_share"][indicator]
    at, n, p0 = [], [], []
    for i, line in enumerate(lines[1:], start=1):
        f = line.split(";")
        if len(f) == 6 and f[3] == indicator:
            at.append(i)
            n.append(float(f[4]))
            p0.append(float(es[f[0]][f[2]]))
    if not at:
        raise ValueError(f"{path} has no CRLF rows of the indicator '{indicator}' to redraw")
    share = draw_shares(rng, np.asarray(n), np.asarray(p0), n_reps=1, shock_sd=shock_sd,
                        round_pct=1)[0]
    for i, v in zip(at, share, strict=True):
        f = lines[i].split(";")
        f[5] = f"{100 * v:.1f}".replace(".", ",")
        lines[i] = ";".join(f)
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))


def _done(resume: bool) -> set[tuple[float, int, int]]:
    """The (shock SD, seed, survey) already in the CSV (``resume``), else a fresh CSV."""
    if not resume:
        FULL_CSV.unlink(missing_ok=True)
        return set()
    if not FULL_CSV.exists():
        return set()
    d = pd.read_csv(FULL_CSV, usecols=_FULL_KEYS)
    return {(round(float(a), 4), int(b), int(c)) for a, b, c in d.itertuples(index=False)}


def _one(cfg: Config, truth: dict[str, Any], keys: tuple[float, int, int]) -> pd.DataFrame:
    """One replication: redraw the survey, run the pipeline, read the kind rows' headline."""
    sd, seed, r = keys
    redraw_survey(cfg.survey.path, truth, shock_sd=sd,
                  rng=np.random.default_rng([seed, r, round(1e4 * sd)]))
    res = run(cfg, write=False)
    frame = headline_rows(res.effects, truth["planted_effects"], level=cfg.analysis.level)
    kinds = res.effects[res.effects["scope"] == "kind"].set_index("kind")
    frame.insert(0, "method", frame["kind"].map(kinds["method"]).to_numpy())
    for k, v in zip(reversed(_FULL_KEYS), reversed(keys), strict=True):
        frame.insert(0, k, v)
    frame.insert(0, "rep", seed - FULL_SEED0)
    return frame


def _full(shocks: list[float], n_cities: int, surveys: int, *, resume: bool,
          minutes: float | None) -> dict[float, tuple[CoverageResult, float]]:
    """The full study: ``n_cities`` demo cities x ``surveys`` survey draws per shock SD.

    The shock SDs are interleaved city by city, so a study stopped early (``minutes``) has
    about as many replications at each. Returns, per shock SD, the coverage over every row
    in the CSV and the seconds this call spent on it.
    """
    done = _done(resume)
    t0 = time.perf_counter()
    secs = dict.fromkeys(shocks, 0.0)
    fails: list[dict[str, Any]] = []
    root = Path(tempfile.mkdtemp(prefix="coverage_full_"))
    with _cached_gazetteer() as count:
        for seed in progress(range(FULL_SEED0, FULL_SEED0 + n_cities), desc="full study",
                             unit="city", min_items=2):
            todo = [(sd, seed, r) for r in range(surveys) for sd in shocks
                    if (round(sd, 4), seed, r) not in done]
            if not todo or (minutes is not None and time.perf_counter() - t0 > 60 * minutes):
                continue
            folder = root / f"seed_{seed}"
            city = make_demo_city(folder / "indata", seed=seed)
            truth = json.loads(city.truth.read_text(encoding="utf-8"))
            cfg = _lean(load_config(city.config), folder)
            for keys in todo:
                if minutes is not None and time.perf_counter() - t0 > 60 * minutes:
                    break
                t1 = time.perf_counter()
                try:
                    frame = _one(cfg, truth, keys)
                except Exception as err:  # recorded and counted, never hidden
                    fails.append(dict(zip([*_FULL_KEYS, "error"],
                                          [*keys, f"{type(err).__name__}: {err}"], strict=True)))
                    write(f"  FAILED {keys}: {type(err).__name__}: {err}")
                    continue
                frame.to_csv(FULL_CSV, mode="a", header=not FULL_CSV.exists(), index=False)
                secs[keys[0]] += time.perf_counter() - t1
                write(f"  full {keys[0]:.2f} seed {seed} survey {keys[2]}: "
                      f"{int(frame['covered'].sum())}/{len(frame)} covered "
                      f"({', '.join(sorted(set(frame['method'].astype(str))))}), "
                      f"{time.perf_counter() - t1:.1f} s, {time.perf_counter() - t0:.0f} s in all")
            shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    write(f"gazetteer cache: {count['miss']} built, {count['hit']} reused")
    return {sd: (cov, secs.get(sd, 0.0)) for sd, cov in full_results(fails).items()
            if any(abs(sd - x) < 1e-9 for x in shocks)}


def full_results(fails: list[dict[str, Any]] | None = None) -> dict[float, CoverageResult]:
    """Per shock SD, the coverage of every full-mode row in ``coverage_full.csv``."""
    if not FULL_CSV.exists():
        return {}
    rows = pd.read_csv(FULL_CSV)
    failures = pd.DataFrame(fails or [], columns=[*_FULL_KEYS, "error"])
    out = {}
    for sd, g in rows.groupby("shock_sd"):
        n_reps = len(g.drop_duplicates(["seed", "survey"]))
        out[float(sd)] = summarise_coverage(
            g.reset_index(drop=True), mode="full", level=0.95, n_reps=n_reps,
            failures=failures[np.isclose(failures["shock_sd"].astype(float), float(sd))]
            .reset_index(drop=True), shock_sd=float(sd))
    return out


def clustered_mc_se(rows: pd.DataFrame, col: str) -> float:
    """Monte Carlo SE of the mean of ``col``, clustered by city (seed).

    ``sqrt(sum_c (sum_i (x_ci - mean))^2) / n``: the surveys of one city share its design,
    so their outcomes are not independent.
    """
    x = rows[col].astype(float)
    dev = (x - x.mean()).groupby(rows["seed"].to_numpy()).sum()
    return float(np.sqrt((dev**2).sum()) / len(x)) if len(x) else float("nan")


def _full_pooled(cov: CoverageResult) -> str:
    r = cov.replications
    r = r[np.isfinite(r["estimate"].to_numpy(dtype=float))]
    pl, nu = r[r["planted"] != 0], r[r["planted"] == 0]
    methods = ", ".join(f"{m} {n}" for m, n in r["method"].value_counts().items())
    return (f"coverage of planted effects **{cov.coverage_planted:.3f}** (MC SE clustered by "
            f"city {clustered_mc_se(pl, 'covered'):.3f}, {cov.n_planted} intervals); false "
            f"rejections **{cov.rejection_null:.3f}** (MC SE "
            f"{clustered_mc_se(nu, 'rejected'):.3f}, {cov.n_null} tests): {_verdict(cov)}; "
            f"{r['seed'].nunique()} cities; kind rows by method: {methods}")


def main(argv: list[str] | None = None) -> int:
    """Run the study at every shock SD and write the Markdown results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10 full replications and 200 fast ones")
    ap.add_argument("--reps", type=int, default=None, help="full-mode cities (default 200)")
    ap.add_argument("--fast-reps", type=int, default=None,
                    help="fast-mode replications (default 2000)")
    ap.add_argument("--shocks", default="0,0.02,0.04",
                    help="shock SDs in share units, comma-separated (default 0,0.02,0.04)")
    ap.add_argument("--mode", choices=["both", "fast", "full"], default="both")
    ap.add_argument("--surveys-per-city", type=int, default=2,
                    help="full mode: survey draws per city and shock SD (default 2)")
    ap.add_argument("--resume", action="store_true",
                    help="full mode: keep the rows in coverage_full.csv and add the missing ones")
    ap.add_argument("--minutes", type=float, default=None,
                    help="full mode: start no new replication after this many minutes")
    ap.add_argument("--report-only", action="store_true",
                    help="full mode: only summarise the rows already in coverage_full.csv")
    args = ap.parse_args(argv)
    n_full = args.reps if args.reps is not None else (10 if args.quick else 200)
    n_cities = -(-n_full // max(args.surveys_per_city, 1))
    n_fast = args.fast_reps if args.fast_reps is not None else (200 if args.quick else 2000)
    shocks = [float(x) for x in args.shocks.split(",")]
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")  # the demo's data-quality warnings, once per city
    OUT.parent.mkdir(parents=True, exist_ok=True)

    lines = [
        "# Coverage of the per-kind headline intervals on the demo city, with district x wave "
        "shocks",
        "",
        ("Targets: headline 95% intervals cover the planted effect (belysning -0.07, slyrojning "
         "-0.05) in 92-98% of replications, pooled over the planted kinds; kinds with no planted "
         "effect (kamerabevakning, klottersanering, utemiljo) are declared significant at 5% by "
         "their headline p in at most 7%, pooled. `rejection_rate` of a planted kind is its "
         "power. `se_ratio` = mean model SE / SD of the estimates (1 = the SE is right). "
         "`share_permutation`: share of replications whose headline was the permutation "
         "interval. `mean_tau2`: mean estimated district x wave variance (true: shock SD "
         "squared). MC SE: binomial Monte Carlo standard error (kinds share controls, so the "
         "pooled figures are slightly correlated within a replication)."),
        "",
        (f"- python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; "
         f"shock SDs {', '.join(f'{100 * x:g} pp' for x in shocks)}"),
        "",
    ]
    full_runs: dict[float, tuple[CoverageResult, float]] = {}
    if args.mode in ("both", "full"):
        if args.report_only:
            full_runs = {sd: (cov, float("nan")) for sd, cov in full_results().items()}
        else:
            full_runs = _full(shocks, n_cities, args.surveys_per_city, resume=args.resume,
                              minutes=args.minutes)
    for sd in shocks:
        lines += [f"## Shock SD {100 * sd:g} pp", ""]
        if args.mode in ("both", "fast"):
            with tempfile.TemporaryDirectory(prefix="coverage_study_") as tmp:
                t0 = time.perf_counter()
                fast = coverage_fast(_design(sd, Path(tmp)), n_reps=n_fast, seed=2024,
                                     shock_sd=sd, progress=progress_enabled(n_fast))
                fast_s = time.perf_counter() - t0
            sys.stdout.write(f"fast {sd:.2f} ({n_fast} reps, {fast_s:.0f} s): {_pooled(fast)}\n")
            sys.stdout.flush()
            lines += [
                f"### Fast mode: {n_fast} redrawn surveys on one design",
                "",
                ("The design (treated areas per kind, windows, controls, respondents per cell) of "
                 "the pipeline's run on the demo city with seed 2024; every replication draws new "
                 "shocks and Binomial(n, clip(expected share + shock)) counts, rounded to 0.1% as "
                 f"the survey file is. {fast_s:.0f} s including the demo run."),
                "",
                f"- {_pooled(fast)}",
                "",
                *_table(fast),
                "",
            ]
        if args.mode in ("both", "full"):
            match = [k for k in full_runs if abs(k - sd) < 1e-9]
            if not match:
                lines += ["### Full mode: no replication", ""]
                continue
            full, full_s = full_runs[match[0]]
            write(f"full {sd:.2f} ({full.n_reps} replications): {_full_pooled(full)}")
            fails = "; ".join(f"{r.seed}: {r.error}" for r in full.failures.head(5).itertuples())
            lines += [
                f"### Full mode: {full.n_reps} replications through the whole pipeline",
                "",
                (f"Seeds from {FULL_SEED0}, up to {args.surveys_per_city} survey draws per city, "
                 f"shocks {100 * sd:g} pp: each city is generated and geocoded once; every "
                 "replication redraws the survey's indicator and runs "
                 "`trygg_geo.pipeline.run(cfg, write=False)` (incidents, dark paths and "
                 "resident reports off; default estimator). "
                 f"{full_s:.0f} s in this call ({full_s / max(full.n_reps, 1):.1f} s per "
                 "replication, the cities' geocoding aside)."),
                "",
                f"- {_full_pooled(full)}",
                f"- failed runs: {len(full.failures)}" + (f" ({fails})" if fails else ""),
                "",
                *_table(full),
                "",
            ]
    out = OUT if args.mode == "both" else OUT.with_name(f"coverage_{args.mode}.md")
    with atomic_path(out) as tmp_out:
        tmp_out.write_text("\n".join(lines), encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
