"""A job the fault tests control: it notes each attempt, waits at a gate the test opens, then
sends one e-mail. Workers import it by its path, as they import the project's tasks."""

import time
from pathlib import Path

from django.core.mail import send_mail
from django_tasks import task


@task()
def mail_when_let_through(*, folder: str, to: str) -> None:
    attempts = Path(folder)
    attempt = len(list(attempts.glob("attempt-*"))) + 1
    (attempts / f"attempt-{attempt}").touch()
    while not (attempts / "gate").exists():
        time.sleep(0.02)
    send_mail(f"attempt {attempt}", "The job ran.", None, [to])


@task()
def refuse(*, folder: str) -> None:
    attempts = Path(folder)
    (attempts / f"attempt-{len(list(attempts.glob('attempt-*'))) + 1}").touch()
    raise ValueError("refused")
