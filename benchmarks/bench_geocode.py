"""Benchmark: geocoding a large register against a large gazetteer.

Builds a synthetic grid city (named streets with numbered addresses; 1,000,000 addresses by
default), a register of 100,000 rows with labelled damage (exact, case, abbreviations, typos,
missing numbers, noise words and postcodes, swapped coordinates, unknown streets), runs
:func:`trygg_geo.geocode.geocode_register`, and records:

- rows/s for each cascade stage;
- recall and precision on the labelled rows (a placed row is correct when it lies within 1 m
  of its true address, or on its true street for street-level rows);
- peak memory (max RSS of the process);
- the blocked fuzzy stage against a brute-force baseline (rapidfuzz over every street name),
  run in the same process on the same rows, as a ratio.

Usage::

    python benchmarks/bench_geocode.py            # full size (1M addresses, 100k rows)
    python benchmarks/bench_geocode.py --quick    # smoke run

Figures go to ``benchmarks/results/geocode.md``.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rapidfuzz import fuzz, process

from trygg_geo.geocode import Gazetteer, geocode_register
from trygg_geo.geocode._match import REGISTER_COLUMNS, _Matcher
from trygg_geo.geocode._normalise import name_fold, parse_address

PREFIXES = [
    "Björk", "Ek", "Gran", "Tall", "Lönn", "Al", "Ask", "Hassel", "Rönn", "Lind", "Sälg", "Asp",
    "Kyrk", "Skol", "Torg", "Bruks", "Kvarn", "Smedje", "Mejeri", "Stations", "Hamn", "Strand",
    "Sjö", "Berg", "Dal", "Äng", "Åker", "Mosse", "Kärr", "Bäck", "Å", "Ström", "Källa",
    "Trast", "Lärk", "Sparv", "Svala", "Duv", "Örn", "Falk", "Uggle", "Hök", "Kråk", "Mås",
    "Blåbärs", "Lingon", "Hallon", "Smultron", "Vildros", "Prästkrage", "Blåklint", "Vitsippe",
    "Gullvive", "Kungs", "Drottning", "Prins", "Hertig", "Greve", "Riddar", "Borgmästar",
    "Rådmans", "Fogde", "Präst", "Klockar", "Skräddar", "Skomakar", "Garvar", "Vävar",
    "Krukmakar", "Tegel", "Kalk", "Sten", "Grus", "Sand", "Lera", "Myr", "Ljung", "Gärdes",
    "Hage", "Vret", "Tomt", "Gårds", "Torp", "By", "Kyrkby", "Nybygge", "Solros", "Måne",
    "Stjärn", "Norr", "Söder", "Öster", "Väster", "Mellan", "Lill", "Stor", "Gamla", "Nya",
]
SUFFIXES = ["gatan", "vägen", "stigen", "gränd", "backen", "slingan", "allén", "leden", "gången",
            "torget", "plan", "kroken", "svängen", "branten", "höjden", "liden", "ringen",
            "kullen", "stråket", "passagen", "terrassen", "gatan Östra", "gatan Västra",
            "vägen Norra", "vägen Södra"]
SPACING = 10.0
E0, N0 = 600_000.0, 6_600_000.0


def make_city(n_addresses: int, seed: int) -> tuple[Gazetteer, pd.DataFrame, float]:
    """A grid city: street j runs east-west at y = 100*j; number k sits at x = 10*k."""
    names = [f"{p}{s}" if not s.startswith(("gatan ", "vägen ")) else f"{s.split()[1]} {p}{s.split()[0]}"
             for p in PREFIXES for s in SUFFIXES]
    names = list(dict.fromkeys(names))
    per_street = 500
    n_streets = int(np.ceil(n_addresses / per_street))
    if n_streets > len(names):  # add a district name to reuse a street name in another area
        names = names + [f"{n} {i}" for i in range(2, 10) for n in names]
    names = names[:n_streets]
    rng = np.random.default_rng(seed)
    sid = np.repeat(np.arange(n_streets), per_street)[:n_addresses]
    num = np.tile(np.arange(1, per_street + 1), n_streets)[:n_addresses]
    x = E0 + num * SPACING
    y = N0 + sid * 100.0 + np.where(num % 2 == 1, -12.0, 12.0)
    letters = np.where(rng.random(n_addresses) < 0.03, "A", "")
    hn = pd.Series(num.astype(str)) + letters
    postcode = (10000 + sid // 10 * 7 % 89999).astype(str)
    t0 = time.perf_counter()
    addresses = gpd.GeoDataFrame(
        {"street": np.array(names, dtype=object)[sid], "housenumber": hn.to_numpy(),
         "postcode": postcode, "locality": "Storstad"},
        geometry=shapely.points(x, y), crs="EPSG:3006",
    )
    lines = shapely.linestrings(
        np.stack([np.column_stack([np.full(n_streets, E0), N0 + np.arange(n_streets) * 100.0]),
                  np.column_stack([np.full(n_streets, E0 + (per_street + 1) * SPACING),
                                   N0 + np.arange(n_streets) * 100.0])], axis=1)
    )
    streets = gpd.GeoDataFrame({"name": names}, geometry=lines, crs="EPSG:3006")
    gaz = Gazetteer.from_frames(addresses=addresses, streets=streets, crs="EPSG:3006", source="bench")
    build = time.perf_counter() - t0
    truth = pd.DataFrame({"street": addresses["street"].to_numpy(), "housenumber": hn.to_numpy(),
                          "postcode": postcode, "x": x, "y": y})
    return gaz, truth, build


def _typo(s: str, rng: np.random.Generator) -> str:
    i = int(rng.integers(2, max(3, len(s) - 2)))
    op = rng.integers(0, 3)
    if op == 0:
        return s[:i] + s[i] + s[i:]  # doubled letter
    if op == 1:
        return s[:i] + s[i + 1:]  # dropped letter
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]  # swapped letters


DAMAGE = [  # (label, share)
    ("exact", 0.30), ("lower", 0.10), ("abbrev", 0.10), ("typo", 0.15), ("no_number", 0.10),
    ("noise_postcode", 0.10), ("no_diacritics", 0.05), ("coordinates_swapped", 0.05),
    ("unknown_street", 0.05),
]


def make_register(truth: pd.DataFrame, n_rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(truth), n_rows)
    labels = rng.choice([d[0] for d in DAMAGE], size=n_rows, p=[d[1] for d in DAMAGE])
    t = truth.iloc[pick].reset_index(drop=True)
    texts: list[str | None] = []
    xs = np.full(n_rows, np.nan)
    ys = np.full(n_rows, np.nan)
    crs: list[object] = [pd.NA] * n_rows
    for i, (lab, st, hn, pc) in enumerate(zip(labels, t["street"], t["housenumber"], t["postcode"], strict=True)):
        if lab == "exact":
            texts.append(f"{st} {hn}")
        elif lab == "lower":
            texts.append(f"{st.lower()} {hn.lower()}")
        elif lab == "abbrev":
            texts.append(f"{st.replace('gatan', 'g.').replace('vägen', 'v.')} {hn}")
        elif lab == "typo":
            texts.append(f"{_typo(st, rng)} {hn}")
        elif lab == "no_number":
            texts.append(st)
        elif lab == "noise_postcode":
            texts.append(f"utanför {st} {hn}, {pc[:3]} {pc[3:]} Storstad")
        elif lab == "no_diacritics":
            texts.append(f"{st.translate(str.maketrans('åäöéÅÄÖÉ', 'aaoeAAOE'))} {hn}")
        elif lab == "coordinates_swapped":
            texts.append(None)
            xs[i], ys[i] = t["y"].iat[i], t["x"].iat[i]
            crs[i] = "EPSG:3006"
        else:
            texts.append(f"Okänd{rng.integers(0, 10**6)}vägen {hn}")
    reg = pd.DataFrame({c: pd.NA for c in REGISTER_COLUMNS}, index=range(n_rows))
    reg["source_row"] = np.arange(2, n_rows + 2)
    reg["investment_id"] = [f"B-{i}" for i in range(n_rows)]
    reg["kind"] = "kamerabevakning"
    reg["kind_recognised"] = True
    reg["address"] = pd.Series(texts, dtype=object)
    reg["x"], reg["y"] = xs, ys
    reg["crs"] = pd.Series(crs, dtype=object)
    labelled = t.assign(label=labels)
    return reg, labelled


def score(result, labelled: pd.DataFrame) -> dict[str, float]:  # type: ignore[no-untyped-def]
    placed = result.placed
    idx = placed["source_row"].to_numpy() - 2
    lab = labelled.iloc[idx]
    should = (labelled["label"] != "unknown_street").to_numpy()
    d = np.hypot(placed.geometry.x.to_numpy() - lab["x"].to_numpy(), placed.geometry.y.to_numpy() - lab["y"].to_numpy())
    street_ok = placed["matched"].astype(str).to_numpy() == lab["street"].to_numpy()
    street_lvl = placed["geocode_method"].eq("street").to_numpy()
    correct = np.where(street_lvl, street_ok, d < 1.0) & (lab["label"] != "unknown_street").to_numpy()
    per_label = {}
    for lbl in labelled["label"].unique():
        m = (lab["label"] == lbl).to_numpy()
        per_label[lbl] = (int(correct[m].sum()), int((labelled["label"] == lbl).sum()), int(m.sum()))
    return {
        "recall": float(correct.sum() / should.sum()),
        "precision": float(correct.sum() / max(1, len(placed))),
        "placed": len(placed),
        "unplaced": len(result.unplaced),
        "per_label": per_label,  # type: ignore[dict-item]
    }


def fuzzy_baseline(gaz: Gazetteer, reg: pd.DataFrame, labelled: pd.DataFrame, n: int) -> tuple[float, float]:
    """rows/s: blocked fuzzy street resolution vs brute force over every street (same rows)."""
    rows = reg["address"][labelled["label"].eq("typo").to_numpy()].head(n).tolist()
    keys = [parse_address(t).street or "" for t in rows]
    folds = [name_fold(k) for k in keys]
    all_folds = gaz.streets["fold"].tolist()
    t0 = time.perf_counter()
    for f in folds:
        process.extractOne(f, all_folds, scorer=fuzz.ratio, score_cutoff=85)
    brute = len(folds) / (time.perf_counter() - t0)
    m = _Matcher(gaz, 85)
    t0 = time.perf_counter()
    for k in keys:
        m.street(k, None)
    blocked = len(keys) / (time.perf_counter() - t0)
    return blocked, brute


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    ap.add_argument("--addresses", type=int, default=None)
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "geocode.md"))
    args = ap.parse_args()
    n_addr = args.addresses or (20_000 if args.quick else 1_000_000)
    n_rows = args.rows or (2_000 if args.quick else 100_000)

    rss0 = max_rss_mb()
    gaz, truth, t_build = make_city(n_addr, seed=1)
    t0 = time.perf_counter()
    _ = gaz.index
    t_index = time.perf_counter() - t0
    rss_gaz = max_rss_mb()
    reg, labelled = make_register(truth, n_rows, seed=2)
    t0 = time.perf_counter()
    res = geocode_register(reg, gaz)
    t_total = time.perf_counter() - t0
    rss_end = max_rss_mb()
    sc = score(res, labelled)
    blocked, brute = fuzzy_baseline(gaz, reg, labelled, 300 if args.quick else 2000)

    st = res.stages.copy()
    st["rows_per_s"] = st["rows_in"] / st["seconds"].clip(lower=1e-9)
    lines = [
        "# Geocoding benchmark",
        "",
        f"`python benchmarks/bench_geocode.py{' --quick' if args.quick else ''}` on {platform.machine()}, "
        f"Python {platform.python_version()}, 2 shared cores.",
        "",
        f"- Gazetteer: **{len(gaz.addresses):,} addresses** on {len(gaz.streets):,} streets "
        f"(synthetic grid city), built in {t_build:.1f} s, indexed in {t_index:.1f} s.",
        f"- Register: **{n_rows:,} rows** with labelled damage; geocoded in **{t_total:.1f} s** "
        f"({n_rows / t_total:,.0f} rows/s overall).",
        f"- Peak memory (max RSS): {rss0:,.0f} MB at start, {rss_gaz:,.0f} MB with the gazetteer, "
        f"{rss_end:,.0f} MB after geocoding.",
        f"- Placed {sc['placed']:,}, unplaced {sc['unplaced']:,}. **Recall {sc['recall']:.4f}, "
        f"precision {sc['precision']:.4f}** (correct = within 1 m of the true address, or the "
        "true street for street-level rows; the 5% unknown streets should stay unplaced).",
        f"- Fuzzy street resolution, blocked vs brute force over all {len(gaz.streets):,} street names "
        f"(same rows, same process): {blocked:,.0f} vs {brute:,.0f} rows/s, "
        f"**ratio {blocked / brute:.1f}x**.",
        "",
        "## Rows per second, per cascade stage",
        "",
        "| stage | rows in | placed | seconds | rows/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in st.itertuples():
        lines.append(f"| {r.stage} | {r.rows_in:,} | {r.rows_placed:,} | {r.seconds:.2f} | {r.rows_per_s:,.0f} |")
    lines += ["", "## Per damage label", "", "| label | rows | correct | placed |", "|---|---:|---:|---:|"]
    for lbl, (ok, n, placed) in sorted(sc["per_label"].items()):  # type: ignore[union-attr]
        lines.append(f"| {lbl} | {n:,} | {ok:,} | {placed:,} |")
    lines += ["", "## Summary of the result", "", "| category | value | n |", "|---|---|---:|"]
    lines += [f"| {c} | {v} | {n:,} |" for c, v, n in res.summary().itertuples(index=False)]
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
