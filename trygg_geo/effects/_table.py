"""The columns of the effect table (one home, shared by every estimator of the run)."""

from __future__ import annotations

__all__ = ["EFFECT_COLUMNS"]

#: The columns of the effect table, in order (``reason`` and ``suppressed`` are added by
#: :func:`trygg_geo.disclosure.protect_estimates`). ``contrast_id`` and ``n_sharing`` name the
#: per-investment rows' shared contrast and how many investments share it (issue 17).
EFFECT_COLUMNS = [
    "scope", "kind", "investment_id", "source_row", "unit_ids", "indicator", "method",
    "estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control",
    "n_respondents", "mde", "spent_sek", "sek_per_point", "sek_per_point_ci_low",
    "sek_per_point_ci_high", "level", "p_perm", "perm_ci_low", "perm_ci_high", "perm_exact",
    "n_permutations", "n_small_left_out", "pre_wave", "post_wave", "contrast_id", "n_sharing",
    "tau2", "df", "headline",
    "headline_reason", "p_adjusted", "adjust_method", "significant", "pretrend_p", "reason",
]
