"""The Slack target: one notice per owner and day listing the owner's new MQLs.

Exactly once, although an incoming webhook has no idempotency key:

1. Before posting, one transaction writes the notice to `ops.slack_notices` as
   `sending` and binds its entries to it (their delivery rows `sending`, external id =
   notice id). The notice id is `<day>:<owner>:<n>` and its text carries
   `nurture-notice:<id>`.
2. After Slack answers 200, one transaction marks the notice `sent` and its entries
   `delivered`. A send Slack surely refused (4xx, or 429/5xx/no connection on every
   attempt) marks the notice `failed` and its entries pending again: nothing went out.
3. A notice still `sending` on the next run was cut short after the request may have
   left. If the connection has a `verify_url` (the sandbox's message log; for a real
   workspace, a reader of the channel's history), the run looks for the marker: found,
   the notice is `sent`; not found, the same notice (same id, same entries) is posted
   again. Without a way to look, the notice becomes `unconfirmed` and is **not** sent
   again: at-most-once. A second notice is worse than a missing one here, because the
   lead and its Task are already in Salesforce (the system of record) and in the CSV
   feed, while a duplicate notice makes reps distrust every notice; the run logs each
   unconfirmed notice so an operator can check the channel.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import UTC, date, datetime

from nurture.connectors.slack import AmbiguousSend, SendFailed, SlackWebhook
from nurture.escaping import mrkdwn
from nurture.handoff.checkpoints import checkpoint
from nurture.handoff.outbox import Delivery, Entry, record, record_in
from nurture.handoff.schema import ensure_tables
from nurture.handoff.targets import TargetResult
from nurture.warehouse import Warehouse

log = logging.getLogger(__name__)

TARGET = "slack"
MARKER = "nurture-notice:"
LISTED = 50  # leads listed in one notice; the rest are counted
NO_OWNER = "unassigned"


def notice_text(notice_id: str, owner_name: str, day: date, entries: list[Entry]) -> str:
    # names, companies and reasons are lead data: escaped, so `<!channel>` or a
    # `<http://evil|click here>` link in a form field reaches Slack as plain text
    lines = [
        f"*{len(entries)} new MQL{'s' if len(entries) != 1 else ''} for {mrkdwn(owner_name)}* "
        f"({day.isoformat()})"
    ]
    for e in entries[:LISTED]:
        company = f" — {mrkdwn(e.company_name)}" if e.company_name else ""
        reasons = mrkdwn("; ".join(e.reasons[:3]))
        lines.append(
            f"• {mrkdwn(e.display_name)}{company} [{mrkdwn(e.lead_id)}], grade {e.grade}, "
            f"score {e.score:.0f}: {reasons}"
        )
    if len(entries) > LISTED:
        lines.append(f"… and {len(entries) - LISTED} more in the CSV feed")
    lines.append(f"_{MARKER}{notice_id}_")
    return "\n".join(lines)


def _set_notice(warehouse: Warehouse, notice_id: str, status: str) -> None:
    with warehouse.transaction() as session:
        session.execute(
            "update ops.slack_notices set status = ?, sent_at = ? where notice_id = ?",
            [status, datetime.now(UTC) if status == "sent" else None, notice_id],
        )


def _finish(warehouse: Warehouse, notice_id: str, entries: list[Entry], status: str) -> None:
    now = datetime.now(UTC)
    entry_status = {"sent": "delivered", "unconfirmed": "unconfirmed", "failed": "pending"}
    record(
        warehouse,
        TARGET,
        [
            Delivery(
                e.lead_id,
                e.cycle,
                entry_status[status],
                detail=f"notice {notice_id} {status}",
                external_id=notice_id,
                delivered_at=now if status != "failed" else None,
            )
            for e in entries
        ],
    )
    _set_notice(warehouse, notice_id, status)


def _post(
    warehouse: Warehouse,
    webhook: SlackWebhook,
    notice_id: str,
    owner_name: str,
    day: date,
    entries: list[Entry],
) -> None:
    try:
        webhook.post({"text": notice_text(notice_id, owner_name, day, entries)})
    except SendFailed:
        _finish(warehouse, notice_id, entries, "failed")
        raise
    checkpoint("slack:posted")
    _finish(warehouse, notice_id, entries, "sent")


def _resolve_sending(
    warehouse: Warehouse, webhook: SlackWebhook, entries: list[Entry], day: date
) -> int:
    """Settle the notices an interrupted run left `sending`; returns entries delivered."""
    bound: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        if e.status == "sending" and e.external_id:
            bound[e.external_id].append(e)
    if not bound:
        return 0
    posted = webhook.posted_texts()
    delivered = 0
    for notice_id, group in sorted(bound.items()):
        if posted is None:
            log.warning("Slack notice %s may have been sent; not sending it again", notice_id)
            _finish(warehouse, notice_id, group, "unconfirmed")
        elif any(f"{MARKER}{notice_id}_" in text for text in posted):
            _finish(warehouse, notice_id, group, "sent")
        else:
            _post(warehouse, webhook, notice_id, group[0].owner_name or NO_OWNER, day, group)
        delivered += len(group)
    return delivered


def deliver(
    warehouse: Warehouse, webhook: SlackWebhook, entries: list[Entry], day: date
) -> TargetResult:
    result = TargetResult(TARGET)
    started = time.monotonic()
    try:
        result.delivered += _resolve_sending(warehouse, webhook, entries, day)
        fresh = [e for e in entries if e.status != "sending"]
        by_owner: dict[str, list[Entry]] = defaultdict(list)
        for e in fresh:
            by_owner[e.owner_id or NO_OWNER].append(e)
        for owner_id, group in sorted(by_owner.items()):
            notice_id = _open_notice(warehouse, day, owner_id, group)
            _post(warehouse, webhook, notice_id, group[0].owner_name or NO_OWNER, day, group)
            result.delivered += len(group)
    except (SendFailed, AmbiguousSend) as exc:
        result.error = f"Slack: {exc}"
        result.pending = len(entries) - result.delivered
    result.requests = webhook.requests
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _open_notice(warehouse: Warehouse, day: date, owner_id: str, group: list[Entry]) -> str:
    """Write the notice `sending` and bind its entries, in one transaction."""
    now = datetime.now(UTC)
    with warehouse.transaction() as session:
        ensure_tables(session)
        n = session.scalar(
            "select count(*) from ops.slack_notices where notice_date = ? and owner_id = ?",
            [day, owner_id],
        )
        notice_id = f"{day.isoformat()}:{owner_id}:{int(n) + 1}"
        session.execute(
            "insert into ops.slack_notices (notice_id, notice_date, owner_id, status, "
            "lead_count, created_at) values (?, ?, ?, 'sending', ?, ?)",
            [notice_id, day, owner_id, len(group), now],
        )
        record_in(
            session,
            TARGET,
            [
                Delivery(
                    e.lead_id,
                    e.cycle,
                    "sending",
                    detail=f"notice {notice_id} sending",
                    external_id=notice_id,
                    idempotency_key=e.key,
                    attempt=True,
                )
                for e in group
            ],
        )
    return notice_id
