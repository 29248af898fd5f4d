"""Policy editions: publishing, the current edition, acceptance and acknowledgement."""

from backgroundmusic.core import clock
from backgroundmusic.privacy.models import DocumentKind, PolicyEdition


def current_edition(*, kind: DocumentKind) -> PolicyEdition | None:
    """The edition in force now: the latest published one whose effective date has come."""
    return (
        PolicyEdition.objects.filter(
            kind=kind, published_at__isnull=False, effective_at__lte=clock.now()
        )
        .order_by("-effective_at", "-pk")
        .first()
    )
