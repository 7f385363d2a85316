"""Effect estimators. Each returns a typed result with its uncertainty and its n."""

from trygg_geo.effects._result import Estimate, normal_ci
from trygg_geo.effects.did import did_2x2
from trygg_geo.effects.displacement import WDQResult, wdq, wdq_from_points
from trygg_geo.effects.evaluation import EffectEstimates, estimate_effects, evaluate_effects
from trygg_geo.effects.inference import PermutationResult, permutation_test
from trygg_geo.effects.panel import EventStudyResult, PretrendTest, event_study, panel_did
from trygg_geo.effects.power import CostResult, cost_per_point, mde_did
from trygg_geo.effects.staggered import (
    StaggeredAggregate,
    StaggeredPretest,
    StaggeredResult,
    staggered_did,
)
from trygg_geo.effects.staggered_inference import staggered_permutation_test
from trygg_geo.effects.synth import SynthResult, synthetic_control
from trygg_geo.effects.variance import Tau2Result, between_district_variance

__all__ = [
    "CostResult",
    "EffectEstimates",
    "Estimate",
    "EventStudyResult",
    "PermutationResult",
    "PretrendTest",
    "StaggeredAggregate",
    "StaggeredPretest",
    "StaggeredResult",
    "SynthResult",
    "Tau2Result",
    "WDQResult",
    "between_district_variance",
    "cost_per_point",
    "did_2x2",
    "estimate_effects",
    "evaluate_effects",
    "event_study",
    "mde_did",
    "normal_ci",
    "panel_did",
    "permutation_test",
    "staggered_did",
    "staggered_permutation_test",
    "synthetic_control",
    "wdq",
    "wdq_from_points",
]
