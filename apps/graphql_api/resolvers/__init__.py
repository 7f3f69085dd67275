"""Resolvers of the GraphQL schema, one module per group of types."""

from apps.graphql_api.resolvers import (
    accounts,
    artifacts,
    collections,
    mutations,
    projects,
    scalars,
)

BINDABLES = [
    *accounts.BINDABLES,
    *projects.BINDABLES,
    *collections.BINDABLES,
    *artifacts.BINDABLES,
    *mutations.BINDABLES,
    *scalars.BINDABLES,
]
