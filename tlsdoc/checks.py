"""Checks: what a TLS client (or server) verifies, redone from the capture.

Consumes the decrypted handshake view (:class:`~tlsdoc.handshake.TlsHandshake`
as :func:`tlsdoc.session.decrypt_connection` leaves it), the connection's
:class:`~tlsdoc.session.ConnectionKeys`, and optionally trusted CA
certificates and the capture's time.  Produces one frozen
:class:`CheckResult` per check, ``passed``, ``failed`` or ``not possible``,
with a one-line reason and, where something was computed, the working
(``trace``, ``expected`` — what the message says — and ``computed``):

``client Finished`` / ``server Finished``
    TLS 1.2 (RFC 5246 §7.4.9): ``verify_data = PRF(master_secret,
    finished_label, Hash(handshake_messages))[0..11]``.
    TLS 1.3 (RFC 8446 §4.4.4): ``verify_data = HMAC(finished_key,
    Transcript-Hash(...))`` with ``finished_key`` from the sender's
    handshake traffic secret.
``CertificateVerify`` (and ``client CertificateVerify`` with client auth)
    TLS 1.3 (RFC 8446 §4.4.3): the signature over 64 spaces, the context
    string, a zero byte and the transcript hash, by the sender's
    certificate key.  TLS 1.2 client authentication (RFC 5246 §7.4.8):
    the signature over all handshake messages before it.
``ServerKeyExchange signature``
    TLS 1.2 (EC)DHE (RFC 5246 §7.4.3, RFC 8422 §5.4): the server's
    signature over ``client_random + server_random + params``.
``chain``
    the server's certificate chain built to one of the given CAs and valid
    for the SNI name at the time of the capture, by
    ``cryptography.x509.verification`` (RFC 5280 path validation).

Every primitive (hashes, HMAC, signatures, X.509) is ``cryptography``'s;
the TLS glue (which bytes are signed, which hash covers what) is
:mod:`tlsdoc.keyschedule` and :mod:`tlsdoc.session`.

Must never import dpkt, h11, sphinx, nor :mod:`tlsdoc.http`,
:mod:`tlsdoc.analysis`, :mod:`tlsdoc.render` or :mod:`tlsdoc.cli`; never
opens files (:func:`load_ca_bundle` takes bytes).
"""

from __future__ import annotations

import datetime as _dt
import enum
import ipaddress
from dataclasses import dataclass
from typing import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import verification

from tlsdoc import keylog as keylog_mod
from tlsdoc.errors import KeyMaterialError
from tlsdoc.handshake import (
    Certificate,
    CertificateVerify,
    Finished,
    HandshakeEntry,
    ServerKeyExchange,
    TlsHandshake,
)
from tlsdoc.keyschedule import (
    Step,
    tls12_finished_verify_data,
    tls13_finished_verify_data,
    transcript_hash,
)
from tlsdoc.registry import ProtocolVersion, SignatureScheme, lookup
from tlsdoc.session import ConnectionKeys, handshake_transcript, transcript_bytes
from tlsdoc.suites import KeyExchange, suite_params
from tlsdoc.wire import Direction

__all__ = [
    "Status",
    "CheckResult",
    "CHECK_NAMES",
    "load_ca_bundle",
    "check_finished",
    "check_certificate_verify",
    "check_server_key_exchange",
    "check_chain",
    "run_checks",
    "certificate_verify_content",
]

CLIENT, SERVER = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT


class Status(str, enum.Enum):
    """The outcome of a check."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_POSSIBLE = "not possible"

    def __str__(self) -> str:
        return self.value


#: The checks reported for every TLS connection, in order (DESIGN.md);
#: ``ServerKeyExchange signature`` and ``client CertificateVerify`` are
#: added where they apply.
CHECK_NAMES = ("client Finished", "server Finished", "CertificateVerify", "chain")


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check and its outcome.

    Attributes:
        name: ``"client Finished"``, ``"server Finished"``,
            ``"CertificateVerify"``, ``"client CertificateVerify"``,
            ``"ServerKeyExchange signature"`` or ``"chain"``.
        status: passed, failed or not possible.
        detail: why, in one line.
        expected: what the message carries (verify_data, a signature), if read.
        computed: what tlsdoc computed to compare with it, if anything.
        trace: the working (transcript hash, PRF/HMAC steps).
    """

    name: str
    status: Status
    detail: str
    expected: bytes | None = None
    computed: bytes | None = None
    trace: tuple[Step, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED


def _passed(name: str, detail: str, **kw) -> CheckResult:
    return CheckResult(name=name, status=Status.PASSED, detail=detail, **kw)


def _failed(name: str, detail: str, **kw) -> CheckResult:
    return CheckResult(name=name, status=Status.FAILED, detail=detail, **kw)


def _impossible(name: str, detail: str, **kw) -> CheckResult:
    return CheckResult(name=name, status=Status.NOT_POSSIBLE, detail=detail, **kw)


def load_ca_bundle(data: bytes, *, source: str = "CA bundle") -> tuple[x509.Certificate, ...]:
    """Trusted certificates from PEM bytes (one or more ``CERTIFICATE`` blocks).

    Raises:
        KeyMaterialError: no certificate could be read.
    """
    try:
        certs = x509.load_pem_x509_certificates(bytes(data))
    except ValueError:
        raise KeyMaterialError(f"{source}: not a PEM certificate bundle "
                               "(expected -----BEGIN CERTIFICATE----- blocks)") from None
    if not certs:
        raise KeyMaterialError(f"{source}: no certificate in the file")
    return tuple(certs)


def _tls13(tls: TlsHandshake) -> bool:
    return tls.version is not None and int(tls.version) >= ProtocolVersion.TLS_1_3


def _hash_name(tls: TlsHandshake) -> str | None:
    params = suite_params(tls.cipher_suite) if tls.cipher_suite is not None else None
    return params.prf_hash if params is not None else None


def _before(tls: TlsHandshake, entry: HandshakeEntry) -> list[HandshakeEntry] | None:
    """The transcript entries sent before *entry* (None if it is not in the transcript)."""
    out: list[HandshakeEntry] = []
    for e in handshake_transcript(tls):
        if e is entry:
            return out
        out.append(e)
    return None


def _unreadable(entries: Sequence[HandshakeEntry]) -> str:
    names = [f"{e.direction.sender} {e.name}" for e in entries if e.raw is None]
    return ", ".join(names) or "a message"


def _decrypted(tls: TlsHandshake, name: str, direction: Direction) -> HandshakeEntry | None:
    for entry in tls.messages(direction):
        if entry.name == name and entry.message is not None:
            return entry
    return None


# -- Finished ---------------------------------------------------------------------


def check_finished(tls: TlsHandshake, keys: ConnectionKeys | None, sender: Direction) -> CheckResult:
    """Recompute *sender*'s Finished.verify_data and compare (RFC 5246 §7.4.9, RFC 8446 §4.4.4)."""
    name = f"{sender.sender} Finished"
    hash_name = _hash_name(tls)
    if tls.version is None or hash_name is None:
        return _impossible(name, "the negotiated version or cipher suite is unknown or unsupported")
    entry = next((e for e in tls.messages(sender) if e.name == "Finished"), None)
    still_encrypted = any(e.encrypted and e.message is None for e in tls.messages(sender))
    if entry is None and not still_encrypted:
        return _impossible(name, f"no {sender.sender} Finished in the capture")
    if entry is None or not isinstance(entry.message, Finished):
        if keys is None:
            why = "no keys given (--keylog, or --key for RSA key exchange)"
        elif not keys.usable:
            why = "no key was found for this connection (see the warnings)"
        else:
            why = "its record was not decrypted (see the warnings)"
        return _impossible(name, f"the Finished is encrypted and {why}")
    before = _before(tls, entry)
    tls13 = _tls13(tls)
    data = transcript_bytes(before, hash_name, tls13=tls13) if before is not None else None
    if data is None:
        return _impossible(name, f"the transcript is incomplete ({_unreadable(before or [])} not readable)")
    digest = transcript_hash(data, hash_name)
    hash_step = Step(name="transcript_hash", op=hash_name.upper(),
                     inputs=(("handshake messages", data),), output=digest)
    expected = entry.message.verify_data
    if tls13:
        label = (keylog_mod.CLIENT_HANDSHAKE_TRAFFIC_SECRET if sender is CLIENT
                 else keylog_mod.SERVER_HANDSHAKE_TRAFFIC_SECRET)
        base = keys.secrets.get(label) if keys is not None else None
        if base is None:
            return _impossible(name, f"no {label} in the key log")
        derivation = tls13_finished_verify_data(base, digest, hash_name)
        rule = "HMAC(finished_key, Transcript-Hash) (RFC 8446 §4.4.4)"
    else:
        if keys is None or keys.master_secret is None:
            return _impossible(name, "no master secret")
        label = "client finished" if sender is CLIENT else "server finished"
        derivation = tls12_finished_verify_data(keys.master_secret, label, digest, hash_name,
                                                len(expected))
        rule = f'PRF(master_secret, "{label}", Hash(handshake_messages)) (RFC 5246 §7.4.9)'
    trace = (hash_step, *derivation.trace)
    computed = derivation.output
    if computed == expected:
        return _passed(name, f"verify_data {expected.hex()} = {rule}", expected=expected,
                       computed=computed, trace=trace)
    return _failed(name, f"verify_data is {expected.hex()}, but {rule} gives {computed.hex()}",
                   expected=expected, computed=computed, trace=trace)


# -- signatures ------------------------------------------------------------------------

_PKCS1, _PSS, _ECDSA, _EDDSA = "pkcs1", "pss", "ecdsa", "eddsa"

# SignatureScheme → (kind, hash), RFC 8446 §4.2.3 (and RFC 5246 §7.4.1.4.1 pairs).
_SCHEMES: dict[int, tuple[str, type[hashes.HashAlgorithm] | None]] = {
    SignatureScheme.rsa_pkcs1_sha1: (_PKCS1, hashes.SHA1),
    SignatureScheme.rsa_pkcs1_sha256: (_PKCS1, hashes.SHA256),
    SignatureScheme.rsa_pkcs1_sha384: (_PKCS1, hashes.SHA384),
    SignatureScheme.rsa_pkcs1_sha512: (_PKCS1, hashes.SHA512),
    SignatureScheme.rsa_pss_rsae_sha256: (_PSS, hashes.SHA256),
    SignatureScheme.rsa_pss_rsae_sha384: (_PSS, hashes.SHA384),
    SignatureScheme.rsa_pss_rsae_sha512: (_PSS, hashes.SHA512),
    SignatureScheme.rsa_pss_pss_sha256: (_PSS, hashes.SHA256),
    SignatureScheme.rsa_pss_pss_sha384: (_PSS, hashes.SHA384),
    SignatureScheme.rsa_pss_pss_sha512: (_PSS, hashes.SHA512),
    SignatureScheme.ecdsa_sha1: (_ECDSA, hashes.SHA1),
    SignatureScheme.ecdsa_secp256r1_sha256: (_ECDSA, hashes.SHA256),
    SignatureScheme.ecdsa_secp384r1_sha384: (_ECDSA, hashes.SHA384),
    SignatureScheme.ecdsa_secp521r1_sha512: (_ECDSA, hashes.SHA512),
    SignatureScheme.ed25519: (_EDDSA, None),
    SignatureScheme.ed448: (_EDDSA, None),
}


def _scheme_name(scheme) -> str:
    member = lookup(SignatureScheme, int(scheme))
    return member.name if isinstance(member, SignatureScheme) else f"0x{int(scheme):04x}"


def _verify(public_key, scheme, signature: bytes, data: bytes) -> tuple[bool | None, str]:
    """(True, how) / (False, why) / (None, why not possible)."""
    shape = _SCHEMES.get(int(scheme)) if scheme is not None else None
    label = _scheme_name(scheme) if scheme is not None else "no algorithm"
    if shape is None:
        return None, f"signature algorithm {label} is not supported"
    kind, hash_cls = shape
    try:
        if kind in (_PKCS1, _PSS):
            if not isinstance(public_key, rsa.RSAPublicKey):
                return False, f"{label} needs an RSA key, the certificate has {type(public_key).__name__}"
            pad = (padding.PKCS1v15() if kind == _PKCS1
                   else padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size))
            public_key.verify(signature, data, pad, hash_cls())
        elif kind == _ECDSA:
            if not isinstance(public_key, ec.EllipticCurvePublicKey):
                return False, f"{label} needs an EC key, the certificate has {type(public_key).__name__}"
            public_key.verify(signature, data, ec.ECDSA(hash_cls()))
        else:
            if not isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
                return False, f"{label} needs an EdDSA key, the certificate has {type(public_key).__name__}"
            public_key.verify(signature, data)
    except InvalidSignature:
        return False, f"the {label} signature does not verify with the certificate's key"
    except UnsupportedAlgorithm as exc:
        return None, f"{label}: {exc}"
    return True, f"{label} signature verifies with the certificate's key"


def _leaf(tls: TlsHandshake, sender: Direction) -> tuple[x509.Certificate | None, str]:
    entry = _decrypted(tls, "Certificate", sender)
    if entry is None or not isinstance(entry.message, Certificate):
        return None, "no readable Certificate"
    if not entry.message.certificate_list:
        return None, "the Certificate message is empty"
    try:
        return x509.load_der_x509_certificate(entry.message.certificate_list[0].cert_data), ""
    except ValueError as exc:
        return None, f"the certificate cannot be parsed ({exc})"


class _BadCertificate(Exception):
    """Certificate bytes that ``cryptography`` cannot read (private)."""


def _public_key(cert: x509.Certificate):
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise _BadCertificate(f"the certificate's public key cannot be read ({exc})") from None


def certificate_verify_content(transcript_digest: bytes, sender: Direction) -> bytes:
    """What a TLS 1.3 CertificateVerify signs (RFC 8446 §4.4.3).

    64 bytes of 0x20, the context string ``"TLS 1.3, server CertificateVerify"``
    (or ``client``), a 0x00 byte, then Transcript-Hash(Handshake Context,
    Certificate).
    """
    context = f"TLS 1.3, {sender.sender} CertificateVerify".encode("ascii")
    return b"\x20" * 64 + context + b"\x00" + transcript_digest


def check_certificate_verify(tls: TlsHandshake, sender: Direction = SERVER) -> CheckResult:
    """Verify *sender*'s CertificateVerify signature (RFC 8446 §4.4.3; TLS 1.2: RFC 5246 §7.4.8)."""
    name = "CertificateVerify" if sender is SERVER else "client CertificateVerify"
    tls13 = _tls13(tls)
    hash_name = _hash_name(tls)
    entry = next((e for e in tls.messages(sender) if e.name == "CertificateVerify"), None)
    if entry is None:
        if tls.version is None:
            return _impossible(name, "no ServerHello")
        if not tls13:
            if sender is SERVER:
                params = suite_params(tls.cipher_suite) if tls.cipher_suite is not None else None
                if params is not None and params.key_exchange is KeyExchange.RSA:
                    why = ("TLS 1.2 RSA key exchange: the server signs nothing; it proves its key "
                           "by decrypting the premaster (see the Finished checks)")
                else:
                    why = ("TLS 1.2: the server has no CertificateVerify; it signs the "
                           "ServerKeyExchange instead")
                return _impossible(name, why)
            return _impossible(name, "the client sent no CertificateVerify")
        if tls.resumed:
            return _impossible(name, "resumed session (PSK): no certificate and no CertificateVerify are sent")
        if any(e.encrypted and e.message is None for e in tls.messages(sender)):
            return _impossible(name, "the server's handshake is encrypted: no keys")
        return _impossible(name, f"no {sender.sender} CertificateVerify in the capture")
    if not isinstance(entry.message, CertificateVerify):
        return _impossible(name, "the CertificateVerify was not decrypted")
    cert, why = _leaf(tls, sender)
    if cert is None:
        return _impossible(name, why)
    before = _before(tls, entry)
    if before is None or hash_name is None:
        return _impossible(name, "the transcript is unknown")
    data = transcript_bytes(before, hash_name, tls13=tls13)
    if data is None:
        return _impossible(name, f"the transcript is incomplete ({_unreadable(before)} not readable)")
    message = entry.message
    if tls13:
        digest = transcript_hash(data, hash_name)
        signed = certificate_verify_content(digest, sender)
        trace = (Step(name="transcript_hash", op=hash_name.upper(),
                      inputs=(("handshake messages", data),), output=digest),
                 Step(name="signed content", op="0x20 * 64 + context string + 0x00 + transcript_hash",
                      inputs=(("transcript_hash", digest),), output=signed))
        if _SCHEMES.get(int(message.algorithm or 0), ("",))[0] == _PKCS1:
            return _failed(name, f"{_scheme_name(message.algorithm)} is not allowed in a TLS 1.3 "
                           "CertificateVerify (RFC 8446 §4.4.3)", expected=message.signature, trace=trace)
    else:
        signed = data
        trace = ()
    ok, how = _verify(_public_key(cert), message.algorithm, message.signature, signed)
    if ok is None:
        return _impossible(name, how, expected=message.signature, trace=trace)
    if ok:
        return _passed(name, how, expected=message.signature, trace=trace)
    return _failed(name, how, expected=message.signature, trace=trace)


def check_server_key_exchange(tls: TlsHandshake) -> CheckResult | None:
    """Verify the TLS 1.2 ServerKeyExchange signature (RFC 5246 §7.4.3, RFC 8422 §5.4).

    ``signature = sign(ClientHello.random + ServerHello.random + ServerECDHParams)``.

    Returns:
        The result, or None when the connection has no signed key exchange
        (TLS 1.3, RSA key exchange, resumption).
    """
    name = "ServerKeyExchange signature"
    entry = _decrypted(tls, "ServerKeyExchange", SERVER)
    if entry is None or not isinstance(entry.message, ServerKeyExchange):
        return None
    ske = entry.message
    if ske.signature is None:
        return _impossible(name, "the key exchange is not signed (anonymous or PSK)")
    if ske.signature_algorithm is None:
        return _impossible(name, "TLS 1.0/1.1 signatures (MD5+SHA-1) are not checked")
    cert, why = _leaf(tls, SERVER)
    if cert is None:
        return _impossible(name, why)
    if tls.client_random is None or tls.server_random is None:
        return _impossible(name, "the hellos' randoms are unknown")
    signed = tls.client_random + tls.server_random + ske.params_data
    trace = (Step(name="signed params", op="client_random + server_random + params",
                  inputs=(("ClientHello.random", tls.client_random),
                          ("ServerHello.random", tls.server_random),
                          ("params", ske.params_data)), output=signed),)
    ok, how = _verify(_public_key(cert), ske.signature_algorithm, ske.signature, signed)
    status = {True: Status.PASSED, False: Status.FAILED, None: Status.NOT_POSSIBLE}[ok]
    return CheckResult(name=name, status=status, detail=how, expected=ske.signature, trace=trace)


# -- chain ------------------------------------------------------------------------------


def _subject(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def check_chain(tls: TlsHandshake, ca: Sequence[x509.Certificate] | None, *,
                when: _dt.datetime | None = None, server_address: str | None = None) -> CheckResult:
    """Build and validate the server's chain to *ca*, for the SNI name, at *when*.

    RFC 5280 path validation and RFC 6125 name matching by
    ``cryptography.x509.verification``: ``PolicyBuilder().store(Store(ca))
    .time(when).build_server_verifier(DNSName(sni))``.  Without SNI the
    server's IP address is the name checked.

    Args:
        tls: the (decrypted) handshake view.
        ca: trusted certificates (``--ca``); None → not possible.
        when: the time to validate at: the capture's own time (default: now).
        server_address: the server's IP, for connections without SNI.
    """
    name = "chain"
    if ca is None:
        return _impossible(name, "no --ca given")
    entry = _decrypted(tls, "Certificate", SERVER)
    if entry is None or not isinstance(entry.message, Certificate):
        if tls.resumed:
            return _impossible(name, "resumed session: the server sends no certificate")
        if any(e.encrypted and e.message is None for e in tls.messages(SERVER)):
            return _impossible(name, "the server's Certificate is encrypted: no keys")
        return _impossible(name, "no server Certificate in the capture")
    try:
        certs = [x509.load_der_x509_certificate(e.cert_data) for e in entry.message.certificate_list]
    except ValueError as exc:
        return _failed(name, f"a certificate cannot be parsed ({exc})")
    if not certs:
        return _failed(name, "the server's Certificate message is empty")
    when = when or _dt.datetime.now(_dt.timezone.utc)
    try:
        if tls.sni:
            subject: verification.Subject = x509.DNSName(tls.sni)
            target = tls.sni
        elif server_address:
            subject = x509.IPAddress(ipaddress.ip_address(server_address))
            target = server_address
        else:
            return _impossible(name, "no SNI and no server address: the name to check is unknown")
        verifier = (verification.PolicyBuilder().store(verification.Store(list(ca)))
                    .time(when).build_server_verifier(subject))
    except ValueError as exc:
        return _impossible(name, f"cannot set up the verifier ({exc})")
    stamp = when.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    try:
        chain = verifier.verify(certs[0], certs[1:])
    except verification.VerificationError as exc:
        return _failed(name, f"{_subject(certs[0])} does not validate for {target} at {stamp}: {exc}")
    path = " ← ".join(_subject(c) for c in chain)
    return _passed(name, f"{path}; valid for {target} at {stamp}")


# -- all ------------------------------------------------------------------------------------


def _client_authenticates(tls: TlsHandshake) -> bool:
    """The client sent a CertificateVerify, or a Certificate that is not known to be empty.

    An empty client Certificate (RFC 8446 §4.4.2, RFC 5246 §7.4.6: asked for
    a certificate, the client has none) authenticates nothing: no check.
    """
    for entry in tls.messages(CLIENT):
        if entry.name == "CertificateVerify":
            return True
        if entry.name == "Certificate":
            if not isinstance(entry.message, Certificate) or entry.message.certificate_list:
                return True
    return False


def run_checks(tls: TlsHandshake, keys: ConnectionKeys | None, *,
               ca: Sequence[x509.Certificate] | None = None, when: _dt.datetime | None = None,
               server_address: str | None = None) -> tuple[CheckResult, ...]:
    """Every check for one TLS connection, in :data:`CHECK_NAMES` order.

    ``ServerKeyExchange signature`` follows ``CertificateVerify`` for TLS 1.2
    (EC)DHE, and ``client CertificateVerify`` comes when the client sent a
    (non-empty) certificate.
    """
    def guarded(name: str, check, *args, **kw) -> CheckResult | None:
        # Certificates are parsed lazily by cryptography: a damaged one can
        # fail deep inside a check.  That is a failed check, not a crash.
        try:
            return check(*args, **kw)
        except _BadCertificate as exc:
            return _failed(name, str(exc))
        except (ValueError, UnsupportedAlgorithm) as exc:
            return _failed(name, f"certificate data cannot be read ({exc})")

    results = [
        check_finished(tls, keys, CLIENT),
        check_finished(tls, keys, SERVER),
        guarded("CertificateVerify", check_certificate_verify, tls, SERVER),
    ]
    ske = guarded("ServerKeyExchange signature", check_server_key_exchange, tls)
    if ske is not None:
        results.append(ske)
    if _client_authenticates(tls):
        results.append(guarded("client CertificateVerify", check_certificate_verify, tls, CLIENT))
    results.append(guarded("chain", check_chain, tls, ca, when=when, server_address=server_address))
    return tuple(results)
