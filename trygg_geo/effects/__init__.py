"""Effect estimators. Each returns a typed result with its uncertainty and its n."""

from trygg_geo.effects._result import Estimate, normal_ci

__all__ = ["Estimate", "normal_ci"]
