"""`{% track_licences track %}`: on a track's page, the plans on sale that license it and the
licences of the signed-in person that already cover it, so the catalogue's page shows them
without the catalogue asking licensing."""

from typing import Any

from django import template
from django.utils.translation import get_language

from backgroundmusic.core import clock
from backgroundmusic.licensing import editions, entitlements
from backgroundmusic.licensing.models import Scope, Use

register = template.Library()


@register.inclusion_tag("licensing/_track_licences.html", takes_context=True)
def track_licences(context: template.Context, track: Any) -> dict[str, Any]:
    user = context["request"].user
    russian = (get_language() or "en").startswith("ru")
    uses = dict(Use.choices)
    plans = [
        {
            "code": edition.plan.code,
            "title": edition.title_ru if russian else edition.title_en,
            "one_track": edition.scope == Scope.TRACK,
            "uses": ", ".join(str(uses.get(use, use)) for use in edition.uses),
        }
        for edition in editions.current_plan_editions()
    ]
    held = (
        entitlements.agreements_covering_track(user_id=user.pk, track_id=track.pk, now=clock.now())
        if user.is_authenticated
        else []
    )
    return {"track": track, "plans": plans, "held": held}
