from django.apps import AppConfig


class MigrationConfig(AppConfig):
    name = "apps.migration"
    label = "migration"
    verbose_name = "Legacy registry migrations"

    def ready(self) -> None:
        from apps.audit.services import add_event_listener
        from apps.migration.notices import on_registry_renamed

        add_event_listener(on_registry_renamed)
