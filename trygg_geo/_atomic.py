"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash (or a kill) while writing never leaves a half-written file over a good one,
because ``os.replace`` is atomic on the same file system.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path"]


@contextlib.contextmanager
def atomic_path(target: str | Path, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    The temporary file keeps the target's suffix (drivers such as GDAL choose the
    format from it). On an exception the temporary file is removed and the target
    is left untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("hej")
    >>> (d / "a.txt").read_text()
    'hej'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.stem}.tmp-", suffix=suffix if suffix is not None else target.suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # let the writer create it (some drivers refuse an existing empty file)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        for leftover in (
            tmp,
            Path(str(tmp) + "-journal"),
            Path(str(tmp) + "-wal"),
            Path(str(tmp) + "-shm"),
        ):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
