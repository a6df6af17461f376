"""A `Progress` that keeps what it was told, for the tests."""

from __future__ import annotations

from typing import Any

from nurture.progress import Progress


class Recorder(Progress):
    """Each line's descriptions (the last one in `lines`), count and total, and which
    lines finished."""

    active = True

    def __init__(self) -> None:
        self.lines: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[str]] = {}
        self.finished: list[str] = []

    def update(
        self,
        key: str,
        description: str | None = None,
        *,
        completed: int | None = None,
        total: int | None = None,
        advance: int = 0,
    ) -> None:
        line = self.lines.setdefault(key, {"description": key, "completed": 0, "total": None})
        if description is not None:
            line["description"] = description
            self.history.setdefault(key, []).append(description)
        if completed is not None:
            line["completed"] = completed
        if total is not None:
            line["total"] = total
        line["completed"] += advance

    def done(self, key: str, description: str | None = None) -> None:
        self.update(key, description)
        self.finished.append(key)

    def description(self, key: str) -> str:
        return self.lines[key]["description"]
