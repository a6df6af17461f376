{#-
    dlt creates a raw column only once some record carries a value for it: an
    attribute no activity has yet, or a property that is empty in every record so
    far, is simply missing (schema drift, docs/contracts.md). Staging therefore reads
    optional columns through these macros and compiles whether or not they exist;
    keys and cursor timestamps are read directly so that their absence fails loudly.

    relation_column_names(relation): lower-case column names of a relation (empty
    at parse time).
    optional_column(column_names, column_name, data_type): the column cast to
    data_type when present, else a typed null.
-#}
{% macro relation_column_names(relation) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro optional_column(column_names, column_name, data_type) -%}
    {%- if column_name | lower in column_names -%}
        cast({{ adapter.quote(column_name | lower) }} as {{ data_type }})
    {%- else -%}
        cast(null as {{ data_type }})
    {%- endif -%}
{%- endmacro %}

{#-
    optional_text(column_names, column_name, lower=false): an optional text column
    trimmed (and lower-cased when asked), null when empty: dlt loads "" for fields
    the source leaves blank, and staging should not tell the two apart.
-#}
{% macro optional_text(column_names, column_name, lower=false) -%}
    {%- set value = 'trim(' ~ optional_column(column_names, column_name, dbt.type_string()) ~ ')' -%}
    nullif({{ 'lower(' ~ value ~ ')' if lower else value }}, '')
{%- endmacro %}

{#-
    source_or_empty(source_name, table_name, columns): the source table, or, when it has
    not been created yet, an empty relation with `columns` ({name: type}). Dropped-file
    kinds each get their table on their first import: a trade-show list alone leaves
    raw_files.business_cards missing, and the models reading it must still build.
-#}
{% macro source_or_empty(source_name, table_name, columns) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (select
        {%- for name, data_type in columns.items() %}
            cast(null as {{ data_type }}) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
        {%- endfor %}
        where 1 = 0) as {{ table_name }}_not_loaded_yet
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
