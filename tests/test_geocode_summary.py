"""The geocoding summary counts the reader's flags too, once per row, and adds up to the register."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from trygg_geo.demo import make_demo_city
from trygg_geo.geocode import Gazetteer, geocode_register
from trygg_geo.io import read_register


@pytest.fixture(scope="module")
def gazetteer(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    city = make_demo_city(tmp_path_factory.mktemp("city"), seed=1)
    return Gazetteer.from_osm_xml(city.osm)


def test_summary_counts_read_flags_once_per_row(gazetteer: Gazetteer, tmp_path: Path) -> None:
    p = tmp_path / "reg.csv"
    p.write_text(
        "Dnr;Åtgärd;Adress;Beviljat (kr);X;Y;Koordinatsystem\n"
        "1;Konstverk;;abc;0;0;SWEREF 99 TM\n"
        "2;kamera;;;;;\n"
        "3;<script>x</script>;Москва 5;10;;;\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = read_register(p)
    res = geocode_register(reg, gazetteer)
    s = res.summary().set_index(["category", "value"])["n"]
    assert s["total", "rows"] == 3 == s["total", "placed"] + s["total", "unplaced"]
    assert s["flag", "kind_unknown"] == 2  # rows 2 and 4 (the <script> kind stays data)
    assert s["flag", "bad_granted_sek"] == 1
    assert set(res.unplaced["reason"]) == {"impossible_coordinates", "empty_address", "other_script"}
