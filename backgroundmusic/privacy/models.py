from django.conf import settings
from django.db import models


class DataKey(models.Model):
    """A person's data key, wrapped by a master key. Deleting it makes their data unreadable."""

    subject = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_key"
    )
    master_key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)
    rewrapped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"data key #{self.pk}"
