"""Benchmark: the all-business-data zip (M5) served through Django's ASGI handler, time and peak memory.

    DATABASE_URL=postgres://… .venv/bin/python bench/business_export.py [--cases 2000] [--file-kb 300]

Builds (once per database; reused when its bank already exists) `--cases` cases of a bench bank, each with two
calls (one with a recording of `--file-kb` kB), a visit with a photo of a tenth of that, a repayment, a complaint
on every tenth case and a few timeline events, with the files in a media directory under the system temp dir.
Then, each in a fresh process, it requests /cases/export/business-data.zip as a manager through
django.core.handlers.asgi.ASGIHandler — the handler daphne runs — and counts the body as it is sent:
  - "streamed": the view as it ships (an async iterator pulling one chunk at a time);
  - "collected": the same generator handed to ASGI as a plain sync iterator, which Django's ASGI handler reads
    to the end into a list before sending (what the export did before).
For each it prints the time to the first and last byte, the zip size, and the process's peak RSS (VmHWM) before
and after. Nothing is mocked below the view.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BANK_CODE = "BENCHZIP"
MEDIA = Path(tempfile.gettempdir()) / "cm_bench_business_export_media"


def peak_mb() -> int:
    with open("/proc/self/status") as fh:
        return int(re.search(r"VmHWM:\s+(\d+)", fh.read()).group(1)) // 1024  # type: ignore[union-attr]


def setup_django() -> None:
    # A process entry point like manage.py: it chooses its media directory before Django starts.
    os.environ["MEDIA_ROOT"] = str(MEDIA)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def build(n_cases: int, file_kb: int) -> None:
    import datetime as dt
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from cases.enums import CallDirection, CallResult, CaseEventType, CaseStatus, ComplaintReason, FileKind, VisitResult
    from cases.models import (
        Bank,
        Batch,
        CallRecord,
        Case,
        CaseContact,
        CaseEvent,
        Complaint,
        Repayment,
        StoredFile,
        VisitRecord,
    )

    if Bank.objects.filter(code=BANK_CODE).exists():
        print(f"bench data present: {Case.objects.filter(bank__code=BANK_CODE).count()} cases of {BANK_CODE}")
        return
    t0 = time.perf_counter()
    manager = User.objects.filter(is_manager=True, is_active=True).first() or User.objects.create_user(
        username="bench_manager", password="x", full_name="压测经理", is_manager=True)
    collector = User.objects.filter(is_phone_collector=True, is_active=True).first() or User.objects.create_user(
        username="bench_collector", password="x", full_name="压测业务员", is_phone_collector=True)
    recording = b"RIFF" + os.urandom(file_kb * 1024 - 4)  # random bytes: nothing compresses, like real audio
    photo = b"\xff\xd8\xff" + os.urandom(max(file_kb // 10, 1) * 1024 - 3)
    today = timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        bank = Bank.objects.create(code=BANK_CODE, name="压测银行")
        batch = Batch.objects.create(bank=bank, batch_no="BENCH-ZIP-1", imported_by=manager, case_count=n_cases,
                                     entrust_date=today - dt.timedelta(days=30),
                                     return_date=today + dt.timedelta(days=60))
        cases = Case.objects.bulk_create([
            Case(bank=bank, batch=batch, case_no=f"BZ{i:07d}", debtor_name=f"压测{i}", id_number=f"2101{i:014d}",
                 mobile=f"138{i:08d}", entrusted_amount=Decimal("1000.00"), repaid_amount=Decimal("100.00"),
                 balance=Decimal("900.00"), commission_rate=Decimal("0.1"), entrust_date=today - dt.timedelta(days=30),
                 return_date=today + dt.timedelta(days=60), original_return_date=today + dt.timedelta(days=60),
                 status=CaseStatus.IN_PROGRESS, collector=collector, owner_clerk=manager, region="沈阳市和平区",
                 note="=HYPERLINK(\"x\")")
            for i in range(n_cases)], batch_size=2000)
        CaseContact.objects.bulk_create([CaseContact(case=c, relation="本人", name=c.debtor_name, phone=c.mobile)
                                         for c in cases], batch_size=2000)
        files: list[StoredFile] = []
        for c in cases:
            folder = MEDIA / "cases" / str(c.pk)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "rec.wav").write_bytes(recording)
            (folder / "photo.jpg").write_bytes(photo)
            files.append(StoredFile(case=c, kind=FileKind.RECORDING, original_name="rec.wav", content_type="audio/wav",
                                    size=len(recording), sha256="0" * 64, file=f"cases/{c.pk}/rec.wav"))
        StoredFile.objects.bulk_create(files, batch_size=2000)
        visits = VisitRecord.objects.bulk_create([
            VisitRecord(case=c, collector=collector, entered_by=collector, visited_on=today,
                        address="沈阳市和平区南京街", result=VisitResult.MET_DEBTOR, note="见到本人")
            for c in cases], batch_size=2000)
        StoredFile.objects.bulk_create([
            StoredFile(case=v.case, visit=v, kind=FileKind.PHOTO, original_name="photo.jpg", content_type="image/jpeg",
                       size=len(photo), sha256="0" * 64, file=f"cases/{v.case_id}/photo.jpg") for v in visits],
            batch_size=2000)
        CallRecord.objects.bulk_create([
            CallRecord(case=c, collector=collector, direction=CallDirection.OUTBOUND, number=c.mobile,
                       started_at=now - dt.timedelta(hours=k), result=CallResult.SELF_ANSWERED, note=f"第{k}通",
                       recording=f if k == 1 else None)
            for c, f in zip(cases, files, strict=True) for k in (1, 2)], batch_size=2000)
        Repayment.objects.bulk_create([
            Repayment(case=c, amount=Decimal("100.00"), commission=Decimal("10.00"), commission_rate=Decimal("0.1"),
                      repaid_on=today, bank_ref=f"R{c.pk}", recorded_by=manager) for c in cases], batch_size=2000)
        Complaint.objects.bulk_create([
            Complaint(case=c, content="频繁来电", reason=ComplaintReason.FREQUENT_CALLS, collector=collector,
                      recorded_by=manager) for c in cases[::10]], batch_size=2000)
        CaseEvent.objects.bulk_create([
            CaseEvent(case=c, type=t, actor=manager, summary=s) for c in cases
            for t, s in ((CaseEventType.NOTE, "备注"), (CaseEventType.ASSIGNED, "分配"),
                         (CaseEventType.CALL, "电话"))],
            batch_size=2000)
    print(f"built {n_cases} cases with {2 * n_cases} files in {time.perf_counter() - t0:.1f} s")


async def fetch(path: str, cookie: str) -> tuple[int, float, float]:
    from django.core.handlers.asgi import ASGIHandler

    handler = ASGIHandler()
    sent = {"bytes": 0, "first": 0.0, "status": 0}
    t0 = time.perf_counter()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}

    async def receive() -> dict[str, object]:
        await asyncio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]  # type: ignore[assignment]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            if body and not sent["first"]:
                sent["first"] = time.perf_counter() - t0
            sent["bytes"] += len(body)  # type: ignore[arg-type,operator]
            if sent["status"] != 200 and not sent.get("shown"):
                sent["shown"] = 1
                print(bytes(body)[:3000].decode(errors="replace"))  # type: ignore[arg-type]

    first_receive = {"type": "http.request", "body": b"", "more_body": False}
    queue = [first_receive]

    async def receive_once() -> dict[str, object]:
        return queue.pop() if queue else await receive()

    await handler(scope, receive_once, send)
    assert sent["status"] == 200, sent
    return int(sent["bytes"]), float(sent["first"]), time.perf_counter() - t0


def measure(mode: str) -> None:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from accounts.models import User

    if mode == "collected":
        import cases.views.streaming as streaming

        streaming._pull = lambda chunks: chunks  # type: ignore[assignment,misc]  # the sync iterator, as before
    manager = User.objects.filter(is_manager=True, is_active=True).order_by("id").first()
    assert manager is not None
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = str(manager.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]  # the model backend (axes comes first)
    store[HASH_SESSION_KEY] = manager.get_session_auth_hash()
    store.save()
    cookie = f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
    before = peak_mb()
    size, first, total = asyncio.run(fetch("/cases/export/business-data.zip", cookie))
    print(f"{mode:>9}: {size / 1e6:8.1f} MB zip, first byte {first:6.2f} s, done {total:6.1f} s "
          f"({size / 1e6 / total:5.1f} MB/s); peak RSS {before} MB before → {peak_mb()} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--file-kb", type=int, default=300)
    parser.add_argument("--mode", choices=["streamed", "collected"])
    args = parser.parse_args()
    setup_django()
    if args.mode:
        measure(args.mode)
        return
    build(args.cases, args.file_kb)
    for mode in ("streamed", "collected"):
        subprocess.run([sys.executable, __file__, "--mode", mode], check=True)


if __name__ == "__main__":
    main()
