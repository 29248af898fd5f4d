"""The data map of the breach register (incidents/models.py) and its retention.

Five years after detection: GDPR art. 33(5) asks the controller to document every breach so the
authority can verify compliance, and 152-FZ art. 21 part 3.1 makes the notices evidence for
Roskomnadzor; neither names a period. Five years outlasts the three-year limitation period for a
person's claims (Civil Code art. 196) and the three years an inspection looks back, and matches
how long the accounting records are kept. Erasure keeps the register whole (the law asks for it)
with the person replaced by a pseudonym: a letter's recipient is emptied and the pseudonym written
when it was queued stays; an incident's list of account ids stays, and each id then leads to the
erased account, which holds only its pseudonym (as the audit trail's ids do).
"""

from datetime import datetime, timedelta

from django.utils.translation import gettext_lazy as _

from backgroundmusic.privacy.kernel.registry import (
    Category,
    Clock,
    Erasure,
    LegalBasis,
    PersonalData,
    Purpose,
    Retention,
    RetentionStart,
    Source,
    Subjects,
    data_map,
    declare,
)

INCIDENT_RECORDS = Retention(
    days=5 * 365,
    start=RetentionStart.COLLECTED,
    description=_("5 years after the incident was detected (the breach register)"),
)
RETENTION_RULE = "incident records"


def _record(*, erasure: Erasure, exportable: bool) -> PersonalData:
    return PersonalData(
        category=Category.UNIQUE_ID,
        purpose=Purpose.LEGAL_COMPLIANCE,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        retention=INCIDENT_RECORDS,
        erasure=erasure,
        exportable=exportable,
        source=Source.GENERATED,
    )


declare(
    "incidents.Incident",
    subject="",
    subjects=[Subjects.USERS],
    personal={"affected_subject_ids": _record(erasure=Erasure.KEEP_FOR_LAW, exportable=False)},
    not_personal=[
        "id",
        "summary",
        "description",
        "consequences",
        "measures",
        "detected_at",
        "occurred_from",
        "occurred_until",
        "affected_models",
        "affected_categories",
        "eu_residents",
        "estimated_people",
        "computed_categories",
        "affected_count",
        "unlinked_models",
        "computed_at",
        "opened_at",
    ],
    clock=Clock(rule=RETENTION_RULE),
    note="The account ids of the people a breach affected, computed from the data map; no "
    "relation leads from them to a person (they are a list), so a person's export does not show "
    "them: the person is told by the incident's letter, which their export lists. Kept for the "
    "law through erasure.",
)
declare(
    "incidents.Notice",
    subject="",
    not_personal=[
        "id",
        "incident",
        "kind",
        "subject_en",
        "subject_ru",
        "text_en",
        "text_ru",
        "drafted_at",
        "sent_at",
        "reference",
    ],
    note="The notices about an incident: its facts, counts and categories, the operator's "
    "contact; no person's data.",
)
declare(
    "incidents.IncidentLetter",
    subject="recipient",
    personal={
        "recipient": _record(erasure=Erasure.NULL, exportable=True),
        "recipient_pseudonym": _record(erasure=Erasure.KEEP_FOR_LAW, exportable=False),
    },
    not_personal=["id", "incident", "language", "status", "queued_at", "sent_at", "error"],
    clock=Clock(rule=RETENTION_RULE),
    note="That the person was sent the letter about an incident, in which language, and whether "
    "it left; no address is stored (it is read from the account when the letter is sent).",
)


def destroy_old_incidents(*, now: datetime) -> dict[str, int]:
    """Incidents detected more than five years ago, with their notices and letters; an incident
    stays whole while a legal hold keeps it or any of its letters."""
    from backgroundmusic.incidents.models import Incident
    from backgroundmusic.privacy.kernel.holds import unheld
    from backgroundmusic.privacy.rights.erasure import delete_rows

    cutoff = now - timedelta(days=INCIDENT_RECORDS.days)
    return delete_rows(unheld(Incident.objects.filter(detected_at__lt=cutoff)))


data_map.register_retention(
    RETENTION_RULE,
    destroy_old_incidents,
    models=["incidents.Incident", "incidents.IncidentLetter"],
)
