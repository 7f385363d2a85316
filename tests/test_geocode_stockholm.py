"""Geocoding against a real OpenStreetMap extract of central Stockholm (../shared/data).

Thirty known address nodes are written as a register with realistic damage (typos,
abbreviations, missing numbers, wrong case, no diacritics, noise words, postcodes); each
placed row must lie within 1 m of its node (or on the right street, for street level), and
carry the method expected for its damage. The truth is read from the XML with ElementTree,
independently of the osmnx readers that build the gazetteer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from trygg_geo.geocode import Gazetteer, geocode_register
from trygg_geo.interventions import fold_text

pytestmark = pytest.mark.shared

OSM = "osm_stockholm/stockholm_norrmalm_ostermalm.osm"


@pytest.fixture(scope="module")
def osm_path(shared_data: Path) -> Path:
    return shared_data / OSM


@pytest.fixture(scope="module")
def gaz(osm_path: Path) -> Gazetteer:
    return Gazetteer.from_osm_xml(osm_path)


def _truth(osm_path: Path) -> pd.DataFrame:
    to_tm = Transformer.from_crs("EPSG:4326", "EPSG:3006", always_xy=True)
    rows = []
    for el in ET.parse(osm_path).getroot().iter("node"):
        tags = {t.get("k"): t.get("v") for t in el.iter("tag")}
        if "addr:street" in tags and "addr:housenumber" in tags:
            x, y = to_tm.transform(float(el.get("lon")), float(el.get("lat")))
            rows.append((tags["addr:street"], tags["addr:housenumber"], tags.get("addr:postcode"), x, y))
    return pd.DataFrame(rows, columns=["street", "housenumber", "postcode", "x", "y"])


def test_truth_has_the_documented_address_count(osm_path: Path) -> None:
    assert len(_truth(osm_path)) == 1006


def _damage(street: str, hn: str, postcode: str | None, k: int) -> tuple[str, set[str]]:
    """The k-th kind of damage; returns the text and the methods that may place it."""
    mid = len(street) // 2
    typo = street[:mid] + street[mid] + street[mid:]  # a doubled letter
    kind = k % 10
    if kind == 0:
        return f"{street} {hn}", {"exact"}
    if kind == 1:
        return f"{street.lower()} {hn.lower()}", {"normalised"}
    if kind == 2:
        return f"{street.upper()} {hn}", {"normalised"}
    if kind == 3:
        for full, abbr in (("gatan", "g."), ("vägen", "v."), ("plan", "pl.")):
            if street.endswith(full):
                return f"{street[: -len(full)]}{abbr} {hn}", {"normalised"}
        return f"{street.lower()} {hn}", {"normalised"}
    if kind == 4:
        return f"{typo} {hn}", {"fuzzy"}
    if kind == 5:
        folded = street.translate(str.maketrans("åäöéÅÄÖÉ", "aaoeAAOE"))
        return f"{folded} {hn}", {"normalised", "exact"}
    if kind == 6:
        return street, {"street"}
    if kind == 7:
        pc = f", {postcode} Stockholm" if postcode else ", Stockholm"
        return f"utanför {street} {hn}{pc}", {"normalised"}
    if kind == 8:
        m = re.fullmatch(r"(\d+)([A-Z])", hn)
        text = f"{street} {m.group(1)} {m.group(2).lower()}" if m else f"{street} nr {hn}"
        return text, {"normalised"}
    return f"{typo.lower()} {hn}", {"fuzzy"}


@pytest.fixture(scope="module")
def sample(osm_path: Path) -> pd.DataFrame:
    t = _truth(osm_path)
    t = t[t["housenumber"].str.fullmatch(r"\d+[A-Z]?") & (t["street"].str.len() >= 9)]
    t = t[~t.duplicated(["street", "housenumber"], keep=False)]
    # one address per street where possible, so that the sample spreads over the map
    rng = np.random.default_rng(7)
    t = t.iloc[rng.permutation(len(t))].drop_duplicates("street")
    assert len(t) >= 30
    return t.head(30).reset_index(drop=True)


def test_damaged_register_is_placed_within_one_metre(gaz: Gazetteer, sample: pd.DataFrame) -> None:
    texts, allowed = zip(*[_damage(r.street, r.housenumber, r.postcode, k)
                           for k, r in enumerate(sample.itertuples())], strict=True)
    n = len(sample)
    reg = pd.DataFrame({
        "source_row": np.arange(2, n + 2), "investment_id": [f"S-{i}" for i in range(n)],
        "name": pd.NA, "kind": "kamerabevakning", "kind_raw": "Kamera", "kind_recognised": True,
        "address": list(texts), "district": pd.NA, "board": pd.NA, "granted_sek": np.nan,
        "spent_sek": np.nan, "started": pd.NaT, "completed": pd.NaT, "x": np.nan, "y": np.nan,
        "crs": pd.NA, "wkt": pd.NA, "raw_text": list(texts),
    })
    res = geocode_register(reg, gaz)
    assert len(res.unplaced) == 0, res.unplaced[["address", "reason"]].to_string()
    assert len(res.placed) == n
    placed = res.placed.set_index("source_row")
    streets = gaz.streets.set_index("name").geometry
    for k, r in enumerate(sample.itertuples()):
        row = placed.loc[k + 2]
        assert row["geocode_method"] in allowed[k], (texts[k], row["geocode_method"], row["matched"])
        if "street" in allowed[k]:
            assert "street_level" in row["geocode_flag"]
            assert row["matched"] == r.street
            assert row.geometry.distance(streets[r.street]) < 1.0
        else:
            d = row.geometry.distance(Point(r.x, r.y))
            assert d < 1.0, (texts[k], row["matched"], d)
            assert fold_text(row["matched"]).startswith(fold_text(f"{r.street} {r.housenumber}"))


def test_intersection_and_lighting_span(gaz: Gazetteer) -> None:
    reg = pd.DataFrame({"source_row": [2, 3], "kind": ["kamerabevakning", "belysning"],
                        "address": ["korsningen Sveavägen/Kungsgatan",
                                    "Sveavägen mellan Kungsgatan och Tegnérgatan"]})
    res = geocode_register(reg, gaz)
    assert res.placed["geocode_method"].tolist() == ["intersection", "between"]
    streets = gaz.streets.set_index("name").geometry
    pt, line = res.placed.geometry.tolist()
    assert pt.distance(streets["Sveavägen"]) < 1.0 and pt.distance(streets["Kungsgatan"]) < 1.0
    # the span starts at Kungsgatan, ends at Tegnérgatan and runs along Sveavägen
    assert line.geom_type == "LineString"
    assert line.buffer(0.5).within(streets["Sveavägen"].buffer(1.0))
    ends = [Point(line.coords[0]), Point(line.coords[-1])]
    assert min(e.distance(streets["Kungsgatan"]) for e in ends) < 1.0
    assert min(e.distance(streets["Tegnérgatan"]) for e in ends) < 1.0
    assert 300 < line.length < 700
