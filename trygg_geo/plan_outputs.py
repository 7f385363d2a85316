"""``trygg-geo planera``: plan the evaluation from a config, and write the plan.

:func:`plan` reads a plan config (``plan.toml``: the sections of ``projekt.toml``, where
``[register]`` holds the **planned** investments and ``[survey]`` the past waves, plus
``[plan]``, see :class:`trygg_geo.config.PlanSection`), places the planned investments by the
same cascade as :func:`trygg_geo.run`, calls :func:`trygg_geo.plan.plan_evaluation` and writes,
as one set (:class:`trygg_geo._outputs.OutputSet`, manifest ``korning.json`` last) into
``[output] folder``:

- ``utvarderingsplan.md``, ``.html`` and ``.pdf``: the plan as a document to attach to a
  nämnd decision (design, controls and balance, τ², MDE and power per investment and per kind,
  the verdicts in words and the extra respondents needed); every text from the register is
  escaped (the report's renderers, :mod:`trygg_geo._report_render`);
- ``utvarderingsplan.gpkg``: the layers ``plan_investeringar`` (one point per investment),
  ``plan_behandlade``, ``plan_kontroller`` and ``plan_balans`` (a table) with Swedish aliases
  from the layer catalogue; its dataset metadata holds the plan id, the waves, τ² and the
  estimator, which ``trygg-geo run`` with ``[plan] path`` reads back (the controls are kept);
- ``plankarta.html``: the planned investments, their treated areas and the chosen controls
  (:func:`trygg_geo.maps.build_map`, offline, all text escaped).

Write the plan into a folder of its own (e.g. ``[output] folder = "plan"``): its manifest
would otherwise replace a run's; :func:`plan` refuses a folder that holds a run's outputs.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from trygg_geo._crs import require_inside
from trygg_geo._errors import ConfigError, OutputPathError
from trygg_geo._i18n import fmt_number, fmt_percent, fmt_pp, text
from trygg_geo._inputs import project_areas, project_panel
from trygg_geo._outputs import MANIFEST, OutputSet, _inputs, _same, new_run_id
from trygg_geo._report_render import Block, render_html, render_markdown, render_pdf
from trygg_geo._version import __version__
from trygg_geo.config import Config, load_config
from trygg_geo.darkpaths import dark_paths
from trygg_geo.export import write_geopackage
from trygg_geo.interventions import get_kind
from trygg_geo.io import read_incidents, read_register
from trygg_geo.maps import build_map, save_map
from trygg_geo.pipeline import _geocode
from trygg_geo.plan import PLANNING_EFFECTS, VERDICTS, EvaluationPlan, plan_evaluation

__all__ = ["PLAN_FILES", "PLAN_LAYERS", "plan", "plan_document", "plan_layers"]

log = logging.getLogger(__name__)

#: The files :func:`plan` writes (besides the manifest), by key.
PLAN_FILES: dict[str, str] = {
    "plan": "utvarderingsplan.md", "plan_html": "utvarderingsplan.html",
    "plan_pdf": "utvarderingsplan.pdf", "geopackage": "utvarderingsplan.gpkg",
    "map": "plankarta.html",
}
#: The GeoPackage layers of a plan (catalogue names).
PLAN_LAYERS = ("plan_investeringar", "plan_behandlade", "plan_kontroller", "plan_balans")
_INV_FIELDS = ["investment_id", "name", "kind", "source_row", "completed", "area_ids",
               "n_treated", "n_control", "se", "mde", "effect", "power", "kind_mde",
               "kind_power", "verdict", "verdict_text", "extra_respondents", "note"]

Progress = Callable[[str], None]


def plan(config: Config | str | Path, *, write: bool = True,
         progress: Progress | None = None) -> EvaluationPlan:
    """Plan the evaluation described by a plan config and write the plan.

    Parameters
    ----------
    config
        A :class:`~trygg_geo.config.Config` or the path of a ``plan.toml``: ``[register]`` the
        planned investments, ``[survey]`` the past waves, ``[plan] next_wave`` (required),
        ``expected_n``, ``n_controls``, ``power``, ``[plan.effects]``, ``past_register``.
    write
        Write the plan's files (:data:`PLAN_FILES`) into ``[output] folder``.
    progress
        Called with a short line before each stage (the CLI prints them).

    Returns
    -------
    EvaluationPlan
        ``extra["paths"]`` holds the files written (key -> path, with ``manifest``),
        ``extra["plan_id"]`` the id stamped into them.

    Raises
    ------
    ConfigError
        ``[plan] next_wave`` is missing.
    OutputPathError
        The output folder holds a run's outputs, or a plan file would overwrite an input.
    """
    cfg = config if isinstance(config, Config) else load_config(config)
    lang, an, sv = cfg.project.language, cfg.analysis, cfg.survey
    pc = cfg.plan
    if pc is None or pc.next_wave is None:
        raise ConfigError(text("plan.needs_next_wave", "en"))
    if write:
        _check_folder(cfg)
    say = progress or (lambda msg: log.info("%s", msg))

    say(text("progress.areas", lang))
    areas, crs = project_areas(cfg)

    say(text("progress.register", lang))
    planned = _placed(cfg, cfg.register.path, areas, crs)
    past = _placed(cfg, pc.past_register, areas, crs) if pc.past_register is not None else None

    say(text("progress.survey", lang))
    panel = project_panel(cfg, areas)
    if an.waves:
        panel = panel[panel["wave"].isin(an.waves)]

    say(text("progress.plan", lang))
    covariates = _covariates(cfg, areas, crs)
    result = plan_evaluation(
        planned, areas, panel, next_wave=pc.next_wave, indicator=sv.indicator,
        expected_n=pc.expected_n, past_investments=past, covariates=covariates,
        n_controls=pc.n_controls, effects=pc.effects or None, level=an.level, power=pc.power,
        wave_month=an.wave_month, wave_day=an.wave_day, lang=lang)
    plan_id = new_run_id()
    result.extra.update(plan_id=plan_id, indicator=sv.indicator, expected_n=pc.expected_n,
                        effects={**PLANNING_EFFECTS, **pc.effects}, paths={})
    if write:
        say(text("progress.plan_write", lang))
        result.extra["paths"] = _write(result, cfg, areas)
    return result


def _check_folder(cfg: Config) -> None:
    """Refuse a folder holding a run's outputs, and plan files that would overwrite an input."""
    folder = Path(cfg.output.folder)
    src = f"'{cfg.source}'" if cfg.source is not None else "the configuration"
    manifest = folder / MANIFEST
    if manifest.is_file():
        try:
            listed = {str(e["file"]) for e in json.loads(
                manifest.read_text(encoding="utf-8")).get("files", [])}
        except (ValueError, KeyError, TypeError, AttributeError):
            listed = set()
        if listed - set(PLAN_FILES.values()):
            raise OutputPathError(
                f"{src}: [output] folder = '{folder}' holds the outputs of a run "
                f"({', '.join(sorted(listed)[:3])}, ...); the plan's manifest would replace "
                "theirs. Fix: write the plan to a folder of its own, e.g. folder = \"plan\".")
    inputs = _inputs(cfg)
    if cfg.plan is not None and cfg.plan.past_register is not None:
        inputs.append(("[plan] past_register", cfg.plan.past_register))
    for name in PLAN_FILES.values():
        for key, path in inputs:
            if _same(folder / name, Path(path)):
                raise OutputPathError(
                    f"{src}: the plan file '{name}' would overwrite the input {key} ('{path}'). "
                    "Fix: choose another [output] folder.")


def _placed(cfg: Config, path: Path, areas: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Read and place a register file by the run's cascade (:func:`trygg_geo.pipeline._geocode`)."""
    reg = read_register(path, columns=cfg.register.columns or None,
                        kinds=cfg.register.kinds or None, sheet=cfg.register.sheet)
    c = replace(cfg, register=replace(cfg.register, path=path))
    placed, _unplaced, _summary, _gazetteer = _geocode(c, reg, areas, crs)
    if "duplicate_of" in placed:  # a row repeating an earlier one exactly is counted once
        placed = placed[placed["duplicate_of"].isna()].reset_index(drop=True)
    return placed


def _covariates(cfg: Config, areas: gpd.GeoDataFrame, crs: Any) -> pd.DataFrame | None:
    """Matching variables beside level and trend: incident density and dark-path metres."""
    parts = []
    if cfg.incidents is not None:
        parts.append(_incident_density(cfg, areas))
    if cfg.places.dark_paths and str(cfg.gazetteer.path).lower().endswith(
            (".osm", ".osm.bz2", ".osm.gz")):
        by_area = dark_paths(cfg.gazetteer.path, areas=areas, crs=crs,
                             lamp_distance_m=cfg.places.lamp_distance_m).by_area
        assert by_area is not None
        parts.append(by_area.set_index("area_id")[["dark_m"]])
    return pd.concat(parts, axis=1) if parts else None


def _incident_density(cfg: Config, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Incidents per km² of each area, a matching variable."""
    assert cfg.incidents is not None
    inc = read_incidents(cfg.incidents.path, crs=cfg.incidents.crs,
                         columns=cfg.incidents.columns or None)
    require_inside(inc.geometry, areas, what="incidents", file=str(cfg.incidents.path),
                   key="[incidents] crs")
    inc = inc.to_crs(areas.crs)
    hit = gpd.sjoin(inc[[inc.geometry.name]], areas[["area_id", areas.geometry.name]],
                    predicate="within")
    counts = hit.groupby("area_id").size().reindex(areas["area_id"], fill_value=0)
    km2 = areas.set_index("area_id").geometry.area / 1e6
    return pd.DataFrame({"incident_density": (counts / km2).to_numpy()},
                        index=pd.Index(areas["area_id"].to_numpy(), name="area_id"))


# --------------------------------------------------------------------------- layers


def _points(geoms: gpd.GeoSeries) -> np.ndarray:
    """One point per investment: a line's middle, a polygon's representative point."""
    arr = np.asarray(geoms.to_numpy(), dtype=object)
    out = shapely.point_on_surface(arr)
    lines = np.isin(shapely.get_type_id(arr), [1, 5])  # LineString, MultiLineString
    if lines.any():
        merged = shapely.line_merge(arr[lines])
        single = shapely.get_type_id(merged) == 1
        mid = shapely.line_interpolate_point(merged[single], 0.5, normalized=True)
        idx = np.flatnonzero(lines)[single]
        out[idx] = mid
    return np.asarray(out, dtype=object)


def plan_layers(p: EvaluationPlan) -> dict[str, pd.DataFrame]:
    """The plan's GeoPackage layers (:data:`PLAN_LAYERS`), catalogue columns first."""
    inv = p.investments
    cols = [c for c in _INV_FIELDS if c in inv.columns]
    points = gpd.GeoDataFrame(
        pd.DataFrame(inv[cols]).assign(geometry_type=inv.geometry.geom_type.to_numpy()),
        geometry=_points(inv.geometry), crs=inv.crs)
    if "completed" in points:
        points["completed"] = pd.to_datetime(points["completed"], errors="coerce")
    return {"plan_investeringar": points, "plan_behandlade": p.treated,
            "plan_kontroller": p.controls, "plan_balans": p.balance}


def _metadata(p: EvaluationPlan, cfg: Config) -> dict[str, str]:
    return {"run_id": str(p.extra["plan_id"]), "trygg_geo_version": __version__,
            "project": cfg.project.name, "document": "utvarderingsplan",
            "next_wave": str(p.next_wave), "past_waves": ",".join(map(str, p.past_waves)),
            "estimator": "did_2x2", "indicator": str(p.extra.get("indicator") or ""),
            "level": repr(p.level), "power": repr(p.power), "tau2": repr(p.tau2.value),
            "n_controls": str(len(p.controls))}


# --------------------------------------------------------------------------- document


def _pp(v: Any, lang: str, signed: bool = False) -> str:
    return fmt_pp(v, lang, signed=signed)


def _kind_label(kind: Any, lang: str) -> str:
    return get_kind(str(kind)).label(lang)


def _counts(p: EvaluationPlan) -> dict[str, int]:
    c = p.verdict_counts()
    return {"n": len(p.investments), "matbar": int(c["matbar"]),
            "pooled": int(c["matbar_sammanslagen"]), "not_": int(c["inte_matbar"])}


def _kinds_table(p: EvaluationPlan, lang: str) -> pd.DataFrame:
    def h(k: str) -> str:
        return text(f"plan.col_{k}", lang)
    return pd.DataFrame({
        h("kind"): [_kind_label(k, lang) for k in p.kinds["kind"]],
        h("n_treated"): p.kinds["n_treated"].astype(int).to_numpy(),
        h("n_control"): p.kinds["n_control"].astype(int).to_numpy(),
        h("mde"): [_pp(v, lang) for v in p.kinds["mde"]],
        h("effect"): [_pp(v, lang, True) for v in p.kinds["effect"]],
        h("power"): [fmt_percent(v, lang) for v in p.kinds["power"]],
    })


def _investment_table(p: EvaluationPlan, lang: str) -> pd.DataFrame:
    inv = p.investments

    def h(k: str) -> str:
        return text(f"plan.col_{k}", lang)

    def col(c: str) -> pd.Series:
        return inv[c] if c in inv.columns else pd.Series([""] * len(inv), index=inv.index)

    extra = [fmt_number(v, 0, lang) if pd.notna(v) else "" for v in inv["extra_respondents"]]
    return pd.DataFrame({
        h("id"): col("investment_id").astype(str).to_numpy(),
        h("name"): col("name").fillna("").astype(str).to_numpy(),
        h("kind"): [_kind_label(k, lang) for k in col("kind")],
        h("areas"): inv["area_ids"].astype(str).to_numpy(),
        h("mde"): [_pp(v, lang) for v in inv["mde"]],
        h("effect"): [_pp(v, lang, True) for v in inv["effect"]],
        h("power"): [fmt_percent(v, lang) for v in inv["power"]],
        h("kind_power"): [fmt_percent(v, lang) for v in inv["kind_power"]],
        h("verdict"): inv["verdict_text"].astype(str).to_numpy(),
        h("extra"): extra,
        h("note"): inv["note"].fillna("").astype(str).to_numpy(),
    })


def _variable_label(v: str, lang: str) -> str:
    key = f"plan.var_{v}"
    try:
        return text(key, lang)
    except KeyError:
        return v


def _controls_table(p: EvaluationPlan, lang: str) -> pd.DataFrame:
    c = p.controls

    def h(k: str) -> str:
        return text(f"plan.col_{k}", lang)

    return pd.DataFrame({
        h("area_id"): c["area_id"].astype(str).to_numpy(),
        h("name"): (c["name"] if "name" in c else c["area_id"]).astype(str).to_numpy(),
        h("level"): [fmt_number(100 * v, 1, lang) for v in c["level"]],
        h("trend"): [fmt_number(100 * v, 2, lang, signed=True) for v in c["trend"]],
        h("distance"): [fmt_number(v, 2, lang) for v in c["distance"]],
    })


def _balance_table(p: EvaluationPlan, lang: str) -> pd.DataFrame:
    b = p.balance

    def h(k: str) -> str:
        return text(f"plan.col_{k}", lang)

    def val(v: float, var: str) -> str:
        if var == "level":
            return fmt_number(100 * v, 1, lang)
        if var == "trend":
            return fmt_number(100 * v, 2, lang, signed=True)
        return fmt_number(v, 2, lang)

    rows = {h("variable"): [_variable_label(str(v), lang) for v in b["variable"]]}
    for col, key in (("treated", "treated_mean"), ("controls", "control_mean"),
                     ("candidates", "cand_mean")):
        rows[h(key)] = [val(x, str(v)) for x, v in zip(b[col], b["variable"], strict=True)]
    rows[h("smd_controls")] = [fmt_number(x, 2, lang, signed=True) for x in b["smd_controls"]]
    rows[h("smd_cand")] = [fmt_number(x, 2, lang, signed=True) for x in b["smd_candidates"]]
    return pd.DataFrame(rows)


def plan_document(p: EvaluationPlan, *, title: str, lang: str = "sv") -> list[Block]:
    """The plan as report blocks (rendered by :mod:`trygg_geo._report_render`)."""
    last, nxt = p.past_waves[-1], p.next_wave
    blocks = [Block("h1", f"{text('plan.title', lang)}: {title}"),
              Block("p", text("plan.generated", lang, date=_dt.date.today().isoformat(),
                              version=__version__, run_id=p.extra.get("plan_id", "")))]
    blocks += [Block("h2", text("plan.h_summary", lang)),
               Block("p", text("plan.summary", lang, next_wave=nxt, last_wave=last,
                               **_counts(p))),
               Block("h3", text("plan.h_kinds", lang)), Block("table", _kinds_table(p, lang))]
    expected = p.extra.get("expected_n")
    exp_text = text("plan.expected_mean", lang) if expected is None else \
        text("plan.expected_n", lang, n=fmt_number(expected, 0, lang))
    variables = ", ".join(_variable_label(str(v), lang) for v in p.balance["variable"])
    effects = p.extra.get("effects") or PLANNING_EFFECTS
    kinds = sorted(set(p.investments["kind"].astype(str))) if "kind" in p.investments else []
    unit = "pe" if lang == "sv" else "pp"
    eff_text = ", ".join(f"{_kind_label(k, lang)} "
                         f"{_pp(effects.get(k, effects['annat']), lang, True)} {unit}"
                         for k in kinds)
    blocks += [Block("h2", text("plan.h_design", lang)), Block("list", [
        text("plan.design_1", lang, last_wave=last, next_wave=nxt),
        text("plan.design_2", lang, n_treated=len(p.treated)),
        text("plan.design_3", lang, n_control=len(p.controls),
             n_cand=len(p.extra.get("candidates", [])), variables=variables),
        text("plan.design_4", lang, test_level=fmt_percent(p.level, lang),
             power=fmt_percent(p.power, lang), expected=exp_text),
        text("plan.design_5", lang, effects=eff_text or "–"),
    ])]
    unmeasured = p.extra.get("unmeasured_treated") or []
    if unmeasured:
        blocks.append(Block("p", text("plan.unmeasured", lang, areas=", ".join(unmeasured))))
    tau = p.tau2
    blocks += [Block("h2", text("plan.h_tau2", lang)),
               Block("p", text("plan.tau2", lang, tau2=fmt_number(tau.value, 5, lang),
                               tau_pp=fmt_number(100 * np.sqrt(max(tau.value, 0.0)), 1, lang),
                               n_areas=len(p.extra.get("candidates", [])),
                               waves=", ".join(map(str, p.past_waves))))]
    blocks += [Block("h2", text("plan.h_investments", lang)),
               Block("table", _investment_table(p, lang)),
               Block("h3", text("plan.h_verdicts", lang)),
               Block("list", [text(f"plan.verdict_{v}", lang) for v in VERDICTS])]
    blocks += [Block("h2", text("plan.h_controls", lang)),
               Block("table", _controls_table(p, lang)),
               Block("h3", text("plan.h_balance", lang)),
               Block("table", _balance_table(p, lang)),
               Block("p", text("plan.balance_note", lang))]
    return blocks


# --------------------------------------------------------------------------- map


def _plan_map(p: EvaluationPlan, areas: gpd.GeoDataFrame, cfg: Config) -> Any:
    lang = cfg.project.language
    inv = p.investments.copy()
    if "name" not in inv:
        inv["name"] = inv["investment_id"].astype(str)
    inv["effect_reason"] = [
        text("plan.map_effect", lang, verdict=r["verdict_text"], mde=_pp(r["mde"], lang),
             power=fmt_percent(r["power"], lang), effect=_pp(r["effect"], lang, True))
        for _, r in inv.iterrows()]
    treated = p.treated.assign(role="treated", reason_text="")
    controls = p.controls.assign(
        role="control", investment_ids="",
        reason_text=[text("plan.map_control", lang, distance=fmt_number(d, 2, lang))
                     for d in p.controls["distance"]])
    used = set(treated["area_id"]) | set(controls["area_id"])
    # every area has a role, so that each area's popup has the same fields (other areas are
    # "excluded": their outline layer is off when the map opens)
    other = areas[~areas["area_id"].isin(used)]
    other = gpd.GeoDataFrame({"area_id": other["area_id"].to_numpy(), "role": "excluded",
                              "investment_ids": "", "reason_text": text("plan.map_other", lang)},
                             geometry=other.geometry.to_numpy(), crs=areas.crs)
    keep = ["area_id", "role", "investment_ids", "reason_text"]
    units = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame(f.to_crs(areas.crs)[keep].assign(geometry=f.to_crs(
            areas.crs).geometry.to_numpy())) for f in (treated, controls, other)],
            ignore_index=True), geometry="geometry", crs=areas.crs)
    cols = [c for c in ("area_id", "name", "parent") if c in areas.columns]
    return build_map(areas=areas[[*cols, areas.geometry.name]], investments=inv, units=units,
                     title=f"{text('plan.title', lang)}: {cfg.project.name}", lang=lang,
                     run_id=str(p.extra["plan_id"]), level=p.level,
                     basemap=cfg.gazetteer.path, indicator=cfg.survey.indicator,
                     waves=[p.past_waves[-1], p.next_wave],
                     lantmateriet_key=cfg.output.lantmateriet_key)


def _write(p: EvaluationPlan, cfg: Config, areas: gpd.GeoDataFrame) -> dict[str, Path]:
    """Write the plan's files as one set (manifest last); return key -> path."""
    lang = cfg.project.language
    folder = Path(cfg.output.folder)
    names = list(PLAN_FILES.values())
    with OutputSet(folder, run_id=str(p.extra["plan_id"]), names=names,
                   meta={"trygg_geo_version": __version__,
                         "document": "utvarderingsplan"}) as out:
        write_geopackage(out.path(PLAN_FILES["geopackage"]), plan_layers(p), crs=areas.crs,
                         lang=lang, metadata=_metadata(p, cfg))
        blocks = plan_document(p, title=cfg.project.name, lang=lang)
        out.path(PLAN_FILES["plan"]).write_text(render_markdown(blocks), encoding="utf-8")
        page = render_html(blocks, lang=lang, run_id=str(p.extra["plan_id"]))
        out.path(PLAN_FILES["plan_html"]).write_text(page, encoding="utf-8")
        render_pdf(page, out.path(PLAN_FILES["plan_pdf"]))
        save_map(_plan_map(p, areas, cfg), out.path(PLAN_FILES["map"]))
        written = out.commit()
    paths = {key: written[name] for key, name in PLAN_FILES.items() if name in written}
    paths["manifest"] = written[MANIFEST]
    return paths
