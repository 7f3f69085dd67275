"""A member follows a path from code to its version and moves the alias in place."""

import re

from apps.registry import services
from tests.registry.conftest import COLLECTION_URL, HTMX, version_url


def test_member_moves_champion_found_by_path(member_client, linked, member):
    # As in the demo data, `champion` starts on v2.
    services.set_alias(link=linked[2], name="champion", actor=member)

    landing = member_client.get(
        "/path/acme/wandb-registry-model/fraud-detector:champion", follow=True
    )
    version_page = landing.content.decode()

    assert landing.redirect_chain == [(version_url(2), 302)]
    assert "acme/wandb-registry-model/fraud-detector:v2</code>" in version_page
    assert re.search(r'<li class="alias">\s*champion', version_page)

    # The row form of v0 on the collection page moves the alias without a page load.
    collection_page = member_client.get(COLLECTION_URL).content.decode()
    move_action = f"{version_url(0)}aliases/"
    assert f'hx-post="{move_action}" hx-target="#collection-versions"' in collection_page

    moved = member_client.post(
        move_action,
        {"name": "champion", "page": "collection", "next": COLLECTION_URL},
        headers=HTMX,
    )
    fragment = moved.content.decode()

    assert moved.status_code == 200
    row_0 = fragment[fragment.index('<tr id="version-row-0">') :]
    assert re.search(r'<li class="alias">\s*champion', row_0[: row_0.index("</tr>")])
    assert "<strong>mike</strong> moved the alias champion from v2 to v0" in fragment

    # The move stays in the collection's history, and the path now leads to v0.
    history = member_client.get(COLLECTION_URL).content.decode()
    again = member_client.get("/path/acme/wandb-registry-model/fraud-detector:champion")

    assert "<strong>mike</strong> moved the alias champion from v2 to v0" in history
    assert again["Location"] == version_url(0)
