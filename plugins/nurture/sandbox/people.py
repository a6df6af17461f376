"""Companies and people of one chunk of the world, with their latent fit and engagement."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nurture.sandbox import names as nm
from nurture.sandbox.clock import DAY, HISTORY_DAYS, today_ts

LEADS_PER_COMPANY = 8


@dataclass
class Companies:
    company_id: np.ndarray
    name: list[str]
    domain: list[str]
    industry: np.ndarray  # index into names.INDUSTRIES
    size_band: np.ndarray  # index into names.SIZE_BANDS
    employees: np.ndarray
    is_japanese: np.ndarray
    variants: list[tuple[str, str, str]]  # how Marketo, HubSpot and Salesforce spell the name


@dataclass
class People:
    person_id: np.ndarray
    company: np.ndarray  # index into the chunk's Companies
    is_japanese: np.ndarray
    first_name: list[str]
    last_name: list[str]
    seniority: np.ndarray
    department: np.ndarray
    title: list[str]
    email: list[str]
    is_free_mail: np.ndarray
    created_ts: np.ndarray
    fit: np.ndarray  # latent fit, standardised
    engagement: np.ndarray  # latent engagement affinity, standardised
    bad_address: np.ndarray  # the address will hard-bounce


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def make_companies(
    rng: np.random.Generator, first_id: int, n: int, used_domains: set[str]
) -> Companies:
    jp = rng.random(n) < 0.7
    industry = rng.integers(0, len(nm.INDUSTRIES), n)
    band = rng.choice(len(nm.SIZE_BANDS), n, p=[0.3, 0.3, 0.2, 0.13, 0.07])
    low = np.array(nm.SIZE_LOW)[band]
    high = np.array(nm.SIZE_HIGH)[band]
    employees = (low + rng.random(n) * (high - low)).astype(np.int64)
    stems = rng.integers(0, 10_000, (n, 3))
    variant_pick = rng.integers(0, 6, (n, 3))
    names: list[str] = []
    domains: list[str] = []
    variants: list[tuple[str, str, str]] = []
    for i in range(n):
        s0, s1, s2 = (int(x) for x in stems[i])
        if jp[i]:
            stem, stem_r = nm.JP_STEM[s0 % len(nm.JP_STEM)]
            core, core_r = nm.JP_CORE[s1 % len(nm.JP_CORE)]
            base = stem + core
            canonical = f"株式会社{base}" if s2 % 3 else f"{base}株式会社"
            forms = (
                canonical,
                f"（株）{base}",
                f"(株){base}",
                base,
                f"株式会社{_fullwidth(base)}",
                f"{base} 株式会社",
            )
            domain = f"{stem_r}-{core_r}.co.jp"
        else:
            stem = nm.EN_STEM[s0 % len(nm.EN_STEM)]
            core = nm.EN_CORE[s1 % len(nm.EN_CORE)]
            suffix = nm.EN_SUFFIX[s2 % len(nm.EN_SUFFIX)]
            canonical = f"{stem} {core} {suffix}"
            forms = (
                canonical,
                f"{stem} {core}",
                f"{stem} {core}, {suffix}",
                canonical.upper(),
                f"{stem}{core} {suffix}",
                f"{stem} {core} {suffix} ",
            )
            domain = f"{stem.lower()}{core.lower()}.com"
        # Distinct companies may share a name but never a domain.
        k = 2
        while domain in used_domains:
            head, _, tld = domain.partition(".")
            domain = f"{head.rstrip('0123456789')}{k}.{tld}"
            k += 1
        used_domains.add(domain)
        names.append(canonical)
        domains.append(domain)
        picks = variant_pick[i]
        # Marketo usually holds the canonical form; the other systems drift.
        variants.append(
            (
                canonical if picks[0] < 4 else forms[int(picks[0])],
                forms[int(picks[1])],
                forms[int(picks[2]) % 4],
            )
        )
    return Companies(
        company_id=np.arange(first_id, first_id + n, dtype=np.int64),
        name=names,
        domain=domains,
        industry=industry,
        size_band=band,
        employees=employees,
        is_japanese=jp,
        variants=variants,
    )


def make_people(
    rng: np.random.Generator, first_id: int, n: int, companies: Companies, used_free: set[str]
) -> People:
    n_comp = len(companies.name)
    # Skewed company sizes: a few companies hold many of the leads.
    company = np.minimum((n_comp * rng.random(n) ** 1.6).astype(np.int64), n_comp - 1)
    jp = np.where(
        rng.random(n) < 0.9, companies.is_japanese[company], ~companies.is_japanese[company]
    )
    seniority = rng.choice(len(nm.SENIORITY), n, p=nm.SENIORITY_P)
    department = rng.integers(0, len(nm.DEPARTMENTS), n)
    free = rng.random(n) < 0.08
    name_pick = rng.integers(0, 10_000, (n, 3))
    person_id = np.arange(first_id, first_id + n, dtype=np.int64)

    fit = (
        np.array(nm.INDUSTRY_FIT)[companies.industry[company]]
        + np.array(nm.SIZE_FIT)[companies.size_band[company]]
        + np.array([s[2] for s in nm.SENIORITY])[seniority]
        + np.array([d[2] for d in nm.DEPARTMENTS])[department]
        - 0.8 * free
        + rng.normal(0, 0.5, n)
    )
    fit = (fit - 0.55) / 1.2
    engagement = rng.normal(0, 1, n)
    # A long-lived database: half the leads predate the 180-day history window.
    today = today_ts()
    old = rng.random(n) < 0.5
    created = np.where(
        old,
        today - ((HISTORY_DAYS + rng.random(n) * 540) * DAY),
        today - (HISTORY_DAYS * DAY * rng.random(n) ** 0.8),
    ).astype(np.int64)
    created -= created % 60

    first: list[str] = []
    last: list[str] = []
    title: list[str] = []
    email: list[str] = []
    used_local: set[str] = set()
    for i in range(n):
        a, b, c = (int(x) for x in name_pick[i])
        sen = nm.SENIORITY[seniority[i]]
        dep = nm.DEPARTMENTS[department[i]]
        if jp[i]:
            ln, ln_r = nm.JP_LAST[a % len(nm.JP_LAST)]
            fn, fn_r = nm.JP_FIRST[b % len(nm.JP_FIRST)]
            ttl = f"{dep[0]} {sen[0]}" if sen[0] not in ("取締役",) else sen[0]
        else:
            ln = nm.EN_LAST[a % len(nm.EN_LAST)]
            fn = nm.EN_FIRST[b % len(nm.EN_FIRST)]
            ln_r, fn_r = ln.lower(), fn.lower()
            ttl = f"{sen[1]}, {dep[1]}" if sen[1] != "Staff" else f"{dep[1]} Staff"
        pattern = c % 3
        local = (f"{fn_r}.{ln_r}", f"{fn_r[0]}.{ln_r}", f"{ln_r}.{fn_r}")[pattern]
        if free[i]:
            addr = f"{fn_r}.{ln_r}{c % 1000}@{nm.FREE_MAIL[c % len(nm.FREE_MAIL)]}"
            k = 1
            while addr in used_free:
                addr = f"{fn_r}.{ln_r}{c % 1000}{k}@{nm.FREE_MAIL[c % len(nm.FREE_MAIL)]}"
                k += 1
            used_free.add(addr)
        else:
            domain = companies.domain[company[i]]
            addr = f"{local}@{domain}"
            k = 2
            while addr in used_local:
                addr = f"{local}{k}@{domain}"
                k += 1
            used_local.add(addr)
        first.append(fn)
        last.append(ln)
        title.append(ttl)
        email.append(addr)
    return People(
        person_id=person_id,
        company=company,
        is_japanese=jp,
        first_name=first,
        last_name=last,
        seniority=seniority,
        department=department,
        title=title,
        email=email,
        is_free_mail=free,
        created_ts=created,
        fit=fit,
        engagement=engagement,
        bad_address=rng.random(n) < 0.015,
    )
