"""The incident reader's vectorised path gives exactly what the per-record, per-cell path gives.

Each test reads the same file twice, with ``_tabular.FAST_PATH`` on (plain CSV split a column at
a time, coordinates, dates and categories parsed a column at a time) and off (the csv module and
the per-cell parsers), and compares every column, the geometry (as WKB), the CRS, the row order,
and every warning or error (message, file, row and column).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trygg_geo import _tabular
from trygg_geo._errors import InputError
from trygg_geo._tabular import parse_number, read_table
from trygg_geo.io import read_incidents

HEADER = "Ärendenummer;Datum;Kategori;X;Y"


@pytest.fixture(autouse=True)
def _fast_path_on() -> Iterator[None]:
    assert _tabular.FAST_PATH
    yield
    _tabular.FAST_PATH = True


def _run(fn: Callable[[], Any]) -> tuple[Any, list[tuple[str, str, str, int]]]:
    """``fn()`` (or the error it raised, as its class and text) and its warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out: Any = fn()
        except Exception as exc:  # noqa: BLE001 - the error is what is compared
            out = (type(exc).__name__, str(exc), getattr(exc, "row", None),
                   getattr(exc, "column", None))
    return out, [(type(w.message).__name__, str(w.message), w.filename, w.lineno)
                 for w in caught]


def _both(fn: Callable[[], Any]) -> tuple[Any, Any]:
    """``_run(fn)`` with the vectorised path, then with the per-cell path."""
    fast = _run(fn)
    _tabular.FAST_PATH = False
    try:
        slow = _run(fn)
    finally:
        _tabular.FAST_PATH = True
    return fast, slow


def _assert_same(fast: Any, slow: Any) -> None:
    (f, fw), (s, sw) = fast, slow
    assert fw == sw
    if isinstance(s, gpd.GeoDataFrame):
        assert isinstance(f, gpd.GeoDataFrame)
        assert f.crs == s.crs
        assert list(f.columns) == list(s.columns)
        pd.testing.assert_frame_equal(pd.DataFrame(f.drop(columns="geometry")),
                                      pd.DataFrame(s.drop(columns="geometry")))
        assert f.geometry.to_wkb().tolist() == s.geometry.to_wkb().tolist()
    elif isinstance(s, _tabular.Table):
        assert isinstance(f, _tabular.Table)
        pd.testing.assert_frame_equal(f.frame, s.frame)
        np.testing.assert_array_equal(f.source_row, s.source_row)
        assert (f.encoding, f.delimiter, f.headers, f.header_row) == (
            s.encoding, s.delimiter, s.headers, s.header_row)
    else:
        assert f == s


def _incidents(path: Path, crs: str = "EPSG:3011") -> tuple[Any, Any]:
    fast, slow = _both(lambda: read_incidents(path, crs=crs))
    _assert_same(fast, slow)
    return fast, slow


MESSY = [
    "H1;2021-03-15;skadegörelse;151234,5;6581234,5",
    "H2;15/3 2021;misshandel;151234.5;6581234.5",
    "H3;20210315;rån;151 234,25;6 581 234,75",
    "H4;mars 2021;;151234;6581234",
    "H5;;ordningsstörning;  151234,5  ;6581234,5",
    "H6;igår;narkotika;151234,5;6581234,5",
    "H7;2300-01-01;bilbrand;151234,5;6581234,5",
    "H8;2021-03;otrygg plats (synpunkt);151234,5;6581234,5",
    ";15.3.2021;Skadegörelse ;151234,5;6581234,5",
    "H10;2021-03-15 14:30;   ;151234,123456;6581234,000001",
    "H11;15 okt 2020;rån;151234,5;6581234,5",
    "H12;2021;rån;151\u00a0234,5;6\u00a0581\u00a0234,5",
]


def _write(path: Path, lines: list[str], *, encoding: str = "utf-8", end: str = "\r\n") -> Path:
    path.write_bytes((end.join(lines) + end).encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("end", ["\r\n", "\n"])
def test_messy_incidents_read_alike(tmp_path: Path, encoding: str, end: str) -> None:
    """Decimal commas, blank cells, dates in several forms, cp1252, blank lines."""
    lines = [HEADER, *MESSY, "", "  ;  ;", *MESSY[:3]]
    path = _write(tmp_path / "handelser.csv", lines, encoding=encoding, end=end)
    fast, _ = _incidents(path)
    gdf, warned = fast
    assert isinstance(gdf, gpd.GeoDataFrame) and len(gdf) == len(MESSY) + 3
    assert gdf["source_row"].tolist() == [*range(2, 2 + len(MESSY)), 16, 17, 18]
    assert gdf.geometry.x.iloc[2] == 151234.25
    assert gdf["category"].isna().iloc[3]
    assert any("Datum" in w[1] for w in warned)


def test_title_rows_and_blank_lines_read_alike(tmp_path: Path) -> None:
    """A title row above the header and blank lines between the rows."""
    lines = ["Händelser 2021 ;;", "", HEADER, *MESSY[:4], "", "", *MESSY[4:]]
    _incidents(_write(tmp_path / "h.csv", lines))


def test_long_cells_are_cut_alike(tmp_path: Path) -> None:
    """A category longer than the text limit is cut, with the same warning."""
    lines = [HEADER, f"H1;2021-03-15;{'x' * 1500};151234,5;6581234,5", *MESSY[:3]]
    (_gdf, warned), _ = _incidents(_write(tmp_path / "h.csv", lines))
    assert any("1" in w[1] for w in warned)


def test_narrow_no_break_spaces_read_alike(tmp_path: Path) -> None:
    """Thousands separated by narrow no-break spaces (UTF-8 only)."""
    lines = [HEADER, "H1;2021-03-15;rån;151\u202f234,5;6\u202f581\u202f234,5", *MESSY[:3]]
    (gdf, _), _ = _incidents(_write(tmp_path / "h.csv", lines))
    assert gdf.geometry.x.iloc[0] == 151234.5


def test_no_id_or_date_columns_read_alike(tmp_path: Path) -> None:
    """Only x and y: the ids are made up alike, the dates empty alike."""
    lines = ["X;Y", "151234,5;6581234,5", "151235,5;6581235,5"]
    _incidents(_write(tmp_path / "h.csv", lines))


@pytest.mark.parametrize("cells", [
    ("saknas", "6581234,5"),          # not a number
    ("", "6581234,5"),                # no coordinate
    ("151234,5", "inf"),              # not finite
    ("6581234,5", "151234,5"),        # swapped axes
    ("18,07", "59,33"),               # WGS84 degrees in a SWEREF file
    ("151234,5", "7900000"),          # north of Sweden
    ("1e5", "6581234,5"),             # a number the fast path leaves to the per-cell parser
])
def test_bad_coordinates_fail_alike(tmp_path: Path, cells: tuple[str, str]) -> None:
    """A bad, missing, swapped or foreign coordinate: the same error, same row."""
    x, y = cells
    lines = [HEADER, *MESSY[:3], f"H9;2021-03-15;rån;{x};{y}", *MESSY[3:6]]
    (out, _), _ = _incidents(_write(tmp_path / "h.csv", lines))
    if cells[0] != "1e5":
        assert isinstance(out, tuple) and out[0] == "InputError", out


def test_all_swapped_fail_alike(tmp_path: Path) -> None:
    """Every row with swapped axes: the same error and fix."""
    lines = [HEADER] + [f"H{i};2021-03-15;rån;{6581234 + i},5;{151234 + i},5" for i in range(50)]
    (out, _), _ = _incidents(_write(tmp_path / "h.csv", lines))
    assert out[0] == "InputError" and "swap" in out[1]


@pytest.mark.parametrize("lines", [
    [HEADER, '"H1";"2021-03-15";"rån; stöld";"151234,5";"6581234,5"', *MESSY[:3]],  # quotes
    [HEADER, "H1;2021-03-15;rån;151234,5", *MESSY[:3]],                            # short row
    [HEADER, "H1;2021-03-15;rån;151234,5;6581234,5;;", *MESSY[:3]],                # empty extra
    [HEADER, "H1;2021-03-15;rån;151234,5;6581234,5;extra", *MESSY[:3]],            # long row
    [HEADER, "H1;2021-03-15;rån\r;151234,5;6581234,5", *MESSY[:3]],                # lone CR
    ["Kategori;Datum", "rån;2021-03-15"],                                          # no x/y
])
def test_awkward_files_read_alike(tmp_path: Path, lines: list[str]) -> None:
    """Files the plain-CSV path leaves to the csv module read the same."""
    _incidents(_write(tmp_path / "h.csv", lines))


def test_vector_file_untouched(tmp_path: Path) -> None:
    """A GeoPackage is read the same way on both paths."""
    gdf = gpd.GeoDataFrame({"Datum": ["2021-03-15", "igår"], "Kategori": ["rån", None]},
                           geometry=gpd.points_from_xy([151234.5, 151235.5],
                                                       [6581234.5, 6581235.5]), crs="EPSG:3011")
    path = tmp_path / "h.gpkg"
    gdf.to_file(path, engine="pyogrio")
    _assert_same(*_both(lambda: read_incidents(path)))


def test_many_random_coordinates_read_alike() -> None:
    """Random numbers with up to 15 + 12 digits: the same floats, sign of zero too."""
    rng = np.random.default_rng(17)
    n = 20_000
    digits = rng.integers(0, 13, n)
    xs = [f"{v:.{d}f}".replace(".", ",") if k % 3 else f"{v:,.{d}f}".replace(",", " ")
          for k, (v, d) in enumerate(zip(rng.uniform(-1e9, 1e9, n).tolist(), digits.tolist(),
                                         strict=True))]
    s = pd.Series(xs + ["123456789012345,123456789012", "-0", "0,0", "007,50"])
    rows = np.arange(2, len(s) + 2)
    (fast, _), (slow, _) = _both(lambda: parse_number(s, column="X", file=None, rows=rows))
    np.testing.assert_array_equal(fast[0].to_numpy(), slow[0].to_numpy())
    assert np.signbit(fast[0].to_numpy()).tolist() == np.signbit(slow[0].to_numpy()).tolist()
    assert fast[1] == slow[1]


_CELL = st.text(alphabet=st.sampled_from(list('ab1,. ;"\r\n\t\x0b\xa0\u2028ö-')), max_size=6)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.lists(_CELL, min_size=1, max_size=4), min_size=1, max_size=8),
       end=st.sampled_from(["\r\n", "\n", ""]))
def test_random_text_tables_read_alike(tmp_path: Path, rows: list[list[str]], end: str) -> None:
    """Any text (quotes, line breaks, blank lines, odd white space): the same table or error."""
    text = "X;Y;Z\r\n" + "\r\n".join(";".join(r) for r in rows) + end
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    fast, slow = _both(lambda: read_table(path))
    _assert_same(fast, slow)


def test_input_error_names_file_row_and_column(tmp_path: Path) -> None:
    """The error of a bad coordinate names its row and column."""
    lines = [HEADER, *MESSY[:3], "H9;2021-03-15;rån;saknas;6581234,5"]
    path = _write(tmp_path / "h.csv", lines)
    with pytest.raises(InputError) as err:
        read_incidents(path, crs="EPSG:3011")
    assert err.value.row == 5 and err.value.column == "X"
