"""The canonical columns a dropped file's headers map to, and how each value is typed."""

from __future__ import annotations

from typing import Literal

ColumnType = Literal["text", "email", "date"]

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
}

# A row of a file is identified by the file's content and its place in it.
ROW_KEY = ("file_sha256", "row_number")
