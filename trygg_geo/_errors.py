"""Exceptions and warnings of trygg_geo.

Every exception subclasses a built-in, so ``except ValueError`` or
``except FileNotFoundError`` in user code still works. Every message names
the input (file, row, column where known) and says how to fix it.

A message about the user's data can be a :class:`Msg`: a key of
:data:`trygg_geo._i18n.TEXTS` and its values. ``str()`` of the error or warning is
English (for API users and logs); :func:`render` gives it in Swedish or English, as the
command line prints it in the language of the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trygg_geo._i18n import TEXTS, fmt_number, fmt_percent, text

__all__ = [
    "CRSError",
    "ConfigError",
    "DataQualityWarning",
    "EmptyLayerError",
    "GeocodeError",
    "InputError",
    "MissingColumnError",
    "MissingDependencyError",
    "MissingFileError",
    "Msg",
    "Number",
    "Percent",
    "OutputPathError",
    "TryggGeoError",
    "TryggGeoWarning",
    "UnknownConfigKeyError",
    "UnreadableFileError",
    "msg",
    "render",
]


@dataclass(frozen=True)
class Msg:
    """A user-facing message: a key of :data:`trygg_geo._i18n.TEXTS` and the values to fill in.

    A value may itself be a :class:`Msg` (rendered in the same language) or a list or tuple
    of values (rendered and joined with ", "). ``str()`` is the English text.

    >>> m = msg("err.where.row", row=5)
    >>> str(m), m.render("sv")
    ('row 5', 'rad 5')
    """

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"sv"`` or ``"en"``)."""
        return text(self.key, lang, **{k: _render_value(v, lang) for k, v in self.values.items()})

    def __str__(self) -> str:
        return self.render("en")


def msg(key: str, /, **values: Any) -> Msg:
    """A :class:`Msg`: ``msg("io.dup_rows", file=path, n=2, listed=...)``."""
    return Msg(key, values)


@dataclass(frozen=True)
class Number:
    """A number in a :class:`Msg`, written as each language writes it (``1,5`` / ``1.5``).

    >>> Number(1.5, 1).render("sv"), Number(1234.5, 1).render("en")
    ('1,5', '1,234.5')
    """

    value: float
    decimals: int = 0

    def render(self, lang: str) -> str:
        """The number in ``lang``."""
        return fmt_number(self.value, self.decimals, lang)


@dataclass(frozen=True)
class Percent:
    """A share as a percentage in a :class:`Msg`: ``0,8`` -> ``80 %`` (sv) or ``80%`` (en).

    >>> Percent(0.8).render("sv"), Percent(0.8).render("en")
    ('80 %', '80%')
    """

    value: float

    def render(self, lang: str) -> str:
        """The percentage in ``lang``."""
        return fmt_percent(self.value, lang)


def _render_value(v: Any, lang: str) -> Any:
    how = getattr(v, "render", None)  # a Msg, a Number, or an error or warning of ours
    if callable(how) and not isinstance(v, type):
        return how(lang)
    if isinstance(v, (list, tuple)):
        return ", ".join(str(_render_value(x, lang)) for x in v)
    return v


def _render_text(message: str | Msg | None, lang: str) -> str | None:
    return message.render(lang) if isinstance(message, Msg) else message


def render(obj: BaseException | Warning | str, lang: str = "en") -> str:
    """An error's or warning's message in ``lang``; ``str(obj)`` when it has no :class:`Msg`.

    >>> render(InputError(msg("err.where.row", row=2), file="a.csv", fix="x"), "sv")
    "filen 'a.csv': rad 2 Gör så här: x"
    """
    how = getattr(obj, "render", None)
    return str(how(lang)) if callable(how) else str(obj)


class TryggGeoError(Exception):
    """Base class of every error raised by trygg_geo."""


def _where(
    file: str | Path | None, row: int | None, column: str | None, key: str | None = None,
    lang: str = "en",
) -> str:
    parts = []
    if file is not None:
        parts.append(text("err.where.file", lang, file=file))
    if key is not None:  # a config key: "incidents.crs" is shown as "[incidents] crs"
        section, _, name = key.rpartition(".")
        parts.append(f"[{section}] {name}" if section else text("err.where.key", lang, key=key))
    if row is not None:
        parts.append(text("err.where.row", lang, row=row))
    if column is not None:
        parts.append(text("err.where.column", lang, column=column))
    return ", ".join(parts)


def _located(message: str, where: str, fix: str | None, lang: str = "en") -> str:
    """``where: message Fix: fix``, the one format of every located error."""
    body = f"{where}: {message}" if where else message
    return f"{body} {text('err.fix', lang, fix=fix)}" if fix else body


class _LocatedError(TryggGeoError, ValueError):
    """An error located in the input: file, row, column and config key, with the fix.

    The one constructor and message format (``where: message Fix: fix``) of
    :class:`InputError` and :class:`CRSError`.
    """

    def __init__(
        self,
        message: str | Msg,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
        fix: str | Msg | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.key = key
        self.message = message
        self.fix = _render_text(fix, "en")
        self._fix = fix
        super().__init__(self.render("en"))

    def render(self, lang: str = "en") -> str:
        """The message in ``lang``: where, what and the fix (``str()`` is the English one).

        A message given as plain (English) text is shown in English as a whole, so one line
        never mixes the languages.
        """
        if not isinstance(self.message, Msg):
            lang = "en"
        return _located(str(_render_text(self.message, lang)),
                        _where(self.file, self.row, self.column, self.key, lang),
                        _render_text(self._fix, lang), lang)


class InputError(_LocatedError):
    """Bad input data. Carries the file, row and column where known.

    Parameters
    ----------
    message
        What is wrong.
    file, row, column
        Where it is wrong. ``row`` is the 1-based line (CSV) or sheet row
        (Excel) as a person sees it in a spreadsheet.
    key
        The projekt.toml key behind the value (``"survey.scale"``), shown as
        ``[survey] scale``.
    fix
        How to fix it.
    """


class MissingFileError(TryggGeoError, FileNotFoundError):
    """An input file does not exist."""

    def __init__(self, path: str | Path, *, what: str = "input file") -> None:
        self.file = str(path)
        p = Path(path)
        hint: Msg | str = ""
        parent = p.parent if str(p.parent) else Path(".")
        if parent.is_dir():
            near = sorted(x.name for x in parent.iterdir() if x.suffix == p.suffix)[:5]
            if near:
                hint = msg("err.missing_file.near", folder=str(parent), names=", ".join(near))
        else:
            hint = msg("err.missing_file.no_folder", folder=str(parent))
        # a known kind of file is named in Swedish too; any other as given
        known = TEXTS.get(f"what.{what}")
        self.message = msg("err.missing_file", path=str(path), hint=hint,
                           what=Msg(f"what.{what}") if known else what)
        super().__init__(self.message.render("en"))

    def render(self, lang: str = "en") -> str:
        """The message in ``lang``."""
        return self.message.render(lang)


class UnreadableFileError(InputError):
    """A file exists but cannot be read in any supported format or encoding."""


class MissingColumnError(InputError):
    """A required column is missing. The message lists the columns found."""

    def __init__(
        self,
        column: str,
        *,
        found: Iterable[str],
        file: str | Path | None = None,
        accepted: Iterable[str] = (),
        config_key: str | None = None,
    ) -> None:
        found_list = list(found)
        accepted_list = list(accepted)
        found_text = ", ".join(repr(c) for c in found_list)
        message = msg("err.missing_column", column=column,
                      found=found_text or Msg("err.missing_column.none"))
        if accepted_list:
            message = msg("err.join", a=message, b=msg("err.missing_column.accepted",
                                                       accepted=", ".join(accepted_list)))
        fix = (msg("err.missing_column.fix_config", column=column, config_key=config_key)
               if config_key else msg("err.missing_column.fix", column=column))
        self.found = found_list
        super().__init__(message, file=file, column=column, fix=fix)


class EmptyLayerError(InputError):
    """A layer or table has no rows (or no rows left after validation)."""


class CRSError(_LocatedError):
    """Missing, wrong or mixed coordinate reference systems.

    Same signature and message format as :class:`InputError`, plus the config key.

    Parameters
    ----------
    message
        What is wrong.
    file, row, column
        Where it is wrong (as in :class:`InputError`).
    key
        The projekt.toml key that sets this CRS (``"incidents.crs"``), shown as
        ``[incidents] crs``.
    fix
        How to fix it.
    """



class ConfigError(TryggGeoError, ValueError):
    """An invalid project configuration."""


class OutputPathError(ConfigError):
    """An output that cannot be written safely.

    It would overwrite an input or another output, its name is not a plain file name with the
    right ending, or its folder is a file.
    """


class UnknownConfigKeyError(ConfigError, KeyError):
    """A key in projekt.toml that trygg_geo does not know."""

    def __init__(self, key: str, *, file: str | Path | None, known: Iterable[str]) -> None:
        self.key = key
        self.file = None if file is None else str(file)
        known_list = sorted(known)
        where = f"'{file}'" if file is not None else "the configuration"
        self._msg = (
            f"{where}: unknown key '{key}'. Known keys here: {', '.join(known_list)}. "
            "Fix: correct the spelling or remove the key."
        )
        super().__init__(self._msg)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self._msg


class GeocodeError(TryggGeoError, ValueError):
    """Geocoding could not run at all (not: one row that could not be placed)."""


class MissingDependencyError(TryggGeoError, ImportError):
    """An optional dependency is not installed. The message names the install command."""

    def __init__(self, package: str, *, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package '{package}', which is not installed. "
            f"Fix: pip install 'trygg-geo[{extra}]'"
        )


class TryggGeoWarning(UserWarning):
    """Base class of trygg_geo's warnings.

    The message may be a :class:`Msg`; ``str()`` is then its English text and
    :meth:`render` gives it in either language.
    """

    def __init__(self, message: str | Msg = "", *args: object) -> None:
        self.message = message
        super().__init__(str(message), *args)

    def render(self, lang: str = "en") -> str:
        """The warning's text in ``lang``."""
        return str(_render_text(self.message, lang))


class DataQualityWarning(TryggGeoWarning):
    """Input data that was accepted but looks suspicious (flagged, never dropped)."""
