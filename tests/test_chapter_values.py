"""Every value a chapter shows that Wireshark also shows equals what tshark reports.

The chapters never type a number: they name values with ``{tls}``
references and ``tls-table`` directives, which the build resolves through
tlsdoc's own analysis.  This test resolves the same references and
compares them with tshark (Wireshark's dissector, the independent oracle)
on the same bundled capture, with the capture's key log so that decrypted
messages are visible to both.

How a reference is compared is decided by :data:`RULES`: a regular
expression over the reference's path (and filters), and a function that
reads the expected text from tshark's fields.  A reference no rule
matches is not checked here (a value only tlsdoc computes, such as a
master secret, is checked by the doctests against other tools); the test
asserts that the checked ones are the majority of those with a tshark
field, and prints what it skipped.

Tables are compared cell by cell where tshark has the field: the cipher
suites offered (ids, in order), the extensions of a hello (types and
lengths, in order), the certificates (serial numbers), and the recap
(message names and the frames tshark shows them in).
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import ROOT, require_tool
from tlsdoc.registry import CipherSuite, HandshakeType, NamedGroup, ProtocolVersion, SignatureScheme
from tlsdoc.render import tables
from tlsdoc.sphinxext import _connection, _source, parse_reference, resolve, value_text

DOCS = ROOT / "docs"
CONFIG = type("Config", (), {"tlsdoc_root": str(ROOT), "tlsdoc_captures": "captures",
                             "tlsdoc_ca": "pki/root-ca.pem"})()

FIELDS = [
    "frame.number", "ip.src", "tcp.stream", "tcp.segment",
    "tls.record.length", "tls.record.content_type", "tls.record.opaque_type", "tls.record.version",
    "tls.handshake.type", "tls.handshake.length", "tls.handshake.random", "tls.handshake.ciphersuite",
    "tls.handshake.version", "tls.handshake.extension.type", "tls.handshake.extension.len",
    "tls.handshake.session_id_length", "tls.handshake.session_id", "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_alpn_str", "tls.handshake.comp_method", "tls.handshake.comp_methods_length",
    "tls.handshake.server_named_curve", "tls.handshake.server_point_len", "tls.handshake.sig_hash_alg",
    "tls.handshake.sig_len", "tls.handshake.client_cert_vrfy.sig_len", "tls.handshake.client_point_len",
    "tls.handshake.epms_len",
    "tls.handshake.certificate_length", "x509af.serialNumber",
    "tls.handshake.extensions.supported_version", "tls.handshake.extensions_supported_group",
    "tls.handshake.extensions_key_share_group", "tls.handshake.extensions_key_share_key_exchange_length",
    "tls.handshake.extensions_key_share_selected_group", "tls.extension.psk_ke_mode",
    "tls.handshake.session_ticket_lifetime_hint", "tls.handshake.session_ticket_length",
]


@dataclass(frozen=True)
class Frame:
    number: int
    client: bool
    stream: int
    fields: dict

    def get(self, name: str) -> list[str]:
        return self.fields.get(name, [])


@functools.lru_cache(maxsize=None)
def tshark(source: str, keys: bool = False) -> tuple[Frame, ...]:
    """Every frame of a bundled capture as tshark decodes it; *keys*: with the capture's key log.

    Plaintext messages are read from the run without keys, so that the
    fields of a decrypted message sharing the frame do not mix in.
    """
    found = _source(CONFIG, source)
    argv = [require_tool("tshark"), "-n", "-r", str(found.capture), "-o", "tcp.reassemble_out_of_order:TRUE"]
    if keys and found.keylog is not None:
        argv += ["-o", f"tls.keylog_file:{found.keylog}"]
    argv += ["-T", "json", *(a for f in FIELDS for a in ("-e", f))]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout
    client = _connection(found, 0).tcp.client[0]
    frames = []
    for packet in json.loads(out):
        layers = packet["_source"]["layers"]
        frames.append(Frame(int(layers["frame.number"][0]), layers.get("ip.src", [""])[0] == client,
                            int(layers.get("tcp.stream", ["0"])[0]), layers))
    return tuple(frames)


def _hex(text: str) -> str:
    return re.sub(r"[^0-9a-f]", "", text.lower().removeprefix("0x"))


def _int(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)


def _name(registry, text: str) -> str:
    try:
        return registry(_int(text)).name
    except ValueError:
        return f"0x{_int(text):04x}"


# -- where a reference points: a handshake message or a record ---------------------------------


@dataclass(frozen=True)
class Target:
    """A handshake message or record a reference reads from, and tshark's view of it."""

    kind: str            # "message" or "record"
    client: bool
    frames: tuple[int, ...]
    fields: dict         # tshark's fields of the frame that completes it
    records: tuple = ()  # for records: tshark's (frame, length, type, version) of that side, in order
    index: int = 0


def _message_target(source: str, keys: bool, connection: int, entry) -> Target:
    from tlsdoc.registry import HandshakeType

    kind = 2 if entry.name == "HelloRetryRequest" else int(entry.msg_type)
    client = entry.direction.sender == "client"
    last = entry.frames[-1]
    for frame in tshark(source, keys=keys and entry.encrypted):
        if (frame.number == last and frame.client == client and frame.stream == connection
                and str(kind) in frame.get("tls.handshake.type")):
            # tcp.segment lists the frames of a PDU reassembled in this frame;
            # a frame may also hold other, whole PDUs: use it only for a message
            # spread over several frames.
            segments = tuple(int(f) for f in frame.get("tcp.segment"))
            frames = segments if len(entry.frames) > 1 and segments else (frame.number,)
            return Target("message", client, frames, frame.fields)
    name = HandshakeType(kind).name
    raise AssertionError(f"tshark shows no {name} from the {entry.direction.sender} in frame {last}")


def _records(source: str, connection: int, client: bool) -> tuple:
    return tuple((frame.number, length, None, version)
                 for frame in tshark(source) if frame.client == client and frame.stream == connection
                 for length, version in zip(frame.get("tls.record.length"), frame.get("tls.record.version"),
                                            strict=True))


def locate(reference: str) -> tuple[Target, str] | None:
    """The message or record *reference* reads from, and the rest of its path (with filters)."""
    from tlsdoc import handshake, records, session
    from tlsdoc.sphinxext import _entry_of

    parsed = parse_reference(reference)
    if parsed.source in ("manifest", "http"):
        return None
    steps = parsed.path
    filters = "".join(f"|{n}" + (f":{a}" if a else "") for n, a in parsed.filters)
    connection = _connection(_source(CONFIG, parsed.source), parsed.connection, parsed.keys)
    value = connection
    from tlsdoc.sphinxext import _step

    for n, step in enumerate(steps):
        value = _step(value, step, reference)
        rest = ".".join(steps[n + 1:]) + filters
        entry = _entry_of(connection, value) if type(value).__module__ == "tlsdoc.handshake" else None
        if isinstance(value, handshake.HandshakeEntry) or entry is not None:
            entry = entry or value
            if rest.startswith("message"):  # the entry's .message: same message
                rest = rest.removeprefix("message").lstrip(".")
            if entry.name in ("Finished",) and entry.encrypted and rest.startswith(("verify", "raw")):
                return None
            return _message_target(parsed.source, True, parsed.connection, entry), rest
        if isinstance(value, (records.Record, session.DecryptedRecord)):
            if isinstance(value, records.Record):
                client, index = value.span.direction.sender == "client", value.index
            else:
                side = steps[n - 2]
                client, index = side == "client", value.record
            listed = _records(parsed.source, parsed.connection, client)
            frames = value.span.frames if isinstance(value, records.Record) else value.frames
            return Target("record", client, tuple(frames), {}, listed, index), rest
    return None


# -- what tshark says about the rest of the path -----------------------------------------------

MESSAGE_RULES: list[tuple[str, Callable[[Target, re.Match], str]]] = [
    (r"random\|hex", lambda t, m: t.fields["tls.handshake.random"][0]),
    (r"cipher_suites\|count", lambda t, m: str(len(t.fields["tls.handshake.ciphersuite"]))),
    (r"cipher_suites\|join", lambda t, m: ", ".join(_name(CipherSuite, v)
                                                     for v in t.fields["tls.handshake.ciphersuite"])),
    (r"cipher_suite(\|name)?", lambda t, m: _name(CipherSuite, t.fields["tls.handshake.ciphersuite"][0])),
    (r"cipher_suite\|hex", lambda t, m: t.fields["tls.handshake.ciphersuite"][0]),
    (r"extensions\|count", lambda t, m: str(len(t.fields.get("tls.handshake.extension.type", [])))),
    (r"extensions\.(?P<n>\d+)\.type(\|name)?", lambda t, m: _name(
        __import__("tlsdoc.registry", fromlist=["ExtensionType"]).ExtensionType,
        t.fields["tls.handshake.extension.type"][int(m["n"])])),
    (r"legacy_version\.label", lambda t, m: ProtocolVersion(_int(t.fields["tls.handshake.version"][0])).label),
    (r"legacy_version\|hex", lambda t, m: t.fields["tls.handshake.version"][0]),
    (r"legacy_session_id(_echo)?\|count", lambda t, m: t.fields["tls.handshake.session_id_length"][0]),
    (r"legacy_session_id(_echo)?\|hex", lambda t, m: t.fields["tls.handshake.session_id"][0]),
    (r"legacy_compression_methods\|count", lambda t, m: t.fields["tls.handshake.comp_methods_length"][0]),
    (r"legacy_compression_method", lambda t, m: t.fields["tls.handshake.comp_method"][0]),
    (r"(span\.)?frames\.(?P<n>-?\d+)", lambda t, m: str(t.frames[int(m["n"])])),
    (r"(span\.)?frames\|join", lambda t, m: ", ".join(str(f) for f in t.frames)),
    (r"(span\.)?frames\|count", lambda t, m: str(len(t.frames))),
    (r"certificate_list\|count", lambda t, m: str(len(t.fields["tls.handshake.certificate_length"]))),
    (r"certificate_list\.(?P<n>\d+)\.cert_data\|count",
     lambda t, m: t.fields["tls.handshake.certificate_length"][int(m["n"])]),
    (r"params\.named_curve(\|name)?", lambda t, m: _name(NamedGroup, t.fields["tls.handshake.server_named_curve"][0])),
    (r"params\.public\|count", lambda t, m: t.fields["tls.handshake.server_point_len"][0]),
    (r"(signature_algorithm|algorithm)(\|name)?",
     lambda t, m: _name(SignatureScheme, t.fields["tls.handshake.sig_hash_alg"][-1])),
    (r"signature\|count", lambda t, m: (t.fields.get("tls.handshake.sig_len")
                                        or t.fields["tls.handshake.client_cert_vrfy.sig_len"])[-1]),
    (r"ecdh_Yc\|count", lambda t, m: t.fields["tls.handshake.client_point_len"][0]),
    (r"encrypted_pre_master_secret\|count", lambda t, m: t.fields["tls.handshake.epms_len"][0]),
    (r"ticket_lifetime", lambda t, m: t.fields["tls.handshake.session_ticket_lifetime_hint"][0]),
    (r"ticket\|count", lambda t, m: t.fields["tls.handshake.session_ticket_length"][0]),
    (r"extensions\.\d+\.client_shares\.(?P<n>\d+)\.group(\|name)?",
     lambda t, m: _name(NamedGroup, t.fields["tls.handshake.extensions_key_share_group"][int(m["n"])])),
    (r"extensions\.\d+\.client_shares\.(?P<n>\d+)\.key_exchange\|count",
     lambda t, m: t.fields["tls.handshake.extensions_key_share_key_exchange_length"][int(m["n"])]),
    (r"extensions\.\d+\.selected_group(\|name)?",
     lambda t, m: _name(NamedGroup, t.fields["tls.handshake.extensions_key_share_selected_group"][0])),
    (r"extensions\.\d+\.named_group_list\|count",
     lambda t, m: str(len(t.fields["tls.handshake.extensions_supported_group"]))),
]

RECORD_RULES: list[tuple[str, Callable[[Target, re.Match], str]]] = [
    (r"length", lambda t, m: t.records[t.index][1]),
    (r"legacy_version\.label", lambda t, m: ProtocolVersion(_int(t.records[t.index][3])).label),
    (r"(span\.)?frames\.-1", lambda t, m: str(t.records[t.index][0])),
    (r"(span\.)?frames\.(?P<n>\d+)", lambda t, m: str(t.frames[int(m["n"])])
     if t.frames[-1] == t.records[t.index][0] else str(t.records[t.index][0])),
    (r"(span\.)?frames\|join", lambda t, m: ", ".join(str(f) for f in t.frames)
     if t.frames[-1] == t.records[t.index][0] else str(t.records[t.index][0])),
]

# A value whose path matches this names something tshark shows: a rule must check it.
NEEDS_RULE = re.compile(
    r"random|cipher_suite|legacy_version|session_id|compression|named_curve|signature_algorithm|"
    r"certificate_list|ecdh_Yc|encrypted_pre_master_secret|^length$"
)


def _rule(reference: str):
    found = locate(reference)
    if found is None:
        return None
    target, rest = found
    for pattern, rule in (MESSAGE_RULES if target.kind == "message" else RECORD_RULES):
        match = re.fullmatch(pattern, rest)
        if match:
            return target, rule, match, rest
    return None


_ROLE = re.compile(r"\{tls\}`([^`]*)`")
_TABLE = re.compile(r"^`{3,}\{tls-table\}[ \t]+(\S+)", re.M)


def chapter_references() -> list[tuple[str, str]]:
    """(file, reference) of every ``{tls}`` role in the chapters."""
    found = []
    for md in sorted(DOCS.rglob("*.md")):
        for ref in _ROLE.findall(md.read_text(encoding="utf-8")):
            found.append((str(md.relative_to(ROOT)), ref))
    return found


REFERENCES = sorted({ref for _md, ref in chapter_references()})
_RULES = {ref: _rule(ref) for ref in REFERENCES}
CHECKED = [ref for ref in REFERENCES if _RULES[ref] is not None]


@pytest.mark.parametrize("reference", CHECKED)
def test_value_equals_tshark(reference):
    target, rule, match, _rest = _RULES[reference]
    expected = rule(target, match)
    shown = value_text(CONFIG, reference)[0]
    if reference.endswith("|hex"):
        assert _hex(shown) == _hex(expected), reference
    else:
        assert shown == str(expected), reference


def test_every_value_tshark_knows_has_a_rule():
    missing = []
    for ref in REFERENCES:
        found = locate(ref)
        if found is not None and _RULES[ref] is None and NEEDS_RULE.search(found[1]):
            missing.append(ref)
    assert not missing, f"add a rule for: {missing}"


def test_the_tls_chapters_are_checked():
    sources = {parse_reference(ref).source for ref in CHECKED}
    chapters = {p.stem for p in DOCS.glob("*.md")}
    if "tls12-rsa" in chapters:
        assert {"tls12-rsa"} <= sources
    if "tls12-ecdhe" in chapters:
        assert {"tls12-ecdhe"} <= sources
    print(f"\n{len(CHECKED)} of {len(REFERENCES)} chapter values checked against tshark")
    assert len(CHECKED) >= 20


# -- tables -------------------------------------------------------------------------------------


def _tables() -> list[str]:
    refs = []
    for md in sorted(DOCS.rglob("*.md")):
        refs.extend(_TABLE.findall(md.read_text(encoding="utf-8")))
    return sorted(set(refs))


TABLES = [ref for ref in _tables() if parse_reference(ref).source not in ("manifest", "http")]


def _table_check(reference: str) -> None:
    from tlsdoc import handshake

    parsed = parse_reference(reference)
    value, _ = resolve(CONFIG, parsed)
    if isinstance(value, handshake.HandshakeEntry):
        value = value.message
    if parsed.path[-1:] == ("cipher_suites",):
        target = locate(reference.rsplit(".", 1)[0])[0]
        table = tables.cipher_suites_table(value)
        assert [row[2] for row in table.rows] == target.fields["tls.handshake.ciphersuite"], reference
    elif parsed.path[-1:] == ("extensions",):
        target = locate(reference.rsplit(".", 1)[0])[0]
        table = tables.extensions_table(value)
        assert [row[1] for row in table.rows] == target.fields["tls.handshake.extension.type"], reference
        assert [row[2] for row in table.rows] == target.fields["tls.handshake.extension.len"], reference
    elif isinstance(value, handshake.Certificate):
        target = locate(reference)[0]
        table = tables.certificates_table(value.certificate_list)
        serials = dict((row[0], row[1:]) for row in table.rows)["serial number"]
        expected = target.fields["x509af.serialNumber"]
        assert [int(_hex(s), 16) for s in serials] == [int(_hex(s), 16) for s in expected], reference
    elif parsed.path in ((), ("tls",)):
        connection = _connection(_source(CONFIG, parsed.source), parsed.connection, parsed.keys)
        table = tables.recap_table(connection)
        frames = tshark(parsed.source, keys=parsed.keys != "none")
        for name, sender, shown, _what, _enc in table.rows:
            last = int(shown.split(", ")[-1])
            frame = next(f for f in frames if f.number == last)
            assert frame.client == (sender == "client"), (reference, name)
            if name == "ChangeCipherSpec":
                assert "20" in frame.get("tls.record.content_type"), (reference, name, last)
            else:
                kind = 2 if name == "HelloRetryRequest" else int(getattr(HandshakeType, _SNAKE[name]))
                assert str(kind) in frame.get("tls.handshake.type"), (reference, name, last)
    # other tables (records, TCP, checks) are checked elsewhere or have no tshark field


_SNAKE = {
    "ClientHello": "client_hello", "ServerHello": "server_hello", "Certificate": "certificate",
    "ServerKeyExchange": "server_key_exchange", "ServerHelloDone": "server_hello_done",
    "ClientKeyExchange": "client_key_exchange", "Finished": "finished",
    "NewSessionTicket": "new_session_ticket", "EncryptedExtensions": "encrypted_extensions",
    "CertificateVerify": "certificate_verify",
}


@pytest.mark.parametrize("reference", TABLES)
def test_table_cells_equal_tshark(reference):
    _table_check(reference)
