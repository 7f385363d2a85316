"""The demo city: deterministic, realistic, and read back by the real readers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pytest

from trygg_geo.config import load_config
from trygg_geo.demo import (
    LARGE_SHOCK_MULTIPLE,
    PLANTED_EFFECTS,
    SHOCK_SD,
    WAVES,
    district_wave_shocks,
    make_demo_city,
)
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


def _cells(truth: dict, key: str) -> pd.Series:
    """facit.json's ``key`` (indicator -> area -> wave -> value) as one Series."""
    return pd.Series({(i, a, int(w)): v for i, areas in truth[key].items()
                      for a, waves in areas.items() for w, v in waves.items()}).sort_index()


def test_district_wave_shocks_have_the_planted_sd(city) -> None:
    """Every indicator, district and wave has its own shock, with SD 2 pp by default."""
    truth = city.load_truth()
    assert truth["shock_sd"] == SHOCK_SD == 0.02
    shocks, expected, true = (_cells(truth, k) for k in ("shocks", "expected_share", "true_share"))
    assert len(shocks) == 3 * 42 * len(WAVES)
    assert (true - (expected + shocks)).abs().max() < 2e-6  # true = expected + shock
    # 504 shocks: the SD of an SD estimate is about 0.001 here (heavier tails than normal)
    assert shocks.std() == pytest.approx(0.02, abs=0.004)
    assert abs(shocks.mean()) < 0.003
    # shocks are district x wave: not constant within a district, not shared by the districts
    otr = shocks.loc["otrygg_kvall"].unstack()
    assert otr.std(axis=1).min() > 0 and otr.std(axis=0).min() > 0.01
    # the occasional large local shocks are listed, 3-4 SD unless the share hit its bound
    large = truth["large_shocks"]
    assert 1 <= len(large) <= 30
    lo, hi = LARGE_SHOCK_MULTIPLE
    for r in large:
        assert shocks[(r["indicator"], r["area_id"], r["wave"])] == r["shock"]
        clipped = true[(r["indicator"], r["area_id"], r["wave"])] in (0.01, 0.95)
        assert clipped or lo * 0.02 - 1e-6 <= abs(r["shock"]) <= hi * 0.02 + 1e-6, r


def test_survey_is_drawn_around_the_shocked_true_share(city) -> None:
    """The observed shares scatter binomially around the true share (with its shock)."""
    truth = city.load_truth()
    s = pd.read_csv(city.survey, sep=";", decimal=",", encoding="utf-8-sig")
    s = s[s["Indikator"] == "otrygg_kvall"]
    p = np.array([truth["true_share"]["otrygg_kvall"][a][str(w)]
                  for a, w in zip(s["Områdes-id"], s["År"], strict=True)])
    e = np.array([truth["expected_share"]["otrygg_kvall"][a][str(w)]
                  for a, w in zip(s["Områdes-id"], s["År"], strict=True)])
    n = s["Antal svarande"].to_numpy()
    z = (s["Andel (%)"].to_numpy() / 100 - p) / np.sqrt(p * (1 - p) / n)
    z_expected = (s["Andel (%)"].to_numpy() / 100 - e) / np.sqrt(e * (1 - e) / n)
    assert abs(z.mean()) < 0.35 and 0.8 < z.std() < 1.2
    # around the expected share, the shocks add variance beyond sampling
    assert z_expected.std() > z.std() + 0.1


def test_shock_sd_scales_one_draw_and_zero_gives_none(city, tmp_path: Path) -> None:
    base = city.load_truth()
    none = make_demo_city(tmp_path / "none", seed=7, shock_sd=0.0).load_truth()
    assert (_cells(none, "shocks") == 0).all() and none["large_shocks"] == []
    assert _cells(none, "true_share").equals(_cells(none, "expected_share"))
    assert _cells(none, "expected_share").equals(_cells(base, "expected_share"))
    big = make_demo_city(tmp_path / "big", seed=7, shock_sd=0.04).load_truth()
    s2, s4 = _cells(base, "shocks"), _cells(big, "shocks")
    free = ~_cells(big, "true_share").isin([0.01, 0.95]) & ~_cells(base, "true_share").isin(
        [0.01, 0.95])
    np.testing.assert_allclose(s4[free], 2 * s2[free], atol=2e-6)  # same draw, twice the scale
    assert s4.std() == pytest.approx(0.04, abs=0.008)
    with pytest.raises(ValueError, match="shock_sd"):
        make_demo_city(tmp_path / "bad", seed=7, shock_sd=-0.01)


def test_district_wave_shocks_distribution() -> None:
    u = district_wave_shocks(np.random.default_rng(3), (400, 500), shock_sd=0.03)
    assert u.std() == pytest.approx(0.03, rel=0.01)
    assert abs(u.mean()) < 3e-4
    big = np.abs(u) > 3 * 0.03 - 1e-12
    # 2 % large shocks plus the normal part's own tail beyond 3 SD (about 0.06 %)
    assert 0.018 < big.mean() < 0.023
    assert np.abs(u).max() < 6 * 0.03  # large shocks stop at 4 SD; the normal tail goes a bit further
    assert not district_wave_shocks(np.random.default_rng(3), 10, shock_sd=0.0).any()


def test_config_says_the_survey_is_in_percent(city) -> None:
    """Shocks can take a small indicator below 1 %; the demo's config names the scale.

    Without it the reader refuses such rows as ambiguous (2 of 51 cities at 2 pp did).
    """
    assert load_config(city.config).survey.scale == "percent"
