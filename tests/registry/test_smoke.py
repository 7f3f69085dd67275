from apps.registry.models import Alias


def test_linked_fixture_sets_latest_and_champion(linked):
    aliases = {a.name: a.link.index for a in Alias.objects.all()}
    assert aliases == {"champion": 1, "latest": 2}
