"""Survey results (trygghetsmätningar) as a tidy area x wave x indicator panel.

Two input forms are read by :func:`read_survey`:

* **aggregates**: one row per area, year and indicator with the number of respondents
  and a share (0-1 or 0-100) or a count; or one column per indicator ("wide");
* **respondent rows**: one row per respondent (and indicator) with an area or
  coordinates, a year, the answer (1/0, ja/nej) and optionally a weight.

:func:`survey_panel` turns either into the panel of CONTRIBUTING.md ("Survey"):
``area_id, wave, indicator, share, se, n, n_eff, suppressed``.

Standard errors
---------------
``se = sqrt(p (1 - p) / n_eff)`` where ``n_eff`` is the number of respondents, or for
weighted respondent rows Kish's effective sample size ``(sum w)^2 / sum w^2``. A share of
exactly 0 or 1 would give ``se = 0``; there the SE (and only the SE) uses the
Agresti-Coull adjusted share ``p~ = (x + z^2/2) / (n_eff + z^2)`` with ``n~ = n_eff + z^2``
and ``z = 1.96``: ``se = sqrt(p~ (1 - p~) / n~)``. The share itself is left as observed.

Small cells
-----------
Cells with ``n < min_n`` (default 30) are flagged ``suppressed``; they stay in the panel for
analysis (with their SE), and :func:`suppress_small_cells` blanks them for publication.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats

from trygg_geo._crs import require_crs
from trygg_geo._errors import (
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
    Msg,
    Percent,
    msg,
)
from trygg_geo._stats import holm_adjust, z_crit
from trygg_geo._tabular import fold_header, match_columns, parse_number, read_table, short
from trygg_geo.areas import ALIAS_MIN_SCORE, closest_area_name, is_total_name, match_area_keys
from trygg_geo.interventions import fold_text

__all__ = [
    "FIELDWORK_DAY",
    "FIELDWORK_MONTH",
    "INDICATORS",
    "JOIN_ATTR",
    "MIN_MATCHED_SHARE",
    "PANEL_COLUMNS",
    "SurveyJoin",
    "area_change",
    "check_waves",
    "kish_n_eff",
    "read_survey",
    "share_se",
    "suppress_small_cells",
    "survey_cells",
    "survey_panel",
    "wave_dates",
]

log = logging.getLogger(__name__)

INDICATORS: dict[str, tuple[str, str]] = {
    "otrygg_kvall": (
        "Otrygg ute sent en kväll i området",
        "Feels unsafe outdoors late in the evening",
    ),
    "oro_brott": ("Ofta orolig för brott", "Often worried about crime"),
    "avstar_aktivitet": (
        "Avstår från aktivitet på grund av otrygghet",
        "Refrains from an activity because of feeling unsafe",
    ),
    "trygg_hemvag": ("Trygg att gå hem ensam på kvällen", "Safe walking home alone in the evening"),
}
"""Known indicator ids -> (Swedish label, English label). Other ids are accepted as written."""

PANEL_COLUMNS = ["area_id", "wave", "indicator", "share", "se", "n", "n_eff", "suppressed"]

JOIN_ATTR = "trygg_geo_survey_join"
"""Key of the :class:`SurveyJoin` in the ``attrs`` of a :func:`survey_panel` built with areas."""

MIN_MATCHED_SHARE = 0.8
"""A survey whose area names join fewer of its rows than this to the area layer is refused."""


@dataclass(frozen=True, eq=False)
class SurveyJoin:
    """How the survey's area names joined the area layer (:func:`survey_panel` with ``areas``).

    Kept in ``panel.attrs["trygg_geo_survey_join"]`` (:data:`JOIN_ATTR`). Names are matched by
    :func:`trygg_geo.areas.match_area_keys` (id, aliases, name ignoring case, spaces, hyphens
    and diacritics, built-in everyday names). ``eq=False``: compared by identity, so pandas can
    carry it in ``attrs``.

    Attributes
    ----------
    unmatched_names
        One row per area name of the survey that matched no area, in file order: ``name`` (as
        written), ``n_rows`` (file rows with that name), ``first_row`` and ``closest`` (the
        closest area name, a suggestion for ``[survey] aliases``). Their rows are left out
        of the panel.
    areas_without_rows
        One row per area of the layer that no survey row reaches: ``area_id``, ``name``.
    n_rows, n_matched
        File rows of the survey (a row holding several indicators counts once), and how many
        of them joined an area. City-total rows are in neither.
    total_names
        The city's total rows ("Stockholms stad", "Hela staden", "Totalt"; see
        :func:`trygg_geo.areas.is_total_name`) that matched no area, as in ``unmatched_names``
        (without ``closest``). They are left out of the panel and are not counted as rows that
        failed to join.
    """

    unmatched_names: pd.DataFrame
    areas_without_rows: pd.DataFrame
    n_rows: int
    n_matched: int
    total_names: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"name": pd.Series(dtype=str), "n_rows": pd.Series(dtype=int),
         "first_row": pd.Series(dtype=int)}))

    @property
    def share_rows_matched(self) -> float:
        """The share of survey rows that joined an area (1.0 for an empty survey)."""
        return self.n_matched / self.n_rows if self.n_rows else 1.0

    @property
    def ok(self) -> bool:
        """True when every survey row joined an area and every area has survey rows."""
        return self.unmatched_names.empty and self.areas_without_rows.empty

    def unmatched_text(self, limit: int = 20, lang: str = "en") -> str:
        """``'Lärkstan' (row 5), 'Söder-malm' (3 rows from row 9)``, at most ``limit`` names.

        ``lang="sv"`` gives ``'Lärkstan' (rad 5), 'Söder-malm' (3 rader från rad 9)``.
        """
        return _names_text(self.unmatched_names, limit, lang)

    def totals_text(self, limit: int = 20, lang: str = "en") -> str:
        """The city-total rows left out, as :meth:`unmatched_text` names them."""
        return _names_text(self.total_names, limit, lang)

_AREA = ("område-id", "områdes-id", "omrade_id", "area_id", "områdeskod", "område", "stadsdel",
         "stadsdelsområde", "deso", "area", "district", "zon", "mätområde")
_WAVE = ("år", "våg", "år_våg", "år våg", "mätår", "undersökningsår", "year", "wave")
_INDICATOR = ("indikator", "fråga", "indicator", "question", "variabel", "mått")
_AGG_SPEC: dict[str, tuple[str, ...]] = {
    "area_id": _AREA,
    "wave": _WAVE,
    "indicator": _INDICATOR,
    "n": (
        "n",
        "antal svarande",
        "svarande",
        "antal svar",
        "respondenter",
        "antal respondenter",
        "respondents",
        "bas",
    ),
    "n_eff": ("n_eff", "effektivt n", "effective n"),
    "share": (
        "andel",
        "procent",
        "andel procent",
        "share",
        "percent",
        "proportion",
        "värde",
        "value",
    ),
    "count": ("antal", "count", "antal ja"),
}
_RESP_SPEC: dict[str, tuple[str, ...]] = {
    "area_id": _AREA,
    "wave": _WAVE,
    "indicator": _INDICATOR,
    "answer": ("svar", "answer", "response", "svarsalternativ"),
    "weight": ("vikt", "weight", "vikter", "kalibreringsvikt", "designvikt"),
    "x": ("x", "e", "östlig", "easting", "lon", "longitud"),
    "y": ("y", "nordlig", "northing", "lat", "latitud"),
    "respondent_id": ("respondent", "respondent-id", "löpnummer", "lopnr"),
}
_YES = {"1", "ja", "j", "yes", "y", "true", "sant", "x", "instammer"}
_NO = {"0", "nej", "n", "no", "false", "falskt", "instammer inte"}
_DONT_KNOW = {"vet ej", "vet inte", "ej svar", "uppgift saknas", "dont know", "na", "-", "."}
_Z = z_crit(0.95)  # Agresti-Coull's adjustment at the conventional 95 % level


def kish_n_eff(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``.

    >>> kish_n_eff(np.array([1.0, 1.0, 2.0, 2.0]))
    3.6
    """
    w = np.asarray(weights, dtype=float)
    s2 = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else float("nan")


def share_se(share: np.ndarray, n_eff: np.ndarray, *, z: float = _Z) -> np.ndarray:
    """Standard error of a share: ``sqrt(p(1-p)/n_eff)``; Agresti-Coull at p = 0 or 1.

    >>> share_se(np.array([0.5, 0.0]), np.array([100.0, 100.0])).round(4).tolist()
    [0.05, 0.0132]
    """
    p = np.asarray(share, dtype=float)
    n = np.asarray(n_eff, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(p * (1 - p) / n)
        edge = (p == 0) | (p == 1)
        n_t = n + z * z
        p_t = (p * n + z * z / 2) / n_t
        se = np.where(edge, np.sqrt(p_t * (1 - p_t) / n_t), se)
    return np.where(n > 0, se, np.nan)


def _parse_wave(values: pd.Series, rows: np.ndarray, file: Path, column: str) -> np.ndarray:
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values.tolist()):
        m = re.search(r"(19|20)\d\d", "" if v is None else str(v))
        if m is None:
            raise InputError(
                f"'{short(v)}' is not a survey year.",
                file=file,
                row=int(rows[i]),
                column=column,
                fix="write the year of the wave, e.g. 2017.",
            )
        out[i] = int(m.group(0))
    return out


def _numbers(frame: pd.DataFrame, column: str, rows: np.ndarray, file: Path) -> np.ndarray:
    vals, bad = parse_number(frame[column], column=column, file=file, rows=rows.tolist())
    if bad:
        r, t = bad[0]
        raise InputError(
            f"'{short(t)}' is not a number"
            + (f" ({len(bad)} such cells)" if len(bad) > 1 else "")
            + ".",
            file=file,
            row=r,
            column=column,
            fix="write a number, e.g. 12,5.",
        )
    return vals.to_numpy(dtype=float)


def _wide_indicators(
    columns: Sequence[str], used: set[str], given: Sequence[str] | None
) -> list[str]:
    if given is not None:
        return list(given)
    known = {fold_text(k) for k in INDICATORS}
    return [c for c in columns if c not in used and fold_text(c) in known]


def read_survey(
    path: str | Path,
    *,
    columns: Mapping[str, str] | None = None,
    form: Literal["auto", "aggregate", "respondents"] = "auto",
    scale: Literal["auto", "proportion", "percent"] = "auto",
    sheet: str | int | None = None,
    indicators: Sequence[str] | None = None,
    indicator: str | None = None,
) -> pd.DataFrame:
    """Read survey results (aggregates or respondent rows) from CSV or Excel.

    Parameters
    ----------
    path
        A ``.csv`` (``;`` or ``,``, decimal comma allowed) or ``.xlsx`` file.
    columns
        Canonical field -> header, overriding the recognised Swedish/English headers.
        Fields: ``area_id, wave, indicator, n, n_eff, share, count`` (aggregates) and
        ``area_id, x, y, wave, indicator, answer, weight, respondent_id`` (respondents).
    form
        ``"auto"`` picks respondent rows when there is an answer column (or wide answer
        columns and no ``n``), aggregates otherwise.
    scale
        Scale of the shares. ``"auto"`` decides once for the whole file from all its shares:
        percent when shares above 1 occur and none lies strictly between 0 and 1, a
        proportion when none exceeds 1 (a header saying "%" with only such values gives a
        warning). A file with both kinds is refused and the rows of the minority (typos such
        as 0,35 among percentages, or 45 among proportions) are named, so that one typo
        never switches the scale of the whole file. The scale used is logged and kept in
        ``df.attrs["trygg_geo_survey"]["scale"]``.
    sheet
        Excel sheet (name or 0-based index).
    indicators
        Columns that each hold one indicator (wide files). By default the columns named
        like a known indicator (``otrygg_kvall``, ``oro_brott``, ``avstar_aktivitet``, ...).
    indicator
        The indicator of every row of a file that has neither an indicator column nor
        indicator columns: one question per file, as Stockholm publishes it (``[survey]
        indicator``). Kept as written. Ignored when the file names its indicators.

    Returns
    -------
    DataFrame
        Aggregates: ``source_row, area_id, wave, indicator, n, share`` (+ ``count``,
        ``n_eff`` when given), shares on 0-1. Respondents: ``source_row, area_id, x, y,
        wave, indicator, answer`` (1.0/0.0, NA for "vet ej" and blanks), ``weight``,
        ``respondent_id``. One row per input row and indicator, in file order. Area ids are
        as written; :func:`survey_panel` matches them to an area layer.

    Raises
    ------
    MissingColumnError, InputError
        Unrecognised headers (the message lists those found), cells that are not numbers
        or answers, shares outside the scale, counts above n, repeated cells (rows named).
    """
    over = dict(columns or {})
    tab = read_table(path, sheet=sheet, what="survey file", config_section="survey",
                     find_header=lambda names: _survey_header_check(names, over, Path(path)))
    frame, rows, file = tab.frame, tab.source_row, tab.path
    cols = list(frame.columns)
    agg = match_columns(cols, _AGG_SPEC, override={k: v for k, v in over.items() if k in _AGG_SPEC},
                        file=file, config_key="survey.columns")
    resp = match_columns(
        cols,
        _RESP_SPEC,
        override={k: v for k, v in over.items() if k in _RESP_SPEC},
        file=file,
        config_key="survey.columns",
    )
    if form == "auto":
        wide = _wide_indicators(cols, set(agg.values()), indicators)
        form = "respondents" if ("answer" in resp or (wide and "n" not in agg)) else "aggregate"
        log.info(
            "%s: read as %s",
            file.name,
            "respondent rows" if form == "respondents" else "aggregates",
        )
    if form == "aggregate":
        df, used_scale = _read_aggregates(frame, rows, file, agg, scale, indicators, indicator)
    elif form == "respondents":
        df = _read_respondents(frame, rows, file, resp, indicators, indicator)
        used_scale = "answers"
    else:
        raise ValueError(f"form must be 'auto', 'aggregate' or 'respondents', not {form!r}.")
    df.attrs["trygg_geo_survey"] = {"form": form, "scale": used_scale, "file": str(file)}
    return df


def _survey_header_check(names: list[str], over: Mapping[str, str], file: Path) -> None:
    """Raise MissingColumnError unless ``names`` hold a survey header (a wave and an area)."""
    agg = match_columns(
        names,
        _AGG_SPEC,
        override={k: v for k, v in over.items() if k in _AGG_SPEC},
        file=file,
        config_key="survey.columns",
    )
    resp = match_columns(
        names,
        _RESP_SPEC,
        override={k: v for k, v in over.items() if k in _RESP_SPEC},
        file=file,
        config_key="survey.columns",
    )
    if "wave" not in agg:
        raise MissingColumnError(
            "wave", found=names, file=file, accepted=_WAVE, config_key="survey.columns"
        )
    if "area_id" not in agg and not ("x" in resp and "y" in resp):
        raise MissingColumnError(
            "area_id",
            found=names,
            file=file,
            accepted=_AREA + ("(or x and y)",),
            config_key="survey.columns",
        )


def _read_aggregates(frame: pd.DataFrame, rows: np.ndarray, file: Path, m: dict[str, str],  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
                     scale: str, indicators: Sequence[str] | None,
                     indicator: str | None = None) -> tuple[pd.DataFrame, str]:
    for req in ("area_id", "wave", "n"):
        if req not in m:
            raise MissingColumnError(req, found=frame.columns, file=file, accepted=_AGG_SPEC[req],
                                     config_key="survey.columns")
    wide = [] if "indicator" in m else _wide_indicators(frame.columns, set(m.values()), indicators)
    single = "indicator" not in m and not wide
    if single:
        _need_indicator(indicator, list(frame.columns), file)
    if not wide and "share" not in m and "count" not in m:
        raise MissingColumnError("share", found=frame.columns, file=file,
                                 accepted=_AGG_SPEC["share"] + _AGG_SPEC["count"],
                                 config_key="survey.columns")
    base = pd.DataFrame({
        "source_row": rows.astype(np.int64),
        "area_id": frame[m["area_id"]].astype("string").str.strip().to_numpy(),
        "wave": _parse_wave(frame[m["wave"]], rows, file, m["wave"]),
        "n": _numbers(frame, m["n"], rows, file),
    })
    if "n_eff" in m:
        base["n_eff"] = _numbers(frame, m["n_eff"], rows, file)
    blank = base["area_id"].isna()
    if blank.any():
        raise InputError(
            "the area is empty.",
            file=file,
            row=int(base.loc[blank, "source_row"].iloc[0]),
            column=m["area_id"],
            fix="fill in the area on every row.",
        )
    if wide:
        parts = []
        for c in wide:
            part = base.copy()
            part["indicator"] = c
            part["share"] = _numbers(frame, c, rows, file)
            part["_col"] = c
            parts.append(part)
        df = pd.concat(parts, ignore_index=True).sort_values(
            ["source_row", "indicator"], kind="stable", ignore_index=True
        )
        header_pct = any(_says_percent(c) for c in wide)
    else:
        df = base
        df["indicator"] = (
            pd.Series(indicator, index=frame.index, dtype="string").to_numpy() if single
            else frame[m["indicator"]]
            .map(lambda v: pd.NA if v is None else fold_text(v).replace(" ", "_"))
            .astype("string")
            .to_numpy()
        )
        if "share" in m:
            df["share"] = _numbers(frame, m["share"], rows, file)
            df["_col"] = m["share"]
        if "count" in m:
            df["count"] = _numbers(frame, m["count"], rows, file)
        header_pct = "share" in m and _says_percent(m["share"])
    _check_n(df, file, m["n"])
    if "share" in df:
        used = _apply_scale(df, scale, header_pct, file)
    else:
        used = "count"
    if "count" in df:
        bad = df["count"] > df["n"]
        if bad.any():
            r = df.loc[bad].iloc[0]
            raise InputError(f"the count {r['count']:g} is larger than n = {r['n']:g}.", file=file,
                             row=int(r["source_row"]), column=m["count"],
                             fix="check the columns: the count of 'yes' answers cannot exceed n.")
        from_count = df["count"] / df["n"].where(df["n"] > 0)
        if "share" in df:
            off = (df["share"] - from_count).abs() > 0.01 + 0.5 / df["n"].clip(lower=1)
            if off.any():
                warnings.warn(DataQualityWarning(msg(
                    "warn.survey_count_share", file=file,
                    rows=", ".join(map(str, df.loc[off, "source_row"].head(10))))), stacklevel=4)
        else:
            df["share"] = from_count
    df = df.drop(columns=[c for c in ("_col",) if c in df])
    _refuse_repeats(df, file)
    order = ["source_row", "area_id", "wave", "indicator", "n", "share"] + \
        [c for c in ("count", "n_eff") if c in df]
    df = df[order].copy()
    df["n"] = df["n"].round().astype("Int64")
    df["wave"] = df["wave"].astype("int64")
    df["indicator"] = df["indicator"].astype("string")
    df["area_id"] = df["area_id"].astype("string")
    return df.reset_index(drop=True), used


def _need_indicator(indicator: str | None, columns: Sequence[str], file: Path) -> None:
    """Refuse a file without indicator column(s) when no indicator was given either."""
    if indicator is not None and str(indicator).strip():
        return
    raise MissingColumnError(
        "indicator",
        found=columns,
        file=file,
        accepted=_INDICATOR + tuple(INDICATORS) + (
            "(or, for a file with one question, [survey] indicator = \"otrygg_kvall\" in "
            "projekt.toml / read_survey(indicator=...))",),
        config_key="survey.columns",
    )


def _says_percent(header: str) -> bool:
    return "%" in header or "procent" in fold_header(header) or "percent" in fold_header(header)


def _check_n(df: pd.DataFrame, file: Path, column: str) -> None:
    n = df["n"]
    bad = n.isna() | (n < 0) | (np.abs(n - np.round(n)) > 1e-9)
    if bad.any():
        r = df.loc[bad].iloc[0]
        raise InputError(
            f"n must be a whole number of respondents (found '{r['n']}').",
            file=file,
            row=int(r["source_row"]),
            column=column,
            fix="write the number of respondents.",
        )


def _rows_text(sub: pd.DataFrame, limit: int = 10) -> str:
    return str(_rows_msg(sub, limit))


def _rows_msg(sub: pd.DataFrame, limit: int = 10) -> Msg:
    """``12 (0.35), 14 (0.2) and 3 more`` in either language."""
    items = [f"{int(r)} ({v:g})" for r, v in zip(sub["source_row"], sub["share"], strict=True)][
        :limit
    ]
    more = msg("survey.names_more", n=len(sub) - limit) if len(sub) > limit else ""
    return msg("err.join", a=", ".join(items), b=more)


def _decide_scale(df: pd.DataFrame, header_pct: bool, file: Path) -> None:
    """Refuse a file whose shares mix the 0-1 and 0-100 scales; name the rows of the minority."""
    s = df["share"].to_numpy(dtype=float)
    ok = np.isfinite(s)
    out = ok & ((s < 0) | (s > 100))
    col = lambda sub: str(sub["_col"].iloc[0]) if "_col" in sub else "share"  # noqa: E731
    if out.any():
        sub = df.loc[out]
        r = sub.iloc[0]
        raise InputError(
            f"the share {r['share']:g} is outside 0-100 (rows {_rows_text(sub)}).",
            file=file,
            row=int(r["source_row"]),
            column=col(sub),
            fix="write shares as percentages (0-100) or proportions (0-1).",
        )
    above = ok & (s > 1)
    frac = ok & (s > 0) & (s < 1)
    n_above, n_frac = int(above.sum()), int(frac.sum())
    if not n_above or not n_frac:
        return
    head = " (the header says percent)" if header_pct else ""
    if header_pct and n_above >= 4 * n_frac:
        # The header states the unit: a share below 1 is a small percentage, unless it sits far
        # below the other shares of its indicator while x100 it would sit among them (0,35
        # among 18-41 is a proportion typed into a percent file; 0,8 among 1-6 is 0,8 %).
        groups = df["indicator"].astype(str) if "indicator" in df else pd.Series("", index=df.index)
        odd = np.zeros(len(df), dtype=bool)
        for _, idx in groups.groupby(groups).groups.items():
            pos = df.index.get_indexer(idx)
            others = s[pos][above[pos]]
            if len(others) < 3:
                continue
            lo, hi = float(others.min()), float(others.max())
            v = s[pos]
            odd[pos] = frac[pos] & (v * 100 >= lo) & (v * 100 <= 1.2 * hi) & (v < lo / 2)
        if odd.any():
            sub = df.loc[odd]
            raise InputError(
                f"the file's shares are percentages{head}, but rows {_rows_text(sub)} hold shares "
                "below 1 "
                "that sit far below the other shares of their indicator and, times 100, among "
                "them; they "
                "look like proportions, and one scale per file is used, so these rows are "
                "ambiguous.",
                file=file,
                row=int(sub["source_row"].iloc[0]),
                column=col(sub),
                fix="write these shares as percentages (0,35 -> 35); if they really are below 1 %, "
                    "set "
                '[survey] scale = "percent" in projekt.toml.',
            )
        warnings.warn(DataQualityWarning(msg("warn.survey_small_percent", file=file,
                                             rows=_rows_msg(df.loc[frac]))), stacklevel=6)
        return
    if n_above >= 4 * n_frac:
        sub = df.loc[frac]
        problem = (
            f"the file's shares are percentages{head}: {n_above} of {n_above + n_frac} non-zero "
            "shares "
            f"are above 1, but rows {_rows_text(sub)} hold shares between 0 and 1, which read as "
            "proportions; one scale per file is used, so these rows are ambiguous."
        )
        fix = ("write these shares as percentages (0,35 -> 35); if they really are below 1 %, "
               "set [survey] scale = \"percent\" in projekt.toml.")
    elif n_frac >= 4 * n_above:
        sub = df.loc[above]
        problem = (
            f"the file's shares are proportions (0-1): {n_frac} of {n_above + n_frac} non-zero "
            "shares "
            f"lie between 0 and 1, but rows {_rows_text(sub)} hold shares above 1, which read as "
            "percentages; one scale per file is used, so these rows are ambiguous."
        )
        fix = "write these shares as proportions (45 -> 0,45)."
    else:
        sub = df.loc[frac]
        problem = (
            f"the scale of the shares cannot be told: {n_above} are above 1 (percent; rows "
            f"{_rows_text(df.loc[above], 5)}) and {n_frac} lie between 0 and 1 (proportions; rows "
            f"{_rows_text(sub, 5)})."
        )
        fix = "write every share on one scale: percentages (0-100) or proportions (0-1)."
    raise InputError(problem, file=file, row=int(sub["source_row"].iloc[0]), column=col(sub),
                     fix=fix)


def _apply_scale(df: pd.DataFrame, scale: str, header_pct: bool, file: Path) -> str:
    s = df["share"]
    top = float(np.nanmax(s.to_numpy())) if s.notna().any() else 0.0
    if scale == "auto":
        _decide_scale(df, header_pct, file)
        if top > 1:
            used = "percent"
            log.info(
                "%s: shares go up to %g, so a 0-100 (percent) scale was assumed for the whole file "
                "and divided by 100",
                file.name,
                top,
            )
        else:
            used = "proportion"
            log.info(
                "%s: all shares are at most 1, so a 0-1 (proportion) scale was assumed", file.name
            )
            if header_pct:
                warnings.warn(DataQualityWarning(msg("warn.survey_percent_header", file=file)),
                              stacklevel=5)
    elif scale in ("proportion", "percent"):
        used = scale
    else:
        raise ValueError(f"scale must be 'auto', 'proportion' or 'percent', not {scale!r}.")
    limit = 100.0 if used == "percent" else 1.0
    bad = (s < 0) | (s > limit)
    if bad.any():
        r = df.loc[bad].iloc[0]
        raise InputError(
            f"the share {r['share']:g} is outside 0-{limit:g} ({used} scale).",
            file=file,
            row=int(r["source_row"]),
            column=str(r.get("_col", "share")),
            fix="correct the value, or pass scale= to state the scale.",
        )
    if used == "percent":
        df["share"] = s / 100.0
    return used


def _refuse_repeats(df: pd.DataFrame, file: Path) -> None:
    key = ["area_id", "wave", "indicator"]
    dup = df.duplicated(subset=key, keep=False)
    if dup.any():
        d = df.loc[dup]
        first = d.groupby(key, sort=False, dropna=False)["source_row"].apply(list).iloc[0]
        a, w, i = d.iloc[0][key]
        raise InputError(f"area '{a}', wave {w}, indicator '{i}' appears on several rows "
                         f"({', '.join(map(str, first))}); {int(dup.sum())} rows are repeats.",
                         file=file, row=int(first[0]),
                         fix="keep one row per area, wave and indicator.")


def _parse_answer(values: pd.Series, rows: np.ndarray, file: Path, column: str) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values.tolist()):
        if v is None:
            continue
        t = fold_text(v)
        try:
            f = float(str(v).replace(",", "."))
            if f in (0.0, 1.0):
                out[i] = f
                continue
        except ValueError:
            pass
        if t in _YES:
            out[i] = 1.0
        elif t in _NO:
            out[i] = 0.0
        elif t in _DONT_KNOW or not t:
            continue
        else:
            raise InputError(
                f"'{short(v)}' is not a yes/no answer.",
                file=file,
                row=int(rows[i]),
                column=column,
                fix="code answers as 1/0 or ja/nej (blank or 'vet ej' for no answer).",
            )
    return out


def _read_respondents(frame: pd.DataFrame, rows: np.ndarray, file: Path, m: dict[str, str],
                      indicators: Sequence[str] | None,
                      indicator: str | None = None) -> pd.DataFrame:
    if "wave" not in m:
        raise MissingColumnError("wave", found=frame.columns, file=file, accepted=_WAVE)
    if "area_id" not in m and not ("x" in m and "y" in m):
        raise MissingColumnError("area_id", found=frame.columns, file=file,
                                 accepted=_AREA + ("(or x and y coordinates)",))
    base = pd.DataFrame({"source_row": rows.astype(np.int64)})
    base["area_id"] = (frame[m["area_id"]].astype("string").str.strip().to_numpy() if "area_id" in m
                       else pd.array([pd.NA] * len(frame), dtype="string"))
    for c in ("x", "y"):
        base[c] = _numbers(frame, m[c], rows, file) if c in m else np.nan
    base["wave"] = _parse_wave(frame[m["wave"]], rows, file, m["wave"])
    if "weight" in m:
        w = _numbers(frame, m["weight"], rows, file)
        bad = ~(w > 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                "a weight must be a positive number.",
                file=file,
                row=int(rows[i]),
                column=m["weight"],
                fix="fill in the weight (or drop the weight column).",
            )
        base["weight"] = w
    else:
        base["weight"] = np.nan
    base["respondent_id"] = (
        frame[m["respondent_id"]].astype("string").to_numpy()
        if "respondent_id" in m
        else pd.array([pd.NA] * len(frame), dtype="string")
    )
    if "answer" in m:
        df = base.copy()
        if "indicator" in m:
            df["indicator"] = frame[m["indicator"]].map(
                lambda v: pd.NA if v is None else fold_text(v).replace(" ", "_")).to_numpy()
        else:  # one question per file: the configured indicator
            _need_indicator(indicator, list(frame.columns), file)
            df["indicator"] = indicator
        df["answer"] = _parse_answer(frame[m["answer"]], rows, file, m["answer"])
    else:
        wide = _wide_indicators(frame.columns, set(m.values()), indicators)
        if not wide:
            raise MissingColumnError("answer", found=frame.columns, file=file,
                                     accepted=_RESP_SPEC["answer"] + tuple(INDICATORS))
        parts = []
        for c in wide:
            part = base.copy()
            part["indicator"] = c
            part["answer"] = _parse_answer(frame[c], rows, file, c)
            parts.append(part)
        df = pd.concat(parts, ignore_index=True).sort_values(
            ["source_row", "indicator"], kind="stable", ignore_index=True
        )
    df["indicator"] = df["indicator"].astype("string")
    nk = int(df["answer"].isna().sum())
    if nk:
        log.info("%s: %d answers are blank or 'vet ej'; they are kept as NA and not counted in n",
                 file.name, nk)
    cols = [
        "source_row",
        "area_id",
        "x",
        "y",
        "wave",
        "indicator",
        "answer",
        "weight",
        "respondent_id",
    ]
    return df[cols].reset_index(drop=True)


def survey_panel(
    df: pd.DataFrame,
    *,
    min_n: int = 30,
    areas: gpd.GeoDataFrame | None = None,
    points_crs: str | int | None = None,
    aliases: Mapping[str, str] | None = None,
    min_matched: float = MIN_MATCHED_SHARE,
) -> pd.DataFrame:
    """Build the area x wave x indicator panel with shares, standard errors and n.

    Parameters
    ----------
    df
        The output of :func:`read_survey` (aggregates or respondent rows), or a frame with
        the same columns.
    min_n
        Cells with fewer respondents than this are flagged ``suppressed`` (kept for analysis;
        see :func:`suppress_small_cells` for publication).
    areas
        An area layer (``area_id``, ``name``). When given, area keys are joined to its ids
        with :func:`trygg_geo.areas.match_area_keys` (ignoring case, spaces, hyphens and
        diacritics: "Gamla stan" -> ``gamla_stan``, then aliases: "Vasastan" ->
        ``vasastaden``); respondents with coordinates but no matching area are placed with
        :func:`trygg_geo.overlay.assign_to_areas`. Rows whose name matches no area are left
        out, named in a :class:`~trygg_geo._errors.DataQualityWarning` and in the
        :class:`SurveyJoin` kept in ``panel.attrs["trygg_geo_survey_join"]``, which also
        lists the areas without survey rows.
    points_crs
        CRS of respondent coordinates (default: the areas' CRS).
    aliases
        Survey name -> area name or id (``[survey] aliases``), on top of
        :data:`trygg_geo.areas.AREA_ALIASES`.
    min_matched
        The survey is refused when fewer of its rows than this share join an area.

    Returns
    -------
    DataFrame
        ``area_id, wave, indicator, share, se, n, n_eff, suppressed``, sorted by area, wave
        and indicator. For aggregates ``n_eff = n`` unless an ``n_eff`` column was given; for
        weighted respondent rows ``share`` is the weighted share and ``n_eff`` is Kish's
        effective n. Suppression uses ``n`` (respondents), not ``n_eff``.

    Raises
    ------
    InputError
        Fewer than ``min_matched`` of the rows join an area (the names that matched nothing
        are listed, with an alias line to add), a user alias to no area, respondents with
        neither an area nor coordinates inside an area.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas = gpd.GeoDataFrame({"area_id": ["vasastaden", "gamla_stan"],
    ...                           "name": ["VASASTADEN", "GAMLA STAN"]},
    ...                          geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:3011")
    >>> raw = pd.DataFrame({"area_id": ["Vasastan", "Gamla stan"], "wave": [2020, 2020],
    ...                     "indicator": ["oro_brott"] * 2, "n": [120, 80], "share": [0.1, 0.2]})
    >>> panel = survey_panel(raw, areas=areas)
    >>> panel["area_id"].tolist()
    ['gamla_stan', 'vasastaden']
    >>> panel.attrs["trygg_geo_survey_join"].share_rows_matched
    1.0
    """
    info = df.attrs.get("trygg_geo_survey")
    file = info.get("file") if isinstance(info, Mapping) else None
    file = None if file is None else str(file)
    if "answer" in df:
        panel, join = _panel_from_respondents(df, areas=areas, points_crs=points_crs,
                                              aliases=aliases, min_matched=min_matched, file=file)
    elif "share" in df and "n" in df:
        panel, join = _panel_from_aggregates(df, areas=areas, aliases=aliases,
                                             min_matched=min_matched, file=file)
    else:
        raise MissingColumnError("share", found=df.columns, accepted=("share", "answer"))
    if panel.empty:
        raise EmptyLayerError("the survey has no cells to put in a panel.")
    panel["se"] = share_se(
        panel["share"].to_numpy(dtype=float), panel["n_eff"].to_numpy(dtype=float)
    )
    panel["suppressed"] = (panel["n"].to_numpy(dtype=float) < min_n)
    panel = panel[PANEL_COLUMNS].sort_values(["area_id", "wave", "indicator"], ignore_index=True)
    panel["n"] = panel["n"].astype("Int64")
    panel["suppressed"] = panel["suppressed"].astype(bool)
    ns = int(panel["suppressed"].sum())
    if ns:
        log.info(
            "%d of %d panel cells have n < %d and are flagged suppressed", ns, len(panel), min_n
        )
    if join is not None:
        panel.attrs[JOIN_ATTR] = join
    return panel


def _match_areas(keys: pd.Series, areas: gpd.GeoDataFrame | None,
                 aliases: Mapping[str, str] | None) -> pd.Series:
    """Area ids of ``keys`` (NA where nothing matched); the keys as written without areas."""
    if areas is None:
        return keys.astype("string")
    return match_area_keys(keys, areas, aliases=aliases)


def _names_text(names: pd.DataFrame, limit: int = 20, lang: str = "en") -> str:
    return _names_msg(names, limit).render(lang)


def _names_msg(names: pd.DataFrame, limit: int = 20) -> Msg:
    """``'Lärkstan' (row 5), 'Söder-malm' (3 rows from row 9)`` in either language."""
    items = [msg("survey.name_row", name=n, row=f) if k == 1
             else msg("survey.name_rows", name=n, n=k, row=f)
             for n, k, f in zip(names["name"], names["n_rows"], names["first_row"], strict=True)]
    more = len(items) - limit
    return msg("err.join", a=items[:limit],
               b=msg("survey.names_more", n=more) if more > 0 else "")


def _join_report(keys: pd.Series, ids: pd.Series, rows: pd.Series, areas: gpd.GeoDataFrame, *,
                 file: str | None, min_matched: float) -> SurveyJoin:
    """The :class:`SurveyJoin` of a survey; refuse one that joins too few rows."""
    rows = pd.Series(rows.to_numpy(), index=keys.index)
    matched = ids.notna().to_numpy()
    total = (~matched) & np.array([isinstance(k, str) and is_total_name(k) for k in keys],
                                  dtype=bool)
    n_rows = int(rows[~total].nunique())
    n_matched = int(rows[matched].nunique())

    def named(mask: np.ndarray) -> pd.DataFrame:
        bad = pd.DataFrame({"name": keys[mask].astype(str), "row": rows[mask]})
        bad = bad.loc[keys[mask].notna()]
        g = bad.groupby("name", sort=False)["row"]
        out = pd.DataFrame({"name": g.size().index.astype(str),
                            "n_rows": g.nunique().to_numpy().astype(int),
                            "first_row": g.min().to_numpy().astype(int)})
        return out.sort_values("first_row", kind="stable", ignore_index=True)

    unmatched = named(~matched & ~total)
    totals = named(total)
    # a suggestion only when the closest name is a convincing match (else None)
    unmatched["closest"] = [closest_area_name(n, areas, min_score=ALIAS_MIN_SCORE)
                            for n in unmatched["name"]]
    have = set(ids.dropna().astype(str))
    names = areas["name"] if "name" in areas else areas["area_id"]
    without = pd.DataFrame({"area_id": areas["area_id"].astype(str).to_numpy(),
                            "name": names.astype(str).to_numpy()})
    without = without.loc[~without["area_id"].isin(have)].reset_index(drop=True)
    join = SurveyJoin(unmatched_names=unmatched, areas_without_rows=without, n_rows=n_rows,
                      n_matched=n_matched, total_names=totals)
    if len(totals):
        log.info("%s: city total rows left out: %s", file, join.totals_text())
    first = unmatched.iloc[0] if len(unmatched) else None
    suggest = unmatched.dropna(subset=["closest"]).head(1)
    if first is not None and join.share_rows_matched < min_matched:
        example: Msg | str = ""
        if len(suggest):
            example = msg("err.survey_join.example", name=suggest["name"].iloc[0],
                          closest=suggest["closest"].iloc[0])
        raise InputError(
            msg("err.survey_join", n_matched=n_matched, n_rows=n_rows,
                share=Percent(join.share_rows_matched), min=Percent(min_matched),
                n=len(unmatched), names=_names_msg(unmatched)),
            file=file, column="area_id", fix=msg("err.survey_join.fix", example=example))
    elif first is not None:
        how = (msg("warn.survey_unmatched.alias", name=suggest["name"].iloc[0],
                   closest=suggest["closest"].iloc[0]) if len(suggest)
               else msg("warn.survey_unmatched.no_alias"))
        warnings.warn(DataQualityWarning(msg(
            "err.join", b=how, a=msg("warn.survey_unmatched", file=file, n=n_rows - n_matched,
                                     n_rows=n_rows, names=_names_msg(unmatched)))),
            stacklevel=4)
    if not without.empty:
        log.info("%d areas have no survey rows: %s", len(without),
                 ", ".join(without["name"].head(20)))
    return join


def _panel_from_aggregates(
    df: pd.DataFrame, *, areas: gpd.GeoDataFrame | None, aliases: Mapping[str, str] | None,
    min_matched: float, file: str | None,
) -> tuple[pd.DataFrame, SurveyJoin | None]:
    rows = (
        df["source_row"]
        if "source_row" in df
        else pd.Series(np.arange(len(df)) + 2, index=df.index)
    )
    ids = _match_areas(df["area_id"], areas, aliases)
    join = None
    if areas is not None:
        join = _join_report(df["area_id"], ids, rows, areas, file=file, min_matched=min_matched)
        keep = ids.notna().to_numpy()
        df, ids = df.loc[keep], ids[keep]
    out = pd.DataFrame({
        "area_id": ids.to_numpy(),
        "wave": df["wave"].astype("int64").to_numpy(),
        "indicator": df["indicator"].astype("string").to_numpy(),
        "share": df["share"].astype(float).to_numpy(),
        "n": df["n"].astype(float).to_numpy(),
    })
    out["n_eff"] = df["n_eff"].astype(float).to_numpy() if "n_eff" in df else out["n"].to_numpy()
    return out, join


def _panel_from_respondents(
    df: pd.DataFrame, *, areas: gpd.GeoDataFrame | None, points_crs: str | int | None,
    aliases: Mapping[str, str] | None, min_matched: float, file: str | None,
) -> tuple[pd.DataFrame, SurveyJoin | None]:
    d = df.copy()
    rows = d["source_row"] if "source_row" in d else pd.Series(np.arange(len(d)) + 2, index=d.index)
    keys = d["area_id"].astype("string") if "area_id" in d else pd.Series(pd.NA, index=d.index,
                                                                          dtype="string")
    area = keys
    if areas is not None:
        area = _match_areas(keys, areas, aliases)
        need = area.isna() & d.get("x", pd.Series(np.nan, index=d.index)).notna()
        if need.any():
            from trygg_geo.overlay import assign_to_areas

            crs = require_crs(points_crs if points_crs is not None else areas.crs,
                              what="the respondent x/y: points_crs= is not given and the area "
                              "layer", fix=msg("err.points_crs.fix"))
            pts = gpd.GeoSeries(gpd.points_from_xy(d.loc[need, "x"], d.loc[need, "y"]),
                                index=d.index[need], crs=crs)
            area.loc[need] = assign_to_areas(pts, areas, area_id="area_id")
    missing = area.isna() & keys.isna()  # a name that matched nothing goes to the join report
    if missing.any():
        r = sorted(set(rows[missing].tolist()))
        raise InputError(
            msg("err.respondents_no_area", n=len(r),
                rows=", ".join(map(str, r[:20])) + (", ..." if len(r) > 20 else "")),
            fix=msg("err.respondents_no_area.fix"),
        )
    join = None
    if areas is not None:
        join = _join_report(keys, area, rows, areas, file=file, min_matched=min_matched)
    d["area_id"] = area.to_numpy()
    d = d.loc[d["area_id"].notna() & d["answer"].notna()]
    weighted = "weight" in d and d["weight"].notna().any()
    if weighted and d["weight"].isna().any():
        raise InputError("some respondents have a weight and some do not.", column="weight",
                         fix="give every respondent a weight, or none.")
    w = d["weight"].astype(float) if weighted else pd.Series(1.0, index=d.index)
    y = d["answer"].astype(float)
    g = pd.DataFrame({"area_id": d["area_id"], "wave": d["wave"].astype("int64"),
                      "indicator": d["indicator"].astype("string"),
                      "w": w, "wy": w * y, "w2": w * w, "one": 1.0})
    agg = g.groupby(["area_id", "wave", "indicator"], sort=True, observed=True)[
        ["w", "wy", "w2", "one"]].sum().reset_index()
    agg["share"] = agg["wy"] / agg["w"]
    agg["n"] = agg["one"]
    agg["n_eff"] = agg["w"] ** 2 / agg["w2"]
    return agg[["area_id", "wave", "indicator", "share", "n", "n_eff"]], join


def suppress_small_cells(panel: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``panel`` for publication: ``share`` and ``se`` blanked where ``suppressed``.

    ``n`` and the flag are kept, so a reader sees why a cell is empty.
    """
    out = panel.copy()
    mask = out["suppressed"].astype(bool)
    out.loc[mask, ["share", "se"]] = np.nan
    return out


# --------------------------------------------------------------------------- waves and change

#: The fieldwork date a wave is taken to have been measured on, when only its year is known:
#: 15 September, the middle of the autumn fieldwork of Stockholm's and the police's surveys.
#: The one default for the config (``[analysis] wave_month`` / ``wave_day``), the design and
#: the demo city.
FIELDWORK_MONTH = 9
FIELDWORK_DAY = 15


def wave_dates(
    waves: Sequence[int], *, month: int = FIELDWORK_MONTH, day: int = FIELDWORK_DAY
) -> pd.Series:
    """The fieldwork date of each wave (a year), indexed by wave.

    >>> wave_dates([2021, 2024]).dt.strftime("%Y-%m-%d").tolist()
    ['2021-09-15', '2024-09-15']
    """
    years = [int(w) for w in waves]
    return pd.Series([pd.Timestamp(y, month, day) for y in years], index=years)


def survey_cells(panel: pd.DataFrame, *, indicator: str) -> set[tuple[str, int]]:
    """The ``(area_id, wave)`` cells the panel has for ``indicator`` (suppressed ones too).

    >>> p = pd.DataFrame({"area_id": ["a", "a"], "wave": [2021, 2024], "indicator": "x"})
    >>> sorted(survey_cells(p, indicator="x"))
    [('a', 2021), ('a', 2024)]
    """
    sub = panel[panel["indicator"] == indicator]
    return set(zip(sub["area_id"].astype(str), sub["wave"].astype(int), strict=True))


def check_waves(panel: pd.DataFrame, waves: Sequence[int], *, indicator: str, file: Path) -> None:
    """Refuse a study whose waves or indicator the survey panel does not hold.

    Raises
    ------
    InputError
        Naming the survey file, the column and the fix, when the panel has no rows for
        ``indicator`` or for one of ``waves``.
    """
    have = set(panel.loc[panel["indicator"] == indicator, "wave"].astype(int))
    if not have:
        found = sorted(set(panel["indicator"].astype(str)))
        raise InputError(
            f"the survey has no rows for the indicator '{indicator}'. Indicators found: "
            f"{', '.join(found)}.",
            file=file, column="indicator",
            fix="set [survey] indicator in projekt.toml to one of them.",
        )
    missing = [w for w in waves if w not in have]
    if missing:
        raise InputError(
            f"the configured waves {', '.join(map(str, missing))} have no survey rows for "
            f"'{indicator}' (waves in the file: {', '.join(map(str, sorted(have)))}).",
            file=file, column="wave",
            fix="correct [analysis] waves in projekt.toml, or add the missing waves to the survey.",
        )


def area_change(
    areas: gpd.GeoDataFrame,
    panel: pd.DataFrame,
    *,
    indicator: str,
    waves: Sequence[int],
    level: float = 0.95,
    tau2: float = 0.0,
) -> gpd.GeoDataFrame:
    """Per-wave share, n and suppression per area, and the change between the last two waves.

    Adds to a copy of ``areas`` (matched on ``area_id``): ``<indicator>_<wave>``, ``n_<wave>``
    and ``supp_<wave>`` for every wave (``supp`` only where answers exist but are too few;
    an area without a survey row is not measured, and ``measured`` says so for the change),
    and for the last two waves ``change`` with its ``level`` confidence interval
    (``change_ci_low``, ``change_ci_high``; sampling error of the two shares), ``n`` (of the
    last wave), ``suppressed`` (either wave suppressed) and ``significant``. This is the
    unpublished table: :func:`trygg_geo.disclosure.publishable_area_values` blanks what may
    not be shown.

    Parameters
    ----------
    areas
        Areas with ``area_id``.
    panel
        :func:`survey_panel` output.
    indicator
        The indicator to show.
    waves
        At least two waves, ascending.
    level
        Confidence level of the change interval.
    tau2
        District x wave variance (share², e.g. ``Tau2Result.value`` of
        :func:`trygg_geo.effects.variance.between_district_variance`) added to each of the
        two cells: the change's variance is ``se_a**2 + se_b**2 + 2 * tau2``.

    Notes
    -----
    Also adds ``change_se``, ``change_p_value`` (normal; blank where suppressed), its
    Holm adjustment over the areas with a change (``change_p_adjusted``, ``adjust_method``
    = "holm"), and ``tau2``; ``significant`` is judged by the adjusted p-value.
    """
    if len(waves) < 2:
        raise InputError(f"the change needs two waves, got {list(waves)}.",
                         fix="list at least two waves in [analysis] waves.")
    out = areas.copy()
    p = panel[panel["indicator"] == indicator].set_index(["area_id", "wave"])
    ids = out["area_id"].astype(str)

    def at(w: int) -> pd.DataFrame:
        return p.reindex(pd.MultiIndex.from_arrays([ids, np.full(len(out), w)]))

    for w in waves:
        sub = at(w)
        out[f"{indicator}_{w}"] = sub["share"].to_numpy()
        out[f"n_{w}"] = sub["n"].to_numpy()
        # "för få svar" only where there are answers; an area without a row is "ingen mätning"
        out[f"supp_{w}"] = sub["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    a, b = waves[-2], waves[-1]
    pa, pb = at(a), at(b)
    change = pb["share"].to_numpy() - pa["share"].to_numpy()
    se = np.sqrt(pb["se"].to_numpy() ** 2 + pa["se"].to_numpy() ** 2 + 2 * float(tau2))
    z = z_crit(level)
    out["change"] = change
    out["change_ci_low"] = change - z * se
    out["change_ci_high"] = change + z * se
    out["n"] = pb["n"].to_numpy()
    out["suppressed"] = (pa["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool)
                         | pb["suppressed"].astype("boolean").fillna(False).to_numpy(dtype=bool))
    out["measured"] = pa["share"].notna().to_numpy() & pb["share"].notna().to_numpy() | \
        out["suppressed"].to_numpy()
    pval = np.where(out["suppressed"], np.nan, 2 * stats.norm.sf(np.abs(change / se)))
    out["change_se"] = np.where(out["suppressed"], np.nan, se)  # an SE would reveal the share
    out["change_p_value"], out["tau2"] = pval, float(tau2)
    out["change_p_adjusted"] = holm_adjust(pval)  # one family: every area with a change
    out["adjust_method"] = pd.Series(pd.NA, index=out.index, dtype="string").mask(
        np.isfinite(pval), "holm")
    out["significant"] = out["change_p_adjusted"] < 1 - level
    out.attrs["change_waves"] = (a, b)
    return out
