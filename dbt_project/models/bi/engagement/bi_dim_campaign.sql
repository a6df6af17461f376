{{ config(alias='dim_campaign') }}

with

campaigns as (

    select * from {{ ref('dim_campaign') }}

),

-- no personal data: every column of the mart
final as (

    select
        campaign_variant_key,
        campaign_id,
        marketo_program_id,
        campaign_name,
        program_type,
        program_channel,
        channel,
        content_type,
        marketo_email_id,
        email_name,
        subject,
        variant,
        creative_id,
        is_email,
        is_ab_test,
        launched_at,
        launch_date

    from campaigns

)

select * from final
