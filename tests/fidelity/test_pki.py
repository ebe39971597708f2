"""Pure-Python PKI: files the stdlib ssl module, OpenSSL and Go accept, with K3s' names and SANs."""
from __future__ import annotations

import hashlib
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from k3s_standin import pki, tokens


@pytest.fixture()
def ca(tmp_path: Path) -> pki.KeyPair:
    return pki.ensure_ca(tmp_path / "server-ca.crt", tmp_path / "server-ca.key", "k3s-server-ca")


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_ca_is_self_signed_p256_with_k3s_name(ca: pki.KeyPair, tmp_path: Path) -> None:
    cert = load(tmp_path / "server-ca.crt")
    assert cert.subject.rfc4514_string().startswith("CN=k3s-server-ca@")
    assert cert.issuer == cert.subject
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    cert.verify_directly_issued_by(cert)
    assert (tmp_path / "server-ca.key").read_text().startswith("-----BEGIN EC PRIVATE KEY-----")
    assert (tmp_path / "server-ca.key").stat().st_mode & 0o777 == 0o600


def test_ca_is_reused(ca: pki.KeyPair, tmp_path: Path) -> None:
    before = (tmp_path / "server-ca.crt").read_bytes()
    again = pki.ensure_ca(tmp_path / "server-ca.crt", tmp_path / "server-ca.key", "k3s-server-ca")
    assert (tmp_path / "server-ca.crt").read_bytes() == before
    assert again.cert.dump() == ca.cert.dump()


def test_serving_cert_sans_and_stdlib_ssl(ca: pki.KeyPair, tmp_path: Path) -> None:
    spec = pki.CertSpec("k3s", ("k3s",), server_auth=True,
                        dns_names=["kubernetes", "kubernetes.default.svc.cluster.local", "localhost", "edge1"],
                        ip_addresses=["127.0.0.1", "::1", "10.43.0.1", "192.0.2.10"])
    pki.ensure_leaf(ca, tmp_path / "serving.crt", tmp_path / "serving.key", spec)
    cert = load(tmp_path / "serving.crt")
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) >= {"kubernetes", "localhost", "edge1"}
    assert {str(i) for i in san.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "::1", "10.43.0.1", "192.0.2.10"}
    cert.verify_directly_issued_by(load(tmp_path / "server-ca.crt"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(tmp_path / "serving.crt"), str(tmp_path / "serving.key"))
    done = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "server-ca.crt"),
                           "-purpose", "sslserver", str(tmp_path / "serving.crt")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_leaf_gains_new_sans_but_keeps_key(ca: pki.KeyPair, tmp_path: Path) -> None:
    first = pki.ensure_leaf(ca, tmp_path / "s.crt", tmp_path / "s.key",
                            pki.CertSpec("k3s", server_auth=True, dns_names=["a"]))
    key_before = (tmp_path / "s.key").read_bytes()
    second = pki.ensure_leaf(ca, tmp_path / "s.crt", tmp_path / "s.key",
                             pki.CertSpec("k3s", server_auth=True, dns_names=["a", "b.example"]))
    assert second.cert.dump() != first.cert.dump()
    assert (tmp_path / "s.key").read_bytes() == key_before
    assert "b.example" in (second.cert.valid_domains or [])


def test_client_cert_identity_and_chain_file(tmp_path: Path) -> None:
    client_ca = pki.ensure_ca(tmp_path / "client-ca.crt", tmp_path / "client-ca.key", "k3s-client-ca")
    pair = pki.ensure_leaf(client_ca, tmp_path / "admin.crt", tmp_path / "admin.key",
                           pki.CertSpec("system:admin", ("system:masters",), client_auth=True))
    assert pki.subject_identity(pair.cert) == ("system:admin", ["system:masters"])
    certs = pki.load_certs((tmp_path / "admin.crt").read_bytes())
    assert len(certs) == 2 and certs[1].dump() == client_ca.cert.dump()
    eku = load(tmp_path / "admin.crt").extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH in eku
    done = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "client-ca.crt"), "-purpose", "sslclient",
                           str(tmp_path / "admin.crt")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_csr_signing_keeps_requesters_key(ca: pki.KeyPair) -> None:
    key = pki.new_key()
    der = pki.make_csr(key, "ignored-by-server")
    issued = ca.issue(pki.CertSpec("system:node:edge1", ("system:nodes",), client_auth=True),
                      public_key=pki.csr_public_key(der))
    crypto_cert = x509.load_der_x509_certificate(issued.dump())
    assert crypto_cert.public_key().public_numbers().x == key.get_verifying_key().pubkey.point.x()
    assert pki.subject_identity(issued) == ("system:node:edge1", ["system:nodes"])
    csr = x509.load_der_x509_csr(der)
    assert csr.is_signature_valid


def test_garbage_csr_is_refused() -> None:
    with pytest.raises(pki.PKIError):
        pki.csr_public_key(b"not a csr")


def test_hash_of_bundle_uses_root_der(tmp_path: Path) -> None:
    client_ca = pki.ensure_ca(tmp_path / "ca.crt", tmp_path / "ca.key", "k3s-client-ca")
    pki.ensure_leaf(client_ca, tmp_path / "leaf.crt", tmp_path / "leaf.key", pki.CertSpec("x", client_auth=True))
    single = (tmp_path / "ca.crt").read_bytes()
    assert tokens.hash_ca(single) == hashlib.sha256(single).hexdigest()
    bundle = (tmp_path / "leaf.crt").read_bytes()
    assert tokens.hash_ca(bundle) == hashlib.sha256(client_ca.cert.dump()).hexdigest()
