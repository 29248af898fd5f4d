from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "backgroundmusic.catalog"
    label = "catalog"
    verbose_name = "Catalogue"
