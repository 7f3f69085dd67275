"""Forms of the registry pages.

The edit forms only check that a value was given: the name rules live in
apps.core.validators and run inside the service each form feeds, so a page, the API and an
importer report a bad name with the same message.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError

from apps.registry.models import Visibility
from apps.registry.pagination import Key
from apps.registry.roles import ROLE_CHOICES, Role

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


# Registry administration --------------------------------------------------------------------


def split_types(text: str) -> list[str]:
    """Split a comma-separated list of artifact types; the spaces around commas are dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


class RegistryCreateForm(forms.Form):
    """Form of the create-registry page; the registry accepts all types unless types are listed."""

    ALL_TYPES = "all"
    LISTED_TYPES = "listed"

    name = forms.CharField(
        label="Name", strip=False, error_messages={"required": "Enter a name for the registry."}
    )
    description = forms.CharField(
        label="Description (Markdown)", required=False, strip=False, widget=forms.Textarea
    )
    visibility = forms.ChoiceField(
        label="Visibility", choices=Visibility.choices, initial=Visibility.RESTRICTED
    )
    types_mode = forms.ChoiceField(
        label="Accepted artifact types",
        choices=[(ALL_TYPES, "All types"), (LISTED_TYPES, "Only these types")],
        initial=ALL_TYPES,
        error_messages={
            "required": "Choose “All types” or “Only these types” for the accepted types.",
            "invalid_choice": (
                "“%(value)s” is not a choice for the accepted types; choose “All types” or "
                "“Only these types”."
            ),
        },
    )
    accepted_types = forms.CharField(
        label="Types, separated by commas", required=False, strip=False
    )

    def clean(self):
        cleaned = super().clean()
        types = split_types(cleaned.get("accepted_types", ""))
        mode = cleaned.get("types_mode")
        if mode == self.LISTED_TYPES and not types:
            self.add_error(
                "accepted_types",
                "“Only these types” needs at least one type. Enter types separated by "
                "commas, such as model, dataset, or choose “All types”.",
            )
        elif mode == self.ALL_TYPES and types:
            # Ignoring the list would create a registry that accepts more than was typed.
            self.add_error(
                "accepted_types",
                f"“All types” is chosen, so the listed types ({', '.join(types)}) would be "
                "ignored. Choose “Only these types” to accept just those, or clear the list.",
            )
        cleaned["type_list"] = types if mode == self.LISTED_TYPES else None
        return cleaned


class RegistryDetailsForm(forms.Form):
    """Name and description; core registries post no name, because they cannot be renamed."""

    name = forms.CharField(label="Name", required=False, strip=False)
    description = forms.CharField(
        label="Description (Markdown)", required=False, strip=False, widget=forms.Textarea
    )


class AcceptedTypesForm(forms.Form):
    add_types = forms.CharField(label="Add types, separated by commas", required=False)
    accept_all = forms.BooleanField(label="Accept all types from now on", required=False)

    def clean(self):
        cleaned = super().clean()
        cleaned["new_types"] = split_types(cleaned.get("add_types", ""))
        if not cleaned["new_types"] and not cleaned.get("accept_all"):
            raise ValidationError("Enter one or more types to add, or choose to accept all types.")
        return cleaned


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(label="Visibility", choices=Visibility.choices)
    # Set by the confirmation step, which shows how many people would gain access.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class MemberForm(forms.Form):
    """A member named by kind and name: a user (or service account) or a team."""

    kind = forms.ChoiceField(choices=[("user", "User"), ("team", "Team")], initial="user")
    name = forms.CharField(
        label="User or team", error_messages={"required": "Enter a username or a team name."}
    )


class MemberAddForm(MemberForm):
    role = forms.ChoiceField(
        label="Role",
        choices=[("", "Default (Restricted Viewer, service accounts Member)"), *ROLE_CHOICES],
        required=False,
    )

    def clean_role(self) -> Role | None:
        slug = self.cleaned_data.get("role")
        return Role.from_slug(slug) if slug else None


class MemberRoleForm(MemberForm):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES)

    def clean_role(self) -> Role:
        return Role.from_slug(self.cleaned_data["role"])


class ConfirmNameForm(forms.Form):
    confirm_name = forms.CharField(
        label="Type the name to confirm",
        strip=False,
        error_messages={"required": "Type the name to confirm the deletion."},
    )


class StarForm(forms.Form):
    # A hidden "true" or "false": BooleanField reads the text "false" as False.
    starred = forms.BooleanField(required=False)


class CollectionCreateForm(forms.Form):
    name = forms.CharField(
        label="Name", strip=False, error_messages={"required": "Enter a name for the collection."}
    )
    type = forms.CharField(
        label="Artifact type",
        max_length=64,
        error_messages={"required": "Choose the artifact type of the collection's versions."},
    )
    description = forms.CharField(
        label="Description (Markdown)", required=False, strip=False, widget=forms.Textarea
    )


class ActivityFilterForm(forms.Form):
    """Filters and page position of a registry's activity page (a GET form)."""

    person = forms.CharField(label="Person", required=False, max_length=150)
    action = forms.CharField(label="Action", required=False, max_length=64)
    after = forms.IntegerField(required=False, min_value=1)
    before = forms.IntegerField(required=False, min_value=1)

    def values(self) -> dict:
        """Return the valid part of the input with keyset keys, leaving out a bad value."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "person": data.get("person") or "",
            "action": data.get("action") or "",
            "after": (data["after"],) if data.get("after") else None,
            "before": (data["before"],) if data.get("before") else None,
        }
