{{ config(
    schema='pseudonyms',
    alias='lead_keys',
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    grants={'select': []} if target.type == 'postgres' else {},
) }}

{#-
    pseudonyms.lead_keys: lead_key = HMAC-SHA256(key, lead_id) per lead, written by
    Nurture's pseudonym step (nurture.transform.pseudonyms), never by dbt: the key is
    not in SQL. dbt only creates the table empty, so the bi views can be built before
    the first pseudonymisation; full_refresh=false keeps the pseudonyms across
    `--full-refresh`. On PostgreSQL the grants config grants nobody and revokes any
    select granted by hand: only the warehouse owner reads it (the bi views read it as
    their owner).
-#}

select
    cast(null as varchar) as lead_id,
    cast(null as varchar) as lead_key,
    cast(null as varchar) as key_fingerprint

where 1 = 0
