{{ config(alias='fct_engagement_events') }}

with

events as (

    select * from {{ ref('fct_engagement_events') }}

),

-- the keyed pseudonym of each lead (as in bi.dim_lead; null until Nurture's pseudonym
-- step has run, and for an activity whose Marketo lead was never loaded)
lead_keys as (

    select
        lead_id,
        lead_key

    from {{ ref('pseudonyms_lead_keys') }}

),

-- the lead only as lead_key (lead_id can be computed from a known e-mail); links can
-- carry personal data in their query strings: BI gets the path only
final as (

    select
        events.event_id,
        lead_keys.lead_key,
        events.source_system,
        events.campaign_id,
        events.channel,
        events.activity_type,
        events.primary_attribute_value,
        events.marketo_email_id,
        events.variant,
        events.program_status,
        {{ dbt.split_part('events.link_url', "'?'", 1) }} as link_url,
        {{ dbt.split_part('events.webpage_url', "'?'", 1) }} as webpage_url,
        events.occurred_at,
        events.occurred_date

    from events
    left join lead_keys
        on events.lead_id = lead_keys.lead_id

)

select * from final
