"""EC P-256 certificate authority and certificates, in pure Python (asn1crypto + ecdsa).

K3s lays out its PKI under ``${data-dir}/server/tls``. The stand-in must produce files that the stdlib
``ssl`` module, kubectl (Go) and the Python kubernetes client accept, without compiled crypto libraries,
because the payload runs on a bare Debian python3. Keys are written as SEC1 ``EC PRIVATE KEY`` PEM and
certificates as X.509 v3 with the extensions Go's verifier insists on (basic constraints, key usage,
extended key usage, subject/authority key identifiers, SANs).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import ecdsa
from asn1crypto import csr as asn1_csr
from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from ecdsa.util import sigencode_der

CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)
# Go rejects certificates whose notBefore lies in the future; backdating absorbs clock skew between
# hosts the way dynamiclistener does.
BACKDATE = dt.timedelta(hours=1)
_SIG_ALGO = "sha256_ecdsa"


class PKIError(Exception):
    """A key, certificate or CSR that cannot be used."""


# --- keys -----------------------------------------------------------------------------------------

def new_key() -> ecdsa.SigningKey:
    return ecdsa.SigningKey.generate(curve=ecdsa.NIST256p, hashfunc=hashlib.sha256)


def key_pem(key: ecdsa.SigningKey) -> bytes:
    """SEC1 ``EC PRIVATE KEY`` PEM, the form K3s writes and OpenSSL/Go both read."""
    return key.to_pem(format="ssleay")


def load_key(data: bytes) -> ecdsa.SigningKey:
    try:
        return ecdsa.SigningKey.from_pem(data.decode("ascii"), hashfunc=hashlib.sha256)
    except Exception as exc:  # ecdsa raises several unrelated types for bad input
        raise PKIError(f"failed to parse private key: {exc}") from exc


def _spki(key: ecdsa.SigningKey) -> asn1_keys.PublicKeyInfo:
    return asn1_keys.PublicKeyInfo.load(key.get_verifying_key().to_der())


def _key_id(spki: asn1_keys.PublicKeyInfo) -> bytes:
    """RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey bits (as Go computes it)."""
    return hashlib.sha1(spki["public_key"].contents[1:]).digest()


# --- names and certificates ------------------------------------------------------------------------

def make_name(common_name: str, organizations: tuple[str, ...] | list[str] = ()) -> asn1_x509.Name:
    """Subject with one RDN per O value, then CN, the order Go's pkix.Name produces."""
    rdns = []
    for org in organizations:
        rdns.append(_rdn("organization_name", org))
    rdns.append(_rdn("common_name", common_name))
    return asn1_x509.Name(name="", value=asn1_x509.RDNSequence(rdns))


def _rdn(attr: str, value: str) -> asn1_x509.RelativeDistinguishedName:
    return asn1_x509.RelativeDistinguishedName([
        asn1_x509.NameTypeAndValue({
            "type": attr,
            "value": asn1_x509.DirectoryString(name="utf8_string", value=value),
        })
    ])


def _time(moment: dt.datetime) -> asn1_x509.Time:
    # RFC 5280: UTCTime up to 2049, GeneralizedTime afterwards.
    kind = "utc_time" if moment.year < 2050 else "general_time"
    return asn1_x509.Time({kind: moment.replace(microsecond=0)})


@dataclass
class CertSpec:
    """What a certificate says about its subject."""

    common_name: str
    organizations: tuple[str, ...] = ()
    is_ca: bool = False
    server_auth: bool = False
    client_auth: bool = False
    dns_names: list[str] = field(default_factory=list)
    ip_addresses: list[str] = field(default_factory=list)
    validity: dt.timedelta = LEAF_VALIDITY


def _extensions(spec: CertSpec, spki: asn1_keys.PublicKeyInfo, issuer_key_id: bytes | None) -> list:
    exts = []
    usage = {"digital_signature", "key_encipherment"}
    if spec.is_ca:
        usage.add("key_cert_sign")
    exts.append({"extn_id": "key_usage", "critical": True, "extn_value": usage})
    ekus = [name for flag, name in ((spec.server_auth, "server_auth"), (spec.client_auth, "client_auth")) if flag]
    if ekus:
        exts.append({"extn_id": "extended_key_usage", "critical": False, "extn_value": ekus})
    exts.append({"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": spec.is_ca}})
    if spec.is_ca:
        exts.append({"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(spki)})
    if issuer_key_id is not None:
        exts.append({"extn_id": "authority_key_identifier", "critical": False,
                     "extn_value": {"key_identifier": issuer_key_id}})
    names = [asn1_x509.GeneralName(name="dns_name", value=n) for n in _unique(spec.dns_names)]
    names += [asn1_x509.GeneralName(name="ip_address", value=ip) for ip in _unique(_valid_ips(spec.ip_addresses))]
    if names:
        exts.append({"extn_id": "subject_alt_name", "critical": False, "extn_value": names})
    return exts


def _unique(items: list[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item and item not in seen:
            seen.append(item)
    return seen


def _valid_ips(values: list[str]) -> list[str]:
    return [str(ipaddress.ip_address(v)) for v in values if is_ip(v)]


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return False


def sign_certificate(spec: CertSpec, public_key: asn1_keys.PublicKeyInfo,
                     issuer: "KeyPair | None", self_key: ecdsa.SigningKey | None = None) -> asn1_x509.Certificate:
    """Issue a certificate for ``public_key``; self-signed with ``self_key`` when ``issuer`` is None."""
    now = dt.datetime.now(dt.timezone.utc)
    subject = make_name(spec.common_name, spec.organizations)
    if issuer is None:
        if self_key is None:
            raise PKIError("self-signed certificate needs its own key")
        signer, issuer_name, issuer_kid = self_key, subject, None
    else:
        signer, issuer_name = issuer.key, issuer.cert.subject
        issuer_kid = issuer.cert.key_identifier or _key_id(issuer.cert.public_key)
    tbs = asn1_x509.TbsCertificate({
        "version": "v3",
        # Positive, at most 20 octets (RFC 5280 / Go): 127 random bits plus one.
        "serial_number": secrets.randbits(127) + 1,
        "signature": {"algorithm": _SIG_ALGO},
        "issuer": issuer_name,
        "validity": {"not_before": _time(now - BACKDATE), "not_after": _time(now + spec.validity)},
        "subject": subject,
        "subject_public_key_info": public_key,
        "extensions": _extensions(spec, public_key, issuer_kid),
    })
    signature = signer.sign_deterministic(tbs.dump(), hashfunc=hashlib.sha256, sigencode=sigencode_der)
    return asn1_x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": {"algorithm": _SIG_ALGO},
        "signature_value": signature,
    })


def cert_pem(cert: asn1_x509.Certificate) -> bytes:
    return asn1_pem.armor("CERTIFICATE", cert.dump())


def certs_der_from_pem(data: bytes) -> list[bytes]:
    """DER bodies of every CERTIFICATE block (other blocks, e.g. keys, are skipped)."""
    out: list[bytes] = []
    try:
        for kind, _headers, der in asn1_pem.unarmor(data, multiple=True):
            if kind == "CERTIFICATE":
                out.append(der)
    except ValueError:
        return out
    return out


def load_certs(data: bytes) -> list[asn1_x509.Certificate]:
    certs = [asn1_x509.Certificate.load(der) for der in certs_der_from_pem(data)]
    if not certs:
        raise PKIError("data does not contain any valid RSA or ECDSA certificates")
    return certs


def chain_root(ders: list[bytes]) -> bytes | None:
    """DER of the root reached from the first certificate through the others, or None."""
    certs = [asn1_x509.Certificate.load(d) for d in ders]
    current = certs[0]
    for _ in range(len(certs)):
        if current.self_signed != "no" and current is not certs[0]:
            return current.dump()
        parent = _find_issuer(current, certs[1:])
        if parent is None:
            return None
        if parent.self_signed != "no":
            return parent.dump()
        current = parent
    return None


def _find_issuer(cert: asn1_x509.Certificate, candidates: list[asn1_x509.Certificate]) -> asn1_x509.Certificate | None:
    for cand in candidates:
        if cand.subject != cert.issuer or cand is cert:
            continue
        aki = cert.authority_key_identifier
        if aki is None or cand.key_identifier is None or aki == cand.key_identifier:
            return cand
    return None


# --- key pairs on disk -------------------------------------------------------------------------------

@dataclass
class KeyPair:
    """A certificate (first of its PEM file) with its private key."""

    cert: asn1_x509.Certificate
    key: ecdsa.SigningKey
    cert_path: Path | None = None
    key_path: Path | None = None

    @property
    def cert_pem(self) -> bytes:
        return cert_pem(self.cert)

    def issue(self, spec: CertSpec, key: ecdsa.SigningKey | None = None,
              public_key: asn1_keys.PublicKeyInfo | None = None) -> asn1_x509.Certificate:
        """Sign a leaf for ``key`` (or a bare public key, e.g. from a CSR)."""
        if public_key is None:
            if key is None:
                raise PKIError("a key or public key is required")
            public_key = _spki(key)
        return sign_certificate(spec, public_key, self)


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write a file atomically with ``mode`` from the start (keys must never be world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def load_pair(cert_path: Path, key_path: Path) -> KeyPair:
    cert = load_certs(cert_path.read_bytes())[0]
    return KeyPair(cert, load_key(key_path.read_bytes()), cert_path, key_path)


def ensure_ca(cert_path: Path, key_path: Path, common_name: str) -> KeyPair:
    """Load a CA, or create it (``<name>@<unix time>`` as K3s names its CAs)."""
    if cert_path.exists() and key_path.exists():
        return load_pair(cert_path, key_path)
    key = new_key()
    spec = CertSpec(common_name=f"{common_name}@{int(dt.datetime.now().timestamp())}", is_ca=True,
                    validity=CA_VALIDITY)
    cert = sign_certificate(spec, _spki(key), None, self_key=key)
    write_private(key_path, key_pem(key))
    write_private(cert_path, cert_pem(cert), 0o644)
    return KeyPair(cert, key, cert_path, key_path)


def ensure_key(key_path: Path) -> ecdsa.SigningKey:
    """Load or create a bare private key file (K3s' shared legacy keys such as serving-kubelet.key)."""
    if key_path.exists():
        return load_key(key_path.read_bytes())
    key = new_key()
    write_private(key_path, key_pem(key))
    return key


def ensure_leaf(ca: KeyPair, cert_path: Path, key_path: Path, spec: CertSpec) -> KeyPair:
    """Load a leaf signed by ``ca`` that still covers ``spec``'s SANs, or issue a new one.

    The file holds the leaf followed by the CA certificate, as K3s writes its client certificates;
    the key is reused when present, like K3s does on SAN changes.
    """
    if cert_path.exists() and key_path.exists():
        pair = load_pair(cert_path, key_path)
        if pair.cert.issuer == ca.cert.subject and _covers(pair.cert, spec):
            return pair
    key = ensure_key(key_path)
    cert = ca.issue(spec, key=key)
    write_private(cert_path, cert_pem(cert) + ca.cert_pem, 0o644)
    return KeyPair(cert, key, cert_path, key_path)


def _covers(cert: asn1_x509.Certificate, spec: CertSpec) -> bool:
    have_dns = set(cert.valid_domains or [])
    have_ips = set(cert.valid_ips or [])
    want_ips = {str(ipaddress.ip_address(i)) for i in _valid_ips(spec.ip_addresses)}
    return set(spec.dns_names) <= have_dns and want_ips <= {str(ipaddress.ip_address(i)) for i in have_ips}


# --- CSRs ------------------------------------------------------------------------------------------------

def make_csr(key: ecdsa.SigningKey, common_name: str, organizations: tuple[str, ...] = ()) -> bytes:
    """DER PKCS#10 request, as the K3s agent sends to the ``/v1-k3s/*.crt`` endpoints."""
    info = asn1_csr.CertificationRequestInfo({
        "version": "v1",
        "subject": make_name(common_name, organizations),
        "subject_pk_info": _spki(key),
        "attributes": [],
    })
    sig = key.sign_deterministic(info.dump(), hashfunc=hashlib.sha256, sigencode=sigencode_der)
    req = asn1_csr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": {"algorithm": _SIG_ALGO},
        "signature": sig,
    })
    return req.dump()


def csr_public_key(der: bytes) -> asn1_keys.PublicKeyInfo:
    """Public key of a DER CSR. Like Go's ParseCertificateRequest, the signature is not checked."""
    try:
        req = asn1_csr.CertificationRequest.load(der)
        spki = req["certification_request_info"]["subject_pk_info"]
        spki.native  # force a full parse so that garbage is rejected here
        return spki
    except Exception as exc:
        raise PKIError(f"asn1: structure error: {exc}") from exc


# --- inspection helpers (used by the supervisor and by tests) ----------------------------------------------

def subject_identity(cert: asn1_x509.Certificate) -> tuple[str, list[str]]:
    """(CN, [O...]) of a certificate: the Kubernetes user and groups it authenticates as."""
    cn = ""
    orgs: list[str] = []
    for rdn in cert.subject.chosen:
        for attr in rdn:
            if attr["type"].native == "common_name":
                cn = attr["value"].native
            elif attr["type"].native == "organization_name":
                orgs.append(attr["value"].native)
    return cn, orgs
