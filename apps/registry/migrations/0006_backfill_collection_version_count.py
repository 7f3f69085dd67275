"""Set each collection's version_count to the number of its links.

One UPDATE with a correlated COUNT(*) per collection, which PostgreSQL reads from the index
on collectionlink.collection_id. Running it again sets the same numbers.
"""

from django.db import migrations
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_links(apps, schema_editor):
    Collection = apps.get_model("registry", "Collection")
    CollectionLink = apps.get_model("registry", "CollectionLink")
    links = (
        CollectionLink.objects.filter(collection=OuterRef("pk"))
        .order_by()
        .values("collection")
        .annotate(total=Count("*"))
        .values("total")
    )
    Collection.objects.update(version_count=Coalesce(Subquery(links), 0))


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0005_collection_version_count"),
    ]

    operations = [
        # Reversing needs nothing: the previous migration's reversal drops the column.
        migrations.RunPython(count_links, migrations.RunPython.noop, elidable=True),
    ]
