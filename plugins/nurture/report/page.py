"""The report as one self-contained HTML page: Japanese first, English by a toggle.

Every string from the data goes through `esc` (campaign, creative and owner names are
other people's input); the chart figures travel as JSON in a `<script
type="application/json">` with `<`, `>` and `&` written as `\\u003c`... so no name can
close the script. plotly.js is inlined once; a Content-Security-Policy lets the page
load nothing from anywhere (no CDN, no fonts, no images) and run only its own scripts.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nurture.report import fmt, labels
from nurture.report.data import SectionData, dbt_vars
from nurture.report.data import month_end as data_month_end
from nurture.report.kpis import KPI_BY_KEY, KPIS
from nurture.report.rules import Recommendation, Rule
from nurture.report.targets import Targets, TargetStatus

TITLE = ("ナーチャリングKPIレポート", "Nurturing KPI report")
FOOTER = ("定義: docs/kpis.md と docs/report.md", "Definitions: docs/kpis.md and docs/report.md")


class Html(str):
    """Markup that is already safe: `esc` leaves it alone."""


def esc(value: Any) -> Html:
    if isinstance(value, Html):
        return value
    return Html(html.escape("" if value is None else str(value), quote=True))


def bi(ja: Any, en: Any) -> Html:
    """Both languages; CSS shows the one the page is in."""
    if not isinstance(ja, Html) and not isinstance(en, Html) and str(ja) == str(en):
        return esc(ja)
    return Html(f'<span class="ja">{esc(ja)}</span><span class="en">{esc(en)}</span>')


def num(value: Any, kind: str) -> Html:
    return bi(fmt.value(value, kind, "ja"), fmt.value(value, kind, "en"))


def join(parts: Iterable[str]) -> Html:
    return Html("".join(parts))


@dataclass(frozen=True)
class SectionInfo:
    key: str
    ja: str
    en: str
    intro_ja: str
    intro_en: str
    sources: tuple[str, ...]
    monthly: bool = True


SECTIONS: tuple[SectionInfo, ...] = (
    SectionInfo(
        "email",
        "メール配信の成果と配信停止率",
        "E-mail performance and unsubscribe rate",
        "配信(到達)あたりのユニーククリック率(CTR)と配信停止率(配信停止÷到達)。",
        "Unique clicks and unsubscribes per delivered e-mail.",
        ("marts.mart_campaign_performance", "marts.dim_campaign"),
    ),
    SectionInfo(
        "engagement",
        "継続反応率とファン比率(北極星指標)",
        "Continuous response and the share of fans (north star)",
        "継続反応率 = 直近90日に届いたメールのうち7日以内に反応したものの割合。帯: 休眠 0、"
        "ライト <30%、エンゲージ <60%、ファン ≥60%。ファン比率はメールが届いたリードに占める"
        "ファンの割合。",
        "Continuous response rate = the share of e-mails delivered in the trailing 90 days "
        "answered within 7 days. Bands: dormant 0, light < 30%, engaged < 60%, fan ≥ 60%. "
        "The share of fans is fans among the leads e-mailed.",
        ("marts.mart_lead_engagement",),
    ),
    SectionInfo(
        "web",
        "タッチ後のウェブ回遊率",
        "Web circulation after a touch",
        "キャンペーンのクリック後7日以内に、ランディングページ以外を2ページ以上見たセッションが"
        "あった割合。",
        "The share of campaign clicks followed within 7 days by a session with at least two "
        "pages beyond its landing page.",
        ("marts.mart_web_circulation",),
    ),
    SectionInfo(
        "ab",
        "A/Bテスト: 信頼区間と有意性",
        "A/B tests: confidence intervals and significance",
        "CTR差の95%信頼区間。勝者は両バリアントが最小サンプルに達し、Holm補正後の p が有意水準"
        "未満のときだけ。",
        "The 95% interval of each CTR difference. A winner needs the minimum sample on both "
        "variants and a Holm-adjusted p below the significance level.",
        ("marts.mart_ab_tests", "marts.mart_ab_rollouts"),
    ),
    SectionInfo(
        "fatigue",
        "クリエイティブ疲弊",
        "Creative fatigue",
        "クリエイティブごとの週次CTR。基準(第0・1週)から大きく下がった週を疲弊と判定。",
        "Weekly CTR per creative; a week well below its week 0-1 baseline is flagged.",
        ("marts.mart_creative_fatigue", "marts.dim_campaign"),
    ),
    SectionInfo(
        "segments",
        "セグメント × コンテンツタイプの反応",
        "Response by segment × content type",
        "配信時点のエンゲージメント帯(新規 = 初回配信)ごとのCTRと配信停止率。",
        "CTR and unsubscribe rate by the lead's engagement band at send time (new = first send).",
        ("marts.mart_segment_response",),
    ),
    SectionInfo(
        "funnel",
        "ファネル: 転換率・速度・SLA",
        "Funnel: conversion, velocity and SLA",
        "リード作成月のコホート別。速度は段階間の日数の中央値(後段の人数で加重)、SLAはMQL引き渡し"
        "から営業の最初の対応まで。",
        "By cohort month of creation. Velocity: median days between stages (weighted by the "
        "later stage's count); SLA: from the MQL hand-off to sales' first action.",
        ("marts.mart_funnel",),
    ),
    SectionInfo(
        "handoff",
        "営業へのMQL引き渡しと判定",
        "MQLs handed to sales and their verdicts",
        "MQLになったリードを担当者別に。判定はMQLの次の段階: SAL以降 = 受入、リサイクル、失格、"
        "なし = 判定待ち。",
        "Leads that reached MQL, by owner. The verdict is the stage after MQL: SAL or later = "
        "accepted, recycled, disqualified, none yet = awaiting.",
        (
            "marts.mart_lead_stage_history",
            "ops.mql_outbox",
            "ops.mql_deliveries",
            "ops.mql_assignments",
            "marts.dim_lead",
        ),
    ),
    SectionInfo(
        "ltv",
        "セグメント別LTV",
        "LTV by segment",
        "LTV = 平均単価 × 粗利率 × 年間購入頻度 × 顧客寿命(年)。",
        "LTV = average deal × gross margin × purchases per year × customer lifetime (years).",
        ("marts.mart_ltv",),
        monthly=False,
    ),
    SectionInfo(
        "attribution",
        "チャネルアトリビューション(9チャネル)",
        "Channel attribution (nine channels)",
        "商談作成前180日のエンゲージメントタッチに、ファーストタッチ・ラストタッチ・線形で"
        "パイプラインと受注額を配分。",
        "Pipeline and won revenue credited to the engagement touches of the 180 days before "
        "the opportunity: first touch, last touch and linear.",
        ("marts.mart_channel_attribution",),
    ),
    SectionInfo(
        "events",
        "ウェビナー・イベントの成果",
        "Webinar and event performance",
        "登録・参加・無断欠席と、参加後にMQLや商談になったリード。",
        "Registrations, attendance, no-shows, and attendees who then became MQLs or opportunities.",
        ("marts.mart_event_performance",),
    ),
    SectionInfo(
        "roi",
        "キャンペーンROI",
        "Campaign ROI",
        "ROI = (線形帰属の受注額 − 費用) ÷ 費用。費用はSalesforceキャンペーンの実費、なければ"
        "Marketoの期間費用。",
        "ROI = (linearly attributed won revenue − cost) / cost; cost is the Salesforce "
        "campaign's actual cost, else the Marketo program's period costs.",
        ("marts.mart_campaign_roi",),
        monthly=False,
    ),
)

CSS = """
:root{--fg:#1f2933;--muted:#5f6b76;--line:#e3e8ec;--bg:#f6f8fa;--ok:#1b7f5f;--bad:#c0392b;
--accent:#1f6f8b}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI","Hiragino Sans","Hiragino Kaku Gothic ProN",
"Noto Sans CJK JP","Yu Gothic",Meiryo,sans-serif;color:var(--fg);background:var(--bg)}
body{margin:0;line-height:1.55}
html[lang=ja] .en,html[lang=en] .ja{display:none}
header{background:#fff;border-bottom:1px solid var(--line);padding:16px 28px;position:sticky;top:0;
z-index:10;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:20px;margin:0;flex:1 1 auto}
header .meta{color:var(--muted);font-size:13px}
#lang-toggle{font:inherit;font-size:14px;padding:6px 14px;border:1px solid var(--accent);
color:var(--accent);background:#fff;border-radius:6px;cursor:pointer}
#lang-toggle:hover{background:var(--accent);color:#fff}
nav{padding:8px 28px;background:#fff;border-bottom:1px solid var(--line);font-size:13px}
nav a{color:var(--accent);margin-right:14px;text-decoration:none;white-space:nowrap}
main{max-width:1240px;margin:0 auto;padding:12px 28px 60px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px 22px;
margin:18px 0}
h2{font-size:18px;margin:0 0 4px}
.intro,.source,.period,.rule-text{color:var(--muted);font-size:13px;margin:4px 0}
.metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px;
margin:12px 0}
.metric{border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.metric .label{font-size:12px;color:var(--muted)}
.metric .value{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
.metric .delta,.metric .target{font-size:12px}
.better{color:var(--ok)}.worse{color:var(--bad)}.flat{color:var(--muted)}
.target.on{color:var(--ok)}.target.off{color:var(--bad)}.target.none{color:var(--muted)}
.chart{width:100%;min-height:320px;margin:8px 0}
.empty{padding:18px;border:1px dashed var(--line);border-radius:8px;color:var(--muted);
text-align:center}
table{border-collapse:collapse;width:100%;font-size:13px;margin:10px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.n{white-space:nowrap}
td:first-child{min-width:14em}
th{color:var(--muted);font-weight:600}
.table-wrap{overflow-x:auto}
ol.todo{padding-left:22px}
ol.todo li{margin:6px 0}
.badge{display:inline-block;font-size:11px;border-radius:4px;padding:1px 6px;margin-right:6px}
.badge.action{background:#fde2dd;color:#8c2a1c}.badge.watch{background:#fff1c7;color:#7a5b00}
dl.rules dt{font-weight:600;font-size:13px;margin-top:8px}
dl.rules dd{margin:2px 0 0 0}
footer{color:var(--muted);font-size:12px;text-align:center;padding:20px}
@media print{header{position:static}#lang-toggle{display:none}}
"""

SCRIPT = """
(function () {
  "use strict";
  var charts = JSON.parse(document.getElementById("nurture-charts").textContent);
  var titles = JSON.parse(document.getElementById("nurture-titles").textContent);
  var config = {displaylogo: false, responsive: true,
                modeBarButtonsToRemove: ["select2d", "lasso2d"]};
  var toggle = document.getElementById("lang-toggle");
  function current() { return document.documentElement.lang === "en" ? "en" : "ja"; }
  function draw(lang) {
    var divs = document.querySelectorAll("[data-chart]");
    var drawn = [];
    for (var i = 0; i < divs.length; i++) {
      var fig = charts[divs[i].getAttribute("data-chart")][lang];
      drawn.push(Plotly.react(divs[i], fig.data, fig.layout, config));
    }
    document.body.removeAttribute("data-rendered");
    Promise.all(drawn).then(function () {
      document.body.setAttribute("data-rendered", lang);
    });
  }
  function setLang(lang) {
    document.documentElement.lang = lang;
    document.title = titles[lang];
    toggle.textContent = lang === "ja" ? "English" : "日本語";
    toggle.setAttribute("aria-label", lang === "ja" ? "Switch to English" : "日本語に切り替え");
    draw(lang);
  }
  toggle.addEventListener("click", function () {
    setLang(current() === "ja" ? "en" : "ja");
  });
  setLang(window.location.hash === "#en" ? "en" : "ja");
})();
"""


def safe_json(value: Any) -> str:
    """JSON that can sit inside a <script> element: nothing in it can end the element."""
    text = json.dumps(
        value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default
    )
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# --- pieces ---------------------------------------------------------------------------


def metric_card(
    key: str,
    kind: str,
    current: float | None,
    previous: float | None,
    label_ja: str,
    label_en: str,
    higher_is_better: bool | None = None,
    status: TargetStatus | None = None,
    compare: bool = True,
    attr: str = "data-metric",
    total: bool = False,
) -> Html:
    attrs = [f'{attr}="{esc(key)}"']
    if fmt.is_number(current):
        attrs.append(f'data-current="{float(current)!r}"')
    if fmt.is_number(previous):
        attrs.append(f'data-previous="{float(previous)!r}"')
    parts = [
        f'<div class="metric" {" ".join(attrs)}>',
        f'<div class="label">{bi(label_ja, label_en)}</div>',
        f'<div class="value">{num(current, kind)}</div>',
    ]
    if compare:
        if fmt.is_number(current) and fmt.is_number(previous):
            diff = float(current) - float(previous)
            tone = (
                "flat"
                if diff == 0 or higher_is_better is None
                else "better"
                if (diff > 0) == higher_is_better
                else "worse"
            )
            parts.append(
                f'<div class="delta {tone}">'
                + bi(
                    f"前期比 {fmt.delta(current, previous, kind, 'ja')}"
                    f"(前期 {fmt.value(previous, kind, 'ja')})",
                    f"vs previous {fmt.delta(current, previous, kind, 'en')} "
                    f"(was {fmt.value(previous, kind, 'en')})",
                )
                + "</div>"
            )
        elif total:
            parts.append('<div class="delta flat">' + bi("全期間", "all the data") + "</div>")
        else:
            parts.append(
                '<div class="delta flat">' + bi("前期のデータなし", "no previous period") + "</div>"
            )
    if status is not None:
        op = "≥" if status.kpi.higher_is_better else "≤"
        target_ja = f"{op} {fmt.value(status.target, kind, 'ja')}"
        target_en = f"{op} {fmt.value(status.target, kind, 'en')}"
        if status.on_target is None:
            cls, ja, en = "none", f"目標 {target_ja}(データなし)", f"target {target_en} (no data)"
        elif status.on_target:
            cls, ja, en = "on", f"目標 {target_ja}: 達成", f"target {target_en}: on target"
        else:
            cls, ja, en = "off", f"目標 {target_ja}: 未達", f"target {target_en}: off target"
        parts.append(f'<div class="target {cls}" data-target="{esc(cls)}">{bi(ja, en)}</div>')
    parts.append("</div>")
    return join(parts)


def table(headers: list[tuple[str, str, bool]], rows: list[list[Html]], name: str) -> Html:
    """headers: (ja, en, numeric); cells are already-escaped Html."""
    if not rows:
        return Html("")
    head = "".join(
        f'<th class="{"n" if numeric else ""}">{bi(ja, en)}</th>' for ja, en, numeric in headers
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if headers[i][2] else ""}">{cell}</td>' for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return Html(
        f'<div class="table-wrap"><table data-table="{esc(name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def period_line(section: SectionData, info: SectionInfo) -> Html:
    if not info.monthly or section.current_period is None:
        return Html("")
    as_day = section.key in ("engagement",)
    show = fmt.day if as_day else fmt.month
    cur_ja, cur_en = show(section.current_period, "ja"), show(section.current_period, "en")
    through = section.through
    if not as_day and through is not None and through < data_month_end(section.current_period):
        cur_ja += f"({through.month}月{through.day}日まで)"
        cur_en += f" (through {fmt.day(through, 'en')})"
    if section.previous_period is None:
        return Html(f'<p class="period">{bi(f"期間: {cur_ja}", f"Period: {cur_en}")}</p>')
    prev_ja, prev_en = show(section.previous_period, "ja"), show(section.previous_period, "en")
    return Html(
        '<p class="period">'
        + bi(f"今期 {cur_ja} と前期 {prev_ja} の比較", f"This period {cur_en} vs {prev_en}")
        + "</p>"
    )


def section_metrics(section: SectionData, statuses: dict[str, TargetStatus]) -> Html:
    cards = []
    for metric in section.metrics:
        kpi = KPI_BY_KEY.get(metric.key)
        cards.append(
            metric_card(
                metric.key,
                metric.kind,
                metric.current,
                metric.previous,
                kpi.ja if kpi else metric.ja,
                kpi.en if kpi else metric.en,
                higher_is_better=kpi.higher_is_better if kpi else None,
                status=statuses.get(metric.key),
                compare=metric.previous is not None or section.previous_period is not None,
                total=metric.total,
            )
        )
    return Html(f'<div class="metrics">{"".join(cards)}</div>')


def chart_div(chart_id: str) -> Html:
    return Html(
        f'<div class="chart" id="chart-{esc(chart_id)}" data-chart="{esc(chart_id)}"></div>'
    )


# --- section tables -------------------------------------------------------------------


def section_tables(section: SectionData) -> Html:
    key = section.key
    r = section.rows
    if key == "email":
        return table(
            [
                ("キャンペーン", "Campaign", False),
                ("最終配信", "Last send", False),
                ("到達", "Delivered", True),
                ("CTR", "CTR", True),
                ("配信停止率", "Unsubscribe rate", True),
            ],
            [
                [
                    esc(c["name"]),
                    bi(fmt.day(c["last_send_date"], "ja"), fmt.day(c["last_send_date"], "en")),
                    num(c["delivered"], "int"),
                    num(c["ctr"], "pct"),
                    num(c["unsubscribe_rate"], "pct"),
                ]
                for c in r.get("campaigns", [])[:15]
            ],
            "campaigns",
        )
    if key == "web":
        return table(
            [
                ("チャネル", "Channel", False),
                ("タッチ", "Touches", True),
                ("回遊率", "Circulation", True),
                ("閲覧ページ/人", "Pages per lead", True),
            ],
            [
                [
                    bi(labels.channel(c["channel"], "ja"), labels.channel(c["channel"], "en")),
                    num(c["touches"], "int"),
                    num(c["rate"], "pct"),
                    num(c["pages_per_lead"], "ratio"),
                ]
                for c in r.get("channel_totals", [])
            ],
            "web_channels",
        )
    if key == "ab":
        return table(
            [
                ("テスト", "Test", False),
                ("コンテンツ A / 挑戦者", "Content A / B", False),
                ("到達 A / 挑戦者", "Delivered A / B", True),
                ("CTR A", "CTR A", True),
                ("CTR 挑戦者", "CTR B", True),
                ("リフト", "Lift", True),
                ("95%信頼区間", "95% interval", True),
                ("p", "p", True),
                ("Holm p", "Holm p", True),
                ("判定", "Verdict", False),
                ("展開後CTR変化", "CTR change after rollout", True),
            ],
            [
                [
                    esc(f"{t['name']} · {t['challenger_variant']} vs {t['control_variant']}"),
                    bi(
                        f"{labels.content_type(t['control_content_type'], 'ja')} / "
                        f"{labels.content_type(t['challenger_content_type'], 'ja')}",
                        f"{labels.content_type(t['control_content_type'], 'en')} / "
                        f"{labels.content_type(t['challenger_content_type'], 'en')}",
                    ),
                    esc(
                        f"{fmt.integer(t['control_delivered'])} / "
                        f"{fmt.integer(t['challenger_delivered'])}"
                    ),
                    num(t["control_ctr"], "pct"),
                    num(t["challenger_ctr"], "pct"),
                    num(t["lift"], "pct"),
                    esc(
                        f"[{fmt.pct(t['ci_lower'])}, {fmt.pct(t['ci_upper'])}]"
                        if t["ci_lower"] is not None
                        else fmt.MISSING
                    ),
                    esc(fmt.p_value(t["p_value"])),
                    esc(fmt.p_value(t["adjusted_p_value"])),
                    bi(
                        labels.ab_status(t["status"], "ja")
                        + (f": {t['winner']}" if t["status"] == "winner" else ""),
                        labels.ab_status(t["status"], "en")
                        + (f": {t['winner']}" if t["status"] == "winner" else ""),
                    ),
                    num(t["rollout_ctr_change"], "pct"),
                ]
                for t in r.get("tests", [])
            ],
            "ab_tests",
        )
    if key == "fatigue":
        creatives = sorted(
            r.get("creatives", []),
            key=lambda c: (c["latest"]["week_start_date"] or date.min, c["creative_id"]),
            reverse=True,
        )
        return table(
            [
                ("クリエイティブ", "Creative", False),
                ("配信開始", "Launched", False),
                ("最新週", "Latest week", True),
                ("最新週CTR", "Latest CTR", True),
                ("基準CTR", "Baseline CTR", True),
                ("基準比", "vs baseline", True),
                ("疲弊週(累計)", "Weeks flagged", True),
                ("最新週の判定", "Latest week", False),
            ],
            [
                [
                    esc(c["label"]),
                    bi(fmt.day(c["launch_date"], "ja"), fmt.day(c["launch_date"], "en")),
                    num(c["latest"]["weeks_since_launch"], "int"),
                    num(c["latest"]["click_through_rate"], "pct"),
                    num(c["latest"]["baseline_ctr"], "pct"),
                    num(c["latest"]["ctr_change_from_baseline"], "pct"),
                    num(sum(1 for w in c["weeks"] if w["is_fatigued"]), "int"),
                    bi("疲弊", "fatigued")
                    if c["latest"]["is_fatigued"]
                    else bi("サンプル不足", "below sample")
                    if not c["latest"]["has_min_sample"]
                    else bi("正常", "ok"),
                ]
                for c in creatives
            ],
            "creatives",
        )
    if key == "funnel":
        steps = table(
            [
                ("段階", "Step", False),
                ("転換率", "Conversion", True),
                ("日数(中央値)", "Days (median)", True),
            ],
            [
                [
                    bi(
                        f"{labels.stage(s['from'], 'ja')} → {labels.stage(s['to'], 'ja')}",
                        f"{labels.stage(s['from'], 'en')} → {labels.stage(s['to'], 'en')}",
                    ),
                    num(s["conversion"], "pct"),
                    num(s["median_days"], "days"),
                ]
                for s in r.get("steps", [])
            ],
            "funnel_steps",
        )
        sla = table(
            [("SLA(MQL→SAL)", "SLA (MQL → SAL)", False), ("件数", "MQLs", True)],
            [
                [
                    bi(labels.sla(s["status"], "ja"), labels.sla(s["status"], "en")),
                    num(s["count"], "int"),
                ]
                for s in r.get("sla", [])
            ],
            "funnel_sla",
        )
        return Html(steps + sla)
    if key == "handoff":
        hours = dbt_vars()["mql_sla_hours"]
        return table(
            [
                ("担当者", "Owner", False),
                ("MQL", "MQLs", True),
                ("Nurtureから引き渡し", "Handed by Nurture", True),
                ("Salesforceに到達", "Delivered to Salesforce", True),
                ("受入", "Accepted", True),
                ("リサイクル", "Recycled", True),
                ("失格", "Disqualified", True),
                ("判定待ち", "Awaiting", True),
                (f"うち{hours}時間超", f"of which > {hours} h", True),
                ("受入率", "Acceptance rate", True),
            ],
            [
                [
                    esc(o["owner"]) if o["owner"] else bi("(未割当)", "(unassigned)"),
                    num(o["mqls"], "int"),
                    num(o["handed"], "int"),
                    num(o["delivered"], "int"),
                    num(o["accepted"], "int"),
                    num(o["recycled"], "int"),
                    num(o["disqualified"], "int"),
                    num(o["awaiting"], "int"),
                    num(o["overdue"], "int"),
                    num(o["acceptance_rate"], "pct"),
                ]
                for o in r.get("owners", [])
            ],
            "owners",
        )
    if key == "ltv":
        return table(
            [
                ("業種", "Industry", False),
                ("規模", "Size", False),
                ("顧客", "Customers", True),
                ("平均単価", "Average deal", True),
                ("年間購入頻度", "Purchases a year", True),
                ("顧客寿命(年)", "Lifetime (years)", True),
                ("LTV", "LTV", True),
                ("実測/既定値", "Observed / default", False),
            ],
            [
                [
                    esc(s["industry"]),
                    esc(s["size_band"]),
                    num(s["customer_count"], "int"),
                    num(s["average_unit_price"], "money"),
                    num(s["annual_purchase_frequency"], "ratio"),
                    num(s["customer_lifetime_years"], "ratio"),
                    num(s["ltv"], "money"),
                    bi(
                        ("頻度: 実測" if s["frequency_observed"] else "頻度: 既定値")
                        + (" / 寿命: 実測" if s["lifespan_observed"] else " / 寿命: 既定値"),
                        ("frequency observed" if s["frequency_observed"] else "frequency default")
                        + (
                            ", lifetime observed"
                            if s["lifespan_observed"]
                            else ", lifetime default"
                        ),
                    ),
                ]
                for s in r.get("segments", [])
            ],
            "ltv",
        )
    if key == "attribution":
        return table(
            [
                ("チャネル", "Channel", False),
                ("パイプライン ファースト", "Pipeline first touch", True),
                ("ラスト", "last touch", True),
                ("線形", "linear", True),
                ("受注額 ファースト", "Won first touch", True),
                ("ラスト", "last touch", True),
                ("線形", "linear", True),
            ],
            [
                [
                    bi(labels.channel(c["channel"], "ja"), labels.channel(c["channel"], "en")),
                    num(c["first_touch_pipeline"], "money"),
                    num(c["last_touch_pipeline"], "money"),
                    num(c["linear_pipeline"], "money"),
                    num(c["first_touch_revenue"], "money"),
                    num(c["last_touch_revenue"], "money"),
                    num(c["linear_revenue"], "money"),
                ]
                for c in r.get("totals", [])
            ],
            "attribution",
        )
    if key == "events":
        return table(
            [
                ("プログラム", "Program", False),
                ("開催日", "Date", False),
                ("登録", "Registered", True),
                ("参加", "Attended", True),
                ("参加率", "Attendance", True),
                ("無断欠席率", "No-show rate", True),
                ("参加→MQL", "Attendees → MQL", True),
                ("参加→商談", "Attendees → opportunity", True),
            ],
            [
                [
                    esc(e["name"]),
                    bi(fmt.day(e["launch_date"], "ja"), fmt.day(e["launch_date"], "en")),
                    num(e["registered_leads"], "int"),
                    num(e["attended_leads"], "int"),
                    num(e["attendance_rate"], "pct"),
                    num(e["no_show_rate"], "pct"),
                    num(e["attendees_to_mql"], "int"),
                    num(e["attendees_to_opportunity"], "int"),
                ]
                for e in reversed(r.get("events", []))
            ],
            "events",
        )
    if key == "roi":
        channels_table = table(
            [
                ("チャネル", "Channel", False),
                ("キャンペーン", "Campaigns", True),
                ("費用", "Cost", True),
                ("受注額(線形)", "Won (linear)", True),
                ("ROI", "ROI", True),
                ("MQL単価", "Cost per MQL", True),
            ],
            [
                [
                    bi(labels.channel(c["channel"], "ja"), labels.channel(c["channel"], "en")),
                    num(c["campaigns"], "int"),
                    num(c["cost"], "money"),
                    num(c["won_revenue"], "money"),
                    num(c["roi"], "pct"),
                    num(c["cost_per_mql"], "money"),
                ]
                for c in r.get("channels", [])
            ],
            "roi_channels",
        )
        top = sorted(r.get("campaigns", []), key=lambda c: -(c["cost"] or 0))[:10]
        campaigns_table = table(
            [
                ("キャンペーン(費用上位10)", "Campaign (top 10 by cost)", False),
                ("チャネル", "Channel", False),
                ("費用", "Cost", True),
                ("リード", "Leads", True),
                ("MQL", "MQLs", True),
                ("リード単価", "Cost per lead", True),
                ("MQL単価", "Cost per MQL", True),
                ("ROI", "ROI", True),
            ],
            [
                [
                    esc(c["name"]),
                    bi(labels.channel(c["channel"], "ja"), labels.channel(c["channel"], "en")),
                    num(c["cost"], "money"),
                    num(c["lead_count"], "int"),
                    num(c["mql_count"], "int"),
                    num(c["cost_per_lead"], "money"),
                    num(c["cost_per_mql"], "money"),
                    num(c["roi"], "pct"),
                ]
                for c in top
            ],
            "roi_campaigns",
        )
        return Html(channels_table + campaigns_table)
    return Html("")


# --- the page -------------------------------------------------------------------------


def render_section(
    info: SectionInfo,
    section: SectionData,
    charts: dict[str, Any],
    statuses: dict[str, TargetStatus],
) -> Html:
    sources = ", ".join(info.sources)
    parts = [
        f'<section id="{esc(info.key)}" data-section="{esc(info.key)}">',
        f"<h2>{bi(info.ja, info.en)}</h2>",
        f'<p class="intro">{bi(info.intro_ja, info.intro_en)}</p>',
    ]
    if not section.available:
        parts.append(
            f'<p class="empty" data-empty="{esc(info.key)}">'
            + bi("まだデータがありません", "No data yet")
            + "</p>"
        )
    else:
        parts.append(period_line(section, info))
        parts.append(section_metrics(section, statuses))
        parts += [chart_div(chart_id) for chart_id in charts]
        parts.append(section_tables(section))
    parts.append(f'<p class="source">{bi("出典: ", "Source: ")}{esc(sources)}</p>')
    parts.append("</section>")
    return join(parts)


def _shown_path(path: Any) -> str:
    """A path in the repository as the repository names it; others as they are."""
    from nurture.config import REPO_ROOT

    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except (ValueError, OSError):
        return str(path)


def render_overview(
    values: dict[str, float | None], statuses: list[TargetStatus], targets: Targets
) -> Html:
    by_key = {s.kpi.key: s for s in statuses}
    cards = [
        metric_card(
            kpi.key,
            kpi.kind,
            values.get(kpi.key),
            None,
            kpi.ja,
            kpi.en,
            kpi.higher_is_better,
            by_key.get(kpi.key),
            compare=False,
            attr="data-kpi",
        )
        for kpi in KPIS
    ]
    on = sum(1 for s in statuses if s.on_target)
    off = sum(1 for s in statuses if s.on_target is False)
    where = _shown_path(targets.path) if targets.path else "include/report/kpi_targets.yaml"
    summary = (
        bi(f"目標: {on}件達成、{off}件未達({where})", f"Targets: {on} on, {off} off ({where})")
        if statuses
        else bi(f"目標は未設定です({where})", f"No targets set ({where})")
    )
    return Html(
        '<section id="kpis" data-section="kpis">'
        f"<h2>{bi('主要KPIと目標', 'Headline KPIs and targets')}</h2>"
        f'<p class="intro">{summary}</p>'
        f'<div class="metrics">{"".join(cards)}</div></section>'
    )


def render_todo(recommendations: list[Recommendation], rules: tuple[Rule, ...]) -> Html:
    if recommendations:
        items = "".join(
            f'<li data-rule="{esc(r.rule)}" data-severity="{esc(r.severity)}">'
            f'<span class="badge {esc(r.severity)}">'
            + (bi("要対応", "action") if r.severity == "action" else bi("注視", "watch"))
            + f"</span>{bi(r.ja, r.en)}</li>"
            for r in recommendations
        )
        body = f'<ol class="todo">{items}</ol>'
    else:
        body = (
            '<p class="empty" data-empty="todo">'
            + bi("下のルールに当てはまる項目はありません", "Nothing matches the rules below")
            + "</p>"
        )
    stated = "".join(
        f'<dt data-rule-id="{esc(rule.id)}">{esc(rule.id)}</dt>'
        f'<dd class="rule-text">{bi(rule.ja, rule.en)}</dd>'
        for rule in rules
    )
    return Html(
        '<section id="todo" data-section="todo">'
        f"<h2>{bi('次にやること', 'What to do next')}</h2>{body}"
        f'<h3 style="font-size:14px;margin:14px 0 0">{bi("ルール", "Rules")}</h3>'
        f'<dl class="rules">{stated}</dl></section>'
    )


def render_page(
    sections: dict[str, SectionData],
    charts: dict[str, dict[str, Any]],
    values: dict[str, float | None],
    statuses: list[TargetStatus],
    targets: Targets,
    recommendations: list[Recommendation],
    rules: tuple[Rule, ...],
    generated_at: datetime,
    warehouse_kind: str,
    plotly_js: str,
) -> str:
    nonce = secrets.token_urlsafe(18)
    by_key = {s.kpi.key: s for s in statuses}
    nav = join(
        f'<a href="#{esc(key)}">{bi(ja, en)}</a>'
        for key, ja, en in [
            ("kpis", "KPI", "KPIs"),
            ("todo", "次にやること", "What to do next"),
            *((i.key, i.ja, i.en) for i in SECTIONS),
        ]
    )
    body_sections = join(
        render_section(info, sections[info.key], charts.get(info.key, {}), by_key)
        for info in SECTIONS
    )
    all_charts = {cid: figs for per in charts.values() for cid, figs in per.items()}
    stamp_ja = f"{fmt.day(generated_at, 'ja')} {generated_at:%H:%M} UTC 作成"
    stamp_en = f"generated {fmt.day(generated_at, 'en')} {generated_at:%H:%M} UTC"
    csp = (
        "default-src 'none'; "
        f"script-src 'nonce-{nonce}'; "
        "style-src 'unsafe-inline'; img-src data: blob:; "
        "base-uri 'none'; form-action 'none'"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(TITLE[0])}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{bi(*TITLE)}</h1>"
        f'<span class="meta">{bi(stamp_ja, stamp_en)} · {esc(warehouse_kind)}</span>'
        '<button type="button" id="lang-toggle" aria-label="Switch to English">English</button>'
        f"</header>\n<nav>{nav}</nav>\n<main>\n"
        f"{render_overview(values, statuses, targets)}\n"
        f"{render_todo(recommendations, rules)}\n"
        f"{body_sections}\n</main>\n"
        f"<footer>{bi(*FOOTER)}</footer>\n"
        f'<script type="application/json" id="nurture-charts">{safe_json(all_charts)}</script>\n'
        f'<script type="application/json" id="nurture-titles">'
        f"{safe_json({'ja': TITLE[0], 'en': TITLE[1]})}</script>\n"
        f'<script nonce="{nonce}">{plotly_js}</script>\n'
        f'<script nonce="{nonce}">{SCRIPT}</script>\n'
        "</body>\n</html>\n"
    )
