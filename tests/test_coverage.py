"""Coverage of the pooled per-kind 2x2 DiD on the demo city (fast mode: redrawn surveys)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trygg_geo.config import load_config
from trygg_geo.demo import make_demo_city
from trygg_geo.effects.simulation import CoverageDesign, CoverageResult, coverage_fast
from trygg_geo.pipeline import Results, run
from trygg_geo.survey import read_survey


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Results, dict, Path]:
    out = tmp_path_factory.mktemp("coverage_demo")
    city = make_demo_city(out / "indata", seed=2024)
    cfg = load_config(city.config)
    cfg = replace(cfg, output=replace(cfg.output, folder=out), incidents=None)  # incidents do not enter effects
    return run(cfg, write=False), city.load_truth(), city.survey


def test_design_contrasts_reproduce_the_pipeline_estimates(demo) -> None:
    """The vectorised contrast on the observed survey gives the pipeline's per-kind did_2x2 exactly."""
    res, truth, _ = demo
    design = CoverageDesign.from_results(res, truth)
    idx, kinds, w, ns = design.contrasts()
    eff = res.effects[res.effects["scope"] == "kind"].set_index("kind")
    assert set(kinds) == set(eff.index) and len(kinds) >= 4
    cells = res.panel[res.panel["indicator"] == truth["indicator"]].set_index(["area_id", "wave"]).reindex(idx)
    est = w @ cells["share"].to_numpy(dtype=float)
    se = np.sqrt((w**2) @ cells["se"].to_numpy(dtype=float) ** 2)
    for j, kind in enumerate(kinds):
        assert est[j] == pytest.approx(eff.loc[kind, "estimate"], abs=1e-12), kind
        assert se[j] == pytest.approx(eff.loc[kind, "se"], rel=1e-12), kind
        assert ns[kind] == (eff.loc[kind, "n_treated"], eff.loc[kind, "n_control"])
    # at the true shares, each kind's contrast is its planted effect (the design matches the plan)
    truth_at = w @ design.cells.set_index(["area_id", "wave"]).reindex(idx)["true_share"].to_numpy()
    for j, kind in enumerate(kinds):
        assert truth_at[j] == pytest.approx(truth["planted_effects"][kind], abs=1e-9), kind


def test_coverage_of_planted_effects_and_false_rejections(demo) -> None:
    res, truth, _ = demo
    cov = coverage_fast(CoverageDesign.from_results(res, truth), n_reps=400, seed=20240)
    assert isinstance(cov, CoverageResult) and cov.mode == "fast"
    planted = [k for k, v in truth["planted_effects"].items() if v != 0]
    assert cov.n_planted == 400 * len(planted)
    assert cov.n_null == 400 * (len(cov.table) - len(planted))
    # Monte Carlo SE of a 95% coverage over 800 intervals is about 0.8 pp: the band is a real check
    assert 0.92 <= cov.coverage_planted <= 0.98
    assert cov.rejection_null <= 0.07
    t = cov.to_frame().set_index("kind")
    # the SE matches the spread of the estimates, and the estimates are unbiased
    assert t["se_ratio"].between(0.85, 1.15).all()
    assert (t["bias"].abs() < 3 * t["sd_estimate"] / np.sqrt(400)).all()
    # belysning (-7 pp on 8 districts) is detected in most replications
    assert t.loc["belysning", "rejection_rate"] > 0.8
    assert len(cov.replications) == 400 * len(t)
    assert cov.summary().loc[0, "n_reps"] == 400


def test_coverage_check_fails_when_the_truth_is_wrong(demo) -> None:
    """A check that cannot fail is no check: 3 pp off the planted effect, coverage collapses."""
    res, truth, _ = demo
    design = CoverageDesign.from_results(res, truth)
    wrong = replace(design, planted={k: v - 0.03 if v else v for k, v in design.planted.items()})
    cov = coverage_fast(wrong, n_reps=400, seed=20240)
    assert cov.coverage_planted < 0.85


def test_planned_design_from_facit_gives_the_same_calibration(demo) -> None:
    _, truth, survey_path = demo
    design = CoverageDesign.from_truth(truth, read_survey(survey_path))
    assert design.source == "plan"
    assert set(design.controls) == set(truth["control_districts"])
    cov = coverage_fast(design, n_reps=400, seed=7)
    assert 0.92 <= cov.coverage_planted <= 0.98
    assert cov.rejection_null <= 0.07
    # the same seed gives the same replications
    again = coverage_fast(design, n_reps=400, seed=7)
    np.testing.assert_array_equal(cov.replications["estimate"], again.replications["estimate"])
