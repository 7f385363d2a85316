"""The register and incident readers on files kept the way municipalities keep them."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from trygg_geo._errors import DataQualityWarning
from trygg_geo._crs import parse_optional_crs
from trygg_geo.io import parse_crs, read_incidents, read_register

HEADER = "Dnr;Benämning;Åtgärdstyp;Gatuadress;Stadsdel;Sökande nämnd;Beviljat belopp (kr);Utfall (SEK);Startdatum;Färdigställt;Östlig;Nordlig;Koordinatsystem"
ROWS = [
    "2021/1;Ljus i parken;Gatubelysning;Storg. 12;Norrby;SDN Norr;1 250 000;1 100 000,50;2021-01-10;2021-06-30;;;",
    "2021/2;Röjning;sly;Ekvägen;Norrby;SDN Norr;80 000;;15/3 2021;;;;",
    '2021/3;"Kamera; torget";Trygghetskamera;;Söderby;SDN Syd;200000;199 999;2021-02;mars 2022;650123,5;6590456,25;SWEREF 99 TM',
]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_register_encodings_headers_numbers_dates(tmp_path: Path, encoding: str) -> None:
    p = _write(tmp_path / "reg.csv", "\r\n".join([HEADER, *ROWS]) + "\r\n", encoding)
    reg = read_register(p)
    assert list(reg["source_row"]) == [2, 3, 4]
    assert list(reg["investment_id"]) == ["2021/1", "2021/2", "2021/3"]
    assert list(reg["kind"]) == ["belysning", "slyrojning", "kamerabevakning"]
    assert reg["name"].iloc[2] == "Kamera; torget"  # a quoted separator stays in the cell
    np.testing.assert_allclose(reg["granted_sek"], [1_250_000, 80_000, 200_000])
    np.testing.assert_allclose(reg["spent_sek"], [1_100_000.5, np.nan, 199_999])
    assert reg["started"].tolist()[:2] == [pd.Timestamp("2021-01-10"), pd.Timestamp("2021-03-15")]
    assert reg["completed"].iloc[2] == pd.Timestamp("2022-03-01")
    assert pd.isna(reg["completed"].iloc[1])
    assert reg["x"].iloc[2] == 650123.5 and reg["y"].iloc[2] == 6590456.25
    assert reg["crs"].iloc[2] == "EPSG:3006"
    assert reg["address"].iloc[0] == "Storg. 12"
    assert reg["board"].iloc[0] == "SDN Norr" and reg["district"].iloc[2] == "Söderby"


def test_register_from_excel_keeps_sheet_rows(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "2021"
    ws.append(HEADER.split(";"))
    ws.append(["2021/1", "Ljus", "Belysning", "Storgatan 1", "Norrby", "SDN", 125000.5, 100000, pd.Timestamp("2021-01-10").to_pydatetime(), None, None, None, None])
    ws.append([None] * 13)  # a blank row keeps its number
    ws.append(["2021/2", "Sly", "Slyröjning", "Parken", "Norrby", "SDN", "80 000", None, "2021-03-01", "2021-05-01", None, None, None])
    p = tmp_path / "reg.xlsx"
    wb.save(p)
    reg = read_register(p, sheet="2021")
    assert list(reg["source_row"]) == [2, 4]
    assert reg["granted_sek"].tolist() == [125000.5, 80000.0]
    assert reg["started"].iloc[0] == pd.Timestamp("2021-01-10")


def test_nothing_is_dropped_bad_cells_are_flagged(tmp_path: Path) -> None:
    rows = [*ROWS, "2021/4;<script>alert(1)</script>;Konstverk;Torget 1;Söderby;SDN;tio tusen;;igår;;;;Gauss"]
    p = _write(tmp_path / "reg.csv", "\n".join([HEADER, *rows]) + "\n", "utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = read_register(p)
    assert len(reg) == 4
    last = reg.iloc[3]
    assert last["name"] == "<script>alert(1)</script>"  # data, untouched
    assert last["kind"] == "annat" and not last["kind_recognised"]
    assert set(last["read_flag"].split(",")) == {"kind_unknown", "bad_granted_sek", "bad_started", "bad_crs"}
    msgs = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert any("row 5" in m and "Beviljat belopp (kr)" in m and "tio tusen" in m for m in msgs)


def test_column_override_from_config(tmp_path: Path) -> None:
    p = _write(tmp_path / "reg.csv", "Löpnr;Vad;Var;Pengar\n7;ljus;Storgatan 1;100\n", "utf-8")
    reg = read_register(p, columns={"kind": "Vad", "address": "Var", "granted_sek": "Pengar"})
    assert reg.loc[0, "kind"] == "belysning" and reg.loc[0, "granted_sek"] == 100
    assert reg.loc[0, "investment_id"] == "7"


def test_duplicate_ids_are_flagged_not_merged(tmp_path: Path) -> None:
    # the same id with other contents (a corrected amount): both rows kept and flagged; an
    # exact copy is flagged duplicate instead (tests/test_register_status_duplicates.py)
    other = ROWS[0].replace("1 100 000,50", "1 150 000")
    p = _write(tmp_path / "reg.csv", "\n".join([HEADER, ROWS[0], other]) + "\n", "utf-8")
    with pytest.warns(DataQualityWarning, match="different contents"):
        reg = read_register(p)
    assert len(reg) == 2
    assert all("duplicate_id" in f for f in reg["read_flag"])
    assert reg["duplicate_of"].isna().all()


def test_parse_crs_variants() -> None:
    assert parse_crs("SWEREF 99 TM").to_epsg() == 3006
    assert parse_crs("sweref 99 18 00").to_epsg() == 3011
    assert parse_crs("EPSG:3008").to_epsg() == 3008
    assert parse_crs("WGS 84").to_epsg() == 4326
    # one contract: parse_crs refuses a blank value, parse_optional_crs reads it as "not given"
    assert parse_optional_crs("") is None
    with pytest.raises(CRSError, match="empty"):
        parse_crs("")
    with pytest.raises(ValueError):
        parse_crs("Gauss")


def test_incidents_csv(tmp_path: Path) -> None:
    p = _write(tmp_path / "h.csv", "Ärendenummer;Datum;Kategori;X;Y\nA1;2021-01-02;rån;650000,5;6590000\nA2;2021-02-03;klotter;650100;6590100\n", "utf-8-sig")
    inc = read_incidents(p, crs="EPSG:3006")
    assert inc.crs.to_epsg() == 3006
    assert list(inc["incident_id"]) == ["A1", "A2"] and list(inc["source_row"]) == [2, 3]
    assert inc.geometry.iloc[0].x == 650000.5
    assert inc["date"].iloc[1] == pd.Timestamp("2021-02-03")


def test_incidents_row_without_coordinates_is_named(tmp_path: Path) -> None:
    p = _write(tmp_path / "h.csv", "id;x;y\n1;650000;6590000\n2;;\n", "utf-8")
    from trygg_geo._errors import InputError

    with pytest.raises(InputError) as exc:
        read_incidents(p, crs=3006)
    assert exc.value.row == 3 and "no coordinates" in str(exc.value)


# --------------------------------------------------------------------------- bad input (issue 9)
import logging  # noqa: E402

from trygg_geo._errors import CRSError, InputError, MissingColumnError, TryggGeoError  # noqa: E402

SHORT = "Projekt-ID;Åtgärd;Adress;Beviljat (kr);Färdigställd"


def _reg(tmp_path: Path, *rows: str, header: str = SHORT, name: str = "reg.csv") -> pd.DataFrame:
    p = _write(tmp_path / name, "\n".join([header, *rows]) + "\n", "utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_register(p)


@pytest.mark.parametrize(("cell", "value", "flag"), [
    ("1 250 tkr", 1_250_000.0, "amount_scaled"),
    ("1,5 MSEK", 1_500_000.0, "amount_scaled"),
    ("2 mkr", 2_000_000.0, "amount_scaled"),
    ("3 Mkr", 3_000_000.0, "amount_scaled"),
    ("250 tusen kr", 250_000.0, "amount_scaled"),
    ("40 kSEK", 40_000.0, "amount_scaled"),
    ("1 250 000 kr", 1_250_000.0, ""),
    ("-5", np.nan, "amount_negative"),
    ("inf", np.nan, "amount_not_finite"),
    ("NaN", np.nan, "amount_not_finite"),
    ("1e400", np.nan, "amount_not_finite"),
    ("1" * 30, np.nan, "amount_out_of_range"),
])
def test_amount_units_and_bad_amounts(tmp_path: Path, cell: str, value: float, flag: str) -> None:
    reg = _reg(tmp_path, f"T-1;belysning;Storgatan 1;{cell};2021-01-01")
    np.testing.assert_equal(reg.loc[0, "granted_sek"], value)
    assert reg.loc[0, "read_flag"] == flag


def test_unit_in_header_scales_and_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="trygg_geo.io"):
        reg = _reg(tmp_path, "T-1;belysning;Storgatan 1;1 250;", "T-2;kamera;Torget;2 MSEK;",
                   header="Projekt-ID;Åtgärd;Adress;Beviljat (tkr);Färdigställd")
    assert reg["granted_sek"].tolist() == [1_250_000.0, 2_000_000.0]
    assert "in tkr" in caplog.text
    with pytest.raises(InputError, match="unclear") as e:
        _reg(tmp_path, "T-1;belysning;Storgatan 1;1 250 kr;",
             header="Projekt-ID;Åtgärd;Adress;Beviljat (tkr);Färdigställd", name="b.csv")
    assert e.value.row == 2 and e.value.column == "Beviljat (tkr)"
    with pytest.raises(InputError, match="different units"):
        _reg(tmp_path, "T-1;belysning;Storgatan 1;1 250;",
             header="Projekt-ID;Åtgärd;Adress;Beviljat (kr eller tkr);Färdigställd", name="c.csv")


def test_duplicate_headers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        _reg(tmp_path, "T-1;belysning;Storgatan 1;100;200", header="Projekt-ID;Åtgärd;Adress;Beviljat (kr);Beviljat")
    msg = str(e.value)
    assert "column 4 (D) 'Beviljat (kr)'" in msg and "column 5 (E) 'Beviljat'" in msg and "Fix:" in msg
    with pytest.raises(InputError, match="same header"):
        _reg(tmp_path, "T-1;belysning;a;b", header="Projekt-ID;Åtgärd;Adress;Adress", name="b.csv")
    # an unused repeated column is not a problem; a config naming one of two different headers neither
    reg = _reg(tmp_path, "T-1;belysning;Storgatan 1;x;y", header="Projekt-ID;Åtgärd;Adress;Not;Not", name="c.csv")
    assert len(reg) == 1
    p = _write(tmp_path / "d.csv", "Projekt-ID;Åtgärd;Adress;Beviljat (kr);Beviljat (tkr)\nT-1;ljus;Gatan 1;5;7\n", "utf-8")
    assert read_register(p, columns={"granted_sek": "Beviljat (tkr)"})["granted_sek"].tolist() == [7000.0]


def test_dates_out_of_range_future_and_implausible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trygg_geo.io as io_mod

    monkeypatch.setattr(io_mod, "_today", lambda: pd.Timestamp("2024-06-01"))
    reg = _reg(tmp_path, "T-1;ljus;Gatan 1;5;2300-01-01", "T-2;ljus;Gatan 2;5;2024-12-24",
               "T-3;ljus;Gatan 3;5;1975-05-01", "T-4;ljus;Gatan 4;5;2024-05-31", "T-5;ljus;Gatan 5;5;1500")
    assert reg["read_flag"].tolist() == ["date_out_of_range", "completed_in_future", "date_implausible", "",
                                         "date_out_of_range"]
    assert reg["completed"].isna().tolist() == [True, True, False, False, True]
    assert "2024-12-24" in reg.loc[1, "raw_text"]  # the date as written is kept


def test_huge_quoted_cell_is_read_and_cut(tmp_path: Path) -> None:
    big = "x" * 200_000
    reg = _reg(tmp_path, f'T-1;belysning;"Storgatan; {big}";5;', "T-2;kamera;Torget;7;")
    assert len(reg) == 2 and reg["source_row"].tolist() == [2, 3]
    assert reg.loc[0, "read_flag"] == "text_truncated"
    assert len(reg.loc[0, "address"]) == 1000 and len(reg.loc[0, "raw_text"]) < 1100
    assert reg.loc[1, "granted_sek"] == 7


def test_unclosed_quote_is_refused(tmp_path: Path) -> None:
    rows = ['T-1;belysning;"Storgatan 1;5;'] + [f"T-{i};ljus;Gatan {i};5;" for i in range(2, 8)]
    with pytest.raises(InputError, match="never closed") as e:
        _reg(tmp_path, *rows)
    assert e.value.row == 2


def _xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


def test_excel_header_under_a_title_or_on_another_sheet(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    head = SHORT.split(";")
    data = ["T-1", "belysning", "Storgatan 1", 100, None]
    p = _xlsx(tmp_path / "a.xlsx", {"Register": [["Trygghetsinvesteringar 2024"], [], [None, "Belopp"], head, data]})
    reg = read_register(p)
    assert reg["source_row"].tolist() == [5]
    p = _xlsx(tmp_path / "b.xlsx", {"Info": [["Läs mig"]], "Data": [head, data]})
    with caplog.at_level(logging.INFO, logger="trygg_geo._tabular"):
        reg = read_register(p)
    assert reg["source_row"].tolist() == [2] and "sheet 'Data'" in caplog.text
    with pytest.raises(InputError, match=r"no sheet number 5 .*0: 'Info', 1: 'Data'"):
        read_register(p, sheet=5)
    with pytest.raises(InputError, match="no sheet 'Blad1'"):
        read_register(p, sheet="Blad1")
    assert len(read_register(p, sheet="data")) == 1  # case does not matter when unambiguous
    p = _xlsx(tmp_path / "c.xlsx", {"Info": [["Läs mig"]], "Budget": [["Konto", "Belopp"], ["4010", 5]]})
    with pytest.raises(MissingColumnError) as e:
        read_register(p)
    msg = str(e.value)
    assert "sheet 'Info': row 1: 'Läs mig'" in msg and "sheet 'Budget': row 1: 'Konto', 'Belopp'" in msg
    assert "rename a column" not in msg


def test_incident_coordinates_that_do_not_fit_the_crs(tmp_path: Path) -> None:
    p = _write(tmp_path / "h.csv", "id;x;y\n1;6590000;650000\n2;6590100;650100\n", "utf-8")
    with pytest.raises(InputError, match="swapped") as e:
        read_incidents(p, crs=3006)
    assert e.value.row == 2 and "non-finite" not in str(e.value)
    p = _write(tmp_path / "h2.csv", "id;x;y\n1;18,07;59,33\n2;18,08;59,34\n", "utf-8")
    with pytest.raises(InputError, match=r"WGS 84 \(EPSG:4326\).*not SWEREF99 TM") as e:
        read_incidents(p, crs="EPSG:3006")
    assert 'incidents.crs = "EPSG:4326"' in str(e.value)
    assert len(read_incidents(p, crs="WGS84")) == 2
    with pytest.raises(CRSError, match="names no coordinate reference system"):
        read_incidents(p, crs="SWEREF 1999 XYZ")
    p = _write(tmp_path / "h3.csv", "id;x;y\n1;650000;6590000\n2;inf;6590000\n", "utf-8")
    with pytest.raises(InputError, match="'inf' is not a coordinate"):
        read_incidents(p, crs=3006)


def test_parse_crs_rejects_free_text_quickly() -> None:
    for t in ("Gauss", "99999", "åäö öst", "x" * 500, "koordinater enligt kartan"):
        with pytest.raises(ValueError):
            parse_crs(t)


def test_package_errors_only(tmp_path: Path) -> None:
    p = tmp_path / "bin.csv"
    p.write_bytes(b"\xff\xfe" + bytes(range(256)) * 4)
    with pytest.raises(TryggGeoError):
        read_register(p)
