"""Displacement and diffusion of benefits: the Weighted Displacement Quotient.

Bowers, K. J. & Johnson, S. D. (2003). Measuring the geographical displacement
and diffusion of benefit effects of crime prevention activity. *Journal of
Quantitative Criminology*, 19(3), 275-301.

With incident counts ``R`` in the treated (response) area, ``D`` in the
buffer (displacement) zone around it and ``C`` in a control area, before
(``b``) and after (``a``) the intervention:

- success measure ``SM = Ra/Ca - Rb/Cb``. Negative: the treated area did
  better than the control (the quotient is only interpreted then).
- buffer displacement measure ``BDM = Da/Ca - Db/Cb``. Positive: crime rose
  in the buffer relative to the control (displacement); negative: it fell
  (diffusion of benefits).
- ``WDQ = BDM / SM``.

Interpretation (Bowers & Johnson 2003, Table 1), when ``SM < 0``:
``WDQ > 1`` diffusion greater than the direct effect; ``0 < WDQ <= 1``
diffusion of benefits; ``WDQ = 0`` neither; ``-1 <= WDQ < 0`` displacement
smaller than the direct effect (a net benefit); ``WDQ < -1`` displacement
greater than the direct effect (counterproductive). With ``SM >= 0`` the
result is inconclusive.

The total net effect (Guerette 2009, *Analyzing crime displacement and
diffusion*, POP Center tool guide 10) counts the incidents prevented in the
treated area and the buffer together, after scaling the before counts by the
control's change: ``TNE = [Rb*(Ca/Cb) - Ra] + [Db*(Ca/Cb) - Da]`` (positive:
incidents prevented).

The quotient has no standard error of its own. For uncertainty the result
also carries the relative effect sizes of Farrington & Welsh (2002),
``RES = (Rb*Ca) / (Ra*Cb)`` for the treated area and the buffer against the
control, with ``var(log RES) = 1/Rb + 1/Ra + 1/Cb + 1/Ca`` (Poisson counts;
multiply by ``overdispersion`` when counts are overdispersed) and a normal
confidence interval. ``RES > 1`` means a relative fall.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import stats

from trygg_geo._crs import require_crs, require_projected
from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo._i18n import text
from trygg_geo._stats import z_crit

__all__ = ["INTERPRETATIONS", "RelativeEffect", "WDQResult", "wdq", "wdq_from_points"]

logger = logging.getLogger(__name__)

# code -> (category, English, Swedish); the labels are the texts ``wdq.<code>``
INTERPRETATIONS: dict[str, tuple[str, str, str]] = {
    code: (category, text(f"wdq.{code}", "en"), text(f"wdq.{code}", "sv"))
    for code, category in [
        ("diffusion_greater_than_direct", "diffusion"),
        ("diffusion", "diffusion"),
        ("no_displacement_or_diffusion", "none"),
        ("displacement_less_than_direct", "displacement"),
        ("displacement_greater_than_direct", "displacement"),
        ("no_success", "inconclusive"),
        ("undefined", "inconclusive"),
    ]
}


@dataclass(frozen=True)
class RelativeEffect:
    """Relative effect size ``(before*Ca)/(after*Cb)`` of one zone against the control."""

    res: float
    ci_low: float
    ci_high: float
    p_value: float
    se_log: float
    reason: str = ""


@dataclass(frozen=True)
class WDQResult:
    """Weighted Displacement Quotient and its parts.

    Attributes
    ----------
    success_measure, buffer_displacement_measure, wdq
        ``SM``, ``BDM`` and ``WDQ = BDM / SM`` (NaN when undefined).
    interpretation
        ``diffusion``, ``displacement``, ``none`` or ``inconclusive``.
    interpretation_code
        Finer code, a key of :data:`INTERPRETATIONS`.
    label_en, label_sv
        The interpretation in English and Swedish.
    reason
        Why a measure is NaN ("" when all are defined).
    total_net_effect
        Incidents prevented in treated area plus buffer (Guerette 2009).
    treated_before, treated_after, buffer_before, buffer_after, control_before, control_after
        The counts.
    treated_effect, buffer_effect
        Relative effect sizes against the control, with CIs.
    level
        Confidence level of the intervals.
    extra
        Details (e.g. counts outside the zones or periods for point input).
    """

    success_measure: float
    buffer_displacement_measure: float
    wdq: float
    interpretation: str
    interpretation_code: str
    label_en: str
    label_sv: str
    reason: str
    total_net_effect: float
    treated_before: float
    treated_after: float
    buffer_before: float
    buffer_after: float
    control_before: float
    control_after: float
    treated_effect: RelativeEffect
    buffer_effect: RelativeEffect
    level: float = 0.95
    extra: dict[str, Any] = field(default_factory=dict)

    def label(self, lang: str = "sv") -> str:
        """The interpretation in Swedish (``"sv"``) or English (``"en"``)."""
        return self.label_sv if lang == "sv" else self.label_en

    def counts(self) -> pd.DataFrame:
        """Counts per zone (rows ``treated``, ``buffer``, ``control``) and period."""
        return pd.DataFrame(
            {
                "before": [self.treated_before, self.buffer_before, self.control_before],
                "after": [self.treated_after, self.buffer_after, self.control_after],
            },
            index=pd.Index(["treated", "buffer", "control"], name="zone"),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row with every measure, count and relative effect."""
        d = asdict(self)
        for name in ("treated_effect", "buffer_effect"):
            for k, v in d.pop(name).items():
                d[f"{name}_{k}"] = v
        extra = d.pop("extra")
        d.update({f"extra_{k}": v for k, v in extra.items() if np.isscalar(v)})
        return pd.DataFrame([d])


def _count(name: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a count, got {value!r}.") from exc
    if not math.isfinite(x) or x < 0:
        raise InputError(f"{name} must be a finite count >= 0, got {value!r}.")
    return x


def _relative_effect(before: float, after: float, cb: float, ca: float, *, level: float,
                     overdispersion: float) -> RelativeEffect:
    nan = float("nan")
    if min(before, after, cb, ca) <= 0:
        return RelativeEffect(
            nan, nan, nan, nan, nan, "a zero count: the log odds ratio is undefined"
        )
    res = (before * ca) / (after * cb)
    se = math.sqrt(overdispersion * (1 / before + 1 / after + 1 / cb + 1 / ca))
    z = z_crit(level)
    lr = math.log(res)
    p = float(2 * stats.norm.sf(abs(lr / se)))
    return RelativeEffect(res, math.exp(lr - z * se), math.exp(lr + z * se), p, se)


def wdq(
    *,
    treated_before: float,
    treated_after: float,
    buffer_before: float,
    buffer_after: float,
    control_before: float,
    control_after: float,
    level: float = 0.95,
    overdispersion: float = 1.0,
) -> WDQResult:
    """Weighted Displacement Quotient from counts (Bowers & Johnson 2003).

    ``SM = Ra/Ca - Rb/Cb``, ``BDM = Da/Ca - Db/Cb``, ``WDQ = BDM / SM``; see
    the module docstring for the interpretation, the total net effect and
    the relative effect sizes.

    Divisions by zero do not raise: the affected measures are NaN, the
    interpretation is ``inconclusive`` and ``reason`` says why.

    Examples
    --------
    >>> r = wdq(treated_before=100, treated_after=50, buffer_before=100,
    ...         buffer_after=150, control_before=100, control_after=100)
    >>> r.success_measure, r.buffer_displacement_measure, r.wdq
    (-0.5, 0.5, -1.0)
    >>> r.interpretation, r.label_en
    ('displacement', 'Displacement, smaller than the direct effect (a net benefit)')
    """
    rb = _count("treated_before", treated_before)
    ra = _count("treated_after", treated_after)
    db = _count("buffer_before", buffer_before)
    da = _count("buffer_after", buffer_after)
    cb = _count("control_before", control_before)
    ca = _count("control_after", control_after)
    if not 0 < level < 1:
        raise InputError(f"level must be between 0 and 1, got {level!r}.")
    if not overdispersion >= 1:
        raise InputError(f"overdispersion must be >= 1, got {overdispersion!r}.")
    nan = float("nan")
    reasons: list[str] = []
    if cb == 0 or ca == 0:
        sm = bdm = q = tne = nan
        reasons.append(
            f"the control area has no incidents {'before' if cb == 0 else 'after'} "
            "(ratios to the control are undefined); choose a larger control area or longer periods"
        )
    else:
        sm = ra / ca - rb / cb
        bdm = da / ca - db / cb
        tne = (rb * (ca / cb) - ra) + (db * (ca / cb) - da)
        if sm == 0:
            q = nan
            reasons.append(
                "the success measure is 0 (no change relative to the control): WDQ undefined"
            )
        else:
            q = bdm / sm
    if not math.isfinite(sm):
        code = "undefined"
    elif sm >= 0:
        code = "no_success"
        if sm > 0:
            reasons.append("the treated area did not improve relative to the control (SM > 0): "
                           "the WDQ is not interpreted")
    elif q > 1:
        code = "diffusion_greater_than_direct"
    elif q > 0:
        code = "diffusion"
    elif q == 0:
        code = "no_displacement_or_diffusion"
    elif q >= -1:
        code = "displacement_less_than_direct"
    else:
        code = "displacement_greater_than_direct"
    category, en, sv = INTERPRETATIONS[code]
    result = WDQResult(
        success_measure=sm,
        buffer_displacement_measure=bdm,
        wdq=q,
        interpretation=category,
        interpretation_code=code,
        label_en=en,
        label_sv=sv,
        reason="; ".join(reasons),
        total_net_effect=tne,
        treated_before=rb,
        treated_after=ra,
        buffer_before=db,
        buffer_after=da,
        control_before=cb,
        control_after=ca,
        treated_effect=_relative_effect(rb, ra, cb, ca, level=level, overdispersion=overdispersion),
        buffer_effect=_relative_effect(db, da, cb, ca, level=level, overdispersion=overdispersion),
        level=level,
    )
    logger.info("WDQ: SM=%.4g BDM=%.4g WDQ=%.4g (%s)", sm, bdm, q, code)
    return result


# --------------------------------------------------------------------------- points


def _geometry(obj: Any, crs: CRS, what: str) -> shapely.Geometry:
    if isinstance(obj, (gpd.GeoDataFrame, gpd.GeoSeries)):
        g = obj.to_crs(crs) if not require_crs(obj, what=f"the {what}").equals(crs) else obj
        geom = shapely.union_all(np.asarray(g.geometry.to_numpy(), dtype=object))
    elif isinstance(obj, shapely.Geometry):
        geom = obj  # taken to be in the incidents' CRS
    else:
        raise InputError(
            f"the {what} must be a GeoDataFrame, GeoSeries or shapely geometry, got "
            f"{type(obj).__name__}."
        )
    if geom is None or geom.is_empty or shapely.get_dimensions(geom) < 2:
        raise InputError(
            f"the {what} must be a non-empty polygon.", fix="pass the area's polygon(s)."
        )
    return geom


def _period(p: Any, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = (pd.Timestamp(x) for x in p)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{name} must be a (start, end) pair of dates, got {p!r}.",
            fix=f"pass e.g. {name}=('2019-01-01', '2019-12-31').",
        ) from exc
    if end < start:
        raise InputError(f"{name} ends ({end.date()}) before it starts ({start.date()}).")
    return start.normalize(), end.normalize() + pd.Timedelta(days=1)


def wdq_from_points(
    incidents: gpd.GeoDataFrame,
    *,
    treated_area: Any,
    buffer_m: float,
    control_area: Any,
    period_before: tuple[Any, Any],
    period_after: tuple[Any, Any],
    date: str = "date",
    level: float = 0.95,
    overdispersion: float = 1.0,
) -> WDQResult:
    """Count incidents in the treated area, its buffer ring and a control area; then :func:`wdq`.

    Parameters
    ----------
    incidents
        Points with a ``date`` column, in a projected CRS.
    treated_area, control_area
        Polygons: GeoDataFrame/GeoSeries (dissolved; reprojected to the
        incidents' CRS) or a shapely geometry in the incidents' CRS.
    buffer_m
        Width of the buffer ring around the treated area (the ring excludes
        the treated area itself).
    period_before, period_after
        ``(start, end)`` dates, both days inclusive; they must not overlap.

    Returns
    -------
    WDQResult
        ``extra`` holds ``n_incidents``, ``n_outside_zones`` (in no zone),
        ``n_outside_periods``, ``n_missing`` (no date or no geometry): every
        incident is counted somewhere.

    Raises
    ------
    InputError
        When the control area overlaps the treated area or its buffer.
    """
    if not isinstance(incidents, gpd.GeoDataFrame):
        raise InputError(
            f"incidents must be a GeoDataFrame of points, got {type(incidents).__name__}."
        )
    if date not in incidents.columns:
        raise MissingColumnError(date, found=incidents.columns)
    crs = require_projected(incidents, what="the incident layer")
    if not (math.isfinite(buffer_m) and buffer_m > 0):
        raise InputError(f"buffer_m must be a positive number of metres, got {buffer_m!r}.")
    treated = _geometry(treated_area, crs, "treated area")
    control = _geometry(control_area, crs, "control area")
    ring = shapely.difference(shapely.buffer(treated, buffer_m), treated)
    overlap = shapely.intersection(control, shapely.union(treated, ring)).area
    if overlap > 1e-6:
        raise InputError(
            f"the control area overlaps the treated area or its {buffer_m:g} m buffer by "
            f"{overlap:.0f} m2, so incidents would be counted twice.",
            fix="choose a control area further away, or clip it: "
                "control.difference(treated.buffer(buffer_m)).",
        )
    b0, b1 = _period(period_before, "period_before")
    a0, a1 = _period(period_after, "period_after")
    if b0 < a1 and a0 < b1:
        raise InputError("period_before and period_after overlap.", fix="use disjoint periods.")

    when = pd.to_datetime(incidents[date], errors="coerce").to_numpy(dtype="datetime64[ns]")
    pts = np.asarray(incidents.geometry.to_numpy(), dtype=object)
    missing = pd.isna(when) | shapely.is_missing(pts) | shapely.is_empty(pts)
    valid = pts.copy()
    valid[missing] = None
    in_t = shapely.covers(treated, valid) & ~missing
    in_b = shapely.covers(ring, valid) & ~missing & ~in_t
    in_c = shapely.covers(control, valid) & ~missing & ~in_t & ~in_b
    before = ~missing & (when >= b0.to_datetime64()) & (when < b1.to_datetime64())
    after = ~missing & (when >= a0.to_datetime64()) & (when < a1.to_datetime64())
    counts = {
        "treated_before": int((in_t & before).sum()),
        "treated_after": int((in_t & after).sum()),
        "buffer_before": int((in_b & before).sum()),
        "buffer_after": int((in_b & after).sum()),
        "control_before": int((in_c & before).sum()),
        "control_after": int((in_c & after).sum()),
    }
    res = wdq(**counts, level=level, overdispersion=overdispersion)
    in_zone = in_t | in_b | in_c
    extra = {
        "n_incidents": len(incidents),
        "n_missing": int(missing.sum()),
        "n_outside_zones": int((~missing & ~in_zone).sum()),
        "n_outside_periods": int((~missing & in_zone & ~before & ~after).sum()),
        "buffer_m": float(buffer_m),
        "treated_area_m2": float(treated.area),
        "buffer_area_m2": float(ring.area),
        "control_area_m2": float(control.area),
    }
    if extra["n_missing"]:
        logger.warning("%d incidents have no date or no geometry and were not counted",
                       extra["n_missing"])
    return replace(res, extra={**res.extra, **extra})

