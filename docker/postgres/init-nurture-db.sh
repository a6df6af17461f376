#!/bin/bash
# Runs once, when the postgres service initialises an empty data volume (the image runs
# /docker-entrypoint-initdb.d/* then): creates the Nurture warehouse database next to
# Airflow's metadata database, owned by the same user. Idempotent.
set -euo pipefail

db="${NURTURE_PG_DATABASE:-nurture}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=db="$db" --set=owner="$POSTGRES_USER" <<'SQL'
select format('create database %I owner %I', :'db', :'owner')
where not exists (select from pg_database where datname = :'db')
\gexec
SQL
