"""Deliver, in this process, the webhook executions whose queued task was lost."""

from django.core.management.base import BaseCommand

from apps.automations.models import Execution
from apps.automations.tasks import STALLED_AFTER, deliver_until_settled, stalled_execution_ids


class Command(BaseCommand):
    help = (
        "Deliver the pending webhook executions that no task has touched for "
        f"{int(STALLED_AFTER.total_seconds() // 60)} minutes, for example because the web "
        "process that ran them without a broker stopped. Runs every attempt here, waiting out "
        "the retry backoff, so it may take minutes."
    )

    def handle(self, *args, **options) -> None:
        ids = stalled_execution_ids()
        if not ids:
            self.stdout.write("No stalled webhook executions.")
            return
        for execution_id in ids:
            deliver_until_settled(execution_id)
            execution = Execution.objects.get(pk=execution_id)
            self.stdout.write(
                f"Execution {execution_id}: {execution.status} after "
                f"{execution.attempt_count} attempt(s)."
            )
