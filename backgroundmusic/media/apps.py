from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "backgroundmusic.media"
    label = "media"
    verbose_name = "Audio"

    def ready(self) -> None:
        from backgroundmusic.core.metrics import register_scrape_collector
        from backgroundmusic.media.metrics import ingest_metrics

        register_scrape_collector("ingest", ingest_metrics)
