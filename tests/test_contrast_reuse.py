"""Per-investment effects are computed once per contrast (issue 17, point 1).

Investments whose treated areas and windows are the same share one 2x2 estimate, its
permutation test, its disclosure weights and its cost per point. A register that repeats
one investment 10,000 times (distinct ids, same place and dates) costs no more estimation
than the register with it once, and every copy carries the same estimate and says how many
investments share it. The table is the one a naive per-row loop gives.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo._i18n import text
from trygg_geo.design import assign_roles
from trygg_geo.effects import evaluation
from trygg_geo.effects.did import did_2x2
from trygg_geo.effects.evaluation import EFFECT_COLUMNS, evaluate_effects
from trygg_geo.effects.inference import permutation_test
from trygg_geo.effects.power import cost_per_point
from trygg_geo.effects.variance import between_district_variance

WAVES = [2015, 2018, 2021]
DATES = {w: f"{w}-09-15" for w in WAVES}
IND = "otrygg_kvall"
N_COPIES = 10_000


def _areas() -> gpd.GeoDataFrame:
    """Fourteen 100 m squares in a row: a0 .. a13."""
    return gpd.GeoDataFrame(
        {"area_id": [f"a{i}" for i in range(14)], "name": [f"Område {i}" for i in range(14)]},
        geometry=[shapely.box(100 * i, 0, 100 * i + 100, 100) for i in range(14)],
        crs="EPSG:3011",
    )


#: A planted drop of 5 points after the work (so the cost per point is defined).
_PLANTED = {("a1", 2021): 0.05, ("a4", 2021): 0.05, ("a2", 2018): 0.05, ("a2", 2021): 0.05,
            ("a3", 2018): 0.05, ("a3", 2021): 0.05}


def _panel(areas: gpd.GeoDataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for a in areas["area_id"]:
        for w in WAVES:
            share = 0.30 + rng.normal(0, 0.015) - _PLANTED.get((a, w), 0.0)
            n = 400
            rows.append({"area_id": a, "wave": w, "indicator": IND, "share": share,
                         "se": np.sqrt(share * (1 - share) / n), "n": n, "n_eff": float(n),
                         "suppressed": False})
    return pd.DataFrame(rows)


def _register() -> gpd.GeoDataFrame:
    """A small register: one investment per case the per-investment rows meet.

    I1 in a1 (window 2018-2021); a line over a2 and a3 (2015-2018); a camera and a lamp in
    a4 (two kinds, one contrast); an exact duplicate of the lamp; no date (a9); after the
    last wave (a10).
    """
    rows = [
        ("I1", "belysning", "2019-05-01", 400_000.0, shapely.Point(150, 50)),
        ("L1", "belysning", "2016-06-01", 900_000.0, shapely.LineString([(240, 50), (390, 50)])),
        ("C4", "kamerabevakning", "2020-02-01", 300_000.0, shapely.Point(420, 50)),
        ("B4", "belysning", "2019-10-01", 200_000.0, shapely.Point(470, 50)),
        ("B4", "belysning", "2019-10-01", 200_000.0, shapely.Point(470, 50)),
        ("N9", "kamerabevakning", None, 50_000.0, shapely.Point(950, 50)),
        ("F10", "belysning", "2022-03-01", 80_000.0, shapely.Point(1050, 50)),
    ]
    inv = gpd.GeoDataFrame(
        {"investment_id": [r[0] for r in rows], "kind": [r[1] for r in rows],
         "completed": pd.to_datetime([r[2] for r in rows]),
         "spent_sek": [r[3] for r in rows],
         "source_row": list(range(2, 2 + len(rows))),
         "duplicate_of": pd.array([pd.NA, pd.NA, pd.NA, pd.NA, 5, pd.NA, pd.NA], dtype="Int64")},
        geometry=[r[4] for r in rows], crs="EPSG:3011")
    return inv


def _with_copies(inv: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """``inv`` plus ``n`` copies of I1: distinct ids and register rows, same place and dates."""
    one = inv[inv["investment_id"] == "I1"]
    copies = pd.concat([one] * n, ignore_index=True)
    copies["investment_id"] = [f"I1-{k:05d}" for k in range(n)]
    copies["source_row"] = np.arange(n) + 100
    return gpd.GeoDataFrame(pd.concat([inv, copies], ignore_index=True), crs=inv.crs)


def _evaluate(inv: gpd.GeoDataFrame, panel: pd.DataFrame, **kw):
    design = assign_roles(_areas(), inv, waves=DATES, kind="kind", spillover=None)
    return evaluate_effects(panel, design, inv, indicator=IND, waves=WAVES,
                            n_permutations=200, estimator="did_2x2", **kw), design


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the contrasts the run estimates and permutes (calls on the run's study)."""
    calls = {"did": 0, "permutation": 0, "weights": 0}
    for name in calls:
        orig = getattr(evaluation._Study, name)

        def wrapped(self, *a, _orig=orig, _name=name, **k):
            calls[_name] += 1
            return _orig(self, *a, **k)

        monkeypatch.setattr(evaluation._Study, name, wrapped)
    return calls


def test_repeating_one_investment_10000_times_adds_no_estimation(counted) -> None:
    panel = _panel(_areas())
    base, _ = _evaluate(_register(), panel)
    work_base = dict(counted)
    for k in counted:
        counted[k] = 0
    big, _ = _evaluate(_with_copies(_register(), N_COPIES), panel)
    # the same contrasts, each estimated (and permuted, and weighed) once
    assert dict(counted) == work_base
    assert work_base["did"] >= 3 and work_base["permutation"] >= 3
    assert big.n_contrasts == base.n_contrasts == 3  # a1, a2+a3, a4

    per = big.table[big.table["scope"] == "investment"]
    assert len(per) == 7 + N_COPIES
    i1 = per[per["investment_id"].str.startswith("I1")]
    assert len(i1) == N_COPIES + 1
    for col in ("estimate", "se", "ci_low", "ci_high", "p_value", "p_perm", "perm_ci_low",
                "perm_ci_high", "mde", "sek_per_point", "p_adjusted"):
        assert i1[col].nunique(dropna=False) == 1, col
    assert np.isfinite(i1["estimate"].iloc[0]) and np.isfinite(i1["p_perm"].iloc[0])
    assert set(i1["contrast_id"]) == {"a1:2018-2021"}
    assert (i1["n_sharing"] == N_COPIES + 1).all()
    # each row keeps its own ids and money
    assert i1["investment_id"].is_unique and i1["source_row"].is_unique
    assert (i1["spent_sek"] == 400_000.0).all()
    # the estimate itself is the one of the register with I1 once (money aside)
    one = base.table.set_index("investment_id").loc["I1"]
    assert i1["estimate"].iloc[0] == one["estimate"]
    assert i1["ci_low"].iloc[0] == one["ci_low"] and i1["p_perm"].iloc[0] == one["p_perm"]
    assert one["n_sharing"] == 1
    # the cost per point counts every copy's money in a1
    assert i1["sek_per_point"].iloc[0] == pytest.approx(
        one["sek_per_point"] * (N_COPIES + 1))
    # Holm counts each contrast once: copies of I1 do not weaken the other tests
    assert i1["p_adjusted"].iloc[0] == one["p_adjusted"]
    base_inv = base.table[base.table["scope"] == "investment"].set_index("investment_id")
    big_inv = per.drop_duplicates("contrast_id").set_index("contrast_id")
    for iid, row in base_inv.iterrows():
        if isinstance(row["contrast_id"], str) and np.isfinite(row["p_adjusted"]):
            assert big_inv.loc[row["contrast_id"], "p_adjusted"] == row["p_adjusted"], iid


def test_shared_contrasts_are_named_and_reasons_unchanged() -> None:
    panel = _panel(_areas())
    ev, _ = _evaluate(_register(), panel)
    t = ev.table
    assert list(t.columns[: len(EFFECT_COLUMNS)]) == EFFECT_COLUMNS
    per = t[t["scope"] == "investment"].set_index("source_row")
    assert per["investment_id"].tolist() == ["I1", "L1", "C4", "B4", "B4", "N9", "F10"]
    # a camera and a lamp in a4 over one window: one contrast, each row its own kind
    assert per.loc[4, "contrast_id"] == per.loc[5, "contrast_id"] == "a4:2018-2021"
    assert per.loc[4, "kind"] == "kamerabevakning" and per.loc[5, "kind"] == "belysning"
    assert per.loc[4, "n_sharing"] == per.loc[5, "n_sharing"] == 2
    assert per.loc[4, "estimate"] == per.loc[5, "estimate"]
    assert per.loc[3, "contrast_id"] == "a2:2015-2018+a3:2015-2018"
    assert per.loc[3, "unit_ids"] == "a2,a3"
    # rows without an estimate: the same reasons as before, no contrast
    sv = {6: text("effects.duplicate", "sv", row=5),
          7: text("effects.no_date", "sv", next_wave=""),
          8: text("effects.not_yet", "sv", next_wave=2024)}
    for src, reason in sv.items():
        assert per.loc[src, "reason"] == reason
        assert pd.isna(per.loc[src, "contrast_id"]) and pd.isna(per.loc[src, "n_sharing"])
        assert np.isnan(per.loc[src, "estimate"])
    assert per.loc[6, "reason"] == "Dubblett av rad 5 i registret: räknas en gång, där."
    assert per.loc[8, "reason"] == ("Ej mätbar ännu: klar efter den sista mätningen; nästa "
                                    "mätning 2024.")
    assert per.loc[7, "unit_ids"] == "a9"
    kinds = t[t["scope"] == "kind"]
    assert kinds["contrast_id"].isna().all() and kinds["n_sharing"].isna().all()


def test_the_table_is_the_naive_per_row_loop() -> None:
    """Every per-investment row equals a contrast estimated for that row alone."""
    areas = _areas()
    panel = _panel(areas)
    inv = _with_copies(_register(), 3)
    ev, design = _evaluate(inv, panel)
    roles = design.roles.set_index("area_id")
    controls = design.area_ids("control")
    tau2 = between_district_variance(panel, controls, indicator=IND, waves=WAVES)
    measured = (design.links.drop_duplicates("row").set_index("row")["timing"]
                .reindex(range(len(inv))) == "in_window").to_numpy() \
        & inv["duplicate_of"].isna().to_numpy()
    by_area = design.spend_by_area(inv["spent_sek"], rows=measured)
    per = ev.table[ev.table["scope"] == "investment"].set_index("source_row")
    n_est = 0
    for r, grp in design.links[design.links["counted"]].groupby("row"):
        got = per.loc[int(inv["source_row"].iloc[int(r)])]
        tr = grp[grp["area_id"].map(roles["role"]) == "treated"]
        if pd.notna(got["reason"]) or tr.empty or grp["timing"].iloc[0] != "in_window":
            assert np.isnan(got["estimate"]) and pd.notna(got["reason"])
            continue
        t = {str(a): (int(p), int(c))
             for a, p, c in zip(tr["area_id"], tr["pre_wave"], tr["cohort"], strict=True)}
        est = did_2x2(panel, treated=t, controls=controls, waves=WAVES, indicator=IND,
                      tau2=tau2)
        perm = permutation_test(panel, treated=t, controls=controls, waves=WAVES,
                                indicator=IND, n_permutations=200, seed=0)
        assert got["estimate"] == est.estimate and got["se"] == est.se
        assert got["ci_low"] == est.ci_low and got["ci_high"] == est.ci_high
        assert got["p_value"] == est.p_value and got["mde"] == est.mde
        assert got["p_perm"] == perm.p_value and got["perm_ci_low"] == perm.ci_low
        assert got["unit_ids"] == ",".join(sorted(t))
        assert (got["pre_wave"], got["post_wave"]) == next(iter(set(t.values())))
        cost = cost_per_point(float(by_area.reindex(list(t)).sum(min_count=1)), est)
        assert got["sek_per_point"] == pytest.approx(cost.sek_per_point, nan_ok=True)
        assert got["spent_sek"] == inv["spent_sek"].iloc[int(r)]
        n_est += 1
    assert n_est == 7  # I1 and its 3 copies, L1, C4 and B4 (its duplicate, N9, F10: reasons)
    assert len(per) == len(inv)


def test_a_shared_contrast_that_discloses_a_small_cell_is_blank_in_every_row() -> None:
    areas = _areas()
    panel = _panel(areas)
    small = (panel["area_id"] == "a1") & (panel["wave"] == 2021)
    panel.loc[small, ["n", "n_eff", "suppressed"]] = [12, 12.0, True]
    ev, _ = _evaluate(_with_copies(_register(), 50), panel, min_n=30)
    per = ev.table[ev.table["scope"] == "investment"]
    i1 = per[per["investment_id"].str.startswith("I1")]
    assert len(i1) == 51
    assert i1["suppressed"].all() and i1["estimate"].isna().all()
    assert i1["reason"].str.contains("färre än 30 svar").all()
    assert (i1["contrast_id"] == "a1:2018-2021").all() and (i1["n_sharing"] == 51).all()
    # the other contrasts are published
    assert per.loc[per["contrast_id"] == "a4:2018-2021", "estimate"].notna().all()


def test_geopackage_layers_carry_the_contrast_with_swedish_aliases(tmp_path) -> None:
    """The investment layer and the effekter layer publish contrast_id (Jämförelse-id)."""
    import sqlite3
    import xml.etree.ElementTree as ET

    import pyogrio

    from trygg_geo import layers as cat
    from trygg_geo.export import catalogue_layers, write_geopackage
    from trygg_geo.results import Results

    inv = _with_copies(_register(), 2)
    ev, design = _evaluate(inv, _panel(_areas()))
    res = Results(config=None, areas=None, register=inv, placed=inv,  # type: ignore[arg-type]
                  unplaced=inv.iloc[0:0], panel=pd.DataFrame(), roles=None,  # type: ignore
                  effects=ev.table)
    tables = res.tables()
    assert tables["investments"]["contrast_id"].tolist()[:3] == [
        "a1:2018-2021", "a2:2015-2018+a3:2015-2018", "a4:2018-2021"]
    assert tables["investments"]["contrast_id"].iloc[5:7].isna().all()  # duplicate, no date
    joined = res.investments_with_effects()
    assert (joined.loc[joined["investment_id"].str.startswith("I1"), "effect_n_sharing"]
            == 3).all()
    names = {str(n) for n in cat.layer_names()}
    src = {str(cat.layer_spec(n)["source"]["table"]) for n in names
           if cat.layer_spec(n).get("source")}
    layers = catalogue_layers({**dict.fromkeys(src), "investments": tables["investments"],
                               "effects": tables["effects"]})
    assert "contrast_id" in layers["investeringar_punkt"].columns
    assert {"contrast_id", "n_sharing"} <= set(layers["effekter"].columns)
    out = tmp_path / "r.gpkg"
    keep = {k: v for k, v in layers.items() if k in ("investeringar_punkt", "effekter")}
    write_geopackage(out, keep, crs="EPSG:3011", lang="sv")
    got = pyogrio.read_dataframe(out, layer="investeringar_punkt")
    assert got["contrast_id"].iloc[0] == "a1:2018-2021"
    eff = pyogrio.read_dataframe(out, layer="effekter")
    assert (eff.loc[eff["investment_id"].fillna("").str.startswith("I1"), "n_sharing"]
            == 3).all()
    with sqlite3.connect(out) as db:
        qml = dict(db.execute("SELECT f_table_name, styleQML FROM layer_styles").fetchall())
    root = ET.fromstring(qml["investeringar_punkt"].split("\n", 1)[1])
    aliases = {a.get("field"): a.get("name") for a in root.iter("alias")}
    assert aliases["contrast_id"] == "Jämförelse-id"
    assert cat.field_aliases("effekter", "sv")["contrast_id"] == "Jämförelse-id"
    assert cat.field_aliases("effekter", "en")["n_sharing"] == "Investments sharing the contrast"
