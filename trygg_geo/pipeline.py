"""``run(config)``: the whole analysis from a validated project config.

register --geocode--> investments --design--> roles and the investment -> area relation
--estimate--> effects; survey --panel--> area values; incidents --> density raster and hot
spots; everything --> ``karta.html``, ``resultat.gpkg`` (+ ``tathet.tif``) and ``rapport.md``.

This module only orchestrates: each rule lives in the module that owns it (see
``ARCHITECTURE.md``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj

from trygg_geo._crs import require_inside
from trygg_geo._dask import scale_client
from trygg_geo._errors import DataQualityWarning
from trygg_geo._i18n import text
from trygg_geo._inputs import project_areas, project_panel
from trygg_geo._map_places import add_lagesbild
from trygg_geo._outputs import OutputSet, _pause, check_outputs, planned_outputs
from trygg_geo._version import __version__
from trygg_geo.config import Config, load_config
from trygg_geo.density import kernel_density
from trygg_geo.design import DesignResult, assign_roles
from trygg_geo.disclosure import publishable_area_values, suppressed_cells
from trygg_geo.effects.evaluation import evaluate_effects
from trygg_geo.effects.variance import between_district_variance
from trygg_geo.export import catalogue_layers, write_geopackage
from trygg_geo.geocode import Gazetteer, geocode_register, reconcile_districts
from trygg_geo.hotspots import HotSpotResult, hot_spots
from trygg_geo.io import read_incidents, read_register
from trygg_geo.lagesbild import build_lagesbild
from trygg_geo.maps import build_map, save_map
from trygg_geo.plan import keep_planned_controls, read_plan
from trygg_geo.report import write_report
from trygg_geo.results import Results
from trygg_geo.survey import (
    JOIN_ATTR,
    area_change,
    check_waves,
    survey_cells,
    wave_dates,
)

__all__ = ["Results", "run"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def run(
    config: Config | str | Path, *, progress: Progress | None = None, write: bool = True
) -> Results:
    """Run the whole analysis described by ``config`` and write its outputs.

    Parameters
    ----------
    config
        A :class:`~trygg_geo.config.Config`, or the path of a ``projekt.toml``.
    progress
        Called with a short Swedish or English line before each stage (the CLI prints them).
    write
        Write ``karta.html``, ``resultat.gpkg``, the density GeoTIFF and ``rapport.md`` into
        ``[output] folder``.

    Returns
    -------
    Results
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    if write:  # refuse unsafe output names before any work, so nothing is half done
        check_outputs(cfg)
    lang, an, sv = cfg.project.language, cfg.analysis, cfg.survey
    say = progress or (lambda msg: log.info("%s", msg))

    say(text("progress.areas", lang))
    areas, crs = project_areas(cfg)

    say(text("progress.register", lang))
    register = read_register(cfg.register.path, columns=cfg.register.columns or None,
                             kinds=cfg.register.kinds or None,
                             sheet=cfg.register.sheet)
    say(text("progress.geocode", lang))
    placed, unplaced, geo_summary, gazetteer = _geocode(cfg, register, areas, crs)

    say(text("progress.survey", lang))
    # survey names joined to the area ids by the one rule (aliases included); refused below 80 %
    panel = project_panel(cfg, areas)
    survey_join = panel.attrs.get(JOIN_ATTR)
    waves = list(an.waves) or sorted(int(w) for w in panel["wave"].unique())
    check_waves(panel, waves, indicator=sv.indicator, file=sv.path)

    say(text("progress.design", lang))
    design = assign_roles(
        areas, placed, kind="kind", lang=lang, unplaced=unplaced,
        waves=dict(wave_dates(waves, month=an.wave_month, day=an.wave_day).items()),
        spillover=None if an.spillover == "none" else an.spillover,  # type: ignore[arg-type]
        spill_distance_m=an.spill_distance_m,
        small_cells=suppressed_cells(panel, indicator=sv.indicator),
        survey_cells=survey_cells(panel, indicator=sv.indicator),
    )
    placed["area_id"] = design.main_area(len(placed)).to_numpy()
    notes: list[str] = []
    estimator = an.estimator
    if cfg.plan is not None and cfg.plan.path is not None:  # the plan's controls and estimator
        design, notes, estimator = _keep_plan(cfg.plan.path, design, waves, lang)

    say(text("progress.effects", lang))
    # district x wave variance from the control areas' changes, in every interval of the run
    controls = design.roles.loc[design.roles["role"] == "control", "area_id"].astype(str)
    tau2 = between_district_variance(panel, controls.tolist(), indicator=sv.indicator,
                                     waves=waves)
    # the kind rows use the estimator the design calls for (Callaway-Sant'Anna with more
    # than two waves); per-investment rows are 2x2 contrasts over each one's own window
    evaluation = evaluate_effects(panel, design, placed, indicator=sv.indicator, waves=waves,
                                  level=an.level, seed=an.seed, min_n=sv.min_n, lang=lang,
                                  tau2=tau2, estimator=estimator)
    effects = evaluation.table
    # the omraden layer is published: suppressed cells and changes from them are blank
    area_values = publishable_area_values(
        area_change(areas, panel, indicator=sv.indicator, waves=waves, level=an.level,
                    tau2=tau2.value),
        indicator=sv.indicator, waves=waves)

    hotspots = density = incidents = gi = None
    if cfg.incidents is not None:
        say(text("progress.incidents", lang))
        incidents, gi, density = _incidents(cfg, areas, crs)
        hotspots = gi.cells
    # dark paths, resident reports, hot spots over time and where to act next
    lagesbild = build_lagesbild(cfg, areas=areas, crs=crs, investments=placed,
                                incidents=incidents, hotspots=gi, gazetteer=gazetteer)

    res = Results(config=cfg, areas=area_values, register=register, placed=placed,
                  unplaced=unplaced, panel=panel, roles=design.roles, effects=effects,
                  hotspots=hotspots, relation=design.links, geocode_summary=geo_summary,
                  survey_join=survey_join, estimator=evaluation.choice,
                  event_study=evaluation.event_study, pretrends=evaluation.pretrends,
                  notes=notes, lagesbild=lagesbild)
    if write:
        say(text("progress.write", lang))
        _write_outputs(res, density=density)
    return res


def _keep_plan(path: Path, design: DesignResult, waves: list[int],
               lang: str) -> tuple[DesignResult, list[str], str]:
    """[plan] path: the plan's controls (never re-chosen) and estimator; deviations warned."""
    planned = read_plan(path)
    design, notes = keep_planned_controls(design, planned, waves=waves, lang=lang)
    for note in notes[1:]:  # the first says what was kept; the rest are deviations
        warnings.warn(DataQualityWarning(note), stacklevel=3)
    return design, notes, planned.estimator


def _geocode(
    cfg: Config, register: pd.DataFrame, areas: gpd.GeoDataFrame, crs: pyproj.CRS,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame | None, Gazetteer]:
    """Place the register rows; refuse a run whose investments mostly miss the areas.

    Returns the placed rows, the unplaced ones, the geocoding summary and the gazetteer (the
    lägesbild geocodes resident reports with it).
    """
    gazetteer = Gazetteer.from_path(cfg.gazetteer.path, crs=crs)
    # areas: an address point decides its investment's district, the register's on ties
    with scale_client(cfg.scale) as dask:  # [scale] dask: partitions on a Dask cluster
        geo = geocode_register(register, gazetteer, extent=areas.geometry.union_all(),
                               areas=areas, aliases=cfg.survey.aliases,
                               lang=cfg.project.language, dask=dask)
    placed = geo.placed.to_crs(crs) if geo.placed.crs is not None else geo.placed
    if len(placed) + len(geo.unplaced) != len(register):  # never silently lose a row
        raise RuntimeError(f"geocoding accounted for {len(placed) + len(geo.unplaced)} of "
                           f"{len(register)} register rows")
    placed = reconcile_districts(placed.reset_index(drop=True), areas,
                                 aliases=cfg.survey.aliases)
    if len(placed):
        require_inside(placed.geometry.representative_point(), areas, what="placed investments",
                       file=str(cfg.register.path),
                       key="[areas] crs / the register's coordinate columns")
    return placed, geo.unplaced, geo.summary(), gazetteer


def _incidents(cfg: Config, areas: gpd.GeoDataFrame,
               crs: pyproj.CRS) -> tuple[gpd.GeoDataFrame, HotSpotResult, Any]:
    """The incidents, their Gi* hot spots ([places] cell_size) and kernel density (50 m)."""
    assert cfg.incidents is not None
    inc = read_incidents(cfg.incidents.path, crs=cfg.incidents.crs,
                         columns=cfg.incidents.columns or None)
    # checked in the declared CRS, so that the hint can name another reading of the numbers
    require_inside(inc.geometry, areas, what="incidents", file=str(cfg.incidents.path),
                   key="[incidents] crs")
    inc = inc.to_crs(crs)
    with scale_client(cfg.scale) as dask:  # [scale] dask: partitions on a Dask cluster
        gi = hot_spots(inc, cell_size=cfg.places.cell_size, seed=cfg.analysis.seed, dask=dask)
        return inc, gi, kernel_density(inc, cell_size=50.0, dask=dask)


def _write_outputs(res: Results, *, density: Any) -> None:
    """Write every output into a staging folder, then commit them as one set (manifest last).

    Each output carries ``res.run_id``; a kill before the commit leaves the previous outputs
    as they were, and :func:`trygg_geo.verify_outputs` detects a set mixed by a kill during it.
    """
    cfg = res.config
    o, lang = cfg.output, cfg.project.language
    meta = {"run_id": res.run_id, "trygg_geo_version": __version__,
            "project": cfg.project.name}
    names = [p.name for p in planned_outputs(cfg)]
    with OutputSet(Path(o.folder), run_id=res.run_id, names=names,
                   meta={"trygg_geo_version": __version__}) as outputs:
        if density is not None:
            res.density_path = density.to_geotiff(outputs.path(o.density),
                                                  tags={"run_id": res.run_id})
        write_geopackage(outputs.path(o.geopackage), catalogue_layers(res.tables()),
                         crs=res.areas.crs, lang=lang, metadata=meta,
                         crash_hook=lambda layer: _pause(f"geopackage:{layer}"))
        m = build_map(areas=res.areas, investments=res.investments_with_effects(),
                      units=res.roles, hotspots=res.hot_and_cold_spots(),
                      density=res.density_path, title=cfg.project.name, lang=lang,
                      run_id=res.run_id, level=cfg.analysis.level,
                      basemap=cfg.gazetteer.path, effects=res.effects,
                      indicator=cfg.survey.indicator,
                      lantmateriet_key=cfg.output.lantmateriet_key,
                      max_markers=cfg.map.max_markers, detail_source=o.geopackage,
                      relation=res.relation,
                      extra_layers=None if res.lagesbild is None else
                      partial(add_lagesbild, layers=res.lagesbild.layers(), lang=lang))
        save_map(m, outputs.path(o.map))
        write_report(res, outputs.path(o.report))
        written = outputs.commit()
    for key, name in (("density", o.density), ("geopackage", o.geopackage), ("map", o.map),
                      ("report", o.report), ("manifest", "korning.json")):
        if name in written:
            res.paths[key] = written[name]
    res.density_path = res.paths.get("density")
