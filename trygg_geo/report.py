"""The follow-up report (``rapport.md``, ``rapport.html`` and ``rapport.pdf``).

Politicians ask four things per project: was it carried out, did it raise perceived safety,
how much of the grant was used, and what happened to the surplus. The report opens with a
one-page *bokslut* (money granted, used and left over; projects carried out, ongoing,
cancelled and planned; how many could be measured and why the others could not), then
answers the same per project, per kind and per area, with every effect given as an estimate,
its headline interval, the minimum detectable effect and the n behind it, and in plain Swedish
(or English) when a change could not be measured. The method section names each estimate's
estimator and assumptions, which interval is the headline and why, the Holm-adjusted p-values
and how many significant results chance alone would give.

The report is built once as a list of blocks (headings, paragraphs, tables, figures, and the
first page as one ``front`` block) and rendered to Markdown and to a self-contained HTML file
(figures embedded as PNG data URLs); the PDF is that HTML printed by WeasyPrint (A4, the
first page upright, the rest landscape). Small survey cells (fewer respondents than
``min_n``) are suppressed in published tables.

Block contents are plain text, never markup: names from the register and the area file, the
project name and the indicator are escaped by the renderers (:func:`trygg_geo._escape.md_text`
for Markdown, :func:`trygg_geo._escape.html_text` for HTML), so ``[x](javascript:...)``,
``<script>``, a ``|`` or a leading ``#`` show as written. The only emphasis is
:class:`Strong`, a segment of a paragraph that the renderers wrap themselves.
"""

from __future__ import annotations

import datetime as _dt
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from trygg_geo._atomic import atomic_path
from trygg_geo._i18n import (
    MISSING,
    TEXTS,
    fmt_number,
    fmt_p,
    fmt_percent,
    fmt_pp,
    fmt_sek,
    text,
    texts,
)
from trygg_geo._outputs import REPORT_CSV, REPORT_FIGURE
from trygg_geo._report_render import (
    Block,
    PdfUnavailableError,
    Strong,
    capped,
    flatten_blocks,
    render_html,
    render_markdown,
    render_pdf,
    write_csv,
)
from trygg_geo._version import __version__
from trygg_geo.design import split_by_share
from trygg_geo.effects.evaluation import count_tests
from trygg_geo.effects.selection import event_study_figure
from trygg_geo.interventions import CATALOGUE, UNKNOWN_KIND, get_kind, unknown_kinds
from trygg_geo.io import register_duplicates
from trygg_geo.results import Results, bokslut
from trygg_geo.survey import INDICATORS

# fmt_sek and fmt_pp live in trygg_geo._i18n (one number format for map, report and CLI);
# they stay importable from here.
__all__ = ["PdfUnavailableError", "bokslut", "build_report", "fmt_pp", "fmt_sek",
           "project_table", "write_report"]

#: The register's status codes in the order the bokslut lists them; ``unknown`` is a row with
#: neither a status nor a completion date.
STATUS_ORDER = ("completed", "ongoing", "cancelled", "planned", "unknown")
#: The roles "Per område" shows, in its order.
AREA_ROLES = ("treated", "control")


def _rich(template: str, **values: Any) -> list[str | Strong]:
    """Fill a fixed template whose ``**...**`` parts are bold; values stay plain text.

    The template is split on ``**`` *before* the values go in, so a value containing
    ``**`` or any other markup cannot add emphasis or structure.
    """
    parts = template.split("**")
    return [Strong(p.format(**values)) if i % 2 else p.format(**values)
            for i, p in enumerate(parts) if p]


def _level(row: pd.Series) -> float:
    level = row.get("level")
    return float(level) if level is not None and pd.notna(level) else 0.95


def _num(v: Any) -> float:
    """``v`` as a float; NaN for None/NA."""
    if type(v) is float:  # most cells: the same value without pandas' scalar checks
        return v if v == v else float("nan")
    return float(v) if v is not None and pd.notna(v) else float("nan")


#: The columns of an effect row that :func:`_headline` reads.
_HEADLINE_READ = frozenset({"headline", "perm_ci_low", "perm_ci_high", "p_perm", "ci_low",
                            "ci_high", "p_value"})


def _headline(row: Mapping[str, Any]) -> tuple[str, float, float, float]:
    """The headline interval of an effect row: ("model"|"permutation", low, high, p).

    The ``headline`` column (issue 12) says which; without it, or without a permutation
    interval, the model's interval is the headline.
    """
    if row.get("headline") == "permutation" and pd.notna(row.get("perm_ci_low", np.nan)):
        return ("permutation", _num(row.get("perm_ci_low")), _num(row.get("perm_ci_high")),
                _num(row.get("p_perm")))
    return ("model", _num(row.get("ci_low")), _num(row.get("ci_high")), _num(row.get("p_value")))


def method_label(code: Any, lang: str) -> str:
    """The reader's name of an estimator code (``did_2x2``) from the text table.

    A code without a name in the table is shown as written.

    >>> method_label("an_estimator_without_a_name", "sv")
    'an_estimator_without_a_name'
    """
    key = f"estimator.name.{code}"
    return text(key, lang) if key in TEXTS else str(code)


def indicator_label(indicator: str, lang: str) -> str:
    """The survey indicator as a reader says it; an unknown id as written.

    >>> indicator_label("otrygg_kvall", "sv")
    'Otrygg ute sent en kväll i området'
    """
    labels = INDICATORS.get(indicator)
    return labels[0 if lang == "sv" else 1] if labels else indicator


def plain_effect(row: pd.Series, *, label: str, lang: str) -> str:
    """One sentence on an effect, in plain Swedish or English (headline interval, ``level``)."""
    if pd.isna(row["estimate"]):
        reason = row.get("reason")
        if isinstance(reason, str) and reason:
            return f"{label}: {reason}"
        return text("report.no_estimate", lang, label=label)
    _, lo, hi, _ = _headline(row)
    # Callaway-Sant'Anna also compares with areas treated later (before their treatment), so
    # its count is larger than the kontroll layer's: it says so
    staggered = str(row.get("method", "")) == "callaway_santanna"
    nc_text = text("report.n_comparisons" if staggered else "report.n_controls", lang,
                   nc=int(row["n_control"]))
    args = dict(label=label, lo=fmt_pp(lo, lang), hi=fmt_pp(hi, lang),
                nt=int(row["n_treated"]), nc_text=nc_text,
                est=fmt_pp(row["estimate"], lang), mde=fmt_pp(row["mde"], lang, signed=False),
                pp=fmt_pp(abs(row["estimate"]), lang, signed=False))
    if hi < 0:
        return text("report.sig_down", lang, level=_level(row), **args)
    if lo > 0:
        return text("report.sig_up", lang, level=_level(row), **args)
    return text("report.not_measurable", lang, level=_level(row), **args)


def _bound(v: float, lang: str) -> str:
    """An interval bound in percentage points; an unbounded side is "−∞" or "+∞".

    A permutation interval with very few treated areas may not bound the effect at all.
    """
    if np.isinf(v):
        return "\u2212\u221e" if v < 0 else "+\u221e"
    return fmt_pp(v, lang)


def _ci(r: pd.Series, lang: str) -> str:
    _, lo, hi, _ = _headline(r)
    return text("report.ci_range", lang, lo=_bound(lo, lang), hi=_bound(hi, lang))


def _cost(r: Mapping[str, Any], lang: str) -> str:
    v = r.get("sek_per_point")
    if v is None or pd.isna(v):
        return MISSING
    hi = r.get("sek_per_point_ci_high")
    lo = r.get("sek_per_point_ci_low")
    hi_s = "∞" if hi is not None and not np.isfinite(hi) else fmt_sek(hi, lang)
    return f"{fmt_sek(v, lang)} ({fmt_sek(lo, lang)}–{hi_s})"


# ------------------------------------------------------------------------------ figures


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def event_time_trends(res: Results, kind: str) -> pd.DataFrame:
    """Mean share of a kind's treated areas and of the control areas, by event time.

    Each cohort (the treated areas whose ``cohort``, the first wave after completion, is the
    same) is aligned on its own event time (wave position minus the cohort's; -1 is the wave
    before, 0 the first after); the control areas are taken at the same calendar waves. The
    cohorts are then averaged per event time, weighted by their number of treated areas, so
    that the change of the difference from -1 to 0 is the pooled 2x2 comparison of the
    table. Only published (not suppressed) cells enter.

    Returns
    -------
    pandas.DataFrame
        ``event_time``, ``treated`` and ``control`` (shares, 0-1), ``n_treated`` (areas
        behind the treated mean) and ``n_cohorts``.
    """
    waves = sorted({int(w) for w in res.panel["wave"].unique()})
    pos = {w: i for i, w in enumerate(waves)}
    ind = res.config.survey.indicator
    panel = res.panel[(res.panel["indicator"] == ind) & ~res.panel["suppressed"].astype(bool)]
    share = panel.pivot_table(index="area_id", columns="wave", values="share")
    share.index = share.index.astype(str)
    roles = res.roles
    controls = roles.loc[roles["role"] == "control", "area_id"].astype(str)
    controls = controls[controls.isin(share.index)]
    treated = roles[(roles["role"] == "treated") & (roles["kinds"] == kind)
                    & roles["cohort"].notna()]
    rows = []
    for cohort, grp in treated.groupby("cohort"):
        g = pos.get(int(cohort))
        ids = grp["area_id"].astype(str)
        ids = ids[ids.isin(share.index)]
        if g is None or ids.empty:
            continue
        for w in waves:
            t = share.loc[ids, w].dropna()
            c = share.loc[controls, w].dropna()
            if len(t) and len(c):
                rows.append({"event_time": pos[w] - g, "treated": t.mean(), "control": c.mean(),
                             "w": len(ids), "n": len(t)})
    cols = ["event_time", "treated", "control", "n_treated", "n_cohorts"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    out = df.groupby("event_time").apply(
        lambda d: pd.Series({"treated": np.average(d["treated"], weights=d["w"]),
                             "control": np.average(d["control"], weights=d["w"]),
                             "n_treated": int(d["n"].sum()), "n_cohorts": len(d)}),
        include_groups=False).reset_index()
    return out[cols].astype({"n_treated": int, "n_cohorts": int})


def _trend_figure(res: Results, lang: str) -> bytes | None:
    """Per kind: treated against control areas on event time (see :func:`event_time_trends`)."""
    # a Figure of its own (no pyplot): the caller's backend, e.g. a notebook's, is left alone
    kinds = [k for k in res.effects.loc[res.effects["scope"] == "kind", "kind"]]
    trends = {k: event_time_trends(res, k) for k in kinds}
    trends = {k: v for k, v in trends.items() if len(v)}
    if not trends:
        return None
    n_controls = int((res.roles["role"] == "control").sum())
    fig = Figure(figsize=(3.2 * len(trends), 3.2))
    axes = fig.subplots(1, len(trends), sharey=True, squeeze=False)
    for ax, (kind, tr) in zip(axes[0], trends.items(), strict=True):
        n_t = int((res.roles["role"].eq("treated") & res.roles["kinds"].eq(kind)).sum())
        ax.plot(tr["event_time"], tr["treated"] * 100, marker="o", color=get_kind(kind).colour,
                label=f"{text('report.trend_treated', lang)} (n={n_t})")
        ax.plot(tr["event_time"], tr["control"] * 100, marker="s", color="#555555",
                linestyle="--", label=f"{text('report.trend_controls', lang)} (n={n_controls})")
        ax.axvline(-0.5, color="#999999", linewidth=0.8)
        ax.set_title(get_kind(kind).label(lang), fontsize=10)
        ax.set_xticks(sorted(tr["event_time"].astype(int)))
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    ind = res.config.survey.indicator
    axes[0][0].set_ylabel(f"{indicator_label(ind, lang)} (%)", fontsize=8)
    fig.supxlabel(text("report.trend_xlabel", lang), fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _event_study_figures(res: Results, lang: str) -> list[tuple[str, bytes]]:
    """The event-study figure of each kind, when the run carries an event study.

    ``res.event_study`` (a DataFrame with ``kind``, ``event_time``, ``estimate``, ``ci_low``,
    ``ci_high``) is drawn by :func:`trygg_geo.effects.selection.event_study_figure` where that
    exists; a run without either has none.
    """
    es = getattr(res, "event_study", None)
    if not isinstance(es, pd.DataFrame) or es.empty or "kind" not in es.columns:
        return []
    out = []
    for kind, sub in es.groupby("kind", sort=False):
        fig = event_study_figure(sub, kind=str(kind), lang=lang, level=res.config.analysis.level)
        out.append((get_kind(str(kind)).label(lang), _png(fig)))
    return out


# ------------------------------------------------------------------------------ first page


def _share(part: Any, whole: Any, lang: str) -> str:
    """``part / whole`` as a percentage; an en dash when ``whole`` is 0 or missing."""
    return fmt_percent(part / whole, lang) if whole and pd.notna(whole) else MISSING


def _once(reg: pd.DataFrame) -> pd.DataFrame:
    """The register with each exact duplicate left out (counted once, in its first row)."""
    return reg[reg["duplicate_of"].isna()] if "duplicate_of" in reg.columns else reg


def status_code(row: pd.Series) -> str:
    """The bokslut's status of a register row (one of :data:`STATUS_ORDER`).

    The register's ``status`` where it names one; else ``completed`` with a completion date
    and ``unknown`` without.
    """
    status = row.get("status")
    if isinstance(status, str) and status in STATUS_ORDER:
        return status
    return "completed" if pd.notna(row.get("completed")) else "unknown"


def _status_codes(frame: pd.DataFrame) -> pd.Series:
    """:func:`status_code` of every row, computed column-wise (one pass for any row count)."""
    status = (frame["status"] if "status" in frame.columns
              else pd.Series(None, index=frame.index, dtype=object)).astype(object)
    named = status.map(lambda v: isinstance(v, str) and v in STATUS_ORDER).astype(bool)
    done = (frame["completed"].notna() if "completed" in frame.columns
            else pd.Series(False, index=frame.index))
    fallback = pd.Series(np.where(done, "completed", "unknown"), index=frame.index, dtype=object)
    return status.where(named, fallback)


def _in_surplus(frame: pd.DataFrame) -> pd.Series:
    """The rows whose surplus is final: finished (completed or cancelled), both amounts known."""
    codes = _status_codes(frame) if len(frame) else pd.Series(dtype=object)
    return (codes.isin(["completed", "cancelled"]) & frame["granted_sek"].notna()
            & frame["spent_sek"].notna()).astype(bool)


def _money(frame: pd.DataFrame) -> tuple[float, float, float]:
    """Granted, spent, and the surplus (granted minus spent) of the finished rows."""
    fin = frame[_in_surplus(frame)] if len(frame) else frame
    surplus = float((fin["granted_sek"] - fin["spent_sek"]).sum())
    return (float(frame["granted_sek"].sum()), float(frame["spent_sek"].sum()), surplus)


def _status_table(once: pd.DataFrame, t: dict[str, str], lang: str) -> pd.DataFrame:
    codes = _status_codes(once) if len(once) else pd.Series(dtype=object)
    rows = []
    for code in STATUS_ORDER:
        sub = once[codes == code] if len(once) else once
        if code == "unknown" and sub.empty:
            continue
        g, s, sur = _money(sub)
        label = t["status_unknown"] if code == "unknown" else text(f"status.{code}", lang)
        rows.append((label, len(sub), g, s, sur))
    g, s, sur = _money(once)
    rows.append((t["total"], len(once), g, s, sur))
    return pd.DataFrame({
        t["col_status"]: [r[0] for r in rows],
        t["col_projects"]: [r[1] for r in rows],
        t["col_granted"]: [fmt_sek(r[2], lang) for r in rows],
        t["col_spent"]: [fmt_sek(r[3], lang) for r in rows],
        t["col_surplus"]: [fmt_sek(r[4], lang) for r in rows],
    })


def measured_outcomes(res: Results, lang: str) -> pd.Series:
    """What became of each project (counted once): measured, or why not; counts by outcome.

    Measured first, then each reason (most frequent first), then the rows that could not be
    placed. The counts sum to the register's rows without exact duplicates.
    """
    t = texts("report.", lang, level=0.95)
    once = _once(res.register)
    eff = res.effects[res.effects["scope"] == "investment"]
    if "source_row" not in eff.columns:  # a table without per-investment rows
        eff = eff.assign(source_row=pd.Series(dtype="Int64"))
    eff = eff.drop_duplicates("source_row").set_index("source_row")
    unplaced = set(res.unplaced["source_row"].astype(int))
    has_reason = "reason" in eff.columns
    # each effect row's estimate and reason by source row, read once (not a lookup per row)
    estimate = dict(zip(eff.index.tolist(), eff["estimate"].tolist(), strict=True))
    reason = (dict(zip(eff.index.tolist(), eff["reason"].tolist(), strict=True)) if has_reason
              else {})
    outcome = []
    for src in once["source_row"].astype(int).tolist():
        if src in unplaced:
            outcome.append(t["not_placed"])
        elif src in estimate and pd.notna(estimate[src]):
            outcome.append(t["measured"])
        elif src in estimate and has_reason and pd.notna(reason[src]):
            outcome.append(str(reason[src]))
        else:
            outcome.append(t["reason_missing"])
    counts = pd.Series(outcome, dtype=object).value_counts(sort=True)
    first = [t["measured"]] if t["measured"] in counts.index else []
    last = [t["not_placed"]] if t["not_placed"] in counts.index else []
    middle = [k for k in counts.index if k not in (*first, *last)]
    return counts.reindex([*first, *middle, *last]).astype(int)


def _summary_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    """The first page: money, projects by status, what could be measured, results per kind.

    Block 2 is the money sentence (granted, spent, surplus, each exact duplicate once).
    """
    reg = res.register
    n, n_p, n_u = len(reg), len(res.placed), len(res.unplaced)
    once = _once(reg)
    g, s, surplus = _money(once)
    fin = _in_surplus(once)
    g_fin = float(once.loc[fin, "granted_sek"].sum())
    money = t["money"].format(granted=fmt_sek(g, lang), spent=fmt_sek(s, lang),
                              surplus=fmt_sek(surplus, lang), share=_share(surplus, g_fin, lang))
    counts = t["n_rows"].format(n=fmt_number(n, 0, lang), placed=fmt_number(n_p, 0, lang),
                                unplaced=fmt_number(n_u, 0, lang), share=_share(n_p, n, lang))
    blocks = [Block("h2", t["front"]), Block("p", counts), Block("p", money)]
    left_out = once[~fin]
    if len(left_out):
        blocks.append(Block("p", t["surplus_note"].format(
            n=fmt_number(len(left_out), 0, lang),
            granted=fmt_sek(left_out["granted_sek"].sum(), lang))))
    blocks += [Block("h3", t["front_money"]), Block("table", _status_table(once, t, lang))]
    outcomes = measured_outcomes(res, lang)
    blocks += [Block("h3", t["front_measured"]), Block("p", t["front_measured_intro"]),
               Block("table", pd.DataFrame({t["col_outcome"]: list(outcomes.index),
                                            t["col_projects"]: outcomes.to_list()}))]
    kinds = res.effects[res.effects["scope"] == "kind"]
    if len(kinds):
        blocks.append(Block("p", t["kinds_measured"].format(
            k=int(kinds["estimate"].notna().sum()), n=len(kinds))))
        blocks += [Block("h3", t["front_results"]),
                   Block("list", [plain_effect(r, label=get_kind(r["kind"]).label(lang),
                                               lang=lang) for _, r in kinds.iterrows()])]
    ind = res.config.survey.indicator
    blocks.append(Block("p", _rich(t["indicator"], indicator=indicator_label(ind, lang))))
    return blocks


# ------------------------------------------------------------------------------ tables


def _count(v: object) -> int | str:
    """A count for a table cell; "–" when there is none (a row with only a reason)."""
    return int(v) if v is not None and pd.notna(v) else "\u2013"  # type: ignore[call-overload]


def _kind_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    kinds = res.effects[res.effects["scope"] == "kind"]
    adjusted = "p_adjusted" in kinds.columns
    rows = []
    for _, r in kinds.iterrows():
        row = {
            t["col_kind"]: get_kind(r["kind"]).label(lang),
            t["col_method"]: method_label(r.get("method"), lang) if pd.notna(r["estimate"])
            else MISSING,
            t["col_treated"]: _count(r["n_treated"]),
            t["col_control"]: _count(r["n_control"]), t["col_effect"]: fmt_pp(r["estimate"], lang),
            t["col_ci"]: _ci(r, lang), t["col_p"]: fmt_p(_headline(r)[3], lang),
            t["col_p_perm"]: fmt_p(r.get("p_perm"), lang),
        }
        if adjusted:
            row[t["col_p_adj"]] = fmt_p(r.get("p_adjusted"), lang)
        row.update({t["col_mde"]: fmt_pp(r["mde"], lang, signed=False),
                    t["col_spent"]: fmt_sek(r["spent_sek"], lang), t["col_cost"]: _cost(r, lang)})
        rows.append(row)
    blocks = [Block("h2", t["kinds"]), Block("p", t["kinds_intro"]),
              Block("table", pd.DataFrame(rows)),
              Block("list", [plain_effect(r, label=get_kind(r["kind"]).label(lang), lang=lang)
                             for _, r in kinds.iterrows()])]
    png = _trend_figure(res, lang)
    if png is not None:
        blocks += [Block("h3", t["trends"]),
                   Block("figure", png, caption=t["trends"], file=REPORT_FIGURE),
                   Block("p", t["trend_caption"])]
    for label, es_png in _event_study_figures(res, lang):
        caption = f"{t['event_study']}: {label}"
        blocks += [Block("h3", caption), Block("figure", es_png, caption=caption)]
    return blocks


def _why(e: Mapping[str, Any] | None, unplaced: str) -> str:
    """Why a project has no estimate ("" when it has one)."""
    if e is None:
        return unplaced
    reason = e.get("reason")
    return str(reason) if reason is not None and pd.notna(reason) else ""


def _effect_or_reason(e: Mapping[str, Any] | None, unplaced: str, t: dict[str, str],
                      lang: str) -> str:
    """"−6,4 (−14,4 till 1,6)" with the headline interval, or why there is no estimate."""
    if e is not None and pd.notna(e["estimate"]):
        _, lo, hi, _ = _headline(e)
        return t["effect_ci"].format(est=fmt_pp(e["estimate"], lang), lo=_bound(lo, lang),
                                     hi=_bound(hi, lang))
    return _why(e, unplaced) or t["reason_missing"]


def project_table(res: Results, lang: str) -> pd.DataFrame:
    """Every register row (placed and unplaced) as the report's project table, for the CSV.

    One row per register row, in file order: the register row, id, name, kind, area, whether
    it was carried out, the money (numbers, SEK), the effect (estimate and headline interval
    in percentage points, numbers) with the report's text (the effect or why there is none),
    the cost per point and the duplicate note. Written as :data:`trygg_geo._outputs.REPORT_CSV`
    beside the report, which shows only a part of it for a large register.
    """
    t = texts("report.", lang, level=res.config.analysis.level)
    return _csv_table(_project_rows(res, t, lang), t, getattr(res, "run_id", None))


def _csv_table(rows: pd.DataFrame, t: dict[str, str], run_id: object = None) -> pd.DataFrame:
    """:func:`project_table` from :func:`_project_rows`.

    With a ``run_id``, a last column carries it on every row, so that ``trygg-geo verify``
    can tell this file from another run's (a CSV has no metadata).
    """
    table = pd.DataFrame({
        t["col_row_csv"]: rows["source_row"], t["col_id"]: rows["id"],
        t["col_name"]: rows["name"], t["col_kind"]: rows["kind"], t["col_area"]: rows["area"],
        t["col_done"]: rows["done"], t["col_granted_kr"]: rows["granted"],
        t["col_spent_kr"]: rows["spent"], t["col_surplus_kr"]: rows["surplus"],
        # an unbounded interval (a permutation test that cannot reject at any effect) is an
        # empty cell, not "-inf" in Excel; the text column says "−∞ till +∞"
        t["col_estimate_pp"]: _finite(rows["estimate"]) * 100,
        t["col_ci_low_pp"]: _finite(rows["lo"]) * 100,
        t["col_ci_high_pp"]: _finite(rows["hi"]) * 100,
        t["col_effect_or_reason"]: rows["effect_text"], t["col_cost_ci"]: rows["cost_text"],
        t["col_duplicate"]: rows["duplicate"],
    })
    if run_id is not None and str(run_id):
        table[t["col_run_id"]] = str(run_id)
    return table


def _finite(values: pd.Series) -> pd.Series:
    """The numbers, with infinite ones as missing (for the CSV)."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    return v.where(np.isfinite(v))


def _duplicate_notes(res: Results, t: dict[str, str]) -> dict[int, str]:
    """source_row -> the duplicate note the report's duplicate table gives it."""
    dups = register_duplicates(res.register)
    return {int(r): (t["dup_exact"].format(row=int(d)) if f == "duplicate"
                     else t["dup_id"].format(rows=_short_rows(o)))
            for r, f, d, o in zip(dups["source_row"], dups["flag"], dups["duplicate_of"],
                                  dups["same_id_rows"], strict=True)}


def _short_rows(rows: object, limit: int = 20) -> str:
    """A comma-joined list of rows cut after ``limit`` ("2, 3, … (+98)")."""
    parts = [x.strip() for x in str(rows).split(",") if x.strip()]
    if len(parts) <= limit:
        return ", ".join(parts)
    return ", ".join(parts[:limit]) + f", \u2026 (+{len(parts) - limit})"


#: The register columns :func:`_project_rows` reads (with :func:`_done`).
_REGISTER_READ = frozenset({"source_row", "investment_id", "name", "kind", "granted_sek",
                            "spent_sek", "completed", "status"})
#: The effect columns :func:`_project_rows` reads (with :func:`_headline`, :func:`_cost` and
#: :func:`_effect_or_reason`).
_EFFECT_READ = frozenset({"source_row", "estimate", "reason", "headline", "perm_ci_low",
                          "perm_ci_high", "p_perm", "ci_low", "ci_high", "p_value",
                          "sek_per_point", "sek_per_point_ci_low", "sek_per_point_ci_high"})


def _project_rows(res: Results, t: dict[str, str], lang: str) -> pd.DataFrame:
    """The project table's values (raw and as text), one row per register row, in file order."""
    # only the columns read below are turned into Python values (one object per cell)
    reg = res.register[[c for c in res.register.columns if c in _REGISTER_READ]]
    eff = res.effects[res.effects["scope"] == "investment"]
    eff = eff[[c for c in eff.columns if c in _EFFECT_READ]]
    eff_inv = {int(k): v for k, v in
               eff.drop_duplicates("source_row").set_index("source_row").to_dict("index").items()}
    placed_area = (dict(zip(res.placed["source_row"].astype(int), res.placed["area_id"],
                            strict=True)) if len(res.placed) else {})
    area_name = res.areas.set_index("area_id")["name"].to_dict()
    un = res.unplaced
    unplaced_reason = (dict(zip(un["source_row"].astype(int), un["reason_text"].astype(str),
                                strict=True))
                       if len(un) and "reason_text" in un.columns else {})
    dup = _duplicate_notes(res, t)
    out: dict[str, list[Any]] = {k: [] for k in (
        "source_row", "id", "name", "kind", "area", "done", "granted", "spent", "surplus",
        "surplus_text", "estimate", "lo", "hi", "effect_text", "cost_text", "duplicate")}
    for r in reg.to_dict("records"):
        src = int(r["source_row"])
        e = eff_inv.get(src)
        a = placed_area.get(src)
        granted, spent = _num(r.get("granted_sek")), _num(r.get("spent_sek"))
        surplus = granted - spent
        est, lo, hi = np.nan, np.nan, np.nan
        if e is not None and pd.notna(e.get("estimate")):
            est = _num(e["estimate"])
            _, lo, hi, _ = _headline(e)
        out["source_row"].append(src)
        out["id"].append(str(r["investment_id"]))
        out["name"].append(str(r["name"]) if pd.notna(r["name"]) else "")
        out["kind"].append(get_kind(r["kind"]).label(lang))
        out["area"].append(area_name.get(a, MISSING) if a is not None and pd.notna(a)
                           else MISSING)
        out["done"].append(_done(r, t, lang))
        out["granted"].append(granted)
        out["spent"].append(spent)
        out["surplus"].append(surplus)
        out["surplus_text"].append(f"{fmt_sek(surplus, lang)} ({_share(surplus, granted, lang)})"
                                   if pd.notna(surplus) and granted else MISSING)
        out["estimate"].append(est)
        out["lo"].append(lo)
        out["hi"].append(hi)
        # every project without an estimate says why: its effect row's reason, or why the row
        # was not placed
        out["effect_text"].append(_effect_or_reason(e, unplaced_reason.get(src, ""), t, lang))
        out["cost_text"].append(_cost(e, lang) if e is not None else MISSING)
        out["duplicate"].append(dup.get(src, ""))
    return pd.DataFrame(out)


def _per_area(groups: pd.Series, per_area: int, max_rows: int) -> tuple[np.ndarray, int]:
    """Which rows to show: at most ``k`` per group, ``k <= per_area`` so that all fit ``max_rows``.

    Returns the mask (in the rows' order) and ``k``.

    >>> mask, k = _per_area(pd.Series(["a"] * 5 + ["b"] * 2), per_area=3, max_rows=4)
    >>> mask.tolist(), k
    ([True, True, False, False, False, True, True], 2)
    """
    rank = groups.groupby(groups, sort=False).cumcount().to_numpy()
    sizes = groups.value_counts().to_numpy()
    k = per_area
    while k > 1 and int(np.minimum(sizes, k).sum()) > max_rows:
        k -= 1
    mask = rank < k
    if mask.sum() > max_rows:  # more groups than max_rows: the first rows of the first groups
        mask &= np.cumsum(mask) <= max_rows
    return mask, k


def _project_blocks(res: Results, t: dict[str, str], lang: str,
                    rows: pd.DataFrame | None = None) -> list[Block]:
    """One row per register row (placed and unplaced): done, money, effect or why none, cost.

    For a large register, at most ``[output] report_rows_per_area`` rows per area (fewer when
    all would pass ``report_max_rows``); the paragraph under the table says how many are left
    out and where all of them are (``projekt.csv``, the GeoPackage).
    """
    o = res.config.output
    rows = _project_rows(res, t, lang) if rows is None else rows
    mask, k = _per_area(rows["area"], o.report_rows_per_area, o.report_max_rows)
    shown = rows[mask]
    table = pd.DataFrame({
        t["col_id"]: shown["id"], t["col_name"]: shown["name"], t["col_kind"]: shown["kind"],
        t["col_area"]: shown["area"], t["col_done"]: shown["done"],
        t["col_granted"]: [fmt_sek(v, lang) for v in shown["granted"]],
        t["col_spent"]: [fmt_sek(v, lang) for v in shown["spent"]],
        t["col_surplus"]: shown["surplus_text"],
        t["col_effect_or_reason"]: shown["effect_text"], t["col_cost_ci"]: shown["cost_text"],
    })
    blocks = [Block("h2", t["projects"]), Block("p", t["projects_intro"]), Block("table", table)]
    lo, hi = pd.to_numeric(rows["lo"], errors="coerce"), pd.to_numeric(rows["hi"], errors="coerce")
    if bool((np.isinf(lo) | np.isinf(hi)).any()):  # say what an unbounded interval means
        blocks.append(Block("p", t["unbounded_interval"]))
    if len(shown) < len(rows):
        blocks.append(Block("p", t["projects_shown"].format(
            shown=fmt_number(len(shown), 0, lang), n=fmt_number(len(rows), 0, lang),
            k=fmt_number(k, 0, lang), csv=REPORT_CSV, gpkg=o.geopackage)))
    return blocks


def _capped_table(frame: pd.DataFrame, res: Results, t: dict[str, str], lang: str,
                  where: str) -> list[Block]:
    """``frame`` cut to ``[output] report_max_rows`` rows, with a line saying where all are."""
    head, more = capped(frame, res.config.output.report_max_rows)
    blocks = [Block("table", head)]
    if more:
        blocks.append(Block("p", t["rows_shown"].format(
            shown=fmt_number(len(head), 0, lang), n=fmt_number(len(frame), 0, lang),
            where=where)))
    return blocks


def analysis_areas(res: Results) -> pd.DataFrame:
    """The areas in the analysis (treated, then control), each role ordered by its change.

    The change is the published one (last two waves); within a role the largest fall comes
    first and areas whose change is suppressed or not measured come last, in file order, so
    that the order gives nothing away about a suppressed cell.

    Returns
    -------
    pandas.DataFrame
        The rows of ``res.areas`` with ``role`` added, in the report's order.
    """
    roles = res.roles[["area_id", "role"]].copy()
    roles["area_id"] = roles["area_id"].astype(str)
    areas = pd.DataFrame(res.areas.drop(columns="geometry", errors="ignore")).copy()
    areas["area_id"] = areas["area_id"].astype(str)
    areas["_file_order"] = np.arange(len(areas))
    merged = areas.merge(roles, on="area_id", how="inner")
    merged = merged[merged["role"].isin(AREA_ROLES)].copy()
    hidden = merged["suppressed"].astype("boolean").fillna(True).astype(bool) \
        if "suppressed" in merged.columns else pd.Series(False, index=merged.index)
    change = pd.to_numeric(merged.get("change"), errors="coerce")
    merged["_sort_change"] = change.where(~hidden)
    merged["_role_order"] = merged["role"].map({r: i for i, r in enumerate(AREA_ROLES)})
    merged = merged.sort_values(["_role_order", "_sort_change", "_file_order"],
                                na_position="last", kind="stable")
    return merged.drop(columns=["_file_order", "_sort_change", "_role_order"]) \
        .reset_index(drop=True)


def _per_area_money(res: Results) -> tuple[pd.Series, pd.Series]:
    """Investments and money spent per area, for the area table.

    Through the investment -> area relation (``res.relation``): an investment counts in
    every area it reaches with at least the design's minimum share, and its money is split
    by share (:func:`trygg_geo.design.split_by_share`). A row that repeats an earlier row
    exactly counts once. Results without the relation (older tables) fall back to each
    investment's main area.
    """
    placed = res.placed
    if not len(placed):
        return pd.Series(dtype=int), pd.Series(dtype=float)
    keep = (placed["duplicate_of"].isna().to_numpy() if "duplicate_of" in placed.columns
            else np.ones(len(placed), dtype=bool))
    spent = pd.to_numeric(placed["spent_sek"], errors="coerce").to_numpy(dtype=float)
    links = res.relation
    if links is not None and len(links) and {"row", "area_id", "share"} <= set(links.columns):
        money = split_by_share(links, spent, rows=keep)
        reach = links[keep[links["row"].to_numpy()]]
        if "counted" in reach.columns:
            reach = reach[reach["counted"].astype(bool)]
        reach = reach.drop_duplicates(["row", "area_id"])
        n_inv = reach.groupby(reach["area_id"].astype(str)).size()
        return n_inv, money
    own = placed[keep]
    n_inv = own.groupby(own["area_id"].astype(str)).size()
    money = own.groupby(own["area_id"].astype(str))["spent_sek"].sum()
    return n_inv, money


def _area_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    cfg = res.config
    waves = list(cfg.analysis.waves) or sorted(res.panel["wave"].unique())
    prev, last = (waves[-2] if len(waves) > 1 else waves[-1]), waves[-1]
    ind = cfg.survey.indicator
    n_inv, spent_area = _per_area_money(res)
    shown = analysis_areas(res)
    arow = []
    for _, r in shown.iterrows():
        supp = bool(r.get(f"supp_{last}", True))
        parent = r.get("parent", "")
        arow.append({
            t["col_area"]: r["name"], t["col_role"]: t[f"role_{r['role']}"],
            t["col_parent"]: parent if pd.notna(parent) else "",
            t["col_inv"]: int(n_inv.get(r["area_id"], 0)),
            t["col_spent"]: fmt_sek(spent_area.get(r["area_id"], np.nan), lang),
            t["col_share_wave"].format(wave=last): (
                t["suppressed"] if supp else fmt_pp(r.get(f"{ind}_{last}"), lang, signed=False)),
            t["col_n"]: t["suppressed"] if supp else _count(r.get(f"n_{last}")),
            t["col_change_waves"].format(first=prev, last=last): (
                t["suppressed"] if bool(r.get("suppressed", True))
                else fmt_pp(r.get("change"), lang)),
        })
    intro = t["areas_intro"].format(n=fmt_number(len(shown), 0, lang),
                                    other=fmt_number(len(res.areas) - len(shown), 0, lang))
    return [Block("h2", t["areas"]), Block("p", intro), Block("table", pd.DataFrame(arow))]


def _bokslut_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    bk = bokslut(res)
    return [Block("h2", t["bokslut"]), Block("table", pd.DataFrame({
        t["col_year"]: bk["year"].astype("string").fillna(MISSING),
        t["col_kind"]: [get_kind(k).label(lang) for k in bk["kind"]],
        t["col_n_inv"]: bk["n"], t["col_granted"]: [fmt_sek(v, lang) for v in bk["granted_sek"]],
        t["col_spent"]: [fmt_sek(v, lang) for v in bk["spent_sek"]],
        t["col_placed"]: [fmt_percent(v, lang) for v in bk["placed_share"]],
        t["col_effect"]: [fmt_pp(v, lang) for v in bk["effect"]],
    }))]


def _unplaced_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    un = res.unplaced
    if len(un):
        reason = un["reason_text"] if "reason_text" in un.columns else un["reason"]
        table = pd.DataFrame({
            t["col_row"]: un["source_row"].astype(int),
            t["col_id"]: un["investment_id"].astype(str),
            t["col_text"]: un["address"].astype("string").fillna(""),
            t["col_reason"]: reason.astype(str),
        })
    else:
        table = pd.DataFrame({t[c]: [] for c in ("col_row", "col_id", "col_text", "col_reason")})
    where = t["where_unplaced"].format(csv=REPORT_CSV, gpkg=res.config.output.geopackage)
    return [Block("h2", t["unplaced"]), *_capped_table(table, res, t, lang, where)]


def _survey_join_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    """How the survey's names joined the areas: names that matched nothing, areas without rows."""
    join = res.survey_join
    if join is None:
        return []
    un, no = join.unmatched_names, join.areas_without_rows
    blocks = [Block("h2", t["survey_join"]),
              Block("p", t["survey_join_intro"].format(
                  matched=fmt_number(join.n_matched, 0, lang), n=fmt_number(join.n_rows, 0, lang),
                  share=fmt_percent(join.share_rows_matched, lang))),
              Block("h3", t["survey_unmatched"])]
    if len(un):
        blocks.append(Block("table", pd.DataFrame({
            t["col_survey_name"]: un["name"].astype(str),
            t["col_rows"]: un["n_rows"].astype(int),
            t["col_first_row"]: un["first_row"].astype(int),
            t["col_closest"]: un["closest"].astype("string").fillna(MISSING),
        })))
    else:
        blocks.append(Block("p", t["survey_none"]))
    blocks.append(Block("h3", t["survey_no_rows"]))
    blocks.append(Block("list", no["name"].astype(str).tolist()) if len(no)
                  else Block("p", t["survey_none"]))
    return blocks


def _done(r: Mapping[str, Any], t: dict[str, str], lang: str) -> str:
    """"ja (2021-06-30)", "nej", or the register's status when it is not completed."""
    date = f" ({r['completed']:%Y-%m-%d})" if pd.notna(r["completed"]) else ""
    status = r.get("status")
    if isinstance(status, str) and status in ("ongoing", "cancelled", "planned"):
        return text(f"status.{status}", lang) + date
    return f"{t['yes']}{date}" if date else t["no"]


def _register_check_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    """Unknown kind texts with their projekt.toml line, and the register's duplicate rows."""
    blocks: list[Block] = []
    unknown = unknown_kinds(res.register)
    if len(unknown):
        ids = ", ".join([*CATALOGUE, UNKNOWN_KIND.id])
        blocks += [
            Block("h2", t["unknown_kinds"]),
            Block("p", t["unknown_kinds_intro"].format(n=len(unknown), ids=ids)),
            *_capped_table(pd.DataFrame({
                t["col_kind_text"]: unknown["kind_raw"], t["col_n_inv"]: unknown["n"],
                t["col_rows"]: [_short_rows(r) for r in unknown["source_rows"]],
                t["col_toml"]: unknown["toml_line"],
            }), res, t, lang, REPORT_CSV),
        ]
    dups = register_duplicates(res.register)
    if len(dups):
        notes = _duplicate_notes(res, t)
        blocks += [
            Block("h2", t["duplicates"]),
            Block("p", t["duplicates_intro"]),
            *_capped_table(pd.DataFrame({
                t["col_row"]: dups["source_row"].astype(int), t["col_id"]: dups["investment_id"],
                t["col_duplicate"]: [notes[int(r)] for r in dups["source_row"]],
            }), res, t, lang, t["where_duplicates"].format(csv=REPORT_CSV)),
        ]
    return blocks


# ------------------------------------------------------------------------------ method


def _significant(rows: pd.DataFrame, alpha: float) -> pd.Series:
    """Significant by the table's ``significant``, else by ``p_adjusted``, else headline p."""
    if "significant" in rows.columns:
        return rows["significant"].astype("boolean").fillna(False).astype(bool)
    if "p_adjusted" in rows.columns:
        return pd.to_numeric(rows["p_adjusted"], errors="coerce").lt(alpha)
    return pd.Series([_headline(r)[3] < alpha for r in rows.to_dict("records")],
                     index=rows.index,
                     dtype=bool)


def _estimate_table(est: pd.DataFrame, sig: pd.Series, res: Results, t: dict[str, str],
                    lang: str) -> pd.DataFrame:
    names = res.register.drop_duplicates("source_row").set_index("source_row")["name"]
    rows = []
    for i, r in est.iterrows():
        which, lo, hi, p = _headline(r)
        if r["scope"] == "kind":
            what = get_kind(r["kind"]).label(lang)
        else:
            name = names.get(r["source_row"], "")
            what = f"{r['investment_id']} {name if pd.notna(name) else ''}".strip()
        row = {t["col_scope"]: t[f"scope_{r['scope']}"], t["col_what"]: what,
               t["col_method"]: method_label(r.get("method"), lang),
               t["col_effect"]: fmt_pp(r["estimate"], lang),
               t["col_ci"]: text("report.ci_range", lang, lo=_bound(lo, lang),
                                 hi=_bound(hi, lang)),
               t["col_headline"]: t[f"headline_kind_{which}"], t["col_p"]: fmt_p(p, lang)}
        if "p_adjusted" in est.columns:
            row[t["col_p_adj"]] = fmt_p(r.get("p_adjusted"), lang)
        row[t["col_mde"]] = fmt_pp(r["mde"], lang, signed=False)
        row[t["col_significant"]] = t["yes"] if sig[i] else t["no"]
        rows.append(row)
    return pd.DataFrame(rows)


def _method_blocks(res: Results, t: dict[str, str], lang: str) -> list[Block]:
    """Estimators and their assumptions, the headline interval and why, multiple testing."""
    cfg = res.config
    level = cfg.analysis.level
    eff = res.effects
    est = eff[eff["scope"].isin(["kind", "investment"]) & eff["estimate"].notna()]
    methods = list(dict.fromkeys(est["method"].dropna().astype(str))) \
        if "method" in est.columns else []
    method_text = texts("report.method_text.", lang)
    if methods and "did_2x2" not in methods:
        method_text.pop("3", None)  # the 2x2 description; the estimators below replace it
    blocks = [Block("h2", t["method"]),
              Block("list", [m.format(min_n=cfg.survey.min_n) for m in method_text.values()])]
    if methods:
        items = []
        for m in methods:
            sub = est[est["method"] == m]
            line = t["estimator_rows"].format(
                name=method_label(m, lang), n_kind=int((sub["scope"] == "kind").sum()),
                n_inv=int((sub["scope"] == "investment").sum()))
            key = f"estimator.assumptions.{m}"
            items.append(f"{line} {text(key, lang)}" if key in TEXTS else line)
        blocks += [Block("h3", t["estimators"]), Block("list", items)]
    # only the columns _headline reads become Python values (one object per cell)
    est_rows = est[[c for c in est.columns if c in _HEADLINE_READ]].to_dict("records")
    heads = pd.Series([_headline(r)[0] for r in est_rows], dtype=object)
    blocks.append(Block("h3", t["headline"]))
    for which in ("model", "permutation"):
        n = int((heads == which).sum())
        if n:
            blocks.append(Block("p", t[f"headline_{which}"].format(n=fmt_number(n, 0, lang))))
    if "headline_reason" in est.columns:  # the effect table's own reason per estimate
        why = est["headline_reason"].dropna().astype(str).value_counts(sort=False)
        if len(why):
            blocks.append(Block("list", [f"{r} ({fmt_number(k, 0, lang)})"
                                         for r, k in why.items()]))
    tested = est[[pd.notna(_headline(r)[3]) for r in est_rows]]
    if len(tested):
        sig = _significant(tested, 1 - level)
        adjusted = "p_adjusted" in tested.columns and tested["p_adjusted"].notna().any()
        n_tests = count_tests(tested)  # investments sharing a contrast are one test
        if n_tests < len(tested):
            blocks.append(Block("p", t["shared_tests"].format(
                rows=fmt_number(len(tested), 0, lang), n=fmt_number(n_tests, 0, lang))))
        blocks.append(Block("p", t["multiple_holm" if adjusted else "multiple_raw"].format(
            n=n_tests, k=count_tests(tested[sig.to_numpy(dtype=bool)]),
            expected=fmt_number((1 - level) * n_tests, 1, lang),
            level=fmt_number(level, 2, lang))))
        # every kind row, then the investment rows up to [output] report_max_rows
        order = np.argsort((tested["scope"] != "kind").to_numpy(), kind="stable")
        shown, _ = capped(tested.iloc[order], res.config.output.report_max_rows)
        table = _estimate_table(shown, sig.loc[shown.index], res, t, lang)
        blocks += [Block("h3", t["estimates"]), Block("table", table)]
        if len(shown) < len(tested):
            blocks.append(Block("p", t["rows_shown"].format(
                shown=fmt_number(len(shown), 0, lang), n=fmt_number(len(tested), 0, lang),
                where=t["where_estimates"].format(gpkg=res.config.output.geopackage))))
    return blocks


def build_report(res: Results) -> list[Block]:
    """The report as blocks (see :func:`write_report`); the first is the title."""
    return _build_report(res, None)


def _build_report(res: Results, projects: pd.DataFrame | None) -> list[Block]:
    """:func:`build_report`, with the project rows (:func:`_project_rows`) when known."""
    cfg = res.config
    lang = cfg.project.language
    t = texts("report.", lang, level=cfg.analysis.level)
    front: list[Block] = [Block("h1", cfg.project.name or t["title"])]
    front.append(Block("p", t["generated"].format(date=_dt.date.today().isoformat(),
                                                  version=__version__)))
    run_id = getattr(res, "run_id", None)
    if run_id is not None and not pd.isna(run_id) and str(run_id):
        front.append(Block("p", t["run_id"].format(run_id=run_id)))
    front += _summary_blocks(res, t, lang)
    blocks = [Block("front", front)]
    notes = [str(n) for n in (getattr(res, "notes", None) or [])]
    if notes:  # e.g. deviations from a pre-registered evaluation plan ([plan] path)
        limit = cfg.output.report_max_rows
        more = [t["notes_more"].format(n=fmt_number(len(notes) - limit, 0, lang))] \
            if len(notes) > limit else []
        blocks += [Block("h2", t["run_notes"]), Block("list", notes[:limit] + more)]
    blocks += _project_blocks(res, t, lang, projects)
    blocks += _kind_blocks(res, t, lang)
    blocks += _area_blocks(res, t, lang)
    blocks += _bokslut_blocks(res, t, lang)
    blocks += _unplaced_blocks(res, t, lang)
    blocks += _register_check_blocks(res, t, lang)
    blocks += _survey_join_blocks(res, t, lang)
    blocks += _method_blocks(res, t, lang)
    return blocks


def write_report(res: Results, path: str | Path) -> Path:
    """Write ``rapport.md``, ``rapport.html``, ``rapport.pdf``, the trend figure and the CSV.

    ``rapport.md`` goes to ``path``; the HTML (self-contained) and the PDF (printed from the
    same HTML) beside it with the suffixes ``.html`` and ``.pdf``; the trend figure is
    ``rapport_trender.png`` beside them (the Markdown links it), and every project
    (:func:`project_table`) is ``projekt.csv`` (UTF-8 with BOM, ``;``, decimal comma), each
    written atomically. The report's long tables show at most ``[output]
    report_rows_per_area`` projects per area and ``report_max_rows`` rows, and say where the
    rest are. Returns the Markdown path.
    """
    path = Path(path)
    lang = res.config.project.language
    t = texts("report.", lang, level=res.config.analysis.level)
    projects = _project_rows(res, t, lang)  # once, for the CSV and the report's table
    write_csv(_csv_table(projects, t, getattr(res, "run_id", None)), path.with_name(REPORT_CSV))
    blocks = _build_report(res, projects)
    for b in flatten_blocks(blocks):
        if b.kind == "figure" and b.file:
            with atomic_path(path.with_name(b.file)) as tmp:
                tmp.write_bytes(b.content)
    with atomic_path(path) as tmp:
        tmp.write_text(render_markdown(blocks), encoding="utf-8")
    run_id = getattr(res, "run_id", None)
    page = render_html(blocks, lang=res.config.project.language,
                       run_id=str(run_id) if run_id is not None and str(run_id) else None)
    with atomic_path(path.with_suffix(".html")) as tmp:
        tmp.write_text(page, encoding="utf-8")
    with atomic_path(path.with_suffix(".pdf")) as tmp:
        render_pdf(page, tmp)
    return path
