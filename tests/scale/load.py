"""`make load`: locust's visitors for LOAD_SECONDS (default 600) with LOAD_USERS (default 200)
through the scale stack's nginx, then LOAD_STREAMS (default 2000) listeners at once
(tests/scale/streams.py). Meanwhile (unless LOAD_FAULTS=0) a newsletter goes to LOAD_READERS
(default 3000) readers, the worker sending one of its batches is killed, later an app server
(tests/scale/faults.py). Prints a summary and writes it to var/scale/load-<time>.txt; the
issue's goals are printed beside the numbers, and the exit status is 0 whether or not they are
met (it is a measurement), 1 only when a phase could not run."""

import json
import os
import statistics
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from tests.scale.faults import Faults, django

if TYPE_CHECKING:
    from tests.scale.stack import Stack

BASE_DIR = Path(__file__).resolve().parents[2]
PAGE_P99_GOAL_MS = 300
BEACON_P99_GOAL_MS = 50
# The goal of each kind of request that has one: the visitors record those slower than it.
GOAL_MS = {"page": PAGE_P99_GOAL_MS, "beacon": BEACON_P99_GOAL_MS}
# A request slower than its goal this soon after a kill is counted as the kill's.
AFTER_KILL_SECONDS = 30


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _cpu_times() -> list[int]:
    """The machine's CPU time so far by kind (/proc/stat: user, nice, system, idle, iowait, irq,
    softirq, steal), in clock ticks."""
    with open("/proc/stat") as stat:
        return [int(ticks) for ticks in stat.readline().split()[1:9]]


def cpu_line(before: list[int], after: list[int]) -> str:
    """How busy the machine was between two readings, and how much of its time the host gave to
    others (steal): a p99 over its goal on a machine whose host was busy is not the code's."""
    spent = [end - start for start, end in zip(before, after, strict=True)]
    total = sum(spent) or 1
    idle = spent[3] + spent[4]
    steal = spent[7]
    return (
        f"CPU during the users: busy {100 * (total - idle - steal) / total:.0f} %, "
        f"stolen by the host {100 * steal / total:.1f} %"
    )


def slow_lines(slow: list[list], started: float, kill_times: list[float]) -> list[str]:
    """Where the pages and beacons slower than their goal fall (`slow`: when each ended, its
    kind, its name): by minute of the run, soon after a kill, by name; a p99 over its goal is
    told from a machine busy all along or a restart."""
    lines = []
    for kind, goal in GOAL_MS.items():
        found = [(ended, name) for ended, slow_kind, name in slow if slow_kind == kind]
        if not found:
            continue
        minutes = Counter(int((ended - started) // 60) for ended, _name in found)
        after_kill = sum(
            1
            for ended, _name in found
            if any(0 <= ended - killed <= AFTER_KILL_SECONDS for killed in kill_times)
        )
        names = Counter(name for _ended, name in found).most_common(4)
        lines.append(
            f"{kind}s over {goal} ms: {len(found)}; by minute of the run "
            f"{' '.join(f'{minute}:{count}' for minute, count in sorted(minutes.items()))}; "
            f"within {AFTER_KILL_SECONDS} s after a kill {after_kill}; by name "
            f"{', '.join(f'{name} {count}' for name, count in names)}"
        )
    return lines


def metrics_summary(stack: "Stack") -> list[str]:
    """What one app server's /metrics says at the end (scraped directly, as Prometheus would on
    the private network): every process of the machine adds into PROMETHEUS_MULTIPROC_DIR, so
    one scrape counts both app servers and the workers."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.app_ports[0]}/metrics",
        headers={"Authorization": f"Bearer {stack.metrics_token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            text = answer.read().decode()
    except OSError as error:
        return [f"metrics: scrape failed ({error})"]
    requests: dict[str, float] = {}
    queues: list[str] = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "backgroundmusic_http_request_duration_seconds_count":
                status = sample.labels["status"]
                requests[status] = requests.get(status, 0) + sample.value
            elif sample.name == "backgroundmusic_task_queue_depth":
                queues.append(f"{sample.labels['queue']} {sample.value:.0f}")
    counted = ", ".join(f"{status} {count:.0f}" for status, count in sorted(requests.items()))
    return [
        f"metrics (app-1 /metrics): requests by status {counted or 'none'}; "
        f"task queue depth {', '.join(queues) or 'none'}"
    ]


def load_run(stack: "Stack") -> int:
    from tests.scale.stack import PYTHON

    users = int(os.environ.get("LOAD_USERS", "200"))
    seconds = int(os.environ.get("LOAD_SECONDS", "600"))
    streams = int(os.environ.get("LOAD_STREAMS", "2000"))
    readers = int(os.environ.get("LOAD_READERS", "3000"))
    faults = None
    if os.environ.get("LOAD_FAULTS", "1") != "0":
        stack.say(f"{readers} newsletter readers")
        django(stack, f"from tests.scale.seed import readers_create as r; r({readers}); print(0)")
        faults = Faults(
            stack, readers=readers, campaign_at=seconds * 0.25, app_server_at=seconds * 0.6
        )
    # Sign-ins spread over a minute: allauth allows 30 a minute from one address, and every
    # visitor here comes from 127.0.0.1.
    spawn_rate = max(1.0, users / 60)
    result_file = stack.run_dir / "locust.json"
    streams_file = stack.run_dir / "streams.json"
    lines = [
        f"make load at {time.strftime('%Y-%m-%d %H:%M:%S')}: {users} users for {seconds} s "
        f"(spawned at {spawn_rate:.1f}/s), then {streams} streams",
        f"load average before: {_load_average()}",
    ]
    stack.say(lines[0])
    started = time.time()
    cpu_before = _cpu_times()
    if faults is not None:
        faults.start()
    with (stack.logs / "locust.log").open("wb") as log:
        locust = subprocess.run(  # noqa: S603 (our own fixed command line)
            [
                PYTHON,
                "-m",
                "locust",
                "-f",
                "tests/scale/locustfile.py",
                "--headless",
                "--host",
                stack.base_url,
                "--users",
                str(users),
                "--spawn-rate",
                f"{spawn_rate:.2f}",
                "--run-time",
                f"{seconds}s",
                "--stop-timeout",
                "15",
                "--only-summary",
            ],
            cwd=BASE_DIR,
            env={**os.environ, "LOAD_RESULT": str(result_file)},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    lines += [
        f"load average after the users: {_load_average()}",
        cpu_line(cpu_before, _cpu_times()),
    ]
    if not result_file.exists():
        stack.say(f"locust wrote no result (exit {locust.returncode}; logs/locust.log)")
        return 1
    recorded = json.loads(result_file.read_text())
    if faults is not None:
        faults.join()
    times: dict[str, list[float]] = recorded["times_ms"]
    pages = times.get("page", [])
    beacons = times.get("beacon", [])
    errors = sum(recorded["errors"].values())
    total = sum(len(values) for values in times.values())
    lines += [
        f"requests: {total}, errors: {errors} {recorded['errors'] or ''}".rstrip(),
        f"pages: {len(pages)}, p50 {statistics.median(pages) if pages else 0:.0f} ms, "
        f"p99 {_percentile(pages, 0.99):.0f} ms (goal <= {PAGE_P99_GOAL_MS})",
        f"beacons: {len(beacons)}, p50 {statistics.median(beacons) if beacons else 0:.0f} ms, "
        f"p99 {_percentile(beacons, 0.99):.0f} ms (goal <= {BEACON_P99_GOAL_MS})",
        *(
            f"{kind}: {len(values)}, p50 {statistics.median(values):.0f} ms, "
            f"p99 {_percentile(values, 0.99):.0f} ms"
            for kind, values in sorted(times.items())
            if kind not in ("page", "beacon") and values
        ),
        *slow_lines(recorded["slow"], started, faults.kill_times if faults else []),
        *(
            faults.report([(at, name, error) for at, name, error in recorded["failures"]])
            if faults
            else []
        ),
    ]
    stack.say(f"{streams} streams")
    streaming = subprocess.run(  # noqa: S603 (our own fixed command line)
        [
            PYTHON,
            "-m",
            "tests.scale.streams",
            stack.base_url,
            "--clients",
            str(streams),
            "--out",
            str(streams_file),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if streaming.returncode != 0:
        stack.say(f"the streams phase failed: {streaming.stderr[-2000:]}")
        return 1
    report = json.loads(streams_file.read_text())["summary"]
    lines += [
        f"streams: {report['kept_up']} of {report['clients']} kept up at "
        f"{report['bitrate_kbps']} kbit/s, {report['stalled']} stalled, {report['failed']} "
        f"failed {report['errors'] or ''}".rstrip(),
        f"stream start (2 s buffered): p50 {report['start_p50_s']} s, "
        f"p99 {report['start_p99_s']} s; phase {report['seconds']} s",
        f"load average after the streams: {_load_average()}",
        *metrics_summary(stack),
    ]
    text = "\n".join(lines) + "\n"
    summary_file = BASE_DIR / "var" / "scale" / time.strftime("load-%Y%m%d-%H%M%S.txt")
    summary_file.write_text(text)
    print(text + f"(written to {summary_file})", flush=True)
    return 0
