"""The project config (``projekt.toml``): a validated settings object.

Unknown keys are refused with the key and the file named, so a misspelt option never
silently falls back to a default. Relative paths are resolved against the folder of
the config file.

Example ``projekt.toml``::

    [project]
    name = "Uppföljning av trygghetsinvesteringar 2024"
    language = "sv"            # sv | en: maps, reports and layer aliases
    crs = "EPSG:3011"          # working and output CRS (default: the area layer's, else EPSG:3006)

    [areas]
    path = "stadsdelar.gpkg"
    id_column = "sdid"         # default: built from the names
    name_column = "namn"
    parent_column = "sdo"      # optional: stadsdelsområde
    layer = "stadsdelar"       # optional: layer in a multi-layer file

    [register]
    path = "investeringar.xlsx"
    sheet = "2024"             # optional
    [register.columns]         # optional: field = "header in the file"
    granted_sek = "Beviljat 2024"

    [gazetteer]
    # OSM XML (.osm, .osm.bz2, .osm.gz), an address file, or a saved gazetteer
    path = "stockholm.osm"

    [survey]
    path = "trygghetsmatning.csv"
    indicator = "otrygg_kvall"
    min_n = 30
    scale = "auto"             # auto | percent (0-100) | proportion (0-1)

    [incidents]                # optional
    path = "handelser.csv"
    crs = "EPSG:3011"

    [analysis]
    waves = [2015, 2018, 2021, 2024]
    wave_month = 9
    wave_day = 15
    alpha = 0.05
    # none | adjacent (contiguous areas) | distance (with spill_distance_m)
    spillover = "none"

    [output]
    folder = "resultat"
"""

from __future__ import annotations

import calendar
import datetime as _dt
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING as _MISSING
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from trygg_geo._errors import ConfigError, MissingFileError, UnknownConfigKeyError

__all__ = [
    "AnalysisSection",
    "AreasSection",
    "Config",
    "GazetteerSection",
    "IncidentsSection",
    "OutputSection",
    "ProjectSection",
    "RegisterSection",
    "SurveySection",
    "load_config",
]


@dataclass(frozen=True)
class ProjectSection:
    """[project]: the project name, the language of the outputs and the working CRS."""

    name: str = "Trygghetsinvesteringar"
    language: str = "sv"
    crs: str | None = None


@dataclass(frozen=True)
class AreasSection:
    """[areas]: the area layer and the columns that hold the id, name and parent."""

    path: Path
    id_column: str | None = None
    name_column: str | None = None
    parent_column: str | None = None
    layer: str | None = None
    crs: str | None = None


@dataclass(frozen=True)
class RegisterSection:
    """[register]: the investment register, its sheet and its column names."""

    path: Path
    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GazetteerSection:
    """[gazetteer]: the OSM extract, address file or saved gazetteer."""

    path: Path


@dataclass(frozen=True)
class SurveySection:
    """[survey]: the survey file, the indicator, the minimum n and the share scale."""

    path: Path
    indicator: str = "otrygg_kvall"
    min_n: int = 30
    scale: str = "auto"
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentsSection:
    """[incidents]: the optional incident file, its CRS and its column names."""

    path: Path
    crs: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisSection:
    """[analysis]: the survey waves, the fieldwork date, alpha, seed and spillover."""

    waves: tuple[int, ...] = ()
    wave_month: int = 9
    wave_day: int = 15
    alpha: float = 0.05
    icc: float = 0.02
    seed: int = 0
    spillover: str = "none"
    spill_distance_m: float | None = None


@dataclass(frozen=True)
class OutputSection:
    """[output]: the output folder and the names of the files written there."""

    folder: Path = Path(".")
    map: str = "karta.html"
    geopackage: str = "resultat.gpkg"
    report: str = "rapport.md"
    density: str = "tathet.tif"


@dataclass(frozen=True)
class Config:
    """A validated project config. Build it with :func:`load_config` or :meth:`from_dict`."""

    areas: AreasSection
    register: RegisterSection
    gazetteer: GazetteerSection
    survey: SurveySection
    project: ProjectSection = field(default_factory=ProjectSection)
    incidents: IncidentsSection | None = None
    analysis: AnalysisSection = field(default_factory=AnalysisSection)
    output: OutputSection = field(default_factory=OutputSection)
    source: Path | None = None

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, base: str | Path = ".", source: str | Path | None = None
    ) -> Config:
        """Validate a parsed TOML document. Relative paths are taken from ``base``."""
        base = Path(base)
        src = None if source is None else Path(source)
        sections: dict[str, type] = {
            "project": ProjectSection, "areas": AreasSection, "register": RegisterSection,
            "gazetteer": GazetteerSection, "survey": SurveySection, "incidents": IncidentsSection,
            "analysis": AnalysisSection, "output": OutputSection,
        }
        for key in data:
            if key not in sections:
                raise UnknownConfigKeyError(key, file=src, known=sections)
        built: dict[str, Any] = {}
        for name, klass in sections.items():
            if name not in data:
                continue
            raw = data[name]
            if not isinstance(raw, Mapping):
                raise ConfigError(
                    f"{_where(src)}: {name} = {_toml_literal(raw)} is {_toml_type(raw)}, but "
                    f"[{name}] "
                    f"must be a table of keys. Fix: write a line [{name}] and the keys under it "
                    "(see the example in trygg_geo.config)."
                )
            built[name] = _build(klass, raw, section=name, base=base, src=src)
        for required in ("areas", "register", "gazetteer", "survey"):
            if required not in built:
                raise ConfigError(
                    f"{_where(src)}: the section [{required}] is missing. Fix: add it with at "
                    f"least 'path = \"...\"' (see the example in trygg_geo.config)."
                )
        cfg = cls(**built, source=src)
        _check_values(cfg, src)
        return cfg

    @property
    def output_folder(self) -> Path:
        """The folder the outputs are written to (``[output] folder``)."""
        return self.output.folder


def _where(src: Path | None) -> str:
    return f"'{src}'" if src is not None else "the configuration"


_PATH_FIELDS = {"path", "folder"}

# an example of a good value per key, used in the "Fix:" of a type error
_EXAMPLES: dict[str, str] = {
    "project.name": 'name = "Uppföljning 2024"',
    "project.language": 'language = "sv"',
    "project.crs": 'crs = "EPSG:3006"',
    "areas.crs": 'crs = "EPSG:3006"',
    "incidents.crs": 'crs = "EPSG:3006"',
    "register.sheet": 'sheet = "2024" (a sheet name) or sheet = 0 (the first sheet)',
    "survey.indicator": 'indicator = "otrygg_kvall"',
    "survey.min_n": "min_n = 30",
    "analysis.wave_month": "wave_month = 9",
    "analysis.wave_day": "wave_day = 15",
    "analysis.alpha": "alpha = 0.05",
    "analysis.icc": "icc = 0.02",
    "analysis.seed": "seed = 42",
    "analysis.spillover": 'spillover = "none"',
    "analysis.spill_distance_m": "spill_distance_m = 250",
    "analysis.waves": "waves = [2015, 2018, 2021, 2024]",
    "output.map": 'map = "karta.html"',
    "output.geopackage": 'geopackage = "resultat.gpkg"',
    "output.report": 'report = "rapport.md"',
    "output.density": 'density = "tathet.tif"',
}


def _toml_literal(value: Any) -> str:
    """``value`` written back as TOML, for messages (``"30"``, ``true``, ``5``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + '..."'
    if isinstance(value, Mapping):
        return (
            "a table {"
            + ", ".join(f"{k} = {_toml_literal(v)}" for k, v in list(value.items())[:3])
            + "}"
        )
    if isinstance(value, list):
        return (
            "["
            + ", ".join(_toml_literal(v) for v in value[:6])
            + (", ..." if len(value) > 6 else "")
            + "]"
        )
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean (true/false)"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text (a quoted string)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (_dt.date, _dt.time)):
        return "a date or time"
    return type(value).__name__  # pragma: no cover - TOML has no other types


def _type_error(
    src: Path | None, section: str, key: str, value: Any, expected: str, fix: str | None = None
) -> ConfigError:
    if fix is None:
        fix = f"write {_EXAMPLES.get(f'{section}.{key}', f'{key} = ...')}"
        if isinstance(value, str) and expected.startswith(("a whole", "a number", "a decimal")):
            fix += " (numbers without quotes)"
        if isinstance(value, bool) and not expected.startswith("a boolean"):
            fix += " (true/false is not a number)"
    return ConfigError(
        f"{_where(src)}: [{section}] {key} = {_toml_literal(value)} is {_toml_type(value)}, "
        f"but {key} must be {expected}. Fix: {fix}."
    )


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_type(klass: type, section: str, key: str, value: Any, src: Path | None) -> Any:
    """Check ``value`` against the dataclass annotation of ``key``; return the value to store."""
    hint = typing.get_type_hints(klass)[key]
    args = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    allowed = {a for a in args if a is not type(None)}
    if section == "register" and key == "sheet":  # a sheet name, or its 0-based number
        if isinstance(value, str) or (_is_int(value) and value >= 0):
            return value
        raise _type_error(src, section, key, value, "a sheet name (text) or a sheet number from 0")
    if allowed == {str}:
        if not isinstance(value, str):
            raise _type_error(src, section, key, value, "text (a quoted string)")
        return value
    if allowed == {int}:
        if _is_int(value):
            return value
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            raise _type_error(src, section, key, value, "a whole number",
                              fix=f"write {key} = {int(value)} (without the decimal point)")
        raise _type_error(src, section, key, value, "a whole number")
    if allowed == {float}:
        if not _is_number(value):
            raise _type_error(src, section, key, value, "a number")
        if not math.isfinite(value):
            raise _type_error(src, section, key, value, "a finite number")
        return float(value)
    return value  # pragma: no cover - every other field is checked by _build


def _build(
    klass: type, raw: Mapping[str, Any], *, section: str, base: Path, src: Path | None
) -> Any:
    known = {f.name: f for f in fields(klass)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise UnknownConfigKeyError(
                f"{section}.{key}", file=src, known=[f"{section}.{k}" for k in known]
            )
        if key in _PATH_FIELDS:
            if not isinstance(value, str) or not value.strip():
                example = "folder = \"resultat\"" if key == "folder" else "path = \"file name\""
                raise _type_error(
                    src,
                    section,
                    key,
                    value,
                    "a file or folder path as non-empty text",
                    fix=f"write {example} (relative to the folder of the config file)",
                )
            if "\0" in value:
                raise ConfigError(f"{_where(src)}: [{section}] {key} contains a NUL character. "
                                  "Fix: write the path as plain text.")
            p = Path(value)
            value = p if p.is_absolute() else base / p
        elif key == "columns":
            if not isinstance(value, Mapping) or not all(
                isinstance(v, str) for v in value.values()
            ):
                raise ConfigError(
                    f"{_where(src)}: [{section}.columns] must map field names to header names "
                    "(strings), "
                    f"got {_toml_literal(value)}. Fix: write e.g. [{section}.columns] followed by "
                    'granted_sek = "Beviljat 2024" (the header in quotes).'
                )
            value = dict(value)
        elif key == "waves":
            if not isinstance(value, list) or not all(_is_int(v) for v in value) or len(value) < 2:
                raise _type_error(
                    src, section, key, value, "a list of at least two years (whole numbers)"
                )
            bad = [v for v in value if not 1900 <= v <= 2200]
            if bad:
                raise ConfigError(
                    f"{_where(src)}: [analysis] waves holds {bad[0]}, which is not a survey year. "
                    f"Fix: write the years of the survey waves, e.g. {_EXAMPLES['analysis.waves']}."
                )
            if sorted(value) != value or len(set(value)) != len(value):
                raise ConfigError(
                    f"{_where(src)}: [analysis] waves must be increasing years without repeats, "
                    f"got {_toml_literal(value)}. Fix: list each wave once, oldest first, e.g. "
                    f"{_EXAMPLES['analysis.waves']}."
                )
            value = tuple(value)
        else:
            value = _check_type(klass, section, key, value, src)
        kwargs[key] = value
    missing = [
        f.name
        for f in known.values()
        if f.default is f.default_factory is _MISSING and f.name not in kwargs
    ]
    if missing:
        raise ConfigError(
            f"{_where(src)}: [{section}] needs {', '.join(repr(m) for m in missing)}. "
            f"Fix: add {missing[0]} = \"...\"."
        )
    try:
        return klass(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded above
        raise ConfigError(f"{_where(src)}: [{section}]: {exc}") from exc


_CRS_FIX = ('use an EPSG code, e.g. crs = "EPSG:3006" (SWEREF 99 TM) or crs = "EPSG:3011" '
            "(SWEREF 99 18 00, Stockholm)")
_FOLD = re.compile(r"[\s_\-]+")


def check_crs_text(value: str, *, key: str, src: Path | None, projected: bool = False) -> None:
    """Refuse a CRS string that pyproj cannot read, or reads only by a loose name search.

    pyproj resolves a bare name by a fuzzy search ("SWEREF" becomes the geographic SWEREF99,
    EPSG:4619), so a name is accepted only when it is the CRS's own name (spaces ignored).
    """
    import pyproj

    text = value.strip()
    section, _, name = key.partition(".")
    where = f"{_where(src)}: [{section}] {name} = {_toml_literal(value)}"
    if not text:
        raise ConfigError(f"{where} is empty. Fix: {_CRS_FIX}, or remove the key.")
    try:
        crs = pyproj.CRS.from_user_input(text)
    except (pyproj.exceptions.CRSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{where} names no coordinate reference system that pyproj knows. Fix: {_CRS_FIX}."
        ) from exc
    coded = re.fullmatch(r"(?i)\s*([a-z]+:\s*)?\d+\s*", text) is not None
    structured = (
        text.lstrip().startswith(("+", "{")) or "[" in text or text.lower().startswith("urn:")
    )
    if (
        not coded
        and not structured
        and _FOLD.sub("", crs.name.lower()) != _FOLD.sub("", text.lower())
    ):
        code = crs.to_epsg()
        raise ConfigError(
            f"{where} is not an exact CRS name (pyproj would guess '{crs.name}'"
            + (f", EPSG:{code}" if code else "") + f"). Fix: {_CRS_FIX}."
        )
    if projected and not crs.is_projected:
        raise ConfigError(
            f"{where} is {crs.name}, a geographic CRS in degrees, but the working CRS must be "
            f"projected (metres) for distances and densities. Fix: {_CRS_FIX}."
        )


def _check_values(cfg: Config, src: Path | None) -> None:  # noqa: C901 - predates the gate; split planned (issue 10)
    """Ranges and choices, after the types are known to be right."""
    w = _where(src)
    lang = cfg.project.language
    if lang not in ("sv", "en"):
        raise ConfigError(f"{w}: [project] language = '{lang}'. Fix: use 'sv' or 'en'.")
    for key, value, projected in (
        ("project.crs", cfg.project.crs, True),
        ("areas.crs", cfg.areas.crs, False),
        ("incidents.crs", cfg.incidents.crs if cfg.incidents else None, False),
    ):
        if value is not None:
            check_crs_text(value, key=key, src=src, projected=projected)
    if not cfg.survey.indicator.strip():
        raise ConfigError(
            f"{w}: [survey] indicator is empty. Fix: write {_EXAMPLES['survey.indicator']}."
        )
    if cfg.survey.scale not in ("auto", "percent", "proportion"):
        raise ConfigError(
            f"{w}: [survey] scale = '{cfg.survey.scale}'. Fix: use 'auto' (decided from the "
            "header and all values), 'percent' (0-100) or 'proportion' (0-1)."
        )
    if cfg.survey.min_n < 1:
        raise ConfigError(
            f"{w}: [survey] min_n = {cfg.survey.min_n}, but min_n must be at least 1. "
            "Fix: write min_n = 30 (the smallest number of respondents that is published)."
        )
    an = cfg.analysis
    if an.spillover not in ("none", "adjacent", "distance"):
        raise ConfigError(f"{w}: [analysis] spillover = '{an.spillover}'. "
                          "Fix: use 'none', 'adjacent' or 'distance' (with spill_distance_m).")
    if an.spill_distance_m is not None and not an.spill_distance_m > 0:
        raise ConfigError(
            f"{w}: [analysis] spill_distance_m = {an.spill_distance_m:g}, but a distance must be "
            "more than 0 metres. Fix: write spill_distance_m = 250 (metres), or remove the key."
        )
    if an.spillover == "distance" and not an.spill_distance_m:
        raise ConfigError(f"{w}: [analysis] spillover = 'distance' needs spill_distance_m. "
                          "Fix: add spill_distance_m = 250 (metres) under [analysis].")
    if not 0 < an.alpha < 0.5:
        raise ConfigError(
            f"{w}: [analysis] alpha = {an.alpha:g}, but alpha must be between 0 and 0.5. "
            "Fix: write alpha = 0.05 (95 % intervals)."
        )
    if not 0 <= an.icc < 1:
        raise ConfigError(
            f"{w}: [analysis] icc = {an.icc:g}, but the intra-cluster correlation must be from 0 "
            "up to (not including) 1. Fix: write icc = 0.02."
        )
    if not 0 <= an.seed < 2**32:
        raise ConfigError(
            f"{w}: [analysis] seed = {an.seed}, but a seed must be from 0 to 4294967295. "
            "Fix: write seed = 42 (any whole number in that range)."
        )
    if not 1 <= an.wave_month <= 12:
        raise ConfigError(f"{w}: [analysis] wave_month = {an.wave_month}, but a month is 1 to 12. "
                          "Fix: write wave_month = 9 (September).")
    years = an.waves or (2023,)  # without waves, the day must exist in an ordinary year
    for year in years:
        last = calendar.monthrange(year, an.wave_month)[1]
        if not 1 <= an.wave_day <= last:
            raise ConfigError(
                f"{w}: [analysis] wave_day = {an.wave_day}, but month {an.wave_month} of {year} "
                "has days 1 to "
                f"{last}. Fix: write wave_day = 15 (or another day that exists in month "
                f"{an.wave_month})."
            )


def load_config(path: str | Path) -> Config:
    """Read and validate ``projekt.toml``.

    Raises
    ------
    MissingFileError
        The file does not exist.
    ConfigError, UnknownConfigKeyError
        Invalid TOML, an unknown key, a missing section or a bad value.
    """
    p = Path(path)
    if not p.exists():
        raise MissingFileError(p, what="project config")
    if p.is_dir():
        inside = sorted(x.name for x in p.glob("*.toml"))[:3]
        hint = f" It holds {', '.join(inside)}." if inside else ""
        raise ConfigError(
            f"'{p}' is a folder, not a project config.{hint} "
            "Fix: give the path of the config file, e.g. "
            f"'{p / (inside[0] if inside else 'projekt.toml')}'."
        )
    raw = p.read_bytes()
    if b"\0" in raw[:65536]:
        raise ConfigError(f"'{p}' is a binary file, not a project config (TOML text). "
                          "Fix: give the path of projekt.toml (see the example in the README).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(
            f"'{p}' is not UTF-8 text (a byte that is not UTF-8 on line {line}), so it is not a "
            "project config. Fix: save projekt.toml as UTF-8 (any text editor can), or give the "
            "right file."
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"'{p}' is not valid TOML: {exc}. Fix: check quotes and brackets on that line."
        ) from exc
    return Config.from_dict(data, base=p.parent, source=p)
