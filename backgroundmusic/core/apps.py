from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "backgroundmusic.core"
    label = "core"
