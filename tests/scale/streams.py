"""Many listeners at once through nginx (`make load`'s streams phase): the app only issues the
signed preview URLs (the catalogue page, once per PAGE_PER_CLIENTS listeners); each listener
then fetches its preview from nginx, which checks the secure link and fetches the bytes from the
storage, like a player, with asyncio on raw sockets so that thousands
fit in one process.

A listener starts playing once START_SECONDS of audio have arrived (at the preview's bitrate)
and from then on must always have received what it has played: falling behind is a stall. It
reads no further ahead than AHEAD_SECONDS, as a player's buffer does, so nginx and the storage
must keep every stream going at its bitrate, not send each whole file at once.
"""

import argparse
import asyncio
import html
import json
import random
import re
import resource
import statistics
import time
import urllib.request
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

# The preview's length (media/pipeline.py, PREVIEW_SECONDS): a listener's bitrate is the
# preview's size over it.
PREVIEW_SECONDS = 30.0
START_SECONDS = 2.0
AHEAD_SECONDS = 10.0
START_DEADLINE_SECONDS = 10.0
PAGE_PER_CLIENTS = 20
# A secure link (/audio/..., nginx and the storage only) or the app's /stream/<token>.
STREAM = re.compile(r'data-src="(/(?:audio|stream)/[^"]+)"')


@dataclass
class Listened:
    started: bool = False
    completed: bool = False
    stalled: bool = False
    error: str = ""
    start_seconds: float = 0.0  # from connecting to START_SECONDS of audio
    bitrate: float = 0.0  # bits per second the listener needed


def issued_urls(base_url: str, clients: int) -> list[str]:
    urls: list[str] = []
    for _ in range(max(1, clients // PAGE_PER_CLIENTS)):
        with urllib.request.urlopen(f"{base_url}/catalog/", timeout=30) as page:  # noqa: S310
            urls += [html.unescape(url) for url in STREAM.findall(page.read().decode())]
    if not urls:
        raise SystemExit("the catalogue issued no preview URL")
    return urls


async def listen(host: str, port: int, path: str) -> Listened:
    result = Listened()
    began = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), START_DEADLINE_SECONDS
        )
    except (OSError, TimeoutError) as error:
        result.error = f"connect: {error!r}"
        return result
    try:
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nRange: bytes=0-\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), START_DEADLINE_SECONDS)
        status = head.split(b" ", 2)[1]
        size_match = re.search(rb"(?i)content-range: bytes 0-\d+/(\d+)", head)
        if status != b"206" or size_match is None:
            result.error = f"answer {status.decode()}"
            return result
        size = int(size_match.group(1))
        rate = size / PREVIEW_SECONDS  # bytes per second
        result.bitrate = rate * 8
        received = 0
        playing_since: float | None = None
        while received < size:
            now = time.monotonic()
            played = 0.0 if playing_since is None else (now - playing_since) * rate
            if playing_since is not None and received < played:
                result.stalled = True
                return result
            ahead = received - played
            if playing_since is not None and ahead > AHEAD_SECONDS * rate:
                await asyncio.sleep((ahead - AHEAD_SECONDS * rate) / rate)
                continue
            # Wait for bytes no longer than until what is buffered has been played.
            patience = (
                START_DEADLINE_SECONDS - (now - began)
                if playing_since is None
                else max(0.001, ahead / rate)
            )
            try:
                chunk = await asyncio.wait_for(reader.read(64 * 1024), patience)
            except TimeoutError:
                result.stalled = result.started
                result.error = "" if result.started else "no start within the deadline"
                return result
            if not chunk:
                result.error = f"closed after {received} of {size} bytes"
                return result
            received += len(chunk)
            if playing_since is None and received >= START_SECONDS * rate:
                playing_since = time.monotonic()
                result.started = True
                result.start_seconds = playing_since - began
        result.completed = True
        return result
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
        result.error = repr(error)
        return result
    finally:
        writer.close()


async def listeners(base_url: str, clients: int, ramp_seconds: float) -> list[Listened]:
    address = urlsplit(base_url)
    urls = issued_urls(base_url, clients)

    async def one(number: int) -> Listened:
        await asyncio.sleep(ramp_seconds * number / clients)
        return await listen(
            str(address.hostname),
            int(address.port or 80),
            random.choice(urls),
        )

    return list(await asyncio.gather(*(one(n) for n in range(clients))))


def summary(results: list[Listened]) -> dict[str, object]:
    starts = sorted(r.start_seconds for r in results if r.started)
    errors: dict[str, int] = {}
    for result in results:
        if result.error:
            errors[result.error] = errors.get(result.error, 0) + 1
    return {
        "clients": len(results),
        "kept_up": sum(r.completed and not r.stalled for r in results),
        "stalled": sum(r.stalled for r in results),
        "failed": sum(bool(r.error) for r in results),
        "errors": errors,
        "bitrate_kbps": round(max((r.bitrate for r in results), default=0) / 1000, 1),
        "start_p50_s": round(statistics.median(starts), 2) if starts else None,
        "start_p99_s": round(starts[int(0.99 * (len(starts) - 1))], 2) if starts else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds to start them all")
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    began = time.monotonic()
    results = asyncio.run(listeners(arguments.base_url, arguments.clients, arguments.ramp))
    report = {**summary(results), "seconds": round(time.monotonic() - began, 1)}
    with open(arguments.out, "w") as out:
        json.dump({"summary": report, "listeners": [asdict(r) for r in results[:20]]}, out)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
