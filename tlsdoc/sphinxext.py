"""The Sphinx extension: chapters say what to show, the build computes it.

Consumes the captures listed in ``captures/MANIFEST`` (analysed with
:func:`tlsdoc.analysis.analyze`, once per capture per process) and produces
docutils nodes: text, tables, literal blocks and figures, never raw HTML,
so the HTML and the LaTeX (PDF) builders both work.  The renderers in
:mod:`tlsdoc.render` do the layout; this module only turns their neutral
values into nodes.

What a chapter can write
========================

References
----------
Every role and directive names what it shows with a *reference*::

    SOURCE[#N][@ROUTE]:PATH|FILTER|FILTER:ARG

``SOURCE``
    a capture's scenario name from the manifest (``tls13``, ``tls12-rsa``,
    …), meaning its first TCP connection, or ``tls13#1`` for another one
    (a :class:`tlsdoc.analysis.ConnectionAnalysis`); or ``manifest`` for
    the manifest itself (its settings such as ``one_way_delay_ms``, and
    each capture's entry under its scenario name).
``@ROUTE``
    which keys decrypt the connection (:data:`KEY_ROUTES`): ``@keylog``
    (the default: the capture's key log), ``@key`` (only the demo server's
    RSA private key: the RSA key exchange route, and what that key cannot
    do for ECDHE), ``@none`` (no keys).  Every route checks the server's
    chain against the demo root CA (``tlsdoc_ca``), so ``checks`` are
    complete.
``PATH``
    dot-separated steps from there: attribute names (``tcp.handshake.syn``),
    integer indexes into tuples (``tcp.client.1``, ``-1`` for the last),
    keys of mappings (an enum key matches its ``value`` or ``name``, so
    ``records.client`` works), and names in a tuple of named things
    (``tls.server_messages.Certificate``: the first handshake entry of that
    name; ``checks.chain``, ``checks.client_Finished``: spaces as ``_``).  A step cannot start with ``_`` and methods
    are refused: a path reads public values, it never calls code.  An empty path is
    the source itself (``manifest:``).
``FILTER``
    applied left to right, see :data:`FILTERS` (``hex``, ``count``, ``ms``,
    ``flags``, ``pow2``, ``endpoint``, ``name``, ``join``).

Examples: ``tls13:tcp.handshake.syn.seq``, ``tls13:tcp.handshake.rtt_ns|ms``,
``tls13:tcp.handshake.syn_ack.flags|flags``, ``manifest:tls13.claims.cipher_suite``,
``tls12-rsa@key:keys.pre_master.client_version|hex``, ``tls12-rsa:checks.chain.status``.

Role and directives
-------------------
``{tls}`REF```
    one value, inline.
``tls-bytes REF``
    annotated bytes of a TCP header (a SYN, SYN-ACK or ACK of the
    handshake), of a TLS record (header, then the fragment shortened), or
    of a handshake message field by field (a decoded message such as
    ``tls.client_hello`` or an entry such as ``tls.server_messages.Certificate``:
    its record header when it has a record of its own, the handshake header,
    then every field and extension, see :mod:`tlsdoc.render.messages`;
    a decrypted message is shown as decrypted), or of decrypted
    application data that is HTTP/1.x (a record such as
    ``decryption.client.records.1``: the start line, each header, the
    empty line, the body shortened).  ``:fields: random
    cipher_suites extensions.server_name`` shows only those groups (the
    rest shortened and unlabelled).  Coloured groups with hover
    explanations in HTML, and a table of every field (all builders); the
    bytes are checked against the decoded values.
``tls-record REF``
    an encrypted record taken apart (``records.client.records.3``,
    ``decryption.server.records.0`` or an encrypted entry such as
    ``tls.client_messages.Finished``): the wrapped record (header /
    explicit nonce / ciphertext / tag, or TLS 1.3's encrypted record /
    tag), a table of how the nonce and the additional data were built,
    and the plaintext with its inner content type; ``:show: wrapped nonce
    plaintext`` picks the parts, so prose can go between them.
``tls-table REF``
    a table; which one follows from the value: a TCP handshake, TCP
    options, one direction's TLS records (``records.server``), the
    manifest (the bundled captures), a hello's extensions
    (``tls.client_hello.extensions``: name, type, length, what it says,
    what it is for), the cipher suites offered
    (``tls.client_hello.cipher_suites``: IANA name, id, key exchange,
    authentication, cipher, hash; the chosen one marked), a Certificate
    message (``tls.server_messages.Certificate``: each certificate's
    subject, issuer, serial, validity, key, signature, names, decoded with
    ``cryptography.x509``), check results (``checks``, ``checks.chain``),
    and a whole TLS connection (``tls12-rsa:``): the recap, one row per
    handshake message and ChangeCipherSpec in the order sent, with sender,
    frames, what it carries and whether it was encrypted.
``tls-check SOURCE``
    the chain check run again at build time with other inputs:
    ``:ca: PATH`` (another trust anchor, relative to the repository
    root), ``:at: capture|after-validity|before-validity``,
    ``:server-name: NAME``, ``:chain: leaf-only`` (as if the server had
    not sent its intermediate); a one-row result table whose caption
    names the inputs.
``tls-ladder SOURCE``
    a ladder diagram of a connection as an SVG figure; ``:frames: 1-3``
    limits it to some frames; ``:round-trips:`` also brackets each round
    trip of the TLS handshake (client flight to the server's answer), with
    its time; ``:compact:`` draws it narrower (one message per line, no
    detail lines), for two ladders side by side in a ``tlsdoc-pair``
    container (``{container} tlsdoc-pair`` around two ladders: side by side
    in HTML on a wide enough screen, one above the other in the PDF).
``tls-steps REF``
    a derivation chain: the :class:`~tlsdoc.keyschedule.Step` values of a
    trace, or of anything with a ``trace`` (``tls13:keys``), one per row:
    what is derived, by which operation, from which inputs, and the output.
``tls-run``
    a ``tlsdoc`` command line, run in-process at build time, shown with
    its real output.
``tls-filter SOURCE``
    a Wireshark display filter for the *In Wireshark* sections, as a
    copyable literal, and the frames it selects in that capture:
    ``:filter: tls.handshake.type == 1``, ``:frames: REF…`` (references
    to frame numbers), ``:keylog: yes`` / ``:key: yes`` when it needs the
    key log / the server's RSA key, ``:prefs: http.desegment_body:FALSE``
    for other Wireshark preferences it needs (tshark's ``-o NAME:VALUE``,
    told to the reader as the setting to change); ``tests/test_filters.py``
    checks each one with tshark, with those preferences.
``tls-keylog SOURCE``
    the capture's key log, read from the file at build time: its lines
    (each hex field cut to its first 4 bytes), then a table explaining
    each line: the label, the client random (or encrypted premaster) it is
    looked up by and where that is in the capture, the secret's length,
    and what the secret is for; ``:show: lines`` or ``:show: table`` for one
    part only.
``tls-cli-help``
    the help of every ``tlsdoc`` command, from :func:`tlsdoc.cli.build_parser`.
``tls-api MODULE…`` (in ``eval-rst``)
    autodoc for those modules; ``*`` for every module not listed yet.

Failures
--------
A reference that does not resolve, a capture that fails to analyse, a
command that exits non-zero: each becomes a Sphinx warning located at the
chapter and line (type ``tlsdoc``), so ``-W`` fails the build and names the
page.  Any other exception is a bug and keeps its traceback.

Dependencies
------------
A page that shows a capture depends on the capture, its key log, the
manifest and the modules of the ``tlsdoc`` package (``env.note_dependency``),
so changing one of them rebuilds exactly the pages that use it, and editing
one chapter rebuilds only that chapter.

Configuration
-------------
``tlsdoc_root`` (default: the directory of ``conf.py``) is where
``tls-run`` commands run, as a reader at the repository root would type
them; ``tlsdoc_captures`` (default ``captures``, relative to it) is where
``MANIFEST`` and the captures are.

``sphinx`` and ``docutils`` are imported here and nowhere else in tlsdoc.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import importlib
import io
import re
import shlex
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective, SphinxRole

import tlsdoc
from tlsdoc import analysis, capture, manifest
from tlsdoc.errors import TlsdocError
from tlsdoc.render import hexdump, jsondoc, ladder, tables

__all__ = ["DocumentError", "Reference", "FILTERS", "parse_reference", "resolve", "setup"]

logger = logging.getLogger(__name__)

_PACKAGE = Path(tlsdoc.__file__).resolve().parent


class DocumentError(TlsdocError):
    """A chapter asks for something that is not there (bad reference, unknown capture)."""


# ---------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------

_REFERENCE = re.compile(
    r"""^(?P<source>[A-Za-z0-9][A-Za-z0-9_.-]*?)(?:\#(?P<index>\d+))?(?:@(?P<keys>[a-z]+))?
        :(?P<path>[^|]*)
        (?P<filters>(?:\|[^|]+)*)$""",
    re.VERBOSE,
)
_STEP = re.compile(r"^(?:-?\d+|[A-Za-z][A-Za-z0-9_]*)$")


@dataclass(frozen=True, slots=True)
class Reference:
    """A parsed ``SOURCE[#N]:PATH|FILTER…`` reference."""

    source: str
    connection: int
    path: tuple[str, ...]
    filters: tuple[tuple[str, str | None], ...]
    text: str
    keys: str = "keylog"


def parse_reference(text: str) -> Reference:
    """Parse a reference; see the module docstring for the grammar.

    >>> parse_reference("tls13#1:tcp.client.1|endpoint").path
    ('tcp', 'client', '1')

    Raises:
        DocumentError: the text is not a reference, or names an unknown filter.
    """
    match = _REFERENCE.match(text.strip())
    if match is None:
        raise DocumentError(
            f"{text!r} is not a reference: expected SOURCE[#N]:PATH[|FILTER…], "
            "e.g. tls13:tcp.handshake.syn.seq"
        )
    path = tuple(step for step in match["path"].strip().split(".") if step)
    for step in path:
        if not _STEP.match(step):
            raise DocumentError(f"{text!r}: {step!r} is not a path step (a name or an integer)")
    filters = []
    for item in match["filters"].split("|")[1:]:
        name, _, arg = item.partition(":")
        name = name.strip()
        if name not in FILTERS:
            raise DocumentError(
                f"{text!r}: unknown filter {name!r} (known: {', '.join(sorted(FILTERS))})"
            )
        filters.append((name, arg or None))
    source = match["source"]
    if source == "manifest" and (match["index"] is not None or match["keys"] is not None):
        raise DocumentError(f"{text!r}: the manifest has no connections")
    keys = match["keys"] or "keylog"
    if keys not in KEY_ROUTES:
        raise DocumentError(f"{text!r}: unknown key route @{keys} (known: "
                            + ", ".join(f"@{k}" for k in KEY_ROUTES) + ")")
    return Reference(source, int(match["index"] or 0), path, tuple(filters), text.strip(), keys)


def _step(value: Any, step: str, where: str) -> Any:
    """One path step: an index, a mapping key, a manifest name or an attribute."""
    if re.fullmatch(r"-?\d+", step):
        if isinstance(value, (tuple, list)):
            try:
                return value[int(step)]
            except IndexError:
                raise DocumentError(
                    f"{where}: index {step} is out of range ({len(value)} items)"
                ) from None
        raise DocumentError(f"{where}: cannot index a {type(value).__name__} with {step}")
    if isinstance(value, tuple) and value and all(
            isinstance(getattr(item, "name", None), str) for item in value):
        # A list of named things (handshake entries, checks): the first one
        # with that name (spaces spelled as _: checks.client_Finished).
        for item in value:
            if item.name.replace(" ", "_") == step:
                return item
        names = ", ".join(dict.fromkeys(item.name for item in value))
        raise DocumentError(f"{where}: no {step!r} here (there are: {names})")
    if isinstance(value, manifest.Manifest):
        if step in value.settings:
            return value.settings[step]
        for entry in value.captures():
            if entry.claims is not None and entry.claims.scenario == step:
                return entry
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == step or getattr(key, "value", None) == step or getattr(key, "name", None) == step:
                return item
    try:
        result = getattr(value, step)
    except AttributeError:
        public = sorted(
            n for n in dir(value) if not n.startswith("_") and not callable(getattr(value, n, None))
        )
        raise DocumentError(
            f"{where}: a {type(value).__name__} has no {step!r}"
            + (f" (it has: {', '.join(public)})" if public else "")
        ) from None
    if callable(result) and not isinstance(result, type):
        raise DocumentError(f"{where}: {step!r} is a method; a reference only reads values")
    return result


# -- filters ---------------------------------------------------------------------


def _hex(value: Any, arg: str | None) -> str:
    if isinstance(value, (bytes, bytearray)):
        return hexdump.hex_bytes(bytes(value))
    if isinstance(value, int):
        digits = max(2, len(f"{value:x}") + len(f"{value:x}") % 2)
        return f"0x{value:0{int(arg) if arg else digits}x}"
    raise DocumentError(f"hex: expected bytes or an integer, got a {type(value).__name__}")


def _count(value: Any, arg: str | None) -> int:
    try:
        return len(value)
    except TypeError:
        raise DocumentError(f"count: a {type(value).__name__} has no length") from None


def _ms(value: Any, arg: str | None) -> str:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise DocumentError(f"ms: expected nanoseconds, got a {type(value).__name__}")
    digits = int(arg) if arg else 3
    return f"{value / 1e6:.{digits}f} ms"


def _flags(value: Any, arg: str | None) -> str:
    if not isinstance(value, int):
        raise DocumentError(f"flags: expected TCP flags (an integer), got a {type(value).__name__}")
    return hexdump.flag_names(value)


def _pow2(value: Any, arg: str | None) -> int:
    if not isinstance(value, int) or value < 0:
        raise DocumentError(f"pow2: expected a shift count, got {value!r}")
    return 1 << value


def _endpoint(value: Any, arg: str | None) -> str:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return jsondoc.endpoint(value)
    raise DocumentError(f"endpoint: expected (address, port), got {value!r}")


def _name(value: Any, arg: str | None) -> str:
    name = getattr(value, "name", None)
    if not isinstance(name, str):
        raise DocumentError(f"name: a {type(value).__name__} has no name")
    return name


def _join(value: Any, arg: str | None) -> str:
    if not isinstance(value, (tuple, list)):
        raise DocumentError(f"join: expected a sequence, got a {type(value).__name__}")
    return (arg if arg is not None else ", ").join(_format(item) for item in value)


#: The filters a reference may apply, by name; each is ``function(value, argument)``.
FILTERS: dict[str, Callable[[Any, str | None], Any]] = {
    "hex": _hex,  # bytes → "16 03 01"; int → "0x2711c1a4" (hex:N pads to N digits)
    "count": _count,  # len(value)
    "ms": _ms,  # nanoseconds → "50.510 ms" (ms:1 → one decimal)
    "flags": _flags,  # TCP flags → "SYN, ACK", as Wireshark's Info column
    "pow2": _pow2,  # window scale shift → multiplier
    "endpoint": _endpoint,  # (address, port) → "192.0.2.10:55812"
    "name": _name,  # an enum member → its name
    "join": _join,  # a sequence → "a, b, c" (join:SEP for another separator)
}


def _format(value: Any) -> str:
    """How a final value reads in prose."""
    if value is None:
        raise DocumentError("the value is None (not captured or not known)")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (bytes, bytearray)):
        raise DocumentError("the value is bytes: say how to show it, e.g. |hex or |count")
    if isinstance(value, str):
        return str(value)  # a str enum (a check's status) reads as its value
    name = getattr(value, "name", None)
    if isinstance(name, str) and hasattr(type(value), "__members__"):
        return name
    return str(value)


# ---------------------------------------------------------------------------
# Captures: one analysis per capture per process
# ---------------------------------------------------------------------------


#: How a reference's connection is decrypted, by the ``@ROUTE`` after its source.
KEY_ROUTES = {
    "keylog": "the capture's key log from the manifest (the default)",
    "key": "the demo server's RSA private key only (the RSA key exchange route)",
    "none": "no key material: what anyone on the path sees",
}


@dataclass(frozen=True, slots=True)
class _Source:
    name: str
    capture: Path
    keylog: Path | None
    manifest: Path
    server_key: Path | None = None
    ca: Path | None = None

    def files(self, keys: str = "keylog") -> list[Path]:
        """The files an analysis with this key route reads."""
        used = [self.capture, self.manifest, self.ca]
        used.append(self.keylog if keys == "keylog" else self.server_key if keys == "key" else None)
        return [p for p in used if p is not None]


def _captures_dir(config) -> Path:
    return (Path(config.tlsdoc_root) / config.tlsdoc_captures).resolve()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


@functools.lru_cache(maxsize=8)
def _load_manifest(path: Path, mtime: int) -> manifest.Manifest:
    return manifest.load_manifest(path)


def manifest_of(config) -> manifest.Manifest:
    """The captures' manifest (``tlsdoc_captures``/MANIFEST), loaded once per change."""
    path = _captures_dir(config) / manifest.MANIFEST_NAME
    return _load_manifest(path, _mtime(path))


def _source(config, name: str) -> _Source:
    found = manifest_of(config)
    ca = getattr(config, "tlsdoc_ca", "pki/root-ca.pem")
    ca_path = found.resolve(ca) if ca and found.resolve(ca).is_file() else None
    keys = [e for e in found.entries if e.kind == "private-key"]
    for entry in found.captures():
        if entry.claims is not None and entry.claims.scenario == name:
            keylog = found.resolve(entry.claims.keylog) if entry.claims.keylog else None
            # The capture's own server key, else the demo server key (which
            # then decrypts nothing: that is what the chapters show).
            server_key = (found.resolve(entry.claims.rsa_key) if entry.claims.rsa_key
                          else found.resolve(keys[0]) if len(keys) == 1 else None)
            return _Source(name, found.resolve(entry), keylog, found.path, server_key, ca_path)
    names = ", ".join(e.claims.scenario for e in found.captures() if e.claims is not None)
    raise DocumentError(f"no capture named {name!r} in {found.path} (there are: {names})")


def _connection(source: _Source, index: int, keys: str = "keylog"):
    """A :class:`tlsdoc.analysis.ConnectionAnalysis` of a bundled capture.

    *keys* is the key route (:data:`KEY_ROUTES`); the chain is always
    checked against the demo root CA (``tlsdoc_ca``).
    """
    # analyze() caches per process, keyed by every input file.
    if keys == "key":
        if source.server_key is None:
            raise DocumentError(f"{source.name}: the manifest names no server key")
        result = analysis.analyze(source.capture, keys=(source.server_key,), ca=source.ca)
    elif keys == "none":
        result = analysis.analyze(source.capture, ca=source.ca)
    else:
        result = analysis.analyze(source.capture, keylog=source.keylog, ca=source.ca)
    return result.connection(index)


@functools.lru_cache(maxsize=16)
def _frames_and_segments(path: Path, mtime: int) -> tuple[dict[int, bytes], tuple]:
    """Raw frame bytes and decoded segments of a (small) capture, read once per process.

    Annotated header bytes need the frames as captured, and ladders need
    every segment, which the analysis does not keep.
    """
    frames: dict[int, bytes] = {}
    segments = []
    with capture.open_capture(path) as cap:
        for frame in cap.frames(warn=lambda _message: None):
            frames[frame.number] = frame.data
            segment = capture.decode_segment(frame)
            if segment is not None:
                segments.append(segment)
    return frames, tuple(segments)


def resolve(config, reference: Reference) -> tuple[Any, list[Path]]:
    """The value a reference names, and the files it was computed from.

    *config* is the Sphinx config (``tlsdoc_root``, ``tlsdoc_captures``).
    """
    if reference.source == "manifest":
        value: Any = manifest_of(config)
        deps = [value.path]
    else:
        source = _source(config, reference.source)
        value = _connection(source, reference.connection, reference.keys)
        deps = source.files(reference.keys)
    where = reference.text
    for step in reference.path:
        value = _step(value, step, where)
    return value, deps


def _apply_filters(value: Any, reference: Reference) -> Any:
    for name, arg in reference.filters:
        try:
            value = FILTERS[name](value, arg)
        except DocumentError as exc:
            raise DocumentError(f"{reference.text}: {exc.message}") from None
    return value


def value_text(config, text: str) -> tuple[str, list[Path]]:
    """The prose text of a ``{tls}`` reference, and its dependencies."""
    reference = parse_reference(text)
    value, deps = resolve(config, reference)
    value = _apply_filters(value, reference)
    try:
        return _format(value), deps
    except DocumentError as exc:
        raise DocumentError(f"{reference.text}: {exc.message}") from None


# ---------------------------------------------------------------------------
# Node builders
# ---------------------------------------------------------------------------


#: Tables with more rows than this may break across pages in the PDF (LaTeX longtable).
LONG_TABLE = 16


def _table_node(table: tables.Table, *, caption: str = "", row_classes=None, code=()) -> nodes.table:
    """A docutils table from a neutral one; *code* columns are shown as literals."""
    node = nodes.table(classes=["tlsdoc-table"])
    if len(table.rows) > LONG_TABLE:
        node["classes"].append("longtable")  # LaTeX: may break across pages
    if caption:
        node += nodes.title(caption, caption)
    group = nodes.tgroup(cols=len(table.columns))
    node += group
    if table.widths:
        node["classes"].append("colwidths-given")
    for width in table.widths or (1,) * len(table.columns):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for title in table.columns:
        row += nodes.entry("", nodes.paragraph(title, title))
    head += row
    body = nodes.tbody()
    group += body
    for number, cells in enumerate(table.rows):
        row = nodes.row()
        if row_classes is not None and row_classes[number]:
            row["classes"].append(row_classes[number])
        for column, cell in enumerate(cells):
            entry = nodes.entry()
            for line in cell.split("\n") if cell else [""]:
                paragraph = nodes.paragraph()
                if column in code and line:
                    paragraph += nodes.literal(line, line)
                else:
                    paragraph += nodes.Text(line)
                entry += paragraph
            row += entry
        body += row
    return node


def _colour_class(piece: hexdump.Piece) -> str:
    return "tlsdoc-gap" if piece.colour is None else f"tlsdoc-c{piece.colour}"


def bytes_nodes(pieces: tuple[hexdump.Piece, ...], caption: str = "") -> nodes.container:
    """Annotated bytes: coloured hex with hover notes (HTML only) above the field table."""
    container = nodes.container(classes=["tlsdoc-bytes"])
    html = addnodes.only(expr="html")
    # A paragraph of spans in a container, styled as monospace by tlsdoc.css
    # (a literal_block would be handed to the syntax highlighter).
    block = nodes.paragraph(classes=["tlsdoc-hex"])
    for number, piece in enumerate(pieces):
        if number:
            block += nodes.Text(" ")
        classes = ["tlsdoc-piece", _colour_class(piece)]
        if piece.length > 8:
            classes.append("tlsdoc-long")  # may wrap; short groups stay on one line
        span = nodes.inline("", "", classes=classes)
        span += nodes.Text(piece.hex)
        if piece.label is not None:
            note = f"{piece.label}: {piece.meaning}" if piece.meaning else piece.label
            span += nodes.inline("", note, classes=["tlsdoc-tip"])
        block += span
    html += nodes.container("", block, classes=["tlsdoc-hexdump"])
    container += html
    legend = tables.pieces_table(pieces)
    labelled = [p for p in pieces if p.label is not None]
    container += _table_node(
        legend, caption=caption, row_classes=[_colour_class(p) for p in labelled], code=(1,)
    )
    return container


def ladder_figure(drawing: ladder.Ladder, caption: str = "", *, compact: bool = False) -> nodes.figure:
    """The ladder as a figure; the SVG travels as a data: URI so every builder finds it.

    HTML embeds it as is (no file, nothing fetched); the LaTeX builder
    extracts it and converts it to PDF with rsvg-convert.  A *compact*
    ladder is narrower (see :func:`tlsdoc.render.ladder.svg`), for two side by side.
    """
    svg = ladder.svg(drawing, compact=compact).encode("utf-8")
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    figure = nodes.figure(classes=["tlsdoc-ladder"])
    classes = ["tlsdoc-ladder"] + (["tlsdoc-compact"] if compact else [])
    figure += nodes.image(uri=uri, alt=drawing.title, classes=classes)
    if caption:
        figure += nodes.caption(caption, caption)
    return figure


# ---------------------------------------------------------------------------
# Roles and directives
# ---------------------------------------------------------------------------


#: How wide a compact ladder is drawn in the PDF, where the two of a pair stand
#: one above the other: the same text size as a full ladder, not a page each.
COMPACT_LATEX_WIDTH = "60%"


class _CompactLaddersInLatex(SphinxPostTransform):
    """In the PDF, draw compact ladders narrower than the text (see :data:`COMPACT_LATEX_WIDTH`)."""

    default_priority = 200
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for image in self.document.findall(nodes.image):
            if "tlsdoc-compact" in image["classes"] and "width" not in image:
                image["width"] = COMPACT_LATEX_WIDTH


def _note_dependencies(env, paths) -> None:
    for path in paths:
        env.note_dependency(str(path))
    for module in _package_modules():
        env.note_dependency(module)


@functools.lru_cache(maxsize=1)
def _package_modules() -> tuple[str, ...]:
    return tuple(str(p) for p in sorted(_PACKAGE.rglob("*.py")))


def _warn(message: str, location) -> None:
    logger.warning(message, location=location, type="tlsdoc", subtype="reference")


class TlsRole(SphinxRole):
    """``{tls}`SOURCE:PATH|FILTER``` → the value, as text."""

    def run(self):
        try:
            text, deps = value_text(self.config, self.text)
        except TlsdocError as exc:
            _warn(str(exc), self.get_location())
            return [nodes.problematic(self.rawtext, self.rawtext)], []
        _note_dependencies(self.env, deps)
        node = nodes.inline(text, text, classes=["tlsdoc-value"])
        # A value is shown exactly as computed: no typographic quotes in it.
        node["support_smartquotes"] = False
        return [node], []


class _Directive(SphinxDirective):
    """Shared plumbing: errors become located warnings, dependencies are noted."""

    option_spec = {"caption": directives.unchanged, "name": directives.unchanged}

    def run(self):
        try:
            result, deps = self.build()
        except TlsdocError as exc:
            _warn(f"{self.name}: {exc}", self.get_location())
            return []
        _note_dependencies(self.env, deps)
        if result and "name" in self.options:
            self.add_name(result[0])
        return result

    def build(self) -> tuple[list[nodes.Node], list[Path]]:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def caption(self) -> str:
        return self.options.get("caption", "")

    def resolve(self, text: str) -> tuple[Any, list[Path]]:
        reference = parse_reference(text)
        value, deps = resolve(self.config, reference)
        return _apply_filters(value, reference), deps


def _fields_option(text: str) -> tuple[str, ...]:
    return tuple(text.replace(",", " ").split())


def _frames_text(frames) -> str:
    frames = tuple(frames)
    return ("frame " if len(frames) == 1 else "frames ") + ", ".join(str(f) for f in frames)


def _entry_of(connection, value):
    """The :class:`~tlsdoc.handshake.HandshakeEntry` for a decoded message (or the entry itself)."""
    from tlsdoc import handshake

    if isinstance(value, handshake.HandshakeEntry):
        return value
    if connection.tls is None:
        return None
    entries = (*connection.tls.client_messages, *connection.tls.server_messages)
    for entry in entries:
        if entry.message is value:
            return entry
    for entry in entries:
        if entry.message is not None and entry.message == value:
            return entry
    return None


def _message_bytes(connection, entry, groups: tuple[str, ...]):
    """(bytes, fields, caption) of one handshake message, with its record header when it has one."""
    from tlsdoc.render import messages

    if entry.raw is None or entry.message is None:
        raise DocumentError(
            f"the {entry.name} from the {entry.direction.sender} is encrypted and was not decrypted "
            "(no keys for it: try the key log, or tls-record for the record itself)"
        )
    fields = list(messages.message_fields(entry.raw, entry.message))
    data = entry.raw
    sender = entry.direction.sender
    caption = f"{entry.name} from the {sender} ({_frames_text(entry.frames)})"
    if entry.encrypted:
        caption = (f"{entry.name} from the {sender}, decrypted from record "
                   f"{', '.join(str(r) for r in entry.records)} ({_frames_text(entry.frames)})")
    elif len(entry.records) == 1 and connection.records is not None:
        record = connection.records[entry.direction].records[entry.records[0]]
        if record.span.start + 5 == entry.span.start:
            stream = connection.tcp.stream(entry.direction).data
            whole = stream[record.span.start : record.span.end]
            header = list(hexdump.record_fields(whole, record, fragment=False))
            if record.length != len(entry.raw):
                header[-1] = dataclasses.replace(
                    header[-1], meaning=f"{record.length} bytes of fragment follow "
                    f"(this message: {len(entry.raw)})")
            data = whole[:5] + entry.raw
            fields = header + [dataclasses.replace(f, start=f.start + 5, end=f.end + 5) for f in fields]
            caption = (f"{entry.name} from the {sender} in record {record.index} "
                       f"({_frames_text(entry.frames)}), byte by byte")
    gap = None
    if groups:
        fields = list(messages.select_fields(fields, groups))
        gap = 8
    return hexdump.annotate(data, fields, gap_elide=gap), caption


class TlsBytes(_Directive):
    """Annotated bytes: a TCP header, a TLS record, or a handshake message field by field."""

    required_arguments = 1
    option_spec = {**_Directive.option_spec, "fields": _fields_option}

    def build(self):
        from tlsdoc import records, session
        from tlsdoc.render import protection

        value, deps = self.resolve(self.arguments[0])
        reference = parse_reference(self.arguments[0])
        if reference.source == "manifest":
            raise DocumentError(f"{reference.text}: the manifest has no bytes to annotate")
        source = _source(self.config, reference.source)
        groups = self.options.get("fields", ())
        try:
            connection = _connection(source, reference.connection, reference.keys)
            entry = _entry_of(connection, value)
            if entry is not None:
                pieces, default = _message_bytes(connection, entry, groups)
                return [bytes_nodes(pieces, self.caption or default)], deps
            if groups:
                raise DocumentError(f"{reference.text}: :fields: applies to handshake messages only")
            if isinstance(value, records.Record):
                stream = connection.tcp.stream(value.span.direction).data
                data = stream[value.span.start : value.span.end]
                fields = hexdump.record_fields(data, value)
                frames = ", ".join(str(f) for f in value.span.frames)
                default = f"TLS record {value.index} from the {value.span.direction.sender} (frame {frames})"
            elif isinstance(value, session.DecryptedRecord):
                # Decrypted application data: an HTTP/1.x message, line by line.
                direction = next((d for d, r in (connection.decryption or {}).items()
                                  if value in r.records), None)
                sender = direction.sender if direction is not None else "sender"
                data = value.plaintext.content
                fields = protection.http_fields(data)
                default = (f"The decrypted content of record {value.record} from the {sender} "
                           f"({_frames_text(value.frames)}), line by line")
            elif {"seq", "ack", "flags", "frame", "options"} <= set(dir(value)):
                data, segment = _tcp_header(source.capture, value.frame)
                fields = hexdump.tcp_header_fields(
                    data,
                    value,
                    source=(segment.src, segment.sport),
                    destination=(segment.dst, segment.dport),
                )
                default = f"TCP header of frame {value.frame}, byte by byte"
            else:
                raise DocumentError(
                    f"{reference.text}: no annotated bytes for a {type(value).__name__} "
                    "(supported: a TCP handshake packet such as tcp.handshake.syn, "
                    "a TLS record such as records.client.records.0, "
                    "a handshake message such as tls.client_hello or tls.server_messages.Certificate, "
                    "decrypted HTTP such as decryption.client.records.1)"
                )
            pieces = hexdump.annotate(data, fields)
        except ValueError as exc:
            raise DocumentError(f"{reference.text}: {exc}") from None
        return [bytes_nodes(pieces, self.caption or default)], deps


_RECORD_PARTS = ("wrapped", "nonce", "plaintext")


def _parts_option(text: str) -> tuple[str, ...]:
    parts = tuple(text.replace(",", " ").split())
    unknown = [p for p in parts if p not in _RECORD_PARTS]
    if unknown or not parts:
        raise ValueError(f"expected some of {', '.join(_RECORD_PARTS)}, got {text!r}")
    return parts


class TlsRecord(_Directive):
    """An encrypted record taken apart: wrapped, nonce and AAD, unwrapped.

    The argument is a record (``records.client.records.3``), a decrypted
    record (``decryption.client.records.0``) or an encrypted handshake
    entry (``tls.client_messages.Finished``).  ``:show:`` picks the parts,
    in this order: ``wrapped`` (header / explicit nonce / ciphertext /
    tag), ``nonce`` (how the nonce and the additional data are built) and
    ``plaintext`` (the content and, in TLS 1.3, the inner content type).
    """

    required_arguments = 1
    option_spec = {**_Directive.option_spec, "show": _parts_option}

    def build(self):
        from tlsdoc import handshake, records, session
        from tlsdoc.render import protection

        value, deps = self.resolve(self.arguments[0])
        reference = parse_reference(self.arguments[0])
        if reference.source == "manifest":
            raise DocumentError(f"{reference.text}: the manifest has no records")
        connection = _connection(_source(self.config, reference.source), reference.connection,
                                 reference.keys)
        if isinstance(value, records.Record):
            direction, index = value.span.direction, value.index
        elif isinstance(value, session.DecryptedRecord):
            direction = next(d for d, r in (connection.decryption or {}).items() if value in r.records)
            index = value.record
        elif isinstance(value, handshake.HandshakeEntry) and value.encrypted and len(value.records) == 1:
            direction, index = value.direction, value.records[0]
        else:
            raise DocumentError(
                f"{reference.text}: tls-record takes an encrypted record (records.client.records.N, "
                f"decryption.client.records.N or an encrypted handshake entry), not a {type(value).__name__}"
            )
        record = connection.records[direction].records[index]
        opened = connection.decryption[direction].record(index) if connection.decryption else None
        if opened is None:
            raise DocumentError(
                f"{reference.text}: record {index} from the {direction.sender} was not decrypted "
                "(not encrypted, or no keys: see the build's warnings)"
            )
        stream = connection.tcp.stream(direction).data
        data = stream[record.span.start : record.span.end]
        plaintext = opened.plaintext
        where = f"record {index} from the {direction.sender} ({_frames_text(record.span.frames)})"
        result: list[nodes.Node] = []
        show = self.options.get("show", _RECORD_PARTS)
        try:
            if "wrapped" in show:
                pieces = hexdump.annotate(data, protection.wrapped_fields(data, record, plaintext))
                result.append(bytes_nodes(pieces, self.caption or f"The wrapped {where}"))
            if "nonce" in show:
                table = protection.protection_table(plaintext, tls13=connection.keys.tls13)
                caption = (f"Decrypting {where}: {opened.epoch} keys "
                           f"({opened.secret_name}), sequence number {plaintext.seq}")
                container = nodes.container(classes=["tlsdoc-steps"])
                container += _table_node(table, caption=caption, code=(3,))
                result.append(container)
            if "plaintext" in show:
                text, fields = protection.plaintext_fields(plaintext)
                pieces = hexdump.annotate(text, fields)
                result.append(bytes_nodes(pieces, f"The unwrapped {where}: the plaintext"))
        except ValueError as exc:
            raise DocumentError(f"{reference.text}: {exc}") from None
        return result, deps


def _tcp_header(path: Path, frame: int) -> tuple[bytes, Any]:
    """The TCP header of *frame* as captured, found from its decoded fields."""
    frames, segments = _frames_and_segments(path, _mtime(path))
    segment = next((s for s in segments if s.frame == frame), None)
    if segment is None or frame not in frames:
        raise DocumentError(f"frame {frame} of {path.name} carries no TCP segment")
    data = frames[frame]
    # Ports, sequence and acknowledgement numbers: the first 12 bytes of the header.
    start = data.find(struct.pack("!HHII", segment.sport, segment.dport, segment.seq, segment.ack))
    if start < 0 or start + 13 > len(data):
        raise DocumentError(f"frame {frame}: TCP header not found in the captured bytes")
    length = (data[start + 12] >> 4) * 4
    return data[start : start + length], segment


def _is_extensions(value) -> bool:
    return (isinstance(value, tuple) and bool(value) and all(
        type(v).__module__ == "tlsdoc.handshake" and hasattr(v, "type") and hasattr(v, "span")
        for v in value))


class TlsTable(_Directive):
    """A table; which one follows from the type of the value."""

    required_arguments = 1

    def build(self):
        from tlsdoc import analysis as analysis_mod, checks, handshake, records, registry, tcp

        value, deps = self.resolve(self.arguments[0])
        reference = parse_reference(self.arguments[0])
        code: tuple[int, ...] = ()
        if isinstance(value, records.RecordStream):
            value = value.records
        if isinstance(value, handshake.HandshakeEntry):
            value = value.message
        if isinstance(value, handshake.TlsHandshake):
            value = _connection(_source(self.config, reference.source), reference.connection,
                                reference.keys)
        if isinstance(value, tuple) and value and all(isinstance(v, records.Record) for v in value):
            table = tables.records_table(value)
        elif isinstance(value, tcp.Handshake):
            table = tables.handshake_table(value)
        elif isinstance(value, tuple) and value and all(isinstance(v, capture.TcpOption) for v in value):
            table = tables.options_table(value)
        elif isinstance(value, manifest.Manifest):
            table = tables.captures_table(value)
            code = (0, 3)
        elif _is_extensions(value):
            table = tables.extensions_table(value)
            code = (0,)
        elif (isinstance(value, tuple) and value and all(isinstance(v, int) for v in value)
              and any(isinstance(v, registry.CipherSuite) for v in value)):
            connection = _connection(_source(self.config, reference.source), reference.connection,
                                     reference.keys)
            chosen = connection.tls.cipher_suite if connection.tls is not None else None
            table = tables.cipher_suites_table(value, chosen)
            code = (1, 2)
        elif isinstance(value, handshake.Certificate):
            try:
                table = tables.certificates_table(value.certificate_list)
            except ValueError as exc:
                raise DocumentError(f"{reference.text}: a certificate cannot be read ({exc})") from None
        elif isinstance(value, checks.CheckResult) or (
                isinstance(value, tuple) and value and all(isinstance(v, checks.CheckResult) for v in value)):
            table = tables.checks_table(value if isinstance(value, tuple) else (value,))
        elif isinstance(value, analysis_mod.ConnectionAnalysis):
            if value.tls is None:
                raise DocumentError(f"{reference.text}: connection {value.index} is not TLS")
            table = tables.recap_table(value)
        else:
            raise DocumentError(
                f"{self.arguments[0]}: no table for a {type(value).__name__} (tables exist for a "
                "TCP handshake, TCP options, TLS records, the manifest, a hello's extensions, "
                "its cipher_suites, a Certificate message, checks, and a TLS connection "
                "(the recap: SOURCE: or SOURCE:tls); key-schedule traces have tls-steps)"
            )
        return [_table_node(table, caption=self.caption, code=code)], deps


_WHEN = ("capture", "after-validity", "before-validity")


def _when_option(text: str) -> str:
    text = text.strip()
    if text not in _WHEN:
        raise ValueError(f"expected one of {', '.join(_WHEN)}, got {text!r}")
    return text


class TlsCheck(_Directive):
    """The chain check run again at build time, with other inputs: another CA, another time, another name.

    ``:ca: PATH`` (relative to the repository root) replaces the demo
    root as trust anchor; ``:at:`` is ``capture`` (the capture's time, the
    default), ``after-validity`` or ``before-validity`` (a day past the
    server certificate's validity, either side); ``:server-name:`` checks
    the chain for another name than the SNI.  Shows the result with the
    inputs in the caption.
    """

    required_arguments = 1
    option_spec = {**_Directive.option_spec, "ca": directives.unchanged_required,
                   "at": _when_option, "server-name": directives.unchanged_required,
                   "chain": lambda text: directives.choice(text, ("as-sent", "leaf-only"))}

    def build(self):
        import datetime

        from cryptography import x509

        from tlsdoc import checks, handshake

        text = self.arguments[0]
        reference = parse_reference(text if ":" in text else text + ":")
        if reference.source == "manifest" or reference.path:
            raise DocumentError(f"{text}: tls-check takes a capture (and connection), e.g. tls12-rsa")
        source = _source(self.config, reference.source)
        connection = _connection(source, reference.connection, reference.keys)
        if connection.tls is None:
            raise DocumentError(f"{text}: connection {connection.index} is not TLS")
        deps = source.files(reference.keys)
        root = Path(self.config.tlsdoc_root)
        ca_path = root / self.options["ca"] if "ca" in self.options else source.ca
        if ca_path is None or not ca_path.is_file():
            raise DocumentError(f"{text}: no CA file {ca_path}")
        deps.append(ca_path)
        ca = checks.load_ca_bundle(ca_path.read_bytes(), source=str(ca_path))
        entry = connection.tls.find("Certificate")
        leaf = None
        if entry is not None and isinstance(entry.message, handshake.Certificate) and entry.message.certificate_list:
            leaf = x509.load_der_x509_certificate(entry.message.certificate_list[0].cert_data)
        when_name = self.options.get("at", "capture")
        if when_name == "capture" or leaf is None:
            when = datetime.datetime.fromtimestamp(connection.tcp.first_time_ns / 1e9, datetime.timezone.utc)
        elif when_name == "after-validity":
            when = leaf.not_valid_after_utc + datetime.timedelta(days=1)
        else:
            when = leaf.not_valid_before_utc - datetime.timedelta(days=1)
        tls = connection.tls
        if "server-name" in self.options:
            tls = dataclasses.replace(tls, sni=self.options["server-name"])
        sent = "the chain as sent"
        if self.options.get("chain") == "leaf-only" and entry is not None:
            # As if the server had sent its own certificate without the intermediate.
            leaf_only = dataclasses.replace(entry.message, certificate_list=entry.message.certificate_list[:1])
            entry_only = dataclasses.replace(entry, message=leaf_only)
            tls = dataclasses.replace(tls, server_messages=tuple(
                entry_only if e is entry else e for e in tls.server_messages))
            sent = "the server's certificate alone (no intermediate)"
        result = checks.check_chain(tls, ca, when=when, server_address=connection.tcp.server[0])
        anchor = ca_path.relative_to(root) if ca_path.is_relative_to(root) else ca_path
        caption = self.caption or (
            f"The chain check: {sent}, trust anchor {anchor}, at {when:%Y-%m-%d %H:%M:%S} UTC, "
            f"for {tls.sni}")
        return [_table_node(tables.checks_table((result,)), caption=caption)], deps


class TlsSteps(_Directive):
    """A derivation chain: the steps of a key-schedule trace, in order.

    ``:steps: NAME…`` keeps only the steps with those names (in the
    trace's order), so a chapter can show one stage of a longer trace.
    """

    required_arguments = 1
    option_spec = {**_Directive.option_spec, "steps": _fields_option}

    def build(self):
        from tlsdoc import keyschedule

        value, deps = self.resolve(self.arguments[0])
        steps = getattr(value, "trace", value)
        if not (isinstance(steps, tuple) and steps and all(isinstance(s, keyschedule.Step) for s in steps)):
            raise DocumentError(
                f"{self.arguments[0]}: expected a key-schedule trace (Step values), "
                f"got a {type(value).__name__}"
            )
        if "steps" in self.options:
            wanted = self.options["steps"]
            names = [s.name for s in steps]
            unknown = [w for w in wanted if w not in names]
            if unknown:
                raise DocumentError(f"{self.arguments[0]}: no step {', '.join(map(repr, unknown))} "
                                    f"(the steps: {', '.join(names)})")
            steps = tuple(s for s in steps if s.name in wanted)
        container = nodes.container(classes=["tlsdoc-steps"])
        container += _table_node(tables.steps_table(steps), caption=self.caption, code=(2, 3))
        return [container], deps


def _frame_range(text: str) -> set[int]:
    frames: set[int] = set()
    for part in text.replace(",", " ").split():
        first, _, last = part.partition("-")
        try:
            frames.update(range(int(first), int(last or first) + 1))
        except ValueError:
            raise DocumentError(f"{text!r} is not a list of frames (e.g. 1-3 7)") from None
    return frames


class TlsLadder(_Directive):
    """A ladder diagram of one connection, one arrow per segment."""

    required_arguments = 1
    option_spec = {**_Directive.option_spec, "frames": directives.unchanged,
                   "round-trips": directives.flag, "compact": directives.flag}

    def build(self):
        text = self.arguments[0]
        reference = parse_reference(text if ":" in text else text + ":")
        if reference.source == "manifest" or reference.path:
            raise DocumentError(f"{text}: a ladder takes a capture (and connection), e.g. tls13 or tls13#1")
        source = _source(self.config, reference.source)
        connection = _connection(source, reference.connection)
        _frames, segments = _frames_and_segments(source.capture, _mtime(source.capture))
        frames = _frame_range(self.options["frames"]) if "frames" in self.options else None
        labels = None
        if connection.tls is not None and connection.records is not None:
            # A compact ladder gives each message a line: no need to shorten the list.
            limit = {"limit": 400} if "compact" in self.options else {}
            labels = ladder.record_labels(connection.records, connection.tls, **limit)
        drawing = ladder.tcp_ladder(connection.tcp, segments, frames=frames, labels=labels)
        if "round-trips" in self.options and connection.tls is not None:
            drawing = dataclasses.replace(
                drawing, brackets=drawing.brackets + ladder.tls_round_trips(drawing, connection.tls))
        if not drawing.arrows:
            raise DocumentError(f"{text}: no frames of this connection to draw")
        caption = self.caption or f"{source.capture.name}: frames {drawing.arrows[0].frame}–{drawing.arrows[-1].frame}"
        deps = source.files()
        compact = "compact" in self.options
        if compact:
            # Short lifeline captions: the addresses are in the title, and in the other figures.
            drawing = dataclasses.replace(drawing, client=drawing.client.split()[0],
                                          server=drawing.server.split()[0])
        return [ladder_figure(drawing, caption, compact=compact)], deps


class TlsRun(_Directive):
    """A ``tlsdoc`` command, run in-process at build time, with its output."""

    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {**_Directive.option_spec, "exit": directives.nonnegative_int, "stderr": directives.flag}

    def build(self):
        from tlsdoc import cli

        command = self.arguments[0]
        argv = shlex.split(command)
        if not argv or argv[0] != "tlsdoc":
            raise DocumentError(f"{command!r}: a tls-run command starts with 'tlsdoc'")
        root = Path(self.config.tlsdoc_root)
        out, err = io.StringIO(), io.StringIO()
        # Paths in the command are relative to the repository root, as a reader types them.
        with contextlib.chdir(root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(argv[1:])
            except SystemExit as exc:  # argparse: --help, usage errors
                status = exc.code if isinstance(exc.code, int) else 1
        expected = self.options.get("exit", 0)
        if status != expected:
            raise DocumentError(
                f"{command!r} exited with status {status}, expected {expected}: "
                + (err.getvalue().strip() or out.getvalue().strip()[:200])
            )
        text = f"$ {command}\n{out.getvalue()}"
        if "stderr" in self.options:
            text += err.getvalue()
        block = nodes.literal_block(text.rstrip("\n"), text.rstrip("\n"), classes=["tlsdoc-run"])
        block["language"] = "console"
        deps = [root / a for a in argv[1:] if not a.startswith("-") and (root / a).is_file()]
        return [block], deps


def _yes(text: str | None) -> bool:
    value = (text or "yes").strip().lower()
    if value not in ("yes", "no"):
        raise ValueError(f"expected yes or no, got {text!r}")
    return value == "yes"


def filter_frames(config, text: str) -> tuple[int, ...]:
    """The frame numbers named by a ``:frames:`` option: references to ints or tuples of ints.

    >>> from types import SimpleNamespace as NS
    >>> from tlsdoc.sphinxext import filter_frames
    >>> config = NS(tlsdoc_root=".", tlsdoc_captures="captures")
    >>> filter_frames(config, "tls12-rsa:tls.client_hello.span.frames tls12-rsa:tcp.handshake.syn.frame")
    (1, 4)
    """
    frames: set[int] = set()
    for item in text.split():
        value, _deps = resolve(config, parse_reference(item))
        values = value if isinstance(value, (tuple, list)) else (value,)
        if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise DocumentError(f"{item}: expected frame numbers, got a {type(value).__name__}")
        frames.update(values)
    return tuple(sorted(frames))


#: Where a reader sets a Wireshark preference that a ``tls-filter`` needs, by
#: its name as tshark's ``-o NAME:VALUE`` spells it.  A preference not listed
#: here is named as it is (*Edit › Preferences › Advanced* finds it by name).
WIRESHARK_PREFERENCES = {
    "http.desegment_body": ("HTTP", "Reassemble HTTP bodies spanning multiple TCP segments"),
    "http.desegment_headers": ("HTTP", "Reassemble HTTP headers spanning multiple TCP segments"),
    "tcp.reassemble_out_of_order": ("TCP", "Reassemble out-of-order segments"),
    "tcp.desegment_tcp_stream": ("TCP", "Allow subdissector to reassemble TCP streams"),
    "tls.desegment_ssl_records": ("TLS", "Reassemble TLS records spanning multiple TCP segments"),
    "tls.desegment_ssl_application_data": ("TLS", "Reassemble TLS Application Data spanning multiple TLS records"),
}

_PREFERENCE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+:\S+$")


def prefs_option(text: str) -> tuple[tuple[str, str], ...]:
    """``:prefs: http.desegment_body:FALSE …`` → ``(("http.desegment_body", "FALSE"), …)``.

    Each item is a preference as tshark's ``-o`` takes it, ``NAME:VALUE``.

    >>> prefs_option("http.desegment_body:FALSE tcp.reassemble_out_of_order:TRUE")
    (('http.desegment_body', 'FALSE'), ('tcp.reassemble_out_of_order', 'TRUE'))
    """
    items = text.split()
    bad = [item for item in items if not _PREFERENCE.match(item)]
    if bad or not items:
        raise ValueError(f"expected NAME:VALUE preferences (e.g. http.desegment_body:FALSE), got {text!r}")
    return tuple(tuple(item.split(":", 1)) for item in items)  # type: ignore[misc]


def preference_text(name: str, value: str) -> str:
    """How a reader sets one preference in Wireshark, in words.

    >>> preference_text("http.desegment_body", "FALSE")
    'HTTP preferences, Reassemble HTTP bodies spanning multiple TCP segments: off (http.desegment_body:FALSE)'
    """
    said = {"TRUE": "on", "FALSE": "off"}.get(value.upper(), value)
    if name in WIRESHARK_PREFERENCES:
        protocol, label = WIRESHARK_PREFERENCES[name]
        return f"{protocol} preferences, {label}: {said} ({name}:{value})"
    return f"the preference {name} set to {value} (Edit › Preferences › Advanced)"


class TlsFilter(_Directive):
    """A Wireshark display filter, copyable, and the frames it selects in a bundled capture.

    ``:filter:`` is the filter as typed in Wireshark; ``:frames:`` one or
    more references to the frames it must select (``tls12-rsa:tls.client_hello.span.frames``);
    ``:keylog: yes`` when the filter needs the capture's key log (decrypted
    fields), ``:key: yes`` when it needs the server's RSA key instead;
    ``:prefs: NAME:VALUE…`` for other preferences it needs, as tshark's
    ``-o`` spells them (``http.desegment_body:FALSE``), shown to the reader
    as the preference to set.  ``tests/test_filters.py`` runs every such
    filter through tshark, with those preferences, and checks that it
    selects exactly those frames.
    """

    required_arguments = 1
    option_spec = {**_Directive.option_spec, "filter": directives.unchanged_required,
                   "frames": directives.unchanged_required, "keylog": _yes, "key": _yes,
                   "prefs": prefs_option}

    def build(self):
        text = self.arguments[0]
        reference = parse_reference(text if ":" in text else text + ":")
        if reference.source == "manifest" or reference.path:
            raise DocumentError(f"{text}: tls-filter takes a capture name, e.g. tls12-rsa")
        if "filter" not in self.options or "frames" not in self.options:
            raise DocumentError(f"{text}: tls-filter needs :filter: and :frames:")
        source = _source(self.config, reference.source)
        frames = filter_frames(self.config, self.options["frames"])
        display = self.options["filter"].strip()
        block = nodes.literal_block(display, display, classes=["tlsdoc-filter"])
        block["language"] = "none"
        said = f"In {source.capture.name} it selects {_frames_text(frames)}."
        if self.options.get("keylog"):
            said += (" It needs the key log: TLS preferences, (Pre)-Master-Secret log filename "
                     f"{source.keylog.name if source.keylog else '(none)'}.")
        if self.options.get("key"):
            said += (" It needs the server's RSA key: TLS preferences, RSA keys list, "
                     f"{source.server_key.name if source.server_key else '(none)'}.")
        prefs = self.options.get("prefs", ())
        if prefs:
            said += (" It needs " + ("this preference" if len(prefs) == 1 else "these preferences")
                     + ": " + "; ".join(preference_text(n, v) for n, v in prefs) + ".")
        paragraph = nodes.paragraph(said, said, classes=["tlsdoc-filter-frames"])
        container = nodes.container(classes=["tlsdoc-filter"])
        if self.caption:
            container += nodes.rubric(self.caption, self.caption)
        container += block
        container += paragraph
        return [container], source.files()


_KEYLOG_PARTS = ("lines", "table")


def _keylog_parts(text: str) -> tuple[str, ...]:
    parts = tuple(text.replace(",", " ").split())
    unknown = [p for p in parts if p not in _KEYLOG_PARTS]
    if unknown or not parts:
        raise ValueError(f"expected some of {', '.join(_KEYLOG_PARTS)}, got {text!r}")
    return parts


def _keylog_keys(result) -> dict[bytes, str]:
    """Where each key a key log line may be looked up by appears in an analysed capture."""
    keys: dict[bytes, str] = {}
    many = len(result.connections) > 1
    for connection in result.connections:
        tls = connection.tls
        if tls is None or not tls.client_messages:
            continue
        which = f" of connection #{connection.index}" if many else ""
        hello = tls.client_messages[0]
        keys.setdefault(tls.client_random, f"the ClientHello{which}, {_frames_text(hello.frames)}")
        exchange = tls.find("ClientKeyExchange")
        encrypted = getattr(getattr(exchange, "message", None), "encrypted_pre_master_secret", None)
        if encrypted:
            keys.setdefault(bytes(encrypted[:8]),
                            f"the ClientKeyExchange{which}, {_frames_text(exchange.frames)}")
    return keys


class TlsKeylog(_Directive):
    """A bundled capture's key log, read at build time: its lines, then each one explained.

    ``:show: lines table`` picks the parts: ``lines``, the file as it reads
    with every hex field cut to its first bytes; ``table``, one row per
    line: its label, what it is looked up by (and where that value is in
    the capture), the secret's length and what the secret is for.
    """

    required_arguments = 1
    option_spec = {**_Directive.option_spec, "show": _keylog_parts}

    def build(self):
        from tlsdoc import keylog

        text = self.arguments[0]
        reference = parse_reference(text if ":" in text else text + ":")
        if reference.source == "manifest" or reference.path:
            raise DocumentError(f"{text}: tls-keylog takes a capture name, e.g. tls13")
        source = _source(self.config, reference.source)
        if source.keylog is None or not source.keylog.is_file():
            raise DocumentError(f"{text}: the manifest names no key log for {source.capture.name}")
        found = keylog.parse_keylog(source.keylog.read_bytes(), source=source.keylog.name)
        if not found.entries:
            raise DocumentError(f"{text}: {source.keylog.name} has no lines")
        result = analysis.analyze(source.capture, keylog=source.keylog, ca=source.ca)
        show = self.options.get("show", _KEYLOG_PARTS)
        nodes_: list[nodes.Node] = []
        if "lines" in show:
            listing = tables.keylog_lines(found.entries)
            block = nodes.literal_block(listing, listing, classes=["tlsdoc-keylog"])
            block["language"] = "none"
            nodes_.append(block)
        if "table" in show:
            caption = self.caption or (
                f"{source.keylog.name}, the key log of {source.capture.name}: "
                f"{len(found.entries)} line{'s' if len(found.entries) != 1 else ''}, "
                "each hex value cut to its first 4 bytes")
            nodes_.append(_table_node(tables.keylog_table(found.entries, _keylog_keys(result)),
                                      caption=caption, code=(1,)))
        return nodes_, source.files()


class TlsCliHelp(_Directive):
    """The help of the ``tlsdoc`` command and of each subcommand, from the parser itself."""

    def build(self):
        import argparse

        from tlsdoc import cli

        parser = cli.build_parser()
        parsers = [("tlsdoc", parser)]
        for action in parser._actions:  # argparse offers no public way to list subparsers
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(
                    (f"tlsdoc {name}", sub) for name, sub in action.choices.items()
                )
        result: list[nodes.Node] = []
        for title, each in parsers:
            # A fixed width, so the page does not depend on the terminal that built it.
            each.formatter_class = functools.partial(each.formatter_class, width=78)
            result.append(nodes.rubric(title, title))
            help_text = each.format_help().rstrip()
            block = nodes.literal_block(help_text, help_text, classes=["tlsdoc-help"])
            block["language"] = "text"
            result.append(block)
        return result, [_PACKAGE / "cli.py"]


# ---------------------------------------------------------------------------
# API reference helpers
# ---------------------------------------------------------------------------


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _control_characters(app, what, name, obj, options, lines) -> None:
    """Show control characters in a docstring escaped, and say where they are.

    A ``"\\x1b"`` written in a docstring that is not raw becomes a real
    ESC character: invisible on the web page, fatal to LaTeX.  The warning
    fails a ``-W`` build and names the docstring to fix.
    """
    for number, line in enumerate(lines):
        if _CONTROL.search(line):
            logger.warning(
                "docstring of %s contains a control character (write it escaped, or make "
                "the docstring raw): %r", name, line.strip(), type="tlsdoc", subtype="docstring",
            )
            lines[number] = _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", line)


def _undo_inline_type(app, what, name, obj, options, lines) -> None:
    """Give back the first clause napoleon took for an attribute's type.

    napoleon reads ``text: more`` on the first line of an attribute,
    property or data docstring as ``type: description`` and moves ``text``
    into a ``:type:`` field.  tlsdoc gives types as annotations, never
    there, so this puts the clause back where it was.  Runs after napoleon
    (priority 600).
    """
    if what not in ("attribute", "property", "data"):
        return
    for index, line in enumerate(lines):
        if line.startswith(":type: "):
            clause = line[len(":type: "):]
            del lines[index]
            if index and not lines[index - 1].strip():
                del lines[index - 1]
            first = next((i for i, text in enumerate(lines) if text.strip()), None)
            if first is None:
                lines.append(clause)
            else:
                lines[first] = f"{clause}:{' ' if lines[first] else ''}{lines[first]}"
            return


_RUST_BINDINGS = "cryptography.hazmat.bindings._rust."


def _resolve_unqualified(app, env, node, contnode):
    """Resolve a bare Python name (``CaptureError``) when exactly one documented object has it.

    Docstrings name their exceptions and types the way the code imports
    them; this finds ``tlsdoc.errors.CaptureError`` for ``CaptureError``.
    A public name of the current module that autodoc does not list (a
    constant without a doc comment) links to the module.  Ambiguous or unknown names stay unresolved, and ``-n``
    reports them.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if target.startswith(_RUST_BINDINGS) and "sphinx.ext.intersphinx" in app.extensions:
        # cryptography's classes live in its Rust bindings; type hints name
        # them there, its documentation under the public module.
        from sphinx.ext import intersphinx

        public = node.deepcopy()
        public["reftarget"] = "cryptography." + target[len(_RUST_BINDINGS):]
        return intersphinx.missing_reference(app, env, public, contnode)
    if not target or "." in target:
        return None
    domain = env.get_domain("py")
    matches = [name for name in domain.objects if name.rsplit(".", 1)[-1] == target]
    if len(matches) == 1:
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], matches[0], node, contnode
        )
    # A public constant without a doc comment is not an object of its own:
    # link to the module that defines it instead.
    module = node.get("py:module")
    if module in public_modules() and not target.startswith("_") and hasattr(
        importlib.import_module(module), target
    ):
        return domain.resolve_xref(env, node["refdoc"], app.builder, "mod", module, node, contnode)
    return None


@functools.lru_cache(maxsize=1)
def public_modules() -> tuple[str, ...]:
    """Every module of the tlsdoc package (``__main__`` aside), by name."""
    import pkgutil

    names = ["tlsdoc"]
    for info in pkgutil.walk_packages([str(_PACKAGE)], prefix="tlsdoc."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            names.append(info.name)
    return tuple(sorted(names))


def _automodule(name: str) -> str:
    # A package only re-exports what its modules define; listing those names
    # again would give every class two targets.
    package = hasattr(importlib.import_module(name), "__path__")
    return f".. automodule:: {name}" + ("\n   :no-members:" if package else "")


class TlsApi(SphinxDirective):
    """``.. tls-api:: MODULE ...`` (inside ``eval-rst``): autodoc for these modules.

    ``*`` stands for every module of the package not yet listed on the
    page, so a module added to ``tlsdoc`` appears in the API reference
    without anyone editing it.
    """

    required_arguments = 1
    final_argument_whitespace = True

    def run(self):
        seen = self.env.temp_data.setdefault("tlsdoc_api_listed", set())
        names = self.arguments[0].split()
        if names == ["*"]:
            # autodoc makes the page depend on each module it documents; a
            # new module shows up once one of those changes (or on a clean build).
            names = [name for name in public_modules() if name not in seen]
        unknown = [name for name in names if name not in public_modules()]
        if unknown:
            _warn(f"tls-api: not modules of tlsdoc: {', '.join(unknown)}", self.get_location())
            names = [name for name in names if name not in unknown]
        seen.update(names)
        if not names:
            return [nodes.paragraph(text="None.")]
        return self.parse_text_to_nodes("\n\n".join(_automodule(name) for name in names))


def _skip_namedtuple_fields(app, what, name, obj, skip, options):
    """Leave out a named tuple's generated field accessors ("Alias for field number N").

    A ``NamedTuple`` documents its fields in its docstring's ``Attributes:``
    section, which napoleon turns into attribute entries; autodoc would list
    the accessors again, and every field would be described twice.
    """
    doc = getattr(obj, "__doc__", None) or ""
    if what == "class" and doc.startswith("Alias for field number"):
        return True
    return None


def _connect_autodoc(app: Sphinx) -> None:
    # autodoc may be loaded after this extension, so look once everything is loaded.
    if "autodoc-skip-member" in app.events.events:
        app.connect("autodoc-skip-member", _skip_namedtuple_fields)
    if "autodoc-process-docstring" in app.events.events:
        app.connect("autodoc-process-docstring", _undo_inline_type, priority=600)
        app.connect("autodoc-process-docstring", _control_characters)


def _default_root(app: Sphinx, config) -> None:
    if not config.tlsdoc_root:
        config.tlsdoc_root = str(app.confdir)


def setup(app: Sphinx) -> dict[str, Any]:
    # Where `tlsdoc ...` commands run and relative paths start: the
    # directory of conf.py unless set.  The captures directory is relative to it.
    app.add_config_value("tlsdoc_root", None, "", types=[str, type(None)])
    app.add_config_value("tlsdoc_captures", "captures", "env", types=[str])
    app.add_config_value("tlsdoc_ca", "pki/root-ca.pem", "env", types=[str, type(None)])
    app.connect("config-inited", _default_root)
    app.connect("builder-inited", _connect_autodoc)
    app.connect("missing-reference", _resolve_unqualified)
    app.add_role("tls", TlsRole())
    app.add_directive("tls-bytes", TlsBytes)
    app.add_directive("tls-table", TlsTable)
    app.add_directive("tls-record", TlsRecord)
    app.add_directive("tls-check", TlsCheck)
    app.add_directive("tls-filter", TlsFilter)
    app.add_directive("tls-steps", TlsSteps)
    app.add_directive("tls-ladder", TlsLadder)
    app.add_directive("tls-run", TlsRun)
    app.add_directive("tls-keylog", TlsKeylog)
    app.add_directive("tls-cli-help", TlsCliHelp)
    app.add_directive("tls-api", TlsApi)
    app.add_post_transform(_CompactLaddersInLatex)
    return {
        "version": tlsdoc.__version__,
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
