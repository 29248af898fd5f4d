from django.apps import AppConfig
from django.core import checks


class MediaConfig(AppConfig):
    name = "backgroundmusic.media"
    label = "media"
    verbose_name = "Audio"

    def ready(self) -> None:
        from backgroundmusic.core.metrics import register_scrape_collector
        from backgroundmusic.media import secure_links
        from backgroundmusic.media.metrics import ingest_metrics

        checks.register(secure_links.secure_link_deploy_check, deploy=True)
        register_scrape_collector("ingest", ingest_metrics)
