"""Geocoding providers: the local gazetteer (default) and any geopy geocoder (opt-in).

A provider turns one address string into a :class:`ProviderHit` (or None). The local
gazetteer is the default and needs no network; :class:`GeopyProvider` wraps a geopy geocoder
(Nominatim, ...) with a disk cache at an explicit path, a rate limit and a user agent. It is
never used unless passed explicitly to :func:`~trygg_geo.geocode.geocode_register`.

Coordinate order is fixed: ``x`` is easting or longitude, ``y`` northing or latitude.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pandas as pd

from trygg_geo._errors import InputError, MissingDependencyError
from trygg_geo.geocode._match import geocode_register
from trygg_geo.geocode._provider_base import Provider, ProviderHit

__all__ = ["DEFAULT_USER_AGENT", "GeopyProvider", "LocalProvider", "Provider", "ProviderHit"]

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "trygg-geo/0.1 (safety investment geocoding; municipal use)"


class LocalProvider:
    """The local gazetteer as a provider (runs the offline cascade on one address).

    Parameters
    ----------
    gazetteer
        A :class:`~trygg_geo.geocode.Gazetteer`.
    fuzzy_threshold
        As in :func:`~trygg_geo.geocode.geocode_register`.
    """

    name = "local"

    def __init__(self, gazetteer: Any, *, fuzzy_threshold: float = 85) -> None:
        self.gazetteer = gazetteer
        self.fuzzy_threshold = fuzzy_threshold

    def geocode(self, query: str) -> ProviderHit | None:
        """Place one address with the offline cascade; None when it cannot be placed."""
        reg = pd.DataFrame({"source_row": [2], "address": [query], "kind": ["kamerabevakning"]})
        res = geocode_register(reg, self.gazetteer, fuzzy_threshold=self.fuzzy_threshold)
        if not len(res.placed):
            return None
        row = res.placed.iloc[0]
        pt = (
            row.geometry
            if row.geometry.geom_type == "Point"
            else row.geometry.representative_point()
        )
        return ProviderHit(x=float(pt.x), y=float(pt.y), crs=res.crs.to_string(),
                           score=float(row["geocode_score"]), matched=str(row["matched"]))


class GeopyProvider:
    """A geopy geocoder behind the provider interface, with a disk cache and a rate limit.

    Parameters
    ----------
    geocoder
        A geopy geocoder instance (``geopy.geocoders.Nominatim(user_agent=...)``), or the name
        of a geopy service (``"nominatim"``), created with ``user_agent``.
    cache_path
        An SQLite file for the cache (required: answers, including "not found", are kept there
        so that a re-run asks nothing twice). Created when missing.
    min_delay_seconds
        Seconds between requests (Nominatim's usage policy asks for at most one per second).
    user_agent
        Identifies the application to the service (used when ``geocoder`` is a name).
    country_codes
        Passed to geocoders that accept it (Nominatim), to keep answers in Sweden.
    geocode_kwargs
        Further keyword arguments for ``geocoder.geocode``.

    Raises
    ------
    MissingDependencyError
        When geopy is not installed.
    """

    def __init__(
        self,
        geocoder: Any,
        *,
        cache_path: str | Path,
        min_delay_seconds: float = 1.0,
        user_agent: str = DEFAULT_USER_AGENT,
        country_codes: str | None = "se",
        geocode_kwargs: dict[str, Any] | None = None,
    ) -> None:
        # geopy is optional (the 'online' extra), so it is imported here, where it is used
        try:
            from geopy.extra.rate_limiter import RateLimiter
            from geopy.geocoders import get_geocoder_for_service
        except ImportError as exc:
            raise MissingDependencyError(
                "geopy", extra="online", purpose="The online geocoder"
            ) from exc
        if cache_path is None:
            raise InputError("GeopyProvider needs an explicit cache_path.",
                             fix="pass cache_path='geocode_cache.sqlite' (a file you choose).")
        if isinstance(geocoder, str):
            cls = get_geocoder_for_service(geocoder)
            geocoder = cls(user_agent=user_agent)
        self.geocoder = geocoder
        self.name = f"geopy:{type(geocoder).__name__}"
        self.user_agent = user_agent
        self.min_delay_seconds = float(min_delay_seconds)
        kwargs = dict(geocode_kwargs or {})
        if country_codes and type(geocoder).__name__ == "Nominatim":
            kwargs.setdefault("country_codes", country_codes)
        self._kwargs = kwargs
        self._limited = RateLimiter(
            geocoder.geocode,
            min_delay_seconds=self.min_delay_seconds,
            max_retries=2,
            error_wait_seconds=max(2.0, self.min_delay_seconds),
            swallow_exceptions=False,
        )
        self.cache_path = Path(cache_path)
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS answers (service TEXT, query TEXT, answer TEXT, "
                       "asked REAL, PRIMARY KEY (service, query))")
        self.requests = 0
        self.cache_hits = 0

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.cache_path)

    def geocode(self, query: str) -> ProviderHit | None:
        """Geocode ``query``: from the cache when asked before, else from the service."""
        q = " ".join(str(query).split())
        with self._db() as db:
            row = db.execute(
                "SELECT answer FROM answers WHERE service=? AND query=?", (self.name, q)
            ).fetchone()
        if row is not None:
            self.cache_hits += 1
            data = json.loads(row[0])
            return None if data is None else ProviderHit(**data)
        loc = self._limited(q, **self._kwargs)
        self.requests += 1
        hit = None
        if loc is not None:
            hit = ProviderHit(x=float(loc.longitude), y=float(loc.latitude), crs="EPSG:4326",
                              score=_score(loc), matched=str(getattr(loc, "address", q)))
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                (self.name, q, json.dumps(None if hit is None else hit.__dict__), time.time()),
            )
        return hit


def _score(loc: Any) -> float:
    """Nominatim's importance (0-1) as a 0-100 score, capped below the local matches."""
    raw = getattr(loc, "raw", None) or {}
    try:
        imp = float(raw.get("importance", 0.5))
    except (TypeError, ValueError):
        imp = 0.5
    return round(50.0 + 30.0 * max(0.0, min(1.0, imp)), 1)
