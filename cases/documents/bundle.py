"""Streams a case's full download as a zip with constant memory (C14, P12, M3).

`stream_zip(members)` is a generator of bytes: zipfile writes into a small in-memory sink that is emptied
after every chunk, each file is read from storage in 256 kB pieces and written ZIP_STORED (recordings,
photos and PDFs are already compressed), and the sizes and CRCs go into data descriptors, so nothing
larger than one chunk is ever held, whatever the case's recordings weigh. Zip64 is switched on per entry
when a file is large. Pure apart from reading the stored files it is given.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from cases.uploads import CHUNK


class _Sink(io.RawIOBase):
    """A write-only, non-seekable stream whose bytes are taken out by the generator after each write."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


@dataclass(frozen=True)
class Member:
    arcname: str
    size: int
    modified: dt.datetime
    chunks: Callable[[], Iterable[bytes]]  # opened only when the entry is written


def _date_time(value: dt.datetime) -> tuple[int, int, int, int, int, int]:
    value = max(value, dt.datetime(1980, 1, 1, tzinfo=value.tzinfo))
    return (value.year, value.month, value.day, value.hour, value.minute, value.second)


def stream_zip(members: Iterable[Member]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for member in members:
            info = zipfile.ZipInfo(member.arcname, date_time=_date_time(member.modified))
            info.compress_type = zipfile.ZIP_STORED
            info.file_size = member.size  # lets zipfile decide on zip64 for this entry up front
            info.external_attr = 0o644 << 16
            with zf.open(info, mode="w", force_zip64=member.size > 0x7FFFFFFF) as dest:
                for chunk in member.chunks():
                    dest.write(chunk)
                    if out := sink.take():
                        yield out
            if out := sink.take():
                yield out
    if out := sink.take():
        yield out


def file_chunks(opener: Callable[[], IO[bytes]], chunk: int = CHUNK) -> Callable[[], Iterator[bytes]]:
    """A `Member.chunks` reading `opener()` piecewise and closing it at the end."""

    def read() -> Iterator[bytes]:
        with opener() as fh:
            while data := fh.read(chunk):
                yield data

    return read
