from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backgroundmusic.incidents"
    label = "incidents"
    verbose_name = "Incidents"
