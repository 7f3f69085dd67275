"""The executable schema: the SDL file next to this module with the resolvers bound to it."""

from pathlib import Path

from ariadne import load_schema_from_path, make_executable_schema

from apps.graphql_api.resolvers import BINDABLES

SCHEMA_PATH = Path(__file__).resolve().parent / "schema.graphql"

# Resolvers receive arguments and input fields in snake_case, and a field without its own
# resolver reads the snake_case attribute or key of its parent (createdAt -> created_at).
schema = make_executable_schema(
    load_schema_from_path(str(SCHEMA_PATH)), *BINDABLES, convert_names_case=True
)
