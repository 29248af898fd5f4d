"""The embedded mode's cache: Django's file cache with counters that lose no increment."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache


class LockedFileBasedCache(FileBasedCache):
    """add() and incr() hold an exclusive lock on a file beside the entries.

    Django's file cache reads, adds one and writes back, so two processes counting at once
    (gunicorn's workers) would both write the same number and the rate limits
    (core/ratelimits.py) would let through more than they allow. The lock makes each a single
    step for every process on the machine; other operations stay as Django has them.
    """

    def __init__(self, dir: str, params: dict[str, Any]) -> None:
        super().__init__(dir, params)
        self.lock_path = Path(dir).absolute() / "counters.lock"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self.lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
            yield

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        with self._locked():
            return super().add(key, value, timeout, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        with self._locked():
            return super().incr(key, delta, version)
