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

program_statuses as (

    select * from {{ ref('marketo_program_statuses') }}

),

programs as (

    select * from {{ ref('stg_marketo__programs') }}

),

-- the program an activity lives in: its Program ID attribute, the program whose status
-- a status change (104) sets (its primary attribute), else the campaign id (the
-- sandbox, like a set-up with one smart campaign per program, logs the program id
-- there). Marketo activities carry no channel of their own.
activity_programs as (

    select
        activities.*,
        coalesce(
            activities.marketo_program_id,
            case when activities.marketo_activity_type_id = 104 then activities.primary_attribute_value_id end,
            activities.marketo_campaign_id
        ) as resolved_program_id

    from activities

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
        activities.resolved_program_id as marketo_program_id,
        coalesce(activities.program_channel, programs.program_channel) as program_channel,
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
        -- the nine nurturing channels (docs/design.md): the channel of the activity's
        -- program wins for activity types that live in a program (page visits, form
        -- fills, link clicks, program statuses); an attribute naming the channel on
        -- the activity itself comes first when a source sends one;
        -- otherwise the activity type's own channel; types not in the seed are
        -- kept as 'other' (a warning test lists them) rather than dropped
        case
            when activity_types.activity_type_id is null
                then 'other'
            when activity_types.use_program_channel and activity_channels.channel is not null
                then activity_channels.channel
            when activity_types.use_program_channel and program_channels.channel is not null
                then program_channels.channel
            when activity_types.channel is not null
                then activity_types.channel
            else 'other'
        end as channel,
        coalesce(activity_types.is_touch, true) as is_touch,
        -- something the lead did (seeds marketo_activity_types, marketo_program_statuses;
        -- docs/kpis.md): the touches attribution credits
        coalesce(activity_types.is_touch, false)
        and coalesce(activity_types.is_engagement_touch, false)
        and (
            activities.marketo_activity_type_id <> 104
            or coalesce(program_statuses.is_engagement_touch, false)
        ) as is_engagement_touch

    from activity_programs as activities
    left join activity_types
        on activities.marketo_activity_type_id = activity_types.activity_type_id
    left join programs
        on activities.resolved_program_id = programs.marketo_program_id
    left join program_channels as activity_channels
        on lower(trim(activities.program_channel)) = activity_channels.program_channel
    left join program_channels
        on lower(trim(programs.program_channel)) = program_channels.program_channel
    left join program_statuses
        on lower(trim(activities.program_status)) = program_statuses.program_status

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
        is_engagement_touch,
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
