{%- set gap_minutes = var('web_session_gap_minutes') | int -%}

with

activities as (

    select * from {{ ref('int_activities_classified') }}

),

marketo_lead_keys as (

    select * from {{ ref('int_marketo_lead_people') }}

),

-- page views: Marketo "Visit Webpage" (1) and views of personalised content
page_views as (

    select
        marketo_activity_guid,
        marketo_lead_id,
        marketo_campaign_id,
        channel,
        webpage_url,
        coalesce(query_parameters, nullif({{ dbt.split_part('webpage_url', "'?'", 2) }}, '')) as query_parameters,
        referrer_url,
        occurred_at,
        loaded_at

    from activities
    where activity_type in ('visit_webpage', 'view_personalized_content')

),

-- a page view more than web_session_gap_minutes after the previous one opens a session
flagged as (

    select
        *,
        case
            when
                lag(occurred_at) over (
                    partition by marketo_lead_id
                    order by occurred_at, marketo_activity_guid
                ) >= {{ dbt.dateadd('minute', -gap_minutes, 'occurred_at') }}
                then 0
            else 1
        end as is_session_start

    from page_views

),

numbered as (

    select
        *,
        sum(is_session_start) over (
            partition by marketo_lead_id
            order by occurred_at, marketo_activity_guid
            rows between unbounded preceding and current row
        ) as session_number,
        row_number() over (
            partition by marketo_lead_id
            order by occurred_at, marketo_activity_guid
        ) as page_view_number

    from flagged

),

sessions as (

    select
        marketo_lead_id,
        session_number,
        min(occurred_at) as session_started_at,
        max(occurred_at) as session_ended_at,
        count(*) as page_view_count,
        count(distinct {{ dbt.split_part('webpage_url', "'?'", 1) }}) as distinct_page_count,
        min(page_view_number) as first_page_view_number,
        max(loaded_at) as last_loaded_at

    from numbered
    group by
        marketo_lead_id,
        session_number

),

landing_pages as (

    select
        sessions.marketo_lead_id,
        sessions.session_number,
        sessions.session_started_at,
        sessions.session_ended_at,
        sessions.page_view_count,
        sessions.distinct_page_count,
        sessions.last_loaded_at,
        numbered.marketo_activity_guid as landing_activity_guid,
        numbered.marketo_campaign_id,
        numbered.channel,
        {{ dbt.split_part('numbered.webpage_url', "'?'", 1) }} as landing_page_url,
        numbered.query_parameters,
        numbered.referrer_url

    from sessions
    inner join numbered
        on
            sessions.marketo_lead_id = numbered.marketo_lead_id
            and sessions.first_page_view_number = numbered.page_view_number

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "cast(landing_pages.marketo_lead_id as " ~ dbt.type_string() ~ ")",
            "':'",
            "landing_pages.landing_activity_guid",
        ])) }} as web_session_id,
        marketo_lead_keys.lead_id,
        landing_pages.marketo_lead_id,
        landing_pages.session_number,
        landing_pages.session_started_at,
        landing_pages.session_ended_at,
        {{ dbt.datediff('landing_pages.session_started_at', 'landing_pages.session_ended_at', 'second') }}
            as session_duration_seconds,
        landing_pages.page_view_count,
        -- ウェブ回遊: the distinct pages (query string dropped) other than the landing
        -- page; a page viewed twice, or the landing page viewed again, adds nothing
        landing_pages.distinct_page_count - 1 as pages_beyond_landing_count,
        landing_pages.distinct_page_count,
        landing_pages.landing_activity_guid,
        landing_pages.landing_page_url,
        landing_pages.query_parameters as landing_query_parameters,
        {{ regexp_capture('landing_pages.query_parameters', '(?:^|&)utm_source=([^&]*)') }} as utm_source,
        {{ regexp_capture('landing_pages.query_parameters', '(?:^|&)utm_medium=([^&]*)') }} as utm_medium,
        {{ regexp_capture('landing_pages.query_parameters', '(?:^|&)utm_campaign=([^&]*)') }} as utm_campaign,
        landing_pages.referrer_url as landing_referrer_url,
        cast(landing_pages.marketo_campaign_id as {{ dbt.type_string() }}) as landing_campaign_id,
        landing_pages.channel as landing_channel,
        landing_pages.last_loaded_at

    from landing_pages
    left join marketo_lead_keys
        on landing_pages.marketo_lead_id = marketo_lead_keys.marketo_lead_id

)

select * from final
