"""Outputs scale with what a person reads, not with the register's rows (issue 17, point 3).

A demo city is run once (without writing); its register is then replicated to 20,000 rows
(distinct ids and source rows, points jittered by up to 150 m, the same areas and effects per
copy) and the real writer (:func:`trygg_geo.pipeline._write_outputs`: GeoPackage, map, report,
CSV, manifest) writes the set. ``karta.html`` stays under 5 MB and draws sums per area instead
of markers, ``rapport.md`` and ``rapport.html`` stay under 2 MB, and ``projekt.csv`` holds
every row. Below ``[map] max_markers`` the map keeps one clustered marker per investment with
its text as data (a ``<script>`` in a name shows as written).
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo import load_config, run, verify_outputs
from trygg_geo._map_aggregate import DETAIL_LAYERS, MAX_MARKERS, investment_area_totals
from trygg_geo._outputs import REPORT_CSV
from trygg_geo.config import MapSection, OutputSection
from trygg_geo.demo import make_demo_city
from trygg_geo.maps import build_map, save_map
from trygg_geo.pipeline import _write_outputs
from trygg_geo.results import Results

N_ROWS = 20_000
MAP_LIMIT = 5_000_000
REPORT_LIMIT = 2_000_000


def replicate(res: Results, n: int, *, seed: int = 17) -> Results:
    """``res`` with its register repeated to ``n`` rows: new ids and source rows, jittered points.

    Every copy of a row keeps its area, kind, money and effect row; unplaced rows stay unplaced
    (with their reason); the treated areas' ``investment_ids`` name every copy.
    """
    rng = np.random.default_rng(seed)
    reg = res.register.reset_index(drop=True)
    copies = -(-n // len(reg))
    base = int(reg["source_row"].max()) + 1

    def stack(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        parts, keys = [], []
        for c in range(copies):
            part = frame.copy()
            keys.append(np.full(len(part), c))
            parts.append(part)
        return pd.concat(parts, ignore_index=True), np.concatenate(keys)

    def renumber(frame: pd.DataFrame, copy: np.ndarray) -> pd.DataFrame:
        frame = frame.copy()
        frame["source_row"] = frame["source_row"].astype(int) + copy * base
        if "investment_id" in frame.columns:
            frame["investment_id"] = [f"{i}-k{c}" if c else str(i)
                                      for i, c in zip(frame["investment_id"], copy, strict=True)]
        return frame

    big_reg, copy = stack(reg)
    big_reg = renumber(big_reg, copy).iloc[:n].reset_index(drop=True)
    keep = set(big_reg["source_row"])
    if "duplicate_of" in big_reg.columns:  # an exact copy points at its own copy's first row
        dup = pd.to_numeric(big_reg["duplicate_of"], errors="coerce")
        big_reg["duplicate_of"] = (dup + copy[:n] * base).astype("Int64")

    placed, pcopy = stack(res.placed)
    placed = renumber(placed, pcopy)
    placed = placed[placed["source_row"].isin(keep)].reset_index(drop=True)
    geoms = placed.geometry.values
    dx, dy = rng.uniform(-150, 150, len(placed)), rng.uniform(-150, 150, len(placed))
    moved = [shapely.affinity.translate(g, dx[i], dy[i]) for i, g in enumerate(geoms)]
    placed = gpd.GeoDataFrame(placed.drop(columns=placed.geometry.name), geometry=moved,
                              crs=res.placed.crs)

    unplaced, ucopy = stack(res.unplaced)
    unplaced = renumber(unplaced, ucopy)
    unplaced = unplaced[unplaced["source_row"].isin(keep)].reset_index(drop=True)

    eff = res.effects
    inv_eff = eff[eff["scope"] == "investment"]
    big_eff, ecopy = stack(inv_eff)
    big_eff = renumber(big_eff, ecopy)
    big_eff = big_eff[big_eff["source_row"].isin(keep)]
    effects = pd.concat([eff[eff["scope"] != "investment"], big_eff], ignore_index=True)

    roles = res.roles.copy()
    ids_by_area = placed.groupby("area_id")["investment_id"].agg(lambda s: ",".join(s))
    treated = roles["role"] == "treated"
    roles.loc[treated, "investment_ids"] = (roles.loc[treated, "area_id"].astype(str)
                                            .map(ids_by_area).fillna(""))
    return dataclasses.replace(res, register=big_reg, placed=placed, unplaced=unplaced,
                               effects=effects, roles=roles, paths={})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Results:
    folder = tmp_path_factory.mktemp("sizes")
    city = make_demo_city(folder / "indata", seed=2024)
    cfg = load_config(city.config)
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, folder=folder / "ut"))
    return run(cfg, write=False)


@pytest.fixture(scope="module")
def big_set(demo: Results) -> tuple[Results, Path]:
    big = replicate(demo, N_ROWS)
    _write_outputs(big, density=None)
    return big, Path(big.config.output.folder)


def test_replica_has_distinct_rows(demo: Results, big_set: tuple[Results, Path]) -> None:
    big, _ = big_set
    assert len(big.register) == N_ROWS
    assert big.register["source_row"].is_unique
    # every copy has its own ids (the demo's own repeated id stays repeated within a copy)
    per_id = big.register.groupby("investment_id").size()
    assert per_id.max() == demo.register.groupby("investment_id").size().max()
    assert len(big.placed) + len(big.unplaced) == N_ROWS
    assert len(big.placed) > MAX_MARKERS


def test_large_register_outputs_stay_small(big_set: tuple[Results, Path]) -> None:
    _, folder = big_set
    sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    assert sizes["karta.html"] < MAP_LIMIT, sizes
    assert sizes["rapport.md"] < REPORT_LIMIT, sizes
    assert sizes["rapport.html"] < REPORT_LIMIT, sizes
    check = verify_outputs(folder)
    assert check, check.problems
    assert REPORT_CSV in check.files


def test_large_map_shows_sums_per_area_and_no_investment_markers(
        big_set: tuple[Results, Path]) -> None:
    big, folder = big_set
    page = (folder / "karta.html").read_text(encoding="utf-8")
    # no investment marker, line or polygon: no marker icon of any kind, no cluster
    assert "tg-marker" not in page.replace(".tg-marker", "")
    assert "markerClusterGroup" not in page and "tg-investment" not in page
    assert "tg-inv-area" in page
    assert "Investeringar per omr\\u00e5de (" in page  # the layer control's name, as JSON
    # the legend names the GeoPackage and its layers
    assert big.config.output.geopackage in page
    assert all(layer in page for layer in DETAIL_LAYERS)
    # without the relation: each placed investment (exact copies once) in one area or outside
    keep = big.placed["duplicate_of"].isna().to_numpy()
    totals, outside = investment_area_totals(big.placed, big.areas)
    assert int(totals["n"].sum()) + outside == int(keep.sum())
    # the map uses the relation: an investment counts in every area it reaches (counted share)
    rel = big.relation
    totals, outside = investment_area_totals(big.placed, big.areas, relation=rel)
    reach = rel[rel["counted"].astype(bool) & keep[rel["row"].to_numpy()]]
    want = reach.drop_duplicates(["row", "area_id"]).groupby("area_id").size()
    got = totals.set_index("area_id")["n"]
    assert got[got > 0].to_dict() == want.to_dict()
    assert outside == int((keep & ~np.isin(np.arange(len(keep)), rel["row"])).sum())
    assert f'"n": "{_sv(int(totals["n"].max()))}"' in page


def _sv(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0") if n >= 10_000 else str(n)


def test_large_report_lists_a_part_and_the_csv_holds_every_row(
        big_set: tuple[Results, Path]) -> None:
    big, folder = big_set
    html = (folder / "rapport.html").read_text(encoding="utf-8")
    assert "Alla 20\u00a0000 finns i projekt.csv" in html and "investeringar_punkt" in html
    assert "Tabellen visar de första 300 av" in html  # rows not placed, estimates
    md = (folder / "rapport.md").read_text(encoding="utf-8")
    assert "Alla 20\u00a0000 finns i projekt" in md
    raw = (folder / REPORT_CSV).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert len(body) == N_ROWS
    src = [int(r[header.index("Rad i registret")]) for r in body]
    assert src == big.register["source_row"].astype(int).tolist()  # every row, in file order
    ids = [r[header.index("Projekt-ID")] for r in body]
    assert ids == big.register["investment_id"].astype(str).tolist()
    # money is a number with a decimal comma, no thousands separator
    granted = [r[header.index("Beviljat (kr)")] for r in body if r[header.index("Beviljat (kr)")]]
    assert granted and all(g.replace(",", "").isdigit() for g in granted)


def _small(demo: Results) -> gpd.GeoDataFrame:
    inv = demo.investments_with_effects().copy()
    first_point = inv.index[inv.geometry.geom_type == "Point"][0]
    inv.loc[first_point, "name"] = '<script>alert("x")</script> & Co'
    return inv


def _walk(el: Any) -> list[Any]:
    out = [el]
    for c in getattr(el, "_children", {}).values():
        out.extend(_walk(c))
    return out


def test_small_register_keeps_clustered_markers_with_text_as_data(
        demo: Results, tmp_path: Path) -> None:
    inv = _small(demo)
    assert len(inv) <= MAX_MARKERS
    m = build_map(areas=demo.areas, investments=inv, units=demo.roles, effects=demo.effects,
                  max_investments_unclustered=5)
    clusters = [e for e in _walk(m) if isinstance(e, folium.plugins.MarkerCluster)]
    assert clusters
    drawn = [g for e in clusters for g in _walk(e) if isinstance(g, folium.GeoJson)]
    names = {f["properties"]["name"] for g in drawn for f in g.data["features"]}
    assert '<script>alert("x")</script> & Co' in names
    page = save_map(m, tmp_path / "karta.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "\\u003cscript\\u003ealert" in page  # as JSON data, shown with textContent
    assert "tg-inv-area" not in page


def test_max_markers_switches_to_sums(demo: Results) -> None:
    inv = _small(demo)
    m = build_map(areas=demo.areas, investments=inv, max_markers=len(inv) - 1)
    assert not any(isinstance(e, folium.plugins.MarkerCluster) for e in _walk(m))
    area_layers = [g for g in _walk(m) if isinstance(g, folium.GeoJson)
                   and g.layer_name.startswith("Investeringar per område")]
    assert len(area_layers) == 1
    feats = area_layers[0].data["features"]
    assert len(feats) == len(demo.areas)
    assert sum(int(f["properties"]["n"]) for f in feats) == int(inv["duplicate_of"].isna().sum())


def test_config_defaults_match_the_map() -> None:
    assert MapSection().max_markers == MAX_MARKERS
    assert OutputSection().report_rows_per_area == 50
    assert OutputSection().report_max_rows == 300
