"""The audience of a newsletter is computed when it is sent: exactly the people whose consent
allows it now, with an active account and a verified, unsuppressed address."""

import pytest

from backgroundmusic.mailing.selectors import NewsletterRecipient, newsletter_recipients
from backgroundmusic.mailing.tests.scene import audience
from backgroundmusic.privacy.consents import consent_allows, subject_ids_allowed
from backgroundmusic.privacy.kernel.pseudonyms import address_digest, normalized_address
from backgroundmusic.privacy.models import ConsentPurpose

pytestmark = pytest.mark.django_db


def test_the_audience_is_exactly_the_consenting_set_each_in_their_language():
    scene = audience()
    assert newsletter_recipients() == {
        scene.anna.pk: NewsletterRecipient(scene.anna.pk, "anna@example.com", "en"),
        scene.boris.pk: NewsletterRecipient(scene.boris.pk, "boris@example.com", "ru"),
    }


def test_asked_about_some_people_it_answers_for_them_only():
    scene = audience()
    asked = [scene.boris.pk, scene.restricted.pk, scene.suppressed.pk]
    assert list(newsletter_recipients(subject_ids=asked)) == [scene.boris.pk]
    assert newsletter_recipients(subject_ids=[]) == {}


def test_the_bulk_consent_answer_agrees_with_consent_allows_for_everyone():
    scene = audience()
    everyone = [scene.anna, scene.boris, *scene.excluded.values()]
    one_by_one = {
        user.pk
        for user in everyone
        if consent_allows(subject=user, purpose=ConsentPurpose.NEWSLETTER)
    }
    ids = [user.pk for user in everyone]
    assert subject_ids_allowed(purpose=ConsentPurpose.NEWSLETTER, subject_ids=ids) == one_by_one
    assert subject_ids_allowed(purpose=ConsentPurpose.NEWSLETTER) == one_by_one
    # Consent is not what keeps these three out: the address and the account do.
    assert one_by_one == {
        scene.anna.pk,
        scene.boris.pk,
        scene.unverified.pk,
        scene.suppressed.pk,
        scene.inactive.pk,
    }


def test_a_suppressed_address_matches_however_it_is_written():
    assert normalized_address(" Anna@EXAMPLE.com ") == "anna@example.com"
    assert normalized_address("anna@пример.рф") == "anna@xn--e1afmkfd.xn--p1ai"
    assert address_digest(address="ANNA@example.com") == address_digest(address="anna@example.com")
    assert len(address_digest(address="anna@example.com")) == 64
