"""``trygg-geo planera`` (issue 15): the plan's files, layers and map; the plan -> run trip."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from stockholm_case import build_stockholm_case

import trygg_geo
from trygg_geo._outputs import verify_outputs
from trygg_geo.cli import main
from trygg_geo.demo import make_demo_city
from trygg_geo.design import assign_roles
from trygg_geo.plan import (
    VERDICTS,
    EvaluationPlan,
    PlannedDesign,
    keep_planned_controls,
    read_plan,
)
from trygg_geo.plan_outputs import PLAN_FILES, PLAN_LAYERS

SCRIPT = "<script>alert('plan')</script>"


def _split(path: Path, column: str, *, encoding: str) -> tuple[str, list[str], int]:
    lines = path.read_text(encoding=encoding).lstrip("\ufeff").splitlines()
    head = lines[0]
    return head, lines[1:], head.split(";").index(column)


def _year(line: str, col: int) -> int | None:
    v = line.split(";")[col]
    return int(v[:4]) if v[:4].isdigit() else None


def write_plan_config(folder: Path, *, register: Path, survey: Path, areas_toml: str,
                      gazetteer: Path, next_wave: int, project: str, crs: str,
                      analysis: str, encoding: str = "utf-8-sig",
                      survey_encoding: str = "utf-8-sig", script_name: bool = False) -> tuple[Path, int]:
    """plan.toml from a project's files: planned = rows completed in the two years up to
    ``next_wave``, past_register = every other row, survey = the waves before ``next_wave``.
    """
    head, rows, col = _split(register, "Färdigställd", encoding=encoding)
    planned = [r for r in rows
               if (y := _year(r, col)) is not None and next_wave - 2 <= y <= next_wave]
    past = [r for r in rows if r not in planned]
    if script_name:  # a register name that is markup: the plan must show it as text
        cells = planned[0].split(";")
        cells[1] = SCRIPT + " " + cells[1]
        planned[0] = ";".join(cells)
    (folder / "planerade.csv").write_text("\n".join([head, *planned]) + "\n", encoding="utf-8")
    (folder / "hittills.csv").write_text("\n".join([head, *past]) + "\n", encoding="utf-8")
    shead, srows, wcol = _split(survey, "År", encoding=survey_encoding)
    keep = [r for r in srows if int(r.split(";")[wcol]) < next_wave]
    (folder / "matningar.csv").write_text("\n".join([shead, *keep]) + "\n", encoding="utf-8")
    toml = (f'[project]\nname = "{project}"\ncrs = "{crs}"\n{areas_toml}\n'
            '[register]\npath = "planerade.csv"\n'
            f'[gazetteer]\npath = "{gazetteer}"\n'
            '[survey]\npath = "matningar.csv"\nindicator = "otrygg_kvall"\n'
            f'{analysis}\n[plan]\nnext_wave = {next_wave}\npast_register = "hittills.csv"\n'
            '[output]\nfolder = "plan"\n')
    path = folder / "plan.toml"
    path.write_text(toml, encoding="utf-8")
    return path, len(planned)


@dataclass
class DemoPlan:
    folder: Path
    config: Path
    exit_code: int
    stdout: str
    plan: EvaluationPlan
    city_config: Path


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory: pytest.TempPathFactory) -> DemoPlan:
    folder = tmp_path_factory.mktemp("plan_demo")
    city = make_demo_city(folder / "indata", seed=2024)
    ind = city.folder
    cfg, _ = write_plan_config(
        folder, register=city.register, survey=city.survey, gazetteer=ind / "gator.osm",
        areas_toml=(f'[areas]\npath = "{ind / "stadsdelar.geojson"}"\nid_column = "sdid"\n'
                    'name_column = "stadsdel"\nparent_column = "stadsdelsomrade"'),
        next_wave=2024, project="Trygghamn <plan> 2024", crs="EPSG:3006",
        analysis="[analysis]\nwave_month = 9\nwave_day = 15", script_name=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["planera", str(cfg)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = trygg_geo.plan(cfg, write=False)
    return DemoPlan(folder, cfg, code, out.getvalue(), p, city.config)


def test_planera_writes_the_plan_the_layers_and_the_map(demo_plan: DemoPlan) -> None:
    assert demo_plan.exit_code == 0
    out = demo_plan.folder / "plan"
    for name in PLAN_FILES.values():
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert verify_outputs(out).ok
    # the CLI's summary: the verdict counts and one line per kind, then the files
    p = demo_plan.plan
    c = p.verdict_counts()
    assert f"{int(c['inte_matbar'])} inte mätbara" in demo_plan.stdout
    for kind in p.kinds["kind"]:
        assert f"  {kind}" in demo_plan.stdout
    assert "utvarderingsplan.gpkg" in demo_plan.stdout and "plankarta.html" in demo_plan.stdout


def test_plan_layers_have_the_right_rows_crs_and_aliases(demo_plan: DemoPlan) -> None:
    gpkg = demo_plan.folder / "plan" / "utvarderingsplan.gpkg"
    p = demo_plan.plan
    names = [str(x[0]) for x in pyogrio.list_layers(gpkg)]
    assert set(PLAN_LAYERS) <= set(names)
    inv = pyogrio.read_dataframe(gpkg, layer="plan_investeringar")
    treated = pyogrio.read_dataframe(gpkg, layer="plan_behandlade")
    controls = pyogrio.read_dataframe(gpkg, layer="plan_kontroller")
    balance = pyogrio.read_dataframe(gpkg, layer="plan_balans", read_geometry=False)
    assert len(inv) == len(p.investments) > 10
    assert len(controls) == len(p.controls) == min(12, len(p.extra["candidates"])) >= 8
    assert len(treated) == len(p.treated)
    assert sorted(treated["area_id"]) == sorted({a for ids in inv["area_ids"] if ids
                                                 for a in ids.split(",")})
    # level and trend, and the demo's dark-path metres (its OSM has footways; the plan's demo
    # config has no incidents, so no incident density)
    assert list(balance["variable"]) == ["level", "trend", "dark_m"]
    assert controls["dark_m"].notna().all()
    for layer in ("plan_investeringar", "plan_behandlade", "plan_kontroller"):
        assert pyogrio.read_info(gpkg, layer=layer)["crs"] == "EPSG:3006", layer
    assert set(inv.geometry.geom_type) == {"Point"}
    assert set(inv["verdict"]) <= set(VERDICTS)
    assert not set(controls["area_id"]) & set(treated["area_id"])
    # Swedish aliases from the catalogue, and the plan's design as dataset metadata
    meta = pyogrio.read_info(gpkg, layer="plan_kontroller")["dataset_metadata"]
    assert meta["next_wave"] == "2024" and meta["past_waves"] == "2015,2018,2021"
    assert meta["estimator"] == "did_2x2" and float(meta["tau2"]) >= 0
    con = sqlite3.connect(gpkg)
    try:
        aliases = dict(con.execute("SELECT column_name, name FROM gpkg_data_columns "
                                   "WHERE table_name = 'plan_investeringar'").fetchall())
    finally:
        con.close()
    assert aliases["verdict_text"] == "Bedömning"
    assert aliases["extra_respondents"] == "Extra svarande per område"


def test_plan_document_has_the_verdicts_and_escapes_the_register(demo_plan: DemoPlan) -> None:
    out = demo_plan.folder / "plan"
    md = (out / "utvarderingsplan.md").read_text(encoding="utf-8")
    for heading in ("## Design", "## Variation mellan områden och mätningar (τ²)",
                    "## Kontrollområden", "### Balans", "## Per investering"):
        assert heading in md
    for code, words in VERDICTS.items():
        assert words["sv"] in md, code  # each verdict explained, and used in the table
    assert "τ² = " in md and "Extra svarande per område" in md
    html = (out / "utvarderingsplan.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and "&lt;script&gt;alert(" in html
    assert "<script" not in html.lower()
    assert "Trygghamn &lt;plan&gt; 2024" in html
    page = (out / "plankarta.html").read_text(encoding="utf-8")
    assert "<script>alert(" not in page


def test_run_with_the_plan_uses_exactly_its_controls(demo_plan: DemoPlan) -> None:
    gpkg = demo_plan.folder / "plan" / "utvarderingsplan.gpkg"
    text = demo_plan.city_config.read_text(encoding="utf-8")
    cfg_path = demo_plan.city_config.with_name("uppfoljning.toml")
    cfg_path.write_text(text + f'\n[plan]\npath = "{gpkg}"\n', encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = trygg_geo.run(cfg_path, write=False)
    planned = read_plan(gpkg)
    used = set(res.roles.loc[res.roles["role"] == "control", "area_id"].astype(str))
    assert used and used <= set(planned.controls)
    # every planned control that is no control now is a deviation, named in a warning
    missing = [a for a in planned.controls if a not in used]
    deviations = [str(w.message) for w in caught if "Avvikelse" in str(w.message)]
    assert len(deviations) == len(missing)
    for a in missing:
        assert any(f"({a})" in d for d in deviations), a
    assert res.notes[0].startswith("Kontrollerna är utvärderingsplanens")
    assert f"{len(used)} av {len(planned.controls)}" in res.notes[0]
    # and the report says so, under its own heading
    from trygg_geo.report import build_report, render_markdown  # noqa: PLC0415
    md = render_markdown(build_report(res))
    assert "## Avvikelser och anmärkningar" in md and res.notes[0] in md
    # areas the run would have used as controls are excluded, with the reason
    dropped = res.roles[res.roles["reason"] == "not_planned_control"]
    assert not set(dropped["area_id"]) & set(planned.controls)
    # the plan's estimator (2x2) with exactly the planned controls that remain
    kinds = res.effects[(res.effects["scope"] == "kind") & res.effects["estimate"].notna()]
    assert len(kinds) and set(kinds["n_control"].astype(int)) == {len(used)}
    assert set(kinds["method"]) == {"did_2x2"}


def test_a_wave_the_run_lacks_and_a_treated_planned_control_are_deviations() -> None:
    areas = gpd.GeoDataFrame({"area_id": ["a", "b", "c", "d"], "name": ["A", "B", "C", "D"]},
                             geometry=[shapely.box(i * 100, 0, i * 100 + 100, 100)
                                       for i in range(4)], crs="EPSG:3006")
    inv = gpd.GeoDataFrame({"investment_id": ["X"], "completed": pd.to_datetime(["2022-01-01"])},
                           geometry=[shapely.Point(150, 50)], crs="EPSG:3006")
    design = assign_roles(areas, inv, waves=[2020, 2023], spillover=None)
    planned = PlannedDesign(controls=("b", "c"), names={"b": "B", "c": "C"}, next_wave=2026,
                            past_waves=(2020, 2023), plan_id="p1", estimator="did_2x2",
                            path="utvarderingsplan.gpkg")
    kept, notes = keep_planned_controls(design, planned, waves=[2020, 2023], lang="en")
    roles = kept.roles.set_index("area_id")["role"]
    assert roles.to_dict() == {"a": "excluded", "b": "treated", "c": "control", "d": "excluded"}
    assert "1 of 2 planned controls" in notes[0]
    assert any("B (b)" in n for n in notes[1:])
    assert any("has no 2026" in n for n in notes[1:])
    planned2 = replace(planned, next_wave=2023, past_waves=(2020,))
    _, notes2 = keep_planned_controls(design, planned2, waves=[2020, 2023], lang="sv")
    assert not any("mätningarna" in n for n in notes2[1:])


def test_planera_input_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "plan.toml"
    base = ('[areas]\npath = "a.gpkg"\n[register]\npath = "r.csv"\n[gazetteer]\npath = "g.osm"\n'
            '[survey]\npath = "s.csv"\n')
    cfg.write_text(base + "[plan]\nnext_wave = 2027\nkontroller = 5\n", encoding="utf-8")
    assert main(["planera", str(cfg)]) == 2
    assert "plan.kontroller" in capsys.readouterr().err
    cfg.write_text(base + "[plan]\nn_controls = 12\n", encoding="utf-8")
    assert main(["planera", str(cfg)]) == 2
    assert "next_wave" in capsys.readouterr().err


def test_planera_on_the_stockholm_case(shared_data: Path, tmp_path: Path) -> None:
    case = build_stockholm_case(tmp_path / "case", seed=0, data=shared_data)
    cfg, n_planned = write_plan_config(
        tmp_path, register=case.register, survey=case.survey, gazetteer=case.gazetteer,
        areas_toml=f'[areas]\npath = "{case.areas}"\nname_column = "name"',
        next_wave=2020, project="Stockholm plan 2020", crs="EPSG:3011",
        analysis="[analysis]\nwave_month = 4\nwave_day = 15", encoding="cp1252")
    assert n_planned > 30
    assert main(["planera", str(cfg)]) == 0
    out = tmp_path / "plan"
    assert verify_outputs(out).ok
    gpkg = out / "utvarderingsplan.gpkg"
    controls = pyogrio.read_dataframe(gpkg, layer="plan_kontroller")
    assert len(controls) == 12 and controls.crs.to_epsg() == 3011
    inv = pyogrio.read_dataframe(gpkg, layer="plan_investeringar")
    assert 0 < len(inv) <= n_planned
    md = (out / "utvarderingsplan.md").read_text(encoding="utf-8")
    assert "mätningen 2020 och jämföras med mätningen 2017" in md
