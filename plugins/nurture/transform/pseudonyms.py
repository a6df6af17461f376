"""Keyed pseudonyms for the `bi` schema: `lead_key = HMAC-SHA256(key, lead_id)`, in hex.

`lead_id` is md5 of the person's normalised e-mail, so anyone holding an address can
compute it: published as it is, it re-identifies people. The bi views publish `lead_key`
instead, read from `pseudonyms.lead_keys (lead_id, lead_key, key_fingerprint)`, which
this step writes and nobody but the warehouse owner can read (docs/bi.md). The key
comes from `NURTURE_PSEUDONYM_KEY` or the password of the Airflow connection
`nurture_pseudonym`; it never enters SQL text, dbt, a view definition or the warehouse:
only its fingerprint (an HMAC of a constant under the key) is stored, so a rotated key
is noticed and every pseudonym recomputed in the same transaction.

The step runs before and after each dbt layer that builds bi views (`Layer.pseudonymise`:
the `bi` task of build_marts, the score-dependent task of score_and_handoff) and with
`nurture bi pseudonymise`. dbt alone only creates the empty table (model
`pseudonyms_lead_keys`), so a bare `dbt build` publishes null keys, never reversible ones.
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from nurture.config import ConfigError, Settings

log = logging.getLogger(__name__)

KEY_ENV = "NURTURE_PSEUDONYM_KEY"
KEY_CONNECTION = "nurture_pseudonym"
MIN_KEY_LENGTH = 32
SCHEMA = "pseudonyms"
TABLE = f"{SCHEMA}.lead_keys"
LEADS = "marts.dim_lead"
# `make demo` (and the tests) run on the sandbox's made-up people with this key when no
# key is configured; it is public, so pseudonyms made with it protect nothing.
DEMO_KEY = "nurture-demo-pseudonym-key--public--not-for-real-data"
_FINGERPRINT_MESSAGE = b"nurture pseudonym key fingerprint v1"
# any constant: PostgreSQL advisory lock that keeps two pseudonym steps from interleaving
_PG_LOCK = 7_413_090_215

MISSING_KEY = (
    f"No pseudonym key for the bi schema: set {KEY_ENV} (or the password of the Airflow "
    f"connection {KEY_CONNECTION}) to a random secret of at least {MIN_KEY_LENGTH} "
    "characters, e.g. the output of `openssl rand -hex 32`."
)


class PseudonymKeyError(ConfigError):
    """No pseudonym key, or one too weak to use; the message says what to set."""


@dataclass(frozen=True)
class PseudonymRun:
    leads: int  # pseudonyms in the table after the run, one per lead of dim_lead
    added: int
    removed: int  # leads no longer in dim_lead, or every pseudonym of a rotated key
    rotated: bool
    fingerprint: str

    def render(self) -> str:
        what = "key rotated: every pseudonym recomputed; " if self.rotated else ""
        return (
            f"pseudonyms: {self.leads:,} leads ({what}{self.added:,} added, "
            f"{self.removed:,} removed), key fingerprint {self.fingerprint}"
        )


def pseudonym_key(settings: Settings) -> bytes:
    """The configured key: `NURTURE_PSEUDONYM_KEY`, else the password (or extra `key`) of
    the Airflow connection `nurture_pseudonym`. Raises PseudonymKeyError without one."""
    key = settings.pseudonym_key
    if not key:
        if not _airflow_configured():
            raise PseudonymKeyError(MISSING_KEY)
        from nurture.connections import ConnectionNotFound, get_connection

        try:
            conn = get_connection(KEY_CONNECTION)
        except ConnectionNotFound:
            raise PseudonymKeyError(MISSING_KEY) from None
        key = (conn.password or str(conn.extra.get("key", ""))).strip()
        if not key:
            raise PseudonymKeyError(MISSING_KEY)
    return check_key(key)


def _airflow_configured() -> bool:
    """Whether Airflow can know the connection: inside an Airflow process, or with an
    `AIRFLOW_CONN_*` variable, a secrets backend or a metadata DB configured. Otherwise
    the seconds of importing Airflow would only end in the same "set a key" error."""
    if "airflow" in sys.modules:
        return True
    names = (
        f"AIRFLOW_CONN_{KEY_CONNECTION.upper()}",
        "AIRFLOW__SECRETS__BACKEND",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW_HOME",
    )
    return any(os.environ.get(name, "").strip() for name in names)


def check_key(key: str | bytes) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    if len(raw) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(
            f"The pseudonym key ({KEY_ENV} or the Airflow connection {KEY_CONNECTION}) has "
            f"{len(raw)} characters: use a random secret of at least {MIN_KEY_LENGTH}, e.g. "
            "the output of `openssl rand -hex 32`."
        )
    return raw


def key_fingerprint(key: bytes) -> str:
    """Tells keys apart without revealing them: an HMAC of a constant under the key."""
    return hmac.digest(key, _FINGERPRINT_MESSAGE, "sha256").hex()[:16]


def lead_keys(key: bytes, lead_ids: Iterable[str]) -> list[str]:
    """HMAC-SHA256(key, lead_id) in hex, for each lead id."""
    digest = hmac.digest
    return [digest(key, lead_id.encode(), "sha256").hex() for lead_id in lead_ids]


def create_table_sql(kind: str) -> list[str]:
    """The table as dbt's model `pseudonyms_lead_keys` creates it (whichever comes first);
    on PostgreSQL also a unique index on lead_id (DuckDB's unique indexes refuse a key
    deleted and inserted again in one transaction, which a key rotation does)."""
    statements = [
        f"create schema if not exists {SCHEMA}",
        f"create table if not exists {TABLE} "
        "(lead_id varchar, lead_key varchar, key_fingerprint varchar)",
    ]
    if kind == "postgres":
        statements.append(
            f"create unique index if not exists lead_keys_lead_id on {TABLE} (lead_id)"
        )
    return statements


def pseudonymise(settings: Settings, key: str | bytes | None = None) -> PseudonymRun:
    """Bring `pseudonyms.lead_keys` in line with `marts.dim_lead` under the key: a
    pseudonym for every new lead, none for leads gone, all recomputed if the key changed.
    One transaction: the bi views show the old pseudonyms or the new, never a mix."""
    import pandas as pd

    from nurture.warehouse import get_warehouse

    raw_key = check_key(key) if key is not None else pseudonym_key(settings)
    if raw_key == DEMO_KEY.encode():
        log.warning("pseudonyms: the public demo key is in use; set %s for real data", KEY_ENV)
    fingerprint = key_fingerprint(raw_key)
    warehouse = get_warehouse(settings)
    if not warehouse.table_exists(LEADS):
        raise ConfigError(
            f"{LEADS} does not exist yet: build the marts first (the build_marts DAG, or "
            "`nurture demo`), then pseudonymise."
        )
    with warehouse.transaction() as session:
        if warehouse.kind == "postgres":
            session.execute("select pg_advisory_xact_lock(?)", [_PG_LOCK])
        for statement in create_table_sql(warehouse.kind):
            session.execute(statement)
        before = session.scalar(f"select count(*) from {TABLE}")
        stale = session.scalar(
            f"select count(*) from {TABLE} where key_fingerprint is distinct from ?", [fingerprint]
        )
        rotated = bool(stale)
        if rotated:
            # another key made (some of) them: recompute every pseudonym under this one
            session.execute(f"delete from {TABLE}")
        else:
            session.execute(
                f"delete from {TABLE} where lead_id not in "
                f"(select lead_id from {LEADS} where lead_id is not null)"
            )
        kept = session.scalar(f"select count(*) from {TABLE}")
        missing = [
            lead_id
            for (lead_id,) in session.rows(
                f"select distinct leads.lead_id from {LEADS} as leads "
                "where leads.lead_id is not null and not exists "
                f"(select 1 from {TABLE} as keyed where keyed.lead_id = leads.lead_id)"
            )
        ]
        frame = pd.DataFrame(
            {
                "lead_id": pd.Series(missing, dtype=object),
                "lead_key": pd.Series(lead_keys(raw_key, missing), dtype=object),
                "key_fingerprint": pd.Series([fingerprint] * len(missing), dtype=object),
            }
        )
        added = session.insert_frame(TABLE, frame)
    run = PseudonymRun(
        leads=kept + added,
        added=added,
        removed=before - kept,
        rotated=rotated,
        fingerprint=fingerprint,
    )
    log.info("%s", run.render())
    return run
