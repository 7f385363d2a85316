"""The 2x2 DiD's inference against pyfixest's cluster-robust SE and wild cluster bootstrap.

On the demo city (seed 2024, district x wave shocks SD 2 pp), every single-cohort 2x2 contrast
of a kind (its treated areas of one window against the controls, two waves) is estimated

- by ``trygg_geo.did_2x2`` with the estimated district x wave variance ``tau2`` (model SE,
  Satterthwaite t) and by ``trygg_geo.permutation_test`` (the headline below 5 treated areas);
- by pyfixest: ``share ~ treat_post | area + wave`` on the two waves, CRV1 clustered by area
  (fixest's small-sample corrections), and its wild cluster bootstrap (WCR11, Rademacher and
  Webb weights, 9,999 draws, null imposed), which calls the ``wildboottest`` package.

On two waves the regression coefficient is the difference in mean changes, so the estimates
agree to rounding; what differs is the uncertainty. Needs the bench extras
(``pip install pyfixest wildboottest``); not a test dependency.

Usage::

    python benchmarks/compare_did_inference.py [--seed 2024] [--shock 0.02]

Writes ``benchmarks/results/did_inference.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from trygg_geo._atomic import atomic_path
from trygg_geo.demo import make_demo_city
from trygg_geo.effects.did import did_2x2
from trygg_geo.effects.inference import permutation_test
from trygg_geo.effects.variance import between_district_variance
from trygg_geo.survey import read_survey, survey_panel

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "did_inference.md"


def _contrasts(truth: dict) -> list[tuple[str, tuple[int, int], list[str]]]:
    """(kind, (pre, post), treated areas) of every kind's single-cohort contrast."""
    waves = [int(w) for w in truth["waves"]]
    out = []
    for kind, areas in truth["treated_districts"].items():
        by: dict[int, list[str]] = {}
        for a in areas:
            by.setdefault(int(truth["cohort"][a]), []).append(str(a))
        for g, units in sorted(by.items()):
            if g in waves and waves.index(g) > 0:
                out.append((kind, (waves[waves.index(g) - 1], g), sorted(units)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and write the Markdown table."""
    import pyfixest as pf  # the bench extra, imported here so that --help works without it

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--shock", type=float, default=0.02)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="did_inference_") as tmp:
        city = make_demo_city(Path(tmp) / "indata", seed=args.seed, shock_sd=args.shock)
        truth = json.loads(city.truth.read_text(encoding="utf-8"))
        panel = survey_panel(read_survey(city.survey, scale="percent"))
    ind = str(truth["indicator"])
    panel = panel[panel["indicator"] == ind]
    controls = [str(c) for c in truth["control_districts"]]
    waves = [int(w) for w in truth["waves"]]
    tau2 = between_district_variance(panel, controls, indicator=ind, waves=waves)
    rows = []
    for kind, (pre, post), units in _contrasts(truth):
        treated = {a: (pre, post) for a in units}
        est = did_2x2(panel, treated=treated, controls=controls, waves=waves, indicator=ind,
                      tau2=tau2)
        perm = permutation_test(panel, treated=treated, controls=controls, waves=waves,
                                indicator=ind, n_permutations=9999, seed=1)
        d = panel[panel["area_id"].isin([*units, *controls]) & panel["wave"].isin([pre, post])]
        # integer cluster codes: wildboottest's compiled kernels take no string ids
        d = d.assign(treat_post=(d["area_id"].isin(units) & (d["wave"] == post)).astype(float),
                     area=pd.factorize(d["area_id"])[0].astype(np.int64),
                     share=d["share"].astype(float))[["share", "treat_post", "area", "wave"]]
        fit = pf.feols("share ~ treat_post | area + wave", data=d, vcov={"CRV1": "area"})
        boot = {w: fit.wildboottest(reps=9999, param="treat_post", cluster="area",
                                    weights_type=w, seed=7)
                for w in ("rademacher", "webb")}
        rows.append({
            "kind": kind, "window": f"{pre}-{post}", "n_treated": len(units),
            "n_control": est.n_control, "planted": float(truth["planted_effects"][kind]),
            "estimate": est.estimate, "pf_estimate": float(fit.coef()["treat_post"]),
            "se_model": est.se, "df_model": est.extra.get("df", np.nan),
            "se_crv1": float(fit.se()["treat_post"]),
            "p_model": est.p_value, "p_perm": perm.p_value,
            "p_crv1": float(fit.pvalue()["treat_post"]),
            "p_wcr_rademacher": float(boot["rademacher"]["Pr(>|t|)"]),
            "p_wcr_webb": float(boot["webb"]["Pr(>|t|)"]),
        })
    t = pd.DataFrame(rows)
    lines = [
        "# The 2x2 DiD's inference against pyfixest (CRV1) and the wild cluster bootstrap",
        "",
        (f"Demo city seed {args.seed}, shocks {100 * args.shock:g} pp; tau2 = {tau2.value:.6f} "
         f"({tau2.method}, {tau2.n_changes} control changes). python "
         f"{platform.python_version()}, pyfixest {pf.__version__}."),
        "",
        "| kind | window | treated | controls | planted | estimate | pyfixest | SE model "
        "(tau2, t df) | SE CRV1 | p model | p permutation | p CRV1 | p WCR Rademacher | "
        "p WCR Webb |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t.itertuples():
        lines.append(
            f"| {r.kind} | {r.window} | {r.n_treated} | {r.n_control} | {r.planted:+.3f} | "
            f"{r.estimate:+.4f} | {r.pf_estimate:+.4f} | {r.se_model:.4f} ({r.df_model:.0f}) | "
            f"{r.se_crv1:.4f} | {r.p_model:.3f} | {r.p_perm:.3f} | {r.p_crv1:.3f} | "
            f"{r.p_wcr_rademacher:.3f} | {r.p_wcr_webb:.3f} |")
    gap = float(np.max(np.abs(t["estimate"] - t["pf_estimate"])))
    lines += ["", f"Largest |estimate - pyfixest|: {gap:.1e}."]
    with atomic_path(OUT) as tmp_out:
        tmp_out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + f"\nwrote {OUT}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
