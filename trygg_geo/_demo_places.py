"""The demo city's unsafe-places inputs: footpaths through the parks and resident reports.

Kept apart from :mod:`trygg_geo.demo` (which draws the register, the survey and the incidents
from one random stream): the footpaths are deterministic, and the reports come from their own
stream of the seed, so adding them changed none of the demo's other files.

- :func:`footways`: one footway across every park, a third of them tagged ``lit=yes``, a third
  ``lit=no`` and a third untagged (dark unless a street lamp is near), so the demo has
  mörka stråk;
- :func:`resident_reports`: ``tyck_till.csv``, reports as Stockholm's "Tyck till" app collects
  them: most near the incident hot spots and the dark footways, some spread over the city;
  Swedish coordinate order (``X`` = northing), a few rows with an address instead, one row
  with neither (unplaced, with its reason), and free text with markup that must be escaped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon

__all__ = ["REPORT_CATEGORIES", "footways", "resident_reports"]

#: Categories of the demo's resident reports.
REPORT_CATEGORIES = ("Belysning saknas", "Buskage skymmer sikten", "Nedskräpning",
                     "Otrygg plats")
_LIT = ("yes", None, "no")  # footway i gets _LIT[i % 3]
_TEXTS = ("Mörkt på kvällen", "Svårt att se vem som kommer", "Undviker platsen efter 20",
          "Skräp och krossat glas", "Trasig lampa sedan i höstas",
          "Mörkt <b>här</b> & ingen belysning <script>alert(1)</script>")


def footways(parks: list[tuple[str, Polygon]]) -> list[tuple[LineString, dict[str, str]]]:
    """One footway across each park (inset diagonal), with its OSM tags."""
    out = []
    for i, (name, poly) in enumerate(parks):
        x0, y0, x1, y1 = poly.bounds
        line = LineString([(x0 + 0.15 * (x1 - x0), y0 + 0.15 * (y1 - y0)),
                           (x0 + 0.5 * (x1 - x0), y0 + 0.55 * (y1 - y0)),
                           (x0 + 0.85 * (x1 - x0), y0 + 0.85 * (y1 - y0))])
        line = shapely.intersection(line, poly)
        if line.is_empty or line.geom_type != "LineString":
            continue
        tags = {"highway": "footway", "name": f"Gångväg i {name}"}
        if _LIT[i % 3] is not None:
            tags["lit"] = str(_LIT[i % 3])
        out.append((line, tags))
    return out


def resident_reports(
    rng: np.random.Generator, polys: list[Polygon], hot_centres: list[tuple[float, float]],
    paths: list[tuple[LineString, dict[str, str]]], addresses: list[tuple[str, int]],
    *, n: int = 180,
) -> list[str]:
    """The lines of ``tyck_till.csv`` (semicolon-separated, Swedish X/Y order)."""
    dark = [line for line, tags in paths if tags.get("lit") != "yes"]
    pts = []
    n_hot, n_dark = int(0.4 * n), int(0.3 * n) if dark else 0
    for k in range(n_hot):
        cx, cy = hot_centres[k % len(hot_centres)]
        pts.append((rng.normal(cx, 90), rng.normal(cy, 90)))
    for k in range(n_dark):
        line = dark[k % len(dark)]
        p = line.interpolate(float(rng.uniform(0, line.length)))
        pts.append((p.x + rng.normal(0, 10), p.y + rng.normal(0, 10)))
    while len(pts) < n:
        poly = polys[int(rng.integers(len(polys)))]
        x0, y0, x1, y1 = poly.bounds
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if poly.contains(shapely.Point(x, y)):
            pts.append((x, y))
    start = pd.Timestamp(2021, 1, 1)
    days = rng.integers(0, (pd.Timestamp(2024, 8, 31) - start).days, n)
    lines = ["Ärende;Inkommet;Kategori;Beskrivning;Adress;X;Y;Koordinatsystem"]
    for i, (x, y) in enumerate(pts):
        cat = REPORT_CATEGORIES[0] if i < n_hot + n_dark and i % 2 else \
            REPORT_CATEGORIES[int(rng.integers(len(REPORT_CATEGORIES)))]
        text = _TEXTS[int(rng.integers(len(_TEXTS)))]
        date = (start + pd.Timedelta(days=int(days[i]))).strftime("%Y-%m-%d")
        addr = coords = ""
        if i % 40 == 7 and addresses:  # a few reports name an address instead
            street, number = addresses[int(rng.integers(len(addresses)))]
            addr = f"{street} {number}"
        else:  # Swedish order: X is the northing
            coords = f"{y:.1f};{x:.1f};SWEREF 99 TM"
        lines.append(f"TT-{i + 1:04d};{date};{cat};{text};{addr};{coords or ';;'}")
    lines.append(f"TT-{n + 1:04d};2024-06-01;Otrygg plats;Ingen plats angiven;;;;")
    return lines
