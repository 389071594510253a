
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cases', '0020_reminder_one_per_topic'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BankWorkSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('tolerance_amount', models.DecimalField(decimal_places=2, default=Decimal('10.00'), help_text='回款比承诺少不超过此金额仍算兑现', max_digits=10, verbose_name='金额容差（元）')),
                ('grace_days', models.PositiveSmallIntegerField(default=2, help_text='承诺日期后多少天内的回款仍算兑现', verbose_name='宽限天数')),
                ('weight_callback', models.PositiveSmallIntegerField(default=100, verbose_name='约定回电')),
                ('weight_promise_broken', models.PositiveSmallIntegerField(default=90, verbose_name='承诺违约')),
                ('weight_promise_due', models.PositiveSmallIntegerField(default=80, verbose_name='承诺到期')),
                ('weight_first_call', models.PositiveSmallIntegerField(default=70, verbose_name='首次电话超期')),
                ('weight_expiry_3', models.PositiveSmallIntegerField(default=65, verbose_name='3天内到期')),
                ('weight_first_visit', models.PositiveSmallIntegerField(default=60, verbose_name='首次外访超期')),
                ('weight_expiry_7', models.PositiveSmallIntegerField(default=50, verbose_name='7天内到期')),
                ('weight_new', models.PositiveSmallIntegerField(default=40, verbose_name='新分配')),
                ('weight_retry', models.PositiveSmallIntegerField(default=30, verbose_name='未接通重拨')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('bank', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='work_settings', to='cases.bank', verbose_name='银行')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='修改人')),
            ],
            options={
                'verbose_name': '银行工作设置',
                'verbose_name_plural': '银行工作设置',
            },
        ),
        migrations.CreateModel(
            name='Callback',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('due_at', models.DateTimeField(verbose_name='约定时间')),
                ('phone', models.CharField(blank=True, max_length=32, verbose_name='回电号码')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='备注')),
                ('status', models.CharField(choices=[('pending', '待回电'), ('done', '已回电'), ('cancelled', '已取消')], default='pending', max_length=16, verbose_name='状态')),
                ('fired_at', models.DateTimeField(blank=True, null=True, verbose_name='已提醒时间')),
                ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='完成时间')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='记录时间')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='callbacks', to='cases.case', verbose_name='委案')),
                ('collector', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='callbacks', to=settings.AUTH_USER_MODEL, verbose_name='业务员')),
                ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='约定人')),
            ],
            options={
                'verbose_name': '约定回电',
                'verbose_name_plural': '约定回电',
                'ordering': ['due_at', 'id'],
                'indexes': [models.Index(fields=['status', 'due_at'], name='callback_status_due_idx'), models.Index(fields=['collector', 'status', 'due_at'], name='callback_collector_idx'), models.Index(fields=['case', 'status'], name='callback_case_idx')],
            },
        ),
        migrations.CreateModel(
            name='Promise',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('call', '电话'), ('visit', '外访')], max_length=8, verbose_name='来源')),
                ('contact_label', models.CharField(blank=True, max_length=100, verbose_name='承诺人')),
                ('made_on', models.DateField(verbose_name='承诺日期')),
                ('due_date', models.DateField(verbose_name='承诺还款日期')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=14, verbose_name='承诺金额')),
                ('tolerance', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=10, verbose_name='金额容差')),
                ('window_end', models.DateField(help_text='承诺还款日期加宽限天数', verbose_name='兑现截止日期')),
                ('paid_amount', models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=14, verbose_name='已匹配回款')),
                ('status', models.CharField(choices=[('open', '待兑现'), ('kept', '已兑现'), ('partly_kept', '部分兑现'), ('broken', '已违约'), ('cancelled', '已撤销')], default='open', max_length=16, verbose_name='状态')),
                ('decided_on', models.DateField(blank=True, null=True, verbose_name='兑现/违约日期')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='记录时间')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('call', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='promise', to='cases.callrecord', verbose_name='电话记录')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='promises', to='cases.case', verbose_name='委案')),
                ('collector', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='promises_taken', to=settings.AUTH_USER_MODEL, verbose_name='承诺记录人')),
                ('visit', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='promise', to='cases.visitrecord', verbose_name='外访记录')),
            ],
            options={
                'verbose_name': '承诺还款',
                'verbose_name_plural': '承诺还款',
                'ordering': ['-due_date', '-id'],
                'indexes': [models.Index(fields=['case', 'due_date'], name='promise_case_due_idx'), models.Index(fields=['status', 'window_end'], name='promise_status_window_idx'), models.Index(fields=['status', 'due_date'], name='promise_status_due_idx'), models.Index(fields=['collector', 'made_on'], name='promise_collector_made_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='promise_amount_positive'), models.CheckConstraint(condition=models.Q(('due_date__gte', models.F('made_on'))), name='promise_due_not_before_made')],
            },
        ),
    ]
