"""A worker killed (SIGKILL, with every process it started) while a job is in flight: a fresh worker
runs the job again, and its side effect happens exactly once, on either task backend."""

import signal

import pytest
from django_tasks import default_task_backend
from django_tasks.base import TaskResultStatus

from backgroundmusic.core.tests.conftest import kill_worker, wait_until, worker_environment
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
