{{ config(alias='mart_event_performance') }}

with

programs as (

    select * from {{ ref('mart_event_performance') }}

),

-- per program: counts and rates only, no person
final as (

    select
        campaign_id,
        marketo_program_id,
        program_name,
        program_type,
        channel,
        started_at,
        launch_date,
        registered_leads,
        attended_leads,
        no_show_leads,
        attendance_rate,
        no_show_rate,
        attendees_to_mql,
        attendee_mql_rate,
        attendees_to_opportunity,
        attendee_opportunity_rate

    from programs

)

select * from final
