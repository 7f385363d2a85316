"""trygg_geo._crs, the one home of CRS handling, and the [analysis] level key of the config."""

from __future__ import annotations

import ast
import logging
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import box

from trygg_geo._crs import (
    DEFAULT_WORKING_CRS,
    best_reading,
    crs_hint,
    diagnose_crs,
    parse_crs,
    parse_optional_crs,
    require_crs,
    require_inside,
    require_projected,
    working_crs,
    xy_hint,
)
from trygg_geo._errors import ConfigError, CRSError, InputError
from trygg_geo.config import load_config

PKG = Path(__file__).resolve().parents[1] / "trygg_geo"

# a 10 x 10 km square around Södermalm in SWEREF 99 TM, and points in its middle
AREAS = gpd.GeoDataFrame({"area_id": ["a"]}, geometry=[box(670000, 6575000, 680000, 6585000)],
                         crs=3006)
E = np.array([674000.0, 674500.0, 675000.0, 675500.0])
N = np.array([6580000.0, 6580500.0, 6579500.0, 6581000.0])


# --------------------------------------------------------------------------- parse_crs


@pytest.mark.parametrize(
    ("value", "epsg"),
    [
        (3006, 3006),
        (3006.0, 3006),
        ("3006", 3006),
        ("EPSG:3006", 3006),
        ("epsg:3006", 3006),
        ("EPSG: 3006", 3006),
        ("SWEREF 99 TM", 3006),
        ("sweref99 tm", 3006),
        ("SWEREF99 TM", 3006),
        ("  sweref 99 tm ", 3006),
        ("SWEREF 99 18 00", 3011),
        ("sweref 99 1800", 3011),
        ("SWEREF 99 13 30", 3008),
        ("WGS84", 4326),
        ("WGS 84", 4326),
        ("RT90", 3021),
        ("urn:ogc:def:crs:EPSG::3011", 3011),
        (pyproj.CRS.from_epsg(3006).to_wkt(), 3006),
        (pyproj.CRS.from_epsg(3010), 3010),
        ("ETRS89 / UTM zone 33N", 25833),
    ],
)
def test_parse_crs_accepted_spellings(value: object, epsg: int) -> None:
    crs = parse_crs(value)
    assert isinstance(crs, pyproj.CRS)
    assert crs.to_epsg() == epsg


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("Gauss", ["names no coordinate reference system"]),
        ("EPSG:99999", ["EPSG:99999", "names no coordinate reference system that pyproj knows"]),
        ("SWEREF", ["not an exact CRS name", "EPSG:4619"]),
        ("koordinater enligt kartan över staden", ["names no coordinate reference system"]),
        ("", ["the CRS is empty", "or remove the key"]),
        (None, ["no CRS is given"]),
        (True, ["is a bool, not a CRS"]),
    ],
)
def test_parse_crs_refuses_bad_text_naming_file_key_and_fix(value: object,
                                                            words: list[str]) -> None:
    with pytest.raises(CRSError) as e:
        parse_crs(value, file="handelser.csv", key="incidents.crs")
    msg = str(e.value)
    assert msg.startswith("file 'handelser.csv', [incidents] crs: "), msg
    assert 'Fix: write crs = "EPSG:3006" (SWEREF 99 TM)' in msg and "[incidents]" in msg
    for w in words:
        assert w in msg, msg
    assert e.value.file == "handelser.csv" and e.value.key == "incidents.crs"
    assert e.value.fix is not None and "EPSG:3011" in e.value.fix
    assert isinstance(e.value, ValueError)  # every CRSError is still a ValueError


def test_parse_crs_without_key_names_the_argument_and_column() -> None:
    with pytest.raises(CRSError) as e:
        parse_crs("Gauss")
    assert str(e.value) == ("\"Gauss\" names no coordinate reference system that pyproj knows. "
                            "Fix: pass e.g. crs='EPSG:3006' (SWEREF 99 TM) or crs='EPSG:3011' "
                            "(SWEREF 99 18 00).")
    with pytest.raises(CRSError) as e:
        parse_crs("Gauss", file="reg.csv", column="Koordinatsystem", row=7)
    assert str(e.value).startswith("file 'reg.csv', row 7, column 'Koordinatsystem': ")
    assert e.value.row == 7 and "leave the cell empty" in str(e.value)


def test_parse_optional_crs_reads_blank_as_not_given() -> None:
    for blank in (None, float("nan"), "", "   "):
        assert parse_optional_crs(blank) is None
    assert parse_optional_crs("EPSG:3011").to_epsg() == 3011
    with pytest.raises(CRSError, match="Gauss"):
        parse_optional_crs("Gauss")


def test_crs_error_has_the_input_error_format() -> None:
    kw = {"file": "a.csv", "row": 3, "column": "x", "fix": "do this."}
    crs_msg = str(CRSError("bad.", key="incidents.crs", **kw))
    assert crs_msg == "file 'a.csv', [incidents] crs, row 3, column 'x': bad. Fix: do this."
    assert str(CRSError("bad.", **kw)) == str(InputError("bad.", **kw))
    assert str(CRSError("plain message.")) == "plain message."


# --------------------------------------------------------------------------- guards


def test_require_projected_refuses_degrees_with_one_wording() -> None:
    wgs = AREAS.to_crs(4326)
    msgs = []
    for given in (wgs, wgs.geometry, 4326, "EPSG:4326", pyproj.CRS.from_epsg(4326)):
        with pytest.raises(CRSError) as e:
            require_projected(given, what="the area layer")
        msgs.append(str(e.value))
    assert len(set(msgs)) == 1
    assert msgs[0] == (
        "the area layer is in WGS 84 (EPSG:4326), a geographic CRS in degrees, but distances, "
        "areas and densities need a projected CRS in metres. Fix: project it first with "
        "gdf.to_crs(...) to a CRS in metres: EPSG:3006 (SWEREF 99 TM) or the municipality's "
        "SWEREF 99 zone such as EPSG:3011 (SWEREF 99 18 00, Stockholm)."
    )


def test_require_projected_refuses_missing_and_non_metre_crs() -> None:
    nocrs = AREAS.set_crs(None, allow_override=True)
    for given in (nocrs, None):
        with pytest.raises(CRSError, match=r"^the area layer has no CRS \(coordinate reference "
                                           r"system\).*Fix: give the CRS .*gdf.set_crs"):
            require_projected(given, what="the area layer")
    with pytest.raises(CRSError) as e:
        require_projected(None, what="the incident table", file="h.csv", key="incidents.crs")
    assert str(e.value).startswith("file 'h.csv', [incidents] crs: the incident table has no CRS")
    assert "crs=" in str(e.value) and "set incidents.crs in projekt.toml" in str(e.value)
    with pytest.raises(CRSError, match="unit is 'us survey foot', not metres"):
        require_projected("EPSG:2249", what="the area layer")
    with pytest.raises(CRSError, match=r"^\[project\] crs: .*Fix: set project.crs to a projected"):
        require_projected(4326, what="the working CRS", key="project.crs")


def test_require_projected_and_require_crs_return_the_crs() -> None:
    assert require_projected(AREAS, what="the area layer").to_epsg() == 3006
    assert require_projected("SWEREF 99 18 00", what="x").to_epsg() == 3011
    assert require_crs(AREAS.to_crs(4326), what="the area layer").to_epsg() == 4326


def test_working_crs_rule() -> None:
    assert DEFAULT_WORKING_CRS == "EPSG:3006"
    assert working_crs().to_epsg() == 3006
    assert working_crs("EPSG:3011", "EPSG:3010").to_epsg() == 3011  # the project's first
    assert working_crs("SWEREF 99 TM", 4326).to_epsg() == 3006
    assert working_crs(None, "EPSG:3010").to_epsg() == 3010  # the areas' if projected
    assert working_crs(None, AREAS.crs).to_epsg() == 3006
    assert working_crs(None, 4326).to_epsg() == 3006  # else SWEREF 99 TM
    assert working_crs(None, "EPSG:2249").to_epsg() == 3006  # projected, but in feet
    with pytest.raises(CRSError, match=r"\[project\] crs: the project's working CRS is in WGS 84"):
        working_crs("EPSG:4326", "EPSG:3006")


# --------------------------------------------------------------------------- readings


def test_best_reading_finds_swapped_axes_and_wrong_crs() -> None:
    r = best_reading(N, E, "EPSG:3006")
    assert r is not None and (r.crs, r.swapped, r.share) == ("EPSG:3006", True, 1.0)
    lon, lat = pyproj.Transformer.from_crs(3006, 4326, always_xy=True).transform(E, N)
    r = best_reading(lon, lat, "EPSG:3006")
    assert r is not None and (r.crs, r.swapped) == ("EPSG:4326", False)
    assert r.sentence == ("the numbers look like WGS 84 (EPSG:4326) coordinates, not SWEREF99 "
                          "TM (EPSG:3006)")
    # against the areas, the exact local zone is found (3011 numbers declared as SWEREF 99 TM)
    x11, y11 = pyproj.Transformer.from_crs(3006, 3011, always_xy=True).transform(E, N)
    r = best_reading(x11, y11, "EPSG:3006", areas=AREAS)
    assert r is not None and (r.crs, r.swapped, r.share) == ("EPSG:3011", False, 1.0)
    assert best_reading(np.array([1.0, 2.0]), np.array([3.0, 4.0]), "EPSG:3006") is None
    assert best_reading(np.array([np.nan]), np.array([np.nan])) is None


def test_xy_hint_and_diagnose_crs() -> None:
    assert xy_hint(np.array([np.nan]), np.array([1.0]), None)[0] == (
        "the coordinates are empty or not finite")
    assert xy_hint(np.array([1.0]), np.array([2.0]), "EPSG:3006") == (
        "the numbers fit no coordinate system used in Sweden", None, False)
    bad, sentence, likely, swapped = diagnose_crs(np.r_[E, N[0]], np.r_[N, E[0]], "EPSG:3006")
    assert bad.tolist() == [False, False, False, False, True]
    assert (likely, swapped) == ("EPSG:3006", True) and "look swapped" in sentence
    bad, sentence, _, _ = diagnose_crs(E, N, "EPSG:3006")
    assert not bad.any() and sentence == ""


def test_crs_hint_and_require_inside_name_the_fitting_reading() -> None:
    lon, lat = pyproj.Transformer.from_crs(3006, 4326, always_xy=True).transform(E, N)
    pts = gpd.GeoSeries.from_xy(lat, lon, crs=4326)  # lat/lon in the wrong order
    hint = crs_hint(pts, AREAS)
    assert hint == ("X and y look swapped (x holds the northing or latitude, y the easting or "
                    "longitude): read so, 100 % of them would fall in the areas.")
    x11, y11 = pyproj.Transformer.from_crs(3006, 3011, always_xy=True).transform(E, N)
    assert crs_hint(gpd.GeoSeries.from_xy(x11, y11, crs=3006), AREAS) == (
        "The numbers look like SWEREF99 18 00 (EPSG:3011) coordinates, not SWEREF99 TM "
        "(EPSG:3006): read so, 100 % of them would fall in the areas.")
    with pytest.raises(CRSError) as e:
        require_inside(pts, AREAS, what="incidents", file="h.csv", key="incidents.crs")
    msg = str(e.value)
    assert msg.startswith("file 'h.csv': only 0 % of the 4 incidents fall in any area")
    assert hint in msg and "Fix: check the coordinate system (incidents.crs)" in msg
    ok = gpd.GeoSeries.from_xy(E, N, crs=3006)
    assert require_inside(ok, AREAS, what="incidents", file=None, key="incidents.crs") == 1.0
    assert crs_hint(ok.set_crs(None, allow_override=True), AREAS) == ""


# --------------------------------------------------------------------------- imports


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_no_io_coords_cycle() -> None:
    io_imports = _imports(PKG / "io.py")
    coords_imports = _imports(PKG / "geocode" / "_coords.py")
    crs_imports = _imports(PKG / "_crs.py")
    assert not any(m.startswith("trygg_geo.geocode") for m in io_imports)
    assert "trygg_geo.io" not in coords_imports
    assert "trygg_geo._crs" in io_imports and "trygg_geo._crs" in coords_imports
    assert not {m for m in crs_imports if m.startswith("trygg_geo.")} - {
        "trygg_geo._errors", "trygg_geo.interventions"}
    for module in ("trygg_geo.io", "trygg_geo.geocode._coords", "trygg_geo._crs"):
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------- config


BASE = ('[areas]\npath = "a.gpkg"\n[register]\npath = "r.csv"\n[gazetteer]\npath = "g.osm"\n'
        '[survey]\npath = "s.csv"\n')


def _load(tmp_path: Path, extra: str) -> object:
    p = tmp_path / "projekt.toml"
    p.write_text(BASE + extra, encoding="utf-8")
    return load_config(p)


def test_level_default_and_value(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="trygg_geo.config"):
        cfg = _load(tmp_path, "")
        assert cfg.analysis.level == 0.95
        cfg = _load(tmp_path, "[analysis]\nlevel = 0.9\n")
        assert cfg.analysis.level == 0.9
    assert caplog.records == []
    assert not hasattr(cfg.analysis, "icc")


@pytest.mark.parametrize("level", ["0.5", "1", "1.5", "0", "-0.95"])
def test_level_out_of_range_is_refused(tmp_path: Path, level: str) -> None:
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, f"[analysis]\nlevel = {level}\n")
    msg = str(e.value)
    assert "projekt.toml" in msg and "[analysis] level" in msg
    assert "more than 0.5 and less than 1" in msg and "Fix: write level = 0.95" in msg


def test_alpha_is_read_as_level_with_one_deprecation_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="trygg_geo.config"):
        cfg = _load(tmp_path, "[analysis]\nalpha = 0.1\n")
    assert cfg.analysis.level == 0.9
    assert len(caplog.records) == 1
    rec = caplog.records[0]
    assert rec.levelno == logging.WARNING
    assert "[analysis] alpha = 0.1 is deprecated; read as level = 0.9" in rec.getMessage()
    with pytest.raises(ConfigError, match=r"\[analysis\] alpha = 0.7 means level = 0.3.*"
                                          r"Fix: write level = 0.95"):
        _load(tmp_path, "[analysis]\nalpha = 0.7\n")


def test_alpha_and_level_together_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, "[analysis]\nalpha = 0.05\nlevel = 0.95\n")
    msg = str(e.value)
    assert "projekt.toml" in msg and "both alpha = 0.05 and level = 0.95" in msg
    assert "Fix: keep only level" in msg


def test_icc_is_ignored_with_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="trygg_geo.config"):
        cfg = _load(tmp_path, "[analysis]\nicc = 0.3\nlevel = 0.9\n")
    assert cfg.analysis.level == 0.9
    assert [r.getMessage() for r in caplog.records] == [
        f"'{tmp_path / 'projekt.toml'}': [analysis] icc is ignored and no longer used (the "
        "between-district variation is estimated from the data); remove the line."
    ]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[project]\ncrs = "Gauss"\n', ["[project] crs", "names no coordinate reference system"]),
        ('[project]\ncrs = "EPSG:4326"\n', ["[project] crs", "geographic", "EPSG:3011"]),
        ('[areas]\npath = "a.gpkg"\ncrs = ""\n', ["[areas] crs", "empty", "remove the key"]),
        ('[incidents]\npath = "h.csv"\ncrs = "SWEREF"\n', ["[incidents] crs", "EPSG:4619"]),
    ],
)
def test_config_crs_is_checked_by_parse_crs(tmp_path: Path, extra: str, words: list[str]) -> None:
    base = BASE.replace('[areas]\npath = "a.gpkg"\n', "") if extra.startswith("[areas]") else BASE
    p = tmp_path / "projekt.toml"
    p.write_text(base + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert msg.startswith(f"file '{p}', ") and "Fix: " in msg
    assert isinstance(e.value.__cause__, CRSError)
    for w in words:
        assert w in msg, msg
    good = BASE + '[project]\ncrs = "sweref99 tm"\n[incidents]\npath = "h.csv"\ncrs = "WGS84"\n'
    p.write_text(good, encoding="utf-8")
    cfg = load_config(p)
    assert cfg.project.crs == "sweref99 tm" and cfg.incidents is not None
