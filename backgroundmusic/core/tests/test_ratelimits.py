"""The counters behind the rate limits: the embedded cache counts atomically, and a cache that
cannot is refused by a system check."""

import threading

from backgroundmusic.core.cache import LockedFileBasedCache
from backgroundmusic.core.ratelimits import rate_limit_cache_problems

WORKERS = 8
INCREMENTS = 100


def test_the_locked_file_cache_loses_no_increment_when_counters_race(tmp_path):
    # Each thread has its own cache object, as each gunicorn worker has: the lock is a file lock.
    caches = [LockedFileBasedCache(str(tmp_path), {}) for _ in range(WORKERS)]
    start = threading.Barrier(WORKERS)

    def count(cache: LockedFileBasedCache) -> None:
        start.wait()
        for _ in range(INCREMENTS):
            if not cache.add("rl:counter", 1, 60):
                cache.incr("rl:counter")

    threads = [threading.Thread(target=count, args=(cache,)) for cache in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert caches[0].get("rl:counter") == WORKERS * INCREMENTS


def test_a_cache_that_cannot_count_atomically_fails_the_system_check():
    [error] = rate_limit_cache_problems("django.core.cache.backends.filebased.FileBasedCache")
    assert (error.id, error.level) == ("core.E001", 40)
    assert "FileBasedCache does not count atomically across processes" in error.msg


def test_the_embedded_and_the_scale_out_caches_pass_the_system_check():
    assert rate_limit_cache_problems("backgroundmusic.core.cache.LockedFileBasedCache") == []
    assert rate_limit_cache_problems("django_redis.cache.RedisCache") == []
