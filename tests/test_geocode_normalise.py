"""Normalisation and parsing of Swedish address text (trygg_geo.geocode._normalise)."""

from __future__ import annotations

import pytest

from trygg_geo.geocode._normalise import (
    blocking_keys,
    is_other_script,
    name_fold,
    name_key,
    parse_address,
    parse_housenumber,
    repair_encoding,
)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Storg.", "storgatan"),
        ("Storgat.", "storgatan"),
        ("Kyrkv.", "kyrkvägen"),
        ("Kyrkvg.", "kyrkvägen"),
        ("Brunkebergspl.", "brunkebergsplan"),
        ("S:t Eriksgatan", "sankt eriksgatan"),
        ("St. Eriksgatan", "sankt eriksgatan"),
        ("Sankt Eriksgatan", "sankt eriksgatan"),
        ("Birger Jarls g.", "birger jarlsgatan"),
        ("  DROTTNINGGATAN ", "drottninggatan"),
    ],
)
def test_name_key_expands_abbreviations(text: str, key: str) -> None:
    assert name_key(text) == key


def test_fold_is_a_separate_fallback() -> None:
    assert name_key("Rågsvedsvägen") == "rågsvedsvägen"
    assert name_fold("Rågsvedsvägen") == "ragsvedsvagen"
    assert name_fold("Tegnérgatan") == name_fold("Tegnergatan")


@pytest.mark.parametrize(
    ("text", "street", "number", "letter", "number_to", "postcode"),
    [
        ("Storg. 12", "storgatan", 12, "", None, None),
        ("Storgatan 12A", "storgatan", 12, "a", None, None),
        ("Storgatan 12 B", "storgatan", 12, "b", None, None),
        ("Kyrkvägen 3-5", "kyrkvägen", 3, "", 5, None),
        ("Kyrkvägen 3–5", "kyrkvägen", 3, "", 5, None),
        ("Birger Jarlsgatan 23, 111 45 Stockholm", "birger jarlsgatan", 23, "", None, "11145"),
        ("Götgatan 10 11645 Stockholm", "götgatan", 10, "", None, "11645"),
        ("utanför Kungsg. 5", "kungsgatan", 5, "", None, None),
        ("i höjd med Sveavägen 44", "sveavägen", 44, "", None, None),
        ("vid Drottninggatan nr 7", "drottninggatan", 7, "", None, None),
    ],
)
def test_parse_street_addresses(text: str, street: str, number: int, letter: str,
                                number_to: int | None, postcode: str | None) -> None:
    p = parse_address(text)
    assert p.form == "address"
    assert (p.street, p.number, p.letter, p.number_to, p.postcode) == (street, number, letter, number_to, postcode)


def test_parse_locality_after_postcode() -> None:
    assert parse_address("Storgatan 1, 123 45 Storstad").locality == "storstad"


@pytest.mark.parametrize(
    "text", ["korsningen Sveavägen/Kungsgatan", "Sveavägen / Kungsgatan", "korsningen Sveavägen och Kungsgatan",
             "hörnet av Sveavägen och Kungsgatan"],
)
def test_parse_intersections(text: str) -> None:
    p = parse_address(text)
    assert (p.form, p.street_a, p.street_b) == ("intersection", "sveavägen", "kungsgatan")


def test_parse_spans() -> None:
    p = parse_address("gångvägen mellan Rågsvedsvägen och Snösätragränd")
    assert (p.form, p.street, p.street_a, p.street_b) == ("between", None, "rågsvedsvägen", "snösätragränd")
    q = parse_address("Storgatan mellan Kyrkvägen och Torggatan")
    assert (q.form, q.street, q.street_a, q.street_b) == ("between", "storgatan", "kyrkvägen", "torggatan")


def test_parse_names_and_empty() -> None:
    assert parse_address("Rinkebyskolan").form == "name"
    assert parse_address("utanför Rinkebyskolan").street == "rinkebyskolan"
    assert parse_address("").form == "empty"
    assert parse_address(None).form == "empty"
    assert parse_address(float("nan")).form == "empty"
    assert parse_address("vid").form == "empty"


def test_housenumbers() -> None:
    assert parse_housenumber("12A") == (12, "a", None, "")
    assert parse_housenumber("12 b") == (12, "b", None, "")
    assert parse_housenumber("12-14") == (12, "", 14, "")
    assert parse_housenumber("x") == (None, "", None, "")


def test_encoding_and_script() -> None:
    assert repair_encoding("GÃ¥ngvÃ¤gen 3") == ("Gångvägen 3", True)
    assert repair_encoding("Gångvägen 3") == ("Gångvägen 3", False)
    assert is_other_script("Тверская улица 7")
    assert not is_other_script("Tegnérgatan 7")


def test_one_typo_keeps_a_blocking_key() -> None:
    for right, wrong in [("rosgatan", "rogsatan"), ("kungsgatan", "kvngsgatan"),
                         ("slagbacken", "slgbacken"), ("drottninggatan", "drotninggatan")]:
        assert blocking_keys(right) & blocking_keys(wrong), (right, wrong)
