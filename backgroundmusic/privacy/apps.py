from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "backgroundmusic.privacy"
    label = "privacy"

    def ready(self) -> None:
        from backgroundmusic.privacy.kernel import registry

        registry.autodiscover()
