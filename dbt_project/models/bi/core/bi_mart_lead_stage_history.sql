{{ config(alias='mart_lead_stage_history') }}

with

source_mart as (

    select * from {{ ref('mart_lead_stage_history') }}

),

-- the keyed pseudonym of each lead (as in bi.dim_lead; null until Nurture's pseudonym
-- step has run)
lead_keys as (

    select
        lead_id,
        lead_key

    from {{ ref('pseudonyms_lead_keys') }}

),

-- the lead only as lead_key: lead_id and the mart's stage_spell_id (a hash of lead_id)
-- can be computed from a known e-mail, so the spell's key is a hash of lead_key instead
final as (

    select
        case
            when lead_keys.lead_key is not null
                then {{ dbt.hash(dbt.concat([
                    "lead_keys.lead_key",
                    "'|'",
                    "cast(source_mart.spell_number as " ~ dbt.type_string() ~ ")",
                ])) }}
        end as stage_spell_key,
        lead_keys.lead_key,
        source_mart.spell_number,
        source_mart.stage,
        source_mart.stage_order,
        source_mart.is_funnel_stage,
        source_mart.entered_by,
        source_mart.entered_at,
        source_mart.left_at,
        source_mart.is_current,
        source_mart.next_stage,
        source_mart.ended_by,
        source_mart.days_in_stage,
        source_mart.days_in_stage_to_date

    from source_mart
    left join lead_keys
        on source_mart.lead_id = lead_keys.lead_id

)

select * from final
