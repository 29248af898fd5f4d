"""What Django's storage API lacks, on local disk and on S3-compatible storage (decision 0012):
ranged reads, the target nginx fetches a file from, and a health check.

django-storages' S3 file downloads the whole object on the first read. A stream of 64 KiB of a
10 MB rendition would then fetch 10 MB, so ranges from S3 go out as one ranged GET each.
"""

from pathlib import Path
from typing import IO
from urllib.parse import quote, urlsplit

from django.core.files.storage import default_storage

from backgroundmusic.core.destinations import DestinationRefused

# How long nginx may use the pre-signed URL it is handed: it fetches at once, so a minute is slack.
ACCEL_PRESIGNED_SECONDS = 60


def _s3_object(key: str):  # type: ignore[no-untyped-def]
    """The boto3 Object of `key` when the default storage is S3-compatible, else None."""
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    if not isinstance(default_storage, S3Storage):
        return None
    return default_storage.bucket.Object(default_storage._normalize_name(clean_name(key)))


def accel_redirect_target(prefix: str, key: str) -> str:
    """Where nginx fetches a stored file from, for X-Accel-Redirect under `prefix`.

    On local disk: `prefix` + the key, which nginx maps onto MEDIA_ROOT. On S3-compatible
    storage: `prefix` + the path and query of a short-lived pre-signed URL, which nginx proxies
    to the endpoint (deploy/nginx/protected-s3.conf); the bucket stays private.
    """
    base = prefix.rstrip("/")
    presigned = presigned_get_url(key, seconds=ACCEL_PRESIGNED_SECONDS)
    if presigned is None:
        return f"{base}/{quote(key)}"
    parts = urlsplit(presigned)
    return f"{base}{parts.path}?{parts.query}"


def presigned_get_url(key: str, *, seconds: int) -> str | None:
    """A GET of the stored file `key` pre-signed by the storage's client for `seconds` (no
    request is sent), or None when the default storage is not S3-compatible."""
    s3_object = _s3_object(key)
    if s3_object is None:
        return None
    return str(
        s3_object.meta.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": s3_object.bucket_name, "Key": s3_object.key},
            ExpiresIn=seconds,
        )
    )


def storage_folder_url(folder: str) -> str | None:
    """The URL, without a query, under which the S3-compatible storage serves the keys starting
    with `folder` (e.g. https://s3.example.com/bucket/renditions/), as its client addresses them
    (path or virtual-host style); None on local disk."""
    probe = presigned_get_url(folder + "probe", seconds=1)
    if probe is None:
        return None
    parts = urlsplit(probe)
    return f"{parts.scheme}://{parts.netloc}{parts.path.removesuffix('probe')}"


def storage_is_up() -> bool:
    """Files can be stored: the bucket answers (S3-compatible storage), or MEDIA_ROOT is, or can
    be made, a folder (local disk)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from storages.backends.s3 import S3Storage

    if isinstance(default_storage, S3Storage):
        try:
            default_storage.connection.meta.client.head_bucket(Bucket=default_storage.bucket_name)
        except (BotoCoreError, ClientError, DestinationRefused):
            return False
        return True
    try:
        Path(default_storage.path("")).mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return True


def stored_size(key: str) -> int | None:
    """The size in bytes of a stored file, or None when it is not in the storage."""
    from botocore.exceptions import ClientError

    try:
        return default_storage.size(key)
    except (OSError, ClientError):
        return None


class StoredSlice:
    """`length` bytes of a stored file from byte `first`, read in blocks.

    On local disk, `fileno` lets gunicorn sendfile() the slice: it starts at the descriptor's
    position and sends Content-Length bytes. Without `tell`/`seek`, FileResponse leaves
    Content-Length to the caller.
    """

    def __init__(self, key: str, first: int, length: int) -> None:
        """FileNotFoundError when the file is gone (it may go between two requests)."""
        from botocore.exceptions import ClientError

        self._left = length
        s3_object = _s3_object(key) if length > 0 else None
        if s3_object is not None:
            try:
                body = s3_object.get(Range=f"bytes={first}-{first + length - 1}")["Body"]
            except ClientError as error:
                raise FileNotFoundError(key) from error
            self._file: IO[bytes] = body
            self._fileno = None
        else:
            self._file = default_storage.open(key, "rb")
            self._file.seek(first)
            self._fileno = self._file.fileno

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(size)
        self._left -= len(data)
        return data

    def fileno(self) -> int:
        if self._fileno is None:
            raise OSError("not a file on disk")
        return self._fileno()

    def close(self) -> None:
        self._file.close()
