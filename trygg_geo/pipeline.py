"""``run(config)``: the whole analysis from a validated project config.

register --geocode--> investments --overlay--> areas x survey panel --design--> roles
--estimate--> effects; incidents --> density raster and hot spots; everything -->
``karta.html``, ``resultat.gpkg`` (+ ``tathet.tif``) and ``rapport.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from trygg_geo._crs import require_inside
from trygg_geo._errors import InputError
from trygg_geo._outputs import check_outputs
from trygg_geo.config import Config, load_config
from trygg_geo.disclosure import publishable_area_values, suppressed_cells
from trygg_geo.effects._result import Estimate
from trygg_geo.effects.did import did_2x2
from trygg_geo.effects.power import cost_per_point
from trygg_geo.interventions import CATALOGUE, get_kind
from trygg_geo.results import Results

__all__ = ["Results", "gpkg_layers", "run", "wave_dates"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def wave_dates(waves: tuple[int, ...] | list[int], month: int, day: int) -> pd.Series:
    """The fieldwork start date of each wave."""
    return pd.Series([pd.Timestamp(int(w), month, day) for w in waves], index=list(waves))


def _check_waves(panel: pd.DataFrame, waves: list[int], *, indicator: str, file: Path) -> None:
    """Every configured wave must have survey rows for the indicator."""
    have = set(panel.loc[panel["indicator"] == indicator, "wave"].astype(int))
    if not have:
        found = sorted(set(panel["indicator"].astype(str)))
        raise InputError(f"the survey has no rows for the indicator '{indicator}'. Indicators found: "
                         f"{', '.join(found)}.", file=file, column="indicator",
                         fix="set [survey] indicator in projekt.toml to one of them.")
    missing = [w for w in waves if w not in have]
    if missing:
        raise InputError(
            f"the configured waves {', '.join(map(str, missing))} have no survey rows for '{indicator}' "
            f"(waves in the file: {', '.join(map(str, sorted(have)))}).", file=file, column="wave",
            fix="correct [analysis] waves in projekt.toml, or add the missing waves to the survey.")


def _working_crs(cfg: Config, areas_crs: Any) -> pyproj.CRS:
    if cfg.project.crs:
        return pyproj.CRS.from_user_input(cfg.project.crs)
    crs = pyproj.CRS.from_user_input(areas_crs)
    return crs if crs.is_projected else pyproj.CRS.from_epsg(3006)


def _load_gazetteer(path: Path, crs: pyproj.CRS) -> Any:
    """An OSM XML file, an address-point file, or a saved gazetteer (dispatched on the file)."""
    from trygg_geo.geocode import Gazetteer

    return Gazetteer.from_path(path, crs=crs)


def _representative_points(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """A point on each geometry: the point itself, a line's midpoint, a polygon's interior point."""
    geoms = gdf.geometry
    out = geoms.copy()
    lines = geoms.geom_type.isin(["LineString", "MultiLineString"])
    if lines.any():
        out[lines] = geoms[lines].interpolate(0.5, normalized=True)
    polys = geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if polys.any():
        out[polys] = geoms[polys].representative_point()
    return out


def _reconcile_districts(placed: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Use the register's district column where the geometry alone is ambiguous.

    A street-level match ("Almstigen", no house number) gives the whole street, which may run
    through several districts. When the row names a district that is one of the areas, the
    geometry is clipped to that district (flag ``clipped_to_district``). Any placed row whose
    geometry does not touch the district it names is flagged ``district_mismatch`` (kept as
    placed: the register's district may be the wrong one).
    """
    from trygg_geo.interventions import fold_text

    if "district" not in placed.columns or placed.empty:
        return placed
    by_name = {fold_text(n): i for i, n in zip(areas.index, areas["name"].astype(str), strict=True)}
    by_id = {fold_text(a): i for i, a in zip(areas.index, areas["area_id"].astype(str), strict=True)}
    out = placed.copy()
    flags = out["geocode_flag"].astype("string").fillna("") if "geocode_flag" in out.columns else \
        pd.Series("", index=out.index, dtype="string")
    for i, row in out.iterrows():
        d = row["district"]
        if pd.isna(d):
            continue
        k = by_name.get(fold_text(str(d)), by_id.get(fold_text(str(d))))
        if k is None:
            continue
        area = areas.geometry.loc[k]
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        add = ""
        if row.get("geocode_method") == "street" and not area.contains(geom) and geom.intersects(area):
            part = geom.intersection(area)
            if not part.is_empty and part.geom_type == geom.geom_type or (
                    not part.is_empty and geom.geom_type.replace("Multi", "") in part.geom_type):
                out.at[i, "geometry"] = part
                add = "clipped_to_district"
        elif not geom.intersects(area):
            add = "district_mismatch"
        if add:
            flags.at[i] = ",".join(f for f in (flags.at[i], add) if f)
    out["geocode_flag"] = flags
    return out


def _design(
    areas: gpd.GeoDataFrame,
    placed: gpd.GeoDataFrame,
    unplaced: pd.DataFrame,
    dates: pd.Series,
    *,
    spillover: str | None = None,
    spill_distance_m: float | None = None,
    small_cells: set[tuple[str, int]] | None = None,
) -> gpd.GeoDataFrame:
    """Roles per area (:func:`trygg_geo.design.assign_roles`), plus the kinds that treated each area.

    On top of :func:`assign_roles`: an area named in the district column of a completed
    investment that could not be placed may have been treated, so it is never a control. An
    area with a suppressed survey cell (fewer than ``min_n`` answers) in a study wave is not a
    control either: every pooled estimate would rest on that cell, and the published shares of
    the other controls would give it back (see :mod:`trygg_geo.disclosure`).
    """
    from trygg_geo.design import assign_roles
    from trygg_geo.interventions import fold_text

    design = assign_roles(areas, placed, waves=dict(dates.items()), spillover=spillover,  # type: ignore[arg-type]
                          spill_distance_m=spill_distance_m)
    roles = design.roles.merge(areas[["area_id", "name"]], on="area_id", how="left")
    links = design.links
    counted = links[links["counted"] & (links["timing"] == "in_window")]
    kind_of = placed.drop_duplicates("investment_id").set_index("investment_id")["kind"].astype(str)
    kinds = counted.assign(kind=counted["investment_id"].map(kind_of)).groupby("area_id")["kind"].agg(
        lambda k: ",".join(sorted(set(k))))
    roles["kinds"] = roles["area_id"].map(kinds).fillna("")
    if len(unplaced) and "district" in unplaced.columns:
        names = {fold_text(n): a for n, a in zip(areas["name"].astype(str), areas["area_id"], strict=True)}
        ids = {fold_text(a): a for a in areas["area_id"].astype(str)}
        done = unplaced[unplaced["completed"].notna()] if "completed" in unplaced.columns else unplaced
        for d in done["district"].dropna().astype(str):
            a = names.get(fold_text(d)) or ids.get(fold_text(d))
            m = (roles["area_id"] == a) & (roles["role"] == "control")
            roles.loc[m, "role"] = "excluded"
            roles.loc[m, "reason"] = "unplaced_investment"
            roles.loc[m, "reason_text"] = "an investment here could not be placed, so the area may be treated"
    if small_cells:
        small = {a for a, w in small_cells if w in set(dates.index)}
        m = roles["area_id"].astype(str).isin(small) & (roles["role"] == "control")
        roles.loc[m, "role"] = "excluded"
        roles.loc[m, "reason"] = "small_survey_cell"
        roles.loc[m, "reason_text"] = "fewer answers than min_n in a study wave, so not used as a control"
    return gpd.GeoDataFrame(roles, geometry="geometry", crs=areas.crs)


def _effects(
    panel: pd.DataFrame,
    roles: gpd.GeoDataFrame,
    placed: gpd.GeoDataFrame,
    *,
    indicator: str,
    waves: list[int],
    alpha: float,
    n_permutations: int = 10_000,
    seed: int = 0,
    min_n: int = 30,
    lang: str = "sv",
) -> pd.DataFrame:
    """Pooled 2x2 DiD per kind (with a permutation test) and per investment.

    Estimates that would disclose a suppressed survey cell are not published
    (:func:`trygg_geo.disclosure.protect_estimates`). A kind whose pooled estimate alone would
    disclose one is first re-estimated without the treated areas that carry suppressed cells
    (``n_small_left_out`` says how many).
    """
    from trygg_geo.disclosure import disclosed_cells, protect_estimates, suppressed_cells
    from trygg_geo.effects.did import did_contrast
    from trygg_geo.effects.inference import permutation_test

    level = 1 - alpha
    small = suppressed_cells(panel, indicator=indicator)

    def cell_weights(t: dict[str, int]) -> dict[tuple[str, int], float]:
        c = did_contrast(panel, treated=t, controls=controls, waves=waves, indicator=indicator).cells
        return {(str(a), int(w)): float(v) for a, w, v in zip(c["area_id"], c["wave"], c["weight"], strict=True)}

    controls = roles.loc[roles["role"] == "control", "area_id"].astype(str).tolist()
    treated = roles[roles["role"] == "treated"]
    rows: list[dict[str, Any]] = []
    weights: list[dict[tuple[str, int], float] | None] = []
    single_kind = treated[~treated["kinds"].str.contains(",")]
    for kind in [*CATALOGUE, "annat"]:
        units = single_kind[single_kind["kinds"] == kind]
        t = {str(a): int(c) for a, c in zip(units["area_id"], units["cohort"], strict=True)}
        if not t:
            continue
        w = cell_weights(t)
        left_out = 0
        if disclosed_cells([w], small):
            keep = {a: c for a, c in t.items() if not any(a == sa for sa, _ in small)}
            left_out = len(t) - len(keep)
            if keep:
                t, w = keep, cell_weights(keep)
        est = did_2x2(panel, treated=t, controls=controls, waves=waves, indicator=indicator,
                      label=kind, level=level)
        perm = permutation_test(panel, treated=t, controls=controls, waves=waves, indicator=indicator,
                                n_permutations=n_permutations, seed=seed, level=level, label=kind)
        inv = placed[placed["area_id"].astype(str).isin(t) & (placed["kind"] == kind) & placed["completed"].notna()]
        spent = float(inv["spent_sek"].sum(min_count=1)) if len(inv) else float("nan")
        cost = cost_per_point(spent, est)
        row = _effect_row(est, scope="kind", kind=kind, unit_ids=",".join(sorted(t)), spent=spent, cost=cost,
                          indicator=indicator)
        row.update(p_perm=perm.p_value, perm_ci_low=perm.ci_low, perm_ci_high=perm.ci_high,
                   perm_exact=perm.exact, n_permutations=perm.n_permutations, n_small_left_out=left_out)
        rows.append(row)
        weights.append(w)
    mixed = treated[treated["kinds"].str.contains(",")]
    if len(mixed):
        log.info("%d areas got several kinds in the window; they enter only the per-investment estimates",
                 len(mixed))
    # per investment: its area against the controls
    inv_all = placed[placed["area_id"].notna() & placed["completed"].notna()]
    role_by_area = roles.set_index("area_id")
    # several projects in one area share the area's effect: cost per point uses the area's total spend
    spent_by_area = inv_all.groupby(inv_all["area_id"].astype(str))["spent_sek"].sum(min_count=1)
    for _, r in inv_all.iterrows():
        a = str(r["area_id"])
        if a not in role_by_area.index or role_by_area.at[a, "role"] != "treated":
            continue
        cohort = int(role_by_area.at[a, "cohort"])
        est = did_2x2(panel, treated={a: cohort}, controls=controls, waves=waves, indicator=indicator,
                      label=str(r["investment_id"]), level=level)
        spent = float(r["spent_sek"]) if pd.notna(r["spent_sek"]) else float("nan")
        area_spent = float(spent_by_area.get(a, np.nan))
        row = _effect_row(est, scope="investment", kind=str(r["kind"]), unit_ids=a,
                          investment_id=str(r["investment_id"]), spent=spent,
                          cost=cost_per_point(area_spent, est), indicator=indicator)
        row["source_row"] = int(r["source_row"])
        rows.append(row)
        weights.append(cell_weights({a: cohort}))
    cols = ["scope", "kind", "investment_id", "source_row", "unit_ids", "indicator", "method", "estimate", "se", "ci_low",
            "ci_high", "p_value", "n_treated", "n_control", "n_respondents", "mde", "spent_sek",
            "sek_per_point", "sek_per_point_ci_low", "sek_per_point_ci_high", "level",
            "p_perm", "perm_ci_low", "perm_ci_high", "perm_exact", "n_permutations", "n_small_left_out"]
    table = protect_estimates(pd.DataFrame(rows, columns=cols), weights, small, min_n=min_n, lang=lang)
    none = table["estimate"].isna() & table["reason"].isna()
    table.loc[none, "reason"] = _NO_ESTIMATE[lang]
    return table


_NO_ESTIMATE = {
    "sv": "Ingen skattning: mätning saknas i vågen före eller efter åtgärden, i området eller i "
          "kontrollområdena.",
    "en": "No estimate: the survey has no value for the wave before or after the investment, in the "
          "area or in the control areas.",
}


def _effect_row(est: Estimate, *, scope: str, kind: str, unit_ids: str, spent: float, cost: Any,
                indicator: str, investment_id: str | None = None) -> dict[str, Any]:
    return {
        "scope": scope, "kind": kind, "investment_id": investment_id, "unit_ids": unit_ids,
        "indicator": indicator, "method": est.method, "estimate": est.estimate, "se": est.se,
        "ci_low": est.ci_low, "ci_high": est.ci_high, "p_value": est.p_value, "n_treated": est.n_treated,
        "n_control": est.n_control, "n_respondents": est.extra.get("n_respondents", np.nan), "mde": est.mde,
        "source_row": pd.NA, "spent_sek": spent, "sek_per_point": cost.sek_per_point, "sek_per_point_ci_low": cost.ci_low,
        "sek_per_point_ci_high": cost.ci_high, "level": est.level,
    }


def _area_values(areas: gpd.GeoDataFrame, panel: pd.DataFrame, *, indicator: str, waves: list[int],
                 level: float) -> gpd.GeoDataFrame:
    """Per-wave share, n and suppression per area; change between the last two waves with a CI."""
    from scipy import stats

    out = areas.copy()
    p = panel[panel["indicator"] == indicator].set_index(["area_id", "wave"])
    for w in waves:
        idx = pd.MultiIndex.from_arrays([out["area_id"].astype(str), np.full(len(out), w)])
        sub = p.reindex(idx)
        out[f"{indicator}_{w}"] = sub["share"].to_numpy()
        out[f"n_{w}"] = sub["n"].to_numpy()
        out[f"supp_{w}"] = sub["suppressed"].fillna(True).astype(bool).to_numpy()
    a, b = waves[-2], waves[-1]
    idx_a = pd.MultiIndex.from_arrays([out["area_id"].astype(str), np.full(len(out), a)])
    idx_b = pd.MultiIndex.from_arrays([out["area_id"].astype(str), np.full(len(out), b)])
    pa, pb = p.reindex(idx_a), p.reindex(idx_b)
    change = pb["share"].to_numpy() - pa["share"].to_numpy()
    se = np.sqrt(pb["se"].to_numpy() ** 2 + pa["se"].to_numpy() ** 2)
    z = stats.norm.ppf(0.5 + level / 2)
    out["change"] = change
    out["change_ci_low"] = change - z * se
    out["change_ci_high"] = change + z * se
    out["n"] = pb["n"].to_numpy()
    out["suppressed"] = (pa["suppressed"].fillna(True).to_numpy().astype(bool)
                         | pb["suppressed"].fillna(True).to_numpy().astype(bool))
    out["significant"] = (out["change_ci_low"] > 0) | (out["change_ci_high"] < 0)
    out.attrs["change_waves"] = (a, b)
    return out


def run(config: Config | str | Path, *, progress: Progress | None = None, write: bool = True) -> Results:
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
    lang = cfg.project.language
    say = progress or (lambda msg: log.info("%s", msg))
    from trygg_geo.areas import read_areas
    from trygg_geo.geocode import geocode_register
    from trygg_geo.io import read_incidents, read_register
    from trygg_geo.overlay import assign_to_areas
    from trygg_geo.survey import read_survey, survey_panel

    t = _texts(lang)
    say(t["areas"])
    a = cfg.areas
    areas = read_areas(a.path, id_column=a.id_column, name_column=a.name_column,
                       parent_column=a.parent_column, layer=a.layer, crs=a.crs)
    crs = _working_crs(cfg, areas.crs)
    areas = areas.to_crs(crs)

    say(t["register"])
    register = read_register(cfg.register.path, columns=cfg.register.columns or None, sheet=cfg.register.sheet)
    say(t["geocode"])
    gaz = _load_gazetteer(cfg.gazetteer.path, crs)
    geo = geocode_register(register, gaz, extent=areas.geometry.union_all())
    placed = geo.placed.to_crs(crs) if geo.placed.crs is not None else geo.placed
    unplaced = geo.unplaced
    if len(placed) + len(unplaced) != len(register):  # never silently lose a row
        raise RuntimeError(
            f"geocoding accounted for {len(placed) + len(unplaced)} of {len(register)} register rows"
        )
    placed = _reconcile_districts(placed.copy(), areas)
    placed["area_id"] = assign_to_areas(_representative_points(placed), areas, area_id="area_id") \
        if len(placed) else pd.Series(dtype="string")
    if len(placed):
        require_inside(_representative_points(placed), areas, what="placed investments",
                       file=str(cfg.register.path), key="[areas] crs / the register's coordinate columns")

    say(t["survey"])
    waves = list(cfg.analysis.waves)
    raw_survey = read_survey(cfg.survey.path, columns=cfg.survey.columns or None,
                             scale=cfg.survey.scale)  # type: ignore[arg-type]
    panel = survey_panel(raw_survey, min_n=cfg.survey.min_n)
    panel["area_id"] = panel["area_id"].astype(str)
    if not waves:
        waves = sorted(int(w) for w in panel["wave"].unique())
    _check_waves(panel, waves, indicator=cfg.survey.indicator, file=cfg.survey.path)
    dates = wave_dates(waves, cfg.analysis.wave_month, cfg.analysis.wave_day)

    say(t["design"])
    an = cfg.analysis
    roles = _design(areas, placed, unplaced, dates,
                    spillover=None if an.spillover == "none" else an.spillover,
                    spill_distance_m=an.spill_distance_m,
                    small_cells=suppressed_cells(panel, indicator=cfg.survey.indicator))
    say(t["effects"])
    effects = _effects(panel, roles, placed, indicator=cfg.survey.indicator, waves=waves, alpha=cfg.analysis.alpha,
                       seed=cfg.analysis.seed, min_n=cfg.survey.min_n, lang=lang)
    # the omraden layer is published: suppressed cells and changes from them are blank
    area_values = publishable_area_values(
        _area_values(areas, panel, indicator=cfg.survey.indicator, waves=waves, level=1 - cfg.analysis.alpha),
        indicator=cfg.survey.indicator, waves=waves)

    hotspots = None
    density = None
    if cfg.incidents is not None:
        say(t["incidents"])
        from trygg_geo.density import kernel_density
        from trygg_geo.hotspots import hot_spots

        inc = read_incidents(cfg.incidents.path, crs=cfg.incidents.crs, columns=cfg.incidents.columns or None)
        # checked in the declared CRS, so that the hint can name another reading of the numbers
        require_inside(inc.geometry, areas, what="incidents", file=str(cfg.incidents.path),
                       key="[incidents] crs")
        inc = inc.to_crs(crs)
        density = kernel_density(inc, cell_size=50.0)
        hs = hot_spots(inc, cell_size=250.0, seed=cfg.analysis.seed)
        hotspots = hs.cells

    res = Results(config=cfg, areas=area_values, register=register, placed=placed, unplaced=unplaced,
                  panel=panel, roles=roles, effects=effects, hotspots=hotspots,
                  geocode_summary=geo.summary() if hasattr(geo, "summary") else None)
    if write:
        say(t["write"])
        _write_outputs(res, density=density)
    return res


def _write_outputs(res: Results, *, density: Any) -> None:
    """Write every output into a staging folder, then commit them as one set (manifest last).

    Each output carries ``res.run_id``; a kill before the commit leaves the previous outputs
    as they were, and :func:`trygg_geo.verify_outputs` detects a set mixed by a kill during it.
    """
    import trygg_geo
    from trygg_geo._outputs import OutputSet, _pause, planned_outputs, stamp_geotiff
    from trygg_geo.export import write_geopackage
    from trygg_geo.maps import build_map, save_map
    from trygg_geo.report import write_report

    cfg = res.config
    out = Path(cfg.output.folder)
    lang = cfg.project.language
    crs = res.areas.crs
    meta = {"run_id": res.run_id, "trygg_geo_version": trygg_geo.__version__, "project": cfg.project.name}
    names = [p.name for p in planned_outputs(cfg)]
    with OutputSet(out, run_id=res.run_id, names=names,
                   meta={"trygg_geo_version": trygg_geo.__version__}) as outputs:
        if density is not None:
            res.density_path = density.to_geotiff(outputs.path(cfg.output.density))
            stamp_geotiff(res.density_path, res.run_id)
        layers = gpkg_layers(res)
        write_geopackage(outputs.path(cfg.output.geopackage), layers, crs=crs, lang=lang, metadata=meta,
                         crash_hook=lambda layer: _pause(f"geopackage:{layer}"))
        inv = _investments_with_effects(res)
        m = build_map(areas=res.areas, investments=inv, units=res.roles, hotspots=_hot_only(res.hotspots),
                      density=res.density_path, title=cfg.project.name, lang=lang, run_id=res.run_id,
                      level=1 - cfg.analysis.alpha)
        save_map(m, outputs.path(cfg.output.map))
        write_report(res, outputs.path(cfg.output.report))
        written = outputs.commit()
    if density is not None:
        res.density_path = written[cfg.output.density]
        res.paths["density"] = res.density_path
    res.paths["geopackage"] = written[cfg.output.geopackage]
    res.paths["map"] = written[cfg.output.map]
    res.paths["report"] = written[cfg.output.report]
    res.paths["manifest"] = written["korning.json"]


def _hot_only(cells: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if cells is None:
        return None
    return cells[cells["gi_class"] != "ns"]


def _investments_with_effects(res: Results) -> gpd.GeoDataFrame:
    inv = res.placed.copy()
    eff = res.effects[res.effects["scope"] == "investment"].set_index("source_row")
    for src, dst in (("estimate", "effect_estimate"), ("ci_low", "effect_ci_low"),
                     ("ci_high", "effect_ci_high"), ("mde", "effect_mde"), ("reason", "effect_reason")):
        inv[dst] = inv["source_row"].astype(int).map(eff[src]) if len(eff) else np.nan
    return inv


def gpkg_layers(res: Results) -> dict[str, pd.DataFrame]:
    """The GeoPackage layers of DESIGN.md, built from the results."""
    keep = ["investment_id", "name", "kind", "kind_raw", "board", "district", "address", "granted_sek",
            "spent_sek", "started", "completed", "status", "area_id", "geocode_method", "geocode_score",
            "geocode_flag", "read_flag", "source_row"]
    placed = res.placed.copy()
    placed["status"] = np.where(placed["completed"].notna(), "genomford", "ej_genomford")
    placed = placed[[c for c in keep if c in placed.columns] + ["geometry"]]
    gt = placed.geometry.geom_type
    layers: dict[str, pd.DataFrame] = {
        "investeringar_punkt": placed[gt.isin(["Point", "MultiPoint"])],
        "investeringar_linje": placed[gt.isin(["LineString", "MultiLineString"])],
        "investeringar_yta": placed[gt.isin(["Polygon", "MultiPolygon"])],
    }
    un = res.unplaced.copy()
    ucols = ["source_row", "investment_id", "name", "kind", "address", "district", "granted_sek", "spent_sek",
             "completed", "raw_text", "reason", "reason_text", "read_flag"]
    layers["ej_placerade"] = pd.DataFrame(un[[c for c in ucols if c in un.columns]])
    areas = res.areas.copy()
    areas = areas.rename(columns={"parent": "parent"})
    layers["omraden"] = areas
    roles = res.roles
    for role, name in (("treated", "behandling"), ("control", "kontroll"), ("spill", "spill")):
        layers[name] = roles[roles["role"] == role][["area_id", "name", "role", "cohort", "kinds",
                                                     "investment_ids", "reason", "reason_text", "geometry"]]
    layers["effekter"] = res.effects.copy()
    if res.hotspots is not None:
        layers["otrygga_platser"] = res.hotspots
    return layers


def _texts(lang: str) -> dict[str, str]:
    sv = {
        "areas": "Läser områden", "register": "Läser investeringsregistret", "geocode": "Geokodar investeringar",
        "survey": "Läser trygghetsmätningen", "design": "Väljer behandlade områden och kontrollområden",
        "effects": "Skattar effekter", "incidents": "Beräknar täthet och otrygga platser",
        "write": "Skriver karta, GeoPackage och rapport",
    }
    en = {
        "areas": "Reading areas", "register": "Reading the investment register", "geocode": "Geocoding investments",
        "survey": "Reading the safety survey", "design": "Choosing treated and control areas",
        "effects": "Estimating effects", "incidents": "Computing density and unsafe places",
        "write": "Writing map, GeoPackage and report",
    }
    return sv if lang == "sv" else en


def kind_label(kind: str, lang: str) -> str:
    return get_kind(kind).label(lang)
