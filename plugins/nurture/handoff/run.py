"""The handoff run: assign owners, then deliver the outbox to each target.

Each target runs on its own: one that fails leaves its entries pending and the others
still deliver; `run_handoff` then raises `HandoffFailed` with one line per target, so
the run is red and says what is left. Re-running delivers what is pending, nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from nurture.config import Settings
from nurture.connections import ApiConnection, get_connection
from nurture.handoff.targets import TargetResult
from nurture.progress import NO_PROGRESS, Progress
from nurture.warehouse import get_warehouse

log = logging.getLogger(__name__)

TARGETS = ("salesforce", "hubspot", "csv_feed", "slack")
CONN_IDS = {
    "salesforce": "salesforce_default",
    "hubspot": "hubspot_default",
    "slack": "slack_default",
}


class HandoffFailed(RuntimeError):
    """Some MQLs were not delivered; the message lists each target's outcome."""

    def __init__(self, message: str, results: list[TargetResult]) -> None:
        super().__init__(message)
        self.results = results


@dataclass
class HandoffSummary:
    assigned: dict[str, int] = field(default_factory=dict)
    results: list[TargetResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"assigned": self.assigned, "targets": [r.as_dict() for r in self.results]}


def _conn(target: str, connections: Mapping[str, ApiConnection] | None) -> ApiConnection:
    if connections and target in connections:
        return connections[target]
    return get_connection(CONN_IDS[target])


def assign(settings: Settings, connections: Mapping[str, ApiConnection] | None = None) -> dict:
    """Give every new outbox entry its owner (active Salesforce users, owner rules)."""
    from nurture.connectors.salesforce import SalesforceClient
    from nurture.handoff.owners import assign_owners
    from nurture.handoff.salesforce import active_users

    client = SalesforceClient(_conn("salesforce", connections))
    try:
        users = active_users(client)
    finally:
        client.close()
    return assign_owners(get_warehouse(settings), users)


def deliver_target(
    settings: Settings,
    target: str,
    day: date,
    connections: Mapping[str, ApiConnection] | None = None,
) -> TargetResult:
    """Deliver every pending entry to one target; never raises for the target's failures."""
    from nurture.handoff import feed
    from nurture.handoff.outbox import pending_entries

    warehouse = get_warehouse(settings)
    if target == "csv_feed":
        return feed.deliver(settings, day)
    entries = pending_entries(warehouse, target)
    if target == "salesforce":
        from nurture.connectors.salesforce import SalesforceClient
        from nurture.handoff import salesforce

        client = SalesforceClient(_conn(target, connections))
        try:
            return salesforce.deliver(warehouse, client, entries)
        finally:
            client.close()
    if target == "hubspot":
        from nurture.connectors.hubspot import HubSpotClient
        from nurture.handoff import hubspot

        client = HubSpotClient(_conn(target, connections))
        try:
            return hubspot.deliver(warehouse, client, entries)
        finally:
            client.close()
    if target == "slack":
        from nurture.connectors.slack import SlackWebhook
        from nurture.handoff import slack

        webhook = SlackWebhook(_conn(target, connections))
        try:
            return slack.deliver(warehouse, webhook, entries, day)
        finally:
            webhook.close()
    raise ValueError(f"unknown handoff target {target!r}; choose from {', '.join(TARGETS)}")


def check(results: Iterable[TargetResult]) -> None:
    """Raise `HandoffFailed` unless every target delivered everything."""
    results = list(results)
    if all(r.ok for r in results):
        return
    lines = "; ".join(r.line() for r in results)
    raise HandoffFailed(f"MQL handoff incomplete, re-run to deliver the rest: {lines}", results)


def run_handoff(
    settings: Settings,
    day: date,
    targets: Iterable[str] = TARGETS,
    connections: Mapping[str, ApiConnection] | None = None,
    progress: Progress = NO_PROGRESS,
) -> HandoffSummary:
    """Assign owners and deliver to every target; raise `HandoffFailed` if any fell short.
    `progress` is told the target being delivered to, then each target's outcome."""
    targets = list(targets)
    summary = HandoffSummary()
    progress.update("handoff", "handoff: assigning owners", completed=0, total=len(targets))
    try:
        summary.assigned = assign(settings, connections)
    except Exception as exc:  # a target's own error is reported below; go on to the rest
        log.error("owner assignment failed: %s", exc)
        summary.results.append(TargetResult("owners", error=f"owner assignment: {exc}"))
    for done, target in enumerate(targets):
        progress.update("handoff", f"handoff: delivering to {target}", completed=done)
        result = deliver_target(settings, target, day, connections)
        log.info("handoff %s", result.line())
        progress.done(f"handoff.{target}", f"  {result.line()}")
        summary.results.append(result)
    delivered = sum(r.delivered for r in summary.results)
    progress.update("handoff", completed=len(targets))
    progress.done("handoff", f"handoff: {delivered:,} delivered to {len(targets)} targets")
    check(summary.results)
    return summary
