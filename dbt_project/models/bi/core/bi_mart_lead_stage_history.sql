{{ config(alias='mart_lead_stage_history') }}

with

source_mart as (

    select * from {{ ref('mart_lead_stage_history') }}

),

-- lead_id is Nurture's opaque person key (bi.dim_lead carries it too): no personal data
final as (

    select
        stage_spell_id,
        lead_id,
        spell_number,
        stage,
        stage_order,
        is_funnel_stage,
        entered_by,
        entered_at,
        left_at,
        is_current,
        next_stage,
        ended_by,
        days_in_stage,
        days_in_stage_to_date

    from source_mart

)

select * from final
