"""Benchmark: memory of "下载全部资料" (the streamed case zip) under daphne's handler, for a case with 200 MB of
recordings.

    .venv/bin/python bench/case_zip.py [--mb 200] [--files 20] [--keep]

Builds its own SQLite database and media directory in a temporary folder (removed at the end unless --keep),
stores `--files` WAV recordings totalling `--mb` MB on one case through the real actions (call_record_create with
a recording upload: content check, SHA-256 while streaming). Then, each in a fresh process (so the peak RSS is the
download's own), it requests the case's /download/ as a manager through django.core.handlers.asgi.ASGIHandler —
the handler daphne runs — and counts the body as it is sent:
  - "streamed": the view as it ships (cases.views.streaming hands ASGI an async iterator, one chunk at a time);
  - "collected": the same zip generator handed to ASGI as a plain sync iterator, which Django's ASGI handler reads
    to the end into a list before sending (what the download did before).
For each it prints the time to the first and last byte, the zip size, the number of body messages, the process's
peak RSS (VmHWM) before and after, and checks the zip's CRCs and its SHA256SUMS.txt. Nothing is mocked below the
view.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MB = 1024 * 1024


def peak_mb() -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(r"VmHWM:\s+(\d+)", fh.read()).group(1)) // 1024  # type: ignore[union-attr]


def write_wav(path: Path, size: int) -> None:
    """A valid 8 kHz 16-bit mono WAV of about `size` bytes, written in 1 MB pieces."""
    frames = (size - 44) // 2
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        block = (b"\x10\x00\xf0\xff" * (MB // 4))
        left = frames * 2
        while left > 0:
            piece = block[: min(len(block), left)]
            w.writeframesraw(piece)
            left -= len(piece)


def setup_django(work: Path) -> None:
    # This script is a process entry point like manage.py: it chooses its database and media before Django starts.
    os.environ.update({"VAR_DIR": str(work / "var"), "MEDIA_ROOT": str(work / "media"), "DEMO_SEED": "0",
                       "LOG_LEVEL": "WARNING", "SECRET_KEY": "bench-case-zip-0123456789abcdef0123456789"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()


def build(work: Path, mb: int, files: int) -> None:
    from django.core.files import File
    from django.core.management import call_command

    from cases.actions.calls import call_record_create
    from cases.enums import CallResult, CaseStatus
    from tests import factories as f

    call_command("migrate", verbosity=0)
    bank = f.BankFactory(code="BENCH", name="测试银行")
    collector = f.CollectorFactory(username="bench_collector", full_name="压测业务员")
    f.ManagerFactory(username="bench_manager")
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, status=CaseStatus.IN_PROGRESS)
    per_file = mb * MB // files
    src = work / "src"
    src.mkdir()
    t0 = time.perf_counter()
    for i in range(files):
        path = src / f"rec{i:03d}.wav"
        write_wav(path, per_file)
        with path.open("rb") as fh:
            call_record_create(case=case, collector=collector, by=collector, number=f"1391234{i:04d}",
                               result=CallResult.NO_ANSWER, recording_upload=File(fh, name=path.name))
        path.unlink()
    stored_mb = sum(p.stat().st_size for p in (work / "media").rglob("*") if p.is_file()) / MB
    print(f"stored {files} recordings, {stored_mb:.1f} MB, through call_record_create in "
          f"{time.perf_counter() - t0:.1f} s (case {case.pk})")


async def fetch(path: str, cookie: str, out: Path) -> tuple[int, int, float, float]:
    from django.core.handlers.asgi import ASGIHandler

    sent = {"bytes": 0, "bodies": 0, "first": 0.0, "status": 0}
    t0 = time.perf_counter()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
    queue = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        if queue:
            return queue.pop()
        await asyncio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}

    with out.open("wb") as fh:
        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]  # type: ignore[assignment]
            elif message["type"] == "http.response.body" and message.get("body"):
                if not sent["first"]:
                    sent["first"] = time.perf_counter() - t0
                fh.write(message["body"])  # type: ignore[arg-type]
                sent["bytes"] += len(message["body"])  # type: ignore[arg-type,operator]
                sent["bodies"] += 1  # type: ignore[operator]

        await ASGIHandler()(scope, receive, send)
    assert sent["status"] == 200, sent
    return int(sent["bytes"]), int(sent["bodies"]), float(sent["first"]), time.perf_counter() - t0


def measure(work: Path, mode: str) -> None:
    setup_django(work)
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from accounts.models import User
    from cases.models import Case

    if mode == "collected":
        import cases.views.streaming as streaming

        streaming._pull = lambda chunks: chunks  # type: ignore[assignment,misc]  # the sync iterator, as before
    manager = User.objects.get(username="bench_manager")
    case = Case.objects.get()
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = str(manager.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the model backend (axes comes first)
    store[HASH_SESSION_KEY] = manager.get_session_auth_hash()
    store.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
    out = work / f"bundle-{mode}.zip"
    before = peak_mb()
    import warnings

    warnings.simplefilter("ignore")  # Django warns about the sync iterator in the "collected" mode
    size, bodies, first, total = asyncio.run(fetch(f"/cases/{case.pk}/download/", cookie, out))
    after = peak_mb()
    with zipfile.ZipFile(out) as zf:
        bad = zf.testzip()
        sums = [line.split("  ", 1) for line in zf.read("SHA256SUMS.txt").decode().splitlines()]
        manifest_ok = all(hashlib.sha256(zf.read(name)).hexdigest() == digest for digest, name in sums)
    print(f"{mode:>9}: {size / MB:7.1f} MB zip in {bodies} body messages, first byte {first:6.2f} s, done "
          f"{total:6.1f} s ({size / MB / total:5.0f} MB/s); peak RSS {before} MB before → {after} MB "
          f"(+{after - before} MB); CRC {'ok' if bad is None else 'BAD ' + bad}, "
          f"SHA256SUMS {'ok' if manifest_ok else 'BAD'} ({len(sums)} entries)")
    out.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--measure", choices=["streamed", "collected"])
    parser.add_argument("--work")
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.work), args.measure)
        return
    work = Path(tempfile.mkdtemp(prefix="cm_bench_zip_"))
    try:
        setup_django(work)
        build(work, args.mb, args.files)
        for mode in ("streamed", "collected"):
            subprocess.run([sys.executable, __file__, "--measure", mode, "--work", str(work)], check=True)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
