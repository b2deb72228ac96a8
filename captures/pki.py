#!/usr/bin/env python3
"""Make the demo PKI that the bundled captures were recorded with.

Consumes nothing but randomness; produces, in ``captures/pki/`` (or
``--out DIR``):

``root-ca.pem``
    self-signed "tlsdoc Demo Root CA" certificate (the trust anchor a reader
    passes to ``curl --cacert`` or ``tlsdoc verify --ca``).
``intermediate-ca.pem``
    "tlsdoc Demo Intermediate CA", signed by the root, path length 0.
``www.example.com.pem``
    the leaf certificate for ``www.example.com`` (SAN DNS:www.example.com),
    signed by the intermediate; key usage allows both digitalSignature
    (ECDHE, TLS 1.3) and keyEncipherment (TLS 1.2 RSA key exchange).
``www.example.com.DEMO-ONLY.key.pem``
    the leaf's RSA-2048 private key, unencrypted PKCS#8, preceded by a
    comment saying it is for this handbook only.  It is public on purpose:
    it decrypts the ``tls12-rsa`` capture.

All three keys are RSA 2048 with SHA-256 signatures, and every certificate
is valid from 2025-01-01 to 2075-01-01 so that a chain check "at capture
time" (or today) keeps passing for decades.  The two CA private keys live
only in this process's memory and are discarded after signing, so nobody,
including us, can issue another certificate under this demo root.

Re-running this script invalidates every bundled capture (they were made
with the old key), so it refuses to overwrite existing files unless given
``--force``.

Must never import tlsdoc: the recipe stands on its own.  Needs only the
``cryptography`` package.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
NOT_BEFORE = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
NOT_AFTER = dt.datetime(2075, 1, 1, tzinfo=dt.timezone.utc)
SERVER_NAME = "www.example.com"

ROOT_CERT = "root-ca.pem"
INTERMEDIATE_CERT = "intermediate-ca.pem"
LEAF_CERT = f"{SERVER_NAME}.pem"
LEAF_KEY = f"{SERVER_NAME}.DEMO-ONLY.key.pem"
OUTPUTS = (ROOT_CERT, INTERMEDIATE_CERT, LEAF_CERT, LEAF_KEY)

KEY_WARNING = """\
DEMO ONLY - NOT A SECRET.  Private key of the www.example.com certificate
used to record the tlsdoc handbook's bundled captures (demo CA "tlsdoc Demo
Root CA").  It is published so that readers can decrypt the tls12-rsa
capture with it.  Never use it, or trust the demo CA, for anything else.
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsdoc handbook (demo)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def make_pki() -> dict[str, bytes]:
    """Create the chain; return file name -> PEM bytes (CA keys are dropped)."""
    root_key = _new_key()
    root_name = _name("tlsdoc Demo Root CA")
    root = (
        _builder(root_name, root_name, root_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .sign(root_key, hashes.SHA256())
    )

    inter_key = _new_key()
    inter_name = _name("tlsdoc Demo Intermediate CA")
    inter = (
        _builder(inter_name, root_name, inter_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )

    leaf_key = _new_key()
    leaf = (
        _builder(_name(SERVER_NAME), inter_name, leaf_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()),
            critical=False,
        )
        .sign(inter_key, hashes.SHA256())
    )
    del root_key, inter_key  # never written anywhere

    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {
        ROOT_CERT: root.public_bytes(pem),
        INTERMEDIATE_CERT: inter.public_bytes(pem),
        LEAF_CERT: leaf.public_bytes(pem),
        LEAF_KEY: KEY_WARNING.encode("ascii") + key_pem,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "pki", help="output directory")
    parser.add_argument(
        "--force", action="store_true", help="overwrite an existing PKI (invalidates captures)"
    )
    args = parser.parse_args(argv)
    existing = [name for name in OUTPUTS if (args.out / name).exists()]
    if existing and not args.force:
        print(
            f"pki.py: {args.out} already holds {', '.join(existing)}; the bundled captures "
            "depend on them. Use --force to replace them (then re-record every capture).",
            file=sys.stderr,
        )
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in make_pki().items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
