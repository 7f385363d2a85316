"""The provider interface: what every geocoding provider returns and implements.

Kept apart from :mod:`trygg_geo.geocode.providers` so that the matching cascade
(:mod:`trygg_geo.geocode._match`, which asks an optional provider) and the providers (the local
one runs the cascade) both import it without importing each other in a cycle.

Coordinate order is fixed: ``x`` is easting or longitude, ``y`` northing or latitude.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["Provider", "ProviderHit"]


@dataclass(frozen=True)
class ProviderHit:
    """One provider answer.

    Attributes
    ----------
    x, y
        Coordinates in ``crs`` (x = easting or longitude).
    crs
        e.g. ``"EPSG:4326"``.
    score
        Confidence 0-100.
    matched
        The provider's text for what it found.

    Examples
    --------
    >>> ProviderHit(x=18.07, y=59.33, crs="EPSG:4326", score=72.5, matched="Sergels torg")
    ProviderHit(x=18.07, y=59.33, crs='EPSG:4326', score=72.5, matched='Sergels torg')
    """

    x: float
    y: float
    crs: str
    score: float
    matched: str


@runtime_checkable
class Provider(Protocol):
    """Anything that geocodes one address string.

    Examples
    --------
    >>> class Fixed:
    ...     name = "fixed"
    ...     def geocode(self, query: str) -> ProviderHit | None:
    ...         return ProviderHit(674000.0, 6581000.0, "EPSG:3006", 60.0, query)
    >>> isinstance(Fixed(), Provider)
    True
    """

    name: str

    def geocode(self, query: str) -> ProviderHit | None:
        """The best hit for ``query``, or None."""
        ...
