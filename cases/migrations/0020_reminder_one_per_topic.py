
from django.conf import settings
from django.db import migrations, models


_TOPIC = {"expiry_30": "expiry", "expiry_15": "expiry", "expiry_7": "expiry", "expiry_3": "expiry",
          "first_call_overdue": "first_call", "first_visit_overdue": "first_visit"}


def one_per_topic(apps, schema_editor):
    """Give each reminder its topic and keep only the newest per (user, case, topic): the older ones (the 30-day
    reminder once the 15-day one came) were what flooded a collector's unread list."""
    Reminder = apps.get_model("cases", "Reminder")
    for kind, topic in _TOPIC.items():
        Reminder.objects.filter(kind=kind).update(topic=topic)
    newest = {}
    for pk, key in ((r[0], r[1:]) for r in Reminder.objects.order_by("due_at", "id").values_list(
            "id", "user_id", "case_id", "topic")):
        newest[key] = pk
    keep = set(newest.values())
    stale = [pk for pk in Reminder.objects.values_list("id", flat=True) if pk not in keep]
    for i in range(0, len(stale), 1000):
        Reminder.objects.filter(pk__in=stale[i:i + 1000]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0019_blocked_numbers_reversible'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='reminder',
            name='reminder_once_per_cycle',
        ),
        migrations.AddField(
            model_name='reminder',
            name='topic',
            field=models.CharField(choices=[('expiry', '到期'), ('first_call', '首次电话'), ('first_visit', '首次外访'), ('promise', '承诺还款'), ('callback', '约定回电')], default='expiry', max_length=16, verbose_name='主题'),
        ),
        migrations.AlterField(
            model_name='reminder',
            name='kind',
            field=models.CharField(choices=[('expiry_30', '30天内到期'), ('expiry_15', '15天内到期'), ('expiry_7', '7天内到期'), ('expiry_3', '3天内到期'), ('first_call_overdue', '首次电话超期'), ('first_visit_overdue', '首次外访超期'), ('promise_due', '今日承诺还款'), ('promise_broken', '承诺违约'), ('callback_due', '约定回电')], max_length=32, verbose_name='类型'),
        ),
        migrations.RunPython(one_per_topic, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='reminder',
            index=models.Index(fields=['case', 'resolved_at'], name='reminder_case_open_idx'),
        ),
        migrations.AddConstraint(
            model_name='reminder',
            constraint=models.UniqueConstraint(fields=('user', 'case', 'topic'), name='reminder_one_per_topic'),
        ),
    ]
