from django.apps import AppConfig


class MailingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backgroundmusic.mailing"
    label = "mailing"
    verbose_name = "Mailing"

    def ready(self) -> None:
        from anymail.signals import tracking

        from backgroundmusic.mailing.webhooks import tracking_received

        tracking.connect(tracking_received, dispatch_uid="mailing.tracking_received")
