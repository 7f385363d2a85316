from __future__ import annotations

from pathlib import Path

import pytest

from trygg_geo._errors import ConfigError, MissingFileError
from trygg_geo.config import load_config

BASE = '[areas]\npath = "a.gpkg"\n[register]\npath = "r.csv"\n[gazetteer]\npath = "g.osm"\n[survey]\npath = "s.csv"\n'


def test_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    cfg_path = tmp_path / "p" / "projekt.toml"
    cfg_path.write_text(BASE + '[analysis]\nwaves = [2015, 2018]\n[register.columns]\ngranted_sek = "Budget"\n', encoding="utf-8")
    cfg = load_config(cfg_path)
    assert cfg.areas.path == tmp_path / "p" / "a.gpkg"
    assert cfg.analysis.waves == (2015, 2018)
    assert cfg.register.columns == {"granted_sek": "Budget"}
    assert cfg.project.language == "sv" and cfg.survey.min_n == 30


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ('[analysis]\nwaves = [2018, 2015]\n', "increasing"),
        ('[project]\nlanguage = "fi"\n', "'sv' or 'en'"),
        ('[survey]\npath = "s.csv"\nmin_n = 0\n', "min_n"),
    ],
)
def test_bad_values_are_refused(tmp_path: Path, extra: str, match: str) -> None:
    text = BASE.replace('[survey]\npath = "s.csv"\n', "") if "[survey]" in extra else BASE
    p = tmp_path / "projekt.toml"
    p.write_text(text + extra, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_config(p)


def test_missing_section_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "projekt.toml"
    p.write_text('[areas]\npath = "a.gpkg"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[register\] is missing"):
        load_config(p)
    with pytest.raises(MissingFileError):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml(tmp_path: Path) -> None:
    p = tmp_path / "projekt.toml"
    p.write_text('[areas\npath = "a"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


def _load(tmp_path: Path, extra: str) -> object:
    p = tmp_path / "projekt.toml"
    p.write_text(BASE + extra, encoding="utf-8")
    return load_config(p)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[survey]\nmin_n = "30"\n', ["[survey] min_n", "whole number", "Fix: write min_n = 30"]),
        ("[survey]\nmin_n = true\n", ["boolean", "true/false is not a number"]),
        ("[survey]\nmin_n = 30.0\n", ["min_n = 30 (without the decimal point)"]),
        ('[analysis]\nlevel = "0.95"\n', ["[analysis] level", "must be a number"]),
        ("[analysis]\nlevel = nan\n", ["finite"]),
        ("[analysis]\nlevel = 1.0\n", ["[analysis] level", "less than 1", "level = 0.95"]),
        ('[analysis]\nalpha = "0.05"\n', ["[analysis] alpha", "must be a number", "level = 0.95"]),
        ('[analysis]\nseed = "abc"\n', ["[analysis] seed", "seed = 42"]),
        ("[analysis]\nseed = 4294967296\n", ["[analysis] seed", "0 to 4294967295"]),
        ("[analysis]\nwave_month = 13\n", ["wave_month", "1 to 12"]),
        ("[analysis]\nwave_day = 31\nwave_month = 4\n", ["wave_day", "days 1 to 30"]),
        ("[analysis]\nwaves = [2015, 2016]\nwave_month = 2\nwave_day = 29\n", ["month 2 of 2015"]),
        ("[analysis]\nspill_distance_m = -5\n", ["spill_distance_m", "more than 0"]),
        ("[analysis]\nspillover = 'distance'\n", ["needs spill_distance_m"]),
        ("[output]\nmap = 5\n", ["[output] map", "text", 'map = "karta.html"']),
        ("[project]\nlanguage = 5\n", ["[project] language", "text"]),
        ('[project]\ncrs = "EPSG:99999"\n', ["[project] crs", "EPSG:3006", "EPSG:3011"]),
        ('[project]\ncrs = "SWEREF"\n', ["not an exact CRS name", "EPSG:4619"]),
        ('[project]\ncrs = "EPSG:4326"\n', ["geographic"]),
        ("[register.columns]\ngranted_sek = 5\n", ["[register.columns]", "Fix"]),
        ("[analysis]\nwaves = [2015, true]\n", ["[analysis] waves", "list of at least two years"]),
        ("TOP:output = 5\n", ["[output] must be a table", "Fix"]),
        ("[analysis]\nwaves = 2015-09-15\n", ["a date or time", "waves"]),
    ],
)
def test_config_types_and_ranges_are_checked(tmp_path: Path, extra: str, words: list[str]) -> None:
    if "[survey]" in extra:
        extra = extra.replace("[survey]\n", "")
        text = BASE.replace('[survey]\npath = "s.csv"\n', '[survey]\npath = "s.csv"\n' + extra)
        p = tmp_path / "projekt.toml"
        p.write_text(text, encoding="utf-8")
        call = lambda: load_config(p)  # noqa: E731
    elif extra.startswith("TOP:"):  # a key before the first table
        p = tmp_path / "projekt.toml"
        p.write_text(extra[4:] + BASE, encoding="utf-8")
        call = lambda: load_config(p)  # noqa: E731
    else:
        call = lambda: _load(tmp_path, extra)  # noqa: E731
    with pytest.raises(ConfigError) as e:
        call()
    msg = str(e.value)
    assert "projekt.toml" in msg and "Fix" in msg, msg
    for w in words:
        assert w in msg, msg


def test_good_values_pass(tmp_path: Path) -> None:
    cfg = _load(tmp_path, '[project]\ncrs = "SWEREF 99 TM"\n[incidents]\npath = "h.csv"\ncrs = "EPSG:4326"\n'
                '[register.columns]\nx = "E"\n[analysis]\nlevel = 0.9\n'
                + "spill_distance_m = 300\nseed = 7\n")
    assert cfg.analysis.level == 0.9
    assert cfg.analysis.spill_distance_m == 300.0
    p = tmp_path / "projekt.toml"
    p.write_text(BASE.replace('path = "r.csv"', 'path = "r.xlsx"\nsheet = 1'), encoding="utf-8")
    assert load_config(p).register.sheet == 1  # a sheet number is fine


def test_a_folder_or_a_binary_file_is_not_a_config(tmp_path: Path) -> None:
    (tmp_path / "projekt.toml").write_text(BASE, encoding="utf-8")
    with pytest.raises(ConfigError, match="is a folder.*projekt.toml"):
        load_config(tmp_path)
    b = tmp_path / "bild.png"
    b.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ConfigError, match="binary"):
        load_config(b)
    t = tmp_path / "latin1.toml"
    t.write_bytes('[project]\nname = "Uppföljning"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8.*line 2"):
        load_config(t)
