"""K3s join tokens (join_protocol.md §1): parsing, formatting, CA hashing, random generation.

Mirrors K3s' ``pkg/clientaccess/token.go``: a token is ``K10<ca-hash>::<credentials>`` where the
credentials are ``<user>:<password>`` or a kubeadm bootstrap token ``<id>.<secret>``; bare passwords and
bare bootstrap tokens are accepted and behave as if the hash part were empty.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass

TOKEN_PREFIX = "K10"
CA_HASH_LENGTH = 64
BOOTSTRAP_TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
NORMALIZE_ERROR = (
    "failed to normalize server token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> or <PASSWORD>"
)
_BOOTSTRAP_ALPHABET = string.ascii_lowercase + string.digits


class TokenError(ValueError):
    """A token that K3s would refuse; the message is K3s' own."""


@dataclass(frozen=True)
class Token:
    """A parsed token. Exactly one of (username/password) or (bootstrap id/secret) is meaningful."""

    ca_hash: str = ""
    username: str = ""
    password: str = ""
    bootstrap_id: str = ""
    bootstrap_secret: str = ""

    @property
    def is_bootstrap(self) -> bool:
        return bool(self.bootstrap_id)

    @property
    def bootstrap(self) -> str:
        """``<id>.<secret>`` for bootstrap tokens, else empty."""
        return f"{self.bootstrap_id}.{self.bootstrap_secret}" if self.is_bootstrap else ""

    def credentials(self) -> str:
        """The part after ``::`` as K3s re-serialises it."""
        return self.bootstrap if self.is_bootstrap else f"{self.username}:{self.password}"

    def with_user(self, username: str) -> "Token":
        """Clients ignore the user inside a token: agents force ``node``, servers ``server``."""
        if self.is_bootstrap:
            return self
        return Token(self.ca_hash, username, self.password)


def is_bootstrap_token(value: str) -> bool:
    return BOOTSTRAP_TOKEN_RE.match(value) is not None


def parse(token: str) -> Token:
    """Parse a token exactly as K3s' ``parseToken`` does, raising :class:`TokenError`."""
    if not token:
        raise TokenError("token must not be empty")
    if not token.startswith(TOKEN_PREFIX):
        # A bare password becomes K10:::<pw> (empty hash, empty user); a bare bootstrap token K10::<bt>.
        token = TOKEN_PREFIX + ("::" if is_bootstrap_token(token) else ":::") + token
    rest = token[len(TOKEN_PREFIX):]
    ca_hash = ""
    if "::" in rest:
        ca_hash, rest = rest.split("::", 1)
        if ca_hash and len(ca_hash) != CA_HASH_LENGTH:
            raise TokenError("invalid token CA hash length")
    match = BOOTSTRAP_TOKEN_RE.match(rest)
    if match:
        return Token(ca_hash=ca_hash, bootstrap_id=match.group(1), bootstrap_secret=match.group(2))
    if ":" not in rest or not rest.split(":", 1)[1]:
        raise TokenError("invalid token format")
    username, password = rest.split(":", 1)
    return Token(ca_hash=ca_hash, username=username, password=password)


def password_of(token: str) -> str:
    """The password K3s stores for a server/agent token (``util.NormalizeToken``)."""
    try:
        parsed = parse(token)
    except TokenError as exc:
        raise TokenError(NORMALIZE_ERROR) from exc
    if parsed.is_bootstrap:
        raise TokenError(NORMALIZE_ERROR)
    return parsed.password


def _pem_blocks(data: bytes) -> list[bytes]:
    """DER bodies of the CERTIFICATE blocks in a PEM bundle."""
    from . import pki  # local import: pki pulls in the crypto libraries

    return pki.certs_der_from_pem(data)


def hash_ca(ca_pem: bytes) -> str:
    """CA hash of a bundle: sha256 of the file bytes for one cert, else of the root's DER.

    For several certificates K3s verifies the first one against the rest and hashes the DER of the
    chain's root; we follow issuer names and key identifiers instead of verifying signatures, which
    finds the same root for well-formed bundles. If no root is found, the file bytes are hashed, as
    K3s does when verification fails.
    """
    blocks = _pem_blocks(ca_pem)
    if len(blocks) > 1:
        from . import pki

        root_der = pki.chain_root(blocks)
        if root_der is not None:
            return hashlib.sha256(root_der).hexdigest()
    return hashlib.sha256(ca_pem).hexdigest()


def format_token(credentials: str, ca_pem: bytes) -> str:
    """``K10<hash>::<credentials>`` (``clientaccess.FormatTokenBytes``); empty credentials give ""."""
    if not credentials:
        return ""
    return f"{TOKEN_PREFIX}{hash_ca(ca_pem)}::{credentials}"


def random_password() -> str:
    """K3s' random token: 16 random bytes, hex (32 characters)."""
    return secrets.token_hex(16)


def random_bootstrap_token() -> str:
    """A kubeadm-style ``<6>.<16>`` token from ``[a-z0-9]``."""
    pick = lambda n: "".join(secrets.choice(_BOOTSTRAP_ALPHABET) for _ in range(n))  # noqa: E731
    return f"{pick(6)}.{pick(16)}"
