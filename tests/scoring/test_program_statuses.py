"""Program status changes are scored by what the new status means, in a marketer's words.

`change_status_in_progression` used to earn the same points whatever the new status, so
sales' calls, the system's mailings and no-shows counted as engagement, and reasons read
"change status in progression ×9".
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from nurture.scoring.rules import RULES_PATH, RulesError, load_rules
from nurture.scoring.score import score_leads

AS_OF = datetime(2026, 10, 1, tzinfo=UTC)
API_NAMES = r"[a-z]+_[a-z_]+|×"


@pytest.fixture(scope="module")
def rules():
    return load_rules()


def _leads(*ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": list(ids),
            "email_domain": "acme.co.jp",
            "job_title": None,
            "industry": None,
            "size_band": "unknown",
            "department": None,
            "is_unsubscribed": False,
            "is_email_invalid": False,
        }
    )


def _status(lead_id: str, status: str, channel: str = "webinar", days_ago: float = 0) -> dict:
    return {
        "lead_id": lead_id,
        "activity_type": "change_status_in_progression",
        "program_status": status,
        "channel": channel,
        "occurred_at": AS_OF - timedelta(days=days_ago),
        "webpage_url": None,
    }


def _score(rules, events: list[dict], *ids: str) -> pd.DataFrame:
    return score_leads(_leads(*ids), pd.DataFrame(events), rules, AS_OF).set_index("lead_id")


@pytest.mark.parametrize("status", ["Sent", "Called", "Invited", "Member"])
def test_what_sales_or_the_system_did_earns_nothing(rules, status):
    scores = _score(rules, [_status("x", status, "direct_mail")] * 9, "x")
    assert scores.loc["x", "engagement_score"] == 0
    assert scores.loc["x", "top_reasons"] == ""


def test_a_no_show_earns_no_points(rules):
    scores = _score(rules, [_status("x", "No Show")], "x")
    assert scores.loc["x", "engagement_score"] <= 0


def test_attending_is_worth_more_than_registering(rules):
    events = [_status("came", "Attended"), _status("signed", "Registered")]
    scores = _score(rules, events, "came", "signed")
    assert scores.loc["came", "engagement_score"] > scores.loc["signed", "engagement_score"] > 0


def test_reasons_say_what_the_lead_did(rules):
    events = [
        _status("x", "Attended", "webinar"),
        _status("x", "Attended", "webinar", 1),
        _status("x", "Attended", "events", 2),
        _status("x", "Called", "phone"),
        {**_status("x", None), "activity_type": "click_email", "program_status": None},
        {**_status("x", None), "activity_type": "click_email", "program_status": None},
        {**_status("x", None), "activity_type": "fill_out_form", "program_status": None},
    ]
    reasons = _score(rules, events, "x").loc["x", "top_reasons"]
    assert reasons.startswith("attended 2 webinars and an event (+")
    assert "filled in a form (+15)" in reasons
    assert "clicked 2 emails (+8)" in reasons
    assert not pd.Series([reasons]).str.contains(API_NAMES).any()


def test_world_reasons_carry_no_api_names(rules, world_tables):
    scores = score_leads(
        world_tables["marts.dim_lead"], world_tables["marts.fct_engagement_events"], rules, AS_OF
    )
    mqls = scores.loc[scores["meets_mql_rule"]]
    assert len(mqls) > 10
    assert not scores["top_reasons"].str.contains(API_NAMES).any()
    assert not mqls["top_reasons"].str.contains("change status|Called|Sent").any()


def _rules_with(tmp_path: Path, old: str, new: str) -> Path:
    text = RULES_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    Sent: 0\n", "    Sent: 5\n", r"'Sent' is set by sales or the system.*cannot earn"),
        ("    No Show: -2\n", "    No Show: 3\n", r"'No Show' is a no-show.*cannot earn"),
        ("    Attended: 12\n", "    Atended: 12\n", r"unknown program status 'Atended'"),
        ("    Attended: 12\n", "    Attended: 2\n", r"'Attended' \(2\) must be worth at least"),
        (
            "    attend_event: 12\n",
            "    attend_event: 12\n    change_status_in_progression: 6\n",
            r"scored by its new status.*program_statuses",
        ),
        ("    click_email: 4\n", "    clik_email: 4\n", r"unknown activity type 'clik_email'"),
    ],
)
def test_rules_refuse_statuses_against_their_meaning(tmp_path, old, new, message):
    with pytest.raises(RulesError, match=message) as err:
        load_rules(_rules_with(tmp_path, old, new))
    assert "field engagement." in str(err.value)
