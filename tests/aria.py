"""Checks on rendered HTML that screen readers depend on."""

from html.parser import HTMLParser


class _IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for referenced in (values.get("aria-describedby") or "").split():
            self.references.append((values.get("name") or values.get("id") or tag, referenced))


def missing_described_by_ids(html: str) -> list[str]:
    """List "element -> id" for each aria-describedby id that no element on the page has."""
    collector = _IdCollector()
    collector.feed(html)
    return [
        f"{element} -> {referenced}"
        for element, referenced in collector.references
        if referenced not in collector.ids
    ]


def described_by_ids(html: str) -> list[str]:
    """List every id that an aria-describedby attribute on the page names."""
    collector = _IdCollector()
    collector.feed(html)
    return [referenced for _, referenced in collector.references]
