from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "backgroundmusic.api"
    label = "api"
