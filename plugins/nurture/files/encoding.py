"""Which encoding a dropped file is in: UTF-8 (with or without BOM) or Shift_JIS/cp932.

charset-normalizer ranks the candidates on the file's start and drops the ones whose
text reads as mojibake (cp932 decodes almost any bytes, so "it decodes" is not enough);
the winner must then decode the whole file strictly, read in chunks, before any row is
loaded, so a bad byte deep in a file rejects the file instead of half-loading it.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from pathlib import Path

from charset_normalizer import from_bytes

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024


def _sample(path: Path) -> bytes:
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    # Cut at the last line break so no multi-byte character is split (0x0A is never part
    # of a multi-byte sequence in UTF-8 or cp932).
    cut = head.rfind(b"\n")
    return head if cut < 0 or len(head) < SAMPLE_BYTES else head[: cut + 1]


def _ranked(sample: bytes, candidates: Sequence[str]) -> list[str]:
    """Python codec names of the plausible candidates, the most plausible first."""
    matches = from_bytes(sample, cp_isolation=list(candidates))
    ranked = []
    for match in matches:
        name = codecs.lookup(match.encoding).name
        if name == "utf-8" and match.bom:
            name = "utf-8-sig"  # strips the BOM, so the first header reads clean
        if name not in ranked:
            ranked.append(name)
    return ranked


def decodes_fully(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path, candidates: Sequence[str]) -> str | None:
    """The Python codec that reads the whole file, or None when no candidate does."""
    return next(
        (name for name in _ranked(_sample(path), candidates) if decodes_fully(path, name)), None
    )
