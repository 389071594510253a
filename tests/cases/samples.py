"""Real files of every kind the uploads accept, built in code, and forged ones; plus upload helpers."""

from __future__ import annotations

import io
import struct
import wave

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


@pytest.fixture
def media_root(settings, tmp_path):
    """Each test stores its files in its own directory (and can check what is left there)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def media():
    from pathlib import Path

    from django.conf import settings

    return Path(settings.MEDIA_ROOT)


def stored_files(root=None) -> list:
    root = root or media()
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def jpeg(size=(8, 6), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="JPEG")
    return buf.getvalue()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (5, 5), (0, 128, 255)).save(buf, format="PNG")
    return buf.getvalue()


def heic() -> bytes:
    # An ISO-BMFF 'ftyp' box with brand heic (what iPhones write), followed by a 'meta' box header.
    ftyp = struct.pack(">I", 24) + b"ftyp" + b"heic" + struct.pack(">I", 0) + b"mif1heic"
    return ftyp + struct.pack(">I", 16) + b"meta" + b"\x00" * 8


def pdf(text: str = "signed") -> bytes:
    """A minimal valid one-page PDF written by hand (with a correct xref table)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects[3] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def wav(seconds: float = 0.2, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x01" * int(rate * seconds))
    return buf.getvalue()


def mp3_id3() -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + mp3_frame()


def mp3_frame() -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: FF FB 90 00, then the frame body.
    return b"\xff\xfb\x90\x00" + b"\x00" * 413


def m4a() -> bytes:
    return struct.pack(">I", 28) + b"ftypM4A " + struct.pack(">I", 0) + b"M4A mp42isom" + b"\x00" * 32


def amr() -> bytes:
    return b"#!AMR\n" + b"\x3c" + b"\x00" * 31


def docx(text: str = "还款承诺书") -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "模板"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"cannot be run in DOS mode"


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def upload(name: str, data: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)
