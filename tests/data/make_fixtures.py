"""Derive the small fixtures in ``tests/data`` from the reference data in ``../shared/data``.

Run by hand from the project root (the tests never run it; they read its outputs)::

    python tests/data/make_fixtures.py [--shared ../shared/data]

The outputs are deterministic: running it again on the same inputs rewrites the same bytes.
``tests/data/README.md`` describes each file, its source and its licence.
"""

from __future__ import annotations

import argparse
import bz2
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import statsmodels.api as sm
from scipy import stats

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1].parent / "shared" / "data"

# ------------------------------------------------------------------ OSM clip
# A few blocks where Norrmalm, Vasastaden and Östermalm meet (Birger Jarlsgatan, Tegnérgatan,
# Luntmakargatan, Rådmansgatan, Eriksbergsplan): south, west, north, east in degrees.
OSM_SRC = "osm_stockholm/stockholm_norrmalm_ostermalm.osm"
OSM_OUT = "stockholm_clip.osm.bz2"
OSM_BBOX = (59.3388, 18.0615, 59.3422, 18.0695)
# Tags kept: addresses, names, what osmnx's network filters and the gazetteer read.
OSM_TAGS = re.compile(
    r"(addr:(street|housenumber|postcode|city)|name|highway|area|access|service|foot"
    r"|sidewalk(:\w+)?|motor_vehicle|motorcar|oneway|junction|bridge|tunnel|layer|lit"
    r"|place|leisure|amenity|railway|public_transport|landuse|natural)"
)
PLACE_KEYS = {"place", "leisure", "amenity", "railway", "public_transport", "landuse", "natural"}

# ------------------------------------------------------------------ stadsdelar
AREAS_SRC = "stockholm_stadsdelar/stadsdelar_utan_vatten.shp"
AREAS_OUT = "stockholm_stadsdelar_6.geojson"
AREAS = ["GAMLA STAN", "KUNGSHOLMEN", "NORRMALM", "RIDDARHOLMEN", "VASASTADEN", "ÖSTERMALM"]
AREAS_TOLERANCE_M = 5.0

# ------------------------------------------------------------------ mpdta
MPDTA_SRC = "mpdta/mpdta.csv"
MPDTA_OUT = "mpdta_subset.csv"
MPDTA_REF_OUT = "mpdta_subset_reference.json"
# every k-th county (sorted by countyreal) of each cohort: 10 + 10 + 14 + 31 = 65 counties
MPDTA_EVERY = {2004: 2, 2006: 4, 2007: 10, 0: 10}


def _tags(el: ET.Element) -> dict[str, str]:
    pairs = ((t.get("k", ""), t.get("v", "")) for t in el.iter("tag"))
    return {k: v for k, v in pairs if OSM_TAGS.fullmatch(k)}


def clip_osm(src: Path, out: Path, bbox: tuple[float, float, float, float] = OSM_BBOX) -> None:
    """Clip the OSM XML to ``bbox``: highway and named place ways, address and place nodes.

    A way that enters the box is kept from one node before its first node inside to one node
    after its last (closed ways whole), so streets reach the edge. Only the tags matching
    ``OSM_TAGS`` are kept; user, uid and changeset are dropped (id, version and timestamp stay).
    Relations are dropped.
    """
    south, west, north, east = bbox
    root = ET.parse(src).getroot()
    nodes = {n.get("id", ""): n for n in root.iter("node")}
    inside = {
        i for i, n in nodes.items()
        if south <= float(n.get("lat", "nan")) <= north
        and west <= float(n.get("lon", "nan")) <= east
    }
    keep_nodes: set[str] = set()
    ways: list[tuple[ET.Element, list[str], dict[str, str]]] = []
    for w in root.iter("way"):
        refs = [nd.get("ref", "") for nd in w.iter("nd")]
        hits = [k for k, r in enumerate(refs) if r in inside]
        if not hits:
            continue
        tags = _tags(w)
        if not ("highway" in tags or "addr:housenumber" in tags
                or (PLACE_KEYS & tags.keys() and "name" in tags)):
            continue
        part = refs if refs[0] == refs[-1] else refs[max(hits[0] - 1, 0): hits[-1] + 2]
        ways.append((w, part, tags))
        keep_nodes.update(part)
    for i in inside:
        tags = _tags(nodes[i])
        if ("addr:housenumber" in tags or ("name" in tags and PLACE_KEYS & tags.keys())
                or tags.get("highway") == "street_lamp"):
            keep_nodes.add(i)

    osm = ET.Element("osm", {k: v for k, v in root.attrib.items()})
    osm.set("generator", "tests/data/make_fixtures.py (clip of " + root.get("generator", "") + ")")
    ET.SubElement(osm, "bounds", minlat=f"{south:.7f}", minlon=f"{west:.7f}",
                  maxlat=f"{north:.7f}", maxlon=f"{east:.7f}")
    meta = ("id", "version", "timestamp")
    for i in sorted(keep_nodes, key=int):
        n = nodes[i]
        el = ET.SubElement(osm, "node", {k: n.get(k, "") for k in (*meta, "lat", "lon")})
        for k, v in sorted(_tags(n).items()):
            ET.SubElement(el, "tag", k=k, v=v)
    for w, part, tags in sorted(ways, key=lambda x: int(x[0].get("id", "0"))):
        el = ET.SubElement(osm, "way", {k: w.get(k, "") for k in meta})
        for r in part:
            ET.SubElement(el, "nd", ref=r)
        for k, v in sorted(tags.items()):
            ET.SubElement(el, "tag", k=k, v=v)
    text = ET.tostring(osm, encoding="unicode").replace("><", ">\n<")
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode("utf-8")
    out.write_bytes(bz2.compress(data, compresslevel=9))


def clip_areas(src: Path, out: Path) -> None:
    """The six stadsdelar in ``AREAS``, coverage-simplified by 5 m, EPSG:3011, whole metres."""
    g = gpd.read_file(src)
    g = g.loc[g["name"].isin(AREAS)].sort_values("name").reset_index(drop=True)
    assert g.crs.to_epsg() == 3011 and len(g) == len(AREAS)
    g["geometry"] = shapely.coverage_simplify(g.geometry.values, AREAS_TOLERANCE_M)
    out.unlink(missing_ok=True)
    g.to_file(out, driver="GeoJSON", engine="pyogrio", layer_options={
        "RFC7946": "NO", "COORDINATE_PRECISION": "0", "WRITE_NAME": "NO"})
    back = gpd.read_file(out)
    assert back.crs.to_epsg() == 3011
    assert shapely.is_valid(back.geometry.values).all()
    assert shapely.coverage_is_valid(back.geometry.values)


def subset_mpdta(src: Path, out: Path) -> pd.DataFrame:
    """Every k-th county of each cohort (``MPDTA_EVERY``), all five years, rows as in the source."""
    df = pd.read_csv(src)
    counties = df.drop_duplicates("countyreal").sort_values("countyreal")
    keep = [
        c for g, every in MPDTA_EVERY.items()
        for c in counties.loc[counties["first.treat"] == g, "countyreal"].to_numpy()[::every]
    ]
    sub = df.loc[df["countyreal"].isin(keep)].reset_index(drop=True)
    sub.to_csv(out, index=False, float_format="%.17g", lineterminator="\n")
    return pd.read_csv(out)


# ------------------------------------------------------------------ independent ATT(g,t)
def _cells(df: pd.DataFrame, control: str) -> tuple[list[dict[str, float]], np.ndarray, np.ndarray]:
    """ATT(g,t) with R did's rules (varying base period, no covariates), by 2x2 regressions.

    Each cell is the OLS coefficient of the treated dummy in ``dY ~ 1 + D`` over the cohort and
    its controls, with HC0 standard errors (statsmodels). The unit-level influence functions
    (R did's scaling, n units in all) are built from the same residuals for the covariance.
    """
    wide = df.pivot(index="countyreal", columns="year", values="lemp")
    cohort = df.drop_duplicates("countyreal").set_index("countyreal")["first.treat"].loc[wide.index]
    gvals = cohort.to_numpy()
    years = list(wide.columns)
    n = len(wide)
    cells, infs = [], []
    for g in sorted(set(gvals) - {0}):
        for t in years[1:]:
            base = g - 1 if t >= g else years[years.index(t) - 1]
            if control == "never":
                ctrl = gvals == 0
            else:
                ctrl = (gvals == 0) | ((gvals > max(t, base)) & (gvals != g))
            use = (gvals == g) | ctrl
            dy = (wide[t] - wide[base]).to_numpy()[use]
            d = (gvals[use] == g).astype(float)
            fit = sm.OLS(dy, sm.add_constant(d)).fit(cov_type="HC0")
            n1, nt = use.sum(), d.sum()
            mu1, mu0 = dy[d == 1].mean(), dy[d == 0].mean()
            if_sub = d * n1 / nt * (dy - mu1) - (1 - d) * n1 / (n1 - nt) * (dy - mu0)
            psi = np.zeros(n)
            psi[use] = n / n1 * if_sub
            infs.append(psi)
            # HC0 of the 2x2 regression is the influence-function SE (two forms, one number)
            assert np.isclose(fit.bse[1], np.sqrt(np.mean(psi**2) / n), rtol=1e-10, atol=0)
            cells.append({"group": int(g), "t": int(t), "att": float(fit.params[1]),
                          "se": float(fit.bse[1])})
    return cells, np.column_stack(infs), gvals


def _aggregates(cells: list[dict[str, float]], psi: np.ndarray, gvals: np.ndarray) -> dict:
    """R did's aggte (simple, group, dynamic, calendar) with the weight influence function."""
    n = psi.shape[0]
    g = np.array([c["group"] for c in cells], float)
    t = np.array([c["t"] for c in cells], float)
    att = np.array([c["att"] for c in cells])
    glist = np.unique(g)
    pgg = np.array([np.mean(gvals == x) for x in glist])
    pg = pgg[np.searchsorted(glist, g)]

    def se(inf: np.ndarray) -> float:
        return float(np.sqrt(np.mean(inf**2) / n))

    def wif(pk: np.ndarray, groups: np.ndarray) -> np.ndarray:
        ind = (gvals[:, None] == groups[None, :]) - pk[None, :]
        return ind / pk.sum() - ind.sum(axis=1, keepdims=True) * (pk / pk.sum() ** 2)[None, :]

    def combine(keep: np.ndarray) -> tuple[float, np.ndarray]:
        w = pg[keep] / pg[keep].sum()
        return float(att[keep] @ w), psi[:, keep] @ w + wif(pg[keep], g[keep]) @ att[keep]

    out: dict[str, dict] = {}
    est, inf = combine(np.flatnonzero(g <= t))
    out["simple"] = {"overall_att": est, "overall_se": se(inf), "egt": []}
    rows, infs = [], []
    for x in glist:
        keep = np.flatnonzero((g == x) & (g <= t))
        infs.append(psi[:, keep].mean(axis=1))
        rows.append({"egt": int(x), "att": float(att[keep].mean()), "se": se(infs[-1])})
    att_g = np.array([r["att"] for r in rows])
    inf = np.column_stack(infs) @ (pgg / pgg.sum()) + wif(pgg, glist) @ att_g
    out["group"] = {"overall_att": float(att_g @ pgg / pgg.sum()), "overall_se": se(inf),
                    "egt": rows}
    rows, infs = [], []
    for e in np.unique(t - g):
        est, inf = combine(np.flatnonzero(t - g == e))
        rows.append({"egt": int(e), "att": est, "se": se(inf)})
        infs.append(inf)
    pos = np.array([r["egt"] >= 0 for r in rows])
    out["dynamic"] = {"overall_att": float(np.mean([r["att"] for r in rows if r["egt"] >= 0])),
                      "overall_se": se(np.column_stack(infs)[:, pos].mean(axis=1)), "egt": rows}
    rows, infs = [], []
    for x in np.unique(t[t >= g.min()]):
        est, inf = combine(np.flatnonzero((t == x) & (g <= t)))
        rows.append({"egt": int(x), "att": est, "se": se(inf)})
        infs.append(inf)
    out["calendar"] = {"overall_att": float(np.mean([r["att"] for r in rows])),
                       "overall_se": se(np.column_stack(infs).mean(axis=1)), "egt": rows}
    return out


def _pretest(cells: list[dict[str, float]], psi: np.ndarray) -> dict[str, float]:
    n = psi.shape[0]
    pre = np.array([c["group"] > c["t"] for c in cells])
    att = np.array([c["att"] for c in cells])[pre]
    v = psi[:, pre].T @ psi[:, pre] / n**2
    w = float(att @ np.linalg.solve(v, att))
    return {"W": w, "p_value": float(stats.chi2.sf(w, pre.sum())), "df": int(pre.sum())}


def independent(df: pd.DataFrame, control: str) -> dict:
    """ATT(g,t), aggregations and pre-test without trygg_geo (statsmodels, numpy, scipy)."""
    cells, psi, gvals = _cells(df, control)
    return {"att_gt": cells, "aggregate": _aggregates(cells, psi, gvals),
            "pretest": _pretest(cells, psi)}


def package(df: pd.DataFrame, control: str) -> dict:
    """The same numbers from trygg_geo.effects.staggered.staggered_did (DR, no covariates)."""
    from trygg_geo.effects.staggered import staggered_did

    res = staggered_did(df, unit="countyreal", time="year", outcome="lemp", cohort="first.treat",
                        control=control)  # type: ignore[arg-type]
    cells = [{"group": int(r.cohort), "t": int(r.time), "att": float(r.att), "se": float(r.se),
              "n_treated": int(r.n_treated), "n_control": int(r.n_control)}
             for r in res.att_gt.itertuples()]
    agg = {}
    for kind in ("simple", "group", "dynamic", "calendar"):
        a = res.aggregate(kind)  # type: ignore[arg-type]
        agg[kind] = {"overall_att": a.overall.estimate, "overall_se": a.overall.se,
                     "egt": [{"egt": int(r.egt), "att": float(r.att), "se": float(r.se)}
                             for r in a.table.itertuples()]}
    pt = res.pretest()
    return {"att_gt": cells, "aggregate": agg,
            "pretest": {"W": pt.statistic, "p_value": pt.p_value, "df": pt.df}}


def _flat(d: dict) -> dict[str, float]:
    """Every number in a result, keyed by where it sits (for comparing two results)."""
    out: dict[str, float] = {}
    for c in d["att_gt"]:
        for k in ("att", "se"):
            out[f"att_gt[{c['group']},{c['t']}].{k}"] = c[k]
    for kind, a in d["aggregate"].items():
        out[f"{kind}.overall_att"], out[f"{kind}.overall_se"] = a["overall_att"], a["overall_se"]
        for r in a["egt"]:
            out[f"{kind}[{r['egt']}].att"], out[f"{kind}[{r['egt']}].se"] = r["att"], r["se"]
    out["pretest.W"] = d["pretest"]["W"]
    return out


def max_diff(a: dict, b: dict) -> float:
    fa, fb = _flat(a), _flat(b)
    assert fa.keys() == fb.keys(), fa.keys() ^ fb.keys()
    return max(abs(fa[k] - fb[k]) for k in fa)


def check_against_r(full: pd.DataFrame, ref_dir: Path) -> dict[str, float]:
    """The independent computation on the full mpdta against R did's own output (csdid refs)."""
    attgt = pd.read_csv(ref_dir / "ref_attgt.csv")
    aggte = pd.read_csv(ref_dir / "ref_aggte.csv")
    pret = pd.read_csv(ref_dir / "ref_pretest.csv").set_index("scenario")
    diffs = {}
    for control, scen in (("never", "mpdta_nev_dr"), ("not_yet", "mpdta_nyt_dr")):
        mine = independent(full, control)
        r = attgt[attgt["scenario"] == scen]
        a = aggte[aggte["scenario"] == scen]
        d = [abs(c[k] - r.loc[(r["group"] == c["group"]) & (r["t"] == c["t"]), k].item())
             for c in mine["att_gt"] for k in ("att", "se")]
        for kind, agg in mine["aggregate"].items():
            rk = a[a["type"] == kind]
            d += [abs(agg["overall_att"] - rk["overall_att"].iloc[0]),
                  abs(agg["overall_se"] - rk["overall_se"].iloc[0])]
            for row in agg["egt"]:
                hit = rk[rk["egt"] == row["egt"]]
                d += [abs(row["att"] - hit["att_egt"].item()),
                      abs(row["se"] - hit["se_egt"].item())]
        d.append(abs(mine["pretest"]["W"] - pret.loc[scen, "W"]))
        diffs[control] = float(max(d))
    return diffs


def mpdta_reference(sub: pd.DataFrame, full: pd.DataFrame, ref_dir: Path, out: Path) -> None:
    counts = sub.drop_duplicates("countyreal")["first.treat"].value_counts().sort_index()
    doc: dict = {
        "data": MPDTA_OUT,
        "call": "staggered_did(df, unit='countyreal', time='year', outcome='lemp', "
                "cohort='first.treat', control=<scenario>)  # est_method='dr', no covariates",
        "subset": {"rule": "every k-th county, sorted by countyreal, within each first.treat",
                   "every_k": {str(k): v for k, v in MPDTA_EVERY.items()},
                   "counties": {str(k): int(v) for k, v in counts.items()},
                   "rows": len(sub)},
        "how": [
            "package: trygg_geo.effects.staggered.staggered_did on the subset (these are the "
            "reference values the tests assert).",
            "independent: no trygg_geo code. ATT(g,t) is the coefficient of the treated dummy in "
            "OLS dY ~ 1 + D (statsmodels, HC0 standard errors) over cohort g and its controls "
            "(never treated; or never plus not-yet-treated: first.treat > max(t, base) and != g), "
            "dY = lemp_t - lemp_base, base = g-1 for t >= g, else t-1 (R did's varying base). "
            "Aggregations, their SEs (with R did's weight influence function) and the Wald "
            "pre-test from the unit-level influence functions, written out from R did's aggte "
            "and pre-test formulas in numpy.",
            "validation of the independent method: on the full mpdta it reproduces R did's "
            "analytic output (../shared/data/mpdta/r_reference_csdid) to max_abs_diff_vs_r.",
        ],
        "max_abs_diff_vs_r_full_mpdta": check_against_r(full, ref_dir),
        "scenarios": {},
    }
    for control in ("never", "not_yet"):
        pkg, ind = package(sub, control), independent(sub, control)
        doc["scenarios"][control] = {
            "max_abs_diff_package_vs_independent": max_diff(pkg, ind),
            "package": pkg,
            "independent": ind,
        }
    text = json.dumps(doc, indent=1, ensure_ascii=False)
    # one line per innermost object (a cell, an aggregate row)
    text = re.sub(r"\{\n\s+([^{}\[\]]*?)\n\s*\}",
                  lambda m: "{" + re.sub(r"\n\s+", " ", m.group(1)) + "}", text)
    out.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder")
    shared = ap.parse_args().shared
    clip_osm(shared / OSM_SRC, HERE / OSM_OUT)
    clip_areas(shared / AREAS_SRC, HERE / AREAS_OUT)
    full = pd.read_csv(shared / MPDTA_SRC)
    sub = subset_mpdta(shared / MPDTA_SRC, HERE / MPDTA_OUT)
    mpdta_reference(sub, full, shared / "mpdta" / "r_reference_csdid", HERE / MPDTA_REF_OUT)
    for p in sorted(HERE.iterdir()):
        print(f"{p.stat().st_size:>8}  {p.name}")


if __name__ == "__main__":
    main()
