"""/metrics under gunicorn with several workers (config/gunicorn.py, PROMETHEUS_MULTIPROC_DIR):
whichever worker answers the scrape, it counts every worker's requests, a killed worker's
counts stay, and a new run starts from nothing."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "m" * 40
FAVICONS = (
    'backgroundmusic_http_request_duration_seconds_count{method="GET",route="favicon",status="2xx"}'
)

pytestmark = pytest.mark.django_db(transaction=True)


def database_url(alias: str) -> str:
    """The URL of the test database of `alias`, for the server processes to use it too."""
    config = connections[alias].settings_dict
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{config['TEST']['NAME'] or config['NAME']}"
    user = config["USER"] + (f":{config['PASSWORD']}" if config["PASSWORD"] else "")
    return f"postgres://{user}@{config['HOST']}:{config['PORT']}/{config['NAME']}"


class Gunicorn:
    def __init__(self, tmp_path: Path, metrics_directory: Path) -> None:
        self.port = free_port("127.0.0.1")
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": database_url("default"),
            "KEYS_DATABASE_URL": database_url("keys"),
            "ANALYTICS_DATABASE_URL": "",
            "METRICS_TOKEN": TOKEN,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_directory),
        }
        self.process = subprocess.Popen(  # noqa: S603 - this checkout's gunicorn
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "-c",
                "config/gunicorn.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
            ],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while len(self.worker_pids()) < 2 or not self.answers():
            assert self.process.poll() is None, self.process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

    def get(self, path: str, token: str = "") -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def answers(self) -> bool:
        try:
            return self.get("/favicon.ico")[0] == 200
        except OSError:
            return False

    def worker_pids(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()} if children.exists() else set()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


@pytest.fixture
def metrics_directory(tmp_path: Path) -> Path:
    directory = tmp_path / "metrics"
    directory.mkdir()
    return directory


@pytest.fixture
def gunicorn(tmp_path: Path, metrics_directory: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path, metrics_directory)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def favicons_counted(server: Gunicorn) -> float:
    status, text = server.get("/metrics", TOKEN)
    assert status == 200
    for line in text.splitlines():
        if line.startswith(FAVICONS + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_worker_is_counted_in_every_scrape(gunicorn, metrics_directory, tmp_path):
    assert gunicorn.get("/metrics") == (401, "A bearer token is required.\n")
    before = favicons_counted(gunicorn)
    for _ in range(20):
        assert gunicorn.get("/favicon.ico")[0] == 200
    assert [favicons_counted(gunicorn) - before for _ in range(6)] == [20.0] * 6
    # Both workers answered some of them, each into its own file.
    owners = {path.stem.split("_")[-1] for path in metrics_directory.glob("histogram_*.db")}
    assert len(owners) == 2

    # A killed worker's counts stay; gunicorn starts another in its place.
    killed = min(gunicorn.worker_pids())
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while killed in gunicorn.worker_pids() or len(gunicorn.worker_pids()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert [favicons_counted(gunicorn) - before for _ in range(4)] == [20.0] * 4

    # A new run prunes the files of processes that ended and counts from nothing.
    gunicorn.stop()
    restarted = Gunicorn(tmp_path, metrics_directory)
    try:
        assert favicons_counted(restarted) == 1.0  # its own readiness probe
    finally:
        restarted.stop()
