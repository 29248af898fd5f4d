from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "backgroundmusic.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from backgroundmusic.analytics.buffer import buffer_health
        from backgroundmusic.core.health import register_health_check

        register_health_check("analytics", buffer_health)
