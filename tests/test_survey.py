"""Tests of trygg_geo.survey: reading aggregates and respondent rows, the panel, SEs."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
from shapely.geometry import box

from trygg_geo._errors import CRSError, DataQualityWarning, InputError, MissingColumnError
from trygg_geo.survey import (
    PANEL_COLUMNS,
    kish_n_eff,
    read_survey,
    share_se,
    suppress_small_cells,
    survey_panel,
)


def _csv(tmp_path: Path, text: str, name: str = "enkat.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_id": ["rinkeby", "tensta"], "name": ["RINKEBY", "TENSTA"]},
                            geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=3006)


def test_aggregates_swedish_headers_percent_scale(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    p = _csv(tmp_path, (
        "Område;År;Indikator;Antal svarande;Andel (%)\n"
        "Rinkeby;2017;Otrygg kväll;120;21,5\n"
        "Rinkeby;2020;Otrygg kväll;95;11\n"
        "\n"
        "Tensta;2017;Oro brott;25;26\n"
    ), encoding="cp1252")
    with caplog.at_level(logging.INFO, logger="trygg_geo.survey"):
        df = read_survey(p)
    assert "0-100 (percent) scale was assumed" in caplog.text
    assert df.attrs["trygg_geo_survey"]["scale"] == "percent"
    assert df["source_row"].tolist() == [2, 3, 5]  # the blank line keeps its number
    assert df["area_id"].tolist() == ["Rinkeby", "Rinkeby", "Tensta"]
    assert df["wave"].tolist() == [2017, 2020, 2017]
    assert df["indicator"].tolist() == ["otrygg_kvall", "otrygg_kvall", "oro_brott"]
    assert df["share"].tolist() == pytest.approx([0.215, 0.11, 0.26])
    assert df["n"].tolist() == [120, 95, 25]

    panel = survey_panel(df)
    assert panel.columns.tolist() == PANEL_COLUMNS
    r = panel.iloc[0]
    assert (r["area_id"], r["wave"], r["indicator"]) == ("Rinkeby", 2017, "otrygg_kvall")
    assert r["se"] == pytest.approx(np.sqrt(0.215 * 0.785 / 120))
    assert r["n_eff"] == 120
    assert panel["suppressed"].tolist() == [False, False, True]  # Tensta n = 25 < 30
    out = suppress_small_cells(panel)
    assert out["share"].isna().tolist() == [False, False, True]
    assert out["n"].tolist() == [120, 95, 25]
    assert panel.loc[2, "share"] == pytest.approx(0.26)  # kept for analysis


def test_proportion_scale_and_header_mismatch_warning(tmp_path: Path) -> None:
    p = _csv(tmp_path, "stadsdel,år,fråga,n,andel\nA,2021,oro_brott,50,0.12\nB,2021,oro_brott,60,0.3\n")
    df = read_survey(p)
    assert df.attrs["trygg_geo_survey"]["scale"] == "proportion"
    assert df["share"].tolist() == pytest.approx([0.12, 0.3])
    p2 = _csv(tmp_path, "stadsdel;år;fråga;n;Andel (%)\nA;2021;oro_brott;50;0,5\n", "b.csv")
    with pytest.warns(DataQualityWarning, match="says percent"):
        read_survey(p2)
    assert read_survey(p2, scale="percent")["share"].tolist() == pytest.approx([0.005])


def test_counts_instead_of_shares_and_xlsx(tmp_path: Path) -> None:
    p = tmp_path / "enkat.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Stadsdel", "Mätår", "Fråga", "Svarande", "Antal"])
    ws.append(["Farsta", 2020, "otrygg_kvall", 200, 24])
    ws.append(["Farsta", 2023, "otrygg_kvall", 150, 0])
    wb.save(p)
    df = read_survey(p)
    assert df["share"].tolist() == pytest.approx([0.12, 0.0])
    assert df["count"].tolist() == [24, 0]
    assert df["source_row"].tolist() == [2, 3]
    panel = survey_panel(df)
    # p = 0: SE from the Agresti-Coull adjusted share, not 0
    z2 = 1.959963984540054 ** 2
    pt = (z2 / 2) / (150 + z2)
    assert panel.loc[1, "se"] == pytest.approx(np.sqrt(pt * (1 - pt) / (150 + z2)))
    assert panel.loc[1, "share"] == 0.0


def test_wide_aggregates(tmp_path: Path) -> None:
    p = _csv(tmp_path, "område;år;n;otrygg_kvall;oro_brott\nA;2020;100;30;10\nB;2020;80;40;20\n")
    df = read_survey(p)
    assert df[["source_row", "indicator"]].values.tolist() == [
        [2, "oro_brott"], [2, "otrygg_kvall"], [3, "oro_brott"], [3, "otrygg_kvall"]]
    assert df["share"].tolist() == pytest.approx([0.1, 0.3, 0.2, 0.4])


def test_bad_input_named(tmp_path: Path) -> None:
    p = _csv(tmp_path, "område;år;indikator;n;andel\nA;2020;x;100;30\nB;2020;x;100;130\n")
    with pytest.raises(InputError) as e:
        read_survey(p)
    assert e.value.row == 3 and "130" in str(e.value)
    p = _csv(tmp_path, "område;år;indikator;n;andel\nA;2020;x;100;3O\n", "b.csv")
    with pytest.raises(InputError, match="'3O' is not a number") as e:
        read_survey(p)
    assert e.value.row == 2 and e.value.column == "andel"
    p = _csv(tmp_path, "område;år;indikator;n;andel\nA;2020;x;100;30\nA;2020;X;90;31\n", "c.csv")
    with pytest.raises(InputError, match=r"several rows \(2, 3\)"):
        read_survey(p)
    p = _csv(tmp_path, "område;år;indikator;antal;värde\nA;2020;x;100;30\n", "d.csv")
    df = read_survey(p, columns={"n": "antal"})
    assert df["n"].tolist() == [100]
    p = _csv(tmp_path, "plats;år;indikator;n;andel\nA;2020;x;100;30\n", "e.csv")
    with pytest.raises(MissingColumnError, match="'plats'"):
        read_survey(p)
    p = _csv(tmp_path, "område;år;indikator;n;antal\nA;2020;x;10;12\n", "f.csv")
    with pytest.raises(InputError, match="larger than n"):
        read_survey(p)


def test_respondent_rows_with_weights_give_kish_n_eff(tmp_path: Path) -> None:
    rows = ["Stadsdel;År;Fråga;Svar;Vikt"]
    w = [1.0, 1.0, 2.0, 2.0, 0.5, 3.0]
    y = ["Ja", "nej", "ja", "Nej", "1", "0"]
    rows += [f"Rinkeby;2020;otrygg_kvall;{a};{str(b).replace('.', ',')}" for a, b in zip(y, w)]
    rows += ["Rinkeby;2020;otrygg_kvall;Vet ej;1,5"]  # no answer: not counted
    rows += [f"Tensta;2020;otrygg_kvall;{a};1" for a in ["ja"] * 10 + ["nej"] * 30]
    p = _csv(tmp_path, "\n".join(rows) + "\n")
    df = read_survey(p)
    assert df.attrs["trygg_geo_survey"]["form"] == "respondents"
    assert len(df) == 47 and df["answer"].isna().sum() == 1
    panel = survey_panel(df, min_n=5)
    r = panel.set_index("area_id").loc["Rinkeby"]
    wa = np.array(w)
    ya = np.array([1, 0, 1, 0, 1, 0], dtype=float)
    assert r["share"] == pytest.approx((wa * ya).sum() / wa.sum())
    assert r["n"] == 6
    assert r["n_eff"] == pytest.approx(wa.sum() ** 2 / (wa ** 2).sum())
    assert r["n_eff"] == pytest.approx(kish_n_eff(wa))
    assert r["se"] == pytest.approx(np.sqrt(r["share"] * (1 - r["share"]) / r["n_eff"]))
    t = panel.set_index("area_id").loc["Tensta"]
    assert (t["share"], t["n"], t["n_eff"]) == (0.25, 40, 40.0)


def test_respondents_wide_with_coordinates_placed_in_areas(tmp_path: Path, areas: gpd.GeoDataFrame
                                                           ) -> None:
    p = _csv(tmp_path, "x;y;år;otrygg_kvall;oro_brott\n"
                       "50;50;2020;1;0\n150;50;2020;0;\n150;20;2020;1;1\n")
    df = read_survey(p)
    assert df["indicator"].tolist() == ["oro_brott", "otrygg_kvall"] * 3
    panel = survey_panel(df, areas=areas, min_n=1)
    got = panel.set_index(["area_id", "indicator"])["share"].to_dict()
    assert got == {("rinkeby", "oro_brott"): 0.0, ("rinkeby", "otrygg_kvall"): 1.0,
                   ("tensta", "oro_brott"): 1.0, ("tensta", "otrygg_kvall"): 0.5}
    assert panel.set_index(["area_id", "indicator"]).loc[("tensta", "oro_brott"), "n"] == 1
    p2 = _csv(tmp_path, "x;y;år;otrygg_kvall\n5000;50;2020;1\n", "out.csv")
    with pytest.raises(InputError, match=r"rows 2\).*outside every area"):
        survey_panel(read_survey(p2), areas=areas)


def test_respondent_coordinates_need_a_crs(tmp_path: Path, areas: gpd.GeoDataFrame) -> None:
    df = read_survey(_csv(tmp_path, "x;y;år;otrygg_kvall\n50;50;2020;1\n150;50;2020;0\n"))
    bare = areas.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"^the respondent x/y: points_crs= is not given and the "
                       r"area layer has no CRS \(coordinate reference system\)") as e:
        survey_panel(df, areas=bare, min_n=1)
    # the fix names the argument to give (with an example CRS), not a generic CRS sentence
    assert e.value.fix is not None and "points_crs=" in e.value.fix and "EPSG:" in e.value.fix
    panel = survey_panel(df, areas=areas, min_n=1, points_crs="SWEREF 99 TM")
    assert panel["area_id"].tolist() == ["rinkeby", "tensta"]
    with pytest.raises(CRSError, match="is not an exact CRS name"):
        survey_panel(df, areas=areas, min_n=1, points_crs="SWEREF")


def test_panel_matches_area_names_to_layer_ids(tmp_path: Path, areas: gpd.GeoDataFrame) -> None:
    p = _csv(tmp_path, "område;år;indikator;n;andel\nRINKEBY;2020;x;100;30\nTensta;2020;x;100;40\n")
    panel = survey_panel(read_survey(p), areas=areas)
    assert panel["area_id"].tolist() == ["rinkeby", "tensta"]
    p = _csv(tmp_path, "område;år;indikator;n;andel\nKista;2020;x;100;30\n", "k.csv")
    with pytest.raises(InputError, match=r"'Kista' \(row 2\)"):
        survey_panel(read_survey(p), areas=areas)


def test_share_se_edges() -> None:
    se = share_se(np.array([0.5, 1.0, 0.2]), np.array([100.0, 10.0, 0.0]))
    assert se[0] == pytest.approx(0.05)
    assert 0 < se[1] < 0.2
    assert np.isnan(se[2])


# --------------------------------------------------------------------------- scale per file (issue 9)
def _shares(tmp_path: Path, shares: list[str], header: str = "Andel (%)", name: str = "s.csv") -> Path:
    rows = [f"SD{i:02d};2020;otrygg_kvall;100;{s}" for i, s in enumerate(shares)]
    return _csv(tmp_path, "\n".join([f"område;år;indikator;n;{header}", *rows]) + "\n", name)


def test_one_proportion_among_percentages_is_refused_not_switched(tmp_path: Path) -> None:
    p = _shares(tmp_path, ["20", "35,5", "0,35", "41", "18", "27"])
    with pytest.raises(InputError) as e:
        read_survey(p)
    assert e.value.row == 4 and e.value.column == "Andel (%)"
    assert "percentages" in str(e.value) and "4 (0.35)" in str(e.value)


def test_one_percentage_among_proportions_is_refused_not_switched(tmp_path: Path) -> None:
    p = _shares(tmp_path, ["0,2", "0,355", "0,41", "45", "0,18", "0,27"], header="Andel")
    with pytest.raises(InputError, match="proportions") as e:
        read_survey(p)
    assert e.value.row == 5 and "45" in str(e.value)


def test_mixed_scales_are_refused_with_rows(tmp_path: Path) -> None:
    p = _shares(tmp_path, ["0,2", "35", "0,41", "45"], header="Andel")
    with pytest.raises(InputError, match="cannot be told") as e:
        read_survey(p)
    assert "rows 3 (35), 5 (45)" in str(e.value)


def test_scale_is_decided_for_the_whole_file(tmp_path: Path) -> None:
    # zeros and ones fit both scales and never decide it
    df = read_survey(_shares(tmp_path, ["0", "1", "45", "100"]))
    assert df.attrs["trygg_geo_survey"]["scale"] == "percent"
    assert df["share"].tolist() == pytest.approx([0.0, 0.01, 0.45, 1.0])
    df = read_survey(_shares(tmp_path, ["0", "1", "0,45"], header="Andel", name="b.csv"))
    assert df["share"].tolist() == pytest.approx([0.0, 1.0, 0.45])


def test_survey_header_under_a_title(tmp_path: Path) -> None:
    p = _csv(tmp_path, "Trygghetsmätning 2020\n\nområde;år;indikator;n;andel\nA;2020;x;100;30\n")
    df = read_survey(p)
    assert df["source_row"].tolist() == [4]
