"""Advancing the world: new people, conversions, stage moves, lead merges, campaigns."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nurture.sandbox.app import create_app
from nurture.sandbox.world import world_counts

AUTH = {"Authorization": "Bearer test-token"}
DAYS = 3
SINCE = "2026-09-30T00:00:00Z"
TABLES = (
    "persons",
    "mkto_lead",
    "mkto_deleted_lead",
    "activities",
    "hs_contact",
    "hs_company",
    "hs_contact_company",
    "sf_lead",
    "sf_contact",
    "sf_account",
    "sf_opportunity",
    "sf_opportunity_history",
    "sf_campaign_member",
)


def _advanced(path: Path) -> tuple[TestClient, dict[str, Any]]:
    client = TestClient(create_app(path, rate_limits=False), headers=AUTH)
    summary = client.post("/sandbox/advance", params={"days": DAYS}).json()
    return client, summary


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, world: Path
) -> Iterator[tuple[TestClient, dict[str, Any], TestClient, dict[str, Any]]]:
    work = tmp_path_factory.mktemp("advance")
    shutil.copyfile(world, work / "a.duckdb")
    shutil.copyfile(world, work / "b.duckdb")
    a, sa = _advanced(work / "a.duckdb")
    b, sb = _advanced(work / "b.duckdb")
    yield a, sa, b, sb
    a.close()
    b.close()


@pytest.fixture(scope="module")
def adv(pair) -> TestClient:  # type: ignore[no-untyped-def]
    return pair[0]


@pytest.fixture(scope="module")
def summary(pair) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return pair[1]


def _soql(client: TestClient, q: str, endpoint: str = "query") -> list[dict[str, Any]]:
    body = client.get(f"/services/data/v61.0/{endpoint}", params={"q": q}).json()
    assert isinstance(body, dict), body
    records = list(body["records"])
    while not body["done"]:
        body = client.get(body["nextRecordsUrl"]).json()
        records += body["records"]
    return records


def _fingerprint(client: TestClient) -> dict[str, Any]:
    state = client.app.state.sandbox  # type: ignore[attr-defined]
    with state.db() as cur:
        return {
            t: cur.execute(f"SELECT count(*), sum(hash(t)) FROM {t} AS t").fetchone()
            for t in TABLES
        }


def test_fresh_world_has_nothing_merged(world: Path) -> None:
    counts = world_counts(world)
    assert counts["marketo_deleted_leads"] == 0
    assert counts["salesforce_campaign_members"] > 0


def test_two_advances_from_the_same_seed_are_identical(pair) -> None:  # type: ignore[no-untyped-def]
    a, sa, b, sb = pair
    assert sa == sb
    assert a.get("/sandbox/counts").json() == b.get("/sandbox/counts").json()
    assert _fingerprint(a) == _fingerprint(b)
    for key in (
        "leads_created",
        "salesforce_leads_converted",
        "opportunities_moved",
        "marketo_leads_merged",
        "campaign_members_added",
    ):
        assert sa[key] > 0, key


def test_new_people_appear_in_every_system(adv: TestClient, summary: dict, world: Path) -> None:
    fresh, now = world_counts(world), adv.get("/sandbox/counts").json()
    assert now["persons"] == fresh["persons"] + summary["leads_created"]
    leads = _soql(
        adv,
        f"SELECT Id, Email, Status, CreatedDate, SystemModstamp FROM Lead "
        f"WHERE CreatedDate > {SINCE}",
    )
    assert leads and all(r["SystemModstamp"] >= "2026-09-30" for r in leads)
    emails = ",".join(r["Email"] for r in leads[:20])
    found = adv.get(
        "/rest/v1/leads.json",
        params={"filterType": "email", "filterValues": emails, "fields": "id,email,updatedAt"},
    ).json()["result"]
    assert found and all(r["updatedAt"] >= "2026-09-30" for r in found)
    # Their first activities: New Lead (12) and a form fill (2) on the website.
    token = adv.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": SINCE}).json()
    acts = adv.get(
        "/rest/v1/activities.json",
        params={
            "nextPageToken": token["nextPageToken"],
            "activityTypeIds": "2,12",
            "leadIds": ",".join(str(r["id"]) for r in found[:30]),
        },
    ).json()["result"]
    assert {a["activityTypeId"] for a in acts} == {2, 12}
    contacts = adv.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "createdate", "operator": "GTE", "value": SINCE}]}
            ],
            "properties": ["email", "createdate", "lastmodifieddate"],
        },
    ).json()
    assert contacts["total"] > 0
    assert all(c["properties"]["lastmodifieddate"] >= "2026-09-30" for c in contacts["results"])


def test_conversions_and_stage_moves_are_visible_in_soql(adv: TestClient, summary: dict) -> None:
    opps = _soql(
        adv,
        f"SELECT Id, StageName, IsClosed, IsWon, Amount FROM Opportunity "
        f"WHERE SystemModstamp > {SINCE}",
    )
    assert len(opps) >= summary["opportunities_moved"]
    assert any(o["StageName"] == "Prospecting" for o in opps)  # new from conversions
    closed = [o for o in opps if o["IsClosed"]]
    assert len(closed) == summary["opportunities_won"] + summary["opportunities_lost"]
    assert all(o["IsWon"] == (o["StageName"] == "Closed Won") for o in closed)
    converted = _soql(
        adv,
        "SELECT Id, IsConverted, ConvertedDate, ConvertedContactId, ConvertedAccountId, "
        f"ConvertedOpportunityId FROM Lead WHERE IsConverted = true AND SystemModstamp > {SINCE}",
    )
    assert len(converted) == summary["salesforce_leads_converted"]
    assert all(r["ConvertedDate"] >= "2026-09-30" for r in converted)
    ids = ", ".join(f"'{r['ConvertedContactId']}'" for r in converted)
    contacts = _soql(adv, f"SELECT Id, AccountId FROM Contact WHERE Id IN ({ids})")
    assert {c["Id"] for c in contacts} == {r["ConvertedContactId"] for r in converted}
    assert {c["AccountId"] for c in contacts} == {r["ConvertedAccountId"] for r in converted}
    history = _soql(
        adv,
        f"SELECT Id, OpportunityId, StageName FROM OpportunityHistory WHERE CreatedDate > {SINCE}",
    )
    assert len(history) == summary["salesforce_leads_converted"] + summary["opportunities_moved"]
    state = adv.app.state.sandbox  # type: ignore[attr-defined]
    with state.db() as cur:
        # Ground truth follows: converted and won people match Salesforce.
        mismatched = cur.execute("""
            select count(*) from persons as p join sf_lead as l using (person_id)
            left join sf_opportunity as o on o."Id" = l."ConvertedOpportunityId"
            where p.converted <> l."IsConverted" or p.won <> coalesce(o."IsWon", false)
        """).fetchone()[0]
    assert mismatched == 0


def test_merged_leads_are_reported_and_gone(adv: TestClient, summary: dict) -> None:
    token = adv.get("/rest/v1/activities/pagingtoken.json", params={"sinceDatetime": SINCE}).json()
    body = adv.get(
        "/rest/v1/activities/deletedleads.json",
        params={"nextPageToken": token["nextPageToken"], "batchSize": 5},
    ).json()
    deleted = list(body["result"])
    while body["moreResult"]:
        body = adv.get(
            "/rest/v1/activities/deletedleads.json",
            params={"nextPageToken": body["nextPageToken"], "batchSize": 5},
        ).json()
        deleted += body["result"]
    assert len(deleted) == summary["marketo_leads_merged"] > 0
    first = deleted[0]
    assert set(first) == {
        "id",
        "marketoGUID",
        "leadId",
        "activityDate",
        "activityTypeId",
        "primaryAttributeValueId",
        "primaryAttributeValue",
        "attributes",
    }
    assert all(d["activityTypeId"] == 37 and d["activityDate"] >= "2026-09-30" for d in deleted)
    gone = ",".join(str(d["leadId"]) for d in deleted)
    assert (
        adv.get("/rest/v1/leads.json", params={"filterType": "id", "filterValues": gone}).json()[
            "result"
        ]
        == []
    )
    winners = ",".join(str(d["attributes"][0]["value"]) for d in deleted)
    kept = adv.get("/rest/v1/leads.json", params={"filterType": "id", "filterValues": winners})
    assert len(kept.json()["result"]) == len(set(winners.split(",")))
    # The ids share the activity id space: activities paging never returns them.
    acts = adv.get(
        "/rest/v1/activities.json",
        params={"nextPageToken": token["nextPageToken"], "activityTypeIds": "12", "leadIds": gone},
    ).json()["result"]
    assert acts == []


def test_campaigns_in_soql(adv: TestClient, client) -> None:  # type: ignore[no-untyped-def]
    campaigns = _soql(
        client, "SELECT Id, Name, Type, StartDate, IsActive, SystemModstamp FROM Campaign"
    )
    programs = []
    offset = 0
    while True:
        page = client.get(
            "/rest/asset/v1/programs.json", params={"offset": offset, "maxReturn": 200}
        ).json()
        programs += page.get("result", [])
        if len(page.get("result", [])) < 200:
            break
        offset += 200
    assert len(campaigns) == len(programs) > 0
    assert {c["Name"] for c in campaigns} == {p["name"] for p in programs}
    assert all(c["Id"].startswith("701") and len(c["Id"]) == 18 for c in campaigns)
    assert any(c["IsActive"] for c in campaigns) and not all(c["IsActive"] for c in campaigns)
    refused = client.post("/services/data/v61.0/sobjects/Campaign", json={"Name": "x"})
    assert refused.status_code == 400


def test_campaign_members_in_soql(adv: TestClient, client, summary: dict) -> None:  # type: ignore[no-untyped-def]
    campaign_ids = {r["Id"] for r in _soql(client, "SELECT Id FROM Campaign")}
    members = _soql(
        client,
        "SELECT Id, CampaignId, LeadId, ContactId, Status, HasResponded, CreatedDate, "
        "SystemModstamp FROM CampaignMember WHERE HasResponded = true ORDER BY CreatedDate "
        "LIMIT 300",
    )
    assert members and {m["CampaignId"] for m in members} <= campaign_ids
    assert all(m["Status"] == "Responded" and m["LeadId"].startswith("00Q") for m in members)
    total = client.get(
        "/services/data/v61.0/query", params={"q": "SELECT COUNT() FROM CampaignMember"}
    ).json()["totalSize"]
    assert total == client.get("/sandbox/counts").json()["salesforce_campaign_members"]
    with_contact = client.get(
        "/services/data/v61.0/query",
        params={"q": "SELECT COUNT() FROM CampaignMember WHERE ContactId != null"},
    ).json()["totalSize"]
    assert 0 < with_contact < total
    new = _soql(
        adv, f"SELECT Id, CreatedDate, Status FROM CampaignMember WHERE CreatedDate > {SINCE}"
    )
    assert len(new) == summary["campaign_members_added"] > 0
