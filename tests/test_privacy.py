"""Privacy of incident and report points (issue 14, point 5).

After a real demo run, every published output is scanned for the raw points of the incident
file and the resident-report file: no vertex of any GeoPackage layer (other than the
investments, which are public) lies on one, and no coordinate as written in those files, nor
its longitude/latitude as the map would write it, appears in the map or the reports. With
``[privacy] publish_points = true`` the report points are published, and the same scan finds
them: the check can fail.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.pipeline import run

PUBLIC = {"investeringar_punkt", "investeringar_linje", "investeringar_yta"}


def _raw_points(city) -> pd.DataFrame:
    inc = pd.read_csv(city.incidents, sep=";", dtype=str, encoding="utf-8-sig")
    inc = pd.DataFrame({"x": inc["X"], "y": inc["Y"]})
    rep = pd.read_csv(city.reports, sep=";", dtype=str, encoding="utf-8-sig")
    rep = rep[rep["X"].notna()]
    rep = pd.DataFrame({"x": rep["Y"], "y": rep["X"]})  # Swedish order: X is the northing
    out = pd.concat([inc.assign(src="incident", raw_x=inc["x"], raw_y=inc["y"]),
                     rep.assign(src="report", raw_x=rep["x"], raw_y=rep["y"])],
                    ignore_index=True)
    for c in ("x", "y"):
        out[c] = out[c].str.replace(",", ".").astype(float)
    return out


def _run(tmp_path: Path, *, publish: bool):
    city = make_demo_city(tmp_path / "indata", seed=2024)
    cfg = load_config(city.config)
    cfg = replace(cfg, output=replace(cfg.output, folder=tmp_path / "ut"),
                  privacy=replace(cfg.privacy, publish_points=publish))
    run(cfg, write=True)
    return city, tmp_path / "ut"


def _vertex_hits(gpkg: Path, raw: pd.DataFrame) -> dict[str, int]:
    tree = cKDTree(raw[["x", "y"]].to_numpy())
    hits = {}
    for name, geom in pyogrio.list_layers(gpkg):
        if geom is None or name in PUBLIC:
            continue
        g = pyogrio.read_dataframe(gpkg, layer=name)
        if not len(g):
            continue
        xy = shapely.get_coordinates(g.geometry.to_numpy())
        d, _ = tree.query(xy, k=1)
        n = int((d < 0.05).sum())
        if n:
            hits[name] = n
    return hits


def _text_outputs(folder: Path) -> list[str]:
    """Every file of the run's manifest that holds text (the PDF as its extracted text)."""
    import json

    files = [e["file"] for e in json.loads((folder / "korning.json").read_text("utf-8"))["files"]]
    out = [f for f in files if Path(f).suffix in (".html", ".md", ".csv", ".json", ".pdf")]
    assert {"karta.html", "rapport.md", "rapport.html", "projekt.csv", "rapport.pdf"} <= set(out)
    return [*out, "korning.json"]


def _read_text(path: Path) -> str:
    if path.suffix != ".pdf":
        return path.read_text(encoding="utf-8-sig")
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    finally:
        pdf.close()


def _text_hits(folder: Path, raw: pd.DataFrame) -> dict[str, int]:
    to_ll = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(raw["x"].to_numpy(), raw["y"].to_numpy())
    hits = {}
    for name in _text_outputs(folder):
        text = _read_text(folder / name)
        text = re.sub(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+", "", text)
        n = 0
        for rx, ry, lo, la in zip(raw["raw_x"], raw["raw_y"], lon, lat, strict=True):
            if f"{rx}" in text and f"{ry}" in text:
                n += 1
            elif re.search(rf"{lo:.5f}\d*,\s*{la:.5f}", text):
                n += 1
        if n:
            hits[name] = n
    return hits


@pytest.fixture(scope="module")
def private_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("privat"), publish=False)


def test_no_raw_incident_or_report_point_is_published(private_run) -> None:
    city, out = private_run
    raw = _raw_points(city)
    assert len(raw) > 4000 and (raw["src"] == "report").sum() > 150
    gpkg = out / "resultat.gpkg"
    names = {n for n, _ in pyogrio.list_layers(gpkg)}
    assert "rapporter" not in names
    # every report row is accounted for: placed, or in ej_placerade_rapporter with its reason
    un = pyogrio.read_dataframe(gpkg, layer="ej_placerade_rapporter", read_geometry=False)
    assert len(un) >= 1 and un["reason_text"].notna().all()
    assert "text" not in un.columns and "x" not in un.columns
    assert {"otrygga_platser", "forslag_platser", "rapporterade_platser"} <= names
    assert _vertex_hits(gpkg, raw) == {}
    assert _text_hits(out, raw) == {}
    # aggregates: no published count below min_count (3)
    for layer, col in (("otrygga_platser", "count"), ("rapporterade_platser", "n_reports"),
                       ("forslag_platser", "reports")):
        vals = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)[col].dropna()
        assert (vals == 0).sum() + (vals >= 3).sum() == len(vals), layer
    # free text of the reports is not in any output
    for name in _text_outputs(out):
        assert "Trasig lampa sedan i höstas" not in _read_text(out / name), name
    # the ranking is on the map as its own layer (aggregates only, checked above)
    page = (out / "karta.html").read_text(encoding="utf-8")
    import json

    assert json.dumps("Förslag: var åtgärda härnäst")[1:-1] in page  # the layer's name, as JSON


def test_publish_points_publishes_them_and_the_scan_finds_them(tmp_path: Path) -> None:
    city, out = _run(tmp_path, publish=True)
    raw = _raw_points(city)
    gpkg = out / "resultat.gpkg"
    rep = pyogrio.read_dataframe(gpkg, layer="rapporter")
    assert "text" not in rep.columns  # free text only with publish_text
    hits = _vertex_hits(gpkg, raw)
    assert hits.get("rapporter", 0) == (raw["src"] == "report").sum()
    assert set(hits) == {"rapporter"}
    assert np.isfinite(rep.geometry.x).all()
