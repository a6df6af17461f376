{#-
    drop_superseded_file_touches(): fct_engagement_events' post-hook. A file touch is
    keyed by the row that stands for it (int_file_touches); when people merge or a
    file is re-imported another row may stand for the same visit, and delete+insert
    alone would keep the old key beside the new one. Every build takes all file
    touches, so whatever file touch is not among them now is superseded.
-#}
{% macro drop_superseded_file_touches() -%}
delete from {{ this }}
where source_system in ('trade_show', 'business_card', 'imported_activity')
    and event_id not in (select event_id from {{ ref('int_file_touches') }})
{%- endmacro %}
