"""trygg_geo: GIS analysis of unsafe places and of the investments meant to make them safer.

The public API, by task:

- read: :func:`read_areas`, :func:`read_register`, :func:`read_survey`, :func:`read_incidents`,
  :func:`load_config`
- geocode: :class:`Gazetteer`, :func:`geocode_register`
- overlay: :func:`assign_to_areas`, :func:`dissolve_hierarchy`, :func:`survey_panel`
- unsafe places: :func:`kernel_density`, :func:`hot_spots`
- design and effects: :func:`assign_roles`, :mod:`trygg_geo.effects`
- deliver: :func:`build_map`, :func:`write_geopackage`, :func:`run`, :func:`verify_outputs`
- plan the evaluation before the money is spent: :func:`plan` (``trygg-geo planera``)
- demo: :func:`make_demo_city`
"""

from __future__ import annotations

from trygg_geo._errors import (
    ConfigError,
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    GeocodeError,
    InputError,
    MissingColumnError,
    MissingDependencyError,
    MissingFileError,
    TryggGeoError,
    TryggGeoWarning,
    UnknownConfigKeyError,
    UnreadableFileError,
)
from trygg_geo._outputs import OutputCheck, verify_outputs
from trygg_geo._version import __version__
from trygg_geo.areas import read_areas
from trygg_geo.config import Config, load_config
from trygg_geo.darkpaths import dark_paths
from trygg_geo.demo import make_demo_city
from trygg_geo.density import kernel_density, zonal_stats
from trygg_geo.design import assign_roles, match_controls
from trygg_geo.effects.evaluation import evaluate_effects
from trygg_geo.emerging import emerging_hot_spots
from trygg_geo.export import write_geopackage
from trygg_geo.geocode import Gazetteer, geocode_register
from trygg_geo.hotspots import hot_spots
from trygg_geo.io import read_incidents, read_register
from trygg_geo.lagesbild import build_lagesbild
from trygg_geo.maps import build_map, save_map
from trygg_geo.network import euclidean_catchments, graph_from_osm_xml, network_catchments
from trygg_geo.overlay import assign_to_areas, dissolve_hierarchy, interpolate_survey
from trygg_geo.pipeline import Results, run
from trygg_geo.places import read_reports, repeated_places

# the function plan (planera) shadows the module trygg_geo.plan as a package attribute:
# import the module's names with "from trygg_geo.plan import ..."
from trygg_geo.plan_outputs import plan
from trygg_geo.ranking import rank_places
from trygg_geo.survey import read_survey, survey_panel

__all__ = [
    "CRSError",
    "Config",
    "ConfigError",
    "DataQualityWarning",
    "EmptyLayerError",
    "Gazetteer",
    "GeocodeError",
    "InputError",
    "MissingColumnError",
    "MissingDependencyError",
    "MissingFileError",
    "OutputCheck",
    "Results",
    "TryggGeoError",
    "TryggGeoWarning",
    "UnknownConfigKeyError",
    "UnreadableFileError",
    "__version__",
    "assign_roles",
    "assign_to_areas",
    "build_lagesbild",
    "build_map",
    "dark_paths",
    "dissolve_hierarchy",
    "emerging_hot_spots",
    "evaluate_effects",
    "euclidean_catchments",
    "geocode_register",
    "graph_from_osm_xml",
    "hot_spots",
    "interpolate_survey",
    "kernel_density",
    "load_config",
    "make_demo_city",
    "match_controls",
    "network_catchments",
    "plan",
    "rank_places",
    "read_areas",
    "read_incidents",
    "read_register",
    "read_reports",
    "read_survey",
    "repeated_places",
    "run",
    "save_map",
    "survey_panel",
    "verify_outputs",
    "write_geopackage",
    "zonal_stats",
]
