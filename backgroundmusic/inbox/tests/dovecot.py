"""Debian's dovecot as a test IMAP server: its own process on a free local port, with a config
of its own in a temporary folder (plain authentication over localhost, a passwd-file, Maildir
mailboxes), run as an unprivileged user: the invoking user, or the package's "dovecot" user
when the tests run as root (dovecot refuses to serve mail as root). `make test` installs the
package (Makefile target imap-deps)."""

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOVECOT = "/usr/sbin/dovecot"
USER = "inbox"
PASSWORD = "inbox-test-password"


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    folder: Path

    @property
    def url(self) -> str:
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/INBOX"

    def connect(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4(self.host, self.port, timeout=10)
        connection.login(self.user, self.password)
        return connection

    def deliver(self, raw: bytes) -> None:
        """Puts a letter into INBOX by IMAP APPEND, as a delivery agent would, unseen."""
        connection = self.connect()
        try:
            # typeshed types APPEND's flags and date as str and its answer as str; they may be
            # None, and the answer is (status, data) like every command's.
            answer: Any = connection.append("INBOX", None, None, raw)  # type: ignore[arg-type]
            assert answer[0] == "OK", answer
        finally:
            connection.logout()

    def unseen(self) -> int:
        connection = self.connect()
        try:
            connection.select("INBOX")
            _, found = connection.uid("SEARCH", "UNSEEN")
            return len(found[0].split()) if found and found[0] else 0
        finally:
            connection.logout()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, port: int, user: pwd.struct_passwd, group: str) -> str:
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{folder}/mail/%u
first_valid_uid = {user.pw_uid}
first_valid_gid = {user.pw_gid}
default_login_user = {user.pw_name}
default_internal_user = {user.pw_name}
default_internal_group = {group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={user.pw_uid} gid={user.pw_gid} home={folder}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
                if connection.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dovecot did not start listening within 15 s")


@contextmanager
def dovecot_running() -> Iterator[Dovecot]:
    if not os.access(DOVECOT, os.X_OK):
        raise RuntimeError(f"{DOVECOT} is missing: run `make imap-deps` (Debian's dovecot-imapd)")
    runner = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    group = grp.getgrgid(runner.pw_gid).gr_name
    folder = Path(tempfile.mkdtemp(prefix="inbox-dovecot-"))
    for name in ("run", "state", "mail", "home"):
        (folder / name).mkdir()
    (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    # The folder is ours; dovecot's processes run as `runner`, so it must be theirs.
    folder.chmod(0o700)
    for path in (folder, *folder.rglob("*")):
        os.chown(path, runner.pw_uid, runner.pw_gid)
    port = _free_port()
    (folder / "dovecot.conf").write_text(_config(folder, port, runner, group))
    os.chown(folder / "dovecot.conf", runner.pw_uid, runner.pw_gid)
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        [DOVECOT, "-F", "-c", str(folder / "dovecot.conf")],
        user=runner.pw_uid if os.geteuid() == 0 else None,
        group=runner.pw_gid if os.geteuid() == 0 else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, process, folder / "dovecot.log")
        yield Dovecot(host="127.0.0.1", port=port, user=USER, password=PASSWORD, folder=folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)
