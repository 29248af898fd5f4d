from django.apps import AppConfig
from django.core import checks


class MediaConfig(AppConfig):
    name = "backgroundmusic.media"
    label = "media"
    verbose_name = "Audio"

    def ready(self) -> None:
        from backgroundmusic.media import secure_links

        checks.register(secure_links.secure_link_deploy_check, deploy=True)
