"""Weighted Displacement Quotient against values computed by hand from Bowers & Johnson (2003)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from trygg_geo._errors import CRSError, InputError, MissingColumnError
from trygg_geo.effects.displacement import INTERPRETATIONS, wdq, wdq_from_points


def test_diffusion_by_hand() -> None:
    # SM = 60/180 - 120/200 = -4/15; BDM = 60/180 - 80/200 = -1/15; WDQ = 0.25
    r = wdq(treated_before=120, treated_after=60, buffer_before=80, buffer_after=60,
            control_before=200, control_after=180)
    assert r.success_measure == pytest.approx(-4 / 15, abs=1e-12)
    assert r.buffer_displacement_measure == pytest.approx(-1 / 15, abs=1e-12)
    assert r.wdq == pytest.approx(0.25, abs=1e-12)
    assert (r.interpretation, r.interpretation_code) == ("diffusion", "diffusion")
    assert r.label("sv") == "Spridning av positiva effekter" and r.label("en") == "Diffusion of benefits"
    # TNE = (120*0.9 - 60) + (80*0.9 - 60) = 48 + 12
    assert r.total_net_effect == pytest.approx(60.0)
    # RES = (120*180)/(60*200) = 1.8, var(log) = 1/120 + 1/60 + 1/200 + 1/180
    se = math.sqrt(1 / 120 + 1 / 60 + 1 / 200 + 1 / 180)
    assert r.treated_effect.res == pytest.approx(1.8)
    assert r.treated_effect.se_log == pytest.approx(se)
    assert r.treated_effect.ci_low == pytest.approx(math.exp(math.log(1.8) - 1.959963984540054 * se))
    assert r.treated_effect.p_value == pytest.approx(math.erfc(math.log(1.8) / se / math.sqrt(2)))
    # buffer RES = (80*180)/(60*200) = 1.2
    assert r.buffer_effect.res == pytest.approx(1.2)
    assert r.reason == ""
    row = r.to_frame()
    assert len(row) == 1 and row.loc[0, "wdq"] == pytest.approx(0.25)
    assert row.loc[0, "treated_effect_res"] == pytest.approx(1.8)
    assert r.counts().loc["buffer", "after"] == 60


@pytest.mark.parametrize(
    ("ra", "db", "da", "expected_wdq", "code", "category"),
    [
        (90, 100, 50, 5.0, "diffusion_greater_than_direct", "diffusion"),  # SM -0.1, BDM -0.5
        (90, 100, 130, -3.0, "displacement_greater_than_direct", "displacement"),  # BDM 0.3
        (50, 100, 150, -1.0, "displacement_less_than_direct", "displacement"),  # the paper's bound
        (50, 100, 120, -0.4, "displacement_less_than_direct", "displacement"),  # SM -0.5, BDM 0.2
        (50, 100, 100, 0.0, "no_displacement_or_diffusion", "none"),
    ],
)
def test_interpretation_table(ra: int, db: int, da: int, expected_wdq: float, code: str, category: str) -> None:
    r = wdq(treated_before=100, treated_after=ra, buffer_before=db, buffer_after=da,
            control_before=100, control_after=100)
    assert r.wdq == pytest.approx(expected_wdq, abs=1e-12)
    assert (r.interpretation_code, r.interpretation) == (code, category)
    assert r.label_sv == INTERPRETATIONS[code][2]


def test_no_success_is_inconclusive() -> None:
    # SM = 110/100 - 100/100 = 0.1 > 0
    r = wdq(treated_before=100, treated_after=110, buffer_before=100, buffer_after=90,
            control_before=100, control_after=100)
    assert r.success_measure == pytest.approx(0.1)
    assert r.wdq == pytest.approx(-1.0)  # computed, but not interpreted
    assert r.interpretation == "inconclusive" and r.interpretation_code == "no_success"
    assert "SM > 0" in r.reason


def test_zero_divisions_give_nan_and_a_reason() -> None:
    r = wdq(treated_before=10, treated_after=5, buffer_before=3, buffer_after=4,
            control_before=0, control_after=7)
    assert math.isnan(r.success_measure) and math.isnan(r.wdq) and math.isnan(r.total_net_effect)
    assert r.interpretation == "inconclusive" and r.interpretation_code == "undefined"
    assert "control area has no incidents before" in r.reason
    assert math.isnan(r.treated_effect.res) and "zero" in r.treated_effect.reason
    # SM exactly 0: the quotient is undefined
    r0 = wdq(treated_before=50, treated_after=50, buffer_before=10, buffer_after=20,
             control_before=80, control_after=80)
    assert r0.success_measure == 0 and math.isnan(r0.wdq)
    assert r0.buffer_displacement_measure == pytest.approx(0.125)
    assert r0.interpretation == "inconclusive" and "success measure is 0" in r0.reason
    # a zero in the treated area after: WDQ fine, the relative effect undefined
    r1 = wdq(treated_before=20, treated_after=0, buffer_before=10, buffer_after=10,
             control_before=40, control_after=40)
    assert r1.wdq == pytest.approx(0.0) and math.isnan(r1.treated_effect.res)


def test_bad_counts() -> None:
    with pytest.raises(InputError, match="buffer_after"):
        wdq(treated_before=1, treated_after=1, buffer_before=1, buffer_after=-2,
            control_before=1, control_after=1)
    with pytest.raises(InputError, match="treated_before"):
        wdq(treated_before="many", treated_after=1, buffer_before=1, buffer_after=1,
            control_before=1, control_after=1)


def _incidents() -> gpd.GeoDataFrame:
    # treated: the square 0..100; the 50 m ring around it; control: 1000..1200 square
    rows = [
        # treated: 3 before (one on the boundary), 1 after
        (50, 50, "2019-02-01"), (10, 90, "2019-06-30"), (100, 50, "2019-12-31 23:00"),
        (60, 60, "2021-03-01"),
        # buffer ring: 1 before, 2 after
        (130, 50, "2019-05-05"), (-20, -20, "2021-01-01"), (50, 140, "2021-12-31"),
        # control: 4 before, 3 after
        (1050, 1050, "2019-01-01"), (1100, 1100, "2019-03-01"), (1150, 1010, "2019-07-01"),
        (1199, 1199, "2019-08-01"), (1010, 1010, "2021-02-01"), (1020, 1020, "2021-02-02"),
        (1030, 1030, "2021-02-03"),
        # outside every zone; between the periods; no date; corner just outside the ring
        (500, 500, "2019-04-01"), (50, 50, "2020-06-01"), (50, 50, None), (148, 148, "2019-04-01"),
    ]
    return gpd.GeoDataFrame(
        {"incident_id": range(len(rows)), "date": pd.to_datetime([r[2] for r in rows], format="ISO8601")},
        geometry=[shapely.Point(r[0], r[1]) for r in rows], crs="EPSG:3006",
    )


def test_wdq_from_points_counts() -> None:
    inc = _incidents()
    treated = gpd.GeoSeries([shapely.box(0, 0, 100, 100)], crs="EPSG:3006")
    control = shapely.box(1000, 1000, 1200, 1200)
    r = wdq_from_points(inc, treated_area=treated, buffer_m=50, control_area=control,
                        period_before=("2019-01-01", "2019-12-31"),
                        period_after=("2021-01-01", "2021-12-31"))
    assert r.counts().to_dict() == {
        "before": {"treated": 3, "buffer": 1, "control": 4},
        "after": {"treated": 1, "buffer": 2, "control": 3},
    }
    # SM = 1/3 - 3/4; BDM = 2/3 - 1/4; WDQ = BDM / SM = -1
    assert r.success_measure == pytest.approx(1 / 3 - 3 / 4)
    assert r.wdq == pytest.approx((2 / 3 - 1 / 4) / (1 / 3 - 3 / 4))
    e = r.extra
    assert (e["n_missing"], e["n_outside_zones"], e["n_outside_periods"]) == (1, 2, 1)
    assert 3 + 1 + 4 + 1 + 2 + 3 + 1 + 2 + 1 == e["n_incidents"] == len(inc)
    assert e["buffer_area_m2"] == pytest.approx(4 * 100 * 50 + math.pi * 50**2, rel=5e-3)  # round corners
    # zones given in another CRS are reprojected to the incidents'
    r2 = wdq_from_points(inc, treated_area=treated.to_crs(3011), buffer_m=50,
                         control_area=gpd.GeoSeries([control], crs=3006).to_crs(4326),
                         period_before=("2019-01-01", "2019-12-31"),
                         period_after=("2021-01-01", "2021-12-31"))
    assert r2.counts().equals(r.counts())


def test_wdq_from_points_errors() -> None:
    inc = _incidents()
    sq = shapely.box(0, 0, 100, 100)
    ok = {"period_before": ("2019-01-01", "2019-12-31"), "period_after": ("2021-01-01", "2021-12-31")}
    with pytest.raises(InputError, match="overlaps the treated area or its 50 m buffer"):
        wdq_from_points(inc, treated_area=sq, buffer_m=50, control_area=shapely.box(120, 0, 300, 100), **ok)
    with pytest.raises(InputError, match="overlap"):
        wdq_from_points(inc, treated_area=sq, buffer_m=50, control_area=shapely.box(1000, 1000, 1200, 1200),
                        period_before=("2019-01-01", "2021-06-30"), period_after=("2021-01-01", "2021-12-31"))
    with pytest.raises(MissingColumnError):
        wdq_from_points(inc.rename(columns={"date": "datum"}), treated_area=sq, buffer_m=50,
                        control_area=shapely.box(1000, 1000, 1200, 1200), **ok)
    with pytest.raises(CRSError):
        wdq_from_points(inc.to_crs(4326), treated_area=sq, buffer_m=50,
                        control_area=shapely.box(1000, 1000, 1200, 1200), **ok)
    # an empty control gives NaN and a reason, not a crash
    r = wdq_from_points(inc, treated_area=sq, buffer_m=50, control_area=shapely.box(5000, 5000, 5100, 5100), **ok)
    assert np.isnan(r.wdq) and r.interpretation == "inconclusive" and "control area" in r.reason
