"""Forms of the registry pages.

The edit forms only check that a value was given: the name rules live in
apps.core.validators and run inside the service each form feeds, so a page, the API and an
importer report a bad name with the same message.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from apps.registry.pagination import Key

SORT_FIELDS = {
    # sort name: (fields of the keyset, newest or largest first)
    "name": (("name", "id"), False),
    "updated": (("updated_at", "id"), True),
    "created": (("created_at", "id"), True),
}
SORT_CHOICES = [("name", "Name"), ("updated", "Last updated"), ("created", "Created")]


class AliasForm(forms.Form):
    name = forms.CharField(
        label="Alias",
        strip=False,
        error_messages={"required": "Enter an alias, for example production."},
    )


class TagForm(forms.Form):
    name = forms.CharField(
        label="Tag",
        strip=False,
        error_messages={"required": "Enter a tag, for example fraud or nightly-build."},
    )


class DescriptionForm(forms.Form):
    text = forms.CharField(
        label="Description (Markdown)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class RemoveAliasForm(AliasForm):
    """Removal of an alias from one version: the alias must still point at that version.

    An alias may have moved since the page was rendered; removing it from wherever it is
    now would surprise the person who clicked it on this version.
    """

    def __init__(self, *args, link, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.link = link

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not self.link.aliases.filter(name__iexact=name).exists():
            raise ValidationError(
                f"The alias {name!r} is not on v{self.link.index} any more; reload the page "
                f"to see where it points now."
            )
        return name


def _parse_cursor_value(sort: str, text: str):
    if SORT_FIELDS[sort][0][0] == "name":
        return text
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"The page position {text!r} is not a date and time; open the first page again."
        ) from None


class CollectionFilterForm(forms.Form):
    """Filter, sort and page position of a registry's collection list (a GET form)."""

    q = forms.CharField(label="Name contains", required=False, max_length=128)
    type = forms.CharField(label="Type", required=False, max_length=64)
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
        sort = self.cleaned_data.get("sort") or "name"
        return (_parse_cursor_value(sort, value), row_id)

    def clean(self):
        cleaned = super().clean()
        cleaned["after_key"] = self._key("after", "after_id")
        cleaned["before_key"] = self._key("before", "before_id")
        return cleaned

    def filters(self) -> dict:
        """The valid part of the input: a bad value is left out and reported on the form."""
        self.is_valid()
        return self.cleaned_data


class VersionPageForm(forms.Form):
    """Page position of a collection's version list: indices below `after` or above `before`."""

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


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=128)
