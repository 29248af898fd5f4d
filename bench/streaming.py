"""Streaming benchmark: byte ranges of one rendition through our server vs nginx on the same file.

Run by `make bench` (or `.venv/bin/python bench/streaming.py`). In one run, on loopback:

- embedded: gunicorn (as `make run` starts it: 2 workers × 4 threads) answering signed
  /stream/<token> URLs itself: signature, expiry, entitlement, Range, streaming body;
- nginx:    Debian's nginx serving the same file directly from a plain location (the anchor);
- x-accel:  nginx in front of a second gunicorn with MEDIA_ACCEL_REDIRECT_PREFIX set, i.e. the
            production path of deploy/nginx/backgroundmusic.conf (app checks, nginx sends bytes);
- secure link: the same nginx with deploy/nginx/secure-media.conf rendered by the app's own
            function, serving a URL the app issued with MEDIA_SECURE_LINK_SECRET set: nginx
            checks signature and expiry itself, no request reaches the app (decision 0041).

Each of CLIENTS client processes keeps one HTTP/1.1 connection and asks for random 64 KiB ranges
(what a media element does while playing) until REQUESTS requests or SECONDS seconds, whichever
comes first. Every answer is checked (206, exact length). Prints requests/s, MB/s and p50/p99
latency for each, and the ratios to nginx. nginx is installed with apt-get when missing.

Environment: BENCH_CLIENTS (8), BENCH_SECONDS (5), BENCH_REQUESTS (per client, 5000),
BENCH_RANGE (65536), BENCH_AUDIO_SECONDS (180).
"""

import http.client
import io
import multiprocessing
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "5000"))
RANGE = int(os.environ.get("BENCH_RANGE", "65536"))
AUDIO_SECONDS = float(os.environ.get("BENCH_AUDIO_SECONDS", "180"))
HOST = "127.0.0.1"
# What the bench sets for itself, whatever the calling shell has.
OWN_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "MEDIA_ACCEL_REDIRECT_PREFIX",
    "MEDIA_SECURE_LINK_SECRET",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {HOST}:{port} after {timeout:.0f} s")


def ensure_nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if found:
        return found
    print("Installing Debian's nginx for the anchor (apt-get)…", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)  # noqa: S603
    subprocess.run(  # noqa: S603 (fixed arguments)
        [*sudo, "apt-get", "install", "-y", "-qq", "nginx-light"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return shutil.which("nginx") or "/usr/sbin/nginx"


# The data: one real Opus rendition behind a signed preview URL


def prepare(var_dir: Path, secret: str) -> tuple[str, str, str, int]:
    """Migrates a scratch SQLite database, stores a rendition and returns (signed path, secure
    link, storage key, size). Runs in this process with the scratch VAR_DIR."""
    import django

    django.setup()
    import hashlib

    import av
    import numpy as np
    from django.contrib.auth.models import AnonymousUser
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.test import override_settings

    from backgroundmusic.catalog.models import Track
    from backgroundmusic.core import clock
    from backgroundmusic.media.models import Master, Rendition
    from backgroundmusic.media.streaming import playable_url

    call_command("migrate", verbosity=0)
    rate = 48_000
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as output:
        stream = output.add_stream("libopus", rate=rate, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        stream.bit_rate = 128_000
        generator = np.random.default_rng(7)
        for second in range(int(AUDIO_SECONDS)):
            t = (np.arange(rate) + second * rate) / rate
            tone = 0.2 * np.sin(2 * np.pi * (220 + 20 * (second % 12)) * t)
            noise = 0.02 * generator.standard_normal(rate)
            samples = (tone + noise).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(
                np.stack([samples, samples]), format="fltp", layout="stereo"
            )
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    key = default_storage.save(f"renditions/{digest[:2]}/{digest}.opus", ContentFile(data))
    track = Track.objects.create(
        title="Bench", slug="bench", catalogue_code="BENCH-1", is_published=True
    )
    master = Master.objects.create(
        track=track,
        sha256=hashlib.sha256(b"bench master").hexdigest(),
        status=Master.Status.READY,
        uploaded_at=clock.now(),
    )
    Rendition.objects.create(
        master=master,
        kind=Rendition.Kind.PREVIEW,
        storage_key=key,
        mime_type="audio/ogg; codecs=opus",
        bitrate=128_000,
        size_bytes=len(data),
        duration_seconds=AUDIO_SECONDS,
        sha256=digest,
    )
    url = playable_url(user=AnonymousUser(), track=track, kind=Rendition.Kind.PREVIEW)
    with override_settings(MEDIA_SECURE_LINK_SECRET=secret):
        secure_url = playable_url(user=AnonymousUser(), track=track, kind=Rendition.Kind.PREVIEW)
    assert url is not None and secure_url is not None and secure_url.startswith("/audio/")
    return url, secure_url, key, len(data)


@contextmanager
def gunicorn(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """Our app as production runs it (config/gunicorn.py: workers write what they still hold at
    exit), 2 workers of 4 threads; stopped with SIGTERM, killed after 15 s."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "config.wsgi:application",
                "-c",
                "config/gunicorn.py",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, process)
            yield
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


NGINX_CONF = """
daemon off;
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    # tcp_nopush on stalls each ranged answer of the plain location by ~40 ms on loopback
    # keep-alive connections (cork + delayed ACK): measured, so off, as in the deploy config.
    tcp_nopush off;
    max_ranges 1;
    keepalive_requests 100000;
    upstream app {{ server {host}:{app_port}; keepalive 32; }}
    server {{
        listen {host}:{port};
        # The anchor: the file itself, no application.
        location = /direct.opus {{ alias {file}; default_type "audio/ogg"; }}
        # The production path, as in deploy/nginx/backgroundmusic.conf.
        location /protected-media/ {{ internal; alias {media_root}/; }}
        # Secure links: deploy/nginx/secure-media.conf as the app renders it.
        include {secure_media};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}
}}
"""


@contextmanager
def nginx(
    binary: str, tmp: Path, port: int, app_port: int, file: Path, media_root: Path, secret: str
):
    from django.conf import settings

    from backgroundmusic.media.secure_links import render_nginx_snippet

    secure_media = tmp / "secure-media.conf"
    secure_media.write_text(
        render_nginx_snippet(
            (ROOT / "deploy/nginx/secure-media.conf").read_text(),
            media_root=str(media_root),
            secret=secret,
            seconds=settings.MEDIA_SECURE_LINK_SECONDS,
        )
    )
    config = tmp / "nginx.conf"
    # As root, nginx's workers would run as nobody: keep them as the current user instead, so
    # they can read the scratch directory.
    user = "user root root;" if os.geteuid() == 0 else ""
    config.write_text(
        NGINX_CONF.format(
            tmp=tmp,
            user=user,
            host=HOST,
            port=port,
            app_port=app_port,
            file=file,
            media_root=media_root,
            secure_media=secure_media,
        )
    )
    process = subprocess.Popen(  # noqa: S603 (nginx found on PATH, our temp config)
        [binary, "-c", str(config), "-p", str(tmp), "-e", str(tmp / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


Result = tuple[int, int, list[float], str, float]


def client(args: tuple[int, str, int, int, float, int]) -> Result:
    """One client: (requests, bytes, latencies, error, seconds it ran)."""
    port, path, size, seed, seconds, limit = args
    chooser = random.Random(seed)  # noqa: S311 (not for security)
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    latencies: list[float] = []
    received = 0
    error = ""
    began = time.monotonic()
    deadline = began + seconds
    while len(latencies) < limit and time.monotonic() < deadline:
        first = chooser.randrange(0, max(1, size - RANGE))
        last = min(size - 1, first + RANGE - 1)
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Range": f"bytes={first}-{last}"})
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as problem:
            connection.close()
            error = f"{type(problem).__name__}: {problem}"
            break
        latencies.append(time.perf_counter() - started)
        if response.status != 206 or len(content) != last - first + 1:
            error = f"got {response.status} with {len(content)} bytes for {first}-{last}"
            break
        received += len(content)
    connection.close()
    return len(latencies), received, latencies, error, time.monotonic() - began


def warm_up(port: int, path: str) -> None:
    """Until every server process has loaded the app and answered: a few sequential requests."""
    for _attempt in range(40):
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        connection.request("GET", path, headers={"Range": "bytes=0-0"})
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 206:
            raise SystemExit(f"warm-up of port {port}: {response.status}")


def measure(name: str, port: int, path: str, size: int) -> dict[str, float]:
    warm_up(port, path)
    jobs = [(port, path, size, seed, SECONDS, REQUESTS) for seed in range(CLIENTS)]
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        results = pool.map(client, jobs)
    errors = {result[3] for result in results if result[3]}
    if errors:
        raise SystemExit(f"{name}: {sorted(errors)[0]}")
    count = sum(result[0] for result in results)
    # Each client's own rate, summed: process start-up is not counted.
    rps = sum(result[0] / result[4] for result in results)
    mbps = sum(result[1] / result[4] for result in results) / 1e6
    latencies = sorted(latency for result in results for latency in result[2])
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return {
        "requests": count,
        "rps": rps,
        "mbps": mbps,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": p99 * 1000,
    }


def main() -> None:
    binary = ensure_nginx()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-streaming-")))
        tmp.chmod(0o755)
        var_dir = tmp / "var"
        env = {
            key: value
            for key, value in os.environ.items()
            if key
            not in {
                "DATABASE_URL",
                "REDIS_URL",
                "MEDIA_ACCEL_REDIRECT_PREFIX",
                "MEDIA_SECURE_LINK_SECRET",
            }
        }
        env.update(
            VAR_DIR=str(var_dir),
            DJANGO_SETTINGS_MODULE="config.settings",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        for name in OWN_SETTINGS:
            os.environ.pop(name, None)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        secret = secrets.token_urlsafe(32)
        path, secure_path, key, size = prepare(var_dir, secret)
        media_root = var_dir / "media"
        file = media_root / key
        print(
            f"streaming bench: {CLIENTS} clients, random {RANGE} B ranges of a "
            f"{size / 1e6:.1f} MB Opus file, ≤{SECONDS:g} s or ≤{REQUESTS} requests per client",
            flush=True,
        )

        embedded_port, accel_port, nginx_port = free_port(), free_port(), free_port()
        stack.enter_context(gunicorn(env, embedded_port, tmp / "gunicorn-embedded.log"))
        accel_env = {**env, "MEDIA_ACCEL_REDIRECT_PREFIX": "/protected-media/"}
        stack.enter_context(gunicorn(accel_env, accel_port, tmp / "gunicorn-accel.log"))
        stack.enter_context(nginx(binary, tmp, nginx_port, accel_port, file, media_root, secret))

        results = {
            "embedded (gunicorn)": measure("embedded", embedded_port, path, size),
            "nginx direct (anchor)": measure("nginx", nginx_port, "/direct.opus", size),
            "nginx + X-Accel-Redirect": measure("x-accel", nginx_port, path, size),
            "nginx secure link": measure("secure-link", nginx_port, secure_path, size),
        }
    anchor = results["nginx direct (anchor)"]["rps"]
    print(f"{'path':28} {'requests':>9} {'req/s':>9} {'MB/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, numbers in results.items():
        print(
            f"{name:28} {numbers['requests']:9.0f} {numbers['rps']:9.0f} {numbers['mbps']:8.1f} "
            f"{numbers['p50_ms']:8.2f} {numbers['p99_ms']:8.2f}"
        )
    embedded = results["embedded (gunicorn)"]["rps"]
    accel = results["nginx + X-Accel-Redirect"]["rps"]
    print(f"ratio embedded / nginx direct: {embedded / anchor:.2f}")
    print(f"ratio nginx + X-Accel-Redirect / nginx direct: {accel / anchor:.2f}")
    secure = results["nginx secure link"]["rps"]
    print(f"ratio nginx secure link / nginx direct: {secure / anchor:.2f}")
    print(f"load average (1, 5, 15 min) after the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
