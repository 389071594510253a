"""The 导入 timeline entry is made from the case's batch (cases.selectors.cases.case_imported_event) instead of
being stored once per case: the stored ones would now show twice, so they go."""

from django.db import migrations


def drop_stored_entries(apps, schema_editor):
    apps.get_model("cases", "CaseEvent").objects.filter(type="imported").delete()


def restore_stored_entries(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    batch_of = {}
    rows = []
    for case_id, batch_id in Case.objects.order_by("id").values_list("id", "batch_id").iterator(chunk_size=5000):
        batch = batch_of.get(batch_id)
        if batch is None:
            batch = batch_of[batch_id] = apps.get_model("cases", "Batch").objects.get(pk=batch_id)
        rows.append(CaseEvent(case_id=case_id, type="imported", actor_id=batch.imported_by_id,
                              summary=f"随批次 {batch.batch_no} 导入", data={"batch_id": batch.pk}))
        if len(rows) == 5000:
            CaseEvent.objects.bulk_create(rows)
            rows = []
    CaseEvent.objects.bulk_create(rows)
    for batch in batch_of.values():
        CaseEvent.objects.filter(type="imported", case__batch_id=batch.pk).update(created_at=batch.imported_at)


class Migration(migrations.Migration):
    dependencies = [("cases", "0014_rollup_mark_kinds")]

    operations = [migrations.RunPython(drop_stored_entries, restore_stored_entries)]
