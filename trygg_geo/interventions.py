"""The catalogue of intervention kinds (trygghetsinvesteringar).

Each kind has a stable ASCII id (used in every output field), Swedish and
English labels, the geometry it is mapped as, a default radius of effect,
a map icon and a colour. Kind names found in registers ("gatubelysning",
"Slyröjning längs gångväg", "trygghetskamera", ...) are recognised with
:func:`recognise_kind`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["CATALOGUE", "UNKNOWN_KIND", "Kind", "fold_text", "get_kind", "recognise_kind"]


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


CATALOGUE: dict[str, Kind] = {
    k.id: k
    for k in [
        Kind(
            "belysning", "Belysning", "Lighting", "line", 50.0, "lightbulb-o", "#E69F00",
            ("belysning", "ljus", "armatur", "armaturer", "gatubelysning", "gatljus",
             "trygghetsbelysning", "belysningsatgard", "lampa", "lampor", "ljussattning",
             "gangvagsbelysning", "parkbelysning"),
        ),
        Kind(
            "slyrojning", "Slyröjning", "Brush clearance", "polygon", 30.0, "tree", "#009E73",
            ("slyrojning", "sly", "rojning", "gallring", "buskrojning", "vegetationsrojning",
             "siktrojning", "beskarning", "slyrojn"),
        ),
        Kind(
            "kamerabevakning", "Kamerabevakning", "Camera surveillance", "point", 75.0,
            "video-camera", "#0072B2",
            ("kamerabevakning", "kamera", "kameror", "trygghetskamera", "overvakningskamera",
             "overvakning", "kamerabev", "cctv", "bevakningskamera"),
        ),
        Kind(
            "klottersanering", "Klottersanering", "Graffiti removal", "point", 50.0,
            "paint-brush", "#CC79A7",
            ("klottersanering", "klotter", "klotterborttagning", "klottersan", "graffiti",
             "sanering", "klotterskydd"),
        ),
        Kind(
            "utemiljo", "Upprustning av utemiljö", "Public space upgrade", "polygon", 50.0,
            "leaf", "#56B4E9",
            ("utemiljo", "upprustning", "upprustning av utemiljo", "torg", "park",
             "lekplats", "mötesplats", "motesplats", "sittplatser", "gestaltning",
             "ombyggnad"),
        ),
        Kind(
            "trygghetsvandring", "Trygghetsvandring", "Safety walk", "point", 100.0,
            "users", "#D55E00",
            ("trygghetsvandring", "vandring", "trygghetsvandr", "nattvandring"),
        ),
    ]
}

UNKNOWN_KIND = Kind(
    "annat", "Annat", "Other", "point", 50.0, "question", "#999999", ("annat", "ovrigt")
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


def recognise_kind(text: object) -> tuple[str, bool]:
    """Map a register's kind text to a catalogue id.

    Returns ``(kind_id, recognised)``. Text that matches no kind gives
    ``("annat", False)``: it is kept and flagged, never dropped.

    >>> recognise_kind("Gatubelysning, nya armaturer")
    ('belysning', True)
    >>> recognise_kind("Slyröjn.")
    ('slyrojning', True)
    >>> recognise_kind("Konstverk")
    ('annat', False)
    """
    if text is None or (isinstance(text, float) and text != text):
        return (UNKNOWN_KIND.id, False)
    folded = fold_text(str(text))
    if not folded:
        return (UNKNOWN_KIND.id, False)
    if folded in CATALOGUE:
        return (folded, True)
    words = folded.split()
    # 1. whole phrase or word equal to a synonym; first word counts most
    for w in [folded, *words]:
        for kind in CATALOGUE.values():
            if w in kind.synonyms:
                return (kind.id, True)
    # 2. a word starting with a synonym of 4+ letters (compound words:
    #    "belysningsupprustning", "kamerabevakningen")
    for w in words:
        for kind in CATALOGUE.values():
            for s in kind.synonyms:
                if (
                    len(s) >= 4
                    and " " not in s
                    and (w.startswith(s) or (len(w) >= 5 and s.startswith(w)))
                ):
                    return (kind.id, True)
    if folded in UNKNOWN_KIND.synonyms:
        return (UNKNOWN_KIND.id, True)
    return (UNKNOWN_KIND.id, False)
