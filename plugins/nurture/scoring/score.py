"""Score every lead at once with column operations; keep each score's top reasons."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from nurture.scoring.rules import Rules

TOP_REASONS = 3


def _points(leads: pd.DataFrame, mask: pd.Series, points: float, reason: str) -> pd.DataFrame:
    hit = leads.loc[mask.fillna(False).astype(bool), ["lead_id"]]
    return hit.assign(reason=reason, points=float(points))


def fit_reasons(leads: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Long frame (lead_id, reason, points) of every fit and negative rule that applies."""
    parts = []
    industry = leads["industry"].fillna("").str.strip().str.lower()
    for name, points in rules.fit.industry.items():
        parts.append(_points(leads, industry == name.lower(), points, f"industry {name}"))
    title = leads["title"].fillna("")
    for rule in rules.fit.title_keywords:
        parts.append(
            _points(
                leads,
                title.str.contains(rule.pattern, case=False, regex=True),
                rule.points,
                rule.reason,
            )
        )
    if rules.fit.employees:
        employees = pd.to_numeric(leads.get("number_of_employees"), errors="coerce")
        taken = pd.Series(False, index=leads.index)
        for band in sorted(rules.fit.employees, key=lambda b: -b.min):
            mask = (employees >= band.min) & ~taken
            parts.append(_points(leads, mask, band.points, band.reason))
            taken |= mask.fillna(False)
    negative = rules.negative
    parts.append(_points(leads, leads["is_unsubscribed"], negative.unsubscribed, "unsubscribed"))
    parts.append(
        _points(
            leads, leads["is_email_invalid"], negative.email_invalid, "e-mail invalid or bounced"
        )
    )
    if negative.free_mail:
        domain = leads["email"].fillna("").str.rsplit("@", n=1).str[-1].str.lower()
        parts.append(
            _points(
                leads,
                domain.isin(negative.free_mail.domains),
                negative.free_mail.points,
                "free-mail address",
            )
        )
    parts = [p for p in parts if not p.empty and p["points"].iloc[0] != 0]
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["lead_id", "reason", "points"])
    )


def engagement_reasons(events: pd.DataFrame, rules: Rules, as_of: datetime) -> pd.DataFrame:
    """Decayed engagement points per lead and activity type (half-life from the rules)."""
    occurred = pd.to_datetime(events["occurred_at"], utc=True)
    weights = events["activity_type"].map(rules.engagement.activities).astype(float)
    keep = weights.notna() & (occurred <= pd.Timestamp(as_of))
    if not keep.any():
        return pd.DataFrame(
            {
                "lead_id": pd.Series(dtype=object),
                "reason": pd.Series(dtype=object),
                "points": pd.Series(dtype=float),
            }
        )
    age_days = (pd.Timestamp(as_of) - occurred[keep]).dt.total_seconds() / 86_400
    decay = np.power(0.5, age_days / rules.engagement.half_life_days)
    scored = pd.DataFrame(
        {
            "lead_id": events.loc[keep, "lead_id"],
            "activity_type": events.loc[keep, "activity_type"],
            "points": weights[keep] * decay,
        }
    )
    grouped = scored.groupby(["lead_id", "activity_type"], as_index=False).agg(
        points=("points", "sum"), n=("points", "size")
    )
    grouped["reason"] = grouped["n"].astype(str) + " × " + grouped["activity_type"]
    return grouped[["lead_id", "reason", "points"]]


def score_leads(
    leads: pd.DataFrame, events: pd.DataFrame, rules: Rules, as_of: datetime
) -> pd.DataFrame:
    """One row per lead: fit, engagement, total, grade, MQL flag and top reasons."""
    fit = fit_reasons(leads, rules)
    engagement = engagement_reasons(events, rules, as_of)
    scores = leads[["lead_id", "email"]].copy()
    scores = scores.merge(
        fit.groupby("lead_id", as_index=False)["points"]
        .sum()
        .rename(columns={"points": "fit_score"}),
        on="lead_id",
        how="left",
    )
    scores = scores.merge(
        engagement.groupby("lead_id", as_index=False)["points"]
        .sum()
        .rename(columns={"points": "engagement_score"}),
        on="lead_id",
        how="left",
    )
    scores[["fit_score", "engagement_score"]] = (
        scores[["fit_score", "engagement_score"]].fillna(0.0).round(2)
    )
    scores["score"] = (scores["fit_score"] + scores["engagement_score"]).round(2)
    floors = [g.min_fit for g in rules.grades]
    grades = [g.grade for g in rules.grades]
    scores["grade"] = np.select(
        [scores["fit_score"] >= f for f in floors], grades, default=grades[-1]
    )
    threshold = scores["grade"].map(rules.mql).astype(float)
    scores["is_mql"] = threshold.notna() & (scores["engagement_score"] >= threshold)
    reasons = pd.concat([fit, engagement], ignore_index=True)
    reasons = reasons.assign(weight=reasons["points"].abs()).sort_values(
        ["lead_id", "weight"], ascending=[True, False]
    )
    top = reasons.groupby("lead_id").head(TOP_REASONS)
    top = top.assign(text=top["reason"] + " (" + top["points"].map("{:+.0f}".format) + ")")
    joined = top.groupby("lead_id")["text"].agg("; ".join).rename("top_reasons")
    scores = scores.merge(joined, on="lead_id", how="left")
    scores["top_reasons"] = scores["top_reasons"].fillna("")
    return scores
