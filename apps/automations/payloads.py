"""Payload templates: JSON text with `{{ variable }}` placeholders.

A placeholder outside a JSON string becomes the JSON value of the variable (`"fraud"`, `3`,
`null`, an object for `metadata`). Inside a string it becomes the escaped text of the value,
so `"text": "{{ version_path }} is live"` works too. Either way the output is valid JSON
whenever the template is, which is what `validate_template` checks when a template is saved.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

MAX_TEMPLATE_LENGTH = 10_000
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
METADATA_PREFIX = "metadata."

# Variable name -> what it contains; the form's help text lists them in this order.
VARIABLES: dict[str, str] = {
    "event_type": "the event: version.linked, alias.added, tag.added, tag.removed or "
    "version.unlinked",
    "event_id": "the event's number, the same on every retry of a delivery",
    "timestamp": "when the event happened, in ISO 8601, UTC",
    "author": "the user name of the person or service account who made the change",
    "organization": "the organization name",
    "registry": "the registry name",
    "collection": "the collection name",
    "version_path": "the full path of the linked version (ORG/REGISTRY/COLLECTION:vN), null "
    "for a tag on a collection",
    "version_index": "the N of vN in the collection, or null",
    "source_path": "the path of the source version the link points at, or null",
    "alias": "the alias that was added, or null",
    "tag": "the tag that was added or removed, or null",
    "metadata": "the version's metadata object; metadata.KEY is the value of one top-level "
    "key, or null",
}

DEFAULT_TEMPLATE = """{
  "event": {{ event_type }},
  "event_id": {{ event_id }},
  "timestamp": {{ timestamp }},
  "author": {{ author }},
  "registry": {{ registry }},
  "collection": {{ collection }},
  "version": {{ version_path }},
  "alias": {{ alias }},
  "tag": {{ tag }}
}
"""


class TemplateError(ValidationError):
    """A template that cannot be rendered to JSON, with the 1-based position of the error."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message, code="invalid_template")
        self.line = line
        self.column = column


@dataclass(frozen=True)
class _Piece:
    start: int  # offset in the template
    literal: str = ""
    variable: str | None = None
    key: str | None = None  # the metadata key of `metadata.KEY`
    in_string: bool = False


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - text.rfind("\n", 0, offset)
    return line, column


def _error_at(template: str, offset: int, problem: str) -> TemplateError:
    line, column = _position(template, offset)
    return TemplateError(
        f"The payload template is not valid at line {line}, column {column}: {problem}",
        line=line,
        column=column,
    )


def _scan_strings(text: str, in_string: bool, escaped: bool) -> tuple[bool, bool]:
    """Follow JSON string quoting through literal text; return the state at its end."""
    for character in text:
        if escaped:
            escaped = False
        elif in_string and character == "\\":
            escaped = True
        elif character == '"':
            in_string = not in_string
    return in_string, escaped


def _parse_placeholder(template: str, match: re.Match, in_string: bool) -> _Piece:
    name = match.group(1).strip()
    if name in VARIABLES:
        return _Piece(start=match.start(), variable=name, in_string=in_string)
    if name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX):
        key = name[len(METADATA_PREFIX) :]
        return _Piece(start=match.start(), variable="metadata", key=key, in_string=in_string)
    known = ", ".join(VARIABLES)
    raise _error_at(
        template,
        match.start(),
        f"'{name}' is not a variable. Use one of {known}, or metadata.KEY.",
    )


def parse_template(template: str) -> list[_Piece]:
    """Split a template into literal text and placeholders; reject unknown variables."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(
            f"The payload template is {len(template)} characters long; the limit is "
            f"{MAX_TEMPLATE_LENGTH}."
        )
    pieces: list[_Piece] = []
    position = 0
    in_string = escaped = False
    for match in PLACEHOLDER.finditer(template):
        literal = template[position : match.start()]
        pieces.append(_Piece(start=position, literal=literal))
        in_string, escaped = _scan_strings(literal, in_string, escaped)
        pieces.append(_parse_placeholder(template, match, in_string))
        position = match.end()
    pieces.append(_Piece(start=position, literal=template[position:]))
    return pieces


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:
        # NaN and infinities have no JSON form.
        return "null"


def _value_text(piece: _Piece, context: dict[str, Any]) -> str:
    value = context.get(piece.variable or "")
    if piece.key is not None:
        value = value.get(piece.key) if isinstance(value, dict) else None
    if not piece.in_string:
        return _json(value)
    if value is None:
        return ""
    text = value if isinstance(value, str) else _json(value)
    # The string's own quotes are in the template, so drop the ones json.dumps adds.
    return _json(text)[1:-1]


def _render_with_offsets(
    pieces: list[_Piece], context: dict[str, Any]
) -> tuple[str, list[tuple[int, _Piece]]]:
    parts: list[str] = []
    offsets: list[tuple[int, _Piece]] = []
    length = 0
    for piece in pieces:
        text = piece.literal if piece.variable is None else _value_text(piece, context)
        offsets.append((length, piece))
        parts.append(text)
        length += len(text)
    return "".join(parts), offsets


def render(template: str, context: dict[str, Any]) -> str:
    """Render a template with the event's variables; the template must have been validated."""
    body, _ = _render_with_offsets(parse_template(template), context)
    return body


def _template_offset(offsets: list[tuple[int, _Piece]], output_offset: int) -> int:
    """Map an offset in the rendered text back to the template."""
    for output_start, piece in reversed(offsets):
        if output_start <= output_offset:
            if piece.variable is None:
                return piece.start + (output_offset - output_start)
            return piece.start
    return 0


def _reject_constant(name: str):
    raise ValueError(name)


def validate_template(template: str, context: dict[str, Any]) -> str:
    """Render the template with `context` and check that the result is JSON; return it."""
    if not template.strip():
        raise TemplateError("The payload template is empty; write a JSON object.")
    pieces = parse_template(template)
    body, offsets = _render_with_offsets(pieces, context)
    try:
        json.loads(body, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        offset = _template_offset(offsets, error.pos)
        raise _error_at(template, offset, f"{error.msg}.") from None
    except ValueError as error:
        raise TemplateError(
            f"The payload template contains {error}, which JSON does not allow; write null "
            f"or a number instead."
        ) from None
    return body
