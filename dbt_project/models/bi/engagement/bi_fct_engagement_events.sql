{{ config(alias='fct_engagement_events') }}

with

events as (

    select * from {{ ref('fct_engagement_events') }}

),

-- links can carry personal data in their query strings: BI gets the path only
final as (

    select
        event_id,
        lead_id,
        source_system,
        campaign_id,
        channel,
        activity_type,
        primary_attribute_value,
        marketo_email_id,
        variant,
        program_status,
        {{ dbt.split_part('link_url', "'?'", 1) }} as link_url,
        {{ dbt.split_part('webpage_url', "'?'", 1) }} as webpage_url,
        occurred_at,
        occurred_date

    from events

)

select * from final
