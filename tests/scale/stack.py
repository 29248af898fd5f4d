"""The scale-out stack on one machine (`make test-scale`, `make load`; decision 0043).

Starts on loopback, each on a free port: the machine's PostgreSQL (three fresh databases, dropped
at the end), the machine's Redis (one database, flushed at the start), moto's S3 server (the
TEST DOUBLE of S3-compatible storage, tests/s3_double.py), a real SMTP server writing a Maildir,
two task workers, two app servers (gunicorn with config/gunicorn.py, as in production) and
Debian's nginx in front with the site of deploy/nginx/ rendered for these ports and paths. Then
it runs the journeys of tests/scale/ (`journeys`) or the load test (`load`) through nginx, or
waits for Ctrl-C (`up`), and stops everything it started, also on failure or Ctrl-C.

An app server that dies is started again within a second, as systemd would (the fault test
kills one). The configuration the processes get is printed with `up`.
"""

import argparse
import atexit
import contextlib
import json
import mailbox
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DEPLOY_NGINX = BASE_DIR / "deploy" / "nginx"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
POSTGRES_URL = os.environ.get("SCALE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("SCALE_REDIS_URL", "redis://127.0.0.1:6379/6")
S3_REGION = "us-east-1"
S3_CREDENTIALS = {"S3_ACCESS_KEY_ID": "test-double", "S3_SECRET_ACCESS_KEY": "test-double"}
S3_BUCKET = "backgroundmusic-scale"
# tests/yookassa_double.py, the TEST DOUBLE of YooKassa's API, in a process of its own.
YOOKASSA_DOUBLE_SHOP = {
    "YOOKASSA_SHOP_ID": "test-double-shop",
    "YOOKASSA_SECRET_KEY": "test-double-secret",
}

# The task worker, one line for every worker of the stack: run_worker with the recurring-job
# scheduler (core/management/commands/run_worker.py) on the Redis backend that
# `app_environment` names (TASKS_BACKEND=rq, decision 0040), as a scaled-out deployment runs it.
WORKER_COMMAND = [PYTHON, "manage.py", "run_worker"]
# As bin/run-embedded runs it, on a port of its own; no access log (its lines bypass the
# personal-data mask).
APP_WORKERS = int(os.environ.get("SCALE_APP_WORKERS", "2"))
APP_THREADS = int(os.environ.get("SCALE_APP_THREADS", "4"))
APP_SERVERS = 2
TASK_WORKERS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int, *, process: subprocess.Popen[bytes], name: str, seconds: float
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None:
                raise StackError(
                    f"{name} exited with {process.returncode} before listening"
                ) from None
            if time.monotonic() > deadline:
                raise StackError(
                    f"{name} did not listen on {port} within {seconds:.0f} s"
                ) from None
            time.sleep(0.1)


class StackError(Exception):
    pass


def _replace_once(text: str, old: str, new: str, *, what: str) -> str:
    """The one place the deploy file is expected to say `old`: a change there must come here."""
    if text.count(old) != 1:
        raise StackError(
            f"deploy/nginx/backgroundmusic.conf no longer has exactly one {what} ({old!r}): "
            "update tests/scale/stack.py's nginx_site"
        )
    return text.replace(old, new)


def _block(text: str, opening: str) -> tuple[int, int]:
    """Start and end offsets of the `{ ... }` block whose first line starts with `opening`."""
    start = text.find(opening)
    if start < 0:
        raise StackError(f"deploy/nginx/backgroundmusic.conf has no block {opening!r}")
    depth, position = 0, text.index("{", start)
    while True:
        character = text[position]
        depth += {"{": 1, "}": -1}.get(character, 0)
        position += 1
        if depth == 0:
            return start, position


def nginx_site(
    *, listen: int, app_ports: list[int], static_root: Path, s3_endpoint_port: int
) -> str:
    """deploy/nginx/backgroundmusic.conf as deployed, on loopback: its upstream names our app
    servers, its TLS server listens on `listen` without TLS (the port-80 redirect goes), static
    files come from our STATIC_ROOT, and downloads from S3-compatible storage through
    deploy/nginx/protected-s3.conf, included in place of the /protected-media/ location as that
    file says, pointed at the S3 double. Streams go through the audio snippet the site includes
    (`Stack._nginx_start` renders it from deploy/nginx/secure-media-s3.conf)."""
    site = (DEPLOY_NGINX / "backgroundmusic.conf").read_text()
    redirect_start, redirect_end = _block(site, "server {\n    listen 80;")
    site = site[:redirect_start] + site[redirect_end:]
    site = _replace_once(
        site,
        "    server 127.0.0.1:8000 fail_timeout=0;\n",
        "".join(f"    server 127.0.0.1:{port} fail_timeout=0;\n" for port in app_ports),
        what="upstream server",
    )
    site = _replace_once(
        site, "listen 443 ssl http2;", f"listen 127.0.0.1:{listen};", what="TLS listen"
    )
    for line in (
        "    listen [::]:443 ssl http2;\n",
        "    ssl_certificate     /etc/letsencrypt/live/music.example.com/fullchain.pem;\n",
        "    ssl_certificate_key /etc/letsencrypt/live/music.example.com/privkey.pem;\n",
    ):
        site = _replace_once(site, line, "", what="TLS line")
    site = _replace_once(
        site, "/var/lib/backgroundmusic/static/", f"{static_root}/", what="static root"
    )
    protected_start, protected_end = _block(site, "location /protected-media/ {")
    endpoint = f"127.0.0.1:{s3_endpoint_port}"
    protected_s3 = (DEPLOY_NGINX / "protected-s3.conf").read_text()
    protected_s3 = _replace_once(
        protected_s3, "https://s3.example.com/", f"http://{endpoint}/", what="S3 endpoint"
    )
    protected_s3 = _replace_once(
        protected_s3, "Host s3.example.com;", f"Host {endpoint};", what="S3 host"
    )
    return site[:protected_start] + protected_s3 + site[protected_end:]


def nginx_main(*, prefix: Path, site: Path) -> str:
    """The few lines /etc/nginx/nginx.conf gives a site, in our run directory; the access log
    names the app server that answered each request (the fault test reads it)."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\n"
        "worker_rlimit_nofile 16384;\n"
        f"pid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/nginx-error.log warn;\n"
        "events { worker_connections 8192; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    log_format upstreams '$msec $status $request_method $uri $upstream_addr "
        "$upstream_status $request_time';\n"
        f"    access_log {prefix}/logs/nginx-access.log upstreams;\n"
        f"    client_body_temp_path {prefix}/nginx-temp/body;\n"
        f"    proxy_temp_path {prefix}/nginx-temp/proxy;\n"
        f"    fastcgi_temp_path {prefix}/nginx-temp/fastcgi;\n"
        f"    uwsgi_temp_path {prefix}/nginx-temp/uwsgi;\n"
        f"    scgi_temp_path {prefix}/nginx-temp/scgi;\n"
        f"    include {site};\n"
        "}\n"
    )


@dataclass
class Child:
    name: str
    command: list[str]
    log: Path
    env: dict[str, str]
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        with self.log.open("ab") as log:
            # A session of its own: stopping kills the process group (gunicorn's workers too).
            self.process = subprocess.Popen(  # noqa: S603 (our own fixed command lines)
                self.command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        # Whatever of the group is left (a worker that outlived its master, a hung one).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


@dataclass
class Stack:
    run_dir: Path
    tracks: int = 3
    members: int = 0
    run_id: str = field(default_factory=lambda: f"{int(time.time())}_{secrets.token_hex(3)}")
    children: list[Child] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    base_url: str = ""
    keep_logs: bool = False
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secure_link_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    _supervising: threading.Event = field(default_factory=threading.Event)
    _stopped: bool = False

    @property
    def logs(self) -> Path:
        return self.run_dir / "logs"

    @property
    def maildir(self) -> Path:
        return self.run_dir / "maildir"

    @property
    def state_file(self) -> Path:
        return self.run_dir / "stack.json"

    def say(self, line: str) -> None:
        print(f"[scale {time.strftime('%H:%M:%S')}] {line}", flush=True)

    def start(self) -> None:
        began = time.monotonic()
        for folder in (
            self.logs,
            self.run_dir / "nginx-temp",
            self.run_dir / "var",
            self.run_dir / "prometheus",
        ):
            folder.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.maildir, create=True)
        self._databases_create()
        self._redis_flush()
        self.s3_port, self.smtp_port, self.nginx_port = free_port(), free_port(), free_port()
        self.payments_port = free_port()
        self.app_ports = [free_port() for _ in range(APP_SERVERS)]
        self.base_url = f"http://127.0.0.1:{self.nginx_port}"
        self.env = self.app_environment()
        moto = self._spawn(
            "s3-double", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.s3_port)]
        )
        smtp = self._spawn(
            "smtp",
            [
                PYTHON,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{self.smtp_port}",
                "-c",
                "aiosmtpd.handlers.Mailbox",
                str(self.maildir),
            ],
        )
        payments = self._spawn(
            "yookassa-double",
            [
                PYTHON,
                "tests/yookassa_double.py",
                "--port",
                str(self.payments_port),
                "--shop-id",
                YOOKASSA_DOUBLE_SHOP["YOOKASSA_SHOP_ID"],
                "--secret-key",
                YOOKASSA_DOUBLE_SHOP["YOOKASSA_SECRET_KEY"],
            ],
        )
        collecting = self._manage("collectstatic", "--noinput", wait=False)
        self._manage("migrate", "--noinput", "--database", "keys")
        self._manage("migrate", "--noinput")
        self._manage("migrate", "--noinput", "--database", "analytics")
        wait_for_port(self.s3_port, process=moto.process, name="moto", seconds=60)  # type: ignore[arg-type]
        wait_for_port(self.smtp_port, process=smtp.process, name="smtp", seconds=30)  # type: ignore[arg-type]
        wait_for_port(self.payments_port, process=payments.process, name="yookassa", seconds=30)  # type: ignore[arg-type]
        self._bucket_create()
        for number in range(1, TASK_WORKERS + 1):
            self._spawn(f"worker-{number}", WORKER_COMMAND)
        if collecting.wait() != 0:
            raise StackError("collectstatic failed (logs/manage.log)")
        for number, port in enumerate(self.app_ports, start=1):
            self._spawn(f"app-{number}", self.app_command(port), port=port)
        self._nginx_start()
        for child in self.children:
            if child.port is not None:
                wait_for_port(child.port, process=child.process, name=child.name, seconds=120)  # type: ignore[arg-type]
        self._healthy()
        self.say(f"seeding {self.tracks} tracks through the task workers")
        self._manage(
            "shell", "-c", f"from tests.scale.seed import main; main({self.tracks}, {self.members})"
        )
        self._write_state()
        threading.Thread(target=self._supervise, daemon=True).start()
        self.say(f"up at {self.base_url} in {time.monotonic() - began:.0f} s ({self.run_dir})")

    def app_environment(self) -> dict[str, str]:
        """Everything the app servers, the workers and the management commands get: the same
        code as embedded, only the environment differs (docs/operations.md)."""
        database = f"{POSTGRES_URL}/{self.databases[0]}"
        destinations = [
            {
                "host": "127.0.0.1",
                "port": port,
                "purpose": purpose,
                "recipient": recipient,
                "country": "RU",
                "basis": "contract",
            }
            for port, purpose, recipient in (
                (self.s3_port, "storage", "S3 double (moto) on this machine"),
                (self.smtp_port, "mail", "SMTP server on this machine"),
                (self.payments_port, "payments", "YooKassa double on this machine"),
            )
        ]
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_", "S3_", "REDIS_", "EMAIL_", "MEDIA_", "YOOKASSA_"))
            and key not in ("ANALYTICS_DATABASE_URL", "KEYS_DATABASE_URL", "TEST_DATABASE_URL")
        }
        environment.update(
            {
                "DATABASE_URL": database,
                "ANALYTICS_DATABASE_URL": f"{POSTGRES_URL}/{self.databases[1]}",
                "KEYS_DATABASE_URL": f"{POSTGRES_URL}/{self.databases[2]}",
                "REDIS_URL": REDIS_URL,
                # Jobs go through Redis, as in a scaled-out deployment (decision 0040).
                "TASKS_BACKEND": "rq",
                "TASKS_REDIS_URL": REDIS_URL,
                # Shorter than a deployment's (120 s, 15 min), so a job of a worker the load
                # test kills runs again, and its batch's unsent messages go out, within the run.
                "TASKS_WORKER_LOST_AFTER": "30",
                "MAILING_CLAIM_SECONDS": "120",
                "METRICS_TOKEN": self.metrics_token,
                "PROMETHEUS_MULTIPROC_DIR": str(self.run_dir / "prometheus"),
                "S3_BUCKET": S3_BUCKET,
                "S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
                "S3_REGION": S3_REGION,
                **S3_CREDENTIALS,
                "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
                **YOOKASSA_DOUBLE_SHOP,
                "YOOKASSA_API_URL": f"http://127.0.0.1:{self.payments_port}/v3",
                "YOOKASSA_PAYMENT_PAGE_ORIGIN": f"http://127.0.0.1:{self.payments_port}",
                "OUTBOUND_DESTINATIONS": json.dumps(destinations),
                # Streams: secure links that nginx checks, then fetches from the storage with
                # the pre-signed query they carry (deploy/nginx/secure-media-s3.conf, decision
                # 0041); no range request reaches an app server. Downloads keep the app's check
                # and X-Accel-Redirect to the storage (deploy/nginx/protected-s3.conf).
                "MEDIA_SECURE_LINK_SECRET": self.secure_link_secret,
                "MEDIA_ACCEL_REDIRECT_PREFIX": "/protected-s3/",
                "PROXY_COUNT": "1",
                "SITE_URL": self.base_url,
                "VAR_DIR": str(self.run_dir / "var"),
                "STATIC_ROOT": str(self.run_dir / "static"),
                "SECRET_KEY": secrets.token_urlsafe(50),
                "PSEUDONYM_SECRET": secrets.token_urlsafe(48),
                "DATA_MASTER_KEYS": f"k1:{secrets.token_urlsafe(32)}",
                "OPERATOR_DEMONSTRATION": "1",
                "SERVER_COUNTRY": "RU",
                "DATABASE_COUNTRY": "RU",
                "ANALYTICS_DATABASE_COUNTRY": "RU",
                "MEDIA_COUNTRY": "RU",
                "CACHE_COUNTRY": "RU",
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return environment

    def app_command(self, port: int) -> list[str]:
        return [
            str(Path(PYTHON).with_name("gunicorn")),
            "config.wsgi:application",
            "-c",
            "config/gunicorn.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(APP_WORKERS),
            "--threads",
            str(APP_THREADS),
        ]

    def _spawn(self, name: str, command: list[str], *, port: int | None = None) -> Child:
        child = Child(name, command, self.logs / f"{name}.log", self.env, port=port)
        child.start()
        self.children.append(child)
        return child

    def _manage(self, *arguments: str, wait: bool = True) -> subprocess.Popen[bytes]:
        with (self.logs / "manage.log").open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 (our own fixed command lines)
                [PYTHON, "manage.py", *arguments],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if wait and process.wait() != 0:
            raise StackError(f"manage.py {' '.join(arguments)} failed (logs/manage.log)")
        return process

    def _databases_create(self) -> None:
        import psycopg

        names = [
            f"scale_{self.run_id}",
            f"scale_{self.run_id}_analytics",
            f"scale_{self.run_id}_keys",
        ]
        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
            for name in names:
                connection.execute(f'CREATE DATABASE "{name}"')
                self.databases.append(name)

    def _databases_drop(self) -> None:
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
            for name in self.databases:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.clear()

    def _redis_flush(self) -> None:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()

    def _bucket_create(self) -> None:
        import boto3

        boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.s3_port}",
            region_name=S3_REGION,
            aws_access_key_id=S3_CREDENTIALS["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["S3_SECRET_ACCESS_KEY"],
        ).create_bucket(Bucket=S3_BUCKET)

    def _nginx_start(self) -> None:
        site = self.run_dir / "backgroundmusic.conf"
        site.write_text(
            nginx_site(
                listen=self.nginx_port,
                app_ports=self.app_ports,
                static_root=self.run_dir / "static",
                s3_endpoint_port=self.s3_port,
            )
        )
        # Where the deploy file's `include snippets/backgroundmusic-audio*.conf` looks (beside
        # nginx.conf), written by the deploy's own command from the app's environment.
        (self.run_dir / "snippets").mkdir(exist_ok=True)
        self._manage(
            "render_secure_media_nginx",
            "--output",
            str(self.run_dir / "snippets" / "backgroundmusic-audio.conf"),
        )
        main = self.run_dir / "nginx.conf"
        main.write_text(nginx_main(prefix=self.run_dir, site=site))
        command = [NGINX, "-p", str(self.run_dir), "-c", str(main), "-g", "daemon off;"]
        checked = subprocess.run(  # noqa: S603 (our own fixed command line)
            [*command, "-t", "-q"], capture_output=True, text=True, check=False
        )
        if checked.returncode != 0:
            raise StackError(f"nginx refused the rendered config: {checked.stderr}")
        self._spawn("nginx", command, port=self.nginx_port)

    def _healthy(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=10) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError as error:
                last = error
            if time.monotonic() > deadline:
                raise StackError(f"/healthz through nginx is not 200: {last}")
            time.sleep(0.5)

    def _write_state(self) -> None:
        self.state_file.write_text(
            json.dumps(
                {
                    "base_url": self.base_url,
                    "tracks": self.tracks,
                    "maildir": str(self.maildir),
                    "payments_double": f"http://127.0.0.1:{self.payments_port}",
                    "nginx_access_log": str(self.logs / "nginx-access.log"),
                    "app_servers": [
                        {
                            "name": c.name,
                            "port": c.port,
                            "pid": c.process.pid,
                            "restarts": c.restarts,
                        }
                        for c in self.children
                        if c.name.startswith("app-") and c.process is not None
                    ],
                    "environment": {k: v for k, v in self.env.items() if k in _SHOWN_SETTINGS},
                },
                indent=2,
            )
        )

    def _supervise(self) -> None:
        """Starts an app server or a task worker again when it dies (as systemd's
        Restart=always would)."""
        while not self._supervising.wait(0.5):
            for child in self.children:
                restarted = child.name.startswith(("app-", "worker-"))
                if restarted and not child.alive() and not self._stopped:
                    self.say(f"{child.name} died ({child.process.returncode}); starting it again")  # type: ignore[union-attr]
                    child.stop(grace=0)  # its orphaned workers, if any
                    child.restarts += 1
                    child.start()
                    self._write_state()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._supervising.set()
        # nginx and the app servers first, then the workers, then the stores they use.
        order = ["nginx", "app-", "worker-", "smtp", "yookassa-double", "s3-double"]
        for prefix in order:
            for child in self.children:
                if child.name.startswith(prefix):
                    child.stop()
        if self.databases:
            try:
                self._databases_drop()
            except Exception as error:
                self.say(f"could not drop {self.databases}: {error}")
        self.say("stopped")


_SHOWN_SETTINGS = {
    "DATABASE_URL",
    "ANALYTICS_DATABASE_URL",
    "KEYS_DATABASE_URL",
    "REDIS_URL",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "EMAIL_URL",
    "MEDIA_ACCEL_REDIRECT_PREFIX",
    "SITE_URL",
    "TASKS_BACKEND",
    "TASKS_REDIS_URL",
    "PROMETHEUS_MULTIPROC_DIR",
}


@contextlib.contextmanager
def running_stack(*, tracks: int, members: int, keep: bool = False) -> Iterator[Stack]:
    """A started stack, stopped (and its run directory removed unless `keep` or it failed)
    however the block ends: an exception, Ctrl-C, SIGTERM or the interpreter exiting."""
    run_dir = BASE_DIR / "var" / "scale" / time.strftime("run-%Y%m%d-%H%M%S")
    stack = Stack(run_dir=run_dir, tracks=tracks, members=members)
    atexit.register(stack.stop)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    failed = True
    try:
        stack.start()
        yield stack
        failed = False
    finally:
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
        if failed or keep or stack.keep_logs:
            stack.say(f"logs kept in {run_dir}/logs")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def journeys(stack: Stack, pytest_arguments: list[str]) -> int:
    """The browser journeys and the fault test of tests/scale/, through nginx."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "S3_"))},
        "SCALE_STATE": str(stack.state_file),
        "VAR_DIR": str(stack.run_dir / "pytest-var"),
    }
    command = [
        PYTHON,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "tests/scale",
        *pytest_arguments,
    ]
    return subprocess.call(command, cwd=BASE_DIR, env=environment)  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["journeys", "load", "up"])
    parser.add_argument("--tracks", type=int, default=int(os.environ.get("SCALE_TRACKS", "3")))
    parser.add_argument("--keep", action="store_true", help="keep the run directory")
    arguments, rest = parser.parse_known_args()
    began = time.monotonic()
    # The journeys sign in as member0001; the load test's members sign in one each.
    members = int(os.environ.get("LOAD_MEMBERS", "40")) if arguments.what == "load" else 1
    try:
        with running_stack(tracks=arguments.tracks, members=members, keep=arguments.keep) as stack:
            if arguments.what == "journeys":
                status = journeys(stack, rest)
            elif arguments.what == "load":
                from tests.scale.load import load_run

                status = load_run(stack)
            else:
                print(stack.state_file.read_text())
                stack.say("Ctrl-C stops it")
                while True:
                    time.sleep(3600)
            stack.keep_logs = status != 0
    except KeyboardInterrupt:
        return 130
    except StackError as error:
        print(f"scale stack: {error}", file=sys.stderr)
        return 1
    print(f"[scale] {arguments.what}: exit {status} after {time.monotonic() - began:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
