"""A project's areas and survey panel, read the one way ``run`` and ``plan`` both use.

Both commands start from the same two inputs of a :class:`~trygg_geo.config.Config`: the areas
in the working CRS and the survey joined to those areas by name (aliases included). Keeping
the reading here means a change to either rule reaches both commands.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyproj

from trygg_geo._crs import working_crs
from trygg_geo.areas import read_areas
from trygg_geo.config import Config
from trygg_geo.survey import read_survey, survey_panel

__all__ = ["project_areas", "project_panel"]


def project_areas(cfg: Config) -> tuple[gpd.GeoDataFrame, pyproj.CRS]:
    """The project's areas in its working CRS, with ``area_id`` as text.

    Parameters
    ----------
    cfg
        The loaded project configuration; ``[areas]`` names the file and its columns and
        ``[project] crs`` may fix the working CRS.

    Returns
    -------
    tuple
        ``(areas, crs)``: the areas reprojected to ``crs``, the working CRS.
    """
    a = cfg.areas
    areas = read_areas(a.path, id_column=a.id_column, name_column=a.name_column,
                       parent_column=a.parent_column, layer=a.layer, crs=a.crs)
    crs = working_crs(cfg.project.crs, areas.crs)
    areas = areas.to_crs(crs)
    areas["area_id"] = areas["area_id"].astype(str)
    return areas, crs


def project_panel(cfg: Config, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """The survey as an area × wave panel joined to ``areas`` by name.

    The join uses the one name rule of :func:`trygg_geo.survey.survey_panel` (aliases from
    ``[survey] aliases`` included; refused below 80 % of the survey's names joined). Cells with
    fewer than ``[survey] min_n`` answers are kept and flagged there, not dropped.

    Parameters
    ----------
    cfg
        The loaded project configuration (``[survey]`` section).
    areas
        The project's areas, as returned by :func:`project_areas`.

    Returns
    -------
    pandas.DataFrame
        The panel, with ``area_id`` as text.
    """
    sv = cfg.survey
    raw = read_survey(sv.path, columns=sv.columns or None, scale=sv.scale,  # type: ignore[arg-type]
                      indicator=sv.indicator)
    panel = survey_panel(raw, min_n=sv.min_n, areas=areas, aliases=sv.aliases)
    panel["area_id"] = panel["area_id"].astype(str)
    return panel
