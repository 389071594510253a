"""A 流水号 may be recorded again on a case once the entry that carried it was reversed (the bank's file said
another amount): the partial unique constraint could not see reversals, so the rule moves to the repayment
action (checked under the case's row lock) and an index keeps the look-up by case and 流水号 fast."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0015_imported_entry_from_batch'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='repayment',
            name='repayment_ref_unique_per_case',
        ),
        migrations.AddIndex(
            model_name='repayment',
            index=models.Index(condition=models.Q(('bank_ref', ''), _negated=True), fields=['case', 'bank_ref'], name='repayment_case_ref_idx'),
        ),
    ]
