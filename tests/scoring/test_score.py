from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from nurture.scoring.rules import load_rules
from nurture.scoring.score import score_leads

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def rules():
    return load_rules()


def leads_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "lead_id": "vp",
                "email": "taro@acme.co.jp",
                "title": "情報システム部 部長",
                "industry": "Software",
                "number_of_employees": 5000,
                "is_unsubscribed": False,
                "is_email_invalid": False,
            },
            {
                "lead_id": "free",
                "email": "hanako@gmail.com",
                "title": "Staff",
                "industry": "Retail",
                "number_of_employees": 10,
                "is_unsubscribed": False,
                "is_email_invalid": False,
            },
            {
                "lead_id": "gone",
                "email": "x@acme.co.jp",
                "title": "Director",
                "industry": "Software",
                "number_of_employees": 300,
                "is_unsubscribed": True,
                "is_email_invalid": False,
            },
        ]
    )


def events_frame() -> pd.DataFrame:
    rows = []
    for lead in ("vp", "gone"):
        rows += [{"lead_id": lead, "activity_type": "fill_out_form", "occurred_at": AS_OF}] * 2
    rows.append(
        {
            "lead_id": "free",
            "activity_type": "click_email",
            "occurred_at": AS_OF - timedelta(days=30),
        }
    )
    return pd.DataFrame(rows)


def test_fit_engagement_grade_and_mql(rules):
    scores = score_leads(leads_frame(), events_frame(), rules, AS_OF).set_index("lead_id")
    # 部長 (senior) + 情報システム (department) + Software + 5000 employees
    assert scores.loc["vp", "fit_score"] == 20 + 5 + 20 + 20
    assert scores.loc["vp", "grade"] == "A"
    assert scores.loc["vp", "engagement_score"] == 30
    assert bool(scores.loc["vp", "is_mql"])
    # one click a half-life ago is worth half its points
    assert scores.loc["free", "engagement_score"] == pytest.approx(2.5)
    assert scores.loc["free", "fit_score"] == 6 - 15
    assert not bool(scores.loc["free", "is_mql"])


def test_unsubscribed_lead_loses_fit_and_reasons_say_why(rules):
    scores = score_leads(leads_frame(), events_frame(), rules, AS_OF).set_index("lead_id")
    assert "unsubscribed (-40)" in scores.loc["gone", "top_reasons"]
    assert scores.loc["gone", "grade"] == "C"
    assert not bool(scores.loc["gone", "is_mql"])


def test_future_events_do_not_inflate_scores(rules):
    events = pd.DataFrame(
        [
            {
                "lead_id": "vp",
                "activity_type": "fill_out_form",
                "occurred_at": AS_OF + timedelta(days=60),
            }
        ]
    )
    scores = score_leads(leads_frame(), events, rules, AS_OF).set_index("lead_id")
    assert scores.loc["vp", "engagement_score"] == 0


def test_every_lead_gets_one_row_even_without_events(rules):
    scores = score_leads(leads_frame(), events_frame().iloc[0:0], rules, AS_OF)
    assert sorted(scores["lead_id"]) == ["free", "gone", "vp"]
    assert (scores["engagement_score"] == 0).all()
