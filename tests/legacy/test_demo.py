"""manage.py load_demo: nlp-team's legacy registry contains the nlp-team MLflow store."""

from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from apps.legacy.models import LegacyRegistry, LegacyVersion, RegisteredModel


def load_demo() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def legacy_rows() -> dict[str, list]:
    return {
        "registries": sorted(LegacyRegistry.objects.values_list("pk", "team__name")),
        "models": sorted(RegisteredModel.objects.values_list("pk", "name", "next_index")),
        "versions": sorted(LegacyVersion.objects.values_list("pk", "model__name", "index")),
    }


# One test loads the demo twice, because each load imports the store's 401 versions.
@override_settings(DEBUG=True)
def test_demo_legacy_registries(db):
    output = load_demo()
    first = legacy_rows()

    again = load_demo()

    assert legacy_rows() == first
    assert "into nlp-team/model-registry: 39 registered models created" in output
    assert "0 registered models created, 0 versions linked now, 401 linked before" in again

    users = get_user_model().objects
    dave, alice = users.get(username="dave"), users.get(username="alice")
    nlp = LegacyRegistry.objects.get(team__name="nlp-team")
    fraud = LegacyRegistry.objects.get(team__name="fraud-team")
    assert list(LegacyRegistry.objects.visible_to(dave)) == [nlp]
    assert list(LegacyRegistry.objects.visible_to(alice)) == [fraud]
    assert RegisteredModel.objects.visible_to(dave).count() == 39
    assert not RegisteredModel.objects.filter(legacy_registry=fraud).exists()
    assert LegacyVersion.objects.visible_to(dave).count() == 401
    bert = RegisteredModel.objects.get(legacy_registry=nlp, name="sentiment-bert")
    champion = bert.aliases.get(name="champion").version
    assert champion.index == 151
    assert champion.version.artifact.project.team.name == "nlp-team"
