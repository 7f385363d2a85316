"""Benchmark: trygg_geo's staggered_did against the csdid package, in the same process.

Each run estimates ATT(g,t) on the mpdta panel (R did's example, 500 counties x 5 years) and
computes all four aggregations (simple, group, dynamic, calendar) with analytic standard
errors, for two scenarios (DR without covariates; DR with ~lpop). The full run adds a
panel of 10 stacked copies of mpdta (5,000 units). It also records the largest difference
between the two implementations' estimates and SEs.

Usage::

    python benchmarks/bench_staggered.py [--quick]

Writes ``benchmarks/results/staggered.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from trygg_geo._atomic import atomic_path
from trygg_geo.effects.staggered import Aggregation, staggered_did

ROOT = Path(__file__).resolve().parents[1]
MPDTA = ROOT.parent / "shared" / "data" / "mpdta" / "mpdta.csv"
OUT = ROOT / "benchmarks" / "results" / "staggered.md"
AGGS: tuple[Aggregation, ...] = ("simple", "group", "dynamic", "calendar")


def _panel(copies: int) -> pd.DataFrame:
    if MPDTA.is_file():
        base = pd.read_csv(MPDTA)
    else:  # a simulated stand-in of the same shape
        rng = np.random.default_rng(0)
        n = 500
        g = rng.choice([0, 2004, 2006, 2007], size=n, p=[0.62, 0.04, 0.08, 0.26])
        rows = []
        for t in range(2003, 2008):
            rows.append(pd.DataFrame({
                "countyreal": np.arange(n), "year": t, "lpop": np.linspace(1, 3, n),
                "lemp": rng.normal(size=n) - 0.05 * ((g > 0) & (t >= g)), "first.treat": g,
            }))
        base = pd.concat(rows, ignore_index=True)
    parts = [base.assign(countyreal=base["countyreal"] + k * 10**6) for k in range(copies)]
    return pd.concat(parts, ignore_index=True)


def _ours(df: pd.DataFrame, covariates: list[str] | None) -> dict[str, object]:
    res = staggered_did(df, unit="countyreal", time="year", outcome="lemp",
                        cohort="first.treat", covariates=covariates, est_method="dr")
    out: dict[str, object] = {"att": res.att_gt["att"].to_numpy(),
                              "se": res.att_gt["se"].to_numpy()}
    for a in AGGS:
        o = res.aggregate(a).overall
        out[a] = (o.estimate, o.se)
    return out


def _csdid(df: pd.DataFrame, covariates: list[str] | None) -> dict[str, object]:
    from csdid.att_gt import ATTgt  # optional (extra 'bench'), like the check in main()

    xf = "lemp~" + "+".join(covariates) if covariates else None
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ATTgt(yname="lemp", gname="first.treat", idname="countyreal", tname="year",
                  xformla=xf, data=df).fit(est_method="dr", bstrap=False)
        out: dict[str, object] = {"att": np.asarray(m.results["att"], float),
                                  "se": np.asarray(m.results["se"], float).ravel()}
        for a in AGGS:
            m.aggte(typec=a, bstrap=False)
            out[a] = (float(m.atte["overall_att"]), float(m.atte["overall_se"]))
    return out


def _best(fn: Callable[[], dict[str, object]], repeats: int) -> tuple[float, dict[str, object]]:
    """Best time of ``repeats`` runs, after one untimed warm-up run (imports, caches)."""
    best, result = float("inf"), fn()
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _max_diff(a: dict[str, object], b: dict[str, object]) -> float:
    d = [np.nanmax(np.abs(np.asarray(a[k]) - np.asarray(b[k]))) for k in ("att", "se")]
    d += [max(abs(a[k][0] - b[k][0]), abs(a[k][1] - b[k][1])) for k in AGGS]  # type: ignore[index]
    return float(max(d))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = ap.parse_args(argv)
    repeats = 2 if args.quick else 7
    sizes = [1] if args.quick else [1, 10]
    try:
        import csdid  # noqa: F401 - optional (extra 'bench'): the comparison is skipped without it

        csdid_ok, csdid_note = True, ""
        csdid_version = version("csdid")
    except Exception as exc:  # noqa: BLE001 - report whatever went wrong
        csdid_ok, csdid_note, csdid_version = False, f"{type(exc).__name__}: {exc}", "n/a"

    rows = []
    for copies in sizes:
        df = _panel(copies)
        n_units = df["countyreal"].nunique()
        for label, cov in (("dr, ~1", None), ("dr, ~lpop", ["lpop"])):
            t_ours, r_ours = _best(partial(_ours, df, cov), repeats)
            row = {"panel": f"mpdta x{copies}" if MPDTA.is_file() else f"simulated x{copies}",
                   "units": n_units, "scenario": label, "ours_s": t_ours}
            if csdid_ok:
                try:
                    t_cs, r_cs = _best(partial(_csdid, df, cov), repeats)
                    row.update(csdid_s=t_cs, ratio=t_cs / t_ours, max_abs_diff=_max_diff(r_ours, r_cs))
                except Exception as exc:  # noqa: BLE001
                    csdid_note = f"csdid failed to run: {type(exc).__name__}: {exc}"
            rows.append(row)
            print(row, file=sys.stderr)

    tab = pd.DataFrame(rows)
    lines = [
        "# Staggered adoption (Callaway & Sant'Anna): trygg_geo vs csdid",
        "",
        (
            "ATT(g,t) with analytic SEs plus all four aggregations (simple, group, dynamic, "
            "calendar), doubly robust, never-treated controls. Best of "
            f"{repeats} runs each after one untimed warm-up run, same process. "
            "`ratio` = csdid seconds / trygg_geo seconds (above 1: trygg_geo is faster). "
            "`max_abs_diff` = largest difference in any ATT, SE or aggregated figure."
        ),
        "",
        (
            f"- mode: {'quick' if args.quick else 'full'}; python {platform.python_version()}, "
            f"numpy {np.__version__}, pandas {pd.__version__}, csdid {csdid_version}"
        ),
        "",
    ]
    if not csdid_ok or csdid_note:
        lines += [f"**csdid not compared**: {csdid_note or 'not installed'}", ""]
    fmt = {"ours_s": "{:.4f}", "csdid_s": "{:.4f}", "ratio": "{:.1f}", "max_abs_diff": "{:.1e}"}
    header = list(tab.columns)
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for _, r in tab.iterrows():
        cells = [fmt[c].format(r[c]) if c in fmt and pd.notna(r[c]) else str(r[c]) for c in header]
        lines.append("| " + " | ".join(cells) + " |")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(OUT) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
