"""Encryption at rest of integration access tokens and signing secrets.

The keys come from the setting AUTOMATIONS_ENCRYPTION_KEY: one or more Fernet keys separated
by commas. The first key encrypts and every key decrypts, so a key can be rotated by putting
the new one first. Without the setting, one key is derived from SECRET_KEY with HKDF; then
changing SECRET_KEY makes the stored secrets unreadable, and each integration's token and
secret must be entered again.
"""

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Domain separation: the same SECRET_KEY must not yield the same key for another purpose.
_HKDF_INFO = b"artifact-registry automations secrets v1"


class SecretUnreadable(Exception):
    """A stored secret that none of the configured keys decrypts."""


def _derived_key(secret_key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(derived)


@cache
def _fernet_for(configured: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not configured:
        return MultiFernet([Fernet(_derived_key(secret_key))])
    fernets = []
    for position, key in enumerate(configured, start=1):
        try:
            fernets.append(Fernet(key.encode()))
        except ValueError:
            raise ImproperlyConfigured(
                f"AUTOMATIONS_ENCRYPTION_KEY: key {position} is not a Fernet key (32 bytes, "
                f"URL-safe base64). Generate one with "
                f'python -c "from cryptography.fernet import Fernet; '
                f'print(Fernet.generate_key().decode())"'
            ) from None
    return MultiFernet(fernets)


def _fernet() -> MultiFernet:
    # Keyed on the settings' values so tests that override them get matching keys.
    return _fernet_for(tuple(settings.AUTOMATIONS_ENCRYPTION_KEY), settings.SECRET_KEY)


def check_keys() -> None:
    """Raise ImproperlyConfigured when a configured key is malformed."""
    _fernet()


def encrypt(plaintext: str) -> str:
    """Return the Fernet token of `plaintext`, or '' for an empty value (no secret)."""
    if not plaintext:
        return ""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with the configured keys (the encryption "
            "key or SECRET_KEY changed); enter the token and signing secret again."
        ) from None
