with

stage_history as (

    select * from {{ ref('int_lifecycle_stage_history') }}

),

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

-- a spell still open is measured up to the newest SFA change loaded (the SFA's clock,
-- as the funnel's SLA is)
data_as_of as (

    select max(updated_at) as as_of_at

    from salesforce_leads

),

-- consecutive entries of the same stage (say a scoring run and the hand-off, both
-- MQL) are one spell: a spell starts where the stage differs from the entry before
marked as (

    select
        lead_id,
        stage,
        stage_order,
        is_funnel_stage,
        source_event,
        entered_at,
        stage_sequence,
        case
            when lag(stage) over (partition by lead_id order by stage_sequence) = stage then 0
            else 1
        end as starts_spell

    from stage_history

),

numbered as (

    select
        *,
        sum(starts_spell) over (
            partition by lead_id
            order by stage_sequence
            rows between unbounded preceding and current row
        ) as spell_number

    from marked

),

spells as (

    select
        lead_id,
        spell_number,
        min(stage) as stage,
        min(stage_order) as stage_order,
        bool_or(is_funnel_stage) as is_funnel_stage,
        min(entered_at) as entered_at,
        min(case when starts_spell = 1 then source_event end) as entered_by

    from numbered
    group by
        lead_id,
        spell_number

),

sequenced as (

    select
        spells.*,
        lead(stage) over (partition by lead_id order by spell_number) as next_stage,
        lead(stage_order) over (partition by lead_id order by spell_number) as next_stage_order,
        lead(entered_at) over (partition by lead_id order by spell_number) as left_at

    from spells

),

final as (

    select
        {{ dbt.hash(dbt.concat(["lead_id", "'|'", "cast(spell_number as " ~ dbt.type_string() ~ ")"])) }}
            as stage_spell_id,
        cast(lead_id as {{ dbt.type_string() }}) as lead_id,
        cast(spell_number as bigint) as spell_number,
        cast(stage as {{ dbt.type_string() }}) as stage,
        cast(stage_order as integer) as stage_order,
        cast(is_funnel_stage as boolean) as is_funnel_stage,
        cast(entered_by as {{ dbt.type_string() }}) as entered_by,
        cast(entered_at as timestamp) as entered_at,
        cast(left_at as timestamp) as left_at,
        cast(left_at is null as boolean) as is_current,
        cast(next_stage as {{ dbt.type_string() }}) as next_stage,
        cast(
            case
                when left_at is null then 'current'
                when next_stage in ('recycled', 'disqualified', 'closed_lost') then 'exited'
                when next_stage_order > stage_order then 'advanced'
                else 'returned'
            end as {{ dbt.type_string() }}
        ) as ended_by,
        cast(
            {{ sales_hours_between('entered_at', 'left_at') }} / 24.0 as double precision
        ) as days_in_stage,
        -- an open spell up to the latest SFA load (never negative)
        cast(
            case
                when left_at is not null then {{ sales_hours_between('entered_at', 'left_at') }} / 24.0
                when data_as_of.as_of_at >= entered_at
                    then {{ sales_hours_between('entered_at', 'data_as_of.as_of_at') }} / 24.0
                else 0.0
            end as double precision
        ) as days_in_stage_to_date

    from sequenced
    cross join data_as_of

)

select * from final
