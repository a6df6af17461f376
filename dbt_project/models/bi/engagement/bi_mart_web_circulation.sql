{{ config(alias='mart_web_circulation') }}

with

touches as (

    select * from {{ ref('mart_web_circulation') }}

),

-- per lead: lead_id only (no Marketo lead id); links already cut before the query string
final as (

    select
        touch_id,
        lead_id,
        email_send_id,
        campaign_id,
        campaign_variant_key,
        variant,
        channel,
        activity_type,
        link_url,
        clicked_at,
        clicked_date,
        sessions_within_window,
        page_views_within_window,
        max_pages_beyond_landing,
        is_circulated,
        campaign_web_circulation_rate,
        campaign_pages_per_touched_lead

    from touches

)

select * from final
