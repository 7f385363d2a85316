"""The report as a nämnd reads it (issue 13, point 5).

The bokslut first, per project, per area, the method section, the event-time trend figure,
and rapport.pdf.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trygg_geo import report
from trygg_geo._i18n import TEXTS, fmt_number, fmt_sek, texts
from trygg_geo._outputs import planned_outputs, verify_outputs, with_report_files
from trygg_geo._report_render import flatten_blocks
from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.pipeline import Results, run

pdfium = pytest.importorskip("pypdfium2")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, Path]:
    out = tmp_path_factory.mktemp("report_demo")
    city = make_demo_city(out / "indata", seed=2024)
    cfg = load_config(city.config)
    cfg = replace(cfg, output=replace(cfg.output, folder=out))
    with pytest.warns(Warning):  # the demo register repeats a row on purpose
        res = run(cfg, write=True)
    return res, out


def _once(reg: pd.DataFrame) -> pd.DataFrame:
    return reg[reg["duplicate_of"].isna()]


def _table_after(blocks: list[report.Block], heading: str) -> pd.DataFrame:
    flat = flatten_blocks(blocks)
    i = next(k for k, b in enumerate(flat) if b.kind in ("h2", "h3") and b.content == heading)
    return next(b.content for b in flat[i:] if b.kind == "table")


def _nbsp(s: str) -> str:
    return s.replace("\u00a0", " ").replace("\u202f", " ")


def test_the_bokslut_comes_first_and_its_totals_are_the_registers(demo) -> None:
    res, _ = demo
    blocks = report.build_report(res)
    assert blocks[0].kind == "front"
    front = blocks[0].content
    assert [b.content for b in front if b.kind == "h2"] == ["Bokslut i korthet"]
    reg = res.register
    assert reg["duplicate_of"].notna().sum() == 1  # the demo's exact copy (row 75 = row 4)
    once = _once(reg)
    granted, spent = once["granted_sek"].sum(), once["spent_sek"].sum()
    assert granted < reg["granted_sek"].sum()  # the copy is counted once
    money = front[5].content  # h1, generated, run id, h2, counts, then the money sentence
    assert money.startswith(f"Beviljat totalt {fmt_sek(granted)}, nyttjat {fmt_sek(spent)};")
    status = _table_after(blocks, "Pengar och genomförande").set_index("Läge")
    assert status.loc["Totalt", "Antal projekt"] == len(once) == 73
    assert status.loc["Totalt", "Beviljat"] == fmt_sek(granted)
    assert status.loc["Totalt", "Nyttjat"] == fmt_sek(spent)
    # the surplus counts finished projects with both amounts: 65 completed rows here
    done = once[once["completed"].notna() & once["spent_sek"].notna()]
    assert status.loc["genomförd", "Antal projekt"] == 65
    assert status.loc["Totalt", "Överskott"] == fmt_sek((done["granted_sek"]
                                                         - done["spent_sek"]).sum())
    assert status.drop("Totalt")["Antal projekt"].sum() == len(once)
    # what could be measured: every project once, measured or with its reason
    measured = _table_after(blocks, "Vad kunde mätas").set_index("Utfall")["Antal projekt"]
    assert measured.sum() == len(once)
    assert measured.index[0] == "Effekt skattad" and measured.iloc[0] == 60
    assert measured["Kunde inte placeras på kartan (se Ej placerade)"] == len(res.unplaced) == 7
    assert measured["Datum för färdigställande saknas, så mätperioden är okänd."] == 5
    inv = res.effects[res.effects["scope"] == "investment"]
    assert measured.iloc[0] == _once(reg).merge(inv, on="source_row")["estimate"].notna().sum()


def test_per_project_rows_are_the_register_rows(demo) -> None:
    res, _ = demo
    blocks = report.build_report(res)
    table = _table_after(blocks, "Per projekt")
    assert len(table) == len(res.placed) + len(res.unplaced) == len(res.register) == 74
    assert table["Projekt-ID"].tolist() == res.register["investment_id"].astype(str).tolist()
    col = "Effekt, procentenheter (95 % KI), eller varför ingen"
    assert table[col].str.len().gt(3).all()  # an estimate with its CI, or why there is none
    first = table.iloc[0]
    assert first["Genomfört"] == "ja (2019-04-28)"
    assert _nbsp(first["Överskott"]) == "\u221263 800 kr (\u22125 %)"
    bound = r"(?:[\u2212+]?\d+,\d|\u2212\u221e|\+\u221e)"
    assert re.fullmatch(rf"[\u2212+]?\d+,\d \({bound} till {bound}\)", first[col]), first[col]
    unplaced = set(res.unplaced["investment_id"].astype(str))
    reasons = table.loc[table["Projekt-ID"].isin(unplaced), col]
    assert reasons.str.contains("[a-zåäö]{4}", regex=True).all()
    assert "Kr per procentenhet (intervall)" in table.columns


def test_per_area_shows_only_the_analysis_areas_by_role_then_change(demo) -> None:
    res, _ = demo
    areas = report.analysis_areas(res)
    roles = res.roles.set_index("area_id")["role"]
    expected = set(roles[roles.isin(["treated", "control"])].index.astype(str))
    assert set(areas["area_id"]) == expected and len(areas) == 34 < len(res.areas)
    assert areas["role"].tolist() == sorted(areas["role"], key=["treated", "control"].index)
    for _, grp in areas.groupby("role"):
        shown = grp.loc[~grp["suppressed"].astype(bool), "change"].to_numpy(dtype=float)
        assert np.all(np.diff(shown) >= 0)
    table = _table_after(report.build_report(res), "Per område")
    assert table["Område"].tolist() == areas["name"].tolist()
    assert set(table["Roll"]) == {"behandlat", "kontroll"}
    assert "Förändring 2021→2024 (procentenheter)" in table.columns


def test_a_suppressed_change_does_not_decide_the_order(demo) -> None:
    res, _ = demo
    areas = res.areas.copy()
    treated = res.roles.loc[res.roles["role"] == "treated", "area_id"].tolist()
    low = areas["area_id"].isin(treated[:1])
    areas.loc[low, "change"] = -0.9  # would sort first if it were published
    areas.loc[low, "suppressed"] = True
    order = report.analysis_areas(replace(res, areas=areas))
    in_role = order[order["role"] == "treated"]
    assert in_role["area_id"].iloc[-1] == treated[0]


def test_trend_figure_is_aligned_on_event_time_and_agrees_with_the_table(demo) -> None:
    res, _ = demo
    kinds = res.effects[res.effects["scope"] == "kind"].set_index("kind")
    assert len(kinds) == 5
    for kind, row in kinds.iterrows():
        tr = report.event_time_trends(res, str(kind)).set_index("event_time")
        assert list(tr.index) == [-3, -2, -1, 0, 1, 2]
        assert tr["n_cohorts"].tolist() == [1, 2, 3, 3, 2, 1]
        did = ((tr.loc[0, "treated"] - tr.loc[0, "control"])
               - (tr.loc[-1, "treated"] - tr.loc[-1, "control"]))
        if row["method"] == "did_2x2":
            assert did == pytest.approx(row["estimate"], abs=1e-9), kind
            continue
        # a Callaway-Sant'Anna row (four waves): its own event study, reference -1 at 0,
        # is what the report draws beside the trend (with not-yet-treated controls)
        assert row["method"] == "callaway_santanna"
        es = res.event_study[res.event_study["kind"] == kind].set_index("event_time")
        assert es.loc[-1, "estimate"] == 0 and 0 in es.index and np.isfinite(row["pretrend_p"])


def test_labels_are_swedish(demo) -> None:
    res, out = demo
    md = (out / "rapport.md").read_text(encoding="utf-8")
    assert "otrygg_kvall (%)" not in md and "otrygg\\_kvall" not in md
    assert report.indicator_label("otrygg_kvall", "sv") in md
    for code in res.effects["method"].dropna().unique():
        assert report.method_label(code, "sv") in md
        if f"estimator.name.{code}" in TEXTS:
            assert code.replace("_", "\\_") not in md and code not in md
    assert "Metod och förbehåll" in md and "Rubrikintervall" in md and "MDE" in md
    # the trend figure's y label is the indicator's Swedish label (the figure is drawn from it)
    assert report.indicator_label("otrygg_kvall", "en").startswith("Feels unsafe outdoors")
    assert report.indicator_label("eget_mått", "sv") == "eget_mått"


def test_method_section_counts_tests_and_chance(demo) -> None:
    res, _ = demo
    blocks = flatten_blocks(report.build_report(res))
    est = res.effects[res.effects["estimate"].notna()]
    para = next(b.content for b in blocks if b.kind == "p" and "signifikanta" in str(b.content))
    # investments that share an area x window contrast are one test (Holm counts it once)
    n_tests = est["contrast_id"].where(est["scope"] == "investment").nunique() \
        + int((est["scope"] != "investment").sum())
    assert n_tests < len(est)  # the demo has shared contrasts
    assert para.startswith(f"{n_tests} test, ")
    expected = fmt_number((1 - 0.95) * n_tests, 1)
    assert f"omkring {expected} signifikanta" in para
    shared = next(b.content for b in blocks if b.kind == "p" and "olika test" in str(b.content))
    assert shared.startswith(f"{len(est)} skattningar men {n_tests} olika test")
    table = _table_after(report.build_report(res), "Alla skattningar")
    assert len(table) == len(est)
    assert set(table["Rubrikintervall"]) <= {"modell", "permutation"}
    assert table["MDE"].str.match(r"\d+,\d").all()


def test_headline_follows_the_headline_column() -> None:
    row = pd.Series({"estimate": -0.05, "ci_low": -0.08, "ci_high": -0.02, "p_value": 0.001,
                     "perm_ci_low": -0.11, "perm_ci_high": 0.01, "p_perm": 0.09,
                     "headline": "permutation", "mde": 0.04, "n_treated": 3, "n_control": 5,
                     "level": 0.95})
    assert report._headline(row) == ("permutation", -0.11, 0.01, 0.09)
    assert "ingen mätbar förändring" in report.plain_effect(row, label="Belysning", lang="sv")
    assert report._headline(row.drop("headline")) == ("model", -0.08, -0.02, 0.001)


def test_register_text_is_escaped_in_the_html(demo) -> None:
    res, _ = demo
    reg = res.register.copy()
    reg.loc[0, "name"] = "<script>alert('x')</script> & <b>fet</b>"
    html = report.render_html(report.build_report(replace(res, register=reg)), lang="sv")
    assert "<script>" not in html and "<b>fet" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;fet&lt;/b&gt;" in html
    assert html.count("<section class='front'>") == 1


def test_pdf_first_page_is_the_bokslut_and_not_blank(demo) -> None:
    res, out = demo
    pdf = pdfium.PdfDocument(str(out / "rapport.pdf"))
    try:
        assert len(pdf) >= 3
        first = pdf[0]
        width, height = first.get_size()
        assert height > width  # the bokslut upright; the wide tables after it lie down
        assert pdf[1].get_size()[0] > pdf[1].get_size()[1]
        pixels = np.asarray(first.render(scale=1).to_pil().convert("L"), dtype=float)
        assert pixels.std() > 10 and (pixels < 128).mean() > 0.01  # text, not a blank page
        page_text = _nbsp(first.get_textpage().get_text_range())
    finally:
        pdf.close()
    once = _once(res.register)
    assert "Bokslut i korthet" in page_text
    total = re.search(r"Beviljat totalt ([\d ]+) kr, nyttjat ([\d ]+) kr", page_text)
    assert total, page_text[:500]
    granted, spent = (float(g.replace(" ", "")) for g in total.groups())
    assert (granted, spent) == (once["granted_sek"].sum(), once["spent_sek"].sum())
    assert "Effekten mäts som" in page_text  # the whole bokslut fits on the first page
    assert str(res.register["investment_id"].iloc[0]) not in page_text  # and nothing else


def test_pdf_is_in_the_output_set_and_the_written_list(demo) -> None:
    res, out = demo
    assert out / "rapport.pdf" in {p.path for p in planned_outputs(res.config)}
    assert verify_outputs(out)
    listed = with_report_files(res.paths)
    assert listed["report_html"] == out / "rapport.html"
    assert listed["report_pdf"] == out / "rapport.pdf"
    assert list(listed).index("report_pdf") == list(listed).index("report") + 2


def test_a_missing_weasyprint_names_the_fix(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint -> ImportError
    with pytest.raises(ImportError, match="pip install weasyprint.*libpango-1.0-0"):
        report.render_pdf("<p>x</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_english_report(demo) -> None:
    res, _ = demo
    cfg = replace(res.config, project=replace(res.config.project, language="en"))
    blocks = report.build_report(replace(res, config=cfg))
    assert blocks[0].content[3].content == "Summary of accounts"
    t = texts("report.", "en", level=0.95)
    assert t["col_effect_or_reason"] in _table_after(blocks, "Per project").columns


def test_unbounded_intervals_are_explained_and_blank_in_the_csv(demo) -> None:
    """A per-project permutation interval that cannot be bounded (one treated area, few
    controls) is explained once in the report and is an empty cell in projekt.csv."""
    res, _ = demo
    inv = res.effects[res.effects["scope"] == "investment"]
    lo = pd.to_numeric(inv.get("perm_ci_low"), errors="coerce")
    assert np.isinf(lo).any(), "the demo has an unbounded per-project interval"
    blocks = flatten_blocks(report.build_report(res))
    assert any(b.kind == "p" and "kan permutationstestet inte utesluta" in str(b.content)
               for b in blocks)
    table = report.project_table(res, "sv")
    for col in ("Effekt (procentenheter)", "KI nedre", "KI övre"):
        vals = pd.to_numeric(table[col], errors="coerce")
        assert not np.isinf(vals).any(), col
    assert table["KI nedre"].isna().sum() >= int(np.isinf(lo).sum() > 0)
