"""Handshake messages field by field: which bytes are which, and what they say.

Consumes one handshake message as sent (or as decrypted): its bytes, the
4-byte handshake header included, and the decoded value from
:mod:`tlsdoc.handshake`.  Produces :class:`~tlsdoc.render.hexdump.Field`
values covering every byte, in the Illustrated-TLS style: handshake header,
legacy_version, random, session id, cipher_suites, compression, each
extension as type / length / content; ServerHello; Certificate (list
lengths, each certificate's DER); ServerKeyExchange (curve type, named
curve, public point, signature algorithm, signature); ClientKeyExchange;
ServerHelloDone; NewSessionTicket; Finished; EncryptedExtensions;
CertificateVerify.

The layouts are the RFCs' presentation-language structs (RFC 5246 §7.4,
RFC 8446 §4, RFC 8422 §5), walked again here over the raw bytes; every
value read on the way is compared with the decoded one, so an annotated
dump cannot disagree with the parser (a disagreement raises ValueError).

Every field belongs to a *group* (``legacy_version``, ``random``,
``cipher_suites``, ``extensions.server_name`` …, see :data:`GROUPS`), so a
chapter can show only some groups of a message (``:fields:``).

Also here, because the tables need the same words: :func:`extension_meaning`
(what one decoded extension says) and :data:`EXTENSION_PURPOSE` (what an
extension is for, with its RFC).

Never imports sphinx or docutils.  Certificates are read with
``cryptography.x509``, only to describe them.
"""

from __future__ import annotations

import enum
from typing import Sequence

from tlsdoc.render.hexdump import Field, hex_bytes

__all__ = [
    "GROUPS",
    "EXTENSION_PURPOSE",
    "code_name",
    "extension_name",
    "extension_meaning",
    "message_fields",
    "certificate_summary",
    "select_fields",
]

#: The groups each message's fields fall into, in wire order (``:fields:`` names).
#: Extensions add ``extensions.NAME`` groups for each extension present.
GROUPS: dict[str, tuple[str, ...]] = {
    "ClientHello": ("header", "legacy_version", "random", "legacy_session_id", "cipher_suites",
                    "legacy_compression_methods", "extensions"),
    "ServerHello": ("header", "legacy_version", "random", "legacy_session_id_echo", "cipher_suite",
                    "legacy_compression_method", "extensions"),
    "Certificate": ("header", "certificate_request_context", "certificate_list"),
    "ServerKeyExchange": ("header", "params", "signature"),
    "ClientKeyExchange": ("header", "exchange_keys"),
    "ServerHelloDone": ("header",),
    "Finished": ("header", "verify_data"),
    "NewSessionTicket": ("header", "ticket_lifetime", "ticket_age_add", "ticket_nonce", "ticket",
                         "extensions"),
    "EncryptedExtensions": ("header", "extensions"),
    "CertificateVerify": ("header", "algorithm", "signature"),
}

#: What each extension is for, in a few words, with the RFC that defines it.
EXTENSION_PURPOSE: dict[str, str] = {
    "server_name": "the host name the client wants to reach (SNI), RFC 6066 §3",
    "max_fragment_length": "smaller records for constrained clients, RFC 6066 §4",
    "status_request": "asks the server to staple an OCSP response, RFC 6066 §8",
    "supported_groups": "the key-exchange groups (curves) the client supports, RFC 8422 §5.1.1 / RFC 8446 §4.2.7",
    "ec_point_formats": "how elliptic-curve points may be encoded, RFC 8422 §5.1.2",
    "signature_algorithms": "the signature schemes the peer may use, RFC 5246 §7.4.1.4.1 / RFC 8446 §4.2.3",
    "application_layer_protocol_negotiation": "the application protocol to speak inside (ALPN), RFC 7301",
    "signed_certificate_timestamp": "asks for Certificate Transparency proofs, RFC 6962",
    "padding": "filler that pads the ClientHello to a size middleboxes handle, RFC 7685",
    "encrypt_then_mac": "MAC over the ciphertext for CBC suites, RFC 7366",
    "extended_master_secret": "master secret bound to the whole handshake, RFC 7627",
    "record_size_limit": "the largest record the sender will accept, RFC 8449",
    "session_ticket": "session resumption by ticket, RFC 5077",
    "pre_shared_key": "resumption (PSK) identities and binders, RFC 8446 §4.2.11",
    "early_data": "0-RTT data, RFC 8446 §4.2.10",
    "supported_versions": "the TLS versions offered or chosen, RFC 8446 §4.2.1",
    "cookie": "state the server hands back in a HelloRetryRequest, RFC 8446 §4.2.2",
    "psk_key_exchange_modes": "how a PSK may be used (with or without (EC)DHE), RFC 8446 §4.2.9",
    "certificate_authorities": "the CAs the sender trusts, RFC 8446 §4.2.4",
    "post_handshake_auth": "the client accepts a certificate request later, RFC 8446 §4.2.6",
    "signature_algorithms_cert": "signature schemes allowed in certificates, RFC 8446 §4.2.3",
    "key_share": "(EC)DHE public keys, RFC 8446 §4.2.8",
    "renegotiation_info": "secure renegotiation, RFC 5746",
    "compress_certificate": "certificate compression, RFC 8879",
}


def code_name(value) -> str:
    """An IANA code point as ``name (0x....)`` (or ``(N)`` for one-byte registries)."""
    if value is None:
        return "—"
    number = int(value)
    width = 4 if number > 0xFF or _wide(value) else 2
    name = getattr(value, "label", None) if hasattr(type(value), "label") else None
    name = name or (value.name if isinstance(value, enum.Enum) else None)
    if name is None:
        name = "GREASE" if (number & 0x0F0F) == 0x0A0A and (number >> 8) == (number & 0xFF) else "unassigned"
    return f"{name} (0x{number:0{width}x})"


def _wide(value) -> bool:
    from tlsdoc.registry import CipherSuite, ExtensionType, NamedGroup, ProtocolVersion, SignatureScheme

    return isinstance(value, (CipherSuite, ExtensionType, NamedGroup, ProtocolVersion, SignatureScheme))


def extension_name(extension) -> str:
    """The IANA name of an extension's type (``GREASE``/``unassigned`` for unknown ones)."""
    kind = extension.type
    if isinstance(kind, enum.Enum):
        return kind.name
    number = int(kind)
    grease = (number & 0x0F0F) == 0x0A0A and (number >> 8) == (number & 0xFF)
    return "GREASE" if grease else f"extension 0x{number:04x}"


def _names(values, limit: int = 4) -> str:
    names = [getattr(v, "name", None) or code_name(v) for v in values]
    if len(names) <= limit:
        return ", ".join(names) or "none"
    return ", ".join(names[:limit]) + f", … ({len(names)} in all)"


def _version(value) -> str:
    label = getattr(value, "label", None)
    return f"{label} (0x{int(value):04x})" if label else f"0x{int(value):04x}"


def extension_meaning(extension) -> str:
    """What one decoded extension says, in words, from its decoded values.

    >>> from types import SimpleNamespace as NS
    >>> from tlsdoc.registry import ExtensionType
    >>> extension_meaning(NS(type=ExtensionType.extended_master_secret))
    'empty: the sender supports the extended master secret'
    """
    from tlsdoc import handshake as hs

    name = extension_name(extension)
    if isinstance(extension, hs.ServerNameList):
        hosts = [n.name.decode("ascii", "backslashreplace") for n in extension.server_name_list]
        return "host_name " + ", ".join(hosts) if hosts else "empty: the server used the name"
    if isinstance(extension, hs.NamedGroupList):
        return _names(extension.named_group_list)
    if isinstance(extension, hs.ECPointFormatList):
        return _names(extension.ec_point_format_list)
    if isinstance(extension, hs.SignatureSchemeList):
        return _names(extension.supported_signature_algorithms, 3)
    if isinstance(extension, hs.ProtocolNameList):
        return ", ".join(p.decode("ascii", "backslashreplace") for p in extension.protocol_name_list)
    if isinstance(extension, hs.CertificateStatusRequest):
        kind = getattr(extension.status_type, "name", None)
        return f"{kind} stapling requested" if kind else "empty: the server will staple a status"
    if isinstance(extension, hs.CertificateStatus):
        return f"{getattr(extension.status_type, 'name', extension.status_type)} response, {len(extension.response)} bytes"
    if isinstance(extension, hs.SupportedVersions):
        if extension.selected_version is not None:
            return "selected " + _version(extension.selected_version)
        return ", ".join(_version(v) for v in extension.versions)
    if isinstance(extension, hs.KeyShareClientHello):
        return "; ".join(f"{getattr(e.group, 'name', code_name(e.group))}: {len(e.key_exchange)}-byte public key"
                         for e in extension.client_shares) or "empty: the client waits for the server's choice"
    if isinstance(extension, hs.KeyShareServerHello):
        entry = extension.server_share
        return f"{getattr(entry.group, 'name', code_name(entry.group))}: {len(entry.key_exchange)}-byte public key"
    if isinstance(extension, hs.KeyShareHelloRetryRequest):
        return f"send a key share for {getattr(extension.selected_group, 'name', code_name(extension.selected_group))}"
    if isinstance(extension, hs.PskKeyExchangeModes):
        return _names(extension.ke_modes)
    if isinstance(extension, hs.PreSharedKeyExtension):
        if extension.selected_identity is not None:
            return f"selected identity {extension.selected_identity}"
        return f"{len(extension.identities)} identity, {len(extension.binders)} binder"
    if isinstance(extension, hs.EarlyDataIndication):
        if extension.max_early_data_size is not None:
            return f"up to {extension.max_early_data_size} bytes of early data"
        return "empty: early data sent / accepted"
    if isinstance(extension, hs.Cookie):
        return f"{len(extension.cookie)} bytes to send back"
    if isinstance(extension, hs.SessionTicket):
        return f"{len(extension.ticket)}-byte ticket" if extension.ticket else "empty: tickets supported, none to offer"
    if isinstance(extension, hs.RenegotiationInfo):
        if extension.renegotiated_connection:
            return f"{len(extension.renegotiated_connection)} bytes of previous Finished"
        return "empty: a first handshake, not a renegotiation"
    if isinstance(extension, hs.RecordSizeLimit):
        return f"records up to {extension.record_size_limit} bytes"
    if isinstance(extension, hs.Padding):
        return f"{len(extension.padding)} bytes of padding"
    if isinstance(extension, hs.UnknownExtension):
        if name == "GREASE":
            return "GREASE: a random value peers must ignore (RFC 8701)"
        return f"not decoded here: {len(extension.data)} bytes"
    # EmptyExtension and anything without a body.
    if name == "extended_master_secret":
        return "empty: the sender supports the extended master secret"
    if name == "encrypt_then_mac":
        return "empty: the sender supports encrypt-then-MAC"
    if name == "post_handshake_auth":
        return "empty: the client accepts post-handshake authentication"
    if name == "signed_certificate_timestamp":
        return "empty: the client asks for SCTs"
    return "empty"


def certificate_summary(der: bytes) -> str:
    """``subject CN, issued by CN, RSA 2048`` for one DER certificate (or why it is unreadable)."""
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        return f"{_cn(cert.subject)}, issued by {_cn(cert.issuer)}, {key_description(cert)}"
    except Exception as exc:  # a damaged certificate is described, not fatal
        return f"not a readable certificate ({type(exc).__name__})"


def _cn(name) -> str:
    from cryptography.x509.oid import NameOID

    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def key_description(cert) -> str:
    """The certificate's public key in words: ``RSA 2048 bits``, ``EC secp256r1``, ``Ed25519``."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


# -- the walk ---------------------------------------------------------------------------


class _Walk:
    """A position in the message bytes; each read becomes a field and is checked."""

    def __init__(self, data: bytes, name: str, elide: int) -> None:
        self.data = data
        self.name = name
        self.pos = 0
        self.elide = elide
        self.fields: list[Field] = []

    def take(self, length: int, label: str, meaning: str, group: str, *,
             expect: bytes | None = None, long: bool = False) -> bytes:
        if self.pos + length > len(self.data):
            raise ValueError(f"{self.name}.{label}: {length} bytes at byte {self.pos} run past the "
                             f"end ({len(self.data)} bytes)")
        chunk = self.data[self.pos : self.pos + length]
        if expect is not None and chunk != expect:
            raise ValueError(f"{self.name}.{label}: the bytes at {self.pos} are not the decoded value")
        if length:
            elide = self.elide if long and length > self.elide else None
            self.fields.append(Field(self.pos, self.pos + length, label, meaning, elide, group))
        self.pos += length
        return chunk

    def uint(self, size: int, label: str, meaning: str, group: str, *, expect: int | None = None) -> int:
        value = int.from_bytes(self.take(size, label, meaning, group), "big")
        if expect is not None and value != int(expect):
            raise ValueError(f"{self.name}.{label}: the captured {value} is not the decoded {int(expect)}")
        return value

    def vector(self, size: int, value: bytes, label: str, meaning: str, group: str, *,
               length_label: str | None = None, empty: str = "empty") -> None:
        """A length-prefixed opaque value: its length field, then (if any) its bytes."""
        what = "empty: " + empty if not value else f"{len(value)} bytes follow"
        self.uint(size, length_label or f"{label} length", what, group, expect=len(value))
        self.take(len(value), label, meaning, group, expect=value, long=True)

    def done(self) -> tuple[Field, ...]:
        if self.pos != len(self.data):
            raise ValueError(f"{self.name}: {len(self.data) - self.pos} bytes left over after the "
                             "decoded fields")
        return tuple(self.fields)


def _header(w: _Walk, message_name: str) -> None:
    w.uint(1, "handshake type", f"{message_name} ({w.data[0]})", "header")
    w.uint(3, "message length", f"{len(w.data) - 4} bytes of {message_name} follow", "header",
           expect=len(w.data) - 4)


def _extensions(w: _Walk, extensions: Sequence, *, optional: bool = False) -> None:
    if optional and w.pos == len(w.data) and not extensions:
        return
    total = len(w.data) - w.pos - 2
    w.uint(2, "extensions length", f"{total} bytes of extensions follow ({len(extensions)} extensions)",
           "extensions", expect=total)
    for extension in extensions:
        name = extension_name(extension)
        group = f"extensions.{name}"
        w.uint(2, f"{name}: type", code_name(extension.type), group, expect=int(extension.type))
        length = int.from_bytes(w.data[w.pos : w.pos + 2], "big")
        w.uint(2, f"{name}: length", f"{length} bytes follow" if length else "0: no content", group)
        w.take(length, f"{name}: content", extension_meaning(extension), group, long=True)


def _client_hello(w: _Walk, m) -> None:
    w.uint(2, "legacy_version", _version(m.legacy_version)
           + ": the version the client asks for; TLS 1.3 offers go in supported_versions",
           "legacy_version", expect=m.legacy_version)
    w.take(32, "random", "32 bytes chosen by the client; every key depends on them", "random",
           expect=m.random, long=True)
    w.vector(1, m.legacy_session_id, "session id", "a session id (to resume, or TLS 1.3's compatibility mode)",
             "legacy_session_id", length_label="session id length", empty="no session to resume")
    suites = m.cipher_suites
    w.uint(2, "cipher suites length", f"{2 * len(suites)} bytes: {len(suites)} suites, two bytes each",
           "cipher_suites", expect=2 * len(suites))
    first = getattr(suites[0], "name", None) or code_name(suites[0]) if suites else "none"
    w.take(2 * len(suites), "cipher suites", f"{len(suites)} suites in order of preference, first {first}",
           "cipher_suites", expect=b"".join(int(s).to_bytes(2, "big") for s in suites), long=True)
    methods = m.legacy_compression_methods
    w.uint(1, "compression methods length", f"{len(methods)} method" + ("s" if len(methods) != 1 else ""),
           "legacy_compression_methods", expect=len(methods))
    names = ", ".join("null (0)" if b == 0 else f"method {b}" for b in methods)
    w.take(len(methods), "compression methods", names, "legacy_compression_methods", expect=methods)
    _extensions(w, m.extensions, optional=True)


def _server_hello(w: _Walk, m) -> None:
    w.uint(2, "legacy_version", _version(m.legacy_version) + ": the version chosen (TLS 1.3 says so in "
           "supported_versions)", "legacy_version", expect=m.legacy_version)
    w.take(32, "random", "32 bytes chosen by the server", "random", expect=m.random, long=True)
    w.vector(1, m.legacy_session_id_echo, "session id", "the session's id", "legacy_session_id_echo",
             length_label="session id length", empty="no session id")
    w.uint(2, "cipher suite", code_name(m.cipher_suite) + ": the suite chosen", "cipher_suite",
           expect=m.cipher_suite)
    w.uint(1, "compression method", "null (0): no compression" if m.legacy_compression_method == 0
           else f"method {m.legacy_compression_method}", "legacy_compression_method",
           expect=m.legacy_compression_method)
    _extensions(w, m.extensions, optional=True)


def _certificate(w: _Walk, m) -> None:
    if m.certificate_request_context is not None:
        w.vector(1, m.certificate_request_context, "request context", "the CertificateRequest's context",
                 "certificate_request_context", length_label="request context length",
                 empty="not a reply to a CertificateRequest")
    total = len(w.data) - w.pos - 3
    w.uint(3, "certificates length", f"{total} bytes of certificates follow "
           f"({len(m.certificate_list)} certificates)", "certificate_list", expect=total)
    for number, entry in enumerate(m.certificate_list):
        w.uint(3, f"certificate {number} length", f"{len(entry.cert_data)} bytes of DER follow",
               "certificate_list", expect=len(entry.cert_data))
        der = entry.cert_data
        w.take(len(der), f"certificate {number}", certificate_summary(der)
               + f"; DER starts {hex_bytes(der[:2])} (an ASN.1 SEQUENCE)", "certificate_list",
               expect=der, long=True)
        if m.certificate_request_context is not None:
            total = len(entry.extensions)
            length = int.from_bytes(w.data[w.pos : w.pos + 2], "big")
            w.uint(2, f"certificate {number} extensions length",
                   f"{length} bytes" if length else "0: no extensions", "certificate_list")
            w.take(length, f"certificate {number} extensions", f"{total} extensions", "certificate_list",
                   long=True)


def _server_key_exchange(w: _Walk, m) -> None:
    from tlsdoc import handshake as hs

    params = m.params
    if isinstance(params, hs.ServerECDHParams) and params.named_curve is not None:
        w.uint(1, "curve type", code_name(params.curve_type) + ": a curve named by its IANA number",
               "params", expect=params.curve_type)
        w.uint(2, "named curve", code_name(params.named_curve), "params", expect=params.named_curve)
        w.vector(1, params.public, "public key", f"the server's ephemeral {len(params.public)}-byte public "
                 "key, made for this handshake only", "params", length_label="public key length")
    elif isinstance(params, hs.ServerDHParams):
        w.vector(2, params.dh_p, "dh_p", "the prime", "params")
        w.vector(2, params.dh_g, "dh_g", "the generator", "params")
        w.vector(2, params.dh_Ys, "dh_Ys", "the server's ephemeral public value", "params")
    else:
        w.take(len(m.params_data), "params", "not decoded here", "params", expect=m.params_data, long=True)
    if m.signature is not None:
        if m.signature_algorithm is not None:
            w.uint(2, "signature algorithm", code_name(m.signature_algorithm), "signature",
                   expect=m.signature_algorithm)
        w.vector(2, m.signature, "signature", "over client_random + server_random + params, "
                 "with the certificate's key", "signature", length_label="signature length")


def _client_key_exchange(w: _Walk, m) -> None:
    if m.encrypted_pre_master_secret is not None:
        w.vector(2, m.encrypted_pre_master_secret, "encrypted premaster",
                 "the 48-byte premaster secret, RSA-encrypted with the server's public key",
                 "exchange_keys", length_label="encrypted premaster length")
    elif m.ecdh_Yc is not None:
        w.vector(1, m.ecdh_Yc, "public key", f"the client's ephemeral {len(m.ecdh_Yc)}-byte public key",
                 "exchange_keys", length_label="public key length")
    elif m.dh_Yc is not None:
        w.vector(2, m.dh_Yc, "dh_Yc", "the client's ephemeral public value", "exchange_keys")
    else:
        w.take(len(m.exchange_keys), "exchange keys", "not decoded here", "exchange_keys",
               expect=m.exchange_keys, long=True)


def _finished(w: _Walk, m) -> None:
    w.take(len(m.verify_data), "verify_data", f"{len(m.verify_data)} bytes computed from the master "
           "secret and the hash of every handshake message so far", "verify_data",
           expect=m.verify_data, long=True)


def _new_session_ticket(w: _Walk, m) -> None:
    w.uint(4, "ticket lifetime", f"{m.ticket_lifetime} seconds", "ticket_lifetime", expect=m.ticket_lifetime)
    if m.ticket_age_add is not None:
        w.uint(4, "ticket_age_add", "added to the ticket's age to hide it", "ticket_age_add",
               expect=m.ticket_age_add)
        w.vector(1, m.ticket_nonce or b"", "ticket nonce", "makes each ticket's PSK unique", "ticket_nonce",
                 length_label="ticket nonce length")
    w.vector(2, m.ticket, "ticket", "opaque to the client: the server's encrypted session state", "ticket",
             length_label="ticket length")
    if m.ticket_age_add is not None:
        _extensions(w, m.extensions)


def _certificate_verify(w: _Walk, m) -> None:
    if m.algorithm is not None:
        w.uint(2, "signature algorithm", code_name(m.algorithm), "algorithm", expect=m.algorithm)
    w.vector(2, m.signature, "signature", "over the transcript hash, with the certificate's key", "signature",
             length_label="signature length")


def _encrypted_extensions(w: _Walk, m) -> None:
    _extensions(w, m.extensions)


_LAYOUTS = {
    "ClientHello": _client_hello,
    "ServerHello": _server_hello,
    "HelloRetryRequest": _server_hello,
    "Certificate": _certificate,
    "ServerKeyExchange": _server_key_exchange,
    "ClientKeyExchange": _client_key_exchange,
    "ServerHelloDone": lambda w, m: None,
    "EndOfEarlyData": lambda w, m: None,
    "HelloRequest": lambda w, m: None,
    "Finished": _finished,
    "NewSessionTicket": _new_session_ticket,
    "CertificateVerify": _certificate_verify,
    "EncryptedExtensions": _encrypted_extensions,
}


def message_fields(data: bytes, message, *, elide: int = 16) -> tuple[Field, ...]:
    """Label every byte of one handshake message (header included).

    Args:
        data: the message as sent or decrypted: 4-byte header, then body
            (:attr:`tlsdoc.handshake.HandshakeEntry.raw`).
        message: its decoded value (``ClientHello``, ``Finished`` …).
        elide: long values (random, keys, certificates) are shown as this
            many bytes, half at each end.

    Returns:
        Fields relative to ``data[0]``, each with a group (see :data:`GROUPS`).

    Raises:
        ValueError: the bytes and the decoded values disagree, or the
            message type has no layout here.
    """
    name = type(message).__name__
    if name == "OpaqueMessage" or name not in _LAYOUTS:
        w = _Walk(data, name, elide)
        _header(w, name)
        w.take(len(data) - 4, "body", "not decoded here", "body", long=True)
        return w.done()
    w = _Walk(data, name, elide)
    _header(w, name)
    _LAYOUTS[name](w, message)
    return w.done()


def select_fields(fields: Sequence[Field], groups: Sequence[str]) -> tuple[Field, ...]:
    """The fields whose group is one of *groups* (or inside it: ``extensions`` takes ``extensions.*``).

    Raises:
        ValueError: a group names nothing in *fields* (a typo in ``:fields:``).
    """
    known = {f.group for f in fields}
    for group in groups:
        if not any(g == group or g.startswith(group + ".") for g in known):
            parents = sorted({g.split(".")[0] for g in known})
            raise ValueError(f"no field group {group!r} here (groups: {', '.join(parents)}; "
                             "extensions also by name, e.g. extensions.server_name)")
    return tuple(f for f in fields
                 if any(f.group == g or f.group.startswith(g + ".") for g in groups))
