"""Resolvers of the GraphQL schema, one module per group of types."""

from apps.graphql_api.resolvers import (
    accounts,
    artifacts,
    collections,
    mutations,
    projects,
    runs,
    scalars,
)

BINDABLES = [
    *accounts.BINDABLES,
    *projects.BINDABLES,
    *collections.BINDABLES,
    *artifacts.BINDABLES,
    *runs.BINDABLES,
    *mutations.BINDABLES,
    *scalars.BINDABLES,
]
