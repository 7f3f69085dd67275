"""Opaque GraphQL ids: base64 of `KIND:PART[:PART...]`, as W&B clients expect them.

Clients never build ids; they send back what they received, except registry filters, which
take the number inside a registry's `Project:<id>`.
"""

import base64
import binascii

from graphql import GraphQLError

# Kinds of id, one per kind of object a client can send an id of.
ARTIFACT = "Artifact"
PORTFOLIO = "ArtifactPortfolio"
LEGACY_PORTFOLIO = "LegacyPortfolio"
SEQUENCE = "ArtifactSequence"
REGISTRY_PROJECT = "Project"


def encode_id(kind: str, *parts: object) -> str:
    text = ":".join([kind, *(str(part) for part in parts)])
    return base64.b64encode(text.encode()).decode("ascii")


def decode_id(value: str) -> tuple[str, list[str]]:
    """Return the kind and parts of an id; raise GraphQLError for a value not made here."""
    try:
        text = base64.b64decode(value.encode("ascii"), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise GraphQLError(
            f"The id {value!r} is not valid; send an id this server returned."
        ) from None
    kind, _, rest = text.partition(":")
    if not kind or not rest:
        raise GraphQLError(f"The id {value!r} is not valid; send an id this server returned.")
    return kind, rest.split(":")


def decode_pk(value: str, *kinds: str) -> tuple[str, int] | None:
    """Return the kind and database id of an id of one of `kinds`, or None otherwise."""
    kind, parts = decode_id(value)
    if kind not in kinds or len(parts) != 1 or not parts[0].isdigit():
        return None
    return kind, int(parts[0])
