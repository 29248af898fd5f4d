"""Demo data of the privacy app for the embedded install (manage.py seed_demo): the project's own
policy texts (policy_texts/) published as editions, the demo user's sign-up under the earlier
edition, and two recipients for the sharing toggles."""

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import transaction

from backgroundmusic.core import clock
from backgroundmusic.privacy.editions import edition_by_version, editions_list
from backgroundmusic.privacy.models import DocumentKind, PolicyAcceptance, PolicyEdition, Recipient
from backgroundmusic.privacy.policies import (
    ACTION_FOR_KIND,
    SEEDED_ACTOR_ID,
    EditionTexts,
    _edition_create,
    acceptance_record,
    edition_texts_fill,
)

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

POLICY_TEXTS_DIR = Path(__file__).resolve().parent / "policy_texts"


@dataclass(frozen=True)
class EditionSource:
    kind: str
    version: str
    effective_at: datetime
    title_en: str
    title_ru: str
    change_summary_en: str
    change_summary_ru: str
    material_purposes: tuple[str, ...]
    body_en: str
    body_ru: str


def edition_sources() -> list[EditionSource]:
    """The editions in policy_texts/editions.toml, oldest first per document, bodies read from
    the Markdown files it names."""
    catalogue: dict[str, Any] = tomllib.loads(
        (POLICY_TEXTS_DIR / "editions.toml").read_text(encoding="utf-8")
    )
    sources = []
    for entry in catalogue["edition"]:
        effective_at = datetime.fromisoformat(entry["effective_at"])
        if effective_at.tzinfo is None:
            effective_at = effective_at.replace(tzinfo=UTC)
        sources.append(
            EditionSource(
                kind=entry["kind"],
                version=entry["version"],
                effective_at=effective_at,
                title_en=entry["title_en"],
                title_ru=entry["title_ru"],
                change_summary_en=entry.get("change_summary_en", ""),
                change_summary_ru=entry.get("change_summary_ru", ""),
                material_purposes=tuple(entry.get("material_purposes", ())),
                body_en=(POLICY_TEXTS_DIR / entry["body_en"]).read_text(encoding="utf-8"),
                body_ru=(POLICY_TEXTS_DIR / entry["body_ru"]).read_text(encoding="utf-8"),
            )
        )
    return sorted(sources, key=lambda source: (source.kind, source.effective_at))


@transaction.atomic
def demo_editions_publish() -> list[PolicyEdition]:
    """Publishes the project's own texts: the earlier and the current privacy policy and the
    current user agreement. Idempotent: an edition already published is left as it is. Editions
    whose effective date has passed are recorded as published on that date (seeded, actor
    SEEDED_ACTOR_ID), since the database did not exist then. The operator's placeholders are
    filled from the configuration (the demonstration's fictional details when embedded); the
    earlier editions keep the bracketed notes they were published with."""
    now = clock.now()
    editions = []
    for source in edition_sources():
        existing = edition_by_version(kind=source.kind, version=source.version)
        if existing is not None:
            editions.append(existing)
            continue
        # Not edition_publish: that records an edition as published now, by a staff member.
        texts = edition_texts_fill(
            EditionTexts(
                body_en=source.body_en,
                body_ru=source.body_ru,
                change_summary_en=source.change_summary_en,
                change_summary_ru=source.change_summary_ru,
            )
        )
        editions.append(
            _edition_create(
                actor_id=SEEDED_ACTOR_ID,
                kind=source.kind,
                version=source.version,
                title_en=source.title_en,
                title_ru=source.title_ru,
                body_en=texts.body_en,
                body_ru=texts.body_ru,
                change_summary_en=texts.change_summary_en,
                change_summary_ru=texts.change_summary_ru,
                effective_at=source.effective_at,
                material_purposes=source.material_purposes,
                published_at=min(now, source.effective_at),
            )
        )
    return editions


@transaction.atomic
def demo_signup_record(*, user: "AbstractBaseUser") -> list[PolicyAcceptance]:
    """The demo user "signed up" under the earliest privacy policy and the user agreement in
    force, so the notice of the newer privacy policy shows at their first sign-in."""
    recorded = []
    for kind in (DocumentKind.TERMS_OF_USE, DocumentKind.PRIVACY_POLICY):
        edition = editions_list(kind=kind).filter(effective_at__lte=clock.now()).last()
        if (
            edition is not None
            and not PolicyAcceptance.objects.filter(user=user.pk, edition=edition).exists()
        ):
            recorded.append(
                acceptance_record(
                    user=user,
                    edition=edition,
                    action=ACTION_FOR_KIND[kind],
                    request_ip_truncated="",
                    user_agent_family="",
                )
            )
    return recorded


def demo_recipients_create() -> list[Recipient]:
    """Two recipients for the demo: the card payment provider, a contract recipient (no toggle),
    and a consent one."""
    demo = [
        (
            "YooKassa (YooMoney)",
            {
                "country": "RU",
                "purpose_en": "Takes card payments for licences: it receives the amount, the "
                "currency and the order's number, and the buyer types the card details on its "
                "page.",
                "purpose_ru": "Принимает оплату лицензий картой: получает сумму, валюту и номер "
                "заказа, а данные карты покупатель вводит на её странице.",
                "categories": ["user.behavior.purchase_history"],
                "shared_with_consent": False,
            },
        ),
        (
            "Demo Partner Label",
            {
                "country": "DE",
                "purpose_en": "A record label we work with: sends you news about its releases "
                "that suit the music you license.",
                "purpose_ru": "Лейбл-партнёр: присылает новости о своих релизах, подходящих к "
                "музыке, которую вы лицензируете.",
                "categories": ["user.name", "user.contact.email"],
                "shared_with_consent": True,
            },
        ),
    ]
    with transaction.atomic():
        return [
            Recipient.objects.update_or_create(name=name, defaults=defaults)[0]
            for name, defaults in demo
        ]
