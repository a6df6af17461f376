{{ config(alias='mart_segment_response') }}

with

segment_response as (

    select * from {{ ref('mart_segment_response') }}

),

-- aggregates only: every column of the mart
final as (

    select
        segment_response_key,
        engagement_band,
        content_type,
        send_month,
        leads,
        delivered,
        unique_clicks,
        unsubscribes,
        click_through_rate,
        unsubscribe_rate,
        sends_per_lead

    from segment_response

)

select * from final
