"""The one table of sv/en texts and the one number format (trygg_geo._i18n)."""

from __future__ import annotations

import math
import string
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import CRS

from trygg_geo import (
    _i18n,
    _map_places,
    cli,
    disclosure,
    init_project,
    lagesbild,
    maps,
    places,
    report,
)
from trygg_geo._i18n import (
    LANGS,
    TEXTS,
    fmt_number,
    fmt_p,
    fmt_percent,
    fmt_pp,
    fmt_sek,
    text,
    texts,
)
from trygg_geo.density import DensityRaster
from trygg_geo.effects.displacement import INTERPRETATIONS
from trygg_geo.interventions import CATALOGUE, UNKNOWN_KIND
from trygg_geo.layers import _qml
from trygg_geo.plan import VERDICTS

NBSP, MINUS, DASH = "\u00a0", "\u2212", "\u2013"


def _fields(template: str) -> set[tuple[str, str]]:
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template)
            if name is not None}


def test_every_key_has_both_languages_non_empty() -> None:
    assert len(TEXTS) > 150
    for key, by_lang in TEXTS.items():
        assert set(by_lang) == set(LANGS), key
        for lang in LANGS:
            assert by_lang[lang].strip(), (key, lang)
        assert key == key.strip() and "." in key, key


def test_placeholders_and_level_token_match_between_languages() -> None:
    for key, by_lang in TEXTS.items():
        assert _fields(by_lang["sv"]) == _fields(by_lang["en"]), key
        assert (_i18n.LEVEL in by_lang["sv"]) == (_i18n.LEVEL in by_lang["en"]), key


def test_keys_the_pipeline_and_design_use_exist() -> None:
    for step in ("areas", "register", "geocode", "survey", "design", "effects", "incidents",
                 "write"):
        assert text(f"progress.{step}", "sv") and text(f"progress.{step}", "en")
    assert text("progress.areas", "sv") == "Läser områden"
    assert text("progress.write", "en") == "Writing map, GeoPackage and report"
    assert text("effects.no_estimate", "sv").startswith("Ingen skattning: mätning saknas")
    assert text("role.unplaced_investment", "sv") == (
        "En investering här kunde inte placeras, så området kan vara behandlat.")
    assert text("role.small_survey_cell", "sv") == (
        "Färre svar än min_n i en mätvåg, så området används inte som kontroll.")
    assert "could not be placed" in text("role.unplaced_investment", "en")
    for code in ("investment_in_window", "treated_before_window", "completion_date_missing",
                 "adjacent_to_treated", "within_distance", "partial_overlap",
                 "investment_after_window", "never_treated", "empty_geometry",
                 "outside_all_areas"):
        assert text(f"role.{code}", "sv") != text(f"role.{code}", "en"), code


def test_text_fills_values_and_never_evaluates_them() -> None:
    assert text("report.run_id", "en", run_id="R1") == "Run R1."
    for evil in ("{x}", "{{", "}}", "{0}", "{run_id}", "[[level]]", "{__class__}"):
        assert text("report.run_id", "sv", run_id=evil) == f"Körning {evil}."
    out = text("report.sig_down", "sv", level=0.9, label="[[level]] {nt}", pp="1,0", lo="a",
               hi="b", nt=3, nc_text="4 kontrollområden")
    assert out.startswith("[[level]] {nt}: andelen minskade") and "(90 % KI a till b; 3 " in out


def test_text_errors_are_clear() -> None:
    with pytest.raises(KeyError, match="report.titel.*report.title"):
        text("report.titel", "sv")
    with pytest.raises(KeyError, match="needs a value for 'run_id'"):
        text("report.run_id", "sv")
    with pytest.raises(ValueError, match="level="):
        text("map.ci", "sv")
    with pytest.raises(ValueError, match="'de'"):
        text("map.ci", "de", level=0.95)


def test_texts_groups_by_prefix_and_fills_the_level() -> None:
    t = texts("map.", "sv", level=0.9)
    assert t["ci"] == "90 % KI" and t["title"] == "Trygghetsinvesteringar"
    assert texts("map.", "en")["ci"] == "[[level]] CI"  # no level given: token kept
    assert list(texts("report.method_text", "en")) == ["1", "2", "3", "4", "5"]
    with pytest.raises(KeyError):
        texts("nothing.", "sv")


def test_fmt_sek_swedish_and_english() -> None:
    assert fmt_sek(1234567.5, "sv") == f"1{NBSP}234{NBSP}568{NBSP}kr"
    assert fmt_sek(1234567.5, "en") == f"SEK{NBSP}1,234,568"
    assert fmt_sek(-2500, "sv") == f"{MINUS}2{NBSP}500{NBSP}kr"
    assert fmt_number(1234567.5, 1, "sv") == f"1{NBSP}234{NBSP}567,5"
    assert fmt_number(1234567.5, 1, "en") == "1,234,567.5"
    assert " " not in fmt_sek(1234567.5, "sv")  # never a breaking space


def test_fmt_pp_signs() -> None:
    assert fmt_pp(0.0712) == "+7,1" and fmt_pp(-0.0712) == f"{MINUS}7,1"
    assert fmt_pp(0.0712, "en") == "+7.1"
    assert fmt_pp(0.0712, signed=False) == "7,1"
    assert fmt_pp(-0.0712, signed=False) == f"{MINUS}7,1"  # a minus is never dropped
    assert fmt_pp(-0.0001) == "0,0" and fmt_pp(0.0001) == "0,0"  # rounds to zero: no sign
    assert fmt_pp(0.05, decimals=0) == "+5"


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, math.inf,
                                     -math.inf, np.float64("nan")])
def test_missing_numbers_are_an_en_dash(missing: object) -> None:
    for f in (fmt_sek, fmt_pp, fmt_percent, fmt_p):
        assert f(missing, "sv") == DASH and f(missing, "en") == DASH
    assert fmt_number(missing, 2, "sv") == DASH


def test_percent_and_p_values() -> None:
    assert fmt_percent(0.955, "sv") == "96 %" and fmt_percent(0.955, "en", 1) == "95.5%"
    assert fmt_p(0.0004, "sv") == "<0,001" and fmt_p(0.0123, "en") == "0.012"


def test_report_map_and_cli_share_the_formatter() -> None:
    assert maps.format_sek is fmt_sek and report.fmt_sek is fmt_sek
    assert maps.format_pp is fmt_pp and report.fmt_pp is fmt_pp
    assert report.text is text and cli.text is text


def test_report_and_map_show_the_same_number_the_same_way() -> None:
    """The same effect is written identically in a report sentence and a map popup."""
    row = pd.Series({"estimate": -0.0712, "ci_low": -0.1034, "ci_high": -0.0391, "mde": 0.035,
                     "n_treated": 4, "n_control": 12, "level": 0.95})
    sentence = report.plain_effect(row, label="Belysning", lang="sv")
    popup = maps._change_text(row["estimate"], row["ci_low"], row["ci_high"],
                              texts("map.", "sv", level=0.95), "sv")
    assert f"KI {MINUS}10,3 till {MINUS}3,9" in sentence
    assert popup == f"{MINUS}7,1 procentenheter (95 % KI {MINUS}10,3 till {MINUS}3,9)"
    assert "minskade med 7,1 procentenheter" in sentence  # the size, without its sign


def test_modules_take_their_texts_from_the_table() -> None:
    assert maps.TEXT["sv"]["treated"] == TEXTS["map.treated"]["sv"]
    assert maps.TEXT["en"]["ci"] == "[[level]] CI"
    assert disclosure.SUPPRESSED_REASON["en"] == TEXTS["disclosure.suppressed"]["en"]
    for code, (_, en, sv) in INTERPRETATIONS.items():
        assert (sv, en) == (text(f"wdq.{code}", "sv"), text(f"wdq.{code}", "en"))
    for kind in [*CATALOGUE.values(), UNKNOWN_KIND]:
        assert kind.label("sv") == text(f"kind.{kind.id}", "sv")
        assert kind.label("en") == text(f"kind.{kind.id}", "en")
    assert CATALOGUE["belysning"].label_en == "Lighting"
    assert _map_places._T["sv"]["ranking"] == TEXTS["places_map.ranking"]["sv"]
    assert lagesbild._NOTES["no_osm"]["en"] == TEXTS["lagesbild.no_osm"]["en"]
    assert places._REASON_TEXT["no_location"]["sv"] == TEXTS["places.no_location"]["sv"]
    assert VERDICTS == {c: {lang: text(f"plan_verdict.{c}", lang) for lang in LANGS}
                        for c in ("matbar", "matbar_sammanslagen", "inte_matbar")}
    assert cli._say("init_quiet", "de", config="p.toml", n=6) == text(
        "cli.init_quiet", "sv", config="p.toml", n=6)
    err = init_project.FolderNotEmptyError(init_project.Path("x"), ["a.txt"])
    assert str(err) == text("init.folder_not_empty", "en", folder="x", shown="a.txt",
                            config="projekt.toml", files=", ".join(init_project.FILES))
    assert _qml.HOTSPOT_CLASSES[0][2:] == (TEXTS["qml.hot_99"]["sv"], "Hot spot (99%)")
    assert _qml._OTHER["en"] == TEXTS["qml.other_values"]["en"]


def test_density_description_in_both_languages() -> None:
    r = DensityRaster(np.zeros((2, 2)), Affine.identity(), CRS.from_epsg(3006), bandwidth=412.4,
                      cell_size=25.0, kernel="quartic", n_points=900)
    assert r.describe(lang="sv") == (
        "Täthet av händelser (antal per km²); kärna quartic, bandbredd 412 m, cell 25 m, n=900")
    assert r.describe(lang="en") == (
        "Incident density (incidents per km²); quartic kernel, bandwidth 412 m, cell 25 m, "
        "n=900")
    assert "(hits per ha)" in replace(r, unit="hits per ha").describe(lang="sv")
