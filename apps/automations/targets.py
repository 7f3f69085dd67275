"""Checks on webhook target URLs, against requests to the site's own network (SSRF).

A target host is resolved and rejected when any of its addresses is not a public one:
loopback, private, link-local, shared, reserved, multicast or unspecified, and always when it
is a cloud metadata address. The check runs when an integration is saved and again before
each delivery, because a DNS record can change. The delivery then connects to the address
that passed the check, so a second lookup cannot swap it.

The operator setting AUTOMATIONS_ALLOW_PRIVATE_TARGETS lifts the address check (metadata
addresses stay rejected) and allows plain http, for endpoints on an internal network.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services of the big clouds. They are link-local or private anyway, but
# they stay rejected when the operator allows private targets.
METADATA_ADDRESSES = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("169.254.170.2"),
        ipaddress.ip_address("fd00:ec2::254"),
    }
)
MAX_URL_LENGTH = 2000


class UnsafeTarget(ValidationError):
    """A target URL that the site does not send requests to."""


class UnresolvableHost(ValidationError):
    """A target host without a DNS answer, which may be a passing failure."""


@dataclass(frozen=True)
class Target:
    """A checked URL split into what a connection needs."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IPAddress, ...]


def private_targets_allowed() -> bool:
    return bool(settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS)


def address_class(address: IPAddress) -> str | None:
    """Name the kind of non-public address `address` is, or return None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_class(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        # For example 100.64.0.0/10 (carrier-grade NAT) or 2001:db8::/32 (documentation).
        return "non-public"
    return None


def check_address(host: str, address: IPAddress) -> None:
    kind = address_class(address)
    if kind is None:
        return
    if kind != "cloud metadata" and private_targets_allowed():
        return
    label = host if host == str(address) else f"{host} ({address})"
    raise UnsafeTarget(
        f"The host {label} is a {kind} address; webhooks may only go to public addresses. "
        f"Use a public host name, or ask the operator to allow private targets."
    )


def split_url(url: str) -> tuple[str, str, int, str]:
    """Validate the form of a target URL; return its scheme, host, port and request path."""
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError(
            f"The URL is {len(url)} characters long; the limit is {MAX_URL_LENGTH}."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ValidationError(f"The URL {url!r} is invalid: {error}.") from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and private_targets_allowed()):
        raise ValidationError(
            f"The URL {url!r} must start with https:// so the payload and token travel encrypted."
        )
    if not parts.hostname:
        raise ValidationError(f"The URL {url!r} has no host name.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "The URL contains a user name or password; remove them and put the credential "
            "in the access token field, which is stored encrypted."
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default_port = 443 if scheme == "https" else 80
    return scheme, parts.hostname, port or default_port, path


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """Return every address the host resolves to, IP literals included."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnresolvableHost(f"The host {host} could not be resolved: {error}.") from None
    addresses: list[IPAddress] = []
    for info in infos:
        # An IPv6 link-local address comes with a zone ("fe80::1%eth0"), which ip_address rejects.
        text = str(info[4][0]).split("%", 1)[0]
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost(f"The host {host} has no addresses.")
    return tuple(addresses)


def check_target(url: str) -> Target:
    """Validate the URL, resolve its host and check every address.

    Raises UnsafeTarget for a non-public address, UnresolvableHost when the host has no DNS
    record, and ValidationError for a malformed URL.
    """
    scheme, host, port, path = split_url(url)
    addresses = resolve(host, port)
    for address in addresses:
        check_address(host, address)
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)
