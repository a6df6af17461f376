{{ config(schema='marts', materialized='table') }}

{#-
    MetricFlow's day time spine (semantic layer, docs/metrics.md): one row per day from
    2015 through 2040, on DuckDB and PostgreSQL alike (generate_series over timestamps).
    Plain ratio and sum metrics never read it; MetricFlow joins it for metrics over
    windows or offsets and for filling days without data.
-#}

with

days as (

    select cast(series.day_start as date) as date_day

    from generate_series(
        cast('2015-01-01' as timestamp),
        cast('2040-12-31' as timestamp),
        interval '1 day'
    ) as series (day_start)

)

select * from days
