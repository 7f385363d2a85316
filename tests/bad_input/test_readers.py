"""Bad-input corpus: the readers (register, survey, incidents) (issue 9, points 3 and 6).

Every case breaks one thing in a fresh copy of the demo inputs, runs ``trygg-geo run`` in-process
and checks the exit code (2: refused with one line naming file, row or column and the fix; 0: the
run answered, the row is kept and its flag is visible in the GeoPackage), that no traceback
reaches the user, and (for 0, via the harness) that every register row is placed or unplaced
exactly once.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer

from tests.bad_input.conftest import INCIDENTS, REGISTER, SURVEY, BadInputCase, RunResult
from trygg_geo._errors import DataQualityWarning

_LAYERS = ("investeringar_punkt", "investeringar_linje", "investeringar_yta", "ej_placerade")


# --------------------------------------------------------------------------- helpers
def rows_out(result: RunResult) -> pd.DataFrame:
    """Every register row as written to the GeoPackage (placed layers and ej_placerade)."""
    gpkg = result.folder / "resultat.gpkg"
    names = {n for n, _ in pyogrio.list_layers(gpkg)}
    parts = []
    for layer in _LAYERS:
        if layer in names:
            df = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
            df["layer"] = layer
            parts.append(df)
    return pd.concat(parts, ignore_index=True)


def row_out(result: RunResult, source_row: int) -> pd.Series:
    df = rows_out(result)
    hit = df[df["source_row"].astype(int) == source_row]
    assert len(hit) == 1, f"row {source_row} appears {len(hit)} times"
    return hit.iloc[0]


def flags_of(row: pd.Series) -> set[str]:
    """All flags of an output row: read_flag and geocode_flag (placed), reason and the flags
    named in reason_text (unplaced)."""
    out: set[str] = set()
    for c in ("read_flag", "geocode_flag"):
        v = row.get(c)
        if isinstance(v, str):
            out.update(f for f in v.split(",") if f)
    if isinstance(row.get("reason"), str):
        out.add(row["reason"])
        text = str(row.get("reason_text") or "")
        for marker in ("Flaggor även:", "Also flagged:"):  # the run's language: sv or en
            if marker in text:
                out.update(f.strip(" .") for f in text.split(marker, 1)[1].split(","))
    return out


def warned(rec: tuple[RunResult, list[warnings.WarningMessage]], *needles: str) -> str:
    """The data-quality warning naming every needle (file, row, column ...): a line the CLI
    printed on stderr (in the run's language, Swedish here: "rad 3"), or (when the CLI leaves
    warnings to Python) a recorded warning."""
    result, recorded = rec
    msgs = [ln for ln in result.err.splitlines() if ln.startswith(("varning:", "warning:"))]
    msgs += [str(w.message) for w in recorded if issubclass(w.category, DataQualityWarning)]
    for m in msgs:
        if all(n.lower() in m.lower() for n in needles):
            return m
    raise AssertionError(f"no warning names {needles}:\n" + "\n".join(msgs))


def run_flagged(case: BadInputCase) -> tuple[RunResult, tuple[RunResult, list[warnings.WarningMessage]]]:
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        r = case.run()
    return r, (r, list(rec))


def register_as_xlsx(case: BadInputCase, *, title_rows: int = 0, sheet_before: bool = False,
                     name: str = "investeringar.xlsx") -> Path:
    """Write the demo register as a workbook and point the config at it."""
    df = case.read_csv(REGISTER)
    wb = openpyxl.Workbook()
    ws = wb.active
    if sheet_before:
        ws.title = "Instruktioner"
        ws.append(["Fyll i ett projekt per rad på bladet Register."])
        ws.append(["Beloppen i kronor."])
        ws = wb.create_sheet("Register")
    else:
        ws.title = "Register"
    for k in range(title_rows):
        ws.append(["Trygghetsinvesteringar 2015-2025" if k == 0 else None])
    ws.append(list(df.columns))
    for r in df.itertuples(index=False):
        ws.append([v if v != "" else None for v in r])
    p = case.path(name)
    wb.save(p)
    case.set_config("register", "path", f'"{name}"')
    return p


# --------------------------------------------------------------------------- amounts
@pytest.mark.parametrize(("cell", "flag"), [
    ("1e400", "amount_not_finite"),
    ("inf", "amount_not_finite"),
    ("NaN", "amount_not_finite"),
    ("123456789012345678901234567890", "amount_out_of_range"),
    ("-250 000", "amount_negative"),
])
def test_bad_amount_is_flagged_and_empty(case: BadInputCase, cell: str, flag: str) -> None:
    case.set_cell(REGISTER, 3, "Beviljat (kr)", cell)
    r, rec = run_flagged(case)
    r.expect(0)
    warned(rec, "investeringar.csv", "rad 3", "Beviljat (kr)")
    row = row_out(r, 3)
    assert flag in flags_of(row)
    assert pd.isna(row["granted_sek"])


@pytest.mark.parametrize(("cell", "kronor"), [
    ("1 389 tkr", 1_389_000.0),
    ("1,5 MSEK", 1_500_000.0),
    ("2 mkr", 2_000_000.0),
    ("2,5 Mkr", 2_500_000.0),
    ("250 tusen kr", 250_000.0),
    ("300 kSEK", 300_000.0),
])
def test_unit_in_cell_is_scaled_and_flagged(case: BadInputCase, cell: str, kronor: float) -> None:
    case.set_cell(REGISTER, 2, "Beviljat (kr)", cell)
    r, rec = run_flagged(case)
    r.expect(0)
    warned(rec, "investeringar.csv", "rad 2", "Beviljat (kr)", "kronor")
    row = row_out(r, 2)
    assert "amount_scaled" in flags_of(row)
    assert row["granted_sek"] == pytest.approx(kronor)


def test_tkr_in_header_scales_the_column(case: BadInputCase) -> None:
    before = case.read_csv(REGISTER)["Beviljat (kr)"].iloc[0]  # "1 389 000"
    case.edit_csv(REGISTER, lambda df: df.rename(columns={"Beviljat (kr)": "Beviljat (tkr)"}))
    case.set_cell(REGISTER, 2, "Beviljat (tkr)", "1 389")
    r = case.run().expect(0)
    assert before == "1 389 000"
    assert row_out(r, 2)["granted_sek"] == pytest.approx(1_389_000.0)


def test_kronor_cell_under_tkr_header_is_refused(case: BadInputCase) -> None:
    case.edit_csv(REGISTER, lambda df: df.rename(columns={"Beviljat (kr)": "Beviljat (tkr)"}))
    case.set_cell(REGISTER, 4, "Beviljat (tkr)", "562 000 kr")
    case.run().expect(2, "investeringar.csv", "row 4", "Beviljat (tkr)", "unclear", "Fix:")


def test_header_with_two_units_is_refused(case: BadInputCase) -> None:
    case.edit_csv(REGISTER, lambda df: df.rename(columns={"Nyttjat (kr)": "Nyttjat (kr/tkr)"}))
    case.run().expect(2, "investeringar.csv", "Nyttjat (kr/tkr)", "different units", "Fix:")


# --------------------------------------------------------------------------- columns
def test_duplicate_header_is_refused_naming_both_columns(case: BadInputCase) -> None:
    def f(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df.insert(len(df.columns), "Beviljat (kr) ", "5")  # read back as a second 'Beviljat (kr)'
        return df
    case.edit_csv(REGISTER, f)
    case.run().expect(2, "investeringar.csv", "column 7 (G)", "column 14 (N)", "Beviljat (kr)",
                      "same header", "Fix:")


def test_headers_equal_after_folding_are_refused(case: BadInputCase) -> None:
    case.edit_csv(REGISTER, lambda df: df.assign(ATGARD="kamera"))
    case.run().expect(2, "investeringar.csv", "column 3 (C)", "column 14 (N)", "'Åtgärd'", "'ATGARD'")


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(("column", "cell", "flag"), [
    ("Färdigställd", "2300-01-01", "date_out_of_range"),
    ("Startdatum", "1500-03-01", "date_out_of_range"),
    ("Färdigställd", "1975-06-01", "date_implausible"),
])
def test_bad_dates_are_flagged(case: BadInputCase, column: str, cell: str, flag: str) -> None:
    case.set_cell(REGISTER, 4, column, cell)
    r, rec = run_flagged(case)
    r.expect(0)
    warned(rec, "investeringar.csv", "rad 4", column, cell)
    assert flag in flags_of(row_out(r, 4))


def test_completion_in_the_future_is_not_carried_out(case: BadInputCase) -> None:
    case.set_cell(REGISTER, 3, "Färdigställd", "2099-06-30")
    r, rec = run_flagged(case)
    r.expect(0)
    warned(rec, "investeringar.csv", "rad 3", "Färdigställd", "räknas inte som genomförd")
    row = row_out(r, 3)
    assert "completed_in_future" in flags_of(row)
    assert pd.isna(row["completed"])
    if "status" in row:  # no status column: the status comes from the (now empty) date
        assert pd.isna(row["status"]) or row["status"] != "completed"


# --------------------------------------------------------------------------- text
def test_huge_quoted_cell_is_read_and_cut(case: BadInputCase) -> None:
    case.set_cell(REGISTER, 5, "Projektnamn", '"Belysning" ' + "x" * 200_000)
    r, rec = run_flagged(case)
    r.expect(0)
    warned(rec, "investeringar.csv", "rad 5", "Projektnamn", "kortades till 1\u00a0000")
    row = row_out(r, 5)
    assert "text_truncated" in flags_of(row)
    assert len(row["name"]) <= 1000


def test_huge_address_is_cut_and_unplaced_with_a_reason(case: BadInputCase) -> None:
    case.set_cell(REGISTER, 2, "Adress/plats", "Okänd plats nummer " * 6400)  # ~121,600 characters
    r, rec = run_flagged(case)
    r.expect(0)
    warned(rec, "investeringar.csv", "rad 2", "Adress/plats")
    row = row_out(r, 2)
    assert "text_truncated" in flags_of(row)
    assert row["layer"] == "ej_placerade" and row["reason"] == "address_too_long"


def test_unclosed_quote_is_named(case: BadInputCase) -> None:
    # the csv module reads an unclosed quote on: one cell would swallow the rows after it
    case.edit_text(REGISTER, lambda t: t.replace("Ny belysning vid Hamnstigen", '"Ny belysning vid Hamnstigen', 1))
    case.run().expect(2, "investeringar.csv", "row 3", "column 2 (B)", "never closed", "Fix:")


# --------------------------------------------------------------------------- Excel
def test_xlsx_register_under_a_title_row(case: BadInputCase) -> None:
    register_as_xlsx(case, title_rows=2)
    r = case.run().expect(0)
    # the header is on sheet row 3, so the first data row is sheet row 4
    assert sorted(rows_out(r)["source_row"].astype(int))[0] == 4


def test_xlsx_register_on_the_second_sheet(case: BadInputCase) -> None:
    register_as_xlsx(case, sheet_before=True)
    r = case.run().expect(0)
    assert sorted(rows_out(r)["source_row"].astype(int))[0] == 2


def test_xlsx_sheet_that_does_not_exist(case: BadInputCase) -> None:
    register_as_xlsx(case)
    case.set_config("register", "sheet", '"Blad 2024"')
    case.run().expect(2, "investeringar.xlsx", "no sheet 'Blad 2024'", "'Register'", "Fix:")


def test_xlsx_without_the_header_names_what_was_found(case: BadInputCase) -> None:
    p = register_as_xlsx(case, sheet_before=True)
    wb = openpyxl.load_workbook(p)
    del wb["Register"]
    ws = wb.create_sheet("Budget")
    ws.append(["Konto", "Belopp"])
    ws.append(["4010", 1000])
    wb.save(p)
    r = case.run().expect(2, "investeringar.xlsx", "sheet 'Instruktioner'", "sheet 'Budget'", "'Konto'",
                          "Fix:")
    assert "rename a column" not in r.err


def test_csv_register_under_a_title_row(case: BadInputCase) -> None:
    n = case.register_rows()
    case.edit_text(REGISTER, lambda t: "Trygghetsinvesteringar;;;\n\n" + t)
    case.register_rows = lambda: n  # type: ignore[method-assign]  # pandas would take the title as header
    r = case.run().expect(0)
    assert sorted(rows_out(r)["source_row"].astype(int))[0] == 4


# --------------------------------------------------------------------------- register coordinates
def test_register_lat_lon_in_a_sweref_row_is_flagged(case: BadInputCase) -> None:
    # row 8 has SWEREF 99 TM coordinates and no address; write them as lon/lat instead
    lon, lat = Transformer.from_crs(3006, 4326, always_xy=True).transform(643375.0, 6591173.5)
    case.set_cell(REGISTER, 8, "X", f"{lon:.6f}".replace(".", ","))
    case.set_cell(REGISTER, 8, "Y", f"{lat:.6f}".replace(".", ","))
    r = case.run().expect(0)
    assert "crs_mismatch" in flags_of(row_out(r, 8))


def test_register_swapped_xy_is_flagged(case: BadInputCase) -> None:
    case.set_cell(REGISTER, 8, "X", "6 591 173,50")
    case.set_cell(REGISTER, 8, "Y", "643 375")
    r = case.run().expect(0)
    assert "swapped_xy" in flags_of(row_out(r, 8))


def test_register_coordinates_that_fit_nothing_say_so(case: BadInputCase) -> None:
    case.set_cell(REGISTER, 8, "X", "123")
    case.set_cell(REGISTER, 8, "Y", "456")
    r = case.run().expect(0)
    row = row_out(r, 8)
    assert row["reason"] == "impossible_coordinates"
    assert "angivet: EPSG:3006" in row["reason_text"]  # the demo project is in Swedish


# --------------------------------------------------------------------------- survey scale
def _to_proportions(df: pd.DataFrame) -> pd.DataFrame:
    v = df["Andel (%)"].str.replace(",", ".").astype(float) / 100
    df = df.drop(columns="Andel (%)")
    df["Andel"] = [f"{x:.3f}".replace(".", ",") for x in v]
    return df


def _auto_scale(case: BadInputCase) -> None:
    """The demo config states percent; these cases test the scale the reader decides."""
    case.edit_text("projekt.toml", lambda t: t.replace('scale = "percent"', 'scale = "auto"'))


def test_survey_one_proportion_among_percentages_is_refused(case: BadInputCase) -> None:
    _auto_scale(case)
    case.set_cell(SURVEY, 7, "Andel (%)", "0,35")
    r = case.run().expect(2, "trygghetsmatning.csv", "row 7", "Andel (%)", "0.35", "Fix:")
    assert "percent" in r.err


def test_survey_one_percentage_among_proportions_is_refused(case: BadInputCase) -> None:
    _auto_scale(case)
    case.edit_csv(SURVEY, _to_proportions)
    case.set_cell(SURVEY, 9, "Andel", "45")
    case.run().expect(2, "trygghetsmatning.csv", "row 9", "Andel", "45", "proportions")


def test_survey_proportions_throughout_run(case: BadInputCase) -> None:
    case.edit_csv(SURVEY, _to_proportions)
    case.run().expect(0)


def test_survey_mixed_scales_are_refused(case: BadInputCase) -> None:
    _auto_scale(case)
    def f(df: pd.DataFrame) -> pd.DataFrame:
        half = _to_proportions(df.iloc[: len(df) // 2].copy())["Andel"].tolist()
        df = df.rename(columns={"Andel (%)": "Andel"})
        df.loc[: len(half) - 1, "Andel"] = half
        return df
    case.edit_csv(SURVEY, f)
    case.run().expect(2, "trygghetsmatning.csv", "cannot be told", "Fix:")


# --------------------------------------------------------------------------- incidents
def test_incidents_swapped_axes(case: BadInputCase) -> None:
    case.edit_csv(INCIDENTS, lambda df: df.rename(columns={"X": "Y", "Y": "X"}))
    case.run().expect(2, "handelser.csv", "row 2", "swapped", "Fix:")


def test_incidents_lat_lon_in_a_sweref_file(case: BadInputCase) -> None:
    t = Transformer.from_crs(3006, 4326, always_xy=True)

    def f(df: pd.DataFrame) -> None:
        x = df["X"].str.replace(",", ".").astype(float).to_numpy()
        y = df["Y"].str.replace(",", ".").astype(float).to_numpy()
        lon, lat = t.transform(x, y)
        df["X"] = [f"{v:.6f}".replace(".", ",") for v in lon]
        df["Y"] = [f"{v:.6f}".replace(".", ",") for v in lat]
    case.edit_csv(INCIDENTS, f)
    r = case.run().expect(2, "handelser.csv", "row 2", "WGS 84", "EPSG:3006", "Fix:")
    assert "non-finite" not in r.err
    assert 'incidents.crs = "EPSG:4326"' in r.err


def test_incidents_one_row_in_lat_lon_is_named(case: BadInputCase) -> None:
    case.set_cell(INCIDENTS, 50, "X", "17,51")
    case.set_cell(INCIDENTS, 50, "Y", "59,44")
    case.run().expect(2, "handelser.csv", "row 50", "1 of", "WGS 84", "correct the coordinates")


def test_incidents_infinite_coordinate(case: BadInputCase) -> None:
    case.set_cell(INCIDENTS, 12, "X", "inf")
    case.run().expect(2, "handelser.csv", "row 12", "'X'", "not a coordinate")


def test_incidents_date_out_of_range_is_kept_without_date(case: BadInputCase) -> None:
    case.set_cell(INCIDENTS, 3, "Datum", "2300-01-10")
    r, rec = run_flagged(case)
    r.expect(0)
    warned(rec, "handelser.csv", "rad 3", "Datum", "2300-01-10")


def test_demo_register_reads_clean(case: BadInputCase) -> None:
    """The untouched register gets none of the new flags (no false alarms)."""
    from trygg_geo.io import read_register

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = read_register(case.path(REGISTER))
    new = {"amount_scaled", "amount_negative", "amount_not_finite", "amount_out_of_range", "date_out_of_range",
           "date_implausible", "completed_in_future", "text_truncated"}
    seen = {f for v in reg["read_flag"] for f in v.split(",") if f}
    assert not seen & new
    assert np.isfinite(reg["granted_sek"]).all()
