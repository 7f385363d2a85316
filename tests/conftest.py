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
