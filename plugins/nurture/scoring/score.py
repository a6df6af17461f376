"""Score every lead at once with column operations; keep each score's top reasons.

The lead base becomes a points matrix, one row per lead and one column per reason
group (industry, size band, seniority, department, each negative rule, each activity
type, careers pages). Text columns are mapped through their few distinct values
(titles, industries, domains, URLs), never row by row; events are placed on their lead
with one hash lookup and summed with `np.bincount`. Fit is the sum of the fit and
negative columns, engagement the sum of the decayed activity columns (careers-page
visits subtract from it: they are behaviour, not who the lead is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from nurture.scoring.rules import Rules

TOP_REASONS = 3
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Engagement:
    """Per lead and activity type (columns in rules order): decayed points and counts."""

    activity_types: list[str]
    points: np.ndarray  # (leads, types) float64
    counts: np.ndarray  # (leads, types) int64
    careers_points: np.ndarray  # (leads,) float64, <= 0
    careers_counts: np.ndarray  # (leads,) int64
    days_since_last: np.ndarray  # (leads,) float64, inf without a scored event


@dataclass(frozen=True)
class PointsMatrix:
    """Every reason group's points per lead, and what to call each cell in words."""

    names: list[str]  # column -> group name
    points: np.ndarray  # (leads, groups)
    is_fit: np.ndarray  # (groups,) bool: counts towards the fit score
    labels: list[np.ndarray]  # per column: object array of each lead's label ("" = none)


def _column(values: pd.Series, table: dict[str, float], prefix: str) -> tuple:
    lowered = {key.lower(): (points, key) for key, points in table.items()}

    def points(value: object) -> float:
        return lowered.get(str(value).strip().lower(), (0.0, ""))[0] if value is not None else 0.0

    def label(value: object) -> str:
        if value is None or str(value).strip().lower() not in lowered:
            return ""
        return f"{prefix}{lowered[str(value).strip().lower()][1]}"

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    pts = np.array([points(u) for u in uniques] + [0.0], dtype=float)
    labels = np.array([label(u) for u in uniques] + [""], dtype=object)
    return pts[codes], labels[codes]


def _seniority(titles: pd.Series, rules: Rules) -> tuple[np.ndarray, np.ndarray]:
    compiled = [(re.compile(r.pattern, re.IGNORECASE), r) for r in rules.fit.seniority]

    def first(title: object) -> tuple[float, str]:
        if title is None or title != title:
            return 0.0, ""
        for pattern, rule in compiled:
            if pattern.search(str(title)):
                return rule.points, rule.reason
        return 0.0, ""

    codes, uniques = pd.factorize(titles, use_na_sentinel=True)
    found = [first(u) for u in uniques] + [(0.0, "")]
    pts = np.array([f[0] for f in found], dtype=float)
    labels = np.array([f[1] for f in found], dtype=object)
    return pts[codes], labels[codes]


def _flag(values: pd.Series, points: float, label: str) -> tuple[np.ndarray, np.ndarray]:
    hit = values.fillna(False).to_numpy(dtype=bool)
    return np.where(hit, float(points), 0.0), np.where(hit, label, "").astype(object)


def _domain_in(domains: pd.Series, rule, label: str) -> tuple[np.ndarray, np.ndarray]:
    listed = {d.lower() for d in rule.domains}
    codes, uniques = pd.factorize(domains, use_na_sentinel=True)
    hit = np.array([str(u).strip().lower() in listed for u in uniques] + [False], dtype=bool)
    return _flag(pd.Series(hit[codes]), rule.points, label)


def email_domains(leads: pd.DataFrame) -> pd.Series:
    """dim_lead.email_domain, or the part after @ of the e-mail when that is missing."""
    if "email_domain" in leads:
        return leads["email_domain"]
    return leads["email"].str.rsplit("@", n=1).str[-1]


def engagement_matrix(
    events: pd.DataFrame, lead_ids: pd.Series, rules: Rules, as_of: datetime
) -> Engagement:
    """Decayed points and counts per lead and activity type, events at or before `as_of`.

    Each event is worth its type's points times 0.5 ** (age in days / half-life).
    """
    types = list(rules.engagement.activities)
    n, k = len(lead_ids), len(types)
    position = pd.Index(lead_ids).get_indexer(events["lead_id"])
    activity = events["activity_type"]
    if isinstance(activity.dtype, pd.CategoricalDtype):
        order = pd.Index(types).get_indexer(activity.cat.categories)
        type_code = np.where(activity.cat.codes.to_numpy() >= 0, order[activity.cat.codes], -1)
    else:
        type_code = pd.Index(types).get_indexer(activity)
    occurred = _epoch_ns(events["occurred_at"])
    as_of_ns = pd.Timestamp(as_of).as_unit("ns").value
    in_time = occurred <= as_of_ns
    age_days = (as_of_ns - occurred) / DAY_NS
    decay = np.exp2(-age_days / rules.engagement.half_life_days)
    weights = np.array([rules.engagement.activities[t] for t in types], dtype=float)

    keep = (position >= 0) & (type_code >= 0) & in_time
    cell = position[keep].astype(np.int64) * k + type_code[keep]
    points = np.bincount(cell, weights=weights[type_code[keep]] * decay[keep], minlength=n * k)
    counts = np.bincount(cell, minlength=n * k)

    last = np.full(n, np.inf)
    if keep.any():
        np.minimum.at(last, position[keep], age_days[keep])

    careers_points = np.zeros(n)
    careers_counts = np.zeros(n, dtype=np.int64)
    careers = rules.negative.careers_pages
    if careers is not None and "webpage_url" in events:
        pattern = re.compile(careers.pattern, re.IGNORECASE)
        codes, uniques = pd.factorize(events["webpage_url"], use_na_sentinel=True)
        match = np.array([bool(pattern.search(str(u))) for u in uniques] + [False])
        visit = match[codes] & (position >= 0) & in_time
        careers_points = np.bincount(
            position[visit], weights=careers.points * decay[visit], minlength=n
        )
        careers_counts = np.bincount(position[visit], minlength=n)
    return Engagement(
        activity_types=types,
        points=points.reshape(n, k),
        counts=counts.reshape(n, k),
        careers_points=careers_points,
        careers_counts=careers_counts,
        days_since_last=last,
    )


def _epoch_ns(values: pd.Series) -> np.ndarray:
    """Timestamps as UTC nanoseconds; naive ones (DuckDB `timestamp`) are taken as UTC."""
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns").asi8


def points_matrix(leads: pd.DataFrame, engagement: Engagement, rules: Rules) -> PointsMatrix:
    """The fit, negative and engagement points of every lead, one column per group."""
    fit, negative = rules.fit, rules.negative
    columns: list[tuple[str, bool, np.ndarray, np.ndarray]] = []
    columns.append(("industry", True, *_column(leads["industry"], fit.industry, "industry ")))
    columns.append(
        ("size_band", True, *_column(leads["size_band"], fit.size_band, "company size "))
    )
    columns.append(("seniority", True, *_seniority(leads["job_title"], rules)))
    columns.append(
        ("department", True, *_column(leads["department"], fit.department, "department "))
    )
    columns.append(
        ("unsubscribed", True, *_flag(leads["is_unsubscribed"], negative.unsubscribed, "unsubscribed"))
    )
    columns.append(
        ("hard_bounce", True, *_flag(leads["is_email_invalid"], negative.hard_bounce, "hard bounce"))
    )
    domains = email_domains(leads)
    if negative.free_mail:
        columns.append(
            ("free_mail", True, *_domain_in(domains, negative.free_mail, "free-mail address"))
        )
    if negative.competitor:
        columns.append(
            ("competitor", True, *_domain_in(domains, negative.competitor, "competitor domain"))
        )
    for j, activity in enumerate(engagement.activity_types):
        counts = engagement.counts[:, j]
        columns.append(
            (activity, False, engagement.points[:, j], _counted(activity.replace("_", " "), counts))
        )
    columns.append(
        (
            "careers_pages",
            False,
            engagement.careers_points,
            _counted("careers pages", engagement.careers_counts),
        )
    )
    return PointsMatrix(
        names=[c[0] for c in columns],
        points=np.column_stack([c[2] for c in columns]),
        is_fit=np.array([c[1] for c in columns]),
        labels=[c[3] for c in columns],
    )


def _counted(label: str, counts: np.ndarray) -> np.ndarray:
    """"click email ×3" per lead, formatting each distinct count once."""
    uniques, inverse = np.unique(counts, return_inverse=True)
    texts = np.array([f"{label} ×{c}" if c > 0 else "" for c in uniques], dtype=object)
    return texts[inverse.reshape(-1)]


def grade_and_mql(
    fit_score: np.ndarray, engagement_score: np.ndarray, rules: Rules
) -> tuple[np.ndarray, np.ndarray]:
    """The fit grade (first grade whose floor the fit reaches) and the MQL rule's verdict."""
    floors = [g.min_fit for g in rules.grades]
    names = [g.grade for g in rules.grades]
    grade = np.select([fit_score >= f for f in floors], names, default=names[-1]).astype(object)
    threshold = pd.Series(grade).map(rules.mql).to_numpy(dtype=float)
    meets = ~np.isnan(threshold) & (engagement_score >= np.nan_to_num(threshold, nan=np.inf))
    return grade, meets


def top_reasons(matrix: PointsMatrix, top: int = TOP_REASONS) -> np.ndarray:
    """Per lead, the `top` reasons with the largest absolute points, in words with points."""
    n, k = matrix.points.shape
    if n == 0:
        return np.array([], dtype=object)
    order = np.argsort(-np.abs(matrix.points), axis=1, kind="stable")[:, :top]
    rows = np.arange(n)
    labels = np.column_stack(matrix.labels)  # (n, k) object
    result = pd.Series("", index=rows, dtype=object)
    for rank in range(min(top, k)):
        column = order[:, rank]
        points = np.round(matrix.points[rows, column], 1)
        label = labels[rows, column]
        present = (points != 0) & (label != "")
        uniques, inverse = np.unique(points, return_inverse=True)
        shown = np.array([f" ({_signed(v)})" for v in uniques], dtype=object)[inverse.reshape(-1)]
        text = pd.Series(label, dtype=object) + pd.Series(shown, dtype=object)
        separator = np.where((result != "").to_numpy() & present, "; ", "")
        result = result + pd.Series(np.where(present, separator + text.to_numpy(), ""))
    return result.to_numpy(dtype=object)


def _signed(value: float) -> str:
    return f"{value:+.0f}" if float(value).is_integer() else f"{value:+.1f}"


def score_leads(
    leads: pd.DataFrame,
    events: pd.DataFrame,
    rules: Rules,
    as_of: datetime,
    with_reasons: bool = True,
) -> pd.DataFrame:
    """One row per lead: fit, engagement, total, grade, MQL rule verdict and top reasons.

    `leads` has the dim_lead columns lead_id, job_title, industry, size_band, department,
    email_domain (or email), is_unsubscribed, is_email_invalid; `events` has lead_id,
    activity_type, occurred_at and optionally webpage_url.
    """
    engagement = engagement_matrix(events, leads["lead_id"], rules, as_of)
    matrix = points_matrix(leads, engagement, rules)
    fit_score = np.round(matrix.points[:, matrix.is_fit].sum(axis=1), 2)
    engagement_score = np.round(matrix.points[:, ~matrix.is_fit].sum(axis=1), 2)
    grade, meets = grade_and_mql(fit_score, engagement_score, rules)
    scores = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "fit_score": fit_score,
            "engagement_score": engagement_score,
            "score": np.round(fit_score + engagement_score, 2),
            "grade": grade,
            "meets_mql_rule": meets,
        }
    )
    if with_reasons:
        scores["top_reasons"] = top_reasons(matrix)
    return scores
