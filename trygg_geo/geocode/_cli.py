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
        "--crs", default="EPSG:3006", help="working CRS (default EPSG:3006, SWEREF 99 TM)"
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
    try:
        from trygg_geo.export import write_geopackage
    except ImportError:  # pragma: no cover - export is part of the package
        _write_plain(out, layers, result.crs)
    else:
        write_geopackage(out, layers, crs=result.crs)
    return {k: len(v) for k, v in layers.items()}


def _write_plain(out: str | Path, layers: dict[str, pd.DataFrame], crs: Any) -> None:
    import pyogrio

    from trygg_geo._atomic import atomic_path

    with atomic_path(out) as tmp:
        for name, frame in layers.items():
            df = frame.copy()
            for c in df.columns:
                if c != "geometry" and df[c].dtype == object:
                    df[c] = df[c].astype(str).where(df[c].notna(), None)
            if isinstance(df, gpd.GeoDataFrame):
                pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG", promote_to_multi=True)
            else:
                pyogrio.write_dataframe(df, tmp, layer=name, driver="GPKG")


def format_summary(result: Any) -> str:
    """The summary table as text (placed per method, unplaced per reason, flags, totals)."""
    s = result.summary()
    titles = {"placed": "Placed, per method", "unplaced": "Unplaced, per reason",
              "flag": "Flagged rows, per flag (a row can carry several)", "total": "Totals"}
    lines: list[str] = []
    for cat in ("placed", "unplaced", "flag", "total"):
        part = s[s["category"] == cat]
        lines.append(titles[cat])
        if not len(part):
            lines.append("  (none)")
        for v, n in zip(part["value"], part["n"], strict=True):
            lines.append(f"  {v:<26} {n:>8}")
    return "\n".join(lines)


def _check_out(args: argparse.Namespace) -> None:
    """Refuse an --out (or --save-gazetteer) that would overwrite an input, before any work."""
    from trygg_geo._errors import OutputPathError

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
    from trygg_geo.geocode import Gazetteer, geocode_register
    from trygg_geo.io import read_register

    args.log_dir = Path(args.out).parent  # where the CLI writes a bug log
    _check_out(args)
    sheet: str | int | None = args.sheet
    if isinstance(sheet, str) and sheet.isdigit():
        sheet = int(sheet)
    register = read_register(args.register, sheet=sheet)
    gaz = Gazetteer.from_path(args.gazetteer, crs=args.crs, source_crs=args.address_crs)
    if args.save_gazetteer:
        gaz.save(args.save_gazetteer)
    provider = None
    if args.online:
        from trygg_geo._errors import InputError
        from trygg_geo.geocode.providers import DEFAULT_USER_AGENT, GeopyProvider

        if not args.cache:
            raise InputError(
                "--online needs --cache.",
                fix="add --cache geocode_cache.sqlite (a file you choose).",
            )
        provider = GeopyProvider(
            args.online, cache_path=args.cache, user_agent=args.user_agent or DEFAULT_USER_AGENT
        )
    result = geocode_register(
        register,
        gaz,
        provider=provider,
        fuzzy_threshold=args.fuzzy_threshold,
        progress=args.progress,
    )
    counts = write_result(result, args.out)
    out = sys.stdout
    out.write(f"Register: {args.register} ({len(register)} rows)\n")
    out.write(f"Gazetteer: {args.gazetteer} ({len(gaz)} addresses, {len(gaz.streets)} streets, "
              f"{len(gaz.places)} places)\n")
    out.write(format_summary(result) + "\n")
    out.write(f"Written: {args.out} (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")\n")
    if len(result.placed) + len(result.unplaced) != len(register):  # pragma: no cover - invariant
        log.error("row count mismatch: %d placed + %d unplaced != %d", len(result.placed),
                  len(result.unplaced), len(register))
        return 1
    return 0
