"""Bad-input corpus: config values of the wrong type or range, invalid CRS, a config that is not a
config, and unsafe outputs (issue 9, point 2). Every case ends with exit 2 and one line that names
the key or file and the fix, before anything is read or written."""

from __future__ import annotations

from typing import Any

import pytest

CONFIG = "projekt.toml"  # as in conftest.py (the harness's names of the demo inputs)
REGISTER = "investeringar.csv"
BadInputCase = Any  # the ``case`` fixture of conftest.py

# (section, key, TOML literal, words the message must hold besides "Fix" and the config file)
TYPE_CASES = [
    ("survey", "min_n", '"30"', ["[survey] min_n", "whole number", "min_n = 30"]),
    ("survey", "min_n", "true", ["[survey] min_n", "boolean", "not a number"]),
    ("survey", "min_n", "30.5", ["[survey] min_n", "whole number"]),
    ("survey", "min_n", "0", ["[survey] min_n", "at least 1"]),
    ("survey", "indicator", "7", ["[survey] indicator", "text"]),
    ("analysis", "alpha", '"0.05"', ["[analysis] alpha", "must be a number", "level = 0.95"]),
    ("analysis", "alpha", "true", ["[analysis] alpha", "boolean"]),
    ("analysis", "alpha", "0.7", ["[analysis] alpha", "level = 0.3", "level = 0.95"]),
    ("analysis", "level", "1.5", ["[analysis] level", "less than 1", "level = 0.95"]),
    ("analysis", "level", '"95 %"', ["[analysis] level", "must be a number", "level = 0.95"]),
    ("analysis", "seed", '"abc"', ["[analysis] seed", "whole number", "seed = 42"]),
    ("analysis", "seed", "-1", ["[analysis] seed", "0 to"]),
    ("analysis", "wave_month", "13", ["[analysis] wave_month", "1 to 12"]),
    ("analysis", "wave_day", "32", ["[analysis] wave_day", "days 1 to 30"]),
    ("analysis", "waves", '["2015", "2018"]', ["[analysis] waves", "list of at least two years"]),
    ("analysis", "waves", "[2015, 20180]", ["[analysis] waves", "20180"]),
    ("analysis", "spill_distance_m", "-5", ["[analysis] spill_distance_m", "more than 0"]),
    ("analysis", "spill_distance_m", '"250 m"', ["[analysis] spill_distance_m", "number"]),
    ("project", "language", "5", ["[project] language", "text"]),
    ("project", "name", "[1, 2]", ["[project] name", "a list", "text"]),
    ("register", "sheet", "true", ["[register] sheet", "sheet name"]),
    ("output", "map", "5", ["[output] map", "text"]),
    ("output", "folder", "3", ["[output] folder", "path"]),
    ("project", "crs", '"EPSG:99999"', ["[project] crs", "EPSG:99999", "EPSG:3006", "EPSG:3011"]),
    ("project", "crs", '"SWEREF"', ["[project] crs", "not an exact CRS name", "EPSG:3006"]),
    ("project", "crs", '"EPSG:4326"', ["[project] crs", "geographic", "EPSG:3011"]),
    ("incidents", "crs", '"EPSG:99999"', ["[incidents] crs", "EPSG:3006"]),
    ("areas", "crs", '"SWEREF 99 TMM"', ["[areas] crs", "EPSG:3006"]),
]


@pytest.mark.parametrize(("section", "key", "value", "needles"), TYPE_CASES,
                         ids=[f"{s}.{k}={v}" for s, k, v, _ in TYPE_CASES])
def test_config_value_is_refused(case: BadInputCase, section: str, key: str, value: str, needles: list[str]) -> None:
    case.set_config(section, key, value)
    case.run().expect(2, CONFIG, "Fix", *needles)


def test_day_must_exist_in_the_month_of_every_wave(case: BadInputCase) -> None:
    case.set_config("analysis", "wave_month", "2")
    case.set_config("analysis", "wave_day", "29")
    case.run().expect(2, CONFIG, "[analysis] wave_day", "month 2 of 2015", "Fix")


def test_section_that_is_not_a_table(case: BadInputCase) -> None:
    case.edit_text(CONFIG, lambda t: "analysis = 5\n" + t.replace("[analysis]", "[analysis_old]")
                   .replace("waves =", "# waves =").replace("wave_month", "# wave_month")
                   .replace("wave_day", "# wave_day").replace("[analysis_old]", ""))
    case.run().expect(2, CONFIG, "[analysis]", "table", "Fix")


def test_binary_file_as_config(case: BadInputCase) -> None:
    case.path(CONFIG).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    case.run().expect(2, CONFIG, "binary", "Fix")


def test_non_utf8_text_as_config(case: BadInputCase) -> None:
    text = case.path(CONFIG).read_text(encoding="utf-8")
    case.path(CONFIG).write_bytes(text.encode("cp1252"))  # 'uppföljning' in the project name
    case.run().expect(2, CONFIG, "not UTF-8", "line", "Fix")


def test_folder_as_config(case: BadInputCase) -> None:
    case.run("run", str(case.folder)).expect(2, str(case.folder), "is a folder", "projekt.toml", "Fix")


# ---------------------------------------------------------------------------- outputs

def test_output_overwrites_the_register(case: BadInputCase) -> None:
    case.set_config("output", "map", f'"{REGISTER}"')
    r = case.run().expect(2, "[output] map", REGISTER, "[register] path", "overwrite", "Fix")
    assert r.case.register_rows() > 0  # the input is untouched


def test_output_overwrites_the_areas_file(case: BadInputCase) -> None:
    import geopandas as gpd

    gpd.read_file(case.path("stadsdelar.geojson")).to_file(case.path("omraden.gpkg"))
    case.set_config("areas", "path", '"omraden.gpkg"')
    case.set_config("output", "geopackage", '"omraden.gpkg"')
    case.run().expect(2, "[output] geopackage", "[areas] path", "overwrite", "Fix")


def test_output_overwrites_the_config(case: BadInputCase) -> None:
    # a config saved under the report's name (TOML does not care about the ending)
    cfg = case.path("rapport.md")
    cfg.write_bytes(case.path(CONFIG).read_bytes())
    case.run("run", str(cfg)).expect(2, "[output] report", "the config file itself", "overwrite", "Fix")


def test_map_named_like_the_geopackage(case: BadInputCase) -> None:
    case.set_config("output", "map", '"resultat.gpkg"')
    case.run().expect(2, "[output] map", "resultat.gpkg", ".html", "Fix")


def test_map_collides_with_the_html_report(case: BadInputCase) -> None:
    case.set_config("output", "map", '"rapport.html"')
    case.run().expect(2, "[output] map", "[output] report", "rapport.html", "both write", "Fix")


def test_report_html_collides_case_insensitively(case: BadInputCase) -> None:
    case.set_config("output", "map", '"Rapport.HTML"')
    case.run().expect(2, "[output] map", "both write", "Fix")


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("map", '"sub/karta.html"', "folder part"),
    ("map", '"../karta.html"', "folder part"),
    ("report", '"rapport.html"', "does not end in .md"),
    ("density", '"tathet.png"', "does not end in .tif"),
    ("geopackage", '""', "not a file name"),
    ("map", '".karta.html"', "starts with '.'"),
])
def test_output_names_are_plain_file_names(case: BadInputCase, key: str, value: str, needle: str) -> None:
    case.set_config("output", key, value)
    case.run().expect(2, f"[output] {key}", needle, "Fix")


def test_output_folder_is_a_file(case: BadInputCase) -> None:
    case.set_config("output", "folder", f'"{REGISTER}"')
    case.run().expect(2, "[output] folder", "is a file", "Fix")


def test_output_folder_under_a_file(case: BadInputCase) -> None:
    case.set_config("output", "folder", f'"{REGISTER}/ut"')
    case.run().expect(2, "[output] folder", "which is a file", "Fix")


def test_output_name_is_a_folder(case: BadInputCase) -> None:
    (case.folder / "karta.html").mkdir()
    case.run().expect(2, "[output] map", "existing folder", "Fix")


def test_nothing_is_written_when_outputs_are_refused(case: BadInputCase) -> None:
    before = sorted(p.name for p in case.folder.iterdir())
    case.set_config("output", "map", '"rapport.html"')
    case.run().expect(2)
    after = sorted(p.name for p in case.folder.iterdir())
    assert after == before
