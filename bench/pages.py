"""Benchmark: the registry and collection pages beside plain Django views of the same rows.

The bench builds, with set-based inserts, a `model` registry of 10,000 collections whose
first collection by name links 100,000 versions (aliases on every 100th, tags on every 10th),
in a throwaway database: PostgreSQL when a server accepts connections on 127.0.0.1:5432 (a
uniquely named database, dropped at the end), else a temporary SQLite file. A Member signed
in with a session then requests, through django.test.Client with DEBUG off and every
middleware:

    registry page     the registry's first page of collections, sorted by name
    collection first  the big collection's first page of versions (newest index first)
    collection deep   its last page (indices down to v0), opened with the keyset cursor
                      that the page before it links to

and, for each, a plain view in bench/plain_views.py that lists the same rows with a bare
template. All six run in the same rounds, interleaved. The bench prints each page's median
and 95th-percentile time, its SQL query count at the full size and at a small one, and the
ratios against the targets: at most 8 queries per page whatever the size, the collection
page within 2x of the plain view, and the deepest page within 1.25x of the first.

Run it from the project folder:

    .venv/bin/python bench/pages.py [--rounds N] [--sqlite] [--explain]
                                    [--collections N] [--versions N]
"""

import argparse
import math
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

say = common.Reporter("pages")

QUERY_TARGET = 8
PLAIN_RATIO_TARGET = 2.0
DEPTH_RATIO_TARGET = 1.25

PAGE_ROW = re.compile(r'id="version-row-(\d+)"')
PLAIN_ROW = re.compile(r">v(\d+)</a>")
COLLECTION_ROW = re.compile(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>')
PLAIN_COLLECTION_ROW = re.compile(r'<td><a href="[^"]+">([^<]+)</a></td>')


class Pages:
    """The URLs of the measured pages and their plain counterparts, and a signed-in client."""

    def __init__(self, dataset: common.Dataset) -> None:
        from django.conf import settings
        from django.test import Client
        from django.urls import reverse

        from apps.registry.models import CollectionLink

        self.client = Client()
        self.client.force_login(dataset.member)
        org = dataset.organization.name

        def urls(registry, collection=None) -> tuple[str, str]:
            kwargs = {"org": org, "registry": registry.name}
            if collection is None:
                return (
                    reverse("registry:registry_detail", kwargs=kwargs),
                    reverse("plain_registry", kwargs=kwargs),
                )
            kwargs["collection"] = collection.name
            return (
                reverse("registry:collection_detail", kwargs=kwargs),
                reverse("plain_collection", kwargs=kwargs),
            )

        self.registry, self.plain_registry = urls(dataset.registry)
        self.small_registry, self.plain_small_registry = urls(dataset.small_registry)
        self.collection, self.plain_collection = urls(dataset.registry, dataset.big)
        self.small_collection, self.plain_small_collection = urls(dataset.registry, dataset.small)

        # The last page holds what is left after the full pages before it; the page before
        # it ends on the index just above them, and its "Older" link carries that index.
        size = settings.REGISTRY_PAGE_SIZE
        total = dataset.versions
        self.last_page_rows = total - (math.ceil(total / size) - 1) * size
        indices = CollectionLink.objects.filter(collection=dataset.big).order_by("index")
        cursor = indices.values_list("index", flat=True)[self.last_page_rows]
        self.deepest = f"{self.collection}?after={cursor}"
        self.plain_deepest = f"{self.plain_collection}?after={cursor}"

    def get(self, url: str) -> str:
        response = self.client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} returned {response.status_code}, not 200.")
        return response.content.decode()


def check_same_rows(pages: Pages, size: int) -> None:
    """Stop the bench unless each page and its plain view list the same rows, in order."""
    pairs = [
        (
            "registry page",
            pages.registry,
            pages.plain_registry,
            COLLECTION_ROW,
            PLAIN_COLLECTION_ROW,
        ),
        ("collection first", pages.collection, pages.plain_collection, PAGE_ROW, PLAIN_ROW),
        ("collection deep", pages.deepest, pages.plain_deepest, PAGE_ROW, PLAIN_ROW),
    ]
    for label, url, plain_url, pattern, plain_pattern in pairs:
        rows = pattern.findall(pages.get(url))
        plain_rows = plain_pattern.findall(pages.get(plain_url))
        if rows != plain_rows or not rows:
            raise RuntimeError(f"{label}: the page lists {rows}, the plain view {plain_rows}.")
    deepest = pages.get(pages.deepest)
    rows = PAGE_ROW.findall(deepest)
    if rows[-1] != "0" or len(rows) != pages.last_page_rows or 'rel="next"' in deepest:
        raise RuntimeError(f"The deepest page is not the last one: it lists {rows}.")
    if len(PAGE_ROW.findall(pages.get(pages.collection))) != size:
        raise RuntimeError(f"The collection's first page does not list {size} versions.")


def check_version_counts(dataset: common.Dataset) -> None:
    """Stop the bench unless every collection's stored version count equals its links."""
    from django.db.models import Count, F

    from apps.registry.models import Collection

    wrong = list(
        Collection.objects.filter(registry=dataset.registry)
        .annotate(links_now=Count("links"))
        .exclude(version_count=F("links_now"))
        .values_list("name", "version_count", "links_now")[:5]
    )
    if wrong:
        raise RuntimeError(
            f"Stored version counts differ from the links (name, stored, links): {wrong}."
        )


def run(arguments: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    database = common.database_description()
    say(f"Building the registry on {database}.")
    dataset = common.build_dataset(
        say, collections=arguments.collections, versions=arguments.versions, small_versions=3
    )
    rounds = arguments.rounds
    pages = Pages(dataset)
    size = settings.REGISTRY_PAGE_SIZE
    check_version_counts(dataset)
    check_same_rows(pages, size)

    measured = [
        ("registry page", pages.registry, pages.plain_registry),
        ("collection first", pages.collection, pages.plain_collection),
        ("collection deep", pages.deepest, pages.plain_deepest),
    ]
    small = {
        "registry page": (pages.small_registry, pages.plain_small_registry),
        "collection first": (pages.small_collection, pages.plain_small_collection),
    }
    queries = {}
    for label, url, plain_url in measured:
        queries[label] = common.count_queries(lambda url=url: pages.get(url))
        queries[f"{label} plain"] = common.count_queries(lambda url=plain_url: pages.get(url))
    small_counts = {
        label: (
            len(common.count_queries(lambda url=url: pages.get(url))),
            len(common.count_queries(lambda url=plain_url: pages.get(url))),
        )
        for label, (url, plain_url) in small.items()
    }

    cases = []
    for label, url, plain_url in measured:
        cases.append(common.Case(label, lambda url=url: pages.get(url)))
        cases.append(common.Case(f"{label} plain", lambda url=plain_url: pages.get(url)))
    say(f"Timing {len(cases)} requests per round, {rounds} rounds, interleaved.")
    timings = common.measure(cases, rounds=rounds)

    report(dataset, database, size, rounds, measured, queries, small_counts, timings)
    if arguments.explain:
        for label, _url, _plain_url in measured:
            print(f"\n== {label}: the page's queries\n{common.explain(queries[label])}")
            plain = queries[f"{label} plain"]
            print(f"\n== {label}: the plain view's queries\n{common.explain(plain)}")
    return 0


def report(dataset, database, size, rounds, measured, queries, small_counts, timings) -> None:
    def ms(value: float) -> str:
        return f"{value * 1000:.1f}"

    median = {label: common.median(timing.total) for label, timing in timings.items()}
    print()
    print(f"database      {database}")
    print(
        f"data          {dataset.collections:,} collections in one registry; "
        f"{dataset.big.name} links {dataset.versions:,} versions, the others "
        f"{dataset.small_versions} each; {size} rows per page"
    )
    print(f"rounds        {rounds}, the six requests of a round interleaved")
    print()
    header = (
        f"{'page':<18}{'queries':>8}{'median ms':>11}{'p95 ms':>8}{'sql ms':>8}"
        f"{'plain q':>9}{'plain med':>11}{'plain p95':>11}{'plain sql':>11}{'page/plain':>12}"
    )
    print(header)
    print("-" * len(header))
    for label, _url, _plain_url in measured:
        plain = f"{label} plain"
        print(
            f"{label:<18}{len(queries[label]):>8}{ms(median[label]):>11}"
            f"{ms(common.p95(timings[label].total)):>8}"
            f"{ms(common.median(timings[label].sql)):>8}{len(queries[plain]):>9}"
            f"{ms(median[plain]):>11}{ms(common.p95(timings[plain].total)):>11}"
            f"{ms(common.median(timings[plain].sql)):>11}"
            f"{median[label] / median[plain]:>12.2f}"
        )
    print()

    counts = {label: len(queries[label]) for label, _url, _plain_url in measured}
    small_registry, _ = small_counts["registry page"]
    small_collection, _ = small_counts["collection first"]
    worst = max(*counts.values(), small_registry, small_collection)
    print(
        f"queries at a small size: registry page {small_registry} "
        f"({dataset.small_registry.name}, 5 collections), collection page {small_collection} "
        f"({dataset.small.name}, {dataset.small_versions} versions)"
    )
    first_ratio = median["collection first"] / median["collection first plain"]
    deep_ratio = median["collection deep"] / median["collection deep plain"]
    depth_ratio = median["collection deep"] / median["collection first"]
    print(
        f"target: at most {QUERY_TARGET} queries per page         "
        f"worst {worst:<5} {common.verdict(worst <= QUERY_TARGET)}"
    )
    print(
        f"target: collection page / plain <= {PLAIN_RATIO_TARGET}  "
        f"first {first_ratio:.2f}, deepest {deep_ratio:.2f}  "
        f"{common.verdict(max(first_ratio, deep_ratio) <= PLAIN_RATIO_TARGET)}"
    )
    print(
        f"target: deepest / first page <= {DEPTH_RATIO_TARGET}    "
        f"{depth_ratio:.2f}  {common.verdict(depth_ratio <= DEPTH_RATIO_TARGET)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=200, help="Interleaved rounds of timing (default 200)."
    )
    parser.add_argument(
        "--collections", type=int, default=10_000, help="Collections (default 10,000)."
    )
    parser.add_argument(
        "--versions",
        type=int,
        default=100_000,
        help="Linked versions of the big collection (default 100,000).",
    )
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even if PostgreSQL runs.")
    parser.add_argument(
        "--explain", action="store_true", help="Print the plan of every query of each page."
    )
    arguments = parser.parse_args()
    if arguments.rounds < 1:
        parser.error("--rounds must be 1 or more.")
    if arguments.collections < 2 or arguments.versions < 100:
        parser.error("The bench needs at least 2 collections and 100 versions.")

    with common.throwaway_database("pages", force_sqlite=arguments.sqlite, say=say) as url:
        common.configure_django(url)
        return run(arguments)


if __name__ == "__main__":
    sys.exit(main())
