"""Evaluation design: treated, control and spillover units, and matched controls.

:func:`assign_roles` gives every area exactly one role for a survey panel:

``treated``
    The area holds an investment completed inside the study window, i.e.
    after the first survey wave and no later than the last. Its ``cohort`` is
    the first wave on or after the completion date.
``excluded``
    The area was already treated before the first wave (no clean pre-period),
    or holds an investment without a completion date (its timing is unknown).
``spill``
    Not treated, but next to a treated area (``spillover="adjacent"``, Queen
    contiguity from :mod:`libpysal`) or within ``spill_distance_m`` of an
    in-window investment (``spillover="distance"``), or overlapped by an
    investment by less than ``min_share``. Spill units are not controls.
    Their ``cohort`` is the earliest cohort that reaches them.
``control``
    Never treated within the window (an investment completed after the last
    wave does not disqualify; the reason says so).

The precedence is ``excluded`` > ``treated`` > ``spill`` > ``control``.

:func:`match_controls` then picks, for each treated unit, the control units
closest on the pre-period level and trend of an outcome, and reports the
balance before and after matching.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy.spatial.distance import cdist

from trygg_geo._errors import CRSError, EmptyLayerError, InputError, MissingColumnError

__all__ = ["ROLES", "DesignResult", "MatchResult", "assign_roles", "match_controls"]

logger = logging.getLogger(__name__)

ROLES = ("treated", "control", "spill", "excluded")

REASONS = {
    "investment_in_window": "holds an investment completed inside the study window",
    "treated_before_window": "already treated: an investment was completed before the first wave",
    "completion_date_missing": "holds an investment without a completion date (timing unknown)",
    "adjacent_to_treated": "shares a boundary or corner with a treated area",
    "within_distance": "lies within the spillover distance of an investment",
    "partial_overlap": "overlapped by an investment by less than min_share",
    "investment_after_window": (
        "never treated in the window (its investment came after the last wave)"
    ),
    "never_treated": "never treated in the window",
}


# --------------------------------------------------------------------------- roles


@dataclass(frozen=True)
class DesignResult:
    """Unit roles for an evaluation.

    Attributes
    ----------
    roles
        GeoDataFrame in the order of the areas: ``area_id``, ``role``
        (``treated``, ``control``, ``spill``, ``excluded``), ``investment_ids``
        (comma-joined: the investments in the area for treated and excluded
        units, those that reach it for spill units, later ones for controls),
        ``cohort`` (Int64 wave, NA for controls and excluded units),
        ``reason`` (ASCII code), ``reason_text`` and the geometry.
    links
        One row per (investment, area) overlap: ``investment_id``, ``area_id``,
        ``share`` (of the investment, or of its catchment, inside the area),
        ``completed``, ``timing`` (``in_window``, ``before_window``,
        ``after_window``, ``no_date``), ``cohort``, ``counted`` (share >= min_share).
    unplaced
        Investments that fall in no area, with ``reason`` and ``reason_text``.
    waves
        The survey waves, ascending.
    wave_dates
        The date each wave is taken to have been fielded.
    """

    roles: gpd.GeoDataFrame
    links: pd.DataFrame
    unplaced: pd.DataFrame
    waves: tuple[int, ...]
    wave_dates: dict[int, pd.Timestamp]
    spillover: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """The roles table without geometry."""
        return pd.DataFrame(self.roles.drop(columns=self.roles.geometry.name))

    def counts(self) -> pd.DataFrame:
        """Number of areas per role and cohort."""
        return (
            self.to_frame()
            .groupby(["role", "cohort"], dropna=False)
            .size()
            .rename("n_areas")
            .reset_index()
        )

    def area_ids(self, role: str) -> list[str]:
        """Area ids with a given role, in area order."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        return self.roles.loc[self.roles["role"] == role, "area_id"].tolist()


def _wave_dates(waves: Sequence[int] | Mapping[int, Any], wave_day: str) -> dict[int, pd.Timestamp]:
    if isinstance(waves, Mapping):
        dates = {int(w): pd.Timestamp(d) for w, d in waves.items()}
    else:
        try:
            dates = {int(w): pd.Timestamp(f"{int(w)}-{wave_day}") for w in waves}
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"waves must be years (ints) or a mapping wave -> fieldwork date, got {waves!r}.",
                fix="pass e.g. waves=[2015, 2018, 2021] or waves={2015: '2015-03-15', ...}.",
            ) from exc
    if len(dates) < 2:
        raise InputError(
            f"a design needs at least two survey waves, got {sorted(dates)}.",
            fix="pass every wave of the survey panel.",
        )
    ordered = dict(sorted(dates.items()))
    d = list(ordered.values())
    if any(b <= a for a, b in itertools.pairwise(d)):
        raise InputError(
            f"wave dates are not increasing with the waves: {ordered}.",
            fix="check the fieldwork dates given for each wave.",
        )
    return ordered


def _timing(completed: pd.Series, dates: dict[int, pd.Timestamp]) -> tuple[pd.Series, pd.Series]:
    waves = np.array(list(dates), dtype=np.int64)
    wd = pd.DatetimeIndex(list(dates.values()))
    timing = pd.Series("in_window", index=completed.index, dtype=object)
    cohort = pd.Series(pd.NA, index=completed.index, dtype="Int64")
    missing = completed.isna()
    before = ~missing & (completed <= wd[0])
    after = ~missing & (completed > wd[-1])
    timing[missing] = "no_date"
    timing[before] = "before_window"
    timing[after] = "after_window"
    inside = ~(missing | before | after)
    if inside.any():
        edges = wd.to_numpy(dtype="datetime64[ns]")
        pos = np.searchsorted(
            edges, completed[inside].to_numpy(dtype="datetime64[ns]"), side="left"
        )
        cohort[inside] = waves[pos]
    return timing, cohort


def _check_areas(areas: gpd.GeoDataFrame, area_id: str) -> CRS:
    if not isinstance(areas, gpd.GeoDataFrame):
        raise InputError(f"areas must be a GeoDataFrame, got {type(areas).__name__}.")
    if len(areas) == 0:
        raise EmptyLayerError("the area layer has no rows.", fix="pass the areas of the study.")
    if area_id not in areas.columns:
        raise MissingColumnError(area_id, found=areas.columns)
    ids = areas[area_id]
    if ids.isna().any() or ids.duplicated().any():
        dup = ids[ids.duplicated(keep=False) | ids.isna()].astype(str).unique()[:5].tolist()
        raise InputError(
            f"area ids must be unique and present; problems with {dup}.",
            column=area_id,
            fix="give every area its own id.",
        )
    if areas.crs is None or not CRS.from_user_input(areas.crs).is_projected:
        raise CRSError(
            f"the area layer must be in a projected metric CRS, got {areas.crs}. "
            "Fix: areas.to_crs(3006) (SWEREF 99 TM) or the municipality's own SWEREF 99 zone."
        )
    return CRS.from_user_input(areas.crs)


def _footprints(
    inv: gpd.GeoDataFrame, catchments: gpd.GeoDataFrame | None, inv_id: str
) -> gpd.GeoSeries:
    """What of each investment counts: its catchment polygon when given, else its geometry."""
    geoms = inv.geometry.copy()
    if catchments is None:
        return geoms
    if "source_id" not in catchments.columns:
        raise MissingColumnError("source_id", found=catchments.columns)
    cat = catchments.to_crs(inv.crs) if catchments.crs != inv.crs else catchments
    by_id = pd.Series(cat.geometry.to_numpy(), index=cat["source_id"].astype(str))
    if by_id.index.duplicated().any():
        raise InputError("catchments have duplicated source_id values.", column="source_id",
                         fix="pass one catchment per investment.")
    ids = inv[inv_id].astype(str)
    found = ids.isin(by_id.index).to_numpy()
    cat_geoms = by_id.reindex(ids).to_numpy()
    use = found & ~pd.isna(cat_geoms)
    if (~use).any():
        logger.info(
            "%d investments have no catchment; their own geometry is used", int((~use).sum())
        )
    values = np.asarray(geoms.to_numpy(), dtype=object)
    values[use] = cat_geoms[use]
    return gpd.GeoSeries(values, index=geoms.index, crs=inv.crs)


def _shares(foot: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Share of each footprint inside its paired area (by area, length, or 1 for points)."""
    dim = shapely.get_dimensions(foot)
    inter = shapely.intersection(foot, area)
    out = np.ones(foot.size)
    for d, measure in ((1, shapely.length), (2, shapely.area)):
        sel = dim == d
        if sel.any():
            total = measure(foot[sel])
            with np.errstate(divide="ignore", invalid="ignore"):
                out[sel] = np.where(total > 0, measure(inter[sel]) / total, 1.0)
    return out


def assign_roles(  # noqa: C901 - predates the gate; split planned (issue 10)
    areas: gpd.GeoDataFrame,
    investments: gpd.GeoDataFrame,
    *,
    waves: Sequence[int] | Mapping[int, Any],
    area_id: str = "area_id",
    investment_id: str = "investment_id",
    completed: str = "completed",
    spillover: Literal["adjacent", "distance"] | None = "adjacent",
    spill_distance_m: float | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    min_share: float = 0.0,
    wave_day: str = "07-01",
) -> DesignResult:
    """Give every area exactly one role: treated, control, spill or excluded.

    Parameters
    ----------
    areas
        Area polygons with a unique ``area_id``, in a projected CRS.
    investments
        Placed investments (``GeocodeResult.placed``): ``investment_id``,
        ``completed`` (datetime; NaT allowed) and point, line or polygon
        geometry. Reprojected to the areas' CRS if needed.
    waves
        The survey waves: years (each taken as fielded on ``wave_day`` of that
        year) or a mapping ``{wave: fieldwork date}``.
    spillover
        ``"adjacent"`` (Queen contiguity), ``"distance"`` (within
        ``spill_distance_m`` of an in-window investment or catchment) or
        None (no spill role).
    catchments
        Optional catchment polygons per investment (``source_id`` =
        investment id), e.g. ``NetworkCatchments.to_polygons()`` or
        :func:`trygg_geo.network.euclidean_catchments`. When given, an area is
        reached by an investment when the catchment intersects it.
    min_share
        Minimum share of a line (by length), polygon or catchment (by area)
        that must lie inside an area for it to count there. Points always
        count fully. Overlaps of a positive share below ``min_share`` make the
        area ``spill`` (``excluded`` when ``spillover`` is None).
    wave_day
        ``"MM-DD"`` date of fieldwork when ``waves`` are plain years.

    Returns
    -------
    DesignResult
    """
    crs = _check_areas(areas, area_id)
    if spillover not in ("adjacent", "distance", None):
        raise InputError(f"spillover must be 'adjacent', 'distance' or None, got {spillover!r}.")
    if spillover == "distance" and not (spill_distance_m is not None and spill_distance_m > 0):
        raise InputError(
            "spillover='distance' needs spill_distance_m, a positive number of metres.",
            fix="pass e.g. spill_distance_m=300.",
        )
    if not 0.0 <= min_share <= 1.0:
        raise InputError(f"min_share must be between 0 and 1, got {min_share!r}.")
    for col in (investment_id, completed):
        if col not in investments.columns:
            raise MissingColumnError(col, found=investments.columns)
    dates = _wave_dates(waves, wave_day)
    if investments.crs is None:
        raise CRSError("the investments have no CRS. Fix: set it (e.g. .set_crs(3006)).")
    inv = (
        investments.to_crs(crs)
        if not CRS.from_user_input(investments.crs).equals(crs)
        else investments
    )
    inv = inv.reset_index(drop=True)
    done = pd.to_datetime(inv[completed], errors="coerce")
    timing, cohort = _timing(done, dates)
    foot = _footprints(inv, catchments, investment_id)
    ids = inv[investment_id].astype(str)

    # ---- investment x area overlaps
    area_geoms = np.asarray(areas.geometry.to_numpy(), dtype=object)
    foot_arr = np.asarray(foot.to_numpy(), dtype=object)
    empty = shapely.is_missing(foot_arr) | shapely.is_empty(foot_arr)
    tree = shapely.STRtree(area_geoms)
    query = foot_arr.copy()
    query[empty] = None
    pairs = tree.query(query, predicate="intersects")
    inv_pos, area_pos = pairs[0], pairs[1]
    share = _shares(foot_arr[inv_pos], area_geoms[area_pos]) if inv_pos.size else np.empty(0)
    positive = share > 0
    inv_pos, area_pos, share = inv_pos[positive], area_pos[positive], share[positive]
    counted = share >= min_share if min_share > 0 else np.ones(share.size, dtype=bool)
    aid = areas[area_id].astype(str).to_numpy()
    links = pd.DataFrame(
        {
            "investment_id": ids.to_numpy()[inv_pos],
            "area_id": aid[area_pos],
            "share": share,
            "completed": done.to_numpy()[inv_pos],
            "timing": timing.to_numpy()[inv_pos],
            "cohort": cohort.to_numpy()[inv_pos],
            "counted": counted,
        }
    )
    links["cohort"] = links["cohort"].astype("Int64")

    placed = np.zeros(len(inv), dtype=bool)
    placed[inv_pos] = True
    unplaced = pd.DataFrame(inv.drop(columns=inv.geometry.name)).loc[~placed].copy()
    unplaced["reason"] = np.where(empty[~placed], "empty_geometry", "outside_all_areas")
    unplaced["reason_text"] = np.where(
        empty[~placed], "the investment has no geometry", "the investment lies in no area"
    )

    # ---- roles
    n = len(areas)
    role = np.full(n, "control", dtype=object)
    reason = np.full(n, "never_treated", dtype=object)
    which = np.full(n, "", dtype=object)
    coh = pd.array([pd.NA] * n, dtype="Int64")
    pos_of = {a: i for i, a in enumerate(aid)}
    cl = links[links["counted"]]
    for a, grp in cl.groupby("area_id", sort=False):
        i = pos_of[a]
        before = grp[grp["timing"] == "before_window"]
        nodate = grp[grp["timing"] == "no_date"]
        inwin = grp[grp["timing"] == "in_window"]
        later = grp[grp["timing"] == "after_window"]
        if len(before):
            role[i], reason[i], which[i] = "excluded", "treated_before_window", _join(before)
        elif len(nodate):
            role[i], reason[i], which[i] = "excluded", "completion_date_missing", _join(nodate)
        elif len(inwin):
            role[i], reason[i], which[i] = "treated", "investment_in_window", _join(inwin)
            coh[i] = int(inwin["cohort"].min())
        elif len(later):
            reason[i], which[i] = "investment_after_window", _join(later)

    free = role == "control"
    treated_pos = np.flatnonzero(role == "treated")
    spill_from: dict[int, tuple[int, list[str], str]] = {}
    if spillover == "adjacent" and treated_pos.size:
        from libpysal.graph import Graph

        g = Graph.build_contiguity(areas.set_index(pd.Index(aid)), rook=False)
        for t in treated_pos:
            for nb in g.neighbors[aid[t]]:
                j = pos_of[nb]
                if free[j]:
                    _add_spill(
                        spill_from, j, int(coh[t]), which[t].split(","), "adjacent_to_treated"
                    )
    elif spillover == "distance":
        inw = np.flatnonzero((timing == "in_window").to_numpy() & ~empty)
        if inw.size:
            near = tree.query(foot_arr[inw], predicate="dwithin", distance=spill_distance_m)
            for k, j in zip(near[0], near[1], strict=True):
                if free[j]:
                    _add_spill(spill_from, int(j), int(cohort.iloc[inw[k]]), [ids.iloc[inw[k]]],
                               "within_distance")
    for j, (c, inv_ids, code) in spill_from.items():
        role[j], reason[j], coh[j] = "spill", code, c
        which[j] = ",".join(sorted(set(inv_ids)))
    # overlaps below min_share contaminate an otherwise clean control
    minor = links[~links["counted"] & (links["timing"] != "after_window")]
    for a, grp in minor.groupby("area_id", sort=False):
        j = pos_of[a]
        if role[j] == "control":
            role[j] = "spill" if spillover is not None else "excluded"
            reason[j], which[j] = "partial_overlap", _join(grp)
            c = grp["cohort"].dropna()
            coh[j] = int(c.min()) if len(c) else pd.NA

    text = np.array([REASONS[r] for r in reason], dtype=object)
    roles = gpd.GeoDataFrame(
        {
            "area_id": aid,
            "role": role.astype(str),
            "investment_ids": which.astype(str),
            "cohort": coh,
            "reason": reason.astype(str),
            "reason_text": text.astype(str),
        },
        geometry=areas.geometry.to_numpy(),
        crs=crs,
    )
    counts = roles["role"].value_counts().to_dict()
    logger.info(
        "roles over waves %s: %s; %d investments in no area", list(dates), counts, len(unplaced)
    )
    return DesignResult(
        roles=roles, links=links, unplaced=unplaced, waves=tuple(dates),
        wave_dates=dates, spillover=spillover,
    )


def _join(grp: pd.DataFrame) -> str:
    return ",".join(sorted(dict.fromkeys(grp["investment_id"].astype(str))))


def _add_spill(
    acc: dict[int, tuple[int, list[str], str]], j: int, cohort: int, inv_ids: list[str], code: str
) -> None:
    if j in acc:
        c, ids, _ = acc[j]
        acc[j] = (min(c, cohort), ids + inv_ids, code)
    else:
        acc[j] = (cohort, list(inv_ids), code)


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MatchResult:
    """Matched controls and the balance they achieve.

    Attributes
    ----------
    pairs
        One row per match: ``treated_id``, ``control_id``, ``rank`` (1 = the
        nearest), ``distance``.
    weights
        Control weights (each treated unit gives its ``k`` matches ``1/k``
        each), indexed by control area id.
    features
        The matching features per unit: ``area_id``, ``role``, ``level``
        (pre-period mean) and ``trend`` (OLS slope per wave year; only when
        there are two or more pre-waves).
    balance
        Per feature: ``mean_treated``, ``mean_control_before``,
        ``mean_control_after`` (weighted), ``smd_before``, ``smd_after``
        (standardised mean differences with the pre-matching pooled standard
        deviation, ``sqrt((var_t + var_c) / 2)``), ``n_treated``,
        ``n_control_before``, ``n_control_after`` (distinct matched controls).
    unmatched
        Treated or control units left out: ``area_id``, ``role``, ``reason``.
    method, k, replace
        The settings used.
    """

    pairs: pd.DataFrame
    weights: pd.Series
    features: pd.DataFrame
    balance: pd.DataFrame
    unmatched: pd.DataFrame
    method: str
    k: int
    replace: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The match pairs."""
        return self.pairs.copy()

    @property
    def control_ids(self) -> list[str]:
        """Distinct matched control ids."""
        return self.weights.index.tolist()


def _outcome_values(panel: pd.DataFrame, outcome: str, value: str, area_id: str) -> pd.DataFrame:
    for col in (area_id, "wave"):
        if col not in panel.columns:
            raise MissingColumnError(col, found=panel.columns)
    if "indicator" in panel.columns and outcome in set(panel["indicator"].astype(str)):
        if value not in panel.columns:
            raise MissingColumnError(value, found=panel.columns)
        sub = panel.loc[panel["indicator"].astype(str) == outcome, [area_id, "wave", value]]
        sub = sub.rename(columns={value: "y"})
        if "suppressed" in panel.columns:  # suppressed cells are missing, not values
            sup = panel.loc[sub.index, "suppressed"].fillna(False).astype(bool)
            sub.loc[sup.to_numpy(), "y"] = np.nan
    elif outcome in panel.columns:
        sub = panel[[area_id, "wave", outcome]].rename(columns={outcome: "y"})
    else:
        known = sorted(set(panel["indicator"].astype(str))) if "indicator" in panel.columns else []
        raise InputError(
            f"outcome {outcome!r} is neither an indicator in the panel nor a column. "
            f"Indicators: {known}; columns: {list(panel.columns)}.",
            column="indicator",
            fix="pass one of the indicator names (or a value column) as outcome.",
        )
    sub = sub.assign(**{area_id: sub[area_id].astype(str), "wave": sub["wave"].astype(int)})
    dup = sub.duplicated([area_id, "wave"])
    if dup.any():
        first = sub.loc[dup, [area_id, "wave"]].iloc[0].tolist()
        raise InputError(
            f"the panel has more than one {outcome!r} value for area/wave {first}.",
            fix="aggregate the panel to one row per area, wave and indicator first.",
        )
    return sub.pivot(index=area_id, columns="wave", values="y")


def _features(wide: pd.DataFrame, pre: list[int]) -> tuple[pd.DataFrame, pd.Series]:
    """Pre-period level and trend per unit; the reason a unit has none."""
    missing_cols = [w for w in pre if w not in wide.columns]
    vals = wide.reindex(columns=pre).to_numpy(dtype=float)
    ok = np.isfinite(vals).all(axis=1)
    why = pd.Series("", index=wide.index, dtype=object)
    if missing_cols:
        why[:] = f"missing_pre_period: waves {missing_cols} not in the panel"
    else:
        for i in np.flatnonzero(~ok):
            miss = [w for w, v in zip(pre, vals[i], strict=True) if not np.isfinite(v)]
            why.iloc[i] = f"missing_pre_period: no value (or suppressed) in waves {miss}"
    feats = pd.DataFrame({"level": vals.mean(axis=1)}, index=wide.index)
    if len(pre) >= 2:
        t = np.asarray(pre, dtype=float)
        tc = t - t.mean()
        feats["trend"] = (vals - vals.mean(axis=1, keepdims=True)) @ tc / (tc @ tc)
    return feats, why


def match_controls(
    panel: pd.DataFrame,
    roles: DesignResult | pd.DataFrame,
    *,
    outcome: str,
    pre_waves: Sequence[int],
    method: Literal["nearest", "mahalanobis"] = "nearest",
    k: int = 1,
    replace: bool = True,
    value: str = "share",
    area_id: str = "area_id",
) -> MatchResult:
    """Match each treated unit to the ``k`` control units nearest in pre-period level and trend.

    Parameters
    ----------
    panel
        Long survey panel (``area_id``, ``wave``, ``indicator``, ``share`` ...)
        or any long table with an ``outcome`` column. Suppressed cells count
        as missing.
    roles
        A :class:`DesignResult` or its roles table (``area_id``, ``role``,
        ``cohort``).
    outcome
        Indicator name (or value column) to match on.
    pre_waves
        The waves before treatment. Treated units whose cohort is not after
        every pre-wave are left unmatched with the reason.
    method
        ``"nearest"``: Euclidean distance on features standardised by their
        pooled standard deviation; ``"mahalanobis"``: Mahalanobis distance
        with the pooled covariance (pseudo-inverse if singular).
    k
        Controls per treated unit.
    replace
        Whether a control may serve several treated units. Without
        replacement, matching is greedy on the globally smallest distances.

    Returns
    -------
    MatchResult
    """
    if method not in ("nearest", "mahalanobis"):
        raise InputError(f"method must be 'nearest' or 'mahalanobis', got {method!r}.")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise InputError(f"k must be a positive integer, got {k!r}.")
    pre = sorted(int(w) for w in pre_waves)
    if not pre:
        raise InputError("pre_waves is empty.", fix="pass the waves before treatment.")
    table = roles.roles if isinstance(roles, DesignResult) else roles
    for col in ("area_id", "role"):
        if col not in table.columns:
            raise MissingColumnError(col, found=table.columns)
    units = pd.DataFrame(
        {
            "area_id": table["area_id"].astype(str).to_numpy(),
            "role": table["role"].astype(str).to_numpy(),
            "cohort": table["cohort"].to_numpy() if "cohort" in table.columns else pd.NA,
        }
    )
    units = units[units["role"].isin(["treated", "control"])].reset_index(drop=True)
    wide = _outcome_values(panel, outcome, value, area_id).reindex(units["area_id"])
    feats, why = _features(wide, pre)
    why = why.reindex(units["area_id"]).fillna("missing_pre_period: area not in the panel")
    cohort = pd.to_numeric(units["cohort"], errors="coerce")
    early = (units["role"] == "treated").to_numpy() & (cohort <= pre[-1]).fillna(False).to_numpy()
    reasons = why.to_numpy().copy()
    reasons[early & (reasons == "")] = f"cohort_not_after_pre_waves: cohort <= {pre[-1]}"
    use = reasons == ""
    unmatched = pd.DataFrame(
        {"area_id": units["area_id"][~use], "role": units["role"][~use], "reason": reasons[~use]}
    ).reset_index(drop=True)
    features = feats.reset_index().rename(columns={"index": "area_id"})
    features.insert(1, "role", units["role"].to_numpy())
    X = feats.to_numpy(dtype=float)
    is_t = (units["role"] == "treated").to_numpy() & use
    is_c = (units["role"] == "control").to_numpy() & use
    if not is_t.any() or not is_c.any():
        raise EmptyLayerError(
            f"nothing to match: {int(is_t.sum())} treated and {int(is_c.sum())} control units "
            f"with a complete pre-period ({len(unmatched)} left out; see the reasons).",
            fix="check the roles, pre_waves and that the panel covers those waves.",
        )
    Xt, Xc = X[is_t], X[is_c]
    pooled = np.vstack([Xt, Xc])
    if method == "nearest":
        var = pooled.var(axis=0, ddof=1)
        var[~(var > 0)] = 1.0
        D = cdist(Xt, Xc, metric="seuclidean", V=var)
    else:
        cov = np.atleast_2d(np.cov(pooled, rowvar=False))
        D = cdist(Xt, Xc, metric="mahalanobis", VI=np.linalg.pinv(cov))
    t_ids = units["area_id"].to_numpy()[is_t]
    c_ids = units["area_id"].to_numpy()[is_c]
    rows = _pick(D, k=k, replace=replace)
    pairs = pd.DataFrame(
        {
            "treated_id": t_ids[[r[0] for r in rows]],
            "control_id": c_ids[[r[1] for r in rows]],
            "rank": [r[2] for r in rows],
            "distance": [float(D[r[0], r[1]]) for r in rows],
        }
    ).sort_values(["treated_id", "rank"], kind="stable").reset_index(drop=True)
    short = pairs.groupby("treated_id").size().reindex(t_ids, fill_value=0)
    if (short < k).any():
        logger.warning("%d treated units got fewer than %d controls (not enough controls without "
                       "replacement)", int((short < k).sum()), k)
    per = pairs.groupby("treated_id")["control_id"].transform("size")
    weights = (1.0 / per).groupby(pairs["control_id"]).sum().rename("weight")
    weights.index.name = "control_id"
    balance = _balance(feats.columns.tolist(), Xt, Xc, c_ids, weights)
    return MatchResult(
        pairs=pairs,
        weights=weights,
        features=features,
        balance=balance,
        unmatched=unmatched,
        method=method,
        k=int(k),
        replace=bool(replace),
        extra={"pre_waves": pre, "outcome": outcome},
    )


def _pick(D: np.ndarray, *, k: int, replace: bool) -> list[tuple[int, int, int]]:
    nt, nc = D.shape
    out: list[tuple[int, int, int]] = []
    if replace:
        order = np.argsort(D, axis=1, kind="stable")[:, : min(k, nc)]
        for i in range(nt):
            out.extend((i, int(j), r + 1) for r, j in enumerate(order[i]))
        return out
    flat = np.argsort(D, axis=None, kind="stable")
    used = np.zeros(nc, dtype=bool)
    got = np.zeros(nt, dtype=int)
    for f in flat:
        i, j = divmod(int(f), nc)
        if got[i] < k and not used[j]:
            used[j] = True
            got[i] += 1
            out.append((i, j, int(got[i])))
    return out


def _balance(
    names: list[str], Xt: np.ndarray, Xc: np.ndarray, c_ids: np.ndarray, weights: pd.Series
) -> pd.DataFrame:
    w = weights.reindex(c_ids).fillna(0.0).to_numpy()
    rows = []
    for j, name in enumerate(names):
        mt, mc = Xt[:, j].mean(), Xc[:, j].mean()
        vt = Xt[:, j].var(ddof=1) if len(Xt) > 1 else 0.0
        vc = Xc[:, j].var(ddof=1) if len(Xc) > 1 else 0.0
        sd = float(np.sqrt((vt + vc) / 2))
        ma = float(np.average(Xc[:, j], weights=w)) if w.sum() > 0 else float("nan")
        rows.append(
            {
                "feature": name,
                "mean_treated": float(mt),
                "mean_control_before": float(mc),
                "mean_control_after": ma,
                "smd_before": (mt - mc) / sd if sd > 0 else float("nan"),
                "smd_after": (mt - ma) / sd if sd > 0 else float("nan"),
                "n_treated": len(Xt),
                "n_control_before": len(Xc),
                "n_control_after": int((w > 0).sum()),
            }
        )
    return pd.DataFrame(rows)
