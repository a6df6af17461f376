{{ config(alias='mart_lead_engagement') }}

with

lead_engagement as (

    select * from {{ ref('mart_lead_engagement') }}

),

-- per lead: lead_id only (dim_lead's hashed key), no e-mail or name; load lineage dropped
final as (

    select
        lead_id,
        snapshot_date,
        delivered_sends_in_window,
        responded_sends_in_window,
        continuous_response_rate,
        engagement_band,
        lifetime_delivered_sends

    from lead_engagement

)

select * from final
