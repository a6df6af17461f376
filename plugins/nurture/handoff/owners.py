"""Owner rules: which sales rep gets a new MQL (`include/handoff/owners.yaml`).

Assignments are made once per outbox entry and stored in `ops.mql_assignments`; every
target reads the stored owner, so a re-run or a changed rules file never moves a lead
that was already handed over.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from nurture.config import INCLUDE_DIR
from nurture.handoff.outbox import _clean
from nurture.handoff.schema import ensure_tables
from nurture.warehouse import Warehouse
from nurture.yamlconfig import load_yaml_model

log = logging.getLogger(__name__)

OWNERS_PATH = INCLUDE_DIR / "handoff" / "owners.yaml"
MATCH_KEYS = ("industry", "size_band", "seniority", "department", "email_domain_suffix")
KEEP_RULE = "existing_owner"
ROUND_ROBIN_RULE = "round_robin"

UNASSIGNED_SQL = """
select o.lead_id, o.cycle, o.created_at, coalesce(o.email, l.email) as email,
       l.industry, l.size_band, l.seniority, l.department, l.sfdc_owner_id
from ops.mql_outbox as o
left join marts.dim_lead as l on l.lead_id = o.lead_id
where not exists (select 1 from ops.mql_assignments as a
                  where a.lead_id = o.lead_id and a.cycle = o.cycle)
order by o.created_at, o.lead_id, o.cycle
"""


class OwnerRulesError(ValueError):
    """The owner rules file is invalid; the message gives the file, line and field."""


class Territory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    match: dict[str, list[str]]
    owners: list[str] = Field(min_length=1)

    def model_post_init(self, context: Any) -> None:
        unknown = set(self.match) - set(MATCH_KEYS)
        if unknown:
            raise ValueError(f"unknown match keys {sorted(unknown)}; use {', '.join(MATCH_KEYS)}")


class OwnerRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    keep_existing_owner: bool = True
    territories: list[Territory] = []


@dataclass(frozen=True)
class SalesUser:
    id: str
    email: str
    name: str


def load_owner_rules(path: Path = OWNERS_PATH) -> OwnerRules:
    return load_yaml_model(path, OwnerRules, OwnerRulesError, "owner rules")


def _norm(value: Any) -> str:
    return re.sub(r"[\s_-]+", " ", str(value or "")).strip().casefold()


def _matches(territory: Territory, lead: dict[str, Any]) -> bool:
    for key, wanted in territory.match.items():
        if key == "email_domain_suffix":
            email = _norm(lead.get("email"))
            if not any(email.endswith(_norm(suffix)) for suffix in wanted):
                return False
        elif _norm(lead.get(key)) not in {_norm(w) for w in wanted}:
            return False
    return True


def choose_owner(
    lead: dict[str, Any], rules: OwnerRules, users: list[SalesUser], dealt: Counter[str]
) -> tuple[SalesUser | None, str]:
    """The owner of one lead and the rule that chose it; `dealt` counts per rule (and is
    advanced), which makes round-robin continue where the last run stopped."""
    by_id = {u.id: u for u in users}
    by_email = {u.email.casefold(): u for u in users}
    if rules.keep_existing_owner and lead.get("sfdc_owner_id") in by_id:
        return by_id[lead["sfdc_owner_id"]], KEEP_RULE
    for territory in rules.territories:
        if not _matches(territory, lead):
            continue
        owners = [by_email[o.casefold()] for o in territory.owners if o.casefold() in by_email]
        if owners:
            rule = f"territory:{territory.name}"
            pick = owners[dealt[rule] % len(owners)]
            dealt[rule] += 1
            return pick, rule
    if not users:
        return None, "no_active_user"
    pick = users[dealt[ROUND_ROBIN_RULE] % len(users)]
    dealt[ROUND_ROBIN_RULE] += 1
    return pick, ROUND_ROBIN_RULE


def assign_owners(
    warehouse: Warehouse, users: list[SalesUser], rules: OwnerRules | None = None
) -> dict[str, int]:
    """Assign every outbox entry that has no owner yet; returns counts per rule."""
    rules = rules or load_owner_rules()
    users = sorted(users, key=lambda u: u.id)  # round-robin order: stable across runs
    with warehouse.transaction() as session:
        ensure_tables(session)
    leads = [
        {k: _clean(v) for k, v in row.items()}
        for row in warehouse.query(UNASSIGNED_SQL).astype(object).to_dict("records")
    ]
    if not leads:
        return {}
    dealt = Counter(
        {
            str(rule): int(n)
            for rule, n in warehouse.query(
                "select rule, count(*) as n from ops.mql_assignments group by rule"
            ).itertuples(index=False)
        }
    )
    now = datetime.now(UTC)
    rows = []
    for lead in leads:
        owner, rule = choose_owner(lead, rules, users, dealt)
        rows.append(
            {
                "lead_id": str(lead["lead_id"]),
                "cycle": int(lead["cycle"]),
                "owner_id": owner.id if owner else None,
                "owner_email": owner.email if owner else None,
                "owner_name": owner.name if owner else None,
                "rule": rule,
                "assigned_at": now,
            }
        )
    frame = pd.DataFrame(rows)
    with warehouse.transaction() as session:
        session.execute(
            "create temporary table _assign_stage as select * from ops.mql_assignments where false"
        )
        session.insert_frame("_assign_stage", frame)
        session.execute(
            "insert into ops.mql_assignments select s.* from _assign_stage as s "
            "where not exists (select 1 from ops.mql_assignments as a "
            "where a.lead_id = s.lead_id and a.cycle = s.cycle)"
        )
        session.execute("drop table _assign_stage")
    counts = dict(Counter(r["rule"] for r in rows))
    log.info("owners assigned: %s", counts)
    return counts
