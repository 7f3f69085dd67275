"""Benchmark: the REST API's version list and path resolution beside plain JSON views.

The bench builds the registry of bench/pages.py with set-based inserts (10,000 collections;
`collection-00000` links 100,000 versions, `collection-00001` links 60) in a throwaway
database: PostgreSQL when a server accepts connections on 127.0.0.1:5432, else a temporary
SQLite file.
A Member's API key then sends, through django.test.Client with DEBUG off and every
middleware, `Authorization: Bearer KEY` requests to:

    versions   GET /api/v1/orgs/ORG/registries/REGISTRY/collections/COLLECTION/versions/
               (the first page, 50 links, newest first)
    resolve    GET /api/v1/resolve/?path=ORG/wandb-registry-REGISTRY/COLLECTION:champion

each at both collection sizes, and to a plain view in bench/plain_views.py that returns the
same rows as a JsonResponse, all in the same interleaved rounds. The bench prints requests
per second (one client sending requests one after another, so 1 / the median time of a
request), the 95th-percentile time, and the SQL queries per request at both sizes, against
the targets: the API at 0.5x the plain view's rate or better, and at most 8 queries per
request whatever the collection size.

Run it from the project folder:

    .venv/bin/python bench/api.py [--rounds N] [--sqlite] [--explain]
"""

import argparse
import json
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

say = common.Reporter("api")

QUERY_TARGET = 8
RATE_RATIO_TARGET = 0.5
SMALL_VERSIONS = 60


class Endpoints:
    """The measured URLs, the API key's client, and a check that both sides agree."""

    def __init__(self, dataset: common.Dataset) -> None:
        from django.conf import settings
        from django.test import Client
        from django.urls import reverse

        from apps.orgs import services as org_services

        _key, secret = org_services.create_api_key(user=dataset.member, name="bench")
        self.client = Client(headers={"Authorization": f"Bearer {secret}"})
        org = dataset.organization.name
        registry = dataset.registry.name
        prefix = settings.REGISTRY_PATH_PREFIX

        sizes = (("large", dataset.big), ("small", dataset.small))
        self.pairs = {}
        for size, collection in sizes:
            kwargs = {"org": org, "registry": registry, "collection": collection.name}
            self.pairs[f"versions, {size}"] = (
                reverse("api:link-list", kwargs=kwargs),
                reverse("plain_link_list", kwargs=kwargs),
            )
        for size, collection in sizes:
            query = urlencode({"path": f"{org}/{prefix}{registry}/{collection.name}:champion"})
            self.pairs[f"resolve, {size}"] = (
                f"{reverse('api:resolve')}?{query}",
                f"{reverse('plain_resolve')}?{query}",
            )

    def get(self, url: str) -> dict:
        response = self.client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} returned {response.status_code}, not 200.")
        return json.loads(response.content)

    def check_same_rows(self) -> None:
        """Stop the bench unless the API and the plain view return the same rows."""
        for label, (url, plain_url) in self.pairs.items():
            body, plain = self.get(url), self.get(plain_url)
            rows = body.get("results", [body])
            plain_rows = plain.get("results", [plain])
            fields = ("index", "path", "aliases", "tags", "linked_by")
            seen = [[row[field] for field in fields] for row in rows]
            plain_seen = [[row[field] for field in fields] for row in plain_rows]
            if seen != plain_seen or not seen:
                raise RuntimeError(f"{label}: the API returns {seen}, the plain view {plain_seen}.")
            if [row["source"]["path"] for row in rows] != [
                row["source"]["path"] for row in plain_rows
            ]:
                raise RuntimeError(f"{label}: the API and the plain view name other sources.")


def run(arguments: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    database = common.database_description()
    say(f"Building the registry on {database}.")
    dataset = common.build_dataset(
        say,
        collections=arguments.collections,
        versions=arguments.versions,
        small_versions=SMALL_VERSIONS,
    )
    endpoints = Endpoints(dataset)
    endpoints.check_same_rows()

    queries = {}
    for label, (url, plain_url) in endpoints.pairs.items():
        queries[label] = common.count_queries(lambda url=url: endpoints.get(url))
        queries[f"{label} plain"] = common.count_queries(lambda url=plain_url: endpoints.get(url))

    cases = []
    for label, (url, plain_url) in endpoints.pairs.items():
        cases.append(common.Case(label, lambda url=url: endpoints.get(url)))
        cases.append(common.Case(f"{label} plain", lambda url=plain_url: endpoints.get(url)))
    say(f"Timing {len(cases)} requests per round, {arguments.rounds} rounds, interleaved.")
    timings = common.measure(cases, rounds=arguments.rounds)

    report(dataset, database, arguments.rounds, endpoints, queries, timings)
    if arguments.explain:
        for label in endpoints.pairs:
            print(f"\n== {label}: the API's queries\n{common.explain(queries[label])}")
            plain = queries[f"{label} plain"]
            print(f"\n== {label}: the plain view's queries\n{common.explain(plain)}")
    return 0


def report(dataset, database, rounds, endpoints, queries, timings) -> None:
    def rate(label: str) -> float:
        return 1 / common.median(timings[label].total)

    def ms(values: list[float], statistic) -> str:
        return f"{statistic(values) * 1000:.1f}"

    print()
    print(f"database      {database}")
    print(
        f"data          {dataset.collections:,} collections in one registry; large: "
        f"{dataset.big.name} with {dataset.versions:,} linked versions, small: "
        f"{dataset.small.name} with {dataset.small_versions}"
    )
    print(f"rounds        {rounds}, the eight requests of a round interleaved")
    print()
    header = (
        f"{'endpoint':<18}{'queries':>8}{'req/s':>8}{'p95 ms':>8}{'sql ms':>8}"
        f"{'plain q':>9}{'plain req/s':>13}{'plain p95':>11}{'plain sql':>11}{'api/plain':>11}"
    )
    print(header)
    print("-" * len(header))
    ratios = []
    for label in endpoints.pairs:
        plain = f"{label} plain"
        ratio = rate(label) / rate(plain)
        ratios.append(ratio)
        print(
            f"{label:<18}{len(queries[label]):>8}{rate(label):>8.0f}"
            f"{ms(timings[label].total, common.p95):>8}"
            f"{ms(timings[label].sql, common.median):>8}{len(queries[plain]):>9}"
            f"{rate(plain):>13.0f}{ms(timings[plain].total, common.p95):>11}"
            f"{ms(timings[plain].sql, common.median):>11}{ratio:>11.2f}"
        )
    print()
    counts = [len(queries[label]) for label in endpoints.pairs]
    same = all(
        len(queries[f"{kind}, large"]) == len(queries[f"{kind}, small"])
        for kind in ("versions", "resolve")
    )
    print(
        f"target: at most {QUERY_TARGET} queries per request   worst {max(counts)}, "
        f"{'the same' if same else 'different'} at both sizes  "
        f"{common.verdict(max(counts) <= QUERY_TARGET and same)}"
    )
    print(
        f"target: API / plain rate >= {RATE_RATIO_TARGET}        worst {min(ratios):.2f}  "
        f"{common.verdict(min(ratios) >= RATE_RATIO_TARGET)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=150, help="Interleaved rounds of timing (default 150)."
    )
    parser.add_argument(
        "--collections", type=int, default=10_000, help="Collections (default 10,000)."
    )
    parser.add_argument(
        "--versions",
        type=int,
        default=100_000,
        help="Linked versions of the large collection (default 100,000).",
    )
    parser.add_argument("--sqlite", action="store_true", help="Use SQLite even if PostgreSQL runs.")
    parser.add_argument(
        "--explain", action="store_true", help="Print the plan of every query of each request."
    )
    arguments = parser.parse_args()
    if arguments.rounds < 1:
        parser.error("--rounds must be 1 or more.")
    if arguments.collections < 2 or arguments.versions < SMALL_VERSIONS:
        parser.error(f"The bench needs at least 2 collections and {SMALL_VERSIONS} versions.")

    with common.throwaway_database("api", force_sqlite=arguments.sqlite, say=say) as url:
        common.configure_django(url)
        return run(arguments)


if __name__ == "__main__":
    sys.exit(main())
