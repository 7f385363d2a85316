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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from rapidfuzz import fuzz, process
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from trygg_geo._crs import _transformer, crs_label, crs_name, parse_optional_crs, xy_hint
from trygg_geo._errors import CRSError, InputError, MissingColumnError
from trygg_geo._i18n import LANGS, TEXTS, fmt_number, text
from trygg_geo._progress import progress as progress_bar
from trygg_geo.geocode._coords import resolve_coordinates
from trygg_geo.geocode._districts import fit_to_districts
from trygg_geo.geocode._geometry import Target, between_line, build_geometry
from trygg_geo.geocode._normalise import (
    ParsedAddress,
    blocking_keys,
    is_other_script,
    name_fold,
    parse_address,
    repair_encoding,
)
from trygg_geo.geocode._provider_base import Provider
from trygg_geo.geocode.gazetteer import DISTRICT_PLACE_TYPES, Gazetteer
from trygg_geo.interventions import fold_text

__all__ = [
    "MAX_ADDRESS_CHARS",
    "METHODS",
    "REASONS",
    "REASON_CODES",
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
#: Reason codes of unplaced rows.
REASON_CODES: tuple[str, ...] = (
    "empty_address", "only_district", "no_match", "no_intersection", "impossible_coordinates",
    "address_too_long", "other_script", "bad_encoding", "bad_wkt",
)
#: Reason codes and their English sentence templates. The sentences a result carries come from
#: :data:`trygg_geo._i18n.TEXTS` (``geocode.<code>``, Swedish and English), in the language
#: given to :func:`geocode_register`.
REASONS: dict[str, str] = {c: TEXTS[f"geocode.{c}"]["en"] for c in REASON_CODES}
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
    #: the values of the reason's sentence (filled in the run's language at the end)
    reason_values: dict[str, Any] = field(default_factory=dict)


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


@dataclass
class _Run:
    """One run of the cascade: the register, the gazetteer, the options and the growing records.

    Every stage reads and updates this object; ``rows`` holds one :class:`_Row` per register
    row (in source order) that ends either placed (``method``) or unplaced (``reason``), and
    ``stages`` collects the per-stage summary of :attr:`GeocodeResult.stages`.
    """

    reg: pd.DataFrame
    reg_geom: gpd.GeoSeries | None
    gazetteer: Gazetteer
    matcher: _Matcher
    area: BaseGeometry | None
    provider: Provider | None = None
    progress: bool = False
    rows: list[_Row] = field(default_factory=list)
    stages: list[tuple[str, float, int, int]] = field(default_factory=list)
    #: per row: the catalogue kind, the district cell, the address text used for matching and
    #: its parse
    kinds: list[str] = field(default_factory=list)
    districts: list[Any] = field(default_factory=list)
    text: list[str | None] = field(default_factory=list)
    parsed: list[ParsedAddress] = field(default_factory=list)
    #: row -> length of an address cut to MAX_ADDRESS_CHARS, as written
    too_long: dict[int, int] = field(default_factory=dict)
    #: row -> valid in-extent row coordinates (to pick the point on a street)
    near: dict[int, tuple[float, float]] = field(default_factory=dict)
    #: row -> (street id, score, method, flags): a street found without its house number
    street_only: dict[int, tuple[int, float, str, list[str]]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of register rows."""
        return len(self.reg)

    @property
    def ix(self) -> Any:
        """The gazetteer's lookup index."""
        return self.matcher.ix

    @property
    def wcrs(self) -> str:
        """The working CRS as a string."""
        return str(self.gazetteer.crs.to_string())


def _new_run(
    register: pd.DataFrame,
    gazetteer: Gazetteer,
    *,
    provider: Provider | None,
    extent: Any,
    fuzzy_threshold: float,
    progress: bool,
) -> _Run:
    """Check the register and set up the run (no matching yet)."""
    reg, reg_geom = _prepare_register(register)
    run = _Run(
        reg=reg,
        reg_geom=reg_geom,
        gazetteer=gazetteer,
        matcher=_Matcher(gazetteer, fuzzy_threshold),
        area=_extent(extent, gazetteer),
        provider=provider,
        progress=progress,
    )
    run.rows = [_Row() for _ in range(len(reg))]
    run.kinds = [_text(v) or "annat" for v in reg["kind"].tolist()]
    run.districts = reg["district"].tolist()
    return run


def _run_stage(run: _Run, name: str, todo: list[int], fn: Callable[[int], None]) -> None:
    """Call ``fn`` on each row of ``todo`` still unplaced; record the stage's summary row."""
    rows = run.rows
    t0 = time.perf_counter()
    before = sum(1 for i in todo if rows[i].method is None)
    # a bar on a terminal for 1000+ rows (trygg_geo._progress); progress=True shows it anywhere
    for i in progress_bar(todo, desc=f"geocode: {name}", unit="row", min_items=1000,
                          force=run.progress):
        if rows[i].method is None:
            fn(i)
    placed = before - sum(1 for i in todo if rows[i].method is None)
    run.stages.append((name, time.perf_counter() - t0, len(todo), placed))


def _timed(run: _Run, name: str, fn: Callable[[_Run], None], method: str | None = None) -> None:
    """Run a whole-register stage; its summary row counts the rows placed with ``method``."""
    t0 = time.perf_counter()
    fn(run)
    placed = 0 if method is None else sum(r.method == method for r in run.rows)
    run.stages.append((name, time.perf_counter() - t0, run.n, placed))


# --------------------------------------------------------------------------- preparation


def _prepare_text(run: _Run) -> None:
    """The address text of each row (cut when too long, encoding repaired) and its parse."""
    rows = run.rows
    for i, v in enumerate(run.reg["address"].tolist()):
        a = _text(v)
        if a is None:
            run.text.append(None)
            continue
        if len(a) > MAX_ADDRESS_CHARS:
            run.too_long[i] = len(a)
            a = a[:MAX_ADDRESS_CHARS].strip()
            rows[i].flags.append("text_truncated")
        fixed, repaired = repair_encoding(a)
        if repaired:
            rows[i].flags.append("encoding_repaired")
        run.text.append(fixed)
    cache: dict[str, ParsedAddress] = {}
    for t in run.text:
        if t is None:
            run.parsed.append(ParsedAddress(text="", form="empty"))
            continue
        p = cache.get(t)
        if p is None:
            p = parse_address(t)
            cache[t] = p
        run.parsed.append(p)


def _flag_rows(run: _Run) -> None:
    """Flags that need no matching: duplicate rows and ids, unknown kinds."""
    reg = run.reg
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
    for i, r in enumerate(run.rows):
        if dup[i]:
            r.flags.append("duplicate_row")
        elif dup_id[i]:
            r.flags.append("duplicate_id")
        if recog[i] is False or (
            recog[i] is not None and recog[i] is not pd.NA and not bool(recog[i])
        ):
            r.flags.append("kind_unknown")


def _stage_prepare(run: _Run) -> None:
    """Text, parse and row flags of every row."""
    _prepare_text(run)
    _flag_rows(run)


# --------------------------------------------------------------------------- 1. exact


def _exact_row(run: _Run, i: int) -> None:
    """Place row ``i`` when its address as written is a gazetteer address."""
    ix = run.ix
    head = (run.text[i] or "").split(",", 1)[0].strip()
    parts = head.rsplit(" ", 1)
    if len(parts) != 2:
        return
    sid = ix.street_display.get(parts[0])
    if sid is None:
        return
    p = run.parsed[i]
    if p.number is None or p.number_to is not None:
        return
    cands = ix.lookup(sid, p.number, p.letter)
    cands = cands[ix.addr_housenumber[cands] == parts[1]]
    if len(cands):
        a, fl = run.matcher.pick_address(cands, p.postcode)
        _place(
            run.rows[i],
            "exact",
            100.0,
            Target("address", addr=(a,), street=sid),
            _addr_text(run.gazetteer, a),
            fl,
        )


def _address_rows(run: _Run) -> list[int]:
    return [i for i in range(run.n) if run.parsed[i].form == "address"]


def _stage_exact(run: _Run) -> None:
    """1. ``exact``: the address as written."""
    _run_stage(run, "exact", _address_rows(run), lambda i: _exact_row(run, i))


# --------------------------------------------------------------------------- 2./3. by number


def _by_number_row(run: _Run, i: int, fuzzy: bool) -> None:
    """Place row ``i`` by street (normalised, or fuzzy) and house number (or range).

    A street found without the number is kept in ``run.street_only`` for the street stage.
    """
    ix = run.ix
    p = run.parsed[i]
    assert p.street is not None and p.number is not None
    hit = run.matcher.street(p.street, p.postcode, fuzzy=fuzzy)
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
    elif not len(a):  # "57" where the gazetteer only has 57A-57D: the number's address points
        a = ix.lookup_number(sid, p.number)
        if len(a):
            fl.append("letter_assumed")
    if len(a) and p.number_to is not None:
        if _place_range(run, i, method, sid, sscore, a, fl):
            return
        fl.append("range_end_not_found")
    if len(a):
        ai, f1 = run.matcher.pick_address(a, p.postcode)
        score = sscore - (3 if {"letter_not_found", "letter_assumed"} & set(fl) else 0)
        _place(
            run.rows[i],
            method,
            score,
            Target("address", addr=(ai,), street=sid),
            _addr_text(run.gazetteer, ai),
            fl + f1,
        )
        return
    run.street_only[i] = (
        sid,
        sscore,
        method,
        fl + ["number_not_found"] + (["fuzzy_street"] if how == "fuzzy" else []),
    )


def _place_range(
    run: _Run, i: int, method: str, sid: int, sscore: float, a: np.ndarray, fl: list[str]
) -> bool:
    """Place row ``i`` on the span from house ``a`` to its range end; False when it is missing."""
    ix = run.ix
    p = run.parsed[i]
    b = ix.lookup_number(sid, p.number_to)
    if not len(b):
        return False
    ai, f1 = run.matcher.pick_address(a, p.postcode)
    bi, _ = run.matcher.pick_address(b, p.postcode)
    _place(
        run.rows[i],
        method,
        sscore - 2,
        Target("range", addr=(ai, bi), street=sid),
        f"{ix.street_names[sid]} {ix.addr_housenumber[ai]}-{ix.addr_housenumber[bi]}",
        fl + f1,
    )
    return True


def _stage_normalised(run: _Run) -> None:
    """2. ``normalised``: street key or folded name, and house number."""
    _run_stage(run, "normalised", _address_rows(run), lambda i: _by_number_row(run, i, False))


def _stage_fuzzy(run: _Run) -> None:
    """3. ``fuzzy``: a misspelt street, and house number."""
    todo = [i for i in _address_rows(run) if i not in run.street_only]
    _run_stage(run, "fuzzy", todo, lambda i: _by_number_row(run, i, True))


# --------------------------------------------------------------------------- intersections, spans


def _intersection_row(run: _Run, i: int) -> None:
    """Place row ``i`` (``X/Y``) where the two streets meet."""
    ix, m, r = run.ix, run.matcher, run.rows[i]
    p = run.parsed[i]
    a = m.street(p.street_a or "")
    b = m.street(p.street_b or "")
    if a is None or b is None or a[0] == b[0]:
        _fail(r, "no_match", run.text[i])
        return
    lo, hi = min(a[0], b[0]), max(a[0], b[0])
    pt = ix.intersection.get((lo, hi))
    flags: list[str] = []
    if pt is None:
        pt = _geometric_intersection(ix.street_geom[a[0]], ix.street_geom[b[0]])
        if pt is None:
            _fail(r, "no_intersection", run.text[i])
            return
        flags.append("intersection_geometric")
    score = min(a[2], b[2]) - 5
    names = ix.street_names
    _place(r, "intersection", score, Target("intersection", point=pt, street=a[0]),
           f"{names[a[0]]} / {names[b[0]]}", flags)


def _geometric_intersection(
    ga: BaseGeometry | None, gb: BaseGeometry | None
) -> tuple[float, float] | None:
    """Where two street lines come within 30 m of each other (midpoint), or None."""
    if ga is None or gb is None:
        return None
    pa, pb = nearest_points(ga, gb)
    if pa.distance(pb) > 30:
        return None
    return ((pa.x + pb.x) / 2, (pa.y + pb.y) / 2)


def _between_row(run: _Run, i: int) -> None:
    """Place row ``i`` (``A mellan B och C``) on the span between the two cross streets."""
    ix, m, r = run.ix, run.matcher, run.rows[i]
    p = run.parsed[i]
    a = m.street(p.street_a or "")
    b = m.street(p.street_b or "")
    subj = m.street(p.street) if p.street else None
    if a is None or b is None or (p.street and subj is None):
        _fail(r, "no_match", run.text[i])
        return
    ga, gb = ix.street_geom[a[0]], ix.street_geom[b[0]]
    gs = ix.street_geom[subj[0]] if subj else None
    if ga is None or gb is None or (subj is not None and gs is None):
        _fail(r, "no_match", run.text[i])
        return
    line, flags = between_line(ga, gb, gs, ix)
    if line is None:
        _fail(r, "no_intersection", run.text[i])
        return
    names = ix.street_names
    what = names[subj[0]] if subj else "gångväg"
    score = min(a[2], b[2], subj[2] if subj else 100.0) - (15 if flags else 10)
    _place(
        r,
        "between",
        score,
        Target("between", line=line, street=subj[0] if subj else None),
        f"{what} mellan {names[a[0]]} och {names[b[0]]}",
        flags,
    )


def _stage_spans(run: _Run) -> None:
    """``intersection`` and ``between``: two named streets."""
    n, parsed = run.n, run.parsed
    todo = [i for i in range(n) if parsed[i].form == "intersection"]
    _run_stage(run, "intersection", todo, lambda i: _intersection_row(run, i))
    todo = [i for i in range(n) if parsed[i].form == "between"]
    _run_stage(run, "between", todo, lambda i: _between_row(run, i))


# --------------------------------------------------------------------------- 4. street level


def _street_hit(run: _Run, i: int) -> tuple[int, float, list[str]] | None:
    """(street id, score, flags) of a street named without (a known) house number."""
    if i in run.street_only:
        sid, sscore, _method, fl = run.street_only[i]
        return sid, sscore, fl
    p = run.parsed[i]
    m = run.matcher
    if p.form != "name" or p.street is None:
        return None
    if _is_district(p.street, run.districts[i], m):
        return None
    hit = m.street(p.street, p.postcode, fuzzy=False)
    if hit is None:
        return None
    sid, how, sscore = hit
    # a park or square drawn as an area with the same name: let the place stage take it
    pl = m.place(p.street, fuzzy=False)
    if pl is not None and run.ix.place_is_polygon[pl[0]]:
        return None
    return sid, sscore, ["diacritics_folded"] if how == "fold" else []


def _street_row(run: _Run, i: int) -> None:
    """Place row ``i`` on a whole street (flag ``street_level``)."""
    hit = _street_hit(run, i)
    if hit is None:
        return
    sid, sscore, fl = hit
    if run.ix.street_geom[sid] is None:
        return
    _place(run.rows[i], "street", sscore * 0.6, Target("street", street=sid, near=run.near.get(i)),
           run.ix.street_names[sid], ["street_level", *fl])


def _stage_street(run: _Run) -> None:
    """4. ``street``: a street without a (known) house number."""
    run.near = _row_points(run.reg, run.wcrs, run.area)
    todo = [i for i in range(run.n) if i in run.street_only or run.parsed[i].form == "name"]
    _run_stage(run, "street", todo, lambda i: _street_row(run, i))


# --------------------------------------------------------------------------- 5. places


def _place_row(run: _Run, i: int) -> None:
    """Place row ``i`` on a named place (or a street that scores higher than the place)."""
    ix, m, r = run.ix, run.matcher, run.rows[i]
    p = run.parsed[i]
    key = p.street if p.form in ("name", "address") else None
    if not key:
        return
    if _is_district(key, run.districts[i], m):
        _fail(r, "only_district", run.text[i])
        return
    pl = m.place(key)
    st = m.street(key, p.postcode) if p.form == "name" else None
    if st is not None and (pl is None or st[2] > pl[2]) and ix.street_geom[st[0]] is not None:
        _place(r, "street", st[2] * 0.6, Target("street", street=st[0], near=run.near.get(i)),
               ix.street_names[st[0]], ["street_level"])
        return
    if pl is None:
        return
    pid, _how, score = pl
    if ix.place_types[pid] in DISTRICT_PLACE_TYPES:
        _fail(r, "only_district", run.text[i])
        return
    _place(r, "place", score, Target("place", place=pid),
           f"{ix.place_names[pid]} ({ix.place_types[pid]})", [])


def _stage_place(run: _Run) -> None:
    """5. ``place``: a named park, square, school, station."""
    todo = [i for i in range(run.n) if run.parsed[i].form in ("name", "address")]
    _run_stage(run, "place", todo, lambda i: _place_row(run, i))


# --------------------------------------------------------------------------- 7. provider


def _provider_row(run: _Run, provider: Provider, i: int) -> None:
    """Ask the provider for row ``i`` (its address, with the district when there is one)."""
    r = run.rows[i]
    q = run.text[i]
    if r.reason in ("only_district", "other_script") or not q:
        return
    district = _text(run.districts[i])
    hit = provider.geocode(q if not district else f"{q}, {district}")
    if hit is None:
        return
    wcrs = run.wcrs
    px, py = (
        _transformer(hit.crs, wcrs).transform(hit.x, hit.y) if hit.crs != wcrs else (hit.x, hit.y)
    )
    area = run.area
    inside = area is None or area.is_empty or area.contains(Point(px, py))
    _place(r, "provider", float(hit.score), Target("point", point=(px, py)), hit.matched,
           [] if inside else ["outside_extent"])


def _stage_provider(run: _Run) -> None:
    """7. ``provider``: the optional extra provider, for what is left (skipped without one)."""
    provider = run.provider
    if provider is None:
        return
    todo = [i for i in range(run.n) if run.rows[i].method is None and run.text[i]]
    _run_stage(run, "provider", todo, lambda i: _provider_row(run, provider, i))


# --------------------------------------------------------------------------- 8. reasons


def _reason_row(run: _Run, i: int, wkt: Any) -> None:
    """Give unplaced row ``i`` (with no reason yet) the reason that fits it."""
    r = run.rows[i]
    t = run.text[i]
    if i in run.too_long:
        _fail(r, "address_too_long", t, length=run.too_long[i], limit=MAX_ADDRESS_CHARS)
    elif t is None or run.parsed[i].form == "empty":
        _fail(r, "bad_wkt" if _text(wkt) is not None else "empty_address", t)
    elif is_other_script(t):
        _fail(r, "other_script", t)
    elif "\ufffd" in t or _LOST_CHAR.search(t):
        _fail(r, "bad_encoding", t)
    else:
        _fail(r, "no_match", t)


def _stage_reasons(run: _Run) -> None:
    """8. A reason for every row that is neither placed nor failed yet."""
    for i, wkt in enumerate(run.reg["wkt"].tolist()):
        r = run.rows[i]
        if r.method is None and r.reason is None:
            _reason_row(run, i, wkt)


# --------------------------------------------------------------------------- geometry by kind


def _stage_geometry(run: _Run) -> list[BaseGeometry | None]:
    """The geometry of every placed row by its kind; a match without one becomes unplaced."""
    place_geoms = run.gazetteer.places.geometry.to_numpy()
    geoms: list[BaseGeometry | None] = [None] * run.n
    for i, r in enumerate(run.rows):
        if r.method is None or r.target is None:
            continue
        built = build_geometry(r.target, run.kinds[i], run.ix, place_geoms)
        if built is None:  # e.g. a street with no usable line
            log.debug("row %s: the match has no geometry", run.reg["source_row"].iat[i])
            r.method = None
            _fail(r, "no_match", run.text[i])
            continue
        geoms[i] = built[0]
        r.flags.extend(built[1])
    _flag_coordinate_disagreement(run.rows, geoms, run.near, run.reg)
    return geoms


#: Matches that lie on a named street without one address point deciding the district.
_STREET_TARGETS = ("street", "range", "between")


def _stage_districts(
    run: _Run, geoms: list[BaseGeometry | None], areas: gpd.GeoDataFrame,
    aliases: Mapping[str, str] | None,
) -> list[BaseGeometry | None]:
    """Each placed geometry in one district: its address point's, else the register's.

    See :func:`trygg_geo.geocode._districts.fit_to_districts`; its flags are added to the rows.
    """
    ix = run.ix
    anchors: list[tuple[Point, ...]] = []
    streets: list[BaseGeometry | None] = []
    for r in run.rows:
        t = r.target if r.method is not None else None
        if t is not None and t.what in ("address", "range"):
            anchors.append(tuple(Point(ix.addr_x[a], ix.addr_y[a]) for a in t.addr))
        else:
            anchors.append(())
        if t is not None and t.what in _STREET_TARGETS:
            streets.append(ix.street_geom[t.street] if t.street is not None else t.line)
        else:
            streets.append(None)
    if areas.crs is not None and not areas.crs.equals(run.gazetteer.crs):
        areas = areas.to_crs(run.gazetteer.crs)
    fitted, flags = fit_to_districts(geoms, areas, anchors=anchors, streets=streets,
                                     district=run.reg["district"], aliases=aliases)
    for r, fl in zip(run.rows, flags, strict=True):
        r.flags.extend(f for f in fl if f not in r.flags)
    return fitted


def geocode_register(
    register: pd.DataFrame,
    gazetteer: Gazetteer,
    *,
    provider: Provider | None = None,
    extent: Any = None,
    areas: gpd.GeoDataFrame | None = None,
    aliases: Mapping[str, str] | None = None,
    fuzzy_threshold: float = 85,
    progress: bool = False,
    lang: str = "sv",
    dask: Any = None,
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
    areas
        The districts (``area_id``, ``name``; reprojected to the working CRS). When given,
        each placed geometry is put in one district: a row matched to an address point
        belongs to the point's district, and the street line of a line kind is clipped to it,
        or moved towards the address when the street runs just outside it (flag
        ``district_from_address_point``); a street match without an address point that
        crosses districts is cut to the district the register's ``district`` cell names
        (flag ``district_from_register``); an address in another district than the register
        names is flagged ``district_mismatch``. See
        :func:`~trygg_geo.geocode._districts.fit_to_districts`.
    aliases
        Extra district alias -> area name or id, on top of
        :data:`trygg_geo.areas.AREA_ALIASES` (with ``areas``).
    fuzzy_threshold
        Minimum rapidfuzz ratio (0-100) for a misspelt street or place name.
    progress
        Show a progress bar on standard error for stages of 1000+ rows even when it is not a
        terminal. Without it a bar is shown on a terminal only, and never under
        ``trygg-geo --quiet`` (see :mod:`trygg_geo._progress`).
    lang
        Language of the unplaced rows' ``reason_text``: ``"sv"`` (default) or ``"en"``.
    dask
        Geocode partitions of the register in parallel on dask (optional extra ``dask``):
        ``True`` (dask's current scheduler), a ``distributed.Client`` or a scheduler address
        (``"tcp://host:8786"``). Rows are partitioned by the fuzzy stage's blocking key; the
        result is the same, in register order. See
        :func:`trygg_geo._dask.geocode_register_dask` and ``docs/skala-upp.md``.

    Returns
    -------
    GeocodeResult
        ``len(placed) + len(unplaced) == len(register)``.

    Raises
    ------
    ValueError
        For a ``lang`` other than ``"sv"`` or ``"en"``.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} for geocode_register. Fix: use 'sv' or 'en'.")
    if dask is not None and dask is not False:
        # imported here: trygg_geo._dask builds on this module's in-memory cascade
        from trygg_geo._dask import dask_client, geocode_register_dask

        with dask_client(dask) as client:
            return geocode_register_dask(
                register, gazetteer, client=client, provider=provider, extent=extent,
                areas=areas, aliases=aliases, fuzzy_threshold=fuzzy_threshold, lang=lang)
    run = _new_run(register, gazetteer, provider=provider, extent=extent,
                   fuzzy_threshold=fuzzy_threshold, progress=progress)
    _timed(run, "prepare", _stage_prepare)
    _timed(run, "wkt", _stage_wkt, "wkt")
    for stage in _MATCH_STAGES:
        stage(run)
    _stage_reasons(run)
    t0 = time.perf_counter()
    geoms = _stage_geometry(run)
    if areas is not None:
        geoms = _stage_districts(run, geoms, areas, aliases)
    run.stages.append(("geometry", time.perf_counter() - t0, run.n, 0))
    placed, unplaced = _assemble(run.reg, run.rows, geoms, gazetteer.crs, lang)
    result = GeocodeResult(
        placed=placed,
        unplaced=unplaced,
        crs=gazetteer.crs,
        stages=pd.DataFrame(run.stages, columns=["stage", "seconds", "rows_in", "rows_placed"]),
    )
    log.info(
        "geocoded %d rows: %d placed, %d unplaced", run.n, len(result.placed), len(result.unplaced)
    )
    return result


def _stage_coordinates_timed(run: _Run) -> None:
    """6. ``coordinates``: the row's x/y."""
    _timed(run, "coordinates", _stage_coordinates, "coordinates")


#: The matching stages after 0. ``wkt``, in cascade order.
_MATCH_STAGES: tuple[Callable[[_Run], None], ...] = (
    _stage_exact,
    _stage_normalised,
    _stage_fuzzy,
    _stage_spans,
    _stage_street,
    _stage_place,
    _stage_coordinates_timed,
    _stage_provider,
)


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
    """Mark ``r`` unplaced for ``reason`` (a later ``no_match`` keeps an earlier reason)."""
    if r.reason is None or reason != "no_match":
        r.reason = reason
        t = text or ""
        if len(t) > 120:
            t = t[:117] + "..."
        r.reason_values = {"text": t, **fmt}


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
    """Each row's declared CRS as a label (``"EPSG:3011"``); None when blank or unreadable.

    Lenient: a row whose CRS cannot be read is placed by detecting the CRS from its numbers
    (and flagged), so it is not an error here.

    >>> _declared(pd.DataFrame({"crs": ["SWEREF 99 18 00", "3006", "wgs84", None, "nonsense"]}))
    ['EPSG:3011', 'EPSG:3006', 'EPSG:4326', None, None]
    """
    out: list[str | None] = []
    for v in reg["crs"].tolist():
        try:
            crs = parse_optional_crs(_text(v))
        except CRSError:
            crs = None
        out.append(None if crs is None else crs_label(crs))
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


def _stage_coordinates(run: _Run) -> None:
    """6. ``coordinates``: place the rows left by their x/y, or say why the x/y are impossible."""
    reg, rows = run.reg, run.rows
    x, y = _floats(reg["x"]), _floats(reg["y"])
    todo = np.array([r.method is None for r in rows]) & (np.isfinite(x) | np.isfinite(y))
    if not todo.any():
        return
    idx = np.flatnonzero(todo)
    decl = _declared(reg)
    fix = resolve_coordinates(
        x[idx], y[idx], [decl[i] for i in idx], working_crs=run.wcrs, extent=run.area
    )
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
            _fail_coordinates(r, x[i], y[i], decl[i])


def _fail_coordinates(r: _Row, x: float, y: float, declared: str | None) -> None:
    """Unplaced for ``impossible_coordinates``, with a hint at the CRS the x/y may be in."""
    r.reason = "impossible_coordinates"
    r.reason_values = {"x": x, "y": y, "declared": declared}


def _coordinate_hint(x: float, y: float, declared: str | None, lang: str) -> str:
    """What the x/y of a row look like, in words (``x and y look swapped``, ...).

    ``declared`` is the row's CRS as a label (``"EPSG:3006"``), as :func:`_declared` gives it.
    """
    _sentence, likely, swapped = xy_hint(np.array([x]), np.array([y]), declared)
    if likely is None:
        return text("geocode.hint_none", lang)
    if swapped and likely == declared:
        return text("geocode.hint_swapped", lang)
    hint = text("geocode.hint_crs_swapped" if swapped else "geocode.hint_crs", lang,
                crs=crs_name(likely))
    return hint + (text("geocode.hint_not", lang, crs=crs_name(declared)) if declared else "")


def _reason_text(r: _Row, lang: str) -> str:
    """The sentence of an unplaced row's reason, in ``lang``."""
    reason = r.reason or "no_match"
    values: dict[str, Any] = {"text": "", **r.reason_values}
    if reason == "impossible_coordinates":
        x, y, declared = values.get("x", np.nan), values.get("y", np.nan), values.get("declared")
        if not (np.isfinite(x) and np.isfinite(y)):
            note = text("geocode.xy_missing", lang)
        elif declared:
            note = text("geocode.declared", lang, crs=declared,
                        hint=_coordinate_hint(x, y, declared, lang))
        else:
            note = text("geocode.hint", lang, hint=_coordinate_hint(x, y, None, lang))
        values.update(x=f"{x:g}", y=f"{y:g}", declared=note)
    elif reason == "address_too_long":
        values.update(length=fmt_number(values.get("length"), 0, lang),
                      limit=fmt_number(values.get("limit"), 0, lang))
    return text(f"geocode.{reason}", lang, **values)


def _register_geometry(run: _Run) -> np.ndarray:
    """The register's own geometry (a GeoDataFrame's), in the working CRS; None where absent."""
    geoms = np.full(run.n, None, dtype=object)
    if run.reg_geom is not None and run.reg_geom.crs is not None:
        g = run.reg_geom.to_crs(run.wcrs).to_numpy()
        ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
        geoms[ok] = g[ok]
    return geoms


def _to_working(g: BaseGeometry, swapped: bool, src: str, wcrs: str) -> BaseGeometry:
    """A WKT geometry in the working CRS (x/y swapped back first when they were swapped)."""
    if swapped:
        g = shapely.transform(g, lambda c: c[:, ::-1])
    if src != wcrs:
        t = _transformer(src, wcrs)
        g = shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))
    return g


def _wkt_geometry(run: _Run, geoms: np.ndarray) -> None:
    """Read the ``wkt`` cells of rows without a geometry into ``geoms`` (flag ``bad_wkt``)."""
    wkt = np.array([_text(v) for v in run.reg["wkt"].tolist()], dtype=object)
    has = np.array([w is not None for w in wkt]) & np.array([g is None for g in geoms])
    if not has.any():
        return
    parsed = shapely.from_wkt(wkt[has], on_invalid="ignore")
    idx = np.flatnonzero(has)
    good = ~(shapely.is_missing(parsed) | shapely.is_empty(parsed))
    for bad in idx[~good].tolist():
        run.rows[bad].flags.append("bad_wkt")
    gidx = idx[good]
    pg = parsed[good]
    if not len(gidx):
        return
    decl = _declared(run.reg)
    rp = shapely.get_coordinates(shapely.point_on_surface(pg))
    fix = resolve_coordinates(
        rp[:, 0], rp[:, 1], [decl[i] for i in gidx], working_crs=run.wcrs, extent=run.area
    )
    for j, ri in enumerate(gidx.tolist()):
        if not fix.ok[j]:
            run.rows[ri].flags.append("bad_wkt")
            continue
        geoms[ri] = _to_working(pg[j], bool(fix.swapped[j]), fix.src[j], run.wcrs)
        run.rows[ri].flags.extend(f for f in fix.flags[j] if f != "crs_detected")


def _stage_wkt(run: _Run) -> None:
    """0. ``wkt``: a geometry column or a readable WKT cell places the row as it is."""
    geoms = _register_geometry(run)
    _wkt_geometry(run, geoms)
    for i in range(run.n):
        if geoms[i] is not None:
            _place(run.rows[i], "wkt", 100.0, Target("geometry", geometry=geoms[i]), "wkt", [])


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
              wcrs: CRS, lang: str = "sv") -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
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
        t = _reason_text(r, lang)
        # the reader's flags too (bad cells, future dates, cut text): the unplaced table is where
        # a person looks for everything wrong with the row
        extra = [f for f in (_text(rf) or "").split(_FLAG_SEP) if f and f not in r.flags]
        if r.flags or extra:
            t += text("geocode.also_flagged", lang, flags=", ".join([*r.flags, *extra]))
        texts.append(t)
    u["reason_text"] = pd.Series(texts, dtype=object)
    return placed, u
