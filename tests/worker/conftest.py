"""Real Celery worker processes on a Redis broker, for the tests marked `worker`.

Every session uses Redis database 13 with its own key prefix, so two test runs on one
machine never share a queue or a result. The session deletes its keys when it ends.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings

from tests.conftest import skip_or_fail
from tests.worker.tasks import APPEND_LINE

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
# Bounds for waiting on a worker. A healthy run needs a few seconds of each.
START_TIMEOUT_SECONDS = 60
TASK_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Broker:
    url: str
    key_prefix: str
    client: Celery

    def queue_length(self, queue: str) -> int:
        return redis.Redis.from_url(self.url).llen(f"{self.key_prefix}{queue}")


class WorkerProcess:
    """One `celery worker` process group, consuming one queue, with its log in a file."""

    def __init__(self, broker: Broker, queue: str, name: str, log_dir: Path, **environment):
        self.name = name
        self.queue = queue
        self.log_path = log_dir / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "--app",
            "registry_site",
            "worker",
            "--include",
            "tests.worker.tasks",
            "--queues",
            queue,
            "--hostname",
            f"{name}@%h",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT_ROOT),
            "DJANGO_SETTINGS_MODULE": "tests.worker.worker_settings",
            "CELERY_BROKER_URL": broker.url,
            "CELERY_RESULT_BACKEND": broker.url,
            "TEST_CELERY_KEY_PREFIX": broker.key_prefix,
            **environment,
        }
        with open(self.log_path, "wb") as log:
            # A session of its own makes the worker and its pool processes one process
            # group, so a test can kill them all together like a crashed machine would.
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"worker {self.name} exited at start:\n{self.log_tail()}")
            if " ready." in self.log_path.read_text(encoding="utf-8", errors="replace"):
                return
            time.sleep(0.2)
        pytest.fail(f"worker {self.name} not ready after {START_TIMEOUT_SECONDS}s")

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def stop(self) -> None:
        """Shut the worker down warmly, or kill it when it does not stop in time."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()


def redis_unreachable_reason() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return (
            f"Redis is not reachable at {REDIS_URL} ({error}); start Redis on 127.0.0.1:6379 "
            "to run the worker tests"
        )
    return None


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    reason = redis_unreachable_reason()
    if reason:
        skip_or_fail(reason)

    key_prefix = f"registry-test-{os.getpid()}-{secrets.token_hex(4)}:"
    transport_options = {"global_keyprefix": key_prefix}
    # A client of its own keeps the site's app eager for every other test. It reads the
    # site's Celery settings and changes only where messages and results go.
    client = Celery("registry-tests", set_as_current=False)
    client.config_from_object(settings, namespace="CELERY")
    client.conf.update(
        broker_url=REDIS_URL,
        result_backend=REDIS_URL,
        task_always_eager=False,
        broker_transport_options=transport_options,
        result_backend_transport_options=transport_options,
    )
    yield Broker(url=REDIS_URL, key_prefix=key_prefix, client=client)

    client.close()
    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter(match=f"{key_prefix}*", count=1000))
    if keys:
        connection.delete(*keys)


@pytest.fixture(scope="session")
def worker_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("worker-logs")


@pytest.fixture
def start_worker(broker, worker_logs) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers for one test; each is stopped when the test ends."""
    started: list[WorkerProcess] = []

    def start(queue: str, name: str, **environment) -> WorkerProcess:
        worker = WorkerProcess(
            broker, queue, f"{name}-{secrets.token_hex(3)}", worker_logs, **environment
        )
        started.append(worker)
        return worker

    yield start

    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def session_worker(broker, worker_logs) -> Iterator[WorkerProcess]:
    """One worker for the tests that only need tasks to run, started once per session."""
    worker = WorkerProcess(broker, "registry-tests", "session", worker_logs)
    try:
        worker.wait_ready()
        # Ready in the log means subscribed; one round trip proves the whole path works.
        probe = broker.client.send_task(
            APPEND_LINE, args=[str(worker_logs / "probe.txt"), "probe"], queue=worker.queue
        )
        assert probe.get(timeout=TASK_TIMEOUT_SECONDS) == "probe"
        yield worker
    finally:
        worker.stop()
