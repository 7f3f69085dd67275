"""Input rules shared by the automation forms, the API and the services."""

import re

# Python 3.11's own regular expression parser, used to inspect a pattern's structure.
# It is a private module, so a Python upgrade must keep the test of this check passing.
from re import _constants as sre_constants
from re import _parser as sre_parser

from django.core.exceptions import ValidationError

MAX_PATTERN_LENGTH = 200
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}


def _children(op, argument) -> list:
    """Return the parsed subpatterns directly inside one node of a parsed pattern."""
    if op in _REPEATS:
        return [argument[2]]
    if op == sre_constants.SUBPATTERN:
        return [argument[-1]]
    if op == sre_constants.BRANCH:
        return list(argument[1])
    if op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return [argument[1]]
    return []


def _is_multiple(op, argument) -> bool:
    """Return whether a node is a quantifier that allows more than one match."""
    return op in _REPEATS and argument[1] > 1


def _has_repeat(items) -> bool:
    return any(
        _is_multiple(op, argument) or any(_has_repeat(child) for child in _children(op, argument))
        for op, argument in items
    )


def _has_nested_repeat(items) -> bool:
    for op, argument in items:
        children = _children(op, argument)
        if _is_multiple(op, argument) and any(_has_repeat(child) for child in children):
            return True
        if any(_has_nested_repeat(child) for child in children):
            return True
    return False


def validate_alias_pattern(pattern: str) -> str:
    """Check a regular expression for alias names and return it.

    The pattern runs inside the transaction of every alias change in its scope, so a pattern
    that can backtrack for exponential time is rejected: a quantified group that contains
    another quantifier, like `(a+)+`.
    """
    # NOTE: overlapping alternatives under one quantifier, like `(a|aa)*$`, still pass this
    # check and can backtrack for long on a 128-character alias.
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValidationError(
            f"The alias pattern is {len(pattern)} characters long; the limit is "
            f"{MAX_PATTERN_LENGTH}."
        )
    try:
        re.compile(pattern)
    except re.error as error:
        position = "" if error.pos is None else f" at position {error.pos + 1}"
        raise ValidationError(
            f"The alias pattern {pattern!r} is not a valid regular expression{position}: "
            f"{error.msg}."
        ) from None
    if _has_nested_repeat(sre_parser.parse(pattern).data):
        raise ValidationError(
            f"The alias pattern {pattern!r} repeats a group that contains a repetition, which "
            f"can take exponential time to match; write it without the nested repetition."
        )
    return pattern


def alias_matches(pattern: str, alias: str) -> bool:
    """Return whether the pattern occurs in the alias name; an empty pattern matches all."""
    return not pattern or re.search(pattern, alias) is not None
