"""The HubSpot target: the contact's lifecycle stage becomes `marketingqualifiedlead` and
its lead status `OPEN`, by batch upsert on e-mail (100 per call). An upsert sets the same
values however often it runs, so re-runs and crashes are harmless."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from nurture.connectors.http import ApiError
from nurture.connectors.hubspot import BATCH_LIMIT, HubSpotClient
from nurture.handoff.outbox import Delivery, Entry, record, refused, start_attempt
from nurture.handoff.targets import TargetResult, chunks
from nurture.warehouse import Warehouse

TARGET = "hubspot"
PROPERTIES = {"lifecyclestage": "marketingqualifiedlead", "hs_lead_status": "OPEN"}


def deliver(warehouse: Warehouse, client: HubSpotClient, entries: list[Entry]) -> TargetResult:
    result = TargetResult(TARGET)
    started = time.monotonic()
    no_email = [
        refused(e, "no e-mail address to match a contact on") for e in entries if not e.email
    ]
    record(warehouse, TARGET, no_email)
    result.refused += len(no_email)
    try:
        for batch in chunks([e for e in entries if e.email], BATCH_LIMIT):
            start_attempt(warehouse, TARGET, batch)
            inputs = [{"id": e.email, "properties": PROPERTIES} for e in batch]
            body = client.batch_upsert("contacts", "email", inputs)
            now = datetime.now(UTC)
            ids = {
                str((r.get("properties") or {}).get("email", "")).strip().lower(): str(r["id"])
                for r in body.get("results") or []
            }
            errors = "; ".join(str(e.get("message", "")) for e in body.get("errors") or [])
            changes = []
            for entry in batch:
                contact = ids.get(str(entry.email).strip().lower())
                if contact:
                    changes.append(
                        Delivery(
                            entry.lead_id,
                            entry.cycle,
                            "delivered",
                            detail="lifecyclestage=marketingqualifiedlead",
                            external_id=contact,
                            delivered_at=now,
                        )
                    )
                else:
                    changes.append(refused(entry, errors or "no contact in the answer"))
            record(warehouse, TARGET, changes)
            result.delivered += sum(c.status == "delivered" for c in changes)
            result.refused += sum(c.status != "delivered" for c in changes)
    except ApiError as exc:
        result.error = f"HubSpot: {exc}"
        result.pending = len(entries) - result.delivered - result.refused
    result.requests = client.http.stats.requests
    result.seconds = round(time.monotonic() - started, 3)
    return result
