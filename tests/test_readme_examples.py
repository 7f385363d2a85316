"""The examples in the README's "Din egen data" section are read as the README says.

The register and survey lines and the TOML tables are cut from README.md itself, so the
documentation cannot drift from what the readers do.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from trygg_geo.config import load_config
from trygg_geo.io import read_register
from trygg_geo.survey import read_survey

README = Path(__file__).resolve().parents[1] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Din egen data")
    return text[start:text.index("\n## ", start + 5)]


def _blocks(lang: str) -> list[str]:
    """The fenced blocks of the section whose info string is ``lang``."""
    out, current, info = [], None, ""
    for line in _section().splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current, info = [], line[3:].strip()
            else:
                if info == lang:
                    out.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return out


def test_register_example_is_read_as_documented(tmp_path: Path) -> None:
    block = next(b for b in _blocks("") if b.startswith("Projekt-id"))
    path = tmp_path / "investeringar.csv"
    path.write_text(block, encoding="cp1252")
    reg = read_register(path)
    assert len(reg) == 2
    assert reg["kind"].tolist() == ["belysning", "belysning"]  # "Belysnig" is lighting
    assert reg["granted_sek"].tolist() == [1_573_000, 1_779_000]
    assert reg["spent_sek"].tolist() == [1_603_600, 1_270_500]
    assert reg["status"].tolist() == ["completed", "completed"]
    assert reg["source_row"].tolist() == [2, 3]


def test_survey_example_is_read_as_documented(tmp_path: Path) -> None:
    block = next(b for b in _blocks("") if b.startswith("Stadsdel;År"))
    path = tmp_path / "trygghetsmatning.csv"
    path.write_text(block, encoding="utf-8")
    df = read_survey(path, indicator="otrygg_kvall")
    assert len(df) == 5
    assert df["share"].tolist() == pytest.approx([0.265, 0.377, 0.111, 0.158, 0.216])
    assert df["n"].tolist() == [373, 416, 432, 228, 41020]
    assert set(df["indicator"]) == {"otrygg_kvall"}


def test_toml_examples_are_valid_config(tmp_path: Path) -> None:
    toml_blocks = _blocks("toml")
    project = toml_blocks[0]
    extra = "\n".join(toml_blocks[1:])  # [survey.aliases] and [register.kinds]
    for name in ("stadsdelar.shp", "investeringar.csv", "stockholm_norrmalm_ostermalm.osm",
                 "trygghetsmatning.csv"):
        (tmp_path / name).write_text("", encoding="utf-8")
    # the tables of the later blocks belong to sections of the first: merge as a user would
    text = project + "\n" + extra
    tomllib.loads(text)
    path = tmp_path / "projekt.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.analysis.waves == (2014, 2017, 2020, 2023)
    assert (cfg.analysis.wave_month, cfg.analysis.wave_day) == (4, 15)
    assert cfg.survey.min_n == 30 and cfg.analysis.level == pytest.approx(0.95)
    assert cfg.survey.aliases["Hjorthagen-Ropsten"] == "Hjorthagen"
    assert cfg.register.kinds["Konstinstallation"] == "utemiljo"
    assert str(cfg.project.crs) == "EPSG:3011"


@pytest.mark.slow
def test_planera_worked_example_runs_as_written(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The "Planera utvärderingen" recipe, cut from the README, on a fresh demo city, gives
    the figures the README quotes."""
    import contextlib
    import io
    import runpy

    from trygg_geo.cli import main
    from trygg_geo.demo import make_demo_city

    text = README.read_text(encoding="utf-8")
    start = text.index("## Planera utvärderingen")
    section = text[start:text.index("\n## ", start + 5)]
    recipe = section.split("```python\n", 1)[1].split("```", 1)[0]
    quoted = section.split("prints:\n\n```\n", 1)[1].split("```", 1)[0]
    make_demo_city(tmp_path / "trygg_demo" / "indata", seed=2024)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "recipe.py").write_text(recipe, encoding="utf-8")
    runpy.run_path(str(tmp_path / "recipe.py"))
    monkeypatch.chdir(tmp_path / "trygg_demo" / "indata")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["planera", "plan.toml"]) == 0
    printed = out.getvalue().splitlines()
    for line in quoted.splitlines():
        if line.strip() and line.strip() != "\u2026":
            assert line in printed, (line, printed)
