"""The register's status column and its duplicate rows, and how totals count them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from trygg_geo import cli, report
from trygg_geo._errors import DataQualityWarning
from trygg_geo._i18n import texts
from trygg_geo.io import _status_code, read_register, register_duplicates
from trygg_geo.results import Results, bokslut


def _write(tmp_path: Path, lines: list[str], name: str = "reg.csv") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(("cell", "code"), [
    ("Klar", "completed"), ("Genomförd", "completed"), ("Avslutad", "completed"),
    ("KLART", "completed"), ("Klar 2021-05", "completed"), ("Återrapporterad", "completed"),
    ("Pågående", "ongoing"), ("Påbörjad", "ongoing"), ("Startad", "ongoing"),
    ("Ej klar", "ongoing"), ("Under genomförande", "ongoing"),
    ("Avbruten", "cancelled"), ("Inställd", "cancelled"), ("Struken", "cancelled"),
    ("Avslutad utan åtgärd", "cancelled"), ("Ej genomförd", "cancelled"),
    ("Planerad", "planned"), ("Beviljad", "planned"), ("Ej påbörjad", "planned"),
    ("Completed", "completed"), ("In progress", "ongoing"),
    ("Se kommentar", None), ("Ej besiktigad", None), ("Klar/avbruten", None), ("", None),
])
def test_status_words(cell: str, code: str | None) -> None:
    assert _status_code(cell) == code


def test_status_column_is_read_and_checked_against_dates(tmp_path: Path) -> None:
    p = _write(tmp_path, [
        "Projekt-ID;Åtgärd;Adress;Färdigställd;Projektstatus",
        "A;Belysning;Storgatan 1;2021-06-30;Klar",
        "B;Belysning;Storgatan 2;;Pågående",
        "C;Belysning;Storgatan 3;2021-09-01;Avbruten",
        "D;Belysning;Storgatan 4;;Beviljad",
        "E;Belysning;Storgatan 5;2020-05-05;Se kommentar",
        "F;Belysning;Storgatan 6;;Se kommentar",
        "G;Belysning;Storgatan 7;2019-01-01;",
        "H;Belysning;Storgatan 8;2019-01-01;Pågående",
        "I;Belysning;Storgatan 9;;Klar",
    ])
    with pytest.warns(DataQualityWarning,
                      match=r"'Projektstatus': 2 status value\(s\) .*first: row 6; "
                      r"values: 'Se kommentar'"):
        reg = read_register(p)
    assert reg["status"].tolist() == ["completed", "ongoing", "cancelled", "planned",
                                      "completed", pd.NA, "completed", "ongoing", "completed"]
    assert reg["status"].dtype == "string"
    # a cancelled row keeps its date, flagged
    assert reg.loc[2, "completed"] == pd.Timestamp("2021-09-01")
    assert reg["read_flag"].tolist() == [
        "", "", "cancelled_with_date", "", "status_unknown", "status_unknown", "",
        "status_date_conflict", "completed_without_date"]
    cols = list(reg.columns)
    assert cols.index("status") == cols.index("completed") + 1


def test_without_a_status_column_the_date_decides(tmp_path: Path) -> None:
    p = _write(tmp_path, ["Projekt-ID;Åtgärd;Adress;Färdigställd",
                          "A;Belysning;Storgatan 1;2021-06-30", "B;Belysning;Storgatan 2;"])
    reg = read_register(p)
    assert reg["status"].tolist() == ["completed", pd.NA]
    assert reg["read_flag"].tolist() == ["", ""]


def test_lage_is_a_status_only_when_it_holds_status_words(tmp_path: Path) -> None:
    status = _write(tmp_path, ["Projekt-ID;Åtgärd;Adress;Läge",
                               "A;Belysning;Storgatan 1;Avbruten", "B;Belysning;Storgatan 2;Klar"])
    assert read_register(status)["status"].tolist() == ["cancelled", "completed"]
    place = _write(tmp_path, ["Projekt-ID;Åtgärd;Adress;Läge;Klar",
                              "A;Belysning;Storgatan 1;vid parken;2021-01-01",
                              "B;Belysning;Storgatan 2;norra delen;"], "place.csv")
    reg = read_register(place)
    assert reg["status"].tolist() == ["completed", pd.NA]
    assert reg["read_flag"].tolist() == ["", ""]
    # without another address column, Läge is the address
    only = _write(tmp_path, ["Projekt-ID;Åtgärd;Läge", "A;Belysning;Storgatan 1"], "only.csv")
    reg = read_register(only)
    assert reg.loc[0, "address"] == "Storgatan 1" and pd.isna(reg.loc[0, "status"])
    # named in the config, the column is read as the status whatever it holds
    with pytest.warns(DataQualityWarning, match="'norra delen', 'vid parken'"):
        named = read_register(place, columns={"status": "Läge", "address": "Adress"})
    assert named["read_flag"].tolist() == ["status_unknown", "status_unknown"]


REG = [
    "Projekt-ID;Åtgärd;Adress;Beviljat;Nyttjat;Färdigställd",
    "A;Belysning;Storgatan 1;100 000;90 000;2021-06-30",     # row 2
    "B;Slyröjning;Ekvägen 2;50 000;50 000;2021-08-01",       # row 3
    "A;Belysning;Storgatan 1;100 000;90 000;2021-06-30",     # row 4: exact copy of row 2
    "C;Kamera;Torget;200 000;180 000;2021-05-01",            # row 5
    "C;Kamera;Torget;200 000;225 000;2021-05-01",            # row 6: id C, other amount
    " A ;Belysning;Storgatan 1 ;100 000;90 000;2021-06-30",  # row 7: copy (spaces trimmed)
    "C;Kamera;Torget;200 000;180 000;2021-05-01",            # row 8: copy of row 5 (id C)
]


def _dup_register(tmp_path: Path) -> pd.DataFrame:
    with pytest.warns(DataQualityWarning) as rec:
        reg = read_register(_write(tmp_path, REG))
    messages = [str(w.message) for w in rec]
    assert any("3 row(s) repeat an earlier row exactly: 4 (= row 2), 7 (= row 2), 8 (= row 5)"
               in m for m in messages), messages
    assert any("1 id(s) are on rows with different contents: 'C' (rows 5, 6, 8)" in m
               for m in messages), messages
    return reg


def test_duplicates_are_flagged_with_the_first_row(tmp_path: Path) -> None:
    reg = _dup_register(tmp_path)
    assert len(reg) == 7  # nothing dropped
    assert reg["duplicate_of"].dtype == "Int64"
    assert reg["duplicate_of"].tolist() == [pd.NA, pd.NA, 2, pd.NA, pd.NA, 2, 5]
    assert reg["read_flag"].tolist() == ["", "", "duplicate", "duplicate_id", "duplicate_id",
                                         "duplicate", "duplicate,duplicate_id"]
    d = register_duplicates(reg)
    assert d["source_row"].tolist() == [4, 5, 6, 7, 8]
    assert d["flag"].tolist() == ["duplicate", "duplicate_id", "duplicate_id", "duplicate",
                                  "duplicate"]
    assert d["duplicate_of"].tolist() == [2, pd.NA, pd.NA, 2, 5]
    assert d["same_id_rows"].tolist() == ["", "6, 8", "5, 8", "", ""]


def test_rows_without_an_id_are_duplicates_only_when_equal(tmp_path: Path) -> None:
    p = _write(tmp_path, ["Åtgärd;Adress;Beviljat", "Belysning;Storgatan 1;100",
                          "Belysning;Storgatan 1;100", "Belysning;Storgatan 1;200"])
    with pytest.warns(DataQualityWarning, match="1 row"):
        reg = read_register(p)
    assert reg["investment_id"].tolist() == ["rad-2", "rad-3", "rad-4"]
    assert reg["duplicate_of"].tolist() == [pd.NA, 2, pd.NA]
    assert reg["read_flag"].tolist() == ["", "duplicate", ""]  # generated ids are not reused ids


def _results(reg: pd.DataFrame) -> SimpleNamespace:
    placed = gpd.GeoDataFrame(reg.copy(), geometry=[Point(i, i) for i in range(len(reg))],
                              crs=3006)
    effects = pd.DataFrame({"scope": pd.Series(dtype=str), "kind": pd.Series(dtype=str),
                            "estimate": pd.Series(dtype=float), "ci_low": pd.Series(dtype=float),
                            "ci_high": pd.Series(dtype=float)})
    return SimpleNamespace(register=reg, placed=placed, unplaced=reg.iloc[0:0], effects=effects,
                           areas=None, roles=None, hotspots=None,
                           config=SimpleNamespace(survey=SimpleNamespace(indicator="otrygg"),
                                                  output=SimpleNamespace(report_rows_per_area=50,
                                                                         report_max_rows=300)))


def test_bokslut_counts_an_exact_duplicate_once(tmp_path: Path) -> None:
    reg = _dup_register(tmp_path)
    bk = bokslut(_results(reg))  # type: ignore[arg-type]
    by_kind = bk.set_index("kind")
    assert by_kind.loc["belysning", "n"] == 1  # rows 2, 4, 7: one investment
    assert by_kind.loc["belysning", "granted_sek"] == 100_000
    assert by_kind.loc["kamerabevakning", "n"] == 2  # rows 5 and 6 differ; row 8 copies 5
    assert by_kind.loc["kamerabevakning", "spent_sek"] == 180_000 + 225_000
    assert bk["n"].sum() == 4 and bk["granted_sek"].sum() == 550_000


def test_report_money_and_duplicate_list_count_once(tmp_path: Path) -> None:
    reg = _dup_register(tmp_path)
    res = _results(reg)
    t = texts("report.", "sv", level=0.95)
    summary = report._summary_blocks(res, t, "sv")  # type: ignore[arg-type]
    money = summary[2].content
    # rows 4, 7 and 8 copy rows 2 and 5: 550 000 granted (not 950 000), 545 000 spent
    assert money.startswith("Beviljat totalt 550\u00a0000\u00a0kr, nyttjat 545\u00a0000\u00a0kr;")
    blocks = report._register_check_blocks(res, t, "sv")  # type: ignore[arg-type]
    assert [b.content for b in blocks if b.kind == "h2"] == ["Dubbletter i registret"]
    table = blocks[-1].content
    assert table["Rad"].tolist() == [4, 5, 6, 7, 8]
    assert table["Dubblett"].tolist() == [
        "exakt kopia av rad 2; räknas inte igen",
        "samma projekt-id som rad 6, 8 men annat innehåll; räknas",
        "samma projekt-id som rad 5, 8 men annat innehåll; räknas",
        "exakt kopia av rad 2; räknas inte igen",
        "exakt kopia av rad 5; räknas inte igen"]
    en = report._register_check_blocks(res, texts("report.", "en", level=0.95), "en")  # type: ignore[arg-type]
    assert en[-1].content["Duplicate"].iloc[0] == "exact copy of row 2; not counted again"
    lines = cli._register_lines(reg, "sv")
    assert lines[0] == ("Exakta kopior av tidigare rader (3), räknas en gång: "
                        "4 (= 2), 7 (= 2), 8 (= 5).")
    assert lines[1] == ("Rader som delar projekt-id med annat innehåll (2; behålls och räknas): "
                        "5 (C), 6 (C).")


def test_tables_carry_the_register_status(tmp_path: Path) -> None:
    p = _write(tmp_path, ["Projekt-ID;Åtgärd;Adress;Färdigställd;Status",
                          "A;Belysning;Storgatan 1;2021-06-30;Klar",
                          "B;Belysning;Storgatan 2;2021-06-30;Avbruten",
                          "C;Belysning;Storgatan 3;;Pågående"])
    reg = read_register(p)
    tables = Results.tables(_results(reg))  # type: ignore[arg-type]
    assert tables["investments"]["status"].tolist() == ["completed", "cancelled", "ongoing"]
    old = reg.drop(columns="status")  # a register from before the status column
    tables = Results.tables(_results(old))  # type: ignore[arg-type]
    assert tables["investments"]["status"].tolist() == ["completed", "completed", pd.NA]
    t = texts("report.", "sv", level=0.95)
    assert [report._done(r, t, "sv") for _, r in reg.iterrows()] == [
        "ja (2021-06-30)", "avbruten (2021-06-30)", "pågående"]
    assert np.array_equal(reg["completed"].notna().to_numpy(), [True, True, False])
