"""The roles from an area's own links, computed on arrays (issue 17), equal the frame version.

``_own_roles`` used to mask the whole link frame once per area; at county scale (100,000
investments over 117 areas) that dominated ``assign_roles``. The array version must give the
same roles, reasons, investment lists, cohorts and windows, on a register that reaches every
timing code, with several investments and lines over borders per area.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo import design
from trygg_geo.design import EXCLUDING, assign_roles

WAVES = [2015, 2018, 2021, 2024]


def _own_roles_frames(u: design._Units, links: pd.DataFrame) -> None:
    """The frame-masking version ``_own_roles`` had before issue 17 (the reference)."""
    pos = u.pos()
    for a, grp in links[links["counted"]].groupby("area_id", sort=False):
        i = pos[a]
        bad = next((t for t in EXCLUDING if (grp["timing"] == t).any()), None)
        inwin = grp[grp["timing"] == "in_window"]
        if bad is not None:
            u.role[i], u.reason[i] = "excluded", EXCLUDING[bad]
            u.which[i] = design._join(grp[grp["timing"] == bad])
        elif len(inwin):
            first = inwin[inwin["cohort"] == inwin["cohort"].min()]
            u.role[i], u.reason[i] = "treated", "investment_in_window"
            u.which[i] = design._join(inwin)
            u.cohort[i] = int(first["cohort"].iloc[0])
            u.pre_wave[i] = int(first["pre_wave"].min())
        elif (grp["timing"] == "after_window").any():
            u.reason[i] = "investment_after_window"
            u.which[i] = design._join(grp[grp["timing"] == "after_window"])


def _case(seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 12 x 12 grid of 100 m cells and 3,000 investments with every timing.

    Most cells get a few in-window investments of several cohorts, a third only get work after
    the last wave, and a sprinkling of rows is before the window, undated, ongoing, started
    before the window, cancelled with money spent or worked on at the last wave. A tenth are
    lines crossing cell borders, and one id is used twice.
    """
    rng = np.random.default_rng(seed)
    cells = [(r, c) for r in range(12) for c in range(12)]
    grid = gpd.GeoDataFrame(
        {"area_id": [f"a{r:02d}{c:02d}" for r, c in cells]},
        geometry=[shapely.box(100 * c, 100 * r, 100 * c + 100, 100 * r + 100) for r, c in cells],
        crs="EPSG:3006")
    n = 3000
    cell = rng.integers(0, len(cells), n)
    x = np.array([100 * cells[k][1] for k in cell]) + rng.uniform(5, 95, n)
    y = np.array([100 * cells[k][0] for k in cell]) + rng.uniform(5, 95, n)
    geoms = [shapely.Point(a, b) if rng.random() > 0.1 else
             shapely.LineString([(a, b), (a + rng.uniform(-150, 150), b)])
             for a, b in zip(x, y, strict=True)]
    late = cell % 3 == 0
    start = pd.Timestamp("2015-10-01") + pd.to_timedelta(rng.integers(0, 2900, n), unit="D")
    start = pd.Series(start.where(~late, pd.Timestamp("2024-10-01")
                                  + pd.to_timedelta(rng.integers(0, 300, n), unit="D")))
    done = start + pd.to_timedelta(rng.integers(60, 330, n), unit="D")
    status = pd.Series(["completed"] * n, dtype=object)
    spent = pd.Series(rng.uniform(1e4, 1e6, n))
    odd = rng.choice(n, 60, replace=False)
    for j, k in enumerate(odd):
        what = j % 6
        if what == 0:  # before the window
            done[k], start[k] = pd.Timestamp("2014-06-01"), pd.Timestamp("2014-01-01")
        elif what == 1:  # no date
            done[k] = pd.NaT
        elif what == 2:  # ongoing
            done[k], status[k] = pd.NaT, "ongoing"
        elif what == 3:  # started before the first wave
            start[k] = pd.Timestamp("2015-01-01")
        elif what == 4:  # cancelled with money spent
            done[k], status[k] = pd.NaT, "cancelled"
        else:  # work at the last wave
            start[k], done[k] = pd.Timestamp("2024-06-01"), pd.Timestamp("2025-02-01")
    ids = [f"I{i:05d}" for i in range(n)]
    ids[7] = ids[8]
    inv = gpd.GeoDataFrame(
        {"investment_id": ids, "completed": done, "started": start, "status": status,
         "spent_sek": spent, "kind": rng.choice(["belysning", "slyrojning"], n)},
        geometry=geoms, crs="EPSG:3006")
    return grid, inv


@pytest.mark.parametrize("seed", [0, 1])
def test_own_roles_on_arrays_equal_the_frame_version(seed: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Roles and links of the array version equal the frame version's, every reason reached."""
    grid, inv = _case(seed)
    fast = assign_roles(grid, inv, waves=WAVES, kind="kind", spillover=None)
    monkeypatch.setattr(design, "_own_roles", _own_roles_frames)
    ref = assign_roles(grid, inv, waves=WAVES, kind="kind", spillover=None)
    pd.testing.assert_frame_equal(fast.roles, ref.roles)
    pd.testing.assert_frame_equal(fast.links, ref.links)
    # the case reaches every role and exclusion it was built for
    roles = fast.roles
    assert {"treated", "excluded", "control"} <= set(roles["role"])
    assert {"treated_before_window", "completion_date_missing", "ongoing_work",
            "started_before_window", "cancelled_with_work", "investment_in_window",
            "investment_after_window"} <= set(roles["reason"])
    treated = roles[roles["role"] == "treated"]
    assert treated["cohort"].notna().all() and treated["pre_wave"].notna().all()
    assert (treated["pre_wave"] < treated["cohort"]).all()
    assert treated["investment_ids"].str.len().gt(0).all()
