{{ config(alias='mart_campaign_performance') }}

with

campaign_performance as (

    select * from {{ ref('mart_campaign_performance') }}

),

-- aggregates only: every column of the mart
final as (

    select
        campaign_send_key,
        campaign_variant_key,
        campaign_id,
        marketo_email_id,
        marketo_campaign_run_id,
        variant,
        creative_id,
        content_type,
        first_sent_at,
        send_date,
        recipients,
        sent,
        delivered,
        bounces,
        hard_bounces,
        opens,
        unique_opens,
        clicks,
        unique_clicks,
        unsubscribes,
        responses_within_7_days,
        bounce_rate,
        open_rate,
        click_through_rate,
        click_to_open_rate,
        unsubscribe_rate,
        response_rate

    from campaign_performance

)

select * from final
