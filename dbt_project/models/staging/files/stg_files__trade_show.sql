{#- one row per data row of a trade-show list file; body shared with the other file kinds -#}
{{ stg_file_rows('trade_show') }}
