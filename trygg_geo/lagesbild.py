"""The lägesbild of unsafe places: one step of the pipeline, from the config to the layers.

:func:`build_lagesbild` gathers what a planner acts on, each piece only when its input exists,
and says in Swedish (or English) why a piece is missing:

- ``morka_strak``: dark paths from the gazetteer's OSM XML (:mod:`trygg_geo.darkpaths`), with
  metres and the dark share per area;
- ``rapporterade_platser``: places residents point out again and again
  (:mod:`trygg_geo.places`), from ``[reports]``;
- ``otrygga_platser``: the dissolved significant hot and cold spots of the incidents
  (:meth:`trygg_geo.hotspots.HotSpotResult.places`), not the whole grid;
- ``otrygga_platser_over_tid``: hot spots over time (:mod:`trygg_geo.emerging`) when the
  incidents carry dates over two periods or more;
- ``forslag_platser``: the ranking of where to act next (:mod:`trygg_geo.ranking`).

Privacy (``[privacy]``): no raw incident or report point is part of any layer here unless
``publish_points`` is true, free text only with ``publish_text``, and counts below
``min_count`` are published empty.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from trygg_geo._i18n import LANGS, text
from trygg_geo.config import Config
from trygg_geo.darkpaths import DarkPaths, dark_paths
from trygg_geo.emerging import EmergingHotSpots, emerging_hot_spots
from trygg_geo.geocode import Gazetteer
from trygg_geo.hotspots import HotSpotResult
from trygg_geo.places import ReportPoints, read_reports, repeated_places
from trygg_geo.ranking import rank_places

__all__ = ["Lagesbild", "build_lagesbild"]

log = logging.getLogger(__name__)

_OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml")
#: Why a part of the lägesbild is missing, by note key and language (the ``lagesbild.``
#: texts of :data:`trygg_geo._i18n.TEXTS`).
_NOTES: dict[str, dict[str, str]] = {
    key: {lang: text(f"lagesbild.{key}", lang) for lang in LANGS}
    for key in ("no_osm", "no_reports", "no_incidents", "no_dates", "nothing_to_rank")
}


@dataclass
class Lagesbild:
    """The pieces of the lägesbild (each None when its input is missing; see ``notes``)."""

    dark: DarkPaths | None = None
    reports: ReportPoints | None = None
    repeated: gpd.GeoDataFrame | None = None
    spots: gpd.GeoDataFrame | None = None
    emerging: EmergingHotSpots | None = None
    ranking: gpd.GeoDataFrame | None = None
    notes: dict[str, str] = field(default_factory=dict)
    publish_points: bool = False
    publish_text: bool = False

    def layers(self) -> dict[str, gpd.GeoDataFrame | pd.DataFrame]:
        """The published layers by GeoPackage name (only those that exist)."""
        out: dict[str, gpd.GeoDataFrame | pd.DataFrame] = {}
        if self.dark is not None:
            out["morka_strak"] = self.dark.paths[self.dark.paths["dark"]].reset_index(drop=True)
            if self.dark.by_area is not None:
                out["morka_strak_omraden"] = self.dark.by_area
        if self.repeated is not None:
            out["rapporterade_platser"] = self.repeated
        if self.reports is not None:  # every report row accounted for (no text, no point)
            out["ej_placerade_rapporter"] = self.reports.unplaced
        if self.spots is not None:
            out["otrygga_platser"] = self.spots
        if self.emerging is not None:
            out["otrygga_platser_over_tid"] = self.emerging.spots()
        if self.ranking is not None:
            out["forslag_platser"] = self.ranking
        if self.reports is not None and self.publish_points:
            pts = self.reports.placed
            out["rapporter"] = pts if self.publish_text else pts.drop(columns="text")
        return out


def _is_osm(path: Any) -> bool:
    name = str(path).lower()
    return name.endswith(_OSM_SUFFIXES)


def build_lagesbild(
    cfg: Config,
    *,
    areas: gpd.GeoDataFrame,
    crs: Any,
    investments: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    hotspots: HotSpotResult | None = None,
    gazetteer: Gazetteer | None = None,
) -> Lagesbild:
    """Build the lägesbild described by ``cfg`` (see the module).

    Parameters
    ----------
    cfg
        The project config (``[places]``, ``[reports]``, ``[privacy]``, ``[gazetteer]``).
    areas
        The areas in the working CRS.
    crs
        The working CRS.
    investments
        The placed investments (``completed``), for the ranking's "no recent investment".
    incidents, hotspots
        The incident points (working CRS, with ``date``) and their Gi* result, when the run
        has incidents.
    gazetteer
        The run's gazetteer, for reports written as addresses.
    """
    lang = cfg.project.language
    pl, priv = cfg.places, cfg.privacy
    out = Lagesbild()

    def note(key: str) -> None:
        out.notes[key] = _NOTES[key][lang]

    if pl.dark_paths and _is_osm(cfg.gazetteer.path):
        out.dark = dark_paths(cfg.gazetteer.path, areas=areas, crs=crs,
                              lamp_distance_m=pl.lamp_distance_m)
    elif pl.dark_paths:
        note("no_osm")
    if cfg.reports is not None:
        r = cfg.reports
        out.reports = read_reports(r.path, crs=r.crs, columns=r.columns or None, layer=r.layer,
                                   gazetteer=gazetteer, areas=areas, working_crs=crs, lang=lang)
        rep = repeated_places(out.reports.placed)
        rep = rep[rep["n_reports"] >= priv.min_count].reset_index(drop=True)
        rep["place_id"] = range(1, len(rep) + 1)
        out.repeated = rep
    else:
        note("no_reports")
    if hotspots is not None:
        out.spots = hotspots.places(min_count=priv.min_count)
    else:
        note("no_incidents")
    if incidents is not None and "date" in incidents:
        years = pd.to_datetime(incidents["date"], errors="coerce").dt.year.dropna()
        if years.nunique() >= 2:
            dated = incidents[pd.to_datetime(incidents["date"], errors="coerce").notna()]
            out.emerging = emerging_hot_spots(dated, cell_size=pl.cell_size,
                                              seed=cfg.analysis.seed)
        else:
            note("no_dates")
    reports = out.reports.placed if out.reports is not None else None
    dark = out.dark.paths[out.dark.paths["dark"]] if out.dark is not None else None
    if reports is not None or incidents is not None or dark is not None:
        out.ranking = rank_places(
            reports=reports, incidents=incidents, dark_paths=dark, investments=investments,
            cell_size=pl.cell_size, weights=pl.weights or None, recent_years=pl.recent_years,
            min_count=priv.min_count, top=pl.top, crs=crs)
    else:
        note("nothing_to_rank")
    out.publish_points, out.publish_text = priv.publish_points, priv.publish_text
    log.info("lägesbild: %s; missing: %s", ", ".join(out.layers()) or "-",
             "; ".join(out.notes.values()) or "-")
    return out
