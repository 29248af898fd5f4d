"""A newsletter's audience scene: two people who consent (one reading English, one Russian) and
one person for each reason to get nothing."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backgroundmusic.accounts.models import User
from backgroundmusic.accounts.tests.factories import StaffFactory, UserFactory
from backgroundmusic.core import clock
from backgroundmusic.mailing import services
from backgroundmusic.mailing.models import Campaign, SuppressionReason
from backgroundmusic.privacy import consents
from backgroundmusic.privacy.models import (
    ConsentMethod,
    ConsentPurpose,
    DocumentKind,
    PolicyEdition,
)
from backgroundmusic.staffroles.roles import StaffRole

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEXT = services.CampaignText(
    subject_en="Spring releases",
    subject_ru="Весенние релизы",
    body_en="# New music\n\nTen **calm** tracks for [your videos](https://example.org/new).",
    body_ru="# Новая музыка\n\nДесять **спокойных** треков для [ваших видео](https://example.org/new).",
)


def person(username: str, *, language: str = "en", consent: bool = True, **kwargs: object) -> User:
    user = UserFactory.create(username=username, **kwargs)
    user.profile.language = language
    user.profile.save(update_fields=["language"])
    if consent:
        consents.consent_give(
            subject=user, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
        )
    return user


@dataclass
class Audience:
    anna: User
    boris: User
    restricted: User
    withdrawn: User
    suspended: User
    unverified: User
    suppressed: User
    inactive: User
    never: User

    @property
    def consenting(self) -> list[User]:
        return [self.anna, self.boris]

    @property
    def excluded(self) -> dict[str, User]:
        return {
            "restricted": self.restricted,
            "withdrawn": self.withdrawn,
            "suspended": self.suspended,
            "unverified": self.unverified,
            "suppressed": self.suppressed,
            "inactive": self.inactive,
            "never": self.never,
        }


def audience() -> Audience:
    with clock.frozen_at(T0):
        suspended = person("suspended")
    # A new edition changes the newsletter materially: consents given before it pause.
    edition = PolicyEdition.objects.create(
        kind=DocumentKind.PRIVACY_POLICY,
        version="2",
        title_en="Privacy policy",
        title_ru="Политика конфиденциальности",
        body_en="text",
        body_ru="текст",
        material_purposes=["newsletter"],
        content_hash="2" * 64,
        effective_at=T0 + timedelta(hours=1),
        published_at=T0 + timedelta(hours=1),
    )
    with clock.frozen_at(T0 + timedelta(hours=1)):
        consents.consents_suspend_for_edition(edition=edition)
    with clock.frozen_at(T0 + timedelta(hours=2)):
        anna = person("anna")
        boris = person("boris", language="ru")
        restricted = person("restricted")
        consents.restriction_start(subject=restricted, method=ConsentMethod.FORM)
        withdrawn = person("withdrawn")
        consents.consent_withdraw(
            subject=withdrawn, purpose=ConsentPurpose.NEWSLETTER, method=ConsentMethod.FORM
        )
        unverified = person("unverified", email_verified=False)
        suppressed = person("suppressed")
        services.suppression_record(
            address=" Suppressed@Example.com", reason=SuppressionReason.HARD_BOUNCE
        )
        inactive = person("inactive")
        inactive.is_active = False
        inactive.save(update_fields=["is_active"])
        never = person("never", consent=False)
    return Audience(
        anna=anna,
        boris=boris,
        restricted=restricted,
        withdrawn=withdrawn,
        suspended=suspended,
        unverified=unverified,
        suppressed=suppressed,
        inactive=inactive,
        never=never,
    )


def editor(username: str = "editor") -> User:
    return StaffFactory.create(role=StaffRole.NEWSLETTER_EDITOR, username=username)


def scheduled_campaign(*, actor: User, at: datetime = T0) -> Campaign:
    with clock.frozen_at(at):
        campaign = services.campaign_create(actor=actor, text=TEXT)
        return services.campaign_schedule(actor=actor, campaign=campaign)
