"""Progress bars on long loops, behind one switch that the command line sets.

:func:`progress` wraps an iterable in a tqdm bar on standard error, or returns it as it is.
A bar is shown only when all of these hold:

- the switch (:func:`set_progress`) is not ``"off"`` (``trygg-geo --quiet`` sets it off);
- the loop has at least ``min_items`` items (short loops finish before a bar says anything);
- standard error is a terminal, or the switch is ``"on"`` (forced): so log files, pipes and
  CI logs get no bar text.

The switch starts at ``"auto"`` (a bar on a terminal only). Bars never change what a loop
yields.

>>> with progress_mode("off"):
...     list(progress(range(3), desc="x", min_items=1))
[0, 1, 2]
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Literal, TypeVar

from tqdm import tqdm

__all__ = ["MODES", "get_progress", "progress", "progress_enabled", "progress_mode",
           "set_progress", "write"]

T = TypeVar("T")
Mode = Literal["auto", "on", "off"]

#: ``auto``: a bar when standard error is a terminal; ``on``: always (long loops);
#: ``off``: never (``--quiet``)
MODES: tuple[str, ...] = ("auto", "on", "off")
_STATE: dict[str, str] = {"mode": "auto"}


def set_progress(mode: str) -> None:
    """Set the switch: ``"auto"``, ``"on"`` or ``"off"``.

    Raises
    ------
    ValueError
        For any other value.
    """
    if mode not in MODES:
        raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}.")
    _STATE["mode"] = mode


def get_progress() -> str:
    """The switch: ``"auto"``, ``"on"`` or ``"off"``."""
    return _STATE["mode"]


@contextlib.contextmanager
def progress_mode(mode: str) -> Iterator[None]:
    """Set the switch within a ``with`` block; the previous value is restored after it."""
    old = get_progress()
    set_progress(mode)
    try:
        yield
    finally:
        _STATE["mode"] = old


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def progress_enabled(n: int | None, *, min_items: int = 100, force: bool = False) -> bool:
    """Whether a loop of ``n`` items (None: unknown) gets a bar.

    ``force`` (a function's own ``progress=True``) shows the bar off a terminal too, as the
    switch ``"on"`` does; ``"off"`` wins over both.

    >>> with progress_mode("on"):
    ...     progress_enabled(5, min_items=10), progress_enabled(50, min_items=10)
    (False, True)
    """
    mode = get_progress()
    if mode == "off" or (n is not None and n < min_items):
        return False
    return mode == "on" or force or _stderr_is_terminal()


def progress(
    iterable: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    min_items: int = 100,
    force: bool = False,
) -> Iterable[T]:
    """``iterable`` with a progress bar on standard error when :func:`progress_enabled`.

    Parameters
    ----------
    iterable
        The loop's items; returned unchanged when no bar is shown.
    desc
        The bar's label (``"geokodning: exact"``).
    total
        The number of items; by default ``len(iterable)`` when it has one.
    unit
        What one item is (``"rad"``, ``"stad"``).
    min_items
        No bar for fewer items (a loop of unknown length gets one when enabled).
    force
        Show the bar even when standard error is not a terminal (unless the switch is off).

    Returns
    -------
    Iterable
        The same items in the same order.
    """
    n = total
    if n is None:
        try:
            n = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            n = None
    if not progress_enabled(n, min_items=min_items, force=force):
        return iterable
    return tqdm(iterable, total=n, desc=desc, unit=unit, leave=False, file=sys.stderr,
                dynamic_ncols=True, mininterval=0.5)


def write(line: str) -> None:
    """Print a line to standard output without breaking a bar that is being drawn."""
    tqdm.write(line, file=sys.stdout)
