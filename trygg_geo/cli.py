"""The ``trygg-geo`` command line: ``demo``, ``run``, ``geocode`` and ``verify``.

A thin layer over :func:`trygg_geo.run`: it parses arguments, prints progress, and ends
with a short summary of what was written where. One error path, and no traceback ever
reaches the terminal:

- exit 2: an error of trygg_geo (bad input, config or output path; a file that cannot be
  read or written) is printed as one line ``trygg-geo: <what, where, Fix: ...>``; argparse
  errors also exit 2;
- exit 1: any other exception is a bug in trygg-geo. One line says so and names the log file
  that holds the traceback and the recent log (``<output folder>/trygg-geo-fel.log`` when the
  output folder is known, else a file in the system's temporary folder);
- exit 130: interrupted (Ctrl-C); the previous outputs stay as they were.
"""

from __future__ import annotations

import argparse
import collections
import datetime as _dt
import errno
import logging
import os
import platform
import re
import sys
import tempfile
import time
import traceback
import types
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from trygg_geo._errors import TryggGeoError

__all__ = ["BUG_LOG", "main"]

#: the file a bug's traceback is written to, in the output folder when it is known
BUG_LOG = "trygg-geo-fel.log"
# OS errors the user can fix (a path, a permission, a full disk): exit 2, not a bug
_USER_ERRNO = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.ENOSPC,
               errno.EROFS, errno.EDQUOT, errno.ENAMETOOLONG, errno.EEXIST, errno.ENOTEMPTY}


def _progress(start: float) -> Callable[[str], None]:
    step = [0]

    def say(msg: str) -> None:
        step[0] += 1
        print(f"[{time.perf_counter() - start:5.1f} s] {step[0]}. {msg} …", file=sys.stderr, flush=True)

    return say


def _summary(res: object) -> str:
    from trygg_geo.pipeline import Results

    assert isinstance(res, Results)
    lang = res.config.project.language
    n, n_p, n_u = len(res.register), len(res.placed), len(res.unplaced)
    lines = []
    if lang == "sv":
        lines.append(f"Registret: {n} rader, {n_p} placerade, {n_u} ej placerade (summa {n_p + n_u}).")
    else:
        lines.append(f"Register: {n} rows, {n_p} placed, {n_u} unplaced (total {n_p + n_u}).")
    kinds = res.effects[res.effects["scope"] == "kind"]
    n_inv = int((res.effects["scope"] == "investment").sum())
    if kinds.empty and n_inv:
        lines.append(f"  Ingen effekt per åtgärdstyp (behandlade områden fick flera typer eller ingen "
                     f"typ hade behandlade områden); {n_inv} skattningar per investering finns i rapporten."
                     if lang == "sv" else
                     f"  No effect per kind (treated areas got several kinds, or no kind had treated "
                     f"areas); {n_inv} per-investment estimates are in the report.")
    for _, r in kinds.iterrows():
        if pd.isna(r["estimate"]):  # not estimated or not published: say why
            lines.append(f"  {r['kind']:<16} {'–':>6}     {r.get('reason', '')}")
            continue
        lines.append(
            f"  {r['kind']:<16} {100 * r['estimate']:+6.1f} pp  "
            f"[{100 * r['ci_low']:+.1f}, {100 * r['ci_high']:+.1f}]  "
            f"n={int(r['n_treated'])}/{int(r['n_control'])}  MDE {100 * r['mde']:.1f} pp"
        )
    lines.append("Skrivet:" if lang == "sv" else "Written:")
    for name, p in res.paths.items():
        lines.append(f"  {name:<11} {p}")
    return "\n".join(lines)


def _cmd_demo(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from trygg_geo.config import load_config
    from trygg_geo.demo import make_demo_city
    from trygg_geo.pipeline import run

    start = time.perf_counter()
    say = _progress(start)
    out = Path(args.out)
    args.log_dir = out
    if out.exists() and not out.is_dir():
        from trygg_geo._errors import OutputPathError

        raise OutputPathError(f"--out '{out}' is a file, not a folder. Fix: give a new or existing folder, "
                              "e.g. --out trygg_demo.")
    say(f"Bygger demostaden (seed {args.seed}) i {out / 'indata'}")
    city = make_demo_city(out / "indata", seed=args.seed)
    cfg = load_config(city.config)
    cfg = replace(cfg, output=replace(cfg.output, folder=out))
    if args.lang:
        cfg = replace(cfg, project=replace(cfg.project, language=args.lang))
    res = run(cfg, progress=say)
    print(_summary(res))
    print(f"Klart på {time.perf_counter() - start:.1f} s." if cfg.project.language == "sv"
          else f"Done in {time.perf_counter() - start:.1f} s.")
    return _answer_code(res)


def _cmd_run(args: argparse.Namespace) -> int:
    from trygg_geo.config import load_config
    from trygg_geo.pipeline import run

    start = time.perf_counter()
    cfg = load_config(args.config)
    args.log_dir = cfg.output.folder
    res = run(cfg, progress=_progress(start))
    print(_summary(res))
    return _answer_code(res)


def _answer_code(res: object) -> int:
    """0 when at least one effect was estimated and published; 3 when the run could not answer.

    The outputs are written either way (the unplaced rows and the reasons are worth reading);
    the exit code tells a script that no effect in them means anything.
    """
    eff = res.effects  # type: ignore[attr-defined]
    if len(eff) and eff["estimate"].notna().any():  # per kind or per investment
        return 0
    sv = res.config.project.language == "sv"  # type: ignore[attr-defined]
    print(("trygg-geo: ingen effekt kunde skattas; se skälen ovan och i rapporten. Fix: kontrollera "
           "att registret har genomförda åtgärder mellan två mätvågor och att enkäten täcker områdena.")
          if sv else
          ("trygg-geo: no effect could be estimated; see the reasons above and in the report. Fix: check "
           "that the register has investments completed between two survey waves and that the survey "
           "covers the areas."), file=sys.stderr)
    return 3


def _cmd_verify(args: argparse.Namespace) -> int:
    from trygg_geo._outputs import verify_outputs

    check = verify_outputs(args.folder)
    print(check)
    return 0 if check.ok else 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trygg-geo",
        description="GIS analysis of safety investments (trygghetsinvesteringar): geocode, overlay, "
        "evaluate, map and report.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="build the demo city and run the whole pipeline on it")
    d.add_argument("--out", default="trygg_demo", help="output folder (default: ./trygg_demo)")
    d.add_argument("--seed", type=int, default=2024, help="seed of the demo city (default 2024)")
    d.add_argument("--lang", choices=["sv", "en"], default=None, help="language of map and report")
    d.set_defaults(func=_cmd_demo)
    r = sub.add_parser("run", help="run the pipeline from a project config")
    r.add_argument("config", help="projekt.toml")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("verify", help="check that the outputs in a folder are one complete, consistent set",
                       description="Check the outputs of a run against its manifest (korning.json): every file "
                       "present, unchanged, and carrying the same run id. Exit 0 when they are, 2 when not.")
    v.add_argument("folder", help="the output folder")
    v.set_defaults(func=_cmd_verify)
    geocode_cli: types.ModuleType | None
    try:
        from trygg_geo.geocode import _cli as geocode_cli
    except ImportError:  # pragma: no cover - part of the package
        geocode_cli = None
    if geocode_cli is not None:
        geocode_cli.add_parser(sub)
    return parser


def _one_line(text: str) -> str:
    """Flatten a message to one line (a path or a value may hold line breaks)."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(text)).strip()


class _Recent(logging.Handler):
    """The last log records of this run, for the bug log."""

    def __init__(self, n: int = 500) -> None:
        super().__init__(logging.DEBUG)
        self.records: collections.deque[str] = collections.deque(maxlen=n)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never fail the run  # pragma: no cover
            pass


def _bug_log(exc: BaseException, *, argv: Sequence[str], folder: Path | None, recent: _Recent) -> Path | None:
    """Write the traceback and the recent log; return the file, or None if nothing could be written."""
    import trygg_geo

    now = _dt.datetime.now(_dt.UTC)
    text = "\n".join([
        f"trygg-geo {trygg_geo.__version__}: an unexpected error (a bug in trygg-geo)",
        f"time (UTC): {now.isoformat(timespec='seconds')}",
        f"command: trygg-geo {' '.join(argv)}",
        f"python {platform.python_version()} on {platform.platform()}",
        "",
        "".join(traceback.format_exception(exc)),
        "recent log:",
        *recent.records,
        "",
    ])
    candidates = []
    if folder is not None and Path(folder).is_dir():
        candidates.append(Path(folder) / BUG_LOG)
    candidates.append(Path(tempfile.gettempdir()) / f"trygg-geo-fel-{now:%Y%m%dT%H%M%SZ}-{os.getpid()}.log")
    for path in candidates:
        try:
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None  # pragma: no cover - neither the output folder nor the temp folder is writable


def _setup_logging(verbose: bool) -> tuple[list[logging.Handler], _Recent, int]:
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    recent = _Recent()
    root = logging.getLogger()
    root.addHandler(console)
    root.addHandler(recent)
    pkg = logging.getLogger("trygg_geo")
    old_level = pkg.level
    pkg.setLevel(logging.INFO)  # the bug log keeps the package's INFO lines; the console filters
    return [console, recent], recent, old_level


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 bug, 2 error to fix, 130 interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse errors exit 2 with its usage message
    handlers, recent, old_level = _setup_logging(args.verbose)
    args.log_dir = None
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args))
    except KeyboardInterrupt:
        print("trygg-geo: interrupted (Ctrl-C). Outputs are only replaced together at the end of a run, so "
              "the previous ones are as they were (check with: trygg-geo verify <output folder>).",
              file=sys.stderr, flush=True)
        return 130
    except TryggGeoError as exc:
        print(_one_line(f"trygg-geo: {exc}"), file=sys.stderr, flush=True)
        return 2
    except OSError as exc:
        if exc.errno not in _USER_ERRNO and not isinstance(exc, (FileNotFoundError, PermissionError)):
            return _bug(exc, argv, args, recent)
        where = f" '{exc.filename}'" if exc.filename else ""
        print(_one_line(f"trygg-geo: cannot read or write{where}: {exc.strerror or exc}. Fix: check the path, "
                        "that you may read and write there, and that the disk is not full."),
              file=sys.stderr, flush=True)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one place every unexpected error ends
        return _bug(exc, argv, args, recent)
    finally:
        root = logging.getLogger()
        for h in handlers:
            root.removeHandler(h)
        logging.getLogger("trygg_geo").setLevel(old_level)


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    """A warning as one line (no source line, no file position of the code)."""
    logging.getLogger("trygg_geo.cli").debug("warning from %s:%s", filename, lineno)
    print(_one_line(f"warning ({category.__name__}): {message}"), file=sys.stderr, flush=True)


def _bug(exc: BaseException, argv: Sequence[str], args: argparse.Namespace, recent: _Recent) -> int:
    log_file = _bug_log(exc, argv=argv, folder=getattr(args, "log_dir", None), recent=recent)
    brief = _one_line(f"{type(exc).__name__}: {exc}")
    if len(brief) > 200:
        brief = brief[:197] + "..."
    where = (f"The traceback and log are in '{log_file}'" if log_file is not None
             else "No log file could be written (neither the output folder nor the temporary folder is writable)")
    print(_one_line(
        f"trygg-geo: internal error, a bug in trygg-geo (not in your data): {brief}. {where}. "
        "Please report it to the trygg-geo developers (issue tracker) with that file and the command you ran; "
        "check the file for names from your data before sharing it."), file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
