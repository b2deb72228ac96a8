"""Tests for tlsdoc.handshake: reassembly, message and extension decoding, the connection view.

Messages are built by the small helpers below from the RFC structs (never
copied from tlsdoc's own output); RFC 8448's hellos come from
tests/vectors/tls_messages.py.
"""

from __future__ import annotations

import dataclasses

import hashlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlsdoc.errors import DecodeError, TlsdocError, TruncatedError
from tlsdoc.handshake import (
    HELLO_RETRY_REQUEST_RANDOM,
    Certificate,
    CertificateRequest,
    CertificateStatus,
    CertificateStatusRequest,
    CertificateVerify,
    ClientHello,
    ClientKeyExchange,
    Cookie,
    EarlyDataIndication,
    ECPointFormatList,
    EmptyExtension,
    EncryptedExtensions,
    EndOfEarlyData,
    Finished,
    HandshakeContext,
    HandshakeReassembler,
    HelloRequest,
    HelloRetryRequest,
    KeyShareClientHello,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    KeyUpdate,
    NamedGroupList,
    NewSessionTicket,
    OpaqueMessage,
    Padding,
    PreSharedKeyExtension,
    ProtocolNameList,
    PskKeyExchangeModes,
    RecordSizeLimit,
    RenegotiationInfo,
    ServerDHParams,
    ServerECDHParams,
    ServerHello,
    ServerHelloDone,
    ServerKeyExchange,
    ServerNameList,
    SessionTicket,
    SignatureSchemeList,
    SupportedVersions,
    UnknownExtension,
    decode_message,
    message_name,
    parse_handshake,
    parse_messages,
)
from tlsdoc.records import parse_records
from tlsdoc.registry import (
    AlertDescription,
    AlertLevel,
    CertificateStatusType,
    CipherSuite,
    ClientCertificateType,
    ECCurveType,
    ECPointFormat,
    ExtensionType,
    HandshakeType,
    KeyUpdateRequest,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
)
from tlsdoc.wire import Direction
from vectors.tls_messages import (
    RFC8448_CLIENT_HELLO,
    RFC8448_ENCRYPTED_EXTENSIONS,
    RFC8448_SERVER_HELLO,
)

C2S = Direction.CLIENT_TO_SERVER
S2C = Direction.SERVER_TO_CLIENT
TLS12 = HandshakeContext(version=ProtocolVersion.TLS_1_2)
TLS13 = HandshakeContext(version=ProtocolVersion.TLS_1_3, cipher_suite=CipherSuite.TLS_AES_128_GCM_SHA256)


# -- builders (RFC 8446 §3 presentation language, by hand) -----------------
def u8(n: int) -> bytes:
    return n.to_bytes(1, "big")


def u16(n: int) -> bytes:
    return n.to_bytes(2, "big")


def u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


def u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def vec(size: int, body: bytes) -> bytes:
    """``opaque x<..>`` with a *size*-byte length prefix."""
    return len(body).to_bytes(size, "big") + body


def ext(ext_type: int, body: bytes = b"") -> bytes:
    return u16(ext_type) + vec(2, body)


def hs(msg_type: int, body: bytes) -> bytes:
    return u8(msg_type) + u24(len(body)) + body


def rec(content_type: int, body: bytes, version: int = 0x0303) -> bytes:
    return u8(content_type) + u16(version) + vec(2, body)


RANDOM_C = bytes(range(32))
RANDOM_S = bytes(range(100, 132))


def client_hello(*extensions: bytes, suites=(0x1301, 0xC02F), session_id=b"", version=0x0303) -> bytes:
    body = u16(version) + RANDOM_C + vec(1, session_id)
    body += vec(2, b"".join(u16(s) for s in suites)) + vec(1, b"\x00")
    body += vec(2, b"".join(extensions))
    return hs(1, body)


def server_hello(*extensions: bytes, suite=0xC02F, session_id=b"", random=RANDOM_S, with_extensions=True) -> bytes:
    body = u16(0x0303) + random + vec(1, session_id) + u16(suite) + u8(0)
    if with_extensions:
        body += vec(2, b"".join(extensions))
    return hs(2, body)


def sni(name: bytes) -> bytes:
    return ext(0, vec(2, u8(0) + vec(2, name)))


def one(raw: bytes, context: HandshakeContext | None = None, direction=C2S):
    (entry,) = parse_messages(raw, direction=direction, context=context)
    return entry.message


# -- RFC 8448 §3 -------------------------------------------------------------
def test_rfc8448_client_hello():
    ch = one(RFC8448_CLIENT_HELLO)
    assert isinstance(ch, ClientHello)
    assert ch.legacy_version is ProtocolVersion.TLS_1_2
    assert ch.random == bytes.fromhex("cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7")
    assert ch.legacy_session_id == b""
    assert ch.cipher_suites == (
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
    )
    assert ch.legacy_compression_methods == b"\x00"
    assert [e.type for e in ch.extensions] == [
        ExtensionType.server_name,
        ExtensionType.renegotiation_info,
        ExtensionType.supported_groups,
        ExtensionType.session_ticket,
        ExtensionType.key_share,
        ExtensionType.supported_versions,
        ExtensionType.signature_algorithms,
        ExtensionType.psk_key_exchange_modes,
        ExtensionType.record_size_limit,
    ]
    names = ch.extension(ExtensionType.server_name)
    assert [n.host_name for n in names.server_name_list] == ["server"]
    groups = ch.extension(ExtensionType.supported_groups).named_group_list
    assert groups == (
        NamedGroup.x25519,
        NamedGroup.secp256r1,
        NamedGroup.secp384r1,
        NamedGroup.secp521r1,
        NamedGroup.ffdhe2048,
        NamedGroup.ffdhe3072,
        NamedGroup.ffdhe4096,
        NamedGroup.ffdhe6144,
        NamedGroup.ffdhe8192,
    )
    (share,) = ch.extension(ExtensionType.key_share).client_shares
    assert share.group is NamedGroup.x25519
    assert share.key_exchange == bytes.fromhex("99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c")
    assert ch.extension(ExtensionType.supported_versions).versions == (ProtocolVersion.TLS_1_3,)
    algs = ch.extension(ExtensionType.signature_algorithms).supported_signature_algorithms
    assert algs[:4] == (
        SignatureScheme.ecdsa_secp256r1_sha256,
        SignatureScheme.ecdsa_secp384r1_sha384,
        SignatureScheme.ecdsa_secp521r1_sha512,
        SignatureScheme.ecdsa_sha1,
    )
    assert 0x0402 in algs and type(algs[algs.index(0x0402)]) is int  # dsa_sha256_RESERVED stays an int
    assert len(algs) == 15
    assert ch.extension(ExtensionType.psk_key_exchange_modes).ke_modes == (PskKeyExchangeMode.psk_dhe_ke,)
    assert ch.extension(ExtensionType.record_size_limit).record_size_limit == 0x4001
    assert ch.extension(ExtensionType.session_ticket).ticket == b""
    assert ch.extension(ExtensionType.renegotiation_info).renegotiated_connection == b""
    assert ch.span.start == 0 and ch.span.end == len(RFC8448_CLIENT_HELLO)


def test_rfc8448_server_hello_and_encrypted_extensions():
    sh = one(RFC8448_SERVER_HELLO, direction=S2C)
    assert isinstance(sh, ServerHello)
    assert sh.random == bytes.fromhex("a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928")
    assert sh.cipher_suite is CipherSuite.TLS_AES_128_GCM_SHA256
    assert sh.legacy_session_id_echo == b"" and sh.legacy_compression_method == 0
    share = sh.extension(ExtensionType.key_share).server_share
    assert share.group is NamedGroup.x25519
    assert share.key_exchange.hex().startswith("c9828876112095fe")
    assert sh.selected_version is ProtocolVersion.TLS_1_3
    ee = one(RFC8448_ENCRYPTED_EXTENSIONS, TLS13, direction=S2C)
    assert isinstance(ee, EncryptedExtensions)
    assert [e.type for e in ee.extensions] == [
        ExtensionType.supported_groups,
        ExtensionType.record_size_limit,
        ExtensionType.server_name,
    ]
    assert ee.extension(ExtensionType.server_name).server_name_list == ()


def test_rfc8448_hellos_as_a_connection():
    client = rec(22, RFC8448_CLIENT_HELLO, 0x0301) + rec(23, b"\x17" * 30)
    server = rec(22, RFC8448_SERVER_HELLO) + rec(23, b"\x99" * 40)
    view = parse_handshake(parse_records(client, C2S), parse_records(server, S2C))
    assert view.version is ProtocolVersion.TLS_1_3
    assert view.version.label == "TLS 1.3"
    assert view.cipher_suite is CipherSuite.TLS_AES_128_GCM_SHA256
    assert view.sni == "server"
    assert view.alpn is None
    assert view.client_random.hex().startswith("cb34ecb1")
    assert view.server_random.hex().startswith("a6af06a4")
    assert [m.name for m in view.messages(C2S)] == ["ClientHello", "Encrypted"]
    assert [m.name for m in view.messages(S2C)] == ["ServerHello", "Encrypted"]
    assert view.messages(C2S)[0].raw == RFC8448_CLIENT_HELLO
    assert view.encrypted_records(S2C) == (1,)
    assert not view.resumed and not view.hello_retry and view.warnings == ()


# -- extensions, one table ---------------------------------------------------
GREASE_EXT = 0x0A0A

EXTENSION_CASES = [
    # (extension bytes, where, check)
    (sni(b"www.example.com"), "ch", lambda e: isinstance(e, ServerNameList)
     and e.server_name_list[0].host_name == "www.example.com"),
    (ext(0), "sh", lambda e: isinstance(e, ServerNameList) and e.server_name_list == ()),
    (ext(10, vec(2, u16(0x1A1A) + u16(29) + u16(0x11EC))), "ch",
     lambda e: isinstance(e, NamedGroupList) and e.named_group_list == (0x1A1A, NamedGroup.x25519, NamedGroup.X25519MLKEM768)),
    (ext(11, vec(1, b"\x00\x01\x07")), "ch",
     lambda e: isinstance(e, ECPointFormatList)
     and e.ec_point_format_list == (ECPointFormat.uncompressed, ECPointFormat.ansiX962_compressed_prime, 7)),
    (ext(13, vec(2, u16(0x0804) + u16(0x0403))), "ch",
     lambda e: isinstance(e, SignatureSchemeList)
     and e.supported_signature_algorithms == (SignatureScheme.rsa_pss_rsae_sha256, SignatureScheme.ecdsa_secp256r1_sha256)),
    (ext(50, vec(2, u16(0x0807))), "ch",
     lambda e: isinstance(e, SignatureSchemeList) and e.type is ExtensionType.signature_algorithms_cert),
    (ext(16, vec(2, vec(1, b"h2") + vec(1, b"http/1.1"))), "ch",
     lambda e: isinstance(e, ProtocolNameList) and e.protocol_name_list == (b"h2", b"http/1.1")),
    (ext(5, u8(1) + vec(2, vec(2, b"rid")) + vec(2, b"xt")), "ch",
     lambda e: isinstance(e, CertificateStatusRequest) and e.status_type is CertificateStatusType.ocsp
     and e.responder_id_list == (b"rid",) and e.request_extensions == b"xt"),
    (ext(5), "sh", lambda e: isinstance(e, CertificateStatusRequest) and e.status_type is None),
    (ext(43, vec(1, u16(0x7A7A) + u16(0x0304) + u16(0x0303))), "ch",
     lambda e: isinstance(e, SupportedVersions) and e.versions == (0x7A7A, ProtocolVersion.TLS_1_3, ProtocolVersion.TLS_1_2)
     and e.selected_version is None),
    (ext(43, u16(0x0304)), "sh",
     lambda e: isinstance(e, SupportedVersions) and e.selected_version is ProtocolVersion.TLS_1_3 and e.versions == ()),
    (ext(51, vec(2, u16(0x2A2A) + vec(2, b"\x00") + u16(29) + vec(2, b"k" * 32))), "ch",
     lambda e: isinstance(e, KeyShareClientHello) and [s.group for s in e.client_shares] == [0x2A2A, NamedGroup.x25519]
     and e.client_shares[1].key_exchange == b"k" * 32),
    (ext(51, u16(23) + vec(2, b"\x04" + b"p" * 64)), "sh",
     lambda e: isinstance(e, KeyShareServerHello) and e.server_share.group is NamedGroup.secp256r1),
    (ext(45, vec(1, b"\x01\x0b")), "ch",
     lambda e: isinstance(e, PskKeyExchangeModes) and e.ke_modes == (PskKeyExchangeMode.psk_dhe_ke, 0x0B)),
    (ext(41, vec(2, vec(2, b"ticket") + u32(12345)) + vec(2, vec(1, b"b" * 32))), "ch",
     lambda e: isinstance(e, PreSharedKeyExtension) and e.identities[0].identity == b"ticket"
     and e.identities[0].obfuscated_ticket_age == 12345 and e.binders == (b"b" * 32,) and e.selected_identity is None),
    (ext(41, u16(0)), "sh", lambda e: isinstance(e, PreSharedKeyExtension) and e.selected_identity == 0),
    (ext(42), "ch", lambda e: isinstance(e, EarlyDataIndication) and e.max_early_data_size is None),
    (ext(44, vec(2, b"cookie!")), "ch", lambda e: isinstance(e, Cookie) and e.cookie == b"cookie!"),
    (ext(23), "ch", lambda e: isinstance(e, EmptyExtension) and e.type is ExtensionType.extended_master_secret),
    (ext(22), "sh", lambda e: isinstance(e, EmptyExtension) and e.type is ExtensionType.encrypt_then_mac),
    (ext(35, b"opaque-ticket"), "ch", lambda e: isinstance(e, SessionTicket) and e.ticket == b"opaque-ticket"),
    (ext(0xFF01, vec(1, b"v" * 12)), "sh",
     lambda e: isinstance(e, RenegotiationInfo) and e.renegotiated_connection == b"v" * 12),
    (ext(28, u16(16385)), "ch", lambda e: isinstance(e, RecordSizeLimit) and e.record_size_limit == 16385),
    (ext(21, bytes(40)), "ch", lambda e: isinstance(e, Padding) and e.padding == bytes(40)),
    (ext(GREASE_EXT, b"\x00"), "ch",
     lambda e: isinstance(e, UnknownExtension) and e.type == GREASE_EXT and type(e.type) is int and e.data == b"\x00"),
    (ext(17513, b"\x00\x03\x02h2"), "ch", lambda e: isinstance(e, UnknownExtension) and e.type == 17513),
    (ext(57, b"quic"), "ch",
     lambda e: isinstance(e, UnknownExtension) and e.type is ExtensionType.quic_transport_parameters),
]


@pytest.mark.parametrize(("data", "where", "check"), EXTENSION_CASES)
def test_extension_decoding(data, where, check):
    if where == "ch":
        message = one(client_hello(data))
    else:
        message = one(server_hello(data), direction=S2C)
    (decoded,) = message.extensions
    assert check(decoded)
    # The extension's span covers exactly its bytes in the stream.
    raw = client_hello(data) if where == "ch" else server_hello(data)
    assert raw[decoded.span.start : decoded.span.end] == data


def test_extension_not_defined_for_message_kept_unknown():
    # key_share is not defined in EncryptedExtensions: kept, not guessed at.
    ee = one(hs(8, vec(2, ext(51, u16(29)))), TLS13, direction=S2C)
    (e,) = ee.extensions
    assert isinstance(e, UnknownExtension) and e.type is ExtensionType.key_share and e.data == u16(29)


def test_hello_retry_request_recognised():
    raw = server_hello(ext(43, u16(0x0304)), ext(51, u16(23)), ext(44, vec(2, b"c" * 8)),
                       suite=0x1301, random=HELLO_RETRY_REQUEST_RANDOM)
    assert HELLO_RETRY_REQUEST_RANDOM == hashlib.sha256(b"HelloRetryRequest").digest()
    (entry,) = parse_messages(raw, direction=S2C)
    assert entry.name == "HelloRetryRequest"
    hrr = entry.message
    assert isinstance(hrr, HelloRetryRequest)
    assert isinstance(hrr.extension(ExtensionType.key_share), KeyShareHelloRetryRequest)
    assert hrr.extension(ExtensionType.key_share).selected_group is NamedGroup.secp256r1
    assert hrr.extension(ExtensionType.cookie).cookie == b"c" * 8
    assert hrr.selected_version is ProtocolVersion.TLS_1_3


def test_hellos_without_extensions_block():
    body = u16(0x0301) + RANDOM_C + vec(1, b"") + vec(2, u16(0x002F)) + vec(1, b"\x00")
    ch = one(hs(1, body))
    assert ch.extensions == () and ch.cipher_suites == (CipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA,)
    sh = one(server_hello(with_extensions=False), direction=S2C)
    assert sh.extensions == () and sh.selected_version is ProtocolVersion.TLS_1_2


# -- messages ----------------------------------------------------------------
CERT_A = b"\x30\x03\x02\x01\x01"
CERT_B = b"\x30\x03\x02\x01\x02"


def test_certificate_tls12():
    raw = hs(11, vec(3, vec(3, CERT_A) + vec(3, CERT_B)))
    cert = one(raw, TLS12, S2C)
    assert isinstance(cert, Certificate)
    assert cert.certificate_request_context is None
    assert [e.cert_data for e in cert.certificate_list] == [CERT_A, CERT_B]
    assert raw[cert.certificate_list[1].span.start : cert.certificate_list[1].span.end] == vec(3, CERT_B)


def test_certificate_tls13_with_entry_extensions():
    status = ext(5, u8(1) + vec(3, b"ocsp-response"))
    raw = hs(11, vec(1, b"") + vec(3, vec(3, CERT_A) + vec(2, status) + vec(3, CERT_B) + vec(2, b"")))
    cert = one(raw, TLS13, S2C)
    assert cert.certificate_request_context == b""
    first, second = cert.certificate_list
    stapled = first.extension(ExtensionType.status_request)
    assert isinstance(stapled, CertificateStatus)
    assert stapled.status_type is CertificateStatusType.ocsp and stapled.response == b"ocsp-response"
    assert second.extensions == ()


def test_server_key_exchange_ecdhe_tls12():
    point = b"\x04" + b"P" * 64
    params = u8(3) + u16(23) + vec(1, point)
    raw = hs(12, params + u16(0x0804) + vec(2, b"S" * 256))
    ctx = HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
    ske = one(raw, ctx, S2C)
    assert isinstance(ske, ServerKeyExchange)
    assert ske.key_exchange_algorithm == "ECDHE_RSA"
    assert isinstance(ske.params, ServerECDHParams)
    assert ske.params.curve_type is ECCurveType.named_curve
    assert ske.params.named_curve is NamedGroup.secp256r1 and ske.params.public == point
    assert ske.params_data == params
    assert ske.signature_algorithm is SignatureScheme.rsa_pss_rsae_sha256 and ske.signature == b"S" * 256


def test_server_key_exchange_ecdhe_tls11_has_no_algorithm():
    params = u8(3) + u16(29) + vec(1, b"x" * 32)
    raw = hs(12, params + vec(2, b"S" * 128))
    ctx = HandshakeContext(version=ProtocolVersion.TLS_1_1, cipher_suite=0xC013)
    ske = one(raw, ctx, S2C)
    assert ske.signature_algorithm is None and ske.signature == b"S" * 128


def test_server_key_exchange_dhe_and_anon():
    params = vec(2, b"\xff" * 256) + vec(2, b"\x02") + vec(2, b"Y" * 256)
    ctx = HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256)
    ske = one(hs(12, params + u16(0x0401) + vec(2, b"s" * 64)), ctx, S2C)
    assert isinstance(ske.params, ServerDHParams)
    assert (ske.params.dh_g, ske.params.dh_Ys) == (b"\x02", b"Y" * 256)
    anon = HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=CipherSuite.TLS_DH_anon_WITH_AES_128_CBC_SHA)
    ske = one(hs(12, params), anon, S2C)
    assert ske.signature is None and ske.signature_algorithm is None


def test_server_key_exchange_without_known_kex_is_kept():
    ske = one(hs(12, b"\x01\x02\x03"), TLS12, S2C)
    assert ske.params is None and ske.params_data == b"\x01\x02\x03"


def test_certificate_request_both_forms():
    raw12 = hs(13, vec(1, b"\x01\x40") + vec(2, u16(0x0401)) + vec(2, vec(2, b"DN1")))
    cr = one(raw12, TLS12, S2C)
    assert isinstance(cr, CertificateRequest)
    assert cr.certificate_types == (ClientCertificateType.rsa_sign, ClientCertificateType.ecdsa_sign)
    assert cr.supported_signature_algorithms == (SignatureScheme.rsa_pkcs1_sha256,)
    assert cr.certificate_authorities == (b"DN1",) and cr.certificate_request_context is None
    raw13 = hs(13, vec(1, b"\x07") + vec(2, ext(13, vec(2, u16(0x0804)))))
    cr = one(raw13, TLS13, S2C)
    assert cr.certificate_request_context == b"\x07"
    assert isinstance(cr.extension(ExtensionType.signature_algorithms), SignatureSchemeList)


@pytest.mark.parametrize(
    ("suite", "body", "field", "value"),
    [
        (CipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256, vec(2, b"E" * 256), "encrypted_pre_master_secret", b"E" * 256),
        (CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, vec(1, b"Q" * 32), "ecdh_Yc", b"Q" * 32),
        (CipherSuite.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, vec(2, b"Y" * 256), "dh_Yc", b"Y" * 256),
    ],
)
def test_client_key_exchange(suite, body, field, value):
    ctx = HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=suite)
    cke = one(hs(16, body), ctx)
    assert isinstance(cke, ClientKeyExchange)
    assert getattr(cke, field) == value
    assert cke.exchange_keys == body
    others = {"encrypted_pre_master_secret", "ecdh_Yc", "dh_Yc"} - {field}
    assert all(getattr(cke, f) is None for f in others)


def test_client_key_exchange_ssl3_rsa_has_no_length():
    ctx = HandshakeContext(version=ProtocolVersion.SSL_3_0, cipher_suite=CipherSuite.TLS_RSA_WITH_RC4_128_SHA)
    cke = one(hs(16, b"E" * 128), ctx)
    assert cke.encrypted_pre_master_secret is None and cke.exchange_keys == b"E" * 128


def test_new_session_ticket_both_forms():
    nst = one(hs(4, u32(7200) + vec(2, b"T" * 20)), TLS12, S2C)
    assert isinstance(nst, NewSessionTicket)
    assert (nst.ticket_lifetime, nst.ticket, nst.ticket_age_add, nst.ticket_nonce) == (7200, b"T" * 20, None, None)
    raw = hs(4, u32(300) + u32(0xDEADBEEF) + vec(1, b"\x00\x01") + vec(2, b"T" * 9) + vec(2, ext(42, u32(16384))))
    nst = one(raw, TLS13, S2C)
    assert (nst.ticket_lifetime, nst.ticket_age_add, nst.ticket_nonce) == (300, 0xDEADBEEF, b"\x00\x01")
    assert nst.extension(ExtensionType.early_data).max_early_data_size == 16384


def test_small_messages():
    assert isinstance(one(hs(14, b""), TLS12, S2C), ServerHelloDone)
    assert isinstance(one(hs(0, b""), TLS12, S2C), HelloRequest)
    assert isinstance(one(hs(5, b""), TLS13), EndOfEarlyData)
    cv = one(hs(15, u16(0x0804) + vec(2, b"sig")), TLS13, S2C)
    assert isinstance(cv, CertificateVerify)
    assert (cv.algorithm, cv.signature) == (SignatureScheme.rsa_pss_rsae_sha256, b"sig")
    fin = one(hs(20, b"F" * 32), TLS13)
    assert isinstance(fin, Finished) and fin.verify_data == b"F" * 32
    ku = one(hs(24, b"\x01"), TLS13)
    assert isinstance(ku, KeyUpdate) and ku.request_update is KeyUpdateRequest.update_requested
    opaque = one(hs(22, b"status"), TLS12, S2C)
    assert isinstance(opaque, OpaqueMessage) and opaque.msg_type is HandshakeType.certificate_status
    (entry,) = parse_messages(hs(99, b"??"))
    assert entry.name == "Unknown(0x63)" and entry.message.msg_type == 99


def test_message_names():
    assert message_name(HandshakeType.client_hello) == "ClientHello"
    assert message_name(HandshakeType.certificate_url) == "CertificateURL"
    assert message_name(HandshakeType.server_hello_done) == "ServerHelloDone"
    assert message_name(HandshakeType.new_session_ticket) == "NewSessionTicket"


# -- errors are located --------------------------------------------------------
def test_lying_key_share_length():
    bad_ext = ext(51, vec(2, u16(29) + u16(32) + b"short"))
    raw = client_hello(sni(b"a"), bad_ext)
    with pytest.raises(TruncatedError) as info:
        parse_messages(raw, direction=C2S, base=1000)
    err = info.value
    assert err.field == "ClientHello.extensions.key_share.client_shares.key_exchange"
    # offset: where the 32 bytes were to start (after group and length).
    assert err.offset == 1000 + raw.index(b"short")


def test_trailing_bytes_in_extension():
    raw = client_hello(ext(28, u16(1) + b"\x00"))
    with pytest.raises(DecodeError) as info:
        parse_messages(raw)
    assert info.value.field == "ClientHello.extensions.record_size_limit"
    assert info.value.offset == len(raw) - 1


def test_duplicate_extension():
    raw = client_hello(ext(23), ext(23))
    with pytest.raises(DecodeError) as info:
        parse_messages(raw)
    assert info.value.field == "ClientHello.extensions.extended_master_secret"
    assert info.value.offset == len(raw) - 4


def test_repeated_extensions_decode_alike_and_still_fail_where_they_fail():
    # Extensions whose value depends only on their bytes are decoded once and
    # rebuilt for later copies (handshake._decoded_before): same values, own
    # spans, and a malformed copy still raises, located, every time.
    groups = ext(10, vec(2, u16(29) + u16(23)))
    alpn = ext(16, vec(2, vec(1, b"h2") + vec(1, b"http/1.1")))
    first = one(client_hello(sni(b"a.example"), groups, alpn))
    again = parse_messages(client_hello(sni(b"bb.example"), groups, alpn), direction=C2S, base=500)[0].message
    for a, b in zip(first.extensions[1:], again.extensions[1:]):
        assert type(a) is type(b) and a.type == b.type
        assert b.span.start == a.span.start + 500 + 1 and b.span.length == a.span.length
        assert {k: v for k, v in vars_of(a).items() if k != "span"} == {
            k: v for k, v in vars_of(b).items() if k != "span"}
    for _ in range(2):
        with pytest.raises(DecodeError) as info:
            parse_messages(client_hello(ext(28, u16(1) + b"\x00")))
        assert info.value.field == "ClientHello.extensions.record_size_limit"
        cut = client_hello(groups)[:-1]  # the last extension runs past the block
        with pytest.raises(TruncatedError):
            parse_messages(hs(1, cut[4:]))


def vars_of(value) -> dict:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


def test_trailing_bytes_in_message_body():
    raw = hs(20, b"")[:1] + u24(3) + b"abc"
    assert one(raw, TLS13).verify_data == b"abc"  # Finished takes the rest
    raw = hs(14, b"x")
    with pytest.raises(DecodeError) as info:
        parse_messages(raw, context=TLS12)
    assert (info.value.offset, info.value.field) == (4, "ServerHelloDone")


def test_incomplete_message_in_parse_messages():
    raw = client_hello()
    with pytest.raises(TruncatedError) as info:
        parse_messages(raw[:-3], base=50)
    assert info.value.offset == 50 and info.value.field == "ClientHello"


def test_error_offset_is_a_stream_offset_across_records():
    # The ClientHello is cut into records of 20 bytes: the bad byte's stream
    # offset counts the record headers in between.
    raw = client_hello(ext(28, u16(1) + b"\x00"))
    stream = b"".join(rec(22, raw[i : i + 20]) for i in range(0, len(raw), 20))
    view = parse_handshake(parse_records(stream, C2S), parse_records(b"", S2C))
    (entry,) = view.messages(C2S)
    assert entry.message is None and entry.error
    (warning,) = view.warnings
    bad = len(raw) - 1
    expected_offset = (bad // 20) * 25 + 5 + bad % 20
    assert f"+0x{expected_offset:04x}" in warning
    assert f"record {bad // 20}" in warning
    assert "ClientHello.extensions.record_size_limit" in warning


# -- feeding every way -------------------------------------------------------
def tls12_flights():
    suite = CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    ch = client_hello(sni(b"www.example.com"), ext(23), ext(16, vec(2, vec(1, b"http/1.1"))), ext(0xFF01, vec(1, b"")))
    sh = server_hello(ext(23), ext(16, vec(2, vec(1, b"http/1.1"))), ext(0xFF01, vec(1, b"")), suite=suite)
    cert = hs(11, vec(3, vec(3, CERT_A)))
    ske = hs(12, u8(3) + u16(29) + vec(1, b"K" * 32) + u16(0x0804) + vec(2, b"S" * 64))
    shd = hs(14, b"")
    cke = hs(16, vec(1, b"C" * 32))
    return (ch, cke), (sh, cert, ske, shd)


def split_into_records(messages: tuple[bytes, ...], sizes) -> bytes:
    data = b"".join(messages)
    out, pos, i = [], 0, 0
    while pos < len(data):
        n = sizes[i % len(sizes)]
        out.append(rec(22, data[pos : pos + n]))
        pos += n
        i += 1
    return b"".join(out)


@pytest.mark.parametrize(
    "sizes",
    [
        [10_000],  # all messages in one record
        [1],  # one byte per record
        [7, 300, 2],  # messages split across records, several per record
        [4],  # header and body in different records
    ],
    ids=["one-record", "byte-per-record", "mixed", "header-split"],
)
def test_tls12_full_handshake_any_record_cut(sizes):
    (ch, cke), server_msgs = tls12_flights()
    client = split_into_records((ch, cke), sizes) + rec(20, b"\x01") + rec(22, b"\xee" * 40) + rec(23, b"req") + rec(21, b"\xaa\xbb" * 12)
    server = split_into_records(server_msgs, sizes) + rec(20, b"\x01") + rec(22, b"\xdd" * 40) + rec(23, b"resp")
    cs, ss = parse_records(client, C2S), parse_records(server, S2C)
    view = parse_handshake(cs, ss)
    assert [m.name for m in view.messages(C2S)] == ["ClientHello", "ClientKeyExchange", "Finished"]
    assert [m.name for m in view.messages(S2C)] == [
        "ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone", "Finished"]
    assert [m.encrypted for m in view.messages(S2C)] == [False] * 4 + [True]
    assert view.messages(S2C)[-1].message is None
    assert view.messages(S2C)[-1].msg_type is HandshakeType.finished
    assert view.version is ProtocolVersion.TLS_1_2
    assert view.cipher_suite is CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    assert (view.sni, view.alpn) == ("www.example.com", "http/1.1")
    assert view.extended_master_secret and not view.encrypt_then_mac
    assert not view.resumed and not view.hello_retry
    assert view.client_random == RANDOM_C and view.server_random == RANDOM_S
    ske = view.messages(S2C)[2].message
    assert ske.params.named_curve is NamedGroup.x25519
    cke_entry = view.messages(C2S)[1]
    assert cke_entry.message.ecdh_Yc == b"C" * 32 and cke_entry.raw == cke
    # Spans: the message's first and last bytes are where the stream has them.
    ch_entry = view.messages(C2S)[0]
    assert client[ch_entry.span.start] == 1
    n_client_hs = len(cs.records) - 4
    assert view.ccs(C2S) == (n_client_hs,)
    assert view.encrypted_records(C2S) == (n_client_hs + 1, n_client_hs + 2, n_client_hs + 3)
    (alert,) = view.alerts(C2S)
    assert alert.encrypted and alert.level is None
    assert view.warnings == ()
    # An extension span inside a record holds exactly the extension's bytes.
    if sizes == [10_000]:
        key = ch_entry.message.extension(ExtensionType.server_name)
        assert client[key.span.start : key.span.end] == sni(b"www.example.com")


def test_messages_spanning_records_keep_record_indexes_and_frames():
    (ch, cke), _ = tls12_flights()
    stream = split_into_records((ch,), [30])

    def frames_for(start, end):
        return tuple(range(start // 50 + 1, (end - 1) // 50 + 2)) if end > start else ()

    rs = parse_records(stream, C2S, frames_for)
    view = parse_handshake(rs, parse_records(b"", S2C))
    (entry,) = view.messages(C2S)
    assert entry.records == tuple(range(len(rs.records)))
    assert entry.frames == frames_for(5, len(stream))
    sni_ext = entry.message.extension(ExtensionType.server_name)
    assert sni_ext.span.frames == frames_for(sni_ext.span.start, sni_ext.span.end)


def test_tls12_abbreviated_handshake_is_resumed():
    sid = b"S" * 32
    client = rec(22, client_hello(session_id=sid)) + rec(20, b"\x01") + rec(22, b"\x01" * 40)
    server = rec(22, server_hello(session_id=sid, suite=0xC02F)) + rec(20, b"\x01") + rec(22, b"\x02" * 40)
    view = parse_handshake(parse_records(client, C2S), parse_records(server, S2C))
    assert view.resumed
    assert [m.name for m in view.messages(S2C)] == ["ServerHello", "Finished"]


def test_renegotiation_after_ccs_is_encrypted():
    (ch, cke), server_msgs = tls12_flights()
    client = rec(22, ch + cke) + rec(20, b"\x01") + rec(22, b"\x01" * 40) + rec(22, b"\x02" * 300)
    server = rec(22, b"".join(server_msgs)) + rec(20, b"\x01") + rec(22, b"\x02" * 40)
    view = parse_handshake(parse_records(client, C2S), parse_records(server, S2C))
    assert [m.name for m in view.messages(C2S)] == ["ClientHello", "ClientKeyExchange", "Finished", "Encrypted"]


def test_tls13_with_frames_lists_the_handshake_flight():
    ch = client_hello(sni(b"h"), ext(43, vec(1, u16(0x0304))), ext(51, vec(2, u16(29) + vec(2, b"k" * 32))))
    sh = server_hello(ext(43, u16(0x0304)), ext(51, u16(29) + vec(2, b"s" * 32)), ext(41, u16(0)), suite=0x1301)
    # Frame plan: 1 CH | 2 SH+CCS+EE | 3 Cert,CV,Fin | 4 client CCS+Fin | 5 client app | 6 server NST
    client_parts = [(rec(22, ch), 1), (rec(20, b"\x01"), 4), (rec(23, b"f" * 53), 4), (rec(23, b"a" * 100), 5)]
    server_parts = [(rec(22, sh), 2), (rec(20, b"\x01"), 2), (rec(23, b"e" * 30), 2), (rec(23, b"c" * 900), 3),
                    (rec(23, b"v" * 280), 3), (rec(23, b"n" * 53), 3), (rec(23, b"t" * 250), 6),
                    (rec(21, b"\x02\x28"), 6)]

    def build(parts):
        data, marks = b"", []
        for chunk, frame in parts:
            marks.append((len(data), len(data) + len(chunk), frame))
            data += chunk

        def frames_for(start, end):
            return tuple(sorted({f for s, e, f in marks if s < max(end, start + 1) and e > start}))

        return data, frames_for

    cdata, cff = build(client_parts)
    sdata, sff = build(server_parts)
    view = parse_handshake(parse_records(cdata, C2S, cff), parse_records(sdata, S2C, sff))
    assert view.version is ProtocolVersion.TLS_1_3
    assert view.resumed  # pre_shared_key in ServerHello
    assert [m.name for m in view.messages(C2S)] == ["ClientHello", "Encrypted"]
    assert [m.name for m in view.messages(S2C)] == ["ServerHello"] + ["Encrypted"] * 4
    assert [m.frames for m in view.messages(S2C)] == [(2,), (2,), (3,), (3,), (3,)]
    assert view.ccs(C2S) == (1,) and view.ccs(S2C) == (1,)
    assert view.encrypted_records(S2C) == (2, 3, 4, 5, 6)
    (alert,) = view.alerts(S2C)
    assert (alert.level, alert.description, alert.encrypted) == (AlertLevel.fatal, AlertDescription.handshake_failure, False)
    assert not view.extended_master_secret


def test_tls13_hello_retry_flow():
    ch1 = client_hello(ext(43, vec(1, u16(0x0304))), ext(51, vec(2, b"")))
    ch2 = client_hello(ext(43, vec(1, u16(0x0304))), ext(51, vec(2, u16(23) + vec(2, b"\x04" + b"p" * 64))),
                       ext(44, vec(2, b"ck")))
    hrr = server_hello(ext(43, u16(0x0304)), ext(51, u16(23)), ext(44, vec(2, b"ck")), suite=0x1302,
                       random=HELLO_RETRY_REQUEST_RANDOM)
    sh = server_hello(ext(43, u16(0x0304)), ext(51, u16(23) + vec(2, b"\x04" + b"q" * 64)), suite=0x1302)
    client = rec(22, ch1) + rec(20, b"\x01") + rec(22, ch2) + rec(23, b"f" * 53)
    server = rec(22, hrr) + rec(20, b"\x01") + rec(22, sh) + rec(23, b"e" * 50)
    view = parse_handshake(parse_records(client, C2S), parse_records(server, S2C))
    assert view.hello_retry
    assert [m.name for m in view.messages(C2S)] == ["ClientHello", "ClientHello", "Encrypted"]
    assert [m.name for m in view.messages(S2C)] == ["HelloRetryRequest", "ServerHello", "Encrypted"]
    assert view.server_random == RANDOM_S  # the real ServerHello's, not the HRR's
    assert view.cipher_suite is CipherSuite.TLS_AES_256_GCM_SHA384
    assert view.client_hello.extension(ExtensionType.cookie).cookie == b"ck"
    assert view.hello_retry_request.extension(ExtensionType.key_share).selected_group is NamedGroup.secp256r1


def test_encrypted_records_are_never_parsed_as_plaintext():
    # An application_data record whose bytes happen to look like a ClientHello.
    sh = server_hello(ext(43, u16(0x0304)), suite=0x1301)
    fake = client_hello()
    view = parse_handshake(parse_records(rec(22, client_hello()), C2S),
                           parse_records(rec(22, sh) + rec(23, fake), S2C))
    assert [m.name for m in view.messages(S2C)] == ["ServerHello", "Encrypted"]
    assert view.messages(S2C)[1].message is None


def test_interleaved_content_type_stops_plaintext_parsing():
    (ch, cke), _ = tls12_flights()
    client = rec(22, ch[:30]) + rec(21, b"\x01\x00") + rec(22, ch[30:]) + rec(22, cke)
    view = parse_handshake(parse_records(client, C2S), parse_records(b"", S2C))
    assert view.messages(C2S) == ()
    (warning,) = view.warnings
    assert "interleaved" in warning and "+0x0005" in warning and "ClientHello" in warning


def test_handshake_ends_mid_message_is_a_warning():
    (ch, cke), _ = tls12_flights()
    client = rec(22, ch + cke[:5])
    view = parse_handshake(parse_records(client, C2S), parse_records(b"", S2C))
    assert [m.name for m in view.messages(C2S)] == ["ClientHello"]
    (warning,) = view.warnings
    assert "inside a handshake message" in warning and f"+0x{5 + len(ch):04x}" in warning


def test_truncated_stream_gives_records_so_far_and_a_located_warning():
    (ch, cke), _ = tls12_flights()
    data = rec(22, ch) + rec(22, cke)[:9]
    rs = parse_records(data, C2S)
    assert rs.truncated and rs.problem.offset == 5 + len(ch)
    view = parse_handshake(rs, parse_records(b"", S2C))
    assert [m.name for m in view.messages(C2S)] == ["ClientHello"]


def test_no_server_hello_version_unknown():
    view = parse_handshake(parse_records(rec(22, client_hello(sni(b"x"))), C2S), parse_records(b"", S2C))
    assert view.version is None and view.cipher_suite is None and view.sni == "x"
    assert view.server_random is None


def test_parse_handshake_accepts_plain_record_tuples():
    (ch, cke), server_msgs = tls12_flights()
    rs = parse_records(rec(22, ch), C2S, lambda s, e: (7,))
    view = parse_handshake(rs.records, parse_records(rec(22, b"".join(server_msgs)), S2C).records)
    assert view.messages(C2S)[0].frames == (7,)
    assert view.version is ProtocolVersion.TLS_1_2


def test_with_decrypted_replaces_encrypted_entries():
    sh = server_hello(ext(43, u16(0x0304)), suite=0x1301)
    server = rec(22, sh) + rec(23, b"e" * 60)
    view = parse_handshake(parse_records(rec(22, client_hello()), C2S), parse_records(server, S2C))
    assert view.alpn is None
    plaintext = hs(8, vec(2, ext(16, vec(2, vec(1, b"h2"))))) + hs(20, b"F" * 32)
    entries = parse_messages(plaintext, direction=S2C, context=view.context, base=len(sh) + 10, record=1,
                             encrypted=True)
    assert [e.name for e in entries] == ["EncryptedExtensions", "Finished"]
    assert entries[0].records == (1,) and entries[0].encrypted
    new = view.with_decrypted(S2C, entries)
    assert [m.name for m in new.messages(S2C)] == ["ServerHello", "EncryptedExtensions", "Finished"]
    assert new.alpn == "h2"
    assert [m.name for m in view.messages(S2C)] == ["ServerHello", "Encrypted"]  # original untouched


def test_reassembler_incremental():
    (ch, cke), _ = tls12_flights()
    data = ch + cke
    r = HandshakeReassembler(C2S)
    got = []
    for i in range(0, len(data), 3):
        got.extend(r.feed(data[i : i + 3], stream_offset=100 + i, record=i // 3))
    assert [m.msg_type for m in got] == [HandshakeType.client_hello, HandshakeType.client_key_exchange]
    assert got[0].data == ch and got[1].data == cke
    assert got[1].span.start == 100 + len(ch) and got[1].span.end == 100 + len(data)
    assert r.pending == b""
    r.finish()
    ctx = HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=0xC02F)
    assert decode_message(got[1], ctx).ecdh_Yc == b"C" * 32


# -- hypothesis: never anything but TlsdocError, never a hang ------------------
CONTEXTS = [
    HandshakeContext(),
    TLS12,
    TLS13,
    HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=0xC02F),
    HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=0x009E),
    HandshakeContext(version=ProtocolVersion.TLS_1_0, cipher_suite=0x002F),
    HandshakeContext(version=ProtocolVersion.TLS_1_2, cipher_suite=0xC0A4),  # PSK
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([0, 1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 20, 22, 24, 99]),
    st.binary(max_size=300),
    st.sampled_from(CONTEXTS),
)
def test_message_decoders_only_raise_tlsdoc_errors(msg_type, body, context):
    try:
        entries = parse_messages(hs(msg_type, body), context=context)
    except TlsdocError:
        return
    assert len(entries) == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_client_hello_extensions_fuzz(blob):
    try:
        parse_messages(client_hello(blob[:2] + vec(2, blob[2:])))
        parse_messages(server_hello(blob[:2] + vec(2, blob[2:])), direction=S2C)
    except TlsdocError:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([20, 21, 22, 23]), st.binary(max_size=80)), max_size=10),
    st.lists(st.tuples(st.sampled_from([20, 21, 22, 23]), st.binary(max_size=80)), max_size=10),
)
def test_parse_handshake_never_raises(client_parts, server_parts):
    client = b"".join(rec(t, b) for t, b in client_parts)
    server = b"".join(rec(t, b) for t, b in server_parts)
    view = parse_handshake(parse_records(client, C2S), parse_records(server, S2C))
    for d in Direction:
        for entry in view.messages(d):
            assert entry.span.start <= entry.span.end


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=8))
def test_any_record_cut_decodes_the_same(sizes):
    (ch, cke), server_msgs = tls12_flights()
    whole = parse_handshake(parse_records(rec(22, ch + cke), C2S), parse_records(rec(22, b"".join(server_msgs)), S2C))
    cut = parse_handshake(parse_records(split_into_records((ch, cke), sizes), C2S),
                          parse_records(split_into_records(server_msgs, sizes), S2C))
    for d in Direction:
        assert [(e.name, e.raw) for e in cut.messages(d)] == [(e.name, e.raw) for e in whole.messages(d)]
    assert cut.warnings == ()


# -- tshark as an oracle on the bundled captures -------------------------------
def _tshark_streams(tshark: str, capture, index: int) -> tuple[bytes, bytes]:
    """Both directions' TCP payload of connection *index*, as tshark reassembles it."""
    import subprocess

    out = subprocess.run([tshark, "-r", str(capture), "-q", "-z", f"follow,tcp,raw,{index}"],
                         capture_output=True, text=True, check=True).stdout
    client, server = bytearray(), bytearray()
    for line in out.splitlines():
        if not line.strip() or line.startswith(("=", "Follow:", "Filter:", "Node ")):
            continue
        (server if line.startswith("\t") else client).extend(bytes.fromhex(line.strip()))
    return bytes(client), bytes(server)


def _tshark_handshake_types(tshark: str, capture) -> dict[tuple[int, str], list[int]]:
    """Plaintext handshake types per (tcp.stream, "client"/"server"), in frame order, no keys."""
    import subprocess

    out = subprocess.run(
        [tshark, "-r", str(capture), "-Y", "tls.handshake.type", "-T", "fields",
         "-e", "tcp.stream", "-e", "tcp.srcport", "-e", "tls.handshake.type"],
        capture_output=True, text=True, check=True).stdout
    types: dict[tuple[int, str], list[int]] = {}
    for line in out.splitlines():
        stream, port, kinds = line.split("\t")
        side = "server" if port == "443" else "client"
        types.setdefault((int(stream), side), []).extend(int(k) for k in kinds.split(","))
    return types


def _bundled_tls_captures():
    from conftest import CAPTURES

    return sorted(p for p in CAPTURES.glob("tls*.pcapng"))


@pytest.mark.parametrize("capture", _bundled_tls_captures(), ids=lambda p: p.name)
def test_plaintext_messages_match_tshark(capture):
    from conftest import require_tool

    tshark = require_tool("tshark")
    expected = _tshark_handshake_types(tshark, capture)
    streams = sorted({s for s, _ in expected})
    assert streams
    for index in streams:
        client, server = _tshark_streams(tshark, capture, index)
        view = parse_handshake(parse_records(client, C2S), parse_records(server, S2C))
        assert view.warnings == ()
        for direction in Direction:
            ours = [int(e.msg_type) for e in view.messages(direction) if not e.encrypted]
            assert ours == expected.get((index, direction.sender), []), (capture.name, index, direction)
        assert view.version in (ProtocolVersion.TLS_1_2, ProtocolVersion.TLS_1_3)
        assert view.sni == "www.example.com"
