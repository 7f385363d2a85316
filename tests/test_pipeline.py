"""End to end: the demo city through the whole pipeline, checked against its planted truth."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.pipeline import Results, run

OGRINFO = shutil.which("ogrinfo")


def _run_demo(folder: Path, seed: int, *, write: bool) -> tuple[Results, dict]:
    # sampling noise only: one city per seed checks that the planted effects are recovered;
    # calibration under district x wave shocks (the demo's default) is the coverage study's
    # job (tests/test_coverage.py, benchmarks/README.md), not a single draw's
    city = make_demo_city(folder / "indata", seed=seed, shock_sd=0.0)
    cfg = load_config(city.config)
    cfg = replace(cfg, output=replace(cfg.output, folder=folder))
    return run(cfg, write=write), city.load_truth()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, dict, Path]:
    out = tmp_path_factory.mktemp("demo_run")
    res, truth = _run_demo(out, 2024, write=True)
    return res, truth, out


def test_writes_the_three_files(demo) -> None:
    res, _, out = demo
    for name in ("karta.html", "resultat.gpkg", "rapport.md", "rapport.html", "tathet.tif"):
        assert (out / name).stat().st_size > 1000, name
    assert res.paths["map"] == out / "karta.html"


def test_every_register_row_is_accounted_for(demo) -> None:
    res, truth, out = demo
    n = truth["n_register_rows"]
    assert len(res.register) == n
    assert len(res.placed) + len(res.unplaced) == n
    placed_rows = set(res.placed["source_row"].astype(int))
    unplaced_rows = set(res.unplaced["source_row"].astype(int))
    assert placed_rows.isdisjoint(unplaced_rows)
    assert placed_rows | unplaced_rows == set(res.register["source_row"].astype(int))
    # the same holds in the GeoPackage
    gpkg = out / "resultat.gpkg"
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    counted = sum(len(gpd.read_file(gpkg, layer=lyr)) for lyr in
                  ("investeringar_punkt", "investeringar_linje", "investeringar_yta", "ej_placerade"))
    assert counted == n
    assert {"omraden", "effekter", "kontroll", "behandling"} <= layers
    # rows that cannot be placed are unplaced with a reason, never dropped
    expect_unplaced = {t["source_row"] for t in truth["register"] if t["expect"] == "unplaced"}
    assert expect_unplaced <= unplaced_rows
    assert res.unplaced["reason"].notna().all()


def test_geopackage_opens_with_gdal_and_every_layer_has_a_crs(demo) -> None:
    _, _, out = demo
    gpkg = out / "resultat.gpkg"
    for name, geom_type in pyogrio.list_layers(gpkg):
        info = pyogrio.read_info(gpkg, layer=name)
        if geom_type is not None:
            assert info["crs"] == "EPSG:3006", name
    if OGRINFO is None:
        pytest.skip("ogrinfo (Debian gdal-bin) is not installed")
    text = subprocess.run([OGRINFO, "-al", "-so", str(gpkg)], capture_output=True, text=True, check=True).stdout
    assert "Layer name: omraden" in text and "Layer name: investeringar_punkt" in text
    assert text.count('ID["EPSG",3006]') >= 5
    con = sqlite3.connect(gpkg)
    try:
        styled = {r[0] for r in con.execute("select f_table_name from layer_styles")}
    finally:
        con.close()
    assert "omraden" in styled


def test_omraden_carries_wave_values_n_and_suppression(demo) -> None:
    res, truth, out = demo
    om = gpd.read_file(out / "resultat.gpkg", layer="omraden")
    for w in truth["waves"]:
        assert {f"otrygg_kvall_{w}", f"n_{w}", f"supp_{w}"} <= set(om.columns)
    assert len(om) == 42
    assert om["n_2024"].between(50, 300).all()


def _check_recovery(res: Results, truth: dict) -> None:
    eff = res.effects[res.effects["scope"] == "kind"].set_index("kind")
    for kind, true in truth["planted_effects"].items():
        if kind not in eff.index:
            continue
        r = eff.loc[kind]
        assert r["ci_low"] <= true <= r["ci_high"], (kind, true, r["ci_low"], r["ci_high"])
        assert r["n_treated"] >= 2 and r["n_control"] >= 5
        assert r["mde"] > 0
    # the planted kinds are detected, not just covered
    assert eff.loc["belysning", "ci_high"] < 0


def test_planted_effect_is_recovered(demo) -> None:
    res, truth, _ = demo
    _check_recovery(res, truth)


@pytest.mark.parametrize("seed", [3, 11])
def test_planted_effect_is_recovered_other_seeds(tmp_path: Path, seed: int) -> None:
    res, truth = _run_demo(tmp_path, seed, write=False)
    _check_recovery(res, truth)


def test_treated_areas_match_the_plan(demo) -> None:
    res, truth, _ = demo
    roles = res.roles.set_index("area_id")
    planned = {d for ds in truth["treated_districts"].values() for d in ds}
    missed = {d for d in planned if roles.at[d, "role"] != "treated"}
    # a planned area is treated, or excluded because one of its investments could not be placed
    for d in missed:
        assert roles.at[d, "role"] == "excluded" and roles.at[d, "reason"] == "unplaced_investment", d
        assert "kunde inte placeras" in roles.at[d, "reason_text"], d
    assert len(missed) <= 2
    assert set(res.roles.loc[res.roles["role"] == "control", "area_id"]) <= set(truth["control_districts"])


def test_report_answers_the_four_questions(demo) -> None:
    res, _, out = demo
    text = (out / "rapport.md").read_text(encoding="utf-8")
    assert "Effekter per åtgärdstyp" in text and "Per projekt" in text and "Årligt bokslut" in text
    assert "Belysning" in text and "MDE" in text and "Kr per procentenhet" in text
    first = res.register.iloc[0]
    assert str(first["investment_id"]) in text
    html = (out / "rapport.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html
    assert "<script>alert" not in html  # register text is escaped in the HTML report


def test_cli_demo(tmp_path: Path) -> None:
    from trygg_geo.cli import main

    assert main(["demo", "--out", str(tmp_path / "d"), "--seed", "5", "--lang", "en"]) == 0
    assert (tmp_path / "d" / "karta.html").exists() and (tmp_path / "d" / "resultat.gpkg").exists()
    assert "Effects per kind" in (tmp_path / "d" / "rapport.md").read_text(encoding="utf-8")


def test_cli_reports_errors_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trygg_geo.cli import main

    assert main(["run", str(tmp_path / "saknas.toml")]) == 2
    assert "saknas.toml" in capsys.readouterr().err


@pytest.mark.browser
def test_demo_map_renders_in_chromium(demo, browser) -> None:
    """The demo's karta.html in headless Chromium with the network blocked."""
    from _browser import ARTIFACTS, open_map

    res, _, out = demo
    o = open_map(browser, out / "karta.html")
    page = o.page
    try:
        counts = page.evaluate("""() => ({
            leaflet: typeof window.L === 'object',
            areas: document.querySelectorAll('path.tg-area').length,
            legend: document.querySelectorAll('.tg-legend, .legend').length,
            legendText: (document.querySelector('.tg-legend, .legend') || {}).textContent || '',
        })""")
        assert counts["leaflet"]
        assert counts["areas"] == len(res.areas) == 42
        assert counts["legend"] >= 1 and "Belysning" in counts["legendText"]
        assert not o.errors, o.errors
        assert not o.dialogs
        assert all("tile" in u for u in o.blocked), o.blocked  # only map tiles were requested
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo_karta.png"))
    finally:
        page.close()


def test_report_leaves_the_matplotlib_backend_alone(demo) -> None:
    """Writing the report (trend figure) must not switch a notebook user's backend."""
    import matplotlib

    from trygg_geo.report import build_report

    res, _, _ = demo
    before = matplotlib.get_backend()
    matplotlib.use("svg")  # a backend the report would have replaced with Agg
    try:
        blocks = build_report(res)
        assert any(b.kind == "figure" for b in blocks)
        assert matplotlib.get_backend().lower() == "svg"
    finally:
        matplotlib.use(before)


def test_results_live_in_one_module() -> None:
    """Results and the bokslut have one home; pipeline and report do not import each other."""
    import ast

    import trygg_geo
    import trygg_geo.pipeline
    import trygg_geo.report
    import trygg_geo.results

    assert trygg_geo.Results is trygg_geo.pipeline.Results is trygg_geo.results.Results
    assert trygg_geo.report.bokslut is trygg_geo.results.bokslut
    src = Path(trygg_geo.report.__file__).read_text(encoding="utf-8")
    imported = {n.module for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom)}
    assert "trygg_geo.pipeline" not in imported
