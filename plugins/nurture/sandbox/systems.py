"""How one chunk of people appears in each system: Marketo leads, HubSpot contacts and
companies (with their associations), HubSpot owners, and the Salesforce sales process
(leads, accounts, contacts, opportunities, stage history).

Also decides each person's true outcome from fit and realised engagement.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from nurture.sandbox import names as nm
from nurture.sandbox import renewals, verdicts
from nurture.sandbox.activity import LeadState
from nurture.sandbox.clock import DAY, history_start, to_datetime, today_ts
from nurture.sandbox.people import Companies, People
from nurture.sandbox.sfids import sf_ids

SF_USERS = 12
HS_OWNERS = (11_001, 11_002, 11_003, 11_004, 11_005, 11_006)
# Owners who left: archived in HubSpot (records keep their ids), never assigned new records.
HS_FORMER_OWNERS = (11_007,)
HS_COMPANY_BASE = 20_000_000  # a HubSpot company id is this plus the world's company id
HS_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)
SECOND_COMPANY_SHARE = 0.03  # contacts also associated (unlabeled) with a second company
COMPANY_UPDATED_SHARE = 0.5  # built companies edited since their creation
COMPANY_ARCHIVED_SHARE = 0.02  # built companies archived (merged or cleaned up)
LEAD_SOURCES = (
    "Web",
    "Trade Show",
    "Webinar",
    "Content Download",
    "Paid Social",
    "Partner",
    "List Import",
)
STAGES: tuple[tuple[str, int], ...] = (
    ("Prospecting", 10),
    ("Qualification", 20),
    ("Needs Analysis", 40),
    ("Proposal/Price Quote", 60),
    ("Negotiation/Review", 80),
)
WON, LOST = ("Closed Won", 100), ("Closed Lost", 0)
BAND_PRICE = (1_200_000, 2_400_000, 4_800_000, 9_600_000, 18_000_000)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def company_rows(co: Companies) -> dict[str, object]:
    """Columns of the ``companies`` table."""
    return {
        "company_id": co.company_id,
        "name": co.name,
        "domain": co.domain,
        "industry": [nm.INDUSTRIES[i] for i in co.industry],
        "employee_count": co.employees,
        "size_band": [nm.SIZE_BANDS[i] for i in co.size_band],
        "is_japanese": co.is_japanese,
    }


def person_rows(
    pp: People,
    co: Companies,
    st: LeadState,
    lead_source: np.ndarray,
    propensity: np.ndarray,
    fate: dict[str, object],
) -> dict[str, object]:
    """Columns of the ``persons`` table; ``fate`` holds what the sales process made of
    them (converted, converted_at, won, won_amount, in_hubspot, in_salesforce)."""
    return {
        "person_id": pp.person_id,
        "company_id": co.company_id[pp.company],
        "first_name": pp.first_name,
        "last_name": pp.last_name,
        "title": pp.title,
        "seniority": [nm.SENIORITY[s][1] for s in pp.seniority],
        "department": [nm.DEPARTMENTS[d][1] for d in pp.department],
        "email": pp.email,
        "is_free_mail": pp.is_free_mail,
        "is_japanese": pp.is_japanese,
        "created_at": np.asarray(pp.created_ts, dtype=np.int64).astype("datetime64[s]"),
        "lead_source": [LEAD_SOURCES[i] for i in lead_source],
        "fit": pp.fit,
        "engagement": pp.engagement,
        "realized_engagement": st.realized,
        "propensity": propensity,
        **fate,
        "bad_address": pp.bad_address,
        "unsubscribed_ts": st.unsubscribed_ts,
        "invalid_ts": st.invalid_ts,
        "recent_sends": st.recent_sends,
        "last_touch_ts": st.last_touch_ts,
        "exposures": pa.FixedSizeListArray.from_arrays(
            pa.array(st.exposures.reshape(-1)), st.exposures.shape[1]
        ),
    }


def outcomes(rng: np.random.Generator, pp: People, st: LeadState) -> dict[str, np.ndarray]:
    """True propensity and outcome: conversion depends on fit and on engagement."""
    n = len(pp.person_id)
    logit = (
        -4.0
        + 1.1 * pp.fit
        + 0.35 * pp.engagement
        + 0.75 * np.log1p(st.realized)
        - 1.2 * (st.unsubscribed_ts > 0)
    )
    propensity = _sigmoid(logit)
    converted = rng.random(n) < propensity
    end = today_ts() - DAY
    base = np.maximum(np.maximum(pp.created_ts, history_start()), st.last_touch_ts) + DAY
    conv_ts = np.minimum(base + (rng.exponential(12, n) * DAY).astype(np.int64), end)
    return {
        "propensity": propensity,
        "converted": converted,
        "converted_ts": np.where(converted, conv_ts, 0),
    }


def _noisy_email(
    rng: np.random.Generator, emails: list[str], case_p: float, space_p: float, typo_p: float
) -> list[str]:
    n = len(emails)
    draw = rng.random((n, 3))
    out = []
    for i, e in enumerate(emails):
        if draw[i, 2] < typo_p:
            local, _, domain = e.partition("@")
            j = int(draw[i, 0] * 1000) % max(len(local) - 1, 1)
            local = local[:j] + local[j + 1 : j + 2] + local[j : j + 1] + local[j + 2 :]
            e = f"{local}@{domain}"
        if draw[i, 0] < case_p:
            e = e.upper() if draw[i, 1] < 0.3 else e[:1].upper() + e[1:]
        if draw[i, 1] < space_p:
            e = f" {e} " if draw[i, 0] < 0.5 else f"{e} "
        out.append(e)
    return out


def _ts(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[s]")


def _random_update(rng: np.random.Generator, floor: np.ndarray, share: float) -> np.ndarray:
    n = len(floor)
    end = today_ts() - 60
    upd = floor + rng.random(n) * np.maximum(end - floor, 0)
    return np.where(rng.random(n) < share, upd.astype(np.int64), floor)


def marketo_leads(
    rng: np.random.Generator, pp: People, co: Companies, st: LeadState, lead_source: np.ndarray
) -> dict[str, object]:
    updated = np.maximum.reduce([pp.created_ts, st.unsubscribed_ts, st.invalid_ts])
    updated = _random_update(rng, updated, 0.4)
    company = [co.variants[c][0] for c in pp.company]
    return {
        "id": pp.person_id,
        "person_id": pp.person_id,
        "email": pp.email,
        "firstName": pp.first_name,
        "lastName": pp.last_name,
        "company": company,
        "title": pp.title,
        "industry": [nm.INDUSTRIES[i] for i in co.industry[pp.company]],
        "numberOfEmployees": co.employees[pp.company],
        "leadSource": [LEAD_SOURCES[i] for i in lead_source],
        "unsubscribed": st.unsubscribed_ts > 0,
        "emailInvalid": st.invalid_ts > 0,
        "createdAt": _ts(pp.created_ts),
        "updatedAt": _ts(updated),
    }


def marketo_duplicates(
    rng: np.random.Generator, pp: People, co: Companies, first_id: int
) -> tuple[dict[str, object], np.ndarray]:
    """Second Marketo records for ~2% of people: a later form fill with a re-cased address."""
    pick = np.flatnonzero(rng.random(len(pp.person_id)) < 0.02)
    end = today_ts() - 3600
    created = (pp.created_ts[pick] + rng.random(len(pick)) * (end - pp.created_ts[pick])).astype(
        np.int64
    )
    emails = [
        pp.email[i][:1].upper() + pp.email[i][1:]
        if pp.email[i][:1].islower()
        else pp.email[i].lower()
        for i in pick
    ]
    ids = np.arange(first_id, first_id + len(pick), dtype=np.int64)
    table = {
        "id": ids,
        "person_id": pp.person_id[pick],
        "email": emails,
        "firstName": [pp.first_name[i] for i in pick],
        "lastName": [pp.last_name[i] for i in pick],
        "company": [co.variants[pp.company[i]][1] for i in pick],
        "title": [pp.title[i] for i in pick],
        "industry": [None] * len(pick),
        "numberOfEmployees": np.full(len(pick), None),
        "leadSource": ["Web"] * len(pick),
        "unsubscribed": np.zeros(len(pick), dtype=bool),
        "emailInvalid": np.zeros(len(pick), dtype=bool),
        "createdAt": _ts(created),
        "updatedAt": _ts(created),
    }
    return table, created


def _lifecycle(
    rng: np.random.Generator, st: LeadState, sf_status: list[str | None], opp_state: dict[int, str]
) -> tuple[list[str], list[str]]:
    stages: list[str] = []
    statuses: list[str] = []
    draw = rng.random(len(st.realized))
    for i, pts in enumerate(st.realized):
        state = opp_state.get(i)
        status = sf_status[i]
        if state == "won":
            stages.append("customer")
            statuses.append("OPEN_DEAL")
        elif state is not None:
            stages.append("opportunity")
            statuses.append("OPEN_DEAL")
        elif status == "Working - Contacted":
            stages.append("salesqualifiedlead")
            statuses.append("IN_PROGRESS" if draw[i] < 0.6 else "CONNECTED")
        elif status == "Closed - Not Converted":
            stages.append("lead")
            statuses.append("UNQUALIFIED")
        elif status == "Recycled":
            stages.append("lead")
            statuses.append("BAD_TIMING")
        elif pts >= 5:
            stages.append("marketingqualifiedlead")
            statuses.append("OPEN" if draw[i] < 0.7 else "ATTEMPTED_TO_CONTACT")
        elif pts > 0:
            stages.append("lead")
            statuses.append("NEW")
        else:
            stages.append("subscriber")
            statuses.append("NEW")
    return stages, statuses


def hubspot_contacts(
    rng: np.random.Generator,
    pp: People,
    co: Companies,
    st: LeadState,
    in_hs: np.ndarray,
    sf_status: list[str | None],
    opp_state: dict[int, str],
) -> dict[str, object]:
    idx = np.flatnonzero(in_hs)
    stages, statuses = _lifecycle(rng, st, sf_status, opp_state)
    created = np.minimum(pp.created_ts[idx] + rng.integers(60, 3 * DAY, len(idx)), today_ts() - 120)
    floor = np.maximum(created, st.last_touch_ts[idx])
    modified = _random_update(rng, floor, 0.5)
    owner = np.array(HS_OWNERS)[rng.integers(0, len(HS_OWNERS), len(idx))]
    has_owner = np.isin(
        np.array(stages, dtype=object)[idx],
        ["marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"],
    )
    return {
        "id": 1000 + pp.person_id[idx],
        "person_id": pp.person_id[idx],
        "email": _noisy_email(rng, [pp.email[i] for i in idx], 0.04, 0.02, 0.0),
        "firstname": [pp.first_name[i] for i in idx],
        "lastname": [pp.last_name[i] for i in idx],
        "company": [co.variants[pp.company[i]][1] for i in idx],
        "jobtitle": [pp.title[i] for i in idx],
        "industry": [hs_industry(co.industry[pp.company[i]]) for i in idx],
        "lifecyclestage": [stages[i] for i in idx],
        "hs_lead_status": [statuses[i] for i in idx],
        "hubspot_owner_id": [str(o) if h else None for o, h in zip(owner, has_owner, strict=True)],
        "createdate": _ts(created),
        "lastmodifieddate": _ts(modified),
        "archived": rng.random(len(idx)) < 0.01,
    }


def hs_industry(code: int) -> str:
    """HubSpot's industry enumeration value for an index into names.INDUSTRIES."""
    return nm.INDUSTRIES[int(code)].upper().replace(" ", "_")


def hubspot_companies(
    rng: np.random.Generator,
    co: Companies,
    pp: People,
    in_hs: np.ndarray,
    contacts: dict[str, Any],
    *,
    update_share: float,
    archive_share: float,
) -> tuple[dict[str, object], dict[str, object]]:
    """HubSpot companies of the chunk (those with a HubSpot contact) and the contacts'
    company associations. ``contacts`` are the rows of the people ``in_hs``, in order.

    A company is created with its first contact, takes the most advanced lifecycle stage
    of its contacts and an owner once it is past ``lead``.
    """
    slot_of = pp.company[np.flatnonzero(in_hs)]
    present, slot = np.unique(slot_of, return_inverse=True)
    m = len(present)
    created = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(created, slot, _seconds(contacts["createdate"]))
    rank = np.zeros(m, dtype=np.int64)
    np.maximum.at(rank, slot, [HS_STAGES.index(s) for s in contacts["lifecyclestage"]])
    modified = _random_update(rng, created, update_share)
    owner = np.array(HS_OWNERS)[rng.integers(0, len(HS_OWNERS), m)]
    place = rng.integers(0, 1 << 16, m)
    jp = co.is_japanese[present]
    intl = [nm.INTL_CITIES[k % len(nm.INTL_CITIES)] for k in place]
    companies = {
        "id": HS_COMPANY_BASE + co.company_id[present],
        "company_id": co.company_id[present],
        "name": [co.name[c] for c in present],
        "domain": [co.domain[c] for c in present],
        "industry": [hs_industry(co.industry[c]) for c in present],
        "numberofemployees": co.employees[present],
        "city": [
            nm.JP_CITIES[k % len(nm.JP_CITIES)] if j else city
            for k, j, (city, _) in zip(place, jp, intl, strict=True)
        ],
        "country": ["Japan" if j else country for j, (_, country) in zip(jp, intl, strict=True)],
        "lifecyclestage": [HS_STAGES[r] for r in rank],
        "hubspot_owner_id": [str(o) if r > 1 else None for o, r in zip(owner, rank, strict=True)],
        "createdate": _ts(created),
        "hs_lastmodifieddate": _ts(modified),
        "archived": rng.random(m) < archive_share,
    }
    links = _company_links(rng, np.asarray(contacts["id"]), companies["id"], slot)
    return companies, links


def _company_links(
    rng: np.random.Generator, contact_ids: np.ndarray, company_ids: np.ndarray, slot: np.ndarray
) -> dict[str, object]:
    """Each contact's own company (primary) and, for a few, a second one (unlabeled)."""
    n, m = len(contact_ids), len(company_ids)
    second = rng.random(n) < SECOND_COMPANY_SHARE
    other = (slot + rng.integers(1, max(m, 2), n)) % max(m, 1)
    extra = second & (other != slot)
    return {
        "contact_id": np.concatenate([contact_ids, contact_ids[extra]]).astype(np.int64),
        "company_id": np.concatenate([company_ids[slot], company_ids[other[extra]]]).astype(
            np.int64
        ),
        "is_primary": np.concatenate([np.ones(n, dtype=bool), np.zeros(int(extra.sum()), bool)]),
    }


def _seconds(values: Any) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[s]").astype(np.int64)


def hs_owners() -> dict[str, object]:
    """HubSpot owners: the active sales team and the former owners (archived)."""
    ids = HS_OWNERS + HS_FORMER_OWNERS
    since = history_start() - 400 * DAY
    left = np.array([o in HS_FORMER_OWNERS for o in ids])
    return {
        "id": [str(o) for o in ids],
        "email": [f"owner{k + 1}@nurture-demo.example.com" for k in range(len(ids))],
        "firstName": [nm.EN_FIRST[k] for k in range(len(ids))],
        "lastName": [nm.EN_LAST[k] for k in range(len(ids))],
        "userId": np.array(ids, dtype=np.int64) + 9_000_000,
        "createdAt": _ts(np.full(len(ids), since, dtype=np.int64)),
        "updatedAt": _ts(np.where(left, history_start() - 30 * DAY, since)),
        "archived": left,
    }


def salesforce(
    rng: np.random.Generator,
    pp: People,
    co: Companies,
    st: LeadState,
    truth: dict[str, np.ndarray],
    lead_source: np.ndarray,
) -> tuple[dict[str, dict[str, object]], list[str | None], dict[int, str], dict[str, np.ndarray]]:
    """SFA records of the chunk; returns tables, each person's SF lead status, opp states and
    per-person won/amount for the truth export."""
    n = len(pp.person_id)
    today = today_ts()
    converted = truth["converted"]
    conv_rate = converted.mean() if n else 0.0
    q = max(0.0, (0.4 - conv_rate) / max(1e-9, 1 - conv_rate))
    in_sf = converted | (rng.random(n) < q)
    idx = np.flatnonzero(in_sf)
    owner_seq = rng.integers(1, SF_USERS + 1, n)
    owners = sf_ids("User", owner_seq)
    created = np.minimum(pp.created_ts + rng.integers(3600, 10 * DAY, n), today - 3600)
    created = np.where(converted, np.minimum(created, truth["converted_ts"] - 3600), created)

    status: list[str | None] = [None] * n
    draw = rng.random(n)
    mql = st.realized >= 5
    for i in idx:
        if converted[i]:
            status[i] = "Closed - Converted"
        elif mql[i]:
            # MQLs handed to sales: accepted, rejected or recycled back to nurturing.
            status[i] = (
                "Working - Contacted"
                if draw[i] < 0.5
                else "Closed - Not Converted"
                if draw[i] < 0.75
                else "Recycled"
            )
        else:
            status[i] = "Open - Not Contacted" if draw[i] < 0.85 else "Closed - Not Converted"
    changed = np.where(
        np.array([s not in (None, "Open - Not Contacted") for s in status]),
        np.minimum(
            np.maximum(created, st.last_touch_ts) + rng.integers(DAY, 20 * DAY, n), today - 60
        ),
        created,
    )
    changed = np.where(converted, truth["converted_ts"], changed)
    # The MQLs were handed to sales when their Salesforce lead was made (a hand-off Task);
    # the owner answered after a response time of their own (see ``verdicts``), or not
    # yet, or never: those still wait in Open - Not Contacted.
    buy_rng, sales_rng = rng.spawn(2)  # child generators: the chunk's own draws stay
    handed = mql & ~converted & in_sf
    response = verdicts.response_hours(sales_rng, n)
    acted = created + np.nan_to_num(response * 3600, nan=0).astype(np.int64)
    waits = handed & (np.isnan(response) | (acted >= today - 60))
    for i in np.flatnonzero(waits):
        status[i] = "Open - Not Contacted"
    changed = np.where(handed & ~waits, acted, np.where(waits, created, changed))
    tasks = _sales_tasks(pp, idx, handed, waits, created, acted, status, owners)

    # Accounts: one per company with a converted person.
    conv_idx = np.flatnonzero(converted)
    comp_rows = sorted({int(pp.company[i]) for i in conv_idx})
    account_of = {c: co.company_id[c] for c in comp_rows}
    account_ids = dict(
        zip(comp_rows, sf_ids("Account", [account_of[c] for c in comp_rows]), strict=True)
    )
    first_conv: dict[int, int] = {}
    first_owner: dict[int, str] = {}
    for i in conv_idx[np.argsort(truth["converted_ts"][conv_idx], kind="stable")]:
        c = int(pp.company[i])
        first_conv.setdefault(c, int(truth["converted_ts"][i]))
        first_owner.setdefault(c, owners[i])
    contact_ids = sf_ids("Contact", pp.person_id[conv_idx])
    opp_ids = sf_ids("Opportunity", pp.person_id[conv_idx])

    opp_state: dict[int, str] = {}
    won = np.zeros(n, dtype=bool)
    amount_truth = np.zeros(n)
    opps: dict[str, list] = {
        k: []
        for k in (
            "Id",
            "AccountId",
            "Name",
            "StageName",
            "Amount",
            "CloseDate",
            "IsClosed",
            "IsWon",
            "Probability",
            "LeadSource",
            "OwnerId",
            "CreatedDate",
            "SystemModstamp",
            "IsDeleted",
        )
    }
    first_won: dict[int, tuple[int, float, str]] = {}  # company -> first win, amount, owner
    hist: dict[str, list] = {
        k: []
        for k in (
            "Id",
            "OpportunityId",
            "StageName",
            "Amount",
            "CloseDate",
            "Probability",
            "CreatedDate",
            "SystemModstamp",
            "IsDeleted",
        )
    }
    for k, i in enumerate(conv_idx):
        c = int(pp.company[i])
        price = BAND_PRICE[co.size_band[c]] * float(np.exp(rng.normal(0, 0.35)))
        amount = round(price, -4)
        will_win = rng.random() < 0.25 + 0.5 * truth["propensity"][i]
        reach = len(STAGES) if will_win else int(rng.integers(1, len(STAGES) + 1))
        t = int(truth["converted_ts"][i])
        steps: list[tuple[str, int, int]] = []
        for name, prob in STAGES[:reach]:
            if t >= today:
                break
            steps.append((name, prob, t))
            t += int(rng.exponential(10) * DAY) + DAY
        final = WON if will_win else LOST
        closed = t < today and len(steps) == reach
        if closed:
            steps.append((final[0], final[1], t))
        name, prob, last_t = steps[-1]
        close_date = to_datetime(last_t if closed else last_t + 30 * DAY).date()
        opp_state[int(i)] = "won" if closed and will_win else "lost" if closed else "open"
        won[i] = closed and will_win
        amount_truth[i] = amount if won[i] else 0.0
        if won[i] and (c not in first_won or last_t < first_won[c][0]):
            first_won[c] = (last_t, amount, owners[i])
        for step, (s_name, s_prob, s_t) in enumerate(steps):
            hist["Id"].append(pp.person_id[i] * 8 + step)
            hist["OpportunityId"].append(opp_ids[k])
            hist["StageName"].append(s_name)
            hist["Amount"].append(amount)
            hist["CloseDate"].append(close_date)
            hist["Probability"].append(s_prob)
            hist["CreatedDate"].append(s_t)
            hist["SystemModstamp"].append(s_t)
            hist["IsDeleted"].append(False)
        opps["Id"].append(opp_ids[k])
        opps["AccountId"].append(account_ids[c])
        opps["Name"].append(f"{co.variants[c][2]} - Nurture {to_datetime(steps[0][2]).year}")
        opps["StageName"].append(name)
        opps["Amount"].append(amount)
        opps["CloseDate"].append(close_date)
        opps["IsClosed"].append(closed)
        opps["IsWon"].append(bool(won[i]))
        opps["Probability"].append(prob)
        opps["LeadSource"].append(LEAD_SOURCES[lead_source[i]])
        opps["OwnerId"].append(owners[i])
        opps["CreatedDate"].append(int(truth["converted_ts"][i]))
        opps["SystemModstamp"].append(last_t)
        opps["IsDeleted"].append(False)
    hist["Id"] = sf_ids("OpportunityHistory", hist["Id"])
    opps["Type"] = [renewals.NEW_BUSINESS] * len(opps["Id"])
    for tbl in (opps, hist):
        tbl["CreatedDate"] = _ts(np.array(tbl["CreatedDate"], dtype=np.int64))
        tbl["SystemModstamp"] = _ts(np.array(tbl["SystemModstamp"], dtype=np.int64))
    # the won accounts' other purchases: earlier ones, renewals and expansions
    more: dict[str, list] = {"seq": [], "acc": [], "name": [], "owner": [], "items": []}
    for c in sorted(first_won):
        win_at, base, owner = first_won[c]
        start, items = renewals.purchases(buy_rng, win_at, base, today)
        first_conv[c] = min(first_conv[c], start)
        for j, item in enumerate(items[:63]):
            more["seq"].append(renewals.RENEWAL_SEQ_BASE + int(co.company_id[c]) * 64 + j)
            more["acc"].append(account_ids[c])
            more["name"].append(co.variants[c][2])
            more["owner"].append(owner)
            more["items"].append(item)
    r_opps, r_hist = renewals.opportunity_rows(
        more["seq"], more["acc"], more["name"], more["owner"], more["items"]
    )
    opps = {k: _concat(v, r_opps[k]) for k, v in opps.items()}
    hist = {k: _concat(v, r_hist[k]) for k, v in hist.items()}

    conv_pos = {int(i): k for k, i in enumerate(conv_idx)}
    leads = {
        "Id": sf_ids("Lead", pp.person_id[idx]),
        "person_id": pp.person_id[idx],
        "Email": _noisy_email(rng, [pp.email[i] for i in idx], 0.04, 0.0, 0.02),
        "FirstName": [pp.first_name[i] for i in idx],
        "LastName": [pp.last_name[i] for i in idx],
        "Company": [co.variants[pp.company[i]][2] for i in idx],
        "Title": [pp.title[i] for i in idx],
        "Industry": [nm.INDUSTRIES[co.industry[pp.company[i]]] for i in idx],
        "NumberOfEmployees": co.employees[pp.company[idx]],
        "Status": [status[i] for i in idx],
        "LeadSource": [LEAD_SOURCES[lead_source[i]] for i in idx],
        "OwnerId": [owners[i] for i in idx],
        "IsConverted": converted[idx],
        "ConvertedDate": [
            to_datetime(truth["converted_ts"][i]).date() if converted[i] else None for i in idx
        ],
        "ConvertedAccountId": [
            account_ids[int(pp.company[i])] if converted[i] else None for i in idx
        ],
        "ConvertedContactId": [
            contact_ids[conv_pos[int(i)]] if converted[i] else None for i in idx
        ],
        "ConvertedOpportunityId": [
            opp_ids[conv_pos[int(i)]] if converted[i] else None for i in idx
        ],
        "IsDeleted": (rng.random(len(idx)) < 0.01) & ~converted[idx],
        "CreatedDate": _ts(created[idx]),
        "SystemModstamp": _ts(np.maximum(changed[idx], created[idx])),
        "Nurture_Lead_Id__c": [None] * len(idx),
        "Nurture_Score__c": np.full(len(idx), np.nan),
        "Nurture_Grade__c": [None] * len(idx),
    }
    accounts = {
        "Id": [account_ids[c] for c in comp_rows],
        "Name": [co.variants[c][2] for c in comp_rows],
        "Website": [f"https://www.{co.domain[c]}" for c in comp_rows],
        "Industry": [nm.INDUSTRIES[co.industry[c]] for c in comp_rows],
        "NumberOfEmployees": co.employees[comp_rows] if comp_rows else np.zeros(0, dtype=np.int64),
        "OwnerId": [first_owner[c] for c in comp_rows],
        "CreatedDate": _ts(np.array([first_conv[c] for c in comp_rows], dtype=np.int64)),
        "SystemModstamp": _ts(np.array([first_conv[c] for c in comp_rows], dtype=np.int64)),
        "IsDeleted": np.zeros(len(comp_rows), dtype=bool),
    }
    conv_ts = truth["converted_ts"][conv_idx]
    contacts = {
        "Id": contact_ids,
        "AccountId": [account_ids[int(pp.company[i])] for i in conv_idx],
        "Email": [pp.email[i] for i in conv_idx],
        "FirstName": [pp.first_name[i] for i in conv_idx],
        "LastName": [pp.last_name[i] for i in conv_idx],
        "Title": [pp.title[i] for i in conv_idx],
        "Department": [nm.DEPARTMENTS[pp.department[i]][1] for i in conv_idx],
        "LeadSource": [LEAD_SOURCES[lead_source[i]] for i in conv_idx],
        "OwnerId": [owners[i] for i in conv_idx],
        "CreatedDate": _ts(conv_ts),
        "SystemModstamp": _ts(conv_ts),
        "IsDeleted": np.zeros(len(conv_idx), dtype=bool),
    }
    roles = {
        "Id": sf_ids("OpportunityContactRole", pp.person_id[conv_idx]),
        "OpportunityId": opp_ids,
        "ContactId": contact_ids,
        "Role": ["Decision Maker" if pp.seniority[i] >= 3 else "Evaluator" for i in conv_idx],
        "IsPrimary": np.ones(len(conv_idx), dtype=bool),
        "CreatedDate": _ts(conv_ts),
        "SystemModstamp": _ts(conv_ts),
        "IsDeleted": np.zeros(len(conv_idx), dtype=bool),
    }
    tables = {
        "sf_task": tasks,
        "sf_lead_history": _lead_history(
            pp.person_id[idx],
            created[idx],
            np.maximum(changed[idx], created[idx]),
            [status[i] for i in idx],
        ),
        "sf_lead": leads,
        "sf_account": accounts,
        "sf_contact": contacts,
        "sf_opportunity": opps,
        "sf_opportunity_history": hist,
        "sf_opportunity_contact_role": roles,
    }
    return tables, status, opp_state, {"won": won, "won_amount": amount_truth, "in_sf": in_sf}


def _sales_tasks(
    pp: People,
    idx: np.ndarray,
    handed: np.ndarray,
    waits: np.ndarray,
    created: np.ndarray,
    acted: np.ndarray,
    status: list[str | None],
    owners: list[str],
) -> dict[str, object]:
    """Tasks on the handed-over leads: the hand-off's (Nurture MQL, not started) when the
    lead was made, and the owner's call with the verdict (completed) when they answered."""
    subject = {k: v[1] for v in verdicts.OUTCOMES.values() for k in [v[0]]}
    rows: dict[str, list] = {
        k: [] for k in ("seq", "WhoId", "Subject", "Description", "Status", "OwnerId", "at")
    }
    lead_ids = dict(zip(idx.tolist(), sf_ids("Lead", pp.person_id[idx]), strict=True))
    for i in idx[handed[idx]]:
        name = f"{pp.last_name[i]} {pp.first_name[i]}"
        handoff = f"{verdicts.HANDOFF_SUBJECT} {name}"
        steps = [(0, handoff, "MQL hand-off", "Not Started", int(created[i]))]
        if not waits[i]:
            text = f"Sales verdict on an MQL: {status[i]}"
            steps.append((1, subject[status[i]], text, "Completed", int(acted[i])))
        for k, subj, text, state, at in steps:
            rows["seq"].append(int(pp.person_id[i]) * 4 + k)
            rows["WhoId"].append(lead_ids[int(i)])
            rows["Subject"].append(subj)
            rows["Description"].append(text)
            rows["Status"].append(state)
            rows["OwnerId"].append(owners[i])
            rows["at"].append(at)
    at = np.array(rows.pop("at"), dtype=np.int64)
    return {
        "Id": sf_ids("Task", rows.pop("seq")),
        **rows,
        "Priority": ["Normal"] * len(at),
        "ActivityDate": [to_datetime(int(t)).date() for t in at],
        "CreatedDate": _ts(at),
        "SystemModstamp": _ts(at),
        "IsDeleted": np.zeros(len(at), dtype=bool),
    }


def _concat(left: Any, right: Any) -> Any:
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        if len(left) == 0:
            return np.asarray(right)
        return np.concatenate([np.asarray(left), np.asarray(right)])
    return list(left) + list(right)


def _lead_history(
    person_id: np.ndarray, created: np.ndarray, changed: np.ndarray, status: list[str | None]
) -> dict[str, object]:
    """LeadHistory of the built leads: the creation, then each Status change. A converted
    lead was worked (Working - Contacted) part-way between its creation and conversion;
    the share is a hash of the person, so the chunk's random draws stay as they were."""
    rows: dict[str, list] = {k: [] for k in ("seq", "LeadId", "Field", "OldValue", "NewValue")}
    at: list[int] = []
    lead_ids = sf_ids("Lead", person_id)

    def add(k: int, step: int, field: str, old: str | None, new: str | None, t: int) -> None:
        rows["seq"].append(int(person_id[k]) * 8 + step)
        rows["LeadId"].append(lead_ids[k])
        rows["Field"].append(field)
        rows["OldValue"].append(old)
        rows["NewValue"].append(new)
        at.append(int(t))

    for k, s in enumerate(status):
        t0, t1 = int(created[k]), int(changed[k])
        add(k, 0, "created", None, None, t0)
        if s in (None, "Open - Not Contacted"):
            continue
        if s == "Closed - Converted":
            share = 0.1 + 0.8 * ((int(person_id[k]) * 2_654_435_761) % 1000) / 1000
            worked = t0 + max(60, int((t1 - t0) * share))
            add(k, 1, "Status", "Open - Not Contacted", "Working - Contacted", min(worked, t1))
            add(k, 2, "Status", "Working - Contacted", s, t1)
        else:
            add(k, 1, "Status", "Open - Not Contacted", s, t1)
    return {
        "Id": sf_ids("LeadHistory", rows.pop("seq")),
        **rows,
        "CreatedDate": _ts(np.array(at, dtype=np.int64)),
        "IsDeleted": np.zeros(len(at), dtype=bool),
    }


def sf_users() -> dict[str, object]:
    seqs = list(range(1, SF_USERS + 1))
    first = [nm.JP_FIRST[i][0] for i in range(SF_USERS)]
    last = [nm.JP_LAST[i + 3][0] for i in range(SF_USERS)]
    since = np.full(SF_USERS, history_start() - 400 * DAY, dtype=np.int64)
    return {
        "Id": sf_ids("User", seqs),
        "Name": [f"{ln} {fn}" for ln, fn in zip(last, first, strict=True)],
        "FirstName": first,
        "LastName": last,
        "Email": [f"rep{i}@nurture-demo.example.com" for i in seqs],
        "Title": ["Inside Sales" if i <= 4 else "Account Executive" for i in seqs],
        "IsActive": np.ones(SF_USERS, dtype=bool),
        "CreatedDate": _ts(since),
        "SystemModstamp": _ts(since),
    }
