"""Selectors of policy editions: the edition in force, an edition by version, every published
edition, and the content hash that names exactly what an edition says.

Policies (publishing, acceptance) and the consent ledger (which stamps each consent with the
hash of the privacy policy in force) both read editions here, so neither imports the other for
them.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

from django.db.models import QuerySet

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


def edition_by_version(*, kind: DocumentKind | str, version: str) -> PolicyEdition | None:
    """A published edition by its version; None for an unknown or unpublished one."""
    return PolicyEdition.objects.filter(
        kind=kind, version=version, published_at__isnull=False
    ).first()


def editions_list(*, kind: DocumentKind | str) -> QuerySet[PolicyEdition]:
    """Every published edition of a document, newest effective date first (upcoming included)."""
    return PolicyEdition.objects.filter(kind=kind, published_at__isnull=False).order_by(
        "-effective_at", "-pk"
    )


def edition_content_hash(
    *,
    kind: str,
    version: str,
    title_en: str,
    title_ru: str,
    body_en: str,
    body_ru: str,
    change_summary_en: str,
    change_summary_ru: str,
    material_purposes: Sequence[str],
    effective_at: datetime,
) -> str:
    """sha256 over a canonical JSON (sorted keys, no whitespace, UTF-8) of the edition's content."""
    canonical = json.dumps(
        {
            "kind": str(kind),
            "version": version,
            "title_en": title_en,
            "title_ru": title_ru,
            "body_en": body_en,
            "body_ru": body_ru,
            "change_summary_en": change_summary_en,
            "change_summary_ru": change_summary_ru,
            "material_purposes": sorted(str(p) for p in material_purposes),
            "effective_at": effective_at.astimezone(UTC).isoformat(timespec="microseconds"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def edition_hash_matches(*, edition: PolicyEdition) -> bool:
    """Whether the stored row still says what was published (False: changed behind our back)."""
    return edition.content_hash == edition_content_hash(
        kind=edition.kind,
        version=edition.version,
        title_en=edition.title_en,
        title_ru=edition.title_ru,
        body_en=edition.body_en,
        body_ru=edition.body_ru,
        change_summary_en=edition.change_summary_en,
        change_summary_ru=edition.change_summary_ru,
        material_purposes=edition.material_purposes,
        effective_at=edition.effective_at,
    )
