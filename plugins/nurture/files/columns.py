"""The canonical columns a dropped file's headers map to, how each value is typed, and
which columns each layout of table (contacts, leads, outcomes, activities) has."""

from __future__ import annotations

from typing import Literal

ColumnType = Literal["text", "email", "date", "timestamp", "outcome", "number"]
Layout = Literal["contacts", "leads", "outcomes", "activities"]

# Text stays as written (trimmed): names and companies are normalised in dbt, not here.
COLUMNS: dict[str, ColumnType] = {
    "company": "text",
    "department": "text",
    "title": "text",
    "last_name": "text",
    "first_name": "text",
    "full_name": "text",
    "last_name_kana": "text",
    "first_name_kana": "text",
    "email": "email",
    "phone": "text",
    "mobile": "text",
    "postal_code": "text",
    "address": "text",
    "url": "text",
    "met_on": "date",
    "event_name": "text",
    "owner": "text",
    "note": "text",
    # leads, outcomes and activities exported from another system, keyed by its lead id
    "lead_key": "text",
    "created_on": "date",
    "created_at": "timestamp",  # with the time of day, as written (no time zone)
    "source": "text",
    "landing_page": "text",
    "industry": "text",
    "employees": "text",  # "120" or "100-499": a band stays a band
    "outcome": "outcome",  # 'won' / 'lost'
    "outcome_on": "date",
    "amount": "number",
    "segment": "text",
    "activity_type": "text",
    "occurred_at": "timestamp",
    "campaign": "text",
}

# The columns of raw_files.<kind> per layout (besides file_sha256, row_number and extra).
# A mapped header whose column is not in its kind's layout is kept in `extra`.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "contacts": (
        "company",
        "department",
        "title",
        "last_name",
        "first_name",
        "full_name",
        "last_name_kana",
        "first_name_kana",
        "email",
        "phone",
        "mobile",
        "postal_code",
        "address",
        "url",
        "met_on",
        "event_name",
        "owner",
        "note",
    ),
    "leads": (
        "lead_key",
        "email",
        "created_on",
        "created_at",
        "source",
        "landing_page",
        "company",
        "industry",
        "employees",
        "title",
    ),
    "outcomes": ("lead_key", "outcome", "outcome_on", "amount", "segment"),
    "activities": ("lead_key", "activity_type", "occurred_at", "campaign"),
}

# A row of a file is identified by the file's content and its place in it.
ROW_KEY = ("file_sha256", "row_number")
