"""Simulated engagement of one chunk of people over a time range, as Marketo activities.

Everything is vectorised over the chunk's people; loops run over campaigns only.
Rows are staged with integer codes (pages, statuses, query strings) that the world
builder resolves into the activity attributes Marketo prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nurture.sandbox import names as nm
from nurture.sandbox.campaigns import Calendar, Program, status_code
from nurture.sandbox.clock import DAY, HISTORY_DAYS

# Marketo activity type ids.
VISIT, FORM, SEND, DELIVERED, BOUNCED, UNSUBSCRIBE, OPEN, CLICK, NEW_LEAD = (
    1,
    2,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
)
PROGRAM_STATUS = 104

ACTIVITY_TYPES: dict[int, tuple[str, str]] = {
    1: ("Visit Webpage", "Webpage ID"),
    2: ("Fill out Form", "Webform ID"),
    6: ("Send Email", "Mailing ID"),
    7: ("Email Delivered", "Mailing ID"),
    8: ("Email Bounced", "Mailing ID"),
    9: ("Unsubscribe Email", "Mailing ID"),
    10: ("Open Email", "Mailing ID"),
    11: ("Click Email", "Mailing ID"),
    12: ("New Lead", "Lead ID"),
    104: ("Change Status in Progression", "Program ID"),
}

FORMS: tuple[str, ...] = (
    "Demo Request",
    "Contact Us",
    "Whitepaper Download",
    "Webinar Registration",
    "Event Registration",
)
PAGE_INDEX = {path: i for i, (path, _) in enumerate(nm.PAGES)}
_CONTENT_PAGES = np.array(
    [i for i, (_, k) in enumerate(nm.PAGES) if k in ("product", "case", "blog", "pricing")]
)
_BROWSE_PAGES = np.array([i for i, (_, k) in enumerate(nm.PAGES) if k not in ("contact",)])

# Query-string codes: the campaign's UTM string, or a personalisation segment per industry.
QP_UTM = 1
QP_SEGMENT = 100

COLUMNS = (
    "lead",
    "ts",
    "type",
    "campaign",
    "asset",
    "variant",
    "link",
    "qp",
    "category",
    "status_new",
    "status_old",
    "mobile",
)


@dataclass
class Events:
    """Column buffers of staged activities; -1 means 'no value' in the code columns."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=lambda: {c: [] for c in COLUMNS})

    def add(
        self,
        lead: np.ndarray,
        ts: np.ndarray,
        type_id: int,
        campaign: int | np.ndarray,
        asset: int | np.ndarray,
        **codes: int | np.ndarray,
    ) -> None:
        n = len(lead)
        if n == 0:
            return
        self.parts["lead"].append(np.asarray(lead, dtype=np.int64))
        self.parts["ts"].append(np.asarray(ts, dtype=np.int64))
        self.parts["type"].append(np.full(n, type_id, dtype=np.int16))
        self.parts["campaign"].append(np.broadcast_to(np.asarray(campaign, dtype=np.int32), (n,)))
        self.parts["asset"].append(np.broadcast_to(np.asarray(asset, dtype=np.int32), (n,)))
        for col in COLUMNS[5:]:
            value = codes.get(col, -1)
            self.parts[col].append(np.broadcast_to(np.asarray(value, dtype=np.int32), (n,)))

    def arrays(self) -> dict[str, np.ndarray]:
        out = {}
        for col, chunks in self.parts.items():
            out[col] = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        return out


@dataclass
class LeadState:
    """What the simulation remembers about each person between campaigns and days."""

    unsubscribed_ts: np.ndarray
    invalid_ts: np.ndarray
    exposures: np.ndarray  # person x creative
    recent_sends: np.ndarray  # sends in the last 30 days, decayed
    realized: np.ndarray  # realised engagement points (drives the true outcome)
    last_touch_ts: np.ndarray

    @classmethod
    def fresh(cls, n: int, n_creatives: int) -> LeadState:
        return cls(
            unsubscribed_ts=np.zeros(n, dtype=np.int64),
            invalid_ts=np.zeros(n, dtype=np.int64),
            exposures=np.zeros((n, n_creatives), dtype=np.int16),
            recent_sends=np.zeros(n),
            realized=np.zeros(n),
            last_touch_ts=np.zeros(n, dtype=np.int64),
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Chunk:
    """The people of a chunk as the simulation needs them."""

    lead_id: np.ndarray  # Marketo lead id of each person's primary record
    created_ts: np.ndarray
    fit: np.ndarray
    engagement: np.ndarray
    bad_address: np.ndarray
    industry: np.ndarray


def simulate(
    rng: np.random.Generator,
    cal: Calendar,
    people: Chunk,
    state: LeadState,
    start: int,
    end: int,
    events: Events,
) -> None:
    """Append the activities of [start, end) to events and update state."""
    _new_leads(people, start, end, events)
    for send in cal.sends:
        if start <= send.send_ts < end:
            _email_send(rng, cal, people, state, send, events)
    for prog in cal.programs:
        lo, hi = max(start, prog.launch_ts), min(end, prog.end_ts)
        if lo >= hi:
            continue
        # Rates are per program life, and per 180 days for always-on programs.
        share = (hi - lo) / min(prog.end_ts - prog.launch_ts, HISTORY_DAYS * DAY)
        handler = _CHANNEL_SIM.get(prog.channel)
        if handler is not None:
            handler(rng, people, state, prog, lo, hi, share, events)


def _new_leads(people: Chunk, start: int, end: int, events: Events) -> None:
    idx = np.flatnonzero((people.created_ts >= start) & (people.created_ts < end))
    events.add(people.lead_id[idx], people.created_ts[idx], NEW_LEAD, 0, 0)


def _email_send(
    rng: np.random.Generator, cal: Calendar, p: Chunk, st: LeadState, send, ev: Events
) -> None:
    n = len(p.lead_id)
    ts0 = send.send_ts
    st.recent_sends *= 0.75  # about a 30-day memory at one send every nine days
    eligible = (
        (p.created_ts < ts0)
        & (st.unsubscribed_ts == 0)
        & (st.invalid_ts == 0)
        & (rng.random(n) < send.audience_share)
    )
    idx = np.flatnonzero(eligible)
    m = len(idx)
    if m == 0:
        return
    variant = (rng.random(m) < 0.5).astype(np.int32)  # 0 = A, 1 = B
    creative = np.where(variant == 0, send.creatives[0], send.creatives[1])
    mailing = np.where(variant == 0, send.mailing_ids[0], send.mailing_ids[1])
    lead = p.lead_id[idx]
    t_send = ts0 + rng.integers(0, 3600, m)
    ev.add(lead, t_send, SEND, send.campaign_id, mailing, variant=variant + 1)
    st.recent_sends[idx] += 1

    hard = p.bad_address[idx] | (rng.random(m) < 0.002)
    soft = ~hard & (rng.random(m) < 0.015)
    t_bounce = t_send + rng.integers(5, 600, m)
    ev.add(
        lead[hard],
        t_bounce[hard],
        BOUNCED,
        send.campaign_id,
        mailing[hard],
        variant=variant[hard] + 1,
        category=1,
    )
    ev.add(
        lead[soft],
        t_bounce[soft],
        BOUNCED,
        send.campaign_id,
        mailing[soft],
        variant=variant[soft] + 1,
        category=2,
    )
    st.invalid_ts[idx[hard]] = t_bounce[hard]

    ok = ~hard & ~soft
    t_deliv = t_send + rng.integers(5, 180, m)
    ev.add(lead[ok], t_deliv[ok], DELIVERED, send.campaign_id, mailing[ok], variant=variant[ok] + 1)

    e = p.engagement[idx]
    p_open = _sigmoid(-1.1 + 0.9 * e)
    opened = ok & (rng.random(m) < p_open)
    t_open = t_deliv + (rng.exponential(6 * 3600, m)).astype(np.int64) + 30
    mobile = (rng.random(m) < 0.45).astype(np.int32)
    ev.add(
        lead[opened],
        t_open[opened],
        OPEN,
        send.campaign_id,
        mailing[opened],
        variant=variant[opened] + 1,
        mobile=mobile[opened],
    )

    # Click appeal: creative appeal, content type by engagement (problem-solution works on
    # the cold, service intros on the warm), and creative fatigue with repeated exposure.
    content = cal.creative_content[creative]
    affinity = np.where(content == 0, 0.35 - 0.25 * e, -0.1 + 0.35 * e)
    exposures = st.exposures[idx, creative]
    appeal = cal.creative_appeal[creative] * 0.6**exposures
    p_click = _sigmoid(-1.6 + 0.7 * e + affinity) * appeal
    clicked = opened & (rng.random(m) < p_click)
    # The truth behind the A/B tests: each mailing's expected unique CTR when delivered.
    for v, mailing_id in enumerate(send.mailing_ids):
        arm = ok & (variant == v)
        acc = cal.click_truth.setdefault(int(mailing_id), [0.0, 0.0])
        acc[0] += float((p_open[arm] * np.minimum(p_click[arm], 1.0)).sum())
        acc[1] += float(arm.sum())
    st.exposures[idx[ok], creative[ok]] += 1
    t_click = t_open + rng.integers(5, 900, m)
    link = rng.choice(_CONTENT_PAGES, m)
    ev.add(
        lead[clicked],
        t_click[clicked],
        CLICK,
        send.campaign_id,
        mailing[clicked],
        variant=variant[clicked] + 1,
        link=link[clicked],
        mobile=mobile[clicked],
    )
    ci = np.flatnonzero(clicked)
    _visits_after(rng, p, st, idx[ci], t_click[ci], link[ci], send.campaign_id, ev)
    st.realized[idx[ci]] += 1.0
    st.last_touch_ts[idx[ci]] = t_click[ci]

    # Unsubscribes rise with send frequency and with service intros sent to cold leads.
    p_unsub = 0.0015 + 0.002 * st.recent_sends[idx] + 0.004 * ((content == 1) & (e < -0.5))
    unsub = ok & (rng.random(m) < p_unsub)
    t_unsub = np.where(opened, t_open, t_deliv) + rng.integers(20, 600, m)
    ev.add(
        lead[unsub],
        t_unsub[unsub],
        UNSUBSCRIBE,
        send.campaign_id,
        mailing[unsub],
        variant=variant[unsub] + 1,
    )
    st.unsubscribed_ts[idx[unsub]] = t_unsub[unsub]


def _visits_after(
    rng: np.random.Generator,
    p: Chunk,
    st: LeadState,
    idx: np.ndarray,
    t0: np.ndarray,
    landing: np.ndarray,
    campaign: int,
    ev: Events,
) -> None:
    """A landing page view, then a session of further pages and sometimes a form."""
    m = len(idx)
    if m == 0:
        return
    lead = p.lead_id[idx]
    t_land = t0 + rng.integers(2, 20, m)
    ev.add(lead, t_land, VISIT, campaign, landing, qp=QP_UTM)
    extra = np.minimum(rng.poisson(0.5 + 0.9 * np.maximum(p.engagement[idx], 0)), 8)
    rep = np.repeat(np.arange(m), extra)
    if len(rep):
        pos = np.arange(len(rep)) - np.repeat(np.cumsum(extra) - extra, extra)
        pages = rng.choice(_BROWSE_PAGES, len(rep))
        ev.add(
            lead[rep],
            t_land[rep] + (pos + 1) * rng.integers(20, 240, len(rep)),
            VISIT,
            campaign,
            pages,
        )
        st.realized[idx] += 0.2 * extra
    form = rng.random(m) < 0.04 + 0.06 * _sigmoid(2 * p.fit[idx])
    fi = np.flatnonzero(form)
    ev.add(
        lead[fi],
        t_land[fi] + 600 + rng.integers(0, 600, len(fi)),
        FORM,
        campaign,
        rng.integers(0, 2, len(fi)),
    )
    ev.add(
        lead[fi],
        t_land[fi] + 601 + rng.integers(0, 600, len(fi)),
        VISIT,
        campaign,
        PAGE_INDEX["/demo-request"],
    )
    st.realized[idx[fi]] += 3.0


def _window_times(rng: np.random.Generator, lo: np.ndarray | int, hi: int, n: int) -> np.ndarray:
    return (lo + rng.random(n) * (hi - np.asarray(lo))).astype(np.int64)


def _pick(rng: np.random.Generator, p: Chunk, lo: int, hi: int, prob: np.ndarray) -> np.ndarray:
    """Indices of people alive in [lo, hi) chosen with probability prob."""
    n = len(p.lead_id)
    return np.flatnonzero((p.created_ts < hi) & (rng.random(n) < prob))


def _content(rng, p, st, prog, lo, hi, share, ev) -> None:
    idx = _pick(rng, p, lo, hi, share * 0.05 * _sigmoid(1.2 * p.engagement + 0.5 * p.fit) * 2)
    t = _window_times(rng, np.maximum(p.created_ts[idx], lo), hi, len(idx))
    lead = p.lead_id[idx]
    page = PAGE_INDEX["/resources/whitepaper"]
    ev.add(lead, t, VISIT, prog.campaign_id, page, qp=QP_UTM)
    ev.add(lead, t + 90, FORM, prog.campaign_id, FORMS.index("Whitepaper Download"))
    st.realized[idx] += 2.0
    st.last_touch_ts[idx] = np.maximum(st.last_touch_ts[idx], t)


def _web_visits(
    rng,
    p,
    st,
    prog,
    lo,
    hi,
    share,
    ev,
    rate: np.ndarray,
    pages: np.ndarray,
    qp: int | np.ndarray = QP_UTM,
) -> None:
    n = len(p.lead_id)
    alive = p.created_ts < hi
    count = np.where(alive, rng.poisson(rate * share), 0)
    rep = np.repeat(np.arange(n), count)
    if len(rep) == 0:
        return
    t = _window_times(rng, np.maximum(p.created_ts[rep], lo), hi, len(rep))
    qp_rows = qp[rep] if isinstance(qp, np.ndarray) else qp
    ev.add(p.lead_id[rep], t, VISIT, prog.campaign_id, rng.choice(pages, len(rep)), qp=qp_rows)
    np.add.at(st.realized, rep, 0.2)


def _social(rng, p, st, prog, lo, hi, share, ev) -> None:
    rate = 0.25 * np.exp(0.5 * p.engagement)
    _web_visits(rng, p, st, prog, lo, hi, share, ev, rate, _BROWSE_PAGES)


def _personalization(rng, p, st, prog, lo, hi, share, ev) -> None:
    rate = 0.6 * np.exp(0.4 * p.engagement + 0.2 * p.fit)
    # The query string carries the personalised segment (the lead's industry).
    _web_visits(
        rng, p, st, prog, lo, hi, share, ev, rate, _CONTENT_PAGES, qp=QP_SEGMENT + p.industry
    )


def _retargeting(rng, p, st, prog, lo, hi, share, ev) -> None:
    rate = np.where(st.realized > 0, 0.5, 0.05)
    _web_visits(rng, p, st, prog, lo, hi, share, ev, rate, _CONTENT_PAGES)


def _status(ev: Events, lead: np.ndarray, t: np.ndarray, prog: Program, new: str, old: str) -> None:
    ev.add(
        lead,
        t,
        PROGRAM_STATUS,
        prog.campaign_id,
        prog.campaign_id,
        status_new=status_code(new),
        status_old=status_code(old),
    )


def _webinar(rng, p, st, prog, lo, hi, share, ev) -> None:
    day = prog.launch_ts + 15 * 3600
    if not lo <= day < hi:
        return
    prob = 0.06 * _sigmoid(1.3 * p.engagement + 0.6 * p.fit) * 2
    idx = np.flatnonzero(
        (p.created_ts < day - 2 * DAY) & (st.invalid_ts == 0) & (rng.random(len(p.lead_id)) < prob)
    )
    reg = np.maximum(
        day - rng.integers(1, 15, len(idx)) * DAY + rng.integers(0, 36000, len(idx)),
        p.created_ts[idx] + 3600,
    )
    lead = p.lead_id[idx]
    ev.add(lead, reg, FORM, prog.campaign_id, FORMS.index("Webinar Registration"))
    _status(ev, lead, reg + 1, prog, "Registered", "Invited")
    came = rng.random(len(idx)) < _sigmoid(0.3 + 0.6 * p.engagement[idx])
    t = day + rng.integers(0, 600, len(idx))
    _status(ev, lead[came], t[came], prog, "Attended", "Registered")
    _status(ev, lead[~came], t[~came] + 3 * 3600, prog, "No Show", "Registered")
    st.realized[idx] += np.where(came, 4.0, 1.0)
    st.last_touch_ts[idx[came]] = t[came]


def _event(rng, p, st, prog, lo, hi, share, ev) -> None:
    day = prog.launch_ts + 10 * 3600
    if not lo <= day < hi:
        return
    prob = 0.04 * _sigmoid(1.2 * p.fit + 0.3 * p.engagement) * 2
    idx = np.flatnonzero((p.created_ts < day) & (rng.random(len(p.lead_id)) < prob))
    t = day + rng.integers(0, 2 * DAY, len(idx))
    _status(ev, p.lead_id[idx], t, prog, "Attended", "Registered")
    booth = rng.random(len(idx)) < 0.4
    _status(ev, p.lead_id[idx[booth]], t[booth] + 1800, prog, "Visited Booth", "Attended")
    st.realized[idx] += np.where(booth, 3.0, 2.0)


def _direct_mail(rng, p, st, prog, lo, hi, share, ev) -> None:
    day = prog.launch_ts + 9 * 3600
    if not lo <= day < hi:
        return
    idx = np.flatnonzero((p.created_ts < day) & (p.fit > 0.7) & (rng.random(len(p.lead_id)) < 0.8))
    _status(ev, p.lead_id[idx], np.full(len(idx), day), prog, "Sent", "Member")
    resp = rng.random(len(idx)) < 0.08 + 0.05 * _sigmoid(p.engagement[idx])
    t = day + rng.integers(3 * DAY, 15 * DAY, len(idx))
    _status(ev, p.lead_id[idx[resp]], t[resp], prog, "Responded", "Sent")
    st.realized[idx[resp]] += 2.0


def _phone(rng, p, st, prog, lo, hi, share, ev) -> None:
    day = prog.launch_ts + 10 * 3600
    if not lo <= day < hi:
        return
    # Sales development calls the leads who engaged.
    idx = np.flatnonzero(
        (p.created_ts < day) & (st.realized >= 2) & (rng.random(len(p.lead_id)) < 0.6)
    )
    t = day + rng.integers(0, 9 * DAY, len(idx))
    _status(ev, p.lead_id[idx], t, prog, "Called", "Member")
    conn = rng.random(len(idx)) < 0.3 + 0.2 * _sigmoid(p.fit[idx])
    _status(ev, p.lead_id[idx[conn]], t[conn] + 120, prog, "Connected", "Called")
    st.realized[idx[conn]] += 3.0


_CHANNEL_SIM = {
    "content_download": _content,
    "social": _social,
    "web_personalization": _personalization,
    "retargeting_ads": _retargeting,
    "webinar": _webinar,
    "events": _event,
    "direct_mail": _direct_mail,
    "phone": _phone,
}
