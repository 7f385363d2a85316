"""QGIS for real: the demo run's ``resultat.gpkg`` opened, styled and drawn by QGIS (issue 13.6).

Debian's ``python3-qgis`` is built for the system python (``/usr/bin/python3``), not for the
interpreter the tests run in, so QGIS runs in a child process (``QT_QPA_PLATFORM=offscreen``)
that reads the GeoPackage, loads every layer with its default style from ``layer_styles``,
writes what it found as JSON and renders PNGs into ``tests/_artifacts/`` (git-ignored). The
tests here check that JSON and those images. They skip only when ``/usr/bin/python3`` cannot
import QGIS (``apt-get install python3-qgis qgis-providers``); CI installs both and ``.ci/run``
fails when the import does.

The GDAL-side checks of the same file (``ogrinfo``, GDAL's validator) stay in
``tests/test_export.py`` and ``tests/test_pipeline.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

from trygg_geo import layers as cat
from trygg_geo._palette import class_colour
from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.export import write_geopackage
from trygg_geo.maps import build_map
from trygg_geo.pipeline import run

SYSTEM_PYTHON = Path("/usr/bin/python3")
ARTIFACTS = Path(__file__).resolve().parent / "_artifacts"

# the QGIS side: argv = gpkg, folder for the PNGs, their name prefix; prints one JSON document
QGIS_SCRIPT = r'''
import json
import sys

from qgis.core import (QgsApplication, QgsMapRendererParallelJob, QgsMapSettings,
                       QgsPointXY, QgsRenderContext, QgsVectorLayer, QgsWkbTypes)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

gpkg, outdir, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
app = QgsApplication([], False)
app.initQgis()


def open_layer(name, styled):
    opts = QgsVectorLayer.LayerOptions()
    opts.loadDefaultStyle = False
    layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr", opts)
    msg, ok = layer.loadDefaultStyle() if styled else ("", False)
    return layer, msg, ok


def render(layers, extent, path):
    settings = QgsMapSettings()
    settings.setLayers(layers)  # the first is drawn on top
    settings.setDestinationCrs(layers[-1].crs())
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(900, 900))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    if not image.save(path, "PNG"):
        raise SystemExit(f"could not save {path}")
    return settings, image


def describe(layer, msg, ok):
    r = layer.renderer() if layer.isSpatial() else None
    out = {
        "valid": layer.isValid(), "style_loaded": ok, "style_message": msg,
        "spatial": layer.isSpatial(), "features": layer.featureCount(),
        "crs": layer.crs().authid() if layer.isSpatial() else None,
        "geometry": QgsWkbTypes.displayString(layer.wkbType()),
        "aliases": {f.name(): f.alias() for f in layer.fields()},
        "renderer": r.type() if r is not None else None,
        "attr": r.classAttribute() if r is not None and hasattr(r, "classAttribute") else None,
        "categories": [],
    }
    if r is not None and r.type() == "categorizedSymbol":
        out["categories"] = [[str(c.value()), c.label(), c.symbol().color().name(),
                              c.symbol().color().alpha()] for c in r.categories()]
    return out


whole = QgsVectorLayer(gpkg, "all", "ogr")
names = [s.split("!!::!!")[1] for s in whole.dataProvider().subLayers()]
result = {"qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION, "layers": {}, "names": names}
styled, plain = {}, {}
for name in names:
    if name == "layer_styles":
        continue
    layer, msg, ok = open_layer(name, True)
    result["layers"][name] = describe(layer, msg, ok)
    styled[name] = layer
    plain[name] = open_layer(name, False)[0]

# the colour QGIS gives every area, by its renderer
om = styled["omraden"]
settings = QgsMapSettings()
settings.setLayers([om])
settings.setExtent(om.extent())
settings.setOutputSize(QSize(900, 900))
ctx = QgsRenderContext.fromMapSettings(settings)
renderer = om.renderer().clone()
renderer.startRender(ctx, om.fields())
areas = {}
for f in om.getFeatures():
    symbols = renderer.symbolsForFeature(f, ctx)
    areas[f["area_id"]] = {
        "name": f["name"], "stilklass": f["stilklass"],
        "fill": symbols[0].color().name() if symbols else None,
        "alpha": symbols[0].color().alpha() if symbols else None,
        "inside": [f.geometry().pointOnSurface().asPoint().x(),
                   f.geometry().pointOnSurface().asPoint().y()],
    }
renderer.stopRender(ctx)

# the areas alone, then every spatial layer styled and unstyled (investments on top)
order = ["investeringar_punkt", "investeringar_linje", "investeringar_yta", "behandling",
         "kontroll", "spill", "omraden", "otrygga_platser"]
spatial = [n for n in order if n in styled and styled[n].isSpatial()]
extent = om.extent()
extent.scale(1.05)
ms, image = render([om], extent, f"{outdir}/{prefix}_omraden.png")
m2p = ms.mapToPixel()
for a in areas.values():
    p = m2p.transform(QgsPointXY(*a["inside"]))
    c = image.pixelColor(int(round(p.x())), int(round(p.y())))
    a["pixel"] = [c.red(), c.green(), c.blue()]
render([styled[n] for n in spatial], extent, f"{outdir}/{prefix}_styled.png")
render([plain[n] for n in spatial], extent, f"{outdir}/{prefix}_unstyled.png")
result["areas"] = areas
result["rendered"] = spatial
print(json.dumps(result), flush=True)
# QGIS crashes on exit while layers are alive: free them first
del renderer, om, whole, layer
styled.clear()
plain.clear()
app.exitQgis()
'''


def _qgis_importable() -> str | None:
    """Why QGIS cannot run here, or None when it can."""
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} does not exist (Debian's python3 with python3-qgis is needed)"
    res = subprocess.run([str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    if res.returncode != 0:
        return (f"{SYSTEM_PYTHON} cannot import qgis ({res.stderr.strip().splitlines()[-1:]}); "
                "install it with: apt-get install -y python3-qgis qgis-providers")
    return None


@pytest.fixture(scope="module")
def demo_gpkg(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, gpd.GeoDataFrame]:
    """The demo city run once: its output folder and the areas it mapped."""
    why = _qgis_importable()
    if why:
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("qgis_demo")
    city = make_demo_city(folder / "indata", seed=2024)
    cfg = load_config(city.config)
    res = run(replace(cfg, output=replace(cfg.output, folder=folder)), write=True)
    return folder, res.areas


def _run_qgis(gpkg: Path, prefix: str) -> dict[str, Any]:
    """Run :data:`QGIS_SCRIPT` on ``gpkg`` under Debian's python; its JSON answer.

    The PNGs are drawn beside ``gpkg`` (the answer's ``png_dir``), where the tests read them,
    and copied to ``tests/_artifacts/`` for people (atomically: pytest-xdist workers may
    write the same names).
    """
    script = gpkg.parent / "qgis_check.py"
    script.write_text(QGIS_SCRIPT, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(gpkg.parent)}
    env.pop("PYTHONPATH", None)  # the child uses Debian's own packages, not the project's
    res = subprocess.run([str(SYSTEM_PYTHON), str(script), str(gpkg), str(gpkg.parent), prefix],
                         capture_output=True, text=True, timeout=300, env=env, cwd=gpkg.parent)
    assert res.returncode == 0, res.stderr[-3000:]
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    out["png_dir"] = str(gpkg.parent)
    ARTIFACTS.mkdir(exist_ok=True)
    for png in gpkg.parent.glob(f"{prefix}_*.png"):
        tmp = ARTIFACTS / f".{png.name}.{os.getpid()}.tmp"
        shutil.copyfile(png, tmp)
        os.replace(tmp, ARTIFACTS / png.name)
    return out


@pytest.fixture(scope="module")
def qgis(demo_gpkg: tuple[Path, gpd.GeoDataFrame]) -> dict[str, Any]:
    """QGIS on the demo run's ``resultat.gpkg``."""
    folder, _ = demo_gpkg
    return _run_qgis(folder / "resultat.gpkg", "qgis")


@pytest.fixture(scope="module")
def by_interval(demo_gpkg: tuple[Path, gpd.GeoDataFrame],
                tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """The demo areas judged by their intervals (no ``significant`` flag).

    Some of them are coloured then: QGIS's answer on their GeoPackage, and the HTML map of the
    same areas.
    """
    _, areas = demo_gpkg
    areas = areas.drop(columns=[c for c in ("significant", "p_adjusted", "adjust_method")
                                if c in areas.columns])
    gpkg = tmp_path_factory.mktemp("qgis_interval") / "omraden.gpkg"
    write_geopackage(gpkg, {"omraden": areas})
    html = build_map(areas=areas, tiles=None).get_root().render()
    return _run_qgis(gpkg, "qgis_interval"), html


def _html_areas(html: str) -> dict[str, tuple[str, str, float]]:
    """Area name -> (style class, fill colour, fill opacity) of ``karta.html``'s areas."""
    decoder = json.JSONDecoder()
    out: dict[str, tuple[str, str, float]] = {}
    for m in re.finditer(r"geo_json_[0-9a-f]+_add\(", html):
        data, _ = decoder.raw_decode(html, m.end())
        for f in data.get("features", []):
            style = f.get("properties", {}).get("style", {})
            cls = re.search(r"\btg-class-(\w+)", style.get("className", ""))
            if "tg-area" in style.get("className", "").split() and cls:
                out[f["properties"]["name"]] = (cls.group(1), style["fillColor"].lower(),
                                                float(style["fillOpacity"]))
    return out


def _same_as_html(got: dict[str, Any], html: dict[str, tuple[str, str, float]]) -> None:
    assert len({a["name"] for a in got.values()}) == len(got)  # names match one area each
    assert set(html) == {a["name"] for a in got.values()}
    for area_id, a in got.items():
        cls, fill, opacity = html[a["name"]]
        assert (a["stilklass"], a["fill"]) == (cls, fill), (area_id, a, html[a["name"]])
        assert abs(a["alpha"] - 255 * opacity) <= 1, (area_id, a["alpha"], opacity)


def _image(answer: dict[str, Any], name: str) -> np.ndarray:
    return np.asarray(Image.open(Path(answer["png_dir"]) / name).convert("RGB"), dtype=int)


# --------------------------------------------------------------------------- tests


def test_every_layer_loads_with_its_style_from_the_geopackage(qgis: dict[str, Any]) -> None:
    layers = qgis["layers"]
    # the demo writes every catalogue layer it has data for: report points only with
    # [privacy] publish_points, and no plan
    assert set(layers) == set(cat.layer_names()) - {
        "rapporter", "plan_investeringar", "plan_behandlade", "plan_kontroller", "plan_balans"}
    for name, info in layers.items():
        assert info["valid"], name
        # QGIS found the default style in layer_styles (its message: "Loaded from Provider")
        assert info["style_loaded"] and "Provider" in info["style_message"], (name, info)
    expected = {
        "investeringar_punkt": ("categorizedSymbol", "kind"),
        "investeringar_linje": ("categorizedSymbol", "kind"),
        "investeringar_yta": ("categorizedSymbol", "kind"),
        "omraden": ("categorizedSymbol", "stilklass"),
        "behandling": ("singleSymbol", None),
        "kontroll": ("singleSymbol", None),
        "spill": ("singleSymbol", None),
        "otrygga_platser": ("categorizedSymbol", "gi_bin"),
        "ej_placerade": (None, None),
        "effekter": (None, None),
        "otrygga_platser_over_tid": ("singleSymbol", None),
        "morka_strak": ("singleSymbol", None),
        "forslag_platser": ("singleSymbol", None),
        "rapporterade_platser": ("singleSymbol", None),
        "morka_strak_omraden": (None, None),
        "ej_placerade_rapporter": (None, None),
    }
    assert {n: (i["renderer"], i["attr"]) for n, i in layers.items()} == expected
    assert layers["omraden"]["features"] == 42 and layers["ej_placerade"]["features"] == 7
    assert layers["omraden"]["geometry"] in ("MultiPolygon", "Polygon")
    assert layers["investeringar_punkt"]["geometry"] == "Point"


def test_crs_and_swedish_aliases(qgis: dict[str, Any],
                                 demo_gpkg: tuple[Path, gpd.GeoDataFrame]) -> None:
    _, areas = demo_gpkg
    epsg = areas.crs.to_epsg()
    assert epsg == 3006
    for name, info in qgis["layers"].items():
        assert info["crs"] == (f"EPSG:{epsg}" if info["spatial"] else None), name
        fields = [f for f in info["aliases"] if f != "fid"]
        want = cat.field_aliases(name, "sv", columns=fields)
        assert want and {f: info["aliases"][f] for f in want} == want, name
    om = qgis["layers"]["omraden"]["aliases"]
    assert om["area_id"] == "Områdes-id" and om["stilklass"] == "Kartklass"
    assert om["otrygg_kvall_2018"] == "Otrygg kväll 2018 (andel)"
    assert qgis["layers"]["ej_placerade"]["aliases"]["reason_text"] == "Orsak"
    assert qgis["layers"]["investeringar_linje"]["aliases"]["kind"] == "Åtgärdstyp"


def test_qgis_colours_every_area_as_the_html_map_does(
    qgis: dict[str, Any], demo_gpkg: tuple[Path, gpd.GeoDataFrame]
) -> None:
    folder, areas = demo_gpkg
    got = qgis["areas"]
    assert len(got) == len(areas) == 42
    _same_as_html(got, _html_areas((folder / "karta.html").read_text(encoding="utf-8")))
    sig = areas.set_index("area_id")["significant"].astype("boolean").fillna(False)
    for area_id, a in got.items():  # grey exactly where the run found no significant change
        assert (a["stilklass"] == "ns") == (not bool(sig[area_id])), area_id
    cats = qgis["layers"]["omraden"]["categories"]
    assert cats[-1][:2] == ["ns", "ej signifikant förändring"]


def test_coloured_classes_agree_too(by_interval: tuple[dict[str, Any], str]) -> None:
    got, html = by_interval
    _same_as_html(got["areas"], _html_areas(html))
    classes = [a["stilklass"] for a in got["areas"].values()]
    # the demo's intervals: some clear falls, the rest noise
    assert sum(c.startswith("neg") for c in classes) >= 3 and classes.count("ns") >= 20
    k = max(int(c[3:]) for c in classes if c[:3] in ("neg", "pos"))
    for a in got["areas"].values():
        assert a["fill"] == class_colour(a["stilklass"], k)
    # QGIS's legend: the coloured classes from the largest fall up, then the grey
    cats = got["layers"]["omraden"]["categories"]
    assert [c[0] for c in cats] == [f"neg{i}" for i in range(k, 0, -1)] + [
        f"pos{i}" for i in range(1, k + 1)] + ["ns"]
    assert cats[0][1].startswith("\u2212") and " till " in cats[0][1]


@pytest.mark.parametrize("case", ["qgis", "qgis_interval"])
def test_rendered_areas_show_their_class_colour(
    case: str, qgis: dict[str, Any], by_interval: tuple[dict[str, Any], str]
) -> None:
    answer = qgis if case == "qgis" else by_interval[0]
    img = _image(answer, f"{case}_omraden.png")
    assert img.shape == (900, 900, 3)
    for area_id, a in answer["areas"].items():
        fill = np.array([int(a["fill"][i:i + 2], 16) for i in (1, 3, 5)])
        share = a["alpha"] / 255
        blended = fill * share + 255 * (1 - share)  # over the white background
        assert np.abs(np.array(a["pixel"]) - blended).max() <= 3, (area_id, a, blended)


def test_rendered_map_is_not_blank_and_the_style_shows(qgis: dict[str, Any]) -> None:
    assert "omraden" in qgis["rendered"] and "investeringar_punkt" in qgis["rendered"]
    styled, plain = _image(qgis, "qgis_styled.png"), _image(qgis, "qgis_unstyled.png")
    for img in (styled, plain):
        assert img.shape == (900, 900, 3)
        not_white = (img < 250).any(axis=2).mean()
        assert not_white > 0.5  # the areas fill the extent
        assert len(np.unique(img.reshape(-1, 3), axis=0)) > 20
    differs = (np.abs(styled - plain).max(axis=2) > 10).mean()
    assert differs > 0.3, differs
    # the catalogue's kind colours are drawn: every investment point kind shows in the styled
    # image, in its own colour (fill of the categorized marker)
    kinds = {c[2] for c in qgis["layers"]["investeringar_punkt"]["categories"]}
    flat = {"#{:02x}{:02x}{:02x}".format(*p) for p in np.unique(styled.reshape(-1, 3), axis=0)}
    assert kinds & flat
