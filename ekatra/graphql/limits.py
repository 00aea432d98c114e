"""What one GraphQL request may ask for: tokens, depth, aliases and an estimated cost.

Each limit refuses the whole operation before anything is resolved, with a GraphQL error whose
`extensions.code` names the limit. Introspection fields (`__schema`, `__type`, …) count towards
none of them: GraphiQL's introspection query is deep, and it reads no data.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

MAX_TOKENS = 5000
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_COST = 100_000
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
# What a list without `first` is assumed to hold, for the cost estimate.
ASSUMED_LIST_SIZE = 20

TOO_MANY_TOKENS = "QUERY_TOO_LARGE"
TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_COSTLY = "QUERY_TOO_COSTLY"


class TokenLimit(SchemaExtension):
    """The parser gives up past MAX_TOKENS tokens (a query of megabytes is never parsed whole)."""

    def on_parse(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = MAX_TOKENS
        yield


def _fields(selection_set: SelectionSetNode | None, parent, context: ValidationContext,
            seen: frozenset[str] = frozenset()) -> Iterator[tuple[FieldNode, object]]:
    """(field, the type it is selected on) for a selection set, fragments spread in place (each
    fragment once per path), introspection fields left out."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if not selection.name.value.startswith("__"):
                yield selection, parent
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, _condition(selection, parent, context), context, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                yield from _fields(fragment.selection_set, _condition(fragment, parent, context), context,
                                   seen | {name})


def _condition(fragment, parent, context: ValidationContext):
    condition = getattr(fragment, "type_condition", None)
    return context.schema.get_type(condition.name.value) if condition is not None else parent


def _field_type(parent, field: FieldNode):
    """(the field's definition, its type without NonNull wrappers), or (None, None) if unknown."""
    definition = getattr(parent, "fields", {}).get(field.name.value) if parent is not None else None
    if definition is None:
        return None, None
    field_type = definition.type
    while isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return definition, field_type


def _named(field_type):
    while isinstance(field_type, GraphQLNonNull | GraphQLList):
        field_type = field_type.of_type
    return field_type


def _depth(selection_set, parent, context) -> int:
    return max((1 + _depth(field.selection_set, _named(_field_type(owner, field)[1]), context)
                for field, owner in _fields(selection_set, parent, context)), default=0)


def _aliases(selection_set, parent, context) -> int:
    return sum((field.alias is not None) + _aliases(field.selection_set, _named(_field_type(owner, field)[1]),
                                                    context)
               for field, owner in _fields(selection_set, parent, context))


def _page_size(field: FieldNode, variables: dict) -> int | None:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "limit"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = variables.get(value.name.value)
                return given if isinstance(given, int) else DEFAULT_PAGE_SIZE
    return None


def _cost(selection_set, parent, context, variables) -> int:
    """Each field costs 1; a field's children cost once per item it may return: `first` items of
    a connection (DEFAULT_PAGE_SIZE when not given), ASSUMED_LIST_SIZE items of another list,
    one of an object. A connection's `edges` are its page, already counted."""
    total = 0
    for field, owner in _fields(selection_set, parent, context):
        definition, field_type = _field_type(owner, field)
        if field.selection_set is None:
            total += 1
            continue
        size = _page_size(field, variables)
        if size is None and definition is not None and "first" in definition.args:
            size = DEFAULT_PAGE_SIZE
        if size is not None:
            multiplier = max(0, min(size, MAX_PAGE_SIZE))
        elif isinstance(field_type, GraphQLList) and field.name.value not in ("edges", "nodes"):
            multiplier = ASSUMED_LIST_SIZE
        else:
            multiplier = 1
        total += 1 + multiplier * _cost(field.selection_set, _named(field_type), context, variables)
    return total


def limits_rule(variables_of):
    """A validation rule enforcing depth, aliases and cost; `variables_of()` gives the request's
    variables (for `first: $n`)."""

    class Limits(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args):
            context = self.context
            root = context.schema.get_root_type(node.operation)
            depth = _depth(node.selection_set, root, context)
            if depth > MAX_DEPTH:
                self.report_error(GraphQLError(
                    f"The query is {depth} levels deep; at most {MAX_DEPTH} are allowed.", node,
                    extensions={"code": TOO_DEEP}))
                return
            aliases = _aliases(node.selection_set, root, context)
            if aliases > MAX_ALIASES:
                self.report_error(GraphQLError(
                    f"The query uses {aliases} aliases; at most {MAX_ALIASES} are allowed.", node,
                    extensions={"code": TOO_MANY_ALIASES}))
                return
            cost = _cost(node.selection_set, root, context, variables_of() or {})
            if cost > MAX_COST:
                self.report_error(GraphQLError(
                    f"The query's estimated cost is {cost}; at most {MAX_COST} is allowed. "
                    "Ask for smaller pages (`first`) or fewer fields.", node,
                    extensions={"code": TOO_COSTLY}))

    return Limits


class RequestLimits(SchemaExtension):
    """The limits as a validation rule of each operation, reading that request's variables."""

    def on_operation(self) -> Iterator[None]:
        variables = self.execution_context.variables or {}
        rule = limits_rule(lambda: variables)
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, rule)
        yield


EXTENSIONS = [TokenLimit, RequestLimits]
