{#-
    Fails for every combination of the given columns that occurs more than once
    (our own small version, no package download needed).
-#}
{% test unique_combination_of_columns(model, columns) %}

with

combinations as (

    select
        {{ columns | join(',\n        ') }},
        count(*) as row_count

    from {{ model }}
    group by
        {{ columns | join(',\n        ') }}

),

final as (

    select * from combinations
    where row_count > 1

)

select * from final

{% endtest %}
