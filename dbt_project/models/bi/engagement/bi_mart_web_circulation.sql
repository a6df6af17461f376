{{ config(alias='mart_web_circulation') }}

with

touches as (

    select * from {{ ref('mart_web_circulation') }}

),

-- the keyed pseudonym of each lead (as in bi.dim_lead; null until Nurture's pseudonym
-- step has run, and while the Marketo lead has not been loaded)
lead_keys as (

    select
        lead_id,
        lead_key

    from {{ ref('pseudonyms_lead_keys') }}

),

-- per lead: lead_key only (no lead_id, no Marketo lead id); links already cut before the
-- query string
final as (

    select
        touches.touch_id,
        lead_keys.lead_key,
        touches.email_send_id,
        touches.campaign_id,
        touches.campaign_variant_key,
        touches.variant,
        touches.channel,
        touches.activity_type,
        touches.link_url,
        touches.clicked_at,
        touches.clicked_date,
        touches.sessions_within_window,
        touches.page_views_within_window,
        touches.max_pages_beyond_landing,
        touches.is_circulated,
        touches.campaign_web_circulation_rate,
        touches.campaign_pages_per_touched_lead

    from touches
    left join lead_keys
        on touches.lead_id = lead_keys.lead_id

)

select * from final
