"""Exceptions and warnings of trygg_geo.

Every exception subclasses a built-in, so ``except ValueError`` or
``except FileNotFoundError`` in user code still works. Every message names
the input (file, row, column where known) and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

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
    "OutputPathError",
    "TryggGeoError",
    "TryggGeoWarning",
    "UnknownConfigKeyError",
    "UnreadableFileError",
]


class TryggGeoError(Exception):
    """Base class of every error raised by trygg_geo."""


def _where(file: str | Path | None, row: int | None, column: str | None) -> str:
    parts = []
    if file is not None:
        parts.append(f"file '{file}'")
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)


class InputError(TryggGeoError, ValueError):
    """Bad input data. Carries the file, row and column where known.

    Parameters
    ----------
    message
        What is wrong.
    file, row, column
        Where it is wrong. ``row`` is the 1-based line (CSV) or sheet row
        (Excel) as a person sees it in a spreadsheet.
    fix
        How to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.fix = fix
        where = _where(file, row, column)
        text = f"{where}: {message}" if where else message
        if fix:
            text = f"{text} Fix: {fix}"
        super().__init__(text)


class MissingFileError(TryggGeoError, FileNotFoundError):
    """An input file does not exist."""

    def __init__(self, path: str | Path, *, what: str = "input file") -> None:
        self.file = str(path)
        p = Path(path)
        hint = ""
        parent = p.parent if str(p.parent) else Path(".")
        if parent.is_dir():
            near = sorted(x.name for x in parent.iterdir() if x.suffix == p.suffix)[:5]
            if near:
                hint = f" Files with the same ending in '{parent}': {', '.join(near)}."
        else:
            hint = f" The folder '{parent}' does not exist either."
        super().__init__(
            f"The {what} '{path}' does not exist.{hint} "
            "Fix: check the path (relative paths are taken from the current "
            "folder, or from the folder of projekt.toml in a project config)."
        )


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
        msg = (
            f"the required column '{column}' is missing. "
            f"Columns found: {', '.join(repr(c) for c in found_list) or '(none)'}."
        )
        if accepted_list:
            msg += f" Recognised header names: {', '.join(accepted_list)}."
        fix = (
            f"rename a column to '{column}'"
            + (f", or map it in projekt.toml under [{config_key}]" if config_key else "")
            + "."
        )
        self.found = found_list
        super().__init__(msg, file=file, column=column, fix=fix)


class EmptyLayerError(InputError):
    """A layer or table has no rows (or no rows left after validation)."""


class CRSError(TryggGeoError, ValueError):
    """Missing, wrong or mixed coordinate reference systems."""


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
    """Base class of trygg_geo's warnings."""


class DataQualityWarning(TryggGeoWarning):
    """Input data that was accepted but looks suspicious (flagged, never dropped)."""
