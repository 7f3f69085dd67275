"""A real HTTP receiver on 127.0.0.1, and integrations and automations that post to it.

Every test here runs with private targets allowed (the receiver is on loopback), deliveries
inline in the test's thread, no backoff wait and short timeouts. Tests about the SSRF check
turn the permission off again.
"""

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.automations import services
from apps.automations.models import EventType
from apps.orgs import services as org_services
from apps.orgs.models import TeamRole

TOKEN = "tok-3f1b7c2a-never-shown"
SECRET = "whsec-9d8e7f6a-signing"


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


# A reply: status code and body. A callable gets the request number (1-based) and returns one.
Reply = tuple[int, str]


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that records requests and replies from a script."""

    server: ThreadingHTTPServer
    requests: list[ReceivedRequest] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    default_reply: Reply = (200, '{"ok": true}')
    # The receiver replies to the first `requests_to_hold` requests only after `release`.
    requests_to_hold: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def next_reply(self, request: ReceivedRequest) -> tuple[Reply, bool]:
        """Record the request; return its reply and whether to hold it first."""
        with self.lock:
            self.requests.append(request)
            reply = self.replies.pop(0) if self.replies else self.default_reply
            return reply, len(self.requests) <= self.requests_to_hold


def _handler_for(receiver_ref: list[Receiver]):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            receiver = receiver_ref[0]
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            request = ReceivedRequest(self.path, dict(self.headers.items()), body)
            (status, text), hold = receiver.next_reply(request)
            receiver.arrived.set()
            if hold:
                # Bounded so that a test that never releases cannot hang the server.
                receiver.release.wait(timeout=30)
            payload = text.encode()
            try:
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout test), so nobody reads this reply.
                pass

        def log_message(self, format, *args):
            pass

    return Handler


@pytest.fixture
def receiver():
    ref: list[Receiver] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(ref))
    server.daemon_threads = True
    instance = Receiver(server=server)
    ref.append(instance)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield instance
    instance.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(autouse=True)
def delivery_settings(settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True
    settings.AUTOMATIONS_DELIVER_IN_THREAD = False
    settings.AUTOMATIONS_RETRY_BACKOFF_SECONDS = 0
    settings.AUTOMATIONS_RETRY_BACKOFF_MAX_SECONDS = 0
    settings.AUTOMATIONS_MAX_ATTEMPTS = 4
    settings.AUTOMATIONS_CONNECT_TIMEOUT = 2
    settings.AUTOMATIONS_READ_TIMEOUT = 2
    settings.CELERY_TASK_ALWAYS_EAGER = True
    return settings


@pytest.fixture
def team_admin(org, team):
    from tests.conftest import make_user

    user = make_user("tara")
    org_services.add_org_member(organization=org, user=user)
    org_services.add_team_member(team=team, user=user, role=TeamRole.ADMIN)
    return user


@pytest.fixture
def integration(team, team_admin, receiver):
    return services.create_integration(
        team=team,
        name="ci-hook",
        url=receiver.url,
        access_token=TOKEN,
        signing_secret=SECRET,
        actor=team_admin,
    )


@pytest.fixture
def make_automation(model_registry, integration, member) -> Callable:
    def make(**overrides):
        values = {
            "registry": model_registry,
            "name": "notify-ci",
            "event_type": EventType.VERSION_LINKED,
            "integration": integration,
            "actor": member,
        }
        values.update(overrides)
        return services.create_automation(**values)

    return make
