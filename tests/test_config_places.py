"""[reports], [places] and [privacy] in projekt.toml (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trygg_geo._errors import ConfigError
from trygg_geo.config import load_config

BASE = """
[areas]
path = "a.geojson"
[register]
path = "r.csv"
[gazetteer]
path = "g.osm"
[survey]
path = "s.csv"
"""


def _cfg(tmp_path: Path, extra: str):
    for name in ("a.geojson", "r.csv", "g.osm", "s.csv", "tyck_till.csv"):
        (tmp_path / name).write_text("", encoding="utf-8")
    p = tmp_path / "projekt.toml"
    p.write_text(BASE + extra, encoding="utf-8")
    return load_config(p)


def test_defaults_keep_points_private(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "")
    assert cfg.reports is None
    assert cfg.privacy.publish_points is False and cfg.privacy.publish_text is False
    assert cfg.privacy.min_count == 3
    assert cfg.places.lamp_distance_m == 30.0 and cfg.places.dark_paths is True


def test_sections_are_read_and_checked(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, """
[reports]
path = "tyck_till.csv"
crs = "EPSG:3011"
[places]
lamp_distance_m = 25
top = 10
[places.weights]
reports = 0.5
dark_m = 0.5
[privacy]
publish_points = true
min_count = 5
""")
    assert cfg.reports is not None and cfg.reports.path == tmp_path / "tyck_till.csv"
    assert cfg.places.weights == {"reports": 0.5, "dark_m": 0.5}
    assert cfg.places.lamp_distance_m == 25.0 and cfg.places.top == 10
    assert cfg.privacy.publish_points is True and cfg.privacy.min_count == 5
    with pytest.raises(ConfigError, match="true or false"):
        _cfg(tmp_path, '[privacy]\npublish_points = "ja"\n')
    with pytest.raises(ConfigError, match="weights"):
        _cfg(tmp_path, "[places.weights]\nreports = -1\n")
    with pytest.raises(ConfigError, match="publish_pints"):
        _cfg(tmp_path, "[privacy]\npublish_pints = true\n")
