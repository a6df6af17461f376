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


@dataclass
class Calendar:
    programs: list[Program] = field(default_factory=list)
    sends: list[EmailSend] = field(default_factory=list)
    creative_content: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    creative_appeal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    creative_subjects: list[str] = field(default_factory=list)

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
    start = history_start()
    cal = Calendar()
    # Creatives alternate content types; appeal is the hidden click multiplier.
    cal.creative_content = np.array([i % 2 for i in range(N_CREATIVES)], dtype=np.int8)
    cal.creative_appeal = rng.uniform(0.7, 1.4, N_CREATIVES)
    cal.creative_subjects = [
        (_SUBJECTS_PS if i % 2 == 0 else _SUBJECTS_SI)[i // 2] for i in range(N_CREATIVES)
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
        cal.sends.append(
            EmailSend(
                next_id,
                send_ts,
                float(rng.uniform(0.35, 0.55)),
                (incumbent, challenger),
                (mailing, mailing + 1),
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
    return cal


def status_code(name: str) -> int:
    return PROGRAM_STATUSES.index(name)
