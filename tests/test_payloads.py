"""Payload corpus (issue 9, point 1): text from input files never runs and shows as written.

Every payload goes into every text field of every input of the demo city (register: name,
board, id, kind as written, address, district; areas: name and parent; survey area names;
incident categories; the project name), the real pipeline runs in-process, and the outputs
are checked as text (fast tests) and in headless Chromium with the network blocked
(``browser``): popups, tooltips, the search list, the title and the report's tables show each
payload verbatim, and nothing executes (no ``window.__pwned``, no dialog, no request, no
file created by a shell payload).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import pytest

from trygg_geo import cli, maps
from trygg_geo._escape import html_text, md_text, neutralise_cell, neutralise_frame
from trygg_geo.demo import make_demo_city
from trygg_geo.report import Block, Strong, render_html, render_markdown

ROOT = Path(__file__).resolve().parents[1]

PAYLOADS = [
    "{{ 7*7 }}",
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED_{n}').read() }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{# kommentar",
    "{{ etapp }}",
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '"><svg onload=window.__pwned=1>',
    "javascript:window.__pwned=1",
    "[klicka](javascript:window.__pwned=1)",
    "![bild](http://evil.example/x.png)",
    '=HYPERLINK("http://evil")',
    "A & B <b>fet</b>",
    "Åsa's väg \"nr\" 5",
]
N = len(PAYLOADS)
SEVEN = 0  # index of {{ 7*7 }}


def payload(i: int, code: str) -> str:
    """Payload ``i`` followed by a unique marker ``~<code><i>`` (a field code and the index)."""
    return PAYLOADS[i].replace("{n}", f"{code}{i:02d}") + f" ~{code}{i:02d}"


def marker(code: str, i: int) -> str:
    return f"~{code}{i:02d}"


# ----------------------------------------------------------------------------- the corpus run
def _write_csv(path: Path, df: pd.DataFrame) -> None:
    buf = io.StringIO()
    df.to_csv(buf, sep=";", index=False, quoting=csv.QUOTE_MINIMAL)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def build_corpus(folder: Path) -> dict[str, Any]:
    """The demo city with every payload in every text field; returns what went where."""
    make_demo_city(folder, seed=2024)
    reg = _read_csv(folder / "investeringar.csv")
    assert len(reg) >= 2 * N + 10
    for i in range(N):  # rows 0..N-1 keep their real address: they must be placed
        reg.loc[i, "Projektnamn"] = payload(i, "n")
        reg.loc[i, "Sökande nämnd"] = payload(i, "b")
        reg.loc[i, "Projekt-ID"] = payload(i, "i")
        reg.loc[i, "Åtgärd"] = reg.loc[i, "Åtgärd"] + " " + payload(i, "k")
        j = N + i  # rows N..2N-1: address and district are payloads (unplaced, with the reason)
        reg.loc[j, "Adress/plats"] = payload(i, "a")
        reg.loc[j, "Stadsdel"] = payload(i, "d")
    _write_csv(folder / "investeringar.csv", reg)

    areas = gpd.read_file(folder / "stadsdelar.geojson")
    for i in range(N):
        areas.loc[i, "stadsdel"] = payload(i, "s")
        areas.loc[i, "stadsdelsomrade"] = payload(i, "g")
    areas.to_file(folder / "stadsdelar.geojson", driver="GeoJSON")

    sv = _read_csv(folder / "trygghetsmatning.csv")
    sv["Stadsdel"] = [payload(k % N, "v") for k in range(len(sv))]
    _write_csv(folder / "trygghetsmatning.csv", sv)

    inc = _read_csv(folder / "handelser.csv")
    for i in range(N):
        inc.loc[i, "Kategori"] = payload(i, "c")
    _write_csv(folder / "handelser.csv", inc)

    title = " | ".join(payload(i, "t") for i in range(N))
    cfg = folder / "projekt.toml"
    text = cfg.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^name = ".*"$', lambda _: f"name = {_toml_str(title)}", text, count=1)
    cfg.write_text(text, encoding="utf-8")
    return {"title": title, "n_areas": len(areas)}


def pwned_files(*folders: Path) -> list[Path]:
    out: list[Path] = []
    for f in folders:
        if f.is_dir():
            out.extend(p for p in f.rglob("PWNED*"))
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("payloads")
    folder = base / "indata"
    info = build_corpus(folder)
    cwd = Path.cwd()
    os.chdir(base)  # a `touch PWNED_x` would land here
    try:
        code = cli.main(["run", str(folder / "projekt.toml")])
    finally:
        os.chdir(cwd)
    info.update(folder=folder, base=base, code=code, cwd=cwd)
    return info


def test_corpus_run_succeeds_and_runs_no_command(corpus: dict[str, Any]) -> None:
    assert corpus["code"] == 0
    base = corpus["base"]
    assert pwned_files(base, corpus["cwd"], ROOT, Path(base).parent) == []
    for name in ("karta.html", "rapport.md", "rapport.html", "resultat.gpkg"):
        assert (corpus["folder"] / name).is_file(), name


def _between(text: str, code: str, i: int, width: int = 400) -> list[str]:
    """The text just before each occurrence of marker ``code``/``i`` (where the payload sits)."""
    m = marker(code, i)
    return [text[max(0, k - width):k] for k in (x.start() for x in re.finditer(re.escape(m), text))]


def test_no_template_was_evaluated_in_any_output(corpus: dict[str, Any]) -> None:
    folder = corpus["folder"]
    for name in ("karta.html", "rapport.md", "rapport.html"):
        text = (folder / name).read_text(encoding="utf-8")
        text = text.replace("\\u003c", "<").replace("\\u003e", ">").replace("\\u0026", "&").replace("\\u0027", "'")
        text = text.replace("\\~", "~")  # Markdown escapes the marker's tilde
        for code in ("n", "s", "g", "t"):
            seen = _between(text, code, SEVEN)
            assert seen, (name, code)
            for before in seen:
                assert "{{ 7" in before.replace("\\*", "*"), (name, code, before[-80:])
                assert not before.rstrip().endswith("49"), (name, code, before[-80:])
        # the Jinja loop, the comment and the undefined variable are all still there as text
        assert "{% for x in range(3) %}x{% endfor %}" in text.replace("\\_", "_"), name
        assert "{# kommentar" in text.replace("\\#", "#"), name
        assert "{{ etapp }}" in text, name


def _unescaped(line: str) -> str:
    """A Markdown line with every backslash escape pair removed."""
    return re.sub(r"\\.", "", line)


def test_markdown_report_has_no_live_markup_from_data(corpus: dict[str, Any]) -> None:
    md = (corpus["folder"] / "rapport.md").read_text(encoding="utf-8")
    data_lines = [ln for ln in md.splitlines() if re.search(r"\\~[a-z]\d\d", ln)]
    assert len(data_lines) > 20
    for ln in data_lines:
        bare = _unescaped(ln)
        for bad in ("[", "]", "<", ">", "`", "javascript:", "http:"):
            assert bad not in bare, (bad, ln)
        assert not bare.lstrip().startswith(("#", ">", "=", "+")) or ln.startswith("# "), ln
    # the only image is the trend figure, and every table row has as many cells as its header
    assert re.findall(r"!\[[^\]]*\]\(([^)]*)\)", md) == ["rapport_trender.png"]
    header_cells = None
    for ln in md.splitlines():
        if ln.startswith("|"):
            cells = len(re.findall(r"(?<!\\)\|", ln))
            header_cells = header_cells or cells
            assert cells == header_cells, ln
        else:
            header_cells = None


def test_no_csv_or_excel_output_and_the_neutraliser(corpus: dict[str, Any]) -> None:
    folder = corpus["folder"]
    inputs = {"investeringar.csv", "trygghetsmatning.csv", "handelser.csv", "tyck_till.csv"}
    written = {p.name for p in folder.iterdir() if p.suffix.lower() in (".csv", ".xlsx", ".xls", ".tsv")}
    # the only CSV the package writes is projekt.csv, which goes through neutralise_frame
    assert written == inputs | {"projekt.csv"}  # the report's full project table
    assert neutralise_cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    for s in ("+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise_cell(s) == "'" + s
    assert neutralise_cell("Åsa's väg") == "Åsa's väg" and neutralise_cell(-5.0) == -5.0
    df = neutralise_frame(pd.DataFrame({"name": [PAYLOADS[11], "ok", None], "n": [-1, 2, 3]}))
    assert df["name"].tolist()[:2] == ["'" + PAYLOADS[11], "ok"] and df["n"].tolist() == [-1, 2, 3]


# ----------------------------------------------------------------------------- fast, no pipeline
def test_map_and_report_render_payloads_once_without_the_pipeline(tmp_path: Path) -> None:
    import test_maps as tm

    a = tm.make_areas()
    inv = tm.make_investments()
    for i in range(len(a)):
        a.loc[a.index[i], "name"] = payload(i, "s")
        a.loc[a.index[i], "parent"] = payload(N - 1 - i, "g")
    for i in range(len(inv)):
        inv.loc[inv.index[i], "name"] = payload((i + 6) % N, "n")
        inv.loc[inv.index[i], "investment_id"] = payload(i % N, "i")
    title = " | ".join(payload(i, "t") for i in range(N))
    m = maps.build_map(areas=a, investments=inv, units=tm.make_units(a), tiles=None, title=title,
                       run_id="{{ 7*7 }}<b>")
    page = maps.save_map(m, tmp_path / "k.html").read_text(encoding="utf-8")
    # escaped once; "/" as "&#47;" so that a URL in a name is never taken for an address
    assert "<title>" + html_text(title).replace("/", "&#47;") + "</title>" in page
    assert '<meta name="trygg-geo-run-id" content="{{ 7*7 }}&lt;b&gt;">' in page
    assert "{{ 7*7 }} ~s00" in page and "{{ 7*7 }} ~t00" in page and "49 ~" not in page
    blocks = [Block("h1", title), Block("p", [payload(0, "p"), Strong(payload(9, "q"))]),
              Block("list", [payload(i, "l") for i in range(N)]),
              Block("table", pd.DataFrame({"Namn": [payload(i, "c") for i in range(N)]}))]
    md, html = render_markdown(blocks), render_html(blocks, lang="sv", run_id="r1")
    for text in (md, html):
        assert "49 \\~" not in text and "49 ~" not in text
    assert "<strong>" + html_text(payload(9, "q")) + "</strong>" in html
    for i in range(N):
        assert html_text(payload(i, "c")) in html and md_text(payload(i, "c"), block=False) in md


def test_save_map_renders_any_folium_map_once(tmp_path: Path) -> None:
    """Even a plain folium map with data in a GeoJSON property is not evaluated by save_map."""
    m = folium.Map(tiles=None)
    folium.GeoJson({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "X{{ 7*7 }}X {#"},
        "geometry": {"type": "Point", "coordinates": [18.0, 59.3]}}]}).add_to(m)
    page = maps.save_map(m, tmp_path / "plain.html").read_text(encoding="utf-8")
    assert "X{{ 7*7 }}X {#" in page and "X49X" not in page


_TEMPLATE_CALLS = {"Element", "Template", "Html", "from_string", "Environment"}


def _literal(node: ast.AST, constants: set[str]) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.Name):
        return node.id in constants
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal(node.left, constants) and _literal(node.right, constants)
    return False


@pytest.mark.parametrize("module", ["trygg_geo/maps.py", "trygg_geo/report.py"])
def test_no_template_is_built_from_anything_but_a_literal(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    constants = {t.id for n in tree.body if isinstance(n, ast.Assign) and _literal(n.value, set())
                 for t in n.targets if isinstance(t, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in _TEMPLATE_CALLS and (node.args or node.keywords):
                arg = node.args[0] if node.args else node.keywords[0].value
                assert _literal(arg, constants), f"{module}:{node.lineno}: {name}() from a non-literal"


# ----------------------------------------------------------------------------- Chromium
from _browser import open_map  # noqa: E402

PWN = "() => [window.__pwned, document.querySelectorAll('img[src=\"x\"], svg[onload], b').length]"


def _open_page(browser: Any, path: Path) -> Any:
    from _browser import Opened

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    o = Opened(page)

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            o.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: o.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: o.errors.append(str(exc)))
    page.on("dialog", lambda d: (o.dialogs.append(d.message), d.dismiss()))
    page.goto(path.resolve().as_uri())
    page.wait_for_timeout(300)
    return o


AREA_TEXTS = """() => {
  const map = Object.values(window).find(v => v instanceof window.L.Map);
  const out = [];
  map.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p || p.parent === undefined || !l.getBounds) return;
    l.fire('click', {latlng: l.getBounds().getCenter()}, true);
    const pop = document.querySelector('.leaflet-popup-content');
    l.openTooltip(l.getBounds().getCenter());
    const tip = document.querySelector('.leaflet-tooltip');
    out.push({name: p.name, parent: p.parent, popup: pop ? pop.textContent : null,
              tooltip: tip ? tip.textContent : null});
    map.closePopup(); l.closeTooltip();
  });
  return out;
}"""


INVESTMENT_TEXTS = """() => {
  const map = Object.values(window).find(v => v instanceof window.L.Map);
  const out = [];
  map.eachLayer(l => {
    const p = l.feature && l.feature.properties;
    if (!p || p.placed_by === undefined) return;
    const at = l.getBounds ? l.getBounds().getCenter() : l.getLatLng();
    l.fire('click', {latlng: at}, true);
    document.querySelectorAll('.leaflet-popup-content').forEach(e => out.push(e.textContent));
    map.closePopup();
  });
  return out;
}"""


@pytest.mark.browser
def test_map_in_chromium_executes_nothing_and_shows_every_payload(browser: Any, corpus: dict[str, Any]) -> None:
    o = open_map(browser, corpus["folder"] / "karta.html")
    page = o.page
    # title and page title, as written
    assert page.title() == corpus["title"]
    assert page.locator(".tg-title").evaluate("e => e.firstChild.textContent") == corpus["title"]
    # every area popup and tooltip (14 payload names and parents)
    areas = page.evaluate(AREA_TEXTS)
    assert len(areas) == corpus["n_areas"]
    by_name = {a["name"]: a for a in areas}
    for i in range(N):
        a = by_name[payload(i, "s")]
        assert payload(i, "s") in a["popup"] and payload(i, "g") in a["popup"], a
        assert payload(i, "s") in a["tooltip"], a
    # every investment marker, clicked for real: popups with name, board and id as written
    markers = page.locator(".leaflet-marker-pane .tg-marker")
    popups: list[str] = []
    # close the last popup and undo its auto-pan, so that every marker is in view again
    page.evaluate("() => { const m = Object.values(window).find(v => v instanceof window.L.Map);"
                  " window.__view = [m.getCenter(), m.getZoom()]; }")
    close = ("() => { const m = Object.values(window).find(v => v instanceof window.L.Map);"
             " m.closePopup(); m.setView(window.__view[0], window.__view[1], {animate: false}); }")
    opened = 0
    for k in range(markers.count()):
        # a click can race the re-clustering after the view is reset: try a marker up to three
        # times, and count it only when its popup is there to be read
        for _ in range(3):
            page.evaluate(close)
            page.wait_for_timeout(100)
            markers.nth(k).click(force=True)
            try:
                page.wait_for_selector(".leaflet-popup-content", timeout=15_000)
            except Exception:  # noqa: BLE001 - playwright's TimeoutError: try again
                continue
            got = page.evaluate(
                "() => [...document.querySelectorAll('.leaflet-popup-content')].map(e => e.textContent)")
            if got:
                popups.extend(got)
                opened += 1
                break
    assert opened == markers.count() > 0
    # lines and polygons (lighting, brush clearance): every investment layer's popup, opened by a click
    page.evaluate(close)
    popups.extend(page.evaluate(INVESTMENT_TEXTS))
    joined = "\n".join(popups)
    shown = [i for i in range(N) if payload(i, "n") in joined]
    assert len(shown) >= N - 2, f"payload names on the map: {shown}"
    for i in shown:
        assert payload(i, "b") in joined and payload(i, "i") in joined, i
    # hover a marker: its tooltip is text too
    page.evaluate(close)
    markers.first.hover(force=True)
    page.wait_for_selector(".leaflet-tooltip", timeout=15_000)  # generous: CI shares 2 cores
    assert page.locator(".leaflet-tooltip").count() >= 1
    # the search box: each payload area is found by its marker, listed as text, and opens
    box = page.locator(".leaflet-control-search input")
    for i in range(N):
        box.fill("")
        box.press_sequentially(marker("s", i), delay=20)
        page.wait_for_selector(".search-tooltip .search-tip", timeout=15_000)  # generous: CI shares 2 cores
        tips = page.locator(".search-tooltip .search-tip")
        assert [tips.nth(k).evaluate("e => e.textContent") for k in range(tips.count())] == [payload(i, "s")]
        tips.first.click()
        page.wait_for_timeout(150)
        assert box.input_value() == payload(i, "s")
    pwned, injected = page.evaluate(PWN)
    assert pwned is None and injected == 0
    # only the background tiles were asked for (and refused)
    assert all(u.startswith("https://tile.openstreetmap.org/") for u in o.blocked), o.blocked
    assert o.dialogs == [] and [e for e in o.errors if "tile.openstreetmap" not in e] == [], (o.dialogs, o.errors)
    assert pwned_files(corpus["base"], corpus["cwd"]) == []
    page.close()


@pytest.mark.browser
def test_report_in_chromium_executes_nothing_and_shows_every_payload(browser: Any, corpus: dict[str, Any]) -> None:
    o = _open_page(browser, corpus["folder"] / "rapport.html")
    page = o.page
    assert page.title() == corpus["title"]
    assert page.locator("h1").evaluate("e => e.textContent") == corpus["title"]
    cells = page.evaluate("() => [...document.querySelectorAll('td')].map(td => td.textContent)")
    cellset = set(cells)
    import pyogrio

    # "Per område" lists the areas of the analysis (treated and control) only
    gpkg = corpus["folder"] / "resultat.gpkg"
    in_analysis = set()
    for layer in ("behandling", "kontroll"):
        in_analysis |= set(pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)["name"])
    shown = [i for i in range(N) if payload(i, "s") in in_analysis]
    assert shown, "no payload area is treated or control"
    for i in range(N):
        assert payload(i, "n") in cellset, payload(i, "n")  # Per projekt: name
        assert payload(i, "i") in cellset, payload(i, "i")  # Per projekt: id
    for i in shown:
        assert payload(i, "s") in cellset, payload(i, "s")  # Per område
    # the unplaced table shows each unplaced payload address as written

    unplaced = set(pyogrio.read_dataframe(corpus["folder"] / "resultat.gpkg", layer="ej_placerade",
                                          read_geometry=False)["source_row"].astype(int))
    rows = [i for i in range(N) if N + i + 2 in unplaced]  # source_row = index + 2
    assert len(rows) >= N - 3, rows
    for i in rows:
        assert payload(i, "a") in cellset, payload(i, "a")
    assert page.locator("a, img:not([src^='data:'])").count() == 0
    pwned, injected = page.evaluate(PWN)
    assert pwned is None and injected == 0
    assert o.dialogs == [] and o.blocked == [] and o.errors == [], (o.dialogs, o.blocked, o.errors)
    page.close()
