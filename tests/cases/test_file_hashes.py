"""Each stored file's SHA-256 is shown on the case page, and every zip (the case's 下载全部资料 and the
all-business-data export) carries SHA256SUMS.txt, so a recording can be proven unchanged since it was stored."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile

import pytest
from django.urls import reverse

from cases.models import StoredFile
from cases.uploads import storage
from tests.cases.samples import media_root  # noqa: F401  (fixture)
from tests.cases.test_downloads import case  # noqa: F401  (fixture: a case with a recording, photos, a form, a PDF)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _manifest(zf: zipfile.ZipFile) -> dict[str, str]:
    lines = zf.read("SHA256SUMS.txt").decode("utf-8").splitlines()
    return {line[66:]: line[:64] for line in lines}


def test_case_page_shows_every_files_sha256(case, collector_client):  # noqa: F811
    # given: the case's recording, two photos, the signed visit form and an attachment
    hashes = list(StoredFile.objects.filter(case=case).values_list("sha256", flat=True))
    # when: the case page's work panel (loaded with the page)
    html = collector_client.get(reverse("cases:case-work", args=[case.pk])).content.decode()
    # then
    assert len(hashes) == 5
    assert all(h in html for h in hashes) and "SHA-256" in html


def test_case_bundle_manifest_lists_the_recorded_hash_of_every_file_and_checks_with_sha256sum(
        case, collector_client, tmp_path):  # noqa: F811
    # when
    zf = _zip(collector_client.get(reverse("cases:case-bundle", args=[case.pk])))
    manifest = _manifest(zf)
    # then: every member but the manifest is listed; stored files with the hash recorded at upload
    assert set(manifest) == set(zf.namelist()) - {"SHA256SUMS.txt"}
    recorded = set(StoredFile.objects.filter(case=case).values_list("sha256", flat=True))
    assert recorded <= set(manifest.values())
    for name, digest in manifest.items():
        assert hashlib.sha256(zf.read(name)).hexdigest() == digest, name
    # and the standard tool agrees
    zf.extractall(tmp_path / "x")
    done = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS.txt"], cwd=tmp_path / "x",
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_case_bundle_of_a_changed_recording_keeps_the_recorded_hash_and_names_it(case, collector_client):  # noqa: F811
    # given: the recording's bytes were changed in storage after it was stored
    recording = StoredFile.objects.get(case=case, kind="recording")
    with storage().open(recording.file.name, "wb") as fh:
        fh.write(b"RIFF tampered")
    # when
    zf = _zip(collector_client.get(reverse("cases:case-bundle", args=[case.pk])))
    # then: the manifest says what was stored, so the check fails for that file, and the zip says which one
    [name] = [n for n in zf.namelist() if n.startswith("录音/")]
    assert _manifest(zf)[name] == recording.sha256 != hashlib.sha256(zf.read(name)).hexdigest()
    assert name in zf.read("校验不符.txt").decode("utf-8-sig")


def test_business_export_has_a_manifest_of_every_member(case, manager_client):  # noqa: F811
    # when
    zf = _zip(manager_client.get(reverse("cases:business-export")))
    manifest = _manifest(zf)
    # then
    assert set(manifest) == set(zf.namelist()) - {"SHA256SUMS.txt"}
    for name, digest in manifest.items():
        assert hashlib.sha256(zf.read(name)).hexdigest() == digest, name
    assert set(StoredFile.objects.filter(case=case).values_list("sha256", flat=True)) <= set(manifest.values())
    assert "SHA256SUMS.txt" in zf.read("导出说明.txt").decode("utf-8-sig")
