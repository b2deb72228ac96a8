"""Tables: analysis values in, rows of strings out.

Consumes parsed values (a TCP :class:`~tlsdoc.tcp.Handshake`, TCP options,
the captures' :class:`~tlsdoc.manifest.Manifest`, key-schedule
:class:`~tlsdoc.keyschedule.Step` traces, annotated-bytes
:class:`~tlsdoc.render.hexdump.Piece` s) and produces a :class:`Table`: a
header row and body rows of plain strings.  The Sphinx extension turns a
table into a docutils table (HTML and PDF); :meth:`Table.text` lays it out
in monospace for terminals and tests.

Every builder reads its arguments by attribute only, so tests can pass
hand-made values.  Wording of the "meaning" columns lives here, next to
the numbers it explains; the numbers always come from the values given.

Never imports sphinx or docutils.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from tlsdoc.capture import TcpFlags, TcpOption
from tlsdoc.render.hexdump import (
    Piece,
    flag_names,
    option_length,
    option_meaning,
    option_name,
    preview,
)

__all__ = [
    "Table",
    "handshake_table",
    "options_table",
    "captures_table",
    "steps_table",
    "pieces_table",
    "KEYLOG_LABELS",
    "short_hex",
    "keylog_lines",
    "keylog_table",
    "records_table",
    "extensions_table",
    "suite_parts",
    "cipher_suites_table",
    "certificates_table",
    "breakable_hex",
    "checks_table",
    "recap_table",
]


@dataclass(frozen=True, slots=True)
class Table:
    """A header row and body rows, all strings; ``widths`` are relative column widths."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} has {len(row)} cells, expected {len(self.columns)}")
        if self.widths and len(self.widths) != len(self.columns):
            raise ValueError("one width per column")

    def text(self) -> str:
        """The table in monospace: columns padded, a rule under the header.

        >>> print(Table(("a", "bb"), (("1", "2"), ("333", "4"))).text())
        a    bb
        ───  ──
        1    2
        333  4
        """
        sizes = [
            max(len(cell) for cell in column)
            for column in zip(self.columns, *self.rows)
        ]
        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, sizes)).rstrip()
        out = [line(self.columns), line(["─" * w for w in sizes])]
        out.extend(line(row) for row in self.rows)
        return "\n".join(out)


def options_table(options: Iterable[TcpOption]) -> Table:
    """One row per TCP option: kind, length in bytes, value, meaning.

    >>> from tlsdoc.capture import TcpOptionKind
    >>> options_table([TcpOption(TcpOptionKind.WINDOW_SCALE, 7)]).rows[0][:3]
    ('WINDOW_SCALE', '3', '3')
    """
    rows = tuple(
        (option_name(o), str(int(o.kind)), str(option_length(o)), option_meaning(o))
        for o in options
    )
    return Table(("option", "kind", "length", "meaning"), rows, (2, 1, 1, 6))


def _packet_options(packet) -> str:
    parts = []
    if packet.mss is not None:
        parts.append(f"MSS {packet.mss}")
    if packet.sack_permitted:
        parts.append("SACK permitted")
    if packet.timestamps is not None:
        parts.append("timestamps")
    if packet.window_scale is not None:
        parts.append(f"window scale {packet.window_scale}")
    return ", ".join(parts) or "—"


def _number(raw: int | None, relative: int | None) -> str:
    if raw is None:
        return "—"
    return f"{relative} ({raw})" if relative is not None else str(raw)


def handshake_table(handshake) -> Table:
    """The three packets of a TCP handshake, one row each.

    Sequence and acknowledgement numbers are shown relative (as Wireshark
    shows them by default) with the raw 32-bit value in brackets; times are
    milliseconds after the SYN.
    """
    rows = []
    start = handshake.syn.time_ns if handshake.syn is not None else None
    for name, packet in (("SYN", handshake.syn), ("SYN-ACK", handshake.syn_ack), ("ACK", handshake.ack)):
        if packet is None:
            rows.append((name, "not captured", "", "", "", "", "", ""))
            continue
        if start is not None and packet.time_ns is not None:
            time = f"{(packet.time_ns - start) / 1e6:.3f}"
        else:
            time = "—"
        ack = (
            _number(packet.ack, packet.relative_ack)
            if packet.flags & TcpFlags.ACK
            else "— (no ACK flag)"
        )
        rows.append(
            (
                name,
                str(packet.frame),
                time,
                flag_names(packet.flags),
                _number(packet.seq, packet.relative_seq),
                ack,
                str(packet.window),
                _packet_options(packet),
            )
        )
    return Table(
        ("packet", "frame", "ms after SYN", "flags", "seq (raw)", "ack (raw)", "window", "options"),
        tuple(rows),
        (2, 1, 2, 2, 3, 3, 1, 4),
    )


def captures_table(manifest) -> Table:
    """The bundled captures: file, what it demonstrates, frames, key files."""
    rows = []
    for entry in manifest.captures():
        claims = entry.claims
        keys = [k for k in (claims.keylog, claims.rsa_key) if k]
        rows.append(
            (
                entry.path,
                entry.description,
                str(claims.frames),
                ", ".join(keys) or "—",
            )
        )
    return Table(("capture", "what it shows", "frames", "decrypts with"), tuple(rows), (3, 8, 1, 3))


def _input_value(value) -> str:
    if isinstance(value, bytes):
        if value and all(0x20 <= b < 0x7F for b in value):
            return f'"{value.decode("ascii")}"'
        return preview(value) if value else "(empty)"
    return str(value)


def steps_table(steps) -> Table:
    """A derivation chain, one step per row: ``output = op(inputs)``.

    Byte inputs are shortened in the middle; labels (printable ASCII) are
    shown as text, the way the RFCs write them.
    """
    rows = tuple(
        (
            step.name,
            step.op,
            "\n".join(f"{name} = {_input_value(value)}" for name, value in step.inputs),
            preview(step.output),
        )
        for step in steps
    )
    return Table(("derived", "operation", "inputs", "output"), rows, (3, 3, 6, 4))


def pieces_table(pieces: Iterable[Piece]) -> Table:
    """The legend of an annotated dump: offsets, bytes, field and meaning of each labelled piece."""
    rows = tuple(
        (
            f"{p.start}" if p.length == 1 else f"{p.start}–{p.end - 1}",
            p.hex,
            p.label or "",
            p.meaning,
        )
        for p in pieces
        if p.label is not None
    )
    return Table(("bytes", "hex", "field", "meaning"), rows, (1, 3, 3, 5))


# -- key logs ------------------------------------------------------------------------------

#: What each key log label gives: the secret's name in the RFC, then what it is for.
KEYLOG_LABELS = {
    "CLIENT_RANDOM": "TLS 1.2 master_secret: every key of the connection, with the PRF "
                     "(RFC 5246 §8.1)",
    "RSA": "TLS 1.2 pre_master_secret, looked up by the first 8 bytes of the encrypted "
           "premaster in the ClientKeyExchange (RSA key exchange only)",
    "CLIENT_EARLY_TRAFFIC_SECRET": "client_early_traffic_secret: the client's 0-RTT data",
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET": "client_handshake_traffic_secret: the client's "
                                       "encrypted handshake messages (its Finished)",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET": "server_handshake_traffic_secret: EncryptedExtensions "
                                       "up to the server's Finished",
    "CLIENT_TRAFFIC_SECRET_0": "client_application_traffic_secret_0: the client's "
                               "application data",
    "SERVER_TRAFFIC_SECRET_0": "server_application_traffic_secret_0: the server's "
                               "application data and tickets",
    "EARLY_EXPORTER_SECRET": "early_exporter_master_secret: decrypts nothing; for exporters "
                             "(RFC 8446 §7.5)",
    "EXPORTER_SECRET": "exporter_master_secret: decrypts nothing; for exporters "
                       "(RFC 8446 §7.5)",
}


def short_hex(data: bytes, shown: int = 4) -> str:
    """The first *shown* bytes as the key log writes them (hex, no spaces), then ``…``.

    >>> short_hex(bytes(range(32)))
    '00010203…'
    >>> short_hex(bytes([1, 2]))
    '0102'
    """
    return data.hex() if len(data) <= shown else data[:shown].hex() + "…"


def keylog_lines(entries, *, shown: int = 4) -> str:
    """A key log's lines as the file has them, each hex field cut to its first *shown* bytes.

    *entries* are :class:`tlsdoc.keylog.KeyLogEntry` values (``label``,
    ``key``, ``secret``), in file order.  Labels are padded to one column.
    """
    entries = tuple(entries)
    width = max((len(e.label) for e in entries), default=0)
    return "\n".join(f"{e.label:<{width}} {short_hex(e.key, shown)} {short_hex(e.secret, shown)}"
                     for e in entries)


def keylog_table(entries, keys=None, *, shown: int = 4) -> Table:
    """One row per key log line: line, label, what it is looked up by, the secret, what it is.

    *keys* maps a line's ``key`` (a client random, or for ``RSA`` the first
    8 bytes of the encrypted premaster) to where it appears in the capture
    (``"ClientHello of connection #0, frame 4"``); a key not in it is shown
    as found nowhere.  Each hex value is cut to its first *shown* bytes,
    with its length.
    """
    keys = keys or {}
    rows = []
    for e in entries:
        looked_up = "encrypted premaster" if e.label == "RSA" else "client random"
        where = keys.get(e.key, "not in this capture")
        rows.append((
            str(e.line),
            e.label,
            f"{short_hex(e.key, shown)} ({len(e.key)} bytes), the {looked_up}: {where}",
            f"{short_hex(e.secret, shown)} ({len(e.secret)} bytes)",
            KEYLOG_LABELS.get(e.label, "a label tlsdoc does not use"),
        ))
    return Table(("line", "label", "looked up by", "secret", "what it is"), tuple(rows),
                 (1, 5, 5, 3, 6))


def _label(value) -> str:
    label = getattr(value, "label", None) or getattr(value, "name", None)
    return label if label else str(int(value))


def records_table(records) -> Table:
    """One direction's TLS records, one row each: index, frames, type, version, length.

    *records* are :class:`tlsdoc.records.Record` values (anything with
    ``index``, ``content_type``, ``legacy_version``, ``length`` and
    ``span.frames``).
    """
    rows = tuple(
        (
            str(r.index),
            ", ".join(str(f) for f in r.span.frames) or "—",
            _label(r.content_type),
            _label(r.legacy_version),
            str(r.length),
        )
        for r in records
    )
    return Table(("record", "frames", "content type", "version", "length"), rows, (1, 2, 3, 2, 1))


# -- TLS -------------------------------------------------------------------------------


def extensions_table(extensions) -> Table:
    """The extensions of a hello (or EncryptedExtensions), in the order sent.

    One row each: the IANA name, the type number, the length of its
    content, what it says here and what it is for.
    """
    from tlsdoc.render.messages import EXTENSION_PURPOSE, extension_meaning, extension_name

    rows = []
    for extension in extensions:
        name = extension_name(extension)
        span = extension.span
        length = span.end - span.start - 4
        rows.append((name, f"{int(extension.type)}", str(length), extension_meaning(extension),
                     EXTENSION_PURPOSE.get(name, "")))
    return Table(("extension", "type", "length", "what it says here", "what it is for"),
                 tuple(rows), (4, 1, 1, 5, 5))


_KX_WORDS = {
    "RSA": "RSA: premaster encrypted to the server's key",
    "ECDHE": "ECDHE: ephemeral elliptic curve",
    "DHE": "DHE: ephemeral finite field",
    "ECDH": "ECDH: static elliptic curve",
    "DH": "DH: static finite field",
    "PSK": "PSK: pre-shared key",
}


def suite_parts(suite) -> tuple[str, str, str, str]:
    """(key exchange, authentication, cipher, hash) of a cipher suite, read off its IANA name.

    TLS 1.2 names are ``TLS_<kx>_<auth>_WITH_<cipher>_<hash>`` (RFC 5246
    App. A.5); TLS 1.3 names carry only the cipher and the hash
    (RFC 8446 §B.4), key exchange and authentication being negotiated
    separately.

    >>> from tlsdoc.registry import CipherSuite
    >>> suite_parts(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)[1:]
    ('RSA signature', 'AES-128-GCM', 'SHA256 (PRF)')
    """
    from tlsdoc.suites import suite_params

    name = getattr(suite, "name", None)
    if name is None:
        number = int(suite)
        grease = (number & 0x0F0F) == 0x0A0A and (number >> 8) == (number & 0xFF)
        what = "GREASE: a random value servers must ignore" if grease else "unassigned"
        return (what, "", "", "")
    if name.endswith("_SCSV"):
        return ("signalling value, not a suite", "", "", "")
    params = suite_params(suite)
    if "_WITH_" not in name:
        body = name[len("TLS_"):]
        cipher, _, digest = body.rpartition("_")
        return ("TLS 1.3: key_share", "TLS 1.3: CertificateVerify", cipher.replace("_", "-"),
                f"{digest} (HKDF)")
    kx_auth, cipher_hash = name[len("TLS_"):].split("_WITH_", 1)
    parts = kx_auth.split("_")
    kx = parts[0]
    auth = "_".join(parts[1:]) or kx
    kx_text = _KX_WORDS.get(kx, kx)
    if kx == "RSA" and auth == "RSA":
        auth_text = "RSA (decrypting)"
    elif auth == "anon":
        auth_text = "none (anonymous)"
    elif auth == "PSK":
        auth_text = "the pre-shared key"
    else:
        auth_text = f"{auth} signature"
    tokens = cipher_hash.split("_")
    if params is not None and params.mac is not None:
        cipher = "-".join(tokens[:-1])
        mac = "SHA1" if tokens[-1] == "SHA" else tokens[-1]
        digest = f"HMAC-{mac} (MAC), {params.prf_hash.upper()} (PRF)"
    elif tokens[-1].startswith("SHA"):
        cipher = "-".join(tokens[:-1])
        digest = f"{tokens[-1]} (PRF)"
    else:
        cipher = cipher_hash.replace("_", "-")
        digest = "SHA256 (PRF)"
    return (kx_text, auth_text, cipher, digest)


def cipher_suites_table(suites, chosen=None) -> Table:
    """The cipher suites offered, in the client's order, each split into its parts.

    *chosen*: the suite the server picked, marked in the first column.
    """
    rows = []
    for number, suite in enumerate(suites, 1):
        kx, auth, cipher, digest = suite_parts(suite)
        name = getattr(suite, "name", None) or f"0x{int(suite):04x}"
        mark = f"{number} ✓" if chosen is not None and int(suite) == int(chosen) else str(number)
        rows.append((mark, name, f"0x{int(suite):04x}", kx, auth, cipher, digest))
    return Table(("#", "IANA name", "id", "key exchange", "authentication", "cipher", "hash"),
                 tuple(rows), (2, 10, 4, 5, 4, 5, 4))


def _name(name) -> str:
    from cryptography.x509.oid import NameOID

    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _even_hex(number: int) -> str:
    """A serial number as hex pairs, as Wireshark and OpenSSL print it (spaces let it wrap)."""
    digits = f"{number:x}"
    digits = digits.zfill(len(digits) + len(digits) % 2)
    return " ".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def certificates_table(certificate_list) -> Table:
    """The certificates of a Certificate message, one column each, one row per property.

    Read with ``cryptography.x509``: subject and issuer (common name, then
    the whole name), serial number, validity, public key, signature
    algorithm, subject alternative names, whether it is a CA, DER length.
    """
    from cryptography import x509

    from tlsdoc.render.messages import key_description

    certs = []
    for entry in certificate_list:
        der = getattr(entry, "cert_data", entry)
        certs.append((x509.load_der_x509_certificate(der), len(der)))

    def san(cert) -> str:
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        except x509.ExtensionNotFound:
            return "—"
        return ", ".join(str(n.value) for n in ext.value)

    def ca(cert) -> str:
        try:
            ext = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        except x509.ExtensionNotFound:
            return "not said"
        return "yes" if ext.value.ca else "no"

    def when(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")

    rows = [
        ("subject", [_name(c.subject) for c, _ in certs]),
        ("issuer", [_name(c.issuer) for c, _ in certs]),
        ("serial number", [_even_hex(c.serial_number) for c, _ in certs]),
        ("valid from", [when(c.not_valid_before_utc) for c, _ in certs]),
        ("valid until", [when(c.not_valid_after_utc) for c, _ in certs]),
        ("public key", [key_description(c) for c, _ in certs]),
        ("signature", [getattr(c.signature_algorithm_oid, "_name", c.signature_algorithm_oid.dotted_string)
                       for c, _ in certs]),
        ("names (SAN)", [san(c) for c, _ in certs]),
        ("CA", [ca(c) for c, _ in certs]),
        ("DER length", [f"{n} bytes" for _, n in certs]),
    ]
    columns = ("", *[f"certificate {i}" + (" (the server's)" if i == 0 else "")
                     for i in range(len(certs))])
    return Table(columns, tuple((label, *values) for label, values in rows),
                 (2, *([5] * len(certs))))


_MARK = {"passed": "✓ passed", "failed": "✗ failed", "not possible": "– not possible"}


_LONG_HEX = re.compile(r"\b[0-9a-f]{17,}\b")


def breakable_hex(text: str, group: int = 8) -> str:
    """Long hex runs in *text* split into groups of *group* digits, so a line may break between them.

    A 64-digit verify_data is one word: too wide for a table column in the
    PDF, where LaTeX cannot break it.  Nothing is left out.

    >>> breakable_hex("verify_data 00112233445566778899aabbccddeeff ok")
    'verify_data 00112233 44556677 8899aabb ccddeeff ok'
    >>> breakable_hex("short 0011223344556677")
    'short 0011223344556677'
    """
    return _LONG_HEX.sub(
        lambda m: " ".join(m[0][i : i + group] for i in range(0, len(m[0]), group)), text)


def checks_table(results) -> Table:
    """Check results (:class:`tlsdoc.checks.CheckResult`): name, outcome, why.

    Long hex values in the detail (a Finished's verify_data) are split
    into groups of 8 digits (:func:`breakable_hex`), so they wrap.
    """
    rows = tuple((r.name, _MARK.get(str(r.status), str(r.status)), breakable_hex(r.detail))
                 for r in results)
    return Table(("check", "result", "detail"), rows, (2, 2, 7))


def _carries(entry, tls) -> str:
    """What one handshake message carries, in a few words, from its decoded value."""
    from tlsdoc.render.messages import code_name, extension_name

    m = entry.message
    name = entry.name
    if m is None:
        return "unknown: encrypted, no keys"
    if name == "ClientHello":
        return (f"{len(m.cipher_suites)} cipher suites, a random, "
                f"{len(m.extensions)} extensions")
    if name in ("ServerHello", "HelloRetryRequest"):
        version = getattr(tls.version, "label", None) or "?"
        suite = getattr(m.cipher_suite, "name", None) or code_name(m.cipher_suite)
        return f"the choice: {version}, {suite}; a random"
    if name == "Certificate":
        from tlsdoc.render.messages import certificate_summary

        subjects = [certificate_summary(e.cert_data).split(",")[0] for e in m.certificate_list]
        return f"{len(subjects)} certificates: " + ", ".join(subjects)
    if name == "ServerKeyExchange":
        params = m.params
        curve = getattr(getattr(params, "named_curve", None), "name", None)
        key = f"an ephemeral {curve} public key" if curve else "key exchange parameters"
        signed = getattr(m.signature_algorithm, "name", None)
        return key + (f", signed ({signed})" if signed else "")
    if name == "ServerHelloDone":
        return "nothing: the server's flight is over"
    if name == "ClientKeyExchange":
        if m.encrypted_pre_master_secret is not None:
            return f"the premaster, encrypted to the server's RSA key ({len(m.encrypted_pre_master_secret)} bytes)"
        if m.ecdh_Yc is not None:
            return f"the client's ephemeral public key ({len(m.ecdh_Yc)} bytes)"
        return "key exchange data"
    if name == "Finished":
        return f"verify_data ({len(m.verify_data)} bytes) over the transcript"
    if name == "NewSessionTicket":
        return f"a session ticket ({len(m.ticket)} bytes) for resumption"
    if name == "EncryptedExtensions":
        return ", ".join(extension_name(e) for e in m.extensions) or "no extensions"
    if name == "CertificateVerify":
        return f"a signature ({getattr(m.algorithm, 'name', m.algorithm)}) over the transcript"
    return name


def recap_table(connection) -> Table:
    """Every handshake message (and ChangeCipherSpec) of a connection, in the order sent.

    *connection* is a :class:`tlsdoc.analysis.ConnectionAnalysis`; rows
    are ordered by first frame (client first within a frame): message,
    sender, frames, what it carries, whether it travelled encrypted.
    """
    from tlsdoc.wire import Direction

    tls = connection.tls
    events = []
    for direction in Direction:
        for entry in tls.messages(direction):
            if entry.encrypted:
                crypt = "yes (decrypted)" if entry.message is not None else "yes"
            else:
                crypt = "no"
            events.append((entry.frames[0] if entry.frames else 0, entry.span.start, direction,
                           entry.name, entry.frames, _carries(entry, tls), crypt))
        stream = connection.records[direction].records if connection.records else ()
        tls13 = tls.version is not None and int(tls.version) >= 0x0304
        for index in tls.ccs(direction):
            record = stream[index]
            what = ("a dummy, for middlebox compatibility (RFC 8446 §D.4)" if tls13
                    else "from here on, this side encrypts")
            events.append((record.span.frames[0], record.span.start, direction, "ChangeCipherSpec",
                           record.span.frames, what, "no"))
    events.sort(key=lambda e: (e[0], e[2] is not Direction.CLIENT_TO_SERVER, e[1]))
    rows = tuple((name, direction.sender, ", ".join(str(f) for f in frames), what, crypt)
                 for _frame, _start, direction, name, frames, what, crypt in events)
    return Table(("message", "from", "frames", "what it carries", "encrypted"), rows, (5, 2, 2, 8, 3))
