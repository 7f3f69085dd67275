"""Template comments: Django's {# ... #} ends on its own line, or it shows on the page."""

from pathlib import Path

from django.conf import settings

TEMPLATE_ROOTS = [
    Path(settings.BASE_DIR) / "templates",
    *Path(settings.BASE_DIR).glob("apps/*/templates"),
]


def test_single_line_comments_close_on_their_line():
    unclosed = []
    for root in TEMPLATE_ROOTS:
        for path in sorted(root.rglob("*.html")):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                opened = line.rfind("{#")
                if opened != -1 and "#}" not in line[opened:]:
                    unclosed.append(f"{path.relative_to(settings.BASE_DIR)}:{number}")

    assert unclosed == [], "use {% comment %} for comments over several lines"
