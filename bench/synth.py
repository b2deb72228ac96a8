"""Synthesise a large, decryptable TLS 1.3 capture for the benchmarks.

Writes a classic pcap (Ethernet, IPv4, TCP) and the matching NSS key log::

    python bench/synth.py                        # 50,000 connections, about 1 GB
    python bench/synth.py --connections 2000     # a quick one

Every connection is what a TLS analyser meets in real traffic:

* a TCP three-way handshake (MSS 1460, window scale, SACK permitted), data
  cut into MSS-1460 segments, delayed ACKs every second full segment, and a
  FIN close from both sides; correct IPv4 and TCP checksums;
* a TLS 1.3 handshake: a ClientHello with SNI, ALPN, supported_versions,
  supported_groups, signature_algorithms, psk_key_exchange_modes, an
  X25519 key_share and padding; a ServerHello, the middlebox-compatibility
  ChangeCipherSpec, then EncryptedExtensions, Certificate (a three-link
  demo chain, so it spans TCP segments), CertificateVerify and Finished,
  all really encrypted with the handshake keys; the client's
  ChangeCipherSpec and Finished; two NewSessionTickets;
* an HTTP/1.1 GET (with a cookie of one to three KB) and a ``200 OK`` with
  a ``Content-Length`` body of 6 to 22 KB, cut into records of 16 KB, 4 KB or
  1400 bytes (as servers do), so records straddle segment boundaries;
* close_notify alerts from both sides.

The key schedule is the real one (RFC 8446 §7.1): a real X25519 exchange,
HKDF-Extract/Expand-Label, transcript hashes, Finished HMACs and an ECDSA
CertificateVerify over the transcript; records are sealed with
AES-128-GCM (TLS_AES_128_GCM_SHA256, §5.2/§5.3).  So ``tshark -o
tls.keylog_file:KEYS`` and ``tlsdoc decrypt --keylog KEYS`` can decrypt every
record and check every Finished.  Each connection has its own secrets and
randoms; the key log has five lines per connection.

Connections are interleaved as on a busy link: about ``--concurrent``
(default 50) are open at any moment, each with its own round-trip time, and
frames are written in timestamp order.

Addresses are documentation ranges only: clients in 192.0.2.0/24 and
198.51.100.0/24, servers in 203.0.113.0/24 port 443.  Host names are under
example.com.  Output is deterministic for a given ``--seed``.

Used by ``bench/run.py`` and ``tests/test_bench.py`` (through
:func:`synthesise`); nothing here is part of the tlsdoc package.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import heapq
import hmac
import random
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

__all__ = ["Summary", "ConnectionInfo", "synthesise", "sni_for", "main"]

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CONNECTIONS = 50_000
DEFAULT_CONCURRENT = 50
#: Bumped whenever the bytes written change, so bench/run.py does not reuse a stale file.
FORMAT = 2
MSS = 1460
HASH_LEN = 32  # SHA-256, for TLS_AES_128_GCM_SHA256
SUITE = 0x1301  # TLS_AES_128_GCM_SHA256

CLIENT_NETS = ("192.0.2.", "198.51.100.")
CLIENT_IPS = tuple(bytes(int(x) for x in f"{net}{h}".split(".")) for net in CLIENT_NETS for h in range(1, 255))
SERVER_IPS = tuple(bytes((203, 0, 113, h)) for h in range(10, 30))
EPHEMERAL_LOW, EPHEMERAL_COUNT = 32768, 28232  # Linux ip_local_port_range 32768-60999
HOSTS = 100
CLIENT_MAC = bytes.fromhex("020000000001")
GATEWAY_MAC = bytes.fromhex("0200000000fe")


def sni_for(index: int) -> str:
    """The server name connection *index* asks for."""
    return f"host{index % HOSTS:02d}.example.com"


def client_for(index: int) -> tuple[str, int]:
    """The client address and port of connection *index* (distinct for every index)."""
    ip_idx = index % len(CLIENT_IPS)
    round_ = index // len(CLIENT_IPS)
    if round_ >= EPHEMERAL_COUNT:
        raise ValueError("too many connections for distinct client ports")
    port = EPHEMERAL_LOW + (round_ * 9973 + ip_idx * 131) % EPHEMERAL_COUNT
    return ".".join(map(str, CLIENT_IPS[ip_idx])), port


def server_for(index: int) -> str:
    return ".".join(map(str, SERVER_IPS[(index % HOSTS) % len(SERVER_IPS)]))


# --------------------------------------------------------------------------
# TLS 1.3 key schedule (RFC 8446 §7.1) on the standard library's HMAC.


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or bytes(HASH_LEN), ikm, "sha256")


def hkdf_expand_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """HKDF-Expand-Label for lengths up to one hash block (all TLS 1.3 needs)."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes((len(full),)) + full + bytes((len(context),)) + context
    return hmac.digest(secret, info + b"\x01", "sha256")[:length]


def derive_secret(secret: bytes, label: bytes, transcript_hash: bytes) -> bytes:
    return hkdf_expand_label(secret, label, transcript_hash, HASH_LEN)


EMPTY_HASH = hashlib.sha256(b"").digest()
EARLY_SECRET = hkdf_extract(b"", bytes(HASH_LEN))
DERIVED_EARLY = derive_secret(EARLY_SECRET, b"derived", EMPTY_HASH)


class Sealer:
    """One direction's record protection under one traffic secret (§5.2, §5.3)."""

    __slots__ = ("aead", "iv", "seq")

    def __init__(self, secret: bytes) -> None:
        self.aead = AESGCM(hkdf_expand_label(secret, b"key", b"", 16))
        self.iv = int.from_bytes(hkdf_expand_label(secret, b"iv", b"", 12), "big")
        self.seq = 0

    def seal(self, content_type: int, data: bytes) -> bytes:
        length = len(data) + 1 + 16
        header = b"\x17\x03\x03" + length.to_bytes(2, "big")
        nonce = (self.iv ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        return header + self.aead.encrypt(nonce, data + bytes((content_type,)), header)


def _u8(b: bytes) -> bytes:
    return bytes((len(b),)) + b


def _u16(b: bytes) -> bytes:
    return len(b).to_bytes(2, "big") + b


def _u24(b: bytes) -> bytes:
    return len(b).to_bytes(3, "big") + b


def _ext(kind: int, body: bytes) -> bytes:
    return kind.to_bytes(2, "big") + _u16(body)


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes((kind,)) + _u24(body)


def _plain_record(content_type: int, version: int, data: bytes) -> bytes:
    return bytes((content_type,)) + version.to_bytes(2, "big") + _u16(data)


# --------------------------------------------------------------------------
# A demo PKI, made once per run (deterministic for the seed; used nowhere else).


@dataclass(frozen=True)
class Pki:
    chain_der: tuple[bytes, ...]  # leaf first, root last
    leaf_key: ec.EllipticCurvePrivateKey

    def root_pem(self) -> bytes:
        return x509.load_der_x509_certificate(self.chain_der[-1]).public_bytes(serialization.Encoding.PEM)


def make_pki(rng: random.Random) -> Pki:
    def key(curve: ec.EllipticCurve) -> ec.EllipticCurvePrivateKey:
        order_bits = curve.key_size
        return ec.derive_private_key(rng.getrandbits(order_bits - 8) + 1, curve)

    def name(cn: str) -> x509.Name:
        return x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tlsdoc benchmark (demo, not trusted)"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ])

    start = _dt.datetime(2025, 1, 1, tzinfo=_dt.timezone.utc)
    end = _dt.datetime(2035, 1, 1, tzinfo=_dt.timezone.utc)

    def cert(subject: str, key_pair, issuer: str, issuer_key, *, ca: bool, sans: list[str] | None = None):
        public = key_pair.public_key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(public)
            .serial_number(rng.getrandbits(63) + 1)
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                           critical=False)
            .add_extension(x509.KeyUsage(
                digital_signature=not ca, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                encipher_only=False, decipher_only=False), critical=True)
        )
        if sans:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        return builder.sign(issuer_key, hashes.SHA384() if ca else hashes.SHA256(), ecdsa_deterministic=True)

    root_key, inter_key, leaf_key = key(ec.SECP384R1()), key(ec.SECP384R1()), key(ec.SECP256R1())
    root = cert("tlsdoc bench demo root", root_key, "tlsdoc bench demo root", root_key, ca=True)
    inter = cert("tlsdoc bench demo intermediate", inter_key, "tlsdoc bench demo root", root_key, ca=True)
    leaf = cert("*.example.com", leaf_key, "tlsdoc bench demo intermediate", inter_key,
                ca=False, sans=["*.example.com", "example.com"])
    der = serialization.Encoding.DER
    return Pki((leaf.public_bytes(der), inter.public_bytes(der), root.public_bytes(der)), leaf_key)


# --------------------------------------------------------------------------
# One connection: TLS bytes, then TCP frames with times.

C, S = 0, 1  # directions: client -> server, server -> client

CIPHER_SUITES = (0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8)
SIG_ALGS = (0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0807)
GROUPS = (0x001D, 0x0017, 0x0018)
ECDSA_SHA256 = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
CV_PREFIX = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00"


@dataclass
class ConnectionInfo:
    """What the synthesiser put in one connection (for tests)."""

    index: int
    client: str  # "ip:port"
    server: str
    sni: str
    client_random: str  # hex
    response_body_len: int
    request_line: str
    request_sha256: str  # of the client's application data (the request)
    response_sha256: str  # of the server's application data (the response)
    body_sha256: str
    server_records: int  # application data records from the server


def client_hello(sni: str, client_random: bytes, session_id: bytes, key_share: bytes) -> bytes:
    host = sni.encode()
    exts = [
        _ext(0x0000, _u16(b"\x00" + _u16(host))),  # server_name
        _ext(0x0017, b""),  # extended_master_secret
        _ext(0xFF01, b"\x00"),  # renegotiation_info
        _ext(0x000A, _u16(b"".join(g.to_bytes(2, "big") for g in GROUPS))),  # supported_groups
        _ext(0x000B, _u8(b"\x00")),  # ec_point_formats
        _ext(0x0023, b""),  # session_ticket
        _ext(0x0010, _u16(_u8(b"h2") + _u8(b"http/1.1"))),  # ALPN
        _ext(0x0005, b"\x01" + _u16(b"") + _u16(b"")),  # status_request
        _ext(0x000D, _u16(b"".join(a.to_bytes(2, "big") for a in SIG_ALGS))),  # signature_algorithms
        _ext(0x0033, _u16(b"\x00\x1d" + _u16(key_share))),  # key_share: x25519
        _ext(0x002D, _u8(b"\x01")),  # psk_key_exchange_modes: psk_dhe_ke
        _ext(0x002B, _u8(b"\x03\x04\x03\x03")),  # supported_versions: 1.3, 1.2
    ]
    body_wo_pad = (
        b"\x03\x03" + client_random + _u8(session_id)
        + _u16(b"".join(c.to_bytes(2, "big") for c in CIPHER_SUITES))
        + _u8(b"\x00")
    )
    ext_bytes = b"".join(exts)
    # padding (RFC 7685) to a 512-byte ClientHello body, as browsers do
    unpadded = len(body_wo_pad) + 2 + len(ext_bytes)
    pad = max(0, 512 - unpadded - 4)
    ext_bytes += _ext(0x0015, bytes(pad))
    return _handshake(1, body_wo_pad + _u16(ext_bytes))


def server_hello(server_random: bytes, session_id: bytes, key_share: bytes) -> bytes:
    exts = _ext(0x002B, b"\x03\x04") + _ext(0x0033, b"\x00\x1d" + _u16(key_share))
    body = b"\x03\x03" + server_random + _u8(session_id) + SUITE.to_bytes(2, "big") + b"\x00" + _u16(exts)
    return _handshake(2, body)


def build_connection(index: int, rng: random.Random, pki: Pki, keylog: list[str]) -> tuple[list, ConnectionInfo]:
    """The flights of connection *index*: a list of (direction, bytes, kind).

    kind is "data" for TLS bytes, or "fin" for the FIN (with the last bytes).
    """
    sni = sni_for(index)
    client_random = rng.randbytes(32)
    server_random = rng.randbytes(32)
    session_id = rng.randbytes(32)
    c_key = x25519.X25519PrivateKey.from_private_bytes(rng.randbytes(32))
    s_key = x25519.X25519PrivateKey.from_private_bytes(rng.randbytes(32))
    shared = s_key.exchange(c_key.public_key())

    ch = client_hello(sni, client_random, session_id, c_key.public_key().public_bytes_raw())
    sh = server_hello(server_random, session_id, s_key.public_key().public_bytes_raw())
    transcript = hashlib.sha256(ch + sh)
    hs_secret = hkdf_extract(DERIVED_EARLY, shared)
    th = transcript.digest()
    c_hs = derive_secret(hs_secret, b"c hs traffic", th)
    s_hs = derive_secret(hs_secret, b"s hs traffic", th)

    ee = _handshake(8, _u16(_ext(0x0010, _u16(_u8(b"http/1.1")))))
    cert_list = b"".join(_u24(der) + _u16(b"") for der in pki.chain_der)
    cert = _handshake(11, _u8(b"") + _u24(cert_list))
    transcript.update(ee + cert)
    signature = pki.leaf_key.sign(CV_PREFIX + transcript.digest(), ECDSA_SHA256)
    cv = _handshake(15, b"\x04\x03" + _u16(signature))
    transcript.update(cv)
    s_finished_key = hkdf_expand_label(s_hs, b"finished", b"", HASH_LEN)
    s_fin = _handshake(20, hmac.digest(s_finished_key, transcript.digest(), "sha256"))
    transcript.update(s_fin)
    th_sf = transcript.digest()
    master = hkdf_extract(derive_secret(hs_secret, b"derived", EMPTY_HASH), bytes(HASH_LEN))
    c_ap = derive_secret(master, b"c ap traffic", th_sf)
    s_ap = derive_secret(master, b"s ap traffic", th_sf)
    exporter = derive_secret(master, b"exp master", th_sf)
    c_finished_key = hkdf_expand_label(c_hs, b"finished", b"", HASH_LEN)
    c_fin = _handshake(20, hmac.digest(c_finished_key, th_sf, "sha256"))

    cr = client_random.hex()
    keylog.append(
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {cr} {c_hs.hex()}\n"
        f"SERVER_HANDSHAKE_TRAFFIC_SECRET {cr} {s_hs.hex()}\n"
        f"CLIENT_TRAFFIC_SECRET_0 {cr} {c_ap.hex()}\n"
        f"SERVER_TRAFFIC_SECRET_0 {cr} {s_ap.hex()}\n"
        f"EXPORTER_SECRET {cr} {exporter.hex()}\n"
    )

    ccs = b"\x14\x03\x03\x00\x01\x01"
    s_hs_seal, c_hs_seal = Sealer(s_hs), Sealer(c_hs)
    s_ap_seal, c_ap_seal = Sealer(s_ap), Sealer(c_ap)

    server_flight = (
        _plain_record(22, 0x0303, sh) + ccs
        + s_hs_seal.seal(22, ee) + s_hs_seal.seal(22, cert)
        + s_hs_seal.seal(22, cv) + s_hs_seal.seal(22, s_fin)
    )
    client_finish = ccs + c_hs_seal.seal(22, c_fin)

    cookie = rng.randbytes(rng.randint(400, 1500)).hex()
    path = f"/objects/{index:06d}?v={rng.getrandbits(32):08x}"
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {sni}\r\nUser-Agent: tlsdoc-bench/1.0\r\n"
        f"Accept: */*\r\nAccept-Encoding: identity\r\nCookie: session={cookie}\r\n\r\n"
    ).encode()

    tickets = b""
    for _ in range(2):
        # lifetime 7200 s, age_add, nonce, ticket, no extensions
        ticket = ((7200).to_bytes(4, "big") + rng.randbytes(4) + _u8(rng.randbytes(8))
                  + _u16(rng.randbytes(rng.randint(160, 220))) + _u16(b""))
        tickets += s_ap_seal.seal(22, _handshake(4, ticket))

    body_len = rng.randint(6000, 22000)
    body = rng.randbytes(body_len)
    response = (
        f"HTTP/1.1 200 OK\r\nServer: tlsdoc-bench\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {body_len}\r\nCache-Control: no-store\r\n\r\n"
    ).encode() + body
    record_size = rng.choice((16384, 4096, 1400))
    response_records = b"".join(
        s_ap_seal.seal(23, response[i : i + record_size]) for i in range(0, len(response), record_size)
    )
    close_notify = b"\x01\x00"

    flights = [
        (C, _plain_record(22, 0x0301, ch), "data"),
        (S, server_flight, "data"),
        (C, client_finish, "data"),
        (C, c_ap_seal.seal(23, request), "data"),
        (S, tickets, "data"),
        (S, response_records, "data"),
        (C, c_ap_seal.seal(21, close_notify), "fin"),
        (S, s_ap_seal.seal(21, close_notify), "fin"),
    ]
    cip, cport = client_for(index)
    info = ConnectionInfo(
        index, f"{cip}:{cport}", f"{server_for(index)}:443", sni, cr, body_len,
        request_line=request.split(b"\r\n", 1)[0].decode(),
        request_sha256=hashlib.sha256(request).hexdigest(),
        response_sha256=hashlib.sha256(response).hexdigest(),
        body_sha256=hashlib.sha256(body).hexdigest(),
        server_records=-(-len(response) // record_size),
    )
    return flights, info


# --------------------------------------------------------------------------
# TCP/IP framing.


def _checksum(data: bytes) -> int:
    """Internet checksum (RFC 1071): the one's-complement sum is the value mod 0xFFFF."""
    if len(data) & 1:
        data += b"\x00"
    r = int.from_bytes(data, "big") % 0xFFFF
    return 0xFFFF - r if r else 0


FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
SYN_OPTIONS = bytes.fromhex("020405b4") + bytes.fromhex("0103030701010402")  # MSS 1460, NOP WS 7, NOP NOP SACK-perm
SYNACK_OPTIONS = bytes.fromhex("020405b4") + bytes.fromhex("0101040201030307")
_ip_head = struct.Struct("!BBHHHBBH4s4s")
_tcp_head = struct.Struct("!HHIIBBHHH")
_rec_head = struct.Struct("<IIII")


class Endpoint:
    __slots__ = ("ip", "port", "mac", "seq", "ipid", "window")

    def __init__(self, ip: bytes, port: int, mac: bytes, seq: int, ipid: int, window: int) -> None:
        self.ip, self.port, self.mac, self.seq, self.ipid, self.window = ip, port, mac, seq, ipid, window


def frame(src: Endpoint, dst: Endpoint, flags: int, payload: bytes, options: bytes = b"") -> bytes:
    """One Ethernet/IPv4/TCP frame from *src* to *dst*, advancing src.seq."""
    tcp_len = 20 + len(options)
    ack = dst.seq if flags & ACK else 0
    tcp = _tcp_head.pack(src.port, dst.port, src.seq, ack, (tcp_len // 4) << 4, flags, src.window, 0, 0) + options
    pseudo = src.ip + dst.ip + b"\x00\x06" + (tcp_len + len(payload)).to_bytes(2, "big")
    csum = _checksum(pseudo + tcp + payload)
    tcp = tcp[:16] + csum.to_bytes(2, "big") + tcp[18:]
    total = 20 + tcp_len + len(payload)
    ip = _ip_head.pack(0x45, 0, total, src.ipid, 0x4000, 64, 6, 0, src.ip, dst.ip)
    ip = ip[:10] + _checksum(ip).to_bytes(2, "big") + ip[12:]
    src.ipid = (src.ipid + 1) & 0xFFFF
    src.seq = (src.seq + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
    return dst.mac + src.mac + b"\x08\x00" + ip + tcp + payload


def connection_frames(index: int, start: float, rng: random.Random, pki: Pki,
                      keylog: list[str], infos: list | None) -> list[tuple[float, bytes]]:
    """All frames of connection *index*, as (time, frame), in time order.

    Times are as seen at a capture point next to the clients: a server
    reply comes one round trip after what caused it.
    """
    flights, info = build_connection(index, rng, pki, keylog)
    if infos is not None:
        infos.append(info)
    cip, cport = client_for(index)
    client = Endpoint(bytes(map(int, cip.split("."))), cport, CLIENT_MAC, rng.getrandbits(32), rng.getrandbits(16), 64240)
    server = Endpoint(bytes(map(int, server_for(index).split("."))), 443, GATEWAY_MAC, rng.getrandbits(32), 0, 65160)
    rtt = rng.uniform(0.008, 0.060)
    wire = 1514 * 8 / 200e6  # 200 Mbit/s link: time per full frame
    ends = (client, server)
    out: list[tuple[float, bytes]] = []
    t = start

    out.append((t, frame(client, server, SYN, b"", SYN_OPTIONS)))  # SYN windows are not scaled
    t += rtt
    out.append((t, frame(server, client, SYN | ACK, b"", SYNACK_OPTIONS)))
    client.window, server.window = 502, 501  # scaled by 128 from now on
    t += 0.00005
    out.append((t, frame(client, server, ACK, b"")))

    unacked = 0  # full segments the client has not acknowledged yet
    for direction, data, kind in flights:
        src, dst = ends[direction], ends[1 - direction]
        if direction == S:
            t += rtt  # the server answers what the client sent
        else:
            t += 0.0002 + rng.expovariate(2000.0)  # client think time
        n = len(data)
        for off in range(0, n, MSS):
            seg = data[off : off + MSS]
            last = off + MSS >= n
            flags = ACK | (PSH if last else 0) | (FIN if last and kind == "fin" else 0)
            out.append((t, frame(src, dst, flags, seg)))
            if direction == S:  # delayed ACK: every second segment, and at the end of a flight
                unacked += 1
                if unacked == 2 or last:
                    unacked = 0
                    out.append((t + 0.00003, frame(client, server, ACK, b"")))
            t += wire
    # the server's FIN acknowledged the client's; the client's last ACK acknowledged the server's
    return out


@dataclass
class Summary:
    connections: int = 0
    frames: int = 0
    bytes: int = 0
    seconds: float = 0.0
    pcap: str = ""
    keylog: str = ""
    infos: list[ConnectionInfo] = field(default_factory=list)
    ca_pem: bytes = b""  # the demo root, for `tlsdoc verify --ca` (not written to disk)


def _merge(connections: int, concurrent: int, rng: random.Random, pki: Pki, keylog: list[str],
           infos: list | None) -> Iterator[tuple[float, bytes]]:
    """Frames of all connections, in time order, about *concurrent* open at once."""
    heap: list = []
    mean_duration = 0.20  # seconds; a connection lasts about 4 RTT plus the transfer
    spacing = mean_duration / max(concurrent, 1)
    start = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    next_index = 0
    while next_index < connections or heap:
        # admit every connection that starts before the earliest pending frame
        while next_index < connections and (not heap or start <= heap[0][0]):
            frames = connection_frames(next_index, start, rng, pki, keylog, infos)
            heapq.heappush(heap, (frames[0][0], next_index, 0, frames))
            next_index += 1
            start += rng.expovariate(1.0 / spacing)
        t, idx, pos, frames = heapq.heappop(heap)
        yield frames[pos]
        pos += 1
        if pos < len(frames):
            heapq.heappush(heap, (frames[pos][0], idx, pos, frames))


def synthesise(pcap_path: str | Path, keylog_path: str | Path, connections: int = DEFAULT_CONNECTIONS,
               *, concurrent: int = DEFAULT_CONCURRENT, seed: int = 1,
               progress: Callable[[Summary], None] | None = None, keep_infos: bool = False) -> Summary:
    """Write the capture and its key log; return what was written."""
    rng = random.Random(seed)
    pki = make_pki(rng)
    began = time.monotonic()
    summary = Summary(pcap=str(pcap_path), keylog=str(keylog_path), ca_pem=pki.root_pem())
    keylog: list[str] = []
    infos = summary.infos if keep_infos else None
    pcap_path, keylog_path = Path(pcap_path), Path(keylog_path)
    pcap_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_pcap = pcap_path.with_name(pcap_path.name + ".part")
    tmp_keys = keylog_path.with_name(keylog_path.name + ".part")
    with open(tmp_pcap, "wb", buffering=1 << 22) as out, open(tmp_keys, "w", buffering=1 << 20) as keys:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # pcap, Ethernet
        written = 24
        frames = 0
        pack = _rec_head.pack
        write = out.write
        last_report = began
        for ts, data in _merge(connections, concurrent, rng, pki, keylog, infos):
            sec = int(ts)
            n = len(data)
            write(pack(sec, int((ts - sec) * 1e6), n, n))
            write(data)
            written += 16 + n
            frames += 1
            if keylog and len(keylog) >= 1024:
                keys.write("".join(keylog))
                keylog.clear()
            if progress is not None and frames & 0x3FFF == 0:
                now = time.monotonic()
                if now - last_report >= 0.5:
                    last_report = now
                    summary.frames, summary.bytes = frames, written
                    summary.seconds = now - began
                    progress(summary)
        keys.write("".join(keylog))
    tmp_pcap.replace(pcap_path)
    tmp_keys.replace(keylog_path)
    summary.connections = connections
    summary.frames = frames
    summary.bytes = written
    summary.seconds = time.monotonic() - began
    return summary


def default_paths(connections: int, directory: Path = DATA_DIR) -> tuple[Path, Path]:
    stem = f"synth{FORMAT}-{connections}"
    return directory / f"{stem}.pcap", directory / f"{stem}.keys"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", "--size", type=int, default=DEFAULT_CONNECTIONS,
                        help=f"number of TLS connections (default {DEFAULT_CONNECTIONS}, about 1 GB)")
    parser.add_argument("--concurrent", type=int, default=DEFAULT_CONCURRENT,
                        help="connections open at once (default %(default)s)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="pcap path (default bench/data/synth-N.pcap)")
    parser.add_argument("--keylog", type=Path, help="key log path (default next to the pcap, .keys)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    pcap, keys = default_paths(args.connections)
    if args.out:
        pcap = args.out
        keys = args.out.with_suffix(".keys")
    if args.keylog:
        keys = args.keylog
    tty = sys.stderr.isatty()

    def report(s: Summary) -> None:
        line = f"synth: {s.frames:,} frames, {s.bytes / 1e6:,.0f} MB, {s.seconds:.0f} s"
        sys.stderr.write(("\r" + line) if tty else line + "\n")
        sys.stderr.flush()

    summary = synthesise(pcap, keys, args.connections, concurrent=args.concurrent, seed=args.seed,
                         progress=None if args.quiet else report)
    if not args.quiet and tty:
        sys.stderr.write("\r\033[K")
    print(f"synth: wrote {summary.pcap} ({summary.bytes / 1e6:,.1f} MB, {summary.frames:,} frames, "
          f"{summary.connections:,} TLS 1.3 connections) and {summary.keylog} in {summary.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
