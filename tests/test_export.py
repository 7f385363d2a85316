"""Tests of trygg_geo.export (GeoPackage, GeoTIFF) and the layer catalogue (trygg_geo.layers).

Real tools: pyogrio/GDAL write, Debian's ``ogrinfo`` and GDAL's own ``validate_gpkg.py`` check,
sqlite3 reads the tables QGIS reads, rasterio reads the GeoTIFF, and a child process is
really killed in the middle of a write.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Point, box

from trygg_geo import layers as cat
from trygg_geo._errors import CRSError, InputError
from trygg_geo.export import GpkgReport, write_geopackage, write_raster_atomic
from trygg_geo.interventions import CATALOGUE

OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"
VALIDATE_GPKG = Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py")
DESIGN_LAYERS = [
    "investeringar_punkt", "investeringar_linje", "investeringar_yta", "ej_placerade",
    "omraden", "behandling", "kontroll", "spill", "effekter", "otrygga_platser",
    # the evaluation plan (trygg-geo planera)
    "plan_investeringar", "plan_behandlade", "plan_kontroller", "plan_balans",
    # the lägesbild of unsafe places (issue 14)
    "otrygga_platser_over_tid", "morka_strak", "morka_strak_omraden", "rapporterade_platser",
    "forslag_platser", "rapporter", "ej_placerade_rapporter",
]
SCRIPT = "<script>alert('hej')</script>"


# --------------------------------------------------------------------------- fixtures


def _layers() -> dict[str, pd.DataFrame]:
    """Small layers: SWEREF 99 18 00 (EPSG:3011) and SWEREF 99 TM (EPSG:3006)."""
    punkt = gpd.GeoDataFrame(
        {
            "investment_id": ["K-1", "K-2", "K-3"],
            "name": ["Kamera vid Hötorget", SCRIPT, "Klotter på Ölandsgatan"],
            "kind": ["kamerabevakning", "kamerabevakning", "klottersanering"],
            "board": ["Norrmalms stadsdelsnämnd", None, "Södermalms sdn"],
            "granted_sek": [250000.0, np.nan, 40000.0],
            "completed": pd.to_datetime(["2021-05-03", None, "2019-11-30"]),
            "kind_recognised": [True, True, False],
            "note": [1, "två", None],  # mixed object column -> text
            "source_row": [2, 3, 5],
        },
        geometry=[Point(153650, 6580800), Point(153700, 6580850), Point(154100, 6578200)],
        crs="EPSG:3011",
    )
    linje = gpd.GeoDataFrame(  # SWEREF 99 TM: reprojected into 3011; Line + MultiLine mixed
        {"investment_id": ["B-1", "B-2"], "kind": ["belysning", "belysning"],
         "name": ["Belysning gångväg Årsta", "Belysning Kärrtorp"], "source_row": [4, 6]},
        geometry=[
            LineString([(674000, 6577000), (674200, 6577050)]),
            MultiLineString([[(675000, 6576000), (675100, 6576000)],
                             [(675100, 6576000), (675100, 6576100)]]),
        ],
        crs="EPSG:3006",
    )
    yta = gpd.GeoDataFrame(
        {"investment_id": ["S-1"], "kind": ["slyrojning"], "name": ["Slyröjning Tantolunden"],
         "started": [dt.date(2020, 4, 1)], "source_row": [7]},
        geometry=[box(153000, 6578000, 153200, 6578150)], crs="EPSG:3011",
    )
    omraden = gpd.GeoDataFrame(
        {
            "area_id": ["SÖ01", "NO02"],
            "name": ["Södermalm", "Norrmalm"],
            "parent": ["Södermalm", "Norrmalm"],
            "otrygg_kvall_2018": [0.31, 0.22],
            "otrygg_kvall_2021": [0.27, 0.24],
            "n_2018": [130.0, np.nan],  # float after a merge: written as an integer field
            "supp_2018": [False, True],
            "change": [-0.04, 0.02],
        },
        geometry=[
            box(152000, 6577000, 155000, 6579000),
            MultiPolygon([box(152000, 6580000, 154000, 6581500),
                          box(154500, 6580000, 155000, 6580500)]),
        ],
        crs="EPSG:3011",
    )
    ej = pd.DataFrame({
        "source_row": [8, 9],
        "raw_text": ["K-9;Kamera;;Bromma", "K-10;Belysning;Okändgatan 1;"],
        "reason": ["empty_address", "no_match"],
        "reason_text": ["Adressen saknas.", "Ingen träff för 'Okändgatan 1' (å ä ö)."],
    })
    effekter = pd.DataFrame({
        "label": ["belysning"], "method": ["did_2x2"], "estimate": [-0.031], "se": [0.012],
        "ci_low": [-0.054], "ci_high": [-0.008], "p_value": [0.01], "n_treated": [12],
        "n_control": [30], "mde": [0.034],
    })
    kontroll = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:3011"))  # empty
    return {
        "investeringar_punkt": punkt, "investeringar_linje": linje, "investeringar_yta": yta,
        "omraden": omraden, "ej_placerade": ej, "effekter": effekter, "kontroll": kontroll,
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GpkgReport, dict]:
    out = tmp_path_factory.mktemp("gpkg") / "resultat.gpkg"
    data = _layers()
    report = write_geopackage(out, data, crs="EPSG:3011")
    return out, report, data


def _ogrinfo_blocks(path: Path) -> dict[str, str]:
    if not Path(OGRINFO).exists():
        pytest.skip("ogrinfo (Debian gdal-bin) is not installed: apt-get install gdal-bin")
    res = subprocess.run([OGRINFO, "-al", "-so", str(path)], capture_output=True, text=True,
                         check=True, timeout=60)
    blocks = re.split(r"^Layer name: ", res.stdout, flags=re.MULTILINE)[1:]
    return {b.splitlines()[0].strip(): b for b in blocks}


def _sql(path: Path, query: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------- catalogue


def test_catalogue_covers_design_layers_with_valid_fields() -> None:
    c = cat.load_catalogue()
    assert list(c["layers"]) == DESIGN_LAYERS
    for name in DESIGN_LAYERS:
        spec = cat.layer_spec(name)
        assert cat.layer_description(name, "sv") and cat.layer_description(name, "en")
        names = [f["name"] for f in spec["fields"]]
        assert len(names) == len(set(names)), name
        for f in spec["fields"]:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", f["name"]), f
            assert f["type"] in {"String", "Integer", "Integer64", "Real", "Boolean", "Date"}
            assert f["alias_sv"] and f["alias_en"] and f["description"]
        for lang in ("sv", "en"):  # aliases unique within a layer (QGIS shows them side by side)
            aliases = list(cat.field_aliases(name, lang).values())
            assert len(aliases) == len(set(aliases)), (name, lang)
    assert cat.geometry_types("ej_placerade") == [None]
    assert cat.geometry_types("investeringar_linje") == ["LineString"]


def test_patterned_fields_resolve_for_actual_columns() -> None:
    cols = ["area_id", "otrygg_kvall_2018", "n_2018", "supp_2021", "se_2018",
            "oro_for_brott_2024", "n_otrygg_kvall_2021", "change_otrygg_kvall", "no_such"]
    sv = cat.field_aliases("omraden", "sv", columns=cols)
    assert sv == {
        "area_id": "Områdes-id",
        "otrygg_kvall_2018": "Otrygg kväll 2018 (andel)",
        "n_2018": "Antal svarande 2018",
        "supp_2021": "För få svar 2021",
        "se_2018": "Medelfel 2018",
        "oro_for_brott_2024": "Oro for brott 2024 (andel)",
        "n_otrygg_kvall_2021": "Antal svarande, Otrygg kväll 2021",
        "change_otrygg_kvall": "Förändring, Otrygg kväll (andel)",
    }
    en = cat.field_aliases("omraden", "en", columns=["otrygg_kvall_2018"])
    assert en == {"otrygg_kvall_2018": "Unsafe in the evening 2018 (share)"}
    assert cat.field_spec("omraden", "supp_2021").type == "Boolean"
    assert cat.field_spec("omraden", "n_2018").type == "Integer"
    with pytest.raises(ValueError, match="lang"):
        cat.field_aliases("omraden", "de")


def test_qml_investments_use_intervention_colours() -> None:
    text = cat.qml("investeringar_linje", lang="sv", fields=["investment_id", "kind"])
    root = ET.fromstring(text.split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert r is not None and r.get("type") == "categorizedSymbol" and r.get("attr") == "kind"
    cats = {c.get("value"): c for c in r.iter("category")}
    assert set(CATALOGUE) | {"annat", ""} == set(cats)
    symbols = {s.get("name"): s for s in r.iter("symbol")}
    for kind in CATALOGUE.values():
        sym = symbols[cats[kind.id].get("symbol")]
        assert sym.get("type") == "line"
        h = kind.colour.lstrip("#")
        rgb = ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))
        colour = sym.find(".//Option[@name='line_color']").get("value")
        assert colour.startswith(rgb + ","), (kind.id, colour)
        assert cats[kind.id].get("label") == kind.label_sv
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases == {"investment_id": "Projekt-id", "kind": "Åtgärdstyp"}


def test_qml_styles_per_layer_kind() -> None:
    om = ET.fromstring(cat.qml("omraden", lang="en", fields=["change"]).split("\n", 1)[1])
    r = om.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "stilklass"
    # without data: the default edges 2, 5, 100 points, PuOr centred on zero, then the greys
    cats = [(c.get("value"), c.get("label")) for c in r.iter("category")]
    assert cats == [
        ("neg3", "\u2212100.0 to \u22125.0"), ("neg2", "\u22125.0 to \u22122.0"),
        ("neg1", "\u22122.0 to 0.0"), ("pos1", "0.0 to +2.0"), ("pos2", "+2.0 to +5.0"),
        ("pos3", "+5.0 to +100.0"), ("ns", "change not significant"),
        ("suppressed", "too few responses"), ("missing", "not measured"),
    ]
    hot = ET.fromstring(cat.qml("otrygga_platser", lang="sv", fields=["gi_bin"]).split("\n", 1)[1])
    values = [c.get("value") for c in hot.iter("category")]
    assert hot.find("renderer-v2").get("attr") == "gi_bin"
    # the dissolved spots carry gi_bin too (HotSpotResult.places), so one style serves both
    dissolved = cat.qml("otrygga_platser", fields=["spot_id", "spot_class", "gi_bin"])
    assert 'attr="gi_bin"' in dissolved
    assert values[:7] == ["3", "2", "1", "0", "-1", "-2", "-3"]
    # the roles as outlines (as on karta.html), so they never hide the change classes below
    for role, colour, dash in (("behandling", "0,0,0,255", "solid"),
                               ("kontroll", "68,68,68,255", "dash"),
                               ("spill", "102,102,102,255", "dot")):
        x = ET.fromstring(cat.qml(role, fields=["area_id"]).split("\n", 1)[1])
        assert x.find("renderer-v2").get("type") == "singleSymbol"
        assert x.find(".//symbol").get("type") == "fill"
        props = {o.get("name"): o.get("value") for o in x.iter("Option") if o.get("name")}
        assert props["style"] == "no" and props["outline_color"] == colour, role
        assert props["outline_style"] == dash, role
    table = ET.fromstring(cat.qml("ej_placerade", fields=["reason"]).split("\n", 1)[1])
    assert table.find("renderer-v2") is None
    assert table.find("layerGeometryType").text == "4"


# --------------------------------------------------------------------------- the GeoPackage


def test_report(written: tuple[Path, GpkgReport, dict]) -> None:
    out, rep, _ = written
    assert rep.path == out and out.is_file()
    assert rep.crs == "EPSG:3011"
    assert rep.feature_counts == {
        "investeringar_punkt": 3, "investeringar_linje": 2, "investeringar_yta": 1,
        "omraden": 2, "ej_placerade": 2, "effekter": 1, "kontroll": 0,
    }
    assert rep.geometry_types == {
        "investeringar_punkt": "Point", "investeringar_linje": "MultiLineString",
        "investeringar_yta": "Polygon", "omraden": "MultiPolygon", "ej_placerade": None,
        "effekter": None, "kontroll": "Polygon",
    }
    assert rep.empty_layers == ("kontroll",)
    assert rep.reprojected == ("investeringar_linje",)
    assert rep.coerced_columns == {"investeringar_punkt": ("note",)}
    assert set(rep.styled_layers) == set(rep.feature_counts)
    frame = rep.to_frame()
    assert list(frame["layer"]) == list(rep.feature_counts)
    assert frame.set_index("layer").loc["kontroll", "empty"]
    # no temporary file is left beside the result
    assert [p.name for p in out.parent.iterdir()] == ["resultat.gpkg"]


def test_ogrinfo_crs_geometry_and_counts(written: tuple[Path, GpkgReport, dict]) -> None:
    out, rep, _ = written
    blocks = _ogrinfo_blocks(out)
    expected_geom = {
        "investeringar_punkt": "Point", "investeringar_linje": "Multi Line String",
        "investeringar_yta": "Polygon", "omraden": "Multi Polygon", "kontroll": "Polygon",
        "ej_placerade": "None", "effekter": "None",
    }
    assert set(expected_geom) <= set(blocks)
    for name, geom in expected_geom.items():
        b = blocks[name]
        assert re.search(rf"^Geometry: {geom}$", b, re.MULTILINE), (name, b[:300])
        assert re.search(rf"^Feature Count: {rep.feature_counts[name]}$", b, re.MULTILINE), name
        if geom != "None":
            wkt = b.split("Layer SRS WKT:", 1)[1].split("Data axis", 1)[0]
            assert re.findall(r'ID\["EPSG",(\d+)\]', wkt)[-1] == "3011", name
            assert 'PROJCRS["SWEREF99 18 00"' in wkt
    # dates and booleans have real GeoPackage types
    assert re.search(r"^completed: Date", blocks["investeringar_punkt"], re.MULTILINE)
    assert re.search(r"^kind_recognised: Integer\(Boolean\)", blocks["investeringar_punkt"], re.MULTILINE)
    assert re.search(r"^started: Date", blocks["investeringar_yta"], re.MULTILINE)
    assert re.search(r"^n_2018: Integer", blocks["omraden"], re.MULTILINE)
    assert re.search(r"^supp_2018: Integer\(Boolean\)", blocks["omraden"], re.MULTILINE)
    # the empty layer has its schema from the catalogue
    assert re.search(r"^investment_ids: String", blocks["kontroll"], re.MULTILINE)
    assert re.search(r"^cohort: Integer", blocks["kontroll"], re.MULTILINE)


def test_gdal_validator_accepts_the_file(written: tuple[Path, GpkgReport, dict]) -> None:
    if not VALIDATE_GPKG.exists() or not Path("/usr/bin/python3").exists():
        pytest.skip("GDAL's validate_gpkg.py (Debian python3-gdal) is not installed")
    res = subprocess.run(["/usr/bin/python3", str(VALIDATE_GPKG), str(written[0])],
                         capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == ""


def test_read_back_values_and_crs(written: tuple[Path, GpkgReport, dict]) -> None:
    out, _, data = written
    listed = dict(pyogrio.list_layers(out))
    assert set(listed) == set(data) | {"layer_styles"}

    punkt = gpd.read_file(out, layer="investeringar_punkt", engine="pyogrio")
    src = data["investeringar_punkt"]
    assert punkt.crs.to_epsg() == 3011
    assert list(punkt["investment_id"]) == ["K-1", "K-2", "K-3"]  # order kept
    assert list(punkt["name"]) == list(src["name"])  # å ä ö and <script> stay data
    assert punkt.loc[1, "name"] == SCRIPT
    assert punkt["board"].isna().tolist() == [False, True, False]
    np.testing.assert_array_equal(punkt["granted_sek"], src["granted_sek"])
    assert [None if pd.isna(d) else d.date() for d in punkt["completed"]] == [
        dt.date(2021, 5, 3), None, dt.date(2019, 11, 30)]
    assert [bool(v) for v in punkt["kind_recognised"]] == [True, True, False]
    assert punkt["note"].tolist()[:2] == ["1", "två"] and pd.isna(punkt["note"].iloc[2])
    assert punkt.geometry.geom_equals_exact(src.geometry, tolerance=1e-9).all()

    linje = gpd.read_file(out, layer="investeringar_linje", engine="pyogrio")
    assert linje.crs.to_epsg() == 3011
    assert (linje.geom_type == "MultiLineString").all()
    expected = data["investeringar_linje"].to_crs(3011).geometry
    assert (linje.geometry.hausdorff_distance(expected) < 1e-6).all()  # same lines, in 3011
    assert linje.geometry.length.round(3).tolist() == pytest.approx(
        expected.length.round(3).tolist(), abs=1e-3)

    om = gpd.read_file(out, layer="omraden", engine="pyogrio")
    assert om["area_id"].tolist() == ["SÖ01", "NO02"]
    np.testing.assert_allclose(om["otrygg_kvall_2018"], [0.31, 0.22])
    assert om["n_2018"].iloc[0] == 130 and pd.isna(om["n_2018"].iloc[1])
    assert (om.geom_type == "MultiPolygon").all()
    assert om.geometry.area.tolist() == pytest.approx(
        data["omraden"].geometry.area.tolist())

    ej = pyogrio.read_dataframe(out, layer="ej_placerade")
    assert not isinstance(ej, gpd.GeoDataFrame) or ej.geometry.isna().all()
    pd.testing.assert_frame_equal(
        pd.DataFrame(ej)[["source_row", "reason", "reason_text"]].astype(
            {"source_row": "int64", "reason": object, "reason_text": object}),
        data["ej_placerade"][["source_row", "reason", "reason_text"]].astype(
            {"reason": object, "reason_text": object}),
    )
    eff = pyogrio.read_dataframe(out, layer="effekter")
    assert eff["estimate"].tolist() == [-0.031] and eff["n_control"].tolist() == [30]
    kontroll = gpd.read_file(out, layer="kontroll", engine="pyogrio")
    assert len(kontroll) == 0 and kontroll.crs.to_epsg() == 3011


def test_layer_styles_and_contents(written: tuple[Path, GpkgReport, dict]) -> None:
    out, rep, _ = written
    cols = [r[1] for r in _sql(out, "PRAGMA table_info(layer_styles)")]
    assert cols[1:] == [
        "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
        "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time",
    ]
    rows = _sql(out, "SELECT f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                "styleQML, useAsDefault FROM layer_styles")
    spatial = [n for n, g in rep.geometry_types.items() if g]
    for name in spatial:
        mine = [r for r in rows if r[2] == name and r[5] == 1]
        assert len(mine) == 1, name
        catalog, schema, _, geom_col, qml_text, _ = mine[0]
        assert (catalog, schema, geom_col) == ("", "", "geom")  # what QGIS looks up
        root = ET.fromstring(qml_text.split("\n", 1)[1])
        aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
        assert aliases, name
        if name == "omraden":
            assert aliases["otrygg_kvall_2018"] == "Otrygg kväll 2018 (andel)"
            assert aliases["otrygg_kvall_2021"] == "Otrygg kväll 2021 (andel)"
            assert aliases["supp_2018"] == "För få svar 2018"
            assert aliases["stilklass"] == "Kartklass"
            assert root.find("renderer-v2").get("attr") == "stilklass"
        if name.startswith("investeringar"):
            assert aliases["investment_id"] == "Projekt-id"
            assert root.find("renderer-v2").get("attr") == "kind"
    # tables get their aliases too (QGIS looks them up with an empty geometry column)
    ej = [r for r in rows if r[2] == "ej_placerade"]
    assert len(ej) == 1 and ej[0][3] == "" and "Orsakskod" in ej[0][4]

    contents = {r[0]: r[1:] for r in _sql(
        out, "SELECT table_name, data_type, identifier, description, srs_id FROM gpkg_contents")}
    for name in rep.feature_counts:
        data_type, identifier, description, srs_id = contents[name]
        assert description == cat.layer_description(name, "sv") and description
        assert identifier == cat.layer_title(name, "sv")
        assert data_type == ("features" if rep.geometry_types[name] else "attributes")
        if rep.geometry_types[name]:
            assert srs_id == 3011
    assert contents["omraden"][1] == "Områden med trygghetsmätning"
    # aliases and descriptions in the GeoPackage schema extension as well
    dc = {(t, c): (n, d) for t, c, n, d in _sql(
        out, "SELECT table_name, column_name, name, description FROM gpkg_data_columns")}
    assert dc[("omraden", "n_2018")][0] == "Antal svarande 2018"
    assert dc[("investeringar_punkt", "board")][0] == "Nämnd"


def test_english_and_custom_descriptions(tmp_path: Path) -> None:
    data = _layers()
    out = tmp_path / "result.gpkg"
    write_geopackage(out, {"omraden": data["omraden"]}, lang="en",
                     descriptions={"omraden": "Districts of Stockholm, 2018-2021."})
    (qml_text,) = _sql(out, "SELECT styleQML FROM layer_styles WHERE f_table_name='omraden'")[0]
    assert "Unsafe in the evening 2018 (share)" in qml_text and "Otrygg" not in qml_text
    assert _sql(out, "SELECT identifier, description FROM gpkg_contents WHERE "
                "table_name='omraden'") == [("Areas with survey results",
                                             "Districts of Stockholm, 2018-2021.")]


def test_empty_layers_get_the_catalogue_schema(tmp_path: Path) -> None:
    out = tmp_path / "resultat.gpkg"
    rep = write_geopackage(out, {
        "investeringar_yta": gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:3006")),
        "ej_placerade": pd.DataFrame(),
    })
    assert rep.empty_layers == ("investeringar_yta", "ej_placerade")
    assert rep.geometry_types == {"investeringar_yta": "Polygon", "ej_placerade": None}
    info = pyogrio.read_info(out, layer="investeringar_yta")
    types = dict(zip(info["fields"], info["ogr_types"]))
    assert info["features"] == 0 and info["crs"] == "EPSG:3006"
    assert list(info["fields"]) == [f["name"] for f in cat.layer_spec("investeringar_yta")["fields"]]
    assert types["completed"] == "OFTDate" and types["granted_sek"] == "OFTReal"
    info = pyogrio.read_info(out, layer="ej_placerade")
    assert info["geometry_type"] is None and "reason_text" in list(info["fields"])


def _style_areas() -> gpd.GeoDataFrame:
    """Seven areas, one per kind of style class (SWEREF 99 TM)."""
    return gpd.GeoDataFrame(
        {
            "area_id": list("ABCDEFG"),
            "name": ["Alby", "Bredäng", "Cityn", "Dalen", "Eneby", "Fittja", "Gubbängen"],
            "change": [-0.09, 0.07, -0.01, np.nan, np.nan, 0.03, -0.04],
            # B has no flag: its interval (excluding zero) decides, as on the map
            "change_ci_low": [-0.12, 0.02, -0.05, np.nan, np.nan, 0.01, -0.07],
            "change_ci_high": [-0.06, 0.12, 0.03, np.nan, np.nan, 0.05, -0.01],
            "significant": pd.array([True, None, False, None, None, True, True],
                                    dtype="boolean"),
            "suppressed": [False, False, False, True, False, False, False],
            "stilklass": ["stale"] * 7,  # replaced: the field always follows the data
        },
        geometry=[box(i * 1000.0, 0.0, i * 1000.0 + 900.0, 900.0) for i in range(7)],
        crs="EPSG:3006",
    )


def test_area_style_classes_follow_the_map_rule(tmp_path: Path) -> None:
    out = tmp_path / "resultat.gpkg"
    rep = write_geopackage(out, {"omraden": _style_areas()})
    # Quantiles (k=3) of the shown |change| 0.01, 0.03, 0.04, 0.07, 0.09 (D is suppressed)
    np.testing.assert_allclose(rep.style_bins["omraden"], [0.01 / 3 + 0.03, 0.06, 0.09])
    got = dict(_sql(out, "SELECT area_id, stilklass FROM omraden ORDER BY fid"))
    assert got == {"A": "neg3", "B": "pos3", "C": "ns", "D": "suppressed", "E": "missing",
                   "F": "pos1", "G": "neg2"}
    (qml_text,) = _sql(out, "SELECT styleQML FROM layer_styles WHERE f_table_name='omraden'")[0]
    root = ET.fromstring(qml_text.split("\n", 1)[1])
    r = root.find("renderer-v2")
    assert (r.get("type"), r.get("attr")) == ("categorizedSymbol", "stilklass")
    cats = {c.get("value"): c for c in r.iter("category")}
    assert list(cats) == ["neg3", "neg2", "neg1", "pos1", "pos2", "pos3", "ns", "suppressed",
                          "missing"]
    symbols = {s.get("name"): s for s in r.iter("symbol")}

    def prop(value: str, key: str) -> str:
        return symbols[cats[value].get("symbol")].find(f".//Option[@name='{key}']").get("value")

    # ColorBrewer PuOr (orange = the share fell), karta.html's greys and fill opacities
    expected = {"neg3": "179,88,6", "neg2": "241,163,64", "neg1": "254,224,182",
                "pos1": "216,218,235", "pos2": "153,142,195", "pos3": "84,39,136",
                "ns": "217,217,217", "suppressed": "150,150,150", "missing": "255,255,255"}
    for value, rgb in expected.items():
        alpha = {"suppressed": 191, "missing": 153}.get(value, 179)  # 0.75, 0.6, else 0.7
        assert prop(value, "color") == f"{rgb},{alpha}", value
        outline = "85,85,85,255" if value in ("suppressed", "missing") else "68,68,68,255"
        assert prop(value, "outline_color") == outline, value
    assert prop("suppressed", "outline_style") == "dash" and prop("ns", "outline_style") == "solid"
    assert cats["neg3"].get("label") == "\u22129,0 till \u22126,0"
    assert cats["pos1"].get("label") == "0,0 till +3,3"
    assert cats["ns"].get("label") == "ej signifikant förändring"
    assert cats["suppressed"].get("label") == "för få svar"
    assert cats["missing"].get("label") == "ingen mätning"


def test_area_style_only_lists_the_greys_that_occur(tmp_path: Path) -> None:
    out = tmp_path / "resultat.gpkg"
    areas = _style_areas().iloc[[0, 1, 5, 6]]  # all significant
    rep = write_geopackage(out, {"omraden": areas}, classes_per_side=2)
    assert len(rep.style_bins["omraden"]) == 2
    got = [r[0] for r in _sql(out, "SELECT stilklass FROM omraden ORDER BY fid")]
    assert got == ["neg2", "pos2", "pos1", "neg1"]
    (qml_text,) = _sql(out, "SELECT styleQML FROM layer_styles WHERE f_table_name='omraden'")[0]
    values = [c.get("value") for c in ET.fromstring(qml_text.split("\n", 1)[1]).iter("category")]
    assert values == ["neg2", "neg1", "pos1", "pos2"]
    # an empty areas layer still has the field, so a QGIS project finds it
    write_geopackage(out, {"omraden": areas.iloc[:0]})
    info = pyogrio.read_info(out, layer="omraden")
    assert "stilklass" in list(info["fields"]) and info["features"] == 0


def test_without_arrow_dates_are_iso_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trygg_geo import export

    monkeypatch.setattr(export, "_HAS_ARROW", False)
    out = tmp_path / "resultat.gpkg"
    write_geopackage(out, {"investeringar_punkt": _layers()["investeringar_punkt"]})
    assert _sql(out, "SELECT completed, kind_recognised, name FROM investeringar_punkt "
                "ORDER BY fid") == [("2021-05-03", 1, "Kamera vid Hötorget"),
                                    (None, 1, SCRIPT), ("2019-11-30", 0, "Klotter på Ölandsgatan")]


# --------------------------------------------------------------------------- refusals


def test_mixed_geometry_types_refused(tmp_path: Path) -> None:
    bad = gpd.GeoDataFrame({"investment_id": ["a", "b", "c"]},
                           geometry=[Point(0, 0), box(0, 0, 1, 1), Point(2, 2)], crs=3006)
    out = tmp_path / "resultat.gpkg"
    with pytest.raises(InputError) as err:
        write_geopackage(out, {"investeringar_punkt": bad})
    msg = str(err.value)
    assert "investeringar_punkt" in msg and "Point (2 rows" in msg and "Polygon (1 row" in msg
    assert "Fix:" in msg
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_geometry_type_other_than_catalogue_refused(tmp_path: Path) -> None:
    pts = gpd.GeoDataFrame({"area_id": ["x"]}, geometry=[Point(0, 0)], crs=3006)
    with pytest.raises(InputError, match="'omraden' holds Point geometries"):
        write_geopackage(tmp_path / "r.gpkg", {"omraden": pts})


def test_layer_without_crs_refused_and_nothing_written(tmp_path: Path) -> None:
    data = _layers()
    nocrs = data["investeringar_yta"].set_crs(None, allow_override=True)
    out = tmp_path / "resultat.gpkg"
    with pytest.raises(CRSError, match="'investeringar_yta' has no CRS"):
        write_geopackage(out, {"omraden": data["omraden"], "investeringar_yta": nocrs},
                         crs="EPSG:3011")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CRSError, match="names no coordinate reference system") as e:
        write_geopackage(out, {"omraden": data["omraden"]}, crs="EPSG:99999999")
    assert "Fix: pass e.g. crs='EPSG:3006'" in str(e.value)


def test_rerun_replaces_file_and_old_layer_is_gone(tmp_path: Path) -> None:
    data = _layers()
    out = tmp_path / "resultat.gpkg"
    write_geopackage(out, {"omraden": data["omraden"],
                           "investeringar_punkt": data["investeringar_punkt"]})
    assert set(dict(pyogrio.list_layers(out))) == {"omraden", "investeringar_punkt",
                                                   "layer_styles"}
    smaller = data["omraden"].iloc[:1]
    rep = write_geopackage(out, {"omraden": smaller})
    assert set(dict(pyogrio.list_layers(out))) == {"omraden", "layer_styles"}
    assert rep.feature_counts == {"omraden": 1}
    assert len(gpd.read_file(out, layer="omraden", engine="pyogrio")) == 1
    assert _sql(out, "SELECT f_table_name FROM layer_styles") == [("omraden",)]
    assert _sql(out, "SELECT count(*) FROM gpkg_contents WHERE table_name="
                "'investeringar_punkt'") == [(0,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resultat.gpkg"]


# --------------------------------------------------------------------------- atomic write

_CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import geopandas as gpd
    from shapely.geometry import Point, box
    from trygg_geo.export import write_geopackage

    target, how = sys.argv[1], sys.argv[2]
    a = gpd.GeoDataFrame({"area_id": ["NY"], "name": ["Ny version"]},
                         geometry=[box(0, 0, 10, 10)], crs=3006)
    p = gpd.GeoDataFrame({"investment_id": ["N1"], "kind": ["belysning"]},
                         geometry=[Point(5, 5)], crs=3006)

    def hook(layer):
        if how == "exit":
            os._exit(1)
        os.kill(os.getpid(), signal.SIGKILL)

    write_geopackage(target, {"omraden": a, "investeringar_punkt": p}, crash_hook=hook)
    sys.exit(0)  # not reached
    """
)


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_crash_mid_write_keeps_old_file(tmp_path: Path, how: str) -> None:
    data = _layers()
    out = tmp_path / "resultat.gpkg"
    write_geopackage(out, {"omraden": data["omraden"], "ej_placerade": data["ej_placerade"]})
    before = out.read_bytes()

    res = subprocess.run([sys.executable, "-c", _CHILD, str(out), how],
                         capture_output=True, text=True, timeout=120, check=False)
    expected_rc = 1 if how == "exit" else -signal.SIGKILL
    assert res.returncode == expected_rc, res.stderr

    assert out.read_bytes() == before  # byte-identical
    om = gpd.read_file(out, layer="omraden", engine="pyogrio")  # and still opens
    assert om["area_id"].tolist() == ["SÖ01", "NO02"]
    leftovers = [p for p in tmp_path.iterdir() if p != out]
    # the child was really killed mid-write: its half-written temporary file is there,
    # hidden (dot name), so that it cannot be taken for a result
    assert leftovers, "the child did not start writing"
    for p in leftovers:
        assert re.fullmatch(r"\.resultat\.tmp-\w+\.gpkg(-journal|-wal|-shm)?", p.name), p.name

    # the next successful write cleans them up
    write_geopackage(out, {"omraden": data["omraden"]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resultat.gpkg"]
    assert set(dict(pyogrio.list_layers(out))) == {"omraden", "layer_styles"}


# --------------------------------------------------------------------------- raster


def test_write_raster_atomic(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    arr = np.arange(12, dtype="float32").reshape(3, 4)
    arr[0, 0] = np.nan
    transform = Affine(100.0, 0.0, 153000.0, 0.0, -100.0, 6581000.0)
    out = tmp_path / "tathet.tif"
    out.write_bytes(b"old")  # replaced as a whole
    assert write_raster_atomic(out, arr, transform=transform, crs="EPSG:3011",
                               description="Täthet (händelser per km²)") == out
    with rasterio.open(out) as src:
        assert src.crs.to_epsg() == 3011
        assert src.transform == transform
        assert src.count == 1 and src.descriptions == ("Täthet (händelser per km²)",)
        assert np.isnan(src.nodata)
        np.testing.assert_array_equal(src.read(1), arr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tathet.tif"]
    with pytest.raises(CRSError):
        write_raster_atomic(tmp_path / "x.tif", arr, transform=transform, crs=None)
    assert not (tmp_path / "x.tif").exists()
