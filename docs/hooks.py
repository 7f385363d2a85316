"""MkDocs hooks that generate the reference parts of the site from the code, so they cannot drift.

A page asks for generated text with a marker on a line of its own, ``<!-- gen:NAME -->``;
:func:`on_page_markdown` replaces it with ``GENERATORS[NAME]()``:

- ``config-example``: the commented example ``projekt.toml`` of the config module's docstring.
- ``config``: the full ``projekt.toml`` reference, from the section dataclasses of
  :mod:`trygg_geo.config` (every field of :class:`~trygg_geo.config.Config` whose type is a
  section dataclass; every key with its type, default and the section's docstring), read with
  :func:`dataclasses.fields` and :func:`typing.get_type_hints`. A new section needs no change here.
- ``layers``: every GeoPackage layer and field of ``layers/catalogue.json`` with its aliases.
- ``cli``: the help of every ``trygg-geo`` command, from :func:`trygg_geo.cli.build_parser`,
  and the exit codes (the README's paragraph and the CLI module's docstring).
- ``readme-own-data``: the README's "Din egen data" section, and ``readme-exit-codes``.
- ``register-columns``, ``incident-columns``, ``report-columns``: recognised headers.
- ``area-aliases``, ``kinds``: the built-in area name aliases and the kind catalogue.

:func:`on_files` writes one API page per public module (``API_MODULES`` and every public
module of :mod:`trygg_geo.effects`), and :func:`on_config` lists them in the nav.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import inspect
import pkgutil
import re
import textwrap
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: Modules with an API page, besides the package itself and ``trygg_geo.effects.*``.
API_MODULES = [
    "trygg_geo.geocode",
    "trygg_geo.areas",
    "trygg_geo.survey",
    "trygg_geo.design",
    "trygg_geo.hotspots",
    "trygg_geo.density",
    "trygg_geo.darkpaths",
    "trygg_geo.places",
    "trygg_geo.ranking",
    "trygg_geo.emerging",
    "trygg_geo.plan",
    "trygg_geo.maps",
    "trygg_geo.export",
    "trygg_geo.report",
    "trygg_geo.config",
    "trygg_geo.layers",
]

_MARKER = re.compile(r"^<!-- gen:([a-z-]+) -->$", re.MULTILINE)


# --------------------------------------------------------------------------- helpers


def _cell(text: object) -> str:
    """Text for one Markdown table cell (pipes escaped, line breaks flattened).

    Braces become entities, so that ``Antal svarande {wave}`` is not read as attributes.
    """
    text = re.sub(r"\s+", " ", str(text)).replace("|", "\\|").strip()
    return text.replace("{", "&#123;").replace("}", "&#125;")


def _code(text: object) -> str:
    """Inline code for a table cell; backticks inside become a longer fence."""
    s = str(text)
    fence = "``" if "`" in s else "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}".replace("|", "\\|")


def _readme_section(heading: str) -> str:
    """The README's ``## heading...`` section, without its own heading line."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}") + 1
    end = text.find("\n## ", start + 3)
    body = text[start : end if end != -1 else len(text)]
    return body.split("\n", 1)[1].strip() + "\n"


def readme_exit_codes() -> str:
    """The README's paragraph that starts with ``Exit codes:``."""
    text = README.read_text(encoding="utf-8")
    for para in re.split(r"\n\s*\n", text):
        if para.startswith("Exit codes:"):
            return para.strip() + "\n"
    raise ValueError("README.md has no paragraph starting with 'Exit codes:'")


def readme_own_data() -> str:
    """The README's "Din egen data" section (its subsections become level-3 headings)."""
    return _readme_section("Din egen data")


# --------------------------------------------------------------------------- projekt.toml


def _type_name(tp: Any) -> str:
    """A readable type: ``str``, ``Path | None``, ``dict[str, float]``, ``tuple[int, ...]``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if tp is type(None):
        return "None"
    if tp is Ellipsis:
        return "..."
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(_type_name(a) for a in args)}]"
    return getattr(tp, "__name__", str(tp))


def _toml_value(value: Any) -> str:
    """A default written as TOML (``"sv"``, ``30``, ``true``, ``[]``, ``{}``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, Path)):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        if f.default is None:
            return "– (inget)"
        return _code(_toml_value(f.default))
    if f.default_factory is not dataclasses.MISSING:
        return _code(_toml_value(f.default_factory()))
    return "**krävs**"


def config_sections() -> list[tuple[str, type, str]]:
    """``(section name, section dataclass, status)`` for every section of ``Config``.

    The status is ``required`` (no default), ``optional`` (default ``None``: the section is
    used only when written) or ``defaults`` (a default section is used when it is not written).
    """
    from trygg_geo.config import Config

    hints = typing.get_type_hints(Config)
    out = []
    for f in dataclasses.fields(Config):
        tp = hints[f.name]
        candidates = [a for a in (typing.get_args(tp) or (tp,)) if dataclasses.is_dataclass(a)]
        if not candidates:
            continue  # not a section (e.g. the config file's own path)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            status = "required"
        elif f.default is None:
            status = "optional"
        else:
            status = "defaults"
        out.append((f.name, candidates[0], status))
    return out


_STATUS_SV = {
    "required": "Sektionen krävs.",
    "optional": "Sektionen är valfri: den används bara när den finns i filen.",
    "defaults": "Sektionen är valfri: utan den gäller standardvärdena nedan.",
}


def config_reference() -> str:
    """The ``projekt.toml`` reference: one heading and one table per section."""
    parts = []
    for name, klass, status in config_sections():
        hints = typing.get_type_hints(klass)
        doc = inspect.getdoc(klass) or ""
        parts.append(f"## Sektion [{name}] {{ #{name} }}\n")
        parts.append(f"{_STATUS_SV[status]} Klass: `trygg_geo.config.{klass.__name__}`.\n")
        parts.append(_docstring_block(doc))
        parts.append("| nyckel | typ | standardvärde |\n|---|---|---|")
        for f in dataclasses.fields(klass):
            tp = hints[f.name]
            kind = _type_name(tp)
            if typing.get_origin(tp) is dict:
                kind += f" (tabell `[{name}.{f.name}]`)"
            parts.append(f"| {_code(f.name)} | {_cell(kind)} | {_default(f)} |")
        parts.append("")
    return "\n".join(parts)


def config_example() -> str:
    """The commented example ``projekt.toml`` of the :mod:`trygg_geo.config` docstring."""
    import trygg_geo.config as config_module

    doc = inspect.getdoc(config_module) or ""
    block = doc[doc.index("::\n") + 3 :]  # the literal block is the end of the docstring
    body = textwrap.dedent(block.lstrip("\n"))
    return "```toml\n" + body.strip("\n") + "\n```\n"


def _docstring_block(doc: str) -> str:
    """A section docstring as Markdown: the Sphinx roles become inline code."""
    doc = re.sub(r":(?:func|class|data|mod|meth|attr):`~?([^`]+)`", r"`\1`", doc)
    doc = doc.replace("``", "`")
    return doc.strip() + "\n"


# --------------------------------------------------------------------------- layers


def layer_reference() -> str:
    """Every layer of the catalogue: title, geometry, description, fields and patterns."""
    from trygg_geo.layers import load_catalogue

    cat = load_catalogue()  # shared field sets are already resolved into each layer's fields
    parts = ["| lager | geometri | titel |", "|---|---|---|"]
    for name, spec in cat["layers"].items():
        geom = ", ".join(str(g) if g else "ingen (tabell)" for g in spec["geometry"])
        parts.append(f"| [{_code(name)}](#{name}) | {_cell(geom)} | {_cell(spec['title_sv'])} |")
    parts.append("")
    for name, spec in cat["layers"].items():
        geom = ", ".join(str(g) if g else "ingen (tabell)" for g in spec["geometry"])
        parts.append(f"## {name} {{ #{name} }}\n")
        parts.append(f"**{_cell(spec['title_sv'])}** ({_cell(spec['title_en'])}). "
                     f"Geometri: {geom}.\n")
        parts.append(f"{_cell(spec['description_sv'])}\n")
        parts.append(f"*{_cell(spec['description_en'])}*\n")
        if spec.get("fields"):
            parts.append("| fält | typ | svenskt alias | English alias | description |")
            parts.append("|---|---|---|---|---|")
            for fd in spec["fields"]:
                parts.append(f"| {_code(fd['name'])} | {fd['type']} | {_cell(fd['alias_sv'])} | "
                             f"{_cell(fd['alias_en'])} | {_cell(fd['description'])} |")
            parts.append("")
        if spec.get("patterns"):
            parts.append("Fält vars namn beror på data (`{wave}` är ett årtal, `{indicator}` "
                         "en indikator):\n")
            parts.append("| mönster | typ | svenskt alias | English alias | description |")
            parts.append("|---|---|---|---|---|")
            for p in spec["patterns"]:
                parts.append(f"| {_code(p['pattern'])} | {p['type']} | {_cell(p['alias_sv'])} | "
                             f"{_cell(p['alias_en'])} | {_cell(p['description'])} |")
            parts.append("")
    parts.append("## Indikatorer { #indikatorer }\n")
    parts.append("Etiketterna som `{indicator}` visas med:\n")
    parts.append("| id | svenska | English |\n|---|---|---|")
    for ind, labels in cat["indicators"].items():
        parts.append(f"| {_code(ind)} | {_cell(labels['sv'])} | {_cell(labels['en'])} |")
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- CLI


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    out = []
    for action in parser._actions:  # argparse keeps its subcommands there, nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append((name, sub))
    return out


def _help(parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=88)
    return parser.format_help()


def cli_reference() -> str:
    """``trygg-geo --help`` and the help of every subcommand, then the exit codes."""
    from trygg_geo.cli import build_parser

    parser = build_parser()
    parts = ["## trygg-geo { #trygg-geo }\n", "```text", _help(parser).rstrip(), "```\n"]
    todo = [(f"trygg-geo {name}", sub) for name, sub in _subcommands(parser)]
    while todo:
        title, sub = todo.pop(0)
        anchor = title.replace(" ", "-")
        parts += [f"## {title} {{ #{anchor} }}\n", "```text", _help(sub).rstrip(), "```\n"]
        todo += [(f"{title} {name}", s) for name, s in _subcommands(sub)]
    return "\n".join(parts)


def cli_exit_codes() -> str:
    """The CLI module's docstring, which lists every exit code and its one error path."""
    import trygg_geo.cli

    return _docstring_block(inspect.getdoc(trygg_geo.cli) or "")


# --------------------------------------------------------------------------- own data


def _header_table(columns: dict[str, tuple[str, ...]]) -> str:
    rows = ["| fält | rubriker som känns igen |", "|---|---|"]
    for name, headers in columns.items():
        rows.append(f"| {_code(name)} | {', '.join(_code(h) for h in headers)} |")
    return "\n".join(rows) + "\n"


def register_columns() -> str:
    """Recognised register headers (``trygg_geo.io.REGISTER_COLUMNS``)."""
    from trygg_geo.io import REGISTER_COLUMNS

    return _header_table(REGISTER_COLUMNS)


def incident_columns() -> str:
    """Recognised incident headers (``trygg_geo.io.INCIDENT_COLUMNS``)."""
    from trygg_geo.io import INCIDENT_COLUMNS

    return _header_table(INCIDENT_COLUMNS)


def report_columns() -> str:
    """Recognised headers of residents' reports (``trygg_geo.places.REPORT_COLUMNS``)."""
    from trygg_geo.places import REPORT_COLUMNS

    return _header_table(REPORT_COLUMNS)


def area_aliases() -> str:
    """The built-in area aliases (``trygg_geo.areas.AREA_ALIASES``)."""
    from trygg_geo.areas import AREA_ALIASES

    rows = ["| namn i enkät eller register | område |", "|---|---|"]
    rows += [f"| {_cell(k)} | {_cell(v)} |" for k, v in AREA_ALIASES.items()]
    return "\n".join(rows) + "\n"


def kinds() -> str:
    """The kind catalogue (``trygg_geo.interventions.CATALOGUE`` and ``annat``)."""
    from trygg_geo.interventions import CATALOGUE, UNKNOWN_KIND

    rows = ["| id | namn | ritas som | radie (m) | ord som känns igen |", "|---|---|---|---|---|"]
    for k in [*CATALOGUE.values(), UNKNOWN_KIND]:
        rows.append(f"| {_code(k.id)} | {_cell(k.label_sv)} | {k.geometry} | {k.radius_m:g} | "
                    f"{', '.join(_code(s) for s in k.synonyms)} |")
    return "\n".join(rows) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "config": config_reference,
    "config-example": config_example,
    "layers": layer_reference,
    "cli": cli_reference,
    "cli-exit-codes": cli_exit_codes,
    "readme-own-data": readme_own_data,
    "readme-exit-codes": readme_exit_codes,
    "register-columns": register_columns,
    "incident-columns": incident_columns,
    "report-columns": report_columns,
    "area-aliases": area_aliases,
    "kinds": kinds,
}


# --------------------------------------------------------------------------- API pages


def api_modules() -> list[str]:
    """The modules with an API page: ``API_MODULES`` and the public ``trygg_geo.effects.*``."""
    import trygg_geo.effects

    effects = ["trygg_geo.effects"] + [
        f"trygg_geo.effects.{m.name}"
        for m in pkgutil.iter_modules(trygg_geo.effects.__path__)
        if not m.name.startswith("_")
    ]
    return [*API_MODULES, *effects]


def _api_page(module: str) -> str:
    if module == "trygg_geo.layers":  # its source is the top-level layers/ (pyproject.toml)
        return (f"# {module}\n\nThe source is the top-level folder `layers/`, installed as "
                f"`{module}`; the names below are imported from `{module}`.\n\n"
                "::: layers\n    options:\n      show_root_heading: false\n")
    if module == "trygg_geo.effects":  # its names are documented on the submodules' pages
        return f"# {module}\n\n::: {module}\n    options:\n      members: false\n"
    return f"# {module}\n\n::: {module}\n    options:\n      show_root_heading: false\n"


def shadowed_names() -> dict[str, str]:
    """Names of ``trygg_geo.__all__`` that are also a submodule's name -> where they are defined.

    ``trygg_geo.plan`` is the function ``trygg_geo.plan_outputs.plan`` at run time but the
    module ``trygg_geo/plan.py`` to a reader of the source, so it is documented by its home.
    """
    import trygg_geo

    out = {}
    for name in trygg_geo.__all__:
        obj = getattr(trygg_geo, name)
        home = getattr(obj, "__module__", None)
        if (not inspect.ismodule(obj) and home not in (None, "trygg_geo")
                and importlib.util.find_spec(f"trygg_geo.{name}") is not None):
            out[name] = f"{home}.{name}"
    return out


def _top_level_page() -> str:
    import trygg_geo

    shadowed = shadowed_names()
    names = [n for n in trygg_geo.__all__ if not n.startswith("_") and n not in shadowed]
    members = "\n".join(f"        - {n}" for n in names)
    page = ("# trygg_geo\n\nThe names in `trygg_geo.__all__`: the public API at the top level.\n\n"
            f"::: trygg_geo\n    options:\n      show_root_heading: false\n"
            f"      members:\n{members}\n")
    for name, home in shadowed.items():
        page += (f"\n`trygg_geo.{name}` is the function `{home}` (the module of the same name "
                 f"is documented on its own page).\n\n::: {home}\n    options:\n"
                 "      heading_level: 2\n")
    return page


def _api_path(module: str) -> str:
    return f"api/{module}.md"


def on_config(config: Any) -> Any:
    """Add the generated API pages to the nav under "API reference"."""
    for item in config["nav"]:
        if isinstance(item, dict) and "API reference" in item:
            item["API reference"] = [
                "api/index.md",
                {"trygg_geo": _api_path("trygg_geo")},
                *({m.removeprefix("trygg_geo."): _api_path(m)} for m in api_modules()),
            ]
    return config


def on_files(files: Any, config: Any) -> Any:
    """Write the API pages (one per module) into the site's files."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, _api_path("trygg_geo"), content=_top_level_page()))
    for module in api_modules():
        files.append(File.generated(config, _api_path(module), content=_api_page(module)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace each ``<!-- gen:NAME -->`` marker with its generated Markdown."""
    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in GENERATORS:
            raise KeyError(f"{page.file.src_uri}: unknown generator marker '{name}'; "
                           f"known: {', '.join(GENERATORS)}")
        return GENERATORS[name]()

    return _MARKER.sub(replace, markdown)
