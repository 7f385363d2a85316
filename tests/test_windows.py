"""Measurement windows, project status, duplicates and reasons (issue 11, points 2, 3, 6, 7).

Ten 100 m squares in a row, waves 2018, 2021 and 2024 fielded on 15 September. Each case
puts one investment in one square and checks the square's role, the investment's window
and the reason its effect row gives when there is no estimate.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo.design import assign_roles
from trygg_geo.effects.evaluation import estimate_effects

WAVES = [2018, 2021, 2024]


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"area_id": [f"a{i}" for i in range(10)]},
        geometry=[shapely.box(100 * i, 0, 100 * i + 100, 100) for i in range(10)],
        crs="EPSG:3006",
    )


def _inv(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {"kind": "belysning", "started": None, "completed": None, "status": None,
            "spent_sek": 100_000.0}
    recs = [{**base, **r} for r in rows]
    frame = pd.DataFrame(recs)
    for c in ("started", "completed"):
        frame[c] = pd.to_datetime(frame[c])
    geoms = [shapely.Point(100 * r["area"] + 50, 50) for r in recs]
    return gpd.GeoDataFrame(frame.drop(columns="area"), geometry=geoms, crs="EPSG:3006")


def _panel(areas: gpd.GeoDataFrame, *, missing: set[tuple[str, int]] = frozenset()) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = [{"area_id": a, "wave": w, "indicator": "otrygg", "share": 0.3 + rng.normal(0, 0.01),
             "se": 0.02, "n": 500, "n_eff": 500.0, "suppressed": False}
            for a in areas["area_id"] for w in WAVES if (a, w) not in missing]
    return pd.DataFrame(rows)


def _run(areas, inv, panel=None, **kw):
    panel = _panel(areas) if panel is None else panel
    cells = set(zip(panel["area_id"], panel["wave"], strict=True))
    design = assign_roles(areas, inv, waves=WAVES, kind="kind", spillover=None,
                          survey_cells=cells, **kw)
    eff = estimate_effects(panel, design, inv, indicator="otrygg", waves=WAVES,
                           n_permutations=100)
    return design, eff


def test_window_runs_from_the_wave_before_the_start_to_the_wave_after_completion(areas):
    inv = _inv([
        {"investment_id": "S", "area": 0, "started": "2019-01-10", "completed": "2022-01-10"},
        {"investment_id": "N", "area": 1, "completed": "2022-01-10"},  # no start date
    ])
    design, eff = _run(areas, inv)
    links = design.links.set_index("investment_id")
    assert (links.loc["S", "pre_wave"], links.loc["S", "cohort"]) == (2018, 2024)
    assert (links.loc["N", "pre_wave"], links.loc["N", "cohort"]) == (2021, 2024)
    roles = design.roles.set_index("area_id")
    assert (roles.loc["a0", "pre_wave"], roles.loc["a0", "cohort"]) == (2018, 2024)
    per = eff[eff["scope"] == "investment"].set_index("investment_id")
    assert per["estimate"].notna().all() and per["reason"].isna().all()


def test_finished_after_the_last_wave_is_not_measurable_yet_and_names_the_next_wave(areas):
    inv = _inv([
        {"investment_id": "L", "area": 2, "started": "2025-01-01", "completed": "2025-06-01"},
        {"investment_id": "W", "area": 3, "started": "2024-03-01", "completed": "2025-06-01"},
    ])
    design, eff = _run(areas, inv)
    roles = design.roles.set_index("area_id")
    assert roles.loc["a2", "role"] == "control"  # no work before the last wave
    assert roles.loc["a3", ["role", "reason"]].tolist() == ["excluded", "work_in_last_window"]
    per = eff[eff["scope"] == "investment"].set_index("investment_id")
    assert per.loc["L", "reason"] == ("Ej mätbar ännu: klar efter den sista mätningen; nästa "
                                      "mätning 2027.")
    assert np.isnan(per.loc["L", "estimate"]) and np.isnan(per.loc["W", "estimate"])


def test_cancelled_projects_exclude_nothing_unless_money_was_spent(areas):
    inv = _inv([
        {"investment_id": "C0", "area": 4, "status": "cancelled", "spent_sek": 0.0},
        {"investment_id": "C1", "area": 5, "status": "cancelled", "spent_sek": 250_000.0},
        {"investment_id": "O", "area": 6, "status": "ongoing", "started": "2023-02-01"},
        {"investment_id": "Y", "area": 7, "status": "ongoing", "started": "2025-02-01"},
        {"investment_id": "U", "area": 8},  # no date, no status: timing unknown
    ])
    design, eff = _run(areas, inv)
    roles = design.roles.set_index("area_id")
    assert roles.loc["a4", "role"] == "control"
    assert roles.loc["a5", ["role", "reason"]].tolist() == ["excluded", "cancelled_with_work"]
    assert roles.loc["a6", ["role", "reason"]].tolist() == ["excluded", "ongoing_work"]
    assert roles.loc["a7", "role"] == "control"
    assert roles.loc["a8", ["role", "reason"]].tolist() == ["excluded", "completion_date_missing"]
    per = eff[eff["scope"] == "investment"].set_index("investment_id")
    assert per.loc["C0", "reason"].startswith("Avbrutet")
    assert per.loc["O", "reason"].startswith("Pågående")
    assert per.loc["Y", "reason"].startswith("Pågående, startad efter den sista mätningen")
    assert per.loc["U", "reason"].startswith("Datum för färdigställande saknas")
    assert per["estimate"].isna().all()


def test_duplicates_count_once_and_say_so(areas):
    inv = _inv([
        {"investment_id": "D", "area": 0, "completed": "2020-01-01", "spent_sek": 300_000.0},
        {"investment_id": "D", "area": 0, "completed": "2020-01-01", "spent_sek": 300_000.0},
    ])
    inv["source_row"] = [2, 3]
    inv["duplicate_of"] = pd.array([pd.NA, 2], dtype="Int64")
    design, eff = _run(areas, inv)
    kind = eff[eff["scope"] == "kind"].set_index("kind")
    assert kind.loc["belysning", "spent_sek"] == pytest.approx(300_000)
    per = eff[eff["scope"] == "investment"].set_index("source_row")
    assert per.loc[2, "estimate"] == pytest.approx(kind.loc["belysning", "estimate"])
    assert per.loc[3, "reason"] == "Dubblett av rad 2 i registret: räknas en gång, där."
    assert np.isnan(per.loc[3, "spent_sek"])


def test_unknown_and_mixed_kinds_are_never_pooled(areas):
    inv = _inv([
        {"investment_id": "A", "area": 0, "kind": "annat", "completed": "2020-01-01"},
        {"investment_id": "B", "area": 1, "kind": "belysning", "completed": "2020-01-01"},
        {"investment_id": "K", "area": 1, "kind": "kamerabevakning", "completed": "2020-03-01"},
    ])
    design, eff = _run(areas, inv)
    kind = eff[eff["scope"] == "kind"].set_index("kind")
    assert set(kind.index) == {"belysning", "kamerabevakning", "annat"}
    assert kind["estimate"].isna().all()
    assert kind.loc["annat", "reason"].startswith("Okänd åtgärdstyp")
    assert kind.loc["belysning", "reason"].startswith("Flera åtgärdstyper i området")
    per = eff[eff["scope"] == "investment"].set_index("investment_id")
    assert per["estimate"].notna().all()  # each project still gets its area's effect


def test_controls_are_exactly_the_areas_every_estimate_compares_with(areas):
    panel = _panel(areas, missing={("a8", w) for w in WAVES} | {("a9", 2018)})
    inv = _inv([{"investment_id": "B", "area": 0, "completed": "2020-01-01"}])
    design, eff = _run(areas, inv, panel=panel)
    roles = design.roles.set_index("area_id")
    assert roles.loc["a8", ["role", "reason"]].tolist() == ["excluded", "no_survey"]
    assert roles.loc["a8", "reason_text"].startswith("Ingen mätning")
    assert roles.loc["a9", ["role", "reason"]].tolist() == ["excluded", "survey_wave_missing"]
    controls = roles.index[roles["role"] == "control"]
    assert len(controls) == 7
    assert (eff["n_control"].dropna() == len(controls)).all()
