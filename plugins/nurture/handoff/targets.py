"""What every delivery target reports, and helpers they share."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class TargetResult:
    """One target's run: entries delivered, refused by the target, and still pending;
    `error` is set when the target failed as a whole (its entries stay pending)."""

    target: str
    delivered: int = 0
    refused: int = 0
    pending: int = 0
    error: str | None = None
    requests: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.refused == 0 and self.pending == 0

    def line(self) -> str:
        text = f"{self.target}: {self.delivered} delivered"
        if self.refused:
            text += f", {self.refused} refused by the target"
        if self.pending:
            text += f", {self.pending} still pending"
        if self.error:
            text += f" ({self.error})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
