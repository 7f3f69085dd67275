"""Verification of a copy: per kind of row, the count and a checksum of natural keys.

A natural key names a row by what a person reads on a page (collection name, index, alias
name, tag, text), never by an id that differs between the two sides.

The checksum is the sum of the first 8 bytes of each key's MD5, read as a signed 64-bit
integer and kept modulo 2**64. It does not depend on row order. PostgreSQL computes it in
the database, so the keys of millions of rows never travel to Python, and SQLite calls the
same function in Python as an aggregate. Only when a kind differs are its keys fetched, to
list a few that are missing on either side.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from apps.legacy.models import LegacyRegistry
from apps.migration import grants
from apps.migration.copy import TABLES
from apps.migration.models import MigrationPlan
from apps.registry.models import Alias, Tag

# How many differing keys per kind the report lists.
EXAMPLES = 10
# Keys hold whole descriptions, so a listed key is cut to this many characters.
EXAMPLE_CHARACTERS = 200

# Placeholders of the SQL below: table names, the `latest` literal, and the natural key of a
# legacy version and of a link.
_PLACEHOLDERS = {
    **TABLES,
    "tag": Tag._meta.db_table,
    "latest": f"'{Alias.LATEST}'",
    "version_key": "m.name || '|v' || CAST(v.\"index\" AS TEXT)",
    "link_key": "c.name || '|v' || CAST(l.\"index\" AS TEXT)",
}


def key_hash(key: str) -> int:
    return int.from_bytes(hashlib.md5(key.encode()).digest()[:8], "big", signed=True)  # noqa: S324


def format_checksum(total: int) -> str:
    return f"{int(total) % 2**64:016x}"


class _SqliteChecksum:
    """The checksum as an SQLite aggregate; the sum is returned as text, past 64 bits."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, value) -> None:
        if value is not None:
            self.total += key_hash(str(value))

    def finalize(self) -> str:
        return str(self.total)


def _checksum_expression() -> str:
    if connection.vendor == "postgresql":
        return "COALESCE(SUM(('x' || SUBSTR(MD5(k.natural_key), 1, 16))::bit(64)::bigint), 0)"
    connection.ensure_connection()
    connection.connection.create_aggregate("migration_checksum", 1, _SqliteChecksum)
    return "migration_checksum(k.natural_key)"


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    legacy_sql: str
    target_sql: str


def _kind(name: str, label: str, legacy_sql: str, target_sql: str) -> Kind:
    return Kind(name, label, legacy_sql.format(**_PLACEHOLDERS), target_sql.format(**_PLACEHOLDERS))


KINDS = [
    # A collection's key ends with its stored version count, which the pages show, and the
    # legacy side counts the model's versions for it.
    _kind(
        "collections",
        "Collections",
        """SELECT m.name || '|next v' || CAST(m.next_index AS TEXT) || '|versions '
                || CAST((SELECT COUNT(*) FROM {legacy_version} v WHERE v.model_id = m.id)
                        AS TEXT) AS natural_key
           FROM {registered_model} m WHERE m.legacy_registry_id = %(legacy)s""",
        """SELECT c.name || '|next v' || CAST(c.next_index AS TEXT) || '|versions '
                || CAST(c.version_count AS TEXT) AS natural_key
           FROM {collection} c WHERE c.registry_id = %(registry)s""",
    ),
    _kind(
        "versions",
        "Versions",
        """SELECT {version_key} || '|source ' || CAST(v.version_id AS TEXT)
                || '|by ' || COALESCE(CAST(v.linked_by_id AS TEXT), '-')
                || '|at ' || CAST(v.linked_at AS TEXT) AS natural_key
           FROM {legacy_version} v JOIN {registered_model} m ON m.id = v.model_id
           WHERE m.legacy_registry_id = %(legacy)s""",
        """SELECT {link_key} || '|source ' || CAST(l.version_id AS TEXT)
                || '|by ' || COALESCE(CAST(l.linked_by_id AS TEXT), '-')
                || '|at ' || CAST(l.linked_at AS TEXT) AS natural_key
           FROM {link} l JOIN {collection} c ON c.id = l.collection_id
           WHERE c.registry_id = %(registry)s""",
    ),
    # The legacy side of `latest` is derived the way the registry keeps it: the highest index.
    _kind(
        "aliases",
        "Aliases",
        """SELECT m.name || '|' || a.name || '|v' || CAST(v."index" AS TEXT) AS natural_key
           FROM {legacy_alias} a
           JOIN {legacy_version} v ON v.id = a.version_id
           JOIN {registered_model} m ON m.id = a.model_id
           WHERE m.legacy_registry_id = %(legacy)s AND LOWER(a.name) <> {latest}
           UNION ALL
           SELECT m.name || '|' || {latest} || '|v' || CAST(MAX(v."index") AS TEXT)
           FROM {legacy_version} v JOIN {registered_model} m ON m.id = v.model_id
           WHERE m.legacy_registry_id = %(legacy)s
           GROUP BY m.id, m.name""",
        """SELECT c.name || '|' || a.name || '|v' || CAST(l."index" AS TEXT) AS natural_key
           FROM {alias} a
           JOIN {link} l ON l.id = a.link_id
           JOIN {collection} c ON c.id = a.collection_id
           WHERE c.registry_id = %(registry)s""",
    ),
    _kind(
        "protected_aliases",
        "Protected aliases",
        """SELECT p.name AS natural_key FROM {legacy_protected_alias} p
           WHERE p.legacy_registry_id = %(legacy)s""",
        """SELECT p.name AS natural_key FROM {protected_alias} p
           WHERE p.registry_id = %(registry)s""",
    ),
    _kind(
        "tags",
        "Tags",
        """SELECT m.name || '|#' || t.name AS natural_key
           FROM {model_tags} mt
           JOIN {tag} t ON t.id = mt.tag_id
           JOIN {registered_model} m ON m.id = mt.registeredmodel_id
           WHERE m.legacy_registry_id = %(legacy)s
           UNION ALL
           SELECT {version_key} || '|#' || t.name
           FROM {version_tags} vt
           JOIN {tag} t ON t.id = vt.tag_id
           JOIN {legacy_version} v ON v.id = vt.legacyversion_id
           JOIN {registered_model} m ON m.id = v.model_id
           WHERE m.legacy_registry_id = %(legacy)s""",
        """SELECT c.name || '|#' || t.name AS natural_key
           FROM {collection_tags} ct
           JOIN {tag} t ON t.id = ct.tag_id
           JOIN {collection} c ON c.id = ct.collection_id
           WHERE c.registry_id = %(registry)s
           UNION ALL
           SELECT {link_key} || '|#' || t.name
           FROM {link_tags} lt
           JOIN {tag} t ON t.id = lt.tag_id
           JOIN {link} l ON l.id = lt.collectionlink_id
           JOIN {collection} c ON c.id = l.collection_id
           WHERE c.registry_id = %(registry)s""",
    ),
    _kind(
        "descriptions",
        "Descriptions",
        """SELECT m.name || '|' || m.description AS natural_key
           FROM {registered_model} m
           WHERE m.legacy_registry_id = %(legacy)s AND m.description <> ''
           UNION ALL
           SELECT {version_key} || '|' || v.description
           FROM {legacy_version} v JOIN {registered_model} m ON m.id = v.model_id
           WHERE m.legacy_registry_id = %(legacy)s AND v.description <> ''""",
        """SELECT c.name || '|' || c.description AS natural_key
           FROM {collection} c
           WHERE c.registry_id = %(registry)s AND c.description <> ''
           UNION ALL
           SELECT {link_key} || '|' || l.description
           FROM {link} l JOIN {collection} c ON c.id = l.collection_id
           WHERE c.registry_id = %(registry)s AND l.description <> ''""",
    ),
    _kind(
        "history",
        "History",
        """SELECT m.name || '|' || e.action || '|' || CAST(e.created_at AS TEXT)
                || '|' || COALESCE(CAST(e.actor_id AS TEXT), '-')
                || '|' || CAST(e.data AS TEXT) AS natural_key
           FROM {legacy_event} e JOIN {registered_model} m ON m.id = e.model_id
           WHERE m.legacy_registry_id = %(legacy)s""",
        """SELECT c.name || '|' || e.action || '|' || CAST(e.created_at AS TEXT)
                || '|' || COALESCE(CAST(e.actor_id AS TEXT), '-')
                || '|' || CAST(e.data AS TEXT) AS natural_key
           FROM {audit_event} e JOIN {collection} c ON c.id = e.collection_id
           WHERE e.registry_id = %(registry)s AND c.registry_id = %(registry)s""",
    ),
    # NOTE: automations have no kind here: legacy registries have no automations to compare.
]


def _measure(sql: str, params: dict) -> dict:
    query = f"SELECT COUNT(*), {_checksum_expression()} FROM ({sql}) k"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        count, total = cursor.fetchone()
    return {"count": count, "checksum": format_checksum(int(total or 0))}


def _keys(sql: str, params: dict) -> Counter:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT k.natural_key FROM ({sql}) k", params)  # noqa: S608
        return Counter(row[0] for row in cursor.fetchall())


def _measure_keys(keys: list[str]) -> dict:
    return {"count": len(keys), "checksum": format_checksum(sum(key_hash(k) for k in keys))}


def _shorten(key: str) -> str:
    return key if len(key) <= EXAMPLE_CHARACTERS else key[: EXAMPLE_CHARACTERS - 1] + "…"


def _examples(legacy: Counter, target: Counter) -> tuple[list[str], list[str]]:
    missing = sorted((legacy - target).elements())[:EXAMPLES]
    unexpected = sorted((target - legacy).elements())[:EXAMPLES]
    return [_shorten(key) for key in missing], [_shorten(key) for key in unexpected]


def measure_legacy(legacy_registry: LegacyRegistry, visibility: str) -> dict[str, dict]:
    """Count and checksum of every kind on the legacy side alone."""
    params = {"legacy": legacy_registry.pk}
    measures = {kind.name: _measure(kind.legacy_sql, params) for kind in KINDS}
    measures["grants"] = _measure_keys(
        grants.expected_keys(grants.mapping(legacy_registry, visibility))
    )
    return measures


def build_report(plan: MigrationPlan) -> dict:
    """Compare every kind between the plan's legacy registry and its target registry."""
    params = {"legacy": plan.legacy_registry_id, "registry": plan.target_registry_id}
    entries = []
    for kind in KINDS:
        legacy = _measure(kind.legacy_sql, params)
        target = _measure(kind.target_sql, params)
        entry = {"name": kind.name, "label": kind.label, "legacy": legacy, "target": target}
        if legacy != target:
            entry["missing"], entry["unexpected"] = _examples(
                _keys(kind.legacy_sql, params), _keys(kind.target_sql, params)
            )
        entries.append(entry)

    legacy_registry = LegacyRegistry.objects.select_related("team").get(pk=plan.legacy_registry_id)
    expected = grants.expected_keys(grants.mapping(legacy_registry, plan.target_visibility))
    actual = grants.target_keys(plan.target_registry_id)
    entry = {
        "name": "grants",
        "label": "Permissions",
        "legacy": _measure_keys(expected),
        "target": _measure_keys(actual),
    }
    if entry["legacy"] != entry["target"]:
        entry["missing"], entry["unexpected"] = _examples(Counter(expected), Counter(actual))
    entries.append(entry)

    differences = []
    for entry in entries:
        entry["match"] = entry["legacy"] == entry["target"]
        if not entry["match"]:
            differences.append(_describe(entry))
    return {
        "checked_at": timezone.now().isoformat(),
        "ok": not differences,
        "kinds": entries,
        "differences": differences,
    }


def _describe(entry: dict) -> str:
    legacy, target = entry["legacy"], entry["target"]
    text = (
        f"{entry['label']}: {legacy['count']} in the legacy registry, {target['count']} in "
        f"the target (checksums {legacy['checksum']} and {target['checksum']})."
    )
    if entry.get("missing"):
        text += f" Missing from the target: {', '.join(entry['missing'])}."
    if entry.get("unexpected"):
        text += f" Only in the target: {', '.join(entry['unexpected'])}."
    return text
