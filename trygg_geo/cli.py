"""The ``trygg-geo`` command line.

The commands: ``demo``, ``run``, ``init``, ``planera``, ``geocode`` and ``verify``.

A thin layer over :func:`trygg_geo.run`: it parses arguments, prints progress, and ends
with a short summary of what was written where. The global options work before or after the
command: ``--version``; ``-q``/``--quiet`` (only errors and a one-line result: no step lines,
no warnings, no progress bars); ``-v`` (details and other libraries' log lines; ``-vv`` adds
the debug log). Progress bars (:mod:`trygg_geo._progress`) are drawn on standard error for
long loops, only when it is a terminal.

Exit codes, and the one error path (no traceback ever reaches the terminal):

- exit 0: done; for ``run`` and ``demo``: at least one effect was estimated and published;
- exit 3: ``run`` or ``demo`` wrote its outputs but could estimate no effect (the reasons are
  in the summary and the report), so no number in them answers the question;
- exit 2: an error of trygg_geo (bad input, config or output path; a file that cannot be
  read or written; ``init`` on a folder that is not empty, without ``--force``) is printed as
  one line ``trygg-geo: <what, where, Fix: ...>``; argparse errors also exit 2, and so does
  ``verify`` when the outputs are not one complete, unchanged set;
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
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

import trygg_geo
from trygg_geo._errors import OutputPathError, TryggGeoError, TryggGeoWarning, render
from trygg_geo._i18n import fmt_number, fmt_percent, fmt_pp, text
from trygg_geo._outputs import verify_outputs, with_report_files
from trygg_geo._progress import get_progress, set_progress
from trygg_geo.config import load_config
from trygg_geo.demo import SHOCK_SD, make_demo_city
from trygg_geo.geocode import _cli as geocode_cli
from trygg_geo.init_project import CONFIG_NAME, init_project
from trygg_geo.interventions import unknown_kinds
from trygg_geo.io import register_duplicates
from trygg_geo.pipeline import run
from trygg_geo.plan import EvaluationPlan
from trygg_geo.plan_outputs import plan as make_plan
from trygg_geo.results import Results

__all__ = ["BUG_LOG", "main"]

#: the file a bug's traceback is written to, in the output folder when it is known
BUG_LOG = "trygg-geo-fel.log"
# OS errors the user can fix (a path, a permission, a full disk): exit 2, not a bug
_USER_ERRNO = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR,
               errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.ENAMETOOLONG, errno.EEXIST,
               errno.ENOTEMPTY}


def _progress(start: float) -> Callable[[str], None]:
    """The step printer: ``[ 1.2 s] 3. Geokodar investeringar …``; to the log under --quiet."""
    step = [0]

    def say(msg: str) -> None:
        step[0] += 1
        if _STATE["quiet"]:
            logging.getLogger("trygg_geo.cli").info("%d. %s", step[0], msg)
            return
        print(f"[{time.perf_counter() - start:5.1f} s] {step[0]}. {msg} …", file=sys.stderr,
              flush=True)

    return say


def _rows_text(rows: list[str], limit: int = 10) -> str:
    return ", ".join(rows[:limit]) + (", …" if len(rows) > limit else "")


def _register_lines(register: pd.DataFrame, lang: str) -> list[str]:
    """Duplicates, and unknown kinds with the projekt.toml lines that map them."""
    lines = []
    dups = register_duplicates(register)
    exact = dups[dups["flag"] == "duplicate"]
    if len(exact):
        rows = [f"{int(r)} (= {int(d)})" for r, d in zip(exact["source_row"],
                                                          exact["duplicate_of"], strict=True)]
        lines.append(text("cli.duplicate_rows", lang, n=len(exact), rows=_rows_text(rows)))
    same_id = dups[dups["flag"] == "duplicate_id"]
    if len(same_id):
        rows = [f"{int(r)} ({i})" for r, i in zip(same_id["source_row"], same_id["investment_id"],
                                                   strict=True)]
        lines.append(text("cli.duplicate_ids", lang, n=len(same_id), rows=_rows_text(rows)))
    unknown = unknown_kinds(register)
    if len(unknown):
        lines.append(text("cli.unknown_kinds", lang, n=len(unknown)))
        lines.append("  [register.kinds]")
        for line, rows in zip(unknown["toml_line"][:20], unknown["source_rows"][:20],
                              strict=True):
            lines.append(f"  {line}    # {text('cli.unknown_kind_rows', lang, rows=rows)}")
        if len(unknown) > 20:
            lines.append("  …")
    return lines


def _summary(res: Results) -> str:
    lang = res.config.project.language
    n, n_p, n_u = len(res.register), len(res.placed), len(res.unplaced)
    lines = [text("cli.register", lang, n=n, placed=n_p, unplaced=n_u, total=n_p + n_u)]
    lines += _register_lines(res.register, lang)
    join = res.survey_join
    if join is not None and len(join.unmatched_names):
        lines.append(text("cli.survey_unmatched", lang, n=len(join.unmatched_names),
                          names=join.unmatched_text(limit=10, lang=lang)))
    if join is not None and len(join.total_names):
        lines.append(text("cli.survey_totals", lang, n=len(join.total_names),
                          names=join.totals_text(limit=10, lang=lang)))
    if join is not None and len(join.areas_without_rows):
        no = join.areas_without_rows["name"].astype(str).tolist()
        lines.append(text("cli.survey_no_rows", lang, n=len(no),
                          names=", ".join(no[:10]) + (", …" if len(no) > 10 else "")))
    kinds = res.effects[res.effects["scope"] == "kind"]
    n_inv = int((res.effects["scope"] == "investment").sum())
    if kinds.empty and n_inv:
        lines.append(text("cli.no_kind_effect", lang, n_inv=n_inv))
    for _, r in kinds.iterrows():
        if pd.isna(r["estimate"]):  # not estimated or not published: say why
            lines.append(f"  {r['kind']:<16} {'–':>6}     {r.get('reason', '')}")
            continue
        lines.append(text("cli.effect", lang, kind=r["kind"], est=100 * r["estimate"],
                          lo=100 * r["ci_low"], hi=100 * r["ci_high"], nt=int(r["n_treated"]),
                          nc=int(r["n_control"]), mde=100 * r["mde"]))
    lines.append(text("cli.written", lang))
    for name, p in with_report_files(res.paths).items():  # with rapport.html and .pdf
        lines.append(f"  {name:<11} {p}")
    return "\n".join(lines)


#: the CLI's own lines (the one-line results of --quiet, init's report) by key: their
#: ``cli.`` keys in :data:`trygg_geo._i18n.TEXTS`
_TEXTS: dict[str, str] = {"result": "cli.quiet_result", "plan": "cli.quiet_plan",
                          "init": "cli.init_written", "init_quiet": "cli.init_quiet"}


def _say(key: str, lang: str, **values: Any) -> str:
    return text(_TEXTS[key], "en" if lang == "en" else "sv", **values)


def _result_line(res: Results) -> str:
    """The one line ``--quiet`` prints for ``run`` and ``demo``."""
    kinds = res.effects[res.effects["scope"] == "kind"]
    return _say("result", res.config.project.language, n=len(res.register),
                placed=len(res.placed), unplaced=len(res.unplaced),
                est=int(kinds["estimate"].notna().sum()), kinds=len(kinds),
                folder=res.config.output.folder)


def _cmd_demo(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    say = _progress(start)
    out = Path(args.out)
    args.log_dir = out
    if out.exists() and not out.is_dir():
        raise OutputPathError(f"--out '{out}' is a file, not a folder. Fix: give a new or existing "
                              "folder, e.g. --out trygg_demo.")
    say(text("cli.demo_building", args.lang or "sv", seed=args.seed, folder=out / "indata"))
    city = make_demo_city(out / "indata", seed=args.seed, shock_sd=args.shock)
    cfg = load_config(city.config)
    cfg = replace(cfg, output=replace(cfg.output, folder=out))
    if args.lang:
        cfg = replace(cfg, project=replace(cfg.project, language=args.lang))
    _WARN["lang"] = cfg.project.language
    res = run(cfg, progress=say)
    if _STATE["quiet"]:
        print(_result_line(res))
    else:
        print(_summary(res))
        print(text("cli.done", cfg.project.language, seconds=time.perf_counter() - start))
    return _answer_code(res)


def _cmd_run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    cfg = load_config(args.config)
    args.log_dir = cfg.output.folder
    if args.lang:
        cfg = replace(cfg, project=replace(cfg.project, language=args.lang))
    _WARN["lang"] = cfg.project.language
    res = run(cfg, progress=_progress(start))
    print(_result_line(res) if _STATE["quiet"] else _summary(res))
    return _answer_code(res)


def _answer_code(res: Results) -> int:
    """0 when at least one effect was estimated and published; 3 when the run could not answer.

    The outputs are written either way (the unplaced rows and the reasons are worth reading);
    the exit code tells a script that no effect in them means anything.
    """
    eff = res.effects
    if len(eff) and eff["estimate"].notna().any():  # per kind or per investment
        return 0
    print(text("cli.no_estimate", res.config.project.language), file=sys.stderr)
    return 3


def _plan_summary(p: EvaluationPlan, lang: str) -> str:
    """Verdict counts, MDE and power per kind, and the files written (``planera``)."""
    c = p.verdict_counts()
    lines = [text("cli.plan_verdicts", lang, next_wave=p.next_wave, n=len(p.investments),
                  matbar=int(c["matbar"]), pooled=int(c["matbar_sammanslagen"]),
                  not_=int(c["inte_matbar"]), tau2=fmt_number(p.tau2.value, 5, lang))]
    for _, r in p.kinds.iterrows():
        lines.append(text("cli.plan_kind", lang, kind=str(r["kind"]),
                          mde=fmt_pp(r["mde"], lang, signed=False),
                          power=fmt_percent(r["power"], lang), effect=fmt_pp(r["effect"], lang),
                          nt=int(r["n_treated"]), nc=int(r["n_control"])))
    lines.append(text("cli.written", lang))
    lines += [f"  {name:<11} {path}" for name, path in p.extra.get("paths", {}).items()]
    return "\n".join(lines)


def _cmd_plan(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    cfg = load_config(args.config)
    args.log_dir = cfg.output.folder
    if args.lang:
        cfg = replace(cfg, project=replace(cfg.project, language=args.lang))
    _WARN["lang"] = cfg.project.language
    p = make_plan(cfg, progress=_progress(start))
    if _STATE["quiet"]:
        c = p.verdict_counts()
        paths = list(p.extra.get("paths", {}).values())
        print(_say("plan", cfg.project.language, wave=p.next_wave, n=len(p.investments),
                   matbar=int(c["matbar"]), pooled=int(c["matbar_sammanslagen"]),
                   not_=int(c["inte_matbar"]),
                   folder=Path(paths[0]).parent if paths else cfg.output.folder))
    else:
        print(_plan_summary(p, cfg.project.language))
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    lang = args.lang or "sv"
    res = init_project(args.folder, force=args.force, lang=lang)
    if _STATE["quiet"]:
        print(_say("init_quiet", lang, config=res.config, n=len(res.files)))
        return 0
    print(_say("init", lang, folder=res.folder, config=CONFIG_NAME,
               files=", ".join(res.files)))
    print(f"  trygg-geo run {res.config}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    check = verify_outputs(args.folder)
    print(check)
    return 0 if check.ok else 2


#: the exit codes, as ``trygg-geo --help`` ends (the module docstring has the details)
EPILOG = """\
exit codes:
  0    done (run, demo: at least one effect was estimated)
  1    a bug in trygg-geo; the message names the log file with the traceback
  2    an error to fix: input, config or output path (one line names the place and the fix);
       a usage error; verify: the outputs are not one complete set; init: the folder is not
       empty (add --force)
  3    run, demo: the outputs are written but no effect could be estimated (see the summary
       and the report for the reasons)
  130  interrupted (Ctrl-C); the previous outputs are as they were

-q and -v work before or after the command. Start a project of your own with:
  trygg-geo init mitt_projekt && trygg-geo run mitt_projekt/projekt.toml
"""


def _add_global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    """-q and -v on the main parser and on every command (``trygg-geo run x.toml -q`` works).

    A command's copy has no default (``SUPPRESS``), so it never resets a value given before
    the command.
    """
    p.add_argument("-q", "--quiet", action="store_true",
                   default=False if top else argparse.SUPPRESS,
                   help="print only errors and a one-line result (no steps, warnings or "
                        "progress bars)")
    p.add_argument("-v", "--verbose", action="count", default=0 if top else argparse.SUPPRESS,
                   help="log details and other libraries' messages; -vv: the debug log")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trygg-geo",
        description="GIS analysis of safety investments (trygghetsinvesteringar): geocode, "
        "overlay, evaluate, map and report.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version",
                        version=f"trygg-geo {trygg_geo.__version__}",
                        help="print the version and exit")
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="build the demo city and run the whole pipeline on it")
    d.add_argument("--out", default="trygg_demo", help="output folder (default: ./trygg_demo)")
    d.add_argument("--seed", type=int, default=2024, help="seed of the demo city (default 2024)")
    d.add_argument("--shock", type=float, default=SHOCK_SD,
                   help="SD of the district x wave shocks on the true shares (default 0.02 = "
                        "2 percentage points; 0 = sampling noise only)")
    d.add_argument("--lang", choices=["sv", "en"], default=None,
                   help="language of map and report")
    d.set_defaults(func=_cmd_demo)
    r = sub.add_parser("run", help="run the pipeline from a project config")
    r.add_argument("config", help="projekt.toml")
    r.add_argument("--lang", choices=["sv", "en"], default=None,
                   help="language of map, report and messages (default: [project] language)")
    r.set_defaults(func=_cmd_run)
    pl = sub.add_parser("planera", help="plan the evaluation of planned investments (controls, "
                        "MDE, power, verdicts) and write utvarderingsplan.md/.html/.gpkg and "
                        "plankarta.html",
                        description="Before the money is spent: choose control areas on the "
                        "past waves (pre-period level and trend), estimate the minimum detectable "
                        "effect and the power per planned investment and per kind, and give each "
                        "a verdict (mätbar / bara sammanslagen per åtgärdstyp / inte mätbar). "
                        "Writes utvarderingsplan.md/.html/.pdf/.gpkg and plankarta.html into "
                        "[output] folder. Add [plan] path to projekt.toml later and `trygg-geo "
                        "run` keeps exactly these controls.")
    pl.add_argument("config", help="plan.toml (a project config with a [plan] section)")
    pl.add_argument("--lang", choices=["sv", "en"], default=None,
                    help="language of the plan and messages (default: [project] language)")
    pl.set_defaults(func=_cmd_plan)
    v = sub.add_parser("verify",
                       help="check that the outputs in a folder are one complete, consistent set",
                       description="Check the outputs of a run against its manifest "
                       "(korning.json): every file present, unchanged, and carrying the same run "
                       "id. Exit 0 when they are, 2 when not.")
    v.add_argument("folder", help="the output folder")
    v.set_defaults(func=_cmd_verify)
    i = sub.add_parser("init", help="write a commented projekt.toml and example input files to "
                       "fill in, which run as they are",
                       description="Write DIR/projekt.toml (Swedish comments, every section) "
                       "and example input files in the formats a municipality has: the "
                       "register and the survey as CSV with Swedish headers, the districts "
                       "as a GeoPackage, streets as OSM XML, incidents and residents' reports. "
                       "They are the demo city, so 'trygg-geo run DIR/projekt.toml' works on "
                       "them as written (exit 0). Replace them with your own files.")
    i.add_argument("folder", metavar="DIR", help="the project folder (new or empty)")
    i.add_argument("--force", action="store_true",
                   help="replace the example files in a folder that is not empty (other "
                        "files stay)")
    i.add_argument("--lang", choices=["sv", "en"], default=None,
                   help="language of the messages and of [project] language (default sv)")
    i.set_defaults(func=_cmd_init)
    geocode_cli.add_parser(sub)
    for command in sub.choices.values():
        _add_global_options(command, top=False)
    return parser


def _one_line(message: str) -> str:
    """Flatten a message to one line (a path or a value may hold line breaks)."""
    return re.sub(r"\s*[\r\n]+\s*", " ", str(message)).strip()


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


def _bug_log(exc: BaseException, *, argv: Sequence[str], folder: Path | None,
             recent: _Recent) -> Path | None:
    """Write the traceback and the recent log; return the file, or None if none could be written."""
    now = _dt.datetime.now(_dt.UTC)
    body = "\n".join([
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
    candidates.append(Path(tempfile.gettempdir())
                      / f"trygg-geo-fel-{now:%Y%m%dT%H%M%SZ}-{os.getpid()}.log")
    for path in candidates:
        try:
            path.write_text(body, encoding="utf-8")
            return path
        except OSError:
            continue
    return None  # pragma: no cover - neither the output folder nor the temp folder is writable


def _setup_logging(verbose: int, quiet: bool = False) -> tuple[list[logging.Handler], _Recent,
                                                               int]:
    """Add the console and the recent-log handlers; return them and the package's old level.

    The console shows WARNING, ERROR only under -q, INFO under -v and DEBUG under -vv.
    """
    console = logging.StreamHandler(sys.stderr)
    level = (logging.DEBUG if verbose >= 2 else logging.INFO if verbose
             else logging.ERROR if quiet else logging.WARNING)
    console.setLevel(level)
    if not verbose:  # other libraries' log lines (a CSS property a PDF renderer skips) need -v
        console.addFilter(lambda record: record.name.split(".")[0] == "trygg_geo")
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    recent = _Recent()
    root = logging.getLogger()
    root.addHandler(console)
    root.addHandler(recent)
    pkg = logging.getLogger("trygg_geo")
    old_level = pkg.level
    # the bug log keeps the package's INFO lines (DEBUG under -vv); the console filters
    pkg.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    return [console, recent], recent, old_level


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    0 done, 1 bug, 2 error to fix, 3 ``run``/``demo`` could estimate no effect, 130
    interrupted (see the module docstring). ``--version``, ``--help`` and argparse errors
    exit through :class:`SystemExit` (0, 0 and 2).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse errors exit 2 with its usage message
    handlers, recent, old_level = _setup_logging(args.verbose, args.quiet)
    old_progress, old_quiet = get_progress(), _STATE["quiet"]
    _STATE["quiet"] = bool(args.quiet)
    set_progress("off" if args.quiet else "auto")
    args.log_dir = None
    # messages before the config is read (a missing projekt.toml) follow --lang, else Swedish
    _WARN["lang"] = getattr(args, "lang", None) or "sv"
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return int(args.func(args))
    except KeyboardInterrupt:
        print("trygg-geo: interrupted (Ctrl-C). Outputs are only replaced together at the end of "
              "a run, so the previous ones are as they were (check with: trygg-geo verify "
              "<output folder>).",
              file=sys.stderr, flush=True)
        return 130
    except TryggGeoError as exc:
        logging.getLogger("trygg_geo.cli").info("%s: %s", type(exc).__name__, _one_line(str(exc)))
        print(_one_line(f"trygg-geo: {render(exc, _WARN['lang'])}"), file=sys.stderr, flush=True)
        return 2
    except OSError as exc:
        user_fixable = isinstance(exc, (FileNotFoundError, PermissionError))
        if exc.errno not in _USER_ERRNO and not user_fixable:
            return _bug(exc, argv, args, recent)
        where = f" '{exc.filename}'" if exc.filename else ""
        print(_one_line(f"trygg-geo: cannot read or write{where}: {exc.strerror or exc}. Fix: "
                        "check the path, that you may read and write there, and that the disk is "
                        "not full."),
              file=sys.stderr, flush=True)
        return 2
    except Exception as exc:  # noqa: BLE001 - the one place every unexpected error ends
        return _bug(exc, argv, args, recent)
    finally:
        root = logging.getLogger()
        for h in handlers:
            root.removeHandler(h)
        logging.getLogger("trygg_geo").setLevel(old_level)
        set_progress(old_progress)
        _STATE["quiet"] = old_quiet


#: The language of warnings printed while a command runs (set once the config is read).
_WARN = {"lang": "sv"}
#: --quiet of the running command (set and restored by :func:`main`)
_STATE = {"quiet": False}


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    """A warning as one line: ours for the user, any other library's only under ``-v``.

    trygg_geo's own warnings (about the user's data) are printed as one line in the run's
    language (their :class:`~trygg_geo._errors.Msg` rendered), without source lines or code
    positions; ``-v`` adds the details: the warning's class, the code that raised it and its
    English text. Warnings from libraries (numpy's "All-NaN slice encountered", pandas'
    deprecations) say nothing a user can act on: they go to the log, which ``-v`` shows and
    the bug log keeps.
    """
    log = logging.getLogger("trygg_geo.cli")
    if not issubclass(category, TryggGeoWarning):
        log.info("%s from %s:%s: %s", category.__name__, filename, lineno, _one_line(str(message)))
        return
    log.info("%s from %s:%s: %s", category.__name__, filename, lineno, _one_line(str(message)))
    if _STATE["quiet"]:  # --quiet: the warning is in the log (and the bug log) only
        return
    print(_one_line(text("cli.warning", _WARN["lang"], message=render(message, _WARN["lang"]))),
          file=sys.stderr, flush=True)


def _bug(exc: BaseException, argv: Sequence[str], args: argparse.Namespace, recent: _Recent) -> int:
    log_file = _bug_log(exc, argv=argv, folder=getattr(args, "log_dir", None), recent=recent)
    brief = _one_line(f"{type(exc).__name__}: {exc}")
    if len(brief) > 200:
        brief = brief[:197] + "..."
    where = (f"The traceback and log are in '{log_file}'" if log_file is not None
             else "No log file could be written (neither the output folder nor the temporary "
             "folder is writable)")
    print(_one_line(
        f"trygg-geo: internal error, a bug in trygg-geo (not in your data): {brief}. {where}. "
        "Please report it to the trygg-geo developers (issue tracker) with that file and the "
        "command you ran; check the file for names from your data before sharing it."),
        file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
