"""The demo city: deterministic, realistic, and read back by the real readers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import osmnx as ox
import pytest

from trygg_geo.demo import PLANTED_EFFECTS, WAVES, make_demo_city
from trygg_geo.io import read_incidents, read_register


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory):
    return make_demo_city(tmp_path_factory.mktemp("demo"), seed=7)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(city, tmp_path: Path) -> None:
    again = make_demo_city(tmp_path / "again", seed=7)
    assert _digest(city.folder) == _digest(again.folder)
    other = make_demo_city(tmp_path / "other", seed=8)
    assert _digest(other.folder)["investeringar.csv"] != _digest(city.folder)["investeringar.csv"]


def test_districts_and_groups(city) -> None:
    areas = gpd.read_file(city.areas)
    assert areas.crs.to_epsg() == 3006
    assert len(areas) >= 30 and areas["sdid"].is_unique
    assert areas["stadsdelsomrade"].nunique() >= 5
    assert areas.is_valid.all()
    # a tessellation: no overlaps, no gaps inside the city
    assert areas.geometry.union_all().area == pytest.approx(areas.area.sum(), rel=1e-6)


def test_osm_is_read_by_osmnx(city) -> None:
    feats = ox.features_from_xml(city.osm, tags={"addr:housenumber": True, "highway": "street_lamp",
                                                 "leisure": "park", "amenity": "school"})
    addr = feats[feats["addr:housenumber"].notna()]
    assert len(addr) > 5000
    assert {"addr:street", "addr:postcode", "addr:city"} <= set(addr.columns)
    assert (feats["highway"] == "street_lamp").sum() > 100
    assert (feats["leisure"] == "park").sum() == 42
    G = ox.graph_from_xml(city.osm)
    names: set[str] = set()
    for _, _, d in G.edges(data=True):  # simplified edges may carry a list of names
        n = d.get("name")
        names.update(n if isinstance(n, list) else [n] if n else [])
    assert len(names) > 200  # named streets


def test_register_is_messy_but_complete(city) -> None:
    reg = read_register(city.register)
    truth = city.load_truth()
    assert len(reg) == truth["n_register_rows"]
    assert [t["source_row"] for t in truth["register"]] == reg["source_row"].tolist()
    kinds = set(reg["kind"])
    assert {"belysning", "slyrojning", "kamerabevakning", "klottersanering", "utemiljo"} <= kinds
    damage = {t["damage"] for t in truth["register"]}
    assert {"typo", "abbreviation", "no_number", "place_name", "intersection", "empty_address",
            "duplicate_row"} <= damage
    assert reg["x"].notna().sum() >= 2  # some rows carry coordinates
    assert reg["granted_sek"].notna().all()
    assert (reg["completed"].notna()).sum() > 30


def test_survey_waves_and_respondents(city) -> None:
    import pandas as pd

    s = pd.read_csv(city.survey, sep=";", decimal=",", encoding="utf-8-sig")
    assert sorted(s["År"].unique()) == list(WAVES)
    assert s["Antal svarande"].between(50, 300).all()
    assert set(s["Indikator"]) == {"otrygg_kvall", "oro_brott", "avstar_aktivitet"}


def test_incidents_and_truth(city) -> None:
    inc = read_incidents(city.incidents, crs="EPSG:3006")
    truth = city.load_truth()
    assert len(inc) == 4000
    assert truth["planted_effects"] == PLANTED_EFFECTS
    assert len(truth["hot_spot_centres"]) == 4
    treated = {d for ds in truth["treated_districts"].values() for d in ds}
    assert treated.isdisjoint(truth["control_districts"])
