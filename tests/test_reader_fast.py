"""The register reader's vectorised path gives exactly what the per-cell parsers give.

Each test reads the same cells twice, with ``_tabular.FAST_PATH`` on and off, and compares
values, bad cells, flags and (for whole registers) every column and every warning, in order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trygg_geo import _tabular
from trygg_geo._errors import InputError
from trygg_geo._tabular import parse_amount, parse_dates_checked, parse_number
from trygg_geo.io import read_register

#: Cells in the clean forms (fast path) and every awkward form next to them (per-cell path).
AMOUNTS = [
    "125 000", "1 250 000,50", "1250000", "80 000 kr", "1 250 tkr", "3 MSEK", "1,5 mkr",
    "2 Mkr", "40 kSEK", "250 tusen kr", "1.250.000", "1,250,000", "1.250,5", "12,5",
    "1 250.5", "-5 000", "1e400", "inf", "NaN", "tio tusen", "  90 000  ", "90\u00a0000",
    "1\u202f000", "5 kr:-", "5:-", "7 tkr.", "2 mnkr", "3 mio kr", "9 kronor", "1 SEK",
    "2000000000000", "999999999999", "1 000 000 MSEK", "0", "0,0", "", "   ", "12 st",
    "\u2212300", "١٢", "5 Kkr", "5 kkr", "7 tsek", "abc kr", "1 23 456", "12345678901234567",
    "1 250 000 000 000", None, np.nan,
]
NUMBERS = [
    "674032,5", "674032.5", "-12", "6 580 000", "6\u00a0580\u00a0000,25", "saknas", "inf",
    "nan", "1e5", "12 kr", "12 tkr", "1.234.567", "1,234,567", " 674032 ", "-0", "--1",
    "١٢٣", "1" * 500, "0" * 20, "", None, np.nan, "1 23", "12,", ",5", ".5", "5.",
]
DATES = [
    "2021-03-15", "2021-3-15", "20210315", "20211301", "15/3/2021", "15/03/2021", "15.3.2021",
    "15/3.2021", "15/3 2021", "15/3-2021", "2021-03", "2021-3", "2021-13", "2021/03/15",
    "2021", "1985", "1899", "2101", "2300-01-01", "mars 2021", "Mars 2021", "MAJ 2019",
    "15 mars 2021", "31 februari 2021", "2021-02-30", "31/2 2021", "00/1/2021", "32/1/2021",
    "2021-03-15T00:00:00", "2021-03-15 00:00:00", "2021-03-15 00:00", "2021-03-15T00:00",
    "2021-03-15T14:30:00", "2021-03-15 14:30", "igår", "vet ej", " 2021-03-15 ", "0000-01-01",
    "9999-12-31", "1900-01-01", "2100-12-31", "2021-00-10", "mars  2021", "sept 2020",
    "15 Okt 2020", "2021-03-15 ", "x" * 150, "", None, np.nan, "2021.03.15", "3/15/2021",
]


def _both(fn: Callable[[], Any]) -> tuple[Any, Any]:
    """``fn()`` with the vectorised path, then with the per-cell parsers."""
    fast = fn()
    _tabular.FAST_PATH = False
    try:
        slow = fn()
    finally:
        _tabular.FAST_PATH = True
    return fast, slow


@pytest.fixture(autouse=True)
def _fast_path_on() -> Iterator[None]:
    assert _tabular.FAST_PATH
    yield
    _tabular.FAST_PATH = True


def _mixed(cells: list[Any], repeat: int = 3) -> pd.Series:
    """The cells repeated in shuffled order (a register repeats its values)."""
    rng = np.random.default_rng(1)
    out = np.empty(len(cells) * repeat, dtype=object)
    out[:] = [cells[i % len(cells)] for i in rng.permutation(len(cells) * repeat)]
    return pd.Series(out)


def test_amounts_fast_equals_per_cell() -> None:
    s = _mixed(AMOUNTS)
    rows = list(range(2, len(s) + 2))
    fast, slow = _both(lambda: parse_amount(s, column="Beviljat (kr)", file=None, rows=rows))
    np.testing.assert_array_equal(fast.values.to_numpy(), slow.values.to_numpy())
    assert fast.bad == slow.bad and fast.flags == slow.flags
    # real outcomes, not only agreement
    at = dict(zip(s.tolist()[:40], fast.values.tolist()[:40], strict=False))
    assert at.get("1 250 tkr", 1_250_000.0) == 1_250_000.0
    assert {f for _, f, _ in fast.flags} >= {"amount_scaled", "amount_negative",
                                             "amount_not_finite", "amount_out_of_range"}
    assert any(t == "tio tusen" for _, t in fast.bad)


def test_amounts_under_a_unit_header_fast_equals_per_cell() -> None:
    s = _mixed([c for c in AMOUNTS if c is None or "kr" not in str(c).lower()
                and "sek" not in str(c).lower()])
    rows = list(range(2, len(s) + 2))
    fast, slow = _both(lambda: parse_amount(s, column="Beviljat (tkr)", file=None, rows=rows))
    np.testing.assert_array_equal(fast.values.to_numpy(), slow.values.to_numpy())
    assert fast.bad == slow.bad and fast.flags == slow.flags
    assert 125_000_000.0 in fast.values.tolist()  # "125 000" tkr


def test_kronor_under_a_thousands_header_is_refused_at_the_same_row() -> None:
    s = pd.Series(["1 250", "12", "80 000 kr", "5 kr"])

    def read() -> str:
        with pytest.raises(InputError) as e:
            parse_amount(s, column="Beviljat (tkr)", file="reg.csv", rows=[2, 3, 4, 5])
        return str(e.value)

    fast, slow = _both(read)
    assert fast == slow and "row 4" in fast and "80 000 kr" in fast


def test_numbers_fast_equals_per_cell() -> None:
    s = _mixed(NUMBERS)
    rows = list(range(2, len(s) + 2))
    (fv, fb), (sv, sb) = _both(lambda: parse_number(s, column="X", file=None, rows=rows))
    np.testing.assert_array_equal(fv.to_numpy(), sv.to_numpy())
    assert fb == sb
    assert 674032.5 in fv.tolist() and 6580000.25 in fv.tolist()


def test_dates_fast_equals_per_cell() -> None:
    s = _mixed(DATES)
    rows = list(range(2, len(s) + 2))
    fast, slow = _both(lambda: parse_dates_checked(s, column="Start", file=None, rows=rows))
    pd.testing.assert_series_equal(fast.values, slow.values)
    assert fast.bad == slow.bad and fast.out_of_range == slow.out_of_range
    got = dict(zip(s.tolist(), fast.values.tolist(), strict=True))
    assert got["15/3 2021"] == pd.Timestamp("2021-03-15")
    assert got["2021"] == pd.Timestamp("2021-07-01")
    assert got["mars 2021"] == pd.Timestamp("2021-03-01")
    assert pd.isna(got["2021-02-30"]) and pd.isna(got["15/3.2021"])


def test_string_dtype_and_na_cells_are_read_alike() -> None:
    """pd.NA is text to the per-cell parsers ('<NA>', a bad cell); the fast path agrees."""
    s = pd.Series(["12", pd.NA, "x", None], dtype=object)
    rows = [2, 3, 4, 5]
    (fv, fb), (sv, sb) = _both(lambda: parse_number(s, column="X", file=None, rows=rows))
    np.testing.assert_array_equal(fv.to_numpy(), sv.to_numpy())
    assert fb == sb == [(3, "<NA>"), (4, "x")]


_cell = st.one_of(
    st.sampled_from(AMOUNTS + NUMBERS + DATES),
    st.from_regex(r"\A-?[0-9]{1,4}([ .,][0-9]{1,4}){0,3}( ?(kr|tkr|MSEK|mkr|x))?\Z",
                  fullmatch=True),
    st.from_regex(r"\A[0-9]{1,4}[-/. ][0-9]{1,4}([-/. ][0-9]{1,4})?\Z", fullmatch=True),
    st.text(alphabet="0123456789 ,.-/:Tkrmsejn\u00a0", max_size=14),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_cell, min_size=1, max_size=30))
def test_random_cells_fast_equals_per_cell(cells: list[Any]) -> None:
    s = _mixed(cells, repeat=2)
    rows = list(range(2, len(s) + 2))
    fast, slow = _both(lambda: parse_amount(s, column="Belopp", file=None, rows=rows))
    np.testing.assert_array_equal(fast.values.to_numpy(), slow.values.to_numpy())
    assert fast.bad == slow.bad and fast.flags == slow.flags
    (fv, fb), (sv, sb) = _both(lambda: parse_number(s, column="X", file=None, rows=rows))
    np.testing.assert_array_equal(fv.to_numpy(), sv.to_numpy())
    assert fb == sb
    fd, sd = _both(lambda: parse_dates_checked(s, column="D", file=None, rows=rows))
    pd.testing.assert_series_equal(fd.values, sd.values)
    assert fd.bad == sd.bad and fd.out_of_range == sd.out_of_range


REGISTER = (
    "Projekt-ID;Åtgärd;Adress;Beviljat belopp (kr);Nyttjat (tkr);Startdatum;Färdigställd;"
    "Status;X;Y;Koordinatsystem\n"
    "A-1;Belysning;Storgatan 1;1 250 tkr;800;2021-03-15;2021-09-01;Klar;;;\n"
    "A-2;Gatubelysning;Storgatan 2;125 000;;15/3 2021;mars 2022;Klar;674032,5;6580000;EPSG:3006\n"
    "A-3;Slyröjning;Parkvägen 3;tio tusen;-5;igår;2300-01-01;Pågående;saknas;6580000;3006\n"
    "A-4;Belysnig;Torget;3 MSEK;1e400;1985-06-01;2099-01-01;Planerad;674100;6580100;RT90 gammal\n"
    "A-2;Gatubelysning;Storgatan 2;125 000;;15/3 2021;mars 2022;Klar;674032,5;6580000;EPSG:3006\n"
    "A-5;Belysning;Storgatan 5;1 250 tkr;800;2021-03-15;2021-09-01;Okänt;;;\n"
    "A-6;Trygghetsvandring;Storgatan 6;;;2021;2021-13-01;;;;\n"
)


def _read_with_warnings(path: Path) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = read_register(path)
    return reg, [f"{w.category.__name__}: {w.message}" for w in caught]


def test_register_fast_equals_per_cell_with_the_same_warnings(tmp_path: Path) -> None:
    p = tmp_path / "investeringar.csv"
    p.write_text(REGISTER, encoding="cp1252")
    (fast, fast_warn), (slow, slow_warn) = _both(lambda: _read_with_warnings(p))
    pd.testing.assert_frame_equal(fast, slow)
    assert fast_warn == slow_warn
    assert fast["granted_sek"].tolist()[:2] == [1_250_000.0, 125_000.0]
    assert fast["spent_sek"].tolist()[0] == 800_000.0
    flags = dict(zip(fast["investment_id"], fast["read_flag"], strict=False))
    assert set(flags["A-3"].split(",")) >= {"bad_granted_sek", "amount_negative", "bad_started",
                                            "date_out_of_range", "bad_x"}
    assert any("tio tusen" in w and "row 4" in w for w in fast_warn)
