"""Limits on the size of a GraphQL operation, checked during validation, before it runs.

Three measures of each operation in a document, with fragments expanded where they are
used:

    depth   the most fields nested inside one another (`{ viewer { username } }` is 2)
    fields  every field selected, each aliased copy and each use of a fragment counted
    cost    an estimate of the objects the server loads: each field with a selection counts
            1, times the page size of every connection above it (its `first`, or the
            default page size when `first` is absent, capped at the largest page)

A document gets one GraphQL error for each limit it exceeds, naming the limit and how to
stay under it, and nothing of it runs. The defaults leave room above the operations that
wandb 0.31.0 generates, measured with their default page sizes: the deepest nests 11
levels and the widest selects 72 fields. A download's file URL query (5,000 files a page)
costs about 15,000, and a registry's collections (100 a page) about 10,700. The SDK tests
in tests/sdk run under the defaults.

NOTE: the cost is an estimate. A list without `first` (such as an artifact's aliases)
counts as one item, and leaf fields count nothing, though `directUrl` signs a URL.
"""

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from apps.graphql_api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from registry_site.env import env_int


def read_limit(name: str, default: int) -> int:
    value = env_int(name, default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}={value} is invalid. Set it to 1 or more.")
    return value


MAX_DEPTH = read_limit("GRAPHQL_MAX_DEPTH", 15)
MAX_FIELDS = read_limit("GRAPHQL_MAX_FIELDS", 1_000)
MAX_COST = read_limit("GRAPHQL_MAX_COST", 50_000)


@dataclass(frozen=True)
class Size:
    depth: int = 0
    fields: int = 0
    cost: int = 0

    def __add__(self, other: "Size") -> "Size":
        return Size(
            max(self.depth, other.depth), self.fields + other.fields, self.cost + other.cost
        )


class _SizeMeter:
    """Measure the selections of one operation, each fragment once however often it is used."""

    def __init__(self, context: ValidationContext, variables: dict, defaults: dict):
        self.context = context
        self.variables = variables
        self.defaults = defaults
        self.fragments: dict[str, Size] = {}
        self.in_progress: set[str] = set()

    def measure(self, selection_set: SelectionSetNode | None, parent_type) -> Size:
        total = Size()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.measure_field(selection, parent_type)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.type_named(condition.name.value) if condition else parent_type
                total += self.measure(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.measure_fragment(selection.name.value)
        return total

    def measure_field(self, node: FieldNode, parent_type) -> Size:
        definition = None
        if isinstance(parent_type, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent_type.fields.get(node.name.value)
        if node.selection_set is None:
            return Size(depth=1, fields=1)
        child_type = get_named_type(definition.type) if definition else None
        inner = self.measure(node.selection_set, child_type)
        items = self.page_size(node) if definition and "first" in definition.args else 1
        return Size(depth=inner.depth + 1, fields=inner.fields + 1, cost=1 + inner.cost * items)

    def measure_fragment(self, name: str) -> Size:
        if name in self.fragments:
            return self.fragments[name]
        fragment = self.context.get_fragment(name)
        # A cycle of fragments is reported by graphql-core's own NoFragmentCyclesRule.
        if fragment is None or name in self.in_progress:
            return Size()
        self.in_progress.add(name)
        size = self.measure(
            fragment.selection_set, self.type_named(fragment.type_condition.name.value)
        )
        self.in_progress.discard(name)
        self.fragments[name] = size
        return size

    def page_size(self, node: FieldNode) -> int:
        """The number of items a connection field returns: its `first`, capped as pages are."""
        argument = next((arg for arg in node.arguments or () if arg.name.value == "first"), None)
        value = None
        if argument is not None and isinstance(argument.value, VariableNode):
            name = argument.value.name.value
            value = self.variables.get(name, self.defaults.get(name))
        elif argument is not None and isinstance(argument.value, IntValueNode):
            value = int(argument.value.value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return DEFAULT_PAGE_SIZE
        return min(value, MAX_PAGE_SIZE)

    def type_named(self, name: str):
        return self.context.schema.get_type(name)


def limit_errors(size: Size) -> list[str]:
    """Return a message for each limit that an operation of this size exceeds."""
    messages = []
    if size.depth > MAX_DEPTH:
        messages.append(
            f"The query nests fields {size.depth} levels deep; the limit is {MAX_DEPTH} "
            f"(GRAPHQL_MAX_DEPTH). Split it into shallower queries, starting the inner ones "
            f"from an id or a name that the outer query returns."
        )
    if size.fields > MAX_FIELDS:
        messages.append(
            f"The query selects {size.fields} fields, counting every alias and every use of "
            f"a fragment; the limit is {MAX_FIELDS} (GRAPHQL_MAX_FIELDS). Send fewer "
            f"aliased copies in one request, or split it into several requests."
        )
    if size.cost > MAX_COST:
        messages.append(
            f"The query's estimated cost is {size.cost}; the limit is {MAX_COST} "
            f"(GRAPHQL_MAX_COST). Each nested object counts once per item of every page "
            f"above it: ask for smaller pages with `first`, select fewer nested lists, or "
            f"fetch inner lists in separate requests."
        )
    return messages


def operation_limits(variables: dict | None) -> type[ASTValidationRule]:
    """Build the validation rule that rejects operations over the limits.

    `variables` are the request's, so `first: $perPage` counts with its value.
    """

    class OperationLimitsRule(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
            defaults = {
                definition.variable.name.value: value_from_ast_untyped(definition.default_value)
                for definition in node.variable_definitions or ()
                if definition.default_value is not None
            }
            meter = _SizeMeter(self.context, variables or {}, defaults)
            root = self.context.schema.get_root_type(node.operation)
            for message in limit_errors(meter.measure(node.selection_set, root)):
                self.report_error(
                    GraphQLError(message, node, extensions={"code": "QUERY_TOO_LARGE"})
                )
            # The operation is measured as a whole; its fields need no visit of their own.
            return self.SKIP

    return OperationLimitsRule


def validation_rules(context, document, data: dict) -> list[type[ASTValidationRule]]:
    """Return the extra validation rules of one request (ariadne's `validation_rules`)."""
    variables = data.get("variables")
    return [operation_limits(variables if isinstance(variables, dict) else None)]
