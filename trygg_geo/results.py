"""The results of a run: :class:`Results`, and the yearly key figures (the *bokslut*).

Kept apart from :mod:`trygg_geo.pipeline` (which computes them) and :mod:`trygg_geo.report`
(which writes them), so that both can import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from trygg_geo._outputs import new_run_id
from trygg_geo.config import Config
from trygg_geo.survey import SurveyJoin

__all__ = ["Results", "bokslut"]


@dataclass
class Results:
    """Everything :func:`run` computed, and the paths it wrote.

    Attributes
    ----------
    config
        The validated config.
    areas
        Areas in the working CRS, with per-wave survey values (the ``omraden`` layer).
    register
        The register as read (one row per register row).
    placed, unplaced
        Geocoded investments and the rows that could not be placed, with reasons.
        ``len(placed) + len(unplaced) == len(register)``.
    panel
        The survey panel (area x wave x indicator).
    roles
        Treated / control / spill / excluded per area, with cohort and investment ids.
    relation
        The one investment -> area relation (``DesignResult.links``): a row per
        (investment row, area) with the share of the investment's footprint in the area.
        Treatment, money per area and per-investment effects all come from it.
    effects
        One row per estimate: per kind (pooled) and per investment.
    survey_join
        How the survey's area names joined the areas
        (:class:`~trygg_geo.survey.SurveyJoin`): names that matched nothing, areas without
        survey rows, the share of rows matched.
    paths
        Output files written, by name (``manifest`` is ``korning.json``, written last).
    run_id
        This run's id (UTC start time and random hex), stamped into every output and the
        manifest; :func:`trygg_geo.verify_outputs` checks that the files of a folder share it.
    """

    config: Config
    areas: gpd.GeoDataFrame
    register: pd.DataFrame
    placed: gpd.GeoDataFrame
    unplaced: pd.DataFrame
    panel: pd.DataFrame
    roles: gpd.GeoDataFrame
    effects: pd.DataFrame
    hotspots: gpd.GeoDataFrame | None = None
    relation: pd.DataFrame | None = None
    density_path: Path | None = None
    geocode_summary: pd.DataFrame | None = None
    survey_join: SurveyJoin | None = None
    #: The kind rows' estimator and why (:class:`~trygg_geo.effects.selection.EstimatorChoice`).
    estimator: Any = None
    #: Callaway-Sant'Anna event study per kind (``kind, event_time, estimate, ci_low,
    #: ci_high, ..., pretrend_p``) and the pre-trend tests; empty for 2x2 runs.
    event_study: pd.DataFrame = field(default_factory=pd.DataFrame)
    pretrends: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: The lägesbild of unsafe places (:class:`~trygg_geo.lagesbild.Lagesbild`), or None.
    lagesbild: Any = None
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_id: str = field(default_factory=new_run_id)

    def summary(self) -> pd.DataFrame:
        """Key figures (a "bokslut" row per kind)."""
        return bokslut(self)

    def tables(self) -> dict[str, pd.DataFrame | None]:
        """The named tables that the output layers are cut from.

        See :func:`trygg_geo.export.catalogue_layers` and ``source`` in
        ``layers/catalogue.json``. ``investments`` carries the register's ``status``
        (``completed``, ``ongoing``, ``cancelled``, ``planned`` or empty; see
        :func:`trygg_geo.io.read_register`); a register without that column gets it from the
        completion date.
        """
        inv = self.placed.copy()
        # the contrast each investment's effect comes from (shared by every investment with
        # the same treated areas and windows); empty without an estimate or in older tables
        inv["contrast_id"] = _investment_effect(self.placed, self.effects, "contrast_id")
        if "status" not in inv.columns:
            inv["status"] = pd.Series(["completed" if pd.notna(c) else None
                                       for c in inv["completed"]], index=inv.index, dtype="string")
        out: dict[str, pd.DataFrame | None] = {
            "investments": inv, "unplaced": self.unplaced, "areas": self.areas,
            "roles": self.roles, "effects": self.effects, "hotspots": self.hotspots}
        # the lägesbild's layers (None when their input is missing: no layer is written)
        lb = getattr(self, "lagesbild", None)
        layers = lb.layers() if lb is not None else {}
        for table, layer in (("spots", "otrygga_platser"), ("emerging", "otrygga_platser_over_tid"),
                             ("dark_paths", "morka_strak"), ("dark_by_area", "morka_strak_omraden"),
                             ("repeated_places", "rapporterade_platser"),
                             ("ranking", "forslag_platser"), ("reports", "rapporter"),
                             ("reports_unplaced", "ej_placerade_rapporter")):
            out[table] = layers.get(layer)
        return out

    def investments_with_effects(self) -> gpd.GeoDataFrame:
        """The placed investments with their own effect, matched on ``source_row``.

        Adds ``effect_estimate``, ``effect_ci_low``, ``effect_ci_high``, ``effect_mde``,
        ``effect_reason`` (the map's popups show them) and ``effect_contrast_id`` and
        ``effect_n_sharing`` (the contrast the estimate belongs to and how many investments
        share it; empty for tables from before contrasts were shared).
        """
        inv = self.placed.copy()
        for src, dst in (("estimate", "effect_estimate"), ("ci_low", "effect_ci_low"),
                         ("ci_high", "effect_ci_high"), ("mde", "effect_mde"),
                         ("reason", "effect_reason"), ("contrast_id", "effect_contrast_id"),
                         ("n_sharing", "effect_n_sharing")):
            inv[dst] = _investment_effect(self.placed, self.effects, src)
        return inv

    def hot_and_cold_spots(self) -> gpd.GeoDataFrame | None:
        """The hot-spot cells that are significant (``gi_class`` not ``ns``), or None."""
        if self.hotspots is None:
            return None
        return self.hotspots[self.hotspots["gi_class"] != "ns"]


def _investment_effect(placed: pd.DataFrame, effects: pd.DataFrame, column: str) -> pd.Series:
    """``column`` of each placed investment's own effect row (matched on ``source_row``).

    NaN where the investment has no row or the table has no such column (older tables).
    """
    eff = effects[effects["scope"] == "investment"]
    if not len(eff) or column not in eff.columns or "source_row" not in placed.columns:
        return pd.Series(np.nan, index=placed.index,
                         dtype=object if column == "contrast_id" else float)
    by_row = eff.set_index(eff["source_row"].astype(int))[column]
    return placed["source_row"].astype(int).map(by_row)


def bokslut(res: Results) -> pd.DataFrame:
    """Key figures per completion year and kind: investments, SEK, share placed, effects.

    A row that repeats an earlier row exactly (``duplicate_of`` set by
    :func:`trygg_geo.io.read_register`) is counted once: it is left out of every figure.
    """
    reg = res.register
    if "duplicate_of" in reg.columns:
        reg = reg[reg["duplicate_of"].isna()]
    reg = reg.copy()
    placed_rows = set(res.placed["source_row"].astype(int))
    reg["placed"] = reg["source_row"].astype(int).isin(placed_rows)
    reg["year"] = reg["completed"].dt.year.astype("Int64")
    eff = res.effects[res.effects["scope"] == "kind"].set_index("kind")
    g = reg.groupby(["year", "kind"], dropna=False)
    out = g.agg(n=("source_row", "size"), granted_sek=("granted_sek", "sum"),
                spent_sek=("spent_sek", "sum"), placed_share=("placed", "mean")).reset_index()
    out["effect"] = out["kind"].map(eff["estimate"]) if len(eff) else np.nan
    out["effect_ci_low"] = out["kind"].map(eff["ci_low"]) if len(eff) else np.nan
    out["effect_ci_high"] = out["kind"].map(eff["ci_high"]) if len(eff) else np.nan
    return out
