"""The plan and licence-terms editions in force: the interface the plans area owns
(docs/architecture.md "Licensing"). Only the two selectors checkout needs are here; the plans
branch brings the module whole (hashing, publishing) and replaces this one at merge."""

from backgroundmusic.core import clock
from backgroundmusic.licensing.models import LicenceTermsEdition, PlanEdition


def current_plan_editions() -> list[PlanEdition]:
    """The plans offered now, each in its newest edition in effect, in the plans' order."""
    in_effect = (
        PlanEdition.objects.filter(plan__is_offered=True, effective_at__lte=clock.now())
        .select_related("plan")
        .order_by("plan__position", "plan__code", "-effective_at", "-pk")
    )
    newest: dict[int, PlanEdition] = {}
    for edition in in_effect:
        newest.setdefault(edition.plan_id, edition)
    return list(newest.values())


def current_terms_edition() -> LicenceTermsEdition | None:
    """The licence terms a buyer accepts now: the newest edition in effect."""
    return (
        LicenceTermsEdition.objects.filter(effective_at__lte=clock.now())
        .order_by("-effective_at", "-pk")
        .first()
    )
