"""Shared fixtures.

Tests that need the reference data in ``../shared/data`` take the ``shared_data`` fixture: it
skips, with a reason, on a fresh clone where ``../shared`` is absent. CI always has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from stockholm_case import build_stockholm_case

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"reference data not found at {SHARED_DATA} (it sits beside the checkout in CI; "
            "a user's fresh clone does not have it)"
        )
    return SHARED_DATA


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium driven by playwright (skips with the reason when absent)."""
    from _browser import ARGS, CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found (install Debian's chromium to run the browser tests)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


# Small real fixtures derived from ../shared/data by tests/data/make_fixtures.py; they ship with
# the repository, so the tests that use them run on every clone (tests/data/README.md).
FIXTURE_DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def stockholm_clip_osm() -> Path:
    """OSM XML (bz2) of a few blocks where Norrmalm, Vasastaden and Östermalm meet."""
    return FIXTURE_DATA / "stockholm_clip.osm.bz2"


@pytest.fixture(scope="session")
def stockholm_areas_6() -> Path:
    """Six central stadsdelar (EPSG:3011, upper-case ``name``), simplified by 5 m, GeoJSON."""
    return FIXTURE_DATA / "stockholm_stadsdelar_6.geojson"


@pytest.fixture(scope="session")
def mpdta_subset() -> Path:
    """65 of mpdta's 500 counties; reference values in ``mpdta_subset_reference.json``."""
    return FIXTURE_DATA / "mpdta_subset.csv"


@pytest.fixture(scope="session")
def stockholm_case(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """The Stockholm case of issue 11 (tests/stockholm_case.py), built once per session from
    ``../shared/data`` (skips when absent). Its outputs go to ``case.output``."""
    return build_stockholm_case(tmp_path_factory.mktemp("stockholm_case"), seed=0,
                                data=shared_data)
