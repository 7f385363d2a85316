"""The ``trygg-geo`` command line: ``demo``, ``run`` and ``geocode``.

A thin layer over :func:`trygg_geo.run`: it parses arguments, prints progress, and ends
with a short summary of what was written where. Errors of trygg_geo are printed as one
clear message (no traceback) with exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from trygg_geo._errors import TryggGeoError

__all__ = ["main"]


def _progress(start: float) -> callable:
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
    for _, r in kinds.iterrows():
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
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from trygg_geo.pipeline import run

    start = time.perf_counter()
    res = run(args.config, progress=_progress(start))
    print(_summary(res))
    return 0


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
    try:
        from trygg_geo.geocode import _cli as geocode_cli
    except ImportError:  # pragma: no cover - part of the package
        geocode_cli = None
    if geocode_cli is not None:
        geocode_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "geocode":
            from trygg_geo.geocode import _cli as geocode_cli

            return int(geocode_cli.run(args))
        return int(args.func(args))
    except TryggGeoError as exc:
        print(f"trygg-geo: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, PermissionError) as exc:
        print(f"trygg-geo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
