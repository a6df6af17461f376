-- the person each Marketo lead resolved to: the key that attaches activities to people
with

lead_records as (

    select * from {{ ref('int_lead_records_unioned') }}

),

final as (

    select
        marketo_lead_id,
        lead_id

    from lead_records
    where source_system = 'marketo'

)

select * from final
