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
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from nurture.config import INCLUDE_DIR, ConfigError
from nurture.handoff.outbox import _clean
from nurture.handoff.schema import ensure_tables
from nurture.warehouse import Warehouse
from nurture.yamlconfig import line_of, load_yaml_model

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


class OwnerRulesError(ConfigError):
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
    # where the rules were read from, so that a check after loading names file and line
    _path: Path | None = PrivateAttr(default=None)
    _text: str | None = PrivateAttr(default=None)

    def problem(self, loc: tuple[Any, ...], message: str) -> str:
        """`<file>: line <n>, field <a.b.c>: <message>`, as load_yaml_model words them."""
        field = ".".join(str(part) for part in loc)
        if self._path is None or self._text is None:
            return f"field {field}: {message}"
        line = line_of(self._text, loc)
        where = f"line {line}, " if line else ""
        return f"{self._path}: {where}field {field}: {message}"

    def line(self, loc: tuple[Any, ...]) -> int | None:
        return line_of(self._text, loc) if self._text is not None else None


@dataclass(frozen=True)
class SalesUser:
    id: str
    email: str
    name: str


def load_owner_rules(path: Path = OWNERS_PATH) -> OwnerRules:
    """The rules in `path`, checked: every problem is an `OwnerRulesError` naming the file,
    the line and the field (YAML, types, and the checks of `rules_problems`)."""
    rules = load_yaml_model(path, OwnerRules, OwnerRulesError, "owner rules")
    rules._path, rules._text = path, path.read_text(encoding="utf-8")
    problems = rules_problems(rules)
    if problems:
        raise OwnerRulesError("\n".join(problems))
    return rules


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _match_sets(territory: Territory) -> dict[str, frozenset[str]]:
    """A territory's match as `_matches` reads it: values compared after `_norm`."""
    return {key: frozenset(_norm(v) for v in values) for key, values in territory.match.items()}


def _covers(first: dict[str, frozenset[str]], later: dict[str, frozenset[str]]) -> bool:
    """Whether every lead `later` matches is matched by `first` (which is tried before)."""
    for key, wanted in first.items():
        if key not in later:
            return False
        if key == "email_domain_suffix":
            if not all(any(s.endswith(w) for w in wanted) for s in later[key]):
                return False
        elif not later[key] <= wanted:
            return False
    return True


def rules_problems(rules: OwnerRules) -> list[str]:
    """What the file's own text gets wrong beyond types: a territory name given twice, a
    territory no lead can reach (its match the same as, or narrower than, an earlier
    territory's: the first that fits wins), an owner that is not an e-mail address or is
    named twice in one territory."""
    problems = []
    names: dict[str, int] = {}
    for i, territory in enumerate(rules.territories):
        where = ("territories", i)
        if territory.name in names:
            first = names[territory.name]
            problems.append(
                rules.problem(
                    (*where, "name"),
                    f"territory {territory.name!r} given twice (first on line "
                    f"{rules.line(('territories', first, 'name'))}, territories.{first}.name)",
                )
            )
        else:
            names[territory.name] = i
        mine = _match_sets(territory)
        for j, earlier in enumerate(rules.territories[:i]):
            theirs = _match_sets(earlier)
            if not _covers(theirs, mine):
                continue
            how = "the same match as" if theirs == mine else "only leads that also match"
            problems.append(
                rules.problem(
                    (*where, "match"),
                    f"territory {territory.name!r} has {how} territory {earlier.name!r} "
                    f"(line {rules.line(('territories', j, 'match'))}), which comes first: "
                    "no lead would ever reach it; merge the two or make the match differ",
                )
            )
            break
        seen: dict[str, int] = {}
        for k, owner in enumerate(territory.owners):
            loc = (*where, "owners", k)
            if not EMAIL.match(owner.strip()):
                problems.append(
                    rules.problem(
                        loc,
                        f"{owner!r} is not an e-mail address (owners are "
                        "named by their Salesforce user e-mail)",
                    )
                )
            elif owner.casefold() in seen:
                problems.append(
                    rules.problem(
                        loc,
                        f"owner {owner!r} given twice in territory {territory.name!r} "
                        f"(first on line {rules.line((*where, 'owners', seen[owner.casefold()]))})",
                    )
                )
            else:
                seen[owner.casefold()] = k
    return problems


def check_owner_users(
    rules: OwnerRules, users: list[SalesUser], warehouse: Warehouse | None = None
) -> None:
    """Every owner a territory names must be a Salesforce user (by e-mail), or its share of
    the territory's leads would go to the others without a word. An owner who is a
    deactivated user (known from `raw_salesforce.users`) is skipped with a warning, as
    the rules file says; an e-mail no user has is an `OwnerRulesError` with file, line and
    field. With no active user at all nothing is checked: no one would be dealt a lead."""
    if not users:
        return
    active = {u.email.strip().casefold() for u in users if u.email}
    named = [
        (i, k, owner)
        for i, territory in enumerate(rules.territories)
        for k, owner in enumerate(territory.owners)
        if owner.strip().casefold() not in active
    ]
    if not named:
        return
    deactivated = _deactivated_emails(warehouse, {o.strip().casefold() for *_, o in named})
    problems = []
    for i, k, owner in named:
        territory = rules.territories[i].name
        if owner.strip().casefold() in deactivated:
            log.warning(
                "owner rules: %s in territory %s is a deactivated Salesforce user; the "
                "territory's other owners get its leads (remove it from %s)",
                owner,
                territory,
                rules._path or "the owner rules",
            )
            continue
        problems.append(
            rules.problem(
                ("territories", i, "owners", k),
                f"{owner!r} in territory {territory!r} is not a Salesforce user (none of "
                f"the {len(active)} active users has this e-mail); correct the e-mail, or "
                "remove the owner",
            )
        )
    if problems:
        raise OwnerRulesError("\n".join(problems))


def _deactivated_emails(warehouse: Warehouse | None, emails: set[str]) -> set[str]:
    """Which of `emails` belong to deactivated users, as the last Salesforce sync saw them."""
    if warehouse is None or not emails or not warehouse.table_exists("raw_salesforce.users"):
        return set()
    try:
        found = warehouse.query(
            "select distinct lower(trim(email)) as email from raw_salesforce.users "
            "where email is not null and not coalesce(is_active, false)"
        )
    except Exception as exc:  # a raw table without those columns: nothing known
        log.warning("owner rules: cannot read deactivated users: %s", exc)
        return set()
    return {str(e) for e in found["email"]} & emails


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
    check_owner_users(rules, users, warehouse)
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
