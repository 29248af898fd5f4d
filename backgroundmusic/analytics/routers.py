"""Keeps the analytics tables in their own database alias (settings.ANALYTICS_DB_ALIAS).

The alias is "default" unless ANALYTICS_DATABASE_URL is set, so one SQLite file or one PostgreSQL
database holds everything on a laptop, and a busy site moves the event stream elsewhere without
a code change. The identity mapping (analytics.AnalyticsIdentity) stays with the users it points
to: it is the one place an analytics pseudonym meets an account.
"""

from typing import Any

from django.conf import settings
from django.db.models import Model

# Models of the analytics app that live in the main database, beside the users and recipients.
MAIN_DATABASE_MODELS = frozenset({"analyticsidentity", "researchexport"})


def is_analytics_model(app_label: str, model_name: str | None) -> bool:
    return app_label == "analytics" and (model_name or "") not in MAIN_DATABASE_MODELS


class AnalyticsRouter:
    def _alias(self, model: type[Model]) -> str | None:
        if is_analytics_model(model._meta.app_label, model._meta.model_name):
            return str(settings.ANALYTICS_DB_ALIAS)
        return None

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return self._alias(model)

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return self._alias(model)

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        wanted = (
            settings.ANALYTICS_DB_ALIAS if is_analytics_model(app_label, model_name) else "default"
        )
        return db == wanted
