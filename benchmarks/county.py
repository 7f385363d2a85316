"""Benchmark: a county-sized case end to end (issue 17).

Builds a project folder over the real 117 Stockholm stadsdelar (``../shared/data``) and runs
:func:`trygg_geo.run` on it, recording per stage the time and the peak memory, the output
sizes and the first paint of ``karta.html`` in headless Chromium.

The case (``--rows`` register rows, ``--incidents`` incidents, 4 survey waves):

- ``investeringar.csv``: the register in Windows-1252 with Stockholm's Swedish headers
  (``Projekt-id; Projektnamn; Åtgärd; Adress; Stadsdel; Beviljat (kr); Nyttjat (kr);
  Startdatum; Färdigställd; Status; X; Y; Koordinatsystem``). About a fifth of the rows carry
  real addresses from the OSM extract (Norrmalm, Östermalm, Vasastaden; read with the
  package's own gazetteer builder), written as clerks write them: exact, lower case,
  abbreviated (``Sveav. 12``), without diacritics, with a typo, with a postcode and town,
  without the house number. Most rows carry coordinates spread over all 117 areas (the OSM
  extract covers three of them): SWEREF 99 18 00 or SWEREF 99 TM, the NORTHING in ``X``, with
  a decimal comma. About 1 % cannot be placed (unknown streets, a district name only, nothing).
  Kinds with variants and typos, amounts as clerks write them, start and completion dates over
  ten years (2014-2024), cancelled (``Avbruten``) and ongoing (``Pågående``) projects, 1 %
  exact duplicate rows and a few ids reused with new contents. About 30 % of the areas only
  receive investments after the last wave (they stay controls); a few are treated before the
  first (excluded).
- ``trygghetsmatning.csv``: share feeling unsafe (percent, decimal comma) and respondents for
  all 117 stadsdelar in the waves 2014, 2017, 2020 and 2023, with district levels, a common
  trend, district x wave shocks (SD 3 points), binomial sampling and a planted lighting effect.
- ``handelser.csv``: incidents (``Ärendenummer;Datum;Kategori;X;Y``, SWEREF 99 18 00, decimal
  comma): 70 % spread over the areas, 30 % in 40 hot spots, dates 2014-2024.
- ``projekt.toml``: the areas and the OSM extract referenced where they lie, never copied.

Timing: the pipeline announces its coarse stages through ``progress``; finer stages are timed
by wrapping, in this process only, the functions :mod:`trygg_geo.pipeline` calls (the package
is not modified). Each stage's time (wall, and CPU of the process) is its own time, nested
stages taken out; ``stages.log`` in the project folder gets a line per finished call, so a run
stopped early still tells where its time went. Peak memory is
the process's maximum resident set size (``getrusage``) and, per stage, the highest RSS
sampled every 50 ms. The pipeline runs in a child process so that generating the case does
not count. Other agents share the 2 cores: the load average is recorded beside the figures,
with the run's CPU time (CPU/wall well below 1 means the process waited for a core).

Usage::

    python benchmarks/county.py --rows 100000 --incidents 1000000 --out /work/notes/county/full
    python benchmarks/county.py --rows 10000 --incidents 100000 --out DIR --profile
    python benchmarks/county.py ... --record     # also write benchmarks/results/county.md
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import importlib
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
import shapely

ROOT = Path(__file__).resolve().parents[1]
#: --code DIR runs another copy of the package (e.g. `git archive HEAD` unpacked), so a
#: figure can be taken on committed code while the working tree is being edited.
CODE = Path(os.environ.get("COUNTY_CODE", str(ROOT)))
sys.path.insert(0, str(CODE))

from trygg_geo.areas import make_area_id  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
AREAS_REL = Path("stockholm_stadsdelar") / "stadsdelar.shp"
OSM_REL = Path("osm_stockholm") / "stockholm_norrmalm_ostermalm.osm"
RESULTS = ROOT / "benchmarks" / "results" / "county.md"
CHROMIUM = "/usr/bin/chromium"

WAVES = (2014, 2017, 2020, 2023)
WAVE_MONTH, WAVE_DAY = 4, 15
INDICATOR = "otrygg_kvall"
MIN_N = 30
LIGHTING_EFFECT = -0.04
TREND = {2014: 0.0, 2017: 0.025, 2020: -0.01, 2023: 0.005}
MB = 1e6

REGISTER_HEADER = ["Projekt-id", "Projektnamn", "Åtgärd", "Adress", "Stadsdel", "Beviljat (kr)",
                   "Nyttjat (kr)", "Startdatum", "Färdigställd", "Status", "X", "Y",
                   "Koordinatsystem"]
SURVEY_HEADER = ["Stadsdel", "År", "Andel otrygga (%)", "Antal svarande"]
INCIDENT_HEADER = ["Ärendenummer", "Datum", "Kategori", "X", "Y"]
CATEGORIES = ("skadegörelse", "misshandel", "rån", "ordningsstörning", "narkotika",
              "otrygg plats (synpunkt)", "bilbrand")

#: (kind, text as written, weight): the kind column with its everyday variants and typos.
KIND_TEXTS: dict[str, tuple[tuple[str, float], ...]] = {
    "belysning": (("Belysning", 0.5), ("Gatubelysning", 0.2), ("Trygghetsbelysning", 0.2),
                  ("Belysnig", 0.1)),
    "slyrojning": (("Slyröjning", 0.5), ("Siktröjning", 0.2), ("Sly- och buskröjning", 0.2),
                   ("slyröjning", 0.1)),
    "kamerabevakning": (("Kamerabevakning", 0.5), ("Trygghetskamera", 0.4),
                        ("Kamerabev.", 0.1)),
    "klottersanering": (("Klottersanering", 0.7), ("Klotterborttagning", 0.3)),
    "utemiljo": (("Upprustning av utemiljö", 0.6), ("Upprustning lekplats", 0.4)),
    "trygghetsvandring": (("Trygghetsvandring", 1.0),),
}
KIND_SHARE = {"belysning": 0.35, "slyrojning": 0.2, "kamerabevakning": 0.15,
              "klottersanering": 0.15, "utemiljo": 0.1, "trygghetsvandring": 0.05}
NAME_PATTERNS = {"belysning": "Ny belysning {p}", "slyrojning": "Slyröjning vid {p}",
                 "kamerabevakning": "Trygghetskameror {p}",
                 "klottersanering": "Klottersanering {p}",
                 "utemiljo": "Upprustning {p}", "trygghetsvandring": "Trygghetsvandring {p}"}
#: How addresses are written (label, share): see :func:`_address_text`.
ADDRESS_STYLES = (("exact", 0.40), ("lower", 0.10), ("abbrev", 0.10), ("no_diacritics", 0.08),
                  ("typo", 0.12), ("postcode", 0.12), ("no_number", 0.08))
_LOWER_WORDS = {"stan", "kyrka", "gård", "strand", "villastad", "slott", "industriområde"}

FIRST_WAVE = pd.Timestamp(WAVES[0], WAVE_MONTH, WAVE_DAY)
LAST_WAVE = pd.Timestamp(WAVES[-1], WAVE_MONTH, WAVE_DAY)


def need_shared(data: Path) -> None:
    """Exit with a clear message when the shared reference data is not beside the checkout."""
    missing = [data / r for r in (AREAS_REL, OSM_REL) if not (data / r).is_file()]
    if missing:
        sys.exit("county benchmark: the shared reference data is missing: "
                 + ", ".join(map(str, missing)) + f". It reads the real stadsdelar and the OSM "
                 f"extract from {data} (../shared/data beside the checkout); pass --data DIR "
                 "when it lies elsewhere.")


def survey_name(upper: str) -> str:
    """A stadsdel's name as Stockholm writes it (``GAMLA STAN`` -> ``Gamla stan``)."""
    if upper == "ULVSUNDA INDUSTRIOMR":
        return "Ulvsunda industriområde"
    words = upper.split()
    return " ".join([words[0].capitalize()] + [w.lower() if w.lower() in _LOWER_WORDS
                                                else w.capitalize() for w in words[1:]])


# --------------------------------------------------------------------------- generation


@dataclass
class Case:
    """The generated project: folder, config and the accounting of what was written."""

    folder: Path
    config: Path
    counts: dict[str, Any]


def _read_areas(data: Path) -> gpd.GeoDataFrame:
    areas = gpd.read_file(data / AREAS_REL)
    if areas.crs is None or areas.crs.to_epsg() != 3011:
        raise ValueError(f"{data / AREAS_REL}: expected EPSG:3011, found {areas.crs}")
    areas = areas[["name", "geometry"]].reset_index(drop=True)
    areas["area_id"] = [make_area_id(n) for n in areas["name"]]
    return areas


def _addresses(data: Path, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """The OSM extract's addresses (the package's gazetteer builder) with their district."""
    from trygg_geo.geocode import Gazetteer

    gaz = Gazetteer.from_osm_xml(data / OSM_REL, crs="EPSG:3011")
    a = gaz.addresses
    a = a[~a["derived"].astype(bool) & a["street"].notna() & a["housenumber"].notna()]
    a = gpd.GeoDataFrame(a[["street", "housenumber", "postcode"]], geometry=a.geometry,
                         crs=gaz.addresses.crs)
    core = areas.assign(geometry=areas.geometry.buffer(-8.0))  # clear of the borders
    j = gpd.sjoin(a, core[["name", "geometry"]], how="inner", predicate="within")
    j = j.drop_duplicates(subset=["street", "housenumber"], keep=False)
    ok = [_cp1252(s) for s in j["street"]]
    j = j[ok].reset_index(drop=True)
    return pd.DataFrame({"street": j["street"].astype(str),
                         "number": j["housenumber"].astype(str).str.strip(),
                         "postcode": j["postcode"].fillna("").astype(str), "area": j["name"]})


def _cp1252(s: str) -> bool:
    try:
        s.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def points_in(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform points inside ``poly`` (10 m clear of its border when it is big enough)."""
    core = poly.buffer(-10.0)
    if core.is_empty or core.area < 0.2 * poly.area:
        core = poly
    shapely.prepare(core)
    minx, miny, maxx, maxy = core.bounds
    out: list[np.ndarray] = []
    have = 0
    fill = max(core.area / ((maxx - minx) * (maxy - miny)), 0.02)
    while have < n:
        m = int((n - have) / fill * 1.3) + 16
        x, y = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
        keep = shapely.contains_xy(core, x, y)
        out.append(np.column_stack([x[keep], y[keep]]))
        have += int(keep.sum())
    return np.vstack(out)[:n]


def _typo(s: str, rng: np.random.Generator) -> str:
    if len(s) < 5:
        return s
    i = int(rng.integers(1, len(s) - 2))
    op = int(rng.integers(0, 3))
    if op == 0:
        return s[:i] + s[i] + s[i:]
    if op == 1:
        return s[:i] + s[i + 1:]
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def _address_text(style: str, street: str, number: str, postcode: str,
                  rng: np.random.Generator) -> str:
    """An address as a clerk writes it."""
    if style == "lower":
        return f"{street.lower()} {number.lower()}"
    if style == "abbrev":
        return f"{street.replace('gatan', 'g.').replace('vägen', 'v.')} {number}"
    if style == "no_diacritics":
        return f"{street.translate(str.maketrans('åäöéÅÄÖÉ', 'aaoeAAOE'))} {number}"
    if style == "typo":
        return f"{_typo(street, rng)} {number}"
    if style == "postcode":
        pc = postcode if len(postcode) == 5 and postcode.isdigit() else "11"
        pc = f"{pc[:3]} {pc[3:]}" if len(pc) == 5 else "111 22"
        return f"{street} {number}, {pc} Stockholm"
    if style == "no_number":
        return street
    return f"{street} {number}"


def _kr(v: float, style: int) -> str:
    v = int(round(v))
    if style == 0:
        return f"{v:,}".replace(",", " ")
    if style == 1:
        return str(v)
    return f"{v:,}".replace(",", "\u00a0")


def _coord(v: float) -> str:
    return f"{v:.1f}".replace(".", ",")


def _dates(rng: np.random.Generator, n: int, lo: pd.Timestamp,
           hi: pd.Timestamp) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Start dates uniform in [lo, hi] and completion 60-330 days later."""
    span = (hi - lo).days
    start = lo + pd.to_timedelta(rng.integers(0, span, n), unit="D")
    done = start + pd.to_timedelta(rng.integers(60, 331, n), unit="D")
    return pd.DatetimeIndex(start), pd.DatetimeIndex(done)


def _plan_areas(areas: gpd.GeoDataFrame, addr_areas: set[str],
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Role of each area for the register: weights, control flag, early flag, dominant kind."""
    n = len(areas)
    weight = rng.lognormal(0.0, 0.8, n)
    names = areas["name"].to_numpy()
    free = np.flatnonzero(~np.isin(names, list(addr_areas)))
    control = np.zeros(n, bool)
    control[rng.choice(free, size=int(round(0.3 * n)), replace=False)] = True
    rest = np.flatnonzero(~control & ~np.isin(names, list(addr_areas)))
    early = np.zeros(n, bool)
    early[rng.choice(rest, size=3, replace=False)] = True
    kinds = np.array(list(KIND_SHARE))
    dominant = rng.choice(kinds[:5], size=n, p=np.array([.35, .2, .15, .15, .15]))
    return weight, control, early, dominant


def _kind_texts(kinds: np.ndarray, rng: np.random.Generator) -> list[str]:
    out = np.empty(len(kinds), dtype=object)
    for k, variants in KIND_TEXTS.items():
        sel = np.flatnonzero(kinds == k)
        texts = [t for t, _ in variants]
        p = np.array([w for _, w in variants])
        out[sel] = rng.choice(texts, size=len(sel), p=p / p.sum())
    return list(out)


def _register(folder: Path, areas: gpd.GeoDataFrame, addr: pd.DataFrame, n_rows: int,
              rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, tuple[str, int]]]:
    """Write ``investeringar.csv``; return its accounting and the lighting areas' cohorts."""
    n_dup, n_same = int(round(0.01 * n_rows)), int(round(0.002 * n_rows))
    n_base = n_rows - n_dup - n_same
    n_addr, n_none = int(round(0.2 * n_base)), int(round(0.01 * n_base))
    n_coord = n_base - n_addr - n_none
    addr_areas = set(addr["area"])
    weight, control, early, dominant = _plan_areas(areas, addr_areas, rng)
    names = areas["name"].to_numpy()
    polys = areas.geometry.to_numpy()

    # where each base row lies: an address node, coordinates in an area, or nowhere
    area_of = np.empty(n_base, dtype=np.int64)
    source = np.array(["address"] * n_addr + ["coordinates"] * n_coord + ["none"] * n_none,
                      dtype=object)
    pick = rng.integers(0, len(addr), n_addr)
    name_pos = {n: i for i, n in enumerate(names)}
    area_of[:n_addr] = [name_pos[a] for a in addr["area"].to_numpy()[pick]]
    area_of[n_addr:n_addr + n_coord] = rng.choice(len(areas), n_coord, p=weight / weight.sum())
    # unplaceable rows name treated areas only: a completed one naming a control excludes it
    area_of[n_addr + n_coord:] = rng.choice(np.flatnonzero(~control), n_none)
    xy = np.full((n_base, 2), np.nan)
    for a in np.unique(area_of[n_addr:n_addr + n_coord]):
        sel = n_addr + np.flatnonzero(area_of[n_addr:n_addr + n_coord] == a)
        xy[sel] = points_in(polys[a], len(sel), rng)

    # kind: the area's dominant kind for 70 % of its rows
    kinds = np.where(rng.random(n_base) < 0.7, dominant[area_of],
                     rng.choice(list(KIND_SHARE), n_base, p=list(KIND_SHARE.values())))
    # status and dates: controls only after the last wave; early areas also before the first
    status = rng.choice(["Avslutad", "Avbruten", "Pågående"], n_base, p=[0.94, 0.02, 0.04])
    start, done = _dates(rng, n_base, pd.Timestamp("2014-05-01"), pd.Timestamp("2024-06-30"))
    late_s, late_d = _dates(rng, n_base, LAST_WAVE + pd.Timedelta(days=20),
                            pd.Timestamp("2024-06-30"))
    ctrl = control[area_of] | (status == "Pågående")
    start = start.where(~ctrl, late_s)
    done = done.where(~ctrl, late_d)
    pre = early[area_of] & (rng.random(n_base) < 0.1)
    pre_s, pre_d = _dates(rng, n_base, pd.Timestamp("2013-01-01"), pd.Timestamp("2013-05-01"))
    start, done = start.where(~pre, pre_s), done.where(~pre, pre_d)
    granted = np.round(rng.lognormal(np.log(400), 0.8, n_base)) * 1000
    spent = np.round(granted * rng.uniform(0.7, 1.05, n_base), -2)
    spent[status == "Avbruten"] = 0.0
    ongoing = status == "Pågående"
    spent[ongoing] = np.round(granted[ongoing] * rng.uniform(0.1, 0.4, ongoing.sum()), -3)

    styles = rng.choice([s for s, _ in ADDRESS_STYLES], n_addr,
                        p=[w for _, w in ADDRESS_STYLES])
    tm = rng.random(n_base) < 0.15  # SWEREF 99 TM instead of the city's 18 00 zone
    xy_tm = np.full_like(xy, np.nan)
    if tm.any():
        from pyproj import Transformer
        t = Transformer.from_crs(3011, 3006, always_xy=True)
        xy_tm[:, 0], xy_tm[:, 1] = t.transform(xy[:, 0], xy[:, 1])
    kind_text = _kind_texts(kinds, rng)
    lines: list[list[str]] = []
    lighting: dict[str, tuple[str, int]] = {}
    wave_ts = [pd.Timestamp(w, WAVE_MONTH, WAVE_DAY) for w in WAVES]
    for i in range(n_base):
        a = int(area_of[i])
        upper = str(names[a])
        x = y = crs = ""
        if source[i] == "address":
            r = addr.iloc[int(pick[i])]
            address = _address_text(str(styles[i]), r["street"], r["number"], r["postcode"],
                                    rng)
            place = r["street"]
        elif source[i] == "coordinates":
            e, nn = (xy_tm[i] if tm[i] else xy[i])
            x, y = _coord(nn), _coord(e)  # Swedish order: the northing in X
            crs = "SWEREF 99 TM" if tm[i] else "SWEREF 99 18 00"
            address, place = "", survey_name(upper)
        else:  # cannot be placed: an unknown street, a district only, or nothing at all
            u = i % 3
            address = (f"Okändgränd {i % 97 + 1}" if u == 0 else
                       survey_name(upper) if u == 1 else "")
            place = survey_name(upper)
        st = status[i]
        completed = "" if st != "Avslutad" else done[i].strftime("%Y-%m-%d")
        started = start[i].strftime("%Y-%m-%d")
        year = (done[i] if st == "Avslutad" else start[i]).year
        k = str(kinds[i])
        lines.append([f"TI-{year}-{i + 1:06d}", NAME_PATTERNS[k].format(p=place), kind_text[i],
                      address, survey_name(upper), _kr(granted[i], i % 3),
                      _kr(spent[i], (i + 1) % 3), started, completed, st, x, y, crs])
        if k == "belysning" and st == "Avslutad" and FIRST_WAVE < done[i] <= LAST_WAVE:
            cohort = next(w for w, d in zip(WAVES, wave_ts, strict=True) if d >= done[i])
            prev = lighting.get(upper, ("belysning", 9999))[1]
            lighting[upper] = ("belysning", min(prev, cohort))
    # exact duplicates (a row exported twice) and ids reused with new contents
    for src in rng.integers(0, n_base, n_dup):
        lines.insert(int(rng.integers(0, len(lines) + 1)), list(lines[int(src)]))
    for src in rng.integers(0, n_base, n_same):
        again = list(lines[int(src)])
        again[6] = _kr(float(rng.integers(50, 900)) * 1000, 0)
        lines.append(again)
    _write_csv(folder / "investeringar.csv", REGISTER_HEADER, lines, encoding="cp1252")
    counts = {"register_rows": len(lines), "address_rows": n_addr, "coordinate_rows": n_coord,
              "unplaceable_rows": n_none, "exact_duplicates": n_dup, "reused_ids": n_same,
              "sweref_tm_rows": int((tm & (source == "coordinates")).sum()),
              "cancelled": int((status == "Avbruten").sum()),
              "ongoing": int(ongoing.sum()), "control_areas": int(control.sum()),
              "early_areas": int(early.sum()), "address_styles": {
                  s: int((styles == s).sum()) for s, _ in ADDRESS_STYLES}}
    return counts, lighting


def _write_csv(path: Path, header: list[str], rows: list[list[str]], *, encoding: str,
               bom: bool = False) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode(encoding))


def _survey(folder: Path, areas: gpd.GeoDataFrame, lighting: dict[str, tuple[str, int]],
            rng: np.random.Generator) -> int:
    """Write ``trygghetsmatning.csv`` (all areas, 4 waves, then the city's total row)."""
    lines = []
    total = {w: [0, 0] for w in WAVES}
    for upper in sorted(areas["name"], key=survey_name):
        level = rng.uniform(0.10, 0.35)
        base_n = rng.uniform(150, 600) if rng.random() > 0.04 else rng.uniform(8, 40)
        cohort = lighting.get(upper, ("", 9999))[1]
        for w in WAVES:
            p = level + TREND[w] + rng.normal(0, 0.03) + (LIGHTING_EFFECT if w >= cohort else 0)
            p = float(np.clip(p, 0.03, 0.6))
            n = max(int(round(base_n * rng.uniform(0.85, 1.1))), 5)
            k = int(rng.binomial(n, p))
            total[w][0] += k
            total[w][1] += n
            lines.append([survey_name(upper), str(w), f"{100 * k / n:.1f}".replace(".", ","),
                          str(n)])
    for w, (k, n) in total.items():
        lines.append(["Stockholms stad", str(w), f"{100 * k / n:.1f}".replace(".", ","), str(n)])
    _write_csv(folder / "trygghetsmatning.csv", SURVEY_HEADER, lines, encoding="utf-8",
               bom=True)
    return len(lines)


def _incidents(folder: Path, areas: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> int:
    """Write ``handelser.csv``: 70 % spread over the areas, 30 % in 40 hot spots."""
    polys = areas.geometry.to_numpy()
    n_hot = int(0.3 * n)
    n_bg = n - n_hot
    w = rng.lognormal(0.0, 0.8, len(areas))
    per = rng.multinomial(n_bg, w / w.sum())
    parts = [points_in(polys[a], int(k), rng) for a, k in enumerate(per) if k]
    union = shapely.union_all(polys)
    shapely.prepare(union)
    hot_areas = rng.choice(len(areas), 40, replace=False)
    centres = np.vstack([points_in(polys[a], 1, rng) for a in hot_areas])
    per_hot = rng.multinomial(n_hot, np.full(40, 1 / 40))
    for c, k in zip(centres, per_hot, strict=True):
        got: list[np.ndarray] = []
        have = 0
        while have < k:
            pts = rng.normal(c, 150.0, size=(int(k - have) * 2 + 8, 2))
            pts = pts[shapely.contains_xy(union, pts[:, 0], pts[:, 1])]
            got.append(pts)
            have += len(pts)
        parts.append(np.vstack(got)[:k])
    xy = np.vstack(parts)
    xy = xy[rng.permutation(len(xy))]
    day0 = np.datetime64("2014-01-01")
    days = rng.integers(0, (np.datetime64("2024-12-31") - day0).astype(int), len(xy))
    frame = pd.DataFrame({
        "Ärendenummer": [f"H{k + 1:07d}" for k in range(len(xy))],
        "Datum": (day0 + days.astype("timedelta64[D]")).astype(str),
        "Kategori": rng.choice(CATEGORIES, len(xy), p=[.3, .15, .05, .2, .15, .1, .05]),
        "X": np.round(xy[:, 0], 1), "Y": np.round(xy[:, 1], 1)})
    frame.to_csv(folder / "handelser.csv", sep=";", decimal=",", float_format="%.1f",
                 index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return len(frame)


_CONFIG = """# County-scale benchmark case (seed {seed}), built by benchmarks/county.py.
# The area layer and the OSM extract are read where they lie in ../shared/data.

[project]
name = "Stockholm: länsskala, {rows} investeringar"
language = "sv"
crs = "EPSG:3011"

[areas]
path = "{areas}"
name_column = "name"

[register]
path = "investeringar.csv"

[gazetteer]
path = "{osm}"

[survey]
path = "trygghetsmatning.csv"
indicator = "{indicator}"
min_n = {min_n}
scale = "percent"

[incidents]
path = "handelser.csv"
crs = "EPSG:3011"

[analysis]
waves = [{waves}]
wave_month = {month}
wave_day = {day}

[output]
folder = "resultat"
"""


def build_case(folder: Path, *, rows: int, incidents: int, seed: int = 17,
               data: Path = DATA) -> Case:
    """Write the county case into ``folder`` (reused when already built with the same sizes)."""
    need_shared(data)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "case.json"
    key = {"rows": rows, "incidents": incidents, "seed": seed, "version": 1}
    if manifest.is_file():
        old = json.loads(manifest.read_text(encoding="utf-8"))
        if old.get("key") == key:
            return Case(folder, folder / "projekt.toml", old["counts"])
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    areas = _read_areas(data)
    addr = _addresses(data, areas)
    counts, lighting = _register(folder, areas, addr, rows, rng)
    counts["survey_rows"] = _survey(folder, areas, lighting, rng)
    counts["incidents"] = _incidents(folder, areas, incidents, rng)
    counts["areas"] = len(areas)
    counts["osm_addresses_used"] = len(addr)
    counts["lighting_areas"] = len(lighting)
    (folder / "projekt.toml").write_text(_CONFIG.format(
        seed=seed, rows=f"{rows:,}".replace(",", " "),
        areas=(data / AREAS_REL).resolve().as_posix(), osm=(data / OSM_REL).resolve().as_posix(),
        indicator=INDICATOR, min_n=MIN_N, waves=", ".join(map(str, WAVES)), month=WAVE_MONTH,
        day=WAVE_DAY), encoding="utf-8")
    counts["generate_seconds"] = round(time.perf_counter() - t0, 1)
    counts["input_mb"] = {p.name: round(p.stat().st_size / MB, 2) for p in sorted(
        folder.glob("*.csv"))}
    manifest.write_text(json.dumps({"key": key, "counts": counts}, ensure_ascii=False,
                                   indent=1), encoding="utf-8")
    return Case(folder, folder / "projekt.toml", counts)


# --------------------------------------------------------------------------- measurement


class _Sampler:
    """RSS of this process and its children, sampled every 50 ms in a thread."""

    def __init__(self) -> None:
        self.proc = psutil.Process()
        self.now = 0
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def rss(self) -> int:
        total = self.proc.memory_info().rss
        for c in self.proc.children(recursive=True):
            try:
                total += c.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.now = self.rss()
            self.peak = max(self.peak, self.now)
            time.sleep(0.05)

    def start(self) -> None:
        self.now = self.peak = self.rss()
        self._t.start()

    def stop(self) -> None:
        self._stop.set()
        self._t.join()


class StageClock:
    """Own time (nested stages taken out), calls and peak RSS per stage."""

    def __init__(self, sampler: _Sampler, log: Path | None = None) -> None:
        self.sampler = sampler
        self.log = log  # one line per finished call, so a run stopped early still tells
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.order: list[str] = []
        self._stack: list[list[float]] = []  # [start, child seconds, cpu start, child cpu]

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as ``name`` (its own time: nested stages are taken out)."""
        if name not in self.seconds:
            self.order.append(name)
            self.seconds[name], self.calls[name], self.peak[name] = 0.0, 0, 0
            self.cpu[name] = 0.0
        outer_peak = self.sampler.peak
        self.sampler.peak = self.sampler.now
        self._stack.append([time.perf_counter(), 0.0, time.process_time(), 0.0])
        try:
            yield
        finally:
            t0, child, c0, child_cpu = self._stack.pop()
            took = time.perf_counter() - t0
            cpu = time.process_time() - c0
            self.seconds[name] += took - child
            self.cpu[name] += cpu - child_cpu
            self.calls[name] += 1
            self.peak[name] = max(self.peak[name], self.sampler.peak, self.sampler.rss())
            self.sampler.peak = max(outer_peak, self.sampler.peak)
            if self._stack:
                self._stack[-1][1] += took
                self._stack[-1][3] += cpu
            if self.log is not None:
                with self.log.open("a", encoding="utf-8") as f:
                    f.write(f"{time.strftime('%H:%M:%S')} {name}: {took - child:.1f} s own, "
                            f"{took:.1f} s with nested, CPU {cpu - child_cpu:.1f} s own, "
                            f"RSS {self.sampler.now / 1e9:.2f} GB, "
                            f"load {os.getloadavg()[0]:.1f}\n")

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` timed as the stage ``name``."""
        @wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.stage(name):
                return fn(*args, **kwargs)
        return timed


#: module global -> stage label: names trygg_geo.pipeline (or the helpers it delegates the
#: reading to) looks up at call time. A name a module does not have is skipped, so the timing
#: follows the pipeline as it changes.
PIPELINE_STAGES = {
    "read_areas": "areas: read",
    "project_areas": "areas: read",
    "read_register": "register: read",
    "_geocode": "geocode: gazetteer from OSM + checks",
    "geocode_register": "geocode: register rows",
    "reconcile_districts": "overlay: investments' districts",
    "require_inside": "checks: points inside the areas",
    "read_survey": "survey: read",
    "project_panel": "survey: panel + name join",
    "survey_panel": "survey: panel + name join",
    "check_waves": "survey: panel + name join",
    "suppressed_cells": "survey: panel + name join",
    "survey_cells": "survey: panel + name join",
    "assign_roles": "overlay: design (roles, investment -> area)",
    "between_district_variance": "effects: district x wave variance",
    "evaluate_effects": "effects: estimate",
    "area_change": "effects: per-area change",
    "publishable_area_values": "effects: per-area change",
    "read_incidents": "incidents: read",
    "hot_spots": "hot spots (Gi*)",
    "kernel_density": "density: kernel",
    "build_lagesbild": "lägesbild",
    "catalogue_layers": "GeoPackage: tables",
    "write_geopackage": "GeoPackage: write",
    "build_map": "map: build",
    "save_map": "map: save",
    "write_report": "report (md, html, pdf)",
    "dark_paths": "lägesbild: dark paths",
    "read_reports": "lägesbild: resident reports",
    "repeated_places": "lägesbild: resident reports",
    "emerging_hot_spots": "lägesbild: hot spots over time",
    "rank_places": "lägesbild: ranking",
    "render_pdf": "report: PDF (WeasyPrint)",
    "render_html": "report: HTML",
}
STAGE_MODULES = ("trygg_geo.pipeline", "trygg_geo._inputs", "trygg_geo.lagesbild",
                 "trygg_geo.report")


def run_pipeline(config: Path, *, profile: Path | None = None) -> dict[str, Any]:
    """Run :func:`trygg_geo.run` on ``config`` with every stage timed; return the figures."""
    t_import = time.perf_counter()
    import trygg_geo
    from trygg_geo._outputs import OutputSet
    from trygg_geo.density import DensityRaster
    from trygg_geo.hotspots import HotSpotResult
    from trygg_geo.results import Results
    t_import = time.perf_counter() - t_import

    sampler = _Sampler()
    sampler.start()
    log = config.parent / "stages.log"
    log.write_text("", encoding="utf-8")
    clock = StageClock(sampler, log)
    for mod_name in STAGE_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        for name, label in PIPELINE_STAGES.items():
            if callable(getattr(mod, name, None)):
                setattr(mod, name, clock.wrap(label, getattr(mod, name)))
    methods = ((Results, "tables", "GeoPackage: tables"),
               (Results, "investments_with_effects", "map: investments with effects"),
               (Results, "hot_and_cold_spots", "map: investments with effects"),
               (HotSpotResult, "places", "lägesbild: hot-spot places"),
               (DensityRaster, "to_geotiff", "density: GeoTIFF"),
               (OutputSet, "commit", "outputs: commit"))
    for klass, meth, label in methods:
        setattr(klass, meth, clock.wrap(label, getattr(klass, meth)))
    marks: list[tuple[str, float]] = []
    load0, cpu0 = os.getloadavg(), psutil.Process().cpu_times()
    n_warn = 0
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if prof:
            prof.enable()
        res = trygg_geo.run(config, progress=lambda m: marks.append(
            (m, time.perf_counter() - t0)))
        if prof:
            prof.disable()
        n_warn = len(caught)
    total = time.perf_counter() - t0
    cpu1, load1 = psutil.Process().cpu_times(), os.getloadavg()
    sampler.stop()
    if prof and profile:
        prof.dump_stats(str(profile))
    out = Path(res.paths.get("map", config.parent / "resultat" / "karta.html")).parent
    sizes = {p.name: p.stat().st_size for p in sorted(out.iterdir()) if p.is_file()}
    stages = [{"stage": s, "seconds": clock.seconds[s], "cpu": clock.cpu[s],
               "calls": clock.calls[s],
               "peak_rss": clock.peak[s]} for s in clock.order]
    return {
        "total_seconds": total, "import_seconds": t_import,
        "cpu_seconds": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
        "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "sampled_peak": sampler.peak, "load_before": load0, "load_after": load1,
        "stages": stages, "progress": marks, "sizes": sizes, "output": str(out),
        "warnings": n_warn, "placed": len(res.placed), "unplaced": len(res.unplaced),
        "register_rows": len(res.register), "effect_rows": len(res.effects),
        "hotspot_cells": 0 if res.hotspots is None else len(res.hotspots),
        "roles": res.roles["role"].value_counts().to_dict(),
    }


PAINT_JS = """() => new Promise(resolve => {
  const nav = performance.getEntriesByType('navigation')[0];
  const sel = '.leaflet-marker-icon, .marker-cluster, path.leaflet-interactive, ' +
              'canvas.leaflet-zoom-animated, .leaflet-tile-loaded, .leaflet-image-layer';
  const t0 = performance.now();
  const look = () => {
    const el = document.querySelector(sel);
    if (el || performance.now() - t0 > 15000) {
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
        resolve({load: nav.loadEventEnd, dcl: nav.domContentLoadedEventEnd,
                 fcp: fcp ? fcp.startTime : NaN, drawn: el ? performance.now() : NaN,
                 what: el ? el.className.baseVal || el.className : 'nothing'});
      }));
    } else { requestAnimationFrame(look); }
  };
  look();
})"""


def first_paint(path: Path, repeats: int = 3) -> dict[str, Any]:
    """Load ``path`` in headless Chromium (network blocked): load event and first layer drawn.

    Returns the first (cold) load and the median of ``repeats`` loads, in milliseconds.
    """
    from playwright.sync_api import sync_playwright

    loads: list[dict[str, Any]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                ("file:", "data:")) else r.abort())
            t0 = time.perf_counter()
            page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
            t = page.evaluate(PAINT_JS)
            t["wall"] = (time.perf_counter() - t0) * 1000
            loads.append(t)
            page.close()
        browser.close()
    med = {k: float(np.median([x[k] for x in loads])) for k in ("load", "drawn", "fcp", "wall")}
    return {"cold": loads[0], "median": med, "what": loads[0]["what"]}


# --------------------------------------------------------------------------- report


def _fmt_mb(b: float) -> str:
    return f"{b / MB:,.1f}" if b >= 0.1 * MB else f"{b / MB:.2f}"


def render(case: Case, r: dict[str, Any], paint: dict[str, Any] | None, *, label: str) -> str:
    """The results as Markdown: the stage table, the totals, the outputs and the paint."""
    gb = r["maxrss"] / 1e9
    la, lb = r["load_before"], r["load_after"]
    lines = [
        f"# County scale ({label})", "",
        f"`python benchmarks/county.py --rows {case.counts['register_rows']} --incidents "
        f"{case.counts['incidents']}` on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores shared with other work "
        f"(load average {la[0]:.1f} / {la[1]:.1f} before, {lb[0]:.1f} / {lb[1]:.1f} after, "
        f"1 / 5 min). The run took **{r['total_seconds']:.0f} s** wall and "
        f"{r['cpu_seconds']:.0f} s CPU (CPU/wall {r['cpu_seconds'] / r['total_seconds']:.2f}), "
        f"peak memory (max RSS) **{gb:.2f} GB**; importing the package {r['import_seconds']:.1f} s"
        " more.", "",
        f"- Case: {case.counts['areas']} stadsdelar; {case.counts['register_rows']:,} register "
        f"rows ({case.counts['address_rows']:,} OSM addresses in "
        f"{len(case.counts['address_styles'])} styles, {case.counts['coordinate_rows']:,} "
        f"coordinates ({case.counts['sweref_tm_rows']:,} in SWEREF 99 TM), "
        f"{case.counts['unplaceable_rows']:,} unplaceable, "
        f"{case.counts['exact_duplicates']:,} exact duplicates, {case.counts['reused_ids']:,} "
        f"reused ids, {case.counts['cancelled']:,} cancelled, {case.counts['ongoing']:,} "
        f"ongoing); {case.counts['survey_rows']:,} survey rows (4 waves); "
        f"{case.counts['incidents']:,} incidents. Inputs: "
        + ", ".join(f"{k} {v} MB" for k, v in case.counts["input_mb"].items()) + ".",
        f"- Result: {r['placed']:,} placed, {r['unplaced']:,} unplaced; roles "
        + ", ".join(f"{k} {v}" for k, v in sorted(r["roles"].items()))
        + f"; {r['effect_rows']:,} effect rows; {r['hotspot_cells']:,} hot-spot cells; "
        f"{r['warnings']} warnings.", "",
        "| stage | wall s | CPU s | share of wall | calls | peak RSS in stage (GB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    accounted = cpu_accounted = 0.0
    for s in sorted(r["stages"], key=lambda s: -s["seconds"]):
        accounted += s["seconds"]
        cpu_accounted += s.get("cpu", np.nan)
        lines.append(f"| {s['stage']} | {s['seconds']:.1f} | {s.get('cpu', np.nan):.1f} | "
                     f"{100 * s['seconds'] / r['total_seconds']:.0f} % | {s['calls']} | "
                     f"{s['peak_rss'] / 1e9:.2f} |")
    rest = r["total_seconds"] - accounted
    lines += [f"| other (between the timed calls) | {rest:.1f} | "
              f"{r['cpu_seconds'] - cpu_accounted:.1f} | "
              f"{100 * rest / r['total_seconds']:.0f} % | | |",
              f"| **end to end** | **{r['total_seconds']:.1f}** | **{r['cpu_seconds']:.1f}** "
              f"| 100 % | | **{gb:.2f}** |", "",
              "| output | MB |", "|---|---:|"]
    lines += [f"| {name} | {_fmt_mb(size)} |" for name, size in r["sizes"].items()]
    if paint is not None:
        c, m = paint["cold"], paint["median"]
        lines += ["", f"First paint of `karta.html` in headless Chromium (network blocked, "
                  f"1366x900): `load` event {c['load']:.0f} ms cold, {m['load']:.0f} ms median "
                  f"of 3; first layer drawn ({paint['what']}) {c['drawn']:.0f} ms cold, "
                  f"{m['drawn']:.0f} ms median; "
                  + (f"first contentful paint {m['fcp']:.0f} ms." if np.isfinite(m["fcp"]) else
                     "headless Chromium gave no first-contentful-paint entry.")]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Build the case (or reuse it), run the pipeline in a child process, measure the map."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=Path("/work/notes/county/full"),
                    help="the project folder to build (never inside the repository)")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--profile", action="store_true", help="cProfile the run (out/profile.pstats)")
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--generate-only", action="store_true", help="build the case and stop")
    ap.add_argument("--record", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--code", type=Path, default=None,
                    help="run the trygg_geo package found in this folder (default: this checkout)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    out = args.out.resolve()
    if args.child:  # the pipeline alone, in a fresh process
        r = run_pipeline(out / "projekt.toml",
                         profile=out / "profile.pstats" if args.profile else None)
        r["code"] = str(CODE)
        (out / "timing.json").write_text(json.dumps(r, indent=1), encoding="utf-8")
        return
    if out.is_relative_to(ROOT):
        sys.exit(f"county benchmark: --out {out} lies inside the repository; write the "
                 "generated case elsewhere, e.g. /work/notes/county/full")
    need_shared(args.data)
    case = build_case(out, rows=args.rows, incidents=args.incidents, seed=args.seed,
                      data=args.data)
    print(f"case ready in {out} ({case.counts.get('generate_seconds', 0)} s to generate)",
          flush=True)
    if args.generate_only:
        return
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--out", str(out)]
    env = dict(os.environ)
    if args.code is not None:
        env["COUNTY_CODE"] = str(args.code.resolve())
    subprocess.run(cmd + (["--profile"] if args.profile else []), check=True, env=env)
    r = json.loads((out / "timing.json").read_text(encoding="utf-8"))
    paint = None
    if not args.no_browser:
        paint = first_paint(Path(r["output"]) / "karta.html")
    text = render(case, r, paint, label=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(text)
    (out / "county.md").write_text(text, encoding="utf-8")
    if args.profile:
        st = pstats.Stats(str(out / "profile.pstats"))
        st.sort_stats("cumulative").print_stats(45)
    if args.record:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
