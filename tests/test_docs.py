"""The documentation site builds offline with warnings as errors; its generated pages are complete.

The site is built once per module with ``mkdocs build --strict`` (as CI does); the checks
compare the built pages with the code at test time: every section and key of
:mod:`trygg_geo.config` with its default, every layer and field of the layer catalogue with its
Swedish alias, every command and option of the CLI, every name of ``trygg_geo.__all__``, and the
README's two commands. The example files on the "Din egen data" page are read by the real
readers. Only the build tests skip, and only when mkdocs (the ``test`` extra) is not installed.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import importlib.util
import os
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

import trygg_geo
from trygg_geo.areas import AREA_ALIASES, read_areas
from trygg_geo.cli import build_parser
from trygg_geo.config import Config
from trygg_geo.interventions import CATALOGUE
from trygg_geo.io import read_incidents
from trygg_geo.layers import load_catalogue

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

needs_mkdocs = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("mkdocs", "material", "mkdocstrings")),
    reason="mkdocs, mkdocs-material or mkdocstrings is not installed "
    "(python -m pip install -e '.[test]')",
)


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built by ``mkdocs build --strict`` into a temporary folder."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr[-6000:]}"
    return out


def _page_html(site: Path, page: str) -> str:
    html_text = (site / f"{page}.html").read_text(encoding="utf-8")
    return html_text[html_text.index("<article"):html_text.index("</article>")]


def _page_text(site: Path, page: str) -> str:
    """The page's article as plain text: tags removed, entities decoded, one item per line."""
    text = html.unescape(re.sub(r"<[^>]+>", "", _page_html(site, page)))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _blocks(text: str, heading: str) -> dict[str, str]:
    """Split ``text`` at every line starting with ``heading`` -> {rest of that line: block}."""
    parts = re.split(rf"^{re.escape(heading)}(.*)$", text, flags=re.MULTILINE)
    return {parts[i].rstrip("¶").strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _readme_commands() -> list[str]:
    """The two commands of the README's Quick start (its ```bash blocks)."""
    text = README.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start"):text.index("\n## ", text.index("## Quick start") + 5)]
    commands = re.findall(r"```bash\n(.*?)\n```", quick, flags=re.DOTALL)
    assert len(commands) == 2, commands
    return commands


def _sections() -> list[tuple[str, type]]:
    hints = typing.get_type_hints(Config)
    out = []
    for f in dataclasses.fields(Config):
        kinds = [a for a in (typing.get_args(hints[f.name]) or (hints[f.name],))
                 if dataclasses.is_dataclass(a)]
        if kinds:
            out.append((f.name, kinds[0]))
    return out


def _toml_default(f: dataclasses.Field[typing.Any]) -> str | None:
    """The default of a scalar key as the reference writes it; None for the others."""
    if f.default is dataclasses.MISSING or f.default is None:
        return None
    v = f.default
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, Path)):
        return f'"{v}"'
    if isinstance(v, (int, float)):
        return repr(v)
    return None


def _fenced(markdown: str, info: str) -> list[str]:
    return re.findall(rf"^```{info}\n(.*?)^```$", markdown, flags=re.DOTALL | re.MULTILINE)


# --------------------------------------------------------------------------- the build


@needs_mkdocs
def test_config_reference_has_every_section_key_and_default(site: Path) -> None:
    text = _page_text(site, "projekt-toml")
    blocks = _blocks(text, "Sektion ")
    sections = _sections()
    assert {"areas", "register", "gazetteer", "survey", "analysis", "output"} <= {
        name for name, _ in sections}
    assert list(blocks) == [f"[{name}]" for name, _ in sections]  # each once, in order
    for name, klass in sections:
        lines = blocks[f"[{name}]"].splitlines()
        assert f"Klass: trygg_geo.config.{klass.__name__}." in blocks[f"[{name}]"]
        first_doc_line = (klass.__doc__ or "").strip().splitlines()[0]
        assert first_doc_line.replace("``", "") in blocks[f"[{name}]"], name
        for f in dataclasses.fields(klass):
            assert f.name in lines, f"[{name}] {f.name} is not in the projekt.toml reference"
            row = lines[lines.index(f.name):lines.index(f.name) + 3]
            expected = _toml_default(f)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                assert row[2] == "krävs", (name, row)
            elif expected is not None:
                assert row[2] == expected, (name, row)
    survey = blocks["[survey]"].splitlines()
    i = survey.index("min_n")
    assert survey[i:i + 3] == ["min_n", "int", "30"]
    # the commented example of the config module is on the page, as TOML
    assert 'indicator = "otrygg_kvall"' in text and "[plan.effects]" in text


@needs_mkdocs
def test_layer_reference_has_every_layer_field_and_alias(site: Path) -> None:
    text = _page_text(site, "lagerreferens")
    page = _page_html(site, "lagerreferens")
    cat = load_catalogue()
    assert len(cat["layers"]) >= 10
    for name, spec in cat["layers"].items():
        assert f'id="{name}"' in page, name
        assert spec["title_sv"] in text and spec["description_sv"] in text, name
    for name, spec in cat["layers"].items():
        start = page.index(f'id="{name}"')
        nxt = [page.index(f'id="{n}"') for n in cat["layers"] if page.index(f'id="{n}"') > start]
        block = html.unescape(page[start:min(nxt) if nxt else len(page)])
        for fd in spec["fields"]:
            assert f"<code>{fd['name']}</code>" in block, (name, fd["name"])
            assert fd["alias_sv"] in block, (name, fd["alias_sv"])
        for p in spec["patterns"]:
            assert p["pattern"] in block and p["alias_sv"] in block, (name, p["pattern"])
    for labels in cat["indicators"].values():
        assert labels["sv"] in text


@needs_mkdocs
def test_getting_started_quotes_the_readme_commands_exactly(site: Path) -> None:
    source = (DOCS / "kom-igang.md").read_text(encoding="utf-8")
    text = _page_text(site, "kom-igang")
    commands = _readme_commands()
    assert commands == [
        "python -m pip install . && trygg-geo demo --out trygg_demo",
        'python -m pip install -q -e ".[test]" && python -m pytest -q -n 2',
    ]
    assert _fenced(source, "bash")[:2] == [c + "\n" for c in commands]
    for command in commands:
        assert command in text.splitlines()
    for output in ("karta.html", "resultat.gpkg", "rapport.md", "rapport.pdf", "tathet.tif"):
        assert output in text


@needs_mkdocs
def test_own_data_page_includes_readme_aliases_and_kinds(site: Path) -> None:
    text = _page_text(site, "din-egen-data")
    readme = README.read_text(encoding="utf-8")
    for line in ("Stadsdel;År;Andel otrygga (%);Antal svarande",
                 "Stockholms stad;2014;21,6;41020",
                 '"Konstinstallation" = "utemiljo"'):
        assert line in readme and line in text, line
    assert "### 1. The project file" in readme and "1. The project file" in text
    for alias, target in AREA_ALIASES.items():
        assert f"{alias}\n{target}" in text, alias
    for kind in [*CATALOGUE, "annat"]:
        assert kind in text.splitlines(), kind


@needs_mkdocs
def test_cli_reference_has_every_command_option_and_exit_code(site: Path) -> None:
    text = _page_text(site, "cli")
    parser = build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert subs and {"demo", "run", "verify", "geocode"} <= set(subs[0].choices)
    headings = _blocks(text, "trygg-geo ")
    for name, sub in subs[0].choices.items():
        block = headings[name]
        for action in sub._actions:
            for option in action.option_strings:
                assert option in block, (name, option)
    readme = README.read_text(encoding="utf-8")
    exit_codes = next(p for p in readme.split("\n\n") if p.startswith("Exit codes:"))
    assert " ".join(exit_codes.split()) in " ".join(text.split())
    assert "exit 130" in text


@needs_mkdocs
def test_api_reference_documents_all_public_names_and_modules(site: Path) -> None:
    page = (site / "api" / "trygg_geo.html").read_text(encoding="utf-8")
    for name in trygg_geo.__all__:
        if name.startswith("_"):
            continue
        obj = getattr(trygg_geo, name)
        # a function that shares its name with a submodule (plan) is documented by its home
        home = (obj.__module__ if importlib.util.find_spec(f"trygg_geo.{name}") is not None
                else "trygg_geo")
        assert f'id="{home}.{name}"' in page, name
    for module in ("geocode", "areas", "survey", "design", "hotspots", "density", "darkpaths",
                   "places", "ranking", "emerging", "plan", "maps", "export", "report",
                   "effects.did", "effects.staggered", "effects.synth", "effects.power"):
        built = (site / "api" / f"trygg_geo.{module}.html").read_text(encoding="utf-8")
        assert 'class="doc doc-object' in built or "doc-contents" in built, module
    synth = (site / "api" / "trygg_geo.effects.synth.html").read_text(encoding="utf-8")
    assert 'id="trygg_geo.effects.synth.synthetic_control"' in synth
    assert not list(site.rglob("hooks.py"))  # the build hooks are not published


@needs_mkdocs
def test_methods_and_scaling_pages_name_what_the_code_has(site: Path) -> None:
    from trygg_geo.effects import inference, variance
    from trygg_geo.overlay import assign_to_areas_dask

    methods = _page_text(site, "metoder")
    for code in ("did_2x2", "callaway_santanna", "panel_did", "synthetic_control"):
        assert code in methods, code
    assert f"färre än {inference.MIN_TREATED_MODEL} behandlade områden" in methods
    assert "DerSimonian" in methods and "Holm" in methods and "p_adjusted" in methods
    assert callable(variance.between_district_variance)
    scaling = _page_text(site, "skala-upp")
    assert assign_to_areas_dask.__name__ in scaling and 'pip install "trygg-geo[dask]"' in scaling


@needs_mkdocs
def test_site_loads_nothing_from_the_network(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 30
    external = re.compile(r"<(?:script|link|img)\b[^>]*(?:src|href)=\"(?:https?:)?//", re.I)
    for page in pages:
        assert not external.search(page.read_text(encoding="utf-8")), page
    assert "fonts.googleapis" not in (site / "index.html").read_text(encoding="utf-8")


def _hooks() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclasses.dataclass(frozen=True)
class _LightingSection:
    """[lighting]: a section that only this test adds to the config."""

    path: Path
    lux: float = 7.5
    night: bool = False
    zones: dict[str, str] = dataclasses.field(default_factory=dict)


def test_config_reference_picks_up_a_new_section(monkeypatch: pytest.MonkeyPatch) -> None:
    import trygg_geo.config as config_module

    extended = dataclasses.make_dataclass(
        "Config",
        [("lighting", _LightingSection | None, dataclasses.field(default=None))],
        bases=(Config,), frozen=True,
    )
    monkeypatch.setattr(config_module, "Config", extended)
    hooks = _hooks()
    assert [n for n, _, _ in hooks.config_sections()][-1] == "lighting"
    text = hooks.config_reference()
    block = text[text.index("## Sektion [lighting]"):]
    assert "valfri: den används bara när den finns i filen" in block
    assert "[lighting]: a section that only this test adds to the config." in block
    assert "| `path` | Path | **krävs** |" in block
    assert "| `lux` | float | `7.5` |" in block
    assert "| `night` | bool | `false` |" in block
    assert "| `zones` | dict[str, str] (tabell `[lighting.zones]`) | `{}` |" in block


# --------------------------------------------------------------------------- the examples


def _block_after(markdown: str, heading: str, info: str) -> str:
    return _fenced(markdown[markdown.index(heading):], info)[0]


def test_area_example_is_read_as_documented(tmp_path: Path) -> None:
    page = (DOCS / "din-egen-data.md").read_text(encoding="utf-8")
    path = tmp_path / "omraden.geojson"
    path.write_text(_block_after(page, "## Områden", "json"), encoding="utf-8")
    toml = _block_after(page, "## Områden", "toml")
    assert 'name_column = "namn"' in toml and 'parent_column = "sdo"' in toml
    areas = read_areas(path, name_column="namn", parent_column="sdo")
    assert areas["area_id"].tolist() == ["vasastaden", "norrmalm"]
    assert areas["parent"].tolist() == ["Norrmalm", "Norrmalm"]
    assert areas.crs is not None and areas.crs.is_projected


def test_incident_example_is_read_as_documented(tmp_path: Path) -> None:
    page = (DOCS / "din-egen-data.md").read_text(encoding="utf-8")
    path = tmp_path / "handelser.csv"
    path.write_text(_block_after(page, "## Händelser", ""), encoding="utf-8")
    assert 'crs = "EPSG:3006"' in _block_after(page, "## Händelser", "toml")
    inc = read_incidents(path, crs="EPSG:3006")
    assert inc["incident_id"].tolist() == ["H-2023-0412", "H-2023-0977", "H-2023-1350"]
    assert inc["category"].tolist() == ["Skadegörelse", "Ordningsstörning", "Rån"]
    assert inc.crs.to_epsg() == 3006
    assert inc.geometry.x.round(1).tolist() == [674032.5, 674388.0, 673905.2]
    assert inc.geometry.y.round(1).tolist() == [6580411.0, 6580126.5, 6579874.8]
