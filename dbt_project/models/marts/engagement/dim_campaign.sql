with

programs as (

    select * from {{ ref('stg_marketo__programs') }}

),

emails as (

    select * from {{ ref('stg_marketo__emails') }}

),

program_channels as (

    select * from {{ ref('marketo_program_channels') }}

),

classified_programs as (

    select
        programs.marketo_program_id,
        programs.program_name,
        programs.program_type,
        programs.program_channel,
        -- the nine nurturing channels (docs/design.md); unmapped program channels are 'other'
        coalesce(program_channels.channel, 'other') as channel,
        lower(programs.content_type) as content_type,
        programs.started_at,
        programs.launch_date

    from programs
    left join program_channels
        on lower(trim(programs.program_channel)) = program_channels.program_channel

),

-- each e-mail asset is one variant of its program (A/B tests send one asset per variant)
email_variants as (

    select
        {{ engagement_campaign_variant_key('emails.marketo_email_id', 'emails.marketo_program_id') }}
            as campaign_variant_key,
        emails.marketo_program_id,
        classified_programs.program_name,
        classified_programs.program_type,
        classified_programs.program_channel,
        coalesce(classified_programs.channel, 'email') as channel,
        coalesce(emails.content_type, classified_programs.content_type) as content_type,
        emails.marketo_email_id,
        emails.email_name,
        emails.subject,
        coalesce(emails.variant, 'none') as variant,
        emails.creative_id,
        true as is_email,
        coalesce(classified_programs.started_at, emails.created_at) as launched_at

    from emails
    left join classified_programs
        on emails.marketo_program_id = classified_programs.marketo_program_id

),

-- a program without e-mails (webinar, event, social, ...) is one row, variant 'none'
program_rows as (

    select
        {{ engagement_campaign_variant_key('cast(null as bigint)', 'classified_programs.marketo_program_id') }}
            as campaign_variant_key,
        classified_programs.marketo_program_id,
        classified_programs.program_name,
        classified_programs.program_type,
        classified_programs.program_channel,
        classified_programs.channel,
        classified_programs.content_type,
        cast(null as bigint) as marketo_email_id,
        cast(null as {{ dbt.type_string() }}) as email_name,
        cast(null as {{ dbt.type_string() }}) as subject,
        'none' as variant,
        cast(null as bigint) as creative_id,
        false as is_email,
        classified_programs.started_at as launched_at

    from classified_programs
    where not exists (
        select 1
        from emails
        where emails.marketo_program_id = classified_programs.marketo_program_id
    )

),

unioned as (

    select * from email_variants
    union all
    select * from program_rows

),

-- an A/B test: the program sends two or more lettered variants
program_variant_counts as (

    select
        marketo_program_id,
        count(distinct variant) as lettered_variant_count

    from email_variants
    where variant <> 'none' and marketo_program_id is not null
    group by marketo_program_id

),

final as (

    select
        unioned.campaign_variant_key,
        cast(unioned.marketo_program_id as {{ dbt.type_string() }}) as campaign_id,
        unioned.marketo_program_id,
        unioned.program_name as campaign_name,
        unioned.program_type,
        unioned.program_channel,
        unioned.channel,
        unioned.content_type,
        unioned.marketo_email_id,
        unioned.email_name,
        unioned.subject,
        unioned.variant,
        unioned.creative_id,
        unioned.is_email,
        coalesce(program_variant_counts.lettered_variant_count, 0) >= 2 as is_ab_test,
        unioned.launched_at,
        cast(unioned.launched_at as date) as launch_date

    from unioned
    left join program_variant_counts
        on unioned.marketo_program_id = program_variant_counts.marketo_program_id

)

select * from final
