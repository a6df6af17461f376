"""The vectorised scorer against hand-computed scores on a tiny lead base."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from nurture.scoring.rules import load_rules
from nurture.scoring.score import engagement_matrix, score_leads

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def lead(lead_id: str, **values) -> dict:
    row = {
        "lead_id": lead_id,
        "email_domain": "acme.co.jp",
        "job_title": None,
        "industry": None,
        "size_band": "unknown",
        "department": None,
        "is_unsubscribed": False,
        "is_email_invalid": False,
    }
    return row | values


def leads_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            lead(
                "vp",
                job_title="情報システム部 部長",
                industry="Software",
                size_band="5000+",
                department="it",
            ),
            lead("mgr", job_title="Marketing Manager", industry="retail", department="marketing"),
            lead("free", email_domain="gmail.com", job_title="Staff", industry="Retail"),
            lead("rival", email_domain="HubSpot.com", job_title="VP Sales", department="sales"),
            lead(
                "gone",
                job_title="Director",
                industry="Software",
                size_band="250-999",
                is_unsubscribed=True,
                is_email_invalid=None,
            ),
            lead("quiet"),
        ]
    )


def event(lead_id: str, activity: str, days_ago: float, url: str | None = None) -> dict:
    return {
        "lead_id": lead_id,
        "activity_type": activity,
        "occurred_at": AS_OF - timedelta(days=days_ago),
        "webpage_url": url,
    }


def events_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            event("vp", "fill_out_form", 0),
            event("vp", "fill_out_form", 0),
            event("vp", "click_email", 30),
            event("vp", "click_email", 30),
            event("vp", "click_email", 60),
            event("mgr", "open_email", 0),
            event("mgr", "send_email", 0),  # no points: not in the rules
            event("free", "visit_webpage", 0, "https://www.nurture-demo.example.com/careers"),
            event("free", "visit_webpage", 30, "https://www.nurture-demo.example.com/careers"),
            event("gone", "attend_webinar", 0),
            event("nobody", "fill_out_form", 0),  # not a scored lead
            event("vp", "fill_out_form", -5),  # after the run's date: ignored
        ]
    )


@pytest.fixture(scope="module")
def scores(rules) -> pd.DataFrame:
    return score_leads(leads_frame(), events_frame(), rules, AS_OF).set_index("lead_id")


def test_fit_scores_equal_hand_computed(scores):
    expected = {
        "vp": 20 + 20 + 20 + 8,  # Software, 5000+, 部長 (senior), department it
        "mgr": 6 + 10 + 8,  # Retail (any case), Manager, department marketing
        "free": 6 - 15,  # Retail, free-mail
        "rival": 20 + 6 - 50,  # VP (senior), sales, competitor domain (any case)
        "gone": 20 + 10 + 20 - 40,  # Software, 250-999, Director, unsubscribed
        "quiet": 0,
    }
    assert scores["fit_score"].to_dict() == pytest.approx(expected)


def test_engagement_decays_by_half_life(scores):
    # form 15 x2 today; click 4 x2 one half-life ago (x0.5) and x1 two half-lives ago (x0.25)
    assert scores.loc["vp", "engagement_score"] == pytest.approx(30 + 4 + 1)
    assert scores.loc["mgr", "engagement_score"] == pytest.approx(1)
    # visits worth 1 each, careers pages -5 each: today (1 - 5), a half-life ago (1 - 5) / 2
    assert scores.loc["free", "engagement_score"] == pytest.approx(-4 - 2)
    assert scores.loc["quiet", "engagement_score"] == 0
    assert (scores["score"] == (scores["fit_score"] + scores["engagement_score"]).round(2)).all()


def test_grades_and_mql_rule(scores):
    assert scores["grade"].to_dict() == {
        "vp": "A",
        "mgr": "B",
        "free": "C",
        "rival": "C",
        "gone": "C",
        "quiet": "C",
    }
    # A needs 15 engagement, C 60: the webinar (12) does not lift the unsubscribed C
    assert scores["meets_mql_rule"].to_dict() == {
        "vp": True,
        "mgr": False,
        "free": False,
        "rival": False,
        "gone": False,
        "quiet": False,
    }


def test_reasons_in_words_with_points(scores):
    assert scores.loc["vp", "top_reasons"] == (
        "filled in 2 forms (+30); industry Software (+20); company size 5000+ (+20)"
    )
    assert scores.loc["rival", "top_reasons"] == (
        "competitor domain (-50); senior decision maker (+20); department sales (+6)"
    )
    assert scores.loc["free", "top_reasons"] == (
        "free-mail address (-15); visited 2 careers pages (-7.5); industry Retail (+6)"
    )
    assert "unsubscribed (-40)" in scores.loc["gone", "top_reasons"]
    assert scores.loc["quiet", "top_reasons"] == ""


def test_every_lead_gets_one_row_even_without_events(rules):
    scores = score_leads(leads_frame(), events_frame().iloc[0:0], rules, AS_OF)
    assert sorted(scores["lead_id"]) == sorted(leads_frame()["lead_id"])
    assert (scores["engagement_score"] == 0).all()


def test_integer_keys_and_categorical_types_score_the_same(rules):
    leads = leads_frame().assign(lead_id=lambda f: np.arange(len(f)) * 10 + 5)
    mapping = dict(zip(leads_frame()["lead_id"], leads["lead_id"], strict=True)) | {"nobody": 999}
    events = events_frame().assign(
        lead_id=lambda f: f["lead_id"].map(mapping),
        activity_type=lambda f: f["activity_type"].astype("category"),
    )
    by_key = score_leads(leads, events, rules, AS_OF)
    by_text = score_leads(leads_frame(), events_frame(), rules, AS_OF)
    assert by_key["engagement_score"].tolist() == by_text["engagement_score"].tolist()
    assert by_key["top_reasons"].tolist() == by_text["top_reasons"].tolist()


def test_engagement_counts_and_recency(rules):
    engagement = engagement_matrix(
        events_frame(), leads_frame()["lead_id"], rules, AS_OF, recency=True
    )
    click = engagement.activity_types.index("click_email")
    assert engagement.counts[0, click] == 3
    assert engagement.careers_counts.tolist() == [0, 0, 2, 0, 0, 0]
    assert engagement.days_since_last[0] == pytest.approx(0)
    assert np.isinf(engagement.days_since_last[5])


def test_slices_and_chunks_sum_to_the_same_engagement(rules, monkeypatch):
    """Big event tables are placed in threads, a chunk at a time: the sums, counts,
    careers visits and recency must not depend on where the cuts fall."""
    from nurture.bench.scoring import synthetic_tables
    from nurture.scoring import score

    leads, events = synthetic_tables(3_000, seed=11)
    # events of unknown leads, after the as-of date, and of unscored types are dropped
    stray = events.iloc[:50].assign(lead_id=-1)
    late = events.iloc[50:100].assign(occurred_at=pd.Timestamp("2027-01-01"))
    events = pd.concat([events, stray, late], ignore_index=True)
    whole = engagement_matrix(events, leads["lead_id"], rules, AS_OF, recency=True)
    monkeypatch.setattr(score, "EVENTS_PER_SLICE", 7_000)
    monkeypatch.setattr(score, "EVENTS_PER_CHUNK", 1_500)
    monkeypatch.setattr(score.os, "cpu_count", lambda: 4)
    cut = engagement_matrix(events, leads["lead_id"], rules, AS_OF, recency=True)
    assert len(events) // 7_000 >= 4  # four slices of several chunks each
    np.testing.assert_allclose(cut.points, whole.points, rtol=1e-12)
    np.testing.assert_array_equal(cut.counts, whole.counts)
    np.testing.assert_allclose(cut.careers_points, whole.careers_points, rtol=1e-12)
    np.testing.assert_array_equal(cut.careers_counts, whole.careers_counts)
    np.testing.assert_array_equal(cut.days_since_last, whole.days_since_last)
    scored = events["activity_type"].isin(list(rules.engagement.activities))
    counted = (
        scored & (events["lead_id"] > 0) & (events["occurred_at"] <= AS_OF.replace(tzinfo=None))
    )
    assert 0 < whole.counts.sum() == counted.sum() < scored.sum()
    assert whole.careers_counts.sum() > 0
    assert np.isfinite(whole.days_since_last).sum() > len(leads) / 2
