"""The survey's area names as people write them (issue 11, point 1), through the command line.

The demo survey names each area by id ("SD01") and by name ("Strandvik"). Here the id column is
dropped and the names are written in other case, with odd spaces, misspelt or unknown; the run
joins what it can, names what it cannot, and refuses a survey it cannot join.
"""

from __future__ import annotations

import pandas as pd

SURVEY = "trygghetsmatning.csv"


def _names_only(df: pd.DataFrame) -> pd.DataFrame:
    """Drop the id column and write the names in upper, lower and spaced-out case by turns."""
    styles = [str.upper, str.lower, lambda s: f"  {s} "]
    df["Stadsdel"] = [styles[i % 3](n) for i, n in enumerate(df["Stadsdel"])]
    return df.drop(columns=["Områdes-id"])


def test_names_in_other_case_join_every_area(case):
    n_areas = case.read_csv(SURVEY)["Stadsdel"].nunique()
    case.edit_csv(SURVEY, _names_only)
    assert case.read_csv(SURVEY)["Stadsdel"].iloc[0] == "STRANDVIK"
    r = case.run().expect(0)
    assert "Enkätnamn utan område" not in r.out and "Områden utan enkätrader" not in r.out
    report = case.path("rapport.md").read_text(encoding="utf-8")
    rows = len(case.read_csv(SURVEY))
    assert f"{rows} av {rows} rader i trygghetsmätningen (100 %) matchade ett område" in report
    assert report.count("Inga.") >= 2  # no unmatched names, no areas without rows
    assert n_areas == 42


def test_an_unknown_name_is_named_and_its_area_listed(case):
    def rename(df):
        df = _names_only(df)
        df.loc[df["Stadsdel"].str.strip().str.lower() == "strandvik", "Stadsdel"] = "Strandwiik"
        return df
    case.edit_csv(SURVEY, rename)
    r = case.run().expect(0)
    assert "Enkätnamn utan område (1): 'Strandwiik' (12 rader från rad 2)" in r.out
    assert "Områden utan enkätrader (1): Strandvik" in r.out
    report = case.path("rapport.md").read_text(encoding="utf-8")
    assert "Strandwiik" in report and "Namn i enkäten" in report


def test_an_alias_in_the_config_joins_the_name(case):
    def rename(df):
        df = _names_only(df)
        df.loc[df["Stadsdel"].str.strip().str.lower() == "strandvik", "Stadsdel"] = "Sjöstaden"
        return df
    case.edit_csv(SURVEY, rename)
    case.edit_text("projekt.toml", lambda t: t + '\n[survey.aliases]\n"Sjöstaden" = "Strandvik"\n')
    r = case.run().expect(0)
    assert "Enkätnamn utan område" not in r.out and "Områden utan enkätrader" not in r.out


def test_a_survey_of_other_names_is_refused_with_the_alias_to_add(case):
    def rename(df):
        df["Stadsdel"] = df["Stadsdel"] + "s distrikt"
        return df.drop(columns=["Områdes-id"])
    case.edit_csv(SURVEY, rename)
    r = case.run().expect(2, SURVEY, "bara 0 av 504 enkätrader (0 %)", "[survey.aliases]",
                          "Gör så här:")
    assert "'Strandviks distrikt' (12 rader från rad 2)" in r.err
    assert '"Strandviks distrikt" = "Strandvik"' in r.err


def test_one_question_per_file_takes_the_configured_indicator(case):
    def one_question(df):
        df = df[df["Indikator"] == "otrygg_kvall"]
        return df.drop(columns=["Indikator"])
    case.edit_csv(SURVEY, one_question)
    case.run().expect(0)
    case.set_config("survey", "indicator", '"oro_brott"')  # any name: the file has one question
    case.run().expect(0)
