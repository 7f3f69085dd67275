"""Translate the SDK's MongoDB-style JSON filters into Django querysets.

A filter is a JSON object. Each key is a field or a logical operator:

    {"name": "fraud-detector"}                       equality
    {"name": {"$regex": "^fraud"}}                   one or more operators on a field
    {"metadata.auc": {"$gte": 0.9}}                  a key inside the version's metadata
    {"$or": [{"alias": "production"}, {"tag": "reviewed"}]}

Keys of one object must all match (an implicit `$and`). Only the fields of a target's
allow-list may be used, and only the operators below. Anything else raises a GraphQLError
that names the field or the operator and lists what is allowed.

Field operators: $eq $ne $in $nin $gt $gte $lt $lte $regex $contains $exists $not.
Logical operators: $and $or $nor (a list of filters) and $not (one filter).

Fields that hold several values (tags, aliases) match when any value matches, and each
condition on them is its own subquery, so `{"$and": [{"alias": "a"}, {"alias": "b"}]}`
finds versions that carry both aliases.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Model, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils.dateparse import parse_datetime
from graphql import GraphQLError

from apps.graphql_api.ids import decode_pk

FIELD_OPERATORS = (
    "$eq",
    "$ne",
    "$in",
    "$nin",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$regex",
    "$contains",
    "$exists",
    "$not",
)
LOGICAL_OPERATORS = ("$and", "$or", "$nor", "$not")
COMPARISONS = {"$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}
# Regular expressions run inside the database; a bound on their length keeps a hostile
# pattern from costing more than a simple one.
MAX_REGEX_LENGTH = 256
MAX_DEPTH = 8
MAX_JSON_LENGTH = 20_000
STATES = ("COMMITTED", "PENDING", "DELETED")


class Kind:
    TEXT = "text"
    INT = "int"
    DATETIME = "datetime"
    JSON = "json"
    STATE = "state"


@dataclass(frozen=True)
class FilterField:
    """One field a filter may use: its ORM path and how its operands are read."""

    lookup: str
    kind: str
    # True for a relation with several values per row (tags, aliases).
    many: bool = False
    # Turns one operand into the stored value (for example "v3" into 3); raises ValueError.
    convert: Callable[[object], object] | None = None
    # Operators this field rejects on top of those its kind cannot take.
    excluded: tuple[str, ...] = ()


def _allowed_operators(field: FilterField) -> list[str]:
    allowed = {
        Kind.TEXT: FIELD_OPERATORS,
        Kind.INT: ("$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$not"),
        Kind.DATETIME: ("$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$not"),
        Kind.JSON: FIELD_OPERATORS,
        Kind.STATE: ("$eq", "$ne", "$in", "$nin", "$not"),
    }[field.kind]
    return [operator for operator in allowed if operator not in field.excluded]


def parse_filter_json(raw) -> dict:
    """Parse the filter object of a JSONString argument (None and "" mean no filter)."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        if len(raw) > MAX_JSON_LENGTH:
            raise GraphQLError(
                f"The filter is {len(raw)} characters long; the limit is {MAX_JSON_LENGTH}."
            )
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise GraphQLError(f"The filter is not valid JSON: {error.msg}.") from None
    if not isinstance(raw, dict):
        raise GraphQLError('A filter must be a JSON object, such as {"name": "my-model"}.')
    return raw


class FilterTranslator:
    """The filters of one target (registries, collections or versions): its allow-list."""

    def __init__(self, target: str, model: type[Model], fields: dict[str, FilterField]):
        self.target = target
        self.model = model
        self.fields = fields

    def apply(self, queryset: QuerySet, raw) -> QuerySet:
        """Narrow `queryset` by the filter `raw` (a JSON string, a dict or None)."""
        translation = _Translation(self)
        condition = translation.object(parse_filter_json(raw), depth=0)
        if translation.aliases:
            queryset = queryset.alias(**translation.aliases)
        return queryset.filter(condition)


class _Translation:
    """One filter being translated, with the JSON keys it compares as query aliases.

    A value inside the metadata is compared through an alias of its KeyTransform, rather
    than a `metadata__key__lookup` string, so that keys which look like lookups ("gt",
    "contains") or contain "__" are never read as lookups.
    """

    def __init__(self, spec: FilterTranslator):
        self.spec = spec
        self.aliases: dict[str, object] = {}

    # Structure -------------------------------------------------------------------------------

    def object(self, node: dict, depth: int) -> Q:
        if depth > MAX_DEPTH:
            raise GraphQLError(f"The filter nests deeper than {MAX_DEPTH} levels; flatten it.")
        combined = Q()
        for key, value in node.items():
            if not isinstance(key, str):
                raise GraphQLError(f"The filter key {key!r} is not a string.")
            if key.startswith("$"):
                combined &= self._logical(key, value, depth)
            else:
                combined &= self._field(key, value)
        return combined

    def _logical(self, operator: str, value, depth: int) -> Q:
        if operator == "$not":
            if not isinstance(value, dict):
                raise GraphQLError("The operator '$not' takes one filter object.")
            return ~self.object(value, depth + 1)
        if operator not in LOGICAL_OPERATORS:
            raise GraphQLError(
                f"The filter operator '{operator}' is not supported at the top of a "
                f"{self.spec.target} filter; use one of: {', '.join(LOGICAL_OPERATORS)}, or a "
                f"field name."
            )
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise GraphQLError(f"The operator '{operator}' takes a list of filter objects.")
        parts = [self.object(item, depth + 1) for item in value]
        if operator == "$and":
            result = Q()
            for part in parts:
                result &= part
            return result
        if not parts:
            # An empty $or matches nothing and an empty $nor everything, as in MongoDB.
            return Q(pk__in=[]) if operator == "$or" else Q()
        result = parts[0]
        for part in parts[1:]:
            result |= part
        return ~result if operator == "$nor" else result

    def _resolve_field(self, name: str) -> tuple[FilterField, list[str]]:
        root, _, rest = name.partition(".")
        field = self.spec.fields.get(root)
        if field is None:
            allowed = ", ".join(sorted(self.spec.fields))
            raise GraphQLError(
                f"The filter field '{name}' is not supported for {self.spec.target}; use one "
                f"of: {allowed}."
            )
        keys = rest.split(".") if rest else []
        if keys and field.kind != Kind.JSON:
            raise GraphQLError(
                f"The filter field '{name}' is not supported for {self.spec.target}: only "
                f"'{root}' itself can be filtered on, without '.{rest}'."
            )
        if any(key == "" for key in keys):
            raise GraphQLError(f"The filter field '{name}' has an empty key between dots.")
        return field, keys

    def _field(self, name: str, value) -> Q:
        field, keys = self._resolve_field(name)
        if isinstance(value, dict) and any(str(key).startswith("$") for key in value):
            combined = Q()
            for operator, operand in value.items():
                combined &= self._condition(name, field, keys, operator, operand)
            return combined
        return self._condition(name, field, keys, "$eq", value)

    # Conditions ------------------------------------------------------------------------------

    def _condition(self, name: str, field: FilterField, keys: list[str], operator, operand) -> Q:
        allowed = _allowed_operators(field)
        if operator not in allowed:
            raise GraphQLError(
                f"The filter operator '{operator}' is not supported on '{name}'; use one of: "
                f"{', '.join(allowed)}."
            )
        if operator == "$not":
            if not isinstance(operand, dict):
                return ~self._condition(name, field, keys, "$eq", operand)
            return ~self._field(name, operand)
        if operator == "$ne":
            return ~self._condition(name, field, keys, "$eq", operand)
        if operator == "$nin":
            return ~self._condition(name, field, keys, "$in", operand)
        if field.kind == Kind.STATE:
            return self._state(name, operator, operand)

        if operator == "$in":
            if not isinstance(operand, list):
                raise GraphQLError(f"The operator '$in' on '{name}' takes a list of values.")
            values = [self._operand(name, field, item) for item in operand]
            if field.kind == Kind.JSON:
                result = Q(pk__in=[])
                for item in values:
                    result |= self._lookup(field, keys, "exact", item)
                return result
            return self._lookup(field, keys, "in", values)
        if operator == "$exists":
            if not isinstance(operand, bool):
                raise GraphQLError(f"The operator '$exists' on '{name}' takes true or false.")
            found = self._exists(field, keys)
            return found if operand else ~found
        if operator == "$regex":
            return self._lookup(field, keys, "regex", self._pattern(name, operand))
        if operator == "$contains":
            if not isinstance(operand, str):
                raise GraphQLError(f"The operator '$contains' on '{name}' takes a string.")
            return self._lookup(field, keys, "contains", operand)
        value = self._operand(name, field, operand)
        if operator == "$eq":
            return self._lookup(field, keys, "exact", value)
        return self._lookup(field, keys, COMPARISONS[operator], value)

    def _state(self, name: str, operator: str, operand) -> Q:
        values = operand if operator == "$in" else [operand]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise GraphQLError(f"The filter field '{name}' takes a state such as \"COMMITTED\".")
        unknown = sorted(set(values) - set(STATES))
        if unknown:
            raise GraphQLError(
                f"The state {unknown[0]!r} of '{name}' is not one of: {', '.join(STATES)}."
            )
        # Every version here is committed: a version exists only once it has been logged.
        return Q() if "COMMITTED" in values else Q(pk__in=[])

    def _pattern(self, name: str, operand) -> str:
        if not isinstance(operand, str):
            raise GraphQLError(f"The operator '$regex' on '{name}' takes a string.")
        if len(operand) > MAX_REGEX_LENGTH:
            raise GraphQLError(
                f"The regular expression on '{name}' is {len(operand)} characters long; the "
                f"limit is {MAX_REGEX_LENGTH}."
            )
        try:
            re.compile(operand)
        except re.error as error:
            raise GraphQLError(
                f"The regular expression {operand!r} on '{name}' is invalid: {error}."
            ) from None
        return operand

    def _operand(self, name: str, field: FilterField, operand):
        if field.convert is not None:
            try:
                return field.convert(operand)
            except (TypeError, ValueError) as error:
                raise GraphQLError(
                    f"The value {operand!r} of '{name}' is invalid: {error}"
                ) from None
        if field.kind == Kind.TEXT:
            if not isinstance(operand, str):
                raise GraphQLError(f"The value {operand!r} of '{name}' must be a string.")
            return operand
        if field.kind == Kind.INT:
            if isinstance(operand, bool) or not isinstance(operand, int):
                raise GraphQLError(f"The value {operand!r} of '{name}' must be a whole number.")
            return operand
        if field.kind == Kind.DATETIME:
            return _datetime(name, operand)
        if field.kind == Kind.JSON:
            if isinstance(operand, dict | list):
                raise GraphQLError(
                    f"The value of '{name}' must be a string, number, boolean or null."
                )
            return operand
        raise AssertionError(field.kind)

    # ORM -------------------------------------------------------------------------------------

    def _lookup(self, field: FilterField, keys: list[str], lookup: str, value) -> Q:
        if field.kind != Kind.JSON:
            return self._scoped(field, Q(**{f"{field.lookup}__{lookup}": value}))
        if not keys:
            raise GraphQLError(
                'Filter on a key inside the metadata, such as "metadata.accuracy"; the '
                "metadata object as a whole cannot be compared."
            )
        # Text operators compare the key's value as text, without JSON quoting.
        as_text = lookup in ("regex", "contains")
        alias = self._json_alias(field, keys, as_text=as_text)
        return self._scoped(field, Q(**{f"{alias}__{lookup}": value}))

    def _exists(self, field: FilterField, keys: list[str]) -> Q:
        if field.kind == Kind.JSON and keys:
            parent = self._json_alias(field, keys[:-1]) if len(keys) > 1 else field.lookup
            return self._scoped(field, Q(**{f"{parent}__has_key": keys[-1]}))
        return self._scoped(field, Q(**{f"{field.lookup}__isnull": False}))

    def _json_alias(self, field: FilterField, keys: list[str], *, as_text: bool = False) -> str:
        expression = field.lookup
        for number, key in enumerate(keys):
            last = number == len(keys) - 1
            transform = KeyTextTransform if (as_text and last) else KeyTransform
            expression = transform(key, expression)
        name = f"filter_json_{len(self.aliases)}"
        self.aliases[name] = expression
        return name

    def _scoped(self, field: FilterField, condition: Q) -> Q:
        if not field.many:
            return condition
        rows = self.spec.model._default_manager.alias(**self.aliases).filter(condition)
        return Q(pk__in=rows.values("pk"))


def _datetime(name: str, operand) -> datetime:
    parsed = parse_datetime(operand) if isinstance(operand, str) else None
    if parsed is None:
        raise GraphQLError(
            f"The value {operand!r} of '{name}' is not an ISO 8601 date and time, such as "
            f'"2025-01-31T12:00:00Z".'
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def version_index(operand) -> int:
    """Read a collection index written as vN, N or "N"."""
    if isinstance(operand, bool):
        raise ValueError("write a version as vN or a whole number.")
    if isinstance(operand, int):
        return operand
    if isinstance(operand, str):
        match = re.fullmatch(r"[vV]?(\d+)", operand)
        if match:
            return int(match.group(1))
    raise ValueError("write a version as vN or a whole number.")


def id_converter(*kinds: str) -> Callable[[object], int]:
    """Reads an id written as a number or as one of our opaque ids of `kinds`."""

    def convert(operand) -> int:
        if isinstance(operand, int) and not isinstance(operand, bool):
            return operand
        if isinstance(operand, str):
            if operand.isdigit():
                return int(operand)
            decoded = decode_pk(operand, *kinds)
            if decoded is not None:
                return decoded[1]
        raise ValueError("write a number or an id that this server returned.")

    return convert
