from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "backgroundmusic.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from anymail.signals import inbound

        from backgroundmusic.inbox.webhooks import inbound_received

        inbound.connect(inbound_received, dispatch_uid="inbox.inbound_received")
