"""One HTTP POST of a payload to a webhook integration.

The request goes to the address that the SSRF check approved, so a DNS record that changes
between the check and the connection cannot redirect it. The host name still names the
server in the Host header and in TLS, for SNI and certificate verification. Redirects are
never followed, and no proxy from the environment is used.
"""

import base64
import hashlib
import hmac
import http.client
import logging
import socket
import ssl
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.automations import crypto
from apps.automations.models import DeliveryAttempt, WebhookIntegration
from apps.automations.targets import IPAddress, Target, UnresolvableHost, UnsafeTarget, check_target

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Registry-Signature"
EVENT_HEADER = "X-Registry-Event"
DELIVERY_HEADER = "X-Registry-Delivery"
USER_AGENT = "artifact-registry-webhooks/1"


@dataclass(frozen=True)
class SendResult:
    succeeded: bool
    # Whether sending the same request again later may succeed (timeouts, connection errors,
    # 5xx). 4xx responses, rejected targets and unreadable secrets are final.
    retryable: bool
    duration_ms: int
    response_code: int | None = None
    response_excerpt: str = ""
    error: str = ""


def sign(secret: str, body: bytes) -> str:
    """Return the base64 HMAC-SHA256 of the body, the value of the signature header."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def request_headers(
    integration: WebhookIntegration, body: bytes, *, event_type: str, delivery_id: str
) -> dict[str, str]:
    """Build the request headers; raises crypto.SecretUnreadable."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: delivery_id,
    }
    token = crypto.decrypt(integration.access_token_encrypted)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    secret = crypto.decrypt(integration.signing_secret_encrypted)
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, body)
    return headers


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to one given address instead of whatever the host resolves to."""

    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float, **kwargs):
        super().__init__(host, port, timeout=timeout, **kwargs)
        self.address = address

    def _open_socket(self) -> socket.socket:
        sock = socket.create_connection(
            (str(self.address), self.port), timeout=settings.AUTOMATIONS_CONNECT_TIMEOUT
        )
        sock.settimeout(self.timeout)
        return sock

    def connect(self) -> None:
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: IPAddress, timeout: float, **kwargs):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    _open_socket = _PinnedHTTPConnection._open_socket

    def connect(self) -> None:
        # Certificate and host name are checked against the URL's host, not the address.
        self.sock = self._context.wrap_socket(self._open_socket(), server_hostname=self.host)


def _connect(target: Target) -> http.client.HTTPConnection:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error: OSError | None = None
    for address in target.addresses:
        connection = connection_class(
            target.host, target.port, address=address, timeout=settings.AUTOMATIONS_READ_TIMEOUT
        )
        try:
            connection.connect()
        except ssl.SSLCertVerificationError:
            connection.close()
            raise
        except OSError as error:
            connection.close()
            last_error = error
            continue
        return connection
    assert last_error is not None  # check_target returns at least one address
    raise last_error


def _post(target: Target, body: bytes, headers: dict[str, str]) -> tuple[int, str, str]:
    """Send the request; return the status, the start of the body and the Location header."""
    connection = _connect(target)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        excerpt = response.read(DeliveryAttempt.RESPONSE_EXCERPT_BYTES)
        location = response.getheader("Location", "")
        return response.status, excerpt.decode("utf-8", errors="replace"), location
    finally:
        connection.close()


def _classify(status: int, excerpt: str, location: str, duration_ms: int) -> SendResult:
    if 200 <= status < 300:
        return SendResult(True, False, duration_ms, status, excerpt)
    if 300 <= status < 400:
        error = f"The endpoint answered {status} with a redirect to {location or 'nowhere'}; "
        error += "redirects are not followed, so put the final URL in the integration."
        return SendResult(False, False, duration_ms, status, excerpt, error)
    retryable = status >= 500
    error = f"The endpoint answered {status}."
    return SendResult(False, retryable, duration_ms, status, excerpt, error)


def send(
    integration: WebhookIntegration, body: str, *, event_type: str, delivery_id: str
) -> SendResult:
    """POST `body` to the integration once and return what happened.

    Network errors and error responses of the endpoint are part of the result, not raised.
    """
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    data = body.encode()
    try:
        target = check_target(integration.url)
        headers = request_headers(integration, data, event_type=event_type, delivery_id=delivery_id)
    except UnresolvableHost as error:
        return SendResult(False, True, elapsed(), error=error.messages[0])
    except (UnsafeTarget, ValidationError) as error:
        return SendResult(False, False, elapsed(), error=error.messages[0])
    except crypto.SecretUnreadable as error:
        return SendResult(False, False, elapsed(), error=str(error))

    try:
        status, excerpt, location = _post(target, data, headers)
    except TimeoutError:
        error = f"The request to {target.host} timed out."
        return SendResult(False, True, elapsed(), error=error)
    except ssl.SSLCertVerificationError as error:
        message = f"The TLS certificate of {target.host} is not valid: {error.verify_message}."
        return SendResult(False, False, elapsed(), error=message)
    except (OSError, http.client.HTTPException) as error:
        message = f"The connection to {target.host} failed: {error.__class__.__name__}: {error}"
        return SendResult(False, True, elapsed(), error=message)
    return _classify(status, excerpt, location, elapsed())
