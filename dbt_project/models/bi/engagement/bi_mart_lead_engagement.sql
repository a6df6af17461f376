{{ config(alias='mart_lead_engagement') }}

with

lead_engagement as (

    select * from {{ ref('mart_lead_engagement') }}

),

-- the keyed pseudonym of each lead (as in bi.dim_lead; null until Nurture's pseudonym
-- step has run)
lead_keys as (

    select
        lead_id,
        lead_key

    from {{ ref('pseudonyms_lead_keys') }}

),

-- per lead: lead_key only (no lead_id, e-mail or name); load lineage dropped
final as (

    select
        lead_keys.lead_key,
        lead_engagement.snapshot_date,
        lead_engagement.delivered_sends_in_window,
        lead_engagement.responded_sends_in_window,
        lead_engagement.continuous_response_rate,
        lead_engagement.engagement_band,
        lead_engagement.lifetime_delivered_sends

    from lead_engagement
    left join lead_keys
        on lead_engagement.lead_id = lead_keys.lead_id

)

select * from final
