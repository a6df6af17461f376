"""Reading CSV straight off an HTTP body, a bounded batch at a time.

The body is never held whole: bytes flow through a buffered reader into the `csv`
module, which keeps quoted fields with embedded line breaks intact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


class ByteChunks(io.RawIOBase):
    """A read-only binary stream over an iterator of byte chunks (e.g. `iter_bytes()`)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def csv_records(
    chunks: Iterable[bytes], delimiter: str = ",", encoding: str = "utf-8-sig"
) -> Iterator[dict[str, str]]:
    """Rows of a CSV byte stream as dicts keyed by its header line."""
    text = io.TextIOWrapper(io.BufferedReader(ByteChunks(chunks)), encoding=encoding, newline="")
    yield from csv.DictReader(text, delimiter=delimiter)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of at most `size` items (itertools.batched arrives only in Python 3.12)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
