"""Case-insensitive look-ups by name that the unique indexes on Lower("name") serve."""

from django.db.models import CharField, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact


def equals_ignoring_case(field: str, value: str) -> Exact:
    """Build the filter `LOWER(field) = LOWER(value)`, for use as `.filter(...)` argument.

    `field` may follow relations, as in "registry__organization__name". The unique name
    constraints are on Lower("name"), so this condition finds the row through that index on
    PostgreSQL and SQLite. `name__iexact` compiles to `UPPER(name) = UPPER(...)` on
    PostgreSQL and to LIKE on SQLite, which no index serves, so a look-up reads every row
    that its other conditions leave. The database lowers both sides, so a name matches
    exactly the names that its unique constraint treats as the same.
    """
    return Exact(Lower(field), Lower(Value(value, output_field=CharField())))
