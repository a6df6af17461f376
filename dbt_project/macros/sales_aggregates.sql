{#-
    sales_median(expr): the median of expr in a group (docs/design.md, "The marts": mart_funnel).
    PostgreSQL has the ordered-set aggregate only; DuckDB has median().
-#}
{% macro sales_median(expr) -%}
    {{ return(adapter.dispatch('sales_median', 'nurture')(expr)) }}
{%- endmacro %}

{% macro default__sales_median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro postgres__sales_median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}


{#-
    sales_hours_between(start_at, end_at): elapsed hours as a fraction (seconds / 3600),
    so SLA checks and day medians are not rounded to calendar boundaries.
-#}
{% macro sales_hours_between(start_at, end_at) -%}
    cast({{ dbt.datediff(start_at, end_at, 'second') }} as double precision) / 3600.0
{%- endmacro %}


{#-
    sales_safe_divide(numerator, denominator): numerator / denominator as double, null
    when the denominator is 0 or null.
-#}
{% macro sales_safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif(cast({{ denominator }} as double precision), 0)
{%- endmacro %}


{#-
    Generic test sales_credits_sum_to_amount: per group (an opportunity), each credit
    column sums to the amount (within a cent). Fails with the groups that do not.
-#}
{% test sales_credits_sum_to_amount(model, group_by, amount_column, credit_columns) %}

with

credits as (

    select
        {{ group_by }},
        max({{ amount_column }}) as amount,
        {%- for column in credit_columns %}
        sum({{ column }}) as {{ column }}_total{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ model }}
    group by {{ group_by }}

)

select *
from credits
where
    {%- for column in credit_columns %}
    abs(coalesce({{ column }}_total, 0) - coalesce(amount, 0)) > 0.01{{ ' or' if not loop.last }}
    {%- endfor %}

{% endtest %}
