"""Warnings and errors about the user's input in Swedish and English (issue 11, point 8).

The readers raise their warnings and errors with a text key and values
(:class:`trygg_geo._errors.Msg`); ``str()`` stays English, the command line renders them in
the run's language. These tests check the key table, the rendering, the readers' texts in both
languages, the survey join's alias suggestions and total rows, and the CLI in ``--lang en``.
"""

from __future__ import annotations

import re
import string
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from trygg_geo import cli
from trygg_geo._crs import require_crs
from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    InputError,
    MissingColumnError,
    MissingFileError,
    Msg,
    render,
)
from trygg_geo._i18n import TEXTS
from trygg_geo.areas import closest_area_name, is_total_name
from trygg_geo.io import read_register
from trygg_geo.survey import survey_panel

#: The key groups of the readers' warnings and errors.
PREFIXES = ("err.", "warn.", "what.", "survey.name", "areas.", "cli.survey_totals")


def _fields(template: str) -> set[str]:
    return {f.split(".")[0].split("[")[0].split("!")[0]
            for _, f, _, _ in string.Formatter().parse(template) if f}


def _keys() -> list[str]:
    return sorted(k for k in TEXTS if k.startswith(PREFIXES))


def test_every_warning_and_error_key_has_sv_and_en() -> None:
    keys = _keys()
    assert len(keys) > 60
    for k in keys:
        assert set(TEXTS[k]) == {"sv", "en"}, k
        assert TEXTS[k]["sv"].strip() or k in {"err.join"}, k
        # both languages are filled from the same values
        assert _fields(TEXTS[k]["sv"]) == _fields(TEXTS[k]["en"]), k


def test_every_key_the_code_uses_exists() -> None:
    root = Path(__file__).resolve().parents[1] / "trygg_geo"
    used: set[str] = set()
    for py in root.rglob("*.py"):
        used |= set(re.findall(r"\bmsg\(\s*[f]?\"((?:err|warn|survey|areas)\.[\w.]+)\"",
                               py.read_text(encoding="utf-8")))
    assert used, "no message keys found in the code"
    assert not sorted(used - set(TEXTS)), "keys used in the code but missing from TEXTS"


def test_located_error_renders_where_and_fix_in_both_languages() -> None:
    exc = InputError(Msg("err.register_empty"), file="investeringar.csv", row=4, column="Status",
                     key="register.columns", fix=Msg("err.register_empty.fix"))
    assert str(exc) == (
        "file 'investeringar.csv', [register] columns, row 4, column 'Status': the investment "
        "register has a header but no rows. Fix: check that the right sheet or file was "
        "exported.")
    assert render(exc, "sv") == (
        "filen 'investeringar.csv', [register] columns, rad 4, kolumnen 'Status': "
        "investeringsregistret har en rubrikrad men inga rader. Gör så här: kontrollera att "
        "rätt blad eller fil exporterades.")
    assert exc.fix == "check that the right sheet or file was exported."
    # a message not yet in the text table stays English as a whole: no half-Swedish line
    plain = InputError("bad value.", row=2, fix="fix it.")
    assert render(plain, "sv") == "row 2: bad value. Fix: fix it."


def test_missing_column_and_missing_file_in_swedish(tmp_path: Path) -> None:
    exc = MissingColumnError("kind", found=["a", "b"], file="x.csv", accepted=["Åtgärd"],
                             config_key="register.columns")
    assert "the required column 'kind' is missing. Columns found: 'a', 'b'." in str(exc)
    assert render(exc, "sv") == (
        "filen 'x.csv', kolumnen 'kind': den obligatoriska kolumnen 'kind' saknas. Kolumner i "
        "filen: 'a', 'b'. Rubriker som känns igen: Åtgärd. Gör så här: byt namn på en kolumn "
        "till 'kind', eller ange kolumnen i projekt.toml under [register.columns].")
    missing = MissingFileError(tmp_path / "nej" / "omr.shp", what="area layer")
    assert str(missing).startswith(f"The area layer '{tmp_path / 'nej' / 'omr.shp'}' does not")
    assert render(missing, "sv").startswith(f"Områdeslagret '{tmp_path / 'nej' / 'omr.shp'}' "
                                            "finns inte. Mappen")


def test_require_crs_takes_the_callers_fix() -> None:
    with pytest.raises(CRSError) as info:
        require_crs(None, what="the population raster", file="pop.tif",
                    fix=Msg("err.raster_crs.fix"))
    assert "Fix: the raster file has no CRS: save it again with one" in str(info.value)
    assert "gdal_edit.py -a_srs EPSG:3006" in str(info.value)
    assert "Gör så här: rasterfilen saknar koordinatsystem" in render(info.value, "sv")
    with pytest.raises(CRSError, match=r"or set incidents.crs in projekt.toml\.$"):
        require_crs(None, what="the incident table", file="h.csv", key="incidents.crs")


def test_points_crs_error_names_points_crs() -> None:
    areas = gpd.GeoDataFrame({"area_id": ["a"], "name": ["A"]}, geometry=[box(0, 0, 1, 1)])
    raw = pd.DataFrame({"area_id": [None], "wave": [2020], "indicator": ["oro_brott"],
                        "answer": [1.0], "x": [0.5], "y": [0.5]})
    with pytest.raises(CRSError, match=r"Fix: give the CRS of the respondents' x/y with "
                                       r"points_crs="):
        survey_panel(raw, areas=areas)


REGISTER = (
    "Projekt-id;Åtgärd;Adress;Färdigställd;Status\n"
    "A;Belysning;Storgatan 1;2021-05-01;Klar\n"
    "B;Belysning;Storgatan 2;2021-05-01;Klar\n"
    "A;Belysning;Storgatan 9;2021-05-01;Klar\n"
    "B;Belysning;Storgatan 2;2021-05-01;Klar\n"
    "C;Belysning;Storgatan 3;inte ett datum;Klar\n"
)


def test_register_warnings_in_both_languages(tmp_path: Path) -> None:
    path = tmp_path / "investeringar.csv"
    path.write_text(REGISTER, encoding="cp1252")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_register(path)
    ours = [w.message for w in caught if isinstance(w.message, DataQualityWarning)]
    by_en = {str(m): m for m in ours}
    dup = next(m for t, m in by_en.items() if "repeat an earlier row exactly" in t)
    assert str(dup) == (f"'{path}': 1 row(s) repeat an earlier row exactly: 5 (= row 3). They "
                        "are kept, flagged duplicate, and counted once.")
    assert render(dup, "sv") == (f"'{path}': 1 rad upprepar en tidigare rad exakt: 5 (= rad 3). "
                                 "Den behålls, flaggas som dubblett och räknas en gång.")
    ids = next(m for t, m in by_en.items() if "different contents" in t)
    assert render(ids, "sv").startswith(f"'{path}': 1 projekt-id står på rader med olika "
                                        "innehåll: 'A' (rader 2, 4). Alla rader behålls")
    date = next(m for t, m in by_en.items() if "is not a date" in t)
    assert render(date, "sv") == (
        f"'{path}', rad 6, kolumnen 'Färdigställd': 'inte ett datum' är inget datum (skriv "
        "t.ex. 2021-03-15); värdet lämnas tomt; raden behålls och flaggas.")


def _areas() -> gpd.GeoDataFrame:
    names = ["VASASTADEN", "SÄTRA", "KISTA", "ÖSTERMALM"]
    return gpd.GeoDataFrame({"area_id": [n.lower() for n in names], "name": names},
                            geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:3011")


def test_alias_suggested_only_when_convincing() -> None:
    areas = _areas()
    assert closest_area_name("Östermalms stadsdel", areas, min_score=80) == "ÖSTERMALM"
    assert closest_area_name("Stockholms stad", areas) == "SÄTRA"  # the old nonsense
    assert closest_area_name("Stockholms stad", areas, min_score=80) is None
    assert closest_area_name("Lärkstan", areas, min_score=80) is None


@pytest.mark.parametrize("name", ["Stockholms stad", "Hela staden", "Totalt", "TOTALT",
                                  "Göteborgs stad", "Summa stadsdelar"])
def test_total_names(name: str) -> None:
    assert is_total_name(name)


@pytest.mark.parametrize("name", ["Östermalm", "Gamla stan", "Norra Djurgårdsstaden",
                                  "Lärkstan", "Stadshagen"])
def test_area_names_are_not_totals(name: str) -> None:
    assert not is_total_name(name)


def _survey(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"area_id": names, "wave": [2020] * len(names),
                         "indicator": ["oro_brott"] * len(names), "n": [100] * len(names),
                         "share": [0.2] * len(names), "source_row": range(2, 2 + len(names))})


def test_city_total_row_is_a_total_not_an_unmatched_name() -> None:
    raw = _survey(["Vasastaden", "Sätra", "Kista", "Östermalm", "Stockholms stad"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # a total row is no warning
        panel = survey_panel(raw, areas=_areas())
    join = panel.attrs["trygg_geo_survey_join"]
    assert join.unmatched_names.empty
    assert join.total_names[["name", "n_rows", "first_row"]].to_dict("records") == [
        {"name": "Stockholms stad", "n_rows": 1, "first_row": 6}]
    assert (join.n_rows, join.n_matched) == (4, 4)
    assert join.totals_text(lang="sv") == "'Stockholms stad' (rad 6)"
    assert sorted(panel["area_id"]) == ["kista", "sätra", "vasastaden", "östermalm"]


def test_unmatched_name_without_a_convincing_alias_gets_no_suggestion() -> None:
    raw = _survey(["Vasastaden", "Sätra", "Kista", "Östermalm", "Vasastaden", "Lärkstan"])
    raw["wave"] = [2020, 2020, 2020, 2020, 2023, 2020]
    with pytest.warns(DataQualityWarning) as rec:
        panel = survey_panel(raw, areas=_areas())
    join = panel.attrs["trygg_geo_survey_join"]
    assert join.unmatched_names["closest"].isna().all()
    w = rec[0].message
    assert "e.g." not in str(w) and "Fix: correct the names in the survey file" in str(w)
    assert render(w, "sv") == (
        "filen 'None': 1 av 6 enkätrader anger inget område i områdeslagret och lämnas utanför: "
        "'Lärkstan' (rad 7). Gör så här: rätta namnen i enkätfilen, eller lägg till dem under "
        "[survey.aliases] i projekt.toml med det område de avser.")


def test_cli_renders_errors_in_the_run_language(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "saknas.toml"
    assert cli.main(["run", str(missing), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trygg-geo: The project config") and "does not exist" in err
    assert cli.main(["run", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trygg-geo: Projektfilen '{missing}' finns inte.")
    assert "Gör så här:" in err and "Fix:" not in err


def test_cli_renders_warnings_in_the_run_language(capsys: pytest.CaptureFixture[str]) -> None:
    w = DataQualityWarning(Msg("warn.dup_rows", {
        "file": "investeringar.csv", "head": Msg("warn.dup_rows.head_one", {"n": 1}),
        "listed": [Msg("warn.dup_rows.item", {"row": 75, "of": 4})],
        "they": Msg("warn.dup_rows.one")}))
    for lang, line in (("sv", "varning: 'investeringar.csv': 1 rad upprepar en tidigare rad "
                              "exakt: 75 (= rad 4). Den behålls, flaggas som dubblett och räknas "
                              "en gång."),
                       ("en", "warning: 'investeringar.csv': 1 row(s) repeat an earlier row "
                              "exactly: 75 (= row 4). They are kept, flagged duplicate, and "
                              "counted once.")):
        cli._WARN["lang"] = lang
        cli._show_warning(w, DataQualityWarning, "/src/trygg_geo/io.py", 12)
        assert capsys.readouterr().err == line + "\n"
    cli._WARN["lang"] = "sv"
