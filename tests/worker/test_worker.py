"""Tasks sent through a real Redis broker to real `celery worker` processes."""

import os
import re
import signal
import time

import pytest
from django.conf import settings
from django.db import transaction

from tests.worker.conftest import TASK_TIMEOUT_SECONDS
from tests.worker.tasks import (
    APPEND_LINE,
    FLAKY,
    FLAKY_MAX_RETRIES,
    STALL_FIRST_RUN,
    TransientError,
    read_lines,
)

pytestmark = pytest.mark.worker


def drain(broker, worker, tmp_path):
    """Run one more task on the worker and wait for it.

    The worker has one pool process and takes messages in order, so once this task is done,
    every task sent to the queue before it has run.
    """
    marker = tmp_path / "drained.txt"
    result = broker.client.send_task(APPEND_LINE, args=[str(marker), "drained"], queue=worker.queue)
    assert result.get(timeout=TASK_TIMEOUT_SECONDS) == "drained", worker.log_tail()


def wait_for_line(path, prefix: str, count: int = 1, worker=None) -> list[str]:
    """Wait until the file has `count` lines starting with `prefix`; return those lines."""
    deadline = time.monotonic() + TASK_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        found = [line for line in read_lines(str(path)) if line.startswith(prefix)]
        if len(found) >= count:
            return found
        time.sleep(0.1)
    log = worker.log_tail() if worker else ""
    pytest.fail(f"no {count} line(s) '{prefix}...' in {path} after {TASK_TIMEOUT_SECONDS}s\n{log}")


def test_settings_acknowledge_late():
    # The redelivery tests below depend on these, because a worker that acknowledges a
    # message on receipt loses the task of a killed process.
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_task_runs_once(broker, session_worker, tmp_path):
    output = tmp_path / "once.txt"

    result = broker.client.send_task(
        APPEND_LINE, args=[str(output), "hello"], queue=session_worker.queue
    )

    assert result.get(timeout=TASK_TIMEOUT_SECONDS) == "hello"
    drain(broker, session_worker, tmp_path)
    assert read_lines(str(output)) == ["hello"]
    assert result.state == "SUCCESS"
    assert broker.queue_length(session_worker.queue) == 0


def test_failing_task_is_retried(broker, session_worker, tmp_path):
    output = tmp_path / "flaky.txt"

    result = broker.client.send_task(FLAKY, args=[str(output), 2], queue=session_worker.queue)

    assert result.get(timeout=TASK_TIMEOUT_SECONDS) == 2
    assert read_lines(str(output)) == [
        "attempt 0 failed",
        "attempt 1 failed",
        "attempt 2 succeeded",
    ]


def test_retries_stop_at_max(broker, session_worker, tmp_path):
    output = tmp_path / "always-failing.txt"

    result = broker.client.send_task(FLAKY, args=[str(output), 99], queue=session_worker.queue)

    with pytest.raises(TransientError, match="planned failures"):
        result.get(timeout=TASK_TIMEOUT_SECONDS)
    assert result.state == "FAILURE"
    expected = [f"attempt {attempt} failed" for attempt in range(FLAKY_MAX_RETRIES + 1)]
    assert read_lines(str(output)) == expected
    drain(broker, session_worker, tmp_path)
    assert read_lines(str(output)) == expected


class Rollback(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_task_in_rolled_back_transaction_never_runs(broker, session_worker, tmp_path):
    output = tmp_path / "on-commit.txt"
    sent = []

    def send(text):
        return lambda: sent.append(
            broker.client.send_task(
                APPEND_LINE, args=[str(output), text], queue=session_worker.queue
            )
        )

    with pytest.raises(Rollback), transaction.atomic():
        transaction.on_commit(send("rolled back"))
        raise Rollback
    with transaction.atomic():
        transaction.on_commit(send("committed"))

    assert len(sent) == 1
    assert sent[0].get(timeout=TASK_TIMEOUT_SECONDS) == "committed"
    drain(broker, session_worker, tmp_path)
    assert read_lines(str(output)) == ["committed"]
    assert broker.queue_length(session_worker.queue) == 0


def parse_run(line: str) -> dict:
    match = re.fullmatch(r"(start|done) pid=(\d+) hostname=(\S+)", line)
    assert match, line
    return {"event": match.group(1), "pid": int(match.group(2)), "hostname": match.group(3)}


def test_killed_pool_process_task_reruns(broker, start_worker, tmp_path):
    # The long visibility timeout rules out redelivery by Redis: only the worker's
    # reject_on_worker_lost can put the task back in the queue.
    worker = start_worker("pool-kill", "pool", TEST_CELERY_VISIBILITY_TIMEOUT="3600")
    worker.wait_ready()
    output = tmp_path / "pool-kill.txt"
    result = broker.client.send_task(STALL_FIRST_RUN, args=[str(output)], queue=worker.queue)
    (first_start,) = wait_for_line(output, "start ", worker=worker)
    first = parse_run(first_start)

    # SIGKILL the pool process that runs the task; the worker's main process survives.
    os.kill(first["pid"], signal.SIGKILL)

    identity = result.get(timeout=TASK_TIMEOUT_SECONDS)
    runs = [parse_run(line) for line in read_lines(str(output))]
    assert [run["event"] for run in runs] == ["start", "start", "done"], runs
    assert runs[1]["pid"] != first["pid"]
    assert runs[1]["hostname"] == first["hostname"]
    assert identity == {"pid": runs[2]["pid"], "hostname": runs[2]["hostname"]}
    assert "exited with 'signal 9 (SIGKILL)'" in worker.log_tail(200)


def test_killed_worker_task_reruns_elsewhere(broker, start_worker, tmp_path):
    # The first worker keeps the default visibility timeout of an hour, so it never puts
    # the message back itself. The second one treats a message unacknowledged for 2 s as
    # lost and puts it back in the queue.
    doomed = start_worker("worker-kill", "doomed", TEST_CELERY_VISIBILITY_TIMEOUT="3600")
    doomed.wait_ready()
    output = tmp_path / "worker-kill.txt"
    result = broker.client.send_task(STALL_FIRST_RUN, args=[str(output)], queue=doomed.queue)
    (first_start,) = wait_for_line(output, "start ", worker=doomed)

    doomed.kill()
    assert broker.queue_length(doomed.queue) == 0
    rescuer = start_worker("worker-kill", "rescuer", TEST_CELERY_VISIBILITY_TIMEOUT="2")
    identity = result.get(timeout=TASK_TIMEOUT_SECONDS)

    runs = [parse_run(line) for line in read_lines(str(output))]
    assert [run["event"] for run in runs] == ["start", "start", "done"], runs
    first = parse_run(first_start)
    assert first["hostname"].startswith(f"{doomed.name}@")
    assert runs[1]["hostname"].startswith(f"{rescuer.name}@")
    assert identity["hostname"] == runs[2]["hostname"]
    assert result.state == "SUCCESS"
