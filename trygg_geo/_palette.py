"""The one colour rule for the areas' change: shared by ``karta.html`` and the GeoPackage style.

The change in a survey share is drawn with ColorBrewer's **PuOr** (diverging, colour-blind
safe, readable in grey scale): classes are symmetric around zero, orange for a fall and purple
for a rise, darker for larger changes. What is not a finding is never coloured:

- ``"suppressed"``: too few responses (disclosure control), dark grey;
- ``"missing"``: no change measured, white;
- ``"ns"``: not significant, light grey. Significance is the ``significant`` column when a
  table has it (the effect-table contract of issue 12: by ``p_adjusted`` where it exists),
  else whether the interval ``<value>_ci_low``/``<value>_ci_high`` excludes zero; an area with
  neither is drawn in its colour.

A coloured class is ``"neg<i>"`` or ``"pos<i>"`` with ``i = 1`` nearest zero. :func:`area_bins`
computes the class edges from the shown changes once per map or layer, and
:func:`area_style_class` puts one row in its class, so the HTML map and the QGIS style agree
row by row. :func:`class_colour` and :func:`class_label` give each class its fill and legend
text.

Examples
--------
>>> bins = area_bins([-0.06, -0.02, 0.01, 0.05, 0.08], k=2)
>>> [round(b, 3) for b in bins]
[0.05, 0.08]
>>> area_style_class({"change": -0.06, "change_ci_low": -0.09, "change_ci_high": -0.03}, bins)
'neg2'
>>> area_style_class({"change": 0.01, "significant": False}, bins)
'ns'
>>> class_colour("neg2", len(bins)), class_colour("ns", len(bins))
('#e66101', '#d9d9d9')
>>> class_label("pos1", bins, "sv"), class_label("neg2", bins, "en")
('0,0 till +5,0', '\u22128.0 to \u22125.0')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import mapclassify
import numpy as np
import pandas as pd

from trygg_geo._i18n import fmt_pp

__all__ = [
    "GREY_NS",
    "GREY_SUPPRESSED",
    "MISSING",
    "PUOR",
    "area_bins",
    "area_style_class",
    "area_style_classes",
    "class_colour",
    "class_label",
    "class_order",
    "is_significant",
]

log = logging.getLogger(__name__)

#: ColorBrewer PuOr, ``2k`` colours for ``k`` classes per side, most negative first.
PUOR: dict[int, tuple[str, ...]] = {
    1: ("#f1a340", "#998ec3"),
    2: ("#e66101", "#fdb863", "#b2abd2", "#5e3c99"),
    3: ("#b35806", "#f1a340", "#fee0b6", "#d8daeb", "#998ec3", "#542788"),
    4: ("#b35806", "#e08214", "#fdb863", "#fee0b6", "#d8daeb", "#b2abd2", "#8073ac", "#542788"),
}
GREY_NS = "#d9d9d9"
GREY_SUPPRESSED = "#969696"
MISSING = "#ffffff"
_SPECIAL = {"ns": GREY_NS, "suppressed": GREY_SUPPRESSED, "missing": MISSING}


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _flag(x: Any) -> bool | None:
    """A boolean cell, or None when it is missing."""
    if x is None or (not isinstance(x, (bool, np.bool_)) and pd.isna(x)):
        return None
    return bool(x)


def area_bins(values: Sequence[float] | np.ndarray | pd.Series, *, k: int = 3,
              scheme: str = "Quantiles") -> tuple[float, ...]:
    """Upper edges of ``|change|`` for ``k`` classes on each side of zero (1-4).

    Computed with mapclassify's ``scheme`` over the absolute values of the finite changes
    that are shown (pass the non-suppressed ones); the last edge is the largest ``|change|``.
    Empty input gives ``()``.

    >>> area_bins([0.01, -0.02, 0.04, -0.08], k=2)
    (0.03, 0.08)
    """
    a = np.abs(np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float))
    a = a[np.isfinite(a)]
    if a.size == 0:
        return ()
    if np.all(a == 0):
        return (1e-9,)
    k = int(max(1, min(k, 4, len(np.unique(a)))))
    try:
        bins = np.asarray(mapclassify.classify(a, scheme, k=k).bins, dtype=float)
    except Exception as exc:  # noqa: BLE001 - mapclassify raises several types
        log.warning("mapclassify %s failed (%s); using quantiles", scheme, exc)
        bins = np.asarray(mapclassify.Quantiles(a, k=k).bins, dtype=float)
    bins = np.unique(bins[bins > 0])
    bins[-1] = max(bins[-1], float(a.max()))
    return tuple(float(b) for b in bins)


def is_significant(row: Mapping[str, Any], *, value_column: str = "change") -> bool | None:
    """The significance rule: ``significant`` when given, else the interval excludes zero.

    None when neither is known.

    >>> is_significant({"change_ci_low": -0.01, "change_ci_high": 0.02})
    False
    >>> is_significant({"significant": True, "change_ci_low": -0.01, "change_ci_high": 0.02})
    True
    """
    if "significant" in row:
        flag = _flag(row["significant"])
        if flag is not None:
            return flag
    lo = _num(row.get(f"{value_column}_ci_low"))
    hi = _num(row.get(f"{value_column}_ci_high"))
    if np.isfinite(lo) and np.isfinite(hi):
        return bool(lo > 0 or hi < 0)
    return None


def area_style_class(row: Mapping[str, Any], bins: Sequence[float] = (), *,
                     value_column: str = "change") -> str:
    """The style class of one area: ``suppressed``, ``missing``, ``ns``, ``neg<i>``, ``pos<i>``.

    Parameters
    ----------
    row
        An area's values (a dict or a pandas row): ``<value_column>`` (a proportion), and
        optionally ``suppressed``, ``significant``, ``<value_column>_ci_low``/``_ci_high``.
    bins
        Class edges from :func:`area_bins` (computed over the whole layer).
    value_column
        The change column.

    Returns
    -------
    str
        ``neg1``/``pos1`` are the classes nearest zero.
    """
    if _flag(row.get("suppressed")):
        return "suppressed"
    v = _num(row.get(value_column))
    if not np.isfinite(v) or not len(bins):
        return "missing"
    if is_significant(row, value_column=value_column) is False:
        return "ns"
    i = min(int(np.searchsorted(np.asarray(bins), abs(v), side="left")), len(bins) - 1)
    return f"{'neg' if v < 0 else 'pos'}{i + 1}"


def area_style_classes(frame: pd.DataFrame, bins: Sequence[float] | None = None, *,
                       value_column: str = "change", k: int = 3,
                       scheme: str = "Quantiles") -> tuple[list[str], tuple[float, ...]]:
    """:func:`area_style_class` for every row of ``frame``, and the bins used.

    Without ``bins`` they are computed with :func:`area_bins` from the finite, non-suppressed
    changes of ``frame``; a frame without ``value_column`` is all ``missing``.
    """
    if value_column not in frame.columns:
        return ["missing"] * len(frame), ()
    if bins is None:
        shown = pd.to_numeric(frame[value_column], errors="coerce")
        if "suppressed" in frame.columns:
            shown = shown[~frame["suppressed"].astype("boolean").fillna(False).to_numpy(bool)]
        bins = area_bins(shown, k=k, scheme=scheme)
    rows = frame.drop(columns=[c for c in ("geometry",) if c in frame.columns])
    out = [area_style_class(r, bins, value_column=value_column)
           for r in rows.to_dict(orient="records")]
    return out, tuple(bins)


def class_order(k: int) -> list[str]:
    """The coloured classes, most negative first: ``neg<k> ... neg1 pos1 ... pos<k>``."""
    return [f"neg{i}" for i in range(k, 0, -1)] + [f"pos{i}" for i in range(1, k + 1)]


def class_colour(key: str, k: int) -> str:
    """The fill of a class (``k`` classes per side)."""
    if key in _SPECIAL:
        return _SPECIAL[key]
    return PUOR[k][class_order(k).index(key)]


def class_label(key: str, bins: Sequence[float], lang: str = "sv") -> str:
    """A coloured class's range in percentage points (``"−8,0 till −5,0"``)."""
    edges = [0.0, *bins]
    i = int(key[3:])
    lo, hi = edges[i - 1], edges[i]
    a, b = (-hi, -lo) if key.startswith("neg") else (lo, hi)
    to = "till" if lang == "sv" else "to"
    return f"{fmt_pp(a, lang)} {to} {fmt_pp(b, lang)}"
