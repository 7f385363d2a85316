"""Benchmark: reading a 1,000,000-row incident CSV (issue 17, the county's "incidents: read").

Generates an incident file as the county case writes it (``Ärendenummer;Datum;Kategori;X;Y``,
UTF-8 with BOM, CRLF, SWEREF 99 18 00 with a decimal comma, dates 2014-2024), with a small share
of awkward but readable cells (dates as ``15/3 2021``, ``mars 2021``, ``20210315`` or
unreadable, blank categories, coordinates with a space between thousands or a decimal point),
then times :func:`trygg_geo.read_incidents` in one process on the same file:

- the vectorised path (plain CSV split a column at a time, numbers and dates parsed per
  distinct text a column at a time);
- the per-record, per-cell path (``_tabular.FAST_PATH = False``: the csv module and the per-cell
  parsers), the baseline, and a check that both give identical GeoDataFrames (every column,
  geometry as WKB, CRS, order) and the same warnings;
- ``pandas.read_csv`` of the same file as text (``dtype=str``), the floor.

Usage::

    python benchmarks/bench_incidents.py --data /work/notes/wt17data          # 1,000,000 rows
    python benchmarks/bench_incidents.py --data DIR --rows 100000 --out /dev/stdout

The generated file is kept in ``--data`` (outside the repository) and reused. Figures go to
``benchmarks/results/incidents.md``. It records CPU time (the cores are shared), not a pass/fail.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from trygg_geo import _tabular
from trygg_geo.io import read_incidents

HERE = Path(__file__).resolve().parent
CATEGORIES = ("skadegörelse", "misshandel", "rån", "ordningsstörning", "narkotika",
              "otrygg plats (synpunkt)", "bilbrand")
MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
          "september", "oktober", "november", "december")


def make_incidents(n: int, path: Path, *, seed: int = 17, odd_share: float = 0.01) -> Path:
    """Write ``n`` incidents to ``path`` (the county case's format) and return the path."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(140_000, 165_000, n), 1)
    y = np.round(rng.uniform(6_570_000, 6_595_000, n), 1)
    days = pd.Timestamp("2014-01-01") + pd.to_timedelta(rng.integers(0, 4017, n), unit="D")
    dates = np.asarray(days.strftime("%Y-%m-%d"), dtype=object)
    xs = np.char.replace(np.char.mod("%.1f", x), ".", ",").astype(object)
    ys = np.char.replace(np.char.mod("%.1f", y), ".", ",").astype(object)
    cats = np.asarray(rng.choice(CATEGORIES, n, p=[.3, .15, .05, .2, .15, .1, .05]), dtype=object)
    odd = np.flatnonzero(rng.random(n) < odd_share)
    for i, k in zip(odd.tolist(), rng.integers(0, 8, len(odd)).tolist(), strict=True):
        d = days[i]
        if k == 0:
            dates[i] = f"{d.day}/{d.month} {d.year}"
        elif k == 1:
            dates[i] = f"{MONTHS[d.month - 1]} {d.year}"
        elif k == 2:
            dates[i] = d.strftime("%Y%m%d")
        elif k == 3:
            dates[i] = ("igår", "vet ej", "2300-01-01")[i % 3]
        elif k == 4:
            cats[i] = ""
        elif k == 5:
            xs[i] = f"{x[i]:,.1f}".replace(",", " ").replace(".", ",")
        elif k == 6:
            ys[i] = f"{y[i]:.2f}"
        else:
            dates[i] = ""
    ids = np.char.add("H", np.char.zfill(np.arange(1, n + 1).astype(str), 7)).astype(object)
    body = pd.DataFrame({"a": ids, "b": dates, "c": cats, "d": xs, "e": ys})
    lines = body["a"] + ";" + body["b"] + ";" + body["c"] + ";" + body["d"] + ";" + body["e"]
    text = "Ärendenummer;Datum;Kategori;X;Y\r\n" + "\r\n".join(lines.tolist()) + "\r\n"
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, object, list[str]]:
    """The least CPU time of ``repeat`` calls (the machine is shared), the result, warnings."""
    best, out, told = float("inf"), None, []
    for _ in range(repeat):
        t0 = time.process_time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn()
        best = min(best, time.process_time() - t0)
        told = [f"{w.filename}:{w.lineno}: {w.message}" for w in caught]
    return best, out, told


def main() -> None:
    """Generate the file, time both paths and write ``results/incidents.md``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder for the generated CSV")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "incidents.md")
    args = ap.parse_args()
    n = args.rows
    args.data.mkdir(parents=True, exist_ok=True)
    path = args.data / f"handelser_{n}.csv"
    if not path.is_file():
        make_incidents(n, path)
    size_mb = path.stat().st_size / 1e6

    def read() -> gpd.GeoDataFrame:
        return read_incidents(path, crs="EPSG:3011")

    t_floor, _, _ = _timed(lambda: pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig",
                                               keep_default_na=False), args.repeat)
    t_fast, fast, fast_warn = _timed(read, args.repeat)
    _tabular.FAST_PATH = False
    try:
        t_cell, cell, cell_warn = _timed(read, 1)
    finally:
        _tabular.FAST_PATH = True
    assert isinstance(fast, gpd.GeoDataFrame) and isinstance(cell, gpd.GeoDataFrame)
    pd.testing.assert_frame_equal(pd.DataFrame(fast.drop(columns="geometry")),
                                  pd.DataFrame(cell.drop(columns="geometry")))
    same_geometry = (fast.crs == cell.crs
                     and fast.geometry.to_wkb().tolist() == cell.geometry.to_wkb().tolist())
    same_warnings = fast_warn == cell_warn
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        "# Incident reader (issue 17, county stage \"incidents: read\")",
        "",
        f"`python benchmarks/bench_incidents.py --data DIR --rows {n}` on {platform.machine()}, "
        f"Python {platform.python_version()}, 2 cores shared with other jobs, "
        f"{pd.Timestamp.now():%Y-%m-%d}. A generated incident file of **{n:,} rows** "
        f"({size_mb:.1f} MB, UTF-8 with BOM, CRLF, `;`, the county case's columns "
        "`Ärendenummer;Datum;Kategori;X;Y`, SWEREF 99 18 00 with a decimal comma; about 1 % "
        "awkward cells: dates in other forms or unreadable, blank categories, thousands "
        f"spaces or a decimal point in coordinates; {len(fast_warn)} warning(s)). CPU time of "
        f"the process, best of {args.repeat} runs; the per-cell baseline is the same code with "
        "`_tabular.FAST_PATH = False` (csv module, per-cell parsers), run once in the same "
        "process on the same file.",
        "",
        "| path | CPU time (s) | rows/s | vs per-cell |",
        "|---|---|---|---|",
        f"| `read_incidents`, vectorised | {t_fast:.2f} | {n / t_fast:,.0f} | "
        f"{t_cell / t_fast:.1f}x |",
        f"| `read_incidents`, per-record and per-cell (baseline) | {t_cell:.2f} | "
        f"{n / t_cell:,.0f} | 1.0x |",
        f"| `pandas.read_csv(dtype=str)` (floor: no checks, no parsing) | {t_floor:.2f} | "
        f"{n / t_floor:,.0f} | {t_cell / t_floor:.1f}x |",
        "",
        "Both paths give identical GeoDataFrames (`assert_frame_equal` on the columns, "
        + ("geometry equal as WKB, same CRS" if same_geometry else "**different geometry** (a bug)")
        + ") and "
        + ("the same warnings, in the same order and from the same line."
           if same_warnings else "**different warnings** (a bug)."),
        f"`read_incidents` takes {t_fast / t_floor:.1f}x the time of `pandas.read_csv` of the "
        f"same file. Peak memory (max RSS, the whole run): {peak:,.0f} MB.",
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    if not (same_warnings and same_geometry):
        raise SystemExit("the fast path and the per-cell path differ")


if __name__ == "__main__":
    main()
