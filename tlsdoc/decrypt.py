"""Record protection: decrypt (and, for tests, encrypt) one TLS record.

Consumes a record's ``type``, ``version`` and ``fragment`` (the bytes after
the 5-byte header), its sequence number, and the keys of one direction;
produces a frozen :class:`Plaintext` that holds the content *and* the
working a chapter shows: how the nonce was built, the additional data, how
the fragment splits into explicit nonce / ciphertext / tag, the TLS 1.3
inner content type and padding, the CBC MAC and padding.

Covers (every cipher from ``cryptography``; only the TLS framing is here):

* TLS 1.3 (RFC 8446 §5.2–5.4): the five suites, nonce = write_iv XOR seq,
  AAD = the record header, inner type found after the zero padding;
* TLS 1.2 AES-GCM (RFC 5288 §3) and AES-CCM / CCM_8 (RFC 6655 §3,
  RFC 7251): nonce = 4-byte salt ‖ 8-byte explicit nonce;
* TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): nonce = IV XOR seq;
* TLS 1.1+ AES-CBC with HMAC-SHA1/256/384 (RFC 5246 §6.2.3.2), MAC-then-
  encrypt or encrypt-then-MAC (RFC 7366), explicit per-record IV.

A record that fails its tag, MAC or padding raises
:class:`~tlsdoc.errors.DecryptionError` naming the sequence number (and the
record index and secret when the caller gives them); no partial or guessed
plaintext is ever returned.  Sequence numbers are the caller's: they start
at 0 for each key (RFC 8446 §5.3, RFC 5246 §6.1).

Must never import dpkt or sphinx, nor any tlsdoc module downstream of
decrypt (checks, http, analysis, render, cli).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, fields

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import constant_time, hmac
from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from tlsdoc.errors import DecryptionError, KeyMaterialError
from tlsdoc.keyschedule import Step, Tls12Keys, hash_algorithm, traffic_keys
from tlsdoc.keyschedule import _traffic_key_pair, _traffic_keys, _traffic_trace  # (traffic_keys' parts)
from tlsdoc.suites import Cipher, SuiteParams
from tlsdoc.wire import Direction, slot_builder

__all__ = ["Plaintext", "RecordProtection", "TLS13", "TLS12", "TLS11", "APPLICATION_DATA"]

TLS13, TLS12, TLS11 = 0x0304, 0x0303, 0x0302
APPLICATION_DATA = 23

Parts = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plaintext:
    """A decrypted record and how it was decrypted.

    Attributes:
        content_type: the real content type: TLS 1.3's inner type
            (RFC 8446 §5.2 ``TLSInnerPlaintext.type``), else the record's.
        content: the plaintext fragment, without TLS 1.3 padding/type and
            without CBC MAC/padding.
        seq: the sequence number used.
        nonce: the AEAD nonce (or the CBC IV).
        nonce_rule: how the nonce was built, in words with the RFC section.
        nonce_parts: the pieces combined into the nonce.
        aad: the AEAD additional data (for CBC: the MAC's pseudo-header).
        aad_parts: its fields.
        explicit_nonce: the per-record nonce/IV sent on the wire (empty
            when there is none).
        ciphertext: the encrypted bytes, without explicit nonce and tag.
        tag: the AEAD tag, or the record's HMAC for CBC.
        padding: TLS 1.3 zero padding, or CBC padding with its length byte.
        fragment_parts: the fragment on the wire, split into named parts
            in order (their concatenation is the fragment).
        plaintext_parts: the decrypted bytes, split into named parts in
            order (content, inner type, padding, MAC ...).
    """

    content_type: int
    content: bytes
    seq: int
    nonce: bytes
    nonce_rule: str
    nonce_parts: Parts
    aad: bytes
    aad_parts: Parts
    explicit_nonce: bytes
    ciphertext: bytes
    tag: bytes
    padding: bytes
    fragment_parts: Parts
    plaintext_parts: Parts


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordProtection:
    """The keys and rules protecting one direction of one connection.

    Build it with :meth:`tls13` (from a traffic secret) or :meth:`tls12`
    (from the key block), or directly from keys.

    Attributes:
        params: the cipher suite's parameters.
        version: the negotiated version (``0x0304``, ``0x0303``, ``0x0302``).
        key: the write key.
        iv: the implicit IV: TLS 1.3 / ChaCha20 write_iv (12 bytes), GCM/CCM
            salt (4 bytes); unused (may be empty) for CBC.
        mac_key: the write MAC key (CBC suites only).
        encrypt_then_mac: RFC 7366 negotiated (CBC suites only).
        secret_name: which secret the keys come from, for messages
            (``"server handshake traffic secret"``).
        direction: e.g. ``"server→client"``, for error locations.
        trace: how the keys were derived (from :meth:`tls13` / :meth:`tls12`).
    """

    params: SuiteParams
    version: int
    key: bytes
    iv: bytes = b""
    mac_key: bytes = b""
    encrypt_then_mac: bool = False
    secret_name: str | None = None
    direction: str | None = None
    trace: tuple[Step, ...] = ()
    _aead: object = field(init=False, repr=False, compare=False, hash=False, default=None)
    # the IV as an int, for the XOR of the per-record nonce
    _iv_int: int = field(init=False, repr=False, compare=False, hash=False, default=0)
    # Set instead of ``trace`` by the TLS 1.3 fast path (_tls13_protection): the
    # traffic secret, to make the trace on first read (see __getattr__).
    _secret: bytes | None = field(init=False, repr=False, compare=False, hash=False, default=None)

    def __getattr__(self, name: str):
        # Python calls this only when the normal lookup fails, that is for an
        # unset slot: ``trace`` of a protection _tls13_protection made, which
        # leaves it to be worked out on first use (only the docs' chapters and a
        # KeyUpdate read it).  The steps are keyschedule._traffic_keys' for the
        # same secret, key and IV, built once.
        if name == "trace":
            secret = self._secret
            if secret is not None:
                p = self.params
                trace = _traffic_trace(secret, p.prf_hash, p.key_length, p.fixed_iv_length,
                                       self.key, self.iv)
                _SET_PROTECTION_TRACE(self, trace)
                _SET_PROTECTION_SECRET(self, None)
                return trace
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __post_init__(self) -> None:
        p = self.params
        if p.tls13 != (self.version == TLS13):
            raise KeyMaterialError(
                f"suite 0x{p.id:04x} does not go with version 0x{self.version:04x}",
                expected="TLS 1.3 suites with 0x0304 only", found=f"0x{self.version:04x}")
        if not p.tls13 and self.version < TLS11:
            # TLS 1.0 chains CBC IVs across records and uses another PRF;
            # not supported (the captures are TLS 1.2 and 1.3).
            raise DecryptionError(
                f"version 0x{self.version:04x} records are not supported",
                expected="TLS 1.1 or later", found=f"0x{self.version:04x}")
        self._check("key", self.key, p.key_length)
        if p.aead:
            self._check("iv", self.iv, p.fixed_iv_length)
        else:
            self._check("mac_key", self.mac_key, p.mac_length)
        object.__setattr__(self, "_aead", _aead_cipher(p, self.key))
        object.__setattr__(self, "_iv_int", int.from_bytes(self.iv, "big"))

    @staticmethod
    def _check(what: str, value: bytes, length: int) -> None:
        if len(value) != length:
            raise KeyMaterialError(f"{what} has the wrong length for this suite", field=what,
                                   expected=f"{length} bytes", found=f"{len(value)} bytes")

    # -- constructors --------------------------------------------------------
    @classmethod
    def tls13(cls, secret: bytes, params: SuiteParams, *, secret_name: str | None = None,
              direction: Direction | str | None = None) -> "RecordProtection":
        """Protection from a TLS 1.3 traffic secret (RFC 8446 §7.3).

        Args:
            secret: e.g. the key log's ``SERVER_HANDSHAKE_TRAFFIC_SECRET``.
            params: the negotiated suite (one of 0x1301–0x1305).
            secret_name: for messages, e.g. ``"server handshake traffic secret"``.
            direction: the direction these records travel.
        """
        if cls is RecordProtection and params.tls13:
            return _tls13_protection(secret, params, secret_name, _direction(direction))
        keys = traffic_keys(secret, params.prf_hash, params.key_length, params.fixed_iv_length)
        return cls(params=params, version=TLS13, key=keys.key, iv=keys.iv,
                   secret_name=secret_name, direction=_direction(direction), trace=keys.trace)

    @classmethod
    def tls12(cls, keys: Tls12Keys, params: SuiteParams, *, sender: Direction | str,
              version: int = TLS12, encrypt_then_mac: bool = False) -> "RecordProtection":
        """Protection for the records *sender* writes, from the TLS 1.2 key block.

        Args:
            keys: from :func:`tlsdoc.keyschedule.tls12_keys`.
            params: the negotiated suite.
            sender: ``"client"``/``"server"`` or the :class:`~tlsdoc.wire.Direction`.
            version: the negotiated version.
            encrypt_then_mac: whether both sides sent encrypt_then_mac (RFC 7366).
        """
        if isinstance(sender, Direction):
            side, where = sender.sender, str(sender)
        else:
            side, where = sender, ("client→server" if sender == "client" else "server→client")
        if side not in ("client", "server"):
            raise KeyMaterialError("sender must be client or server", found=repr(sender))
        if side == "client":
            key, iv, mac_key = keys.client_write_key, keys.client_write_iv, keys.client_write_mac_key
        else:
            key, iv, mac_key = keys.server_write_key, keys.server_write_iv, keys.server_write_mac_key
        wanted = {f"{side}_write_key", f"{side}_write_IV", f"{side}_write_MAC_key", "key_block"}
        return cls(params=params, version=version, key=key, iv=iv if params.aead else b"",
                   mac_key=mac_key, encrypt_then_mac=encrypt_then_mac,
                   secret_name=f"{side} write keys", direction=where,
                   trace=tuple(s for s in keys.trace if s.name in wanted))

    # -- errors ----------------------------------------------------------------
    def _fail(self, message: str, seq: int, record: int | None) -> DecryptionError:
        where = f"seq {seq}" + (f", {self.secret_name}" if self.secret_name else "")
        return DecryptionError(f"{message} ({where})", record=record,
                               direction=self.direction, field="encrypted_record")

    # -- nonce and additional data ---------------------------------------------
    def _xor_nonce(self, seq: int) -> tuple[bytes, Parts]:
        # RFC 8446 §5.3 / RFC 7905 §2: the 64-bit sequence number, left-padded
        # with zeros to iv_length, XORed with the write IV.
        # (One int XOR: the same bytes as XORing byte by byte, a fifth of the time.)
        size = len(self.iv)
        padded = seq.to_bytes(size, "big")
        nonce = (self._iv_int ^ seq).to_bytes(size, "big")
        return nonce, (("write_iv", self.iv), ("padded seq_num", padded))

    def _nonce(self, seq: int, explicit: bytes) -> tuple[bytes, str, Parts]:
        p = self.params
        if p.tls13:
            nonce, parts = self._xor_nonce(seq)
            return nonce, _TLS13_NONCE_RULE, parts
        if p.cipher is Cipher.CHACHA20_POLY1305:
            nonce, parts = self._xor_nonce(seq)
            return nonce, "write_iv XOR padded seq_num (RFC 7905 §2)", parts
        rfc = "RFC 5288 §3" if p.cipher is Cipher.AES_GCM else "RFC 6655 §3"
        return (self.iv + explicit, f"salt ‖ nonce_explicit ({rfc})",
                (("salt (write_IV)", self.iv), ("nonce_explicit", explicit)))

    @staticmethod
    def _tls12_header(seq: int, content_type: int, version: int, length: int) -> tuple[bytes, Parts]:
        # RFC 5246 §6.2.3.1/§6.2.3.3:
        #   seq_num(8) + TLSCompressed.type(1) + TLSCompressed.version(2) + length(2)
        parts = (("seq_num", seq.to_bytes(8, "big")), ("type", bytes([content_type])),
                 ("version", version.to_bytes(2, "big")), ("length", struct.pack("!H", length)))
        return b"".join(v for _, v in parts), parts

    @staticmethod
    def _tls13_header(content_type: int, version: int, length: int) -> tuple[bytes, Parts]:
        # RFC 8446 §5.2: additional_data = TLSCiphertext.opaque_type ||
        #   TLSCiphertext.legacy_record_version || TLSCiphertext.length
        try:
            # Once per record: one pack, the parts sliced from it.
            aad = _TLS13_AAD.pack(content_type, version, length)
        except struct.error:
            # Not a record header's values: the field-by-field route (and its errors).
            parts = (("opaque_type", bytes([content_type])),
                     ("legacy_record_version", version.to_bytes(2, "big")),
                     ("length", struct.pack("!H", length)))
            return b"".join(v for _, v in parts), parts
        return aad, (("opaque_type", aad[:1]), ("legacy_record_version", aad[1:3]),
                     ("length", aad[3:]))

    def _mac(self, data: bytes) -> bytes:
        mac = hmac.HMAC(self.mac_key, hash_algorithm(self.params.mac or "sha1"))
        mac.update(data)
        return mac.finalize()

    # -- decrypt -----------------------------------------------------------------
    def decrypt(self, content_type: int, version: int, fragment: bytes, seq: int,
                *, record: int | None = None) -> Plaintext:
        """Decrypt one record.

        Args:
            content_type: the record header's type (23 for every TLS 1.3
                protected record).
            version: the record header's version (legacy_record_version).
            fragment: the record body, after the 5-byte header.
            seq: the record's sequence number under this key.
            record: the record's index in its stream, for messages.

        Returns:
            The :class:`Plaintext` and its working.

        Raises:
            DecryptionError: bad tag, bad MAC, bad padding, a fragment too
                short for the suite, or a TLS 1.3 plaintext with no content
                type (all zeros, RFC 8446 §5.4).
        """
        fragment = bytes(fragment)
        if self.params.tls13:
            return self._decrypt_tls13(content_type, version, fragment, seq, record)
        if self.params.aead:
            return self._decrypt_aead12(content_type, version, fragment, seq, record)
        return self._decrypt_cbc(content_type, version, fragment, seq, record)

    def _open(self, nonce: bytes, data: bytes, aad: bytes, seq: int, record: int | None) -> bytes:
        try:
            return self._aead.decrypt(nonce, data, aad)  # type: ignore[attr-defined]
        except InvalidTag:
            raise self._fail("authentication tag does not verify", seq, record) from None

    def _decrypt_tls13(self, content_type: int, version: int, fragment: bytes, seq: int,
                       record: int | None) -> Plaintext:
        # Every record of a TLS 1.3 capture comes here (about fifteen per
        # connection), so the nonce is built inline (what _nonce gives, without
        # its two calls) and the Plaintext without the dataclass __init__.
        tag_len = self.params.tag_length
        size = len(fragment)
        if size < tag_len + 1:
            raise self._fail(f"record of {size} bytes is too short for a "
                             f"{tag_len}-byte tag and a content type", seq, record)
        iv = self.iv
        padded = seq.to_bytes(len(iv), "big")  # RFC 8446 §5.3, as in _xor_nonce
        nonce = (self._iv_int ^ seq).to_bytes(len(iv), "big")
        aad, aad_parts = self._tls13_header(content_type, version, size)
        inner = self._open(nonce, fragment, aad, seq, record)
        # RFC 8446 §5.4: the content type is the last non-zero byte; zeros
        # after it are padding; a plaintext of only zeros is an error.
        end = len(inner)
        if not inner[-1]:  # (mostly not padded: then there is nothing to strip)
            end = len(inner.rstrip(b"\x00"))
            if end == 0:
                raise self._fail("plaintext is all zeros: no inner content type "
                                 "(RFC 8446 §5.4)", seq, record)
        content, inner_type, zeros = inner[:end - 1], inner[end - 1], inner[end:]
        ciphertext, tag = fragment[:-tag_len], fragment[-tag_len:]
        return _new_plaintext(
            inner_type, content, seq, nonce, _TLS13_NONCE_RULE,
            (("write_iv", iv), ("padded seq_num", padded)), aad, aad_parts, b"", ciphertext, tag, zeros,
            (("encrypted_record", ciphertext), ("tag", tag)),
            (("content", content), ("type", _BYTE[inner_type]), ("zeros", zeros)),
        )

    def open_tls13(self, content_type: int, version: int, fragment: bytes,
                   seq: int) -> tuple[int, bytes] | None:
        """The inner content type and content of a TLS 1.3 record, without the working.

        The session's fast path (every record of a TLS 1.3 capture comes
        here): the same nonce, additional data, AEAD and padding rule as
        :meth:`decrypt`, but no :class:`Plaintext`.  Returns
        ``(plaintext.content_type, plaintext.content)`` of what
        :meth:`decrypt` would give, or None wherever :meth:`decrypt` would
        raise (short record, bad tag, all-zero plaintext, values that are
        not a record header's) or this is not a TLS 1.3 protection: the
        caller then goes the general way, which raises the located error.
        """
        params = self.params
        if not params.tls13 or len(fragment) <= params.tag_length:
            return None
        try:
            inner = self._aead.decrypt(  # type: ignore[attr-defined]
                (self._iv_int ^ seq).to_bytes(params.fixed_iv_length, "big"), fragment,  # (== len(iv))
                _TLS13_AAD.pack(content_type, version, len(fragment)))
        except Exception:  # (InvalidTag, struct.error, OverflowError ...: decrypt says which)
            return None
        inner_type = inner[-1]
        if inner_type:  # (mostly not padded)
            return inner_type, inner[:-1]
        end = len(inner.rstrip(b"\x00"))  # RFC 8446 §5.4, as in _decrypt_tls13
        if not end:
            return None
        return inner[end - 1], inner[:end - 1]

    def _tls13_opening(self) -> tuple | None:
        """What :meth:`open_tls13` reads from this protection, for a caller that
        opens many records with it: ``(aead_decrypt, iv_int, iv_length,
        tag_length)``, or None when this is not a TLS 1.3 protection.

        The session's record loop (``session._open_tls13``) takes these once
        per key and inlines :meth:`open_tls13` for the usual record (opens,
        not padded), saving a method call and six attribute reads per record:
        ``aead_decrypt((iv_int ^ seq).to_bytes(iv_length, "big"), fragment,
        additional_data)`` for a fragment longer than ``tag_length`` is the
        AEAD call :meth:`open_tls13` makes.
        """
        params = self.params
        if not params.tls13:
            return None
        return (self._aead.decrypt, self._iv_int,  # type: ignore[attr-defined]
                params.fixed_iv_length, params.tag_length)

    def _decrypt_aead12(self, content_type: int, version: int, fragment: bytes, seq: int,
                        record: int | None) -> Plaintext:
        explicit_len, tag_len = self.params.record_iv_length, self.params.tag_length
        if len(fragment) < explicit_len + tag_len:
            raise self._fail(f"record of {len(fragment)} bytes is too short for "
                             f"{explicit_len}-byte nonce and {tag_len}-byte tag", seq, record)
        explicit = fragment[:explicit_len]
        ciphertext, tag = fragment[explicit_len:-tag_len], fragment[-tag_len:]
        nonce, rule, nonce_parts = self._nonce(seq, explicit)
        aad, aad_parts = self._tls12_header(seq, content_type, version, len(ciphertext))
        content = self._open(nonce, ciphertext + tag, aad, seq, record)
        wire = ((("nonce_explicit", explicit),) if explicit_len else ()) + (
            ("ciphertext", ciphertext), ("tag", tag))
        return Plaintext(
            content_type=content_type, content=content, seq=seq, nonce=nonce,
            nonce_rule=rule, nonce_parts=nonce_parts, aad=aad, aad_parts=aad_parts,
            explicit_nonce=explicit, ciphertext=ciphertext, tag=tag, padding=b"",
            fragment_parts=wire, plaintext_parts=(("content", content),),
        )

    def _cbc(self, iv: bytes, data: bytes, encrypt: bool) -> bytes:
        cipher = _Cipher(algorithms.AES(self.key), modes.CBC(iv))
        op = cipher.encryptor() if encrypt else cipher.decryptor()
        return op.update(data) + op.finalize()

    def _decrypt_cbc(self, content_type: int, version: int, fragment: bytes, seq: int,
                     record: int | None) -> Plaintext:
        # RFC 5246 §6.2.3.2 (MAC-then-encrypt):
        #   IV ‖ E(content ‖ MAC ‖ padding ‖ padding_length)
        # RFC 7366 §3 (encrypt-then-MAC):
        #   IV ‖ E(content ‖ padding ‖ padding_length) ‖ MAC
        block, mac_len = self.params.block_length, self.params.mac_length
        etm = self.encrypt_then_mac
        minimum = block + (block + mac_len if etm else max(block, -(-(mac_len + 1) // block) * block))
        if len(fragment) < minimum:
            raise self._fail(f"record of {len(fragment)} bytes is too short for "
                             f"IV, MAC and padding (minimum {minimum})", seq, record)
        iv = fragment[:block]
        body = fragment[block:-mac_len] if etm else fragment[block:]
        if len(body) % block:
            raise self._fail(f"CBC ciphertext of {len(body)} bytes is not a whole "
                             f"number of {block}-byte blocks", seq, record)
        rule = "explicit IV from the record (RFC 5246 §6.2.3.2)"
        if etm:
            mac = fragment[-mac_len:]
            header, header_parts = self._tls12_header(seq, content_type, version, len(iv + body))
            if not constant_time.bytes_eq(self._mac(header + iv + body), mac):
                raise self._fail("record MAC does not verify (encrypt-then-MAC)", seq, record)
        plain = self._cbc(iv, body, encrypt=False)
        pad_len = plain[-1]
        room = len(plain) - (0 if etm else mac_len)
        if pad_len + 1 > room:
            raise self._fail(f"bad CBC padding: padding_length {pad_len} does not fit", seq, record)
        padding = plain[len(plain) - pad_len - 1:]
        if any(b != pad_len for b in padding):
            raise self._fail(f"bad CBC padding: not {pad_len + 1} bytes of {pad_len}", seq, record)
        inner = plain[:len(plain) - pad_len - 1]
        if etm:
            content = inner
            parts: Parts = (("content", content), ("padding", padding))
            wire: Parts = (("IV", iv), ("ciphertext", body), ("MAC", mac))
        else:
            content, mac = inner[:len(inner) - mac_len], inner[len(inner) - mac_len:]
            header, header_parts = self._tls12_header(seq, content_type, version, len(content))
            if not constant_time.bytes_eq(self._mac(header + content), mac):
                raise self._fail("record MAC does not verify (MAC-then-encrypt)", seq, record)
            parts = (("content", content), ("MAC", mac), ("padding", padding))
            wire = (("IV", iv), ("ciphertext", body))
        return Plaintext(
            content_type=content_type, content=content, seq=seq, nonce=iv, nonce_rule=rule,
            nonce_parts=(("IV", iv),), aad=header, aad_parts=header_parts,
            explicit_nonce=iv, ciphertext=body, tag=mac, padding=padding,
            fragment_parts=wire, plaintext_parts=parts,
        )

    # -- encrypt (tests and round trips) -------------------------------------------
    def encrypt(self, content_type: int, version: int, content: bytes, seq: int, *,
                explicit_nonce: bytes | None = None, padding: int | None = None) -> bytes:
        """Protect *content*; the inverse of :meth:`decrypt`.  Returns the fragment.

        For tests and round trips, not for talking to peers: the default
        explicit nonce / CBC IV is derived from *seq*, not random.

        Args:
            content_type: the real content type (TLS 1.3: the inner type; the
                record's outer type is application_data, 23).
            version: the record header's version.
            content: the plaintext.
            seq: the sequence number.
            explicit_nonce: TLS 1.2 GCM/CCM nonce_explicit (8 bytes) or CBC IV
                (16 bytes); default: *seq* big-endian.
            padding: TLS 1.3: number of zero bytes to add (default 0).  CBC:
                the padding_length value (default: the least that fills the
                block).
        """
        p = self.params
        content = bytes(content)
        if p.tls13:
            inner = content + bytes([content_type]) + bytes(padding or 0)
            nonce, _, _ = self._nonce(seq, b"")
            aad, _ = self._tls13_header(APPLICATION_DATA, version, len(inner) + p.tag_length)
            return self._aead.encrypt(nonce, inner, aad)  # type: ignore[attr-defined]
        if p.aead:
            explicit = (explicit_nonce if explicit_nonce is not None
                        else seq.to_bytes(p.record_iv_length, "big") if p.record_iv_length
                        else b"")
            nonce, _, _ = self._nonce(seq, explicit)
            aad, _ = self._tls12_header(seq, content_type, version, len(content))
            return explicit + self._aead.encrypt(nonce, content, aad)  # type: ignore[attr-defined]
        block = p.block_length
        iv = explicit_nonce if explicit_nonce is not None else seq.to_bytes(block, "big")
        if self.encrypt_then_mac:
            data = content
        else:
            header, _ = self._tls12_header(seq, content_type, version, len(content))
            data = content + self._mac(header + content)
        pad_len = padding if padding is not None else block - 1 - len(data) % block
        body = self._cbc(iv, data + bytes([pad_len]) * (pad_len + 1), encrypt=True)
        if not self.encrypt_then_mac:
            return iv + body
        header, _ = self._tls12_header(seq, content_type, version, len(iv + body))
        return iv + body + self._mac(header + iv + body)


_TLS13_NONCE_RULE = "write_iv XOR padded seq_num (RFC 8446 §5.3)"
# opaque_type u8, legacy_record_version u16, length u16 (RFC 8446 §5.2)
_TLS13_AAD = struct.Struct("!BHH")
_BYTE = tuple(bytes([n]) for n in range(256))  # _BYTE[n] == bytes([n])


# Fast constructor for the Plaintext made per record.  A frozen dataclass's
# __init__ sets each field through object.__setattr__ (to get past its own
# __setattr__, which refuses); setting the slots through their member
# descriptors gives the same frozen value in about half the time (as
# records.py does for Record).  Arguments in field order, all required.
(_t0, _t1, _t2, _t3, _t4, _t5, _t6, _t7, _t8, _t9, _t10, _t11, _t12, _t13) = tuple(
    Plaintext.__dict__[f.name].__set__ for f in fields(Plaintext))
_new_object = object.__new__


def _new_plaintext(content_type, content, seq, nonce, nonce_rule, nonce_parts, aad, aad_parts,
                   explicit_nonce, ciphertext, tag, padding, fragment_parts,
                   plaintext_parts) -> Plaintext:
    obj = _new_object(Plaintext)
    _t0(obj, content_type); _t1(obj, content); _t2(obj, seq); _t3(obj, nonce)  # noqa: E702
    _t4(obj, nonce_rule); _t5(obj, nonce_parts); _t6(obj, aad); _t7(obj, aad_parts)  # noqa: E702
    _t8(obj, explicit_nonce); _t9(obj, ciphertext); _t10(obj, tag); _t11(obj, padding)  # noqa: E702
    _t12(obj, fragment_parts); _t13(obj, plaintext_parts)  # noqa: E702
    return obj


def _aead_cipher(params: SuiteParams, key: bytes) -> object:
    """The ``cryptography`` AEAD object for *params* and *key*; None for CBC."""
    cipher = params.cipher
    if cipher is _AES_GCM:
        return AESGCM(key)
    if cipher is _AES_CCM or cipher is _AES_CCM_8:
        return AESCCM(key, tag_length=params.tag_length)
    if cipher is _CHACHA20_POLY1305:
        return ChaCha20Poly1305(key)
    return None


# (Cipher.AES_GCM ... read once: an enum member read from its class goes through
# the enum's metaclass, a few times slower than a global; four per connection)
_AES_GCM, _AES_CCM, _AES_CCM_8, _CHACHA20_POLY1305 = (
    Cipher.AES_GCM, Cipher.AES_CCM, Cipher.AES_CCM_8, Cipher.CHACHA20_POLY1305)


# Fast constructor for RecordProtection.tls13 (same reason as _new_plaintext,
# four times per connection): a slot builder filled field by field (plain
# attribute stores, faster than eleven descriptor calls), then given the class.
_RecordProtectionBuilder = slot_builder(RecordProtection)
if tuple(f.name for f in fields(RecordProtection)) != (
        "params", "version", "key", "iv", "mac_key", "encrypt_then_mac", "secret_name",
        "direction", "trace", "_aead", "_iv_int", "_secret"):
    raise TypeError("RecordProtection changed: update _new_tls13_protection")
_SET_PROTECTION_TRACE, _SET_PROTECTION_SECRET = (
    RecordProtection.__dict__[name].__set__ for name in ("trace", "_secret"))


def _tls13_protection(secret: bytes, params: SuiteParams, secret_name: str | None,
                      direction: str | None) -> RecordProtection:
    """``RecordProtection.tls13(secret, params, secret_name=..., direction=...)`` for a
    TLS 1.3 suite and a direction given as text (session._tls13_keys calls it directly,
    four times per connection).

    traffic_keys gives a key and IV of the suite's lengths and the version is
    TLS 1.3, so __post_init__'s checks hold: the same value is built without
    them (and without the TrafficKeys value).  Its ``trace`` is left to
    RecordProtection.__getattr__, from the secret (once the key schedule has
    kept the parts for these lengths: from the first protection on).
    """
    hash, key_len, iv_len = params.prf_hash, params.key_length, params.fixed_iv_length
    pair = _traffic_key_pair(secret, hash, key_len, iv_len)
    if pair is None:
        key, iv, trace = _traffic_keys(secret, hash, key_len, iv_len)
        return _new_tls13_protection(params, key, iv, secret_name, direction, trace, None)
    key, iv = pair
    return _new_tls13_protection(params, key, iv, secret_name, direction, None, secret)


def _new_tls13_protection(params: SuiteParams, key: bytes, iv: bytes, secret_name: str | None,
                          direction: str | None, trace: tuple[Step, ...] | None,
                          secret: bytes | None) -> RecordProtection:
    """The protection, its fields in order; ``trace`` None: its slot left unset, *secret*
    kept for RecordProtection.__getattr__ to make it."""
    obj = _RecordProtectionBuilder()
    obj.params = params
    obj.version = TLS13
    obj.key = key
    obj.iv = iv
    obj.mac_key = b""
    obj.encrypt_then_mac = False
    obj.secret_name = secret_name
    obj.direction = direction
    if trace is not None:
        obj.trace = trace
    obj._aead = _aead_cipher(params, key)
    obj._iv_int = int.from_bytes(iv, "big")
    obj._secret = secret
    obj.__class__ = RecordProtection
    return obj


_DIRECTION_NAMES = {d: str(d) for d in Direction}  # (Direction.__str__ is Python code)


def _direction(direction: Direction | str | None) -> str | None:
    return _DIRECTION_NAMES[direction] if isinstance(direction, Direction) else direction
