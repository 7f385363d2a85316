"""Fast tests of trygg_geo.maps (no browser): escaping, inlining, labels, classes, size."""

from __future__ import annotations

import base64
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_bounds
from shapely.geometry import LineString, Point, box

from trygg_geo import maps
from trygg_geo._assets import REGISTRY, asset_path
from trygg_geo._assets._inline import SelfContainedError, external_references, inline_assets
from trygg_geo._errors import CRSError, DataQualityWarning, InputError, MissingColumnError
from trygg_geo.interventions import CATALOGUE

CRS = "EPSG:3006"
X0, Y0, SIZE = 674_000.0, 6_578_000.0, 1_000.0
EVIL_AREA = "<img src=x onerror=alert(1)>"
EVIL_INV = "<script>alert(1)</script>"
EVIL_LINE = "<img src=x onerror=alert(2)>"


# ----------------------------------------------------------------------------- fixtures
def make_areas() -> gpd.GeoDataFrame:
    """Six 1 km squares (3 x 2) sharing edges, with a change per area."""
    geoms = [box(X0 + i * SIZE, Y0 + j * SIZE, X0 + (i + 1) * SIZE, Y0 + (j + 1) * SIZE)
             for j in range(2) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "area_id": [f"A{i}" for i in range(1, 7)],
            "name": [EVIL_AREA, "Bagarmossen", "Kärrtorp", "Skarpnäck gård", "Hammarbyhöjden", "Liten ö"],
            "parent": ["Skarpnäck"] * 6,
            "change": [-0.06, -0.02, 0.01, 0.05, 0.08, np.nan],
            "change_ci_low": [-0.09, -0.05, -0.02, 0.02, 0.05, np.nan],
            "change_ci_high": [-0.03, 0.01, 0.04, 0.08, 0.11, np.nan],
            "n": [210, 180, 95, 160, 130, 12],
            "significant": [True, False, False, True, True, False],
            "suppressed": [False, False, False, False, False, True],
            "source_row": range(2, 8),
        },
        geometry=geoms, crs=CRS,
    )


def make_investments() -> gpd.GeoDataFrame:
    def at(i: float, j: float) -> tuple[float, float]:
        return (X0 + i * SIZE, Y0 + j * SIZE)

    rows = [
        ("I1", EVIL_INV, "kamerabevakning", Point(at(0.5, 0.5))),
        ("I2", "Klotter & sånt", "klottersanering", Point(at(1.5, 0.5))),
        ("I3", "Kamera Torget", "kamerabevakning", Point(at(2.5, 0.5))),
        ("I4", "Trygghetsvandring vår", "trygghetsvandring", Point(at(0.5, 1.5))),
        ("I5", EVIL_LINE, "belysning", LineString([at(1.2, 1.2), at(1.5, 1.6), at(1.8, 1.4)])),
        ("I6", "Slyröjning Parken", "slyrojning", Point(at(2.5, 1.5)).buffer(60)),
    ]
    return gpd.GeoDataFrame(
        {
            "source_row": range(2, 8),
            "investment_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "kind": [r[2] for r in rows],
            "board": ["Skarpnäcks stadsdelsnämnd", "Trafiknämnden", None, "Skarpnäcks stadsdelsnämnd",
                      "Trafiknämnden", "Exploateringsnämnden"],
            "granted_sek": [1_250_000.0, 40_000.0, np.nan, 5_000.0, 880_000.0, 120_000.0],
            "spent_sek": [1_000_000.0, 38_500.0, np.nan, 5_000.0, 900_000.0, 99_999.0],
            "completed": pd.to_datetime(["2021-05-01", "2020-10-12", None, "2022-04-20", "2019-11-30", "2021-08-15"]),
            "geocode_method": ["exact", "street", "fuzzy", "place", "wkt", "coordinates"],
            "effect_estimate": [-0.021, np.nan, np.nan, np.nan, 0.015, np.nan],
            "effect_ci_low": [-0.05, np.nan, np.nan, np.nan, -0.01, np.nan],
            "effect_ci_high": [0.008, np.nan, np.nan, np.nan, 0.04, np.nan],
            "effect_mde": [0.035, np.nan, np.nan, np.nan, 0.03, np.nan],
        },
        geometry=[r[3] for r in rows], crs=CRS,
    )


def make_units(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    u = areas[["area_id", "geometry"]].iloc[:4].copy()
    u["role"] = ["treated", "control", "spill", "control"]
    u["investment_ids"] = ["I1,I2", "", "", ""]
    return u


def make_hotspots() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"gi_class": ["hot", "cold", "ns"], "gi_z": [3.1, -2.4, 0.3], "gi_p": [0.002, 0.016, 0.76],
         "count": [41, 2, 9]},
        geometry=[box(X0 + 1100, Y0 + 1100, X0 + 1300, Y0 + 1300),
                  box(X0 + 2100, Y0 + 100, X0 + 2300, Y0 + 300),
                  box(X0 + 100, Y0 + 100, X0 + 300, Y0 + 300)],
        crs=CRS,
    )


def make_density() -> tuple[np.ndarray, tuple[float, float, float, float]]:
    arr = np.zeros((20, 30))
    arr[5:10, 10:20] = np.linspace(1, 5, 10)
    return arr, (X0, Y0, X0 + 3 * SIZE, Y0 + 2 * SIZE)


def full_map(**kw: Any) -> folium.Map:
    areas = make_areas()
    args: dict[str, Any] = {"areas": areas, "investments": make_investments(), "units": make_units(areas),
                            "hotspots": make_hotspots(), "density": make_density(), "tiles": None}
    args.update(kw)
    return maps.build_map(**args)


def walk(el: Any) -> list[Any]:
    out = [el]
    for child in getattr(el, "_children", {}).values():
        out.extend(walk(child))
    return out


def geojsons(m: folium.Map) -> dict[str, folium.GeoJson]:
    return {g.layer_name: g for g in walk(m) if isinstance(g, folium.GeoJson)}


def props_by(m: folium.Map, key: str) -> dict[str, dict[str, Any]]:
    out = {}
    for g in geojsons(m).values():
        for f in g.data["features"]:
            if key in f["properties"]:
                out[f["properties"][key]] = f["properties"]
    return out


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = maps.save_map(full_map(title="Karta <b>fet</b>"), tmp_path_factory.mktemp("m") / "karta.html")
    return path.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- safety
def test_register_and_area_text_is_data_as_written() -> None:
    # properties hold the text as written (no HTML escaping, so no double escaping): the
    # page shows them with textContent (tests/test_maps_browser.py, tests/test_payloads.py)
    m = full_map()
    names = {f["properties"]["name"] for g in geojsons(m).values() for f in g.data["features"]
             if "name" in f["properties"]}
    assert {EVIL_AREA, EVIL_INV, EVIL_LINE, "Klotter & sånt"} <= names
    # every popup and tooltip is the text-node kind, never folium's innerHTML table
    details = [e for e in walk(m) if isinstance(e, (folium.GeoJsonTooltip, folium.GeoJsonPopup))]
    assert details and all(type(e).__name__ in ("_TextTooltip", "_TextPopup") for e in details)


def test_saved_page_holds_no_raw_injected_markup(saved: str) -> None:
    for evil in (EVIL_AREA, EVIL_INV, EVIL_LINE, "<b>fet</b>"):
        assert evil not in saved
    # the text is there once, JSON-escaped inside the script (no HTML escaping)
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in saved
    assert "\\u003cscript\\u003ealert(1)\\u003c\\/script\\u003e" in saved  # "/" as "\\/" in data
    assert "<title>Karta &lt;b&gt;fet&lt;&#47;b&gt;</title>" in saved
    assert "innerHTML=table" not in saved.replace(" ", "")  # folium's innerHTML popup body


# ----------------------------------------------------------------------------- self-contained
def test_no_external_script_or_link_is_left(saved: str) -> None:
    assert not re.search(r"<script[^>]+src=", saved)
    assert not re.search(r"<link[^>]+href=", saved)
    assert external_references(saved) == []
    assert "L.map(" in saved and "L.Control.Search" in saved and "L.control.fullscreen" in saved
    assert "@font-face" in saved and "data:font/woff2;base64," in saved


def test_default_tiles_are_the_only_external_address(tmp_path: Path) -> None:
    page = maps.save_map(full_map(tiles="OpenStreetMap"), tmp_path / "k.html").read_text(encoding="utf-8")
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    assert external_references(page, allowed=["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]) == []
    assert external_references(page) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]


def test_custom_tile_dict(tmp_path: Path) -> None:
    tiles = {"url": "https://karta.example.se/wmts/{z}/{x}/{y}.png", "attribution": "Stadsbyggnadskontoret"}
    page = maps.save_map(full_map(tiles=tiles), tmp_path / "k.html").read_text(encoding="utf-8")
    assert tiles["url"] in page and "Stadsbyggnadskontoret" in page


def test_unvendored_plugin_fails_loudly_and_writes_nothing(tmp_path: Path) -> None:
    from folium.plugins import HeatMap

    m = full_map()
    HeatMap([[59.3, 18.1, 1.0]]).add_to(m)
    target = tmp_path / "karta.html"
    with pytest.raises(SelfContainedError, match="leaflet_heat|heat"):
        maps.save_map(m, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either
    # without inlining it is written (and then needs the network)
    maps.save_map(m, target, self_contained=False)
    assert "<script src=\"https://" in target.read_text(encoding="utf-8")


def test_external_image_in_a_popup_is_refused() -> None:
    page = '<html><head></head><body><div><img src="https://evil.example/x.png"></div></body></html>'
    with pytest.raises(SelfContainedError, match="evil.example"):
        inline_assets(page)
    ok = '<html><body><a href="https://www.openstreetmap.org/copyright">OSM</a></body></html>'
    assert inline_assets(ok) == ok


def test_plain_folium_map_is_inlined_too(tmp_path: Path) -> None:
    m = folium.Map(tiles=None)
    folium.Marker([59.3, 18.0], icon=folium.Icon(icon="star", prefix="fa")).add_to(m)
    page = maps.save_map(m, tmp_path / "f.html").read_text(encoding="utf-8")
    assert external_references(page) == []
    assert "jquery" in page.lower() and "AwesomeMarkers" in page
    assert "bootstrap-glyphicons" not in page  # unused, dropped
    m2 = folium.Map(tiles=None)
    folium.Marker([59.3, 18.0], icon=folium.Icon(icon="info-sign")).add_to(m2)  # glyphicon
    with pytest.raises(SelfContainedError, match="glyphicons"):
        maps.save_map(m2, tmp_path / "g.html")


def test_every_vendored_file_and_licence_exists() -> None:
    for asset in REGISTRY:
        for f in asset.files:
            assert asset_path(f).is_file(), f
        folder = asset_path(asset.files[0].split("/")[0])
        assert any(p.name.lower().startswith(("license", "licence", "mit-licence")) for p in folder.iterdir()), folder
    assert (asset_path("ASSETS.md")).is_file()
    total = sum(p.stat().st_size for p in asset_path(".").rglob("*") if p.is_file() and p.suffix not in {".py", ".pyc", ".md"} and p.name != "maps.css")
    assert 300_000 < total < 1_600_000


# ----------------------------------------------------------------------------- content
def test_layers_legend_and_controls_in_swedish(saved: str) -> None:
    for text in ("Teckenförklaring", "Förändring (procentenheter)", "Behandlade områden", "Kontrollområden",
                 "Spillområden", "Otrygga platser", "Täthet", "Belysning (1)", "Kamerabevakning (2)",
                 "Slyröjning (1)", "Sök område", "Helskärm", "för få svar", "ej signifikant förändring"):
        assert text in saved or _js(text) in saved, text
    assert "L.control.scale({metric: true, imperial: false" in saved


def _js(text: str) -> str:
    import json

    return json.dumps(text)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def test_english_labels(tmp_path: Path) -> None:
    page = maps.save_map(full_map(lang="en"), tmp_path / "en.html").read_text(encoding="utf-8")
    for text in ("Legend", "Treated areas", "Control areas", "Spillover areas", "Unsafe places", "Density",
                 "Lighting (1)", "Camera surveillance (2)", "Search area", "too few responses",
                 "Change (percentage points)"):
        assert text in page or _js(text) in page, text
    for sv in ("Teckenförklaring", "Behandlade områden", "Sök område", "för få svar"):
        assert sv not in page and _js(sv) not in page, sv
    with pytest.raises(InputError, match="lang"):
        full_map(lang="de")


def test_popup_values_are_formatted_in_swedish() -> None:
    p = props_by(full_map(), "id")
    assert p["I1"]["granted"] == "1\u00a0250\u00a0000\u00a0kr"  # non-breaking: a sum never wraps
    assert p["I1"]["spent"] == "1\u00a0000\u00a0000\u00a0kr"
    assert p["I1"]["completed"] == "2021-05-01"
    assert p["I1"]["board"] == "Skarpnäcks stadsdelsnämnd"
    assert p["I1"]["kind"] == "Kamerabevakning"
    assert p["I1"]["effect"] == "\u22122,1 procentenheter (95 % KI \u22125,0 till +0,8); MDE 3,5 p.e."
    assert p["I2"]["effect"] == "effekt ej beräknad"
    assert p["I3"]["granted"] == "\u2013" and p["I3"]["board"] == "\u2013" and p["I3"]["completed"] == "\u2013"
    en = props_by(full_map(lang="en"), "id")
    assert en["I1"]["granted"] == "SEK\u00a01,250,000"
    assert en["I1"]["effect"] == "\u22122.1 percentage points (95% CI \u22125.0 to +0.8); MDE 3.5 pp"


def test_number_formats() -> None:
    assert maps.format_sek(1_250_000) == "1\u00a0250\u00a0000\u00a0kr"
    assert maps.format_sek(999.6) == "1\u00a0000\u00a0kr"
    assert maps.format_sek(None) == "\u2013"
    assert maps.format_pp(0.03) == "+3,0"
    assert maps.format_pp(-0.0123) == "\u22121,2"
    assert maps.format_pp(-0.0001) == "0,0"
    assert maps.format_pp(0.03, lang="en") == "+3.0"


def test_choropleth_is_diverging_symmetric_and_greys_out_uncertain_areas() -> None:
    m = full_map()
    areas = geojsons(m)["Förändring"]
    by_id = {f["properties"]["name"]: f["properties"] for f in areas.data["features"]}
    fill = {k: v["style"]["fillColor"] for k, v in by_id.items()}
    assert fill[EVIL_AREA] == "#b35806"  # -6 pp, significant: darkest orange
    assert fill["Hammarbyhöjden"] == "#542788"  # +8 pp, significant: darkest purple
    assert fill["Skarpnäck gård"] in ("#998ec3", "#542788")  # +5 pp: purple side
    assert fill["Bagarmossen"] == fill["Kärrtorp"] == "#d9d9d9"  # not significant: grey
    assert fill["Liten ö"] == "#969696"  # suppressed
    assert by_id["Liten ö"]["change"] == "för få svar"
    assert by_id["Hammarbyhöjden"]["change"] == "+8,0 procentenheter (95 % KI +5,0 till +11,0)"
    assert by_id["Hammarbyhöjden"]["n"] == "130"
    assert by_id["Bagarmossen"]["change"].endswith("ej signifikant förändring")
    # the legend's classes mirror each other around zero
    legend = next(e for e in walk(m) if type(e).__name__ == "_Controls").legend_html
    section = legend.split("Förändring (procentenheter)</h4>")[1].split("<h4>")[0]
    labels = re.findall(r'class="sw" style="background:(#[0-9a-f]{6})"></span>([^<]+)<', section)
    assert [lab for col, lab in labels[6:]] == ["ej signifikant förändring", "för få svar"]
    classes = [lab for col, lab in labels if col not in ("#d9d9d9", "#969696", "#ffffff")]
    assert len(classes) == 6
    assert classes[0].startswith("\u22128,0 till") and classes[-1].endswith("till +8,0")
    lows = [c.split(" till ")[0] for c in classes[:3]]
    highs = [c.split(" till ")[1] for c in classes[3:]][::-1]
    assert [x.replace("\u2212", "") for x in lows] == [x.replace("+", "") for x in highs]


def test_areas_without_change_are_outlines() -> None:
    a = make_areas().drop(columns=["change", "change_ci_low", "change_ci_high", "n", "significant", "suppressed"])
    m = maps.build_map(areas=a, tiles=None)
    layer = geojsons(m)["Områden"]
    assert len(layer.data["features"]) == 6
    assert {f["properties"]["style"]["fillOpacity"] for f in layer.data["features"]} == {0.05}
    assert "change" not in layer.data["features"][0]["properties"]


def test_investment_layers_one_per_kind_with_catalogue_style() -> None:
    m = full_map()
    groups = {g.layer_name for g in walk(m) if isinstance(g, folium.FeatureGroup)}
    assert groups == {"Belysning (1)", "Slyröjning (1)", "Kamerabevakning (2)", "Klottersanering (1)",
                      "Trygghetsvandring (1)"}
    markers = [g.marker for g in walk(m) if isinstance(g, folium.GeoJson) and g.marker is not None]
    htmls = " ".join(mk.icon.options["html"] for mk in markers)
    assert f"background:{CATALOGUE['kamerabevakning'].colour}" in htmls and "fa-video-camera" in htmls
    line = next(g for g in walk(m) if isinstance(g, folium.GeoJson) and g.layer_name == "Belysning")
    assert line.style_function(line.data["features"][0])["color"] == CATALOGUE["belysning"].colour
    assert not any(isinstance(e, folium.plugins.MarkerCluster) for e in walk(m))


def test_markers_are_clustered_above_the_threshold() -> None:
    m = full_map(max_investments_unclustered=3)
    clusters = [e for e in walk(m) if isinstance(e, folium.plugins.MarkerCluster)]
    assert len(clusters) == 3  # one per point kind (kamera, klotter, trygghetsvandring)


def test_units_hotspots_and_density() -> None:
    m = full_map()
    layers = geojsons(m)
    assert len(layers["Behandlade områden"].data["features"]) == 1
    assert len(layers["Kontrollområden"].data["features"]) == 2
    assert len(layers["Spillområden"].data["features"]) == 1
    # outlines carry no text and take no click: the area under them has the popup
    treated = layers["Behandlade områden"]
    assert treated.data["features"][0]["properties"] == {"area_id": "A1"}
    assert treated.options.get("interactive") is False
    assert not any(isinstance(c, (folium.GeoJsonTooltip, folium.GeoJsonPopup)) for c in walk(treated))
    by_name = {f["properties"]["name"]: f["properties"] for f in layers["Förändring"].data["features"]}
    assert by_name[EVIL_AREA]["role"] == "Behandlat område"
    assert by_name[EVIL_AREA]["investment_ids"] == "I1, I2"
    assert by_name["Bagarmossen"]["role"] == "Kontrollområde"
    hot = layers["Otrygga platser"].data["features"]
    assert [f["properties"]["cls"] for f in hot] == ["hot", "cold", "ns"]
    assert hot[0]["properties"]["gi_z"] == "3,10" and hot[0]["properties"]["gi_p"] == "0,002"
    overlay = next(e for e in walk(m) if isinstance(e, folium.raster_layers.ImageOverlay))
    assert overlay.layer_name == "Täthet"
    png = mpimg.imread(io.BytesIO(base64.b64decode(overlay.url.split(",", 1)[1])), format="png")
    alpha = png[..., 3]
    assert alpha.min() == 0.0 and alpha.max() > 0.5  # transparent where 0, drawn where > 0
    assert 0.05 < (alpha > 0).mean() < 0.3  # the bump covers 50 of 600 cells


def test_density_from_geotiff(tmp_path: Path) -> None:
    arr, bounds = make_density()
    tif = tmp_path / "tathet.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=30, height=20, count=1, dtype="float32", crs=CRS,
                       transform=from_bounds(*bounds, 30, 20)) as dst:
        dst.write(arr.astype("float32"), 1)
    m = full_map(density=tif)
    overlay = next(e for e in walk(m) if isinstance(e, folium.raster_layers.ImageOverlay))
    (s, w), (n, e) = overlay.bounds
    wb = make_areas().to_crs(4326).total_bounds
    assert np.allclose([w, s, e, n], wb, atol=1e-4)


def test_density_geotiff_without_crs_is_refused(tmp_path: Path) -> None:
    arr, bounds = make_density()
    tif = tmp_path / "utan_crs.tif"
    with rasterio.open(tif, "w", driver="GTiff", width=30, height=20, count=1, dtype="float32",
                       transform=from_bounds(*bounds, 30, 20)) as dst:
        dst.write(arr.astype("float32"), 1)
    with pytest.raises(CRSError, match=r"^file '.*utan_crs.tif': the density raster has no CRS "
                       r"\(coordinate reference system\)") as e:
        full_map(density=tif)
    assert e.value.file == str(tif) and "EPSG:3006" in (e.value.fix or "")


def test_bad_inputs_raise_clear_errors() -> None:
    a = make_areas()
    with pytest.raises(MissingColumnError, match="area_id"):
        maps.build_map(areas=a.drop(columns="area_id"))
    with pytest.raises(CRSError, match="no CRS"):
        maps.build_map(areas=a.set_crs(None, allow_override=True))
    u = make_units(a)
    u.loc[2, "role"] = "behandlad"
    with pytest.raises(InputError, match="role") as exc:
        maps.build_map(areas=a, units=u, tiles=None)
    assert exc.value.row == 3 and "treated" in str(exc.value)


def test_areas_in_any_projected_crs_give_the_same_map() -> None:
    a = make_areas()
    m1 = maps.build_map(areas=a, tiles=None)
    m2 = maps.build_map(areas=a.to_crs("EPSG:3011"), tiles=None)
    b1 = shapely.bounds(shapely.from_geojson(_fc(geojsons(m1)["Förändring"])))
    b2 = shapely.bounds(shapely.from_geojson(_fc(geojsons(m2)["Förändring"])))
    assert np.allclose(b1, b2, atol=2e-5)
    assert 18.0 < b1[0] < 18.2 and 59.2 < b1[1] < 59.4  # Stockholm, lon/lat order


def _fc(layer: folium.GeoJson) -> str:
    import json

    return json.dumps(layer.data)


# ----------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def stadsdelar(shared_data: Path) -> gpd.GeoDataFrame:
    g = gpd.read_file(shared_data / "stockholm_stadsdelar" / "stadsdelar_utan_vatten.shp")
    g["area_id"] = [f"S{i:03d}" for i in range(len(g))]
    return g


def synthetic_investments(areas: gpd.GeoDataFrame, n: int, *, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` investments of every kind inside the areas' extent (points, lines, polygons)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = areas.total_bounds
    x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    kinds = rng.choice(list(CATALOGUE), n)
    geoms = []
    for xi, yi, k in zip(x, y, kinds, strict=True):
        kind = CATALOGUE[k].geometry
        if kind == "point":
            geoms.append(Point(xi, yi))
        elif kind == "line":
            geoms.append(LineString([(xi, yi), (xi + rng.uniform(-200, 200), yi + rng.uniform(-200, 200)),
                                     (xi + rng.uniform(-200, 200), yi + rng.uniform(-200, 200))]))
        else:
            geoms.append(Point(xi, yi).buffer(CATALOGUE[k].radius_m))
    est = np.where(rng.random(n) < 0.3, rng.normal(0, 0.02, n), np.nan)
    return gpd.GeoDataFrame(
        {
            "source_row": np.arange(2, n + 2),
            "investment_id": [f"2021-{i:05d}" for i in range(n)],
            "name": [f"Trygghetsåtgärd {i} vid Götgatan {i % 90 + 1}" for i in range(n)],
            "kind": kinds,
            "board": rng.choice(["Södermalms stadsdelsnämnd", "Trafiknämnden", "Exploateringsnämnden"], n),
            "granted_sek": rng.integers(5, 3000, n) * 1000.0,
            "spent_sek": rng.integers(5, 3000, n) * 1000.0,
            "completed": pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D"),
            "geocode_method": rng.choice(["exact", "street", "fuzzy", "coordinates"], n),
            "effect_estimate": est, "effect_ci_low": est - 0.03, "effect_ci_high": est + 0.03,
            "effect_mde": np.where(np.isnan(est), np.nan, 0.035),
        },
        geometry=geoms, crs=areas.crs,
    )


def test_117_stadsdelar_and_5000_investments_fit_in_5_mb(stadsdelar: gpd.GeoDataFrame, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a = stadsdelar.copy()
    a["change"] = rng.normal(0, 0.03, len(a))
    a["change_ci_low"], a["change_ci_high"] = a["change"] - 0.025, a["change"] + 0.025
    a["n"] = rng.integers(25, 400, len(a))
    a["suppressed"] = a["n"] < 30
    inv = synthetic_investments(a, 5000)
    m = maps.build_map(areas=a, investments=inv, tiles="OpenStreetMap")
    assert len(geojsons(m)["Förändring"].data["features"]) == 117
    drawn = sum(len(g.data["features"]) for g in walk(m) if isinstance(g, folium.GeoJson) and not g.control)
    assert drawn == 5000
    path = maps.save_map(m, tmp_path / "karta.html")
    size = path.stat().st_size
    assert size <= 5_000_000, f"{size / 1e6:.2f} MB"
    page = path.read_text(encoding="utf-8")
    assert external_references(page) == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]


def test_simplification_keeps_polygons_valid_and_shared_edges_shared(stadsdelar: gpd.GeoDataFrame) -> None:
    simple = maps.simplify_coverage(stadsdelar, tolerance_m=5.0)
    assert len(simple) == 117 and list(simple["name"]) == list(stadsdelar["name"])
    geoms = simple.geometry.values
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    assert shapely.coverage_is_valid(geoms)  # no overlaps; shared edges vertex-identical
    n0 = shapely.get_num_coordinates(stadsdelar.geometry.values).sum()
    assert shapely.get_num_coordinates(geoms).sum() < 0.15 * n0
    rel = np.abs(shapely.area(geoms) - shapely.area(stadsdelar.geometry.values)) / shapely.area(stadsdelar.geometry.values)
    assert rel.max() < 0.02
    # the web copy (EPSG:4326, rounded to 6 decimals) is still a valid coverage
    web = maps._to_web(simple, 6, coverage=True)
    assert shapely.is_valid(web).all() and shapely.coverage_is_valid(web)
    # neighbours still share their boundary (length kept within 2 %)
    orig = stadsdelar.geometry.values
    tree = shapely.STRtree(orig)
    left, right = tree.query(orig, predicate="touches")
    pairs = [(i, j) for i, j in zip(left, right, strict=True) if i < j]
    kept = []
    for i, j in pairs:
        before = shapely.length(shapely.intersection(orig[i].boundary, orig[j].boundary))
        if before > 100:
            after = shapely.length(shapely.intersection(geoms[i].boundary, geoms[j].boundary))
            kept.append(after / before)
    assert len(kept) > 200 and np.median(kept) > 0.98 and min(kept) > 0.9
    # the test can fail: simplifying polygons one by one breaks the shared edges
    naive = shapely.simplify(orig, 5.0, preserve_topology=True)
    assert not shapely.coverage_is_valid(naive)


def test_build_map_inlines_only_what_it_uses(saved: str) -> None:
    for banner in ("leaflet@1.9.3", "@fortawesome/fontawesome-free@6.2.0", "leaflet-search@2.9.7",
                   "leaflet.fullscreen@3.0.0"):
        assert f"/* {banner} (" in saved, banner
    for unused in ("jquery@3.7.1", "bootstrap@5.2.2", "awesome-markers", "leaflet.markercluster@1.1.0"):
        assert f"/* {unused}" not in saved and f"({unused}" not in saved, unused


def test_investments_without_geometry_are_reported_not_dropped_silently() -> None:
    inv = make_investments()
    inv.loc[2, "geometry"] = None
    with pytest.warns(DataQualityWarning, match=r"I3.*source_row \[4\]"):
        m = maps.build_map(areas=make_areas(), investments=inv, tiles=None)
    groups = {g.layer_name for g in walk(m) if isinstance(g, folium.FeatureGroup)}
    assert "Kamerabevakning (1)" in groups


# ----------------------------------------------------------------------------- issue 13
from trygg_geo import _palette  # noqa: E402
from trygg_geo.config import Config  # noqa: E402

OSM_EXTRACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm_stockholm" / \
    "stockholm_norrmalm_ostermalm.osm"


def effects_table() -> pd.DataFrame:
    """Per-investment effect rows in the issue-12 shape (I1 model headline, I5 permutation)."""
    return pd.DataFrame({
        "scope": ["kind", "investment", "investment", "investment"],
        "investment_id": [None, "I1", "I5", "I2"],
        "source_row": [np.nan, 2, 6, 3],
        "method": ["did_2x2", "did_2x2", "callaway_santanna", None],
        "estimate": [-0.01, -0.021, 0.015, np.nan],
        "ci_low": [-0.03, -0.05, -0.01, np.nan], "ci_high": [0.01, 0.008, 0.04, np.nan],
        "p_value": [0.3, 0.16, 0.24, np.nan], "p_adjusted": [np.nan, 0.32, 0.48, np.nan],
        "adjust_method": ["holm"] * 4, "mde": [0.02, 0.035, 0.03, np.nan],
        "n_respondents": [900, 410, 388, np.nan],
        "p_perm": [np.nan, 0.2, 0.31, np.nan], "perm_ci_low": [np.nan, -0.06, -0.02, np.nan],
        "perm_ci_high": [np.nan, 0.01, 0.05, np.nan],
        "headline": ["model", "model", "permutation", None],
        "reason": [None, None, None, "För få svar i kontrollområdena före åtgärden."],
    })


def click_units(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    u = areas[["area_id", "geometry"]].iloc[:4].copy()
    u["role"] = ["treated", "control", "excluded", "spill"]
    u["investment_ids"] = ["I1,I2", "", "", ""]
    u["reason_text"] = ["", "", "För få svar i en mätvåg", "Gränsar till ett behandlat område"]
    return u


def test_palette_rule_is_the_maps_rule() -> None:
    areas = make_areas()
    m = maps.build_map(areas=areas, tiles=None)
    feats = geojsons(m)["Förändring"].data["features"]
    classes, bins = _palette.area_style_classes(areas)
    assert classes == ["neg3", "ns", "ns", "pos2", "pos3", "suppressed"]
    for f, key in zip(feats, classes, strict=True):
        assert f"tg-class-{key}" in f["properties"]["style"]["className"]
        assert f["properties"]["style"]["fillColor"] == _palette.class_colour(key, len(bins))
    # without 'significant', the interval crossing zero decides; a missing flag falls back to it
    a = areas.drop(columns="significant")
    assert _palette.area_style_classes(a)[0][:3] == ["neg3", "ns", "ns"]
    row = {"change": 0.05, "significant": pd.NA, "change_ci_low": 0.01, "change_ci_high": 0.09}
    assert _palette.area_style_class(row, bins).startswith("pos")
    # PuOr: safer (negative) and less safe (positive) differ in lightness as well as hue
    neg, pos = _palette.class_colour("neg3", 3), _palette.class_colour("pos3", 3)
    assert (neg, pos) == ("#b35806", "#542788")


def test_legend_is_a_sentence_with_indicator_waves_and_direction() -> None:
    a = make_areas()
    a["otrygg_kvall_2017"], a["otrygg_kvall_2023"] = 0.3, 0.28
    legend = next(e for e in walk(maps.build_map(areas=a, tiles=None))
                  if type(e).__name__ == "_Controls").legend_html
    assert ("Andel som känner sig otrygga ute en sen kväll: förändring 2017\u21922023, "
            "procentenheter. Negativ = tryggare.") in legend
    a.attrs["change_waves"] = (2020, 2023)
    en = next(e for e in walk(maps.build_map(areas=a, tiles=None, lang="en"))
              if type(e).__name__ == "_Controls").legend_html
    assert ("Share who feel unsafe outdoors late in the evening: change 2020\u21922023, "
            "percentage points. Negative = safer.") in en
    assert maps.legend_sentence(indicator="trygg_hemvag", waves=[2019, 2022], lang="sv").endswith(
        "Positiv = tryggare.")
    assert maps.legend_sentence(indicator="egen_fraga", waves=None, lang="sv") == \
        "Indikatorn egen_fraga: förändring procentenheter."
    # the sentence is the package's text, escaped once for the legend
    raw = next(e for e in walk(maps.build_map(areas=a, tiles=None, indicator="<b>x</b>"))
               if type(e).__name__ == "_Controls").legend_html
    assert "Indikatorn &lt;b&gt;x&lt;/b&gt;: förändring 2020\u21922023, procentenheter.<" in raw
    assert html.unescape(raw).count("<b>x</b>") == 1


def test_popups_carry_effect_ci_n_mde_adjusted_p_estimator_or_reason() -> None:
    areas = make_areas()
    m = maps.build_map(areas=areas, investments=make_investments(), units=click_units(areas),
                       effects=effects_table(), tiles=None)
    inv = props_by(m, "id")
    assert inv["I1"]["effect"] == "\u22122,1 procentenheter (95 % KI \u22125,0 till +0,8); MDE 3,5 p.e."
    assert inv["I1"]["p_adjusted"] == "0,320 (Holm)" and inv["I1"]["p_value"] == ""
    assert inv["I1"]["n_effect"] == "410" and inv["I1"]["method"] == "Differens-i-differenser (2×2)"
    # the headline is the permutation interval and p for I5
    assert inv["I5"]["effect"].startswith("+1,5 procentenheter (95 % KI \u22122,0 till +5,0)")
    assert inv["I5"]["method"].startswith("Callaway")
    assert inv["I2"]["effect"] == "För få svar i kontrollområdena före åtgärden."
    assert inv["I2"]["p_adjusted"] == inv["I2"]["method"] == inv["I2"]["n_effect"] == ""
    areas_p = {f["properties"]["name"]: f["properties"]
               for f in geojsons(m)["Förändring"].data["features"]}
    treated = areas_p[EVIL_AREA]
    assert treated["role"] == "Behandlat område"
    assert treated["effect"].startswith("I1: \u22122,1 procentenheter") and "n 410" in treated["effect"]
    assert "I2: För få svar" in treated["effect"]
    assert areas_p["Kärrtorp"]["role"] == "Exkluderat område"
    assert areas_p["Kärrtorp"]["role_why"] == "För få svar i en mätvåg"
    assert areas_p["Bagarmossen"]["role_why"] == "" and areas_p["Bagarmossen"]["effect"] == ""
    # English estimator label
    en = props_by(maps.build_map(areas=areas, investments=make_investments(), effects=effects_table(),
                                 tiles=None, lang="en"), "id")
    assert en["I1"]["method"] == "Difference-in-differences (2×2)"


def test_area_popup_shows_adjusted_p_when_the_table_has_it() -> None:
    a = make_areas()
    a["p_adjusted"] = [0.004, 0.6, 0.7, 0.03, 0.001, np.nan]
    p = {f["properties"]["name"]: f["properties"]
         for f in geojsons(maps.build_map(areas=a, tiles=None))["Förändring"].data["features"]}
    assert p["Hammarbyhöjden"]["p_adjusted"] == "0,001 (Holm)"
    assert p["Liten ö"]["p_adjusted"] == ""  # suppressed: nothing to test


def test_online_tiles_are_toggles_off_by_default_and_lantmateriet_needs_a_key(tmp_path: Path) -> None:
    m = full_map(tiles="OpenStreetMap", lantmateriet_key="abc-123")
    tl = [e for e in walk(m) if isinstance(e, folium.raster_layers.TileLayer)]
    assert [t.layer_name for t in tl] == ["OpenStreetMap (kräver nätverk)",
                                          "Lantmäteriet topowebb (kräver nätverk)"]
    assert all(t.show is False and t.overlay and t.control for t in tl)
    assert "token/abc-123/" in tl[1].tiles and "topowebb_nedtonad" in tl[1].tiles
    page = maps.save_map(m, tmp_path / "k.html").read_text(encoding="utf-8")
    assert len(external_references(page)) == 2
    with pytest.raises(InputError, match="Lantmäteriet"):
        full_map(lantmateriet_key="x\" onerror=")
    cfg = Config.from_dict({"areas": {"path": "a"}, "register": {"path": "r"}, "gazetteer": {"path": "g"},
                            "survey": {"path": "s"}, "output": {"lantmateriet_key": "abc-123"}})
    assert cfg.output.lantmateriet_key == "abc-123"


def test_map_opens_on_investments_and_their_areas_not_the_whole_layer() -> None:
    areas = make_areas()
    inv = make_investments().iloc[[0]]  # I1 in A1
    u = click_units(areas)
    m = maps.build_map(areas=areas, investments=inv, units=u, tiles=None)
    (s, w), (n, e) = next(x for x in walk(m) if type(x).__name__ == "_Controls").bounds
    a1 = areas.iloc[[0, 3]].to_crs(4326).total_bounds  # treated A1 and spillover A4
    assert np.allclose([w, s, e, n], a1, atol=1e-6)
    assert e < areas.to_crs(4326).total_bounds[2] - 0.01  # not the whole layer
    (s, w), (n, e) = next(x for x in walk(maps.build_map(areas=areas, tiles=None))
                          if type(x).__name__ == "_Controls").bounds
    assert np.allclose([w, s, e, n], areas.to_crs(4326).total_bounds)


def test_basemap_from_a_frame_is_drawn_in_panes_that_take_no_click(tmp_path: Path) -> None:
    base = gpd.GeoDataFrame(
        {"layer": ["major", "street", "path", "park", "water"]},
        geometry=[LineString([(X0, Y0 + 500), (X0 + 3000, Y0 + 500)]),
                  LineString([(X0 + 1500, Y0), (X0 + 1500, Y0 + 2000)]),
                  LineString([(X0 + 200, Y0 + 200), (X0 + 900, Y0 + 1700)]),
                  box(X0 + 2100, Y0 + 1100, X0 + 2900, Y0 + 1900),
                  box(X0 + 100, Y0 + 1200, X0 + 600, Y0 + 1800)], crs=CRS)
    m = full_map(basemap=base)
    bm = next(e for e in walk(m) if type(e).__name__ == "_Basemap")
    assert bm.layer_name == "Gator, parker och vatten" and bm.show and bm.control
    assert [f["properties"]["cls"] for f in bm.data["features"]] == ["park", "water", "path", "street",
                                                                       "major"]
    geoms = [shapely.geometry.shape(f["geometry"]) for f in bm.data["features"]]
    assert 18.0 < geoms[0].centroid.x < 18.2 and 59.2 < geoms[0].centroid.y < 59.4
    assert all(len(str(c).split(".")[1]) <= 5 for g in geoms for c in shapely.get_coordinates(g).ravel())
    page = maps.save_map(m, tmp_path / "k.html").read_text(encoding="utf-8")
    assert "interactive: false" in page and "L.canvas({pane: p[0]" in page
    assert "pointer-events: none !important" in page
    with pytest.raises(InputError, match="base map layer"):
        full_map(basemap=base.assign(layer="motorväg"))


def test_basemap_from_the_shared_osm_extract(shared_data: Path) -> None:
    base = maps.basemap_from_osm_xml(shared_data / "osm_stockholm" / "stockholm_norrmalm_ostermalm.osm")
    counts = base["layer"].value_counts().to_dict()
    assert counts["street"] > 150 and counts["path"] > 400 and counts["park"] >= 10
    assert counts["major"] >= 10  # secondary roads (Sveavägen, Birger Jarlsgatan ...)
    assert base.crs.to_epsg() == 4326
    assert base.geom_type[base["layer"] == "park"].isin(["Polygon", "MultiPolygon"]).all()
    # the budget: paths go first, then the tolerance grows
    areas = gpd.read_file(shared_data / "stockholm_stadsdelar" / "stadsdelar_utan_vatten.shp")
    full = maps._basemap_data(base, extent=areas, tolerance_m=3.0, max_bytes=10_000_000)
    small = maps._basemap_data(base, extent=areas, tolerance_m=3.0, max_bytes=20_000)
    assert full is not None and small is not None
    assert "path" in {f["properties"]["cls"] for f in full["features"]}
    assert "path" not in {f["properties"]["cls"] for f in small["features"]}
    assert len(json.dumps(small, separators=(",", ":"))) <= 20_000


def test_basemap_from_an_address_gazetteer_draws_its_streets() -> None:
    from trygg_geo.geocode import Gazetteer

    pts = gpd.GeoDataFrame({"street": ["Storgatan"] * 4 + ["Lillgatan"] * 3,
                            "housenumber": ["1", "3", "5", "7", "2", "4", "6"]},
                           geometry=[Point(X0 + 100 * i, Y0 + 300) for i in range(4)]
                           + [Point(X0 + 800, Y0 + 100 * i) for i in range(3)], crs=CRS)
    gaz = Gazetteer.from_frames(addresses=pts, crs=CRS)
    base = maps.read_basemap(gaz)
    assert (base["layer"] == "street").sum() == 2
    assert base.geom_type.eq("LineString").all()


def test_117_stadsdelar_5000_investments_and_the_osm_basemap_fit_in_5_mb(
        stadsdelar: gpd.GeoDataFrame, shared_data: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a = stadsdelar.copy()
    a["change"] = rng.normal(0, 0.03, len(a))
    a["change_ci_low"], a["change_ci_high"] = a["change"] - 0.025, a["change"] + 0.025
    a["n"] = rng.integers(25, 400, len(a))
    a["suppressed"] = a["n"] < 30
    osm = shared_data / "osm_stockholm" / "stockholm_norrmalm_ostermalm.osm"
    m = maps.build_map(areas=a, investments=synthetic_investments(a, 5000), basemap=osm)
    bm = next(e for e in walk(m) if type(e).__name__ == "_Basemap")
    assert {f["properties"]["cls"] for f in bm.data["features"]} >= {"street", "park", "major"}
    path = maps.save_map(m, tmp_path / "karta.html")
    assert path.stat().st_size <= 5_000_000, f"{path.stat().st_size / 1e6:.2f} MB"
