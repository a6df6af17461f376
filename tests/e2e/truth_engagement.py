"""The engagement KPIs agree with the world the sandbox simulated (DuckDB and PostgreSQL).

Each test recomputes a KPI from the ground-truth files (`truth_world.truth`) with plain
SQL, never with the marts' models, and compares it with the warehouse: the touches per
channel (all nine channels), attribution credit only on what the lead did and adding up
to pipeline and won revenue, the responses that answer a send and the continuous
response bands, web circulation over distinct pages, and webinar/event attendance.

The world's activities carry their program (campaign) id; the program's channel is
the truth of an activity's channel.
"""

from __future__ import annotations

import pandas as pd
import pytest

from nurture.sandbox.campaigns import CHANNELS  # the world's nine channels
from tests.e2e.conftest import within_sampling_error

# What a lead does, in the world's terms: a page visit, a form fill, an e-mail click, and
# reaching a program status by their own doing (attending, visiting the booth,
# answering the mail or the phone). Sends, deliveries, bounces, opens, unsubscribes,
# invitations, registrations by status, no-shows and calls made are not.
ENGAGEMENT = """(
    a.activity_type_id in (1, 2, 11)
    or (a.activity_type_id = 104
        and a.new_status in ('Attended', 'Visited Booth', 'Responded', 'Connected'))
)"""
LOOKBACK_DAYS = 180  # dbt var attribution_lookback_days
RESPONSE_DAYS = 7  # dbt var engagement_response_days
WINDOW_DAYS = 90  # dbt var engagement_window_days
SESSION_GAP_MINUTES = 30  # dbt var web_session_gap_minutes
CIRCULATION_DAYS, CIRCULATION_MIN_PAGES = 7, 2  # web_circulation_days, _min_pages


def _ids(values) -> str:
    return ", ".join(f"'{v}'" for v in values) or "''"


# --- 1. channels --------------------------------------------------------------------


def test_touches_per_channel_match_the_world_on_all_nine_channels(truth_world):
    truth = truth_world.truth.sql(
        """
        select c.channel, count(*) as touches
        from activities as a
        join campaigns as c on c.campaign_id = a.campaign_id
        where a.activity_type_id <> 12
        group by 1
        """
    ).set_index("channel")["touches"]
    got = truth_world.query(
        "select channel, count(*) as touches from marts.fct_engagement_events group by channel"
    ).set_index("channel")["touches"]
    print("touches per channel (mart, truth):", {c: (got.get(c), truth.get(c)) for c in CHANNELS})
    assert set(truth.index) == set(CHANNELS)
    assert set(got.index) >= set(CHANNELS), sorted(got.index)
    for channel in CHANNELS:
        n = int(truth[channel])
        assert abs(int(got[channel]) - n) <= max(2, 0.01 * n), (channel, got[channel], n)


def test_program_statuses_take_their_programs_channel(truth_world):
    truth = truth_world.truth.sql(
        """
        select cast(a.marketo_guid as varchar) as event_id, c.channel
        from activities as a
        join campaigns as c on c.campaign_id = a.campaign_id
        where a.activity_type_id in (1, 2, 104)
        """
    )
    got = truth_world.query(
        "select event_id, channel from marts.fct_engagement_events"
        " where marketo_activity_type_id in (1, 2, 104)"
    )
    joined = truth.merge(got, on="event_id", suffixes=("_truth", "_mart"))
    assert len(joined) >= 0.99 * len(truth)
    wrong = joined[joined["channel_truth"] != joined["channel_mart"]]
    assert wrong.empty, wrong.groupby(["channel_truth", "channel_mart"]).size()


# --- 2. attribution -----------------------------------------------------------------


def _truth_opportunities(truth_world) -> pd.DataFrame:
    """Each opportunity, its amount at creation and won amount, and its person."""
    return truth_world.truth.sql(
        """
        with first_amount as (
            select "OpportunityId" as id, first("Amount" order by "CreatedDate") as amount
            from sf_opportunity_history group by 1
        )
        select o."Id" as opportunity_id, o."CreatedDate" as created_at,
            f.amount as pipeline, case when o."IsWon" then o."Amount" else 0 end as won,
            l.person_id
        from sf_opportunity as o
        join first_amount as f on f.id = o."Id"
        left join sf_lead as l on l."ConvertedOpportunityId" = o."Id"
        where not o."IsDeleted"
        """
    )


def test_attribution_credits_only_what_the_lead_did(truth_world):
    credited = truth_world.query(
        "select distinct event_id from intermediate.int_opportunity_touch_credits"
        " where channel <> 'unattributed'"
    )["event_id"]
    assert len(credited) > 0
    kinds = truth_world.truth.sql(
        f"""
        select a.activity_type_id, a.new_status, {ENGAGEMENT} as is_engagement, count(*) as n
        from activities as a
        where cast(a.marketo_guid as varchar) in ({_ids(credited)})
        group by all
        """
    )
    assert int(kinds["n"].sum()) == len(credited)
    not_engagement = kinds[~kinds["is_engagement"].astype(bool)]
    assert not_engagement.empty, not_engagement


def test_attribution_credits_add_up_to_pipeline_and_won_revenue(truth_world):
    truth = _truth_opportunities(truth_world)
    pipeline, won = float(truth["pipeline"].sum()), float(truth["won"].sum())
    sums = truth_world.query(
        """
        select sum(first_touch_pipeline) as ftp, sum(last_touch_pipeline) as ltp,
            sum(linear_pipeline) as lnp, sum(first_touch_revenue) as ftr,
            sum(last_touch_revenue) as ltr, sum(linear_revenue) as lnr
        from marts.mart_channel_attribution
        """
    ).iloc[0]
    for model in ("ftp", "ltp", "lnp"):
        assert float(sums[model]) == pytest.approx(pipeline, rel=1e-6), model
    for model in ("ftr", "ltr", "lnr"):
        assert float(sums[model]) == pytest.approx(won, rel=1e-6), model


def test_first_touches_are_the_leads_first_engagement(truth_world):
    """Recomputed from the world: each opportunity's first engagement touch in the
    lookback window of its converted lead's person, on the activity's program channel."""
    truth = truth_world.truth.sql(
        f"""
        with opportunities as (
            select o."Id" as opportunity_id, o."CreatedDate" as created_at,
                case when o."IsWon" then o."Amount" else 0 end as won, l.person_id
            from sf_opportunity as o
            left join sf_lead as l on l."ConvertedOpportunityId" = o."Id"
            where not o."IsDeleted"
        ),
        touches as (
            select o.opportunity_id, c.channel,
                row_number() over (partition by o.opportunity_id
                    order by a.activity_date, a.id) as n
            from opportunities as o
            join mkto_lead as m on m.person_id = o.person_id
            join activities as a on a.lead_id = m.id
            join campaigns as c on c.campaign_id = a.campaign_id
            where {ENGAGEMENT}
                and a.activity_date < o.created_at
                and a.activity_date >= o.created_at - interval {LOOKBACK_DAYS} day
        )
        select o.opportunity_id, o.won, coalesce(t.channel, 'unattributed') as channel
        from opportunities as o
        left join touches as t on t.opportunity_id = o.opportunity_id and t.n = 1
        """
    )
    got = truth_world.query(
        "select sfdc_opportunity_id as opportunity_id, channel"
        " from intermediate.int_opportunity_touch_credits where touch_number = 1"
    )
    joined = truth.merge(got, on="opportunity_id", suffixes=("_truth", "_mart"), how="left")
    by_channel = truth_world.query(
        "select channel, sum(first_touch_revenue) as revenue from marts.mart_channel_attribution"
        " group by channel"
    ).set_index("channel")["revenue"]
    print(
        "first-touch won revenue (mart, truth):",
        {
            c: (float(by_channel.get(c, 0.0)), float(truth.loc[truth["channel"] == c, "won"].sum()))
            for c in sorted(set(by_channel.index) | set(truth["channel"]))
        },
    )
    assert len(got) == len(truth)
    # the sandbox misspells a few e-mails between Salesforce and Marketo (a.fujita /
    # a.fujiat), which e-mail identity cannot join: such a deal shows unattributed
    wrong = joined[joined["channel_truth"] != joined["channel_mart"]]
    assert len(wrong) <= max(2, 0.1 * len(truth)), wrong
    assert (wrong["channel_mart"] == "unattributed").all(), wrong
    # sends are not the lead's doing: e-mail is no longer most of first-touch revenue
    assert float(by_channel.get("email", 0.0)) < 0.5 * float(by_channel.sum())


# --- 6. continuous response rate ----------------------------------------------------


def _truth_sends(truth_world) -> pd.DataFrame:
    """Each delivered send and whether the lead answered that send within 7 days: a
    click on it, or a form fill in its program (the world logs the program id on it)."""
    return truth_world.truth.sql(
        f"""
        with sends as (
            select lead_id, mailing_id, campaign_id, campaign_run_id,
                min(activity_date) filter (where activity_type_id = 6) as sent_at,
                min(activity_date) filter (where activity_type_id = 7) as delivered_at
            from activities
            where mailing_id is not null
            group by all
        ),
        responses as (
            select s.lead_id, s.mailing_id, s.campaign_run_id, min(a.activity_date) as responded_at
            from sends as s
            join activities as a
                on a.lead_id = s.lead_id
                and a.activity_date between s.sent_at
                    and s.sent_at + interval {RESPONSE_DAYS} day
                and (
                    (a.activity_type_id = 11 and a.mailing_id = s.mailing_id
                        and a.campaign_run_id = s.campaign_run_id)
                    or (a.activity_type_id = 2 and a.campaign_id = s.campaign_id)
                )
            group by all
        )
        select s.lead_id as marketo_lead_id, s.mailing_id as marketo_email_id,
            s.campaign_run_id as marketo_campaign_run_id,
            s.delivered_at, r.responded_at
        from sends as s
        left join responses as r using (lead_id, mailing_id, campaign_run_id)
        where s.delivered_at is not null
        """
    )


def test_a_response_answers_its_own_send(truth_world):
    truth = _truth_sends(truth_world)
    got = truth_world.query(
        "select marketo_lead_id, marketo_email_id, marketo_campaign_run_id,"
        " is_responded_within_7_days from intermediate.int_email_sends where is_delivered"
    )
    n = len(truth)
    responded_truth = int(truth["responded_at"].notna().sum())
    responded_mart = int(got["is_responded_within_7_days"].astype(bool).sum())
    print("responded sends (mart, truth):", responded_mart, responded_truth, "of", n)
    assert abs(len(got) - n) <= max(2, 0.01 * n)
    assert within_sampling_error(responded_mart / len(got), responded_truth / n, n)
    joined = truth.merge(got, on=["marketo_lead_id", "marketo_email_id", "marketo_campaign_run_id"])
    disagree = joined[
        joined["responded_at"].notna() != joined["is_responded_within_7_days"].astype(bool)
    ]
    assert len(disagree) <= max(2, 0.01 * responded_truth), disagree.head()


def _band(rate: float) -> str:
    if rate == 0:
        return "dormant"
    if rate < 0.3:
        return "light"
    return "engaged" if rate < 0.6 else "fan"


def test_continuous_response_bands_match_the_world(truth_world):
    sends = _truth_sends(truth_world)
    sends["delivered_date"] = pd.to_datetime(sends["delivered_at"]).dt.normalize()
    sends["responded_date"] = pd.to_datetime(sends["responded_at"]).dt.normalize()
    day = max(sends["delivered_date"].max(), sends["responded_date"].max())
    window = sends[sends["delivered_date"] > day - pd.Timedelta(days=WINDOW_DAYS)]
    per_lead = window.groupby("marketo_lead_id").agg(
        delivered=("delivered_date", "size"),
        responded=("responded_date", lambda s: int((s <= day).sum())),
    )
    leads = sends["marketo_lead_id"].unique()
    truth_bands = (
        pd.Series(
            [
                _band(per_lead.loc[lead, "responded"] / per_lead.loc[lead, "delivered"])
                if lead in per_lead.index
                else "dormant"
                for lead in leads
            ]
        )
        .value_counts()
        .to_dict()
    )
    got = truth_world.query(
        f"""
        select engagement_band, count(*) as leads
        from (
            select lead_id, engagement_band,
                row_number() over (partition by lead_id order by snapshot_date desc) as n
            from marts.mart_lead_engagement
            where snapshot_date <= cast('{day.date().isoformat()}' as date)
        ) as latest
        where n = 1
        group by engagement_band
        """
    ).set_index("engagement_band")["leads"]
    total_truth, total_mart = len(leads), int(got.sum())
    print(
        "bands on",
        day.date(),
        "(mart, truth):",
        {b: (got.get(b), truth_bands.get(b)) for b in ("dormant", "light", "engaged", "fan")},
    )
    assert abs(total_mart - total_truth) <= max(2, 0.02 * total_truth)
    for band in ("dormant", "light", "engaged", "fan"):
        share_truth = truth_bands.get(band, 0) / total_truth
        share_mart = int(got.get(band, 0)) / total_mart
        assert within_sampling_error(share_mart, share_truth, total_truth), band


# --- 7. web circulation -------------------------------------------------------------


def test_web_circulation_counts_distinct_pages_beyond_the_landing_page(truth_world):
    truth = truth_world.truth.sql(
        f"""
        with views as (
            select lead_id, activity_date, id, webpage_url,
                case when lag(activity_date) over (partition by lead_id order by activity_date, id)
                    >= activity_date - interval {SESSION_GAP_MINUTES} minute then 0 else 1 end
                    as starts
            from activities where activity_type_id = 1
        ),
        numbered as (
            select *, sum(starts) over (partition by lead_id order by activity_date, id
                rows between unbounded preceding and current row) as session
            from views
        ),
        sessions as (
            select lead_id, session, min(activity_date) as started_at,
                count(distinct webpage_url) - 1 as pages_beyond
            from numbered group by all
        ),
        clicks as (
            select marketo_guid, lead_id, activity_date from activities where activity_type_id = 11
        )
        select c.marketo_guid,
            coalesce(max(s.pages_beyond), 0) >= {CIRCULATION_MIN_PAGES} as circulated
        from clicks as c
        left join sessions as s
            on s.lead_id = c.lead_id and s.started_at >= c.activity_date
            and s.started_at <= c.activity_date + interval {CIRCULATION_DAYS} day
        group by 1
        """
    )
    got = truth_world.query("select touch_id, is_circulated from marts.mart_web_circulation")
    n, circulated = len(truth), int(truth["circulated"].sum())
    print("web circulation (mart, truth):", int(got["is_circulated"].sum()), circulated, "of", n)
    assert abs(len(got) - n) <= max(2, 0.01 * n)
    assert within_sampling_error(int(got["is_circulated"].sum()) / len(got), circulated / n, n)
    # click by click: a session that only views the same pages again does not circulate
    truth["touch_id"] = truth["marketo_guid"].astype(str)
    joined = truth.merge(got, on="touch_id")
    disagree = joined[joined["circulated"].astype(bool) != joined["is_circulated"].astype(bool)]
    assert len(disagree) <= max(2, 0.01 * n), disagree.head()


# --- event performance --------------------------------------------------------------


def test_event_attendance_matches_the_world(truth_world):
    truth = truth_world.truth.sql(
        """
        with members as (
            select a.campaign_id, a.lead_id,
                bool_or(a.activity_type_id = 2 or a.new_status in
                    ('Registered', 'Attended', 'No Show', 'Visited Booth')) as registered,
                min(a.activity_date) filter (where a.new_status in ('Attended', 'Visited Booth'))
                    as attended_at
            from activities as a
            join campaigns as c on c.campaign_id = a.campaign_id
            where c.channel in ('webinar', 'events') and a.activity_type_id in (2, 104)
            group by all
        ),
        opportunities as (
            select m.id as lead_id, o."CreatedDate" as created_at
            from sf_opportunity as o
            join sf_lead as l on l."ConvertedOpportunityId" = o."Id"
            join mkto_lead as m on m.person_id = l.person_id
            where not o."IsDeleted"
        )
        select campaign_id,
            count(*) filter (where registered) as registered,
            count(attended_at) as attended,
            count(*) filter (where registered and attended_at is null) as no_show,
            count(distinct m.lead_id) filter (where o.created_at >= m.attended_at)
                as to_opportunity
        from members as m
        left join opportunities as o using (lead_id)
        group by 1
        """
    ).set_index("campaign_id")
    got = truth_world.query(
        "select marketo_program_id, registered_leads, attended_leads, no_show_leads,"
        " no_show_rate, attendees_to_mql, attendees_to_opportunity"
        " from marts.mart_event_performance"
    ).set_index("marketo_program_id")
    got.index = got.index.astype(int)
    print("events (mart):\n", got.to_string(), "\n(truth):\n", truth.to_string())
    assert set(got.index) == set(truth.index.astype(int))
    for program, row in truth.iterrows():
        mart = got.loc[int(program)]
        for ours, theirs in (
            ("registered_leads", "registered"),
            ("attended_leads", "attended"),
            ("no_show_leads", "no_show"),
            ("attendees_to_opportunity", "to_opportunity"),
        ):
            assert abs(int(mart[ours]) - int(row[theirs])) <= max(1, 0.02 * int(row[theirs])), (
                program,
                ours,
            )
        n = int(row["registered"])
        if n:
            assert within_sampling_error(float(mart["no_show_rate"]), int(row["no_show"]) / n, n)
        assert 0 <= int(mart["attendees_to_mql"]) <= int(mart["attended_leads"])
