"""Kind texts as registers write them: synonyms, typos, false friends, [register.kinds]."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from trygg_geo import cli, report
from trygg_geo._errors import ConfigError
from trygg_geo._i18n import texts
from trygg_geo.config import Config
from trygg_geo.interventions import (
    FUZZY_THRESHOLD,
    KindMatch,
    check_kind_mapping,
    match_kind,
    recognise_kind,
    toml_kind_line,
    unknown_kinds,
)
from trygg_geo.io import read_register

# (text as written in a register, kind, how)
RECOGNISED = [
    ("Belysning", "belysning", "exact"),
    ("Upprustning av utemiljö", "utemiljo", "exact"),
    ("Gatubelysning, nya armaturer", "belysning", "synonym"),
    ("Ny belysning GC-väg", "belysning", "synonym"),
    ("Belysningsupprustning", "belysning", "synonym"),
    ("Siktröjning", "slyrojning", "synonym"),
    ("Sly- och buskröjning", "slyrojning", "synonym"),
    ("Slyröjn.", "slyrojning", "synonym"),
    ("Trygghetskamera vid torget", "kamerabevakning", "synonym"),
    ("Klotterborttagning", "klottersanering", "synonym"),
    ("Trygghetsvandring", "trygghetsvandring", "exact"),
    ("Övrigt", "annat", "synonym"),
    # typos: one or two letters off a synonym of 6+ letters
    ("Belysnig", "belysning", "fuzzy"),
    ("Bleysning", "belysning", "fuzzy"),
    ("Belsyning", "belysning", "fuzzy"),
    ("Gatubelysnig", "belysning", "fuzzy"),
    ("Belysnigen vid gångvägen", "belysning", "fuzzy"),
    ("Kamerbevakning", "kamerabevakning", "fuzzy"),
    ("Kamrabevakning", "kamerabevakning", "fuzzy"),
    ("Klotersanering", "klottersanering", "fuzzy"),
    ("Trygghetskameror", "kamerabevakning", "fuzzy"),
]

# real kind texts that are not a catalogue kind and must stay "annat"
NOT_KINDS = [
    "Snöröjning", "Parkering", "Cykelparkering", "Beläggning", "Planering", "Belastningsskydd",
    "Konstverk", "Fartgupp", "Utbildning", "Trafiksäkerhetsåtgärd", "Skyltning", "Städning",
    "Stängsel", "Ordningsvakter", "Trygghetsskapande åtgärder", "Bevattning", "Besiktning",
    "Utredning", "Rensning", "Nattvandrare", "Sittbänkar", "Staket",
]


@pytest.mark.parametrize(("written", "kind", "how"), RECOGNISED)
def test_kind_texts_are_recognised_with_how(written: str, kind: str, how: str) -> None:
    m = match_kind(written)
    assert (m.kind, m.how) == (kind, how)
    assert m.recognised and m.nearest == kind
    if how == "fuzzy":
        assert FUZZY_THRESHOLD <= m.score < 100
    else:
        assert m.score == 100.0
    assert recognise_kind(written) == (kind, True)


@pytest.mark.parametrize("written", NOT_KINDS)
def test_other_words_are_not_fuzzy_matched(written: str) -> None:
    m = match_kind(written)
    assert (m.kind, m.how, m.recognised) == ("annat", "unknown", False)
    assert m.score < FUZZY_THRESHOLD
    assert recognise_kind(written) == ("annat", False)


def test_the_threshold_separates_typos_from_real_words() -> None:
    typo_scores = [match_kind(t).score for t, _, how in RECOGNISED if how == "fuzzy"]
    other_scores = [match_kind(t).score for t in NOT_KINDS]
    assert min(typo_scores) >= FUZZY_THRESHOLD > max(other_scores)
    assert min(typo_scores) == pytest.approx(88.9, abs=0.05)  # Bleysning, Belsyning
    assert max(other_scores) == pytest.approx(82.4, abs=0.05)  # Planering ~ sanering


def test_short_words_never_match_fuzzily() -> None:
    # "ljud" is one letter from the synonym "ljus", "parc" from "park": too short to tell
    for written in ("ljud", "parc", "slyy", "kamra"):
        assert match_kind(written).how == "unknown", written


def test_empty_and_missing_texts_are_unknown_with_score_zero() -> None:
    for value in (None, float("nan"), pd.NA, "", "  ", "–"):
        assert match_kind(value) == KindMatch("annat", 0.0, "unknown")


def test_config_texts_win_and_are_compared_folded() -> None:
    extra = {"Trygghetsvandring i parken": "trygghetsvandring", "Konstverk": "utemiljo",
             "Belysning": "utemiljo"}
    m = match_kind("KONSTVERK!", extra)
    assert (m.kind, m.how, m.score, m.matched) == ("utemiljo", "config", 100.0, "Konstverk")
    assert match_kind("Belysning", extra).kind == "utemiljo"  # the config wins over the catalogue
    assert match_kind("Konstverk i tunneln", extra).how == "unknown"  # whole text only


def test_kind_mapping_is_validated() -> None:
    assert check_kind_mapping({"Ljuskonst": " belysning "}) == {"Ljuskonst": "belysning"}
    with pytest.raises(ValueError, match=r"'konst' is not a kind id\. Use one of: belysning"):
        check_kind_mapping({"Konstverk": "konst"})
    with pytest.raises(ValueError, match="must be text"):
        check_kind_mapping({"Konstverk": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="reads the same"):
        check_kind_mapping({"Konst": "annat", "konst!": "belysning"})
    with pytest.raises(ValueError, match="empty"):
        check_kind_mapping({"--": "annat"})


def _config(tmp_path: Path, kinds_toml: str) -> Path:
    p = tmp_path / "projekt.toml"
    p.write_text('[areas]\npath = "a.gpkg"\n[register]\npath = "r.csv"\n' + kinds_toml
                 + '[gazetteer]\npath = "g.osm"\n[survey]\npath = "s.csv"\n', encoding="utf-8")
    return p


def test_register_kinds_in_projekt_toml(tmp_path: Path) -> None:
    from trygg_geo.config import load_config

    cfg = load_config(_config(tmp_path, '[register.kinds]\n"Konstverk i tunnel" = "utemiljo"\n'))
    assert cfg.register.kinds == {"Konstverk i tunnel": "utemiljo"}
    assert load_config(_config(tmp_path, "")).register.kinds == {}
    with pytest.raises(ConfigError, match=r"\[register.kinds\] \"Konstverk\" = \"konst\""):
        load_config(_config(tmp_path, '[register.kinds]\n"Konstverk" = "konst"\n'))
    with pytest.raises(ConfigError, match="must be a table of kind texts"):
        Config.from_dict({"areas": {"path": "a"}, "gazetteer": {"path": "g"},
                          "survey": {"path": "s"},
                          "register": {"path": "r", "kinds": "belysning"}})


def _register(tmp_path: Path, written: list[str], **kw: object) -> pd.DataFrame:
    lines = ["Projekt-ID;Åtgärd;Adress"] + [f"T-{i};{k};Storgatan {i}" for i, k in
                                            enumerate(written, 1)]
    p = tmp_path / "reg.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_register(p, **kw)  # type: ignore[arg-type]


def test_register_gets_kind_score_and_kind_match(tmp_path: Path) -> None:
    reg = _register(tmp_path, ["Belysnig", "Siktröjning", "Konstverk", "Ljuskonst", "Belysning"],
                    kinds={"Ljuskonst": "belysning"})
    assert reg["kind"].tolist() == ["belysning", "slyrojning", "annat", "belysning", "belysning"]
    assert reg["kind_match"].tolist() == ["fuzzy", "synonym", "unknown", "config", "exact"]
    assert reg["kind_score"].tolist() == [94.1, 100.0, 62.5, 100.0, 100.0]
    assert reg["kind_recognised"].tolist() == [True, True, False, True, True]
    assert reg["read_flag"].tolist() == ["kind_fuzzy", "", "kind_unknown", "", ""]
    cols = list(reg.columns)
    assert cols[cols.index("kind_recognised") + 1: cols.index("kind_recognised") + 3] == [
        "kind_score", "kind_match"]


TRICKY = ["Trygghetsvandring i parken", 'Lampor "LED" i tunneln', "Mål\\ning\tmed tab",
          "Konst # inte en kommentar", "Åtgärd = okänd"]


@pytest.mark.parametrize("written", TRICKY)
def test_toml_line_parses_back_to_the_text(written: str) -> None:
    line = toml_kind_line(written, "utemiljo")
    doc = tomllib.loads("[register]\npath = \"r.csv\"\n[register.kinds]\n" + line + "\n")
    assert doc["register"]["kinds"] == {written: "utemiljo"}


def test_unknown_kinds_lists_texts_counts_rows_and_a_valid_line(tmp_path: Path) -> None:
    reg = _register(tmp_path, ["Konstverk", "Belysning", "konstverk", "Fartgupp", "Konstverk",
                               'Skulptur "Vågen"', ""])
    unk = unknown_kinds(reg)
    assert unk.columns.tolist() == ["kind_raw", "n", "source_rows", "suggested_kind",
                                    "toml_line"]
    assert unk["kind_raw"].tolist() == ["Konstverk", "Fartgupp", 'Skulptur "Vågen"']
    assert unk["n"].tolist() == [3, 1, 1]
    assert unk["source_rows"].tolist() == ["2, 4, 6", "5", "7"]  # the empty cell is not listed
    assert unk["suggested_kind"].tolist() == ["annat", "annat", "annat"]
    doc = tomllib.loads("[register.kinds]\n" + "\n".join(unk["toml_line"]))
    assert doc["register"]["kinds"] == {"Konstverk": "annat", "Fartgupp": "annat",
                                        'Skulptur "Vågen"': "annat"}
    # the lines, once in the config (with a kind chosen), make the texts known
    kinds = check_kind_mapping(dict(doc["register"]["kinds"], Konstverk="utemiljo"))
    again = _register(tmp_path, ["Konstverk", "konstverk", "Fartgupp"], kinds=kinds)
    assert again["kind"].tolist() == ["utemiljo", "utemiljo", "annat"]
    assert again["kind_match"].tolist() == ["config", "config", "config"]
    assert unknown_kinds(again).empty


def test_unknown_kinds_counts_an_exact_duplicate_once() -> None:
    reg = pd.DataFrame({"source_row": [2, 3, 4], "kind_raw": ["Konstverk"] * 3,
                        "kind_match": ["unknown"] * 3,
                        "duplicate_of": pd.array([pd.NA, 2, pd.NA], dtype="Int64")})
    unk = unknown_kinds(reg)
    assert unk["n"].tolist() == [2] and unk["source_rows"].tolist() == ["2, 4"]
    assert unknown_kinds(reg.iloc[0:0]).empty


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_report_and_cli_list_unknown_kinds_with_the_line(tmp_path: Path, lang: str) -> None:
    reg = _register(tmp_path, ["Konstverk", "Belysning", 'Skulptur "Vågen"'])
    t = texts("report.", lang, level=0.95)
    blocks = report._register_check_blocks(SimpleNamespace(register=reg, config=SimpleNamespace(output=SimpleNamespace(
        report_rows_per_area=50, report_max_rows=300))), t, lang)  # type: ignore[arg-type]
    assert [b.kind for b in blocks] == ["h2", "p", "table"]
    assert blocks[0].content == {"sv": "Okända åtgärdstyper", "en": "Unknown kinds"}[lang]
    assert "[register.kinds]" in blocks[1].content and "trygghetsvandring" in blocks[1].content
    table = blocks[2].content
    assert table.iloc[:, 0].tolist() == ["Konstverk", 'Skulptur "Vågen"']
    assert table.iloc[:, 3].tolist() == ['"Konstverk" = "annat"',
                                         '"Skulptur \\"Vågen\\"" = "annat"']
    md = report.render_markdown(blocks)
    assert "Konstverk" in md
    lines = cli._register_lines(reg, lang)
    assert lines[1] == "  [register.kinds]"
    assert lines[2].startswith('  "Konstverk" = "annat"    # ')
    assert lines[2].endswith({"sv": "rader 2", "en": "rows 2"}[lang])
    # the printed block is valid TOML as it stands (comments and all)
    doc = tomllib.loads("\n".join(x.strip() for x in lines[1:]))
    assert doc["register"]["kinds"] == {"Konstverk": "annat", 'Skulptur "Vågen"': "annat"}


def test_catalogue_describes_kind_score_and_kind_match() -> None:
    cat = json.loads((Path(__file__).parents[1] / "layers" / "catalogue.json").read_text("utf-8"))
    fields = {f["name"]: f for f in cat["field_sets"]["investment"]}
    assert fields["kind_score"]["type"] == "Real"
    assert fields["kind_match"]["type"] == "String"
    for name in ("kind_score", "kind_match", "duplicate_of", "status"):
        assert fields[name]["alias_sv"] and fields[name]["alias_en"], name
    assert "cancelled" in fields["status"]["description"]
