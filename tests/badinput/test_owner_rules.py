"""Owner rules that cannot mean what they say are clear errors with file, line and field:
a territory given twice, a territory no lead can reach, an owner e-mail no Salesforce user
has (checked when owners are assigned, against the users Salesforce returns)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nurture.handoff.owners import (
    OWNERS_PATH,
    OwnerRulesError,
    SalesUser,
    assign_owners,
    check_owner_users,
    load_owner_rules,
)
from nurture.warehouse import get_warehouse
from tests.conftest import settings_for

REPS = [
    SalesUser(id=f"005U{i:02d}", email=f"rep{i}@nurture-demo.example.com", name=f"Rep {i}")
    for i in range(1, 13)
]


def _owners_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "owners.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(OwnerRulesError) as raised:
        load_owner_rules(path)
    return str(raised.value)


def test_the_shipped_owner_rules_pass_every_check():
    rules = load_owner_rules()
    check_owner_users(rules, REPS)  # the sandbox's Salesforce users: rep1..rep12


def test_a_territory_name_given_twice(tmp_path):
    path = _owners_file(
        tmp_path,
        """version: 1
territories:
  - name: enterprise
    match: {size_band: ["5000+"]}
    owners: [rep9@nurture-demo.example.com]
  - name: enterprise
    match: {industry: [Education]}
    owners: [rep5@nurture-demo.example.com]
""",
    )
    assert _error(path) == (
        f"{path}: line 6, field territories.1.name: territory 'enterprise' given twice "
        "(first on line 3, territories.0.name)"
    )


def test_two_territories_with_the_same_match(tmp_path):
    # matching ignores case, spaces, '-' and '_', and the order of the values
    path = _owners_file(
        tmp_path,
        """version: 1
territories:
  - name: public-sector
    match:
      industry: [Public Sector, Education]
    owners: [rep5@nurture-demo.example.com]
  - name: schools
    match:
      industry: [education, public_sector]
    owners: [rep6@nurture-demo.example.com]
""",
    )
    assert _error(path) == (
        f"{path}: line 8, field territories.1.match: territory 'schools' has the same match "
        "as territory 'public-sector' (line 4), which comes first: no lead would ever reach "
        "it; merge the two or make the match differ"
    )


def test_a_territory_inside_an_earlier_one(tmp_path):
    path = _owners_file(
        tmp_path,
        """version: 1
territories:
  - name: japan
    match:
      email_domain_suffix: [".jp"]
    owners: [rep6@nurture-demo.example.com]
  - name: japan-manufacturing
    match:
      industry: [Manufacturing]
      email_domain_suffix: [".co.jp"]
    owners: [rep7@nurture-demo.example.com]
""",
    )
    assert _error(path) == (
        f"{path}: line 8, field territories.1.match: territory 'japan-manufacturing' has "
        "only leads that also match territory 'japan' (line 4), which comes first: no lead "
        "would ever reach it; merge the two or make the match differ"
    )


def test_a_narrower_territory_after_a_wider_one_is_fine_the_other_way_round(tmp_path):
    path = _owners_file(
        tmp_path,
        """version: 1
territories:
  - name: japan-manufacturing
    match: {industry: [Manufacturing], email_domain_suffix: [".co.jp"]}
    owners: [rep7@nurture-demo.example.com]
  - name: japan
    match: {email_domain_suffix: [".jp"]}
    owners: [rep6@nurture-demo.example.com]
""",
    )
    assert [t.name for t in load_owner_rules(path).territories] == ["japan-manufacturing", "japan"]


def test_an_owner_that_is_not_an_email_or_given_twice(tmp_path):
    path = _owners_file(
        tmp_path,
        """version: 1
territories:
  - name: enterprise
    match: {size_band: ["5000+"]}
    owners:
      - rep9@nurture-demo.example.com
      - rep 10
      - REP9@nurture-demo.example.com
""",
    )
    assert _error(path) == "\n".join(
        [
            f"{path}: line 7, field territories.0.owners.1: 'rep 10' is not an e-mail "
            "address (owners are named by their Salesforce user e-mail)",
            f"{path}: line 8, field territories.0.owners.2: owner "
            "'REP9@nurture-demo.example.com' given twice in territory 'enterprise' (first on "
            "line 6)",
        ]
    )


UNKNOWN_OWNER = """version: 1
territories:
  - name: enterprise
    match: {size_band: ["5000+"]}
    owners:
      - rep9@nurture-demo.example.com
      - rep99@nurture-demo.example.com
"""


def test_an_owner_email_no_salesforce_user_has_stops_the_assignment(tmp_path):
    path = _owners_file(tmp_path, UNKNOWN_OWNER)
    rules = load_owner_rules(path)  # the file alone cannot know Salesforce's users
    warehouse = get_warehouse(settings_for(tmp_path, "duckdb"))

    with pytest.raises(OwnerRulesError) as raised:
        assign_owners(warehouse, REPS, rules)

    assert str(raised.value) == (
        f"{path}: line 7, field territories.0.owners.1: 'rep99@nurture-demo.example.com' in "
        "territory 'enterprise' is not a Salesforce user (none of the 12 active users has "
        "this e-mail); correct the e-mail, or remove the owner"
    )
    # nothing was assigned, nor even set up
    assert not warehouse.table_exists("ops.mql_assignments")


def test_a_deactivated_owner_is_skipped_with_a_warning(tmp_path, caplog):
    path = _owners_file(tmp_path, UNKNOWN_OWNER)
    rules = load_owner_rules(path)
    settings = settings_for(tmp_path, "duckdb")
    settings.ensure_dirs()
    warehouse = get_warehouse(settings)
    with warehouse.transaction() as session:
        session.execute("create schema raw_salesforce")
        session.execute(
            "create table raw_salesforce.users (id text, email text, is_active boolean)"
        )
        session.execute(
            "insert into raw_salesforce.users values "
            "('005U99', 'Rep99@nurture-demo.example.com', false)"
        )

    with caplog.at_level(logging.WARNING, logger="nurture.handoff.owners"):
        check_owner_users(rules, REPS, warehouse)

    assert "rep99@nurture-demo.example.com in territory enterprise is a deactivated" in caplog.text


def test_owner_rules_errors_are_configuration_errors():
    """The CLI and Airflow's fail-fast treat them as a user's mistake: one line, no retry."""
    from nurture.config import ConfigError
    from nurture.retryable import is_transient

    assert issubclass(OwnerRulesError, ConfigError)
    assert not is_transient(OwnerRulesError(f"{OWNERS_PATH}: line 1, field version: x"))
