from django.apps import AppConfig
from django.core import checks


class PrivacyConfig(AppConfig):
    name = "backgroundmusic.privacy"
    label = "privacy"

    def ready(self) -> None:
        from backgroundmusic.core.destinations import transfer_check_register
        from backgroundmusic.core.health import register_health_check
        from backgroundmusic.privacy import requests, transfers
        from backgroundmusic.privacy.kernel import keystore_checks, policy_rules, registry

        registry.autodiscover()
        checks.register(policy_rules.data_map_policy_check)
        # A declared destination abroad is refused without a transfer record in force.
        transfer_check_register(transfers.destination_transfer_check)
        checks.register(transfers.register_agrees_check, checks.Tags.database, deploy=True)
        checks.register(keystore_checks.key_store_deploy_check, deploy=True)
        checks.register(requests.service_start_deploy_check, deploy=True)
        register_health_check("key_store", keystore_checks.key_store_health)
