"""The Salesforce target: a Lead upsert by external id plus one Task per outbox entry.

The Lead is upserted by `Nurture_Lead_Id__c` (or by `Id` when the person already has a
Salesforce lead Nurture never flagged), so re-sending it never creates a second lead.
Task has no external id field, so the Task is made idempotent in two phases: the
delivery row is written `pending` with the entry's key (`nurture-mql:<lead>:<cycle>`)
before any call; the key is the Task Description's first line; before creating Tasks
for a batch, the target looks up the Nurture Tasks already on those leads (SOQL on
`WhoId` and `Subject`, the key read from `Description`) and creates only the missing
ones. A crash anywhere therefore repeats at most the lead upsert, never the Task.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from nurture.connectors.http import ApiError
from nurture.connectors.salesforce import COLLECTION_LIMIT, SalesforceClient, soql_id_list
from nurture.handoff.checkpoints import checkpoint
from nurture.handoff.outbox import Delivery, Entry, record, refused, start_attempt
from nurture.handoff.owners import SalesUser
from nurture.handoff.targets import TargetResult, chunks
from nurture.warehouse import Warehouse

log = logging.getLogger(__name__)

TARGET = "salesforce"
EXTERNAL_ID = "Nurture_Lead_Id__c"
LEAD_STATUS = "Open - Not Contacted"
TASK_SUBJECT = "Nurture MQL"
TASK_DUE_DAYS = 1  # the task is due the next day: the MQL -> SAL SLA's first action


def active_users(client: SalesforceClient) -> list[SalesUser]:
    soql = "SELECT Id, Name, Email FROM User WHERE IsActive = true ORDER BY Id"
    return [
        SalesUser(id=str(r["Id"]), email=str(r.get("Email") or ""), name=str(r.get("Name") or ""))
        for page in client.query(soql)
        for r in page
    ]


def lead_record(entry: Entry, by_id: bool) -> dict[str, Any]:
    record: dict[str, Any] = {
        EXTERNAL_ID: entry.lead_id,
        "Status": LEAD_STATUS,
        "OwnerId": entry.owner_id,
        "Nurture_Score__c": round(float(entry.score), 2),
        "Nurture_Grade__c": entry.grade,
    }
    if by_id:
        return {"Id": entry.sfdc_lead_id, **record}
    email = entry.email or ""
    return {
        **record,
        "LastName": entry.last_name or email.split("@")[0] or entry.lead_id,
        "FirstName": entry.first_name,
        "Company": entry.company_name or email.partition("@")[2] or "(unknown)",
        "Email": entry.email,
        "Title": entry.job_title,
    }


def task_record(entry: Entry, lead_sfid: str, today: datetime) -> dict[str, Any]:
    reasons = "\n".join(f"- {r}" for r in entry.reasons) or "- (no reasons recorded)"
    company = f" ({entry.company_name})" if entry.company_name else ""
    return {
        "WhoId": lead_sfid,
        "Subject": f"{TASK_SUBJECT}: {entry.display_name}{company}"[:255],
        "Description": f"{entry.key}\nGrade {entry.grade}, score {entry.score:.0f}.\n"
        f"Top reasons:\n{reasons}",
        "Status": "Not Started",
        "Priority": "High" if entry.grade.upper().startswith("A") else "Normal",
        "ActivityDate": (today + timedelta(days=TASK_DUE_DAYS)).date().isoformat(),
        "OwnerId": entry.owner_id,
    }


def _errors(result: dict[str, Any]) -> str:
    return (
        "; ".join(
            f"{e.get('statusCode', '')}: {e.get('message', '')}" for e in result.get("errors") or []
        )
        or "refused without a reason"
    )


def existing_tasks(client: SalesforceClient, lead_sfids: list[str]) -> dict[str, str]:
    """The Nurture Tasks already on these leads: idempotency key -> Task Id."""
    if not lead_sfids:
        return {}
    ids = soql_id_list(lead_sfids)
    soql = (
        f"SELECT Id, Description FROM Task WHERE WhoId IN ({ids}) "
        f"AND Subject LIKE '{TASK_SUBJECT}:%'"
    )
    found = {}
    for page in client.query(soql):
        for task in page:
            key = (task.get("Description") or "").split("\n", 1)[0].strip()
            if key.startswith("nurture-mql:"):
                found.setdefault(key, str(task["Id"]))
    return found


def deliver(warehouse: Warehouse, client: SalesforceClient, entries: list[Entry]) -> TargetResult:
    result = TargetResult(TARGET)
    started = time.monotonic()
    ready = [e for e in entries if e.owner_id]
    result.pending = len(entries) - len(ready)  # no owner yet: wait for the assignment
    try:
        for batch in chunks(ready, COLLECTION_LIMIT):
            _deliver_batch(warehouse, client, list(batch), result)
    except ApiError as exc:
        result.error = f"Salesforce: {exc}"
        result.pending = len(entries) - result.delivered - result.refused
    result.requests = client.http.stats.requests
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _deliver_batch(
    warehouse: Warehouse, client: SalesforceClient, batch: list[Entry], result: TargetResult
) -> None:
    start_attempt(warehouse, TARGET, batch)
    now = datetime.now(UTC)
    changes: list[Delivery] = []
    upserted: list[tuple[Entry, str]] = []
    for by_id in (True, False):
        group = [e for e in batch if bool(e.sfdc_lead_id and not e.is_converted) == by_id]
        if not group:
            continue
        records = [lead_record(e, by_id) for e in group]
        answers = client.upsert_collection("Lead", "Id" if by_id else EXTERNAL_ID, records)
        for entry, answer in zip(group, answers, strict=True):
            if answer.get("success"):
                upserted.append((entry, str(answer["id"])))
            else:
                changes.append(refused(entry, f"Lead: {_errors(answer)}"))
    checkpoint("salesforce:leads")
    tasks = existing_tasks(client, [sfid for _, sfid in upserted])
    missing = [(e, sfid) for e, sfid in upserted if e.key not in tasks]
    if missing:
        answers = client.create_collection("Task", [task_record(e, s, now) for e, s in missing])
        for (entry, _), answer in zip(missing, answers, strict=True):
            if answer.get("success"):
                tasks[entry.key] = str(answer["id"])
            else:
                changes.append(refused(entry, f"Task: {_errors(answer)}"))
    checkpoint("salesforce:tasks")
    for entry, sfid in upserted:
        if entry.key in tasks:
            changes.append(
                Delivery(
                    entry.lead_id,
                    entry.cycle,
                    "delivered",
                    detail=f"owner {entry.owner_id} ({entry.owner_rule})",
                    external_id=sfid,
                    task_id=tasks[entry.key],
                    delivered_at=now,
                )
            )
    record(warehouse, TARGET, changes)
    result.delivered += sum(c.status == "delivered" for c in changes)
    result.refused += sum(c.status != "delivered" for c in changes)
