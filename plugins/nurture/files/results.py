"""What an import did: per file, and per kind for the run log, the task and the command."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

SOURCE = "files"

Status = Literal["imported", "rejected", "already imported"]


@dataclass(frozen=True)
class FileResult:
    name: str
    kind: str
    sha256: str
    status: Status
    encoding: str | None = None
    rows: int = 0
    quarantined: int = 0
    reason: str | None = None  # why a whole file was rejected
    header_row: int | None = None
    skipped: tuple[Any, ...] = ()  # reading.Skipped: the lines before the header, and why

    @property
    def read(self) -> bool:
        """Read this run, not skipped as content imported before."""
        return self.status != "already imported"

    def as_row(self, run_id: str, imported_at: datetime) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "name": self.name,
            "kind": self.kind,
            "encoding": self.encoding,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "header_row": self.header_row,
            "skipped_lines": len(self.skipped),
            "imported_at": imported_at,
            "run_id": run_id,
        }


@dataclass
class ImportSummary:
    run_id: str
    folder: str
    files: list[FileResult] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    settling: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    moved_to: str | None = None

    def _per_kind(self, attribute: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        for result in self.files:
            totals[result.kind] = totals.get(result.kind, 0) + getattr(result, attribute)
        return totals

    @property
    def rows(self) -> dict[str, int]:
        return self._per_kind("rows")

    @property
    def quarantined(self) -> dict[str, int]:
        return self._per_kind("quarantined")

    @property
    def files_read(self) -> dict[str, int]:
        return self._per_kind("read")

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": SOURCE,
            "run_id": self.run_id,
            "folder": self.folder,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "files": [asdict(result) for result in self.files],
            "unmatched": self.unmatched,
            "settling": self.settling,
            "refused": self.refused,
            "moved_to": self.moved_to,
        }

    def render(self) -> str:
        lines = [f"drop folder {self.folder}: {len(self.files)} file(s) ready"]
        for r in self.files:
            if r.status == "imported":
                outcome = f"{r.encoding}, {r.rows:,} rows, {r.quarantined:,} quarantined"
            else:
                outcome = r.status + (f": {r.reason}" if r.reason else "")
            lines.append(f"  {r.kind:<16} {r.name}: {outcome}")
            if r.skipped:
                lines.append(
                    f"    {len(r.skipped)} line(s) skipped before the header (row {r.header_row}):"
                )
                lines.extend(
                    f"      row {s.row_number}: {s.reason}" + (f" ({s.text!r})" if s.text else "")
                    for s in r.skipped
                )
        if self.moved_to:
            lines.append(f"moved to {self.moved_to}")
        if self.unmatched:
            lines.append(f"left in place, no kind's glob matches: {', '.join(self.unmatched)}")
        if self.settling:
            lines.append(f"left for the next run, still being written: {', '.join(self.settling)}")
        if self.refused:
            lines.append(f"refused, not read: {', '.join(self.refused)}")
        if any(r.quarantined for r in self.files):
            lines.append("quarantined rows and their reasons: ops.quarantine (source 'files')")
        return "\n".join(lines)
