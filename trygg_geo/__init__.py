"""trygg_geo: GIS analysis of unsafe places and of the investments meant to make them safer."""

from __future__ import annotations

__version__ = "0.1.0"
