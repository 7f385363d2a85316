"""Point 4 of the security issue: no published output holds a suppressed cell, or a difference
that gives it back.

Five survey cells of the demo city get fewer respondents than ``min_n`` and shares that appear
nowhere else (77,7 %, 88,8 %, 66,6 %, 99,1 %, 96,4 %): the only small treated area of a kind
(twice, once in the last wave), two small treated areas of one kind, and a control area. After a real run, every published output is scanned for those shares and for every
difference between a suppressed cell and another cell of the same area, as text (Swedish and
English number formats) and as numbers (every numeric field of every GeoPackage layer).
"""

from __future__ import annotations

import itertools
import re
import sqlite3

import numpy as np
import pandas as pd
import pyogrio
import pytest

from trygg_geo.disclosure import disclosed_cells

# (area, wave): (respondents, share in percent)
SMALL = {
    ("SD01", 2021): (12, "77,7"),   # belysning, cohort 2021: its post cell
    ("SD09", 2018): (9, "88,8"),    # slyrojning, cohort 2021: pre cell
    ("SD22", 2021): (8, "66,6"),    # slyrojning, cohort 2021: post cell
    ("SD02", 2024): (5, "99,1"),    # a control area, last wave
    ("SD15", 2024): (7, "96,4"),    # klottersanering, cohort 2024: post cell, last wave
}


def _shares(case) -> pd.DataFrame:
    df = case.read_csv("trygghetsmatning.csv")
    df = df[df["Indikator"] == "otrygg_kvall"].copy()
    df["share"] = df["Andel (%)"].str.replace(",", ".").astype(float) / 100
    return df


def _small_cells(case) -> None:
    def edit(df: pd.DataFrame) -> None:
        for (area, wave), (n, share) in SMALL.items():
            m = (df["Områdes-id"] == area) & (df["År"] == str(wave)) & (df["Indikator"] == "otrygg_kvall")
            assert m.sum() == 1
            df.loc[m, "Antal svarande"] = str(n)
            df.loc[m, "Andel (%)"] = share
    case.edit_csv("trygghetsmatning.csv", edit)


@pytest.fixture
def run(case):
    """The pooled 2x2 kind rows, whose leave-out rule the tests below check in detail."""
    _small_cells(case)
    case.edit_text("projekt.toml", lambda t: t.replace("[analysis]\n",
                                                       '[analysis]\nestimator = "did_2x2"\n'))
    result = case.run().expect(0)
    return case, result


@pytest.fixture
def run_auto(case):
    """The default design estimator: Callaway-Sant'Anna kind rows (four waves)."""
    _small_cells(case)
    result = case.run().expect(0)
    return case, result


def _secret_values(case) -> list[float]:
    """Suppressed shares, and their differences with every other cell of the same area."""
    df = _shares(case)
    out = []
    for (area, wave) in SMALL:
        sub = df[df["Områdes-id"] == area]
        cells = pd.Series(sub["share"].to_numpy(), index=sub["År"].astype(int).to_numpy())
        s = cells[wave]
        out.append(s)
        out += [s - v for w, v in cells.items() if w != wave]
    return out


def _texts(v: float) -> list[str]:
    pct = abs(v) * 100
    s = f"{pct:.1f}"
    return [s, s.replace(".", ",")]


def test_no_suppressed_value_or_revealing_difference_is_published(run):
    _scan(*run)


def test_no_suppressed_value_is_published_with_staggered_kind_rows(run_auto):
    case, result = run_auto
    eff = pyogrio.read_dataframe(case.folder / "resultat.gpkg", layer="effekter",
                                 read_geometry=False)
    assert (eff["method"] == "callaway_santanna").any()
    _scan(case, result)


def _scan(case, result) -> None:
    folder = case.folder
    secrets = _secret_values(case)
    # the texts a reader sees
    texts = {name: (folder / name).read_text(encoding="utf-8")
             for name in ("karta.html", "rapport.md", "rapport.html")}
    texts["stdout"] = result.out
    # the report embeds figures as base64: scan the text around them only
    for name, text in texts.items():
        text = re.sub(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+", "", text)
        for v in secrets:
            for s in _texts(v):
                hits = [m.start() for m in re.finditer(rf"(?<![\d,.]){re.escape(s)}(?![\d])", text)]
                assert not hits, f"{s} (from a suppressed cell) in {name}: {text[max(0, hits[0]-200):hits[0]+50]!r}"
    # every numeric field of every layer
    gpkg = folder / "resultat.gpkg"
    for layer, _ in pyogrio.list_layers(gpkg):
        df = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
        num = df.select_dtypes("number")
        for col in num.columns:
            vals = num[col].to_numpy(dtype=float)
            for v in secrets:
                for scale in (1.0, 100.0):
                    close = np.isclose(np.abs(vals), abs(v) * scale, rtol=0, atol=1e-9)
                    close &= vals != np.round(vals)  # ids and counts are whole numbers
                    assert not close.any(), f"{layer}.{col} holds {v * scale} (from a suppressed cell)"


def test_estimates_that_rest_on_a_suppressed_cell_are_blank_with_a_swedish_reason(run):
    case, _ = run
    gpkg = case.folder / "resultat.gpkg"
    eff = pyogrio.read_dataframe(gpkg, layer="effekter", read_geometry=False)
    inv = eff[eff["scope"] == "investment"]
    # per-investment estimates of SD01 (post cell small) and SD04 are blank and say why
    for area in ("SD01", "SD15", "SD09", "SD22"):
        rows = inv[inv["unit_ids"] == area]
        assert len(rows), f"no per-investment row for {area}"
        assert rows["estimate"].isna().all() and rows["ci_low"].isna().all() and rows["mde"].isna().all()
        assert rows["suppressed"].astype(bool).all()
        assert rows["reason"].str.contains("färre än 30 svar").all()
    # every investment measured over a window that holds one of its areas' small cells is
    # blank; every other one keeps its estimate (a line reaching two areas, one of them small:
    # tests/test_relation.py)
    def holds_small(r: pd.Series) -> bool:
        if pd.isna(r["pre_wave"]):
            return False
        waves = {int(r["pre_wave"]), int(r["post_wave"])}
        return any((a, w) in SMALL for a in str(r["unit_ids"]).split(",") for w in waves)

    measured = inv[inv["reason"].isna() | inv["suppressed"].astype(bool)]
    touches = measured.apply(holds_small, axis=1)
    assert touches.sum() >= 4
    assert measured.loc[touches, "estimate"].isna().all()
    assert measured.loc[~touches, "estimate"].notna().all()
    kinds = eff[eff["scope"] == "kind"].set_index("kind")
    # belysning and klottersanering had ONE treated area with a small cell: estimated without it
    for kind, area in (("belysning", "SD01"), ("klottersanering", "SD15")):
        assert pd.notna(kinds.loc[kind, "estimate"]) and not bool(kinds.loc[kind, "suppressed"])
        assert int(kinds.loc[kind, "n_small_left_out"]) == 1
        assert area not in kinds.loc[kind, "unit_ids"].split(",")
    # slyrojning had two: their cells cannot be told apart, so both stay in
    assert int(kinds.loc["slyrojning", "n_small_left_out"]) == 0
    assert {"SD09", "SD22"} <= set(kinds.loc["slyrojning", "unit_ids"].split(","))
    # the control area with a small cell is not a control
    roles = pyogrio.read_dataframe(gpkg, layer="kontroll", read_geometry=False)
    assert "SD02" not in set(roles["area_id"])


def test_published_estimates_disclose_no_cell(run):
    """The attack: published estimates plus published cells must not solve for a small cell."""
    from trygg_geo.effects.did import did_contrast
    from trygg_geo.survey import read_survey, survey_panel

    case, _ = run
    gpkg = case.folder / "resultat.gpkg"
    eff = pyogrio.read_dataframe(gpkg, layer="effekter", read_geometry=False)
    controls = pyogrio.read_dataframe(gpkg, layer="kontroll", read_geometry=False)["area_id"].tolist()
    treated = pyogrio.read_dataframe(gpkg, layer="behandling", read_geometry=False)
    window = {a: (int(p), int(c)) for a, p, c in
              zip(treated["area_id"], treated["pre_wave"], treated["cohort"], strict=True)}
    panel = survey_panel(read_survey(case.path("trygghetsmatning.csv")), min_n=30)
    panel = panel[panel["indicator"] == "otrygg_kvall"]
    small = {(str(a), int(w)) for a, w in SMALL}
    weights = []
    for _, r in eff[eff["estimate"].notna()].iterrows():
        # a project's own window is published with it; a kind uses each area's window
        own = (int(r["pre_wave"]), int(r["post_wave"])) if pd.notna(r["pre_wave"]) else None
        t = {a: own or window[a] for a in str(r["unit_ids"]).split(",")}
        c = did_contrast(panel, treated=t, controls=controls, waves=[2015, 2018, 2021, 2024],
                         indicator="otrygg_kvall").cells
        w = dict(zip(zip(c["area_id"], c["wave"].astype(int)), c["weight"], strict=True))
        assert abs(sum(w[k] * panel.set_index(["area_id", "wave"]).loc[k, "share"] for k in w)
                   - r["estimate"]) < 1e-9  # the published estimate is this contrast
        weights.append(w)
    assert disclosed_cells(weights, small) == set()
    # and a naive attack on each single-area estimate finds nothing to solve
    assert all(not (set(w) & small) or len(set(w) & small) > 1 for w in weights
               if len({a for a, _ in w} - set(controls)) == 1)


def test_omraden_never_holds_a_small_cell_share(run):
    case, _ = run
    gpkg = case.folder / "resultat.gpkg"
    om = pyogrio.read_dataframe(gpkg, layer="omraden", read_geometry=False).set_index("area_id")
    for (area, wave) in SMALL:
        assert pd.isna(om.loc[area, f"otrygg_kvall_{wave}"])
        assert bool(om.loc[area, f"supp_{wave}"])
    for area in ("SD02", "SD15"):  # last-wave cell small: no change, no interval
        assert pd.isna(om.loc[area, "change"]) and pd.isna(om.loc[area, "change_ci_low"])
    # an untouched area keeps its values
    assert om.loc["SD03", ["otrygg_kvall_2024", "change"]].notna().all()
