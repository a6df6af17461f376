"""The campaign calendar: programs on the nine channels, e-mail sends and their A/B variants.

The calendar depends on the seed only (not on the number of leads), so a small and a
large world of the same seed run the same campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nurture.sandbox.clock import DAY, HISTORY_DAYS, history_start

CHANNELS: tuple[str, ...] = (
    "email",
    "content_download",
    "social",
    "web_personalization",
    "webinar",
    "retargeting_ads",
    "direct_mail",
    "phone",
    "events",
)
# Marketo program types and their channel; the program status names used by activity 104.
PROGRAM_STATUSES: tuple[str, ...] = (
    "Invited",
    "Registered",
    "Attended",
    "No Show",
    "Sent",
    "Responded",
    "Called",
    "Connected",
    "Visited Booth",
    "Member",
)
CONTENT_TYPES: tuple[str, ...] = ("problem_solution", "service_intro")
N_CREATIVES = 8
EMAIL_SENDS = 20
FUTURE_DAYS = 365  # the calendar runs on past today so that advance has sends to make


@dataclass(frozen=True)
class Program:
    campaign_id: int
    name: str
    channel: str
    program_type: str
    launch_ts: int
    end_ts: int
    content_type: str | None = None
    utm: str | None = None


@dataclass(frozen=True)
class EmailSend:
    campaign_id: int
    send_ts: int
    audience_share: float
    creatives: tuple[int, int]  # creative shown to variant A and variant B
    mailing_ids: tuple[int, int]


@dataclass(frozen=True)
class CostPeriod:
    """One Marketo program period cost (the asset API's ``costs`` entry)."""

    campaign_id: int
    start_ts: int
    cost: float
    note: str


@dataclass
class Calendar:
    programs: list[Program] = field(default_factory=list)
    sends: list[EmailSend] = field(default_factory=list)
    creative_content: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    creative_appeal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    creative_subjects: list[str] = field(default_factory=list)
    # Marketo period costs of every program, and each program's Salesforce BudgetedCost.
    costs: list[CostPeriod] = field(default_factory=list)
    budgets: dict[int, float] = field(default_factory=dict)
    # The expected unique CTR of each mailing's delivered sends, as simulated: mailing id ->
    # [sum of click probabilities, delivered sends] (the truth behind the A/B tests).
    click_truth: dict[int, list[float]] = field(default_factory=dict)

    def by_channel(self, channel: str) -> list[Program]:
        return [p for p in self.programs if p.channel == channel]


_SUBJECTS_PS = (
    "リード育成が止まる3つの理由と対策",
    "Why your MQLs never reach sales",
    "展示会名刺を商談に変える方法",
    "Stop losing leads between marketing and sales",
)
_SUBJECTS_SI = (
    "Nurture の新しいスコアリング機能のご紹介",
    "Meet Nurture: lead scoring in one click",
    "Nurture 導入事例：製造業A社",
    "Product update: Salesforce handoff",
)


def build_calendar(seed: int) -> Calendar:
    rng = np.random.default_rng([seed, 0xCA1])
    # A/B design draws (content types, which arm the incumbent takes) come from their own
    # stream, so the rest of the calendar is what it was before they were randomised.
    design = np.random.default_rng([seed, 0xAB])
    start = history_start()
    cal = Calendar()
    # Half the creatives of each content type, in a random order; appeal is the hidden
    # click multiplier.
    cal.creative_content = design.permutation(np.arange(N_CREATIVES) % 2).astype(np.int8)
    cal.creative_appeal = rng.uniform(0.7, 1.4, N_CREATIVES)
    rank = [
        int((cal.creative_content[:i] == cal.creative_content[i]).sum()) for i in range(N_CREATIVES)
    ]
    cal.creative_subjects = [
        (_SUBJECTS_PS if cal.creative_content[i] == 0 else _SUBJECTS_SI)[rank[i]]
        for i in range(N_CREATIVES)
    ]
    next_id = 1001
    mailing = 5001
    gap = HISTORY_DAYS // EMAIL_SENDS
    incumbent = int(rng.integers(N_CREATIVES))
    for k in range(EMAIL_SENDS * (HISTORY_DAYS + FUTURE_DAYS) // HISTORY_DAYS):
        # Test a challenger against the incumbent; the better one is rolled out next time,
        # which is how a winner keeps being sent until its appeal wears off.
        challenger = int(rng.choice([c for c in range(N_CREATIVES) if c != incumbent]))
        send_ts = start + (k * gap + int(rng.integers(0, 3))) * DAY + 9 * 3600
        ctype = CONTENT_TYPES[cal.creative_content[incumbent]]
        cal.programs.append(
            Program(
                next_id,
                f"EM-{k + 1:02d} {cal.creative_subjects[incumbent][:24]}",
                "email",
                "Email",
                send_ts,
                send_ts + 7 * DAY,
                ctype,
                f"utm_source=marketo&utm_medium=email&utm_campaign=em-{k + 1:02d}",
            )
        )
        # The incumbent takes variant A or B at random, so that neither the variant nor
        # the content type stands for "the creative that won last time".
        arms = (challenger, incumbent) if design.random() < 0.5 else (incumbent, challenger)
        cal.sends.append(
            EmailSend(
                next_id, send_ts, float(rng.uniform(0.35, 0.55)), arms, (mailing, mailing + 1)
            )
        )
        if cal.creative_appeal[challenger] > cal.creative_appeal[incumbent]:
            incumbent = challenger
        next_id += 1
        mailing += 2

    def add(
        channel: str, ptype: str, name: str, launch_day: int, length: int, utm: str | None = None
    ) -> None:
        nonlocal next_id
        launch = start + launch_day * DAY
        cal.programs.append(
            Program(next_id, name, channel, ptype, launch, launch + length * DAY, None, utm)
        )
        next_id += 1

    for i, day in enumerate((10, 40, 75, 110, 140, 165)):
        add(
            "content_download",
            "Content",
            f"WP-{i + 1} ホワイトペーパー",
            day,
            60,
            f"utm_source=site&utm_medium=content&utm_campaign=wp-{i + 1}",
        )
    for src in ("linkedin", "x", "facebook"):
        add(
            "social",
            "Default",
            f"Social {src}",
            0,
            HISTORY_DAYS + FUTURE_DAYS,
            f"utm_source={src}&utm_medium=social&utm_campaign=always-on",
        )
    add("web_personalization", "Default", "RTP industry banners", 0, HISTORY_DAYS + FUTURE_DAYS)
    for src in ("google", "yahoo"):
        add(
            "retargeting_ads",
            "Default",
            f"Retargeting {src}",
            0,
            HISTORY_DAYS + FUTURE_DAYS,
            f"utm_source={src}&utm_medium=display&utm_campaign=retargeting",
        )
    for i, day in enumerate((30, 65, 100, 135, 170)):
        add("webinar", "Webinar", f"WB-{i + 1} ウェビナー", day, 1)
    add("events", "Event", "Japan IT Week 春", 45, 3)
    add("events", "Event", "Marketing Summit Tokyo", 150, 2)
    add("direct_mail", "Default", "DM 年次カタログ", 95, 20)
    add("phone", "Default", "Call blitz Q2", 80, 10)
    add("phone", "Default", "Call blitz Q3", 160, 10)
    _add_costs(cal, seed)
    return cal


# Cost per program (one period) or per 30 days of an always-on program, before noise.
_CHANNEL_COST: dict[str, float] = {
    "email": 120_000,
    "content_download": 450_000,
    "social": 300_000,
    "web_personalization": 500_000,
    "retargeting_ads": 400_000,
    "webinar": 800_000,
    "events": 3_000_000,
    "direct_mail": 1_500_000,
    "phone": 600_000,
}
COST_PERIOD_DAYS = 30


def _add_costs(cal: Calendar, seed: int) -> None:
    """Period costs (Marketo program ``costs``) and a budget per program, from their own
    random stream: a program up to a period long costs once at launch; a longer one
    costs every COST_PERIOD_DAYS from its launch. BudgetedCost is the planned total."""
    rng = np.random.default_rng([seed, 0xC057])
    for prog in cal.programs:
        base = _CHANNEL_COST[prog.channel] * float(rng.uniform(0.7, 1.3))
        length = prog.end_ts - prog.launch_ts
        n_periods = max(1, -(-length // (COST_PERIOD_DAYS * DAY)))
        planned = 0.0
        for k in range(n_periods):
            cost = float(round(base * float(rng.uniform(0.85, 1.15)), -3))
            note = "launch" if n_periods == 1 else f"period {k + 1}"
            start_ts = prog.launch_ts + k * COST_PERIOD_DAYS * DAY
            cal.costs.append(CostPeriod(prog.campaign_id, start_ts, cost, note))
            planned += cost
        cal.budgets[prog.campaign_id] = float(round(planned * float(rng.uniform(0.9, 1.2)), -3))


def status_code(name: str) -> int:
    return PROGRAM_STATUSES.index(name)
