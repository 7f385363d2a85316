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
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from trygg_geo._errors import (
    CRSError,
    DataQualityWarning,
    EmptyLayerError,
    InputError,
    MissingColumnError,
)
from trygg_geo._tabular import fold_header, match_columns, parse_number, read_table, short
from trygg_geo.areas import match_area_keys
from trygg_geo.interventions import fold_text

__all__ = [
    "INDICATORS",
    "PANEL_COLUMNS",
    "kish_n_eff",
    "read_survey",
    "share_se",
    "suppress_small_cells",
    "survey_panel",
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
_Z = 1.959963984540054


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
        df, used_scale = _read_aggregates(frame, rows, file, agg, scale, indicators)
    elif form == "respondents":
        df, used_scale = _read_respondents(frame, rows, file, resp, indicators), "answers"
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


def _read_aggregates(frame: pd.DataFrame, rows: np.ndarray, file: Path, m: dict[str, str],  # noqa: C901 - predates the gate; split planned (issue 10)
                     scale: str, indicators: Sequence[str] | None) -> tuple[pd.DataFrame, str]:
    for req in ("area_id", "wave", "n"):
        if req not in m:
            raise MissingColumnError(req, found=frame.columns, file=file, accepted=_AGG_SPEC[req],
                                     config_key="survey.columns")
    wide = [] if "indicator" in m else _wide_indicators(frame.columns, set(m.values()), indicators)
    if "indicator" not in m and not wide:
        raise MissingColumnError(
            "indicator",
            found=frame.columns,
            file=file,
            accepted=_INDICATOR + tuple(INDICATORS),
            config_key="survey.columns",
        )
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
            frame[m["indicator"]]
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
                warnings.warn(
                    f"file '{file}': share and count/n disagree on rows "
                    f"{', '.join(map(str, df.loc[off, 'source_row'].head(10)))}; the share column "
                    "is used.",
                    DataQualityWarning,
                    stacklevel=4,
                )
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
    items = [f"{int(r)} ({v:g})" for r, v in zip(sub["source_row"], sub["share"], strict=True)][
        :limit
    ]
    return ", ".join(items) + (f" and {len(sub) - limit} more" if len(sub) > limit else "")


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
        warnings.warn(
            f"file '{file}': rows {_rows_text(df.loc[frac])} hold shares below 1 under a percent "
            "header; they are read as percentages below 1 %. Check them if they are proportions.",
            DataQualityWarning, stacklevel=6)
        return
    if n_above >= 4 * n_frac:
        sub = df.loc[frac]
        msg = (
            f"the file's shares are percentages{head}: {n_above} of {n_above + n_frac} non-zero "
            "shares "
            f"are above 1, but rows {_rows_text(sub)} hold shares between 0 and 1, which read as "
            "proportions; one scale per file is used, so these rows are ambiguous."
        )
        fix = ("write these shares as percentages (0,35 -> 35); if they really are below 1 %, "
               "set [survey] scale = \"percent\" in projekt.toml.")
    elif n_frac >= 4 * n_above:
        sub = df.loc[above]
        msg = (
            f"the file's shares are proportions (0-1): {n_frac} of {n_above + n_frac} non-zero "
            "shares "
            f"lie between 0 and 1, but rows {_rows_text(sub)} hold shares above 1, which read as "
            "percentages; one scale per file is used, so these rows are ambiguous."
        )
        fix = "write these shares as proportions (45 -> 0,45)."
    else:
        sub = df.loc[frac]
        msg = (
            f"the scale of the shares cannot be told: {n_above} are above 1 (percent; rows "
            f"{_rows_text(df.loc[above], 5)}) and {n_frac} lie between 0 and 1 (proportions; rows "
            f"{_rows_text(sub, 5)})."
        )
        fix = "write every share on one scale: percentages (0-100) or proportions (0-1)."
    raise InputError(msg, file=file, row=int(sub["source_row"].iloc[0]), column=col(sub), fix=fix)


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
                warnings.warn(
                    f"file '{file}': the share header says percent but every value is at most 1; a "
                    "0-1 "
                    "scale was assumed. Pass scale='percent' if these are percentages below 1%.",
                    DataQualityWarning,
                    stacklevel=5,
                )
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
        first = d.groupby(key, sort=False)["source_row"].apply(list).iloc[0]
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
                      indicators: Sequence[str] | None) -> pd.DataFrame:
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
        if "indicator" not in m:
            raise MissingColumnError(
                "indicator", found=frame.columns, file=file, accepted=_INDICATOR
            )
        df = base.copy()
        df["indicator"] = frame[m["indicator"]].map(
            lambda v: pd.NA if v is None else fold_text(v).replace(" ", "_")).to_numpy()
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
        An area layer (``area_id``, ``name``). When given, area keys are matched to its ids
        (ignoring case and diacritics: "Södermalm" -> ``sodermalm``) and unknown areas are
        refused; respondents with coordinates but no area are placed with
        :func:`trygg_geo.overlay.assign_to_areas`.
    points_crs
        CRS of respondent coordinates (default: the areas' CRS).

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
        Areas not in ``areas`` (listed), respondents that cannot be placed in any area.
    """
    if "answer" in df:
        panel = _panel_from_respondents(df, areas=areas, points_crs=points_crs)
    elif "share" in df and "n" in df:
        panel = _panel_from_aggregates(df, areas=areas)
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
    return panel


def _match_areas(keys: pd.Series, areas: gpd.GeoDataFrame | None, rows: pd.Series) -> pd.Series:
    if areas is None:
        return keys.astype("string")
    ids = match_area_keys(keys, areas)
    bad = ids.isna() & keys.notna()
    if bad.any():
        unknown = pd.DataFrame({"k": keys[bad], "r": rows[bad]}).groupby("k")["r"].min()
        txt = ", ".join(f"'{k}' (row {r})" for k, r in unknown.items())
        raise InputError(
            f"the survey names {len(unknown)} areas that are not in the area layer: {txt}.",
            fix="correct the area names, or interpolate with "
            "trygg_geo.overlay.interpolate_survey if the survey uses other areas.",
        )
    return ids


def _panel_from_aggregates(df: pd.DataFrame, *, areas: gpd.GeoDataFrame | None) -> pd.DataFrame:
    rows = (
        df["source_row"]
        if "source_row" in df
        else pd.Series(np.arange(len(df)) + 2, index=df.index)
    )
    out = pd.DataFrame({
        "area_id": _match_areas(df["area_id"], areas, rows).to_numpy(),
        "wave": df["wave"].astype("int64").to_numpy(),
        "indicator": df["indicator"].astype("string").to_numpy(),
        "share": df["share"].astype(float).to_numpy(),
        "n": df["n"].astype(float).to_numpy(),
    })
    out["n_eff"] = df["n_eff"].astype(float).to_numpy() if "n_eff" in df else out["n"].to_numpy()
    return out


def _panel_from_respondents(df: pd.DataFrame, *, areas: gpd.GeoDataFrame | None,
                            points_crs: str | int | None) -> pd.DataFrame:
    d = df.copy()
    rows = d["source_row"] if "source_row" in d else pd.Series(np.arange(len(d)) + 2, index=d.index)
    area = d["area_id"].astype("string") if "area_id" in d else pd.Series(pd.NA, index=d.index,
                                                                          dtype="string")
    if areas is not None:
        area = _match_areas(area, areas, rows)
        need = area.isna() & d.get("x", pd.Series(np.nan, index=d.index)).notna()
        if need.any():
            from trygg_geo.overlay import assign_to_areas

            crs = points_crs if points_crs is not None else areas.crs
            if crs is None:
                raise CRSError("respondent coordinates need a CRS. Fix: pass points_crs=.")
            pts = gpd.GeoSeries(gpd.points_from_xy(d.loc[need, "x"], d.loc[need, "y"]),
                                index=d.index[need], crs=crs)
            area.loc[need] = assign_to_areas(pts, areas, area_id="area_id")
    missing = area.isna()
    if missing.any():
        r = sorted(set(rows[missing].tolist()))
        raise InputError(
            f"{len(r)} respondent rows have no area (rows {', '.join(map(str, r[:20]))}"
            + (", ..." if len(r) > 20 else "")
            + "): no area given, or coordinates outside every area.",
            fix="fill in the area, or pass areas= that cover the coordinates.",
        )
    d["area_id"] = area.to_numpy()
    d = d.loc[d["answer"].notna()]
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
    return agg[["area_id", "wave", "indicator", "share", "n", "n_eff"]]


def suppress_small_cells(panel: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``panel`` for publication: ``share`` and ``se`` blanked where ``suppressed``.

    ``n`` and the flag are kept, so a reader sees why a cell is empty.
    """
    out = panel.copy()
    mask = out["suppressed"].astype(bool)
    out.loc[mask, ["share", "se"]] = np.nan
    return out
