"""Create an API key for a user or a service account and print it as the last line."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.orgs.services import create_api_key


class Command(BaseCommand):
    help = (
        "Create an API key for USERNAME (a person or a service account). The key is printed "
        "once, as the last line of the output, and cannot be shown again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username", help="The user or service account that owns the key.")
        parser.add_argument(
            "--name",
            default="command line",
            help="A label for where the key is used (default: 'command line').",
        )

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is named '{username}'; check the spelling.")
        try:
            key, full_key = create_api_key(user=user, name=name)
        except ValidationError as error:
            raise CommandError(error.messages[0]) from None
        self.stderr.write(
            f"Created the key '{key.name}' for {user.username}. Store it now: it is shown "
            f"only once."
        )
        self.stdout.write(full_key)
