from django.apps import AppConfig
from django.core import checks


def check_encryption_keys(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from django.core.exceptions import ImproperlyConfigured

    from apps.automations.crypto import check_keys

    try:
        check_keys()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="automations.E001")]
    return []


class AutomationsConfig(AppConfig):
    name = "apps.automations"
    label = "automations"

    def ready(self) -> None:
        from apps.audit.services import add_event_listener
        from apps.automations.events import on_audit_event

        add_event_listener(on_audit_event)
        checks.register(check_encryption_keys)
