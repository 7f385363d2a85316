"""The cascade's stage functions (trygg_geo.geocode._match) on a tiny register.

Contract: each stage only touches rows that are still unplaced, a row placed by a stage keeps
its placement through the later matching stages, every row ends either placed or unplaced with
a reason, and the summary rows (``stages``) come in cascade order with consistent counts.

The gazetteer, in metres from an origin in SWEREF 99 TM: Storgatan (y=0, x 0..400) with
numbers 1..5 at x=50*n, Kyrkvägen (x=200, y -100..100) crossing it, and the park Lunden.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

from trygg_geo.geocode import Gazetteer, ProviderHit, geocode_register
from trygg_geo.geocode import _match as M
from trygg_geo.geocode._geometry import Target, build_geometry, nearest_part, span_on_line
from trygg_geo.interventions import get_kind

E0, N0 = 674000.0, 6581000.0
CRS = "EPSG:3006"

# (address, kind, x, y, crs, wkt) -> the stage that should place it, or the reason
REGISTER: list[tuple[dict[str, object], str]] = [
    ({"address": "Storgatan 3"}, "exact"),
    ({"address": "storg. 4"}, "normalised"),
    ({"address": "Storgtan 2"}, "fuzzy"),
    ({"address": "Storgatan/Kyrkvägen"}, "intersection"),
    ({"address": "Storgatan 99"}, "street"),
    ({"address": "Lunden", "kind": "slyrojning"}, "place"),
    ({"x": E0 + 10.0, "y": N0 + 10.0, "crs": CRS}, "coordinates"),
    ({"wkt": f"POINT ({E0 + 5} {N0 + 5})"}, "wkt"),
    ({"address": "Ingenstansvägen 1"}, "unplaced:no_match"),
    ({}, "unplaced:empty_address"),
    ({"x": 1e9, "y": 1e9}, "unplaced:impossible_coordinates"),
    ({"address": "Storgatan 1", "kind": "belysning"}, "exact"),
]


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    streets = gpd.GeoDataFrame(
        {"name": ["Storgatan", "Kyrkvägen"]},
        geometry=[LineString([(E0, N0), (E0 + 400, N0)]),
                  LineString([(E0 + 200, N0 - 100), (E0 + 200, N0 + 100)])],
        crs=CRS,
    )
    addresses = gpd.GeoDataFrame(
        {"street": ["Storgatan"] * 5, "housenumber": [str(n) for n in range(1, 6)]},
        geometry=[Point(E0 + 50 * n, N0 + 10) for n in range(1, 6)],
        crs=CRS,
    )
    places = gpd.GeoDataFrame({"name": ["Lunden"], "place_type": ["park"]},
                              geometry=[box(E0 + 300, N0 + 50, E0 + 380, N0 + 150)], crs=CRS)
    return Gazetteer.from_frames(addresses=addresses, streets=streets, places=places)


def register() -> pd.DataFrame:
    rows = []
    for k, (r, _expected) in enumerate(REGISTER):
        base: dict[str, object] = {c: pd.NA for c in M.REGISTER_COLUMNS}
        base.update({"source_row": k + 2, "investment_id": f"S-{k}", "kind": "kamerabevakning",
                     "kind_recognised": True, "x": np.nan, "y": np.nan})
        base.update(r)
        rows.append(base)
    df = pd.DataFrame(rows, columns=list(M.REGISTER_COLUMNS))
    df["x"] = df["x"].astype(float)
    df["y"] = df["y"].astype(float)
    return df


def new_run(gaz: Gazetteer, **kw: object) -> M._Run:
    opts: dict[str, object] = {"provider": None, "extent": None, "fuzzy_threshold": 85,
                               "progress": False, **kw}
    return M._new_run(register(), gaz, **opts)  # type: ignore[arg-type]


def states(run: M._Run) -> list[str]:
    """Per row: its method, ``unplaced:<reason>`` or ``pending``."""
    return [r.method or (f"unplaced:{r.reason}" if r.reason else "pending") for r in run.rows]


def test_stages_in_order_keep_every_row_and_place_each_once(gaz: Gazetteer) -> None:
    run = new_run(gaz)
    n = len(REGISTER)
    assert run.n == n and len(run.rows) == n
    assert states(run) == ["pending"] * n
    M._timed(run, "prepare", M._stage_prepare)
    assert len(run.text) == len(run.parsed) == n
    assert states(run) == ["pending"] * n  # preparing places nothing
    M._timed(run, "wkt", M._stage_wkt, "wkt")
    history = [states(run)]
    for stage in M._MATCH_STAGES:
        stage(run)
        now = states(run)
        before = history[-1]
        for i in range(n):
            # a placement is never undone or changed by a later matching stage
            if before[i] in M.METHODS:
                assert now[i] == before[i], (REGISTER[i], before[i], now[i])
        history.append(now)
    assert "pending" in history[-1]  # reasons come after the matching stages
    M._stage_reasons(run)
    final = states(run)
    assert "pending" not in final
    assert final == [e for _r, e in REGISTER]
    # the rows each stage placed are the rows whose method is that stage
    names = [s[0] for s in run.stages]
    assert names == ["prepare", "wkt", "exact", "normalised", "fuzzy", "intersection",
                     "between", "street", "place", "coordinates"]  # no provider: no stage
    placed_by = {name: placed for name, _t, _n, placed in run.stages}
    for method in ("wkt", "exact", "normalised", "fuzzy", "intersection", "street", "place",
                   "coordinates"):
        assert placed_by[method] == final.count(method), method
    for _name, seconds, rows_in, placed in run.stages:
        assert seconds >= 0 and 0 <= placed <= rows_in <= n


def test_normalised_leaves_a_known_street_without_the_number_for_the_street_stage(
    gaz: Gazetteer,
) -> None:
    run = new_run(gaz)
    M._stage_prepare(run)
    M._stage_normalised(run)
    i = 4  # "Storgatan 99"
    assert run.rows[i].method is None
    assert i in run.street_only
    sid, _score, method, flags = run.street_only[i]
    assert method == "normalised" and "number_not_found" in flags
    M._stage_fuzzy(run)
    fuzzy_in = run.stages[-1][2]
    assert fuzzy_in == len([j for j in M._address_rows(run) if j not in run.street_only])
    M._stage_street(run)
    r = run.rows[i]
    assert r.method == "street" and r.matched == "Storgatan"
    assert r.flags[:2] == ["street_level", "number_not_found"]
    assert r.target is not None and r.target.street == sid


def test_run_stage_only_calls_unplaced_rows_and_records_counts(gaz: Gazetteer) -> None:
    run = new_run(gaz)
    M._stage_prepare(run)
    run.rows[1].method = "exact"  # placed earlier
    seen: list[int] = []

    def fn(i: int) -> None:
        seen.append(i)
        if i == 3:
            M._place(run.rows[i], "place", 80.0, Target("point", point=(E0, N0)), "x", [])

    M._run_stage(run, "probe", [3, 1, 0], fn)
    assert seen == [3, 0]
    assert run.stages[-1][0] == "probe"
    assert run.stages[-1][2:] == (3, 1)


def test_provider_stage_asks_only_for_rows_left_with_text(gaz: Gazetteer) -> None:
    asked: list[str] = []

    class Fixed:
        name = "fixed"

        def geocode(self, query: str) -> ProviderHit | None:
            asked.append(query)
            return ProviderHit(x=E0 + 1.0, y=N0 + 1.0, crs=CRS, score=70.0, matched="fixed")

    res = geocode_register(register(), gaz, provider=Fixed())
    assert asked == ["Ingenstansvägen 1"]
    row = res.placed[res.placed["source_row"] == 10].iloc[0]
    assert row["geocode_method"] == "provider" and row["geocode_score"] == 70.0
    assert "provider" in res.stages["stage"].tolist()
    assert len(res.placed) + len(res.unplaced) == len(REGISTER)


def test_geocode_register_accounts_for_every_row_in_source_order(gaz: Gazetteer) -> None:
    reg = register()
    res = geocode_register(reg, gaz)
    assert len(res) == len(reg)
    frame = res.to_frame()
    assert frame["source_row"].tolist() == reg["source_row"].tolist()
    got = [m if s == "placed" else f"unplaced:{r}" for s, m, r in
           zip(frame["status"], frame["geocode_method"], frame["reason"], strict=True)]
    assert got == [e for _r, e in REGISTER]
    assert res.placed["source_row"].is_monotonic_increasing
    assert res.unplaced["source_row"].is_monotonic_increasing
    assert res.stages["stage"].tolist()[-1] == "geometry"
    # geometry by kind: the park for slyröjning, the street around the address for belysning
    placed = res.placed.set_index("source_row")
    assert placed.loc[7].geometry.geom_type == "Polygon"
    lamp = placed.loc[13].geometry
    assert lamp.geom_type == "LineString" and lamp.distance(Point(E0 + 50, N0)) < 1e-6


def test_a_match_without_geometry_becomes_unplaced(gaz: Gazetteer) -> None:
    run = new_run(gaz)
    M._stage_prepare(run)
    M._stage_exact(run)
    r = run.rows[0]
    assert r.method == "exact"
    r.target = Target("street", street=None)  # a street match with no line
    geoms = M._stage_geometry(run)
    assert geoms[0] is None
    assert r.method is None and r.reason == "no_match"


def test_geometry_helpers_return_none_instead_of_raising(gaz: Gazetteer) -> None:
    ix = gaz.index
    places = gaz.places.geometry.to_numpy()
    assert build_geometry(Target("street", street=None), "belysning", ix, places) is None
    assert build_geometry(Target("between"), "belysning", ix, places) is None
    assert nearest_part(Point(0, 0), Point(1, 1)) is None
    assert span_on_line(Point(0, 0), Point(1, 1), Point(5, 5)) is None
    near = build_geometry(Target("point", point=(E0 + 100, N0 + 5)), "belysning", ix, places)
    assert near is not None
    assert near[1] == ["snapped_to_street"]
    assert near[0].length == pytest.approx(2 * get_kind("belysning").radius_m)
    far = build_geometry(Target("point", point=(E0 + 100, N0 + 900)), "belysning", ix, places)
    assert far is not None
    assert far[1] == ["point_for_line"] and far[0].geom_type == "Point"
    with pytest.raises(ValueError, match="unknown match target 'nonsense'"):
        build_geometry(Target("nonsense"), "belysning", ix, places)
