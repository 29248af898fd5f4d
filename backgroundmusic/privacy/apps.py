from django.apps import AppConfig
from django.core import checks


class PrivacyConfig(AppConfig):
    name = "backgroundmusic.privacy"
    label = "privacy"

    def ready(self) -> None:
        from backgroundmusic.privacy.kernel import policy_rules, registry

        registry.autodiscover()
        checks.register(policy_rules.data_map_policy_check)
