from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "backgroundmusic.media"
    label = "media"
    verbose_name = "Audio"
