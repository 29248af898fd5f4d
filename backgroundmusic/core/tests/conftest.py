"""The Redis the tests of the Redis task backend use, and workers run as separate processes."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.db import connections

ROOT = Path(__file__).resolve().parents[3]


def test_redis_url() -> str:
    """TEST_REDIS_URL names the database of the first pytest process (default
    redis://127.0.0.1:6379/14, away from the usual 0 of a developer's cache); each parallel
    process (pytest-xdist's gwN) takes the next one, so parallel runs never share a queue. The
    tests empty it."""
    base = urlsplit(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(base.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    return urlunsplit(base._replace(path=f"/{number}"))


test_redis_url.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def rq_tasks(settings) -> Iterator[redis.Redis]:
    """The project's Redis task backend on the tests' Redis database, emptied before and after."""
    url = test_redis_url()
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(
            f"Redis at {url} does not answer ({error}): the Redis task backend's tests need it "
            "(set TEST_REDIS_URL to a Redis database they may empty)"
        )
    client.flushdb()
    settings.TASKS_BACKEND = "rq"
    settings.TASKS_REDIS_URL = url
    settings.RQ_QUEUES = {"default": {"URL": url}}
    settings.TASKS = {
        "default": {
            "BACKEND": "backgroundmusic.core.task_backends.RQBackend",
            "QUEUES": ["default"],
        }
    }
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


def _database_url(alias: str) -> str:
    """The URL of the database this test process uses under `alias` (the test database)."""
    conf = connections[alias].settings_dict
    if conf["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{conf['NAME']}"
    password = f":{conf['PASSWORD']}" if conf.get("PASSWORD") else ""
    return f"postgres://{conf['USER']}{password}@{conf['HOST']}:{conf['PORT']}/{conf['NAME']}"


def worker_environment(settings, *, smtp_port: int) -> dict[str, str]:
    """The environment of a worker process sharing this test's databases, task backend and
    SMTP server."""
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url("default"),
        "KEYS_DATABASE_URL": _database_url(settings.KEYS_DB_ALIAS),
        "OPERATOR_DEMONSTRATION": "1",
        "TASKS_BACKEND": settings.TASKS_BACKEND,
        "TASKS_REDIS_URL": settings.TASKS_REDIS_URL,
        # A worker silent for 2 s is dead: the fault tests wait seconds, not minutes.
        "TASKS_WORKER_LOST_AFTER": "2",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "OUTBOUND_DESTINATIONS": json.dumps(settings.OUTBOUND_DESTINATIONS),
    }
    if settings.ANALYTICS_DB_ALIAS != "default":
        environment["ANALYTICS_DATABASE_URL"] = _database_url(settings.ANALYTICS_DB_ALIAS)
    environment.pop("REDIS_URL", None)
    return environment


@pytest.fixture
def worker_processes(tmp_path) -> Iterator[Callable[[dict[str, str]], subprocess.Popen]]:
    """Starts `manage.py run_worker` processes, each in a process group of its own (an RQ worker
    forks a work horse per job), all killed at the end."""
    started: list[subprocess.Popen] = []

    def start(environment: dict[str, str]) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started) + 1}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--interval", "0.1"],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            kill_worker(process)


def _descendants(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children += [int(child) for child in (task / "children").read_text().split()]
    return [grand for child in children for grand in [child, *_descendants(child)]]


def process_tree_kill(pid: int) -> None:
    """SIGKILL to `pid` and every process it started, as when its machine dies (an RQ work horse
    leaves its parent's process group, so killing the group is not enough)."""
    for doomed in [pid, *_descendants(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(doomed, signal.SIGKILL)


def kill_worker(process: subprocess.Popen) -> None:
    """process_tree_kill for a worker this test started, waited for."""
    process_tree_kill(process.pid)
    process.wait()


def wait_until(condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.05)
