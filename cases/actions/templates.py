"""Per-bank templates (P11): upload and removal by the bank's clerks.

Must not import views or `realtime.consumers`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import transaction

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import uploads
from cases.enums import FileKind
from cases.models import Bank, BankTemplate
from cases.uploads import TEMPLATE_KIND_OF, StoredNames, Upload

if TYPE_CHECKING:
    from django.http import HttpRequest


@transaction.atomic
def bank_template_upload(*, bank: Bank, title: str, upload: Upload, by: User) -> BankTemplate:
    """Check a .docx/.xlsx/.pdf by content and store it as a template of `bank`.

    Emits: nothing.
    Raises: UploadRejectedError (nothing is stored).
    """
    found = uploads.check_upload(upload, kind=FileKind.DOCUMENT)
    with StoredNames() as guard:
        stored = uploads.store(upload, name=f"templates/{bank.pk}/{uuid.uuid4().hex}{found.ext}")
        guard.add(stored.name)
        template = BankTemplate(bank=bank, title=title.strip(), kind=TEMPLATE_KIND_OF[found.code],
                                original_name=(upload.name or f"{title}{found.ext}")[:255], content_type=found.mime,
                                size=stored.size, sha256=stored.sha256, uploaded_by=by)
        template.file.name = stored.name
        template.save()
    return template


@transaction.atomic
def bank_template_delete(*, template: BankTemplate, by: User, request: HttpRequest | None = None) -> None:
    """Remove a template and its bytes (after commit), with an audit entry.

    Emits: nothing.
    Raises: nothing.
    """
    name = template.file.name
    audit_record(actor=by, action=AuditAction.DELETE, summary=f"删除 {template.bank.name} 的模板《{template.title}》",
                 object_type="BankTemplate", object_id=template.pk, request=request,
                 detail={"bank_id": template.bank_id, "original_name": template.original_name,
                         "sha256": template.sha256})
    template.delete()
    transaction.on_commit(lambda: uploads.delete_stored(name))
