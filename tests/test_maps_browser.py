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
        page.wait_for_selector(".leaflet-popup-content", timeout=3000)
        text = page.locator(".leaflet-popup-content").inner_text()
        if tm.EVIL_INV in text:
            found = page.locator(".leaflet-popup-content")
            break
    assert marker.count() == 2
    assert found is not None, "no popup showed the investment's name"
    text = found.inner_text()
    assert "1 250 000 kr" in text and "Kamerabevakning" in text and "2021-05-01" in text
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


def test_only_tiles_are_requested_and_layers_draw_without_them(browser: Any, tmp_path: Path) -> None:
    path = maps.save_map(tm.full_map(tiles="OpenStreetMap"), tmp_path / "osm.html")
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
