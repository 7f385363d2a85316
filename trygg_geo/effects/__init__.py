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
    "Estimate",
    "normal_ci",
    "did_2x2",
    "mde_did",
    "cost_per_point",
    "CostResult",
    "staggered_did",
    "StaggeredResult",
    "StaggeredAggregate",
    "StaggeredPretest",
    "synthetic_control",
    "SynthResult",
    "permutation_test",
    "PermutationResult",
    "event_study",
    "panel_did",
    "EventStudyResult",
    "PretrendTest",
    "wdq",
    "wdq_from_points",
    "WDQResult",
]
