"""Customer files, backups and the embedded SQLite file are private to the product's own user (0600 files in
0700 folders); backups are encrypted by default once a key is configured and say loudly when they are not."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from cases.actions.files import file_upload
from cases.enums import FileKind
from ops import backup as b
from tests.cases import samples

ROOT = Path(__file__).resolve().parents[2]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def private_dirs(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_DIR = tmp_path / "backups"
    return settings


@pytest.mark.django_db
def test_stored_customer_files_are_private(private_dirs, make_case, collector):
    # given / when
    stored = file_upload(
        case=make_case(collector=collector),
        kind=FileKind.ATTACHMENT,
        upload=samples.upload("身份证.pdf", samples.pdf()),
        by=collector,
    )
    # then
    path = Path(private_dirs.MEDIA_ROOT) / stored.file.name
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("encrypted", [False, True])
def test_backups_are_private_and_encrypted_by_default_once_a_key_is_set(
    private_dirs, make_case, collector, encrypted, caplog
):
    # given: a stored file, and an encryption key configured or not
    file_upload(
        case=make_case(collector=collector),
        kind=FileKind.ATTACHMENT,
        upload=samples.upload("a.pdf", samples.pdf()),
        by=collector,
    )
    key = Fernet.generate_key().decode() if encrypted else ""
    private_dirs.BACKUP_ENCRYPTION_KEY = key
    private_dirs.BACKUP_ENCRYPT = bool(key)  # the settings default (project/settings.py)
    # when
    with caplog.at_level(logging.WARNING, logger="ops.backup"):
        run = b.backup_run(trigger="manual")
    # then
    path = Path(run.path)
    assert run.encrypted is encrypted
    assert _mode(Path(private_dirs.BACKUP_DIR)) == 0o700 and _mode(path) == 0o700
    assert {p.name: _mode(p) for p in path.iterdir()} == {p.name: 0o600 for p in path.iterdir()}
    warned = [r for r in caplog.records if "备份未加密" in r.getMessage()]
    assert bool(warned) is not encrypted


@pytest.mark.django_db(transaction=True)
def test_the_backup_command_warns_loudly_when_the_backup_is_not_encrypted(private_dirs, capsys):
    # given
    private_dirs.BACKUP_ENCRYPTION_KEY = ""
    private_dirs.BACKUP_ENCRYPT = False
    # when
    call_command("backup")
    # then
    assert "警告：本次备份未加密" in capsys.readouterr().err


def test_backups_encrypt_by_default_when_a_key_is_configured(tmp_path):
    # given / when: the settings of a machine with BACKUP_ENCRYPTION_KEY set and nothing else said
    code = "import project.settings as s; print(s.BACKUP_ENCRYPT)"
    env = {**os.environ, "BACKUP_ENCRYPTION_KEY": Fernet.generate_key().decode(), "VAR_DIR": str(tmp_path)}
    env.pop("BACKUP_ENCRYPT", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    # then
    assert out.stdout.strip() == "True"


def test_the_embedded_sqlite_database_is_private(tmp_path):
    # given: the embedded default (no DATABASE_URL, no REDIS_URL) on a new machine
    var = tmp_path / "var"
    env = {**os.environ, "VAR_DIR": str(var)}
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    # when: the product starts (its settings load)
    subprocess.run([sys.executable, "-c", "import project.settings"], cwd=ROOT, env=env, check=True)
    # then
    assert _mode(var) == 0o700
    assert _mode(var / "db.sqlite3") == 0o600
