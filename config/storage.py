"""The options of S3-compatible storage, shared by settings.py and the storage tests."""

from typing import Any


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    addressing_style: str = "path",
) -> dict[str, Any]:
    """A STORAGES entry for django-storages' S3 backend (behind core/s3.py's guard of the
    declared destinations). Empty credentials come from boto3's
    usual chain (environment, instance role)."""
    from botocore.config import Config  # only when S3 is configured: botocore is slow to import

    return {
        "BACKEND": "backgroundmusic.core.s3.GuardedS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "default_acl": "private",
            "client_config": Config(
                s3={"addressing_style": addressing_style},
                signature_version="s3v4",
                # A storage that does not answer fails a request (and /healthz) in seconds.
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
            # Keys are content hashes: a second save under a taken key is a bug, not a version.
            "file_overwrite": False,
        },
    }
