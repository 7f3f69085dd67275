"""Forms of the legacy Model Registry pages.

The edit forms only check that a value was given: the name rules live in
apps.core.validators and run inside the service each form feeds, so a page, the API and the
importer report a bad name with the same message.
"""

import re
from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from apps.registry.pagination import Key
from apps.registry.paths import PathError, SourcePath, parse_source_path

# Sort name: (fields of the keyset, newest or largest first).
SORT_FIELDS = {
    "name": (("name", "id"), False),
    "updated": (("updated_at", "id"), True),
}
SORT_CHOICES = [("name", "Name"), ("updated", "Last updated")]

SOURCE_PATH_MAX = 500
# Messages show at most this many characters of a value that the person wrote.
ECHO_MAX = 100
# A value quoted in a message as Python's repr() quotes it, longer than ECHO_MAX.
_LONG_QUOTED = re.compile(rf"'([^'\n]{{{ECHO_MAX + 1},}})'|\"([^\"\n]{{{ECHO_MAX + 1},}})\"")


def shorten(value: str) -> str:
    """Cut a value for a message to ECHO_MAX characters, marking the cut with "…"."""
    return value if len(value) <= ECHO_MAX else value[:ECHO_MAX] + "…"


def _shorten_echoes(message: str, written: str) -> str:
    """Cut the values in `message` that are over ECHO_MAX characters and come from `written`."""

    def cut(match: re.Match) -> str:
        quote = match.group(0)[0]
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if value not in written:
            return match.group(0)
        return f"{quote}{shorten(value)}{quote}"

    return _LONG_QUOTED.sub(cut, message)


class ModelFilterForm(forms.Form):
    """Filter, sort and page position of a legacy registry's model list (a GET form)."""

    q = forms.CharField(label="Name contains", required=False, max_length=128)
    tag = forms.CharField(label="Tag", required=False, max_length=128)
    sort = forms.ChoiceField(label="Sort by", choices=SORT_CHOICES, required=False)
    after = forms.CharField(required=False, widget=forms.HiddenInput)
    after_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    before = forms.CharField(required=False, widget=forms.HiddenInput)
    before_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "name"

    def _key(self, value_field: str, id_field: str) -> Key | None:
        value = self.cleaned_data.get(value_field)
        row_id = self.cleaned_data.get(id_field)
        if not value or row_id is None:
            return None
        if self.cleaned_data.get("sort") != "updated":
            return (value, row_id)
        try:
            return (datetime.fromisoformat(value), row_id)
        except ValueError:
            raise ValidationError(
                f"The page position {value!r} is not a date and time; open the first page again."
            ) from None

    def clean(self):
        cleaned = super().clean()
        cleaned["after_key"] = self._key("after", "after_id")
        cleaned["before_key"] = self._key("before", "before_id")
        return cleaned


class VersionPageForm(forms.Form):
    """Page position of a model's version list: indices below `after` or above `before`."""

    after = forms.IntegerField(required=False, min_value=0)
    before = forms.IntegerField(required=False, min_value=0)

    def keys(self) -> tuple[Key | None, Key | None]:
        if not self.is_valid():
            return None, None
        after = self.cleaned_data.get("after")
        before = self.cleaned_data.get("before")
        return (
            (after,) if after is not None else None,
            (before,) if before is not None else None,
        )


class CreateModelForm(forms.Form):
    name = forms.CharField(
        label="Name",
        strip=False,
        max_length=200,
        error_messages={"required": "Enter a name for the registered model."},
    )
    description = forms.CharField(
        label="Description (Markdown)", required=False, strip=False, widget=forms.Textarea
    )


class NameForm(forms.Form):
    """An alias, a tag or a protected alias name, checked by the service it feeds."""

    name = forms.CharField(
        label="Name",
        strip=False,
        max_length=200,
        error_messages={"required": "Enter a name, for example production."},
    )


class DescriptionForm(forms.Form):
    text = forms.CharField(
        label="Description (Markdown)", required=False, strip=False, widget=forms.Textarea
    )


class ConfirmForm(forms.Form):
    """A button press without fields, such as unlinking a version."""


class LinkVersionForm(forms.Form):
    """A source version of the team to link, chosen by id or written as its source path."""

    version = forms.IntegerField(label="Source version", min_value=1, required=False)
    source_path = forms.CharField(
        label="Or its source path",
        required=False,
        max_length=SOURCE_PATH_MAX,
        strip=True,
        error_messages={
            "max_length": (
                "The source path is %(show_value)d characters long; the limit is "
                "%(limit_value)d. Write it as TEAM/PROJECT/ARTIFACT:vN."
            )
        },
    )
    aliases = forms.CharField(label="Aliases", required=False, max_length=1000)

    def source_path_text(self) -> str:
        """Return the source path as written, without surrounding spaces, cut for a message."""
        return shorten(str(self.data.get("source_path", "")).strip())

    def clean_source_path(self) -> SourcePath | None:
        text = self.cleaned_data.get("source_path") or ""
        if not text:
            return None
        try:
            return parse_source_path(text)
        except PathError as error:
            # The parser's message names the value already.
            raise ValidationError(_shorten_echoes(str(error), text)) from None

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        chosen = cleaned.get("version")
        path = cleaned.get("source_path")
        if chosen is None and path is None:
            raise ValidationError(
                "No source version was chosen; choose one in the list or write its source "
                "path, such as nlp-team/training/intent-classifier:v3."
            )
        if chosen is not None and path is not None:
            raise ValidationError(
                f"Both a version in the list and the source path '{self.source_path_text()}' were "
                "given; keep one of them."
            )
        return cleaned

    def alias_names(self) -> list[str]:
        """Split the aliases field at commas and spaces."""
        text = self.cleaned_data.get("aliases") or ""
        return [name for name in text.replace(",", " ").split() if name]
