"""Effect estimators. Each returns a typed result with its uncertainty and its n."""

from trygg_geo.effects._result import Estimate, normal_ci
from trygg_geo.effects.did import did_2x2
from trygg_geo.effects.displacement import WDQResult, wdq, wdq_from_points
from trygg_geo.effects.inference import PermutationResult, permutation_test
from trygg_geo.effects.panel import EventStudyResult, PretrendTest, event_study, panel_did
from trygg_geo.effects.power import CostResult, cost_per_point, mde_did
from trygg_geo.effects.staggered import (
    StaggeredAggregate,
    StaggeredPretest,
    StaggeredResult,
    staggered_did,
)
from trygg_geo.effects.synth import SynthResult, synthetic_control

__all__ = [
    "CostResult",
    "Estimate",
    "EventStudyResult",
    "PermutationResult",
    "PretrendTest",
    "StaggeredAggregate",
    "StaggeredPretest",
    "StaggeredResult",
    "SynthResult",
    "WDQResult",
    "cost_per_point",
    "did_2x2",
    "event_study",
    "mde_did",
    "normal_ci",
    "panel_did",
    "permutation_test",
    "staggered_did",
    "synthetic_control",
    "wdq",
    "wdq_from_points",
]
