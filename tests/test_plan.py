"""Planning the evaluation (issue 15): controls chosen now, MDE with tau2, power and verdicts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo.plan import VERDICTS, plan_evaluation

WAVES = [2017, 2020, 2023]


def _areas(n: int = 40) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_id": [f"a{i:02d}" for i in range(n)],
                             "name": [f"Område {i}" for i in range(n)]},
                            geometry=[shapely.box(1000 * (i % 8), 1000 * (i // 8),
                                                  1000 * (i % 8) + 1000, 1000 * (i // 8) + 1000)
                                      for i in range(n)], crs="EPSG:3011")


def _panel(areas, *, n: int, shock_sd: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i, a in enumerate(areas["area_id"]):
        base = 0.15 + 0.3 * (i / len(areas))  # levels from 15 % to 45 %
        for w in WAVES:
            true = np.clip(base + rng.normal(0, shock_sd), 0.02, 0.98)
            share = rng.binomial(n, true) / n
            rows.append({"area_id": a, "wave": w, "indicator": "otrygg_kvall", "share": share,
                         "se": np.sqrt(share * (1 - share) / n), "n": n, "n_eff": float(n),
                         "suppressed": False})
    return pd.DataFrame(rows)


def _planned(areas, ids, kinds) -> gpd.GeoDataFrame:
    a = areas.set_index("area_id")
    return gpd.GeoDataFrame({"investment_id": [f"P{i}" for i in range(len(ids))],
                             "kind": kinds, "source_row": np.arange(2, 2 + len(ids)),
                             "completed": pd.to_datetime(["2024-05-01"] * len(ids))},
                            geometry=[a.loc[i].geometry.centroid for i in ids], crs=areas.crs)


def test_plan_chooses_matched_controls_and_gives_verdicts() -> None:
    areas = _areas()
    panel = _panel(areas, n=150, shock_sd=0.02)
    ids = ["a30", "a31", "a32", "a33", "a34", "a35", "a10"]
    planned = _planned(areas, ids, ["belysning"] * 6 + ["kamerabevakning"])
    plan = plan_evaluation(planned, areas, panel, next_wave=2026, n_controls=12)
    assert plan.past_waves == (2017, 2020, 2023) and plan.next_wave == 2026
    assert len(plan.controls) == 12
    assert not set(plan.controls["area_id"]) & set(ids)
    # matching on level: the controls of the high-level treated areas sit closer to them than
    # the candidates as a whole
    bal = plan.balance.set_index("variable")
    assert abs(bal.loc["level", "smd_controls"]) < abs(bal.loc["level", "smd_candidates"])
    inv = plan.investments.set_index("investment_id")
    assert inv.loc["P0", "area_ids"] == "a30" and inv.loc["P0", "n_treated"] == 1
    # one area of 150 respondents cannot show 4 points; six lighting areas pooled are better
    kinds = plan.kinds.set_index("kind")
    assert kinds.loc["belysning", "mde"] < inv.loc["P0", "mde"]
    assert kinds.loc["belysning", "n_treated"] == 6
    assert set(inv["verdict"]) <= set(VERDICTS)
    assert inv.loc["P6", "verdict"] == "inte_matbar"
    assert inv.loc["P6", "verdict_text"] == "inte mätbar med nuvarande urval"
    assert plan.tau2.value >= 0
    assert plan.verdict_counts().sum() == len(planned)
    # power at the MDE is the target power (the two are one calculation)
    k = kinds.loc["belysning"]
    assert k["power"] < 0.8 if k["mde"] > 0.04 else k["power"] >= 0.8


def test_mde_includes_tau2_and_extra_respondents_reach_power() -> None:
    areas = _areas()
    calm = plan_evaluation(_planned(areas, ["a20", "a21", "a22", "a23"], ["belysning"] * 4),
                           areas, _panel(areas, n=400, shock_sd=0.0, seed=1), next_wave=2026,
                           effects={"belysning": -0.08})
    noisy = plan_evaluation(_planned(areas, ["a20", "a21", "a22", "a23"], ["belysning"] * 4),
                            areas, _panel(areas, n=400, shock_sd=0.04, seed=1), next_wave=2026,
                            effects={"belysning": -0.08})
    assert noisy.tau2.value > calm.tau2.value
    assert noisy.kinds["mde"].iloc[0] > calm.kinds["mde"].iloc[0]
    row = calm.investments.iloc[0]
    assert row["verdict"] != "matbar"  # one area of 400 answers cannot show 8 points
    extra = row["extra_respondents"]
    assert np.isfinite(extra) and extra > 0
    # with the extra respondents the planned MDE reaches the plausible effect
    plan2 = plan_evaluation(_planned(areas, ["a20", "a21", "a22", "a23"], ["belysning"] * 4),
                            areas, _panel(areas, n=400, shock_sd=0.0, seed=1),
                            next_wave=2026, effects={"belysning": -0.08},
                            expected_n={"a20": 400 + extra})
    assert plan2.investments.iloc[0]["mde"] <= 0.08 + 1e-9
    assert plan2.investments.iloc[0]["verdict"] == "matbar"
    # under large shocks no number of respondents makes one area measurable
    huge = plan_evaluation(_planned(areas, ["a20"], ["belysning"]), areas,
                           _panel(areas, n=400, shock_sd=0.08, seed=2), next_wave=2026)
    r = huge.investments.iloc[0]
    assert r["verdict"] == "inte_matbar" and np.isnan(r["extra_respondents"])
    assert "inga extra svar räcker" in r["note"]


def test_plan_refuses_too_little_history() -> None:
    areas = _areas()
    panel = _panel(areas, n=150, shock_sd=0.02)
    with pytest.raises(Exception, match="at least two past waves"):
        plan_evaluation(_planned(areas, ["a01"], ["belysning"]), areas,
                        panel[panel["wave"] == 2017], next_wave=2020)
