{#-
    Shared pieces of the staging models (one model per raw table).

    dlt_load_columns(): loaded_at and dlt_load_id, the lineage every staging row keeps.
-#}
{% macro dlt_load_columns() -%}
    {{ dlt_loaded_at('_dlt_load_id') }} as loaded_at,
        cast(_dlt_load_id as {{ dbt.type_string() }}) as dlt_load_id
{%- endmacro %}


{#-
    version_rank(key_columns, updated_at='updated_at'): 1 for the latest version of a
    record. Loads overlap (watermark lookback, re-read pages, whole re-reads), so the
    same key arrives more than once: the newest source change wins, then the newest
    load. Pass updated_at=none when the source has no change time.
-#}
{% macro version_rank(key_columns, updated_at='updated_at') -%}
    {%- set keys = [key_columns] if key_columns is string else key_columns -%}
    row_number() over (
            partition by {{ keys | join(', ') }}
            order by {% if updated_at %}{{ updated_at }} desc nulls last, {% endif %}dlt_load_id desc
        )
{%- endmacro %}


{#-
    regexp_capture(expr, pattern): the first capture group of pattern in expr, null
    when it does not match (DuckDB regexp_extract gives '' instead, hence the nullif).
-#}
{% macro regexp_capture(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_capture', 'nurture')(expr, pattern)) }}
{%- endmacro %}

{% macro default__regexp_capture(expr, pattern) -%}
    nullif(regexp_extract({{ expr }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro postgres__regexp_capture(expr, pattern) -%}
    nullif(substring({{ expr }} from '{{ pattern }}'), '')
{%- endmacro %}


{#-
    key_value(expr, key, value_pattern='[^;]*'): the value of `key=value` in a
    "k1=v1; k2=v2" string (Marketo e-mail descriptions), trimmed; null when absent.
-#}
{% macro key_value(expr, key, value_pattern='[^;]*') -%}
    nullif(trim({{ regexp_capture(expr, '(?:^|;)\\s*' ~ key ~ '\\s*=\\s*(' ~ value_pattern ~ ')') }}), '')
{%- endmacro %}


{#-
    sfdc_audit_columns(column_names, deletable=true): the columns every Salesforce
    object carries: IsDeleted as is_deleted (queryAll brings deleted records; they
    stay as soft deletes), CreatedDate, SystemModstamp (the sync cursor, read directly
    so that its absence fails loudly) and the dlt load. User has no IsDeleted.
-#}
{% macro sfdc_audit_columns(column_names, deletable=true) -%}
    {%- if deletable -%}
        coalesce(cast(is_deleted as boolean), false) as is_deleted,
    {% endif -%}
        {{ to_utc_timestamp(optional_column(column_names, 'created_date', 'timestamp with time zone')) }} as created_at,
        {{ to_utc_timestamp('system_modstamp') }} as updated_at,
        {{ dlt_load_columns() }}
{%- endmacro %}
