"""The scoring bench at its quick size: both sides agree, and the ratio is measured."""

from __future__ import annotations

from nurture.bench.run import QUICK
from nurture.bench.scoring import bench_scoring, scoring_sql, synthetic_tables
from nurture.scoring.rules import load_rules


def test_synthetic_tables_have_a_realistic_shape() -> None:
    leads, events = synthetic_tables(2_000)
    assert leads["lead_id"].is_unique and len(leads) == 2_000
    assert len(events) > 10 * len(leads)
    assert events["lead_id"].isin(leads["lead_id"]).all()
    assert events["webpage_url"].astype(str).str.contains("/careers").any()
    assert leads["job_title"].str.contains("部長", na=False).any()


def test_quick_scoring_bench_agrees_with_duckdb() -> None:
    result = bench_scoring(QUICK.scoring_leads)
    assert result.detail["sample_mismatches"] == 0
    assert result.detail["leads"] == QUICK.scoring_leads
    assert result.value > 0 and result.goal == 1.0


def test_the_sql_names_every_rule() -> None:
    rules = load_rules()
    sql = scoring_sql(rules)
    for name in (*rules.fit.industry, *rules.engagement.activities, *rules.mql):
        assert name.lower() in sql.lower()
