"""What the report tests read from a page: in the HTML text, and in a browser."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from tests.report.browser import Page

# How a missing number must never look on the page.
FORBIDDEN = re.compile(r"\b(NaN|nan|None|null|undefined|Infinity|inf)\b")

# Per chart: its plotly SVG, and the marks drawn in it (bars, lines, points, funnel
# segments, heatmap image), as the browser laid them out.
CHARTS_JS = """
Array.from(document.querySelectorAll('[data-chart]')).map(function (div) {
  var marks = div.querySelectorAll(
    '.plot path, .plot rect, .funnellayer path, .trace path, .heatmaplayer image');
  var visible = Array.from(marks).filter(function (m) {
    var box = m.getBoundingClientRect(); return box.width > 0 && box.height > 0; });
  var title = div.querySelector('.gtitle');
  return {id: div.getAttribute('data-chart'), svgs: div.querySelectorAll('svg.main-svg').length,
          marks: visible.length, height: div.getBoundingClientRect().height,
          title: title ? title.textContent : null};
})
"""


def visible_text_of_html(page: str) -> str:
    """The page's text without scripts, styles and tags (both languages)."""
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    page = re.sub(r"<style\b.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def open_report(page: Page, path: Path, lang: str = "ja") -> None:
    page.open(path.resolve().as_uri() + ("#en" if lang == "en" else ""))
    page.wait_until(f"document.body.getAttribute('data-rendered') === '{lang}'")


def toggle(page: Page, to: str) -> None:
    page.evaluate("document.getElementById('lang-toggle').click()")
    page.wait_until(f"document.body.getAttribute('data-rendered') === '{to}'")


def charts(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(CHARTS_JS)


def foreign_requests(page: Page, path: Path) -> list[str]:
    """Requests other than the file itself. plotly draws a heatmap into a canvas and
    shows it as an in-memory `data:` image: no network, so not counted."""
    own = path.resolve().as_uri()
    return [
        url for url in page.requests if url.split("#")[0] != own and not url.startswith("data:")
    ]


def metric(page: Page, selector: str) -> dict[str, Any]:
    return page.evaluate(
        f"""(function () {{
          var el = document.querySelector({selector!r});
          if (!el) return null;
          var value = el.querySelector('.value');
          return {{current: el.getAttribute('data-current'),
                   previous: el.getAttribute('data-previous'),
                   text: value ? value.innerText.trim() : null,
                   target: (el.querySelector('[data-target]') || {{}}).textContent || null}};
        }})()"""
    )
