"""Debian's nginx serving the secure-link location of deploy/nginx/secure-media.conf (or, with
S3_BUCKET, secure-media-s3.conf), rendered with the app's own function, on a free local port with
a temporary config and no upstream but the storage: no request it answers can reach the app.
`make test` installs the package (Makefile nginx-deps)."""

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backgroundmusic.media import secure_links

HOST = "127.0.0.1"
# Around the deploy snippet: one server with the snippet and, for every other path, 404. As
# root, nginx's workers would run as nobody: they stay the current user, to read the temp folder.
WRAPPER = """
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
{user}
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    max_ranges 1;
    server {{
        listen {host}:{port};
        include {snippet};
        location / {{ return 404; }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise RuntimeError("Debian's nginx is missing: `make nginx-deps` installs it.")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def rendered_config(folder: Path, port: int) -> Path:
    snippet = folder / "secure-media.conf"
    snippet.write_text(secure_links.render_installed_nginx_snippet())
    config = folder / "nginx.conf"
    user = "user root root;" if os.geteuid() == 0 else ""
    config.write_text(
        WRAPPER.format(folder=folder, user=user, host=HOST, port=port, snippet=snippet)
    )
    return config


@contextmanager
def secure_link_nginx(folder: Path) -> Iterator[int]:
    """nginx on a free port (yielded) serving the default storage's renditions (MEDIA_ROOT, or
    the bucket) through secure links signed with settings.MEDIA_SECURE_LINK_SECRET."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config = rendered_config(folder, port)
    binary = nginx_binary()
    subprocess.run(  # noqa: S603 (nginx, our temp config)
        [binary, "-t", "-q", "-c", str(config), "-p", str(folder), "-e", str(folder / "error.log")],
        check=True,
    )
    process = subprocess.Popen(  # noqa: S603 (nginx, our temp config)
        [binary, "-c", str(config), "-p", str(folder), "-e", str(folder / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(folder / 'error.log').read_text()}")
            with socket.socket() as probe:
                if probe.connect_ex((HOST, port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("nginx does not listen after 20 s")
            time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
