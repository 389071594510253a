"""Benchmark: memory of "下载全部资料" (the streamed case zip) for a case with 200 MB of recordings.

    .venv/bin/python bench/case_zip.py [--mb 200] [--files 20] [--keep]

Builds its own SQLite database and media directory in a temporary folder (removed at the end unless
--keep), stores `--files` WAV recordings totalling `--mb` MB on one case through the real actions
(call_record_create with a recording upload: content check, SHA-256 while streaming), then calls the
real view (cases.views.files.case_bundle_view) and consumes its StreamingHttpResponse chunk by chunk,
writing the zip to disk. It prints the process RSS before and the highest RSS seen while streaming
(sampled every chunk from /proc/self/statm), the tracemalloc peak of Python allocations during the
download, the largest chunk, the throughput, and checks the written zip's CRCs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cm_bench_zip_"))
    # This script is a process entry point like manage.py: it chooses its database and media before Django starts.
    os.environ.update({"VAR_DIR": str(work / "var"), "MEDIA_ROOT": str(work / "media"), "DEBUG": "1",
                       "DEMO_SEED": "0", "LOG_LEVEL": "WARNING"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command
    from django.test import RequestFactory

    from cases.actions.calls import call_record_create
    from cases.enums import CallResult, CaseStatus
    from cases.views.files import case_bundle_view
    from tests import factories as f

    try:
        call_command("migrate", verbosity=0)
        bank = f.BankFactory(code="BENCH", name="测试银行")
        collector = f.CollectorFactory(username="bench_collector", full_name="压测业务员")
        manager = f.ManagerFactory(username="bench_manager")
        case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, status=CaseStatus.IN_PROGRESS)

        per_file = args.mb * MB // args.files
        src = work / "src"
        src.mkdir()
        t0 = time.perf_counter()
        for i in range(args.files):
            path = src / f"rec{i:03d}.wav"
            write_wav(path, per_file)
            with path.open("rb") as fh:
                call_record_create(case=case, collector=collector, by=collector, number=f"1391234{i:04d}",
                                   result=CallResult.NO_ANSWER, recording_upload=File(fh, name=path.name))
            path.unlink()
        stored_mb = sum(p.stat().st_size for p in (work / "media").rglob("*") if p.is_file()) / MB
        print(f"stored {args.files} recordings, {stored_mb:.1f} MB, through call_record_create in "
              f"{time.perf_counter() - t0:.1f} s")

        request = RequestFactory().get(f"/cases/{case.pk}/download/")
        request.user = manager
        out_path = work / "bundle.zip"
        rss_before = rss()
        tracemalloc.start()
        t0 = time.perf_counter()
        response = case_bundle_view(request, case_id=case.pk)
        peak_rss, total, biggest, chunks = rss_before, 0, 0, 0
        with out_path.open("wb") as out:
            for chunk in response.streaming_content:
                out.write(chunk)
                total += len(chunk)
                biggest = max(biggest, len(chunk))
                chunks += 1
                peak_rss = max(peak_rss, rss())
        elapsed = time.perf_counter() - t0
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        import zipfile

        with zipfile.ZipFile(out_path) as zf:
            bad = zf.testzip()
            entries = len(zf.infolist())
        print(f"zip: {total / MB:.1f} MB in {chunks} chunks, {entries} entries, CRC check: "
              f"{'ok' if bad is None else 'BAD ' + bad}")
        print(f"time: {elapsed:.2f} s ({total / MB / elapsed:.0f} MB/s)")
        print(f"largest chunk: {biggest / 1024:.0f} kB")
        print(f"RSS before download: {rss_before / MB:.1f} MB; highest RSS while streaming: {peak_rss / MB:.1f} MB "
              f"(+{(peak_rss - rss_before) / MB:.1f} MB)")
        print(f"tracemalloc peak of Python allocations during the download: {traced_peak / MB:.2f} MB")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
