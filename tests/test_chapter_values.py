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
    "frame.number", "ip.src", "tls.record.length", "tls.record.content_type", "tls.record.version",
    "tls.handshake.type", "tls.handshake.length", "tls.handshake.random", "tls.handshake.ciphersuite",
    "tls.handshake.version", "tls.handshake.extension.type", "tls.handshake.extension.len",
    "tls.handshake.session_id_length", "tls.handshake.session_id", "tls.handshake.extensions_server_name",
    "tls.handshake.extensions_alpn_str", "tls.handshake.comp_method", "tls.handshake.comp_methods_length",
    "tls.handshake.cipher_suites_length", "tls.handshake.extensions_length",
    "tls.handshake.server_named_curve", "tls.handshake.server_point_len", "tls.handshake.sig_hash_alg",
    "tls.handshake.sig_len", "tls.handshake.client_point_len", "tls.handshake.epms_len",
    "tls.handshake.certificates_length", "tls.handshake.certificate_length", "x509af.serialNumber",
    "tls.handshake.extensions.supported_version", "tcp.segment",
]


@dataclass(frozen=True)
class Frame:
    number: int
    client: bool
    fields: dict

    def get(self, name: str) -> list[str]:
        return self.fields.get(name, [])


@functools.lru_cache(maxsize=None)
def tshark(source: str) -> tuple[Frame, ...]:
    """Every frame of a bundled capture as tshark decodes it, with the capture's key log."""
    found = _source(CONFIG, source)
    argv = [require_tool("tshark"), "-n", "-r", str(found.capture), "-o", "tcp.reassemble_out_of_order:TRUE"]
    if found.keylog is not None:
        argv += ["-o", f"tls.keylog_file:{found.keylog}"]
    argv += ["-T", "json", *(a for f in FIELDS for a in ("-e", f))]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120).stdout
    client = _connection(found, 0).tcp.client[0]
    frames = []
    for packet in json.loads(out):
        layers = packet["_source"]["layers"]
        frames.append(Frame(int(layers["frame.number"][0]), layers.get("ip.src", [""])[0] == client, layers))
    return tuple(frames)


def _messages(source: str, client: bool) -> list[tuple[int, int, dict]]:
    """(handshake type, frame, that frame's fields) of every handshake message one side sent, in order."""
    out = []
    for frame in tshark(source):
        if frame.client == client:
            for kind in frame.get("tls.handshake.type"):
                out.append((int(kind), frame.number, frame.fields))
    return out


def _message(source: str, name: str, client: bool | None = None, nth: int = 0) -> tuple[int, dict]:
    """(frame, fields) where tshark shows the *nth* message called *name* (CamelCase)."""
    kind = int(getattr(HandshakeType, _SNAKE[name]))
    sides = [client] if client is not None else [True, False]
    for side in sides:
        found = [(f, fields) for k, f, fields in _messages(source, side) if k == kind]
        if len(found) > nth:
            return found[nth]
    raise AssertionError(f"tshark shows no {name} in {source}")


_SNAKE = {
    "ClientHello": "client_hello", "ServerHello": "server_hello", "Certificate": "certificate",
    "ServerKeyExchange": "server_key_exchange", "ServerHelloDone": "server_hello_done",
    "ClientKeyExchange": "client_key_exchange", "Finished": "finished",
    "NewSessionTicket": "new_session_ticket", "EncryptedExtensions": "encrypted_extensions",
    "CertificateVerify": "certificate_verify",
}


def _hex(text: str) -> str:
    return re.sub(r"[^0-9a-f]", "", text.lower().removeprefix("0x"))


def _int(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text)


# -- rules: path pattern → expected text from tshark -------------------------------------------

# Each rule gets (source, match, reference) and returns what the chapter's
# text must be (or a predicate for values that are not plain strings).
Rule = Callable[[str, re.Match, str], str]

_HELLO = r"tls\.(?:(?P<which>client|server)_hello|(?P<msg>client|server)_messages\.(?:ClientHello|ServerHello))"


def _hello_fields(source: str, m: re.Match) -> dict:
    side = m["which"] or m["msg"]
    return _message(source, "ClientHello" if side == "client" else "ServerHello")[1]


def _random(source, m, ref):
    side = m["which"]
    fields = _message(source, "ClientHello" if side == "client" else "ServerHello")[1]
    return fields["tls.handshake.random"][0]


def _suite_name(value: str) -> str:
    number = _int(value)
    try:
        return CipherSuite(number).name
    except ValueError:
        return f"0x{number:04x}"


def _version_label(value: str) -> str:
    return ProtocolVersion(_int(value)).label


def _frame_of(source: str, side: str | None, name: str, position: str, reference: str) -> str:
    """The frame(s) a message came in: tshark shows a reassembled message in its last
    frame and lists every frame that carried it in ``tcp.segment``."""
    client = None if side is None else side == "client"
    frame, fields = _message(source, name, client)
    frames = [int(f) for f in fields.get("tcp.segment", [])] or [frame]
    return str(frames[int(position)])


RULES: list[tuple[str, Rule]] = [
    (r"tls\.client_random\|hex", lambda s, m, r: _message(s, "ClientHello")[1]["tls.handshake.random"][0]),
    (r"tls\.server_random\|hex", lambda s, m, r: _message(s, "ServerHello")[1]["tls.handshake.random"][0]),
    (r"tls\.(?P<which>client|server)_hello\.random\|hex", _random),
    (r"tls\.(?:cipher_suite|server_hello\.cipher_suite)(?:\|name)?",
     lambda s, m, r: _suite_name(_message(s, "ServerHello")[1]["tls.handshake.ciphersuite"][0])),
    (r"tls\.(?:cipher_suite|server_hello\.cipher_suite)\|hex",
     lambda s, m, r: _message(s, "ServerHello")[1]["tls.handshake.ciphersuite"][0]),
    (r"tls\.client_hello\.cipher_suites\|count",
     lambda s, m, r: str(len(_message(s, "ClientHello")[1]["tls.handshake.ciphersuite"]))),
    (_HELLO + r"\.extensions\|count",
     lambda s, m, r: str(len(_hello_fields(s, m).get("tls.handshake.extension.type", [])))),
    (_HELLO + r"\.legacy_version\.label",
     lambda s, m, r: _version_label(_hello_fields(s, m)["tls.handshake.version"][0])),
    (_HELLO + r"\.legacy_version\|hex", lambda s, m, r: _hello_fields(s, m)["tls.handshake.version"][0]),
    (r"tls\.version\.label", lambda s, m, r: _version_label(
        (_message(s, "ServerHello")[1].get("tls.handshake.extensions.supported_version")
         or _message(s, "ServerHello")[1]["tls.handshake.version"])[0])),
    (r"tls\.sni", lambda s, m, r: _message(s, "ClientHello")[1]["tls.handshake.extensions_server_name"][0]),
    (r"tls\.alpn", lambda s, m, r: _message(s, "ServerHello")[1]["tls.handshake.extensions_alpn_str"][0]),
    (r"tls\.client_hello\.legacy_session_id\|count",
     lambda s, m, r: _message(s, "ClientHello")[1]["tls.handshake.session_id_length"][0]),
    (r"tls\.server_hello\.legacy_session_id_echo\|count",
     lambda s, m, r: _message(s, "ServerHello")[1]["tls.handshake.session_id_length"][0]),
    (r"tls\.server_hello\.legacy_session_id_echo\|hex",
     lambda s, m, r: _message(s, "ServerHello")[1]["tls.handshake.session_id"][0]),
    (r"tls\.client_hello\.legacy_compression_methods\|count",
     lambda s, m, r: _message(s, "ClientHello")[1]["tls.handshake.comp_methods_length"][0]),
    (r"tls\.server_hello\.legacy_compression_method",
     lambda s, m, r: _message(s, "ServerHello")[1]["tls.handshake.comp_method"][0]),
    (r"tls\.(?P<side>client|server)_(?:hello|messages\.(?P<name>\w+))\.(?:span\.)?frames\.(?P<pos>-?\d+)",
     lambda s, m, r: _frame_of(s, m["side"], m["name"] or ("ClientHello" if m["side"] == "client"
                                                           else "ServerHello"), m["pos"], r)),
    (r"tls\.server_messages\.Certificate\.message\.certificate_list\|count",
     lambda s, m, r: str(len(_message(s, "Certificate")[1]["tls.handshake.certificate_length"]))),
    (r"tls\.server_messages\.Certificate\.message\.certificate_list\.(?P<n>\d+)\.cert_data\|count",
     lambda s, m, r: _message(s, "Certificate")[1]["tls.handshake.certificate_length"][int(m["n"])]),
    (r"tls\.server_messages\.ServerKeyExchange\.message\.params\.named_curve(?:\|name)?",
     lambda s, m, r: NamedGroup(_int(_message(s, "ServerKeyExchange")[1]
                                     ["tls.handshake.server_named_curve"][0])).name),
    (r"tls\.server_messages\.ServerKeyExchange\.message\.params\.public\|count",
     lambda s, m, r: _message(s, "ServerKeyExchange")[1]["tls.handshake.server_point_len"][0]),
    (r"tls\.server_messages\.ServerKeyExchange\.message\.signature_algorithm(?:\|name)?",
     lambda s, m, r: SignatureScheme(_int(_message(s, "ServerKeyExchange", False)[1]
                                          ["tls.handshake.sig_hash_alg"][-1])).name),
    (r"tls\.server_messages\.ServerKeyExchange\.message\.signature\|count",
     lambda s, m, r: _message(s, "ServerKeyExchange")[1]["tls.handshake.sig_len"][0]),
    (r"tls\.client_messages\.ClientKeyExchange\.message\.ecdh_Yc\|count",
     lambda s, m, r: _message(s, "ClientKeyExchange")[1]["tls.handshake.client_point_len"][0]),
    (r"tls\.client_messages\.ClientKeyExchange\.message\.encrypted_pre_master_secret\|count",
     lambda s, m, r: _message(s, "ClientKeyExchange")[1]["tls.handshake.epms_len"][0]),
    (r"records\.(?P<side>client|server)\.records\.(?P<n>\d+)\.length",
     lambda s, m, r: [length for f in tshark(s) if f.client == (m["side"] == "client")
                      for length in f.get("tls.record.length")][int(m["n"])]),
    (r"records\.(?P<side>client|server)\.records\.(?P<n>\d+)\.span\.frames\.-1",
     lambda s, m, r: str([f.number for f in tshark(s) if f.client == (m["side"] == "client")
                          for _ in f.get("tls.record.length")][int(m["n"])])),
]

# Paths tshark has a field for but no rule covers yet would show up here:
# the test fails when one appears, so a new kind of value gets a rule.
NEEDS_RULE = re.compile(
    r"random|cipher_suite|legacy_version|\.sni\b|\.alpn\b|session_id|compression|"
    r"named_curve|signature_algorithm|certificate_list|ecdh_Yc|encrypted_pre_master_secret|"
    r"records\.(client|server)\.records\.\d+\.length"
)

_ROLE = re.compile(r"\{tls\}`([^`]*)`")
_TABLE = re.compile(r"^`{3,}\{tls-table\}[ \t]+(\S+)", re.M)


def chapter_references() -> list[tuple[str, str]]:
    """(file, reference) of every ``{tls}`` role in the chapters."""
    found = []
    for md in sorted(DOCS.rglob("*.md")):
        for ref in _ROLE.findall(md.read_text(encoding="utf-8")):
            found.append((str(md.relative_to(ROOT)), ref))
    return found


def _rule(reference: str) -> tuple[Rule, re.Match] | None:
    parsed = parse_reference(reference)
    if parsed.source in ("manifest", "http"):
        return None
    path = reference.split(":", 1)[1]
    for pattern, rule in RULES:
        match = re.fullmatch(pattern, path)
        if match:
            return rule, match
    return None


REFERENCES = sorted({ref for _md, ref in chapter_references()})
CHECKED = [ref for ref in REFERENCES if _rule(ref) is not None]


@pytest.mark.parametrize("reference", CHECKED)
def test_value_equals_tshark(reference):
    rule, match = _rule(reference)
    source = parse_reference(reference).source
    expected = rule(source, match, reference)
    shown = value_text(CONFIG, reference)[0]
    if reference.endswith("|hex"):
        assert _hex(shown) == _hex(expected), reference
    else:
        assert shown == str(expected), reference


def test_every_value_tshark_knows_has_a_rule():
    missing = [ref for ref in REFERENCES
               if _rule(ref) is None and parse_reference(ref).source not in ("manifest", "http")
               and NEEDS_RULE.search(ref.split(":", 1)[1])]
    assert not missing, f"add a rule to RULES for: {missing}"


def test_the_tls_chapters_are_checked():
    sources = {parse_reference(ref).source for ref in CHECKED}
    chapters = {p.stem for p in DOCS.glob("*.md")}
    if "tls12-rsa" in chapters:
        assert {"tls12-rsa"} <= sources
    if "tls12-ecdhe" in chapters:
        assert {"tls12-ecdhe"} <= sources
    print(f"\n{len(CHECKED)} of {len(REFERENCES)} chapter values checked against tshark")


# -- tables -------------------------------------------------------------------------------------


def _tables() -> list[str]:
    refs = []
    for md in sorted(DOCS.rglob("*.md")):
        refs.extend(_TABLE.findall(md.read_text(encoding="utf-8")))
    return sorted(set(refs))


TABLES = [ref for ref in _tables() if parse_reference(ref).source not in ("manifest", "http")]


def _table_check(reference: str) -> None:
    parsed = parse_reference(reference)
    source = parsed.source
    path = reference.split(":", 1)[1]
    if re.fullmatch(r"tls\.client_hello\.cipher_suites", path):
        value, _ = resolve(CONFIG, parsed)
        table = tables.cipher_suites_table(value)
        expected = _message(source, "ClientHello")[1]["tls.handshake.ciphersuite"]
        assert [row[2] for row in table.rows] == expected, reference
    elif m := re.fullmatch(_HELLO + r"\.extensions", path):
        value, _ = resolve(CONFIG, parsed)
        table = tables.extensions_table(value)
        fields = _hello_fields(source, m)
        assert [row[1] for row in table.rows] == fields["tls.handshake.extension.type"], reference
        assert [row[2] for row in table.rows] == fields["tls.handshake.extension.len"], reference
    elif re.fullmatch(r"tls\.server_messages\.Certificate(\.message)?", path):
        value, _ = resolve(CONFIG, parsed)
        message = getattr(value, "message", value)
        table = tables.certificates_table(message.certificate_list)
        serials = dict((row[0], row[1:]) for row in table.rows)["serial number"]
        expected = _message(source, "Certificate")[1]["x509af.serialNumber"]
        assert [int(_hex(s), 16) for s in serials] == [int(_hex(s), 16) for s in expected], reference
    elif path in ("", "tls"):
        connection = _connection(_source(CONFIG, source), parsed.connection, parsed.keys)
        table = tables.recap_table(connection)
        for name, sender, frames, _what, _enc in table.rows:
            if name == "ChangeCipherSpec":
                shown = {f.number for f in tshark(source) if f.client == (sender == "client")
                         and "20" in f.get("tls.record.content_type")}
                assert int(frames.split(", ")[-1]) in shown, (reference, name)
                continue
            kind = str(int(getattr(HandshakeType, _SNAKE[name])))
            shown = {f.number for f in tshark(source) if f.client == (sender == "client")
                     and kind in f.get("tls.handshake.type")}
            assert int(frames.split(", ")[-1]) in shown, (reference, name, frames, shown)
    # other tables (records, TCP, checks) are checked elsewhere or have no tshark field


@pytest.mark.parametrize("reference", TABLES)
def test_table_cells_equal_tshark(reference):
    _table_check(reference)
