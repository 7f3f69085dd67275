"""Query filters of the list endpoints (django-filter)."""

import django_filters
from django.db.models import Q

from apps.registry.models import Artifact, Collection, CollectionLink, Registry


class _TextFilterMixin:
    text_fields: tuple[str, ...] = ()

    def filter_text(self, queryset, name, value):
        condition = Q()
        for field in self.text_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class RegistryFilter(_TextFilterMixin, django_filters.FilterSet):
    text_fields = ("name", "description")

    type = django_filters.CharFilter(
        method="filter_type", help_text="Only registries that accept this artifact type."
    )
    visibility = django_filters.ChoiceFilter(choices=Registry._meta.get_field("visibility").choices)
    text = django_filters.CharFilter(
        method="filter_text", help_text="Text in the name or description (any case)."
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Registry
        fields = []

    def filter_type(self, queryset, name, value):
        # JSON containment has no SQLite lookup, and an organization has few registries, so
        # the accepted-type lists are read and matched here in one query.
        rows = queryset.values_list("pk", "accepts_all_types", "accepted_types")
        matching = [pk for pk, all_types, types in rows if all_types or value in (types or [])]
        return queryset.filter(pk__in=matching)


class CollectionFilter(_TextFilterMixin, django_filters.FilterSet):
    text_fields = ("name", "description")

    type = django_filters.CharFilter(field_name="type", lookup_expr="iexact")
    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", distinct=True)
    alias = django_filters.CharFilter(
        field_name="aliases__name", lookup_expr="iexact", distinct=True
    )
    text = django_filters.CharFilter(
        method="filter_text", help_text="Text in the name or description (any case)."
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Collection
        fields = []


class LinkFilter(_TextFilterMixin, django_filters.FilterSet):
    text_fields = ("description", "version__artifact__name")

    tag = django_filters.CharFilter(field_name="tags__name", lookup_expr="iexact", distinct=True)
    alias = django_filters.CharFilter(
        field_name="aliases__name", lookup_expr="iexact", distinct=True
    )
    text = django_filters.CharFilter(
        method="filter_text", help_text="Text in the description or the source artifact's name."
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="linked_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="linked_at", lookup_expr="lt")

    class Meta:
        model = CollectionLink
        fields = []


class ArtifactFilter(_TextFilterMixin, django_filters.FilterSet):
    text_fields = ("name",)

    type = django_filters.CharFilter(field_name="type", lookup_expr="iexact")
    text = django_filters.CharFilter(method="filter_text", help_text="Text in the name.")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Artifact
        fields = []
