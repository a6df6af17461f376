"""Scoring a sandbox world's marts in each warehouse: quality, history, idempotence.

The rules' AUC against the world's ground truth and the model's holdout AUC are
printed (run with `-s` to see them); the model must beat the rules.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from nurture.scoring.run import run_scoring
from nurture.warehouse import get_warehouse
from tests.scoring.conftest import AS_OF


@pytest.fixture(scope="module")
def scored(loaded):
    first = run_scoring(loaded, AS_OF)
    again = run_scoring(loaded, AS_OF)
    return loaded, first, again


def query(settings, sql: str, params=None) -> pd.DataFrame:
    return get_warehouse(settings).query(sql, params)


def test_model_beats_the_rules(scored, world_tables):
    settings, first, _ = scored
    model = query(settings, "select * from ops.scoring_models").iloc[0]
    assert model["status"] == "trained"
    scores = query(settings, "select * from marts.fct_lead_scores").merge(
        world_tables["truth"], on="lead_id"
    )
    dim = world_tables["marts.dim_lead"][["lead_id", "created_at"]]
    scores = scores.merge(dim, on="lead_id")
    holdout = pd.to_datetime(scores["created_at"], utc=True) >= pd.Timestamp(model["cutoff_at"])
    truth, held = scores["converted"].astype(int), scores.loc[holdout]
    rules_truth = roc_auc_score(truth, scores["score"])
    rules_truth_holdout = roc_auc_score(held["converted"].astype(int), held["score"])
    model_truth_holdout = roc_auc_score(
        held["converted"].astype(int), held["predicted_conversion_probability"]
    )
    print(
        f"\n[{settings.warehouse}] {first.model}\n"
        f"  vs ground truth: rules AUC {rules_truth:.3f} (all leads), "
        f"{rules_truth_holdout:.3f} (holdout); model AUC {model_truth_holdout:.3f} (holdout)"
    )
    assert rules_truth > 0.6
    assert model["holdout_auc"] > model["rules_auc"]
    assert model_truth_holdout > rules_truth_holdout


def test_calibration_and_artefact_are_recorded(scored):
    settings, _, _ = scored
    model = query(settings, "select * from ops.scoring_models").iloc[0]
    # better than always predicting the base rate (Brier of that: rate x (1 - rate))
    assert 0 < model["brier_score"] < model["base_rate"] * (1 - model["base_rate"])
    reliability = query(settings, "select * from ops.scoring_model_reliability order by decile")
    assert reliability["decile"].tolist() == list(range(1, 11))
    assert reliability["leads"].sum() == model["holdout_leads"]
    # the top decile converts more than the bottom one
    assert reliability["observed_rate"].iloc[-1] > reliability["observed_rate"].iloc[0]
    artefact = Path(model["artefact_path"])
    assert artefact.exists() and artefact.with_suffix(".json").exists()
    assert artefact.parent == settings.home / "models"


def test_scores_carry_run_rules_version_and_reasons(scored, world_tables):
    settings, first, _ = scored
    scores = query(settings, "select * from marts.fct_lead_scores")
    assert len(scores) == len(world_tables["marts.dim_lead"]) == first.leads_scored
    assert set(scores["run_id"]) == {first.run_id}
    assert set(scores["rules_version"]) == {first.rules_version}
    assert scores["predicted_conversion_probability"].between(0, 1).all()
    assert (scores["top_reasons"] != "").mean() > 0.9
    mqls = scores.loc[scores["is_mql"].astype(bool)]
    assert len(mqls) > 0 and (mqls["mql_cycle"] == 1).all()


def test_rerunning_the_date_replaces_its_run(scored):
    settings, first, again = scored
    assert first.new_outbox_entries == first.mqls > 0
    assert again.new_outbox_entries == 0
    assert again.mqls == first.mqls
    counts = query(
        settings, "select count(*) as n, count(distinct run_id) as runs from marts.fct_lead_scores"
    ).iloc[0]
    assert (int(counts["n"]), int(counts["runs"])) == (first.leads_scored, 1)
    outbox = query(settings, "select count(*) as n from ops.mql_outbox")
    assert int(outbox["n"].iloc[0]) == first.mqls
