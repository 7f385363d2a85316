"""Joining the survey to the areas (issue 11, point 1).

Names as Stockholm writes them, aliases, the join report, the 80 % rule, one question per file;
the same rule for register districts.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from trygg_geo._errors import ConfigError, DataQualityWarning, InputError, MissingColumnError
from trygg_geo.areas import AREA_ALIASES, match_area_keys, read_areas
from trygg_geo.config import load_config
from trygg_geo.geocode import reconcile_districts
from trygg_geo.survey import JOIN_ATTR, SurveyJoin, read_survey, survey_panel

# Stockholm's spelling of the six districts of the fixture (its layer says e.g. "GAMLA STAN")
STOCKHOLM_NAMES = ["Gamla stan", "Kungsholmen", "Norrmalm", "Riddarholmen", "Vasastaden",
                   "Östermalm"]
IDS = ["gamla_stan", "kungsholmen", "norrmalm", "riddarholmen", "vasastaden", "ostermalm"]


@pytest.fixture(scope="module")
def areas6(stockholm_areas_6: Path) -> gpd.GeoDataFrame:
    return read_areas(stockholm_areas_6, report="log")


def _survey(tmp_path: Path, names: list[str], *, name: str = "oro.csv",
            shares: list[str] | None = None, with_indicator: bool = False) -> Path:
    """One question per file, as Stockholm publishes it: Stadsdel;År;Antal svar;Andel (%)."""
    shares = shares or [f"{10 + i},5" for i in range(len(names))]
    head = "Stadsdel;År;" + ("Indikator;" if with_indicator else "") + "Antal svar;Andel (%)\n"
    lines = [f"{n};2020;" + ("oro_brott;" if with_indicator else "") + f"{100 + i};{s}"
             for i, (n, s) in enumerate(zip(names, shares, strict=True))]
    p = tmp_path / name
    p.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")
    return p


def _join(panel: pd.DataFrame) -> SurveyJoin:
    join = panel.attrs[JOIN_ATTR]
    assert isinstance(join, SurveyJoin)
    return join


def test_stockholm_spelling_joins_the_upper_case_names(tmp_path: Path,
                                                       areas6: gpd.GeoDataFrame) -> None:
    assert sorted(areas6["name"]) == ["GAMLA STAN", "KUNGSHOLMEN", "NORRMALM", "RIDDARHOLMEN",
                                      "VASASTADEN", "ÖSTERMALM"]
    raw = read_survey(_survey(tmp_path, STOCKHOLM_NAMES), indicator="oro_brott")
    assert set(raw["indicator"]) == {"oro_brott"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # nothing left out, nothing to warn
        panel = survey_panel(raw, areas=areas6, min_n=1)
    got = panel.set_index("area_id")["share"].round(3).to_dict()
    assert got == {"gamla_stan": 0.105, "kungsholmen": 0.115, "norrmalm": 0.125,
                   "riddarholmen": 0.135, "vasastaden": 0.145, "ostermalm": 0.155}
    assert panel.set_index("area_id").loc["ostermalm", "n"] == 105
    join = _join(panel)
    assert join.ok and (join.n_rows, join.n_matched) == (6, 6)
    assert join.share_rows_matched == 1.0


def test_case_hyphens_spaces_and_the_builtin_alias_vasastan(tmp_path: Path,
                                                             areas6: gpd.GeoDataFrame) -> None:
    names = ["Gamla\u2013Stan", "  kungsholmen ", "NORRMALM", "Riddar-holmen", "Vasastan",
             "Östermalm\u00a0"]
    panel = survey_panel(read_survey(_survey(tmp_path, names), indicator="oro_brott"),
                         areas=areas6, min_n=1)
    assert sorted(panel["area_id"]) == sorted(IDS)
    assert panel.set_index("area_id").loc["vasastaden", "n"] == 104  # the "Vasastan" row
    assert _join(panel).ok
    assert AREA_ALIASES["Vasastan"] == "Vasastaden"


def test_unmatched_names_are_reported_and_left_out(tmp_path: Path,
                                                   areas6: gpd.GeoDataFrame) -> None:
    # 5 of 6 rows (83 %) join: the run goes on; "Cityy" is named, Östermalm has no rows
    names = STOCKHOLM_NAMES[:5] + ["Cityy"]
    raw = read_survey(_survey(tmp_path, names), indicator="oro_brott")
    with pytest.warns(DataQualityWarning, match=r"1 of 6 survey rows .*'Cityy' \(row 7\)"):
        panel = survey_panel(raw, areas=areas6, min_n=1)
    assert sorted(panel["area_id"]) == sorted(IDS[:5])
    join = _join(panel)
    assert join.unmatched_names[["name", "n_rows", "first_row"]].to_dict("records") == [
        {"name": "Cityy", "n_rows": 1, "first_row": 7}]
    assert join.areas_without_rows.to_dict("records") == [
        {"area_id": "ostermalm", "name": "ÖSTERMALM"}]
    assert join.share_rows_matched == pytest.approx(5 / 6)
    assert not join.ok


def test_a_user_alias_joins_a_name(tmp_path: Path, areas6: gpd.GeoDataFrame) -> None:
    names = STOCKHOLM_NAMES[:5] + ["City"]
    raw = read_survey(_survey(tmp_path, names), indicator="oro_brott")
    panel = survey_panel(raw, areas=areas6, min_n=1, aliases={"city": "ÖSTERMALM"})
    assert sorted(panel["area_id"]) == sorted(IDS)
    assert panel.set_index("area_id").loc["ostermalm", "n"] == 105
    assert _join(panel).ok
    # a user alias may point to an id, and overrides a built-in one
    keys = pd.Series(["Vasastan", "City"])
    assert match_area_keys(keys, areas6, aliases={"Vasastan": "norrmalm", "CITY": "norrmalm"}
                           ).tolist() == ["norrmalm", "norrmalm"]


def test_a_user_alias_to_no_area_is_refused(tmp_path: Path, areas6: gpd.GeoDataFrame) -> None:
    raw = read_survey(_survey(tmp_path, STOCKHOLM_NAMES), indicator="oro_brott")
    with pytest.raises(InputError, match=r"\[survey\] aliases.*'City' = 'Östermalmm'.*"
                       r"Fix: .*\"City\" = \"ÖSTERMALM\""):
        survey_panel(raw, areas=areas6, aliases={"City": "Östermalmm"})


def test_fewer_than_80_percent_matched_is_refused_with_the_names_and_the_fix(
        tmp_path: Path, areas6: gpd.GeoDataFrame) -> None:
    # 4 of 6 rows (67 %) join; "Östermalmm" is named with its closest area as the alias to add
    names = STOCKHOLM_NAMES[:4] + ["Östermalmm", "Lärkstan"]
    raw = read_survey(_survey(tmp_path, names), indicator="oro_brott")
    with pytest.raises(InputError) as e:
        survey_panel(raw, areas=areas6)
    msg = str(e.value)
    assert "only 4 of 6 survey rows (67%)" in msg and "at least 80%" in msg
    assert "'Östermalmm' (row 6), 'Lärkstan' (row 7)" in msg
    assert str(tmp_path / "oro.csv") in msg
    assert e.value.fix is not None and "[survey.aliases]" in e.value.fix
    assert '"Östermalmm" = "ÖSTERMALM"' in e.value.fix
    # the threshold is a parameter
    with pytest.warns(DataQualityWarning, match="2 of 6 survey rows"):
        panel = survey_panel(raw, areas=areas6, min_n=1, min_matched=0.5)
    assert len(panel) == 4


def test_names_repeated_over_waves_are_counted_per_name(tmp_path: Path,
                                                        areas6: gpd.GeoDataFrame) -> None:
    text = "Stadsdel;År;Indikator;Antal svar;Andel (%)\n" + "".join(
        f"{n};{w};oro_brott;100;10\n" for w in (2017, 2020) for n in STOCKHOLM_NAMES[:5] + ["X"])
    p = tmp_path / "two_waves.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.warns(DataQualityWarning):
        panel = survey_panel(read_survey(p), areas=areas6, min_n=1)
    assert _join(panel).unmatched_names[["name", "n_rows", "first_row"]].to_dict("records") == [
        {"name": "X", "n_rows": 2, "first_row": 7}]
    assert _join(panel).unmatched_text() == "'X' (2 rows from row 7)"
    assert len(panel) == 10


def test_one_question_per_file_needs_the_indicator(tmp_path: Path) -> None:
    p = _survey(tmp_path, ["Rinkeby", "Tensta"])
    df = read_survey(p, indicator="otrygg_kvall")
    assert df["indicator"].tolist() == ["otrygg_kvall"] * 2
    assert df["share"].tolist() == [0.105, 0.115]
    with pytest.raises(MissingColumnError, match=r"indicator.*\[survey\] indicator"):
        read_survey(p)
    # a file that names its indicator keeps it
    q = _survey(tmp_path, ["Rinkeby"], name="with.csv", with_indicator=True)
    assert read_survey(q, indicator="otrygg_kvall")["indicator"].tolist() == ["oro_brott"]


def test_one_question_respondent_rows(tmp_path: Path, areas6: gpd.GeoDataFrame) -> None:
    p = tmp_path / "svar.csv"
    p.write_text("Stadsdel;År;Svar\nVasastan;2020;ja\nVasastan;2020;nej\nNorrmalm;2020;1\n"
                 "Gamla stan;2020;0\nÖstermalm;2020;1\n", encoding="utf-8")
    with pytest.raises(MissingColumnError, match="indicator"):
        read_survey(p)
    df = read_survey(p, indicator="trygg_hemvag")
    panel = survey_panel(df, areas=areas6, min_n=1)
    got = panel.set_index("area_id")[["indicator", "share", "n"]]
    assert got.loc["vasastaden"].tolist() == ["trygg_hemvag", 0.5, 2]
    assert sorted(panel["area_id"]) == ["gamla_stan", "norrmalm", "ostermalm", "vasastaden"]
    assert sorted(_join(panel).areas_without_rows["area_id"]) == ["kungsholmen", "riddarholmen"]


def test_reconcile_districts_uses_the_same_rule(areas6: gpd.GeoDataFrame) -> None:
    a = areas6.set_index("area_id")
    in_vasa = a.loc["vasastaden"].geometry.representative_point()
    in_norr = a.loc["norrmalm"].geometry.representative_point()
    placed = gpd.GeoDataFrame(
        {"district": ["Vasastan", "City", "VASASTADEN"], "geocode_method": ["exact"] * 3,
         "geocode_flag": [""] * 3},
        geometry=[Point(in_vasa.x, in_vasa.y), Point(in_norr.x, in_norr.y),
                  Point(in_norr.x, in_norr.y)], crs=areas6.crs)
    out = reconcile_districts(placed, areas6)
    # "Vasastan" is Vasastaden (built-in alias); "City" is no area; the third is a mismatch
    assert out["geocode_flag"].tolist() == ["", "", "district_mismatch"]
    out = reconcile_districts(placed, areas6, aliases={"City": "Östermalm"})
    assert out["geocode_flag"].tolist() == ["", "district_mismatch", "district_mismatch"]
    line = LineString([(in_vasa.x, in_vasa.y), (in_norr.x, in_norr.y)])
    street = gpd.GeoDataFrame({"district": ["Vasastan"], "geocode_method": ["street"],
                               "geocode_flag": ["street_level"]}, geometry=[line], crs=areas6.crs)
    clipped = reconcile_districts(street, areas6)
    # the street is cut to the district the register names through the alias
    assert clipped["geocode_flag"].iloc[0].startswith("street_level,")
    assert "district_mismatch" not in clipped["geocode_flag"].iloc[0]
    assert clipped.geometry.iloc[0].length < line.length - 1
    assert clipped.geometry.iloc[0].within(a.loc["vasastaden"].geometry.buffer(0.01))


def test_config_survey_aliases(tmp_path: Path) -> None:
    base = ('[areas]\npath = "a.gpkg"\n[register]\npath = "r.csv"\n[gazetteer]\npath = "g.osm"\n'
            '[survey]\npath = "s.csv"\n')
    p = tmp_path / "projekt.toml"
    p.write_text(base + '[survey.aliases]\n"City" = "Norrmalm"\n"Söder" = "sodermalm"\n',
                 encoding="utf-8")
    assert load_config(p).survey.aliases == {"City": "Norrmalm", "Söder": "sodermalm"}
    p.write_text(base.replace('path = "s.csv"\n', 'path = "s.csv"\naliases = "Vasastan"\n'),
                 encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[survey\] aliases = \"Vasastan\" is text.*"
                       r"must be a table.*Fix: write \[survey.aliases\]"):
        load_config(p)
    p.write_text(base + '[survey.aliases]\n"City" = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[survey.aliases\] \"City\" = 3 is a whole number"):
        load_config(p)
    p.write_text(base + '[survey.aliases]\n"City" = ""\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\"City\" = \"\" is empty text"):
        load_config(p)


def test_every_builtin_alias_names_a_real_stockholm_district(shared_data: Path) -> None:
    areas = read_areas(shared_data / "stockholm_stadsdelar" / "stadsdelar.shp", report="log")
    assert len(areas) == 117
    keys = pd.Series(list(AREA_ALIASES))
    got = dict(zip(keys, match_area_keys(keys, areas), strict=True))
    assert got["Vasastan"] == "vasastaden" and got["Söder"] == "sodermalm"
    assert got["Gärdet"] == "ladugardsgardet" and got["Skarpnäck"] == "skarpnacks_gard"
    assert got["Ulvsunda industriområde"] == "ulvsunda_industriomr"
    assert all(pd.notna(v) for v in got.values()), got
    # the survey's spelling of all 117 districts joins without an alias
    spelled = areas["name"].str.title().str.replace(" Och ", " och ")
    assert match_area_keys(spelled, areas).tolist() == areas["area_id"].tolist()
