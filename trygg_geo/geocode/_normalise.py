"""Normalisation and parsing of Swedish address text.

Two keys are made from every street or place name:

- the *key*: lower case, abbreviations expanded (``Storg.`` -> ``storgatan``, ``Kyrkv.`` ->
  ``kyrkvägen``, ``S:t``/``St.``/``Sankt`` -> ``sankt``), punctuation squashed, å/ä/ö kept;
- the *fold*: the key with diacritics folded (``kyrkvagen``), used only as a fallback, since
  "Tegnérgatan" and "Tegnergatan" are the same street but "Ragsved" and "Rågsved" need not be.

:func:`parse_address` splits a register's address cell into its parts: a street with a house
number, letter and range (``12A``, ``12 B``, ``3-5``), a postcode (``123 45``), a locality, an
intersection (``X/Y``, ``korsningen X och Y``) or a span (``gångvägen mellan A och B``), after
dropping noise words (``vid``, ``utanför``, ``i höjd med`` ...).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from trygg_geo.interventions import fold_text

__all__ = [
    "ParsedAddress",
    "blocking_keys",
    "is_other_script",
    "letter_code",
    "name_fold",
    "name_key",
    "parse_address",
    "parse_housenumber",
    "repair_encoding",
    "stem",
]

# --- abbreviations ------------------------------------------------------------------------
# A token ending in one of these (with a dot, or as its own token after a word) is expanded.
_SUFFIX_ABBR: tuple[tuple[str, str], ...] = (
    ("gat.", "gatan"),
    ("vg.", "vägen"),
    ("g.", "gatan"),
    ("v.", "vägen"),
    ("pl.", "plan"),
    ("gr.", "gränd"),
    ("str.", "stråket"),
)
_SANKT = re.compile(r"(?<![\w:])(?:s:t|s:ta|st\.|sankta|sankt)(?=\s|$)")
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s:åäöéü\-/&]", re.UNICODE)

# Generic street endings (folded), stripped to make a name's stem for blocking.
_GENERIC_ENDINGS: tuple[str, ...] = tuple(
    sorted(
        (
            "gatan", "gata", "vagen", "vag", "gangen", "grand", "granden", "stigen", "stig",
            "planen", "plan", "torget", "torg", "allen", "alle", "backen", "backe", "stranden",
            "strand", "kajen", "kaj", "bron", "stråket", "straket", "leden", "led", "parken",
            "park", "skolan", "skola", "slingan", "svangen", "terrassen", "tunneln", "platsen",
            "trappan", "trappor", "promenaden", "ringen", "bana", "banan",
        ),
        key=len,
        reverse=True,
    )
)

# Noise words and phrases dropped before matching (folded forms are matched too).
_NOISE_PHRASES: tuple[str, ...] = (
    "i höjd med", "i hojd med", "i anslutning till", "i närheten av", "i narheten av",
    "vid sidan av", "utanför", "utanfor", "framför", "framfor", "mittemot", "mitt emot",
    "nedanför", "nedanfor", "ovanför", "ovanfor", "bakom", "intill", "nära", "nara", "längs med",
    "langs med", "längs", "langs", "utmed", "vid", "ca", "c:a", "cirka", "ungefär", "ungefar",
    "adress", "adr", "på", "pa", "i",
)
_NOISE_RE = re.compile(
    r"^(?:(?:" + "|".join(re.escape(p) for p in sorted(_NOISE_PHRASES, key=len, reverse=True))
    + r")(?:\s+|$))+"
)
_NR_RE = re.compile(r"\b(?:nr|nummer|no)\.?\s*(?=\d)")

_POSTCODE_RE = re.compile(r"(?:^|[\s,])([1-9]\d{2})\s?(\d{2})(?=$|[\s,])")
_NUMBER_RE = re.compile(
    r"^(?P<street>.*?[^\d\s-][^\d]*?)\s*(?<![\d])(?P<num>\d{1,5})\s*(?P<letter>[a-zåäö](?![a-zåäö]))?"
    r"(?:\s*[-–—]\s*(?P<num2>\d{1,5})\s*(?P<letter2>[a-zåäö](?![a-zåäö]))?)?(?P<rest>.*)$"
)
_INTERSECTION_WORDS = re.compile(
    r"^(?:korsningen|korsning|korsn\.?|hörnet|hornet|hörn|horn)\s+(?:av\s+|mellan\s+|vid\s+)?"
)
_AND_RE = re.compile(r"\s+(?:och|o|&|mot|x)\s+|\s*/\s*|\s*&\s*")
_BETWEEN_RE = re.compile(r"^(?P<subject>.*?)\s*\bmellan\s+(?P<a>.+?)\s+(?:och|o|&)\s+(?P<b>.+)$")
# Subjects of "X mellan A och B" that name no street of their own: the path is found.
_GENERIC_SUBJECTS = {
    "", "gangvagen", "gangvag", "gang och cykelvagen", "gang och cykelvag", "gc vagen", "gc vag",
    "gcvag", "gcvagen", "cykelvagen", "cykelvag", "stigen", "gangstigen", "vagen", "gatan",
    "gangbanan", "passagen", "gangstraket", "straket", "promenadvagen", "gangpassagen",
    "gangtunneln", "tunneln", "gangbron", "bron", "trappan", "slanten", "belysning",
    "sträckan", "strackan", "gangstrak", "den", "det",
}

_LETTERS = "abcdefghijklmnopqrstuvwxyzåäöéü"


@dataclass(frozen=True)
class ParsedAddress:
    """One address cell, taken apart.

    Attributes
    ----------
    text
        The cleaned cell (noise words dropped, lower case, abbreviations expanded).
    form
        ``"empty"``, ``"address"`` (street and number), ``"name"`` (a street or place name
        without a number), ``"intersection"`` or ``"between"``.
    street
        Street or place key (see :func:`name_key`), for ``address`` and ``name``; for
        ``between``, the subject street or None when it is a generic path ("gångvägen").
    number, letter, number_to, letter_to
        House number, its letter (``""`` when none), and the end of a range (``3-5``).
    postcode
        Five digits (``"11145"``) or None.
    locality
        Words after the postcode or after a comma (``"stockholm"``) or None.
    street_a, street_b
        The two cross streets of an intersection or a span.
    """

    text: str
    form: str
    street: str | None = None
    number: int | None = None
    letter: str = ""
    number_to: int | None = None
    letter_to: str = ""
    postcode: str | None = None
    locality: str | None = None
    street_a: str | None = None
    street_b: str | None = None


def _strip_accents_keep_swedish(text: str) -> str:
    # keep å/ä/ö (and é as written) but normalise composed forms
    return unicodedata.normalize("NFC", text)


def _expand_token_abbr(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        done = False
        for abbr, full in _SUFFIX_ABBR:
            if tok == abbr and out and not out[-1][-1:].isdigit():
                out[-1] = out[-1] + full  # "Birger Jarls g." -> "birger jarlsgatan"
                done = True
                break
            if tok.endswith(abbr) and len(tok) > len(abbr) + 1 and tok[-len(abbr) - 1].isalpha():
                out.append(tok[: -len(abbr)] + full)  # "storg." -> "storgatan"
                done = True
                break
        if not done:
            out.append(tok)
    return out


def name_key(text: object) -> str:
    """The matching key of a street or place name: case, spacing, punctuation, abbreviations.

    Diacritics are kept (see :func:`name_fold` for the fallback).

    >>> name_key("Storg.")
    'storgatan'
    >>> name_key("S:t Eriksgatan")
    'sankt eriksgatan'
    >>> name_key("Birger Jarls g.")
    'birger jarlsgatan'
    >>> name_key("  KYRKV. ")
    'kyrkvägen'
    """
    if text is None:
        return ""
    t = _strip_accents_keep_swedish(str(text)).lower().strip()
    if not t:
        return ""
    t = _SANKT.sub("sankt", t)
    t = _SPACE.sub(" ", t)
    tokens = _expand_token_abbr(t.split(" "))
    t = " ".join(tokens)
    t = t.replace("-", " ").replace(":", " ")
    t = _PUNCT.sub(" ", t)
    t = t.replace("/", " ").replace("&", " ")
    return _SPACE.sub(" ", t).strip()


def name_fold(text: object) -> str:
    """:func:`name_key` with å/ä/ö and other diacritics folded.

    >>> name_fold("Tegnérgatan")
    'tegnergatan'
    """
    return fold_text(name_key(text))


def stem(fold: str) -> str:
    """A folded name without its generic ending (``kungsgatan`` -> ``kungs``)."""
    s = fold.replace(" ", "")
    for end in _GENERIC_ENDINGS:
        if s.endswith(end) and len(s) > len(end) + 1:
            return s[: -len(end)]
    return s


def blocking_keys(fold: str) -> set[str]:
    """Blocking keys of a folded name for the fuzzy stage.

    A name is a candidate for a misspelt query when they share a key: the first two letters of
    the name, the first three or the last three letters of the stem, or the first three
    letters of any word. One typo keeps at least one key in all but very short names.

    >>> sorted(blocking_keys("kungsgatan"))
    ['f:ku', 'p:kun', 's:ngs', 'w:kun']
    """
    keys: set[str] = set()
    compact = fold.replace(" ", "")
    if len(compact) >= 2:
        keys.add("f:" + compact[:2])
    st = stem(fold)
    if st:
        keys.add("p:" + st[:3])
        keys.add("s:" + st[-3:])
    for w in fold.split():
        if len(w) >= 3:
            keys.add("w:" + w[:3])
    return keys


_MOJIBAKE = re.compile(
    "[ÃÂ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc]"
)


def repair_encoding(text: str) -> tuple[str, bool]:
    """Undo UTF-8 read as Windows-1252 (``GÃ¥ngvÃ¤gen`` -> ``Gångvägen``).

    Returns ``(text, repaired)``; text that does not look damaged is returned unchanged.
    """
    if not _MOJIBAKE.search(text):
        return text, False
    try:
        fixed = text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        try:
            fixed = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return text, False
    return fixed, True


def is_other_script(text: str) -> bool:
    """True when most letters of ``text`` are not Latin (Cyrillic, Arabic, CJK ...)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    return latin < 0.5 * len(letters)


def parse_housenumber(text: object) -> tuple[int | None, str, int | None, str]:
    """Split a house number: ``"12A"`` -> ``(12, "a", None, "")``.

    ``"3-5"`` -> ``(3, "", 5, "")``; junk -> ``(None, "", None, "")``.

    >>> parse_housenumber("12 B")
    (12, 'b', None, '')
    >>> parse_housenumber("3-5")
    (3, '', 5, '')
    """
    if text is None:
        return None, "", None, ""
    t = str(text).strip().lower()
    m = re.match(
        r"^(\d{1,5})\s*([a-zåäö])?(?![a-zåäö])(?:\s*[-–—,/]\s*(\d{1,5})\s*([a-zåäö])?(?![a-zåäö]))?",
        t,
    )
    if not m:
        return None, "", None, ""
    n2 = int(m.group(3)) if m.group(3) else None
    return int(m.group(1)), m.group(2) or "", n2, m.group(4) or ""


def letter_code(letter: str) -> int:
    """0 for no letter, 1.. for a, b, ..., ö (for the gazetteer's integer address keys)."""
    if not letter:
        return 0
    i = _LETTERS.find(letter[0].lower())
    return i + 1 if i >= 0 else len(_LETTERS) + 1


def _drop_noise(t: str) -> str:
    t = _NOISE_RE.sub("", t).strip()
    return t


def _split_pair(text: str) -> tuple[str, str] | None:
    parts = [p for p in _AND_RE.split(text, maxsplit=1) if p is not None]
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        return None
    return parts[0].strip(), parts[1].strip()


def parse_address(text: object) -> ParsedAddress:  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
    """Take one address cell apart.

    >>> p = parse_address("Storg. 12 B, 123 45 Storstad")
    >>> (p.form, p.street, p.number, p.letter, p.postcode, p.locality)
    ('address', 'storgatan', 12, 'b', '12345', 'storstad')
    >>> parse_address("korsningen Sveavägen/Kungsgatan").street_a
    'sveavägen'
    >>> p = parse_address("gångvägen mellan Rågsvedsvägen och Snösätragränd")
    >>> (p.form, p.street, p.street_a, p.street_b)
    ('between', None, 'rågsvedsvägen', 'snösätragränd')
    >>> parse_address("utanför Rinkebyskolan").street
    'rinkebyskolan'
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ParsedAddress(text="", form="empty")
    raw = _SPACE.sub(" ", _strip_accents_keep_swedish(str(text))).strip()
    t = raw.lower()
    t = _NR_RE.sub("", t)
    t = _drop_noise(t)
    t = t.strip(" ,.;")
    if not t:
        return ParsedAddress(text="", form="empty")

    # intersection: "korsningen X och Y", "hörnet X/Y", "X/Y"
    m_int = _INTERSECTION_WORDS.match(t)
    if m_int or ("/" in t and not re.search(r"\d", t) and "mellan" not in t):
        body = t[m_int.end():] if m_int else t
        pair = _split_pair(body)
        if pair is not None:
            a, b = (name_key(_drop_noise(x)) for x in pair)
            if a and b:
                return ParsedAddress(text=t, form="intersection", street_a=a, street_b=b)

    # span: "gångvägen mellan A och B", "Storgatan mellan Kyrkvägen och Torggatan"
    m_bt = _BETWEEN_RE.match(t)
    if m_bt:
        subject = name_key(m_bt.group("subject"))
        a = name_key(_drop_noise(m_bt.group("a")))
        b = name_key(_drop_noise(m_bt.group("b")))
        if a and b:
            subj = None if fold_text(subject) in _GENERIC_SUBJECTS else subject
            return ParsedAddress(text=t, form="between", street=subj, street_a=a, street_b=b)

    head, _, tail = t.partition(",")
    postcode = None
    locality = None
    pc = _POSTCODE_RE.search(tail) or _POSTCODE_RE.search(head)
    if pc and (pc.string is tail or pc.start(1) > 0):
        postcode = pc.group(1) + pc.group(2)
        if pc.string is tail:
            tail = (tail[: pc.start(1)] + " " + tail[pc.end(2):]).strip(" ,")
        else:
            loc = head[pc.end(2):].strip(" ,")
            head = head[: pc.start(1)].strip(" ,")
            tail = (loc + " " + tail).strip()
    tail = tail.strip(" ,")
    if tail:
        locality = name_key(tail) or None

    m = _NUMBER_RE.match(head)
    if m and m.group("street").strip():
        street = name_key(m.group("street").strip(" ,"))
        rest = m.group("rest").strip(" ,.")
        if rest and locality is None and not re.search(r"\d", rest):
            locality = name_key(rest) or None
        n1 = int(m.group("num"))
        n2 = int(m.group("num2")) if m.group("num2") else None
        if n2 is not None and n2 <= n1:
            n2 = None
        if street:
            return ParsedAddress(
                text=t, form="address", street=street, number=n1, letter=m.group("letter") or "",
                number_to=n2, letter_to=m.group("letter2") or "", postcode=postcode,
                locality=locality,
            )
    key = name_key(head)
    if not key:
        return ParsedAddress(text=t, form="empty", postcode=postcode, locality=locality)
    return ParsedAddress(text=t, form="name", street=key, postcode=postcode, locality=locality)
