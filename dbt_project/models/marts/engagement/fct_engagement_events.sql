{{
    config(
        materialized='incremental',
        unique_key='event_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook=[
            "{{ drop_superseded_file_touches() }}",
        ],
    )
}}

{%- set lookback_days = var('engagement_lookback_days') | int -%}

with

activities as (

    select * from {{ ref('int_activities_classified') }}

),

marketo_lead_keys as (

    select * from {{ ref('int_marketo_lead_people') }}

),

-- people met in person (dropped files): few, so every build takes them all
file_touches as (

    select * from {{ ref('int_file_touches') }}

),

{% if is_incremental() %}

existing_events as (

    select
        event_id,
        marketo_lead_id,
        lead_id,
        occurred_at,
        loaded_at

    from {{ this }}

),

-- new data: rows from loads newer than the newest one in the table (one source's
-- loads never overlap, so nothing committed later can carry an older load time);
-- and, for the rare event a source reports late with an old load time, whatever
-- happened within the lookback window before the newest event
watermarks as (

    select
        {{ dbt.dateadd('day', -lookback_days, 'max(occurred_at)') }} as occurred_after,
        max(loaded_at) as loaded_after

    from existing_events

),

-- identity changed (new or merged e-mail, lead arrived after its activities):
-- re-key every event of those Marketo leads
rekeyed_leads as (

    select distinct
        existing_events.marketo_lead_id

    from existing_events
    left join marketo_lead_keys
        on existing_events.marketo_lead_id = marketo_lead_keys.marketo_lead_id
    where existing_events.lead_id is distinct from marketo_lead_keys.lead_id

),

{% endif %}

joined as (

    select
        activities.marketo_activity_guid as event_id,
        marketo_lead_keys.lead_id,
        activities.marketo_lead_id,
        'marketo' as source_system,
        cast(activities.marketo_campaign_id as {{ dbt.type_string() }}) as campaign_id,
        activities.channel,
        activities.activity_type,
        activities.is_engagement_touch,
        activities.marketo_activity_type_id,
        activities.primary_attribute_value,
        activities.marketo_email_id,
        activities.variant,
        activities.program_status,
        activities.link_url,
        activities.webpage_url,
        activities.occurred_at,
        activities.occurred_date,
        activities.loaded_at

    from activities
    left join marketo_lead_keys
        on activities.marketo_lead_id = marketo_lead_keys.marketo_lead_id
    where
        activities.is_touch
        {%- if is_incremental() %}
        and (
            activities.occurred_at >= (select occurred_after from watermarks)
            or activities.loaded_at > (select loaded_after from watermarks)
            or (select occurred_after from watermarks) is null
            or activities.marketo_lead_id in (select marketo_lead_id from rekeyed_leads)
        )
        {%- endif %}

),

file_joined as (

    select
        event_id,
        lead_id,
        cast(null as bigint) as marketo_lead_id,
        source_system,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        channel,
        activity_type,
        is_engagement_touch,
        cast(null as bigint) as marketo_activity_type_id,
        event_name as primary_attribute_value,
        cast(null as bigint) as marketo_email_id,
        cast(null as {{ dbt.type_string() }}) as variant,
        cast(null as {{ dbt.type_string() }}) as program_status,
        cast(null as {{ dbt.type_string() }}) as link_url,
        cast(null as {{ dbt.type_string() }}) as webpage_url,
        occurred_at,
        occurred_date,
        loaded_at

    from file_touches

),

unioned as (

    select * from joined

    union all

    select * from file_joined

),

final as (

    select
        event_id,
        lead_id,
        marketo_lead_id,
        source_system,
        campaign_id,
        channel,
        activity_type,
        is_engagement_touch,
        marketo_activity_type_id,
        primary_attribute_value,
        marketo_email_id,
        variant,
        program_status,
        link_url,
        webpage_url,
        occurred_at,
        occurred_date,
        loaded_at

    from unioned

)

select * from final
