"""The catalogue of intervention kinds (trygghetsinvesteringar).

Each kind has a stable ASCII id (used in every output field), Swedish and
English labels, the geometry it is mapped as, a default radius of effect,
a map icon and a colour. Kind names found in registers ("gatubelysning",
"Slyröjning längs gångväg", "trygghetskamera", ...) are recognised with
:func:`match_kind` (exact id, synonym, a typo within a tested similarity, or a text mapped in
``[register.kinds]`` of projekt.toml) and :func:`recognise_kind` (its older two-value form).
The kind texts a register used that matched nothing are listed, with the projekt.toml line
that maps them, by :func:`unknown_kinds`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from rapidfuzz import fuzz

from trygg_geo._i18n import text

__all__ = [
    "CATALOGUE",
    "FUZZY_THRESHOLD",
    "KIND_MATCH_HOW",
    "UNKNOWN_KIND",
    "Kind",
    "KindMatch",
    "check_kind_mapping",
    "fold_text",
    "get_kind",
    "match_kind",
    "recognise_kind",
    "toml_kind_line",
    "unknown_kinds",
]


@dataclass(frozen=True)
class Kind:
    """One kind of intervention.

    Attributes
    ----------
    id
        Stable ASCII id (``belysning``).
    label_sv, label_en
        Display labels.
    geometry
        ``"point"``, ``"line"`` or ``"polygon"``: how the investment is drawn
        and what it is geocoded to.
    radius_m
        Default radius (metres) of the catchment around it, and the buffer
        used to make a polygon when only a point is known.
    icon
        A Font Awesome 4 icon name (folium ``Icon(prefix="fa")``).
    colour
        Hex colour (from the colour-blind-safe Okabe-Ito palette).
    synonyms
        Folded words that identify the kind in a register.
    """

    id: str
    label_sv: str
    label_en: str
    geometry: str
    radius_m: float
    icon: str
    colour: str
    synonyms: tuple[str, ...]

    def label(self, lang: str = "sv") -> str:
        """The display name in ``lang`` (``"sv"``, else English)."""
        return self.label_sv if lang == "sv" else self.label_en


def _labels(kind_id: str) -> tuple[str, str]:
    """The Swedish and English labels of a kind (the texts ``kind.<id>``)."""
    return text(f"kind.{kind_id}", "sv"), text(f"kind.{kind_id}", "en")


CATALOGUE: dict[str, Kind] = {
    k.id: k
    for k in [
        Kind(
            "belysning", *_labels("belysning"), "line", 50.0, "lightbulb-o", "#E69F00",
            ("belysning", "ljus", "armatur", "armaturer", "gatubelysning", "gatljus",
             "trygghetsbelysning", "belysningsatgard", "lampa", "lampor", "ljussattning",
             "gangvagsbelysning", "parkbelysning"),
        ),
        Kind(
            "slyrojning", *_labels("slyrojning"), "polygon", 30.0, "tree", "#009E73",
            ("slyrojning", "sly", "rojning", "gallring", "buskrojning", "vegetationsrojning",
             "siktrojning", "beskarning", "slyrojn"),
        ),
        Kind(
            "kamerabevakning", *_labels("kamerabevakning"), "point", 75.0,
            "video-camera", "#0072B2",
            ("kamerabevakning", "kamera", "kameror", "trygghetskamera", "overvakningskamera",
             "overvakning", "kamerabev", "cctv", "bevakningskamera"),
        ),
        Kind(
            "klottersanering", *_labels("klottersanering"), "point", 50.0,
            "paint-brush", "#CC79A7",
            ("klottersanering", "klotter", "klotterborttagning", "klottersan", "graffiti",
             "sanering", "klotterskydd"),
        ),
        Kind(
            "utemiljo", *_labels("utemiljo"), "polygon", 50.0,
            "leaf", "#56B4E9",
            ("utemiljo", "upprustning", "upprustning av utemiljo", "torg", "park",
             "lekplats", "mötesplats", "motesplats", "sittplatser", "gestaltning",
             "ombyggnad"),
        ),
        Kind(
            "trygghetsvandring", *_labels("trygghetsvandring"), "point", 100.0,
            "users", "#D55E00",
            ("trygghetsvandring", "vandring", "trygghetsvandr", "nattvandring"),
        ),
    ]
}

UNKNOWN_KIND = Kind(
    "annat", *_labels("annat"), "point", 50.0, "question", "#999999", ("annat", "ovrigt")
)


def fold_text(text: str) -> str:
    """Lower-case, fold å/ä/ö/é (and any diacritic) and squash punctuation.

    >>> fold_text("Slyröjning – Gångväg!")
    'slyrojning gangvag'
    """
    t = unicodedata.normalize("NFKD", str(text).lower())
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = re.sub(r"[^0-9a-z]+", " ", t)
    return t.strip()


def get_kind(kind_id: str) -> Kind:
    """The catalogue entry for ``kind_id`` (``annat`` when unknown)."""
    return CATALOGUE.get(kind_id, UNKNOWN_KIND)


#: How a kind text was matched (the register's ``kind_match``): the catalogue id or label itself
#: (``exact``), a synonym or a compound starting with one (``synonym``), a misspelt synonym
#: (``fuzzy``), a text mapped in ``[register.kinds]`` (``config``), or nothing (``unknown``).
KIND_MATCH_HOW = ("exact", "synonym", "fuzzy", "config", "unknown")
#: The lowest similarity (rapidfuzz ``fuzz.ratio``, 0-100, on folded words) at which a misspelt
#: word is read as a synonym. Tested both ways (tests/test_kinds.py): one-letter typos score
#: 88.9-97 ("Belysnig" 94, "Bleysning" 89), while the real words nearest a kind stay below it
#: ("Beläggning" 74, "Snöröjning" 82, "Planering" 82, "Belastning" 84).
FUZZY_THRESHOLD = 88.0
#: Words shorter than this never match fuzzily ("ljus", "park" and "sly" are too short to tell
#: a typo from another word).
_FUZZY_MIN_LEN = 6
#: A kind is suggested for an unknown text (in :func:`unknown_kinds`) from this similarity.
_SUGGEST_FROM = 85.0
#: Words that start with a synonym but name something else ("parkering" is not a park).
_FALSE_FRIENDS = ("parkering", "snorojning")


@dataclass(frozen=True)
class KindMatch:
    """How a register's kind text was read.

    Attributes
    ----------
    kind
        The catalogue id (``"annat"`` when nothing matched).
    score
        Similarity 0-100 of the match: 100 for ``exact``, ``synonym`` and ``config``; the
        rapidfuzz ratio for ``fuzzy``; for ``unknown``, the similarity of the nearest kind
        (below :data:`FUZZY_THRESHOLD`; 0 for an empty text).
    how
        One of :data:`KIND_MATCH_HOW`.
    matched
        The catalogue word or config text that matched (for ``unknown``: the nearest word).
    nearest
        The kind closest to the text: ``kind`` when recognised; for ``unknown``, the kind of
        the nearest word when its similarity is at least 85 (just below a match), else
        ``"annat"``: :func:`unknown_kinds` suggests it, and a guess further off would mislead.
    """

    kind: str
    score: float
    how: str
    matched: str = ""
    nearest: str = "annat"

    @property
    def recognised(self) -> bool:
        """True unless ``how == "unknown"``."""
        return self.how != "unknown"


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and value != value


def _fold_mapping(extra: Mapping[str, str] | None) -> dict[str, tuple[str, str]]:
    """``{folded text: (kind id, text as written)}`` of a ``[register.kinds]`` mapping."""
    return {fold_text(k): (str(v).strip(), k) for k, v in (extra or {}).items() if fold_text(k)}


def check_kind_mapping(extra: Mapping[str, object]) -> dict[str, str]:
    """Validate a ``[register.kinds]`` mapping (register text -> kind id) and return it.

    Raises
    ------
    ValueError
        A value that is not text, a kind id that is not in the catalogue (the message lists
        the ids), an empty text, or two texts that read the same (case, å/ä/ö and
        punctuation ignored) but map to different kinds.

    Examples
    --------
    >>> check_kind_mapping({"Trygghetsvandring i parken": "trygghetsvandring"})
    {'Trygghetsvandring i parken': 'trygghetsvandring'}
    >>> check_kind_mapping({"Konstverk": "konst"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: "Konstverk" = "konst": 'konst' is not a kind id. Use one of: belysning, ...
    """
    ids = [*CATALOGUE, UNKNOWN_KIND.id]
    seen: dict[str, tuple[str, str]] = {}
    for key, value in extra.items():
        line = toml_kind_line(str(key), str(value))
        if not isinstance(value, str):
            raise ValueError(f"{_toml_string(str(key))} = {value!r}: the kind must be text, a "
                             'kind id in quotes, e.g. "belysning".')
        if not fold_text(key):
            raise ValueError(f"{line}: the register text is empty (or only punctuation).")
        if value.strip() not in ids:
            raise ValueError(f"{line}: '{value}' is not a kind id. Use one of: {', '.join(ids)}.")
        folded = fold_text(key)
        if folded in seen and seen[folded][0] != value.strip():
            other, other_kind = seen[folded][1], seen[folded][0]
            raise ValueError(f'{line}: "{other}" reads the same (case, å/ä/ö and punctuation '
                             f"are ignored) but maps to '{other_kind}'. Keep one of them.")
        seen[folded] = (value.strip(), str(key))
    return {str(k): str(v).strip() for k, v in extra.items()}


def _synonym(folded: str, words: list[str]) -> KindMatch | None:
    """The exact id or label, or a synonym (whole text, a word, or a compound's first part)."""
    if folded in CATALOGUE:
        return KindMatch(folded, 100.0, "exact", folded, folded)
    for kind in [*CATALOGUE.values(), UNKNOWN_KIND]:
        if folded in (fold_text(kind.label_sv), fold_text(kind.label_en), kind.id):
            return KindMatch(kind.id, 100.0, "exact", folded, kind.id)
    # 1. whole phrase or word equal to a synonym; the first word counts most
    for w in [folded, *words]:
        for kind in CATALOGUE.values():
            if w in kind.synonyms:
                return KindMatch(kind.id, 100.0, "synonym", w, kind.id)
    # 2. a word starting with a synonym of 4+ letters (compound words:
    #    "belysningsupprustning", "kamerabevakningen"), or an abbreviation of one
    for w in words:
        if w.startswith(_FALSE_FRIENDS):
            continue
        for kind in CATALOGUE.values():
            for s in kind.synonyms:
                if (
                    len(s) >= 4
                    and " " not in s
                    and (w.startswith(s) or (len(w) >= 5 and s.startswith(w)))
                ):
                    return KindMatch(kind.id, 100.0, "synonym", s, kind.id)
    if folded in UNKNOWN_KIND.synonyms:
        return KindMatch(UNKNOWN_KIND.id, 100.0, "synonym", folded, UNKNOWN_KIND.id)
    return None


def _nearest(words: list[str], min_len: int) -> tuple[float, str, str]:
    """``(score, word, kind id)`` of the synonym nearest any word of ``min_len``+ letters.

    A word is compared whole with every one-word synonym (and kind id) of 6+ letters, and,
    when it is longer, its first ``len(synonym)`` letters with synonyms of 8+ letters (so
    "belysnigen" is compared as "belysnig").
    """
    best = (0.0, "", UNKNOWN_KIND.id)
    for w in words:
        if len(w) < min_len or w.startswith(_FALSE_FRIENDS):
            continue
        for kind in CATALOGUE.values():
            for s in (kind.id, *kind.synonyms):
                if len(s) < _FUZZY_MIN_LEN or " " in s:
                    continue
                score = fuzz.ratio(w, s)
                if len(s) >= 8 and len(w) > len(s):
                    score = max(score, fuzz.ratio(w[: len(s)], s))
                if score > best[0]:
                    best = (float(score), s, kind.id)
    return best


def match_kind(text: object, extra: Mapping[str, str] | None = None) -> KindMatch:
    """Read a register's kind text as a catalogue kind, saying how and how surely.

    The order: a text mapped in ``extra`` (``[register.kinds]`` of projekt.toml, compared
    folded: case, å/ä/ö and punctuation ignored) wins; then the kind's id or label
    (``exact``); then a synonym, as the whole text, a word, or the first part of a compound
    word (``synonym``); then a misspelt synonym, a word of 6+ letters within
    :data:`FUZZY_THRESHOLD` of one (``fuzzy``). Anything else is ``annat`` (``unknown``): it
    is kept and flagged, never dropped.

    Parameters
    ----------
    text
        The kind text as written (None or NaN for an empty cell).
    extra
        Optional ``register text -> kind id`` (validated by :func:`check_kind_mapping`).

    Returns
    -------
    KindMatch

    Examples
    --------
    >>> match_kind("Belysnig")
    KindMatch(kind='belysning', score=94.1, how='fuzzy', matched='belysning', nearest='belysning')
    >>> match_kind("Sly- och buskröjning").kind, match_kind("Sly- och buskröjning").how
    ('slyrojning', 'synonym')
    >>> match_kind("Snöröjning").kind, match_kind("Snöröjning").how
    ('annat', 'unknown')
    >>> match_kind("Konstverk i tunneln", {"Konstverk i tunneln": "utemiljo"}).how
    'config'
    """
    if _is_missing(text):
        return KindMatch(UNKNOWN_KIND.id, 0.0, "unknown")
    folded = fold_text(str(text))
    if not folded:
        return KindMatch(UNKNOWN_KIND.id, 0.0, "unknown")
    mapped = _fold_mapping(extra).get(folded)
    if mapped is not None:
        return KindMatch(mapped[0], 100.0, "config", mapped[1], mapped[0])
    hit = _synonym(folded, folded.split())
    if hit is not None:
        return hit
    words = folded.split()
    score, word, kind_id = _nearest(words, _FUZZY_MIN_LEN)
    if score >= FUZZY_THRESHOLD:
        return KindMatch(kind_id, round(score, 1), "fuzzy", word, kind_id)
    near = _nearest(words, 4) if score == 0.0 else (score, word, kind_id)
    return KindMatch(UNKNOWN_KIND.id, round(near[0], 1), "unknown", near[1],
                     near[2] if near[0] >= _SUGGEST_FROM else UNKNOWN_KIND.id)


def recognise_kind(text: object) -> tuple[str, bool]:
    """Map a register's kind text to a catalogue id (the two-value form of :func:`match_kind`).

    Returns ``(kind_id, recognised)``. Text that matches no kind gives
    ``("annat", False)``: it is kept and flagged, never dropped.

    >>> recognise_kind("Gatubelysning, nya armaturer")
    ('belysning', True)
    >>> recognise_kind("Slyröjn.")
    ('slyrojning', True)
    >>> recognise_kind("Gatubelysnig")
    ('belysning', True)
    >>> recognise_kind("Konstverk")
    ('annat', False)
    """
    m = match_kind(text)
    return (m.kind, m.recognised)


_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
                 "\f": "\\f", "\r": "\\r"}


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string (quoted, with backslash escapes)."""
    out = []
    for c in value:
        if c in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_kind_line(register_text: str, kind_id: str) -> str:
    r"""The projekt.toml line (under ``[register.kinds]``) that maps a register text to a kind.

    The text is written as a quoted TOML key with backslash escapes, so any text a register
    holds (quotes, backslashes, tabs) gives a line that ``tomllib`` reads back exactly.

    >>> toml_kind_line("Trygghetsvandring i parken", "trygghetsvandring")
    '"Trygghetsvandring i parken" = "trygghetsvandring"'
    >>> print(toml_kind_line('Lampor "LED"', "belysning"))
    "Lampor \"LED\"" = "belysning"
    """
    return f"{_toml_string(register_text)} = {_toml_string(kind_id)}"


def unknown_kinds(register: pd.DataFrame) -> pd.DataFrame:
    """The distinct kind texts of a register that matched no kind, with the line that maps them.

    Texts that read the same (case, å/ä/ö and punctuation ignored) are one entry, shown as
    first written. Exact duplicate rows (``duplicate_of`` set) are not counted again; empty
    kind cells are not listed (there is no text to map).

    Parameters
    ----------
    register
        A register as :func:`trygg_geo.io.read_register` returns it (``kind_raw`` and
        ``kind_match``, or ``kind_recognised``; ``source_row``).

    Returns
    -------
    pandas.DataFrame
        Columns ``kind_raw`` (as written), ``n`` (rows), ``source_rows`` (comma-joined),
        ``suggested_kind`` (the nearest kind, ``annat`` when none is near) and ``toml_line``
        (the line to add under ``[register.kinds]`` in projekt.toml), most frequent first.

    Examples
    --------
    >>> reg = pd.DataFrame({"source_row": [2, 3, 4, 5],
    ...                     "kind_raw": ["Konstverk", "Belysning", "konstverk!", "Snöröjning"]})
    >>> for r in unknown_kinds(reg).itertuples():
    ...     print(r.n, r.source_rows, r.toml_line)
    2 2, 4 "Konstverk" = "annat"
    1 5 "Snöröjning" = "annat"
    """
    cols = ["kind_raw", "n", "source_rows", "suggested_kind", "toml_line"]
    if len(register) == 0 or "kind_raw" not in register.columns:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "n" else "int64") for c in cols})
    reg = register
    if "duplicate_of" in reg.columns:
        reg = reg[reg["duplicate_of"].isna()]
    if "kind_match" in reg.columns:
        unknown = reg["kind_match"].astype("string").fillna("unknown") == "unknown"
    elif "kind_recognised" in reg.columns:
        unknown = ~reg["kind_recognised"].astype("boolean").fillna(False)
    else:
        unknown = pd.Series(
            [not match_kind(v).recognised for v in reg["kind_raw"].tolist()], index=reg.index
        )
    groups: dict[str, list[tuple[int, str]]] = {}
    for row, raw in zip(reg.loc[unknown, "source_row"].tolist(),
                        reg.loc[unknown, "kind_raw"].tolist(), strict=True):
        if _is_missing(raw) or not fold_text(str(raw)):
            continue
        groups.setdefault(fold_text(str(raw)), []).append((int(row), str(raw).strip()))
    rows = []
    for members in groups.values():
        shown = members[0][1]
        suggestion = match_kind(shown).nearest
        rows.append({"kind_raw": shown, "n": len(members),
                     "source_rows": ", ".join(str(r) for r, _ in members),
                     "suggested_kind": suggestion, "toml_line": toml_kind_line(shown, suggestion)})
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype("int64")
    return out.sort_values(["n", "kind_raw"], ascending=[False, True], kind="stable",
                           ignore_index=True)
