#!/usr/bin/env python3
"""Make the corpus's small demo ECDSA PKI (DEMO ONLY), in ``tests/corpus/pki/``.

The bundled captures use an RSA chain (``captures/pki``).  Some corpus
captures need an ECDSA server certificate (``ECDHE-ECDSA-*`` suites) and a
client certificate (client authentication), so this script makes, once:

``corpus-root-ca.pem``
    self-signed "tlsdoc Corpus Demo Root CA" (ECDSA P-256); its key is kept
    only in memory and discarded after signing.
``www.example.com-ecdsa.pem`` / ``www.example.com-ecdsa.DEMO-ONLY.key.pem``
    server certificate for www.example.com (ECDSA P-256, SAN
    DNS:www.example.com, serverAuth), signed directly by the root.
``client.pem`` / ``client.DEMO-ONLY.key.pem``
    client certificate "tlsdoc demo client" (ECDSA P-256, clientAuth),
    signed by the root.

Certificates are valid 2025-01-01 .. 2075-01-01.  The keys are published on
purpose and protect nothing.  Running it again makes a different PKI and
would invalidate the corpus, so it refuses to overwrite without ``--force``.

Must never import tlsdoc; needs only ``cryptography``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
NOT_BEFORE = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
NOT_AFTER = dt.datetime(2075, 1, 1, tzinfo=dt.timezone.utc)
SERVER_NAME = "www.example.com"

ROOT_CERT = "corpus-root-ca.pem"
SERVER_CERT = f"{SERVER_NAME}-ecdsa.pem"
SERVER_KEY = f"{SERVER_NAME}-ecdsa.DEMO-ONLY.key.pem"
CLIENT_CERT = "client.pem"
CLIENT_KEY = "client.DEMO-ONLY.key.pem"
OUTPUTS = (ROOT_CERT, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY)

WARNING = """\
DEMO ONLY - NOT A SECRET.  Private key of the {what} made for the tlsdoc
test corpus (demo CA "tlsdoc Corpus Demo Root CA", tests/corpus/pki).
Published on purpose.  Never use it, or trust the demo CA, for anything else.
"""


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsdoc handbook (demo)"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _usage(*, sign: bool, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=cert_sign,
        crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


def _builder(subject, issuer, public_key) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def make_pki() -> dict[str, bytes]:
    """file name -> PEM bytes; the root key is dropped."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("tlsdoc Corpus Demo Root CA")
    root = (
        _builder(root_name, root_name, root_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False, cert_sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key())

    def leaf(common_name: str, eku, san: str | None, signer):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            _builder(_name(common_name), root_name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign=True, cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
            .add_extension(aki, critical=False)
        )
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signer, hashes.SHA256()), key

    server, server_key = leaf(SERVER_NAME, ExtendedKeyUsageOID.SERVER_AUTH, SERVER_NAME,
                              root_key)
    client, client_key = leaf("tlsdoc demo client", ExtendedKeyUsageOID.CLIENT_AUTH, None,
                              root_key)
    del root_key

    pem = serialization.Encoding.PEM

    def key_pem(key, what: str) -> bytes:
        return WARNING.format(what=what).encode("ascii") + key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    return {
        ROOT_CERT: root.public_bytes(pem),
        SERVER_CERT: server.public_bytes(pem),
        SERVER_KEY: key_pem(server_key, f"{SERVER_NAME} ECDSA server certificate"),
        CLIENT_CERT: client.public_bytes(pem),
        CLIENT_KEY: key_pem(client_key, "demo client certificate"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "pki")
    parser.add_argument("--force", action="store_true", help="overwrite an existing PKI")
    args = parser.parse_args(argv)
    existing = [n for n in OUTPUTS if (args.out / n).exists()]
    if existing and not args.force:
        print(f"make_pki.py: {args.out} already has {', '.join(existing)}; a new PKI would "
              "invalidate the corpus (use --force)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in make_pki().items():
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
