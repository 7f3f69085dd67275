"""The permission matrix of the registry pages, generated from the role table.

Nothing below lists an expected response by hand. The data consists of:

    ROLE_TABLE   for each permission of the role table, the lowest role that has it
    PERSONAS     how each persona holds roles: a granted role, a team's role, an org role
    REGISTRIES   the registries of the world: Restricted, Organization, and the core one
    ACTIONS      every page, fragment and action, with the permission it needs

and `expect` derives each cell's response from them with the rules of the product:

    anonymous                          302 to the sign-in page
    cannot see the registry            404, the same bytes as for a registry that is missing
    role below the one needed          403, with a message naming the role needed
    forbidden on a core registry       422 with htmx; the page again (200) without it
    otherwise                          the action's success: 200, or 302 after a plain POST

and a write adds audit rows exactly when it succeeds.

The effective role is the highest of the granted role, the team's role, Viewer for org
members while the visibility is Organization, and Admin for org admins.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from apps.registry.roles import Role

RV, V, M, A = Role.RESTRICTED_VIEWER, Role.VIEWER, Role.MEMBER, Role.ADMIN

# The role table: each permission and the lowest role that has it.
ROLE_TABLE: dict[str, Role] = {
    # see the registry, its collections, versions, metadata, settings and members
    "see": RV,
    # download files, use a version from code
    "download": V,
    # create collections, link versions, edit descriptions and tags, move ordinary aliases
    "change": M,
    # unlink versions, delete collections (neither touching a protected alias)
    "unlink": M,
    # put or remove protected aliases; unlink or delete what carries one
    "protected": A,
    # edit name, description, accepted types, protected-alias list, visibility
    "settings": A,
    # add and remove users and teams, change roles, make an owner, delete the registry
    "members": A,
}

# Who may create a custom registry: org admins and org members, not org viewers.
REGISTRY_CREATORS = {"admin", "member"}


@dataclass(frozen=True)
class Persona:
    name: str
    username: str | None  # None: not signed in
    org_role: str | None  # role in `acme`; None for anonymous and for the outsider
    granted: Role | None = None  # granted directly on every registry of the world
    team_role: Role | None = None  # granted to `ml-team`, which the persona is in

    @property
    def signed_in(self) -> bool:
        return self.username is not None


PERSONAS = [
    Persona("anonymous", None, None),
    Persona("outsider", "oscar", None),
    Persona("org_viewer", "vera", "viewer"),
    Persona("org_member", "otto", "member"),
    Persona("restricted_viewer", "rita", "member", granted=RV),
    Persona("viewer", "vic", "member", granted=V),
    Persona("member", "max", "member", granted=M),
    Persona("admin", "ada", "member", granted=A),
    Persona("team_member", "tina", "member", team_role=M),
    Persona("org_admin", "olivia", "admin"),
]


@dataclass(frozen=True)
class RegistrySpec:
    key: str
    name: str
    visibility: str
    is_core: bool = False


REGISTRIES = [
    RegistrySpec("restricted", "secret-models", "restricted"),
    RegistrySpec("organization", "shared-models", "organization"),
    RegistrySpec("core", "model", "organization", is_core=True),
]


def effective_role(persona: Persona, registry: RegistrySpec) -> Role | None:
    if persona.org_role is None:
        return None
    roles = [role for role in (persona.granted, persona.team_role) if role is not None]
    if registry.visibility == "organization":
        roles.append(V)
    if persona.org_role == "admin":
        roles.append(A)
    return max(roles, default=None)


# Actions -------------------------------------------------------------------------------------

C = "collections/Fraud-Detector/"
V0 = f"{C}versions/v0/"
V1 = f"{C}versions/v1/"

PAGE, HTMX = "page", "htmx"
PLAIN, PROTECTED = "plain", "protected"


@dataclass(frozen=True)
class Action:
    """One request a person can make on a registry of the world.

    `path` is relative to the registry's URL unless it starts with "/"; "{registry}" and
    "{file}" in it and in `data` are filled in per registry. `shows` is text the answer
    contains when the action succeeds.
    """

    name: str
    method: str
    path: str
    permission: str
    data: dict | Callable[[RegistrySpec], dict] | None = None
    transports: tuple[str, ...] = (PAGE, HTMX)
    audited: bool = False
    # Core registries reject it (rename, visibility, deletion).
    custom_only: bool = False
    # It touches the alias `production`, which the "protected" state protects.
    touches_protected: bool = False
    # A list across registries (home, search): it lists the registry, or leaves it out.
    listing: bool = False
    # Only these registries (keys of REGISTRIES); all when empty.
    only: tuple[str, ...] = ()
    shows: str = ""
    # Text of the htmx response (a fragment), when it differs from `shows`.
    fragment_shows: str | None = None
    # GET requests that redirect on success, like /path/.
    redirects: bool = False

    def shows_for(self, transport: str) -> str:
        if transport == HTMX and self.fragment_shows is not None:
            return self.fragment_shows
        return self.shows

    def data_for(self, registry: RegistrySpec) -> dict:
        data = self.data(registry) if callable(self.data) else (self.data or {})
        return {key: value.format(registry=registry.name) for key, value in data.items()}


def _other_visibility(registry: RegistrySpec) -> dict:
    target = "organization" if registry.visibility == "restricted" else "restricted"
    return {"visibility": target, "confirmed": "true"}


READS = [
    Action(
        "registry page",
        "get",
        "",
        "see",
        shows="<h1>{registry}</h1>",
        fragment_shows='<section id="collection-list"',
    ),
    Action("members page", "get", "members/", "see", transports=(PAGE,), shows="ml-team"),
    Action(
        "collection page",
        "get",
        C,
        "see",
        shows="<h1>Fraud-Detector</h1>",
        fragment_shows='<section id="collection-versions"',
    ),
    Action("version page", "get", V0, "see", transports=(PAGE,), shows="auc"),
    Action("download file", "get", f"{V0}files/{{file}}/", "download", transports=(PAGE,)),
    Action(
        "resolve path",
        "get",
        "/path/acme/wandb-registry-{registry}/Fraud-Detector:champion",
        "see",
        transports=(PAGE,),
        redirects=True,
    ),
    Action(
        "settings page", "get", "settings/", "settings", transports=(PAGE,), shows="Settings of"
    ),
    Action(
        "member autocomplete",
        "get",
        "settings/members/candidates/?name=um",
        "settings",
        transports=(HTMX,),
        shows="Add uma",
    ),
    Action(
        "activity page",
        "get",
        "activity/",
        "settings",
        shows="<h1>Activity of {registry}</h1>",
        fragment_shows='<section id="activity-list"',
    ),
    Action("home list", "get", "/", "see", transports=(PAGE,), listing=True),
    Action("search", "get", "/?q=Fraud", "see", listing=True),
]

WRITES = [
    Action("star", "post", "star/", "see", {"starred": "true"}, fragment_shows="Unstar"),
    Action(
        "create collection",
        "post",
        "new-collection/",
        "change",
        {"name": "Churn", "type": "model"},
        audited=True,
    ),
    Action(
        "edit collection description",
        "post",
        f"{C}description/",
        "change",
        {"text": "Reviewed."},
        audited=True,
        shows="Reviewed.",
    ),
    Action("add collection tag", "post", f"{C}tags/", "change", {"name": "eu"}, audited=True),
    Action(
        "remove collection tag", "post", f"{C}tags/remove/", "change", {"name": "crm"}, audited=True
    ),
    Action(
        "delete collection",
        "post",
        "collections/Other-Model/delete/",
        "unlink",
        {"confirm_name": "Other-Model"},
        audited=True,
    ),
    Action(
        "delete collection holding production",
        "post",
        f"{C}delete/",
        "unlink",
        {"confirm_name": "Fraud-Detector"},
        audited=True,
        touches_protected=True,
    ),
    Action("set alias", "post", f"{V0}aliases/", "change", {"name": "staging"}, audited=True),
    Action(
        "move alias production",
        "post",
        f"{V0}aliases/",
        "change",
        {"name": "production"},
        audited=True,
        touches_protected=True,
    ),
    Action(
        "remove alias", "post", f"{V0}aliases/remove/", "change", {"name": "champion"}, audited=True
    ),
    Action(
        "remove alias production",
        "post",
        f"{V1}aliases/remove/",
        "change",
        {"name": "production"},
        audited=True,
        touches_protected=True,
    ),
    Action("add version tag", "post", f"{V0}tags/", "change", {"name": "reviewed"}, audited=True),
    Action(
        "remove version tag", "post", f"{V0}tags/remove/", "change", {"name": "gold"}, audited=True
    ),
    Action(
        "edit version description",
        "post",
        f"{V0}description/",
        "change",
        {"text": "Checked."},
        audited=True,
    ),
    Action("unlink version", "post", f"{V0}unlink/", "unlink", audited=True),
    Action(
        "unlink version holding production",
        "post",
        f"{V1}unlink/",
        "unlink",
        audited=True,
        touches_protected=True,
    ),
    Action(
        "edit registry description",
        "post",
        "settings/details/",
        "settings",
        {"description": "Reviewed by the team."},
        audited=True,
    ),
    Action(
        "rename registry",
        "post",
        "settings/details/",
        "settings",
        {"name": "{registry}-renamed", "description": ""},
        audited=True,
        custom_only=True,
    ),
    Action(
        "add accepted type",
        "post",
        "settings/types/",
        "settings",
        {"add_types": "dataset"},
        audited=True,
    ),
    Action(
        "ask to widen visibility",
        "post",
        "settings/visibility/",
        "settings",
        {"visibility": "organization"},
        only=("restricted",),
        shows="more people the Viewer role",
    ),
    Action(
        "switch visibility",
        "post",
        "settings/visibility/",
        "settings",
        _other_visibility,
        audited=True,
        custom_only=True,
    ),
    Action(
        "protect alias",
        "post",
        "settings/protected-aliases/",
        "settings",
        {"name": "gold-standard"},
        audited=True,
    ),
    Action(
        "unprotect alias",
        "post",
        "settings/protected-aliases/remove/",
        "settings",
        {"name": "frozen"},
        audited=True,
    ),
    Action(
        "add user",
        "post",
        "settings/members/",
        "members",
        {"kind": "user", "name": "uma"},
        audited=True,
    ),
    Action(
        "add team",
        "post",
        "settings/members/",
        "members",
        {"kind": "team", "name": "data-team"},
        audited=True,
    ),
    Action(
        "change role",
        "post",
        "settings/members/role/",
        "members",
        {"kind": "user", "name": "vic", "role": "member"},
        audited=True,
    ),
    Action(
        "remove member",
        "post",
        "settings/members/remove/",
        "members",
        {"kind": "user", "name": "rita"},
        audited=True,
    ),
    Action(
        "make owner",
        "post",
        "settings/members/owner/",
        "members",
        {"kind": "user", "name": "vic"},
        audited=True,
    ),
    Action(
        "delete registry",
        "post",
        "settings/delete/",
        "members",
        {"confirm_name": "{registry}"},
        audited=True,
        custom_only=True,
    ),
]

ACTIONS = READS + WRITES


# Organization actions: creating a registry ---------------------------------------------------


@dataclass(frozen=True)
class OrgAction:
    name: str
    method: str
    path: str
    data: dict = field(default_factory=dict)
    transports: tuple[str, ...] = (PAGE,)
    audited: bool = False


ORG_ACTIONS = [
    OrgAction("create registry form", "get", "/orgs/acme/create-registry/"),
    OrgAction(
        "create registry",
        "post",
        "/orgs/acme/create-registry/",
        {
            "name": "new-space",
            "visibility": "restricted",
            "types_mode": "listed",
            "accepted_types": "model, dataset",
        },
        transports=(PAGE, HTMX),
        audited=True,
    ),
]


# Expected responses --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    persona: Persona
    registry: RegistrySpec | None
    action: Action | OrgAction
    transport: str
    state: str
    status: int
    outcome: str  # login, hidden, denied, rejected, done, listed, unlisted
    audited: bool
    role: Role | None = None
    needed: Role | None = None

    @property
    def id(self) -> str:
        where = self.registry.key if self.registry else "org"
        action = self.action.name.replace(" ", "_")
        return f"{action}-{where}-{self.state}-{self.transport}-{self.persona.name}"


def needed_role(action: Action, state: str, role: Role) -> Role:
    """Return the role that a 403 names: the first gate the persona fails.

    Work on a protected alias is content work first, so a role below Member fails the
    Member gate before the Admin one.
    """
    if action.touches_protected and state == PROTECTED:
        return M if role < M else ROLE_TABLE["protected"]
    return ROLE_TABLE[action.permission]


def _success_status(action: Action, transport: str) -> int:
    if action.method == "get":
        return 302 if action.redirects else 200
    if action.name == "ask to widen visibility":
        # A confirmation step: the page (or its section) again, nothing written.
        return 200
    return 200 if transport == HTMX else 302


def expect(
    persona: Persona, registry: RegistrySpec, action: Action, transport: str, state: str
) -> Cell:
    def cell(status: int, outcome: str, audited: bool = False, needed: Role | None = None):
        return Cell(
            persona, registry, action, transport, state, status, outcome, audited, role, needed
        )

    role = effective_role(persona, registry)
    if not persona.signed_in:
        return cell(302, "login")
    if action.listing:
        return cell(200, "listed" if role is not None else "unlisted")
    if role is None:
        return cell(404, "hidden")
    needed = needed_role(action, state, role)
    if role < needed:
        return cell(403, "denied", needed=needed)
    if action.custom_only and registry.is_core:
        return cell(422 if transport == HTMX else 200, "rejected")
    return cell(_success_status(action, transport), "done", audited=action.audited)


def expect_org(persona: Persona, action: OrgAction, transport: str) -> Cell:
    def cell(status: int, outcome: str, audited: bool = False):
        return Cell(persona, None, action, transport, PLAIN, status, outcome, audited)

    if not persona.signed_in:
        return cell(302, "login")
    if persona.org_role is None:
        return cell(404, "hidden")
    if persona.org_role not in REGISTRY_CREATORS:
        return cell(403, "denied")
    if action.method == "get":
        return cell(200, "done")
    return cell(200 if transport == HTMX else 302, "done", audited=action.audited)


def generate() -> list[Cell]:
    cells = []
    for action in ACTIONS:
        states = (PLAIN, PROTECTED) if action.touches_protected else (PLAIN,)
        for registry in REGISTRIES:
            if action.only and registry.key not in action.only:
                continue
            for state in states:
                for transport in action.transports:
                    for persona in PERSONAS:
                        cells.append(expect(persona, registry, action, transport, state))
    for action in ORG_ACTIONS:
        for transport in action.transports:
            for persona in PERSONAS:
                cells.append(expect_org(persona, action, transport))
    return cells


CELLS = generate()
