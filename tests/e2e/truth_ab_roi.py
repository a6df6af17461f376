"""A/B tests, creative fatigue and campaign ROI agree with the world the sandbox simulated.

Every figure is recomputed from the ground-truth Parquet files (`truth_world.truth`)
with plain SQL, never from the marts' models: the A/B winners against each mailing's
true expected CTR (`emails.true_ctr`, what the generator's click model gave the
leads it delivered to), the fatigued creative-weeks against the true CTR drop, and
campaign costs and credited revenue against the world's cost periods and won
opportunities.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest

from tests.e2e.conftest import within_sampling_error

# dbt_project.yml defaults the marts use
AB_MIN_SAMPLE = 200
FATIGUE_DROP = 0.3
FATIGUE_MIN_SAMPLE = 200
LOOKBACK_DAYS = 180
ENGAGEMENT_STATUSES = ("attended", "attended on-demand", "visited booth", "responded", "connected")


def _mailings(truth_world) -> pd.DataFrame:
    """Per mailing: its design, true expected CTR, and the delivered and clicked sends."""
    return truth_world.truth.sql(
        """
        with sends as (
            select mailing_id, lead_id,
                bool_or(activity_type_id = 7) as delivered,
                bool_or(activity_type_id = 11) as clicked,
                min(activity_date) filter (where activity_type_id = 6) as sent_at
            from activities where mailing_id is not null
            group by all
        )
        select e.mailing_id, cast(e.campaign_id as varchar) as campaign_id, e.variant,
            e.creative_id, e.content_type, e.true_ctr,
            count(*) filter (where s.delivered) as delivered,
            count(*) filter (where s.delivered and s.clicked) as clicks
        from emails as e join sends as s on s.mailing_id = e.mailing_id
        group by all
        having count(*) filter (where s.delivered) > 0
        """
    ).set_index("mailing_id")


def test_ab_winners_follow_the_true_difference(truth_world):
    mailings = _mailings(truth_world)
    tests = truth_world.query("select * from marts.mart_ab_tests")
    assert len(tests) >= 10
    for _, t in tests.iterrows():
        a = mailings.loc[int(t["control_marketo_email_id"])]
        b = mailings.loc[int(t["challenger_marketo_email_id"])]
        # each arm's design as the world made it
        assert (t["control_content_type"], t["challenger_content_type"]) == (
            a["content_type"],
            b["content_type"],
        )
        assert (int(t["control_creative_id"]), int(t["challenger_creative_id"])) == (
            int(a["creative_id"]),
            int(b["creative_id"]),
        )
        for arm, side in ((a, "control"), (b, "challenger")):
            n = int(t[f"{side}_delivered"])
            assert n == int(arm["delivered"])
            assert within_sampling_error(float(t[f"{side}_ctr"]), float(arm["true_ctr"]), n, 4)
        true_diff = float(b["true_ctr"] - a["true_ctr"])
        se = math.sqrt(
            a["true_ctr"] * (1 - a["true_ctr"]) / a["delivered"]
            + b["true_ctr"] * (1 - b["true_ctr"]) / b["delivered"]
        )
        better = t["challenger_variant"] if true_diff > 0 else t["control_variant"]
        big_enough = min(a["delivered"], b["delivered"]) >= AB_MIN_SAMPLE
        if t["winner"] != "inconclusive":
            # a declared winner is the truly better variant, with both arms big enough
            assert t["winner"] == better, t
            assert big_enough
        if abs(true_diff) > 4.5 * se and big_enough:
            # a difference this large is found (power > 90%) even after Holm's correction
            assert t["winner"] == better, t
    # Holm never makes a test more significant than it is alone
    adjusted = tests.dropna(subset=["adjusted_p_value"])
    assert (adjusted["adjusted_p_value"] >= adjusted["p_value"] - 1e-9).all()
    winners = tests[tests["winner"] != "inconclusive"]
    assert winners["is_significant_adjusted"].all()
    # the world has at least one test whose difference the mart detects
    assert len(winners) >= 1


def test_content_type_varies_within_ab_tests(truth_world):
    tests = truth_world.query(
        "select control_content_type, challenger_content_type, is_content_type_test"
        " from marts.mart_ab_tests"
    )
    assert tests["is_content_type_test"].any()
    assert set(tests["control_content_type"]) == {"problem_solution", "service_intro"}
    assert set(tests["challenger_content_type"]) == {"problem_solution", "service_intro"}


def _creative_weeks(truth_world) -> pd.DataFrame:
    return truth_world.truth.sql(
        """
        with sends as (
            select a.lead_id, a.mailing_id, e.creative_id, e.true_ctr,
                cast(min(a.activity_date) filter (where a.activity_type_id = 6) as date)
                    as send_date,
                bool_or(a.activity_type_id = 7) as delivered,
                bool_or(a.activity_type_id = 11) as clicked
            from activities as a join emails as e on e.mailing_id = a.mailing_id
            group by all
        ),
        delivered as (select * from sends where delivered),
        launches as (
            select creative_id, min(send_date) as launch_date from delivered group by all
        ),
        weekly as (
            select d.creative_id,
                cast(floor((d.send_date - l.launch_date) / 7) as bigint) as weeks_since_launch,
                count(*) as delivered, count(*) filter (where clicked) as clicks,
                sum(d.true_ctr) as expected_clicks
            from delivered as d join launches as l using (creative_id)
            group by all
        ),
        baseline as (
            select creative_id, sum(delivered) as base_delivered,
                sum(clicks) / sum(delivered) as base_ctr,
                sum(expected_clicks) / sum(delivered) as base_true_ctr
            from weekly where weeks_since_launch < 2 group by all
        )
        select w.*, w.clicks / w.delivered as ctr, w.expected_clicks / w.delivered as true_ctr,
            b.base_delivered, b.base_ctr, b.base_true_ctr
        from weekly as w join baseline as b using (creative_id)
        order by 1, 2
        """
    )


def test_fatigue_flags_the_creatives_the_world_made_fatigued(truth_world):
    weeks = _creative_weeks(truth_world).set_index(["creative_id", "weeks_since_launch"])
    mart = truth_world.query("select * from marts.mart_creative_fatigue")
    assert len(mart) > 0
    weeks["ratio"] = weeks["true_ctr"] / weeks["base_true_ctr"]
    weeks["eligible"] = (
        (weeks.index.get_level_values(1) >= 2)
        & (weeks["delivered"] >= FATIGUE_MIN_SAMPLE)
        & (weeks["base_delivered"] >= FATIGUE_MIN_SAMPLE)
    )
    for _, row in mart.iterrows():
        key = (int(row["creative_id"]), int(row["weeks_since_launch"]))
        w = weeks.loc[key]
        assert int(row["delivered"]) == int(w["delivered"])
        if not w["eligible"]:
            # a tiny week (or baseline) is never flagged
            assert not row["is_fatigued"], row
            continue
        # the flag agrees with the true CTR drop within two standard errors of the ratio
        se = w["ratio"] * math.sqrt(
            (1 - w["true_ctr"]) / (w["true_ctr"] * w["delivered"])
            + (1 - w["base_true_ctr"]) / (w["base_true_ctr"] * w["base_delivered"])
        )
        if row["is_fatigued"]:
            assert w["ratio"] <= 1 - FATIGUE_DROP + 2 * se, (row, w)
        else:
            assert w["ratio"] >= 1 - FATIGUE_DROP - 2 * se, (row, w)
    # per creative: the ones the world wore out (true CTR down by creative_fatigue_ctr_drop
    # in a week with the minimum sample) are flagged; the ones it never wore down by
    # half that much are not
    judged = weeks[weeks["eligible"]]
    worn = set(judged[judged["ratio"] <= 1 - FATIGUE_DROP].index.get_level_values(0))
    fresh = set(judged.index.get_level_values(0)) - set(
        judged[judged["ratio"] < 1 - FATIGUE_DROP / 2].index.get_level_values(0)
    )
    flagged = set(mart.loc[mart["is_fatigued"], "creative_id"].astype(int))
    assert worn, "the world wears creatives out"
    assert worn <= flagged
    assert not flagged & fresh


def test_ab_rollout_shows_the_winner_after_its_test(truth_world):
    rollouts = truth_world.query("select * from marts.mart_ab_rollouts")
    tests = truth_world.query("select ab_test_key from marts.mart_ab_tests")
    assert set(rollouts["ab_test_key"]) == set(tests["ab_test_key"])
    sent_again = rollouts[rollouts["rollout_delivered"] > 0]
    assert len(sent_again) > 0
    for _, r in sent_again.iterrows():
        assert r["rollout_ctr"] == pytest.approx(
            r["rollout_clicks"] / r["rollout_delivered"], abs=1e-6
        )


def _today(truth_world) -> str:
    return (truth_world.until - timedelta(days=1)).date().isoformat()


def test_campaign_costs_match_the_world(truth_world):
    today = _today(truth_world)
    truth = truth_world.truth.sql(
        f"""
        select cast(c.campaign_id as varchar) as campaign_id, c.channel, c.budgeted_cost,
            coalesce(sum(k.cost) filter (where k.start_date <= date '{today}'), 0) as cost
        from campaigns as c left join campaign_costs as k using (campaign_id)
        where cast(c.launch_at as date) <= date '{today}'
        group by all
        """
    ).set_index("campaign_id")
    mart = truth_world.query("select * from marts.mart_campaign_roi").set_index("campaign_id")
    assert set(mart.index) == set(truth.index)
    for campaign_id, row in mart.iterrows():
        t = truth.loc[campaign_id]
        assert row["cost"] == pytest.approx(t["cost"], abs=0.01), campaign_id
        assert row["sfdc_actual_cost"] == pytest.approx(t["cost"], abs=0.01)
        assert row["marketo_period_cost"] == pytest.approx(t["cost"], abs=0.01)
        assert row["sfdc_budgeted_cost"] == pytest.approx(t["budgeted_cost"], abs=0.01)
        assert row["channel"] == t["channel"]
        if row["cost"] > 0:
            assert row["roi"] == pytest.approx(
                (row["won_revenue"] - row["cost"]) / row["cost"], abs=1e-5
            )
    channels = truth.groupby("channel")["cost"].sum()
    for channel, cost in channels.items():
        got = mart.loc[mart["channel"] == channel, "channel_cost"].iloc[0]
        assert got == pytest.approx(cost, abs=0.01)


def _true_campaign_revenue(truth_world) -> pd.DataFrame:
    """Won revenue per campaign by the attribution rule, from the world: each won
    opportunity's amount shared equally over the person's engagement touches (clicks,
    visits, form fills, responding program statuses) in the 180 days before it was
    created; the person is the converted lead's."""
    statuses = ", ".join(f"'{s}'" for s in ENGAGEMENT_STATUSES)
    return truth_world.truth.sql(
        f"""
        with won as (
            select o."Id" as opportunity_id, o."Amount" as amount, o."CreatedDate" as created_at,
                min(l.person_id) as person_id
            from sf_opportunity as o
            join sf_lead as l on l."ConvertedOpportunityId" = o."Id"
            where o."IsWon" and not o."IsDeleted"
            group by all
        ),
        touches as (
            select w.opportunity_id, w.amount, a.campaign_id
            from won as w
            join mkto_lead as m on m.person_id = w.person_id
            join activities as a on a.lead_id = m.id
            where a.campaign_id is not null
                and a.activity_date < w.created_at
                and a.activity_date >= w.created_at - interval {LOOKBACK_DAYS} day
                and (a.activity_type_id in (1, 2, 11)
                    or (a.activity_type_id = 104 and lower(a.new_status) in ({statuses})))
        ),
        shares as (
            select campaign_id, amount / count(*) over (partition by opportunity_id) as revenue
            from touches
        )
        select cast(s.campaign_id as varchar) as campaign_id, c.channel,
            sum(s.revenue) as won_revenue
        from shares as s join campaigns as c using (campaign_id)
        group by all
        """
    )


def test_campaign_revenue_and_roi_match_the_world(truth_world):
    today = _today(truth_world)
    won_total = truth_world.truth.sql(
        """select sum("Amount") as revenue from sf_opportunity
           where "IsWon" and not "IsDeleted" """
    )["revenue"].iloc[0]
    mart = truth_world.query("select * from marts.mart_campaign_roi")
    # credited revenue never exceeds what was won
    assert mart["won_revenue"].sum() <= won_total * (1 + 1e-9)
    truth = _true_campaign_revenue(truth_world)
    costs = truth_world.truth.sql(
        f"""select c.channel, sum(k.cost) as cost from campaign_costs as k
            join campaigns as c using (campaign_id)
            where k.start_date <= date '{today}' and cast(c.launch_at as date) <= date '{today}'
            group by all"""
    ).set_index("channel")["cost"]
    largest_deal = truth_world.truth.sql(
        """select max("Amount") as amount from sf_opportunity
           where "IsWon" and not "IsDeleted" """
    )["amount"].iloc[0]
    true_channel = truth.groupby("channel")["won_revenue"].sum()
    got_channel = mart.groupby("channel")["won_revenue"].sum()
    exact = 0
    for channel in costs.index:
        want = float(true_channel.get(channel, 0.0))
        got = float(got_channel.get(channel, 0.0))
        # The sandbox misspells a few e-mails between systems, which e-mail identity
        # cannot join: a won deal whose lead the warehouse cannot tie to its Marketo
        # touches goes unattributed. Allow one deal's worth per channel, no more.
        assert abs(got - want) <= largest_deal + 0.01, (channel, got, want)
        exact += abs(got - want) <= 1.0
        true_roi = (want - costs[channel]) / costs[channel]
        got_roi = mart.loc[mart["channel"] == channel, "channel_roi"].iloc[0]
        assert abs(got_roi - true_roi) <= (largest_deal + 1.0) / costs[channel], channel
    # and most channels get exactly the revenue the world's touches earn them
    assert exact >= len(costs) - 2
