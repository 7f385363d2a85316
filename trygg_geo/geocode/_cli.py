"""``trygg-geo geocode``: place an investment register and write a GeoPackage.

``trygg-geo geocode register.csv --gazetteer SRC --out placed.gpkg`` reads the register
(:func:`trygg_geo.io.read_register`), builds or loads the gazetteer (an OSM XML file, an
address-point CSV/GPKG, or a saved gazetteer), geocodes, writes the placed rows with one
layer per geometry type (``investeringar_punkt``, ``investeringar_linje``,
``investeringar_yta``) and the unplaced rows as the table ``ej_placerade``, and prints a
summary: placed per method, unplaced per reason, flagged rows, and totals that add up to the
register's row count.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from trygg_geo import io as register_io  # read_register looked up at call time
from trygg_geo._crs import DEFAULT_WORKING_CRS
from trygg_geo._errors import InputError, OutputPathError
from trygg_geo._i18n import LANGS, TEXTS, text
from trygg_geo.export import write_geopackage
from trygg_geo.geocode._match import geocode_register
from trygg_geo.geocode.gazetteer import Gazetteer
from trygg_geo.geocode.providers import DEFAULT_USER_AGENT, GeopyProvider

__all__ = ["add_parser", "format_summary", "run", "write_result"]

log = logging.getLogger(__name__)

LAYERS = {
    "investeringar_punkt": ("Point", "MultiPoint"),
    "investeringar_linje": ("LineString", "MultiLineString"),
    "investeringar_yta": ("Polygon", "MultiPolygon"),
}


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``geocode`` subcommand on an argparse subparsers object."""
    p = subparsers.add_parser(
        "geocode",
        help="geocode an investment register against a local gazetteer",
        description="Place every row of an investment register (addresses, intersections, "
        "spans, place names, coordinates) against a local gazetteer, offline by default.",
    )
    p.add_argument("register", help="the register (.csv or .xlsx)")
    p.add_argument(
        "--gazetteer",
        required=True,
        help="OSM XML (.osm, .osm.bz2, .osm.gz), an address-point CSV/GPKG, or a saved gazetteer "
             "(.gpkg)",
    )
    p.add_argument("--out", required=True, help="the GeoPackage to write (.gpkg)")
    p.add_argument(
        "--crs", default=DEFAULT_WORKING_CRS,
        help=f"working CRS (default {DEFAULT_WORKING_CRS}, SWEREF 99 TM)",
    )
    p.add_argument(
        "--address-crs",
        default=None,
        help="CRS of the x/y columns of an address-point CSV (when it has no crs column)",
    )
    p.add_argument("--sheet", default=None, help="Excel sheet (name or 0-based number)")
    p.add_argument(
        "--fuzzy-threshold", type=float, default=85.0, help="minimum fuzzy score 0-100 (default 85)"
    )
    p.add_argument(
        "--save-gazetteer", default=None, help="also save the gazetteer to this .gpkg for re-use"
    )
    p.add_argument(
        "--online",
        default=None,
        metavar="SERVICE",
        help="opt-in online geocoder for rows the gazetteer cannot place (a geopy service, e.g. "
             "nominatim)",
    )
    p.add_argument("--cache", default=None, help="cache file for --online (required with it)")
    p.add_argument("--user-agent", default=None, help="user agent for --online")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.add_argument("--lang", choices=LANGS, default="sv",
                   help="language of the summary and of the unplaced rows' reasons (default sv)")
    p.set_defaults(func=run)
    return p


def write_result(result: Any, out: str | Path) -> dict[str, int]:
    """Write a :class:`~trygg_geo.geocode.GeocodeResult` to a GeoPackage; return rows per layer."""
    placed: gpd.GeoDataFrame = result.placed
    gt = placed.geometry.geom_type
    layers: dict[str, pd.DataFrame] = {}
    for name, types in LAYERS.items():
        layers[name] = placed[gt.isin(types)]
    layers["ej_placerade"] = pd.DataFrame(result.unplaced)
    write_geopackage(out, layers, crs=result.crs)
    return {k: len(v) for k, v in layers.items()}


def format_summary(result: Any, lang: str = "sv") -> str:
    """The summary table as text (placed per method, unplaced per reason, flags, totals).

    Methods, reasons and flags are shown by their codes (the values of the GeoPackage's
    columns); each flag the geocoder writes is followed by what it means, in ``lang``.
    """
    s = result.summary()
    lines: list[str] = []
    for cat in ("placed", "unplaced", "flag", "total"):
        part = s[s["category"] == cat]
        lines.append(text(f"geocode.summary_{cat}", lang))
        if not len(part):
            lines.append(text("geocode.summary_none", lang))
        for v, n in zip(part["value"], part["n"], strict=True):
            label = text(f"geocode.total_{v}", lang) if cat == "total" else str(v)
            line = f"  {label:<26} {n:>8}"
            if cat == "flag" and f"geocode.flag.{v}" in TEXTS:
                line += f"  {text(f'geocode.flag.{v}', lang)}"
            lines.append(line)
    return "\n".join(lines)


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out (or --save-gazetteer) that would overwrite an input, before any work."""
    out = Path(args.out)
    if out.suffix.lower() != ".gpkg":
        raise OutputPathError(f"--out '{out}' does not end in .gpkg. Fix: name the output *.gpkg, "
                              "e.g. --out placerade.gpkg.")
    if out.is_dir():
        raise OutputPathError(
            f"--out '{out}' is a folder. Fix: give a file name, e.g. --out "
            f"'{out / 'placerade.gpkg'}'."
        )
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise OutputPathError(f"--out '{out}': '{parent}' is a file, not a folder. "
                              "Fix: write the GeoPackage into a folder.")
    outputs = [("--out", out)] + (
        [("--save-gazetteer", Path(args.save_gazetteer))] if args.save_gazetteer else []
    )
    inputs = [("the register", Path(args.register)), ("--gazetteer", Path(args.gazetteer))]
    if args.cache:
        inputs.append(("--cache", Path(args.cache)))
    for okey, opath in outputs:
        for ikey, ipath in inputs:
            if opath.resolve() == ipath.resolve():
                raise OutputPathError(
                    f"{okey} '{opath}' is the same file as {ikey} ('{ipath}'), which would be "
                    f"overwritten. Fix: give {okey} another file name."
                )
    if len(outputs) == 2 and outputs[0][1].resolve() == outputs[1][1].resolve():
        raise OutputPathError(
            "--out and --save-gazetteer name the same file. Fix: give them different names."
        )


def run(args: argparse.Namespace) -> int:
    """Run ``trygg-geo geocode``; returns the exit code (0 on success)."""
    args.log_dir = Path(args.out).parent  # where the CLI writes a bug log
    _check_out(args)
    sheet: str | int | None = args.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    register = register_io.read_register(args.register, sheet=sheet)
    gaz = Gazetteer.from_path(args.gazetteer, crs=args.crs, source_crs=args.address_crs)
    if args.save_gazetteer:
        gaz.save(args.save_gazetteer)
    provider = None
    if args.online:
        if not args.cache:
            raise InputError(
                "--online needs --cache.",
                fix="add --cache geocode_cache.sqlite (a file you choose).",
            )
        provider = GeopyProvider(
            args.online, cache_path=args.cache, user_agent=args.user_agent or DEFAULT_USER_AGENT
        )
    lang = getattr(args, "lang", None) or "sv"
    result = geocode_register(
        register,
        gaz,
        provider=provider,
        fuzzy_threshold=args.fuzzy_threshold,
        progress=args.progress,
        lang=lang,
    )
    counts = write_result(result, args.out)
    out = sys.stdout
    out.write(text("geocode.cli_register", lang, path=args.register, n=len(register)) + "\n")
    out.write(text("geocode.cli_gazetteer", lang, path=args.gazetteer, n_addr=len(gaz),
                   n_streets=len(gaz.streets), n_places=len(gaz.places)) + "\n")
    out.write(format_summary(result, lang) + "\n")
    out.write(text("geocode.cli_written", lang, path=args.out,
                   layers=", ".join(f"{k} {v}" for k, v in counts.items())) + "\n")
    if len(result.placed) + len(result.unplaced) != len(register):  # pragma: no cover - invariant
        log.error("row count mismatch: %d placed + %d unplaced != %d", len(result.placed),
                  len(result.unplaced), len(register))
        return 1
    return 0
