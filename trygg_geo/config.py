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
    path = "stockholm.osm"     # OSM XML (.osm, .osm.bz2, .osm.gz), an address file, or a saved gazetteer

    [survey]
    path = "trygghetsmatning.csv"
    indicator = "otrygg_kvall"
    min_n = 30

    [incidents]                # optional
    path = "handelser.csv"
    crs = "EPSG:3011"

    [analysis]
    waves = [2015, 2018, 2021, 2024]
    wave_month = 9
    wave_day = 15
    alpha = 0.05
    spillover = "none"         # none | adjacent (contiguous areas) | distance (with spill_distance_m)

    [output]
    folder = "resultat"
"""

from __future__ import annotations

import tomllib
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
    name: str = "Trygghetsinvesteringar"
    language: str = "sv"
    crs: str | None = None


@dataclass(frozen=True)
class AreasSection:
    path: Path
    id_column: str | None = None
    name_column: str | None = None
    parent_column: str | None = None
    layer: str | None = None
    crs: str | None = None


@dataclass(frozen=True)
class RegisterSection:
    path: Path
    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GazetteerSection:
    path: Path


@dataclass(frozen=True)
class SurveySection:
    path: Path
    indicator: str = "otrygg_kvall"
    min_n: int = 30
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentsSection:
    path: Path
    crs: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalysisSection:
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
    def from_dict(cls, data: Mapping[str, Any], *, base: str | Path = ".", source: str | Path | None = None) -> Config:
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
                raise ConfigError(f"{_where(src)}: [{name}] must be a table of keys, not {type(raw).__name__}.")
            built[name] = _build(klass, raw, section=name, base=base, src=src)
        for required in ("areas", "register", "gazetteer", "survey"):
            if required not in built:
                raise ConfigError(
                    f"{_where(src)}: the section [{required}] is missing. Fix: add it with at least "
                    f"'path = \"...\"' (see the example in trygg_geo.config)."
                )
        cfg = cls(**built, source=src)
        lang = cfg.project.language
        if lang not in ("sv", "en"):
            raise ConfigError(f"{_where(src)}: [project] language = '{lang}'. Fix: use 'sv' or 'en'.")
        if cfg.survey.min_n < 1:
            raise ConfigError(f"{_where(src)}: [survey] min_n must be at least 1.")
        if cfg.analysis.spillover not in ("none", "adjacent", "distance"):
            raise ConfigError(f"{_where(src)}: [analysis] spillover = '{cfg.analysis.spillover}'. "
                              "Fix: use 'none', 'adjacent' or 'distance' (with spill_distance_m).")
        if cfg.analysis.spillover == "distance" and not cfg.analysis.spill_distance_m:
            raise ConfigError(f"{_where(src)}: [analysis] spillover = 'distance' needs spill_distance_m.")
        if not 0 < cfg.analysis.alpha < 0.5:
            raise ConfigError(f"{_where(src)}: [analysis] alpha must be between 0 and 0.5.")
        return cfg

    @property
    def output_folder(self) -> Path:
        return self.output.folder


def _where(src: Path | None) -> str:
    return f"'{src}'" if src is not None else "the configuration"


_PATH_FIELDS = {"path", "folder"}


def _build(klass: type, raw: Mapping[str, Any], *, section: str, base: Path, src: Path | None) -> Any:
    known = {f.name: f for f in fields(klass)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise UnknownConfigKeyError(f"{section}.{key}", file=src, known=[f"{section}.{k}" for k in known])
        if key in _PATH_FIELDS:
            if not isinstance(value, str):
                raise ConfigError(f"{_where(src)}: [{section}] {key} must be a string path.")
            p = Path(value)
            value = p if p.is_absolute() else base / p
        elif key == "columns":
            if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(
                    f"{_where(src)}: [{section}.columns] must map field names to header names (strings)."
                )
            value = dict(value)
        elif key == "waves":
            if not isinstance(value, list) or not all(isinstance(v, int) for v in value) or len(value) < 2:
                raise ConfigError(f"{_where(src)}: [analysis] waves must be a list of at least two years.")
            if sorted(value) != value or len(set(value)) != len(value):
                raise ConfigError(f"{_where(src)}: [analysis] waves must be increasing years without repeats.")
            value = tuple(value)
        kwargs[key] = value
    missing = [f.name for f in known.values() if f.default is f.default_factory is _MISSING and f.name not in kwargs]
    if missing:
        raise ConfigError(
            f"{_where(src)}: [{section}] needs {', '.join(repr(m) for m in missing)}. "
            f"Fix: add {missing[0]} = \"...\"."
        )
    try:
        return klass(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded above
        raise ConfigError(f"{_where(src)}: [{section}]: {exc}") from exc



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
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"'{p}' is not valid TOML: {exc}. Fix: check quotes and brackets on that line.") from exc
    return Config.from_dict(data, base=p.parent, source=p)
