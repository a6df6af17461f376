"""The predictive model: conversion probability learnt from past SFA outcomes.

Label: the lead converted in the SFA, as the marts say (`dim_lead.funnel_stage` sql,
opportunity or customer, or `is_converted`), never the sandbox's ground truth.
Features are taken as of the run (the logical date: events after it are never read),
the same snapshot the rules score. Time-based split: with cut-off T = as of -
`model.holdout_days`, the model learns from the leads created before T and is judged
on the leads created since, which it has never seen: the question it answers in
production ("will this newer lead convert?"). The rules' AUC is measured on the same
holdout, so the two figures compare like with like. (Features as of T for the
training leads were tried and lost to the rules: older leads' engagement at T has
decayed differently from the newer leads' at the run, so the model learnt a shifted
picture.) The fitted model scores every lead; its artefact and metadata go to
`NURTURE_HOME/models/`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from nurture.scoring.rules import Rules
from nurture.scoring.score import Engagement, PointsMatrix

log = logging.getLogger(__name__)

CATEGORICAL = ("seniority", "department", "size_band", "industry", "lead_source")
CONVERTED_STAGES = ("sql", "opportunity", "customer")
RECENT_DAYS_CAP = 365.0


@dataclass
class ModelReport:
    """What the run measured; `status` is 'trained' or 'skipped' (then `detail` says why)."""

    model_id: str
    status: str
    detail: str = ""
    cutoff_at: datetime | None = None
    train_leads: int = 0
    train_positives: int = 0
    holdout_leads: int = 0
    holdout_positives: int = 0
    holdout_auc: float | None = None
    rules_auc: float | None = None
    brier_score: float | None = None
    base_rate: float | None = None
    artefact_path: str | None = None
    reliability: list[dict] = field(default_factory=list)

    def line(self) -> str:
        if self.status != "trained":
            return f"model {self.model_id}: skipped ({self.detail})"
        return (
            f"holdout ({self.holdout_leads} leads, {self.holdout_positives} converted): "
            f"model AUC {self.holdout_auc:.3f}, rules AUC {self.rules_auc:.3f}, "
            f"model Brier {self.brier_score:.4f} (base rate {self.base_rate:.3f})"
        )


def converted_label(leads: pd.DataFrame) -> np.ndarray:
    """1 when the SFA-derived marts show the lead converted (or went further)."""
    stage = leads["funnel_stage"].isin(CONVERTED_STAGES).to_numpy()
    converted = leads["is_converted"].fillna(False).to_numpy(dtype=bool)
    return (stage | converted).astype(int)


def feature_frame(
    leads: pd.DataFrame, engagement: Engagement, matrix: PointsMatrix
) -> pd.DataFrame:
    """Numeric features: fit attributes one-hot, rule points, engagement aggregates."""
    parts: dict[str, np.ndarray] = {}
    for column in CATEGORICAL:
        values = (
            leads[column].fillna("unknown").astype(str).str.lower() if column in leads else None
        )
        if values is None:
            continue
        for value in sorted(values.unique()):
            parts[f"{column}={value}"] = (values == value).to_numpy(dtype=float)
    for column in matrix.columns:
        if column.is_fit:
            parts[f"points:{column.name}"] = column.points
    for j, activity in enumerate(engagement.activity_types):
        parts[f"decayed:{activity}"] = engagement.points[:, j]
        parts[f"log_count:{activity}"] = np.log1p(engagement.counts[:, j])
    parts["log_count:careers_pages"] = np.log1p(engagement.careers_counts)
    parts["days_since_last_touch"] = np.minimum(engagement.days_since_last, RECENT_DAYS_CAP)
    parts["has_touch"] = np.isfinite(engagement.days_since_last).astype(float)
    return pd.DataFrame(parts)


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def reliability_table(labels: np.ndarray, predicted: np.ndarray, bins: int = 10) -> list[dict]:
    """Calibration by decile of the predicted probability: mean predicted vs observed."""
    ranks = pd.Series(predicted).rank(method="first")
    decile = np.ceil(ranks / len(predicted) * bins).astype(int).clip(1, bins)
    table = (
        pd.DataFrame({"decile": decile, "y": labels, "p": predicted})
        .groupby("decile", as_index=False)
        .agg(leads=("y", "size"), mean_predicted=("p", "mean"), observed_rate=("y", "mean"))
    )
    return [
        {
            "decile": int(r.decile),
            "leads": int(r.leads),
            "mean_predicted": round(float(r.mean_predicted), 4),
            "observed_rate": round(float(r.observed_rate), 4),
        }
        for r in table.itertuples(index=False)
    ]


def _pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000))


def train_and_predict(
    leads: pd.DataFrame,
    features: pd.DataFrame,
    rules_score_now: np.ndarray,
    rules: Rules,
    as_of: datetime,
    model_id: str,
    models_dir: Path,
) -> tuple[np.ndarray, ModelReport]:
    """Fit on leads created before the cut-off, judge on the rest, predict every lead.

    Returns each lead's predicted conversion probability (NaN when skipped) and the report.
    """
    cutoff = pd.Timestamp(as_of).tz_convert("UTC") - timedelta(days=rules.model.holdout_days)
    created = pd.to_datetime(leads["created_at"], utc=True)
    labels = converted_label(leads)
    train = (created < cutoff).to_numpy()
    holdout = ~train & created.notna().to_numpy()
    report = ModelReport(
        model_id=model_id,
        status="skipped",
        cutoff_at=cutoff.to_pydatetime(),
        train_leads=int(train.sum()),
        train_positives=int(labels[train].sum()),
        holdout_leads=int(holdout.sum()),
        holdout_positives=int(labels[holdout].sum()),
    )
    predicted = np.full(len(leads), np.nan)
    minimum = rules.model.min_positives
    if report.train_positives < minimum or report.train_leads - report.train_positives < minimum:
        report.detail = f"fewer than {minimum} converted and unconverted leads before the cut-off"
        return predicted, report
    if report.holdout_positives == 0 or report.holdout_positives == report.holdout_leads:
        report.detail = "the holdout has only one outcome, so no AUC"
        return predicted, report

    pipeline = _pipeline()
    columns = list(features.columns)
    matrix = features.to_numpy()
    pipeline.fit(matrix[train], labels[train])
    predicted = pipeline.predict_proba(matrix)[:, 1]

    y, p = labels[holdout], predicted[holdout]
    report.status = "trained"
    report.holdout_auc = round(_auc(y, p), 4)
    report.rules_auc = round(_auc(y, rules_score_now[holdout]), 4)
    report.brier_score = round(float(np.mean((p - y) ** 2)), 5)
    report.base_rate = round(float(y.mean()), 4)
    report.reliability = reliability_table(y, p)
    report.artefact_path = str(_save(pipeline, columns, report, rules, models_dir))
    log.info("scoring model: %s", report.line())
    return predicted, report


def _save(
    pipeline, columns: list[str], report: ModelReport, rules: Rules, models_dir: Path
) -> Path:
    import joblib

    models_dir.mkdir(parents=True, exist_ok=True)
    stem = report.model_id.replace(":", "_").replace("+", "_")
    artefact = models_dir / f"{stem}.joblib"
    joblib.dump({"pipeline": pipeline, "features": columns}, artefact)
    meta = {k: v for k, v in asdict(report).items() if k != "artefact_path"}
    meta |= {"rules_version": rules.version, "features": columns, "artefact": artefact.name}
    (models_dir / f"{stem}.json").write_text(json.dumps(meta, indent=2, default=str))
    return artefact
