"""Settings of the Celery worker processes that the worker tests start.

The site's own settings, acks_late and reject_on_worker_lost included, with a Redis key
prefix that keeps each test session's queues and results apart, and a visibility timeout
that a test may shorten so Redis redelivers an unacknowledged task within seconds.
"""

import os

from tests.settings import *  # noqa: F403

_prefix = os.environ["TEST_CELERY_KEY_PREFIX"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": _prefix,
    "visibility_timeout": int(os.environ.get("TEST_CELERY_VISIBILITY_TIMEOUT", "3600")),
    # Sweep for unacknowledged messages every second; kombu 5.7 defaults to about every 100 s.
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    # The sweep holds a Redis lock that expires after 300 s by default. A worker SIGKILLed
    # during a sweep leaves that lock behind, and no other worker could then sweep, so
    # redeliver, for five minutes. A sweep takes milliseconds.
    "unacked_mutex_expire": 5,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": _prefix}
