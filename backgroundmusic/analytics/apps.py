from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "backgroundmusic.analytics"
    label = "analytics"
    verbose_name = "Analytics"
