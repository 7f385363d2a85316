"""The register and incident readers on files kept the way municipalities keep them."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from trygg_geo._errors import DataQualityWarning
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
    p = _write(tmp_path / "reg.csv", "\n".join([HEADER, ROWS[0], ROWS[0]]) + "\n", "utf-8")
    reg = read_register(p)
    assert len(reg) == 2
    assert all("duplicate_id" in f for f in reg["read_flag"])


def test_parse_crs_variants() -> None:
    assert parse_crs("SWEREF 99 TM").to_epsg() == 3006
    assert parse_crs("sweref 99 18 00").to_epsg() == 3011
    assert parse_crs("EPSG:3008").to_epsg() == 3008
    assert parse_crs("WGS 84").to_epsg() == 4326
    assert parse_crs("") is None
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
