{%- set circulation_days = var('web_circulation_days') | int -%}
{%- set min_pages = var('web_circulation_min_pages') | int -%}

with

activities as (

    select * from {{ ref('int_activities_classified') }}

),

email_sends as (

    select * from {{ ref('int_email_sends') }}

),

web_sessions as (

    select * from {{ ref('int_web_sessions') }}

),

-- touches: campaign clicks (e-mail clicks and the other channels' click types)
clicks as (

    select
        marketo_activity_guid,
        marketo_lead_id,
        marketo_email_id,
        marketo_campaign_run_id,
        coalesce(marketo_program_id, marketo_campaign_id) as marketo_program_id,
        channel,
        activity_type,
        link_url,
        occurred_at

    from activities
    where
        activity_type in (
            'click_email',
            'click_retargeting_ad',
            'click_personalized_call_to_action',
            'click_shared_link'
        )

),

-- an e-mail click takes its send's campaign; other clicks the activity's program
-- (the sandbox, like a set-up with one smart campaign per program, logs the
-- program id as the campaign id)
attributed as (

    select
        clicks.marketo_activity_guid,
        clicks.marketo_lead_id,
        email_sends.lead_id as send_lead_id,
        email_sends.email_send_id,
        case
            when clicks.marketo_email_id is not null then email_sends.campaign_id
            else cast(clicks.marketo_program_id as {{ dbt.type_string() }})
        end as campaign_id,
        email_sends.campaign_variant_key,
        email_sends.variant,
        clicks.channel,
        clicks.activity_type,
        clicks.link_url,
        clicks.occurred_at

    from clicks
    left join email_sends
        on
            clicks.marketo_lead_id = email_sends.marketo_lead_id
            and clicks.marketo_email_id = email_sends.marketo_email_id
            and (
                clicks.marketo_campaign_run_id = email_sends.marketo_campaign_run_id
                or (clicks.marketo_campaign_run_id is null and email_sends.marketo_campaign_run_id is null)
            )

),

-- ウェブ回遊 (docs/kpis.md): a session that starts within web_circulation_days after the
-- click with at least web_circulation_min_pages page views beyond its landing page
followed as (

    select
        attributed.marketo_activity_guid,
        count(web_sessions.web_session_id) as session_count,
        coalesce(sum(web_sessions.page_view_count), 0) as page_views,
        max(web_sessions.pages_beyond_landing_count) as max_pages_beyond_landing,
        max(web_sessions.lead_id) as session_lead_id

    from attributed
    left join web_sessions
        on
            attributed.marketo_lead_id = web_sessions.marketo_lead_id
            and web_sessions.session_started_at >= attributed.occurred_at
            and web_sessions.session_started_at
            <= {{ dbt.dateadd('day', circulation_days, 'attributed.occurred_at') }}
    group by attributed.marketo_activity_guid

),

joined as (

    select
        attributed.marketo_activity_guid as touch_id,
        coalesce(attributed.send_lead_id, followed.session_lead_id) as lead_id,
        attributed.marketo_lead_id,
        attributed.email_send_id,
        attributed.campaign_id,
        attributed.campaign_variant_key,
        attributed.variant,
        attributed.channel,
        attributed.activity_type,
        {{ dbt.split_part('attributed.link_url', "'?'", 1) }} as link_url,
        attributed.occurred_at as clicked_at,
        cast(attributed.occurred_at as date) as clicked_date,
        followed.session_count,
        followed.page_views,
        coalesce(followed.max_pages_beyond_landing, 0) as max_pages_beyond_landing,
        coalesce(followed.max_pages_beyond_landing, 0) >= {{ min_pages }} as is_circulated

    from attributed
    inner join followed
        on attributed.marketo_activity_guid = followed.marketo_activity_guid

),

-- the campaign's rate and pages per touched lead, repeated on each of its touches
campaign_rates as (

    select
        campaign_id,
        avg(case when is_circulated then 1.0 else 0.0 end) as web_circulation_rate,
        {{ stats_ratio('sum(page_views)', 'count(distinct marketo_lead_id)') }} as pages_per_touched_lead

    from joined
    group by campaign_id

),

final as (

    select
        joined.touch_id,
        joined.lead_id,
        joined.marketo_lead_id,
        joined.email_send_id,
        joined.campaign_id,
        joined.campaign_variant_key,
        joined.variant,
        joined.channel,
        joined.activity_type,
        joined.link_url,
        joined.clicked_at,
        joined.clicked_date,
        cast(joined.session_count as bigint) as sessions_within_window,
        cast(joined.page_views as bigint) as page_views_within_window,
        cast(joined.max_pages_beyond_landing as bigint) as max_pages_beyond_landing,
        joined.is_circulated,
        {{ stats_round('campaign_rates.web_circulation_rate', 6) }} as campaign_web_circulation_rate,
        {{ stats_round('campaign_rates.pages_per_touched_lead', 6) }} as campaign_pages_per_touched_lead

    from joined
    inner join campaign_rates
        on joined.campaign_id is not distinct from campaign_rates.campaign_id

)

select * from final
