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
    [survey.aliases]           # optional: area name in the survey = area name or id
    "Vasastan" = "Vasastaden"  # (common Stockholm names are built in: trygg_geo.areas)

    [incidents]                # optional
    path = "handelser.csv"
    crs = "EPSG:3011"

    [analysis]
    waves = [2015, 2018, 2021, 2024]
    wave_month = 9
    wave_day = 15
    level = 0.95               # confidence level of the intervals (0.5 < level < 1)
    # none | adjacent (contiguous areas) | distance (with spill_distance_m)
    spillover = "none"

    [output]
    folder = "resultat"
    report_rows_per_area = 50  # the report lists at most so many projects per area ...
    report_max_rows = 300      # ... and rows per table; every project is in projekt.csv

    [map]
    max_markers = 5000         # above this many investments the map shows sums per area

    [plan]                     # trygg-geo planera (see trygg_geo.plan_outputs), and run
    next_wave = 2027           # the wave that will measure the planned investments
    expected_n = 150           # respondents per area next wave (omitted: each area's mean)
    n_controls = 12
    power = 0.8
    past_register = "investeringar_hittills.csv"  # optional: investments already made
    path = "plan/utvarderingsplan.gpkg"  # run: use this plan's pre-registered controls
    [plan.effects]             # plausible effect per kind (proportions; negative = safer)
    belysning = -0.04

    [scale]                    # optional: geocoding, density and hot spots on dask
    dask = true                # needs pip install 'trygg-geo[dask]'
    scheduler = "tcp://schemalaggare.exempel:8786"  # an existing cluster; omitted: this machine
    workers = 2                # worker processes on this machine (without scheduler)
"""

from __future__ import annotations

import calendar
import datetime as _dt
import json
import logging
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING as _MISSING
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from trygg_geo._crs import parse_crs, require_projected
from trygg_geo._errors import ConfigError, CRSError, MissingFileError, UnknownConfigKeyError
from trygg_geo.interventions import CATALOGUE, check_kind_mapping
from trygg_geo.survey import FIELDWORK_DAY, FIELDWORK_MONTH

__all__ = [
    "AnalysisSection",
    "AreasSection",
    "Config",
    "GazetteerSection",
    "IncidentsSection",
    "MapSection",
    "PlacesSection",
    "PrivacySection",
    "OutputSection",
    "PlanSection",
    "ProjectSection",
    "RegisterSection",
    "ReportsSection",
    "ScaleSection",
    "SurveySection",
    "load_config",
]

log = logging.getLogger(__name__)


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
    """[register]: the investment register, its sheet, its column names and extra kind texts.

    ``kinds`` maps a kind text as the register writes it to a catalogue kind id
    (``[register.kinds]``, e.g. ``"Trygghetsvandring i parken" = "trygghetsvandring"``); it is
    checked by :func:`trygg_geo.interventions.check_kind_mapping` and read before the built-in
    synonyms (:func:`trygg_geo.interventions.match_kind`).
    """

    path: Path
    sheet: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GazetteerSection:
    """[gazetteer]: the OSM extract, address file or saved gazetteer."""

    path: Path


@dataclass(frozen=True)
class SurveySection:
    """[survey]: the survey file, the indicator, the minimum n, the share scale and aliases.

    ``aliases`` maps an area name as the survey writes it to an area name or id of the area
    layer (``[survey.aliases]`` or ``aliases = {...}``); it extends and overrides
    :data:`trygg_geo.areas.AREA_ALIASES`. ``indicator`` is also the indicator of every row of
    a file without an indicator column (one question per file).
    """

    path: Path
    indicator: str = "otrygg_kvall"
    min_n: int = 30
    scale: str = "auto"
    columns: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentsSection:
    """[incidents]: the optional incident file, its CRS and its column names."""

    path: Path
    crs: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportsSection:
    """[reports]: places residents point out (safety walks, app reports), optional.

    A CSV/Excel table with coordinates or addresses (geocoded like the register), or a vector
    file; see :func:`trygg_geo.places.read_reports`.
    """

    path: Path
    crs: str | None = None
    layer: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PlacesSection:
    """[places]: the lägesbild of unsafe places: dark paths, hot spots over time, the ranking.

    ``dark_paths`` computes mörka stråk from the gazetteer's OSM XML (paths without lighting:
    ``lit=no``, or no ``lit`` tag and no street lamp within ``lamp_distance_m``).
    ``cell_size`` is the grid of hot spots and of the ranking of places (``forslag_platser``),
    whose ``weights`` (``reports``, ``incidents``, ``dark_m``, ``no_investment``) are shown
    beside every ranked place; ``top`` places are kept. ``recent_years``: an investment
    completed within so many years counts as recent in the ranking.
    """

    dark_paths: bool = True
    lamp_distance_m: float = 30.0
    cell_size: float = 250.0
    weights: dict[str, float] = field(default_factory=dict)
    top: int = 20
    recent_years: int = 3


@dataclass(frozen=True)
class PrivacySection:
    """[privacy]: what may be published about incident and report points.

    No raw incident or report point (and no report free text) is written to a published
    output unless ``publish_points`` (and ``publish_text``) is true; aggregates holding fewer
    than ``min_count`` points are published without their count.
    """

    publish_points: bool = False
    publish_text: bool = False
    min_count: int = 3


@dataclass(frozen=True)
class AnalysisSection:
    """[analysis]: the survey waves, the fieldwork date, the confidence level, seed, spillover.

    ``level`` is the confidence level of every interval (default 0.95). A file that still
    writes ``alpha = x`` is read as ``level = 1 - x`` (with one logged deprecation line);
    ``icc`` is accepted and ignored (logged).

    ``estimator`` chooses the kind rows' estimator: ``"auto"`` (default) takes the one the
    design calls for (:func:`trygg_geo.effects.selection.choose_estimator`:
    Callaway-Sant'Anna per kind with more than two waves, the 2x2 with two); ``"did_2x2"``
    forces the pooled 2x2 over each kind's windows.
    """

    waves: tuple[int, ...] = ()
    wave_month: int = FIELDWORK_MONTH
    wave_day: int = FIELDWORK_DAY
    level: float = 0.95
    seed: int = 0
    spillover: str = "none"
    spill_distance_m: float | None = None
    estimator: str = "auto"


@dataclass(frozen=True)
class OutputSection:
    """[output]: the output folder and the names of the files written there.

    ``lantmateriet_key`` (optional) adds Lantmäteriet's topowebb as an online background the
    map's reader can switch on; the key is then written into ``karta.html``.

    The report lists at most ``report_rows_per_area`` projects per area (fewer when all areas
    together would pass ``report_max_rows``) and every other long table (rows not placed,
    duplicates, estimates, notes) at most ``report_max_rows`` rows, and says how many more
    there are and where: ``projekt.csv`` beside the report holds every project (UTF-8 with
    BOM, ``;``-separated, as Excel in Sweden reads it), the GeoPackage every investment. So
    the report stays within 2 MB at any register size.
    """

    folder: Path = Path(".")
    map: str = "karta.html"
    geopackage: str = "resultat.gpkg"
    report: str = "rapport.md"
    density: str = "tathet.tif"
    lantmateriet_key: str | None = None
    report_rows_per_area: int = 50
    report_max_rows: int = 300


@dataclass(frozen=True)
class MapSection:
    """[map]: how many investments ``karta.html`` draws one by one.

    Above ``max_markers`` placed investments (points, lines and polygons together) the map
    draws no marker, line or polygon per investment but, per area, the number of investments,
    the money granted and spent and the kinds, with a note that every investment is in the
    GeoPackage (layers ``investeringar_punkt``, ``investeringar_linje``,
    ``investeringar_yta``). So the map stays within 5 MB at any register size.
    """

    max_markers: int = 5000


@dataclass(frozen=True)
class PlanSection:
    """[plan]: planning the evaluation (``trygg-geo planera``) and keeping to the plan (``run``).

    ``next_wave`` is the wave that will measure the planned investments (needed by
    ``planera``); ``expected_n`` its respondents per area (omitted: each area's mean over the
    past waves); ``n_controls`` the control areas to choose; ``power`` the target power;
    ``effects`` the plausible effect per kind (``[plan.effects]``, proportions, negative =
    safer; default :data:`trygg_geo.plan.PLANNING_EFFECTS`); ``past_register`` investments
    already made (register format; their areas are no controls). ``path``: a written
    ``utvarderingsplan.gpkg`` whose controls ``run`` uses instead of choosing its own.
    """

    next_wave: int | None = None
    expected_n: float | None = None
    n_controls: int = 12
    power: float = 0.8
    effects: dict[str, float] = field(default_factory=dict)
    past_register: Path | None = None
    path: Path | None = None


@dataclass(frozen=True)
class ScaleSection:
    """[scale]: geocoding, density and hot spots on dask (optional extra ``dask``).

    With ``dask = true`` the register is geocoded in partitions (by the fuzzy stage's street
    blocking key) and the incidents are binned and counted partition by partition, on the
    Dask scheduler at ``scheduler`` (``"tcp://host:8786"``, an existing cluster) or, without
    it, on a ``LocalCluster`` of ``workers`` processes started for the run. The results are
    those of the in-memory path. See ``docs/skala-upp.md`` for when it pays off.
    """

    dask: bool = False
    scheduler: str | None = None
    workers: int = 2


@dataclass(frozen=True)
class Config:
    """A validated project config. Build it with :func:`load_config` or :meth:`from_dict`."""

    areas: AreasSection
    register: RegisterSection
    gazetteer: GazetteerSection
    survey: SurveySection
    project: ProjectSection = field(default_factory=ProjectSection)
    incidents: IncidentsSection | None = None
    reports: ReportsSection | None = None
    places: PlacesSection = field(default_factory=PlacesSection)
    privacy: PrivacySection = field(default_factory=PrivacySection)
    analysis: AnalysisSection = field(default_factory=AnalysisSection)
    output: OutputSection = field(default_factory=OutputSection)
    map: MapSection = field(default_factory=MapSection)
    plan: PlanSection | None = None
    scale: ScaleSection = field(default_factory=ScaleSection)
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
            "analysis": AnalysisSection, "output": OutputSection, "reports": ReportsSection,
            "places": PlacesSection, "privacy": PrivacySection, "plan": PlanSection,
            "scale": ScaleSection,
            "map": MapSection,
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
            if name == "analysis":
                raw = _legacy_analysis_keys(raw, src)
            if name == "register" and "kinds" in raw:
                raw = {**raw, "kinds": _kinds(raw["kinds"], src=src)}
            if name == "plan" and "effects" in raw:
                raw = {**raw, "effects": _plan_effects(raw["effects"], src)}
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


_PATH_FIELDS = {"path", "folder", "past_register"}

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
    "analysis.wave_month": f"wave_month = {FIELDWORK_MONTH}",
    "analysis.wave_day": f"wave_day = {FIELDWORK_DAY}",
    "analysis.level": "level = 0.95",
    "analysis.alpha": "level = 0.95 (alpha is replaced by level = 1 - alpha)",
    "analysis.seed": "seed = 42",
    "analysis.spillover": 'spillover = "none"',
    "analysis.spill_distance_m": "spill_distance_m = 250",
    "analysis.estimator": 'estimator = "auto"',
    "analysis.waves": "waves = [2015, 2018, 2021, 2024]",
    "output.map": 'map = "karta.html"',
    "reports.crs": 'crs = "EPSG:3011"',
    "places.lamp_distance_m": "lamp_distance_m = 30",
    "places.cell_size": "cell_size = 250",
    "places.top": "top = 20",
    "places.recent_years": "recent_years = 3",
    "privacy.min_count": "min_count = 3",
    "plan.next_wave": "next_wave = 2027",
    "plan.expected_n": "expected_n = 150",
    "plan.n_controls": "n_controls = 12",
    "plan.power": "power = 0.8",
    "output.geopackage": 'geopackage = "resultat.gpkg"',
    "output.report": 'report = "rapport.md"',
    "output.density": 'density = "tathet.tif"',
    "output.lantmateriet_key": 'lantmateriet_key = "<your topowebb key>"',
    "scale.dask": "dask = true",
    "scale.scheduler": 'scheduler = "tcp://host:8786"',
    "scale.workers": "workers = 2",
    "map.max_markers": "max_markers = 5000",
    "output.report_rows_per_area": "report_rows_per_area = 50",
    "output.report_max_rows": "report_max_rows = 300",
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
    if allowed == {bool}:
        if not isinstance(value, bool):
            raise _type_error(src, section, key, value, "true or false")
        return value
    if section == "places" and key == "weights":
        if not isinstance(value, Mapping) or not all(
                _is_number(v) and math.isfinite(v) and v >= 0 for v in value.values()):
            raise _type_error(src, section, key, value, "a table of weights >= 0",
                              fix="write [places.weights] followed by e.g. reports = 0.4")
        return {str(k): float(v) for k, v in value.items()}
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


def _plan_effects(value: Any, src: Path | None) -> dict[str, float]:
    """``[plan.effects]``: kind id -> plausible effect (a finite proportion, -1 to 1)."""
    fix = "write [plan.effects] followed by e.g. belysning = -0.04 (proportions; negative = safer)"
    if not isinstance(value, Mapping) or not all(
            _is_number(v) and math.isfinite(v) and -1 < v < 1 for v in value.values()):
        raise _type_error(src, "plan", "effects", value,
                          "a table of effects between -1 and 1", fix=fix)
    unknown = [str(k) for k in value if str(k) not in CATALOGUE and str(k) != "annat"]
    if unknown:
        raise ConfigError(f"{_where(src)}: [plan.effects] {unknown[0]} is not a kind. Fix: use "
                          f"the kinds {', '.join([*CATALOGUE, 'annat'])}.")
    return {str(k): float(v) for k, v in value.items()}


def _legacy_analysis_keys(raw: Mapping[str, Any], src: Path | None) -> dict[str, Any]:
    """[analysis] with the old keys translated.

    ``alpha = x`` is read as ``level = 1 - x``; ``icc`` is dropped. Each is logged once;
    writing both ``alpha`` and ``level`` is an error.
    """
    out = dict(raw)
    if "icc" in out:
        del out["icc"]
        log.warning("%s: [analysis] icc is ignored and no longer used (the between-district "
                    "variation is estimated from the data); remove the line.", _where(src))
    if "alpha" not in out:
        return out
    alpha = out.pop("alpha")
    if "level" in out:
        raise ConfigError(
            f"{_where(src)}: [analysis] has both alpha = {_toml_literal(alpha)} and level = "
            f"{_toml_literal(out['level'])}. Fix: keep only level (level = 1 - alpha, e.g. "
            "level = 0.95), and remove alpha."
        )
    if not _is_number(alpha):
        raise _type_error(src, "analysis", "alpha", alpha, "a number")
    if not math.isfinite(alpha):
        raise _type_error(src, "analysis", "alpha", alpha, "a finite number")
    level = round(1 - float(alpha), 12)
    if not 0.5 < level < 1:
        raise ConfigError(
            f"{_where(src)}: [analysis] alpha = {alpha:g} means level = {level:g}, but level "
            "must be more than 0.5 and less than 1. Fix: write level = 0.95 (95 % intervals) "
            "instead of alpha."
        )
    log.warning("%s: [analysis] alpha = %g is deprecated; read as level = %g. Write level = %g "
                "instead.", _where(src), alpha, level, level)
    out["level"] = level
    return out


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
        elif key == "aliases":
            value = _aliases(value, section=section, src=src)
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


def _aliases(value: Any, *, section: str, src: Path | None) -> dict[str, str]:
    """``[survey] aliases``: a table of area name as written -> area name or id (both text)."""
    example = f'[{section}.aliases] followed by "Vasastan" = "Vasastaden"'
    if not isinstance(value, Mapping):
        raise _type_error(src, section, "aliases", value, "a table of names",
                          fix=f"write {example}")
    bad = [(k, v) for k, v in value.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        k, v = bad[0]
        raise ConfigError(
            f"{_where(src)}: [{section}.aliases] \"{k}\" = {_toml_literal(v)} is "
            f"{'empty text' if isinstance(v, str) else _toml_type(v)}, but an alias "
            "must name an area of the area layer (its name or id, as text). "
            f'Fix: write "{k}" = "<area name>", e.g. {example}.'
        )
    blank = [k for k in value if not str(k).strip()]
    if blank:
        raise ConfigError(f"{_where(src)}: [{section}.aliases] has an empty name before '='. "
                          f"Fix: write the area name as the survey writes it, e.g. {example}.")
    return {str(k): str(v) for k, v in value.items()}


def _kinds(value: Any, *, src: Path | None) -> dict[str, str]:
    """``[register.kinds]``: register text -> kind id, every id in the catalogue."""
    if not isinstance(value, Mapping):
        raise _type_error(src, "register", "kinds", value, "a table of kind texts",
                          fix='write [register.kinds] and under it lines such as '
                          '"Trygghetsvandring i parken" = "trygghetsvandring"')
    try:
        return check_kind_mapping(value)
    except ValueError as exc:
        raise ConfigError(f"{_where(src)}: [register.kinds] {exc}") from exc


def _check_crs(value: str, *, key: str, src: Path | None, projected: bool) -> None:
    """Refuse a CRS that :func:`trygg_geo._crs.parse_crs` cannot read.

    For the working CRS, also one that is not projected in metres. The error is a
    :class:`ConfigError` with the message of the CRS check.
    """
    try:
        crs = parse_crs(value, file=src, key=key)
        if projected:
            require_projected(crs, what="the working CRS", file=src, key=key)
    except CRSError as exc:
        raise ConfigError(str(exc)) from exc


def _check_scale(scale: ScaleSection, w: str) -> None:
    """[scale] workers and the scheduler address."""
    if scale.workers < 1:
        raise ConfigError(f"{w}: [scale] workers = {scale.workers} is too small (at least 1). "
                          "Fix: write workers = 2.")
    if scale.scheduler is not None and "://" not in scale.scheduler:
        raise ConfigError(f"{w}: [scale] scheduler = {scale.scheduler!r} is not a scheduler "
                          "address. Fix: write the address the Dask scheduler prints, e.g. "
                          'scheduler = "tcp://10.0.0.5:8786", or leave it out to use this '
                          "machine.")


def _check_values(cfg: Config, src: Path | None) -> None:
    """Ranges and choices, after the types are known to be right."""
    w = _where(src)
    _check_project(cfg, w, src)
    _check_survey(cfg.survey, w)
    _check_spillover(cfg.analysis, w)
    _check_analysis_numbers(cfg.analysis, w)
    _check_wave_date(cfg.analysis, w)
    _check_scale(cfg.scale, w)
    for section, key, least in (("map", "max_markers", 0), ("output", "report_rows_per_area", 1),
                                ("output", "report_max_rows", 1)):
        value = getattr(getattr(cfg, section), key)
        if value < least:
            raise ConfigError(f"{w}: [{section}] {key} = {value} is too small (at least {least}). "
                              f"Fix: write {_EXAMPLES[f'{section}.{key}']} (the default).")
    if cfg.plan is not None:
        _check_plan(cfg.plan, w)


def _check_plan(plan: PlanSection, w: str) -> None:
    """[plan] next_wave, expected_n, n_controls and power."""
    if plan.next_wave is not None and not 1900 <= plan.next_wave <= 2200:
        raise ConfigError(f"{w}: [plan] next_wave = {plan.next_wave} is not a survey year. "
                          f"Fix: write {_EXAMPLES['plan.next_wave']}.")
    if plan.expected_n is not None and not plan.expected_n > 0:
        raise ConfigError(f"{w}: [plan] expected_n = {plan.expected_n:g}, but respondents must "
                          "be more than 0. Fix: write expected_n = 150, or remove the line for "
                          "each area's mean over the past waves.")
    if plan.n_controls < 2:
        raise ConfigError(f"{w}: [plan] n_controls = {plan.n_controls}, but a comparison needs "
                          "at least 2 control areas. Fix: write n_controls = 12.")
    if not 0.5 <= plan.power < 1:
        raise ConfigError(f"{w}: [plan] power = {plan.power:g}, but power must be from 0.5 to "
                          "below 1. Fix: write power = 0.8.")


def _check_project(cfg: Config, w: str, src: Path | None) -> None:
    """[project] language, and every CRS the config names (project, areas, incidents)."""
    lang = cfg.project.language
    if lang not in ("sv", "en"):
        raise ConfigError(f"{w}: [project] language = '{lang}'. Fix: use 'sv' or 'en'.")
    for key, value, projected in (
        ("project.crs", cfg.project.crs, True),
        ("areas.crs", cfg.areas.crs, False),
        ("incidents.crs", cfg.incidents.crs if cfg.incidents else None, False),
    ):
        if value is not None:
            _check_crs(value, key=key, src=src, projected=projected)


def _check_survey(survey: SurveySection, w: str) -> None:
    """[survey] indicator, scale and min_n."""
    if not survey.indicator.strip():
        raise ConfigError(
            f"{w}: [survey] indicator is empty. Fix: write {_EXAMPLES['survey.indicator']}."
        )
    if survey.scale not in ("auto", "percent", "proportion"):
        raise ConfigError(
            f"{w}: [survey] scale = '{survey.scale}'. Fix: use 'auto' (decided from the "
            "header and all values), 'percent' (0-100) or 'proportion' (0-1)."
        )
    if survey.min_n < 1:
        raise ConfigError(
            f"{w}: [survey] min_n = {survey.min_n}, but min_n must be at least 1. "
            "Fix: write min_n = 30 (the smallest number of respondents that is published)."
        )


def _check_spillover(an: AnalysisSection, w: str) -> None:
    """[analysis] spillover and spill_distance_m, alone and together."""
    if an.spillover not in ("none", "adjacent", "distance"):
        raise ConfigError(f"{w}: [analysis] spillover = '{an.spillover}'. "
                          "Fix: use 'none', 'adjacent' or 'distance' (with spill_distance_m).")
    if an.spill_distance_m is not None and not an.spill_distance_m > 0:
        raise ConfigError(
            f"{w}: [analysis] spill_distance_m = {an.spill_distance_m:g}, but a distance must be "
            "more than 0 metres. Fix: write spill_distance_m = 250 (metres), or remove the key."
        )
    if an.estimator not in ("auto", "did_2x2"):
        raise ConfigError(f"{w}: [analysis] estimator = '{an.estimator}'. "
                          "Fix: use 'auto' (the design's estimator) or 'did_2x2'.")
    if an.spillover == "distance" and not an.spill_distance_m:
        raise ConfigError(f"{w}: [analysis] spillover = 'distance' needs spill_distance_m. "
                          "Fix: add spill_distance_m = 250 (metres) under [analysis].")


def _check_analysis_numbers(an: AnalysisSection, w: str) -> None:
    """[analysis] level and seed."""
    if not 0.5 < an.level < 1:
        raise ConfigError(
            f"{w}: [analysis] level = {an.level:g}, but level must be more than 0.5 and less "
            "than 1. Fix: write level = 0.95 (95 % intervals) or level = 0.9."
        )
    if not 0 <= an.seed < 2**32:
        raise ConfigError(
            f"{w}: [analysis] seed = {an.seed}, but a seed must be from 0 to 4294967295. "
            "Fix: write seed = 42 (any whole number in that range)."
        )


def _check_wave_date(an: AnalysisSection, w: str) -> None:
    """[analysis] wave_month and wave_day: the fieldwork date must exist in every wave year."""
    if not 1 <= an.wave_month <= 12:
        raise ConfigError(f"{w}: [analysis] wave_month = {an.wave_month}, but a month is 1 to 12. "
                          f"Fix: write wave_month = {FIELDWORK_MONTH}.")
    years = an.waves or (2023,)  # without waves, the day must exist in an ordinary year
    for year in years:
        last = calendar.monthrange(year, an.wave_month)[1]
        if not 1 <= an.wave_day <= last:
            raise ConfigError(
                f"{w}: [analysis] wave_day = {an.wave_day}, but month {an.wave_month} of {year} "
                f"has days 1 to {last}. Fix: write wave_day = {FIELDWORK_DAY} (or another day "
                f"that exists in month {an.wave_month})."
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
