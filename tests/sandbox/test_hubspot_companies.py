"""HubSpot emulator beyond contacts: companies (list, archived, search, batch read), owners,
contact-company associations (v3 blocks, v4 reads with 207 errors) and the official client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hubspot import HubSpot

from nurture.sandbox.app import create_app
from nurture.sandbox.world import connect

COMPANIES = "/crm/v3/objects/companies"
V4_READ = "/crm/v4/associations/contacts/companies/batch/read"


def _walk(client: httpx.Client | TestClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every result of a list endpoint, following `after`, retrying what a client retries."""
    results: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 100, **params}
    while True:
        response = client.get(path, params=query)
        if response.status_code in (429, 502, 503):
            continue
        assert response.status_code == 200, response.text
        body = response.json()
        results += body["results"]
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return results
        query["after"] = nxt["after"]


def _live_links(world: Path) -> dict[str, set[tuple[str, bool]]]:
    """Contact id -> {(company id, primary)} as the world serves them."""
    with connect(world) as con:
        rows = con.execute(
            "select contact_id, company_id, is_primary from hs_contact_company_live"
        ).fetchall()
    links: dict[str, set[tuple[str, bool]]] = {}
    for contact, company, primary in rows:
        links.setdefault(str(contact), set()).add((str(company), primary))
    return links


def _search_body(**extra: Any) -> dict[str, Any]:
    return {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "hs_lastmodifieddate",
                        "operator": "GTE",
                        "value": "2020-01-01T00:00:00Z",
                    }
                ]
            }
        ],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["name", "domain", "hs_lastmodifieddate"],
        "limit": 200,
        **extra,
    }


def test_companies_list_pages_and_archived(client: httpx.Client) -> None:
    counts = client.get("/sandbox/counts").json()
    live = _walk(client, COMPANIES, properties="name,domain,numberofemployees")
    ids = [c["id"] for c in live]
    assert len(ids) == len(set(ids)) == counts["hubspot_companies"] > 100
    first = live[0]
    assert set(first["properties"]) == {
        "name",
        "domain",
        "numberofemployees",
        "hs_object_id",
        "createdate",
        "hs_lastmodifieddate",
    }
    assert first["properties"]["numberofemployees"].isdigit()  # values are strings
    assert not any(c["archived"] for c in live)
    archived = _walk(client, COMPANIES, archived="true")
    assert len(archived) == counts["hubspot_companies_archived"] > 0
    assert all(c["archived"] and c["archivedAt"] for c in archived)
    assert not {c["id"] for c in archived} & set(ids)


def test_company_read_by_id_and_batch(client: httpx.Client) -> None:
    some = client.get(COMPANIES, params={"limit": 3}).json()["results"]
    one = client.get(f"{COMPANIES}/{some[0]['id']}", params={"properties": "city,country"})
    assert one.status_code == 200
    assert one.json()["properties"]["country"] and "lastmodifieddate" not in one.json()
    archived = client.get(COMPANIES, params={"limit": 1, "archived": "true"}).json()["results"][0]
    assert client.get(f"{COMPANIES}/{archived['id']}").status_code == 404
    assert client.get(f"{COMPANIES}/{archived['id']}", params={"archived": "true"}).is_success
    batch = client.post(
        f"{COMPANIES}/batch/read",
        json={"inputs": [{"id": c["id"]} for c in some] + [{"id": "999"}], "properties": ["name"]},
    ).json()
    assert [r["id"] for r in batch["results"]] == [c["id"] for c in some]
    too_many = {"inputs": [{"id": str(i)} for i in range(101)]}
    assert client.post(f"{COMPANIES}/batch/read", json=too_many).status_code == 400
    by_domain = client.post(
        f"{COMPANIES}/batch/read", json={"inputs": [{"id": "x.com"}], "idProperty": "domain"}
    )
    assert by_domain.status_code == 400  # domains are not unique in HubSpot


def test_companies_search_on_hs_lastmodifieddate(client: httpx.Client) -> None:
    body = _search_body()
    seen, stamps = [], []
    while True:
        page = client.post(f"{COMPANIES}/search", json=body).json()
        seen += [r["id"] for r in page["results"]]
        stamps += [r["properties"]["hs_lastmodifieddate"] for r in page["results"]]
        nxt = page.get("paging", {}).get("next")
        if not nxt:
            break
        body["after"] = nxt["after"]
    counts = client.get("/sandbox/counts").json()
    assert page["total"] == len(seen) == len(set(seen)) == counts["hubspot_companies"]
    assert stamps == sorted(stamps)
    assert client.post(f"{COMPANIES}/search", json=_search_body(after=9_900)).status_code == 400
    assert client.post(f"{COMPANIES}/search", json=_search_body(limit=201)).status_code == 400
    # contacts' property name does not exist on companies
    wrong = _search_body()
    wrong["filterGroups"][0]["filters"][0]["propertyName"] = "lastmodifieddate"
    assert client.post(f"{COMPANIES}/search", json=wrong).status_code == 400
    by_size = client.post(
        f"{COMPANIES}/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "numberofemployees", "operator": "GTE", "value": "5000"}
                    ]
                }
            ],
            "properties": ["numberofemployees"],
            "limit": 200,
        },
    ).json()
    assert by_size["total"] > 0
    assert all(int(r["properties"]["numberofemployees"]) >= 5000 for r in by_size["results"])


def test_contacts_list_carries_company_associations(client: httpx.Client, world: Path) -> None:
    links = _live_links(world)
    contacts = _walk(client, "/crm/v3/objects/contacts", associations="companies")
    checked = 0
    for contact in contacts:
        expected = links.get(contact["id"], set())
        block = contact.get("associations", {}).get("companies", {}).get("results", [])
        if not expected:
            assert "associations" not in contact
            continue
        types = {(a["id"], a["type"]) for a in block}
        assert {(c, "contact_to_company_unlabeled") for c, _ in expected} <= types
        assert {c for c, primary in expected if primary} == {
            i for i, t in types if t == "contact_to_company"
        }
        checked += 1
    assert checked > 500
    one = contacts[0]
    single = client.get(
        f"/crm/v3/objects/contacts/{one['id']}", params={"associations": "companies,deals"}
    ).json()
    assert single.get("associations") == one.get("associations")


def test_v4_batch_read_answers_207_for_contacts_without_companies(
    client: httpx.Client, world: Path
) -> None:
    links = _live_links(world)
    with connect(world) as con:
        archived = [
            str(r[0]) for r in con.execute("select id from hs_contact where archived").fetchall()
        ]
    with_two = sorted(c for c, targets in links.items() if len(targets) == 2)[:3]
    wanted = sorted(links)[:50] + with_two
    body = client.post(V4_READ, json={"inputs": [{"id": i} for i in wanted]})
    assert body.status_code == 200
    results = {r["from"]["id"]: r["to"] for r in body.json()["results"]}
    assert set(results) == set(wanted)
    for contact, targets in results.items():
        got = set()
        for target in targets:
            kinds = {(t["category"], t["typeId"], t["label"]) for t in target["associationTypes"]}
            primary = ("HUBSPOT_DEFINED", 1, "Primary") in kinds
            assert ("HUBSPOT_DEFINED", 279, None) in kinds
            got.add((str(target["toObjectId"]), primary))
        assert got == links[contact]
    mixed = client.post(
        V4_READ, json={"inputs": [{"id": wanted[0]}, {"id": archived[0]}, {"id": "7"}]}
    )
    assert mixed.status_code == 207
    answer = mixed.json()
    assert [r["from"]["id"] for r in answer["results"]] == [wanted[0]]
    assert answer["numErrors"] == 2
    error = answer["errors"][0]
    assert error["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert error["context"]["fromObjectId"] == [archived[0]]
    assert error["message"] == f"No company is associated with contact {archived[0]}."
    over = {"inputs": [{"id": str(i)} for i in range(1001)]}
    assert client.post(V4_READ, json=over).status_code == 400


def test_v4_object_associations_page(client: httpx.Client, world: Path) -> None:
    links = _live_links(world)
    contact = next(c for c, targets in sorted(links.items()) if len(targets) == 2)
    path = f"/crm/v4/objects/contacts/{contact}/associations/companies"
    first = client.get(path, params={"limit": 1}).json()
    second = client.get(path, params={"limit": 1, "after": first["paging"]["next"]["after"]}).json()
    assert "paging" not in second
    assert {str(r["toObjectId"]) for r in first["results"] + second["results"]} == {
        c for c, _ in links[contact]
    }
    company = next(iter(links[contact]))[0]
    back = client.get(f"/crm/v4/objects/companies/{company}/associations/contacts").json()
    assert contact in {str(r["toObjectId"]) for r in back["results"]}
    assert client.get("/crm/v4/objects/contacts/1/associations/widgets").status_code == 400


def test_owners_page_and_archived(client: httpx.Client) -> None:
    counts = client.get("/sandbox/counts").json()
    active = _walk(client, "/crm/v3/owners", limit=2)
    assert len(active) == len({o["id"] for o in active}) == counts["hubspot_owners"]
    assert all(o["type"] == "PERSON" and not o["archived"] for o in active)
    former = _walk(client, "/crm/v3/owners", archived="true")
    assert len(former) == counts["hubspot_owners_archived"] > 0 and former[0]["archived"]
    assert client.get("/crm/v3/owners", params={"limit": 501}).status_code == 400


@pytest.fixture()
def messy(tmp_path: Path, world: Path) -> Iterator[TestClient]:
    copy = tmp_path / "messy.duckdb"
    shutil.copyfile(world, copy)
    app = create_app(copy, rate_limits=False, faults="messy", fault_seed=5)
    with TestClient(app, headers={"Authorization": "Bearer t"}) as client:
        yield client


def test_messy_faults_reach_company_lists_and_search(messy: TestClient) -> None:
    counts = messy.get("/sandbox/counts").json()
    served = _walk(messy, COMPANIES, limit=5)
    assert len(served) > counts["hubspot_companies"]  # shifted and duplicated records
    assert len({c["id"] for c in served}) == counts["hubspot_companies"]  # none lost
    drifted = messy.post(f"{COMPANIES}/search", json=_search_body()).json()["results"]
    assert any("hs_ideal_customer_profile" in c["properties"] for c in drifted)


def test_advance_adds_and_archives_companies(tmp_path: Path, world: Path) -> None:
    copy = tmp_path / "advanced.duckdb"
    shutil.copyfile(world, copy)
    with TestClient(
        create_app(copy, rate_limits=False), headers={"Authorization": "Bearer t"}
    ) as c:
        before = c.get("/sandbox/counts").json()
        summary = c.post("/sandbox/advance", params={"days": 3}).json()
        after = c.get("/sandbox/counts").json()
        assert (
            summary["hubspot_companies_archived"] > 0 and summary["hubspot_companies_updated"] > 0
        )
        assert after["hubspot_companies_archived"] == (
            before["hubspot_companies_archived"] + summary["hubspot_companies_archived"]
        )
        assert (
            after["hubspot_companies"]
            > before["hubspot_companies"] - summary["hubspot_companies_archived"]
        )
        with _db(c) as cur:
            orphans = cur.execute(
                """select count(*) from hs_contact as h where not h.archived
                   and h.createdate >= '2026-09-30' and not exists (
                       select 1 from hs_contact_company_live as l where l.contact_id = h.id)"""
            ).fetchone()[0]
            moved = cur.execute(
                """select count(*) from hs_contact as h
                   join hs_contact_company as l on l.contact_id = h.id
                   join hs_company as m on m.id = l.company_id
                   where m.archived and m.hs_lastmodifieddate >= '2026-09-30'
                       and not h.archived and h.lastmodifieddate < m.hs_lastmodifieddate"""
            ).fetchone()[0]
        assert orphans == 0  # every new HubSpot contact has its company
        assert moved == 0  # losing a company moved the contact's last-modified date
        recent = c.post(
            f"{COMPANIES}/search",
            json={
                "filterGroups": [
                    {
                        "filters": [
                            {
                                "propertyName": "hs_lastmodifieddate",
                                "operator": "GTE",
                                "value": "2026-09-30T00:00:00Z",
                            }
                        ]
                    }
                ]
            },
        ).json()
        assert recent["total"] >= summary["hubspot_companies_updated"]


def _db(client: TestClient) -> Any:
    return client.app.state.sandbox.db()  # type: ignore[attr-defined]


def test_official_client_lists_companies_and_reads_associations(base_url: str, world: Path) -> None:
    from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest

    api = HubSpot(access_token="any-token", host=base_url)
    counts = httpx.get(f"{base_url}/sandbox/counts").json()
    companies = api.crm.companies.get_all(properties=["name", "domain"])
    assert len({c.id for c in companies}) == len(companies) == counts["hubspot_companies"]
    page = api.crm.contacts.basic_api.get_page(limit=20, associations=["companies"])
    assert any(c.associations and c.associations["companies"].results for c in page.results)
    links = _live_links(world)
    ids = [*sorted(links)[:10], "7"]
    read = api.crm.associations.v4.batch_api.get_page(
        from_object_type="contacts",
        to_object_type="companies",
        batch_input_public_fetch_associations_batch_request=(
            BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": i} for i in ids])
        ),
    )
    got = {r._from.id: {str(t.to_object_id) for t in r.to} for r in read.results}
    assert got == {i: {c for c, _ in links[i]} for i in ids[:-1]}
    assert read.num_errors == 1
    one = api.crm.associations.v4.basic_api.get_page(
        object_type="contacts", object_id=ids[0], to_object_type="companies"
    )
    assert {str(r.to_object_id) for r in one.results} == got[ids[0]]
    owners = api.crm.owners.owners_api.get_page(archived=True)
    assert [o.archived for o in owners.results] == [True]
