with

activities as (

    select * from {{ ref('int_activities_classified') }}

),

programs as (

    select * from {{ ref('stg_marketo__programs') }}

),

program_channels as (

    select * from {{ ref('marketo_program_channels') }}

),

marketo_lead_keys as (

    select * from {{ ref('int_marketo_lead_people') }}

),

funnel as (

    select * from {{ ref('int_lead_funnel_stages') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_attributed') }}

),

-- webinar and event programs (their Marketo channel mapped to the nine channels)
event_programs as (

    select
        programs.marketo_program_id,
        programs.program_name,
        programs.program_type,
        program_channels.channel,
        programs.started_at,
        programs.launch_date

    from programs
    inner join program_channels
        on lower(trim(programs.program_channel)) = program_channels.program_channel
    where program_channels.channel in ('webinar', 'events')

),

-- what each person did in those programs: a registration (the Registered status or
-- a form fill in the program), an attendance (Attended, Attended On-demand, Visited
-- Booth) or a no-show; the person is the dim_lead lead, else the Marketo lead
program_actions as (

    select
        activities.marketo_program_id,
        coalesce(
            marketo_lead_keys.lead_id,
            'marketo:' || cast(activities.marketo_lead_id as {{ dbt.type_string() }})
        ) as person_key,
        marketo_lead_keys.lead_id,
        case
            when activities.activity_type = 'fill_out_form' then 'registered'
            when lower(trim(activities.program_status)) = 'registered' then 'registered'
            when lower(trim(activities.program_status)) in ('attended', 'attended on-demand', 'visited booth')
                then 'attended'
            when lower(trim(activities.program_status)) = 'no show' then 'no_show'
        end as action,
        activities.occurred_at

    from activities
    inner join event_programs
        on activities.marketo_program_id = event_programs.marketo_program_id
    left join marketo_lead_keys
        on activities.marketo_lead_id = marketo_lead_keys.marketo_lead_id
    where
        activities.activity_type = 'fill_out_form'
        or activities.activity_type = 'change_status_in_progression'

),

-- one row per program x person; attending implies having registered
members as (

    select
        marketo_program_id,
        person_key,
        max(lead_id) as lead_id,
        min(case when action = 'attended' then occurred_at end) as attended_at,
        max(case when action in ('registered', 'attended', 'no_show') then 1 else 0 end) as is_registered,
        max(case when action = 'attended' then 1 else 0 end) as is_attended

    from program_actions
    where action is not null
    group by
        marketo_program_id,
        person_key

),

-- attendees who became MQL, and who got an opportunity (as its lead: converted, or a
-- contact role of the opportunity, int_opportunities_attributed), after attending
attendee_outcomes as (

    select
        members.marketo_program_id,
        members.person_key,
        max(case when funnel.mql_at >= members.attended_at then 1 else 0 end) as is_mql_after,
        max(case when opportunities.created_at >= members.attended_at then 1 else 0 end)
            as is_opportunity_after

    from members
    left join funnel
        on members.lead_id = funnel.lead_id
    left join opportunities
        on
            members.lead_id = opportunities.lead_id
            and not opportunities.is_deleted
    where members.is_attended = 1
    group by
        members.marketo_program_id,
        members.person_key

),

aggregated as (

    select
        members.marketo_program_id,
        sum(members.is_registered) as registered_leads,
        sum(members.is_attended) as attended_leads,
        sum(case when members.is_registered = 1 and members.is_attended = 0 then 1 else 0 end) as no_show_leads,
        sum(coalesce(attendee_outcomes.is_mql_after, 0)) as attendees_to_mql,
        sum(coalesce(attendee_outcomes.is_opportunity_after, 0)) as attendees_to_opportunity

    from members
    left join attendee_outcomes
        on
            members.marketo_program_id = attendee_outcomes.marketo_program_id
            and members.person_key = attendee_outcomes.person_key
    group by members.marketo_program_id

),

final as (

    select
        cast(event_programs.marketo_program_id as {{ dbt.type_string() }}) as campaign_id,
        event_programs.marketo_program_id,
        event_programs.program_name,
        event_programs.program_type,
        event_programs.channel,
        event_programs.started_at,
        event_programs.launch_date,
        cast(coalesce(aggregated.registered_leads, 0) as bigint) as registered_leads,
        cast(coalesce(aggregated.attended_leads, 0) as bigint) as attended_leads,
        cast(coalesce(aggregated.no_show_leads, 0) as bigint) as no_show_leads,
        {{ stats_round(stats_ratio('aggregated.attended_leads', 'aggregated.registered_leads'), 6) }}
            as attendance_rate,
        {{ stats_round(stats_ratio('aggregated.no_show_leads', 'aggregated.registered_leads'), 6) }}
            as no_show_rate,
        cast(coalesce(aggregated.attendees_to_mql, 0) as bigint) as attendees_to_mql,
        {{ stats_round(stats_ratio('aggregated.attendees_to_mql', 'aggregated.attended_leads'), 6) }}
            as attendee_mql_rate,
        cast(coalesce(aggregated.attendees_to_opportunity, 0) as bigint) as attendees_to_opportunity,
        {{ stats_round(stats_ratio('aggregated.attendees_to_opportunity', 'aggregated.attended_leads'), 6) }}
            as attendee_opportunity_rate

    from event_programs
    left join aggregated
        on event_programs.marketo_program_id = aggregated.marketo_program_id

)

select * from final
