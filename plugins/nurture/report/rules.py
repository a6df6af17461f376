"""What to do next: stated rules over the marts, each turning rows into recommendations.

Every rule has an id, its statement in both languages (printed in the report, so a
reader can check why an item is there) and a function of the section data. Rules only
read what the loaders return (nurture.report.data), so they are tested with plain rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from nurture.report import fmt, labels
from nurture.report.data import SEGMENT_BANDS, SectionData, add_months, dbt_vars, ratio
from nurture.report.targets import TargetStatus

# Thresholds of the rules (stated in the page with the rules).
RECENT_CREATIVE_DAYS = 28  # a creative counts as in use if sent this close to the newest week
UNSUB_BASELINE_MONTHS = 3  # the latest month's unsubscribe rate against the 3 before it
UNSUB_RISE_FACTOR = 1.5  # "rising": at least 1.5 times the baseline rate
UNSUB_MIN_DELIVERED = 100  # ... on at least 100 deliveries in the latest month
UNSUB_MIN_COUNT = 3  # ... and at least 3 unsubscribes
CONTENT_MONTHS = 3  # content types compared over the latest 3 months
CONTENT_MIN_DELIVERED = 100  # per content type and band
CONTENT_ALPHA = 0.05  # two-proportion z-test, two-sided
ROLLOUT_FADE = -0.3  # a winner whose CTR after rollout fell 30% or more below its test
ROLLOUT_MIN_DELIVERED = 200
TOP_OWNERS = 3


def band_label(band: str, lang: fmt.Lang) -> str:
    return labels.band(band, lang)


def content_label(content_type: str, lang: fmt.Lang) -> str:
    return labels.content_type(content_type, lang)


@dataclass(frozen=True)
class Recommendation:
    rule: str
    severity: str  # "action" or "watch"
    ja: str
    en: str

    def text(self, lang: fmt.Lang) -> str:
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class Rule:
    id: str
    ja: str
    en: str
    apply: Callable[[dict[str, SectionData], list[TargetStatus]], list[Recommendation]]


def two_proportion_p(clicks_a: int, n_a: int, clicks_b: int, n_b: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test (None without a sample)."""
    if n_a <= 0 or n_b <= 0:
        return None
    pooled = (clicks_a + clicks_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 1.0
    z = (clicks_a / n_a - clicks_b / n_b) / se
    return math.erfc(abs(z) / math.sqrt(2))


# --- the rules ------------------------------------------------------------------------


def rotate_creatives(
    sections: dict[str, SectionData], _: list[TargetStatus]
) -> list[Recommendation]:
    section = sections.get("fatigue")
    if section is None or not section.available:
        return []
    creatives = section.rows.get("creatives", [])
    newest = max(
        (c["latest"]["week_start_date"] for c in creatives if c["latest"]["week_start_date"]),
        default=None,
    )
    if newest is None:
        return []
    drop = float(dbt_vars()["creative_fatigue_ctr_drop"])
    out = []
    for creative in creatives:
        week = creative["latest"]
        if not week["week_start_date"] or week["week_start_date"] < newest - timedelta(
            days=RECENT_CREATIVE_DAYS
        ):
            continue
        change = week["ctr_change_from_baseline"]
        numbers_ja = (
            f"第{week['weeks_since_launch']}週のCTR {fmt.pct(week['click_through_rate'])}"
            f"(基準 {fmt.pct(week['baseline_ctr'])}、{fmt.pct(change)})"
        )
        numbers_en = (
            f"week {week['weeks_since_launch']} CTR {fmt.pct(week['click_through_rate'])} "
            f"(baseline {fmt.pct(week['baseline_ctr'])}, {fmt.pct(change)})"
        )
        label = creative["label"]
        if week["is_fatigued"]:
            out.append(
                Recommendation(
                    "rotate_creative",
                    "action",
                    f"クリエイティブ {label} を差し替える: {numbers_ja}",
                    f"Rotate creative {label}: {numbers_en}",
                )
            )
        elif (
            week["weeks_since_launch"] is not None
            and week["weeks_since_launch"] >= 2
            and change is not None
            and change <= -drop
        ):
            out.append(
                Recommendation(
                    "rotate_creative",
                    "watch",
                    f"クリエイティブ {label} を注視: {numbers_ja}。サンプル不足のため未判定",
                    f"Watch creative {label}: {numbers_en}; too few deliveries to flag yet",
                )
            )
    return out


def send_less(sections: dict[str, SectionData], _: list[TargetStatus]) -> list[Recommendation]:
    section = sections.get("segments")
    if section is None or not section.available or section.current_period is None:
        return []
    current = section.current_period
    baseline_months = {add_months(current, -i) for i in range(1, UNSUB_BASELINE_MONTHS + 1)}
    sums: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"delivered": 0, "unsubscribes": 0, "leads": 0}
    )
    for cell in section.rows.get("cells", []):
        period = (
            "current"
            if cell["month"] == current
            else ("baseline" if cell["month"] in baseline_months else None)
        )
        if period is None:
            continue
        entry = sums[(cell["band"], period)]
        entry["delivered"] += cell["delivered"]
        entry["unsubscribes"] += cell["unsubscribes"]
        entry["leads"] += cell["leads"]
    out = []
    for band in SEGMENT_BANDS:
        now, before = sums.get((band, "current")), sums.get((band, "baseline"))
        if not now or now["delivered"] < UNSUB_MIN_DELIVERED:
            continue
        if now["unsubscribes"] < UNSUB_MIN_COUNT:
            continue
        rate = ratio(now["unsubscribes"], now["delivered"])
        base = ratio(before["unsubscribes"], before["delivered"]) if before else None
        if base is None or rate is None or rate < UNSUB_RISE_FACTOR * base:
            continue
        per_lead = ratio(now["delivered"], now["leads"])
        out.append(
            Recommendation(
                "send_less",
                "action",
                f"セグメント「{band_label(band, 'ja')}」の配信停止率が上昇: "
                f"{fmt.pct(rate)}(前{UNSUB_BASELINE_MONTHS}か月 {fmt.pct(base)})。"
                f"配信頻度を下げる(現在 {fmt.ratio(per_lead)}通/人/月)",
                f"Segment '{band_label(band, 'en')}': unsubscribe rate rising to "
                f"{fmt.pct(rate)} (previous {UNSUB_BASELINE_MONTHS} months "
                f"{fmt.pct(base)}). Send less (now {fmt.ratio(per_lead)} e-mails per lead "
                "a month)",
            )
        )
    return out


def content_wins(sections: dict[str, SectionData], _: list[TargetStatus]) -> list[Recommendation]:
    section = sections.get("segments")
    if section is None or not section.available or section.current_period is None:
        return []
    months = {add_months(section.current_period, -i) for i in range(CONTENT_MONTHS)}
    sums: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for cell in section.rows.get("cells", []):
        if cell["month"] in months and cell["content_type"] != "unknown":
            pair = sums[cell["band"]][cell["content_type"]]
            pair[0] += cell["clicks"]
            pair[1] += cell["delivered"]
    out = []
    for band in SEGMENT_BANDS:
        types = [
            (content, clicks, delivered)
            for content, (clicks, delivered) in sums.get(band, {}).items()
            if delivered >= CONTENT_MIN_DELIVERED
        ]
        if len(types) < 2:
            continue
        types.sort(key=lambda t: (t[1] / t[2], t[0]), reverse=True)
        (best, bc, bn), (second, sc, sn) = types[0], types[1]
        p = two_proportion_p(bc, bn, sc, sn)
        if p is None or p >= CONTENT_ALPHA:
            continue
        out.append(
            Recommendation(
                "content_wins",
                "action",
                f"セグメント「{band_label(band, 'ja')}」には{content_label(best, 'ja')}が効く: "
                f"CTR {fmt.pct(bc / bn)} 対 {content_label(second, 'ja')} {fmt.pct(sc / sn)}"
                f"(p={fmt.p_value(p)})。{content_label(best, 'ja')}を増やす",
                f"For segment '{band_label(band, 'en')}', {content_label(best, 'en')} wins: "
                f"CTR {fmt.pct(bc / bn)} vs {content_label(second, 'en')} {fmt.pct(sc / sn)} "
                f"(p={fmt.p_value(p)}). Send more {content_label(best, 'en')}",
            )
        )
    return out


def ab_winners(sections: dict[str, SectionData], _: list[TargetStatus]) -> list[Recommendation]:
    section = sections.get("ab")
    if section is None or not section.available:
        return []
    out = []
    for test in section.rows.get("tests", []):
        if test["status"] != "winner":
            continue
        name, winner = test["name"], test["winner"]
        change = test.get("rollout_ctr_change")
        if (
            change is not None
            and change <= ROLLOUT_FADE
            and (test.get("rollout_delivered") or 0) >= ROLLOUT_MIN_DELIVERED
        ):
            out.append(
                Recommendation(
                    "ab_winner",
                    "watch",
                    f"「{name}」の勝者 {winner} は展開後にCTRが{fmt.pct(change)}低下: 再テストする",
                    f"'{name}': winner {winner} lost {fmt.pct(change)} of its CTR after "
                    "rollout; test again",
                )
            )
            continue
        out.append(
            Recommendation(
                "ab_winner",
                "action",
                f"「{name}」はバリアント {winner} を展開する: リフト {fmt.pct(test['lift'])}"
                f"(Holm補正後 p={fmt.p_value(test['adjusted_p_value'])})",
                f"'{name}': roll out variant {winner}: lift {fmt.pct(test['lift'])} "
                f"(Holm-adjusted p={fmt.p_value(test['adjusted_p_value'])})",
            )
        )
    return out


def chase_verdicts(sections: dict[str, SectionData], _: list[TargetStatus]) -> list[Recommendation]:
    section = sections.get("handoff")
    if section is None or not section.available:
        return []
    owners = [o for o in section.rows.get("owners", []) if o["overdue"]]
    if not owners:
        return []
    owners.sort(key=lambda o: (-o["overdue"], o["owner"]))
    total = sum(o["overdue"] for o in owners)
    hours = dbt_vars()["mql_sla_hours"]
    top_ja = "、".join(f"{o['owner'] or '(未割当)'} {o['overdue']}件" for o in owners[:TOP_OWNERS])
    top_en = ", ".join(
        f"{o['owner'] or '(unassigned)'} {o['overdue']}" for o in owners[:TOP_OWNERS]
    )
    return [
        Recommendation(
            "chase_verdicts",
            "action",
            f"営業の判定待ちが{hours}時間を超えたMQLが{total:,}件: 担当者に確認する"
            f"(多い順: {top_ja})",
            f"{total:,} MQLs have waited over {hours} h for sales' verdict: follow up with "
            f"their owners (most: {top_en})",
        )
    ]


def negative_roi(sections: dict[str, SectionData], _: list[TargetStatus]) -> list[Recommendation]:
    section = sections.get("roi")
    if section is None or not section.available:
        return []
    losing = [
        row
        for row in section.rows.get("channels", [])
        if row["cost"] > 0 and row["roi"] is not None and row["roi"] < 0
    ]
    if not losing:
        return []
    losing.sort(key=lambda row: row["roi"])

    def listed(lang: fmt.Lang) -> str:
        sep = "、" if lang == "ja" else ", "
        return sep.join(
            f"{labels.channel(row['channel'], lang)} {fmt.pct(row['roi'])}"
            + ("(" if lang == "ja" else " (")
            + (
                f"{'費用' if lang == 'ja' else 'cost'} {fmt.money(row['cost'], lang)}"
                f"{'、受注' if lang == 'ja' else ', won'} {fmt.money(row['won_revenue'], lang)}"
            )
            + ")"
            for row in losing
        )

    return [
        Recommendation(
            "negative_roi",
            "action",
            f"ROIがマイナスのチャネルの予算配分を見直す: {listed('ja')}",
            f"Review the budget of the channels with a negative ROI: {listed('en')}",
        )
    ]


def off_target(_: dict[str, SectionData], statuses: list[TargetStatus]) -> list[Recommendation]:
    missed = [status for status in statuses if status.on_target is False]
    if not missed:
        return []

    def listed(lang: fmt.Lang) -> str:
        sep = "、" if lang == "ja" else ", "
        return sep.join(
            f"{status.kpi.ja if lang == 'ja' else status.kpi.en} "
            f"{fmt.value(status.value, status.kpi.kind, lang)}"
            f"{'(目標' if lang == 'ja' else ' (target'} "
            f"{'≥' if status.kpi.higher_is_better else '≤'} "
            f"{fmt.value(status.target, status.kpi.kind, lang)})"
            for status in missed
        )

    return [
        Recommendation(
            "off_target",
            "action",
            f"目標未達のKPI({len(missed)}件): {listed('ja')}",
            f"{len(missed)} KPI{'s' if len(missed) > 1 else ''} off target: {listed('en')}",
        )
    ]


def _rules() -> tuple[Rule, ...]:
    v = dbt_vars()
    drop = fmt.pct(v["creative_fatigue_ctr_drop"], digits=0)
    sample = v["creative_fatigue_min_weekly_sample"]
    hours = v["mql_sla_hours"]
    return (
        Rule(
            "rotate_creative",
            f"クリエイティブ差し替え: 直近{RECENT_CREATIVE_DAYS}日以内に配信されたクリエイティブの"
            f"最新週を疲弊マート(mart_creative_fatigue)が疲弊と判定したら差し替える(第2週以降、"
            f"CTRが第0・1週の基準より{drop}以上低い、週と基準がそれぞれ{sample}配信以上)。"
            "同じ低下でも配信数が足りない週は「注視」。",
            f"Rotate a creative when mart_creative_fatigue flags its latest week and it was "
            f"sent within the last {RECENT_CREATIVE_DAYS} days (week 2 on, CTR {drop} or more "
            f"below its week 0-1 baseline, at least {sample} deliveries in the week and the "
            "baseline). The same drop on fewer deliveries is a 'watch'.",
            rotate_creatives,
        ),
        Rule(
            "send_less",
            f"配信頻度を下げる: エンゲージメント帯ごとに、最新月の配信停止率が前"
            f"{UNSUB_BASELINE_MONTHS}か月の{UNSUB_RISE_FACTOR}倍以上(最新月{UNSUB_MIN_DELIVERED}"
            f"配信以上・停止{UNSUB_MIN_COUNT}件以上)なら、その帯への配信を減らす"
            "(mart_segment_response)。",
            f"Send less to an engagement band whose unsubscribe rate in the latest month is at "
            f"least {UNSUB_RISE_FACTOR}x that of the {UNSUB_BASELINE_MONTHS} months before "
            f"(with at least {UNSUB_MIN_DELIVERED} deliveries and {UNSUB_MIN_COUNT} "
            "unsubscribes in the month; mart_segment_response).",
            send_less,
        ),
        Rule(
            "content_wins",
            f"効くコンテンツを増やす: 帯ごとに直近{CONTENT_MONTHS}か月のCTRが最も高いコンテンツ"
            f"タイプが2位を有意に上回る(各{CONTENT_MIN_DELIVERED}配信以上、二標本比率のz検定 "
            f"p<{CONTENT_ALPHA})なら、その帯にはそのタイプを増やす。",
            f"Send more of a content type to a band when, over the latest {CONTENT_MONTHS} "
            f"months, its CTR beats the runner-up significantly (at least "
            f"{CONTENT_MIN_DELIVERED} deliveries each, two-proportion z-test p < "
            f"{CONTENT_ALPHA}).",
            content_wins,
        ),
        Rule(
            "ab_winner",
            "A/Bテストの勝者を展開する: mart_ab_testsがHolm補正後に勝者を判定したテスト。"
            f"展開後のCTRがテスト時より{fmt.pct(-ROLLOUT_FADE, digits=0)}以上下がった勝者"
            f"({ROLLOUT_MIN_DELIVERED}配信以上、mart_ab_rollouts)は再テスト。",
            "Roll out an A/B test's winner when mart_ab_tests declares one (Holm-corrected); "
            f"re-test a winner whose CTR after rollout fell {fmt.pct(-ROLLOUT_FADE, digits=0)} "
            f"or more below its test CTR (at least {ROLLOUT_MIN_DELIVERED} deliveries, "
            "mart_ab_rollouts).",
            ab_winners,
        ),
        Rule(
            "chase_verdicts",
            f"営業の判定を催促する: MQLのまま{hours}時間(SLA、dbt var mql_sla_hours)を超えて"
            "判定(受入・リサイクル・失格)がないリードを担当者別に数える"
            "(mart_lead_stage_history)。",
            f"Follow up on MQLs that have waited over {hours} h (the SLA, dbt var "
            "mql_sla_hours) for sales' verdict (accept, recycle, disqualify), by owner "
            "(mart_lead_stage_history).",
            chase_verdicts,
        ),
        Rule(
            "negative_roi",
            "予算配分を見直す: 費用のあるチャネルで累計ROI((線形帰属の受注額−費用)÷費用)が"
            "マイナス(mart_campaign_roi)。",
            "Review the budget of a channel with cost whose ROI to date ((linearly attributed "
            "won revenue - cost) / cost) is negative (mart_campaign_roi).",
            negative_roi,
        ),
        Rule(
            "off_target",
            "目標未達のKPI: include/report/kpi_targets.yaml の目標を下回る(低いほど良いKPIは"
            "上回る)KPI。",
            "KPIs off their target in include/report/kpi_targets.yaml (below it, or above it "
            "for KPIs where lower is better).",
            off_target,
        ),
    )


def rules() -> tuple[Rule, ...]:
    return _rules()


def recommend(
    sections: dict[str, SectionData], statuses: list[TargetStatus]
) -> list[Recommendation]:
    """Every rule's recommendations: actions first, then watch items, in rule order."""
    found: list[Recommendation] = []
    for rule in rules():
        found += rule.apply(sections, statuses)
    return sorted(found, key=lambda r: r.severity != "action")
