"""Cipher-suite parameters: what each suite id means for keys and records.

Consumes nothing; produces :data:`SUITES`, a frozen table of
:class:`SuiteParams` keyed by the IANA cipher-suite id (an ``int``), and
:func:`suite_params` to look one up.  The table is data, not code: the key
schedule (:mod:`tlsdoc.keyschedule`) reads key/IV/MAC lengths and the PRF
hash from it, record protection (:mod:`tlsdoc.decrypt`) reads the cipher,
tag length and IV layout.  Names live in :mod:`tlsdoc.registry` (the IANA
``CipherSuite`` enum); each row here carries the IANA name only as a
comment, so there is one source of names.

Sources for every row (ids checked against the IANA TLS Cipher Suites
registry): RFC 8446 §B.4 (TLS 1.3), RFC 5246 App. C (RSA/DHE AES-CBC),
RFC 4492 / RFC 8422 (ECDHE AES-CBC-SHA), RFC 5288 (RSA/DHE AES-GCM),
RFC 5289 (ECDHE AES-GCM and AES-CBC-SHA256/384), RFC 6655 (RSA/DHE AES-CCM),
RFC 7251 (ECDHE_ECDSA AES-CCM), RFC 7905 (ChaCha20-Poly1305).

Must never import anything but the standard library: no cryptography, no
dpkt, no sphinx.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

__all__ = ["KeyExchange", "Cipher", "SuiteParams", "SUITES", "suite_params"]


class KeyExchange(enum.Enum):
    """How the premaster / shared secret is agreed."""

    RSA = "RSA"  # client encrypts a premaster with the server's RSA key
    DHE_RSA = "DHE_RSA"
    ECDHE_RSA = "ECDHE_RSA"
    ECDHE_ECDSA = "ECDHE_ECDSA"
    TLS13 = "TLS13"  # negotiated separately by key_share / psk (RFC 8446 §4.2.8)


class Cipher(enum.Enum):
    """Record protection algorithm family."""

    AES_GCM = "AES-GCM"
    AES_CCM = "AES-CCM"
    AES_CCM_8 = "AES-CCM-8"
    CHACHA20_POLY1305 = "CHACHA20-POLY1305"
    AES_CBC = "AES-CBC"


@dataclass(frozen=True, slots=True, kw_only=True)
class SuiteParams:
    """What a cipher suite fixes, in RFC 5246 §6.1 SecurityParameters terms.

    Attributes:
        id: IANA cipher-suite id, e.g. ``0x1301``.
        tls13: True for the TLS 1.3 suites (RFC 8446 §B.4).
        key_exchange: how the premaster/shared secret is agreed.
        cipher: the record protection family.
        key_length: ``enc_key_length`` in bytes.
        fixed_iv_length: bytes of IV taken from the key block / traffic
            secret: the 4-byte GCM/CCM salt (RFC 5288 §3, RFC 6655 §3), the
            12-byte ChaCha20 IV (RFC 7905 §2), the 12-byte TLS 1.3 IV
            (RFC 8446 §5.3), or 16 for AES-CBC (RFC 5246 App. C; only TLS 1.0
            uses it, TLS 1.1+ sends an explicit IV per record).
        record_iv_length: bytes of explicit nonce/IV sent in each record
            (8 for TLS 1.2 GCM/CCM, 16 for CBC, 0 otherwise).
        tag_length: AEAD tag length (16, or 8 for CCM_8); 0 for CBC.
        mac: HMAC hash for CBC suites (``"sha1"``, ``"sha256"``, ``"sha384"``),
            None for AEAD suites.
        mac_length: ``mac_length`` = ``mac_key_length`` in bytes, 0 for AEAD.
        prf_hash: hash of the TLS 1.2 PRF (RFC 5246 §5) or of HKDF
            (RFC 8446 §7.1).
    """

    id: int
    tls13: bool
    key_exchange: KeyExchange
    cipher: Cipher
    key_length: int
    fixed_iv_length: int
    record_iv_length: int
    tag_length: int
    mac: str | None
    mac_length: int
    prf_hash: str

    @property
    def aead(self) -> bool:
        """True for AEAD ciphers (everything but AES-CBC)."""
        return self.cipher is not Cipher.AES_CBC

    @property
    def block_length(self) -> int:
        """Cipher block length for CBC padding (16 for AES), 0 for AEAD."""
        return 16 if self.cipher is Cipher.AES_CBC else 0

    @property
    def hash_length(self) -> int:
        """Output length of :attr:`prf_hash` in bytes."""
        return _HASH_LENGTH[self.prf_hash]


_HASH_LENGTH = {"sha1": 20, "sha256": 32, "sha384": 48}


def _tls13(id_: int, cipher: Cipher, key_length: int, tag: int, hash_: str) -> SuiteParams:
    return SuiteParams(
        id=id_, tls13=True, key_exchange=KeyExchange.TLS13, cipher=cipher,
        key_length=key_length, fixed_iv_length=12, record_iv_length=0,
        tag_length=tag, mac=None, mac_length=0, prf_hash=hash_,
    )


def _aead12(id_: int, kx: KeyExchange, cipher: Cipher, key_length: int, hash_: str) -> SuiteParams:
    chacha = cipher is Cipher.CHACHA20_POLY1305
    return SuiteParams(
        id=id_, tls13=False, key_exchange=kx, cipher=cipher, key_length=key_length,
        fixed_iv_length=12 if chacha else 4,
        record_iv_length=0 if chacha else 8,
        tag_length=8 if cipher is Cipher.AES_CCM_8 else 16,
        mac=None, mac_length=0, prf_hash=hash_,
    )


def _cbc(id_: int, kx: KeyExchange, key_length: int, mac: str) -> SuiteParams:
    # RFC 5246 §5: suites defined before TLS 1.2 (the *_SHA ones) use the
    # SHA-256 PRF in TLS 1.2; the *_SHA384 suites of RFC 5289 use SHA-384.
    return SuiteParams(
        id=id_, tls13=False, key_exchange=kx, cipher=Cipher.AES_CBC,
        key_length=key_length, fixed_iv_length=16, record_iv_length=16,
        tag_length=0, mac=mac, mac_length=_HASH_LENGTH[mac],
        prf_hash="sha384" if mac == "sha384" else "sha256",
    )


_RSA, _DHE, _ECDHE_RSA, _ECDHE_ECDSA = (
    KeyExchange.RSA, KeyExchange.DHE_RSA, KeyExchange.ECDHE_RSA, KeyExchange.ECDHE_ECDSA,
)
_GCM, _CCM, _CCM8, _CHACHA = Cipher.AES_GCM, Cipher.AES_CCM, Cipher.AES_CCM_8, Cipher.CHACHA20_POLY1305

_ROWS = (
    # -- TLS 1.3, RFC 8446 §B.4 ------------------------------------------
    _tls13(0x1301, _GCM, 16, 16, "sha256"),     # TLS_AES_128_GCM_SHA256
    _tls13(0x1302, _GCM, 32, 16, "sha384"),     # TLS_AES_256_GCM_SHA384
    _tls13(0x1303, _CHACHA, 32, 16, "sha256"),  # TLS_CHACHA20_POLY1305_SHA256
    _tls13(0x1304, _CCM, 16, 16, "sha256"),     # TLS_AES_128_CCM_SHA256
    _tls13(0x1305, _CCM8, 16, 8, "sha256"),     # TLS_AES_128_CCM_8_SHA256
    # -- AES-CBC, RFC 5246 App. C -----------------------------------------
    _cbc(0x002F, _RSA, 16, "sha1"),      # TLS_RSA_WITH_AES_128_CBC_SHA
    _cbc(0x0033, _DHE, 16, "sha1"),      # TLS_DHE_RSA_WITH_AES_128_CBC_SHA
    _cbc(0x0035, _RSA, 32, "sha1"),      # TLS_RSA_WITH_AES_256_CBC_SHA
    _cbc(0x0039, _DHE, 32, "sha1"),      # TLS_DHE_RSA_WITH_AES_256_CBC_SHA
    _cbc(0x003C, _RSA, 16, "sha256"),    # TLS_RSA_WITH_AES_128_CBC_SHA256
    _cbc(0x003D, _RSA, 32, "sha256"),    # TLS_RSA_WITH_AES_256_CBC_SHA256
    _cbc(0x0067, _DHE, 16, "sha256"),    # TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
    _cbc(0x006B, _DHE, 32, "sha256"),    # TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
    # -- AES-CBC with ECDHE, RFC 4492 (now RFC 8422) ------------------------
    _cbc(0xC009, _ECDHE_ECDSA, 16, "sha1"),  # TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    _cbc(0xC00A, _ECDHE_ECDSA, 32, "sha1"),  # TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
    _cbc(0xC013, _ECDHE_RSA, 16, "sha1"),    # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    _cbc(0xC014, _ECDHE_RSA, 32, "sha1"),    # TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    # -- AES-CBC-SHA256/384 with ECDHE, RFC 5289 -----------------------------
    _cbc(0xC023, _ECDHE_ECDSA, 16, "sha256"),  # TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
    _cbc(0xC024, _ECDHE_ECDSA, 32, "sha384"),  # TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
    _cbc(0xC027, _ECDHE_RSA, 16, "sha256"),    # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
    _cbc(0xC028, _ECDHE_RSA, 32, "sha384"),    # TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
    # -- AES-GCM, RFC 5288 ---------------------------------------------------
    _aead12(0x009C, _RSA, _GCM, 16, "sha256"),  # TLS_RSA_WITH_AES_128_GCM_SHA256
    _aead12(0x009D, _RSA, _GCM, 32, "sha384"),  # TLS_RSA_WITH_AES_256_GCM_SHA384
    _aead12(0x009E, _DHE, _GCM, 16, "sha256"),  # TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    _aead12(0x009F, _DHE, _GCM, 32, "sha384"),  # TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
    # -- AES-GCM with ECDHE, RFC 5289 ----------------------------------------
    _aead12(0xC02B, _ECDHE_ECDSA, _GCM, 16, "sha256"),  # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    _aead12(0xC02C, _ECDHE_ECDSA, _GCM, 32, "sha384"),  # TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    _aead12(0xC02F, _ECDHE_RSA, _GCM, 16, "sha256"),    # TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    _aead12(0xC030, _ECDHE_RSA, _GCM, 32, "sha384"),    # TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    # -- AES-CCM, RFC 6655 (PRF is SHA-256, §3) ------------------------------
    _aead12(0xC09C, _RSA, _CCM, 16, "sha256"),   # TLS_RSA_WITH_AES_128_CCM
    _aead12(0xC09D, _RSA, _CCM, 32, "sha256"),   # TLS_RSA_WITH_AES_256_CCM
    _aead12(0xC09E, _DHE, _CCM, 16, "sha256"),   # TLS_DHE_RSA_WITH_AES_128_CCM
    _aead12(0xC09F, _DHE, _CCM, 32, "sha256"),   # TLS_DHE_RSA_WITH_AES_256_CCM
    _aead12(0xC0A0, _RSA, _CCM8, 16, "sha256"),  # TLS_RSA_WITH_AES_128_CCM_8
    _aead12(0xC0A1, _RSA, _CCM8, 32, "sha256"),  # TLS_RSA_WITH_AES_256_CCM_8
    _aead12(0xC0A2, _DHE, _CCM8, 16, "sha256"),  # TLS_DHE_RSA_WITH_AES_128_CCM_8
    _aead12(0xC0A3, _DHE, _CCM8, 32, "sha256"),  # TLS_DHE_RSA_WITH_AES_256_CCM_8
    # -- AES-CCM with ECDHE_ECDSA, RFC 7251 ----------------------------------
    _aead12(0xC0AC, _ECDHE_ECDSA, _CCM, 16, "sha256"),   # TLS_ECDHE_ECDSA_WITH_AES_128_CCM
    _aead12(0xC0AD, _ECDHE_ECDSA, _CCM, 32, "sha256"),   # TLS_ECDHE_ECDSA_WITH_AES_256_CCM
    _aead12(0xC0AE, _ECDHE_ECDSA, _CCM8, 16, "sha256"),  # TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
    _aead12(0xC0AF, _ECDHE_ECDSA, _CCM8, 32, "sha256"),  # TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8
    # -- ChaCha20-Poly1305, RFC 7905 -----------------------------------------
    _aead12(0xCCA8, _ECDHE_RSA, _CHACHA, 32, "sha256"),    # TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    _aead12(0xCCA9, _ECDHE_ECDSA, _CHACHA, 32, "sha256"),  # TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    _aead12(0xCCAA, _DHE, _CHACHA, 32, "sha256"),          # TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
)

#: The table: IANA cipher-suite id → :class:`SuiteParams` (read-only).
SUITES: Mapping[int, SuiteParams] = MappingProxyType({row.id: row for row in _ROWS})
assert len(SUITES) == len(_ROWS), "duplicate cipher-suite id in the table"


def suite_params(suite: int) -> SuiteParams | None:
    """Parameters of cipher suite *suite*, or None if tlsdoc cannot decrypt it.

    Args:
        suite: IANA cipher-suite id (an ``int`` or an ``IntEnum`` member).
    """
    return SUITES.get(int(suite))
