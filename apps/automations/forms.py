"""Forms of the automation and integration pages.

They only shape the input: names, URLs, patterns and templates are checked by the service
each form feeds, so the pages and the API report a bad value with the same message.
"""

from django import forms

from apps.automations import payloads
from apps.automations.models import EventType, ExecutionStatus, WebhookIntegration
from apps.registry.models import Collection, Registry
from apps.registry.pagination import Key


def variables_help() -> list[tuple[str, str]]:
    return list(payloads.VARIABLES.items())


class AutomationForm(forms.Form):
    name = forms.CharField(
        max_length=128, error_messages={"required": "Enter a name, for example notify-ci."}
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), strip=False
    )
    event_type = forms.ChoiceField(label="Event", choices=EventType.choices)
    collection = forms.ModelChoiceField(
        label="Scope",
        queryset=Collection.objects.none(),
        required=False,
        empty_label="All collections of the registry, present and future",
    )
    alias_pattern = forms.CharField(
        label="Alias pattern",
        required=False,
        max_length=200,
        strip=False,
        help_text="For the event “An alias is added”: a Python regular expression, matched "
        "when it is found anywhere in the alias name (use ^ and $ to match the whole name). "
        "Empty matches every alias.",
    )
    integration = forms.ModelChoiceField(
        queryset=WebhookIntegration.objects.none(),
        error_messages={
            "required": "Choose the integration to send to; a team admin adds integrations "
            "on the team's Integrations page."
        },
    )
    payload_template = forms.CharField(
        label="Payload template",
        strip=False,
        initial=payloads.DEFAULT_TEMPLATE,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
    )

    def __init__(self, *args, user, registry: Registry, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = (
            Collection.objects.visible_to(user).filter(registry=registry).order_by("name")
        )
        self.fields["integration"].queryset = (
            WebhookIntegration.objects.usable_by(user)
            .filter(team__organization_id=registry.organization_id)
            .select_related("team")
            .order_by("team__name", "name")
        )
        self.fields["integration"].label_from_instance = lambda i: f"{i.team.name} / {i.name}"


class IntegrationForm(forms.Form):
    name = forms.CharField(
        max_length=128, error_messages={"required": "Enter a name, for example ci-server."}
    )
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="An https:// URL. Its host must resolve to public addresses.",
        error_messages={"required": "Enter the URL that receives the POST requests."},
    )
    access_token = forms.CharField(
        label="Access token",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Sent as “Authorization: Bearer TOKEN”. Stored encrypted and never shown again.",
    )
    signing_secret = forms.CharField(
        label="Signing secret",
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Signs each body: the X-Registry-Signature header is the base64 "
        "HMAC-SHA256 of the body bytes with this secret. Stored encrypted and never shown "
        "again.",
    )


class IntegrationEditForm(IntegrationForm):
    """The integration form for a saved integration: an empty secret field keeps the secret."""

    remove_access_token = forms.BooleanField(label="Remove the access token", required=False)
    remove_signing_secret = forms.BooleanField(label="Remove the signing secret", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("access_token", "signing_secret"):
            self.fields[name].help_text = "Leave empty to keep the saved value."

    def secret_changes(self) -> dict[str, str]:
        """Service arguments for the secrets: a new value, '' to remove, absent to keep."""
        changes = {}
        for name in ("access_token", "signing_secret"):
            if self.cleaned_data[f"remove_{name}"]:
                changes[name] = ""
            elif self.cleaned_data[name]:
                changes[name] = self.cleaned_data[name]
        return changes


class HistoryFilterForm(forms.Form):
    automation = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *ExecutionStatus.choices]
    )
    after = forms.IntegerField(required=False, min_value=1)
    before = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, automations, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["automation"].choices = [("", "All automations")] + [
            (automation.pk, automation.name) for automation in automations
        ]

    def keys(self) -> tuple[Key | None, Key | None]:
        if not self.is_valid():
            return None, None
        after, before = self.cleaned_data["after"], self.cleaned_data["before"]
        return ((after,) if after else None), ((before,) if before else None)
