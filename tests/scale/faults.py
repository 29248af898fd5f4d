"""The faults of `make load` (tests/scale/load.py): while locust's visitors browse, a newsletter
campaign goes out through the task workers; the worker sending one of its batches is SIGKILLed
(with its work horse) mid-batch, later an app server (the whole gunicorn). The stack starts both
again, as systemd would. Afterwards: did every reader get the newsletter exactly once, did every
job finish, and did only requests in flight at the kill fail?

Run in the load test's process, beside locust; it reads Redis (RQ's workers and jobs) directly
and the database through `manage.py shell` in the stack's environment."""

import json
import mailbox
import os
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from typing import TYPE_CHECKING, Any

from redis import Redis
from rq import Worker
from rq.job import Job

from backgroundmusic.core.tests.conftest import process_tree_kill
from tests.scale.names import CAMPAIGN_SUBJECT, reader_username

if TYPE_CHECKING:
    from tests.scale.stack import Stack

BATCH_TASK = "backgroundmusic.mailing.tasks.send_campaign_batch"
# Failed requests ending this soon after a kill were in flight on the killed process (or met
# it before nginx saw its port closed).
IN_FLIGHT_SECONDS = 2.0
# How long after the users the campaign and the queue may take to settle: the killed batch's
# job runs again after TASKS_WORKER_LOST_AFTER (30 s in the stack), its unsent messages after
# MAILING_CLAIM_SECONDS (120 s) and the every-minute job.
SETTLE_SECONDS = 420


def django(stack: "Stack", code: str) -> Any:
    """What `code` (run by `manage.py shell` in the stack's environment) prints last, as JSON."""
    from tests.scale.stack import BASE_DIR, PYTHON

    ran = subprocess.run(  # noqa: S603 (our own fixed command line)
        [PYTHON, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=stack.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if ran.returncode != 0:
        raise RuntimeError(f"manage.py shell failed: {ran.stderr[-3000:]}")
    return json.loads(ran.stdout.strip().splitlines()[-1])


@dataclass
class Faults:
    stack: "Stack"
    readers: int
    campaign_at: float  # seconds into the load
    app_server_at: float
    events: list[str] = field(default_factory=list)
    kill_times: list[float] = field(default_factory=list)
    campaign_id: int | None = None
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _note(self, line: str) -> None:
        self.events.append(f"{time.strftime('%H:%M:%S')} {line}")
        self.stack.say(line)

    def _run(self) -> None:
        began = time.monotonic()
        time.sleep(self.campaign_at)
        self.campaign_id = django(
            self.stack,
            "from tests.scale.seed import campaign_send_now; print(campaign_send_now())",
        )
        self._note(f"campaign {self.campaign_id} scheduled for {self.readers} readers")
        self._worker_kill()
        time.sleep(max(0.0, self.app_server_at - (time.monotonic() - began)))
        self._app_server_kill()

    def _worker_kill(self) -> None:
        """SIGKILL the worker whose work horse is sending a batch, once one is."""
        from tests.scale.stack import REDIS_URL

        redis = Redis.from_url(REDIS_URL)
        workers = {
            child.process.pid: child
            for child in self.stack.children
            if child.name.startswith("worker-") and child.process is not None
        }
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            for worker in Worker.all(connection=redis):
                job_id = worker.get_current_job_id()
                if job_id is None or worker.pid not in workers:
                    continue
                job = Job.fetch(job_id, connection=redis)
                if job.func_name != BATCH_TASK:
                    continue
                time.sleep(0.3)  # into the batch: some of its messages sent, some not
                process_tree_kill(worker.pid)
                self.kill_times.append(time.time())
                left = self._messages()
                self._note(
                    f"killed {workers[worker.pid].name} (SIGKILL) while it sent a batch; then "
                    f"{left['sent']} sent, {left['claimed']} claimed and not sent (the killed "
                    f"batch's and any other running), {left['waiting']} waiting"
                )
                return
            time.sleep(0.05)
        self._note("no worker was sending a batch within 180 s: none killed")

    def _app_server_kill(self) -> None:
        victim = next(child for child in self.stack.children if child.name == "app-1")
        assert victim.process is not None
        os.killpg(victim.process.pid, signal.SIGKILL)
        self.kill_times.append(time.time())
        self._note("killed app-1 (SIGKILL to its gunicorn)")

    def report(self, failures: list[tuple[float, str, str]]) -> list[str]:
        """The outcome lines: requests, jobs, messages."""

        def after_kill(ended: float) -> float | None:
            since = [ended - killed for killed in self.kill_times if ended >= killed]
            return min(since) if since else None

        in_flight = []
        others = []
        for ended, name, error in failures:
            since = after_kill(ended)
            if since is not None and since <= IN_FLIGHT_SECONDS:
                in_flight.append(name)
            else:
                when = "before any kill" if since is None else f"{since:.1f} s after a kill"
                others.append(f"{name} ({error}; {when})")
        named = f" {dict(Counter(in_flight))}" if in_flight else ""
        lines = [
            *(f"fault: {event}" for event in self.events),
            f"failed requests: {len(failures)}, of which within {IN_FLIGHT_SECONDS:.0f} s of a "
            f"kill {len(in_flight)}{named}, others {len(others)}",
            *(f"  other failure: {other}" for other in others),
        ]
        if self.campaign_id is None:
            return [*lines, "campaign: never scheduled"]
        state = self._settled()
        ids = self._received()
        received = Counter({address: len(found) for address, found in ids.items()})
        expected = {f"{reader_username(n)}@example.com" for n in range(1, self.readers + 1)}
        twice = sorted(address for address, count in received.items() if count > 1)
        # A copy with its first's Message-ID is the same message to the mailbox.
        distinct = sorted(address for address in twice if len(set(ids[address])) > 1)
        missing = sorted(expected - set(received))
        lines += [
            f"campaign: {state['campaign']}, messages {state['messages']} (settled "
            f"{state['settled_after']} s after the users)",
            f"newsletter at the SMTP server: {sum(received.values())} messages to "
            f"{len(received)} of {len(expected)} readers; twice: {len(twice)} {twice[:5]}, of "
            f"which as two different messages (Message-IDs): {len(distinct)} {distinct[:5]}; "
            f"missing: {len(missing)} {missing[:5]}",
            f"jobs: queued {state['queued']}, running {state['running']}, failed "
            f"{state['failed']}, in the outbox {state['outbox']}",
        ]
        return lines

    def _messages(self) -> dict[str, int]:
        return django(  # type: ignore[no-any-return]
            self.stack,
            f"""
import json
from backgroundmusic.mailing.models import CampaignMessage
rows = CampaignMessage.objects.filter(campaign_id={self.campaign_id})
print(json.dumps({{
    "sent": rows.filter(status="sent").count(),
    "claimed": rows.filter(status="queued", claimed_at__isnull=False).count(),
    "waiting": rows.filter(status="queued", claimed_at__isnull=True).count(),
}}))
""",
        )

    def _state(self) -> dict[str, Any]:
        return django(  # type: ignore[no-any-return]
            self.stack,
            f"""
import json, django_rq
from django.db.models import Count
from rq.registry import FailedJobRegistry, StartedJobRegistry
from backgroundmusic.core.models import OutboxJob
from backgroundmusic.mailing.models import Campaign, CampaignMessage
queue = django_rq.get_queue("default")
campaign = Campaign.objects.get(pk={self.campaign_id})
messages = dict(
    CampaignMessage.objects.filter(campaign=campaign).values_list("status").annotate(Count("id"))
)
print(json.dumps({{
    "campaign": campaign.status,
    "messages": messages,
    "queued": queue.count,
    "running": len(StartedJobRegistry(queue=queue)),
    "failed": len(FailedJobRegistry(queue=queue)),
    "outbox": OutboxJob.objects.count(),
}}))
""",
        )

    def _settled(self) -> dict[str, Any]:
        began = time.monotonic()
        while True:
            state = self._state()
            idle = not (state["queued"] or state["running"] or state["outbox"])
            if (state["campaign"] == "sent" and idle) or time.monotonic() - began > SETTLE_SECONDS:
                state["settled_after"] = round(time.monotonic() - began)
                return state
            time.sleep(5)

    def _received(self) -> dict[str, list[str]]:
        """The Message-IDs of the newsletter messages at the SMTP server, per recipient."""
        received: dict[str, list[str]] = defaultdict(list)
        for message in mailbox.Maildir(self.stack.maildir, create=False):
            if str(make_header(decode_header(message["Subject"] or ""))) == CAMPAIGN_SUBJECT:
                received[str(message["To"]).strip().lower()].append(str(message["Message-ID"]))
        return received
