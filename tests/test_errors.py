"""One test per error of the foundation issue: each message names the input and the fix."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

import trygg_geo._errors as E
from trygg_geo.config import Config, load_config
from trygg_geo.io import read_incidents, read_register


def test_missing_file_names_the_path_and_neighbours(tmp_path: Path) -> None:
    (tmp_path / "investeringar_2023.csv").write_text("id;åtgärd;adress\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError) as exc:
        read_register(tmp_path / "investeringar_2024.csv")
    msg = str(exc.value)
    assert isinstance(exc.value, E.MissingFileError)
    assert "investeringar_2024.csv" in msg and "does not exist" in msg
    assert "investeringar_2023.csv" in msg  # points the user at what is there
    assert "Fix:" in msg


def test_unreadable_file_says_what_it_is_and_how_to_fix(tmp_path: Path) -> None:
    p = tmp_path / "register.csv"
    p.write_bytes("id;åtgärd\n1;ljus\n".encode("utf-16"))
    with pytest.raises(E.UnreadableFileError) as exc:
        read_register(p)
    msg = str(exc.value)
    assert "register.csv" in msg and "not a text file" in msg and "CSV UTF-8" in msg
    assert isinstance(exc.value, ValueError)


def test_unreadable_row_names_the_row(tmp_path: Path) -> None:
    p = tmp_path / "register.csv"
    p.write_text("id;åtgärd;adress\n1;ljus;Storgatan 1\n2;sly;Ekvägen 3;extra;cells\n", encoding="utf-8")
    with pytest.raises(E.UnreadableFileError) as exc:
        read_register(p)
    assert exc.value.row == 3
    assert "row 3" in str(exc.value) and "5 cells" in str(exc.value)


def test_missing_crs_is_refused_with_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "handelser.csv"
    p.write_text("id;datum;x;y\n1;2021-01-01;650000;6590000\n", encoding="utf-8")
    with pytest.raises(E.CRSError) as exc:
        read_incidents(p)
    assert "handelser.csv" in str(exc.value) and "crs=" in str(exc.value)


def test_missing_crs_in_area_file(tmp_path: Path) -> None:
    from trygg_geo.areas import read_areas

    p = tmp_path / "omr.shp"
    gpd.GeoDataFrame({"namn": ["A"]}, geometry=[box(0, 0, 1, 1)]).to_file(p)
    with pytest.raises(E.CRSError) as exc:
        read_areas(p, name_column="namn")
    assert "omr.shp" in str(exc.value)


def test_missing_required_column_lists_columns_found(tmp_path: Path) -> None:
    p = tmp_path / "register.csv"
    p.write_text("Projekt;Adress;Belopp\nLjus;Storgatan 1;100\n", encoding="utf-8")
    with pytest.raises(E.MissingColumnError) as exc:
        read_register(p)
    msg = str(exc.value)
    assert exc.value.column == "kind"
    assert "'Projekt'" in msg and "'Adress'" in msg and "'Belopp'" in msg  # the columns found
    assert "åtgärd" in msg  # the header names it would have recognised
    assert "register.columns" in msg  # how to map it in the config


def test_empty_layer(tmp_path: Path) -> None:
    p = tmp_path / "register.csv"
    p.write_text("id;åtgärd;adress\n", encoding="utf-8")
    with pytest.raises(E.EmptyLayerError) as exc:
        read_register(p)
    assert "no rows" in str(exc.value) and "register.csv" in str(exc.value)


def test_empty_area_layer(tmp_path: Path) -> None:
    from trygg_geo.areas import read_areas

    p = tmp_path / "omr.gpkg"
    gpd.GeoDataFrame({"namn": []}, geometry=[], crs=3006).to_file(p, layer="omr")
    with pytest.raises(E.EmptyLayerError):
        read_areas(p, name_column="namn")


def test_unknown_config_key_names_key_and_file(tmp_path: Path) -> None:
    p = tmp_path / "projekt.toml"
    p.write_text(
        '[areas]\npath = "a.gpkg"\nid_colum = "sdid"\n[register]\npath = "r.csv"\n'
        '[gazetteer]\npath = "g.osm"\n[survey]\npath = "s.csv"\n',
        encoding="utf-8",
    )
    with pytest.raises(E.UnknownConfigKeyError) as exc:
        load_config(p)
    msg = str(exc.value)
    assert "areas.id_colum" in msg and "projekt.toml" in msg and "areas.id_column" in msg
    assert isinstance(exc.value, KeyError) and isinstance(exc.value, ValueError)


def test_unknown_config_section() -> None:
    with pytest.raises(E.UnknownConfigKeyError, match="'utdata'"):
        Config.from_dict({"utdata": {}}, source="x.toml")


def test_missing_dependency_names_install_command() -> None:
    err = E.MissingDependencyError("dask-geopandas", extra="dask", purpose="The 10M-point overlay")
    assert "pip install 'trygg-geo[dask]'" in str(err)
    assert isinstance(err, ImportError)
