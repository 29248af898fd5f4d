"""The data map of the job machinery: job rows carry people's ids, schedule rows carry none."""

from backgroundmusic.core.tasks import FINISHED_TASK_RETENTION
from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retention,
    RetentionStart,
    declare,
)

declare(
    "core.ScheduledRun",
    subject="",
    not_personal=["id", "job", "slot", "task_result_id", "enqueued_at"],
)

_job_payload = PersonalData(
    category=Category.UNIQUE_ID,
    purpose=Purpose.CONTRACT,
    legal_basis=LegalBasis.CONTRACT,
    # One number for the map and for prune_finished_tasks, so the two cannot drift apart.
    retention=Retention(
        days=FINISHED_TASK_RETENTION.days,
        start=RetentionStart.COLLECTED,
        description=f"{FINISHED_TASK_RETENTION.days} days after the job finishes",
    ),
    erasure=Erasure.DELETE,
    exportable=False,
)
declare(
    "django_tasks_database.DBTaskResult",
    subject="",
    personal={
        "args_kwargs": _job_payload,
        "return_value": _job_payload,
        "traceback": _job_payload,
    },
    not_personal=[
        "id",
        "status",
        "enqueued_at",
        "started_at",
        "finished_at",
        "priority",
        "task_path",
        "worker_ids",
        "queue_name",
        "backend_name",
        "run_after",
        "exception_class_path",
    ],
    clock=Clock(field="finished_at"),
    note="Tasks take ids (DESIGN.md §3), so arguments name people only by id; results and "
    "tracebacks may echo them. A person's jobs are found by their id in args_kwargs.",
)
