"""The one investment -> area relation: treatment, money and per-investment effects agree.

A street-lighting line that crosses two districts makes both treated, puts its money in
both in proportion to its length in each, and gets one per-investment estimate over both.
Before the relation was shared, the money went to the district holding the line's
midpoint only, while both were treated.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo.design import assign_roles
from trygg_geo.effects.evaluation import estimate_effects

WAVES = [2018, 2021]
DATES = {2018: "2018-09-15", 2021: "2021-09-15"}


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    """Eight 100 m squares in a row: a0 .. a7 (x from 0 to 800)."""
    return gpd.GeoDataFrame(
        {"area_id": [f"a{i}" for i in range(8)], "name": [f"Område {i}" for i in range(8)]},
        geometry=[shapely.box(100 * i, 0, 100 * i + 100, 100) for i in range(8)],
        crs="EPSG:3011",
    )


@pytest.fixture
def investments() -> gpd.GeoDataFrame:
    line = shapely.LineString([(40, 50), (190, 50)])  # 60 m in a0, 90 m in a1
    return gpd.GeoDataFrame(
        {
            "investment_id": ["L1", "P1", "P2"],
            "source_row": [2, 3, 4],
            "kind": ["belysning", "belysning", "kamerabevakning"],
            "completed": pd.to_datetime(["2019-05-01", "2019-06-01", None]),
            "spent_sek": [1_500_000.0, 400_000.0, 90_000.0],
        },
        geometry=[line, shapely.Point(150, 20), shapely.Point(750, 50)],
        crs="EPSG:3011",
    )


def test_line_crossing_two_areas_treats_both_and_splits_its_share(areas, investments):
    d = assign_roles(areas, investments, waves=DATES, kind="kind", spillover=None)
    links = d.links.set_index(["investment_id", "area_id"])
    assert links.loc[("L1", "a0"), "share"] == pytest.approx(0.4)
    assert links.loc[("L1", "a1"), "share"] == pytest.approx(0.6)
    assert links.loc[("L1", "a0"), "source_row"] == 2
    roles = d.roles.set_index("area_id")
    assert roles.loc["a0", "role"] == roles.loc["a1", "role"] == "treated"
    assert int(roles.loc["a0", "cohort"]) == int(roles.loc["a1", "cohort"]) == 2021
    assert roles.loc["a1", "kinds"] == "belysning"
    assert roles.loc["a7", "role"] == "excluded"  # P2 has no completion date
    # the main area (for display) is the one holding most of the line
    assert d.main_area(3).tolist() == ["a1", "a1", "a7"]
    # money follows the same shares: 40 % of the line's money in a0, 60 % in a1
    spend = d.spend_by_area(investments["spent_sek"])
    assert spend["a0"] == pytest.approx(600_000)
    assert spend["a1"] == pytest.approx(900_000 + 400_000)
    assert spend.sum() == pytest.approx(investments["spent_sek"].sum())


def test_geometry_on_a_shared_border_is_split_not_doubled(areas):
    inv = gpd.GeoDataFrame(
        {"investment_id": ["B1", "B2"], "completed": pd.to_datetime(["2019-01-01"] * 2)},
        geometry=[shapely.Point(300, 50), shapely.LineString([(400, 10), (400, 90)])],
        crs="EPSG:3011",
    )
    d = assign_roles(areas, inv, waves=DATES, spillover=None)
    shares = d.links.groupby("investment_id")["share"]
    assert shares.sum().tolist() == pytest.approx([1.0, 1.0])
    assert shares.size().tolist() == [2, 2]
    assert sorted(d.links["share"]) == pytest.approx([0.5] * 4)
    assert d.spend_by_area([100.0, 10.0]).sort_index().to_dict() == pytest.approx(
        {"a2": 50.0, "a3": 55.0, "a4": 5.0})


def _panel(areas: gpd.GeoDataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for a in areas["area_id"]:
        for w in WAVES:
            share = 0.30 + rng.normal(0, 0.01) - (0.05 if a in ("a0", "a1") and w == 2021 else 0)
            n = 400
            rows.append({"area_id": a, "wave": w, "indicator": "otrygg_kvall", "share": share,
                         "se": np.sqrt(share * (1 - share) / n), "n": n, "n_eff": float(n),
                         "suppressed": False})
    return pd.DataFrame(rows)


def test_per_investment_effect_and_money_use_the_relation(areas, investments):
    d = assign_roles(areas, investments, waves=DATES, kind="kind", spillover=None)
    panel = _panel(areas)
    eff = estimate_effects(panel, d, investments, indicator="otrygg_kvall", waves=WAVES,
                           level=0.9, n_permutations=200, lang="sv")
    kind = eff[eff["scope"] == "kind"].set_index("kind")
    assert kind.loc["belysning", "unit_ids"] == "a0,a1"
    assert kind.loc["belysning", "spent_sek"] == pytest.approx(1_900_000)
    assert kind.loc["belysning", "level"] == pytest.approx(0.9)
    assert kind.loc["belysning", "n_control"] == 5  # a2..a6; a7 is excluded
    per = eff[eff["scope"] == "investment"].set_index("investment_id")
    assert list(per.index) == ["L1", "P1", "P2"]
    # P2 has no completion date: its row says why there is no estimate
    assert np.isnan(per.loc["P2", "estimate"])
    assert per.loc["P2", "reason"].startswith("Datum för färdigställande saknas")
    assert per.loc["L1", "unit_ids"] == "a0,a1"
    assert per.loc["P1", "unit_ids"] == "a1"
    assert per.loc["L1", "source_row"] == 2
    assert per.loc["L1", "spent_sek"] == pytest.approx(1_500_000)
    # the line's estimate pools both areas: the same contrast as the kind's
    assert per.loc["L1", "estimate"] == pytest.approx(kind.loc["belysning", "estimate"])
    assert per.loc["L1", "estimate"] < -0.03
    # cost per point of P1: every completed investment's money inside a1 (60 % of L1 + P1)
    est = per.loc["P1", "estimate"]
    assert per.loc["P1", "sek_per_point"] == pytest.approx(1_300_000 / (-100 * est))


def test_a_line_reaching_a_small_cell_is_not_published(areas, investments):
    """The line's contrast pools a0 and a1; a1's 2021 cell has 12 answers, so the line's
    estimate would give it back: blank, with the Swedish reason. P1 (a1 only) is blank too."""
    d = assign_roles(areas, investments, waves=DATES, kind="kind", spillover=None)
    panel = _panel(areas)
    small = (panel["area_id"] == "a1") & (panel["wave"] == 2021)
    panel.loc[small, ["n", "n_eff", "suppressed"]] = [12, 12.0, True]
    eff = estimate_effects(panel, d, investments, indicator="otrygg_kvall", waves=WAVES,
                           level=0.95, n_permutations=200, lang="sv")
    per = eff[eff["scope"] == "investment"].set_index("investment_id")
    for inv in ("L1", "P1"):
        assert per.loc[inv, "unit_ids"] in ("a0,a1", "a1")
        assert np.isnan(per.loc[inv, "estimate"]) and np.isnan(per.loc[inv, "ci_low"])
        assert bool(per.loc[inv, "suppressed"])
        assert "färre än 30 svar" in per.loc[inv, "reason"]


def test_report_and_map_split_the_lines_money_by_share(areas, investments):
    """The report's area table and the map's per-area sums use the same relation: the line's
    1.5 MSEK is 0.6 MSEK in a0 and 0.9 MSEK in a1, never all of it in the midpoint's area."""
    from types import SimpleNamespace

    from trygg_geo._map_aggregate import investment_area_totals
    from trygg_geo.report import _per_area_money

    d = assign_roles(areas, investments, waves=DATES, kind="kind", spillover=None)
    placed = investments.assign(area_id=d.main_area(len(investments)).to_numpy())
    placed["duplicate_of"] = pd.array([pd.NA, pd.NA, pd.NA], dtype="Int64")
    n_inv, money = _per_area_money(SimpleNamespace(placed=placed, relation=d.links))
    assert money["a0"] == pytest.approx(600_000.0)
    assert money["a1"] == pytest.approx(900_000.0 + 400_000.0)
    assert money["a7"] == pytest.approx(90_000.0)
    assert n_inv.to_dict() == {"a0": 1, "a1": 2, "a7": 1}
    assert money.sum() == pytest.approx(investments["spent_sek"].sum())  # nothing lost or doubled

    totals, outside = investment_area_totals(placed, areas, relation=d.links)
    t = totals.set_index("area_id")
    assert t.loc["a0", "spent_sek"] == pytest.approx(600_000.0)
    assert t.loc["a1", "spent_sek"] == pytest.approx(1_300_000.0)
    assert t.loc["a0", "n"] == 1 and t.loc["a1", "n"] == 2 and t.loc["a5", "n"] == 0
    assert t.loc["a1", "kinds"] == "Belysning 2" and outside == 0

    # an exact copy of the line counts once in both
    dup = pd.concat([placed, placed.iloc[[0]].assign(source_row=5, duplicate_of=2)],
                    ignore_index=True)
    dup = gpd.GeoDataFrame(dup, geometry="geometry", crs=placed.crs)
    d2 = assign_roles(areas, dup, waves=DATES, kind="kind", spillover=None)
    _, money2 = _per_area_money(SimpleNamespace(placed=dup, relation=d2.links))
    assert money2["a0"] == pytest.approx(600_000.0)
    totals2, _ = investment_area_totals(dup, areas, relation=d2.links)
    assert totals2.set_index("area_id").loc["a0", "n"] == 1
