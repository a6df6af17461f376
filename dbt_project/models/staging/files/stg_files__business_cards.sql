{#- one row per data row of a business-card export file; body shared with the other file kinds -#}
{{ stg_file_rows('business_cards') }}
