"""Mörka stråk: footpaths, cycleways, pedestrian streets and steps without lighting.

Lighting is the investment residents ask for most, so the first layer of a lägesbild is where
people walk in the dark. :func:`dark_paths` reads the paths and the street lamps of an OSM
XML file with osmnx's own reader (:func:`osmnx.features_from_xml`) and classifies every
metre of path:

``lit``
    The way is tagged as lit (``lit=yes`` and the time-limited values ``24/7``,
    ``automatic``, ``limited``, ``interval``, ``sunset-sunrise``, ``dusk-dawn``).
``unlit``
    The way is tagged ``lit=no`` (or ``disused``): dark.
``lamp_near``
    No ``lit`` tag, but within ``lamp_distance_m`` of a lamp (an OSM ``highway=street_lamp``
    node, or a point of the optional ``lamps`` layer, such as the municipality's own
    lamp register).
``dark_untagged``
    No ``lit`` tag and no lamp within ``lamp_distance_m``: dark.

The lamp rule works per metre, not per way: a 600 m path with one lamp at its end is lit for
the 30 m around that lamp and dark for the rest. ``dark`` is ``unlit`` or ``dark_untagged``.
Pedestrian *areas* (squares mapped as closed ways or relations with ``area=yes``) are not
paths: they are left out of the metres and counted in :attr:`DarkPaths.areas_skipped`. A
closed path way without ``area=yes`` is a loop and is measured along its ring.

Lengths are measured in the working CRS (projected, metres). Per area, :attr:`DarkPaths.by_area`
gives the path metres, the dark metres and the share of path metres that are dark.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import osmnx as ox
import pandas as pd
import shapely

from trygg_geo._crs import require_crs, working_crs
from trygg_geo._errors import InputError, MissingFileError

__all__ = [
    "LIT_VALUES",
    "PATH_HIGHWAYS",
    "UNLIT_VALUES",
    "DarkPaths",
    "dark_paths",
]

log = logging.getLogger(__name__)

#: The ``highway`` values that are paths people walk or cycle on.
PATH_HIGHWAYS = ("footway", "path", "cycleway", "pedestrian", "steps")
#: ``lit`` values that mean the way is lit (at least part of the night).
LIT_VALUES = frozenset({"yes", "24/7", "automatic", "limited", "interval", "sunset-sunrise",
                        "dusk-dawn"})
#: ``lit`` values that mean the way is not lit.
UNLIT_VALUES = frozenset({"no", "disused"})
#: The classes, in the order a legend shows them.
CATEGORIES = ("lit", "lamp_near", "unlit", "dark_untagged")
_DARK = ("unlit", "dark_untagged")


@dataclass(frozen=True)
class DarkPaths:
    """The paths of an OSM file, cut by lighting class, and their metres per area.

    Attributes
    ----------
    paths
        One row per piece of path with a single class: ``osm_id`` (the way), ``highway``,
        ``name``, ``lit_tag`` (as tagged, or empty), ``category`` (see the module), ``dark``
        (bool), ``length_m``; LineString or MultiLineString geometry in the working CRS.
    lamps
        The lamps used: ``source`` (``osm`` or ``lamp_layer``), Point geometry.
    by_area
        Per area (when areas were given): ``area_id``, ``path_m``, ``dark_m``, ``lit_m``,
        ``lamp_near_m``, ``unlit_m``, ``dark_untagged_m`` and ``dark_share`` (dark metres /
        path metres; NaN where the area has no path). Every area is listed, also those without
        paths.
    lamp_distance_m
        The distance within which a lamp lights an untagged path.
    areas_skipped
        Pedestrian areas (``area=yes``) left out of the path metres.
    """

    paths: gpd.GeoDataFrame
    lamps: gpd.GeoDataFrame
    by_area: pd.DataFrame | None
    lamp_distance_m: float
    areas_skipped: int

    def metres_by_category(self) -> pd.Series:
        """Path metres per class (every class listed, 0 when absent).

        >>> res = dark_paths(_example_osm(), crs="EPSG:3011")
        >>> res.metres_by_category().round(0).to_dict()
        {'lit': 111.0, 'lamp_near': 28.0, 'unlit': 0.0, 'dark_untagged': 86.0}
        """
        s = self.paths.groupby("category")["length_m"].sum()
        return s.reindex(list(CATEGORIES), fill_value=0.0)

    @property
    def dark_m(self) -> float:
        """Metres of dark path (``unlit`` + ``dark_untagged``)."""
        return float(self.paths.loc[self.paths["dark"], "length_m"].sum())


def _read_features(path: Path) -> gpd.GeoDataFrame:
    if not path.exists():
        raise MissingFileError(path, what="OSM file (for dark paths)")
    tags: dict[str, bool | str | list[str]] = {"highway": [*PATH_HIGHWAYS, "street_lamp"]}
    try:
        feats = ox.features_from_xml(path, tags=tags)
    except ox._errors.InsufficientResponseError:
        return gpd.GeoDataFrame({"highway": []}, geometry=[], crs="EPSG:4326")
    except Exception as exc:  # osmnx/XML errors: name the file
        raise InputError(f"{path.name}: could not be read as OSM XML ({exc})", file=path,
                         fix="export the area again from OpenStreetMap as .osm XML") from exc
    return feats


def _category(lit: pd.Series) -> np.ndarray:
    val = lit.astype("string").str.strip().str.lower()
    out = np.full(len(val), "untagged", dtype=object)
    out[val.isin(LIT_VALUES).fillna(False).to_numpy()] = "lit"
    out[val.isin(UNLIT_VALUES).fillna(False).to_numpy()] = "unlit"
    # other values (lit=unknown, typos): treated as untagged, so lamps decide
    return out


def _split_by_lamps(paths: gpd.GeoDataFrame, lamps: gpd.GeoSeries,
                    distance: float) -> gpd.GeoDataFrame:
    """Cut untagged paths into the part within ``distance`` of a lamp and the rest."""
    untagged = paths["category"] == "untagged"
    keep = paths[~untagged]
    todo = paths[untagged]
    if todo.empty:
        return keep
    if len(lamps):
        lit_zone = shapely.union_all(shapely.buffer(lamps.to_numpy(), distance, quad_segs=16))
        near = shapely.intersection(todo.geometry.to_numpy(), lit_zone)
        far = shapely.difference(todo.geometry.to_numpy(), lit_zone)
    else:
        near = np.array([shapely.LineString()] * len(todo), dtype=object)
        far = todo.geometry.to_numpy()
    parts = []
    for geoms, cat in ((near, "lamp_near"), (far, "dark_untagged")):
        piece = todo.copy()
        piece["category"] = cat
        piece = piece.set_geometry(gpd.GeoSeries(geoms, index=todo.index, crs=paths.crs))
        lines = shapely.get_type_id(piece.geometry.to_numpy()) != shapely.GeometryType.POINT
        piece = piece[lines & ~piece.geometry.is_empty]
        parts.append(piece)
    out = pd.concat([keep, *parts])
    return gpd.GeoDataFrame(out, geometry="geometry", crs=paths.crs)


def _lines_only(geoms: np.ndarray) -> np.ndarray:
    """The linear parts of intersection results (points where a path just touches go)."""
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            out.append(shapely.LineString())
            continue
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ("LineString",
                                                                      "MultiLineString")]
        out.append(shapely.line_merge(shapely.union_all(parts)) if parts else
                   shapely.LineString())
    return np.array(out, dtype=object)


def _per_area(paths: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    cols = [f"{c}_m" for c in CATEGORIES]
    ids = areas["area_id"].astype(str).to_numpy()
    if paths.empty:
        table = pd.DataFrame(0.0, index=pd.Index(ids, name="area_id"), columns=cols)
    else:
        tree = shapely.STRtree(areas.geometry.to_numpy())
        pi, ai = tree.query(paths.geometry.to_numpy(), predicate="intersects")
        pieces = _lines_only(shapely.intersection(paths.geometry.to_numpy()[pi],
                                                  areas.geometry.to_numpy()[ai]))
        frame = pd.DataFrame({"area_id": ids[ai],
                              "category": paths["category"].to_numpy()[pi],
                              "length_m": shapely.length(pieces)})
        table = (frame.pivot_table(index="area_id", columns="category", values="length_m",
                                   aggfunc="sum", fill_value=0.0)
                 .reindex(index=pd.Index(ids, name="area_id"), columns=list(CATEGORIES),
                          fill_value=0.0))
        table.columns = cols
        table = table.fillna(0.0)
    table["path_m"] = table[cols].sum(axis=1)
    table["dark_m"] = table["unlit_m"] + table["dark_untagged_m"]
    with np.errstate(invalid="ignore", divide="ignore"):
        table["dark_share"] = np.where(table["path_m"] > 0,
                                       table["dark_m"] / table["path_m"].where(
                                           table["path_m"] > 0, 1.0), np.nan)
    return table.reset_index()[["area_id", "path_m", "dark_m", *cols, "dark_share"]]


def dark_paths(
    osm: str | Path,
    *,
    areas: gpd.GeoDataFrame | None = None,
    lamps: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    lamp_distance_m: float = 30.0,
    crs: Any = None,
) -> DarkPaths:
    """Classify the paths of an OSM XML file by lighting, and sum their metres per area.

    Parameters
    ----------
    osm
        An OSM XML file (``.osm``, ``.osm.bz2``, ``.osm.gz``), read with
        :func:`osmnx.features_from_xml`.
    areas
        Optional area layer with ``area_id``: the metres per area (:attr:`DarkPaths.by_area`).
    lamps
        Optional lamp points (the municipality's lamp register); they count as lamps beside
        OSM's ``highway=street_lamp`` nodes. Must have a CRS.
    lamp_distance_m
        A path without a ``lit`` tag is lit where a lamp is within this distance (metres).
    crs
        The working CRS (projected, metres). Default: the areas' CRS when projected, else
        EPSG:3006 (SWEREF 99 TM).

    Returns
    -------
    DarkPaths

    Raises
    ------
    MissingFileError
        The OSM file does not exist.
    InputError
        It is not OSM XML, or ``lamp_distance_m`` is not a positive number.
    CRSError
        ``crs`` or the areas' CRS is not projected in metres, or the lamps have no CRS.

    Examples
    --------
    >>> res = dark_paths(_example_osm(), crs="EPSG:3011")
    >>> res.paths[["osm_id", "category"]].sort_values(["osm_id", "category"]).values.tolist()
    [[1, 'lit'], [2, 'dark_untagged'], [2, 'lamp_near']]
    >>> round(res.dark_m)  # 114 m of way 2, less the 28 m within 30 m of the lamp 11 m off it
    86
    """
    if not (isinstance(lamp_distance_m, (int, float)) and np.isfinite(lamp_distance_m)
            and lamp_distance_m > 0):
        raise InputError(f"lamp_distance_m must be a positive number of metres, not "
                         f"{lamp_distance_m!r}", key="places.lamp_distance_m",
                         fix="set it to e.g. 30")
    work = working_crs(crs, areas.crs if areas is not None else None)  # the one rule
    path = Path(osm)
    feats = _read_features(path)
    hw = feats.get("highway", pd.Series(index=feats.index, dtype=object)).astype("string")
    kind = shapely.get_type_id(feats.geometry.to_numpy())
    is_line = np.isin(kind, [shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING])
    is_poly = np.isin(kind, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON])
    is_path = hw.isin(PATH_HIGHWAYS).fillna(False).to_numpy()
    # a closed path way is a loop, not a square, unless it says area=yes: osmnx makes some of
    # them polygons (e.g. indoor=corridor), so those are walked along their ring
    area_tag = feats["area"].astype("string").str.lower() if "area" in feats.columns else \
        pd.Series(pd.NA, index=feats.index, dtype="string")
    is_area = (area_tag == "yes").fillna(False).to_numpy() | np.array(
        [str(i[0]) == "relation" for i in feats.index], dtype=bool)  # multipolygons are areas
    loops = is_path & is_poly & ~is_area
    skipped = int((is_path & is_poly & is_area).sum())
    ways = feats[is_path & (is_line | loops)].copy()
    if loops.any():
        ring = loops[is_path & (is_line | loops)]
        ways.loc[ring, ways.geometry.name] = shapely.boundary(ways.geometry.to_numpy()[ring])
    osm_lamps = feats[(hw == "street_lamp").fillna(False).to_numpy()
                      & (kind == shapely.GeometryType.POINT)]
    lit = ways["lit"] if "lit" in ways else pd.Series(pd.NA, index=ways.index, dtype="string")
    name = ways["name"] if "name" in ways else pd.Series(pd.NA, index=ways.index, dtype="string")
    paths = gpd.GeoDataFrame(
        {"osm_id": [int(i[1]) for i in ways.index],
         "highway": ways["highway"].astype(str).to_numpy(),
         "name": name.astype("string").fillna("").to_numpy(),
         "lit_tag": lit.astype("string").fillna("").to_numpy(),
         "category": _category(lit)},
        geometry=ways.geometry.to_numpy(), crs=feats.crs or "EPSG:4326",
    ).to_crs(work)
    lamp_pts = [gpd.GeoDataFrame({"source": ["osm"] * len(osm_lamps)},
                                 geometry=osm_lamps.geometry.to_numpy(),
                                 crs=feats.crs or "EPSG:4326").to_crs(work)]
    if lamps is not None:
        layer = lamps if isinstance(lamps, gpd.GeoDataFrame) else gpd.GeoDataFrame(geometry=lamps)
        require_crs(layer, what="the lamp layer")
        lamp_pts.append(gpd.GeoDataFrame({"source": ["lamp_layer"] * len(layer)},
                                         geometry=layer.geometry.to_numpy(),
                                         crs=layer.crs).to_crs(work))
    all_lamps = gpd.GeoDataFrame(pd.concat(lamp_pts, ignore_index=True), geometry="geometry",
                                 crs=work)
    paths = _split_by_lamps(paths, all_lamps.geometry, float(lamp_distance_m))
    paths["dark"] = paths["category"].isin(_DARK)
    paths["length_m"] = paths.geometry.length
    paths = paths.sort_values(["osm_id", "category"], kind="stable").reset_index(drop=True)
    by_area = None
    if areas is not None:
        if "area_id" not in areas:
            raise InputError("the area layer has no 'area_id' column", key="areas.id_column",
                             fix="read the areas with trygg_geo.read_areas, which builds it")
        by_area = _per_area(paths, areas.to_crs(work))
    log.info("%s: %d path pieces, %.0f m of path, %.0f m dark (lamps: %d, within %.0f m); "
             "%d pedestrian areas left out", path.name, len(paths), paths["length_m"].sum(),
             paths.loc[paths["dark"], "length_m"].sum(), len(all_lamps), lamp_distance_m,
             skipped)
    return DarkPaths(paths=paths, lamps=all_lamps, by_area=by_area,
                     lamp_distance_m=float(lamp_distance_m), areas_skipped=skipped)


def _example_osm() -> Path:
    """A tiny OSM file for the doctests.

    A lit footway (111 m), and an untagged one (114 m) with a lamp 11 m north of its west end.
    """
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="10" lat="59.3400" lon="18.0600"/>
  <node id="11" lat="59.3410" lon="18.0600"/>
  <node id="12" lat="59.3400" lon="18.0620"/>
  <node id="13" lat="59.3400" lon="18.0640"/>
  <node id="20" lat="59.3401" lon="18.0620"><tag k="highway" v="street_lamp"/></node>
  <way id="1"><nd ref="10"/><nd ref="11"/>
    <tag k="highway" v="footway"/><tag k="lit" v="yes"/></way>
  <way id="2"><nd ref="12"/><nd ref="13"/><tag k="highway" v="footway"/></way>
</osm>
"""
    folder = Path(tempfile.mkdtemp(prefix="trygg_geo_doc_"))
    out = folder / "exempel.osm"
    out.write_text(xml, encoding="utf-8")
    return out
