"""Customers buy again: yearly renewals and occasional expansions on won accounts.

An account that won a deal is a customer from its first purchase. Many of the built
world's customers bought before the simulated history (LEGACY_SHARE of them, up to
LEGACY_MAX_YEARS earlier): their earlier purchases are there as Closed Won opportunities.
On every anniversary of its first purchase a customer renews (a ``Renewal`` opportunity,
Closed Won) or, with chance CHURN_RATE, lets it lapse (``Renewal`` Closed Lost), which
ends the relationship; between renewals it expands (``Existing Customer - Upgrade``,
Closed Won) at EXPANSION_RATE a year. ``advance`` carries the same process on, day by
day. Every draw comes from a generator seeded with (seed, account), so the purchase
history is the same for the same seed.

Renewal opportunities take sequence numbers from RENEWAL_SEQ_BASE on, so they never
collide with the person-numbered ones (``lifecycle.next_person_id`` skips them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nurture.sandbox.clock import DAY, to_datetime
from nurture.sandbox.sfids import sf_ids

LEGACY_SHARE = 0.7  # won accounts that were customers before the simulated history
LEGACY_MAX_YEARS = 1.4  # syncs read two years back: the first purchase stays within
CHURN_RATE = 0.25  # a renewal lapses with this chance (expected lifetime 1 / 0.25 = 4 years)
EXPANSION_RATE = 0.35  # expansions a year between renewals
EXPANSION_SHARE = 0.4  # an expansion's amount, as a share of the first purchase
YEAR = int(365.25 * DAY)
RENEWAL_SEQ_BASE = 9_000_000_000  # opportunity (and history) sequence numbers of renewals
NEW_BUSINESS, RENEWAL, UPGRADE = "New Customer", "Renewal", "Existing Customer - Upgrade"


def account_rng(seed: int, account_seq: int) -> np.random.Generator:
    return np.random.default_rng([seed, 60_000, int(account_seq)])


def purchases(
    rng: np.random.Generator, first_win: int, amount: float, until: int, legacy: bool = True
) -> tuple[int, list[tuple[str, int, float, bool]]]:
    """A customer's purchases other than the deal won at ``first_win``: returns the start
    of the relationship and (type, close time, amount, won) for each, in time order,
    up to ``until``. The chain stops at the first lapsed renewal."""
    start = first_win
    if legacy and rng.random() < LEGACY_SHARE:
        start = first_win - int(rng.uniform(0.2, LEGACY_MAX_YEARS) * YEAR)
    out: list[tuple[str, int, float, bool]] = []
    if start < first_win:
        out.append((NEW_BUSINESS, start, amount * float(np.exp(rng.normal(0, 0.2))), True))
    t = start
    k = 1
    while True:
        anniversary = start + k * YEAR
        # expansions until the next anniversary (a Poisson process)
        while True:
            t += int(rng.exponential(1 / EXPANSION_RATE) * YEAR)
            if t >= min(anniversary, until):
                t = anniversary
                break
            if abs(t - first_win) > DAY:
                out.append((UPGRADE, t, round(amount * EXPANSION_SHARE, -4), True))
        if anniversary >= until:
            break
        renewed = rng.random() >= CHURN_RATE
        renewal = round(amount * float(np.exp(rng.normal(0, 0.1))), -4)
        out.append((RENEWAL, anniversary, renewal, renewed))
        if not renewed:
            break
        k += 1
    return start, out


def opportunity_rows(
    seqs: list[int],
    accounts: list[str],
    names: list[str],
    owners: list[str],
    items: list[tuple[str, int, float, bool]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Opportunity and OpportunityHistory columns for closed purchases (opened 30 days
    before they closed, at Negotiation/Review)."""
    opp_ids = sf_ids("Opportunity", seqs)
    opened = [max(t - 30 * DAY, 0) for _, t, _, _ in items]
    closed = [t for _, t, _, _ in items]
    won = [w for _, _, _, w in items]
    opps = {
        "Id": opp_ids,
        "AccountId": accounts,
        "Name": [
            f"{n} - {kind} {to_datetime(t).year}"
            for n, (kind, t, _, _) in zip(names, items, strict=True)
        ],
        "Type": [kind for kind, _, _, _ in items],
        "StageName": ["Closed Won" if w else "Closed Lost" for w in won],
        "Amount": [a for _, _, a, _ in items],
        "CloseDate": [to_datetime(t).date() for t in closed],
        "IsClosed": np.ones(len(items), dtype=bool),
        "IsWon": np.array(won, dtype=bool),
        "Probability": np.array([100 if w else 0 for w in won], dtype=np.int32),
        "LeadSource": [None] * len(items),
        "OwnerId": owners,
        "CreatedDate": _ts(opened),
        "SystemModstamp": _ts(closed),
        "IsDeleted": np.zeros(len(items), dtype=bool),
    }
    hist_seqs = [RENEWAL_SEQ_BASE + 2 * (s - RENEWAL_SEQ_BASE) + j for s in seqs for j in (0, 1)]
    hist = {
        "Id": sf_ids("OpportunityHistory", hist_seqs),
        "OpportunityId": [o for o in opp_ids for _ in (0, 1)],
        "StageName": [
            s for w in won for s in ("Negotiation/Review", "Closed Won" if w else "Closed Lost")
        ],
        "Amount": [a for _, _, a, _ in items for _ in (0, 1)],
        "CloseDate": [to_datetime(t).date() for t in closed for _ in (0, 1)],
        "Probability": np.array([p for w in won for p in (80, 100 if w else 0)], dtype=np.int32),
        "CreatedDate": _ts([x for o, c in zip(opened, closed, strict=True) for x in (o, c)]),
        "SystemModstamp": _ts([x for o, c in zip(opened, closed, strict=True) for x in (o, c)]),
        "IsDeleted": np.zeros(2 * len(items), dtype=bool),
    }
    return opps, hist


def _ts(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype("datetime64[s]")


def advance_day(con: Any, seed: int, day_no: int, lo: int) -> dict[str, int]:
    """The day's renewals (customers whose anniversary falls on it) and expansions (a
    daily hazard) on live customers: won accounts without a lapsed renewal. The draws are
    hashes of (account, seed, day)."""
    hazard = int(EXPANSION_RATE / 365.25 * 1_000_000)
    rows = con.execute(f"""
        with won as (
            select o."AccountId" as acc, min(epoch(o."SystemModstamp"))::bigint as start,
                avg(case when o."Type" is distinct from '{UPGRADE}' then o."Amount" end)
                    as base,
                min(o."OwnerId") as owner
            from sf_opportunity as o
            where o."IsWon" and not o."IsDeleted" and o."AccountId" is not null
                and o."SystemModstamp" < to_timestamp({lo})::timestamp
            group by 1
        ),
        live as (
            select w.*, a."Name" as name,
                (select count(*) from sf_opportunity as r where r."AccountId" = w.acc
                 and cast(substr(r."Id", 6, 10) as bigint) >= {RENEWAL_SEQ_BASE}) as taken,
                floor(({lo + DAY - 1} - w.start) / {YEAR})::bigint as k
            from won as w join sf_account as a on a."Id" = w.acc
            where not exists (
                select 1 from sf_opportunity as x where x."AccountId" = w.acc
                    and x."Type" = '{RENEWAL}' and x."IsClosed" and not x."IsWon")
        )
        select acc, name, owner, base, taken,
            case when k >= 1 and start + k * {YEAR} >= {lo} then start + k * {YEAR} end
                as anniversary,
            hash(acc, {seed}, {day_no}, 'renew') % 1000 >= {int(CHURN_RATE * 1000)} as renewed,
            hash(acc, {seed}, {day_no}, 'expand') % 1000000 < {hazard} as expands,
            {lo} + hash(acc, {seed}, {day_no}, 'expand-t') % {DAY} as expand_at
        from live order by acc""").fetchall()
    out: dict[str, list] = {"seq": [], "acc": [], "name": [], "owner": [], "items": []}
    counts = {"renewals_won": 0, "renewals_lost": 0, "expansions_won": 0}
    for acc, name, owner, base, taken, anniversary, renewed, expands, expand_at in rows:
        todo: list[tuple[str, int, float, bool]] = []
        if anniversary is not None:
            todo.append((RENEWAL, int(anniversary), round(float(base or 0), -4), bool(renewed)))
            counts["renewals_won" if renewed else "renewals_lost"] += 1
        if expands and (anniversary is None or renewed):
            todo.append(
                (UPGRADE, int(expand_at), round(float(base or 0) * EXPANSION_SHARE, -4), True)
            )
            counts["expansions_won"] += 1
        for j, item in enumerate(todo):
            if int(taken) + j >= 64:
                break
            out["seq"].append(RENEWAL_SEQ_BASE + int(acc[5:15]) * 64 + int(taken) + j)
            out["acc"].append(acc)
            out["name"].append(name)
            out["owner"].append(owner)
            out["items"].append(item)
    if out["seq"]:
        opps, hist = opportunity_rows(
            out["seq"], out["acc"], out["name"], out["owner"], out["items"]
        )
        for table, cols in (("sf_opportunity", opps), ("sf_opportunity_history", hist)):
            con.register("_renewals", _arrow(cols))
            con.execute(f"insert into {table} by name select * from _renewals")
            con.unregister("_renewals")
    return counts


def _arrow(cols: dict[str, Any]) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            k: v if isinstance(v, np.ndarray) and v.dtype != object else pa.array(list(v))
            for k, v in cols.items()
        }
    )
