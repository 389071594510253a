"""`bank_create` and `import_batch`: exit codes and output, run as a subprocess would see them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cases.models import Bank, Batch, Case
from tests.cases.test_import_excel import make_workbook, valid_row

pytestmark = pytest.mark.django_db


def test_bank_create_adds_a_bank(capsys):
    # when
    call_command("bank_create", "gsyh", "工商银行")
    # then
    assert Bank.objects.get(code="GSYH").name == "工商银行"
    assert "已创建银行 工商银行（GSYH）" in capsys.readouterr().out


@pytest.mark.parametrize(("code", "name", "fragment"), [
    ("ZSYH", "另一个名字", "已经存在"),
    ("NEW1", "招商银行", "已经存在"),
    ("坏码", "某银行", "无效"),
    ("X", "某银行", "无效"),
])
def test_bank_create_refuses_bad_or_duplicate_input(bank, code, name, fragment):
    # when
    with pytest.raises(CommandError) as caught:
        call_command("bank_create", code, name)
    # then
    assert fragment in str(caught.value)
    assert Bank.objects.count() == 1


def test_import_batch_prints_the_summary_with_the_exact_total(bank, clerk, tmp_path, capsys):
    # given
    path = tmp_path / "批次.xlsx"
    path.write_bytes(make_workbook([valid_row(1, 委案金额="0.01"), valid_row(2, 委案金额="1,234,567.89")]))
    # when
    call_command("import_batch", str(path), "--bank", "zsyh", "--user", "clerk")
    # then
    out = capsys.readouterr().out
    assert out.strip() == "已导入 招商银行 批次 ZS2026110001：2 件，其中续案 0 件，委案总金额 1,234,567.90 元"
    batch = Batch.objects.get()
    assert batch.imported_by == clerk and batch.source_filename == "批次.xlsx"


def test_import_batch_without_user_records_no_importer(bank, tmp_path):
    # given
    path = tmp_path / "b.xlsx"
    path.write_bytes(make_workbook([valid_row(1)]))
    # when
    call_command("import_batch", str(path), "--bank", "ZSYH")
    # then
    assert Batch.objects.get().imported_by is None


def test_import_batch_lists_every_error_and_fails(bank, tmp_path, capsys):
    # given
    path = tmp_path / "bad.xlsx"
    path.write_bytes(make_workbook([valid_row(1), valid_row(2, 证件号码="1"), valid_row(3, 委案日期="x")]))
    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_batch", str(path), "--bank", "ZSYH")
    # then
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("第 3 行“证件号码”：") and err[1].startswith("第 4 行“委案日期”：")
    assert str(caught.value) == "文件有 2 处问题，未导入任何数据"
    assert Case.objects.count() == 0


@pytest.mark.parametrize(("args", "fragment"), [
    (["--bank", "NONE"], "没有简码为 NONE 的银行"),
    (["--bank", "ZSYH", "--user", "nobody"], "没有名为 nobody 的有效用户"),
])
def test_import_batch_refuses_unknown_bank_or_user(bank, tmp_path, args, fragment):
    # given
    path = tmp_path / "b.xlsx"
    path.write_bytes(make_workbook([valid_row(1)]))
    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_batch", str(path), *args)
    # then
    assert fragment in str(caught.value)


def test_import_batch_refuses_a_missing_file(bank, tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_batch", str(tmp_path / "none.xlsx"), "--bank", "ZSYH")


def test_import_batch_refuses_the_same_batch_twice(bank, tmp_path):
    # given
    path = tmp_path / "b.xlsx"
    path.write_bytes(make_workbook([valid_row(1)]))
    call_command("import_batch", str(path), "--bank", "ZSYH")
    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_batch", str(path), "--bank", "ZSYH")
    # then
    assert str(caught.value) == "招商银行 的批次 ZS2026110001 已经导入过，不能重复导入"


@pytest.mark.django_db(transaction=True)
def test_import_batch_exit_status_and_no_traceback(bank, tmp_path):
    """The real process: exit 1 and the messages on stderr, no Python traceback."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("the subprocess cannot see the test database on SQLite's in-memory test database")
    # given
    path = tmp_path / "forged.xlsx"
    path.write_bytes(b"plain text, not a workbook")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings_test", "DEBUG": "1",
           "DATABASE_URL": _test_database_url()}
    # when
    done = subprocess.run([sys.executable, "manage.py", "import_batch", str(path), "--bank", "ZSYH"],
                          capture_output=True, text=True, env=env, cwd=settings.BASE_DIR, timeout=60, check=False)
    # then
    assert done.returncode == 1
    assert "不是 Excel 工作簿" in done.stderr or "文本文件" in done.stderr
    assert "Traceback" not in done.stderr


def _test_database_url() -> str:
    from django.db import connection

    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
