from django.apps import AppConfig


class LicensingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backgroundmusic.licensing"
    label = "licensing"
    verbose_name = "Licensing"
