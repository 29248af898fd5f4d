from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "backgroundmusic.accounts"
    label = "accounts"
    verbose_name = "Accounts"
