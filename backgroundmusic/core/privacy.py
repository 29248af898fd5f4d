"""The data map of the job machinery: job rows carry people's ids, schedule rows carry none.

Finished job rows leave through the retention run's generic step (privacy/retention.py), by
the clock and period declared here, with a destruction record; core's own pruning
(core/tasks.py) touches only the schedule rows.
"""

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retentions,
    Source,
    Subjects,
    declare,
)

declare(
    "core.ScheduledRun",
    subject="",
    not_personal=["id", "job", "slot", "task_result_id", "enqueued_at"],
)

declare("core.TaskWorker", subject="", not_personal=["id", "worker_id", "seen_at"])

_job_payload = PersonalData(
    category=Category.UNIQUE_ID,
    purpose=Purpose.CONTRACT,
    legal_basis=LegalBasis.CONTRACT,
    retention=Retentions.FINISHED_JOBS,
    erasure=Erasure.DELETE,
    exportable=False,
    source=Source.GENERATED,
)
declare(
    "django_tasks_database.DBTaskResult",
    subject="",
    subjects=(Subjects.USERS,),
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

declare(
    "core.OutboxJob",
    subject="",
    subjects=(Subjects.USERS,),
    personal={"args_kwargs": _job_payload},
    not_personal=["job_id", "task_path", "queue_name", "priority", "run_after", "created_at"],
    clock=Clock(field="created_at"),
    note="The arguments of a Redis job between its commit and its push (a minute at most while "
    "a worker runs): ids, as in a job row.",
)
