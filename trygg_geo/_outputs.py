"""The outputs of a run as one set.

They are checked before anything is written, committed together, stamped with a run id, and
verifiable afterwards.

1. :func:`check_outputs` (called by :func:`trygg_geo.run` before any work when it writes):
   every output name is a plain file name with the right ending, no output overwrites an input
   (or the config itself) or another output, the output folder is a folder and writable, and no
   output name is an existing folder. A problem raises :class:`OutputPathError` naming the
   config key and the fix.
2. :class:`OutputSet` (used by the pipeline's writer): removes temporary files that killed runs
   left for *our* output names, writes every output into a hidden staging folder
   (``.trygg-geo-staging-<run id>``) in the output folder, then renames the files into place in
   quick succession and writes the manifest ``korning.json`` (each file, its size and SHA-256,
   and the run id) last, atomically. A kill before the renames leaves the previous outputs
   untouched; a kill during them (a window of microseconds) leaves a set that
   :func:`verify_outputs` reports as mixed.
3. :func:`verify_outputs`: is the set in a folder complete and consistent? It names the missing
   files, the files whose content differs from the manifest, and the files that carry another
   run id.

Every output carries the run id: the GeoPackage as dataset metadata (``ogrinfo`` lists
``run_id=...``), the GeoTIFF as a tag, the map and the report in their text.

Test-only hook: with the environment variable ``TRYGG_GEO_TEST_PAUSE=<stage>`` the writer
stops at that stage (``write``, ``geopackage:<layer>``, ``staged``, ``commit:<n>``), creates the
file named by ``TRYGG_GEO_TEST_PAUSE_MARK`` (if set) and sleeps, so that a test can kill it
there. It is never set in normal use.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyogrio
import rasterio
from affine import Affine
from pyproj import CRS

from trygg_geo._atomic import atomic_path
from trygg_geo._crs import require_crs
from trygg_geo._errors import InputError, OutputPathError

if TYPE_CHECKING:
    from trygg_geo.config import Config

__all__ = [
    "MANIFEST",
    "OutputCheck",
    "OutputSet",
    "PlannedOutput",
    "check_outputs",
    "new_run_id",
    "planned_outputs",
    "remove_stale_temps",
    "stamp_geotiff",
    "verify_outputs",
    "with_report_files",
    "write_geotiff",
]

log = logging.getLogger(__name__)

MANIFEST = "korning.json"
#: written beside the report by trygg_geo.report.write_report (a fixed name)
REPORT_FIGURE = "rapport_trender.png"
#: written beside the report by trygg_geo.report.write_report: every project (a fixed name)
REPORT_CSV = "projekt.csv"
STAGING_PREFIX = ".trygg-geo-staging-"
_OWNER = ".owner"
SUFFIXES: dict[str, tuple[str, ...]] = {
    "map": (".html", ".htm"),
    "geopackage": (".gpkg",),
    "report": (".md",),
    "density": (".tif", ".tiff"),
}
_DEFAULTS = {
    "map": "karta.html",
    "geopackage": "resultat.gpkg",
    "report": "rapport.md",
    "density": "tathet.tif",
}
RUN_ID_RE = re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b")


def new_run_id() -> str:
    """A run id: the UTC start time and 6 random hex digits, e.g. ``20241130T200512Z-3f9a2c``."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _pause(stage: str) -> None:
    """Test-only: stop at ``stage`` when ``TRYGG_GEO_TEST_PAUSE`` names it (see the module doc)."""
    if os.environ.get("TRYGG_GEO_TEST_PAUSE") != stage:
        return
    mark = os.environ.get("TRYGG_GEO_TEST_PAUSE_MARK")
    if mark:
        Path(mark).write_text(stage, encoding="utf-8")
    time.sleep(float(os.environ.get("TRYGG_GEO_TEST_PAUSE_SECONDS", "120")))


# ------------------------------------------------------------------------------ checks


@dataclass(frozen=True)
class PlannedOutput:
    """One file a run will write: the config key that names it, and its path."""

    key: str
    path: Path

    @property
    def name(self) -> str:
        return self.path.name


def _src(cfg: Config) -> str:
    return f"'{cfg.source}'" if cfg.source is not None else "the configuration"


def _name_problem(key: str, name: Any) -> str | None:
    """Why ``name`` is not a plain output file name for ``[output] key`` (None when it is)."""
    want = " or ".join(SUFFIXES[key])
    if not isinstance(name, str) or not name.strip():
        return f"is not a file name (it must be text ending in {want})"
    if any(sep in name for sep in ("/", "\\", os.sep, os.altsep or "/")) or name in (".", ".."):
        return "holds a folder part; output names are plain file names in [output] folder"
    if any(ord(ch) < 32 for ch in name) or name != name.strip():
        return "holds control characters or leading/trailing spaces"
    if name.startswith("."):
        return (
            "starts with '.', which hides the file "
            "(and is the pattern of trygg-geo's temporary files)"
        )
    if Path(name).suffix.lower() not in SUFFIXES[key]:
        return f"does not end in {want}"
    if Path(name).stem == "":
        return "has no name before the ending"
    return None


def planned_outputs(cfg: Config) -> list[PlannedOutput]:
    """The files a run of ``cfg`` writes, with the config keys that name them."""
    o = cfg.output
    folder = Path(o.folder)
    out = [
        PlannedOutput("[output] map", folder / o.map),
        PlannedOutput("[output] geopackage", folder / o.geopackage),
        PlannedOutput("[output] report", folder / o.report),
        PlannedOutput(
            "[output] report (its HTML version, the report name with .html)",
            (folder / o.report).with_suffix(".html"),
        ),
        PlannedOutput(
            "[output] report (its PDF version, the report name with .pdf)",
            (folder / o.report).with_suffix(".pdf"),
        ),
        PlannedOutput(
            f"[output] report (its figure, always named {REPORT_FIGURE})", folder / REPORT_FIGURE
        ),
        PlannedOutput(
            f"[output] report (every project as CSV, always named {REPORT_CSV})",
            folder / REPORT_CSV,
        ),
    ]
    if cfg.incidents is not None:
        out.append(PlannedOutput("[output] density", folder / o.density))
    out.append(PlannedOutput(f"the run manifest (always named {MANIFEST})", folder / MANIFEST))
    return out


def with_report_files(paths: Mapping[str, Path]) -> dict[str, Path]:
    """``paths`` (``Results.paths``) with the report's HTML, PDF, figure and CSV after ``report``.

    They are written beside ``rapport.md`` (same name, ``.html`` / ``.pdf``; the figure is
    :data:`REPORT_FIGURE`, the projects :data:`REPORT_CSV`); only the files that exist are
    added.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("rapport.md", "rapport.html", "rapport.pdf"):
    ...     _ = (d / name).write_text("x")
    >>> list(with_report_files({"map": d / "karta.html", "report": d / "rapport.md"}))
    ['map', 'report', 'report_html', 'report_pdf']
    """
    out: dict[str, Path] = {}
    for key, path in paths.items():
        out[key] = path
        if key == "report":
            for extra, p in (("report_html", path.with_suffix(".html")),
                             ("report_pdf", path.with_suffix(".pdf")),
                             ("report_png", path.with_name(REPORT_FIGURE)),
                             ("report_csv", path.with_name(REPORT_CSV))):
                if p.is_file() and extra not in paths:
                    out[extra] = p
    return out


def _inputs(cfg: Config) -> list[tuple[str, Path]]:
    found = [("[areas] path", cfg.areas.path), ("[register] path", cfg.register.path),
             ("[gazetteer] path", cfg.gazetteer.path), ("[survey] path", cfg.survey.path)]
    if cfg.incidents is not None:
        found.append(("[incidents] path", cfg.incidents.path))
    if cfg.source is not None:
        found.append(("the config file itself", cfg.source))
    return found


def _same(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_outputs(cfg: Config) -> list[PlannedOutput]:
    """Check every output of ``cfg`` before anything is written; return the planned outputs.

    Raises
    ------
    OutputPathError
        An output name that is not a plain file name with its ending, an output that would
        overwrite an input, the config or another output, an output name that is a folder, or
        an output folder that is a file or cannot be written.
    """
    src = _src(cfg)
    o = cfg.output
    folder = Path(o.folder)
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        what = "is a file" if probe == folder else f"lies under '{probe}', which is a file"
        raise OutputPathError(
            f"{src}: [output] folder = '{folder}' {what}, not a folder. "
            "Fix: set [output] folder to a new or existing folder, e.g. folder = \"resultat\"."
        )
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        raise OutputPathError(
            f"{src}: [output] folder = '{folder}': the folder '{probe}' cannot be written by this "
            "user. Fix: choose a folder you can write to, or change its permissions."
        )
    inputs = _inputs(cfg)

    def overwrites_input(key: str, path: Path) -> None:
        for ikey, ipath in inputs:
            if _same(path, Path(ipath)):
                raise OutputPathError(
                    f"{src}: {key} = '{path.name}' would overwrite the input {ikey} ('{ipath}'). "
                    "Fix: give the output another name (e.g. the default) or choose another "
                    "[output] folder."
                )

    for key in ("map", "geopackage", "report", "density"):
        name = getattr(o, key)
        why = _name_problem(key, name)
        if why is None or why.startswith(
            "does not end"
        ):  # a plain file name: first, is it an input?
            overwrites_input(f"[output] {key}", folder / name)
        if why:
            raise OutputPathError(
                f"{src}: [output] {key} = {json.dumps(name, ensure_ascii=False)} {why}. "
                f'Fix: write {key} = "{_DEFAULTS[key]}" (a file name only; the place is [output] '
                'folder).'
            )
    planned = planned_outputs(cfg)
    for p in planned:
        overwrites_input(p.key, p.path)
        if p.path.is_dir():
            raise OutputPathError(
                f"{src}: {p.key} = '{p.name}' is an existing folder ('{p.path}'), so the file "
                "cannot be written. "
                "Fix: choose another output name, or move the folder away."
            )
    seen: dict[str, PlannedOutput] = {}
    for p in planned:
        k = p.name.casefold()  # Windows and macOS file systems ignore case
        if k in seen:
            first = seen[k]
            raise OutputPathError(
                f"{src}: {p.key} and {first.key} both write '{p.name}' in '{folder}', so one would "
                "overwrite "
                'the other. Fix: give them different names, e.g. map = "karta.html", report = '
                '"rapport.md", geopackage = "resultat.gpkg".'
            )
        seen[k] = p
    return planned


# ------------------------------------------------------------------------------ writing


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


def _stale_staging(folder: Path, *, keep: Path | None = None) -> list[Path]:
    """Staging folders of runs that are no longer running (killed)."""
    stale = []
    for d in folder.glob(STAGING_PREFIX + "*"):
        if not d.is_dir() or d == keep:
            continue
        owner = d / _OWNER
        with contextlib.suppress(OSError, ValueError):
            host, pid = owner.read_text(encoding="utf-8").split()
            if host == socket.gethostname() and int(pid) != os.getpid() and _pid_alive(int(pid)):
                continue  # a run that is still writing (in another process)
        stale.append(d)
    return stale


def remove_stale(
    folder: Path, names: list[str], *, older_than: float, keep: Path | None = None
) -> list[Path]:
    """Remove what killed runs left in ``folder`` for our own output ``names``.

    That is temporary files (``.<stem>.tmp-*<suffix>`` of :mod:`trygg_geo._atomic`, with
    ``-journal``, ``-wal``, ``-shm``) and staging folders of runs that no longer run. Returns
    what was removed (and logs it).
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for name in names:
        removed += remove_stale_temps(folder / name, older_than=older_than)
    for d in _stale_staging(folder, keep=keep):
        shutil.rmtree(d, ignore_errors=True)
        if not d.exists():
            removed.append(d)
    if removed:
        log.warning(
            "removed %d file(s) or folder(s) left by an interrupted run in %s: %s",
            len(removed),
            folder,
            ", ".join(p.name for p in removed),
        )
    return removed


class OutputSet:
    """Write a run's outputs into a staging folder, then commit them as a set.

    Use it as a context manager; write each output to :meth:`path` (inside the staging
    folder), then call :meth:`commit`. Leaving the block without committing (an error)
    removes the staging folder and leaves the previous outputs untouched.
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        run_id: str,
        names: list[str],
        meta: Mapping[str, str] | None = None,
    ):
        self.folder = Path(folder)
        self.run_id = run_id
        self.names = list(names)
        self.meta = dict(meta or {})
        self.stage = self.folder / f"{STAGING_PREFIX}{run_id}"
        self.removed: list[Path] = []
        self.committed: dict[str, Path] = {}

    def __enter__(self) -> OutputSet:
        started = time.time()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.removed = remove_stale(
            self.folder, self.names + [MANIFEST], older_than=started, keep=self.stage
        )
        self.stage.mkdir()
        (self.stage / _OWNER).write_text(
            f"{socket.gethostname()} {os.getpid()}\n", encoding="utf-8"
        )
        _pause("write")
        return self

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)

    def path(self, name: str) -> Path:
        """Where to write the output ``name`` (in the staging folder)."""
        return self.stage / name

    def commit(self) -> dict[str, Path]:
        """Move every staged file into the output folder, then write the manifest (last).

        Returns the final paths by file name.
        """
        staged = sorted(
            (p for p in self.stage.iterdir() if p.is_file() and not p.name.startswith(".")),
            key=lambda p: (p.suffix == ".md", p.name),
        )  # the report, which people open, last
        entries = [
            {"file": p.name, "bytes": p.stat().st_size, "sha256": _sha256(p)} for p in staged
        ]
        manifest = {
            "run_id": self.run_id,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            **self.meta,
            "files": entries,
        }
        _pause("staged")
        for i, p in enumerate(staged, start=1):
            os.replace(p, self.folder / p.name)
            self.committed[p.name] = self.folder / p.name
            _pause(f"commit:{i}")
        with atomic_path(self.folder / MANIFEST) as tmp:
            tmp.write_text(
                json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
            )
        self.committed[MANIFEST] = self.folder / MANIFEST
        log.info("run %s: wrote %s", self.run_id, ", ".join(self.committed))
        return dict(self.committed)


# ------------------------------------------------------------------------------ files


def remove_stale_temps(target: Path, *, older_than: float) -> list[Path]:
    """Remove the hidden temporary files a killed earlier write left beside ``target``.

    These are ``.<stem>.tmp-*<suffix>`` (:func:`trygg_geo._atomic.atomic_path`) and their
    SQLite journals. Files touched since ``older_than`` (a concurrent writer's) are kept.
    Returns the files removed.
    """
    removed: list[Path] = []
    prefix = f".{target.stem}.tmp-"
    if not target.parent.is_dir():
        return removed
    for f in target.parent.iterdir():
        if not f.name.startswith(prefix):
            continue
        stem = re.sub(r"-(journal|wal|shm)$", "", f.name)
        if not stem.endswith(target.suffix):
            continue
        with contextlib.suppress(FileNotFoundError):
            if f.stat().st_mtime < older_than:
                f.unlink()
                removed.append(f)
    if removed:
        log.info("removed %d temporary file(s) left by an interrupted write: %s",
                 len(removed), [f.name for f in removed])
    return removed


def _per_band(value: Any, bands: int, what: str, target: Path) -> list[Any]:
    """One value for every band: a single value (str or mapping) is repeated."""
    if value is None or isinstance(value, (str, Mapping)):
        return [value] * bands
    values = list(value)
    if len(values) != bands:
        raise InputError(f"{len(values)} {what} for {bands} bands.", file=target,
                         fix=f"give one {what.rstrip('s')} per band, or one for all.")
    return values


def write_geotiff(
    path: str | os.PathLike[str],
    array: Any,
    *,
    transform: Affine,
    crs: Any,
    nodata: float | None = None,
    dtype: str | None = None,
    band_description: str | Sequence[str | None] | None = None,
    units: str | Sequence[str | None] | None = None,
    tags: Mapping[str, Any] | None = None,
    band_tags: Mapping[str, Any] | Sequence[Mapping[str, Any] | None] | None = None,
) -> Path:
    """Write a GeoTIFF atomically: the one raster writer of the package.

    The file is written to a hidden temporary file beside ``path`` and renamed into place
    (:func:`trygg_geo._atomic.atomic_path`), so a crash never leaves a half-written file;
    temporary files that killed earlier writes left for ``path`` are removed afterwards.
    The file is DEFLATE-compressed (with the floating-point or horizontal predictor) and
    tiled in 256 x 256 blocks when both sides are at least 256 cells.

    Parameters
    ----------
    path
        The ``.tif`` file.
    array
        ``(rows, cols)`` for one band or ``(bands, rows, cols)``. Booleans are written as
        uint8.
    transform
        The affine transform of the grid (e.g. ``rasterio.transform.from_origin``).
    crs
        The grid's CRS (required): anything :meth:`pyproj.CRS.from_user_input` reads.
    nodata
        The nodata value; by default NaN for a float array that holds NaN, else none.
    dtype
        Sample type in the file (e.g. ``"float32"``); default the array's.
    band_description
        Band description(s): one string for every band, or one per band.
    units
        Unit(s) of the values, one for every band or one per band.
    tags
        Dataset tags (GDAL metadata), e.g. ``{"run_id": run_id}``: the run id is then in the
        file from the moment it appears, with no second write (:func:`stamp_geotiff`).
    band_tags
        Band tags: one mapping for every band, or one per band.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    CRSError
        When ``crs`` is None.
    InputError
        An array that is not 2-D or 3-D with data, or a list of descriptions, units or band
        tags whose length is not the number of bands.

    Examples
    --------
    >>> import tempfile, pathlib, rasterio
    >>> from affine import Affine
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.tif"
    >>> _ = write_geotiff(out, np.eye(3), transform=Affine(10, 0, 0, 0, -10, 30),
    ...                   crs="EPSG:3006", tags={"run_id": "20240101T000000Z-abcdef"})
    >>> with rasterio.open(out) as src:
    ...     src.crs.to_epsg(), src.tags()["run_id"], src.read(1).sum().item()
    (3006, '20240101T000000Z-abcdef', 3.0)
    """
    target = Path(path)
    grid_crs = require_crs(None if crs is None else CRS.from_user_input(crs),
                           what="the raster to write", file=target)
    arr = np.asarray(array)
    if arr.dtype == bool:
        arr = arr.astype("uint8")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or 0 in arr.shape:
        raise InputError(f"the raster array has shape {np.shape(array)}.", file=target,
                         fix="pass a 2-D (rows, cols) or 3-D (bands, rows, cols) array with data.")
    bands, rows, cols = arr.shape
    if nodata is None and arr.dtype.kind == "f" and bool(np.isnan(arr).any()):
        nodata = float("nan")
    descs = _per_band(band_description, bands, "descriptions", target)
    unit_list = _per_band(units, bands, "units", target)
    btags = _per_band(band_tags, bands, "band tags", target)
    profile: dict[str, Any] = {
        "driver": "GTiff", "height": rows, "width": cols, "count": bands,
        "dtype": arr.dtype.name, "crs": grid_crs.to_wkt(),
        "transform": transform, "nodata": nodata, "compress": "deflate",
    }
    if arr.dtype.kind == "f":
        profile["predictor"] = 3  # floating-point predictor: better DEFLATE on smooth fields
    elif arr.dtype.kind in "iu":
        profile["predictor"] = 2
    if rows >= 256 and cols >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    started = time.time()
    with atomic_path(target) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(arr)
        for i, (d, bt) in enumerate(zip(descs, btags, strict=True), start=1):
            if d:
                dst.set_band_description(i, d)
            if bt:
                dst.update_tags(i, **{str(k): str(v) for k, v in bt.items()})
        if any(u is not None for u in unit_list):
            dst.units = tuple(u or "" for u in unit_list)
        if tags:
            dst.update_tags(**{str(k): str(v) for k, v in tags.items()})
    remove_stale_temps(target, older_than=started)
    log.debug("wrote %s (%d band(s), %dx%d)", target, bands, cols, rows)
    return target


def stamp_geotiff(path: Path, run_id: str) -> None:
    """Add the run id to an existing GeoTIFF as a dataset tag (GDAL metadata ``run_id``).

    For a file written now, pass ``tags={"run_id": run_id}`` to :func:`write_geotiff` (or
    :meth:`trygg_geo.density.DensityRaster.to_geotiff`) instead: one write, no window in
    which the file has no run id.
    """
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(run_id=run_id)


# ------------------------------------------------------------------------------ verifying


@dataclass(frozen=True)
class OutputCheck:
    """What :func:`verify_outputs` found.

    True (``bool(check)``) when the set is complete and consistent.
    """

    folder: Path
    run_id: str | None
    files: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    foreign: dict[str, str] = field(default_factory=dict)
    unstamped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def __bool__(self) -> bool:
        return self.ok

    @property
    def mismatched(self) -> tuple[str, ...]:
        """Every file that is missing, changed or from another run."""
        return tuple(sorted(set(self.missing) | set(self.changed) | set(self.foreign)))

    def __str__(self) -> str:
        if self.ok:
            return (
                f"'{self.folder}': the {len(self.files)} outputs of run {self.run_id} are complete "
                "and consistent."
            )
        return f"'{self.folder}': the outputs are not one consistent set: " + " ".join(
            self.problems
        )


def _stamp_of(path: Path) -> set[str] | None:
    """The run ids a file carries; None for a file that cannot carry one (e.g. PNG)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".gpkg":
            meta = pyogrio.read_info(path, layer=0).get("dataset_metadata") or {}
            return {meta["run_id"]} if "run_id" in meta else set()
        if suffix in (".tif", ".tiff"):
            with rasterio.open(path) as src:
                rid = src.tags().get("run_id")
            return {rid} if rid else set()
        if suffix in (".html", ".htm", ".md", ".csv"):
            return set(RUN_ID_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    except Exception as exc:  # noqa: BLE001 - an unreadable file is reported, not raised
        log.info("could not read the run id of %s: %s", path, exc)
        return {"(unreadable)"}
    return None


def verify_outputs(folder: str | Path) -> OutputCheck:
    """Check whether the set of outputs in ``folder`` is complete and consistent.

    Reads the manifest ``korning.json`` written last by a run, and checks that every file it
    lists is present with the same size and SHA-256, and that every file that can carry a run
    id carries the manifest's. A run killed while moving its files into place, or a file
    replaced by hand, shows up here with the file named.

    Parameters
    ----------
    folder
        The output folder (``[output] folder`` of the config).

    Returns
    -------
    OutputCheck
        ``bool(check)`` is True when the set is complete and consistent; ``check.problems``
        says what is wrong, naming the files.

    Examples
    --------
    >>> import tempfile
    >>> check = verify_outputs(tempfile.mkdtemp())
    >>> bool(check), "korning.json" in check.problems[0]
    (False, True)
    """
    folder = Path(folder)
    mpath = folder / MANIFEST
    if not mpath.is_file():
        return OutputCheck(
            folder,
            None,
            problems=(
                f"there is no manifest {MANIFEST} (no run finished writing here, or it was written "
                "by a trygg-geo "
                "without manifests). Fix: run trygg-geo again.",
            ),
        )
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
        run_id = str(manifest["run_id"])
        entries = [(str(e["file"]), int(e["bytes"]), str(e["sha256"])) for e in manifest["files"]]
    except (ValueError, KeyError, TypeError) as exc:
        return OutputCheck(folder, None, problems=(
            f"the manifest {MANIFEST} cannot be read ({exc}). Fix: run trygg-geo again.",))
    missing, changed, unstamped = [], [], []
    foreign: dict[str, str] = {}
    for name, size, digest in entries:
        p = folder / name
        if not p.is_file():
            missing.append(name)
            continue
        if p.stat().st_size != size or _sha256(p) != digest:
            changed.append(name)
        ids = _stamp_of(p)
        if ids is None:
            continue
        if not ids:
            unstamped.append(name)
        elif run_id not in ids:
            foreign[name] = ", ".join(sorted(ids))
    problems = []
    if missing:
        problems.append(f"missing: {', '.join(missing)}.")
    if changed:
        problems.append(
            f"not the files of run {run_id} (content differs from the manifest): "
            f"{', '.join(changed)}."
        )
    if foreign:
        problems.append(
            "from another run: " + ", ".join(f"{k} (run {v})" for k, v in foreign.items()) + "."
        )
    if problems:
        problems.append("Fix: run trygg-geo again to write a complete set.")
    return OutputCheck(
        folder,
        run_id,
        files=tuple(n for n, _, _ in entries),
        missing=tuple(missing),
        changed=tuple(changed),
        foreign=foreign,
        unstamped=tuple(unstamped),
        problems=tuple(problems),
    )
