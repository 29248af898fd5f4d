"""A worker killed (SIGKILL, with every process it started) while a job is in flight: a fresh worker
runs the job again, and its side effect happens exactly once, on either task backend; and on
Redis, a job whose app server died between its commit and its push is not lost."""

import signal
import subprocess
import sys

import django_rq
import pytest
from django_tasks import default_task_backend
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from backgroundmusic.core.models import OutboxJob
from backgroundmusic.core.tests.conftest import (
    ROOT,
    kill_worker,
    wait_until,
    worker_environment,
)
from backgroundmusic.core.tests.fault_tasks import mail_when_let_through


@pytest.fixture(params=["database", "rq"])
def task_backend(request) -> str:
    if request.param == "rq":
        request.getfixturevalue("rq_tasks")
    return str(request.param)


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_worker_is_killed_runs_again_and_mails_once(
    task_backend, settings, smtp_server, worker_processes, tmp_path
):
    folder = tmp_path / "job"
    folder.mkdir()
    environment = worker_environment(settings, smtp_port=smtp_server.port)
    result = mail_when_let_through.enqueue(folder=str(folder), to="venue@example.com")

    doomed = worker_processes(environment)
    wait_until(lambda: (folder / "attempt-1").exists(), what="the first worker to start the job")
    kill_worker(doomed)
    assert doomed.returncode == -signal.SIGKILL
    assert default_task_backend.get_result(result.id).status == TaskResultStatus.RUNNING

    worker_processes(environment)
    wait_until(lambda: (folder / "attempt-2").exists(), what="a fresh worker to run it again")
    (folder / "gate").touch()
    wait_until(
        lambda: default_task_backend.get_result(result.id).status == TaskResultStatus.SUCCESSFUL,
        what="the job to finish",
    )

    assert [mail.subject for mail in smtp_server.messages] == ["attempt 2"]
    assert sorted(path.name for path in folder.iterdir()) == ["attempt-1", "attempt-2", "gate"]


# An app server's work: a change and its job committed in one transaction; then the process is
# killed before the job's push to Redis, which Django runs after the commit.
_DIES_AFTER_COMMIT = """
import os, signal
from django.db import transaction
from backgroundmusic.core.tests.fault_tasks import mail_when_let_through
with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    print(mail_when_let_through.enqueue(folder={folder!r}, to="venue@example.com").id, flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_on_redis_a_job_whose_process_dies_right_after_its_commit_runs_once(
    rq_tasks, settings, smtp_server, worker_processes, tmp_path
):
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "gate").touch()
    environment = {**worker_environment(settings, smtp_port=smtp_server.port)}
    environment["TASKS_OUTBOX_GRACE"] = "1"
    app = subprocess.run(  # noqa: S603 (our own fixed command line)
        [sys.executable, "manage.py", "shell", "-c", _DIES_AFTER_COMMIT.format(folder=str(folder))],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert app.returncode == -signal.SIGKILL, app.stderr
    job_id = app.stdout.split()[-1]
    assert list(OutboxJob.objects.values_list("job_id", flat=True)) == [job_id]
    assert django_rq.get_queue("default").job_ids == []

    def finished() -> bool:
        try:
            return default_task_backend.get_result(job_id).status == TaskResultStatus.SUCCESSFUL
        except TaskResultDoesNotExist:
            return False  # not pushed yet

    worker_processes(environment)
    wait_until(finished, what="a worker to push the job from the outbox and run it")
    assert [mail.subject for mail in smtp_server.messages] == ["attempt 1"]
    assert OutboxJob.objects.count() == 0
