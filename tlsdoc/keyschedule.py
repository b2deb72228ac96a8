"""Key derivation for TLS 1.2 and TLS 1.3, each result with its working.

Consumes bytes (randoms, premaster / shared secrets, transcript hashes,
key-log secrets, PEM keys) and :class:`~tlsdoc.suites.SuiteParams`; produces
frozen results that carry the derived values *and* a ``trace`` of
:class:`Step` s, one per derivation, in order, so a renderer can print the
chain ("master_secret = PRF-SHA256(pre_master_secret, "master secret",
ClientHello.random + ServerHello.random)") from the values actually used.

Each function's trace stays at its own level: :func:`prf` shows one PRF
step, :func:`p_hash` shows every HMAC inside it.

TLS 1.2 (RFC 5246 §5, §6.3, §7.4.9, §8.1; RFC 7627):
:func:`p_hash`, :func:`prf`, :func:`master_secret`,
:func:`extended_master_secret`, :func:`key_block`, :func:`tls12_keys`,
:func:`tls12_finished_verify_data`, :func:`load_private_key`,
:func:`rsa_premaster`.

TLS 1.3 (RFC 8446 §7.1, §7.2, §7.3, §4.4.4):
:func:`hkdf_extract`, :func:`hkdf_expand_label`, :func:`derive_secret`,
:func:`tls13_key_schedule`, :func:`traffic_keys`, :func:`tls13_finished_key`,
:func:`tls13_finished_verify_data`, :func:`next_traffic_secret`.

Every primitive (hashes, HMAC, HKDF-Expand, RSA PKCS#1 v1.5, PEM/DER key
loading) comes from ``cryptography``.  Only TLS glue is written here, where
no library has it: P_hash/PRF (TLS-specific HMAC chaining), the
``HkdfLabel`` structure, the key-block split, and a padding re-check for
RSA (see :func:`rsa_premaster`).

Must never import dpkt or sphinx, nor any tlsdoc module downstream of keys
(records, handshake, decrypt, checks, analysis, render, cli).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from tlsdoc.errors import KeyMaterialError
from tlsdoc.suites import SuiteParams

__all__ = [
    "Step",
    "Derivation",
    "Tls12Keys",
    "RsaPremaster",
    "Tls13Secrets",
    "TrafficKeys",
    "hash_algorithm",
    "hash_length",
    "transcript_hash",
    "p_hash",
    "prf",
    "master_secret",
    "extended_master_secret",
    "key_block",
    "tls12_keys",
    "tls12_finished_verify_data",
    "load_private_key",
    "rsa_premaster",
    "hkdf_extract",
    "hkdf_expand_label",
    "derive_secret",
    "tls13_key_schedule",
    "traffic_keys",
    "tls13_finished_key",
    "tls13_finished_verify_data",
    "next_traffic_secret",
]

Inputs = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One derivation: ``output = op(inputs)``.

    Attributes:
        name: what is derived, as the RFC names it (``"master_secret"``,
            ``"client_handshake_traffic_secret"``, ``"A(2)"``).
        op: the operation, e.g. ``"PRF-SHA256"``, ``"HKDF-Extract-SHA256"``,
            ``"HKDF-Expand-Label-SHA384"``, ``"HMAC-SHA256"``.
        inputs: (name, value) pairs in the order the RFC writes them;
            labels appear as their bytes (``b"master secret"``).
        output: the derived bytes.
    """

    name: str
    op: str
    inputs: Inputs
    output: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Derivation:
    """A single derived value and the steps that produced it."""

    output: bytes
    trace: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tls12Keys:
    """The TLS 1.2 key block split into its six parts (RFC 5246 §6.3).

    MAC keys are empty for AEAD suites; IVs are the implicit part (GCM/CCM
    salt, ChaCha20 IV) or, for CBC, the TLS 1.0 IV that TLS 1.1+ ignores.
    """

    client_write_mac_key: bytes
    server_write_mac_key: bytes
    client_write_key: bytes
    server_write_key: bytes
    client_write_iv: bytes
    server_write_iv: bytes
    key_block: bytes
    trace: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RsaPremaster:
    """A premaster secret recovered from an RSA ClientKeyExchange.

    Attributes:
        pre_master_secret: the 48 bytes (RFC 5246 §7.4.7.1).
        client_version: its first two bytes as an int (``0x0303`` for TLS
            1.2): the version the client offered in its ClientHello.
        version_matches: whether that equals the ``client_version`` the
            caller passed; None when none was passed.
        trace: the RSA step (encoded message ``00 02 PS 00 M``) and the
            unpadding step.
    """

    pre_master_secret: bytes
    client_version: int
    version_matches: bool | None
    trace: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tls13Secrets:
    """Every secret of the TLS 1.3 key schedule (RFC 8446 §7.1).

    Optional secrets are None when the transcript hash they need was not
    given.
    """

    early_secret: bytes
    client_early_traffic_secret: bytes | None
    early_exporter_master_secret: bytes | None
    handshake_secret: bytes
    client_handshake_traffic_secret: bytes
    server_handshake_traffic_secret: bytes
    master_secret: bytes
    client_application_traffic_secret_0: bytes | None
    server_application_traffic_secret_0: bytes | None
    exporter_master_secret: bytes | None
    resumption_master_secret: bytes | None
    trace: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficKeys:
    """write_key and write_iv for one direction (RFC 8446 §7.3)."""

    key: bytes
    iv: bytes
    trace: tuple[Step, ...]


# Fast constructors for the values the TLS 1.3 traffic keys make (eight
# HKDF-Expand-Label steps per connection, each renamed into the connection's
# trace).  A frozen dataclass's __init__ sets each field through
# object.__setattr__ (to get past its own __setattr__, which refuses);
# setting the slots through their member descriptors gives the same frozen
# values in about half the time (as records.py does for Record).
_new_object = object.__new__
(_s0, _s1, _s2, _s3) = tuple(Step.__dict__[f.name].__set__ for f in fields(Step))
(_v0, _v1) = tuple(Derivation.__dict__[f.name].__set__ for f in fields(Derivation))
(_k0, _k1, _k2) = tuple(TrafficKeys.__dict__[f.name].__set__ for f in fields(TrafficKeys))


def _new_step(name: str, op: str, inputs: Inputs, output: bytes) -> Step:
    obj = _new_object(Step)
    _s0(obj, name); _s1(obj, op); _s2(obj, inputs); _s3(obj, output)  # noqa: E702
    return obj


def _new_derivation(output: bytes, trace: tuple[Step, ...]) -> Derivation:
    obj = _new_object(Derivation)
    _v0(obj, output); _v1(obj, trace)  # noqa: E702
    return obj


def _new_traffic_keys(key: bytes, iv: bytes, trace: tuple[Step, ...]) -> TrafficKeys:
    obj = _new_object(TrafficKeys)
    _k0(obj, key); _k1(obj, iv); _k2(obj, trace)  # noqa: E702
    return obj


# -- hashes ------------------------------------------------------------------

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def hash_algorithm(hash: str) -> hashes.HashAlgorithm:
    """The ``cryptography`` hash object for a suite's hash name (``"sha256"``).

    Raises:
        KeyMaterialError: unknown name.
    """
    try:
        return _HASHES[hash]()
    except KeyError:
        raise KeyMaterialError(
            "unknown hash", expected=" / ".join(_HASHES), found=repr(hash)
        ) from None


# A hash algorithm object only names the hash (no state), so the key
# schedule shares one per name instead of making one per HKDF call.
_SHARED_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {name: cls() for name, cls in _HASHES.items()}


def _algorithm(hash: str) -> hashes.HashAlgorithm:
    """Like :func:`hash_algorithm`, but a shared instance (same errors)."""
    algorithm = _SHARED_ALGORITHMS.get(hash)
    return algorithm if algorithm is not None else hash_algorithm(hash)


def _tag(hash: str) -> str:
    return hash.upper()


def hash_length(hash: str) -> int:
    """Output length in bytes of *hash* (``"sha256"`` → 32)."""
    return _algorithm(hash).digest_size


def transcript_hash(messages: bytes, hash: str = "sha256") -> bytes:
    """Transcript-Hash (RFC 8446 §4.4.1) / Hash(handshake_messages) (RFC 5246 §7.4.9).

    Args:
        messages: the handshake messages concatenated, each with its 4-byte
            header, without record headers.
        hash: the suite's hash name.
    """
    digest = hashes.Hash(hash_algorithm(hash))
    digest.update(messages)
    return digest.finalize()


def _hmac(hash: str, key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hash_algorithm(hash))
    mac.update(data)
    return mac.finalize()


def _as_bytes(label: str | bytes) -> bytes:
    return label.encode("ascii") if isinstance(label, str) else bytes(label)


def _check_length(value: bytes, length: int, what: str) -> None:
    if len(value) != length:
        raise KeyMaterialError(
            f"{what} has the wrong length", field=what,
            expected=f"{length} bytes", found=f"{len(value)} bytes",
        )


# -- TLS 1.2: PRF ------------------------------------------------------------


def p_hash(secret: bytes, seed: bytes, length: int, hash: str = "sha256") -> Derivation:
    """P_hash(secret, seed), cut to *length* bytes (RFC 5246 §5).

    ::

        P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
                               HMAC_hash(secret, A(2) + seed) + ...
        A(0) = seed,  A(i) = HMAC_hash(secret, A(i-1))

    Written here because this HMAC chaining is specific to TLS; no library
    exposes it (``cryptography`` keeps its TLS PRF internal to OpenSSL).

    Returns:
        The output, with a trace of every A(i) and output block.
    """
    op = f"HMAC-{_tag(hash)}"
    steps: list[Step] = []
    blocks: list[bytes] = []
    a_prev, produced, i = seed, 0, 0
    while produced < length:
        i += 1
        a_i = _hmac(hash, secret, a_prev)
        steps.append(Step(name=f"A({i})", op=op,
                          inputs=(("secret", secret), (f"A({i - 1})", a_prev)), output=a_i))
        block = _hmac(hash, secret, a_i + seed)
        steps.append(Step(name=f"P_{_tag(hash)} block {i}", op=op,
                          inputs=(("secret", secret), (f"A({i}) + seed", a_i + seed)),
                          output=block))
        blocks.append(block)
        produced += len(block)
        a_prev = a_i
    out = b"".join(blocks)[:length]
    steps.append(Step(name=f"P_{_tag(hash)}", op=f"concatenate, first {length} bytes",
                      inputs=tuple((f"block {n}", b) for n, b in enumerate(blocks, 1)),
                      output=out))
    return Derivation(output=out, trace=tuple(steps))


def _prf_step(name: str, secret: bytes, label: bytes, seeds: Inputs, length: int,
              hash: str, secret_name: str = "secret") -> Step:
    seed = b"".join(value for _, value in seeds)
    out = p_hash(secret, label + seed, length, hash).output
    return Step(name=name, op=f"PRF-{_tag(hash)}",
                inputs=((secret_name, secret), ("label", label), *seeds), output=out)


def prf(secret: bytes, label: str | bytes, seed: bytes, length: int,
        hash: str = "sha256") -> Derivation:
    """PRF(secret, label, seed) = P_<hash>(secret, label + seed) (RFC 5246 §5).

    Args:
        secret: the PRF secret.
        label: ASCII label, e.g. ``"master secret"`` (no length, no NUL).
        seed: the seed.
        length: bytes wanted.
        hash: ``"sha256"`` for the RFC 5246 suites, ``"sha384"`` for the
            ``*_SHA384`` suites.
    """
    step = _prf_step("PRF", secret, _as_bytes(label), (("seed", seed),), length, hash)
    return Derivation(output=step.output, trace=(step,))


def master_secret(pre_master_secret: bytes, client_random: bytes, server_random: bytes,
                  hash: str = "sha256") -> Derivation:
    """master_secret = PRF(pre_master_secret, "master secret", ClientHello.random +
    ServerHello.random)[0..47] (RFC 5246 §8.1).
    """
    _check_length(client_random, 32, "ClientHello.random")
    _check_length(server_random, 32, "ServerHello.random")
    step = _prf_step("master_secret", pre_master_secret, b"master secret",
                     (("ClientHello.random", client_random),
                      ("ServerHello.random", server_random)),
                     48, hash, "pre_master_secret")
    return Derivation(output=step.output, trace=(step,))


def extended_master_secret(pre_master_secret: bytes, session_hash: bytes,
                           hash: str = "sha256") -> Derivation:
    """master_secret = PRF(pre_master_secret, "extended master secret",
    session_hash)[0..47] (RFC 7627 §4).

    Args:
        pre_master_secret: the premaster (RSA) or the (EC)DHE shared secret.
        session_hash: Hash(handshake_messages) from ClientHello up to and
            including ClientKeyExchange (RFC 7627 §3), with the PRF hash.
        hash: the PRF hash.
    """
    step = _prf_step("master_secret", pre_master_secret, b"extended master secret",
                     (("session_hash", session_hash),), 48, hash, "pre_master_secret")
    return Derivation(output=step.output, trace=(step,))


def key_block(master_secret: bytes, client_random: bytes, server_random: bytes,
              length: int, hash: str = "sha256") -> Derivation:
    """key_block = PRF(master_secret, "key expansion", server_random +
    client_random) (RFC 5246 §6.3; note the randoms swap order here).
    """
    _check_length(client_random, 32, "ClientHello.random")
    _check_length(server_random, 32, "ServerHello.random")
    step = _prf_step("key_block", master_secret, b"key expansion",
                     (("server_random", server_random), ("client_random", client_random)),
                     length, hash, "master_secret")
    return Derivation(output=step.output, trace=(step,))


def tls12_keys(master_secret: bytes, client_random: bytes, server_random: bytes,
               params: SuiteParams) -> Tls12Keys:
    """Expand the master secret into the six write keys (RFC 5246 §6.3).

    The key block is cut, in this order, into client/server write MAC key
    (``mac_length`` each), client/server write key (``key_length``) and
    client/server write IV (``fixed_iv_length``).

    Raises:
        KeyMaterialError: *params* is a TLS 1.3 suite, or the master secret
            is not 48 bytes.
    """
    if params.tls13:
        raise KeyMaterialError("TLS 1.3 suites have no key block; use traffic_keys",
                               found=f"suite 0x{params.id:04x}")
    _check_length(master_secret, 48, "master_secret")
    sizes = (("client_write_MAC_key", params.mac_length),
             ("server_write_MAC_key", params.mac_length),
             ("client_write_key", params.key_length),
             ("server_write_key", params.key_length),
             ("client_write_IV", params.fixed_iv_length),
             ("server_write_IV", params.fixed_iv_length))
    total = sum(n for _, n in sizes)
    block = key_block(master_secret, client_random, server_random, total, params.prf_hash)
    steps = list(block.trace)
    parts: list[bytes] = []
    at = 0
    for name, n in sizes:
        part = block.output[at:at + n]
        steps.append(Step(name=name, op=f"key_block[{at}:{at + n}]",
                          inputs=(("key_block", block.output),), output=part))
        parts.append(part)
        at += n
    return Tls12Keys(
        client_write_mac_key=parts[0], server_write_mac_key=parts[1],
        client_write_key=parts[2], server_write_key=parts[3],
        client_write_iv=parts[4], server_write_iv=parts[5],
        key_block=block.output, trace=tuple(steps),
    )


def tls12_finished_verify_data(master_secret: bytes, label: str | bytes,
                               handshake_hash: bytes, hash: str = "sha256",
                               length: int = 12) -> Derivation:
    """verify_data = PRF(master_secret, finished_label,
    Hash(handshake_messages))[0..verify_data_length-1] (RFC 5246 §7.4.9).

    Args:
        master_secret: the 48-byte master secret.
        label: ``"client finished"`` or ``"server finished"``.
        handshake_hash: Hash(handshake_messages) with the PRF hash: every
            handshake message up to, not including, this Finished.
        hash: the PRF hash.
        length: verify_data_length, 12 for every suite tlsdoc knows.
    """
    step = _prf_step("verify_data", master_secret, _as_bytes(label),
                     (("Hash(handshake_messages)", handshake_hash),), length, hash,
                     "master_secret")
    return Derivation(output=step.output, trace=(step,))


# -- TLS 1.2: RSA key exchange -------------------------------------------------


def load_private_key(data: bytes, password: bytes | None = None):
    """Load a private key from PEM (PKCS#1 ``RSA PRIVATE KEY``, PKCS#8
    ``PRIVATE KEY`` / ``ENCRYPTED PRIVATE KEY``) or DER bytes.

    Returns:
        A ``cryptography`` private key object.

    Raises:
        KeyMaterialError: the bytes are not a private key we can read (or
            the password is missing or wrong).
    """
    loader = (serialization.load_pem_private_key if b"-----BEGIN" in data
              else serialization.load_der_private_key)
    try:
        return loader(data, password=password)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError(f"cannot load the private key ({exc})") from None
    except UnsupportedAlgorithm as exc:
        raise KeyMaterialError(f"unsupported private key ({exc})") from None


def rsa_premaster(encrypted_premaster: bytes, private_key,
                  *, client_version: int | None = None) -> RsaPremaster:
    """Decrypt the EncryptedPreMasterSecret of an RSA ClientKeyExchange.

    RFC 5246 §7.4.7.1: the client sends
    ``RSAES-PKCS1-v1_5-Encrypt(server key, client_version(2) ‖ random(46))``.

    RFC 5246 §7.4.7.1 tells a *server* not to reveal padding failures and to
    continue with a random premaster instead (the Bleichenbacher
    countermeasure).  That advice protects a live server from being used as
    a padding oracle; it does not apply to an offline analyser, which has no
    one to leak to and must not show made-up keys.  So a failure here is an
    error, not a random premaster.

    Since OpenSSL 3.2, ``cryptography``'s PKCS#1 v1.5 decryption applies
    "implicit rejection": for a wrong key it returns a deterministic
    pseudo-random message instead of raising.  To tell a wrong key from a
    right one we therefore re-check the padding ourselves: one textbook RSA
    exponentiation ``c^d mod n`` with the key's private numbers (Python's
    ``pow``), checked for ``00 02 PS(>= 8 non-zero bytes) 00 M`` with ``M``
    equal to what ``cryptography`` returned.  This check, and the trace it
    gives the handbook, is the only RSA arithmetic written here.

    Args:
        encrypted_premaster: the ciphertext as sent (without its 2-byte
            length prefix).
        private_key: the server's RSA private key, as PEM/DER bytes or a
            loaded ``cryptography`` key.
        client_version: the ClientHello.client_version, if known, to compare
            with the premaster's first two bytes.

    Raises:
        KeyMaterialError: the key is not RSA, the ciphertext does not fit
            its modulus, the padding does not check (wrong key), or the
            premaster is not 48 bytes.
    """
    key = load_private_key(private_key) if isinstance(private_key, (bytes, bytearray)) else private_key
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyMaterialError("the server key is not an RSA key",
                               expected="RSA private key", found=type(key).__name__)
    size = (key.key_size + 7) // 8
    if len(encrypted_premaster) != size:
        raise KeyMaterialError(
            "EncryptedPreMasterSecret does not fit this key's modulus (wrong key?)",
            field="EncryptedPreMasterSecret", expected=f"{size} bytes",
            found=f"{len(encrypted_premaster)} bytes",
        )
    try:
        message = key.decrypt(bytes(encrypted_premaster), padding.PKCS1v15())
    except ValueError:
        raise KeyMaterialError("EncryptedPreMasterSecret does not decrypt with this key",
                               field="EncryptedPreMasterSecret") from None
    numbers = key.private_numbers()
    c = int.from_bytes(encrypted_premaster, "big")
    if c >= numbers.public_numbers.n:
        raise KeyMaterialError("EncryptedPreMasterSecret is not below this key's modulus "
                               "(wrong key)", field="EncryptedPreMasterSecret")
    encoded = pow(c, numbers.d, numbers.public_numbers.n).to_bytes(size, "big")
    separator = encoded.find(b"\x00", 2)
    if (encoded[:2] != b"\x00\x02" or separator < 10
            or encoded[separator + 1:] != message):
        raise KeyMaterialError(
            "EncryptedPreMasterSecret does not decrypt with this key "
            "(PKCS#1 v1.5 padding check failed)",
            field="EncryptedPreMasterSecret",
            expected="00 02 PS 00 M", found=encoded[:2].hex(" "),
        )
    if len(message) != 48:
        raise KeyMaterialError("decrypted premaster has the wrong length",
                               field="PreMasterSecret", expected="48 bytes",
                               found=f"{len(message)} bytes")
    version = int.from_bytes(message[:2], "big")
    steps = (
        Step(name="encoded message", op="RSA decrypt (c^d mod n)",
             inputs=(("EncryptedPreMasterSecret", bytes(encrypted_premaster)),),
             output=encoded),
        Step(name="pre_master_secret", op="PKCS#1 v1.5 unpad (00 02 PS 00 M → M)",
             inputs=(("encoded message", encoded),), output=message),
    )
    return RsaPremaster(
        pre_master_secret=message, client_version=version,
        version_matches=None if client_version is None else version == client_version,
        trace=steps,
    )


# -- TLS 1.3: HKDF -----------------------------------------------------------


def hkdf_extract(salt: bytes, ikm: bytes, hash: str = "sha256", *,
                 name: str = "PRK") -> Derivation:
    """HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM) (RFC 5869 §2.2).

    An empty salt stands for Hash.length zero bytes (RFC 5869 §2.2, RFC 8446
    §7.1 "0"); the trace shows those zero bytes.
    """
    salt = salt or bytes(hash_length(hash))
    out = _hmac(hash, salt, ikm)
    return Derivation(output=out, trace=(
        Step(name=name, op=f"HKDF-Extract-{_tag(hash)}",
             inputs=(("salt", salt), ("IKM", ikm)), output=out),))


def _hkdf_label(label: bytes, context: bytes, length: int) -> bytes:
    # The HkdfLabel struct of RFC 8446 §7.1 -- TLS-specific, no library has it:
    #     struct {
    #         uint16 length = Length;
    #         opaque label<7..255> = "tls13 " + Label;
    #         opaque context<0..255> = Context;
    #     } HkdfLabel;
    full = b"tls13 " + label
    if len(full) > 255 or len(context) > 255 or not 0 < length < 0x10000:
        raise KeyMaterialError("HkdfLabel out of range", field="HkdfLabel",
                               found=f"label {len(full)} B, context {len(context)} B, "
                                     f"length {length}")
    return (struct.pack("!H", length) + bytes([len(full)]) + full
            + bytes([len(context)]) + context)


def hkdf_expand_label(secret: bytes, label: str | bytes, context: bytes, length: int,
                      hash: str = "sha256", *, name: str | None = None) -> Derivation:
    """HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1).

    = HKDF-Expand(Secret, HkdfLabel, Length), HKDF-Expand from
    ``cryptography`` and HkdfLabel built here.

    Args:
        secret: the PRK.
        label: the label without the ``"tls13 "`` prefix, e.g. ``"key"``.
        context: usually a transcript hash, or empty.
        length: bytes wanted.
        hash: the suite's hash.
        name: step name for the trace (default: the label).
    """
    out, step = _expand_label(secret, label, context, length, hash, name)
    return _new_derivation(out, (step,))


def _expand_label(secret: bytes, label: str | bytes, context: bytes, length: int, hash: str,
                  name: str | None) -> tuple[bytes, Step]:
    """HKDF-Expand-Label's output and its step (what :func:`hkdf_expand_label` wraps)."""
    info, full_label, op, default_name = _expand_label_parts(label, context, length, hash)
    out = HKDFExpand(_algorithm(hash), length, info).derive(secret)  # (algorithm, length, info)
    return out, _new_step(name or default_name, op, (("secret", secret), ("label", full_label),
                                                     ("context", context), ("HkdfLabel", info)), out)


# The traffic keys and KeyUpdate ("key", "iv", "traffic upd") expand fixed
# labels with an empty context, eight times per TLS 1.3 connection: their
# checked HkdfLabel and trace texts are worked out once and kept (a few
# entries; a transcript-hash context is different every time, never kept).
_STATIC_LABELS: dict[tuple[str | bytes, int, str], tuple[bytes, bytes, str, str]] = {}
_STATIC_LABELS_MAX = 64


def _expand_label_parts(label: str | bytes, context: bytes, length: int,
                        hash: str) -> tuple[bytes, bytes, str, str]:
    """(HkdfLabel, ``"tls13 " + label``, trace op, default step name), checked."""
    static = context == b"" and type(label) in (str, bytes)
    if static:
        parts = _STATIC_LABELS.get((label, length, hash))
        if parts is not None:
            return parts
    label_bytes = _as_bytes(label)
    if length > 255 * hash_length(hash):  # RFC 5869 §2.3: L <= 255*HashLen
        raise KeyMaterialError("HKDF-Expand length too large", field="HkdfLabel.length",
                               expected=f"<= {255 * hash_length(hash)}", found=length)
    parts = (_hkdf_label(label_bytes, context, length), b"tls13 " + label_bytes,
             f"HKDF-Expand-Label-{_tag(hash)}", label_bytes.decode("ascii", "replace"))
    if static and len(_STATIC_LABELS) < _STATIC_LABELS_MAX:
        _STATIC_LABELS[(label, length, hash)] = parts
    return parts


def derive_secret(secret: bytes, label: str | bytes, transcript_hash: bytes,
                  hash: str = "sha256", *, name: str | None = None) -> Derivation:
    """Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1).

    = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length).
    Takes the transcript *hash* (see :func:`transcript_hash`) rather than
    the messages, so callers can hash incrementally.
    """
    d = hkdf_expand_label(secret, label, transcript_hash, hash_length(hash), hash, name=name)
    step = d.trace[0]
    return Derivation(output=d.output, trace=(
        Step(name=step.name, op=f"Derive-Secret-{_tag(hash)}", inputs=step.inputs,
             output=step.output),))


def tls13_key_schedule(*, shared_secret: bytes | None, server_hello_hash: bytes,
                       server_finished_hash: bytes | None = None,
                       client_finished_hash: bytes | None = None,
                       client_hello_hash: bytes | None = None,
                       psk: bytes | None = None,
                       hash: str = "sha256") -> Tls13Secrets:
    """The whole TLS 1.3 key schedule from the (EC)DHE shared secret (RFC 8446 §7.1).

    ::

        Early Secret     = HKDF-Extract(0, PSK or 0)
        Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE)
        Master Secret    = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), 0)

    with the traffic secrets derived from each.  Key-log users do not need
    this: they already have the traffic secrets (use :func:`traffic_keys`).

    Args:
        shared_secret: the (EC)DHE shared secret; None for PSK-only.
        server_hello_hash: Transcript-Hash(ClientHello..ServerHello).
        server_finished_hash: Transcript-Hash(ClientHello..server Finished),
            for the application traffic and exporter secrets.
        client_finished_hash: Transcript-Hash(ClientHello..client Finished),
            for the resumption master secret.
        client_hello_hash: Transcript-Hash(ClientHello), for the early
            (0-RTT) secrets.
        psk: the pre-shared key, if any.
        hash: the suite's hash.
    """
    n = hash_length(hash)
    zeros = bytes(n)
    empty_hash = transcript_hash(b"", hash)
    steps: list[Step] = []

    def run(d: Derivation) -> bytes:
        steps.extend(d.trace)
        return d.output

    early = run(hkdf_extract(zeros, psk or zeros, hash, name="early_secret"))
    cets = eems = None
    if client_hello_hash is not None:
        cets = run(derive_secret(early, "c e traffic", client_hello_hash, hash,
                                 name="client_early_traffic_secret"))
        eems = run(derive_secret(early, "e exp master", client_hello_hash, hash,
                                 name="early_exporter_master_secret"))
    salt = run(derive_secret(early, "derived", empty_hash, hash, name="derived (early)"))
    handshake = run(hkdf_extract(salt, shared_secret or zeros, hash, name="handshake_secret"))
    chts = run(derive_secret(handshake, "c hs traffic", server_hello_hash, hash,
                             name="client_handshake_traffic_secret"))
    shts = run(derive_secret(handshake, "s hs traffic", server_hello_hash, hash,
                             name="server_handshake_traffic_secret"))
    salt = run(derive_secret(handshake, "derived", empty_hash, hash, name="derived (handshake)"))
    master = run(hkdf_extract(salt, zeros, hash, name="master_secret"))
    cats = sats = ems = rms = None
    if server_finished_hash is not None:
        cats = run(derive_secret(master, "c ap traffic", server_finished_hash, hash,
                                 name="client_application_traffic_secret_0"))
        sats = run(derive_secret(master, "s ap traffic", server_finished_hash, hash,
                                 name="server_application_traffic_secret_0"))
        ems = run(derive_secret(master, "exp master", server_finished_hash, hash,
                                name="exporter_master_secret"))
    if client_finished_hash is not None:
        rms = run(derive_secret(master, "res master", client_finished_hash, hash,
                                name="resumption_master_secret"))
    return Tls13Secrets(
        early_secret=early, client_early_traffic_secret=cets,
        early_exporter_master_secret=eems, handshake_secret=handshake,
        client_handshake_traffic_secret=chts, server_handshake_traffic_secret=shts,
        master_secret=master, client_application_traffic_secret_0=cats,
        server_application_traffic_secret_0=sats, exporter_master_secret=ems,
        resumption_master_secret=rms, trace=tuple(steps),
    )


def traffic_keys(secret: bytes, hash: str, key_len: int, iv_len: int = 12) -> TrafficKeys:
    """[sender]_write_key and [sender]_write_iv from a traffic secret (RFC 8446 §7.3).

    ::

        key = HKDF-Expand-Label(Secret, "key", "", key_length)
        iv  = HKDF-Expand-Label(Secret, "iv", "", iv_length)

    Args:
        secret: a traffic secret, e.g. a key log's
            ``SERVER_HANDSHAKE_TRAFFIC_SECRET``.
        hash: the suite's hash (``params.prf_hash``).
        key_len: ``params.key_length``.
        iv_len: ``params.fixed_iv_length`` (12 for every TLS 1.3 suite).
    """
    return _new_traffic_keys(*_traffic_keys(secret, hash, key_len, iv_len))


def _traffic_keys(secret: bytes, hash: str, key_len: int,
                  iv_len: int) -> tuple[bytes, bytes, tuple[Step, Step]]:
    """(key, iv, trace) of :func:`traffic_keys`, without the TrafficKeys value.

    Two HKDF-Expand-Label steps, as hkdf_expand_label makes them.
    """
    pair = _traffic_key_pair(secret, hash, key_len, iv_len)
    if pair is None:  # the general route, which also checks the lengths and the hash
        key, key_step = _expand_label(secret, "key", b"", key_len, hash, "write_key")
        iv, iv_step = _expand_label(secret, "iv", b"", iv_len, hash, "write_iv")
        if len(_TRAFFIC_PARTS) < _STATIC_LABELS_MAX:
            _TRAFFIC_PARTS[(hash, key_len, iv_len)] = (
                _algorithm(hash), key_step.op, key_step.inputs[1:], iv_step.op, iv_step.inputs[1:])
        return key, iv, (key_step, iv_step)
    key, iv = pair
    return key, iv, _traffic_trace(secret, hash, key_len, iv_len, key, iv)


def _traffic_key_pair(secret: bytes, hash: str, key_len: int, iv_len: int) -> tuple[bytes, bytes] | None:
    """(key, iv) of :func:`_traffic_keys` without the trace, or None until _traffic_keys
    has kept the parts for these lengths (then call it).

    Four times per TLS 1.3 connection (RecordProtection.tls13 leaves the trace
    to be made on first read, by :func:`_traffic_trace`): the same HKDF-Expand
    calls as the two _expand_label calls of the general route, with what does
    not depend on the secret (algorithm, HkdfLabel) kept from its first call
    for these lengths (test_keyschedule checks both agree).
    """
    parts = _TRAFFIC_PARTS.get((hash, key_len, iv_len))
    if parts is None:
        return None
    algorithm, _, key_inputs, _, iv_inputs = parts
    return (HKDFExpand(algorithm, key_len, key_inputs[2][1]).derive(secret),  # (HkdfLabel)
            HKDFExpand(algorithm, iv_len, iv_inputs[2][1]).derive(secret))


def _traffic_trace(secret: bytes, hash: str, key_len: int, iv_len: int, key: bytes,
                   iv: bytes) -> tuple[Step, Step]:
    """The two steps of :func:`_traffic_keys` for a key and IV :func:`_traffic_key_pair` gave."""
    _, key_op, key_inputs, iv_op, iv_inputs = _TRAFFIC_PARTS[(hash, key_len, iv_len)]
    first = (("secret", secret),)
    return (_new_step("write_key", key_op, first + key_inputs, key),
            _new_step("write_iv", iv_op, first + iv_inputs, iv))


# hash, key length, IV length -> (algorithm, key step op, key step inputs after
# the secret, IV step op, IV step inputs after the secret), for _traffic_keys
_TRAFFIC_PARTS: dict[tuple[str, int, int], tuple] = {}


def tls13_finished_key(base_key: bytes, hash: str = "sha256") -> Derivation:
    """finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)
    (RFC 8446 §4.4.4); BaseKey is the sender's handshake traffic secret.
    """
    return hkdf_expand_label(base_key, "finished", b"", hash_length(hash), hash,
                             name="finished_key")


def tls13_finished_verify_data(base_key: bytes, transcript_hash: bytes,
                               hash: str = "sha256") -> Derivation:
    """verify_data = HMAC(finished_key, Transcript-Hash(Handshake Context,
    Certificate*, CertificateVerify*)) (RFC 8446 §4.4.4).

    Args:
        base_key: the sender's handshake traffic secret.
        transcript_hash: hash of every handshake message before this Finished.
        hash: the suite's hash.
    """
    key = tls13_finished_key(base_key, hash)
    out = _hmac(hash, key.output, transcript_hash)
    return Derivation(output=out, trace=key.trace + (
        Step(name="verify_data", op=f"HMAC-{_tag(hash)}",
             inputs=(("finished_key", key.output), ("transcript_hash", transcript_hash)),
             output=out),))


def next_traffic_secret(secret: bytes, hash: str = "sha256") -> Derivation:
    """application_traffic_secret_N+1 = HKDF-Expand-Label(
    application_traffic_secret_N, "traffic upd", "", Hash.length) (RFC 8446 §7.2),
    the secret after a KeyUpdate.
    """
    return hkdf_expand_label(secret, "traffic upd", b"", hash_length(hash), hash,
                             name="next application_traffic_secret")
