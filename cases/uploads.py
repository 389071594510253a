"""Checking and storing uploaded files: by content (magic bytes), never by extension or browser type.

`detect(head, open_zip)` names what a file really is; `check_upload(upload, kind)` refuses anything that
is not allowed for the kind or is too large, with a specific Chinese message; `store(...)` streams the
bytes into the private storage while computing the SHA-256. Nothing is written before the check passes,
and `StoredNames` deletes what was stored when the surrounding action fails, so a refused or failed
upload leaves no row and no file behind.

This module is the file-system boundary of case work (STYLE rule 5). Must not import views or `realtime`.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage

from cases.enums import FileKind, TemplateKind
from cases.exceptions import UploadRejectedError

HEAD_BYTES = 64
CHUNK = 256 * 1024
# [Content_Types].xml of a real Office file is a few kB; a bigger one is not worth parsing.
_CONTENT_TYPES_MAX = 256 * 1024


@dataclass(frozen=True)
class FileType:
    code: str
    label: str  # how the message names it: "JPEG 图片", "PDF 文档"
    mime: str
    ext: str


JPEG = FileType("jpeg", "JPEG 图片", "image/jpeg", ".jpg")
PNG = FileType("png", "PNG 图片", "image/png", ".png")
HEIC = FileType("heic", "HEIC 图片", "image/heic", ".heic")
PDF = FileType("pdf", "PDF 文档", "application/pdf", ".pdf")
WAV = FileType("wav", "WAV 录音", "audio/wav", ".wav")
MP3 = FileType("mp3", "MP3 录音", "audio/mpeg", ".mp3")
M4A = FileType("m4a", "M4A 录音", "audio/mp4", ".m4a")
AMR = FileType("amr", "AMR 录音", "audio/amr", ".amr")
DOCX = FileType("docx", "Word 文档", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ".docx")
XLSX = FileType("xlsx", "Excel 表格", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx")
# Recognised only to say what a refused file is.
_GIF = FileType("gif", "GIF 图片", "image/gif", ".gif")
_AVIF = FileType("avif", "AVIF 图片", "image/avif", ".avif")
_MP4 = FileType("mp4", "MP4 视频", "video/mp4", ".mp4")
_EXE = FileType("exe", "Windows 程序", "application/x-msdownload", ".exe")
_ELF = FileType("elf", "Linux 程序", "application/x-executable", "")
_HTML = FileType("html", "网页（HTML）", "text/html", ".html")
_ZIP = FileType("zip", "ZIP 压缩包", "application/zip", ".zip")
_RAR = FileType("rar", "RAR 压缩包", "application/vnd.rar", ".rar")
_7Z = FileType("7z", "7z 压缩包", "application/x-7z-compressed", ".7z")
_OLE = FileType("ole", "旧版 Office 文档（.doc/.xls）", "application/x-ole-storage", "")
_MACRO_OFFICE = FileType("office_macro", "含宏的 Office 文档", "application/vnd.ms-office", "")
_OTHER_OFFICE = FileType("office_other", "其他 Office 文档", "application/vnd.openxmlformats", "")

# What a stored file can be (detected at upload): its MIME type → the type, for names and dispositions on download.
STORED_TYPES: dict[str, FileType] = {t.mime: t for t in (JPEG, PNG, HEIC, PDF, WAV, MP3, M4A, AMR, DOCX, XLSX)}
# Shown in the browser rather than saved: pictures, recordings (the player), PDFs. Everything else downloads.
INLINE_TYPES = frozenset({JPEG.mime, PNG.mime, PDF.mime, WAV.mime, MP3.mime, M4A.mime})

_UNSAFE_NAME_CHARS = set('\\/:*?"<>|')


def safe_filename_part(text: str, *, limit: int = 80) -> str:
    """`text` (a case number, a debtor's or an uploader's name) as part of a file name: no path separators,
    reserved or control characters, no leading or trailing dots, so "../../x" cannot climb out anywhere."""
    cleaned = "".join("_" if ch in _UNSAFE_NAME_CHARS or ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)
    while ".." in cleaned:
        cleaned = cleaned.replace("..", "_")
    return cleaned.strip(" ._")[:limit] or "_"


def download_name(original_name: str, content_type: str) -> str:
    """The name a stored file is delivered under: the uploader's name (less any path and the extension it
    claimed) with the extension of what the content really is. A PDF uploaded as "付款.html" downloads as
    "付款.pdf"; a browser never gets a name that would make it render or run the file as something else."""
    base = original_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    found = STORED_TYPES.get(content_type)
    return safe_filename_part(stem, limit=120) + (found.ext if found is not None else ".bin")


_HEIC_BRANDS = {b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"hevx", b"heim", b"heis"}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"isom", b"mp42", b"mp41", b"iso2", b"dash"}


@dataclass(frozen=True)
class Allowed:
    types: tuple[FileType, ...]
    description: str  # "JPEG/PNG/HEIC 图片"
    limit_setting: str
    limit_label: str


ALLOWED: dict[str, Allowed] = {
    FileKind.PHOTO: Allowed((JPEG, PNG, HEIC), "JPEG/PNG/HEIC 图片", "UPLOAD_MAX_BYTES_PHOTO", "照片"),
    FileKind.VISIT_FORM_PDF: Allowed((PDF,), "PDF 文档", "UPLOAD_MAX_BYTES_PDF", "PDF 文档"),
    FileKind.RECORDING: Allowed((WAV, MP3, M4A, AMR), "WAV/MP3/M4A/AMR 录音", "UPLOAD_MAX_BYTES_RECORDING", "录音"),
    FileKind.ATTACHMENT: Allowed((PDF, JPEG, PNG, HEIC), "PDF 文档或 JPEG/PNG/HEIC 图片", "UPLOAD_MAX_BYTES_PDF",
                                 "附件"),
    FileKind.DOCUMENT: Allowed((DOCX, XLSX, PDF), "Word（.docx）、Excel（.xlsx）或 PDF 文档",
                               "UPLOAD_MAX_BYTES_DOCUMENT", "文档"),
}
TEMPLATE_KIND_OF: dict[str, str] = {DOCX.code: TemplateKind.DOCX, XLSX.code: TemplateKind.XLSX,
                                    PDF.code: TemplateKind.PDF}


class Upload(Protocol):
    """What Django's UploadedFile offers and this module uses."""

    name: str | None

    @property
    def size(self) -> int | None: ...  # read-only: a ContentFile computes it
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def read(self, size: int = ..., /) -> bytes: ...
    def chunks(self, chunk_size: int | None = ...) -> Iterator[bytes]: ...


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a defined version and layer, a valid bitrate and rate."""
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    version = (head[1] >> 3) & 0x03
    layer = (head[1] >> 1) & 0x03
    bitrate = (head[2] >> 4) & 0x0F
    rate = (head[2] >> 2) & 0x03
    return version != 0b01 and layer != 0b00 and bitrate not in (0x0, 0xF) and rate != 0b11


def _office_type(fileobj: IO[bytes]) -> FileType:
    """A zip is a .docx or .xlsx when its [Content_Types].xml declares the main part of one."""
    try:
        with zipfile.ZipFile(fileobj) as zf:
            info = zf.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                return _ZIP
            types = zf.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, RuntimeError, NotImplementedError):
        return _ZIP
    if b"wordprocessingml.document.main+xml" in types:
        return DOCX
    if b"spreadsheetml.sheet.main+xml" in types:
        return XLSX
    if b"macroEnabled" in types:
        return _MACRO_OFFICE
    return _OTHER_OFFICE


def detect(fileobj: IO[bytes]) -> FileType | None:
    """What `fileobj` really is, from its first bytes (and, for a zip, its content types). None if unknown."""
    fileobj.seek(0)
    head = fileobj.read(HEAD_BYTES)
    fileobj.seek(0)
    found = _detect_head(head)
    if found is _ZIP:
        found = _office_type(fileobj)
        fileobj.seek(0)
    return found


def _detect_head(head: bytes) -> FileType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return AMR
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = head[16:64]
        if brand in _HEIC_BRANDS and not (brand in (b"mif1", b"msf1") and b"avif" in compatible
                                          and b"heic" not in compatible):
            return HEIC
        if brand in (b"avif", b"avis") or b"avif" in compatible:
            return _AVIF
        if brand in _M4A_BRANDS:
            return M4A
        return _MP4
    if head.startswith(b"ID3") or _mp3_frame(head):
        return MP3
    if head.startswith(b"PK\x03\x04"):
        return _ZIP
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _GIF
    if head.startswith(b"MZ"):
        return _EXE
    if head.startswith(b"\x7fELF"):
        return _ELF
    if head.startswith(b"Rar!\x1a\x07"):
        return _RAR
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return _7Z
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _OLE
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<script", b"<head", b"<body", b"<svg", b"<?xml")):
        return _HTML
    return None


def limit_for(kind: str) -> int:
    return int(getattr(settings, ALLOWED[kind].limit_setting))


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} 字节"


def check_upload(upload: Upload, *, kind: str) -> FileType:
    """The detected type of `upload` if it is allowed for `kind` and within the size limit.

    Raises: UploadRejectedError with a message naming the file and what is wrong with it.
    """
    allowed = ALLOWED[kind]
    name = upload.name or "未命名文件"
    size = upload.size or 0
    if size == 0:
        raise UploadRejectedError(f"文件《{name}》是空文件")
    limit = limit_for(kind)
    if size > limit:
        raise UploadRejectedError(
            f"文件《{name}》有 {human_size(size)}，超过{allowed.limit_label}的上限 {human_size(limit)}")
    found = detect(upload)  # type: ignore[arg-type]
    if found is None:
        raise UploadRejectedError(f"文件《{name}》的内容不是 {allowed.description}，无法识别其格式")
    if found not in allowed.types:
        raise UploadRejectedError(f"文件《{name}》的内容不是 {allowed.description}，而是 {found.label}")
    return found


class _HashingFile(File):  # type: ignore[type-arg]
    """Hands the storage the upload's chunks, hashing and counting them on the way through."""

    def __init__(self, upload: Upload, name: str) -> None:
        super().__init__(upload, name=name)  # type: ignore[arg-type]
        self._upload = upload
        self.sha256 = hashlib.sha256()
        self.written = 0

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]:
        self._upload.seek(0)
        for chunk in self._upload.chunks(chunk_size or CHUNK):
            self.sha256.update(chunk)
            self.written += len(chunk)
            yield chunk


@dataclass(frozen=True)
class StoredBytes:
    name: str  # the storage name (path inside MEDIA_ROOT)
    size: int
    sha256: str


def storage() -> Storage:
    return default_storage


def store(upload: Upload, *, name: str) -> StoredBytes:
    """Stream `upload` into the private storage under `name` (the storage may alter it), hashing as it goes."""
    wrapped = _HashingFile(upload, name)
    stored_name = storage().save(name, wrapped)
    return StoredBytes(name=stored_name, size=wrapped.written, sha256=wrapped.sha256.hexdigest())


def delete_stored(name: str | None) -> None:
    if name:
        storage().delete(name)


class StoredNames:
    """Context manager: the storage names saved inside it are deleted again if the block raises.

    An action stores its files first and writes rows after; if anything fails after a file was stored
    (a later file refused, a constraint), the exception unwinds through here and the bytes go too.
    """

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, name: str) -> None:
        self.names.append(name)

    def delete_all(self) -> None:
        """Delete what was stored so far (a caller that returns early instead of raising)."""
        for name in self.names:
            delete_stored(name)
        self.names.clear()

    def __enter__(self) -> StoredNames:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            for name in self.names:
                delete_stored(name)


def open_stored(name: str) -> IO[bytes]:
    return storage().open(name, "rb")  # type: ignore[no-any-return]


def iter_stored(name: str, *, start: int = 0, length: int | None = None, chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes of a stored file (or a range of it) in chunks: never the whole file in memory."""
    with open_stored(name) as fh:
        if start:
            fh.seek(start)
        remaining = length
        while remaining is None or remaining > 0:
            data = fh.read(chunk if remaining is None else min(chunk, remaining))
            if not data:
                break
            if remaining is not None:
                remaining -= len(data)
            yield data
