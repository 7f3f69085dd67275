from django.apps import AppConfig


class LegacyConfig(AppConfig):
    name = "apps.legacy"
    label = "legacy"
    verbose_name = "Legacy Model Registry"
