"""The report's charts as plotly figure dicts, one per language.

Figures are plain dicts in plotly's JSON schema (no `plotly.graph_objects` on the hot
path: building thirty validated figures costs seconds; the tests validate every one).
Text from the data is HTML-escaped before it goes in: plotly reads a subset of HTML
in labels (`<a href>`, `<b>`), and escaped text shows literally.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from nurture.report import fmt, labels
from nurture.report.data import (
    BANDS,
    SEGMENT_BANDS,
    SectionData,
    add_months,
    channels,
    month_range,
    ratio,
)
from nurture.report.fmt import Lang

Figure = dict[str, Any]
FONT = (
    'system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Hiragino Kaku Gothic ProN", '
    '"Noto Sans CJK JP", "Yu Gothic", Meiryo, sans-serif'
)
PALETTE = [
    "#1f6f8b",
    "#e07a5f",
    "#3d9970",
    "#f2cc8f",
    "#81b29a",
    "#9d4edd",
    "#577590",
    "#f28482",
    "#43aa8b",
    "#b5838d",
    "#6c757d",
]
BAND_COLORS = {
    "fan": "#2a9d8f",
    "engaged": "#8ab17d",
    "light": "#e9c46a",
    "dormant": "#c9ccd1",
    "new": "#a8dadc",
}
STATUS_COLORS = {
    "winner": "#2a9d8f",
    "significant_alone": "#e9c46a",
    "no_difference": "#577590",
    "small_sample": "#adb5bd",
}
VERDICT_COLORS = {
    "accepted": "#2a9d8f",
    "recycled": "#e9c46a",
    "disqualified": "#e07a5f",
    "awaiting": "#adb5bd",
}
MAX_BARS = 15
MAX_CREATIVES = 10


def text(value: Any) -> str:
    """Data text for a figure: escaped, so plotly shows it as written."""
    return html.escape("" if value is None else str(value), quote=True)


def t(lang: Lang, ja: str, en: str) -> str:
    return ja if lang == "ja" else en


def layout(lang: Lang, title: str, height: int = 360, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 15}, "x": 0.01, "xanchor": "left"},
        "font": {"family": FONT, "size": 12, "color": "#1f2933"},
        "height": height,
        "margin": {"l": 60, "r": 30, "t": 50, "b": 60},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "y": -0.18, "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": {"gridcolor": "#eceff1", "automargin": True},
        "yaxis": {"gridcolor": "#eceff1", "automargin": True, "rangemode": "tozero"},
        "separators": ".,",
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    if "yaxis2" in base:  # room for the right-hand axis and its title
        base["yaxis2"] = {"automargin": True, **base["yaxis2"]}
        base["margin"] = {**base["margin"], "r": 80}
    return base


def _pct_text(values: list[float | None], lang: Lang) -> list[str]:
    return [fmt.pct(v, lang) for v in values]


# --- figures --------------------------------------------------------------------------


def email_trend(section: SectionData, lang: Lang) -> Figure | None:
    monthly = section.rows.get("monthly", [])
    if not monthly:
        return None
    x = [fmt.month(r["month"], lang) for r in monthly]
    return {
        "data": [
            {
                "type": "bar",
                "name": t(lang, "配信数", "Delivered"),
                "x": x,
                "y": [r["delivered"] for r in monthly],
                "marker": {"color": "#dfe7ec"},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "CTR",
                "x": x,
                "y": [r["ctr"] for r in monthly],
                "yaxis": "y2",
                "line": {"color": PALETTE[0], "width": 3},
                "hovertemplate": "%{x}: %{y:.2%}<extra>CTR</extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": t(lang, "配信停止率", "Unsubscribe rate"),
                "x": x,
                "y": [r["unsubscribe_rate"] for r in monthly],
                "yaxis": "y2",
                "line": {"color": PALETTE[1], "width": 3},
                "hovertemplate": "%{x}: %{y:.2%}<extra></extra>",
            },
        ],
        "layout": layout(
            lang,
            t(lang, "月次推移: CTRと配信停止率", "Monthly: CTR and unsubscribe rate"),
            yaxis={"title": {"text": t(lang, "配信数", "Delivered")}},
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "rangemode": "tozero",
                "tickformat": ".1%",
                "title": {"text": t(lang, "率", "Rate")},
            },
            barmode="overlay",
        ),
    }


def email_campaigns(section: SectionData, lang: Lang) -> Figure | None:
    rows = [r for r in section.rows.get("campaigns", []) if r["delivered"]][:MAX_BARS]
    if not rows:
        return None
    rows = list(reversed(rows))
    y = [text(r["name"]) for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "CTR",
                "y": y,
                "x": [r["ctr"] for r in rows],
                "marker": {"color": PALETTE[0]},
                "hovertemplate": "%{y}: %{x:.2%}<extra>CTR</extra>",
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": t(lang, "配信停止率", "Unsubscribe rate"),
                "y": y,
                "x": [r["unsubscribe_rate"] for r in rows],
                "xaxis": "x2",
                "marker": {"color": PALETTE[1]},
                "hovertemplate": "%{y}: %{x:.2%}<extra></extra>",
            },
        ],
        "layout": layout(
            lang,
            t(
                lang,
                f"キャンペーン別(直近{len(rows)}件、全期間)",
                f"By campaign (latest {len(rows)}, all sends)",
            ),
            height=max(320, 26 * len(rows) + 120),
            xaxis={"domain": [0, 0.47], "tickformat": ".1%", "title": {"text": "CTR"}},
            xaxis2={
                "domain": [0.53, 1],
                "anchor": "y",
                "tickformat": ".1%",
                "gridcolor": "#eceff1",
                "title": {"text": t(lang, "配信停止率", "Unsubscribe rate")},
            },
            yaxis={"automargin": True, "rangemode": "normal"},
            margin={"l": 10},
        ),
    }


def engagement_bands(section: SectionData, lang: Lang) -> Figure | None:
    trend = section.rows.get("trend", [])
    if not trend:
        return None
    x = [fmt.day(p["as_of"], lang) for p in trend]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": labels.band(band, lang),
            "x": x,
            "y": [p[f"{band}_share"] for p in trend],
            "customdata": [p[band] for p in trend],
            "marker": {"color": BAND_COLORS[band]},
            "hovertemplate": "%{x}: %{y:.1%} (%{customdata:,})<extra>"
            + labels.band(band, lang)
            + "</extra>",
        }
        for band in reversed(BANDS)
    ]
    data.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": t(lang, "継続反応率(平均)", "Continuous response rate (mean)"),
            "x": x,
            "y": [p["rate"] for p in trend],
            "yaxis": "y2",
            "line": {"color": "#1f2933", "width": 2, "dash": "dot"},
            "hovertemplate": "%{x}: %{y:.2%}<extra></extra>",
        }
    )
    return {
        "data": data,
        "layout": layout(
            lang,
            t(lang, "エンゲージメント帯の構成(月末時点)", "Engagement bands (at each month end)"),
            barmode="stack",
            yaxis={"tickformat": ".0%", "range": [0, 1]},
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "tickformat": ".0%",
                "showgrid": False,
                "rangemode": "tozero",
                "title": {"text": t(lang, "継続反応率", "Continuous response rate")},
            },
        ),
    }


def web_trend(section: SectionData, lang: Lang) -> Figure | None:
    monthly = section.rows.get("monthly", [])
    if not monthly:
        return None
    months = [r["month"] for r in monthly]
    x = [fmt.month(m, lang) for m in months]
    by_channel: dict[str, dict[Any, float | None]] = {}
    for row in section.rows.get("by_channel", []):
        by_channel.setdefault(row["channel"], {})[row["month"]] = row["rate"]
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": t(lang, "タッチ数", "Touches"),
            "x": x,
            "y": [r["touches"] for r in monthly],
            "marker": {"color": "#dfe7ec"},
            "hovertemplate": "%{x}: %{y:,}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": t(lang, "ウェブ回遊率(全体)", "Web circulation (all)"),
            "x": x,
            "y": [r["rate"] for r in monthly],
            "yaxis": "y2",
            "line": {"color": "#1f2933", "width": 3},
            "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
        },
    ]
    if len(by_channel) > 1:
        for i, (channel, rates) in enumerate(sorted(by_channel.items())):
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": labels.channel(channel, lang),
                    "x": x,
                    "y": [rates.get(m) for m in months],
                    "yaxis": "y2",
                    "line": {"color": PALETTE[i % len(PALETTE)], "width": 1.5},
                    "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
                }
            )
    return {
        "data": data,
        "layout": layout(
            lang,
            t(lang, "タッチ後7日以内のウェブ回遊率", "Web circulation within 7 days of a touch"),
            yaxis={"title": {"text": t(lang, "タッチ数", "Touches")}},
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "showgrid": False,
                "rangemode": "tozero",
                "tickformat": ".0%",
                "title": {"text": t(lang, "回遊率", "Circulation rate")},
            },
        ),
    }


def ab_forest(section: SectionData, lang: Lang) -> Figure | None:
    tests = [r for r in section.rows.get("tests", []) if r["ctr_difference"] is not None]
    tests = tests[: MAX_BARS * 2]
    if not tests:
        return None
    tests = list(reversed(tests))
    order = [_ab_label(r) for r in tests]
    data = []
    for status in ("winner", "significant_alone", "no_difference", "small_sample"):
        picked = [r for r in tests if r["status"] == status]
        if not picked:
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": labels.ab_status(status, lang),
                "y": [_ab_label(r) for r in picked],
                "x": [r["ctr_difference"] for r in picked],
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if r["ci_upper"] is None else r["ci_upper"] - r["ctr_difference"]
                        for r in picked
                    ],
                    "arrayminus": [
                        None if r["ci_lower"] is None else r["ctr_difference"] - r["ci_lower"]
                        for r in picked
                    ],
                    "color": STATUS_COLORS[status],
                },
                "marker": {"color": STATUS_COLORS[status], "size": 9},
                "customdata": [
                    [fmt.p_value(r["p_value"]), fmt.p_value(r["adjusted_p_value"])] for r in picked
                ],
                "hovertemplate": "%{y}<br>"
                + t(lang, "CTR差", "CTR difference")
                + ": %{x:+.2%}<br>p=%{customdata[0]}, Holm p=%{customdata[1]}<extra></extra>",
            }
        )
    return {
        "data": data,
        "layout": layout(
            lang,
            t(
                lang,
                "チャレンジャー − コントロールのCTR差と95%信頼区間",
                "Challenger − control CTR with its 95% interval",
            ),
            height=max(340, 24 * len(tests) + 140),
            xaxis={"tickformat": "+.0%", "zeroline": True, "zerolinecolor": "#1f2933"},
            yaxis={
                "automargin": True,
                "rangemode": "normal",
                "categoryorder": "array",
                "categoryarray": order,
            },
            margin={"l": 10},
        ),
    }


def _ab_label(row: dict[str, Any]) -> str:
    return text(f"{row['name']} · {row['challenger_variant']} vs {row['control_variant']}")


def fatigue_curves(section: SectionData, lang: Lang) -> Figure | None:
    creatives = [c for c in section.rows.get("creatives", []) if c["weeks"]]
    creatives.sort(key=lambda c: c["latest"]["week_start_date"] or c["launch_date"], reverse=True)
    creatives = creatives[:MAX_CREATIVES]
    if not creatives:
        return None
    data: list[dict[str, Any]] = []
    weeks_shown = len({w["weeks_since_launch"] for c in creatives for w in c["weeks"]})
    flagged_x, flagged_y, flagged_text = [], [], []
    for i, creative in enumerate(sorted(creatives, key=lambda c: c["creative_id"])):
        weeks = creative["weeks"]
        name = text(creative["label"])
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [w["weeks_since_launch"] for w in weeks],
                "y": [w["click_through_rate"] for w in weeks],
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
                "hovertemplate": t(lang, "第%{x}週", "week %{x}")
                + ": %{y:.2%}<extra>"
                + name
                + "</extra>",
            }
        )
        for w in weeks:
            if w["is_fatigued"]:
                flagged_x.append(w["weeks_since_launch"])
                flagged_y.append(w["click_through_rate"])
                flagged_text.append(name)
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": t(lang, "疲弊と判定", "Flagged fatigued"),
            "x": flagged_x,
            "y": flagged_y,
            "text": flagged_text,
            "marker": {"color": "#d62828", "symbol": "x", "size": 12},
            "hovertemplate": "%{text}<extra></extra>",
        }
    )
    return {
        "data": data,
        "layout": layout(
            lang,
            t(
                lang,
                "クリエイティブ別 週次CTR(配信開始からの週)",
                "Weekly CTR per creative (weeks since launch)",
            ),
            height=420,
            xaxis={"dtick": 1} if weeks_shown <= 12 else {},
            yaxis={"tickformat": ".0%"},
            legend={"y": -0.12},
        ),
    }


def _recent_cells(section: SectionData, months: int = 3) -> list[dict[str, Any]]:
    if section.current_period is None:
        return []
    keep = {add_months(section.current_period, -i) for i in range(months)}
    return [c for c in section.rows.get("cells", []) if c["month"] in keep]


def segment_heatmap(section: SectionData, lang: Lang) -> Figure | None:
    cells = _recent_cells(section)
    if not cells:
        return None
    types = sorted({c["content_type"] for c in cells})
    bands = [b for b in SEGMENT_BANDS if any(c["band"] == b for c in cells)]
    sums: dict[tuple[str, str], list[int]] = {}
    for c in cells:
        pair = sums.setdefault((c["band"], c["content_type"]), [0, 0])
        pair[0] += c["clicks"]
        pair[1] += c["delivered"]
    z, labels_text, hover = [], [], []
    for band in bands:
        row_z, row_t, row_h = [], [], []
        for content in types:
            clicks, delivered = sums.get((band, content), [0, 0])
            rate = ratio(clicks, delivered)
            row_z.append(rate)
            row_t.append(fmt.pct(rate, lang) if rate is not None else "")
            row_h.append(f"{delivered:,}")
        z.append(row_z)
        labels_text.append(row_t)
        hover.append(row_h)
    return {
        "data": [
            {
                "type": "heatmap",
                "x": [labels.content_type(c, lang) for c in types],
                "y": [labels.band(b, lang) for b in bands],
                "z": z,
                "text": labels_text,
                "texttemplate": "%{text}",
                "customdata": hover,
                "colorscale": [[0, "#f1f6f9"], [0.5, "#7fb3c8"], [1, "#1f4e79"]],
                "colorbar": {"tickformat": ".0%", "title": {"text": "CTR"}},
                "hovertemplate": "%{y} × %{x}: CTR %{z:.2%} (n=%{customdata})<extra></extra>",
                "xgap": 2,
                "ygap": 2,
            }
        ],
        "layout": layout(
            lang,
            t(
                lang,
                "セグメント × コンテンツタイプのCTR(直近3か月)",
                "CTR by segment × content type (latest 3 months)",
            ),
            height=340,
            xaxis={"gridcolor": "#ffffff"},
            yaxis={"gridcolor": "#ffffff", "rangemode": "normal", "autorange": "reversed"},
        ),
    }


def segment_unsubscribes(section: SectionData, lang: Lang) -> Figure | None:
    cells = section.rows.get("cells", [])
    if not cells:
        return None
    months = sorted({c["month"] for c in cells})[-12:]
    sums: dict[tuple[str, Any], list[int]] = {}
    for c in cells:
        pair = sums.setdefault((c["band"], c["month"]), [0, 0])
        pair[0] += c["unsubscribes"]
        pair[1] += c["delivered"]
    x = [fmt.month(m, lang) for m in months]
    data = []
    for band in SEGMENT_BANDS:
        ys = [ratio(*sums[(band, m)]) if (band, m) in sums else None for m in months]
        if all(v is None for v in ys):
            continue
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": labels.band(band, lang),
                "x": x,
                "y": ys,
                "line": {"color": BAND_COLORS[band], "width": 2},
                "hovertemplate": "%{x}: %{y:.2%}<extra>" + labels.band(band, lang) + "</extra>",
            }
        )
    if not data:
        return None
    return {
        "data": data,
        "layout": layout(
            lang,
            t(lang, "セグメント別 配信停止率の推移", "Unsubscribe rate by segment"),
            yaxis={"tickformat": ".1%"},
        ),
    }


def funnel_chart(section: SectionData, lang: Lang) -> Figure | None:
    stages = section.rows.get("stages", [])
    if not stages:
        return None
    return {
        "data": [
            {
                "type": "funnel",
                "y": [labels.stage(s["stage"], lang) for s in stages],
                "x": [s["count"] for s in stages],
                "textinfo": "value+percent previous",
                "marker": {"color": PALETTE[: len(stages)]},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": layout(
            lang,
            t(
                lang,
                "リード → MQL → SAL → SQL → 商談 → 受注(全コホート)",
                "Lead → MQL → SAL → SQL → opportunity → won (all cohorts)",
            ),
            height=360,
            yaxis={"rangemode": "normal"},
        ),
    }


def ltv_bars(section: SectionData, lang: Lang) -> Figure | None:
    rows = section.rows.get("segments", [])[:MAX_BARS]
    if not rows:
        return None
    rows = list(reversed(rows))
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "LTV",
                "y": [text(f"{r['industry']} / {r['size_band']}") for r in rows],
                "x": [r["ltv"] for r in rows],
                "text": [fmt.money(r["ltv"], lang) for r in rows],
                "textposition": "auto",
                "customdata": [
                    [r["customer_count"], fmt.money(r["average_unit_price"], lang)] for r in rows
                ],
                "marker": {"color": PALETTE[2]},
                "hovertemplate": "%{y}: %{text}<br>"
                + t(lang, "顧客数", "customers")
                + " %{customdata[0]}, "
                + t(lang, "平均単価", "average deal")
                + " %{customdata[1]}<extra></extra>",
            }
        ],
        "layout": layout(
            lang,
            t(lang, "セグメント(業種 / 規模)別LTV", "LTV by segment (industry / size)"),
            height=max(320, 26 * len(rows) + 120),
            xaxis={"tickprefix": "¥", "tickformat": "~s"},
            yaxis={"automargin": True, "rangemode": "normal"},
            margin={"l": 10},
            showlegend=False,
        ),
    }


def attribution_stacked(section: SectionData, lang: Lang) -> Figure | None:
    rows = section.rows.get("monthly", [])
    if not rows:
        return None
    present = sorted({r["month"] for r in rows})
    months = month_range(present[0], present[-1])  # months without a deal show as empty
    x = [fmt.month(m, lang) for m in months]
    values: dict[tuple[str, Any], float] = {}
    for r in rows:
        values[(r["channel"], r["month"])] = float(r["linear_pipeline"] or 0)
    order = [*channels(), "unattributed"]
    order += sorted({r["channel"] for r in rows} - set(order))
    data = []
    for i, channel in enumerate(order):
        ys = [values.get((channel, m), 0.0) for m in months]
        if not any(ys):
            continue
        data.append(
            {
                "type": "bar",
                "name": labels.channel(channel, lang),
                "x": x,
                "y": ys,
                "marker": {"color": "#adb5bd" if channel == "unattributed" else PALETTE[i % 10]},
                "hovertemplate": "%{x}: ¥%{y:,.0f}<extra>"
                + labels.channel(channel, lang)
                + "</extra>",
            }
        )
    if not data:
        return None
    return {
        "data": data,
        "layout": layout(
            lang,
            t(
                lang,
                "チャネル別パイプライン(線形アトリビューション、作成月)",
                "Pipeline by channel (linear attribution, month created)",
            ),
            barmode="stack",
            height=400,
            yaxis={"tickprefix": "¥", "tickformat": "~s"},
        ),
    }


def events_chart(section: SectionData, lang: Lang) -> Figure | None:
    rows = section.rows.get("events", [])[-MAX_BARS:]
    if not rows:
        return None
    x = [text(r["name"]) for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": t(lang, "登録", "Registered"),
                "x": x,
                "y": [r["registered_leads"] for r in rows],
                "marker": {"color": "#dfe7ec"},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            },
            {
                "type": "bar",
                "name": t(lang, "参加", "Attended"),
                "x": x,
                "y": [r["attended_leads"] for r in rows],
                "marker": {"color": PALETTE[0]},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            },
            {
                "type": "bar",
                "name": t(lang, "参加後MQL", "Attendees → MQL"),
                "x": x,
                "y": [r["attendees_to_mql"] for r in rows],
                "marker": {"color": PALETTE[2]},
                "hovertemplate": "%{x}: %{y:,}<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": t(lang, "参加率", "Attendance rate"),
                "x": x,
                "y": [r["attendance_rate"] for r in rows],
                "yaxis": "y2",
                "line": {"color": PALETTE[1], "width": 2},
                "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
            },
        ],
        "layout": layout(
            lang,
            t(
                lang,
                "ウェビナー・イベント別の登録・参加・MQL化",
                "Webinars and events: registered, attended, MQL",
            ),
            barmode="group",
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "tickformat": ".0%",
                "range": [0, 1],
                "showgrid": False,
            },
        ),
    }


def roi_chart(section: SectionData, lang: Lang) -> Figure | None:
    rows = [r for r in section.rows.get("channels", []) if r["roi"] is not None]
    if not rows:
        return None
    return {
        "data": [
            {
                "type": "bar",
                "name": "ROI",
                "x": [labels.channel(r["channel"], lang) for r in rows],
                "y": [r["roi"] for r in rows],
                "marker": {"color": ["#2a9d8f" if r["roi"] >= 0 else "#e07a5f" for r in rows]},
                "customdata": [
                    [fmt.money(r["cost"], lang), fmt.money(r["won_revenue"], lang)] for r in rows
                ],
                "hovertemplate": "%{x}: ROI %{y:.0%}<br>"
                + t(lang, "費用", "cost")
                + " %{customdata[0]}, "
                + t(lang, "受注", "won")
                + " %{customdata[1]}<extra></extra>",
            }
        ],
        "layout": layout(
            lang,
            t(lang, "チャネル別ROI(累計)", "ROI by channel (to date)"),
            yaxis={
                "tickformat": ".0%",
                "rangemode": "normal",
                "zeroline": True,
                "zerolinecolor": "#1f2933",
            },
            showlegend=False,
        ),
    }


def handoff_owners(section: SectionData, lang: Lang) -> Figure | None:
    owners = section.rows.get("owners", [])[: MAX_BARS * 2]
    if not owners:
        return None
    owners = list(reversed(owners))
    y = [text(o["owner"] or t(lang, "(未割当)", "(unassigned)")) for o in owners]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": labels.verdict(verdict, lang),
                "y": y,
                "x": [o[verdict] for o in owners],
                "marker": {"color": VERDICT_COLORS[verdict]},
                "hovertemplate": "%{y}: %{x:,}<extra>" + labels.verdict(verdict, lang) + "</extra>",
            }
            for verdict in ("accepted", "recycled", "disqualified", "awaiting")
        ],
        "layout": layout(
            lang,
            t(lang, "担当者別 MQLと営業の判定", "MQLs by owner and sales' verdicts"),
            barmode="stack",
            height=max(340, 24 * len(owners) + 130),
            yaxis={"automargin": True, "rangemode": "normal"},
            margin={"l": 10},
        ),
    }


CHARTS: dict[str, tuple[tuple[str, Callable[[SectionData, Lang], Figure | None]], ...]] = {
    "email": (("email_trend", email_trend), ("email_campaigns", email_campaigns)),
    "engagement": (("engagement_bands", engagement_bands),),
    "web": (("web_trend", web_trend),),
    "ab": (("ab_forest", ab_forest),),
    "fatigue": (("fatigue_curves", fatigue_curves),),
    "segments": (
        ("segment_heatmap", segment_heatmap),
        ("segment_unsubscribes", segment_unsubscribes),
    ),
    "funnel": (("funnel", funnel_chart),),
    "ltv": (("ltv", ltv_bars),),
    "attribution": (("attribution", attribution_stacked),),
    "events": (("events", events_chart),),
    "roi": (("roi", roi_chart),),
    "handoff": (("handoff_owners", handoff_owners),),
}


def build_charts(section: SectionData) -> dict[str, dict[Lang, Figure]]:
    """The section's charts that have something to draw, each in both languages."""
    out: dict[str, dict[Lang, Figure]] = {}
    if not section.available:
        return out
    for chart_id, build in CHARTS.get(section.key, ()):
        figures = {lang: build(section, lang) for lang in fmt.LANGS}
        if all(figures.values()):
            out[chart_id] = figures
    return out
