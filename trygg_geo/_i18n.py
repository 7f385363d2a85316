"""Language helpers shared by the map, the report and the CLI.

Interval labels follow the confidence level of the run: texts hold the token ``[[level]]``
where the level goes, and :func:`with_level` fills it in, so a run with ``alpha = 0.1`` says
"90 %" everywhere and never a hard-coded "95 %".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LEVEL", "level_label", "with_level"]

#: The token replaced by the confidence level in sv/en texts.
LEVEL = "[[level]]"


def level_label(level: float, lang: str) -> str:
    """A confidence level as people write it: ``0.95`` -> ``"95 %"`` (sv) or ``"95%"`` (en).

    >>> level_label(0.95, "sv"), level_label(0.9, "en"), level_label(0.975, "sv")
    ('95 %', '90%', '97,5 %')
    """
    pct = round(100 * float(level), 1)
    text = f"{pct:.0f}" if pct == int(pct) else f"{pct:.1f}"
    return f"{text.replace('.', ',')} %" if lang == "sv" else f"{text}%"


def with_level(texts: Mapping[str, Any], level: float, lang: str) -> dict[str, Any]:
    """A copy of a text table with :data:`LEVEL` filled in (strings and lists of strings)."""
    label = level_label(level, lang)

    def fill(v: Any) -> Any:
        if isinstance(v, str):
            return v.replace(LEVEL, label)
        if isinstance(v, list):
            return [fill(x) for x in v]
        return v

    return {k: fill(v) for k, v in texts.items()}
