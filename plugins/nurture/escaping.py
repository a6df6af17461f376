"""Text from lead data, escaped for where people read it.

Names, companies and reasons come from forms, files and other people's systems, so any
of them may be crafted: a CSV cell that Excel would run as a formula, a Slack message
that pings a channel or hides a link behind friendly text.
"""

from __future__ import annotations

# Excel (and LibreOffice, Google Sheets) evaluate a cell that starts with one of these;
# the full-width forms are included because Japanese IMEs produce them and Excel folds
# them to ASCII on input.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def csv_cell(value: object) -> str:
    """A value as a CSV cell that a spreadsheet shows as text, never runs.

    As OWASP advises, a cell that starts with a formula trigger gets a leading `'`,
    which Excel hides and which makes the cell text. Applied to every cell of lead data
    alike, so a reader can strip exactly one leading `'` to get the value back: a phone
    number `+81-3-1234-5678` reads `'+81-3-1234-5678` in the file and `+81-3-1234-5678`
    in Excel.
    """
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def mrkdwn(text: str) -> str:
    """Escape what Slack reads as markup in mrkdwn: `<!channel>`, `<url|label>` links,
    and entities (`&`, `<`, `>` become `&amp;`, `&lt;`, `&gt;`, as Slack documents)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
