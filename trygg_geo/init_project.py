"""``trygg-geo init DIR``: a project folder to fill in, which runs as it is.

:func:`init_project` writes a commented Swedish ``projekt.toml`` (every section the config
accepts, see :mod:`trygg_geo.config`, with what to fill in and the valid values) and example
input files in the formats a municipality has:

- ``investeringar.csv``: the investment register (Swedish headers, ``;``, decimal comma);
- ``trygghetsmatning.csv``: survey aggregates (area id, name, year, indicator, respondents,
  share in percent);
- ``stadsdelar.gpkg``: the districts (layer ``stadsdelar``: ``sdid``, ``stadsdel``,
  ``stadsdelsomrade``), SWEREF 99 TM;
- ``gator.osm``: streets, addresses and places as OSM XML (the gazetteer);
- ``handelser.csv``: incidents with X/Y;
- ``tyck_till.csv``: places residents pointed out (Swedish X = northing order).

The examples are the synthetic demo city (:func:`trygg_geo.demo.make_demo_city`, the same
seed as ``trygg-geo demo``), so they are consistent with each other: ``trygg-geo run
DIR/projekt.toml`` on the untouched folder writes the normal outputs to ``DIR/resultat``
and exits 0 (effects estimated). The planted truth (``facit.json``) is not copied: it is
no input.

An existing folder that is not empty is refused (:class:`FolderNotEmptyError`, exit 2 in the
CLI) unless ``force=True``; then only the files listed above are replaced.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from trygg_geo._atomic import atomic_path
from trygg_geo._errors import OutputPathError
from trygg_geo._i18n import text
from trygg_geo.demo import DEMO_CRS, WAVES, make_demo_city
from trygg_geo.ranking import DEFAULT_WEIGHTS
from trygg_geo.survey import FIELDWORK_DAY, FIELDWORK_MONTH

__all__ = ["CONFIG_NAME", "FILES", "FolderNotEmptyError", "InitResult", "init_project"]

#: the config file :func:`init_project` writes
CONFIG_NAME = "projekt.toml"
#: the example input files, in the order they are written (the config last)
FILES: tuple[str, ...] = ("investeringar.csv", "trygghetsmatning.csv", "stadsdelar.gpkg",
                          "gator.osm", "handelser.csv", "tyck_till.csv")
#: the seed of the example (the demo city's default seed)
SEED = 2024
AREAS_LAYER = "stadsdelar"


class FolderNotEmptyError(OutputPathError):
    """``init`` was pointed at a folder that already holds files (and no ``force``)."""

    def __init__(self, folder: Path, entries: list[str]) -> None:
        self.folder = folder
        self.entries = entries
        super().__init__(self.render("en"))

    def render(self, lang: str = "en") -> str:
        """The message in ``lang`` (``"sv"`` or ``"en"``)."""
        shown = ", ".join(self.entries[:5]) + (", …" if len(self.entries) > 5 else "")
        return text("init.folder_not_empty", "sv" if lang == "sv" else "en",
                    folder=self.folder, shown=shown, config=CONFIG_NAME,
                    files=", ".join(FILES))


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_project` wrote: the folder, the config and the example files."""

    folder: Path
    config: Path
    files: dict[str, Path]


def _check_folder(folder: Path, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise OutputPathError(f"'{folder}' is a file, not a folder. Fix: give the path of a new "
                              "or empty folder, e.g. trygg-geo init mitt_projekt.")
    if folder.is_dir() and not force:
        entries = sorted(p.name for p in folder.iterdir())
        if entries:
            raise FolderNotEmptyError(folder, entries)


def _copy(src: Path, dst: Path) -> None:
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def _write_areas(src: Path, dst: Path) -> None:
    """The demo's GeoJSON districts as a GeoPackage layer, as GIS departments deliver them."""
    areas = gpd.read_file(src)
    with atomic_path(dst) as tmp:
        areas.to_file(tmp, layer=AREAS_LAYER, driver="GPKG")


def init_project(folder: str | Path, *, force: bool = False, lang: str = "sv") -> InitResult:
    """Write ``projekt.toml`` and example input files to fill in, into ``folder``.

    Parameters
    ----------
    folder
        The project folder (created). It must be new or empty unless ``force``.
    force
        Replace the example files in a folder that is not empty (other files stay).
    lang
        ``[project] language`` of the written config (``"sv"`` or ``"en"``): the language of
        the map, the report and the messages. The config's comments are Swedish.

    Returns
    -------
    InitResult

    Raises
    ------
    FolderNotEmptyError
        ``folder`` holds files and ``force`` is false.
    OutputPathError
        ``folder`` is a file.
    ValueError
        ``lang`` is not ``"sv"`` or ``"en"``.

    Examples
    --------
    >>> import tempfile
    >>> from trygg_geo.config import load_config
    >>> res = init_project(Path(tempfile.mkdtemp()) / "projekt")
    >>> cfg = load_config(res.config)
    >>> cfg.areas.path.name, cfg.areas.layer, cfg.output.folder.name
    ('stadsdelar.gpkg', 'stadsdelar', 'resultat')
    """
    if lang not in ("sv", "en"):
        raise ValueError(f"lang must be 'sv' or 'en', not {lang!r}.")
    folder = Path(folder)
    _check_folder(folder, force)
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="trygg_geo_init_") as tmp:
        city = make_demo_city(Path(tmp) / "stad", seed=SEED)
        sources = {"investeringar.csv": city.register, "trygghetsmatning.csv": city.survey,
                   "gator.osm": city.osm, "handelser.csv": city.incidents,
                   "tyck_till.csv": city.reports}
        for name in FILES:
            dst = folder / name
            if name == "stadsdelar.gpkg":
                _write_areas(city.areas, dst)
            else:
                src = sources[name]
                assert src is not None  # the demo city always writes its reports
                _copy(src, dst)
            files[name] = dst
    config = folder / CONFIG_NAME
    with atomic_path(config) as tmp_cfg:
        tmp_cfg.write_text(config_text(lang=lang), encoding="utf-8")
    return InitResult(folder=folder, config=config, files=files)


def config_text(*, lang: str = "sv") -> str:
    """The commented ``projekt.toml`` that :func:`init_project` writes.

    >>> import tomllib
    >>> sorted(tomllib.loads(config_text()))[:4]
    ['analysis', 'areas', 'gazetteer', 'incidents']
    """
    weights = "\n".join(f"{k} = {v:g}" for k, v in DEFAULT_WEIGHTS.items())
    waves = ", ".join(str(w) for w in WAVES)
    return _CONFIG.format(lang=lang, crs=DEMO_CRS, layer=AREAS_LAYER, waves=waves,
                          month=FIELDWORK_MONTH, day=FIELDWORK_DAY, weights=weights, seed=SEED)


_CONFIG = """\
# Projektfil för trygg-geo (skriven av: trygg-geo init).
#
# Exempelfilerna i mappen är den syntetiska demostaden (frö {seed}), i de format en kommun
# har. Kör som den är:   trygg-geo run projekt.toml
# Byt sedan filerna mot era egna och ändra raderna nedan. Sökvägar är relativa till den här
# filen. Rader som börjar med # läses inte: ta bort # för att använda en nyckel.
# Okända nycklar vägras (med filen och nyckeln nämnda), så ett stavfel blir aldrig tyst.

[project]
name = "Uppföljning av trygghetsinvesteringar"
# språk i karta, rapport, lagernamn och meddelanden: "sv" eller "en"
language = "{lang}"
# arbets- och utdata-CRS, projicerat i meter (t.ex. "EPSG:3006" SWEREF 99 TM eller
# "EPSG:3011" SWEREF 99 18 00). Utelämnat: områdeslagrets CRS, annars EPSG:3006.
crs = "{crs}"

[areas]
# områdeslagret (stadsdelar): GeoPackage, GeoJSON, Shapefile eller annat vektorformat
path = "stadsdelar.gpkg"
# lagret i en fil med flera lager (utelämnat: det första)
layer = "{layer}"
# kolumnen med områdets id (utelämnat: id byggs av namnen)
id_column = "sdid"
# kolumnen med områdets namn, som enkäten skriver det
name_column = "stadsdel"
# valfri: överordnat område (stadsdelsområde), för sammanställningar per stadsdelsområde
parent_column = "stadsdelsomrade"
# valfri: lagrets CRS om filen saknar eller har fel CRS, t.ex. "EPSG:3011"
# crs = "EPSG:3006"

[register]
# investeringsregistret: CSV (; eller , , decimalkomma, UTF-8 eller Windows-1252) eller .xlsx.
# Svenska rubriker känns igen utan inställning: Projekt-ID, Projektnamn, Åtgärd, Adress/plats,
# Stadsdel, Sökande nämnd, Beviljat (kr), Nyttjat (kr), Startdatum, Färdigställd, Status, X, Y,
# Koordinatsystem. En rad behöver en åtgärd och en plats (adress, platsnamn, korsning
# "korsningen A och B", X/Y eller WKT).
path = "investeringar.csv"
# valfri: flik i en Excelfil (namn, eller 0 för den första)
# sheet = "2024"

# valfri: fält = "rubrik i filen", när en rubrik inte känns igen. Fält: investment_id, name,
# kind, address, district, board, granted_sek, spent_sek, started, completed, status, x, y,
# crs, wkt
[register.columns]
# granted_sek = "Beviljat 2024"

# valfri: åtgärdstext i registret = åtgärdstyp. Typer: belysning, slyrojning,
# kamerabevakning, klottersanering, utemiljo, trygghetsvandring, annat. Vanliga synonymer
# känns igen utan detta; trygg-geo run skriver ut raderna för texter den inte känner igen.
[register.kinds]
"Konstinstallation" = "annat"

[gazetteer]
# adresser, gator och platser att geokoda mot: ett OSM-utdrag (.osm, .osm.bz2, .osm.gz, t.ex.
# från Geofabrik eller Overpass), en adressfil (CSV med gata, nummer, X, Y) eller en sparad
# gazetteer. Med OSM beräknas även mörka stråk (gångvägar utan belysning).
path = "gator.osm"

[survey]
# trygghetsmätningen: en rad per område, år och indikator med antal svarande och andel
# (rubriker: Områdes-id, Stadsdel, År, Indikator, Antal svarande, Andel (%)), eller en rad
# per svarande (Svar, Vikt). Utan indikatorkolumn gäller indicator nedan för alla rader.
path = "trygghetsmatning.csv"
# indikatorn som utvärderas, t.ex. otrygg_kvall, oro_brott, avstar_aktivitet, trygg_hemvag
indicator = "otrygg_kvall"
# minsta antal svarande för att ett värde ska publiceras och användas
min_n = 30
# andelarnas skala: "auto" (avgörs av alla värden), "percent" (0-100) eller "proportion" (0-1)
scale = "percent"
# valfri: fält = "rubrik i filen". Fält: area_id, wave, indicator, n, n_eff, share, count
# (aggregat) och answer, weight, respondent_id, x, y (svarsrader)
[survey.columns]
# share = "Andel otrygga (%)"
# valfri: områdesnamn i enkäten = namn eller id i områdeslagret (vanliga Stockholmsnamn finns
# inbyggda)
[survey.aliases]
# "Vasastan" = "Vasastaden"

# valfri sektion: polisens eller kommunens händelser (CSV med datum, kategori, X, Y) för
# täthet och hot spots. Ta bort sektionen om ni inte har några.
[incidents]
path = "handelser.csv"
# koordinaternas CRS
crs = "{crs}"
# valfri: fält = "rubrik i filen". Fält: incident_id, date, category, x, y
[incidents.columns]
# date = "Anmälningsdatum"

# valfri sektion: platser som invånare pekat ut (Tyck till, trygghetsvandringar): en tabell
# med koordinater eller adresser (geokodas som registret) eller en vektorfil. En kolumn
# Koordinatsystem per rad, eller crs nedan. Svensk ordning (X = nordlig) känns igen.
[reports]
path = "tyck_till.csv"
# crs = "EPSG:3006"
# layer = "rapporter"          (vektorfil med flera lager)
# valfri: fält = "rubrik i filen". Fält: report_id, date, category, text, address, x, y, crs
[reports.columns]
# text = "Synpunkt"

# lägesbilden av otrygga platser
[places]
# mörka stråk ur OSM-utdraget (gångvägar med lit=no, eller utan lit och utan gatlykta inom
# lamp_distance_m meter): true eller false
dark_paths = true
lamp_distance_m = 30
# rutstorlek i meter för hot spots och rangordningen av platser (forslag_platser)
cell_size = 250
# antal platser som behålls i rangordningen
top = 20
# en investering färdig inom så många år räknas som nylig i rangordningen
recent_years = 3
# vikter i rangordningen (normeras till summan 1): reports, incidents, dark_m, no_investment
[places.weights]
{weights}

# vad som får publiceras om enskilda händelser och invånarrapporter
[privacy]
# true: enskilda punkter publiceras i GeoPackage och karta (annars bara sammanställningar)
publish_points = false
# true: rapporternas fritext publiceras (annars aldrig)
publish_text = false
# sammanställningar med färre punkter än så här visas utan antal
min_count = 3

[analysis]
# årtalen för enkätens vågor, stigande (minst två)
waves = [{waves}]
# fältarbetets dag: en investering färdig före den dagen räknas till vågen
wave_month = {month}
wave_day = {day}
# konfidensnivå för alla intervall (mellan 0,5 och 1)
level = 0.95
# frö för permutationer (samma frö ger samma resultat)
seed = 0
# spridning till grannområden: "none", "adjacent" (angränsande) eller "distance" (med
# spill_distance_m i meter)
spillover = "none"
# spill_distance_m = 250
# skattare per åtgärdstyp: "auto" (den designen kräver: Callaway-Sant'Anna med fler än två
# vågor, annars 2x2) eller "did_2x2"
estimator = "auto"

[output]
# mappen som resultaten skrivs till (skapas)
folder = "resultat"
map = "karta.html"
geopackage = "resultat.gpkg"
report = "rapport.md"
density = "tathet.tif"
# valfri: nyckel till Lantmäteriets topowebb som bakgrund i kartan (skrivs in i karta.html)
# lantmateriet_key = "<er nyckel>"
# valfri: rapporten listar högst så många projekt per område och rader per tabell (alla
# projekt finns i projekt.csv bredvid rapporten)
# report_rows_per_area = 50
# report_max_rows = 300

# valfri sektion: över så många investeringar visar kartan summor per område i stället för
# en markör per investering (alla finns i GeoPackage-filen)
# [map]
# max_markers = 5000

# stora register och många händelser: geokodning, täthet och hot spots på Dask (kräver
# pip install "trygg-geo[dask]"); resultaten blir desamma som utan
[scale]
# true: kör på Dask
dask = false
# valfri: adressen till en befintlig Dask-schemaläggare; utan den startas ett lokalt kluster
# scheduler = "tcp://server:8786"
# antal processer i det lokala klustret
workers = 2

# valfri sektion: planera utvärderingen av kommande investeringar (trygg-geo planera
# projekt.toml). Ta bort # framför raderna för att använda den.
# [plan]
# vågen som ska mäta de planerade investeringarna
# next_wave = 2027
# svarande per område i den vågen (utelämnat: varje områdes medel över tidigare vågor)
# expected_n = 150
# antal kontrollområden att välja, och eftersträvad styrka (0,5 till under 1)
# n_controls = 12
# power = 0.8
# valfri: investeringar som redan gjorts (registerformat); deras områden blir inte kontroller
# past_register = "investeringar_hittills.csv"
# valfri: en skriven plan (utvarderingsplan.gpkg) vars kontroller trygg-geo run använder
# path = "plan/utvarderingsplan.gpkg"
# rimlig effekt per åtgärdstyp (andelar, negativ = tryggare)
# [plan.effects]
# belysning = -0.04
"""
