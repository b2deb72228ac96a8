"""Encrypted records taken apart: wrapped, how the nonce and AAD are built, unwrapped.

Consumes one encrypted record as it lies in the stream (header and
fragment), its decoded :class:`~tlsdoc.records.Record` and the
:class:`~tlsdoc.decrypt.Plaintext` the decryption stage produced for it
(which keeps its working: nonce and AAD parts, the fragment's parts, the
plaintext's parts).  Produces, in the illustrated-tls13 order:

1. :func:`wrapped_fields`: the record on the wire: header, then the
   fragment's parts (TLS 1.2 GCM: explicit nonce / ciphertext / tag;
   TLS 1.3: encrypted record / tag), checked to add up to the fragment;
2. :func:`protection_table`: the calculation: each part of the nonce, the
   nonce and the rule that built it, each part of the additional data
   (AAD) and the AAD;
3. :func:`plaintext_fields`: the decrypted bytes: the content (what it is:
   a handshake message, an alert, the first line of an HTTP request), the
   TLS 1.3 inner content type and padding;
4. :func:`http_fields`: decrypted application data that is an HTTP/1.x
   message, line by line: start line, each header, the empty line, body.

Never imports sphinx or docutils.
"""

from __future__ import annotations

from tlsdoc.render.hexdump import Field, hex_bytes, record_fields
from tlsdoc.render.tables import Table

__all__ = ["wrapped_fields", "protection_table", "plaintext_fields", "content_meaning", "http_fields"]

_FRAGMENT_MEANING = {
    "nonce_explicit": "sent in the clear: the per-record part of the nonce",
    "explicit IV": "sent in the clear: this record's CBC IV",
    "ciphertext": "the encrypted content",
    "encrypted_record": "the encrypted content, inner content type and padding",
    "tag": "authentication tag: any change to the header, nonce or ciphertext makes decryption fail",
    "mac": "the record's MAC",
}


def wrapped_fields(data: bytes, record, plaintext, *, elide: int = 16) -> tuple[Field, ...]:
    """Label an encrypted record: the 5-byte header (checked), then each part of the fragment.

    Raises:
        ValueError: the header disagrees with *record*, or the parts do not
            add up to the fragment.
    """
    fields = list(record_fields(data, record, fragment=False))
    position = 5
    for name, value in plaintext.fragment_parts:
        if not value:
            continue
        if data[position : position + len(value)] != value:
            raise ValueError(f"the record's {name} is not where the decryption found it")
        meaning = _FRAGMENT_MEANING.get(name, "")
        if name == "nonce_explicit" and int.from_bytes(value, "big") == plaintext.seq:
            meaning += f"; here it equals the sequence number, {plaintext.seq}"
        fields.append(Field(position, position + len(value), name,
                            f"{len(value)} bytes: {meaning}" if meaning else f"{len(value)} bytes",
                            elide if len(value) > elide else None, group="fragment"))
        position += len(value)
    if position != len(data):
        raise ValueError(f"the fragment's parts cover {position - 5} of its {len(data) - 5} bytes")
    return tuple(fields)


_PART_MEANING = {
    "salt (write_IV)": "the implicit part, from the key block (write IV)",
    "nonce_explicit": "the explicit part, sent in the record",
    "write_iv": "derived from the traffic secret",
    "seq_num": "the record's sequence number: counted by both sides, never sent",
    "type": "the content type",
    "opaque_type": "the record header's content type (always application_data)",
    "version": "the record header's version",
    "legacy_record_version": "the record header's version",
    "length": "the plaintext's length",
}


def protection_table(plaintext, *, tls13: bool) -> Table:
    """How the nonce and the additional data of one record were built, one row per part.

    *tls13*: the AAD is the record header itself (RFC 8446 §5.2), so its
    length is the ciphertext's; in TLS 1.2 (RFC 5246 §6.2.3.3) it is the
    plaintext's, with the sequence number in front.
    """
    rows = []
    for name, value in plaintext.nonce_parts:
        meaning = _PART_MEANING.get(name, "")
        if name == "padded seq_num":
            meaning = f"sequence number {plaintext.seq}, left-padded with zeros to the IV's length"
        rows.append(("nonce", name, meaning, hex_bytes(value)))
    rows.append(("nonce", "= nonce", plaintext.nonce_rule, hex_bytes(plaintext.nonce)))
    for name, value in plaintext.aad_parts:
        meaning = _PART_MEANING.get(name, "")
        if name == "length" and tls13:
            meaning = "the record header's length (of the encrypted record)"
        if name == "seq_num":
            meaning = f"sequence number {plaintext.seq}: counted by both sides, never sent"
        rows.append(("additional data", name, meaning, hex_bytes(value)))
    rule = ("the record header, RFC 8446 §5.2" if tls13
            else "seq_num ‖ type ‖ version ‖ length, RFC 5246 §6.2.3.3")
    rows.append(("additional data", "= AAD", f"{rule}: authenticated, not encrypted",
                 hex_bytes(plaintext.aad)))
    return Table(("input", "part", "where it comes from", "bytes"), tuple(rows), (2, 2, 5, 5))


def content_meaning(content_type: int, content: bytes) -> str:
    """What a decrypted content is, in words: the messages, the alert, the text's first line."""
    from tlsdoc.registry import AlertDescription, AlertLevel, ContentType, HandshakeType, lookup

    kind = lookup(ContentType, content_type)
    if kind == ContentType.handshake:
        names = []
        position = 0
        while position + 4 <= len(content):
            msg_type = lookup(HandshakeType, content[position])
            names.append(getattr(msg_type, "name", f"type {content[position]}"))
            position += 4 + int.from_bytes(content[position + 1 : position + 4], "big")
        return "handshake: " + ", ".join(names) if names else "handshake (a fragment)"
    if kind == ContentType.alert and len(content) == 2:
        level = lookup(AlertLevel, content[0])
        description = lookup(AlertDescription, content[1])
        return (f"alert: {getattr(level, 'name', content[0])} "
                f"{getattr(description, 'name', content[1])}")
    if kind == ContentType.application_data:
        line = content.split(b"\r\n", 1)[0][:60]
        if line and all(0x20 <= b < 0x7F for b in line):
            return f"application data, {len(content)} bytes, starting “{line.decode('ascii')}”"
        return f"application data, {len(content)} bytes"
    return f"{getattr(kind, 'name', content_type)}, {len(content)} bytes"


def plaintext_fields(plaintext, *, elide: int = 16) -> tuple[bytes, tuple[Field, ...]]:
    """The decrypted bytes (content, TLS 1.3 inner type and padding, CBC MAC …) and their labels."""
    from tlsdoc.registry import ContentType, lookup

    data = b"".join(value for _name, value in plaintext.plaintext_parts)
    fields = []
    position = 0
    for name, value in plaintext.plaintext_parts:
        if not value:
            continue
        if name == "content":
            meaning = content_meaning(plaintext.content_type, value)
        elif name == "type":
            kind = lookup(ContentType, value[0])
            meaning = f"the real content type: {getattr(kind, 'name', value[0])} ({value[0]})"
        elif name == "zeros":
            meaning = f"{len(value)} bytes of padding (hides the real length)"
        else:
            meaning = f"{len(value)} bytes"
        fields.append(Field(position, position + len(value), name, meaning,
                            elide if len(value) > elide else None, group=name))
        position += len(value)
    return data, tuple(fields)


_CRLF = b"\r\n"


def _quoted(line: bytes) -> str:
    text = line.decode("ascii", "backslashreplace")
    return f"“{text}”, then CR LF" if text else "CR LF"


def http_fields(content: bytes, *, elide: int = 16) -> tuple[Field, ...]:
    """An HTTP/1.x message's head line by line, then its body, as labelled fields.

    Each line keeps its CR LF; its meaning quotes the text, so the reader
    can match the hex to the characters.  The request line is split into
    method, target and version.  The body, if any, is shortened to
    *elide* bytes.  This only splits lines: parsing HTTP is
    :mod:`tlsdoc.http`'s job.

    Raises:
        ValueError: *content* does not start with a printable HTTP/1.x head
            ended by an empty line.

    >>> fields = http_fields(b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n")
    >>> [(f.start, f.end, f.label) for f in fields]
    [(0, 16, 'request line'), (16, 25, 'header Host'), (25, 27, 'empty line')]
    >>> fields[0].meaning
    '“GET / HTTP/1.1”, then CR LF: method GET, target /, version HTTP/1.1'
    """
    end = content.find(_CRLF + _CRLF)
    head = content[: end + 2] if end >= 0 else b""
    if end < 0 or not all(0x20 <= b < 0x7F or b in (0x09, 0x0D, 0x0A) for b in head):
        raise ValueError("not an HTTP/1.x message (no printable head ended by an empty line)")
    fields = []
    position = 0
    for number, line in enumerate(head.split(_CRLF)[:-1]):
        stop = position + len(line) + 2
        parts = line.decode("ascii").split(" ")
        if number == 0:
            if line.startswith(b"HTTP/"):
                label, meaning = "status line", _quoted(line) + (
                    f": version {parts[0]}, status {parts[1]}, reason “{' '.join(parts[2:])}”"
                    if len(parts) >= 2 else "")
            else:
                label, meaning = "request line", _quoted(line) + (
                    f": method {parts[0]}, target {parts[1]}, version {parts[2]}"
                    if len(parts) == 3 else "")
        else:
            name = line.split(b":", 1)[0].decode("ascii").strip()
            label, meaning = f"header {name}", _quoted(line)
        fields.append(Field(position, stop, label, meaning, group=label))
        position = stop
    fields.append(Field(position, position + 2, "empty line",
                        "CR LF: the end of the header section", group="empty line"))
    position += 2
    if position < len(content):
        body = len(content) - position
        fields.append(Field(position, len(content), "body", f"{body} bytes",
                            elide if body > elide else None, group="body"))
    return tuple(fields)
