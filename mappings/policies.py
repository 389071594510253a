"""Who may map and import banks' own files: clerks, for the banks an admin gave them (C7), like the standard
import. Missing and out-of-scope objects answer 404 alike."""

from __future__ import annotations

from django.http import Http404

from accounts.models import User
from cases.models import Bank
from cases.policies import can_import_any, can_import_batch
from mappings.models import BankFileUpload, ImportMapping, MappingVersion


def can_use_mappings(*, user: User) -> bool:
    return can_import_any(user=user)


def can_map_bank(*, user: User, bank: Bank) -> bool:
    return can_import_batch(user=user, bank=bank)


def access_upload(*, user: User, upload_id: int) -> BankFileUpload:
    upload = (BankFileUpload.objects.select_related("bank", "version__mapping", "batch")
              .filter(pk=upload_id, bank__clerk_scopes__clerk=user).first())
    if upload is None or not can_use_mappings(user=user):
        raise Http404("找不到这个上传的文件")
    return upload


def access_version(*, user: User, version_id: int) -> MappingVersion:
    version = (MappingVersion.objects.select_related("mapping__bank", "created_by")
               .filter(pk=version_id, mapping__bank__clerk_scopes__clerk=user).first())
    if version is None or not can_use_mappings(user=user):
        raise Http404("找不到这个映射")
    return version


def access_mapping(*, user: User, mapping_id: int) -> ImportMapping:
    mapping = (ImportMapping.objects.select_related("bank")
               .filter(pk=mapping_id, bank__clerk_scopes__clerk=user).first())
    if mapping is None or not can_use_mappings(user=user):
        raise Http404("找不到这个映射")
    return mapping
