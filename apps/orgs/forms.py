from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from apps.orgs.timezones import time_zone_choices


class TimeZoneSelect(forms.Select):
    """A select of the ~520 IANA zones, written in Python.

    Django's Select renders one template per option, which makes this one select cost more
    than the rest of a page.
    """

    def render(self, name, value, attrs=None, renderer=None) -> str:
        selected = "" if value is None else str(value)
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (choice, " selected" if str(choice) == selected else "", label)
                for choice, label in self.choices
            ),
        )
        final_attrs = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final_attrs), options)


def time_zone_field(**kwargs) -> forms.ChoiceField:
    return forms.ChoiceField(choices=time_zone_choices, widget=TimeZoneSelect, **kwargs)


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        required=False,
        label="Time zone",
        help_text="Times on every page are shown in this zone, and entered in it.",
        widget=TimeZoneSelect,
    )

    def __init__(self, *args, fallback: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            ("", f"Organization default ({fallback})"),
            *time_zone_choices(),
        ]


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Key name",
        max_length=100,
        help_text="Where the key is used, such as CI or laptop. Up to 100 characters.",
    )
