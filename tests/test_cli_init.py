"""The CLI as analysts know such tools: --version, -q/-v, progress bars, init, exit codes.

``trygg-geo init DIR`` followed by ``trygg-geo run DIR/projekt.toml`` is run end to end on the
written example (the demo city in a municipality's formats); the other tests are fast.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import re
import shutil
import tomllib
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest

import trygg_geo
from trygg_geo import cli
from trygg_geo._progress import get_progress, progress, progress_enabled, progress_mode
from trygg_geo.config import Config, load_config
from trygg_geo.effects.inference import permutation_test
from trygg_geo.geocode import Gazetteer, geocode_register
from trygg_geo.init_project import CONFIG_NAME, FILES, config_text, init_project
from trygg_geo.io import read_register

# the layers of a run on the example (the demo city: incidents, reports and OSM paths)
EXAMPLE_LAYERS = {
    "investeringar_punkt", "investeringar_linje", "investeringar_yta", "omraden", "behandling",
    "kontroll", "spill", "otrygga_platser", "otrygga_platser_over_tid", "morka_strak",
    "rapporterade_platser", "forslag_platser", "ej_placerade", "effekter",
    "morka_strak_omraden", "ej_placerade_rapporter", "layer_styles",
}
# keys that are TOML tables of their own ([register.columns], [plan.effects], ...)
_TABLE_KEYS = {"columns", "kinds", "aliases", "weights", "effects"}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written by ``trygg-geo init`` (once per module; copy it before changing it)."""
    folder = tmp_path_factory.mktemp("init") / "mitt_projekt"
    assert cli.main(["init", str(folder), "-q"]) == 0
    return folder


def _copy(example: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "projekt"
    shutil.copytree(example, dst)
    return dst


def _step_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("[") and " s] " in line]


# --------------------------------------------------------------------------- --version, options


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out == f"trygg-geo {importlib.metadata.version('trygg-geo')}\n"
    assert out == f"trygg-geo {trygg_geo.__version__}\n"


@pytest.mark.parametrize("argv", [["-q", "verify", "x"], ["verify", "x", "-q"],
                                  ["verify", "--quiet", "x"]])
def test_quiet_before_or_after_the_command(argv: list[str]) -> None:
    args = cli.build_parser().parse_args(argv)
    assert args.quiet is True and args.verbose == 0 and args.folder == "x"


def test_verbose_counts_and_defaults() -> None:
    parser = cli.build_parser()
    assert parser.parse_args(["run", "p.toml"]).quiet is False
    assert parser.parse_args(["run", "p.toml"]).verbose == 0
    assert parser.parse_args(["-v", "run", "p.toml"]).verbose == 1
    assert parser.parse_args(["run", "p.toml", "-vv"]).verbose == 2
    assert parser.parse_args(["-vv", "init", "d"]).verbose == 2  # not reset by the command


def test_help_ends_with_the_exit_codes() -> None:
    text = cli.build_parser().format_help()
    codes = text[text.index("exit codes:"):]
    for code in ("0", "1", "2", "3", "130"):
        assert f"\n  {code} " in codes, code
    assert "trygg-geo init mitt_projekt && trygg-geo run mitt_projekt/projekt.toml" in codes


# --------------------------------------------------------------------------- progress bars


def test_progress_is_off_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert get_progress() == "auto"
    items = list(progress(range(5000), desc="testbalk", min_items=10))
    assert items == list(range(5000))
    assert capsys.readouterr().err == ""  # captured stderr is no terminal: no bar text
    assert not progress_enabled(5000, min_items=10)


def test_progress_forced_on_draws_a_bar(capsys: pytest.CaptureFixture[str]) -> None:
    with progress_mode("on"):
        assert list(progress(range(5000), desc="testbalk", min_items=10)) == list(range(5000))
        assert list(progress(range(5), desc="kort", min_items=10)) == list(range(5))
    err = capsys.readouterr().err
    assert "testbalk" in err and "5000" in err
    assert "kort" not in err  # below min_items: no bar
    assert get_progress() == "auto"  # restored after the block
    # a function's own progress=True shows it off a terminal; --quiet (off) wins over it
    assert progress_enabled(5000, min_items=10, force=True)
    with progress_mode("off"):
        assert not progress_enabled(5000, min_items=10, force=True)


def test_permutations_show_a_bar_only_when_long_and_enabled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = np.random.default_rng(3)
    panel = pd.DataFrame([{"area_id": f"a{i}", "wave": w, "share": rng.uniform(0.2, 0.4),
                           "se": 0.03} for i in range(30) for w in (2018, 2021)])
    kw = {"treated": {f"a{i}": 2021 for i in range(6)},
          "controls": [f"a{i}" for i in range(6, 30)], "waves": [2018, 2021], "exact_limit": 0}
    small = permutation_test(panel, n_permutations=2_000, **kw)  # type: ignore[arg-type]
    with progress_mode("on"):
        permutation_test(panel, n_permutations=2_000, **kw)  # type: ignore[arg-type]
        assert "permutationer" not in capsys.readouterr().err  # one block: no bar
        big = permutation_test(panel, n_permutations=200_000, **kw)  # type: ignore[arg-type]
    assert "permutationer" in capsys.readouterr().err
    assert big.estimate == pytest.approx(small.estimate)
    assert abs(big.p_value - small.p_value) < 0.05


def test_geocoding_a_large_register_shows_a_bar_only_when_enabled(
    example: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    register = read_register(example / "investeringar.csv")
    big = pd.concat([register] * 25, ignore_index=True)  # 1850 rows: stages of 1000+ rows
    big["source_row"] = range(2, len(big) + 2)
    gazetteer = Gazetteer.from_osm_xml(example / "gator.osm", crs="EPSG:3006")
    capsys.readouterr()
    quiet = geocode_register(big, gazetteer)
    assert "geocode:" not in capsys.readouterr().err  # captured stderr is no terminal
    with progress_mode("on"):
        shown = geocode_register(big, gazetteer)
    assert "geocode: exact" in capsys.readouterr().err
    assert len(shown.placed) == len(quiet.placed) and len(shown.unplaced) == len(quiet.unplaced)
    assert len(quiet.placed) + len(quiet.unplaced) == len(big)


# --------------------------------------------------------------------------- init


def test_init_writes_a_commented_config_with_every_section(example: Path) -> None:
    assert sorted(p.name for p in example.iterdir()) == sorted([CONFIG_NAME, *FILES])
    text = (example / CONFIG_NAME).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert set(data) == {"project", "areas", "register", "gazetteer", "survey", "incidents",
                         "reports", "places", "privacy", "analysis", "output", "scale"}
    assert "# [plan]" in text and "# next_wave = 2027" in text  # optional, commented out
    cfg = load_config(example / CONFIG_NAME)
    assert cfg.project.language == "sv" and cfg.project.crs == "EPSG:3006"
    assert cfg.output.folder == example / "resultat"
    for path in (cfg.areas.path, cfg.register.path, cfg.gazetteer.path, cfg.survey.path):
        assert path.parent == example and path.is_file()
    areas = pyogrio.read_dataframe(cfg.areas.path, layer="stadsdelar")
    assert len(areas) == 42 and areas.crs.to_epsg() == 3006
    assert {"sdid", "stadsdel", "stadsdelsomrade"} <= set(areas.columns)
    register = pd.read_csv(cfg.register.path, sep=";", encoding="utf-8-sig")
    assert {"Projekt-ID", "Åtgärd", "Adress/plats", "Stadsdel", "Beviljat (kr)",
            "Färdigställd"} <= set(register.columns)
    survey = pd.read_csv(cfg.survey.path, sep=";", encoding="utf-8-sig")
    assert list(survey.columns) == ["Områdes-id", "Stadsdel", "År", "Indikator",
                                    "Antal svarande", "Andel (%)"]
    assert set(survey["Områdes-id"]) == set(areas["sdid"])


def test_the_config_template_names_every_key_of_the_config() -> None:
    """Every section and key of trygg_geo.config is in the template (set, or commented out)."""
    text = config_text()
    hints = typing.get_type_hints(Config)
    for f in dataclasses.fields(Config):
        section = next((a for a in (typing.get_args(hints[f.name]) or (hints[f.name],))
                        if dataclasses.is_dataclass(a)), None)
        if section is None:  # source: not a section
            continue
        assert re.search(rf"^(# )?\[{f.name}\]$", text, flags=re.MULTILINE), f.name
        for key in dataclasses.fields(section):
            pattern = (rf"^(# )?\[{f.name}\.{key.name}\]$" if key.name in _TABLE_KEYS
                       else rf"^(# )?{key.name} = ")
            assert re.search(pattern, text, flags=re.MULTILINE), f"{f.name}.{key.name}"


@pytest.mark.slow
def test_init_then_run_quietly_writes_the_outputs(example: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(example, tmp_path)
    assert cli.main(["run", str(folder / CONFIG_NAME), "--quiet"]) == 0  # effects estimated
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Klart: 74 registerrader"), out
    assert "effekt skattad för 5 av 5 åtgärdstyper" in lines[0]
    # no step lines, no warnings (the register's duplicate row), no progress bars
    assert err == "", err
    res = folder / "resultat"
    for name in ("karta.html", "resultat.gpkg", "rapport.md", "rapport.html", "tathet.tif",
                 "korning.json"):
        assert (res / name).is_file(), name
    layers = {str(name) for name, _ in pyogrio.list_layers(res / "resultat.gpkg")}
    assert layers == EXAMPLE_LAYERS
    assert len(pyogrio.read_dataframe(res / "resultat.gpkg", layer="omraden")) == 42
    assert cli.main(["verify", str(res)]) == 0


def test_quiet_hides_steps_and_warnings_but_not_the_error(
    example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = _copy(example, tmp_path)
    (folder / "gator.osm").write_text("<osm><node", encoding="utf-8")  # fails in step 3
    config = str(folder / CONFIG_NAME)
    assert cli.main(["run", config]) == 2
    err = capsys.readouterr().err
    assert len(_step_lines(err)) == 3  # areas, register, geocoding
    assert "varning: " in err and "rad upprepar en tidigare rad" in err
    assert cli.main(["-q", "run", config]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("trygg-geo: ") and "gator.osm" in err
    assert _step_lines(err) == [] and "varning" not in err


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "befintlig"
    folder.mkdir()
    (folder / "mina_anteckningar.txt").write_text("behåll mig", encoding="utf-8")
    assert cli.main(["init", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "inte tom" in err and "mina_anteckningar.txt" in err and "--force" in err
    assert cli.main(["init", str(folder), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and "--force" in err
    assert [p.name for p in folder.iterdir()] == ["mina_anteckningar.txt"]  # nothing written
    # a file is no folder
    assert cli.main(["init", str(folder / "mina_anteckningar.txt")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_init_force_replaces_the_examples_and_keeps_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "befintlig"
    folder.mkdir()
    (folder / "mina_anteckningar.txt").write_text("behåll mig", encoding="utf-8")
    (folder / CONFIG_NAME).write_text("gammal", encoding="utf-8")
    assert cli.main(["init", str(folder), "--force", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert f"trygg-geo run {folder / CONFIG_NAME}" in out
    assert (folder / "mina_anteckningar.txt").read_text(encoding="utf-8") == "behåll mig"
    assert load_config(folder / CONFIG_NAME).project.language == "en"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [CONFIG_NAME, *FILES, "mina_anteckningar.txt"])


def test_init_project_refuses_an_unknown_language(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'sv' or 'en'"):
        init_project(tmp_path / "x", lang="de")
    assert not (tmp_path / "x").exists()
