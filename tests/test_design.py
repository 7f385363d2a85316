"""Unit roles on a synthetic grid where the answer is known by construction, and matching."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo._errors import CRSError, EmptyLayerError, InputError, MissingColumnError
from trygg_geo.design import ROLES, assign_roles, match_controls
from trygg_geo.network import euclidean_catchments

WAVES = [2015, 2018, 2021, 2024]  # fielded 15 September by default (trygg_geo.survey)


def cid(r: int, c: int) -> str:
    return f"r{r}c{c}"


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    """6 x 6 cells of 100 m; cell (r, c) spans x in [100c, 100c+100], y in [100r, 100r+100]."""
    cells = [(r, c) for r in range(6) for c in range(6)]
    return gpd.GeoDataFrame(
        {"area_id": [cid(r, c) for r, c in cells], "name": [f"Cell {r}-{c}" for r, c in cells]},
        geometry=[shapely.box(100 * c, 100 * r, 100 * c + 100, 100 * r + 100) for r, c in cells],
        crs="EPSG:3006",
    )


def centre(r: int, c: int) -> shapely.Point:
    return shapely.Point(100 * c + 50, 100 * r + 50)


@pytest.fixture
def investments() -> gpd.GeoDataFrame:
    rows = [
        ("A", centre(1, 1), "2016-03-01"),  # cohort 2018
        ("B", centre(4, 4), "2019-09-01"),  # cohort 2021
        ("C", centre(0, 5), "2014-01-01"),  # before the first wave: excluded
        ("D", centre(5, 0), "2025-01-01"),  # after the last wave: still a control
        ("E", centre(3, 0), None),  # no date: excluded
        ("F", shapely.Point(5000, 5000), "2017-01-01"),  # in no area
    ]
    return gpd.GeoDataFrame(
        {"investment_id": [r[0] for r in rows], "completed": pd.to_datetime([r[2] for r in rows])},
        geometry=[r[1] for r in rows],
        crs="EPSG:3006",
    )


def ring(r: int, c: int) -> set[str]:
    return {cid(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)
            if (dr or dc) and 0 <= r + dr < 6 and 0 <= c + dc < 6}


def test_roles_adjacent(grid: gpd.GeoDataFrame, investments: gpd.GeoDataFrame) -> None:
    res = assign_roles(grid, investments, waves=WAVES, spillover="adjacent")
    roles = res.roles.set_index("area_id")
    assert list(res.roles["area_id"]) == list(grid["area_id"])  # area order kept
    assert len(res.roles) == 36 and res.roles["role"].isin(ROLES).all()
    assert set(res.area_ids("treated")) == {cid(1, 1), cid(4, 4)}
    assert set(res.area_ids("spill")) == ring(1, 1) | ring(4, 4)
    assert set(res.area_ids("excluded")) == {cid(0, 5), cid(3, 0)}
    assert len(res.area_ids("control")) == 36 - 2 - 16 - 2
    assert roles.loc[cid(1, 1), "cohort"] == 2018 and roles.loc[cid(4, 4), "cohort"] == 2021
    assert roles.loc[cid(1, 1), "investment_ids"] == "A"
    assert (roles.loc[sorted(ring(1, 1)), "cohort"] == 2018).all()
    assert (roles.loc[sorted(ring(4, 4)), "cohort"] == 2021).all()
    assert (roles.loc[sorted(ring(4, 4)), "investment_ids"] == "B").all()
    assert roles.loc[cid(0, 5), "reason"] == "treated_before_window"
    assert roles.loc[cid(3, 0), "reason"] == "completion_date_missing"
    assert roles.loc[cid(5, 0), ["role", "reason", "investment_ids"]].tolist() == [
        "control", "investment_after_window", "D"]
    assert roles.loc[cid(0, 0), ["role", "reason"]].tolist() == ["spill", "adjacent_to_treated"]
    ctrl = roles[roles["role"] == "control"]
    assert ctrl["cohort"].isna().all()
    assert list(res.unplaced["investment_id"]) == ["F"]
    assert res.unplaced["reason"].tolist() == ["outside_all_areas"]
    assert res.roles.crs.to_epsg() == 3006
    assert res.counts()["n_areas"].sum() == 36
    assert "geometry" not in res.to_frame().columns


def test_roles_distance_and_none(grid: gpd.GeoDataFrame, investments: gpd.GeoDataFrame) -> None:
    # 60 m from the cell centre reaches the four edge neighbours, not the diagonal ones (70.7 m)
    res = assign_roles(grid, investments, waves=WAVES, spillover="distance", spill_distance_m=60)
    rook = lambda r, c: {cid(r - 1, c), cid(r + 1, c), cid(r, c - 1), cid(r, c + 1)}
    assert set(res.area_ids("spill")) == rook(1, 1) | rook(4, 4)
    assert set(res.roles.loc[res.roles.role == "spill", "reason"]) == {"within_distance"}
    none = assign_roles(grid, investments, waves=WAVES, spillover=None)
    assert none.area_ids("spill") == []
    assert len(none.area_ids("control")) == 36 - 4
    with pytest.raises(InputError, match="spill_distance_m"):
        assign_roles(grid, investments, waves=WAVES, spillover="distance")


def test_cohorts_across_waves(grid: gpd.GeoDataFrame) -> None:
    dates = ["2015-07-01", "2015-07-02", "2018-07-01", "2018-07-02", "2023-12-31", "2024-07-02"]
    cells = [(0, 0), (0, 2), (0, 4), (2, 0), (2, 2), (2, 4)]
    inv = gpd.GeoDataFrame(
        {"investment_id": list("abcdef"), "completed": pd.to_datetime(dates)},
        geometry=[centre(*c) for c in cells], crs="EPSG:3006",
    )
    res = assign_roles(grid, inv, waves=WAVES, spillover=None, wave_day="07-01")
    res = res.roles.set_index("area_id")
    got = [res.loc[cid(*c), "cohort"] for c in cells]
    assert [None if pd.isna(x) else int(x) for x in got] == [None, 2018, 2018, 2021, 2024, None]
    assert res.loc[cid(0, 0), "role"] == "excluded"  # on the first wave's date: not before it
    assert res.loc[cid(2, 4), "role"] == "control"
    # explicit fieldwork dates move the boundaries
    res2 = assign_roles(grid, inv, waves={2015: "2015-03-01", 2018: "2018-03-01",
                                          2021: "2021-03-01", 2024: "2024-03-01"}, spillover=None)
    r2 = res2.roles.set_index("area_id")
    assert int(r2.loc[cid(0, 4), "cohort"]) == 2021 and r2.loc[cid(2, 4), "role"] == "control"


def test_lines_min_share_and_multiple(grid: gpd.GeoDataFrame) -> None:
    line = shapely.LineString([(220, 250), (320, 250)])  # 80 m in cell (2,2), 20 m in (2,3)
    inv = gpd.GeoDataFrame(
        {"investment_id": ["L", "P1", "P2"], "completed": pd.to_datetime(["2017-01-01", "2020-01-01", "2016-01-01"])},
        geometry=[line, centre(5, 5), centre(5, 5)], crs="EPSG:3006",
    )
    res = assign_roles(grid, inv, waves=WAVES, spillover=None, min_share=0.3)
    roles = res.roles.set_index("area_id")
    assert roles.loc[cid(2, 2), ["role", "cohort"]].tolist() == ["treated", 2018]
    assert roles.loc[cid(2, 3), ["role", "reason"]].tolist() == ["excluded", "partial_overlap"]
    links = res.links.set_index(["investment_id", "area_id"])
    assert links.loc[("L", cid(2, 2)), "share"] == pytest.approx(0.8)
    assert links.loc[("L", cid(2, 3)), "share"] == pytest.approx(0.2)
    # two investments in one area: the earliest cohort, both ids
    assert roles.loc[cid(5, 5), ["cohort", "investment_ids"]].tolist() == [2018, "P1,P2"]
    adj = assign_roles(grid, inv, waves=WAVES, spillover="adjacent", min_share=0.3).roles
    assert adj.set_index("area_id").loc[cid(2, 3), "role"] == "spill"
    # with min_share 0 the 20 m also count
    all_in = assign_roles(grid, inv, waves=WAVES, spillover=None).roles.set_index("area_id")
    assert all_in.loc[cid(2, 3), "role"] == "treated"


def test_catchments(grid: gpd.GeoDataFrame, investments: gpd.GeoDataFrame) -> None:
    cat = euclidean_catchments(investments, radius_m=60, source_ids=investments["investment_id"])
    res = assign_roles(grid, investments, waves=WAVES, spillover=None, catchments=cat)
    treated = set(res.area_ids("treated"))
    rook = {cid(0, 1), cid(2, 1), cid(1, 0), cid(1, 2), cid(1, 1)}
    assert rook <= treated and cid(0, 0) not in treated  # the 60 m circle misses the corners
    # a catchment share threshold keeps only the centre cell (about 84 % of the circle)
    res2 = assign_roles(grid, investments, waves=WAVES, spillover=None, catchments=cat, min_share=0.5)
    assert {cid(1, 1), cid(4, 4)} == set(res2.area_ids("treated"))


def test_role_errors(grid: gpd.GeoDataFrame, investments: gpd.GeoDataFrame) -> None:
    with pytest.raises(MissingColumnError):
        assign_roles(grid.rename(columns={"area_id": "id"}), investments, waves=WAVES)
    dup = grid.copy()
    dup.loc[1, "area_id"] = dup.loc[0, "area_id"]
    with pytest.raises(InputError, match="unique"):
        assign_roles(dup, investments, waves=WAVES)
    with pytest.raises(CRSError):
        assign_roles(grid.to_crs(4326), investments, waves=WAVES)
    with pytest.raises(InputError, match="two survey waves"):
        assign_roles(grid, investments, waves=[2015])
    # investments in another CRS are reprojected, not misplaced
    res = assign_roles(grid, investments.to_crs(3011), waves=WAVES)
    assert set(res.area_ids("treated")) == {cid(1, 1), cid(4, 4)}


# --------------------------------------------------------------------------- matching


def _panel(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"a{i:02d}" for i in range(40)]
    treated = ids[:6]
    level = np.where(np.isin(ids, treated), rng.normal(0.30, 0.02, 40), rng.uniform(0.05, 0.35, 40))
    trend = np.where(np.isin(ids, treated), 0.01, rng.normal(0.0, 0.01, 40))
    rows = []
    for i, a in enumerate(ids):
        for w in (2012, 2015, 2018):
            rows.append({"area_id": a, "wave": w, "indicator": "oro_brott",
                         "share": level[i] + trend[i] * (w - 2015) / 3, "n": 100, "suppressed": False})
            rows.append({"area_id": a, "wave": w, "indicator": "annat", "share": 0.5, "n": 100,
                         "suppressed": False})
    roles = pd.DataFrame({"area_id": ids, "role": ["treated" if a in treated else "control" for a in ids],
                          "cohort": pd.array([2021 if a in treated else pd.NA for a in ids], dtype="Int64")})
    return pd.DataFrame(rows), roles


@pytest.mark.parametrize("method", ["nearest", "mahalanobis"])
def test_matching_improves_balance(method: str) -> None:
    panel, roles = _panel()
    m = match_controls(panel, roles, outcome="oro_brott", pre_waves=[2012, 2015, 2018], method=method, k=2)
    assert len(m.pairs) == 12 and set(m.pairs["treated_id"]) == set(roles.area_id[:6])
    assert not set(m.pairs["control_id"]) & set(roles.area_id[:6])
    bal = m.balance.set_index("feature")
    assert list(bal.index) == ["level", "trend"]
    assert (bal["smd_after"].abs() < bal["smd_before"].abs()).all()
    assert abs(bal.loc["level", "smd_after"]) < 0.5 < abs(bal.loc["level", "smd_before"])
    assert m.weights.sum() == pytest.approx(6.0)
    assert bal["n_treated"].iloc[0] == 6 and bal["n_control_before"].iloc[0] == 34


def test_matching_by_hand_and_without_replacement() -> None:
    # one pre-wave: level only; treated at 0.30 and 0.31, controls 0.10, 0.29, 0.305, 0.50
    panel = pd.DataFrame({"area_id": ["t1", "t2", "c1", "c2", "c3", "c4"], "wave": 2015,
                          "worry": [0.30, 0.31, 0.10, 0.29, 0.305, 0.50]})
    roles = pd.DataFrame({"area_id": ["t1", "t2", "c1", "c2", "c3", "c4"],
                          "role": ["treated", "treated", "control", "control", "control", "control"],
                          "cohort": [2018, 2018, None, None, None, None]})
    m = match_controls(panel, roles, outcome="worry", pre_waves=[2015])
    assert dict(zip(m.pairs.treated_id, m.pairs.control_id, strict=True)) == {"t1": "c3", "t2": "c3"}
    assert m.weights.to_dict() == {"c3": 2.0}
    bal = m.balance.set_index("feature")
    assert list(bal.index) == ["level"]
    assert bal.loc["level", "mean_control_after"] == pytest.approx(0.305)
    assert bal.loc["level", "mean_control_before"] == pytest.approx((0.10 + 0.29 + 0.305 + 0.50) / 4)
    vt, vc = np.var([0.30, 0.31], ddof=1), np.var([0.10, 0.29, 0.305, 0.50], ddof=1)
    assert bal.loc["level", "smd_after"] == pytest.approx((0.305 - 0.305) / np.sqrt((vt + vc) / 2))
    m2 = match_controls(panel, roles, outcome="worry", pre_waves=[2015], replace=False)
    # greedy on the smallest distance: t1-c3 (0.005) first, then t2-c2 (0.02)
    assert dict(zip(m2.pairs.treated_id, m2.pairs.control_id, strict=True)) == {"t1": "c3", "t2": "c2"}


def test_matching_unmatched_units_are_reported() -> None:
    panel, roles = _panel()
    panel.loc[(panel.area_id == "a10") & (panel.wave == 2015) & (panel.indicator == "oro_brott"), "suppressed"] = True
    roles.loc[roles.area_id == "a01", "cohort"] = 2018  # treated at the last pre-wave
    m = match_controls(panel, roles, outcome="oro_brott", pre_waves=[2012, 2015, 2018])
    un = m.unmatched.set_index("area_id")
    assert un.loc["a10", "reason"].startswith("missing_pre_period") and "2015" in un.loc["a10", "reason"]
    assert un.loc["a01", "reason"].startswith("cohort_not_after_pre_waves")
    assert "a10" not in set(m.pairs.control_id) and "a01" not in set(m.pairs.treated_id)
    with pytest.raises(InputError, match="outcome"):
        match_controls(panel, roles, outcome="nope", pre_waves=[2015])
    with pytest.raises(EmptyLayerError):
        match_controls(panel, roles.assign(role="control"), outcome="oro_brott", pre_waves=[2015])


def test_controls_named_by_unplaced_investments_or_with_small_cells_are_excluded(
    grid: gpd.GeoDataFrame, investments: gpd.GeoDataFrame
) -> None:
    unplaced = pd.DataFrame({"district": ["CELL 2-2", "Cell 3-3", "nowhere"],
                             "completed": pd.to_datetime(["2019-01-01", None, "2019-01-01"])})
    res = assign_roles(grid, investments, waves=WAVES, spillover=None, unplaced=unplaced,
                       small_cells={("r0c3", 2018), ("r0c2", 1999)}, lang="en")
    roles = res.roles.set_index("area_id")
    assert roles.loc["r2c2", ["role", "reason"]].tolist() == ["excluded", "unplaced_investment"]
    assert roles.loc["r3c3", "role"] == "control"  # the unplaced one there is not completed
    assert roles.loc["r0c3", ["role", "reason"]].tolist() == ["excluded", "small_survey_cell"]
    assert roles.loc["r0c2", "role"] == "control"  # its small cell is outside the study waves
    assert roles.loc["r1c1", "role"] == "treated"  # a treated area keeps its role
    assert "placed" in roles.loc["r2c2", "reason_text"]
    sv = assign_roles(grid, investments, waves=WAVES, spillover=None, unplaced=unplaced)
    assert "placeras" in sv.roles.set_index("area_id").loc["r2c2", "reason_text"]
