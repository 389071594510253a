"""Benchmark: backup and restore of the demo data plus N MB (default 1024) of call recordings.

    .venv/bin/python bench/backup.py [--mb 1024] [--database-url postgres://postgres@127.0.0.1:5432/cm_bench_backup]
                                     [--encrypt]

Builds everything in a temporary directory (its own SQLite database, or the PostgreSQL database named in
--database-url, created and dropped here), seeds the demo data, writes WAV files (a real RIFF header and
noise: recordings do not compress), then times `manage.py backup` and `manage.py restore` into an empty
database and an empty media directory, and checks the restored counts. Prints the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")


def wav_bytes(size: int) -> bytes:
    """A mono 8 kHz 16-bit WAV of about `size` bytes (header + noise)."""
    data_len = max(0, size - 44)
    header = b"RIFF" + struct.pack("<I", 36 + data_len) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", data_len)
    return header + os.urandom(data_len)


def make_recordings(media: Path, total_mb: int) -> int:
    count, written, target = 0, 0, total_mb * 1024 * 1024
    sizes = [2, 3, 5, 8, 4, 6]  # MB: 2–8 minute calls at 8 kHz 16-bit
    while written < target:
        size = min(sizes[count % len(sizes)] * 1024 * 1024, target - written)
        path = media / "recordings" / f"2026/11/{count // 100:02d}" / f"call-{count:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav_bytes(size))
        written += size
        count += 1
    return count


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return took, proc.stdout.strip()


def psql(url: str, sql: str) -> None:
    u = urlparse(url)
    admin = f"{u.scheme}://{u.netloc}/postgres"
    subprocess.run(["psql", admin, "-q", "-c", sql], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--encrypt", action="store_true")
    opts = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cm-bench-backup-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"DEBUG": "1", "VAR_DIR": str(work / "var"), "MEDIA_ROOT": str(work / "media"),
                "BACKUP_DIR": str(work / "backups"), "DEMO_SEED": "0", "LOG_LEVEL": "WARNING"})
    if opts.encrypt:
        from cryptography.fernet import Fernet

        env["BACKUP_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    db_name = ""
    if opts.database_url:
        db_name = urlparse(opts.database_url).path.lstrip("/")
        psql(opts.database_url, f'DROP DATABASE IF EXISTS "{db_name}"')
        psql(opts.database_url, f'CREATE DATABASE "{db_name}"')
        env["DATABASE_URL"] = opts.database_url
    try:
        run(["migrate", "-v0"], env)
        run(["seed_demo"], env)
        t0 = time.perf_counter()
        files = make_recordings(work / "media", opts.mb)
        print(f"generated {files} WAV files, {opts.mb} MB, in {time.perf_counter() - t0:.1f} s")

        backup_s, out = run(["backup", *(["--encrypt"] if opts.encrypt else [])], env)
        print(out)
        backup_dir = next((work / "backups").iterdir())
        size_mb = sum(p.stat().st_size for p in backup_dir.iterdir()) / 1024 / 1024

        # Wipe: a new empty database (no tables at all) and an empty media directory.
        shutil.rmtree(work / "media")
        if db_name:
            psql(opts.database_url, f'DROP DATABASE "{db_name}"')
            psql(opts.database_url, f'CREATE DATABASE "{db_name}"')
        else:
            for f in (work / "var").glob("db.sqlite3*"):
                f.unlink()
        restore_s, out = run(["restore", str(backup_dir)], env)
        print(out)
        engine = "PostgreSQL" if db_name else "SQLite"
        extra = ", encrypted" if opts.encrypt else ""
        print(f"\n{engine}, demo data + {opts.mb} MB of recordings ({files} files){extra}:")
        print(f"  backup : {backup_s:6.1f} s  ({size_mb:,.0f} MB written, {size_mb / backup_s:,.0f} MB/s)")
        print(f"  restore: {restore_s:6.1f} s  (verified: row counts and SHA-256 of every file)")
    finally:
        if db_name:
            psql(opts.database_url, f'DROP DATABASE IF EXISTS "{db_name}"')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
