"""The results of a run: :class:`Results`, and the yearly key figures (the *bokslut*).

Kept apart from :mod:`trygg_geo.pipeline` (which computes them) and :mod:`trygg_geo.report`
(which writes them), so that both can import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from trygg_geo._outputs import new_run_id
from trygg_geo.config import Config

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
    effects
        One row per estimate: per kind (pooled) and per investment.
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
    density_path: Path | None = None
    geocode_summary: pd.DataFrame | None = None
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_id: str = field(default_factory=new_run_id)

    def summary(self) -> pd.DataFrame:
        """Key figures (a "bokslut" row per kind)."""
        return bokslut(self)


def bokslut(res: Results) -> pd.DataFrame:
    """Key figures per completion year and kind: investments, SEK, share placed, effects."""
    reg = res.register.copy()
    placed_rows = set(res.placed["source_row"].astype(int))
    reg["placed"] = reg["source_row"].astype(int).isin(placed_rows)
    reg["year"] = reg["completed"].dt.year.astype("Int64")
    eff = res.effects[res.effects["scope"] == "kind"].set_index("kind")
    g = reg.groupby(["year", "kind"], dropna=False)
    out = g.agg(n=("source_row", "size"), granted_sek=("granted_sek", "sum"), spent_sek=("spent_sek", "sum"),
                placed_share=("placed", "mean")).reset_index()
    out["effect"] = out["kind"].map(eff["estimate"]) if len(eff) else np.nan
    out["effect_ci_low"] = out["kind"].map(eff["ci_low"]) if len(eff) else np.nan
    out["effect_ci_high"] = out["kind"].map(eff["ci_high"]) if len(eff) else np.nan
    return out
