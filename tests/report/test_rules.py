"""The "what to do next" rules, on plain rows shaped like the loaders' output."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from nurture.report import rules
from nurture.report.data import SectionData
from nurture.report.targets import parse_targets, statuses

SEP, AUG, JUL, JUN, MAY = (date(2026, m, 1) for m in (9, 8, 7, 6, 5))


def week(creative_id, n, ctr, baseline=0.10, fatigued=False, sample=True, start=None):
    return {
        "creative_id": creative_id,
        "weeks_since_launch": n,
        "week_start_date": start or date(2026, 6, 1) + timedelta(days=7 * n),
        "delivered": 300 if sample else 50,
        "click_through_rate": ctr,
        "baseline_ctr": baseline,
        "has_min_sample": sample,
        "ctr_change_from_baseline": ctr / baseline - 1,
        "is_fatigued": fatigued,
    }


def creative(creative_id, weeks, name="Subject"):
    return {
        "creative_id": creative_id,
        "label": f"#{creative_id} {name}",
        "launch_date": weeks[0]["week_start_date"],
        "weeks": weeks,
        "latest": weeks[-1],
    }


def fatigue(*creatives):
    return {"fatigue": SectionData("fatigue", True, rows={"creatives": list(creatives)})}


def test_rotate_a_creative_the_fatigue_mart_flags_in_its_latest_week():
    sections = fatigue(
        creative(1, [week(1, 0, 0.10), week(1, 1, 0.10), week(1, 3, 0.06, fatigued=True)]),
        creative(2, [week(2, 0, 0.10), week(2, 3, 0.09)]),  # fine
        # flagged earlier, recovered since: nothing to do
        creative(3, [week(3, 2, 0.05, fatigued=True), week(3, 3, 0.10)]),
    )
    found = rules.rotate_creatives(sections, [])
    assert [(r.rule, r.severity) for r in found] == [("rotate_creative", "action")]
    assert "#1 Subject" in found[0].ja and "#1 Subject" in found[0].en
    assert "6.00%" in found[0].en and "-40.0%" in found[0].en


def test_the_same_drop_on_too_few_deliveries_is_only_watched():
    sections = fatigue(creative(4, [week(4, 0, 0.1), week(4, 5, 0.05, sample=False)]))
    found = rules.rotate_creatives(sections, [])
    assert [(r.rule, r.severity) for r in found] == [("rotate_creative", "watch")]
    # a drop in week 1 is part of the baseline: never watched
    assert not rules.rotate_creatives(fatigue(creative(5, [week(5, 1, 0.01)])), [])


def test_a_creative_no_longer_sent_is_not_rotated():
    old = creative(6, [week(6, 2, 0.05, fatigued=True, start=date(2026, 1, 5))])
    current = creative(7, [week(7, 3, 0.10, start=date(2026, 9, 1))])
    assert rules.rotate_creatives(fatigue(old, current), []) == []


def cell(band, content, month, delivered, clicks=0, unsubscribes=0, leads=None):
    return {
        "band": band,
        "content_type": content,
        "month": month,
        "delivered": delivered,
        "clicks": clicks,
        "unsubscribes": unsubscribes,
        "leads": leads or delivered // 2,
    }


def segments(*cells, current=SEP):
    return {
        "segments": SectionData(
            "segments",
            True,
            current,
            current.replace(month=current.month - 1),
            rows={"cells": list(cells)},
        )
    }


def test_send_less_to_a_band_whose_unsubscribe_rate_rises():
    sections = segments(
        # dormant: 0.5% for three months, 2% now: rising
        *(cell("dormant", "service_intro", m, 400, unsubscribes=2) for m in (JUN, JUL, AUG)),
        cell("dormant", "service_intro", SEP, 400, unsubscribes=8, leads=200),
        # fan: flat
        *(cell("fan", "service_intro", m, 200, unsubscribes=2) for m in (JUN, JUL, AUG, SEP)),
    )
    found = rules.send_less(sections, [])
    assert [r.rule for r in found] == ["send_less"]
    assert "休眠" in found[0].ja and "Dormant" in found[0].en
    assert "2.00%" in found[0].en and "0.50%" in found[0].en
    assert "2.00 e-mails per lead" in found[0].en


@pytest.mark.parametrize(
    "now",
    [
        cell("light", "x", SEP, 99, unsubscribes=9),  # too few deliveries
        cell("light", "x", SEP, 400, unsubscribes=2),  # too few unsubscribes
        cell("light", "x", SEP, 400, unsubscribes=5),  # 1.25%: not 1.5x of 1%
    ],
)
def test_send_less_needs_sample_and_a_real_rise(now):
    baseline = [cell("light", "x", m, 400, unsubscribes=4) for m in (JUN, JUL, AUG)]
    assert rules.send_less(segments(*baseline, now), []) == []


def test_a_band_without_history_is_not_called_rising():
    assert rules.send_less(segments(cell("new", "x", SEP, 500, unsubscribes=20)), []) == []


def test_content_type_that_wins_significantly_for_a_band():
    sections = segments(
        cell("engaged", "problem_solution", SEP, 300, clicks=60),
        cell("engaged", "problem_solution", AUG, 300, clicks=60),  # 20%
        cell("engaged", "service_intro", SEP, 600, clicks=48),  # 8%
        cell("engaged", "unknown", SEP, 600, clicks=300),  # never a winner
        cell("engaged", "problem_solution", MAY, 5000, clicks=0),  # outside the 3 months
        # light: 10% vs 9%: not significant
        cell("light", "problem_solution", SEP, 300, clicks=30),
        cell("light", "service_intro", SEP, 300, clicks=27),
        # fan: one type has too few deliveries
        cell("fan", "problem_solution", SEP, 99, clicks=60),
        cell("fan", "service_intro", SEP, 300, clicks=3),
    )
    found = rules.content_wins(sections, [])
    assert len(found) == 1
    assert "エンゲージ" in found[0].ja and "課題解決型" in found[0].ja
    assert "'Engaged', Problem-solution wins" in found[0].en
    assert "20.0%" in found[0].en and "8.00%" in found[0].en and "p=<0.001" in found[0].en


def test_two_proportion_p_value():
    # the mart's documented example: 200/1000 vs 240/1000, two-sided p = 0.0308
    assert rules.two_proportion_p(240, 1000, 200, 1000) == pytest.approx(0.030837, abs=1e-5)
    assert rules.two_proportion_p(0, 10, 0, 10) == 1.0
    assert rules.two_proportion_p(1, 0, 1, 10) is None


def ab(status, winner="inconclusive", **extra):
    row = {
        "name": "EM-01 <b>launch</b>",
        "status": status,
        "winner": winner,
        "lift": 0.25,
        "adjusted_p_value": 0.01,
        "rollout_ctr_change": None,
        "rollout_delivered": 0,
    }
    return {**row, **extra}


def test_roll_out_a_winner_and_retest_one_that_faded():
    tests = [
        ab("winner", "B"),
        ab("winner", "A", rollout_ctr_change=-0.4, rollout_delivered=500),
        ab("winner", "B", rollout_ctr_change=-0.4, rollout_delivered=50),  # too few to judge
        ab("significant_alone"),
        ab("small_sample"),
    ]
    found = rules.ab_winners({"ab": SectionData("ab", True, rows={"tests": tests})}, [])
    assert [(r.severity, r.en.split(":")[1].strip()[:20]) for r in found] == [
        ("action", "roll out variant B"),
        ("watch", "winner A lost -40.0%"),
        ("action", "roll out variant B"),
    ]
    assert "<b>launch</b>" in found[0].en  # names stay as written: the page escapes them


def test_chase_verdicts_names_the_owners_with_most_overdue():
    owners = [
        {"owner": "田中 太郎", "overdue": 3},
        {"owner": "", "overdue": 5},
        {"owner": "Smith James", "overdue": 0},
        {"owner": "山田 隆", "overdue": 4},
        {"owner": "Jones David", "overdue": 1},
    ]
    section = SectionData("handoff", True, rows={"owners": owners})
    [found] = rules.chase_verdicts({"handoff": section}, [])
    assert found.en.startswith("13 MQLs have waited over 48 h")
    assert "(unassigned) 5, 山田 隆 4, 田中 太郎 3)" in found.en
    assert "Jones David" not in found.en
    empty = SectionData("handoff", True, rows={"owners": [{"owner": "x", "overdue": 0}]})
    assert rules.chase_verdicts({"handoff": empty}, []) == []


def test_negative_roi_channels():
    channels = [
        {"channel": "email", "cost": 100.0, "won_revenue": 500.0, "roi": 4.0},
        {"channel": "social", "cost": 100.0, "won_revenue": 20.0, "roi": -0.8},
        {"channel": "phone", "cost": 0.0, "won_revenue": 0.0, "roi": None},
    ]
    found = rules.negative_roi({"roi": SectionData("roi", True, rows={"channels": channels})}, [])
    assert [r.en for r in found] == [
        "Review the budget of the channels with a negative ROI: Social -80.0% (cost ¥100, won ¥20)"
    ]
    assert (
        found[0].ja
        == "ROIがマイナスのチャネルの予算配分を見直す: ソーシャル -80.0%(費用 100円、受注 20円)"
    )


def test_off_target_kpis_only():
    targets = parse_targets(
        "targets:\n  email_ctr: 0.05\n  unsubscribe_rate: 0.005\n  fan_share: 0.1\n",
        Path("kpi_targets.yaml"),
    )
    found = rules.off_target(
        {}, statuses(targets, {"email_ctr": 0.04, "unsubscribe_rate": 0.004, "fan_share": None})
    )
    assert [r.en for r in found] == ["1 KPI off target: Email CTR 4.00% (target ≥ 5.00%)"]
    assert found[0].ja == "目標未達のKPI(1件): メールCTR 4.00%(目標 ≥ 5.00%)"


def test_every_rule_is_stated_in_both_languages_and_empty_sections_give_nothing():
    stated = rules.rules()
    assert len({r.id for r in stated}) == len(stated) >= 7
    for rule in stated:
        assert rule.ja and rule.en and rule.ja != rule.en
    empty = {
        key: SectionData(key, False) for key in ("fatigue", "segments", "ab", "handoff", "roi")
    }
    assert rules.recommend(empty, []) == []


def test_actions_come_before_watch_items():
    sections = {
        **fatigue(creative(4, [week(4, 0, 0.1), week(4, 5, 0.05, sample=False)])),
        "roi": SectionData(
            "roi",
            True,
            rows={
                "channels": [{"channel": "social", "cost": 1.0, "won_revenue": 0.0, "roi": -1.0}]
            },
        ),
    }
    assert [r.severity for r in rules.recommend(sections, [])] == ["action", "watch"]
