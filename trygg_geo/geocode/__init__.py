"""Geocoding of investment registers against a local gazetteer (offline by default).

>>> from trygg_geo.geocode import Gazetteer, geocode_register  # doctest: +SKIP
>>> gaz = Gazetteer.from_osm_xml("stad.osm")  # doctest: +SKIP
>>> result = geocode_register(register, gaz)  # doctest: +SKIP
>>> result.summary()  # doctest: +SKIP
"""

from __future__ import annotations

from trygg_geo.geocode._districts import reconcile_districts
from trygg_geo.geocode._match import METHODS, REASONS, GeocodeResult, geocode_register
from trygg_geo.geocode._normalise import ParsedAddress, name_key, parse_address
from trygg_geo.geocode.gazetteer import Gazetteer
from trygg_geo.geocode.providers import GeopyProvider, LocalProvider, Provider, ProviderHit

__all__ = [
    "METHODS",
    "REASONS",
    "Gazetteer",
    "GeocodeResult",
    "GeopyProvider",
    "LocalProvider",
    "ParsedAddress",
    "Provider",
    "ProviderHit",
    "geocode_register",
    "name_key",
    "parse_address",
    "reconcile_districts",
]
