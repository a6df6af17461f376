with

activities as (

    select * from {{ ref('stg_marketo__activities') }}

),

activity_types as (

    select * from {{ ref('marketo_activity_types') }}

),

program_channels as (

    select * from {{ ref('marketo_program_channels') }}

),

classified as (

    select
        activities.marketo_activity_guid,
        activities.marketo_activity_id,
        activities.marketo_lead_id,
        activities.marketo_activity_type_id,
        activities.marketo_campaign_id,
        activities.primary_attribute_value_id,
        activities.primary_attribute_value,
        activities.marketo_email_id,
        activities.link_url,
        activities.webpage_url,
        activities.referrer_url,
        activities.query_parameters,
        activities.form_name,
        activities.variant,
        activities.marketo_campaign_run_id,
        activities.marketo_program_id,
        activities.program_channel,
        activities.program_status,
        activities.bounce_category,
        activities.occurred_at,
        activities.occurred_date,
        activities.loaded_at,
        activity_types.activity_type_id is not null as is_known_activity_type,
        coalesce(
            activity_types.activity_type,
            'marketo_activity_type_' || cast(activities.marketo_activity_type_id as {{ dbt.type_string() }})
        ) as activity_type,
        activity_types.activity_type_name,
        -- the nine nurturing channels (DESIGN.md): the program's channel wins for
        -- activity types that live in any program (page visits, form fills,
        -- program statuses);
        -- otherwise the activity type's own channel; types not in the seed are
        -- kept as 'other' (a warning test lists them) rather than dropped
        case
            when activity_types.activity_type_id is null
                then 'other'
            when activity_types.use_program_channel and program_channels.channel is not null
                then program_channels.channel
            when activity_types.channel is not null
                then activity_types.channel
            else 'other'
        end as channel,
        coalesce(activity_types.is_touch, true) as is_touch

    from activities
    left join activity_types
        on activities.marketo_activity_type_id = activity_types.activity_type_id
    left join program_channels
        on lower(trim(activities.program_channel)) = program_channels.program_channel

),

final as (

    select
        marketo_activity_guid,
        marketo_activity_id,
        marketo_lead_id,
        marketo_activity_type_id,
        marketo_campaign_id,
        activity_type,
        activity_type_name,
        channel,
        is_touch,
        is_known_activity_type,
        primary_attribute_value_id,
        primary_attribute_value,
        marketo_email_id,
        link_url,
        webpage_url,
        referrer_url,
        query_parameters,
        form_name,
        variant,
        marketo_campaign_run_id,
        marketo_program_id,
        program_channel,
        program_status,
        bounce_category,
        occurred_at,
        occurred_date,
        loaded_at

    from classified

)

select * from final
