"""The matching cascade: register rows -> placed investments + unplaced rows.

Stages, in order; a row leaves the cascade at the first stage that places it:

0. ``wkt``: a WKT cell or a geometry column (it wins over everything);
1. ``exact``: the address as written equals a gazetteer address (``Kungsgatan 12A``);
2. ``normalised``: after normalisation (case, abbreviations, noise words, letters, ranges,
   postcodes), with å/ä/ö folding as a fallback;
3. ``fuzzy``: misspelt streets, by rapidfuzz over a blocked candidate list (streets sharing a
   stem prefix, suffix or word, or the row's postcode), never the whole gazetteer;
   ``intersection`` and ``between``: two named streets (``X/Y``, ``A mellan B och C``);
4. ``street``: a street without a (known) house number, flagged ``street_level``;
5. ``place``: a named park, square, school, station;
6. ``coordinates``: the row's x/y, with CRS detection and swapped x/y;
7. ``provider``: an optional (online) provider, for what is left;
8. unplaced, with a reason.

The cost of one row is bounded: an address longer than :data:`MAX_ADDRESS_CHARS` is cut
before any matching (flag ``text_truncated``; reason ``address_too_long`` when the cut text
places nothing), so a 120,000-character cell costs no more than a long real address.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from rapidfuzz import fuzz, process
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from trygg_geo._errors import InputError, MissingColumnError
from trygg_geo.geocode._coords import _transformer, crs_hint, parse_crs, resolve_coordinates
from trygg_geo.geocode._geometry import Target, between_line, build_geometry
from trygg_geo.geocode._normalise import (
    ParsedAddress,
    blocking_keys,
    is_other_script,
    name_fold,
    parse_address,
    repair_encoding,
)
from trygg_geo.geocode.gazetteer import DISTRICT_PLACE_TYPES, Gazetteer
from trygg_geo.interventions import fold_text

if TYPE_CHECKING:
    from trygg_geo.geocode.providers import Provider

__all__ = [
    "MAX_ADDRESS_CHARS",
    "METHODS",
    "REASONS",
    "REGISTER_COLUMNS",
    "GeocodeResult",
    "geocode_register",
]

log = logging.getLogger(__name__)

REGISTER_COLUMNS: tuple[str, ...] = (
    "source_row", "investment_id", "name", "kind", "kind_raw", "kind_recognised", "address",
    "district", "board", "granted_sek", "spent_sek", "started", "completed", "x", "y", "crs",
    "wkt", "raw_text",
)
METHODS: tuple[str, ...] = ("exact", "normalised", "fuzzy", "street", "intersection", "between",
                            "place", "coordinates", "wkt", "provider")
#: Reason codes of unplaced rows and their sentences.
REASONS: dict[str, str] = {
    "empty_address": "The row has no address, no coordinates and no geometry.",
    "only_district": "The address only names a district or area ('{text}'), too coarse to place "
    "an investment. Give a street address, a place name or coordinates.",
    "no_match": "No address, street or place in the gazetteer matches '{text}'.",
    "no_intersection": "The streets in '{text}' were found but do not meet in the gazetteer.",
    "impossible_coordinates": "The coordinates ({x}, {y}) fit no coordinate system used in "
    "Sweden{declared}. Check the x/y columns and the CRS.",
    "address_too_long": "The address is {length} characters long, longer than any real "
    "address; only its first {limit} characters were tried, and they match nothing "
    "('{text}'). Shorten it to the street address or place.",
    "other_script": "The address '{text}' is written in a script other than Latin; the "
    "gazetteer holds Swedish names.",
    "bad_encoding": "The address '{text}' has characters lost to a wrong file encoding. Save the "
    "register as 'CSV UTF-8' or .xlsx.",
    "bad_wkt": "The WKT geometry could not be read and the row has no address to fall back on.",
}
_FLAG_SEP = ","
_LOST_CHAR = re.compile(r"\w\?+\w")
_COORD_DISAGREE_M = 250.0
_MAX_FUZZY_CANDIDATES = 5000
#: Addresses are cut to this many characters before matching (the parser's cost grows with the
#: square of the length; real addresses, even "korsningen X och Y vid Z", are far shorter).
MAX_ADDRESS_CHARS = 300


def _text(v: Any) -> str | None:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    s = str(v).strip()
    return s or None


@dataclass(frozen=True)
class GeocodeResult:
    """The outcome of :func:`geocode_register`.

    Attributes
    ----------
    placed
        GeoDataFrame in the working CRS: every register column, ``geometry`` (point, line or
        polygon by kind), ``geocode_method``, ``geocode_score`` (0-100), ``geocode_flag``
        (comma-separated, ``""`` when clean) and ``matched`` (the gazetteer text matched).
    unplaced
        DataFrame: every register column, ``reason`` (code) and ``reason_text``.
    crs
        The working CRS.
    stages
        Per cascade stage: ``stage``, ``seconds``, ``rows_in``, ``rows_placed``.
    """

    placed: gpd.GeoDataFrame
    unplaced: pd.DataFrame
    crs: CRS
    stages: pd.DataFrame = field(repr=False)

    def __len__(self) -> int:
        return len(self.placed) + len(self.unplaced)

    def summary(self) -> pd.DataFrame:
        """Counts: placed per method, unplaced per reason, flagged rows per flag, and totals.

        Columns ``category`` (``placed``, ``unplaced``, ``flag``, ``total``), ``value`` and
        ``n``. The ``placed`` and ``unplaced`` counts add up to the register's row count (the
        ``total`` row); a row can carry several flags.
        """
        rows: list[tuple[str, str, int]] = []
        for m, n in self.placed["geocode_method"].value_counts().items():
            rows.append(("placed", str(m), int(n)))
        for r, n in self.unplaced["reason"].value_counts().items():
            rows.append(("unplaced", str(r), int(n)))
        # geocoding flags on placed rows and the reader's flags (bad cells, unknown kinds) on all
        # rows; each flag counts once per row
        per_row: list[set[str]] = []
        for t in (self.placed, self.unplaced):
            cols = [c for c in ("geocode_flag", "read_flag") if c in t.columns]
            for vals in zip(*(t[c].fillna("").astype(str) for c in cols), strict=True):
                per_row.append({f for v in vals for f in v.split(_FLAG_SEP) if f})
        flags = pd.Series([f for fs in per_row for f in sorted(fs)], dtype=object)
        for f, n in flags.value_counts().items():
            rows.append(("flag", str(f), int(n)))
        rows.append(("total", "placed", len(self.placed)))
        rows.append(("total", "unplaced", len(self.unplaced)))
        rows.append(("total", "rows", len(self)))
        out = pd.DataFrame(rows, columns=["category", "value", "n"])
        order = {"placed": 0, "unplaced": 1, "flag": 2, "total": 3}
        out["_o"] = out["category"].map(order)
        out["_n"] = out["n"].where(out["category"] != "total", 0)
        out["_v"] = out["value"].where(out["category"] != "total", "")
        out = out.sort_values(["_o", "_n", "_v"], ascending=[True, False, True], kind="stable")
        out = out.drop(columns=["_n", "_v"])
        return out.drop(columns="_o").reset_index(drop=True)

    def to_frame(self) -> gpd.GeoDataFrame:
        """All rows in register order, with ``status`` (``placed``/``unplaced``).

        Unplaced rows have no geometry.
        """
        p = pd.DataFrame(self.placed.drop(columns="geometry"))
        p["status"] = "placed"
        p["_g"] = self.placed.geometry.to_numpy()
        u = self.unplaced.copy()
        u["status"] = "unplaced"
        u["_g"] = None
        both = pd.concat([p, u], ignore_index=True).sort_values("source_row", kind="stable")
        geom = gpd.GeoSeries(both.pop("_g").to_numpy(), crs=self.crs)
        return gpd.GeoDataFrame(both.reset_index(drop=True), geometry=geom.to_numpy(), crs=self.crs)


@dataclass
class _Row:
    method: str | None = None
    score: float = 0.0
    flags: list[str] = field(default_factory=list)
    matched: str = ""
    target: Target | None = None
    reason: str | None = None
    reason_text: str = ""


def _prepare_register(register: pd.DataFrame) -> tuple[pd.DataFrame, BaseGeometry | None]:
    if not isinstance(register, pd.DataFrame):
        raise InputError(f"the register must be a DataFrame, not {type(register).__name__}.",
                         fix="read it with trygg_geo.io.read_register(path).")
    if "source_row" not in register.columns:
        raise MissingColumnError("source_row", found=[str(c) for c in register.columns])
    geom = None
    if (
        isinstance(register, gpd.GeoDataFrame)
        and register._geometry_column_name in register.columns
    ):
        geom = register.geometry
        reg = pd.DataFrame(register.drop(columns=register._geometry_column_name))
    else:
        reg = pd.DataFrame(register).copy()
    if reg["source_row"].duplicated().any():
        dup = reg.loc[reg["source_row"].duplicated(), "source_row"].iloc[0]
        raise InputError(f"source_row {dup} occurs twice; every row must have its own number.",
                         column="source_row", fix="number rows by their line in the file.")
    for c in REGISTER_COLUMNS:
        if c not in reg.columns:
            reg[c] = pd.NA
    return reg.reset_index(drop=True), geom


class _Matcher:
    """Street and place resolution with caches (a register repeats its streets)."""

    def __init__(self, gaz: Gazetteer, threshold: float) -> None:
        self.gaz = gaz
        self.ix = gaz.index
        self.threshold = threshold
        self._street_cache: dict[tuple[str, str | None, bool], tuple[int, str, float] | None] = {}
        self._place_cache: dict[tuple[str, bool], tuple[int, str, float] | None] = {}

    def street(
        self, key: str, postcode: str | None = None, *, fuzzy: bool = True
    ) -> tuple[int, str, float] | None:
        """(street id, how, score) for a street key: ``key``, ``fold`` or ``fuzzy``."""
        ck = (key, postcode, fuzzy)
        if ck in self._street_cache:
            return self._street_cache[ck]
        ix = self.ix
        res: tuple[int, str, float] | None = None
        if key in ix.street_key:
            res = (ix.street_key[key], "key", 98.0)
        else:
            f = name_fold(key)
            if f in ix.street_fold:
                res = (ix.street_fold[f], "fold", 95.0)
            elif fuzzy and f:
                cands: set[int] = set()
                for b in blocking_keys(f):
                    cands.update(ix.street_blocks.get(b, ()))
                if postcode:
                    cands.update(ix.postcode_streets.get(postcode, ()))
                if cands:
                    cl = sorted(cands)[:_MAX_FUZZY_CANDIDATES]
                    hit = process.extractOne(f, [ix.street_folds[i] for i in cl], scorer=fuzz.ratio,
                                             score_cutoff=self.threshold)
                    if hit is not None:
                        res = (cl[hit[2]], "fuzzy", min(float(hit[1]), 94.0))
        self._street_cache[ck] = res
        return res

    def place(self, key: str, *, fuzzy: bool = True) -> tuple[int, str, float] | None:
        ck = (key, fuzzy)
        if ck in self._place_cache:
            return self._place_cache[ck]
        ix = self.ix
        res: tuple[int, str, float] | None = None
        if key in ix.place_key:
            res = (self._best_place(ix.place_key[key]), "key", 95.0)
        else:
            f = name_fold(key)
            if f in ix.place_fold:
                res = (self._best_place(ix.place_fold[f]), "fold", 90.0)
            elif fuzzy and f:
                cands: set[int] = set()
                for b in blocking_keys(f):
                    cands.update(ix.place_blocks.get(b, ()))
                if cands:
                    cl = sorted(cands)[:_MAX_FUZZY_CANDIDATES]
                    hit = process.extractOne(f, [ix.place_folds[i] for i in cl], scorer=fuzz.ratio,
                                             score_cutoff=self.threshold)
                    if hit is not None:
                        res = (cl[hit[2]], "fuzzy", min(float(hit[1]), 94.0) * 0.9)
        self._place_cache[ck] = res
        return res

    def _best_place(self, ids: list[int]) -> int:
        # prefer a polygon (a park rather than a node with its name)
        poly = [i for i in ids if self.ix.place_is_polygon[i]]
        return poly[0] if poly else ids[0]

    def pick_address(self, cands: np.ndarray, postcode: str | None) -> tuple[int, list[str]]:
        flags: list[str] = []
        if len(cands) > 1 and postcode:
            same = cands[self.ix.addr_postcode[cands] == postcode]
            if len(same):
                cands = same
        if len(cands) > 1:
            xs, ys = self.ix.addr_x[cands], self.ix.addr_y[cands]
            if np.hypot(xs - xs[0], ys - ys[0]).max() > 100:
                flags.append("ambiguous")
        return int(cands[0]), flags


def geocode_register(  # noqa: C901 - split planned in issue 10, point 5
    register: pd.DataFrame,
    gazetteer: Gazetteer,
    *,
    provider: Provider | None = None,
    extent: Any = None,
    fuzzy_threshold: float = 85,
    progress: bool = False,
) -> GeocodeResult:
    """Place every row of an investment register, or say why it cannot be placed.

    Parameters
    ----------
    register
        A register in the shape of :func:`trygg_geo.io.read_register` (``source_row`` is
        required; missing columns count as empty). A GeoDataFrame's geometry, like a ``wkt``
        cell, wins over the address.
    gazetteer
        The local gazetteer; its CRS is the working CRS.
    provider
        An optional extra provider (:class:`~trygg_geo.geocode.providers.GeopyProvider`, ...)
        asked for the rows the gazetteer cannot place. Opt-in: None by default.
    extent
        The area investments belong to: a polygon, a ``(minx, miny, maxx, maxy)`` tuple or a
        GeoDataFrame/GeoSeries (in the working CRS, or with a CRS to reproject from). Points
        outside are flagged ``outside_extent``. Default: the gazetteer's extent.
    fuzzy_threshold
        Minimum rapidfuzz ratio (0-100) for a misspelt street or place name.
    progress
        Show a tqdm progress bar.

    Returns
    -------
    GeocodeResult
        ``len(placed) + len(unplaced) == len(register)``.
    """
    from tqdm.auto import tqdm

    reg, reg_geom = _prepare_register(register)
    n = len(reg)
    wcrs = gazetteer.crs
    wcrs_s = wcrs.to_string()
    area = _extent(extent, gazetteer)
    m = _Matcher(gazetteer, fuzzy_threshold)
    ix = m.ix
    rows = [_Row() for _ in range(n)]
    stages: list[tuple[str, float, int, int]] = []
    kinds = [_text(v) or "annat" for v in reg["kind"].tolist()]
    districts = reg["district"].tolist()

    def stage(name: str, todo: list[int], fn: Callable[[int], None]) -> None:
        t0 = time.perf_counter()
        before = sum(1 for i in todo if rows[i].method is None)
        for i in tqdm(
            todo, desc=f"geocode: {name}", disable=not progress or len(todo) < 1000, leave=False
        ):
            if rows[i].method is None:
                fn(i)
        placed = before - sum(1 for i in todo if rows[i].method is None)
        stages.append((name, time.perf_counter() - t0, len(todo), placed))

    # --- preparation: text, flags
    t0 = time.perf_counter()
    raw_addr = [_text(v) for v in reg["address"].tolist()]
    text: list[str | None] = []
    too_long: dict[int, int] = {}  # row -> length as written
    for i, a in enumerate(raw_addr):
        if a is None:
            text.append(None)
            continue
        if len(a) > MAX_ADDRESS_CHARS:
            too_long[i] = len(a)
            a = a[:MAX_ADDRESS_CHARS].strip()
            rows[i].flags.append("text_truncated")
        fixed, repaired = repair_encoding(a)
        if repaired:
            rows[i].flags.append("encoding_repaired")
        text.append(fixed)
    parsed_cache: dict[str, ParsedAddress] = {}
    parsed: list[ParsedAddress] = []
    for t in text:
        if t is None:
            parsed.append(ParsedAddress(text="", form="empty"))
            continue
        p = parsed_cache.get(t)
        if p is None:
            p = parse_address(t)
            parsed_cache[t] = p
        parsed.append(p)
    content = [c for c in REGISTER_COLUMNS if c not in ("source_row", "raw_text")]
    dup = (
        reg[content]
        .astype(object)
        .where(reg[content].notna(), None)
        .astype(str)
        .duplicated(keep="first")
        .to_numpy()
    )
    ids = pd.Series([_text(v) for v in reg["investment_id"].tolist()], dtype=object)
    dup_id = (ids.notna() & ids.duplicated(keep="first")).to_numpy() & ~dup
    recog = reg["kind_recognised"].tolist()
    for i in range(n):
        if dup[i]:
            rows[i].flags.append("duplicate_row")
        elif dup_id[i]:
            rows[i].flags.append("duplicate_id")
        if recog[i] is False or (
            recog[i] is not None and recog[i] is not pd.NA and not bool(recog[i])
        ):
            rows[i].flags.append("kind_unknown")
    stages.append(("prepare", time.perf_counter() - t0, n, 0))

    # --- 0. WKT or geometry column
    t0 = time.perf_counter()
    _stage_wkt(reg, reg_geom, rows, wcrs_s, area)
    stages.append(("wkt", time.perf_counter() - t0, n, sum(r.method == "wkt" for r in rows)))

    addr_rows = [i for i in range(n) if parsed[i].form == "address"]

    # --- 1. exact
    def exact(i: int) -> None:
        t = text[i] or ""
        head = t.split(",", 1)[0].strip()
        parts = head.rsplit(" ", 1)
        if len(parts) != 2:
            return
        sid = ix.street_display.get(parts[0])
        if sid is None:
            return
        p = parsed[i]
        if p.number is None or p.number_to is not None:
            return
        cands = ix.lookup(sid, p.number, p.letter)
        cands = cands[ix.addr_housenumber[cands] == parts[1]]
        if len(cands):
            a, fl = m.pick_address(cands, p.postcode)
            _place(
                rows[i],
                "exact",
                100.0,
                Target("address", addr=(a,), street=sid),
                _addr_text(gazetteer, a),
                fl,
            )

    stage("exact", addr_rows, exact)

    # --- 2./3. normalised, fuzzy (addresses with numbers)
    street_only: dict[int, tuple[int, float, str, list[str]]] = {}

    def by_number(i: int, fuzzy: bool) -> None:
        p = parsed[i]
        assert p.street is not None and p.number is not None
        hit = m.street(p.street, p.postcode, fuzzy=fuzzy)
        if hit is None or (not fuzzy and hit[1] == "fuzzy"):
            return
        sid, how, sscore = hit
        method = "fuzzy" if how == "fuzzy" else "normalised"
        fl: list[str] = ["diacritics_folded"] if how == "fold" else []
        a = ix.lookup(sid, p.number, p.letter)
        if not len(a) and p.letter:
            a = ix.lookup_number(sid, p.number)
            if len(a):
                fl.append("letter_not_found")
        if len(a) and p.number_to is not None:
            b = ix.lookup_number(sid, p.number_to)
            if len(b):
                ai, f1 = m.pick_address(a, p.postcode)
                bi, _ = m.pick_address(b, p.postcode)
                _place(
                    rows[i],
                    method,
                    sscore - 2,
                    Target("range", addr=(ai, bi), street=sid),
                    f"{ix.street_names[sid]} {ix.addr_housenumber[ai]}-{ix.addr_housenumber[bi]}",
                    fl + f1,
                )
                return
            fl.append("range_end_not_found")
        if len(a):
            ai, f1 = m.pick_address(a, p.postcode)
            score = sscore - (3 if "letter_not_found" in fl else 0)
            _place(
                rows[i],
                method,
                score,
                Target("address", addr=(ai,), street=sid),
                _addr_text(gazetteer, ai),
                fl + f1,
            )
            return
        street_only[i] = (
            sid,
            sscore,
            method,
            fl + ["number_not_found"] + (["fuzzy_street"] if how == "fuzzy" else []),
        )

    stage("normalised", addr_rows, lambda i: by_number(i, False))
    stage("fuzzy", [i for i in addr_rows if i not in street_only], lambda i: by_number(i, True))

    # --- intersections and spans
    def intersection(i: int) -> None:
        p = parsed[i]
        a = m.street(p.street_a or "")
        b = m.street(p.street_b or "")
        if a is None or b is None or a[0] == b[0]:
            _fail(rows[i], "no_match", text[i])
            return
        lo, hi = min(a[0], b[0]), max(a[0], b[0])
        pt = ix.intersection.get((lo, hi))
        flags: list[str] = []
        if pt is None:
            ga, gb = ix.street_geom[a[0]], ix.street_geom[b[0]]
            if ga is None or gb is None:
                _fail(rows[i], "no_intersection", text[i])
                return
            pa, pb = nearest_points(ga, gb)
            if pa.distance(pb) > 30:
                _fail(rows[i], "no_intersection", text[i])
                return
            pt = ((pa.x + pb.x) / 2, (pa.y + pb.y) / 2)
            flags.append("intersection_geometric")
        score = min(a[2], b[2]) - 5
        names = ix.street_names
        _place(rows[i], "intersection", score, Target("intersection", point=pt, street=a[0]),
               f"{names[a[0]]} / {names[b[0]]}", flags)

    def between(i: int) -> None:
        p = parsed[i]
        a = m.street(p.street_a or "")
        b = m.street(p.street_b or "")
        subj = m.street(p.street) if p.street else None
        if a is None or b is None or (p.street and subj is None):
            _fail(rows[i], "no_match", text[i])
            return
        ga, gb = ix.street_geom[a[0]], ix.street_geom[b[0]]
        gs = ix.street_geom[subj[0]] if subj else None
        if ga is None or gb is None or (subj is not None and gs is None):
            _fail(rows[i], "no_match", text[i])
            return
        line, flags = between_line(ga, gb, gs, ix)
        if line is None:
            _fail(rows[i], "no_intersection", text[i])
            return
        names = ix.street_names
        what = names[subj[0]] if subj else "gångväg"
        score = min(a[2], b[2], subj[2] if subj else 100.0) - (15 if flags else 10)
        _place(
            rows[i],
            "between",
            score,
            Target("between", line=line, street=subj[0] if subj else None),
            f"{what} mellan {names[a[0]]} och {names[b[0]]}",
            flags,
        )

    stage("intersection", [i for i in range(n) if parsed[i].form == "intersection"], intersection)
    stage("between", [i for i in range(n) if parsed[i].form == "between"], between)

    # --- 4. street level
    near = _row_points(reg, wcrs_s, area)

    def street_level(i: int) -> None:
        p = parsed[i]
        if i in street_only:
            sid, sscore, _method, fl = street_only[i]
        else:
            if p.form != "name" or p.street is None:
                return
            if _is_district(p.street, districts[i], m):
                return
            hit = m.street(p.street, p.postcode, fuzzy=False)
            if hit is None:
                return
            sid, how, sscore = hit
            fl = ["diacritics_folded"] if how == "fold" else []
            # a park or square drawn as an area with the same name: let the place stage take it
            pl = m.place(p.street, fuzzy=False)
            if pl is not None and ix.place_is_polygon[pl[0]]:
                return
        if ix.street_geom[sid] is None:
            return
        _place(rows[i], "street", sscore * 0.6, Target("street", street=sid, near=near.get(i)),
               ix.street_names[sid], ["street_level", *fl])

    stage(
        "street",
        [i for i in range(n) if i in street_only or parsed[i].form == "name"],
        street_level,
    )

    # --- 5. places
    def place(i: int) -> None:
        p = parsed[i]
        key = p.street if p.form in ("name", "address") else None
        if not key:
            return
        if _is_district(key, districts[i], m):
            _fail(rows[i], "only_district", text[i])
            return
        pl = m.place(key)
        st = m.street(key, p.postcode) if p.form == "name" else None
        if st is not None and (pl is None or st[2] > pl[2]) and ix.street_geom[st[0]] is not None:
            _place(rows[i], "street", st[2] * 0.6, Target("street", street=st[0], near=near.get(i)),
                   ix.street_names[st[0]], ["street_level"])
            return
        if pl is None:
            return
        pid, _how, score = pl
        if ix.place_types[pid] in DISTRICT_PLACE_TYPES:
            _fail(rows[i], "only_district", text[i])
            return
        _place(rows[i], "place", score, Target("place", place=pid),
               f"{ix.place_names[pid]} ({ix.place_types[pid]})", [])

    stage("place", [i for i in range(n) if parsed[i].form in ("name", "address")], place)

    # --- 6. coordinates
    t0 = time.perf_counter()
    _stage_coordinates(reg, rows, wcrs_s, area)
    stages.append(
        ("coordinates", time.perf_counter() - t0, n, sum(r.method == "coordinates" for r in rows))
    )

    # --- 7. provider
    if provider is not None:
        def ask(i: int) -> None:
            if rows[i].reason in ("only_district", "other_script") or not text[i]:
                return
            district = _text(districts[i])
            q = text[i] or ""
            hit = provider.geocode(q if not district else f"{q}, {district}")
            if hit is None:
                return
            px, py = (
                _transformer(hit.crs, wcrs_s).transform(hit.x, hit.y)
                if hit.crs != wcrs_s
                else (hit.x, hit.y)
            )
            fl = (
                []
                if area is None or area.is_empty or area.contains(Point(px, py))
                else ["outside_extent"]
            )
            _place(
                rows[i],
                "provider",
                float(hit.score),
                Target("point", point=(px, py)),
                hit.matched,
                fl,
            )

        stage("provider", [i for i in range(n) if rows[i].method is None and text[i]], ask)

    # --- 8. reasons for the rest
    wkt_col = reg["wkt"].tolist()
    for i in range(n):
        r = rows[i]
        if r.method is not None or r.reason is not None:
            continue
        t = text[i]
        if i in too_long:
            _fail(r, "address_too_long", t, length=f"{too_long[i]:,}", limit=MAX_ADDRESS_CHARS)
        elif t is None or parsed[i].form == "empty":
            if _text(wkt_col[i]) is not None:
                _fail(r, "bad_wkt", t)
            else:
                _fail(r, "empty_address", t)
        elif is_other_script(t):
            _fail(r, "other_script", t)
        elif "\ufffd" in t or _LOST_CHAR.search(t):
            _fail(r, "bad_encoding", t)
        else:
            _fail(r, "no_match", t)

    # --- geometry by kind
    t0 = time.perf_counter()
    place_geoms = gazetteer.places.geometry.to_numpy()
    geoms: list[BaseGeometry | None] = [None] * n
    for i in range(n):
        r = rows[i]
        if r.method is None or r.target is None:
            continue
        try:
            g, fl = build_geometry(r.target, kinds[i], ix, place_geoms)
        except ValueError as exc:  # a street with no usable line
            log.debug("row %s: no geometry (%s)", reg["source_row"].iat[i], exc)
            r.method = None
            _fail(r, "no_match", text[i])
            continue
        geoms[i] = g
        r.flags.extend(fl)
    _flag_coordinate_disagreement(rows, geoms, near, reg)
    stages.append(("geometry", time.perf_counter() - t0, n, 0))

    placed_gdf, unplaced_df = _assemble(reg, rows, geoms, wcrs)
    result = GeocodeResult(
        placed=placed_gdf,
        unplaced=unplaced_df,
        crs=wcrs,
        stages=pd.DataFrame(stages, columns=["stage", "seconds", "rows_in", "rows_placed"]),
    )
    log.info(
        "geocoded %d rows: %d placed, %d unplaced", n, len(result.placed), len(result.unplaced)
    )
    return result


def _addr_text(gaz: Gazetteer, a: int) -> str:
    ix = gaz.index
    pc = ix.addr_postcode[a]
    return f"{ix.addr_street[a]} {ix.addr_housenumber[a]}" + (f", {pc[:3]} {pc[3:]}" if pc else "")


def _place(
    r: _Row, method: str, score: float, target: Target, matched: str, flags: list[str]
) -> None:
    r.method = method
    r.score = float(max(0.0, min(100.0, round(score, 1))))
    r.target = target
    r.matched = matched
    r.reason = None
    for f in flags:
        if f not in r.flags:
            r.flags.append(f)


def _fail(r: _Row, reason: str, text: str | None, **fmt: Any) -> None:
    if r.reason is None or reason != "no_match":
        r.reason = reason
        t = text or ""
        if len(t) > 120:
            t = t[:117] + "..."
        r.reason_text = REASONS[reason].format(
            text=t, **{"x": "", "y": "", "declared": "", "length": "", "limit": "", **fmt})


def _is_district(key: str, district: Any, m: _Matcher) -> bool:
    f = name_fold(key)
    d = _text(district)
    if d is not None and f == fold_text(d):
        return True
    ids = m.ix.place_fold.get(f)
    if ids and all(m.ix.place_types[i] in DISTRICT_PLACE_TYPES for i in ids):
        return f not in m.ix.street_fold
    return False


def _extent(extent: Any, gaz: Gazetteer) -> BaseGeometry | None:
    if extent is None:
        return gaz.extent
    if isinstance(extent, (gpd.GeoDataFrame, gpd.GeoSeries)):
        g = extent.to_crs(gaz.crs) if extent.crs is not None else extent
        return g.geometry.union_all() if isinstance(g, gpd.GeoDataFrame) else g.union_all()
    if isinstance(extent, BaseGeometry):
        return extent
    if isinstance(extent, (tuple, list)) and len(extent) == 4:
        return shapely.box(*[float(v) for v in extent])
    raise InputError(
        f"extent must be a polygon, a bounds tuple or a GeoDataFrame; got {type(extent).__name__}.",
        fix="pass the area layer, or (minx, miny, maxx, maxy) in the working CRS.",
    )


def _declared(reg: pd.DataFrame) -> list[str | None]:
    out: list[str | None] = []
    for v in reg["crs"].tolist():
        t = _text(v)
        out.append(parse_crs(t) if t else None)
    return out


def _floats(s: pd.Series) -> np.ndarray:
    return pd.to_numeric(s.astype(object).where(s.notna(), np.nan), errors="coerce").to_numpy(float)


def _row_points(
    reg: pd.DataFrame, wcrs: str, area: BaseGeometry | None
) -> dict[int, tuple[float, float]]:
    """Valid, in-extent row coordinates (used to pick the point on a street)."""
    x, y = _floats(reg["x"]), _floats(reg["y"])
    has = np.isfinite(x) & np.isfinite(y)
    if not has.any():
        return {}
    idx = np.flatnonzero(has)
    decl = _declared(reg)
    fix = resolve_coordinates(x[idx], y[idx], [decl[i] for i in idx], working_crs=wcrs, extent=area)
    return {int(i): (float(fix.x[k]), float(fix.y[k])) for k, i in enumerate(idx)
            if fix.ok[k] and "outside_extent" not in fix.flags[k]}


def _stage_coordinates(
    reg: pd.DataFrame, rows: list[_Row], wcrs: str, area: BaseGeometry | None
) -> None:
    x, y = _floats(reg["x"]), _floats(reg["y"])
    todo = np.array([r.method is None for r in rows]) & (np.isfinite(x) | np.isfinite(y))
    if not todo.any():
        return
    idx = np.flatnonzero(todo)
    decl = _declared(reg)
    fix = resolve_coordinates(x[idx], y[idx], [decl[i] for i in idx], working_crs=wcrs, extent=area)
    addr = reg["address"].tolist()
    for k, i in enumerate(idx):
        r = rows[i]
        if fix.ok[k]:
            src = fix.src[k]
            _place(
                r,
                "coordinates",
                fix.score[k],
                Target("point", point=(fix.x[k], fix.y[k])),
                f"{x[i]:g}, {y[i]:g} ({src}{', swapped' if fix.swapped[k] else ''})",
                fix.flags[k],
            )
        elif r.reason is None or r.reason == "no_match" or _text(addr[i]) is None:
            r.reason = "impossible_coordinates"
            d = decl[i]
            sentence, _likely, _sw = crs_hint(np.array([x[i]]), np.array([y[i]]), d)
            note = (f" (declared: {d}; {sentence})" if d else f" ({sentence})") \
                if np.isfinite(x[i]) and np.isfinite(y[i]) else " (x or y is missing)"
            r.reason_text = REASONS["impossible_coordinates"].format(
                x=f"{x[i]:g}", y=f"{y[i]:g}", declared=note
            )


def _stage_wkt(reg: pd.DataFrame, reg_geom: gpd.GeoSeries | None, rows: list[_Row], wcrs: str,
               area: BaseGeometry | None) -> None:
    n = len(reg)
    geoms = np.full(n, None, dtype=object)
    crs_of = np.full(n, "", dtype=object)
    if reg_geom is not None and reg_geom.crs is not None:
        g = reg_geom.to_crs(wcrs).to_numpy()
        ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
        geoms[ok] = g[ok]
        crs_of[ok] = wcrs
    wkt = np.array([_text(v) for v in reg["wkt"].tolist()], dtype=object)
    has = np.array([w is not None for w in wkt]) & np.array([g is None for g in geoms])
    if has.any():
        parsed = shapely.from_wkt(wkt[has], on_invalid="ignore")
        idx = np.flatnonzero(has)
        decl = _declared(reg)
        good = ~(shapely.is_missing(parsed) | shapely.is_empty(parsed))
        for bad in idx[~good].tolist():
            rows[bad].flags.append("bad_wkt")
        gidx = idx[good]
        pg = parsed[good]
        if len(gidx):
            rp = shapely.get_coordinates(shapely.point_on_surface(pg))
            fix = resolve_coordinates(
                rp[:, 0], rp[:, 1], [decl[i] for i in gidx], working_crs=wcrs, extent=area
            )
            for j, ri in enumerate(gidx.tolist()):
                if not fix.ok[j]:
                    rows[ri].flags.append("bad_wkt")
                    continue
                g = pg[j]
                if fix.swapped[j]:
                    g = shapely.transform(g, lambda c: c[:, ::-1])
                src = fix.src[j]
                if src != wcrs:
                    t = _transformer(src, wcrs)
                    g = shapely.transform(
                        g, lambda c, t=t: np.column_stack(t.transform(c[:, 0], c[:, 1]))
                    )
                geoms[ri] = g
                rows[ri].flags.extend(f for f in fix.flags[j] if f != "crs_detected")
    for i in range(n):
        if geoms[i] is not None:
            _place(rows[i], "wkt", 100.0, Target("geometry", geometry=geoms[i]), "wkt", [])


def _flag_coordinate_disagreement(rows: list[_Row], geoms: list[BaseGeometry | None],
                                  near: dict[int, tuple[float, float]], reg: pd.DataFrame) -> None:
    for i, xy in near.items():
        r = rows[i]
        g = geoms[i]
        if g is None or r.method in ("coordinates", "wkt"):
            continue
        if g.distance(Point(xy)) > _COORD_DISAGREE_M:
            r.flags.append("coordinates_disagree")


def _assemble(reg: pd.DataFrame, rows: list[_Row], geoms: list[BaseGeometry | None],
              wcrs: CRS) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    placed_mask = np.array([r.method is not None for r in rows], dtype=bool)
    cols = list(reg.columns)
    p = reg.loc[placed_mask, cols].reset_index(drop=True)
    pr = [r for r in rows if r.method is not None]
    p["geocode_method"] = pd.Series([r.method for r in pr], dtype=object)
    p["geocode_score"] = np.array([r.score for r in pr], dtype=float)
    p["geocode_flag"] = pd.Series([_FLAG_SEP.join(r.flags) for r in pr], dtype=object)
    p["matched"] = pd.Series([r.matched for r in pr], dtype=object)
    gs = [g for g, ok in zip(geoms, placed_mask, strict=True) if ok]
    placed = gpd.GeoDataFrame(p, geometry=gpd.GeoSeries(gs, crs=wcrs).to_numpy(), crs=wcrs)
    u = reg.loc[~placed_mask, cols].reset_index(drop=True)
    ur = [r for r in rows if r.method is None]
    u["reason"] = pd.Series([r.reason or "no_match" for r in ur], dtype=object)
    texts = []
    read_flags = (u["read_flag"].tolist() if "read_flag" in u.columns else [None] * len(ur))
    for r, rf in zip(ur, read_flags, strict=True):
        t = r.reason_text or REASONS["no_match"].format(text="")
        # the reader's flags too (bad cells, future dates, cut text): the unplaced table is where
        # a person looks for everything wrong with the row
        extra = [f for f in (_text(rf) or "").split(_FLAG_SEP) if f and f not in r.flags]
        if r.flags or extra:
            t += f" Also flagged: {', '.join([*r.flags, *extra])}."
        texts.append(t)
    u["reason_text"] = pd.Series(texts, dtype=object)
    return placed, u
