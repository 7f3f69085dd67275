"""The custom scalars: JSONString, DateTime and Int64."""

import json
from datetime import datetime

from ariadne import ScalarType
from graphql import GraphQLError

from apps.graphql_api.resolvers.common import timestamp

json_string = ScalarType("JSONString")
date_time = ScalarType("DateTime")
int64 = ScalarType("Int64")


@json_string.serializer
def serialize_json_string(value) -> str:
    """Write a JSON document out as a string, as W&B clients expect it."""
    return value if isinstance(value, str) else json.dumps(value)


@json_string.value_parser
def parse_json_string(value):
    """Read the JSON document inside a string; a client may also send the document itself."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value else None
        except json.JSONDecodeError as error:
            raise GraphQLError(f"The JSONString is not valid JSON: {error.msg}.") from None
    return value


@date_time.serializer
def serialize_date_time(value):
    return timestamp(value) if isinstance(value, datetime) else value


@int64.serializer
def serialize_int64(value) -> int:
    return int(value)


BINDABLES = [json_string, date_time, int64]
