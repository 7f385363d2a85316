"""The follow-up report (``rapport.md`` and ``rapport.html``).

Politicians ask four things per project: was it carried out, did it raise perceived safety,
how much of the grant was used, and what happened to the surplus. The report answers
them per project, per kind and per area, with every effect given as an estimate, a
confidence interval, the minimum detectable effect and the n behind it, and in plain
Swedish (or English) when a change could not be measured.

The report is built once as a list of blocks (headings, paragraphs, tables, figures) and
rendered to Markdown and to a self-contained HTML file (figures embedded as PNG data URLs).
Small survey cells (fewer respondents than ``min_n``) are suppressed in published tables.

Block contents are plain text, never markup: names from the register and the area file, the
project name and the indicator are escaped by the renderers (:func:`trygg_geo._escape.md_text`
for Markdown, :func:`trygg_geo._escape.html_text` for HTML), so ``[x](javascript:...)``,
``<script>``, a ``|`` or a leading ``#`` show as written. The only emphasis is
:class:`Strong`, a segment of a paragraph that the renderers wrap themselves.
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trygg_geo._atomic import atomic_path
from trygg_geo._escape import html_text, md_text
from trygg_geo._i18n import with_level
from trygg_geo.interventions import get_kind
from trygg_geo.results import Results, bokslut

__all__ = ["bokslut", "build_report", "fmt_pp", "fmt_sek", "write_report"]


def fmt_sek(v: Any, *, lang: str = "sv") -> str:
    r"""Swedish money format: ``1 250 000 kr``; an en dash when missing.

    The thousands are separated by a non-breaking space (``\xa0``), so a sum never wraps.

    >>> fmt_sek(1250000)
    '1\xa0250\xa0000 kr'
    >>> fmt_sek(1250000, lang="en")
    'SEK 1,250,000'
    >>> fmt_sek(None)
    '–'
    """
    if v is None or pd.isna(v) or not np.isfinite(float(v)):
        return "–"
    s = f"{float(v):,.0f}".replace(",", "\u00a0" if lang == "sv" else ",")
    return f"{s} kr" if lang == "sv" else f"SEK {s}"


def fmt_pp(v: Any, *, lang: str = "sv", signed: bool = True) -> str:
    """A proportion as percentage points with one decimal (decimal comma in Swedish).

    >>> fmt_pp(-0.0712)
    '−7,1'
    """
    if v is None or pd.isna(v) or not np.isfinite(float(v)):
        return "–"
    x = float(v) * 100
    s = f"{abs(x):.1f}"
    if lang == "sv":
        s = s.replace(".", ",")
    sign = ("−" if x < 0 else "+") if signed and round(abs(x), 1) > 0 else ""
    return sign + s


def _fmt_p(p: Any, lang: str) -> str:
    if p is None or pd.isna(p):
        return "–"
    s = "<0.001" if p < 0.001 else f"{p:.3f}"
    return s.replace(".", ",") if lang == "sv" else s


@dataclass
class Block:
    kind: str  # "h1" | "h2" | "h3" | "p" | "table" | "figure" | "list"
    content: Any  # plain text (a "p" may be a list of str and Strong), a DataFrame or PNG bytes
    caption: str = ""


@dataclass(frozen=True)
class Strong:
    """Bold text inside a paragraph (the text itself is plain, escaped like the rest)."""

    text: str


def _rich(template: str, **values: Any) -> list[str | Strong]:
    """Fill a fixed template whose ``**...**`` parts are bold; values stay plain text.

    The template is split on ``**`` *before* the values go in, so a value containing
    ``**`` or any other markup cannot add emphasis or structure.
    """
    parts = template.split("**")
    return [Strong(p.format(**values)) if i % 2 else p.format(**values) for i, p in enumerate(parts) if p]


T = {
    "sv": {
        "title": "Uppföljning av trygghetsinvesteringar",
        "generated": "Skapad {date} med trygg_geo {version}.",
        "run_id": "Körning {run_id}.",
        "summary": "Sammanfattning",
        "n_rows": "Registret har {n} rader. {placed} placerades på kartan ({share}), {unplaced} kunde inte placeras.",
        "money": "Beviljat totalt {granted}, nyttjat {spent}; överskott {surplus} ({share} av det beviljade).",
        "indicator": "Effekten mäts som förändringen i andelen som svarar ja på indikatorn "
                     "**{indicator}** i trygghetsmätningen, jämfört med kontrollområden som inte fått någon investering.",
        "kinds": "Effekter per åtgärdstyp",
        "kinds_intro": "Negativa tal betyder att andelen minskade mer (eller ökade mindre) än i kontrollområdena. "
                       "KI = [[level]] konfidensintervall. MDE = minsta effekt som designen kunde upptäcka (80 % styrka). "
                       "p (permutationstest) jämför med alla sätt att välja lika många behandlade bland områdena "
                       "(placebo i rummet) och bygger inte på antaganden om variansen.",
        "projects": "Per projekt",
        "projects_intro": "Effekten per projekt är områdets effekt: projekt i samma område delar den, och "
                          "kostnaden per procentenhet räknas på allt som nyttjats i området.",
        "areas": "Per område",
        "bokslut": "Årligt bokslut",
        "trends": "Trender: behandlade mot kontrollområden",
        "unplaced": "Rader som inte kunde placeras",
        "method": "Metod och förbehåll",
        "col_kind": "Åtgärd", "col_treated": "Behandlade områden", "col_control": "Kontrollområden",
        "col_effect": "Effekt (procentenheter)", "col_ci": "[[level]] KI", "col_p": "p", "col_p_perm": "p (permutationstest)", "col_mde": "MDE",
        "col_cost": "Kr per procentenhet", "col_spent": "Nyttjat", "col_granted": "Beviljat",
        "col_surplus": "Överskott", "col_id": "Projekt-ID", "col_name": "Namn", "col_area": "Område",
        "col_done": "Genomfört", "col_parent": "Stadsdelsområde", "col_inv": "Investeringar",
        "col_last": "Senaste våg", "col_change": "Förändring", "col_row": "Rad", "col_text": "Text i registret",
        "col_reason": "Orsak", "col_year": "År", "col_n_inv": "Antal", "col_placed": "Andel placerade",
        "col_n": "n (svar)",
        "yes": "ja", "no": "nej", "suppressed": "för få svar",
        "sig_down": "{label}: andelen minskade med {pp} procentenheter mer än i kontrollområdena "
                    "([[level]] KI {lo} till {hi}; {nt} behandlade och {nc} kontrollområden).",
        "sig_up": "{label}: andelen ökade med {pp} procentenheter mer än i kontrollområdena "
                  "([[level]] KI {lo} till {hi}; {nt} behandlade och {nc} kontrollområden).",
        "not_measurable": "{label}: ingen mätbar förändring. Skattningen är {est} procentenheter "
                          "([[level]] KI {lo} till {hi}). Med {nt} behandlade och {nc} kontrollområden kunde "
                          "designen bara upptäcka förändringar större än {mde} procentenheter.",
        "no_estimate": "{label}: ingen effekt kunde skattas (inga mätningar före och efter).",
        "method_text": [
            "Investeringarna geokodades mot en lokal adressförteckning (OSM). Varje rad redovisas: placerad med metod och poäng, eller ej placerad med orsak.",
            "Ett område räknas som behandlat när en investering i området färdigställdes mellan två mätningar; kohorten är den första mätningen efter färdigställandet. Kontrollområden har ingen färdigställd investering under perioden. Områden där en investering inte kunde placeras används inte som kontroller.",
            "Effekten skattas som en differens-i-differenser (2×2) per kohort: förändringen i de behandlade områdena mellan mätningen före och efter, minus samma förändring i kontrollområdena; kohorterna vägs samman efter antal behandlade områden. Standardfelen bygger på urvalsvariansen i varje cell (binomial). Variation mellan områden och år utöver urvalsfelet fångas inte, så intervallen kan vara för smala i verkliga data.",
            "Celler med färre än {min_n} svar redovisas inte (visas som ”för få svar”) men ingår i analysen.",
            "Kostnad per procentenhet = nyttjat belopp / effekten i procentenheter. Intervallet följer effektens konfidensintervall; når intervallet noll saknas en övre gräns.",
        ],
    },
    "en": {
        "title": "Follow-up of safety investments",
        "generated": "Made {date} with trygg_geo {version}.",
        "run_id": "Run {run_id}.",
        "summary": "Summary",
        "n_rows": "The register has {n} rows. {placed} were placed on the map ({share}), {unplaced} could not be placed.",
        "money": "Granted in total {granted}, spent {spent}; surplus {surplus} ({share} of the grant).",
        "indicator": "The effect is the change in the share answering yes to the survey indicator "
                     "**{indicator}**, compared with control areas that got no investment.",
        "kinds": "Effects per kind",
        "kinds_intro": "Negative numbers mean that the share fell more (or rose less) than in the control areas. "
                       "CI = [[level]] confidence interval. MDE = the smallest effect the design could detect (80% power). "
                       "p (permutation) compares with every way of choosing as many treated areas "
                       "(placebo in space) and makes no variance assumption.",
        "projects": "Per project",
        "projects_intro": "The effect per project is its area's effect: projects in one area share it, and "
                          "the cost per point uses everything spent in the area.",
        "areas": "Per area",
        "bokslut": "Yearly key figures",
        "trends": "Trends: treated versus control areas",
        "unplaced": "Rows that could not be placed",
        "method": "Method and caveats",
        "col_kind": "Kind", "col_treated": "Treated areas", "col_control": "Control areas",
        "col_effect": "Effect (percentage points)", "col_ci": "[[level]] CI", "col_p": "p", "col_p_perm": "p (permutation)", "col_mde": "MDE",
        "col_cost": "SEK per point", "col_spent": "Spent", "col_granted": "Granted", "col_surplus": "Surplus",
        "col_id": "Project id", "col_name": "Name", "col_area": "Area", "col_done": "Carried out",
        "col_parent": "District group", "col_inv": "Investments", "col_last": "Latest wave",
        "col_change": "Change", "col_row": "Row", "col_text": "Register text", "col_reason": "Reason",
        "col_year": "Year", "col_n_inv": "Number", "col_placed": "Share placed", "col_n": "n (answers)",
        "yes": "yes", "no": "no", "suppressed": "too few answers",
        "sig_down": "{label}: the share fell by {pp} percentage points more than in the control areas "
                    "([[level]] CI {lo} to {hi}; {nt} treated and {nc} control areas).",
        "sig_up": "{label}: the share rose by {pp} percentage points more than in the control areas "
                  "([[level]] CI {lo} to {hi}; {nt} treated and {nc} control areas).",
        "not_measurable": "{label}: no measurable change. The estimate is {est} percentage points "
                          "([[level]] CI {lo} to {hi}). With {nt} treated and {nc} control areas the design could "
                          "only detect changes larger than {mde} percentage points.",
        "no_estimate": "{label}: no effect could be estimated (no measurements before and after).",
        "method_text": [
            "Investments were geocoded against a local gazetteer (OSM). Every row is accounted for: placed with method and score, or unplaced with a reason.",
            "An area counts as treated when an investment in it was completed between two survey waves; the cohort is the first wave after completion. Control areas had no completed investment in the period. Areas where an investment could not be placed are not used as controls.",
            "The effect is a 2x2 difference-in-differences per cohort: the change in treated areas between the wave before and after, minus the same change in control areas, pooled over cohorts by number of treated areas. Standard errors come from each cell's sampling variance (binomial). Area-by-wave variation beyond sampling error is not captured, so intervals may be too narrow on real data.",
            "Cells with fewer than {min_n} answers are not published (shown as 'too few answers') but are used in the analysis.",
            "Cost per point = money spent / effect in percentage points. Its interval follows the effect's CI; when that reaches zero there is no upper bound.",
        ],
    },
}


def plain_effect(row: pd.Series, *, label: str, lang: str) -> str:
    """One sentence on an effect, in plain Swedish or English (interval at the row's ``level``)."""
    level = row.get("level")
    t = with_level(T[lang], float(level) if level is not None and pd.notna(level) else 0.95, lang)
    if pd.isna(row["estimate"]):
        reason = row.get("reason")
        if isinstance(reason, str) and reason:
            return f"{label}: {reason}"
        return t["no_estimate"].format(label=label)
    args = dict(label=label, lo=fmt_pp(row["ci_low"], lang=lang), hi=fmt_pp(row["ci_high"], lang=lang),
                nt=int(row["n_treated"]), nc=int(row["n_control"]), est=fmt_pp(row["estimate"], lang=lang),
                mde=fmt_pp(row["mde"], lang=lang, signed=False), pp=fmt_pp(row["estimate"], lang=lang, signed=False))
    if row["ci_high"] < 0:
        return t["sig_down"].format(**args)
    if row["ci_low"] > 0:
        return t["sig_up"].format(**args)
    return t["not_measurable"].format(**args)


def _ci(r: pd.Series, lang: str) -> str:
    return f"{fmt_pp(r['ci_low'], lang=lang)} till {fmt_pp(r['ci_high'], lang=lang)}" if lang == "sv" else \
        f"{fmt_pp(r['ci_low'], lang=lang)} to {fmt_pp(r['ci_high'], lang=lang)}"


def _cost(r: pd.Series, lang: str) -> str:
    v = r.get("sek_per_point")
    if v is None or pd.isna(v):
        return "–"
    hi = r.get("sek_per_point_ci_high")
    lo = r.get("sek_per_point_ci_low")
    hi_s = "∞" if hi is not None and not np.isfinite(hi) else fmt_sek(hi, lang=lang)
    return f"{fmt_sek(v, lang=lang)} ({fmt_sek(lo, lang=lang)}–{hi_s})"


def _trend_figure(res: Results, lang: str) -> bytes | None:
    # a Figure of its own (no pyplot): the caller's backend, e.g. a notebook's, is left alone
    from matplotlib.figure import Figure

    ind = res.config.survey.indicator
    # published cells only: a mean over areas that includes a suppressed cell would disclose it
    panel = res.panel[(res.panel["indicator"] == ind) & ~res.panel["suppressed"].astype(bool)]
    roles = res.roles
    kinds = [k for k in res.effects.loc[res.effects["scope"] == "kind", "kind"]]
    if not kinds:
        return None
    controls = set(roles.loc[roles["role"] == "control", "area_id"].astype(str))
    fig = Figure(figsize=(3.2 * len(kinds), 3.0))
    axes = fig.subplots(1, len(kinds), sharey=True, squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        tr = set(roles.loc[(roles["role"] == "treated") & (roles["kinds"] == kind), "area_id"].astype(str))
        for units, colour, lab in ((tr, get_kind(kind).colour, "Behandlade" if lang == "sv" else "Treated"),
                                   (controls, "#555555", "Kontroller" if lang == "sv" else "Controls")):
            sub = panel[panel["area_id"].isin(units)]
            m = sub.groupby("wave")["share"].mean() * 100
            ax.plot(m.index, m.values, marker="o", color=colour, label=f"{lab} (n={len(units)})")
        ax.set_title(get_kind(kind).label(lang), fontsize=10)
        ax.set_xticks(sorted(panel["wave"].unique()))
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(f"{ind} (%)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    return buf.getvalue()


def build_report(res: Results) -> list[Block]:
    """The report as blocks (see :func:`write_report`)."""
    from trygg_geo import __version__

    cfg = res.config
    lang = cfg.project.language
    t = with_level(T[lang], 1 - cfg.analysis.alpha, lang)
    min_n = cfg.survey.min_n
    blocks: list[Block] = [Block("h1", cfg.project.name or t["title"])]
    blocks.append(Block("p", t["generated"].format(date=_dt.date.today().isoformat(), version=__version__)))
    run_id = getattr(res, "run_id", None)
    if run_id is not None and not pd.isna(run_id) and str(run_id):
        blocks.append(Block("p", t["run_id"].format(run_id=run_id)))
    reg = res.register
    n, n_p, n_u = len(reg), len(res.placed), len(res.unplaced)
    blocks.append(Block("h2", t["summary"]))
    share = f"{100 * n_p / n:.0f} %" if n else "–"
    blocks.append(Block("p", t["n_rows"].format(n=n, placed=n_p, unplaced=n_u, share=share)))
    g, s = reg["granted_sek"].sum(min_count=1), reg["spent_sek"].sum(min_count=1)
    blocks.append(Block("p", t["money"].format(granted=fmt_sek(g, lang=lang), spent=fmt_sek(s, lang=lang),
                                               surplus=fmt_sek(g - s, lang=lang),
                                               share=f"{100 * (g - s) / g:.0f} %" if g else "–")))
    blocks.append(Block("p", _rich(t["indicator"], indicator=cfg.survey.indicator)))

    kinds = res.effects[res.effects["scope"] == "kind"]
    blocks.append(Block("h2", t["kinds"]))
    blocks.append(Block("p", t["kinds_intro"]))
    rows = []
    for _, r in kinds.iterrows():
        rows.append({
            t["col_kind"]: get_kind(r["kind"]).label(lang), t["col_treated"]: int(r["n_treated"]),
            t["col_control"]: int(r["n_control"]), t["col_effect"]: fmt_pp(r["estimate"], lang=lang),
            t["col_ci"]: _ci(r, lang), t["col_p"]: _fmt_p(r["p_value"], lang),
            t["col_p_perm"]: _fmt_p(r.get("p_perm"), lang),
            t["col_mde"]: fmt_pp(r["mde"], lang=lang, signed=False),
            t["col_spent"]: fmt_sek(r["spent_sek"], lang=lang), t["col_cost"]: _cost(r, lang),
        })
    blocks.append(Block("table", pd.DataFrame(rows)))
    blocks.append(Block("list", [plain_effect(r, label=get_kind(r["kind"]).label(lang), lang=lang)
                                 for _, r in kinds.iterrows()]))
    png = _trend_figure(res, lang)
    if png is not None:
        blocks.append(Block("h3", t["trends"]))
        blocks.append(Block("figure", png, caption=t["trends"]))

    blocks.append(Block("h2", t["projects"]))
    blocks.append(Block("p", t["projects_intro"]))
    eff_inv = res.effects[res.effects["scope"] == "investment"].set_index("source_row")
    placed_area = res.placed.set_index("source_row")["area_id"] if len(res.placed) else pd.Series(dtype=object)
    area_name = res.areas.set_index("area_id")["name"]
    prow = []
    for _, r in reg.iterrows():
        iid = str(r["investment_id"])
        e = eff_inv.loc[r["source_row"]] if r["source_row"] in eff_inv.index else None
        a = placed_area.get(r["source_row"], None)
        granted, spent = r["granted_sek"], r["spent_sek"]
        surplus = granted - spent if pd.notna(granted) and pd.notna(spent) else np.nan
        prow.append({
            t["col_id"]: iid, t["col_name"]: str(r["name"]) if pd.notna(r["name"]) else "",
            t["col_kind"]: get_kind(r["kind"]).label(lang),
            t["col_area"]: area_name.get(a, "–") if a is not None and pd.notna(a) else "–",
            t["col_done"]: (f"{t['yes']} ({r['completed']:%Y-%m-%d})" if pd.notna(r["completed"]) else t["no"]),
            t["col_granted"]: fmt_sek(granted, lang=lang), t["col_spent"]: fmt_sek(spent, lang=lang),
            t["col_surplus"]: (f"{fmt_sek(surplus, lang=lang)} ({100 * surplus / granted:.0f} %)"
                               if pd.notna(surplus) and granted else "–"),
            t["col_effect"]: fmt_pp(e["estimate"], lang=lang) if e is not None else "–",
            t["col_ci"]: _ci(e, lang) if e is not None else "–",
            t["col_mde"]: fmt_pp(e["mde"], lang=lang, signed=False) if e is not None else "–",
            t["col_cost"]: _cost(e, lang) if e is not None else "–",
        })
    blocks.append(Block("table", pd.DataFrame(prow)))

    blocks.append(Block("h2", t["areas"]))
    areas = res.areas
    waves = list(cfg.analysis.waves) or sorted(res.panel["wave"].unique())
    last = waves[-1]
    ind = cfg.survey.indicator
    n_inv = res.placed.groupby("area_id").size() if len(res.placed) else pd.Series(dtype=int)
    spent_area = res.placed.groupby("area_id")["spent_sek"].sum() if len(res.placed) else pd.Series(dtype=float)
    arow = []
    for _, r in areas.iterrows():
        supp = bool(r.get(f"supp_{last}", True))
        arow.append({
            t["col_area"]: r["name"], t["col_parent"]: r.get("parent", "") if pd.notna(r.get("parent", "")) else "",
            t["col_inv"]: int(n_inv.get(r["area_id"], 0)), t["col_spent"]: fmt_sek(spent_area.get(r["area_id"], np.nan), lang=lang),
            f"{ind} {last} (%)": t["suppressed"] if supp else fmt_pp(r.get(f"{ind}_{last}"), lang=lang, signed=False),
            t["col_n"]: t["suppressed"] if supp else int(r.get(f"n_{last}")),
            t["col_change"]: t["suppressed"] if bool(r.get("suppressed", True)) else fmt_pp(r.get("change"), lang=lang),
        })
    blocks.append(Block("table", pd.DataFrame(arow)))

    blocks.append(Block("h2", t["bokslut"]))
    bk = bokslut(res)
    blocks.append(Block("table", pd.DataFrame({
        t["col_year"]: bk["year"].astype("string").fillna("–"),
        t["col_kind"]: [get_kind(k).label(lang) for k in bk["kind"]],
        t["col_n_inv"]: bk["n"], t["col_granted"]: [fmt_sek(v, lang=lang) for v in bk["granted_sek"]],
        t["col_spent"]: [fmt_sek(v, lang=lang) for v in bk["spent_sek"]],
        t["col_placed"]: [f"{100 * v:.0f} %" for v in bk["placed_share"]],
        t["col_effect"]: [fmt_pp(v, lang=lang) for v in bk["effect"]],
    })))

    blocks.append(Block("h2", t["unplaced"]))
    un = res.unplaced
    blocks.append(Block("table", pd.DataFrame({
        t["col_row"]: un["source_row"].astype(int) if len(un) else [],
        t["col_id"]: un["investment_id"].astype(str) if len(un) else [],
        t["col_text"]: un["address"].astype("string").fillna("") if len(un) else [],
        t["col_reason"]: (un["reason_text"] if "reason_text" in un.columns else un["reason"]).astype(str) if len(un) else [],
    })))
    blocks.append(Block("h2", t["method"]))
    blocks.append(Block("list", [s.format(min_n=min_n) for s in t["method_text"]]))
    return blocks


def _md_cell(v: Any) -> str:
    return md_text(v, block=False)


def _md_rich(content: Any) -> str:
    if isinstance(content, list):
        return "".join(f"**{md_text(x.text, block=False)}**" if isinstance(x, Strong) else md_text(x, block=k == 0)
                       for k, x in enumerate(content))
    return md_text(content)


def _html_rich(content: Any) -> str:
    if isinstance(content, list):
        return "".join(f"<strong>{html_text(x.text)}</strong>" if isinstance(x, Strong) else html_text(x)
                       for x in content)
    return html_text(content)


def _plain(content: Any) -> str:
    if isinstance(content, list):
        return "".join(x.text if isinstance(x, Strong) else str(x) for x in content)
    return str(content)


def render_markdown(blocks: list[Block]) -> str:
    """The report as Markdown; every text is escaped (:func:`trygg_geo._escape.md_text`)."""
    out: list[str] = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            # every "#" escaped: a trailing " #" would otherwise be read as a closing sequence
            out.append("#" * int(b.kind[1]) + " " + md_text(b.content, block=False).replace("#", "\\#") + "\n")
        elif b.kind == "p":
            out.append(_md_rich(b.content) + "\n")
        elif b.kind == "list":
            out.extend(f"- {md_text(x)}" for x in b.content)
            out.append("")
        elif b.kind == "table":
            df: pd.DataFrame = b.content
            if df.empty:
                out.append("–\n")
                continue
            out.append("| " + " | ".join(_md_cell(c) for c in df.columns) + " |")
            out.append("|" + "|".join("---" for _ in df.columns) + "|")
            out.extend("| " + " | ".join(_md_cell(v) for v in r) + " |" for r in df.itertuples(index=False))
            out.append("")
        elif b.kind == "figure":
            out.append(f"![{md_text(b.caption, block=False)}](rapport_trender.png)\n")
    return "\n".join(out)


def render_html(blocks: list[Block], *, lang: str, run_id: str | None = None) -> str:
    """The report as one self-contained HTML page; every text is escaped once."""
    e = html_text
    parts = [f"<!doctype html><html lang='{e(lang)}'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:3px 6px;"
             "text-align:left}th{background:#f2f2f2}img{max-width:100%}"
             # cells pasted into or opened in Excel stay text, never formulas (best effort:
             # Excel's HTML import honours mso-number-format; browsers ignore it)
             "td,th{mso-number-format:'\\@'}</style>"]
    if run_id:
        parts.append(f"<meta name='trygg-geo-run-id' content='{e(run_id)}'>")
    title = next((b.content for b in blocks if b.kind == "h1"), "")
    parts.append(f"<title>{e(_plain(title))}</title></head><body>")
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            parts.append(f"<{b.kind}>{e(_plain(b.content))}</{b.kind}>")
        elif b.kind == "p":
            parts.append("<p>" + _html_rich(b.content) + "</p>")
        elif b.kind == "list":
            parts.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in b.content) + "</ul>")
        elif b.kind == "table":
            df = b.content
            if df.empty:
                parts.append("<p>–</p>")
                continue
            parts.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in df.columns) + "</tr></thead><tbody>")
            parts.extend("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in df.itertuples(index=False))
            parts.append("</tbody></table>")
        elif b.kind == "figure":
            data = base64.b64encode(b.content).decode("ascii")
            parts.append(f"<figure><img alt='{e(b.caption)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{e(b.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(res: Results, path: str | Path) -> Path:
    """Write ``rapport.md`` (with the trend figure beside it) and ``rapport.html`` (self-contained).

    Returns the Markdown path; the HTML goes beside it with the suffix ``.html``.
    """
    path = Path(path)
    blocks = build_report(res)
    for b in blocks:
        if b.kind == "figure":
            with atomic_path(path.with_name("rapport_trender.png")) as tmp:
                tmp.write_bytes(b.content)
    with atomic_path(path) as tmp:
        tmp.write_text(render_markdown(blocks), encoding="utf-8")
    with atomic_path(path.with_suffix(".html")) as tmp:
        run_id = getattr(res, "run_id", None)
        tmp.write_text(render_html(blocks, lang=res.config.project.language,
                                   run_id=str(run_id) if run_id is not None and str(run_id) else None),
                       encoding="utf-8")
    return path
