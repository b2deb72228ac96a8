"""Tests for tlsdoc.registry: names, GREASE, describe(), and tshark as an oracle."""

from __future__ import annotations

import enum
import functools
import subprocess

import pytest

from conftest import require_tool
from tlsdoc import registry
from tlsdoc.registry import (
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
    describe,
    is_grease,
    key_exchange,
    lookup,
)

ALL_ENUMS = [
    getattr(registry, name)
    for name in registry.__all__
    if isinstance(getattr(registry, name), type) and issubclass(getattr(registry, name), enum.IntEnum)
]


# Values typed from the RFCs (not from our module) -------------------------
KNOWN = [
    (CipherSuite, 0x1301, "TLS_AES_128_GCM_SHA256"),  # RFC 8446 B.4
    (CipherSuite, 0x1303, "TLS_CHACHA20_POLY1305_SHA256"),
    (CipherSuite, 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),  # RFC 5246 A.5
    (CipherSuite, 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),  # RFC 5288
    (CipherSuite, 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),  # RFC 5289
    (CipherSuite, 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),  # RFC 7905
    (CipherSuite, 0x00FF, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"),  # RFC 5746
    (CipherSuite, 0x5600, "TLS_FALLBACK_SCSV"),  # RFC 7507
    (HandshakeType, 0, "hello_request"),
    (HandshakeType, 3, "hello_verify_request"),
    (HandshakeType, 5, "end_of_early_data"),
    (HandshakeType, 8, "encrypted_extensions"),
    (HandshakeType, 21, "certificate_url"),
    (HandshakeType, 22, "certificate_status"),
    (HandshakeType, 24, "key_update"),
    (HandshakeType, 254, "message_hash"),
    (ExtensionType, 0, "server_name"),
    (ExtensionType, 16, "application_layer_protocol_negotiation"),
    (ExtensionType, 43, "supported_versions"),
    (ExtensionType, 51, "key_share"),
    (ExtensionType, 0xFF01, "renegotiation_info"),
    (NamedGroup, 0x001D, "x25519"),
    (NamedGroup, 0x0017, "secp256r1"),
    (NamedGroup, 0x0100, "ffdhe2048"),
    (SignatureScheme, 0x0804, "rsa_pss_rsae_sha256"),
    (SignatureScheme, 0x0403, "ecdsa_secp256r1_sha256"),
    (AlertDescription, 0, "close_notify"),
    (AlertDescription, 40, "handshake_failure"),
    (AlertDescription, 120, "no_application_protocol"),
    (ContentType, 23, "application_data"),
    (ProtocolVersion, 0x0303, "TLS_1_2"),
]


@pytest.mark.parametrize(("registry_", "value", "name"), KNOWN)
def test_known_values(registry_, value, name):
    assert registry_(value).name == name
    assert registry_[name] == value


def test_cipher_suite_registry_is_full():
    assert len(CipherSuite) > 340
    assert all(not is_grease(s) for s in CipherSuite)


@pytest.mark.parametrize("registry_", ALL_ENUMS, ids=lambda e: e.__name__)
def test_no_aliases(registry_):
    # An alias would silently give one value two names.
    assert len(registry_.__members__) == len(list(registry_))


def test_protocol_version_label():
    assert [v.label for v in ProtocolVersion] == ["SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]


def test_lookup_member_or_int():
    assert lookup(CipherSuite, 0x1301) is CipherSuite.TLS_AES_128_GCM_SHA256
    value = lookup(CipherSuite, 0x1234)
    assert value == 0x1234 and type(value) is int


@pytest.mark.parametrize(
    ("registry_", "value", "text"),
    [
        (CipherSuite, 0x1301, "TLS_AES_128_GCM_SHA256 (0x1301)"),
        (CipherSuite, 0x0A0A, "GREASE (0x0a0a)"),
        (ExtensionType, 0xFAFA, "GREASE (0xfafa)"),
        (CipherSuite, 0x1234, "unassigned (0x1234)"),
        (ContentType, 22, "handshake (0x16)"),
        (HandshakeType, 99, "unassigned (0x63)"),
        (PskKeyExchangeMode, 0x0B, "GREASE (0x0b)"),
        (SignatureScheme, 0x0402, "sha256+dsa (0x0402)"),
        (SignatureScheme, 0x0807, "ed25519 (0x0807)"),
    ],
)
def test_describe(registry_, value, text):
    assert describe(registry_, value) == text


def test_grease_values_rfc8701():
    # RFC 8701 §2 lists 0x0A0A, 0x1A1A, ..., 0xFAFA.
    listed = {int(f"{d}A{d}A", 16) for d in "0123456789ABCDEF"}
    assert {v for v in range(0x10000) if is_grease(v)} == listed
    assert {v for v in range(0x100) if is_grease(v, 1)} == {0x0B, 0x2A, 0x49, 0x68, 0x87, 0xA6, 0xC5, 0xE4}


@pytest.mark.parametrize(
    ("suite", "kex"),
    [
        (0x002F, "RSA"),
        (0xC02F, "ECDHE_RSA"),
        (0xC02B, "ECDHE_ECDSA"),
        (0x009E, "DHE_RSA"),
        (0x00A6, "DH_anon"),
        (0x1301, None),
        (0x00FF, None),
        (0x0A0A, None),
    ],
)
def test_key_exchange(suite, kex):
    assert key_exchange(suite) == kex


@functools.lru_cache(maxsize=1)
def _tshark_values(tshark: str) -> str:
    return subprocess.run([tshark, "-G", "values"], capture_output=True, text=True, check=True).stdout


def _tshark_table(field: str) -> dict[int, str]:
    out = _tshark_values(require_tool("tshark"))
    table: dict[int, str] = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == "V" and parts[1] == field:
            table.setdefault(int(parts[2], 0), parts[3])
    return table


# IANA-assigned suites newer than Wireshark 4.0's table.
NOT_IN_TSHARK_4_0 = {0x1306: "TLS_AEGIS_256_SHA512", 0x1307: "TLS_AEGIS_128L_SHA256"}


def test_cipher_suites_match_tshark():
    table = _tshark_table("tls.handshake.ciphersuite")
    mismatches = []
    for suite in CipherSuite:
        if suite.value in NOT_IN_TSHARK_4_0 and suite.value not in table:
            assert suite.name == NOT_IN_TSHARK_4_0[suite.value]
            continue
        if table.get(suite.value) != suite.name:
            mismatches.append((hex(suite.value), suite.name, table.get(suite.value)))
    assert mismatches == []


def test_extension_types_match_tshark():
    # Wireshark 4.0 spells a few differently from IANA; those are listed.
    differs = {34: "delegated_credentials", 53: "connection_id (deprecated)"}
    table = _tshark_table("tls.handshake.extension.type")
    for ext in ExtensionType:
        if ext.value in table and ext.value not in differs:
            assert table[ext.value] == ext.name, hex(ext.value)
    for value, name in differs.items():
        assert table.get(value) == name


def test_signature_schemes_match_tshark():
    table = _tshark_table("tls.handshake.sig_hash_alg")
    for scheme in SignatureScheme:
        if scheme.value in table:
            assert table[scheme.value] == scheme.name, hex(scheme.value)
