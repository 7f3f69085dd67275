"""Tasks that only the worker tests use; the test worker loads them with `--include`.

Each task appends lines to a file the test names, so the test process can see every run,
including runs in a worker process that was killed afterwards.
"""

import os
import time
from pathlib import Path

from celery import shared_task

APPEND_LINE = "tests.worker.append_line"
FLAKY = "tests.worker.flaky"
STALL_FIRST_RUN = "tests.worker.stall_first_run"

FLAKY_MAX_RETRIES = 3
# Longer than any test waits, so only a kill ends the first run of stall_first_run.
STALL_SECONDS = 600


class TransientError(Exception):
    """A failure that the task's autoretry settings retry."""


def append(path: str, line: str) -> None:
    with open(path, "a", encoding="utf-8") as file:
        file.write(line + "\n")


def read_lines(path: str) -> list[str]:
    file = Path(path)
    return file.read_text(encoding="utf-8").splitlines() if file.exists() else []


@shared_task(name=APPEND_LINE)
def append_line(path: str, text: str) -> str:
    append(path, text)
    return text


@shared_task(
    bind=True,
    name=FLAKY,
    autoretry_for=(TransientError,),
    max_retries=FLAKY_MAX_RETRIES,
    default_retry_delay=0,
)
def flaky(self, path: str, failures: int) -> int:
    """Fail the first `failures` attempts, then succeed; return the attempt number."""
    attempt = self.request.retries
    if attempt < failures:
        append(path, f"attempt {attempt} failed")
        raise TransientError(f"attempt {attempt} of {failures} planned failures")
    append(path, f"attempt {attempt} succeeded")
    return attempt


@shared_task(bind=True, name=STALL_FIRST_RUN)
def stall_first_run(self, path: str) -> dict:
    """Record the start; on the first run, block until the test kills the process."""
    first_run = not any(line.startswith("start ") for line in read_lines(path))
    identity = {"pid": os.getpid(), "hostname": self.request.hostname}
    append(path, f"start pid={identity['pid']} hostname={identity['hostname']}")
    if first_run:
        time.sleep(STALL_SECONDS)
    append(path, f"done pid={identity['pid']} hostname={identity['hostname']}")
    return identity
