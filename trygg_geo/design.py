"""Evaluation design: treated, control and spillover units, and matched controls.

:func:`assign_roles` gives every area exactly one role for a survey panel:

``treated``
    The area holds an investment completed inside the study window, i.e.
    after the first survey wave and no later than the last. Its ``cohort`` is
    the first wave on or after the completion date.
``excluded``
    The area was already treated before the first wave (no clean pre-period),
    or holds an investment without a completion date (its timing is unknown);
    or, as a would-be control, it is named by a completed investment that could not
    be placed, or one of its survey cells is too small to publish.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from libpysal.graph import Graph
from pyproj import CRS
from scipy.spatial.distance import cdist

from trygg_geo._crs import require_crs, require_projected
from trygg_geo._errors import EmptyLayerError, InputError, MissingColumnError
from trygg_geo._i18n import text
from trygg_geo.areas import match_area_keys
from trygg_geo.survey import FIELDWORK_DAY, FIELDWORK_MONTH

__all__ = ["ROLES", "DesignResult", "MatchResult", "assign_roles", "match_controls",
           "split_by_share"]

logger = logging.getLogger(__name__)

ROLES = ("treated", "control", "spill", "excluded")



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
        The one investment -> area relation, one row per (investment row, area) overlap:
        ``row`` (position of the investment in the input), ``source_row`` (when the
        input has it), ``investment_id``, ``area_id``, ``share`` (of the investment, or of
        its catchment, inside the area; an investment's shares add up to at most 1),
        ``completed``, ``timing`` (``in_window``, ``before_window``,
        ``after_window``, ``no_date``), ``cohort``, ``counted`` (share >= min_share) and
        ``kind`` (when asked for). Treatment, money per area (:meth:`spend_by_area`),
        each investment's main area (:meth:`main_area`) and per-investment effects all
        come from it.
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

    def main_area(self, n_rows: int) -> pd.Series:
        """Each investment row's main area: the one holding the largest share of it.

        Indexed by row position ``0 .. n_rows - 1``; NA for rows in no area. Ties go to the
        first area in id order. For display and tables only: money and effects use every
        area an investment reaches, with its share.
        """
        best = self.links.sort_values(["row", "share"], ascending=[True, False], kind="stable")
        first = best.drop_duplicates("row").set_index("row")["area_id"]
        return first.reindex(range(n_rows)).astype("string")

    def spend_by_area(self, amounts: Sequence[float] | pd.Series, *,
                      rows: pd.Series | None = None) -> pd.Series:
        """Money per area: each investment row's amount split over its areas by share.

        ``amounts`` is aligned with the investment rows by position; ``rows`` (a boolean
        mask over those rows) restricts the sum, e.g. to completed investments of one kind.
        NaN amounts count as unknown: an area whose every amount is unknown gets NaN.
        """
        return split_by_share(self.links, amounts, rows=rows)

    def area_ids(self, role: str) -> list[str]:
        """Area ids with a given role, in area order."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        return self.roles.loc[self.roles["role"] == role, "area_id"].tolist()


def split_by_share(links: pd.DataFrame, amounts: Sequence[float] | pd.Series, *,
                   rows: Sequence[bool] | pd.Series | np.ndarray | None = None) -> pd.Series:
    """Amounts per area: each investment row's amount split over its areas by share.

    The one rule for money per area (:meth:`DesignResult.spend_by_area`, the report's area
    table and the map's per-area sums use it), so that a line crossing two areas puts its
    money in both, by share, and never all of it in one.

    Parameters
    ----------
    links
        The investment -> area relation (:attr:`DesignResult.links`): ``row``, ``area_id``,
        ``share``.
    amounts
        One amount per investment row, aligned by position; NaN is unknown.
    rows
        Optional boolean mask over the investment rows that restricts the sum.

    Returns
    -------
    pandas.Series
        Sum per ``area_id``; an area whose every amount is unknown gets NaN.

    Examples
    --------
    >>> links = pd.DataFrame({"row": [0, 0, 1], "area_id": ["A", "B", "B"],
    ...                       "share": [0.25, 0.75, 1.0]})
    >>> split_by_share(links, [100.0, 10.0]).to_dict()
    {'A': 25.0, 'B': 85.0}
    >>> split_by_share(links, [100.0, 10.0], rows=[False, True]).to_dict()
    {'B': 10.0}
    """
    amt = np.asarray(amounts, dtype=float)
    if rows is not None:
        links = links[np.asarray(rows, dtype=bool)[links["row"].to_numpy()]]
    part = amt[links["row"].to_numpy()] * links["share"].to_numpy(dtype=float)
    return pd.Series(part, index=links["area_id"].astype(str).to_numpy()) \
        .groupby(level=0).sum(min_count=1)


def _wave_dates(
    waves: Sequence[int] | Mapping[int, Any], wave_day: str | None
) -> dict[int, pd.Timestamp]:
    wave_day = wave_day or f"{FIELDWORK_MONTH:02d}-{FIELDWORK_DAY:02d}"
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


#: Register status codes (``trygg_geo.io.read_register``'s ``status``) that mean no work.
_NOT_DONE = ("cancelled", "planned")

#: How each timing of an investment affects the area it lies in: the reason code when the
#: area cannot be a control or treated unit because of it (see :func:`_own_roles`).
EXCLUDING = {
    "before_window": "treated_before_window",
    "no_date": "completion_date_missing",
    "started_before_window": "started_before_window",
    "ongoing": "ongoing_work",
    "cancelled_with_work": "cancelled_with_work",
    "work_in_last_window": "work_in_last_window",
}


def _timing(
    completed: pd.Series, dates: dict[int, pd.Timestamp], *, started: pd.Series | None = None,
    status: pd.Series | None = None, spent: pd.Series | None = None,
) -> pd.DataFrame:
    """Each investment's timing against the waves, and its measurement window.

    Returns ``timing``, ``pre_wave`` (the last wave before the work started; without a
    start date, the wave before ``cohort``), ``cohort`` (the first wave on or after
    completion) and ``next_wave`` (for work completed after the last wave: the wave that
    will first measure it, one usual gap after the last). Timing codes:

    ``in_window``
        Completed after the first wave and no later than the last, started after the first.
    ``started_before_window``
        Completed in the window but started on or before the first wave: no clean
        before-measurement.
    ``before_window`` / ``after_window``
        Completed on or before the first wave / after the last (``work_in_last_window``
        when the work started before the last wave, so that wave was measured during it).
    ``ongoing``
        Status ongoing and started by the last wave (or start unknown): work in progress.
    ``not_yet``
        Ongoing, started after the last wave: nothing measured yet.
    ``cancelled`` / ``cancelled_with_work``
        Cancelled or only planned; ``cancelled_with_work`` when money was spent on it.
    ``no_date``
        No completion date and no status that explains why: the timing is unknown.
    """
    waves = np.array(list(dates), dtype=np.int64)
    wd = pd.DatetimeIndex(list(dates.values()))
    n = len(completed)
    idx = completed.index
    start = pd.to_datetime(started, errors="coerce") if started is not None else \
        pd.Series(pd.NaT, index=idx)
    stat = status.astype("string").str.lower() if status is not None else \
        pd.Series(pd.NA, index=idx, dtype="string")
    money = pd.to_numeric(spent, errors="coerce") if spent is not None else \
        pd.Series(np.nan, index=idx)
    out = pd.DataFrame({"timing": np.full(n, "in_window", dtype=object),
                        "pre_wave": pd.array([pd.NA] * n, dtype="Int64"),
                        "cohort": pd.array([pd.NA] * n, dtype="Int64"),
                        "next_wave": pd.array([pd.NA] * n, dtype="Int64")}, index=idx)
    missing = completed.isna()
    not_done = stat.isin(_NOT_DONE).fillna(False).to_numpy()
    ongoing = ((stat == "ongoing").fillna(False).to_numpy() & missing.to_numpy())
    before = ~missing & (completed <= wd[0])
    after = ~missing & (completed > wd[-1])
    inside = ~(missing | before | after)
    out.loc[missing, "timing"] = "no_date"
    out.loc[before, "timing"] = "before_window"
    out.loc[after, "timing"] = "after_window"
    early = inside & start.notna() & (start <= wd[0])
    out.loc[early, "timing"] = "started_before_window"
    late_work = after & start.notna() & (start <= wd[-1])
    out.loc[late_work, "timing"] = "work_in_last_window"
    out.loc[ongoing & ~(start > wd[-1]).to_numpy(), "timing"] = "ongoing"
    out.loc[ongoing & (start > wd[-1]).to_numpy(), "timing"] = "not_yet"
    out.loc[not_done, "timing"] = np.where((money.fillna(0) > 0).to_numpy()[not_done],
                                           "cancelled_with_work", "cancelled")
    edges = wd.to_numpy(dtype="datetime64[ns]")
    if inside.any():
        pos = np.searchsorted(edges, completed[inside].to_numpy(dtype="datetime64[ns]"),
                              side="left")
        out.loc[inside, "cohort"] = waves[pos]
        # the last wave fielded before the work started; without a start date, the one before
        # the cohort (the work is taken to have started after it)
        pre_pos = pos - 1
        has_start = start[inside].notna().to_numpy()
        by_start = np.searchsorted(edges, start[inside].to_numpy(dtype="datetime64[ns]"),
                                   side="left") - 1
        pre_pos = np.where(has_start, np.minimum(by_start, pos - 1), pre_pos)
        pre = np.where(pre_pos >= 0, waves[np.maximum(pre_pos, 0)], -1)
        pre_arr = pd.array(pre, dtype="Int64")
        pre_arr[pre < 0] = pd.NA
        out.loc[inside, "pre_wave"] = pre_arr
    if after.any() or (out["timing"] == "not_yet").any():
        gap = int(np.median(np.diff(waves))) if len(waves) > 1 else 1
        nxt = int(waves[-1]) + gap
        while pd.Timestamp(nxt, wd[-1].month, wd[-1].day) < completed[after].max():
            nxt += gap
        out.loc[after | (out["timing"] == "not_yet"), "next_wave"] = nxt
    return out


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
    return require_projected(areas.crs, what="the area layer")


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


@dataclass
class _Units:
    """The per-area role arrays that the stages of :func:`assign_roles` fill in."""

    aid: np.ndarray
    role: np.ndarray
    reason: np.ndarray
    which: np.ndarray
    cohort: Any
    pre_wave: Any

    @classmethod
    def blank(cls, aid: np.ndarray) -> _Units:
        n = aid.size
        return cls(aid=aid, role=np.full(n, "control", dtype=object),
                   reason=np.full(n, "never_treated", dtype=object),
                   which=np.full(n, "", dtype=object), cohort=pd.array([pd.NA] * n, dtype="Int64"),
                   pre_wave=pd.array([pd.NA] * n, dtype="Int64"))

    def pos(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.aid)}


def _relation(
    inv: gpd.GeoDataFrame, foot_arr: np.ndarray, areas: gpd.GeoDataFrame, aid: np.ndarray, *,
    ids: pd.Series, done: pd.Series, when: pd.DataFrame, min_share: float,
    tree: shapely.STRtree, kind: str | None,
) -> pd.DataFrame:
    """The one investment -> area relation: a row per (investment row, area) overlap.

    ``share`` is the part of the footprint inside the area (length for lines, area for
    polygons and catchments, 1 for points). A footprint that lies on a shared boundary (a
    point on a border, a street along one) touches several areas with shares that add up to
    more than one; its shares are divided by their sum, so an investment is never counted
    more than once in money or treatment weight.
    """
    empty = shapely.is_missing(foot_arr) | shapely.is_empty(foot_arr)
    query = foot_arr.copy()
    query[empty] = None
    inv_pos, area_pos = tree.query(query, predicate="intersects")
    geoms = np.asarray(areas.geometry.to_numpy(), dtype=object)
    share = _shares(foot_arr[inv_pos], geoms[area_pos]) if inv_pos.size else np.empty(0)
    positive = share > 0
    inv_pos, area_pos, share = inv_pos[positive], area_pos[positive], share[positive]
    total = np.bincount(inv_pos, weights=share, minlength=len(inv))
    over = total[inv_pos] > 1 + 1e-9
    share = np.where(over, share / np.where(total[inv_pos] > 0, total[inv_pos], 1.0), share)
    counted = share >= min_share if min_share > 0 else np.ones(share.size, dtype=bool)
    links = pd.DataFrame(
        {
            "row": inv_pos.astype(np.int64),
            "investment_id": ids.to_numpy()[inv_pos],
            "area_id": aid[area_pos],
            "share": share,
            "completed": done.to_numpy()[inv_pos],
            "timing": when["timing"].to_numpy()[inv_pos],
            "pre_wave": when["pre_wave"].to_numpy()[inv_pos],
            "cohort": when["cohort"].to_numpy()[inv_pos],
            "next_wave": when["next_wave"].to_numpy()[inv_pos],
            "counted": counted,
        }
    )
    if "source_row" in inv.columns:
        links.insert(1, "source_row", inv["source_row"].to_numpy()[inv_pos])
    if kind is not None:
        links["kind"] = inv[kind].astype(str).to_numpy()[inv_pos]
    for col in ("pre_wave", "cohort", "next_wave"):
        links[col] = links[col].astype("Int64")
    return links.sort_values(["row", "area_id"], kind="stable").reset_index(drop=True)


def _own_roles(u: _Units, links: pd.DataFrame) -> None:
    """Treated, excluded, or control with a later investment, from the area's own links.

    Exclusions (:data:`EXCLUDING`, in that order of precedence) beat treatment: an area with
    work of unknown or unclean timing is neither a treated unit nor a control. A treated
    area's window runs from the earliest investment's ``pre_wave`` to its ``cohort``.
    """
    pos = u.pos()
    c = links[links["counted"]]
    # plain arrays, indexed per area: frame masks per area cost O(areas x links) (issue 17)
    timing = c["timing"].to_numpy(dtype=object)
    ids = c["investment_id"].astype(str).to_numpy(dtype=object)
    cohort = c["cohort"].to_numpy(dtype="float64", na_value=np.nan)
    pre = c["pre_wave"].to_numpy(dtype="float64", na_value=np.nan)
    for a, rows in c.groupby("area_id", sort=False).indices.items():
        i = pos[a]
        t = timing[rows]
        bad = next((b for b in EXCLUDING if (t == b).any()), None)
        inwin = rows[t == "in_window"]
        if bad is not None:
            u.role[i], u.reason[i] = "excluded", EXCLUDING[bad]
            u.which[i] = _join_ids(ids[rows[t == bad]])
        elif len(inwin):
            first = inwin[cohort[inwin] == np.nanmin(cohort[inwin])]
            u.role[i], u.reason[i] = "treated", "investment_in_window"
            u.which[i] = _join_ids(ids[inwin])
            u.cohort[i] = int(cohort[first[0]])
            u.pre_wave[i] = int(np.nanmin(pre[first]))
        elif (t == "after_window").any():
            u.reason[i] = "investment_after_window"
            u.which[i] = _join_ids(ids[rows[t == "after_window"]])


def _spill_roles(
    u: _Units, areas: gpd.GeoDataFrame, *, spillover: str | None, spill_distance_m: float | None,
    tree: shapely.STRtree, foot_arr: np.ndarray, when: pd.DataFrame, ids: pd.Series,
) -> None:
    """Spill units: next to a treated area, or within the distance of an in-window investment."""
    free = u.role == "control"
    pos = u.pos()
    spill_from: dict[int, tuple[int, list[str], str]] = {}
    treated_pos = np.flatnonzero(u.role == "treated")
    if spillover == "adjacent" and treated_pos.size:
        g = Graph.build_contiguity(areas.set_index(pd.Index(u.aid)), rook=False)
        for t in treated_pos:
            for nb in g.neighbors[u.aid[t]]:
                j = pos[nb]
                if free[j]:
                    _add_spill(spill_from, j, int(u.cohort[t]), u.which[t].split(","),
                               "adjacent_to_treated")
    elif spillover == "distance":
        empty = shapely.is_missing(foot_arr) | shapely.is_empty(foot_arr)
        cohort = when["cohort"]
        inw = np.flatnonzero((when["timing"] == "in_window").to_numpy() & ~empty)
        if inw.size:
            near = tree.query(foot_arr[inw], predicate="dwithin", distance=spill_distance_m)
            for k, j in zip(near[0], near[1], strict=True):
                if free[j]:
                    _add_spill(spill_from, int(j), int(cohort.iloc[inw[k]]), [ids.iloc[inw[k]]],
                               "within_distance")
    for j, (c, inv_ids, code) in spill_from.items():
        u.role[j], u.reason[j], u.cohort[j] = "spill", code, c
        u.which[j] = ",".join(sorted(set(inv_ids)))


def _minor_overlaps(u: _Units, links: pd.DataFrame, *, spillover: str | None) -> None:
    """Overlaps below ``min_share`` contaminate an otherwise clean control."""
    pos = u.pos()
    minor = links[~links["counted"] & ~links["timing"].isin(["after_window", "cancelled",
                                                              "not_yet"])]
    for a, grp in minor.groupby("area_id", sort=False):
        j = pos[a]
        if u.role[j] == "control":
            u.role[j] = "spill" if spillover is not None else "excluded"
            u.reason[j], u.which[j] = "partial_overlap", _join(grp)
            c = grp["cohort"].dropna()
            u.cohort[j] = int(c.min()) if len(c) else pd.NA


def _not_controls(
    u: _Units, areas: gpd.GeoDataFrame, *, area_id: str, completed: str,
    unplaced: pd.DataFrame | None, small_cells: Iterable[tuple[str, int]] | None,
    survey_cells: Iterable[tuple[str, int]] | None, waves: Sequence[int],
) -> None:
    """Controls that cannot serve, so that the controls are exactly what every estimate uses.

    An area named in the district column of a completed investment that could not be placed
    may have been treated. An area not measured in every study wave ("ingen mätning")
    cannot be compared. An area with a suppressed survey cell in a study wave would have
    every pooled estimate rest on that cell (see :mod:`trygg_geo.disclosure`).
    """
    control = u.role == "control"
    if unplaced is not None and len(unplaced) and "district" in unplaced.columns:
        done = unplaced[unplaced[completed].notna()] if completed in unplaced.columns else unplaced
        named = match_area_keys(done["district"].dropna().astype(str),
                                areas.rename(columns={area_id: "area_id"}))
        hit = np.isin(u.aid, named.dropna().astype(str).to_numpy()) & control
        u.role[hit], u.reason[hit] = "excluded", "unplaced_investment"
        control &= ~hit
    in_study = {int(w) for w in waves}
    if survey_cells is not None:
        have: dict[str, set[int]] = {}
        for a, w in survey_cells:
            if int(w) in in_study:
                have.setdefault(str(a), set()).add(int(w))
        none = np.array([a not in have for a in u.aid]) & control
        u.role[none], u.reason[none] = "excluded", "no_survey"
        control &= ~none
        part = np.array([len(have.get(a, ())) < len(in_study) for a in u.aid]) & control
        u.role[part], u.reason[part] = "excluded", "survey_wave_missing"
        control &= ~part
    if small_cells:
        small = {str(a) for a, w in small_cells if int(w) in in_study}
        hit = np.isin(u.aid, list(small)) & control
        u.role[hit], u.reason[hit] = "excluded", "small_survey_cell"


def assign_roles(
    areas: gpd.GeoDataFrame,
    investments: gpd.GeoDataFrame,
    *,
    waves: Sequence[int] | Mapping[int, Any],
    area_id: str = "area_id",
    investment_id: str = "investment_id",
    completed: str = "completed",
    started: str = "started",
    status: str = "status",
    spent: str = "spent_sek",
    kind: str | None = None,
    spillover: Literal["adjacent", "distance"] | None = "adjacent",
    spill_distance_m: float | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    min_share: float = 0.0,
    wave_day: str | None = None,
    unplaced: pd.DataFrame | None = None,
    small_cells: Iterable[tuple[str, int]] | None = None,
    survey_cells: Iterable[tuple[str, int]] | None = None,
    lang: str = "sv",
) -> DesignResult:
    """Give every area exactly one role: treated, control, spill or excluded.

    Parameters
    ----------
    areas
        Area polygons with a unique ``area_id``, in a projected CRS. A ``name`` column is
        carried into the roles table.
    investments
        Placed investments (``GeocodeResult.placed``): ``investment_id``,
        ``completed`` (datetime; NaT allowed) and point, line or polygon
        geometry. Reprojected to the areas' CRS if needed.
    waves
        The survey waves: years (each taken as fielded on ``wave_day`` of that
        year) or a mapping ``{wave: fieldwork date}``.
    started, status, spent
        Optional columns of ``investments`` (used when present): the start date sets the
        measurement window (the last wave before the work started); the register status
        (``completed``, ``ongoing``, ``cancelled``, ``planned``) tells work in progress and
        cancelled projects from unknown timing; money spent on a cancelled project means
        work was done. See :func:`_timing` for the timing codes.
    kind
        Optional column of ``investments`` with the intervention kind: the roles table then
        has ``kinds``, the kinds that treated each area in the window (comma-joined).
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
        ``"MM-DD"`` date of fieldwork when ``waves`` are plain years; default
        :data:`trygg_geo.survey.FIELDWORK_MONTH` / ``FIELDWORK_DAY`` (15 September).
    unplaced
        Register rows that could not be placed (``GeocodeResult.unplaced``): an area named
        in the ``district`` column of a completed one may have been treated, so it is never
        a control (``excluded``, reason ``unplaced_investment``).
    small_cells
        ``(area_id, wave)`` survey cells with fewer answers than ``min_n``
        (:func:`trygg_geo.disclosure.suppressed_cells`): such an area is not a control
        (``excluded``, reason ``small_survey_cell``).
    survey_cells
        ``(area_id, wave)`` cells the survey has for the indicator. When given, an area not
        measured in every study wave is not a control (``excluded``, reason ``no_survey``
        when it has no cell at all, ``survey_wave_missing`` otherwise), so the controls are
        exactly the areas every estimate compares with.
    lang
        Language of ``reason_text``: ``"sv"`` or ``"en"``.

    Returns
    -------
    DesignResult
        Its ``links`` are the one investment -> area relation (with ``share``) that the
        treatment, the money per area and the per-investment effects all use.
    """
    crs = _check_areas(areas, area_id)
    _check_options(spillover, spill_distance_m, min_share)
    for col in (investment_id, completed, *((kind,) if kind else ())):
        if col not in investments.columns:
            raise MissingColumnError(col, found=investments.columns)
    dates = _wave_dates(waves, wave_day)
    inv = _to_crs(investments, crs).reset_index(drop=True)
    done = pd.to_datetime(inv[completed], errors="coerce")
    when = _timing(done, dates, started=inv[started] if started in inv.columns else None,
                   status=inv[status] if status in inv.columns else None,
                   spent=inv[spent] if spent in inv.columns else None)
    foot_arr = np.asarray(_footprints(inv, catchments, investment_id).to_numpy(), dtype=object)
    ids = inv[investment_id].astype(str)
    aid = areas[area_id].astype(str).to_numpy()
    tree = shapely.STRtree(np.asarray(areas.geometry.to_numpy(), dtype=object))
    links = _relation(inv, foot_arr, areas, aid, ids=ids, done=done, when=when,
                      min_share=min_share, tree=tree, kind=kind)
    outside = _outside(inv, links, foot_arr, lang)

    u = _Units.blank(aid)
    _own_roles(u, links)
    _spill_roles(u, areas, spillover=spillover, spill_distance_m=spill_distance_m, tree=tree,
                 foot_arr=foot_arr, when=when, ids=ids)
    _minor_overlaps(u, links, spillover=spillover)
    _not_controls(u, areas, area_id=area_id, completed=completed, unplaced=unplaced,
                  small_cells=small_cells, survey_cells=survey_cells, waves=list(dates))
    roles = _roles_frame(u, areas, links, crs=crs, kind=kind, lang=lang)
    logger.info("roles over waves %s: %s; %d investments in no area", list(dates),
                roles["role"].value_counts().to_dict(), len(outside))
    return DesignResult(
        roles=roles, links=links, unplaced=outside, waves=tuple(dates),
        wave_dates=dates, spillover=spillover,
    )


def _check_options(spillover: Any, spill_distance_m: float | None, min_share: float) -> None:
    if spillover not in ("adjacent", "distance", None):
        raise InputError(f"spillover must be 'adjacent', 'distance' or None, got {spillover!r}.")
    if spillover == "distance" and not (spill_distance_m is not None and spill_distance_m > 0):
        raise InputError(
            "spillover='distance' needs spill_distance_m, a positive number of metres.",
            fix="pass e.g. spill_distance_m=300.",
        )
    if not 0.0 <= min_share <= 1.0:
        raise InputError(f"min_share must be between 0 and 1, got {min_share!r}.")


def _to_crs(investments: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    if require_crs(investments, what="the investment layer").equals(crs):
        return investments
    return investments.to_crs(crs)


def _outside(inv: gpd.GeoDataFrame, links: pd.DataFrame, foot_arr: np.ndarray,
             lang: str) -> pd.DataFrame:
    """Investments that fall in no area, with ``reason`` and ``reason_text``."""
    placed = np.zeros(len(inv), dtype=bool)
    placed[links["row"].to_numpy()] = True
    empty = shapely.is_missing(foot_arr) | shapely.is_empty(foot_arr)
    out = pd.DataFrame(inv.drop(columns=inv.geometry.name)).loc[~placed].copy()
    out["reason"] = np.where(empty[~placed], "empty_geometry", "outside_all_areas")
    out["reason_text"] = [text(f"role.{r}", lang) for r in out["reason"]]
    return out


def _roles_frame(u: _Units, areas: gpd.GeoDataFrame, links: pd.DataFrame, *, crs: CRS,
                 kind: str | None, lang: str) -> gpd.GeoDataFrame:
    cols: dict[str, Any] = {"area_id": u.aid}
    if "name" in areas.columns:
        cols["name"] = areas["name"].to_numpy()
    cols.update(
        role=u.role.astype(str), investment_ids=u.which.astype(str), cohort=u.cohort,
        pre_wave=u.pre_wave, reason=u.reason.astype(str),
        reason_text=np.array([text(f"role.{r}", lang) for r in u.reason], dtype=str),
    )
    if kind is not None:
        inwin = links[links["counted"] & (links["timing"] == "in_window")]
        kinds = inwin.groupby("area_id")["kind"].agg(lambda k: ",".join(sorted(set(k))))
        cols["kinds"] = pd.Series(u.aid).map(kinds).astype(object).fillna("").to_numpy()
    return gpd.GeoDataFrame(cols, geometry=areas.geometry.to_numpy(), crs=crs)


def _join(grp: pd.DataFrame) -> str:
    return _join_ids(grp["investment_id"].astype(str))


def _join_ids(ids: Iterable[str]) -> str:
    """The distinct investment ids, sorted and comma-joined."""
    return ",".join(sorted(set(ids)))


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
