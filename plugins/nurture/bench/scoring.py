"""Scoring throughput: the vectorised scorer against the same arithmetic in DuckDB SQL.

A synthetic lead base of realistic shape (titles in Japanese and English, industries,
size bands, departments, free-mail and competitor domains, opt-outs) and its events
(activity types with the sandbox's mix, web pages including careers pages, two years
of timestamps) is made with numpy in seconds; no sandbox world. Both sides get the same
tables: DuckDB native tables (loaded before the clock starts, so SQL runs at its best)
and the pandas frames the scorer reads. The figure is DuckDB's time over the scorer's
(goal >= 1: the scorer at least as fast as one SQL query doing the points, the decay,
the grade and the MQL rule); the scores of both are compared on a sample.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from nurture.bench.common import Result
from nurture.scoring.rules import Rules, load_rules
from nurture.scoring.score import (
    engagement_matrix,
    grade_and_mql,
    points_matrix,
    top_reasons,
)

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
EVENTS_PER_LEAD = 12
SAMPLE = 20_000
TITLES = (
    "営業部長",
    "情報システム部 課長",
    "マーケティング部 マネージャー",
    "代表取締役社長",
    "経理部",
    "人事部 係長",
    "開発本部長",
    "総務部",
    "技術部 エンジニア",
    "営業",
    "VP Marketing",
    "Director of IT",
    "Sales Manager",
    "Software Engineer",
    "CEO",
    "Head of Demand Generation",
    "Marketing Specialist",
    "Account Executive",
    "HR Generalist",
    "CFO",
    "Team Lead",
    "Analyst",
    None,
)
INDUSTRIES = (
    "Software",
    "IT Services",
    "Manufacturing",
    "Financial Services",
    "Healthcare",
    "Retail",
    "Logistics",
    "Education",
    None,
)
SIZE_BANDS = ("1-49", "50-249", "250-999", "1000-4999", "5000+", "unknown")
DEPARTMENTS = ("marketing", "sales", "it", "engineering", "human_resources", "finance", None)
DOMAINS = (
    *(f"company{i}.co.jp" for i in range(400)),
    "gmail.com",
    "yahoo.co.jp",
    "outlook.com",
    "icloud.com",
    "hubspot.com",
)
# the sandbox's mix of touches: sends and deliveries outnumber responses
ACTIVITY_MIX = {
    "send_email": 0.31,
    "email_delivered": 0.30,
    "visit_webpage": 0.17,
    "open_email": 0.085,
    "change_status_in_progression": 0.06,
    "fill_out_form": 0.021,
    "click_email": 0.02,
    "email_bounced": 0.007,
    "unsubscribe_email": 0.002,
    "attend_webinar": 0.015,
    "register_for_event": 0.01,
}
PAGES = tuple(
    f"https://www.nurture-demo.example.com{p}"
    for p in (
        "/",
        "/product",
        "/pricing",
        "/blog/mql-definition",
        "/case-studies/software",
        "/resources/whitepaper",
        "/webinars",
        "/careers",
        "/demo-request",
    )
)


def synthetic_tables(leads: int, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A lead base and its events, drawn with numpy (a second or two per million leads)."""
    rng = np.random.default_rng(seed)

    def pick(values: tuple, n: int) -> np.ndarray:
        return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]

    lead_ids = np.arange(1, leads + 1, dtype=np.int64) * 13
    lead_frame = pd.DataFrame(
        {
            "lead_id": lead_ids,
            "email_domain": pick(DOMAINS, leads),
            "job_title": pick(TITLES, leads),
            "industry": pick(INDUSTRIES, leads),
            "size_band": pick(SIZE_BANDS, leads),
            "department": pick(DEPARTMENTS, leads),
            "is_unsubscribed": rng.random(leads) < 0.04,
            "is_email_invalid": rng.random(leads) < 0.02,
        }
    )
    n_events = leads * EVENTS_PER_LEAD
    # engagement is skewed: a few leads do most things
    who = np.minimum((rng.pareto(1.5, n_events) * leads / 8).astype(np.int64), leads - 1)
    kinds = list(ACTIVITY_MIX)
    probabilities = np.array(list(ACTIVITY_MIX.values()))
    kind = rng.choice(len(kinds), n_events, p=probabilities / probabilities.sum())
    two_years = 730 * 86_400
    seconds = pd.Timestamp(AS_OF).tz_convert(None).value // 10**9 - rng.integers(
        0, two_years, n_events
    )
    page = np.where(kinds.index("visit_webpage") == kind, rng.integers(0, len(PAGES), n_events), -1)
    events = pd.DataFrame(
        {
            "lead_id": lead_ids[who],
            "activity_type": pd.Categorical.from_codes(kind, categories=kinds),
            "webpage_url": pd.Categorical.from_codes(page, categories=list(PAGES)),
            "occurred_at": pd.to_datetime(seconds, unit="s"),
        }
    )
    return lead_frame, events


def score_vectorised(leads: pd.DataFrame, events: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The scorer's arithmetic: points matrix, decay, fit/engagement sums, grade, MQL rule."""
    engagement = engagement_matrix(events, leads["lead_id"], rules, AS_OF)
    matrix = points_matrix(leads, engagement, rules)
    fit, eng = matrix.total(fit=True), matrix.total(fit=False)
    grade, meets = grade_and_mql(fit, eng, rules)
    scores = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "fit_score": fit,
            "engagement_score": eng,
            "grade": grade,
            "meets_mql_rule": meets,
        }
    )
    scores.attrs["matrix"] = matrix
    return scores


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case_map(expr: str, table: dict[str, float]) -> str:
    if not table:
        return "0"
    whens = " ".join(f"when {_quote(k.lower())} then {float(v)!r}" for k, v in table.items())
    return f"(case lower(trim({expr})) {whens} else 0 end)"


def scoring_sql(rules: Rules) -> str:
    """The same points, decay, grade and MQL rule as one DuckDB query over leads/events."""
    fit, neg, eng = rules.fit, rules.negative, rules.engagement
    seniority = " ".join(
        f"when regexp_matches(job_title, {_quote(r.pattern)}, 'i') then {float(r.points)!r}"
        for r in fit.seniority
    )
    domains = []
    for rule in (neg.free_mail, neg.competitor):
        if rule is not None:
            listed = ", ".join(_quote(d.lower()) for d in rule.domains)
            points = float(rule.points)
            domains.append(
                f"(case when lower(trim(email_domain)) in ({listed}) then {points!r} else 0 end)"
            )
    weights = " ".join(f"when {_quote(k)} then {float(v)!r}" for k, v in eng.activities.items())
    as_of = f"timestamp '{AS_OF.astimezone(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"
    decay = (
        f"pow(0.5, date_diff('second', occurred_at, {as_of}) / 86400.0 / {eng.half_life_days!r})"
    )
    careers = (
        f"case when regexp_matches(webpage_url, {_quote(neg.careers_pages.pattern)}, 'i') "
        f"then {float(neg.careers_pages.points)!r} * {decay} else 0 end"
        if neg.careers_pages
        else "0"
    )
    grades = " ".join(
        f"when fit_score >= {g.min_fit!r} then {_quote(g.grade)}" for g in rules.grades
    )
    thresholds = " ".join(f"when {_quote(g)} then {float(t)!r}" for g, t in rules.mql.items())
    return f"""
with engagement as (
    select lead_id,
        sum(coalesce(case activity_type {weights} end, 0) * {decay} + {careers}) as points
    from events
    where occurred_at <= {as_of}
    group by lead_id
),
fit as (
    select lead_id,
        round({_case_map("industry", fit.industry)} + {_case_map("size_band", fit.size_band)}
            + coalesce(case {seniority or "when false then 0"} end, 0)
            + {_case_map("department", fit.department)}
            + (case when is_unsubscribed then {float(neg.unsubscribed)!r} else 0 end)
            + (case when is_email_invalid then {float(neg.hard_bounce)!r} else 0 end)
            {"".join(" + " + d for d in domains)}, 2) as fit_score
    from leads
),
scored as (
    select fit.lead_id, fit.fit_score, round(coalesce(engagement.points, 0), 2) as engagement_score
    from fit left join engagement on fit.lead_id = engagement.lead_id
),
graded as (
    select *, case {grades} else {_quote(rules.grades[-1].grade)} end as grade from scored
)
select lead_id, fit_score, engagement_score, grade,
    coalesce(engagement_score >= case grade {thresholds} end, false) as meets_mql_rule
from graded
"""


def bench_scoring(leads: int, rules: Rules | None = None, repeats: int = 2) -> Result:
    """Best of `repeats` for each side; DuckDB seconds over scorer seconds."""
    import duckdb

    rules = rules or load_rules()
    started = time.perf_counter()
    lead_frame, events = synthetic_tables(leads)
    generated = time.perf_counter() - started
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    con.register("lead_frame", lead_frame)
    con.register("event_frame", events)
    con.execute("create table leads as select * from lead_frame")
    con.execute(
        "create table events as select lead_id, cast(activity_type as varchar) as activity_type, "
        "cast(webpage_url as varchar) as webpage_url, occurred_at from event_frame"
    )
    sql = scoring_sql(rules)
    sql_seconds, ours_seconds = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        from_sql = con.execute(sql).df()
        sql_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        ours = score_vectorised(lead_frame, events, rules)
        ours_seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    top_reasons(ours.attrs["matrix"])
    reasons_seconds = time.perf_counter() - started
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    con.close()
    mismatches = compare(ours, from_sql)
    return Result(
        "scoring: vectorised scorer vs one DuckDB query (speed ratio)",
        min(sql_seconds) / min(ours_seconds),
        goal=1.0,
        detail={
            "leads": leads,
            "events": len(events),
            "scorer_seconds": round(min(ours_seconds), 3),
            "duckdb_seconds": round(min(sql_seconds), 3),
            "duckdb_threads": threads,
            "top_reasons_seconds": round(reasons_seconds, 3),
            "generate_seconds": round(generated, 2),
            "sample_mismatches": mismatches,
        },
    )


def compare(ours: pd.DataFrame, theirs: pd.DataFrame, sample: int = SAMPLE) -> int:
    """Leads in a sample whose scores, grade or MQL verdict differ (rounding aside)."""
    picked = ours.sample(n=min(sample, len(ours)), random_state=0)
    both = picked.merge(theirs, on="lead_id", suffixes=("", "_sql"), how="left")
    differs = (
        ((both["fit_score"] - both["fit_score_sql"]).abs() > 0.011)
        | ((both["engagement_score"] - both["engagement_score_sql"]).abs() > 0.011)
        | (both["grade"] != both["grade_sql"])
        | (both["meets_mql_rule"] != both["meets_mql_rule_sql"])
    )
    return int(differs.sum())
