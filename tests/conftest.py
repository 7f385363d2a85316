"""Shared fixtures.

Tests that need the reference data in ``../shared/data`` take the ``shared_data`` fixture: it
skips, with a reason, on a fresh clone where ``../shared`` is absent. CI always has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
