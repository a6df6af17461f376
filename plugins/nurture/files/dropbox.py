"""The drop folder: which files are ready to import, their fingerprints, and where they go after."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from nurture.config import ConfigError, Settings
from nurture.files.sources import Sources

PROCESSED = "processed"
_CHUNK_BYTES = 1024 * 1024


class DropFolderMissing(ConfigError):
    """The drop folder named in sources.yaml or on the command line does not exist."""


@dataclass(frozen=True)
class Candidate:
    path: Path
    kind: str


@dataclass
class Scan:
    ready: list[Candidate] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # no kind's glob matches: left alone
    settling: list[str] = field(default_factory=list)  # still being written: next run
    refused: list[str] = field(default_factory=list)  # links and the like: never read


def resolve_drop_folder(settings: Settings, sources: Sources, override: Path | None) -> Path:
    """`override`, else sources.yaml's drop_folder (relative to NURTURE_HOME), else the
    default under NURTURE_HOME, which alone is created on demand: a folder someone named
    must exist, or a typo would be an empty folder that silently never imports anything."""
    if override is None and sources.drop_folder is None:
        settings.dropbox_dir.mkdir(parents=True, exist_ok=True)
        return settings.dropbox_dir
    folder = override or settings.home / Path(sources.drop_folder or "").expanduser()
    if not folder.is_dir():
        raise DropFolderMissing(
            f"drop folder {folder} does not exist or is not a folder: create it or point --path "
            "(or drop_folder in include/files/sources.yaml) at the folder files are dropped in"
        )
    return folder


def _ignored(path: Path) -> bool:
    # Hidden files (.DS_Store), Office lock files (~$list.csv) and sub-folders (processed/).
    return path.name.startswith((".", "~$")) or (path.is_dir() and not path.is_symlink())


def refusal(path: Path, folder: Path) -> str | None:
    """Why a directory entry is not read, if it is not a plain file of the folder itself.

    A link could make the import read any file the service can (`/etc/passwd`, another
    team's export) into the warehouse and quarantine, so links are refused whatever
    they point at; so is anything that is not a regular file or resolves elsewhere."""
    if path.is_symlink():
        return "a symbolic link; drop the file itself"
    if not path.is_file():
        return "not a regular file"
    if path.resolve().parent != folder.resolve():
        return "outside the drop folder"
    return None


def scan_drop_folder(folder: Path, sources: Sources, now: datetime) -> Scan:
    """The files directly in `folder`, by name, sorted into ready, unmatched and settling."""
    scan = Scan()
    newest_ready = now.timestamp() - sources.settle_seconds
    for path in sorted(folder.iterdir()):
        if _ignored(path):
            continue
        if reason := refusal(path, folder):
            scan.refused.append(f"{path.name} ({reason})")
            continue
        kind = sources.kind_of(path.name)
        if kind is None:
            scan.unmatched.append(path.name)
        elif path.stat().st_mtime > newest_ready:
            scan.settling.append(path.name)
        else:
            scan.ready.append(Candidate(path, kind))
    return scan


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def move_processed(path: Path, folder: Path, day: date, sha256: str) -> Path:
    """Move a read file to `processed/<day>/`; a name already there gets the sha256's start."""
    target_dir = folder / PROCESSED / day.isoformat()
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        # Same name, other content; should this name exist too, it holds the same bytes.
        target = target_dir / f"{path.stem}.{sha256[:12]}{path.suffix}"
    return Path(shutil.move(path, target))
