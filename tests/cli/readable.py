"""What a Python repr (or a JSON dump) looks like in output meant for people."""

from __future__ import annotations

import re

REPR = re.compile(
    r"datetime\.(datetime|date|timedelta|timezone)\("  # datetime.datetime(2026, ...
    r"|\b(Timestamp|Decimal|PosixPath|WindowsPath|UUID)\("
    r"|\b[A-Z][A-Za-z0-9_]*\([a-z_][a-z0-9_]*="  # a dataclass: Foo(a=...
    r"|[{\[(]\s*['\"][^'\"]*['\"]\s*[:,)\]]"  # a dict, list or tuple of strings: {'a': ['a',
    r"|\{\s*['\"]|\{\}|\[\]"  # {'... and empty containers
    r"|['\"]\s*:\s*[{\[]"  # "rows": {
    r"|<[\w.]+ object at 0x"
)
# a line that opens a document: `{`, `[` (not in help texts, where `[--json]` is usage)
DOCUMENT = re.compile(r"^\s*[{\[]")


def reprs(text: str, usage: bool = False) -> list[str]:
    """The lines of `text` that look like a Python repr or a JSON dump; `usage`: text
    with argparse usage lines (`[--json]`, `{a,b}`), which may start with a bracket."""
    return [
        line
        for line in text.splitlines()
        if REPR.search(line) or (not usage and DOCUMENT.search(line))
    ]
