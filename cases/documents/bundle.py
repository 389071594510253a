"""Streams a case's full download as a zip with constant memory (C14, P12, M3).

`stream_zip(members)` is a generator of bytes: zipfile writes into a small in-memory sink that is emptied
after every chunk, each file is read from storage in 256 kB pieces and written ZIP_STORED (recordings,
photos and PDFs are already compressed), and the sizes and CRCs go into data descriptors, so nothing
larger than one chunk is ever held, whatever the case's recordings weigh. Zip64 is switched on per entry
when a file is large. Pure apart from reading the stored files it is given.

Every zip ends with a manifest, SHA256SUMS.txt (`sha256sum -c` format, UTF-8 names): for a stored file the
SHA-256 recorded when it was stored (so the manifest proves the file unchanged since, and a file whose bytes no
longer match fails the check), for a file produced for the zip (a workbook) the hash of the bytes written. The
hash of every member's bytes is taken while they stream; a stored file whose bytes differ from its record is
reported to the caller (`mismatches`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from cases.uploads import CHUNK

MANIFEST = "SHA256SUMS.txt"


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
    sha256: str = ""  # recorded when the file was stored; "" for a file produced for the zip


def manifest_lines(hashes: Iterable[tuple[str, str]]) -> bytes:
    """SHA256SUMS.txt: "<hex>  <name>" per line, as sha256sum writes and checks it."""
    return "".join(f"{digest}  {name}\n" for name, digest in hashes).encode("utf-8")


def _date_time(value: dt.datetime) -> tuple[int, int, int, int, int, int]:
    value = max(value, dt.datetime(1980, 1, 1, tzinfo=value.tzinfo))
    return (value.year, value.month, value.day, value.hour, value.minute, value.second)


def _write(zf: zipfile.ZipFile, sink: _Sink, member: Member, digest: hashlib._Hash) -> Iterator[bytes]:
    info = zipfile.ZipInfo(member.arcname, date_time=_date_time(member.modified))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = member.size  # lets zipfile decide on zip64 for this entry up front
    info.external_attr = 0o644 << 16
    with zf.open(info, mode="w", force_zip64=member.size > 0x7FFFFFFF) as dest:
        for chunk in member.chunks():
            dest.write(chunk)
            digest.update(chunk)
            if out := sink.take():
                yield out
    if out := sink.take():
        yield out


def stream_zip(members: Iterable[Member], *, manifest: str = MANIFEST,
               mismatches: list[str] | None = None) -> Iterator[bytes]:
    """The zip of `members` (read lazily, one at a time) followed by the manifest of their SHA-256 hashes.

    A stored member whose bytes do not hash to its recorded `sha256` keeps the recorded hash in the manifest (the
    check then fails for it, as it should) and its name is appended to `mismatches` as soon as it is written.
    """
    sink = _Sink()
    hashes: list[tuple[str, str]] = []
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for member in members:
            digest = hashlib.sha256()
            yield from _write(zf, sink, member, digest)
            actual = digest.hexdigest()
            if member.sha256 and member.sha256 != actual and mismatches is not None:
                mismatches.append(member.arcname)
            hashes.append((member.arcname, member.sha256 or actual))
        if manifest:
            data = manifest_lines(hashes)
            yield from _write(zf, sink, Member(manifest, len(data), dt.datetime.now(), lambda: [data]),
                              hashlib.sha256())
    if out := sink.take():
        yield out


def file_chunks(opener: Callable[[], IO[bytes]], chunk: int = CHUNK) -> Callable[[], Iterator[bytes]]:
    """A `Member.chunks` reading `opener()` piecewise and closing it at the end."""

    def read() -> Iterator[bytes]:
        with opener() as fh:
            while data := fh.read(chunk):
                yield data

    return read
