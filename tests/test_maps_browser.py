"""Render saved maps in headless Chromium with the network blocked.

Marked ``browser``; skipped (with the reason) when /usr/bin/chromium or playwright is
missing. Screenshots go to ``tests/_artifacts/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import test_maps as tm  # the fixture builders of the fast tests

from trygg_geo import maps

pytestmark = pytest.mark.browser

from _browser import ARTIFACTS, open_map

COUNTS = """() => ({
  areas: document.querySelectorAll('path.tg-area').length,
  lines: document.querySelectorAll('path.tg-investment').length,
  markers: document.querySelectorAll('.leaflet-marker-pane .tg-marker').length,
  clustered: [...document.querySelectorAll('.leaflet-marker-pane .tg-cluster span')]
      .reduce((a, s) => a + parseInt(s.textContent, 10), 0),
  units: document.querySelectorAll('path.tg-unit').length,
  hot: document.querySelectorAll('path.tg-hotspot').length,
  overlay: document.querySelectorAll('.leaflet-overlay-pane img.leaflet-image-layer').length,
  legend: document.getElementById('tg-legend') ? document.getElementById('tg-legend').innerText : null,
  layers: document.querySelector('.leaflet-control-layers') ?
      document.querySelector('.leaflet-control-layers').innerText : null,
  title: document.querySelector('.tg-title') ? document.querySelector('.tg-title').textContent : null,
  scale: document.querySelectorAll('.leaflet-control-scale-line').length,
  fullscreen: document.querySelectorAll('.leaflet-control-zoom-fullscreen').length,
  search: document.querySelectorAll('.leaflet-control-search input').length,
})"""


@pytest.fixture(scope="module")
def small_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    m = tm.full_map(title="Trygghet i Skarpnäck <b>2024</b>")
    return maps.save_map(m, tmp_path_factory.mktemp("b") / "karta.html")


def test_small_map_draws_every_layer_offline(browser: Any, small_map: Path) -> None:
    o = open_map(browser, small_map)
    c = o.page.evaluate(COUNTS)
    ARTIFACTS.mkdir(exist_ok=True)
    o.page.screenshot(path=str(ARTIFACTS / "karta_liten.png"))
    assert o.page.evaluate("() => typeof window.L.map") == "function"
    assert c["areas"] == 6
    assert c["markers"] == 4 and c["clustered"] == 0  # I1-I4 are points
    assert c["lines"] == 2  # the lighting line and the brush-clearance polygon
    assert c["units"] == 4 and c["hot"] == 3 and c["overlay"] == 1
    assert c["scale"] == 1 and c["fullscreen"] == 1 and c["search"] == 1
    assert c["title"] == "Trygghet i Skarpnäck <b>2024</b>"  # shown as text
    for text in ("Teckenförklaring", "Förändring (procentenheter)", "för få svar", "Kamerabevakning",
                 "Behandlade områden", "Otrygga platser", "Täthet"):
        assert text in c["legend"], text
    for text in ("Förändring", "Belysning (1)", "Kontrollområden", "Spillområden", "Otrygga platser", "Täthet"):
        assert text in c["layers"], text
    assert o.blocked == []  # tiles=None: nothing at all from the network
    assert o.errors == [] and o.dialogs == []
    o.page.close()


def test_popups_show_injected_markup_as_text(browser: Any, small_map: Path) -> None:
    o = open_map(browser, small_map)
    page = o.page
    # the camera marker I1, named "<script>alert(1)</script>", sits in area A1
    page.evaluate("""() => { const L_ = window.L; const map = Object.values(window)
        .find(v => v instanceof L_.Map); map.setView([map.getCenter().lat, map.getCenter().lng], 15); }""")
    page.wait_for_timeout(400)
    marker = page.locator(".leaflet-marker-pane .tg-kind-kamerabevakning")
    markers = page.locator(".leaflet-marker-pane .tg-marker")
    found = None
    for i in range(markers.count()):
        markers.nth(i).click(force=True)
        page.wait_for_selector(".leaflet-popup-content", timeout=15_000)  # generous: CI shares 2 cores
        text = page.locator(".leaflet-popup-content").inner_text()
        if tm.EVIL_INV in text:
            found = page.locator(".leaflet-popup-content")
            break
    assert marker.count() == 2
    assert found is not None, "no popup showed the investment's name"
    text = found.inner_text()
    assert "1\u00a0250\u00a0000\u00a0kr" in text and "Kamerabevakning" in text and "2021-05-01" in text
    assert "MDE 3,5 p.e." in text
    inner = found.inner_html()
    assert "<script>" not in inner and "&lt;script&gt;" in inner
    page.screenshot(path=str(ARTIFACTS / "karta_popup.png"))
    # an area popup: the <img onerror> name is text, not an element
    page.evaluate("() => document.querySelector('.leaflet-popup-close-button').click()")
    page.evaluate("""() => { const map = Object.values(window).find(v => v instanceof window.L.Map);
        map.eachLayer(l => { const p = l.feature && l.feature.properties;
            if (p && p.parent !== undefined && p.name.startsWith('<img')) {
                l.fire('click', {latlng: l.getBounds().getCenter()}, true); } }); }""")
    page.wait_for_timeout(300)
    popup = page.locator(".leaflet-popup-content")
    assert tm.EVIL_AREA in popup.inner_text()
    assert page.locator(".leaflet-popup-content img").count() == 0
    # the search list shows the name as text too
    box = page.locator(".leaflet-control-search input")
    box.press_sequentially("Bag", delay=40)
    page.wait_for_timeout(700)
    assert page.locator(".search-tooltip .search-tip").first.inner_text() == "Bagarmossen"
    box.fill("")
    # names are indexed as written, so the <img ...> name is found by typing its start
    box.press_sequentially("<img", delay=40)
    page.wait_for_timeout(700)
    tips = page.locator(".search-tooltip .search-tip")
    assert tips.count() == 1 and tips.first.inner_text() == tm.EVIL_AREA
    assert page.locator(".search-tooltip img").count() == 0
    assert o.dialogs == [], f"alert fired: {o.dialogs}"
    assert o.errors == [] and o.blocked == []
    page.close()


def test_online_tiles_are_off_by_default_and_nothing_is_requested(browser: Any, tmp_path: Path) -> None:
    path = maps.save_map(tm.full_map(tiles="OpenStreetMap", lantmateriet_key="abc-123"), tmp_path / "off.html")
    o = open_map(browser, path)
    c = o.page.evaluate(COUNTS)
    assert "OpenStreetMap (kräver nätverk)" in c["layers"] and "Lantmäteriet topowebb" in c["layers"]
    assert o.blocked == [] and o.errors == []
    # switched on by the reader, the tiles are asked for
    o.page.locator(".leaflet-control-layers").get_by_text("OpenStreetMap (kräver nätverk)").click()
    o.page.wait_for_timeout(500)
    assert o.blocked and all(u.startswith("https://tile.openstreetmap.org/") for u in o.blocked)
    o.page.close()


def test_only_tiles_are_requested_and_layers_draw_without_them(browser: Any, tmp_path: Path) -> None:
    path = maps.save_map(tm.full_map(tiles="OpenStreetMap", show_tiles=True), tmp_path / "osm.html")
    o = open_map(browser, path)
    c = o.page.evaluate(COUNTS)
    assert o.blocked, "the tile layer should have asked for tiles"
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in o.blocked), o.blocked
    assert c["areas"] == 6 and c["markers"] == 4 and c["lines"] == 2
    assert [e for e in o.errors if "tile.openstreetmap" not in e] == []
    o.page.close()


def test_real_stadsdelar_draw_117_areas(browser: Any, shared_data: Path, tmp_path: Path) -> None:
    import geopandas as gpd

    a = gpd.read_file(shared_data / "stockholm_stadsdelar" / "stadsdelar_utan_vatten.shp")
    a["area_id"] = [f"S{i:03d}" for i in range(len(a))]
    rng = np.random.default_rng(11)
    a["change"] = rng.normal(0, 0.03, len(a))
    a["change_ci_low"], a["change_ci_high"] = a["change"] - 0.02, a["change"] + 0.02
    a["n"] = rng.integers(20, 400, len(a))
    a["suppressed"] = a["n"] < 30
    inv = tm.synthetic_investments(a, 600)
    n_points = int(inv.geom_type.eq("Point").sum())
    path = maps.save_map(maps.build_map(areas=a, investments=inv, tiles=None), tmp_path / "stockholm.html")
    o = open_map(browser, path, width=1400, height=1000)
    c = o.page.evaluate(COUNTS)
    ARTIFACTS.mkdir(exist_ok=True)
    o.page.screenshot(path=str(ARTIFACTS / "karta_stockholm.png"))
    assert c["areas"] == 117
    assert n_points > 200 and c["clustered"] > 0  # clustered above 200 points
    assert c["markers"] + c["clustered"] == n_points  # every point is in view, one way or the other
    assert c["lines"] == len(inv) - n_points
    assert o.blocked == [] and o.errors == [] and o.dialogs == []
    o.page.close()


# ----------------------------------------------------------------------------- issue 13
FIND_MAP = "Object.values(window).find(v => v instanceof window.L.Map)"


def _xy(page: Any, x: float, y: float) -> tuple[float, float]:
    """Page pixel of a point given in the fixtures' EPSG:3006 grid units (area i, j)."""
    import geopandas as gpd
    from shapely.geometry import Point

    pt = gpd.GeoSeries([Point(tm.X0 + x * tm.SIZE, tm.Y0 + y * tm.SIZE)], crs=tm.CRS).to_crs(4326).iloc[0]
    # brought to the middle of the map first, as a reader would pan to it (clear of the panels)
    return tuple(page.evaluate(f"""() => {{ const map = {FIND_MAP};
        map.panTo([{pt.y}, {pt.x}], {{animate: false}});
        const p = map.latLngToContainerPoint([{pt.y}, {pt.x}]);
        const r = map.getContainer().getBoundingClientRect();
        return [p.x + r.left, p.y + r.top]; }}"""))


def _popup_after_click(page: Any, x: float, y: float) -> str:
    page.evaluate(f"() => {FIND_MAP}.closePopup()")
    page.wait_for_function("() => !document.querySelector('.leaflet-popup')")
    page.mouse.click(x, y)
    page.wait_for_selector(".leaflet-popup-content", timeout=15_000)  # generous: CI shares 2 cores
    assert page.locator(".leaflet-popup-content").count() == 1  # one click, one popup
    return page.locator(".leaflet-popup-content").inner_text()


@pytest.fixture(scope="module")
def click_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    areas = tm.make_areas()
    m = tm.full_map(units=tm.click_units(areas), effects=tm.effects_table())
    return maps.save_map(m, tmp_path_factory.mktemp("c") / "karta.html")


def test_clicks_reach_treated_control_and_excluded_areas_and_every_marker(browser: Any, click_map: Path) -> None:
    o = open_map(browser, click_map)
    page = o.page
    # the excluded outline layer is off by default: switch it on, it must not take the click either
    page.locator(".leaflet-control-layers").get_by_text("Exkluderade områden").click()
    page.wait_for_timeout(200)
    assert page.locator("path.tg-unit.tg-excluded").count() == 1
    treated = _popup_after_click(page, *_xy(page, 0.2, 0.8))  # A1, under the treated outline
    for part in (tm.EVIL_AREA, "Behandlat område", "\u22126,0 procentenheter (95 % KI \u22129,0 till \u22123,0)",
                 "210", "I1: \u22122,1 procentenheter (95 % KI \u22125,0 till +0,8); MDE 3,5 p.e.",
                 "Justerat p 0,320 (Holm)", "n 410", "Differens-i-differenser (2×2)",
                 "I2: För få svar i kontrollområdena före åtgärden."):
        assert part in treated, (part, treated)
    control = _popup_after_click(page, *_xy(page, 1.2, 0.8))  # A2
    assert "Bagarmossen" in control and "Kontrollområde" in control
    assert "ej signifikant förändring" in control and "180" in control
    excluded = _popup_after_click(page, *_xy(page, 2.2, 0.8))  # A3
    assert "Kärrtorp" in excluded and "Exkluderat område" in excluded
    assert "För få svar i en mätvåg" in excluded
    # a marker of every point kind, by a real click on the marker
    seen: dict[str, str] = {}
    markers = page.locator(".leaflet-marker-pane .tg-marker")
    for i in range(markers.count()):
        page.evaluate(f"() => {FIND_MAP}.closePopup()")
        page.wait_for_timeout(300)  # the last popup's auto-pan
        box = markers.nth(i).bounding_box()
        # each marker is brought to the middle first, as a reader would pan to it
        page.evaluate(f"""() => {{ const m = {FIND_MAP}, s = m.getSize();
            m.panBy([{box["x"] + box["width"] / 2} - s.x / 2, {box["y"] + box["height"] / 2} - s.y / 2],
                    {{animate: false}}); }}""")
        box = markers.nth(i).bounding_box()
        text = _popup_after_click(page, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        kind = next(k for k in ("Kamerabevakning", "Klottersanering", "Trygghetsvandring") if k in text)
        seen.setdefault(kind, text)
        if tm.EVIL_INV in text:
            for part in ("MDE 3,5 p.e.", "0,320 (Holm)", "410", "Differens-i-differenser (2×2)"):
                assert part in text, (part, text)
    assert set(seen) == {"Kamerabevakning", "Klottersanering", "Trygghetsvandring"}
    assert "För få svar i kontrollområdena före åtgärden." in seen["Klottersanering"]
    assert "effekt ej beräknad" in seen["Trygghetsvandring"]
    # the lighting line (permutation headline) and the brush-clearance polygon
    line = _popup_after_click(page, *_xy(page, 1.5, 1.6))
    assert "Belysning" in line and "+1,5 procentenheter (95 % KI \u22122,0 till +5,0)" in line
    assert "Callaway" in line
    poly = _popup_after_click(page, *_xy(page, 2.5, 1.5))
    assert "Slyröjning" in poly and "effekt ej beräknad" in poly
    page.screenshot(path=str(ARTIFACTS / "karta_klick.png"))
    assert o.errors == [] and o.blocked == [] and o.dialogs == []
    page.close()


MAP_SHARE = """() => {
  const W = window.innerWidth, H = window.innerHeight; let map = 0, n = 0;
  for (let y = 2; y < H; y += 8) for (let x = 2; x < W; x += 8) {
    const el = document.elementFromPoint(x, y); n++;
    if (el && !el.closest('.leaflet-control, .tg-title, .leaflet-popup')) map++;
  }
  return map / n; }"""
SHOWN = """(sel) => { const el = document.querySelector(sel);
  return !!el && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().width > 0; }"""


def _phone_checks(page: Any) -> float:
    share = page.evaluate(MAP_SHARE)
    for sel in (".tg-title", ".leaflet-control.tg-legend", ".leaflet-control-layers"):
        assert not page.evaluate(SHOWN, sel), sel
    for sel in (".tg-btn-title", ".tg-btn-legend", ".tg-btn-layers"):
        assert page.evaluate(SHOWN, sel), sel
    for btn, sel in (("legend", ".leaflet-control.tg-legend"), ("layers", ".leaflet-control-layers"),
                     ("title", ".tg-title")):
        page.locator(f".tg-btn-{btn}").click()
        assert page.evaluate(SHOWN, sel), sel
        assert page.locator(f".tg-btn-{btn}").get_attribute("aria-expanded") == "true"
        page.locator(f".tg-btn-{btn}").click()
        assert not page.evaluate(SHOWN, sel), sel
    return share


def test_phone_collapses_title_legend_and_layers_into_buttons(browser: Any, small_map: Path) -> None:
    o = open_map(browser, small_map, width=390, height=844)
    share = _phone_checks(o.page)
    assert share >= 0.70, share
    o.page.screenshot(path=str(ARTIFACTS / "karta_liten_390x844.png"))
    assert o.errors == [] and o.blocked == []
    o.page.close()
    # on a desktop the panels are shown and the buttons are not
    o = open_map(browser, small_map, width=1366, height=900)
    assert o.page.evaluate(SHOWN, ".tg-title") and o.page.evaluate(SHOWN, ".leaflet-control.tg-legend")
    assert not o.page.evaluate(SHOWN, ".tg-btn-legend")
    o.page.close()


@pytest.fixture(scope="module")
def stockholm_map(stockholm_case: Any) -> Path:
    """karta.html of a full run on the Stockholm case (tests/stockholm_case.py)."""
    from trygg_geo import run

    res = run(stockholm_case.config)
    return res.paths["map"]


BASE_PIXELS = """() => [...document.querySelectorAll('.leaflet-tg-top-pane canvas, .leaflet-tg-base-pane canvas')]
  .map(c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let k = 0;
              for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++; return k; })
  .reduce((a, b) => a + b, 0)"""


def test_stockholm_case_offline_desktop_and_phone(browser: Any, stockholm_map: Path) -> None:
    assert stockholm_map.stat().st_size <= 5_000_000
    o = open_map(browser, stockholm_map, width=1366, height=900)
    page = o.page
    c = page.evaluate(COUNTS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "karta_stockholm_1366x900.png"))
    assert c["areas"] == 117
    assert c["markers"] + c["clustered"] > 30
    assert ("Andel som känner sig otrygga ute en sen kväll: förändring 2020\u21922023, procentenheter. "
            "Negativ = tryggare.") in c["legend"].replace("\n", " ")
    assert "Gator, parker och vatten" in c["layers"]
    assert page.evaluate(BASE_PIXELS) > 500  # streets drawn, with no network
    # the opening view is the investments and their areas, not all 117 stadsdelar
    zoom = page.evaluate(f"() => {FIND_MAP}.getZoom()")
    assert zoom >= 10
    page.evaluate(f"() => {FIND_MAP}.setView([59.338, 18.068], 15, {{animate: false}})")
    page.wait_for_timeout(500)
    assert page.evaluate(BASE_PIXELS) > 20_000  # the central streets at street level
    page.screenshot(path=str(ARTIFACTS / "karta_stockholm_1366x900_gator.png"))
    assert o.blocked == [] and o.errors == [] and o.dialogs == []
    page.close()
    o = open_map(browser, stockholm_map, width=390, height=844)
    page = o.page
    page.screenshot(path=str(ARTIFACTS / "karta_stockholm_390x844.png"))
    # the buttons at the top take height, not width: the investments fill the phone's width
    phone_zoom = page.evaluate(f"() => {FIND_MAP}.getZoom()")
    assert phone_zoom >= zoom - 1, (phone_zoom, zoom)
    share = _phone_checks(page)
    assert share >= 0.70, share
    # the legend, opened as a planner opens it, is readable on the phone
    page.locator(".tg-btn-legend").click()
    sizes = page.evaluate("""() => [...document.querySelectorAll('.leaflet-control.tg-legend *')]
        .filter(e => e.childNodes.length && [...e.childNodes].some(n => n.nodeType === 3
                     && n.textContent.trim()))
        .map(e => parseFloat(getComputedStyle(e).fontSize))""")
    assert sizes and min(sizes) >= 11, sizes
    page.screenshot(path=str(ARTIFACTS / "karta_stockholm_390x844_legend.png"))
    page.locator(".tg-btn-legend").click()
    # and the streets at street level, offline
    page.evaluate(f"() => {FIND_MAP}.setView([59.338, 18.068], 16, {{animate: false}})")
    page.wait_for_timeout(500)
    assert page.evaluate(BASE_PIXELS) > 20_000
    page.screenshot(path=str(ARTIFACTS / "karta_stockholm_390x844_gator.png"))
    assert o.blocked == [] and o.errors == []
    page.close()
