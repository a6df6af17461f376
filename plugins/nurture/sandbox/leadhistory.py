"""Salesforce Lead field history (``LeadHistory``), as field history tracking writes it.

A Lead's creation writes one row with ``Field = 'created'`` (no values); every later
change of a tracked field (``Status``, and ``Nurture_Lead_Id__c``, the hand-off) writes
one row with the old and new value, stamped when the change was made. The rows are
read-only through the API: only the world (sales' actions, conversions, the REST writes
of the hand-off) adds them.
"""

from __future__ import annotations

import duckdb

from nurture.sandbox.sfids import sf_ids

TRACKED = ("Status", "Nurture_Lead_Id__c")
_PROBE = sf_ids("LeadHistory", [0])[0]
_NEXT = """(select coalesce(max(cast(substr("Id", 6, 10) as bigint)), 0) from sf_lead_history)"""


def id_sql(seq_sql: str) -> str:
    """SQL for the LeadHistory record id of a sequence expression."""
    return f"'{_PROBE[:5]}' || lpad(cast({seq_sql} as varchar), 10, '0') || '{_PROBE[15:]}'"


def record(con: duckdb.DuckDBPyConnection, changes_sql: str) -> int:
    """Append the history rows a query gives: columns ``lead_id, field, old_value,
    new_value, changed_at`` (rows whose old and new values are equal are skipped). Ids follow
    the highest one, in (time, lead, field) order."""
    row = con.execute(f"""
        insert into sf_lead_history
        select {id_sql(f"{_NEXT} + row_number() over (order by c.changed_at, c.lead_id, c.field)")},
            c.lead_id, c.field, c.old_value, c.new_value, c.changed_at, false
        from ({changes_sql}) as c
        where c.field = 'created' or c.old_value is distinct from c.new_value
        order by c.changed_at, c.lead_id, c.field""").fetchone()
    return int(row[0]) if row else 0
