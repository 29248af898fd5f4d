"""S3-compatible storage behind the guard of declared destinations (decision 0031); imported
only when S3 is configured (config/storage.py): boto3 is slow to import."""

from storages.backends.s3 import S3Storage

from backgroundmusic.core.destinations import Purpose, url_destination_require


class GuardedS3Storage(S3Storage):
    """django-storages' S3 backend that asks core.destinations before each thread opens its
    connection to the endpoint (decision 0031): an endpoint not declared for storage is refused
    before any request is sent."""

    def _endpoint(self) -> str:
        return str(
            self.endpoint_url or f"https://s3.{self.region_name or 'us-east-1'}.amazonaws.com"
        )

    @property
    def connection(self):  # type: ignore[no-untyped-def]
        if getattr(self._connections, "connection", None) is None:
            url_destination_require(self._endpoint(), purpose=Purpose.STORAGE)
        return super().connection

    @property
    def unsigned_connection(self):  # type: ignore[no-untyped-def]
        if getattr(self._unsigned_connections, "connection", None) is None:
            url_destination_require(self._endpoint(), purpose=Purpose.STORAGE)
        return super().unsigned_connection
