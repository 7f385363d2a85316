"""The local gazetteer: addresses, streets, places and paths in the working CRS.

A :class:`Gazetteer` is built from an OpenStreetMap XML file (:meth:`Gazetteer.from_osm_xml`,
read with osmnx), from an address-point file exported from a municipal address register
(:meth:`Gazetteer.from_address_file`), or from GeoDataFrames (:meth:`Gazetteer.from_frames`,
used by the benchmark). It is saved to and loaded from one GeoPackage.

Internal shape (every loader converts to it):

- ``addresses``: points with ``street_id``, ``street``, ``housenumber`` (as written),
  ``number`` (int), ``letter`` (lower case or ``""``), ``postcode`` (5 digits or ``""``),
  ``locality``, ``derived`` (True for the far end of a range such as ``12-14``);
- ``streets``: one row per street key: ``name``, ``key``, ``fold``, and a (Multi)LineString, or
  None when only its addresses are known;
- ``places``: named parks, squares, schools, stations, ``place=*``: ``name``, ``key``, ``fold``,
  ``place_type``, geometry (Point or Polygon);
- ``paths``: unnamed footways and cycleways (for "gångvägen mellan A och B");
- ``intersections``: ``street_a``, ``street_b`` (street ids, a < b), ``x``, ``y``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import pyogrio
import shapely
from osmnx._errors import InsufficientResponseError
from pyproj import CRS, Transformer
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from trygg_geo._atomic import atomic_path
from trygg_geo._crs import DEFAULT_WORKING_CRS, parse_crs, require_crs, require_projected
from trygg_geo._errors import (
    CRSError,
    EmptyLayerError,
    InputError,
    MissingFileError,
    UnreadableFileError,
)
from trygg_geo._tabular import match_columns, parse_number, read_table
from trygg_geo.geocode._normalise import (
    blocking_keys,
    letter_code,
    name_fold,
    name_key,
    parse_housenumber,
)

__all__ = ["DISTRICT_PLACE_TYPES", "Gazetteer"]

log = logging.getLogger(__name__)

_FORMAT = "trygg_geo.gazetteer/1"
_EXTENT_MARGIN_M = 1000.0
_PATH_HIGHWAYS = {"footway", "cycleway", "path", "pedestrian", "steps", "bridleway", "track",
                  "living_street", "service"}
#: Place types that name a whole district rather than a spot: an address that is only one of
#: these is not placed (reason ``only_district``).
DISTRICT_PLACE_TYPES = frozenset(
    {"suburb", "neighbourhood", "quarter", "borough", "city", "town", "village", "hamlet",
     "municipality", "district", "county", "state", "region", "island", "islet", "locality"}
)
_PLACE_TAGS: dict[str, bool | str | list[str]] = {
    "addr:housenumber": True,
    "place": True,
    "leisure": ["park", "playground", "garden", "nature_reserve", "recreation_ground",
                "pitch", "sports_centre", "dog_park", "common"],
    "amenity": ["school", "kindergarten", "college", "university", "library",
                "community_centre", "townhall", "place_of_worship", "marketplace"],
    "railway": ["station", "halt", "tram_stop"],
    "public_transport": ["station"],
    "landuse": ["grass", "recreation_ground", "meadow", "forest", "village_green"],
    "natural": ["wood", "scrub", "heath"],
    "highway": ["pedestrian"],
}
_PLACE_TYPE_KEYS = ("place", "leisure", "amenity", "railway", "public_transport", "landuse",
                    "natural", "highway")

_ADDRESS_COLUMNS: dict[str, tuple[str, ...]] = {
    "street": ("street", "gatunamn", "gata", "gatuadress", "adressomrade", "adressområde",
               "addr_street", "addr:street", "vagnamn", "vägnamn", "adress"),
    "number": ("number", "nummer", "husnummer", "gatunummer", "adressnummer",
               "adressplatsnummer", "housenumber", "addr_housenumber", "addr:housenumber", "nr"),
    "letter": ("letter", "bokstav", "littera", "husbokstav", "bokstavstillagg", "suffix"),
    "postcode": ("postcode", "postnummer", "postnr", "zip", "postal_code", "addr:postcode"),
    "locality": ("locality", "postort", "ort", "city", "kommundel", "addr:city", "kommun"),
    "x": ("x", "e", "easting", "east", "ost", "ostlig", "östlig", "lon", "longitude"),
    "y": ("y", "n", "northing", "north", "nord", "nordlig", "lat", "latitude"),
    "crs": ("crs", "epsg", "koordinatsystem", "srid", "referenssystem"),
}


def _empty_gdf(columns: dict[str, str], crs: Any) -> gpd.GeoDataFrame:
    data = {c: pd.Series([], dtype=t) for c, t in columns.items()}
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _pca_line(xs: np.ndarray, ys: np.ndarray) -> BaseGeometry | None:
    """A line through address points, ordered along their main axis (a street's stand-in)."""
    if len(xs) < 2:
        return None
    pts = np.column_stack([xs, ys])
    c = pts - pts.mean(axis=0)
    _, _, vt = np.linalg.svd(c, full_matrices=False)
    order = np.argsort(c @ vt[0])
    line = LineString(pts[order])
    return line if line.length > 0 else None


@dataclass
class Gazetteer:
    """Addresses, streets, places and paths in one projected CRS.

    Build one with :meth:`from_osm_xml`, :meth:`from_address_file`, :meth:`from_frames` or
    :meth:`load`. All geometries are in :attr:`crs`.
    """

    addresses: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    paths: gpd.GeoDataFrame
    intersections: pd.DataFrame
    crs: CRS
    source: str = ""
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frames(  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
        cls,
        *,
        addresses: gpd.GeoDataFrame | None = None,
        streets: gpd.GeoDataFrame | None = None,
        places: gpd.GeoDataFrame | None = None,
        paths: gpd.GeoDataFrame | None = None,
        intersections: pd.DataFrame | None = None,
        crs: Any = DEFAULT_WORKING_CRS,
        source: str = "",
    ) -> Gazetteer:
        """Build a gazetteer from plain frames.

        Parameters
        ----------
        addresses
            Points with ``street`` and ``housenumber`` (``"12A"``, ``"3-5"``) or ``number``
            (+ optional ``letter``), and optional ``postcode`` and ``locality``.
        streets
            Lines with ``name`` (several rows per name are merged).
        places
            Points or polygons with ``name`` and optional ``place_type``.
        paths
            Lines (unnamed footways and cycleways), optional ``highway``.
        intersections
            ``name_a``, ``name_b``, ``x``, ``y`` (in ``crs``); computed from the street lines
            when not given.
        crs
            The working CRS; must be projected. Inputs in another CRS are reprojected.
        """
        wcrs = require_projected(crs, what="the gazetteer's working CRS")

        def prep(g: gpd.GeoDataFrame | None, what: str) -> gpd.GeoDataFrame | None:
            if g is None or len(g) == 0:
                return None
            require_crs(g, what=f"the {what} frame")
            return g.to_crs(wcrs).reset_index(drop=True)

        a = prep(addresses, "addresses")
        s = prep(streets, "streets")
        pl = prep(places, "places")
        pa = prep(paths, "paths")

        # --- streets: one row per key
        street_names: dict[str, str] = {}
        street_geoms: dict[str, list[BaseGeometry]] = {}
        if s is not None:
            keys = [name_key(n) for n in s["name"].tolist()]
            for k, n, g in zip(keys, s["name"].tolist(), s.geometry.tolist(), strict=True):
                if not k or g is None or g.is_empty:
                    continue
                street_names.setdefault(k, str(n))
                street_geoms.setdefault(k, []).append(g)
        # --- addresses
        if a is not None:
            if "street" not in a.columns:
                raise InputError("the addresses frame has no 'street' column.",
                                 fix="name the street column 'street'.")
            a = a[a["street"].notna() & a.geometry.notna()].copy()
            if "number" in a.columns and "housenumber" not in a.columns:
                letter = a["letter"].fillna("").astype(str) if "letter" in a.columns else ""
                a["housenumber"] = a["number"].astype("Int64").astype(str) + letter
            hn = a["housenumber"].astype(object).where(a["housenumber"].notna(), None).tolist()
            parsed = [parse_housenumber(h) for h in hn]
            if "letter" in a.columns and "number" in a.columns:
                letters = [
                    str(x).lower().strip() if isinstance(x, str) else ""
                    for x in a["letter"].tolist()
                ]
                parsed = [
                    (p[0], lt or p[1], p[2], p[3]) for p, lt in zip(parsed, letters, strict=True)
                ]
            num = np.array([-1 if p[0] is None else p[0] for p in parsed], dtype=np.int64)
            keep = num >= 0
            a = a.loc[keep].copy()
            parsed = [p for p, k in zip(parsed, keep, strict=True) if k]
            a["number"] = num[keep]
            a["letter"] = [p[1] for p in parsed]
            a["derived"] = False
            # the far end of a range (12-14) is also an address
            far = [
                (i, p[2], p[3])
                for i, p in enumerate(parsed)
                if p[2] is not None and p[0] is not None and p[2] > p[0]
            ]
            if far:
                extra = a.iloc[[f[0] for f in far]].copy()
                extra["number"] = [f[1] for f in far]
                extra["letter"] = [f[2] for f in far]
                extra["derived"] = True
                a = pd.concat([a, extra], ignore_index=True)
            a = a.reset_index(drop=True)
            street_txt = a["street"].astype(str)
            uniq = pd.unique(street_txt)
            ukeys = {u: name_key(u) for u in uniq}
            a["_key"] = street_txt.map(ukeys)
            for u in uniq:
                street_names.setdefault(ukeys[u], u)
            for col in ("postcode", "locality"):
                if col not in a.columns:
                    a[col] = ""
            a["postcode"] = a["postcode"].astype(object).where(a["postcode"].notna(), "").map(
                lambda v: "".join(ch for ch in str(v) if ch.isdigit()))
            a["locality"] = (
                a["locality"].astype(object).where(a["locality"].notna(), "").astype(str)
            )
        # --- the street table
        keys_sorted = sorted(k for k in street_names if k)
        sid = {k: i for i, k in enumerate(keys_sorted)}
        sgeom: list[BaseGeometry | None] = []
        for k in keys_sorted:
            parts = street_geoms.get(k)
            if parts:
                merged = shapely.line_merge(shapely.union_all(parts))
                sgeom.append(merged)
            else:
                sgeom.append(None)
        if a is not None and len(a):
            a["street_id"] = a["_key"].map(sid).astype(np.int64)
            # streets known only from addresses get a line through their addresses
            missing = [i for i, g in enumerate(sgeom) if g is None]
            if missing:
                sub = a[a["street_id"].isin(missing)]
                xs = sub.geometry.x.to_numpy()
                ys = sub.geometry.y.to_numpy()
                for st_id, idx in sub.groupby("street_id").indices.items():
                    sgeom[int(st_id)] = _pca_line(xs[idx], ys[idx])
            addr = gpd.GeoDataFrame(
                {
                    "street_id": a["street_id"].to_numpy(),
                    "street": a["street"].astype(str).to_numpy(),
                    "housenumber": a["housenumber"].astype(str).to_numpy(),
                    "number": a["number"].to_numpy(np.int64),
                    "letter": a["letter"].astype(str).to_numpy(),
                    "postcode": a["postcode"].astype(str).to_numpy(),
                    "locality": a["locality"].astype(str).to_numpy(),
                    "derived": a["derived"].to_numpy(bool),
                },
                geometry=a.geometry.to_numpy(),
                crs=wcrs,
            )
            if not addr.geom_type.eq("Point").all():
                addr.geometry = addr.geometry.representative_point()
        else:
            addr = _empty_gdf({"street_id": "int64", "street": "object", "housenumber": "object",
                               "number": "int64", "letter": "object", "postcode": "object",
                               "locality": "object", "derived": "bool"}, wcrs)
        streets_gdf = gpd.GeoDataFrame(
            {"name": [street_names[k] for k in keys_sorted], "key": keys_sorted,
             "fold": [name_fold(k) for k in keys_sorted]},
            geometry=gpd.GeoSeries(sgeom, crs=wcrs), crs=wcrs,
        )
        # --- places
        if pl is not None:
            pl = pl[pl["name"].notna() & pl.geometry.notna()].copy()
            ptype = (
                pl["place_type"].astype(object)
                if "place_type" in pl.columns
                else pd.Series("", index=pl.index)
            )
            places_gdf = gpd.GeoDataFrame(
                {"name": pl["name"].astype(str).to_numpy(),
                 "key": [name_key(n) for n in pl["name"].astype(str)],
                 "fold": [name_fold(n) for n in pl["name"].astype(str)],
                 "place_type": ptype.where(ptype.notna(), "").astype(str).to_numpy()},
                geometry=pl.geometry.to_numpy(), crs=wcrs,
            )
            places_gdf = places_gdf[places_gdf["key"] != ""].reset_index(drop=True)
        else:
            places_gdf = _empty_gdf({"name": "object", "key": "object", "fold": "object",
                                     "place_type": "object"}, wcrs)
        if pa is not None:
            hw = (
                pa["highway"].astype(object)
                if "highway" in pa.columns
                else pd.Series("", index=pa.index)
            )
            paths_gdf = gpd.GeoDataFrame(
                {"highway": hw.where(hw.notna(), "").astype(str).to_numpy()},
                geometry=pa.geometry.to_numpy(),
                crs=wcrs,
            )
        else:
            paths_gdf = _empty_gdf({"highway": "object"}, wcrs)
        # --- intersections
        if isinstance(intersections, gpd.GeoDataFrame) and len(intersections):
            ig = intersections.to_crs(wcrs)
            intersections = pd.DataFrame(
                {
                    "name_a": ig["name_a"].to_numpy(),
                    "name_b": ig["name_b"].to_numpy(),
                    "x": ig.geometry.x.to_numpy(),
                    "y": ig.geometry.y.to_numpy(),
                }
            )
        if intersections is not None and len(intersections):
            ia = intersections["name_a"].map(lambda n: sid.get(name_key(n), -1))
            ib = intersections["name_b"].map(lambda n: sid.get(name_key(n), -1))
            lo = np.minimum(ia, ib)
            hi = np.maximum(ia, ib)
            inter = pd.DataFrame(
                {
                    "street_a": lo,
                    "street_b": hi,
                    "x": intersections["x"].to_numpy(float),
                    "y": intersections["y"].to_numpy(float),
                }
            )
            inter = inter[(inter.street_a >= 0) & (inter.street_a != inter.street_b)]
            inter = inter.drop_duplicates(["street_a", "street_b"]).reset_index(drop=True)
        else:
            inter = pd.DataFrame({"street_a": pd.Series([], dtype=np.int64),
                                  "street_b": pd.Series([], dtype=np.int64),
                                  "x": pd.Series([], dtype=float), "y": pd.Series([], dtype=float)})
        gaz = cls(addresses=addr, streets=streets_gdf, places=places_gdf, paths=paths_gdf,
                  intersections=inter, crs=wcrs, source=source)
        log.info("gazetteer %s: %d addresses, %d streets, %d places, %d paths, %d intersections",
                 source or "(frames)", len(addr), len(streets_gdf), len(places_gdf), len(paths_gdf),
                 len(inter))
        return gaz

    @classmethod
    def from_osm_xml(cls, path: str | Path, *, crs: Any = DEFAULT_WORKING_CRS) -> Gazetteer:
        """Build a gazetteer from an OSM XML file (``.osm``, ``.osm.bz2``, ``.osm.gz``).

        Addresses come from nodes and buildings with ``addr:street`` and ``addr:housenumber``
        (read with :func:`osmnx.features_from_xml`); streets and paths from the highway ways
        (:func:`osmnx.graph_from_xml`), with the intersections of named streets taken from the
        graph's nodes; places from named parks, green areas, squares, pedestrian areas,
        schools, stations and ``place=*`` nodes.

        Parameters
        ----------
        path
            The OSM XML file.
        crs
            Working CRS (projected; default SWEREF 99 TM).
        """
        p = Path(path)
        if not p.exists():
            raise MissingFileError(p, what="OSM XML file")
        try:
            feats = ox.features_from_xml(p, tags=_PLACE_TAGS)
        except InsufficientResponseError:
            feats = gpd.GeoDataFrame(
                {"name": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326"
            )
        except Exception as exc:  # osmnx raises ParseError, UnicodeDecodeError ...
            raise UnreadableFileError(
                f"the OSM XML could not be read ({exc}).",
                file=p,
                fix="check that it is an OSM XML (.osm) download.",
            ) from exc
        feats = feats.reset_index()
        for col in ("addr:street", "addr:housenumber", "addr:postcode", "addr:city", "name"):
            if col not in feats.columns:
                feats[col] = None
        is_addr = feats["addr:street"].notna() & feats["addr:housenumber"].notna()
        ad = feats.loc[is_addr].copy()
        ad_geom = ad.geometry.where(ad.geom_type == "Point", ad.geometry.representative_point())
        addresses = gpd.GeoDataFrame(
            {"street": ad["addr:street"].astype(str).to_numpy(),
             "housenumber": ad["addr:housenumber"].astype(str).to_numpy(),
             "postcode": ad["addr:postcode"].to_numpy(), "locality": ad["addr:city"].to_numpy()},
            geometry=ad_geom.to_numpy(), crs=feats.crs,
        )
        named = feats[feats["name"].notna()].copy()
        ptype = pd.Series("poi", index=named.index, dtype=object)
        for k in reversed(_PLACE_TYPE_KEYS):
            if k in named.columns:
                v = named[k]
                ok = v.notna() & (v.astype(str) != "yes") if k != "highway" else v.eq("pedestrian")
                ptype = ptype.where(~ok, v)
        ptype = ptype.where(~(named.get("highway", pd.Series(index=named.index)).eq("pedestrian")
                              & named.geom_type.isin(["Polygon", "MultiPolygon"])), "square")
        places = gpd.GeoDataFrame({"name": named["name"].astype(str).to_numpy(),
                                   "place_type": ptype.astype(str).to_numpy()},
                                  geometry=named.geometry.to_numpy(), crs=feats.crs)
        # pedestrian ways that are lines are streets, not places
        places = places[
            ~(
                (places["place_type"] == "pedestrian")
                & places.geom_type.isin(["LineString", "MultiLineString"])
            )
        ]

        try:
            G = ox.graph_from_xml(p, simplify=False, retain_all=True, bidirectional=True)
        except Exception as exc:
            raise UnreadableFileError(f"the street network could not be read ({exc}).", file=p,
                                      fix="check that the OSM XML holds highway ways.") from exc
        streets, paths, inter = _graph_layers(G)
        return cls.from_frames(addresses=addresses, streets=streets, places=places, paths=paths,
                               intersections=inter, crs=crs, source=str(p))

    @classmethod
    def from_address_file(  # noqa: C901 - long but linear (no nesting to hide); split it when it next changes
        cls,
        path: str | Path,
        *,
        columns: dict[str, str] | None = None,
        crs: Any = None,
        working_crs: Any = DEFAULT_WORKING_CRS,
    ) -> Gazetteer:
        """Build a gazetteer from an address-point file (CSV, Excel or GPKG).

        Parameters
        ----------
        path
            The file, as exported from a municipal address register (one row per address
            point: street, number, letter, postcode, locality, x, y).
        columns
            Field -> header in the file, for ``street``, ``number``, ``letter``, ``postcode``,
            ``locality``, ``x``, ``y``, ``crs``. Common Swedish headers (gatunamn, nummer,
            bokstav, postnummer, postort, ...) are recognised without it.
        crs
            The CRS of the x/y columns (needed for a CSV unless it has a ``crs`` column; a
            GPKG carries its own).
        working_crs
            The gazetteer's projected CRS (default SWEREF 99 TM).
        """
        p = Path(path)
        if not p.exists():
            raise MissingFileError(p, what="address file")
        if p.suffix.lower() in {".gpkg", ".shp", ".geojson", ".json", ".fgb"}:
            try:
                df = pyogrio.read_dataframe(p)
            except Exception as exc:
                raise UnreadableFileError(f"the address file could not be read ({exc}).", file=p,
                                          fix="check the file with ogrinfo.") from exc
            found = [str(c) for c in df.columns if c != "geometry"]
            m = match_columns(
                found, _ADDRESS_COLUMNS, override=columns, required=("street", "number"), file=p
            )
            if (
                isinstance(df, gpd.GeoDataFrame)
                and df.geometry.notna().any()
                and "x" not in (columns or {})
            ):
                if df.crs is None:
                    df = df.set_crs(require_crs(crs, what="the address layer", file=p))
                geom = df.geometry
            else:
                geom = None
            text = df.drop(columns=[c for c in ("geometry",) if c in df.columns])
            text = pd.DataFrame({c: text[c].astype(object).where(text[c].notna(), None).map(
                lambda v: v if v is None else str(v)) for c in text.columns})
            rows = np.arange(2, len(text) + 2)
        else:
            table = read_table(p, what="address file")
            text = table.frame
            rows = table.source_row
            m = match_columns(list(text.columns), _ADDRESS_COLUMNS, override=columns,
                              required=("street", "number"), file=p)
            geom = None
        if len(text) == 0:
            raise EmptyLayerError("the address file has no rows.", file=p)
        out_crs: Any
        if geom is None:
            for fld in ("x", "y"):
                if fld not in m:
                    raise InputError(
                        f"the address file has no '{fld}' column and no geometry.",
                        file=p,
                        column=fld,
                        fix="add x and y columns, or map them with columns={'x': ..., 'y': ...}.",
                    )
            xs, badx = parse_number(
                text[m["x"]], column=m["x"], file=p, rows=[int(r) for r in rows]
            )
            ys, bady = parse_number(
                text[m["y"]], column=m["y"], file=p, rows=[int(r) for r in rows]
            )
            if badx or bady:
                r, v = (badx or bady)[0]
                raise InputError(
                    f"'{v}' is not a coordinate.",
                    file=p,
                    row=r,
                    column=m["x"] if badx else m["y"],
                    fix="correct or remove the cell.",
                )
            if crs is None and "crs" in m:
                vals = pd.unique(text[m["crs"]].dropna())
                if len(vals) != 1:
                    raise CRSError(f"the column holds {len(vals)} different CRS values.", file=p,
                                   column=m["crs"], fix="export all points in one CRS.")
                crs = parse_crs(vals[0], file=p, column=m["crs"])
            out_crs = require_crs(crs, what="the address file (x/y columns)", file=p)
            geom = gpd.GeoSeries(gpd.points_from_xy(xs.to_numpy(), ys.to_numpy()), crs=out_crs)
        else:
            out_crs = geom.crs

        def col(f: str) -> list[Any]:
            if f not in m:
                return [None] * len(text)
            return text[m[f]].tolist()

        addresses = gpd.GeoDataFrame(
            {"street": col("street"), "housenumber": col("number"), "letter": col("letter"),
             "postcode": col("postcode"), "locality": col("locality")},
            geometry=geom.to_numpy(), crs=out_crs,
        )
        # "12" + "A" -> "12A"
        letters = pd.Series(addresses["letter"]).fillna("").astype(str).str.strip()
        addresses["housenumber"] = (
            pd.Series(addresses["housenumber"]).fillna("").astype(str).str.strip() + letters
        )
        addresses = addresses.drop(columns=["letter"])
        bad = addresses.geometry.is_empty | ~np.isfinite(addresses.geometry.x)
        if bad.any():
            r = int(rows[int(np.flatnonzero(bad.to_numpy())[0])])
            raise InputError("an address point has no coordinates.", file=p, row=r,
                             fix="fill in x and y or remove the row.")
        return cls.from_frames(addresses=addresses, crs=working_crs, source=str(p))

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        crs: Any = DEFAULT_WORKING_CRS,
        columns: dict[str, str] | None = None,
        source_crs: Any = None,
    ) -> Gazetteer:
        """Build or load a gazetteer from whatever ``path`` is.

        ``.osm``/``.osm.bz2``/``.osm.gz``/``.xml``: :meth:`from_osm_xml`; a GeoPackage written by
        :meth:`save`: :meth:`load` (reprojected to ``crs``); any other CSV, Excel or GPKG:
        :meth:`from_address_file` with ``columns`` and ``source_crs`` (the CRS of its x/y).

        Parameters
        ----------
        path
            The source.
        crs
            The working CRS of the result.
        columns, source_crs
            For address files (see :meth:`from_address_file`).
        """
        p = Path(path)
        name = p.name.lower()
        if not p.exists():
            raise MissingFileError(p, what="gazetteer source")
        if name.endswith((".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")):
            return cls.from_osm_xml(p, crs=crs)
        if name.endswith(".gpkg"):
            if "gazetteer_meta" in {row[0] for row in pyogrio.list_layers(p)}:
                return cls.load(p).to_crs(crs)
        return cls.from_address_file(p, columns=columns, crs=source_crs, working_crs=crs)

    def to_crs(self, crs: Any) -> Gazetteer:
        """The same gazetteer in another (projected) CRS; ``self`` when it is already in it."""
        target = require_projected(crs, what="the gazetteer's CRS")
        if target == self.crs:
            return self
        tr = Transformer.from_crs(self.crs, target, always_xy=True)
        inter = self.intersections.copy()
        if len(inter):
            inter["x"], inter["y"] = tr.transform(inter["x"].to_numpy(), inter["y"].to_numpy())
        return type(self)(
            addresses=self.addresses.to_crs(target),
            streets=self.streets.to_crs(target),
            places=self.places.to_crs(target),
            paths=self.paths.to_crs(target),
            intersections=inter,
            crs=target,
            source=self.source,
        )

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write the gazetteer to one GeoPackage; the write is atomic.

        Its layers are ``addresses``, ``streets``, ``places``, ``paths``, ``intersections`` and
        ``gazetteer_meta``.
        """
        target = Path(path)
        if target.suffix.lower() != ".gpkg":
            raise InputError("a gazetteer is saved as a GeoPackage.", file=target,
                             fix="give a path ending in .gpkg.")
        with atomic_path(target) as tmp:
            layers: list[tuple[str, pd.DataFrame, str | None]] = [
                ("addresses", self.addresses, "Point"),
                ("streets", self.streets, "Unknown"),
                ("places", self.places, "Unknown"),
                ("paths", self.paths, "Unknown"),
            ]
            for name, frame, gtype in layers:
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", geometry_type=gtype,
                                        promote_to_multi=False)
            pyogrio.write_dataframe(self.intersections, tmp, layer="intersections", driver="GPKG")
            meta = pd.DataFrame({"key": ["format", "source", "crs"],
                                 "value": [_FORMAT, self.source, self.crs.to_string()]})
            pyogrio.write_dataframe(meta, tmp, layer="gazetteer_meta", driver="GPKG")
        return target

    @classmethod
    def load(cls, path: str | Path) -> Gazetteer:
        """Read a gazetteer written by :meth:`save`."""
        p = Path(path)
        if not p.exists():
            raise MissingFileError(p, what="saved gazetteer")
        names = {row[0] for row in pyogrio.list_layers(p)}
        if "gazetteer_meta" not in names:
            raise UnreadableFileError(
                "this GeoPackage is not a saved gazetteer (no 'gazetteer_meta' layer).", file=p,
                fix="build it with Gazetteer.from_osm_xml(...).save(path), or read an address "
                "point layer with Gazetteer.from_address_file(path).",
            )
        meta = dict(
            pyogrio.read_dataframe(p, layer="gazetteer_meta")[["key", "value"]].itertuples(
                index=False
            )
        )
        if meta.get("format") != _FORMAT:
            raise UnreadableFileError(
                f"unknown gazetteer format {meta.get('format')!r}.",
                file=p,
                fix="build the gazetteer again with this version of trygg_geo.",
            )
        crs = CRS.from_user_input(meta["crs"])

        def read(layer: str) -> gpd.GeoDataFrame:
            g = pyogrio.read_dataframe(p, layer=layer)
            g = g.set_crs(crs, allow_override=True)
            for c in g.columns:
                if c != "geometry" and (
                    g[c].dtype == object or str(g[c].dtype).startswith(("str", "string"))
                ):
                    g[c] = g[c].astype(object).where(g[c].notna(), "")
            return g

        addr = read("addresses")
        addr["street_id"] = addr["street_id"].astype(np.int64)
        addr["number"] = addr["number"].astype(np.int64)
        addr["derived"] = addr["derived"].astype(bool)
        inter = pyogrio.read_dataframe(p, layer="intersections")
        inter = pd.DataFrame({"street_a": inter["street_a"].astype(np.int64),
                              "street_b": inter["street_b"].astype(np.int64),
                              "x": inter["x"].astype(float), "y": inter["y"].astype(float)})
        return cls(addresses=addr, streets=read("streets"), places=read("places"),
                   paths=read("paths"), intersections=inter, crs=crs, source=meta.get("source", ""))

    # ------------------------------------------------------------------ properties
    @property
    def extent(self) -> BaseGeometry:
        """The area the gazetteer covers.

        Its bounding box plus 1 km, as a polygon in :attr:`crs`.
        """
        if "extent" not in self._cache:
            bounds = []
            for g in (self.addresses, self.streets, self.places):
                if len(g) and g.geometry.notna().any():
                    bounds.append(g.geometry.dropna().total_bounds)
            if not bounds:
                self._cache["extent"] = shapely.Polygon()
            else:
                b = np.array(bounds)
                self._cache["extent"] = shapely.box(
                    b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
                ).buffer(_EXTENT_MARGIN_M, join_style="mitre")
        return self._cache["extent"]

    def __len__(self) -> int:
        """The number of address points."""
        return len(self.addresses)

    def to_frame(self) -> pd.DataFrame:
        """Counts per layer."""
        return pd.DataFrame({"layer": ["addresses", "streets", "places", "paths", "intersections"],
                             "n": [len(self.addresses), len(self.streets), len(self.places),
                                   len(self.paths), len(self.intersections)]})

    # ------------------------------------------------------------------ lookup indices
    @cached_property
    def index(self) -> _Index:
        """Lookup structures (dicts, sorted integer keys, blocking), built on first use."""
        return _Index(self)


class _Index:
    """Dict and array indices over a gazetteer; no per-query scans of the whole table."""

    def __init__(self, gaz: Gazetteer) -> None:
        st = gaz.streets
        self.street_key: dict[str, int] = {k: i for i, k in enumerate(st["key"].tolist())}
        self.street_display: dict[str, int] = {n: i for i, n in enumerate(st["name"].tolist())}
        self.street_fold: dict[str, int] = {}
        for i, f in enumerate(st["fold"].tolist()):
            self.street_fold.setdefault(f, i)
        self.street_folds: list[str] = st["fold"].tolist()
        self.street_blocks: dict[str, list[int]] = {}
        for i, f in enumerate(self.street_folds):
            for b in blocking_keys(f):
                self.street_blocks.setdefault(b, []).append(i)
        a = gaz.addresses
        n = len(a)
        codes = (
            np.array([letter_code(x) for x in a["letter"].tolist()], dtype=np.int64)
            if n
            else np.zeros(0, np.int64)
        )
        sids = a["street_id"].to_numpy(np.int64)
        nums = a["number"].to_numpy(np.int64)
        full = (sids << 24) | (nums << 6) | codes
        # primary addresses before derived ones (range ends), then file order
        order = np.lexsort((np.arange(n), a["derived"].to_numpy(bool), full))
        self.addr_order = order
        self.addr_full = full[order]
        numkey = (sids << 24) | (nums << 6)
        order2 = np.lexsort((codes, a["derived"].to_numpy(bool), numkey))
        self.addr_num_order = order2
        self.addr_num = numkey[order2]
        self.addr_postcode = a["postcode"].astype(str).to_numpy()
        self.addr_locality_fold = np.array(
            [name_fold(x) for x in pd.unique(a["locality"].astype(str))], dtype=object
        )
        self.addr_x = a.geometry.x.to_numpy() if n else np.zeros(0)
        self.addr_y = a.geometry.y.to_numpy() if n else np.zeros(0)
        self.addr_housenumber = a["housenumber"].astype(str).to_numpy()
        self.addr_street = a["street"].astype(str).to_numpy()
        self.street_names: list[str] = st["name"].astype(str).tolist()
        self.place_names: list[str] = gaz.places["name"].astype(str).tolist()
        # streets per postcode (blocking for the fuzzy stage)
        pc = pd.DataFrame({"pc": self.addr_postcode, "sid": sids})
        pc = pc[pc["pc"] != ""].drop_duplicates()
        self.postcode_streets: dict[str, list[int]] = {
            k: v.tolist() for k, v in pc.groupby("pc")["sid"]
        }
        # places
        pl = gaz.places
        self.place_key: dict[str, list[int]] = {}
        self.place_fold: dict[str, list[int]] = {}
        for i, (k, f) in enumerate(zip(pl["key"].tolist(), pl["fold"].tolist(), strict=True)):
            self.place_key.setdefault(k, []).append(i)
            self.place_fold.setdefault(f, []).append(i)
        self.place_folds: list[str] = pl["fold"].tolist()
        self.place_blocks: dict[str, list[int]] = {}
        for i, f in enumerate(self.place_folds):
            for b in blocking_keys(f):
                self.place_blocks.setdefault(b, []).append(i)
        self.place_types: list[str] = pl["place_type"].astype(str).tolist()
        self.place_is_polygon = pl.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        # intersections
        it = gaz.intersections
        self.intersection: dict[tuple[int, int], tuple[float, float]] = {
            (int(a_), int(b_)): (float(x), float(y))
            for a_, b_, x, y in zip(it["street_a"], it["street_b"], it["x"], it["y"], strict=True)
        }
        # line geometries, as arrays
        self.street_geom = gaz.streets.geometry.to_numpy()
        paths = gaz.paths.geometry.to_numpy()
        lines = [g for g in self.street_geom if g is not None] + [g for g in paths if g is not None]
        self.lines = np.array(lines, dtype=object)
        self.lines_tree = shapely.STRtree(self.lines) if len(lines) else None
        self.street_tree_ids = np.array(
            [i for i, g in enumerate(self.street_geom) if g is not None], dtype=np.int64
        )
        self.street_tree = (shapely.STRtree(self.street_geom[self.street_tree_ids])
                            if len(self.street_tree_ids) else None)
        self.path_geom = paths
        self.path_tree = shapely.STRtree(paths) if len(paths) else None

    def lookup(self, sid: int, number: int, letter: str) -> np.ndarray:
        """Address row positions for (street, number, letter), primary ones first."""
        key = (sid << 24) | (number << 6) | letter_code(letter)
        lo = np.searchsorted(self.addr_full, key, side="left")
        hi = np.searchsorted(self.addr_full, key, side="right")
        return self.addr_order[lo:hi]

    def lookup_number(self, sid: int, number: int) -> np.ndarray:
        """Address row positions for (street, number) with any letter; no-letter ones first."""
        key = (sid << 24) | (number << 6)
        lo = np.searchsorted(self.addr_num, key, side="left")
        hi = np.searchsorted(self.addr_num, key, side="right")
        return self.addr_num_order[lo:hi]


def _graph_layers(G: Any) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Named streets, unnamed paths and named-street intersections from an osmnx graph."""
    nodes, edges = ox.graph_to_gdfs(G)
    edges = edges.reset_index()
    if "highway" not in edges.columns:
        edges["highway"] = None
    if "name" not in edges.columns:
        edges["name"] = None
    edges = edges[edges["highway"].notna()]
    if "area" in edges.columns:  # squares drawn as pedestrian areas are places, not streets
        edges = edges[edges["area"].astype(object).map(lambda v: v != "yes" and v != ["yes"])]
    # one row per undirected segment
    lo = np.minimum(edges["u"].to_numpy(), edges["v"].to_numpy())
    hi = np.maximum(edges["u"].to_numpy(), edges["v"].to_numpy())
    edges = edges.assign(_lo=lo, _hi=hi).drop_duplicates(["_lo", "_hi", "key"])

    def first(v: Any) -> Any:
        return v[0] if isinstance(v, list) and v else v

    edges["name"] = edges["name"].map(first)
    edges["highway"] = edges["highway"].map(first).astype(str)
    named = edges[edges["name"].notna()]
    streets = gpd.GeoDataFrame({"name": named["name"].astype(str).to_numpy(),
                                "highway": named["highway"].to_numpy()},
                               geometry=named.geometry.to_numpy(), crs=edges.crs)
    unnamed = edges[edges["name"].isna() & edges["highway"].isin(_PATH_HIGHWAYS)]
    # merge connected unnamed segments into paths
    if len(unnamed):
        merged = shapely.line_merge(shapely.union_all(unnamed.geometry.to_numpy()))
        parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    else:
        parts = []
    paths = gpd.GeoDataFrame(
        {"highway": ["path"] * len(parts)},
        geometry=gpd.GeoSeries(parts, crs=edges.crs),
        crs=edges.crs,
    )
    # intersections: nodes where two differently named streets meet
    ends = pd.DataFrame(
        {
            "node": np.concatenate([named["u"].to_numpy(), named["v"].to_numpy()]),
            "name": np.concatenate([named["name"].astype(str).to_numpy()] * 2),
        }
    ).drop_duplicates()
    multi = ends[ends.duplicated("node", keep=False)]
    rows: list[tuple[str, str, int]] = []
    for node, grp in multi.groupby("node"):
        names = sorted(grp["name"].tolist())
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                rows.append((names[i], names[j], int(node)))
    inter = pd.DataFrame(rows, columns=["name_a", "name_b", "node"])
    if len(inter):
        pts = nodes.loc[inter["node"].to_numpy()].geometry
        inter["x"] = pts.x.to_numpy()
        inter["y"] = pts.y.to_numpy()
        inter = inter.drop_duplicates(["name_a", "name_b"])  # the first meeting point
    else:
        inter = pd.DataFrame({"name_a": [], "name_b": [], "x": [], "y": []})
    inter_gdf = gpd.GeoDataFrame(
        {"name_a": inter["name_a"].to_numpy(), "name_b": inter["name_b"].to_numpy()},
        geometry=gpd.points_from_xy(inter["x"], inter["y"]), crs=nodes.crs,
    )
    return streets, paths, inter_gdf


__all__ += ["_Index"]
