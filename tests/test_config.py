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
