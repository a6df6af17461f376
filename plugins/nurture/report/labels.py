"""Words of the page in both languages: channels, bands, content types, stages."""

from __future__ import annotations

from nurture.report.fmt import Lang

CHANNELS = {
    "email": ("メール", "E-mail"),
    "content_download": ("資料ダウンロード", "Content download"),
    "social": ("ソーシャル", "Social"),
    "web_personalization": ("Webパーソナライズ", "Web personalization"),
    "webinar": ("ウェビナー", "Webinar"),
    "retargeting_ads": ("リターゲティング広告", "Retargeting ads"),
    "direct_mail": ("ダイレクトメール", "Direct mail"),
    "phone": ("電話", "Phone"),
    "events": ("イベント", "Events"),
    "unattributed": ("未帰属", "Unattributed"),
    "other": ("その他", "Other"),
}
BANDS = {
    "fan": ("ファン", "Fan"),
    "engaged": ("エンゲージ", "Engaged"),
    "light": ("ライト", "Light"),
    "dormant": ("休眠", "Dormant"),
    "new": ("新規(初回配信)", "New (first send)"),
}
CONTENT_TYPES = {
    "problem_solution": ("課題解決型", "Problem-solution"),
    "service_intro": ("サービス紹介型", "Service introduction"),
    "unknown": ("不明", "Unknown"),
}
STAGES = {
    "lead": ("リード", "Lead"),
    "mql": ("MQL", "MQL"),
    "sal": ("SAL", "SAL"),
    "sql": ("SQL", "SQL"),
    "opportunity": ("商談", "Opportunity"),
    "won": ("受注", "Won"),
}
VERDICTS = {
    "accepted": ("受入", "Accepted"),
    "recycled": ("リサイクル", "Recycled"),
    "disqualified": ("失格", "Disqualified"),
    "awaiting": ("判定待ち", "Awaiting verdict"),
}
SLA = {
    "met": ("遵守", "Met"),
    "breached": ("違反", "Breached"),
    "pending": ("判定前", "Pending"),
}
AB_STATUS = {
    "winner": ("勝者あり(Holm補正後)", "Winner (Holm-corrected)"),
    "significant_alone": ("単独では有意・補正後は判定保留", "Significant alone, not after Holm"),
    "no_difference": ("有意差なし", "No significant difference"),
    "small_sample": ("サンプル不足", "Below the minimum sample"),
}


def _pick(table: dict[str, tuple[str, str]], key: str | None, lang: Lang) -> str:
    if key is None:
        return "—"
    ja, en = table.get(key, (key, key.replace("_", " ")))
    return ja if lang == "ja" else en


def channel(key: str | None, lang: Lang) -> str:
    return _pick(CHANNELS, key, lang)


def band(key: str | None, lang: Lang) -> str:
    return _pick(BANDS, key, lang)


def content_type(key: str | None, lang: Lang) -> str:
    return _pick(CONTENT_TYPES, key, lang)


def stage(key: str | None, lang: Lang) -> str:
    return _pick(STAGES, key, lang)


def verdict(key: str | None, lang: Lang) -> str:
    return _pick(VERDICTS, key, lang)


def sla(key: str | None, lang: Lang) -> str:
    return _pick(SLA, key, lang)


def ab_status(key: str | None, lang: Lang) -> str:
    return _pick(AB_STATUS, key, lang)
