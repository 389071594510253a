from __future__ import annotations

from cases.management.commands import run_scheduler

CALLS: list[str] = []


def record_job() -> None:
    CALLS.append("ran")


def failing_job() -> None:
    raise RuntimeError("boom")


def test_scheduler_runs_the_configured_extra_jobs_and_survives_a_failing_one(settings):
    # given
    CALLS.clear()
    settings.SCHEDULER_EXTRA_JOBS = [
        "tests.cases.test_scheduler_jobs.failing_job",
        "tests.cases.test_scheduler_jobs.record_job",
    ]
    # when
    run_scheduler._run_extra_jobs()
    # then
    assert CALLS == ["ran"]


def test_production_settings_schedule_the_ops_jobs():
    # given
    from project import settings as project_settings

    # then
    assert "ops.backup.ops_tick" in project_settings.SCHEDULER_EXTRA_JOBS
