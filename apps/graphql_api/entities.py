"""Entity names: what `entity(name: ...)` and `entityName` mean for a user.

A name is looked up, in this order, among
    the organizations the user belongs to (the organization's entity is its name),
    the teams of those organizations,
    the user's own username (their personal entity).
So an organization shadows a team or user of the same name, and a team shadows a user.
"""

from graphql import GraphQLError

from apps.core.lookups import equals_ignoring_case
from apps.graphql_api.nodes import (
    EntityNode,
    organization_entity,
    team_entity,
    user_entity,
)
from apps.orgs.models import Organization, Team


def user_organizations(user):
    return Organization.objects.filter(memberships__user=user).order_by("name")


def find_entity(user, name: str | None) -> EntityNode | None:
    """Find the entity named `name` for the user, or None where there is none they may see."""
    if not name:
        return None
    organization = user_organizations(user).filter(equals_ignoring_case("name", name)).first()
    if organization is not None:
        return organization_entity(organization)

    teams = list(
        Team.objects.filter(
            equals_ignoring_case("name", name), organization__memberships__user=user
        )
        .select_related("organization")
        .order_by("organization__name")[:2]
    )
    if len(teams) > 1:
        raise GraphQLError(
            f"Teams named '{name}' exist in several of your organizations "
            f"({teams[0].organization.name}, {teams[1].organization.name}); name the "
            f"organization's registry path instead."
        )
    if teams:
        return team_entity(teams[0])

    if user.get_username().lower() == name.lower():
        return user_entity(user)
    return None


def find_organization(user, name: str | None) -> Organization | None:
    """Find an organization of the user by name (its entity has the same name)."""
    if not name:
        return None
    return user_organizations(user).filter(equals_ignoring_case("name", name)).first()
